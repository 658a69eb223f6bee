/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rl_free.c - gives a job's result back to the heap it came from: built
 * into each plugin, where free() is the compartment's own heap's, so the
 * timing loop of test_reallibs can free a result inside the compartment as
 * the direct run frees its own (each outside the part that is timed). */
#include <stdint.h>
#include <stdlib.h>

#include "job.h"

intptr_t rl_free(void *p)
{
	free(p);
	return 0;
}
