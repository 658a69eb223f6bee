/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scratch.h - where a sealed test may still make files.  The seal's file
 * policy (libpkeysbox/landlock.c) lets nothing new appear directly in a
 * directory above the program's code (a build under /tmp makes /tmp one),
 * so a test picks a directory that is not: $TMPDIR, /tmp, /var/tmp or
 * /dev/shm, whichever first lies off the path to `code`. */
#ifndef PKBOX_TEST_SCRATCH_H
#define PKBOX_TEST_SCRATCH_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static inline const char *pkbox_test_scratch_dir(const char *code)
{
	const char *cand[] = { getenv("TMPDIR"), "/tmp", "/var/tmp", "/dev/shm" };
	char real[PATH_MAX] = "";

	if (!code || !realpath(code, real))
		real[0] = 0;
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		size_t n = cand[i] ? strlen(cand[i]) : 0;

		if (n && !(strncmp(real, cand[i], n) == 0 && (real[n] == '/' || real[n] == 0)))
			return cand[i];
	}
	return "/dev/shm";
}

#endif
