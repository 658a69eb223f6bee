/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc.c - the heap a plugin's malloc() uses: one arena per domain, inside
 * the domain's own memory, run inside the compartment with its rights.
 *
 * A plugin's references to malloc, free and friends are pointed here when
 * it is loaded (plugin.c).  The code finds its domain from the stack it
 * runs on (each domain's stacks are a fixed row of the pool) and the
 * domain's arena from a directory page that compartments can read but only
 * the library writes.  Called outside any compartment (the host running a
 * plugin's function directly), it falls back to the C library's heap.
 *
 * Power-of-two size classes with free lists, a bump pointer, a spin lock;
 * every block has a 16-byte header before it.  The arena's contents are the
 * compartment's own: if it corrupts them it only hurts itself.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ARENA_MAGIC 0x61726e61u
#define BLOCK_MAGIC 0x626c6bu
#define MIN_CLASS 5  /* 32 bytes, header included */
#define MAX_CLASS 40

struct arena {
	uint32_t magic;
	_Atomic int lock;
	uintptr_t lo, hi, bump;
	void *free[MAX_CLASS + 1];
};

struct hdr {
	uint32_t magic;
	uint32_t cls;
	uint64_t back; /* aligned blocks: distance to the block's start */
};

static struct arena *arena_here(void)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t lo = pkbox__gc.stacks_lo;

	if (!pkbox__gc.initialized || sp <= lo || sp - lo > pkbox__gc.stacks_dom_span)
		return NULL;
	uint64_t row = ((sp - 1 - lo) >> pkbox__gc.stride_shift) / PKBOX_MAX_THREADS;
	if (row == 0 || row >= PKBOX_MAX_DOMAINS)
		return NULL;
	struct arena *a = (struct arena *)pkbox__arena_dir()[row];
	return a && a->magic == ARENA_MAGIC ? a : NULL;
}

/* The arena a block belongs to (for free() from anywhere). */
static struct arena *arena_of(const void *p)
{
	struct arena *here = arena_here();

	if (here) /* in a compartment: its own arena or nothing */
		return (uintptr_t)p > here->lo && (uintptr_t)p < here->hi ? here : NULL;
	if (!pkbox__ready() || pkbox__inside())
		return NULL;
	for (int i = 1; i < PKBOX_MAX_DOMAINS; i++) {
		struct arena *a = (struct arena *)pkbox__arena_dir()[i];

		if (a && (uintptr_t)p > a->lo && (uintptr_t)p < a->hi)
			return a;
	}
	return NULL;
}

static void lock(struct arena *a)
{
	int z = 0;

	while (!atomic_compare_exchange_weak(&a->lock, &z, 1)) {
		z = 0;
		__builtin_ia32_pause();
	}
}

static void unlock(struct arena *a)
{
	atomic_store(&a->lock, 0);
}

static void *arena_alloc(struct arena *a, size_t n)
{
	unsigned c = MIN_CLASS;

	if (n > (1ULL << (MAX_CLASS - 1)))
		goto nomem;
	while ((1ULL << c) < n + sizeof(struct hdr))
		c++;
	lock(a);
	struct hdr *h = a->free[c];
	if (h) {
		a->free[c] = *(void **)(h + 1);
	} else {
		uintptr_t p = a->bump;
		if (p + (1ULL << c) > a->hi || p + (1ULL << c) < p) {
			unlock(a);
			goto nomem;
		}
		a->bump = p + (1ULL << c);
		h = (struct hdr *)p;
	}
	unlock(a);
	h->magic = BLOCK_MAGIC;
	h->cls = c;
	h->back = 0;
	return h + 1;
nomem:
	errno = ENOMEM;
	return NULL;
}

static struct hdr *block_of(void *p)
{
	struct hdr *h = (struct hdr *)p - 1;

	if (h->back)
		h = (struct hdr *)((char *)p - h->back) - 1;
	return h;
}

static void arena_free(struct arena *a, void *p)
{
	struct hdr *h = block_of(p);

	if (h->magic != BLOCK_MAGIC || h->cls < MIN_CLASS || h->cls > MAX_CLASS)
		abort(); /* corrupted or foreign: the compartment's own fault */
	lock(a);
	*(void **)(h + 1) = a->free[h->cls];
	a->free[h->cls] = h;
	unlock(a);
}

static void *pk_malloc(size_t n)
{
	struct arena *a = arena_here();

	return a ? arena_alloc(a, n) : malloc(n);
}

static void pk_free(void *p)
{
	if (!p)
		return;
	struct arena *a = arena_of(p);

	if (a)
		arena_free(a, p);
	else
		free(p);
}

static void *pk_calloc(size_t n, size_t m)
{
	size_t t;

	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = pk_malloc(t);
	if (p)
		memset(p, 0, t);
	return p;
}

static void *pk_realloc(void *p, size_t n)
{
	if (!p)
		return pk_malloc(n);
	struct arena *a = arena_of(p);
	if (!a)
		return realloc(p, n);
	if (!n) {
		arena_free(a, p);
		return NULL;
	}
	struct hdr *h = block_of(p);
	size_t room = (1ULL << h->cls) - sizeof(*h) - (size_t)((char *)p - (char *)(h + 1));
	if (n <= room)
		return p;
	void *q = arena_alloc(a, n);
	if (q) {
		memcpy(q, p, room);
		arena_free(a, p);
	}
	return q;
}

static void *pk_reallocarray(void *p, size_t n, size_t m)
{
	size_t t;

	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	return pk_realloc(p, t);
}

static void *pk_memalign(size_t align, size_t n)
{
	if (align <= 16)
		return pk_malloc(n);
	if (align & (align - 1)) {
		errno = EINVAL;
		return NULL;
	}
	struct arena *a = arena_here();
	if (!a)
		return aligned_alloc(align, (n + align - 1) & ~(align - 1));
	char *raw = arena_alloc(a, n + align + sizeof(struct hdr));
	if (!raw)
		return NULL;
	uintptr_t al = ((uintptr_t)raw + sizeof(struct hdr) + align - 1) & ~(uintptr_t)(align - 1);
	struct hdr *h = (struct hdr *)al - 1;
	h->magic = BLOCK_MAGIC;
	h->cls = 0;
	h->back = al - (uintptr_t)raw;
	return (void *)al;
}

static int pk_posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = pk_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

static void *pk_aligned_alloc(size_t align, size_t n)
{
	return pk_memalign(align, n);
}

static char *pk_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = pk_malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

static char *pk_strndup(const char *s, size_t m)
{
	size_t n = strnlen(s, m);
	char *p = pk_malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

const struct pkbox_heap_fn pkbox__heap_fns[] = {
	{ "malloc", (void *)pk_malloc },
	{ "free", (void *)pk_free },
	{ "calloc", (void *)pk_calloc },
	{ "realloc", (void *)pk_realloc },
	{ "reallocarray", (void *)pk_reallocarray },
	{ "memalign", (void *)pk_memalign },
	{ "posix_memalign", (void *)pk_posix_memalign },
	{ "aligned_alloc", (void *)pk_aligned_alloc },
	{ "strdup", (void *)pk_strdup },
	{ "strndup", (void *)pk_strndup },
	{ NULL, NULL },
};

/* Gives domain d an arena of size bytes (in its quota); under the lock. */
int pkbox__arena_setup(struct pkbox_dom *d, size_t size)
{
	struct arena *a = pkbox__dom_alloc(d, size);

	if (!a)
		return -errno;
	memset(a, 0, sizeof(*a));
	a->magic = ARENA_MAGIC;
	a->lo = (uintptr_t)a;
	a->hi = (uintptr_t)a + size;
	a->bump = ((uintptr_t)(a + 1) + 15) & ~15UL;
	uintptr_t v = (uintptr_t)a;
	pkbox__dir_store(&pkbox__arena_dir()[d->idx], &v, sizeof(v));
	return 0;
}
