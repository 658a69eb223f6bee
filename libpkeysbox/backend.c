/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backend.c - the two ways of keeping domains apart, behind one interface.
 *
 * pku: memory is tagged with keys once; a switch is one WRPKRU in gate.S,
 * so enter/leave do nothing here.
 * mprotect: memory a domain may not touch is made PROT_NONE on entry and
 * given back on exit.  mprotect is process-wide, so compartment calls are
 * serialized (the gate lock, fault.c) and host threads that touch hidden
 * memory meanwhile wait in the fault handler until it is visible again.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* ---------------------------------------------------------------- keys */

/* Keys given back while a compartment may still hold them open in some
 * thread's PKRU are not reused until no thread is inside any domain. */
#define key_pool (pkbox__st->key_pool)
#define key_pending (pkbox__st->key_pending)
#define nkey_pool (pkbox__st->nkey_pool)
#define nkey_pending (pkbox__st->nkey_pending)
#define active_calls (pkbox__st->active_calls)

int pkbox__pkey_alloc(void)
{
	if (!active_calls) {
		while (nkey_pending)
			key_pool[nkey_pool++] = key_pending[--nkey_pending];
	}
	if (nkey_pool)
		return key_pool[--nkey_pool];
	long k = syscall(SYS_pkey_alloc, 0UL, 0UL);
	return k < 0 ? -1 : (int)k;
}

void pkbox__pkey_free(int k)
{
	if (k < 0)
		return;
	if (active_calls)
		key_pending[nkey_pending++] = k;
	else
		key_pool[nkey_pool++] = k;
}

void pkbox__calls_adjust(int delta)
{
	active_calls += delta;
}

/* ---------------------------------------------------------------- pku */

static int pku_tag(uintptr_t base, size_t len, int prot, int pkey)
{
	return pkbox__pkey_mprotect(base, len, prot, pkey);
}

static void nothing_untag(uintptr_t base, size_t len)
{
	(void)base;
	(void)len;
}

static int nothing_enter(struct pkbox_dom *d, struct pkbox_switch *sw)
{
	(void)d;
	(void)sw;
	return 0;
}

static int nothing_leave(struct pkbox_switch *sw)
{
	(void)sw;
	return 0;
}

const struct pkbox_backend_ops pkbox__be_pku = {
	.name = "pku",
	.tag = pku_tag,
	.untag = nothing_untag,
	.enter = nothing_enter,
	.leave = nothing_leave,
};

/* ---------------------------------------------------------------- mprotect */

/* The memory this backend switches carries VM_DONTDUMP; the reservation
 * around it (guard pages, gaps, freed memory) does not.  So hidden memory
 * (PROT_NONE) never merges with its PROT_NONE neighbours, and hiding or
 * showing it changes whole mappings: no split, so no new mapping that
 * vm.max_map_count could refuse.  (Merged on the way in, it needed a split
 * per region on the way out, and a compartment that used up the mapping
 * count during its call kept the host's memory hidden: attack A17.)  A side
 * effect: this memory is left out of core dumps. */
static int mp_tag(uintptr_t base, size_t len, int prot, int pkey)
{
	(void)pkey;
	/* the mark first: where it fails, the memory is left as it was
	 * (madvise says EAGAIN where mprotect says ENOMEM: no mapping left) */
	if (pkbox__madvise(base, len, MADV_DONTDUMP)) {
		if (errno == EAGAIN)
			errno = ENOMEM;
		return -1;
	}
	return pkbox__mprotect((void *)base, len, prot);
}

/* after pkbox__reset_range(): back into the reservation it merges with */
static void mp_untag(uintptr_t base, size_t len)
{
	pkbox__madvise(base, len, MADV_DODUMP);
}

#define mp_cur (pkbox__st->mp_cur)

static uintptr_t slot_lo(int idx)
{
	return pkbox__gc.slots_lo + (uintptr_t)idx * PKBOX_SLOT_SIZE;
}

static uintptr_t row_lo(int idx)
{
	return pkbox__gc.stacks_lo + ((uintptr_t)idx * PKBOX_MAX_THREADS << pkbox__gc.stride_shift);
}

static bool row_mapped(const struct pkbox_dom *d)
{
	for (unsigned i = 0; i < PKBOX_MAX_THREADS / 64; i++)
		if (d->stacks_mapped[i])
			return true;
	return false;
}

/* 1 + the highest thread index with a stack in this domain, 0 if none */
static int row_extent(const struct pkbox_dom *d)
{
	for (int i = PKBOX_MAX_THREADS / 64 - 1; i >= 0; i--)
		if (d->stacks_mapped[i])
			return i * 64 + 64 - __builtin_clzll(d->stacks_mapped[i]);
	return 0;
}

/* One protection change of a switch, checked.  The first failure is kept
 * in *sw (its errno and whose memory) for the caller's report. */
static int mp_set(struct pkbox_switch *sw, int owner, uintptr_t a, size_t len, int prot)
{
	if (!pkbox__mprotect((void *)a, len, prot))
		return 0;
	if (!sw->err) {
		sw->err = errno ? errno : ENOMEM;
		sw->owner = owner;
	}
	return -1;
}

/* Giving memory back: a failure is retried (ENOMEM may be the kernel short
 * of memory for a moment); what still fails is reported, and the rest is
 * given back all the same. */
