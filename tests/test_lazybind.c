/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_lazybind.c - a host bound lazily, and one bound eagerly.
 *
 * Built twice: with -Wl,-z,lazy (EXPECT_LAZY=1) and with -Wl,-z,now
 * (EXPECT_LAZY=0; tests/pkgconfig/ also builds it with the pkg-config line
 * alone).  It runs without LD_BIND_NOW (it re-executes itself without it),
 * since that would bind the lazy build eagerly.  The compartment's code,
 * in this program, calls pkbox_host_call() through the program's PLT: bound
 * lazily, that first call would run the dynamic loader inside the
 * compartment (with key-0 protection, a fault writing the GOT).
 *  - lazy: pkbox_call() and pkbox_call_timed() refuse with -ENOTSUP and
 *    errno ENOTSUP, the message names the program and the fix, the domain
 *    is not faulted; pkbox_seal() refuses the same way;
 *  - now: the call and the host callback work and errno is left alone;
 *    with --seal (LD_BIND_NOW kept, as the C library may itself be bound
 *    lazily) the process seals and the call works after it.
 * Exit 0, 1 (with FAIL lines), 77 where the backend asked for is missing.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pkeysbox.h>

#include "check.h"

#ifndef EXPECT_LAZY
#define EXPECT_LAZY 0
#endif

static int cb_id = -1;

static intptr_t host_cb(void *arg)
{
	return (intptr_t)arg + 1;
}

/* runs inside the compartment */
static intptr_t inside(void *arg)
{
	intptr_t r = 0;
	int rc = pkbox_host_call(cb_id, arg, &r);

	return rc ? rc : r;
}

/* Is this program bound eagerly (DF_BIND_NOW or DF_1_NOW)? */
static bool program_now(void)
{
	for (const ElfW(Dyn) *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_BIND_NOW))
			return true;
		if (d->d_tag == DT_FLAGS_1 && (d->d_un.d_val & DF_1_NOW))
			return true;
		if (d->d_tag == DT_BIND_NOW)
			return true;
	}
	return false;
}

static void check_refusal(const char *what, int rc)
{
	const char *m = pkbox_last_error();

	CHECK(rc == -ENOTSUP, "%s: rc %d, want -ENOTSUP", what, rc);
	CHECK(errno == ENOTSUP, "%s: errno %d, want ENOTSUP", what, errno);
	CHECK(m && strstr(m, "the program") && strstr(m, "bound lazily"), "%s: message \"%s\" does not name the program",
	      what, m ? m : "(null)");
	CHECK(m && strstr(m, "-Wl,-z,now") && strstr(m, "LD_BIND_NOW=1"), "%s: message \"%s\" has no fix", what,
	      m ? m : "(null)");
	printf("# %s: %s\n", what, m ? m : "(null)");
}

static void lazy_host(struct pkbox_domain *d)
{
	intptr_t r = 7;
	PKBOX_OPTS(pkbox_seal_opts, so);

	errno = 0;
	check_refusal("pkbox_call", pkbox_call(d, inside, (void *)41, &r));
	CHECK(r == 7, "pkbox_call: *ret written (%ld)", (long)r);
	errno = 0;
	check_refusal("pkbox_call_timed", pkbox_call_timed(d, inside, (void *)41, &r, 1000));
	CHECK(pkbox_domain_faulted(d) == 0, "the domain is marked faulted");
	errno = 0;
	check_refusal("pkbox_seal", pkbox_seal(&so));
}

static void now_host(struct pkbox_domain *d, bool seal)
{
	intptr_t r = 0;
	int rc;

	if (seal) {
		PKBOX_OPTS(pkbox_seal_opts, so);
		rc = pkbox_seal(&so);
		CHECK(rc == 0, "pkbox_seal: %d %s", rc, pkbox_last_error());
	}
	errno = 4242;
	rc = pkbox_call(d, inside, (void *)41, &r);
	CHECK(rc == 0 && r == 42, "pkbox_call: rc %d, ret %ld: %s", rc, (long)r, rc ? pkbox_last_error() : "");
	CHECK(errno == 4242, "pkbox_call: errno changed to %d on success", errno);
	rc = pkbox_call_timed(d, inside, (void *)1, &r, 1000);
	CHECK(rc == 0 && r == 2, "pkbox_call_timed: rc %d, ret %ld: %s", rc, (long)r, rc ? pkbox_last_error() : "");
}

int main(int argc, char **argv)
{
	bool seal = argc > 1 && !strcmp(argv[1], "--seal");
	const char *want = getenv("PKBOX_BACKEND");

	if (!seal && getenv("LD_BIND_NOW")) {
		unsetenv("LD_BIND_NOW");
		execv("/proc/self/exe", argv);
		printf("FAIL: cannot re-execute without LD_BIND_NOW: %s\n", strerror(errno));
		return 1;
	}
	if (program_now() == EXPECT_LAZY) {
		printf("FAIL: built %s, but the program is bound %s\n", EXPECT_LAZY ? "lazily" : "eagerly",
		       EXPECT_LAZY ? "eagerly" : "lazily");
		return 1;
	}
	int rc = pkbox_init(NULL);
	if (rc) {
		printf("SKIP: %s (backend %s)\n", pkbox_last_error(), want ? want : "auto");
		return 77;
	}
	printf("# backend %s, program bound %s\n", pkbox_backend_name(pkbox_backend()), EXPECT_LAZY ? "lazily" : "eagerly");
	struct pkbox_domain *d = pkbox_domain_create("lazybind", NULL);
	if (!d) {
		printf("FAIL: pkbox_domain_create: %s\n", pkbox_last_error());
		return 1;
	}
	cb_id = pkbox_callback_register(d, host_cb);
	CHECK(cb_id >= 0, "pkbox_callback_register: %d %s", cb_id, pkbox_last_error());
	if (EXPECT_LAZY)
		lazy_host(d);
	else
		now_host(d, seal);
	if (!failed)
		printf("ok\n");
	return failed;
}
