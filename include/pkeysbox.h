/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pkeysbox.h - in-process compartments with memory protection keys.
 *
 * Every function that returns int returns 0 (or a non-negative value where
 * documented) on success and a negative errno value on failure; it also sets
 * errno.  Functions that return a pointer return NULL and set errno.  The
 * set of errno values each function can return is listed in its man page.
 * Every function is thread-safe.
 */
#ifndef PKEYSBOX_H
#define PKEYSBOX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* PKBOX_OPTS */

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Declares and initialises an option struct, the libbpf way: all bytes 0
 * (padding too), sz set to the size this program was built with, then the
 * fields given:
 *	PKBOX_OPTS(pkbox_plugin_opts, o, .quota = 64 << 20);
 *	pkbox_plugin_load(path, &o, &p);
 * The library reads no field past sz, refuses an sz below the struct's
 * first version, and refuses a larger sz (a newer program) whose fields it
 * does not know are not all 0.
 */
#define PKBOX_OPTS(TYPE, NAME, ...)                                     \
	struct TYPE NAME = ({                                           \
		memset(&NAME, 0, sizeof(struct TYPE));                  \
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})

#define PKBOX_VERSION_MAJOR 0
#define PKBOX_VERSION_MINOR 1
#define PKBOX_VERSION_MICRO 0

#if defined(__GNUC__)
#define PKBOX_NONNULL(...) __attribute__((nonnull(__VA_ARGS__)))
#else
#define PKBOX_NONNULL(...)
#endif

/* ------------------------------------------------------------------ */
/* Backends and library set-up                                          */

enum pkbox_backend {
	PKBOX_BACKEND_AUTO = 0,     /* choose: pku if the CPU and kernel have it */
	PKBOX_BACKEND_PKU = 1,      /* protection keys, PKRU written in the gate */
	PKBOX_BACKEND_MPROTECT = 2, /* fallback: mprotect() of the regions that change */
};

/* pkbox_config.flags */
#define PKBOX_F_IGNORE_ENV (1u << 0) /* do not read PKBOX_BACKEND, PKBOX_KEY0_WRITABLE, PKBOX_MP_LAZY */
#define PKBOX_F_SEAL (1u << 1)       /* seal the process at the end of set-up (pkbox_seal()) */
#define PKBOX_F_KEY0_WRITABLE (1u << 2) /* leave key-0 memory writable inside compartments
                                         * (see pkbox_key0_protected()) */
#define PKBOX_F_MP_LAZY (1u << 3) /* mprotect backend: the lazy switch (the host's memory is given
                                   * back on its first touch after a call, not at the exit; a
                                   * syscall on memory not touched since fails with EFAULT);
                                   * nothing with pku */

struct pkbox_config {
	size_t sz;                  /* sizeof(struct pkbox_config) */
	enum pkbox_backend backend; /* PKBOX_BACKEND_AUTO: PKBOX_BACKEND env, then detection */
	unsigned int flags;         /* PKBOX_F_* */
	size_t domain_quota;        /* default heap quota of a domain in bytes (0: 256 MiB) */
	size_t stack_size;          /* size of each domain stack in bytes (0: 256 KiB) */
};

/*
 * Sets the library up once per process.  Optional: the first call of any
 * other function sets it up with the defaults.  cfg may be NULL.
 */
int pkbox_init(const struct pkbox_config *cfg);

/* The backend in use (sets the library up if it was not). */
enum pkbox_backend pkbox_backend(void);
const char *pkbox_backend_name(enum pkbox_backend b);

/*
 * Key-0 protection: 1 if compartments cannot write key-0 memory (the host's
 * stacks, heap, globals and TLS, the C library's state), 0 if they can.  It
 * needs the pku backend, a kernel that writes signal frames with every key
 * open (6.12 and later), FSGSBASE and glibc; PKBOX_F_KEY0_WRITABLE or
 * PKBOX_KEY0_WRITABLE=1 turn it off.  *why (if why is not NULL) says why it
 * is off, or is "" when it is on.  Sets the library up if it was not.
 */
