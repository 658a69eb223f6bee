/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gate.S - the call gate.
 *
 * Rules this file keeps (ERIM-style; see doc/DESIGN.md):
 *  - the only WRPKRU instructions of the library are the three below (entry,
 *    exit, and the one that closes every key when a check fails);
 *  - after each one, nothing computed before it is trusted except the value
 *    just written (eax), so jumping straight to a WRPKRU gains nothing:
 *      entry: the value must equal the one in a gate record that only the
 *             host can write (pages keyed with the record key, write-disabled
 *             inside compartments), found from the target stack slot alone;
 *      exit:  the value must be the host value 0, and the frame to return to
 *             is found from the stack pointer's slot (which thread) and the
 *             library's own state (which frame), never from a register;
 *  - addresses come from the gate configuration, a read-only page in the
 *    pool at a fixed address (PKBOX_GC_ADDR, an immediate in this code);
 *  - host-rights code never runs on a stack a compartment can write.
 *
 * One entry and one exit path per switch (PKBOX_GATE_* in backend.h): the
 * WRPKRU switch (pku backend) and the syscall switch (mprotect backend,
 * whose hooks in backend_mprotect.c hide and show the rest).  gate.c calls
 * the entry path the backend in use names; a domain function returns
 * straight to the exit path of its entry; the exits that do not know the
 * switch (a host callback, a fault) find it from read-only memory only.
 * Nothing here compares which backend is in use.
 */
#include "gate_layout.h"

#define SYS_write 1
#define SYS_mprotect 10
#define SYS_rt_sigprocmask 14
#define SIG_BLOCK 0
#define SIG_UNBLOCK 1
#define SYS_exit 60
#define SYS_sched_yield 24

/* wrpkru; wrfsbase %rcx */
#define WRPKRU .byte 0x0f,0x01,0xef
#define WRFSBASE_RCX .byte 0xf3,0x48,0x0f,0xae,0xd1

	.text
	.p2align 6
	.globl pkbox__gate_text_start
	.hidden pkbox__gate_text_start
pkbox__gate_text_start:

/* Saves the host context in the frame (%rdi): the return address (popped),
 * the stack pointer, the callee-saved registers, MXCSR and the x87 control
 * word. */
.macro SAVE_HOST
	popq	%rax
	movq	%rax, F_HOST_RET(%rdi)
	movq	%rsp, F_HOST_RSP(%rdi)
	movq	%rbx, F_RBX(%rdi)
	movq	%rbp, F_RBP(%rdi)
	movq	%r12, F_R12(%rdi)
	movq	%r13, F_R13(%rdi)
	movq	%r14, F_R14(%rdi)
	movq	%r15, F_R15(%rdi)
	stmxcsr	F_MXCSR(%rdi)
	fnstcw	F_FCW(%rdi)
	movq	$FS_IN, F_STATE(%rdi)
.endm

/* struct pkbox_frame *pkbox__gate_enter_wrpkru(struct pkbox_frame *f)
 * struct pkbox_frame *pkbox__gate_enter_syscall(struct pkbox_frame *f)
 * The entry paths, one per switch (PKBOX_GATE_*, chosen by the backend:
 * gate.c calls the one of the backend in use).  Each saves the host
 * context in *f (library memory), switches to the domain and runs or
 * resumes it, leaving the domain through the same switch's exit path.
 * "Returns" (through that exit path) when the domain returns, faults or
 * calls a host callback, with %rax = the frame. */
	.globl pkbox__gate_enter_wrpkru
	.hidden pkbox__gate_enter_wrpkru
	.type pkbox__gate_enter_wrpkru, @function
pkbox__gate_enter_wrpkru:
	SAVE_HOST
	movq	F_REC(%rdi), %rsi
	movl	R_PKRU(%rsi), %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	.globl pkbox__wrpkru_enter
	.hidden pkbox__wrpkru_enter
pkbox__wrpkru_enter:
	WRPKRU
	/* rsi must be a gate record: inside the records, on a record's start */
	movabsq	$PKBOX_GC_ADDR, %r11
	movq	%rsi, %rdx
	subq	GC_RECORDS(%r11), %rdx
	cmpq	$PKBOX_RECORDS_SPAN, %rdx
	jae	.Ldie_wrpkru
	testl	$(PKBOX_RECORD_SIZE - 1), %edx
	jnz	.Ldie_wrpkru
	/* live (only the host writes records: compartments' PKRU write-disables
	 * them) and naming exactly this PKRU */
	movabsq	$PKBOX_RECORD_MAGIC, %r8
	cmpq	%r8, R_MAGIC(%rsi)
	jne	.Ldie_wrpkru
	cmpq	%rax, R_PKRU(%rsi)
	jne	.Ldie_wrpkru
	/* key-0 protection: the compartment's own copy of this thread's TLS
	 * (a compartment may set FS itself; the exit path restores the host's) */
	movq	R_DOM_FS(%rsi), %rcx
	testq	%rcx, %rcx
	jz	1f
	WRFSBASE_RCX
