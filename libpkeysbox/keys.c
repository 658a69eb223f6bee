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

	if (!st->active_calls) {
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
	if (st->active_calls)
		st->key_pending[st->nkey_pending++] = k;
	else
		st->key_pool[st->nkey_pool++] = k;
}

void pkbox__calls_adjust(int delta)
{
	pkbox__st->active_calls += delta;
}
