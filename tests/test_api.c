/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_api.c - every public function, with good and bad input. */
#include "common.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static struct pkbox_domain *bogus = (struct pkbox_domain *)(uintptr_t)0x7f0001;

static intptr_t fn_ret(void *a)
{
	return (intptr_t)a + 1;
}

static void test_init_twice(void **state)
{
	(void)state;
	pkbox_signals_install();
	assert_int_equal(pkbox_init(NULL), -EALREADY);
	assert_int_equal(errno, EALREADY);
	assert_true(strlen(pkbox_last_error()) > 0);
}

static void test_names(void **state)
{
	(void)state;
	pkbox_signals_install();
	assert_string_equal(pkbox_backend_name(PKBOX_BACKEND_PKU), "pku");
	assert_string_equal(pkbox_backend_name(PKBOX_BACKEND_MPROTECT), "mprotect");
	assert_string_equal(pkbox_backend_name(PKBOX_BACKEND_AUTO), "auto");
	assert_string_equal(pkbox_backend_name((enum pkbox_backend)42), "unknown");
	assert_string_equal(pkbox_strerror(-EFAULT), "the compartment faulted");
	assert_string_equal(pkbox_strerror(-12345), "unknown error");
}

static void test_domain_create_bad(void **state)
{
	(void)state;
	pkbox_signals_install();
	errno = 0;
	assert_null(pkbox_domain_create(NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(pkbox_domain_create("", NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(pkbox_domain_create("a-name-that-is-much-too-long-for-a-domain", NULL));
	assert_int_equal(errno, ENAMETOOLONG);
	struct pkbox_domain_opts o = { .sz = 1 };
	assert_null(pkbox_domain_create("x", &o));
	assert_int_equal(errno, EINVAL);
	o.sz = sizeof(o);
	o.quota = (size_t)1 << 62;
	assert_null(pkbox_domain_create("x", &o));
	assert_int_equal(errno, EINVAL);
}

static void test_domain_lifecycle(void **state)
{
	(void)state;
	pkbox_signals_install();
	char name[8];
	struct pkbox_domain *d = pkbox_domain_create("life", NULL);

	assert_non_null(d);
	assert_int_equal(pkbox_domain_name(d, name, sizeof(name)), 0);
	assert_string_equal(name, "life");
	assert_int_equal(pkbox_domain_name(d, name, 3), 0);
	assert_string_equal(name, "li");
	assert_int_equal(pkbox_domain_name(d, NULL, 3), -EINVAL);
	if (pkbox_test_is_pku())
		assert_true(pkbox_domain_pkey(d) > 0);
	else {
		errno = 0;
		assert_int_equal(pkbox_domain_pkey(d), -ENOTSUP);
		assert_int_equal(errno, ENOTSUP);
	}
	assert_int_equal(pkbox_domain_faulted(d), 0);
	assert_int_equal(pkbox_domain_destroy(d), 0);
	/* a destroyed handle is unknown from now on, even if the slot is reused */
	assert_int_equal(pkbox_domain_destroy(d), -ENOENT);
	assert_int_equal(errno, ENOENT);
	struct pkbox_domain *d2 = pkbox_domain_create("life2", NULL);
	assert_non_null(d2);
	assert_ptr_not_equal(d, d2);
	assert_int_equal(pkbox_domain_name(d, name, sizeof(name)), -ENOENT);
	assert_int_equal(pkbox_domain_pkey(d), -ENOENT);
	assert_int_equal(pkbox_domain_faulted(d), -ENOENT);
	assert_int_equal(pkbox_domain_reset(d), -ENOENT);
	assert_null(pkbox_malloc(d, 16));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(pkbox_call(d, fn_ret, NULL, NULL), -ENOENT);
	assert_int_equal(pkbox_domain_destroy(d2), 0);
}

static void test_unknown_handles(void **state)
{
	(void)state;
	pkbox_signals_install();
	assert_int_equal(pkbox_domain_destroy(NULL), -EINVAL);
	assert_int_equal(pkbox_domain_destroy(bogus), -ENOENT);
	assert_int_equal(pkbox_domain_destroy((struct pkbox_domain *)&bogus), -ENOENT);
	assert_int_equal(pkbox_domain_reset(NULL), -EINVAL);
	assert_int_equal(pkbox_domain_faulted(NULL), -EINVAL);
	assert_int_equal(pkbox_domain_pkey(bogus), -ENOENT);
	assert_int_equal(pkbox_call(NULL, fn_ret, NULL, NULL), -EINVAL);
	assert_int_equal(pkbox_call(bogus, fn_ret, NULL, NULL), -ENOENT);
	assert_int_equal(pkbox_free(bogus, NULL), -ENOENT);
	assert_int_equal(pkbox_callback_register(bogus, fn_ret), -ENOENT);
	assert_int_equal(pkbox_callback_unregister(NULL, 0), -EINVAL);
	size_t u;
	assert_int_equal(pkbox_domain_usage(bogus, &u, NULL), -ENOENT);
	/* the host domain is not a compartment and cannot be destroyed */
	assert_int_equal(pkbox_domain_destroy(pkbox_host_domain()), -EINVAL);
	assert_int_equal(pkbox_call(pkbox_host_domain(), fn_ret, NULL, NULL), -EINVAL);
}

static void test_alloc(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = pkbox_domain_create("heap", NULL);
	size_t used, quota;

	assert_non_null(d);
	assert_null(pkbox_malloc(d, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(pkbox_malloc(d, SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	assert_null(pkbox_calloc(d, SIZE_MAX / 2, 4));
	assert_int_equal(errno, ENOMEM);
	assert_null(pkbox_malloc(NULL, 8));
	assert_int_equal(errno, EINVAL);

	char *p = pkbox_malloc(d, 100);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 16, 0);
	memset(p, 'x', 100);
	assert_int_equal(pkbox_domain_usage(d, &used, &quota), 0);
	assert_int_equal(used, 4096);
	assert_true(quota >= 4096);
	assert_ptr_equal(pkbox_domain_of(p), d);
	assert_ptr_equal(pkbox_domain_of(p + 99), d);
	int onstack;
	assert_null(pkbox_domain_of(&onstack));
	assert_int_equal(errno, ENOENT);

	int *z = pkbox_calloc(d, 1000, sizeof(int));
	assert_non_null(z);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(z[i], 0);

	char *q = pkbox_realloc(d, p, 10000);
	assert_non_null(q);
	for (int i = 0; i < 100; i++)
		assert_int_equal(q[i], 'x');
	/* p is gone: freeing it again is a clear error */
	assert_int_equal(pkbox_free(d, p), -EINVAL);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(pkbox_last_error(), "not a live allocation"));
	assert_int_equal(pkbox_free(d, q), 0);
	assert_int_equal(pkbox_free(d, q), -EINVAL); /* double free */
	assert_int_equal(pkbox_free(d, q + 1), -EINVAL);
	char local[8];
	assert_int_equal(pkbox_free(d, local), -EINVAL); /* foreign */
	void *heap = malloc(8);
	assert_int_equal(pkbox_free(d, heap), -EINVAL);
	free(heap);
	assert_int_equal(pkbox_free(d, NULL), 0);
	assert_null(pkbox_realloc(d, z, 0));
	assert_int_equal(pkbox_domain_usage(d, &used, NULL), 0);
	assert_int_equal(used, 0);

	/* an allocation of another domain is refused, and survives */
	struct pkbox_domain *e = pkbox_domain_create("other", NULL);
	char *r = pkbox_malloc(e, 16);
	strcpy(r, "intact");
	assert_int_equal(pkbox_free(d, r), -EINVAL);
	assert_non_null(strstr(pkbox_last_error(), "belongs to domain other"));
	assert_string_equal(r, "intact");
	assert_null(pkbox_realloc(d, r, 64));
	assert_string_equal(r, "intact");
	assert_int_equal(pkbox_domain_destroy(e), 0);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_quota(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain_opts o = { .sz = sizeof(o), .quota = 64 * 1024 };
	struct pkbox_domain *d = pkbox_domain_create("small", &o);
	void *p[16];
	int n = 0;

	assert_non_null(d);
	while (n < 16 && (p[n] = pkbox_malloc(d, 4096)))
		n++;
	assert_int_equal(n, 16);
	assert_null(pkbox_malloc(d, 1));
	assert_int_equal(errno, EDQUOT);
	assert_int_equal(pkbox_free(d, p[3]), 0);
	assert_non_null(pkbox_malloc(d, 1)); /* the space freed is reused */
	assert_int_equal(pkbox_domain_reset(d), 0);
	size_t used;
	assert_int_equal(pkbox_domain_usage(d, &used, NULL), 0);
	assert_int_equal(used, 0);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_grant_bad(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *a = pkbox_domain_create("ga", NULL);
	struct pkbox_domain *b = pkbox_domain_create("gb", NULL);
	char *p = pkbox_malloc_flags(a, 32, PKBOX_MALLOC_GUARD); /* grants need page-granular objects */

	assert_int_equal(pkbox_grant(a, p, b, 7), -EINVAL);
	assert_int_equal(pkbox_grant(a, p, a, PKBOX_ACCESS_READ), -EINVAL);
	assert_int_equal(pkbox_grant(a, NULL, b, PKBOX_ACCESS_READ), -EINVAL);
	assert_int_equal(pkbox_grant(b, p, a, PKBOX_ACCESS_READ), -EINVAL); /* not b's */
	assert_int_equal(pkbox_grant(a, p, pkbox_host_domain(), PKBOX_ACCESS_READ), -EINVAL);
	assert_int_equal(pkbox_grant(a, p, bogus, PKBOX_ACCESS_READ), -ENOENT);
	assert_int_equal(pkbox_revoke(a, p, b), -ENOENT); /* not granted */
	assert_int_equal(pkbox_grant(a, p, b, PKBOX_ACCESS_READ), 0);
	assert_int_equal(pkbox_grant(a, p, b, PKBOX_ACCESS_RW), 0); /* upgrade */
	assert_int_equal(pkbox_revoke(a, p, b), 0);
	assert_int_equal(pkbox_revoke(a, p, b), -ENOENT);
	assert_int_equal(pkbox_domain_destroy(a), 0);
	assert_int_equal(pkbox_domain_destroy(b), 0);
}

static intptr_t cb_double(void *a)
{
	return (intptr_t)a * 2;
}

static void test_callbacks_bad(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = pkbox_domain_create("cbs", NULL);
	intptr_t r = 0;

	assert_int_equal(pkbox_callback_register(d, NULL), -EINVAL);
	int id = pkbox_callback_register(d, cb_double);
	assert_true(id >= 0);
	assert_int_equal(pkbox_callback_unregister(d, id + 1), -ENOENT);
	assert_int_equal(pkbox_callback_unregister(d, -1), -ENOENT);
	/* outside any compartment there is no host to call back */
	assert_int_equal(pkbox_host_call(id, NULL, &r), -EPERM);
	assert_int_equal(pkbox_callback_unregister(d, id), 0);
	assert_int_equal(pkbox_callback_unregister(d, id), -ENOENT);
	for (int i = 0; i < 32; i++)
		assert_true(pkbox_callback_register(d, cb_double) >= 0);
	assert_int_equal(pkbox_callback_register(d, cb_double), -ENOSPC);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_fault_bad(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d = pkbox_domain_create("nofault", NULL);
	struct pkbox_fault f = { .sz = sizeof(f) };

	assert_int_equal(pkbox_last_fault(d, &f), -ENODATA);
	assert_int_equal(pkbox_last_fault(d, NULL), -EINVAL);
	f.sz = 1;
	assert_int_equal(pkbox_last_fault(d, &f), -EINVAL);
	assert_int_equal(pkbox_call(d, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(pkbox_domain_destroy(d), 0);
}

static void test_domain_slots(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *d[64];
	int n = 0;

	/* until keys (pku) or slots (mprotect) run out: a clear error, then all work again */
	while (n < 64 && (d[n] = pkbox_domain_create("many", NULL)))
		n++;
	assert_true(n >= 10);
	assert_int_equal(errno, ENOSPC);
	printf("# %d domains before ENOSPC\n", n);
	for (int i = 0; i < n; i++) {
		intptr_t r = 0;
		if (i % 7 == 0) {
			assert_int_equal(pkbox_call(d[i], fn_ret, (void *)(intptr_t)i, &r), 0);
			assert_int_equal(r, i + 1);
		}
	}
	for (int i = 0; i < n; i++)
		assert_int_equal(pkbox_domain_destroy(d[i]), 0);
	struct pkbox_domain *again = pkbox_domain_create("again", NULL);
	assert_non_null(again);
	assert_int_equal(pkbox_domain_destroy(again), 0);
}

static int print_calls;
static void count_print(enum pkbox_print_level l, const char *m)
{
	(void)l;
	(void)m;
	print_calls++;
}

static void test_print(void **state)
{
	(void)state;
	pkbox_signals_install();
	pkbox_print_fn old = pkbox_set_print(count_print);
	assert_non_null(old);
	pkbox_domain_destroy(bogus);
	assert_true(print_calls > 0);
	assert_ptr_equal(pkbox_set_print(NULL), count_print);
	int before = print_calls;
	pkbox_domain_destroy(bogus);
	assert_int_equal(print_calls, before);
	pkbox_set_print(old);
}

static void test_destroy_busy(void **state);

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_twice),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_domain_create_bad),
		cmocka_unit_test(test_domain_lifecycle),
		cmocka_unit_test(test_unknown_handles),
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_grant_bad),
		cmocka_unit_test(test_callbacks_bad),
		cmocka_unit_test(test_fault_bad),
		cmocka_unit_test(test_destroy_busy),
		cmocka_unit_test(test_domain_slots),
		cmocka_unit_test(test_print),
	};
	pkbox_test_check_backend();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* destroy, reset and a nested call from inside the domain itself */
static struct pkbox_domain *busy_dom;
static int busy_destroy_rc, busy_reset_rc, busy_reenter_rc, busy_id;

static intptr_t busy_cb(void *a)
{
	(void)a;
	busy_destroy_rc = pkbox_domain_destroy(busy_dom);
	busy_reset_rc = pkbox_domain_reset(busy_dom);
	busy_reenter_rc = pkbox_call(busy_dom, fn_ret, NULL, NULL);
	return 7;
}

static intptr_t busy_inside(void *a)
{
	intptr_t r = 0;
	int rc = pkbox_host_call(busy_id, a, &r);
	return rc ? rc : r;
}

static intptr_t call_from_inside(void *a)
{
	return pkbox_call((struct pkbox_domain *)a, fn_ret, NULL, NULL);
}

static void test_destroy_busy(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;

	busy_dom = pkbox_domain_create("busy", NULL);
	busy_id = pkbox_callback_register(busy_dom, busy_cb);
	assert_int_equal(pkbox_call(busy_dom, busy_inside, NULL, &r), 0);
	assert_int_equal(r, 7);
	assert_int_equal(busy_destroy_rc, -EBUSY);
	assert_int_equal(busy_reset_rc, -EBUSY);
	assert_int_equal(busy_reenter_rc, -EDEADLK);
	/* the library refuses to be driven from inside a compartment */
	assert_int_equal(pkbox_call(busy_dom, call_from_inside, busy_dom, &r), 0);
	assert_int_equal(r, -EPERM);
	assert_int_equal(pkbox_domain_destroy(busy_dom), 0);
}
