/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * binding.h - which objects the dynamic loader bound lazily (binding.c):
 * the seal refuses any, a call refuses one that holds the function it runs.
 */
#ifndef PKBOX_BINDING_H
#define PKBOX_BINDING_H

#include <stdint.h>

/* The first object bound lazily: its name in bad (256 bytes), else "" */
void pkbox__lazy_find(char *bad);
/* The object that holds addr: 1 if it is bound lazily (its name in name,
 * 256 bytes), 0 if eagerly, with the span of its segments in [*lo, *hi);
 * -1 if no object the dynamic loader knows holds addr (a plugin, the
 * code area). */
int pkbox__lazy_at(uintptr_t addr, char *name, uintptr_t *lo, uintptr_t *hi);
/* How to fix what named: relink the program, or LD_BIND_NOW=1 for a
 * library built without -z now (Debian 12's libc.so.6 is one) */
const char *pkbox__lazy_hint(const char *name);

#endif
