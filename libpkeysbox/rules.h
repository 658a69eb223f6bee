/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rules.h - the syscall policy's range checks, as data (rules.c): pure,
 * also used by the fuzzer (tests/fuzz/fuzz_rules.c); filter.c turns them
 * into seccomp rules.
 */
#ifndef PKBOX_RULES_H
#define PKBOX_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKBOX_CMP_MASKED_EQ 1
#define PKBOX_CMP_GT 2
#define PKBOX_CMP_NE 3
#define PKBOX_CMP_EQ 4
#define PKBOX_CMP_LT 5
struct pkbox_cmp {
	uint8_t arg, op;
	uint64_t mask, datum;
};
struct pkbox_rule {
	int n;
	struct pkbox_cmp c[4];
};
size_t pkbox__range_rules(uint64_t lo, int lo_bits, int aarg, int larg, const struct pkbox_cmp *extra, int nextra,
			  struct pkbox_rule *out, size_t max);
bool pkbox__rules_match(const struct pkbox_rule *r, size_t n, const uint64_t args[6]);

#endif
