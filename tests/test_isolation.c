/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_isolation.c - what a compartment can and cannot touch, and how its
 * faults are contained and reported.  Each of these fails if the backend's
 * protect step is removed. */
#include "common.h"

#include <signal.h>
#include <time.h>

#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif

static struct pkbox_domain *A, *B;
static char *secret;      /* host private */
static char *a_mem, *b_mem;
static const char SECRET[] = "the host's private key: 5f1d";

static int setup(void **state)
{
	(void)state;
	A = pkbox_domain_create("alpha", NULL);
	B = pkbox_domain_create("beta", NULL);
	secret = pkbox_malloc_flags(pkbox_host_domain(), sizeof(SECRET), PKBOX_MALLOC_GUARD); /* granted below */
	a_mem = pkbox_malloc_flags(A, 4096, PKBOX_MALLOC_GUARD); /* granted: page-granular */
	b_mem = pkbox_malloc_flags(B, 4096, PKBOX_MALLOC_GUARD);
	if (!A || !B || !secret || !a_mem || !b_mem)
		return -1;
	strcpy(secret, SECRET);
	strcpy(b_mem, "beta's data");
	return 0;
}

static void fresh(struct pkbox_domain **d, char **mem, const char *name)
{
	if (pkbox_domain_faulted(*d) == 1) {
		assert_int_equal(pkbox_domain_reset(*d), 0);
		*mem = pkbox_malloc_flags(*d, 4096, PKBOX_MALLOC_GUARD); /* granted: page-granular */
		assert_non_null(*mem);
		(void)name;
	}
}

static intptr_t read_byte(void *p)
{
	return *(volatile char *)p;
}

static intptr_t write_byte(void *p)
{
	*(volatile char *)p = 'X';
	return 0;
}

static intptr_t copy_secret_out(void *p)
{
	/* a plugin that would leak it into its own memory */
	memcpy(a_mem, p, sizeof(SECRET));
	return 1;
}

static void expect_fault(struct pkbox_domain *d, const char *dom, void *addr, int access, const char *owner)
{
	struct pkbox_fault f = { .sz = sizeof(f) };

	assert_int_equal(pkbox_domain_faulted(d), 1);
	assert_int_equal(pkbox_last_fault(d, &f), 0);
	assert_string_equal(f.domain, dom);
	assert_ptr_equal((void *)f.addr, addr);
	assert_int_equal(f.signo, SIGSEGV);
	assert_int_equal(f.access, access);
	assert_string_equal(f.owner, owner);
	if (pkbox_test_is_pku()) {
		assert_int_equal(f.si_code, SEGV_PKUERR);
		assert_true(f.pkey > 0);
	} else {
		assert_int_equal(f.si_code, SEGV_ACCERR);
	}
	/* the domain must be reset before it runs again */
	assert_int_equal(pkbox_call(d, read_byte, NULL, NULL), -ENOTRECOVERABLE);
}

static void test_own_memory(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;

	fresh(&A, &a_mem, "alpha");
	strcpy(a_mem, "abc");
	assert_int_equal(pkbox_call(A, read_byte, a_mem + 1, &r), 0);
	assert_int_equal(r, 'b');
	assert_int_equal(pkbox_call(A, write_byte, a_mem, &r), 0);
	assert_int_equal(a_mem[0], 'X');
}

static void test_read_host_secret(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;
	unsigned long before = pkbox_fault_count();

	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, read_byte, secret + 3, &r), -EFAULT);
	assert_int_equal(errno, EFAULT);
	expect_fault(A, "alpha", secret + 3, PKBOX_FAULT_READ, "host");
	assert_int_equal(pkbox_fault_count(), before + 1);
	assert_string_equal(secret, SECRET);
}

static void test_write_host_secret(void **state)
{
	(void)state;
	pkbox_signals_install();
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, write_byte, secret, NULL), -EFAULT);
	expect_fault(A, "alpha", secret, PKBOX_FAULT_WRITE, "host");
	assert_string_equal(secret, SECRET);
}

static void test_leak_secret(void **state)
{
	(void)state;
	pkbox_signals_install();
	fresh(&A, &a_mem, "alpha");
	memset(a_mem, 0, 4096);
	assert_int_equal(pkbox_call(A, copy_secret_out, secret, NULL), -EFAULT);
	assert_null(memmem(a_mem, 4096, "5f1d", 4));
	assert_string_equal(secret, SECRET);
}

/* mprotect: the gate page's words (the gate lock, the phase, the library
 * lock) cannot be written from inside: its read-only view faults, and its
 * writable view, the last page of the library's state (from the public
 * layout of the gate configuration), is hidden with the state */
