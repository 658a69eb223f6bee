/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sigsys.c - the seal's SIGSYS handler: every syscall the policy refuses
 * traps here.  The call returns -EPERM; a compartment's refusal is recorded
 * for the host (through the gate, with host rights: refusals.c) or, under
 * PKBOX_SEAL_STOP_ON_REFUSAL, ends the call as a fault; the host's is
 * counted, and under the strict seal ends the process.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "fault.h"
#include "gate.h"
#include "msg.h"
#include "refusals.h"
#include "seal.h"
#include "state.h"
#include "sys.h"

/* With a TLS copy, on a thread the library never saw: one the compartment
 * made itself. */
static void foreign_thread(greg_t *g, uint64_t dom_fs)
{
	g[REG_RAX] = -EPERM;
	if (pkbox__gc.strict) {
		g[REG_RIP] = (greg_t)pkbox__thread_die;
		pkbox__jump_to((const long long *)g);
	}
	pkbox__fs_leave(dom_fs);
}

/* A call that ends or signals the process itself (filter.c, end_rules and
 * no_exit_rules): a compartment's is stopped whenever it traps. */
static bool ends_process(long nr)
{
	return nr == SYS_exit_group || nr == SYS_exit || nr == SYS_tgkill || nr == SYS_tkill || nr == SYS_kill;
}

/* A compartment was refused.  Returns whether the handler is done (the
 * gate's exit puts the host's TLS back). */
static bool in_compartment(ucontext_t *uc, siginfo_t *si, int saved)
{
	greg_t *g = uc->uc_mcontext.gregs;
	long nr = si->si_syscall;
	unsigned arch = si->si_arch;
	int ti = pkbox__self_ti();

	if (ti >= 0 && (pkbox__gc.stop_on_refusal || ends_process(nr))) {
		/* a violation: leave the compartment as a fault */
		pkbox__to_fault_exit(uc, ti, (uint64_t)nr, SIGSYS, si->si_code, -1, 0,
				     (uint64_t)(uintptr_t)si->si_call_addr);
		errno = saved;
		if (pkbox__gc.strict)
			pkbox__jump_to((const long long *)g);
		return true;
	} else if (ti >= 0) {
		g[REG_RAX] = (greg_t)(((uint64_t)arch << 32) | (uint32_t)nr);
		g[REG_RCX] = g[REG_RIP];
		g[REG_RIP] = (greg_t)pkbox__sys_refused;
	}
	/* a thread the compartment made itself: just -EPERM */
	if (ti < 0 && pkbox__gc.strict) {
		g[REG_RIP] = (greg_t)pkbox__thread_die;
		pkbox__jump_to((const long long *)g);
	}
	return false;
}

/* The host's own signal to itself, trapped only so that a compartment's
 * is stopped: made with the token, as the host asked (without
 * PKBOX_SEAL_NO_EXIT, under which the host uses pkbox_exit() and no
 * signals of its own).  Returns whether it was made. */
static bool host_end(ucontext_t *uc, long nr)
{
	greg_t *g = uc->uc_mcontext.gregs;

	if (pkbox__gc.no_exit || (nr != SYS_tgkill && nr != SYS_kill))
		return false;
	int saved = errno;
	long r = pkbox__sys(nr, nr == SYS_kill ? 2 : 3, g[REG_RDI], g[REG_RSI], g[REG_RDX], 0, 0);
	g[REG_RAX] = r < 0 ? -errno : r;
	errno = saved;
	if (pkbox__gc.strict) /* no rt_sigreturn: back by a jump */
		pkbox__jump_to((const long long *)g);
	return true;
}

static void in_host(void)
{
	pkbox__refusal_host();
	if (pkbox__gc.strict) {
		/* no way back without rt_sigreturn: the host broke its promise */
		static const char m[] = "libpkeysbox: the host made a syscall the strict seal refuses "
					"(PKBOX_SEAL_NO_SIGRETURN, _NO_THREADS, _NO_EXIT); exiting\n";
		syscall(SYS_write, 2, m, sizeof(m) - 1);
		pkbox__exit_group(86);
	}
}

static void sigsys_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int fti;

	(void)sig;
	if (pkbox__no_pool()) {
		/* a child without the library's memory (the seal's own probe, a
		 * host's fork): refused, and the next forced signal ends it */
		g[REG_RAX] = -EPERM;
		pkbox__block_fatal(uc);
		return;
	}
	/* then: off a compartment's TLS copy (see fault.c) */
	uint64_t dom_fs = pkbox__fs_enter(&fti);
	int saved;

	if (fti == -1) {
		foreign_thread(g, dom_fs);
		return;
	}
	saved = errno;
	if (si->si_code != 1 /* SYS_SECCOMP */) {
		errno = saved;
		pkbox__fs_leave(dom_fs);
		return; /* a SIGSYS someone sent: ignored */
	}
	g[REG_RAX] = -EPERM;
	if (pkbox__in_compartment(uc)) {
		if (in_compartment(uc, si, saved))
			return;
	} else if (!host_end(uc, si->si_syscall)) {
		in_host();
	}
	errno = saved;
	pkbox__fs_leave(dom_fs);
}

int pkbox__sigsys_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return pkbox__err(-errno, "sigaction(SIGSYS) failed: %m");
	return 0;
}

void *pkbox__sigsys_handler(void)
{
	return (void *)sigsys_handler;
}
