/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_reallibs - real, unchanged Debian libraries in a compartment, through
 * the public plugin API only: the job of LIB (expat, sqlite, png, jpeg,
 * xml2; job.h) is done once by calling the library directly in the host,
 * then in a sealed process by the same source built as a small plugin
 * (librl-LIB.so in PLUGIN_DIR, linked against the library) loaded with
 * pkbox_plugin_load(): the input copied in, the job called with
 * pkbox_call(), the result copied out with pkbox_copy_out() (which refuses
 * memory that is not the compartment's) and compared byte for byte.
 *
 *   test_reallibs LIB PLUGIN_DIR
 *
 * Exit 0: identical; 1: a difference or a failure; 77: the backend asked
 * for is not here (PKBOX_SKIP_UNAVAILABLE set).
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/utsname.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pkeysbox.h"
#include "job.h"

struct lib {
	const char *name, *fn;
	const char *malloc_ptr; /* a pointer to malloc the library keeps in its data, or NULL */
	pkbox_fn job;
	size_t (*input)(uint8_t **in);
};

static uint64_t rng = 0x2545f4914f6cdd1dULL;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		if (!(b->p = realloc(b->p, b->cap)))
			abort();
	}
}

static const char *const words[] = { "compartment", "key", "domain", "gate", "plugin", "host", "memory",
				     "seal", "élan", "naïve", "a&b", "x<y" };

/* a document with elements, attributes, text, entities, comments, CDATA,
 * a namespace and a processing instruction */
static size_t xml_input(uint8_t **in)
{
	struct buf b = { 0 };

	put(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- made by test_reallibs -->\n"
		"<catalog xmlns:p=\"urn:pkbox\" version=\"2\">\n");
	for (int i = 0; i < 400; i++) {
		const char *w = words[next() % 12];
		put(&b, "  <item id=\"%d\" p:kind=\"%s\">\n    <name>%s &amp; %s</name>\n", i, i % 3 ? "plain" : "special",
		    strchr(w, '&') || strchr(w, '<') ? "escaped" : w, words[next() % 8]);
		put(&b, "    <value unit=\"ms\">%u</value>\n", next() % 100000);
		if (i % 7 == 0)
			put(&b, "    <note><![CDATA[raw <text> & more %d]]></note>\n", i);
		if (i % 11 == 0)
			put(&b, "    <?pi target %d?>\n    <empty/>\n", i);
		put(&b, "  </item>\n");
	}
	put(&b, "</catalog>\n");
	*in = (uint8_t *)b.p;
	return b.len;
}

static size_t sql_input(uint8_t **in)
{
	struct buf b = { 0 };

	for (int i = 0; i < 3000; i++)
		put(&b, "%s %u\n", words[next() % 12], next() % 100000);
	*in = (uint8_t *)b.p;
	return b.len;
}

/* width, height, then pixels of `comp` bytes: gradients, noise, a pattern */
static size_t image(uint8_t **in, uint32_t w, uint32_t h, unsigned comp)
{
	size_t n = 8 + (size_t)w * h * comp;
	uint8_t *p = malloc(n);

	if (!p)
		abort();
	memcpy(p, &w, 4);
	memcpy(p + 4, &h, 4);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			for (unsigned c = 0; c < comp; c++) {
				uint8_t *q = p + 8 + ((size_t)y * w + x) * comp + c;
				*q = c == 3 ? (uint8_t)(255 - (x ^ y)) : y < h / 2 ? (uint8_t)(x * 3 + y * c) : (uint8_t)next();
			}
	*in = p;
	return n;
}

static size_t png_input(uint8_t **in)
{
	return image(in, 96, 64, 4);
}

static size_t jpeg_input(uint8_t **in)
{
	return image(in, 120, 80, 3);
}

static const struct lib libs[] = {
	{ "expat", "rl_expat_job", NULL, rl_expat_job, xml_input },
	{ "sqlite", "rl_sqlite_job", NULL, rl_sqlite_job, sql_input },
	{ "png", "rl_png_job", NULL, rl_png_job, png_input },
	{ "jpeg", "rl_jpeg_job", NULL, rl_jpeg_job, jpeg_input },
	{ "xml2", "rl_xml2_job", "xmlMalloc", rl_xml2_job, xml_input },
};

static void print(enum pkbox_print_level level, const char *msg)
{
	(void)level;
	printf("libpkeysbox: %s\n", msg);
}

/* A pointer to malloc the library keeps in its data (libxml2's xmlMalloc,
 * set by R_X86_64_64 relocations): the plugin's domain owns it, and it is
 * not the host's malloc. */
