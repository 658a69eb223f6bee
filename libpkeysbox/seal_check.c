/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_check.c - the process as the kernel sees it, checked before the seal
 * and after it.
 *
 * Code that ran before the seal (a plugin's constructor, a library it
 * needs) can leave things behind that the policy would not stop: a seccomp
 * filter of its own, a descriptor that reaches memory from outside, another
 * process or thread, an executable view of writable memory, the library's
 * memory re-keyed, host code patched, the library's handlers replaced.  So
 * the seal refuses unless the kernel's own account of the process
 * (/proc/self/status, maps or smaps, fd, task, the children lists, kcmp,
 * fcntl, sigaction, rseq) shows none of them; it never believes a value in
 * writable memory.  After the policy is loaded, the kernel is asked again
 * whether it applies it.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include <linux/magic.h>

#include "internal.h"
#include "codemap.h"
#include "seal.h"
#include "seal_check.h"
#include "sys.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

/* ---------------------------------------------------------------- reading /proc */

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* The whole of a /proc file (they are made as they are read: no size). */
static int slurp_at(int dirfd, const char *path, struct buf *b)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	b->len = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		if (b->cap - b->len < 4096) {
			size_t cap = b->cap ? 2 * b->cap : 65536;
			char *p = realloc(b->p, cap);

			if (!p) {
				close(fd);
				return -ENOMEM;
			}
			b->p = p;
			b->cap = cap;
		}
		ssize_t n = read(fd, b->p + b->len, b->cap - b->len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			close(fd);
			return e;
		}
		if (n == 0)
			break;
		b->len += (size_t)n;
	}
	close(fd);
	b->p[b->len] = 0;
	return 0;
}

/* "Key:\tvalue" of a status file; -1 when the line is not there. */
static long status_field(const char *s, const char *key)
{
	size_t k = strlen(key);

	for (const char *l = s; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == ':')
			return strtol(l + k + 1, NULL, 10);
	return -1;
}

