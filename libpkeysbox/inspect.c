/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inspect.c - finds instructions that can change PKRU in executable memory.
 *
 * Three encodings write PKRU:
 *   WRPKRU            0F 01 EF
 *   XRSTOR  m         [REX] 0F AE /5, ModRM.mod != 3   (mod 3 is LFENCE)
 *   XRSTORS m         [REX] 0F C7 /3, ModRM.mod != 3
 * They are looked for at every byte offset, whatever instruction boundaries
 * the code has: a jump can land in the middle of an instruction.  The scan
 * is given the bytes that come before a block (the tail of the previous
 * page or mapping) so that sequences split across pages and adjacent
 * mappings are found too.
 */
#include "config.h"

#include "inspect.h"

const char *pkbox__insn_name(int kind)
{
	switch (kind) {
	case PKBOX_INSN_WRPKRU:
		return "WRPKRU";
	case PKBOX_INSN_XRSTOR:
		return "XRSTOR";
	case PKBOX_INSN_XRSTORS:
		return "XRSTORS";
	}
	return "?";
}

/* Kind of the sequence starting at p (3 bytes available), or 0. */
static int match3(const uint8_t *p)
{
	if (p[0] != 0x0f)
		return 0;
	if (p[1] == 0x01 && p[2] == 0xef)
		return PKBOX_INSN_WRPKRU;
	if ((p[2] & 0xc0) == 0xc0)
		return 0;
	if (p[1] == 0xae && ((p[2] >> 3) & 7) == 5)
		return PKBOX_INSN_XRSTOR;
	if (p[1] == 0xc7 && ((p[2] >> 3) & 7) == 3)
		return PKBOX_INSN_XRSTORS;
	return 0;
}

size_t pkbox__scan(const uint8_t *prev, size_t nprev, const uint8_t *buf, size_t len, uintptr_t base,
		   struct pkbox_finding *out, size_t max)
{
	size_t n = 0;
	uint8_t edge[6];

	/* sequences that start in the (at most two) bytes before the block */
	if (nprev > 2) {
		prev += nprev - 2;
		nprev = 2;
	}
	if (prev && nprev) {
		size_t m = 0;

		for (size_t i = 0; i < nprev; i++)
			edge[m++] = prev[i];
		for (size_t i = 0; i < len && i < 2; i++)
			edge[m++] = buf[i];
		for (size_t i = 0; i + 3 <= m && i < nprev; i++) {
			int k = match3(edge + i);

			if (k) {
				if (n < max) {
					out[n].addr = base - nprev + i;
					out[n].kind = k;
				}
				n++;
			}
		}
	}
	for (size_t i = 0; i + 3 <= len; i++) {
		if (buf[i] != 0x0f)
			continue;
		int k = match3(buf + i);

		if (k) {
			if (n < max) {
				out[n].addr = base + i;
				out[n].kind = k;
			}
			n++;
		}
	}
	return n;
}
