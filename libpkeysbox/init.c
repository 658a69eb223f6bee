/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * init.c - set-up: the backend choice, the address-space pool and its
 * layout, the gate configuration, the library's keys, memory and lock, the
 * host's domain; key-0 protection's decision.  pkbox__ensure_init() is the
 * one way in (the API edge calls it, nothing below it does).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "backend.h"
#include "cpu.h"
#include "fault.h"
#include "fmt.h"
#include "gate_layout.h"
#include "init.h"
#include "jit.h"
#include "msg.h"
#include "phase.h"
#include "state.h"
#include "threads.h"
#include "lock.h"

_Static_assert(PKBOX_GC_ADDR == PKBOX_POOL_BASE + PKBOX_META_SIZE + 8 * PAGE, "gate configuration address");
_Static_assert((PKBOX_POOL_BASE & (PKBOX_POOL_SIZE - 1)) == 0, "pool alignment");
_Static_assert(sizeof(struct pkbox_gatecfg) <= PAGE, "gate configuration size");

static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static int init_rc = 1; /* 1: not yet */

/* ---------------------------------------------------------------- the backend */

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
	if (want != PKBOX_BACKEND_AUTO) {
		int rc = pkbox__backend_ops(want)->usable();

		if (rc)
			return rc;
	}
	if (want == PKBOX_BACKEND_AUTO)
		want = pkbox__detect_backend();
	*out = want;
	return 0;
}

/* The lazy switch, asked for once here and kept in the read-only gate
 * configuration: PKBOX_F_MP_LAZY, or PKBOX_MP_LAZY=1 in the environment
 * (unless PKBOX_F_IGNORE_ENV).  Only the mprotect backend reads it. */
