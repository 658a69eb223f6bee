/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * api_lib.c - the exported functions of the library's set-up section of
 * pkeysbox.h: set-up, the backend, key-0 protection, the printer, the
 * probe.  Each is a wrapper (api.h): arguments, option structs, set-up,
 * the engine.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "api.h"
#include "backend.h"
#include "cpu.h"
#include "init.h"
#include "lock.h"
#include "msg.h"
#include "seal.h"
#include "state.h"

#ifndef offsetofend
#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))
#endif

/* the first versions: every field up to stack_size, and the whole first
 * struct pkbox_info */
#define PKBOX_CONFIG_V1 offsetofend(struct pkbox_config, stack_size)
#define PKBOX_INFO_V1 sizeof(struct pkbox_info) /* unchanged since; when it grows, its old size here */

PKBOX_EXPORT int pkbox_init(const struct pkbox_config *cfg)
{
	PKBOX_API_ENTER();
	struct pkbox_config c;
	int rc = pkbox__opts_in(&c, sizeof(c), cfg, PKBOX_CONFIG_V1, "pkbox_init");

	if (!rc && (c.flags & ~(PKBOX_F_IGNORE_ENV | PKBOX_F_SEAL | PKBOX_F_KEY0_WRITABLE | PKBOX_F_MP_LAZY)))
		rc = pkbox__err(-EINVAL, "pkbox_init: unknown flags %#x", c.flags);
	if (!rc)
		rc = pkbox__init(cfg ? &c : NULL);
	if (!rc && (c.flags & PKBOX_F_SEAL)) {
		struct pkbox_seal_opts so = { .sz = sizeof(so) };

		rc = pkbox__seal(&so);
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT enum pkbox_backend pkbox_backend(void)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (PKBOX_API_RET(rc))
		return PKBOX_BACKEND_AUTO;
	return pkbox__backend_in_use();
}

PKBOX_EXPORT const char *pkbox_backend_name(enum pkbox_backend b)
{
	switch (b) {
	case PKBOX_BACKEND_AUTO: return "auto";
	case PKBOX_BACKEND_PKU: return "pku";
	case PKBOX_BACKEND_MPROTECT: return "mprotect";
	}
	return "unknown";
}

/* 1 or 0, also when set-up fails (*why then says so, errno why) */
PKBOX_EXPORT int pkbox_key0_protected(const char **why)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (why)
		*why = rc ? "the library is not set up" : pkbox__key0_why();
	if (PKBOX_API_RET(rc))
		return 0;
	return pkbox__gc.key0_ro != 0;
}

/* the printer before (NULL: none, or set-up failed, errno then says why) */
PKBOX_EXPORT pkbox_print_fn pkbox_set_print(pkbox_print_fn fn)
{
	PKBOX_API_ENTER();
	pkbox_print_fn old;
	int rc = pkbox__ensure_init();

	if (PKBOX_API_RET(rc))
		return NULL;
	pkbox__lock();
	old = pkbox__print_fn();
	pkbox__st->print_fn = fn;
	pkbox__st->print_set = true;
	pkbox__unlock();
	return old;
}

/* does not set the library up */
PKBOX_EXPORT int pkbox_probe(struct pkbox_info *info)
{
	PKBOX_API_ENTER();
	struct pkbox_info own = { 0 };
	/* info checked first (nothing written), then probed and given */
	int rc = pkbox__opts_out(info, NULL, 0, PKBOX_INFO_V1, "pkbox_probe");

	if (!rc) {
		pkbox__probe(&own);
		rc = pkbox__opts_out(info, &own, sizeof(own), PKBOX_INFO_V1, "pkbox_probe");
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT const char *pkbox_last_error(void)
{
	return pkbox__last_error();
}

PKBOX_EXPORT const char *pkbox_strerror(int err)
{
	return pkbox__errtext(err);
}
