/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal.c - sealing the process: code inspection and the syscall policy.
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

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/rseq.h>
#include <sched.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/sockios.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#if HAVE_SECCOMP
#include <seccomp.h>
#endif
#include "internal.h"
#include "landlock.h"
#include "seal_check.h"

#ifndef SYS_mseal
#define SYS_mseal 462
#endif
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

/* ---------------------------------------------------------------- token syscalls */

PKBOX_EXPORT void pkbox_exit(int status)
{
	/* with the token (PKBOX_SEAL_NO_EXIT); the plain call if that failed */
	for (;;) {
		pkbox__sys(SYS_exit_group, 1, status, 0, 0, 0, 0);
		syscall(SYS_exit_group, status);
	}
}

long pkbox__sys(long nr, long nargs, long a0, long a1, long a2, long a3, long a4)
{
	long a[7] = { nr, a0, a1, a2, a3, a4, nargs };
	long r;

	if (!pkbox__ready()) /* setting up: the library's memory is not there yet */
		return syscall(nr, a0, a1, a2, a3, a4);
	r = pkbox__tsys(a);

	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Gives a range of the pool back: contents dropped, no access, key 0. */
void pkbox__reset_range(uintptr_t base, size_t len)
{
	pkbox__madvise(base, len, MADV_DONTNEED);
	if (pkbox__gc.backend == BACKEND_PKU)
		pkbox__pkey_mprotect(base, len, PROT_NONE, 0);
	else
		pkbox__mprotect((void *)base, len, PROT_NONE);
}

/* ---------------------------------------------------------------- refusals */

static _Atomic unsigned long host_refusals; /* by host code: counted in its own memory */

void pkbox__refusal_record(struct pkbox_dom *d, long nr_arch, uintptr_t ip)
{
	struct pkbox_refusal *r = &pkbox__st->last_refusal;
	long nr = nr_arch & 0xffffffffL;
	unsigned arch = (unsigned)((unsigned long)nr_arch >> 32);

	memset(r, 0, sizeof(*r));
	r->sz = sizeof(*r);
	snprintf(r->domain, sizeof(r->domain), "%s", d->name);
	r->nr = nr;
	r->arch = arch ? arch : AUDIT_ARCH_X86_64;
	r->ip = ip;
	pkbox__st->refusals++;
	pkbox__msg(PKBOX_WARN, "refused syscall %ld%s in domain %s", nr,
		   r->arch == AUDIT_ARCH_X86_64 ? ((nr & 0x40000000) ? " (x32)" : "") : " (i386)", d->name);
}

PKBOX_EXPORT unsigned long pkbox_refusal_count(void)
{
	unsigned long n;

	if (pkbox__ensure_init())
		return 0;
	pkbox__lock();
	n = pkbox__st->refusals + atomic_load(&host_refusals);
	pkbox__unlock();
	return n;
}

PKBOX_EXPORT int pkbox_last_refusal(struct pkbox_refusal *out)
{
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	if (!out || out->sz < offsetof(struct pkbox_refusal, ip))
		return pkbox__err(-EINVAL, "pkbox_last_refusal: out is NULL or out->sz too small");
	pkbox__lock();
	if (!pkbox__st->last_refusal.sz) {
		rc = pkbox__err(-ENODATA, "pkbox_last_refusal: no compartment has been refused a syscall");
	} else {
		size_t n = out->sz < sizeof(*out) ? out->sz : sizeof(*out);

		memcpy((char *)out + sizeof(size_t), (char *)&pkbox__st->last_refusal + sizeof(size_t),
		       n - sizeof(size_t));
	}
	pkbox__unlock();
	return rc;
}

PKBOX_EXPORT int pkbox_sealed(void)
{
	int s;

	if (pkbox__ensure_init())
		return 0;
	pkbox__lock();
	s = pkbox__st->sealed;
	pkbox__unlock();
	return s;
}

static void sigsys_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	int fti;
	/* first: off a compartment's TLS copy (see fault.c) */
	uint64_t dom_fs = pkbox__fs_enter(&fti);
	int saved;

	(void)sig;
	if (fti == -1) {
		/* with a TLS copy, on a thread the library never saw: one the
		 * compartment made itself */
		g[REG_RAX] = -EPERM;
		if (pkbox__gc.strict) {
			g[REG_RIP] = (greg_t)pkbox__thread_die;
			pkbox__jump_to((const long long *)g);
		}
		pkbox__fs_leave(dom_fs);
		return;
	}
	saved = errno;
	if (si->si_code != 1 /* SYS_SECCOMP */) {
		errno = saved;
		pkbox__fs_leave(dom_fs);
		return; /* a SIGSYS someone sent: ignored */
	}
	long nr = si->si_syscall;
	unsigned arch = si->si_arch;

	g[REG_RAX] = -EPERM;
	if (pkbox__in_compartment(uc)) {
		int ti = pkbox__self_ti();

		if (ti >= 0 && pkbox__gc.stop_on_refusal) {
			/* a violation: leave the compartment as a fault */
			pkbox__to_fault_exit(uc, ti, (uint64_t)nr, SIGSYS, si->si_code, -1, 0,
					     (uint64_t)(uintptr_t)si->si_call_addr);
			errno = saved;
			if (pkbox__gc.strict)
				pkbox__jump_to((const long long *)g);
			return; /* the gate's exit puts the host's TLS back */
		} else if (ti >= 0) {
			g[REG_RAX] = (greg_t)(((uint64_t)arch << 32) | (uint32_t)nr);
			g[REG_RCX] = g[REG_RIP];
			g[REG_RIP] = (greg_t)pkbox__sys_refused;
		}
		/* a thread the compartment made itself: just -EPERM */
		if (ti < 0 && pkbox__gc.strict) {
			g[REG_RIP] = (greg_t)pkbox__thread_die;
			pkbox__jump_to((const long long *)g);
		}
	} else {
		atomic_fetch_add(&host_refusals, 1);
		if (pkbox__gc.strict) {
			/* no way back without rt_sigreturn: the host broke its promise */
			static const char m[] = "libpkeysbox: the host made a syscall the strict seal refuses "
						"(PKBOX_SEAL_NO_SIGRETURN, _NO_THREADS, _NO_EXIT); exiting\n";
			syscall(SYS_write, 2, m, sizeof(m) - 1);
			pkbox_exit(86);
		}
	}
	errno = saved;
	pkbox__fs_leave(dom_fs);
}

