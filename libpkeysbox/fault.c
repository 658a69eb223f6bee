/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fault.c - faults: attribution, containment, and the host's own handlers.
 *
 * The handler runs on a per-thread alternate stack in key-0 memory with the
 * kernel's default PKRU (key 0 only).  It never writes PKRU and never reads
 * the library's state: a compartment's fault is sent, by editing the saved
 * context, to the gate's exit path (gate.S), which does the checked switch
 * back to the host.  Whether the interrupted code was a compartment's, and
 * what a host thread's fault in the pool may mean, the backend says
 * (backend.h: inside, inside_now, host_fault).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "backend.h"
#include "fault.h"
#include "fmt.h"
#include "gate.h"
#include "gate_layout.h"
#include "msg.h"
#include "stacks.h"
#include "state.h"
#include "sys.h"
#include "threads.h"

#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif

_Atomic unsigned long pkbox__rogue_faults;

/* (and the timer signal of pkbox_call_timed(), which only the library uses) */
static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, PKBOX_TIMEOUT_SIG };
/* What the handler chains to, per owned fault signal: in the directory
 * page (read-only key-0 memory, written through pkbox__dir_store), not in
 * writable key-0 memory where a compartment could point it at its code. */
#define NFAULT_SIGNALS (sizeof(fault_signals) / sizeof(fault_signals[0]))
_Static_assert(NFAULT_SIGNALS * sizeof(struct sigaction) <= 1024, "chain table fits the directory page");

static struct sigaction *chain_table(void)
{
	return (struct sigaction *)(uintptr_t)(pkbox__gc.tdir + 1024);
}

static int fault_index(int sig)
{
	for (size_t i = 0; i < NFAULT_SIGNALS; i++)
		if (fault_signals[i] == sig)
			return (int)i;
	return -1;
}


/* Thread tid's index in the thread directory, or -1 (a thread the library
 * never saw: one a compartment made itself). */
int pkbox__tdir_index(pid_t tid)
{
	for (int i = 0; i < PKBOX_MAX_THREADS; i++)
		if (pkbox__tdir[i] == tid)
			return i;
	return -1;
}

int pkbox__self_ti(void)
{
	return pkbox__tdir_index(pkbox__gettid());
}

/* Was the interrupted context running inside a compartment?  (pku: by the
 * PKRU saved in its frame; mprotect: by the gate lock) */
bool pkbox__in_compartment(ucontext_t *uc)
{
	return pkbox__be->inside(uc);
}

/* Edits the saved context so that thread ti leaves its compartment through
 * the gate's fault exit, with the details gate.c records. */
void pkbox__to_fault_exit(ucontext_t *uc, int ti, uint64_t addr, int signo, int si_code, long pkey, int access,
			  uint64_t ip)
{
	greg_t *g = uc->uc_mcontext.gregs;

	g[REG_R8] = (greg_t)addr;
	g[REG_R9] = (greg_t)((uint64_t)(uint32_t)signo | ((uint64_t)(uint32_t)si_code << 32));
	g[REG_R10] = (greg_t)pkey;
	g[REG_R12] = access;
	g[REG_R13] = (greg_t)ip;
	g[REG_R15] = EXIT_FAULT;
	g[REG_RSP] = (greg_t)pkbox__stack_top(PKBOX_MAX_DOMAINS, ti);
	g[REG_RIP] = (greg_t)pkbox__gate_exit_fault;
}

/* Send the compartment's thread to the gate's exit path with the details. */
static void redirect(ucontext_t *uc, int sig, siginfo_t *si)
{
	greg_t *g = uc->uc_mcontext.gregs;
	int ti = pkbox__self_ti();
	int access = 0;

	if (ti < 0) {
		/* a thread the compartment made itself: it just stops (counted in
		 * key-0 memory: the handler has no other) */
		atomic_fetch_add(&pkbox__rogue_faults, 1);
		g[REG_RIP] = (greg_t)pkbox__thread_die;
		return;
	}
	if (sig == SIGSEGV)
		access = (g[REG_ERR] & 0x10) ? PKBOX_FAULT_EXEC : (g[REG_ERR] & 2) ? PKBOX_FAULT_WRITE : PKBOX_FAULT_READ;
	/* (a timer's siginfo has no address) */
	pkbox__to_fault_exit(uc, ti, sig == PKBOX_TIMEOUT_SIG ? 0 : (uint64_t)(uintptr_t)si->si_addr, sig, si->si_code,
			     (sig == SIGSEGV && si->si_code == SEGV_PKUERR) ? (long)si->si_pkey : -1L, access,
			     (uint64_t)g[REG_RIP]);
}

