/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* quitter.c - a plugin that ends the process, one way an entry point
 * (tests/test_quit.c): the seal stops each, the host carries on. */
#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ENTRY(name)                                                                                                \
	intptr_t name(void *arg);                                                                                  \
	intptr_t name(void *arg)

ENTRY(q_exit) { (void)arg; exit(3); }
ENTRY(q__exit) { (void)arg; _exit(3); }
ENTRY(q_abort) { (void)arg; abort(); }
ENTRY(q_assert) { assert(arg != NULL); return 1; }
ENTRY(q_raise_kill) { (void)arg; raise(SIGKILL); return 1; }
ENTRY(q_kill) { (void)arg; kill(getpid(), SIGTERM); return 1; }
ENTRY(q_spin) { (void)arg; for (;;) __asm__ volatile(""); }
ENTRY(q_ok) { return (intptr_t)arg + 1; }

/* code registered to run later, when the host runs: it must never run
 * (with the host's rights it could do anything; here it leaves a mark) */
volatile int q_marks;
static void mark(void) { q_marks++; }
static void mark_key(void *v) { (void)v; q_marks++; }
static pthread_key_t q_key;
ENTRY(q_register)
{
	(void)arg;
	int rc = atexit(mark);
	rc |= pthread_atfork(mark, mark, mark);
	rc |= pthread_key_create(&q_key, mark_key);
	rc |= pthread_setspecific(q_key, (void *)1);
	return rc;
}