static int mp_lazy_wanted(const struct pkbox_config *cfg)
{
	const char *env = cfg && (cfg->flags & PKBOX_F_IGNORE_ENV) ? NULL : getenv("PKBOX_MP_LAZY");

	return (cfg && (cfg->flags & PKBOX_F_MP_LAZY)) || (env && !strcmp(env, "1"));
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

/* glibc's static TLS, for the per-compartment copies: into gc, or why not */
static const char *key0_tls(struct pkbox_gatecfg *gc)
{
	void (*info)(size_t *, size_t *) = NULL;
	const uint32_t *tcbsz = NULL;
	size_t size = 0, align = 0;

	*(void **)&info = dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
	tcbsz = dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread");
	if (info)
		info(&size, &align);
	if (!info || !tcbsz || !*tcbsz || size <= *tcbsz || !align || (align & (align - 1)))
		return "the C library does not describe its static TLS (glibc needed)";
	if (align < 64)
		align = 64;
	uint64_t span = ((size - *tcbsz + align - 1) & ~(align - 1)) + *tcbsz + 16 + 4096;
	span = (span + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	if (span > gc->stack_size / 4)
		return "the static TLS is too large for the domain stacks (raise stack_size)";
	gc->tls_below = size - *tcbsz;
	gc->tls_tcb = *tcbsz;
	gc->tls_align = align;
	gc->tls_span = span;
	return NULL;
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
	const char *env = cfg && (cfg->flags & PKBOX_F_IGNORE_ENV) ? NULL : getenv("PKBOX_KEY0_WRITABLE");

	gc->key0_ro = 0;
	if (pkbox__be->no_key0) {
		key0_why = pkbox__be->no_key0;
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
	key0_why = key0_tls(gc);
	if (key0_why)
		return;
	gc->key0_ro = 1;
	key0_why = "";
}

const char *pkbox__key0_why(void)
{
	return key0_why;
}

/* ---------------------------------------------------------------- the pool */

/* Where things lie in the pool: offsets from its start. */
struct layout {
	size_t stack_size, quota;
	uint64_t stride;
	uint64_t records_len;
	uint64_t off_meta, off_gp, off_tdir, off_records, off_slots, off_stacks;
	uint64_t stacks_span;
};

static int layout_sizes(const struct pkbox_config *cfg, struct layout *L)
{
	size_t stack_size = cfg && cfg->stack_size ? cfg->stack_size : (256UL << 10);
	size_t quota = cfg && cfg->domain_quota ? cfg->domain_quota : (256UL << 20);

	if (stack_size < 16 * PAGE || stack_size > (64UL << 20))
		return pkbox__err(-EINVAL, "stack_size must be between 64 KiB and 64 MiB");
	if (quota > PKBOX_SLOT_SIZE / 2)
		return pkbox__err(-EINVAL, "domain_quota is larger than a domain slot (%lu MiB)",
				  PKBOX_SLOT_SIZE / 2 >> 20);
	L->stack_size = (stack_size + PAGE - 1) & ~(PAGE - 1);
	L->quota = quota;
	return 0;
}

static int layout_plan(struct layout *L)
{
	uint64_t rows = PKBOX_MAX_DOMAINS + 1; /* the last row: fault slots, never mapped */

	L->stride = pow2_at_least(L->stack_size + 16 * PAGE);
	L->records_len = (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE;
	/* meta first: the policy lets exactly mprotect(pool start, meta_len,
	 * RW) through from the gate's exit (see seal.c) */
	L->off_meta = 0;
	L->off_gp = PKBOX_GC_ADDR - PKBOX_POOL_BASE + 2 * PAGE;
	L->off_tdir = L->off_gp + 2 * PAGE;
	L->off_records = L->off_tdir + 16 * PAGE;
	L->off_slots = (L->off_records + L->records_len + 16 * PAGE + PAGE - 1) & ~(PAGE - 1);
	L->off_stacks = L->off_slots + (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_SLOT_SIZE;
	L->stacks_span = rows * PKBOX_MAX_THREADS * L->stride;
	if (L->off_stacks + L->stride + L->stacks_span > PKBOX_POOL_SIZE)
		return pkbox__err(-EINVAL, "the pool does not fit %lu GiB (stack_size too large)",
				  PKBOX_POOL_SIZE >> 30);
	return 0;
}

/* The pool: one naturally aligned block at a fixed address, all of it
 * reserved (the syscall policy names it with a single mask, the gate
 * reaches its configuration through a constant); the gate configuration's
 * page writable. */
static int pool_reserve(uint64_t *lo)
{
	char *pool = mmap((void *)PKBOX_POOL_BASE, PKBOX_POOL_SIZE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (pool == MAP_FAILED || pool != (char *)PKBOX_POOL_BASE) {
		int e = pool == MAP_FAILED ? errno : EEXIST;

		if (pool != MAP_FAILED)
			munmap(pool, PKBOX_POOL_SIZE);
		return pkbox__err(-ENOMEM, "cannot reserve %lu GiB of address space at %#lx: %s",
				  (unsigned long)(PKBOX_POOL_SIZE >> 30), (unsigned long)PKBOX_POOL_BASE, pkbox__strerror(e));
	}
	/* A child process gets none of it (MADV_DONTFORK): no domain's memory,
	 * none of the library's state (attack A18).  Every mapping later made
	 * of the reservation keeps the mark */
	if (madvise(pool, PKBOX_POOL_SIZE, MADV_DONTFORK)) {
		int e = errno;

		munmap(pool, PKBOX_POOL_SIZE);
		return pkbox__err(-e, "cannot keep the pool from child processes: %s", pkbox__strerror(e));
	}
	if (mprotect((char *)PKBOX_GC_ADDR, PAGE, PROT_READ | PROT_WRITE)) {
		int e = errno;

		munmap(pool, PKBOX_POOL_SIZE);
		return pkbox__err(-e, "cannot map the gate configuration: %s", pkbox__strerror(e));
	}
	*lo = (uint64_t)pool;
	return 0;
}

/* ---------------------------------------------------------------- the gate configuration */

static void gc_fill(struct pkbox_gatecfg *gc, const struct layout *L, uint64_t lo, enum pkbox_backend b)
{
	gc->stacks_lo = (lo + L->off_stacks + L->stride - 1) & ~(L->stride - 1);
	gc->stacks_span = L->stacks_span;
	gc->stacks_dom_span = (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_MAX_THREADS * L->stride;
	gc->stride_shift = shift_of(L->stride);
	gc->stride = L->stride;
	gc->stack_size = L->stack_size;
	gc->meta_lo = lo + L->off_meta;
	gc->meta_len = PKBOX_META_SIZE;
	gc->records_lo = lo + L->off_records;
	gc->slots_lo = lo + L->off_slots;
	gc->pool_lo = lo;
	gc->pool_hi = lo + PKBOX_POOL_SIZE;
	gc->gatepage = lo + L->off_gp;
	gc->tdir = lo + L->off_tdir;
	gc->fsgsbase = pkbox__cpu()->fsgsbase;
	gc->xsave_pkru_offset = pkbox__cpu()->xsave_pkru_offset;
	gc->key_h = gc->key_r = -1;
	gc->ops = (uint64_t)(uintptr_t)pkbox__backend_ops(b);
	gc->jit_rw = lo + PKBOX_POOL_SIZE - 4 * PKBOX_JIT_SIZE;
	gc->jit_rx = lo + PKBOX_POOL_SIZE - 2 * PKBOX_JIT_SIZE;
}

/* ---------------------------------------------------------------- the library's memory */

/* The library's state (host-only), its records, the gate page and the
 * thread directory; the thread entries after the state. */
static int meta_setup(struct pkbox_gatecfg *gc, const struct layout *L)
{
	if (pkbox__be->tag(gc->meta_lo, gc->meta_len, PROT_READ | PROT_WRITE, gc->key_h) ||
	    pkbox__be->tag(gc->records_lo, L->records_len, PROT_READ | PROT_WRITE, gc->key_r) ||
	    mprotect((void *)gc->gatepage, PAGE, PROT_READ | PROT_WRITE) ||
	    mprotect((void *)gc->tdir, PAGE, PROT_READ))
		return pkbox__err(-errno, "cannot set up the library's memory: %s", pkbox__strerror(errno));
	gc->st = gc->meta_lo;
	uint64_t tbase = (gc->meta_lo + sizeof(struct pkbox_state) + 63) & ~63UL;
	gc->threads_base = tbase;
	gc->thread_stride = (sizeof(struct pkbox_thread) + 63) & ~63UL;
	if (tbase + PKBOX_MAX_THREADS * gc->thread_stride > gc->meta_lo + gc->meta_len)
		return pkbox__err(-ENOMEM, "library state does not fit its area");
	/* only what is used is switched (the mprotect backend's cost grows with it) */
	gc->meta_len = (tbase + PKBOX_MAX_THREADS * gc->thread_stride - gc->meta_lo + PAGE - 1) & ~(PAGE - 1);
	/* the backend's part (mprotect: the rest back to the reservation) */
	return pkbox__be->setup_meta(gc);
}

/* The library lock (lock.c): recursive; with pku in host-keyed memory,
 * with mprotect in the gate page (see state.h) */
static void lock_setup(struct pkbox_gatecfg *gc)
{
	struct pkbox_lock *mu = pkbox__be->lock_word();

	*mu = (struct pkbox_lock){ 0, 0 };
	gc->mu = (uint64_t)(uintptr_t)mu;
}

/* slot 0: the host's private domain */
static void host_dom_setup(struct pkbox_gatecfg *gc, size_t quota)
{
	struct pkbox_dom *h = &pkbox__st->doms[0];

	pkbox__st->default_quota = quota;
	h->used = true;
	h->gen = 1;
	h->idx = 0;
	h->pkey = gc->key_h;
	strcpy(h->name, "host");
	h->quota = quota;
	h->next = gc->slots_lo + PAGE;
}

/* ---------------------------------------------------------------- the steps */

/* Everything in the pool; on failure the caller gives the pool and the keys back. */
static int pool_setup(const struct pkbox_config *cfg, struct pkbox_gatecfg *gc, const struct layout *L)
{
	int rc = pkbox__be->lib_keys(&gc->key_h, &gc->key_r);

	if (rc)
		return rc;
	key0_decide(cfg, gc);
	rc = meta_setup(gc, L);
	if (rc)
		return rc;
	lock_setup(gc);
	host_dom_setup(gc, L->quota);
	if (gc->jit_rw < gc->stacks_lo + gc->stacks_span + gc->stride)
		return pkbox__err(-EINVAL, "the pool has no room for committed code");
	rc = pkbox__jit_setup();
	if (rc)
		return rc;
	gc->initialized = 1;
	if (mprotect(gc, PAGE, PROT_READ))
		return pkbox__err(-errno, "cannot make the gate configuration read-only: %s", pkbox__strerror(errno));
	return 0;
}

static void pool_undo(struct pkbox_gatecfg *gc, uint64_t lo)
{
	if (gc->key_h >= 0)
		syscall(SYS_pkey_free, gc->key_h);
	if (gc->key_r >= 0)
		syscall(SYS_pkey_free, gc->key_r);
	munmap((void *)lo, PKBOX_POOL_SIZE);
}

static int do_init(const struct pkbox_config *cfg)
{
	struct pkbox_gatecfg *gc = &pkbox__gc;
	enum pkbox_backend b = PKBOX_BACKEND_AUTO;
	struct layout L = { 0 };
	uint64_t lo = 0;
	int rc = layout_sizes(cfg, &L);

	if (!rc)
		rc = choose_backend(cfg, &b);
	if (!rc)
		rc = layout_plan(&L);
	if (!rc)
		rc = pool_reserve(&lo);
	if (rc)
		return rc;
	gc_fill(gc, &L, lo, b);
	gc->mp_lazy = mp_lazy_wanted(cfg);
	gc->avx2 = pkbox__cpu()->avx2;
	rc = pool_setup(cfg, gc, &L);
	if (rc) {
		pool_undo(gc, lo);
		return rc;
	}
	pkbox__ready_set();
	rc = pkbox__fault_install();
	if (rc)
		return rc; /* the pool stays: the gate page is read-only now */
	pkbox__msg(PKBOX_INFO, "backend %s, pool %#lx-%#lx, key 0 %s%s", pkbox__be->name,
		   (unsigned long)gc->pool_lo, (unsigned long)gc->pool_hi,
		   gc->key0_ro ? "read-only in compartments" : "writable in compartments: ", key0_why);
	return 0;
}

/* ---------------------------------------------------------------- once */

static int init_locked(const struct pkbox_config *cfg)
{
	if (init_rc != 1)
		return init_rc;
	int rc = pkbox__threads_setup();
	if (rc)
		return init_rc = rc;
	init_rc = do_init(cfg);
	return init_rc;
}

int pkbox__init(const struct pkbox_config *cfg)
{
	int rc;

	pthread_mutex_lock(&init_mu);
	if (init_rc != 1)
		rc = init_rc ? init_rc : pkbox__err(-EALREADY, "pkbox_init: the library is already set up");
	else
		rc = init_locked(cfg);
	pthread_mutex_unlock(&init_mu);
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
	/* transitional: for callers that are not yet API-edge wrappers (those
	 * set errno with PKBOX_API_RET) */
	if (rc)
		errno = -rc;
	return rc;
}
