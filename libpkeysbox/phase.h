/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* phase.h - where the process and this thread stand: is the library set up,
 * is this thread running compartment code.  The lowest layer but one (it
 * calls nothing of the library). */
#ifndef PKBOX_PHASE_H
#define PKBOX_PHASE_H

#include <stdbool.h>
#include <stdint.h>

/* the pool is there (a hint only: a compartment that clears it makes the
 * library try to set up again, which fails on the taken range) */
void pkbox__ready_set(void);

/* (the variables behind the inlines below: phase.c; inline because
 * pkbox_call() asks both on every call) */
extern bool pkbox__init_done;
extern __thread __attribute__((tls_model("initial-exec"))) int pkbox__tls_inside;

static inline bool pkbox__ready(void)
{
	return __atomic_load_n(&pkbox__init_done, __ATOMIC_ACQUIRE);
}

/* a hint: this thread runs compartment code (library memory is out of reach) */
static inline int pkbox__inside(void)
{
	return pkbox__tls_inside;
}

static inline void pkbox__inside_set(int on)
{
	pkbox__tls_inside = on;
}
/* a compartment's TLS copy of a thread whose static TLS is [lo, hi), moved
 * by delta: inside, the hint says "inside" */
void pkbox__inside_fixup(uintptr_t lo, uintptr_t hi, intptr_t delta);

#endif