1:	movq	R_SLOT_TOP(%rsi), %r14
	/* one entry per arming: the host armed the claim word at the top of
	 * the record's stack slot with the record's address; the entry takes
	 * it.  The slot is the domain's own memory, which no other domain's
	 * PKRU can write, so a thread of another compartment cannot enter
	 * again through a record that is live for a thread already inside */
	xorl	%r8d, %r8d
	xchgq	%r8, -PKBOX_CLAIM_OFF(%r14)
	cmpq	%rsi, %r8
	jne	.Ldie_wrpkru
	movq	R_KIND(%rsi), %rdx
	movq	R_TARGET(%rsi), %r11
	movq	R_ARG(%rsi), %rdi
	movq	R_STATUS(%rsi), %r9
	leaq	.Lexit_ret_wrpkru(%rip), %rax
	jmp	.Lcontinue
	.size pkbox__gate_enter_wrpkru, .-pkbox__gate_enter_wrpkru

	.globl pkbox__gate_enter_syscall
	.hidden pkbox__gate_enter_syscall
	.type pkbox__gate_enter_syscall, @function
pkbox__gate_enter_syscall:
	SAVE_HOST
	movq	F_E_KIND(%rdi), %r12
	movq	F_E_TARGET(%rdi), %r13
	movq	F_E_ARG(%rdi), %r14
	movq	F_E_STATUS(%rdi), %r15
	movq	F_SLOT_TOP(%rdi), %rbx
	movq	F_DEADLINE(%rdi), %rbp
	/* the hook hides what the domain may not touch, the host's own stack
	 * perhaps among it (pkbox_host_run(3)): it runs on this thread's exit
	 * stack, in the library's state, which is hidden last, here */
	movq	F_EXIT_TOP(%rdi), %rsp
	pushq	%rdi			/* the frame, at the top of the exit stack */
	subq	$8, %rsp
	call	pkbox__mp_enter_hook
	addq	$8, %rsp
	/* not 0: it could not hide everything, gave back what it had hidden
	 * and released the lock: back to the host, the compartment not run */
	testl	%eax, %eax
	jnz	.Lnot_entered
	movabsq	$PKBOX_GC_ADDR, %r11
	movq	GC_META_LO(%r11), %rdi
	movq	(%rdi), %r10		/* the policy's token (see pkbox__tsys) */
	movq	%r10, %r8
	movq	%r10, %r9
	movq	GC_META_LEN(%r11), %rsi
	xorl	%edx, %edx		/* PROT_NONE */
	movl	$SYS_mprotect, %eax
	syscall
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	testq	%rax, %rax
	jnz	.Lmeta_failed
	/* a timed call: its signal may come from here on (until the exit
	 * path blocks it again), when the host's memory is hidden and the
	 * fault exit is the way out */
	testq	%rbp, %rbp
	jz	1f
	movl	$SYS_rt_sigprocmask, %eax
	movl	$SIG_UNBLOCK, %edi
	leaq	.Ltimeout_set(%rip), %rsi
	xorl	%edx, %edx
	movl	$8, %r10d
	syscall
	xorl	%r10d, %r10d
1:	movq	%r12, %rdx
	movq	%r13, %r11
	movq	%r14, %rdi
	movq	%r15, %r9
	movq	%rbx, %r14
	leaq	.Lexit_ret_syscall(%rip), %rax
	jmp	.Lcontinue

	/* The library's state could not be hidden (still visible then, and
	 * the exit stack with it): everything else is given back */
.Lmeta_failed:
	movq	(%rsp), %rdi
	movq	%rax, %rsi
	subq	$8, %rsp
	call	pkbox__mp_undo_hook
	addq	$8, %rsp
	/* The frame (kept on this thread's exit stack in the library's state)
	 * says where the host is; nothing is switched */
.Lnot_entered:
	popq	%rdi
	movq	$EXIT_NOT_ENTERED, F_REASON(%rdi)
	movq	$FS_OUT, F_STATE(%rdi)
	jmp	.Lto_host
	.size pkbox__gate_enter_syscall, .-pkbox__gate_enter_syscall

