/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench_gate - what a gate call costs, against a plain call, and as the
 * domains grow.  Prints figures; asserts nothing.  Times taken under an
 * emulator (QEMU TCG) are meaningless for the pku backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkeysbox.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static intptr_t empty(void *a)
{
	return (intptr_t)a;
}

static intptr_t (*volatile plain)(void *) = empty;

static double per_call(struct pkbox_domain *d, long n)
{
	intptr_t r;
	double t0 = now();

	for (long i = 0; i < n; i++)
		pkbox_call(d, empty, (void *)i, &r);
	return (now() - t0) / n * 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	struct pkbox_domain *d = pkbox_domain_create("bench", NULL);
	struct pkbox_domain *other = pkbox_domain_create("other", NULL);
	double t0;

	if (!d || !other) {
		fprintf(stderr, "bench_gate: %s\n", pkbox_last_error());
		return 1;
	}
	printf("backend: %s\n", pkbox_backend_name(pkbox_backend()));
	t0 = now();
	for (long i = 0; i < n * 10; i++)
		plain((void *)i);
	printf("plain indirect call:               %8.1f ns\n", (now() - t0) / (n * 10) * 1e9);
	per_call(d, n / 10); /* warm up: stacks, thread state */
	printf("pkbox_call, empty function:        %8.1f ns\n", per_call(d, n));
	/* switch cost against the size of the domains involved */
	for (int regions = 1; regions <= 1024; regions *= 8) {
		for (int i = 0; i < regions; i++) {
			pkbox_malloc(d, 4096);
			pkbox_malloc(other, 4096);
			pkbox_malloc(pkbox_host_domain(), 4096);
		}
		long m = pkbox_backend() == PKBOX_BACKEND_PKU ? n : n / (regions * 4 + 1) + 100;
		printf("pkbox_call, domains of %5d regions: %8.1f ns\n", regions, per_call(d, m));
	}
	return 0;
}
