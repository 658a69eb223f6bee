/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.h - the library lock: one recursive lock for the library's state (a
 * futex word of its own, lock.c), and the word that pkbox_malloc's short
 * path holds instead.  Where it lives is chosen at set-up (init.c: in
 * host-keyed state with the pku backend, in the gate page with the
 * mprotect one); the gate configuration names it. */
#ifndef PKBOX_LOCK_H
#define PKBOX_LOCK_H

#include <stdbool.h>

#include "state.h"

void pkbox__lock(void);
void pkbox__unlock(void);

/*
 * pkbox_malloc's and pkbox_free's short path (runs.c) takes no lock: it
 * holds the state's alloc_fast word instead, and only while no thread holds
 * the lock; a thread taking the lock waits for the word.  So the short path
 * may change what the lock guards, as a holder would, for as long as it
 * holds the word, and must not fault, take the lock or call out meanwhile.
 * true: held (pkbox__fast_exit() gives it back); false: the lock is held or
 * another thread holds the word: take the lock.
 */
static inline bool pkbox__fast_enter(void)
{
	struct pkbox_state *st = pkbox__st;

	/* Dekker's pattern with lock_seq: this exchange and the holder's
	 * increment are both full barriers, so either the short path sees the
	 * holder (lock_seq odd) and gives up, or the holder sees the word */
	if (__atomic_exchange_n(&st->alloc_fast, 1, __ATOMIC_SEQ_CST))
		return false;
	if (__atomic_load_n(&st->lock_seq, __ATOMIC_SEQ_CST) & 1) {
		__atomic_store_n(&st->alloc_fast, 0, __ATOMIC_RELEASE);
		return false;
	}
	return true;
}

static inline void pkbox__fast_exit(void)
{
	__atomic_store_n(&pkbox__st->alloc_fast, 0, __ATOMIC_RELEASE);
}

#endif
