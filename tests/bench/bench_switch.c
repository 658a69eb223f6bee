/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_switch - what a switch costs against its floor, side by side in one
 * run: one mprotect NONE+RW pair on a resident page (the mprotect backend's
 * floor), an empty pkbox_call, a host callback, the call once 512 more
 * allocations (page-granular, a region each) are in the host's domain and
 * in the called one, with 8 live domains, alternating between two domains,
 * and with the host touching its memory between calls.  Medians of 11
 * batches.  The mprotect backend's default switch (eager: every exit gives
 * the host all its memory back); with PKBOX_MP_LAZY=1 in the environment
 * its lazy one (the host's memory comes back on its first touch): run it
 * both ways to compare.  Prints figures; asserts nothing.  "bench_switch count N [G]"
 * makes N empty calls (after G more allocations in the host's domain and
 * the called one) and nothing else: for strace -c -f. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "pkeysbox.h"

#define BATCHES 11

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static intptr_t empty(void *a)
{
	return (intptr_t)a;
}

static int cb_id;

static intptr_t host_cb(void *a)
{
	return (intptr_t)a;
}

static intptr_t calls_back(void *a)
{
	intptr_t r = 0;
	pkbox_host_call(cb_id, a, &r);
	return r;
}

enum what { FLOOR, CALL, CALLBACK, ALTERNATE, TOUCH };

struct run {
	enum what what;
	struct pkbox_domain *d, *e;
	volatile char *page, *host_mem;
};

/* one batch of n, microseconds per round trip */
static double batch(struct run *r, long n)
{
	intptr_t v;
	double t0 = now();

	for (long i = 0; i < n; i++) {
		switch (r->what) {
		case FLOOR:
			mprotect((void *)r->page, 4096, PROT_NONE);
			mprotect((void *)r->page, 4096, PROT_READ | PROT_WRITE);
			break;
		case CALL:
			pkbox_call(r->d, empty, NULL, &v);
			break;
		case CALLBACK:
			pkbox_call(r->d, calls_back, NULL, &v);
			break;
		case ALTERNATE:
			pkbox_call((i & 1) ? r->e : r->d, empty, NULL, &v);
			break;
		case TOUCH:
			pkbox_call(r->d, empty, NULL, &v);
			r->host_mem[0]++;
			break;
		}
	}
	return (now() - t0) / n * 1e6;
}

static double median(struct run *r, long n)
{
	double t[BATCHES];

	batch(r, n / 4 + 1); /* warm up */
	for (int b = 0; b < BATCHES; b++)
		t[b] = batch(r, n);
	qsort(t, BATCHES, sizeof(t[0]), cmp);
	return t[BATCHES / 2];
}

static void grow(struct pkbox_domain *d, int n)
{
	for (int i = 0; i < n; i++)
		if (!pkbox_malloc_flags(d, 4096, PKBOX_MALLOC_GUARD)) {
			fprintf(stderr, "bench_switch: pkbox_malloc_flags: %s\n", pkbox_last_error());
			exit(1);
		}
}

static struct pkbox_domain *domain(const char *name)
{
	struct pkbox_domain *d = pkbox_domain_create(name, NULL);
	intptr_t v;

	if (!d || pkbox_call(d, empty, NULL, &v)) {
		fprintf(stderr, "bench_switch: %s: %s\n", name, pkbox_last_error());
		exit(1);
	}
	return d;
}

int main(int argc, char **argv)
{
	long n = 2000;
	struct run r = { 0 };
	intptr_t v;

	r.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r.page[0] = 1;
	r.d = domain("a");
	if (argc > 2 && !strcmp(argv[1], "count")) {
		if (argc > 3) { /* count N G: G more allocations in the host's domain and a's first */
			grow(pkbox_host_domain(), atoi(argv[3]));
			grow(r.d, atoi(argv[3]));
		}
		for (long i = atol(argv[2]); i > 0; i--)
			pkbox_call(r.d, empty, NULL, &v);
		return 0;
	}
	if (argc > 1)
		n = atol(argv[1]);
	cb_id = pkbox_callback_register(r.d, host_cb);
	const char *lazy = getenv("PKBOX_MP_LAZY");
	printf("backend: %s%s\n", pkbox_backend_name(pkbox_backend()),
	       pkbox_backend() != PKBOX_BACKEND_MPROTECT ? ""
	       : lazy && !strcmp(lazy, "1")              ? ", lazy switch (PKBOX_MP_LAZY=1)"
							 : ", eager switch (the default; PKBOX_MP_LAZY=1: lazy)");
	r.what = FLOOR;
	double floor = median(&r, n);
	r.what = CALL;
	double call = median(&r, n);
	r.what = CALLBACK;
	double cb = median(&r, n) - call;
	printf("mprotect NONE+RW pair (floor):      %8.2f us\n", floor);
	printf("empty call:                         %8.2f us  (%.2fx floor)\n", call, call / floor);
	printf("host callback (beyond the call):    %8.2f us  (%.2fx call)\n", cb, cb / call);
	grow(pkbox_host_domain(), 512);
	grow(r.d, 512);
	r.what = CALL;
	double big = median(&r, n);
	printf("call, +512 allocations host and a:  %8.2f us  (%.2fx empty)\n", big, big / call);
	r.e = domain("b");
	grow(r.e, 512);
	for (int i = 0; i < 5; i++) {
		char name[8];
		snprintf(name, sizeof(name), "x%d", i);
		grow(domain(name), 64);
	}
	r.what = CALL;
	double eight = median(&r, n);
	printf("call, 8 live domains (+64..512 each):%7.2f us  (%.2fx empty)\n", eight, eight / call);
	r.what = FLOOR;
	floor = median(&r, n);
	printf("floor again:                        %8.2f us\n", floor);
	r.what = ALTERNATE;
	double alt = median(&r, n / 10 + 1);
	printf("alternating a/b (512 regions each): %8.2f us\n", alt);
	r.host_mem = pkbox_malloc_flags(pkbox_host_domain(), 4096, PKBOX_MALLOC_GUARD);
	r.what = TOUCH;
	double touch = median(&r, n);
	printf("call + host touches its memory:     %8.2f us\n", touch);
	return 0;
}
