/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plugin.c - shared objects loaded into a compartment.
 *
 * pkbox_plugin_load():
 *  1. reads the file and checks it: ELF, 64-bit, x86-64, a shared object;
 *  2. inspects its executable segments for PKRU-writing instructions;
 *  3. refuses what would run its code with host rights during loading: IFUNC
 *     resolvers (IRELATIVE relocations, STT_GNU_IFUNC definitions); its
 *     constructors and destructors are taken out of the dynamic section and
 *     run later inside the compartment;
 *  4. loads that checked copy from a sealed memfd (it cannot change after
 *     inspection, whatever happens to the file on disk), RTLD_NOW|RTLD_LOCAL;
 *  5. points its malloc family at the compartment's arena (alloc.c);
 *  6. gives its writable segments (data, bss, relro after relocation) to a
 *     new domain: keyed with the domain's key (pku) or hidden while other
 *     domains run (mprotect);
 *  7. runs its constructors inside the compartment; one that faults makes
 *     the load fail and leaves the host as it was.
 * Dependencies (DT_NEEDED) are loaded the ordinary way: they are trusted
 * system libraries and their memory is shared (key 0).
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_PLUGIN_SIZE (256UL << 20)
#define DT_NEUTRAL 0x6ffffdf8 /* DT_CHECKSUM: ignored by the loader */

#define plugs (pkbox__st->plugs)

/* The table lives in library memory (out of compartments' reach). */
/* Is base a loaded plugin's load address?  Under the library lock. */
bool pkbox__plugin_base(uintptr_t base)
{
	for (int i = 0; i < MAX_PLUGINS; i++)
		if (plugs[i].used && plugs[i].base == base)
			return true;
	return false;
}

/* Is a inside a loaded plugin's code?  Under the library lock. */
bool pkbox__plugin_code(uintptr_t a)
{
	for (int i = 0; i < MAX_PLUGINS; i++)
		if (plugs[i].used && a >= plugs[i].text_lo && a < plugs[i].text_hi)
			return true;
	return false;
}

static struct pkbox_plug *plug_get(const struct pkbox_plugin *h, int *err)
{
	uintptr_t v = (uintptr_t)h;
	unsigned i = (unsigned)(v & 0xffff) - 1;

	if (!h) {
		*err = pkbox__err(-EINVAL, "plugin handle is NULL");
		return NULL;
	}
	if (i >= MAX_PLUGINS || !plugs[i].used || plugs[i].gen != (uint32_t)(v >> 16) || plugs[i].dom <= 0 ||
	    plugs[i].dom >= PKBOX_MAX_DOMAINS || !pkbox__st->doms[plugs[i].dom].used) {
		*err = pkbox__err(-ENOENT, "unknown or unloaded plugin %p", (void *)h);
		return NULL;
	}
	return &plugs[i];
}

/* ---------------------------------------------------------------- ELF checks */

struct elf {
	uint8_t *buf;
	size_t len;
	const Elf64_Ehdr *eh;
	const Elf64_Phdr *ph;
	int nph;
};

static bool in_file(const struct elf *e, uint64_t off, uint64_t n)
{
	return off <= e->len && n <= e->len - off;
}

/* file offset of virtual address va (n bytes), or -1 */
static int64_t va_off(const struct elf *e, uint64_t va, uint64_t n)
{
	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];

		if (p->p_type == PT_LOAD && va >= p->p_vaddr && va - p->p_vaddr <= p->p_filesz &&
		    n <= p->p_filesz - (va - p->p_vaddr) && in_file(e, p->p_offset + (va - p->p_vaddr), n))
			return (int64_t)(p->p_offset + (va - p->p_vaddr));
	}
	return -1;
}

static int check_header(struct elf *e, const char *path)
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
	if (e->eh->e_phentsize != sizeof(Elf64_Phdr) || !in_file(e, e->eh->e_phoff, (uint64_t)e->eh->e_phnum * sizeof(Elf64_Phdr)))
		return pkbox__err(-ENOEXEC, "plugin %s: damaged program headers", path);
	e->ph = (const Elf64_Phdr *)(e->buf + e->eh->e_phoff);
	e->nph = e->eh->e_phnum;
	return 0;
}

