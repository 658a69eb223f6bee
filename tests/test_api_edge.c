/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_api_edge.c - the public API's edge, held to its promises (one API
 * edge; option structs the libbpf way), through
 * include/pkeysbox.h alone:
 *
 *  1. a successful call leaves errno and pkbox_last_error() as they were;
 *     a failed one returns the documented -errno (NULL for a pointer), sets
 *     errno to it and leaves a message that names the function or the
 *     problem, and the library keeps working afterwards;
 *  2. the error paths of every exported function: NULL pointers, bad sizes,
 *     unknown, destroyed and forged handles, double and foreign frees, bad
 *     flags and enums, calls refused before or after the seal, bad plugins;
 *  3. option structs the libbpf way (struct pkbox_config, pkbox_domain_opts,
 *     pkbox_plugin_opts, pkbox_seal_opts in; pkbox_info, pkbox_fault,
 *     pkbox_refusal out): an sz below the first version's is refused, no
 *     byte past sz is read (or, out, written), a larger struct is accepted
 *     with a zero tail and refused with a non-zero one.
 *
 * One function per exported function, check_<name>().  The library can be
 * set up once per process, sealing is one-way, and a child gets none of the
 * library's memory (MADV_DONTFORK): so this process never calls the
 * library, and every case runs in a child of its own, IN_CHILD(...) { },
 * which starts from nothing; a child that dies is a failure, not the end.
 * Each failed expectation prints one line, "function: call: what"; the
 * program goes on, and exits 1 if any failed.
 *
 * With PKBOX_EDGE_ERRNO_LOG=file it appends "function expected|observed
 * ENAME" for every error path it walks; tests/check-man-errors.py checks
 * those against the ERRORS sections of the man pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkeysbox.h"

/*
 * How a caller declares an option struct.  include/pkeysbox.h provides
 * PKBOX_OPTS; without it, this stand-in.  libbpf's LIBBPF_OPTS
 * does more: it memsets the whole struct to zero first, padding included
 * (a designated initializer leaves padding unspecified, and a later, larger
 * library would read it as fields), then assigns .sz and the fields given.
 */
#ifdef PKBOX_OPTS
/* the header's */
#else
#define PKBOX_OPTS(TYPE, NAME, ...) struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }
#endif

/*
 * The first version of each struct: the smallest sz the library must take.
 * Inputs: the fields as first released (the library's own checks say which
 * came later); outputs: the struct as released (no field added since).
 */
#define OFFSETOFEND(T, F) (offsetof(struct T, F) + sizeof(((struct T *)0)->F))
#define CONFIG_V1 OFFSETOFEND(pkbox_config, stack_size)     /* the whole first struct: 32 */
#define DOMAIN_OPTS_V1 OFFSETOFEND(pkbox_domain_opts, quota) /* 16 */
#define PLUGIN_OPTS_V1 OFFSETOFEND(pkbox_plugin_opts, heap)  /* flags, timeout_ms came later: 24 */
#define SEAL_OPTS_V1 16 /* { sz, flags } as compiled: 12 bytes of fields, 4 of padding; allow_write came later */
#define INFO_V1 sizeof(struct pkbox_info)                     /* 232 (its fields end at 228) */
#define FAULT_V1 offsetof(struct pkbox_fault, owner)         /* owner came later: 72 */
#define REFUSAL_V1 offsetof(struct pkbox_refusal, ip)        /* ip came later: 56 */

#define SENT 12345 /* errno before every call */
#define PAGE_SZ 4096

/* ------------------------------------------------------------------ */
/* The harness                                                          */

/* shared by every child: what was checked and what failed */
static struct counters {
	int checks, fails;
	int atexit_ran;
} *cnt;
static int errlog_fd = -1;
static char plugin_dir[PATH_MAX];
static char exe_dir[PATH_MAX];

static const char *cur_case; /* in a child: the IN_CHILD case it runs */

static void fail(const char *fn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *fn, const char *fmt, ...)
{
	va_list ap;

	if (cur_case)
		printf("%s: [%s] ", fn, cur_case);
	else
		printf("%s: ", fn);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	__atomic_add_fetch(&cnt->fails, 1, __ATOMIC_SEQ_CST);
}

static void counted(void)
{
	__atomic_add_fetch(&cnt->checks, 1, __ATOMIC_SEQ_CST);
}

#define ERRNO_NAMES(X)                                                                                          \
	X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD) X(EAGAIN)       \
	X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY) X(EEXIST) X(ENODEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE)         \
	X(EMFILE) X(ENOTTY) X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS) X(ERANGE) X(EDEADLK) X(ENAMETOOLONG) X(ENOSYS)    \
	X(ELOOP) X(ENODATA) X(EOVERFLOW) X(ENOTSUP) X(EALREADY) X(ETIMEDOUT) X(EDQUOT) X(ENOTRECOVERABLE)          \
	X(ECANCELED) X(ENOTEMPTY) X(ETXTBSY)

static const char *ename(int e);

/* "16 EBUSY", "0" */
static const char *enum_str(int e)
{
	static char s[4][32];
	static int n;
	const char *name = ename(e);

	n = (n + 1) % 4;
	if (!strncmp(name, "errno ", 6))
		snprintf(s[n], sizeof(s[n]), "%d", e);
	else
		snprintf(s[n], sizeof(s[n]), "%d %s", e, name);
	return s[n];
}

static const char *ename(int e)
{
	static char other[4][16];
	static int n;

	switch (e) {
#define X(E) case E: return #E;
	ERRNO_NAMES(X)
#undef X
	}
	n = (n + 1) % 4;
	snprintf(other[n], sizeof(other[n]), "errno %d", e);
	return other[n];
}

/* one line for tests/check-man-errors.py */
static void errlog(const char *fn, const char *kind, int e)
{
	char line[128];
	int n;

	if (errlog_fd < 0 || e <= 0 || e >= 4096 || e == SENT)
		return;
	n = snprintf(line, sizeof(line), "%s %s %s\n", fn, kind, ename(e));
	if (write(errlog_fd, line, (size_t)n) < 0)
		return;
}

/*
 * A message of our own in pkbox_last_error(), made without setting the
 * library up or touching its state (pkbox_inspect() with out NULL and a
 * max puts the number in its message): a call that leaves it is one that
 * set no message, a call that changes it one that did.
 */
static char primed[256];
static void prime(void)
{
	static unsigned long n = 1000000;

	pkbox_inspect("", 0, NULL, ++n);
	snprintf(primed, sizeof(primed), "%s", pkbox_last_error());
}

/* A success: errno and the message as they were. */
static void success_check(const char *fn, const char *expr, bool ok, long rc, int e)
{
	const char *m = pkbox_last_error();

	counted();
	if (!ok)
		fail(fn, "%s: failed (returned %ld, errno %s: \"%s\")", expr, rc, enum_str(e), m);
	if (e != SENT)
		fail(fn, "%s: success left errno %s (was %d)", expr, enum_str(e), SENT);
	if (strcmp(m, primed))
		fail(fn, "%s: success changed pkbox_last_error() to \"%s\"", expr, m);
}

/* Does msg name fn, or one of the '|'-separated words of what? */
static bool names(const char *msg, const char *fn, const char *what)
{
	char w[256], *save = NULL;

	if (strstr(msg, fn))
		return true;
	if (!what)
		return false;
	snprintf(w, sizeof(w), "%s", what);
	for (char *t = strtok_r(w, "|", &save); t; t = strtok_r(NULL, "|", &save))
		if (strstr(msg, t))
			return true;
	return false;
}

/* A failure: errno == want and a fresh message that names fn or what. */
static void failure_common(const char *fn, const char *expr, int e, int want, const char *what)
{
	const char *m = pkbox_last_error();

	errlog(fn, "expected", want);
	errlog(fn, "observed", e);
	if (e != want)
		fail(fn, "%s: errno %s, expected %s", expr, e == SENT ? "left at 12345" : enum_str(e), ename(want));
	if (!*m)
		fail(fn, "%s: failed with no message (pkbox_last_error() is empty)", expr);
	else if (!strcmp(m, primed))
		fail(fn, "%s: failed without a message of its own (pkbox_last_error() still \"%s\")", expr, m);
	else if (!names(m, fn, what))
		fail(fn, "%s: message \"%s\" names neither %s nor the problem (%s)", expr, m, fn, what ? what : "");
}

static void failure_int(const char *fn, const char *expr, long rc, int e, int want, const char *what)
{
	counted();
	if (rc >= 0) { /* one line: what follows from it is no news */
		errlog(fn, "expected", want);
		fail(fn, "%s: returned %ld, expected -%s", expr, rc, ename(want));
		return;
	}
	errlog(fn, "observed", (int)-rc);
	if (rc != -want)
		fail(fn, "%s: returned -%s, expected -%s", expr, ename((int)-rc), ename(want));
	failure_common(fn, expr, e, want, what);
}

static void failure_ptr(const char *fn, const char *expr, const void *p, int e, int want, const char *what)
{
	counted();
	if (p) {
		errlog(fn, "expected", want);
		fail(fn, "%s: succeeded (%p), expected NULL with errno %s", expr, p, ename(want));
		return;
	}
	failure_common(fn, expr, e, want, what);
}

/* int functions: >= 0 on success */
#define OK_INT(FN, CALL) ({                                                           \
	prime();                                                                        \
	errno = SENT;                                                                   \
	long v_ = (long)(CALL);                                                         \
	int e_ = errno;                                                                 \
	success_check(FN, #CALL, v_ >= 0, v_, e_);                                      \
	(int)v_;                                                                        \
})
/* pointer functions: non-NULL on success */
#define OK_PTR(FN, CALL) ({                                                           \
	prime();                                                                        \
	errno = SENT;                                                                   \
	__typeof__(CALL) v_ = (CALL);                                                   \
	int e_ = errno;                                                                 \
	success_check(FN, #CALL, v_ != NULL, (long)(uintptr_t)v_, e_);                  \
	v_;                                                                             \
})
/* functions with no failure value: errno and the message untouched */
#define KEEP(FN, CALL) ({                                                             \
	prime();                                                                        \
	errno = SENT;                                                                   \
	__typeof__(CALL) v_ = (CALL);                                                   \
	int e_ = errno;                                                                 \
	success_check(FN, #CALL, true, 0, e_);                                          \
	v_;                                                                             \
})
#define ERR_INT(FN, CALL, E, WHAT) ({                                                 \
	prime();                                                                        \
	errno = SENT;                                                                   \
	long v_ = (long)(CALL);                                                         \
	int e_ = errno;                                                                 \
	failure_int(FN, #CALL, v_, e_, E, WHAT);                                        \
	(int)v_;                                                                        \
})
#define ERR_PTR(FN, CALL, E, WHAT) ({                                                 \
	prime();                                                                        \
	errno = SENT;                                                                   \
	__typeof__(CALL) v_ = (CALL);                                                   \
	int e_ = errno;                                                                 \
	failure_ptr(FN, #CALL, v_, e_, E, WHAT);                                        \
	v_;                                                                             \
})
/* a plain expectation */
#define EXPECT(FN, COND, ...) do {                                                    \
	counted();                                                                      \
	if (!(COND))                                                                    \
		fail(FN, __VA_ARGS__);                                                  \
} while (0)

/*
 * IN_CHILD(fn, "what") { ... } runs the block in a new process, which
 * starts with the library not set up, and waits for it.  A child that
 * dies (a signal, an exit of its own) is a failure of fn.  No return or
 * break out of the block.
 */
static int case_begin(const char *fn, const char *what, int want_status)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fail(fn, "%s: fork failed: %s", what, strerror(errno));
		return 0;
	}
	if (pid == 0) {
		cur_case = what;
		alarm(60);
		return 1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	counted();
	if (WIFSIGNALED(st))
		fail(fn, "[%s] the process died of signal %d (%s)", what, WTERMSIG(st), strsignal(WTERMSIG(st)));
	else if (WEXITSTATUS(st) != want_status)
		fail(fn, "[%s] the process exited with %d, expected %d%s", what, WEXITSTATUS(st), want_status,
		     WEXITSTATUS(st) == 1 ? " (a sanitizer's report? see stderr)" : "");
	return 0;
}

static int case_end(void)
{
	fflush(stdout);
	fflush(stderr);
	_exit(0);
	return 0;
}

#define IN_CHILD_STATUS(FN, WHAT, STATUS) for (int once_ = case_begin(FN, WHAT, STATUS); once_; once_ = case_end())
#define IN_CHILD(FN, WHAT) IN_CHILD_STATUS(FN, WHAT, 0)

/* Two pages, the second PROT_NONE: where an object of sz bytes ends at the guard. */
static void *at_page_end(size_t sz)
{
	char *p = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + PAGE_SZ, PAGE_SZ, PROT_NONE)) {
		perror("at_page_end");
		_exit(2);
	}
	return p + PAGE_SZ - sz;
}

static intptr_t fn_ret(void *a);

/* After the error paths: the library still does its ordinary work. */
static void still_works(const char *fn)
{
	struct pkbox_domain *d = pkbox_domain_create("still-works", NULL);
	intptr_t r = 0;
	char *p;

	counted();
	if (!d) {
		fail(fn, "after the error paths, pkbox_domain_create fails: %s", pkbox_last_error());
		return;
	}
	p = pkbox_malloc(d, 64);
	if (!p)
		fail(fn, "after the error paths, pkbox_malloc fails: %s", pkbox_last_error());
	else
		memset(p, 1, 64);
	int rc = pkbox_call(d, fn_ret, (void *)41, &r);
	if (rc || r != 42)
		fail(fn, "after the error paths, pkbox_call returns %d (%ld): %s", rc, (long)r, pkbox_last_error());
	if (p && pkbox_free(d, p))
		fail(fn, "after the error paths, pkbox_free fails: %s", pkbox_last_error());
	if (pkbox_domain_destroy(d))
		fail(fn, "after the error paths, pkbox_domain_destroy fails: %s", pkbox_last_error());
}