int pkbox__sigsys_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		return pkbox__err(-errno, "sigaction(SIGSYS) failed: %m");
	return 0;
}

void *pkbox__sigsys_handler(void)
{
	return (void *)sigsys_handler;
}

/* ---------------------------------------------------------------- inspection */

struct xmap {
	uintptr_t lo, hi;
	char path[256];
	bool readable;
};

#define MAX_XMAPS 512

static int read_xmaps(struct xmap *m, int max, int *count)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!f)
		return pkbox__err(-errno, "cannot read /proc/self/maps: %m");
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perm, path) < 3)
			continue;
		if (perm[2] != 'x')
			continue;
		if (n == max) {
			fclose(f);
			return pkbox__err(-E2BIG, "more than %d executable mappings", max);
		}
		m[n].lo = lo;
		m[n].hi = hi;
		m[n].readable = perm[0] == 'r';
		snprintf(m[n].path, sizeof(m[n].path), "%s", path);
		n++;
	}
	fclose(f);
	*count = n;
	return 0;
}

static bool is_gate_site(uintptr_t a)
{
	extern const char pkbox__wrpkru_enter[], pkbox__wrpkru_exit[], pkbox__wrpkru_die[];

	return a == (uintptr_t)pkbox__wrpkru_enter || a == (uintptr_t)pkbox__wrpkru_exit ||
	       a == (uintptr_t)pkbox__wrpkru_die;
}

static bool path_is(const char *path, const char *base)
{
	const char *s = strrchr(path, '/');

	s = s ? s + 1 : path;
	return !strncmp(s, base, strlen(base));
}

/* Writes code bytes the way a debugger does (no mapping is made writable);
 * falls back to mprotect before the policy exists. */
int pkbox__poke(uintptr_t a, const void *bv, size_t n)
{
	const uint8_t *b = bv;
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t w = pwrite(fd, b, n, (off_t)a);

		close(fd);
		if (w == (ssize_t)n)
			return 0;
	}
	uintptr_t pg = a & ~(PAGE - 1);
	size_t len = ((a + n + PAGE - 1) & ~(PAGE - 1)) - pg;
	if (mprotect((void *)pg, len, PROT_READ | PROT_WRITE | PROT_EXEC))
		return -errno;
	memcpy((void *)a, b, n);
	mprotect((void *)pg, len, PROT_READ | PROT_EXEC);
	return 0;
}

/* Lazy binding would run the dynamic loader's XSAVE trampoline (an XRSTOR)
 * on a later first call: refused, since that XRSTOR is disabled below. */
static int lazy_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	char *bad = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
			continue;
		const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
		uintptr_t pltgot = 0;
		bool jmprel = false;

		for (; d->d_tag != DT_NULL; d++) {
			if (d->d_tag == DT_PLTGOT)
				pltgot = d->d_un.d_ptr;
			if (d->d_tag == DT_JMPREL)
				jmprel = true;
		}
		if (!pltgot || !jmprel)
			continue;
		if (pltgot < info->dlpi_addr)
			pltgot += info->dlpi_addr;
		const uintptr_t *got = (const uintptr_t *)pltgot;
		if (got[2] && !bad[0])
			snprintf(bad, 256, "%s", info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name : "the program");
	}
	return 0;
}

/* Scans every executable mapping once.  The two known system sites
 * (glibc's pkey_set, the dynamic loader's lazy-binding XRSTOR) are returned
 * in sites[] to be disabled later; anything else but the gate's own
 * WRPKRUs refuses the seal. */
#define MAX_SITES 16

