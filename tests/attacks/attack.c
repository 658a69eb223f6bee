/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * attack.c - the attack catalogue (the table in doc/THREAT_MODEL.md),
 * tried for real by code running in a compartment of a sealed process.
 *
 *   attack NAME      runs one attack; attack --list prints the names
 *
 * The host keeps a 32-byte random secret in its private domain.  The
 * attacker gets the secret's address and an output buffer in its own
 * domain, and copies there whatever it manages to read.  Afterwards the
 * host checks, with host rights:
 *   1. the secret appears nowhere in the attacker's output;
 *   2. the secret is unchanged (against a second private copy);
 *   3. the host runs, and the library reported the attempt (a contained
 *      fault, a refused syscall, or a refused seal).
 * Exit 0 when all three hold, 1 when any fails (the attack worked), 77 when
 * the attack needs what this machine lacks (it says what), 2 on set-up
 * errors.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/rseq.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "pkeysbox.h"
#include "../scratch.h"

#define SECRET_LEN 32

struct ctx {
	volatile uint8_t *secret; /* the host's secret (its address is no secret) */
	uint8_t out[4096];        /* what the attacker could read */
	size_t nout;
	long rc[10];              /* what the attacker's syscalls returned */
	uintptr_t aux[8];         /* addresses the attack needs */
	int tampered;             /* a call that changes the policy got through */
	int through;              /* a call the policy refuses reached the kernel */
	int wrote_alias;          /* a16: a write through a bind mount worked */
	int strict;               /* sealed with the strict seal (ATTACK_SEAL_STRICT) */
	int step_from, step_at;   /* stepped attacks: the first step to try, the one tried last */
};

static struct pkbox_domain *dom;
static struct ctx *cx;

/* ---------------------------------------------------------------- helpers run inside */

static void grab(const volatile uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && cx->nout < sizeof(cx->out); i++)
		cx->out[cx->nout++] = p[i];
}

static uintptr_t page_of(const volatile void *p)
{
	return (uintptr_t)p & ~4095UL;
}

/* A stepped attack tries several things, each of which one defence alone
 * stops.  Under the strict seal the first refusal ends the call, so the
 * harness calls again (after resetting the domain) from the step after
 * the one that was stopped, until every step was tried: a defence that
 * is missing is noticed even where an earlier step is refused. */
#define STEP(k) if (cx->step_from <= (k) && ((cx->step_at = (k)), 1))

/* ---------------------------------------------------------------- A1 */

static intptr_t a1_read(void *a)
{
	(void)a;
	grab(cx->secret, SECRET_LEN);
	return 0;
}

static intptr_t a1_write(void *a)
{
	(void)a;
	cx->secret[0] ^= 0xff;
	return 0;
}

/* ---------------------------------------------------------------- A2 */

