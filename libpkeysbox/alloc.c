/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc.c - the heap a plugin's malloc() uses: one arena per domain, inside
 * the domain's own memory, run inside the compartment with its rights.
 *
 * A plugin's references to malloc, free and friends are pointed here when
 * it is loaded (plugin.c), to blocks of its domain's arena (arena.c).
 * Called outside any compartment (the host running a plugin's function
 * directly), it falls back to the C library's heap.  The table of every
 * name the loader binds to a compartment-side version is here too: the
 * malloc family, dlsym, __tls_get_addr and pthread keys (this file), the
 * ends of the process (quit.c), the C library's state (libc_state.c) and
 * stdio (libc_stdio.c).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include "alloc.h"
#include "arena.h"
#include "libc_state.h"
#include "libc_stdio.h"
#include "gate_layout.h"
#include "msg.h"
#include "pages.h"
#include "phase.h"
#include "quit.h"
#include "state.h"
#include "threads.h"

static void *pk_malloc(size_t n)
{
	struct pkbox_arena *a = pkbox__arena_here();

	return a ? pkbox__arena_alloc(a, n) : malloc(n);
}

static void pk_free(void *p)
{
	if (!p)
		return;
	struct pkbox_arena *a = pkbox__arena_of(p);

	if (a)
		pkbox__arena_free(a, p);
	else
		free(p);
}

static void *pk_calloc(size_t n, size_t m)
{
	size_t t;

	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = pk_malloc(t);
	if (p)
		memset(p, 0, t);
	return p;
}

static void *pk_realloc(void *p, size_t n)
{
	if (!p)
		return pk_malloc(n);
	struct pkbox_arena *a = pkbox__arena_of(p);

	return a ? pkbox__arena_realloc(a, p, n) : realloc(p, n);
}

static void *pk_reallocarray(void *p, size_t n, size_t m)
{
	size_t t;

	if (__builtin_mul_overflow(n, m, &t)) {
		errno = ENOMEM;
		return NULL;
	}
	return pk_realloc(p, t);
}

static void *pk_memalign(size_t align, size_t n)
{
	if (align <= 16)
		return pk_malloc(n);
	if (align & (align - 1)) {
		errno = EINVAL;
		return NULL;
	}
	struct pkbox_arena *a = pkbox__arena_here();
	if (!a)
		return aligned_alloc(align, (n + align - 1) & ~(align - 1));
	return pkbox__arena_memalign(a, align, n);
}

static int pk_posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = pk_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

static void *pk_aligned_alloc(size_t align, size_t n)
{
	return pk_memalign(align, n);
}

static char *pk_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = pk_malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

static char *pk_strndup(const char *s, size_t m)
{
	size_t n = strnlen(s, m);
	char *p = pk_malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

static char *pk___strdup(const char *s)
{
	return pk_strdup(s);
}

static char *pk___strndup(const char *s, size_t m)
{
	return pk_strndup(s, m);
}

static void *pk_valloc(size_t n)
{
	return pk_memalign(PAGE, n);
}

static void *pk_pvalloc(size_t n)
{
	return pk_memalign(PAGE, n ? (n + PAGE - 1) & ~(PAGE - 1) : PAGE);
}

static size_t pk_malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	struct pkbox_arena *a = pkbox__arena_of(p);
	if (!a)
		return malloc_usable_size(p);
	return pkbox__arena_room(p);
}

static wchar_t *pk_wcsdup(const wchar_t *s)
{
	size_t n = (wcslen(s) + 1) * sizeof(*s);
	wchar_t *p = pk_malloc(n);

	return p ? memcpy(p, s, n) : NULL;
}

static int pk_vasprintf(char **out, const char *fmt, va_list ap)
{
	va_list aq;

	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	char *p = n < 0 ? NULL : pk_malloc((size_t)n + 1);
	if (!p)
		return -1;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	*out = p;
	return n;
}

static int pk_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = pk_vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

static int pk_vasprintf_chk(char **out, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return pk_vasprintf(out, fmt, ap);
}

