/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain.c - domains: life cycle, names, heaps with guard pages, stacks,
 * grants, and the PKRU value each implies. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* Handles are (generation << 16 | slot + 1): a destroyed domain's handle
 * never names the domain that later takes its slot. */
struct pkbox_domain *pkbox__dom_handle(const struct pkbox_dom *d)
{
	return (struct pkbox_domain *)(uintptr_t)(((uintptr_t)d->gen << 16) | (uintptr_t)(d->idx + 1));
}

struct pkbox_dom *pkbox__dom_get(const struct pkbox_domain *h, int *err)
{
	uintptr_t v = (uintptr_t)h;
	unsigned idx = (unsigned)(v & 0xffff) - 1;
	uint32_t gen = (uint32_t)(v >> 16);

	if (!h) {
		*err = pkbox__err(-EINVAL, "domain handle is NULL");
		return NULL;
	}
	if (idx >= PKBOX_MAX_DOMAINS || v >> 48 || !pkbox__st->doms[idx].used ||
	    pkbox__st->doms[idx].gen != gen) {
		*err = pkbox__err(-ENOENT, "unknown or destroyed domain %p", (void *)h);
		return NULL;
	}
	return &pkbox__st->doms[idx];
}

static uintptr_t slot_lo(int idx)
{
	return pkbox__gc.slots_lo + (uintptr_t)idx * PKBOX_SLOT_SIZE;
}

uintptr_t pkbox__stack_top(int row, int ti)
{
	uint64_t slot = (uint64_t)row * PKBOX_MAX_THREADS + (uint64_t)ti;

	return pkbox__gc.stacks_lo + ((slot + 1) << pkbox__gc.stride_shift);
}

/* Key-0 protection: the thread pointer of thread ti's TLS copy in domain
 * row, at the bottom of its stack slot (a stack that overflows runs into
 * its own copy first, then faults below it). */
uintptr_t pkbox__tls_tp(int row, int ti)
{
	uintptr_t bottom = pkbox__stack_top(row, ti) - pkbox__gc.stack_size;

	return (bottom + pkbox__gc.tls_below + pkbox__gc.tls_align - 1) & ~(uintptr_t)(pkbox__gc.tls_align - 1);
}

/* glibc's dtv_t */
struct pkbox_dtv {
	uintptr_t val, to_free;
};

/* Copies the calling thread's static TLS and thread control block into
 * domain d, where compartment code writes errno and the C library's other
 * per-thread state while key 0 is closed to it.  The copy's self pointers
 * and its module vector point into the copy. */
static void tls_copy(struct pkbox_dom *d, int ti)
{
	uintptr_t htp = pkbox__thread_pointer(), ctp = pkbox__tls_tp(d->idx, ti);
	uint64_t below = pkbox__gc.tls_below, tcb = pkbox__gc.tls_tcb;

	memcpy((void *)(ctp - below), (const void *)(htp - below), below + tcb);
	/* tcbhead_t: the thread pointer at 0, the dtv at 8, self at 16 */
	((uintptr_t *)ctp)[0] = ctp;
	((uintptr_t *)ctp)[2] = ctp;
	intptr_t delta = (intptr_t)(ctp - htp);
	const struct pkbox_dtv *hd = *(struct pkbox_dtv *const *)(htp + 8);
	uintptr_t room = pkbox__gc.tls_span - (ctp + tcb - (pkbox__stack_top(d->idx, ti) - pkbox__gc.stack_size));

	if (hd && (hd[-1].val + 2) * sizeof(*hd) <= room) {
		size_t len = hd[-1].val;
		struct pkbox_dtv *cd = (struct pkbox_dtv *)((ctp + tcb + 15) & ~(uintptr_t)15);

		memcpy(cd, hd - 1, (len + 2) * sizeof(*cd));
		cd++;
		for (size_t i = 1; i <= len; i++)
			if (cd[i].val >= htp - below && cd[i].val < htp)
				cd[i].val += (uintptr_t)delta;
		((uintptr_t *)ctp)[1] = (uintptr_t)cd;
	}
	pkbox__inside_fixup(htp - below, htp, delta);
}

