/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * zlib-box - a real third-party library in a compartment: Debian's zlib
 * (libz.so.1), loaded with pkbox_plugin_load(), compresses and decompresses
 * MiB of mixed data inside the compartment; every compressed chunk must be
 * byte-identical to what the same zlib produces called directly, and every
 * round trip must give the input back.
 *
 *   zlib-box [MIB [LIBZ]]      (default 100 MiB, libz.so.1)
 *
 * zlib's own allocations (deflate's window and hash tables) go to the
 * compartment's heap: the plugin loader points its malloc there.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "pkeysbox.h"

#define CHUNK (1UL << 20)

/* the four zlib functions used (zlib.h is not needed for these) */
typedef int (*compress2_fn)(uint8_t *dst, unsigned long *dstlen, const uint8_t *src, unsigned long srclen, int level);
typedef int (*uncompress_fn)(uint8_t *dst, unsigned long *dstlen, const uint8_t *src, unsigned long srclen);
typedef unsigned long (*bound_fn)(unsigned long srclen);
typedef const char *(*version_fn)(void);

/* one job for the compartment, in its memory */
struct job {
	compress2_fn compress2;
	uncompress_fn uncompress;
	uint8_t *src, *dst, *back;
	unsigned long srclen, dstlen, backlen;
	int level;
};

/* run inside the compartment */
static intptr_t do_compress(void *a)
{
	struct job *j = a;

	return j->compress2(j->dst, &j->dstlen, j->src, j->srclen, j->level);
}

static intptr_t do_uncompress(void *a)
{
	struct job *j = a;

	j->backlen = CHUNK;
	return j->uncompress(j->back, &j->backlen, j->dst, j->dstlen);
}

