/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_libc_state.c - the C library's state, per compartment
 * (libpkeysbox/libc_state.c, libc_stdio.c): a plugin
 * (tests/plugins/libcstate.c) changes the environment, its locale, the time
 * zone variables, the rand/random and drand48 sequences, strtok's saved
 * pointer, errno, takes a pthread key, runs a pthread_once, locks a mutex
 * of its own, and opens, writes, reads and closes streams of its own on a
 * file and on memory; it sees its own changes (also in a later call), and
 * the host's are untouched: its environment and `environ`, its locale
 * (C.UTF-8 where the system has it), its tzname/timezone/daylight and
 * localtime()'s buffer, its rand and lrand48 sequences, its strtok
 * continuation, its errno, its pthread key's value, pthread_once and
 * mutex and the C library's key table, a buffered stream of its own; the host reads
 * back the file the plugin wrote, and the plugin's FILE is memory of its
 * domain.  Under key-0 protection (pku, Linux 6.12) any write of the C
 * library's globals would fault the call.
 * argv[1]: the plugins' directory.  Exit 0, 1 (FAIL lines), 77 where the
 * backend asked for (PKBOX_BACKEND) is missing.
 */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pkeysbox.h>

#include "check.h"
#include "scratch.h"

static struct pkbox_plugin *plug;

/* the plugin's entry sym with arg: its result (0: its checks held) */
static intptr_t run(const char *sym, void *arg)
{
	intptr_t r = -1;
	int rc = pkbox_call(pkbox_plugin_domain(plug), (pkbox_fn)pkbox_plugin_sym(plug, sym), arg, &r);

	CHECK(rc == 0, "%s: %d: %s", sym, rc, pkbox_last_error());
	return rc ? -1 : r;
}

static void one(const char *sym, void *arg)
{
	intptr_t r = run(sym, arg);

	CHECK(r == 0, "%s: the plugin's check at libcstate.c:%ld failed", sym, (long)r);
}

static int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* what the plugin returned (p) is memory of its domain */
static void domain_memory(const char *what, intptr_t p, size_t n)
{
	char copy[256];

	CHECK(p > 0 && n <= sizeof(copy) && pkbox_copy_out(pkbox_plugin_domain(plug), copy, (void *)p, n) == 0,
	      "%s %#lx is not the domain's memory: %s", what, (long)p, pkbox_last_error());
}

static void environment(void)
{
	extern char **environ;
	char **before = environ;

	one("lc_env", NULL);
	CHECK(streq(getenv("PKBOX_LC"), "host") && streq(getenv("PKBOX_LC_GONE"), "host"),
	      "the host's environment changed: PKBOX_LC=%s PKBOX_LC_GONE=%s", getenv("PKBOX_LC"),
	      getenv("PKBOX_LC_GONE"));
	CHECK(!getenv("PKBOX_LC_NEW") && !getenv("PKBOX_LC_PUT"), "the plugin's new variables are the host's");
	one("lc_env_again", NULL);
	CHECK(environ == before, "the host's environ moved");
	CHECK(streq(getenv("PKBOX_LC"), "host") && getenv("PKBOX_LC_GONE") && streq(getenv("TZ"), "PKB3PKD,M3.2.0,M11.1.0"),
	      "the host's environment after the plugin's clearenv()");
}

static void locale(void)
{
	const char *have = setlocale(LC_ALL, "C.UTF-8");
	char host[64];

	snprintf(host, sizeof(host), "%s", setlocale(LC_ALL, NULL));
	if (!have)
		printf("# no C.UTF-8 here: the host's locale is %s\n", host);
	one("lc_locale", NULL);
	CHECK(streq(setlocale(LC_ALL, NULL), host), "the host's locale is %s, not %s", setlocale(LC_ALL, NULL), host);
	CHECK(uselocale((locale_t)0) == LC_GLOBAL_LOCALE, "the host thread's locale changed");
	CHECK(streq(localeconv()->decimal_point, "."), "the host's localeconv()");
	domain_memory("localeconv()'s answer", run("lc_localeconv", NULL), sizeof(struct lconv));
	one("lc_locale_again", NULL);
	CHECK(uselocale((locale_t)0) == LC_GLOBAL_LOCALE, "the host thread's locale changed");
	setlocale(LC_ALL, "C");
}

