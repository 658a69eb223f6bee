/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pkbox-run - run a plugin's entry point in a compartment of a sealed process.
 *
 *   pkbox-run [OPTIONS] PLUGIN.so [SYMBOL] [-- ARGS...]
 *
 * Seals the process, then loads PLUGIN.so into a fresh compartment (its
 * constructors run inside, under the policy) and calls
 * int SYMBOL(int argc, char **argv) (default pkbox_main) inside it, with
 * argv[0] the plugin's path and ARGS after it, in compartment memory.
 *
 * Exit status: the plugin's return value (0-255); 86 when it was stopped for
 * a violation (after one line "pkbox-run: violation: ..."); 65 when it was
 * refused at load; 64 for usage errors.  See pkbox-run(1).
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "pkeysbox.h"

#define EX_USAGE_ 64
#define EX_REFUSED 65
#define EX_VIOLATION 86

static void usage(FILE *f)
{
	fprintf(f, "usage: pkbox-run [OPTIONS] PLUGIN.so [SYMBOL] [-- ARGS...]\n"
		   "  --allow-write=PATH           the plugin may write files beneath PATH (repeatable;\n"
		   "                               without it, no file at all)\n"
		   "  --backend=auto|pku|mprotect  how compartments are kept apart (default auto)\n"
		   "  --canary                     put 32 random bytes in the host's private memory, pass\n"
		   "                               their address in PKBOX_CANARY, report whether they changed\n"
		   "  --no-seal                    run without the seccomp policy (for comparison only)\n"
		   "  --timeout=SECONDS            stop the plugin after this long (a violation)\n"
		   "  -h, --help                   this text\n"
		   "Calls int SYMBOL(int argc, char **argv) (default pkbox_main) in a compartment.\n"
		   "Exit: the plugin's value; 86 violation; 65 refused at load; 64 usage.\n");
}

struct call {
	int (*fn)(int, char **);
	int argc;
	char **argv;
};

/* runs inside the compartment */
static intptr_t trampoline(void *a)
{
	struct call *c = a;

	return c->fn(c->argc, c->argv);
}

/* After the plugin has run, pkbox-run trusts nothing a compartment may
 * have written: no stdio (FILEs, printf's tables), no exit handlers.  It
 * builds its lines by hand, writes them and leaves with raw syscalls. */
struct line {
	char b[512];
	size_t n;
};