int pkbox__stack_ensure(struct pkbox_dom *d, int ti)
{
	uint64_t bit = 1ULL << (ti % 64);

	if (!(d->stacks_mapped[ti / 64] & bit)) {
		uintptr_t top = pkbox__stack_top(d->idx, ti);

		if (pkbox__be->tag(top - pkbox__gc.stack_size, pkbox__gc.stack_size, PROT_READ | PROT_WRITE, d->pkey))
			return pkbox__err(-errno, "cannot map a stack for domain %s: %m", d->name);
		d->stacks_mapped[ti / 64] |= bit;
		d->tls_copied[ti / 64] &= ~bit;
	}
	/* a fresh copy for each new thread in this row and after a reset */
	if (pkbox__gc.key0_ro && !(d->tls_copied[ti / 64] & bit)) {
		tls_copy(d, ti);
		d->tls_copied[ti / 64] |= bit;
	}
	return 0;
}

/* ---------------------------------------------------------------- PKRU */

static uint32_t pkru_open(uint32_t p, int key)
{
	return key > 0 ? p & ~(3u << (2 * key)) : p;
}

static uint32_t pkru_set(uint32_t p, int key, uint32_t bits)
{
	return key > 0 ? (p & ~(3u << (2 * key))) | (bits << (2 * key)) : p;
}

/* Inside a domain: key 0, its own key and its grants; the library key
 * access- and write-disabled (the pattern the fault handler recognizes a
 * compartment by), the record key write-disabled. */
static uint32_t dom_pkru(const struct pkbox_dom *d)
{
	uint32_t p = 0x55555555u & ~3u;

	p = pkru_open(p, d->pkey);
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		const struct pkbox_region *g = &pkbox__st->regions[r];

		if (!g->used || g->gkey < 0)
			continue;
		if (g->dom == d->idx)
			p = pkru_open(p, g->gkey);
		for (int k = 0; k < g->ngrants; k++)
			if (g->grants[k].dom == d->idx)
				p = pkru_set(p, g->gkey, g->grants[k].access == PKBOX_ACCESS_RW ? 0 : 2);
	}
	p = pkru_set(p, pkbox__gc.key_h, 3);
	p = pkru_set(p, pkbox__gc.key_r, 2);
	if (pkbox__gc.key0_ro)
		p |= 2; /* key 0: read-only (see init.c) */
	return p;
}

void pkbox__recompute_pkru(void)
{
	for (int i = 1; i < PKBOX_MAX_DOMAINS; i++)
		if (pkbox__st->doms[i].used)
			pkbox__st->doms[i].pkru = dom_pkru(&pkbox__st->doms[i]);
}

/* ---------------------------------------------------------------- domains */

PKBOX_EXPORT struct pkbox_domain *pkbox_domain_create(const char *name, const struct pkbox_domain_opts *opts)
{
	struct pkbox_dom *d = NULL;
	int rc;

	if ((rc = pkbox__ensure_init()))
		return NULL;
	if (!name || !*name) {
		pkbox__err(-EINVAL, "pkbox_domain_create: name is NULL or empty");
		return NULL;
	}
	if (strlen(name) > PKBOX_NAME_MAX) {
		pkbox__err(-ENAMETOOLONG, "pkbox_domain_create: name longer than %d bytes", PKBOX_NAME_MAX);
		return NULL;
	}
	if (opts && opts->sz < sizeof(size_t) * 2) {
		pkbox__err(-EINVAL, "pkbox_domain_create: opts->sz is too small");
		return NULL;
	}
	size_t quota = opts && opts->quota ? opts->quota : pkbox__st->default_quota;
	if (quota > PKBOX_SLOT_SIZE / 2) {
		pkbox__err(-EINVAL, "pkbox_domain_create: quota larger than %lu MiB", PKBOX_SLOT_SIZE / 2 >> 20);
		return NULL;
	}
	pkbox__lock();
	for (int i = 1; i < PKBOX_MAX_DOMAINS; i++) {
		if (!pkbox__st->doms[i].used) {
			d = &pkbox__st->doms[i];
			break;
		}
	}
	if (!d) {
		pkbox__unlock();
		pkbox__err(-ENOSPC, "pkbox_domain_create: all %d domain slots are in use", PKBOX_MAX_DOMAINS - 1);
		return NULL;
	}
	int key = -1;
	if (pkbox__backend_in_use() == PKBOX_BACKEND_PKU) {
		key = pkbox__pkey_alloc();
		if (key < 0) {
			pkbox__unlock();
			pkbox__err(-ENOSPC, "pkbox_domain_create(%s): no protection key left", name);
			return NULL;
		}
	}
	uint32_t gen = d->gen + 1;
	memset(d, 0, sizeof(*d));
	d->used = true;
	d->gen = gen ? gen : 1;
	d->idx = (int)(d - pkbox__st->doms);
	d->pkey = key;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->quota = quota;
	d->next = slot_lo(d->idx) + PAGE;
	d->pkru = dom_pkru(d);
	struct pkbox_domain *h = pkbox__dom_handle(d);
	pkbox__unlock();
	return h;
}