static int read_status(int fd, char *out, size_t cap)
{
	ssize_t n;

	do
		n = pread(fd, out, cap - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	out[n] = 0;
	return 0;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* ---------------------------------------------------------------- 1. seccomp */

static int seccomp_check(int sfd)
{
	char st[8192];
	int rc = read_status(sfd, st, sizeof(st));

	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: cannot read /proc/self/status: %s", strerror(-rc));
	long mode = status_field(st, "Seccomp"), n = status_field(st, "Seccomp_filters");

	if (mode != 0 || n > 0)
		return pkbox__err(-EPERM,
				  "pkbox_seal: the process already runs under a seccomp filter the library did not "
				  "load (Seccomp: %ld, Seccomp_filters: %ld); it could make the policy's own calls "
				  "fail or pretend to succeed",
				  mode, n);
	return 0;
}

/* ---------------------------------------------------------------- 2. descriptors */

struct fdent {
	int fd;
	dev_t dev;
	ino_t ino;
	bool writable;
	bool memfd;
};

struct fds {
	struct fdent *v;
	size_t n, cap;
};

static int fds_add(struct fds *f, const struct fdent *e)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct fdent *v = realloc(f->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		f->v = v;
		f->cap = cap;
	}
	f->v[f->n++] = *e;
	return 0;
}

/* A /proc path that names no process (/proc/cpuinfo, /proc/sys/...). */
static bool proc_harmless(const char *t)
{
	if (strncmp(t, "/proc/", 6) || !t[6])
		return false;
	char first[32];
	size_t i = 0;

	for (t += 6; *t && *t != '/' && i + 1 < sizeof(first); t++)
		first[i++] = *t;
	first[i] = 0;
	return !all_digits(first) && strcmp(first, "self") && strcmp(first, "thread-self");
}

/* Every open descriptor: none may reach this process's memory or another
 * process (a /proc/PID file or directory, a pidfd), or be one of the
 * kernel objects that work on memory from outside (userfaultfd, io_uring),
 * which the policy only stops from being made.  Regular files are listed
 * for the mapping checks. */
static int fds_check(int sfd, struct fds *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int rc = 0;

	if (!d)
		return pkbox__err(-EPERM, "pkbox_seal: cannot list this process's descriptors: %m");
	while (!rc && (de = readdir(d))) {
		if (!all_digits(de->d_name))
			continue;
		int fd = atoi(de->d_name);
		char t[512];

		if (fd == dirfd(d) || fd == sfd)
			continue;
		ssize_t n = readlinkat(dirfd(d), de->d_name, t, sizeof(t) - 1);
		if (n < 0)
			continue; /* closed meanwhile */
		t[n] = 0;
		if (!strcmp(t, "anon_inode:[pidfd]") || !strncmp(t, "pidfd:", 6)) {
			rc = pkbox__err(-EPERM, "pkbox_seal: descriptor %d is a pidfd (%s): it reaches a process "
						"outside the policy",
					fd, t);
			break;
		}
		if (!strcmp(t, "anon_inode:[userfaultfd]") || !strcmp(t, "/dev/userfaultfd") ||
		    !strcmp(t, "anon_inode:[io_uring]") || !strcmp(t, "/dev/mem") || !strcmp(t, "/dev/kmem")) {
			rc = pkbox__err(-EPERM, "pkbox_seal: descriptor %d is %s: it works on memory from outside "
						"the policy",
					fd, t);
			break;
		}
		struct statfs sf;
		if (!fstatfs(fd, &sf) && sf.f_type == PROC_SUPER_MAGIC && !proc_harmless(t)) {
			rc = pkbox__err(-EPERM, "pkbox_seal: descriptor %d is open on %s: through /proc it reaches "
						"process memory and state the policy does not cover",
					fd, t);
			break;
		}
		struct stat s;
		if (fstat(fd, &s) || !S_ISREG(s.st_mode))
			continue;
		int fl = fcntl(fd, F_GETFL);
		struct fdent e = { fd, s.st_dev, s.st_ino, fl >= 0 && (fl & O_ACCMODE) != O_RDONLY && !(fl & O_PATH),
				   !strncmp(t, "/memfd:", 7) };
		if (fds_add(out, &e))
			rc = pkbox__err(-ENOMEM, "pkbox_seal: out of memory");
	}
	closedir(d);
	return rc;
}

/* ---------------------------------------------------------------- 3. processes */

/* A process's state letter and start time (clock ticks after boot), from
 * /proc/PID/stat; 0 when it is gone. */
static char proc_stat(const char *pid, unsigned long long *start)
{
	char path[64], b[1024];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = (int)read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = 0;
	char *p = strrchr(b, ')');
	if (!p || p[1] != ' ')
		return 0;
	/* the state is field 3, the start time field 22 */
	char *q = p + 2;
	for (int f = 3; f < 22 && q; f++)
		q = strchr(q, ' '), q = q ? q + 1 : NULL;
	*start = q ? strtoull(q, NULL, 10) : 0;
	return p[2];
}

/* Does process pid (the name of its /proc entry) hold this process's
 * /proc/PID/mem or pagemap open?  One opened while this process could
 * still be traced (before the seal makes it non-dumpable) keeps working:
 * the kernel checks access when the file is opened, not when it is read
 * or written.  Looked for in processes started after this one (any
 * helper that code in it made) whose descriptors it may list. */
static int holder_check(int procfd, const char *pid, pid_t self)
{
	char path[64], pre[32], t[256];
	int rc = 0;

	snprintf(path, sizeof(path), "%s/fd", pid);
	int fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	size_t np = (size_t)snprintf(pre, sizeof(pre), "/proc/%d/", (int)self);
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		ssize_t n = readlinkat(dirfd(d), de->d_name, t, sizeof(t) - 1);

		if (n <= (ssize_t)np || strncmp(t, pre, np))
			continue;
		t[n] = 0;
		const char *last = strrchr(t, '/') + 1;
		if (!strcmp(last, "mem") || !strcmp(last, "pagemap"))
			rc = pkbox__err(-EBUSY, "pkbox_seal: process %s holds %s open: it reaches this process's "
						"memory from outside the policy",
					pid, t);
	}
	closedir(d);
	return rc;
}

/* No child (the library makes none before the seal: one is someone
 * else's, made to read or share this process's memory from outside); no
 * other process that shares this address space (a clone(CLONE_VM) without
 * CLONE_THREAD, which runs outside the policy), or that holds its
 * /proc/PID/mem (a helper that left the tree by a double fork). */
