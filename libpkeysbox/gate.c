/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gate.c - the host side of the call gate: calls (timed or not), host
 * callbacks, pkbox_host_run() stacks, the faults calls end with. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "backend.h"
#include "codemap.h"
#include "binding.h"
#include "domain.h"
#include "fault.h"
#include "fmt.h"
#include "gate.h"
#include "gate_layout.h"
#include "lock.h"
#include "msg.h"
#include "quit.h"
#include "pages.h"
#include "phase.h"
#include "refusals.h"
#include "stacks.h"
#include "state.h"
#include "sys.h"
#include "threads.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define UNPOISON(p, n) __asan_unpoison_memory_region((void *)(p), (n))
#else
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define OFF(t, f, v) _Static_assert(offsetof(struct t, f) == (v), #t "." #f " offset")
OFF(pkbox_gatecfg, stacks_lo, GC_STACKS_LO);
OFF(pkbox_gatecfg, stacks_span, GC_STACKS_SPAN);
OFF(pkbox_gatecfg, stacks_dom_span, GC_STACKS_DOM_SPAN);
OFF(pkbox_gatecfg, stride_shift, GC_SHIFT);
OFF(pkbox_gatecfg, threads_base, GC_THREADS);
OFF(pkbox_gatecfg, thread_stride, GC_THREAD_STRIDE);
OFF(pkbox_gatecfg, records_lo, GC_RECORDS);
OFF(pkbox_gatecfg, meta_lo, GC_META_LO);
OFF(pkbox_gatecfg, meta_len, GC_META_LEN);
OFF(pkbox_gatecfg, reserved, GC_RESERVED);
OFF(pkbox_gatecfg, ops, GC_OPS);
OFF(pkbox_backend_ops, gate, BE_GATE);
OFF(pkbox_gatecfg, fsgsbase, GC_FSGSBASE);
OFF(pkbox_record, magic, R_MAGIC);
OFF(pkbox_record, pkru, R_PKRU);
OFF(pkbox_record, kind, R_KIND);
OFF(pkbox_record, target, R_TARGET);
OFF(pkbox_record, arg, R_ARG);
OFF(pkbox_record, status, R_STATUS);
OFF(pkbox_record, slot_top, R_SLOT_TOP);
OFF(pkbox_record, dom_fs, R_DOM_FS);
OFF(pkbox_frame, rec, F_REC);
_Static_assert(PKBOX_RECORDS_SPAN == PKBOX_MAX_DOMAINS * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE, "records' span");
_Static_assert(sizeof(struct pkbox_record) == PKBOX_RECORD_SIZE, "record size");
OFF(pkbox_frame, host_ret, F_HOST_RET);
OFF(pkbox_frame, host_rsp, F_HOST_RSP);
OFF(pkbox_frame, rbx, F_RBX);
OFF(pkbox_frame, r15, F_R15);
OFF(pkbox_frame, mxcsr, F_MXCSR);
OFF(pkbox_frame, fcw, F_FCW);
OFF(pkbox_frame, fsbase, F_FSBASE);
OFF(pkbox_frame, state, F_STATE);
OFF(pkbox_frame, reason, F_REASON);
OFF(pkbox_frame, val, F_VAL);
OFF(pkbox_frame, slot_top, F_SLOT_TOP);
OFF(pkbox_frame, pkru, F_PKRU);
OFF(pkbox_frame, e_kind, F_E_KIND);
OFF(pkbox_frame, e_target, F_E_TARGET);
OFF(pkbox_frame, e_arg, F_E_ARG);
OFF(pkbox_frame, e_status, F_E_STATUS);
OFF(pkbox_frame, dom_fs, F_DOM_FS);
OFF(pkbox_frame, exit_top, F_EXIT_TOP);
OFF(pkbox_frame, deadline_ns, F_DEADLINE);
_Static_assert(PKBOX_TIMEOUT_SIGNAL == PKBOX_TIMEOUT_SIG, "the timeout signal");
OFF(pkbox_thread, exit_stack, T_EXIT_STACK);
OFF(pkbox_thread, top, 0);


static const char *owner_name(int owner)
{
	return owner >= 0 && owner < PKBOX_MAX_DOMAINS ? pkbox__st->doms[owner].name : "the library";
}

static const char *switch_hint(int err)
{
	return err == ENOMEM ? " (the mapping count is exhausted?)" : "";
}

static uint64_t read_fsbase(void)
{
	return pkbox__gc.fsgsbase ? pkbox__rdfsbase() : 0;
}

/* Where a compartment's instruction at ip is, for a person: the function
 * (the nearest symbol the dynamic loader knows, "+offset") and the object,
 * or the plugin code the library's own loader mapped; "" when unknown.
 * With host rights, after the compartment is out. */
static void code_where(uintptr_t ip, char *buf, size_t n)
{
	Dl_info di;
	const char *obj;

	buf[0] = 0;
	if (!ip)
		return;
	if (dladdr((void *)ip, &di) && di.dli_fname) {
		obj = strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname;
		if (di.dli_sname)
			pkbox__fmt(buf, n, " in %s+%#lx (%s)", di.dli_sname,
				   (unsigned long)(ip - (uintptr_t)di.dli_saddr), obj);
		else
			pkbox__fmt(buf, n, " in %s", obj);
	} else if (pkbox__codemap_plugin(ip)) {
		pkbox__fmt(buf, n, " in a plugin's code");
	}
}

static void record_fault(struct pkbox_dom *d, const struct pkbox_frame *f)
{
	struct pkbox_fault *x = &d->fault;
	int key;

	memset(x, 0, sizeof(*x));
	x->sz = sizeof(*x);
	pkbox__fmt(x->domain, sizeof(x->domain), "%s", d->name);
	x->addr = f->val[0];
	x->signo = (int)(uint32_t)f->val[1];
	x->si_code = (int)(uint32_t)(f->val[1] >> 32);
	x->pkey = (int)(int64_t)f->val[2];
	x->access = (int)f->val[3];
	x->ip = f->val[4];
	pkbox__owner_name(x->addr, x->owner, sizeof(x->owner), &key);
	if (x->pkey < 0)
		x->pkey = key;
	d->faulted = true;
	pkbox__dom_callable(d, false);
	d->has_fault = true;
	pkbox__st->fault_count++;
	char where[160];
	code_where(x->ip, where, sizeof(where));
	pkbox__msg(PKBOX_INFO, "fault in domain %s: %s at %#lx (owner %s, key %d, signal %d, si_code %d)%s",
		   d->name, x->access == PKBOX_FAULT_WRITE ? "write" : x->access == PKBOX_FAULT_EXEC ? "exec" : "read",
		   (unsigned long)x->addr, x->owner[0] ? x->owner : "none", x->pkey, x->signo, x->si_code, where);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}


/* The gate's entry paths by switch (PKBOX_GATE_*): the backend in use says
 * which (read-only memory only: the configuration and the backend's table) */
static struct pkbox_frame *(*const gate_paths[2])(struct pkbox_frame *) = {
	[PKBOX_GATE_WRPKRU] = pkbox__gate_enter_wrpkru,
	[PKBOX_GATE_SYSCALL] = pkbox__gate_enter_syscall,
};

/* A host callback the compartment asked for (f->val[0] the id, [1] the
 * argument): run here with host rights.  false: the call ends instead (a
 * timed call whose time ran out meanwhile); true: resume the compartment. */
static bool run_callback(struct pkbox_frame *f)
{
	struct pkbox_dom *d = f->dom;
	long id = (long)f->val[0];
	void *cbarg = (void *)(uintptr_t)f->val[1];
	pkbox_fn cb = NULL;
	intptr_t v = 0;
	long status = 0;

	pkbox__lock();
	if (id >= 0 && id < PKBOX_MAX_CALLBACKS)
		cb = d->callbacks[id];
	if (id == -2) /* a syscall the policy refused (seal.c) */
		pkbox__refusal_record(d, (long)(uintptr_t)cbarg, 0);
	pkbox__unlock();
	if (cb)
		v = cb(cbarg);
	else if (id == -2)
		v = -EPERM;
	else
		status = -EPERM;
	/* a timed call whose time ran out in the host: not resumed,
	 * stopped as its timer would have stopped it inside */
	if (f->deadline_ns && mono_ns() >= f->deadline_ns) {
		memset(f->val, 0, sizeof(f->val));
		f->val[1] = PKBOX_TIMEOUT_SIG | ((uint64_t)(uint32_t)SI_TIMER << 32);
		f->val[2] = (uint64_t)-1;
		f->reason = EXIT_FAULT;
		return false;
	}
	f->thread->top = f;
	f->e_kind = KIND_RESUME;
	f->e_target = f->val[5];
	f->e_arg = (uint64_t)v;
	f->e_status = (uint64_t)status;
	return true;
}

/* Nothing of the compartment ran (again): a call it was in the middle of
 * (a host callback's return) is lost, as after a fault. */
static int call_not_entered(struct pkbox_frame *f, struct pkbox_dom *d)
{
	int e = f->sw.err ? f->sw.err : ENOMEM;

	if (f->e_kind != KIND_CALL) {
		d->faulted = true;
		pkbox__dom_callable(d, false);
		UNPOISON(f->slot_top - pkbox__gc.stack_size, pkbox__gc.stack_size);
	}
	return pkbox__err(-e, "pkbox_call: cannot hide memory of domain %s from domain %s: %s%s%s",
			  owner_name(f->sw.owner), d->name, pkbox__strerror(e), switch_hint(e),
			  f->e_kind != KIND_CALL ? "; the call it was in is lost" : "");
}

/* What a compartment stopped for a refused syscall did: those that end
 * or signal the process by their libc names, the rest by number */
static const char *refused_what(uint64_t nr, char *num, size_t n)
{
	switch (nr) {
	case SYS_exit_group: return "tried to end the process (exit_group: exit(), _exit())";
	case SYS_exit: return "tried to end its thread (exit)";
	case SYS_tgkill: return "tried to signal its own process (tgkill: abort(), raise())";
	case SYS_tkill: return "tried to signal a thread (tkill)";
	case SYS_kill: return "tried to signal its own process (kill)";
	default:
		pkbox__fmt(num, n, "made syscall %lu, which the policy refuses", (unsigned long)nr);
		return num;
	}
}

/* What a call came to, from its frame; under the lock. */
static int call_outcome(struct pkbox_frame *f, struct pkbox_dom *d)
{
	if (f->reason == EXIT_NOT_ENTERED)
		return call_not_entered(f, d);
	if (f->sw.err) {
		/* left, but some memory could not be given back: reported, and
		 * the domain is not entered again until it is reset */
		int e = f->sw.err;

		if (f->reason == EXIT_FAULT)
			record_fault(d, f);
		d->faulted = true;
		pkbox__dom_callable(d, false);
		UNPOISON(f->slot_top - pkbox__gc.stack_size, pkbox__gc.stack_size);
		return pkbox__err(-e, "pkbox_call: cannot give memory of domain %s back after a call into domain %s: %s%s",
				  owner_name(f->sw.owner), d->name, pkbox__strerror(e), switch_hint(e));
	}
	if (f->reason == EXIT_RETURN) {
		if (f->ret)
			*f->ret = (intptr_t)f->val[0];
		return 0;
	}
	if (f->reason != EXIT_FAULT)
		memset(f->val, 0, sizeof(f->val));
	record_fault(d, f);
	/* the domain's stack is left mid-call: its contents are garbage now */
	UNPOISON(f->slot_top - pkbox__gc.stack_size, pkbox__gc.stack_size);
	const char *quit = d->fault.signo == SIGILL ? pkbox__quit_what(d->fault.ip) : NULL;
	if (quit)
		return pkbox__err(-EFAULT, "pkbox_call: domain %s stopped: %s", d->name, quit);
	if (d->fault.signo == SIGSYS) {
		char num[64];

		return pkbox__err(-EFAULT, "pkbox_call: domain %s stopped: it %s", d->name,
				  refused_what(d->fault.addr, num, sizeof(num)));
	}
	char where[160];
	code_where(d->fault.ip, where, sizeof(where));
	return pkbox__err(-EFAULT, "pkbox_call: domain %s faulted: %s at %#lx (owner %s, key %d)%s", d->name,
			  d->fault.access == PKBOX_FAULT_WRITE ? "write"
			  : d->fault.access == PKBOX_FAULT_EXEC ? "exec"
			  : d->fault.signo == SIGILL ? "forbidden instruction"
							: "read",
			  (unsigned long)d->fault.addr, d->fault.owner[0] ? d->fault.owner : "none", d->fault.pkey, where);
}

/* One trip through the gate with frame f: its record published, the
 * compartment run (or resumed) until it leaves, the record withdrawn.
 * Once a compartment has run, everything comes from the frame the gate's
 * exit path returns (found from the stack slot and the library's state,
 * never from the host's stack) and from registers the gate restored: a
 * value spilled on the host's stack before the call (the frame pointer,
 * where to store the result, the backend) could have been rewritten by the
 * compartment where it may write key-0 memory. */
__attribute__((noinline)) static struct pkbox_frame *call_switch(struct pkbox_frame *f)
{
	pkbox__be->record_publish(f);
	pkbox__inside_set(1);
	f = gate_paths[pkbox__be->gate & 1](f);
	pkbox__inside_set(0);
	/* (the exit path gave the host its memory back) */
	pkbox__be->record_clear(f);
	return f;
}

/* After the first trip: host callbacks run and the compartment resumed
 * until the call ends (memory not given back: no callback runs with the
 * host short of it), then what it came to, under the lock. */
static int call_finish(struct pkbox_frame *f)
{
	while (f->reason == EXIT_CALLBACK && !f->sw.err && run_callback(f))
		f = call_switch(f);

	struct pkbox_thread *t = f->thread;
	struct pkbox_dom *d = f->dom;
	int rc;

	t->depth--;
	t->top = t->depth ? &t->frames[t->depth - 1] : NULL;
	if (f->outer_lock)
		pkbox__be->call_unlock();
	pkbox__lock();
	__atomic_fetch_sub(&d->active, 1, __ATOMIC_SEQ_CST);
	rc = call_outcome(f, d);
	pkbox__unlock();
	return rc;
}

/* What every entry point for host code checks (the library is set up):
 * this is not a compartment calling, and the seal did not fail. */
static int host_allowed(const char *what)
{
	if (pkbox__inside())
		return pkbox__err(-EPERM, "%s: called from inside a compartment", what);
	if (pkbox__gc.seal_failed)
		return pkbox__err(-EPERM, "%s: the seal's policy did not verify; no compartment runs", what);
	return 0;
}

/* Can thread t call into d now?  Under the lock. */
static int call_check(const struct pkbox_thread *t, const struct pkbox_dom *d)
{
	if (d->idx == 0)
		return pkbox__err(-EINVAL, "pkbox_call: the host domain is not a compartment");
	if (d->faulted)
		return pkbox__err(-ENOTRECOVERABLE, "pkbox_call: domain %s faulted earlier; reset or destroy it", d->name);
	if (t->depth >= PKBOX_MAX_DEPTH)
		return pkbox__err(-ELOOP, "pkbox_call: calls nested deeper than %d", PKBOX_MAX_DEPTH);
	for (int i = 0; i < t->depth; i++)
		if (t->frames[i].dom == d)
			return pkbox__err(-EDEADLK, "pkbox_call: this thread is inside domain %s already", d->name);
	return pkbox__stack_ensure((struct pkbox_dom *)d, t->ti);
}

/* Is fn's object bound eagerly?  A compartment's first call through a
 * PLT entry bound lazily would run the dynamic loader inside: with key-0
 * protection it faults writing the GOT, and the seal disables the
 * loader's XRSTOR.  Refused on every backend alike, so a host tried on the
 * fallback does not fail later on pku.  After the seal every object was
 * checked and none can be added.  Under the lock. */
static int bind_check(pkbox_fn fn)
{
	uintptr_t a = (uintptr_t)fn, lo, hi;
	char name[256];

	if (pkbox__st->sealed || (a >= pkbox__st->eager_lo && a < pkbox__st->eager_hi))
		return 0;
	switch (pkbox__lazy_at(a, name, &lo, &hi)) {
	case 1:
		return pkbox__err(-ENOTSUP,
				  "pkbox_call: %s is bound lazily: the dynamic loader cannot bind it inside a "
				  "compartment; %s",
				  name, pkbox__lazy_hint(name));
	case 0:
		pkbox__st->eager_lo = lo;
		pkbox__st->eager_hi = hi;
		return 0;
	default:
		return 0;
	}
}

/* Thread t's next frame, for a call of fn(arg) in d; under the lock. */
static struct pkbox_frame *frame_setup(struct pkbox_thread *t, struct pkbox_dom *d, pkbox_fn fn, void *arg,
				       intptr_t *ret, unsigned int timeout_ms)
{
	struct pkbox_frame *f = &t->frames[t->depth];

	memset(f, 0, sizeof(*f));
	f->dom = d;
	f->slot_top = pkbox__stack_top(d->idx, t->ti);
	f->pkru = d->pkru;
	f->e_kind = KIND_CALL;
	f->e_target = (uint64_t)(uintptr_t)fn;
	f->e_arg = (uint64_t)(uintptr_t)arg;
	f->fsbase = read_fsbase();
	f->dom_fs = pkbox__gc.key0_ro ? pkbox__tls_tp(d->idx, t->ti) : 0;
	f->prev_depth = t->depth;
	f->thread = t;
	f->exit_top = (uint64_t)(uintptr_t)(t->exit_stack + PKBOX_EXIT_STACK);
	f->rec = pkbox__record_of(d->idx, t->ti);
	f->ret = ret;
	f->outer_lock = t->depth == 0;
	f->deadline_ns = timeout_ms ? mono_ns() + (uint64_t)timeout_ms * 1000000ULL : 0;
	return f;
}

/* Every call the path below does not take: under the lock, with each
 * refusal explained. */
__attribute__((noinline)) static int call_locked(struct pkbox_thread *t, struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret,
		       unsigned int timeout_ms)
{
	struct pkbox_frame *f;
	struct pkbox_dom *d;
	int rc = host_allowed("pkbox_call");

	if (rc)
		return rc;
	if (!fn)
		return pkbox__err(-EINVAL, "pkbox_call: fn is NULL");
	if (!t) {
		rc = pkbox__thread_enter(&t);
		if (rc)
			return rc;
	}
	pkbox__lock();
	d = pkbox__dom_get(h, &rc);
	if (d)
		rc = call_check(t, d);
	if (d && !rc)
		rc = bind_check(fn);
	if (!d || rc) {
		pkbox__unlock();
		return rc;
	}
	f = frame_setup(t, d, fn, arg, ret, timeout_ms);
	__atomic_fetch_add(&d->active, 1, __ATOMIC_SEQ_CST);
	pkbox__unlock();

	if (f->outer_lock)
		pkbox__be->call_lock();
	t->depth++;
	t->top = f;
	return call_finish(call_switch(f));
}

/* ------------------------------------------------- the path without the lock
 *
 * An outermost call, untimed, into a domain this thread has called before
 * (its stack mapped, its TLS copy made), with a backend whose calls need
 * no lock (pku): what the locked path checks, from words kept for it.
 * Every one of these reads lies between two reads of the lock's sequence
 * word (lock.c), which agree and are even only if no thread held the lock
 * meanwhile; the domain's active count is raised before the second read, so
 * whoever takes the lock later sees the call (destroy, reset, freeing a
 * granted region and reusing a protection key refuse or wait, as they do
 * for a call under the lock).  Anything else takes the lock. */

/* Thread t's frame for a call of fn(arg) in d (t->depth was 0), its gate
 * record written (live): only what changes from call to call.  The
 * record's slot top and TLS copy were written with the stack
 * (pkbox__stack_ensure()); the PKRU is the domain's, kept up to date by
 * grants.c; the entry path reads all of it from the record. */
static struct pkbox_frame *frame_fast(struct pkbox_thread *t, struct pkbox_dom *d, pkbox_fn fn, void *arg,
				      intptr_t *ret)
{
	struct pkbox_frame *f = &t->frames[0];
	struct pkbox_record *rec = pkbox__record_of(d->idx, t->ti);

	f->dom = d;
	f->thread = t;
	f->ret = ret;
	f->rec = rec;
	f->fsbase = read_fsbase(); /* the exit path restores it */
	f->outer_lock = false;     /* (no call lock: lockfree_calls) */
	f->deadline_ns = 0;
	f->sw.err = 0;
	rec->pkru = __atomic_load_n(&d->pkru, __ATOMIC_RELAXED);
	rec->kind = KIND_CALL;
	rec->target = (uint64_t)(uintptr_t)fn;
	rec->arg = (uint64_t)(uintptr_t)arg;
	rec->status = 0;
	pkbox__record_arm(rec);
	__atomic_store_n(&rec->magic, PKBOX_RECORD_MAGIC, __ATOMIC_RELEASE);
	t->depth = 1;
	t->top = f;
	return f;
}

/* What the general path (host callbacks, faults) reads of a frame that the
 * path without the lock left out, from its record. */
static void frame_complete(struct pkbox_frame *f)
{
	f->slot_top = f->rec->slot_top;
	f->pkru = f->rec->pkru;
	f->dom_fs = f->rec->dom_fs;
	f->e_kind = KIND_CALL;
}

/* The frame of a call entered without the lock, or NULL: take the lock. */
static struct pkbox_frame *call_fast_enter(struct pkbox_thread *t, const struct pkbox_domain *h, pkbox_fn fn,
					   void *arg, intptr_t *ret)
{
	struct pkbox_state *st = pkbox__st;
	uint64_t seq = __atomic_load_n(&st->lock_seq, __ATOMIC_ACQUIRE);
	/* handles are generation << 16 | slot + 1 (domain.c) */
	uint32_t idx = (uint32_t)(uint16_t)(uintptr_t)h - 1u;

	if ((seq & 1) || t->depth || idx >= PKBOX_MAX_DOMAINS)
		return NULL;
	/* (before the seal: fn in the object last found bound eagerly, or the
	 * locked path looks, bind_check()) */
	if (!st->sealed && ((uintptr_t)fn < st->eager_lo || (uintptr_t)fn >= st->eager_hi))
		return NULL;
	struct pkbox_dom *d = &st->doms[idx];
	/* the handle names this generation, which is live and not faulted
	 * (and not the host's domain); this thread's stack there is ready */
	if (__atomic_load_n(&d->call_handle, __ATOMIC_RELAXED) != (uint64_t)(uintptr_t)h ||
	    !((__atomic_load_n(&t->ready, __ATOMIC_RELAXED) >> idx) & 1))
		return NULL;
	__atomic_fetch_add(&d->active, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&st->lock_seq, __ATOMIC_SEQ_CST) != seq) {
		__atomic_fetch_sub(&d->active, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	return frame_fast(t, d, fn, arg, ret);
}

/* The call (its record live); a return ends here, anything else (a fault,
 * a host callback) goes on as on the locked path.  The record is the
 * backend's plain one (lockfree_calls). */
__attribute__((noinline)) static int call_fast_run(struct pkbox_frame *f)
{
	pkbox__inside_set(1);
	f = gate_paths[pkbox__be->gate & 1](f);
	pkbox__inside_set(0);
	pkbox__record_withdraw(f);
	if (f->reason != EXIT_RETURN || f->sw.err) {
		frame_complete(f);
		return call_finish(f);
	}
	/* (the outermost frame: the thread is out of every domain) */
	f->thread->depth = 0;
	f->thread->top = NULL;
	__atomic_fetch_sub(&f->dom->active, 1, __ATOMIC_SEQ_CST);
	if (f->ret)
		*f->ret = (intptr_t)f->val[0];
	return 0;
}

int pkbox__call(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms)
{
	struct pkbox_thread *t = pkbox__thread_mine();

	/* (inside a compartment the library's state is out of reach: asked first) */
	if (!pkbox__inside() && t && fn && !timeout_ms && pkbox__be->lockfree_calls && !pkbox__gc.seal_failed) {
		struct pkbox_frame *f = call_fast_enter(t, h, fn, arg, ret);

		if (f)
			return call_fast_run(f);
	}
	return call_locked(t, h, fn, arg, ret, timeout_ms);
}

/* ------------------------------------------------------- timed calls */

static const uint64_t timeout_set = 1ULL << (PKBOX_TIMEOUT_SIG - 1);

/* A per-thread timer that repeats: a signal that comes while the
 * compartment runs a host callback is ignored, the next one is not.  Its
 * signal masked as the backend wants it (open inside only, or all along). */
static int timer_start(unsigned int timeout_ms, int *timer)
{
	struct sigevent sev;
	int rc;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = PKBOX_TIMEOUT_SIG;
	sev._sigev_un._tid = pkbox__gettid();
	if (pkbox__sys(SYS_timer_create, 3, CLOCK_MONOTONIC, (long)(uintptr_t)&sev, (long)(uintptr_t)timer, 0, 0))
		return pkbox__err(-errno, "pkbox_call_timed: timer_create failed: %s", pkbox__strerror(errno));
	struct itimerspec its = {
		.it_value = { .tv_sec = timeout_ms / 1000, .tv_nsec = (long)(timeout_ms % 1000) * 1000000L },
		.it_interval = { .tv_sec = 0, .tv_nsec = 10 * 1000000L },
	};
	pkbox__sys(SYS_rt_sigprocmask, 4, pkbox__be->timer_how, (long)(uintptr_t)&timeout_set, 0, 8, 0);
	if (pkbox__sys(SYS_timer_settime, 4, *timer, 0, (long)(uintptr_t)&its, 0, 0)) {
		rc = pkbox__err(-errno, "pkbox_call_timed: timer_settime failed: %s", pkbox__strerror(errno));
		pkbox__sys(SYS_timer_delete, 1, *timer, 0, 0, 0, 0);
		return rc;
	}
	return 0;
}

/* The timer gone, its signal blocked (with the token: PKBOX_SEAL_NO_EXIT
 * refuses blocking it to compartments) and none left pending, to end the
 * next timed call before its time. */
static void timer_stop(int timer)
{
	struct timespec zero = { 0, 0 };

	pkbox__sys(SYS_timer_delete, 1, timer, 0, 0, 0, 0);
	pkbox__sys(SYS_rt_sigprocmask, 4, SIG_BLOCK, (long)(uintptr_t)&timeout_set, 0, 8, 0);
	while (pkbox__sys(SYS_rt_sigtimedwait, 4, (long)(uintptr_t)&timeout_set, 0, (long)(uintptr_t)&zero, 8, 0) ==
	       PKBOX_TIMEOUT_SIG)
		;
}

int pkbox__call_timed(struct pkbox_domain *h, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms)
{
	int timer = -1; /* the kernel's timer id is an int */
	int rc = host_allowed("pkbox_call_timed");

	if (rc)
		return rc;
	if (!timeout_ms)
		return pkbox__err(-EINVAL, "pkbox_call_timed: timeout_ms is 0");
	struct pkbox_thread *t;
	rc = pkbox__thread_enter(&t);
	if (rc)
		return rc;
	if (t->depth)
		return pkbox__err(-EINVAL, "pkbox_call_timed: only the outermost call can be timed (this thread is in a "
					   "host callback)");
	rc = timer_start(timeout_ms, &timer);
	if (rc)
		return rc;
	rc = pkbox__call(h, fn, arg, ret, timeout_ms);
	timer_stop(timer);
	if (rc == -EFAULT) {
		pkbox__lock();
		struct pkbox_dom *d = pkbox__dom_get(h, &rc);
		bool out_of_time = d && d->fault.signo == PKBOX_TIMEOUT_SIG;
		const char *name = d ? d->name : "?";

		rc = out_of_time ? pkbox__err(-ETIMEDOUT, "pkbox_call_timed: domain %s ran out of time (%u ms)", name,
					      timeout_ms)
				 : -EFAULT;
		pkbox__unlock();
	}
	return rc;
}

/* ------------------------------------------------------- pkbox_host_run */

/* At the top of a pkbox_host_run() stack: host-domain memory, which no
 * compartment can read or write on any backend. */
struct pkbox_hostrun {
	pkbox_fn fn;
	void *arg;
	intptr_t *ret;
	void *base;                 /* the allocation */
	struct pkbox_hostrun *prev; /* the thread's enclosing one */
	const void *asan_bottom;    /* the caller's stack, for ASan */
	size_t asan_size;
};

static void hostrun_body(void *a)
{
	struct pkbox_hostrun *h = a;

#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_finish_switch_fiber(NULL, &h->asan_bottom, &h->asan_size);
#endif
	intptr_t v = h->fn(h->arg);
	if (h->ret)
		*h->ret = v;
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_start_switch_fiber(NULL, h->asan_bottom, h->asan_size);
#endif
}

/* the stack's size, checked and rounded; 0 or -EINVAL */
static int hostrun_size(size_t *stack_size)
{
	if (!*stack_size)
		*stack_size = 256UL << 10;
	if (*stack_size < 16 * PAGE || *stack_size > (64UL << 20))
		return pkbox__err(-EINVAL, "pkbox_host_run: stack_size must be 0 or between 64 KiB and 64 MiB");
	*stack_size = (*stack_size + PAGE - 1) & ~(PAGE - 1);
	return 0;
}

/* memory of the host's domain, or NULL (the message pending) */
static char *host_alloc(size_t size)
{
	pkbox__lock();
	char *p = pkbox__dom_alloc(&pkbox__st->doms[0], size);
	pkbox__unlock();
	if (!p)
		pkbox__err(-ENOMEM, "pkbox_host_run: no stack of %zu bytes in the host's domain: %s", size,
			   pkbox__pending());
	return p;
}

int pkbox__host_run(pkbox_fn fn, void *arg, size_t stack_size, intptr_t *ret)
{
	int rc = host_allowed("pkbox_host_run");

	if (!rc && !fn)
		rc = pkbox__err(-EINVAL, "pkbox_host_run: fn is NULL");
	if (!rc)
		rc = hostrun_size(&stack_size);
	if (rc)
		return rc;
	struct pkbox_thread *t;
	rc = pkbox__thread_enter(&t);
	if (rc)
		return rc;
	char *base = host_alloc(stack_size);
	if (!base)
		return -ENOMEM;
	struct pkbox_hostrun *h = (struct pkbox_hostrun *)(base + stack_size - 128);

	*h = (struct pkbox_hostrun){ .fn = fn, .arg = arg, .ret = ret, .base = base, .prev = t->hr_top };
	t->hr_top = h;
#if defined(__SANITIZE_ADDRESS__)
	void *fake = NULL;
	__sanitizer_start_switch_fiber(&fake, base, stack_size - 128);
#endif
	pkbox__run_on(h, hostrun_body, h);
#if defined(__SANITIZE_ADDRESS__)
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	/* Back on the caller's stack: what is left of this call is found from
	 * the thread directory (read-only) and the library's state, not from
	 * values spilled on this stack before (a compartment may have written
	 * it where key 0 is writable inside) */
	int ti = pkbox__self_ti();
	if (ti < 0)
		return pkbox__err(-ESRCH, "pkbox_host_run: this thread is not in the thread directory");
	t = pkbox__thread_at(ti);
	h = t->hr_top;
	t->hr_top = h->prev;
	pkbox__lock();
	pkbox__dom_free_ptr(&pkbox__st->doms[0], h->base);
	pkbox__unlock();
	return 0;
}

/* ------------------------------------------------------- host callbacks */

int pkbox__callback_register(struct pkbox_domain *h, pkbox_fn fn)
{
	int rc = 0;

	if (!fn)
		return pkbox__err(-EINVAL, "pkbox_callback_register: fn is NULL");
	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, &rc);
	if (d) {
		rc = pkbox__err(-ENOSPC, "pkbox_callback_register: domain %s has %d callbacks already", d->name,
				PKBOX_MAX_CALLBACKS);
		for (int i = 0; i < PKBOX_MAX_CALLBACKS; i++) {
			if (!d->callbacks[i]) {
				d->callbacks[i] = fn;
				rc = i;
				break;
			}
		}
	}
	pkbox__unlock();
	return rc;
}

int pkbox__callback_unregister(struct pkbox_domain *h, int id)
{
	int rc = 0;

	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, &rc);
	if (d) {
		if (id < 0 || id >= PKBOX_MAX_CALLBACKS || !d->callbacks[id])
			rc = pkbox__err(-ENOENT, "pkbox_callback_unregister: no callback %d in domain %s", id, d->name);
		else
			d->callbacks[id] = NULL;
	}
	pkbox__unlock();
	return rc;
}

/* ------------------------------------------------------- faults */

int pkbox__last_fault(const struct pkbox_domain *h, struct pkbox_fault *out)
{
	int rc = 0;

	/* checked before anything else: the first version ends before owner */
	rc = pkbox__opts_out(out, NULL, 0, offsetof(struct pkbox_fault, owner), "pkbox_last_fault");
	if (rc)
		return rc;
	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, &rc);
	if (d && !d->has_fault)
		rc = pkbox__err(-ENODATA, "pkbox_last_fault: domain %s has not faulted", d->name);
	else if (d)
		rc = pkbox__opts_out(out, &d->fault, sizeof(d->fault), offsetof(struct pkbox_fault, owner),
				     "pkbox_last_fault");
	pkbox__unlock();
	return rc;
}

unsigned long pkbox__fault_count(void)
{
	unsigned long n;

	pkbox__lock();
	n = pkbox__st->fault_count + atomic_load(&pkbox__rogue_faults);
	pkbox__unlock();
	return n;
}
