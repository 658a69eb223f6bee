/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api_domain.c - the exported functions of domains, their memory, grants
 * and committed code: argument checks, set-up, the library lock, and the
 * engine (domain.c, runs.c, grants.c, jit.c) behind the API edge (api.h). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "domain.h"
#include "fmt.h"
#include "grants.h"
#include "init.h"
#include "jit.h"
#include "lock.h"
#include "msg.h"
#include "phase.h"
#include "runs.h"
#include "state.h"

/* the first version of struct pkbox_domain_opts: sz and quota */
#define PKBOX_DOMAIN_OPTS_V1 (offsetof(struct pkbox_domain_opts, quota) + sizeof(size_t))

/* Set-up, the lock, the domain of h: NULL with *rc on failure (the lock
 * released), else the domain with the lock held. */
static struct pkbox_dom *enter_dom(const struct pkbox_domain *h, int *rc)
{
	if ((*rc = pkbox__ensure_init()))
		return NULL;
	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, rc);
	if (!d)
		pkbox__unlock();
	return d;
}

/* ---------------------------------------------------------------- domains */

PKBOX_EXPORT struct pkbox_domain *pkbox_domain_create(const char *name, const struct pkbox_domain_opts *opts)
{
	PKBOX_API_ENTER();
	struct pkbox_domain_opts o;
	struct pkbox_dom *d = NULL;
	int rc = pkbox__opts_in(&o, sizeof(o), opts, PKBOX_DOMAIN_OPTS_V1, "pkbox_domain_create");

	if (!rc && (!name || !*name))
		rc = pkbox__err(-EINVAL, "pkbox_domain_create: name is NULL or empty");
	else if (!rc && strlen(name) > PKBOX_NAME_MAX)
		rc = pkbox__err(-ENAMETOOLONG, "pkbox_domain_create: name longer than %d bytes", PKBOX_NAME_MAX);
	if (!rc)
		rc = pkbox__ensure_init();
	if (!rc) {
		pkbox__lock();
		rc = pkbox__dom_create(name, o.quota, &d);
		pkbox__unlock();
	}
	return PKBOX_API_RET_PTR(d ? pkbox__dom_handle(d) : NULL, rc);
}

PKBOX_EXPORT struct pkbox_domain *pkbox_host_domain(void)
{
	PKBOX_API_ENTER();
	int rc = pkbox__ensure_init();

	return PKBOX_API_RET_PTR(rc ? NULL : pkbox__dom_handle(&pkbox__st->doms[0]), rc);
}

