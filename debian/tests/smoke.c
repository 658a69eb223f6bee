/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* smoke.c - a program built against the installed libpkeysbox-dev: it runs
 * a function in a compartment, which may write its own memory, then one
 * that reads the host's private memory, which must fault and be contained.
 * Used by the autopkgtest (debian/tests/build-and-run) and by
 * tests/debian/check-packages.sh. */
#include <pkeysbox.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static char *secret;

static intptr_t own_memory(void *arg)
{
	char *buf = arg;
	buf[0] = 'P';
	return 42;
}

static intptr_t steal(void *arg)
{
	(void)arg;
	return secret[0];
}

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "smoke: %s: failed (%s)\n", #c, \
	pkbox_last_error() ? pkbox_last_error() : ""); return 1; } } while (0)

int main(void)
{
	const char *backend = pkbox_backend_name(pkbox_backend());
	CHECK(backend != NULL);
	struct pkbox_domain *d = pkbox_domain_create("smoke", NULL);
	CHECK(d != NULL);
	char *buf = pkbox_malloc(d, 64);
	CHECK(buf != NULL);
	secret = pkbox_malloc(pkbox_host_domain(), 32);
	CHECK(secret != NULL);
	strcpy(secret, "hunter2");

	intptr_t ret = 0;
	CHECK(pkbox_call(d, own_memory, buf, &ret) == 0);
	CHECK(ret == 42 && buf[0] == 'P');
	CHECK(pkbox_call(d, steal, NULL, &ret) == -EFAULT);
	CHECK(pkbox_domain_faulted(d) == 1);
	CHECK(strcmp(secret, "hunter2") == 0);
	CHECK(pkbox_domain_destroy(d) == 0);
	printf("smoke: libpkeysbox %d.%d.%d, backend %s: compartment call ok, fault contained\n",
	       PKBOX_VERSION_MAJOR, PKBOX_VERSION_MINOR, PKBOX_VERSION_MICRO, backend);
	return 0;
}
