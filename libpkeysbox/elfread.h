/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* elfread.h - reading a shared object's file: checks, dynamic section,
 * relocations, symbols.  Pure: no mapping, no library state. */
#ifndef PKBOX_ELFREAD_H
#define PKBOX_ELFREAD_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pkbox_elf {
	uint8_t *buf; /* the whole file */
	size_t len;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	int nph;
	/* from the dynamic section (virtual addresses, unrelocated) */
	const Elf64_Dyn *dyn;
	size_t ndyn;
	uint64_t rela, relasz, jmprel, pltrelsz, pltrel, relr, relrsz;
	uint64_t symtab, strtab, strsz, gnu_hash, hash, versym, verneed, verneednum;
	uint64_t init, init_array, init_n, fini, fini_array, fini_n;
	uint64_t runpath;  /* DT_RUNPATH or DT_RPATH: an offset in strtab, or 0 */
	bool has_runpath, textrel, preinit;
	/* the image: [lo, hi) page-aligned, relative to the load bias */
	uint64_t lo, hi;
	const Elf64_Phdr *tls;
};

/* each returns 0 or -errno and says why in a message naming path */
int pkbox__elf_parse(struct pkbox_elf *e, const char *path);
int64_t pkbox__elf_off(const struct pkbox_elf *e, uint64_t va, uint64_t n);
const Elf64_Sym *pkbox__elf_sym(const struct pkbox_elf *e, uint32_t i);
const char *pkbox__elf_str(const struct pkbox_elf *e, uint64_t off);
/* a defined, exported symbol (function or data) named name, or NULL */
const Elf64_Sym *pkbox__elf_lookup(const struct pkbox_elf *e, const char *name);
/* the same for a thread-local symbol */
const Elf64_Sym *pkbox__elf_lookup_tls(const struct pkbox_elf *e, const char *name);
/* the version a reference to symbol i asks for (NULL: none) */
const char *pkbox__elf_version(const struct pkbox_elf *e, uint32_t i);
/* every dynamic relocation (RELA and the PLT's), then RELR's addresses */
int pkbox__elf_each_rela(const struct pkbox_elf *e, int (*fn)(const Elf64_Rela *r, void *arg), void *arg);
int pkbox__elf_each_relr(const struct pkbox_elf *e, int (*fn)(uint64_t va, void *arg), void *arg);
/* the n-th DT_NEEDED name, or NULL after the last */
const char *pkbox__elf_needed(const struct pkbox_elf *e, int n);

#endif
