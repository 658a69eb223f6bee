/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_threads.c - eight threads in separate and shared domains; a thread
 * born before a domain enters it; host threads during a compartment call;
 * calls racing destroy, allocation and faults. */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#define NT 8
#define ITERS 300

static struct pkbox_domain *own[NT], *shared;
static long *own_mem[NT];
static _Atomic long *counter;
static char *secret;
static pthread_barrier_t go;
static int errors[NT];

static intptr_t work(void *a)
{
	long *m = a;
	m[0] += 1;
	return m[0] * 2;
}

static intptr_t shared_work(void *a)
{
	(void)a;
	return atomic_fetch_add(counter, 1) + 1;
}

static intptr_t peek(void *a)
{
	return *(volatile char *)a;
}

static void *thread_main(void *arg)
{
	int ti = (int)(intptr_t)arg;
	intptr_t r;

	pthread_barrier_wait(&go);
	for (int i = 0; i < ITERS; i++) {
		if (pkbox_call(own[ti], work, own_mem[ti], &r) || r != (intptr_t)own_mem[ti][0] * 2 ||
		    own_mem[ti][0] != i + 1)
			errors[ti]++;
		if (pkbox_call(shared, shared_work, NULL, &r) || r <= 0)
			errors[ti]++;
		if (i == ITERS / 2) {
			/* each thread's domain tries the host's secret and another
			 * thread's memory, while the others keep running */
			struct pkbox_fault f = { .sz = sizeof(f) };
			long keep = own_mem[ti][0];

			if (pkbox_call(own[ti], peek, secret, NULL) != -EFAULT ||
			    pkbox_last_fault(own[ti], &f) || f.addr != (uintptr_t)secret)
				errors[ti]++;
			if (pkbox_domain_reset(own[ti]))
				errors[ti]++;
			own_mem[ti] = pkbox_malloc(own[ti], sizeof(long));
			if (!own_mem[ti])
				errors[ti]++;
			else
				own_mem[ti][0] = keep;
			if (pkbox_call(own[ti], peek, own_mem[(ti + 1) % NT], NULL) != -EFAULT)
				errors[ti]++;
			pkbox_domain_reset(own[ti]);
			own_mem[ti] = pkbox_malloc(own[ti], sizeof(long));
			own_mem[ti][0] = keep;
		}
	}
	return NULL;
}

static void test_eight_threads(void **state)
{
	(void)state;
	pkbox_signals_install();
	pthread_t th[NT];

	secret = pkbox_malloc(pkbox_host_domain(), 64);
	strcpy(secret, "secret");
	shared = pkbox_domain_create("shared", NULL);
	assert_non_null(shared);
	counter = pkbox_malloc(shared, sizeof(long));
	for (int i = 0; i < NT; i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%d", i);
		own[i] = pkbox_domain_create(name, NULL);
		if (!own[i]) {
			/* pku: fewer keys than threads; share the rest */
			assert_int_equal(errno, ENOSPC);
			own[i] = pkbox_domain_create("spare", NULL);
		}
		assert_non_null(own[i]);
		own_mem[i] = pkbox_malloc(own[i], sizeof(long));
		assert_non_null(own_mem[i]);
	}
	pthread_barrier_init(&go, NULL, NT);
	for (int i = 0; i < NT; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)i), 0);
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NT; i++) {
		assert_int_equal(errors[i], 0);
		assert_int_equal(own_mem[i][0], ITERS);
	}
	assert_int_equal(atomic_load(counter), NT * ITERS);
	assert_string_equal(secret, "secret");
	for (int i = 0; i < NT; i++)
		assert_int_equal(pkbox_domain_destroy(own[i]), 0);
}

/* A thread that existed before the domain (and before its key) */
static pthread_barrier_t b2;
static struct pkbox_domain *late;
static int *late_mem;
static int early_rc = -1;
static intptr_t early_r;

static intptr_t late_fn(void *a)
{
	(void)a;
	return late_mem[0] + 1;
}

static void *early_thread(void *a)
{
	(void)a;
	pthread_barrier_wait(&b2); /* the domain is created meanwhile */
	pthread_barrier_wait(&b2);
	late_mem[0] += 10; /* host access from this thread too */
	early_rc = pkbox_call(late, late_fn, NULL, &early_r);
	return NULL;
}

