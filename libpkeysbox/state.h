/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.h - the library's state, as every layer sees it: the gate
 * configuration page (read-only, reached at a fixed address), the state in
 * the meta area (host-keyed), the thread records, and the layout of the
 * address-space pool.  Data and pure inlines only: it calls nothing.
 */
#ifndef PKBOX_STATE_H
#define PKBOX_STATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include "pkeysbox.h"
#include "gate_layout.h"

/* the library's thread-local variables: at fixed offsets from the thread
 * pointer, never found through the module vector (dtv), which lives in the
 * thread control block, key-0 memory */
#define PKBOX_TLS __attribute__((tls_model("initial-exec")))

#define PAGE 4096UL
#define PKBOX_MAX_DOMAINS 64      /* slot 0 is the host's private domain */
#define PKBOX_MAX_REGIONS 4096    /* live allocations, all domains together */
#define PKBOX_MAX_CALLBACKS 32    /* per domain */
#define PKBOX_SLOT_SIZE (1UL << 32) /* address space of one domain's heap */
#define PKBOX_META_SIZE (32UL << 20)
#define PKBOX_POOL_BITS 39
#define PKBOX_POOL_SIZE (1UL << PKBOX_POOL_BITS) /* 512 GiB of address space, aligned */
#define PKBOX_ALTSTACK_SIZE (64UL << 10)
#define PKBOX_JIT_SIZE (16UL << 20)
#define PKBOX_MP_SHOWN 32 /* mprotect: regions shown one by one, beyond that a domain is hidden whole */
#define PKBOX_NAME_MAX 31
/* pkbox_malloc's packed objects (runs.c): size classes of 16 to 4096
 * bytes, each class's objects in runs of PKBOX_RUN_PAGES pages, one region
 * a run (larger objects are page-granular); their metadata here, in the library's state, never in a run */
#define PKBOX_NCLASSES 28
#define PKBOX_RUN_PAGES 16
#define PKBOX_RUN_MAX_OBJS (PKBOX_RUN_PAGES * 4096 / 16)
#define PKBOX_QUARANTINE 32       /* freed objects held back from reuse, per domain, */
#define PKBOX_QUARANTINE_BYTES 16384 /* and at most this many of their bytes */

/* Gate records: one per (domain, thread); written by the host, read by the
 * entry path after WRPKRU (see gate.S). */
struct pkbox_record {
	uint64_t magic;
	uint64_t pkru;
	uint64_t kind;
	uint64_t target;
	uint64_t arg;
	uint64_t status;
	uint64_t slot_top; /* the top of the (domain, thread) stack slot: the stack the entry runs on */
	uint64_t dom_fs;   /* key-0 protection: the thread pointer of its TLS copy (0: FS unchanged) */
};

/* mprotect backend: the first protection change of a switch that failed */
struct pkbox_switch {
	int err;   /* its errno (0: none failed) */
	int owner; /* whose memory: a domain slot, or -1 for the library's */
};

/* A call frame: one per nesting level per thread, in library memory.
 * The assembler offsets are in gate_layout.h. */
struct pkbox_frame {
	uint64_t host_ret;
	uint64_t host_rsp;
	uint64_t rbx, rbp, r12, r13, r14, r15;
	uint32_t mxcsr;
	uint16_t fcw;
	uint16_t pad0;
	uint64_t fsbase;
	uint64_t state;
	uint64_t reason;
	uint64_t val[6];
	uint64_t slot_top;
	uint64_t pkru;
	uint64_t e_kind, e_target, e_arg, e_status;
	uint64_t dom_fs;         /* key-0 protection: the compartment's thread pointer (0: unchanged) */
	uint64_t exit_top;       /* mprotect backend: the top of the thread's exit stack */
	uint64_t deadline_ns;    /* a timed call: CLOCK_MONOTONIC time it ends (0: none); the
	                          * mprotect backend opens the timeout signal inside */
	/* C only from here.  After a call, pkbox_call() trusts these, found
	 * through the frame the exit path hands back, and nothing it left on
	 * the host's stack: a compartment may write that stack where key 0 is
	 * writable in compartments (see pkbox_host_run(3)) */
	struct pkbox_dom *dom;
	struct pkbox_thread *thread;
	struct pkbox_record *rec; /* (F_REC: the WRPKRU entry path reads it, and trusts nothing
	                           * of it before it has checked the record after the switch) */
	intptr_t *ret;
	int prev_depth;
	bool outer_lock;
	struct pkbox_switch sw;  /* mprotect backend: what the last switch could not do */
};

