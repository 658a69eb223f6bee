/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pkbox-bench - what a compartment costs, side by side with what it is
 * compared to: a plain call, the bare mprotect pair, a worker process, zlib
 * called directly, glibc's malloc; and how a switch grows with the memory,
 * allocations, domains and threads involved.
 *
 *   pkbox-bench [--quick] [--json] [--only=SECTIONS] [--libz=PATH]
 *   pkbox-bench --count-insns [--json]
 *
 * Every figure is the median of repeated samples with its 10th and 90th
 * percentiles; a sample times a batch of operations and divides.  The
 * figures of one table are measured in rounds, one batch of each per
 * round, so that drift affects all alike.  Public API only (pkeysbox.h).
 * See pkbox-bench(1).
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkeysbox.h"

#define EX_USAGE_ 64
#define MAX_ROUNDS 64
#define MAX_RESULTS 192
#define MAX_PROBES 24
#define MAX_NOTES 24
#define KIB 1024UL
#define MIB (1024UL * 1024)
#define GIB (1024UL * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* Options and sections                                                 */

enum { S_GATE, S_FLOOR, S_PROCESS, S_MALLOC, S_SIZE, S_ALLOCS, S_DOMAINS, S_THREADS, S_ZLIB, S_COUNT };

static const char *const sec_name[S_COUNT] = { "gate",	 "floor",   "process", "malloc", "size",
					       "allocs", "domains", "threads", "zlib" };
static const char *const sec_title[S_COUNT] = {
	"calls into a compartment (ns per operation)",
	"the mprotect fallback's floor: the bare mprotect pair (ns per pair)",
	"process isolation: a forked worker, 8-byte request and reply (ns per round trip)",
	"allocation: one allocation, its first byte written, freed (ns per pair)",
	"growth with resident memory (ns per empty round trip / per host callback)",
	"growth with live allocations, alternately in the called domain and the host's private one",
	"growth with domains alive, each holding one written 4 KiB allocation",
	"threads switching at once, each into its own domain (wall time per call each; calls/s in all)",
	"zlib compress2 (level 6) of mixed data, per chunk (copy in, call, pkbox_copy_out the result)",
};

static struct {
	bool quick, json, count_insns;
	unsigned int only; /* bit per section; 0: all */
	int rounds;
	double target_ns; /* a sample's batch lasts about this long */
	const char *libz;
} opt = { .libz = "libz.so.1" };

static bool want(int s)
{
	return !opt.only || (opt.only & (1u << s));
}

/* ------------------------------------------------------------------ */
/* Results                                                              */

struct result {
	int section;
	char name[48];  /* the JSON key */
	char label[72]; /* the table's words */
	const char *unit; /* "ns", "calls/s" or "count" */
	double med, p10, p90;
	int rounds;
	long batch;
	int ref;       /* the result this one is compared with, -1 none */
	char na[160];  /* not measured: why */
};

static struct result results[MAX_RESULTS];
static int nresults;
static double t_start; /* ns, when the measurements began */
static char notes[MAX_NOTES][200];
static int nnotes;
static _Thread_local char why[160]; /* the failure of the last operation */

/* src into dst[n], cut short where it does not fit */
static void copy_str(char *dst, size_t n, const char *src)
{
	size_t k = strnlen(src, n - 1);

	memcpy(dst, src, k);
	dst[k] = 0;
}

