/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain.c - domains: life cycle (create, clear, reset, destroy), handles,
 * the list of live domains, and who owns an address. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "backend.h"
#include "domain.h"
#include "fmt.h"
#include "gate_layout.h"
#include "grants.h"
#include "keys.h"
#include "msg.h"
#include "pages.h"
#include "regions.h"
#include "runs.h"
#include "stacks.h"
#include "state.h"
#include "threads.h"

/* Handles are (generation << 16 | slot + 1): a destroyed domain's handle
 * never names the domain that later takes its slot. */
struct pkbox_domain *pkbox__dom_handle(const struct pkbox_dom *d)
{
	return (struct pkbox_domain *)(uintptr_t)(((uintptr_t)d->gen << 16) | (uintptr_t)(d->idx + 1));
}

struct pkbox_dom *pkbox__dom_get(const struct pkbox_domain *h, int *err)
{
	struct pkbox_dom *d = pkbox__dom_named(h);

	if (!h) {
		*err = pkbox__err(-EINVAL, "domain handle is NULL");
		return NULL;
	}
	if (!d)
		*err = pkbox__err(-ENOENT, "unknown or destroyed domain %p", (void *)h);
	return d;
}

/* ---------------------------------------------------------------- life cycle */

static struct pkbox_dom *dom_slot(void)
{
	uint64_t free = ~pkbox__dom_live_mask() & ~1ULL;

	if (PKBOX_MAX_DOMAINS < 64)
		free &= (1ULL << (PKBOX_MAX_DOMAINS & 63)) - 1;
	return free ? &pkbox__st->doms[__builtin_ctzll(free)] : NULL;
}

int pkbox__dom_create(const char *name, size_t quota, struct pkbox_dom **out)
{
	struct pkbox_dom *d = dom_slot();

	if (!quota)
		quota = pkbox__st->default_quota;
	if (quota > PKBOX_SLOT_SIZE / 2)
		return pkbox__err(-EINVAL, "pkbox_domain_create: quota larger than %lu MiB", PKBOX_SLOT_SIZE / 2 >> 20);
	if (!d)
		return pkbox__err(-ENOSPC, "pkbox_domain_create: all %d domain slots are in use", PKBOX_MAX_DOMAINS - 1);
	int key = pkbox__be->dom_key();
	if (key == -ENOSPC)
		return pkbox__err(-ENOSPC, "pkbox_domain_create(%s): no protection key left", name);
	uint32_t gen = d->gen + 1;
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->gen = gen ? gen : 1;
	d->idx = (int)(d - pkbox__st->doms);
	d->pkey = key;
	pkbox__fmt(d->name, sizeof(d->name), "%s", name);
	d->quota = quota;
	d->next = pkbox__slot_lo(d->idx) + PAGE;
	d->pkru = pkbox__dom_pkru(d);
	d->pkru_seen = 0;
	pkbox__keys_note(d);
	pkbox__st->dom_live |= 1ULL << d->idx;
	pkbox__dom_callable(d, true);
	*out = d;
	return 0;
}

/* Frees every allocation and stack of d and the grants to it; keeps the
 * domain.  The domains whose PKRU that changes, one bit per slot. */
static uint64_t dom_clear(struct pkbox_dom *d)
{
	uint64_t touched = 1ULL << d->idx;
	int r, n;

	while ((r = pkbox__dom_regions_first(d->idx)) >= 0)
		touched |= pkbox__region_release(r);
	pkbox__runs_clear(d);
	/* grants to d from others go too */
	while ((n = pkbox__grants_to_first(d->idx)) >= 0)
		pkbox__grant_drop(PKBOX_GRANT_REGION(n), PKBOX_GRANT_K(n));
	/* give the whole slot back: mmap over it also resets the keys */
	pkbox__reset_range(pkbox__slot_lo(d->idx), PKBOX_SLOT_SIZE);
	pkbox__be->untag(pkbox__slot_lo(d->idx), PKBOX_SLOT_SIZE);
	d->next = pkbox__slot_lo(d->idx) + PAGE;
	d->used_bytes = 0;
	if (pkbox__arena_dir()[d->idx]) {
		uintptr_t none = 0;

		pkbox__arena_release(d);
		pkbox__dir_store(&pkbox__arena_dir()[d->idx], &none, sizeof(none));
	}
	return touched;
}

/* Calls may enter d (or not) without the lock (gate.c): its handle where
 * pkbox_call() compares it, or 0. */
void pkbox__dom_callable(struct pkbox_dom *d, bool on)
{
	__atomic_store_n(&d->call_handle, on ? (uint64_t)(uintptr_t)pkbox__dom_handle(d) : 0, __ATOMIC_RELEASE);
}

/* (under the lock, after whose full barrier a call that entered without it
 * is counted: lock.c) */
