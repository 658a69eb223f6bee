/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_check.c - what code that ran before the seal can leave behind
 * (attack classes A15, A16, A18 of doc/THREAT_MODEL.md), and that
 * pkbox_seal() refuses it.
 *
 *   seal-check CASE
 *
 * The test forks a child: a clean process that sets the library up, keeps a
 * secret in the host's private domain, creates the condition CASE names and
 * calls pkbox_seal().  The child checks that the seal was refused with the
 * right code, errno and message, and that nothing changed: not sealed,
 * /proc/self/status still shows no seccomp filter, the SIGSYS disposition
 * untouched.  Then it undoes the condition (where that can be done) and
 * seals again, which must work; the parent reads the child's
 * /proc/PID/status from outside and checks that the kernel applies the
 * policy (Seccomp: 2, two filters).  "clean" seals at once.
 * Exit 0: as expected; 1: not; 77: the case needs what this machine lacks
 * (it says what); 2: set-up errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/kcmp.h>
#include <linux/seccomp.h>

#include "pkeysbox.h"

#define POOL_BASE 0x500000000000UL /* the library's state: public layout */
#define GC_PAGE 0x500002008000UL   /* the gate configuration */

static int to_parent[2], from_parent[2];

/* ---------------------------------------------------------------- helpers */

static long status_field(const char *path, const char *key)
{
	char b[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof(b) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -2;
	b[n] = 0;
	size_t k = strlen(key);
	for (char *l = b; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == ':')
			return strtol(l + k + 1, NULL, 10);
	return -1;
}

static bool sigsys_default(void)
{
	struct sigaction sa;

	return !sigaction(SIGSYS, NULL, &sa) && !(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL;
}

/* ---------------------------------------------------------------- the cases */

struct cs {
	const char *name;
	int err;          /* the seal's expected -errno */
	const char *word; /* in pkbox_last_error() */
	int (*make)(void);
	int (*undo)(void); /* NULL: cannot be undone */
};

static int fd_kept = -1;
static bool made; /* the condition exists: undone before the child ends */
static void *map_kept;

static int close_kept(void)
{
	return close(fd_kept);
}

static int proc_mem_fd(void)
{
	return (fd_kept = open("/proc/self/mem", O_RDWR | O_CLOEXEC)) < 0;
}

static int pagemap_fd(void)
{
	return (fd_kept = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)) < 0;
}

static int pidfd(void)
{
	fd_kept = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (fd_kept < 0 && errno == ENOSYS) {
		printf("SKIP: pidfd_open() is not in this kernel\n");
		exit(77);
	}
	return fd_kept < 0;
}

static pid_t helper;

static int helper_child(void)
{
	helper = fork();
	if (helper == 0) {
		for (;;)
			pause();
	}
	return helper < 0;
}

static int helper_end(void)
{
	kill(helper, SIGKILL);
	return waitpid(helper, NULL, 0) != helper;
}

/* a process that left this one's tree (a double fork) holding its
 * /proc/PID/mem, opened while it could (before the seal) */
static pid_t holder;

static int mem_holder(void)
{
	int p[2];
	char path[64];
	pid_t self = getpid();

	if (pipe(p))
		return 1;
	pid_t m = fork();
	if (m == 0) {
		if (fork() == 0) {
			pid_t me = getpid();

			snprintf(path, sizeof(path), "/proc/%d/mem", (int)self);
			int fd = open(path, O_RDWR);
			if (fd < 0 || write(p[1], &me, sizeof(me)) != sizeof(me))
				_exit(1);
			for (;;)
				pause();
		}
		_exit(0);
	}
	bool ok = read(p[0], &holder, sizeof(holder)) == sizeof(holder);
	close(p[0]);
	close(p[1]);
	return !ok || waitpid(m, NULL, 0) != m;
}

static int mem_holder_end(void)
{
	char path[64];

	kill(holder, SIGKILL);
	snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)holder);
	for (int i = 0; i < 2000; i++) {
		if (access(path, F_OK))
			return 0;
		usleep(1000);
	}
	return 1;
}

/* a process that shares this address space: a sibling (CLONE_PARENT), so
 * that only the address-space comparison can find it */
static volatile int stop;
static char *sib_stack;
static pid_t sibling;

static int spin(void *a)
{
	(void)a;
	while (!stop)
		;
	return 0;
}

