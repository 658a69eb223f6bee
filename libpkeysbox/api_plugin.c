/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * api_plugin.c - the exported functions of pkeysbox.h's plugin section:
 * wrappers (api.h) around plugin.c.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "api.h"
#include "init.h"
#include "msg.h"
#include "plugin.h"

#ifndef offsetofend
#define offsetofend(TYPE, FIELD) (offsetof(TYPE, FIELD) + sizeof(((TYPE *)0)->FIELD))
#endif

/* the first version: sz, quota and heap */
#define PKBOX_PLUGIN_OPTS_V1 offsetofend(struct pkbox_plugin_opts, heap)

PKBOX_EXPORT struct pkbox_plugin *pkbox_plugin_load(const char *path, const char *name,
						    const struct pkbox_plugin_opts *opts)
{
	PKBOX_API_ENTER();
	struct pkbox_plugin_opts o;
	struct pkbox_plugin *p = NULL;
	int rc = pkbox__ensure_init();

	if (!rc && (!path || !*path))
		rc = pkbox__err(-EINVAL, "pkbox_plugin_load: path is NULL or empty");
	if (!rc)
		rc = pkbox__opts_in(&o, sizeof(o), opts, PKBOX_PLUGIN_OPTS_V1, "pkbox_plugin_load");
	if (!rc && (o.flags & ~PKBOX_PLUGIN_UNSEALED))
		rc = pkbox__err(-EINVAL, "pkbox_plugin_load: unknown flags %#x", o.flags);
	if (!rc && !name)
		name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!rc)
		rc = pkbox__plugin_load(path, name, &o, &p);
	return PKBOX_API_RET_PTR(p, rc);
}

PKBOX_EXPORT struct pkbox_domain *pkbox_plugin_domain(const struct pkbox_plugin *h)
{
	PKBOX_API_ENTER();
	struct pkbox_domain *d = NULL;
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__plugin_domain(h, &d);
	return PKBOX_API_RET_PTR(d, rc);
}

PKBOX_EXPORT void *pkbox_plugin_sym(const struct pkbox_plugin *h, const char *sym)
{
	PKBOX_API_ENTER();
	void *p = NULL;
	int rc = pkbox__ensure_init();

	if (!rc && (!sym || !*sym))
		rc = pkbox__err(-EINVAL, "pkbox_plugin_sym: symbol is NULL or empty");
	if (!rc)
		rc = pkbox__plugin_sym(h, sym, &p);
	return PKBOX_API_RET_PTR(p, rc);
}

/* the first version: every field up to object */
#define PKBOX_SYM_INFO_V1 offsetofend(struct pkbox_sym_info, object)

PKBOX_EXPORT int pkbox_plugin_sym_info(const struct pkbox_plugin *h, const char *sym, struct pkbox_sym_info *info)
{
	PKBOX_API_ENTER();
	struct pkbox_sym_info own;
	int rc = pkbox__ensure_init();

	if (!rc && (!sym || !*sym))
		rc = pkbox__err(-EINVAL, "pkbox_plugin_sym_info: symbol is NULL or empty");
	if (!rc)
		rc = pkbox__opts_out(info, NULL, 0, PKBOX_SYM_INFO_V1, "pkbox_plugin_sym_info");
	if (!rc) {
		memset(&own, 0, sizeof(own));
		rc = pkbox__plugin_sym_info(h, sym, &own);
	}
	if (!rc)
		rc = pkbox__opts_out(info, &own, sizeof(own), PKBOX_SYM_INFO_V1, "pkbox_plugin_sym_info");
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_plugin_unload(struct pkbox_plugin *h)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc)
		rc = pkbox__plugin_unload(h);
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT void *pkbox_copy_in(struct pkbox_domain *h, const void *src, size_t n)
{
	PKBOX_API_ENTER();
	void *p = NULL;
	int rc = 0;

	if (!src && n)
		rc = pkbox__err(-EINVAL, "pkbox_copy_in: src is NULL");
	if (!rc)
		rc = pkbox__ensure_init();
	if (!rc)
		rc = pkbox__copy_in(h, src, n, &p);
	return PKBOX_API_RET_PTR(p, rc);
}

PKBOX_EXPORT int pkbox_copy_out(const struct pkbox_domain *h, void *dst, const void *src, size_t n)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	if (!rc && (!dst || !src) && n)
		rc = pkbox__err(-EINVAL, "pkbox_copy_out: dst or src is NULL");
	if (!rc)
		rc = pkbox__copy_out(h, dst, src, n);
	return PKBOX_API_RET(rc);
}