PKBOX_EXPORT struct pkbox_domain *pkbox_host_domain(void)
{
	if (pkbox__ensure_init())
		return NULL;
	return pkbox__dom_handle(&pkbox__st->doms[0]);
}

static void region_release(struct pkbox_region *g);

/* Frees every allocation and stack of d; keeps the domain. */
static void dom_clear(struct pkbox_dom *d)
{
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		struct pkbox_region *g = &pkbox__st->regions[r];

		if (g->used && g->dom == d->idx)
			region_release(g);
		/* grants to d from others go too */
		for (int k = 0; g->used && k < g->ngrants; k++) {
			if (g->grants[k].dom == d->idx) {
				g->grants[k] = g->grants[--g->ngrants];
				k--;
			}
		}
	}
	/* give the whole slot back: mmap over it also resets the keys */
	pkbox__reset_range(slot_lo(d->idx), PKBOX_SLOT_SIZE);
	pkbox__be->untag(slot_lo(d->idx), PKBOX_SLOT_SIZE);
	d->next = slot_lo(d->idx) + PAGE;
	d->used_bytes = 0;
	if (pkbox__arena_dir()[d->idx]) {
		uintptr_t none = 0;

		pkbox__dir_store(&pkbox__arena_dir()[d->idx], &none, sizeof(none));
	}
}

static int dom_busy(struct pkbox_dom *d)
{
	return d->active ? pkbox__err(-EBUSY, "domain %s: a thread is inside it", d->name) : 0;
}

PKBOX_EXPORT int pkbox_domain_destroy(struct pkbox_domain *h)
{
	int rc = pkbox__ensure_init();
	struct pkbox_dom *d;

	if (rc)
		return rc;
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d && d->idx == 0)
		rc = pkbox__err(-EINVAL, "the host domain cannot be destroyed");
	else if (d)
		rc = dom_busy(d);
	if (!rc) {
		dom_clear(d);
		uintptr_t row = pkbox__gc.stacks_lo + ((uintptr_t)d->idx * PKBOX_MAX_THREADS << pkbox__gc.stride_shift);
		pkbox__reset_range(row, (uintptr_t)PKBOX_MAX_THREADS << pkbox__gc.stride_shift);
		pkbox__be->untag(row, (uintptr_t)PKBOX_MAX_THREADS << pkbox__gc.stride_shift);
		memset((void *)(pkbox__gc.records_lo + (uintptr_t)d->idx * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE),
		       0, PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE);
		pkbox__pkey_free(d->pkey);
		d->used = false;
		d->pkey = -1;
		memset(d->stacks_mapped, 0, sizeof(d->stacks_mapped));
		memset(d->tls_copied, 0, sizeof(d->tls_copied));
		pkbox__recompute_pkru();
	}
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT int pkbox_domain_reset(struct pkbox_domain *h)
{
	int rc = pkbox__ensure_init();
	struct pkbox_dom *d;

	if (rc)
		return rc;
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d)
		rc = dom_busy(d);
	if (!rc) {
		dom_clear(d);
		d->faulted = false;
		d->has_fault = false;
		memset(d->tls_copied, 0, sizeof(d->tls_copied));
		pkbox__recompute_pkru();
	}
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT int pkbox_domain_name(const struct pkbox_domain *h, char *buf, size_t len)
{
	int rc = pkbox__ensure_init();
	struct pkbox_dom *d;

	if (rc)
		return rc;
	if (!buf || !len)
		return pkbox__err(-EINVAL, "pkbox_domain_name: no buffer");
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d)
		snprintf(buf, len, "%s", d->name);
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT int pkbox_domain_pkey(const struct pkbox_domain *h)
{
	int rc = pkbox__ensure_init();
	struct pkbox_dom *d;

	if (rc)
		return rc;
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d)
		rc = d->pkey;
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT int pkbox_domain_faulted(const struct pkbox_domain *h)
{
	int rc = pkbox__ensure_init();
	struct pkbox_dom *d;

	if (rc)
		return rc;
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d)
		rc = d->faulted;
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT int pkbox_domain_usage(const struct pkbox_domain *h, size_t *used, size_t *quota)
{
	int rc = pkbox__ensure_init();
	struct pkbox_dom *d;

	if (rc)
		return rc;
	if (!used && !quota)
		return pkbox__err(-EINVAL, "pkbox_domain_usage: nothing to return");
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d) {
		if (used)
			*used = d->used_bytes;
		if (quota)
			*quota = d->quota;
	}
	pkbox__unlock();
	return rc;
}

