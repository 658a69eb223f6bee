/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loader.c - plugins mapped by the library itself, never by the dynamic
 * loader, so that loading needs no syscall the seal refuses to others and
 * runs no code of the plugin's (constructors run later, in plugin.c, inside
 * the compartment).
 *
 * The only executable memory anyone may map once sealed comes from one
 * descriptor, the code descriptor: a write-sealed memfd that holds the
 * object's code pages at their offsets in its image and zeros everywhere
 * else, inspected after it was sealed (so everything that can ever be
 * executed from it was inspected).  The seal refuses other executable
 * mappings, executable mappings at fixed addresses, and closing or
 * replacing the descriptor without the token.  An object is mapped whole
 * from it (read and execute), then its data pages are made writable
 * (dropping execute, which MDWE allows), filled from the file and
 * relocated; the protections and keys they end with are the domain's.
 *
 * Symbols resolve in the object itself first, then in the objects loaded
 * with it, then in the process's global scope; the malloc and stdio names
 * of alloc.c resolve to the compartment's own, through any relocation.
 * Only the C runtime (glibc's objects, the sanitizers' runtimes, this
 * library) is shared with the host; every other object a plugin needs is
 * found beside it (its RUNPATH) or in the system's directories and loaded
 * into the same domain, also where the process has a copy of its own.
 * Thread-local storage of the general-dynamic model is served by alloc.c's
 * __tls_get_addr from the compartment's heap.  Refused: IFUNC resolvers,
 * initial-exec TLS and TLS descriptors, text relocations.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "codemap.h"
#include "elfread.h"
#include "fmt.h"
#include "inspect.h"
#include "loader.h"
#include "msg.h"
#include "pages.h"
#include "state.h"
#include "sys.h"

/* Under AddressSanitizer: a plugin built with it registers its globals,
 * and the shadow of its pages outlives our munmap; memory mapped again at
 * those addresses starts clean. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define FRESH(a, n) __asan_unpoison_memory_region((const void *)(a), (n))
#else
#define FRESH(a, n) ((void)(a), (void)(n))
#endif

#define PG_DOWN(x) ((x) & ~(PAGE - 1))
#define PG_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))
#define MAX_OBJ_SIZE (256UL << 20)

/* ---------------------------------------------------------------- the code descriptor */

static int code_memfd(const char *name, size_t len)
{
	char n[80];

	pkbox__fmt(n, sizeof(n), "pkbox-plugin:%s", name);
	int fd = (int)syscall(SYS_memfd_create, n, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (len && ftruncate(fd, (off_t)len)) {
		int er = errno;
		close(fd);
		return -er;
	}
	return fd;
}

static int code_seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) ? -errno : 0;
}

/* ---------------------------------------------------------------- reading */

/* The file, copied into a read-only mapping of its own, outside the pool:
 * the loader and later symbol lookups read it there.  No compartment can
 * change it (read-only; after the seal no call but the library's may
 * re-protect or unmap it), and no switch has to hide it, as it would in the
 * host's private domain: a plugin's objects can be tens of MiB (ICU's
 * data), which each eager switch would hide and show again. */
static int read_obj(const char *path, struct pkbox_obj *o)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = 0;

	if (fd < 0)
		return pkbox__err(-errno, "plugin %s: cannot open: %m", path);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		rc = pkbox__err(-ENOEXEC, "plugin %s: not a regular file", path);
	else if ((uint64_t)st.st_size > MAX_OBJ_SIZE)
		rc = pkbox__err(-EFBIG, "plugin %s: larger than %lu MiB", path, MAX_OBJ_SIZE >> 20);
	o->file_len = (size_t)st.st_size;
	if (!rc) {
		void *m = mmap(NULL, PG_UP(o->file_len ? o->file_len : 1), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			rc = pkbox__err(-ENOMEM, "plugin %s: no room for a copy of it", path);
		else
			FRESH(o->file = m, PG_UP(o->file_len ? o->file_len : 1));
	}
	for (size_t got = 0; !rc && got < o->file_len;) {
		ssize_t n = read(fd, (char *)o->file + got, o->file_len - got);
		if (n <= 0)
			rc = pkbox__err(n < 0 ? -errno : -EIO, "plugin %s: cannot read it", path);
		got += n > 0 ? (size_t)n : 0;
	}
	close(fd);
	if (!rc && pkbox__mprotect(o->file, PG_UP(o->file_len ? o->file_len : 1), PROT_READ))
		rc = pkbox__err(-errno, "plugin %s: cannot make its copy read-only: %m", path);
	return rc;
}

