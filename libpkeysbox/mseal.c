/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mseal.c - the seal's last lock on code: mseal() of every executable
 * mapping (the kernel's aside) and of every object's RELRO, where the
 * kernel has mseal.
 */
#include "config.h"

#include <errno.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "seal.h"
#include "state.h"

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

struct relro_ctx {
	unsigned *count;
	int rc;
};

static int relro_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct relro_ctx *c = data;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_GNU_RELRO)
			continue;
		uintptr_t lo = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(PAGE - 1);
		uintptr_t hi = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t)(PAGE - 1);

		if (hi <= lo)
			continue;
		if (syscall(SYS_mseal, lo, hi - lo, 0UL)) {
			c->rc = -errno;
			return 1;
		}
		(*c->count)++;
	}
	return 0;
}

int pkbox__mseal_code(unsigned *count)
{
	static struct pkbox_xmap m[PKBOX_MAX_XMAPS];
	int n, rc = pkbox__xmaps_read(m, PKBOX_MAX_XMAPS, &n);

	*count = 0;
	if (rc)
		return rc;
	for (int i = 0; i < n; i++) {
		if (!strcmp(m[i].path, "[vsyscall]") || !strcmp(m[i].path, "[vdso]"))
			continue;
		if (syscall(SYS_mseal, m[i].lo, m[i].hi - m[i].lo, 0UL))
			return -errno;
		(*count)++;
	}
	/* and every object's RELRO (its GOT among it), plugins' aside: their
	 * relro is their domain's memory, which the library re-protects */
	struct relro_ctx c = { count, 0 };
	dl_iterate_phdr(relro_cb, &c);
	return c.rc;
}