/* Jump to an instruction with eax = 0 (PKRU "all open"), ecx = edx = 0. */
static intptr_t a2_jump(void *a)
{
	uintptr_t target = cx->aux[0];

	(void)a;
	__asm__ volatile("xorl %%eax, %%eax\n\t"
			 "xorl %%ecx, %%ecx\n\t"
			 "xorl %%edx, %%edx\n\t"
			 "call *%0\n\t"
			 :
			 : "r"(target)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	/* if PKRU is open now, this works */
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* The dynamic loader's XRSTOR gadget ("xrstor 0x40(%rsp)", then registers
 * from the stack, "mov %rbx,%rsp; mov (%rsp),%rbx; add $0x18,%rsp;
 * jmp *%r11"): entered with eax = 0x200 (PKRU only) and an XSAVE area whose
 * PKRU is 0, it would open every key and come back to label 1. */
uintptr_t a2_saved_rsp;
static uint8_t a2_area[8192] __attribute__((aligned(64)));
static uint64_t a2_rbx_stack[8];

static intptr_t a2_xrstor(void *a)
{
	(void)a;
	uint8_t *xs = a2_area + 4096;             /* 64-aligned XSAVE area */
	uint64_t bv = 1ULL << 9;                   /* XSTATE_BV: PKRU */
	memset(a2_area, 0, sizeof(a2_area));
	memcpy(xs + 512, &bv, 8);
	memset(xs + 2688, 0, 8);                   /* PKRU = 0: every key open */
	a2_rbx_stack[0] = 0;
	__asm__ volatile("movq %%rsp, a2_saved_rsp(%%rip)\n\t"
			 "leaq 1f(%%rip), %%r11\n\t"
			 "movq %1, %%rbx\n\t"
			 "movq %2, %%rsp\n\t"
			 "movl $0x200, %%eax\n\t"
			 "xorl %%edx, %%edx\n\t"
			 "jmp *%0\n"
			 "1:\n\t"
			 "movq a2_saved_rsp(%%rip), %%rsp\n\t"
			 :
			 : "r"(cx->aux[0]), "r"(a2_rbx_stack), "r"(xs - 0x40)
			 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* ---------------------------------------------------------------- A3 */

static intptr_t a3_pkey_mprotect(void *a)
{
	(void)a;
	int k = (int)cx->aux[0]; /* the compartment's own key (not a secret) */
	cx->rc[0] = syscall(SYS_pkey_mprotect, page_of(cx->secret), 4096, PROT_READ | PROT_WRITE, k > 0 ? k : 1);
	cx->rc[1] = syscall(SYS_pkey_mprotect, page_of(cx->secret), 4096, PROT_READ | PROT_WRITE, 0);
	/* key -1 keeps the key and changes the protection only: pkey_mprotect
	 * as a plain mprotect, which works where the kernel has no pkeys at all
	 * (keys 0 and 1 are EINVAL there); the mprotect rules do not see it */
	cx->rc[2] = syscall(SYS_pkey_mprotect, page_of(cx->secret), 4096, PROT_READ | PROT_WRITE, -1);
	grab(cx->secret, SECRET_LEN);
	return 0;
}

static intptr_t a3_mprotect(void *a)
{
	(void)a;
	cx->rc[0] = syscall(SYS_mprotect, page_of(cx->secret), 4096, PROT_READ | PROT_WRITE);
	grab(cx->secret, SECRET_LEN);
	return 0;
}

static intptr_t a3_pkey_realloc(void *a)
{
	bool reached = false;

	(void)a;
	for (int k = 1; k < 16; k++) {
		long r = syscall(SYS_pkey_free, k);

		cx->rc[0] |= r == 0;
		reached |= r == 0 || errno != EPERM;
		cx->through |= reached; /* before a later refusal ends the call */
	}
	long k;
	int n = 0;
	while ((k = syscall(SYS_pkey_alloc, 0, 0)) >= 0 && n < 16)
		n++;
	reached |= k >= 0 || errno != EPERM;
	cx->rc[1] = n;
	/* The policy refuses every key call (EPERM from the library's
	 * handler): one the kernel answered itself got through.  With pkeys,
	 * pkey_alloc(0, 0) also opens the key it returns in the calling
	 * thread's PKRU, so a freed host key comes back open; without them
	 * (EINVAL) getting through is all there is to see. */
	cx->rc[2] = reached;
	cx->through |= reached;
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* ---------------------------------------------------------------- A4 */

static intptr_t a4_remap(void *a)
{
	uintptr_t p = page_of(cx->secret);

	(void)a;
	cx->rc[0] = syscall(SYS_munmap, p, 4096);
	cx->rc[1] = (long)mmap((void *)p, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	cx->rc[2] = syscall(SYS_mremap, p, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, cx->aux[0]);
	cx->rc[3] = syscall(SYS_madvise, p, 4096, MADV_DONTNEED);
	/* from below: a range that starts outside and covers it */
	cx->rc[4] = syscall(SYS_munmap, p - (1UL << 40), (1UL << 40) + 4096);
	cx->rc[5] = syscall(SYS_mprotect, p - 8192, 3 * 4096, PROT_READ | PROT_WRITE);
	cx->rc[6] = (long)syscall(SYS_brk, p);
	/* the other range-checked calls from below as well: each has rules of
	 * its own (a hole in one is not covered by the others') */
	cx->rc[7] = syscall(SYS_madvise, p - (1UL << 40), (1UL << 40) + 4096, MADV_DONTNEED);
	cx->rc[8] = (long)mmap((void *)(p - (1UL << 40)), (1UL << 40) + 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	/* sealed while hidden, the page could never be given back */
	cx->rc[9] = syscall(462 /* mseal */, p, 4096, 0);
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* ---------------------------------------------------------------- A5 */

static const uint8_t wrpkru_code[] = { 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3 };

static void try_run(void *code)
{
	if (code && code != MAP_FAILED) {
		((void (*)(void))code)();
		grab(cx->secret, SECRET_LEN);
	}
}

/* New executable memory changes the policy whatever it holds: code nobody
 * inspected.  Each way is recorded as it succeeds, before the code runs: its
 * WRPKRU opens every key where the CPU has pkeys, and raises SIGILL (ending
 * the call) where it has none, which would otherwise hide the ways after it
 * and look like a contained fault. */
static intptr_t a5_exec(void *a)
{
	(void)a;
	/* new anonymous executable memory */
	void *x = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cx->rc[0] = x == MAP_FAILED ? -errno : 0;
	/* writable memory made executable afterwards */
	void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w != MAP_FAILED) {
		memcpy(w, wrpkru_code, sizeof(wrpkru_code));
		cx->rc[1] = syscall(SYS_mprotect, w, 4096, PROT_READ | PROT_EXEC);
		cx->tampered |= !cx->rc[1];
	}
	/* a file mapped twice: one view writable, one executable */
	int fd = (int)syscall(SYS_memfd_create, "jit", 0);
	uint8_t *wv = MAP_FAILED;
	void *xv = MAP_FAILED;
	if (fd >= 0 && ftruncate(fd, 4096) == 0) {
		wv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		xv = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
		cx->rc[2] = xv == MAP_FAILED ? -errno : 0;
		cx->tampered |= xv != MAP_FAILED;
	}
	if (fd >= 0)
		close(fd);
	/* shared memory attached executable */
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id >= 0) {
		void *s = shmat(id, NULL, SHM_EXEC);
		cx->rc[3] = s == (void *)-1 ? -errno : 0;
		cx->tampered |= s != (void *)-1;
		shmctl(id, IPC_RMID, NULL);
	}
	/* then what it would run */
	if (x != MAP_FAILED) {
		cx->tampered = 1;
		memcpy(x, wrpkru_code, sizeof(wrpkru_code));
		try_run(x);
	}
	if (w != MAP_FAILED && !cx->rc[1])
		try_run(w);
	if (wv != MAP_FAILED && xv != MAP_FAILED) {
		memcpy(wv, wrpkru_code, sizeof(wrpkru_code));
		try_run(xv);
	}
	return 0;
}

/* ---------------------------------------------------------------- A6 */

/* A child that needs nothing of the pool (a forked compartment's stack and
 * TLS copy are there, and a child does not get it: A18, it would die at
 * once): a stack of its own outside the pool, raw system calls only.  It
 * asks to trace its parent with PTRACE_SEIZE (which stops nobody, so the
 * parent is not left stopped when the child ends) and exits 1 when that
 * worked, 0 when the kernel said no; a refusal by the policy ends it
 * (SIGSYS, with no pool for the library's handler). */
static long a6_trace_child(long parent, void *stack_top)
{
	long r;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;

	__asm__ volatile("movq %[pid], %%r12\n\t"
			 "syscall\n\t" /* clone(SIGCHLD, stack_top, 0, 0, 0) */
			 "testq %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "movl $101, %%eax\n\t" /* ptrace */
			 "movl $0x4206, %%edi\n\t" /* PTRACE_SEIZE */
			 "movq %%r12, %%rsi\n\t"
			 "xorl %%edx, %%edx\n\t"
			 "xorl %%r10d, %%r10d\n\t"
			 "syscall\n\t"
			 "xorl %%edi, %%edi\n\t"
			 "testq %%rax, %%rax\n\t"
			 "sete %%dil\n\t"
			 "movl $231, %%eax\n\t" /* exit_group */
			 "syscall\n\t"
			 "ud2\n"
			 "1:\n\t"
			 : "=a"(r), "+r"(r10), "+r"(r8)
			 : "a"((long)SYS_clone), "D"((long)SIGCHLD), "S"(stack_top), "d"(0L), [pid] "r"(parent)
			 : "rcx", "r11", "r12", "memory");
	return r;
}

static intptr_t a6_foreign(void *a)
{
	(void)a;
	uint8_t buf[SECRET_LEN];
	int fd = open("/proc/self/mem", O_RDWR);

	cx->rc[0] = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		if (pread(fd, buf, sizeof(buf), (off_t)(uintptr_t)cx->secret) == (ssize_t)sizeof(buf))
			grab(buf, sizeof(buf));
		close(fd);
	}
	struct iovec l = { buf, sizeof(buf) }, r = { (void *)cx->secret, sizeof(buf) };
	long n = syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0);
	cx->rc[1] = n < 0 ? -errno : n;
	if (n == (long)sizeof(buf))
		grab(buf, sizeof(buf));
	/* refused: EPERM from the library's handler.  One the kernel answered
	 * got through, even where it could not read the secret (EFAULT: the
	 * mprotect backend's PROT_NONE stops it, pkeys may not) */
	cx->through |= n >= 0 || errno != EPERM;
	/* a child asks to trace its parent (ptrace peeks through any
	 * protection, as /proc/PID/mem does) */
	void *stk = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long c = stk == MAP_FAILED ? -1 : a6_trace_child(getpid(), (char *)stk + 65536);
	int st = 0;
	if (c > 0)
		waitpid((pid_t)c, &st, 0);
	cx->rc[2] = c > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : c > 0 ? 99 : c;
	/* 1: attached (a child that faults or is refused ends otherwise) */
	if (cx->rc[2] == 1)
		grab((const uint8_t *)"TRACED", 6);
	return 0;
}

/* ---------------------------------------------------------------- A7 */

/* One i386 syscall (int 0x80): up to six arguments in ebx, ecx, edx, esi,
 * edi, ebp.  The red zone is stepped over before rbp is saved. */
static long int80(long nr, long b, long c, long d, long si, long di, long bp)
{
	long r;

	__asm__ volatile("subq $128, %%rsp\n\t"
			 "pushq %%rbp\n\t"
			 "movq %7, %%rbp\n\t"
			 "int $0x80\n\t"
			 "popq %%rbp\n\t"
			 "addq $128, %%rsp"
			 : "=a"(r)
			 : "a"(nr), "b"(b), "c"(c), "d"(d), "S"(si), "D"(di), "m"(bp)
			 : "memory");
	return r;
}

/* What only the architecture check stops: a 32-bit call cannot name the
 * pool above 4 GiB, so these aim at the policy itself instead.  Through
 * int 0x80 the i386 numbers of calls the x86-64 rules refuse:
 *   - seccomp(SECCOMP_SET_MODE_FILTER) installing a filter of its own (its
 *     program below 4 GiB, where a 32-bit pointer can name it);
 *   - mmap2 of a memfd it wrote WRPKRU into, PROT_EXEC: new code nobody
 *     inspected (MDWE does not stop a first mapping that is not writable);
 *   - pkey_alloc, which only the library may call.
 * Any of them returning success changed the process's policy; x32 (bit 30
 * of the number) is tried with mprotect of the secret's page. */
static intptr_t a7_int80(void *a)
{
	(void)a;
	/* 32-bit addressable memory for the filter program */
	uint8_t *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	cx->rc[5] = low == MAP_FAILED ? -errno : 0;
	if (low != MAP_FAILED) {
		struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		uint32_t prog32[2] = { 1, (uint32_t)(uintptr_t)(low + 64) }; /* compat sock_fprog: len, filter */
		memcpy(low + 64, &allow, sizeof(allow));
		memcpy(low, prog32, sizeof(prog32));
		cx->rc[0] = int80(354 /* seccomp */, SECCOMP_SET_MODE_FILTER, 0, (long)(uintptr_t)low, 0, 0, 0);
	}
	/* xor eax,eax; xor ecx,ecx; xor edx,edx; wrpkru; ret: written as data */
	static const uint8_t code[] = { 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3 };
	int fd = (int)syscall(SYS_memfd_create, "a7", 0);
	if (fd < 0 || syscall(SYS_ftruncate, fd, 4096) || syscall(SYS_pwrite64, fd, code, sizeof(code), 0) < 0)
		cx->rc[1] = -EIO;
	else
		cx->rc[1] = int80(192 /* mmap2 */, 0, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	cx->rc[2] = int80(381 /* pkey_alloc */, 0, 0, 0, 0, 0, 0);
	/* (before the next call, which the strict seal ends the call at) */
	cx->tampered = cx->rc[0] == 0 || (cx->rc[1] > 0 && cx->rc[1] < 0xfffff000L) || cx->rc[2] >= 0;
	/* x32: the same numbers with bit 30 */
	cx->rc[3] = syscall(0x40000000L | SYS_mprotect, page_of(cx->secret), 4096, PROT_READ | PROT_WRITE);
	cx->tampered |= cx->rc[3] == 0;
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* ---------------------------------------------------------------- A8 */

static intptr_t a8_sigreturn(void *a)
{
	(void)a;
	/* a frame like the kernel's: ucontext with an XSAVE area whose PKRU is 0 */
	static __thread uint8_t frame[8192] __attribute__((aligned(64)));
	static __thread ucontext_t ucs;
	ucontext_t *uc = &ucs;
	uint8_t *xs = frame + 4096;
	volatile int landed = 0;

	ucontext_t *fu = (ucontext_t *)frame;

	memset(frame, 0, sizeof(frame));
	getcontext(uc);
	if (landed) {
		/* the strict seal refuses rt_sigreturn to everyone: a forged
		 * frame taken is the policy failing, whatever the backend
		 * makes of it (the mprotect backend's page protections stay) */
		if (cx->strict)
			cx->tampered = 1;
		grab(cx->secret, SECRET_LEN);
		return 0;
	}
	landed = 1;
	memcpy(fu, uc, sizeof(*uc));
	fu->uc_mcontext.gregs[REG_CSGSFS] = 0x33 | (0x2bLL << 48);
	fu->uc_mcontext.gregs[REG_EFL] = 0x202;
	/* software-reserved bytes: magic, sizes, features (x87, SSE, PKRU) */
	uint32_t magic1 = 0x46505853U, xsz = 2696, ext = 2700, mxcsr = 0x1f80;
	uint64_t feat = 3 | (1ULL << 9), bv = 3 | (1ULL << 9);
	memcpy(xs + 24, &mxcsr, 4);
	memcpy(xs + 464, &magic1, 4);
	memcpy(xs + 468, &ext, 4);
	memcpy(xs + 472, &feat, 8);
	memcpy(xs + 480, &xsz, 4);
	memcpy(xs + 512, &bv, 8);
	uint32_t magic2 = 0x46505845U;
	memcpy(xs + xsz, &magic2, 4);
	fu->uc_mcontext.fpregs = (fpregset_t)xs;
	fu->uc_flags = 0;
	fu->uc_stack.ss_flags = SS_DISABLE;
	long r;
	__asm__ volatile("movq %1, %%rsp\n\t"
			 "movl $15, %%eax\n\t"
			 "syscall\n\t"
			 : "=a"(r)
			 : "r"(frame)
			 : "memory");
	cx->rc[0] = r;
	return 0;
}

/* ---------------------------------------------------------------- A9 */

/* the kernel's struct sigaction */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

static intptr_t a9_handlers(void *a)
{
	(void)a;
	struct sigaction lib;
	static const int sigs[] = { SIGSEGV, SIGSYS };

	/* replace the library's handlers: a replacement that gets in is
	 * noted and put back at once, so that the verdict says so instead of
	 * the process ending at the next fault */
	for (int i = 0; i < 2; i++) {
		STEP(i)
		{
			struct ksigaction mine = { .handler = SIG_IGN }, old;

			cx->rc[i] = syscall(SYS_rt_sigaction, sigs[i], &mine, &old, 8);
			if (cx->rc[i] == 0) {
				cx->tampered = 1;
				syscall(SYS_rt_sigaction, sigs[i], &old, NULL, 8);
			}
		}
	}
	/* the library's handler as a confused deputy: called directly with a
	 * context that claims to be a fault in the host */
	STEP(2)
	if (sigaction(SIGSEGV, NULL, &lib) == 0 && (lib.sa_flags & SA_SIGINFO) && lib.sa_sigaction) {
		static __thread ucontext_t fake;
		siginfo_t si;

		memset(&fake, 0, sizeof(fake));
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGSEGV;
		si.si_code = 4; /* SEGV_PKUERR */
		si.si_addr = (void *)cx->secret;
		lib.sa_sigaction(SIGSEGV, &si, &fake);
	}
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* A handler of its own: the kernel runs handlers with its default PKRU
 * (key 0 writable, other keys closed), and a handler that touches closed
 * memory must not be taken for a host thread the library lets through. */
static void a9_own_handler(int sig)
{
	(void)sig;
	grab(cx->secret, SECRET_LEN);
}

static intptr_t a9_own(void *a)
{
	(void)a;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = a9_own_handler;
	/* no handler can be installed once sealed: one that gets in is the
	 * policy failing, whatever it manages to read (on the mprotect
	 * backend it runs with the compartment's rights during the call, and
	 * with the host's when the host takes the signal after it) */
	STEP(0)
	{
		cx->rc[0] = 1; /* (stays so where the call is stopped) */
		cx->rc[0] = sigaction(SIGUSR1, &sa, NULL) ? -errno : 0;
		cx->tampered |= !cx->rc[0];
	}
	sa.sa_flags = SA_ONSTACK;
	STEP(1)
	{
		cx->rc[1] = 1;
		cx->rc[1] = sigaction(SIGUSR2, &sa, NULL) ? -errno : 0;
		cx->tampered |= !cx->rc[1];
	}
	/* (a signal left at its default action would end the process: a
	 * denial of service any compartment can have with kill(2)) */
	STEP(2)
	if (!cx->rc[0])
		cx->rc[2] = syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	STEP(3)
	if (!cx->rc[1])
		cx->rc[3] = syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	return 0;
}

/* Before the seal (a plugin's constructor runs in its compartment then):
 * a handler in the compartment's memory, which the kernel would run with
 * its default PKRU.  The seal must refuse while it is in place. */
static intptr_t a9_preseal(void *a)
{
	(void)a;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = (void (*)(int))(uintptr_t)cx->out;
	return sigaction(SIGUSR1, &sa, NULL) ? -errno : 0;
}

/* ---------------------------------------------------------------- A10 */

static intptr_t a10_seccomp(void *a)
{
	(void)a;
	/* every filter is one that allows all, so that the test goes on to
	 * its verdict if it gets in; dumpability is put back if it changed */
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog allow_prog = { 1, allow };

	/* first, prctl's option with bits the kernel ignores (it is an int)
	 * above it: a filter and dumpability */
	STEP(0)
	{
		cx->rc[3] = syscall(SYS_prctl, (1UL << 32) | PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &allow_prog, 0, 0);
		cx->tampered |= cx->rc[3] == 0;
	}
	STEP(1)
	{
		cx->rc[4] = syscall(SYS_prctl, (1UL << 32) | PR_SET_DUMPABLE, 1, 0, 0, 0);
		if (cx->rc[4] == 0) {
			cx->tampered = 1;
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		}
	}
	/* then the plain calls */
	STEP(2)
	{
		cx->rc[0] = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &allow_prog);
		cx->tampered |= cx->rc[0] == 0;
	}
	STEP(3)
	{
		cx->rc[1] = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &allow_prog, 0, 0);
		cx->tampered |= cx->rc[1] == 0;
	}
	STEP(4)
	{
		cx->rc[2] = prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		if (cx->rc[2] == 0) {
			cx->tampered = 1;
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		}
	}
	STEP(5)
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* ---------------------------------------------------------------- A11 */

/* runs with whatever PKRU a forged gate record gives */
static intptr_t a11_payload(void *a)
{
	(void)a;
	grab(cx->secret, SECRET_LEN);
	return 7;
}

static intptr_t a11_state(void *a)
{
	(void)a;
	/* 1. the gate configuration: make it writable, point the gate records at
	 *    our memory, forge a record for PKRU 0 and enter the gate with it */
	/* 2. the saved host state: library memory, host-keyed */
	volatile uint64_t *gc = (volatile uint64_t *)cx->aux[0];
	STEP(0)
	cx->rc[0] = syscall(SYS_mprotect, cx->aux[0], 4096, PROT_READ | PROT_WRITE);
	/* whether the configuration is writable, whatever made it so: the
	 * value there written back (faults where it is read-only) */
	STEP(1)
	{
		gc[6] = gc[6];
		cx->rc[1] = 1;
		cx->tampered = 1;
	}
	STEP(2)
	{
		uint64_t stacks_lo = gc[0], shift = gc[3];
		uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
		uintptr_t top = (sp | ((1UL << shift) - 1)) + 1;
		uint64_t idx = ((top - stacks_lo) >> shift) - 1;
		static uint64_t fake[8] __attribute__((aligned(64)));
		fake[0] = 0x786f62656b70ULL; /* magic */
		fake[1] = 0;                 /* PKRU: every key open */
		fake[2] = 1;                 /* KIND_CALL */
		fake[3] = (uintptr_t)a11_payload;
		gc[6] = (uintptr_t)fake - idx * 64; /* records_lo: faults unless mprotect worked */
		/* (r14: the slot; rsi: the record, which the entry checks) */
		__asm__ volatile("movq %0, %%r14\n\t"
				 "movq %2, %%rsi\n\t"
				 "xorl %%eax, %%eax\n\t"
				 "xorl %%ecx, %%ecx\n\t"
				 "xorl %%edx, %%edx\n\t"
				 "call *%1\n\t"
				 :
				 : "r"(top), "r"(cx->aux[2]), "r"(fake)
				 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r14", "memory");
	}
	/* the saved host state: hidden or closed inside compartments */
	STEP(3)
	{
		volatile uint64_t *state = (volatile uint64_t *)cx->aux[1];
		state[1] = 0x4141414141414141ULL;
		cx->rc[3] = 1;
		cx->tampered = 1;
	}
	return 0;
}

/* The key-0 attacks: the compartment rewrites something in key-0 memory
 * the host later runs through: a return address on the host's stack, a
 * function pointer among the host's globals, the thread's rseq area (the
 * kernel moves an interrupted thread to the abort handler named there).
 * If one works, a11_hijacked runs with the host's rights: it copies the
 * secret out and jumps back to the verdict. */
static jmp_buf hijack_jb;
static volatile int hijacked;

__attribute__((used)) void a11_hijacked(void);
__attribute__((used)) void a11_hijacked(void)
{
	hijacked = 1;
	grab(cx->secret, SECRET_LEN);
	longjmp(hijack_jb, 1);
}

/* an rseq abort handler: the signature, then realign and go */
void a11_rseq_abort(void);
__asm__(".text\n"
	".p2align 4\n"
	".long 0x53053053\n"
	".globl a11_rseq_abort\n"
	".type a11_rseq_abort, @function\n"
	"a11_rseq_abort:\n"
	"	andq $-16, %rsp\n"
	"	call a11_hijacked\n"
	"	ud2\n"
	".size a11_rseq_abort, .-a11_rseq_abort\n");

static void host_hook_default(void)
{
}

/* a function pointer among the host's globals, called after each call */
static void (*volatile host_hook)(void) = host_hook_default;

static intptr_t a11_stack(void *a)
{
	(void)a;
	/* aux[6]: where the host's function that called pkbox_call returns */
	*(volatile uintptr_t *)cx->aux[6] = (uintptr_t)a11_hijacked;
	cx->rc[0] = 1;
	return 0;
}

static intptr_t a11_globals(void *a)
{
	(void)a;
	host_hook = (void (*)(void))a11_hijacked;
	cx->rc[0] = 1;
	return 0;
}

/* where the kernel can read them while the host runs: key-0 memory */
static uint64_t a11_cs[4] __attribute__((aligned(32)));
static uint64_t a11_area[4] __attribute__((aligned(32)));

static intptr_t a11_rseq(void *a)
{
	(void)a;
	/* a critical section over every shared library (the host runs there
	 * after the call), aborting into the attacker's code */
	a11_cs[0] = 0; /* version, flags */
	a11_cs[1] = 0x7f0000000000UL;
	a11_cs[2] = 0x00fffff00000UL; /* to 0x7ffffff00000 */
	a11_cs[3] = (uintptr_t)a11_rseq_abort;
	/* 1. an area of its own (the thread's own was dropped by the library);
	 * the kernel clears the section on the way out of the syscall, so it
	 * is named after */
	STEP(0)
	{
		cx->rc[0] = syscall(SYS_rseq, a11_area, 32, 0, 0x53053053);
		if (cx->rc[0])
			cx->rc[0] = -errno;
		((volatile uint64_t *)a11_area)[1] = (uintptr_t)a11_cs;
	}
	/* 2. the thread's glibc area, in the host's thread control block
	 * (the library unregistered it: tried after a refusal of the first
	 * too) */
	STEP(1)
	{
		if (cx->aux[5])
			((volatile uint64_t *)cx->aux[5])[1] = (uintptr_t)a11_cs;
		cx->rc[1] = 1;
	}
	return 0;
}

/* ---------------------------------------------------------------- A12 */

void a12_child(void);
void a12_child(void)
{
	grab(cx->secret, SECRET_LEN);
	syscall(SYS_exit, 0);
	for (;;)
		;
}

static intptr_t a12_thread(void *a)
{
	(void)a;
	static uint8_t stack[65536] __attribute__((aligned(16)));
	long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM, r;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;

	/* a raw thread: same memory, the compartment's PKRU, on its own stack */
	STEP(0)
	{
		__asm__ volatile("movl $56, %%eax\n\t"
				 "syscall\n\t"
				 "testq %%rax, %%rax\n\t"
				 "jnz 1f\n\t"
				 "call a12_child\n"
				 "1:"
				 : "=a"(r)
				 : "D"(flags), "S"(stack + sizeof(stack)), "d"(0), "r"(r10), "r"(r8)
				 : "rcx", "r11", "memory");
		cx->rc[0] = r;
		usleep(300000);
	}
	/* the strict seal: the same through clone3 (how glibc makes threads),
	 * which its own rule refuses */
	STEP(1)
	if (cx->strict) {
		static uint64_t args[11]; /* struct clone_args */

		memset(args, 0, sizeof(args));
		args[0] = (uint64_t)flags;
		args[5] = (uintptr_t)stack; /* stack, stack_size */
		args[6] = sizeof(stack);
		__asm__ volatile("movl $435, %%eax\n\t"
				 "syscall\n\t"
				 "testq %%rax, %%rax\n\t"
				 "jnz 1f\n\t"
				 "call a12_child\n"
				 "1:"
				 : "=a"(r)
				 : "D"(args), "S"(88UL)
				 : "rcx", "r11", "memory");
		cx->rc[1] = r;
		usleep(300000);
	}
	return 0;
}

/* ---------------------------------------------------------------- A13 */

static intptr_t a13_process(void *a)
{
	(void)a;
	/* each one that gets through is the policy failing: noted, and undone
	 * where it can be */
	STEP(0)
	{
		cx->rc[0] = syscall(SYS_personality, 0x0400000 /* READ_IMPLIES_EXEC */);
		if (cx->rc[0] >= 0) {
			cx->tampered = 1;
			syscall(SYS_personality, cx->rc[0]);
		}
	}
	STEP(1)
	{
		cx->rc[1] = syscall(SYS_userfaultfd, 0);
		if (cx->rc[1] >= 0) {
			cx->tampered = 1;
			close((int)cx->rc[1]);
		}
	}
	STEP(2)
	{
		cx->rc[2] = syscall(SYS_io_uring_setup, 4, calloc(1, 128));
		if (cx->rc[2] >= 0) {
			cx->tampered = 1;
			close((int)cx->rc[2]);
		}
	}
	/* input pushed into a terminal (the host's pseudo-terminal, aux[0]),
	 * the command's upper bits set */
	STEP(3)
	if (cx->aux[0]) {
		char c = 'x';

		cx->rc[3] = syscall(SYS_ioctl, (long)cx->aux[0], (1UL << 32) | TIOCSTI, &c);
		cx->tampered |= cx->rc[3] == 0;
	}
	/* a program instead of this one, from the compartment itself (a child
	 * of a compartment has no pool and dies at once: A18).  If execve
	 * goes through, the test ends there and fails: the program exits 1,
	 * or the filter it inherits ends it (SIGSYS) while it loads */
	STEP(4)
	{
		char *argv[] = { "/bin/false", NULL };

		cx->rc[4] = syscall(SYS_execve, argv[0], argv, NULL);
	}
	STEP(5)
	grab(cx->secret, SECRET_LEN);
	return 0;
}

/* ---------------------------------------------------------------- A14 */

static int alloc_cb_id;
static int quota_error;

/* host side: allocates 1 MiB in the compartment's heap for it */
static intptr_t alloc_cb(void *a)
{
	(void)a;
	void *p = pkbox_malloc(dom, 1 << 20);
	if (!p && errno == EDQUOT)
		quota_error = 1;
	return (intptr_t)p;
}

static intptr_t a14_exhaust(void *a)
{
	(void)a;
	intptr_t p = 0;
	size_t n = 0;
	/* 1 GiB at most: 16 times the domain's quota */
	while (pkbox_host_call(alloc_cb_id, NULL, &p) == 0 && p && n < 1024)
		n++;
	cx->rc[0] = (long)n;
	return 0;
}

static volatile int depth_limit = 1 << 30;

static int recurse(volatile char *p, int depth)
{
	volatile char buf[4096];

	buf[0] = p ? p[0] : 1;
	if (depth >= depth_limit)
		return buf[0];
	return recurse(buf, depth + 1) + buf[0];
}

static intptr_t a14_stack(void *a)
{
	(void)a;
	return recurse(NULL, 0);
}

/* ---------------------------------------------------------------- A16 */

/* The host's code changed through its file, after the seal.  The host
 * found, before it: aux[0] the path of libpkeysbox's file, aux[1] the file
 * offset of pkbox_exit's code, aux[2] that code's mapping as
 * /proc/self/map_files/LO-HI, aux[3] a scratch file beside this program
 * (for O_TRUNC, which cannot be undone), aux[4] a name on the same file
 * system for a hard link, aux[5] the library's file seen through a bind
 * mount of its directory (0: none could be made).  Every write puts back
 * the bytes already there, so a failing defence shows without damage;
 * rc[i] is 1 where way i wrote. */
static int a16_rewrite(int fd, off_t off)
{
	uint8_t b[16];

	return pread(fd, b, sizeof(b), off) == (ssize_t)sizeof(b) && pwrite(fd, b, sizeof(b), off) == (ssize_t)sizeof(b);
}

static intptr_t a16_pagecache(void *a)
{
	const char *lib = (const char *)cx->aux[0], *scratch = (const char *)cx->aux[3];
	const char *link_to = (const char *)cx->aux[4];
	off_t off = (off_t)cx->aux[1];
	struct stat st;

	(void)a;
	int fd = open(lib, O_RDWR);
	cx->rc[0] = fd >= 0 && a16_rewrite(fd, off);
	if (fd >= 0) {
		volatile uint8_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off & ~4095L);
		cx->rc[1] = m != MAP_FAILED && (m[off & 4095] = m[off & 4095], 1);
		close(fd);
	}
	cx->rc[2] = open(scratch, O_WRONLY | O_TRUNC) >= 0;
	cx->rc[3] = rename(lib, lib) == 0;
	if (linkat(AT_FDCWD, lib, AT_FDCWD, link_to, AT_SYMLINK_FOLLOW) == 0) {
		int lw = open(link_to, O_RDWR);
		cx->rc[4] = lw >= 0 && a16_rewrite(lw, off);
		unlink(link_to);
	}
	cx->rc[5] = open((const char *)cx->aux[2], O_RDWR) >= 0;
	/* refused by the seal where Landlock has no TRUNCATE right (before 6.2) */
	cx->rc[6] = stat(lib, &st) == 0 && truncate(lib, st.st_size) == 0;
	cx->rc[7] = open(scratch, O_RDONLY | O_TRUNC) >= 0;
	if (cx->aux[5]) {
		int afd = open((const char *)cx->aux[5], O_RDWR);
		cx->wrote_alias = afd >= 0 && a16_rewrite(afd, off);
	}
	return 0;
}

/* where pkbox_exit's code lies in libpkeysbox's file, and its mapping */
struct a16_where {
	uintptr_t addr, off, lo, hi;
};

static int a16_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct a16_where *w = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && w->addr >= lo && w->addr < lo + ph->p_memsz) {
			w->off = w->addr - lo + ph->p_offset;
			w->lo = lo & ~4095UL;
			w->hi = (lo + ph->p_memsz + 4095) & ~4095UL;
			return 1;
		}
	}
	return 0;
}

/* the host's part, before the seal */
static int a16_setup(const char *be)
{
	Dl_info di;
	struct a16_where w = { (uintptr_t)pkbox_exit, 0, 0, 0 };
	char exe[512], buf[600];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0 || !dladdr((void *)pkbox_exit, &di) || !di.dli_fname || !dl_iterate_phdr(a16_cb, &w))
		return -1;
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	cx->aux[0] = (uintptr_t)pkbox_copy_in(dom, di.dli_fname, strlen(di.dli_fname) + 1);
	cx->aux[1] = w.off;
	snprintf(buf, sizeof(buf), "/proc/self/map_files/%lx-%lx", (unsigned long)w.lo, (unsigned long)w.hi);
	cx->aux[2] = (uintptr_t)pkbox_copy_in(dom, buf, strlen(buf) + 1);
	snprintf(buf, sizeof(buf), "%s/a16-scratch-%s", exe, be);
	int fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "x", 1) != 1)
		return -1;
	close(fd);
	cx->aux[3] = (uintptr_t)pkbox_copy_in(dom, buf, strlen(buf) + 1);
	/* beside this program's directory: writable after the seal, and most
	 * likely on the library's file system */
	snprintf(buf, sizeof(buf), "%s/../a16-links", exe);
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -1;
	snprintf(buf, sizeof(buf), "%s/../a16-links/%d", exe, (int)getpid());
	cx->aux[4] = (uintptr_t)pkbox_copy_in(dom, buf, strlen(buf) + 1);
	/* where this process may mount (root): the library's directory bound
	 * a second time, in a mount namespace of its own */
	char libdir[512];
	snprintf(libdir, sizeof(libdir), "%s", di.dli_fname);
	*strrchr(libdir, '/') = 0;
	snprintf(buf, sizeof(buf), "%s/../a16-links/bound", exe);
	if ((mkdir(buf, 0755) == 0 || errno == EEXIST) && unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0 && mount(libdir, buf, NULL, MS_BIND, NULL) == 0) {
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s", strrchr(di.dli_fname, '/'));
		cx->aux[5] = (uintptr_t)pkbox_copy_in(dom, buf, strlen(buf) + 1);
	} else {
		printf("  (no bind mount here: %s)\n", strerror(errno));
	}
	return cx->aux[0] && cx->aux[2] && cx->aux[3] && cx->aux[4] ? 0 : -1;
}

