/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpu.c - CPUID and kernel support for protection keys. */
#include "config.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpu.h"

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

static struct pkbox_cpu cpu;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_read(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
		cpu.pku = (c >> 3) & 1;
		cpu.ospke = (c >> 4) & 1;
		cpu.avx2 = (b >> 5) & 1;
	}
	/* AVX2 is usable where the kernel enabled XSAVE (OSXSAVE) and saves SSE and AVX state */
	if (cpu.avx2 && __get_cpuid(1, &a, &b, &c, &d) && (c >> 27 & 1)) {
		uint32_t lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		cpu.avx2 = (lo & 6) == 6;
	} else {
		cpu.avx2 = 0;
	}
	/* XSAVE state component 9 is PKRU: its offset in the standard format. */
	if (cpu.ospke && __get_cpuid_count(0xd, 9, &a, &b, &c, &d) && a >= 4)
		cpu.xsave_pkru_offset = b;
	cpu.fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
}

const struct pkbox_cpu *pkbox__cpu(void)
{
	pthread_once(&cpu_once, cpu_read);
	return &cpu;
}

int pkbox__kernel_pkeys(int *errno_out)
{
	/* The raw syscall: glibc's wrapper may be missing on old systems. */
	long k = syscall(SYS_pkey_alloc, 0UL, 0UL);

	if (k < 0) {
		if (errno_out)
			*errno_out = errno;
		return 0;
	}
	syscall(SYS_pkey_free, k);
	if (errno_out)
		*errno_out = 0;
	return 1;
}

enum pkbox_backend pkbox__detect_backend(void)
{
	const struct pkbox_cpu *c = pkbox__cpu();

	if (!c->pku || !c->ospke)
		return PKBOX_BACKEND_MPROTECT;
	return pkbox__kernel_pkeys(NULL) ? PKBOX_BACKEND_PKU : PKBOX_BACKEND_MPROTECT;
}
