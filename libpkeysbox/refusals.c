/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * refusals.c - the record of syscalls the seal refused: the last refusal
 * made to a compartment (in the library's state) and the counts.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <linux/audit.h>

#include "fmt.h"
#include "msg.h"
#include "refusals.h"
#include "state.h"

static _Atomic unsigned long host_refusals; /* by host code: counted in its own memory */

void pkbox__refusal_record(struct pkbox_dom *d, long nr_arch, uintptr_t ip)
{
	struct pkbox_refusal *r = &pkbox__st->last_refusal;
	long nr = nr_arch & 0xffffffffL;
	unsigned arch = (unsigned)((unsigned long)nr_arch >> 32);

	memset(r, 0, sizeof(*r));
	r->sz = sizeof(*r);
	pkbox__fmt(r->domain, sizeof(r->domain), "%s", d->name);
	r->nr = nr;
	r->arch = arch ? arch : AUDIT_ARCH_X86_64;
	r->ip = ip;
	pkbox__st->refusals++;
	pkbox__msg(PKBOX_WARN, "refused syscall %ld%s in domain %s", nr,
		   r->arch == AUDIT_ARCH_X86_64 ? ((nr & 0x40000000) ? " (x32)" : "") : " (i386)", d->name);
}

void pkbox__refusal_host(void)
{
	atomic_fetch_add(&host_refusals, 1);
}

unsigned long pkbox__refusal_count(void)
{
	return pkbox__st->refusals + atomic_load(&host_refusals);
}

int pkbox__refusal_last(struct pkbox_refusal *out)
{
	if (!pkbox__st->last_refusal.sz)
		return pkbox__err(-ENODATA, "pkbox_last_refusal: no compartment has been refused a syscall");
	*out = pkbox__st->last_refusal;
	return 0;
}
