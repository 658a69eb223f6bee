/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_fmt.c - the library's own formatter (libpkeysbox/fmt.c) against the
 * C library's snprintf, for every format the library uses. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

int pkbox__fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define SAME(...)                                                                                                  \
	do {                                                                                                       \
		char a_[256], b_[256];                                                                             \
		int na_ = pkbox__fmt(a_, sizeof(a_), __VA_ARGS__);                                                 \
		int nb_ = snprintf(b_, sizeof(b_), __VA_ARGS__);                                                   \
		assert_string_equal(a_, b_);                                                                       \
		assert_int_equal(na_, nb_);                                                                        \
	} while (0)

static void test_conversions(void **state)
{
	(void)state;
	SAME("plain text");
	SAME("%s|%d|%5d|%-5d|%05d|%u", "hi", -42, 7, 7, 42, 3000000000u);
	SAME("%x|%#lx|%#x|%lx|%zu|%ld|%lu", 255u, 0x5000UL, 0u, 0xdeadUL, (size_t)12, -5L, 99UL);
	SAME("%p|%c|%%|%.3s|%*s|%-8s|", (void *)0x1234, 'z', "abcdef", 6, "r", "l");
	SAME("%d %d %i %ld", 0, -2147483647 - 1, 123, (long)INT64_MIN);
	SAME("%#lx %#x %08lx %3s %X", 0UL, 16u, 0xabcUL, "x", 0xbeefu);
	SAME("%s", "");
}

static void test_truncation_and_m(void **state)
{
	char a[5];

	(void)state;
	assert_int_equal(pkbox__fmt(a, sizeof(a), "%s", "abcdefgh"), 8);
	assert_string_equal(a, "abcd");
	assert_int_equal(pkbox__fmt(NULL, 0, "%d", 12345), 5);
	errno = ENOENT;
	char m[64];
	pkbox__fmt(m, sizeof(m), "e: %m");
	assert_string_equal(m, "e: No such file or directory");
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_truncation_and_m),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