static void drop_file(struct pkbox_obj *o)
{
	if (o->file)
		pkbox__sys(SYS_munmap, 2, (long)o->file, (long)PG_UP(o->file_len ? o->file_len : 1), 0, 0, 0);
	o->file = NULL;
}

static int parse(const struct pkbox_obj *o, struct pkbox_elf *e, const char *path)
{
	memset(e, 0, sizeof(*e));
	e->buf = o->file;
	e->len = o->file_len;
	return pkbox__elf_parse(e, path);
}

static int ifunc_check(const Elf64_Rela *r, void *arg)
{
	const struct pkbox_elf *e = arg;
	uint32_t si = ELF64_R_SYM(r->r_info);
	const Elf64_Sym *s = si ? pkbox__elf_sym(e, si) : NULL;

	if (ELF64_R_TYPE(r->r_info) == R_X86_64_IRELATIVE ||
	    (s && ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC && s->st_shndx != SHN_UNDEF))
		return -ENOTSUP;
	return 0;
}

static int relr_none(uint64_t va, void *arg)
{
	(void)va;
	(void)arg;
	return 0;
}

static int check_obj(const struct pkbox_elf *e, const char *path)
{
	if (e->tls && (e->tls->p_align > PAGE || e->tls->p_filesz > e->tls->p_memsz))
		return pkbox__err(-ENOEXEC, "plugin %s: damaged thread-local storage segment", path);
	int rc = pkbox__elf_each_rela(e, ifunc_check, (void *)e);
	if (rc == -ENOTSUP)
		return pkbox__err(rc, "plugin %s: has IFUNC resolvers (they would run with host rights while "
				      "loading); refused",
				  path);
	if (!rc)
		rc = pkbox__elf_each_relr(e, relr_none, NULL);
	return rc ? pkbox__err(-ENOEXEC, "plugin %s: damaged relocations", path) : 0;
}

/* ---------------------------------------------------------------- mapping */

static bool page_is_code(const struct pkbox_elf *e, uint64_t va)
{
	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];
		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && va >= PG_DOWN(p->p_vaddr) &&
		    va < PG_UP(p->p_vaddr + p->p_memsz))
			return true;
	}
	return false;
}

static bool page_is_data(const struct pkbox_elf *e, uint64_t va)
{
	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];
		if (p->p_type == PT_LOAD && !(p->p_flags & PF_X) && va >= PG_DOWN(p->p_vaddr) &&
		    va < PG_UP(p->p_vaddr + p->p_memsz))
			return true;
	}
	return false;
}

/* The code memfd of e: its code pages at their image offsets, zeros
 * elsewhere; sealed, then inspected as sealed. */
static int code_image(const struct pkbox_elf *e, const char *path, const char *name)
{
	size_t span = e->hi - e->lo;
	int fd = code_memfd(name, span), rc = 0;

	if (fd < 0)
		return pkbox__err(fd, "plugin %s: cannot make its code image: %s", path, pkbox__strerror(-fd));
	for (int i = 0; !rc && i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];
		if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && p->p_filesz &&
		    pwrite(fd, e->buf + p->p_offset, p->p_filesz, (off_t)(p->p_vaddr - e->lo)) != (ssize_t)p->p_filesz)
			rc = pkbox__err(-EIO, "plugin %s: cannot write its code image", path);
	}
	if (!rc && (rc = code_seal(fd)))
		rc = pkbox__err(rc, "plugin %s: cannot seal its code image: %s", path, pkbox__strerror(-rc));
	void *m = rc ? MAP_FAILED : mmap(NULL, span, PROT_READ, MAP_SHARED, fd, 0);
	if (!rc && m == MAP_FAILED)
		rc = pkbox__err(-errno, "plugin %s: cannot read its code image back: %m", path);
	if (!rc) {
		struct pkbox_finding f[1];
		FRESH(m, span);
		if (pkbox__scan(NULL, 0, m, span, e->lo, f, 1))
			rc = pkbox__err(-EPERM, "plugin %s: %s at address %#lx of its code; refused", path,
					pkbox__insn_name(f[0].kind), (unsigned long)f[0].addr);
		pkbox__sys(SYS_munmap, 2, (long)m, (long)span, 0, 0, 0);
	}
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Maps e from the code descriptor, then makes its data pages what they
 * are in the file (writable until relocated), its gaps inaccessible. */
