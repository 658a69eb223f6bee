/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* grants.c - grants: an allocation shared with other domains, readable or
 * writable there, taken back at once by a revoke; and the PKRU value each
 * domain's memory and grants imply, recomputed for the domains a change
 * touches only. */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>

#include "backend.h"
#include "fmt.h"
#include "grants.h"
#include "keys.h"
#include "msg.h"
#include "pages.h"
#include "regions.h"
#include "state.h"

#define RG(r) (&pkbox__st->regions[r])

static uint32_t pkru_open(uint32_t p, int key)
{
	return key > 0 ? p & ~(3u << (2 * key)) : p;
}

static uint32_t pkru_set(uint32_t p, int key, uint32_t bits)
{
	return key > 0 ? (p & ~(3u << (2 * key))) | (bits << (2 * key)) : p;
}

/* Inside a domain: key 0, its own key and its grants; the library key
 * access- and write-disabled (the pattern the fault handler recognizes a
 * compartment by), the record key write-disabled.  O(its regions + the
 * grants to it). */
uint32_t pkbox__dom_pkru(const struct pkbox_dom *d)
{
	uint32_t p = 0x55555555u & ~3u;

	p = pkru_open(p, d->pkey);
	for (int r = pkbox__dom_regions_first(d->idx); r >= 0; r = pkbox__region_next_of_dom(r))
		if (RG(r)->gkey >= 0)
			p = pkru_open(p, RG(r)->gkey);
	for (int n = pkbox__grants_to_first(d->idx); n >= 0; n = pkbox__grants_to_next(n)) {
		const struct pkbox_region *g = RG(PKBOX_GRANT_REGION(n));

		if (g->gkey >= 0)
			p = pkru_set(p, g->gkey, g->grants[PKBOX_GRANT_K(n)].access == PKBOX_ACCESS_RW ? 0 : 2);
	}
	p = pkru_set(p, pkbox__gc.key_h, 3);
	p = pkru_set(p, pkbox__gc.key_r, 2);
	if (pkbox__gc.key0_ro)
		p |= 2; /* key 0: read-only (see init.c) */
	return p;
}

void pkbox__pkru_update(uint64_t mask)
{
	for (mask &= ~1ULL; mask; mask &= mask - 1) {
		struct pkbox_dom *d = &pkbox__st->doms[__builtin_ctzll(mask)];

		if (d->used) {
			d->pkru = pkbox__dom_pkru(d);
			pkbox__keys_note(d);
		}
	}
}

static int grant_check(struct pkbox_dom *o, void *ptr, struct pkbox_dom *t)
{
	if (o == t)
		return pkbox__err(-EINVAL, "pkbox_grant: a domain cannot grant to itself");
	if (t->idx == 0)
		return pkbox__err(-EINVAL, "pkbox_grant: the host has access to everything already");
	if (!ptr)
		return pkbox__err(-EINVAL, "pkbox_grant: ptr is NULL");
	int r = pkbox__region_find((uintptr_t)ptr);
	if (r >= 0 && RG(r)->cls && RG(r)->dom == o->idx)
		return pkbox__err(-EINVAL,
				  "pkbox_grant: %p is packed with other objects on its pages (a grant would expose them): "
				  "allocate it with pkbox_malloc_flags(..., PKBOX_MALLOC_GUARD) to grant it",
				  ptr);
	r = pkbox__region_of_ptr(o, ptr, "pkbox_grant");
	if (r >= 0 && pkbox__grant_find(r, t->idx) < 0 && RG(r)->ngrants == PKBOX_MAX_GRANTS)
		return pkbox__err(-ENOSPC, "pkbox_grant: %p is granted to %d domains already", ptr, PKBOX_MAX_GRANTS);
	return r;
}

int pkbox__grant(struct pkbox_dom *o, void *ptr, struct pkbox_dom *t, int access)
{
	int r = grant_check(o, ptr, t);

	if (r < 0)
		return r;
	struct pkbox_region *g = RG(r);
	/* (pku: the region gets a key of its own: a key is per page, rights per domain) */
	int rc = pkbox__be->share(g);

	if (rc == -ENOSPC)
		return pkbox__err(-ENOSPC, "pkbox_grant: no protection key left for the shared region");
	if (rc)
		return pkbox__err(rc, "pkbox_grant: pkey_mprotect failed: %s", pkbox__strerror(-rc));
	pkbox__grant_set(r, t->idx, access);
	pkbox__pkru_update(1ULL << o->idx | 1ULL << t->idx);
	return 0;
}

int pkbox__revoke(struct pkbox_dom *o, void *ptr, struct pkbox_dom *t)
{
	int r = ptr ? pkbox__region_of_ptr(o, ptr, "pkbox_revoke") : pkbox__err(-EINVAL, "pkbox_revoke: ptr is NULL");

	if (r < 0)
		return r;
	struct pkbox_region *g = RG(r);
	int k = pkbox__grant_find(r, t->idx);
	if (k < 0)
		return pkbox__err(-ENOENT, "pkbox_revoke: %p is not granted to %s", ptr, t->name);
	if (g->gkey >= 0) {
		/* Retag at once, so a thread already inside the grantee loses
		 * access now: with the owner's key if nobody else has it, else
		 * with a fresh key for the remaining grantees. */
		int key = g->ngrants > 1 ? pkbox__pkey_alloc() : -1;

		if (g->ngrants > 1 && key < 0)
			return pkbox__err(-ENOSPC, "pkbox_revoke: no key left to re-share the region");
		pkbox__be->tag(g->base, g->pages * PAGE, PROT_READ | PROT_WRITE, key >= 0 ? key : o->pkey);
		pkbox__pkey_free(g->gkey);
		g->gkey = key;
	}
	pkbox__grant_drop(r, k);
	pkbox__pkru_update(1ULL << o->idx | 1ULL << t->idx | pkbox__region_grantees(r));
	return 0;
}