static int inspect_code(const struct elf *e, const char *path)
{
	struct pkbox_finding f[1];

	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];

		if (p->p_type != PT_LOAD || !(p->p_flags & PF_X))
			continue;
		if (!in_file(e, p->p_offset, p->p_filesz))
			return pkbox__err(-ENOEXEC, "plugin %s: a code segment lies outside the file", path);
		if (pkbox__scan(NULL, 0, e->buf + p->p_offset, p->p_filesz, p->p_vaddr, f, 1))
			return pkbox__err(-EPERM, "plugin %s: %s at address %#lx of its code; refused", path,
					  pkbox__insn_name(f[0].kind), (unsigned long)f[0].addr);
	}
	return 0;
}

struct dyninfo {
	Elf64_Dyn *dyn;
	size_t ndyn;
	uint64_t rela, relasz, jmprel, pltrelsz, symtab, strtab, strsz;
};

static int read_dynamic(struct elf *e, struct dyninfo *di, const char *path)
{
	memset(di, 0, sizeof(*di));
	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];

		if (p->p_type != PT_DYNAMIC)
			continue;
		if (!in_file(e, p->p_offset, p->p_filesz))
			return pkbox__err(-ENOEXEC, "plugin %s: damaged dynamic section", path);
		di->dyn = (Elf64_Dyn *)(e->buf + p->p_offset);
		di->ndyn = p->p_filesz / sizeof(Elf64_Dyn);
	}
	if (!di->dyn)
		return pkbox__err(-ENOEXEC, "plugin %s: no dynamic section", path);
	for (size_t i = 0; i < di->ndyn && di->dyn[i].d_tag != DT_NULL; i++) {
		uint64_t v = di->dyn[i].d_un.d_val;

		switch (di->dyn[i].d_tag) {
		case DT_RELA: di->rela = v; break;
		case DT_RELASZ: di->relasz = v; break;
		case DT_JMPREL: di->jmprel = v; break;
		case DT_PLTRELSZ: di->pltrelsz = v; break;
		case DT_SYMTAB: di->symtab = v; break;
		case DT_STRTAB: di->strtab = v; break;
		case DT_STRSZ: di->strsz = v; break;
		}
	}
	return 0;
}

