/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stacks.c - domain stacks: one per (domain, thread), mapped on first use,
 * and with key-0 protection the copy of the thread's static TLS kept at the
 * bottom of each. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "gate_layout.h"
#include "msg.h"
#include "phase.h"
#include "stacks.h"
#include "state.h"

int pkbox__stack_row_of(uintptr_t a)
{
	if (a < pkbox__gc.stacks_lo || a >= pkbox__gc.stacks_lo + pkbox__gc.stacks_dom_span)
		return -1;
	return (int)(((a - pkbox__gc.stacks_lo) >> pkbox__gc.stride_shift) / PKBOX_MAX_THREADS);
}

/* glibc's dtv_t */
struct pkbox_dtv {
	uintptr_t val, to_free;
};

/* Copies the calling thread's static TLS and thread control block into
 * domain d, where compartment code writes errno and the C library's other
 * per-thread state while key 0 is closed to it.  The copy's self pointers
 * and its module vector point into the copy. */
static void tls_copy(struct pkbox_dom *d, int ti)
{
	uintptr_t htp = pkbox__thread_pointer(), ctp = pkbox__tls_tp(d->idx, ti);
	uint64_t below = pkbox__gc.tls_below, tcb = pkbox__gc.tls_tcb;

	memcpy((void *)(ctp - below), (const void *)(htp - below), below + tcb);
	/* tcbhead_t: the thread pointer at 0, the dtv at 8, self at 16 */
	((uintptr_t *)ctp)[0] = ctp;
	((uintptr_t *)ctp)[2] = ctp;
	intptr_t delta = (intptr_t)(ctp - htp);
	const struct pkbox_dtv *hd = *(struct pkbox_dtv *const *)(htp + 8);
	uintptr_t room = pkbox__gc.tls_span - (ctp + tcb - (pkbox__stack_top(d->idx, ti) - pkbox__gc.stack_size));

	if (hd && (hd[-1].val + 2) * sizeof(*hd) <= room) {
		size_t len = hd[-1].val;
		struct pkbox_dtv *cd = (struct pkbox_dtv *)((ctp + tcb + 15) & ~(uintptr_t)15);

		memcpy(cd, hd - 1, (len + 2) * sizeof(*cd));
		cd++;
		for (size_t i = 1; i <= len; i++)
			if (cd[i].val >= htp - below && cd[i].val < htp)
				cd[i].val += (uintptr_t)delta;
		((uintptr_t *)ctp)[1] = (uintptr_t)cd;
	}
	pkbox__inside_fixup(htp - below, htp, delta);
}

int pkbox__stack_ensure(struct pkbox_dom *d, int ti)
{
	uint64_t bit = 1ULL << (ti % 64);

	if (!(d->stacks_mapped[ti / 64] & bit)) {
		uintptr_t top = pkbox__stack_top(d->idx, ti);

		if (pkbox__be->tag(top - pkbox__gc.stack_size, pkbox__gc.stack_size, PROT_READ | PROT_WRITE, d->pkey))
			return pkbox__err(-errno, "cannot map a stack for domain %s: %m", d->name);
		d->stacks_mapped[ti / 64] |= bit;
		d->tls_copied[ti / 64] &= ~bit;
	}
	/* a fresh copy for each new thread in this row and after a reset */
	if (pkbox__gc.key0_ro && !(d->tls_copied[ti / 64] & bit)) {
		tls_copy(d, ti);
		d->tls_copied[ti / 64] |= bit;
	}
	/* the record's fixed part: where the entry path runs the compartment */
	struct pkbox_record *rec = pkbox__record_of(d->idx, ti);
	rec->slot_top = pkbox__stack_top(d->idx, ti);
	rec->dom_fs = pkbox__gc.key0_ro ? pkbox__tls_tp(d->idx, ti) : 0;
	__atomic_fetch_or(&pkbox__thread_at(ti)->ready, 1ULL << d->idx, __ATOMIC_RELAXED);
	return 0;
}

/* No thread's stack in d is ready any more (each one's next call into d
 * takes the lock and pkbox__stack_ensure()); the TLS copies are made
 * again. */
void pkbox__stacks_unready(struct pkbox_dom *d)
{
	memset(d->tls_copied, 0, sizeof(d->tls_copied));
	for (int ti = 0; ti < PKBOX_MAX_THREADS; ti++)
		__atomic_fetch_and(&pkbox__thread_at(ti)->ready, ~(1ULL << d->idx), __ATOMIC_RELAXED);
}

void pkbox__stacks_release(struct pkbox_dom *d)
{
	uintptr_t row = pkbox__gc.stacks_lo + ((uintptr_t)d->idx * PKBOX_MAX_THREADS << pkbox__gc.stride_shift);
	uintptr_t len = (uintptr_t)PKBOX_MAX_THREADS << pkbox__gc.stride_shift;

	pkbox__reset_range(row, len);
	pkbox__be->untag(row, len);
	memset((void *)(pkbox__gc.records_lo + (uintptr_t)d->idx * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE), 0,
	       PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE);
	memset(d->stacks_mapped, 0, sizeof(d->stacks_mapped));
	pkbox__stacks_unready(d);
}
