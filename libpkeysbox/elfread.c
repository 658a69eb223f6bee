/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * elfread.c - a shared object's file as the loader (loader.c) needs it: the
 * header and segments checked, the dynamic section read, relocations and
 * symbols walked with every offset bounds-checked against the file.  It
 * maps nothing and runs nothing; what it refuses, it refuses with a message.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "elfread.h"
#include "msg.h"

#define PG 4096UL
#define PG_DOWN(x) ((x) & ~(PG - 1))
#define PG_UP(x) (((x) + PG - 1) & ~(PG - 1))

static bool in_file(const struct pkbox_elf *e, uint64_t off, uint64_t n)
{
	return off <= e->len && n <= e->len - off;
}

int64_t pkbox__elf_off(const struct pkbox_elf *e, uint64_t va, uint64_t n)
{
	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];

		if (p->p_type == PT_LOAD && va >= p->p_vaddr && va - p->p_vaddr <= p->p_filesz &&
		    n <= p->p_filesz - (va - p->p_vaddr) && in_file(e, p->p_offset + (va - p->p_vaddr), n))
			return (int64_t)(p->p_offset + (va - p->p_vaddr));
	}
	return -1;
}

static int check_header(struct pkbox_elf *e, const char *path)
{
	if (e->len < sizeof(Elf64_Ehdr) || memcmp(e->buf, ELFMAG, SELFMAG))
		return pkbox__err(-ENOEXEC, "plugin %s: not an ELF file", path);
	e->eh = (const Elf64_Ehdr *)e->buf;
	if (e->eh->e_ident[EI_CLASS] != ELFCLASS64 || e->eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    e->eh->e_machine != EM_X86_64)
		return pkbox__err(-ENOEXEC, "plugin %s: wrong architecture (class %d, machine %d; x86-64 needed)", path,
				  e->eh->e_ident[EI_CLASS], e->eh->e_machine);
	if (e->eh->e_type != ET_DYN)
		return pkbox__err(-ENOEXEC, "plugin %s: not a shared object (ELF type %d)", path, e->eh->e_type);
	if (e->eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(e, e->eh->e_phoff, (uint64_t)e->eh->e_phnum * sizeof(Elf64_Phdr)))
		return pkbox__err(-ENOEXEC, "plugin %s: damaged program headers", path);
	e->ph = (const Elf64_Phdr *)(e->buf + e->eh->e_phoff);
	e->nph = e->eh->e_phnum;
	return 0;
}

/* The segments: each in the file, none writable and executable, no code
 * page shared with data (the loader maps code and data separately), the
 * whole image under 1 GiB. */
static int check_segments(struct pkbox_elf *e, const char *path)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];

		if (p->p_type == PT_TLS)
			e->tls = p;
		if (p->p_type == PT_INTERP)
			return pkbox__err(-ENOEXEC, "plugin %s: a program, not a library (it names an interpreter)", path);
		if (p->p_type != PT_LOAD)
			continue;
		if (!in_file(e, p->p_offset, p->p_filesz) || p->p_filesz > p->p_memsz ||
		    p->p_vaddr % PG != p->p_offset % PG || p->p_vaddr + p->p_memsz < p->p_vaddr ||
		    p->p_vaddr + p->p_memsz > (1UL << 30))
			return pkbox__err(-ENOEXEC, "plugin %s: damaged segment %d", path, i);
		if ((p->p_flags & PF_W) && (p->p_flags & PF_X))
			return pkbox__err(-ENOEXEC, "plugin %s: segment %d is writable and executable; refused", path, i);
		lo = PG_DOWN(p->p_vaddr) < lo ? PG_DOWN(p->p_vaddr) : lo;
		hi = PG_UP(p->p_vaddr + p->p_memsz) > hi ? PG_UP(p->p_vaddr + p->p_memsz) : hi;
	}
	if (hi <= lo)
		return pkbox__err(-ENOEXEC, "plugin %s: no loadable segment", path);
	for (int i = 0; i < e->nph; i++)
		for (int j = 0; j < e->nph; j++) {
			const Elf64_Phdr *x = &e->ph[i], *d = &e->ph[j];

			if (x->p_type != PT_LOAD || d->p_type != PT_LOAD || !(x->p_flags & PF_X) || (d->p_flags & PF_X))
				continue;
			if (PG_DOWN(x->p_vaddr) < PG_UP(d->p_vaddr + d->p_memsz) &&
			    PG_DOWN(d->p_vaddr) < PG_UP(x->p_vaddr + x->p_memsz))
				return pkbox__err(-ENOEXEC,
						  "plugin %s: code and data share a page (segments %d and %d); "
						  "link with -z separate-code",
						  path, i, j);
		}
	e->lo = lo;
	e->hi = hi;
	return 0;
}