/* Is this code running with a compartment's rights right now (not: was
 * the interrupted code)?  True when compartment code calls a handler
 * directly, as a deputy. */
static bool running_inside(void)
{
	return pkbox__be->inside_now();
}

static void chain(int sig, siginfo_t *si, void *uc)
{
	int fi = fault_index(sig);

	if (fi < 0)
		return;
	const struct sigaction *o = &chain_table()[fi];

	if ((o->sa_flags & SA_SIGINFO) && o->sa_sigaction) {
		o->sa_sigaction(sig, si, uc);
	} else if (o->sa_handler != SIG_DFL && o->sa_handler != SIG_IGN) {
		o->sa_handler(sig);
	} else {
		/* default action: put it back, and let the fault happen again
		 * (or re-raise a signal that was sent, not caused) */
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		if (sigaction(sig, &dfl, NULL) && !running_inside()) {
			/* sealed: no handler can change; the default action by hand
			 * (not for a compartment calling this handler itself) */
			static const char m[] = "libpkeysbox: fatal signal in the host\n";

			syscall(SYS_write, 2, m, sizeof(m) - 1);
			pkbox__exit_group(128 + sig);
		}
		if (si->si_code <= 0)
			raise(sig);
	}
}

static long raw4(long nr, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return r;
}

/* No pool here: a child process (MADV_DONTFORK), asked of the kernel
 * without touching memory (mincore fails with ENOMEM on an unmapped page). */
bool pkbox__no_pool(void)
{
	unsigned char v;

	return raw4(SYS_mincore, (long)PKBOX_GC_ADDR, (long)PAGE, (long)(uintptr_t)&v, 0) == -ENOMEM;
}

/* The signals the kernel forces (a fault, a refused syscall) blocked when
 * the handler returns: the next one ends the process, the kernel putting
 * the default action back (what a sealed child without the pool cannot do
 * itself: rt_sigaction, exit and kill may be refused there). */
void pkbox__block_fatal(ucontext_t *uc)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGSYS, SIGILL, SIGFPE, SIGTRAP };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&uc->uc_sigmask, sigs[i]);
}

/* A child process (a fork() made inside a compartment, or by the host) has
 * no pool (MADV_DONTFORK, init.c): none of the library's state to read, and
 * each read of it would fault again, for ever.  Asked of the kernel without
 * touching memory (mincore fails with ENOMEM on an unmapped page); the
 * child then ends as it would with no handler. */
static void child_without_pool(int sig, const siginfo_t *si)
{
	unsigned char v;

	if (raw4(SYS_mincore, (long)PKBOX_GC_ADDR, (long)PAGE, (long)(uintptr_t)&v, 0) != -ENOMEM)
		return;
	long dfl[4] = { 0 /* SIG_DFL */, 0, 0, 0 };

	if (!raw4(SYS_rt_sigaction, sig, (long)(uintptr_t)dfl, 0, 8)) {
		if (si->si_code > 0)
			return; /* the fault again, now with the default action */
		raw4(SYS_kill, raw4(SYS_getpid, 0, 0, 0, 0), sig, 0, 0);
	}
	for (;;)
		raw4(SYS_exit_group, 128 + sig, 0, 0, 0);
}

/* A timed call's time is up: out of the compartment like a fault (sent by
 * anyone, even the compartment itself: it only ends its own call).
 * Outside, it is ignored: the timer repeats until the call is over (where
 * the backend blocks it outside, it does not even come). */
