/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * filter.c - the seal's syscall policy as seccomp filters (the rules and
 * their reasons: seal.c's top comment, doc/THREAT_MODEL.md).  Two filters:
 * the libseccomp one (range rules from rules.c, the token, the flags'
 * rules), and a raw one for what libseccomp cannot say (the instruction
 * pointer, x32 numbers).  Rules are added in a fixed order: the filter a
 * seal loads is the same for the same flags, token and layout.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#if HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "codemap.h"
#include "fmt.h"
#include "landlock.h"
#include "msg.h"
#include "rules.h"
#include "seal.h"
#include "state.h"

#ifndef SYS_mseal
#define SYS_mseal 462
#endif
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#endif

#if HAVE_SECCOMP
static int add_rules(scmp_filter_ctx ctx, int nr, const struct pkbox_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scmp_arg_cmp c[4];

		for (int j = 0; j < r[i].n; j++) {
			const struct pkbox_cmp *x = &r[i].c[j];

			c[j].arg = x->arg;
			c[j].datum_b = 0;
			switch (x->op) {
			case PKBOX_CMP_MASKED_EQ:
				c[j].op = SCMP_CMP_MASKED_EQ;
				c[j].datum_a = x->mask;
				c[j].datum_b = x->datum;
				break;
			case PKBOX_CMP_GT: c[j].op = SCMP_CMP_GT; c[j].datum_a = x->datum; break;
			case PKBOX_CMP_LT: c[j].op = SCMP_CMP_LT; c[j].datum_a = x->datum; break;
			case PKBOX_CMP_NE: c[j].op = SCMP_CMP_NE; c[j].datum_a = x->datum; break;
			default: c[j].op = SCMP_CMP_EQ; c[j].datum_a = x->datum; break;
			}
		}
		int rc = seccomp_rule_add_array(ctx, SCMP_ACT_TRAP, nr, (unsigned)r[i].n, c);
		if (rc)
			return pkbox__err(rc, "seccomp rule for syscall %d: %s", nr, pkbox__strerror(-rc));
	}
	return 0;
}

#define RULE(nr, ...)                                                                                              \
	do {                                                                                                       \
		int _rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, (nr), __VA_ARGS__);                                 \
		if (_rc) {                                                                                         \
			rc = pkbox__err(_rc, "seccomp rule for syscall %d: %s", (int)(nr), pkbox__strerror(-_rc));        \
			goto out;                                                                                  \
		}                                                                                                  \
	} while (0)

/* An argument the kernel takes as an int or unsigned int (prctl's option,
 * fcntl's and ioctl's command, a descriptor): it ignores the upper 32 bits
 * of the register, so a rule on it compares the lower 32 bits only, or
 * (1 << 32) | PR_SET_SECCOMP would pass a comparison with PR_SET_SECCOMP. */
#define EQ32(i, v) SCMP_A##i(SCMP_CMP_MASKED_EQ, 0xffffffffUL, (v))

/* Range-checked syscalls: number, address argument, length argument, token
 * argument (its position is the number of arguments the call takes). */
static const struct {
	int nr, aarg, larg, targ;
} ranged[] = {
	{ SYS_mprotect, 0, 1, 3 },
	{ SYS_munmap, 0, 1, 2 },
	{ SYS_madvise, 0, 1, 3 },
	{ SYS_mseal, 0, 1, 3 },
	{ SYS_mmap, 0, 1, -1 },
};

/* The mprotect range rules, rules[0] ("starts inside") split so that
 * exactly mprotect(meta, meta_len, RW) passes here (the gate's exit; the
 * second filter pins it to that instruction). */
static int mprotect_rules(scmp_filter_ctx ctx, uint64_t lo, const struct pkbox_cmp *tokcmp,
			  const struct pkbox_rule *rules, size_t n)
{
	struct pkbox_rule inside[64];
	size_t m = 0;
	int rc;

	for (int k = 12; k < PKBOX_POOL_BITS; k++) {
		inside[m].n = 0;
		inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 0, PKBOX_CMP_MASKED_EQ,
								 ~((1ULL << (k + 1)) - 1) | (1ULL << k),
								 lo + (1ULL << k) };
		inside[m].c[inside[m].n++] = *tokcmp;
		m++;
	}
	inside[m].n = 0;
	inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 0, PKBOX_CMP_EQ, ~0ULL, lo };
	inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 1, PKBOX_CMP_NE, ~0ULL, pkbox__gc.meta_len };
	inside[m].c[inside[m].n++] = *tokcmp;
	m++;
	inside[m].n = 0;
	inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 0, PKBOX_CMP_EQ, ~0ULL, lo };
	inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 2, PKBOX_CMP_NE, ~0ULL, PROT_READ | PROT_WRITE };
	inside[m].c[inside[m].n++] = *tokcmp;
	m++;
	if ((rc = add_rules(ctx, SYS_mprotect, inside, m)))
		return rc;
	return add_rules(ctx, SYS_mprotect, rules + 1, n - 1);
}

