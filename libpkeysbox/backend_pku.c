/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backend_pku.c - the pku backend: memory is tagged with protection keys
 * once; a switch is one WRPKRU in gate.S, checked against a gate record
 * the host publishes here.  A compartment is told apart by its PKRU: the
 * library key access- and write-disabled, a value only the gate writes.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "backend.h"
#include "cpu.h"
#include "fmt.h"
#include "gate_layout.h"
#include "keys.h"
#include "msg.h"
#include "state.h"
#include "sys.h"

#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif

/* ---------------------------------------------------------------- set-up */

static int pku_usable(void)
{
	const struct pkbox_cpu *c = pkbox__cpu();
	int kerr = 0;

	if (!c->pku)
		return pkbox__err(-ENOTSUP, "pku backend requested, but the CPU has no PKU (CPUID.(7,0):ECX[3] = 0)");
	if (!c->ospke)
		return pkbox__err(-ENOTSUP, "pku backend requested, but the kernel has not enabled PKU (CPUID.(7,0):ECX[4] OSPKE = 0)");
	if (!pkbox__kernel_pkeys(&kerr))
		return pkbox__err(-ENOTSUP, "pku backend requested, but pkey_alloc() fails: %s", pkbox__strerror(kerr));
	return 0;
}

static int pku_lib_keys(int *key_h, int *key_r)
{
	*key_h = (int)syscall(SYS_pkey_alloc, 0UL, 0UL);
	*key_r = (int)syscall(SYS_pkey_alloc, 0UL, 0UL);
	if (*key_h < 0 || *key_r < 0)
		return pkbox__err(-ENOSPC, "cannot allocate the library's two protection keys: %s", pkbox__strerror(errno));
	return 0;
}

/* in host-keyed memory */
static struct pkbox_lock *pku_lock_word(void)
{
	return &pkbox__st->mu;
}

static int pku_setup_meta(struct pkbox_gatecfg *gc)
{
	(void)gc;
	return 0;
}

/* ---------------------------------------------------------------- memory */

static int pku_dom_key(void)
{
	int key = pkbox__pkey_alloc();

	return key < 0 ? -ENOSPC : key;
}

static int pku_tag(uintptr_t base, size_t len, int prot, int pkey)
{
	return pkbox__pkey_mprotect(base, len, prot, pkey);
}

static void pku_untag(uintptr_t base, size_t len)
{
	(void)base;
	(void)len;
}

static int pku_to_key0(uintptr_t base, size_t len, int prot)
{
	return pkbox__pkey_mprotect(base, len, prot, 0);
}

/* a key is per page, rights per domain: a shared region gets a key of its own */
/* the writable view is keyed H: only host code reaches it, always */
static int pku_code_write(bool on)
{
	(void)on;
	return 0;
}

static int pku_share(struct pkbox_region *g)
{
	if (g->gkey >= 0)
		return 0;
	int key = pkbox__pkey_alloc();

	if (key < 0)
		return -ENOSPC;
	if (pku_tag(g->base, g->pages * PAGE, PROT_READ | PROT_WRITE, key)) {
		int e = errno;

		pkbox__pkey_free(key);
		return -e;
	}
	g->gkey = key;
	return 0;
}

/* ---------------------------------------------------------------- the switch */

/* (WRPKRU in gate.S is the switch: nothing to hide or show) */
static int pku_enter(struct pkbox_dom *d, struct pkbox_switch *sw)
{
	(void)d;
	(void)sw;
	return 0;
}

static int pku_leave(struct pkbox_switch *sw)
{
	(void)sw;
	return 0;
}

static void pku_record_publish(struct pkbox_frame *f)
{
	pkbox__record_write(f);
}

static void pku_record_clear(struct pkbox_frame *f)
{
	pkbox__record_withdraw(f);
}

/* calls on several threads run at once */
static void pku_no_lock(void)
{
}

/* ---------------------------------------------------------------- faults */

/* PKRU as saved in the signal frame's XSAVE area; NULL if not there
 * (make: put it there, in its init state 0, if it is not). */