/* one entry of the dynamic section */
static int dyn_entry(struct pkbox_elf *e, const Elf64_Dyn *d, const char *path)
{
	uint64_t v = d->d_un.d_val;

	switch (d->d_tag) {
	case DT_RELA: e->rela = v; break;
	case DT_RELASZ: e->relasz = v; break;
	case DT_JMPREL: e->jmprel = v; break;
	case DT_PLTRELSZ: e->pltrelsz = v; break;
	case DT_PLTREL: e->pltrel = v; break;
	case DT_RELR: e->relr = v; break;
	case DT_RELRSZ: e->relrsz = v; break;
	case DT_SYMTAB: e->symtab = v; break;
	case DT_STRTAB: e->strtab = v; break;
	case DT_STRSZ: e->strsz = v; break;
	case DT_GNU_HASH: e->gnu_hash = v; break;
	case DT_HASH: e->hash = v; break;
	case DT_VERSYM: e->versym = v; break;
	case DT_VERNEED: e->verneed = v; break;
	case DT_VERNEEDNUM: e->verneednum = v; break;
	case DT_INIT: e->init = v; break;
	case DT_INIT_ARRAY: e->init_array = v; break;
	case DT_INIT_ARRAYSZ: e->init_n = v / sizeof(uint64_t); break;
	case DT_FINI: e->fini = v; break;
	case DT_FINI_ARRAY: e->fini_array = v; break;
	case DT_FINI_ARRAYSZ: e->fini_n = v / sizeof(uint64_t); break;
	case DT_PREINIT_ARRAY: e->preinit = true; break;
	case DT_TEXTREL: e->textrel = true; break;
	case DT_FLAGS:
		if (v & DF_TEXTREL)
			e->textrel = true;
		break;
	case DT_RPATH:
	case DT_RUNPATH:
		e->runpath = v;
		e->has_runpath = true;
		break;
	case DT_REL:
		return pkbox__err(-ENOEXEC, "plugin %s: REL relocations (x86-64 uses RELA)", path);
	}
	return 0;
}

static int read_dynamic(struct pkbox_elf *e, const char *path)
{
	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];

		if (p->p_type != PT_DYNAMIC)
			continue;
		if (!in_file(e, p->p_offset, p->p_filesz))
			return pkbox__err(-ENOEXEC, "plugin %s: damaged dynamic section", path);
		e->dyn = (const Elf64_Dyn *)(e->buf + p->p_offset);
		e->ndyn = p->p_filesz / sizeof(Elf64_Dyn);
	}
	if (!e->dyn)
		return pkbox__err(-ENOEXEC, "plugin %s: no dynamic section", path);
	for (size_t i = 0; i < e->ndyn && e->dyn[i].d_tag != DT_NULL; i++) {
		int rc = dyn_entry(e, &e->dyn[i], path);

		if (rc)
			return rc;
	}
	if (!e->symtab || !e->strtab || pkbox__elf_off(e, e->strtab, e->strsz) < 0)
		return pkbox__err(-ENOEXEC, "plugin %s: no symbol or string table", path);
	if (e->jmprel && e->pltrel != DT_RELA)
		return pkbox__err(-ENOEXEC, "plugin %s: PLT relocations are not RELA", path);
	if (e->textrel)
		return pkbox__err(-ENOEXEC, "plugin %s: relocations in its code (text relocations); refused", path);
	if (e->preinit)
		return pkbox__err(-ENOEXEC, "plugin %s: has a preinit array (programs only)", path);
	return 0;
}

