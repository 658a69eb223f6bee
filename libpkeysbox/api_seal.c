/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * api_seal.c - the exported functions of sealing (pkeysbox.h: "Sealing"):
 * the seal, its state, the process's exit, the refusals, code inspection.
 * Each one the API edge's way (api.h): arguments checked, the library set
 * up, the engine called.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include "api.h"
#include "init.h"
#include "inspect.h"
#include "lock.h"
#include "msg.h"
#include "refusals.h"
#include "seal.h"
#include "sys.h"

/* the first versions' sizes: pkbox_seal_opts up to flags; pkbox_refusal
 * up to arch (and its padding: ip is the first field a later version added) */
#define PKBOX_SEAL_OPTS_V1 (offsetof(struct pkbox_seal_opts, flags) + sizeof(unsigned int))
#define PKBOX_REFUSAL_V1 offsetof(struct pkbox_refusal, ip)

PKBOX_EXPORT int pkbox_seal(const struct pkbox_seal_opts *opts)
{
	PKBOX_API_ENTER();
	struct pkbox_seal_opts own;
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__opts_in(&own, sizeof(own), opts, PKBOX_SEAL_OPTS_V1, "pkbox_seal");
	if (!rc)
		rc = pkbox__seal(&own);
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_sealed(void)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (rc) {
		PKBOX_API_RET(rc);
		return 0;
	}
	pkbox__lock();
	rc = pkbox__sealed();
	pkbox__unlock();
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT void pkbox_exit(int status)
{
	pkbox__exit_group(status);
}

PKBOX_EXPORT unsigned long pkbox_refusal_count(void)
{
	PKBOX_API_ENTER();
	unsigned long n;
	int rc = pkbox__ensure_init();

	if (rc) {
		PKBOX_API_RET(rc);
		return 0;
	}
	pkbox__lock();
	n = pkbox__refusal_count();
	pkbox__unlock();
	PKBOX_API_RET(0);
	return n;
}

PKBOX_EXPORT int pkbox_last_refusal(struct pkbox_refusal *out)
{
	PKBOX_API_ENTER();
	struct pkbox_refusal own;
	int rc = pkbox__ensure_init();

	if (!rc && (!out || out->sz < PKBOX_REFUSAL_V1))
		rc = pkbox__err(-EINVAL, "pkbox_last_refusal: out is NULL or out->sz too small");
	if (rc)
		return PKBOX_API_RET(rc);
	pkbox__lock();
	rc = pkbox__refusal_last(&own);
	pkbox__unlock();
	if (!rc)
		rc = pkbox__opts_out(out, &own, sizeof(own), PKBOX_REFUSAL_V1, "pkbox_last_refusal");
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_inspect(const void *code, size_t len, struct pkbox_finding *out, size_t max)
{
	PKBOX_API_ENTER();
	int rc = 0;

	if (!code && len)
		rc = pkbox__err(-EINVAL, "pkbox_inspect: code is NULL");
	else if (!out && max)
		rc = pkbox__err(-EINVAL, "pkbox_inspect: out is NULL but max is %zu", max);
	else if ((uintptr_t)code + len < (uintptr_t)code)
		rc = pkbox__err(-EINVAL, "pkbox_inspect: %p + %zu wraps around the address space", code, len);
	if (rc)
		return PKBOX_API_RET(rc);
	size_t n = pkbox__scan(NULL, 0, code, len, (uintptr_t)code, out, max);
	return PKBOX_API_RET(n > 0x7fffffff ? 0x7fffffff : (int)n);
}