static void test_thread_before_domain(void **state)
{
	(void)state;
	pkbox_signals_install();
	pthread_t t;

	pthread_barrier_init(&b2, NULL, 2);
	assert_int_equal(pthread_create(&t, NULL, early_thread, NULL), 0);
	pthread_barrier_wait(&b2);
	late = pkbox_domain_create("late", NULL);
	assert_non_null(late);
	late_mem = pkbox_malloc(late, sizeof(int));
	late_mem[0] = 5;
	pthread_barrier_wait(&b2);
	pthread_join(t, NULL);
	assert_int_equal(early_rc, 0);
	assert_int_equal(early_r, 16);
	assert_int_equal(pkbox_domain_destroy(late), 0);
}

/* While one thread is inside a compartment, a host thread uses the host's
 * private memory: it works (mprotect backend: it waits until the call is
 * over; pku: PKRU is per thread, nothing waits). */
static _Atomic int *inside; /* in the compartment's memory: it writes it */
static intptr_t slow(void *a)
{
	atomic_store((_Atomic int *)a, 1);
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	return 3;
}

/* a host thread calls fn in domain d; fn sets *inside first */
struct inside_call {
	struct pkbox_domain *d;
	pkbox_fn fn;
};

static void *inside_caller(void *arg)
{
	const struct inside_call *c = arg;
	intptr_t r = 0;
	int rc = pkbox_call(c->d, c->fn, (void *)inside, &r);
	return (void *)(intptr_t)(rc ? rc : r);
}

/* While another thread runs fn (which returns 3) in a new domain, this one
 * reads and writes the host's private memory: both work, and the call
 * ends with its result. */
static void host_touch_during(const char *name, pkbox_fn fn)
{
	struct inside_call c = { pkbox_domain_create(name, NULL), fn };
	char *priv = pkbox_malloc(pkbox_host_domain(), 32);
	pthread_t t;
	void *res;

	assert_non_null(c.d);
	assert_non_null(priv);
	strcpy(priv, "host only");
	inside = pkbox_malloc(c.d, sizeof(*inside));
	assert_non_null(inside);
	atomic_store(inside, 0);
	assert_int_equal(pthread_create(&t, NULL, inside_caller, &c), 0);
	while (!atomic_load(inside))
		sched_yield();
	assert_string_equal(priv, "host only");
	priv[0] = 'H';
	pthread_join(t, &res);
	assert_int_equal((intptr_t)res, 3);
	assert_int_equal(priv[0], 'H');
	assert_int_equal(pkbox_domain_destroy(c.d), 0);
}

static void test_host_thread_during_call(void **state)
{
	(void)state;
	pkbox_signals_install();
	host_touch_during("slow", slow);
}

/* Calls race the lock: four threads call into two domains that a fifth
 * destroys and creates again, allocates in and frees in, while each caller
 * now and then faults in a domain of its own and resets it.  On pku most
 * calls take the path without the lock (gate.c); every result must be
 * exact or a clean error for a handle that went away, and no destroy may
 * succeed under a call that is inside. */
#define RACE_CALLERS 4
#define RACE_ITERS 1500
#define RACE_GENS 4096

struct race_pair {
	struct pkbox_domain *h;
	long *mem; /* [0] calls counted inside, [1] the generation's tag */
};
static struct race_pair race_pairs[RACE_GENS];
static int race_cur[2];         /* index into race_pairs, per domain */
static int race_done;
static int race_bad[RACE_CALLERS], race_ok[RACE_CALLERS], race_gone[RACE_CALLERS];
static struct pkbox_domain *race_own[RACE_CALLERS];

static intptr_t race_work(void *a)
{
	long *m = a;

	__atomic_fetch_add(&m[0], 1, __ATOMIC_RELAXED);
	return m[1];
}

static void *race_caller(void *arg)
{
	int ti = (int)(intptr_t)arg;

	for (int i = 0; i < RACE_ITERS; i++) {
		int k = (i + ti) & 1;
		struct race_pair *p = &race_pairs[__atomic_load_n(&race_cur[k], __ATOMIC_ACQUIRE)];
		intptr_t r = -1;
		int rc = pkbox_call(p->h, race_work, p->mem, &r);

		if (rc == 0 && r == (intptr_t)(p - race_pairs))
			race_ok[ti]++;
		else if (rc == -ENOENT)
			race_gone[ti]++; /* destroyed meanwhile */
		else
			race_bad[ti]++;
		if (i % 200 == 100) {
			if (pkbox_call(race_own[ti], peek, secret, NULL) != -EFAULT || pkbox_domain_reset(race_own[ti]))
				race_bad[ti]++;
		}
	}
	return NULL;
}

