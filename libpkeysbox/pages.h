/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pages.h - a domain's page allocator (pages.c); all under the library lock. */
#ifndef PKBOX_PAGES_H
#define PKBOX_PAGES_H

#include <stddef.h>
#include <stdint.h>

struct pkbox_dom;

/* the address of domain slot idx's heap */
uintptr_t pkbox__slot_lo(int idx);
/* Makes [base, base + len) (outside the pool) part of domain d: 0 or -errno. */
int pkbox__dom_adopt(struct pkbox_dom *d, uintptr_t base, size_t len, int prot);
/* size bytes of fresh pages of d, ending at a guard page: 0 or -errno */
int pkbox__pages_alloc(struct pkbox_dom *d, size_t size, void **out);
/* the same, NULL on failure (the reason in the pending message) */
void *pkbox__dom_alloc(struct pkbox_dom *d, size_t size);
/* a new region of d of pages pages (and a guard page), readable and
 * writable, nothing charged to d's quota: its index, or -errno */
int pkbox__pages_region(struct pkbox_dom *d, size_t pages);
/* Frees an allocation of d made by the library for itself: 0 or -errno */
int pkbox__dom_free_ptr(struct pkbox_dom *d, void *ptr);
/* the region of d's allocation ptr, or -EINVAL (fn names the caller) */
int pkbox__region_of_ptr(const struct pkbox_dom *d, const void *ptr, const char *fn);
/* Frees region r: its pages zeroed and made to fault, its grant key given
 * back, what it charged to its domain's quota given back.  The domains whose PKRU it changes, one bit per slot. */
uint64_t pkbox__region_release(int r);

#endif
