/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libc_stdio.c - stdio inside a compartment (the loader binds the names:
 * pkbox__stdio_fns).  The C library's FILEs, their buffers, locks and list
 * of open streams are key-0 memory: with key-0 protection a compartment
 * cannot write them, without it a compartment would share (and could spoil)
 * the host's.  So:
 *  - the streams a plugin opens (fopen, fdopen, fmemopen, open_memstream)
 *    are this file's own objects in its arena, with their buffers, and read
 *    and write through the C library's syscall wrappers, which write only
 *    errno (thread-local: the compartment's own copy with key-0
 *    protection, put back at the API edge without);
 *  - its output to stdout and stderr is formatted in its own memory and
 *    written with write(2) at once: unbuffered, same bytes;
 *  - any other stream (one the host handed it) goes to the C library.
 * Called outside a compartment (the host running a plugin's function
 * directly), opening goes to the C library too.  A stream object starts
 * with a FILE's shape, its buffer pointers empty and its flags kept, so the
 * C library's inline getc_unlocked/putc_unlocked/feof_unlocked work on it
 * (they call __uflow/__overflow, bound here).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "arena.h"
#include "libc_stdio.h"
#include "quit.h"

#define CF_MAGIC 0x70637366u
#define CF_BUF 4096
/* the C library's FILE flags its inline macros read */
#define IO_MAGIC 0xfbad0000
#define IO_EOF 0x10
#define IO_ERR 0x20

enum { CF_R = 1, CF_W = 2, CF_APPEND = 4, CF_MEM = 8, CF_DYN = 16, CF_OWNMEM = 32, CF_USERBUF = 64 };

struct cfile {
	FILE f; /* first: what a plugin's FILE * points at */
	uint32_t magic;
	unsigned flags;
	int fd, mode, unget;
	char *buf;
	size_t cap, rpos, rlen, wlen;
	/* memory streams: the bytes, their room, the end of the data, where */
	char *mem;
	size_t size, len, pos;
	char **dyn_ptr;
	size_t *dyn_size;
	_Atomic int lock;
};

static struct cfile *ours(FILE *f)
{
	struct cfile *c = (struct cfile *)f;

	return f && pkbox__arena_of(f) && c->magic == CF_MAGIC ? c : NULL;
}

static int out_fd(FILE *f)
{
	return f == stdout ? 1 : f == stderr ? 2 : -1;
}