/* ---------------------------------------------------------------- the harness */

struct attack {
	const char *name;
	const char *cls;
	pkbox_fn fn;
	int needs; /* 1: pku; 2: defended with key-0 protection (pkbox_key0_protected) only */
	const char *what;
	int steps; /* a stepped attack (STEP): how many steps */
};

static const struct attack attacks[] = {
	{ "a1-read", "A1", a1_read, 0, "read the secret", 0 },
	{ "a1-write", "A1", a1_write, 0, "write the secret", 0 },
	{ "a2-gate", "A2", a2_jump, 0, "jump to the gate's entry WRPKRU with PKRU 0", 0 },
	{ "a2-die", "A2", a2_jump, 0, "jump to the gate's third WRPKRU with PKRU 0", 0 },
	{ "a2-libc", "A2", a2_jump, 0, "jump to glibc's pkey_set WRPKRU", 0 },
	{ "a2-ldso", "A2", a2_xrstor, 0, "the dynamic loader's XRSTOR with a forged XSAVE area (PKRU 0)", 0 },
	{ "a3-pkey-mprotect", "A3", a3_pkey_mprotect, 0, "re-key the secret's page, or re-protect it (key -1)", 0 },
	{ "a3-mprotect", "A3", a3_mprotect, 0, "mprotect the secret's page", 0 },
	{ "a3-pkeys", "A3", a3_pkey_realloc, 0, "free and allocate keys", 0 },
	{ "a4-remap", "A4", a4_remap, 0, "munmap/mmap/mremap/madvise/mseal the secret's page, from below too", 0 },
	{ "a5-exec", "A5", a5_exec, 0, "new executable memory: anonymous, mprotect, memfd alias, SHM_EXEC", 0 },
	{ "a6-foreign", "A6", a6_foreign, 0, "/proc/self/mem, process_vm_readv, ptrace from a child (PTRACE_SEIZE)", 0 },
	{ "a7-int80", "A7", a7_int80, 0, "seccomp, mmap2(PROT_EXEC), pkey_alloc through int 0x80; mprotect through x32", 0 },
	{ "a8-sigreturn", "A8", a8_sigreturn, 0, "forged rt_sigreturn frame with PKRU 0", 0 },
	{ "a9-handlers", "A9", a9_handlers, 0, "replace the library's handlers; call them as a deputy", 3 },
	{ "a9-own-handler", "A9", a9_own, 0, "install handlers of its own (on its stack and the signal stack) that read the secret",
	  4 },
	{ "a10-seccomp", "A10", a10_seccomp, 0, "install a filter, change dumpability", 6 },
	{ "a11-state", "A11", a11_state, 0, "rewrite the gate configuration and saved host state", 4 },
	{ "a11-stack", "A11", a11_stack, 2, "overwrite a return address on the host's stack", 0 },
	{ "a11-host-stack", "A11", a11_stack, 0,
	  "overwrite a return address of the host, which calls from pkbox_host_run()'s stack", 0 },
	{ "a11-globals", "A11", a11_globals, 2, "overwrite a function pointer among the host's globals", 0 },
	{ "a11-rseq", "A11", a11_rseq, 0, "an rseq critical section that sends the host to the attacker's code", 2 },
	{ "a12-thread", "A12", a12_thread, 0, "a raw thread made in the compartment (clone; clone3 too under the strict seal) reads the secret", 2 },
	{ "a13-process", "A13", a13_process, 0, "personality, userfaultfd, io_uring, TIOCSTI, execve", 6 },
	{ "a14-heap", "A14", a14_exhaust, 0, "allocate until the quota", 0 },
	{ "a14-stack", "A14", a14_stack, 0, "recurse until the stack ends", 0 },
	{ "a16-pagecache", "A16", a16_pagecache, 0,
	  "write libpkeysbox's file (pwrite, shared mapping, O_TRUNC, rename, hard link, map_files, truncate)", 0 },
};

