/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fmt.c - the library's own snprintf.
 *
 * The C library's printf family consults state in key-0 memory (the tables
 * of register_printf_specifier(), locale data, gettext catalogues for %m),
 * which a compartment can write when key-0 protection is off; a function
 * pointer planted there would run with host rights the next time the
 * library formats a message after a call.  So the library formats with this
 * instead: no tables, no locale, and %m from strerrordesc_np().
 *
 * Supported: flags - 0 #, width and precision (digits or *), the length
 * modifiers hh h l ll z, and the conversions d i u x X p s c m %.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fmt.h"

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const char *s, size_t n, int width, bool left)
{
	if (!left)
		pad(o, ' ', width - (int)n);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		pad(o, ' ', width - (int)n);
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper, const char *prefix, int width,
		    int prec, bool left, bool zero)
{
	char d[24];
	int n = 0;
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	while (v) {
		d[n++] = digits[v % base];
		v /= base;
	}
	if (prec < 0 && n == 0)
		d[n++] = '0';
	int zeros = prec > n ? prec - n : 0;
	int plen = (int)strlen(prefix) + (neg ? 1 : 0);
	int total = plen + zeros + n;

	if (zero && !left && prec < 0) {
		zeros += width > total ? width - total : 0;
		total = plen + zeros + n;
	}
	if (!left)
		pad(o, ' ', width - total);
	if (neg)
		put(o, '-');
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	pad(o, '0', zeros);
	while (n)
		put(o, d[--n]);
	if (left)
		pad(o, ' ', width - total);
}

/* one conversion: %[flags][width][.precision][length]c */
struct spec {
	bool left, zero, alt;
	int width, prec, lng;
};

static const char *parse_num(const char *f, int *v, va_list *ap)
{
	if (*f == '*') {
		*v = va_arg(*ap, int);
		return f + 1;
	}
	*v = 0;
	while (*f >= '0' && *f <= '9')
		*v = *v * 10 + (*f++ - '0');
	return f;
}

/* f: just past the '%'; returns where the conversion character is */
static const char *parse_spec(const char *f, struct spec *s, va_list *ap)
{
	*s = (struct spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			s->left = true;
		else if (*f == '0')
			s->zero = true;
		else if (*f == '#')
			s->alt = true;
		else
			break;
	}
	bool star = *f == '*';
	f = parse_num(f, &s->width, ap);
	if (star && s->width < 0) {
		s->left = true;
		s->width = -s->width;
	}
	if (*f == '.')
		f = parse_num(f + 1, &s->prec, ap);
	for (;; f++) {
		if (*f == 'l')
			s->lng++;
		else if (*f == 'z')
			s->lng = 2;
		else if (*f == 'h')
			s->lng = -1;
		else
			break;
	}
	return f;
}

/* d i u x X */
static void conv_int(struct out *o, char c, const struct spec *s, va_list *ap)
{
	if (c == 'd' || c == 'i') {
		int64_t v = s->lng >= 1 ? va_arg(*ap, long) : va_arg(*ap, int);

		if (s->lng < 0)
			v = (short)v;
		put_num(o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 10, false, "", s->width, s->prec, s->left,
			s->zero);
		return;
	}
	uint64_t v = s->lng >= 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned int);
	unsigned base = c == 'u' ? 10 : 16;

	if (s->lng < 0)
		v = (unsigned short)v;
	put_num(o, v, false, base, c == 'X', s->alt && base == 16 && v ? (c == 'X' ? "0X" : "0x") : "", s->width,
		s->prec, s->left, s->zero);
}

/* p s c m */
static void conv_other(struct out *o, char c, const struct spec *s, va_list *ap, int saved)
{
	const char *str = NULL;
	char ch;

	if (c == 'p') {
		uintptr_t v = (uintptr_t)va_arg(*ap, void *);

		if (v)
			put_num(o, v, false, 16, false, "0x", s->width, -1, s->left, false);
		else
			put_str(o, "(nil)", 5, s->width, s->left);
	} else if (c == 's') {
		str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		put_str(o, str, s->prec >= 0 ? strnlen(str, (size_t)s->prec) : strlen(str), s->width, s->left);
	} else if (c == 'c') {
		ch = (char)va_arg(*ap, int);
		put_str(o, &ch, 1, s->width, s->left);
	} else {
		str = strerrordesc_np(saved);
		if (!str)
			str = "unknown error";
		put_str(o, str, strlen(str), s->width, s->left);
	}
}

/* f: at the conversion character; returns the last character used */
static const char *convert(struct out *o, const char *f, const struct spec *s, va_list *ap, int saved)
{
	if (*f && strchr("diuxX", *f)) {
		conv_int(o, *f, s, ap);
	} else if (*f && strchr("pscm", *f)) {
		conv_other(o, *f, s, ap, saved);
	} else if (*f == '%') {
		put(o, '%');
	} else {
		/* unknown: copy it as it is */
		put(o, '%');
		if (!*f)
			return f - 1;
		put(o, *f);
	}
	return f;
}

int pkbox__vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	int saved = errno;
	struct spec s;
	va_list aq;

	va_copy(aq, ap);
	for (const char *f = fmt; f && *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		f = parse_spec(f + 1, &s, &aq);
		f = convert(&o, f, &s, &aq, saved);
	}
	va_end(aq);
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = 0;
	errno = saved;
	return o.len > INT32_MAX ? INT32_MAX : (int)o.len;
}

int pkbox__fmt(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = pkbox__vfmt(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}