/* Protection changes on the pool only with the token. */
static int ranged_rules(scmp_filter_ctx ctx, uint64_t tok)
{
	static struct pkbox_rule rules[128];
	uint64_t lo = pkbox__gc.pool_lo;
	int rc = 0;

	for (size_t i = 0; i < sizeof(ranged) / sizeof(ranged[0]); i++) {
		struct pkbox_cmp extra[2];
		int ne = 0;

		if (ranged[i].targ >= 0)
			extra[ne++] = (struct pkbox_cmp){ (uint8_t)ranged[i].targ, PKBOX_CMP_NE, ~0ULL, tok };
		if (ranged[i].nr == SYS_mmap)
			extra[ne++] = (struct pkbox_cmp){ 3, PKBOX_CMP_MASKED_EQ, MAP_FIXED, MAP_FIXED };
		size_t n = pkbox__range_rules(lo, PKBOX_POOL_BITS, ranged[i].aarg, ranged[i].larg, extra, ne, rules,
					      128);
		if (n > 128)
			return pkbox__err(-E2BIG, "too many range rules");
		if (ranged[i].nr == SYS_mprotect)
			rc = mprotect_rules(ctx, lo, &extra[0], rules, n);
		else
			rc = add_rules(ctx, ranged[i].nr, rules, n);
		if (rc)
			return rc;
	}
	return 0;
}

/* PKBOX_SEAL_NO_REMAP */
static int no_remap_rules(scmp_filter_ctx ctx, uint64_t tok)
{
	int rc = 0;

	/* everywhere, not only the pool: without the token, or (mprotect)
	 * other than the gate exit's exact call (pinned by the raw filter) */
	uint64_t mlo = pkbox__gc.meta_lo, mlen = pkbox__gc.meta_len, rw = PROT_READ | PROT_WRITE;

	RULE(SYS_mprotect, 2, SCMP_A3(SCMP_CMP_NE, tok), SCMP_A0(SCMP_CMP_NE, mlo));
	RULE(SYS_mprotect, 2, SCMP_A3(SCMP_CMP_NE, tok), SCMP_A1(SCMP_CMP_NE, mlen));
	RULE(SYS_mprotect, 2, SCMP_A3(SCMP_CMP_NE, tok), SCMP_A2(SCMP_CMP_NE, rw));
	RULE(SYS_mseal, 1, SCMP_A3(SCMP_CMP_NE, tok));
#ifndef __SANITIZE_ADDRESS__
	/* (AddressSanitizer's allocator maps, unmaps and advises with
	 * MAP_FIXED in its own region all the time: left out there) */
	RULE(SYS_munmap, 1, SCMP_A2(SCMP_CMP_NE, tok));
	RULE(SYS_madvise, 1, SCMP_A3(SCMP_CMP_NE, tok));
	RULE(SYS_mmap, 1, SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_FIXED, MAP_FIXED));
#endif
out:
	return rc;
}

