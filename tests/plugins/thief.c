/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* thief.c - a plugin that tries the catalogue against pkbox-run's canary:
 * each entry point is one attack; all print what they could read. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <printf.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint8_t *canary(void)
{
	const char *v = getenv("PKBOX_CANARY");
	return v ? (uint8_t *)strtoul(v, NULL, 16) : NULL;
}

static void show(const uint8_t *b)
{
	for (int i = 0; i < 32; i++)
		printf("%02x", b[i]);
	printf("\n");
	fflush(stdout);
}

#define ENTRY(n) int n(int argc, char **argv); int n(int argc, char **argv)

ENTRY(pkbox_main) /* A1: read it */
{
	(void)argc; (void)argv;
	show(canary());
	return 0;
}

ENTRY(steal_write) /* A1: change it */
{
	(void)argc; (void)argv;
	canary()[0] ^= 1;
	return 0;
}

ENTRY(steal_mprotect) /* A3 */
{
	(void)argc; (void)argv;
	uintptr_t p = (uintptr_t)canary() & ~4095UL;
	syscall(SYS_mprotect, p, 4096, PROT_READ | PROT_WRITE);
	syscall(SYS_pkey_mprotect, p, 4096, PROT_READ | PROT_WRITE, 0);
	show(canary());
	return 0;
}

ENTRY(steal_remap) /* A4 */
{
	(void)argc; (void)argv;
	uintptr_t p = (uintptr_t)canary() & ~4095UL;
	syscall(SYS_munmap, p, 4096);
	show(canary());
	return 0;
}

ENTRY(steal_exec) /* A2 + A5: new code that writes PKRU */
{
	(void)argc; (void)argv;
	static const uint8_t code[] = { 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3 };
	void *x = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x != MAP_FAILED) {
		/* said before it runs: without pkeys its WRPKRU is a forbidden
		 * instruction too, as if the policy had stopped it */
		printf("steal_exec: executable memory MAPPED\n");
		fflush(stdout);
		memcpy(x, code, sizeof(code));
		((void (*)(void))x)();
	}
	show(canary());
	return 0;
}

ENTRY(steal_procmem) /* A6 */
{
	(void)argc; (void)argv;
	uint8_t b[32];
	int fd = open("/proc/self/mem", O_RDONLY);
	if (fd >= 0 && pread(fd, b, 32, (off_t)(uintptr_t)canary()) == 32)
		show(b);
	struct iovec l = { b, 32 }, r = { canary(), 32 };
	if (syscall(SYS_process_vm_readv, getpid(), &l, 1, &r, 1, 0) == 32)
		show(b);
	return 0;
}

ENTRY(steal_int80) /* A7 */
{
	(void)argc; (void)argv;
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(125L), "b"(0L), "c"(4096L), "d"(7L) : "memory");
	show(canary());
	return 0;
}

ENTRY(steal_signal) /* A9: take over SIGSEGV, then fault */
{
	(void)argc; (void)argv;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGSEGV, &sa, NULL);
	show(canary());
	return 0;
}

/* A2: the WRPKRU instructions already in the process, found without
 * writing anything (dl_iterate_phdr takes a lock in key-0 memory) */
static uintptr_t find_wrpkru(const char *lib)
{
	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		if (!l->l_name || !strstr(l->l_name, lib))
			continue;
		const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)l->l_addr;
		const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(l->l_addr + eh->e_phoff);

		for (int i = 0; i < eh->e_phnum; i++) {
			const uint8_t *b = (const uint8_t *)(l->l_addr + ph[i].p_vaddr);

			if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
				continue;
			for (size_t k = 0; k + 3 <= ph[i].p_memsz; k++)
				if (b[k] == 0x0f && b[k + 1] == 0x01 && b[k + 2] == 0xef)
					return (uintptr_t)(b + k);
		}
	}
	return 0;
}