static int inspect_process(struct pkbox_finding *sites, int *nsites)
{
	static struct xmap m[MAX_XMAPS];
	struct pkbox_finding f[64];
	int n, rc;

	rc = read_xmaps(m, MAX_XMAPS, &n);
	if (rc)
		return rc;
	*nsites = 0;
	for (int i = 0; i < n; i++) {
		if (!m[i].readable) {
			if (!strcmp(m[i].path, "[vsyscall]"))
				continue; /* the kernel's fixed page: emulated, never executed */
			return pkbox__err(-EACCES, "cannot inspect execute-only mapping %#lx-%#lx %s",
					  (unsigned long)m[i].lo, (unsigned long)m[i].hi, m[i].path);
		}
		bool adj = i > 0 && m[i - 1].hi == m[i].lo && m[i - 1].readable;
		const uint8_t *prev = adj ? (const uint8_t *)(m[i].lo - 2) : NULL;
		size_t nf = pkbox__scan(prev, adj ? 2 : 0, (const uint8_t *)m[i].lo, m[i].hi - m[i].lo, m[i].lo, f, 64);

		if (nf > 64)
			return pkbox__err(-EPERM, "%s contains %zu PKRU-writing sequences", m[i].path, nf);
		for (size_t j = 0; j < nf; j++) {
			if (is_gate_site(f[j].addr))
				continue;
			bool known = (path_is(m[i].path, "libc.so") && f[j].kind == PKBOX_INSN_WRPKRU) ||
				     (path_is(m[i].path, "ld-linux") && f[j].kind == PKBOX_INSN_XRSTOR);
			if (!known) {
				const struct xmap *w = f[j].addr < m[i].lo ? &m[i - 1] : &m[i];

				return pkbox__err(-EPERM, "%s at %#lx (%s+%#lx%s) can write PKRU; refusing to seal",
						  pkbox__insn_name(f[j].kind), (unsigned long)f[j].addr,
						  w->path[0] ? w->path : "anonymous", (unsigned long)(f[j].addr - w->lo),
						  w != &m[i] ? ", running into the next mapping" : "");
			}
			if (*nsites == MAX_SITES)
				return pkbox__err(-EPERM, "more than %d system PKRU-writing sites", MAX_SITES);
			sites[(*nsites)++] = f[j];
		}
	}
	return 0;
}

/* Overwrites each site with UD2. */
static int disable_sites(const struct pkbox_finding *sites, int n)
{
	static const uint8_t ud2[3] = { 0x0f, 0x0b, 0x90 };

	for (int i = 0; i < n; i++) {
		int e = pkbox__poke(sites[i].addr, ud2, 3);

		if (e)
			return pkbox__err(e, "cannot disable %s at %#lx: %s", pkbox__insn_name(sites[i].kind),
					  (unsigned long)sites[i].addr, strerror(-e));
	}
	return 0;
}

/* ---------------------------------------------------------------- mseal */

struct relro_ctx {
	unsigned *count;
	int rc;
};

static int relro_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct relro_ctx *c = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_GNU_RELRO)
			continue;
		uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(PAGE - 1);
		uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t)(PAGE - 1);

		if (hi <= lo)
			continue;
		if (syscall(SYS_mseal, lo, hi - lo, 0UL)) {
			c->rc = -errno;
			return 1;
		}
		(*c->count)++;
	}
	return 0;
}

static int seal_code(unsigned *count)
{
	static struct xmap m[MAX_XMAPS];
	int n, rc = read_xmaps(m, MAX_XMAPS, &n);

	*count = 0;
	if (rc)
		return rc;
	for (int i = 0; i < n; i++) {
		if (!strcmp(m[i].path, "[vsyscall]") || !strcmp(m[i].path, "[vdso]"))
			continue;
		if (syscall(SYS_mseal, m[i].lo, m[i].hi - m[i].lo, 0UL))
			return -errno;
		(*count)++;
	}
	/* and every object's RELRO (its GOT among it), plugins' aside: their
	 * relro is their domain's memory, which the library re-protects */
	struct relro_ctx c = { count, 0 };
	dl_iterate_phdr(relro_cb, &c);
	return c.rc;
}

/* ---------------------------------------------------------------- the filter */

#if HAVE_SECCOMP
static int add_rules(scmp_filter_ctx ctx, int nr, const struct pkbox_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scmp_arg_cmp c[4];

		for (int j = 0; j < r[i].n; j++) {
			const struct pkbox_cmp *x = &r[i].c[j];

			c[j].arg = x->arg;
			c[j].datum_b = 0;
			switch (x->op) {
			case PKBOX_CMP_MASKED_EQ:
				c[j].op = SCMP_CMP_MASKED_EQ;
				c[j].datum_a = x->mask;
				c[j].datum_b = x->datum;
				break;
			case PKBOX_CMP_GT: c[j].op = SCMP_CMP_GT; c[j].datum_a = x->datum; break;
			case PKBOX_CMP_LT: c[j].op = SCMP_CMP_LT; c[j].datum_a = x->datum; break;
			case PKBOX_CMP_NE: c[j].op = SCMP_CMP_NE; c[j].datum_a = x->datum; break;
			default: c[j].op = SCMP_CMP_EQ; c[j].datum_a = x->datum; break;
			}
		}
		int rc = seccomp_rule_add_array(ctx, SCMP_ACT_TRAP, nr, (unsigned)r[i].n, c);
		if (rc)
			return pkbox__err(rc, "seccomp rule for syscall %d: %s", nr, strerror(-rc));
	}
	return 0;
}