__attribute__((format(printf, 1, 2))) static void note(const char *fmt, ...)
{
	va_list ap;

	if (nnotes == MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(notes[nnotes++], sizeof(notes[0]), fmt, ap);
	va_end(ap);
}

/* an operation failed: why says what and the library's message */
static int fail(const char *what)
{
	const char *m = pkbox_last_error();

	if (m && !strncmp(m, "pkbox_", 6)) /* the library's message names its function */
		copy_str(why, sizeof(why), m);
	else
		snprintf(why, sizeof(why), "%s: %s", what, m && *m ? m : strerror(errno));
	return -1;
}

__attribute__((format(printf, 3, 4))) static int add_result(int sec, const char *unit, const char *fmt, ...)
{
	va_list ap;
	struct result *r;

	if (nresults == MAX_RESULTS) {
		fprintf(stderr, "pkbox-bench: too many figures\n");
		exit(2);
	}
	r = &results[nresults];
	*r = (struct result){ .section = sec, .unit = unit, .ref = -1 };
	va_start(ap, fmt);
	vsnprintf(r->name, sizeof(r->name), fmt, ap);
	va_end(ap);
	copy_str(r->label, sizeof(r->label), r->name);
	return nresults++;
}

static void set_label(int i, const char *label)
{
	copy_str(results[i].label, sizeof(results[i].label), label);
}

__attribute__((format(printf, 2, 3))) static void set_na(int i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(results[i].na, sizeof(results[i].na), fmt, ap);
	va_end(ap);
}

/* a figure that is a number, not a timing */
static void set_value(int i, double v)
{
	results[i].med = results[i].p10 = results[i].p90 = v;
	results[i].rounds = 1;
	results[i].batch = 1;
}

/* ------------------------------------------------------------------ */
/* Timing: rounds of batches, median and spread                         */

typedef int (*op_fn)(void *ctx, long n); /* n operations: 0, or -1 (why set) */

struct probe {
	op_fn run;
	void *ctx;
	long n, min_n;
	int res;
	bool failed;
	double s[MAX_ROUNDS]; /* ns per operation, one per round */
};

struct plist {
	struct probe p[MAX_PROBES];
	int n;
};

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int add_probe(struct plist *pl, int res, op_fn run, void *ctx, long min_n)
{
	if (pl->n == MAX_PROBES) {
		fprintf(stderr, "pkbox-bench: too many figures in one table\n");
		exit(2);
	}
	pl->p[pl->n++] = (struct probe){ .run = run, .ctx = ctx, .min_n = min_n > 0 ? min_n : 1, .res = res };
	return res;
}

/* a batch of n: its time in ns, or -1 */
static double time_batch(struct probe *p, long n)
{
	double t0 = now_ns();

	if (p->run(p->ctx, n))
		return -1;
	return now_ns() - t0;
}

/* the batch size that lasts about opt.target_ns (the first runs warm up) */
static int calibrate(struct probe *p)
{
	long n = p->min_n;

	for (;;) {
		double t = time_batch(p, n);

		if (t < 0)
			return -1;
		if (t >= opt.target_ns / 8 || n >= (1L << 32)) {
			double fit = (double)n * opt.target_ns / (t > 1 ? t : 1);

			p->n = fit < (double)p->min_n ? p->min_n : (long)fit;
			return 0;
		}
		n *= 4;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* the q-quantile of n sorted samples, interpolated */
static double quantile(const double *s, int n, double q)
{
	double x = q * (n - 1);
	int i = (int)x;

	return i + 1 < n ? s[i] + (s[i + 1] - s[i]) * (x - i) : s[i];
}

static void finish(struct probe *p)
{
	struct result *r = &results[p->res];

	if (p->failed) {
		set_na(p->res, "%s", why);
		return;
	}
	qsort(p->s, (size_t)opt.rounds, sizeof(double), cmp_double);
	r->med = quantile(p->s, opt.rounds, 0.5);
	r->p10 = quantile(p->s, opt.rounds, 0.1);
	r->p90 = quantile(p->s, opt.rounds, 0.9);
	r->rounds = opt.rounds;
	r->batch = p->n;
}

/* every probe calibrated, then opt.rounds rounds of one batch each */
static void measure(struct plist *pl)
{
	for (int i = 0; i < pl->n; i++) {
		pl->p[i].failed = calibrate(&pl->p[i]) != 0;
		if (pl->p[i].failed)
			finish(&pl->p[i]);
	}
	for (int r = 0; r < opt.rounds; r++)
		for (int i = 0; i < pl->n; i++) {
			struct probe *p = &pl->p[i];
			double t;

			if (p->failed)
				continue;
			t = time_batch(p, p->n);
			if (t < 0) {
				p->failed = true;
				finish(p);
				continue;
			}
			p->s[r] = t / (double)p->n;
		}
	for (int i = 0; i < pl->n; i++)
		if (!pl->p[i].failed)
			finish(&pl->p[i]);
	pl->n = 0;
}

/* ------------------------------------------------------------------ */
/* Calls: the operations the tables time                                */

struct callee {
	struct pkbox_domain *d;
	int cb;      /* host callback id registered for d */
	uint8_t *io; /* 64 bytes in d */
	uint8_t src[64], dst[64];
};

static intptr_t empty(void *a)
{
	return (intptr_t)a;
}

static intptr_t (*volatile direct_fp)(void *) = empty;

/* inside: answers the request in place */
static intptr_t answer64(void *a)
{
	uint8_t *b = a;

	for (int i = 0; i < 64; i++)
		b[i] ^= 0x5a;
	return 0;
}

static intptr_t host_cb(void *a)
{
	return (intptr_t)a + 1;
}

struct cb_job {
	int id;
	long n;
};

/* inside: n host callbacks */
static intptr_t cb_loop(void *a)
{
	const struct cb_job *j = a;
	intptr_t r = 0;

	for (long i = 0; i < j->n; i++)
		if (pkbox_host_call(j->id, (void *)i, &r) || r != i + 1)
			return -1;
	return 0;
}

static int op_direct(void *c, long n)
{
	(void)c;
	for (long i = 0; i < n; i++)
		direct_fp((void *)i);
	return 0;
}

static int op_call(void *c, long n)
{
	struct callee *g = c;
	intptr_t r;

	for (long i = 0; i < n; i++)
		if (pkbox_call(g->d, empty, (void *)i, &r) || r != i)
			return fail("pkbox_call");
	return 0;
}

/* what a caller with a request buffer kept in the domain does */
static int op_copy_buf(void *c, long n)
{
	struct callee *g = c;
	intptr_t r;

	for (long i = 0; i < n; i++) {
		memcpy(g->io, g->src, 64);
		if (pkbox_call(g->d, answer64, g->io, &r) || pkbox_copy_out(g->d, g->dst, g->io, 64))
			return fail("call with 64 bytes");
	}
	return 0;
}

/* the same with a fresh buffer per call: pkbox_copy_in, pkbox_free */
static int op_copy_in(void *c, long n)
{
	struct callee *g = c;
	intptr_t r;

	for (long i = 0; i < n; i++) {
		uint8_t *p = pkbox_copy_in(g->d, g->src, 64);

		if (!p || pkbox_call(g->d, answer64, p, &r) || pkbox_copy_out(g->d, g->dst, p, 64) ||
		    pkbox_free(g->d, p))
			return fail("call with pkbox_copy_in");
	}
	return 0;
}

/* n host callbacks from inside one call */
static int op_callback(void *c, long n)
{
	struct callee *g = c;
	struct cb_job j = { g->cb, n };
	intptr_t r;

	if (pkbox_call(g->d, cb_loop, &j, &r) || r)
		return fail("pkbox_host_call");
	return 0;
}

/* a domain to call, with a host callback and a 64-byte buffer */
static int callee_open(struct callee *g, const char *name, size_t quota)
{
	PKBOX_OPTS(pkbox_domain_opts, o, .quota = quota);

	memset(g, 0, sizeof(*g));
	for (int i = 0; i < 64; i++)
		g->src[i] = (uint8_t)i;
	g->d = pkbox_domain_create(name, &o);
	if (!g->d)
		return fail("pkbox_domain_create");
	g->cb = pkbox_callback_register(g->d, host_cb);
	g->io = pkbox_malloc(g->d, 64);
	if (g->cb < 0 || !g->io)
		return fail("set-up");
	return 0;
}

static void callee_close(struct callee *g)
{
	if (g->d && pkbox_domain_destroy(g->d))
		fprintf(stderr, "pkbox-bench: pkbox_domain_destroy: %s\n", pkbox_last_error());
	g->d = NULL;
}

/* the empty round trip and a host callback into g, as figures of section sec */
static void add_call_pair(struct plist *pl, struct callee *g, int sec, const char *key, const char *words)
{
	char l[96];

	snprintf(l, sizeof(l), "%s: round trip", words);
	set_label(add_probe(pl, add_result(sec, "ns", "%s_call", key), op_call, g, 1), l);
	snprintf(l, sizeof(l), "%s: host callback", words);
	set_label(add_probe(pl, add_result(sec, "ns", "%s_callback", key), op_callback, g, 16), l);
}

/* the same two figures, not measured: why */
static void na_pair(int sec, const char *key, const char *words, const char *reason)
{
	static const char *const kind[2][2] = { { "call", "round trip" }, { "callback", "host callback" } };

	for (int k = 0; k < 2; k++) {
		char l[96];
		int r = add_result(sec, "ns", "%s_%s", key, kind[k][0]);

		snprintf(l, sizeof(l), "%s: %s", words, kind[k][1]);
		set_label(r, l);
		set_na(r, "%s", reason);
	}
}

/* ------------------------------------------------------------------ */
/* The mprotect floor                                                   */

struct span {
	uint8_t *p;
	size_t len;
};

static int op_mprotect(void *c, long n)
{
	struct span *s = c;

	for (long i = 0; i < n; i++)
		if (mprotect(s->p, s->len, PROT_NONE) || mprotect(s->p, s->len, PROT_READ | PROT_WRITE))
			return fail("mprotect");
	return 0;
}

/* resident anonymous memory of pages pages */
static int span_open(struct span *s, size_t pages)
{
	s->len = pages * 4096;
	s->p = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->p == MAP_FAILED) {
		s->p = NULL;
		return fail("mmap");
	}
	memset(s->p, 1, s->len);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Process isolation: a worker that echoes 8 bytes                     */

struct worker {
	int wfd, rfd;
	pid_t pid;
};

static void echo_loop(int rfd, int wfd)
{
	uint64_t v;

	while (read(rfd, &v, 8) == 8 && write(wfd, &v, 8) == 8)
		;
	_exit(0);
}

/* over two pipes (socket == false) or one socketpair */
static int worker_open(struct worker *w, bool socket)
{
	int a[2], b[2];

	w->pid = -1;
	if (socket ? socketpair(AF_UNIX, SOCK_STREAM, 0, a) : (pipe(a) || pipe(b)))
		return fail(socket ? "socketpair" : "pipe");
	if (socket) {
		b[0] = dup(a[1]);
		b[1] = dup(a[0]);
	}
	w->pid = fork();
	if (w->pid < 0)
		return fail("fork");
	if (w->pid == 0) { /* keeps no other end open: an earlier worker sees EOF */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != a[0] && fd != b[1])
				close(fd);
		echo_loop(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	w->wfd = a[1];
	w->rfd = b[0];
	return 0;
}

static void worker_close(struct worker *w)
{
	if (w->pid <= 0)
		return;
	close(w->wfd);
	close(w->rfd);
	waitpid(w->pid, NULL, 0);
	w->pid = -1;
}

static int op_ipc(void *c, long n)
{
	struct worker *w = c;

	for (long i = 0; i < n; i++) {
		uint64_t v = (uint64_t)i, back = 0;

		if (write(w->wfd, &v, 8) != 8 || read(w->rfd, &back, 8) != 8 || back != v)
			return fail("worker round trip");
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Section: calls, the floor, processes (one table, interleaved)        */

struct basic {
	struct callee g;
	struct span page, region;
	struct worker pipe, sock;
};

static void basic_gate(struct plist *pl, struct basic *b)
{
	static const struct {
		const char *name, *label;
		op_fn fn;
		long min_n;
	} f[] = {
		{ "direct_call", "direct call (volatile function pointer)", op_direct, 1 },
		{ "empty_call", "pkbox_call, empty function", op_call, 1 },
		{ "copy64_call", "64 B in and out: memcpy in, call, pkbox_copy_out", op_copy_buf, 1 },
		{ "copy64_copy_in_call", "64 B: pkbox_copy_in, call, pkbox_copy_out, pkbox_free", op_copy_in, 1 },
		{ "host_callback", "host callback (pkbox_host_call from inside)", op_callback, 16 },
	};
	int ref = -1;

	if (callee_open(&b->g, "bench", 0)) {
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		{
			int r = add_result(S_GATE, "ns", "%s", f[i].name);

			set_label(r, f[i].label);
			set_na(r, "%s", why);
		}
		return;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		int r = add_probe(pl, add_result(S_GATE, "ns", "%s", f[i].name), f[i].fn, &b->g, f[i].min_n);

		set_label(r, f[i].label);
		if (i == 0)
			ref = r;
		else
			results[r].ref = ref;
	}
}

static void basic_floor(struct plist *pl, struct basic *b)
{
	int r1 = add_result(S_FLOOR, "ns", "mprotect_pair_1page");
	int r64 = add_result(S_FLOOR, "ns", "mprotect_pair_64pages");

	set_label(r1, "mprotect NONE then RW, 1 resident page");
	set_label(r64, "mprotect NONE then RW, 64 resident pages");
	if (span_open(&b->page, 1))
		set_na(r1, "%s", why);
	else
		add_probe(pl, r1, op_mprotect, &b->page, 1);
	if (span_open(&b->region, 64))
		set_na(r64, "%s", why);
	else
		add_probe(pl, r64, op_mprotect, &b->region, 1);
}

static void basic_process(struct plist *pl, struct basic *b)
{
	int rp = add_result(S_PROCESS, "ns", "pipe_round_trip");
	int rs = add_result(S_PROCESS, "ns", "socketpair_round_trip");

	set_label(rp, "forked worker over two pipes");
	set_label(rs, "forked worker over a socketpair");
	if (worker_open(&b->pipe, false))
		set_na(rp, "%s", why);
	else
		add_probe(pl, rp, op_ipc, &b->pipe, 1);
	if (worker_open(&b->sock, true))
		set_na(rs, "%s", why);
	else
		add_probe(pl, rs, op_ipc, &b->sock, 1);
}

static void section_basic(void)
{
	struct basic b = { .pipe.pid = -1, .sock.pid = -1 };
	struct plist pl = { .n = 0 };

	if (want(S_GATE))
		basic_gate(&pl, &b);
	if (want(S_FLOOR))
		basic_floor(&pl, &b);
	if (want(S_PROCESS))
		basic_process(&pl, &b);
	measure(&pl);
	callee_close(&b.g);
	worker_close(&b.pipe);
	worker_close(&b.sock);
	if (b.page.p)
		munmap(b.page.p, b.page.len);
	if (b.region.p)
		munmap(b.region.p, b.region.len);
	if (want(S_GATE))
		note("gate: \"64 B\" keeps a request buffer in the domain (memcpy in, pkbox_copy_out of the answer); "
		     "the copy_in row allocates it per call");
}

/* ------------------------------------------------------------------ */
/* Section: allocation                                                  */

struct alloc_op {
	struct pkbox_domain *d; /* NULL: glibc */
	size_t size;
};

static int op_alloc(void *c, long n)
{
	struct alloc_op *a = c;

	for (long i = 0; i < n; i++) {
		volatile char *p = a->d ? pkbox_malloc(a->d, a->size) : malloc(a->size);

		if (!p)
			return fail("malloc");
		p[0] = 1;
		if (!a->d)
			free((void *)p);
		else if (pkbox_free(a->d, (void *)p))
			return fail("pkbox_free");
	}
	return 0;
}

/* how many allocations can be live at once: until pkbox_malloc fails */
static void alloc_limit(struct pkbox_domain *d)
{
	static void *live[200000];
	int r = add_result(S_MALLOC, "count", "pkbox_malloc_live_limit");
	long k = 0;

	set_label(r, "pkbox_malloc: live 16 B allocations until it fails");
	while (k < (long)(sizeof(live) / sizeof(live[0])) && (live[k] = pkbox_malloc(d, 16)))
		k++;
	set_value(r, (double)k);
	if (k < 200000)
		note("malloc: pkbox_malloc stopped at %ld live 16 B allocations: %s", k, pkbox_last_error());
	else
		note("malloc: %ld live 16 B allocations, no limit met (small objects are packed in runs)", k);
	while (k > 0)
		pkbox_free(d, live[--k]);
}

static void section_malloc(void)
{
	static const size_t sizes[] = { 16, 256, 4 * KIB, 64 * KIB };
	static const char *const words[] = { "16 B", "256 B", "4 KiB", "64 KiB" };
	struct alloc_op ops[8];
	struct plist pl = { .n = 0 };
	struct callee g;

	if (callee_open(&g, "alloc", 0)) {
		set_na(add_result(S_MALLOC, "ns", "pkbox_malloc"), "%s", why);
		return;
	}
	for (int i = 0; i < 4; i++) {
		char l[72];
		int rg, rp;

		ops[2 * i] = (struct alloc_op){ NULL, sizes[i] };
		ops[2 * i + 1] = (struct alloc_op){ g.d, sizes[i] };
		rg = add_probe(&pl, add_result(S_MALLOC, "ns", "glibc_malloc_%zu", sizes[i]), op_alloc, &ops[2 * i], 1);
		rp = add_probe(&pl, add_result(S_MALLOC, "ns", "pkbox_malloc_%zu", sizes[i]), op_alloc, &ops[2 * i + 1], 1);
		snprintf(l, sizeof(l), "glibc malloc/free %s", words[i]);
		set_label(rg, l);
		snprintf(l, sizeof(l), "pkbox_malloc/pkbox_free %s", words[i]);
		set_label(rp, l);
		results[rp].ref = rg;
	}
	measure(&pl);
	alloc_limit(g.d);
	callee_close(&g);
}

/* ------------------------------------------------------------------ */
/* Section: resident memory                                             */

static size_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	size_t kib = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %zu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib * 1024;
}

static const char *size_words(size_t s)
{
	static char b[4][16];
	static int k;
	char *o = b[k++ & 3];

	if (s >= GIB)
		snprintf(o, 16, "%zu GiB", s / GIB);
	else if (s >= MIB)
		snprintf(o, 16, "%zu MiB", s / MIB);
	else
		snprintf(o, 16, "%zu KiB", s / KIB);
	return o;
}

/* one point: size bytes written in owner, calls into g */
static void size_point(struct callee *g, struct pkbox_domain *owner, bool called, size_t size)
{
	struct plist pl = { .n = 0 };
	char key[48], words[72];
	const char *w = size_words(size);
	uint8_t *p;

	snprintf(key, sizeof(key), "%s_%zu", called ? "called" : "host", size);
	snprintf(words, sizeof(words), "%s in the %s", w, called ? "called domain" : "host's private domain");
	p = pkbox_malloc(owner, size);
	if (!p) {
		fail("pkbox_malloc");
		na_pair(S_SIZE, key, words, why);
		return;
	}
	memset(p, 0x11, size);
	add_call_pair(&pl, g, S_SIZE, key, words);
	measure(&pl);
	pkbox_free(owner, p);
}

static void section_size(void)
{
	static const size_t sizes[] = { 4 * KIB, MIB, 64 * MIB, GIB };
	size_t cap = mem_available() / 4;
	int npts = opt.quick ? 3 : 4;
	struct callee g;

	if (callee_open(&g, "size", GIB + 64 * MIB)) {
		set_na(add_result(S_SIZE, "ns", "size"), "%s", why);
		return;
	}
	for (int where = 0; where < 2; where++)
		for (int i = 0; i < npts; i++) {
			if (sizes[i] > cap) {
				char key[48], words[72], reason[64];

				snprintf(key, sizeof(key), "%s_%zu", where ? "host" : "called", sizes[i]);
				snprintf(words, sizeof(words), "%s in the %s", size_words(sizes[i]),
					 where ? "host's private domain" : "called domain");
				snprintf(reason, sizeof(reason), "memory: a quarter of MemAvailable is %zu MiB", cap / MIB);
				na_pair(S_SIZE, key, words, reason);
				continue;
			}
			size_point(&g, where ? pkbox_host_domain() : g.d, !where, sizes[i]);
		}
	callee_close(&g);
	note("size: sizes are capped at a quarter of MemAvailable (%zu MiB here)%s", cap / MIB,
	     opt.quick ? "; --quick stops at 64 MiB" : "");
}

/* ------------------------------------------------------------------ */
/* Section: live allocations                                            */

struct allocs {
	struct callee g;
	void **p;
	long live, max;
};

/* up to want live: alternately in the called domain and the host's; -1
 * when the library refuses one (the limit) */
static int allocs_grow(struct allocs *a, long target)
{
	while (a->live < target) {
		struct pkbox_domain *d = a->live % 2 ? pkbox_host_domain() : a->g.d;
		void *p = pkbox_malloc(d, 16);

		if (!p)
			return fail("pkbox_malloc");
		a->p[a->live++] = p;
	}
	return 0;
}

static void allocs_free(struct allocs *a)
{
	while (a->live > 0) {
		a->live--;
		pkbox_free(a->live % 2 ? pkbox_host_domain() : a->g.d, a->p[a->live]);
	}
}

/* all freed, one made again: what the peak left behind */
static void allocs_again(struct allocs *a)
{
	struct plist pl = { .n = 0 };
	long peak = a->live;

	allocs_free(a);
	if (allocs_grow(a, 1)) {
		na_pair(S_ALLOCS, "allocs_1_after_peak", "1 allocation again", why);
	} else {
		char words[64];

		snprintf(words, sizeof(words), "1 allocation again, after %ld", peak);
		add_call_pair(&pl, &a->g, S_ALLOCS, "allocs_1_after_peak", words);
		measure(&pl);
	}
	allocs_free(a);
}

static void section_allocs(void)
{
	static const long counts[] = { 1, 10, 100, 1000, 4000, 10000, 100000 };
	int npts = opt.quick ? 4 : 7;
	struct allocs a = { .max = 100000 };
	bool limited = false;
	char lim[200] = "";

	a.p = calloc((size_t)a.max, sizeof(void *));
	if (!a.p || callee_open(&a.g, "allocs", 0)) {
		set_na(add_result(S_ALLOCS, "ns", "allocs"), "%s", a.p ? why : "out of memory");
		free(a.p);
		return;
	}
	for (int i = 0; i < npts; i++) {
		struct plist pl = { .n = 0 };
		char key[32], words[48];

		if (!limited && allocs_grow(&a, counts[i])) {
			limited = true;
			snprintf(lim, sizeof(lim), "limit: %ld live, then %s", a.live, why);
		}
		snprintf(key, sizeof(key), "allocs_%ld", counts[i]);
		snprintf(words, sizeof(words), "%ld allocation%s", counts[i], counts[i] > 1 ? "s" : "");
		if (limited) {
			na_pair(S_ALLOCS, key, words, lim);
			continue;
		}
		add_call_pair(&pl, &a.g, S_ALLOCS, key, words);
		measure(&pl);
	}
	allocs_again(&a);
	callee_close(&a.g);
	free(a.p);
}

/* ------------------------------------------------------------------ */
/* Section: domains alive                                               */

struct doms {
	struct callee g; /* the one called */
	struct pkbox_domain *d[256];
	int n;           /* besides g */
};

/* one more domain with a written 4 KiB allocation; -1 when refused */
static int doms_add(struct doms *s)
{
	PKBOX_OPTS(pkbox_domain_opts, o, .quota = 1 * MIB);
	char name[16];
	char *p;

	if (s->n == 256)
		return -1;
	snprintf(name, sizeof(name), "alive%d", s->n);
	s->d[s->n] = pkbox_domain_create(name, &o);
	if (!s->d[s->n])
		return fail("pkbox_domain_create");
	p = pkbox_malloc(s->d[s->n], 4096);
	if (!p) {
		fail("pkbox_malloc");
		pkbox_domain_destroy(s->d[s->n]);
		return -1;
	}
	memset(p, 2, 4096);
	s->n++;
	return 0;
}

static void doms_point(struct doms *s, int alive, bool limit)
{
	struct plist pl = { .n = 0 };
	char key[32], words[48];

	snprintf(key, sizeof(key), limit ? "domains_limit" : "domains_%d", alive);
	snprintf(words, sizeof(words), limit ? "%d domains (the limit)" : "%d domain%s", alive, alive > 1 ? "s" : "");
	add_call_pair(&pl, &s->g, S_DOMAINS, key, words);
	measure(&pl);
}

static void section_domains(void)
{
	static const int counts[] = { 1, 4, 16 };
	struct doms s = { .n = 0 };
	int r;

	if (callee_open(&s.g, "alive", 0)) {
		set_na(add_result(S_DOMAINS, "ns", "domains"), "%s", why);
		return;
	}
	memset(s.g.io, 2, 64);
	for (int i = 0; i < 3; i++) {
		bool short_ = false;

		while (s.n + 1 < counts[i] && !short_)
			short_ = doms_add(&s) != 0;
		if (short_) {
			char key[32], words[32];

			snprintf(key, sizeof(key), "domains_%d", counts[i]);
			snprintf(words, sizeof(words), "%d domains", counts[i]);
			na_pair(S_DOMAINS, key, words, why);
			break;
		}
		doms_point(&s, counts[i], false);
	}
	while (doms_add(&s) == 0)
		;
	r = add_result(S_DOMAINS, "count", "domains_limit");
	set_label(r, "domains alive at the limit (besides the host's)");
	set_value(r, s.n + 1);
	note("domains: at most %d here (%s)", s.n + 1, why);
	doms_point(&s, s.n + 1, true);
	while (s.n > 0)
		pkbox_domain_destroy(s.d[--s.n]);
	callee_close(&s.g);
}

/* ------------------------------------------------------------------ */
/* Section: threads                                                     */

#define MAX_THREADS 8

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned int gen;
	int active, pending, kind, quit, err;
	long n;
	pthread_t th[MAX_THREADS];
	struct callee g[MAX_THREADS];
	char why[200];
};

struct tjob {
	struct pool *p;
	int idx;   /* worker */
	int kind;  /* 0: round trips, 1: host callbacks */
};

static void *pool_worker(void *a)
{
	struct tjob *t = a;
	struct pool *p = t->p;
	unsigned int seen = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->gen == seen && !p->quit)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		if (t->idx >= p->active)
			continue;
		long n = p->n;
		int kind = p->kind, rc;

		pthread_mutex_unlock(&p->mu);
		rc = kind ? op_callback(&p->g[t->idx], n) : op_call(&p->g[t->idx], n);
		pthread_mutex_lock(&p->mu);
		if (rc && !p->err) {
			p->err = 1;
			snprintf(p->why, sizeof(p->why), "thread %d: %s", t->idx, why);
		}
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* ctx: a struct tjob whose idx is the number of threads */
static int op_threads(void *c, long n)
{
	struct tjob *t = c;
	struct pool *p = t->p;

	pthread_mutex_lock(&p->mu);
	p->gen++;
	p->active = p->pending = t->idx;
	p->kind = t->kind;
	p->n = n;
	pthread_cond_broadcast(&p->go);
	while (p->pending)
		pthread_cond_wait(&p->done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	if (p->err)
		copy_str(why, sizeof(why), p->why);
	return p->err ? -1 : 0;
}

static int pool_open(struct pool *p, struct tjob *w)
{
	for (int i = 0; i < MAX_THREADS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "thread%d", i);
		if (callee_open(&p->g[i], name, 0))
			return -1;
	}
	for (int i = 0; i < MAX_THREADS; i++) {
		w[i] = (struct tjob){ p, i, 0 };
		if (pthread_create(&p->th[i], NULL, pool_worker, &w[i])) {
			snprintf(why, sizeof(why), "pthread_create failed");
			p->active = i; /* threads to join */
			return -1;
		}
	}
	p->active = 0;
	return 0;
}

static void pool_close(struct pool *p, int threads)
{
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->go);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < threads; i++)
		pthread_join(p->th[i], NULL);
	for (int i = 0; i < MAX_THREADS; i++)
		callee_close(&p->g[i]);
}

/* calls/s in all, from the wall time per call of each of t threads */
static void add_aggregate(int from, int t, int kind)
{
	const struct result f = results[from];
	int r = add_result(S_THREADS, "calls/s", "threads_%d_%s_calls_per_s", t, kind ? "callback" : "call");
	char l[72];

	snprintf(l, sizeof(l), "%s, %d thread%s: calls/s in all", kind ? "callbacks" : "round trips", t,
		 t > 1 ? "s" : "");
	set_label(r, l);
	if (f.na[0]) {
		set_na(r, "%s", f.na);
		return;
	}
	results[r].med = t * 1e9 / f.med;
	results[r].p10 = t * 1e9 / f.p90;
	results[r].p90 = t * 1e9 / f.p10;
	results[r].rounds = f.rounds;
	results[r].batch = f.batch;
}

static void section_threads(void)
{
	static const int counts[] = { 1, 2, 4, 8 };
	static struct pool p = { .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
				 .done = PTHREAD_COND_INITIALIZER };
	struct tjob w[MAX_THREADS], jobs[8];
	struct plist pl = { .n = 0 };
	int res[8];

	if (pool_open(&p, w)) {
		set_na(add_result(S_THREADS, "ns", "threads"), "%s", why);
		pool_close(&p, p.active);
		return;
	}
	for (int k = 0; k < 8; k++) {
		char l[72];

		jobs[k] = (struct tjob){ &p, counts[k % 4], k / 4 };
		res[k] = add_result(S_THREADS, "ns", "threads_%d_%s", counts[k % 4], k / 4 ? "callback" : "call");
		snprintf(l, sizeof(l), "%s, %d thread%s: time per call", k / 4 ? "callbacks" : "round trips",
			 counts[k % 4], k % 4 ? "s" : "");
		set_label(res[k], l);
		add_probe(&pl, res[k], op_threads, &jobs[k], k / 4 ? 16 : 1);
	}
	measure(&pl);
	pool_close(&p, MAX_THREADS);
	for (int k = 0; k < 8; k++)
		add_aggregate(res[k], counts[k % 4], k / 4);
	note("threads: the %d workers' domains are alive in every row (one 64 B allocation each)", MAX_THREADS);
}

/* ------------------------------------------------------------------ */
/* Section: zlib, direct and in a compartment of the sealed process     */

typedef int (*compress2_fn)(uint8_t *dst, unsigned long *dstlen, const uint8_t *src, unsigned long srclen, int level);
typedef unsigned long (*bound_fn)(unsigned long srclen);

#define ZPOOL (4 * MIB)

/* one job for the compartment, in its memory */
struct zjob {
	compress2_fn compress2;
	uint8_t *src, *dst;
	unsigned long srclen, dstlen;
};

struct zstate {
	compress2_fn compress2; /* the direct one */
	unsigned long cap;      /* compressBound(1 MiB) */
	const char *path;
	uint8_t *pool, *out;    /* mixed data; the host's output buffer */
	struct pkbox_plugin *plugin;
	struct pkbox_domain *dom;
	struct zjob *j;
	unsigned long off;
};

struct zop {
	struct zstate *z;
	unsigned long chunk;
	bool box;
};

/* inside */
static intptr_t do_compress(void *a)
{
	struct zjob *j = a;

	return j->compress2(j->dst, &j->dstlen, j->src, j->srclen, 6);
}

static int op_zlib(void *c, long n)
{
	struct zop *o = c;
	struct zstate *z = o->z;

	for (long i = 0; i < n; i++) {
		const uint8_t *in;
		unsigned long len = z->cap;
		intptr_t zr = 0;

		if (z->off + o->chunk > ZPOOL)
			z->off = 0;
		in = z->pool + z->off;
		z->off += o->chunk;
		if (!o->box) {
			if (z->compress2(z->out, &len, in, o->chunk, 6))
				return fail("compress2");
			continue;
		}
		memcpy(z->j->src, in, o->chunk);
		z->j->srclen = o->chunk;
		z->j->dstlen = z->cap;
		if (pkbox_call(z->dom, do_compress, z->j, &zr) || zr || z->j->dstlen > z->cap ||
		    pkbox_copy_out(z->dom, z->out, z->j->dst, z->j->dstlen))
			return fail("compress2 in the compartment");
	}
	return 0;
}

/* mixed data, a kind per KiB: text, random bytes, zeros, repeats, records */
static void zfill(uint8_t *b, size_t n)
{
	static const char *const words[] = { "compartment ", "key ", "the ", "domain ", "gate ", "plugin ",
					     "host ", "memory ", "of ", "a ", "secret\n" };
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch ((i / 1024 * 7) % 5) {
		case 0: {
			const char *w = words[(i / 7) % 11];

			b[i] = (uint8_t)w[i % strlen(w)];
			break;
		}
		case 1: b[i] = (uint8_t)x; break;
		case 2: b[i] = 0; break;
		case 3: b[i] = (uint8_t)("libpkeysbox"[i % 11] + (i / 4096) % 3); break;
		default: b[i] = (uint8_t)(i % 16 < 8 ? i / 16 : x % 10); break;
		}
	}
}

/* before the seal: zlib opened directly, the data made */
static int zlib_direct(struct zstate *z)
{
	void *h = dlopen(opt.libz, RTLD_NOW | RTLD_LOCAL);
	struct link_map *lm = NULL;
	bound_fn bound;

	if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) || !lm) {
		snprintf(why, sizeof(why), "cannot load %s: %s", opt.libz, dlerror());
		return -1;
	}
	z->compress2 = (compress2_fn)dlsym(h, "compress2");
	bound = (bound_fn)dlsym(h, "compressBound");
	if (!z->compress2 || !bound) {
		snprintf(why, sizeof(why), "%s has no compress2", lm->l_name);
		return -1;
	}
	z->path = lm->l_name;
	z->cap = bound(MIB);
	z->pool = malloc(ZPOOL);
	z->out = malloc(z->cap);
	if (!z->pool || !z->out) {
		snprintf(why, sizeof(why), "out of memory");
		return -1;
	}
	zfill(z->pool, ZPOOL);
	return 0;
}