static void mp_show(struct pkbox_switch *sw, int owner, uintptr_t a, size_t len, int prot)
{
	for (int i = 0; i < 3; i++) {
		if (!pkbox__mprotect((void *)a, len, prot))
			return;
		if (errno != ENOMEM && errno != EAGAIN)
			break;
		sched_yield();
	}
	if (!sw->err) {
		sw->err = errno ? errno : ENOMEM;
		sw->owner = owner;
	}
}

/* Everything the host may touch, visible again (after a call, or after an
 * entry that could not hide it all); the library lock is still held. */
static void mp_show_all(struct pkbox_switch *sw)
{
	struct pkbox_state *st = pkbox__st;
	struct pkbox_gatepage *gp = (struct pkbox_gatepage *)pkbox__gc.gatepage;

	/* the gate page first: the lock word and the phase live there */
	mp_show(sw, -1, (uintptr_t)gp, PAGE, PROT_READ | PROT_WRITE);
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		struct pkbox_region *g = &st->regions[r];

		if (g->used && g->dom != mp_cur)
			mp_show(sw, g->dom, g->base, g->pages * PAGE, g->foreign ? g->prot : PROT_READ | PROT_WRITE);
	}
	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++) {
		struct pkbox_dom *o = &st->doms[i];

		if (!o->used || i == mp_cur || !row_mapped(o))
			continue;
		for (int ti = 0; ti < PKBOX_MAX_THREADS; ti++)
			if (o->stacks_mapped[ti / 64] & (1ULL << (ti % 64)))
				mp_show(sw, i, pkbox__stack_top(i, ti) - pkbox__gc.stack_size, pkbox__gc.stack_size,
					PROT_READ | PROT_WRITE);
	}
	mp_cur = -1;
	mp_show(sw, -1, pkbox__gc.jit_rw, PKBOX_JIT_SIZE, PROT_READ | PROT_WRITE);
	atomic_store(&gp->phase, PHASE_HOST);
	syscall(SYS_futex, &gp->phase, 1 /* FUTEX_WAKE */, 0x7fffffff, NULL, NULL, 0);
	pkbox__unlock();
}

/* Called by gate.S with host rights right before the switch, on the
 * thread's exit stack in meta, which gate.S hides right after (nothing of
 * the library is touched then).
 * The library lock stays held until mp_leave(): no other thread can change
 * a protection (map a new region, say) while memory is hidden.  Threads
 * that want it meanwhile fault on the hidden lock word and are parked by
 * the fault handler until the call is over.
 * Fails closed: when any hiding fails, what was hidden is given back, the
 * lock released, and gate.S returns to the host without entering (0, or
 * -errno with the details in *sw). */
static int mp_enter(struct pkbox_dom *dom, struct pkbox_switch *sw)
{
	struct pkbox_state *st = pkbox__st;
	struct pkbox_gatepage *gp = (struct pkbox_gatepage *)pkbox__gc.gatepage;
	int bad = 0;

	pkbox__lock();
	atomic_fetch_add(&gp->gen, 1);
	atomic_store(&gp->phase, PHASE_DOMAIN);
	mp_cur = dom->idx;
	for (int i = 0; i < PKBOX_MAX_DOMAINS && !bad; i++) {
		struct pkbox_dom *o = &st->doms[i];

		if (!o->used || i == dom->idx)
			continue;
		if (o->next > slot_lo(i) + PAGE)
			bad |= mp_set(sw, i, slot_lo(i), o->next - slot_lo(i), PROT_NONE);
		int hi = row_extent(o);
		if (hi && !bad)
			bad |= mp_set(sw, i, row_lo(i), (uintptr_t)hi << pkbox__gc.stride_shift, PROT_NONE);
	}
	for (int r = 0; r < PKBOX_MAX_REGIONS && !bad; r++) {
		struct pkbox_region *g = &st->regions[r];

		if (!g->used || g->dom == dom->idx)
			continue;
		if (g->foreign) /* other domains' plugin segments */
			bad |= mp_set(sw, g->dom, g->base, g->pages * PAGE, PROT_NONE);
		for (int k = 0; k < g->ngrants && !bad; k++)
			if (g->grants[k].dom == dom->idx)
				bad |= mp_set(sw, g->dom, g->base, g->pages * PAGE,
					      g->grants[k].access == PKBOX_ACCESS_RW ? PROT_READ | PROT_WRITE
										     : PROT_READ);
	}
	if (!bad)
		bad |= mp_set(sw, -1, pkbox__gc.jit_rw, PKBOX_JIT_SIZE, PROT_NONE);
	if (!bad)
		bad |= mp_set(sw, -1, (uintptr_t)gp, PAGE, PROT_READ);
	if (!bad)
		return 0; /* meta last, by gate.S: this runs on a stack in there */
	/* no compartment code runs: the host gets back what was hidden */
	int err = sw->err;
	mp_show_all(sw);
	sw->err = err;
	return -err;
}

/* After gate.S gave meta back: everything else (0, or -errno with the
 * details in *sw: memory the host may find missing). */
static int mp_leave(struct pkbox_switch *sw)
{
	/* the lock taken in mp_enter() is still held */
	mp_show_all(sw);
	return -sw->err;
}

const struct pkbox_backend_ops pkbox__be_mprotect = {
	.name = "mprotect",
	.tag = mp_tag,
	.untag = mp_untag,
	.enter = mp_enter,
	.leave = mp_leave,
};
