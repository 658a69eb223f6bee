/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugin.c - shared objects in a compartment: the API.
 *
 * pkbox_plugin_load() works once the process is sealed (a load before
 * pkbox_seal() is refused unless the host asks for it with
 * PKBOX_PLUGIN_UNSEALED, knowing that the plugin's constructors then run
 * with no policy in force):
 *  1. makes the plugin's domain;
 *  2. has the library's own loader (loader.c) map it, and what it needs
 *     that the process lacks, from an inspected, sealed code image: no code
 *     of theirs runs while loading; their writable segments are the
 *     domain's, their malloc family the compartment's heap (alloc.c);
 *  3. runs their constructors inside the compartment, dependencies first,
 *     under the policy; one that is stopped (a fault, a refused syscall, its
 *     time running out) makes the load fail with -EFAULT and leaves the
 *     host as it was.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "loader.h"

#define plugs (pkbox__st->plugs)

/* Is a inside the code of an object a plugin brought?  Under the library lock. */
bool pkbox__plugin_code(uintptr_t a)
{
	for (int i = 0; i < MAX_PLUGINS; i++)
		for (int k = 0; plugs[i].used && k < plugs[i].nobjs; k++)
			if (a >= plugs[i].objs[k].text_lo && a < plugs[i].objs[k].text_hi)
				return true;
	return false;
}

static struct pkbox_plug *plug_get(const struct pkbox_plugin *h, int *err)
{
	uintptr_t v = (uintptr_t)h;
	unsigned i = (unsigned)(v & 0xffff) - 1;

	if (!h) {
		*err = pkbox__err(-EINVAL, "plugin handle is NULL");
		return NULL;
	}
	if (i >= MAX_PLUGINS || !plugs[i].used || plugs[i].gen != (uint32_t)(v >> 16) || plugs[i].dom <= 0 ||
	    plugs[i].dom >= PKBOX_MAX_DOMAINS || !pkbox__st->doms[plugs[i].dom].used) {
		*err = pkbox__err(-ENOENT, "unknown or unloaded plugin %p", (void *)h);
		return NULL;
	}
	return &plugs[i];
}

/* ---------------------------------------------------------------- constructors */

static intptr_t run_init(void *fn)
{
	((void (*)(void))fn)();
	return 0;
}

static int run_one(struct pkbox_domain *dh, uintptr_t fn, unsigned timeout_ms)
{
	if (!fn || fn == (uintptr_t)-1)
		return 0;
	return timeout_ms ? pkbox_call_timed(dh, run_init, (void *)fn, NULL, timeout_ms)
			  : pkbox_call(dh, run_init, (void *)fn, NULL);
}

/* DT_INIT then the init array; on the way out the fini array backwards,
 * then DT_FINI.  The arrays are read where the loader put them, in the
 * domain's relocated data: a compartment could have changed them, which
 * only chooses what runs in the compartment. */
static int run_list(struct pkbox_domain *dh, const struct pkbox_obj *o, bool fini, unsigned timeout_ms)
{
	uintptr_t one = fini ? o->fini : o->init, array = fini ? o->fini_array : o->init_array;
	size_t n = fini ? o->fini_n : o->init_n;
	int rc = fini ? 0 : run_one(dh, one, timeout_ms);

	for (size_t i = 0; !rc && i < n; i++)
		rc = run_one(dh, ((const uintptr_t *)array)[fini ? n - 1 - i : i], timeout_ms);
	if (!rc && fini)
		rc = run_one(dh, one, timeout_ms);
	return rc;
}

static int run_ctors(struct pkbox_plug *pl, struct pkbox_domain *dh, const char *path, const char *name,
		     unsigned timeout_ms)
{
	int rc = 0;

	for (int k = pl->nobjs - 1; !rc && k >= 0; k--)
		rc = run_list(dh, &pl->objs[k], false, timeout_ms);
	if (!rc)
		return 0;
	struct pkbox_fault f = { .sz = sizeof(f) };
	char what[200] = "";
	if (!pkbox_last_fault(dh, &f)) {
		if (f.signo == SIGSYS)
			snprintf(what, sizeof(what), ": syscall %lu refused by the policy (at %#lx)",
				 (unsigned long)f.addr, (unsigned long)f.ip);
		else if (f.signo == PKBOX_TIMEOUT_SIGNAL)
			snprintf(what, sizeof(what), ": out of time after %u ms", timeout_ms);
		else
			snprintf(what, sizeof(what), ": %s at %#lx (owner %s, key %d, signal %d, at %#lx)",
				 f.access == PKBOX_FAULT_WRITE ? "write" : f.access == PKBOX_FAULT_EXEC ? "exec" : "read",
				 (unsigned long)f.addr, f.owner[0] ? f.owner : "none", f.pkey, f.signo,
				 (unsigned long)f.ip);
	}
	return pkbox__err(-EFAULT, "plugin %s: its constructor was stopped in domain %s%s", path, name, what);
}