/* jump to the first one in lib with eax = ecx = edx = 0: PKRU "every key open" */
static void jump_wrpkru(const char *lib)
{
	uintptr_t hit = find_wrpkru(lib);

	if (!hit)
		syscall(SYS_exit_group, 3);
	__asm__ volatile("xorl %%eax, %%eax\n\t"
			 "xorl %%ecx, %%ecx\n\t"
			 "xorl %%edx, %%edx\n\t"
			 "call *%0\n\t"
			 :
			 : "r"(hit)
			 : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
	show(canary());
}

ENTRY(steal_gate) /* A2: into the library's own gate */
{
	(void)argc; (void)argv;
	jump_wrpkru("libpkeysbox");
	return 0;
}

ENTRY(steal_pkey_set) /* A2: the C library's pkey_set, every key opened */
{
	(void)argc; (void)argv;
	for (int k = 1; k < 16; k++)
		pkey_set(k, 0);
	show(canary());
	return 0;
}

ENTRY(steal_seccomp) /* A10 */
{
	(void)argc; (void)argv;
	syscall(SYS_seccomp, 1, 0, NULL);
	show(canary());
	return 0;
}

ENTRY(steal_state) /* A11: the library's state */
{
	(void)argc; (void)argv;
	*(volatile uint64_t *)0x500000000000UL = 0;
	show(canary());
	return 0;
}

ENTRY(steal_exec_child) /* A13 */
{
	(void)argc; (void)argv;
	char *a[] = { "/bin/sh", "-c", "cat /proc/$PPID/maps", NULL };
	syscall(SYS_execve, a[0], a, NULL);
	show(canary());
	return 0;
}

ENTRY(steal_exhaust) /* A14 */
{
	(void)argc; (void)argv;
	while (malloc(1 << 20))
		;
	show(canary());
	return 0;
}

ENTRY(steal_sigreturn) /* A8: a forged frame whose PKRU opens every key */
{
	(void)argc; (void)argv;
	static uint8_t frame[8192] __attribute__((aligned(64)));
	memset(frame, 0, sizeof(frame));
	long r;
	__asm__ volatile("movq %1, %%rsp\n\tmovl $15, %%eax\n\tsyscall" : "=a"(r) : "r"(frame + 4096) : "memory");
	show(canary());
	return 0;
}

static int child(void *a)
{
	(void)a;
	show(canary());
	return 0;
}

ENTRY(steal_thread) /* A12: a thread that outlives the call */
{
	(void)argc; (void)argv;
	static uint8_t stack[65536] __attribute__((aligned(16)));
	long flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000; /* VM FS FILES SIGHAND THREAD */
	long r;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile("movl $56, %%eax\n\tsyscall\n\ttestq %%rax, %%rax\n\tjnz 1f\n\t"
			 "xorl %%edi, %%edi\n\tcall child_entry\n1:"
			 : "=a"(r) : "D"(flags), "S"(stack + sizeof(stack)), "d"(0), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
	return 0;
}

void child_entry(void);
void child_entry(void)
{
	for (int i = 0; i < 50; i++) {
		child(NULL);
		usleep(10000);
	}
	syscall(SYS_exit, 0);
}

/* A11: key-0 state pkbox-run runs through after the call.  Each plants
 * hijack() where host code would call it; if it ever runs, it runs with the
 * host's rights and prints the canary. */
static void hijack(void)
{
	show(canary());
	syscall(SYS_exit_group, 0);
}

struct main_obj {
	uintptr_t relro_lo, relro_hi, text_lo, text_hi;
};

static int find_main(struct dl_phdr_info *info, size_t size, void *data)
{
	struct main_obj *m = data;

	(void)size;
	if (info->dlpi_name && info->dlpi_name[0])
		return 0; /* the program itself has no name here */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_GNU_RELRO) {
			m->relro_lo = lo & ~4095UL;
			m->relro_hi = (lo + ph->p_memsz + 4095) & ~4095UL;
		} else if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			m->text_lo = lo;
			m->text_hi = lo + ph->p_memsz;
		}
	}
	return 1;
}