#define RULE(nr, ...)                                                                                              \
	do {                                                                                                       \
		int _rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, (nr), __VA_ARGS__);                                 \
		if (_rc) {                                                                                         \
			rc = pkbox__err(_rc, "seccomp rule for syscall %d: %s", (int)(nr), strerror(-_rc));        \
			goto out;                                                                                  \
		}                                                                                                  \
	} while (0)

/* An argument the kernel takes as an int or unsigned int (prctl's option,
 * fcntl's and ioctl's command, a descriptor): it ignores the upper 32 bits
 * of the register, so a rule on it compares the lower 32 bits only, or
 * (1 << 32) | PR_SET_SECCOMP would pass a comparison with PR_SET_SECCOMP. */
#define EQ32(i, v) SCMP_A##i(SCMP_CMP_MASKED_EQ, 0xffffffffUL, (v))

/* Range-checked syscalls: number, address argument, length argument, token
 * argument (its position is the number of arguments the call takes). */
static const struct {
	int nr, aarg, larg, targ;
} ranged[] = {
	{ SYS_mprotect, 0, 1, 3 },
	{ SYS_munmap, 0, 1, 2 },
	{ SYS_madvise, 0, 1, 3 },
	{ SYS_mseal, 0, 1, 3 },
	{ SYS_mmap, 0, 1, -1 },
};

static int build_filter(scmp_filter_ctx ctx, uint64_t tok, unsigned flags)
{
	static struct pkbox_rule rules[128];
	uint64_t lo = pkbox__gc.pool_lo;
	int rc = 0;

	for (size_t i = 0; i < sizeof(ranged) / sizeof(ranged[0]); i++) {
		struct pkbox_cmp extra[2];
		int ne = 0;

		if (ranged[i].targ >= 0)
			extra[ne++] = (struct pkbox_cmp){ (uint8_t)ranged[i].targ, PKBOX_CMP_NE, ~0ULL, tok };
		if (ranged[i].nr == SYS_mmap)
			extra[ne++] = (struct pkbox_cmp){ 3, PKBOX_CMP_MASKED_EQ, MAP_FIXED, MAP_FIXED };
		size_t n = pkbox__range_rules(lo, PKBOX_POOL_BITS, ranged[i].aarg, ranged[i].larg, extra, ne, rules,
					      128);
		if (n > 128)
			return pkbox__err(-E2BIG, "too many range rules");
		if (ranged[i].nr == SYS_mprotect) {
			/* rules[0] is "starts inside": split it so that exactly
			 * mprotect(meta, meta_len, RW) passes here (the gate's
			 * exit; the second filter pins it to that instruction) */
			struct pkbox_rule inside[64];
			size_t m = 0;

			for (int k = 12; k < PKBOX_POOL_BITS; k++) {
				inside[m].n = 0;
				inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 0, PKBOX_CMP_MASKED_EQ,
										 ~((1ULL << (k + 1)) - 1) | (1ULL << k),
										 lo + (1ULL << k) };
				inside[m].c[inside[m].n++] = extra[0];
				m++;
			}
			inside[m].n = 0;
			inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 0, PKBOX_CMP_EQ, ~0ULL, lo };
			inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 1, PKBOX_CMP_NE, ~0ULL, pkbox__gc.meta_len };
			inside[m].c[inside[m].n++] = extra[0];
			m++;
			inside[m].n = 0;
			inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 0, PKBOX_CMP_EQ, ~0ULL, lo };
			inside[m].c[inside[m].n++] = (struct pkbox_cmp){ 2, PKBOX_CMP_NE, ~0ULL, PROT_READ | PROT_WRITE };
			inside[m].c[inside[m].n++] = extra[0];
			m++;
			if ((rc = add_rules(ctx, SYS_mprotect, inside, m)))
				return rc;
			if ((rc = add_rules(ctx, SYS_mprotect, rules + 1, n - 1)))
				return rc;
		} else if ((rc = add_rules(ctx, ranged[i].nr, rules, n))) {
			return rc;
		}
	}
	if (flags & PKBOX_SEAL_NO_REMAP) {
		/* everywhere, not only the pool: without the token, or (mprotect)
		 * other than the gate exit's exact call (pinned by the raw filter) */
		uint64_t mlo = pkbox__gc.meta_lo, mlen = pkbox__gc.meta_len, rw = PROT_READ | PROT_WRITE;

		RULE(SYS_mprotect, 2, SCMP_A3(SCMP_CMP_NE, tok), SCMP_A0(SCMP_CMP_NE, mlo));
		RULE(SYS_mprotect, 2, SCMP_A3(SCMP_CMP_NE, tok), SCMP_A1(SCMP_CMP_NE, mlen));
		RULE(SYS_mprotect, 2, SCMP_A3(SCMP_CMP_NE, tok), SCMP_A2(SCMP_CMP_NE, rw));
		RULE(SYS_mseal, 1, SCMP_A3(SCMP_CMP_NE, tok));
#ifndef __SANITIZE_ADDRESS__
		/* (AddressSanitizer's allocator maps, unmaps and advises with
		 * MAP_FIXED in its own region all the time: left out there) */
		RULE(SYS_munmap, 1, SCMP_A2(SCMP_CMP_NE, tok));
		RULE(SYS_madvise, 1, SCMP_A3(SCMP_CMP_NE, tok));
		RULE(SYS_mmap, 1, SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_FIXED, MAP_FIXED));