static int procs_check(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	struct buf b = { 0 };
	int rc = 0;

	if (!d)
		return pkbox__err(-EPERM, "pkbox_seal: cannot list this process's threads: %m");
	while (!rc && (de = readdir(d))) {
		if (!all_digits(de->d_name))
			continue;
		char path[64];

		snprintf(path, sizeof(path), "%s/children", de->d_name);
		if (slurp_at(dirfd(d), path, &b))
			continue; /* gone, or no CONFIG_PROC_CHILDREN: the scan below */
		for (char *p = b.p; p && *p;) {
			long pid = strtol(p, &p, 10);

			if (pid <= 0)
				break;
			char name[24];
			unsigned long long t;

			snprintf(name, sizeof(name), "%ld", pid);
			if (proc_stat(name, &t) != 'Z')
				rc = pkbox__err(-EBUSY, "pkbox_seal: a child process exists: pid %ld (it could reach "
							"this process's memory from outside the policy); end and "
							"wait for it before sealing",
						pid);
		}
	}
	closedir(d);
	buf_free(&b);
	if (rc)
		return rc;

	pid_t self = getpid();
	bool kcmp = true;
	unsigned long long born = 0, t;
	proc_stat("self", &born);
	d = opendir("/proc");
	if (!d)
		return pkbox__err(-EPERM, "pkbox_seal: cannot list processes: %m");
	while (!rc && (de = readdir(d))) {
		if (!all_digits(de->d_name))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid == self)
			continue;
		if (kcmp && syscall(SYS_kcmp, self, pid, KCMP_VM, 0, 0) == 0) {
			rc = pkbox__err(-EBUSY, "pkbox_seal: process %d shares this process's address space "
						"(clone(CLONE_VM) without CLONE_THREAD) and runs outside the policy",
					(int)pid);
		} else if (kcmp && errno == ENOSYS) {
			/* a kernel without kcmp: only the children list above */
			pkbox__msg(PKBOX_INFO, "pkbox_seal: no kcmp in this kernel: other processes that share the "
					       "address space are found only among the children");
			kcmp = false;
		}
		/* a helper made by code in this process started after it */
		if (!rc && proc_stat(de->d_name, &t) && t >= born)
			rc = holder_check(dirfd(d), de->d_name, self);
	}
	closedir(d);
	return rc;
}

/* ---------------------------------------------------------------- 4. threads */

/* Every thread but the caller must be the library's: registered (it has
 * no rseq area then, and the library knows it).  An unknown thread keeps
 * whatever rseq area and rights it has, and glibc's variables that say
 * whether it has one can be rewritten, so it is refused whatever they say.
 * The calling thread's rseq area must be the C library's (asked of the
 * kernel): the seal drops that one. */
static int threads_check(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	pid_t self = pkbox__gettid();
	int rc = 0;

	if (!d)
		return pkbox__err(-EPERM, "pkbox_seal: cannot list this process's threads: %m");
	while (!rc && (de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);

		if (tid > 0 && tid != self && pkbox__tdir_index(tid) < 0)
			rc = pkbox__err(-EBUSY,
					"pkbox_seal: thread %d is not registered with the library (it may keep an rseq "
					"area and rights the library does not manage); let it enter the library "
					"(pkbox_call, pkbox_host_run) first, or seal before starting threads",
					(int)tid);
	}
	closedir(d);
	if (rc)
		return rc;
	struct rseq *area;
	unsigned len;
	if (pkbox__rseq_find(&area, &len) < 0)
		return pkbox__err(-EBUSY, "pkbox_seal: this thread has an rseq area the C library did not "
					  "register: it could send the thread to other code with the host's rights");
	return 0;
}

/* ---------------------------------------------------------------- mappings */

struct vma {
	uintptr_t lo, hi;
	unsigned long off;
	dev_t dev;
	unsigned long ino;
	int prot;
	bool shared;
	int pkey; /* -1: not known (maps, not smaps) */
	const char *path;
};

struct vmas {
	struct buf text;
	struct vma *v;
	size_t n;
};

static void vmas_free(struct vmas *m)
{
	buf_free(&m->text);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* /proc/self/maps, or smaps where the protection keys are needed. */
static int vmas_load(struct vmas *m, bool keys)
{
	int rc = slurp_at(AT_FDCWD, keys ? "/proc/self/smaps" : "/proc/self/maps", &m->text);
	size_t lines = 1;

	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: cannot read /proc/self/%s: %s", keys ? "smaps" : "maps",
				  strerror(-rc));
	for (size_t i = 0; i < m->text.len; i++)
		lines += m->text.p[i] == '\n';
	m->v = calloc(lines, sizeof(*m->v));
	if (!m->v)
		return pkbox__err(-ENOMEM, "pkbox_seal: out of memory");
	m->n = 0;
	for (char *l = m->text.p; l && *l;) {
		char *nl = strchr(l, '\n');

		if (nl)
			*nl = 0;
		unsigned long lo, hi, off, ino;
		unsigned maj, mi;
		char perm[8];
		int pos = 0;

		if (sscanf(l, "%lx-%lx %7s %lx %x:%x %lu %n", &lo, &hi, perm, &off, &maj, &mi, &ino, &pos) >= 7) {
			struct vma *v = &m->v[m->n++];

			v->lo = lo;
			v->hi = hi;
			v->off = off;
			v->dev = makedev(maj, mi);
			v->ino = ino;
			v->prot = (perm[0] == 'r' ? PROT_READ : 0) | (perm[1] == 'w' ? PROT_WRITE : 0) |
				  (perm[2] == 'x' ? PROT_EXEC : 0);
			v->shared = perm[3] == 's';
			v->pkey = -1;
			v->path = pos ? l + pos : "";
		} else if (m->n && !strncmp(l, "ProtectionKey:", 14)) {
			m->v[m->n - 1].pkey = atoi(l + 14);
		}
		l = nl ? nl + 1 : NULL;
	}
	return 0;
}

