/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rules.c - the syscall policy's range checks, as data: seal.c turns them
 * into seccomp rules, tests/fuzz/fuzz_rules.c checks them against the exact
 * overlap test.  Pure functions, no state.
 */
#include "config.h"

#include "rules.h"

#define KPAGE 4096UL /* the kernel rounds lengths to pages */

/*
 * Rules that match a call whose range [a, a + len) (a = args[aarg], len =
 * args[larg]) may overlap the aligned block [lo, lo + 2^lo_bits), each rule
 * also carrying the extra comparisons given (the token check, flags).
 * Only page-aligned a reaches the kernel's range code (it refuses others),
 * and len is rounded up to pages; so for a in the shell
 * [lo - 2^(k+1), lo - 2^k) (aligned, as lo is) the call is harmless when
 * len <= 2^k.  Calls from further below than 2^(lo_bits-1) are refused when
 * len exceeds that distance.  Conservative: never misses an overlap; refuses
 * at most calls that end within a factor of two of the block.
 */
size_t pkbox__range_rules(uint64_t lo, int lo_bits, int aarg, int larg, const struct pkbox_cmp *extra, int nextra,
			  struct pkbox_rule *out, size_t max)
{
	size_t n = 0;

#define PUSH(...)                                                                                                  \
	do {                                                                                                       \
		if (n < max) {                                                                                     \
			struct pkbox_cmp cs[] = { __VA_ARGS__ };                                                   \
			struct pkbox_rule *r = &out[n];                                                            \
			r->n = 0;                                                                                  \
			for (size_t q = 0; q < sizeof(cs) / sizeof(cs[0]); q++)                                    \
				r->c[r->n++] = cs[q];                                                              \
			for (int q = 0; q < nextra; q++)                                                           \
				r->c[r->n++] = extra[q];                                                           \
		}                                                                                                  \
		n++;                                                                                               \
	} while (0)

	uint64_t size = 1ULL << lo_bits;

	/* starts inside */
	PUSH({ (uint8_t)aarg, PKBOX_CMP_MASKED_EQ, ~(size - 1), lo });
	/* starts below, in a shell */
	for (int k = 12; k < lo_bits - 1 && (1ULL << (k + 1)) <= lo; k++) {
		uint64_t b = lo - (1ULL << (k + 1));

		PUSH({ (uint8_t)aarg, PKBOX_CMP_MASKED_EQ, ~((1ULL << (k + 1)) - 1) | (1ULL << k), b },
		     { (uint8_t)larg, PKBOX_CMP_GT, ~0ULL, 1ULL << k });
	}
	/* the page right below: any length over one page */
	if (lo >= KPAGE)
		PUSH({ (uint8_t)aarg, PKBOX_CMP_MASKED_EQ, ~(KPAGE - 1), lo - KPAGE },
		     { (uint8_t)larg, PKBOX_CMP_GT, ~0ULL, KPAGE });
	/* far below: longer than the largest shell */
	if (lo > 0)
		PUSH({ (uint8_t)aarg, PKBOX_CMP_LT, ~0ULL, lo >= (1ULL << (lo_bits - 1)) ? lo - (1ULL << (lo_bits - 1)) : 0 },
		     { (uint8_t)larg, PKBOX_CMP_GT, ~0ULL, 1ULL << (lo_bits - 1) });
#undef PUSH
	return n;
}


bool pkbox__rules_match(const struct pkbox_rule *r, size_t n, const uint64_t args[6])
{
	for (size_t i = 0; i < n; i++) {
		bool all = true;

		for (int j = 0; j < r[i].n && all; j++) {
			const struct pkbox_cmp *c = &r[i].c[j];
			uint64_t v = args[c->arg];

			switch (c->op) {
			case PKBOX_CMP_MASKED_EQ: all = (v & c->mask) == c->datum; break;
			case PKBOX_CMP_GT: all = v > c->datum; break;
			case PKBOX_CMP_LT: all = v < c->datum; break;
			case PKBOX_CMP_NE: all = v != c->datum; break;
			case PKBOX_CMP_EQ: all = v == c->datum; break;
			default: all = false;
			}
		}
		if (all)
			return true;
	}
	return false;
}