PKBOX_EXPORT int pkbox_domain_destroy(struct pkbox_domain *h)
{
	PKBOX_API_ENTER();
	int rc;
	struct pkbox_dom *d = enter_dom(h, &rc);

	if (d) {
		rc = pkbox__dom_destroy(d);
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_domain_reset(struct pkbox_domain *h)
{
	PKBOX_API_ENTER();
	int rc;
	struct pkbox_dom *d = enter_dom(h, &rc);

	if (d) {
		rc = pkbox__dom_reset(d);
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_domain_name(const struct pkbox_domain *h, char *buf, size_t len)
{
	PKBOX_API_ENTER();
	int rc;

	if (!buf || !len)
		return PKBOX_API_RET(pkbox__err(-EINVAL, "pkbox_domain_name: no buffer"));
	struct pkbox_dom *d = enter_dom(h, &rc);
	if (d) {
		pkbox__fmt(buf, len, "%s", d->name);
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_domain_pkey(const struct pkbox_domain *h)
{
	PKBOX_API_ENTER();
	int rc;
	struct pkbox_dom *d = enter_dom(h, &rc);

	if (d) {
		rc = pkbox__dom_pkey(d);
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_domain_faulted(const struct pkbox_domain *h)
{
	PKBOX_API_ENTER();
	int rc;
	struct pkbox_dom *d = enter_dom(h, &rc);

	if (d) {
		rc = d->faulted;
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_domain_usage(const struct pkbox_domain *h, size_t *used, size_t *quota)
{
	PKBOX_API_ENTER();
	int rc;

	if (!used && !quota)
		return PKBOX_API_RET(pkbox__err(-EINVAL, "pkbox_domain_usage: nothing to return"));
	struct pkbox_dom *d = enter_dom(h, &rc);
	if (d) {
		if (used)
			*used = d->used_bytes;
		if (quota)
			*quota = d->quota;
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT struct pkbox_domain *pkbox_domain_of(const void *addr)
{
	PKBOX_API_ENTER();
	struct pkbox_domain *h = NULL;
	int rc = pkbox__ensure_init();

	if (!rc) {
		pkbox__lock();
		struct pkbox_dom *d = pkbox__dom_of((uintptr_t)addr);
		h = d ? pkbox__dom_handle(d) : NULL;
		pkbox__unlock();
		if (!h)
			rc = pkbox__err(-ENOENT, "pkbox_domain_of: %p is not in any domain", addr);
	}
	return PKBOX_API_RET_PTR(h, rc);
}

/* ---------------------------------------------------------------- memory */

static void *dom_malloc(struct pkbox_domain *h, size_t size, unsigned flags, int *rc)
{
	void *p = NULL;
	struct pkbox_dom *d = enter_dom(h, rc);

	if (d) {
		*rc = pkbox__malloc(d, size, flags, &p);
		pkbox__unlock();
	}
	return p;
}

PKBOX_EXPORT void *pkbox_malloc(struct pkbox_domain *h, size_t size)
{
	void *p = pkbox__malloc_fast(h, size);

	if (p) { /* the short path: errno untouched, nothing pending */
		pkbox__pending_clear();
		return p;
	}
	PKBOX_API_ENTER();
	int rc;
	p = dom_malloc(h, size, 0, &rc);

	return PKBOX_API_RET_PTR(p, rc);
}

PKBOX_EXPORT void *pkbox_malloc_flags(struct pkbox_domain *h, size_t size, unsigned int flags)
{
	PKBOX_API_ENTER();
	int rc;

	if (flags & ~PKBOX_MALLOC_GUARD)
		return PKBOX_API_RET_PTR(NULL, pkbox__err(-EINVAL, "pkbox_malloc_flags: unknown flags %#x", flags));
	void *p = dom_malloc(h, size, flags, &rc);
	return PKBOX_API_RET_PTR(p, rc);
}

PKBOX_EXPORT void *pkbox_calloc(struct pkbox_domain *h, size_t nmemb, size_t size)
{
	PKBOX_API_ENTER();
	size_t total;
	int rc;

	if (__builtin_mul_overflow(nmemb, size, &total))
		return PKBOX_API_RET_PTR(NULL, pkbox__err(-ENOMEM, "pkbox_calloc: %zu * %zu overflows", nmemb, size));
	void *p = pkbox__malloc_fast(h, total);

	if (p) { /* zeroed out of the short path: it may not touch the object */
		memset(p, 0, total);
		pkbox__pending_clear();
		return p;
	}
	/* packed objects are zeroed, fresh pages are zero */
	p = dom_malloc(h, total, PKBOX__MALLOC_ZERO, &rc);
	return PKBOX_API_RET_PTR(p, rc);
}

PKBOX_EXPORT int pkbox_free(struct pkbox_domain *h, void *ptr)
{
	if (ptr && pkbox__free_fast(h, ptr)) {
		pkbox__pending_clear();
		return 0;
	}
	PKBOX_API_ENTER();
	int rc;
	struct pkbox_dom *d = enter_dom(h, &rc);

	if (d) {
		rc = ptr ? pkbox__dom_free(d, ptr) : 0;
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT void *pkbox_realloc(struct pkbox_domain *h, void *ptr, size_t size)
{
	PKBOX_API_ENTER();
	void *p = NULL;
	int rc;
	struct pkbox_dom *d = enter_dom(h, &rc);

	if (d) {
		if (!ptr)
			rc = pkbox__malloc(d, size, 0, &p);
		else if (!size)
			rc = pkbox__dom_free(d, ptr);
		else
			rc = pkbox__realloc(d, ptr, size, &p);
		pkbox__unlock();
	}
	if (!ptr || size || rc)
		return PKBOX_API_RET_PTR(p, rc);
	PKBOX_API_RET(0); /* freed: NULL, errno as it was */
	return NULL;
}

/* ---------------------------------------------------------------- grants */

PKBOX_EXPORT int pkbox_grant(struct pkbox_domain *oh, void *ptr, struct pkbox_domain *th, int access)
{
	PKBOX_API_ENTER();
	int rc;

	if (access != PKBOX_ACCESS_READ && access != PKBOX_ACCESS_RW)
		return PKBOX_API_RET(
			pkbox__err(-EINVAL, "pkbox_grant: access must be PKBOX_ACCESS_READ or PKBOX_ACCESS_RW"));
	struct pkbox_dom *o = enter_dom(oh, &rc);
	if (o) {
		struct pkbox_dom *t = pkbox__dom_get(th, &rc);

		if (t)
			rc = pkbox__grant(o, ptr, t, access);
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

PKBOX_EXPORT int pkbox_revoke(struct pkbox_domain *oh, void *ptr, struct pkbox_domain *th)
{
	PKBOX_API_ENTER();
	int rc;
	struct pkbox_dom *o = enter_dom(oh, &rc);

	if (o) {
		struct pkbox_dom *t = pkbox__dom_get(th, &rc);

		if (t)
			rc = pkbox__revoke(o, ptr, t);
		pkbox__unlock();
	}
	return PKBOX_API_RET(rc);
}

/* ---------------------------------------------------------------- code */

PKBOX_EXPORT void *pkbox_code_commit(struct pkbox_domain *h, const void *code, size_t len)
{
	PKBOX_API_ENTER();
	void *out = NULL;
	int rc;

	if (!code || !len)
		return PKBOX_API_RET_PTR(NULL, pkbox__err(-EINVAL, "pkbox_code_commit: code is NULL or len is 0"));
	if (pkbox__inside())
		return PKBOX_API_RET_PTR(
			NULL, pkbox__err(-EPERM, "pkbox_code_commit: called inside a compartment (use a host callback)"));
	struct pkbox_dom *d = enter_dom(h, &rc);
	if (d) {
		rc = pkbox__code_commit(d, code, len, &out);
		pkbox__unlock();
	}
	return PKBOX_API_RET_PTR(out, rc);
}