#endif
	}
	/* no new executable memory, no re-keying, no key changes.  Executable
	 * mappings come from the code descriptor only (loader.c: a sealed,
	 * inspected image), never writable, never over something else */
	uint64_t cfd = (uint64_t)pkbox__gc.code_fd - 1;
	RULE(SYS_mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A4(SCMP_CMP_NE, cfd));
	RULE(SYS_mmap, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE));
	RULE(SYS_mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
	     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_FIXED, MAP_FIXED));
	RULE(SYS_mmap, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC),
	     SCMP_A3(SCMP_CMP_MASKED_EQ, MAP_FIXED_NOREPLACE, MAP_FIXED_NOREPLACE));
	/* the code descriptor stays what the library made it */
	RULE(SYS_close, 2, EQ32(0, cfd), SCMP_A1(SCMP_CMP_NE, tok));
	RULE(SYS_dup2, 2, EQ32(1, cfd), SCMP_A2(SCMP_CMP_NE, tok));
	RULE(SYS_dup3, 2, EQ32(1, cfd), SCMP_A3(SCMP_CMP_NE, tok));
	RULE(SYS_close_range, 1, SCMP_A0(SCMP_CMP_GT, 0xffffffffUL));
	RULE(SYS_close_range, 1, SCMP_A1(SCMP_CMP_GT, 0xffffffffUL));
	RULE(SYS_close_range, 2, SCMP_A0(SCMP_CMP_LE, cfd), SCMP_A1(SCMP_CMP_GE, cfd));
	RULE(SYS_mprotect, 2, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC), SCMP_A3(SCMP_CMP_NE, tok));
	RULE(SYS_pkey_mprotect, 1, SCMP_A4(SCMP_CMP_NE, tok));
	RULE(SYS_pkey_alloc, 0);
	RULE(SYS_pkey_free, 0);
	RULE(SYS_mremap, 0);
	RULE(SYS_remap_file_pages, 0);
	RULE(SYS_shmat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, 0100000 /* SHM_EXEC */, 0100000));
	RULE(SYS_shmat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, 040000 /* SHM_REMAP */, 040000));
	/* foreign access, policy tampering, process tricks */
	RULE(SYS_ptrace, 0);
	/* files by handle: no path for the file policy (landlock.c) to check;
	 * and where Landlock has no TRUNCATE right (ABI 3, Linux 6.2),
	 * truncate(2) and O_TRUNC with O_RDONLY, which truncates a file that
	 * is not opened for writing (openat2's flags are out of sight) */
	RULE(SYS_open_by_handle_at, 0);
	RULE(SYS_name_to_handle_at, 0);
	if (pkbox__landlock_abi() < 3) {
		RULE(SYS_truncate, 0);
		RULE(SYS_open, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_TRUNC, O_TRUNC));
		RULE(SYS_openat, 1, SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_TRUNC, O_TRUNC));
		RULE(SYS_openat2, 0);
	}
	RULE(SYS_process_vm_readv, 0);
	RULE(SYS_process_vm_writev, 0);
	RULE(SYS_seccomp, 0);
	RULE(SYS_personality, 1, SCMP_A0(SCMP_CMP_NE, 0xffffffffUL));
	RULE(SYS_userfaultfd, 0);
	RULE(SYS_io_uring_setup, 0);
	RULE(SYS_io_uring_enter, 0);
	RULE(SYS_io_uring_register, 0);
	RULE(SYS_execve, 0);
	RULE(SYS_execveat, 0);
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_SECCOMP));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_MM));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_DUMPABLE));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_PTRACER));
	RULE(SYS_prctl, 1, EQ32(0, PR_SET_MDWE));
	/* TIOCSTI pushes input into the terminal: a shell command, or ^C for
	 * the process */
	RULE(SYS_ioctl, 1, EQ32(1, TIOCSTI));
	if (flags & PKBOX_SEAL_NO_EXIT) {
		/* nothing ends, stops or signals the process but the library's
		 * own calls (pkbox__tsys puts the token in r9, argument 6) */
		static const int nr[] = { SYS_exit_group, SYS_exit, SYS_kill, SYS_tkill, SYS_tgkill,
					  SYS_rt_sigqueueinfo, SYS_rt_tgsigqueueinfo, SYS_pidfd_send_signal,
					  SYS_alarm, SYS_setitimer, SYS_timer_create, SYS_timer_settime,
					  SYS_timer_delete, SYS_setrlimit,
					  SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_mq_notify };
		for (size_t i = 0; i < sizeof(nr) / sizeof(nr[0]); i++)
			RULE(nr[i], 1, SCMP_A5(SCMP_CMP_NE, tok));
		RULE(SYS_prlimit64, 2, SCMP_A2(SCMP_CMP_NE, 0), SCMP_A5(SCMP_CMP_NE, tok));
		/* a fault while SIGSEGV (SIGSYS, ...) is blocked: the kernel
		 * puts the default action back and the process ends */
		RULE(SYS_rt_sigprocmask, 3, SCMP_A0(SCMP_CMP_NE, SIG_UNBLOCK), SCMP_A1(SCMP_CMP_NE, 0),
		     SCMP_A5(SCMP_CMP_NE, tok));
		/* (the temporary masks of ppoll, pselect6 and epoll_pwait last
		 * while the thread sleeps in the kernel, where it cannot fault) */
		/* SIGIO to an owner, SIGKILL when the parent goes */
		RULE(SYS_fcntl, 1, EQ32(1, F_SETOWN));
		RULE(SYS_fcntl, 1, EQ32(1, F_SETOWN_EX));
		RULE(SYS_ioctl, 1, EQ32(1, FIOSETOWN));
		RULE(SYS_ioctl, 1, EQ32(1, SIOCSPGRP));
		RULE(SYS_prctl, 1, EQ32(0, PR_SET_PDEATHSIG));
		/* a process stopped by its terminal (SIGTTOU, SIGTTIN): another
		 * foreground group, TOSTOP, a process group or session of its own */
		static const unsigned long tty[] = { TIOCSPGRP, TCSETS, TCSETSW, TCSETSF, TCSETA, TCSETAW, TCSETAF };
		for (size_t i = 0; i < sizeof(tty) / sizeof(tty[0]); i++)
			RULE(SYS_ioctl, 1, EQ32(1, tty[i]));
		RULE(SYS_setpgid, 0);
		RULE(SYS_setsid, 0);
	}
	if (flags & PKBOX_SEAL_KEEP_STDIO) {
		for (uint64_t fd = 0; fd <= 2; fd++) {
			RULE(SYS_close, 1, EQ32(0, fd));
			RULE(SYS_close_range, 1, EQ32(0, fd));
			RULE(SYS_dup2, 1, EQ32(1, fd));
			RULE(SYS_dup3, 1, EQ32(1, fd));
			RULE(SYS_fcntl, 2, EQ32(0, fd), EQ32(1, F_SETFL));
			RULE(SYS_ioctl, 2, EQ32(0, fd), EQ32(1, FIONBIO));
			RULE(SYS_shutdown, 1, EQ32(0, fd));
		}
	}
	if (flags & PKBOX_SEAL_NO_SIGRETURN)
		RULE(SYS_rt_sigreturn, 0);
	if (flags & PKBOX_SEAL_NO_THREADS) {
		/* no new threads or processes: a child (with or without
		 * CLONE_VM) outlives the call, runs outside the gate's reach and
		 * may spin or wait for ever (A18) */
		RULE(SYS_clone, 1, SCMP_A5(SCMP_CMP_NE, tok)); /* (the seal's own probe: seal_check.c) */
		RULE(SYS_clone3, 0);
		RULE(SYS_fork, 0);
		RULE(SYS_vfork, 0);
	}
	/* rseq: an area names code the kernel sends the thread to.  No thread
	 * has one once sealed (rseq_check), so none of glibc's new threads
	 * asks for one (it would, with every signal blocked, where a trap
	 * kills the process). */
	RULE(SYS_rseq, 0);
	RULE(SYS_sigaltstack, 2, SCMP_A0(SCMP_CMP_NE, 0), SCMP_A2(SCMP_CMP_NE, tok));
	/* No new signal handlers at all: a handler a compartment installed
	 * would run its code with the kernel's default PKRU (key 0 writable,
	 * and the library's retry for host threads born before its keys would
	 * open the rest).  The handlers in place were checked (handlers_check). */
	RULE(SYS_rt_sigaction, 1, SCMP_A1(SCMP_CMP_NE, 0));
