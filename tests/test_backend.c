/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_backend.c - how the backend is chosen, and set-up failures.  Each
 * case runs in a child, because set-up happens once per process. */
#include "common.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static int in_child(int (*fn)(void))
{
	int st;
	pid_t p = fork();

	if (p == 0)
		_exit(fn());
	assert_int_equal(waitpid(p, &st, 0), p);
	if (!WIFEXITED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static intptr_t peek(void *a)
{
	return *(volatile char *)a;
}

static int forced_mprotect(void)
{
	setenv("PKBOX_BACKEND", "mprotect", 1);
	if (pkbox_init(NULL) || pkbox_backend() != PKBOX_BACKEND_MPROTECT)
		return 1;
	struct pkbox_domain *d = pkbox_domain_create("d", NULL);
	char *s = pkbox_malloc(pkbox_host_domain(), 8);
	s[0] = 's';
	if (pkbox_call(d, peek, s, NULL) != -EFAULT || pkbox_domain_pkey(d) != -ENOTSUP)
		return 2;
	return 0;
}

static void test_env_mprotect(void **state)
{
	(void)state;
	assert_int_equal(in_child(forced_mprotect), 0);
}

static int bad_env(void)
{
	setenv("PKBOX_BACKEND", "fast", 1);
	if (pkbox_init(NULL) != -EINVAL || !strstr(pkbox_last_error(), "PKBOX_BACKEND=fast"))
		return 1;
	/* every later call reports the failed set-up, nothing crashes */
	if (pkbox_domain_create("x", NULL) || errno != EINVAL)
		return 2;
	if (pkbox_call((struct pkbox_domain *)1, peek, NULL, NULL) != -EINVAL)
		return 3;
	return 0;
}

static void test_env_bad(void **state)
{
	(void)state;
	assert_int_equal(in_child(bad_env), 0);
}

static int want_pku(void)
{
	struct pkbox_info info = { .sz = sizeof(info) };
	setenv("PKBOX_BACKEND", "pku", 1);
	int rc = pkbox_init(NULL);

	pkbox_probe(&info);
	if (info.backend == PKBOX_BACKEND_PKU)
		return rc == 0 && pkbox_backend() == PKBOX_BACKEND_PKU ? 0 : 1;
	/* never a silent fallback */
	if (rc != -ENOTSUP)
		return 2;
	if (!strstr(pkbox_last_error(), "pku backend requested"))
		return 3;
	fprintf(stderr, "# refused as expected: %s\n", pkbox_last_error());
	return 0;
}

static void test_env_pku(void **state)
{
	(void)state;
	assert_int_equal(in_child(want_pku), 0);
}

static int config_overrides_env(void)
{
	struct pkbox_config c = { .sz = sizeof(c), .backend = PKBOX_BACKEND_MPROTECT };
	setenv("PKBOX_BACKEND", "pku", 1);
	if (pkbox_init(&c) || pkbox_backend() != PKBOX_BACKEND_MPROTECT)
		return 1;
	return 0;
}

static void test_config_field(void **state)
{
	(void)state;
	assert_int_equal(in_child(config_overrides_env), 0);
}

static int ignore_env(void)
{
	struct pkbox_config c = { .sz = sizeof(c), .flags = PKBOX_F_IGNORE_ENV };
	setenv("PKBOX_BACKEND", "nonsense", 1);
	return pkbox_init(&c) == 0 ? 0 : 1;
}

static void test_ignore_env(void **state)
{
	(void)state;
	assert_int_equal(in_child(ignore_env), 0);
}

static int bad_config(void)
{
	struct pkbox_config c = { .sz = sizeof(c), .stack_size = 100 };
	if (pkbox_init(&c) != -EINVAL)
		return 1;
	return 0;
}

static void test_bad_config(void **state)
{
	(void)state;
	assert_int_equal(in_child(bad_config), 0);
}

/* The host's own SIGSEGV handler, installed before set-up, still gets
 * the host's faults. */
static void host_handler(int sig)
{
	(void)sig;
	_exit(42);
}

static int chained(void)
{
	signal(SIGSEGV, host_handler);
	if (pkbox_init(NULL))
		return 1;
	struct pkbox_domain *d = pkbox_domain_create("d", NULL);
	char *s = pkbox_malloc(pkbox_host_domain(), 8);
	if (pkbox_call(d, peek, s, NULL) != -EFAULT) /* contained, not chained */
		return 2;
	int *volatile bad = (int *)8;
	*bad = 1; /* the host's own bug */
	return 3;
}

static void test_chain_host_handler(void **state)
{
	(void)state;
	assert_int_equal(in_child(chained), 42);
}

/* With no handler of the host's, a host bug kills it as it would have. */
static int default_disposition(void)
{
	signal(SIGSEGV, SIG_DFL); /* not the test framework's */
	if (pkbox_init(NULL))
		return 1;
	int *volatile bad = (int *)16;
	*bad = 1;
	return 2;
}

static void test_host_fault_default(void **state)
{
	(void)state;
	assert_int_equal(in_child(default_disposition), 1000 + SIGSEGV);
}

static void test_default_backend(void **state)
{
	(void)state;
	struct pkbox_info info = { .sz = sizeof(info) };

	unsetenv("PKBOX_BACKEND");
	assert_int_equal(pkbox_probe(&info), 0);
	assert_int_equal(info.backend_in_use, PKBOX_BACKEND_AUTO);
	pkbox_test_check_backend();
	/* auto picks pku exactly when CPUID says PKU and OSPKE and the kernel gives keys */
	int hw = info.cpuid_pku && info.cpuid_ospke && info.kernel_pkeys;
	assert_int_equal(pkbox_backend(), hw ? PKBOX_BACKEND_PKU : PKBOX_BACKEND_MPROTECT);
	assert_int_equal(pkbox_probe(&info), 0);
	assert_int_equal(info.backend_in_use, pkbox_backend());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_mprotect),
		cmocka_unit_test(test_env_bad),
		cmocka_unit_test(test_env_pku),
		cmocka_unit_test(test_config_field),
		cmocka_unit_test(test_ignore_env),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_chain_host_handler),
		cmocka_unit_test(test_host_fault_default),
		cmocka_unit_test(test_default_backend), /* last: sets the library up here */
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