static void cat(struct line *l, const char *s)
{
	while (s && *s && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = *s++;
}

static void cat_num(struct line *l, uint64_t v, unsigned base, const char *prefix)
{
	char d[24];
	int k = 0;

	cat(l, prefix);
	do {
		d[k++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (k && l->n < sizeof(l->b) - 1)
		l->b[l->n++] = d[--k];
}

static void cat_int(struct line *l, long v)
{
	if (v < 0) {
		cat(l, "-");
		cat_num(l, 0 - (uint64_t)v, 10, "");
	} else {
		cat_num(l, (uint64_t)v, 10, "");
	}
}

static long raw_syscall3(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static void emit(struct line *l)
{
	cat(l, "\n");
	for (size_t off = 0; off < l->n;) {
		long w = raw_syscall3(1 /* write */, 2, (long)(l->b + off), (long)(l->n - off));

		if (w <= 0)
			break;
		off += (size_t)w;
	}
	l->n = 0;
}

/* the one exit the seal lets through (PKBOX_SEAL_NO_EXIT) */
__attribute__((noreturn)) static void leave(int status)
{
	pkbox_exit(status);
}

static void hex(const uint8_t *b, size_t n, struct line *l)
{
	for (size_t i = 0; i < n; i++) {
		cat_num(l, b[i] >> 4, 16, "");
		cat_num(l, b[i] & 15, 16, "");
	}
}

/* what a refused syscall that ends the process was for (x86-64 numbers) */
static const char *ends_process(uint64_t nr)
{
	switch (nr) {
	case 231: return ": it tried to end the process (exit_group: exit(), _exit())";
	case 60: return ": it tried to end its thread (exit)";
	case 234: return ": it tried to signal its own process (tgkill: abort(), raise())";
	case 200: return ": it tried to signal a thread (tkill)";
	case 62: return ": it tried to signal a process (kill)";
	default: return "";
	}
}

static const char *access_name(const struct pkbox_fault *f)
{
	if (f->signo == 4 /* SIGILL */)
		return "forbidden instruction";
	switch (f->access) {
	case PKBOX_FAULT_READ: return "read";
	case PKBOX_FAULT_WRITE: return "write";
	case PKBOX_FAULT_EXEC: return "exec";
	default: return "fault";
	}
}

struct run {
	struct pkbox_domain *dom;
	struct call *c;
	unsigned int timeout_ms;
	int canary, seal;
	uint8_t *secret, *copy;
	const char *sym;
	int argc;       /* the plugin's, argv[0] included */
	char **argv;    /* copies, in this struct's memory */
	char path[];
};

static void canary_line(const struct run *r, struct line *l)
{
	bool same = true;

	if (!r->canary)
		return;
	for (int i = 0; i < 32; i++)
		same &= r->secret[i] == r->copy[i];
	cat(l, "pkbox-run: canary ");
	hex(r->copy, 32, l);
	cat(l, same ? " intact" : " modified");
	emit(l);
}

/* A line, the canary's, and the exit. */
__attribute__((noreturn)) static void end(const struct run *r, const char *what, const char *msg, int status)
{
	struct line l = { .n = 0 };

	cat(&l, what);
	cat(&l, msg);
	emit(&l);
	canary_line(r, &l);
	leave(status);
}

static void violation_line(const struct run *r, int rc, struct line *l)
{
	PKBOX_OPTS(pkbox_fault, f);
	const char *stop = strstr(pkbox_last_error(), " stopped: ");

	cat(l, "pkbox-run: violation: domain ");
	if ((rc == -EFAULT || rc == -ETIMEDOUT) && !pkbox_last_fault(r->dom, &f)) {
		cat(l, f.domain);
		if (f.signo == PKBOX_TIMEOUT_SIGNAL) {
			cat_num(l, r->timeout_ms, 10, ": out of time after ");
			cat_num(l, f.ip, 16, " ms (at 0x");
			cat(l, ")");
		} else if (f.signo == 31 /* SIGSYS: a refused syscall */) {
			cat(l, ": syscall ");
			cat_num(l, f.addr, 10, "");
			cat(l, " refused by the policy (at ");
			cat_num(l, f.ip, 16, "0x");
			cat(l, ")");
			cat(l, ends_process(f.addr));
		} else if (f.signo == 4 /* SIGILL */ && stop) {
			/* exit(), abort() and the like, stopped (the library's message) */
			cat(l, ": ");
			cat(l, stop + strlen(" stopped: "));
			cat_num(l, f.ip, 16, " (at 0x");
			cat(l, ")");
		} else {
			cat(l, ": ");
			cat(l, access_name(&f));
			cat_num(l, f.addr, 16, " at 0x");
			cat(l, " (owner ");
			cat(l, f.owner[0] ? f.owner : "none");
			cat(l, ", key ");
			cat_int(l, f.pkey);
			cat(l, ", signal ");
			cat_int(l, f.signo);
			cat_num(l, f.ip, 16, ", at 0x");
			cat(l, ")");
		}
	} else {
		cat(l, r->path);
		cat(l, ": ");
		cat(l, pkbox_last_error());
	}
	emit(l);
}

/* Loads the plugin (after the seal: its constructors run under the policy)
 * and puts its arguments in its memory; ends the process if that fails. */
static void load(struct run *r)
{
	/* (--timeout times the entry point only: a constructor that spins
	 * keeps pkbox-run waiting, as an entry point does without --timeout) */
	PKBOX_OPTS(pkbox_plugin_opts, po, .flags = r->seal ? 0 : PKBOX_PLUGIN_UNSEALED);
	struct pkbox_plugin *pl = pkbox_plugin_load(r->path, NULL, &po);

	if (!pl) /* a constructor stopped inside is a violation; the rest a refusal */
		end(r, errno == EFAULT || errno == ETIMEDOUT ? "pkbox-run: violation: " : "pkbox-run: refused: ",
		    pkbox_last_error(), errno == EFAULT || errno == ETIMEDOUT ? EX_VIOLATION : EX_REFUSED);
	r->dom = pkbox_plugin_domain(pl);
	void *fn = pkbox_plugin_sym(pl, r->sym);
	if (!fn)
		end(r, "pkbox-run: refused: ", pkbox_last_error(), EX_REFUSED);
	char **pargv = pkbox_calloc(r->dom, (size_t)r->argc + 1, sizeof(char *));
	r->c = pkbox_calloc(r->dom, 1, sizeof(*r->c));
	for (int i = 0; pargv && i < r->argc; i++)
		if (!(pargv[i] = pkbox_copy_in(r->dom, r->argv[i], strlen(r->argv[i]) + 1)))
			pargv = NULL;
	/* the plugin's constructors ran: what they used up (memory, mappings)
	 * is the plugin's doing */
	if (!pargv || !r->c)
		end(r, "pkbox-run: violation: after the plugin's constructors ran, ", pkbox_last_error(), EX_VIOLATION);
	r->c->fn = (int (*)(int, char **))fn;
	r->c->argc = r->argc;
	r->c->argv = pargv;
}

/* On pkbox_host_run()'s stack: the load, the call, the report, the exit.
 * Everything it uses is in the host's private domain or in the library's
 * state. */
__attribute__((noreturn)) static intptr_t run_plugin(void *a)
{
	struct run *r = a;
	intptr_t ret = 0;

	load(r);
	int rc = r->timeout_ms ? pkbox_call_timed(r->dom, trampoline, r->c, &ret, r->timeout_ms)
			       : pkbox_call(r->dom, trampoline, r->c, &ret);
	int status = (int)(ret & 0xff);
	struct line l = { .n = 0 };

	if (rc) {
		violation_line(r, rc, &l);
		status = EX_VIOLATION;
	}
	canary_line(r, &l);
	leave(status);
}

/* What run_plugin() needs, copied into the host's private domain: nothing
 * of it stays in memory a constructor could write. */
static struct run *prepare(const char *path, const char *sym, int pargc, char **pargs)
{
	size_t need = sizeof(struct run) + strlen(path) + 1 + strlen(sym) + 1 + 8 + ((size_t)pargc + 1) * sizeof(char *);

	for (int i = 1; i < pargc; i++)
		need += strlen(pargs[i - 1]) + 1;
	struct run *r = pkbox_calloc(pkbox_host_domain(), 1, need);
	if (!r)
		return NULL;
	char *p = r->path;
	p = stpcpy(p, path) + 1;
	r->sym = p;
	p = stpcpy(p, sym) + 1;
	r->argv = (char **)(((uintptr_t)p + 7) & ~(uintptr_t)7);
	p = (char *)(r->argv + pargc + 1);
	r->argc = pargc;
	r->argv[0] = r->path;
	for (int i = 1; i < pargc; i++) {
		r->argv[i] = p;
		p = stpcpy(p, pargs[i - 1]) + 1;
	}
	return r;
}

/* what the command line asks for */
struct args {
	enum pkbox_backend be;
	int canary, seal;
	unsigned int timeout_ms;
	const char **allow; /* where the plugin may write files: nowhere unless --allow-write */
	int nallow;
	const char *path, *sym;
	int pargc;
	char **pargv;
};

static int parse_backend(const char *s, enum pkbox_backend *be)
{
	if (!strcmp(s, "auto"))
		*be = PKBOX_BACKEND_AUTO;
	else if (!strcmp(s, "pku"))
		*be = PKBOX_BACKEND_PKU;
	else if (!strcmp(s, "mprotect"))
		*be = PKBOX_BACKEND_MPROTECT;
	else {
		fprintf(stderr, "pkbox-run: --backend=%s: expected auto, pku or mprotect\n", s);
		return -1;
	}
	return 0;
}

static int parse_timeout(const char *s, unsigned int *ms)
{
	char *end = NULL;
	double sec = strtod(s, &end);

	if (!end || end == s || *end || !(sec >= 0.001) || sec > 4000000.0) {
		fprintf(stderr, "pkbox-run: --timeout=%s: expected seconds, 0.001 to 4000000\n", s);
		return -1;
	}
	*ms = (unsigned int)(sec * 1000.0 + 0.5);
	return 0;
}

/* PLUGIN.so [SYMBOL] [-- ARGS...] after the options */
static int parse_operands(int argc, char **argv, struct args *a)
{
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	a->path = argv[optind++];
	a->sym = "pkbox_main";
	if (optind < argc && strcmp(argv[optind], "--"))
		a->sym = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	else if (optind < argc) {
		fprintf(stderr, "pkbox-run: unexpected %s (plugin arguments go after --)\n", argv[optind]);
		return -1;
	}
	a->pargc = 1 + (argc - optind);
	a->pargv = argv + optind;
	return 0;
}

/* 0, 1 when --help was answered, -1 on a usage error */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "allow-write", required_argument, NULL, 'w' },
		{ "backend", required_argument, NULL, 'b' },
		{ "canary", no_argument, NULL, 'c' },
		{ "no-seal", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	*a = (struct args){ .be = PKBOX_BACKEND_AUTO, .seal = 1 };
	a->allow = calloc((size_t)argc + 1, sizeof(*a->allow));
	if (!a->allow)
		return -1;
	while ((o = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (o) {
		case 'b': if (parse_backend(optarg, &a->be)) return -1; break;
		case 'c': a->canary = 1; break;
		case 'w': a->allow[a->nallow++] = optarg; break;
		case 'n': a->seal = 0; break;
		case 't': if (parse_timeout(optarg, &a->timeout_ms)) return -1; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	return parse_operands(argc, argv, a);
}

/* 32 random bytes in the host's private domain, their address in
 * PKBOX_CANARY, and a copy to compare with afterwards */
static int make_canary(struct run *r)
{
	r->secret = pkbox_malloc(pkbox_host_domain(), 32);
	r->copy = pkbox_malloc(pkbox_host_domain(), 32);
	if (!r->secret || !r->copy || getrandom(r->secret, 32, 0) != 32) {
		fprintf(stderr, "pkbox-run: cannot make the canary: %s\n", pkbox_last_error());
		return -1;
	}
	memcpy(r->copy, r->secret, 32);
	/* what the self-test can expect here (pkbox_key0_protected(3)) */
	const char *why = "";
	if (pkbox_key0_protected(&why))
		fprintf(stderr, "pkbox-run: key-0 memory: read-only in the compartment\n");
	else
		fprintf(stderr, "pkbox-run: key-0 memory: writable by the plugin (%s); "
				"pkbox-run's own frames are out of its reach\n", why);
	char v[32];
	snprintf(v, sizeof(v), "%#lx", (unsigned long)(uintptr_t)r->secret);
	setenv("PKBOX_CANARY", v, 1);
	return 0;
}

/* The strict seal: pkbox-run needs no signal handler to return, makes no
 * thread, changes no mapping and blocks no signal once sealed, and ends
 * only through pkbox_exit(), so forged signal frames, compartment threads,
 * rewritten GOTs and a plugin that ends the process are refused; and its
 * report goes to the stderr it was started with. */
static int seal_strict(const char **allow)
{
	PKBOX_OPTS(pkbox_seal_opts, so,
		   .flags = PKBOX_SEAL_STOP_ON_REFUSAL | PKBOX_SEAL_NO_SIGRETURN | PKBOX_SEAL_NO_THREADS |
			    PKBOX_SEAL_NO_REMAP | PKBOX_SEAL_NO_EXIT | PKBOX_SEAL_KEEP_STDIO,
		   .allow_write = allow);

	if (pkbox_seal(&so)) {
		fprintf(stderr, "pkbox-run: cannot seal: %s\n", pkbox_last_error());
		return -1;
	}
	return 0;
}

/* the library, and what the load and the call need, in the host's private
 * domain */
static struct run *set_up(const struct args *a)
{
	PKBOX_OPTS(pkbox_config, cfg, .backend = a->be,
		   .flags = a->be == PKBOX_BACKEND_AUTO ? 0 : PKBOX_F_IGNORE_ENV);

	if (pkbox_init(&cfg)) {
		fprintf(stderr, "pkbox-run: %s\n", pkbox_last_error());
		return NULL;
	}
	struct run *r = prepare(a->path, a->sym, a->pargc, a->pargv);
	if (!r) {
		fprintf(stderr, "pkbox-run: %s\n", pkbox_last_error());
		return NULL;
	}
	r->canary = a->canary;
	r->seal = a->seal;
	r->timeout_ms = a->timeout_ms;
	if (a->canary && make_canary(r))
		return NULL;
	return r;
}

int main(int argc, char **argv)
{
	struct args a;

	/* the process is sealed with eager binding only (see pkbox_seal(3)) */
	if (!getenv("LD_BIND_NOW")) {
		setenv("LD_BIND_NOW", "1", 1);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "pkbox-run: cannot re-execute itself with LD_BIND_NOW=1: %s\n", strerror(errno));
		return EX_USAGE_;
	}
	int p = parse_args(argc, argv, &a);
	if (p)
		return p > 0 ? 0 : EX_USAGE_;
	struct run *r = set_up(&a);
	if (!r)
		return EX_USAGE_;
	/* a plugin writing into a closed pipe gets EPIPE, not pkbox-run's end */
	signal(SIGPIPE, SIG_IGN);
	if (a.seal && seal_strict(a.allow))
		return EX_USAGE_;
	if (!a.seal)
		fprintf(stderr, "pkbox-run: running WITHOUT the seccomp policy (--no-seal): for comparison only\n");
	fflush(stdout);
	fflush(stderr);
	/* the load (its constructors), the call and everything after them, on
	 * a stack in the host's private domain: run_plugin() ends the process
	 * and never comes back to this stack, which the plugin may have written
	 * (key-0 memory) */
	int rc = pkbox_host_run(run_plugin, r, 0, NULL);
	struct line l = { .n = 0 };
	cat(&l, "pkbox-run: ");
	cat(&l, rc ? pkbox_last_error() : "the call returned to a stack the plugin could write");
	emit(&l);
	leave(EX_USAGE_);
}