static int code_rules(scmp_filter_ctx ctx, uint64_t tok)
{
	int rc = 0;

	/* no new executable memory, no re-keying, no key changes.  Executable
	 * mappings come from the code descriptor only (loader.c: a sealed,
	 * inspected image), never writable, never over something else */
	uint64_t cfd = (uint64_t)pkbox__gc.code_fd - 1;
	RULE(SYS_mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A4(SCMP_CMP_NE, cfd));
	RULE(SYS_mmap, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE));
	RULE(SYS_mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
	     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_FIXED, MAP_FIXED));
	RULE(SYS_mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
	     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_FIXED_NOREPLACE, MAP_FIXED_NOREPLACE));
	/* the code descriptor stays what the library made it */
	RULE(SYS_close, 2, EQ32(0, cfd), SCMP_A1(SCMP_CMP_NE, tok));
	RULE(SYS_dup2, 2, EQ32(1, cfd), SCMP_A2(SCMP_CMP_NE, tok));
	RULE(SYS_dup3, 2, EQ32(1, cfd), SCMP_A3(SCMP_CMP_NE, tok));
	RULE(SYS_close_range, 1, SCMP_A0(SCMP_CMP_GT, 0xffffffffUL));
	RULE(SYS_close_range, 1, SCMP_A1(SCMP_CMP_GT, 0xffffffffUL));
	RULE(SYS_close_range, 2, SCMP_A0(SCMP_CMP_LE, cfd), SCMP_A1(SCMP_CMP_GE, cfd));
	RULE(SYS_mprotect, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A3(SCMP_CMP_NE, tok));
	RULE(SYS_pkey_mprotect, 1, SCMP_A4(SCMP_CMP_NE, tok));
	RULE(SYS_pkey_alloc, 0);
	RULE(SYS_pkey_free, 0);
	RULE(SYS_mremap, 0);
	RULE(SYS_remap_file_pages, 0);
	RULE(SYS_shmat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, 0100000 /* SHM_EXEC */, 0100000));
	RULE(SYS_shmat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, 040000 /* SHM_REMAP */, 040000));
out:
	return rc;
}

static int process_rules(scmp_filter_ctx ctx)
{
	int rc = 0;

	/* foreign access, policy tampering, process tricks */
	RULE(SYS_ptrace, 0);
	/* files by handle: no path for the file policy (landlock.c) to check;
	 * and where Landlock has no TRUNCATE right (ABI 3, Linux 6.2),
	 * truncate(2) and O_TRUNC with O_RDONLY, which truncates a file that
	 * is not opened for writing (openat2's flags are out of sight) */
	RULE(SYS_open_by_handle_at, 0);
	RULE(SYS_name_to_handle_at, 0);
	if (pkbox__landlock_abi() < 3) {
		RULE(SYS_truncate, 0);
		RULE(SYS_open, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_TRUNC, O_TRUNC));
		RULE(SYS_openat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_TRUNC, O_TRUNC));
		RULE(SYS_openat2, 0);
	}
	RULE(SYS_process_vm_readv, 0);
	RULE(SYS_process_vm_writev, 0);
	RULE(SYS_seccomp, 0);
	RULE(SYS_personality, 1, SCMP_A0(SCMP_CMP_NE, 0xffffffffUL));
	RULE(SYS_userfaultfd, 0);
	RULE(SYS_io_uring_setup, 0);
	RULE(SYS_io_uring_enter, 0);
	RULE(SYS_io_uring_register, 0);
	RULE(SYS_execve, 0);
	RULE(SYS_execveat, 0);
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_SECCOMP));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_MM));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_DUMPABLE));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_PTRACER));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_MDWE));
	/* TIOCSTI pushes input into the terminal: a shell command, or ^C for
	 * the process */
	RULE(SYS_ioctl, 1, EQ32(1, TIOCSTI));
out:
	return rc;
}

/* PKBOX_SEAL_NO_EXIT */
static int no_exit_rules(scmp_filter_ctx ctx, uint64_t tok)
{
	int rc = 0;

	/* nothing ends, stops or signals the process but the library's
	 * own calls (pkbox__tsys puts the token in r9, argument 6) */
	static const int nr[] = { SYS_exit_group, SYS_exit, SYS_kill, SYS_tkill, SYS_tgkill,
				  SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, SYS_pidfd_send_signal,
				  SYS_alarm, SYS_setitimer, SYS_timer_create, SYS_timer_settime,
				  SYS_timer_delete, SYS_setrlimit,
				  SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_mq_notify };
	for (size_t i = 0; i < sizeof(nr) / sizeof(nr[0]); i++)
		RULE(nr[i], 1, SCMP_A5(SCMP_CMP_NE, tok));
	RULE(SYS_prlimit64, 2, SCMP_A2(SCMP_CMP_NE, 0), SCMP_A5(SCMP_CMP_NE, tok));
	/* a fault while SIGSEGV (SIGSYS, ...) is blocked: the kernel
	 * puts the default action back and the process ends */
	RULE(SYS_rt_sigprocmask, 3, SCMP_A0(SCMP_CMP_NE, SIG_UNBLOCK), SCMP_A1(SCMP_CMP_NE, 0),
	     SCMP_A5(SCMP_CMP_NE, tok));
	/* (the temporary masks of ppoll, pselect6 and epoll_pwait last
	 * while the thread sleeps in the kernel, where it cannot fault) */
	/* SIGIO to an owner, SIGKILL when the parent goes */
	RULE(SYS_fcntl, 1, EQ32(1, F_SETOWN));
	RULE(SYS_fcntl, 1, EQ32(1, F_SETOWN_EX));
	RULE(SYS_ioctl, 1, EQ32(1, FIOSETOWN));
	RULE(SYS_ioctl, 1, EQ32(1, SIOCSPGRP));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_PDEATHSIG));
	/* a process stopped by its terminal (SIGTTOU, SIGTTIN): another
	 * foreground group, TOSTOP, a process group or session of its own */
	static const unsigned long tty[] = { TIOCSPGRP, TCSETS, TCSETSW, TCSETSF, TCSETA, TCSETAW, TCSETAF };
	for (size_t i = 0; i < sizeof(tty) / sizeof(tty[0]); i++)
		RULE(SYS_ioctl, 1, EQ32(1, tty[i]));
	RULE(SYS_setpgid, 0);
	RULE(SYS_setsid, 0);