static int map_obj(const struct pkbox_elf *e, struct pkbox_obj *o, const char *path)
{
	int cfd = pkbox__codemap_fd();
	if (cfd < 0)
		return cfd;
	int fd = code_image(e, path, o->name);
	if (fd < 0)
		return fd;
	long r = pkbox__sys(SYS_dup3, 3, fd, cfd, O_CLOEXEC, 0, 0);
	close(fd);
	if (r < 0)
		return pkbox__err(-errno, "plugin %s: cannot install its code image: %m", path);
	size_t span = e->hi - e->lo;
	void *m = (void *)syscall(SYS_mmap, 0UL, span, PROT_READ | PROT_EXEC, MAP_PRIVATE, cfd, 0UL);
	if (m == MAP_FAILED)
		return pkbox__err(-errno, "plugin %s: cannot map it: %m", path);
	FRESH(m, span);
	o->map_lo = (uintptr_t)m;
	o->map_len = span;
	o->bias = (uintptr_t)m - e->lo;
	o->text_lo = UINTPTR_MAX;
	for (uint64_t va = e->lo; va < e->hi;) {
		bool code = page_is_code(e, va), data = !code && page_is_data(e, va);
		uint64_t end = va + PAGE;
		while (end < e->hi && page_is_code(e, end) == code && (!code && page_is_data(e, end)) == data)
			end += PAGE;
		if (code) {
			o->text_lo = o->bias + va < o->text_lo ? o->bias + va : o->text_lo;
			o->text_hi = o->bias + end;
		} else if (pkbox__mprotect((void *)(o->bias + va), end - va, data ? PROT_READ | PROT_WRITE : PROT_NONE)) {
			return pkbox__err(-errno, "plugin %s: cannot protect its pages: %m", path);
		}
		va = end;
	}
	for (int i = 0; i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];
		if (p->p_type == PT_LOAD && !(p->p_flags & PF_X))
			memcpy((void *)(o->bias + p->p_vaddr), e->buf + p->p_offset, p->p_filesz);
	}
	return 0;
}

/* ---------------------------------------------------------------- relocation */

struct reloc_ctx {
	const struct pkbox_elf *e; /* the object relocated */
	struct pkbox_obj *o;
	const struct pkbox_elf *es; /* every object loaded together */
	const struct pkbox_obj *os;
	int n;
	const char *path;
	int self; /* e's index in es */
	struct pkbox_dom *d; /* the domain it is loaded into */
};

/* Where symbol si of the object resolves: 0 with *found false if nowhere. */
static uintptr_t resolve(const struct reloc_ctx *c, uint32_t si, bool *found)
{
	const Elf64_Sym *s = pkbox__elf_sym(c->e, si);
	const char *name = s ? pkbox__elf_str(c->e, s->st_name) : NULL;
	uintptr_t a;

	*found = true;
	if (!s || !name)
		return *found = false, 0;
	if (s->st_shndx != SHN_UNDEF && ELF64_ST_BIND(s->st_info) == STB_LOCAL)
		return c->o->bias + s->st_value;
	if (s->st_shndx == SHN_UNDEF && (a = pkbox__bound(c->d, name)))
		return a;
	if (s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_ABS)
		return c->o->bias + s->st_value;
	for (int i = 0; i < c->n; i++) {
		const Elf64_Sym *d = pkbox__elf_lookup(&c->es[i], name);
		if (d)
			return d->st_shndx == SHN_ABS ? d->st_value : c->os[i].bias + d->st_value;
	}
	const char *ver = pkbox__elf_version(c->e, si);
	void *p = ver ? dlvsym(RTLD_DEFAULT, name, ver) : NULL;
	if (!p)
		p = dlsym(RTLD_DEFAULT, name);
	if (p)
		return (uintptr_t)p;
	*found = ELF64_ST_BIND(s->st_info) == STB_WEAK;
	return 0;
}

