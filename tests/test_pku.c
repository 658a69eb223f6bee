/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test_pku.c - hardware facts the pku backend depends on.  Needs real
 * protection keys: exits 77 elsewhere, runs in the PKU guests. */
#include "common.h"

#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SEGV_PKUERR
#define SEGV_PKUERR 4
#endif

static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;
	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

/* The ProtectionKey of the mapping that holds addr, from /proc/self/smaps */
static int smaps_key(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned long lo, hi, a = (unsigned long)addr;
	int in = 0, key = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			continue;
		}
		if (in && sscanf(line, "ProtectionKey: %d", &key) == 1)
			break;
	}
	fclose(f);
	return key;
}

static struct pkbox_domain *D;
static char *dmem, *secret;

static int setup(void **state)
{
	(void)state;
	D = pkbox_domain_create("hw", NULL);
	dmem = pkbox_malloc(D, 64);
	secret = pkbox_malloc(pkbox_host_domain(), 64);
	strcpy(secret, "hw secret");
	return D && dmem && secret ? 0 : -1;
}

static void test_memory_is_tagged(void **state)
{
	(void)state;
	pkbox_signals_install();
	int k = pkbox_domain_pkey(D);
	int h = pkbox_domain_pkey(pkbox_host_domain());

	assert_true(k > 0 && k < 16);
	assert_true(h > 0 && h < 16 && h != k);
	assert_int_equal(smaps_key(dmem), k);
	assert_int_equal(smaps_key(secret), h);
}

static intptr_t inside_pkru(void *a)
{
	(void)a;
	return rdpkru();
}

static void test_pkru_inside_and_after(void **state)
{
	(void)state;
	pkbox_signals_install();
	intptr_t r = 0;
	int k = pkbox_domain_pkey(D), h = pkbox_domain_pkey(pkbox_host_domain());

	assert_int_equal(pkbox_call(D, inside_pkru, NULL, &r), 0);
	uint32_t p = (uint32_t)r;
	printf("# PKRU inside: %#x (own key %d, host key %d)\n", p, k, h);
	assert_int_equal((p >> (2 * k)) & 3, 0); /* own key open */
	/* key 0: readable, and writable only without key-0 protection */
	assert_int_equal(p & 3, pkbox_key0_protected(NULL) ? 2 : 0);
	assert_int_equal((p >> (2 * h)) & 3, 3); /* host key closed */
	assert_int_equal(rdpkru(), 0);           /* the host gets everything back */
}

static intptr_t peek(void *a)
{
	return *(volatile char *)a;
}

static void test_fault_is_pkuerr(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_fault f = { .sz = sizeof(f) };

	assert_int_equal(pkbox_call(D, peek, secret, NULL), -EFAULT);
	assert_int_equal(rdpkru(), 0); /* restored by hand after the fault */
	assert_int_equal(pkbox_last_fault(D, &f), 0);
	assert_int_equal(f.si_code, SEGV_PKUERR);
	assert_int_equal(f.pkey, pkbox_domain_pkey(pkbox_host_domain()));
	assert_ptr_equal((void *)f.addr, secret);
	assert_int_equal(pkbox_domain_reset(D), 0);
	dmem = pkbox_malloc(D, 64);
}

/* PKRU is per thread and inherited at clone */
static uint32_t child_pkru;
static void *read_pkru(void *a)
{
	(void)a;
	child_pkru = rdpkru();
	return NULL;
}

static void test_pkru_inherited(void **state)
{
	(void)state;
	pkbox_signals_install();
	pthread_t t;

	assert_int_equal(rdpkru(), 0);
	assert_int_equal(pthread_create(&t, NULL, read_pkru, NULL), 0);
	pthread_join(t, NULL);
	assert_int_equal(child_pkru, 0);
}

/* A thread born before the domain's key has it closed in its PKRU; the
 * library opens it for the host lazily, and the gate writes absolute values. */
static pthread_barrier_t bar;
static uint32_t early_before;
static int early_rc;
static intptr_t early_val;
static struct pkbox_domain *late;
static char *late_mem;

static void *early(void *a)
{
	(void)a;
	/* as a thread that predates the library: the kernel's default, only key 0 open */
	__asm__ volatile(".byte 0x0f,0x01,0xef" : : "a"(0x55555554u), "c"(0), "d"(0) : "memory");
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	early_before = rdpkru();
	late_mem[1] = 'y';
	early_rc = pkbox_call(late, peek, late_mem, &early_val);
	return NULL;
}

static void test_thread_before_key(void **state)
{
	(void)state;
	pkbox_signals_install();
	pthread_t t;

	pthread_barrier_init(&bar, NULL, 2);
	/* the thread starts with the kernel's default for keys it never saw */
	assert_int_equal(pthread_create(&t, NULL, early, NULL), 0);
	pthread_barrier_wait(&bar);
	late = pkbox_domain_create("late", NULL);
	assert_non_null(late);
	late_mem = pkbox_malloc(late, 16);
	late_mem[0] = 'x';
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	int k = pkbox_domain_pkey(late);
	printf("# early thread PKRU %#x, late key %d\n", early_before, k);
	assert_int_equal(early_before, 0x55555554u);
	assert_int_equal(early_rc, 0);
	assert_int_equal(early_val, 'x');
	assert_int_equal(late_mem[1], 'y');
	assert_int_equal(pkbox_domain_destroy(late), 0);
}

/* A signal arrives while the thread is inside the domain. */
static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static intptr_t raise_inside(void *a)
{
	(void)a;
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
	return 77;
}

static void signal_inside(int flags)
{
	struct sigaction sa;
	intptr_t r = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = flags;
	sigaction(SIGUSR1, &sa, NULL);
	got_usr1 = 0;
	assert_int_equal(pkbox_call(D, raise_inside, NULL, &r), 0);
	assert_int_equal(r, 77);
	assert_int_equal(got_usr1, 1);
	assert_int_equal(rdpkru(), 0);
	assert_string_equal(secret, "hw secret");
}

