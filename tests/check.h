/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* check.h - the tests that do not use cmocka (they seal, end in exit
 * handlers or run a plugin's stops): CHECK prints a failed condition with
 * its line and marks the run failed, and goes on. */
#ifndef PKBOX_TEST_CHECK_H
#define PKBOX_TEST_CHECK_H

#include <stdio.h>

static int failed;

#define CHECK(cond, ...)                                                                                           \
	do {                                                                                                       \
		if (!(cond)) {                                                                                     \
			printf("FAIL (line %d): ", __LINE__);                                                      \
			printf(__VA_ARGS__);                                                                       \
			printf("\n");                                                                              \
			failed = 1;                                                                                \
		}                                                                                                  \
	} while (0)

#endif