int pkbox_key0_protected(const char **why);

/* What the CPU and the kernel offer; does not set the library up. */
#define PKBOX_SECCOMP_KILL_PROCESS (1u << 0)
#define PKBOX_SECCOMP_KILL_THREAD  (1u << 1)
#define PKBOX_SECCOMP_TRAP         (1u << 2)
#define PKBOX_SECCOMP_ERRNO        (1u << 3)
#define PKBOX_SECCOMP_USER_NOTIF   (1u << 4)
#define PKBOX_SECCOMP_TRACE        (1u << 5)
#define PKBOX_SECCOMP_LOG          (1u << 6)
#define PKBOX_SECCOMP_ALLOW        (1u << 7)

struct pkbox_info {
	size_t sz;                   /* sizeof(struct pkbox_info), set by the caller */
	char cpu_vendor[16];         /* CPUID leaf 0 */
	char cpu_model[64];          /* CPUID brand string, or /proc/cpuinfo "model name" */
	unsigned int cpu_family, cpu_model_nr, cpu_stepping;
	int cpuid_pku;               /* CPUID.(7,0):ECX bit 3 */
	int cpuid_ospke;             /* CPUID.(7,0):ECX bit 4 */
	int cpuinfo_pku;             /* "pku" in /proc/cpuinfo flags (-1: unreadable) */
	int cpuinfo_ospke;           /* "ospke" in /proc/cpuinfo flags (-1: unreadable) */
	char kernel_release[65];     /* uname -r */
	int kernel_pkeys;            /* pkey_alloc() works */
	int pkey_alloc_errno;        /* errno of the failed probe, 0 if it worked */
	int keys_available;          /* keys this process could still allocate */
	int pkru_valid;              /* pkru below was read (only when OSPKE) */
	uint32_t pkru;               /* this thread's PKRU */
	unsigned int seccomp_actions;/* PKBOX_SECCOMP_* the kernel offers */
	int seccomp_filter;          /* seccomp filter mode is available */
	int mdwe;                    /* prctl(PR_SET_MDWE) is available */
	int mseal;                   /* mseal() is available */
	enum pkbox_backend backend;  /* what PKBOX_BACKEND_AUTO picks here */
	enum pkbox_backend backend_in_use; /* AUTO when the library is not set up */
};

int pkbox_probe(struct pkbox_info *info);

/* ------------------------------------------------------------------ */
/* Domains                                                              */

struct pkbox_domain;

struct pkbox_domain_opts {
	size_t sz;    /* sizeof(struct pkbox_domain_opts) */
	size_t quota; /* heap quota in bytes (0: the library default) */
};

/* NULL on failure, errno: EINVAL, ENAMETOOLONG, ENOSPC (no key or slot), ENOMEM */
struct pkbox_domain *pkbox_domain_create(const char *name, const struct pkbox_domain_opts *opts);

/* 0, -EINVAL (NULL), -ENOENT (unknown or destroyed), -EBUSY (a thread is inside) */
int pkbox_domain_destroy(struct pkbox_domain *d);

/* The host's private domain: readable and writable only outside compartments. */
struct pkbox_domain *pkbox_host_domain(void);

/* Clears a faulted domain's state and frees all its memory. */
int pkbox_domain_reset(struct pkbox_domain *d);

/* Copies the domain's name into buf (NUL-terminated, truncated). */
int pkbox_domain_name(const struct pkbox_domain *d, char *buf, size_t len);

/* The protection key of the domain's memory; -ENOTSUP (errno ENOTSUP) in the
 * mprotect backend, whose memory has none. */
int pkbox_domain_pkey(const struct pkbox_domain *d);

/* 1 if the domain is marked faulted, 0 if not, or -errno. */
int pkbox_domain_faulted(const struct pkbox_domain *d);