/* ---------------------------------------------------------------- load */

#define PLUGIN_OPTS_V1 (offsetof(struct pkbox_plugin_opts, heap) + sizeof(size_t))

/* The options as far as the caller's struct goes; a larger struct's
 * unknown tail must be zero. */
static int get_opts(const struct pkbox_plugin_opts *in, struct pkbox_plugin_opts *o)
{
	memset(o, 0, sizeof(*o));
	if (!in)
		return 0;
	if (in->sz < PLUGIN_OPTS_V1)
		return pkbox__err(-EINVAL, "pkbox_plugin_load: opts->sz %zu is smaller than the first version (%zu)",
				  in->sz, (size_t)PLUGIN_OPTS_V1);
	for (size_t i = sizeof(*o); i < in->sz; i++)
		if (((const unsigned char *)in)[i])
			return pkbox__err(-EINVAL, "pkbox_plugin_load: opts has fields this library does not know");
	memcpy(o, in, in->sz < sizeof(*o) ? in->sz : sizeof(*o));
	if (o->flags & ~PKBOX_PLUGIN_UNSEALED)
		return pkbox__err(-EINVAL, "pkbox_plugin_load: unknown flags %#x", o->flags);
	return 0;
}

static struct pkbox_plug *slot_take(const char *path)
{
	struct pkbox_plug *pl = NULL;

	pkbox__lock();
	for (int i = 0; i < MAX_PLUGINS && !pl; i++)
		if (!plugs[i].used)
			pl = &plugs[i];
	if (pl) {
		uint32_t gen = pl->gen + 1;
		memset(pl, 0, sizeof(*pl));
		pl->gen = gen;
		pl->used = true;
		snprintf(pl->path, sizeof(pl->path), "%s", path);
	}
	pkbox__unlock();
	if (!pl)
		pkbox__err(-ENOSPC, "pkbox_plugin_load(%s): %d plugins are loaded already", path, MAX_PLUGINS);
	return pl;
}

static void slot_free(struct pkbox_plug *pl, struct pkbox_domain *dh)
{
	if (dh)
		pkbox_domain_destroy(dh);
	pkbox__lock();
	pkbox__unload(pl->objs, pl->nobjs);
	pl->nobjs = 0;
	pl->used = false;
	pkbox__unlock();
}

static int map_into(struct pkbox_plug *pl, struct pkbox_domain *dh, const char *path,
		    const struct pkbox_plugin_opts *o)
{
	int rc;

	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(dh, &rc);
	if (d) {
		pl->dom = d->idx;
		rc = pkbox__load(d, path, pl->objs, &pl->nobjs);
	}
	if (!rc)
		rc = pkbox__arena_setup(d, o->heap ? o->heap : d->quota / 2);
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT struct pkbox_plugin *pkbox_plugin_load(const char *path, const char *name,
						    const struct pkbox_plugin_opts *opts)
{
	struct pkbox_plugin_opts o;
	struct pkbox_plug *pl;
	struct pkbox_domain *dh = NULL;
	int rc, saved = errno;

	if (pkbox__ensure_init())
		return NULL;
	if (!path || !*path) {
		pkbox__err(-EINVAL, "pkbox_plugin_load: path is NULL or empty");
		return NULL;
	}
	if (get_opts(opts, &o))
		return NULL;
	if (!name)
		name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!pkbox_sealed() && !(o.flags & PKBOX_PLUGIN_UNSEALED)) {
		pkbox__err(-EPERM, "pkbox_plugin_load(%s): the process is not sealed; call pkbox_seal() first "
				   "(no plugin code runs in an unsealed process)", path);
		return NULL;
	}
	if (!(pl = slot_take(path)))
		return NULL;
	struct pkbox_domain_opts dopts = { .sz = sizeof(dopts), .quota = o.quota };
	dh = pkbox_domain_create(name, &dopts);
	rc = dh ? map_into(pl, dh, path, &o) : -errno;
	if (!rc)
		rc = run_ctors(pl, dh, path, name, o.timeout_ms);
	if (rc) {
		const char *m = pkbox_last_error();
		char keep[256];
		snprintf(keep, sizeof(keep), "%s", m);
		slot_free(pl, dh);
		pkbox__err(rc, "%s", keep);
		return NULL;
	}
	pkbox__msg(PKBOX_INFO, "plugin %s loaded into domain %s (%d object%s)", path, name, pl->nobjs,
		   pl->nobjs == 1 ? "" : "s");
	errno = saved;
	return (struct pkbox_plugin *)(uintptr_t)(((uintptr_t)pl->gen << 16) | (uintptr_t)(pl - plugs + 1));
}

