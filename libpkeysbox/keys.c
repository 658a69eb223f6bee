/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * keys.c - the pool of protection keys.  Keys given back while a
 * compartment may still hold them open in some thread's PKRU are not
 * reused until no thread is inside any domain.
 */
#include "config.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define key_pool (pkbox__st->key_pool)
#define key_pending (pkbox__st->key_pending)
#define nkey_pool (pkbox__st->nkey_pool)
#define nkey_pending (pkbox__st->nkey_pending)
#define active_calls (pkbox__st->active_calls)

int pkbox__pkey_alloc(void)
{
	if (!active_calls) {
		while (nkey_pending)
			key_pool[nkey_pool++] = key_pending[--nkey_pending];
	}
	if (nkey_pool)
		return key_pool[--nkey_pool];
	long k = syscall(SYS_pkey_alloc, 0UL, 0UL);
	return k < 0 ? -1 : (int)k;
}

void pkbox__pkey_free(int k)
{
	if (k < 0)
		return;
	if (active_calls)
		key_pending[nkey_pending++] = k;
	else
		key_pool[nkey_pool++] = k;
}

void pkbox__calls_adjust(int delta)
{
	active_calls += delta;
}