out:
	return rc;
}
#endif

/* The second filter: what libseccomp cannot say (the instruction pointer,
 * x32 numbers).  mprotect of the library's state to RW without the token
 * is allowed from the gate's exit instruction only. */
static int raw_filter(uint64_t tok)
{
	extern const char pkbox__mp_exit_syscall[];
	uint64_t ip = (uint64_t)(uintptr_t)pkbox__mp_exit_syscall;
	uint64_t meta = pkbox__gc.meta_lo;
#define LD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(v, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), (t), (f))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
	struct sock_filter f[] = {
		/* 0 */ LD(offsetof(struct seccomp_data, arch)),
		/* 1 */ JEQ(AUDIT_ARCH_X86_64, 0, 18), /* other arches: the first filter refuses them */
		/* 2 */ LD(offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 14, 0), /* x32 */
		/* 4 */ JEQ(SYS_mprotect, 0, 15),
		/* 5 */ LD(offsetof(struct seccomp_data, args[0])),
		/* 6 */ JEQ((uint32_t)meta, 0, 13),
		/* 7 */ LD(offsetof(struct seccomp_data, args[0]) + 4),
		/* 8 */ JEQ((uint32_t)(meta >> 32), 0, 11),
		/* 9 */ LD(offsetof(struct seccomp_data, args[3])),
		/* 10 */ JEQ((uint32_t)tok, 0, 2),
		/* 11 */ LD(offsetof(struct seccomp_data, args[3]) + 4),
		/* 12 */ JEQ((uint32_t)(tok >> 32), 7, 0),
		/* 13 */ LD(offsetof(struct seccomp_data, instruction_pointer)),
		/* 14 */ JEQ((uint32_t)ip, 0, 3),
		/* 15 */ LD(offsetof(struct seccomp_data, instruction_pointer) + 4),
		/* 16 */ JEQ((uint32_t)(ip >> 32), 2, 0),
		/* 17 */ RET(SECCOMP_RET_TRAP), /* ip mismatch */
		/* 18 */ RET(SECCOMP_RET_TRAP), /* x32 */
		/* 19 */ RET(SECCOMP_RET_ALLOW),
		/* 20 */ RET(SECCOMP_RET_ALLOW),
	};
#undef LD
#undef JEQ
#undef RET
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog))
		return -errno;
	return 0;
}

