/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gate_layout.h - offsets shared by gate.S and the C structures
 * (checked with static assertions in gate.c). */
#ifndef PKBOX_GATE_LAYOUT_H
#define PKBOX_GATE_LAYOUT_H

/* The pool: one naturally aligned block at a fixed address, so that the
 * gate finds its configuration from constants in its own code, never from
 * memory a compartment could remap (see libpkeysbox/seal.c). */
#define PKBOX_POOL_BASE 0x500000000000
#define PKBOX_GC_ADDR 0x500002008000 /* PKBOX_POOL_BASE + PKBOX_META_SIZE + 8 pages */

#define PKBOX_MAX_THREADS 256
#define PKBOX_MAX_DEPTH 16
#define PKBOX_RECORD_MAGIC 0x786f62656b70ULL /* "pkebox" */
#define PKBOX_RECORD_SIZE 64
#define PKBOX_STACK_RESERVE 64 /* top of each domain stack, never used as stack */
/* the entry's claim word: the last word of that reserve, armed by the host
 * with the record's address before each entry, taken by the entry */
#define PKBOX_CLAIM_OFF 8

/* struct pkbox_gatecfg */
#define GC_STACKS_LO 0
#define GC_STACKS_SPAN 8
#define GC_STACKS_DOM_SPAN 16
#define GC_SHIFT 24
#define GC_THREADS 32
#define GC_THREAD_STRIDE 40
#define GC_RECORDS 48
#define GC_META_LO 56
#define GC_META_LEN 64
#define GC_RESERVED 72 /* kept for layout (was the backend: GC_OPS says it now) */
#define GC_FSGSBASE 80
#define GC_OPS 184 /* const struct pkbox_backend_ops * */

/* struct pkbox_backend_ops (backend.h): which switch, PKBOX_GATE_* */
#define BE_GATE 12

/* struct pkbox_record */
#define R_MAGIC 0
#define R_PKRU 8
#define R_KIND 16
#define R_TARGET 24
#define R_ARG 32
#define R_STATUS 40
#define R_SLOT_TOP 48
#define R_DOM_FS 56
/* all records: one per (domain slot, thread), from GC_RECORDS */
#define PKBOX_RECORDS_SPAN (64 * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE)

/* struct pkbox_frame */
#define F_HOST_RET 0
#define F_HOST_RSP 8
#define F_RBX 16
#define F_RBP 24
#define F_R12 32
#define F_R13 40
#define F_R14 48
#define F_R15 56
#define F_MXCSR 64
#define F_FCW 68
#define F_FSBASE 72
#define F_STATE 80
#define F_REASON 88
#define F_VAL 96
#define F_SLOT_TOP 144
#define F_PKRU 152
#define F_E_KIND 160
#define F_E_TARGET 168
#define F_E_ARG 176
#define F_E_STATUS 184
#define F_DOM_FS 192
#define F_EXIT_TOP 200
#define F_DEADLINE 208
#define F_REC 232 /* struct pkbox_record *: the record the WRPKRU entry checks */

/* the signal that ends a timed call (pkbox_call_timed(3)): SIGRTMAX - 1 */
#define PKBOX_TIMEOUT_SIG 63

/* struct pkbox_thread: the top of its exit stack (the syscall switch) */
#define PKBOX_EXIT_STACK 16384
#define T_EXIT_STACK 64
#define T_EXIT_STACK_TOP (T_EXIT_STACK + PKBOX_EXIT_STACK)

/* frame states and exit reasons */
#define FS_IDLE 0
#define FS_IN 1
#define FS_OUT 2
#define EXIT_RETURN 1
#define EXIT_FAULT 2
#define EXIT_CALLBACK 3
#define EXIT_NOT_ENTERED 4 /* the syscall switch: the memory to hide could not all be hidden */
#define KIND_CALL 1
#define KIND_RESUME 2

#endif