int pkbox__elf_parse(struct pkbox_elf *e, const char *path)
{
	int rc = check_header(e, path);

	if (!rc)
		rc = check_segments(e, path);
	if (!rc)
		rc = read_dynamic(e, path);
	return rc;
}

const Elf64_Sym *pkbox__elf_sym(const struct pkbox_elf *e, uint32_t i)
{
	int64_t off = pkbox__elf_off(e, e->symtab + (uint64_t)i * sizeof(Elf64_Sym), sizeof(Elf64_Sym));

	return off < 0 ? NULL : (const Elf64_Sym *)(e->buf + off);
}

const char *pkbox__elf_str(const struct pkbox_elf *e, uint64_t o)
{
	if (o >= e->strsz)
		return NULL;
	int64_t off = pkbox__elf_off(e, e->strtab + o, 1);
	if (off < 0)
		return NULL;
	const char *n = (const char *)e->buf + off;
	return memchr(n, 0, e->len - (size_t)off) ? n : NULL;
}

/* a definition others may bind to: thread-local ones only when tls asks */
static bool exported(const Elf64_Sym *s, bool tls)
{
	unsigned b = ELF64_ST_BIND(s->st_info), t = ELF64_ST_TYPE(s->st_info);

	return s->st_shndx != SHN_UNDEF && (b == STB_GLOBAL || b == STB_WEAK) &&
	       ELF64_ST_VISIBILITY(s->st_other) != STV_HIDDEN &&
	       (tls ? t == STT_TLS : (t == STT_FUNC || t == STT_OBJECT || t == STT_NOTYPE));
}

static const uint32_t *words(const struct pkbox_elf *e, uint64_t va, uint64_t n)
{
	int64_t off = pkbox__elf_off(e, va, n * 4);

	return off < 0 || off % 4 ? NULL : (const uint32_t *)(e->buf + off);
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (uint8_t)*s;
	return h;
}

static const Elf64_Sym *match(const struct pkbox_elf *e, uint32_t i, const char *name, bool tls)
{
	const Elf64_Sym *s = pkbox__elf_sym(e, i);
	const char *n = s ? pkbox__elf_str(e, s->st_name) : NULL;

	return n && !strcmp(n, name) && exported(s, tls) ? s : NULL;
}

/* GNU hash (what Debian's toolchain writes), else the SysV table */
static const Elf64_Sym *lookup(const struct pkbox_elf *e, const char *name, bool tls)
{
	if (e->gnu_hash) {
		const uint32_t *h = words(e, e->gnu_hash, 4);
		if (!h || !h[0])
			return NULL;
		uint32_t nb = h[0], base = h[1], nbloom = h[2];
		const uint32_t *bucket = words(e, e->gnu_hash + 16 + (uint64_t)nbloom * 8, nb);
		if (!bucket)
			return NULL;
		uint32_t hv = gnu_hash(name), i = bucket[hv % nb];
		uint64_t chain = e->gnu_hash + 16 + (uint64_t)nbloom * 8 + (uint64_t)nb * 4;
		for (int guard = 0; i >= base && guard < (1 << 24); i++, guard++) {
			const uint32_t *c = words(e, chain + (uint64_t)(i - base) * 4, 1);
			if (!c)
				return NULL;
			if ((*c | 1) == (hv | 1)) {
				const Elf64_Sym *s = match(e, i, name, tls);
				if (s)
					return s;
			}
			if (*c & 1)
				break;
		}
		return NULL;
	}
	if (e->hash) {
		const uint32_t *h = words(e, e->hash, 2);
		if (!h)
			return NULL;
		for (uint32_t i = 0; i < h[1]; i++) {
			const Elf64_Sym *s = match(e, i, name, tls);
			if (s)
				return s;
		}
	}
	return NULL;
}