static void test_gate_page(void **state)
{
	(void)state;
	pkbox_signals_install();
	if (pkbox_test_is_pku())
		return; /* (pku keeps the lock words in host-keyed memory) */
	const volatile uint64_t *gc = (const volatile uint64_t *)0x500002008000UL;
	char *ro = (char *)0x50000200a000UL, *rw = (char *)(uintptr_t)(gc[7] + gc[8] - 4096);
	intptr_t r = 0;

	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, write_byte, ro, NULL), -EFAULT);
	expect_fault(A, "alpha", ro, PKBOX_FAULT_WRITE, "library");
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, read_byte, rw, NULL), -EFAULT);
	expect_fault(A, "alpha", rw, PKBOX_FAULT_READ, "library");
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, write_byte, rw, NULL), -EFAULT);
	expect_fault(A, "alpha", rw, PKBOX_FAULT_WRITE, "library");
	fresh(&A, &a_mem, "alpha");
	strcpy(a_mem, "abc");
	assert_int_equal(pkbox_call(A, read_byte, a_mem, &r), 0);
	assert_int_equal(r, 'a');
}

/* the code area's writable view (two views of 16 MiB each below the
 * executable one, in the public layout) is out of a compartment's reach,
 * before and after a commit, and commits still work around calls */
static void test_code_view(void **state)
{
	static const unsigned char ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 }; /* mov $42, %eax; ret */
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;

	fresh(&A, &a_mem, "alpha");
	void *x = pkbox_code_commit(A, ret42, sizeof(ret42));
	assert_non_null(x);
	char *w = (char *)x - (32UL << 20);
	assert_int_equal(pkbox_call(A, (pkbox_fn)x, NULL, &r), 0);
	assert_int_equal(r, 42);
	assert_int_equal(pkbox_call(A, write_byte, w, NULL), -EFAULT);
	expect_fault(A, "alpha", w, PKBOX_FAULT_WRITE, "library");
	fresh(&A, &a_mem, "alpha");
	void *y = pkbox_code_commit(A, ret42, sizeof(ret42));
	assert_non_null(y);
	assert_int_equal(pkbox_call(A, (pkbox_fn)y, NULL, &r), 0);
	assert_int_equal(r, 42);
}

static void test_other_domain(void **state)
{
	(void)state;
	pkbox_signals_install();
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, read_byte, b_mem, NULL), -EFAULT);
	expect_fault(A, "alpha", b_mem, PKBOX_FAULT_READ, "beta");
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, write_byte, b_mem + 5, NULL), -EFAULT);
	expect_fault(A, "alpha", b_mem + 5, PKBOX_FAULT_WRITE, "beta");
	assert_string_equal(b_mem, "beta's data");
}

static void test_grant_revoke(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;

	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_grant(B, b_mem, A, PKBOX_ACCESS_READ), 0);
	assert_int_equal(pkbox_call(A, read_byte, b_mem, &r), 0);
	assert_int_equal(r, 'b');
	/* read-only: a write faults */
	assert_int_equal(pkbox_call(A, write_byte, b_mem, NULL), -EFAULT);
	expect_fault(A, "alpha", b_mem, PKBOX_FAULT_WRITE, "beta");
	assert_int_equal(b_mem[0], 'b');
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_grant(B, b_mem, A, PKBOX_ACCESS_RW), 0);
	assert_int_equal(pkbox_call(A, write_byte, b_mem + 20, NULL), 0);
	assert_int_equal(b_mem[20], 'X');
	/* the owner still has it */
	assert_int_equal(pkbox_call(B, read_byte, b_mem + 20, &r), 0);
	assert_int_equal(r, 'X');
	assert_int_equal(pkbox_revoke(B, b_mem, A), 0);
	assert_int_equal(pkbox_call(A, read_byte, b_mem, NULL), -EFAULT);
	expect_fault(A, "alpha", b_mem, PKBOX_FAULT_READ, "beta");
	assert_int_equal(pkbox_call(B, read_byte, b_mem, &r), 0);
	assert_int_equal(r, 'b');
	/* host memory granted read-only to a compartment */
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_grant(pkbox_host_domain(), secret, A, PKBOX_ACCESS_READ), 0);
	assert_int_equal(pkbox_call(A, read_byte, secret, &r), 0);
	assert_int_equal(r, SECRET[0]);
	assert_int_equal(pkbox_revoke(pkbox_host_domain(), secret, A), 0);
	assert_int_equal(pkbox_call(A, read_byte, secret, NULL), -EFAULT);
	assert_string_equal(secret, SECRET);
}

static intptr_t overflow(void *p)
{
	char *c = p;
	for (int i = 0; i < 100000; i++)
		c[i] = 1;
	return 0;
}