/* ---------------------------------------------------------------- pkbox_seal */

static int preallocate_keys(void)
{
	int n = 0;

	for (;;) {
		long k = syscall(SYS_pkey_alloc, 0UL, 0UL);

		if (k < 0)
			break;
		pkbox__pkey_free((int)k);
		n++;
	}
	return n;
}

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* x86_64: the kernel's flag, not in glibc's headers */
#endif

/* Every signal handler in place must be host code: not in a plugin's code,
 * not in the pool, not in anonymous memory (a plugin's constructor runs in
 * its compartment before the seal, and could have installed one). */
static int handlers_check(void)
{
	for (int sig = 1; sig < NSIG; sig++) {
		struct sigaction sa;

		if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa))
			continue;
		uintptr_t h = (sa.sa_flags & SA_SIGINFO) ? (uintptr_t)sa.sa_sigaction : (uintptr_t)sa.sa_handler;
		uintptr_t r = (uintptr_t)sa.sa_restorer;

		for (int k = 0; k < 2; k++) {
			uintptr_t a = k ? r : h;
			Dl_info di;

			if (!k && (a == (uintptr_t)SIG_DFL || a == (uintptr_t)SIG_IGN))
				continue;
			if (k && !(sa.sa_flags & SA_RESTORER))
				continue;
			if ((a >= pkbox__gc.pool_lo && a < pkbox__gc.pool_hi) || !dladdr((void *)a, &di) ||
			    pkbox__plugin_code(a))
				return pkbox__err(-EPERM,
						  "pkbox_seal: the %s of signal %d (%#lx) is not the host's code",
						  k ? "restorer" : "handler", sig, (unsigned long)a);
		}
	}
	return 0;
}