/* ------------------------------------------------------------------ */
/* Memory inside a domain                                               */

/*
 * Objects of up to 4096 bytes are packed with others of their size class
 * in runs of pages of the domain (16-byte aligned); larger ones, and any
 * allocated with PKBOX_MALLOC_GUARD, are page-granular: their own pages,
 * the object ending where an inaccessible guard page begins (its size
 * rounded up to 16 bytes), so an overflow faults at once.  Only
 * page-granular allocations can be granted (pkbox_grant).  The allocator's
 * bookkeeping is in the library's memory, never in a domain's.
 */
#define PKBOX_MALLOC_GUARD 1u /* page-granular, a guard page after it */

void *pkbox_malloc(struct pkbox_domain *d, size_t size);
void *pkbox_malloc_flags(struct pkbox_domain *d, size_t size, unsigned int flags);
void *pkbox_calloc(struct pkbox_domain *d, size_t nmemb, size_t size);
void *pkbox_realloc(struct pkbox_domain *d, void *ptr, size_t size);
int pkbox_free(struct pkbox_domain *d, void *ptr);

/* The domain that owns an allocation (or the domain stack) holding addr. */
struct pkbox_domain *pkbox_domain_of(const void *addr);

/* Bytes of the pages that hold a domain's allocations, and its quota. */
int pkbox_domain_usage(const struct pkbox_domain *d, size_t *used, size_t *quota);

/* Access of another domain to one page-granular allocation. */
#define PKBOX_ACCESS_NONE 0
#define PKBOX_ACCESS_READ 1
#define PKBOX_ACCESS_RW   3

int pkbox_grant(struct pkbox_domain *owner, void *ptr, struct pkbox_domain *to, int access);
int pkbox_revoke(struct pkbox_domain *owner, void *ptr, struct pkbox_domain *to);

/* ------------------------------------------------------------------ */
/* The call gate                                                        */

typedef intptr_t (*pkbox_fn)(void *arg);

/*
 * Runs fn(arg) inside d, on d's own stack for this thread, with d's rights.
 * 0 and *ret set when fn returned; -EFAULT when it faulted (see
 * pkbox_last_fault(), the domain is then marked faulted); -ENOTRECOVERABLE
 * when d is marked faulted; -EINVAL, -ENOENT for bad arguments; -ELOOP when
 * calls nest deeper than 16; -EDEADLK when this thread is inside d already
 * (a compartment cannot re-enter itself through the host).
 */
int pkbox_call(struct pkbox_domain *d, pkbox_fn fn, void *arg, intptr_t *ret);

/*
 * pkbox_call() with a time limit: when fn has run timeout_ms milliseconds
 * (wall clock), the call is stopped like a fault and returns -ETIMEDOUT;
 * the domain is then marked faulted (pkbox_last_fault() says signal
 * PKBOX_TIMEOUT_SIGNAL).  Time spent in host callbacks counts.  The
 * library uses PKBOX_TIMEOUT_SIGNAL for this and nothing else; a
 * compartment that blocks it is not stopped (PKBOX_SEAL_NO_EXIT refuses
 * that).  Outermost calls only (-EINVAL inside a host callback).
 */
#define PKBOX_TIMEOUT_SIGNAL 63 /* SIGRTMAX - 1 */
int pkbox_call_timed(struct pkbox_domain *d, pkbox_fn fn, void *arg, intptr_t *ret, unsigned int timeout_ms);

/*
 * Runs fn(arg) with host rights on a stack of its own (stack_size bytes,
 * 0: 256 KiB) in the host's private domain, which no compartment can read
 * or write, and sets *ret to its value.  Where key-0 memory is writable in
 * compartments (pkbox_key0_protected() says 0), a compartment may rewrite
 * the host's ordinary stacks: return addresses, spilled locals.  Whatever
 * fn calls, pkbox_call() included, keeps its frames here instead.  The
 * caller's own frames stay where they are: after a compartment ran, a host
 * that must not trust them ends from inside fn (see pkbox_host_run(3)).
 * 0, or -EINVAL (fn NULL, bad size), -EPERM (inside a compartment), -ENOMEM.
 */