static void test_guard_pages(void **state)
{
	(void)state;
	pkbox_signals_install();
	fresh(&A, &a_mem, "alpha");
	char *obj = pkbox_malloc_flags(A, 100, PKBOX_MALLOC_GUARD);
	assert_non_null(obj);
	assert_int_equal(pkbox_call(A, overflow, obj, NULL), -EFAULT);
	struct pkbox_fault f = { .sz = sizeof(f) };
	assert_int_equal(pkbox_last_fault(A, &f), 0);
	/* the first byte past the object (rounded to 16) is a guard page */
	assert_ptr_equal((void *)f.addr, obj + 112);
	assert_int_equal(f.access, PKBOX_FAULT_WRITE);
	assert_string_equal(f.owner, "guard");
}

static int recurse(int n)
{
	volatile char pad[512];
	pad[0] = (char)n;
	return n ? recurse(n - 1) + pad[0] : 0;
}

static intptr_t deep(void *p)
{
	(void)p;
	return recurse(1 << 20);
}

static void test_stack_overflow(void **state)
{
	(void)state;
	pkbox_signals_install();
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, deep, NULL, NULL), -EFAULT);
	struct pkbox_fault f = { .sz = sizeof(f) };
	assert_int_equal(pkbox_last_fault(A, &f), 0);
	assert_int_equal(f.signo, SIGSEGV);
	assert_string_equal(f.domain, "alpha");
}

static intptr_t illegal(void *p)
{
	(void)p;
	__asm__ volatile("ud2");
	return 0;
}

static intptr_t div0(void *p)
{
	int q = 10, z = (int)(intptr_t)p;

	__asm__ volatile("cltd; idivl %1" : "+a"(q) : "r"(z) : "edx");
	return q;
}

static void test_other_signals(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_fault f = { .sz = sizeof(f) };

	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, illegal, NULL, NULL), -EFAULT);
	assert_int_equal(pkbox_last_fault(A, &f), 0);
	assert_int_equal(f.signo, SIGILL);
	assert_int_equal(pkbox_domain_reset(A), 0);
	a_mem = pkbox_malloc(A, 4096);
	assert_int_equal(pkbox_call(A, div0, NULL, NULL), -EFAULT);
	assert_int_equal(pkbox_last_fault(A, &f), 0);
	assert_int_equal(f.signo, SIGFPE);
}

static intptr_t null_deref(void *p)
{
	int v;

	/* a load the compiler (and UBSan) cannot see as undefined */
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static void test_null_in_compartment(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_fault f = { .sz = sizeof(f) };

	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, null_deref, NULL, NULL), -EFAULT);
	assert_int_equal(pkbox_last_fault(A, &f), 0);
	assert_int_equal(f.addr, 0);
	assert_int_equal(f.si_code, SEGV_MAPERR);
	assert_string_equal(f.owner, "");
}

static intptr_t ret_arg(void *a)
{
	return (intptr_t)a;
}

static void test_pkru_after_return(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r;

	/* After every return, fault or not, the host has all its rights back */
	fresh(&A, &a_mem, "alpha");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(pkbox_call(A, ret_arg, (void *)(intptr_t)i, &r), 0);
		assert_int_equal(r, i);
		assert_string_equal(secret, SECRET);
		b_mem[100] = (char)i;
	}
	assert_int_equal(pkbox_call(A, read_byte, secret, NULL), -EFAULT);
	assert_string_equal(secret, SECRET);
	secret[0] = 't';
	strcpy(b_mem + 200, "host writes everywhere");
	a_mem[0] = 1;
}

/* pkbox_host_run(): host code on a stack in the host's private domain */
static intptr_t try_host_run(void *p)
{
	(void)p;
	return pkbox_host_run(read_byte, a_mem, 0, NULL);
}

static intptr_t inner_run(void *p)
{
	return (intptr_t)p + 1;
}

static intptr_t host_run_body(void *p)
{
	volatile char here = 'h';
	intptr_t r = 0;

	*(char **)p = (char *)&here;
	/* its frames are the host's private memory */
	assert_ptr_equal(pkbox_domain_of((const void *)&here), pkbox_host_domain());
	/* calls into compartments work from here, faults are contained */
	fresh(&A, &a_mem, "alpha");
	strcpy(a_mem, "xyz");
	assert_int_equal(pkbox_call(A, read_byte, a_mem + 2, &r), 0);
	assert_int_equal(r, 'z');
	/* a compartment cannot write (or read) this stack */
	assert_int_equal(pkbox_call(A, write_byte, (void *)&here, NULL), -EFAULT);
	expect_fault(A, "alpha", (void *)&here, PKBOX_FAULT_WRITE, "host");
	assert_int_equal(here, 'h');
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, read_byte, (void *)&here, NULL), -EFAULT);
	expect_fault(A, "alpha", (void *)&here, PKBOX_FAULT_READ, "host");
	fresh(&A, &a_mem, "alpha");
	/* not from inside a compartment */
	assert_int_equal(pkbox_call(A, try_host_run, NULL, &r), 0);
	assert_int_equal(r, -EPERM);
	/* nested, with a larger stack */
	assert_int_equal(pkbox_host_run(inner_run, (void *)41, 1 << 20, &r), 0);
	assert_int_equal(r, 42);
	return 7;
}