ENTRY(steal_got) /* A11/A4: make pkbox-run's GOT writable and fill it with hijack() */
{
	(void)argc; (void)argv;
	struct main_obj m = { 0, 0, 0, 0 };

	dl_iterate_phdr(find_main, &m);
	if (!m.relro_lo)
		return 3;
	if (syscall(SYS_mprotect, m.relro_lo, m.relro_hi - m.relro_lo, PROT_READ | PROT_WRITE))
		return 4;
	for (uintptr_t *p = (uintptr_t *)m.relro_lo; p < (uintptr_t *)m.relro_hi; p++)
		if (*p >= 0x1000)
			*p = (uintptr_t)hijack;
	return 0;
}

static int hook_print(FILE *f, const struct printf_info *info, const void *const *args)
{
	(void)f; (void)info; (void)args;
	hijack();
	return 0;
}

static int hook_arginfo(const struct printf_info *info, size_t n, int *types, int *sizes)
{
	(void)info; (void)sizes;
	if (n > 0)
		types[0] = PA_POINTER;
	return 1;
}

ENTRY(steal_printf) /* A11: hooks in the C library's printf tables, then a fault for the host to report */
{
	(void)argc; (void)argv;
	register_printf_specifier('s', hook_print, hook_arginfo);
	register_printf_specifier('d', hook_print, hook_arginfo);
	register_printf_specifier('x', hook_print, hook_arginfo);
	return canary()[0];
}

/* (not instrumented: an attacker's code has no sanitizer watching it) */
__attribute__((no_sanitize_address)) int steal_stack(int argc, char **argv);
ENTRY(steal_stack) /* A11: rewrite every return address into pkbox-run on its stacks */
{
	(void)argc; (void)argv;
	struct main_obj m = { 0, 0, 0, 0 };
	extern void *__libc_stack_end;
	uintptr_t found[16];
	int nfound = 0;

	dl_iterate_phdr(find_main, &m);
	/* 1. the main thread's stack */
	uintptr_t *top = (uintptr_t *)__libc_stack_end;
	for (uintptr_t *p = top - 1; p > top - 32768 / sizeof(*p); p--) {
		if (*p >= m.text_lo && *p < m.text_hi)
			*p = (uintptr_t)hijack;
		else if (*p >> 39 == 0x500000000000UL >> 39 && nfound < 15)
			found[nfound++] = *p; /* into the library's pool */
	}
	/* 2. pkbox-run's frames are in its private domain (pkbox_host_run(3)),
	 * with the canary: every pool page the main stack points to, and the
	 * canary's page, scanned the same way */
	found[nfound++] = (uintptr_t)canary();
	for (int i = 0; i < nfound; i++) {
		uintptr_t *pg = (uintptr_t *)(found[i] & ~4095UL);
		for (int k = 0; k < 512; k++)
			if (pg[k] >= m.text_lo && pg[k] < m.text_hi)
				pg[k] = (uintptr_t)hijack;
	}
	return 0;
}

/* Not the canary: pkbox-run's own end.  Each would end or stop the process
 * of its own doing; pkbox-run must stop it instead (exit 86). */
ENTRY(end_exit)
{
	(void)argc; (void)argv;
	exit(0);
}

ENTRY(end_abort)
{
	(void)argc; (void)argv;
	abort();
}

ENTRY(end_kill)
{
	(void)argc; (void)argv;
	kill(getpid(), SIGKILL);
	return 0;
}

/* The other ways to end the process, one entry each (the first refusal
 * stops the plugin): every one is refused under PKBOX_SEAL_NO_EXIT */
ENTRY(end_exit_thread) /* the only thread's exit ends the process */
{
	(void)argc; (void)argv;
	syscall(SYS_exit, 0);
	return 0;
}

ENTRY(end_tkill)
{
	(void)argc; (void)argv;
	syscall(SYS_tkill, syscall(SYS_gettid), SIGKILL);
	return 0;
}

ENTRY(end_tgkill)
{
	(void)argc; (void)argv;
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGKILL);
	return 0;
}

