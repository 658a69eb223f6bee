/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* arena.h - a compartment's heap (arena.c): its shape, which one the
 * running code is in, and blocks of it.  alloc.c binds a plugin's malloc
 * family to it, libc_state.c and libc_stdio.c keep the C library's state
 * there. */
#ifndef PKBOX_ARENA_H
#define PKBOX_ARENA_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gate_layout.h"
#include "state.h"

#define PKBOX_ARENA_MAGIC 0x61726e61u
#define PKBOX_ARENA_MAX_CLASS 40 /* free lists of blocks up to 2^40 bytes, header included */

/* a plugin object's thread-local storage: its initial image */
struct pkbox_tls_mod {
	uintptr_t image;
	size_t filesz, memsz, align;
};

/* a name the loader binds in a plugin, and what it binds it to */
struct pkbox_heap_fn {
	const char *name;
	void *fn;
};

struct pkbox_libc; /* libc_state.c: the C library's state, per compartment */

struct pkbox_arena {
	uint32_t magic;
	/* the C library's thread-specific keys this compartment may take (made
	 * by the host: making one writes the C library's key table, key-0
	 * memory), and which it took */
	pthread_key_t keys[PKBOX_ARENA_KEYS];
	_Atomic uint32_t keys_taken;
	_Atomic int lock;
	uintptr_t lo, hi, bump;
	void *free[PKBOX_ARENA_MAX_CLASS + 1];
	struct pkbox_tls_mod tls_mod[PKBOX_MAX_OBJS];
	/* per thread: its blocks (one per module, made on first use), and the
	 * kernel thread they were made for (a thread slot is reused) */
	void **tls[PKBOX_MAX_THREADS];
	pid_t tls_tid[PKBOX_MAX_THREADS];
	struct pkbox_libc *libc;
};

/* The arena's and libc_state.c's small locks: a word, spun on (held for a
 * few instructions, by threads of one compartment). */
static inline void pkbox__spin_lock(_Atomic int *w)
{
	int z = 0;

	while (!atomic_compare_exchange_weak(w, &z, 1)) {
		z = 0;
		__builtin_ia32_pause();
	}
}

static inline void pkbox__spin_unlock(_Atomic int *w)
{
	atomic_store(w, 0);
}

/* the arena of the compartment whose stack this runs on (and the thread
 * slot of that stack), or NULL: not running on a compartment's stack */
struct pkbox_arena *pkbox__arena_here_ti(unsigned *ti);
struct pkbox_arena *pkbox__arena_here(void);
/* the arena a block belongs to: inside a compartment its own or NULL;
 * outside, any domain's */
struct pkbox_arena *pkbox__arena_of(const void *p);
/* blocks of a: NULL with errno ENOMEM when full (free aborts on a block
 * that is not one: the compartment's own fault) */
void *pkbox__arena_alloc(struct pkbox_arena *a, size_t n);
void *pkbox__arena_memalign(struct pkbox_arena *a, size_t align, size_t n);
void *pkbox__arena_realloc(struct pkbox_arena *a, void *p, size_t n);
void pkbox__arena_free(struct pkbox_arena *a, void *p);
/* the bytes usable at p, a block of an arena */
size_t pkbox__arena_room(void *p);
/* a new, empty arena in the size bytes at mem */
void pkbox__arena_init(struct pkbox_arena *a, size_t size);

#endif
