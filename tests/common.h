/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common.h - what every test binary shares. */
#ifndef PKBOX_TEST_COMMON_H
#define PKBOX_TEST_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkeysbox.h"

/* The guest suite sets PKBOX_EXPECT_BACKEND: a silent fallback is a failure. */
static inline void pkbox_test_check_backend(void)
{
	const char *want = getenv("PKBOX_EXPECT_BACKEND");
	const char *got = pkbox_backend_name(pkbox_backend());

	if (want && *want && strcmp(want, got)) {
		fprintf(stderr, "FAIL: backend is %s, PKBOX_EXPECT_BACKEND=%s (%s)\n", got, want, pkbox_last_error());
		exit(1);
	}
	printf("# backend: %s\n", got);
}

/* For binaries that only make sense on real protection keys. */
static inline void pkbox_test_require_pku(void)
{
	if (pkbox_backend() != PKBOX_BACKEND_PKU) {
		printf("SKIP: needs the pku backend (CPU or kernel without protection keys here); "
		       "runs in the PKU guests: meson test --suite guest\n");
		exit(77);
	}
}

static inline int pkbox_test_is_pku(void)
{
	return pkbox_backend() == PKBOX_BACKEND_PKU;
}

#endif
