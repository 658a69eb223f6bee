/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* init.c - set-up: backend choice, the address-space pool, keys, threads,
 * and the library's messages. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <dlfcn.h>
#include <unistd.h>

#include "cpu.h"
#include "internal.h"

_Static_assert(PKBOX_GC_ADDR == PKBOX_POOL_BASE + PKBOX_META_SIZE + 8 * PAGE, "gate configuration address");
_Static_assert((PKBOX_POOL_BASE & (PKBOX_POOL_SIZE - 1)) == 0, "pool alignment");
_Static_assert(sizeof(struct pkbox_gatecfg) <= PAGE, "gate configuration size");


static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static int init_rc = 1; /* 1: not yet */
static pthread_key_t thread_key;

PKBOX_EXPORT pkbox_print_fn pkbox_set_print(pkbox_print_fn fn)
{
	pkbox_print_fn old;

	if (pkbox__ensure_init())
		return NULL;
	pkbox__lock();
	old = pkbox__print_fn();
	pkbox__st->print_fn = fn;
	pkbox__st->print_set = true;
	pkbox__unlock();
	return old;
}

PKBOX_EXPORT const char *pkbox_backend_name(enum pkbox_backend b)
{
	switch (b) {
	case PKBOX_BACKEND_AUTO: return "auto";
	case PKBOX_BACKEND_PKU: return "pku";
	case PKBOX_BACKEND_MPROTECT: return "mprotect";
	}
	return "unknown";
}

/* ---------------------------------------------------------------- pool */

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = PAGE;

	while (p < v)
		p <<= 1;
	return p;
}

static int shift_of(uint64_t p)
{
	return __builtin_ctzll(p);
}

static int choose_backend(const struct pkbox_config *cfg, enum pkbox_backend *out)
{
	enum pkbox_backend want = cfg ? cfg->backend : PKBOX_BACKEND_AUTO;
	const char *env = getenv("PKBOX_BACKEND");
	const struct pkbox_cpu *c = pkbox__cpu();
	int kerr = 0;

	if (want == PKBOX_BACKEND_AUTO && env && !(cfg && (cfg->flags & PKBOX_F_IGNORE_ENV))) {
		if (!strcmp(env, "pku"))
			want = PKBOX_BACKEND_PKU;
		else if (!strcmp(env, "mprotect"))
			want = PKBOX_BACKEND_MPROTECT;
		else if (strcmp(env, "auto") && *env)
			return pkbox__err(-EINVAL, "PKBOX_BACKEND=%s: expected auto, pku or mprotect", env);
	}
	if (want != PKBOX_BACKEND_AUTO && want != PKBOX_BACKEND_PKU && want != PKBOX_BACKEND_MPROTECT)
		return pkbox__err(-EINVAL, "unknown backend %d", (int)want);
	if (want == PKBOX_BACKEND_PKU) {
		if (!c->pku)
			return pkbox__err(-ENOTSUP, "pku backend requested, but the CPU has no PKU (CPUID.(7,0):ECX[3] = 0)");
		if (!c->ospke)
			return pkbox__err(-ENOTSUP, "pku backend requested, but the kernel has not enabled PKU (CPUID.(7,0):ECX[4] OSPKE = 0)");
		if (!pkbox__kernel_pkeys(&kerr))
			return pkbox__err(-ENOTSUP, "pku backend requested, but pkey_alloc() fails: %s", strerror(kerr));
	}
	if (want == PKBOX_BACKEND_AUTO)
		want = pkbox__detect_backend();
	*out = want;
	return 0;
}

/* ---------------------------------------------------------------- key 0 */

/* Why compartments can write key-0 memory in this process ("" when they
 * cannot).  A plain string: read by pkbox_key0_protected(). */
static const char *key0_why = "the library is not set up";

static bool kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

/* Key-0 protection: inside a compartment, key 0 (the host's stacks, heap,
 * globals, TLS, the C library's state, ...) is write-disabled.  It needs:
 *  - the pku backend (the mprotect backend would have to make every
 *    writable mapping of the process read-only at each switch);
 *  - a kernel that opens every key while it writes a signal frame (6.12 and
 *    later): before, the frame is written with the interrupted PKRU, so a
 *    compartment's fault could not be delivered onto a key-0 signal stack;
 *  - FSGSBASE, to give each compartment its own copy of the thread's TLS
 *    (errno and the C library's per-thread state), and glibc's description
 *    of its static TLS to copy it. */