static void timeout(siginfo_t *si, ucontext_t *uc, uint64_t dom_fs)
{
	if (pkbox__in_compartment(uc)) {
		redirect(uc, PKBOX_TIMEOUT_SIG, si);
		/* to the gate's exit, which puts the host's TLS back itself;
		 * sealed without rt_sigreturn: go there directly */
		if (pkbox__gc.strict)
			pkbox__jump_to((const long long *)uc->uc_mcontext.gregs);
		return;
	}
	pkbox__fs_leave(dom_fs);
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int fti;

	child_without_pool(sig, si);
	/* first: off a compartment's TLS copy (nothing above touches TLS) */
	uint64_t dom_fs = pkbox__fs_enter(&fti);
	uintptr_t a = (uintptr_t)si->si_addr;
	bool in_pool = a >= pkbox__gc.pool_lo && a < pkbox__gc.pool_hi;

	if (sig == PKBOX_TIMEOUT_SIG) {
		timeout(si, uc, dom_fs);
		return;
	}
	if (si->si_code > 0 && pkbox__in_compartment(uc)) {
		/* the compartment's own fault: to the gate's exit, which puts the
		 * host's TLS back itself; sealed without rt_sigreturn: go there
		 * directly */
		redirect(uc, sig, si);
		if (pkbox__gc.strict)
			pkbox__jump_to((const long long *)uc->uc_mcontext.gregs);
		return;
	}
	if (fti == -1)
		return; /* a TLS copy, no thread of the library's: nothing safe to do */
	int saved = errno;

	/* a host thread's fault the backend may explain (keys it does not have
	 * open yet, memory hidden while another thread is in a compartment or,
	 * with the mprotect backend's lazy switch, since the last call): tried
	 * again */
	if (sig == SIGSEGV && pkbox__be->host_fault(uc, si, in_pool)) {
		errno = saved;
		pkbox__fs_leave(dom_fs);
		return;
	}
	chain(sig, si, ucv);
	pkbox__fs_leave(dom_fs);
}

int pkbox__fault_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++) {
		struct sigaction cur;
		int sig = fault_signals[i];

		if (sigaction(sig, NULL, &cur))
			return pkbox__err(-errno, "sigaction(%d) failed: %m", sig);
		if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == handler)
			continue; /* ours already: keep what it chains to */
		/* the timer goes on while a host callback runs: its syscalls
		 * restart rather than fail with EINTR */
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | (sig == PKBOX_TIMEOUT_SIG ? SA_RESTART : 0);
		if (sigaction(sig, &sa, NULL))
			return pkbox__err(-errno, "sigaction(%d) failed: %m", sig);
		pkbox__dir_store(&chain_table()[i], &cur, sizeof(cur));
	}
	return 0;
}

/* The signals the library owns and its handler for them (the seal checks
 * that they are in place). */
size_t pkbox__fault_signals(const int **sigs, void **fn)
{
	*sigs = fault_signals;
	*fn = (void *)handler;
	return NFAULT_SIGNALS;
}

/* The kernel writes a thread's rseq area (in its TCB, key-0 memory) on
 * every return to user space after a preemption, a migration or a signal,
 * and moves the thread to the abort handler named there when it was
 * interrupted inside the critical section named there.  So a compartment
 * that writes that area (key 0 is writable on some set-ups) could send a
 * host thread to its own code with the host's rights (attack a11-rseq), and
 * where compartments cannot write key 0 the kernel's write would fail and
 * kill the thread.  Every thread the library registers unregisters its rseq
 * area; threads it creates then never register one (glibc copies the
 * creator's state), and the seal refuses rseq. */
int pkbox__thread_rseq_off(void)
{
	struct rseq *area;
	unsigned len;

	/* sealed: rseq is refused, so no thread born since has an area, and
	 * every thread alive at the seal was checked without one */
	if (pkbox__st->sealed)
		return 0;
	int st = pkbox__rseq_find(&area, &len);

	if (st == 0)
		return 0;
	if (st < 0)
		return pkbox__err(st, "this thread has an rseq area the C library did not register "
				      "(code that ran earlier registered its own)");
	if (syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG))
		return pkbox__err(-errno, "cannot unregister this thread's rseq area: %s", pkbox__strerror(errno));
	return 0;
}

/* Which rseq area the kernel keeps for this thread, asked of the kernel:
 * never of __rseq_size or of the area's cpu_id, which code that ran before
 * the seal can rewrite.  A registration of a fresh area succeeds only when
 * the thread has none; one of the C library's own area with the right
 * length and signature fails with EBUSY only when that is the one
 * registered.  0: none (or no rseq in this kernel); 1: the C library's, at
 * *area, *len bytes; -EBUSY: another one. */
