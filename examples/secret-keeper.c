/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * secret-keeper - the host keeps a key in its private domain and hands
 * work to two "plugins" in a compartment: one does its job, the other
 * tries to steal the key.  The theft is stopped and reported; the host
 * carries on.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pkeysbox.h"

static const char KEY[] = "host-private-key: 9c2f4e7a11d0";
static char *key;       /* in the host's private domain */
static char *shared;    /* in the plugin's domain: its input and output */

/* A well-behaved plugin: checksums the text it was given. */
static intptr_t checksum_plugin(void *arg)
{
	const unsigned char *p = arg;
	uint32_t h = 2166136261u;

	while (*p)
		h = (h ^ *p++) * 16777619u;
	return (intptr_t)h;
}

/* A malicious plugin: copies the host's key into its own output. */
static intptr_t thief_plugin(void *arg)
{
	(void)arg;
	strcpy(shared, key);
	return 0;
}

static const char *access_name(int a)
{
	return a == PKBOX_FAULT_WRITE ? "write" : a == PKBOX_FAULT_EXEC ? "exec" : "read";
}

int main(void)
{
	struct pkbox_domain *plugin;
	intptr_t ret = 0;
	int rc;

	rc = pkbox_init(NULL);
	if (rc) {
		fprintf(stderr, "secret-keeper: %s\n", pkbox_last_error());
		return 1;
	}
	printf("backend: %s\n", pkbox_backend_name(pkbox_backend()));

	key = pkbox_malloc(pkbox_host_domain(), sizeof(KEY));
	plugin = pkbox_domain_create("plugin", NULL);
	shared = plugin ? pkbox_malloc(plugin, 4096) : NULL;
	if (!key || !shared) {
		fprintf(stderr, "secret-keeper: %s\n", pkbox_last_error());
		return 1;
	}
	strcpy(key, KEY);
	printf("host: key stored at %p in the host's private domain (pkey %d)\n", (void *)key,
	       pkbox_domain_pkey(pkbox_host_domain()));

	strcpy(shared, "hello from the host");
	rc = pkbox_call(plugin, checksum_plugin, shared, &ret);
	printf("checksum plugin: rc=%d, checksum of \"%s\" = %08lx\n", rc, shared, (unsigned long)(uint32_t)ret);

	memset(shared, 0, 4096);
	rc = pkbox_call(plugin, thief_plugin, NULL, &ret);
	if (rc == -EFAULT) {
		PKBOX_OPTS(pkbox_fault, f);

		pkbox_last_fault(plugin, &f);
		printf("thief plugin: BLOCKED (%s)\n", pkbox_strerror(rc));
		printf("  domain %s tried to %s %#lx (owned by %s, key %d, signal %d, si_code %d)\n", f.domain,
		       access_name(f.access), (unsigned long)f.addr, f.owner, f.pkey, f.signo, f.si_code);
	} else {
		printf("thief plugin: NOT blocked (rc=%d)\n", rc);
	}
	int leaked = memmem(shared, 4096, "9c2f4e7a11d0", 12) != NULL;
	int intact = strcmp(key, KEY) == 0;
	printf("plugin output holds the key: %s\n", leaked ? "YES" : "no");
	printf("host key intact: %s\n", intact ? "yes" : "NO");

	/* the faulted domain is reset and used again */
	pkbox_domain_reset(plugin);
	shared = pkbox_malloc(plugin, 64);
	strcpy(shared, "again");
	rc = pkbox_call(plugin, checksum_plugin, shared, &ret);
	printf("after reset, checksum plugin: rc=%d\n", rc);
	printf("host: still running; %lu fault(s) contained\n", pkbox_fault_count());
	pkbox_domain_destroy(plugin);
	return leaked || !intact || rc ? 1 : 0;
}