/* The host calls in through a function of its own: its return address
 * is what a11-stack rewrites. */
__attribute__((noinline)) static int host_call(const struct attack *at, intptr_t *ret)
{
	cx->aux[6] = (uintptr_t)__builtin_frame_address(0) + sizeof(void *);
	int crc = pkbox_call(dom, at->fn, NULL, ret);
	__asm__ volatile("" ::: "memory");
	return crc;
}

/* a11-host-stack: the host calls from a stack in its private domain */
struct host_run_args {
	const struct attack *at;
	intptr_t *ret;
	int crc;
};

static intptr_t host_run_body(void *a)
{
	struct host_run_args *h = a;

	h->crc = host_call(h->at, h->ret);
	return 0;
}

static uintptr_t host_tp(void)
{
	uintptr_t tp;

	__asm__("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

static void on_usr2(int sig)
{
	(void)sig;
}

struct find {
	const char *lib;
	int kind;
	uintptr_t hit;
};

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find *q = data;

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, q->lib))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		struct pkbox_finding fs[8];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		int n = pkbox_inspect((const void *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz, fs, 8);
		for (int j = 0; j < n && j < 8; j++)
			if (fs[j].kind == q->kind && !q->hit)
				q->hit = fs[j].addr;
	}
	return 0;
}

