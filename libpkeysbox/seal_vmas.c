/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_vmas.c - the seal's check of the mappings (the kernel's view): no
 * executable memory that can change, the library's memory as it made it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#include "backend.h"
#include "fmt.h"
#include "gate_layout.h"
#include "msg.h"
#include "seal_proc.h"
#include "stacks.h"
#include "state.h"

void pkbox__vmas_free(struct vmas *m)
{
	pkbox__buf_free(&m->text);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* /proc/self/maps, or smaps where the protection keys are needed. */
int pkbox__vmas_load(struct vmas *m, bool keys)
{
	int rc = pkbox__slurp_at(AT_FDCWD, keys ? "/proc/self/smaps" : "/proc/self/maps", &m->text);
	size_t lines = 1;

	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: cannot read /proc/self/%s: %s", keys ? "smaps" : "maps",
				  pkbox__strerror(-rc));
	for (size_t i = 0; i < m->text.len; i++)
		lines += m->text.p[i] == '\n';
	m->v = calloc(lines, sizeof(*m->v));
	if (!m->v)
		return pkbox__err(-ENOMEM, "pkbox_seal: out of memory");
	m->n = 0;
	for (char *l = m->text.p; l && *l;) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = 0;
		unsigned long lo, hi, off, ino;
		unsigned maj, mi;
		char perm[8];
		int pos = 0;

		if (sscanf(l, "%lx-%lx %7s %lx %x:%x %lu %n", &lo, &hi, perm, &off, &maj, &mi, &ino, &pos) >= 7) {
			struct vma *v = &m->v[m->n++];

			v->lo = lo;
			v->hi = hi;
			v->off = off;
			v->dev = makedev(maj, mi);
			v->ino = ino;
			v->prot = (perm[0] == 'r' ? PROT_READ : 0) | (perm[1] == 'w' ? PROT_WRITE : 0) |
				  (perm[2] == 'x' ? PROT_EXEC : 0);
			v->shared = perm[3] == 's';
			v->pkey = -1;
			v->path = pos ? l + pos : "";
		} else if (m->n && !strncmp(l, "ProtectionKey:", 14)) {
			m->v[m->n - 1].pkey = atoi(l + 14);
		}
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* The first mapping that ends above a (maps are in address order). */
static size_t vma_first(const struct vmas *m, uintptr_t a)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].hi <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const char *pkbox__vma_name(const struct vma *v)
{
	return v->path[0] ? v->path : "anonymous";
}

bool pkbox__in_pool(uintptr_t lo, uintptr_t hi)
{
	return lo < pkbox__gc.pool_hi && hi > pkbox__gc.pool_lo;
}

/* No mapping writable and executable; none executable whose contents can
 * change behind it: a memfd that is not write-sealed, shared memory, a
 * file this process has open for writing, or anything with a writable
 * shared view.  The library's own code area (in the pool) is checked with
 * the pool. */
int pkbox__exec_check(const struct vmas *m, const struct fds *f)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct vma *v = &m->v[i];

		if ((v->prot & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC))
			return pkbox__err(-EPERM, "pkbox_seal: mapping %#lx-%#lx (%s) is writable and executable",
					  (unsigned long)v->lo, (unsigned long)v->hi, pkbox__vma_name(v));
		if (!(v->prot & PROT_EXEC) || pkbox__in_pool(v->lo, v->hi))
			continue;
		if (!strcmp(v->path, "[vdso]") || !strcmp(v->path, "[vsyscall]"))
			continue;
		if (!strncmp(v->path, "/SYSV", 5) || !strncmp(v->path, "/dev/shm/", 9))
			return pkbox__err(-EPERM, "pkbox_seal: shared memory is mapped executable at %#lx-%#lx (%s): "
						  "other views of it can change the code",
					  (unsigned long)v->lo, (unsigned long)v->hi, v->path);
		bool sealed = false;
		if (!strncmp(v->path, "/memfd:", 7)) {
			const struct fdent *e = pkbox__fd_of(f, v->dev, v->ino, false);
			int seals = e ? fcntl(e->fd, F_GET_SEALS) : -1;

			if (!e)
				return pkbox__err(-EPERM, "pkbox_seal: a memfd is mapped executable at %#lx-%#lx (%s) "
							  "and no descriptor shows whether it is write-sealed",
						  (unsigned long)v->lo, (unsigned long)v->hi, v->path);
			if (seals < 0 || !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
				return pkbox__err(-EPERM, "pkbox_seal: the memfd mapped executable at %#lx-%#lx (%s) is "
							  "not write-sealed: it can be written after inspection",
						  (unsigned long)v->lo, (unsigned long)v->hi, v->path);
			sealed = seals & F_SEAL_WRITE;
		}
		if (!v->ino)
			continue;
		const struct fdent *w = sealed ? NULL : pkbox__fd_of(f, v->dev, v->ino, true);
		if (w)
			return pkbox__err(-EPERM, "pkbox_seal: %s is mapped executable at %#lx and open for writing "
						  "(descriptor %d): writes would change the code after inspection",
					  v->path, (unsigned long)v->lo, w->fd);
		for (size_t j = 0; j < m->n; j++) {
			const struct vma *o = &m->v[j];

			if (o->shared && (o->prot & PROT_WRITE) && o->dev == v->dev && o->ino == v->ino)
				return pkbox__err(-EPERM, "pkbox_seal: %s is mapped executable at %#lx and writable "
							  "and shared at %#lx: writes there change the code",
						  pkbox__vma_name(v), (unsigned long)v->lo, (unsigned long)o->lo);
		}
	}
	return 0;
}