struct pkbox_thread {
	struct pkbox_frame *top; /* offset 0: read by gate.S */
	int depth;
	int ti;
	pid_t tid;
	bool used;
	void *altstack;
	struct pkbox_hostrun *hr_top; /* the innermost pkbox_host_run() stack */
	/* the domains (bit = slot) whose stack for this thread is mapped and,
	 * with key-0 protection, holds its TLS copy: set by the thread under
	 * the lock, cleared by whoever unmaps or resets them (stacks.c) */
	uint64_t ready;
	/* where the mprotect backend's exit path gives the host its memory
	 * back (gate.S), before the host's own stack is used again */
	_Alignas(64) unsigned char exit_stack[PKBOX_EXIT_STACK];
	struct pkbox_frame frames[PKBOX_MAX_DEPTH];
};

struct pkbox_grant_ent {
	int16_t dom;    /* grantee slot */
	int16_t access; /* PKBOX_ACCESS_* */
	/* the grantee's list of grants to it (regions.c): grant nodes
	 * (region * PKBOX_MAX_GRANTS + k) + 1, 0: none */
	uint16_t gnext, gprev;
};

#define PKBOX_MAX_GRANTS 8

/* (dnext and dprev: the owner's list of its regions (regions.c), region
 * index + 1, 0: none; dnext links the free slots while the region is
 * unused.  They fill what was padding.) */
struct pkbox_region {
	bool used;
	int16_t dnext;
	int dom;            /* owner slot */
	uintptr_t base;     /* first accessible page */
	size_t pages;       /* accessible pages (guards excluded) */
	uintptr_t user;     /* pointer handed out */
	size_t size;        /* bytes asked for */
	int gkey;           /* grant key (pku) or -1 */
	bool foreign;       /* outside the pool: a plugin's segment */
	int16_t dprev;
	int prot;           /* foreign: its protection */
	uint8_t cls;        /* a run of packed objects: its size class + 1 (0: not a run) */
	bool guard;         /* asked for with PKBOX_MALLOC_GUARD */
	size_t charged;     /* bytes of it counted against its domain's quota */
	int ngrants;
	struct pkbox_grant_ent grants[PKBOX_MAX_GRANTS];
};

#define PKBOX_ARENA_KEYS 8 /* pthread keys a plugin may make (alloc.c) */

struct pkbox_dom {
	bool used;
	bool faulted;
	bool has_fault;
	uint32_t gen;
	int idx;
	int pkey;           /* -1 in the mprotect backend */
	char name[PKBOX_NAME_MAX + 1];
	size_t quota, used_bytes;
	uintptr_t next;     /* bump pointer in the slot */
	uint32_t pkru;      /* PKRU inside this domain (pku) */
	uint32_t pkru_seen; /* keys (bit k) open in a PKRU it had since it was last seen idle (keys.c) */
	/* the C library's thread-specific keys its plugin's arena hands out
	 * (alloc.c), made and deleted by the host: here, out of its reach */
	unsigned int pthread_keys[PKBOX_ARENA_KEYS];
	int npthread_keys;
	int active;         /* frames currently in this domain, all threads (atomic: pkbox_call's
	                     * path without the lock counts itself in) */
	/* its handle while calls may enter it (live, not faulted, not the
	 * host's), else 0: what pkbox_call's path without the lock compares */
	uint64_t call_handle;
	pkbox_fn callbacks[PKBOX_MAX_CALLBACKS];
	struct pkbox_fault fault;
	uint64_t stacks_mapped[PKBOX_MAX_THREADS / 64];
	uint64_t tls_copied[PKBOX_MAX_THREADS / 64]; /* key-0 protection: TLS copies made */
	/* regions.c: its regions (adopted segments first, then its own
	 * allocations; region index + 1, 0: none), and the grants to it
	 * (grant node + 1, 0: none) */
	int16_t rhead, rtail;
	uint16_t ghead;
	/* runs.c: per size class, its runs with objects to hand out (region
	 * index + 1, 0: none); the quarantine, a ring of freed objects
	 * (run region << 12 | object), the oldest at quar_pos, not reused
	 * while in it */
	int16_t cls_head[PKBOX_NCLASSES];
	uint32_t quar[PKBOX_QUARANTINE];
	uint32_t quar_pos, quar_n, quar_bytes;
	int16_t run_hint;   /* the run last taken from or freed into (region + 1): a guess, checked */
};

