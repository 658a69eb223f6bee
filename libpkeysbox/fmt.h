/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fmt.h - the library's own snprintf (fmt.c) and strerror: no tables, no
 * locale, nothing of the C library's state in key-0 memory.  The lowest
 * layer: calls nothing of the library. */
#ifndef PKBOX_FMT_H
#define PKBOX_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

int pkbox__vfmt(char *buf, size_t cap, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
int pkbox__fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline const char *pkbox__strerror(int e)
{
	const char *s = strerrordesc_np(e);

	return s ? s : "unknown error";
}

#endif