static int clone_vm_sibling(void)
{
	sib_stack = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sib_stack == MAP_FAILED)
		return 1;
	sibling = clone(spin, sib_stack + (1 << 16), CLONE_VM | CLONE_PARENT | SIGCHLD, NULL);
	return sibling < 0;
}

static int clone_vm_end(void)
{
	stop = 1;
	for (int i = 0; i < 2000; i++) {
		if (syscall(SYS_kcmp, getpid(), sibling, KCMP_VM, 0, 0) != 0)
			return 0;
		usleep(1000);
	}
	return 1;
}

/* a filter of its own: loading a filter "succeeds" without doing anything
 * (libseccomp's probes, with no program, still get their real answers) */
static int own_seccomp(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 0, 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_SET_MODE_FILTER, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog p = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p);
}

static int rwx_map(void)
{
	map_kept = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return map_kept == MAP_FAILED;
}

static int unmap_kept(void)
{
	return munmap(map_kept, 4096);
}

static int memfd_exec(void)
{
	char code[4096];

	memset(code, 0xc3, sizeof(code)); /* ret */
	fd_kept = memfd_create("seal-check", MFD_CLOEXEC);
	if (fd_kept < 0 || write(fd_kept, code, sizeof(code)) != (ssize_t)sizeof(code))
		return 1;
	map_kept = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd_kept, 0);
	return map_kept == MAP_FAILED;
}

static int memfd_end(void)
{
	return munmap(map_kept, 4096) || close(fd_kept);
}

static char tmp_path[256];

static int file_exec_writable(void)
{
	const char *dirs[] = { getenv("TMPDIR"), "/tmp", "." };
	char code[4096];

	memset(code, 0xc3, sizeof(code));
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i])
			continue;
		snprintf(tmp_path, sizeof(tmp_path), "%s/seal-check-XXXXXX", dirs[i]);
		fd_kept = mkostemp(tmp_path, O_CLOEXEC);
		if (fd_kept < 0)
			continue;
		if (write(fd_kept, code, sizeof(code)) == (ssize_t)sizeof(code)) {
			map_kept = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd_kept, 0);
			if (map_kept != MAP_FAILED)
				return 0; /* (a noexec mount refuses PROT_EXEC: the next one) */
		}
		close(fd_kept);
		unlink(tmp_path);
	}
	return 1;
}

static int file_end(void)
{
	unlink(tmp_path);
	return close(fd_kept);
}

static int rekey_state(void)
{
	if (pkbox_backend() == PKBOX_BACKEND_PKU) /* the state, with key 0 */
		return (int)syscall(SYS_pkey_mprotect, POOL_BASE, 4096, PROT_READ | PROT_WRITE, 0);
	/* mprotect backend: no keys; the read-only gate configuration made writable */
	return mprotect((void *)GC_PAGE, 4096, PROT_READ | PROT_WRITE);
}

static int rekey_end(void)
{
	return pkbox_backend() == PKBOX_BACKEND_PKU ? -1 : mprotect((void *)GC_PAGE, 4096, PROT_READ);
}

/* memory of its own in the library's pool: a page between the state and
 * the gate configuration (reserved, no access) */
#define POOL_GAP (GC_PAGE - 4 * 4096)

