/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runs.c - pkbox_malloc's allocator.  Objects of 1 to 4096 bytes are packed
 * by size class (16, 32, 48 ... 128, then four classes per power of two up
 * to 4096) in runs of PKBOX_RUN_PAGES pages, one region a run; larger
 * objects, and any asked for with PKBOX_MALLOC_GUARD, are page-granular
 * with a guard page (pages.c).
 *
 * Out of every compartment's reach: a run's metadata (which objects are
 * live, which may be handed out, live objects per page) is
 * pkbox_state.runs[region], and each domain's class lists and quarantine
 * are in its struct pkbox_dom.  Nothing is read from a run: a free is
 * checked against the live bitmap only.
 *
 * A freed object is zeroed and put in its domain's quarantine, a ring of
 * up to PKBOX_QUARANTINE objects and PKBOX_QUARANTINE_BYTES bytes (the
 * oldest leave first); it is handed out again only after it left.  A run
 * with no live object and none in the quarantine is given back before the
 * free returns (its pages dropped and made inaccessible).  A domain's
 * quota counts the pages that hold live objects.
 *
 * pkbox_malloc and pkbox_free of packed objects take a short path without
 * the library lock (below, and lock.h): the same code, one thread at a
 * time, never beside a holder of the lock; whatever it cannot do (map a
 * new run, give one back, write a message) goes to the locked path.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "lock.h"
#include "msg.h"
#include "pages.h"
#include "phase.h"
#include "regions.h"
#include "runs.h"
#include "state.h"

#define RG(r) (&pkbox__st->regions[r])
#define RUN(r) (&pkbox__st->runs[r])

static const uint16_t class_size[PKBOX_NCLASSES] = {
	16,  32,  48,  64,  80,   96,   112,  128,  160,  192,  224,  256,  320,  384,
	448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096,
};

int pkbox__size_class(size_t size)
{
	if (!size || size > 4096)
		return -1;
	if (size <= 128)
		return (int)((size - 1) >> 4);
	/* four classes in each (2^k, 2^(k+1)], k = 7 .. 11 */
	int k = 63 - __builtin_clzll(size - 1);
	return 8 + (k - 7) * 4 + (int)((size - 1) >> (k - 2)) - 4;
}

/* ---------------------------------------------------------------- class lists */

static void class_link(struct pkbox_dom *d, int c, int r)
{
	struct pkbox_run *u = RUN(r);

	u->cprev = 0;
	u->cnext = d->cls_head[c];
	if (d->cls_head[c])
		RUN(d->cls_head[c] - 1)->cprev = (int16_t)(r + 1);
	d->cls_head[c] = (int16_t)(r + 1);
}

static void class_unlink(struct pkbox_dom *d, int c, int r)
{
	struct pkbox_run *u = RUN(r);

	if (u->cprev)
		RUN(u->cprev - 1)->cnext = u->cnext;
	else
		d->cls_head[c] = u->cnext;
	if (u->cnext)
		RUN(u->cnext - 1)->cprev = u->cprev;
	u->cnext = u->cprev = 0;
}

/* ---------------------------------------------------------------- runs */

/* A new run of class c, all its objects available: its region, or -errno */
static int run_new(struct pkbox_dom *d, int c)
{
	int r = pkbox__pages_region(d, PKBOX_RUN_PAGES);

	if (r < 0)
		return r;
	struct pkbox_run *u = RUN(r);
	memset(u, 0, sizeof(*u));
	u->osize = class_size[c];
	u->nobj = (uint16_t)(PKBOX_RUN_PAGES * PAGE / u->osize);
	u->inv = (uint32_t)(((1ULL << 32) + u->osize - 1) / u->osize); /* exact for offsets below 2^16 */
	u->navail = u->nobj;
	for (unsigned i = 0; i < u->nobj; i += 64)
		u->avail[i / 64] = u->nobj - i >= 64 ? ~0ULL : (1ULL << (u->nobj - i)) - 1;
	RG(r)->cls = (uint8_t)(c + 1);
	RG(r)->size = u->osize;
	class_link(d, c, r);
	return r;
}

/* Run r's lowest available object (its index), and in *need the bytes of
 * pages that handing it out adds to its domain's quota.  Changes nothing
 * but the search hint. */
