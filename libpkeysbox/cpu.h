/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu.h - what the CPU and kernel offer, and the backend choice. */
#ifndef PKBOX_CPU_H
#define PKBOX_CPU_H

#include <stdint.h>
#include "pkeysbox.h"

struct pkbox_cpu {
	int pku;      /* CPUID.(7,0):ECX[3] */
	int ospke;    /* CPUID.(7,0):ECX[4] */
	int fsgsbase; /* AT_HWCAP2 HWCAP2_FSGSBASE: user-mode RDFSBASE/WRFSBASE enabled */
	uint32_t xsave_pkru_offset; /* CPUID.(0xD,9).EBX: PKRU in the XSAVE area, 0 if none */
	int avx2;     /* CPUID.(7,0):EBX[5], and the kernel saves the YMM state (XCR0[2:1]) */
};

/* CPUID facts (cheap, cached). */
const struct pkbox_cpu *pkbox__cpu(void);

/*
 * Does the kernel give keys? Allocates one key and frees it.  Returns 1 if
 * it works, 0 if not (errno_out: EINVAL, ENOSPC, ENOSYS...).  Never executes
 * RDPKRU/WRPKRU.
 */
int pkbox__kernel_pkeys(int *errno_out);

/* The backend AUTO resolves to here (CPUID PKU and OSPKE, and the kernel). */
enum pkbox_backend pkbox__detect_backend(void);

/* everything pkbox_probe() reports, into *info (all 0 before; its sz
 * untouched); probe.c */
struct pkbox_info;
void pkbox__probe(struct pkbox_info *info);

/* RDPKRU; only valid when pkbox__cpu()->ospke. */
static inline uint32_t pkbox__rdpkru(void)
{
	uint32_t eax, edx;
	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

#endif