/* Both entry paths end here: rdx kind, r11 target, rdi argument or value,
 * r9 status, r14 slot top, rax where the domain function returns to (the
 * exit path of the same switch). */
.Lcontinue:
	cmpq	$KIND_CALL, %rdx
	jne	.Lresume
	leaq	-PKBOX_STACK_RESERVE(%r14), %rsp
	pushq	%rax
	/* leave no host values in registers */
	xorl	%eax, %eax
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%esi, %esi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	jmp	*%r11
.Lresume:
	/* back into pkbox__gate_exit_callback's frame on the domain stack */
	movq	%r11, %rsp
	movq	%rdi, %rax
	movq	%r9, %rdx
	xorl	%ecx, %ecx
	xorl	%esi, %esi
	xorl	%edi, %edi
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

/* Where a domain function returns to after a syscall entry (pushed by the
 * entry path): straight to the exit path of the same switch.  (The WRPKRU
 * switch's is further down, before its exit.) */
.Lexit_ret_syscall:
	movq	%rax, %r8
	movl	$EXIT_RETURN, %r15d
	jmp	.Lexit_syscall

/* struct pkbox_cbret pkbox__gate_exit_callback(long id, void *arg)
 * Called inside a domain: leaves it for a host callback, and returns here
 * (through .Lresume) with the callback's value and status. */
	.globl pkbox__gate_exit_callback
	.hidden pkbox__gate_exit_callback
	.type pkbox__gate_exit_callback, @function
pkbox__gate_exit_callback:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rdi, %r8
	movq	%rsi, %r9
	movl	$EXIT_CALLBACK, %r15d
	jmp	.Lexit
	.size pkbox__gate_exit_callback, .-pkbox__gate_exit_callback

/* Where the fault handler sends a faulting compartment: r8..r13 = fault
 * details, r15 = EXIT_FAULT, rsp = this thread's fault slot. */
	.globl pkbox__gate_exit_fault
	.hidden pkbox__gate_exit_fault
	.type pkbox__gate_exit_fault, @function
pkbox__gate_exit_fault:
	movl	$EXIT_FAULT, %r15d
	/* fall through */

/* The way back to host rights from code that does not know the switch:
 * the exit path of the backend in use, found from read-only memory only
 * (the gate configuration names the backend's table, a constant one in the
 * library image, which names its switch).  Values in r8, r9, r10, r12,
 * r13; the reason in r15; rax and r11 are free. */
.Lexit:
	movabsq	$PKBOX_GC_ADDR, %r11
	movq	GC_OPS(%r11), %r11
	movl	BE_GATE(%r11), %r11d
	andl	$1, %r11d
	leaq	.Lexits(%rip), %rax
	movslq	(%rax,%r11,4), %r11
	addq	%r11, %rax
	jmp	*%rax
	.size pkbox__gate_exit_fault, .-pkbox__gate_exit_fault

/* Which thread and frame (from the stack slot the stack pointer is in and
 * the library's own state, never from a register), and the exit's values
 * into the frame: %rax = the thread, %rdi = the frame; %r11 = the gate
 * configuration.  Any check failing goes to \die. */
.macro EXIT_IDENT die
	movabsq	$PKBOX_GC_ADDR, %r11
	/* which thread: from the stack slot the stack pointer is in */
	movq	%rsp, %rax
	subq	$1, %rax
	subq	GC_STACKS_LO(%r11), %rax
	jb	\die
	cmpq	GC_STACKS_SPAN(%r11), %rax
	jae	\die
	movq	GC_SHIFT(%r11), %rcx
	shrq	%cl, %rax
	andl	$(PKBOX_MAX_THREADS - 1), %eax
	imulq	GC_THREAD_STRIDE(%r11), %rax
	addq	GC_THREADS(%r11), %rax
	/* which frame: the thread's innermost, which must be inside a domain */
	movq	(%rax), %rdi
	testq	%rdi, %rdi
	jz	\die
	cmpq	$FS_IN, F_STATE(%rdi)
	jne	\die
	movq	%r15, F_REASON(%rdi)
	movq	%r8, F_VAL+0(%rdi)
	movq	%r9, F_VAL+8(%rdi)
	movq	%r10, F_VAL+16(%rdi)
	movq	%r12, F_VAL+24(%rdi)
	movq	%r13, F_VAL+32(%rdi)
	movq	%rsp, F_VAL+40(%rdi)
.endm

/* The host's floating-point control, direction flag and FS base, from the
 * frame (%rdi); %r11 = the gate configuration. */
