/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* alloc.h - compartment heaps (alloc.c): the functions a plugin's malloc()
 * and stdio output calls are pointed at, and each domain's arena.  (The
 * arena directory itself, pkbox__arena_dir(), is in internal.h.) */
#ifndef PKBOX_ALLOC_H
#define PKBOX_ALLOC_H

#include <stddef.h>

struct pkbox_dom;

/* Gives domain d an arena of size bytes (in its quota); under the lock:
 * 0 or -errno. */
int pkbox__arena_setup(struct pkbox_dom *d, size_t size);
extern const struct pkbox_heap_fn { const char *name; void *fn; } pkbox__heap_fns[];

#endif