static int pool_map(void)
{
	return mmap((void *)POOL_GAP, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
	       MAP_FAILED;
}

static int pool_map_end(void)
{
	return mmap((void *)POOL_GAP, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
		    0) == MAP_FAILED;
}

/* host code that never runs: patched in memory */
__attribute__((noinline, used)) int seal_check_unused(int x);
__attribute__((noinline, used)) int seal_check_unused(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}

static uint8_t patched_was;

static int poke_code(uint8_t v)
{
	uint8_t *p = (uint8_t *)(uintptr_t)seal_check_unused + 1;
	uintptr_t pg = (uintptr_t)p & ~4095UL;

	if (mprotect((void *)pg, 4096, PROT_READ | PROT_WRITE | PROT_EXEC))
		return 1;
	*p = v;
	return mprotect((void *)pg, 4096, PROT_READ | PROT_EXEC);
}

static int code_patched(void)
{
	patched_was = *((volatile uint8_t *)(uintptr_t)seal_check_unused + 1);
	return poke_code(0xcc);
}

static int code_end(void)
{
	return poke_code(patched_was);
}

static int sig_dfl(void)
{
	return signal(SIGSEGV, SIG_DFL) == SIG_ERR;
}

static int sig_end(void)
{
	return pkbox_signals_install();
}

static pthread_t th;

static void *sleeper(void *a)
{
	(void)a;
	while (!stop)
		usleep(1000);
	return NULL;
}

static int unregistered_thread(void)
{
	return pthread_create(&th, NULL, sleeper, NULL);
}

static int thread_end(void)
{
	stop = 1;
	return pthread_join(th, NULL);
}

static int threads_now(void)
{
	return (int)status_field("/proc/self/status", "Threads");
}

/* glibc's __rseq_size (read-only after start-up) rewritten to 0, as if
 * glibc ran without rseq, and a raw thread the library never saw */
static int rseq_size_zeroed(void)
{
	uintptr_t pg = (uintptr_t)&__rseq_size & ~4095UL;

	if (mprotect((void *)pg, 4096, PROT_READ | PROT_WRITE))
		return 1;
	*(volatile unsigned int *)(uintptr_t)&__rseq_size = 0;
	if (mprotect((void *)pg, 4096, PROT_READ))
		return 1;
	sib_stack = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sib_stack == MAP_FAILED)
		return 1;
	int n = threads_now();
	if (clone(spin, sib_stack + (1 << 16), CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
						       CLONE_SYSVSEM, NULL) < 0)
		return 1;
	while (threads_now() == n)
		sched_yield();
	return 0;
}

static int rseq_end(void)
{
	int n = threads_now();

	stop = 1;
	for (int i = 0; i < 2000 && threads_now() == n; i++)
		usleep(1000);
	return threads_now() == n;
}

static const struct cs cases[] = {
	{ "clean", 0, NULL, NULL, NULL },
	{ "own_seccomp", EPERM, "seccomp filter", own_seccomp, NULL },
	{ "proc_mem_fd", EPERM, "/mem", proc_mem_fd, close_kept },
	{ "pagemap_fd", EPERM, "/pagemap", pagemap_fd, close_kept },
	{ "pidfd", EPERM, "pidfd", pidfd, close_kept },
	{ "helper_child", EBUSY, "a child process exists", helper_child, helper_end },
	{ "mem_holder", EBUSY, "/mem open", mem_holder, mem_holder_end },
	{ "clone_vm_sibling", EBUSY, "shares this process's address space", clone_vm_sibling, clone_vm_end },
	{ "unregistered_thread", EBUSY, "is not registered", unregistered_thread, thread_end },
	{ "rseq_size_zeroed", EBUSY, "is not registered", rseq_size_zeroed, rseq_end },
	{ "rwx_map", EPERM, "writable and executable", rwx_map, unmap_kept },
	{ "memfd_exec", EPERM, "not write-sealed", memfd_exec, memfd_end },
	{ "file_exec_writable", EPERM, "open for writing", file_exec_writable, file_end },
	{ "rekey_state", EPERM, "the kernel's view", rekey_state, rekey_end },
	{ "pool_map", EPERM, "none of the library's", pool_map, pool_map_end },
	{ "code_patched", EPERM, "differs from", code_patched, code_end },
	{ "sig_dfl", EPERM, "SIGSEGV", sig_dfl, sig_end },
};

/* ---------------------------------------------------------------- the child */

/* Sealed: the parent checks the kernel's view from outside. */
static int sealed_report(void)
{
	char c = 'S';
	long r = syscall(SYS_pkey_alloc, 0UL, 0UL);

	if (r != -1 || errno != EPERM || !pkbox_sealed()) {
		printf("FAIL: sealed, but pkey_alloc() gave %ld (%s), pkbox_sealed() %d\n", r, strerror(errno),
		       pkbox_sealed());
		return 1;
	}
	fflush(stdout);
	if (write(to_parent[1], &c, 1) != 1)
		return 1;
	while (read(from_parent[0], &c, 1) > 0)
		;
	return 0;
}

