/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_check.c - the process as the kernel sees it, checked before the seal
 * and after it.
 *
 * Code that ran before the seal (a plugin's constructor, a library it
 * needs) can leave things behind that the policy would not stop: a seccomp
 * filter of its own, a descriptor that reaches memory from outside, another
 * process or thread, an executable view of writable memory, the library's
 * memory re-keyed, host code patched, the library's handlers replaced.  So
 * the seal refuses unless the kernel's own account of the process
 * (/proc/self/status, maps or smaps, fd, task, the children lists, kcmp,
 * fcntl, sigaction, rseq) shows none of them; it never believes a value in
 * writable memory.  After the policy is loaded, the kernel is asked again
 * whether it applies it.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include <linux/magic.h>

#include "backend.h"
#include "codemap.h"
#include "fault.h"
#include "fmt.h"
#include "msg.h"
#include "seal.h"
#include "seal_check.h"
#include "seal_proc.h"
#include "state.h"
#include "sys.h"

/* ---------------------------------------------------------------- 1. seccomp */

static int seccomp_check(int sfd)
{
	char st[8192];
	int rc = pkbox__status_read(sfd, st, sizeof(st));

	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: cannot read /proc/self/status: %s", pkbox__strerror(-rc));
	long mode = pkbox__status_field(st, "Seccomp"), n = pkbox__status_field(st, "Seccomp_filters");

	if (mode != 0 || n > 0)
		return pkbox__err(-EPERM,
				  "pkbox_seal: the process already runs under a seccomp filter the library did not "
				  "load (Seccomp: %ld, Seccomp_filters: %ld); it could make the policy's own calls "
				  "fail or pretend to succeed",
				  mode, n);
	return 0;
}

/* ---------------------------------------------------------------- 7. handlers */

static int handlers_in_place(void)
{
	const int *sigs;
	void *fn;
	size_t n = pkbox__fault_signals(&sigs, &fn);

	for (size_t i = 0; i < n; i++) {
		struct sigaction sa;

		if (sigaction(sigs[i], NULL, &sa))
			return pkbox__err(-EPERM, "pkbox_seal: cannot read the handler of signal %d: %m", sigs[i]);
		void *h = (sa.sa_flags & SA_SIGINFO) ? (void *)sa.sa_sigaction : (void *)sa.sa_handler;
		if (!(sa.sa_flags & SA_SIGINFO) || h != fn || !(sa.sa_flags & SA_ONSTACK)) {
			const char *abbrev = sigabbrev_np(sigs[i]);
			char name[24];

			if (abbrev)
				pkbox__fmt(name, sizeof(name), "SIG%s", abbrev);
			else
				pkbox__fmt(name, sizeof(name), "signal %d", sigs[i]);
			return pkbox__err(-EPERM,
					  "pkbox_seal: %s is not handled by the library (%s): a fault in a "
					  "compartment would %s; call pkbox_signals_install() after installing "
					  "handlers of your own",
					  name,
					  h == (void *)SIG_DFL ? "default action"
					  : h == (void *)SIG_IGN ? "ignored"
								  : "another handler",
					  h == (void *)SIG_DFL || h == (void *)SIG_IGN ? "end the process"
										   : "run other code");
		}
	}
	return 0;
}

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* x86_64: the kernel's flag, not in glibc's headers */
#endif

/* Every signal handler in place must be host code: not in a plugin's code,
 * not in the pool, not in anonymous memory (a plugin's constructor runs in
 * its compartment before the seal, and could have installed one). */
