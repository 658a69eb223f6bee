/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* alloc.h - compartment heaps (alloc.c): the functions a plugin's malloc()
 * and stdio output calls are pointed at, and each domain's arena.  (The
 * arena directory itself, pkbox__arena_dir(), is in internal.h.) */
#ifndef PKBOX_ALLOC_H
#define PKBOX_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

struct pkbox_dom;

/* Gives domain d an arena of size bytes (in its quota); under the lock:
 * 0 or -errno. */
int pkbox__arena_setup(struct pkbox_dom *d, size_t size);
/* the C library keys d's arena handed out, deleted; under the lock */
void pkbox__arena_release(struct pkbox_dom *d);
/* Tells d's arena where module mod's thread-local image is (a plugin's
 * objects are modules 0 .. PKBOX_MAX_OBJS - 1); under the lock, after
 * pkbox__arena_setup(): 0 or -errno. */
int pkbox__arena_tls(struct pkbox_dom *d, int mod, uintptr_t image, size_t filesz, size_t memsz, size_t align);
/* the module id a DTPMOD64 relocation of a plugin's object stores */
#define PKBOX_TLS_MOD(mod) (0x706b627800000001ULL + (uint64_t)(mod))
/* the names a plugin's references are bound to instead of the C library's:
 * the malloc family and the rest of this file's, quit.c's, libc_state.c's
 * and libc_stdio.c's */
extern const struct pkbox_heap_fn pkbox__heap_fns[];
/* where name, in a plugin of domain d, is bound instead of the C library's
 * (functions: the table; data: d's own copy of the C library's variable),
 * or 0 */
uintptr_t pkbox__bound(struct pkbox_dom *d, const char *name);

#endif