static int pk_asprintf_chk(char **out, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	int r = pk_vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

/* getline's buffer grows with the compartment's realloc, not the C
 * library's (which would be handed a block of the arena) */
static ssize_t pk_getdelim(char **line, size_t *cap, int delim, FILE *f)
{
	size_t n = 0;
	int c = 0;

	if (!line || !cap || !f) {
		errno = EINVAL;
		return -1;
	}
	while ((c = pkbox__stdio_getc(f)) != EOF) {
		if (!*line || n + 2 > *cap) {
			size_t want = *cap > 60 ? *cap * 2 : 120;
			char *p = pk_realloc(*line, want);
			if (!p)
				return -1;
			*line = p;
			*cap = want;
		}
		(*line)[n++] = (char)c;
		if (c == delim)
			break;
	}
	if (!n)
		return -1;
	(*line)[n] = 0;
	return (ssize_t)n;
}

static ssize_t pk_getline(char **line, size_t *cap, FILE *f)
{
	return pk_getdelim(line, cap, '\n', f);
}

static char *pk_realpath(const char *path, char *resolved)
{
	char buf[PATH_MAX];

	if (resolved)
		return realpath(path, resolved);
	return realpath(path, buf) ? pk_strdup(buf) : NULL;
}

/* ---------------------------------------------------------------- thread-local storage */

/* A plugin's objects reach their thread-local variables through this (the
 * general-dynamic model: the module id the loader stored, and an offset):
 * blocks in the compartment's own heap, per thread, made on first use from
 * the module's image.  Ids and tables are the compartment's to spoil: a
 * bad one stops the compartment. */
struct tls_index {
	uint64_t mod, off;
};

static void **tls_blocks(struct pkbox_arena *a, unsigned ti)
{
	pid_t tid = pkbox__tdir[ti];

	if (a->tls[ti] && a->tls_tid[ti] != tid) { /* a thread gone; its slot reused */
		for (int m = 0; m < PKBOX_MAX_OBJS; m++)
			if (a->tls[ti][m])
				pkbox__arena_free(a, a->tls[ti][m]);
		pkbox__arena_free(a, a->tls[ti]);
		a->tls[ti] = NULL;
	}
	if (!a->tls[ti]) {
		void **v = pkbox__arena_alloc(a, sizeof(void *) * PKBOX_MAX_OBJS);
		if (!v)
			return NULL;
		memset(v, 0, sizeof(void *) * PKBOX_MAX_OBJS);
		a->tls[ti] = v;
		a->tls_tid[ti] = tid;
	}
	return a->tls[ti];
}

static void *pk_tls_get_addr(const struct tls_index *ix)
{
	unsigned ti = 0;
	struct pkbox_arena *a = pkbox__arena_here_ti(&ti);
	uint64_t m = ix->mod - PKBOX_TLS_MOD(0);

	if (!a || m >= PKBOX_MAX_OBJS || !a->tls_mod[m].memsz)
		abort(); /* outside a compartment, or a module that is not its own */
	const struct pkbox_tls_mod *t = &a->tls_mod[m];
	void **v = tls_blocks(a, ti);
	if (v && !v[m] && (v[m] = pk_memalign(t->align, t->memsz))) {
		memcpy(v[m], (const void *)t->image, t->filesz);
		memset((char *)v[m] + t->filesz, 0, t->memsz - t->filesz);
	}
	if (!v || !v[m])
		abort(); /* the compartment's heap is full: it cannot go on */
	return (char *)v[m] + ix->off;
}

static void *pk_dlsym(void *handle, const char *name);
static void *pk_dlvsym(void *handle, const char *name, const char *ver);
static int pk_key_create(pthread_key_t *key, void (*destructor)(void *));
static int pk_key_delete(pthread_key_t key);

const struct pkbox_heap_fn pkbox__heap_fns[] = {
	{ "malloc", (void *)pk_malloc },
	{ "free", (void *)pk_free },
	{ "calloc", (void *)pk_calloc },
	{ "realloc", (void *)pk_realloc },
	{ "reallocarray", (void *)pk_reallocarray },
	{ "memalign", (void *)pk_memalign },
	{ "posix_memalign", (void *)pk_posix_memalign },
	{ "aligned_alloc", (void *)pk_aligned_alloc },
	{ "valloc", (void *)pk_valloc },
	{ "pvalloc", (void *)pk_pvalloc },
	{ "malloc_usable_size", (void *)pk_malloc_usable_size },
	{ "strdup", (void *)pk_strdup },
	{ "strndup", (void *)pk_strndup },
	{ "__strdup", (void *)pk___strdup },
	{ "__strndup", (void *)pk___strndup },
	{ "wcsdup", (void *)pk_wcsdup },
	{ "asprintf", (void *)pk_asprintf },
	{ "vasprintf", (void *)pk_vasprintf },
	{ "__asprintf_chk", (void *)pk_asprintf_chk },
	{ "__vasprintf_chk", (void *)pk_vasprintf_chk },
	{ "getline", (void *)pk_getline },
	{ "getdelim", (void *)pk_getdelim },
	{ "__getdelim", (void *)pk_getdelim },
	{ "realpath", (void *)pk_realpath },
	{ "dlsym", (void *)pk_dlsym },
	{ "dlvsym", (void *)pk_dlvsym },
	{ "__tls_get_addr", (void *)pk_tls_get_addr },
	/* the ends of the process: stopped (quit.c) */
	{ "exit", (void *)pkbox__quit_exit },
	{ "_exit", (void *)pkbox__quit_exit },
	{ "_Exit", (void *)pkbox__quit_exit },
	{ "quick_exit", (void *)pkbox__quit_exit },
	{ "abort", (void *)pkbox__quit_abort },
	{ "__assert_fail", (void *)pkbox__quit_assert },
	{ "__stack_chk_fail", (void *)pkbox__quit_stack },
	/* code to run later, with the host's rights: taken, never run */
	{ "atexit", (void *)pkbox__quit_atexit },
	{ "at_quick_exit", (void *)pkbox__quit_atexit },
	{ "__cxa_atexit", (void *)pkbox__quit_cxa_atexit },
	{ "__cxa_thread_atexit_impl", (void *)pkbox__quit_cxa_atexit },
	{ "__cxa_finalize", (void *)pkbox__quit_cxa_finalize },
	{ "on_exit", (void *)pkbox__quit_on_exit },
	{ "pthread_atfork", (void *)pkbox__quit_atfork },
	{ "__register_atfork", (void *)pkbox__quit_atfork },
	{ "pthread_key_create", (void *)pk_key_create },
	{ "__pthread_key_create", (void *)pk_key_create },
	{ "pthread_key_delete", (void *)pk_key_delete },
	{ NULL, NULL },
};

/* the table in its three parts: this file's and quit.c's, the C library's
 * state (libc_state.c), stdio (libc_stdio.c) */
static void *fn_named(const char *name)
{
	static const struct pkbox_heap_fn *const parts[] = { pkbox__heap_fns, pkbox__libc_fns, pkbox__stdio_fns };

	for (size_t i = 0; name && i < sizeof(parts) / sizeof(parts[0]); i++)
		for (const struct pkbox_heap_fn *h = parts[i]; h->name; h++)
			if (!strcmp(h->name, name))
				return h->fn;
	return NULL;
}

uintptr_t pkbox__bound(struct pkbox_dom *d, const char *name)
{
	void *p = fn_named(name);

	if (!p && d)
		p = pkbox__libc_data((struct pkbox_arena *)pkbox__arena_dir()[d->idx], name);
	return (uintptr_t)p;
}

/* dlsym() from inside: the names bound are the compartment's there too
 * (RTLD_NEXT, which the C library would resolve from this file, is
 * RTLD_DEFAULT) */
static void *bound_name(const char *name)
{
	void *p = fn_named(name);

	return p ? p : pkbox__libc_data(pkbox__arena_here(), name);
}

static void *pk_dlsym(void *handle, const char *name)
{
	void *p = bound_name(name);

	return p ? p : dlsym(handle == RTLD_NEXT ? RTLD_DEFAULT : handle, name);
}

static void *pk_dlvsym(void *handle, const char *name, const char *ver)
{
	void *p = bound_name(name);

	return p ? p : dlvsym(handle == RTLD_NEXT ? RTLD_DEFAULT : handle, name, ver);
}

int pkbox__arena_tls(struct pkbox_dom *d, int mod, uintptr_t image, size_t filesz, size_t memsz, size_t align)
{
	struct pkbox_arena *a = (struct pkbox_arena *)pkbox__arena_dir()[d->idx];

	if (!a || mod < 0 || mod >= PKBOX_MAX_OBJS)
		return -EINVAL;
	a->tls_mod[mod] = (struct pkbox_tls_mod){ image, filesz, memsz, align };
	return 0;
}

/* The keys d's arena handed out, deleted (the domain's memory goes); under
 * the lock. */
void pkbox__arena_release(struct pkbox_dom *d)
{
	while (d->npthread_keys)
		pthread_key_delete(d->pthread_keys[--d->npthread_keys]);
}

/* pthread_key_create() inside: one of the keys the host made for this
 * compartment, without its destructor (the C library would run it at
 * thread exit with the host's rights) */
static int pk_key_create(pthread_key_t *key, void (*destructor)(void *))
{
	struct pkbox_arena *a = pkbox__arena_here();

	(void)destructor;
	for (int i = 0; a && i < PKBOX_ARENA_KEYS; i++)
		if (!(atomic_fetch_or(&a->keys_taken, 1u << i) & (1u << i))) {
			*key = a->keys[i];
			return 0;
		}
	return EAGAIN;
}

/* pthread_key_delete() inside: the key goes back to the compartment (the
 * values threads keep under it stay until one sets them again) */
static int pk_key_delete(pthread_key_t key)
{
	struct pkbox_arena *a = pkbox__arena_here();

	for (int i = 0; a && i < PKBOX_ARENA_KEYS; i++)
		if (a->keys[i] == key && (atomic_fetch_and(&a->keys_taken, ~(1u << i)) & (1u << i)))
			return 0;
	return EINVAL;
}

/* Gives domain d an arena of size bytes (in its quota); under the lock. */
int pkbox__arena_setup(struct pkbox_dom *d, size_t size)
{
	struct pkbox_arena *a;
	int rc = pkbox__pages_alloc(d, size, (void **)&a);

	if (rc)
		return rc;
	pkbox__arena_init(a, size);
	if ((rc = pkbox__libc_setup(a)))
		return pkbox__err(rc, "a compartment's heap of %zu bytes cannot hold a copy of the environment", size);
	for (d->npthread_keys = 0; d->npthread_keys < PKBOX_ARENA_KEYS; d->npthread_keys++) {
		pthread_key_t k;

		if (pthread_key_create(&k, NULL))
			break;
		d->pthread_keys[d->npthread_keys] = k;
		a->keys[d->npthread_keys] = k;
	}
	/* (the ones not made count as taken) */
	a->keys_taken = (uint32_t)(~0ULL << d->npthread_keys);
	uintptr_t v = (uintptr_t)a;
	pkbox__dir_store(&pkbox__arena_dir()[d->idx], &v, sizeof(v));
	return 0;
}