static void key0_decide(const struct pkbox_config *cfg, struct pkbox_gatecfg *gc)
{
	void (*info)(size_t *, size_t *) = NULL;
	const uint32_t *tcbsz = NULL;
	const char *env = cfg && (cfg->flags & PKBOX_F_IGNORE_ENV) ? NULL : getenv("PKBOX_KEY0_WRITABLE");
	size_t size = 0, align = 0;

	gc->key0_ro = 0;
	if (gc->backend != BACKEND_PKU) {
		key0_why = "the mprotect backend cannot write-protect key-0 memory at each switch";
		return;
	}
	if (cfg && (cfg->flags & PKBOX_F_KEY0_WRITABLE)) {
		key0_why = "the host asked for it (PKBOX_F_KEY0_WRITABLE)";
		return;
	}
	if (env && *env && strcmp(env, "0")) {
		key0_why = "the host asked for it (PKBOX_KEY0_WRITABLE in the environment)";
		return;
	}
	if (!kernel_at_least(6, 12)) {
		key0_why = "the kernel (before 6.12) writes signal frames with the interrupted PKRU, so "
			   "faults inside compartments need a signal stack they can write";
		return;
	}
	if (!gc->fsgsbase) {
		key0_why = "the CPU or kernel lacks FSGSBASE (needed for per-compartment TLS)";
		return;
	}
	*(void **)&info = dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
	tcbsz = dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread");
	if (info)
		info(&size, &align);
	if (!info || !tcbsz || !*tcbsz || size <= *tcbsz || !align || (align & (align - 1))) {
		key0_why = "the C library does not describe its static TLS (glibc needed)";
		return;
	}
	if (align < 64)
		align = 64;
	uint64_t span = ((size - *tcbsz + align - 1) & ~(align - 1)) + *tcbsz + 16 + 4096;
	span = (span + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (span > gc->stack_size / 4) {
		key0_why = "the static TLS is too large for the domain stacks (raise stack_size)";
		return;
	}
	gc->tls_below = size - *tcbsz;
	gc->tls_tcb = *tcbsz;
	gc->tls_align = align;
	gc->tls_span = span;
	gc->key0_ro = 1;
	key0_why = "";
}

PKBOX_EXPORT int pkbox_key0_protected(const char **why)
{
	int rc = pkbox__ensure_init();

	if (why)
		*why = rc ? "the library is not set up" : key0_why;
	return !rc && pkbox__gc.key0_ro;
}

static int do_init(const struct pkbox_config *cfg)
{
	struct pkbox_gatecfg *gc = &pkbox__gc;
	enum pkbox_backend b = PKBOX_BACKEND_AUTO;
	int rc;
	size_t stack_size = cfg && cfg->stack_size ? cfg->stack_size : (256UL << 10);
	size_t quota = cfg && cfg->domain_quota ? cfg->domain_quota : (256UL << 20);

	if (cfg && cfg->sz < sizeof(struct pkbox_config) - 2 * sizeof(size_t))
		return pkbox__err(-EINVAL, "pkbox_config.sz is too small (%zu)", cfg->sz);
	if (stack_size < 16 * PAGE || stack_size > (64UL << 20))
		return pkbox__err(-EINVAL, "stack_size must be between 64 KiB and 64 MiB");
	if (quota > PKBOX_SLOT_SIZE / 2)
		return pkbox__err(-EINVAL, "domain_quota is larger than a domain slot (%lu MiB)",
				  PKBOX_SLOT_SIZE / 2 >> 20);
	rc = choose_backend(cfg, &b);
	if (rc)
		return rc;

	stack_size = (stack_size + PAGE - 1) & ~(PAGE - 1);
	uint64_t stride = pow2_at_least(stack_size + 16 * PAGE);
	uint64_t rows = PKBOX_MAX_DOMAINS + 1; /* the last row: fault slots, never mapped */
	uint64_t records_len = (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE;
	/* meta first: the policy lets exactly mprotect(pool start, meta_len,
	 * RW) through from the gate's exit (see seal.c) */
	uint64_t off_meta = 0;
	uint64_t off_gp = PKBOX_GC_ADDR - PKBOX_POOL_BASE + 2 * PAGE;
	uint64_t off_tdir = off_gp + 2 * PAGE;
	uint64_t off_records = off_tdir + 16 * PAGE;
	uint64_t off_slots = (off_records + records_len + 16 * PAGE + PAGE - 1) & ~(PAGE - 1);
	uint64_t off_stacks = off_slots + (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_SLOT_SIZE;
	uint64_t stacks_span = rows * PKBOX_MAX_THREADS * stride;
	uint64_t total = off_stacks + stride + stacks_span;

	if (total > PKBOX_POOL_SIZE)
		return pkbox__err(-EINVAL, "the pool does not fit %lu GiB (stack_size too large)",
				  PKBOX_POOL_SIZE >> 30);
	/* The pool: one naturally aligned block at a fixed address, all of it
	 * reserved (the syscall policy names it with a single mask, the gate
	 * reaches its configuration through a constant). */
	char *pool = mmap((void *)PKBOX_POOL_BASE, PKBOX_POOL_SIZE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (pool == MAP_FAILED || pool != (char *)PKBOX_POOL_BASE) {
		int e = pool == MAP_FAILED ? errno : EEXIST;

		if (pool != MAP_FAILED)
			munmap(pool, PKBOX_POOL_SIZE);
		return pkbox__err(-ENOMEM, "cannot reserve %lu GiB of address space at %#lx: %s",
				  (unsigned long)(PKBOX_POOL_SIZE >> 30), (unsigned long)PKBOX_POOL_BASE, strerror(e));
	}
	/* A child process gets none of it (MADV_DONTFORK): no domain's memory,
	 * none of the library's state (attack A18).  Every mapping later made
	 * of the reservation keeps the mark */
	if (madvise(pool, PKBOX_POOL_SIZE, MADV_DONTFORK)) {
		int e = errno;

		munmap(pool, PKBOX_POOL_SIZE);
		return pkbox__err(-e, "cannot keep the pool from child processes: %s", strerror(e));
	}
	if (mprotect((char *)PKBOX_GC_ADDR, PAGE, PROT_READ | PROT_WRITE)) {
		int e = errno;

		munmap(pool, PKBOX_POOL_SIZE);
		return pkbox__err(-e, "cannot map the gate configuration: %s", strerror(e));
	}
	total = PKBOX_POOL_SIZE;
	uint64_t lo = (uint64_t)pool;
	uint64_t stacks_lo = (lo + off_stacks + stride - 1) & ~(stride - 1);

	gc->stacks_lo = stacks_lo;
	gc->stacks_span = stacks_span;
	gc->stacks_dom_span = (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_MAX_THREADS * stride;
	gc->stride_shift = shift_of(stride);
	gc->stride = stride;
	gc->stack_size = stack_size;
	gc->meta_lo = lo + off_meta;
	gc->meta_len = PKBOX_META_SIZE;
	gc->records_lo = lo + off_records;
	gc->slots_lo = lo + off_slots;
	gc->pool_lo = lo;
	gc->pool_hi = lo + total;
	gc->gatepage = lo + off_gp;
	gc->tdir = lo + off_tdir;
	gc->backend = b == PKBOX_BACKEND_PKU ? BACKEND_PKU : BACKEND_MPROTECT;
	gc->fsgsbase = pkbox__cpu()->fsgsbase;
	gc->xsave_pkru_offset = pkbox__cpu()->xsave_pkru_offset;
	gc->key_h = gc->key_r = -1;
	gc->ops = (uint64_t)(uintptr_t)(b == PKBOX_BACKEND_PKU ? &pkbox__be_pku : &pkbox__be_mprotect);

	if (b == PKBOX_BACKEND_PKU) {
		gc->key_h = (int)syscall(SYS_pkey_alloc, 0UL, 0UL);
		gc->key_r = (int)syscall(SYS_pkey_alloc, 0UL, 0UL);
		if (gc->key_h < 0 || gc->key_r < 0) {
			rc = pkbox__err(-ENOSPC, "cannot allocate the library's two protection keys: %s",
					strerror(errno));
			goto fail;
		}
	}
	key0_decide(cfg, gc);
	/* library state, host-only */
	if (pkbox__be->tag(gc->meta_lo, gc->meta_len, PROT_READ | PROT_WRITE, gc->key_h) ||
	    pkbox__be->tag(gc->records_lo, records_len, PROT_READ | PROT_WRITE, gc->key_r) ||
	    mprotect((void *)gc->gatepage, PAGE, PROT_READ | PROT_WRITE) ||
	    mprotect((void *)gc->tdir, PAGE, PROT_READ)) {
		rc = pkbox__err(-errno, "cannot set up the library's memory: %s", strerror(errno));
		goto fail;
	}
	gc->st = gc->meta_lo;
	pkbox__st->mp_cur = -1;
	uint64_t tbase = (gc->meta_lo + sizeof(struct pkbox_state) + 63) & ~63UL;
	gc->threads_base = tbase;
	gc->thread_stride = (sizeof(struct pkbox_thread) + 63) & ~63UL;
	if (tbase + PKBOX_MAX_THREADS * gc->thread_stride > gc->meta_lo + gc->meta_len) {
		rc = pkbox__err(-ENOMEM, "library state does not fit its area");
		goto fail;
	}
	/* only what is used is switched (the mprotect backend's cost grows with it) */
	gc->meta_len = (tbase + PKBOX_MAX_THREADS * gc->thread_stride - gc->meta_lo + PAGE - 1) & ~(PAGE - 1);
	/* mprotect backend: the rest back to the reservation, so that the part
	 * gate.S hides and shows is one whole mapping (no split at a switch:
	 * see mp_tag() in backend.c) */
	if (b == PKBOX_BACKEND_MPROTECT && gc->meta_len < PKBOX_META_SIZE) {
		uintptr_t rest = gc->meta_lo + gc->meta_len;

		if (mprotect((void *)rest, PKBOX_META_SIZE - gc->meta_len, PROT_NONE) ||
		    madvise((void *)rest, PKBOX_META_SIZE - gc->meta_len, MADV_DODUMP)) {
			rc = pkbox__err(-errno, "cannot set up the library's memory: %s", strerror(errno));
			goto fail;
		}
	}
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	/* pku: in host-keyed memory; mprotect: in the gate page (see internal.h) */
	pthread_mutex_t *mu = b == PKBOX_BACKEND_PKU ? &pkbox__st->mu : &((struct pkbox_gatepage *)gc->gatepage)->mu;
	pthread_mutex_init(mu, &ma);
	gc->mu = (uint64_t)(uintptr_t)mu;
	pthread_mutexattr_destroy(&ma);
	pkbox__st->default_quota = quota;

	/* slot 0: the host's private domain */
	struct pkbox_dom *h = &pkbox__st->doms[0];
	h->used = true;
	h->gen = 1;
	h->idx = 0;
	h->pkey = gc->key_h;
	strcpy(h->name, "host");
	h->quota = quota;
	h->next = gc->slots_lo + PAGE;

	gc->jit_rw = lo + PKBOX_POOL_SIZE - 4 * PKBOX_JIT_SIZE;
	gc->jit_rx = lo + PKBOX_POOL_SIZE - 2 * PKBOX_JIT_SIZE;
	if (gc->jit_rw < gc->stacks_lo + gc->stacks_span + stride) {
		rc = pkbox__err(-EINVAL, "the pool has no room for committed code");
		goto fail;
	}
	rc = pkbox__jit_setup();
	if (rc)
		goto fail;
	gc->initialized = 1;
	if (mprotect(gc, PAGE, PROT_READ)) {
		rc = pkbox__err(-errno, "cannot make the gate configuration read-only: %s", strerror(errno));
		goto fail;
	}
	pkbox__ready_set();
	rc = pkbox__fault_install();
	if (rc)
		return rc; /* the pool stays: the gate page is read-only now */
	pkbox__msg(PKBOX_INFO, "backend %s, pool %#lx-%#lx, key 0 %s%s", pkbox__be->name,
		   (unsigned long)gc->pool_lo, (unsigned long)gc->pool_hi,
		   gc->key0_ro ? "read-only in compartments" : "writable in compartments: ", key0_why);
	return 0;
fail:
	if (gc->key_h >= 0)
		syscall(SYS_pkey_free, gc->key_h);
	if (gc->key_r >= 0)
		syscall(SYS_pkey_free, gc->key_r);
	munmap(pool, total);
	return rc;
}

static void thread_gone(void *p);

static int init_locked(const struct pkbox_config *cfg)
{
	if (init_rc != 1)
		return init_rc;
	if (pthread_key_create(&thread_key, thread_gone))
		return init_rc = pkbox__err(-EAGAIN, "pthread_key_create failed");
	init_rc = do_init(cfg);
	return init_rc;
}

PKBOX_EXPORT int pkbox_init(const struct pkbox_config *cfg)
{
	int rc;

	pthread_mutex_lock(&init_mu);
	if (init_rc != 1) {
		rc = init_rc ? init_rc : pkbox__err(-EALREADY, "pkbox_init: the library is already set up");
	} else {
		rc = init_locked(cfg);
	}
	pthread_mutex_unlock(&init_mu);
	if (!rc && cfg && (cfg->flags & PKBOX_F_SEAL))
		rc = pkbox_seal(NULL);
	return rc;
}

int pkbox__ensure_init(void)
{
	int rc;

	if (pkbox__ready())
		return 0;
	pthread_mutex_lock(&init_mu);
	rc = init_locked(NULL);
	pthread_mutex_unlock(&init_mu);
	if (rc)
		errno = -rc;
	return rc;
}

enum pkbox_backend pkbox__backend_in_use(void)
{
	if (!pkbox__ready())
		return PKBOX_BACKEND_AUTO;
	return pkbox__gc.backend == BACKEND_PKU ? PKBOX_BACKEND_PKU : PKBOX_BACKEND_MPROTECT;
}

PKBOX_EXPORT enum pkbox_backend pkbox_backend(void)
{
	if (pkbox__ensure_init())
		return PKBOX_BACKEND_AUTO;
	return pkbox__backend_in_use();
}

void pkbox__lock(void)
{
	pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)pkbox__gc.mu);
}

void pkbox__unlock(void)
{
	pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)pkbox__gc.mu);
}

/* ---------------------------------------------------------------- threads */

static __thread PKBOX_TLS struct pkbox_thread *tls_self;

/* Writes into the directory page (thread ids, compartment heaps), which
 * everyone may read and only the library writes, under the library lock. */
void pkbox__dir_store(void *where, const void *val, size_t n)
{
	pkbox__mprotect(pkbox__tdir, PAGE, PROT_READ | PROT_WRITE);
	memcpy(where, val, n);
	pkbox__mprotect(pkbox__tdir, PAGE, PROT_READ);
}

static void tdir_set(int ti, pid_t tid)
{
	pkbox__dir_store(&pkbox__tdir[ti], &tid, sizeof(tid));
}

struct pkbox_thread *pkbox__self(void)
{
	struct pkbox_thread *t = tls_self;
	pid_t tid;

	if (t)
		return t;
	tid = pkbox__gettid();
	pkbox__lock();
	for (int i = 0; i < PKBOX_MAX_THREADS; i++) {
		struct pkbox_thread *c = pkbox__thread_at(i);

		if (c->used)
			continue;
		memset(c, 0, sizeof(*c));
		c->used = true;
		c->ti = i;
		for (int k = 0; k < PKBOX_MAX_DOMAINS; k++)
			pkbox__st->doms[k].tls_copied[i / 64] &= ~(1ULL << (i % 64));
		c->tid = tid;
		tdir_set(i, tid);
		t = c;
		break;
	}
	pkbox__unlock();
	if (!t) {
		pkbox__err(-EAGAIN, "more than %d threads use the library at once", PKBOX_MAX_THREADS);
		return NULL;
	}
	if (pkbox__thread_signals(t) || pkbox__thread_rseq_off()) {
		pkbox__lock();
		tdir_set(t->ti, 0);
		t->used = false;
		pkbox__unlock();
		return NULL;
	}
	pthread_setspecific(thread_key, t);
	tls_self = t;
	pkbox__host_fs_set(t->ti);
	return t;
}

static void thread_gone(void *p)
{
	struct pkbox_thread *t = p;

	if (t->altstack) {
		stack_t ss = { .ss_flags = SS_DISABLE };
		stack_t cur;

		if (!sigaltstack(NULL, &cur) && cur.ss_sp == t->altstack)
			pkbox__sigaltstack(&ss, NULL);
		munmap(t->altstack, PKBOX_ALTSTACK_SIZE);
	}
	pkbox__lock();
	tdir_set(t->ti, 0);
	t->used = false;
	t->altstack = NULL;
	pkbox__unlock();
	tls_self = NULL;
}