/* the seal, then the same file as a plugin, and a job in its memory */
static int zlib_box(struct zstate *z)
{
	if (pkbox_seal(NULL))
		return fail("pkbox_seal");
	PKBOX_OPTS(pkbox_plugin_opts, po, .quota = 256 * MIB, .heap = 64 * MIB);
	z->plugin = pkbox_plugin_load(z->path, "zlib", &po);
	if (!z->plugin)
		return fail("pkbox_plugin_load");
	z->dom = pkbox_plugin_domain(z->plugin);
	z->j = pkbox_calloc(z->dom, 1, sizeof(*z->j));
	if (!z->j || !(z->j->src = pkbox_malloc(z->dom, MIB)) || !(z->j->dst = pkbox_malloc(z->dom, z->cap)))
		return fail("pkbox_malloc");
	z->j->compress2 = (compress2_fn)pkbox_plugin_sym(z->plugin, "compress2");
	if (!z->j->compress2)
		return fail("pkbox_plugin_sym");
	return 0;
}

/* zlib opened directly before the seal, then the seal and the plugin */
static void section_zlib(void)
{
	static struct zstate zs;
	struct zstate *z = &zs;
	static const unsigned long chunks[] = { 1 * KIB, 4 * KIB, 64 * KIB, MIB };
	struct zop ops[8];
	struct plist pl = { .n = 0 };
	int bad = zlib_direct(z) || zlib_box(z);

	for (int i = 0; i < 4; i++) {
		const char *w = size_words(chunks[i]);
		char l[72];
		int rd = add_result(S_ZLIB, "ns", "direct_%lu", chunks[i]);
		int rb = add_result(S_ZLIB, "ns", "compartment_%lu", chunks[i]);

		snprintf(l, sizeof(l), "direct, %s chunks", w);
		set_label(rd, l);
		snprintf(l, sizeof(l), "in a compartment, %s chunks", w);
		set_label(rb, l);
		results[rb].ref = rd;
		if (bad) {
			set_na(rd, "%s", why);
			set_na(rb, "%s", why);
			continue;
		}
		ops[2 * i] = (struct zop){ z, chunks[i], false };
		ops[2 * i + 1] = (struct zop){ z, chunks[i], true };
		add_probe(&pl, rd, op_zlib, &ops[2 * i], 1);
		add_probe(&pl, rb, op_zlib, &ops[2 * i + 1], 1);
	}
	measure(&pl);
	if (!bad)
		note("zlib: %s; the process is sealed (pkbox_seal) before the plugin is loaded", z->path);
}

