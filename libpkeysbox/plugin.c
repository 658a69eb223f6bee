/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugin.c - shared objects in a compartment: the plugin table, loading,
 * symbols, unloading, copies across the boundary (the engine of
 * api_plugin.c).
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
#include <sys/mman.h>
#include <sys/stat.h>

#include "alloc.h"
#include "domain.h"
#include "fmt.h"
#include "gate.h"
#include "loader.h"
#include "lock.h"
#include "msg.h"
#include "pages.h"
#include "plugin.h"
#include "regions.h"
#include "runs.h"
#include "seal.h"
#include "state.h"

#define plugs (pkbox__st->plugs)

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
	return timeout_ms ? pkbox__call_timed(dh, run_init, (void *)fn, NULL, timeout_ms)
			  : pkbox__call(dh, run_init, (void *)fn, NULL, 0);
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
	if (!pkbox__last_fault(dh, &f)) {
		if (f.signo == SIGSYS)
			pkbox__fmt(what, sizeof(what), ": syscall %lu refused by the policy (at %#lx)",
				 (unsigned long)f.addr, (unsigned long)f.ip);
		else if (f.signo == PKBOX_TIMEOUT_SIGNAL)
			pkbox__fmt(what, sizeof(what), ": out of time after %u ms", timeout_ms);
		else
			pkbox__fmt(what, sizeof(what), ": %s at %#lx (owner %s, key %d, signal %d, at %#lx)",
				 f.access == PKBOX_FAULT_WRITE ? "write" : f.access == PKBOX_FAULT_EXEC ? "exec" : "read",
				 (unsigned long)f.addr, f.owner[0] ? f.owner : "none", f.pkey, f.signo,
				 (unsigned long)f.ip);
	}
	return pkbox__err(-EFAULT, "plugin %s: its constructor was stopped in domain %s%s", path, name, what);
}

/* ---------------------------------------------------------------- load */

static int slot_take(const char *path, struct pkbox_plug **out)
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
		pkbox__fmt(pl->path, sizeof(pl->path), "%s", path);
	}
	pkbox__unlock();
	*out = pl;
	if (!pl)
		return pkbox__err(-ENOSPC, "pkbox_plugin_load(%s): %d plugins are loaded already", path, MAX_PLUGINS);
	return 0;
}

/* the domain of handle h, with the library lock held (NULL, *rc: not held) */
static struct pkbox_dom *dom_locked(const struct pkbox_domain *h, int *rc)
{
	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, rc);
	if (!d)
		pkbox__unlock();
	return d;
}

static int dom_destroy(struct pkbox_domain *h)
{
	int rc;
	struct pkbox_dom *d = dom_locked(h, &rc);

	if (d) {
		rc = pkbox__dom_destroy(d);
		pkbox__unlock();
	}
	return rc;
}

static int dom_faulted(struct pkbox_domain *h)
{
	int rc;
	struct pkbox_dom *d = dom_locked(h, &rc);

	if (d) {
		rc = d->faulted;
		pkbox__unlock();
	}
	return rc;
}

static void slot_free(struct pkbox_plug *pl, struct pkbox_domain *dh)
{
	if (dh)
		dom_destroy(dh);
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
	if (d && o->heap > d->quota)
		rc = pkbox__err(-EINVAL, "pkbox_plugin_load(%s): a heap of %zu bytes would use more than the quota (%zu)",
				path, o->heap, d->quota);
	/* the heap first: the C library's variables a plugin uses (environ,
	 * tzname ...) are bound to the domain's copies, in it */
	else if (d)
		rc = pkbox__arena_setup(d, o->heap ? o->heap : d->quota / 2);
	if (d && !rc) {
		pl->dom = d->idx;
		rc = pkbox__load(d, path, pl->objs, &pl->nobjs, pl->shared, sizeof(pl->shared));
	}
	for (int i = 0; !rc && i < pl->nobjs; i++) {
		const struct pkbox_obj *ob = &pl->objs[i];
		if (ob->tls_memsz)
			rc = pkbox__arena_tls(d, i, ob->tls_image, ob->tls_filesz, ob->tls_memsz, ob->tls_align);
	}
	pkbox__unlock();
	return rc;
}

