/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* loader.h - the library's own loader for plugins (loader.c). */
#ifndef PKBOX_LOADER_H
#define PKBOX_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* Maps the object at path and the objects it needs but the C runtime,
 * relocated, inspected, their writable segments given to domain d; runs no
 * code of theirs.  Under the library lock.  Fills objs[0..*n), also when
 * it fails: the caller then destroys d and unloads them; names the C
 * runtime's objects they share with the host in shared[cap]. */
int pkbox__load(struct pkbox_dom *d, const char *path, struct pkbox_obj *objs, int *n, char *shared, size_t cap);
/* Unmaps them; their regions must be gone (the domain destroyed). */
void pkbox__unload(struct pkbox_obj *objs, int n);
/* A symbol object o exports: its address, or 0; *code says whether it is
 * in o's code */
uintptr_t pkbox__obj_sym(const struct pkbox_obj *o, const char *name, bool *code);
/* The same with its size; -ENOENT if o does not export it, -ENOTSUP if
 * it is thread-local */
int pkbox__obj_sym_size(const struct pkbox_obj *o, const char *name, uintptr_t *addr, size_t *size, bool *code);

#endif