static void queued(siginfo_t *si)
{
	memset(si, 0, sizeof(*si));
	si->si_signo = SIGKILL;
	si->si_code = SI_QUEUE;
	si->si_pid = getpid();
}

ENTRY(end_sigqueue)
{
	(void)argc; (void)argv;
	siginfo_t si;
	queued(&si);
	syscall(SYS_rt_sigqueueinfo, getpid(), SIGKILL, &si);
	return 0;
}

ENTRY(end_tgsigqueue)
{
	(void)argc; (void)argv;
	siginfo_t si;
	queued(&si);
	syscall(SYS_rt_tgsigqueueinfo, getpid(), syscall(SYS_gettid), SIGKILL, &si);
	return 0;
}

ENTRY(end_pidfd_signal)
{
	(void)argc; (void)argv;
	long fd = syscall(SYS_pidfd_open, getpid(), 0);
	if (fd < 0)
		syscall(SYS_pidfd_send_signal, -1, SIGKILL, NULL, 0); /* (no pidfd_open: the call still tried) */
	else
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
	return 0;
}

static void spin_seconds(void)
{
	for (volatile unsigned long i = 0; i < 4000000000UL; i++)
		;
}

ENTRY(end_setitimer) /* SIGALRM (default: the end) in 10 ms */
{
	(void)argc; (void)argv;
	struct itimerval it = { .it_value = { 0, 10000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	spin_seconds();
	return 0;
}

ENTRY(end_timer) /* the same through a POSIX timer */
{
	(void)argc; (void)argv;
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM };
	long id = -1;
	struct itimerspec ts = { .it_value = { 0, 10000000 } };
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == 0)
		syscall(SYS_timer_settime, id, 0, &ts, NULL);
	spin_seconds();
	return 0;
}

ENTRY(end_setrlimit) /* SIGXCPU (default: the end) after a second of CPU time */
{
	(void)argc; (void)argv;
	struct rlimit r = { 1, 2 };
	syscall(SYS_setrlimit, RLIMIT_CPU, &r);
	spin_seconds();
	return 0;
}

ENTRY(end_prlimit) /* the same through prlimit64 */
{
	(void)argc; (void)argv;
	struct rlimit r = { 1, 2 };
	syscall(SYS_prlimit64, 0, RLIMIT_CPU, &r, NULL);
	spin_seconds();
	return 0;
}

ENTRY(end_sigsuspend) /* waits for a signal: pkbox-run --timeout's, taken by the refusal first */
{
	(void)argc; (void)argv;
	sigset_t s;
	sigemptyset(&s);
	syscall(SYS_rt_sigsuspend, &s, 8);
	return 0;
}

ENTRY(end_blocked_fault) /* the kernel puts SIG_DFL back for a blocked fault */
{
	(void)argc; (void)argv;
	sigset_t s;
	sigfillset(&s);
	sigprocmask(SIG_BLOCK, &s, NULL);
	volatile int *volatile bad = NULL;
	*bad = 1;
	return 0;
}

ENTRY(end_alarm)
{
	(void)argc; (void)argv;
	alarm(1);
	for (volatile unsigned long i = 0; i < 4000000000UL; i++)
		;
	return 0;
}

ENTRY(end_tiocsti) /* ^C into the terminal, the command's upper bits set */
{
	(void)argc; (void)argv;
	char c = 3;
	syscall(SYS_ioctl, 2, (1UL << 32) | TIOCSTI, &c);
	return 0;
}

ENTRY(end_report) /* pkbox-run's report into /dev/null */
{
	(void)argc; (void)argv;
	int fd = open("/dev/null", O_WRONLY);
	dup2(fd, 2);
	close(2);
	return 0;
}

/* the same, one call each (the C library's dup2 may be dup3), with a
 * descriptor the plugin has (it may open none for writing): its stdout */
ENTRY(end_report_dup2)
{
	(void)argc; (void)argv;
	syscall(SYS_dup2, 1, 2);
	return 0;
}

