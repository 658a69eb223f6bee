/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * refusals.h - the record of syscalls the seal refused (state layer): the
 * last refusal made to a compartment and the counts.  The SIGSYS handler
 * (sigsys.c) and the gate (a refusal a compartment's thread reports on its
 * way out) write it; the API reads it.
 */
#ifndef PKBOX_REFUSALS_H
#define PKBOX_REFUSALS_H

#include <stdint.h>

#include "pkeysbox.h"

struct pkbox_dom;

/* A compartment of domain d was refused syscall nr_arch (the number in
 * the low 32 bits, the AUDIT_ARCH_* in the high ones, 0: x86_64) at ip.
 * Under the library's memory (host rights). */
void pkbox__refusal_record(struct pkbox_dom *d, long nr_arch, uintptr_t ip);
/* Host code was refused one: counted in the library image's own memory
 * (async-signal-safe, no library memory needed). */
void pkbox__refusal_host(void);
/* All refusals so far, compartments' and host's.  Under the library lock. */
unsigned long pkbox__refusal_count(void);
/* The last refusal made to a compartment, whole (its sz set): 0, or
 * -ENODATA with a message when there was none.  Under the library lock. */
int pkbox__refusal_last(struct pkbox_refusal *out);

#endif
