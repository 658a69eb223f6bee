/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scratch.h - where a sealed test may still make files.  The seal's file
 * policy (libpkeysbox/landlock.c) lets nothing new appear directly in a
 * directory above the program's code (a build under /tmp makes /tmp one),
 * while a directory beside that path that exists when the process seals
 * stays writable.  Called before the seal: the first of $TMPDIR, /tmp,
 * /var/tmp, /dev/shm that exists and lies off the path to `code`, else a
 * new directory made in the first that exists (the guests have only /tmp). */
#ifndef PKBOX_TEST_SCRATCH_H
#define PKBOX_TEST_SCRATCH_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline const char *pkbox_test_scratch_dir(const char *code)
{
	static char made[PATH_MAX];
	const char *cand[] = { getenv("TMPDIR"), "/tmp", "/var/tmp", "/dev/shm" }, *first = NULL;
	char real[PATH_MAX] = "";

	if (made[0])
		return made;
	if (!code || !realpath(code, real))
		real[0] = 0;
	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++) {
		size_t n = cand[i] ? strlen(cand[i]) : 0;

		if (!n || access(cand[i], W_OK))
			continue;
		if (!(strncmp(real, cand[i], n) == 0 && (real[n] == '/' || real[n] == 0)))
			return cand[i];
		if (!first)
			first = cand[i];
	}
	snprintf(made, sizeof(made), "%s/pkbox-scratch-XXXXXX", first ? first : "/tmp");
	if (!mkdtemp(made))
		snprintf(made, sizeof(made), "%s", first ? first : "/tmp");
	return made;
}

#endif
