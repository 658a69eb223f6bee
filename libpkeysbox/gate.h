/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gate.h - the call gate's engine (gate.c), for the API (api_call.c).
 * Each returns 0 (or a value) or -errno with a pending message; none sets
 * up the library (the caller did). */
#ifndef PKBOX_GATE_H
#define PKBOX_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "pkeysbox.h"
#include "state.h"

/* timeout_ms: 0 for none (pkbox__call_timed() sets the timer up) */
int pkbox__call(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms);
int pkbox__call_timed(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms);
int pkbox__host_run(pkbox_fn fn, void *arg, size_t stack_size, intptr_t *ret);
int pkbox__callback_register(struct pkbox_domain *h, pkbox_fn fn);
int pkbox__callback_unregister(struct pkbox_domain *h, int id);
int pkbox__last_fault(const struct pkbox_domain *h, struct pkbox_fault *out);
unsigned long pkbox__fault_count(void);

/* gate.S: one entry path per switch (PKBOX_GATE_*, backend.h) */
struct pkbox_frame *pkbox__gate_enter_wrpkru(struct pkbox_frame *f);
struct pkbox_frame *pkbox__gate_enter_syscall(struct pkbox_frame *f);
void pkbox__run_on(void *top, void (*fn)(void *), void *arg);
void pkbox__gate_exit_fault(void);
void pkbox__thread_die(void);
/* never returns; not declared noreturn: ASan would then unwind the stack first */
void pkbox__jump_to(const long long *gregs);
struct pkbox_cbret { intptr_t val; long status; };
struct pkbox_cbret pkbox__gate_exit_callback(long id, void *arg);
extern const char pkbox__gate_text_start[], pkbox__gate_text_end[];

#endif
