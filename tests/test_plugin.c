/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_plugin.c - the plugin API: loading, its heap and data in its domain,
 * isolation from other domains, bad plugins, boundary copies. */
#include "common.h"
#include "scratch.h"

#include <fcntl.h>
#include <unistd.h>

static char dir[512];

static const char *plugin(const char *name)
{
	static char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

typedef void *(*probe_fn)(void);

static intptr_t call_probe(void *f)
{
	return (intptr_t)((probe_fn)f)();
}

static void *read_target;
static intptr_t read_it(void *a)
{
	(void)a;
	return *(volatile int *)read_target;
}

/* Before the seal a load is refused (no plugin code runs unsealed), and
 * the options struct is checked the libbpf way; then the process seals. */
static void test_unsealed_refused(void **state)
{
	(void)state;
	/* the library's fault handlers, not cmocka's: a compartment's fault
	 * (its destructor writing key-0 memory, say) is the library's */
	pkbox_signals_install();
	assert_int_equal(pkbox_sealed(), 0);
	errno = 0;
	assert_null(pkbox_plugin_load(plugin("libpkbox-hello.so"), "early", NULL));
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(pkbox_last_error(), "pkbox_seal() first"));
	/* unless the host asks for it: then the constructor runs unsealed */
	struct pkbox_plugin_opts uo = { .sz = sizeof(uo), .flags = PKBOX_PLUGIN_UNSEALED };
	struct pkbox_plugin *early = pkbox_plugin_load(plugin("libpkbox-hello.so"), "early", &uo);
	assert_non_null(early);
	intptr_t r = 0;
	assert_int_equal(pkbox_call(pkbox_plugin_domain(early), call_probe, pkbox_plugin_sym(early, "counter_addr"), &r),
			 0);
	assert_int_equal(*(int *)r, 6);
	assert_int_equal(pkbox_plugin_unload(early), 0);
	pkbox_test_scratch_dir(dir); /* where test_bad_plugins makes files: chosen before the seal */
	if (pkbox_seal(NULL))
		fail_msg("pkbox_seal: %s", pkbox_last_error());
	/* too short, an unknown flag, a non-zero unknown tail */
	struct { struct pkbox_plugin_opts o; uint64_t tail; } big = { .o = { .sz = sizeof(big) } };
	struct pkbox_plugin_opts o = { .sz = 16 };
	assert_null(pkbox_plugin_load(plugin("libpkbox-hello.so"), "o1", &o));
	assert_int_equal(errno, EINVAL);
	o.sz = sizeof(o);
	o.flags = 1u << 7;
	assert_null(pkbox_plugin_load(plugin("libpkbox-hello.so"), "o2", &o));
	assert_int_equal(errno, EINVAL);
	big.tail = 1;
	assert_null(pkbox_plugin_load(plugin("libpkbox-hello.so"), "o3", &big.o));
	assert_int_equal(errno, EINVAL);
	big.tail = 0;
	errno = 1234;
	struct pkbox_plugin *p = pkbox_plugin_load(plugin("libpkbox-hello.so"), "o4", &big.o);
	assert_non_null(p);
	assert_int_equal(errno, 1234); /* a success leaves errno alone */
	assert_int_equal(pkbox_plugin_unload(p), 0);
}

