/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugin-host - a host with two plugins, each in its own compartment: the
 * first counts words honestly, the second tries to read the host's key.
 * The theft is stopped and reported; the host unloads the bad plugin and
 * goes on working with the good one.
 *
 *   plugin-host [PLUGIN_DIR]   (default: plugins/ next to this program)
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "pkeysbox.h"

typedef long (*count_fn)(const char *);

struct req {
	count_fn fn;
	char text[256];
};

static intptr_t run(void *a) /* inside the compartment */
{
	struct req *r = a;

	return r->fn(r->text);
}

static const char *key;

/* asks plugin p to count the words of text; -1 when it was stopped */
static long ask(struct pkbox_plugin *p, const char *name, const char *text)
{
	struct pkbox_domain *d = pkbox_plugin_domain(p);
	struct req *r = pkbox_calloc(d, 1, sizeof(*r));
	intptr_t ret = 0;

	r->fn = (count_fn)pkbox_plugin_sym(p, "count_words");
	snprintf(r->text, sizeof(r->text) - 9, "%s", text);
	memcpy(r->text + strlen(r->text) + 1, &key, sizeof(key)); /* what a thief gets to know */
	int rc = pkbox_call(d, run, r, &ret);
	pkbox_free(d, r);
	if (rc) {
		PKBOX_OPTS(pkbox_fault, f);
		pkbox_last_fault(d, &f);
		printf("  %-9s STOPPED: %s at %#lx (memory of: %s, key %d); the host carries on\n", name,
		       f.access == PKBOX_FAULT_WRITE ? "write" : "read", (unsigned long)f.addr, f.owner, f.pkey);
		return -1;
	}
	printf("  %-9s counted %ld words\n", name, (long)ret);
	return (long)ret;
}

int main(int argc, char **argv)
{
	/* sealing needs every object bound eagerly (pkbox_seal(3)) */
	if (!getenv("LD_BIND_NOW")) {
		setenv("LD_BIND_NOW", "1", 1);
		execv("/proc/self/exe", argv);
	}
	char dir[PATH_MAX], path[PATH_MAX + 32];

	if (argc > 1) {
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	} else {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		dir[n > 0 ? n : 0] = 0;
		snprintf(dir + strlen(dirname(dir)), 10, "/plugins");
	}
	if (pkbox_init(NULL)) {
		fprintf(stderr, "plugin-host: %s\n", pkbox_last_error());
		return 2;
	}
	char *k = pkbox_malloc(pkbox_host_domain(), 32);
	strcpy(k, "host key 5f1c");
	key = k;
	printf("host: backend %s; the key is in the host's private domain at %p\n", pkbox_backend_name(pkbox_backend()),
	       (void *)key);
	/* seal first: plugins load into a sealed process, so not even their
	 * constructors run before the policy is in force */
	PKBOX_OPTS(pkbox_seal_opts, so);
	if (pkbox_seal(&so)) {
		fprintf(stderr, "plugin-host: cannot seal: %s\n", pkbox_last_error());
		return 2;
	}
	snprintf(path, sizeof(path), "%s/libwordcount.so", dir);
	struct pkbox_plugin *good = pkbox_plugin_load(path, "wordcount", NULL);
	snprintf(path, sizeof(path), "%s/libgreedy.so", dir);
	struct pkbox_plugin *bad = pkbox_plugin_load(path, "greedy", NULL);
	if (!good || !bad) {
		fprintf(stderr, "plugin-host: %s\n", pkbox_last_error());
		return 2;
	}
	printf("host: the process is sealed; two plugins loaded after it, each in its own domain\n");
	long a = ask(good, "wordcount", "the quick brown fox");
	long b = ask(bad, "greedy", "jumps over the lazy dog");
	printf("host: unloading greedy after its fault (%s)\n",
	       pkbox_domain_faulted(pkbox_plugin_domain(bad)) ? "domain marked faulted" : "?");
	pkbox_plugin_unload(bad);
	long c = ask(good, "wordcount", "and the host keeps working");
	printf("host: the key is intact: %s\n", strcmp(key, "host key 5f1c") ? "NO" : "yes");
	return a == 4 && b == -1 && c == 5 && !strcmp(key, "host key 5f1c") ? 0 : 1;
}
