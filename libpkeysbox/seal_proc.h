/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_proc.h - the pieces the seal's checks share (seal_check.c and the
 * seal_*.c files it calls): /proc read whole, the open descriptors, the
 * mappings as the kernel shows them.  Each check returns 0, or -EPERM /
 * -EBUSY / -ENOMEM with the reason as the pending message.
 */
#ifndef PKBOX_SEAL_PROC_H
#define PKBOX_SEAL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* seal_procfs.c: reading /proc */
struct buf {
	char *p;
	size_t len, cap;
};
void pkbox__buf_free(struct buf *b);
/* the whole of a /proc file (they are made as they are read: no size) */
int pkbox__slurp_at(int dirfd, const char *path, struct buf *b);
/* "Key:\tvalue" of a status file; -1 when the line is not there */
long pkbox__status_field(const char *s, const char *key);
int pkbox__status_read(int fd, char *out, size_t cap);
bool pkbox__all_digits(const char *s);
/* a process's state letter and start time (clock ticks after boot), from
 * /proc/PID/stat; 0 when it is gone */
char pkbox__proc_stat(const char *pid, unsigned long long *start);

/* seal_fds.c: every open descriptor; the regular files listed */
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
int pkbox__fds_check(int sfd, struct fds *out);
const struct fdent *pkbox__fd_of(const struct fds *f, dev_t dev, unsigned long ino, bool writable);

/* seal_procs.c: processes and threads */
int pkbox__procs_check(void);
int pkbox__threads_check(void);

/* seal_vmas.c: the mappings */
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
/* /proc/self/maps, or smaps where the protection keys are needed */
int pkbox__vmas_load(struct vmas *m, bool keys);
void pkbox__vmas_free(struct vmas *m);
const char *pkbox__vma_name(const struct vma *v);
bool pkbox__in_pool(uintptr_t lo, uintptr_t hi);
int pkbox__exec_check(const struct vmas *m, const struct fds *f);
int pkbox__pool_check(const struct vmas *m, const struct fds *f);

/* seal_code.c: host code as in its files */
int pkbox__code_check(const struct vmas *m, const struct fds *f);

#endif
