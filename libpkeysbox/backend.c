/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backend.c - the choice between the two backends (backend_pku.c,
 * backend_mprotect.c), both behind the interface of backend.h. */
#include "config.h"

#include "backend.h"

const struct pkbox_backend_ops *pkbox__backend_ops(enum pkbox_backend b)
{
	return b == PKBOX_BACKEND_PKU ? &pkbox__be_pku : &pkbox__be_mprotect;
}