/* mixed data: text, random bytes, zeros, repeats, records */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(uint8_t *b, size_t n, unsigned kind)
{
	static const char *words[] = { "compartment", "key", "the", "domain", "gate", "plugin", "host",
				       "memory", "protection", "zlib", "and", "of", "a", "secret", "\n" };
	size_t i = 0;

	switch (kind % 5) {
	case 0:
		while (i < n) {
			const char *w = words[next() % 15];
			for (size_t k = 0; w[k] && i < n; k++)
				b[i++] = (uint8_t)w[k];
			if (i < n)
				b[i++] = ' ';
		}
		break;
	case 1:
		for (; i < n; i++)
			b[i] = (uint8_t)next();
		break;
	case 2:
		memset(b, 0, n);
		break;
	case 3:
		for (; i < n; i++)
			b[i] = (uint8_t)("libpkeysbox"[i % 11] + (i / 4096) % 3);
		break;
	default:
		for (; i + 16 <= n; i += 16) {
			uint64_t id = i / 16, v = next() % 1000;
			memcpy(b + i, &id, 8);
			memcpy(b + i + 8, &v, 8);
		}
		memset(b + i, 0, n - i);
	}
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* zlib called directly, for comparison (a local copy of its own) */
struct direct {
	struct link_map *lm;
	compress2_fn compress2;
	bound_fn bound;
	version_fn version;
};

static int open_direct(const char *libz, struct direct *d)
{
	void *h = dlopen(libz, RTLD_NOW | RTLD_LOCAL);

	d->lm = NULL;
	if (!h || dlinfo(h, RTLD_DI_LINKMAP, &d->lm) || !d->lm) {
		fprintf(stderr, "zlib-box: cannot load %s: %s\n", libz, dlerror());
		return -1;
	}
	d->compress2 = (compress2_fn)dlsym(h, "compress2");
	d->bound = (bound_fn)dlsym(h, "compressBound");
	d->version = (version_fn)dlsym(h, "zlibVersion");
	return 0;
}

/* the same file, as a plugin in a compartment of the sealed process, and a
 * job in its memory */
static struct job *open_box(const char *path, unsigned long cap, struct pkbox_plugin **zp)
{
	if (pkbox_seal(NULL)) {
		fprintf(stderr, "zlib-box: cannot seal: %s\n", pkbox_last_error());
		return NULL;
	}
	PKBOX_OPTS(pkbox_plugin_opts, po, .quota = 256UL << 20, .heap = 64UL << 20);
	struct pkbox_plugin *z = pkbox_plugin_load(path, "zlib", &po);
	if (!z) {
		fprintf(stderr, "zlib-box: %s\n", pkbox_last_error());
		return NULL;
	}
	struct pkbox_domain *dom = pkbox_plugin_domain(z);
	struct job *j = pkbox_calloc(dom, 1, sizeof(*j));
	if (!j || !(j->src = pkbox_malloc(dom, CHUNK)) || !(j->dst = pkbox_malloc(dom, cap)) ||
	    !(j->back = pkbox_malloc(dom, CHUNK)) ||
	    !(j->compress2 = (compress2_fn)pkbox_plugin_sym(z, "compress2")) ||
	    !(j->uncompress = (uncompress_fn)pkbox_plugin_sym(z, "uncompress"))) {
		fprintf(stderr, "zlib-box: %s\n", pkbox_last_error());
		return NULL;
	}
	j->level = 6;
	*zp = z;
	return j;
}

struct tally {
	unsigned long total_z, differ, bad_round;
	double t_direct, t_box;
};

/* one chunk: compressed directly and in the compartment (input copied in,
 * output checked out), compared, then decompressed in there; -1 when a
 * call fails */
static int one_chunk(const struct direct *d, struct pkbox_domain *dom, struct job *j, const uint8_t *in, uint8_t *ref,
		     unsigned long cap, struct tally *t)
{
	unsigned long reflen = cap;
	double t0 = now();
	if (d->compress2(ref, &reflen, in, CHUNK, 6) != 0) {
		fprintf(stderr, "zlib-box: direct compress2 failed\n");
		return -1;
	}
	double t1 = now();
	memcpy(j->src, in, CHUNK);
	j->srclen = CHUNK;
	j->dstlen = cap;
	intptr_t zr = -1;
	int rc = pkbox_call(dom, do_compress, j, &zr);
	double t2 = now();
	if (rc || zr) {
		fprintf(stderr, "zlib-box: compress2 in the compartment: %s (zlib %ld)\n",
			rc ? pkbox_last_error() : "error", (long)zr);
		return -1;
	}
	unsigned long zlen = j->dstlen;
	if (zlen > cap) {
		fprintf(stderr, "zlib-box: the compartment claims %lu bytes (> %lu)\n", zlen, cap);
		return -1;
	}
	uint8_t *out = malloc(zlen ? zlen : 1);
	if (!out || pkbox_copy_out(dom, out, j->dst, zlen)) {
		fprintf(stderr, "zlib-box: %s\n", out ? pkbox_last_error() : "out of memory");
		free(out);
		return -1;
	}
	t->differ += zlen != reflen || memcmp(out, ref, zlen);
	free(out);
	t->total_z += zlen;
	rc = pkbox_call(dom, do_uncompress, j, &zr);
	t->bad_round += rc || zr || j->backlen != CHUNK || memcmp(j->back, in, CHUNK);
	t->t_direct += t1 - t0;
	t->t_box += t2 - t1;
	return 0;
}

static void report(unsigned long mib, const struct tally *t, struct pkbox_domain *dom)
{
	printf("%lu MiB of mixed data in %lu chunks of 1 MiB: compressed to %lu bytes (%.1f%%)\n", mib, mib,
	       t->total_z, 100.0 * (double)t->total_z / (double)(mib * CHUNK));
	printf("compressed output identical to direct zlib: %s (%lu chunks differ)\n", t->differ ? "NO" : "yes",
	       t->differ);
	printf("round trip in the compartment gives the input back: %s (%lu chunks bad)\n",
	       t->bad_round ? "NO" : "yes", t->bad_round);
	printf("compress time: direct %.2f s, in the compartment %.2f s\n", t->t_direct, t->t_box);
	size_t used = 0, quota = 0;
	pkbox_domain_usage(dom, &used, &quota);
	printf("domain zlib uses %zu of %zu KiB (its heap arena included); faults: %lu\n", used >> 10, quota >> 10,
	       pkbox_fault_count());
}

/* 0 ready, 77 skipped here, 2 usage or set-up error */
static int set_up(int argc, char **argv, unsigned long *mib)
{
	*mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
	if (!*mib || *mib > 4096) {
		fprintf(stderr, "usage: zlib-box [MIB [LIBZ]]   (1..4096, default 100; libz.so.1)\n");
		return 2;
	}
	int irc = pkbox_init(NULL);
	if (irc == -ENOTSUP && getenv("PKBOX_SKIP_UNAVAILABLE")) {
		printf("zlib-box: %s: skipped here (the guest suite runs it on real pkeys)\n", pkbox_last_error());
		return 77;
	}
	if (irc) {
		fprintf(stderr, "zlib-box: %s\n", pkbox_last_error());
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct direct d;
	struct pkbox_plugin *z = NULL;
	struct tally t = { 0 };
	unsigned long mib;

	/* sealing needs every object bound eagerly (pkbox_seal(3)) */
	if (!getenv("LD_BIND_NOW")) {
		setenv("LD_BIND_NOW", "1", 1);
		execv("/proc/self/exe", argv);
	}
	int rc = set_up(argc, argv, &mib);
	if (rc)
		return rc;
	if (open_direct(argc > 2 ? argv[2] : "libz.so.1", &d))
		return 2;
	unsigned long cap = d.bound(CHUNK);
	struct job *j = open_box(d.lm->l_name, cap, &z);
	if (!j)
		return 1;
	struct pkbox_domain *dom = pkbox_plugin_domain(z);
	printf("zlib %s: %s directly, and as a plugin in domain \"zlib\" (backend %s)\n", d.version(), d.lm->l_name,
	       pkbox_backend_name(pkbox_backend()));
	uint8_t *in = malloc(CHUNK), *ref = malloc(cap);
	if (!in || !ref)
		return 1;
	for (unsigned long c = 0; c < mib; c++) {
		fill(in, CHUNK, (unsigned)c);
		if (one_chunk(&d, dom, j, in, ref, cap, &t))
			return 1;
	}
	report(mib, &t, dom);
	pkbox_plugin_unload(z);
	free(in);
	free(ref);
	return t.differ || t.bad_round ? 1 : 0;
}
