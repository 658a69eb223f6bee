/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* phase.c - is the library set up, is this thread inside a compartment. */
#include "config.h"

#include "phase.h"

/* the library's thread-local variables: at fixed offsets from the thread
 * pointer, never found through the module vector (see state.h) */
#define PHASE_TLS __attribute__((tls_model("initial-exec")))

static bool init_done;
static __thread PHASE_TLS int tls_inside;

bool pkbox__ready(void)
{
	return __atomic_load_n(&init_done, __ATOMIC_ACQUIRE);
}

void pkbox__ready_set(void)
{
	__atomic_store_n(&init_done, true, __ATOMIC_RELEASE);
}

int pkbox__inside(void)
{
	return tls_inside;
}

void pkbox__inside_set(int on)
{
	tls_inside = on;
}

void pkbox__inside_fixup(uintptr_t lo, uintptr_t hi, intptr_t delta)
{
	uintptr_t a = (uintptr_t)&tls_inside;

	if (a >= lo && a + sizeof(int) <= hi)
		*(int *)(a + (uintptr_t)delta) = 1;
}