/* A thread-local symbol's module (an index into es) and offset in it:
 * 0, or -ENOENT where no object loaded together defines it (the C
 * runtime's TLS is reached through its functions, never directly). */
static int tls_resolve(const struct reloc_ctx *c, uint32_t si, int *mod, uint64_t *off)
{
	const Elf64_Sym *s = si ? pkbox__elf_sym(c->e, si) : NULL;
	const char *name = s ? pkbox__elf_str(c->e, s->st_name) : NULL;

	*mod = c->self;
	*off = 0;
	if (!si) /* the local-dynamic model: the object's own block */
		return 0;
	if (!s)
		return pkbox__err(-ENOEXEC, "plugin %s: damaged thread-local symbol", c->path);
	if (s->st_shndx != SHN_UNDEF) {
		*off = s->st_value;
		return 0;
	}
	for (int i = 0; name && i < c->n; i++) {
		const Elf64_Sym *d = pkbox__elf_lookup_tls(&c->es[i], name);
		if (d && c->es[i].tls) {
			*mod = i;
			*off = d->st_value;
			return 0;
		}
	}
	return pkbox__err(-ENOENT, "plugin %s: thread-local %s is in no object loaded with it", c->path,
			  name ? name : "(damaged)");
}

static bool in_data(const struct reloc_ctx *c, uint64_t va)
{
	return va + 8 > va && page_is_data(c->e, PG_DOWN(va)) && page_is_data(c->e, PG_DOWN(va + 7)) &&
	       va >= c->e->lo && va + 8 <= c->e->hi;
}

static int reloc_one(const Elf64_Rela *r, void *arg)
{
	const struct reloc_ctx *c = arg;
	uint32_t t = ELF64_R_TYPE(r->r_info), si = ELF64_R_SYM(r->r_info);
	uint64_t v;
	bool found = true;

	if (t == R_X86_64_NONE)
		return 0;
	if (!in_data(c, r->r_offset))
		return pkbox__err(-ENOEXEC, "plugin %s: a relocation at %#lx is outside its data", c->path,
				  (unsigned long)r->r_offset);
	switch (t) {
	case R_X86_64_RELATIVE:
		v = c->o->bias + (uint64_t)r->r_addend;
		break;
	case R_X86_64_64:
	case R_X86_64_GLOB_DAT:
	case R_X86_64_JUMP_SLOT:
		v = resolve(c, si, &found) + (uint64_t)r->r_addend;
		if (!found) {
			const Elf64_Sym *s = pkbox__elf_sym(c->e, si);
			const char *n = s ? pkbox__elf_str(c->e, s->st_name) : NULL;
			return pkbox__err(-ENOENT, "plugin %s: undefined symbol %s", c->path, n ? n : "(damaged)");
		}
		break;
	case R_X86_64_DTPMOD64:
	case R_X86_64_DTPOFF64: {
		int mod;
		uint64_t off;
		if (tls_resolve(c, si, &mod, &off))
			return -ENOENT;
		v = t == R_X86_64_DTPMOD64 ? PKBOX_TLS_MOD(mod) : off + (uint64_t)r->r_addend;
		break;
	}
	case R_X86_64_TPOFF64:
	case R_X86_64_TLSDESC:
		return pkbox__err(-ENOTSUP, "plugin %s: uses %s thread-local storage, which only the C runtime can "
					    "have; build it with the general-dynamic model",
				  c->path, t == R_X86_64_TLSDESC ? "descriptor" : "initial-exec");
	default:
		return pkbox__err(-ENOEXEC, "plugin %s: relocation type %u is not supported", c->path, t);
	}
	memcpy((void *)(c->o->bias + r->r_offset), &v, sizeof(v));
	return 0;
}