/* The first mapping that ends above a (maps are in address order). */
static size_t vma_first(const struct vmas *m, uintptr_t a)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].hi <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const char *vma_name(const struct vma *v)
{
	return v->path[0] ? v->path : "anonymous";
}

static bool in_pool(uintptr_t lo, uintptr_t hi)
{
	return lo < pkbox__gc.pool_hi && hi > pkbox__gc.pool_lo;
}

static const struct fdent *fd_of(const struct fds *f, dev_t dev, unsigned long ino, bool writable)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].dev == dev && f->v[i].ino == ino && (!writable || f->v[i].writable))
			return &f->v[i];
	return NULL;
}

/* ---------------------------------------------------------------- 5. executable memory */

/* No mapping writable and executable; none executable whose contents can
 * change behind it: a memfd that is not write-sealed, shared memory, a
 * file this process has open for writing, or anything with a writable
 * shared view.  The library's own code area (in the pool) is checked with
 * the pool. */
static int exec_check(const struct vmas *m, const struct fds *f)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct vma *v = &m->v[i];

		if ((v->prot & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC))
			return pkbox__err(-EPERM, "pkbox_seal: mapping %#lx-%#lx (%s) is writable and executable",
					  (unsigned long)v->lo, (unsigned long)v->hi, vma_name(v));
		if (!(v->prot & PROT_EXEC) || in_pool(v->lo, v->hi))
			continue;
		if (!strcmp(v->path, "[vdso]") || !strcmp(v->path, "[vsyscall]"))
			continue;
		if (!strncmp(v->path, "/SYSV", 5) || !strncmp(v->path, "/dev/shm/", 9))
			return pkbox__err(-EPERM, "pkbox_seal: shared memory is mapped executable at %#lx-%#lx (%s): "
						  "other views of it can change the code",
					  (unsigned long)v->lo, (unsigned long)v->hi, v->path);
		bool sealed = false;
		if (!strncmp(v->path, "/memfd:", 7)) {
			const struct fdent *e = fd_of(f, v->dev, v->ino, false);
			int seals = e ? fcntl(e->fd, F_GET_SEALS) : -1;

			if (!e)
				return pkbox__err(-EPERM, "pkbox_seal: a memfd is mapped executable at %#lx-%#lx (%s) "
							  "and no descriptor shows whether it is write-sealed",
						  (unsigned long)v->lo, (unsigned long)v->hi, v->path);
			if (seals < 0 || !(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)))
				return pkbox__err(-EPERM, "pkbox_seal: the memfd mapped executable at %#lx-%#lx (%s) is "
							  "not write-sealed: it can be written after inspection",
						  (unsigned long)v->lo, (unsigned long)v->hi, v->path);
			sealed = seals & F_SEAL_WRITE;
		}
		if (!v->ino)
			continue;
		const struct fdent *w = sealed ? NULL : fd_of(f, v->dev, v->ino, true);
		if (w)
			return pkbox__err(-EPERM, "pkbox_seal: %s is mapped executable at %#lx and open for writing "
						  "(descriptor %d): writes would change the code after inspection",
					  v->path, (unsigned long)v->lo, w->fd);
		for (size_t j = 0; j < m->n; j++) {
			const struct vma *o = &m->v[j];

			if (o->shared && (o->prot & PROT_WRITE) && o->dev == v->dev && o->ino == v->ino)
				return pkbox__err(-EPERM, "pkbox_seal: %s is mapped executable at %#lx and writable "
							  "and shared at %#lx: writes there change the code",
						  vma_name(v), (unsigned long)v->lo, (unsigned long)o->lo);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- 6. the library's memory */

struct want {
	uintptr_t lo, hi;
	int prot;
	int key; /* -1: any */
	const char *what;
};

struct wants {
	struct want *v;
	size_t n, cap;
};

static int want_add(struct wants *w, uintptr_t lo, uintptr_t hi, int prot, int key, const char *what)
{
	if (hi <= lo)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		struct want *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = (struct want){ lo, hi, prot, pkbox__gc.backend == BACKEND_PKU ? key : -1, what };
	return 0;
}

static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* What the library set up, from its own records (library memory, which
 * only host code reaches before the seal). */
static int wants_build(struct wants *w)
{
	const struct pkbox_gatecfg *gc = &pkbox__gc;
	const struct pkbox_state *st = pkbox__st;
	int rw = PROT_READ | PROT_WRITE, e = 0;
	uint64_t records_len = (uint64_t)PKBOX_MAX_DOMAINS * PKBOX_MAX_THREADS * PKBOX_RECORD_SIZE;

	/* (the mprotect backend gives what its state does not use back to the
	 * reservation, so that the part it switches is one mapping: init.c) */
	uint64_t state_len = gc->backend == BACKEND_MPROTECT ? gc->meta_len : PKBOX_META_SIZE;
	e |= want_add(w, gc->meta_lo, gc->meta_lo + state_len, rw, gc->key_h, "the library's state");
	e |= want_add(w, PKBOX_GC_ADDR, PKBOX_GC_ADDR + PAGE, PROT_READ, 0, "the gate configuration");
	e |= want_add(w, gc->gatepage, gc->gatepage + PAGE, rw, 0, "the gate page");
	e |= want_add(w, gc->tdir, gc->tdir + PAGE, PROT_READ, 0, "the thread directory");
	e |= want_add(w, gc->records_lo, gc->records_lo + records_len, rw, gc->key_r, "the gate records");
	e |= want_add(w, gc->jit_rw, gc->jit_rw + PKBOX_JIT_SIZE, rw, gc->key_h, "the code area's writable view");
	e |= want_add(w, gc->jit_rx, gc->jit_rx + PKBOX_JIT_SIZE, PROT_READ | PROT_EXEC, 0,
		      "the code area's executable view");
	for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
		const struct pkbox_region *g = &st->regions[r];

		if (!g->used)
			continue;
		int key = g->gkey >= 0 ? g->gkey : st->doms[g->dom].pkey;
		e |= want_add(w, g->base, g->base + g->pages * PAGE, g->foreign ? g->prot : rw, key,
			      g->foreign ? "a plugin's segment" : "a domain's memory");
	}
	for (int i = 0; i < PKBOX_MAX_DOMAINS; i++) {
		const struct pkbox_dom *d = &st->doms[i];

		for (int ti = 0; ti < PKBOX_MAX_THREADS; ti++)
			if (d->stacks_mapped[ti / 64] & (1ULL << (ti % 64))) {
				uintptr_t top = pkbox__stack_top(i, ti);

				e |= want_add(w, top - gc->stack_size, top, rw, d->pkey, "a domain's stack");
			}
	}
	if (e)
		return pkbox__err(-ENOMEM, "pkbox_seal: out of memory");
	qsort(w->v, w->n, sizeof(w->v[0]), want_cmp);
	return 0;
}

