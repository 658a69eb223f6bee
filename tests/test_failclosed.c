/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_failclosed.c - the library's own protection changes made to fail
 * (A17: the mapping count used up) and processes made inside a compartment
 * (A18): no compartment runs with the host's memory visible, the host never
 * dies on its own memory, and nothing hangs.  Run on each backend
 * (PKBOX_BACKEND, tests/meson.build). */
#include "common.h"

#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SZ 4096UL
/* more pages than vm.max_map_count (65530 by default) can have mappings */
#define RESERVE_PAGES (1UL << 17)

static struct pkbox_domain *hog, *other, *third;
static char *secret; /* the host's private memory */
static const char SECRET[] = "the host's private key: 9c2e";

/* where a compartment's reservation is (in its own memory: key 0 may be
 * read-only in compartments) */
struct hoard {
	char *base;
	long made;
};
static struct hoard *hoard;

static int setup(void **state)
{
	(void)state;
	hog = pkbox_domain_create("hog", NULL);
	other = pkbox_domain_create("other", NULL);
	third = pkbox_domain_create("third", NULL);
	secret = pkbox_malloc(pkbox_host_domain(), sizeof(SECRET));
	hoard = hog ? pkbox_calloc(hog, 1, sizeof(*hoard)) : NULL;
	if (!hog || !other || !third || !secret || !hoard)
		return -1;
	strcpy(secret, SECRET);
	return 0;
}

/* One reservation (address space, no memory), then every other page made
 * readable: each becomes a mapping of its own, until the kernel says no. */
static long use_up_mappings(struct hoard *h)
{
	h->made = 0;
	h->base = mmap(NULL, RESERVE_PAGES * PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (h->base == MAP_FAILED) {
		h->base = NULL;
		return -1;
	}
	for (unsigned long i = 1; i < RESERVE_PAGES; i += 2) {
		if (mprotect(h->base + i * PAGE_SZ, PAGE_SZ, PROT_READ))
			break;
		h->made++;
	}
	return h->made;
}

static void give_back_mappings(struct hoard *h)
{
	if (h->base)
		munmap(h->base, RESERVE_PAGES * PAGE_SZ);
	h->base = NULL;
}

static intptr_t hog_fn(void *a)
{
	return use_up_mappings(a);
}

static intptr_t hog_then_read(void *a)
{
	use_up_mappings(a);
	return *(volatile char *)secret;
}

static intptr_t read_secret(void *p)
{
	(void)p;
	return *(volatile char *)secret;
}

static const char *target; /* what mark_then_read() reads */

static intptr_t mark_then_read(void *p)
{
	*(volatile int *)p = 1;
	return *(volatile const char *)target;
}

static intptr_t answer(void *p)
{
	(void)p;
	return 42;
}

/* a domain that faulted, reset (its memory with it) */
static void fresh(struct pkbox_domain *d)
{
	if (pkbox_domain_faulted(d) == 1) {
		assert_int_equal(pkbox_domain_reset(d), 0);
		if (d == hog) {
			hoard = pkbox_calloc(hog, 1, sizeof(*hoard));
			assert_non_null(hoard);
		}
	}
}

/* A compartment uses up the mapping count; then calls into every domain:
 * each works or fails with an error, none reads the secret, and the host
 * keeps its memory. */
static void test_mapping_count_used_up(void **state)
{
	(void)state;
	pkbox_signals_install(); /* ahead of cmocka's handlers */
	intptr_t ret = -1;
	int rc = pkbox_call(hog, hog_fn, hoard, &ret);

	struct hoard h = *hoard; /* (the domain's memory goes if it is reset) */

	printf("# the compartment made %ld mappings; its call: %d %s\n", h.made, rc, rc ? pkbox_last_error() : "");
	assert_true(h.made > 1000);
	assert_true(rc == 0 || rc < 0);
	/* the host's memory is its own again */
	assert_string_equal(secret, SECRET);

	struct pkbox_domain *doms[] = { other, third, hog };
	for (size_t i = 0; i < sizeof(doms) / sizeof(doms[0]); i++) {
		fresh(doms[i]);
		ret = -1;
		rc = pkbox_call(doms[i], read_secret, NULL, &ret);
		printf("# read the secret from domain %zu: %d %s\n", i, rc, rc ? pkbox_last_error() : "");
		assert_int_not_equal(rc, 0);
		assert_true(rc == -EFAULT || rc == -ENOMEM);
		assert_int_not_equal(ret, SECRET[0]);
		assert_string_equal(secret, SECRET);
		fresh(doms[i]);
		ret = -1;
		rc = pkbox_call(doms[i], answer, NULL, &ret);
		printf("# a plain call into domain %zu: %d %s\n", i, rc, rc ? pkbox_last_error() : "");
		assert_true((rc == 0 && ret == 42) || rc < 0);
	}
	assert_string_equal(secret, SECRET);
	give_back_mappings(&h);
	fresh(other);
	ret = -1;
	assert_int_equal(pkbox_call(other, answer, NULL, &ret), 0);
	assert_int_equal(ret, 42);
}

/* ... and within the call that used it up: the read faults, the host's
 * memory comes back. */
static void test_used_up_then_read(void **state)
{
	(void)state;
	pkbox_signals_install(); /* ahead of cmocka's handlers */
	intptr_t ret = -1;

	fresh(hog);
	int rc = pkbox_call(hog, hog_then_read, hoard, &ret);
	struct hoard h = *hoard;

	printf("# used up, then read: %d %s (%ld mappings)\n", rc, rc ? pkbox_last_error() : "", h.made);
	give_back_mappings(&h);
	assert_true(h.made > 1000);
	assert_true(rc == -EFAULT || rc == -ENOMEM);
	assert_int_not_equal(ret, SECRET[0]);
	assert_string_equal(secret, SECRET);
	fresh(hog);
	assert_int_equal(pkbox_call(hog, answer, NULL, &ret), 0);
}

static bool one_mapping(uintptr_t lo, uintptr_t hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a == lo && b == hi)
			found = true;
	}
	fclose(f);
	return found;
}