static int relr_one(uint64_t va, void *arg)
{
	const struct reloc_ctx *c = arg;
	uint64_t v;

	if (!in_data(c, va))
		return pkbox__err(-ENOEXEC, "plugin %s: a relocation at %#lx is outside its data", c->path,
				  (unsigned long)va);
	memcpy(&v, (void *)(c->o->bias + va), sizeof(v));
	v += c->o->bias;
	memcpy((void *)(c->o->bias + va), &v, sizeof(v));
	return 0;
}

/* Final protections: writable segments (and RELRO, read-only) become the
 * domain's; read-only data stays key 0, readable by all. */
static int protect_obj(struct pkbox_dom *d, const struct pkbox_elf *e, const struct pkbox_obj *o)
{
	uint64_t rlo = 0, rhi = 0;
	int rc = 0;

	for (int i = 0; i < e->nph; i++)
		if (e->ph[i].p_type == PT_GNU_RELRO) {
			rlo = o->bias + PG_DOWN(e->ph[i].p_vaddr);
			rhi = o->bias + PG_DOWN(e->ph[i].p_vaddr + e->ph[i].p_memsz);
		}
	for (int i = 0; !rc && i < e->nph; i++) {
		const Elf64_Phdr *p = &e->ph[i];
		if (p->p_type != PT_LOAD || (p->p_flags & PF_X))
			continue;
		uintptr_t lo = o->bias + PG_DOWN(p->p_vaddr), hi = o->bias + PG_UP(p->p_vaddr + p->p_memsz);
		if (!(p->p_flags & PF_W)) {
			if (pkbox__mprotect((void *)lo, hi - lo, PROT_READ))
				rc = pkbox__err(-errno, "cannot protect %#lx-%#lx: %m", (unsigned long)lo, (unsigned long)hi);
			continue;
		}
		uintptr_t a = rlo > lo ? (rlo < hi ? rlo : hi) : lo, b = rhi > lo ? (rhi < hi ? rhi : hi) : lo;
		if (a > lo)
			rc = pkbox__dom_adopt(d, lo, a - lo, PROT_READ | PROT_WRITE);
		if (!rc && b > a)
			rc = pkbox__dom_adopt(d, a, b - a, PROT_READ);
		if (!rc && hi > b)
			rc = pkbox__dom_adopt(d, b, hi - b, PROT_READ | PROT_WRITE);
	}
	return rc;
}

/* ---------------------------------------------------------------- dependencies */

/* The C runtime: one copy per process (one dynamic loader and brk heap,
 * IFUNCs and initial-exec TLS that only the dynamic loader sets up), so it
 * is shared, and the names of it that must be the compartment's own are
 * bound to alloc.c's.  Everything else gets its own copy in the domain: a
 * copy shared with the host would keep its globals, its heap and the
 * function pointers it took to malloc in the host's memory. */
static const char *const runtime_objs[] = {
	"libc.so.", "libm.so.", "libmvec.so.", "libpthread.so.", "libdl.so.", "librt.so.", "libresolv.so.",
	"libanl.so.", "libutil.so.", "libnsl.so.", "libBrokenLocale.so.", "libc_malloc_debug.so.",
	"ld-linux-x86-64.so.", "libasan.so.", "libubsan.so.", "libclang_rt.", "libpkeysbox.so.", NULL,
};

static bool runtime_obj(const char *soname)
{
	for (int i = 0; runtime_objs[i]; i++)
		if (!strncmp(soname, runtime_objs[i], strlen(runtime_objs[i])))
			return true;
	return false;
}

static bool process_has(const char *soname)
{
	void *h = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);

	if (!h)
		return false;
	dlclose(h);
	return true;
}

/* Where the dynamic loader would look: RUNPATH ($ORIGIN expanded), then
 * the system's directories. */
