/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * api.h - the API edge: what every exported function does on its way in and
 * out.  Internal functions return -errno (with a pending message, msg.h)
 * and touch neither errno nor pkbox_last_error(); an exported function
 *
 *	PKBOX_EXPORT int pkbox_thing(...)
 *	{
 *		PKBOX_API_ENTER();
 *		int rc = thing(...);
 *		return PKBOX_API_RET(rc);
 *	}
 *
 * sets errno and the message on failure only, and leaves errno as it found
 * it on success.  Option structs are taken and given with pkbox__opts_in()
 * and pkbox__opts_out(), the libbpf way.
 */
#ifndef PKBOX_API_H
#define PKBOX_API_H

#include <errno.h>
#include <stddef.h>

#include "pkeysbox.h"
#include "msg.h"

#define PKBOX_EXPORT __attribute__((visibility("default")))

#define PKBOX_API_ENTER() const int pkbox__errno_in = errno
/* int results: < 0 is -errno */
#define PKBOX_API_RET(rc) pkbox__api_ret(pkbox__errno_in, __func__, (rc))
/* pointer results: NULL with err (-errno) on failure */
#define PKBOX_API_RET_PTR(p, err) pkbox__api_ret_ptr(pkbox__errno_in, __func__, (p), (err))

static inline int pkbox__api_ret(int errno_in, const char *fn, int rc)
{
	if (rc < 0) {
		pkbox__publish(fn, rc);
		errno = -rc;
	} else {
		pkbox__pending_clear();
		errno = errno_in;
	}
	return rc;
}

static inline void *pkbox__api_ret_ptr(int errno_in, const char *fn, void *p, int err)
{
	pkbox__api_ret(errno_in, fn, p ? 0 : err < 0 ? err : -ENOMEM);
	return p;
}

/*
 * Copies the caller's option struct `in` (whose first field is its size_t
 * sz) into `own` (own_sz bytes): an sz below v1 (the first version's size)
 * is refused, no byte past sz is read, the fields past sz read as 0, and an
 * sz larger than own_sz is refused unless the bytes beyond own_sz are all 0.
 * in may be NULL: own is all 0 then, sz included.  0 or -EINVAL.
 */
int pkbox__opts_in(void *own, size_t own_sz, const void *in, size_t v1, const char *what);
/*
 * Gives own (own_sz bytes, its sz field ignored) to the caller's `out`:
 * writes min(out->sz, own_sz) bytes, zeroes the bytes of a larger out
 * past own_sz (fields this library does not know), and leaves out->sz as
 * the caller set it; an out of NULL or an sz below v1 is refused.  With own
 * NULL it only checks.  0 or -EINVAL.
 */
int pkbox__opts_out(void *out, const void *own, size_t own_sz, size_t v1, const char *what);

#endif
