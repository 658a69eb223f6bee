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

#include "internal.h"

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

int pkbox__vfmt(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	int saved = errno;

	for (const char *f = fmt; f && *f; f++) {
		if (*f != '%') {
			put(&o, *f);
			continue;
		}
		bool left = false, zero = false, alt = false;
		int width = 0, prec = -1, lng = 0;

		for (f++;; f++) {
			if (*f == '-')
				left = true;
			else if (*f == '0')
				zero = true;
			else if (*f == '#')
				alt = true;
			else
				break;
		}
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				width = width * 10 + (*f++ - '0');
		}
		if (*f == '.') {
			f++;
			prec = 0;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				while (*f >= '0' && *f <= '9')
					prec = prec * 10 + (*f++ - '0');
			}
		}
		for (;; f++) {
			if (*f == 'l')
				lng++;
			else if (*f == 'z')
				lng = 2;
			else if (*f == 'h')
				lng = -1;
			else
				break;
		}
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = lng >= 1 ? va_arg(ap, long) : va_arg(ap, int);

			if (lng < 0)
				v = (short)v;
			put_num(&o, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 10, false, "", width, prec, left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng >= 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			unsigned base = *f == 'u' ? 10 : 16;

			if (lng < 0)
				v = (unsigned short)v;
			put_num(&o, v, false, base, *f == 'X', alt && base == 16 && v ? (*f == 'X' ? "0X" : "0x") : "",
				width, prec, left, zero);
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);

			if (v)
				put_num(&o, v, false, 16, false, "0x", width, -1, left, false);
			else
				put_str(&o, "(nil)", 5, width, left);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			put_str(&o, s, n, width, left);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			put_str(&o, &c, 1, width, left);
			break;
		}
		case 'm': {
			const char *s = strerrordesc_np(saved);

			if (!s)
				s = "unknown error";
			put_str(&o, s, strlen(s), width, left);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:
			/* unknown: copy it as it is */
			put(&o, '%');
			if (!*f)
				f--;
			else
				put(&o, *f);
			break;
		}
	}
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