static const char *prot_str(int p, char *s)
{
	s[0] = p & PROT_READ ? 'r' : '-';
	s[1] = p & PROT_WRITE ? 'w' : '-';
	s[2] = p & PROT_EXEC ? 'x' : '-';
	s[3] = 0;
	return s;
}

/* Each range the library recorded has, in the kernel's view, the
 * protection (and, pku, the key) it set; the rest of the pool is
 * reserved (no access) and nothing else is mapped there. */
static int pool_check(const struct vmas *m, const struct fds *f)
{
	struct wants w = { 0 };
	int rc = wants_build(&w);
	char a[4], b[4];

	for (size_t i = 0; !rc && i < w.n; i++) {
		const struct want *x = &w.v[i];
		uintptr_t at = x->lo;

		if (i && x->lo < w.v[i - 1].hi)
			continue; /* (a plugin segment recorded twice) */
		for (size_t j = vma_first(m, at); !rc && j < m->n && at < x->hi; j++) {
			const struct vma *v = &m->v[j];

			if (v->lo > at)
				break; /* a hole */
			if (v->prot != x->prot || (x->key >= 0 && v->pkey != x->key)) {
				char kv[16] = "", kx[16] = "";

				if (x->key >= 0) {
					snprintf(kv, sizeof(kv), ", key %d", v->pkey);
					snprintf(kx, sizeof(kx), ", key %d", x->key);
				}
				rc = pkbox__err(-EPERM, "pkbox_seal: %s at %#lx is %s%s in the kernel's view; the "
							"library made it %s%s",
						x->what, (unsigned long)at, prot_str(v->prot, a), kv, prot_str(x->prot, b),
						kx);
			}
			at = v->hi;
		}
		if (!rc && at < x->hi)
			rc = pkbox__err(-EPERM, "pkbox_seal: %s at %#lx is not mapped as the library left it", x->what,
					(unsigned long)at);
	}
	/* the rest of the pool: no access, no holes */
	uintptr_t at = pkbox__gc.pool_lo;
	size_t k = 0;
	for (size_t j = 0; !rc && j < m->n; j++) {
		const struct vma *v = &m->v[j];

		if (!in_pool(v->lo, v->hi))
			continue;
		if (v->lo != at || v->hi > pkbox__gc.pool_hi) {
			rc = pkbox__err(-EPERM, "pkbox_seal: the library's pool is not whole at %#lx (%s)",
					(unsigned long)(v->lo != at ? at : pkbox__gc.pool_hi), vma_name(v));
			break;
		}
		at = v->hi;
		if (v->prot == PROT_NONE)
			continue;
		/* covered by what the library recorded? */
		uintptr_t c = v->lo;
		while (k < w.n && w.v[k].hi <= c)
			k++;
		for (size_t q = k; q < w.n && c < v->hi && w.v[q].lo <= c; q++)
			if (w.v[q].hi > c)
				c = w.v[q].hi;
		if (c < v->hi)
			rc = pkbox__err(-EPERM, "pkbox_seal: %#lx-%#lx (%s, %s) in the library's pool is none of the "
						"library's",
					(unsigned long)(c > v->lo ? c : v->lo), (unsigned long)v->hi,
					prot_str(v->prot, a), vma_name(v));
	}
	if (!rc && at != pkbox__gc.pool_hi)
		rc = pkbox__err(-EPERM, "pkbox_seal: the library's pool is not whole at %#lx", (unsigned long)at);
	/* the code area: its two views one memfd that nothing else maps or holds */
	const struct vma *jx = NULL;
	for (size_t j = 0; !rc && j < m->n; j++)
		if (m->v[j].lo == pkbox__gc.jit_rx)
			jx = &m->v[j];
	if (!rc && (!jx || !jx->shared || !jx->ino))
		rc = pkbox__err(-EPERM, "pkbox_seal: the code area is not the library's shared mapping");
	for (size_t j = 0; !rc && j < m->n; j++) {
		const struct vma *v = &m->v[j];

		if (v->dev == jx->dev && v->ino == jx->ino && !in_pool(v->lo, v->hi))
			rc = pkbox__err(-EPERM, "pkbox_seal: the library's code area is also mapped at %#lx",
					(unsigned long)v->lo);
	}
	if (!rc && fd_of(f, jx->dev, jx->ino, false))
		rc = pkbox__err(-EPERM, "pkbox_seal: descriptor %d is open on the library's code area",
				fd_of(f, jx->dev, jx->ino, false)->fd);
	free(w.v);
	return rc;
}