/* Hiding that cannot be done: the host's allocation made one mapping with
 * its guard page and the page after (its own mprotect and madvise), so
 * hiding the host's memory needs a split, which the used-up mapping count
 * refuses.  The call fails before any compartment code runs. */
static void test_hiding_fails_closed(void **state)
{
	(void)state;
	pkbox_signals_install(); /* ahead of cmocka's handlers */
	if (pkbox_backend() != PKBOX_BACKEND_MPROTECT) {
		printf("# (mprotect backend only: pku hides nothing at a switch)\n");
		return;
	}
	char *bait = pkbox_malloc_flags(pkbox_host_domain(), 64, PKBOX_MALLOC_GUARD); /* the host's newest allocation, page-granular */
	assert_non_null(bait);
	strcpy(bait, SECRET);
	target = bait;
	uintptr_t base = (uintptr_t)bait & ~(PAGE_SZ - 1);
	assert_int_equal(mprotect((void *)(base + PAGE_SZ), 2 * PAGE_SZ, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(madvise((void *)base, 3 * PAGE_SZ, MADV_DONTDUMP), 0);
	assert_true(one_mapping(base, base + 3 * PAGE_SZ));

	struct hoard h;
	intptr_t ret = -1;
	fresh(other);
	int *ran = pkbox_calloc(other, 1, sizeof(int));
	assert_non_null(ran);
	assert_true(use_up_mappings(&h) > 1000);
	int rc = pkbox_call(other, mark_then_read, ran, &ret);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s", rc ? pkbox_last_error() : "");
	give_back_mappings(&h);
	printf("# hiding with the mapping count used up: %d %s (the compartment read %#lx)\n", rc, msg, (long)ret);
	assert_int_equal(rc, -ENOMEM);
	assert_int_equal(errno, ENOMEM);
	assert_non_null(strstr(msg, "cannot hide memory of domain host from domain other"));
	assert_int_equal(ret, -1);
	assert_int_equal(*ran, 0); /* nothing of the compartment ran */
	assert_int_equal(pkbox_domain_faulted(other), 0);
	assert_string_equal(bait, SECRET);
	/* with mappings to spare, the same call runs (and faults) */
	rc = pkbox_call(other, mark_then_read, ran, &ret);
	assert_int_equal(rc, -EFAULT);
	assert_int_equal(ret, -1);
	assert_int_equal(*ran, 1);
	fresh(other);
	assert_int_equal(mprotect((void *)(base + PAGE_SZ), 2 * PAGE_SZ, PROT_NONE), 0);
	assert_int_equal(pkbox_free(pkbox_host_domain(), bait), 0);
}

/* Hiding that fails partway: the host's memory and hog's are hidden, then
 * other's cannot be (the host unmapped the guard page after other's newest
 * allocation: mprotect refuses a range with a hole).  The call fails before
 * any compartment code runs, and what was hidden already is given back:
 * the host reads its memory and hog's. */
static void test_hiding_fails_partway(void **state)
{
	(void)state;
	pkbox_signals_install(); /* ahead of cmocka's handlers */
	if (pkbox_backend() != PKBOX_BACKEND_MPROTECT) {
		printf("# (mprotect backend only: pku hides nothing at a switch)\n");
		return;
	}
	if (getenv("PKBOX_MP_LAZY")) {
		printf("# (the eager switch only: the lazy one hides other's memory at the warm-up call already)\n");
		return;
	}
	fresh(hog);
	fresh(other);
	fresh(third);
	hoard->made = 7; /* hog's memory, which the host reads afterwards */
	/* too big for a hole: at the end of other's memory, its guard page last */
	const size_t big = 1UL << 20;
	char *bait = pkbox_malloc_flags(other, big, PKBOX_MALLOC_GUARD);
	assert_non_null(bait);
	char *guard = bait + big;
	int *ran = pkbox_calloc(third, 1, sizeof(int));
	assert_non_null(ran);
	target = secret;
	intptr_t ret = -1;
	assert_int_equal(pkbox_call(third, answer, NULL, &ret), 0); /* its stack, made beforehand */

	ret = -1;
	assert_int_equal(munmap(guard, PAGE_SZ), 0);
	int rc = pkbox_call(third, mark_then_read, ran, &ret);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s", rc ? pkbox_last_error() : "");
	assert_ptr_equal(mmap(guard, PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0),
			 guard);
	printf("# hiding fails at other's turn: %d %s\n", rc, msg);
	assert_int_equal(rc, -ENOMEM);
	assert_non_null(strstr(msg, "cannot hide memory of domain other from domain third"));
	assert_int_equal(*ran, 0); /* nothing of the compartment ran */
	assert_int_equal(ret, -1);
	/* what was hidden before the failure is the host's again */
	assert_string_equal(secret, SECRET);
	assert_int_equal(hoard->made, 7);
	assert_int_equal(pkbox_free(other, bait), 0);
	assert_int_equal(pkbox_call(third, answer, NULL, &ret), 0);
	assert_int_equal(ret, 42);
}

/* Giving memory back that cannot be given back (unsealed, the compartment
 * unmapped a page of the host's allocation): retried, then reported; the
 * rest of the host's memory comes back and the domain is marked faulted. */
static char *scratch;

static intptr_t unmap_scratch(void *p)
{
	(void)p;
	return munmap(scratch + PAGE_SZ, PAGE_SZ);
}

static void test_giving_back_fails_reported(void **state)
{
	(void)state;
	pkbox_signals_install(); /* ahead of cmocka's handlers */
	if (pkbox_backend() != PKBOX_BACKEND_MPROTECT) {
		printf("# (mprotect backend only: pku gives nothing back at a switch)\n");
		return;
	}
	scratch = pkbox_malloc(pkbox_host_domain(), 3 * PAGE_SZ); /* (a whole number of pages: page-aligned) */
	assert_non_null(scratch);
	intptr_t ret = -1;
	fresh(other);
	int rc = pkbox_call(other, unmap_scratch, NULL, &ret);
	const char *lazy = getenv("PKBOX_MP_LAZY");
	bool eager = !(lazy && !strcmp(lazy, "1"));
	printf("# a page of the host's unmapped inside: %d %s\n", rc, rc ? pkbox_last_error() : "");
	if (eager) {
		/* everything given back at the exit: the hole is found there */
		assert_int_equal(rc, -ENOMEM);
		assert_non_null(
			strstr(pkbox_last_error(), "cannot give memory of domain host back after a call into domain other"));
		assert_int_equal(pkbox_domain_faulted(other), 1);
	} else {
		/* the lazy switch (PKBOX_MP_LAZY=1) gives nothing back at the
		 * exit: the host's first touch shows the region, the page
		 * touched alone where the region has a hole */
		assert_int_equal(rc, 0);
	}
	/* the rest is the host's again: the secret, and the allocation's first page */
	assert_string_equal(secret, SECRET);
	scratch[0] = 1;
	if (eager)
		assert_int_equal(pkbox_call(other, answer, NULL, &ret), -ENOTRECOVERABLE);
	fresh(other);
	/* with the hole in the host's memory, hiding it fails: closed */
	assert_int_equal(pkbox_call(other, answer, NULL, &ret), -ENOMEM);
	/* the host fills the hole as the reservation was, and frees it all */
	assert_true(mmap(scratch + PAGE_SZ, PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
			 -1, 0) == scratch + PAGE_SZ);
	assert_int_equal(madvise(scratch + PAGE_SZ, PAGE_SZ, MADV_DONTFORK), 0);
	assert_int_equal(pkbox_free(pkbox_host_domain(), scratch), 0);
	ret = -1;
	assert_int_equal(pkbox_call(other, answer, NULL, &ret), 0);
	assert_int_equal(ret, 42);
}

/* A18: a process made inside a compartment has none of the domains' memory
 * (MADV_DONTFORK on the pool): the child's read of the host's secret ends
 * it, and what it writes to the host's pipe is never the secret. */
static int pipe_w = -1;

static intptr_t fork_and_read(void *p)
{
	(void)p;
	pid_t pid = fork();

	if (pid == 0) {
		char buf[sizeof(SECRET)];

		memcpy(buf, secret, sizeof(buf));
		if (write(pipe_w, buf, sizeof(buf)) < 0)
			_exit(2);
		_exit(0);
	}
	return pid;
}

/* waits for pid at most ms milliseconds; kills it after */
static int wait_bounded(pid_t pid, int ms, int *status)
{
	for (int t = 0; t < ms; t += 10) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -1;
}

static void check_child(pid_t pid, int rfd)
{
	char buf[sizeof(SECRET)] = { 0 };
	struct pollfd pf = { .fd = rfd, .events = POLLIN };
	ssize_t n = 0;
	int status = 0;

	if (poll(&pf, 1, 5000) > 0)
		n = read(rfd, buf, sizeof(buf));
	int waited = wait_bounded(pid, 5000, &status);
	printf("# child %d: %zd bytes through the pipe, %s %d\n", (int)pid, n,
	       WIFSIGNALED(status) ? "killed by signal" : "exit status",
	       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	assert_int_equal(waited, 0);
	assert_true(n <= 0);
	assert_null(memmem(buf, sizeof(buf), "private key", 11));
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(rfd);
}

static void test_fork_inside(void **state)
{
	(void)state;
	pkbox_signals_install(); /* ahead of cmocka's handlers */
	int p[2];
	intptr_t ret = -1;

	assert_int_equal(pipe(p), 0);
	pipe_w = p[1];
	fresh(other);
	int rc = pkbox_call(other, fork_and_read, NULL, &ret);
	close(p[1]);
	printf("# fork inside: %d %s\n", rc, rc ? pkbox_last_error() : "");
	assert_int_equal(rc, 0);
	assert_true(ret > 0);
	check_child((pid_t)ret, p[0]);
	assert_string_equal(secret, SECRET);
	/* the host goes on */
	assert_int_equal(pkbox_call(other, answer, NULL, &ret), 0);
	assert_int_equal(ret, 42);
}

/* the host's own child has none of it either */
static void test_fork_host(void **state)
{
	(void)state;
	pkbox_signals_install(); /* ahead of cmocka's handlers */
	int p[2];

	assert_int_equal(pipe(p), 0);
	pipe_w = p[1];
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[sizeof(SECRET)];

		memcpy(buf, secret, sizeof(buf));
		if (write(pipe_w, buf, sizeof(buf)) < 0)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	check_child(pid, p[0]);
}

int main(void)
{
	/* registered once per backend (PKBOX_BACKEND): the guests' expected
	 * backend (PKBOX_EXPECT_BACKEND) is only the one this run must not miss */
	const char *want = getenv("PKBOX_BACKEND"), *expect = getenv("PKBOX_EXPECT_BACKEND");
	int rc = pkbox_init(NULL);

	if (rc) {
		printf("SKIP: %s\n", pkbox_last_error());
		return want && expect && !strcmp(want, expect) ? 1 : 77;
	}
	if (want && *want && strcmp(want, pkbox_backend_name(pkbox_backend()))) {
		fprintf(stderr, "FAIL: backend is %s, PKBOX_BACKEND=%s\n", pkbox_backend_name(pkbox_backend()), want);
		return 1;
	}
	printf("# backend: %s\n", pkbox_backend_name(pkbox_backend()));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mapping_count_used_up),
		cmocka_unit_test(test_used_up_then_read),
		cmocka_unit_test(test_hiding_fails_closed),
		cmocka_unit_test(test_hiding_fails_partway),
		cmocka_unit_test(test_giving_back_fails_reported),
		cmocka_unit_test(test_fork_inside),
		cmocka_unit_test(test_fork_host),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
