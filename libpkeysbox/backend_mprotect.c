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
#include <time.h>
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

/* the gate page's words as everyone reads them: the read-only view, there
 * while a compartment runs (state.h) */
static const struct pkbox_gatepage *gatepage(void)
{
	return (const struct pkbox_gatepage *)pkbox__gc.gatepage;
}

/* ... and as the host writes them: the view hidden with the state */
static struct pkbox_gatepage *gatepage_rw(void)
{
	return (struct pkbox_gatepage *)pkbox__gc.gatepage_rw;
}

/* The waiting room, the page after the gate page: how many threads wait
 * for the phase to end, so that the end of a switch makes the wake-up
 * call only when one does.  Writable always (the waiters count themselves
 * while everything else is hidden), so a compartment can write it too:
 * too high costs a needless wake-up, too low a missed one, which the
 * waiters' timeout (WAIT_NS) bounds. */
static _Atomic uint32_t *waitroom(void)
{
	return (_Atomic uint32_t *)(pkbox__gc.gatepage + PAGE);
}

#define WAIT_NS 10000000L /* 10 ms */

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

/* in the gate page: a thread that wants it while a compartment runs
 * faults (or its futex_wait fails where the word is hidden) and is parked
 * by the fault handler until the call is over (lock.c) */
static struct pkbox_lock *mp_lock_word(void)
{
	return &gatepage_rw()->mu;
}

#define HUGE (2UL << 20)

/* The state in huge pages where the kernel has them.  gate.S hides and
 * shows it at every switch, and mprotect's cost is per page table entry
 * walked: in small pages, each 2 MiB the state has touched is a table of
 * 512 entries to walk (a round trip 4 to 5 times one mprotect pair on one
 * page); in huge ones, one entry each, and a round trip is little more
 * than that pair.  The price: what the state touched is resident by
 * 2 MiB (4 MiB after set-up, 10 MiB at most: meta_len rounded up to
 * 2 MiB).  Nothing fails where there are none (MADV_COLLAPSE: Linux 6.1;
 * transparent huge pages off): small pages, as before. */
static void meta_huge(struct pkbox_gatecfg *gc)
{
	uint64_t len = (gc->meta_len + HUGE - 1) & ~(HUGE - 1);

	if (len > PKBOX_META_SIZE || (gc->meta_lo & (HUGE - 1)))
		return;
	gc->meta_len = len;
	madvise((void *)gc->meta_lo, len, MADV_HUGEPAGE);
	madvise((void *)gc->meta_lo, len, 25 /* MADV_COLLAPSE */);
}

/* The gate page: one page of a memfd, writable right after the state (so
 * that gate.S hides and shows both with one mprotect: the lock words are
 * out of a compartment's reach without a call of their own) and read-only
 * at gc->gatepage (readable always: the fault handler reads the words,
 * threads wait on them).  meta_len then covers the writable view.  The
 * memfd is closed: nothing maps it again (the seal checks). */