PKBOX_EXPORT struct pkbox_domain *pkbox_plugin_domain(const struct pkbox_plugin *h)
{
	int rc;
	struct pkbox_domain *d = NULL;

	if (pkbox__ensure_init())
		return NULL;
	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	if (pl)
		d = pkbox__dom_handle(&pkbox__st->doms[pl->dom]);
	pkbox__unlock();
	return d;
}

PKBOX_EXPORT void *pkbox_plugin_sym(const struct pkbox_plugin *h, const char *sym)
{
	int rc;
	void *p = NULL;

	if (pkbox__ensure_init())
		return NULL;
	if (!sym || !*sym) {
		pkbox__err(-EINVAL, "pkbox_plugin_sym: symbol is NULL or empty");
		return NULL;
	}
	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	if (pl) {
		bool code = false;
		p = (void *)pkbox__obj_sym(&pl->objs[0], sym, &code);
		if (!p)
			pkbox__err(-ENOENT, "pkbox_plugin_sym: no symbol %s in plugin %s", sym, pl->path);
		else if (!code) {
			pkbox__err(-ENOENT, "pkbox_plugin_sym: %s is not a function of plugin %s", sym, pl->path);
			p = NULL;
		}
	}
	pkbox__unlock();
	return p;
}

PKBOX_EXPORT int pkbox_plugin_unload(struct pkbox_plugin *h)
{
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	struct pkbox_domain *dh = pl ? pkbox__dom_handle(&pkbox__st->doms[pl->dom]) : NULL;
	bool faulted = pl && pkbox__st->doms[pl->dom].faulted;
	pkbox__unlock();
	if (!pl)
		return rc;
	/* destructors inside the compartment (not after a fault), the
	 * plugin's first, then those of what it brought */
	for (int k = 0; k < pl->nobjs && !faulted && pkbox_domain_faulted(dh) == 0; k++)
		run_list(dh, &pl->objs[k], true, 0);
	rc = pkbox_domain_destroy(dh);
	if (rc == -EBUSY)
		return rc;
	slot_free(pl, NULL);
	return 0;
}

/* ---------------------------------------------------------------- boundary */

PKBOX_EXPORT void *pkbox_copy_in(struct pkbox_domain *h, const void *src, size_t n)
{
	if (!src && n) {
		pkbox__err(-EINVAL, "pkbox_copy_in: src is NULL");
		return NULL;
	}
	void *p = pkbox_malloc(h, n ? n : 1);
	if (p && n)
		memcpy(p, src, n);
	return p;
}

PKBOX_EXPORT int pkbox_copy_out(const struct pkbox_domain *h, void *dst, const void *src, size_t n)
{
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	if ((!dst || !src) && n)
		return pkbox__err(-EINVAL, "pkbox_copy_out: dst or src is NULL");
	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, &rc);
	if (d) {
		uintptr_t a = (uintptr_t)src;
		rc = pkbox__err(-EFAULT, "pkbox_copy_out: %p + %zu is not memory of domain %s", src, n, d->name);
		if (a + n >= a) {
			for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
				struct pkbox_region *g = &pkbox__st->regions[r];
				if (g->used && g->dom == d->idx && a >= g->base && a + n <= g->base + g->pages * PAGE) {
					memcpy(dst, src, n);
					rc = 0;
					break;
				}
			}
		}
	}
	pkbox__unlock();
	return rc;
}
