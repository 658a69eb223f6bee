/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal.c - sealing the process: the steps of pkbox_seal(), in order (the
 * checks, the filters, the changes, the load and its verification).
 *
 * The policy (doc/THREAT_MODEL.md has the reasons, tests/attacks/ the
 * attacks it stops):
 *  - protection changes on the pool (every domain, the host's private
 *    domain, the library's state, stacks and guards: one naturally aligned
 *    block) only with the token, a random 64-bit value that lives in library
 *    memory and that the library puts in the syscall's unused argument
 *    registers (pkbox__tsys in gate.S);
 *  - no new executable memory: mprotect and pkey_mprotect with PROT_EXEC
 *    only with the token, mmap with PROT_EXEC only from the loader's code
 *    descriptor (loader.c), never writable, never at a fixed address; no
 *    mremap at all (it can move or grow code);
 *  - pkey_alloc, pkey_free, pkey_mprotect only through the library;
 *  - ptrace, process_vm_*, seccomp, personality changes, userfaultfd,
 *    io_uring, execve, prctl changes of dumpability, seccomp or the mm;
 *    handlers of the signals the library owns stay the library's;
 *  - i386 and x32 entries refused;
 *  - every refusal raises SIGSYS: the handler makes the syscall return
 *    -EPERM and has the refusal recorded for the host (through the gate,
 *    with host rights, when a compartment made it).
 * Besides: the process becomes non-dumpable, Landlock closes /proc
 * (/proc/self/mem) and the files of mapped code (landlock.c), PR_SET_MDWE
 * and mseal() are used where the kernel has them.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "backend.h"
#include "binding.h"
#include "fault.h"
#include "fmt.h"
#include "keys.h"
#include "landlock.h"
#include "lock.h"
#include "msg.h"
#include "seal.h"
#include "seal_check.h"
#include "state.h"
#include "sys.h"

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

#define SEAL_FLAGS                                                                                                 \
	(PKBOX_SEAL_STOP_ON_REFUSAL | PKBOX_SEAL_KEEP_PROC | PKBOX_SEAL_NO_SIGRETURN | PKBOX_SEAL_NO_THREADS |       \
	 PKBOX_SEAL_NO_REMAP | PKBOX_SEAL_NO_EXIT | PKBOX_SEAL_KEEP_STDIO)

/* One seal, from its first check to its report. */
struct seal_run {
	unsigned flags;
	uint64_t tok;
	void *ctx; /* the libseccomp filter, until loaded */
	struct pkbox_finding sites[PKBOX_MAX_SITES];
	int nsites;
	int status_fd;
	int nkeys;
	unsigned sealed_maps;
	int mseal_rc, proc_rc, mdwe_rc;
};

static int flags_check(unsigned flags)
{
	if (flags & ~SEAL_FLAGS)
		return pkbox__err(-EINVAL, "pkbox_seal: unknown flags %#x", flags);
	if ((flags & PKBOX_SEAL_NO_EXIT) && !(flags & PKBOX_SEAL_NO_THREADS))
		return pkbox__err(-EINVAL, "pkbox_seal: NO_EXIT needs NO_THREADS (a thread that ends makes an exit call)");
	if ((flags & (PKBOX_SEAL_NO_SIGRETURN | PKBOX_SEAL_NO_THREADS)) && !(flags & PKBOX_SEAL_STOP_ON_REFUSAL))
		return pkbox__err(-EINVAL, "pkbox_seal: NO_SIGRETURN and NO_THREADS need STOP_ON_REFUSAL");
	return 0;
}

/* Can the process be sealed now?  Under the library lock. */
static int state_check(void)
{
	if (pkbox__gc.seal_failed)
		return pkbox__err(-EPERM, "pkbox_seal: an earlier seal did not verify; no compartment runs in this process");
	if (pkbox__st->sealed)
		return pkbox__err(-EALREADY, "pkbox_seal: the process is sealed already");
	if (pkbox__calls_active())
		return pkbox__err(-EBUSY, "pkbox_seal: a thread is inside a compartment");
	return 0;
}

/* 1. everything that can fail, before anything changes: the code, the
 * process as the kernel sees it (threads and their rseq areas too:
 * seal_check.c), then the file policy, which also refuses while threads the
 * library knows are running */