int pkbox__rseq_find(struct rseq **area, unsigned *len)
{
	struct rseq probe; /* 32-byte aligned by its type */
	int e;

	memset(&probe, 0, sizeof(probe));
	probe.cpu_id = (uint32_t)RSEQ_CPU_ID_UNINITIALIZED;
	if (!syscall(SYS_rseq, &probe, 32, 0, RSEQ_SIG)) {
		syscall(SYS_rseq, &probe, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
		return 0;
	}
	e = errno;
	if (e == ENOSYS)
		return 0;
	/* glibc registers 32 bytes; later versions report a smaller
	 * __rseq_size than they register */
	struct rseq *a = (struct rseq *)(pkbox__thread_pointer() + (uintptr_t)__rseq_offset);
	unsigned int sizes[] = { __rseq_size, 32 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i] < 32)
			continue;
		if (syscall(SYS_rseq, a, sizes[i], 0, RSEQ_SIG) && errno == EBUSY) {
			*area = a;
			*len = sizes[i];
			return 1;
		}
	}
	return -EBUSY;
}

/* Each thread that enters a compartment gets an alternate signal stack in
 * key-0 memory: the kernel runs handlers with only key 0 open, and the
 * domain stack is not key 0. */
int pkbox__thread_signals(struct pkbox_thread *t)
{
	stack_t cur, ss;

	if (!sigaltstack(NULL, &cur) && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= PKBOX_ALTSTACK_SIZE / 2) {
		uintptr_t lo = (uintptr_t)cur.ss_sp;

		/* keep the thread's own, unless it lies in library memory */
		if (lo + cur.ss_size <= pkbox__gc.pool_lo || lo >= pkbox__gc.pool_hi)
			return 0;
	}
	void *p = mmap(NULL, PKBOX_ALTSTACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return pkbox__err(-ENOMEM, "cannot map a signal stack: %m");
	ss.ss_sp = p;
	ss.ss_size = PKBOX_ALTSTACK_SIZE;
	ss.ss_flags = 0;
	if (pkbox__sigaltstack(&ss, NULL)) {
		int e = errno;

		munmap(p, PKBOX_ALTSTACK_SIZE);
		return pkbox__err(-e, "sigaltstack failed: %s", pkbox__strerror(e));
	}
	t->altstack = p;
	return 0;
}

/* ---------------------------------------------------------------- key 0 and TLS */

/* Key-0 protection: each registered thread's own thread pointer, in key-0
 * memory (which compartments cannot write then).  The handlers read it: a
 * thread interrupted inside a compartment runs with the compartment's TLS
 * copy, whose key the handler (key 0 only) cannot touch. */
static uint64_t host_fs[PKBOX_MAX_THREADS];

void pkbox__host_fs_set(int ti)
{
	host_fs[ti] = pkbox__thread_pointer();
}

static inline void wr_fs(uint64_t v)
{
	__asm__ volatile(".byte 0xf3,0x48,0x0f,0xae,0xd0" : : "a"(v) : "memory"); /* wrfsbase %rax */
}

/* First thing in a handler, before any TLS access: if this thread runs with
 * a compartment's TLS copy, switch to its own.  Returns what to put back
 * before returning into the interrupted code (0: nothing), and in *ti the
 * thread's index (-1: not registered; then no TLS may be used). */
uint64_t pkbox__fs_enter(int *ti)
{
	*ti = -2; /* not looked up */
	if (!pkbox__gc.key0_ro)
		return 0;
	uint64_t fs = pkbox__rdfsbase();

	if (fs < pkbox__gc.pool_lo || fs >= pkbox__gc.pool_hi)
		return 0;
	*ti = pkbox__self_ti();
	if (*ti >= 0 && host_fs[*ti])
		wr_fs(host_fs[*ti]);
	else
		*ti = -1;
	return fs;
}

void pkbox__fs_leave(uint64_t fs)
{
	if (fs)
		wr_fs(fs);
}

/* This thread's entry in the registry, claimed and set up (signal stack,
 * rseq, thread pointer) on its first call: 0 or -errno. */
int pkbox__thread_enter(struct pkbox_thread **out)
{
	struct pkbox_thread *t = pkbox__thread_mine();
	int rc;

	if (t) {
		*out = t;
		return 0;
	}
	rc = pkbox__thread_claim(&t);
	if (rc)
		return rc;
	rc = pkbox__thread_signals(t);
	if (!rc)
		rc = pkbox__thread_rseq_off();
	if (rc) {
		pkbox__thread_release(t);
		return rc;
	}
	pkbox__thread_bind(t);
	pkbox__host_fs_set(t->ti);
	*out = t;
	return 0;
}