int pkbox__handlers_host(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa))
			continue;
		uintptr_t h = (sa.sa_flags & SA_SIGINFO) ? (uintptr_t)sa.sa_sigaction : (uintptr_t)sa.sa_handler;
		uintptr_t r = (uintptr_t)sa.sa_restorer;

		for (int k = 0; k < 2; k++) {
			uintptr_t a = k ? r : h;
			Dl_info di;

			if (!k && (a == (uintptr_t)SIG_DFL || a == (uintptr_t)SIG_IGN))
				continue;
			if (k && !(sa.sa_flags & SA_RESTORER))
				continue;
			if ((a >= pkbox__gc.pool_lo && a < pkbox__gc.pool_hi) || !dladdr((void *)a, &di) ||
			    pkbox__codemap_plugin(a))
				return pkbox__err(-EPERM,
						  "pkbox_seal: the %s of signal %d (%#lx) is not the host's code",
						  k ? "restorer" : "handler", sig, (unsigned long)a);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- before and after */

int pkbox__seal_check(int *status_fd)
{
	struct fds f = { 0 };
	struct vmas m = { 0 };
	int rc;

	*status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (*status_fd < 0)
		return pkbox__err(-EPERM, "pkbox_seal: cannot open /proc/self/status: %m");
	rc = seccomp_check(*status_fd);
	if (!rc)
		rc = pkbox__threads_check();
	if (!rc)
		rc = pkbox__procs_check();
	if (!rc)
		rc = pkbox__fds_check(*status_fd, &f);
	if (!rc)
		rc = handlers_in_place();
	if (!rc && pkbox__be->settle)
		rc = pkbox__be->settle(); /* the kernel's view as the library has it */
	if (!rc)
		rc = pkbox__vmas_load(&m, pkbox__be->keyed);
	if (!rc)
		rc = pkbox__exec_check(&m, &f);
	if (!rc)
		rc = pkbox__pool_check(&m, &f);
	if (!rc)
		rc = pkbox__code_check(&m, &f);
	pkbox__vmas_free(&m);
	free(f.v);
	return rc;
}

/* 0 when a syscall every policy refuses is refused, 1 when not, -errno
 * when the probe cannot be made.  The syscall is made by a child (a copy
 * with the same filters), so that nothing in this process changes (no
 * refusal counted, no message).  The child has none of the pool
 * (MADV_DONTFORK), so the library's SIGSYS handler cannot complete there:
 * a refused call ends the child (or returns EPERM), one that went through
 * to the kernel says so ('A').  The child tells through a pipe how far it
 * got, for hosts that do not wait for children (SIGCHLD ignored). */
static int probe_refused(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	/* a plain fork, with the token (PKBOX_SEAL_NO_THREADS refuses others) */
	pid_t c = (pid_t)pkbox__sys(SYS_clone, 5, SIGCHLD, 0, 0, 0, 0);
	if (c < 0) {
		int e = -errno;

		close(p[0]);
		close(p[1]);
		return e;
	}
	if (c == 0) {
		char s = 'S';

		close(p[0]);
		if (write(p[1], &s, 1) == 1) {
			long r = syscall(SYS_pkey_alloc, 0UL, 0UL);
			s = r == -1 && errno == EPERM ? 'R' : 'A';
			if (write(p[1], &s, 1) < 0)
				s = 0;
		}
		/* refused under NO_EXIT: the handler, without the pool, ends it;
		 * so does the fault handler after that */
		syscall(SYS_exit_group, 0);
		*(volatile int *)0 = 0;
		for (;;)
			syscall(SYS_exit, 0);
	}
	close(p[1]);
	char got[4];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(p[0], got + n, sizeof(got) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (n += (size_t)r) == sizeof(got))
			break;
	}
	close(p[0]);
	int st = 0;
	pid_t w;
	do
		w = waitpid(c, &st, 0);
	while (w < 0 && errno == EINTR);
	(void)w;
	(void)st;
	if (n < 1 || got[0] != 'S' || (n > 1 && got[1] != 'R'))
		return 1;
	return 0;
}

int pkbox__seal_verify(int status_fd, int nfilters)
{
	char st[8192];
	int rc = status_fd >= 0 ? pkbox__status_read(status_fd, st, sizeof(st)) : -EBADF;

	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: cannot read /proc/self/status after loading the policy: %s",
				  pkbox__strerror(-rc));
	long mode = pkbox__status_field(st, "Seccomp"), n = pkbox__status_field(st, "Seccomp_filters");
	if (mode != 2 || (n >= 0 && n != nfilters))
		return pkbox__err(-EPERM, "pkbox_seal: the kernel reports Seccomp: %ld, Seccomp_filters: %ld after "
					  "the policy was loaded (expected 2 and %d)",
				  mode, n, nfilters);
	struct sigaction sa;
	if (sigaction(SIGSYS, NULL, &sa) || !(sa.sa_flags & SA_SIGINFO) ||
	    (void *)sa.sa_sigaction != pkbox__sigsys_handler())
		return pkbox__err(-EPERM, "pkbox_seal: the library's SIGSYS handler is not in place after "
					  "loading the policy");
	rc = probe_refused();
	if (rc < 0)
		return pkbox__err(-EPERM, "pkbox_seal: cannot probe the policy: %s", pkbox__strerror(-rc));
	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: pkey_alloc(), which the policy refuses, was not refused "
					  "in a child with the same filters");
	return 0;
}

void pkbox__seal_fail(void)
{
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ | PROT_WRITE);
	pkbox__gc.seal_failed = 1;
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ);
}
