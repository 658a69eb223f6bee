/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pages.c - a domain's page allocator: page-granular allocations and the
 * runs of packed objects (runs.c) in the domain's slot of the pool, each
 * followed by a guard page, the lowest gap that fits reused; segments
 * outside the pool adopted into the domain; frees that zero the pages and
 * make them fault. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "backend.h"
#include "keys.h"
#include "msg.h"
#include "pages.h"
#include "regions.h"
#include "state.h"

#define RG(r) (&pkbox__st->regions[r])

uintptr_t pkbox__slot_lo(int idx)
{
	return pkbox__gc.slots_lo + (uintptr_t)idx * PKBOX_SLOT_SIZE;
}

int pkbox__region_of_ptr(const struct pkbox_dom *d, const void *ptr, const char *fn)
{
	int r = pkbox__region_find((uintptr_t)ptr);

	if (r >= 0 && RG(r)->user == (uintptr_t)ptr) {
		if (RG(r)->dom != d->idx)
			return pkbox__err(-EINVAL, "%s: %p belongs to domain %s, not %s", fn, ptr,
					  pkbox__st->doms[RG(r)->dom].name, d->name);
		return r;
	}
	return pkbox__err(-EINVAL, "%s: %p is not a live allocation of domain %s (double free or foreign pointer?)",
			  fn, ptr, d->name);
}

uint64_t pkbox__region_release(int r)
{
	struct pkbox_region *g = RG(r);
	uint64_t touched = g->gkey >= 0 ? 1ULL << g->dom | pkbox__region_grantees(r) : 0;

	if (g->foreign) {
		/* a plugin's segment: back to key 0 (it may be unmapped already) */
		pkbox__be->to_key0(g->base, g->pages * PAGE, g->prot);
		pkbox__be->untag(g->base, g->pages * PAGE);
	} else {
		/* zero it and make it fault: a use after free is caught at once */
		pkbox__reset_range(g->base, g->pages * PAGE);
		pkbox__be->untag(g->base, g->pages * PAGE);
		if (g->gkey >= 0)
			pkbox__pkey_free(g->gkey);
		pkbox__st->doms[g->dom].used_bytes -= g->charged;
	}
	pkbox__region_remove(r);
	return touched;
}

/* The lowest gap of need bytes in the domain's slot (after each region its
 * guard page), or 0: a walk of the domain's regions in address order. */
static uintptr_t slot_find(struct pkbox_dom *d, size_t need)
{
	uintptr_t cand = pkbox__slot_lo(d->idx) + PAGE, end = pkbox__slot_lo(d->idx) + PKBOX_SLOT_SIZE;

	for (int pos = pkbox__regions_pos(cand);; pos++) {
		int r = pkbox__region_at_pos(pos);

		if (r < 0 || RG(r)->base >= end || RG(r)->base >= cand + need)
			break;
		uintptr_t hi = RG(r)->base + (RG(r)->pages + 1) * PAGE; /* its trailing guard */
		if (hi > cand)
			cand = hi;
	}
	if (cand + need > end)
		return 0;
	if (cand + need > d->next)
		d->next = cand + need;
	return cand;
}

int pkbox__dom_adopt(struct pkbox_dom *d, uintptr_t base, size_t len, int prot)
{
	if (pkbox__regions_full())
		return pkbox__err(-ENOMEM, "more than %d live regions", PKBOX_MAX_REGIONS);
	int r = pkbox__region_add(d->idx, base, len / PAGE, true);
	if (r < 0)
		return pkbox__err(r, "cannot give %#lx-%#lx to domain %s: %s", (unsigned long)base,
				  (unsigned long)(base + len), d->name,
				  r == -EEXIST ? "it overlaps memory of a domain" : "no pages");
	if (pkbox__be->tag(base, len, prot, d->pkey)) {
		int e = errno;

		pkbox__region_remove(r);
		errno = e;
		return pkbox__err(-errno, "cannot give %#lx-%#lx to domain %s: %m", (unsigned long)base,
				  (unsigned long)(base + len), d->name);
	}
	RG(r)->prot = prot;
	RG(r)->size = len;
	RG(r)->user = base;
	return 0;
}

static int alloc_check(const struct pkbox_dom *d, size_t size)
{
	if (size == 0 || size > PKBOX_SLOT_SIZE / 2)
		return pkbox__err(size ? -ENOMEM : -EINVAL, "pkbox_malloc: size %zu is %s", size,
				  size ? "larger than a domain" : "zero");
	size_t pages = (size + PAGE - 1) / PAGE;
	if (d->used_bytes + pages * PAGE > d->quota)
		return pkbox__err(-EDQUOT, "pkbox_malloc: domain %s would use %zu of its quota of %zu bytes", d->name,
				  d->used_bytes + pages * PAGE, d->quota);
	return 0;
}

int pkbox__pages_region(struct pkbox_dom *d, size_t pages)
{
	if (pkbox__regions_full())
		return pkbox__err(-ENOMEM, "pkbox_malloc: more than %d live runs and page-granular allocations",
				  PKBOX_MAX_REGIONS);
	uintptr_t base = slot_find(d, (pages + 1) * PAGE);
	if (!base)
		return pkbox__err(-ENOMEM, "pkbox_malloc: domain %s has no address space left", d->name);
	if (pkbox__be->tag(base, pages * PAGE, PROT_READ | PROT_WRITE, d->pkey))
		return pkbox__err(-errno, "pkbox_malloc: cannot map memory: %m");
	int r = pkbox__region_add(d->idx, base, pages, false);
	if (r < 0) { /* not seen: the slot was free and checked */
		pkbox__reset_range(base, pages * PAGE);
		pkbox__be->untag(base, pages * PAGE);
		return pkbox__err(r, "pkbox_malloc: the region table refused %#lx", (unsigned long)base);
	}
	return r;
}

int pkbox__pages_alloc(struct pkbox_dom *d, size_t size, void **out)
{
	int rc = alloc_check(d, size);

	*out = NULL;
	if (rc)
		return rc;
	size_t pages = (size + PAGE - 1) / PAGE;
	int r = pkbox__pages_region(d, pages);
	if (r < 0)
		return r;
	struct pkbox_region *g = RG(r);
	g->size = size;
	/* the object ends where the guard page begins */
	g->user = (g->base + pages * PAGE - ((size + 15) & ~(size_t)15));
	g->charged = pages * PAGE;
	d->used_bytes += pages * PAGE;
	*out = (void *)g->user;
	return 0;
}

void *pkbox__dom_alloc(struct pkbox_dom *d, size_t size)
{
	void *p;

	pkbox__pages_alloc(d, size, &p);
	return p;
}

int pkbox__dom_free_ptr(struct pkbox_dom *d, void *ptr)
{
	int r = pkbox__region_of_ptr(d, ptr, "pkbox_free");

	if (r < 0)
		return r;
	pkbox__region_release(r);
	return 0;
}