int pkbox_host_run(pkbox_fn fn, void *arg, size_t stack_size, intptr_t *ret);

/*
 * Entry points into the host.  The host registers a function for a domain;
 * code inside that domain calls it through pkbox_host_call() by its id, and
 * nothing else of the host can be reached that way.
 */
int pkbox_callback_register(struct pkbox_domain *d, pkbox_fn fn);   /* >= 0: id */
int pkbox_callback_unregister(struct pkbox_domain *d, int id);

/* Called from inside a compartment: runs host callback id with host rights. */
int pkbox_host_call(int id, void *arg, intptr_t *ret);

/* ------------------------------------------------------------------ */
/* Faults                                                               */

#define PKBOX_FAULT_READ  1
#define PKBOX_FAULT_WRITE 2
#define PKBOX_FAULT_EXEC  3

struct pkbox_fault {
	size_t sz;              /* sizeof(struct pkbox_fault), set by the caller */
	char domain[32];        /* name of the domain that faulted */
	uintptr_t addr;         /* faulting address */
	uintptr_t ip;           /* instruction pointer */
	int signo;              /* SIGSEGV, SIGBUS, SIGILL, ... */
	int si_code;            /* SEGV_PKUERR, SEGV_ACCERR, SEGV_MAPERR, ... */
	int access;             /* PKBOX_FAULT_READ / _WRITE / _EXEC, 0 unknown */
	int pkey;               /* si_pkey for SEGV_PKUERR, else the key of addr, or -1 */
	char owner[32];         /* domain owning addr ("" if none, "host" for the host) */
};

/* The last fault in d; -ENODATA if none since create/reset. */
int pkbox_last_fault(const struct pkbox_domain *d, struct pkbox_fault *f);

/*
 * Installs the library's handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and
 * SIGTRAP again, chaining to the handlers in place now.  pkbox_init() does
 * this; call it again after the host (or a test framework) installed its
 * own handlers for those signals, or compartment faults reach those instead.
 */
int pkbox_signals_install(void);

/* Number of faults contained in all domains since start. */
unsigned long pkbox_fault_count(void);

/* ------------------------------------------------------------------ */
/* Messages                                                             */

enum pkbox_print_level { PKBOX_WARN = 0, PKBOX_INFO = 1, PKBOX_DEBUG = 2 };
typedef void (*pkbox_print_fn)(enum pkbox_print_level level, const char *msg);

/* Where the library's messages go (default: stderr for WARN); NULL: nowhere.
 * Returns the previous function. */
pkbox_print_fn pkbox_set_print(pkbox_print_fn fn);

/* The library's last error message for this thread ("" if none). */
const char *pkbox_last_error(void);

/* A text for a -errno value returned by the library. */
const char *pkbox_strerror(int err);

/* ------------------------------------------------------------------ */
/* Plugins: shared objects in a compartment (pkbox_plugin_load(3))      */

struct pkbox_plugin;

struct pkbox_plugin_opts {
	size_t sz;     /* sizeof(struct pkbox_plugin_opts) */
	size_t quota;  /* the domain's quota in bytes (0: the default) */
	size_t heap;   /* its malloc arena, within the quota (0: half the quota) */
	unsigned int flags;      /* PKBOX_PLUGIN_* */
	unsigned int timeout_ms; /* each constructor's time limit (0: none), as pkbox_call_timed() */
};
/* load before pkbox_seal(): the plugin's constructors then run with no
 * policy in force, so it can leave behind what the seal cannot see; for
 * comparisons and trusted objects only */
#define PKBOX_PLUGIN_UNSEALED (1u << 0)