/* its domain, the objects mapped into it, their constructors run */
static int load_into(struct pkbox_plug *pl, const char *path, const char *name, const struct pkbox_plugin_opts *o)
{
	struct pkbox_dom *d = NULL;
	struct pkbox_domain *dh = NULL;
	char keep[256];
	int rc;

	pkbox__lock();
	rc = pkbox__dom_create(name, o->quota, &d);
	if (!rc)
		dh = pkbox__dom_handle(d);
	pkbox__unlock();
	if (!rc)
		rc = map_into(pl, dh, path, o);

	if (!rc)
		rc = run_ctors(pl, dh, path, name, o->timeout_ms);
	if (!rc)
		return 0;
	/* what went wrong, kept across the clean-up */
	pkbox__fmt(keep, sizeof(keep), "%s", pkbox__pending());
	slot_free(pl, dh);
	return pkbox__err(rc, "%s", keep);
}

/* what went into the compartment, and what it shares with the host */
static void report_load(const struct pkbox_plug *pl, const char *path, const char *name)
{
	char objs[512] = "";
	size_t len = 0;

	for (int i = 1; i < pl->nobjs && len < sizeof(objs); i++)
		len += (size_t)pkbox__fmt(objs + len, sizeof(objs) - len, "%s%s", i > 1 ? ", " : "", pl->objs[i].name);
	pkbox__msg(PKBOX_INFO, "plugin %s loaded into domain %s (%d object%s); its own copies there: %s; shared "
			       "with the host (the C runtime): %s",
		   path, name, pl->nobjs, pl->nobjs == 1 ? "" : "s", objs[0] ? objs : "none",
		   pl->shared[0] ? pl->shared : "none");
}

int pkbox__plugin_load(const char *path, const char *name, const struct pkbox_plugin_opts *o,
		       struct pkbox_plugin **out)
{
	struct pkbox_plug *pl;
	int rc;

	struct stat sb;
	if (stat(path, &sb))
		return pkbox__err(-ENOENT, "pkbox_plugin_load(%s): %m", path);
	if (!S_ISREG(sb.st_mode))
		return pkbox__err(-ENOEXEC, "pkbox_plugin_load(%s): not a regular file", path);
	if (!*name)
		return pkbox__err(-EINVAL, "pkbox_plugin_load(%s): no domain name (give one, or a path ending in a file name)",
				  path);
	if (strlen(name) > PKBOX_NAME_MAX)
		return pkbox__err(-ENAMETOOLONG, "pkbox_plugin_load(%s): domain name longer than %d bytes", path,
				  PKBOX_NAME_MAX);
	pkbox__lock();
	int sealed = pkbox__sealed();
	pkbox__unlock();
	if (!sealed && !(o->flags & PKBOX_PLUGIN_UNSEALED))
		return pkbox__err(-EPERM, "pkbox_plugin_load(%s): the process is not sealed; call pkbox_seal() first "
					  "(no plugin code runs in an unsealed process)", path);
	rc = slot_take(path, &pl);
	if (!rc)
		rc = load_into(pl, path, name, o);
	if (rc)
		return rc;
	report_load(pl, path, name);
	*out = (struct pkbox_plugin *)(uintptr_t)(((uintptr_t)pl->gen << 16) | (uintptr_t)(pl - plugs + 1));
	return 0;
}

int pkbox__plugin_domain(const struct pkbox_plugin *h, struct pkbox_domain **out)
{
	int rc = 0;

	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	if (pl)
		*out = pkbox__dom_handle(&pkbox__st->doms[pl->dom]);
	pkbox__unlock();
	return rc;
}

int pkbox__plugin_sym(const struct pkbox_plugin *h, const char *sym, void **out)
{
	int rc = 0;

	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	if (pl) {
		bool code = false;
		void *p = (void *)pkbox__obj_sym(&pl->objs[0], sym, &code);
		if (!p)
			rc = pkbox__err(-ENOENT, "pkbox_plugin_sym: no symbol %s in plugin %s", sym, pl->path);
		else if (!code)
			rc = pkbox__err(-ENOENT, "pkbox_plugin_sym: %s is not a function of plugin %s", sym, pl->path);
		else
			*out = p;
	}
	pkbox__unlock();
	return rc;
}

