/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dep.c - a library a plugin needs and the process does not have: the
 * loader brings it into the plugin's domain, constructor included. */
#include <stdlib.h>

int dep_ready;
int dep_counter = 7;
static int *dep_heap;

__attribute__((constructor)) static void init(void)
{
	dep_heap = malloc(sizeof(int));
	if (dep_heap) {
		*dep_heap = 35;
		dep_ready = *dep_heap + dep_counter;
	}
}

int *dep_counter_addr(void);
int *dep_counter_addr(void)
{
	return &dep_counter;
}

void *dep_heap_addr(void);
void *dep_heap_addr(void)
{
	return dep_heap;
}