/* ---------------------------------------------------------------- memory */

int pkbox__region_find(uintptr_t addr)
{
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		struct pkbox_region *g = &pkbox__st->regions[r];

		if (g->used && addr >= g->base && addr < g->base + g->pages * PAGE)
			return r;
	}
	return -1;
}

static int region_of(struct pkbox_dom *d, const void *ptr, const char *fn)
{
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		struct pkbox_region *g = &pkbox__st->regions[r];

		if (g->used && g->user == (uintptr_t)ptr) {
			if (g->dom != d->idx)
				return pkbox__err(-EINVAL, "%s: %p belongs to domain %s, not %s", fn, ptr,
						  pkbox__st->doms[g->dom].name, d->name);
			return r;
		}
	}
	return pkbox__err(-EINVAL, "%s: %p is not a live allocation of domain %s (double free or foreign pointer?)",
			  fn, ptr, d->name);
}

static void region_release(struct pkbox_region *g)
{
	struct pkbox_dom *d = &pkbox__st->doms[g->dom];

	if (g->foreign) {
		/* a plugin's segment: back to key 0 (it may be unmapped already) */
		if (pkbox__gc.backend == BACKEND_PKU)
			pkbox__pkey_mprotect(g->base, g->pages * PAGE, g->prot, 0);
		else {
			pkbox__mprotect((void *)g->base, g->pages * PAGE, g->prot);
			pkbox__be->untag(g->base, g->pages * PAGE);
		}
		memset(g, 0, sizeof(*g));
		return;
	}

	/* zero it and make it fault: a use after free is caught at once */
	pkbox__reset_range(g->base, g->pages * PAGE);
	pkbox__be->untag(g->base, g->pages * PAGE);
	if (g->gkey >= 0)
		pkbox__pkey_free(g->gkey);
	d->used_bytes -= g->pages * PAGE;
	memset(g, 0, sizeof(*g));
}

/* Reuses the lowest free gap big enough in the domain's slot, or bumps. */
static uintptr_t slot_find(struct pkbox_dom *d, size_t need)
{
	uintptr_t cand = slot_lo(d->idx) + PAGE;

	for (;;) {
		uintptr_t clash = 0;

		for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
			struct pkbox_region *g = &pkbox__st->regions[r];
			uintptr_t lo, hi;

			if (!g->used || g->dom != d->idx)
				continue;
			lo = g->base;
			hi = g->base + (g->pages + 1) * PAGE; /* its trailing guard */
			if (cand < hi && lo < cand + need && hi > clash)
				clash = hi;
		}
		if (!clash)
			break;
		cand = clash;
	}
	if (cand + need > slot_lo(d->idx) + PKBOX_SLOT_SIZE)
		return 0;
	if (cand + need > d->next)
		d->next = cand + need;
	return cand;
}