static int out_put(int fd, const void *b, size_t n)
{
	const char *p = b;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void set_eof(struct cfile *c)
{
	c->f._flags |= IO_EOF;
}

static void set_err(struct cfile *c)
{
	c->f._flags |= IO_ERR;
}

/* ---------------------------------------------------------------- opening */

/* fopen's mode: open(2) flags and the stream's, or -1 */
static int parse_mode(const char *m, unsigned *cf)
{
	int fl;

	switch (m ? *m : 0) {
	case 'r': fl = O_RDONLY, *cf = CF_R; break;
	case 'w': fl = O_WRONLY | O_CREAT | O_TRUNC, *cf = CF_W; break;
	case 'a': fl = O_WRONLY | O_CREAT | O_APPEND, *cf = CF_W | CF_APPEND; break;
	default: return -1;
	}
	for (m++; *m; m++)
		if (*m == '+')
			fl = (fl & ~(O_RDONLY | O_WRONLY)) | O_RDWR, *cf |= CF_R | CF_W;
		else if (*m == 'e')
			fl |= O_CLOEXEC;
		else if (*m == 'x')
			fl |= O_EXCL;
	return fl;
}

static struct cfile *cf_new(struct pkbox_arena *a, unsigned flags, int fd, size_t cap)
{
	struct cfile *c = pkbox__arena_alloc(a, sizeof(*c));

	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->buf = cap ? pkbox__arena_alloc(a, cap) : NULL;
	if (cap && !c->buf) {
		pkbox__arena_free(a, c);
		return NULL;
	}
	c->f._flags = (int)IO_MAGIC;
	c->f._fileno = fd;
	c->magic = CF_MAGIC;
	c->flags = flags;
	c->fd = fd;
	c->cap = cap;
	c->mode = _IOFBF;
	c->unget = -1;
	return c;
}

static FILE *pk_fopen(const char *path, const char *mode)
{
	struct pkbox_arena *a = pkbox__arena_here();
	unsigned cf = 0;
	int fl;

	if (!a)
		return fopen(path, mode);
	if ((fl = parse_mode(mode, &cf)) < 0) {
		errno = EINVAL;
		return NULL;
	}
	int fd = open(path, fl, 0666);
	if (fd < 0)
		return NULL;
	struct cfile *c = cf_new(a, cf, fd, CF_BUF);
	if (!c) {
		close(fd);
		errno = ENOMEM;
	}
	return c ? &c->f : NULL;
}

static FILE *pk_fdopen(int fd, const char *mode)
{
	struct pkbox_arena *a = pkbox__arena_here();
	unsigned cf = 0;

	if (!a)
		return fdopen(fd, mode);
	if (parse_mode(mode, &cf) < 0 || fd < 0 || fcntl(fd, F_GETFL) < 0) {
		errno = fd < 0 ? EBADF : errno == EBADF ? EBADF : EINVAL;
		return NULL;
	}
	struct cfile *c = cf_new(a, cf, fd, CF_BUF);
	if (!c)
		errno = ENOMEM;
	return c ? &c->f : NULL;
}

static FILE *pk_fmemopen(void *buf, size_t size, const char *mode)
{
	struct pkbox_arena *a = pkbox__arena_here();
	unsigned cf = 0;

	if (!a)
		return fmemopen(buf, size, mode);
	if (parse_mode(mode, &cf) < 0 || !size) {
		errno = EINVAL;
		return NULL;
	}
	struct cfile *c = cf_new(a, cf | CF_MEM | (buf ? 0 : CF_OWNMEM), -1, 0);
	if (c && !buf && !(buf = pkbox__arena_alloc(a, size))) {
		pkbox__arena_free(a, c);
		c = NULL;
	}
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->mem = buf;
	c->size = size;
	if (*mode == 'r') {
		c->len = size;
	} else if (*mode == 'w') {
		c->mem[0] = 0;
	} else {
		c->len = c->pos = strnlen(c->mem, size);
	}
	return &c->f;
}

static FILE *pk_open_memstream(char **ptr, size_t *sizeloc)
{
	struct pkbox_arena *a = pkbox__arena_here();

	if (!a)
		return open_memstream(ptr, sizeloc);
	if (!ptr || !sizeloc) {
		errno = EINVAL;
		return NULL;
	}
	struct cfile *c = cf_new(a, CF_W | CF_MEM | CF_DYN, -1, 0);
	char *m = c ? pkbox__arena_alloc(a, 128) : NULL;
	if (!m) {
		if (c)
			pkbox__arena_free(a, c);
		errno = ENOMEM;
		return NULL;
	}
	m[0] = 0;
	c->mem = m;
	c->size = pkbox__arena_room(m);
	c->dyn_ptr = ptr;
	c->dyn_size = sizeloc;
	*ptr = m;
	*sizeloc = 0;
	return &c->f;
}

/* ---------------------------------------------------------------- reading and writing */

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

static int flush_w(struct cfile *c)
{
	if (!c->wlen)
		return 0;
	int r = out_put(c->fd, c->buf, c->wlen);
	c->wlen = 0;
	if (r)
		set_err(c);
	return r ? EOF : 0;
}

/* from reading to writing: what was read ahead is given back (a memory
 * stream's position already went back with ungetc) */
static int drop_read(struct cfile *c)
{
	off_t back = (off_t)(c->rlen - c->rpos) + (c->unget >= 0);

	c->rpos = c->rlen = 0;
	c->unget = -1;
	if (back && !(c->flags & CF_MEM) && lseek(c->fd, -back, SEEK_CUR) < 0)
		return -1;
	return 0;
}

/* open_memstream's buffer, grown to hold want bytes and a NUL */
static int dyn_grow(struct cfile *c, size_t want)
{
	if (want + 1 <= c->size)
		return 0;
	struct pkbox_arena *a = pkbox__arena_of(c);
	size_t n = c->size * 2 > want + 1 ? c->size * 2 : want + 1;
	char *m = a ? pkbox__arena_realloc(a, c->mem, n) : NULL;
	if (!m)
		return -1;
	c->mem = m;
	c->size = pkbox__arena_room(m);
	return 0;
}

static size_t mem_write(struct cfile *c, const char *p, size_t n)
{
	if (c->flags & CF_APPEND)
		c->pos = c->len;
	if ((c->flags & CF_DYN) && dyn_grow(c, c->pos + n)) {
		set_err(c);
		errno = ENOMEM;
		return 0;
	}
	size_t k = c->pos < c->size ? min_sz(n, c->size - c->pos) : 0;
	memcpy(c->mem + c->pos, p, k);
	c->pos += k;
	if (c->pos > c->len)
		c->len = c->pos;
	if (c->len < c->size) /* fmemopen and open_memstream keep a NUL after the data where there is room */
		c->mem[c->len] = 0;
	if (c->flags & CF_DYN) {
		*c->dyn_ptr = c->mem;
		*c->dyn_size = c->pos;
	}
	if (k < n) {
		set_err(c);
		errno = ENOSPC;
	}
	return k;
}

static size_t file_write(struct cfile *c, const char *p, size_t n)
{
	if (c->mode == _IONBF || n >= c->cap) {
		if (flush_w(c) || out_put(c->fd, p, n)) {
			set_err(c);
			return 0;
		}
		return n;
	}
	for (size_t done = 0; done < n;) {
		size_t k = min_sz(n - done, c->cap - c->wlen);
		memcpy(c->buf + c->wlen, p + done, k);
		c->wlen += k;
		done += k;
		if (c->wlen == c->cap && flush_w(c))
			return done - k;
	}
	if (c->mode == _IOLBF && memchr(p, '\n', n) && flush_w(c))
		return 0;
	return n;
}

static size_t cf_write(struct cfile *c, const void *p, size_t n)
{
	if (!(c->flags & CF_W)) {
		set_err(c);
		errno = EBADF;
		return 0;
	}
	if (!n)
		return 0;
	if ((c->rlen || c->unget >= 0) && drop_read(c)) {
		set_err(c);
		return 0;
	}
	return c->flags & CF_MEM ? mem_write(c, p, n) : file_write(c, p, n);
}

static int fill(struct cfile *c)
{
	ssize_t r;

	if (flush_w(c))
		return -1;
	do
		r = read(c->fd, c->buf, c->cap);
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		if (r)
			set_err(c);
		else
			set_eof(c);
		return -1;
	}
	c->rpos = 0;
	c->rlen = (size_t)r;
	return 0;
}

