/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* phase.c - is the library set up, is this thread inside a compartment. */
#include "config.h"

#include "phase.h"

/* the library's thread-local variables: at fixed offsets from the thread
 * pointer, never found through the module vector (see state.h) */
#define PHASE_TLS __attribute__((tls_model("initial-exec")))

bool pkbox__init_done;
__thread PHASE_TLS int pkbox__tls_inside;

void pkbox__ready_set(void)
{
	__atomic_store_n(&pkbox__init_done, true, __ATOMIC_RELEASE);
}

void pkbox__inside_fixup(uintptr_t lo, uintptr_t hi, intptr_t delta)
{
	uintptr_t a = (uintptr_t)&pkbox__tls_inside;

	if (a >= lo && a + sizeof(int) <= hi)
		*(int *)(a + (uintptr_t)delta) = 1;
}
