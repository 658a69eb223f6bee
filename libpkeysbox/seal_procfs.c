/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_procfs.c - reading the kernel's account of the process for the seal's
 * checks: whole /proc files, status fields, a process's state.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "seal_proc.h"

void pkbox__buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* The whole of a /proc file (they are made as they are read: no size). */
int pkbox__slurp_at(int dirfd, const char *path, struct buf *b)
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
long pkbox__status_field(const char *s, const char *key)
{
	size_t k = strlen(key);

	for (const char *l = s; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, key, k) && l[k] == ':')
			return strtol(l + k + 1, NULL, 10);
	return -1;
}

int pkbox__status_read(int fd, char *out, size_t cap)
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

bool pkbox__all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}


/* A process's state letter and start time (clock ticks after boot), from
 * /proc/PID/stat; 0 when it is gone. */
char pkbox__proc_stat(const char *pid, unsigned long long *start)
{
	char path[64], b[1024];
	int fd, n;

	pkbox__fmt(path, sizeof(path), "/proc/%s/stat", pid);
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
