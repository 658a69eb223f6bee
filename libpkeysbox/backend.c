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

static void nothing_enter(struct pkbox_dom *d)
{
	(void)d;
}

static void nothing_leave(void)
{
}

const struct pkbox_backend_ops pkbox__be_pku = {
	.name = "pku",
	.tag = pku_tag,
	.enter = nothing_enter,
	.leave = nothing_leave,
};

/* ---------------------------------------------------------------- mprotect */

static int mp_tag(uintptr_t base, size_t len, int prot, int pkey)
{
	(void)pkey;
	return pkbox__mprotect((void *)base, len, prot);
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

/* Called by gate.S with host rights right before the switch, on the
 * thread's exit stack in meta, which gate.S hides right after (nothing of
 * the library is touched then).
 * The library lock stays held until mp_leave(): no other thread can change
 * a protection (map a new region, say) while memory is hidden.  Threads
 * that want it meanwhile fault on the hidden lock word and are parked by
 * the fault handler until the call is over. */
static void mp_enter(struct pkbox_dom *dom)
{
	struct pkbox_state *st = pkbox__st;
	struct pkbox_gatepage *gp = (struct pkbox_gatepage *)pkbox__gc.gatepage;

	pkbox__lock();
	atomic_fetch_add(&gp->gen, 1);
	atomic_store(&gp->phase, PHASE_DOMAIN);
	mp_cur = dom->idx;
	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++) {
		struct pkbox_dom *o = &st->doms[i];

		if (!o->used || i == dom->idx)
			continue;
		if (o->next > slot_lo(i) + PAGE)
			pkbox__mprotect((void *)slot_lo(i), o->next - slot_lo(i), PROT_NONE);
		int hi = row_extent(o);
		if (hi)
			pkbox__mprotect((void *)row_lo(i), (uintptr_t)hi << pkbox__gc.stride_shift, PROT_NONE);
	}
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		struct pkbox_region *g = &st->regions[r];

		if (!g->used || g->dom == dom->idx)
			continue;
		if (g->foreign) /* other domains' plugin segments */
			pkbox__mprotect((void *)g->base, g->pages * PAGE, PROT_NONE);
		for (int k = 0; k < g->ngrants; k++)
			if (g->grants[k].dom == dom->idx)
				pkbox__mprotect((void *)g->base, g->pages * PAGE,
					 g->grants[k].access == PKBOX_ACCESS_RW ? PROT_READ | PROT_WRITE
										: PROT_READ);
	}
	pkbox__mprotect((void *)pkbox__gc.jit_rw, PKBOX_JIT_SIZE, PROT_NONE);
	pkbox__mprotect(gp, PAGE, PROT_READ);
	/* meta last, by gate.S: this runs on a stack in there */
}

/* After gate.S gave meta back: everything else. */
static void mp_leave(void)
{
	struct pkbox_state *st = pkbox__st;
	struct pkbox_gatepage *gp = (struct pkbox_gatepage *)pkbox__gc.gatepage;

	/* the lock taken in mp_enter() is still held */
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		struct pkbox_region *g = &st->regions[r];

		if (g->used && g->dom != mp_cur)
			pkbox__mprotect((void *)g->base, g->pages * PAGE, g->foreign ? g->prot : PROT_READ | PROT_WRITE);
	}
	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++) {
		struct pkbox_dom *o = &st->doms[i];

		if (!o->used || i == mp_cur || !row_mapped(o))
			continue;
		for (int ti = 0; ti < PKBOX_MAX_THREADS; ti++)
			if (o->stacks_mapped[ti / 64] & (1ULL << (ti % 64)))
				pkbox__mprotect((void *)(pkbox__stack_top(i, ti) - pkbox__gc.stack_size),
					 pkbox__gc.stack_size, PROT_READ | PROT_WRITE);
	}
	mp_cur = -1;
	pkbox__mprotect((void *)pkbox__gc.jit_rw, PKBOX_JIT_SIZE, PROT_READ | PROT_WRITE);
	pkbox__mprotect(gp, PAGE, PROT_READ | PROT_WRITE);
	atomic_store(&gp->phase, PHASE_HOST);
	syscall(SYS_futex, &gp->phase, 1 /* FUTEX_WAKE */, 0x7fffffff, NULL, NULL, 0);
	pkbox__unlock();
}

const struct pkbox_backend_ops pkbox__be_mprotect = {
	.name = "mprotect",
	.tag = mp_tag,
	.enter = mp_enter,
	.leave = mp_leave,
};