/* ------------------------------------------------------------------ */
/* Output                                                               */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_result(const struct result *r)
{
	printf("      {\"name\": ");
	json_str(r->name);
	printf(", \"label\": ");
	json_str(r->label);
	printf(", \"unit\": \"%s\", ", r->unit);
	if (r->na[0]) {
		printf("\"na\": ");
		json_str(r->na);
	} else {
		printf("\"median\": %.6g, \"p10\": %.6g, \"p90\": %.6g, \"rounds\": %d, \"batch\": %ld", r->med, r->p10,
		       r->p90, r->rounds, r->batch);
	}
	printf("}");
}

static void print_json(void)
{
	printf("{\n  \"tool\": \"pkbox-bench\",\n  \"version\": \"%d.%d.%d\",\n  \"backend\": \"%s\",\n",
	       PKBOX_VERSION_MAJOR, PKBOX_VERSION_MINOR, PKBOX_VERSION_MICRO, pkbox_backend_name(pkbox_backend()));
	printf("  \"quick\": %s,\n  \"rounds\": %d,\n  \"spread\": \"p10-p90\",\n  \"elapsed_s\": %.1f,\n"
	       "  \"sections\": {",
	       opt.quick ? "true" : "false", opt.rounds, (now_ns() - t_start) / 1e9);
	for (int s = 0, first = 1; s < S_COUNT; s++) {
		if (!want(s))
			continue;
		printf("%s\n    \"%s\": [", first ? "" : ",", sec_name[s]);
		first = 0;
		for (int i = 0, f = 1; i < nresults; i++)
			if (results[i].section == s) {
				printf("%s\n", f ? "" : ",");
				f = 0;
				json_result(&results[i]);
			}
		printf("\n    ]");
	}
	printf("\n  },\n  \"notes\": [");
	for (int i = 0; i < nnotes; i++) {
		printf("%s\n    ", i ? "," : "");
		json_str(notes[i]);
	}
	printf("\n  ]\n}\n");
}