/* ---------------------------------------------------------------- 7. handlers */

static int handlers_in_place(void)
{
	const int *sigs;
	void *fn;
	size_t n = pkbox__fault_signals(&sigs, &fn);

	for (size_t i = 0; i < n; i++) {
		struct sigaction sa;

		if (sigaction(sigs[i], NULL, &sa))
			return pkbox__err(-EPERM, "pkbox_seal: cannot read the handler of signal %d: %m", sigs[i]);
		void *h = (sa.sa_flags & SA_SIGINFO) ? (void *)sa.sa_sigaction : (void *)sa.sa_handler;
		if (!(sa.sa_flags & SA_SIGINFO) || h != fn || !(sa.sa_flags & SA_ONSTACK)) {
			const char *abbrev = sigabbrev_np(sigs[i]);
			char name[24];

			if (abbrev)
				snprintf(name, sizeof(name), "SIG%s", abbrev);
			else
				snprintf(name, sizeof(name), "signal %d", sigs[i]);
			return pkbox__err(-EPERM,
					  "pkbox_seal: %s is not handled by the library (%s): a fault in a "
					  "compartment would %s; call pkbox_signals_install() after installing "
					  "handlers of your own",
					  name,
					  h == (void *)SIG_DFL ? "default action"
					  : h == (void *)SIG_IGN ? "ignored"
								  : "another handler",
					  h == (void *)SIG_DFL || h == (void *)SIG_IGN ? "end the process"
										   : "run other code");
		}
	}
	return 0;
}

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* x86_64: the kernel's flag, not in glibc's headers */
#endif

