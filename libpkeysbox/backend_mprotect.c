/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backend_mprotect.c - the mprotect fallback: memory a domain may not
 * touch is made PROT_NONE on entry and given back on exit.  mprotect is
 * process-wide, so compartment calls are serialized (the gate lock, here)
 * and host threads that touch hidden memory meanwhile wait in the fault
 * handler until it is visible again.  gate.S calls the hooks at the end
 * of this file around its own switch of the library's state.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "backend.h"
#include "fmt.h"
#include "gate_layout.h"
#include "lock.h"
#include "msg.h"
#include "regions.h"
#include "state.h"
#include "sys.h"

static struct pkbox_gatepage *gatepage(void)
{
	return (struct pkbox_gatepage *)pkbox__gc.gatepage;
}

/* ---------------------------------------------------------------- set-up */

static int mp_usable(void)
{
	return 0;
}

static int mp_lib_keys(int *key_h, int *key_r)
{
	*key_h = *key_r = -1;
	return 0;
}

/* in the gate page: its word must stay readable (futex_wait) while the
 * library's memory is hidden */
static pthread_mutex_t *mp_lock_word(void)
{
	return &gatepage()->mu;
}

/* No domain's memory left visible by a switch yet.  What the state does
 * not use goes back to the reservation, so that the part gate.S hides and
 * shows is one whole mapping (no split at a switch: see mp_tag()). */
static int mp_setup_meta(struct pkbox_gatecfg *gc)
{
	pkbox__st->mp_cur = -1;
	if (gc->meta_len >= PKBOX_META_SIZE)
		return 0;
	uintptr_t rest = gc->meta_lo + gc->meta_len;

	if (mprotect((void *)rest, PKBOX_META_SIZE - gc->meta_len, PROT_NONE) ||
	    madvise((void *)rest, PKBOX_META_SIZE - gc->meta_len, MADV_DODUMP))
		return pkbox__err(-errno, "cannot set up the library's memory: %s", pkbox__strerror(errno));
	return 0;
}

/* ---------------------------------------------------------------- memory */

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

static uintptr_t slot_lo(int idx)
{
	return pkbox__gc.slots_lo + (uintptr_t)idx * PKBOX_SLOT_SIZE;
}

