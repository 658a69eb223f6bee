/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* allocforms.c - a plugin that takes memory in every form the C library
 * offers: malloc through its PLT, through a GOT load, through function
 * pointers in its data (R_X86_64_64 relocations), through dlsym() and
 * dlvsym(), and the aligned, page, duplicating and formatting allocators.
 * The host checks that each block is memory of the plugin's domain. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define MAX_FORMS 32

struct forms {
	int n;
	int bad;                /* a form that failed, or a usable size that is too small */
	const char *name[MAX_FORMS];
	void *p[MAX_FORMS];
};

typedef void *(*malloc_fn)(size_t);

/* pointers to the C library's functions in data: R_X86_64_64 */
static malloc_fn data_malloc = malloc;
void *(*data_calloc)(size_t, size_t) = calloc;
static void *(*data_realloc)(void *, size_t) = realloc;
static void (*data_free)(void *) = free;

static void add(struct forms *f, const char *name, void *p, size_t size)
{
	if (f->n == MAX_FORMS)
		return;
	if (!p || malloc_usable_size(p) < size)
		f->bad++;
	else
		memset(p, 0x5a, size);
	f->name[f->n] = name;
	f->p[f->n++] = p;
}

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

intptr_t alloc_forms(void *arg);
intptr_t alloc_forms(void *arg)
{
	struct forms *f = arg;
	void *p = NULL;
	char *s = NULL;
	malloc_fn volatile got = malloc; /* a GOT load: R_X86_64_GLOB_DAT */

	add(f, "malloc", malloc(100), 100);
	add(f, "GOT malloc", got(200), 200);
	add(f, "data malloc", data_malloc(300), 300);
	add(f, "data calloc", data_calloc(4, 100), 400);
	add(f, "data realloc", data_realloc(data_malloc(10), 5000), 5000);
	add(f, "dlsym malloc", ((malloc_fn)dlsym(RTLD_DEFAULT, "malloc"))(64), 64);
	add(f, "dlsym RTLD_NEXT malloc", ((malloc_fn)dlsym(RTLD_NEXT, "malloc"))(64), 64);
	add(f, "dlvsym malloc", ((malloc_fn)dlvsym(RTLD_DEFAULT, "malloc", "GLIBC_2.2.5"))(64), 64);
	add(f, "calloc", calloc(3, 33), 99);
	add(f, "realloc", realloc(malloc(8), 70000), 70000);
	add(f, "reallocarray", reallocarray(NULL, 10, 100), 1000);
	add(f, "posix_memalign", posix_memalign(&p, 256, 1000) ? NULL : p, 1000);
	add(f, "aligned_alloc", aligned_alloc(64, 640), 640);
	add(f, "memalign", memalign(128, 300), 300);
	add(f, "valloc", valloc(5000), 5000);
	add(f, "pvalloc", pvalloc(100), 4096);
	add(f, "strdup", strdup("a string"), 9);
	add(f, "strndup", strndup("a longer string", 4), 5);
	add(f, "wcsdup", wcsdup(L"wide"), 5 * sizeof(wchar_t));
	add(f, "asprintf", asprintf(&s, "%d-%s", 42, "x") < 0 ? NULL : s, 5);
	add(f, "vasprintf", fmt("%s%s", "ab", "cd"), 5);
	for (int i = 0; i < f->n; i++) {
		uintptr_t a = (uintptr_t)f->p[i];
		if ((!strcmp(f->name[i], "posix_memalign") && a % 256) || (!strcmp(f->name[i], "aligned_alloc") && a % 64) ||
		    (!strcmp(f->name[i], "memalign") && a % 128) || (strstr(f->name[i], "valloc") && a % 4096))
			f->bad++;
	}
	return f->n;
}

/* every block back, through free() and the pointer in data */
intptr_t free_forms(void *arg);
intptr_t free_forms(void *arg)
{
	struct forms *f = arg;

	for (int i = 0; i < f->n; i++)
		(i % 2 ? data_free : free)(f->p[i]);
	return 0;
}
