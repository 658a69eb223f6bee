/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_malloc - pkbox_malloc/pkbox_free against glibc's malloc/free for
 * objects of 16 bytes to 4 KiB: pairs (one malloc, one free) and batches
 * (N mallocs, then the N frees).  Prints ns per malloc+free; asserts
 * nothing.  Usage: bench_malloc [pairs [batch]]. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pkeysbox.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *volatile sink;

static double pairs_glibc(size_t size, long n)
{
	double t0 = now();
	for (long i = 0; i < n; i++) {
		void *p = malloc(size);
		sink = p;
		free(p);
	}
	return (now() - t0) / n * 1e9;
}

static double pairs_pkbox(struct pkbox_domain *d, size_t size, long n)
{
	double t0 = now();
	for (long i = 0; i < n; i++) {
		void *p = pkbox_malloc(d, size);
		sink = p;
		pkbox_free(d, p);
	}
	return (now() - t0) / n * 1e9;
}

static double batch_glibc(size_t size, void **v, long batch, int rounds)
{
	double t0 = now();
	for (int k = 0; k < rounds; k++) {
		for (long i = 0; i < batch; i++)
			v[i] = malloc(size);
		for (long i = 0; i < batch; i++)
			free(v[i]);
	}
	return (now() - t0) / ((double)batch * rounds) * 1e9;
}

static double batch_pkbox(struct pkbox_domain *d, size_t size, void **v, long batch, int rounds)
{
	double t0 = now();
	for (int k = 0; k < rounds; k++) {
		for (long i = 0; i < batch; i++)
			v[i] = pkbox_malloc(d, size);
		for (long i = 0; i < batch; i++)
			pkbox_free(d, v[i]);
	}
	return (now() - t0) / ((double)batch * rounds) * 1e9;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 16, 64, 256, 1024, 2048, 4096 };
	long n = argc > 1 ? atol(argv[1]) : 1000000, batch = argc > 2 ? atol(argv[2]) : 1000;
	int rounds = (int)(n / batch > 0 ? n / batch : 1);
	PKBOX_OPTS(pkbox_domain_opts, o, .quota = 1UL << 30);
	struct pkbox_domain *d = pkbox_domain_create("bench", &o);
	void **v = malloc(batch * sizeof(*v));

	if (!d || !v) {
		fprintf(stderr, "bench_malloc: %s\n", pkbox_last_error());
		return 1;
	}
	printf("backend %s; ns per malloc+free; pairs: %ld, batches: %d x %ld\n",
	       pkbox_backend_name(pkbox_backend()), n, rounds, batch);
	printf("%6s %10s %10s %6s %10s %10s %6s\n", "size", "pair:glibc", "pkbox", "ratio", "batch:glibc", "pkbox",
	       "ratio");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t s = sizes[k];
		pairs_pkbox(d, s, n / 10); /* warm up: runs made */
		pairs_glibc(s, n / 10);
		double pg = pairs_glibc(s, n), pp = pairs_pkbox(d, s, n);
		batch_pkbox(d, s, v, batch, 1);
		batch_glibc(s, v, batch, 1);
		double bg = batch_glibc(s, v, batch, rounds), bp = batch_pkbox(d, s, v, batch, rounds);
		printf("%6zu %10.1f %10.1f %6.2f %10.1f %10.1f %6.2f\n", s, pg, pp, pp / pg, bg, bp, bp / bg);
	}
	size_t used = 0;
	pkbox_domain_usage(d, &used, NULL);
	printf("domain usage after the runs: %zu bytes\n", used);
	pkbox_domain_destroy(d);
	free(v);
	return 0;
}
