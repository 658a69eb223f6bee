/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.c - the library lock (see lock.h). */
#include "config.h"

#include <pthread.h>
#include <sched.h>

#include "lock.h"
#include "state.h"

static pthread_mutex_t *lock_mu(void)
{
	return (pthread_mutex_t *)(uintptr_t)pkbox__gc.mu;
}

/* how deep this thread holds the (recursive) lock */
static __thread PKBOX_TLS int held;

/* The outermost lock makes the state's lock_seq odd, its unlock even again:
 * pkbox_call's path without the lock (gate.c) reads what it needs between
 * two reads of it and takes it as read under the lock when both agree and
 * are even.  The increment is a full barrier: what the holder reads after
 * it (a domain's active count) sees every call that such a path committed
 * to before it. */
void pkbox__lock(void)
{
	pthread_mutex_lock(lock_mu());
	if (!held++) {
		__atomic_fetch_add(&pkbox__st->lock_seq, 1, __ATOMIC_SEQ_CST);
		/* a short path that began before (it sees lock_seq odd from now
		 * on): a few dozen ns, unless its thread lost the CPU */
		for (int spins = 0; __atomic_load_n(&pkbox__st->alloc_fast, __ATOMIC_SEQ_CST); spins++)
			if (spins < 100)
				__builtin_ia32_pause();
			else
				sched_yield();
	}
}

void pkbox__unlock(void)
{
	if (!--held)
		__atomic_fetch_add(&pkbox__st->lock_seq, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(lock_mu());
}