/* A run of packed objects: the metadata of region r's objects is
 * pkbox_state.runs[r] (runs.c).  live: handed out; avail: free to hand out
 * (a freed object is neither while in the quarantine). */
struct pkbox_run {
	uint64_t live[PKBOX_RUN_MAX_OBJS / 64];
	uint64_t avail[PKBOX_RUN_MAX_OBJS / 64];
	uint16_t page_live[PKBOX_RUN_PAGES]; /* live objects on each page */
	uint16_t osize, nobj, nlive, navail, nquar, hint;
	uint32_t inv;                        /* 2^32 / osize, rounded up: i = off * inv >> 32 */
	int16_t cnext, cprev;                /* the class's list of runs with avail objects */
};

#define PKBOX_MAX_OBJS 16 /* a plugin and the objects it brings with it */

/* One object mapped by the loader; lives in library memory. */
struct pkbox_obj {
	uintptr_t bias;            /* address = bias + virtual address */
	uintptr_t map_lo;          /* the mapping: [map_lo, map_lo + map_len) */
	size_t map_len;
	uintptr_t text_lo, text_hi;/* its code pages */
	uintptr_t init, init_array, fini, fini_array; /* relocated */
	size_t init_n, fini_n;
	void *file;                /* a read-only copy of its file (loader.c) */
	size_t file_len;
	/* its thread-local storage (PT_TLS): the initial image, relocated */
	uintptr_t tls_image;
	size_t tls_filesz, tls_memsz, tls_align;
	char name[64];
};

#define MAX_PLUGINS 16
struct pkbox_plug {
	bool used;
	uint32_t gen;
	int dom;
	int nobjs;
	struct pkbox_obj objs[PKBOX_MAX_OBJS]; /* [0] the plugin, then what it brought */
	char path[128];
	char shared[256]; /* what it needs that it shares with the host (the C runtime) */
};

/* The library lock (lock.c): recursive, its own futex word. */
struct pkbox_lock {
	_Atomic uint32_t word;   /* 0 free, else the holder's tid, PKBOX_LOCK_WAITERS while others wait */
	uint32_t depth;          /* the holder's nesting */
};
#define PKBOX_LOCK_WAITERS 0x80000000u

/* Library state: lives in the meta area, keyed with the host key. */
struct pkbox_state {
	uint64_t token;          /* offset 0: read by gate.S (pkbox__tsys) */
	struct pkbox_lock mu;
	/* backend.c: protection keys */
	int key_pool[16], key_pending[16];
	int nkey_pool, nkey_pending;
	/* lock.c: odd while a thread holds the library lock (its outermost
	 * hold); gate.c's path without the lock validates its reads with it */
	uint64_t lock_seq;
	/* lock.c: set while a thread runs pkbox_malloc's or pkbox_free's
	 * short path (runs.c), which takes no lock but never runs beside a
	 * holder of it */
	uint32_t alloc_fast;
	/* backend_mprotect.c: what the last switches left visible (what no
	 * entry needs hidden stays as it is; eager, each exit shows it all) */
	struct {
		uint64_t whole;   /* domains whose memory may be visible: hidden whole at the next entry into another */
		uint64_t open;    /* domains whose memory is all visible, as they use it themselves */
		int16_t shown[PKBOX_MP_SHOWN]; /* regions shown one by one since the last entry (faults, grants) */
		int nshown;
		bool jit;         /* the code area's writable view visible */
	} mp;
	unsigned long fault_count;
	unsigned long refusals;  /* syscalls the seal refused to compartments */
	pkbox_print_fn print_fn;
	bool print_set;
	bool sealed;
	/* gate.c: the segments of the last object found bound eagerly that
	 * holds a function a call ran (binding.c) */
	uintptr_t eager_lo, eager_hi;
	struct pkbox_refusal last_refusal;
	struct pkbox_plug plugs[MAX_PLUGINS];
	size_t jit_used;
	struct pkbox_dom doms[PKBOX_MAX_DOMAINS];
	struct pkbox_region regions[PKBOX_MAX_REGIONS];
	/* regions.c: the live regions' indices by base address, the free
	 * slots (index + 1, 0: none beyond reg_hw), the slots ever used */
	int16_t reg_sorted[PKBOX_MAX_REGIONS];
	int nsorted, reg_free, reg_hw;
	struct pkbox_run runs[PKBOX_MAX_REGIONS]; /* runs.c: by region index */
	uint64_t dom_live;       /* domain.c: domains created (the host's, slot 0, by init.c) */
	size_t default_quota;
	char last_error_unused;
};