/* Makes [base, base + len) (outside the pool) part of domain d. */
int pkbox__dom_adopt(struct pkbox_dom *d, uintptr_t base, size_t len, int prot)
{
	int slot = -1;

	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		if (!pkbox__st->regions[r].used) {
			slot = r;
			break;
		}
	}
	if (slot < 0)
		return pkbox__err(-ENOMEM, "more than %d live regions", PKBOX_MAX_REGIONS);
	if (pkbox__be->tag(base, len, prot, d->pkey))
		return pkbox__err(-errno, "cannot give %#lx-%#lx to domain %s: %m", (unsigned long)base,
				  (unsigned long)(base + len), d->name);
	struct pkbox_region *g = &pkbox__st->regions[slot];
	g->used = true;
	g->foreign = true;
	g->prot = prot;
	g->dom = d->idx;
	g->base = base;
	g->pages = len / PAGE;
	g->size = len;
	g->user = base;
	g->gkey = -1;
	return 0;
}

void *pkbox__dom_alloc(struct pkbox_dom *d, size_t size);

static void *dom_alloc(struct pkbox_dom *d, size_t size)
{
	if (size == 0 || size > PKBOX_SLOT_SIZE / 2) {
		pkbox__err(size ? -ENOMEM : -EINVAL, "pkbox_malloc: size %zu is %s", size,
			   size ? "larger than a domain" : "zero");
		return NULL;
	}
	size_t pages = (size + PAGE - 1) / PAGE;
	if (d->used_bytes + pages * PAGE > d->quota) {
		pkbox__err(-EDQUOT, "pkbox_malloc: domain %s would use %zu of its %zu bytes", d->name,
			   d->used_bytes + pages * PAGE, d->quota);
		return NULL;
	}
	int slot = -1;
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		if (!pkbox__st->regions[r].used) {
			slot = r;
			break;
		}
	}
	if (slot < 0) {
		pkbox__err(-ENOMEM, "pkbox_malloc: more than %d live allocations", PKBOX_MAX_REGIONS);
		return NULL;
	}
	uintptr_t base = slot_find(d, (pages + 1) * PAGE);
	if (!base) {
		pkbox__err(-ENOMEM, "pkbox_malloc: domain %s has no address space left", d->name);
		return NULL;
	}
	if (pkbox__be->tag(base, pages * PAGE, PROT_READ | PROT_WRITE, d->pkey)) {
		pkbox__err(-errno, "pkbox_malloc: cannot map memory: %m");
		return NULL;
	}
	struct pkbox_region *g = &pkbox__st->regions[slot];
	g->used = true;
	g->dom = d->idx;
	g->base = base;
	g->pages = pages;
	g->size = size;
	g->gkey = -1;
	/* the object ends where the guard page begins */
	g->user = (base + pages * PAGE - ((size + 15) & ~(size_t)15));
	d->used_bytes += pages * PAGE;
	return (void *)g->user;
}

void *pkbox__dom_alloc(struct pkbox_dom *d, size_t size)
{
	return dom_alloc(d, size);
}

PKBOX_EXPORT void *pkbox_malloc(struct pkbox_domain *h, size_t size)
{
	struct pkbox_dom *d;
	void *p = NULL;
	int rc;

	if (pkbox__ensure_init())
		return NULL;
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d)
		p = dom_alloc(d, size);
	pkbox__unlock();
	return p;
}

PKBOX_EXPORT void *pkbox_calloc(struct pkbox_domain *h, size_t nmemb, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(nmemb, size, &total)) {
		pkbox__err(-ENOMEM, "pkbox_calloc: %zu * %zu overflows", nmemb, size);
		return NULL;
	}
	return pkbox_malloc(h, total); /* fresh pages are zero */
}

/* Frees an allocation of d made by the library for itself; under the lock. */
int pkbox__dom_free_ptr(struct pkbox_dom *d, void *ptr)
{
	int r = region_of(d, ptr, "pkbox_free");

	if (r < 0)
		return r;
	region_release(&pkbox__st->regions[r]);
	return 0;
}