static bool seal_for(const char *fn)
{
	if (pkbox_seal(NULL)) {
		fail(fn, "cannot seal for the checks: %s", pkbox_last_error());
		return false;
	}
	return true;
}

static const char *plugin(const char *name)
{
	static char p[4][PATH_MAX + 64];
	static int n;

	n = (n + 1) % 4;
	snprintf(p[n], sizeof(p[n]), "%s/%s", plugin_dir, name);
	return p[n];
}

/* a handle no one was given: a live domain's with the next generation */
static struct pkbox_domain *forged(struct pkbox_domain *live)
{
	return (struct pkbox_domain *)((uintptr_t)live + ((uintptr_t)1 << 16));
}

static struct pkbox_domain *const bogus = (struct pkbox_domain *)(uintptr_t)0x7f0001;

/* ------------------------------------------------------------------ */
/* Code that runs inside compartments                                   */

static intptr_t fn_ret(void *a)
{
	return (intptr_t)a + 1;
}

static intptr_t fn_read(void *a)
{
	return *(volatile char *)a;
}

static intptr_t fn_spin(void *a)
{
	(void)a;
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 0;
}

static intptr_t fn_refused_syscall(void *a)
{
	(void)a;
	/* execve is refused by the policy; unsealed it fails on the path */
	return syscall(SYS_execve, "/nonexistent/pkbox-edge", NULL, NULL);
}

static const unsigned char ret_insn[] = { 0xc3 };       /* ret */
static const unsigned char wrpkru_insn[] = { 0x0f, 0x01, 0xef, 0xc3 }; /* wrpkru; ret */

/* A library call made inside a compartment, its result written to the
 * compartment's own memory (r, allocated in its domain). */
enum { OP_CALL = 1, OP_CALL_TIMED, OP_HOST_RUN, OP_CODE_COMMIT, OP_HOST_CALL };
struct inside {
	int op;
	struct pkbox_domain *dom;
	int id;
	void *arg;
	long rc;
	int err;
	intptr_t ret;
	char primed[160], msg[160];
};