static uint32_t *frame_pkru(ucontext_t *uc, bool make)
{
	char *x = (char *)uc->uc_mcontext.fpregs;
	uint32_t off = pkbox__gc.xsave_pkru_offset;

	if (!x || !off)
		return NULL;
	/* struct _fpx_sw_bytes at 464: magic1, extended_size, xfeatures */
	uint32_t magic1, ext_size;
	uint64_t xfeatures, xstate_bv;
	memcpy(&magic1, x + 464, 4);
	memcpy(&ext_size, x + 468, 4);
	memcpy(&xfeatures, x + 472, 8);
	if (magic1 != 0x46505853U || !(xfeatures & (1ULL << 9)) || off + 4 > ext_size)
		return NULL;
	memcpy(&xstate_bv, x + 512, 8);
	if (!(xstate_bv & (1ULL << 9))) {
		/* PKRU in its init state (0) */
		if (!make)
			return NULL;
		memset(x + off, 0, 8);
		xstate_bv |= 1ULL << 9;
		memcpy(x + 512, &xstate_bv, 8);
	}
	return (uint32_t *)(x + off);
}

/* A compartment's PKRU: the library key access- and write-disabled, a
 * value only the gate writes. */
static bool pkru_of_compartment(uint32_t pkru)
{
	return ((pkru >> (2 * pkbox__gc.key_h)) & 3) == 3;
}

static bool pku_inside(struct ucontext_t *uc)
{
	uint32_t *pk = frame_pkru((ucontext_t *)uc, false);

	return pk && pkru_of_compartment(*pk);
}

/* (this backend runs only where CPUID says PKU and OSPKE) */
static bool pku_inside_now(void)
{
	uint32_t pkru;

	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(pkru) : "c"(0) : "rdx"); /* rdpkru */
	return pkru_of_compartment(pkru);
}

/* A host thread whose PKRU predates the library's keys (threads are born
 * with keys 1-15 closed): open them and retry. */
static bool pku_host_fault(struct ucontext_t *ucv, const siginfo_t *si, bool in_pool)
{
	ucontext_t *uc = (ucontext_t *)ucv;
	uint32_t *pk = in_pool ? frame_pkru(uc, false) : NULL;

	if (!in_pool || si->si_code != SEGV_PKUERR || !pk || *pk == 0)
		return false;
	pk = frame_pkru(uc, true);
	if (!pk)
		return false;
	*pk = 0;
	return true;
}

/* ---------------------------------------------------------------- the seal */

static int pku_keys_preallocate(void)
{
	int n = 0;

	for (;;) {
		long k = syscall(SYS_pkey_alloc, 0UL, 0UL);

		if (k < 0)
			break;
		pkbox__pkey_free((int)k);
		n++;
	}
	return n;
}

/* the whole state area, keyed with the host key */
static uint64_t pku_state_len(void)
{
	return PKBOX_META_SIZE;
}

const struct pkbox_backend_ops pkbox__be_pku = {
	.name = "pku",
	.id = PKBOX_BACKEND_PKU,
	.gate = PKBOX_GATE_WRPKRU,
	.keyed = true,
	.no_key0 = NULL,
	.lockfree_calls = true,
	.gatepage_prot = PROT_READ | PROT_WRITE,
	.waitroom_prot = PROT_NONE,
	.code_view_prot = PROT_READ | PROT_WRITE,
	.usable = pku_usable,
	.lib_keys = pku_lib_keys,
	.lock_word = pku_lock_word,
	.setup_meta = pku_setup_meta,
	.dom_key = pku_dom_key,
	.tag = pku_tag,
	.untag = pku_untag,
	.to_key0 = pku_to_key0,
	.share = pku_share,
	.code_write = pku_code_write,
	.enter = pku_enter,
	.leave = pku_leave,
	.record_publish = pku_record_publish,
	.record_clear = pku_record_clear,
	.call_lock = pku_no_lock,
	.call_unlock = pku_no_lock,
	.timer_how = SIG_UNBLOCK, /* open all along: outside a compartment its handler ignores it */
	.inside = pku_inside,
	.inside_now = pku_inside_now,
	.host_fault = pku_host_fault,
	.keys_preallocate = pku_keys_preallocate,
	.state_len = pku_state_len,
};