PKBOX_EXPORT int pkbox_free(struct pkbox_domain *h, void *ptr)
{
	struct pkbox_dom *d;
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d && ptr) {
		int r = region_of(d, ptr, "pkbox_free");

		if (r < 0)
			rc = r;
		else if (pkbox__st->regions[r].ngrants && d->active)
			rc = pkbox__err(-EBUSY, "pkbox_free: %p is granted and its domain is running", ptr);
		else {
			region_release(&pkbox__st->regions[r]);
			pkbox__recompute_pkru();
		}
	}
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT void *pkbox_realloc(struct pkbox_domain *h, void *ptr, size_t size)
{
	struct pkbox_dom *d;
	void *p = NULL;
	int rc;

	if (!ptr)
		return pkbox_malloc(h, size);
	if (pkbox__ensure_init())
		return NULL;
	if (size == 0) {
		pkbox_free(h, ptr);
		return NULL;
	}
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d) {
		int r = region_of(d, ptr, "pkbox_realloc");

		if (r >= 0 && pkbox__st->regions[r].ngrants) {
			pkbox__err(-EBUSY, "pkbox_realloc: %p is granted to other domains; revoke first", ptr);
		} else if (r >= 0) {
			size_t old = pkbox__st->regions[r].size;

			p = dom_alloc(d, size);
			if (p) {
				memcpy(p, ptr, old < size ? old : size);
				region_release(&pkbox__st->regions[r]);
			}
		}
	}
	pkbox__unlock();
	return p;
}

PKBOX_EXPORT struct pkbox_domain *pkbox_domain_of(const void *addr)
{
	struct pkbox_domain *h = NULL;
	uintptr_t a = (uintptr_t)addr;

	if (pkbox__ensure_init())
		return NULL;
	pkbox__lock();
	int r = pkbox__region_find(a);
	if (r >= 0) {
		h = pkbox__dom_handle(&pkbox__st->doms[pkbox__st->regions[r].dom]);
	} else if (a >= pkbox__gc.stacks_lo && a < pkbox__gc.stacks_lo + pkbox__gc.stacks_dom_span) {
		int row = (int)(((a - pkbox__gc.stacks_lo) >> pkbox__gc.stride_shift) / PKBOX_MAX_THREADS);

		if (pkbox__st->doms[row].used)
			h = pkbox__dom_handle(&pkbox__st->doms[row]);
	}
	pkbox__unlock();
	if (!h)
		pkbox__err(-ENOENT, "pkbox_domain_of: %p is not in any domain", addr);
	return h;
}

/* For fault reports: who owns addr, and with which key. */
void pkbox__owner_name(uintptr_t a, char *buf, size_t len, int *key)
{
	int r = pkbox__region_find(a);

	*key = -1;
	buf[0] = 0;
	if (r >= 0) {
		struct pkbox_region *g = &pkbox__st->regions[r];

		snprintf(buf, len, "%s", pkbox__st->doms[g->dom].name);
		*key = g->gkey >= 0 ? g->gkey : pkbox__st->doms[g->dom].pkey;
	} else if (a >= pkbox__gc.stacks_lo && a < pkbox__gc.stacks_lo + pkbox__gc.stacks_dom_span) {
		int row = (int)(((a - pkbox__gc.stacks_lo) >> pkbox__gc.stride_shift) / PKBOX_MAX_THREADS);

		snprintf(buf, len, "%s", pkbox__st->doms[row].name);
		*key = pkbox__st->doms[row].pkey;
	} else if (a >= pkbox__gc.meta_lo && a < pkbox__gc.meta_lo + pkbox__gc.meta_len) {
		snprintf(buf, len, "library");
		*key = pkbox__gc.key_h;
	} else if ((a >= PKBOX_GC_ADDR && a < PKBOX_GC_ADDR + PAGE) || (a >= pkbox__gc.gatepage && a < pkbox__gc.gatepage + PAGE) ||
		   (a >= pkbox__gc.tdir && a < pkbox__gc.tdir + PAGE) ||
		   (a >= pkbox__gc.records_lo && a < pkbox__gc.slots_lo - 16 * PAGE) ||
		   (a >= pkbox__gc.jit_rw && a < pkbox__gc.jit_rw + PKBOX_JIT_SIZE)) {
		snprintf(buf, len, "library");
		*key = a >= pkbox__gc.records_lo && a < pkbox__gc.slots_lo ? pkbox__gc.key_r : a >= pkbox__gc.jit_rw ? pkbox__gc.key_h : 0;
	} else if (a >= pkbox__gc.pool_lo && a < pkbox__gc.pool_hi) {
		snprintf(buf, len, "guard");
	}
}

/* ---------------------------------------------------------------- grants */