static inline __attribute__((always_inline)) unsigned run_peek(int r, size_t *need)
{
	struct pkbox_run *u = RUN(r);
	unsigned w = u->hint;

	while (!u->avail[w])
		w++;
	u->hint = (uint16_t)w;
	unsigned i = w * 64 + (unsigned)__builtin_ctzll(u->avail[w]);
	size_t off = (size_t)i * u->osize;
	unsigned p0 = (unsigned)(off / PAGE), p1 = (unsigned)((off + u->osize - 1) / PAGE);

	*need = ((!u->page_live[p0]) + (p1 != p0 && !u->page_live[p1])) * PAGE;
	return i;
}

/* Hands out object i of run r (run_peek's), need bytes charged to d. */
static inline __attribute__((always_inline)) void *run_commit(struct pkbox_dom *d, int r, unsigned i, size_t need)
{
	struct pkbox_run *u = RUN(r);
	size_t off = (size_t)i * u->osize;
	unsigned p0 = (unsigned)(off / PAGE), p1 = (unsigned)((off + u->osize - 1) / PAGE);

	u->avail[i / 64] &= ~(1ULL << (i % 64));
	u->live[i / 64] |= 1ULL << (i % 64);
	u->navail--;
	u->nlive++;
	u->page_live[p0]++;
	if (p1 != p0)
		u->page_live[p1]++;
	d->used_bytes += need;
	RG(r)->charged += need;
	if (!u->navail)
		class_unlink(d, RG(r)->cls - 1, r);
	d->run_hint = (int16_t)(r + 1);
	return (void *)(RG(r)->base + off);
}

/* Hands out run r's lowest available object: 0, or -EDQUOT where the
 * pages it lies on would exceed d's quota. */
static int run_take(struct pkbox_dom *d, int r, void **out)
{
	size_t need;
	unsigned i = run_peek(r, &need);

	if (d->used_bytes + need > d->quota)
		return pkbox__err(-EDQUOT, "pkbox_malloc: domain %s would use %zu of its quota of %zu bytes", d->name,
				  d->used_bytes + need, d->quota);
	*out = run_commit(d, r, i, need);
	return 0;
}

/* The quarantine's oldest object leaves it: available again.  The run it
 * belongs to where that left the run empty (to be given back), else -1. */
static inline __attribute__((always_inline)) int quar_leave(struct pkbox_dom *d)
{
	uint32_t ent = d->quar[d->quar_pos];
	int r = (int)(ent >> 12);
	unsigned i = ent & 4095;
	struct pkbox_run *u = RUN(r);

	d->quar_pos = (d->quar_pos + 1) % PKBOX_QUARANTINE;
	d->quar_n--;
	d->quar_bytes -= u->osize;
	u->nquar--;
	u->avail[i / 64] |= 1ULL << (i % 64);
	if (i / 64 < u->hint)
		u->hint = (uint16_t)(i / 64);
	if (!u->navail++)
		class_link(d, RG(r)->cls - 1, r);
	return !u->nlive && !u->nquar ? r : -1;
}

/* Gives run r back if it is still a run with no live object and none in
 * the quarantine (an empty run is on its class's list: it has objects to
 * hand out). */
void pkbox__run_give_back(int r)
{
	struct pkbox_region *g = RG(r);

	if (!g->used || !g->cls || RUN(r)->nlive || RUN(r)->nquar)
		return;
	class_unlink(&pkbox__st->doms[g->dom], g->cls - 1, r);
	pkbox__region_release(r);
}

/* the index of the live object of run r that starts at a, or -1 */
static inline int live_index(int r, uintptr_t a)
{
	const struct pkbox_run *u = RUN(r);
	size_t off = a - RG(r)->base;
	size_t i = off * u->inv >> 32;

	if (i >= u->nobj || i * u->osize != off || !(u->live[i / 64] >> (i % 64) & 1))
		return -1;
	return (int)i;
}

/* n bytes (a multiple of 32) at p zeroed, 32 bytes a store: the C
 * library's memset of some KiB (rep stosb) took about twice as long on the
 * machine of doc/PERFORMANCE.md (and the loop must stay a loop, not become
 * a call to it) */
__attribute__((target("avx2"), optimize("no-tree-loop-distribute-patterns")))
static void zero_avx2(void *p, size_t n)
{
	typedef long long v4 __attribute__((vector_size(32), aligned(1)));
	v4 *q = p, z = { 0, 0, 0, 0 };

	for (size_t k = 0; k < n / 32; k++)
		q[k] = z;
}

/* Zeroes object p of n bytes (a class size): the classes up to 128 bytes
 * without a call, 16 bytes a store; larger ones 32 bytes a store where the
 * CPU has AVX2 (each class above 128 bytes is a multiple of 32). */