/* a value with its unit, readable */
static const char *human(double v, const char *unit, char *b, size_t len)
{
	if (!strcmp(unit, "count"))
		snprintf(b, len, "%.0f", v);
	else if (!strcmp(unit, "calls/s"))
		snprintf(b, len, v >= 1e6 ? "%.2f M/s" : "%.1f k/s", v >= 1e6 ? v / 1e6 : v / 1e3);
	else if (v < 1e3)
		snprintf(b, len, "%.1f ns", v);
	else if (v < 1e6)
		snprintf(b, len, "%.2f us", v / 1e3);
	else
		snprintf(b, len, "%.2f ms", v / 1e6);
	return b;
}

static void table_result(const struct result *r)
{
	char m[32], lo[32], hi[32];

	if (r->na[0]) {
		printf("  %-58s %12s  %s\n", r->label, "n/a", r->na);
		return;
	}
	human(r->med, r->unit, m, sizeof(m));
	if (!strcmp(r->unit, "count")) {
		printf("  %-58s %12s\n", r->label, m);
		return;
	}
	printf("  %-58s %12s  [%s .. %s]", r->label, m, human(r->p10, r->unit, lo, sizeof(lo)),
	       human(r->p90, r->unit, hi, sizeof(hi)));
	if (r->ref >= 0 && !results[r->ref].na[0] && results[r->ref].med > 0)
		printf("  x%.2f", r->med / results[r->ref].med);
	printf("\n");
}