struct want {
	uintptr_t lo, hi;
	int prot;
	int key; /* -1: any */
	const char *what;
};

struct wants {
	struct want *v;
	size_t n, cap;
};

static int want_add(struct wants *w, uintptr_t lo, uintptr_t hi, int prot, int key, const char *what)
{
	if (hi <= lo)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		struct want *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = (struct want){ lo, hi, prot, pkbox__be->keyed ? key : -1, what };
	return 0;
}

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* What the library set up, from its own records (library memory, which
 * only host code reaches before the seal). */
static int wants_build(struct wants *w)
{
	const struct pkbox_gatecfg *gc = &pkbox__gc;
	const struct pkbox_state *st = pkbox__st;
	int rw = PROT_READ | PROT_WRITE, e = 0;
	uint64_t records_len = (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE;

	/* (the mprotect backend gives what its state does not use back to the
	 * reservation, so that the part it switches is one mapping) */
	uint64_t state_len = pkbox__be->state_len();
	e |= want_add(w, gc->meta_lo, gc->meta_lo + state_len, rw, gc->key_h, "the library's state");
	e |= want_add(w, PKBOX_GC_ADDR, PKBOX_GC_ADDR + PAGE, PROT_READ, 0, "the gate configuration");
	/* (mprotect: read-only, its writable view the state's last page) */
	e |= want_add(w, gc->gatepage, gc->gatepage + PAGE, pkbox__be->gatepage_prot, 0, "the gate page");
	if (pkbox__be->waitroom_prot != PROT_NONE)
		e |= want_add(w, gc->gatepage + PAGE, gc->gatepage + 2 * PAGE, pkbox__be->waitroom_prot, 0,
			      "the gate's waiting room");
	e |= want_add(w, gc->tdir, gc->tdir + PAGE, PROT_READ, 0, "the thread directory");
	e |= want_add(w, gc->records_lo, gc->records_lo + records_len, rw, gc->key_r, "the gate records");
	e |= want_add(w, gc->jit_rw, gc->jit_rw + PKBOX_JIT_SIZE, pkbox__be->code_view_prot, gc->key_h,
		      "the code area's writable view");
	e |= want_add(w, gc->jit_rx, gc->jit_rx + PKBOX_JIT_SIZE, PROT_READ | PROT_EXEC, 0,
		      "the code area's executable view");
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		const struct pkbox_region *g = &st->regions[r];

		if (!g->used)
			continue;
		int key = g->gkey >= 0 ? g->gkey : st->doms[g->dom].pkey;
		e |= want_add(w, g->base, g->base + g->pages * PAGE, g->foreign ? g->prot : rw, key,
			      g->foreign ? "a plugin's segment" : "a domain's memory");
	}
	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++) {
		const struct pkbox_dom *d = &st->doms[i];

		for (int ti = 0; ti < PKBOX_MAX_THREADS; ti++)
			if (d->stacks_mapped[ti / 64] & (1ULL << (ti % 64))) {
				uintptr_t top = pkbox__stack_top(i, ti);

				e |= want_add(w, top - gc->stack_size, top, rw, d->pkey, "a domain's stack");
			}
	}
	if (e)
		return pkbox__err(-ENOMEM, "pkbox_seal: out of memory");
	qsort(w->v, w->n, sizeof(w->v[0]), want_cmp);
	return 0;
}

static const char *prot_str(int p, char *s)
{
	s[0] = p & PROT_READ ? 'r' : '-';
	s[1] = p & PROT_WRITE ? 'w' : '-';
	s[2] = p & PROT_EXEC ? 'x' : '-';
	s[3] = 0;
	return s;
}

/* One range the library recorded, x, has in the kernel's view the
 * protection (and, pku, the key) it set, with no hole. */
