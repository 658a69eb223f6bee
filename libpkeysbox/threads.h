/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * threads.h - the thread registry: which threads use the library, each
 * one's entry (struct pkbox_thread, in library memory) and its id in the
 * thread directory (readable by all, written by the library only).
 */
#ifndef PKBOX_THREADS_H
#define PKBOX_THREADS_H

#include <stddef.h>
#include "state.h"

struct pkbox_thread;

/* the thread key whose destructor gives a gone thread's entry back; once,
 * at set-up.  0 or -EAGAIN */
int pkbox__threads_setup(void);
/* this thread's entry, or NULL if it has none yet (inline: every call
 * asks; the variable is threads.c's) */
extern __thread PKBOX_TLS struct pkbox_thread *pkbox__tls_self;

static inline struct pkbox_thread *pkbox__thread_mine(void)
{
	return pkbox__tls_self;
}

/* takes a free entry for this thread (under the library lock): 0 or -EAGAIN */
int pkbox__thread_claim(struct pkbox_thread **out);
/* gives back an entry claimed but not bound */
void pkbox__thread_release(struct pkbox_thread *t);
/* makes t this thread's entry (pkbox__thread_mine() returns it from now on) */
void pkbox__thread_bind(struct pkbox_thread *t);
/* writes n bytes into the thread directory page; under the library lock */
void pkbox__dir_store(void *where, const void *val, size_t n);


#endif