out:
	return rc;
}

/* Every seal without PKBOX_SEAL_NO_EXIT: a signal to this process or its
 * group (raise(), kill()) traps unless the library makes the call.  The
 * SIGSYS handler stops a compartment's as a fault and makes the host's
 * itself, with the token (sigsys.c), so the host signals itself as before.
 * A plugin's exit(), _exit() and abort() never reach the kernel (its
 * loader binds them to stops, quit.c); a raw exit_group is stopped under
 * PKBOX_SEAL_NO_EXIT only: trapping the host's own exit would run the
 * handler at the very end of the process, where nothing can be trusted
 * to be in place. */
static int end_rules(scmp_filter_ctx ctx, uint64_t tok)
{
	int rc = 0;
	long pid = getpid();

	RULE(SYS_tgkill, 2, EQ32(0, pid), SCMP_A5(SCMP_CMP_NE, tok));
	RULE(SYS_kill, 2, EQ32(0, pid), SCMP_A5(SCMP_CMP_NE, tok));
	RULE(SYS_kill, 2, EQ32(0, 0), SCMP_A5(SCMP_CMP_NE, tok));
out:
	return rc;
}

/* PKBOX_SEAL_KEEP_STDIO */
static int keep_stdio_rules(scmp_filter_ctx ctx)
{
	int rc = 0;

	for (uint64_t fd = 0; fd <= 2; fd++) {
		RULE(SYS_close, 1, EQ32(0, fd));
		RULE(SYS_close_range, 1, EQ32(0, fd));
		RULE(SYS_dup2, 1, EQ32(1, fd));
		RULE(SYS_dup3, 1, EQ32(1, fd));
		RULE(SYS_fcntl, 2, EQ32(0, fd), EQ32(1, F_SETFL));
		RULE(SYS_ioctl, 2, EQ32(0, fd), EQ32(1, FIONBIO));
		RULE(SYS_shutdown, 1, EQ32(0, fd));
	}
out:
	return rc;
}

static int thread_signal_rules(scmp_filter_ctx ctx, uint64_t tok, unsigned flags)
{
	int rc = 0;

	if (flags & PKBOX_SEAL_NO_SIGRETURN)
		RULE(SYS_rt_sigreturn, 0);
	if (flags & PKBOX_SEAL_NO_THREADS) {
		/* no new threads or processes: a child (with or without
		 * CLONE_VM) outlives the call, runs outside the gate's reach and
		 * may spin or wait for ever (A18) */
		RULE(SYS_clone, 1, SCMP_A5(SCMP_CMP_NE, tok)); /* (the seal's own probe: seal_check.c) */
		RULE(SYS_clone3, 0);
		RULE(SYS_fork, 0);
		RULE(SYS_vfork, 0);
	}
	/* rseq: an area names code the kernel sends the thread to.  No thread
	 * has one once sealed (rseq_check), so none of glibc's new threads
	 * asks for one (it would, with every signal blocked, where a trap
	 * kills the process). */
	RULE(SYS_rseq, 0);
	RULE(SYS_sigaltstack, 2, SCMP_A0(SCMP_CMP_NE, 0), SCMP_A2(SCMP_CMP_NE, tok));
	/* No new signal handlers at all: a handler a compartment installed
	 * would run its code with the kernel's default PKRU (key 0 writable,
	 * and the library's retry for host threads born before its keys would
	 * open the rest).  The handlers in place were checked (handlers_check). */
	RULE(SYS_rt_sigaction, 1, SCMP_A1(SCMP_CMP_NE, 0));
out:
	return rc;
}