/* The gate configuration: one page in the library image, read-only after
 * set-up, addressed RIP-relative by gate.S (never through a pointer that a
 * compartment could overwrite). */
struct pkbox_gatecfg {
	uint64_t stacks_lo;      /* GC_STACKS_LO */
	uint64_t stacks_span;    /* GC_STACKS_SPAN: all rows, fault row included */
	uint64_t stacks_dom_span;/* GC_STACKS_DOM_SPAN: domain rows only */
	uint64_t stride_shift;   /* GC_SHIFT */
	uint64_t threads_base;   /* GC_THREADS */
	uint64_t thread_stride;  /* GC_THREAD_STRIDE */
	uint64_t records_lo;     /* GC_RECORDS */
	uint64_t meta_lo;        /* GC_META_LO */
	uint64_t meta_len;       /* GC_META_LEN */
	uint64_t reserved;       /* GC_RESERVED: kept for layout (the backend is pkbox__be, GC_OPS) */
	uint64_t fsgsbase;       /* GC_FSGSBASE */
	uint64_t hook;           /* GC_HOOK: unused slot kept for layout */
	/* C only */
	uint64_t pool_lo, pool_hi;
	uint64_t gatepage;       /* mprotect backend: the gate lock page */
	uint64_t tdir;           /* thread directory page */
	uint64_t jit_rw, jit_rx; /* committed code: the host's writable view, everyone's executable one */
	uint64_t slots_lo;
	uint64_t stack_size;
	uint64_t stride;
	uint64_t mu;             /* the library lock (struct pkbox_lock *) */
	uint64_t st;             /* struct pkbox_state * (meta) */
	uint64_t ops;            /* GC_OPS: const struct pkbox_backend_ops * (backend.h) */
	int key_h, key_r;
	uint32_t xsave_pkru_offset;
	int initialized;
	int strict;               /* sealed with PKBOX_SEAL_NO_SIGRETURN: handlers leave by jumping */
	int stop_on_refusal;      /* sealed with PKBOX_SEAL_STOP_ON_REFUSAL */
	int no_exit;              /* sealed with PKBOX_SEAL_NO_EXIT: the host ends through pkbox_exit() only */
	int seal_failed;          /* the policy loaded but did not verify: no call runs */
	/* key-0 protection (pku): compartments cannot write key-0 memory; each
	 * (domain, thread) runs with its own copy of the thread's static TLS,
	 * kept at the bottom of its stack slot (domain.c) */
	int key0_ro;
	uint64_t tls_below;       /* static TLS below the thread pointer */
	uint64_t tls_tcb;         /* the thread control block above it */
	uint64_t tls_span;        /* bytes reserved at the bottom of each domain stack */
	uint64_t tls_align;
	int code_fd;              /* the code descriptor + 1 (loader.c); 0: none yet */
	/* mprotect backend: the lazy switch (PKBOX_F_MP_LAZY, PKBOX_MP_LAZY=1):
	 * the host's memory given back on its first touch, not at each exit;
	 * 0 with pku */
	int mp_lazy;
	/* the CPU and the kernel offer AVX2: runs.c zeroes freed objects with it */
	int avx2;
	/* mprotect backend: the gate page's writable view, the last page of
	 * the state (meta_len covers it: hidden and shown with it) */
	uint64_t gatepage_rw;
};

