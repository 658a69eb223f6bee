/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_inspect.c - libFuzzer target for the code inspector (inspect.c).
 * Input: a split point and bytes.  Checks against a plain reference decoder
 * of the three encodings that:
 *  - every sequence in the bytes is found, at its offset, with its kind;
 *  - scanning the bytes as two adjacent mappings (the second given the
 *    tail of the first) finds exactly what scanning them whole finds.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect.h"

int pkbox__err(int err, const char *fmt, ...)
{
	(void)fmt;
	return err;
}

static int ref_kind(const uint8_t *p)
{
	if (p[0] != 0x0f)
		return 0;
	if (p[1] == 0x01 && p[2] == 0xef)
		return PKBOX_INSN_WRPKRU;
	int mod = p[2] >> 6, reg = (p[2] >> 3) & 7;
	if (p[1] == 0xae && reg == 5 && mod != 3)
		return PKBOX_INSN_XRSTOR;
	if (p[1] == 0xc7 && reg == 3 && mod != 3)
		return PKBOX_INSN_XRSTORS;
	return 0;
}

#define MAXF 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkbox_finding whole[MAXF], a[MAXF], b[MAXF];
	if (size < 2 || size > 8192)
		return 0;
	size_t split = data[0] % (size - 1);
	const uint8_t *buf = data + 1;
	size_t len = size - 1;
	uintptr_t base = 0x100000;

	size_t nw = pkbox__scan(NULL, 0, buf, len, base, whole, MAXF);
	/* reference */
	size_t nr = 0;
	for (size_t i = 0; i + 3 <= len; i++) {
		int k = ref_kind(buf + i);
		if (!k)
			continue;
		if (nr >= nw || whole[nr].addr != base + i || whole[nr].kind != k)
			abort();
		nr++;
	}
	if (nr != nw)
		abort();
	/* two adjacent mappings */
	size_t na = pkbox__scan(NULL, 0, buf, split, base, a, MAXF);
	size_t pn = split < 2 ? split : 2;
	size_t nb = pkbox__scan(buf + split - pn, pn, buf + split, len - split, base + split, b, MAXF);
	if (na + nb != nw)
		abort();
	for (size_t i = 0; i < na; i++)
		if (a[i].addr != whole[i].addr || a[i].kind != whole[i].kind)
			abort();
	for (size_t i = 0; i < nb; i++) {
		/* the edge findings come first in b, in address order */
		if (b[i].addr != whole[na + i].addr || b[i].kind != whole[na + i].kind)
			abort();
	}
	return 0;
}
