/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stacks.h - domain stacks and, with key-0 protection, the TLS copies at
 * their bottom (stacks.c). */
#ifndef PKBOX_STACKS_H
#define PKBOX_STACKS_H

#include <stdint.h>

#include "state.h"

struct pkbox_dom;

/* maps thread ti's stack in d (and makes its TLS copy): 0 or -errno */
int pkbox__stack_ensure(struct pkbox_dom *d, int ti);
/* Key-0 protection: the thread pointer of thread ti's TLS copy in domain
 * row `row`, at the bottom of its stack slot (a stack that overflows runs
 * into its own copy first, then faults below it).  Pure layout; inline, as
 * every call needs it. */
static inline uintptr_t pkbox__tls_tp(int row, int ti)
{
	uintptr_t bottom = pkbox__stack_top(row, ti) - pkbox__gc.stack_size;

	return (bottom + pkbox__gc.tls_below + pkbox__gc.tls_align - 1) & ~(uintptr_t)(pkbox__gc.tls_align - 1);
}
/* the domain whose stack row holds addr, or -1 */
int pkbox__stack_row_of(uintptr_t addr);
/* unmaps all of d's stacks and clears its gate records */
void pkbox__stacks_release(struct pkbox_dom *d);
/* no thread's stack in d counts as ready (pkbox_thread.ready); the TLS
 * copies are made again at each thread's next call.  Under the lock */
void pkbox__stacks_unready(struct pkbox_dom *d);

#endif
