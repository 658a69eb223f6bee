/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* count_insns - how many instructions one empty round trip through the
 * gate takes: pkbox_call() of a function that returns its argument, from
 * the caller's call to its return, counted by single-stepping a child
 * process under ptrace (a syscall counts as one step).  Under an emulator
 * (QEMU TCG) the count is exact where times are meaningless.
 *
 * The child sets the library up (the pool is not inherited across fork), makes a domain, calls it once (stacks,
 * thread state), then stops; the parent traces it and counts the steps
 * between two marker functions, once with nothing between them and once
 * around the call, and prints the difference.  The process is not sealed
 * (a sealed process refuses ptrace).
 *
 * count_insns [-v]: -v prints each instruction's address (an offset in the
 * library where it lies there, for addr2line). */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkeysbox.h"

static volatile int marks;

__attribute__((noinline, noipa)) static void mark_begin(void)
{
	marks += 1;
}

__attribute__((noinline, noipa)) static void mark_end(void)
{
	marks += 2;
}

static intptr_t empty(void *a)
{
	return (intptr_t)a;
}

/* the traced child: set up, one warm-up call, stop; then an empty stretch
 * and the counted call, each between the markers */
static int child(void)
{
	struct pkbox_domain *d = NULL;
	intptr_t r = 0;

	if (!pkbox_init(NULL))
		d = pkbox_domain_create("count", NULL);
	if (!d || pkbox_call(d, empty, (void *)1, &r) || r != 1) {
		fprintf(stderr, "count_insns: set-up failed: %s\n", pkbox_last_error());
		return 1;
	}
	printf("backend: %s\n", pkbox_backend_name(pkbox_backend()));
	fflush(stdout);
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL)) {
		perror("count_insns: PTRACE_TRACEME");
		return 1;
	}
	raise(SIGSTOP);
	mark_begin();
	mark_end();
	mark_begin();
	int rc = pkbox_call(d, empty, (void *)42, &r);
	mark_end();
	return rc == 0 && r == 42 ? 0 : 2;
}

static uint64_t rip_of(pid_t pid)
{
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return 0;
	return regs.rip;
}

static void show(uint64_t rip)
{
	Dl_info di;

	if (dladdr((void *)(uintptr_t)rip, &di) && di.dli_fname && strstr(di.dli_fname, "libpkeysbox"))
		printf("  lib+%#lx\n", (unsigned long)(rip - (uint64_t)(uintptr_t)di.dli_fbase));
	else
		printf("  %#lx %s\n", (unsigned long)rip, di.dli_sname ? di.dli_sname : "");
}

/* Steps the child to its exit; counts[0] the empty stretch, counts[1] the
 * one around the call.  0, or -1 if the child went away early. */
static int trace(pid_t pid, bool verbose, long counts[2])
{
	uint64_t begin = (uint64_t)(uintptr_t)mark_begin, end = (uint64_t)(uintptr_t)mark_end;
	int st, sig = 0, stretch = 0;
	long n = -1;

	for (;;) {
		if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(uintptr_t)sig)) {
			perror("count_insns: PTRACE_SINGLESTEP");
			return -1;
		}
		if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))
			return -1;
		sig = WSTOPSIG(st) == SIGTRAP ? 0 : WSTOPSIG(st);
		uint64_t rip = rip_of(pid);
		if (n < 0 && rip == begin) {
			n = 0;
		} else if (n >= 0 && rip == end) {
			counts[stretch++] = n;
			n = -1;
			if (stretch == 2)
				return 0;
		}
		if (n >= 0) {
			if (verbose && stretch == 1)
				show(rip);
			n++;
		}
	}
}

int main(int argc, char **argv)
{
	bool verbose = argc > 1 && !strcmp(argv[1], "-v");
	long counts[2] = { 0, 0 };
	int st;

	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0)
		_exit(child());
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP) {
		fprintf(stderr, "count_insns: the child did not stop (status %#x)\n", st);
		return 1;
	}
	if (trace(pid, verbose, counts)) {
		fprintf(stderr, "count_insns: the child went away while traced\n");
		return 1;
	}
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "count_insns: the child failed (status %#x)\n", st);
		return 1;
	}
	printf("markers alone: %ld, with the call: %ld\n", counts[0], counts[1]);
	printf("count: %ld\n", counts[1] - counts[0]);
	return 0;
}