ENTRY(end_report_close) /* the next descriptor made takes its number */
{
	(void)argc; (void)argv;
	syscall(SYS_close, 2);
	return dup(1) == 2 ? 0 : 3;
}

ENTRY(end_spin) /* never comes back (pkbox-run --timeout) */
{
	(void)argc; (void)argv;
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 0;
}

ENTRY(end_sigwait) /* takes pkbox_call_timed()'s signal before its handler does */
{
	(void)argc; (void)argv;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, 63);
	for (;;)
		sigwaitinfo(&s, NULL);
	return 0;
}

ENTRY(end_sigio) /* SIGIO (default: the end) to the process, the command's upper bits set */
{
	(void)argc; (void)argv;
	int p[2];
	if (pipe(p))
		return 3;
	syscall(SYS_fcntl, p[0], (1UL << 32) | F_SETOWN, getpid());
	fcntl(p[0], F_SETFL, O_ASYNC);
	if (write(p[1], "x", 1) != 1)
		return 4;
	for (volatile int i = 0; i < 100000000; i++)
		;
	return 0;
}

ENTRY(end_nonblock) /* pkbox-run's stderr made non-blocking, the command's upper bits set */
{
	(void)argc; (void)argv;
	syscall(SYS_fcntl, 2, (1UL << 32) | F_SETFL, O_NONBLOCK);
	return 0;
}

/* A5 against the loader's code descriptor (the one executable mapping the
 * seal allows): found as the descriptor with write seals */
static int code_fd(void)
{
	for (int fd = 3; fd < 4096; fd++) {
		int s = fcntl(fd, F_GET_SEALS);
		if (s >= 0 && (s & F_SEAL_WRITE))
			return fd;
	}
	return -1;
}

/* a memfd holding code that opens every key, then reads the canary */
static int gadget_memfd(void)
{
	static const uint8_t code[] = { 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3 };
	int fd = (int)syscall(SYS_memfd_create, "g", 0);
	if (fd < 0 || ftruncate(fd, 4096) || pwrite(fd, code, sizeof(code), 0) != (ssize_t)sizeof(code))
		return -1;
	return fd;
}

static void run_view(int fd, int flags)
{
	void *x = mmap(NULL, 4096, PROT_READ | PROT_EXEC, flags, fd, 0);
	if (x != MAP_FAILED) {
		((void (*)(void))x)();
		show(canary());
	}
}

ENTRY(steal_codefd_view) /* an executable view of a memfd it keeps writable */
{
	(void)argc; (void)argv;
	run_view(gadget_memfd(), MAP_SHARED);
	return 0;
}

ENTRY(steal_codefd_swap) /* its own memfd put on the code descriptor */
{
	(void)argc; (void)argv;
	int c = code_fd(), g = gadget_memfd();
	if (c >= 0 && g >= 0 && dup2(g, c) == c)
		run_view(c, MAP_PRIVATE);
	return 0;
}

ENTRY(steal_codefd_close) /* the code descriptor closed, its number taken */
{
	(void)argc; (void)argv;
	int c = code_fd();
	if (c >= 0 && !close(c) && gadget_memfd() == c)
		run_view(c, MAP_PRIVATE);
	return 0;
}

ENTRY(steal_codefd_range) /* the same through close_range, its upper bits set */
{
	(void)argc; (void)argv;
	int c = code_fd();
	if (c >= 0 && !syscall(SYS_close_range, (1UL << 32) | 3, ~0U, 0) && gadget_memfd() == c)
		run_view(c, MAP_PRIVATE);
	return 0;
}

ENTRY(steal_codefd_writable) /* the code image mapped writable and executable */
{
	(void)argc; (void)argv;
	int c = code_fd();
	uint8_t *x = c < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, c, 0);
	if (x != MAP_FAILED) {
		static const uint8_t code[] = { 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3 };
		memcpy(x, code, sizeof(code));
		((void (*)(void))x)();
		show(canary());
	}
	return 0;
}

