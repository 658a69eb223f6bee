/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_mp_lazy.c - the mprotect backend's switch: eager by default (every
 * exit gives the host all its memory back), lazy as an opt-in
 * (PKBOX_F_MP_LAZY, PKBOX_MP_LAZY=1: the host's memory comes back on its
 * first touch).  The caveat doc/DESIGN.md and pkbox_init(3) state: under
 * the lazy switch a syscall on pool memory the host has not touched since
 * a call (read() into a pkbox_malloc buffer, write() from it) fails with
 * EFAULT; touching it first works.  Each case sets the library up in a
 * child process of its own. */
#include "common.h"

#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

static intptr_t empty(void *a)
{
	return (intptr_t)a;
}

/* in the child: set up, one call into another domain, then a read() into
 * and a write() from the host's pool memory untouched since; 0 when what
 * happened is what lazy (or eager) promises, else a line number */
static int child(enum pkbox_backend be, unsigned flags, const char *env, bool lazy)
{
	PKBOX_OPTS(pkbox_config, c, .backend = be, .flags = flags);
	int p[2];
	intptr_t v;

	if (env)
		setenv("PKBOX_MP_LAZY", env, 1);
	if (pkbox_init(&c))
		return be == PKBOX_BACKEND_PKU ? 77 : __LINE__;
	struct pkbox_domain *d = pkbox_domain_create("other", NULL);
	char *in = pkbox_malloc(pkbox_host_domain(), 4096), *out = pkbox_malloc(pkbox_host_domain(), 4096);

	if (!d || !in || !out || pipe(p))
		return __LINE__;
	memset(out, 'x', 4096);
	in[0] = 0;
	if (pkbox_call(d, empty, NULL, &v) || write(p[1], "hello", 5) != 5)
		return __LINE__;
	/* untouched since the call: the kernel's copy faults where the host would not */
	ssize_t r = read(p[0], in, 5);
	if (lazy ? !(r == -1 && errno == EFAULT) : r != 5)
		return __LINE__;
	r = write(p[1], out, 5);
	if (lazy ? !(r == -1 && errno == EFAULT) : r != 5)
		return __LINE__;
	/* touched first (the fault handler shows it): the syscall works */
	*(volatile char *)in = 0;
	*(volatile char *)out;
	if (lazy && (read(p[0], in, 5) != 5 || memcmp(in, "hello", 5) || write(p[1], out, 5) != 5))
		return __LINE__;
	return 0;
}

static void run(enum pkbox_backend be, unsigned flags, const char *env, bool lazy)
{
	pid_t pid = fork();
	int st = 0;

	assert_true(pid >= 0);
	if (!pid)
		_exit(child(be, flags, env, lazy));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		printf("# (no pku here: the flag's no-op on pku runs in the PKU guests)\n");
		return;
	}
	if (WEXITSTATUS(st))
		printf("# failed at test_mp_lazy.c:%d\n", WEXITSTATUS(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* the default: everything given back at the exit, syscalls just work */
static void test_eager_default(void **state)
{
	(void)state;
	run(PKBOX_BACKEND_MPROTECT, 0, NULL, false);
	run(PKBOX_BACKEND_MPROTECT, 0, "0", false);
}

/* the flag and the environment variable turn the lazy switch on */
static void test_lazy_efault(void **state)
{
	(void)state;
	run(PKBOX_BACKEND_MPROTECT, PKBOX_F_MP_LAZY, NULL, true);
	run(PKBOX_BACKEND_MPROTECT, 0, "1", true);
}

/* PKBOX_F_IGNORE_ENV: the variable is not read */
static void test_lazy_env_ignored(void **state)
{
	(void)state;
	run(PKBOX_BACKEND_MPROTECT, PKBOX_F_IGNORE_ENV, "1", false);
}

/* pku switches nothing outside a call: the flag changes nothing */
static void test_pku_flag_noop(void **state)
{
	(void)state;
	run(PKBOX_BACKEND_PKU, PKBOX_F_MP_LAZY, "1", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eager_default),
		cmocka_unit_test(test_lazy_efault),
		cmocka_unit_test(test_lazy_env_ignored),
		cmocka_unit_test(test_pku_flag_noop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
