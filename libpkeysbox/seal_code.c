/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seal_code.c - the seal's check of host code: every executable file mapping
 * holds the file's bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "msg.h"
#include "seal_proc.h"
#include "state.h"

/* The file behind an executable mapping, opened for reading: the same
 * object the kernel maps (device and inode as in maps). */
static int open_backing(const struct vma *v, const struct fds *f, bool *own)
{
	*own = false;
	if (!strncmp(v->path, "/memfd:", 7)) {
		const struct fdent *e = pkbox__fd_of(f, v->dev, v->ino, false);

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

		pkbox__fmt(p, sizeof(p), "/proc/self/map_files/%lx-%lx", (unsigned long)v->lo, (unsigned long)v->hi);
		fd = open(p, O_RDONLY | O_CLOEXEC);
	}
	*own = fd >= 0;
	return fd;
}

/* Every executable file mapping holds the file's bytes at its offset:
 * code patched in memory before the seal (made writable, changed, made
 * executable again) would otherwise run as inspected.  Relocations do not
 * touch code pages in position-independent objects bound eagerly. */
int pkbox__code_check(const struct vmas *m, const struct fds *f)
{
	enum { CHUNK = 64 << 10 };
	char *buf = malloc(CHUNK);
	int rc = 0;

	if (!buf)
		return pkbox__err(-ENOMEM, "pkbox_seal: out of memory");
	for (size_t i = 0; !rc && i < m->n; i++) {
		const struct vma *v = &m->v[i];

		if (!(v->prot & PROT_EXEC) || !(v->prot & PROT_READ) || !v->ino || pkbox__in_pool(v->lo, v->hi))
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