static inline void zero_obj(void *p, size_t n)
{
	char *q = p;

	switch (n / 16) {
	case 8: __builtin_memset(q + 112, 0, 16); /* fall through */
	case 7: __builtin_memset(q + 96, 0, 16);  /* fall through */
	case 6: __builtin_memset(q + 80, 0, 16);  /* fall through */
	case 5: __builtin_memset(q + 64, 0, 16);  /* fall through */
	case 4: __builtin_memset(q + 48, 0, 16);  /* fall through */
	case 3: __builtin_memset(q + 32, 0, 16);  /* fall through */
	case 2: __builtin_memset(q + 16, 0, 16);  /* fall through */
	case 1: __builtin_memset(q, 0, 16); break;
	default:
		if (pkbox__gc.avx2)
			zero_avx2(p, n);
		else
			memset(p, 0, n);
	}
}

/* Frees live object i of run r (at ptr) into d's quarantine; the runs the
 * objects leaving it emptied go to empty[] (their number returned) or,
 * with empty NULL, are given back at once. */
static inline __attribute__((always_inline)) int object_free(struct pkbox_dom *d, int r, int i, void *ptr,
							  int *empty)
{
	struct pkbox_region *g = RG(r);
	struct pkbox_run *u = RUN(r);
	size_t off = (size_t)i * u->osize;
	unsigned p0 = (unsigned)(off / PAGE), p1 = (unsigned)((off + u->osize - 1) / PAGE);
	int n = 0;

	u->live[i / 64] &= ~(1ULL << (i % 64));
	u->nlive--;
	if (!--u->page_live[p0]) {
		d->used_bytes -= PAGE;
		g->charged -= PAGE;
	}
	if (p1 != p0 && !--u->page_live[p1]) {
		d->used_bytes -= PAGE;
		g->charged -= PAGE;
	}
	zero_obj(ptr, u->osize); /* what a stale pointer reads: zeros */
	u->nquar++;
	d->quar[(d->quar_pos + d->quar_n++) % PKBOX_QUARANTINE] = (uint32_t)r << 12 | (uint32_t)i;
	d->quar_bytes += u->osize;
	d->run_hint = (int16_t)(r + 1);
	while (d->quar_n == PKBOX_QUARANTINE || d->quar_bytes > PKBOX_QUARANTINE_BYTES) {
		int e = quar_leave(d);

		if (e >= 0 && empty)
			empty[n++] = e;
		else if (e >= 0)
			pkbox__run_give_back(e);
	}
	return n;
}

int pkbox__run_free(struct pkbox_dom *d, int r, void *ptr, const char *fn)
{
	struct pkbox_region *g = RG(r);

	if (g->dom != d->idx)
		return pkbox__err(-EINVAL, "%s: %p belongs to domain %s, not %s", fn, ptr, pkbox__st->doms[g->dom].name,
				  d->name);
	int i = live_index(r, (uintptr_t)ptr);
	if (i < 0)
		return pkbox__err(-EINVAL,
				  "%s: %p is not a live allocation of domain %s (double free, freed or interior pointer?)",
				  fn, ptr, d->name);
	object_free(d, r, i, ptr, NULL);
	return 0;
}

bool pkbox__run_holds(int r, uintptr_t a, size_t n)
{
	const struct pkbox_run *u = RUN(r);
	size_t i = (a - RG(r)->base) * u->inv >> 32;
	uintptr_t lo = RG(r)->base + i * u->osize;

	return i < u->nobj && (u->live[i / 64] >> (i % 64) & 1) && a + n <= lo + u->osize;
}

void pkbox__runs_clear(struct pkbox_dom *d)
{
	memset(d->cls_head, 0, sizeof(d->cls_head));
	memset(d->quar, 0, sizeof(d->quar));
	d->quar_pos = d->quar_n = d->quar_bytes = 0;
	d->run_hint = 0;
}

/* ---------------------------------------------------------------- the short path */

/* The run that holds a: the hint if it does, else the region table's answer. */
static int run_of(const struct pkbox_dom *d, uintptr_t a)
{
	int r = d->run_hint - 1;

	if (r < 0 || !RG(r)->used || !RG(r)->cls || a - RG(r)->base >= RG(r)->pages * PAGE)
		r = pkbox__region_find(a);
	return r >= 0 && RG(r)->cls ? r : -1;
}

/* What the short path needs: the set-up done, outside compartments, the
 * eager switch (with the lazy one an object may be hidden, and the fault
 * that shows it takes the lock), the word (lock.h). */
