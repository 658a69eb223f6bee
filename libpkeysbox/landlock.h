/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* landlock.h - the seal's file policy (landlock.c), for seal.c. */
#ifndef PKBOX_LANDLOCK_H
#define PKBOX_LANDLOCK_H

#include "pkeysbox.h"

/* The Landlock ABI the running kernel offers; 0 without Landlock. */
int pkbox__landlock_abi(void);

/* Builds the policy for pkbox_seal()'s options (flags, allow_write) without
 * changing the process.  opts is the library's copy of the caller's
 * (pkbox__opts_in(): fields past the caller's sz read as 0), or NULL.
 * 0, or a negative errno that refuses the seal (other threads alive, an
 * executable object open for writing).  A kernel without Landlock is not an
 * error here, unless opts asks for an allow-list: pkbox__files_apply()
 * reports it. */
int pkbox__files_prepare(const struct pkbox_seal_opts *opts);

/* Restricts the calling thread and the threads it makes from now on.
 * 0: applied, /proc closed; -ECANCELED: applied, /proc kept open
 * (PKBOX_SEAL_KEEP_PROC); another negative errno: no file policy. */
int pkbox__files_apply(void);

/* Forgets a prepared policy that was not applied (the seal failed). */
void pkbox__files_drop(void);

#endif
