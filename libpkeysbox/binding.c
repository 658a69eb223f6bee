/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * binding.c - objects the dynamic loader bound lazily.  The first call
 * through such an object's PLT entry runs the loader's resolver: it writes
 * the GOT (key-0 memory, read-only inside a compartment with key-0
 * protection) and runs an XSAVE/XRSTOR trampoline (an XRSTOR that the seal
 * disables).  Its GOT[2] holds the resolver's address only when it is bound
 * lazily (eagerly: -z now or LD_BIND_NOW=1, the loader leaves it 0).
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>

#include "binding.h"
#include "fmt.h"

static bool obj_lazy(const struct dl_phdr_info *info)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_DYNAMIC)
			continue;
		const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
		uintptr_t pltgot = 0;
		bool jmprel = false;

		for (; d->d_tag != DT_NULL; d++) {
			if (d->d_tag == DT_PLTGOT)
				pltgot = d->d_un.d_ptr;
			if (d->d_tag == DT_JMPREL)
				jmprel = true;
		}
		if (!pltgot || !jmprel)
			continue;
		if (pltgot < info->dlpi_addr)
			pltgot += info->dlpi_addr;
		if (((const uintptr_t *)pltgot)[2])
			return true;
	}
	return false;
}

static void obj_name(const struct dl_phdr_info *info, char *name)
{
	if (info->dlpi_name && info->dlpi_name[0])
		pkbox__fmt(name, 256, "%s", info->dlpi_name);
	else
		pkbox__fmt(name, 256, "the program (%s)", program_invocation_short_name);
}

const char *pkbox__lazy_hint(const char *name)
{
	if (!strncmp(name, "the program", 11))
		return "link it with -Wl,-z,now (in pkg-config --libs libpkeysbox) or run it with LD_BIND_NOW=1";
	return "it was built without -z now: run the program with LD_BIND_NOW=1";
}

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	char *bad = data;

	(void)size;
	if (!obj_lazy(info))
		return 0;
	obj_name(info, bad);
	return 1;
}

void pkbox__lazy_find(char *bad)
{
	bad[0] = 0;
	dl_iterate_phdr(find_cb, bad);
}

struct at_ctx {
	uintptr_t addr, lo, hi;
	char *name;
	int lazy;
};

static int at_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct at_ctx *c = data;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	bool in = false;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		in = in || (c->addr >= a && c->addr - a < ph->p_memsz);
		lo = a < lo ? a : lo;
		hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
	}
	if (!in)
		return 0;
	c->lo = lo;
	c->hi = hi;
	c->lazy = obj_lazy(info);
	if (c->lazy)
		obj_name(info, c->name);
	return 1;
}

int pkbox__lazy_at(uintptr_t addr, char *name, uintptr_t *lo, uintptr_t *hi)
{
	struct at_ctx c = { .addr = addr, .name = name, .lazy = -1 };

	name[0] = 0;
	dl_iterate_phdr(at_cb, &c);
	*lo = c.lo;
	*hi = c.hi;
	return c.lazy;
}
