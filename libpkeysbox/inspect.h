/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * inspect.h - finding the instructions that can change PKRU in code
 * (inspect.c): pure, also used by the fuzzer (tests/fuzz/fuzz_inspect.c),
 * the seal and the code area (jit.c).
 */
#ifndef PKBOX_INSPECT_H
#define PKBOX_INSPECT_H

#include <stddef.h>
#include <stdint.h>

#include "pkeysbox.h"

/* The sequences in buf (len bytes, at address base), and those that start
 * in the nprev bytes before it (prev, at most 2 used): up to max in out;
 * returns how many there are (may exceed max). */
size_t pkbox__scan(const uint8_t *prev, size_t nprev, const uint8_t *buf, size_t len, uintptr_t base,
		   struct pkbox_finding *out, size_t max);
/* "WRPKRU", "XRSTOR", "XRSTORS" */
const char *pkbox__insn_name(int kind);

#endif