static int want_match(const struct vmas *m, const struct want *x)
{
	uintptr_t at = x->lo;
	char a[4], b[4];

	for (size_t j = vma_first(m, at); j < m->n && at < x->hi; j++) {
		const struct vma *v = &m->v[j];

		if (v->lo > at)
			break; /* a hole */
		if (v->prot != x->prot || (x->key >= 0 && v->pkey != x->key)) {
			char kv[16] = "", kx[16] = "";

			if (x->key >= 0) {
				pkbox__fmt(kv, sizeof(kv), ", key %d", v->pkey);
				pkbox__fmt(kx, sizeof(kx), ", key %d", x->key);
			}
			return pkbox__err(-EPERM, "pkbox_seal: %s at %#lx is %s%s in the kernel's view; the "
						  "library made it %s%s",
					  x->what, (unsigned long)at, prot_str(v->prot, a), kv, prot_str(x->prot, b), kx);
		}
		at = v->hi;
	}
	if (at < x->hi)
		return pkbox__err(-EPERM, "pkbox_seal: %s at %#lx is not mapped as the library left it", x->what,
				  (unsigned long)at);
	return 0;
}

/* The rest of the pool: no access, no holes; what is accessible is
 * covered by what the library recorded (w, sorted). */
static int pool_rest(const struct vmas *m, const struct wants *w)
{
	uintptr_t at = pkbox__gc.pool_lo;
	size_t k = 0;
	char a[4];

	for (size_t j = 0; j < m->n; j++) {
		const struct vma *v = &m->v[j];

		if (!pkbox__in_pool(v->lo, v->hi))
			continue;
		if (v->lo != at || v->hi > pkbox__gc.pool_hi)
			return pkbox__err(-EPERM, "pkbox_seal: the library's pool is not whole at %#lx (%s)",
					  (unsigned long)(v->lo != at ? at : pkbox__gc.pool_hi), pkbox__vma_name(v));
		at = v->hi;
		if (v->prot == PROT_NONE)
			continue;
		/* covered by what the library recorded? */
		uintptr_t c = v->lo;
		while (k < w->n && w->v[k].hi <= c)
			k++;
		for (size_t q = k; q < w->n && c < v->hi && w->v[q].lo <= c; q++)
			if (w->v[q].hi > c)
				c = w->v[q].hi;
		if (c < v->hi)
			return pkbox__err(-EPERM, "pkbox_seal: %#lx-%#lx (%s, %s) in the library's pool is none of the "
						  "library's",
					  (unsigned long)(c > v->lo ? c : v->lo), (unsigned long)v->hi,
					  prot_str(v->prot, a), pkbox__vma_name(v));
	}
	if (at != pkbox__gc.pool_hi)
		return pkbox__err(-EPERM, "pkbox_seal: the library's pool is not whole at %#lx", (unsigned long)at);
	return 0;
}

/* A memfd of the library's, the one mapped at `at` (none there: shared
 * is not asked), mapped nowhere outside the pool and held by no
 * descriptor: nobody else can write it. */
static int memfd_alone(const struct vmas *m, const struct fds *f, uintptr_t at, bool shared, const char *what)
{
	const struct vma *x = NULL;

	for (size_t j = 0; j < m->n; j++)
		if (m->v[j].lo == at)
			x = &m->v[j];
	if (!shared && (!x || !x->shared))
		return 0;
	if (!x || !x->shared || !x->ino)
		return pkbox__err(-EPERM, "pkbox_seal: %s is not the library's shared mapping", what);
	for (size_t j = 0; j < m->n; j++) {
		const struct vma *v = &m->v[j];

		if (v->dev == x->dev && v->ino == x->ino && !pkbox__in_pool(v->lo, v->hi))
			return pkbox__err(-EPERM, "pkbox_seal: %s is also mapped at %#lx", what, (unsigned long)v->lo);
	}
	if (pkbox__fd_of(f, x->dev, x->ino, false))
		return pkbox__err(-EPERM, "pkbox_seal: descriptor %d is open on %s",
				  pkbox__fd_of(f, x->dev, x->ino, false)->fd, what);
	return 0;
}

/* The code area: its two views one memfd that nothing else maps or holds;
 * so is the gate page where it has two views (mprotect) */
static int code_area_check(const struct vmas *m, const struct fds *f)
{
	int rc = memfd_alone(m, f, pkbox__gc.jit_rx, true, "the library's code area");

	return rc ? rc : memfd_alone(m, f, pkbox__gc.gatepage, false, "the library's gate page");
}

/* Each range the library recorded has, in the kernel's view, the
 * protection (and, pku, the key) it set; the rest of the pool is
 * reserved (no access) and nothing else is mapped there. */
int pkbox__pool_check(const struct vmas *m, const struct fds *f)
{
	struct wants w = { 0 };
	int rc = wants_build(&w);

	for (size_t i = 0; !rc && i < w.n; i++) {
		if (i && w.v[i].lo < w.v[i - 1].hi)
			continue; /* (a plugin segment recorded twice) */
		rc = want_match(m, &w.v[i]);
	}
	if (!rc)
		rc = pool_rest(m, &w);
	if (!rc)
		rc = code_area_check(m, f);
	free(w.v);
	return rc;
}