/* the host's time zone, "PKB" 3 hours west, summer time "PKD" */
static void time_zone(void)
{
	time_t t = 1700000000; /* 22:13:20 UTC, standard time */
	struct tm *mine = localtime(&t);

	CHECK(mine && mine->tm_hour == 19 && streq(tzname[0], "PKB") && timezone == 3 * 3600,
	      "the host's own time zone: %d, %s, %ld", mine ? mine->tm_hour : -1, tzname[0], timezone);
	one("lc_time", NULL);
	CHECK(streq(tzname[0], "PKB") && streq(tzname[1], "PKD") && timezone == 3 * 3600 && daylight == 1,
	      "the host's time zone changed: %s/%s %ld %d", tzname[0], tzname[1], timezone, daylight);
	CHECK(mine->tm_hour == 19 && mine->tm_mday == 14, "the host's localtime() buffer changed: %02d:%02d",
	      mine->tm_hour, mine->tm_min);
	CHECK(streq(getenv("TZ"), "PKB3PKD,M3.2.0,M11.1.0"), "the host's TZ changed");
	one("lc_time_again", NULL);
	CHECK(timezone == 3 * 3600 && streq(tzname[0], "PKB"), "the host's time zone after the plugin's tzset()");
	mine = localtime(&t);
	CHECK(mine && mine->tm_hour == 19 && streq(mine->tm_zone, "PKB"), "the host's localtime()");
}

static struct rand_ref {
	int r[2];
	long l48[2];
	int rr;
	unsigned seed;
	long init3, seed48_l, lcong_m, x_n, x_j;
	double x_e;
	unsigned short s48[3], p7[7], x48[3];
} ref = { .s48 = { 1, 2, 3 }, .p7 = { 4, 5, 6, 7, 8, 9, 10 }, .x48 = { 11, 12, 13 } };

/* the plugin's reference values, with the host's own generators */
static void rand_reference(void)
{
	static char st[64];
	unsigned short v[7];

	srand(7);
	ref.r[0] = rand();
	ref.r[1] = rand();
	srand48(9);
	ref.l48[0] = lrand48();
	ref.l48[1] = lrand48();
	ref.seed = 1234;
	unsigned s = ref.seed;
	ref.rr = rand_r(&s);
	memcpy(v, ref.s48, sizeof(ref.s48));
	seed48(v);
	ref.seed48_l = lrand48();
	memcpy(v, ref.x48, sizeof(ref.x48));
	ref.x_e = erand48(v);
	ref.x_n = nrand48(v);
	ref.x_j = jrand48(v);
	memcpy(v, ref.p7, sizeof(ref.p7));
	lcong48(v);
	ref.lcong_m = mrand48();
	char *old = initstate(3, st, sizeof(st));
	ref.init3 = random();
	setstate(old);
}

/* the host's own sequences: rand (and random, the same state), lrand48
 * (and the drand48 family's parameters, which lcong48 changes) */
static void random_numbers(void)
{
	int h[3];
	long g[3];

	rand_reference();
	srandom(42);
	h[0] = rand();
	h[1] = random();
	h[2] = rand();
	/* the host's own multiplier: the plugin's erand48/nrand48/jrand48
	 * must use its own (the default) */
	unsigned short hp[7] = { 21, 22, 23, 0x1235, 0x5678, 0x9, 0xd };
	lcong48(hp);
	g[0] = lrand48();
	g[1] = lrand48();
	g[2] = lrand48();
	srand(42);
	lcong48(hp);
	CHECK(rand() == h[0] && lrand48() == g[0], "the host's own sequences");
	one("lc_rand", &ref);
	CHECK(random() == h[1] && lrand48() == g[1], "the host's random() or lrand48() sequence changed");
	one("lc_rand_again", &ref);
	CHECK(rand() == h[2] && lrand48() == g[2], "the host's rand() or lrand48() sequence changed");
}

