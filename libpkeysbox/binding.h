/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * binding.h - which objects the dynamic loader bound lazily (binding.c):
 * the seal refuses any.
 */
#ifndef PKBOX_BINDING_H
#define PKBOX_BINDING_H

#include <stdint.h>

/* The first object bound lazily: its name in bad (256 bytes), else "" */
void pkbox__lazy_find(char *bad);
#endif
