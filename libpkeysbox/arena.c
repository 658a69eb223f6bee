/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * arena.c - a compartment's heap: one arena per domain, inside the domain's
 * own memory, used inside the compartment with its rights.
 *
 * The code finds its domain from the stack it runs on (each domain's
 * stacks are a fixed row of the pool) and the domain's arena from a
 * directory page that compartments can read but only the library writes.
 * Power-of-two size classes with free lists, a bump pointer, a spin lock;
 * every block has a 16-byte header before it.  The arena's contents are the
 * compartment's own: if it corrupts them it only hurts itself.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "phase.h"

#define BLOCK_MAGIC 0x626c6bu
#define MIN_CLASS 5  /* 32 bytes, header included */
#define MAX_CLASS PKBOX_ARENA_MAX_CLASS

struct hdr {
	uint32_t magic;
	uint32_t cls;
	uint64_t back; /* aligned blocks: distance to the block's start */
};

struct pkbox_arena *pkbox__arena_here_ti(unsigned *ti)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t lo = pkbox__gc.stacks_lo;

	if (!pkbox__gc.initialized || sp <= lo || sp - lo > pkbox__gc.stacks_dom_span)
		return NULL;
	uint64_t slot = (sp - 1 - lo) >> pkbox__gc.stride_shift, row = slot / PKBOX_MAX_THREADS;
	if (row == 0 || row >= PKBOX_MAX_DOMAINS)
		return NULL;
	*ti = (unsigned)(slot % PKBOX_MAX_THREADS);
	struct pkbox_arena *a = (struct pkbox_arena *)pkbox__arena_dir()[row];
	return a && a->magic == PKBOX_ARENA_MAGIC ? a : NULL;
}

struct pkbox_arena *pkbox__arena_here(void)
{
	unsigned ti;

	return pkbox__arena_here_ti(&ti);
}

struct pkbox_arena *pkbox__arena_of(const void *p)
{
	struct pkbox_arena *here = pkbox__arena_here();

	if (here) /* in a compartment: its own arena or nothing */
		return (uintptr_t)p > here->lo && (uintptr_t)p < here->hi ? here : NULL;
	if (!pkbox__ready() || pkbox__inside())
		return NULL;
	for (int i = 1; i < PKBOX_MAX_DOMAINS; i++) {
		struct pkbox_arena *a = (struct pkbox_arena *)pkbox__arena_dir()[i];

		if (a && (uintptr_t)p > a->lo && (uintptr_t)p < a->hi)
			return a;
	}
	return NULL;
}

static void lock(struct pkbox_arena *a)
{
	pkbox__spin_lock(&a->lock);
}

static void unlock(struct pkbox_arena *a)
{
	pkbox__spin_unlock(&a->lock);
}

void *pkbox__arena_alloc(struct pkbox_arena *a, size_t n)
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

void pkbox__arena_free(struct pkbox_arena *a, void *p)
{
	struct hdr *h = block_of(p);

	if (h->magic != BLOCK_MAGIC || h->cls < MIN_CLASS || h->cls > MAX_CLASS)
		abort(); /* corrupted or foreign: the compartment's own fault */
	lock(a);
	*(void **)(h + 1) = a->free[h->cls];
	a->free[h->cls] = h;
	unlock(a);
}

size_t pkbox__arena_room(void *p)
{
	struct hdr *h = block_of(p);

	return (1ULL << h->cls) - sizeof(*h) - (size_t)((char *)p - (char *)(h + 1));
}

void *pkbox__arena_realloc(struct pkbox_arena *a, void *p, size_t n)
{
	if (!n) {
		pkbox__arena_free(a, p);
		return NULL;
	}
	size_t room = pkbox__arena_room(p);
	if (n <= room)
		return p;
	void *q = pkbox__arena_alloc(a, n);
	if (q) {
		memcpy(q, p, room);
		pkbox__arena_free(a, p);
	}
	return q;
}

void *pkbox__arena_memalign(struct pkbox_arena *a, size_t align, size_t n)
{
	char *raw = pkbox__arena_alloc(a, n + align + sizeof(struct hdr));

	if (!raw)
		return NULL;
	uintptr_t al = ((uintptr_t)raw + sizeof(struct hdr) + align - 1) & ~(uintptr_t)(align - 1);
	struct hdr *h = (struct hdr *)al - 1;
	h->magic = BLOCK_MAGIC;
	h->cls = 0;
	h->back = al - (uintptr_t)raw;
	return (void *)al;
}

void pkbox__arena_init(struct pkbox_arena *a, size_t size)
{
	memset(a, 0, sizeof(*a));
	a->magic = PKBOX_ARENA_MAGIC;
	a->lo = (uintptr_t)a;
	a->hi = (uintptr_t)a + size;
	a->bump = ((uintptr_t)(a + 1) + 15) & ~15UL;
}
