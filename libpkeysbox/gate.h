/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gate.h - the call gate's engine (gate.c), for the API (api_call.c).
 * Each returns 0 (or a value) or -errno with a pending message; none sets
 * up the library (the caller did). */
#ifndef PKBOX_GATE_H
#define PKBOX_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "pkeysbox.h"

/* timeout_ms: 0 for none (pkbox__call_timed() sets the timer up) */
int pkbox__call(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms);
int pkbox__call_timed(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms);
int pkbox__host_run(pkbox_fn fn, void *arg, size_t stack_size, intptr_t *ret);
int pkbox__callback_register(struct pkbox_domain *h, pkbox_fn fn);
int pkbox__callback_unregister(struct pkbox_domain *h, int id);
int pkbox__last_fault(const struct pkbox_domain *h, struct pkbox_fault *out);
unsigned long pkbox__fault_count(void);

#endif