static int race_publish(int k, int gen)
{
	struct race_pair *p = &race_pairs[gen];

	p->h = pkbox_domain_create(k ? "race1" : "race0", NULL);
	p->mem = p->h ? pkbox_calloc(p->h, 2, sizeof(long)) : NULL;
	if (!p->mem) {
		printf("# domain %d, generation %d: %s\n", k, gen, pkbox_last_error());
		return -1;
	}
	p->mem[1] = gen;
	__atomic_store_n(&race_cur[k], gen, __ATOMIC_RELEASE);
	return 0;
}

static void test_calls_race_destroy(void **state)
{
	(void)state;
	pthread_t t[RACE_CALLERS];
	int gen = 0, destroyed = 0, busy = 0;

	pkbox_signals_install();
	if (!secret)
		secret = pkbox_malloc(pkbox_host_domain(), 16);
	assert_non_null(secret);
	for (int k = 0; k < 2; k++)
		assert_int_equal(race_publish(k, gen++), 0);
	for (int i = 0; i < RACE_CALLERS; i++) {
		race_own[i] = pkbox_domain_create("race-own", NULL);
		assert_non_null(race_own[i]);
		assert_int_equal(pthread_create(&t[i], NULL, race_caller, (void *)(intptr_t)i), 0);
	}
	/* the churn: until every caller is through */
	for (int n = 0; __atomic_load_n(&race_done, __ATOMIC_ACQUIRE) < RACE_CALLERS && gen < RACE_GENS; n++) {
		int k = n & 1;

		for (int i = 0; i < RACE_CALLERS; i++)
			if (t[i] && pthread_tryjoin_np(t[i], NULL) == 0) {
				t[i] = 0;
				__atomic_fetch_add(&race_done, 1, __ATOMIC_RELEASE);
			}
		struct race_pair *old = &race_pairs[race_cur[k]];
		void *junk = pkbox_malloc(old->h, 64 + n % 4096);

		if (junk)
			pkbox_free(old->h, junk);
		int rc = pkbox_domain_destroy(old->h);
		if (rc == -EBUSY) {
			busy++;
			continue;
		}
		assert_int_equal(rc, 0);
		destroyed++;
		assert_int_equal(race_publish(k, gen++), 0);
	}
	int ok = 0, gone = 0;
	for (int i = 0; i < RACE_CALLERS; i++) {
		if (t[i])
			pthread_join(t[i], NULL);
		ok += race_ok[i], gone += race_gone[i];
		assert_int_equal(race_bad[i], 0);
		assert_int_equal(pkbox_domain_destroy(race_own[i]), 0);
	}
	printf("# %d calls exact, %d into a destroyed domain; %d destroyed, %d refused busy\n", ok, gone, destroyed,
	       busy);
	assert_int_equal(ok + gone, RACE_CALLERS * RACE_ITERS);
	assert_true(ok > 0);
	assert_true(destroyed > 0);
	for (int k = 0; k < 2; k++)
		assert_int_equal(pkbox_domain_destroy(race_pairs[race_cur[k]].h), 0);
}

/* mprotect: the waiting room (the page after the gate page, in the
 * public layout) is writable from inside; a compartment that keeps
 * rewriting its count to 0 (nobody waits: no wake-up at the call's end)
 * only delays a waiting host thread, which wakes by its timeout. */
static intptr_t slow_forger(void *a)
{
	volatile uint32_t *room = (volatile uint32_t *)0x50000200b000UL;
	struct timespec t0, t1, ts = { 0, 1000 * 1000 };

	atomic_store((_Atomic int *)a, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		*room = 0;
		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 50 * 1000 * 1000);
	*room = 0;
	return 3;
}

static void test_waitroom_forged(void **state)
{
	(void)state;
	if (pkbox_test_is_pku())
		return; /* (nothing waits with pku) */
	pkbox_signals_install();
	host_touch_during("forger", slow_forger);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_before_domain),
		cmocka_unit_test(test_eight_threads),
		cmocka_unit_test(test_host_thread_during_call),
		cmocka_unit_test(test_calls_race_destroy),
		cmocka_unit_test(test_waitroom_forged),
	};
	pkbox_test_check_backend();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
