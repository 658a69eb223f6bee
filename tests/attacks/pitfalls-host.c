/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pitfalls-host.c - the attacks of tests/plugins/pitfalls.c against a host
 * of the C API, each from the plugin's constructor:
 *
 *   pitfalls-host NAME PLUGIN.so
 *
 * A child process is the host: it keeps a 32-byte secret in its private
 * domain, seals, and only then loads the plugin with PKBOX_PITFALL_CTOR=NAME
 * (its constructor runs inside the compartment, under the policy), then
 * calls pf_use in it.  The child checks with host rights that the secret is
 * unchanged and that the library reported the attempt (a contained fault or
 * a refused syscall, during the load or the call); this process checks that
 * the child ended by itself in time, that the secret is not in the plugin's
 * output, and that no process of the child's is left.
 * Exit 0 when all hold, 1 when one does not, 77 without the backend asked
 * for (PKBOX_BACKEND), 2 on set-up errors.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkeysbox.h"

#define LIMIT_S 30

struct call {
	int (*fn)(int, char **);
	int argc;
	char **argv;
};

/* runs inside the compartment */
static intptr_t tramp(void *a)
{
	struct call *c = a;

	return c->fn(c->argc, c->argv);
}

/* The seal: PKBOX_SEAL_STOP_ON_REFUSAL, the flags a host that wants a
 * violation to end the call uses.  Where doc/THREAT_MODEL.md says a class
 * needs more (A12: threads, or processes sharing the address space, on the
 * mprotect backend need PKBOX_SEAL_NO_THREADS; A8: forged frames on pku need
 * PKBOX_SEAL_NO_SIGRETURN), the case adds it: these tests are about what a
 * constructor can do, not about the documented open rows. */
static unsigned int seal_flags(const char *name)
{
	static const char *const threads[] = { "map_race", "scan_race", "clonevm", "rseq" };
	unsigned int f = PKBOX_SEAL_STOP_ON_REFUSAL;

	for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++)
		if (!strcmp(name, threads[i]))
			f |= PKBOX_SEAL_NO_THREADS;
	if (!strcmp(name, "sigreturn"))
		f |= PKBOX_SEAL_NO_SIGRETURN;
	return f;
}

