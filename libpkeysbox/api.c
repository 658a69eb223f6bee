/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* api.c - the API edge's option structs, taken and given the libbpf way. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "api.h"
#include "msg.h"

int pkbox__opts_in(void *own, size_t own_sz, const void *in, size_t v1, const char *what)
{
	size_t sz;

	memset(own, 0, own_sz);
	if (!in)
		return 0;
	memcpy(&sz, in, sizeof(sz));
	if (sz < v1)
		return pkbox__err(-EINVAL, "%s: sz %zu is smaller than the first version (%zu)", what, sz, v1);
	for (size_t i = own_sz; i < sz; i++)
		if (((const unsigned char *)in)[i])
			return pkbox__err(-EINVAL,
					  "%s: sz %zu is larger than this library knows (%zu) and byte %zu is not 0",
					  what, sz, own_sz, i);
	memcpy(own, in, sz < own_sz ? sz : own_sz);
	return 0;
}

int pkbox__opts_out(void *out, const void *own, size_t own_sz, size_t v1, const char *what)
{
	size_t sz;

	if (!out)
		return pkbox__err(-EINVAL, "%s: the output struct is NULL", what);
	memcpy(&sz, out, sizeof(sz));
	if (sz < v1)
		return pkbox__err(-EINVAL, "%s: sz %zu is smaller than the first version (%zu)", what, sz, v1);
	if (!own)
		return 0; /* a check only */
	size_t n = sz < own_sz ? sz : own_sz;
	if (n > sizeof(sz))
		memcpy((char *)out + sizeof(sz), (const char *)own + sizeof(sz), n - sizeof(sz));
	if (sz > own_sz) /* a newer caller: the fields this library does not know are 0 */
		memset((char *)out + own_sz, 0, sz - own_sz);
	return 0;
}
