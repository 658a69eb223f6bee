/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys.S - the token-bearing syscall: the library's own syscalls carry the
 * policy's token (see seal.c), loaded here from the library's state and
 * never left in memory a compartment can read.
 */
#include "gate_layout.h"

/* long pkbox__tsys(const long *a): a[0] the syscall number, a[1..5] its
 * arguments, a[6] how many it takes.  The policy's token goes in every
 * argument register after those, loaded from library memory here and
 * cleared after, so it never sits in memory a compartment can read. */
	.text
	.globl pkbox__tsys
	.hidden pkbox__tsys
	.type pkbox__tsys, @function
pkbox__tsys:
	movabsq	$PKBOX_GC_ADDR, %r11
	movq	GC_META_LO(%r11), %r11
	movq	(%r11), %r11
	movq	48(%rdi), %rcx
	movq	%r11, %rdx
	movq	%r11, %r10
	movq	%r11, %r8
	movq	%r11, %r9
	cmpq	$3, %rcx
	jb	1f
	movq	24(%rdi), %rdx
1:	cmpq	$4, %rcx
	jb	2f
	movq	32(%rdi), %r10
2:	cmpq	$5, %rcx
	jb	3f
	movq	40(%rdi), %r8
3:	movq	(%rdi), %rax
	movq	16(%rdi), %rsi
	movq	8(%rdi), %rdi
	syscall
	xorl	%edx, %edx
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	ret
	.size pkbox__tsys, .-pkbox__tsys

	.section .note.GNU-stack,"",@progbits