static size_t cf_read(struct cfile *c, void *p, size_t n)
{
	char *o = p;
	size_t done = 0;

	if (!(c->flags & CF_R)) {
		set_err(c);
		errno = EBADF;
		return 0;
	}
	if (n && c->unget >= 0) {
		o[done++] = (char)c->unget;
		c->unget = -1;
		if (c->flags & CF_MEM)
			c->pos++;
	}
	if (c->flags & CF_MEM) {
		size_t k = c->pos < c->len ? min_sz(n - done, c->len - c->pos) : 0;
		memcpy(o + done, c->mem + c->pos, k);
		c->pos += k;
		if (done + k < n)
			set_eof(c);
		return done + k;
	}
	while (done < n) {
		if (c->rpos == c->rlen && fill(c))
			break;
		size_t k = min_sz(n - done, c->rlen - c->rpos);
		memcpy(o + done, c->buf + c->rpos, k);
		c->rpos += k;
		done += k;
	}
	return done;
}

static int cf_getc(struct cfile *c)
{
	unsigned char ch;

	return cf_read(c, &ch, 1) == 1 ? ch : EOF;
}

static int cf_seek(struct cfile *c, off_t off, int whence)
{
	if (flush_w(c))
		return -1;
	if (c->flags & CF_MEM) {
		off_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (off_t)c->pos
						  : whence == SEEK_END ? (off_t)c->len : -1;
		off_t top = (off_t)(c->flags & CF_DYN ? c->len : c->size);
		if (base < 0 || off < -base || off > top - base) {
			errno = EINVAL;
			return -1;
		}
		c->unget = -1;
		c->pos = (size_t)(base + off);
	} else {
		if (whence == SEEK_CUR)
			off -= (off_t)(c->rlen - c->rpos) + (c->unget >= 0);
		c->rpos = c->rlen = 0;
		c->unget = -1;
		if (lseek(c->fd, off, whence) < 0)
			return -1;
	}
	c->f._flags &= ~IO_EOF;
	return 0;
}