static void tokens(void)
{
	char s[] = "a,b,c";

	CHECK(streq(strtok(s, ","), "a"), "the host's strtok");
	one("lc_strtok", NULL);
	CHECK(streq(strtok(NULL, ","), "b"), "the host's strtok continuation changed");
	one("lc_strtok_again", NULL);
	CHECK(streq(strtok(NULL, ","), "c") && !strtok(NULL, ","), "the host's strtok continuation changed");
}

/* errno is the thread's (TLS): the host's is put back at the API edge.
 * Inside, with key-0 protection the compartment writes its own copy of the
 * thread's TLS, so it finds on entry what it left there; without, it runs
 * on the host's TLS and finds the host's errno of the moment. */
static void error_number(void)
{
	int key0 = pkbox_key0_protected(NULL);

	for (int i = 0; i < 2; i++) {
		errno = EXDEV;
		intptr_t r = run("lc_errno", NULL);
		int e = errno;
		CHECK(r % 1000 == ENOENT, "lc_errno: %ld (the plugin's errno)", (long)r);
		CHECK(e == EXDEV, "the host's errno is %d after the call, not EXDEV", e);
		if (i)
			CHECK(r / 1000 == (key0 ? ENOENT : EXDEV), "the plugin's errno on entry: %ld, not %s", (long)r / 1000,
			      key0 ? "its own (ENOENT)" : "the host's (EXDEV)");
	}
}

static int host_once_runs;

static void host_once_fn(void)
{
	host_once_runs++;
}

/* the host's key, once and mutex untouched; the plugin's key is one the
 * host made for its domain, not a new entry of the C library's key table */
static void threads(void)
{
	static pthread_once_t host_once = PTHREAD_ONCE_INIT;
	static pthread_mutex_t host_mutex = PTHREAD_MUTEX_INITIALIZER;
	static int host_value;
	pthread_key_t hk, probe, again;

	CHECK(pthread_key_create(&hk, NULL) == 0 && pthread_setspecific(hk, &host_value) == 0, "the host's key");
	CHECK(pthread_key_create(&probe, NULL) == 0 && pthread_key_delete(probe) == 0, "the host's probe key");
	CHECK(pthread_once(&host_once, host_once_fn) == 0 && host_once_runs == 1, "the host's pthread_once");
	CHECK(pthread_mutex_lock(&host_mutex) == 0, "the host's mutex");
	one("lc_pthread", NULL);
	intptr_t k = run("lc_pthread_key", NULL) - 0x10000;
	CHECK(pthread_getspecific(hk) == &host_value, "the host's key's value changed");
	CHECK(pthread_key_create(&again, NULL) == 0 && again == probe,
	      "the plugin's pthread_key_create took a key of the C library's table (the host's next key is %u, not %u)",
	      (unsigned)again, (unsigned)probe);
	CHECK(k >= 0 && (pthread_key_t)k != hk && (pthread_key_t)k != again, "the plugin's key %ld is the host's", (long)k);
	pthread_key_delete(again);
	CHECK(pthread_once(&host_once, host_once_fn) == 0 && host_once_runs == 1, "the host's once ran again");
	CHECK(pthread_mutex_trylock(&host_mutex) == EBUSY && pthread_mutex_unlock(&host_mutex) == 0 &&
	      pthread_mutex_trylock(&host_mutex) == 0 && pthread_mutex_unlock(&host_mutex) == 0,
	      "the host's mutex after the plugin's");
	one("lc_pthread_again", NULL);
	CHECK(pthread_getspecific(hk) == &host_value && pthread_key_delete(hk) == 0, "the host's key's value changed");
}

static int slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, cap - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	return f ? 0 : -1;
}

