/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jit.h - code made at run time (jit.c). */
#ifndef PKBOX_JIT_H
#define PKBOX_JIT_H

#include <stddef.h>

struct pkbox_dom;

/* maps the code area's two views (set-up): 0 or -errno */
int pkbox__jit_setup(void);
/* copies and checks len bytes of code for d, under the library lock:
 * 0 and *out (its executable address), or -errno */
int pkbox__code_commit(struct pkbox_dom *d, const void *code, size_t len, void **out);

#endif
