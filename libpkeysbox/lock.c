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
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"
#include "state.h"

/* the library's thread-local variables: at fixed offsets from the thread
 * pointer, never found through the module vector (see state.h) */
#define LOCK_TLS __attribute__((tls_model("initial-exec")))

static __thread LOCK_TLS uint32_t my_tid;

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
}

void pkbox__unlock(void)
{
	struct pkbox_lock *l = lock_of();

	if (--l->depth)
		return;
	if (atomic_exchange(&l->word, 0) & PKBOX_LOCK_WAITERS)
		syscall(SYS_futex, &l->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