static int build_filter(scmp_filter_ctx ctx, uint64_t tok, unsigned flags)
{
	int rc = ranged_rules(ctx, tok);

	if (!rc && (flags & PKBOX_SEAL_NO_REMAP))
		rc = no_remap_rules(ctx, tok);
	if (!rc)
		rc = code_rules(ctx, tok);
	if (!rc)
		rc = process_rules(ctx);
	if (!rc)
		rc = flags & PKBOX_SEAL_NO_EXIT ? no_exit_rules(ctx, tok) : end_rules(ctx, tok);
	if (!rc && (flags & PKBOX_SEAL_KEEP_STDIO))
		rc = keep_stdio_rules(ctx);
	if (!rc)
		rc = thread_signal_rules(ctx, tok, flags);
	return rc;
}

int pkbox__filter_make(void **out, uint64_t tok, unsigned flags)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	*out = NULL;
	if (!ctx)
		return pkbox__err(-ENOMEM, "pkbox_seal: seccomp_init failed");
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP)) ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1))) {
		rc = pkbox__err(rc, "pkbox_seal: seccomp_attr_set: %s", pkbox__strerror(-rc));
		seccomp_release(ctx);
		return rc;
	}
	rc = pkbox__codemap_fd() < 0 ? -EMFILE : 0;
	if (!rc)
		rc = build_filter(ctx, tok, flags);
	if (rc) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

void pkbox__filter_free(void *ctx)
{
	if (ctx)
		seccomp_release(ctx);
}


/* The second filter: what libseccomp cannot say (the instruction pointer,
 * x32 numbers).  mprotect of the library's state to RW without the token
 * is allowed from the gate's exit instruction only. */
static int raw_filter(uint64_t tok)
{
	extern const char pkbox__mp_exit_syscall[];
	uint64_t ip = (uint64_t)(uintptr_t)pkbox__mp_exit_syscall;
	uint64_t meta = pkbox__gc.meta_lo;
#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(v, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), (t), (f))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
	struct sock_filter f[] = {
		/* 0 */ LD(offsetof(struct seccomp_data, arch)),
		/* 1 */ JEQ(AUDIT_ARCH_X86_64, 0, 18), /* other arches: the first filter refuses them */
		/* 2 */ LD(offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 14, 0), /* x32 */
		/* 4 */ JEQ(SYS_mprotect, 0, 15),
		/* 5 */ LD(offsetof(struct seccomp_data, args[0])),
		/* 6 */ JEQ((uint32_t)meta, 0, 13),
		/* 7 */ LD(offsetof(struct seccomp_data, args[0]) + 4),
		/* 8 */ JEQ((uint32_t)(meta >> 32), 0, 11),
		/* 9 */ LD(offsetof(struct seccomp_data, args[3])),
		/* 10 */ JEQ((uint32_t)tok, 0, 2),
		/* 11 */ LD(offsetof(struct seccomp_data, args[3]) + 4),
		/* 12 */ JEQ((uint32_t)(tok >> 32), 7, 0),
		/* 13 */ LD(offsetof(struct seccomp_data, instruction_pointer)),
		/* 14 */ JEQ((uint32_t)ip, 0, 3),
		/* 15 */ LD(offsetof(struct seccomp_data, instruction_pointer) + 4),
		/* 16 */ JEQ((uint32_t)(ip >> 32), 2, 0),
		/* 17 */ RET(SECCOMP_RET_TRAP), /* ip mismatch */
		/* 18 */ RET(SECCOMP_RET_TRAP), /* x32 */
		/* 19 */ RET(SECCOMP_RET_ALLOW),
		/* 20 */ RET(SECCOMP_RET_ALLOW),
	};
#undef LD
#undef JEQ
#undef RET
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog))
		return -errno;
	return 0;
}


int pkbox__filter_load(void *ctx, uint64_t tok)
{
	/* the raw filter first: the libseccomp one refuses seccomp() itself */
	int rc = raw_filter(tok);

	if (rc) {
		rc = pkbox__err(rc, "pkbox_seal: the instruction-pointer filter failed to load: %s", pkbox__strerror(-rc));
		seccomp_release(ctx);
		return rc;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc)
		return pkbox__err(rc, "pkbox_seal: seccomp_load failed: %s", pkbox__strerror(-rc));
	return 0;
}
#endif