static int find_dep(const struct pkbox_elf *e, const char *origin_path, const char *name, char *out, size_t cap)
{
	static const char *const sys[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
					   "/usr/lib64", "/lib", "/usr/lib", NULL };
	char origin[256];
	const char *slash = strrchr(origin_path, '/');

	if (strchr(name, '/'))
		return pkbox__fmt(out, cap, "%s", name) < (int)cap && !access(out, R_OK) ? 0 : -ENOENT;
	pkbox__fmt(origin, sizeof(origin), "%.*s", slash ? (int)(slash - origin_path) : 1, slash ? origin_path : ".");
	const char *rp = e->has_runpath ? pkbox__elf_str(e, e->runpath) : NULL;
	while (rp && *rp) {
		size_t n = strcspn(rp, ":");
		char dir[256];
		if (n >= 7 && !strncmp(rp, "$ORIGIN", 7))
			pkbox__fmt(dir, sizeof(dir), "%s%.*s", origin, (int)(n - 7), rp + 7);
		else
			pkbox__fmt(dir, sizeof(dir), "%.*s", (int)n, rp);
		if (pkbox__fmt(out, cap, "%s/%s", dir, name) < (int)cap && !access(out, R_OK))
			return 0;
		rp += n + (rp[n] == ':');
	}
	for (int i = 0; sys[i]; i++)
		if (pkbox__fmt(out, cap, "%s/%s", sys[i], name) < (int)cap && !access(out, R_OK))
			return 0;
	return -ENOENT;
}

/* need, which objs[i] needs: shared (1, its name added to shared), already
 * read (0), or to be read as objs[*n] (0, *n one more) */
static int dep_add(const char *path, const char *need, int i, struct pkbox_obj *objs, struct pkbox_elf *es,
		   char (*paths)[256], int *n, char *shared, size_t cap)
{
	if (runtime_obj(need)) {
		if (!process_has(need))
			return pkbox__err(-ENOENT, "plugin %s: needs %s, part of the C runtime, which compartments share "
						   "with the host and the process has not loaded",
					  path, need);
		size_t len = strlen(shared);
		if (!strstr(shared, need) && len + strlen(need) + 3 < cap)
			pkbox__fmt(shared + len, cap - len, "%s%s", len ? ", " : "", need);
		return 1;
	}
	for (int j = 0; j < *n; j++)
		if (!strcmp(objs[j].name, need))
			return 0;
	if (*n == PKBOX_MAX_OBJS)
		return pkbox__err(-E2BIG, "plugin %s: needs more than %d objects", path, PKBOX_MAX_OBJS - 1);
	if (find_dep(&es[i], paths[i], need, paths[*n], sizeof(paths[*n])))
		return pkbox__err(-ENOENT, "plugin %s: cannot find %s, which %s needs", path, need, objs[i].name);
	const char *b = strrchr(need, '/');
	pkbox__fmt(objs[*n].name, sizeof(objs[*n].name), "%s", b ? b + 1 : need);
	(*n)++;
	return 0;
}

/* Reads and checks objs[0] (path), then what it needs but the C runtime,
 * breadth first; the C runtime's objects it needs are named in shared. */
static int gather(const char *path, struct pkbox_obj *objs, struct pkbox_elf *es, int *n, char *shared,
		  size_t cap)
{
	static char paths[PKBOX_MAX_OBJS][256];
	int rc;

	pkbox__fmt(paths[0], sizeof(paths[0]), "%s", path);
	*n = 1;
	for (int i = 0; i < *n; i++) {
		const char *base = strrchr(paths[i], '/');
		pkbox__fmt(objs[i].name, sizeof(objs[i].name), "%s", base ? base + 1 : paths[i]);
		if ((rc = read_obj(paths[i], &objs[i])) || (rc = parse(&objs[i], &es[i], paths[i])) ||
		    (rc = check_obj(&es[i], paths[i])))
			return rc;
		const char *need;
		for (int k = 0; (need = pkbox__elf_needed(&es[i], k)); k++)
			if ((rc = dep_add(path, need, i, objs, es, paths, n, shared, cap)) < 0)
				return rc;
	}
	return 0;
}

