/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * guard-pages - an object allocated with PKBOX_MALLOC_GUARD lies right
 * before a guard page: a buffer overflow in a compartment faults on the
 * first byte past the (16-byte rounded) object instead of corrupting its
 * neighbour.  (Plain pkbox_malloc() packs small objects side by side.)
 */
#include <stdio.h>
#include <string.h>

#include "pkeysbox.h"

struct job {
	char *buf;
	size_t n;
};

static intptr_t fill(void *a) /* inside the compartment */
{
	struct job *j = a;

	for (size_t i = 0; i < j->n; i++)
		j->buf[i] = 'A';
	return (intptr_t)j->n;
}

int main(void)
{
	struct pkbox_domain *d = pkbox_domain_create("parser", NULL);
	if (!d) {
		fprintf(stderr, "guard-pages: %s\n", pkbox_last_error());
		return 2;
	}
	struct job *j = pkbox_calloc(d, 1, sizeof(*j));
	char *buf = pkbox_malloc_flags(d, 64, PKBOX_MALLOC_GUARD);
	char *next = pkbox_malloc_flags(d, 64, PKBOX_MALLOC_GUARD);
	strcpy(next, "neighbour");
	j->buf = buf;
	printf("domain %s (backend %s): a 64-byte buffer at %p, its neighbour at %p\n", "parser",
	       pkbox_backend_name(pkbox_backend()), (void *)buf, (void *)next);
	intptr_t r = 0;
	j->n = 64;
	int rc1 = pkbox_call(d, fill, j, &r);
	printf("write 64 bytes: %s\n", rc1 ? "FAULT" : "ok");
	j->n = 65;
	int rc2 = pkbox_call(d, fill, j, &r);
	PKBOX_OPTS(pkbox_fault, f);
	if (rc2 && !pkbox_last_fault(d, &f))
		printf("write 65 bytes: stopped at byte %ld: %s at %#lx (%s page), the neighbour still says \"%s\"\n",
		       (long)(f.addr - (uintptr_t)buf), f.access == PKBOX_FAULT_WRITE ? "write" : "read",
		       (unsigned long)f.addr, f.owner, next);
	else
		printf("write 65 bytes: NOT stopped\n");
	return !rc1 && rc2 == -14 && f.addr == (uintptr_t)buf + 64 && !strcmp(next, "neighbour") ? 0 : 1;
}