/* Every signal handler in place must be host code: not in a plugin's code,
 * not in the pool, not in anonymous memory (a plugin's constructor runs in
 * its compartment before the seal, and could have installed one). */
int pkbox__handlers_host(void)
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
			    pkbox__codemap_plugin(a))
				return pkbox__err(-EPERM,
						  "pkbox_seal: the %s of signal %d (%#lx) is not the host's code",
						  k ? "restorer" : "handler", sig, (unsigned long)a);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- 8. host code */

/* The file behind an executable mapping, opened for reading: the same
 * object the kernel maps (device and inode as in maps). */
static int open_backing(const struct vma *v, const struct fds *f, bool *own)
{
	*own = false;
	if (!strncmp(v->path, "/memfd:", 7)) {
		const struct fdent *e = fd_of(f, v->dev, v->ino, false);

		return e ? e->fd : -1;
	}
	struct stat s;
	int fd = v->path[0] == '/' ? open(v->path, O_RDONLY | O_CLOEXEC) : -1;

	if (fd >= 0 && (fstat(fd, &s) || s.st_dev != v->dev || s.st_ino != v->ino)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		/* replaced or deleted since: the mapping's own file, where this
		 * process may open it (CAP_CHECKPOINT_RESTORE) */
		char p[64];

		snprintf(p, sizeof(p), "/proc/self/map_files/%lx-%lx", (unsigned long)v->lo, (unsigned long)v->hi);
		fd = open(p, O_RDONLY | O_CLOEXEC);
	}
	*own = fd >= 0;
	return fd;
}

/* Every executable file mapping holds the file's bytes at its offset:
 * code patched in memory before the seal (made writable, changed, made
 * executable again) would otherwise run as inspected.  Relocations do not
 * touch code pages in position-independent objects bound eagerly. */