static uintptr_t row_lo(int idx)
{
	return pkbox__gc.stacks_lo + ((uintptr_t)idx * PKBOX_MAX_THREADS << pkbox__gc.stride_shift);
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

/* Domain i's memory, visible again: region by region (what mp_enter() hid
 * slot-wide stays hidden between them: freed memory), and its stacks. */
static void mp_show_dom(struct pkbox_switch *sw, int i)
{
	struct pkbox_state *st = pkbox__st;
	const struct pkbox_dom *o = &st->doms[i];

	for (int r = pkbox__dom_regions_first(i); r >= 0; r = pkbox__region_next_of_dom(r)) {
		const struct pkbox_region *g = &st->regions[r];

		mp_show(sw, i, g->base, g->pages * PAGE, g->foreign ? g->prot : PROT_READ | PROT_WRITE);
	}
	for (int w = 0; w < PKBOX_MAX_THREADS / 64; w++)
		for (uint64_t b = o->stacks_mapped[w]; b; b &= b - 1) {
			int ti = w * 64 + __builtin_ctzll(b);

			mp_show(sw, i, pkbox__stack_top(i, ti) - pkbox__gc.stack_size, pkbox__gc.stack_size,
				PROT_READ | PROT_WRITE);
		}
}

/* Everything the host may touch, visible again (after a call, or after an
 * entry that could not hide it all); the library lock is still held.
 * Walks the live domains (the host's included) and their own lists only. */
static void mp_show_all(struct pkbox_switch *sw)
{
	struct pkbox_gatepage *gp = gatepage();

	/* the gate page first: the lock word and the phase live there */
	mp_show(sw, -1, (uintptr_t)gp, PAGE, PROT_READ | PROT_WRITE);
	for (uint64_t m = pkbox__dom_live_mask(); m; m &= m - 1) {
		int i = __builtin_ctzll(m);

		if (i != pkbox__st->mp_cur)
			mp_show_dom(sw, i);
	}
	pkbox__st->mp_cur = -1;
	mp_show(sw, -1, pkbox__gc.jit_rw, PKBOX_JIT_SIZE, PROT_READ | PROT_WRITE);
	atomic_store(&gp->phase, PHASE_HOST);
	syscall(SYS_futex, &gp->phase, 1 /* FUTEX_WAKE */, 0x7fffffff, NULL, NULL, 0);
	pkbox__unlock();
}

/* Domain i's memory out of reach: the used part of its slot, its stacks'
 * row, its plugin segments (on its list before its allocations). */
static int mp_hide_dom(struct pkbox_switch *sw, int i)
{
	struct pkbox_state *st = pkbox__st;
	const struct pkbox_dom *o = &st->doms[i];
	int bad = 0;

	if (o->next > slot_lo(i) + PAGE)
		bad |= mp_set(sw, i, slot_lo(i), o->next - slot_lo(i), PROT_NONE);
	int hi = row_extent(o);
	if (hi && !bad)
		bad |= mp_set(sw, i, row_lo(i), (uintptr_t)hi << pkbox__gc.stride_shift, PROT_NONE);
	for (int r = pkbox__dom_regions_first(i); r >= 0 && !bad && pkbox__region_foreign(r);
	     r = pkbox__region_next_of_dom(r))
		bad |= mp_set(sw, i, st->regions[r].base, st->regions[r].pages * PAGE, PROT_NONE);
	return bad;
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
	struct pkbox_gatepage *gp = gatepage();
	int bad = 0;

	pkbox__lock();
	atomic_fetch_add(&gp->gen, 1);
	atomic_store(&gp->phase, PHASE_DOMAIN);
	pkbox__st->mp_cur = dom->idx;
	/* every other live domain (the host's included): its slot, its stacks'
	 * row, its plugin segments */
	for (uint64_t m = pkbox__dom_live_mask() & ~(1ULL << dom->idx); m && !bad; m &= m - 1)
		bad |= mp_hide_dom(sw, __builtin_ctzll(m));
	/* then what is granted to dom: inside the slots just hidden */
	for (int n = pkbox__grants_to_first(dom->idx); n >= 0 && !bad; n = pkbox__grants_to_next(n)) {
		const struct pkbox_region *g = &st->regions[PKBOX_GRANT_REGION(n)];

		bad |= mp_set(sw, g->dom, g->base, g->pages * PAGE,
			      g->grants[PKBOX_GRANT_K(n)].access == PKBOX_ACCESS_RW ? PROT_READ | PROT_WRITE : PROT_READ);
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

/* back to the reservation's protection (no keys in this backend) */
static int mp_to_key0(uintptr_t base, size_t len, int prot)
{
	return pkbox__mprotect((void *)base, len, prot);
}

/* grants are applied at each switch (mp_enter()): no key */
static int mp_share(struct pkbox_region *g)
{
	(void)g;
	return 0;
}

static int mp_dom_key(void)
{
	return -1;
}

/* (no gate record: the entry path trusts the frame, in the library's state) */
static void mp_record(struct pkbox_frame *f)
{
	(void)f;
}

/* ---------------------------------------------------------------- the gate lock */

/* One compartment call at a time, process-wide: taken around an outermost
 * call, in the gate page (readable while the library's state is hidden). */
static void mp_call_lock(void)
{
	struct pkbox_gatepage *gp = gatepage();
	uint32_t me = (uint32_t)pkbox__gettid();

	for (;;) {
		uint32_t cur = atomic_load(&gp->lock);

		if (cur == 0) {
			if (atomic_compare_exchange_strong(&gp->lock, &cur, me))
				return;
			continue;
		}
		syscall(SYS_futex, &gp->lock, 0 /* FUTEX_WAIT */, cur, NULL, NULL, 0);
	}
}

static void mp_call_unlock(void)
{
	struct pkbox_gatepage *gp = gatepage();

	atomic_store(&gp->lock, 0);
	syscall(SYS_futex, &gp->lock, 1 /* FUTEX_WAKE */, 0x7fffffff, NULL, NULL, 0);
}

/* the timeout signal blocked outside: gate.S opens it once the host's
 * memory is hidden (the fault exit is the way out then) and blocks it on
 * the way out */
static void mp_timer_mask(void)
{
	static const uint64_t set = 1ULL << (PKBOX_TIMEOUT_SIG - 1);

	pkbox__sys(SYS_rt_sigprocmask, 4, SIG_BLOCK, (long)(uintptr_t)&set, 0, 8, 0);
}

/* ---------------------------------------------------------------- faults */

/* this thread holds the gate lock and is inside */
static bool mp_inside_now(void)
{
	struct pkbox_gatepage *gp = gatepage();

	return atomic_load(&gp->lock) == (uint32_t)pkbox__gettid() && atomic_load(&gp->phase) == PHASE_DOMAIN;
}

static bool mp_inside(struct ucontext_t *uc)
{
	(void)uc;
	return mp_inside_now();
}

static __thread PKBOX_TLS uintptr_t retry_addr;
static __thread PKBOX_TLS int retry_count;
static __thread PKBOX_TLS uint32_t retry_gen;

/* Another thread is (or just was) inside a compartment and this memory is
 * hidden meanwhile: wait, then try again.  The memory may be visible again
 * by now, so one retry is owed even when the phase is over; a second fault
 * at the same address with nothing hidden is a real one. */
static bool mp_host_fault(struct ucontext_t *uc, const siginfo_t *si)
{
	struct pkbox_gatepage *gp = gatepage();
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)uc;
	if (si->si_code != SEGV_ACCERR || atomic_load(&gp->lock) == (uint32_t)pkbox__gettid())
		return false;
	bool hidden = atomic_load(&gp->phase) == PHASE_DOMAIN;

	while (atomic_load(&gp->phase) == PHASE_DOMAIN)
		syscall(SYS_futex, &gp->phase, 0 /* FUTEX_WAIT */, PHASE_DOMAIN, NULL, NULL, 0);
	/* retries are counted only while nothing was hidden in between */
	uint32_t g = atomic_load(&gp->gen);
	if (hidden || retry_addr != a || retry_gen != g || retry_count++ < 2) {
		if (retry_addr != a || retry_gen != g)
			retry_count = 0;
		retry_addr = a;
		retry_gen = g;
		return true;
	}
	retry_addr = 0;
	retry_count = 0;
	return false;
}

/* ---------------------------------------------------------------- the seal */

static int mp_keys_preallocate(void)
{
	return 0;
}

/* only what the state uses (mp_setup_meta()) */
static uint64_t mp_state_len(void)
{
	return pkbox__gc.meta_len;
}

/* ---------------------------------------------------------------- gate.S's hooks */

/* gate.S calls this just before the switch; not 0: nothing is hidden, and
 * gate.S goes back to the host without entering (EXIT_NOT_ENTERED). */
int pkbox__mp_enter_hook(struct pkbox_frame *f)
{
	f->sw = (struct pkbox_switch){ 0, -1 };
	return mp_enter(f->dom, &f->sw);
}

/* ... and this on the way out, on the thread's exit stack, once the
 * library's state is visible again: everything else, before the host's
 * stack (which may be hidden memory of the host's domain) is used.  What
 * could not be given back stays in f->sw for gate.c to report. */
void pkbox__mp_exit_hook(struct pkbox_frame *f)
{
	f->sw = (struct pkbox_switch){ 0, -1 };
	mp_leave(&f->sw);
}

/* ... and this when the library's own state could not be hidden after
 * the rest (err: the syscall's -errno): the rest is given back. */
void pkbox__mp_undo_hook(struct pkbox_frame *f, long err)
{
	struct pkbox_switch sw = { 0, -1 };

	mp_leave(&sw);
	f->sw = (struct pkbox_switch){ err < 0 && err > -4096 ? (int)-err : ENOMEM, -1 };
}

const struct pkbox_backend_ops pkbox__be_mprotect = {
	.name = "mprotect",
	.id = PKBOX_BACKEND_MPROTECT,
	.gate = PKBOX_GATE_SYSCALL,
	.keyed = false,
	.no_key0 = "the mprotect backend cannot write-protect key-0 memory at each switch",
	.lockfree_calls = false,
	.usable = mp_usable,
	.lib_keys = mp_lib_keys,
	.lock_word = mp_lock_word,
	.setup_meta = mp_setup_meta,
	.dom_key = mp_dom_key,
	.tag = mp_tag,
	.untag = mp_untag,
	.to_key0 = mp_to_key0,
	.share = mp_share,
	.enter = mp_enter,
	.leave = mp_leave,
	.record_publish = mp_record,
	.record_clear = mp_record,
	.call_lock = mp_call_lock,
	.call_unlock = mp_call_unlock,
	.timer_mask = mp_timer_mask,
	.inside = mp_inside,
	.inside_now = mp_inside_now,
	.host_fault = mp_host_fault,
	.keys_preallocate = mp_keys_preallocate,
	.state_len = mp_state_len,
};