static void print_table(void)
{
	const char *why0 = "";
	int k0 = pkbox_key0_protected(&why0);

	printf("pkbox-bench: backend %s, key-0 memory %s; median [p10 .. p90] of %d rounds\n",
	       pkbox_backend_name(pkbox_backend()), k0 == 1 ? "read-only inside" : "writable inside", opt.rounds);
	for (int s = 0; s < S_COUNT; s++) {
		if (!want(s))
			continue;
		printf("\n%s: %s\n", sec_name[s], sec_title[s]);
		for (int i = 0; i < nresults; i++)
			if (results[i].section == s)
				table_result(&results[i]);
	}
	printf("\n");
	for (int i = 0; i < nnotes; i++)
		printf("note: %s\n", notes[i]);
	printf("measured in %.1f s\n", (now_ns() - t_start) / 1e9);
}

/* ------------------------------------------------------------------ */
/* --count-insns: one empty round trip, single-stepped under ptrace     */

static volatile int marker;

__attribute__((noinline, noclone)) static void mark_begin(void)
{
	marker = 1;
}

__attribute__((noinline, noclone)) static void mark_end(void)
{
	marker = 2;
}

/* the child: a domain, one warm-up call, a stop, then the marked call */
static void insn_child(int wfd)
{
	struct pkbox_domain *d = pkbox_domain_create("insns", NULL);
	int be = (int)pkbox_backend();
	intptr_t r;

	if (!d || pkbox_call(d, empty, NULL, &r) || write(wfd, &be, sizeof(be)) != sizeof(be))
		_exit(3);
	close(wfd);
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(4);
	raise(SIGSTOP);
	mark_begin();
	int rc = pkbox_call(d, empty, (void *)1, &r);
	mark_end();
	_exit(rc ? 5 : 0);
}

