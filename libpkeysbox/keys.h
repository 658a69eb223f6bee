/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keys.h - the pool of protection keys (pku backend). */
#ifndef PKBOX_KEYS_H
#define PKBOX_KEYS_H

#include <stdbool.h>

/* a key from the pool or the kernel; -1: none left */
int pkbox__pkey_alloc(void);
/* back to the pool (not reused while a call is active); k < 0: nothing */
void pkbox__pkey_free(int k);
/* is a compartment call under way on any thread (a domain's active count);
 * under the library lock */
bool pkbox__calls_active(void);

#endif
