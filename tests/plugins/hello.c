/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hello.c - a well-behaved plugin: prints its arguments, uses its heap and
 * its globals, returns argc + 40 (or the number given as its first arg). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ctor_ran;
static char *greeting;

__attribute__((constructor)) static void init(void)
{
	ctor_ran = 1;
	greeting = strdup("hello from the compartment");
}

int pkbox_main(int argc, char **argv);
int pkbox_main(int argc, char **argv)
{
	char *buf = malloc(1 << 16);
	if (!buf || !ctor_ran || !greeting)
		return 99;
	snprintf(buf, 1 << 16, "%s: argc=%d", greeting, argc);
	printf("%s\n", buf);
	for (int i = 1; i < argc; i++)
		printf("arg[%d]=%s\n", i, argv[i]);
	free(buf);
	if (argc > 1 && !strncmp(argv[1], "ret=", 4))
		return atoi(argv[1] + 4);
	return argc + 40;
}

/* the heap it got: the host checks which domain owns this */
void *heap_probe(void);
void *heap_probe(void)
{
	return malloc(100);
}

/* a global of the plugin: its data segment belongs to its domain */
int plugin_counter = 5;
int *counter_addr(void);
int *counter_addr(void)
{
	plugin_counter++;
	return &plugin_counter;
}

/* read-only data: key 0, readable by every domain, the host's to look up */
const char plugin_banner[] = "hello plugin";