static int child(const struct cs *c)
{
	int rc = pkbox_init(NULL);

	if (rc == -ENOTSUP) {
		printf("SKIP: %s (the PKU guests run this case: meson test --suite guest)\n", pkbox_last_error());
		return 77;
	}
	/* registered once per backend (PKBOX_BACKEND): that is the one this
	 * case must run on; the guests' PKBOX_EXPECT_BACKEND names the machine's */
	const char *want = getenv("PKBOX_BACKEND");
	if (!want || !*want)
		want = getenv("PKBOX_EXPECT_BACKEND");
	const char *be = pkbox_backend_name(pkbox_backend());
	if (rc || (want && *want && strcmp(want, be))) {
		printf("set-up: %s (backend %s)\n", rc ? pkbox_last_error() : "wrong backend", be);
		return 2;
	}
	uint8_t *secret = pkbox_malloc(pkbox_host_domain(), 32);
	struct pkbox_domain *d = pkbox_domain_create("plugin", NULL);
	if (!secret || !d || getrandom(secret, 32, 0) != 32) {
		printf("set-up: %s\n", pkbox_last_error());
		return 2;
	}
	printf("%s (backend %s)\n", c->name, be);
	if (!c->make)
		goto seal;
	if (c->make()) {
		printf("set-up: cannot create the condition: %s\n", strerror(errno));
		return 2;
	}
	made = true;
	errno = 0;
	rc = pkbox_seal(NULL);
	int e = errno;
	long mode = status_field("/proc/self/status", "Seccomp");
	long nf = status_field("/proc/self/status", "Seccomp_filters");
	/* own_seccomp: the test's own filter is the one there */
	long nf_want = c->make == own_seccomp ? 1 : 0, mode_want = c->make == own_seccomp ? 2 : 0;
	bool ok = rc == -c->err && e == c->err && strstr(pkbox_last_error(), c->word) && !pkbox_sealed() &&
		  mode == mode_want && (nf == nf_want || nf == -1) && sigsys_default();

	printf("  seal: %d (%s), errno %d\n  message: %s\n  sealed %d, Seccomp: %ld, Seccomp_filters: %ld, "
	       "SIGSYS %s\n",
	       rc, rc ? pkbox_strerror(rc) : "sealed", e, pkbox_last_error(), pkbox_sealed(), mode, nf,
	       sigsys_default() ? "untouched" : "CHANGED");
	if (!ok) {
		printf("FAIL: expected %d (%s) naming \"%s\", with nothing changed\n", -c->err, pkbox_strerror(-c->err),
		       c->word);
		return 1;
	}
	printf("  refused as expected\n");
	made = false;
	if (!c->undo || c->undo()) {
		printf("  (the condition cannot be undone here: no second seal)\n");
		return 0;
	}
seal:
	rc = pkbox_seal(NULL);
	printf("  %s: seal %d %s\n", c->make ? "condition undone" : "clean process", rc, rc ? pkbox_last_error() : "");
	if (rc) {
		printf("FAIL: the seal is refused without the condition\n");
		return 1;
	}
	return sealed_report();
}

int main(int argc, char **argv)
{
	const struct cs *c = NULL;

	for (size_t i = 0; argc == 2 && i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name))
			c = &cases[i];
	if (!c) {
		fprintf(stderr, "usage: seal-check CASE; cases:");
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			fprintf(stderr, " %s", cases[i].name);
		fprintf(stderr, "\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe2(to_parent, O_CLOEXEC) || pipe2(from_parent, O_CLOEXEC))
		return 2;
	pid_t p = fork();
	if (p == 0) {
		close(to_parent[0]);
		close(from_parent[1]);
		int r = child(c);

		/* no helper left behind (a sibling that spins, say) */
		if (made && c->undo)
			c->undo();
		_exit(r);
	}
	close(to_parent[1]);
	close(from_parent[0]);
	char s;
	bool sealed = read(to_parent[0], &s, 1) == 1;
	bool ok = true;
	if (sealed) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
		long mode = status_field(path, "Seccomp"), nf = status_field(path, "Seccomp_filters");
		ok = mode == 2 && (nf == 2 || nf == -1);
		printf("  the kernel, from outside: Seccomp: %ld, Seccomp_filters: %ld: %s\n", mode, nf,
		       ok ? "the policy is in force" : "FAIL: not what the library loaded");
	}
	close(from_parent[1]);
	int st;
	if (waitpid(p, &st, 0) != p)
		return 2;
	if (!WIFEXITED(st)) {
		printf("FAIL: the child ended with signal %d\n", WTERMSIG(st));
		return 1;
	}
	int rc = WEXITSTATUS(st);
	return rc == 0 && !ok ? 1 : rc;
}