static int checks(struct seal_run *s, const struct pkbox_seal_opts *opts)
{
	char lazy[256];
	int rc;

	pkbox__lazy_find(lazy);
	if (lazy[0])
		return pkbox__err(-ENOTSUP,
				  "pkbox_seal: %s is bound lazily (the dynamic loader's lazy path runs XRSTOR); %s",
				  lazy, pkbox__lazy_hint(lazy));
	rc = pkbox__handlers_host();
	if (!rc)
		rc = pkbox__code_inspect(s->sites, &s->nsites);
	if (!rc)
		rc = pkbox__seal_check(&s->status_fd);
	if (!rc)
		rc = pkbox__files_prepare(opts);
	return rc;
}

/* Still before any change: the token, the filter, the SIGSYS handler. */
static int prepare(struct seal_run *s)
{
	int rc;

	while (!s->tok || s->tok == (uint64_t)-1)
		if (getrandom(&s->tok, sizeof(s->tok), 0) != sizeof(s->tok))
			return pkbox__err(-errno, "pkbox_seal: getrandom failed: %m");
	rc = pkbox__filter_make(&s->ctx, s->tok, s->flags);
	if (!rc)
		rc = pkbox__sigsys_install();
	return rc;
}

/* the handlers' choices: in the read-only configuration, where a
 * compartment cannot change them */
static void gc_choices(unsigned flags)
{
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ | PROT_WRITE);
	pkbox__gc.stop_on_refusal = !!(flags & PKBOX_SEAL_STOP_ON_REFUSAL);
	pkbox__gc.strict = !!(flags & PKBOX_SEAL_NO_SIGRETURN);
	pkbox__gc.no_exit = !!(flags & PKBOX_SEAL_NO_EXIT);
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ);
}

/* 2. changes */
static int changes(struct seal_run *s)
{
	int rc = pkbox__thread_rseq_off();

	if (!rc)
		rc = pkbox__code_disable(s->sites, s->nsites);
	if (rc)
		return rc;
	s->nkeys = pkbox__be->keys_preallocate();
	pkbox__st->token = s->tok;
	s->tok = 0;
	gc_choices(s->flags);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* (mseal first: it reads /proc/self/maps, which the file policy closes) */
	s->mseal_rc = pkbox__mseal_code(&s->sealed_maps);
	s->proc_rc = pkbox__files_apply();
	s->mdwe_rc = prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) ? -errno : 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return pkbox__err(-errno, "pkbox_seal: PR_SET_NO_NEW_PRIVS failed: %m");
	return 0;
}

/* 3. the filters, and the kernel's word that they are loaded (two: the
 * raw one and the libseccomp one) */
static int load(struct seal_run *s)
{
	void *ctx = s->ctx;
	int rc;

	s->ctx = NULL;
	rc = pkbox__filter_load(ctx, pkbox__st->token);
	if (rc)
		return rc;
	rc = pkbox__seal_verify(s->status_fd, 2);
	if (rc)
		pkbox__seal_fail();
	return rc;
}

static void report(const struct seal_run *s)
{
	pkbox__msg(PKBOX_INFO,
		   "sealed: %d system PKRU sites disabled, %d keys reserved, /proc %s, MDWE %s, mseal %s (%u mappings)",
		   s->nsites, s->nkeys, s->proc_rc ? "open" : "closed", s->mdwe_rc ? "unavailable" : "on",
		   s->mseal_rc ? "unavailable" : "on", s->sealed_maps);
	if (s->proc_rc && s->proc_rc != -ECANCELED)
		pkbox__msg(PKBOX_WARN,
			   "sealed without Landlock (%s): /proc/self/mem and the files of mapped code stay open to "
			   "compartments",
			   pkbox__strerror(-s->proc_rc));
}

int pkbox__seal(const struct pkbox_seal_opts *opts)
{
	struct seal_run s = { .flags = opts->flags, .status_fd = -1 };
	int rc = flags_check(s.flags);

	if (rc)
		return rc;
#if !HAVE_SECCOMP
	return pkbox__err(-ENOTSUP, "pkbox_seal: built without libseccomp");
#else
	pkbox__lock();
	rc = state_check();
	if (!rc)
		rc = checks(&s, opts);
	if (!rc)
		rc = prepare(&s);
	if (!rc)
		rc = changes(&s);
	if (!rc)
		rc = load(&s);
	if (!rc) {
		pkbox__st->sealed = true;
		report(&s);
	}
	pkbox__filter_free(s.ctx);
	pkbox__files_drop();
	if (s.status_fd >= 0)
		close(s.status_fd);
	pkbox__unlock();
	return rc;
#endif
}

int pkbox__sealed(void)
{
	return pkbox__st->sealed;
}
