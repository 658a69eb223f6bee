/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * keys.c - the pool of protection keys.  A key given back while a thread
 * inside some domain may still hold it open in its PKRU (the domain had
 * it, or was granted memory keyed with it) is not reused until that
 * domain has no call in it: every PKRU a domain had since it was last seen
 * idle counts.
 */
#include "config.h"

#include <sys/syscall.h>
#include <unistd.h>

#include "keys.h"
#include "state.h"

/* the keys (bit k) that PKRU value p leaves readable */
static uint32_t keys_open(uint32_t p)
{
	uint32_t m = 0;

	for (int k = 0; k < 16; k++)
		if (!((p >> (2 * k)) & 1))
			m |= 1u << k;
	return m;
}

void pkbox__keys_note(struct pkbox_dom *d)
{
	d->pkru_seen |= keys_open(d->pkru);
}

/* The keys a thread inside a domain may hold open now.  Under the lock,
 * whose taking is a full barrier (lock.c): a call that pkbox_call's path
 * without the lock committed to before is counted; one that starts later
 * reads the domain's PKRU as it is now. */
static uint32_t keys_held(void)
{
	uint32_t held = 0;

	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++) {
		struct pkbox_dom *d = &pkbox__st->doms[i];

		if (__atomic_load_n(&d->active, __ATOMIC_SEQ_CST))
			held |= d->pkru_seen;
		else
			d->pkru_seen = keys_open(d->pkru);
	}
	return held;
}

int pkbox__pkey_alloc(void)
{
	struct pkbox_state *st = pkbox__st;

	if (st->nkey_pending) {
		uint32_t held = keys_held();
		int n = 0;

		for (int i = 0; i < st->nkey_pending; i++) {
			int k = st->key_pending[i];

			if (held & (1u << k))
				st->key_pending[n++] = k;
			else
				st->key_pool[st->nkey_pool++] = k;
		}
		st->nkey_pending = n;
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
	if (keys_held() & (1u << k))
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
