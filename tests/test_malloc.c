/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_malloc.c - pkbox_malloc's packed objects: many small objects, every
 * size, alignment, refused frees, realloc across classes, the quota and its
 * accounting, PKBOX_MALLOC_GUARD, grants, runs freed by reset and destroy,
 * copy_out's bounds; the path without the lock: errno and double frees,
 * threads that allocate and free each other's objects, reset, destroy and
 * calls beside it. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define NSMALL 100000

static struct pkbox_domain *dom(const char *name, size_t quota)
{
	PKBOX_OPTS(pkbox_domain_opts, o, .quota = quota);
	struct pkbox_domain *d = pkbox_domain_create(name, &o);

	assert_non_null(d);
	return d;
}

static size_t usage(struct pkbox_domain *d)
{
	size_t used = 1;

	assert_int_equal(pkbox_domain_usage(d, &used, NULL), 0);
	return used;
}

/* frees enough other objects that every earlier free left the quarantine */
static void flush_quarantine(struct pkbox_domain *d)
{
	void *p[64];

	for (int i = 0; i < 64; i++)
		assert_non_null(p[i] = pkbox_malloc(d, 1000));
	for (int i = 0; i < 64; i++)
		assert_int_equal(pkbox_free(d, p[i]), 0);
}

static intptr_t read_byte(void *p)
{
	return *(volatile char *)p;
}