static void streams(const char *scratch)
{
	static char path[4200], hpath[4200];
	char buf[256];

	snprintf(path, sizeof(path), "%s/pkbox-lc-%d.txt", scratch, (int)getpid());
	snprintf(hpath, sizeof(hpath), "%s/pkbox-lc-host-%d.txt", scratch, (int)getpid());
	FILE *hf = fopen(hpath, "w");
	CHECK(hf && fputs("host-", hf) >= 0, "the host's stream: %s", strerror(errno));
	one("lc_stdio_write", path);
	one("lc_stdio_read", path);
	one("lc_stdio_mem", NULL);
	CHECK(slurp(path, buf, sizeof(buf)) == 0 && streq(buf, "line 1\ntwo\n3\nfour\nfive\n"),
	      "the file the plugin wrote: \"%s\"", buf);
	intptr_t f = run("lc_stdio_open", path);
	domain_memory("the plugin's FILE", f, sizeof(FILE));
	one("lc_stdio_memopen", NULL);
	domain_memory("the plugin's fmemopen() FILE", run("lc_stdio_memfile", NULL), sizeof(FILE));
	domain_memory("the plugin's open_memstream() FILE", run("lc_stdio_memfile", path), sizeof(FILE));
	one("lc_stdio_memclose", NULL);
	if (f > 0)
		one("lc_stdio_close", (void *)f);
	CHECK(hf && fputs("end", hf) >= 0 && fclose(hf) == 0, "the host's stream after the calls");
	CHECK(slurp(hpath, buf, sizeof(buf)) == 0 && streq(buf, "host-end"), "the host's stream wrote \"%s\"", buf);
	unlink(path);
	unlink(hpath);
}

/* what is not per compartment: with key-0 protection a write of it faults,
 * the fault naming the function; without, the compartment wrote the host's
 * copy (last: the domain stays faulted) */
static void shared_state(void)
{
	intptr_t r = 0;
	struct pkbox_domain *d = pkbox_plugin_domain(plug);
	int rc = pkbox_call(d, (pkbox_fn)pkbox_plugin_sym(plug, "lc_shared"), NULL, &r);

	if (pkbox_key0_protected(NULL)) {
		CHECK(rc < 0 && strstr(pkbox_last_error(), "l64a") && pkbox_domain_faulted(d) == 1,
		      "l64a()'s buffer written from inside: %d, \"%s\"", rc, pkbox_last_error());
		printf("# %s\n", pkbox_last_error());
	} else {
		CHECK(rc == 0 && (char *)r == l64a(1), "l64a()'s buffer is not the host's: %d %#lx", rc, (long)r);
	}
}

int main(int argc, char **argv)
{
	char path[4096];
	const char *want = getenv("PKBOX_BACKEND");

	if (argc < 2)
		return 99;
	snprintf(path, sizeof(path), "%s/libpkbox-libcstate.so", argv[1]);
	const char *scratch = pkbox_test_scratch_dir(argv[0]);
	if (pkbox_init(NULL)) {
		printf("SKIP: %s (backend %s)\n", pkbox_last_error(), want ? want : "auto");
		return 77;
	}
	printf("# backend %s, key-0 protection %s\n", pkbox_backend_name(pkbox_backend()),
	       pkbox_key0_protected(NULL) ? "on" : "off");
	setenv("PKBOX_LC", "host", 1);
	setenv("PKBOX_LC_GONE", "host", 1);
	setenv("TZ", "PKB3PKD,M3.2.0,M11.1.0", 1);
	tzset();
	if (pkbox_seal(NULL)) {
		printf("FAIL: pkbox_seal: %s\n", pkbox_last_error());
		return 1;
	}
	plug = pkbox_plugin_load(path, "libcstate", NULL);
	if (!plug) {
		printf("FAIL: load: %s\n", pkbox_last_error());
		return 1;
	}
	environment();
	locale();
	time_zone();
	random_numbers();
	tokens();
	error_number();
	threads();
	streams(scratch);
	shared_state();
	CHECK(pkbox_plugin_unload(plug) == 0, "unload: %s", pkbox_last_error());
	if (!failed)
		printf("ok\n");
	return failed;
}