/* what sym is in pl (the plugin first, then what it brought), and whose */
static int sym_info(const struct pkbox_plug *pl, const char *sym, struct pkbox_sym_info *info)
{
	uintptr_t a = 0;
	size_t size = 0;
	bool code = false;
	int rc = -ENOENT, k;

	for (k = 0; rc == -ENOENT && k < pl->nobjs; k++)
		rc = pkbox__obj_sym_size(&pl->objs[k], sym, &a, &size, &code);
	if (rc == -ENOENT)
		return pkbox__err(rc, "pkbox_plugin_sym_info: no symbol %s in plugin %s or what it brought", sym, pl->path);
	if (rc)
		return pkbox__err(rc, "pkbox_plugin_sym_info: %s of %s is thread-local: each thread has its own", sym,
				  pl->objs[k - 1].name);
	info->addr = (void *)a;
	info->size = size;
	info->kind = code ? PKBOX_SYM_FUNC : PKBOX_SYM_DATA;
	pkbox__fmt(info->object, sizeof(info->object), "%s", pl->objs[k - 1].name);
	int r = code ? -1 : pkbox__region_find(a);
	const struct pkbox_region *g = r >= 0 ? &pkbox__st->regions[r] : NULL;
	if (g && g->dom == pl->dom) {
		info->owner = pkbox__dom_handle(&pkbox__st->doms[pl->dom]);
		info->writable = g->foreign && (g->prot & PROT_WRITE);
	}
	return 0;
}

int pkbox__plugin_sym_info(const struct pkbox_plugin *h, const char *sym, struct pkbox_sym_info *info)
{
	int rc = 0;

	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	if (pl)
		rc = sym_info(pl, sym, info);
	pkbox__unlock();
	return rc;
}

int pkbox__plugin_unload(struct pkbox_plugin *h)
{
	int rc = 0;

	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	struct pkbox_domain *dh = pl ? pkbox__dom_handle(&pkbox__st->doms[pl->dom]) : NULL;
	bool faulted = pl && pkbox__st->doms[pl->dom].faulted;
	pkbox__unlock();
	if (!pl)
		return rc;
	/* destructors inside the compartment (not after a fault), the
	 * plugin's first, then those of what it brought */
	for (int k = 0; k < pl->nobjs && !faulted && dom_faulted(dh) == 0; k++)
		run_list(dh, &pl->objs[k], true, 0);
	rc = dom_destroy(dh);
	if (rc == -EBUSY)
		return rc;
	slot_free(pl, NULL);
	return 0;
}

/* ---------------------------------------------------------------- boundary */

int pkbox__copy_in(struct pkbox_domain *h, const void *src, size_t n, void **out)
{
	void *p = NULL;
	int rc;
	struct pkbox_dom *d = dom_locked(h, &rc);

	if (!d)
		return rc;
	rc = pkbox__malloc(d, n ? n : 1, 0, &p);
	pkbox__unlock();
	if (rc)
		return rc;
	if (n)
		memcpy(p, src, n);
	*out = p;
	return 0;
}

/* Is [a, a + n) inside one region of d, and inside one live object where
 * the region is a run of packed objects?  (Regions do not overlap: the one
 * that holds a, or for n == 0 the one that ends at a.) */
static bool dom_holds(const struct pkbox_dom *d, uintptr_t a, size_t n)
{
	for (int k = 0; k < 2; k++) {
		int r = pkbox__region_find(k ? a - 1 : a);
		const struct pkbox_region *g = r >= 0 ? &pkbox__st->regions[r] : NULL;

		if (g && g->dom == d->idx && g->cls)
			return pkbox__run_holds(r, k ? a - 1 : a, n + (size_t)k);
		if (g && g->dom == d->idx && a >= g->base && a + n <= g->base + g->pages * PAGE)
			return true;
		if (n || !a)
			break;
	}
	return false;
}

int pkbox__copy_out(const struct pkbox_domain *h, void *dst, const void *src, size_t n)
{
	int rc = 0;

	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, &rc);
	if (d) {
		uintptr_t a = (uintptr_t)src;

		if (a + n >= a && dom_holds(d, a, n))
			memcpy(dst, src, n);
		else
			rc = pkbox__err(-EFAULT, "pkbox_copy_out: %p + %zu is not memory of domain %s", src, n,
					d->name);
	}
	pkbox__unlock();
	return rc;
}
