/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * codemap.c - where plugin code comes from and where it lies: the code
 * descriptor (kept in the gate configuration) and the plugins' code ranges
 * (recorded by the loader in the library's state).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codemap.h"
#include "fmt.h"
#include "msg.h"
#include "state.h"
#include "sys.h"

int pkbox__codemap_fd(void)
{
	if (pkbox__gc.code_fd)
		return pkbox__gc.code_fd - 1;
	int fd = (int)syscall(SYS_memfd_create, "pkbox-plugin:none", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return pkbox__err(-errno, "cannot make the code descriptor: %s", pkbox__strerror(errno));
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		int rc = -errno;

		close(fd);
		return pkbox__err(rc, "cannot seal the code descriptor: %s", pkbox__strerror(-rc));
	}
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ | PROT_WRITE);
	pkbox__gc.code_fd = fd + 1;
	pkbox__mprotect(&pkbox__gc, PAGE, PROT_READ);
	return fd;
}

bool pkbox__codemap_plugin(uintptr_t a)
{
	const struct pkbox_plug *p = pkbox__st->plugs;

	for (int i = 0; i < MAX_PLUGINS; i++)
		for (int k = 0; p[i].used && k < p[i].nobjs; k++)
			if (a >= p[i].objs[k].text_lo && a < p[i].objs[k].text_hi)
				return true;
	return false;
}