.macro EXIT_HOST_CONTROL
	movq	$FS_OUT, F_STATE(%rdi)
	ldmxcsr	F_MXCSR(%rdi)
	fldcw	F_FCW(%rdi)
	cld
	cmpq	$0, GC_FSGSBASE(%r11)
	je	1f
	movq	F_FSBASE(%rdi), %rcx
	WRFSBASE_RCX
1:
.endm

/* Where a domain function returns to after a WRPKRU entry (pushed by the
 * entry path): its exit, just below. */
.Lexit_ret_wrpkru:
	movq	%rax, %r8
	movl	$EXIT_RETURN, %r15d
	/* fall through */

/* The WRPKRU switch's exit: the host's PKRU (0), checked. */
.Lexit_wrpkru:
	xorl	%eax, %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	.globl pkbox__wrpkru_exit
	.hidden pkbox__wrpkru_exit
pkbox__wrpkru_exit:
	WRPKRU
	testl	%eax, %eax
	jnz	.Ldie_wrpkru
	EXIT_IDENT .Ldie_wrpkru
	EXIT_HOST_CONTROL
	jmp	.Lto_host

/* The syscall switch's exit: the library's state visible again; a few
 * tries (the kernel short of memory for a moment); no split is needed, the
 * library's state being one mapping of its own */
.Lexit_syscall:
	movabsq	$PKBOX_GC_ADDR, %r11
	movl	$4, %r14d
1:	movl	$SYS_mprotect, %eax
	movq	GC_META_LO(%r11), %rdi
	movq	GC_META_LEN(%r11), %rsi
	movl	$3, %edx
	syscall
	/* seccomp sees the address after the syscall instruction */
	.globl pkbox__mp_exit_syscall
	.hidden pkbox__mp_exit_syscall
pkbox__mp_exit_syscall:
	testq	%rax, %rax
	jz	2f
	decl	%r14d
	jz	.Ldie_syscall
	movl	$SYS_sched_yield, %eax
	syscall
	movabsq	$PKBOX_GC_ADDR, %r11
	jmp	1b
2:	EXIT_IDENT .Ldie_syscall
	/* a timed call: block its signal before anything here changes state
	 * (until then its handler may still send the thread through this path
	 * again, which is harmless); with the policy's token, from the
	 * library's state */
	cmpq	$0, F_DEADLINE(%rdi)
	je	3f
	movq	%rax, %rbx
	movq	%rdi, %r14
	movq	GC_META_LO(%r11), %r9
	movq	(%r9), %r9
	movq	%r9, %r8
	movl	$SYS_rt_sigprocmask, %eax
	movl	$SIG_BLOCK, %edi
	leaq	.Ltimeout_set(%rip), %rsi
	xorl	%edx, %edx
	movl	$8, %r10d
	syscall
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	movq	%rbx, %rax
	movq	%r14, %rdi
	movabsq	$PKBOX_GC_ADDR, %r11
3:	EXIT_HOST_CONTROL
	/* the host gets the rest of its memory back before its stack is used
	 * again, on this thread's exit stack in the library's state (just made
	 * visible above), so that the host may run on a stack the compartment
	 * could not see (pkbox_host_run(3)) */
	leaq	T_EXIT_STACK_TOP(%rax), %rsp
	pushq	%rdi
	subq	$8, %rsp
	call	pkbox__mp_exit_hook
	addq	$8, %rsp
	popq	%rdi
	/* fall through */

/* Back to the host with the frame %rdi: its stack and callee-saved
 * registers, %rax = the frame (every exit, and an entry that did not). */
.Lto_host:
	movq	F_HOST_RSP(%rdi), %rsp
	movq	F_RBX(%rdi), %rbx
	movq	F_RBP(%rdi), %rbp
	movq	F_R12(%rdi), %r12
	movq	F_R13(%rdi), %r13
	movq	F_R14(%rdi), %r14
	movq	F_R15(%rdi), %r15
	movq	%rdi, %rax
	jmp	*F_HOST_RET(%rdi)

/* A check failed: someone jumped into the gate.  The WRPKRU switch closes
 * every key but 0 (the third and last WRPKRU: it writes a constant and
 * checks it), then faults: the fault handler sees a compartment's PKRU and
 * sends the thread out through the exit path, where the host gets the
 * violation reported.  With the syscall switch the fault alone does it. */
.macro DIE_MESSAGE
	movl	$SYS_write, %eax
	movl	$2, %edi
	leaq	.Ldie_msg(%rip), %rsi
	movl	$(.Ldie_msg_end - .Ldie_msg), %edx
	syscall
