/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gadget.c - a plugin with PKRU-writing code: one WRPKRU in a function,
 * one split across a page boundary.  Sealing must refuse it. */
__asm__(".text\n"
	".globl gadget_wrpkru\n"
	"gadget_wrpkru:\n"
	"	xorl %eax, %eax\n"
	"	xorl %ecx, %ecx\n"
	"	xorl %edx, %edx\n"
	"	.byte 0x0f, 0x01, 0xef\n"
	"	ret\n"
	"	.p2align 12\n"
	"	.skip 4094, 0x90\n"
	"gadget_split:\n"
	"	.byte 0x0f, 0x01\n"
	"	.byte 0xef\n"
	"	ret\n");
