/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backend.h - the backend interface: every difference between the pku
 * backend (memory tagged with protection keys, a switch is one WRPKRU) and
 * the mprotect fallback (what a domain may not touch is made PROT_NONE on
 * entry and given back on exit) is one operation here.  Code outside
 * backend_pku.c and backend_mprotect.c never asks which backend is in use;
 * it calls pkbox__be->op(...).
 */
#ifndef PKBOX_BACKEND_H
#define PKBOX_BACKEND_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "pkeysbox.h"
#include "phase.h"
#include "sys.h"
#include "state.h"

struct pkbox_dom;
struct pkbox_frame;
struct pkbox_gatecfg;
struct pkbox_region;
struct pkbox_switch;
struct ucontext_t;

/* which of the gate's switch paths (gate.S) a backend uses */
#define PKBOX_GATE_WRPKRU 0
#define PKBOX_GATE_SYSCALL 1

struct pkbox_backend_ops {
	const char *name;
	enum pkbox_backend id;  /* what pkbox_backend() reports */
	int gate;               /* PKBOX_GATE_*: the entry and exit path gate.S takes */
	bool keyed;             /* memory carries its domain's protection key (the seal checks it) */
	const char *no_key0;    /* why key-0 protection cannot be had; NULL: it may */
	/* a call needs no lock and no hook around the switch, and its gate
	 * record is pkbox__record_write()'s: pkbox_call() may take its path
	 * without the library lock (gate.c) */
	bool lockfree_calls;
	/* between calls, as the seal expects them: the gate page's protection,
	 * the page after it's (PROT_NONE: not used) and the code area's
	 * writable view's (between commits) */
	int gatepage_prot, waitroom_prot, code_view_prot;

	/* ---- set-up (init.c) */
	/* 0 when this backend can run here, else -errno with a message */
	int (*usable)(void);
	/* the library's own two keys (state, records): -1 each where none is used */
	int (*lib_keys)(int *key_h, int *key_r);
	/* the library lock's word: where it stays reachable while memory is hidden */
	struct pkbox_lock *(*lock_word)(void);
	/* after the state's extent is known (gc->meta_len trimmed; the state
	 * zeroed and reachable): the backend's own part of it; 0 or -errno */
	int (*setup_meta)(struct pkbox_gatecfg *gc);

	/* ---- memory (domain.c, jit.c, init.c) */
	/* a domain's key (pku), or -1 where keys are not used; -ENOSPC: none left */
	int (*dom_key)(void);
	int (*tag)(uintptr_t base, size_t len, int prot, int pkey);
	/* after pkbox__reset_range(): what tag() marked, unmarked */
	void (*untag)(uintptr_t base, size_t len);
	/* back to key 0 with protection prot (a range given back, a plugin's
	 * segment released): 0 or -1 with errno */
	int (*to_key0)(uintptr_t base, size_t len, int prot);
	/* region g is shared with another domain: give it a key of its own
	 * where the backend needs one (g->gkey); 0, -ENOSPC (no key left) or
	 * the tagging's -errno */
	int (*share)(struct pkbox_region *g);
	/* the code area's writable view, writable (on) for a commit or back
	 * to what it is between commits (off); under the library lock; 0 or
	 * -errno */
	int (*code_write)(bool on);

	/* ---- the switch (gate.c, gate.S) */
	/* hide everything dom may not touch; on failure nothing stays hidden
	 * and the lock is released: -errno, *sw says more */
	int (*enter)(struct pkbox_dom *dom, struct pkbox_switch *sw);
	/* give the host its rights back; -errno when some memory could not be
	 * given back (*sw says which) */
	int (*leave)(struct pkbox_switch *sw);
	/* the gate record the entry path checks, published before entering and
	 * withdrawn after leaving */
	void (*record_publish)(struct pkbox_frame *f);
	void (*record_clear)(struct pkbox_frame *f);
	/* around an outermost call: the lock that serializes calls, if any */
	void (*call_lock)(void);
	void (*call_unlock)(void);
	/* how the thread masks the timeout signal while a timed call is set up
	 * and run from the host side (SIG_BLOCK: the gate opens it inside;
	 * SIG_UNBLOCK: open all along) */
	int timer_how;

	/* ---- faults (fault.c, the SIGSYS handler); async-signal-safe */
	/* was the interrupted context inside a compartment? */
	bool (*inside)(struct ucontext_t *uc);
	/* is this code running with a compartment's rights right now? */
	bool (*inside_now)(void);
	/* a host thread's SIGSEGV (not a compartment's), in the pool or not:
	 * true when it was fixed or waited out and the access is to be tried
	 * again */
	bool (*host_fault)(struct ucontext_t *uc, const siginfo_t *si, bool in_pool);

	/* ---- the seal (seal.c, seal_check.c) */
	/* takes every key the kernel has left (none for compartments to take);
	 * how many */
	int (*keys_preallocate)(void);
	/* the length of the library's state mapping the seal expects */
	uint64_t (*state_len)(void);
	/* every domain's memory as its owner has it, as the seal's checks of
	 * the kernel's view expect (mprotect: what the lazy switch left hidden
	 * is shown); 0 or -errno.  Optional (pku: none, nothing is switched
	 * outside a call) */
	int (*settle)(void);
};

extern const struct pkbox_backend_ops pkbox__be_pku, pkbox__be_mprotect;
/* the table of backend b (PKU or MPROTECT: the choice, made once by init.c) */
const struct pkbox_backend_ops *pkbox__backend_ops(enum pkbox_backend b);

/* the backend in use, from the read-only gate configuration */
#define pkbox__be ((const struct pkbox_backend_ops *)(uintptr_t)pkbox__gc.ops)

/* the backend in use as pkbox_backend() reports it: AUTO before set-up */
static inline enum pkbox_backend pkbox__backend_in_use(void)
{
	return pkbox__ready() ? pkbox__be->id : PKBOX_BACKEND_AUTO;
}

/* Gives a range of the pool back: contents dropped, no access, key 0. */
static inline void pkbox__reset_range(uintptr_t base, size_t len)
{
	pkbox__madvise(base, len, MADV_DONTNEED);
	pkbox__be->to_key0(base, len, PROT_NONE);
}

/* The gate record the WRPKRU entry path checks (gate.S), from frame f:
 * written by the host, in pages compartments cannot write; the magic last,
 * so a record is whole once it is live. */
static inline void pkbox__record_write(struct pkbox_frame *f)
{
	struct pkbox_record *rec = f->rec;

	rec->pkru = f->pkru;
	rec->kind = f->e_kind;
	rec->target = f->e_target;
	rec->arg = f->e_arg;
	rec->status = f->e_status;
	pkbox__record_arm(rec);
	__atomic_store_n(&rec->magic, PKBOX_RECORD_MAGIC, __ATOMIC_RELEASE);
}

/* the record withdrawn: no entry passes its check any more */
static inline void pkbox__record_withdraw(struct pkbox_frame *f)
{
	__atomic_store_n(&f->rec->magic, 0, __ATOMIC_RELEASE);
}

/* backend_mprotect.c: what gate.S calls on the mprotect path, with host
 * rights, on the thread's exit stack in the library's state */
int pkbox__mp_enter_hook(struct pkbox_frame *f);
void pkbox__mp_exit_hook(struct pkbox_frame *f);
void pkbox__mp_undo_hook(struct pkbox_frame *f, long err);

#endif
