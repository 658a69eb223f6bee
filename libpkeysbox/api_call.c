/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_call.c - the exported functions of calls, host callbacks and faults:
 * each sets the library up, calls the engine (gate.c, fault.c) and goes
 * out through the API edge (api.h). */
#include "config.h"

#include <errno.h>

#include "api.h"
#include "fault.h"
#include "gate.h"
#include "init.h"
#include "msg.h"
#include "phase.h"

/* pkbox_call() before the library is set up */
__attribute__((noinline)) static int call_first(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret)
{
	int rc = pkbox__ensure_init();

	return rc ? rc : pkbox__call(h, fn, arg, ret, 0);
}

/* (the set-up asked inline: this is every switch's way in) */
PKBOX_EXPORT int pkbox_call(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ready() ? pkbox__call(h, fn, arg, ret, 0) : call_first(h, fn, arg, ret);

	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_call_timed(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret,
				  unsigned int timeout_ms)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__call_timed(h, fn, arg, ret, timeout_ms);
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_host_run(pkbox_fn fn, void *arg, size_t stack_size, intptr_t *ret)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__host_run(fn, arg, stack_size, ret);
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_callback_register(struct pkbox_domain *h, pkbox_fn fn)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__callback_register(h, fn);
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_callback_unregister(struct pkbox_domain *h, int id)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__callback_unregister(h, id);
	return PKBOX_API_RET(rc);
}

/* Runs inside a compartment, with its rights: no library state may be
 * touched from here, the API edge's message included; errno only. */
/* Runs inside a compartment, with its rights: its message goes to the
 * compartment's own view of this thread's state. */
PKBOX_EXPORT int pkbox_host_call(int id, void *arg, intptr_t *ret)
{
	PKBOX_API_ENTER();

	if (!pkbox__inside())
		return PKBOX_API_RET(pkbox__err(-EPERM, "pkbox_host_call: called outside a compartment"));
	struct pkbox_cbret r = pkbox__gate_exit_callback(id, arg);
	if (ret)
		*ret = r.val;
	if (r.status)
		return PKBOX_API_RET(pkbox__err((int)r.status, "pkbox_host_call(%d): %s", id,
						pkbox__errtext((int)r.status)));
	return PKBOX_API_RET(0);
}

PKBOX_EXPORT int pkbox_last_fault(const struct pkbox_domain *h, struct pkbox_fault *out)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__last_fault(h, out);
	return PKBOX_API_RET(rc);
}

/* (0 when the library cannot be set up: errno says why) */
PKBOX_EXPORT unsigned long pkbox_fault_count(void)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (PKBOX_API_RET(rc))
		return 0;
	return pkbox__fault_count();
}

PKBOX_EXPORT int pkbox_signals_install(void)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__fault_install();
	return PKBOX_API_RET(rc);
}