static void test_load_and_heap(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_plugin *p = pkbox_plugin_load(plugin("libpkbox-hello.so"), "hello", NULL);
	assert_non_null(p);
	struct pkbox_domain *d = pkbox_plugin_domain(p);
	assert_non_null(d);
	void *probe = pkbox_plugin_sym(p, "heap_probe");
	assert_non_null(probe);
	intptr_t r = 0;
	/* its malloc inside the compartment: memory of its domain */
	assert_int_equal(pkbox_call(d, call_probe, probe, &r), 0);
	assert_true(r != 0);
	assert_ptr_equal(pkbox_domain_of((void *)r), d);
	/* its globals: in its domain too, and out of another domain's reach */
	void *ca = pkbox_plugin_sym(p, "counter_addr");
	assert_non_null(ca);
	assert_int_equal(pkbox_call(d, call_probe, ca, &r), 0);
	int *counter = (int *)r;
	assert_int_equal(*counter, 6); /* the host reads it with host rights */
	assert_ptr_equal(pkbox_domain_of(counter), d);
	struct pkbox_domain *other = pkbox_domain_create("other", NULL);
	read_target = counter;
	unsigned long f0 = pkbox_fault_count();
	assert_int_equal(pkbox_call(other, read_it, NULL, &r), -EFAULT);
	assert_int_equal(pkbox_fault_count(), f0 + 1);
	struct pkbox_fault f = { .sz = sizeof(f) };
	assert_int_equal(pkbox_last_fault(other, &f), 0);
	assert_ptr_equal((void *)f.addr, counter);
	assert_string_equal(f.owner, "hello");
	assert_int_equal(pkbox_domain_destroy(other), 0);
	/* symbols: its own functions only */
	assert_null(pkbox_plugin_sym(p, "no_such_symbol"));
	assert_int_equal(errno, ENOENT);
	assert_null(pkbox_plugin_sym(p, "printf"));
	assert_int_equal(errno, ENOENT);
	assert_null(pkbox_plugin_sym(p, NULL));
	assert_int_equal(errno, EINVAL);
	/* boundary copies */
	char buf[16];
	assert_int_equal(pkbox_copy_out(d, buf, counter, sizeof(int)), 0);
	static int host_var;
	assert_int_equal(pkbox_copy_out(d, buf, &host_var, sizeof(int)), -EFAULT);
	void *in = pkbox_copy_in(d, "abc", 4);
	assert_non_null(in);
	assert_ptr_equal(pkbox_domain_of(in), d);
	assert_int_equal(pkbox_copy_out(d, buf, in, 4), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(pkbox_plugin_unload(p), 0);
	assert_int_equal(pkbox_plugin_unload(p), -ENOENT);
	assert_null(pkbox_plugin_domain(p));
}

/* A dependency the process lacks comes into the plugin's domain: its
 * constructor ran inside (with the compartment's heap), its data and heap
 * are the domain's, out of other domains' reach. */
static void test_dependency(void **state)
{
	(void)state;
	struct pkbox_plugin *p = pkbox_plugin_load(plugin("libpkbox-needs.so"), "needs", NULL);
	assert_non_null(p);
	struct pkbox_domain *d = pkbox_plugin_domain(p);
	intptr_t r = 0;
	assert_int_equal(pkbox_call(d, call_probe, pkbox_plugin_sym(p, "needs_ready"), &r), 0);
	assert_int_equal((int)r, 42);
	assert_int_equal(pkbox_call(d, call_probe, pkbox_plugin_sym(p, "needs_counter"), &r), 0);
	assert_ptr_equal(pkbox_domain_of((void *)r), d);
	assert_int_equal(*(int *)r, 7);
	read_target = (void *)r;
	struct pkbox_domain *other = pkbox_domain_create("other2", NULL);
	intptr_t r2;
	assert_int_equal(pkbox_call(other, read_it, NULL, &r2), -EFAULT);
	assert_int_equal(pkbox_call(d, call_probe, pkbox_plugin_sym(p, "needs_heap"), &r), 0);
	assert_ptr_equal(pkbox_domain_of((void *)r), d);
	/* its symbols are the dependency's business, not the plugin's */
	assert_null(pkbox_plugin_sym(p, "dep_counter_addr"));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(pkbox_plugin_unload(p), 0);
	assert_int_equal(pkbox_domain_destroy(other), 0);
}

/* Every form of the malloc family a plugin can take (tests/plugins/
 * allocforms.c: PLT, GOT, function pointers in its data, dlsym, aligned,
 * page, duplicating and formatting allocators) gives memory of its own
 * domain, and free() takes each back. */
struct forms {
	int n, bad;
	const char *name[32];
	void *p[32];
};

static void test_alloc_forms(void **state)
{
	(void)state;
	struct pkbox_plugin *p = pkbox_plugin_load(plugin("libpkbox-allocforms.so"), "forms", NULL);
	if (!p)
		fail_msg("load: %s", pkbox_last_error());
	struct pkbox_domain *d = pkbox_plugin_domain(p);
	struct forms *f = pkbox_calloc(d, 1, sizeof(*f));
	assert_non_null(f);
	intptr_t r = 0;
	assert_int_equal(pkbox_call(d, (pkbox_fn)pkbox_plugin_sym(p, "alloc_forms"), f, &r), 0);
	assert_int_equal(r, 21);
	assert_int_equal(f->bad, 0);
	for (int i = 0; i < f->n; i++)
		if (pkbox_domain_of(f->p[i]) != d)
			fail_msg("%s gave %p, which is not memory of domain forms", f->name[i], f->p[i]);
	assert_int_equal(pkbox_call(d, (pkbox_fn)pkbox_plugin_sym(p, "free_forms"), f, &r), 0);
	assert_int_equal(pkbox_domain_faulted(d), 0);
	assert_int_equal(pkbox_plugin_unload(p), 0);
}

static void test_bad_plugins(void **state)
{
	(void)state;
	pkbox_signals_install();
	unsigned long f0 = pkbox_fault_count();
	assert_null(pkbox_plugin_load(NULL, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(pkbox_plugin_load("/nonexistent/x.so", NULL, NULL));
	assert_int_equal(errno, ENOENT);
	assert_null(pkbox_plugin_load("/dev/null", NULL, NULL));
	assert_int_equal(errno, ENOEXEC);
	/* not an ELF, then a 32-bit ELF */
	char tmp[PATH_MAX + 32];
	snprintf(tmp, sizeof(tmp), "%s/pkbox-plugin-XXXXXX", pkbox_test_scratch_dir(dir));
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, world\n", 13), 13);
	assert_null(pkbox_plugin_load(tmp, NULL, NULL));
	assert_int_equal(errno, ENOEXEC);
	assert_non_null(strstr(pkbox_last_error(), "not an ELF"));
	unsigned char eh[64] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
	eh[16] = 3; /* ET_DYN */
	eh[18] = 3; /* EM_386 */
	assert_int_equal(pwrite(fd, eh, sizeof(eh), 0), (ssize_t)sizeof(eh));
	assert_null(pkbox_plugin_load(tmp, NULL, NULL));
	assert_int_equal(errno, ENOEXEC);
	assert_non_null(strstr(pkbox_last_error(), "architecture"));
	close(fd);
	unlink(tmp);
	/* code that writes PKRU */
	assert_null(pkbox_plugin_load(plugin("../attacks/libpkbox-gadget.so"), NULL, NULL));
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(pkbox_last_error(), "WRPKRU"));
	/* a constructor that faults: contained, reported, no plugin */
	assert_null(pkbox_plugin_load(plugin("libpkbox-ctor-fault.so"), "ctor", NULL));
	assert_int_equal(errno, EFAULT);
	assert_non_null(strstr(pkbox_last_error(), "constructor"));
	assert_int_equal(pkbox_fault_count(), f0 + 1);
	/* the host carries on: a good plugin still loads */
	struct pkbox_plugin *p = pkbox_plugin_load(plugin("libpkbox-hello.so"), "hello2", NULL);
	assert_non_null(p);
	assert_int_equal(pkbox_plugin_unload(p), 0);
}

int main(int argc, char **argv)
{
	const char *d = getenv("PKBOX_PLUGIN_DIR");
	snprintf(dir, sizeof(dir), "%s", d ? d : (argc > 1 ? argv[1] : "."));
	pkbox_test_check_backend();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsealed_refused),
		cmocka_unit_test(test_load_and_heap),
		cmocka_unit_test(test_dependency),
		cmocka_unit_test(test_alloc_forms),
		cmocka_unit_test(test_bad_plugins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
