/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * codemap.h - where plugin code comes from and where it lies (state
 * layer): the code descriptor executable memory may be mapped from (the
 * seal's rule, loader.c maps plugins from it), and the question whether an
 * address is in code a plugin brought (the loader records its objects in
 * the library's state).  For the seal and the loader, which sits above it.
 */
#ifndef PKBOX_CODEMAP_H
#define PKBOX_CODEMAP_H

#include <stdbool.h>
#include <stdint.h>

/* The code descriptor, made (an empty, sealed memfd) at the first need,
 * before the seal; the descriptor or -errno.  Under the library lock. */
int pkbox__codemap_fd(void);

/* Is a inside the code of an object a plugin brought?  Under the library lock. */
bool pkbox__codemap_plugin(uintptr_t a);

#endif