PKBOX_EXPORT int pkbox_seal(const struct pkbox_seal_opts *opts)
{
	int rc = pkbox__ensure_init();
	unsigned sealed_maps = 0;
	struct pkbox_finding sites[MAX_SITES];
	int nsites = 0;
	char lazy[256] = "";
	int status_fd = -1;

	if (rc)
		return rc;
	if (opts && opts->sz < sizeof(size_t) + sizeof(unsigned))
		return pkbox__err(-EINVAL, "pkbox_seal: opts->sz is too small");
	unsigned flags = opts ? opts->flags : 0;
	if (flags & ~(PKBOX_SEAL_STOP_ON_REFUSAL | PKBOX_SEAL_KEEP_PROC | PKBOX_SEAL_NO_SIGRETURN | PKBOX_SEAL_NO_THREADS |
		      PKBOX_SEAL_NO_REMAP | PKBOX_SEAL_NO_EXIT | PKBOX_SEAL_KEEP_STDIO))
		return pkbox__err(-EINVAL, "pkbox_seal: unknown flags %#x", flags);
	if ((flags & PKBOX_SEAL_NO_EXIT) && !(flags & PKBOX_SEAL_NO_THREADS))
		return pkbox__err(-EINVAL, "pkbox_seal: NO_EXIT needs NO_THREADS (a thread that ends makes an exit call)");
	if ((flags & (PKBOX_SEAL_NO_SIGRETURN | PKBOX_SEAL_NO_THREADS)) && !(flags & PKBOX_SEAL_STOP_ON_REFUSAL))
		return pkbox__err(-EINVAL, "pkbox_seal: NO_SIGRETURN and NO_THREADS need STOP_ON_REFUSAL");
#if !HAVE_SECCOMP
	return pkbox__err(-ENOTSUP, "pkbox_seal: built without libseccomp");
#else
	pkbox__lock();
	if (pkbox__gc.seal_failed) {
		rc = pkbox__err(-EPERM, "pkbox_seal: an earlier seal did not verify; no compartment runs in this process");
		goto unlock;
	}
	if (pkbox__st->sealed) {
		rc = pkbox__err(-EALREADY, "pkbox_seal: the process is sealed already");
		goto unlock;
	}
	if (pkbox__st->active_calls) {
		rc = pkbox__err(-EBUSY, "pkbox_seal: a thread is inside a compartment");
		goto unlock;
	}
	/* 1. everything that can fail, before anything changes */
	dl_iterate_phdr(lazy_cb, lazy);
	if (lazy[0]) {
		rc = pkbox__err(-ENOTSUP,
				"pkbox_seal: %s is bound lazily (its first calls would run the dynamic loader's XRSTOR); "
				"link with -Wl,-z,now or run with LD_BIND_NOW=1",
				lazy);
		goto unlock;
	}
	rc = handlers_check();
	if (rc)
		goto unlock;
	rc = inspect_process(sites, &nsites);
	/* the process as the kernel sees it (threads and their rseq areas
	 * too): seal_check.c; then the file policy, which also refuses while
	 * threads the library knows are running */
	if (!rc)
		rc = pkbox__seal_check(&status_fd);
	if (!rc)
		rc = pkbox__files_prepare(opts);
	if (rc)
		goto unlock;
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx) {
		rc = pkbox__err(-ENOMEM, "pkbox_seal: seccomp_init failed");
		goto unlock;
	}
	uint64_t tok = 0;
	while (!tok || tok == (uint64_t)-1)
		if (getrandom(&tok, sizeof(tok), 0) != sizeof(tok)) {
			rc = pkbox__err(-errno, "pkbox_seal: getrandom failed: %m");
			seccomp_release(ctx);
			goto unlock;
		}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP)) ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1))) {
		rc = pkbox__err(rc, "pkbox_seal: seccomp_attr_set: %s", strerror(-rc));
		seccomp_release(ctx);
		goto unlock;
	}
	rc = pkbox__code_fd() < 0 ? -EMFILE : 0;
	if (!rc)
		rc = build_filter(ctx, tok, flags);
	if (rc) {
		seccomp_release(ctx);
		goto unlock;
	}
	rc = pkbox__sigsys_install();
	if (rc) {
		seccomp_release(ctx);
		goto unlock;
	}

	/* 2. changes */
	rc = pkbox__thread_rseq_off();
	if (rc) {
		seccomp_release(ctx);
		goto unlock;
	}
	rc = disable_sites(sites, nsites);
	if (rc) {
		seccomp_release(ctx);
		goto unlock;
	}
	int nkeys = pkbox__gc.backend == BACKEND_PKU ? preallocate_keys() : 0;
	pkbox__st->token = tok;
	tok = 0;
	/* the handlers' choices: in the read-only configuration, where a
	 * compartment cannot change them */
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ | PROT_WRITE);
	pkbox__gc.stop_on_refusal = !!(flags & PKBOX_SEAL_STOP_ON_REFUSAL);
	pkbox__gc.strict = !!(flags & PKBOX_SEAL_NO_SIGRETURN);
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* (mseal first: it reads /proc/self/maps, which the file policy closes) */
	int mseal_rc = seal_code(&sealed_maps);
	int proc_rc = pkbox__files_apply();
	int mdwe_rc = prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) ? -errno : 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		rc = pkbox__err(-errno, "pkbox_seal: PR_SET_NO_NEW_PRIVS failed: %m");
		seccomp_release(ctx);
		goto unlock;
	}
	/* the raw filter first: the libseccomp one refuses seccomp() itself */
	rc = raw_filter(pkbox__st->token);
	if (rc) {
		rc = pkbox__err(rc, "pkbox_seal: the instruction-pointer filter failed to load: %s", strerror(-rc));
		seccomp_release(ctx);
		goto unlock;
	}
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc) {
		rc = pkbox__err(rc, "pkbox_seal: seccomp_load failed: %s", strerror(-rc));
		goto unlock;
	}
	/* loaded: the kernel must say so (two filters: the raw one and this) */
	rc = pkbox__seal_verify(status_fd, 2);
	if (rc) {
		pkbox__seal_fail();
		goto unlock;
	}
	pkbox__st->sealed = true;
	pkbox__msg(PKBOX_INFO,
		   "sealed: %d system PKRU sites disabled, %d keys reserved, /proc %s, MDWE %s, mseal %s (%u mappings)",
		   nsites, nkeys, proc_rc ? "open" : "closed", mdwe_rc ? "unavailable" : "on",
		   mseal_rc ? "unavailable" : "on", sealed_maps);
	if (proc_rc && proc_rc != -ECANCELED)
		pkbox__msg(PKBOX_WARN,
			   "sealed without Landlock (%s): /proc/self/mem and the files of mapped code stay open to "
			   "compartments",
			   strerror(-proc_rc));
	rc = 0;
unlock:
	pkbox__files_drop();
	if (status_fd >= 0)
		close(status_fd);
	pkbox__unlock();
	return rc;
#endif
}
