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
bool pkbox__ready(void);
void pkbox__ready_set(void);

/* a hint: this thread runs compartment code (library memory is out of reach) */
int pkbox__inside(void);
void pkbox__inside_set(int on);
/* a compartment's TLS copy of a thread whose static TLS is [lo, hi), moved
 * by delta: inside, the hint says "inside" */
void pkbox__inside_fixup(uintptr_t lo, uintptr_t hi, intptr_t delta);

#endif