/*
 * Loads the shared object at path into a new domain named name (NULL: the
 * file's name), with the library's own loader: checks and inspects it and
 * what it needs that the process lacks, maps them from a sealed, inspected
 * code image, points their malloc family at the compartment's heap, gives
 * their writable segments to the domain and runs their constructors inside,
 * under the policy.  After pkbox_seal() (before it: -EPERM, unless
 * PKBOX_PLUGIN_UNSEALED).  A constructor that is stopped: -EFAULT.
 */
struct pkbox_plugin *pkbox_plugin_load(const char *path, const char *name, const struct pkbox_plugin_opts *opts);

/* The plugin's domain: call its functions with pkbox_call() on it. */
struct pkbox_domain *pkbox_plugin_domain(const struct pkbox_plugin *p);

/* The address of a function the plugin itself defines. */
void *pkbox_plugin_sym(const struct pkbox_plugin *p, const char *symbol);

/* pkbox_sym_info.kind */
#define PKBOX_SYM_FUNC 1 /* code: call it with pkbox_call() on the plugin's domain */
#define PKBOX_SYM_DATA 2 /* a data object */

struct pkbox_sym_info {
	size_t sz;                  /* sizeof(struct pkbox_sym_info), set by the caller */
	void *addr;                 /* where it is */
	size_t size;                /* its size in bytes, as its symbol table says */
	unsigned int kind;          /* PKBOX_SYM_FUNC or PKBOX_SYM_DATA */
	unsigned int writable;      /* 1: its compartment may write it */
	struct pkbox_domain *owner; /* the domain whose memory holds it (the plugin's, for its data and
	                               RELRO), or NULL: code and read-only data, readable by all */
	char object[64];            /* the file name of the object that defines it */
};

/*
 * A function or a data object that the plugin defines, or failing that one
 * of the objects loaded into its domain with it: where, what and whose it
 * is.  Thread-local variables have no one address: -ENOTSUP.
 */
int pkbox_plugin_sym_info(const struct pkbox_plugin *p, const char *symbol, struct pkbox_sym_info *info);

/* Runs its destructors inside, then frees the domain and unloads it. */
int pkbox_plugin_unload(struct pkbox_plugin *p);

/* Copies n bytes into new memory of domain d (free with pkbox_free()). */
void *pkbox_copy_in(struct pkbox_domain *d, const void *src, size_t n);

/* Copies n bytes from src to dst after checking that all of
 * [src, src + n) is memory of domain d (a compartment's answer). */
int pkbox_copy_out(const struct pkbox_domain *d, void *dst, const void *src, size_t n);

/* ------------------------------------------------------------------ */
/* Sealing: the syscall policy and code inspection (pkbox_seal(3))      */

/* pkbox_seal_opts.flags */
#define PKBOX_SEAL_STOP_ON_REFUSAL (1u << 0) /* a refused syscall stops the compartment
                                                 (reported as a fault) instead of failing
                                                 with EPERM */
#define PKBOX_SEAL_KEEP_PROC       (1u << 1) /* do not close /proc to file access (then
                                                 /proc/self/mem is NOT defended; the files
                                                 of mapped code stay read-only) */
#define PKBOX_SEAL_NO_SIGRETURN    (1u << 2) /* refuse rt_sigreturn to everyone (forged
                                                 signal frames); for hosts with no signal
                                                 handler that returns; needs STOP_ON_REFUSAL */
#define PKBOX_SEAL_NO_REMAP        (1u << 4) /* refuse mprotect, munmap, madvise, mseal and
                                              * mmap(MAP_FIXED) everywhere, not only on the
                                              * library's memory (the library's own calls pass):
                                              * for hosts that need none after sealing, so no
                                              * compartment can make a GOT writable or map over
                                              * it where the kernel lacks mseal */
