/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* threads.c - the thread registry (see threads.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "gate_layout.h"
#include "lock.h"
#include "msg.h"
#include "state.h"
#include "sys.h"
#include "threads.h"

static pthread_key_t thread_key;
__thread PKBOX_TLS struct pkbox_thread *pkbox__tls_self;

/* Writes into the directory page (thread ids, compartment heaps), which
 * everyone may read and only the library writes, under the library lock. */
void pkbox__dir_store(void *where, const void *val, size_t n)
{
	pkbox__mprotect(pkbox__tdir, PAGE, PROT_READ | PROT_WRITE);
	memcpy(where, val, n);
	pkbox__mprotect(pkbox__tdir, PAGE, PROT_READ);
}

static void tdir_set(int ti, pid_t tid)
{
	pkbox__dir_store(&pkbox__tdir[ti], &tid, sizeof(tid));
}

static void thread_gone(void *p)
{
	struct pkbox_thread *t = p;

	if (t->altstack) {
		stack_t ss = { .ss_flags = SS_DISABLE };
		stack_t cur;

		if (!sigaltstack(NULL, &cur) && cur.ss_sp == t->altstack)
			pkbox__sigaltstack(&ss, NULL);
		munmap(t->altstack, PKBOX_ALTSTACK_SIZE);
	}
	pkbox__lock();
	tdir_set(t->ti, 0);
	t->used = false;
	t->altstack = NULL;
	pkbox__unlock();
	pkbox__tls_self = NULL;
}

int pkbox__threads_setup(void)
{
	if (pthread_key_create(&thread_key, thread_gone))
		return pkbox__err(-EAGAIN, "pthread_key_create failed");
	return 0;
}

int pkbox__thread_claim(struct pkbox_thread **out)
{
	pid_t tid = pkbox__gettid();
	struct pkbox_thread *t = NULL;

	pkbox__lock();
	for (int i = 0; i < PKBOX_MAX_THREADS && !t; i++) {
		struct pkbox_thread *c = pkbox__thread_at(i);

		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->ti = i;
		for (int k = 0; k < PKBOX_MAX_DOMAINS; k++)
			pkbox__st->doms[k].tls_copied[i / 64] &= ~(1ULL << (i % 64));
		c->tid = tid;
		tdir_set(i, tid);
		t = c;
	}
	pkbox__unlock();
	*out = t;
	if (!t)
		return pkbox__err(-EAGAIN, "more than %d threads use the library at once", PKBOX_MAX_THREADS);
	return 0;
}

void pkbox__thread_release(struct pkbox_thread *t)
{
	pkbox__lock();
	tdir_set(t->ti, 0);
	t->used = false;
	pkbox__unlock();
}

void pkbox__thread_bind(struct pkbox_thread *t)
{
	pthread_setspecific(thread_key, t);
	pkbox__tls_self = t;
}
