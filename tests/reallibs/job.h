/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * job.h - one job for a real library, run the same way in the host (the
 * library called directly) and in a compartment (the same source built as
 * a small plugin linked against the library, loaded with
 * pkbox_plugin_load()).  The job reads in[0..in_len) and leaves its result
 * in out[0..out_len), a buffer it got from malloc (in a compartment, the
 * compartment's own heap); err is 0 or says which step failed.
 */
#ifndef RL_JOB_H
#define RL_JOB_H

#include <stddef.h>
#include <stdint.h>

struct rl_job {
	const uint8_t *in;
	size_t in_len;
	uint8_t *out;
	size_t out_len;
	int err;
};

/* each takes a struct rl_job *, returns 0 or the failed step's number */
intptr_t rl_expat_job(void *job);
intptr_t rl_sqlite_job(void *job);
intptr_t rl_png_job(void *job);
intptr_t rl_jpeg_job(void *job);
intptr_t rl_xml2_job(void *job);
/* frees a result (rl_free.c): in a plugin, into the compartment's heap */
intptr_t rl_free(void *p);

#endif