static void test_many_small(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("many", 0);
	uint32_t **p = calloc(NSMALL, sizeof(*p));

	assert_non_null(p);
	for (uint32_t i = 0; i < NSMALL; i++) {
		p[i] = pkbox_malloc(d, 16);
		assert_non_null(p[i]);
		*p[i] = i;
	}
	/* 16 bytes each, packed: 391 pages, not 100,000 */
	assert_int_equal(usage(d), (NSMALL * 16 + 4095) / 4096 * 4096);
	for (uint32_t i = 0; i < NSMALL; i++)
		assert_int_equal(*p[i], i);
	assert_ptr_equal(pkbox_domain_of(p[NSMALL / 2] + 3), d);
	for (uint32_t i = 0; i < NSMALL; i++)
		assert_int_equal(pkbox_free(d, p[i]), 0);
	assert_int_equal(usage(d), 0);
	free(p);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_sizes_alignment(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("sizes", 0);

	for (size_t s = 1; s <= 4096 + 64; s++) {
		unsigned char *p = pkbox_malloc(d, s);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xa5, s);
		assert_ptr_equal(pkbox_domain_of(p + s - 1), d);
		assert_int_equal(pkbox_free(d, p), 0);
	}
	/* neighbours of every class do not overlap */
	for (size_t s = 16; s <= 4096; s += s < 128 ? 16 : s / 4) {
		unsigned char *a = pkbox_malloc(d, s), *b = pkbox_malloc(d, s);
		assert_true(a && b && (a + s <= b || b + s <= a));
		memset(a, 1, s);
		memset(b, 2, s);
		assert_int_equal(a[s - 1], 1);
		assert_int_equal(b[0], 2);
		assert_int_equal(pkbox_free(d, a), 0);
		assert_int_equal(pkbox_free(d, b), 0);
	}
	assert_int_equal(usage(d), 0);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_bad_frees(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("frees", 0), *e = dom("other", 0);
	char *p = pkbox_malloc(d, 32), *keep = pkbox_malloc(d, 32), *theirs = pkbox_malloc(e, 32);

	strcpy(keep, "neighbour");
	strcpy(theirs, "theirs");
	assert_int_equal(pkbox_free(d, p + 16), -EINVAL); /* interior */
	assert_non_null(strstr(pkbox_last_error(), "not a live allocation"));
	assert_int_equal(pkbox_free(d, p + 1), -EINVAL);
	assert_int_equal(pkbox_free(d, theirs), -EINVAL); /* foreign */
	assert_non_null(strstr(pkbox_last_error(), "belongs to domain other"));
	assert_int_equal(pkbox_free(d, p), 0);
	assert_int_equal(pkbox_free(d, p), -EINVAL); /* double free, in the quarantine */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(p[0], 0); /* zeroed on free */
	/* not handed out again at once */
	char *q = pkbox_malloc(d, 32);
	assert_ptr_not_equal(q, p);
	assert_int_equal(pkbox_free(d, q), 0);
	flush_quarantine(d);
	assert_int_equal(pkbox_free(d, p), -EINVAL); /* double free, out of the quarantine */
	assert_null(pkbox_realloc(d, p, 64));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(keep, "neighbour");
	assert_string_equal(theirs, "theirs");
	/* a freed run: given back, out of the domain's reach */
	assert_int_equal(pkbox_free(d, keep), 0);
	flush_quarantine(d);
	flush_quarantine(d);
	assert_null(pkbox_domain_of(keep));
	assert_int_equal(pkbox_free(d, keep), -EINVAL);
	assert_int_equal(pkbox_call(d, read_byte, keep, NULL), -EFAULT);
	assert_int_equal(pkbox_domain_reset(d), 0);
	assert_int_equal(usage(d), 0);
	assert_int_equal(pkbox_domain_destroy(d), 0);
	assert_int_equal(pkbox_domain_destroy(e), 0);
}

static void test_reallocs(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("realloc", 0);
	char *p = pkbox_malloc(d, 10);

	memcpy(p, "0123456789", 10);
	assert_ptr_equal(pkbox_realloc(d, p, 16), p); /* same class: stays */
	static const size_t steps[] = { 100, 1000, 4096, 5000, 20000, 50, 10 };
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		char *q = pkbox_realloc(d, p, steps[k]);
		assert_non_null(q);
		assert_memory_equal(q, "0123456789", 10);
		assert_ptr_equal(pkbox_domain_of(q), d);
		p = q;
	}
	assert_null(pkbox_realloc(d, p, 0));
	assert_int_equal(usage(d), 0);
	/* a guarded object stays page-granular */
	char *g = pkbox_malloc_flags(d, 100, PKBOX_MALLOC_GUARD);
	g = pkbox_realloc(d, g, 200);
	assert_non_null(g);
	assert_int_equal(((uintptr_t)g + 208) % 4096, 0);
	assert_int_equal(pkbox_free(d, g), 0);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_usage_quota(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("quota", 64 * 1024);
	void **p = calloc(4097, sizeof(*p));
	int n = 0;

	assert_int_equal(usage(d), 0);
	while (n < 4097 && (p[n] = pkbox_malloc(d, 16)))
		n++;
	assert_int_equal(n, 4096); /* 16 pages of 16-byte objects */
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(usage(d), 64 * 1024);
	assert_null(pkbox_malloc(d, 5000));
	assert_int_equal(errno, EDQUOT);
	/* a page whose objects are all freed no longer counts */
	for (int i = 0; i < 256; i++)
		assert_int_equal(pkbox_free(d, p[i]), 0);
	assert_int_equal(usage(d), 60 * 1024);
	void *big = pkbox_malloc(d, 4000);
	assert_non_null(big);
	assert_int_equal(usage(d), 64 * 1024);
	assert_int_equal(pkbox_domain_reset(d), 0);
	assert_int_equal(usage(d), 0);
	free(p);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_guard_and_grants(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *a = dom("owner", 0), *b = dom("grantee", 0);
	char *small = pkbox_malloc(a, 64), *guarded = pkbox_malloc_flags(a, 64, PKBOX_MALLOC_GUARD);
	char *large = pkbox_malloc(a, 8192);

	assert_int_equal(((uintptr_t)guarded + 64) % 4096, 0); /* ends at its guard page */
	assert_int_equal(usage(a), 4096 + 4096 + 8192);
	assert_int_equal(pkbox_grant(a, small, b, PKBOX_ACCESS_READ), -EINVAL);
	assert_non_null(strstr(pkbox_last_error(), "PKBOX_MALLOC_GUARD"));
	assert_int_equal(pkbox_grant(a, guarded, b, PKBOX_ACCESS_READ), 0);
	assert_int_equal(pkbox_grant(a, large, b, PKBOX_ACCESS_RW), 0);
	guarded[0] = 'g';
	intptr_t r = 0;
	assert_int_equal(pkbox_call(b, read_byte, guarded, &r), 0);
	assert_int_equal(r, 'g');
	assert_int_equal(pkbox_revoke(a, guarded, b), 0);
	assert_int_equal(pkbox_call(b, read_byte, small, NULL), -EFAULT); /* a's packed object */
	assert_int_equal(pkbox_domain_reset(b), 0);
	assert_int_equal(pkbox_malloc_flags(a, 64, 2) == NULL && errno == EINVAL, 1);
	assert_int_equal(pkbox_domain_destroy(b), 0);
	assert_int_equal(pkbox_domain_destroy(a), 0);
}

static void test_reset_destroy(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("reset", 0);
	char *p[300];

	for (int i = 0; i < 300; i++)
		assert_non_null(p[i] = pkbox_malloc(d, (size_t)(i % 30 + 1) * 100));
	assert_true(usage(d) > 0);
	assert_int_equal(pkbox_domain_reset(d), 0);
	assert_int_equal(usage(d), 0);
	assert_null(pkbox_domain_of(p[0]));
	assert_int_equal(pkbox_free(d, p[1]), -EINVAL);
	char *q = pkbox_malloc(d, 100);
	assert_non_null(q);
	strcpy(q, "again");
	assert_int_equal(pkbox_domain_destroy(d), 0);
	assert_null(pkbox_domain_of(q));
}

static void test_copy_bounds(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("copies", 0);
	char *p = pkbox_copy_in(d, "0123456789abcde", 16), *next = pkbox_malloc(d, 16);
	char buf[64];

	assert_non_null(p);
	assert_non_null(next);
	assert_int_equal(pkbox_copy_out(d, buf, p, 16), 0);
	assert_string_equal(buf, "0123456789abcde");
	assert_int_equal(pkbox_copy_out(d, buf, p + 8, 8), 0);
	assert_int_equal(pkbox_copy_out(d, buf, p + 16, 0), 0);
	assert_int_equal(pkbox_copy_out(d, buf, p, 17), -EFAULT); /* into the next object */
	assert_int_equal(pkbox_free(d, p), 0);
	assert_int_equal(pkbox_copy_out(d, buf, p, 16), -EFAULT); /* freed */
	/* calloc'd memory is zero, also where a freed object is reused */
	memset(next, 'x', 16);
	assert_int_equal(pkbox_free(d, next), 0);
	flush_quarantine(d);
	for (int i = 0; i < 8; i++) {
		char *z = pkbox_calloc(d, 1, 16);
		assert_non_null(z);
		for (int k = 0; k < 16; k++)
			assert_int_equal(z[k], 0);
	}
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

/* ---------------------------------------------------------------- the path without the lock */

static void test_fast_edge(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = dom("edge", 0);
	char *warm = pkbox_malloc(d, 48); /* a run of the class exists: the short path serves */

	assert_non_null(warm);
	errno = 1234;
	char *p = pkbox_malloc(d, 48);
	assert_non_null(p);
	assert_int_equal(errno, 1234); /* success leaves errno as it was */
	p[47] = 'x';
	assert_int_equal(pkbox_free(d, p), 0);
	assert_int_equal(errno, 1234);
	assert_int_equal(p[47], 0);
	assert_int_equal(pkbox_free(d, p), -EINVAL); /* double free, in the quarantine */
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(pkbox_last_error(), "not a live allocation"));
	assert_int_equal(pkbox_free(d, warm + 16), -EINVAL); /* interior */
	errno = 0;
	char *z = pkbox_calloc(d, 3, 16);
	assert_non_null(z);
	for (int k = 0; k < 48; k++)
		assert_int_equal(z[k], 0);
	assert_int_equal(errno, 0);
	/* a handle of a destroyed domain, with a run of the class alive elsewhere */
	struct pkbox_domain *gone = dom("gone", 0);
	char *g = pkbox_malloc(gone, 48);
	assert_non_null(g);
	assert_int_equal(pkbox_domain_destroy(gone), 0);
	assert_null(pkbox_malloc(gone, 48));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(pkbox_free(gone, g), -ENOENT);
	assert_int_equal(pkbox_free(d, warm), 0);
	assert_int_equal(pkbox_free(d, z), 0);
	assert_int_equal(usage(d), 0);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

#define NTHREADS 4
#define ROUNDS 20000
#define HANDOFF 64

struct shared {
	struct pkbox_domain *d;
	_Atomic(uint32_t *) slot[NTHREADS][HANDOFF]; /* objects handed to the next thread */
	atomic_int bad;
	atomic_int stop;
};

static struct shared sh;

/* allocates, checks what it wrote, frees its own objects and the ones the
 * thread before it handed over (frees across threads) */
static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg, prev = (me + NTHREADS - 1) % NTHREADS;
	uint32_t *mine[8] = { NULL };

	for (uint32_t k = 0; k < ROUNDS; k++) {
		size_t size = 16u << (k % 8); /* 16 B .. 2 KiB */
		uint32_t *p = pkbox_malloc(sh.d, size);

		if (!p) {
			atomic_fetch_add(&sh.bad, 1);
			break;
		}
		p[0] = k;
		p[size / 4 - 1] = ~k;
		uint32_t *old = mine[k % 8];
		if (old && (old[0] != k - 8 || old[(16u << (k % 8)) / 4 - 1] != ~(k - 8)))
			atomic_fetch_add(&sh.bad, 1);
		if (old && k % 3 == 0) /* some go to the next thread */
			old = atomic_exchange(&sh.slot[me][k % HANDOFF], old);
		if (old && pkbox_free(sh.d, old))
			atomic_fetch_add(&sh.bad, 1);
		mine[k % 8] = p;
		uint32_t *theirs = atomic_exchange(&sh.slot[prev][k % HANDOFF], NULL);
		if (theirs && pkbox_free(sh.d, theirs))
			atomic_fetch_add(&sh.bad, 1);
	}
	for (int i = 0; i < 8; i++)
		if (mine[i] && pkbox_free(sh.d, mine[i]))
			atomic_fetch_add(&sh.bad, 1);
	return NULL;
}

static intptr_t spin(void *arg)
{
	(void)arg;
	return 7;
}

/* calls into another domain meanwhile: each takes the lock (and, with
 * mprotect, hides the state) beside the short path */
static void *caller(void *arg)
{
	struct pkbox_domain *e = arg;

	while (!atomic_load(&sh.stop)) {
		intptr_t r = 0;

		if (pkbox_call(e, spin, NULL, &r) || r != 7)
			atomic_fetch_add(&sh.bad, 1);
	}
	return NULL;
}

static void test_fast_threads(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *e = dom("callee", 0);
	pthread_t t[NTHREADS], c;

	memset(&sh, 0, sizeof(sh));
	sh.d = dom("shared", 0);
	assert_int_equal(pthread_create(&c, NULL, caller, e), 0);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	atomic_store(&sh.stop, 1);
	assert_int_equal(pthread_join(c, NULL), 0);
	for (int i = 0; i < NTHREADS; i++)
		for (int k = 0; k < HANDOFF; k++)
			if (sh.slot[i][k])
				assert_int_equal(pkbox_free(sh.d, sh.slot[i][k]), 0);
	assert_int_equal(atomic_load(&sh.bad), 0);
	assert_int_equal(usage(sh.d), 0); /* the accounting agrees, to the page */
	assert_int_equal(pkbox_domain_destroy(sh.d), 0);
	assert_int_equal(pkbox_domain_destroy(e), 0);
}

/* allocates and frees without touching the memory: a reset may take it */
static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&sh.stop)) {
		void *p = pkbox_malloc(sh.d, 64), *q = pkbox_malloc(sh.d, 64);
		int a = p ? pkbox_free(sh.d, p) : 0, b = q ? pkbox_free(sh.d, q) : 0;

		/* a reset in between makes the free refused (EINVAL), a destroy
		 * the calls after it (ENOENT), nothing else */
		if ((a && a != -EINVAL && a != -ENOENT) || (b && b != -EINVAL && b != -ENOENT) ||
		    (!p && errno != ENOENT) || (!q && errno != ENOENT))
			atomic_fetch_add(&sh.bad, 1);
	}
	return NULL;
}

