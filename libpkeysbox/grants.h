/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* grants.h - sharing an allocation with other domains, and the PKRU value
 * each domain's memory and grants imply (grants.c); under the library lock. */
#ifndef PKBOX_GRANTS_H
#define PKBOX_GRANTS_H

#include <stdint.h>

struct pkbox_dom;

/* o's allocation ptr made readable (or writable) in t: 0 or -errno */
int pkbox__grant(struct pkbox_dom *o, void *ptr, struct pkbox_dom *t, int access);
/* the grant of o's ptr to t taken back, at once: 0 or -errno */
int pkbox__revoke(struct pkbox_dom *o, void *ptr, struct pkbox_dom *t);
/* the PKRU value inside d */
uint32_t pkbox__dom_pkru(const struct pkbox_dom *d);
/* recomputes the PKRU of the live domains in mask (one bit per slot; the
 * host's, slot 0, never changes) */
void pkbox__pkru_update(uint64_t mask);

#endif
