/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal.h - the seal layer inside: the policy's filters (filter.c), the
 * SIGSYS handler (sigsys.c), the inspection of the process's code
 * (codescan.c), mseal (mseal.c) and the orchestration (seal.c), which
 * api_seal.c and set-up (init.c) call.
 */
#ifndef PKBOX_SEAL_H
#define PKBOX_SEAL_H

#include <stdbool.h>
#include <stdint.h>

#include "pkeysbox.h"

/* seal.c: seals the process; opts is the caller's copy, whole (never
 * NULL: all 0 for none).  Takes the library lock.  0 or -errno. */
int pkbox__seal(const struct pkbox_seal_opts *opts);
/* 1 if sealed; under the library lock */
int pkbox__sealed(void);

/* filter.c: the libseccomp filter for token tok and the seal's flags,
 * built but not loaded (*ctx; free it with pkbox__filter_free() unless
 * loaded); then both filters loaded, the raw one first (ctx freed). */
int pkbox__filter_make(void **ctx, uint64_t tok, unsigned flags);
void pkbox__filter_free(void *ctx);
int pkbox__filter_load(void *ctx, uint64_t tok);

/* sigsys.c */
int pkbox__sigsys_install(void);
void *pkbox__sigsys_handler(void);
/* gate.S: where a compartment's refused syscall returns through the gate */
void pkbox__sys_refused(void);

/* codescan.c: the process's executable mappings as /proc/self/maps shows them */
struct pkbox_xmap {
	uintptr_t lo, hi;
	char path[256];
	bool readable;
};
#define PKBOX_MAX_XMAPS 512
int pkbox__xmaps_read(struct pkbox_xmap *m, int max, int *count);
/* Scans every executable mapping once: the known system sites (glibc's
 * pkey_set, the dynamic loader's lazy-binding XRSTOR) into sites[] (at most
 * PKBOX_MAX_SITES) to be disabled later; anything else but the gate's own
 * WRPKRUs refuses the seal (-EPERM). */
#define PKBOX_MAX_SITES 16
int pkbox__code_inspect(struct pkbox_finding *sites, int *nsites);
/* overwrites each site with UD2 */
int pkbox__code_disable(const struct pkbox_finding *sites, int n);

/* mseal.c: mseal()s every executable mapping but the kernel's and every
 * object's RELRO; *count: how many ranges.  0 or -errno (no mseal). */
int pkbox__mseal_code(unsigned *count);

#endif