static void test_host_run(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;
	char *stack_addr = NULL;

	assert_int_equal(pkbox_host_run(NULL, NULL, 0, NULL), -EINVAL);
	assert_int_equal(pkbox_host_run(inner_run, NULL, 4096, &r), -EINVAL);
	assert_int_equal(pkbox_host_run(inner_run, NULL, (64UL << 20) + 1, &r), -EINVAL);
	assert_int_equal(r, 0);
	assert_int_equal(pkbox_host_run(host_run_body, &stack_addr, 0, &r), 0);
	assert_int_equal(r, 7);
	/* the stack was freed */
	assert_non_null(stack_addr);
	assert_null(pkbox_domain_of(stack_addr));
	assert_string_equal(secret, SECRET);
}

/* pkbox_exit() inside a compartment: a fault, not the process's end */
static intptr_t exit_inside(void *p)
{
	(void)p;
	pkbox_exit(3);
}

static void test_exit_inside(void **state)
{
	(void)state;
	pkbox_signals_install();
	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call(A, exit_inside, NULL, NULL), -EFAULT);
	assert_int_equal(pkbox_domain_faulted(A), 1);
}

/* pkbox_call_timed(): a compartment that does not come back is stopped */
static int spin_cb_id;

static intptr_t spin_forever(void *p)
{
	(void)p;
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 0;
}

static intptr_t slow_callback(void *p)
{
	(void)p;
	struct timespec ts = { 0, 20 * 1000000L };
	nanosleep(&ts, NULL);
	return 0;
}

static intptr_t spin_with_callbacks(void *p)
{
	(void)p;
	for (;;) {
		intptr_t r;
		pkbox_host_call(spin_cb_id, NULL, &r);
	}
	return 0;
}

static void test_call_timed(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;
	struct pkbox_fault f = { .sz = sizeof(f) };

	fresh(&A, &a_mem, "alpha");
	assert_int_equal(pkbox_call_timed(A, read_byte, NULL, &r, 0), -EINVAL);
	strcpy(a_mem, "q");
	assert_int_equal(pkbox_call_timed(A, read_byte, a_mem, &r, 2000), 0);
	assert_int_equal(r, 'q');
	/* spinning */
	assert_int_equal(pkbox_call_timed(A, spin_forever, NULL, &r, 100), -ETIMEDOUT);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(pkbox_domain_faulted(A), 1);
	assert_int_equal(pkbox_last_fault(A, &f), 0);
	assert_int_equal(f.signo, PKBOX_TIMEOUT_SIGNAL);
	assert_string_equal(f.domain, "alpha");
	assert_int_equal(pkbox_call(A, read_byte, a_mem, &r), -ENOTRECOVERABLE);
	assert_int_equal(pkbox_domain_reset(A), 0);
	/* time spent in host callbacks counts; the signal is ignored there */
	spin_cb_id = pkbox_callback_register(A, slow_callback);
	assert_true(spin_cb_id >= 0);
	assert_int_equal(pkbox_call_timed(A, spin_with_callbacks, NULL, &r, 100), -ETIMEDOUT);
	assert_int_equal(pkbox_domain_reset(A), 0);
	/* the domain and the host work on, untimed calls too */
	a_mem = pkbox_malloc(A, 4096);
	assert_non_null(a_mem);
	strcpy(a_mem, "ok");
	assert_int_equal(pkbox_call(A, read_byte, a_mem + 1, &r), 0);
	assert_int_equal(r, 'k');
	/* no signal of the last timer left to end the next call early */
	for (int i = 0; i < 20; i++) {
		r = 0;
		assert_int_equal(pkbox_call_timed(A, read_byte, a_mem, &r, 5000), 0);
		assert_int_equal(r, 'o');
	}
	assert_string_equal(secret, SECRET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_memory),
		cmocka_unit_test(test_read_host_secret),
		cmocka_unit_test(test_write_host_secret),
		cmocka_unit_test(test_leak_secret),
		cmocka_unit_test(test_gate_page),
		cmocka_unit_test(test_code_view),
		cmocka_unit_test(test_other_domain),
		cmocka_unit_test(test_grant_revoke),
		cmocka_unit_test(test_guard_pages),
		cmocka_unit_test(test_stack_overflow),
		cmocka_unit_test(test_other_signals),
		cmocka_unit_test(test_null_in_compartment),
		cmocka_unit_test(test_pkru_after_return),
		cmocka_unit_test(test_host_run),
		cmocka_unit_test(test_exit_inside),
		cmocka_unit_test(test_call_timed),
	};
	pkbox_test_check_backend();
	return cmocka_run_group_tests(tests, setup, NULL);
}
