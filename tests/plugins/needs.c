/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* needs.c - a plugin with a dependency of its own (libpkbox-dep.so, found
 * through its RUNPATH): its entry points report what the dependency's
 * constructor did and where its data lives. */
extern int dep_ready;
int *dep_counter_addr(void);
void *dep_heap_addr(void);

int needs_ready(void);
int needs_ready(void)
{
	return dep_ready;
}

void *needs_counter(void);
void *needs_counter(void)
{
	return dep_counter_addr();
}

void *needs_heap(void);
void *needs_heap(void)
{
	return dep_heap_addr();
}
