/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msg.c - the library's messages: the pending message of a failing internal
 * step, the published one of pkbox_last_error(), and the printer.
 * They are formatted with fmt.c, never the C library's printf (see there).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "msg.h"
#include "phase.h"
#include "state.h"

__thread PKBOX_TLS char pkbox__pending_buf[256];
static __thread PKBOX_TLS char last_error[256];

/* write(2), not stdio: stderr's FILE is key-0 memory */
static void default_print(enum pkbox_print_level lvl, const char *msg)
{
	char line[320];

	if (lvl != PKBOX_WARN)
		return;
	int n = pkbox__fmt(line, sizeof(line), "libpkeysbox: %s\n", msg);
	if (n >= (int)sizeof(line))
		n = (int)sizeof(line) - 1;
	if (write(2, line, (size_t)n) < 0)
		return;
}

/* Before set-up the default printer is used; after it the function lives in
 * library memory (a compartment cannot redirect it). */
pkbox_print_fn pkbox__print_fn(void)
{
	struct pkbox_state *st = pkbox__ready() ? pkbox__st : NULL;

	if (st && pkbox__inside())
		return NULL;
	if (!st || !st->print_set)
		return default_print;
	return st->print_fn;
}

void pkbox__msg(enum pkbox_print_level lvl, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	pkbox_print_fn fn = pkbox__print_fn();

	if (!fn)
		return;
	va_start(ap, fmt);
	pkbox__vfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fn(lvl, buf);
}

int pkbox__err(int err, const char *fmt, ...)
{
	va_list ap;
	int saved = errno; /* %m reads it; nothing here may change it */
	pkbox_print_fn fn = pkbox__print_fn();

	va_start(ap, fmt);
	pkbox__vfmt(pkbox__pending_buf, sizeof(pkbox__pending_buf), fmt, ap);
	va_end(ap);
	if (fn)
		fn(PKBOX_DEBUG, pkbox__pending_buf);
	errno = saved;
	return err;
}

const char *pkbox__pending(void)
{
	return pkbox__pending_buf;
}

void pkbox__publish(const char *fn, int err)
{
	if (pkbox__pending_buf[0])
		memcpy(last_error, pkbox__pending_buf, sizeof(last_error));
	else
		pkbox__fmt(last_error, sizeof(last_error), "%s: %s", fn, pkbox__errtext(err));
	pkbox__pending_buf[0] = 0;
}

const char *pkbox__last_error(void)
{
	return last_error;
}

const char *pkbox__errtext(int err)
{
	switch (err < 0 ? -(long)err : (long)err) {
	case 0: return "success";
	case EINVAL: return "invalid argument";
	case ENOENT: return "no such domain (unknown or destroyed)";
	case EBUSY: return "domain is in use by a thread";
	case ENOMEM: return "out of memory";
	case EDQUOT: return "domain quota exceeded";
	case ENOSPC: return "no protection key or domain slot left";
	case EFAULT: return "the compartment faulted";
	case ENOTRECOVERABLE: return "domain is marked faulted; reset or destroy it";
	case ENOTSUP: return "backend not available on this CPU or kernel";
	case EALREADY: return "library already set up";
	case ELOOP: return "calls nested too deep";
	case EDEADLK: return "thread is already inside this domain";
	case EPERM: return "operation not permitted here";
	case ENODATA: return "no fault recorded";
	case ENAMETOOLONG: return "name too long";
	case EOVERFLOW: return "size overflow";
	case EAGAIN: return "too many threads";
	case ETIMEDOUT: return "the call ran out of time";
	case E2BIG: return "more than the library can hold";
	case EACCES: return "access denied";
	case ENOEXEC: return "not a plugin the library can load";
	case EEXIST: return "already there";
	case ESRCH: return "this thread is not known to the library";
	case EMFILE: return "no file descriptor left";
	default: return "unknown error";
	}
}
