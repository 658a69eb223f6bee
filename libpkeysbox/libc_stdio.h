/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libc_stdio.h - stdio inside a compartment (libc_stdio.c): the names the
 * loader binds (alloc.c's lookup reads this part of the table). */
#ifndef PKBOX_LIBC_STDIO_H
#define PKBOX_LIBC_STDIO_H

#include <stdio.h>

#include "arena.h"

extern const struct pkbox_heap_fn pkbox__stdio_fns[];
/* getc() on any stream: the compartment's own, stdout/stderr's stand-in or
 * the C library's */
int pkbox__stdio_getc(FILE *f);

#endif
