/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* runs.h - pkbox_malloc's allocator (runs.c): objects of up to 4096 bytes
 * packed in runs of pages by size class, larger ones and those asked for
 * with PKBOX_MALLOC_GUARD page-granular (pages.c); all under the library
 * lock but the short path below.  The metadata lives in the library's state, never in a run. */
#ifndef PKBOX_RUNS_H
#define PKBOX_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkbox_dom;
struct pkbox_domain;

/* pkbox__malloc's flags besides PKBOX_MALLOC_GUARD: the object zeroed */
#define PKBOX__MALLOC_ZERO (1u << 31)

/* the size class of size bytes (1 to 4096), or -1 */
int pkbox__size_class(size_t size);
/* size bytes of d, 16-byte aligned: 0 and *out, or -errno */
int pkbox__malloc(struct pkbox_dom *d, size_t size, unsigned flags, void **out);
/* ptr (a live allocation of d) moved to size bytes (> 0), its first bytes
 * kept, or left where it is: 0 and *out, or -errno (-EBUSY: granted) */
int pkbox__realloc(struct pkbox_dom *d, void *ptr, size_t size, void **out);
/* Frees the object ptr of run region r (the run holding ptr): 0, or
 * -EINVAL where ptr is not a live object of d, nothing changed (fn names
 * the caller). */
int pkbox__run_free(struct pkbox_dom *d, int r, void *ptr, const char *fn);
/* Is [a, a + n) inside one live object of run region r? */
bool pkbox__run_holds(int r, uintptr_t a, size_t n);
/* Gives back run region r if it still is a run with nothing live and
 * nothing in the quarantine (what pkbox__free_fast() left to do). */
void pkbox__run_give_back(int r);
/*
 * pkbox_malloc's and pkbox_free's short path: no lock (the allocator's
 * word instead, lock.h), no message.  pkbox__malloc_fast: an object of a
 * run of h's domain that has room, the quota allowing; pkbox__free_fast:
 * ptr, a live object of a run of h's domain, freed (and the runs that
 * left empty given back, under the lock).  NULL or false: nothing done,
 * the locked path must run (and say why).
 */
void *pkbox__malloc_fast(const struct pkbox_domain *h, size_t size);
bool pkbox__free_fast(const struct pkbox_domain *h, void *ptr);
/* After d's regions were all released: its classes' lists and its
 * quarantine emptied. */
void pkbox__runs_clear(struct pkbox_dom *d);

#endif