.endm
.Ldie_wrpkru:
	DIE_MESSAGE
1:	movl	$0xfffffffc, %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	.globl pkbox__wrpkru_die
	.hidden pkbox__wrpkru_die
pkbox__wrpkru_die:
	WRPKRU
	cmpl	$0xfffffffc, %eax
	jne	1b
2:	ud2
	jmp	2b
.Ldie_syscall:
	DIE_MESSAGE
1:	ud2
	jmp	1b

/* A thread a compartment made itself faulted: it just ends. */
	.globl pkbox__thread_die
	.hidden pkbox__thread_die
	.type pkbox__thread_die, @function
pkbox__thread_die:
	movl	$SYS_exit, %eax
	movl	$86, %edi
	syscall
	ud2
	.size pkbox__thread_die, .-pkbox__thread_die

/* Where the SIGSYS handler sends a compartment whose syscall the policy
 * refused: %rax = the syscall number, %rcx = where the syscall returns.
 * Leaves through the callback exit (id -2) so the host records the refusal
 * with host rights, then returns the host's answer (-EPERM) as the
 * syscall's result, every other register as a syscall leaves it.
 * Jumping here gains nothing: it only reports a refusal. */
	.globl pkbox__sys_refused
	.hidden pkbox__sys_refused
	.type pkbox__sys_refused, @function
pkbox__sys_refused:
	leaq	-128(%rsp), %rsp	/* the red zone of the interrupted code */
	pushq	%rcx
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%r10
	pushq	%r8
	pushq	%r9
	movq	%rax, %rsi
	movq	$-2, %rdi
	call	pkbox__gate_exit_callback
	popq	%r9
	popq	%r8
	popq	%r10
	popq	%rdx
	popq	%rsi
	popq	%rdi
	popq	%rcx
	leaq	128(%rsp), %rsp
	jmp	*%rcx
	.size pkbox__sys_refused, .-pkbox__sys_refused

	.globl pkbox__gate_text_end
	.hidden pkbox__gate_text_end
pkbox__gate_text_end:

/* void pkbox__jump_to(const greg_t *g): continues in the context g (a
 * signal frame's registers) without rt_sigreturn: how the library's
 * handlers leave once the seal refuses rt_sigreturn.  PKRU and the signal
 * mask stay as they are (the handlers block nothing; their targets, the
 * gate's exits, set PKRU themselves). */
	.text
	.globl pkbox__jump_to
	.hidden pkbox__jump_to
	.type pkbox__jump_to, @function
pkbox__jump_to:
	movq	0(%rdi), %r8
	movq	8(%rdi), %r9
	movq	16(%rdi), %r10
	movq	32(%rdi), %r12
	movq	40(%rdi), %r13
	movq	48(%rdi), %r14
	movq	56(%rdi), %r15
	movq	72(%rdi), %rsi
	movq	80(%rdi), %rbp
	movq	88(%rdi), %rbx
	movq	96(%rdi), %rdx
	movq	104(%rdi), %rax
	movq	112(%rdi), %rcx
	movq	128(%rdi), %r11
	movq	120(%rdi), %rsp
	movq	64(%rdi), %rdi
	jmp	*%r11
	.size pkbox__jump_to, .-pkbox__jump_to

/* void pkbox__run_on(void *top, void (*fn)(void *), void *arg): calls
 * fn(arg) on the stack whose top is top (16-byte aligned), and comes back
 * to the caller's stack (pkbox_host_run(3)).  The caller's stack pointer
 * waits in %rbp, which fn saves and restores on the new stack. */
	.text
	.globl pkbox__run_on
	.hidden pkbox__run_on
	.type pkbox__run_on, @function
pkbox__run_on:
	pushq	%rbp
	movq	%rsp, %rbp
	movq	%rdi, %rsp
	movq	%rdx, %rdi
	call	*%rsi
	movq	%rbp, %rsp
	popq	%rbp
	ret
	.size pkbox__run_on, .-pkbox__run_on

	.section .rodata
	.p2align 3
.Ltimeout_set:
	.quad	1 << (PKBOX_TIMEOUT_SIG - 1)
.Ldie_msg:
	.ascii "libpkeysbox: violation: gate check failed (a jump into the call gate)\n"
.Ldie_msg_end:
	/* the exit paths by switch (PKBOX_GATE_*), relative to the table */
	.p2align 2
.Lexits:
	.long	.Lexit_wrpkru - .Lexits
	.long	.Lexit_syscall - .Lexits

	.section .note.GNU-stack,"",@progbits
