/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * regions.c - the region table (see regions.h): a sorted array of region
 * indices for lookup by address (binary search; an insertion or removal
 * moves at most PKBOX_MAX_REGIONS two-byte indices), a free list of slots,
 * per-domain doubly linked lists of regions and of grants to the domain,
 * and the mask of live domains those lists hang from.
 * Links are stored as index + 1, so that 0 (zeroed state) means none.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "regions.h"
#include "state.h"

#define RG(r) (&pkbox__st->regions[r])
#define DOM(i) (&pkbox__st->doms[i])

static uintptr_t reg_end(const struct pkbox_region *g)
{
	return g->base + g->pages * PAGE;
}

/* the number of live regions based at or below addr */
static int upper_pos(uintptr_t addr)
{
	const struct pkbox_state *st = pkbox__st;
	int lo = 0, hi = st->nsorted;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (st->regions[st->reg_sorted[mid]].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int pkbox__regions_pos(uintptr_t addr)
{
	return addr ? upper_pos(addr - 1) : 0;
}

int pkbox__region_at_pos(int pos)
{
	return pos >= 0 && pos < pkbox__st->nsorted ? pkbox__st->reg_sorted[pos] : -1;
}

int pkbox__region_find(uintptr_t addr)
{
	int pos = upper_pos(addr) - 1;

	if (pos < 0)
		return -1;
	int r = pkbox__st->reg_sorted[pos];
	return addr < reg_end(RG(r)) ? r : -1;
}

bool pkbox__region_foreign(int r)
{
	return RG(r)->foreign;
}

/* ---------------------------------------------------------------- slots */

bool pkbox__regions_full(void)
{
	return !pkbox__st->reg_free && pkbox__st->reg_hw >= PKBOX_MAX_REGIONS;
}

static int slot_take(void)
{
	struct pkbox_state *st = pkbox__st;
	int r;

	if (st->reg_free) {
		r = st->reg_free - 1;
		st->reg_free = RG(r)->dnext;
	} else if (st->reg_hw < PKBOX_MAX_REGIONS) {
		r = st->reg_hw++;
	} else {
		return -ENOMEM;
	}
	memset(RG(r), 0, sizeof(struct pkbox_region));
	return r;
}

static void slot_give(int r)
{
	memset(RG(r), 0, sizeof(struct pkbox_region));
	RG(r)->dnext = (int16_t)pkbox__st->reg_free;
	pkbox__st->reg_free = r + 1;
}

/* ---------------------------------------------------------------- live domains */

uint64_t pkbox__dom_live_mask(void)
{
	/* the host's domain is made by init.c, with the state */
	return (pkbox__st->dom_live & ~1ULL) | (pkbox__st->doms[0].used ? 1ULL : 0);
}

int pkbox__dom_live_first(void)
{
	uint64_t m = pkbox__dom_live_mask();

	return m ? __builtin_ctzll(m) : -1;
}

int pkbox__dom_live_next(int i)
{
	uint64_t m = i + 1 < PKBOX_MAX_DOMAINS ? pkbox__dom_live_mask() >> (i + 1) << (i + 1) : 0;

	return m ? __builtin_ctzll(m) : -1;
}

/* ---------------------------------------------------------------- owners' lists */

static void dom_link(int r)
{
	struct pkbox_region *g = RG(r);
	struct pkbox_dom *d = DOM(g->dom);

	if (g->foreign) { /* segments first */
		g->dnext = d->rhead;
		g->dprev = 0;
		if (d->rhead)
			RG(d->rhead - 1)->dprev = (int16_t)(r + 1);
		else
			d->rtail = (int16_t)(r + 1);
		d->rhead = (int16_t)(r + 1);
	} else {
		g->dprev = d->rtail;
		g->dnext = 0;
		if (d->rtail)
			RG(d->rtail - 1)->dnext = (int16_t)(r + 1);
		else
			d->rhead = (int16_t)(r + 1);
		d->rtail = (int16_t)(r + 1);
	}
}

static void dom_unlink(int r)
{
	struct pkbox_region *g = RG(r);
	struct pkbox_dom *d = DOM(g->dom);

	if (g->dprev)
		RG(g->dprev - 1)->dnext = g->dnext;
	else
		d->rhead = g->dnext;
	if (g->dnext)
		RG(g->dnext - 1)->dprev = g->dprev;
	else
		d->rtail = g->dprev;
}

int pkbox__dom_regions_first(int dom)
{
	return DOM(dom)->rhead - 1;
}

int pkbox__region_next_of_dom(int r)
{
	return RG(r)->dnext - 1;
}

/* ---------------------------------------------------------------- the index */

int pkbox__region_add(int dom, uintptr_t base, size_t pages, bool foreign)
{
	struct pkbox_state *st = pkbox__st;

	if (!pages || base + pages * PAGE < base)
		return -EINVAL;
	int pos = upper_pos(base);
	if (pos > 0 && reg_end(RG(st->reg_sorted[pos - 1])) > base)
		return -EEXIST;
	if (pos < st->nsorted && RG(st->reg_sorted[pos])->base < base + pages * PAGE)
		return -EEXIST;
	int r = slot_take();
	if (r < 0)
		return r;
	struct pkbox_region *g = RG(r);
	g->used = true;
	g->dom = dom;
	g->base = base;
	g->pages = pages;
	g->foreign = foreign;
	g->gkey = -1;
	memmove(&st->reg_sorted[pos + 1], &st->reg_sorted[pos], (size_t)(st->nsorted - pos) * sizeof(st->reg_sorted[0]));
	st->reg_sorted[pos] = (int16_t)r;
	st->nsorted++;
	dom_link(r);
	return r;
}

void pkbox__region_remove(int r)
{
	struct pkbox_state *st = pkbox__st;
	int pos = upper_pos(RG(r)->base) - 1;

	while (pos >= 0 && st->reg_sorted[pos] != r)
		pos--;
	if (pos >= 0) {
		st->nsorted--;
		memmove(&st->reg_sorted[pos], &st->reg_sorted[pos + 1],
			(size_t)(st->nsorted - pos) * sizeof(st->reg_sorted[0]));
	}
	while (RG(r)->ngrants)
		pkbox__grant_drop(r, RG(r)->ngrants - 1);
	dom_unlink(r);
	slot_give(r);
}

/* ---------------------------------------------------------------- grants */

static struct pkbox_grant_ent *node_ent(int n)
{
	return &RG(PKBOX_GRANT_REGION(n))->grants[PKBOX_GRANT_K(n)];
}

static void grant_link(int n)
{
	struct pkbox_grant_ent *e = node_ent(n);
	struct pkbox_dom *d = DOM(e->dom);

	e->gprev = 0;
	e->gnext = d->ghead;
	if (d->ghead)
		node_ent(d->ghead - 1)->gprev = (uint16_t)(n + 1);
	d->ghead = (uint16_t)(n + 1);
}

static void grant_unlink(int n)
{
	struct pkbox_grant_ent *e = node_ent(n);

	if (e->gprev)
		node_ent(e->gprev - 1)->gnext = e->gnext;
	else
		DOM(e->dom)->ghead = e->gnext;
	if (e->gnext)
		node_ent(e->gnext - 1)->gprev = e->gprev;
}

int pkbox__grant_find(int r, int dom)
{
	const struct pkbox_region *g = RG(r);

	for (int k = 0; k < g->ngrants; k++)
		if (g->grants[k].dom == dom)
			return k;
	return -1;
}

int pkbox__grant_set(int r, int dom, int access)
{
	struct pkbox_region *g = RG(r);
	int k = pkbox__grant_find(r, dom);

	if (k < 0) {
		if (g->ngrants == PKBOX_MAX_GRANTS)
			return -ENOSPC;
		k = g->ngrants++;
		g->grants[k].dom = (int16_t)dom;
		grant_link(r * PKBOX_MAX_GRANTS + k);
	}
	g->grants[k].access = (int16_t)access;
	return k;
}

void pkbox__grant_drop(int r, int k)
{
	struct pkbox_region *g = RG(r);
	int last = g->ngrants - 1;

	grant_unlink(r * PKBOX_MAX_GRANTS + k);
	if (k != last) {
		/* the last grant moves to k: its neighbours learn its new node */
		struct pkbox_grant_ent *e = &g->grants[k];
		uint16_t id = (uint16_t)(r * PKBOX_MAX_GRANTS + k + 1);

		*e = g->grants[last];
		if (e->gprev)
			node_ent(e->gprev - 1)->gnext = id;
		else
			DOM(e->dom)->ghead = id;
		if (e->gnext)
			node_ent(e->gnext - 1)->gprev = id;
	}
	memset(&g->grants[last], 0, sizeof(g->grants[last]));
	g->ngrants--;
}

uint64_t pkbox__region_grantees(int r)
{
	const struct pkbox_region *g = RG(r);
	uint64_t m = 0;

	for (int k = 0; k < g->ngrants; k++)
		m |= 1ULL << g->grants[k].dom;
	return m;
}

int pkbox__grants_to_first(int dom)
{
	return DOM(dom)->ghead - 1;
}

int pkbox__grants_to_next(int n)
{
	return node_ent(n)->gnext - 1;
}
