/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys.c - the C side of the library's own syscalls (base layer): the
 * token-bearing call (pkbox__tsys, in asm) wrapped for C, the process's
 * exit, writing code bytes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "phase.h"
#include "state.h"
#include "sys.h"

__attribute__((noreturn)) void pkbox__exit_group(int status)
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

int pkbox__mprotect(const void *a, size_t l, int p)
{
	return (int)pkbox__sys(SYS_mprotect, 3, (long)(uintptr_t)a, (long)l, p, 0, 0);
}

int pkbox__pkey_mprotect(uintptr_t a, size_t l, int p, int k)
{
	return (int)pkbox__sys(SYS_pkey_mprotect, 4, (long)a, (long)l, p, k, 0);
}

int pkbox__madvise(uintptr_t a, size_t l, int adv)
{
	return (int)pkbox__sys(SYS_madvise, 3, (long)a, (long)l, adv, 0, 0);
}

int pkbox__sigaltstack(const void *n, void *o)
{
	return (int)pkbox__sys(SYS_sigaltstack, 2, (long)(uintptr_t)n, (long)(uintptr_t)o, 0, 0, 0);
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