static inline bool fast_ok(void)
{
	return pkbox__ready() && !pkbox__inside() && !pkbox__gc.mp_lazy && pkbox__fast_enter();
}

void *pkbox__malloc_fast(const struct pkbox_domain *h, size_t size)
{
	if (!fast_ok())
		return NULL;
	struct pkbox_dom *d = pkbox__dom_named(h);
	int c = pkbox__size_class(size), r = !d || c < 0 ? -1 : d->cls_head[c] - 1;
	void *p = NULL;
	size_t need;

	if (r >= 0) { /* else page-granular, or a new run: mappings */
		unsigned i = run_peek(r, &need);

		if (d->used_bytes + need <= d->quota) /* else the locked path says why */
			p = run_commit(d, r, i, need);
	}
	pkbox__fast_exit();
	return p;
}

bool pkbox__free_fast(const struct pkbox_domain *h, void *ptr)
{
	int empty[PKBOX_QUARANTINE], n = -1;

	if (!fast_ok())
		return false;
	struct pkbox_dom *d = pkbox__dom_named(h);
	int r = d ? run_of(d, (uintptr_t)ptr) : -1;
	int i = r < 0 || RG(r)->dom != d->idx ? -1 : live_index(r, (uintptr_t)ptr);
	if (i >= 0)
		n = object_free(d, r, i, ptr, empty);
	pkbox__fast_exit();
	if (n > 0) { /* runs left empty: given back before the free returns */
		pkbox__lock();
		for (int k = 0; k < n; k++)
			pkbox__run_give_back(empty[k]);
		pkbox__unlock();
	}
	return n >= 0;
}

/* ---------------------------------------------------------------- the API's engine */

static int page_granular(struct pkbox_dom *d, size_t size, unsigned flags, void **out)
{
	int rc = pkbox__pages_alloc(d, size, out);

	if (!rc && (flags & PKBOX_MALLOC_GUARD))
		RG(pkbox__region_find((uintptr_t)*out))->guard = true;
	return rc;
}

int pkbox__malloc(struct pkbox_dom *d, size_t size, unsigned flags, void **out)
{
	int c = flags & PKBOX_MALLOC_GUARD ? -1 : pkbox__size_class(size);

	*out = NULL;
	if (c < 0)
		return page_granular(d, size, flags, out); /* fresh pages: zero */
	int r = d->cls_head[c] - 1;
	if (r < 0) {
		if (d->used_bytes + PAGE > d->quota)
			return pkbox__err(-EDQUOT, "pkbox_malloc: domain %s would use %zu of its quota of %zu bytes", d->name,
					  d->used_bytes + PAGE, d->quota);
		if ((r = run_new(d, c)) < 0)
			return r;
	}
	int rc = run_take(d, r, out);
	if (!rc && (flags & PKBOX__MALLOC_ZERO))
		memset(*out, 0, class_size[c]);
	return rc;
}

static int realloc_run(struct pkbox_dom *d, int r, void *ptr, size_t size, void **out)
{
	struct pkbox_region *g = RG(r);

	if (g->dom != d->idx || live_index(r, (uintptr_t)ptr) < 0)
		return pkbox__run_free(d, r, ptr, "pkbox_realloc"); /* refused: its message */
	if (pkbox__size_class(size) == g->cls - 1) {
		*out = ptr;
		return 0;
	}
	size_t old = RUN(r)->osize;
	int rc = pkbox__malloc(d, size, 0, out);
	if (rc)
		return rc;
	memcpy(*out, ptr, old < size ? old : size);
	return pkbox__run_free(d, r, ptr, "pkbox_realloc");
}

int pkbox__realloc(struct pkbox_dom *d, void *ptr, size_t size, void **out)
{
	int r = pkbox__region_find((uintptr_t)ptr);

	*out = NULL;
	if (r >= 0 && RG(r)->cls)
		return realloc_run(d, r, ptr, size, out);
	r = pkbox__region_of_ptr(d, ptr, "pkbox_realloc");
	if (r < 0)
		return r;
	if (RG(r)->ngrants)
		return pkbox__err(-EBUSY, "pkbox_realloc: %p is granted to other domains; revoke first", ptr);
	size_t old = RG(r)->size;
	int rc = pkbox__malloc(d, size, RG(r)->guard ? PKBOX_MALLOC_GUARD : 0, out);
	if (rc)
		return rc;
	memcpy(*out, ptr, old < size ? old : size);
	pkbox__region_release(r);
	return 0;
}