static uintptr_t find_insn(const char *lib, int kind)
{
	struct find f = { lib, kind, 0 };

	dl_iterate_phdr(find_cb, &f);
	return f.hit;
}

static uintptr_t find_nth_wrpkru(const char *lib, int nth)
{
	uintptr_t first = find_insn(lib, PKBOX_INSN_WRPKRU);
	if (!first || nth == 0)
		return first;
	/* the gate's WRPKRUs follow each other in its text: look after the first */
	struct pkbox_finding fs[8];
	int n = pkbox_inspect((const void *)first, 4096, fs, 8);
	return n > nth ? fs[nth].addr : 0;
}

static void *thread_body(void *a)
{
	return (char *)a + 1;
}

static int threads_listed(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static intptr_t noop(void *a)
{
	return (intptr_t)a;
}

/* a thread the library knows (it made a call: no rseq area left), that
 * says so on p[1], then waits for a byte on p[2] */
static void *wait_pipe(void *a)
{
	int *p = a;
	char c = 0;
	intptr_t r = 0;
	struct pkbox_domain *pre = pkbox_domain_create("pre", NULL);

	if (!pre || pkbox_call(pre, noop, (void *)1, &r) || r != 1)
		c = 1;
	if (write(p[1], &c, 1) != 1 || c)
		return a;
	return read(p[2], &c, 1) == 1 ? NULL : a;
}

/* the host after sealing: threads, memory, files work as before */
static int host_mode(void)
{
	/* bad options are refused before anything changes */
	struct pkbox_seal_opts bo = { .sz = sizeof(bo), .flags = PKBOX_SEAL_STOP_ON_REFUSAL | PKBOX_SEAL_NO_EXIT };
	int brc = pkbox_seal(&bo);
	printf("seal with NO_EXIT but without NO_THREADS: %d (%s)\n", brc, pkbox_last_error());
	bo.flags = 1u << 30;
	int brc2 = pkbox_seal(&bo);
	bo.sz = 1;
	int brc3 = pkbox_seal(&bo);
	if (brc != -EINVAL || brc2 != -EINVAL || brc3 != -EINVAL || pkbox_sealed()) {
		printf("bad seal options: %d %d %d, sealed %d: FAILED\n", brc, brc2, brc3, pkbox_sealed());
		return 1;
	}
	/* another thread running: Landlock would restrict the sealing thread
	 * only, so the seal refuses where the kernel has it */
	if (syscall(444 /* landlock_create_ruleset */, NULL, 0, 1U /* ..._VERSION */) > 0) {
		int ready[2], go[2], p[3];
		pthread_t w;
		char c = 1;

		if (pipe(ready) || pipe(go))
			return 2;
		p[0] = ready[0], p[1] = ready[1], p[2] = go[0];
		if (pthread_create(&w, NULL, wait_pipe, p) || read(ready[0], &c, 1) != 1 || c)
			return 2;
		int trc = pkbox_seal(NULL);
		printf("seal with another thread running: %d (%s)\n", trc, pkbox_last_error());
		if (write(go[1], &c, 1) != 1 || pthread_join(w, NULL))
			return 2;
		/* joined, the thread can still be listed for a while (its tid
		 * is cleared before it leaves): wait until it is gone */
		for (int i = 0; i < 2000 && threads_listed() > 1; i++)
			usleep(1000);
		if (trc != -EBUSY || !strstr(pkbox_last_error(), "file policy") || pkbox_sealed()) {
			printf("seal with another thread running: FAILED\n");
			return 1;
		}
	}
	/* where files can still be made once sealed: chosen (or made) now */
	Dl_info self;
	const char *sdir = pkbox_test_scratch_dir(dladdr((void *)host_mode, &self) ? self.dli_fname : NULL);
	struct pkbox_domain *d = pkbox_domain_create("after", NULL);
	if (!d || pkbox_seal(NULL)) {
		fprintf(stderr, "attack: %s\n", pkbox_last_error());
		return 2;
	}
	int ok = 1;
	pthread_t t;
	void *r = NULL;
	ok &= pthread_create(&t, NULL, thread_body, (void *)41) == 0 && pthread_join(t, &r) == 0 && r == (void *)42;
	printf("thread after sealing: %s\n", r == (void *)42 ? "ok" : "FAILED");
	char *big = malloc(64 << 20), *bigger;
	memset(big, 1, 64 << 20);
	bigger = realloc(big, 128 << 20); /* mremap is refused: glibc copies */
	ok &= bigger && bigger[(64 << 20) - 1] == 1;
	free(bigger);
	void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok &= m != MAP_FAILED && munmap(m, 1 << 20) == 0;
	int tfd = open(sdir, O_TMPFILE | O_RDWR, 0600);
	ok &= tfd >= 0 && write(tfd, "x", 1) == 1 && close(tfd) == 0;
	void *p = pkbox_malloc(d, 100);
	ok &= p && pkbox_free(d, p) == 0;
	struct pkbox_domain *d2 = pkbox_domain_create("after2", NULL);
	ok &= d2 && pkbox_domain_destroy(d2) == 0;
	printf("malloc/realloc/mmap/files/domains after sealing: %s; refusals: %lu\n", ok ? "ok" : "FAILED",
	       pkbox_refusal_count());
	/* a host bug after sealing still ends the process (no handler can be
	 * reset to the default then): a child that dereferences NULL */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		volatile int *volatile bad = NULL;

		alarm(20);
		*bad = 1;
		_exit(0);
	}
	int st = 0;
	/* 128 + SIGSEGV from the library (under ASan: its report, exit 1); not
	 * a hang ended by the alarm */
	bool died = c > 0 && waitpid(c, &st, 0) == c &&
		    ((WIFEXITED(st) && WEXITSTATUS(st) != 0) || (WIFSIGNALED(st) && WTERMSIG(st) != SIGALRM));
	printf("a host fault after sealing: %s (status %#x)\n", died ? "ends the process" : "FAILED", st);
	ok &= died;
	/* no new signal handlers once sealed, not even the host's */
	struct sigaction sa = { .sa_handler = on_usr2 };
	bool refused = sigaction(SIGUSR1, &sa, NULL) == -1 && errno == EPERM;
	printf("a new signal handler after sealing: %s\n", refused ? "refused" : "FAILED (installed)");
	ok &= refused;
	return ok ? 0 : 1;
}