const Elf64_Sym *pkbox__elf_lookup(const struct pkbox_elf *e, const char *name)
{
	return lookup(e, name, false);
}

const Elf64_Sym *pkbox__elf_lookup_tls(const struct pkbox_elf *e, const char *name)
{
	return lookup(e, name, true);
}

const char *pkbox__elf_version(const struct pkbox_elf *e, uint32_t i)
{
	if (!e->versym || !e->verneed)
		return NULL;
	int64_t o = pkbox__elf_off(e, e->versym + (uint64_t)i * 2, 2);
	if (o < 0)
		return NULL;
	uint16_t v = *(const uint16_t *)(e->buf + o) & 0x7fff;
	if (v < 2)
		return NULL;
	uint64_t vn = e->verneed;
	for (uint64_t k = 0; k < e->verneednum; k++) {
		int64_t no = pkbox__elf_off(e, vn, sizeof(Elf64_Verneed));
		if (no < 0)
			return NULL;
		const Elf64_Verneed *n = (const Elf64_Verneed *)(e->buf + no);
		uint64_t va = vn + n->vn_aux;
		for (unsigned a = 0; a < n->vn_cnt; a++) {
			int64_t ao = pkbox__elf_off(e, va, sizeof(Elf64_Vernaux));
			if (ao < 0)
				return NULL;
			const Elf64_Vernaux *x = (const Elf64_Vernaux *)(e->buf + ao);
			if (x->vna_other == v)
				return pkbox__elf_str(e, x->vna_name);
			if (!x->vna_next)
				break;
			va += x->vna_next;
		}
		if (!n->vn_next)
			break;
		vn += n->vn_next;
	}
	return NULL;
}

int pkbox__elf_each_rela(const struct pkbox_elf *e, int (*fn)(const Elf64_Rela *r, void *arg), void *arg)
{
	uint64_t tab[2][2] = { { e->rela, e->relasz }, { e->jmprel, e->pltrelsz } };

	for (int t = 0; t < 2; t++) {
		if (!tab[t][0] || !tab[t][1])
			continue;
		int64_t off = pkbox__elf_off(e, tab[t][0], tab[t][1]);
		if (off < 0 || off % 8)
			return -ENOEXEC;
		const Elf64_Rela *r = (const Elf64_Rela *)(e->buf + off);
		for (size_t i = 0; i < tab[t][1] / sizeof(*r); i++) {
			int rc = fn(&r[i], arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* RELR: an address, then bitmaps of the words after it */
int pkbox__elf_each_relr(const struct pkbox_elf *e, int (*fn)(uint64_t va, void *arg), void *arg)
{
	if (!e->relr || !e->relrsz)
		return 0;
	int64_t off = pkbox__elf_off(e, e->relr, e->relrsz);
	if (off < 0 || off % 8)
		return -ENOEXEC;
	const uint64_t *w = (const uint64_t *)(e->buf + off);
	uint64_t where = 0;
	for (size_t i = 0; i < e->relrsz / 8; i++) {
		int rc = 0;
		if (!(w[i] & 1)) {
			where = w[i];
			rc = fn(where, arg);
			where += 8;
		} else {
			for (int b = 0; !rc && b < 63; b++)
				if ((w[i] >> (b + 1)) & 1)
					rc = fn(where + (uint64_t)b * 8, arg);
			where += 63 * 8;
		}
		if (rc)
			return rc;
	}
	return 0;
}

const char *pkbox__elf_needed(const struct pkbox_elf *e, int n)
{
	for (size_t i = 0; i < e->ndyn && e->dyn[i].d_tag != DT_NULL; i++)
		if (e->dyn[i].d_tag == DT_NEEDED && n-- == 0)
			return pkbox__elf_str(e, e->dyn[i].d_un.d_val);
	return NULL;
}