struct steps {
	long between; /* from mark_begin to mark_end */
	long inside;  /* from pkbox_call's first instruction to its return */
};

/* one single step; the tracee's rip, or 0 when it is gone */
static uintptr_t step(pid_t pid, int *sig)
{
	struct user_regs_struct regs;
	int st;

	if (ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(intptr_t)*sig) || waitpid(pid, &st, 0) != pid ||
	    !WIFSTOPPED(st))
		return 0;
	*sig = WSTOPSIG(st) == SIGTRAP ? 0 : WSTOPSIG(st);
	if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
		return 0;
	return (uintptr_t)regs.rip;
}

static int count_steps(pid_t pid, struct steps *out)
{
	uintptr_t b = (uintptr_t)mark_begin, e = (uintptr_t)mark_end, call = (uintptr_t)pkbox_call;
	uintptr_t rip = 0, ret = 0;
	long n = 0, in_start = -1;
	int sig = 0;

	out->inside = -1;
	while (rip != b) /* to the first marker */
		if (!(rip = step(pid, &sig)) || ++n > 10000000)
			return -1;
	for (n = 0; rip != e; n++) {
		if (rip == call && in_start < 0) {
			struct user_regs_struct regs;

			in_start = n;
			if (ptrace(PTRACE_GETREGS, pid, NULL, &regs))
				return -1;
			errno = 0;
			ret = (uintptr_t)ptrace(PTRACE_PEEKDATA, pid, (void *)regs.rsp, NULL);
			if (errno)
				return -1;
		} else if (in_start >= 0 && out->inside < 0 && rip == ret) {
			out->inside = n - in_start;
		}
		if (!(rip = step(pid, &sig)) || n > 10000000)
			return -1;
	}
	out->between = n;
	return out->inside < 0 ? -1 : 0;
}