/* Every relocation of the object: calls fn for each; stops on non-zero. */
static int each_rela(const struct elf *e, const struct dyninfo *di,
		     int (*fn)(const struct elf *, const struct dyninfo *, const Elf64_Rela *, void *), void *arg)
{
	uint64_t tab[2][2] = { { di->rela, di->relasz }, { di->jmprel, di->pltrelsz } };

	for (int t = 0; t < 2; t++) {
		if (!tab[t][0] || !tab[t][1])
			continue;
		int64_t off = va_off(e, tab[t][0], tab[t][1]);
		if (off < 0)
			return -ENOEXEC;
		const Elf64_Rela *r = (const Elf64_Rela *)(e->buf + off);
		for (size_t i = 0; i < tab[t][1] / sizeof(*r); i++) {
			int rc = fn(e, di, &r[i], arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static const Elf64_Sym *sym_at(const struct elf *e, const struct dyninfo *di, uint32_t i)
{
	int64_t off = di->symtab ? va_off(e, di->symtab + (uint64_t)i * sizeof(Elf64_Sym), sizeof(Elf64_Sym)) : -1;

	return off < 0 ? NULL : (const Elf64_Sym *)(e->buf + off);
}

static const char *sym_name(const struct elf *e, const struct dyninfo *di, const Elf64_Sym *s)
{
	if (!s || !di->strtab || s->st_name >= di->strsz)
		return NULL;
	int64_t off = va_off(e, di->strtab + s->st_name, 1);
	if (off < 0)
		return NULL;
	const char *n = (const char *)e->buf + off;
	return memchr(n, 0, e->len - (size_t)off) ? n : NULL;
}

static int ifunc_check(const struct elf *e, const struct dyninfo *di, const Elf64_Rela *r, void *arg)
{
	(void)arg;
	if (ELF64_R_TYPE(r->r_info) == R_X86_64_IRELATIVE)
		return -ENOTSUP;
	uint32_t si = ELF64_R_SYM(r->r_info);
	if (si) {
		const Elf64_Sym *s = sym_at(e, di, si);
		if (s && ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC && s->st_shndx != SHN_UNDEF)
			return -ENOTSUP;
	}
	return 0;
}

/* Takes constructors and destructors out; remembers where they were. */
static void neutralize(struct dyninfo *di, struct pkbox_plug *pl)
{
	for (size_t i = 0; i < di->ndyn && di->dyn[i].d_tag != DT_NULL; i++) {
		Elf64_Dyn *d = &di->dyn[i];
		uint64_t v = d->d_un.d_val;

		switch (d->d_tag) {
		case DT_INIT: pl->init = v; break;
		case DT_INIT_ARRAY: pl->init_array = v; break;
		case DT_INIT_ARRAYSZ: pl->init_n = v / sizeof(uintptr_t); break;
		case DT_FINI: pl->fini = v; break;
		case DT_FINI_ARRAY: pl->fini_array = v; break;
		case DT_FINI_ARRAYSZ: pl->fini_n = v / sizeof(uintptr_t); break;
		case DT_PREINIT_ARRAY:
		case DT_PREINIT_ARRAYSZ: break;
		default: continue;
		}
		d->d_tag = DT_NEUTRAL;
	}
}

/* ---------------------------------------------------------------- heap redirect */

struct redirect_ctx {
	uintptr_t base;
	int patched;
};

static int redirect_one(const struct elf *e, const struct dyninfo *di, const Elf64_Rela *r, void *arg)
{
	struct redirect_ctx *c = arg;
	uint32_t t = ELF64_R_TYPE(r->r_info);

	if (t != R_X86_64_JUMP_SLOT && t != R_X86_64_GLOB_DAT)
		return 0;
	const char *n = sym_name(e, di, sym_at(e, di, ELF64_R_SYM(r->r_info)));
	if (!n)
		return 0;
	for (const struct pkbox_heap_fn *h = pkbox__heap_fns; h->name; h++) {
		if (strcmp(n, h->name))
			continue;
		uintptr_t slot = c->base + r->r_offset;
		int pe = pkbox__poke(slot, &h->fn, sizeof(h->fn));
		if (pe)
			return pe;
		c->patched++;
	}
	return 0;
}

/* ---------------------------------------------------------------- load */

static int read_file(const char *path, struct elf *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return pkbox__err(-errno, "plugin %s: cannot open: %m", path);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return pkbox__err(-ENOEXEC, "plugin %s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > MAX_PLUGIN_SIZE) {
		close(fd);
		return pkbox__err(-EFBIG, "plugin %s: larger than %lu MiB", path, MAX_PLUGIN_SIZE >> 20);
	}
	e->len = (size_t)st.st_size;
	e->buf = malloc(e->len ? e->len : 1);
	if (!e->buf) {
		close(fd);
		return pkbox__err(-ENOMEM, "plugin %s: out of memory", path);
	}
	size_t got = 0;
	while (got < e->len) {
		ssize_t n = read(fd, e->buf + got, e->len - got);
		if (n <= 0) {
			int er = n < 0 ? errno : EIO;
			close(fd);
			free(e->buf);
			return pkbox__err(-er, "plugin %s: cannot read: %s", path, strerror(er));
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

static int sealed_copy(const struct elf *e, const char *name)
{
	char n[64];

	snprintf(n, sizeof(n), "pkbox-plugin:%s", name);
	int fd = memfd_create(n, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	size_t put = 0;
	while (put < e->len) {
		ssize_t w = write(fd, e->buf + put, e->len - put);
		if (w <= 0) {
			close(fd);
			return -EIO;
		}
		put += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		int er = errno;
		close(fd);
		return -er;
	}
	return fd;
}

static intptr_t run_init(void *fn)
{
	((void (*)(void))fn)();
	return 0;
}

static int run_list(struct pkbox_domain *dh, uintptr_t one, uintptr_t array, size_t n, bool reverse)
{
	int rc = 0;

	if (!reverse && one)
		rc = pkbox_call(dh, run_init, (void *)one, NULL);
	for (size_t i = 0; !rc && i < n; i++) {
		uintptr_t f = ((uintptr_t *)array)[reverse ? n - 1 - i : i];
		if (f && f != (uintptr_t)-1)
			rc = pkbox_call(dh, run_init, (void *)f, NULL);
	}
	if (!rc && reverse && one)
		rc = pkbox_call(dh, run_init, (void *)one, NULL);
	return rc;
}

static void forget(struct pkbox_plug *pl, struct pkbox_domain *dh)
{
	if (pl->dl)
		dlclose(pl->dl);
	if (pl->fd >= 0)
		close(pl->fd);
	if (dh)
		pkbox_domain_destroy(dh);
	uint32_t gen = pl->gen;
	memset(pl, 0, sizeof(*pl));
	pl->gen = gen;
	pl->fd = -1;
}

PKBOX_EXPORT struct pkbox_plugin *pkbox_plugin_load(const char *path, const char *name,
						    const struct pkbox_plugin_opts *opts)
{
	struct elf e = { 0 };
	struct dyninfo di;
	struct pkbox_plug *pl = NULL;
	struct pkbox_domain *dh = NULL;
	int rc;

	if ((rc = pkbox__ensure_init()))
		return NULL;
	if (!path || !*path) {
		pkbox__err(-EINVAL, "pkbox_plugin_load: path is NULL or empty");
		return NULL;
	}
	if (opts && opts->sz < sizeof(size_t) * 2) {
		pkbox__err(-EINVAL, "pkbox_plugin_load: opts->sz is too small");
		return NULL;
	}
	if (!name) {
		name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	}
	if (pkbox_sealed()) {
		pkbox__err(-EPERM, "pkbox_plugin_load(%s): the process is sealed; load plugins before pkbox_seal()", path);
		return NULL;
	}
	for (int i = 0; i < MAX_PLUGINS; i++)
		if (!plugs[i].used) {
			pl = &plugs[i];
			break;
		}
	if (!pl) {
		pkbox__err(-ENOSPC, "pkbox_plugin_load(%s): %d plugins are loaded already", path, MAX_PLUGINS);
		return NULL;
	}
	if ((rc = read_file(path, &e)))
		return NULL;
	memset(pl, 0, offsetof(struct pkbox_plug, gen));
	pl->gen++;
	pl->fd = -1;
	pl->used = true;
	snprintf(pl->path, sizeof(pl->path), "%s", path);
	if ((rc = check_header(&e, path)) || (rc = inspect_code(&e, path)) || (rc = read_dynamic(&e, &di, path)))
		goto fail;
	rc = each_rela(&e, &di, ifunc_check, NULL);
	if (rc) {
		rc = pkbox__err(rc == -ENOTSUP ? -ENOTSUP : -ENOEXEC,
				"plugin %s: %s", path,
				rc == -ENOTSUP ? "has IFUNC resolvers (they would run with host rights while loading); refused"
					       : "damaged relocations");
		goto fail;
	}
	neutralize(&di, pl);
	pl->fd = sealed_copy(&e, name);
	if (pl->fd < 0) {
		rc = pkbox__err(pl->fd, "plugin %s: cannot make a sealed copy: %s", path, strerror(-pl->fd));
		pl->fd = -1;
		goto fail;
	}
	struct pkbox_domain_opts dopts = { .sz = sizeof(dopts), .quota = opts ? opts->quota : 0 };
	dh = pkbox_domain_create(name, &dopts);
	if (!dh) {
		rc = -errno;
		goto fail;
	}
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", pl->fd);
	pl->dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!pl->dl) {
		rc = pkbox__err(-ENOEXEC, "plugin %s: the loader refused it: %s", path, dlerror());
		goto fail;
	}
	struct link_map *lm = NULL;
	if (dlinfo(pl->dl, RTLD_DI_LINKMAP, &lm) || !lm) {
		rc = pkbox__err(-ENOEXEC, "plugin %s: no link map", path);
		goto fail;
	}
	pl->base = lm->l_addr;
	/* the compartment's heap */
	struct redirect_ctx rc_ctx = { pl->base, 0 };
	if ((rc = each_rela(&e, &di, redirect_one, &rc_ctx))) {
		rc = pkbox__err(rc, "plugin %s: cannot redirect its heap: %s", path, strerror(-rc));
		goto fail;
	}
	pkbox__lock();
	int drc;
	struct pkbox_dom *d = pkbox__dom_get(dh, &drc);
	pl->dom = d ? d->idx : 0;
	size_t heap = opts && opts->heap ? opts->heap : (d ? d->quota / 2 : 0);
	rc = d ? pkbox__arena_setup(d, heap) : drc;
	/* its writable segments become the domain's; relro stays read-only */
	uintptr_t relro_lo = 0, relro_hi = 0;
	for (int i = 0; i < e.nph; i++)
		if (e.ph[i].p_type == PT_GNU_RELRO) {
			relro_lo = pl->base + (e.ph[i].p_vaddr & ~(PAGE - 1));
			relro_hi = (pl->base + e.ph[i].p_vaddr + e.ph[i].p_memsz) & ~(PAGE - 1);
		}
	for (int i = 0; !rc && i < e.nph; i++) {
		const Elf64_Phdr *p = &e.ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		uintptr_t lo = (pl->base + p->p_vaddr) & ~(PAGE - 1);
		uintptr_t hi = (pl->base + p->p_vaddr + p->p_memsz + PAGE - 1) & ~(PAGE - 1);
		if (p->p_flags & PF_X) {
			pl->text_lo = lo;
			pl->text_hi = hi;
			continue;
		}
		if (!(p->p_flags & PF_W))
			continue;
		if (relro_hi > lo && relro_lo < hi) {
			uintptr_t rlo = relro_lo > lo ? relro_lo : lo, rhi = relro_hi < hi ? relro_hi : hi;
			if (rlo > lo)
				rc = pkbox__dom_adopt(d, lo, rlo - lo, PROT_READ | PROT_WRITE);
			if (!rc)
				rc = pkbox__dom_adopt(d, rlo, rhi - rlo, PROT_READ);
			if (!rc && hi > rhi)
				rc = pkbox__dom_adopt(d, rhi, hi - rhi, PROT_READ | PROT_WRITE);
		} else {
			rc = pkbox__dom_adopt(d, lo, hi - lo, PROT_READ | PROT_WRITE);
		}
	}
	pkbox__unlock();
	if (rc)
		goto fail;
	if (pl->init_array)
		pl->init_array += pl->base;
	if (pl->fini_array)
		pl->fini_array += pl->base;
	if (pl->init)
		pl->init += pl->base;
	if (pl->fini)
		pl->fini += pl->base;
	rc = run_list(dh, pl->init, pl->init_array, pl->init_n, false);
	if (rc) {
		struct pkbox_fault f = { .sz = sizeof(f) };
		char what[160] = "";
		if (!pkbox_last_fault(dh, &f))
			snprintf(what, sizeof(what), ": %s at %#lx, signal %d",
				 f.access == PKBOX_FAULT_WRITE ? "write" : f.access == PKBOX_FAULT_EXEC ? "exec" : "read",
				 (unsigned long)f.addr, f.signo);
		rc = pkbox__err(rc, "plugin %s: its constructor faulted in the compartment%s", path, what);
		goto fail;
	}
	free(e.buf);
	pkbox__msg(PKBOX_INFO, "plugin %s loaded into domain %s (%d heap references redirected)", path, name,
		   rc_ctx.patched);
	return (struct pkbox_plugin *)(uintptr_t)(((uintptr_t)pl->gen << 16) | (uintptr_t)(pl - plugs + 1));
fail:
	free(e.buf);
	forget(pl, dh);
	errno = -rc;
	return NULL;
}

PKBOX_EXPORT struct pkbox_domain *pkbox_plugin_domain(const struct pkbox_plugin *h)
{
	int rc;
	struct pkbox_domain *d = NULL;

	if (pkbox__ensure_init())
		return NULL;
	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	if (pl)
		d = pkbox__dom_handle(&pkbox__st->doms[pl->dom]);
	pkbox__unlock();
	return d;
}

PKBOX_EXPORT void *pkbox_plugin_sym(const struct pkbox_plugin *h, const char *sym)
{
	int rc;
	void *p = NULL;

	if (pkbox__ensure_init())
		return NULL;
	if (!sym || !*sym) {
		pkbox__err(-EINVAL, "pkbox_plugin_sym: symbol is NULL or empty");
		return NULL;
	}
	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	if (pl) {
		dlerror();
		p = dlsym(pl->dl, sym);
		if (!p)
			pkbox__err(-ENOENT, "pkbox_plugin_sym: no symbol %s in plugin %s", sym, pl->path);
		else if ((uintptr_t)p < pl->text_lo || (uintptr_t)p >= pl->text_hi) {
			pkbox__err(-ENOENT, "pkbox_plugin_sym: %s is not a function of plugin %s", sym, pl->path);
			p = NULL;
		}
	}
	pkbox__unlock();
	return p;
}

PKBOX_EXPORT int pkbox_plugin_unload(struct pkbox_plugin *h)
{
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	pkbox__lock();
	struct pkbox_plug *pl = plug_get(h, &rc);
	struct pkbox_domain *dh = pl ? pkbox__dom_handle(&pkbox__st->doms[pl->dom]) : NULL;
	bool faulted = pl && pkbox__st->doms[pl->dom].faulted;
	pkbox__unlock();
	if (!pl)
		return rc;
	/* destructors inside the compartment (not after a fault) */
	if (!faulted && pkbox_domain_faulted(dh) == 0)
		run_list(dh, pl->fini, pl->fini_array, pl->fini_n, true);
	rc = pkbox_domain_destroy(dh);
	if (rc == -EBUSY)
		return rc;
	forget(pl, NULL);
	return 0;
}

/* ---------------------------------------------------------------- boundary */

PKBOX_EXPORT void *pkbox_copy_in(struct pkbox_domain *h, const void *src, size_t n)
{
	if (!src && n) {
		pkbox__err(-EINVAL, "pkbox_copy_in: src is NULL");
		return NULL;
	}
	void *p = pkbox_malloc(h, n ? n : 1);
	if (p && n)
		memcpy(p, src, n);
	return p;
}

PKBOX_EXPORT int pkbox_copy_out(const struct pkbox_domain *h, void *dst, const void *src, size_t n)
{
	int rc = pkbox__ensure_init();

	if (rc)
		return rc;
	if ((!dst || !src) && n)
		return pkbox__err(-EINVAL, "pkbox_copy_out: dst or src is NULL");
	pkbox__lock();
	struct pkbox_dom *d = pkbox__dom_get(h, &rc);
	if (d) {
		uintptr_t a = (uintptr_t)src;
		rc = pkbox__err(-EFAULT, "pkbox_copy_out: %p + %zu is not memory of domain %s", src, n, d->name);
		if (a + n >= a) {
			for (int r = 0; r < PKBOX_MAX_REGIONS; r++) {
				struct pkbox_region *g = &pkbox__st->regions[r];
				if (g->used && g->dom == d->idx && a >= g->base && a + n <= g->base + g->pages * PAGE) {
					memcpy(dst, src, n);
					rc = 0;
					break;
				}
			}
		}
	}
	pkbox__unlock();
	return rc;
}
