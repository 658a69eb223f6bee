/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lock.c - the library lock (see lock.h): recursive, a futex word of its
 * own rather than a pthread mutex.  With the mprotect backend the word is
 * hidden with the library's state while a compartment runs; a futex_wait
 * on it then fails with EFAULT (glibc's mutex aborts there), and here the
 * next access faults instead and the fault handler parks the thread until
 * the call is over.
 */
#include "config.h"

#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"
#include "state.h"

static __thread PKBOX_TLS uint32_t my_tid;

static struct pkbox_lock *lock_of(void)
{
	return (struct pkbox_lock *)(uintptr_t)pkbox__gc.mu;
}

static uint32_t me(void)
{
	if (!my_tid)
		my_tid = (uint32_t)pkbox__gettid();
	return my_tid;
}

/* The outermost lock makes the state's lock_seq odd, its unlock even again:
 * pkbox_call's path without the lock (gate.c) reads what it needs between
 * two reads of it and takes it as read under the lock when both agree and
 * are even.  The increment is a full barrier: what the holder reads after
 * it (a domain's active count) sees every call that such a path committed
 * to before it. */
static void outermost_taken(void)
{
	__atomic_fetch_add(&pkbox__st->lock_seq, 1, __ATOMIC_SEQ_CST);
	/* a short path that began before (it sees lock_seq odd from now on):
	 * a few dozen ns, unless its thread lost the CPU */
	for (int spins = 0; __atomic_load_n(&pkbox__st->alloc_fast, __ATOMIC_SEQ_CST); spins++)
		if (spins < 100)
			__builtin_ia32_pause();
		else
			sched_yield();
}

void pkbox__lock(void)
{
	struct pkbox_lock *l = lock_of();
	uint32_t self = me(), mark = 0;

	if ((atomic_load(&l->word) & ~PKBOX_LOCK_WAITERS) == self) {
		l->depth++;
		return;
	}
	for (;;) {
		uint32_t cur = 0;

		if (atomic_compare_exchange_strong(&l->word, &cur, self | mark))
			break;
		if (cur == 0)
			continue;
		if (!(cur & PKBOX_LOCK_WAITERS) &&
		    !atomic_compare_exchange_strong(&l->word, &cur, cur | PKBOX_LOCK_WAITERS))
			continue;
		syscall(SYS_futex, &l->word, FUTEX_WAIT_PRIVATE, cur | PKBOX_LOCK_WAITERS, NULL, NULL, 0);
		/* woken: take it marked, there may be others still waiting */
		mark = PKBOX_LOCK_WAITERS;
	}
	l->depth = 1;
	outermost_taken();
}

void pkbox__unlock(void)
{
	struct pkbox_lock *l = lock_of();

	if (--l->depth)
		return;
	__atomic_fetch_add(&pkbox__st->lock_seq, 1, __ATOMIC_RELEASE);
	if (atomic_exchange(&l->word, 0) & PKBOX_LOCK_WAITERS)
		syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
