/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jit - a compartment that generates machine code at run time, under W^X:
 * it writes the code into its own (writable, never executable) memory and
 * asks the host to commit it; the library inspects a copy the compartment
 * cannot touch and hands back an executable address nobody can write.
 * Code that would write PKRU is refused, writing to committed code faults,
 * and making its own memory executable is refused by the seal.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <unistd.h>

#include "pkeysbox.h"

static struct pkbox_domain *dom;
static int commit_id;

struct req {
	const void *code;
	size_t len;
};

/* host callback: commit the compartment's code */
static intptr_t commit_cb(void *a)
{
	struct req r;

	if (pkbox_copy_out(dom, &r, a, sizeof(r)))
		return -EFAULT;
	void *x = pkbox_code_commit(dom, r.code, r.len);
	return x ? (intptr_t)x : -errno;
}

struct work {
	uint8_t buf[64];
	struct req req;
	intptr_t result, refused, mprotect_rc;
	void *exec;
};

static intptr_t jit_main(void *a) /* inside the compartment */
{
	struct work *w = a;
	intptr_t x = 0;

	/* f(n) = n * 7 + 3:  lea eax, [rdi*8]; sub eax, edi; add eax, 3; ret */
	static const uint8_t f[] = { 0x8d, 0x04, 0xfd, 0, 0, 0, 0, 0x29, 0xf8, 0x83, 0xc0, 0x03, 0xc3 };
	memcpy(w->buf, f, sizeof(f));
	w->req.code = w->buf;
	w->req.len = sizeof(f);
	if (pkbox_host_call(commit_id, &w->req, &x) || x < 0)
		return -1;
	w->exec = (void *)x;
	w->result = ((int (*)(int))x)(6);
	/* code that opens every key: refused at commit */
	static const uint8_t evil[] = { 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x0f, 0x01, 0xef, 0xc3 };
	memcpy(w->buf, evil, sizeof(evil));
	w->req.len = sizeof(evil);
	pkbox_host_call(commit_id, &w->req, &x);
	w->refused = x;
	/* its own buffer made executable: refused by the seal */
	w->mprotect_rc = syscall(SYS_mprotect, (uintptr_t)w->buf & ~4095UL, 4096, PROT_READ | PROT_EXEC) ? -errno : 0;
	/* and committed code cannot be written: this faults */
	*(volatile uint8_t *)w->exec = 0xc3;
	return 0;
}

int main(void)
{
	/* sealing needs every object bound eagerly (pkbox_seal(3)) */
	if (!getenv("LD_BIND_NOW")) {
		char *argv[] = { "jit", NULL };
		setenv("LD_BIND_NOW", "1", 1);
		execv("/proc/self/exe", argv);
	}
	if (pkbox_init(NULL)) {
		fprintf(stderr, "jit: %s\n", pkbox_last_error());
		return 2;
	}
	dom = pkbox_domain_create("jit", NULL);
	commit_id = pkbox_callback_register(dom, commit_cb);
	struct work *w = pkbox_calloc(dom, 1, sizeof(*w));
	if (!dom || commit_id < 0 || !w || pkbox_seal(NULL)) {
		fprintf(stderr, "jit: %s\n", pkbox_last_error());
		return 2;
	}
	intptr_t r = 0;
	int rc = pkbox_call(dom, jit_main, w, &r);
	printf("jit (backend %s): generated f(n) = 7n + 3, committed at %p: f(6) = %ld\n",
	       pkbox_backend_name(pkbox_backend()), w->exec, (long)w->result);
	printf("code with WRPKRU: commit %s (%ld)\n", w->refused == -EPERM ? "refused" : "ACCEPTED", (long)w->refused);
	printf("mprotect(own buffer, PROT_EXEC): %s (%ld)\n", w->mprotect_rc == -EPERM ? "refused" : "ALLOWED",
	       (long)w->mprotect_rc);
	PKBOX_OPTS(pkbox_fault, f);
	bool wx = rc == -EFAULT && !pkbox_last_fault(dom, &f) && f.addr == (uintptr_t)w->exec;
	printf("writing to committed code: %s\n", wx ? "fault (W^X holds)" : "NOT STOPPED");
	return w->result == 45 && w->refused == -EPERM && w->mprotect_rc == -EPERM && wx ? 0 : 1;
}