static off_t cf_tell(struct cfile *c)
{
	if (c->flags & CF_MEM)
		return (off_t)c->pos;
	off_t at = lseek(c->fd, 0, SEEK_CUR);
	if (at < 0)
		return -1;
	return at - (off_t)(c->rlen - c->rpos) - (c->unget >= 0) + (off_t)c->wlen;
}

static int cf_close(struct cfile *c)
{
	struct pkbox_arena *a = pkbox__arena_of(c);
	int r = flush_w(c);

	if (c->flags & CF_DYN) {
		*c->dyn_ptr = c->mem;
		*c->dyn_size = min_sz(c->pos, c->len);
	}
	if (!(c->flags & CF_MEM) && close(c->fd))
		r = EOF;
	if (c->flags & CF_OWNMEM)
		pkbox__arena_free(a, c->mem);
	if (c->buf && !(c->flags & CF_USERBUF))
		pkbox__arena_free(a, c->buf);
	c->magic = 0;
	pkbox__arena_free(a, c);
	return r ? EOF : 0;
}

/* ---------------------------------------------------------------- the C library's names */

/* n bytes to f: the compartment's stream, or stdout/stderr written at once */
static int put_to(FILE *f, const void *b, size_t n)
{
	struct cfile *c = ours(f);

	if (c)
		return cf_write(c, b, n) == n ? 0 : -1;
	return out_put(out_fd(f), b, n);
}

/* Formats into the compartment's own memory (its stack, or its heap for
 * long output), then writes. */
static int out_v(FILE *f, const char *fmt, va_list ap)
{
	char buf[1024];
	va_list aq;

	if (!fmt)
		return -1;
	va_copy(aq, ap);
	int n = vsnprintf(buf, sizeof(buf), fmt, aq);
	va_end(aq);
	if (n < 0)
		return n;
	if ((size_t)n < sizeof(buf))
		return put_to(f, buf, (size_t)n) ? -1 : n;
	struct pkbox_arena *a = pkbox__arena_here();
	char *p = a ? pkbox__arena_alloc(a, (size_t)n + 1) : malloc((size_t)n + 1);
	if (!p)
		return -1;
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	int r = put_to(f, p, (size_t)n) ? -1 : n;
	if (a)
		pkbox__arena_free(a, p);
	else
		free(p);
	return r;
}

/* the streams this file writes itself: the compartment's, stdout, stderr */
static bool handled(FILE *f)
{
	return out_fd(f) >= 0 || ours(f);
}

static int pk_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	return handled(f) ? out_v(f, fmt, ap) : vfprintf(f, fmt, ap);
}