#define PKBOX_SEAL_NO_THREADS      (1u << 3) /* no new threads or processes: clone (with
                                              * or without CLONE_VM), clone3, fork and vfork
                                              * refused to everyone; for hosts that make
                                              * none after sealing */
#define PKBOX_SEAL_NO_EXIT         (1u << 5) /* no compartment can end, stop or kill the
                                              * process: exit, exit_group, blocking signals
                                              * (a fault with SIGSEGV blocked ends a process),
                                              * signals to the process, timers and resource
                                              * limits that signal, refused unless the library
                                              * makes the call; the host ends with pkbox_exit().
                                              * For hosts that block no signal and end no thread
                                              * after sealing; needs NO_THREADS */

#define PKBOX_SEAL_KEEP_STDIO      (1u << 6) /* file descriptors 0, 1 and 2 stay the host's:
                                              * no close, dup2 or dup3 onto them, close_range
                                              * over them, F_SETFL, FIONBIO or shutdown on them
                                              * (a compartment cannot hide or block what the
                                              * host writes to stderr after the call) */

struct pkbox_seal_opts {
	size_t sz;          /* sizeof(struct pkbox_seal_opts) */
	unsigned int flags; /* PKBOX_SEAL_* */
	/* NULL: files stay writable everywhere but beneath the directories of
	 * the code in place (pkbox_seal(3), FILE POLICY).  Otherwise a
	 * NULL-terminated list of paths: files are writable beneath these
	 * only (never beneath those directories); needs Landlock. */
	const char *const *allow_write;
};

/*
 * Seals the process (all threads): inspects every executable mapping for
 * PKRU-writing instructions, then installs the seccomp policy described in
 * pkbox_seal(3) and doc/THREAT_MODEL.md.  Checks everything that can fail
 * before it changes anything.  Cannot be undone.  opts may be NULL.
 */
int pkbox_seal(const struct pkbox_seal_opts *opts);

/* 1 if the process is sealed, 0 if not. */
int pkbox_sealed(void);

/* Ends the process with status, as exit_group(2) does (no exit handlers,
 * no stdio flush), the way PKBOX_SEAL_NO_EXIT lets through.  Host code only. */
__attribute__((noreturn)) void pkbox_exit(int status);

/* A syscall the policy refused. */
struct pkbox_refusal {
	size_t sz;           /* sizeof(struct pkbox_refusal), set by the caller */
	char domain[32];     /* the compartment that made it; "host" for host code */
	long nr;             /* syscall number (for arch) */
	unsigned int arch;   /* AUDIT_ARCH_* the call was made with */
	uintptr_t ip;        /* address of the syscall instruction */
};

/* Syscalls refused since sealing (compartments and host together). */
unsigned long pkbox_refusal_count(void);

/* The last refusal made to a compartment; -ENODATA if none. */
int pkbox_last_refusal(struct pkbox_refusal *out);

/*
 * Code made at run time (a JIT), under W^X: copies len bytes of machine
 * code, inspects the copy, and returns where it can be executed (by any
 * domain; no one can write it).  Host only (from a compartment: through a
 * host callback).  Refuses PKRU-writing code with -EPERM.  Append-only.
 */
void *pkbox_code_commit(struct pkbox_domain *d, const void *code, size_t len);

/* Instructions that write PKRU. */
#define PKBOX_INSN_WRPKRU 1
#define PKBOX_INSN_XRSTOR 2
#define PKBOX_INSN_XRSTORS 3

struct pkbox_finding {
	uintptr_t addr; /* first byte of the sequence */
	int kind;       /* PKBOX_INSN_* */
};

/*
 * Looks for WRPKRU, XRSTOR and XRSTORS encodings at every byte offset of
 * [code, code + len).  Stores up to max findings in out and returns how many
 * there are in all (which may be more than max).
 */
int pkbox_inspect(const void *code, size_t len, struct pkbox_finding *out, size_t max);

#ifdef __cplusplus
}
#endif
#endif /* PKEYSBOX_H */
