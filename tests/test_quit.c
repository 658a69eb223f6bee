/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_quit.c - a plugin that ends the process (tests/plugins/quitter.c:
 * exit(), _exit(), abort(), a failed assert(), raise(SIGKILL), kill() of
 * its own process) under the default seal: each call is stopped, returns
 * -EFAULT with a message that says what the plugin tried, the domain is
 * marked faulted and pkbox_last_fault() reports the stop (SIGILL at the
 * library's stop for the C library's ends, SIGSYS for a signal the policy
 * trapped); the host carries on.  A plugin that never returns is stopped by pkbox_call_timed().  The
 * host's own signal to itself still works after the seal (the policy
 * traps it and the library makes it), and so does its exit.  What a
 * plugin registers to run later (atexit, pthread_atfork, a pthread key's
 * destructor) never runs: the host would run it with its own rights.
 * argv[1]: the plugins' directory.  Exit 0, 1 (FAIL lines), 77 where the
 * backend asked for (PKBOX_BACKEND) is missing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pkeysbox.h>

#include "check.h"

static volatile sig_atomic_t got_usr1;

/* the plugin's marks (its data): checked by the host's own exit handler,
 * which runs after any the plugin could have left in the C library's list */
static volatile int *marks;

static void check_marks(void)
{
	if (marks && *marks) {
		printf("FAIL: code the plugin registered ran with the host's rights (%d marks)\n", *marks);
		fflush(stdout);
		_exit(1);
	}
}

static void *thread_sets_key(void *a)
{
	return a;
}

/* A plugin registers an exit handler, fork handlers and a pthread key
 * destructor (its own thread's value set): none may run, neither at the
 * host's fork, nor when a host thread ends, nor at the host's exit. */
static void registrations(const char *path)
{
	struct pkbox_plugin *p = pkbox_plugin_load(path, "reg", NULL);
	PKBOX_OPTS(pkbox_sym_info, si);
	intptr_t r = -1;

	CHECK(p && pkbox_call(pkbox_plugin_domain(p), (pkbox_fn)pkbox_plugin_sym(p, "q_register"), NULL, &r) == 0 &&
		      r == 0,
	      "q_register: %s (%ld)", pkbox_last_error(), (long)r);
	CHECK(p && pkbox_plugin_sym_info(p, "q_marks", &si) == 0 && si.addr, "q_marks: %s", pkbox_last_error());
	marks = si.addr;
	atexit(check_marks);
	fflush(stdout);
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	int st = -1;
	CHECK(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "a fork after the plugin's pthread_atfork: child status %#x", st);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, thread_sets_key, NULL) == 0 && pthread_join(t, NULL) == 0, "a host thread");
	CHECK(marks && *marks == 0, "the plugin's marks: %d", marks ? *marks : -1);
}

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void one(const char *path, const char *sym, const char *what, unsigned timeout_ms)
{
	struct pkbox_plugin *p = pkbox_plugin_load(path, sym, NULL);

	if (!p) {
		CHECK(0, "%s: load: %s", sym, pkbox_last_error());
		return;
	}
	struct pkbox_domain *d = pkbox_plugin_domain(p);
	pkbox_fn fn = (pkbox_fn)pkbox_plugin_sym(p, sym);
	intptr_t r = 0;
	int rc;

	errno = 0;
	rc = timeout_ms ? pkbox_call_timed(d, fn, NULL, &r, timeout_ms) : pkbox_call(d, fn, NULL, &r);
	const char *m = pkbox_last_error();
	PKBOX_OPTS(pkbox_fault, f);
	printf("# %s: %d: %s\n", sym, rc, m);
	CHECK(rc == (timeout_ms ? -ETIMEDOUT : -EFAULT) && errno == -rc, "%s: rc %d errno %d", sym, rc, errno);
	CHECK(m && strstr(m, what), "%s: message \"%s\" does not say \"%s\"", sym, m ? m : "(null)", what);
	CHECK(pkbox_domain_faulted(d) == 1, "%s: the domain is not marked faulted", sym);
	/* (the stops of exit() and the like are SIGILL at the library's own
	 * instruction; a syscall the policy traps, SIGSYS) */
	int sig = timeout_ms ? PKBOX_TIMEOUT_SIGNAL : strstr(what, "tried to") ? SIGSYS : SIGILL;
	CHECK(pkbox_last_fault(d, &f) == 0 && f.signo == sig, "%s: fault signal %d", sym, f.signo);
	CHECK(pkbox_plugin_unload(p) == 0, "%s: unload: %s", sym, pkbox_last_error());
}

int main(int argc, char **argv)
{
	char path[4096];
	const char *want = getenv("PKBOX_BACKEND");

	if (argc < 2)
		return 99;
	snprintf(path, sizeof(path), "%s/libpkbox-quitter.so", argv[1]);
	if (pkbox_init(NULL)) {
		printf("SKIP: %s (backend %s)\n", pkbox_last_error(), want ? want : "auto");
		return 77;
	}
	printf("# backend %s\n", pkbox_backend_name(pkbox_backend()));
	signal(SIGUSR1, on_usr1);
	if (pkbox_seal(NULL)) {
		printf("FAIL: pkbox_seal: %s\n", pkbox_last_error());
		return 1;
	}
	one(path, "q_exit", "it called exit()", 0);
	one(path, "q__exit", "it called exit()", 0);
	one(path, "q_abort", "it called abort()", 0);
	one(path, "q_assert", "an assertion failed", 0);
	one(path, "q_raise_kill", "tried to signal its own process (tgkill", 0);
	one(path, "q_kill", "tried to signal its own process (kill)", 0);
	one(path, "q_spin", "ran out of time", 200);
	registrations(path);

	/* a well-behaved call still works, and the host's own signal to
	 * itself is delivered */
	struct pkbox_plugin *p = pkbox_plugin_load(path, "ok", NULL);
	intptr_t r = 0;
	CHECK(p && pkbox_call(pkbox_plugin_domain(p), (pkbox_fn)pkbox_plugin_sym(p, "q_ok"), (void *)41, &r) == 0 &&
		      r == 42,
	      "q_ok: %s", pkbox_last_error());
	CHECK(raise(SIGUSR1) == 0 && got_usr1, "the host's raise(SIGUSR1) was not delivered");
	if (!failed)
		printf("ok\n");
	exit(failed);
}