static int pk_vprintf(const char *fmt, va_list ap)
{
	return out_v(stdout, fmt, ap);
}

static int pk_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = out_v(stdout, fmt, ap);
	va_end(ap);
	return r;
}

static int pk_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = pk_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

/* _FORTIFY_SOURCE's versions: the flag only asks for %n checks */
static int pk_printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	int r = out_v(stdout, fmt, ap);
	va_end(ap);
	return r;
}

static int pk_fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	int r = pk_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

static int pk_vprintf_chk(int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return out_v(stdout, fmt, ap);
}

static int pk_vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return pk_vfprintf(f, fmt, ap);
}

static int pk_fputs(const char *s, FILE *f)
{
	if (!handled(f))
		return fputs(s, f);
	return put_to(f, s, strlen(s)) ? EOF : 1;
}

static int pk_puts(const char *s)
{
	return out_put(1, s, strlen(s)) || out_put(1, "\n", 1) ? EOF : 1;
}

static int pk_fputc(int c, FILE *f)
{
	unsigned char ch = (unsigned char)c;

	if (!handled(f))
		return fputc(c, f);
	return put_to(f, &ch, 1) ? EOF : ch;
}

static int pk_putchar(int c)
{
	return pk_fputc(c, stdout);
}

/* the C library's inline putc_unlocked() calls this when the buffer it
 * sees is full (a stream of the compartment's: always) */
extern int __overflow(FILE *f, int ch);
static int pk_overflow(FILE *f, int ch)
{
	return handled(f) ? (ch == EOF ? 0 : pk_fputc(ch, f)) : __overflow(f, ch);
}

static size_t pk_fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	size_t t;

	if (!handled(f))
		return fwrite(p, size, n, f);
	if (!size || !n || __builtin_mul_overflow(size, n, &t))
		return 0;
	struct cfile *c = ours(f);
	if (c)
		return cf_write(c, p, t) / size;
	return out_put(out_fd(f), p, t) ? 0 : n;
}

static void pk_perror(const char *s)
{
	char buf[256];
	int e = errno;

	if (s && *s)
		snprintf(buf, sizeof(buf), "%s: %s\n", s, strerror(e));
	else
		snprintf(buf, sizeof(buf), "%s\n", strerror(e));
	out_put(2, buf, strlen(buf));
}

static size_t pk_fread(void *p, size_t size, size_t n, FILE *f)
{
	struct cfile *c = ours(f);
	size_t t;

	if (!c)
		return fread(p, size, n, f);
	if (!size || !n || __builtin_mul_overflow(size, n, &t))
		return 0;
	return cf_read(c, p, t) / size;
}

static size_t pk_fread_chk(void *p, size_t room, size_t size, size_t n, FILE *f)
{
	size_t t;

	if (__builtin_mul_overflow(size, n, &t) || t > room)
		pkbox__quit_stack();
	return pk_fread(p, size, n, f);
}

int pkbox__stdio_getc(FILE *f)
{
	struct cfile *c = ours(f);

	return c ? cf_getc(c) : getc(f);
}

extern int __uflow(FILE *f);
static int pk_uflow(FILE *f)
{
	struct cfile *c = ours(f);

	return c ? cf_getc(c) : __uflow(f);
}