static void set_ctors(const struct pkbox_elf *e, struct pkbox_obj *o)
{
	o->init = e->init ? o->bias + e->init : 0;
	o->fini = e->fini ? o->bias + e->fini : 0;
	o->init_array = e->init_array ? o->bias + e->init_array : 0;
	o->fini_array = e->fini_array ? o->bias + e->fini_array : 0;
	o->init_n = e->init_array ? e->init_n : 0;
	o->fini_n = e->fini_array ? e->fini_n : 0;
}

static void set_tls(const struct pkbox_elf *e, struct pkbox_obj *o)
{
	if (!e->tls)
		return;
	o->tls_image = o->bias + e->tls->p_vaddr;
	o->tls_filesz = e->tls->p_filesz;
	o->tls_memsz = e->tls->p_memsz ? e->tls->p_memsz : 1;
	o->tls_align = e->tls->p_align > 16 ? e->tls->p_align : 16;
}

int pkbox__load(struct pkbox_dom *d, const char *path, struct pkbox_obj *objs, int *n, char *shared, size_t cap)
{
	struct pkbox_elf es[PKBOX_MAX_OBJS];
	int rc;

	memset(objs, 0, sizeof(*objs) * PKBOX_MAX_OBJS);
	*n = 0;
	shared[0] = 0;
	rc = gather(path, objs, es, n, shared, cap);
	for (int i = 0; !rc && i < *n; i++)
		rc = map_obj(&es[i], &objs[i], i ? objs[i].name : path);
	for (int i = 0; !rc && i < *n; i++) {
		struct reloc_ctx c = { &es[i], &objs[i], es, objs, *n, i ? objs[i].name : path, i, d };
		rc = pkbox__elf_each_rela(&es[i], reloc_one, &c);
		if (!rc)
			rc = pkbox__elf_each_relr(&es[i], relr_one, &c);
		if (!rc)
			rc = protect_obj(d, &es[i], &objs[i]);
		set_ctors(&es[i], &objs[i]);
		set_tls(&es[i], &objs[i]);
	}
	for (int i = 0; !rc && i < *n; i++) {
		/* the constructor arrays must lie in its data */
		struct reloc_ctx c = { &es[i], &objs[i], es, objs, *n, path, i, d };
		if ((es[i].init_array && !in_data(&c, es[i].init_array + es[i].init_n * 8 - 8)) ||
		    (es[i].fini_array && !in_data(&c, es[i].fini_array + es[i].fini_n * 8 - 8)))
			rc = pkbox__err(-ENOEXEC, "plugin %s: damaged constructor list", objs[i].name);
	}
	return rc; /* on failure the caller destroys the domain, then unloads */
}

void pkbox__unload(struct pkbox_obj *objs, int n)
{
	for (int i = 0; i < n; i++) {
		if (objs[i].map_len)
			pkbox__sys(SYS_munmap, 2, (long)objs[i].map_lo, (long)objs[i].map_len, 0, 0, 0);
		drop_file(&objs[i]);
		memset(&objs[i], 0, sizeof(objs[i]));
	}
}

int pkbox__obj_sym_size(const struct pkbox_obj *o, const char *name, uintptr_t *addr, size_t *size, bool *code)
{
	struct pkbox_elf e;

	if (!o->file || parse(o, &e, o->name))
		return -ENOENT;
	const Elf64_Sym *s = pkbox__elf_lookup(&e, name);
	if (!s && pkbox__elf_lookup_tls(&e, name))
		return -ENOTSUP;
	if (!s || s->st_shndx == SHN_ABS)
		return -ENOENT;
	*addr = o->bias + s->st_value;
	*size = s->st_size;
	*code = *addr >= o->text_lo && *addr < o->text_hi;
	return 0;
}

uintptr_t pkbox__obj_sym(const struct pkbox_obj *o, const char *name, bool *code)
{
	struct pkbox_elf e;

	if (!o->file || parse(o, &e, o->name))
		return 0;
	const Elf64_Sym *s = pkbox__elf_lookup(&e, name);
	if (!s || s->st_shndx == SHN_ABS)
		return 0;
	uintptr_t a = o->bias + s->st_value;
	*code = a >= o->text_lo && a < o->text_hi;
	return a;
}