extern void pkbox_exit(int) __attribute__((weak));

ENTRY(steal_codefd_fixed) /* inspected code mapped over the host's: its exit path */
{
	(void)argc; (void)argv;
	int c = code_fd();
	void *host = (void *)pkbox_exit; /* bound by the loader, as any call of it */
	if (c >= 0 && host)
		mmap((void *)((uintptr_t)host & ~4095UL), 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, c, 0);
	return 0;
}

/* A16: the host's code changed through its file, after the seal.  Every
 * write puts back the bytes already there, so a failing defence shows (the
 * call worked) without damaging the build.  All refused: prints "every write
 * refused" and returns 0; a write that worked: "WROTE ..." and 66.  On
 * kernels whose Landlock has no TRUNCATE right (before 6.2) the seal refuses
 * the truncating calls instead (exit 86). */
static int pc_wrote;

static void pc_try(const char *what, int ok)
{
	if (ok)
		pc_wrote++;
	printf("steal_pagecache: %s: %s%s\n", what, ok ? "WROTE" : "refused: ", ok ? "" : strerrordesc_np(errno));
	fflush(stdout);
}

/* the path of a loaded object, the file offset of its code and where
 * that code is mapped */
static const char *pc_object(const char *name, off_t *code, uintptr_t *lo, uintptr_t *hi)
{
	for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next) {
		if (!l->l_name || !strstr(l->l_name, name))
			continue;
		const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)l->l_addr;
		const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(l->l_addr + eh->e_phoff);

		for (int i = 0; i < eh->e_phnum; i++)
			if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
				*code = (off_t)ph[i].p_offset;
				*lo = (l->l_addr + ph[i].p_vaddr) & ~4095UL;
				*hi = (l->l_addr + ph[i].p_vaddr + ph[i].p_memsz + 4095) & ~4095UL;
			}
		return l->l_name;
	}
	return NULL;
}

/* writes the n bytes at off back where they are */
static int pc_rewrite(int fd, off_t off)
{
	uint8_t b[16];

	return pread(fd, b, sizeof(b), off) == (ssize_t)sizeof(b) && pwrite(fd, b, sizeof(b), off) == (ssize_t)sizeof(b);
}

/* argv[1]: a file the test made in the directory of pkbox-run (that of an
 * executable object too), for what cannot be undone: O_TRUNC */
ENTRY(steal_pagecache)
{
	off_t code = 0, c2;
	uintptr_t lo = 0, hi = 0, l2, h2;
	const char *lib = pc_object("libpkeysbox", &code, &lo, &hi), *libc = pc_object("libc.so", &c2, &l2, &h2);
	const char *scratch = argc > 1 ? argv[1] : NULL;
	const char *slash = strrchr(argv[0], '/');
	char link_to[512], mf[96];

	if (!lib)
		return 3;
	printf("steal_pagecache: %s, code at file offset %#lx\n", lib, (unsigned long)code);
	int fd = open(lib, O_RDWR);
	pc_try("open for writing, pwrite", fd >= 0 && pc_rewrite(fd, code));
	if (fd >= 0) {
		volatile uint8_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, code & ~4095L);
		pc_try("a shared writable mapping", m != MAP_FAILED && (m[code & 4095] = m[code & 4095], 1));
		close(fd);
	}
	int rd = open(lib, O_RDONLY);
	pc_try("a shared writable mapping of a read-only descriptor",
	       rd >= 0 && mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, rd, 0) != MAP_FAILED);
	pc_try("the C library opened for writing", libc && open(libc, O_WRONLY) >= 0);
	if (scratch && access(scratch, F_OK) == 0)
		pc_try("O_TRUNC", open(scratch, O_WRONLY | O_TRUNC) >= 0);
	pc_try("rename onto itself", rename(lib, lib) == 0);
	/* beside the plugin: most likely the same file system */
	snprintf(link_to, sizeof(link_to), "%.*s/pagecache-link-%d", slash ? (int)(slash - argv[0]) : 1,
		 slash ? argv[0] : ".", (int)getpid());
	int linked = linkat(AT_FDCWD, lib, AT_FDCWD, link_to, AT_SYMLINK_FOLLOW) == 0;
	int lw = linked ? open(link_to, O_RDWR) : -1;
	pc_try("a hard link, opened for writing", linked && lw >= 0 && pc_rewrite(lw, code));
	if (linked)
		unlink(link_to);
	snprintf(mf, sizeof(mf), "/proc/self/map_files/%lx-%lx", (unsigned long)lo, (unsigned long)hi);
	pc_try("/proc/self/map_files", open(mf, O_RDWR) >= 0);
	/* the calls the seal refuses where Landlock has no TRUNCATE right */
	struct stat st;
	pc_try("truncate to its own size", rd >= 0 && fstat(rd, &st) == 0 && truncate(lib, st.st_size) == 0);
	if (scratch && access(scratch, F_OK) == 0)
		pc_try("O_RDONLY | O_TRUNC", open(scratch, O_RDONLY | O_TRUNC) >= 0);
	if (pc_wrote) {
		printf("steal_pagecache: WROTE through %d of the ways above\n", pc_wrote);
		return 66;
	}
	printf("steal_pagecache: every write refused\n");
	return 0;
}

