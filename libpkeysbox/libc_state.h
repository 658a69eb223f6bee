/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libc_state.h - the C library's state, per compartment (libc_state.c):
 * the names the loader binds, and each arena's copy of the state. */
#ifndef PKBOX_LIBC_STATE_H
#define PKBOX_LIBC_STATE_H

#include "arena.h"

extern const struct pkbox_heap_fn pkbox__libc_fns[];
/* Gives arena a (new, host side, under the lock) its C library state: the
 * host's environment copied, the C locale, UTC: 0 or -ENOMEM. */
int pkbox__libc_setup(struct pkbox_arena *a);
/* the address of a's copy of the C library's variable name (environ,
 * tzname, timezone, daylight and their aliases), or NULL */
void *pkbox__libc_data(struct pkbox_arena *a, const char *name);

#endif
