/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fault.h - the gate layer's signal side (fault.c): fault handlers, a
 * thread's signal set-up, the thread pointer on the way in and out. */
#ifndef PKBOX_FAULT_H
#define PKBOX_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

extern _Atomic unsigned long pkbox__rogue_faults;
struct ucontext_t;
int pkbox__self_ti(void);
int pkbox__tdir_index(pid_t tid);

bool pkbox__in_compartment(struct ucontext_t *uc);
void pkbox__to_fault_exit(struct ucontext_t *uc, int ti, uint64_t addr, int signo, int si_code, long pkey, int access,
			  uint64_t ip);
int pkbox__fault_install(void);
int pkbox__thread_signals(struct pkbox_thread *t);
int pkbox__thread_rseq_off(void);
struct rseq;
int pkbox__rseq_find(struct rseq **area, unsigned *len);
size_t pkbox__fault_signals(const int **sigs, void **fn);
void pkbox__host_fs_set(int ti);
int pkbox__thread_enter(struct pkbox_thread **out);
/* a child process without the pool, and how a handler ends it there */
bool pkbox__no_pool(void);
void pkbox__block_fatal(struct ucontext_t *uc);
uint64_t pkbox__fs_enter(int *ti);
void pkbox__fs_leave(uint64_t fs);

#endif
