/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keys.h - the pool of protection keys (pku backend). */
#ifndef PKBOX_KEYS_H
#define PKBOX_KEYS_H

#include <stdbool.h>

/* a key from the pool or the kernel; -1: none left */
int pkbox__pkey_alloc(void);
/* back to the pool; k < 0: nothing.  A key that a thread inside some
 * domain may hold open in its PKRU waits until none can */
void pkbox__pkey_free(int k);
struct pkbox_dom;
/* d's PKRU changed: its keys count as held while d has calls in it */
void pkbox__keys_note(struct pkbox_dom *d);
/* is a compartment call under way on any thread (a domain's active count);
 * under the library lock */
bool pkbox__calls_active(void);

#endif
