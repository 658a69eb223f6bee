/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * regions.h - the region table: every domain's live allocations and adopted
 * segments, indexed by address (lookup O(log n)), each on its owner's list,
 * each grant on its grantee's list.  All under the library lock.
 *
 * Walks (each O(what it visits)):
 *	for (int r = pkbox__dom_regions_first(i); r >= 0; r = pkbox__region_next_of_dom(r))
 *		... domain i's regions: its adopted segments first, then its allocations
 *	for (int r = pkbox__dom_regions_first(i); r >= 0 && pkbox__region_foreign(r);
 *	     r = pkbox__region_next_of_dom(r))
 *		... domain i's adopted segments only
 *	for (int n = pkbox__grants_to_first(i); n >= 0; n = pkbox__grants_to_next(n))
 *		... grant k = PKBOX_GRANT_K(n) of region PKBOX_GRANT_REGION(n) is to domain i
 */
#ifndef PKBOX_REGIONS_H
#define PKBOX_REGIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "state.h"

#define PKBOX_GRANT_REGION(n) ((n) / PKBOX_MAX_GRANTS)
#define PKBOX_GRANT_K(n) ((n) % PKBOX_MAX_GRANTS)

/* the region whose pages hold addr, or -1 */
int pkbox__region_find(uintptr_t addr);
/* by address: the position of the first region based at or above addr,
 * and the region at a position (-1 past the last) */
int pkbox__regions_pos(uintptr_t addr);
int pkbox__region_at_pos(int pos);

/* A new region of domain dom, its pages [base, base + pages * 4096):
 * its index, or -EINVAL (no pages), -EEXIST (it overlaps a live region),
 * -ENOMEM (the table is full); no message.  Its other fields are 0, gkey -1. */
int pkbox__region_add(int dom, uintptr_t base, size_t pages, bool foreign);
/* Forgets region r: off the index and the lists, its grants dropped, zeroed. */
void pkbox__region_remove(int r);
bool pkbox__region_foreign(int r);
/* no slot left for another region */
bool pkbox__regions_full(void);

/* The live domains, the host's (slot 0) included, one bit per slot (what
 * the region lists hang from; here, below the backends that walk them):
 *	for (uint64_t m = pkbox__dom_live_mask(); m; m &= m - 1) {
 *		int i = __builtin_ctzll(m);
 *		...
 *	}
 * or for (int i = pkbox__dom_live_first(); i >= 0; i = pkbox__dom_live_next(i)) */
uint64_t pkbox__dom_live_mask(void);
int pkbox__dom_live_first(void);
int pkbox__dom_live_next(int i);

int pkbox__dom_regions_first(int dom);
int pkbox__region_next_of_dom(int r);

/* Grants region r to domain dom (or changes the access of its grant):
 * the grant's k, or -ENOSPC (PKBOX_MAX_GRANTS grantees already). */
int pkbox__grant_set(int r, int dom, int access);
/* k of the grant of region r to dom, or -1 */
int pkbox__grant_find(int r, int dom);
/* drops grant k of region r (the last one takes its place) */
void pkbox__grant_drop(int r, int k);
/* the domains region r is granted to, one bit per slot */
uint64_t pkbox__region_grantees(int r);
int pkbox__grants_to_first(int dom);
int pkbox__grants_to_next(int node);

#endif
