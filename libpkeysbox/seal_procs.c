/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_procs.c - the seal's check of processes and threads: no child, no
 * process sharing the address space or holding its memory open, no thread
 * the library does not know.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "fault.h"
#include "fmt.h"
#include "msg.h"
#include "seal_proc.h"
#include "state.h"

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

	pkbox__fmt(path, sizeof(path), "%s/fd", pid);
	int fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	size_t np = (size_t)pkbox__fmt(pre, sizeof(pre), "/proc/%d/", (int)self);
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

/* No child: one is someone else's (the library makes none before the seal). */
static int children_check(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	struct buf b = { 0 };
	int rc = 0;

	if (!d)
		return pkbox__err(-EPERM, "pkbox_seal: cannot list this process's threads: %m");
	while (!rc && (de = readdir(d))) {
		if (!pkbox__all_digits(de->d_name))
			continue;
		char path[64];

		pkbox__fmt(path, sizeof(path), "%s/children", de->d_name);
		if (pkbox__slurp_at(dirfd(d), path, &b))
			continue; /* gone, or no CONFIG_PROC_CHILDREN: the scan below */
		for (char *p = b.p; p && *p;) {
			long pid = strtol(p, &p, 10);

			if (pid <= 0)
				break;
			char name[24];
			unsigned long long t;

			pkbox__fmt(name, sizeof(name), "%ld", pid);
			if (pkbox__proc_stat(name, &t) != 'Z')
				rc = pkbox__err(-EBUSY, "pkbox_seal: a child process exists: pid %ld (it could reach "
							"this process's memory from outside the policy); end and "
							"wait for it before sealing",
						pid);
		}
	}
	closedir(d);
	pkbox__buf_free(&b);
	return rc;
}

/* Every other process: none shares this address space; none started
 * after this one holds its memory open. */
static int others_check(void)
{
	struct dirent *de;
	int rc = 0;
	pid_t self = getpid();
	bool kcmp = true;
	unsigned long long born = 0, t;
	pkbox__proc_stat("self", &born);
	DIR *d = opendir("/proc");
	if (!d)
		return pkbox__err(-EPERM, "pkbox_seal: cannot list processes: %m");
	while (!rc && (de = readdir(d))) {
		if (!pkbox__all_digits(de->d_name))
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
		if (!rc && pkbox__proc_stat(de->d_name, &t) && t >= born)
			rc = holder_check(dirfd(d), de->d_name, self);
	}
	closedir(d);
	return rc;
}

/* No child (the library makes none before the seal: one is someone
 * else's, made to read or share this process's memory from outside); no
 * other process that shares this address space (a clone(CLONE_VM) without
 * CLONE_THREAD, which runs outside the policy), or that holds its
 * /proc/PID/mem (a helper that left the tree by a double fork). */
int pkbox__procs_check(void)
{
	int rc = children_check();

	return rc ? rc : others_check();
}

/* Every thread but the caller must be the library's: registered (it has
 * no rseq area then, and the library knows it).  An unknown thread keeps
 * whatever rseq area and rights it has, and glibc's variables that say
 * whether it has one can be rewritten, so it is refused whatever they say.
 * The calling thread's rseq area must be the C library's (asked of the
 * kernel): the seal drops that one. */
int pkbox__threads_check(void)
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