/* pkbox-run --allow-write: writes argv[1] (0: written, 1: refused) */
ENTRY(write_file)
{
	int fd = argc > 1 ? open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;

	if (fd < 0 || write(fd, "x", 1) != 1) {
		printf("write_file: refused: %s\n", strerrordesc_np(errno)); /* (strerror writes the C library's state) */
		return 1;
	}
	printf("write_file: wrote %s\n", argv[1]);
	close(fd);
	return 0;
}

/* A17: the process's mappings (vm.max_map_count) used up, so that the
 * library's own protection changes fail; then a read of the canary.  Single
 * pages with alternating protections never merge, and plain mmap is all
 * the strict seal leaves a compartment. */
static long use_up_mappings(void)
{
	long n = 0;

	for (;;) {
		int prot = (n & 1) ? PROT_READ : PROT_READ | PROT_WRITE;
		void *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			break;
		n++;
	}
	return n;
}

ENTRY(end_maps)
{
	(void)argc; (void)argv;
	use_up_mappings();
	show(canary());
	return 0;
}

/* A18: other processes.  Each child would outlive the call (pkbox-run
 * waits for nobody): spinning, or (vfork) with pkbox-run suspended until
 * it ends.  Bounded here (about half a minute) so that a failed check
 * leaves nothing running for ever. */
static void spin_a_while(void)
{
	for (volatile unsigned long i = 0; i < 20000000000UL; i++)
		;
}

ENTRY(end_fork)
{
	(void)argc; (void)argv;
	pid_t p = fork();
	if (p == 0) {
		spin_a_while();
		syscall(SYS_exit, 0);
	}
	return 0;
}

ENTRY(end_vfork)
{
	(void)argc; (void)argv;
	if (vfork() == 0) {
		spin_a_while();
		syscall(SYS_exit, 0);
	}
	return 0;
}

static int clone_child(void *a)
{
	(void)a;
	spin_a_while();
	syscall(SYS_exit, 0);
	return 0;
}

ENTRY(end_clone_vm_proc) /* a process sharing the address space: not a thread */
{
	(void)argc; (void)argv;
	static uint8_t stack[65536] __attribute__((aligned(16)));
	clone(clone_child, stack + sizeof(stack), CLONE_VM | SIGCHLD, NULL);
	return 0;
}

/* A9: the fault signals back to their default action, then a fault: the
 * kernel would end pkbox-run before it can report */
ENTRY(end_sigdfl)
{
	(void)argc; (void)argv;
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	volatile int *volatile bad = NULL;
	return *bad;
}

ENTRY(end_sigign) /* the same with SIG_IGN, through sigaction() */
{
	(void)argc; (void)argv;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	volatile int *volatile bad = NULL;
	return *bad;
}
