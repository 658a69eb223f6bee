/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.c - the library lock (see lock.h). */
#include "config.h"

#include <pthread.h>

#include "lock.h"
#include "state.h"

static pthread_mutex_t *lock_mu(void)
{
	return (pthread_mutex_t *)(uintptr_t)pkbox__gc.mu;
}

void pkbox__lock(void)
{
	pthread_mutex_lock(lock_mu());
}

void pkbox__unlock(void)
{
	pthread_mutex_unlock(lock_mu());
}