static void copy_str(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	for (; i + 1 < n && src[i]; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static intptr_t inside_op(void *a)
{
	struct inside *r = a;

	pkbox_inspect("", 0, NULL, 4242); /* a message of our own first (see prime()) */
	copy_str(r->primed, sizeof(r->primed), pkbox_last_error());
	errno = SENT;
	switch (r->op) {
	case OP_CALL:
		r->rc = pkbox_call(r->dom, fn_ret, NULL, NULL);
		break;
	case OP_CALL_TIMED:
		r->rc = pkbox_call_timed(r->dom, fn_ret, NULL, NULL, 100);
		break;
	case OP_HOST_RUN:
		r->rc = pkbox_host_run(fn_ret, NULL, 0, NULL);
		break;
	case OP_CODE_COMMIT:
		r->rc = pkbox_code_commit(r->dom, ret_insn, sizeof(ret_insn)) ? 0 : -1;
		break;
	case OP_HOST_CALL:
		r->rc = pkbox_host_call(r->id, r->arg, &r->ret);
		break;
	}
	r->err = errno;
	copy_str(r->msg, sizeof(r->msg), pkbox_last_error());
	return 0;
}

/* Runs op inside d; want 0: a success, else a failure with -want. */
static void inside_expect(const char *fn, const char *what, struct pkbox_domain *d, struct inside *op, int want,
			  const char *words)
{
	intptr_t r = 0;
	int rc = pkbox_call(d, inside_op, op, &r);
	char expr[200];

	snprintf(expr, sizeof(expr), "%s (from inside a compartment)", what);
	counted();
	if (rc) {
		fail(fn, "%s: the compartment did not run: %d %s", expr, rc, pkbox_last_error());
		return;
	}
	if (!want) {
		if (op->rc < 0)
			fail(fn, "%s: failed (returned %ld, errno %s: \"%s\")", expr, op->rc, enum_str(op->err), op->msg);
		if (op->err != SENT)
			fail(fn, "%s: success left errno %s (was %d)", expr, enum_str(op->err), SENT);
		if (strcmp(op->msg, op->primed))
			fail(fn, "%s: success changed pkbox_last_error() to \"%s\"", expr, op->msg);
		return;
	}
	errlog(fn, "expected", want);
	errlog(fn, "observed", op->err);
	if (op->op != OP_CODE_COMMIT && op->rc != -want)
		fail(fn, "%s: returned %ld, expected -%s", expr, op->rc, ename(want));
	if (op->op == OP_CODE_COMMIT && op->rc == 0)
		fail(fn, "%s: succeeded, expected NULL with errno %s", expr, ename(want));
	if (op->err != want)
		fail(fn, "%s: errno %s, expected %s", expr, op->err == SENT ? "left at 12345" : enum_str(op->err),
		     ename(want));
	if (!op->msg[0])
		fail(fn, "%s: failed with no message (pkbox_last_error() is empty)", expr);
	else if (!strcmp(op->msg, op->primed))
		fail(fn, "%s: failed without a message of its own (pkbox_last_error() still \"%s\")", expr, op->msg);
	else if (!names(op->msg, fn, words))
		fail(fn, "%s: message \"%s\" names neither %s nor the problem (%s)", expr, op->msg, fn, words);
}

static struct inside *inside_new(struct pkbox_domain *d, int op)
{
	struct inside *r = pkbox_calloc(d, 1, sizeof(*r));

	if (!r) {
		fprintf(stderr, "cannot allocate in the domain: %s\n", pkbox_last_error());
		_exit(2);
	}
	r->op = op;
	return r;
}

/* A domain whose call faults: reads host-domain memory. */
static struct pkbox_domain *faulted_domain(const char *name)
{
	struct pkbox_domain *d = pkbox_domain_create(name, NULL);
	char *host = pkbox_malloc(pkbox_host_domain(), 16);

	if (!d || !host || pkbox_call(d, fn_read, host, NULL) != -EFAULT) {
		fprintf(stderr, "cannot make a faulted domain: %s\n", pkbox_last_error());
		_exit(2);
	}
	return d;
}

static struct pkbox_domain *domain(const char *name)
{
	struct pkbox_domain *d = pkbox_domain_create(name, NULL);

	if (!d) {
		fprintf(stderr, "pkbox_domain_create(%s): %s\n", name, pkbox_last_error());
		_exit(2);
	}
	return d;
}

/* ------------------------------------------------------------------ */
/* Set-up                                                               */

static void check_pkbox_init(void)
{
	const char *fn = "pkbox_init";

	IN_CHILD(fn, "NULL, then again") {
		OK_INT(fn, pkbox_init(NULL));
		ERR_INT(fn, pkbox_init(NULL), EALREADY, "already");
		still_works(fn);
	}
	IN_CHILD(fn, "the first call of another function sets up, errno untouched") {
		OK_PTR("pkbox_host_domain", pkbox_host_domain());
		ERR_INT(fn, pkbox_init(NULL), EALREADY, "already");
	}
	IN_CHILD(fn, "a full config") {
		PKBOX_OPTS(pkbox_config, c, .backend = PKBOX_BACKEND_AUTO, .domain_quota = 1 << 20,
			   .stack_size = 128 << 10);
		OK_INT(fn, pkbox_init(&c));
		still_works(fn);
	}
	IN_CHILD(fn, "PKBOX_F_SEAL") {
		PKBOX_OPTS(pkbox_config, c, .flags = PKBOX_F_SEAL);
		OK_INT(fn, pkbox_init(&c));
		EXPECT(fn, pkbox_sealed() == 1, "pkbox_init(PKBOX_F_SEAL): the process is not sealed");
	}
	/* bad fields: each in a process of its own (a failed set-up is remembered) */
	IN_CHILD(fn, "unknown backend") {
		PKBOX_OPTS(pkbox_config, c, .backend = (enum pkbox_backend)42);
		ERR_INT(fn, pkbox_init(&c), EINVAL, "backend");
		/* remembered: later calls fail the same way */
		ERR_PTR("pkbox_host_domain", pkbox_host_domain(), EINVAL, "backend");
		ERR_INT("pkbox_signals_install", pkbox_signals_install(), EINVAL, "backend");
		ERR_PTR("pkbox_domain_create", pkbox_domain_create("x", NULL), EINVAL, "backend");
		ERR_INT(fn, pkbox_init(NULL), EINVAL, "backend");
	}
	IN_CHILD(fn, "unknown flags") {
		PKBOX_OPTS(pkbox_config, c, .flags = 1u << 20);
		ERR_INT(fn, pkbox_init(&c), EINVAL, "flag");
	}
	IN_CHILD(fn, "stack_size too small") {
		PKBOX_OPTS(pkbox_config, c, .stack_size = 4096);
		ERR_INT(fn, pkbox_init(&c), EINVAL, "stack_size");
	}
	IN_CHILD(fn, "stack_size too large") {
		PKBOX_OPTS(pkbox_config, c, .stack_size = SIZE_MAX);
		ERR_INT(fn, pkbox_init(&c), EINVAL, "stack_size");
	}
	IN_CHILD(fn, "domain_quota too large") {
		PKBOX_OPTS(pkbox_config, c, .domain_quota = (size_t)3 << 30);
		ERR_INT(fn, pkbox_init(&c), EINVAL, "quota");
	}
	IN_CHILD(fn, "PKBOX_BACKEND=bogus") {
		setenv("PKBOX_BACKEND", "bogus", 1);
		ERR_INT(fn, pkbox_init(NULL), EINVAL, "PKBOX_BACKEND");
	}
	IN_CHILD(fn, "the pku backend where there is none") {
		PKBOX_OPTS(pkbox_info, info);
		if (pkbox_probe(&info) == 0 && !(info.cpuid_pku && info.cpuid_ospke && info.kernel_pkeys)) {
			PKBOX_OPTS(pkbox_config, c, .backend = PKBOX_BACKEND_PKU);
			ERR_INT(fn, pkbox_init(&c), ENOTSUP, "pku");
		}
	}
	/* the struct, the libbpf way */
	IN_CHILD(fn, "sz 0") {
		PKBOX_OPTS(pkbox_config, c);
		c.sz = 0;
		ERR_INT(fn, pkbox_init(&c), EINVAL, "sz");
	}
	IN_CHILD(fn, "sz below the first version") {
		PKBOX_OPTS(pkbox_config, c);
		c.sz = CONFIG_V1 - 1;
		ERR_INT(fn, pkbox_init(&c), EINVAL, "sz");
	}
	IN_CHILD(fn, "sz of the first version, ending at a PROT_NONE page") {
		struct pkbox_config *c = at_page_end(CONFIG_V1);
		memset(c, 0, CONFIG_V1);
		c->sz = CONFIG_V1;
		c->backend = PKBOX_BACKEND_AUTO;
		OK_INT(fn, pkbox_init(c));
	}
	IN_CHILD(fn, "larger struct, non-zero tail") {
		struct { struct pkbox_config c; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.c.sz = sizeof(big);
		big.tail = 1;
		ERR_INT(fn, pkbox_init(&big.c), EINVAL, "sz|unknown|tail|fields");
	}
	IN_CHILD(fn, "larger struct, zero tail") {
		struct { struct pkbox_config c; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.c.sz = sizeof(big);
		OK_INT(fn, pkbox_init(&big.c));
	}
}

static void check_pkbox_backend(void)
{
	const char *fn = "pkbox_backend";

	IN_CHILD(fn, "first call sets up") {
		enum pkbox_backend b = KEEP(fn, pkbox_backend());
		EXPECT(fn, b == PKBOX_BACKEND_PKU || b == PKBOX_BACKEND_MPROTECT, "pkbox_backend(): %d", (int)b);
		enum pkbox_backend b2 = KEEP(fn, pkbox_backend());
		EXPECT(fn, b2 == b, "pkbox_backend(): %d, then %d", (int)b, (int)b2);
	}
	IN_CHILD(fn, "after a failed set-up") {
		setenv("PKBOX_BACKEND", "bogus", 1);
		prime();
		errno = SENT;
		enum pkbox_backend b = pkbox_backend();
		int e = errno;
		EXPECT(fn, b == PKBOX_BACKEND_AUTO, "pkbox_backend() after a failed set-up: %d, expected AUTO", (int)b);
		failure_common(fn, "pkbox_backend() after a failed set-up", e, EINVAL, "PKBOX_BACKEND");
	}
}

static void check_pkbox_backend_name(void)
{
	const char *fn = "pkbox_backend_name";

	IN_CHILD(fn, "names") {
		const char *n = KEEP(fn, pkbox_backend_name(PKBOX_BACKEND_PKU));
		EXPECT(fn, n && !strcmp(n, "pku"), "pkbox_backend_name(PKU): %s", n ? n : "NULL");
		n = KEEP(fn, pkbox_backend_name(PKBOX_BACKEND_MPROTECT));
		EXPECT(fn, n && !strcmp(n, "mprotect"), "pkbox_backend_name(MPROTECT): %s", n ? n : "NULL");
		n = KEEP(fn, pkbox_backend_name(PKBOX_BACKEND_AUTO));
		EXPECT(fn, n && !strcmp(n, "auto"), "pkbox_backend_name(AUTO): %s", n ? n : "NULL");
		n = KEEP(fn, pkbox_backend_name((enum pkbox_backend)-1));
		EXPECT(fn, n && !strcmp(n, "unknown"), "pkbox_backend_name(-1): %s", n ? n : "NULL");
		n = KEEP(fn, pkbox_backend_name((enum pkbox_backend)42));
		EXPECT(fn, n && !strcmp(n, "unknown"), "pkbox_backend_name(42): %s", n ? n : "NULL");
	}
}

static void check_pkbox_key0_protected(void)
{
	const char *fn = "pkbox_key0_protected";

	IN_CHILD(fn, "with and without why") {
		const char *why = NULL;
		int on = KEEP(fn, pkbox_key0_protected(&why));
		EXPECT(fn, on == 0 || on == 1, "pkbox_key0_protected(&why): %d", on);
		EXPECT(fn, why && (on ? !*why : *why != 0), "pkbox_key0_protected(&why): %d, why \"%s\"", on,
		       why ? why : "(NULL)");
		if (pkbox_backend() == PKBOX_BACKEND_MPROTECT)
			EXPECT(fn, on == 0, "pkbox_key0_protected(): %d on the mprotect backend", on);
		int on2 = KEEP(fn, pkbox_key0_protected(NULL));
		EXPECT(fn, on2 == on, "pkbox_key0_protected(NULL): %d, with why %d", on2, on);
	}
}

static void check_pkbox_probe(void)
{
	const char *fn = "pkbox_probe";

	IN_CHILD(fn, "probe") {
		PKBOX_OPTS(pkbox_info, info);
		OK_INT(fn, pkbox_probe(&info));
		EXPECT(fn, info.cpu_vendor[0] && info.kernel_release[0], "pkbox_probe: no vendor or kernel release");
		EXPECT(fn, info.backend_in_use == PKBOX_BACKEND_AUTO,
		       "pkbox_probe: backend_in_use %d before set-up (it must not set the library up)",
		       (int)info.backend_in_use);
		ERR_INT(fn, pkbox_probe(NULL), EINVAL, "NULL|info");
		info.sz = 0;
		ERR_INT(fn, pkbox_probe(&info), EINVAL, "sz");
		info.sz = INFO_V1 - 1;
		ERR_INT(fn, pkbox_probe(&info), EINVAL, "sz");
		info.sz = sizeof(size_t);
		ERR_INT(fn, pkbox_probe(&info), EINVAL, "sz");
	}
	IN_CHILD(fn, "sz of the first version, ending at a PROT_NONE page") {
		struct pkbox_info *info = at_page_end(INFO_V1);
		info->sz = INFO_V1;
		OK_INT(fn, pkbox_probe(info));
	}
	IN_CHILD(fn, "larger struct") {
		struct { struct pkbox_info i; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.i.sz = sizeof(big);
		/* an output struct: the fields this library does not know come
		 * back 0 */
		big.tail = 0x5a;
		OK_INT(fn, pkbox_probe(&big.i));
		EXPECT(fn, big.tail == 0, "pkbox_probe(sizeof + 8): left the unknown tail as it was (%#llx)",
		       (unsigned long long)big.tail);
	}
}

/* ------------------------------------------------------------------ */
/* Domains                                                              */

static void check_pkbox_domain_create(void)
{
	const char *fn = "pkbox_domain_create";

	IN_CHILD(fn, "good and bad names and options") {
		struct pkbox_domain *d = OK_PTR(fn, pkbox_domain_create("edge", NULL));
		PKBOX_OPTS(pkbox_domain_opts, o, .quota = 1 << 20);
		struct pkbox_domain *q = OK_PTR(fn, pkbox_domain_create("with-quota", &o));
		size_t quota = 0;
		if (q && !pkbox_domain_usage(q, NULL, &quota))
			EXPECT(fn, quota == 1 << 20, "pkbox_domain_create(quota 1 MiB): quota %zu", quota);
		char name31[32];
		memset(name31, 'n', 31);
		name31[31] = 0;
		struct pkbox_domain *l = OK_PTR(fn, pkbox_domain_create(name31, NULL));

		ERR_PTR(fn, pkbox_domain_create(NULL, NULL), EINVAL, "name");
		ERR_PTR(fn, pkbox_domain_create("", NULL), EINVAL, "name");
		ERR_PTR(fn, pkbox_domain_create("a-name-of-thirty-two-bytes-12345", NULL), ENAMETOOLONG, "name|long");
		o.quota = (size_t)3 << 30;
		ERR_PTR(fn, pkbox_domain_create("x", &o), EINVAL, "quota");
		o.quota = SIZE_MAX;
		ERR_PTR(fn, pkbox_domain_create("x", &o), EINVAL, "quota");
		o.quota = 0;
		o.sz = 0;
		ERR_PTR(fn, pkbox_domain_create("x", &o), EINVAL, "sz");
		o.sz = sizeof(size_t);
		ERR_PTR(fn, pkbox_domain_create("x", &o), EINVAL, "sz");
		o.sz = DOMAIN_OPTS_V1 - 1;
		ERR_PTR(fn, pkbox_domain_create("x", &o), EINVAL, "sz");
		pkbox_domain_destroy(d);
		pkbox_domain_destroy(q);
		pkbox_domain_destroy(l);
		still_works(fn);
	}
	IN_CHILD(fn, "opts of the first version, ending at a PROT_NONE page") {
		struct pkbox_domain_opts *o = at_page_end(DOMAIN_OPTS_V1);
		memset(o, 0, DOMAIN_OPTS_V1);
		o->sz = DOMAIN_OPTS_V1;
		OK_PTR(fn, pkbox_domain_create("v1", o));
	}
	IN_CHILD(fn, "larger opts") {
		struct { struct pkbox_domain_opts o; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.o.sz = sizeof(big);
		big.tail = 1;
		ERR_PTR(fn, pkbox_domain_create("tail", &big.o), EINVAL, "sz|unknown|tail|fields");
		big.tail = 0;
		OK_PTR(fn, pkbox_domain_create("zero-tail", &big.o));
	}
	IN_CHILD(fn, "until no slot or key is left") {
		struct pkbox_domain *d[64];
		int n = 0;
		while (n < 64 && (d[n] = pkbox_domain_create("many", NULL)))
			n++;
		EXPECT(fn, n >= 10 && n < 64, "pkbox_domain_create: %d domains", n);
		ERR_PTR(fn, pkbox_domain_create("one-more", NULL), ENOSPC, "slot|key");
		for (int i = 0; i < n; i++)
			pkbox_domain_destroy(d[i]);
		still_works(fn);
	}
}

static intptr_t busy_cb(void *a);
static struct pkbox_domain *busy_dom;
static void (*busy_check)(void);

/* Calls busy_check() in a host callback of busy_dom, i.e. while a thread
 * is inside busy_dom. */
static intptr_t busy_inside(void *a)
{
	intptr_t r = 0;

	pkbox_host_call((int)(intptr_t)a, NULL, &r);
	return r;
}

static intptr_t busy_cb(void *a)
{
	(void)a;
	busy_check();
	return 0;
}

static void while_inside(struct pkbox_domain *d, void (*check)(void))
{
	int id = pkbox_callback_register(d, busy_cb);

	busy_dom = d;
	busy_check = check;
	if (id < 0 || pkbox_call(d, busy_inside, (void *)(intptr_t)id, NULL))
		fail("harness", "cannot run a check inside a callback: %s", pkbox_last_error());
	pkbox_callback_unregister(d, id);
}

static void destroy_busy(void)
{
	ERR_INT("pkbox_domain_destroy", pkbox_domain_destroy(busy_dom), EBUSY, "inside|busy|in use");
}

static void check_pkbox_domain_destroy(void)
{
	const char *fn = "pkbox_domain_destroy";

	IN_CHILD(fn, "handles") {
		struct pkbox_domain *d = domain("gone");
		struct pkbox_domain *live = domain("live");
		int local;
		OK_INT(fn, pkbox_domain_destroy(d));
		ERR_INT(fn, pkbox_domain_destroy(d), ENOENT, "unknown|destroyed");   /* double destroy */
		struct pkbox_domain *again = domain("again");                       /* may reuse the slot */
		ERR_INT(fn, pkbox_domain_destroy(d), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_destroy(NULL), EINVAL, "NULL");
		ERR_INT(fn, pkbox_domain_destroy(bogus), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_destroy(forged(live)), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_destroy((struct pkbox_domain *)&local), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_destroy((struct pkbox_domain *)UINTPTR_MAX), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_destroy(pkbox_host_domain()), EINVAL, "host");
		while_inside(live, destroy_busy);
		OK_INT(fn, pkbox_domain_destroy(live));
		OK_INT(fn, pkbox_domain_destroy(again));
		still_works(fn);
	}
}

static void check_pkbox_host_domain(void)
{
	const char *fn = "pkbox_host_domain";

	IN_CHILD(fn, "the same handle") {
		struct pkbox_domain *h = OK_PTR(fn, pkbox_host_domain());
		struct pkbox_domain *h2 = OK_PTR(fn, pkbox_host_domain());
		EXPECT(fn, h == h2, "pkbox_host_domain(): %p, then %p", (void *)h, (void *)h2);
		char name[8] = "";
		pkbox_domain_name(h, name, sizeof(name));
		EXPECT(fn, !strcmp(name, "host"), "pkbox_host_domain(): named \"%s\"", name);
	}
	IN_CHILD(fn, "after a failed set-up") {
		setenv("PKBOX_BACKEND", "bogus", 1);
		ERR_PTR(fn, pkbox_host_domain(), EINVAL, "PKBOX_BACKEND");
	}
}

static void reset_busy(void)
{
	ERR_INT("pkbox_domain_reset", pkbox_domain_reset(busy_dom), EBUSY, "inside|busy|in use");
}

static void check_pkbox_domain_reset(void)
{
	const char *fn = "pkbox_domain_reset";

	IN_CHILD(fn, "reset") {
		struct pkbox_domain *d = faulted_domain("faulted");
		OK_INT(fn, pkbox_domain_reset(d));
		EXPECT(fn, pkbox_domain_faulted(d) == 0, "pkbox_domain_reset: the domain is still marked faulted");
		intptr_t r = 0;
		EXPECT(fn, pkbox_call(d, fn_ret, (void *)1, &r) == 0 && r == 2,
		       "pkbox_domain_reset: no call runs after it: %s", pkbox_last_error());
		OK_INT(fn, pkbox_domain_reset(d)); /* a domain that did not fault */
		ERR_INT(fn, pkbox_domain_reset(NULL), EINVAL, "NULL");
		ERR_INT(fn, pkbox_domain_reset(bogus), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_reset(forged(d)), ENOENT, "unknown|destroyed");
		while_inside(d, reset_busy);
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_domain_reset(d), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
	IN_CHILD(fn, "the host domain") {
		/* the host's private domain "cannot be destroyed, reset, or called into" */
		char *hm = pkbox_malloc(pkbox_host_domain(), 16);
		ERR_INT(fn, pkbox_domain_reset(pkbox_host_domain()), EINVAL, "host");
		EXPECT(fn, hm && pkbox_domain_of(hm) == pkbox_host_domain(),
		       "pkbox_domain_reset(host): freed the host domain's memory");
		still_works(fn);
	}
}

static void check_pkbox_domain_name(void)
{
	const char *fn = "pkbox_domain_name";

	IN_CHILD(fn, "buffers") {
		struct pkbox_domain *d = domain("named");
		char buf[32];
		OK_INT(fn, pkbox_domain_name(d, buf, sizeof(buf)));
		EXPECT(fn, !strcmp(buf, "named"), "pkbox_domain_name: \"%s\"", buf);
		OK_INT(fn, pkbox_domain_name(d, buf, 1));
		EXPECT(fn, buf[0] == 0, "pkbox_domain_name(len 1): \"%s\"", buf);
		ERR_INT(fn, pkbox_domain_name(d, NULL, 8), EINVAL, "buf|NULL|buffer");
		ERR_INT(fn, pkbox_domain_name(d, buf, 0), EINVAL, "len|buffer");
		ERR_INT(fn, pkbox_domain_name(NULL, buf, sizeof(buf)), EINVAL, "NULL");
		ERR_INT(fn, pkbox_domain_name(bogus, buf, sizeof(buf)), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_name(forged(d), buf, sizeof(buf)), ENOENT, "unknown|destroyed");
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_domain_name(d, buf, sizeof(buf)), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
	IN_CHILD(fn, "a buffer of 3 bytes ending at a PROT_NONE page") {
		struct pkbox_domain *d = domain("named");
		char *end = at_page_end(3); /* truncated, NUL-terminated, nothing written past len */
		OK_INT(fn, pkbox_domain_name(d, end, 3));
		EXPECT(fn, !strcmp(end, "na"), "pkbox_domain_name(len 3): \"%s\"", end);
	}
}

static void check_pkbox_domain_pkey(void)
{
	const char *fn = "pkbox_domain_pkey";

	IN_CHILD(fn, "keys") {
		struct pkbox_domain *d = domain("keyed");
		if (pkbox_backend() == PKBOX_BACKEND_PKU) {
			int k = OK_INT(fn, pkbox_domain_pkey(d));
			EXPECT(fn, k >= 1 && k <= 15, "pkbox_domain_pkey: %d", k);
		} else {
			/* -1 would read as -EPERM: a distinct result, -ENOTSUP, with errno and a message */
			ERR_INT(fn, pkbox_domain_pkey(d), ENOTSUP, "mprotect|no key|key");
		}
		ERR_INT(fn, pkbox_domain_pkey(NULL), EINVAL, "NULL");
		ERR_INT(fn, pkbox_domain_pkey(bogus), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_pkey(forged(d)), ENOENT, "unknown|destroyed");
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_domain_pkey(d), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_domain_faulted(void)
{
	const char *fn = "pkbox_domain_faulted";

	IN_CHILD(fn, "faulted or not") {
		struct pkbox_domain *d = domain("fresh");
		struct pkbox_domain *f = faulted_domain("faulted");
		int v = OK_INT(fn, pkbox_domain_faulted(d));
		EXPECT(fn, v == 0, "pkbox_domain_faulted(fresh): %d", v);
		v = OK_INT(fn, pkbox_domain_faulted(f));
		EXPECT(fn, v == 1, "pkbox_domain_faulted(faulted): %d", v);
		v = OK_INT(fn, pkbox_domain_faulted(pkbox_host_domain()));
		EXPECT(fn, v == 0, "pkbox_domain_faulted(host): %d", v);
		ERR_INT(fn, pkbox_domain_faulted(NULL), EINVAL, "NULL");
		ERR_INT(fn, pkbox_domain_faulted(bogus), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_faulted(forged(d)), ENOENT, "unknown|destroyed");
		pkbox_domain_destroy(f);
		ERR_INT(fn, pkbox_domain_faulted(f), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_domain_usage(void)
{
	const char *fn = "pkbox_domain_usage";

	IN_CHILD(fn, "usage") {
		PKBOX_OPTS(pkbox_domain_opts, o, .quota = 1 << 20);
		struct pkbox_domain *d = pkbox_domain_create("used", &o);
		size_t used = 1, quota = 1;
		pkbox_malloc(d, 100);
		OK_INT(fn, pkbox_domain_usage(d, &used, &quota));
		EXPECT(fn, used == 4096 && quota == 1 << 20, "pkbox_domain_usage: used %zu, quota %zu", used, quota);
		OK_INT(fn, pkbox_domain_usage(d, &used, NULL));
		OK_INT(fn, pkbox_domain_usage(d, NULL, &quota));
		ERR_INT(fn, pkbox_domain_usage(d, NULL, NULL), EINVAL, "NULL|nothing");
		ERR_INT(fn, pkbox_domain_usage(NULL, &used, &quota), EINVAL, "NULL");
		ERR_INT(fn, pkbox_domain_usage(bogus, &used, &quota), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_domain_usage(forged(d), &used, &quota), ENOENT, "unknown|destroyed");
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_domain_usage(d, &used, &quota), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_domain_of(void)
{
	const char *fn = "pkbox_domain_of";

	IN_CHILD(fn, "owners") {
		struct pkbox_domain *d = domain("owner");
		char *p = pkbox_malloc(d, 100);
		struct pkbox_domain *o = OK_PTR(fn, pkbox_domain_of(p));
		EXPECT(fn, o == d, "pkbox_domain_of(allocation): %p, expected %p", (void *)o, (void *)d);
		o = OK_PTR(fn, pkbox_domain_of(p + 99));
		EXPECT(fn, o == d, "pkbox_domain_of(allocation + 99): %p, expected %p", (void *)o, (void *)d);
		int local;
		ERR_PTR(fn, pkbox_domain_of(&local), ENOENT, "not in any domain");
		ERR_PTR(fn, pkbox_domain_of(NULL), ENOENT, "not in any domain");
		ERR_PTR(fn, pkbox_domain_of((void *)UINTPTR_MAX), ENOENT, "not in any domain");
		pkbox_free(d, p);
		ERR_PTR(fn, pkbox_domain_of(p), ENOENT, "not in any domain");
		still_works(fn);
	}
}

/* ------------------------------------------------------------------ */
/* Memory                                                               */

static void check_pkbox_malloc(void)
{
	const char *fn = "pkbox_malloc";

	IN_CHILD(fn, "sizes and handles") {
		struct pkbox_domain *d = domain("heap");
		char *p = OK_PTR(fn, pkbox_malloc(d, 100));
		if (p)
			memset(p, 'x', 100);
		OK_PTR(fn, pkbox_malloc(pkbox_host_domain(), 16));
		ERR_PTR(fn, pkbox_malloc(d, 0), EINVAL, "zero|size");
		ERR_PTR(fn, pkbox_malloc(d, SIZE_MAX), ENOMEM, "size|larger");
		ERR_PTR(fn, pkbox_malloc(d, SIZE_MAX - 4096), ENOMEM, "size|larger");
		ERR_PTR(fn, pkbox_malloc(d, (size_t)300 << 20), EDQUOT, "quota");
		ERR_PTR(fn, pkbox_malloc(NULL, 8), EINVAL, "NULL");
		ERR_PTR(fn, pkbox_malloc(bogus, 8), ENOENT, "unknown|destroyed");
		ERR_PTR(fn, pkbox_malloc(forged(d), 8), ENOENT, "unknown|destroyed");
		EXPECT(fn, p && p[99] == 'x', "pkbox_malloc: an allocation changed after the error paths");
		pkbox_domain_destroy(d);
		ERR_PTR(fn, pkbox_malloc(d, 8), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
	IN_CHILD(fn, "quota") {
		PKBOX_OPTS(pkbox_domain_opts, o, .quota = 16 * 4096);
		struct pkbox_domain *d = pkbox_domain_create("small", &o);
		int n = 0;
		while (n < 16 && pkbox_malloc(d, 4096))
			n++;
		EXPECT(fn, n == 16, "pkbox_malloc: %d pages in a 16-page quota", n);
		ERR_PTR(fn, pkbox_malloc(d, 1), EDQUOT, "quota");
		still_works(fn);
	}
}

static void check_pkbox_malloc_flags(void)
{
	const char *fn = "pkbox_malloc_flags";

	IN_CHILD(fn, "guarded objects") {
		struct pkbox_domain *d = domain("guarded");
		char *p = OK_PTR(fn, pkbox_malloc_flags(d, 100, PKBOX_MALLOC_GUARD));
		EXPECT(fn, p && ((uintptr_t)p + 112) % 4096 == 0, "pkbox_malloc_flags: %p does not end at a page", (void *)p);
		char *q = OK_PTR(fn, pkbox_malloc_flags(d, 100, 0)); /* packed */
		struct pkbox_domain *e = domain("grantee");
		OK_INT(fn, pkbox_grant(d, p, e, PKBOX_ACCESS_READ));
		ERR_INT(fn, pkbox_grant(d, q, e, PKBOX_ACCESS_READ), EINVAL, "packed|PKBOX_MALLOC_GUARD");
		ERR_PTR(fn, pkbox_malloc_flags(d, 100, 2), EINVAL, "flags");
		ERR_PTR(fn, pkbox_malloc_flags(d, 100, ~0u), EINVAL, "flags");
		ERR_PTR(fn, pkbox_malloc_flags(d, 0, PKBOX_MALLOC_GUARD), EINVAL, "zero|size");
		ERR_PTR(fn, pkbox_malloc_flags(d, SIZE_MAX, PKBOX_MALLOC_GUARD), ENOMEM, "size|larger");
		ERR_PTR(fn, pkbox_malloc_flags(d, (size_t)300 << 20, PKBOX_MALLOC_GUARD), EDQUOT, "quota");
		ERR_PTR(fn, pkbox_malloc_flags(NULL, 8, PKBOX_MALLOC_GUARD), EINVAL, "NULL");
		ERR_PTR(fn, pkbox_malloc_flags(bogus, 8, PKBOX_MALLOC_GUARD), ENOENT, "unknown|destroyed");
		OK_INT(fn, pkbox_free(d, q));
		still_works(fn);
	}
}

static void check_pkbox_calloc(void)
{
	const char *fn = "pkbox_calloc";

	IN_CHILD(fn, "sizes") {
		struct pkbox_domain *d = domain("calloc");
		int *z = OK_PTR(fn, pkbox_calloc(d, 1000, sizeof(int)));
		bool zero = z != NULL;
		for (int i = 0; z && i < 1000; i++)
			zero &= z[i] == 0;
		EXPECT(fn, zero, "pkbox_calloc: memory not zeroed");
		ERR_PTR(fn, pkbox_calloc(d, SIZE_MAX / 2, 4), ENOMEM, "overflow");
		ERR_PTR(fn, pkbox_calloc(d, SIZE_MAX, SIZE_MAX), ENOMEM, "overflow");
		ERR_PTR(fn, pkbox_calloc(d, 0, 8), EINVAL, "zero|size");
		ERR_PTR(fn, pkbox_calloc(d, 8, 0), EINVAL, "zero|size");
		ERR_PTR(fn, pkbox_calloc(NULL, 1, 8), EINVAL, "NULL");
		ERR_PTR(fn, pkbox_calloc(bogus, 1, 8), ENOENT, "unknown|destroyed");
		pkbox_domain_destroy(d);
		ERR_PTR(fn, pkbox_calloc(d, 1, 8), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_realloc(void)
{
	const char *fn = "pkbox_realloc";

	IN_CHILD(fn, "sizes and pointers") {
		struct pkbox_domain *d = domain("realloc");
		struct pkbox_domain *e = domain("other");
		char *p = OK_PTR(fn, pkbox_realloc(d, NULL, 100)); /* as malloc */
		if (p)
			memset(p, 'x', 100);
		char *q = OK_PTR(fn, pkbox_realloc(d, p, 10000));
		EXPECT(fn, q && q[0] == 'x' && q[99] == 'x', "pkbox_realloc: contents not kept");
		q = OK_PTR(fn, pkbox_realloc(d, q, 10));
		EXPECT(fn, q && q[9] == 'x', "pkbox_realloc: contents not kept when shrinking");
		ERR_PTR(fn, pkbox_realloc(d, p, 64), EINVAL, "not a live|freed");     /* p moved */
		ERR_PTR(fn, pkbox_realloc(d, q + 1, 64), EINVAL, "not a live");       /* interior */
		char local[16];
		ERR_PTR(fn, pkbox_realloc(d, local, 64), EINVAL, "not a live|foreign");
		char *r = pkbox_malloc_flags(e, 16, PKBOX_MALLOC_GUARD); /* granted below */
		strcpy(r, "intact");
		ERR_PTR(fn, pkbox_realloc(d, r, 64), EINVAL, "belongs|not a live");
		EXPECT(fn, !strcmp(r, "intact"), "pkbox_realloc: another domain's allocation changed");
		ERR_PTR(fn, pkbox_realloc(d, q, SIZE_MAX), ENOMEM, "size|larger");
		EXPECT(fn, q && q[9] == 'x', "pkbox_realloc: a failed realloc lost the old contents");
		pkbox_grant(e, r, d, PKBOX_ACCESS_READ);
		ERR_PTR(fn, pkbox_realloc(e, r, 64), EBUSY, "granted");
		ERR_PTR(fn, pkbox_realloc(NULL, q, 64), EINVAL, "NULL");
		ERR_PTR(fn, pkbox_realloc(bogus, q, 64), ENOENT, "unknown|destroyed");
		/* size 0 frees and returns NULL: a success, errno untouched */
		prime();
		errno = SENT;
		void *z = pkbox_realloc(d, q, 0);
		success_check(fn, "pkbox_realloc(d, q, 0)", z == NULL, (long)(uintptr_t)z, errno);
		ERR_INT("pkbox_free", pkbox_free(d, q), EINVAL, "not a live"); /* it was freed */
		pkbox_domain_destroy(d);
		ERR_PTR(fn, pkbox_realloc(d, NULL, 8), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void *granted; /* an allocation of busy_dom granted to another domain */
static void free_granted_busy(void)
{
	ERR_INT("pkbox_free", pkbox_free(busy_dom, granted), EBUSY, "granted|running");
}

static void check_pkbox_free(void)
{
	const char *fn = "pkbox_free";

	IN_CHILD(fn, "pointers") {
		struct pkbox_domain *d = domain("free");
		struct pkbox_domain *e = domain("other");
		char *p = pkbox_malloc(d, 100);
		OK_INT(fn, pkbox_free(d, p));
		ERR_INT(fn, pkbox_free(d, p), EINVAL, "not a live|double");   /* double free */
		p = pkbox_malloc(d, 100);
		ERR_INT(fn, pkbox_free(d, p + 1), EINVAL, "not a live");      /* interior */
		char local[8];
		ERR_INT(fn, pkbox_free(d, local), EINVAL, "not a live|foreign");
		void *heap = malloc(8);
		ERR_INT(fn, pkbox_free(d, heap), EINVAL, "not a live|foreign");
		free(heap);
		char *r = pkbox_malloc(e, 16);
		strcpy(r, "intact");
		ERR_INT(fn, pkbox_free(d, r), EINVAL, "belongs");
		EXPECT(fn, !strcmp(r, "intact"), "pkbox_free: another domain's allocation changed");
		OK_INT(fn, pkbox_free(d, NULL));
		ERR_INT(fn, pkbox_free(NULL, p), EINVAL, "NULL");
		ERR_INT(fn, pkbox_free(bogus, p), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_free(forged(d), p), ENOENT, "unknown|destroyed");
		/* granted while its domain runs */
		granted = pkbox_malloc_flags(e, 16, PKBOX_MALLOC_GUARD); /* grants need page-granular objects */
		pkbox_grant(e, granted, d, PKBOX_ACCESS_READ);
		while_inside(e, free_granted_busy);
		OK_INT(fn, pkbox_free(d, p));
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_free(d, NULL), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_grant(void)
{
	const char *fn = "pkbox_grant";

	IN_CHILD(fn, "grants") {
		struct pkbox_domain *a = domain("ga");
		struct pkbox_domain *b = domain("gb");
		char *p = pkbox_malloc_flags(a, 32, PKBOX_MALLOC_GUARD); /* grants need page-granular objects */
		OK_INT(fn, pkbox_grant(a, p, b, PKBOX_ACCESS_READ));
		OK_INT(fn, pkbox_grant(a, p, b, PKBOX_ACCESS_RW)); /* a change */
		ERR_INT(fn, pkbox_grant(a, p, b, 7), EINVAL, "access");
		ERR_INT(fn, pkbox_grant(a, p, b, PKBOX_ACCESS_NONE), EINVAL, "access");
		ERR_INT(fn, pkbox_grant(a, p, b, -1), EINVAL, "access");
		ERR_INT(fn, pkbox_grant(a, NULL, b, PKBOX_ACCESS_READ), EINVAL, "NULL");
		ERR_INT(fn, pkbox_grant(a, p + 1, b, PKBOX_ACCESS_READ), EINVAL, "not a live");
		ERR_INT(fn, pkbox_grant(b, p, a, PKBOX_ACCESS_READ), EINVAL, "belongs|not a live");
		ERR_INT(fn, pkbox_grant(a, p, a, PKBOX_ACCESS_READ), EINVAL, "itself");
		ERR_INT(fn, pkbox_grant(a, p, pkbox_host_domain(), PKBOX_ACCESS_READ), EINVAL, "host");
		ERR_INT(fn, pkbox_grant(NULL, p, b, PKBOX_ACCESS_READ), EINVAL, "NULL");
		ERR_INT(fn, pkbox_grant(a, p, NULL, PKBOX_ACCESS_READ), EINVAL, "NULL");
		ERR_INT(fn, pkbox_grant(bogus, p, b, PKBOX_ACCESS_READ), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_grant(a, p, forged(b), PKBOX_ACCESS_READ), ENOENT, "unknown|destroyed");
		/* 8 grantees at most */
		char *s = pkbox_malloc_flags(a, 32, PKBOX_MALLOC_GUARD);
		struct pkbox_domain *g[9];
		int n = 0, rc = 0;
		for (; n < 9 && (g[n] = pkbox_domain_create("grantee", NULL)); n++)
			if (n < 8 && (rc = pkbox_grant(a, s, g[n], PKBOX_ACCESS_READ)))
				break;
		if (n == 9)
			ERR_INT(fn, pkbox_grant(a, s, g[8], PKBOX_ACCESS_READ), ENOSPC, "grant|key");
		else if (pkbox_backend() != PKBOX_BACKEND_PKU)
			fail(fn, "cannot make 8 grants: %d, %s", rc, pkbox_last_error());
		pkbox_domain_destroy(b);
		ERR_INT(fn, pkbox_grant(a, p, b, PKBOX_ACCESS_READ), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_revoke(void)
{
	const char *fn = "pkbox_revoke";

	IN_CHILD(fn, "revokes") {
		struct pkbox_domain *a = domain("ra");
		struct pkbox_domain *b = domain("rb");
		struct pkbox_domain *c = domain("rc");
		char *p = pkbox_malloc_flags(a, 32, PKBOX_MALLOC_GUARD);
		ERR_INT(fn, pkbox_revoke(a, p, b), ENOENT, "not granted");
		pkbox_grant(a, p, b, PKBOX_ACCESS_RW);
		pkbox_grant(a, p, c, PKBOX_ACCESS_READ);
		OK_INT(fn, pkbox_revoke(a, p, b));
		ERR_INT(fn, pkbox_revoke(a, p, b), ENOENT, "not granted");       /* twice */
		ERR_INT(fn, pkbox_revoke(a, NULL, c), EINVAL, "NULL");
		ERR_INT(fn, pkbox_revoke(a, p + 1, c), EINVAL, "not a live");
		ERR_INT(fn, pkbox_revoke(NULL, p, c), EINVAL, "NULL");
		ERR_INT(fn, pkbox_revoke(a, p, NULL), EINVAL, "NULL");
		ERR_INT(fn, pkbox_revoke(bogus, p, c), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_revoke(a, p, forged(c)), ENOENT, "unknown|destroyed");
		OK_INT(fn, pkbox_revoke(a, p, c));
		pkbox_domain_destroy(c);
		ERR_INT(fn, pkbox_revoke(a, p, c), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

/* ------------------------------------------------------------------ */
/* The gate                                                             */

static void call_reenter(void)
{
	ERR_INT("pkbox_call", pkbox_call(busy_dom, fn_ret, NULL, NULL), EDEADLK, "inside|already");
}

/* calls nested 17 deep, through host callbacks: chain[i] calls back, the
 * callback calls into chain[i + 1] */
#define CHAIN 17
static struct pkbox_domain *chain[CHAIN];
static intptr_t chain_inside(void *a)
{
	intptr_t r = 0;
	int rc = pkbox_host_call(0, a, &r);

	return rc ? rc : r;
}

static intptr_t chain_cb(void *a)
{
	intptr_t next = (intptr_t)a + 1, r = 0;

	if (next == CHAIN - 1) { /* the 17th call */
		ERR_INT("pkbox_call", pkbox_call(chain[next], chain_inside, (void *)next, &r), ELOOP, "nest|deep");
		return 0;
	}
	int rc = pkbox_call(chain[next], chain_inside, (void *)next, &r);
	return rc ? rc : r;
}

static void check_pkbox_call(void)
{
	const char *fn = "pkbox_call";

	IN_CHILD(fn, "calls") {
		struct pkbox_domain *d = domain("callee");
		intptr_t r = 0;
		OK_INT(fn, pkbox_call(d, fn_ret, (void *)41, &r));
		EXPECT(fn, r == 42, "pkbox_call: *ret %ld, expected 42", (long)r);
		OK_INT(fn, pkbox_call(d, fn_ret, (void *)41, NULL));
		ERR_INT(fn, pkbox_call(d, NULL, NULL, &r), EINVAL, "fn|NULL");
		ERR_INT(fn, pkbox_call(NULL, fn_ret, NULL, &r), EINVAL, "NULL");
		ERR_INT(fn, pkbox_call(pkbox_host_domain(), fn_ret, NULL, &r), EINVAL, "host");
		ERR_INT(fn, pkbox_call(bogus, fn_ret, NULL, &r), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_call(forged(d), fn_ret, NULL, &r), ENOENT, "unknown|destroyed");
		/* a fault: contained, reported, then the domain is refused until reset */
		char *host = pkbox_malloc(pkbox_host_domain(), 16);
		unsigned long f0 = pkbox_fault_count();
		ERR_INT(fn, pkbox_call(d, fn_read, host, &r), EFAULT, "fault");
		EXPECT(fn, pkbox_fault_count() == f0 + 1, "pkbox_call: a fault not counted");
		ERR_INT(fn, pkbox_call(d, fn_ret, NULL, &r), ENOTRECOVERABLE, "fault");
		pkbox_domain_reset(d);
		OK_INT(fn, pkbox_call(d, fn_ret, (void *)1, &r));
		/* into itself through the host */
		while_inside(d, call_reenter);
		/* from inside a compartment */
		struct pkbox_domain *e = domain("caller");
		struct inside *op = inside_new(e, OP_CALL);
		op->dom = d;
		inside_expect(fn, "pkbox_call(d, fn_ret, NULL, NULL)", e, op, EPERM, "inside");
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_call(d, fn_ret, NULL, &r), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
	IN_CHILD(fn, "nested 17 deep") {
		int n = 0;
		for (; n < CHAIN && (chain[n] = pkbox_domain_create("chain", NULL)); n++)
			pkbox_callback_register(chain[n], chain_cb);
		if (n == CHAIN) {
			intptr_t r = -1;
			int rc = pkbox_call(chain[0], chain_inside, (void *)0, &r);
			EXPECT(fn, rc == 0 && r == 0, "pkbox_call: the chain of 16 calls returned %d, %ld", rc, (long)r);
		} else if (pkbox_backend() != PKBOX_BACKEND_PKU) {
			fail(fn, "cannot make %d domains: %s", CHAIN, pkbox_last_error());
		}
		/* (on pku the chain took every key: give them back first) */
		for (int i = 0; i < n; i++)
			OK_INT(fn, pkbox_domain_destroy(chain[i]));
		still_works(fn);
	}
}

static void timed_in_callback(void)
{
	struct pkbox_domain *d = pkbox_domain_create("timed-inner", NULL);

	ERR_INT("pkbox_call_timed", pkbox_call_timed(d, fn_ret, NULL, NULL, 100), EINVAL, "outermost|callback");
	pkbox_domain_destroy(d);
}

static void check_pkbox_call_timed(void)
{
	const char *fn = "pkbox_call_timed";

	IN_CHILD(fn, "timed calls") {
		struct pkbox_domain *d = domain("timed");
		intptr_t r = 0;
		OK_INT(fn, pkbox_call_timed(d, fn_ret, (void *)41, &r, 1000));
		EXPECT(fn, r == 42, "pkbox_call_timed: *ret %ld, expected 42", (long)r);
		ERR_INT(fn, pkbox_call_timed(d, fn_ret, NULL, &r, 0), EINVAL, "timeout");
		ERR_INT(fn, pkbox_call_timed(d, NULL, NULL, &r, 100), EINVAL, "fn|NULL");
		ERR_INT(fn, pkbox_call_timed(NULL, fn_ret, NULL, &r, 100), EINVAL, "NULL");
		ERR_INT(fn, pkbox_call_timed(pkbox_host_domain(), fn_ret, NULL, &r, 100), EINVAL, "host");
		ERR_INT(fn, pkbox_call_timed(bogus, fn_ret, NULL, &r, 100), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_call_timed(d, fn_spin, NULL, &r, 50), ETIMEDOUT, "time");
		ERR_INT(fn, pkbox_call_timed(d, fn_ret, NULL, &r, 100), ENOTRECOVERABLE, "fault");
		pkbox_domain_reset(d);
		char *host = pkbox_malloc(pkbox_host_domain(), 16);
		ERR_INT(fn, pkbox_call_timed(d, fn_read, host, &r, 1000), EFAULT, "fault");
		pkbox_domain_reset(d);
		while_inside(d, timed_in_callback);
		struct pkbox_domain *e = domain("caller");
		struct inside *op = inside_new(e, OP_CALL_TIMED);
		op->dom = d;
		inside_expect(fn, "pkbox_call_timed(d, fn_ret, NULL, NULL, 100)", e, op, EPERM, "inside");
		OK_INT(fn, pkbox_call_timed(d, fn_ret, (void *)1, &r, 1000));
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_call_timed(d, fn_ret, NULL, &r, 100), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static intptr_t host_run_body(void *a)
{
	intptr_t r = 0;

	/* a call from the private stack, and a nested host_run */
	if (pkbox_call((struct pkbox_domain *)a, fn_ret, (void *)1, &r) || r != 2)
		return -1;
	if (pkbox_host_run(fn_ret, (void *)2, 0, &r) || r != 3)
		return -2;
	return 7;
}

static void check_pkbox_host_run(void)
{
	const char *fn = "pkbox_host_run";

	IN_CHILD(fn, "host runs") {
		struct pkbox_domain *d = domain("hr");
		intptr_t r = 0;
		OK_INT(fn, pkbox_host_run(host_run_body, d, 0, &r));
		EXPECT(fn, r == 7, "pkbox_host_run: *ret %ld, expected 7", (long)r);
		OK_INT(fn, pkbox_host_run(fn_ret, NULL, 64 << 10, NULL));
		OK_INT(fn, pkbox_host_run(fn_ret, NULL, 64 << 20, &r));
		ERR_INT(fn, pkbox_host_run(NULL, NULL, 0, &r), EINVAL, "fn|NULL");
		ERR_INT(fn, pkbox_host_run(fn_ret, NULL, 4096, &r), EINVAL, "stack_size");
		ERR_INT(fn, pkbox_host_run(fn_ret, NULL, (64 << 10) - 1, &r), EINVAL, "stack_size");
		ERR_INT(fn, pkbox_host_run(fn_ret, NULL, (64 << 20) + 1, &r), EINVAL, "stack_size");
		ERR_INT(fn, pkbox_host_run(fn_ret, NULL, SIZE_MAX, &r), EINVAL, "stack_size");
		struct inside *op = inside_new(d, OP_HOST_RUN);
		inside_expect(fn, "pkbox_host_run(fn_ret, NULL, 0, NULL)", d, op, EPERM, "inside");
		still_works(fn);
	}
}

static intptr_t cb_double(void *a)
{
	return (intptr_t)a * 2;
}

static void check_pkbox_callback_register(void)
{
	const char *fn = "pkbox_callback_register";

	IN_CHILD(fn, "registrations") {
		struct pkbox_domain *d = domain("cbs");
		int id = OK_INT(fn, pkbox_callback_register(d, cb_double));
		EXPECT(fn, id >= 0 && id < 32, "pkbox_callback_register: id %d", id);
		ERR_INT(fn, pkbox_callback_register(d, NULL), EINVAL, "fn|NULL");
		ERR_INT(fn, pkbox_callback_register(NULL, cb_double), EINVAL, "NULL");
		ERR_INT(fn, pkbox_callback_register(bogus, cb_double), ENOENT, "unknown|destroyed");
		ERR_INT(fn, pkbox_callback_register(forged(d), cb_double), ENOENT, "unknown|destroyed");
		int n = 1;
		while (n < 40 && pkbox_callback_register(d, cb_double) >= 0)
			n++;
		EXPECT(fn, n == 32, "pkbox_callback_register: %d callbacks in a domain, expected 32", n);
		ERR_INT(fn, pkbox_callback_register(d, cb_double), ENOSPC, "callbacks");
		pkbox_callback_unregister(d, 5);
		int again = OK_INT(fn, pkbox_callback_register(d, cb_double));
		EXPECT(fn, again == 5, "pkbox_callback_register: id %d after 5 was freed", again);
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_callback_register(d, cb_double), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_callback_unregister(void)
{
	const char *fn = "pkbox_callback_unregister";

	IN_CHILD(fn, "ids") {
		struct pkbox_domain *d = domain("cbs");
		int id = pkbox_callback_register(d, cb_double);
		ERR_INT(fn, pkbox_callback_unregister(d, id + 1), ENOENT, "no callback");
		ERR_INT(fn, pkbox_callback_unregister(d, -1), ENOENT, "no callback");
		ERR_INT(fn, pkbox_callback_unregister(d, 32), ENOENT, "no callback");
		ERR_INT(fn, pkbox_callback_unregister(d, INT_MAX), ENOENT, "no callback");
		ERR_INT(fn, pkbox_callback_unregister(d, INT_MIN), ENOENT, "no callback");
		OK_INT(fn, pkbox_callback_unregister(d, id));
		ERR_INT(fn, pkbox_callback_unregister(d, id), ENOENT, "no callback"); /* twice */
		ERR_INT(fn, pkbox_callback_unregister(NULL, 0), EINVAL, "NULL");
		ERR_INT(fn, pkbox_callback_unregister(bogus, 0), ENOENT, "unknown|destroyed");
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_callback_unregister(d, 0), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_host_call(void)
{
	const char *fn = "pkbox_host_call";

	IN_CHILD(fn, "host calls") {
		struct pkbox_domain *d = domain("hc");
		int id = pkbox_callback_register(d, cb_double);
		struct inside *op = inside_new(d, OP_HOST_CALL);
		op->id = id;
		op->arg = (void *)21;
		inside_expect(fn, "pkbox_host_call(id, 21, &ret)", d, op, 0, NULL);
		EXPECT(fn, op->ret == 42, "pkbox_host_call: *ret %ld, expected 42", (long)op->ret);
		op->id = id + 1;
		inside_expect(fn, "pkbox_host_call(unregistered id, ...)", d, op, EPERM, "callback");
		op->id = -1;
		inside_expect(fn, "pkbox_host_call(-1, ...)", d, op, EPERM, "callback");
		op->id = 1 << 20;
		inside_expect(fn, "pkbox_host_call(1 << 20, ...)", d, op, EPERM, "callback");
		intptr_t r = 0;
		ERR_INT(fn, pkbox_host_call(id, NULL, &r), EPERM, "not inside|compartment"); /* from the host */
		still_works(fn);
	}
}

/* ------------------------------------------------------------------ */
/* Faults                                                               */

static void check_pkbox_last_fault(void)
{
	const char *fn = "pkbox_last_fault";

	IN_CHILD(fn, "records") {
		struct pkbox_domain *d = domain("nofault");
		struct pkbox_domain *f = faulted_domain("faulted");
		PKBOX_OPTS(pkbox_fault, rec);
		OK_INT(fn, pkbox_last_fault(f, &rec));
		EXPECT(fn, !strcmp(rec.domain, "faulted") && !strcmp(rec.owner, "host"),
		       "pkbox_last_fault: domain \"%s\", owner \"%s\"", rec.domain, rec.owner);
		ERR_INT(fn, pkbox_last_fault(d, &rec), ENODATA, "not faulted");
		ERR_INT(fn, pkbox_last_fault(f, NULL), EINVAL, "NULL");
		ERR_INT(fn, pkbox_last_fault(NULL, &rec), EINVAL, "NULL");
		ERR_INT(fn, pkbox_last_fault(bogus, &rec), ENOENT, "unknown|destroyed");
		rec.sz = 0;
		ERR_INT(fn, pkbox_last_fault(f, &rec), EINVAL, "sz");
		rec.sz = FAULT_V1 - 1;
		ERR_INT(fn, pkbox_last_fault(f, &rec), EINVAL, "sz");
		pkbox_domain_reset(f);
		rec.sz = sizeof(rec);
		ERR_INT(fn, pkbox_last_fault(f, &rec), ENODATA, "not faulted");
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_last_fault(d, &rec), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
	IN_CHILD(fn, "sz of the first version, ending at a PROT_NONE page") {
		struct pkbox_domain *f = faulted_domain("faulted");
		struct pkbox_fault *rec = at_page_end(FAULT_V1);
		rec->sz = FAULT_V1;
		OK_INT(fn, pkbox_last_fault(f, rec));
		EXPECT(fn, !strcmp(rec->domain, "faulted"), "pkbox_last_fault(v1): domain \"%s\"", rec->domain);
	}
	IN_CHILD(fn, "larger struct") {
		struct pkbox_domain *f = faulted_domain("faulted");
		struct { struct pkbox_fault r; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.r.sz = sizeof(big);
		big.tail = 0x5a; /* an output struct: unknown fields come back 0 */
		OK_INT(fn, pkbox_last_fault(f, &big.r));
		EXPECT(fn, big.tail == 0, "pkbox_last_fault(sizeof + 8): left the unknown tail as it was");
	}
}

static void check_pkbox_signals_install(void)
{
	const char *fn = "pkbox_signals_install";

	IN_CHILD(fn, "again and again") {
		OK_INT(fn, pkbox_signals_install());
		signal(SIGSEGV, SIG_DFL); /* a host's own handler; then the library's again */
		OK_INT(fn, pkbox_signals_install());
		struct pkbox_domain *d = domain("faults");
		char *host = pkbox_malloc(pkbox_host_domain(), 16);
		EXPECT(fn, pkbox_call(d, fn_read, host, NULL) == -EFAULT,
		       "pkbox_signals_install: a fault is not contained after it");
		still_works(fn);
	}
	/* after a failed set-up: see check_pkbox_init */
}

static void check_pkbox_fault_count(void)
{
	const char *fn = "pkbox_fault_count";

	IN_CHILD(fn, "counts") {
		unsigned long n0 = KEEP(fn, pkbox_fault_count());
		faulted_domain("one");
		unsigned long n1 = KEEP(fn, pkbox_fault_count());
		EXPECT(fn, n1 == n0 + 1, "pkbox_fault_count: %lu, then %lu after a fault", n0, n1);
	}
}

/* ------------------------------------------------------------------ */
/* Messages                                                             */

static int prints;
static void count_print(enum pkbox_print_level l, const char *m)
{
	(void)l;
	(void)m;
	prints++;
}

static void check_pkbox_set_print(void)
{
	const char *fn = "pkbox_set_print";

	IN_CHILD(fn, "print functions") {
		pkbox_print_fn old = KEEP(fn, pkbox_set_print(count_print));
		EXPECT(fn, old != NULL, "pkbox_set_print: no default print function");
		pkbox_domain_destroy(bogus);
		EXPECT(fn, prints > 0, "pkbox_set_print: an error message was not passed on");
		pkbox_print_fn was = KEEP(fn, pkbox_set_print(NULL));
		EXPECT(fn, was == count_print, "pkbox_set_print: did not return the previous function");
		int before = prints;
		pkbox_domain_destroy(bogus);
		EXPECT(fn, prints == before, "pkbox_set_print(NULL): messages still printed");
		was = KEEP(fn, pkbox_set_print(old));
		EXPECT(fn, was == NULL, "pkbox_set_print: NULL not returned as the previous function");
	}
}

static void check_pkbox_last_error(void)
{
	const char *fn = "pkbox_last_error";

	IN_CHILD(fn, "messages") {
		errno = SENT;
		const char *m = pkbox_last_error();
		EXPECT(fn, m && !*m, "pkbox_last_error(): \"%s\" before any error", m ? m : "(NULL)");
		EXPECT(fn, errno == SENT, "pkbox_last_error(): changed errno to %d", errno);
		pkbox_domain_destroy(NULL);
		m = KEEP(fn, pkbox_last_error());
		EXPECT(fn, m && *m, "pkbox_last_error(): empty after an error");
		const char *m2 = KEEP(fn, pkbox_last_error());
		EXPECT(fn, m2 && !strcmp(m, m2), "pkbox_last_error(): changed between two calls");
	}
}

/* every errno the man pages give (doc/man/gen-man.py, ERRORS) */
static const int documented_errnos[] = {
	EALREADY, EINVAL, ENOTSUP, ENOSPC, ENOMEM, ENAMETOOLONG, ENOENT, EBUSY, EDQUOT, EFAULT, ENOTRECOVERABLE,
	EDEADLK, ELOOP, EPERM, EAGAIN, ETIMEDOUT, ENODATA, E2BIG, EACCES, ENOEXEC,
};

static void check_pkbox_strerror(void)
{
	const char *fn = "pkbox_strerror";

	IN_CHILD(fn, "texts") {
		const char *s = KEEP(fn, pkbox_strerror(-EFAULT));
		EXPECT(fn, s && !strcmp(s, "the compartment faulted"), "pkbox_strerror(-EFAULT): \"%s\"", s);
		s = KEEP(fn, pkbox_strerror(-12345));
		EXPECT(fn, s && !strcmp(s, "unknown error"), "pkbox_strerror(-12345): \"%s\"", s);
		/* a text for every -errno the library documents */
		for (size_t i = 0; i < sizeof(documented_errnos) / sizeof(documented_errnos[0]); i++) {
			s = pkbox_strerror(-documented_errnos[i]);
			EXPECT(fn, s && strcmp(s, "unknown error"), "pkbox_strerror(-%s): \"%s\"",
			       ename(documented_errnos[i]), s ? s : "(NULL)");
		}
	}
	IN_CHILD(fn, "INT_MIN") {
		const char *s = KEEP(fn, pkbox_strerror(INT_MIN));
		EXPECT(fn, s && !strcmp(s, "unknown error"), "pkbox_strerror(INT_MIN): \"%s\"", s);
	}
}

/* ------------------------------------------------------------------ */
/* Plugins                                                              */

static void check_pkbox_plugin_load(void)
{
	const char *fn = "pkbox_plugin_load";
	char hello[PATH_MAX + 64];

	snprintf(hello, sizeof(hello), "%s", plugin("libpkbox-hello.so"));

	IN_CHILD(fn, "before the seal") {
		ERR_PTR(fn, pkbox_plugin_load(hello, "early", NULL), EPERM, "seal");
		PKBOX_OPTS(pkbox_plugin_opts, o, .flags = PKBOX_PLUGIN_UNSEALED);
		struct pkbox_plugin *p = OK_PTR(fn, pkbox_plugin_load(hello, "unsealed", &o));
		if (p)
			pkbox_plugin_unload(p);
	}
	IN_CHILD(fn, "files, names and options") {
		if (seal_for(fn)) {
			struct pkbox_plugin *p = OK_PTR(fn, pkbox_plugin_load(hello, "hello", NULL));
			ERR_PTR(fn, pkbox_plugin_load(NULL, NULL, NULL), EINVAL, "path|NULL");
			ERR_PTR(fn, pkbox_plugin_load("", NULL, NULL), EINVAL, "path|empty");
			ERR_PTR(fn, pkbox_plugin_load("/nonexistent/x.so", NULL, NULL), ENOENT, "nonexistent|No such");
			ERR_PTR(fn, pkbox_plugin_load("/etc/passwd", NULL, NULL), ENOEXEC, "ELF");
			ERR_PTR(fn, pkbox_plugin_load("/dev/null", NULL, NULL), ENOEXEC, "ELF|regular file");
			ERR_PTR(fn, pkbox_plugin_load("/", NULL, NULL), ENOEXEC, "ELF|regular file|directory");
			ERR_PTR(fn, pkbox_plugin_load(plugin("../attacks/libpkbox-gadget.so"), NULL, NULL), EPERM,
				"WRPKRU|PKRU");
			ERR_PTR(fn, pkbox_plugin_load(plugin("libpkbox-ctor-fault.so"), "ctor", NULL), EFAULT,
				"constructor");
			ERR_PTR(fn, pkbox_plugin_load(hello, "", NULL), EINVAL, "name|empty");
			ERR_PTR(fn, pkbox_plugin_load(hello, "a-name-of-thirty-two-bytes-12345", NULL), ENAMETOOLONG,
				"name|long");
			PKBOX_OPTS(pkbox_plugin_opts, o);
			o.sz = 0;
			ERR_PTR(fn, pkbox_plugin_load(hello, "o", &o), EINVAL, "sz|version");
			o.sz = 16;
			ERR_PTR(fn, pkbox_plugin_load(hello, "o", &o), EINVAL, "sz|version");
			o.sz = PLUGIN_OPTS_V1 - 1;
			ERR_PTR(fn, pkbox_plugin_load(hello, "o", &o), EINVAL, "sz|version");
			o.sz = sizeof(o);
			o.flags = 1u << 7;
			ERR_PTR(fn, pkbox_plugin_load(hello, "o", &o), EINVAL, "flag");
			o.flags = 0;
			o.quota = (size_t)3 << 30;
			ERR_PTR(fn, pkbox_plugin_load(hello, "o", &o), EINVAL, "quota");
			o.quota = 1 << 20;
			o.heap = 2 << 20; /* the heap is within the quota */
			ERR_PTR(fn, pkbox_plugin_load(hello, "o", &o), EINVAL, "heap|quota|would use");
			if (p)
				OK_INT("pkbox_plugin_unload", pkbox_plugin_unload(p));
			OK_PTR(fn, pkbox_plugin_load(hello, "after", NULL));
			still_works(fn);
		}
	}
	IN_CHILD(fn, "opts of the first version, ending at a PROT_NONE page") {
		if (seal_for(fn)) {
			struct pkbox_plugin_opts *o = at_page_end(PLUGIN_OPTS_V1);
			memset(o, 0, PLUGIN_OPTS_V1);
			o->sz = PLUGIN_OPTS_V1;
			OK_PTR(fn, pkbox_plugin_load(hello, "v1", o));
		}
	}
	IN_CHILD(fn, "larger opts") {
		if (seal_for(fn)) {
			struct { struct pkbox_plugin_opts o; uint64_t tail; } big;
			memset(&big, 0, sizeof(big));
			big.o.sz = sizeof(big);
			big.tail = 1;
			ERR_PTR(fn, pkbox_plugin_load(hello, "tail", &big.o), EINVAL, "sz|unknown|tail|fields");
			big.tail = 0;
			OK_PTR(fn, pkbox_plugin_load(hello, "zero-tail", &big.o));
		}
	}
	IN_CHILD(fn, "too many") {
		if (seal_for(fn)) {
			int n = 0;
			while (n < 40 && pkbox_plugin_load(hello, "many", NULL))
				n++;
			EXPECT(fn, n < 40, "pkbox_plugin_load: %d plugins and no end", n);
			ERR_PTR(fn, pkbox_plugin_load(hello, "one-more", NULL), ENOSPC, "plugins|domain");
		}
	}
}

static struct pkbox_plugin *sealed_with_hello(const char *fn)
{
	struct pkbox_plugin *p;

	if (!seal_for(fn))
		return NULL;
	p = pkbox_plugin_load(plugin("libpkbox-hello.so"), "hello", NULL);
	if (!p)
		fail(fn, "cannot load libpkbox-hello.so for the checks: %s", pkbox_last_error());
	return p;
}

static struct pkbox_plugin *forged_plugin(struct pkbox_plugin *live)
{
	return (struct pkbox_plugin *)((uintptr_t)live + ((uintptr_t)1 << 16));
}

static intptr_t call_ptr_fn(void *f)
{
	return (intptr_t)((void *(*)(void))f)();
}

static void check_pkbox_plugin_domain(void)
{
	const char *fn = "pkbox_plugin_domain";

	IN_CHILD(fn, "handles") {
		struct pkbox_plugin *p = sealed_with_hello(fn);
		if (p) {
			struct pkbox_domain *d = OK_PTR(fn, pkbox_plugin_domain(p));
			char name[32] = "";
			pkbox_domain_name(d, name, sizeof(name));
			EXPECT(fn, !strcmp(name, "hello"), "pkbox_plugin_domain: domain named \"%s\"", name);
			ERR_PTR(fn, pkbox_plugin_domain(NULL), EINVAL, "NULL");
			ERR_PTR(fn, pkbox_plugin_domain(forged_plugin(p)), ENOENT, "unknown|unloaded");
			ERR_PTR(fn, pkbox_plugin_domain((struct pkbox_plugin *)bogus), ENOENT, "unknown|unloaded");
			pkbox_plugin_unload(p);
			ERR_PTR(fn, pkbox_plugin_domain(p), ENOENT, "unknown|unloaded");
			still_works(fn);
		}
	}
}

static void check_pkbox_plugin_sym(void)
{
	const char *fn = "pkbox_plugin_sym";

	IN_CHILD(fn, "symbols") {
		struct pkbox_plugin *p = sealed_with_hello(fn);
		if (p) {
			void *f = OK_PTR(fn, pkbox_plugin_sym(p, "counter_addr"));
			intptr_t r = 0;
			EXPECT(fn, f && pkbox_call(pkbox_plugin_domain(p), call_ptr_fn, f, &r) == 0 && r,
			       "pkbox_plugin_sym: counter_addr does not run: %s", pkbox_last_error());
			ERR_PTR(fn, pkbox_plugin_sym(p, "no_such_symbol"), ENOENT, "no_such_symbol|no symbol");
			ERR_PTR(fn, pkbox_plugin_sym(p, "printf"), ENOENT, "printf|no symbol"); /* not its own */
			ERR_PTR(fn, pkbox_plugin_sym(p, NULL), EINVAL, "symbol|NULL");
			ERR_PTR(fn, pkbox_plugin_sym(p, ""), EINVAL, "symbol|empty");
			ERR_PTR(fn, pkbox_plugin_sym(NULL, "counter_addr"), EINVAL, "NULL");
			ERR_PTR(fn, pkbox_plugin_sym(forged_plugin(p), "counter_addr"), ENOENT, "unknown|unloaded");
			pkbox_plugin_unload(p);
			ERR_PTR(fn, pkbox_plugin_sym(p, "counter_addr"), ENOENT, "unknown|unloaded");
			still_works(fn);
		}
	}
}

static void check_pkbox_plugin_sym_info(void)
{
	const char *fn = "pkbox_plugin_sym_info";

	IN_CHILD(fn, "symbols, data and whose they are") {
		struct pkbox_plugin *p = sealed_with_hello(fn);
		if (p) {
			struct pkbox_domain *d = pkbox_plugin_domain(p);
			PKBOX_OPTS(pkbox_sym_info, si);
			OK_INT(fn, pkbox_plugin_sym_info(p, "counter_addr", &si));
			EXPECT(fn, si.kind == PKBOX_SYM_FUNC && !si.owner && !si.writable && si.addr == pkbox_plugin_sym(p, "counter_addr") &&
				   !strcmp(si.object, "libpkbox-hello.so"),
			       "pkbox_plugin_sym_info: counter_addr: kind %u owner %p writable %u in %s", si.kind,
			       (void *)si.owner, si.writable, si.object);
			OK_INT(fn, pkbox_plugin_sym_info(p, "plugin_counter", &si));
			EXPECT(fn, si.kind == PKBOX_SYM_DATA && si.owner == d && si.writable && si.size == sizeof(int) &&
				   pkbox_domain_of(si.addr) == d,
			       "pkbox_plugin_sym_info: plugin_counter: kind %u owner %p writable %u size %zu", si.kind,
			       (void *)si.owner, si.writable, si.size);
			OK_INT(fn, pkbox_plugin_sym_info(p, "plugin_banner", &si));
			EXPECT(fn, si.kind == PKBOX_SYM_DATA && !si.owner && !si.writable && si.size == 13 &&
				   !strcmp(si.addr, "hello plugin"),
			       "pkbox_plugin_sym_info: plugin_banner: kind %u owner %p writable %u size %zu", si.kind,
			       (void *)si.owner, si.writable, si.size);
			ERR_INT(fn, pkbox_plugin_sym_info(p, "no_such_symbol", &si), ENOENT, "no_such_symbol|no symbol");
			ERR_INT(fn, pkbox_plugin_sym_info(p, "printf", &si), ENOENT, "printf|no symbol"); /* the C runtime's */
			ERR_INT(fn, pkbox_plugin_sym_info(p, NULL, &si), EINVAL, "symbol|NULL");
			ERR_INT(fn, pkbox_plugin_sym_info(p, "", &si), EINVAL, "symbol|empty");
			ERR_INT(fn, pkbox_plugin_sym_info(p, "plugin_counter", NULL), EINVAL, "NULL");
			struct pkbox_sym_info small = { .sz = 8 };
			ERR_INT(fn, pkbox_plugin_sym_info(p, "plugin_counter", &small), EINVAL, "sz|size|small");
			ERR_INT(fn, pkbox_plugin_sym_info(NULL, "plugin_counter", &si), EINVAL, "NULL");
			ERR_INT(fn, pkbox_plugin_sym_info(forged_plugin(p), "plugin_counter", &si), ENOENT, "unknown|unloaded");
			pkbox_plugin_unload(p);
			ERR_INT(fn, pkbox_plugin_sym_info(p, "plugin_counter", &si), ENOENT, "unknown|unloaded");
			still_works(fn);
		}
	}
}

static void check_pkbox_plugin_unload(void)
{
	const char *fn = "pkbox_plugin_unload";

	IN_CHILD(fn, "handles") {
		struct pkbox_plugin *p = sealed_with_hello(fn);
		if (p) {
			struct pkbox_domain *d = pkbox_plugin_domain(p);
			ERR_INT(fn, pkbox_plugin_unload(NULL), EINVAL, "NULL");
			ERR_INT(fn, pkbox_plugin_unload(forged_plugin(p)), ENOENT, "unknown|unloaded");
			OK_INT(fn, pkbox_plugin_unload(p));
			EXPECT(fn, pkbox_domain_faulted(d) == -ENOENT, "pkbox_plugin_unload: its domain is still there");
			ERR_INT(fn, pkbox_plugin_unload(p), ENOENT, "unknown|unloaded"); /* twice */
			still_works(fn);
		}
	}
}

static void check_pkbox_copy_in(void)
{
	const char *fn = "pkbox_copy_in";

	IN_CHILD(fn, "copies") {
		struct pkbox_domain *d = domain("in");
		char *p = OK_PTR(fn, pkbox_copy_in(d, "abc", 4));
		EXPECT(fn, p && !strcmp(p, "abc") && pkbox_domain_of(p) == d, "pkbox_copy_in: wrong copy");
		OK_PTR(fn, pkbox_copy_in(d, NULL, 0));
		ERR_PTR(fn, pkbox_copy_in(d, NULL, 4), EINVAL, "src|NULL");
		ERR_PTR(fn, pkbox_copy_in(NULL, "abc", 4), EINVAL, "NULL");
		ERR_PTR(fn, pkbox_copy_in(bogus, "abc", 4), ENOENT, "unknown|destroyed");
		ERR_PTR(fn, pkbox_copy_in(d, "abc", SIZE_MAX), ENOMEM, "size|larger");
		PKBOX_OPTS(pkbox_domain_opts, o, .quota = 4096);
		struct pkbox_domain *small = pkbox_domain_create("small", &o);
		static char big[8192];
		ERR_PTR(fn, pkbox_copy_in(small, big, sizeof(big)), EDQUOT, "quota|would use");
		pkbox_domain_destroy(d);
		ERR_PTR(fn, pkbox_copy_in(d, "abc", 4), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_copy_out(void)
{
	const char *fn = "pkbox_copy_out";

	IN_CHILD(fn, "copies") {
		struct pkbox_domain *d = domain("out");
		struct pkbox_domain *e = domain("other");
		char *p = pkbox_copy_in(d, "abc", 4);
		static char buf[8192]; /* room for whatever a wrong copy writes */
		OK_INT(fn, pkbox_copy_out(d, buf, p, 4));
		EXPECT(fn, !strcmp(buf, "abc"), "pkbox_copy_out: \"%s\"", buf);
		static int host_var;
		ERR_INT(fn, pkbox_copy_out(d, buf, &host_var, sizeof(int)), EFAULT, "not memory");
		ERR_INT(fn, pkbox_copy_out(d, buf, p, 4097), EFAULT, "not memory");            /* past its end */
		ERR_INT(fn, pkbox_copy_out(d, buf, p, SIZE_MAX), EFAULT, "not memory");        /* wraps */
		ERR_INT(fn, pkbox_copy_out(d, buf, p - 4096, 4), EFAULT, "not memory");        /* the guard */
		char *q = pkbox_copy_in(e, "xyz", 4);
		ERR_INT(fn, pkbox_copy_out(d, buf, q, 4), EFAULT, "not memory");               /* another domain's */
		ERR_INT(fn, pkbox_copy_out(d, NULL, p, 4), EINVAL, "NULL");
		ERR_INT(fn, pkbox_copy_out(d, buf, NULL, 4), EINVAL, "NULL");
		ERR_INT(fn, pkbox_copy_out(NULL, buf, p, 4), EINVAL, "NULL");
		ERR_INT(fn, pkbox_copy_out(bogus, buf, p, 4), ENOENT, "unknown|destroyed");
		pkbox_free(d, p);
		ERR_INT(fn, pkbox_copy_out(d, buf, p, 4), EFAULT, "not memory");               /* freed */
		pkbox_domain_destroy(d);
		ERR_INT(fn, pkbox_copy_out(d, buf, q, 4), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

/* ------------------------------------------------------------------ */
/* Sealing                                                              */

static void check_pkbox_seal(void)
{
	const char *fn = "pkbox_seal";

	IN_CHILD(fn, "seal, then again") {
		OK_INT(fn, pkbox_seal(NULL));
		ERR_INT(fn, pkbox_seal(NULL), EALREADY, "already");
		still_works(fn);
	}
	IN_CHILD(fn, "refused options change nothing") {
		PKBOX_OPTS(pkbox_seal_opts, o);
		o.sz = 0;
		ERR_INT(fn, pkbox_seal(&o), EINVAL, "sz");
		o.sz = sizeof(size_t) + sizeof(unsigned) - 1;
		ERR_INT(fn, pkbox_seal(&o), EINVAL, "sz");
		o.sz = sizeof(o);
		o.flags = 1u << 20;
		ERR_INT(fn, pkbox_seal(&o), EINVAL, "flag");
		o.flags = PKBOX_SEAL_NO_EXIT | PKBOX_SEAL_STOP_ON_REFUSAL; /* needs NO_THREADS */
		ERR_INT(fn, pkbox_seal(&o), EINVAL, "NO_EXIT|NO_THREADS");
		o.flags = PKBOX_SEAL_NO_SIGRETURN; /* needs STOP_ON_REFUSAL */
		ERR_INT(fn, pkbox_seal(&o), EINVAL, "STOP_ON_REFUSAL");
		o.flags = PKBOX_SEAL_NO_THREADS;
		ERR_INT(fn, pkbox_seal(&o), EINVAL, "STOP_ON_REFUSAL");
		o.flags = 0;
		const char *nowhere[] = { "/nonexistent/pkbox-edge", NULL };
		o.allow_write = nowhere;
		ERR_INT(fn, pkbox_seal(&o), ENOENT, "allow_write|nonexistent");
		const char *code_dir[] = { exe_dir, NULL }; /* beneath a directory of code */
		o.allow_write = code_dir;
		ERR_INT(fn, pkbox_seal(&o), EPERM, "allow_write|beneath");
		EXPECT(fn, pkbox_sealed() == 0, "pkbox_seal: a refused seal left the process sealed");
		OK_INT(fn, pkbox_seal(NULL));
		still_works(fn);
	}
	IN_CHILD(fn, "opts of the first version, ending at a PROT_NONE page") {
		struct pkbox_seal_opts *o = at_page_end(SEAL_OPTS_V1);
		memset(o, 0, SEAL_OPTS_V1);
		o->sz = SEAL_OPTS_V1;
		OK_INT(fn, pkbox_seal(o));
	}
	IN_CHILD(fn, "larger opts, non-zero tail") {
		struct { struct pkbox_seal_opts o; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.o.sz = sizeof(big);
		big.tail = 1;
		ERR_INT(fn, pkbox_seal(&big.o), EINVAL, "sz|unknown|tail|fields");
		EXPECT(fn, pkbox_sealed() == 0, "pkbox_seal: sealed with an unknown non-zero tail in its opts");
	}
	IN_CHILD(fn, "larger opts, zero tail") {
		struct { struct pkbox_seal_opts o; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.o.sz = sizeof(big);
		OK_INT(fn, pkbox_seal(&big.o));
	}
}

static void check_pkbox_sealed(void)
{
	const char *fn = "pkbox_sealed";

	IN_CHILD(fn, "before and after") {
		int s = KEEP(fn, pkbox_sealed());
		EXPECT(fn, s == 0, "pkbox_sealed(): %d before the seal", s);
		if (seal_for(fn)) {
			s = KEEP(fn, pkbox_sealed());
			EXPECT(fn, s == 1, "pkbox_sealed(): %d after the seal", s);
		}
	}
}

static void check_pkbox_exit(void)
{
	const char *fn = "pkbox_exit";

	IN_CHILD_STATUS(fn, "pkbox_exit(42): that status, no exit handlers", 42) {
		pkbox_exit(42);
	}
	IN_CHILD_STATUS(fn, "pkbox_exit(43), sealed with NO_EXIT", 43) {
		PKBOX_OPTS(pkbox_seal_opts, o,
			   .flags = PKBOX_SEAL_STOP_ON_REFUSAL | PKBOX_SEAL_NO_THREADS | PKBOX_SEAL_NO_EXIT);
		if (pkbox_seal(&o)) {
			fail(fn, "cannot seal with NO_EXIT: %s", pkbox_last_error());
			_exit(43);
		}
		pkbox_exit(43);
	}
	/* and no exit handler runs: main's (atexit) would set cnt->atexit_ran,
	 * which main checks after this */
}

static void check_pkbox_refusal_count(void)
{
	const char *fn = "pkbox_refusal_count";

	IN_CHILD(fn, "counts") {
		unsigned long n = KEEP(fn, pkbox_refusal_count());
		EXPECT(fn, n == 0, "pkbox_refusal_count(): %lu before the seal", n);
		if (seal_for(fn)) {
			struct pkbox_domain *d = domain("refused");
			intptr_t r = 0;
			pkbox_call(d, fn_refused_syscall, NULL, &r);
			unsigned long n1 = KEEP(fn, pkbox_refusal_count());
			EXPECT(fn, n1 == n + 1, "pkbox_refusal_count(): %lu, then %lu after a refusal", n, n1);
		}
	}
}

static struct pkbox_domain *sealed_and_refused(const char *fn)
{
	struct pkbox_domain *d;
	intptr_t r = 0;

	if (!seal_for(fn))
		return NULL;
	d = domain("refused");
	pkbox_call(d, fn_refused_syscall, NULL, &r);
	return d;
}

static void check_pkbox_last_refusal(void)
{
	const char *fn = "pkbox_last_refusal";

	IN_CHILD(fn, "records") {
		PKBOX_OPTS(pkbox_refusal, rec);
		ERR_INT(fn, pkbox_last_refusal(&rec), ENODATA, "no compartment|refused");
		if (sealed_and_refused(fn)) {
			OK_INT(fn, pkbox_last_refusal(&rec));
			EXPECT(fn, !strcmp(rec.domain, "refused") && rec.nr == SYS_execve,
			       "pkbox_last_refusal: domain \"%s\", nr %ld", rec.domain, rec.nr);
			ERR_INT(fn, pkbox_last_refusal(NULL), EINVAL, "NULL");
			rec.sz = 0;
			ERR_INT(fn, pkbox_last_refusal(&rec), EINVAL, "sz");
			rec.sz = REFUSAL_V1 - 1;
			ERR_INT(fn, pkbox_last_refusal(&rec), EINVAL, "sz");
			still_works(fn);
		}
	}
	IN_CHILD(fn, "sz of the first version, ending at a PROT_NONE page") {
		struct pkbox_refusal *rec = at_page_end(REFUSAL_V1);
		rec->sz = REFUSAL_V1;
		if (sealed_and_refused(fn))
			OK_INT(fn, pkbox_last_refusal(rec));
	}
	IN_CHILD(fn, "larger struct") {
		struct { struct pkbox_refusal r; uint64_t tail; } big;
		memset(&big, 0, sizeof(big));
		big.r.sz = sizeof(big);
		big.tail = 0x5a;
		if (sealed_and_refused(fn)) {
			/* an output struct: unknown fields come back 0 */
			OK_INT(fn, pkbox_last_refusal(&big.r));
			EXPECT(fn, big.tail == 0, "pkbox_last_refusal(sizeof + 8): left the unknown tail as it was");
		}
	}
}

/* ------------------------------------------------------------------ */
/* Code                                                                 */

static void check_pkbox_code_commit(void)
{
	const char *fn = "pkbox_code_commit";

	IN_CHILD(fn, "commits") {
		struct pkbox_domain *d = domain("jit");
		void *c = OK_PTR(fn, pkbox_code_commit(d, ret_insn, sizeof(ret_insn)));
		if (c)
			((void (*)(void))c)();
		ERR_PTR(fn, pkbox_code_commit(d, NULL, 1), EINVAL, "NULL|code");
		ERR_PTR(fn, pkbox_code_commit(d, ret_insn, 0), EINVAL, "len");
		ERR_PTR(fn, pkbox_code_commit(d, wrpkru_insn, sizeof(wrpkru_insn)), EPERM, "WRPKRU");
		ERR_PTR(fn, pkbox_code_commit(d, ret_insn, SIZE_MAX), ENOSPC, "fit|full");
		ERR_PTR(fn, pkbox_code_commit(NULL, ret_insn, 1), EINVAL, "NULL");
		ERR_PTR(fn, pkbox_code_commit(bogus, ret_insn, 1), ENOENT, "unknown|destroyed");
		struct inside *op = inside_new(d, OP_CODE_COMMIT);
		op->dom = d;
		inside_expect(fn, "pkbox_code_commit(d, ret, 1)", d, op, EPERM, "inside");
		OK_PTR(fn, pkbox_code_commit(d, ret_insn, sizeof(ret_insn)));
		pkbox_domain_destroy(d);
		ERR_PTR(fn, pkbox_code_commit(d, ret_insn, 1), ENOENT, "unknown|destroyed");
		still_works(fn);
	}
}

static void check_pkbox_inspect(void)
{
	const char *fn = "pkbox_inspect";

	IN_CHILD(fn, "inspections") {
		static const unsigned char two[] = { 0x0f, 0x01, 0xef, 0x90, 0x0f, 0x01, 0xef };
		struct pkbox_finding out[4];
		int n = OK_INT(fn, pkbox_inspect(two, sizeof(two), out, 4));
		EXPECT(fn, n == 2 && out[0].kind == PKBOX_INSN_WRPKRU && out[0].addr == (uintptr_t)two,
		       "pkbox_inspect: %d findings", n);
		n = OK_INT(fn, pkbox_inspect(two, sizeof(two), NULL, 0));
		EXPECT(fn, n == 2, "pkbox_inspect(out NULL, max 0): %d", n);
		n = OK_INT(fn, pkbox_inspect(NULL, 0, NULL, 0));
		EXPECT(fn, n == 0, "pkbox_inspect(NULL, 0): %d", n);
		ERR_INT(fn, pkbox_inspect(NULL, 16, out, 4), EINVAL, "code|NULL");
		ERR_INT(fn, pkbox_inspect(two, sizeof(two), NULL, 4), EINVAL, "out|NULL");
	}
	IN_CHILD(fn, "more findings than max, out ending at a PROT_NONE page") {
		static const unsigned char two[] = { 0x0f, 0x01, 0xef, 0x90, 0x0f, 0x01, 0xef };
		struct pkbox_finding *one = at_page_end(sizeof(*one));
		int n = OK_INT(fn, pkbox_inspect(two, sizeof(two), one, 1)); /* the count; nothing past out[0] */
		EXPECT(fn, n == 2, "pkbox_inspect(max 1): %d", n);
	}
	IN_CHILD(fn, "a range that wraps around the address space") {
		struct pkbox_finding out[4];
		ERR_INT(fn, pkbox_inspect((const void *)(UINTPTR_MAX - 15), 64, out, 4), EINVAL, "code|len|wrap");
	}
}

/* ------------------------------------------------------------------ */

static void set_atexit_ran(void)
{
	cnt->atexit_ran = 1;
}

static const struct {
	const char *name;
	void (*check)(void);
} checks[] = {
#define C(F) { #F, check_##F }
	C(pkbox_init), C(pkbox_backend), C(pkbox_backend_name), C(pkbox_key0_protected), C(pkbox_probe),
	C(pkbox_domain_create), C(pkbox_domain_destroy), C(pkbox_host_domain), C(pkbox_domain_reset),
	C(pkbox_domain_name), C(pkbox_domain_pkey), C(pkbox_domain_faulted), C(pkbox_domain_usage),
	C(pkbox_domain_of), C(pkbox_malloc), C(pkbox_malloc_flags), C(pkbox_calloc), C(pkbox_realloc), C(pkbox_free), C(pkbox_grant),
	C(pkbox_revoke), C(pkbox_call), C(pkbox_call_timed), C(pkbox_host_run), C(pkbox_callback_register),
	C(pkbox_callback_unregister), C(pkbox_host_call), C(pkbox_last_fault), C(pkbox_signals_install),
	C(pkbox_fault_count), C(pkbox_set_print), C(pkbox_last_error), C(pkbox_strerror), C(pkbox_plugin_load),
	C(pkbox_plugin_domain), C(pkbox_plugin_sym), C(pkbox_plugin_sym_info), C(pkbox_plugin_unload), C(pkbox_copy_in),
	C(pkbox_copy_out), C(pkbox_seal), C(pkbox_sealed), C(pkbox_exit), C(pkbox_refusal_count),
	C(pkbox_last_refusal), C(pkbox_code_commit), C(pkbox_inspect),
#undef C
};

int main(int argc, char **argv)
{
	const char *pd = getenv("PKBOX_PLUGIN_DIR");
	const char *log = getenv("PKBOX_EDGE_ERRNO_LOG");
	char self[PATH_MAX];
	ssize_t n;
	int fns = 0, failed_fns = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(plugin_dir, sizeof(plugin_dir), "%s", pd ? pd : argc > 1 ? argv[1] : "plugins");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	snprintf(exe_dir, sizeof(exe_dir), "%s", self);
	if (strrchr(exe_dir, '/'))
		*strrchr(exe_dir, '/') = 0;
	cnt = mmap(NULL, sizeof(*cnt), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	if (log && *log && (errlog_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		perror(log);
		return 2;
	}
	atexit(set_atexit_ran); /* pkbox_exit() must not run it (check_pkbox_exit) */
	printf("# the API edge (plugins in %s)\n", plugin_dir);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		bool chosen = argc <= 2;

		for (int a = 2; a < argc; a++)
			chosen |= !strcmp(argv[a], checks[i].name);
		if (!chosen)
			continue;
		int f0 = cnt->fails, c0 = cnt->checks;
		checks[i].check();
		if (!strcmp(checks[i].name, "pkbox_exit") && cnt->atexit_ran)
			fail("pkbox_exit", "pkbox_exit(42): the exit handlers ran");
		fns++;
		failed_fns += cnt->fails > f0;
		printf("# %s: %d checks, %d failed\n", checks[i].name, cnt->checks - c0, cnt->fails - f0);
	}
	printf("# %d of %d functions failed; %d of %d checks failed\n", failed_fns, fns, cnt->fails, cnt->checks);
	return cnt->fails ? 1 : 0;
}