static int dom_busy(struct pkbox_dom *d)
{
	if (__atomic_load_n(&d->active, __ATOMIC_SEQ_CST))
		return pkbox__err(-EBUSY, "domain %s: a thread is inside it", d->name);
	return 0;
}

int pkbox__dom_destroy(struct pkbox_dom *d)
{
	if (d->idx == 0)
		return pkbox__err(-EINVAL, "the host domain cannot be destroyed");
	int rc = dom_busy(d);
	if (rc)
		return rc;
	pkbox__dom_callable(d, false);
	uint64_t touched = dom_clear(d);
	pkbox__stacks_release(d);
	pkbox__pkey_free(d->pkey);
	d->used = false;
	d->pkey = -1;
	pkbox__st->dom_live &= ~(1ULL << d->idx);
	pkbox__pkru_update(touched);
	return 0;
}

int pkbox__dom_reset(struct pkbox_dom *d)
{
	if (!d->idx)
		return pkbox__err(-EINVAL, "pkbox_domain_reset: the host domain cannot be reset");
	int rc = dom_busy(d);

	if (rc)
		return rc;
	uint64_t touched = dom_clear(d);
	d->faulted = false;
	d->has_fault = false;
	pkbox__stacks_unready(d);
	pkbox__pkru_update(touched);
	pkbox__dom_callable(d, true);
	return 0;
}

int pkbox__dom_pkey(const struct pkbox_dom *d)
{
	if (d->pkey < 0)
		return pkbox__err(-ENOTSUP, "domain %s has no protection key (the %s backend)", d->name,
				  pkbox__be->name);
	return d->pkey;
}

int pkbox__dom_free(struct pkbox_dom *d, void *ptr)
{
	int r = pkbox__region_find((uintptr_t)ptr);

	if (r >= 0 && pkbox__st->regions[r].cls)
		return pkbox__run_free(d, r, ptr, "pkbox_free");
	r = pkbox__region_of_ptr(d, ptr, "pkbox_free");

	if (r < 0)
		return r;
	if (pkbox__st->regions[r].ngrants && __atomic_load_n(&d->active, __ATOMIC_SEQ_CST))
		return pkbox__err(-EBUSY, "pkbox_free: %p is granted and its domain is running", ptr);
	pkbox__pkru_update(pkbox__region_release(r));
	return 0;
}

/* ---------------------------------------------------------------- owners */

struct pkbox_dom *pkbox__dom_of(uintptr_t a)
{
	int r = pkbox__region_find(a);

	if (r >= 0 && pkbox__st->regions[r].cls && !pkbox__run_holds(r, a, 1))
		return NULL; /* between live objects of a run */
	if (r >= 0)
		return &pkbox__st->doms[pkbox__st->regions[r].dom];
	int row = pkbox__stack_row_of(a);
	return row >= 0 && pkbox__st->doms[row].used ? &pkbox__st->doms[row] : NULL;
}

static bool library_addr(uintptr_t a)
{
	const struct pkbox_gatecfg *gc = &pkbox__gc;

	return (a >= PKBOX_GC_ADDR && a < PKBOX_GC_ADDR + PAGE) || (a >= gc->gatepage && a < gc->gatepage + PAGE) ||
	       (a >= gc->tdir && a < gc->tdir + PAGE) || (a >= gc->records_lo && a < gc->slots_lo - 16 * PAGE) ||
	       (a >= gc->jit_rw && a < gc->jit_rw + PKBOX_JIT_SIZE);
}

void pkbox__owner_name(uintptr_t a, char *buf, size_t len, int *key)
{
	int r = pkbox__region_find(a), row = pkbox__stack_row_of(a);

	*key = -1;
	buf[0] = 0;
	if (r >= 0) {
		struct pkbox_region *g = &pkbox__st->regions[r];

		pkbox__fmt(buf, len, "%s", pkbox__st->doms[g->dom].name);
		*key = g->gkey >= 0 ? g->gkey : pkbox__st->doms[g->dom].pkey;
	} else if (row >= 0) {
		pkbox__fmt(buf, len, "%s", pkbox__st->doms[row].name);
		*key = pkbox__st->doms[row].pkey;
	} else if (a >= pkbox__gc.meta_lo && a < pkbox__gc.meta_lo + pkbox__gc.meta_len) {
		pkbox__fmt(buf, len, "library");
		*key = pkbox__gc.key_h;
	} else if (library_addr(a)) {
		pkbox__fmt(buf, len, "library");
		if (a >= pkbox__gc.records_lo && a < pkbox__gc.slots_lo)
			*key = pkbox__gc.key_r;
		else
			*key = a >= pkbox__gc.jit_rw ? pkbox__gc.key_h : 0;
	} else if (a >= pkbox__gc.pool_lo && a < pkbox__gc.pool_hi) {
		pkbox__fmt(buf, len, "guard");
	}
}
