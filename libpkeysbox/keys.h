/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* keys.h - the pool of protection keys (pku backend). */
#ifndef PKBOX_KEYS_H
#define PKBOX_KEYS_H

/* a key from the pool or the kernel; -1: none left */
int pkbox__pkey_alloc(void);
/* back to the pool (not reused while a call is active); k < 0: nothing */
void pkbox__pkey_free(int k);
/* compartment calls under way, all threads: +1 on entry, -1 after */
void pkbox__calls_adjust(int delta);

#endif