static void test_fast_reset_destroy(void **state)
{
	(void)state;
	pkbox_signals_install();
	pthread_t t[2];

	memset(&sh, 0, sizeof(sh));
	sh.d = dom("churned", 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
	for (int k = 0; k < 200; k++) {
		assert_int_equal(pkbox_domain_reset(sh.d), 0);
		usleep(200);
	}
	atomic_store(&sh.stop, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(atomic_load(&sh.bad), 0);
	assert_int_equal(pkbox_domain_reset(sh.d), 0);
	assert_int_equal(usage(sh.d), 0);
	/* destroyed while the threads allocate: they are refused (ENOENT) */
	atomic_store(&sh.stop, 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
	usleep(2000);
	assert_int_equal(pkbox_domain_destroy(sh.d), 0);
	usleep(2000);
	atomic_store(&sh.stop, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(atomic_load(&sh.bad), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_small),     cmocka_unit_test(test_sizes_alignment),
		cmocka_unit_test(test_bad_frees),      cmocka_unit_test(test_reallocs),
		cmocka_unit_test(test_usage_quota),    cmocka_unit_test(test_guard_and_grants),
		cmocka_unit_test(test_reset_destroy),  cmocka_unit_test(test_copy_bounds),
		cmocka_unit_test(test_fast_edge),      cmocka_unit_test(test_fast_threads),
		cmocka_unit_test(test_fast_reset_destroy),
	};
	pkbox_test_check_backend();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