static int gate_views(struct pkbox_gatecfg *gc)
{
	uintptr_t rw_at = gc->meta_lo + gc->meta_len;
	int fd = memfd_create("pkbox-gate", MFD_CLOEXEC);

	if (fd < 0)
		return pkbox__err(-errno, "cannot create the gate page: %s", pkbox__strerror(errno));
	void *rw = ftruncate(fd, PAGE) ? MAP_FAILED
				       : mmap((void *)rw_at, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	void *ro = rw == MAP_FAILED ? MAP_FAILED
				    : mmap((void *)gc->gatepage, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	int e = errno;

	close(fd);
	/* new mappings over the pool: kept from child processes like the rest */
	if (ro == MAP_FAILED || madvise(rw, PAGE, MADV_DONTFORK) || madvise(ro, PAGE, MADV_DONTFORK))
		return pkbox__err(-ENOMEM, "cannot map the gate page: %s",
				  pkbox__strerror(ro == MAP_FAILED ? e : errno));
	gc->gatepage_rw = rw_at;
	gc->meta_len += PAGE;
	return 0;
}

/* Anything may be visible before the first entry: it hides every live
 * domain and the code area's writable view.  By default every exit gives
 * the host all its memory back (eager); gc->mp_lazy (PKBOX_F_MP_LAZY,
 * PKBOX_MP_LAZY=1, chosen by init.c) leaves it hidden until its first
 * touch.  What the state does not use goes back to the reservation, so
 * that the part gate.S hides and shows is one whole mapping (no split at
 * a switch: see mp_tag()). */
static int mp_setup_meta(struct pkbox_gatecfg *gc)
{
	pkbox__st->mp.whole = ~0ULL;
	pkbox__st->mp.jit = true;
	meta_huge(gc);
	if (gc->meta_len + PAGE > PKBOX_META_SIZE)
		return pkbox__err(-ENOMEM, "library state does not fit its area");
	uintptr_t rest = gc->meta_lo + gc->meta_len + PAGE;

	if ((rest < gc->meta_lo + PKBOX_META_SIZE &&
	     (mprotect((void *)rest, gc->meta_lo + PKBOX_META_SIZE - rest, PROT_NONE) ||
	      madvise((void *)rest, gc->meta_lo + PKBOX_META_SIZE - rest, MADV_DODUMP))) ||
	    mprotect((void *)(gc->gatepage + PAGE), PAGE, PROT_READ | PROT_WRITE))
		return pkbox__err(-errno, "cannot set up the library's memory: %s", pkbox__strerror(errno));
	return gate_views(gc);
}

/* ---------------------------------------------------------------- memory */

#define OWNER_NONE -1    /* the library's own memory, or none */
#define OWNER_JIT -2     /* the code area's writable view */
#define OWNER_OUTSIDE -3 /* outside the pool: a plugin's segment perhaps */

/* Whose memory is at a, from the address alone (nothing of the state is
 * read): a domain's index (its slot, its stacks' row) or OWNER_*. */
static int mp_owner_quick(uintptr_t a)
{
	const struct pkbox_gatecfg *gc = &pkbox__gc;

	if (a - gc->slots_lo < (uintptr_t)PKBOX_MAX_DOMAINS * PKBOX_SLOT_SIZE)
		return (int)((a - gc->slots_lo) / PKBOX_SLOT_SIZE);
	if (a - gc->stacks_lo < gc->stacks_dom_span)
		return (int)(((a - gc->stacks_lo) >> gc->stride_shift) / PKBOX_MAX_THREADS);
	if (a - gc->jit_rw < PKBOX_JIT_SIZE)
		return OWNER_JIT;
	return a >= gc->pool_lo && a < gc->pool_hi ? OWNER_NONE : OWNER_OUTSIDE;
}

/* ... and outside the pool, from the region table (the state readable) */
static int mp_owner(uintptr_t a)
{
	int o = mp_owner_quick(a);

	if (o != OWNER_OUTSIDE)
		return o;
	int r = pkbox__gc.initialized ? pkbox__region_find(a) : -1;
	return r >= 0 ? pkbox__st->regions[r].dom : OWNER_NONE;
}

/* memory at a was made accessible outside a switch (a new region, a
 * stack, a plugin's segment): its domain is hidden whole at the next
 * entry into another one; not known: all of them */
static void mp_visible(uintptr_t a)
{
	if (!pkbox__gc.st)
		return; /* set-up: mp_setup_meta() starts with all of it */
	int o = mp_owner(a);

	if (o == OWNER_JIT)
		pkbox__st->mp.jit = true;
	else if (a >= pkbox__gc.meta_lo && a - pkbox__gc.meta_lo < PKBOX_META_SIZE)
		return; /* the library's own state, at set-up */
	else
		pkbox__st->mp.whole |= o >= 0 ? 1ULL << o : ~0ULL;
}

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
	if (pkbox__mprotect((void *)base, len, prot))
		return -1;
	if (prot != PROT_NONE)
		mp_visible(base);
	return 0;
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

/* a region's protection for its owner (and the host) */
static int full_prot(const struct pkbox_region *g)
{
	return g->foreign ? g->prot : PROT_READ | PROT_WRITE;
}

/* Domain i's memory, visible again: region by region (what mp_hide_dom()
 * hid slot-wide stays hidden between them: freed memory), and its stacks. */
static void mp_show_dom(struct pkbox_switch *sw, int i)
{
	struct pkbox_state *st = pkbox__st;
	const struct pkbox_dom *o = &st->doms[i];

	for (int r = pkbox__dom_regions_first(i); r >= 0; r = pkbox__region_next_of_dom(r)) {
		const struct pkbox_region *g = &st->regions[r];

		mp_show(sw, i, g->base, g->pages * PAGE, full_prot(g));
	}
	for (int w = 0; w < PKBOX_MAX_THREADS / 64; w++)
		for (uint64_t b = o->stacks_mapped[w]; b; b &= b - 1) {
			int ti = w * 64 + __builtin_ctzll(b);

			mp_show(sw, i, pkbox__stack_top(i, ti) - pkbox__gc.stack_size, pkbox__gc.stack_size,
				PROT_READ | PROT_WRITE);
		}
}

/* The end of a switch: the phase over, waiting host threads woken (only
 * where one counted itself: the phase's store comes before the count's
 * load, as the waiter's count comes before its phase's load), the library
 * lock released. */
static void mp_done(void)
{
	struct pkbox_gatepage *gp = gatepage_rw();

	atomic_store(&gp->phase, PHASE_HOST);
	if (atomic_load(waitroom()))
		syscall(SYS_futex, &gp->phase, 1 /* FUTEX_WAKE */, 0x7fffffff, NULL, NULL, 0);
	pkbox__unlock();
}

/* Everything the host may touch, visible again (each exit unless lazy, or an
 * entry that could not hide it all); the library lock is still held.
 * Walks the live domains not all visible yet and their own lists only. */
static void mp_show_all(struct pkbox_switch *sw)
{
	struct pkbox_state *st = pkbox__st;
	uint64_t live = pkbox__dom_live_mask();

	for (uint64_t m = live & ~st->mp.open; m; m &= m - 1)
		mp_show_dom(sw, __builtin_ctzll(m));
	st->mp.open = st->mp.whole = live;
	st->mp.nshown = 0;
	mp_done();
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

/* region r was made visible one by one: hidden at the next entry (into a
 * domain other than its owner), or, the list full, its owner whole */
static void mp_note_shown(int r)
{
	struct pkbox_state *st = pkbox__st;

	if (st->mp.nshown < PKBOX_MP_SHOWN)
		st->mp.shown[st->mp.nshown++] = (int16_t)r;
	else
		st->mp.whole |= 1ULL << st->regions[r].dom;
}

/* What an entry into d must hide: the domains that may have memory
 * visible, whole (slot, stacks' row, plugin segments), then the regions
 * shown one by one since the last entry, d's own excepted. */
static int mp_hide_rest(struct pkbox_switch *sw, int d)
{
	struct pkbox_state *st = pkbox__st;
	uint64_t live = pkbox__dom_live_mask(), hide = st->mp.whole & live & ~(1ULL << d);
	int bad = 0;

	/* no longer all visible, before any is hidden: if hiding fails
	 * midway, mp_show_all() gives back every one of them */
	st->mp.open &= ~hide;
	for (uint64_t m = hide; m && !bad; m &= m - 1)
		bad |= mp_hide_dom(sw, __builtin_ctzll(m));
	for (int k = 0; k < st->mp.nshown && !bad; k++) {
		const struct pkbox_region *g = &st->regions[st->mp.shown[k]];

		if (g->used && g->dom != d && (live & ~hide & (1ULL << g->dom)))
			bad |= mp_set(sw, g->dom, g->base, g->pages * PAGE, PROT_NONE);
	}
	if (!bad && st->mp.jit)
		bad |= mp_set(sw, -1, pkbox__gc.jit_rw, PKBOX_JIT_SIZE, PROT_NONE);
	if (bad)
		return bad;
	st->mp.whole &= ~hide;
	st->mp.nshown = 0;
	st->mp.jit = false;
	return 0;
}

/* Called by gate.S with host rights right before the switch, on the
 * thread's exit stack in meta, which gate.S hides right after (nothing of
 * the library is touched then).
 * Lazy: only what may be visible is hidden (mp_hide_rest()), and d's own
 * memory is shown only where an entry into another domain hid it; on the
 * way out nothing is shown (mp_leave()): the host's first touch of hidden
 * memory faults and the fault handler shows it (mp_show_lazily()).
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
	struct pkbox_gatepage *gp = gatepage_rw();
	uint64_t me = 1ULL << dom->idx;
	int bad;

	pkbox__lock();
	atomic_fetch_add(&gp->gen, 1);
	atomic_store(&gp->phase, PHASE_DOMAIN);
	bad = mp_hide_rest(sw, dom->idx);
	if (!bad && !(st->mp.open & me)) {
		mp_show_dom(sw, dom->idx);
		bad = sw->err != 0;
		if (!bad)
			st->mp.open |= me;
	}
	st->mp.whole |= me;
	/* then what is granted to dom: inside the slots just hidden */
	for (int n = pkbox__grants_to_first(dom->idx); n >= 0 && !bad; n = pkbox__grants_to_next(n)) {
		const struct pkbox_region *g = &st->regions[PKBOX_GRANT_REGION(n)];

		mp_note_shown(PKBOX_GRANT_REGION(n));
		bad |= mp_set(sw, g->dom, g->base, g->pages * PAGE,
			      g->grants[PKBOX_GRANT_K(n)].access == PKBOX_ACCESS_RW ? PROT_READ | PROT_WRITE : PROT_READ);
	}
	if (!bad)
		return 0; /* meta last, by gate.S (the gate page's writable view
			   * with it): this runs on a stack in there */
	/* no compartment code runs: the host gets back what was hidden */
	int err = sw->err;
	mp_show_all(sw);
	sw->err = err;
	return -err;
}

/* After gate.S gave meta back (the gate page's writable view with it):
 * everything else (lazy: nothing); 0, or -errno with the details in *sw:
 * memory the host may find missing. */
static int mp_leave(struct pkbox_switch *sw)
{
	/* the lock taken in mp_enter() is still held; sealed without
	 * rt_sigreturn, the host could not return from the fault handler that
	 * shows hidden memory: it gets all of it back here, lazy or not */
	if (!pkbox__gc.mp_lazy || pkbox__gc.strict) {
		mp_show_all(sw);
		return -sw->err;
	}
	mp_done();
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

/* The code area's writable view: PROT_NONE but while the library writes
 * a commit (jit.c, under the library lock, never while a thread is
 * inside), so no switch hides or shows it.  Left visible (a change that
 * failed), it is noted: the next entry hides it (mp_hide_rest()). */
static int mp_code_write(bool on)
{
	if (pkbox__mprotect((void *)pkbox__gc.jit_rw, PKBOX_JIT_SIZE, on ? PROT_READ | PROT_WRITE : PROT_NONE)) {
		pkbox__st->mp.jit = true;
		return pkbox__err(-errno, "cannot %s the code area's writable view: %s", on ? "open" : "close",
				  pkbox__strerror(errno));
	}
	pkbox__st->mp.jit = on;
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

/* the gate lock's word: the holder's tid, and this bit while others wait */
#define LOCK_WAITERS 0x80000000u

/* One compartment call at a time, process-wide: taken around an outermost
 * call, in the gate page (its writable view is hidden with the library's
 * state: a thread that touches it then is parked by the fault handler). */
static void mp_call_lock(void)
{
	struct pkbox_gatepage *gp = gatepage_rw();
	uint32_t me = (uint32_t)pkbox__gettid();

	for (;;) {
		uint32_t cur = atomic_load(&gp->lock);

		if (cur == 0) {
			if (atomic_compare_exchange_strong(&gp->lock, &cur, me))
				return;
			continue;
		}
		if (!(cur & LOCK_WAITERS) && !atomic_compare_exchange_strong(&gp->lock, &cur, cur | LOCK_WAITERS))
			continue;
		syscall(SYS_futex, &gp->lock, 0 /* FUTEX_WAIT */, cur | LOCK_WAITERS, NULL, NULL, 0);
		/* woken: take it marked, there may be others still waiting */
		me |= LOCK_WAITERS;
	}
}

/* (no wake-up syscall where nobody waits) */
static void mp_call_unlock(void)
{
	struct pkbox_gatepage *gp = gatepage_rw();

	if (atomic_exchange(&gp->lock, 0) & LOCK_WAITERS)
		syscall(SYS_futex, &gp->lock, 1 /* FUTEX_WAKE */, 0x7fffffff, NULL, NULL, 0);
}

/* the gate lock is this thread's */
static bool mp_lock_mine(void)
{
	return (atomic_load(&gatepage()->lock) & ~LOCK_WAITERS) == (uint32_t)pkbox__gettid();
}

/* ---------------------------------------------------------------- faults */

/* this thread holds the gate lock and is inside */
static bool mp_inside_now(void)
{
	return mp_lock_mine() && atomic_load(&gatepage()->phase) == PHASE_DOMAIN;
}

static bool mp_inside(struct ucontext_t *uc)
{
	(void)uc;
	return mp_inside_now();
}

/* a host thread touched domain stack memory at a: that stack shown, if
 * it is one (its domain is then hidden whole at the next entry) */
static bool mp_show_stack(struct pkbox_switch *sw, uintptr_t a)
{
	uint64_t slot = (a - pkbox__gc.stacks_lo) >> pkbox__gc.stride_shift;
	int row = (int)(slot / PKBOX_MAX_THREADS), ti = (int)(slot % PKBOX_MAX_THREADS);
	uintptr_t top = pkbox__stack_top(row, ti);

	if (!(pkbox__dom_live_mask() & (1ULL << row)) ||
	    !(pkbox__st->doms[row].stacks_mapped[ti / 64] & (1ULL << (ti % 64))) || a < top - pkbox__gc.stack_size)
		return false;
	mp_show(sw, row, top - pkbox__gc.stack_size, pkbox__gc.stack_size, PROT_READ | PROT_WRITE);
	pkbox__st->mp.whole |= 1ULL << row;
	return true;
}

/* what the host faulted at (o: mp_owner_quick()), shown; the lock held */
static bool mp_show_at(struct pkbox_switch *sw, uintptr_t a, int o)
{
	struct pkbox_state *st = pkbox__st;
	int r = pkbox__region_find(a);

	if (r >= 0) {
		mp_show(sw, st->regions[r].dom, st->regions[r].base, st->regions[r].pages * PAGE,
			full_prot(&st->regions[r]));
		mp_note_shown(r);
		/* a hole in it (unsealed, a compartment unmapped a page): the
		 * page touched alone (a split, in this failure only; the next
		 * entry's hiding of the region fails closed) */
		if (sw->err && !pkbox__mprotect((void *)(a & ~(PAGE - 1)), PAGE, full_prot(&st->regions[r])))
			sw->err = 0;
		return true;
	}
	return o >= 0 && a - pkbox__gc.stacks_lo < pkbox__gc.stacks_dom_span && mp_show_stack(sw, a);
}

/* The host's first touch of memory an entry hid (the lazy switch): shown
 * again, as the host has it, under the library lock (recursive: this
 * thread may hold it, faulting in library code; it is never held while
 * waiting for the gate lock) and only while no thread is inside.  Memory
 * of no domain (guards, freed memory, the library's own) is not. */
static bool mp_show_lazily(uintptr_t a)
{
	struct pkbox_switch sw = { 0, -1 };
	int o = mp_owner_quick(a);
	bool done = false;

	if (o == OWNER_NONE)
		return false;
	pkbox__lock();
	if (atomic_load(&gatepage()->phase) == PHASE_HOST)
		done = mp_show_at(&sw, a, o);
	pkbox__unlock();
	return done && !sw.err;
}

/* until no thread is inside (another thread's call), counted in the
 * waiting room (mp_done() wakes only then); a wake-up missed (the count
 * rewritten) costs WAIT_NS at most */
static void mp_wait_phase(const struct pkbox_gatepage *gp)
{
	struct timespec ts = { 0, WAIT_NS };

	atomic_fetch_add(waitroom(), 1);
	while (atomic_load(&gp->phase) == PHASE_DOMAIN && !mp_lock_mine())
		syscall(SYS_futex, &gp->phase, 0 /* FUTEX_WAIT */, PHASE_DOMAIN, &ts, NULL, 0);
	atomic_fetch_sub(waitroom(), 1);
}

static __thread PKBOX_TLS uintptr_t retry_addr;
static __thread PKBOX_TLS int retry_count;
static __thread PKBOX_TLS uint32_t retry_gen;

/* Memory hidden: by another thread's call (wait for its end, then try
 * again), or, lazy, since the last call (shown, then tried again; the
 * gate lock's holder too, in a host callback).  The memory may be visible
 * again by now, so one retry is owed even when the phase is over; eager, a
 * new address is always tried again and a fourth fault at the same one
 * with nothing hidden in between is a real one; lazy, the third. */
static bool mp_host_fault(struct ucontext_t *uc, const siginfo_t *si, bool in_pool)
{
	const struct pkbox_gatepage *gp = gatepage();
	uintptr_t a = (uintptr_t)si->si_addr;
	bool lazy = pkbox__gc.mp_lazy;

	(void)uc;
	/* outside the pool only a plugin's segment, hidden lazily */
	if (!in_pool && !lazy)
		return false;
	if (si->si_code != SEGV_ACCERR || (lazy ? mp_inside_now() : mp_lock_mine()))
		return false;
	bool hidden = atomic_load(&gp->phase) == PHASE_DOMAIN && !mp_lock_mine();

	if (hidden)
		mp_wait_phase(gp);
	/* retries are counted only while nothing was hidden in between */
	uint32_t g = atomic_load(&gp->gen);
	if (retry_addr != a || retry_gen != g) {
		retry_count = 0;
		retry_addr = a;
		retry_gen = g;
		if (!lazy)
			return true;
	}
	if (hidden)
		return true;
	if (retry_count++ < 2) {
		if (lazy)
			mp_show_lazily(a);
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

/* what the lazy switch left hidden, shown (the host's rights: under the
 * library lock, no thread inside); eager, nothing is left hidden */
static int mp_settle(void)
{
	struct pkbox_switch sw = { 0, -1 };

	if (!pkbox__gc.mp_lazy)
		return 0;
	pkbox__lock();
	mp_show_all(&sw);
	return -sw.err;
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
	.gatepage_prot = PROT_READ, /* its writable view: the state's last page */
	.waitroom_prot = PROT_READ | PROT_WRITE,
	.code_view_prot = PROT_NONE, /* but while a commit is written */
	.usable = mp_usable,
	.lib_keys = mp_lib_keys,
	.lock_word = mp_lock_word,
	.setup_meta = mp_setup_meta,
	.dom_key = mp_dom_key,
	.tag = mp_tag,
	.untag = mp_untag,
	.to_key0 = mp_to_key0,
	.share = mp_share,
	.code_write = mp_code_write,
	.enter = mp_enter,
	.leave = mp_leave,
	.record_publish = mp_record,
	.record_clear = mp_record,
	.call_lock = mp_call_lock,
	.call_unlock = mp_call_unlock,
	.timer_how = SIG_BLOCK, /* opened by gate.S once the host's memory is hidden, blocked on the way out */
	.inside = mp_inside,
	.inside_now = mp_inside_now,
	.host_fault = mp_host_fault,
	.keys_preallocate = mp_keys_preallocate,
	.state_len = mp_state_len,
	.settle = mp_settle,
};