static void test_signal_inside_onstack(void **state)
{
	(void)state;
	pkbox_signals_install();
	signal_inside(SA_ONSTACK);
}

static void test_signal_inside_plain(void **state)
{
	(void)state;
	pkbox_signals_install();
	signal_inside(0);
}

/* A replayed entry: while thread A is inside the victim domain, thread B,
 * inside another compartment, finds A's live gate record (records are
 * readable) and jumps to the gate's entry WRPKRU with the record and the
 * PKRU it names.  Without the entry's claim word it would run the victim's
 * function again, on A's stack, and leave as A; with it, B is stopped at the
 * entry and reported, and A's call goes on untouched. */
struct replay_state {
	int runs;
	int go;
};
struct replay_args {
	uintptr_t entry;
	int found;
};
static struct replay_state *rs; /* the victim's memory */
static struct pkbox_domain *victim_dom;
static int victim_rc;
static intptr_t victim_val;

static intptr_t victim(void *a)
{
	struct replay_state *s = a;

	__atomic_fetch_add(&s->runs, 1, __ATOMIC_SEQ_CST);
	for (long i = 0; i < 2000000000L && !__atomic_load_n(&s->go, __ATOMIC_ACQUIRE); i++)
		__asm__ volatile("pause");
	return 5;
}

static void *victim_thread(void *a)
{
	(void)a;
	victim_rc = pkbox_call(victim_dom, victim, rs, &victim_val);
	return NULL;
}

/* the attacker: the gate configuration is at a fixed, public address
 * (PKBOX_GC_ADDR); its seventh word is where the records start */
static intptr_t replayer(void *a)
{
	struct replay_args *r = a;
	const volatile uint64_t *rec = *(uint64_t *const volatile *)(0x500002008000UL + 48);
	uint32_t own, edx;

	__asm__ volatile(".byte 0x0f,0x01,0xee" : "=a"(own), "=d"(edx) : "c"(0));
	for (size_t i = 0; i < 64 * 256; i++, rec += 8) {
		if (rec[0] != 0x786f62656b70ULL || rec[1] == own)
			continue;
		r->found = 1;
		__asm__ volatile("movq %1, %%rsi\n\t"
				 "xorl %%ecx, %%ecx\n\t"
				 "xorl %%edx, %%edx\n\t"
				 "call *%2\n\t"
				 :
				 : "a"((uint32_t)rec[1]), "r"(rec), "r"(r->entry)
				 : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
		return 1; /* the entry came back: never */
	}
	return 0;
}

static int first_wrpkru(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t *hit = data;

	(void)size;
	if (*hit || !info->dlpi_name || !strstr(info->dlpi_name, "libpkeysbox"))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		struct pkbox_finding fs[8];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		int n = pkbox_inspect((const void *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz, fs, 8);
		for (int j = 0; j < n && j < 8 && !*hit; j++)
			if (fs[j].kind == PKBOX_INSN_WRPKRU)
				*hit = fs[j].addr;
	}
	return 0;
}

static void test_entry_replayed_from_another_thread(void **state)
{
	(void)state;
	pkbox_signals_install();
	struct pkbox_domain *att = pkbox_domain_create("replay", NULL);
	pthread_t t;
	intptr_t r = -1;

	victim_dom = pkbox_domain_create("victim", NULL);
	assert_non_null(victim_dom);
	assert_non_null(att);
	rs = pkbox_calloc(victim_dom, 1, sizeof(*rs));
	struct replay_args *ra = pkbox_calloc(att, 1, sizeof(*ra));
	assert_non_null(rs);
	assert_non_null(ra);
	dl_iterate_phdr(first_wrpkru, &ra->entry); /* the gate's entry WRPKRU comes first */
	assert_true(ra->entry != 0);
	assert_int_equal(pthread_create(&t, NULL, victim_thread, NULL), 0);
	for (int i = 0; i < 20000 && !__atomic_load_n(&rs->runs, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&rs->runs, __ATOMIC_ACQUIRE), 1);
	unsigned long f0 = pkbox_fault_count();
	int rc = pkbox_call(att, replayer, ra, &r);
	int runs = __atomic_load_n(&rs->runs, __ATOMIC_ACQUIRE);
	__atomic_store_n(&rs->go, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	printf("# replay: found %d, call %d (%s), victim ran %d time(s), victim's call %d -> %ld\n", ra->found, rc,
	       rc ? pkbox_last_error() : "", runs, victim_rc, (long)victim_val);
	assert_int_equal(ra->found, 1);
	assert_int_equal(rc, -EFAULT);
	assert_true(pkbox_fault_count() > f0);
	assert_int_equal(runs, 1);
	assert_int_equal(victim_rc, 0);
	assert_int_equal(victim_val, 5);
	assert_int_equal(rdpkru(), 0);
	assert_string_equal(secret, "hw secret");
	assert_int_equal(pkbox_domain_destroy(att), 0);
	assert_int_equal(pkbox_domain_destroy(victim_dom), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_is_tagged),
		cmocka_unit_test(test_pkru_inside_and_after),
		cmocka_unit_test(test_fault_is_pkuerr),
		cmocka_unit_test(test_pkru_inherited),
		cmocka_unit_test(test_thread_before_key),
		cmocka_unit_test(test_signal_inside_onstack),
		cmocka_unit_test(test_signal_inside_plain),
		cmocka_unit_test(test_entry_replayed_from_another_thread),
	};
	pkbox_test_check_backend();
	pkbox_test_require_pku();
	return cmocka_run_group_tests(tests, setup, NULL);
}
