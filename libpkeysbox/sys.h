/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys.h - the library's own syscalls (base layer): those that carry the
 * token (pkbox__tsys in sys.S puts it in the unused argument registers, so
 * that the seal's policy lets them through), and the few raw helpers built
 * on them.  Calls nothing above the base layer.
 */
#ifndef PKBOX_SYS_H
#define PKBOX_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

/* token-carrying syscall (asm): a[0] nr, a[1..5] args, a[6] number of args */
long pkbox__tsys(const long *a);
/* the same from C: -1 with errno on failure; before set-up the plain call */
long pkbox__sys(long nr, long nargs, long a0, long a1, long a2, long a3, long a4);

/* the library's own protection changes (they carry the token) */
int pkbox__mprotect(const void *a, size_t l, int p);
int pkbox__pkey_mprotect(uintptr_t a, size_t l, int p, int k);
int pkbox__madvise(uintptr_t a, size_t l, int adv);
int pkbox__sigaltstack(const void *n, void *o);

/* writes n bytes at a as a debugger does (read-only and code pages too);
 * 0 or -errno */
int pkbox__poke(uintptr_t a, const void *b, size_t n);
/* ends the process as exit_group(2) does, with the token (what
 * PKBOX_SEAL_NO_EXIT lets through), the plain call if that failed */
__attribute__((noreturn)) void pkbox__exit_group(int status);

#endif
