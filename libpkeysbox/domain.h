/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain.h - domains: life cycle, handles, lookups (domain.c); all under
 * the library lock. */
#ifndef PKBOX_DOMAIN_H
#define PKBOX_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkeysbox.h"

struct pkbox_dom;

struct pkbox_dom *pkbox__dom_get(const struct pkbox_domain *h, int *err);
struct pkbox_domain *pkbox__dom_handle(const struct pkbox_dom *d);
/* on: calls may enter d without the library lock (gate.c); off: they take
 * the lock and are told why not (destroyed, faulted) */
void pkbox__dom_callable(struct pkbox_dom *d, bool on);

/* a new domain (quota 0: the default): 0 and *out, or -errno */
int pkbox__dom_create(const char *name, size_t quota, struct pkbox_dom **out);
int pkbox__dom_destroy(struct pkbox_dom *d);
int pkbox__dom_reset(struct pkbox_dom *d);
/* d's protection key, or -ENOTSUP where its memory has none (mprotect) */
int pkbox__dom_pkey(const struct pkbox_dom *d);
/* pkbox_free(): frees d's allocation ptr: 0 or -errno */
int pkbox__dom_free(struct pkbox_dom *d, void *ptr);
/* the domain that owns addr (a page-granular allocation, a live packed
 * object, an adopted segment or a stack), or NULL */
struct pkbox_dom *pkbox__dom_of(uintptr_t addr);
/* For fault reports: who owns addr, and with which key. */
void pkbox__owner_name(uintptr_t addr, char *buf, size_t len, int *key);

#endif
