/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_fds.c - the seal's check of the open descriptors: none reaches this
 * process's memory or another process from outside the policy.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "msg.h"
#include "seal_proc.h"

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
	return !pkbox__all_digits(first) && strcmp(first, "self") && strcmp(first, "thread-self");
}

/* Every open descriptor: none may reach this process's memory or another
 * process (a /proc/PID file or directory, a pidfd), or be one of the
 * kernel objects that work on memory from outside (userfaultfd, io_uring),
 * which the policy only stops from being made.  Regular files are listed
 * for the mapping checks. */
int pkbox__fds_check(int sfd, struct fds *out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int rc = 0;

	if (!d)
		return pkbox__err(-EPERM, "pkbox_seal: cannot list this process's descriptors: %m");
	while (!rc && (de = readdir(d))) {
		if (!pkbox__all_digits(de->d_name))
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

const struct fdent *pkbox__fd_of(const struct fds *f, dev_t dev, unsigned long ino, bool writable)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].dev == dev && f->v[i].ino == ino && (!writable || f->v[i].writable))
			return &f->v[i];
	return NULL;
}