static int malloc_ptr(const struct lib *l, struct pkbox_plugin *p, struct pkbox_domain *d)
{
	PKBOX_OPTS(pkbox_sym_info, si);
	void *fp = NULL;

	if (!l->malloc_ptr)
		return 0;
	if (pkbox_plugin_sym_info(p, l->malloc_ptr, &si) || pkbox_copy_out(d, &fp, si.addr, sizeof(fp))) {
		fprintf(stderr, "%s: %s: %s\n", l->name, l->malloc_ptr, pkbox_last_error());
		return -1;
	}
	void *(*host_malloc)(size_t) = malloc;
	int ok = si.kind == PKBOX_SYM_DATA && si.owner == d && si.writable && fp && fp != (void *)host_malloc;
	printf("%s: %s of %s (%zu bytes): data of domain %s, writable: %s; the host's malloc: %s\n", l->name,
	       l->malloc_ptr, si.object, si.size, l->name, si.owner == d && si.writable ? "yes" : "NO",
	       fp == (void *)host_malloc ? "YES" : "no");
	return ok ? 0 : -1;
}

/* the job in the compartment; its result copied out into *out */
static int boxed(const struct lib *l, const char *dir, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/librl-%s.so", dir, l->name);
	PKBOX_OPTS(pkbox_plugin_opts, po, .quota = 512UL << 20, .heap = 128UL << 20);
	struct pkbox_plugin *p = pkbox_plugin_load(path, l->name, &po);
	if (!p) {
		fprintf(stderr, "%s: load: %s\n", l->name, pkbox_last_error());
		return -1;
	}
	struct pkbox_domain *d = pkbox_plugin_domain(p);
	pkbox_fn fn = (pkbox_fn)pkbox_plugin_sym(p, l->fn);
	struct rl_job *j = pkbox_calloc(d, 1, sizeof(*j)), res;
	void *cin = pkbox_copy_in(d, in, in_len);
	intptr_t r = -1;
	if (!fn || !j || !cin) {
		fprintf(stderr, "%s: %s\n", l->name, pkbox_last_error());
		return -1;
	}
	j->in = cin;
	j->in_len = in_len;
	if (pkbox_call(d, fn, j, &r) || r || pkbox_copy_out(d, &res, j, sizeof(res))) {
		fprintf(stderr, "%s: in the compartment: %s (job step %ld)\n", l->name, r ? "failed" : pkbox_last_error(),
			(long)r);
		return -1;
	}
	*out = malloc(res.out_len ? res.out_len : 1);
	if (!*out || pkbox_copy_out(d, *out, res.out, res.out_len)) {
		fprintf(stderr, "%s: the result: %s\n", l->name, pkbox_last_error());
		return -1;
	}
	*out_len = res.out_len;
	printf("%s: the result (%zu bytes at %p) is memory of domain %s: %s\n", l->name, res.out_len, (void *)res.out,
	       l->name, pkbox_domain_of(res.out) == d ? "yes" : "NO");
	int rc = pkbox_domain_of(res.out) == d && !malloc_ptr(l, p, d) ? 0 : -1;
	if (pkbox_plugin_unload(p)) {
		fprintf(stderr, "%s: unload: %s\n", l->name, pkbox_last_error());
		rc = -1;
	}
	return rc;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* RL_TIME=N: the job N times directly and N times in the compartment (the
 * input copied in, the call, the result copied out), alternated; prints
 * the medians.  Each run frees its result outside the timed part (the
 * direct one with free(), the compartment's with rl_free inside it).  A
 * benchmark mode: nothing is asserted. */
static int timing(const struct lib *l, const char *dir, const uint8_t *in, size_t in_len, int n)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/librl-%s.so", dir, l->name);
	PKBOX_OPTS(pkbox_plugin_opts, po, .quota = 1024UL << 20, .heap = 768UL << 20);
	struct pkbox_plugin *p = pkbox_plugin_load(path, l->name, &po);
	struct pkbox_domain *d = p ? pkbox_plugin_domain(p) : NULL;
	pkbox_fn fn = p ? (pkbox_fn)pkbox_plugin_sym(p, l->fn) : NULL;
	pkbox_fn give_back = p ? (pkbox_fn)pkbox_plugin_sym(p, "rl_free") : NULL;
	double dt[64], bt[64];

	if (!fn || !give_back || n < 1 || n > 64)
		return fprintf(stderr, "%s: timing: %s\n", l->name, pkbox_last_error()), 1;
	for (int i = 0; i < n; i++) {
		struct rl_job dj = { .in = in, .in_len = in_len }, res;
		double t0 = now_ms();
		intptr_t r = l->job(&dj);
		double t1 = now_ms();
		free(dj.out);
		struct rl_job *j = pkbox_calloc(d, 1, sizeof(*j));
		uint8_t *cin = j ? pkbox_copy_in(d, in, in_len) : NULL, *out = NULL;
		double t2 = now_ms();
		if (cin) {
			j->in = cin;
			j->in_len = in_len;
		}
		if (r || !cin || pkbox_call(d, fn, j, &r) || r || pkbox_copy_out(d, &res, j, sizeof(res)) ||
		    !(out = malloc(res.out_len + 1)) || pkbox_copy_out(d, out, res.out, res.out_len))
			return fprintf(stderr, "%s: timing: %s\n", l->name, pkbox_last_error()), 1;
		double t3 = now_ms();
		free(out);
		/* the result back to the compartment's heap, as the direct run
		 * frees its own: a fresh buffer each time would cost page faults
		 * the direct run does not have */
		if (pkbox_call(d, give_back, res.out, &r))
			return fprintf(stderr, "%s: timing: %s\n", l->name, pkbox_last_error()), 1;
		pkbox_free(d, cin);
		pkbox_free(d, j);
		dt[i] = t1 - t0;
		bt[i] = t3 - t2;
	}
	qsort(dt, (size_t)n, sizeof(double), cmp_d);
	qsort(bt, (size_t)n, sizeof(double), cmp_d);
	printf("%s (backend %s): direct %.3f ms, in a compartment %.3f ms (copy in, call, copy out; medians of %d):"
	       " x%.3f\n",
	       l->name, pkbox_backend_name(pkbox_backend()), dt[n / 2], bt[n / 2], n, bt[n / 2] / dt[n / 2]);
	return pkbox_plugin_unload(p) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const struct lib *l = NULL;

	/* sealing needs every object bound eagerly (pkbox_seal(3)) */
	if (!getenv("LD_BIND_NOW")) {
		setenv("LD_BIND_NOW", "1", 1);
		execv("/proc/self/exe", argv);
	}
	for (size_t i = 0; argc == 3 && i < sizeof(libs) / sizeof(libs[0]); i++)
		if (!strcmp(argv[1], libs[i].name))
			l = &libs[i];
	if (!l) {
		fprintf(stderr, "usage: test_reallibs expat|sqlite|png|jpeg|xml2 PLUGIN_DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int irc = pkbox_init(NULL);
	if (irc == -ENOTSUP && getenv("PKBOX_SKIP_UNAVAILABLE")) {
		printf("%s: %s: skipped here\n", l->name, pkbox_last_error());
		return 77;
	}
	if (irc) {
		fprintf(stderr, "%s: %s\n", l->name, pkbox_last_error());
		return 1;
	}
	pkbox_set_print(print); /* the load's message: what is in the compartment */
	uint8_t *in, *out = NULL;
	size_t in_len = l->input(&in), out_len = 0;
	struct rl_job direct = { .in = in, .in_len = in_len };
	if (l->job(&direct)) {
		fprintf(stderr, "%s: the direct job failed at step %d\n", l->name, direct.err);
		return 1;
	}
	if (pkbox_seal(NULL)) {
		fprintf(stderr, "%s: cannot seal: %s\n", l->name, pkbox_last_error());
		return 1;
	}
	if (getenv("RL_TIME"))
		return timing(l, argv[2], in, in_len, atoi(getenv("RL_TIME")));
	if (boxed(l, argv[2], in, in_len, &out, &out_len))
		return 1;
	/* with pkeys on Linux 6.12+ the job must have run with key-0 memory
	 * (the C library's state, the host's globals) write-protected */
	const char *why = NULL;
	int k0 = pkbox_key0_protected(&why);
	struct utsname u;
	int maj = 0, min = 0;
	bool want = pkbox_backend() == PKBOX_BACKEND_PKU && !uname(&u) && sscanf(u.release, "%d.%d", &maj, &min) == 2 &&
		    (maj > 6 || (maj == 6 && min >= 12));
	printf("%s: key-0 protection: %s%s\n", l->name, k0 ? "on" : "off: ", k0 ? "" : why);
	if (want && !k0) {
		printf("%s: FAIL: key-0 protection is off on pku with Linux %s\n", l->name, u.release);
		return 1;
	}
	int same = out_len == direct.out_len && !memcmp(out, direct.out, out_len);
	printf("%s (backend %s): %zu bytes in, %zu bytes out; identical to the direct call: %s\n", l->name,
	       pkbox_backend_name(pkbox_backend()), in_len, out_len, same ? "yes" : "NO");
	if (!same)
		for (size_t i = 0; i < out_len && i < direct.out_len; i++)
			if (out[i] != direct.out[i]) {
				printf("%s: first difference at byte %zu (of %zu and %zu)\n", l->name, i, out_len,
				       direct.out_len);
				break;
			}
	return same ? 0 : 1;
}