static char *pk_fgets(char *s, int n, FILE *f)
{
	struct cfile *c = ours(f);
	int i = 0;

	if (!c)
		return fgets(s, n, f);
	if (n <= 0)
		return NULL;
	while (i < n - 1) {
		int ch = cf_getc(c);
		if (ch == EOF)
			break;
		s[i++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (!i || (c->f._flags & IO_ERR))
		return NULL;
	s[i] = 0;
	return s;
}

static char *pk_fgets_chk(char *s, size_t room, int n, FILE *f)
{
	if (n > 0 && (size_t)n > room)
		pkbox__quit_stack();
	return pk_fgets(s, n, f);
}

static int pk_ungetc(int ch, FILE *f)
{
	struct cfile *c = ours(f);

	if (!c)
		return ungetc(ch, f);
	if (ch == EOF || c->unget >= 0 || ((c->flags & CF_MEM) && !c->pos))
		return EOF;
	if (c->flags & CF_MEM)
		c->pos--;
	c->unget = (unsigned char)ch;
	c->f._flags &= ~IO_EOF;
	return (unsigned char)ch;
}

/* fflush(NULL) inside flushes nothing: the C library's streams are the
 * host's, and the compartment's own are written when full, at a seek and
 * at fclose */
static int pk_fflush(FILE *f)
{
	struct cfile *c = ours(f);

	if (c)
		return flush_w(c);
	return !f || out_fd(f) >= 0 ? 0 : fflush(f);
}

static int pk_fseeko(FILE *f, off_t off, int whence)
{
	struct cfile *c = ours(f);

	return c ? cf_seek(c, off, whence) : fseeko(f, off, whence);
}

static int pk_fseek(FILE *f, long off, int whence)
{
	return pk_fseeko(f, (off_t)off, whence);
}

static off_t pk_ftello(FILE *f)
{
	struct cfile *c = ours(f);

	return c ? cf_tell(c) : ftello(f);
}

static long pk_ftell(FILE *f)
{
	return (long)pk_ftello(f);
}

static void pk_rewind(FILE *f)
{
	struct cfile *c = ours(f);

	if (!c) {
		rewind(f);
		return;
	}
	cf_seek(c, 0, SEEK_SET);
	c->f._flags &= ~(IO_EOF | IO_ERR);
}

static int pk_feof(FILE *f)
{
	struct cfile *c = ours(f);

	return c ? !!(c->f._flags & IO_EOF) : feof(f);
}

static int pk_ferror(FILE *f)
{
	struct cfile *c = ours(f);

	return c ? !!(c->f._flags & IO_ERR) : ferror(f);
}

static void pk_clearerr(FILE *f)
{
	struct cfile *c = ours(f);

	if (c)
		c->f._flags &= ~(IO_EOF | IO_ERR);
	else
		clearerr(f);
}

static int pk_fileno(FILE *f)
{
	struct cfile *c = ours(f);

	if (!c)
		return fileno(f);
	if (c->fd < 0)
		errno = EBADF;
	return c->fd;
}

static int pk_setvbuf(FILE *f, char *buf, int mode, size_t size)
{
	struct cfile *c = ours(f);

	if (!c)
		return setvbuf(f, buf, mode, size);
	if (mode != _IOFBF && mode != _IOLBF && mode != _IONBF) {
		errno = EINVAL;
		return -1;
	}
	c->mode = mode;
	if (!buf || !size || (c->flags & CF_MEM) || flush_w(c) || c->rlen)
		return 0; /* (the stream's own buffer is kept) */
	if (!(c->flags & CF_USERBUF))
		pkbox__arena_free(pkbox__arena_of(c), c->buf);
	c->buf = buf;
	c->cap = size;
	c->flags |= CF_USERBUF;
	return 0;
}

static void pk_setbuf(FILE *f, char *buf)
{
	pk_setvbuf(f, buf, buf ? _IOFBF : _IONBF, BUFSIZ);
}

static int pk_fclose(FILE *f)
{
	struct cfile *c = ours(f);

	return c ? cf_close(c) : fclose(f);
}

/* the compartment's streams are not locked: a plugin that shares one
 * between threads locks it itself */
static void pk_flockfile(FILE *f)
{
	if (!ours(f))
		flockfile(f);
}

static void pk_funlockfile(FILE *f)
{
	if (!ours(f))
		funlockfile(f);
}

static int pk_ftrylockfile(FILE *f)
{
	return ours(f) ? 0 : ftrylockfile(f);
}

const struct pkbox_heap_fn pkbox__stdio_fns[] = {
	{ "fopen", (void *)pk_fopen },
	{ "fopen64", (void *)pk_fopen },
	{ "fdopen", (void *)pk_fdopen },
	{ "fmemopen", (void *)pk_fmemopen },
	{ "open_memstream", (void *)pk_open_memstream },
	{ "fclose", (void *)pk_fclose },
	{ "printf", (void *)pk_printf },
	{ "fprintf", (void *)pk_fprintf },
	{ "vprintf", (void *)pk_vprintf },
	{ "vfprintf", (void *)pk_vfprintf },
	{ "__printf_chk", (void *)pk_printf_chk },
	{ "__fprintf_chk", (void *)pk_fprintf_chk },
	{ "__vprintf_chk", (void *)pk_vprintf_chk },
	{ "__vfprintf_chk", (void *)pk_vfprintf_chk },
	{ "puts", (void *)pk_puts },
	{ "fputs", (void *)pk_fputs },
	{ "fputs_unlocked", (void *)pk_fputs },
	{ "putchar", (void *)pk_putchar },
	{ "putchar_unlocked", (void *)pk_putchar },
	{ "fputc", (void *)pk_fputc },
	{ "putc", (void *)pk_fputc },
	{ "_IO_putc", (void *)pk_fputc },
	{ "fputc_unlocked", (void *)pk_fputc },
	{ "putc_unlocked", (void *)pk_fputc },
	{ "__overflow", (void *)pk_overflow },
	{ "fwrite", (void *)pk_fwrite },
	{ "fwrite_unlocked", (void *)pk_fwrite },
	{ "perror", (void *)pk_perror },
	{ "fread", (void *)pk_fread },
	{ "fread_unlocked", (void *)pk_fread },
	{ "__fread_chk", (void *)pk_fread_chk },
	{ "__fread_unlocked_chk", (void *)pk_fread_chk },
	{ "fgets", (void *)pk_fgets },
	{ "fgets_unlocked", (void *)pk_fgets },
	{ "__fgets_chk", (void *)pk_fgets_chk },
	{ "__fgets_unlocked_chk", (void *)pk_fgets_chk },
	{ "fgetc", (void *)pkbox__stdio_getc },
	{ "getc", (void *)pkbox__stdio_getc },
	{ "_IO_getc", (void *)pkbox__stdio_getc },
	{ "fgetc_unlocked", (void *)pkbox__stdio_getc },
	{ "getc_unlocked", (void *)pkbox__stdio_getc },
	{ "__uflow", (void *)pk_uflow },
	{ "ungetc", (void *)pk_ungetc },
	{ "fflush", (void *)pk_fflush },
	{ "fflush_unlocked", (void *)pk_fflush },
	{ "fseek", (void *)pk_fseek },
	{ "fseeko", (void *)pk_fseeko },
	{ "fseeko64", (void *)pk_fseeko },
	{ "ftell", (void *)pk_ftell },
	{ "ftello", (void *)pk_ftello },
	{ "ftello64", (void *)pk_ftello },
	{ "rewind", (void *)pk_rewind },
	{ "feof", (void *)pk_feof },
	{ "feof_unlocked", (void *)pk_feof },
	{ "ferror", (void *)pk_ferror },
	{ "ferror_unlocked", (void *)pk_ferror },
	{ "clearerr", (void *)pk_clearerr },
	{ "clearerr_unlocked", (void *)pk_clearerr },
	{ "fileno", (void *)pk_fileno },
	{ "fileno_unlocked", (void *)pk_fileno },
	{ "setvbuf", (void *)pk_setvbuf },
	{ "setbuf", (void *)pk_setbuf },
	{ "flockfile", (void *)pk_flockfile },
	{ "funlockfile", (void *)pk_funlockfile },
	{ "ftrylockfile", (void *)pk_ftrylockfile },
	{ NULL, NULL },
};