PKBOX_EXPORT int pkbox_grant(struct pkbox_domain *oh, void *ptr, struct pkbox_domain *th, int access)
{
	struct pkbox_dom *o, *t;
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	if (access != PKBOX_ACCESS_READ && access != PKBOX_ACCESS_RW)
		return pkbox__err(-EINVAL, "pkbox_grant: access must be PKBOX_ACCESS_READ or PKBOX_ACCESS_RW");
	pkbox__lock();
	o = pkbox__dom_get(oh, &rc);
	t = o ? pkbox__dom_get(th, &rc) : NULL;
	if (!t)
		goto out;
	if (o == t) {
		rc = pkbox__err(-EINVAL, "pkbox_grant: a domain cannot grant to itself");
		goto out;
	}
	if (t->idx == 0) {
		rc = pkbox__err(-EINVAL, "pkbox_grant: the host has access to everything already");
		goto out;
	}
	if (!ptr) {
		rc = pkbox__err(-EINVAL, "pkbox_grant: ptr is NULL");
		goto out;
	}
	int r = region_of(o, ptr, "pkbox_grant");
	if (r < 0) {
		rc = r;
		goto out;
	}
	struct pkbox_region *g = &pkbox__st->regions[r];
	int k;
	for (k = 0; k < g->ngrants && g->grants[k].dom != t->idx; k++)
		;
	if (k == g->ngrants && g->ngrants == PKBOX_MAX_GRANTS) {
		rc = pkbox__err(-ENOSPC, "pkbox_grant: %p is granted to %d domains already", ptr, PKBOX_MAX_GRANTS);
		goto out;
	}
	if (g->gkey < 0 && pkbox__backend_in_use() == PKBOX_BACKEND_PKU) {
		/* the region gets a key of its own: a key is per page, rights per domain */
		int key = pkbox__pkey_alloc();

		if (key < 0) {
			rc = pkbox__err(-ENOSPC, "pkbox_grant: no protection key left for the shared region");
			goto out;
		}
		if (pkbox__be->tag(g->base, g->pages * PAGE, PROT_READ | PROT_WRITE, key)) {
			rc = pkbox__err(-errno, "pkbox_grant: pkey_mprotect failed: %m");
			pkbox__pkey_free(key);
			goto out;
		}
		g->gkey = key;
	}
	g->grants[k].dom = t->idx;
	g->grants[k].access = access;
	if (k == g->ngrants)
		g->ngrants++;
	pkbox__recompute_pkru();
out:
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT int pkbox_revoke(struct pkbox_domain *oh, void *ptr, struct pkbox_domain *th)
{
	struct pkbox_dom *o, *t;
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	pkbox__lock();
	o = pkbox__dom_get(oh, &rc);
	t = o ? pkbox__dom_get(th, &rc) : NULL;
	if (!t)
		goto out;
	int r = ptr ? region_of(o, ptr, "pkbox_revoke") : pkbox__err(-EINVAL, "pkbox_revoke: ptr is NULL");
	if (r < 0) {
		rc = r;
		goto out;
	}
	struct pkbox_region *g = &pkbox__st->regions[r];
	int k;
	for (k = 0; k < g->ngrants && g->grants[k].dom != t->idx; k++)
		;
	if (k == g->ngrants) {
		rc = pkbox__err(-ENOENT, "pkbox_revoke: %p is not granted to %s", ptr, t->name);
		goto out;
	}
	struct pkbox_grant_ent was = g->grants[k];
	g->grants[k] = g->grants[--g->ngrants];
	if (g->gkey >= 0) {
		/* Retag at once, so a thread already inside the grantee loses
		 * access now: with the owner's key if nobody else has it, else
		 * with a fresh key for the remaining grantees. */
		int key = g->ngrants ? pkbox__pkey_alloc() : -1;
		int tag = key >= 0 ? key : o->pkey;

		if (g->ngrants && key < 0) {
			rc = pkbox__err(-ENOSPC, "pkbox_revoke: no key left to re-share the region");
			g->grants[g->ngrants++] = was;
			goto out;
		}
		pkbox__be->tag(g->base, g->pages * PAGE, PROT_READ | PROT_WRITE, tag);
		pkbox__pkey_free(g->gkey);
		g->gkey = key;
	}
	pkbox__recompute_pkru();
out:
	pkbox__unlock();
	return rc;
}
