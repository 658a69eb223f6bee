/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jit.c - code made at run time, under W^X: pkbox_code_commit() copies code
 * into a writable view that only the host can reach, inspects that copy (so
 * the compartment cannot change it after the check), and returns its
 * address in a second, executable view of the same memory.  No mapping is
 * ever writable and executable, none is created after set-up (the seal
 * refuses new executable memory), and a compartment can write neither view.
 * Commits are separated by INT3 padding so that two commits cannot combine
 * into a PKRU-writing sequence.  Append-only.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "inspect.h"
#include "jit.h"
#include "msg.h"
#include "state.h"

#define PAD 16

int pkbox__jit_setup(void)
{
	int fd = memfd_create("pkbox-code", MFD_CLOEXEC);

	if (fd < 0)
		return pkbox__err(-errno, "cannot create the code area: %m");
	if (ftruncate(fd, (off_t)PKBOX_JIT_SIZE)) {
		close(fd);
		return pkbox__err(-errno, "cannot size the code area: %m");
	}
	void *rw = mmap((void *)pkbox__gc.jit_rw, PKBOX_JIT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	void *rx = mmap((void *)pkbox__gc.jit_rx, PKBOX_JIT_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0);
	close(fd);
	if (rw == MAP_FAILED || rx == MAP_FAILED)
		return pkbox__err(-ENOMEM, "cannot map the code area: %m");
	/* new mappings over the pool: kept from child processes like the rest */
	if (madvise(rw, PKBOX_JIT_SIZE, MADV_DONTFORK) || madvise(rx, PKBOX_JIT_SIZE, MADV_DONTFORK))
		return pkbox__err(-errno, "cannot keep the code area from child processes: %m");
	/* left unpopulated (zero pages, no memory): each commit fills its own
	 * padding with INT3; the writable view is open only while a commit is
	 * written (the mprotect backend: PROT_NONE otherwise, so that no
	 * switch has to hide it) */
	if (pkbox__be->tag((uintptr_t)rw, PKBOX_JIT_SIZE, PROT_READ | PROT_WRITE, pkbox__gc.key_h))
		return pkbox__err(-errno, "cannot key the code area: %m");
	return pkbox__be->code_write(false);
}

/* the commit, into the writable view (open) */
static int commit_write(struct pkbox_dom *d, const void *code, size_t len, void **out)
{
	struct pkbox_finding f[1];
	size_t at = pkbox__st->jit_used;

	*out = NULL;
	if (len > PKBOX_JIT_SIZE - PAD || at + PAD + len > PKBOX_JIT_SIZE)
		return pkbox__err(-ENOSPC, "pkbox_code_commit: %zu bytes do not fit the %lu KiB code area (%zu used)", len,
				  PKBOX_JIT_SIZE >> 10, at);
	uint8_t *dst = (uint8_t *)pkbox__gc.jit_rw + at + PAD;
	size_t end = (at + PAD + len + 15) & ~(size_t)15;
	/* INT3 before and after: no instruction runs into its neighbour */
	memset(dst - PAD, 0xcc, PAD);
	memset(dst + len, 0xcc, end - (at + PAD + len));
	memcpy(dst, code, len);
	/* the check is made on the copy, which only the host can write */
	if (pkbox__scan(NULL, 0, dst, len, pkbox__gc.jit_rx + at + PAD, f, 1)) {
		memset(dst, 0xcc, len);
		return pkbox__err(-EPERM, "pkbox_code_commit: %s at offset %lu of the code for domain %s; refused",
				  pkbox__insn_name(f[0].kind), (unsigned long)(f[0].addr - (pkbox__gc.jit_rx + at + PAD)),
				  d->name);
	}
	pkbox__st->jit_used = end;
	*out = (void *)(pkbox__gc.jit_rx + at + PAD);
	return 0;
}

int pkbox__code_commit(struct pkbox_dom *d, const void *code, size_t len, void **out)
{
	int rc = pkbox__be->code_write(true);

	*out = NULL;
	if (rc)
		return rc;
	rc = commit_write(d, code, len, out);
	/* where closing fails, the backend hides the view at the next entry */
	pkbox__be->code_write(false);
	if (rc)
		return rc;
	pkbox__msg(PKBOX_INFO, "committed %zu bytes of code for domain %s at %p", len, d->name, *out);
	return 0;
}
