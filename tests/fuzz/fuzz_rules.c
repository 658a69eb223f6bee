/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_rules.c - libFuzzer target for the policy's range rules (rules.c).
 * Input: a block size, the block's position, an address and a length.  The
 * rules must match every call the kernel would apply to a range that
 * overlaps the block (soundness), must not match calls that start above
 * it, and must not match calls from below that end at most halfway to it
 * (precision), for blocks up to 2^39 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkbox_rule rules[256];
	uint64_t v[4] = { 0 };

	if (size < 33)
		return 0;
	memcpy(v, data + 1, 32);
	int bits = 13 + data[0] % 27; /* 8 KiB .. 512 GiB */
	uint64_t top = 1ULL << 47;
	uint64_t lo = (v[0] % (top >> bits)) << bits;
	if (!lo)
		lo = 1ULL << bits;
	uint64_t hi = lo + (1ULL << bits);
	if (hi > top)
		return 0;
	/* addresses and lengths near the block's edges are the interesting ones */
	uint64_t a;
	switch (v[1] & 7) {
	case 0: a = v[2]; break;
	case 1: a = lo - (v[2] % (1ULL << (bits + 2))); break;
	case 2: a = lo - (v[2] % 64) * 4096; break;
	case 3: a = lo + (v[2] % (1ULL << bits)); break;
	case 4: a = hi + (v[2] % 64) * 4096; break;
	default: a = lo - (1ULL << (v[2] % (bits + 2))); break;
	}
	a &= ~4095ULL;
	a %= top;
	uint64_t len;
	uint64_t dist = lo > a ? lo - a : 0;
	switch ((v[1] >> 3) & 7) {
	case 0: len = v[3]; break;
	case 1: len = v[3] >> (v[1] >> 6 & 63); break;
	case 2: len = (v[3] % 64) * 4096 + ((v[1] >> 9) & 1); break;
	case 3: len = dist + (int64_t)(v[3] % 8193) - 4096; break;
	case 4: len = dist / 2 + (v[3] % 8193); break;
	default: len = (v[3] % (1ULL << (bits + 2))); break;
	}
	struct pkbox_cmp tokcmp = { 2, PKBOX_CMP_NE, ~0ULL, 0x1234 };
	size_t n = pkbox__range_rules(lo, bits, 0, 1, &tokcmp, 1, rules, 256);
	if (n > 256)
		abort();
	uint64_t args[6] = { a, len, 0, 0, 0, 0 };
	uint64_t plen = (len + 4095) & ~4095ULL;
	bool valid = len > 0 && plen >= len && a + plen > a && a + plen <= top;
	bool overlap = valid && a < hi && a + plen > lo;
	bool match = pkbox__rules_match(rules, n, args);
	if (overlap && !match)
		abort(); /* a call that reaches the block would pass */
	if (valid && a >= hi && match)
		abort(); /* a call above the block refused */
	if (valid && a < lo && lo - a <= (1ULL << (bits - 1)) && plen * 2 <= lo - a && match)
		abort(); /* a call well below the block refused */
	/* the token lets the library's own calls through */
	args[2] = 0x1234;
	if (pkbox__rules_match(rules, n, args))
		abort();
	return 0;
}