static int inspect_mode(const char *gadget_so)
{
	/* A2 at load: a library with WRPKRU in its code (split across two
	 * pages too), and two adjacent mappings with one split across them */
	void *h = dlopen(gadget_so, RTLD_NOW);
	if (!h) {
		fprintf(stderr, "attack: cannot load %s: %s\n", gadget_so, dlerror());
		return 2;
	}
	int rc = pkbox_seal(NULL);
	printf("seal with the gadget library loaded: %d (%s)\n", rc, pkbox_last_error());
	if (rc != -EPERM || !strstr(pkbox_last_error(), "WRPKRU"))
		return 1;
	dlclose(h);
	uint8_t *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m[4094] = 0x0f;
	m[4095] = 0x01;
	m[4096] = 0xef;
	/* both halves read-execute only (a writable and executable one would
	 * be refused for that alone, before the inspection's answer counted),
	 * kept two mappings by a flag that only the second has */
	mprotect(m, 8192, PROT_READ | PROT_EXEC);
	madvise(m + 4096, 4096, MADV_DONTDUMP);
	rc = pkbox_seal(NULL);
	printf("seal with WRPKRU split across two mappings: %d (%s)\n", rc, pkbox_last_error());
	if (rc != -EPERM || !strstr(pkbox_last_error(), "WRPKRU"))
		return 1;
	munmap(m, 8192);
	rc = pkbox_seal(NULL);
	printf("seal after both were gone: %d %s\n", rc, rc ? pkbox_last_error() : "");
	return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 && !(argc == 3 && !strcmp(argv[1], "a2-inspect"))) {
		fprintf(stderr, "usage: attack NAME | --list | a2-inspect GADGET.so\n");
		return 2;
	}
	if (!strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
			printf("%-18s %-4s %s\n", attacks[i].name, attacks[i].cls, attacks[i].what);
		return 0;
	}
	int irc = pkbox_init(NULL);
	if (irc == -ENOTSUP) {
		printf("attack: %s: the guest suite runs this on real pkeys\n", pkbox_last_error());
		return 77;
	}
	if (irc) {
		fprintf(stderr, "attack: pkbox_init: %s\n", pkbox_last_error());
		return 2;
	}
	if (!strcmp(argv[1], "a2-inspect"))
		return inspect_mode(argv[2]);
	if (!strcmp(argv[1], "host-after-seal"))
		return host_mode();
	const struct attack *at = NULL;
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++)
		if (!strcmp(argv[1], attacks[i].name))
			at = &attacks[i];
	if (!at) {
		fprintf(stderr, "attack: no attack %s (attack --list)\n", argv[1]);
		return 2;
	}
	const char *be = pkbox_backend_name(pkbox_backend());

	/* the secret, twice, in the host's private domain */
	struct pkbox_domain *host = pkbox_host_domain();
	uint8_t *secret = pkbox_malloc(host, SECRET_LEN);
	uint8_t *copy = pkbox_malloc(host, SECRET_LEN);
	struct pkbox_domain_opts o = { .sz = sizeof(o), .quota = 64UL << 20 };
	dom = pkbox_domain_create("attacker", &o);
	if (!secret || !copy || !dom) {
		fprintf(stderr, "attack: set-up: %s\n", pkbox_last_error());
		return 2;
	}
	if (getrandom(secret, SECRET_LEN, 0) != SECRET_LEN)
		return 2;
	memcpy(copy, secret, SECRET_LEN);
	cx = pkbox_calloc(dom, 1, sizeof(*cx));
	if (!cx)
		return 2;
	cx->secret = secret;

	if (!strcmp(at->name, "a2-gate") || !strcmp(at->name, "a2-die")) {
		cx->aux[0] = find_nth_wrpkru("libpkeysbox", !strcmp(at->name, "a2-die") ? 2 : 0);
	} else if (!strcmp(at->name, "a2-libc")) {
		cx->aux[0] = find_insn("libc.so", PKBOX_INSN_WRPKRU);
	} else if (!strcmp(at->name, "a2-ldso")) {
		cx->aux[0] = find_insn("ld-linux", PKBOX_INSN_XRSTOR);
	} else if (!strcmp(at->name, "a3-pkey-mprotect")) {
		cx->aux[0] = (uintptr_t)pkbox_domain_pkey(dom);
	} else if (!strcmp(at->name, "a4-remap")) {
		cx->aux[0] = (uintptr_t)pkbox_malloc(dom, 4096);
	} else if (!strcmp(at->name, "a14-heap")) {
		alloc_cb_id = pkbox_callback_register(dom, alloc_cb);
	} else if (!strcmp(at->name, "a16-pagecache")) {
		if (a16_setup(be)) {
			fprintf(stderr, "attack: a16 set-up: %s\n", strerror(errno));
			return 2;
		}
	} else if (!strcmp(at->name, "a13-process")) {
		/* a pseudo-terminal for TIOCSTI: its other end */
		int m = posix_openpt(O_RDWR | O_NOCTTY);
		int t = m >= 0 && !grantpt(m) && !unlockpt(m) ? open(ptsname(m), O_RDWR | O_NOCTTY) : -1;
		if (t >= 0)
			cx->aux[0] = (uintptr_t)t;
		else
			printf("  (no pseudo-terminal here: %s; TIOCSTI not tried)\n", strerror(errno));
	} else if (!strcmp(at->name, "a11-state")) {
		cx->aux[0] = 0x500002008000UL; /* the gate configuration (public layout) */
		cx->aux[1] = 0x500000000000UL; /* the library's state */
		cx->aux[2] = find_nth_wrpkru("libpkeysbox", 0); /* the gate's entry */
	}
	if (at->name[1] == '2' && !cx->aux[0]) {
		printf("%s (%s): the target instruction is not in this process; nothing to attack here\n", at->name, be);
		return 77;
	}

	if (at->fn == a11_rseq && __rseq_size)
		cx->aux[5] = host_tp() + (uintptr_t)__rseq_offset;
	struct sigaction usr2 = { .sa_handler = on_usr2 };
	sigaction(SIGUSR2, &usr2, NULL);

	/* ATTACK_NO_SEAL=1 leaves the policy out: to show what it defends */
	const char *ns = getenv("ATTACK_NO_SEAL");
	/* ATTACK_SEAL_STRICT=1: the strict seal pkbox-run uses */
	const char *st = getenv("ATTACK_SEAL_STRICT");
	struct pkbox_seal_opts so = { .sz = sizeof(so) };
	if (st && *st == '1')
		so.flags = PKBOX_SEAL_STOP_ON_REFUSAL | PKBOX_SEAL_NO_SIGRETURN | PKBOX_SEAL_NO_THREADS;
	cx->strict = !!(so.flags & PKBOX_SEAL_NO_SIGRETURN);
	if (at->fn == a9_own && !(ns && *ns == '1')) {
		intptr_t prc = -1;
		int pcrc = pkbox_call(dom, a9_preseal, NULL, &prc);
		int src = pcrc || prc ? -1 : pkbox_seal(&so);

		printf("  seal with a handler the compartment installed before it (in its memory): %s%s\n",
		       pcrc || prc ? "could not be installed: " : src ? "refused: " : "ACCEPTED",
		       pcrc || prc ? strerror((int)-prc) : src ? pkbox_last_error() : "");
		if (!src) {
			printf("%s: NOT DEFENDED\n", at->name);
			return 1;
		}
		signal(SIGUSR1, SIG_DFL);
	}
	int rc = ns && *ns == '1' ? 0 : pkbox_seal(&so);
	if (rc) {
		fprintf(stderr, "attack: pkbox_seal: %s\n", pkbox_last_error());
		return 2;
	}
	unsigned long faults0 = pkbox_fault_count(), ref0 = pkbox_refusal_count();
	intptr_t ret = 0;
	int crc = 0, calls = 1;

	/* ATTACK_NO_HOST_STACK=1: a11-host-stack without pkbox_host_run() */
	const char *nh = getenv("ATTACK_NO_HOST_STACK");
	struct host_run_args *hr = NULL;
	if (!strcmp(at->name, "a11-host-stack") && !(nh && *nh == '1')) {
		hr = pkbox_calloc(host, 1, sizeof(*hr));
		if (!hr)
			return 2;
		hr->at = at;
		hr->ret = &ret;
	}
	if (setjmp(hijack_jb) == 0) {
		if (hr) {
			int hrc = pkbox_host_run(host_run_body, hr, 0, NULL);
			crc = hrc ? hrc : hr->crc;
		} else {
			crc = host_call(at, &ret);
			/* a stepped attack the compartment's end stopped (a refusal
			 * under the strict seal, a fault): again, from the next step,
			 * in the domain reset (what it wrote so far kept) */
			while (at->steps && crc == -EFAULT && cx->step_at >= cx->step_from && cx->step_at + 1 < at->steps) {
				struct ctx keep = *cx;

				if (pkbox_domain_reset(dom) || !(cx = pkbox_calloc(dom, 1, sizeof(*cx)))) {
					fprintf(stderr, "attack: a step after a stop: %s\n", pkbox_last_error());
					return 2;
				}
				*cx = keep;
				cx->step_from = cx->step_at + 1;
				calls++;
				crc = host_call(at, &ret);
			}
		}
		/* what the host does next: its own hook, then it gets
		 * preempted, sleeps and takes a signal, as hosts do (the
		 * kernel's rseq fix-up happens on the way back from each);
		 * handlers cannot return under the strict seal */
		host_hook();
		for (int i = 0; i < 100; i++)
			sched_yield();
		usleep(2000);
		if (!(so.flags & PKBOX_SEAL_NO_SIGRETURN))
			raise(SIGUSR2);
	}
	unsigned long faults = pkbox_fault_count() - faults0, refusals = pkbox_refusal_count() - ref0;

	/* the verdict, with host rights */
	bool leaked = false, changed = memcmp(secret, copy, SECRET_LEN) != 0;
	for (size_t i = 0; i + 8 <= cx->nout && !leaked; i++)
		for (size_t j = 0; j + 8 <= SECRET_LEN && !leaked; j += 4)
			leaked = !memcmp(cx->out + i, secret + j, 8) || !memcmp(cx->out + i, copy + j, 8);
	if (cx->nout >= 6 && !memcmp(cx->out, "TRACED", 6))
		leaked = true;
	bool reported = faults || refusals || quota_error;
	bool tampered = cx->tampered, through = cx->through;
	/* A16: the file policy (Landlock) refuses with EACCES and tells no one;
	 * every way refused is the report */
	bool wrote = false;
	if (at->fn == a16_pagecache) {
		for (int i = 0; i < 8; i++)
			wrote |= cx->rc[i] > 0;
		wrote |= cx->wrote_alias;
		reported |= !wrote;
	}

	printf("%s (%s, backend %s): %s\n", at->name, at->cls, be, at->what);
	if (quota_error)
		printf("  the host's allocator refused with EDQUOT at the domain's quota\n");
	printf("  call: %d%s%s; faults %lu, refusals %lu; syscall results:", crc, crc ? " " : "",
	       crc ? pkbox_strerror(crc) : "", faults, refusals);
	for (size_t i = 0; i < sizeof(cx->rc) / sizeof(cx->rc[0]); i++)
		printf(" %ld", cx->rc[i]);
	printf("\n");
	if (at->steps)
		printf("  %d steps tried in %d call%s\n", cx->step_at + 1, calls, calls > 1 ? "s" : "");
	struct pkbox_fault f = { .sz = sizeof(f) };
	if (crc == -EFAULT && !pkbox_last_fault(dom, &f) && f.signo == SIGSYS)
		printf("  stopped: domain %s, syscall %lu refused by the policy\n", f.domain, (unsigned long)f.addr);
	else if (crc == -EFAULT && !pkbox_last_fault(dom, &f))
		printf("  fault: domain %s, %s at %#lx, key %d, signal %d, owner %s\n", f.domain,
		       f.access == PKBOX_FAULT_WRITE ? "write" : f.access == PKBOX_FAULT_EXEC ? "exec" : "read",
		       (unsigned long)f.addr, f.pkey, f.signo, f.owner[0] ? f.owner : "-");
	struct pkbox_refusal r = { .sz = sizeof(r) };
	if (refusals && !pkbox_last_refusal(&r))
		printf("  last refusal: syscall %ld (arch %#x) in domain %s\n", r.nr, r.arch, r.domain);
	if (hijacked)
		printf("  the host ran the attacker's code with its own rights\n");
	if (tampered)
		printf("  the compartment changed the process's policy\n");
	if (through)
		printf("  a call the policy refuses reached the kernel\n");
	if (at->fn == a16_pagecache) {
		printf("  %s\n", wrote && !cx->wrote_alias ? "a write to the host's code file went through (rc 1: pwrite, "
							    "shared mapping, O_TRUNC, rename, hard link, map_files, "
							    "truncate, O_RDONLY|O_TRUNC)"
				 : !wrote ? "every write to the host's code file refused"
					  : "writes to the host's code file (rc 1 where one went through)");
		if (cx->aux[5])
			printf("  through a bind mount of its directory: %s\n", cx->wrote_alias ? "WROTE" : "refused");
	}
	printf("  secret leaked: %s; secret changed: %s; host alive: yes; reported: %s\n", leaked ? "YES" : "no",
	       changed ? "YES" : "no", reported ? "yes" : "NO");
	bool ok = !leaked && !changed && !tampered && !through && !wrote && reported;
	/* A14: the quota stops the allocations (not the end of the domain's
	 * memory), and the stack ends at the domain's own guard (not in the
	 * memory below it, whoever owns that) */
	if (at->fn == a14_exhaust && !quota_error) {
		printf("  no quota error after %ld MiB\n", cx->rc[0]);
		ok = false;
	}
	if (at->fn == a14_stack) {
		struct pkbox_fault sf = { .sz = sizeof(sf) };
		char own[64] = "";

		pkbox_domain_name(dom, own, sizeof(own));
		if (crc != -EFAULT || pkbox_last_fault(dom, &sf) || strcmp(sf.owner, own)) {
			printf("  the stack did not end at the domain's own guard\n");
			ok = false;
		}
	}
	/* ATTACK_EXPECT_OPEN=1: a class doc/THREAT_MODEL.md says cannot be
	 * defended here; the test checks exactly that, so that a change (a
	 * kernel that closes it, or a regression elsewhere) is noticed */
	const char *eo = getenv("ATTACK_EXPECT_OPEN");
	const char *why = NULL;
	if (at->needs == 2 && !pkbox_key0_protected(&why)) {
		printf("  key-0 memory is writable in compartments here: %s\n", why);
		eo = "1";
	}
	if (eo && *eo == '1') {
		printf("%s: %s\n", at->name,
		       leaked ? "breaks through, as doc/THREAT_MODEL.md documents for this kernel and backend"
			      : "did NOT break through: update doc/THREAT_MODEL.md");
		return leaked ? 0 : 1;
	}
	printf("%s: %s\n", at->name, ok ? "defended" : "NOT DEFENDED");
	return ok ? 0 : 1;
}
