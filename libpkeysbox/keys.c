/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * keys.c - the pool of protection keys.  Keys given back while a
 * compartment may still hold them open in some thread's PKRU are not
 * reused until no thread is inside any domain.
 */
#include "config.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "keys.h"
#include "state.h"

int pkbox__pkey_alloc(void)
{
	struct pkbox_state *st = pkbox__st;

	if (!pkbox__calls_active()) {
		while (st->nkey_pending)
			st->key_pool[st->nkey_pool++] = st->key_pending[--st->nkey_pending];
	}
	if (st->nkey_pool)
		return st->key_pool[--st->nkey_pool];
	long k = syscall(SYS_pkey_alloc, 0UL, 0UL);
	return k < 0 ? -1 : (int)k;
}

void pkbox__pkey_free(int k)
{
	struct pkbox_state *st = pkbox__st;

	if (k < 0)
		return;
	if (pkbox__calls_active())
		st->key_pending[st->nkey_pending++] = k;
	else
		st->key_pool[st->nkey_pool++] = k;
}

/* Under the lock, whose taking is a full barrier (lock.c): a call that
 * pkbox_call's path without the lock committed to before is counted. */
bool pkbox__calls_active(void)
{
	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++)
		if (__atomic_load_n(&pkbox__st->doms[i].active, __ATOMIC_SEQ_CST))
			return true;
	return false;
}
