/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msg.h - the library's messages.
 *
 * Internal functions report a failure with pkbox__err(): it keeps the
 * message as this thread's pending one and returns the -errno it was given;
 * it touches neither errno nor pkbox_last_error().  Only the API edge
 * (api.h) publishes a pending message, when an exported function fails.
 */
#ifndef PKBOX_MSG_H
#define PKBOX_MSG_H

#include "pkeysbox.h"

int pkbox__err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pkbox__msg(enum pkbox_print_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the pending message ("" if none): to wrap an inner failure in an outer one */
const char *pkbox__pending(void);
/* the API edge: pending message (or "fn: strerror(err)") becomes
 * pkbox_last_error(); the pending one is cleared */
void pkbox__publish(const char *fn, int err);
/* (msg.c's; inline below: every successful exported function clears it) */
extern __thread __attribute__((tls_model("initial-exec"))) char pkbox__pending_buf[256];

static inline void pkbox__pending_clear(void)
{
	pkbox__pending_buf[0] = 0;
}
/* where messages go now: NULL inside a compartment (library memory is out
 * of reach there) */
pkbox_print_fn pkbox__print_fn(void);
/* what pkbox_last_error() and pkbox_strerror() return */
const char *pkbox__last_error(void);
const char *pkbox__errtext(int err);

#endif