static int code_check(const struct vmas *m, const struct fds *f)
{
	enum { CHUNK = 64 << 10 };
	char *buf = malloc(CHUNK);
	int rc = 0;

	if (!buf)
		return pkbox__err(-ENOMEM, "pkbox_seal: out of memory");
	for (size_t i = 0; !rc && i < m->n; i++) {
		const struct vma *v = &m->v[i];

		if (!(v->prot & PROT_EXEC) || !(v->prot & PROT_READ) || !v->ino || in_pool(v->lo, v->hi))
			continue;
		bool own;
		int fd = open_backing(v, f, &own);
		struct stat s;

		if (fd < 0 || fstat(fd, &s)) {
			rc = pkbox__err(-EPERM, "pkbox_seal: cannot read %s to compare it with the code mapped at %#lx",
					v->path, (unsigned long)v->lo);
			if (own && fd >= 0)
				close(fd);
			break;
		}
		size_t len = v->hi - v->lo, n = 0;
		if ((off_t)v->off < s.st_size)
			n = (uint64_t)s.st_size - v->off < len ? (size_t)((uint64_t)s.st_size - v->off) : len;
		for (size_t at = 0; !rc && at < n; at += CHUNK) {
			size_t c = n - at < CHUNK ? n - at : CHUNK;
			ssize_t r = pread(fd, buf, c, (off_t)(v->off + at));

			if (r != (ssize_t)c) {
				rc = pkbox__err(-EPERM, "pkbox_seal: cannot read %s at offset %#lx", v->path,
						(unsigned long)(v->off + at));
				break;
			}
			const char *mem = (const char *)(v->lo + at);
			if (memcmp(buf, mem, c)) {
				size_t d = 0;

				while (buf[d] == mem[d])
					d++;
				rc = pkbox__err(-EPERM, "pkbox_seal: the code at %#lx differs from %s at offset %#lx: "
							"host code was changed after it was loaded",
						(unsigned long)(v->lo + at + d), v->path, (unsigned long)(v->off + at + d));
			}
		}
		/* past the end of the file, up to the end of its last page: zeros */
		for (uintptr_t p = v->lo + n; !rc && p < v->hi && (p & (PAGE - 1)); p++)
			if (*(const char *)p)
				rc = pkbox__err(-EPERM, "pkbox_seal: the code at %#lx, past the end of %s, is not zero",
						(unsigned long)p, v->path);
		if (own)
			close(fd);
	}
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- before and after */

int pkbox__seal_check(int *status_fd)
{
	struct fds f = { 0 };
	struct vmas m = { 0 };
	int rc;

	*status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (*status_fd < 0)
		return pkbox__err(-EPERM, "pkbox_seal: cannot open /proc/self/status: %m");
	rc = seccomp_check(*status_fd);
	if (!rc)
		rc = threads_check();
	if (!rc)
		rc = procs_check();
	if (!rc)
		rc = fds_check(*status_fd, &f);
	if (!rc)
		rc = handlers_in_place();
	if (!rc)
		rc = vmas_load(&m, pkbox__gc.backend == BACKEND_PKU);
	if (!rc)
		rc = exec_check(&m, &f);
	if (!rc)
		rc = pool_check(&m, &f);
	if (!rc)
		rc = code_check(&m, &f);
	vmas_free(&m);
	free(f.v);
	return rc;
}

/* 0 when a syscall every policy refuses is refused, 1 when not, -errno
 * when the probe cannot be made.  The syscall is made by a child (a copy
 * with the same filters), so that nothing in this process changes (no
 * refusal counted, no message).  The child has none of the pool
 * (MADV_DONTFORK), so the library's SIGSYS handler cannot complete there:
 * a refused call ends the child (or returns EPERM), one that went through
 * to the kernel says so ('A').  The child tells through a pipe how far it
 * got, for hosts that do not wait for children (SIGCHLD ignored). */
static int probe_refused(void)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	/* a plain fork, with the token (PKBOX_SEAL_NO_THREADS refuses others) */
	pid_t c = (pid_t)pkbox__sys(SYS_clone, 5, SIGCHLD, 0, 0, 0, 0);
	if (c < 0) {
		int e = -errno;

		close(p[0]);
		close(p[1]);
		return e;
	}
	if (c == 0) {
		char s = 'S';

		close(p[0]);
		if (write(p[1], &s, 1) == 1) {
			long r = syscall(SYS_pkey_alloc, 0UL, 0UL);
			s = r == -1 && errno == EPERM ? 'R' : 'A';
			if (write(p[1], &s, 1) < 0)
				s = 0;
		}
		/* refused under NO_EXIT: the handler, without the pool, ends it;
		 * so does the fault handler after that */
		syscall(SYS_exit_group, 0);
		*(volatile int *)0 = 0;
		for (;;)
			syscall(SYS_exit, 0);
	}
	close(p[1]);
	char got[4];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(p[0], got + n, sizeof(got) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (n += (size_t)r) == sizeof(got))
			break;
	}
	close(p[0]);
	int st = 0;
	pid_t w;
	do
		w = waitpid(c, &st, 0);
	while (w < 0 && errno == EINTR);
	(void)w;
	(void)st;
	if (n < 1 || got[0] != 'S' || (n > 1 && got[1] != 'R'))
		return 1;
	return 0;
}

int pkbox__seal_verify(int status_fd, int nfilters)
{
	char st[8192];
	int rc = status_fd >= 0 ? read_status(status_fd, st, sizeof(st)) : -EBADF;

	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: cannot read /proc/self/status after loading the policy: %s",
				  strerror(-rc));
	long mode = status_field(st, "Seccomp"), n = status_field(st, "Seccomp_filters");
	if (mode != 2 || (n >= 0 && n != nfilters))
		return pkbox__err(-EPERM, "pkbox_seal: the kernel reports Seccomp: %ld, Seccomp_filters: %ld after "
					  "the policy was loaded (expected 2 and %d)",
				  mode, n, nfilters);
	struct sigaction sa;
	if (sigaction(SIGSYS, NULL, &sa) || !(sa.sa_flags & SA_SIGINFO) ||
	    (void *)sa.sa_sigaction != pkbox__sigsys_handler())
		return pkbox__err(-EPERM, "pkbox_seal: the library's SIGSYS handler is not in place after "
					  "loading the policy");
	rc = probe_refused();
	if (rc < 0)
		return pkbox__err(-EPERM, "pkbox_seal: cannot probe the policy: %s", strerror(-rc));
	if (rc)
		return pkbox__err(-EPERM, "pkbox_seal: pkey_alloc(), which the policy refuses, was not refused "
					  "in a child with the same filters");
	return 0;
}

void pkbox__seal_fail(void)
{
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ | PROT_WRITE);
	pkbox__gc.seal_failed = 1;
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ);
}