/* mprotect backend: the gate page.  One page of a memfd, mapped twice:
 * writable as the last page of the library's state (gatepage_rw: hidden
 * with it, by the same mprotect, while a compartment runs), and read-only
 * at gatepage, where the words stay readable always (the fault handler
 * reads them, threads wait on them). */
struct pkbox_gatepage {
	_Atomic uint32_t lock;   /* 0 free, else the holder's tid */
	_Atomic uint32_t phase;  /* PHASE_HOST / PHASE_DOMAIN */
	_Atomic uint32_t unused;
	_Atomic uint32_t gen;    /* bumped each time memory is hidden */
	/* the library lock in this backend */
	struct pkbox_lock mu;
};
#define PHASE_HOST 0
#define PHASE_DOMAIN 1

/* Everything the library trusts is reached from pkbox__gc, a read-only page
 * (sealed with mseal() where the kernel has it), never from writable
 * key-0 memory that a compartment could rewrite. */
#define pkbox__gc (*(struct pkbox_gatecfg *)(uintptr_t)PKBOX_GC_ADDR)
#define pkbox__st ((struct pkbox_state *)(uintptr_t)pkbox__gc.st)
#define pkbox__tdir ((pid_t *)(uintptr_t)pkbox__gc.tdir)

/* The live domain a handle (generation << 16 | slot + 1) names, or NULL. */
static inline struct pkbox_dom *pkbox__dom_named(const void *h)
{
	uintptr_t v = (uintptr_t)h;
	unsigned idx = (unsigned)(v & 0xffff) - 1;
	struct pkbox_dom *d;

	if (idx >= PKBOX_MAX_DOMAINS || v >> 48)
		return NULL;
	d = &pkbox__st->doms[idx];
	return d->used && d->gen == (uint32_t)(v >> 16) ? d : NULL;
}

static inline struct pkbox_thread *pkbox__thread_at(int ti)
{
	return (struct pkbox_thread *)(pkbox__gc.threads_base + (uint64_t)ti * pkbox__gc.thread_stride);
}

/* the top of the stack of thread ti in row `row` (a domain slot, or the
 * fault row): pure layout */
static inline uintptr_t pkbox__stack_top(int row, int ti)
{
	uint64_t slot = (uint64_t)row * PKBOX_MAX_THREADS + (uint64_t)ti;

	return pkbox__gc.stacks_lo + ((slot + 1) << pkbox__gc.stride_shift);
}

/* the gate record of thread ti in domain row `row`: pure layout */
static inline struct pkbox_record *pkbox__record_of(int row, int ti)
{
	return (struct pkbox_record *)(pkbox__gc.records_lo +
				       ((uint64_t)row * PKBOX_MAX_THREADS + (uint64_t)ti) * PKBOX_RECORD_SIZE);
}

/* Arms the entry's claim word for rec's next entry (gate.S takes it: one
 * entry per arming).  Before the record's magic is written. */
static inline void pkbox__record_arm(struct pkbox_record *rec)
{
	*(volatile uint64_t *)(uintptr_t)(rec->slot_top - PKBOX_CLAIM_OFF) = (uint64_t)(uintptr_t)rec;
}

/* compartment heaps (alloc.c): the arena of domain slot i, readable by all */
#define PKBOX_ARENA_DIR_OFF 2048
static inline uintptr_t *pkbox__arena_dir(void)
{
	return (uintptr_t *)(pkbox__gc.tdir + PKBOX_ARENA_DIR_OFF);
}

/* Raw reads for code that must not touch TLS or errno (signal handlers
 * before they leave a compartment's TLS copy) */
static inline pid_t pkbox__gettid(void)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_gettid) : "rcx", "r11", "memory");
	return (pid_t)r;
}

/* the thread pointer as glibc keeps it (tcbhead_t.tcb, at %fs:0) */
static inline uintptr_t pkbox__thread_pointer(void)
{
	uintptr_t tp;

	__asm__("movq %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* FS base; needs FSGSBASE (pkbox__gc.fsgsbase) */
static inline uint64_t pkbox__rdfsbase(void)
{
	uint64_t v;

	__asm__ volatile(".byte 0xf3,0x48,0x0f,0xae,0xc0" : "=a"(v)); /* rdfsbase %rax */
	return v;
}

#endif
