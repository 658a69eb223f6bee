/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ctor_fault.c - a plugin whose constructor faults: the load must fail and
 * the host carry on. */
#include <stdint.h>

volatile uintptr_t ctor_target = 16;

__attribute__((constructor)) static void init(void)
{
	*(volatile int *)ctor_target = 1;
}

int pkbox_main(int argc, char **argv);
int pkbox_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}