static int host(const char *name, const char *path, uint8_t *given)
{
	int irc = pkbox_init(NULL);
	if (irc == -ENOTSUP) {
		fprintf(stderr, "pitfalls-host: %s: the guest suite runs this on real pkeys\n", pkbox_last_error());
		return 77;
	}
	if (irc) {
		fprintf(stderr, "pitfalls-host: pkbox_init: %s\n", pkbox_last_error());
		return 2;
	}
	struct pkbox_domain *hd = pkbox_host_domain();
	uint8_t *secret = pkbox_malloc(hd, 32), *copy = pkbox_malloc(hd, 32);
	if (!secret || !copy)
		return 2;
	memcpy(secret, given, 32);
	memcpy(copy, given, 32);
	explicit_bzero(given, 32); /* only in the private domain from here on */
	char v[32];
	snprintf(v, sizeof(v), "%#lx", (unsigned long)(uintptr_t)secret);
	setenv("PKBOX_CANARY", v, 1);
	setenv("PKBOX_PITFALL_CTOR", name, 1);
	struct pkbox_seal_opts so = { .sz = sizeof(so), .flags = seal_flags(name) };
	/* PITFALLS_LOAD_BEFORE_SEAL=1: the order this library had before
	 * plugins could be loaded only after the seal, to show what it lets
	 * through (not a test: nothing is under the policy then) */
	const char *lf = getenv("PITFALLS_LOAD_BEFORE_SEAL");
	bool load_first = lf && *lf == '1';
	unsigned long f0 = pkbox_fault_count(), r0 = pkbox_refusal_count();
	bool loaded = false, sealed_refusal = false, seal_refused = false, refused_setup = false;
	int crc = 0;
	struct pkbox_plugin *pl = NULL;

	if (load_first)
		pl = pkbox_plugin_load(path, NULL, NULL);
	if (pkbox_seal(&so)) {
		fprintf(stderr, "pitfalls-host: pkbox_seal: %s\n", pkbox_last_error());
		if (!load_first)
			return 2;
		seal_refused = true;
		pl = NULL;
	}
	fflush(stdout);

	/* after the seal: the constructor runs under the policy */
	if (!load_first)
		pl = pkbox_plugin_load(path, NULL, NULL);
	if (seal_refused) {
		fprintf(stderr, "pitfalls-host: the seal refused what the constructor left\n");
	} else if (!pl) {
		int e = errno;
		fprintf(stderr, "pitfalls-host: load: %s\n", pkbox_last_error());
		sealed_refusal = e == EPERM && strstr(pkbox_last_error(), "sealed");
	} else {
		loaded = true;
		struct pkbox_domain *d = pkbox_plugin_domain(pl);
		void *fn = pkbox_plugin_sym(pl, "pf_use");
		struct call *c = d ? pkbox_calloc(d, 1, sizeof(*c)) : NULL;
		char **argv = d ? pkbox_calloc(d, 2, sizeof(char *)) : NULL;
		if (!fn)
			return 2;
		if (!c || !argv || !(argv[0] = pkbox_copy_in(d, path, strlen(path) + 1))) {
			/* a constructor that left the process without memory or
			 * mappings (A17): the host goes no further, and says why */
			fprintf(stderr, "pitfalls-host: no memory for the call's arguments: %s\n", pkbox_last_error());
			refused_setup = true;
			goto verdict;
		}
		c->fn = (int (*)(int, char **))fn;
		c->argc = 1;
		c->argv = argv;
		intptr_t ret = 0;
		crc = pkbox_call(d, tramp, c, &ret);
		struct pkbox_fault f = { .sz = sizeof(f) };
		if (crc == -EFAULT && !pkbox_last_fault(d, &f))
			fprintf(stderr, "pitfalls-host: call stopped: domain %s, %s %#lx, signal %d\n", f.domain,
				f.signo == SIGSYS ? "syscall" : "address", (unsigned long)f.addr, f.signo);
		else
			fprintf(stderr, "pitfalls-host: call: %d, returned %ld\n", crc, (long)ret);
	}
verdict:;
	unsigned long faults = pkbox_fault_count() - f0, refusals = pkbox_refusal_count() - r0;
	struct pkbox_refusal r = { .sz = sizeof(r) };
	if (refusals && !pkbox_last_refusal(&r))
		fprintf(stderr, "pitfalls-host: last refusal: syscall %ld (arch %#x) in %s\n", r.nr, r.arch, r.domain);
	bool changed = memcmp(secret, copy, 32) != 0;
	bool reported = faults || refusals || seal_refused || refused_setup;
	fprintf(stderr, "pitfalls-host: %s: %s; faults %lu, refusals %lu; secret changed: %s; reported: %s\n", name,
		loaded ? "loaded" : "not loaded", faults, refusals, changed ? "YES" : "no", reported ? "yes" : "NO");
	if (sealed_refusal)
		fprintf(stderr, "pitfalls-host: this library loads plugins before the seal only\n");
	return !changed && reported && !sealed_refusal ? 0 : 1;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* this process's children still running (it is their subreaper) */
static int live_children(pid_t *pids, int max)
{
	char path[64];
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long p;
	while (n < max && fscanf(f, "%ld", &p) == 1) {
		char st[64], buf[256];
		snprintf(st, sizeof(st), "/proc/%ld/stat", p);
		FILE *s = fopen(st, "r");
		bool zombie = false;
		if (s) {
			if (fgets(buf, sizeof(buf), s)) {
				char *e = strrchr(buf, ')');
				zombie = e && e[1] == ' ' && e[2] == 'Z';
			}
			fclose(s);
		}
		if (!zombie)
			pids[n++] = (pid_t)p;
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pitfalls-host NAME PLUGIN.so\n");
		return 2;
	}
	uint8_t secret[32];
	char hex[65];
	if (getrandom(secret, 32, 0) != 32)
		return 2;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", secret[i]);
	/* whatever the child leaves behind becomes ours to see */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		return 2;
	int p[2];
	if (pipe(p))
		return 2;
	fflush(NULL);
	pid_t c = fork();
	if (c < 0)
		return 2;
	if (c == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		int rc = host(argv[1], argv[2], secret);
		fflush(NULL);
		_exit(rc);
	}
	close(p[1]);
	explicit_bzero(secret, 32);
	char out[65536];
	size_t nout = 0;
	int st = 0;
	bool done = false, hung = false;
	double end = now() + LIMIT_S;
	/* the plugin's output until the host ends (or its time is up) */
	while (!done) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		if (poll(&pf, 1, 50) == 1) {
			ssize_t k = read(p[0], out + nout, sizeof(out) - 1 - nout);
			if (k <= 0)
				usleep(20000);
			else
				nout += (size_t)k;
		}
		if (waitpid(c, &st, WNOHANG) == c)
			done = true;
		else if (now() > end) {
			hung = true;
			kill(c, SIGKILL);
			waitpid(c, &st, 0);
			done = true;
		}
	}
	/* processes left behind: half a second to go (a parent-death signal
	 * is not instant), then they are ended */
	pid_t left[64];
	int nl = 0;
	for (int t = 0; t < 5 && (nl = live_children(left, 64)) > 0; t++)
		usleep(100000);
	for (int i = 0; i < nl; i++)
		kill(left[i], SIGKILL);
	/* what is still in the pipe */
	for (double dend = now() + 1;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		if (now() > dend || poll(&pf, 1, 50) != 1)
			break;
		ssize_t k = read(p[0], out + nout, sizeof(out) - 1 - nout);
		if (k <= 0)
			break;
		nout += (size_t)k;
	}
	out[nout] = 0;
	int fail = 0;
	if (nout)
		printf("plugin output:\n%s%s", out, out[nout - 1] == '\n' ? "" : "\n");
	if (hung) {
		printf("FAIL %s: the host did not end within %d s\n", argv[1], LIMIT_S);
		fail = 1;
	} else if (WIFSIGNALED(st)) {
		printf("FAIL %s: the host died of signal %d\n", argv[1], WTERMSIG(st));
		fail = 1;
	} else if (WEXITSTATUS(st) == 77) {
		return 77;
	} else if (WEXITSTATUS(st) != 0) {
		printf("FAIL %s: the host's own checks failed (exit %d)\n", argv[1], WEXITSTATUS(st));
		fail = 1;
	}
	if (memmem(out, nout, hex, 16)) {
		printf("FAIL %s: the secret is in the plugin's output\n", argv[1]);
		fail = 1;
	}
	if (nl > 0) {
		printf("FAIL %s: %d process(es) left behind:", argv[1], nl);
		for (int i = 0; i < nl; i++)
			printf(" %d", (int)left[i]);
		printf("\n");
		fail = 1;
	}
	usleep(100000);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	printf("%s: %s\n", argv[1], fail ? "NOT DEFENDED" : "defended");
	return fail;
}