static int count_insns(void)
{
	struct steps s = { 0, 0 };
	int fds[2], be = 0, st, rc;
	pid_t pid;

	if (pipe(fds) || (pid = fork()) < 0) {
		perror("pkbox-bench: fork");
		return 2;
	}
	if (pid == 0) {
		close(fds[0]);
		insn_child(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &be, sizeof(be)) != sizeof(be) || waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st)) {
		fprintf(stderr, "pkbox-bench: the child could not set up a domain or stop (ptrace refused?)\n");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 2;
	}
	ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(intptr_t)PTRACE_O_EXITKILL);
	rc = count_steps(pid, &s);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (rc) {
		fprintf(stderr, "pkbox-bench: single-stepping the round trip failed\n");
		return 2;
	}
	if (opt.json)
		printf("{\n  \"tool\": \"pkbox-bench\",\n  \"backend\": \"%s\",\n  \"count_insns\": {\"round_trip\": %ld, "
		       "\"between_markers\": %ld, \"marker_overhead\": %ld}\n}\n",
		       pkbox_backend_name((enum pkbox_backend)be), s.inside, s.between, s.between - s.inside);
	else
		printf("backend %s: one empty round trip (pkbox_call, first instruction to return) executes %ld "
		       "user-space instructions (a syscall counts as one)\n(%ld between the markers, of which %ld are "
		       "the markers and the call's set-up)\n",
		       pkbox_backend_name((enum pkbox_backend)be), s.inside, s.between, s.between - s.inside);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Options and the order of things                                      */

static void usage(FILE *f)
{
	fprintf(f, "usage: pkbox-bench [OPTIONS]\n"
		   "  --quick             fewer rounds and smaller sweeps (well under a minute)\n"
		   "  --json              JSON instead of a table\n"
		   "  --only=SECTIONS     a comma list of: gate, floor, process, malloc, size, allocs,\n"
		   "                      domains, threads, zlib (default: all)\n"
		   "  --libz=PATH         the zlib to compare (default libz.so.1)\n"
		   "  --count-insns       count the instructions of one empty round trip (ptrace)\n"
		   "  -h, --help          this text\n"
		   "Figures: median [p10 .. p90] of rounds of batches; see pkbox-bench(1).\n");
}

/* on a copy: argv stays as it is for the re-execution */
static int parse_only(const char *arg)
{
	char *list = strdup(arg), *save = NULL;
	int rc = list ? 0 : -1;

	for (char *s = list ? strtok_r(list, ",", &save) : NULL; s && !rc; s = strtok_r(NULL, ",", &save)) {
		int k = 0;

		while (k < S_COUNT && strcmp(s, sec_name[k]))
			k++;
		if (k == S_COUNT) {
			fprintf(stderr, "pkbox-bench: no section \"%s\"\n", s);
			rc = -1;
		}
		else
			opt.only |= 1u << k;
	}
	free(list);
	return rc;
}

/* 0 go on, 1 done (help), -1 usage error */
static int parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },	  { "json", no_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' }, { "count-insns", no_argument, NULL, 'c' },
		{ "libz", required_argument, NULL, 'z' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'q': opt.quick = true; break;
		case 'j': opt.json = true; break;
		case 'c': opt.count_insns = true; break;
		case 'z': opt.libz = optarg; break;
		case 'o':
			if (parse_only(optarg))
				return -1;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -1;
	}
	opt.rounds = opt.quick ? 5 : 31;
	opt.target_ns = opt.quick ? 2e6 : 10e6;
	return 0;
}

/* 0 ready; 77 not here (PKBOX_SKIP_UNAVAILABLE); 2 error */
static int set_up(void)
{
	/* the host's private domain holds up to 1 GiB in the size sweep */
	PKBOX_OPTS(pkbox_config, cfg, .domain_quota = GIB + 64 * MIB);
	int rc = pkbox_init(&cfg);

	if (rc == -ENOTSUP && getenv("PKBOX_SKIP_UNAVAILABLE")) {
		printf("pkbox-bench: %s: skipped here\n", pkbox_last_error());
		return 77;
	}
	if (rc) {
		fprintf(stderr, "pkbox-bench: %s\n", pkbox_last_error());
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* what needs fork or threads before the seal and zlib; the table keeps
 * the sections' own order */
static void run_sections(void)
{
	if (want(S_GATE) || want(S_FLOOR) || want(S_PROCESS))
		section_basic();
	if (want(S_SIZE))
		section_size();
	if (want(S_DOMAINS))
		section_domains();
	if (want(S_THREADS))
		section_threads();
	/* many allocations leave the library's state resident, and each later
	 * mprotect switch pays for it (allocs_1_after_peak): these last */
	if (want(S_ALLOCS))
		section_allocs();
	if (want(S_MALLOC))
		section_malloc();
	if (want(S_ZLIB))
		section_zlib();
}

int main(int argc, char **argv)
{
	int rc = parse_args(argc, argv);

	if (rc)
		return rc > 0 ? 0 : EX_USAGE_;
	if (opt.count_insns)
		return count_insns(); /* never sealed: a sealed process refuses ptrace */
	/* sealing (for the zlib figures) needs every object bound eagerly */
	if (want(S_ZLIB) && !getenv("LD_BIND_NOW")) {
		setenv("LD_BIND_NOW", "1", 1);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "pkbox-bench: cannot re-execute itself with LD_BIND_NOW=1: %s\n", strerror(errno));
	}
	rc = set_up();
	if (rc)
		return rc;
	t_start = now_ns();
	run_sections();
	if (opt.json)
		print_json();
	else
		print_table();
	return 0;
}
