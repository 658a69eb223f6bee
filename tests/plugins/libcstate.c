/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcstate.c - a plugin that changes the C library's state (the
 * environment, locale, time zone, random numbers, strtok, errno, stdio
 * streams of its own, pthread keys, pthread_once, a mutex of its own) and
 * checks it sees its own changes
 * (tests/test_libc_state.c checks the host's are untouched).  Each entry
 * returns 0, or the line of the first check that failed. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ENTRY(name)                                                                                                \
	intptr_t name(void *arg);                                                                                  \
	intptr_t name(void *arg)
#define T(c)                                                                                                       \
	do {                                                                                                       \
		if (!(c))                                                                                          \
			return __LINE__;                                                                           \
	} while (0)

static int streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* ---- the environment: a copy of the host's, taken at the load */

ENTRY(lc_env)
{
	static char put[] = "PKBOX_LC_PUT=put";
	int seen = 0;

	(void)arg;
	T(streq(getenv("PKBOX_LC"), "host") && streq(getenv("PKBOX_LC_GONE"), "host"));
	T(setenv("PKBOX_LC", "plugin", 1) == 0 && streq(getenv("PKBOX_LC"), "plugin"));
	T(setenv("PKBOX_LC", "again", 0) == 0 && streq(getenv("PKBOX_LC"), "plugin"));
	T(setenv("PKBOX_LC_NEW", "new", 0) == 0 && streq(getenv("PKBOX_LC_NEW"), "new"));
	T(putenv(put) == 0 && streq(getenv("PKBOX_LC_PUT"), "put"));
	T(unsetenv("PKBOX_LC_GONE") == 0 && !getenv("PKBOX_LC_GONE"));
	errno = 0;
	T(setenv("A=B", "x", 1) == -1 && errno == EINVAL);
	for (char **e = environ; e && *e; e++)
		seen += streq(*e, "PKBOX_LC=plugin") + streq(*e, "PKBOX_LC_NEW=new");
	T(seen == 2);
	T(streq(secure_getenv("PKBOX_LC"), "plugin"));
	return 0;
}

/* its own changes, kept across calls; then all gone */
ENTRY(lc_env_again)
{
	(void)arg;
	T(streq(getenv("PKBOX_LC"), "plugin") && !getenv("PKBOX_LC_GONE"));
	T(clearenv() == 0 && !getenv("PKBOX_LC") && !getenv("PKBOX_LC_NEW"));
	T(setenv("PKBOX_LC", "after", 1) == 0 && streq(getenv("PKBOX_LC"), "after") && environ && !environ[1]);
	return 0;
}

/* ---- locale: the C locale only */

static locale_t lc_c;

ENTRY(lc_locale)
{
	(void)arg;
	T(streq(setlocale(LC_ALL, NULL), "C"));
	T(streq(setlocale(LC_ALL, ""), "C") && streq(setlocale(LC_NUMERIC, "POSIX"), "C"));
	T(!setlocale(LC_ALL, "de_DE.UTF-8") && !setlocale(LC_ALL, "C.UTF-8") && streq(setlocale(LC_ALL, NULL), "C"));
	struct lconv *l = localeconv();
	T(l && streq(l->decimal_point, ".") && streq(l->thousands_sep, "") && l->int_frac_digits == CHAR_MAX);
	errno = 0;
	T(!newlocale(LC_ALL_MASK, "xx_YY", (locale_t)0) && errno == ENOENT);
	errno = 0; /* (one the host may have: refused all the same) */
	T(!newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0) && errno == ENOENT);
	lc_c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	T(lc_c && isalpha_l('a', lc_c) && toupper_l('a', lc_c) == 'A' && strtod_l("1.5", NULL, lc_c) == 1.5);
	locale_t d = duplocale(lc_c);
	T(d);
	freelocale(d);
	T(uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
	T(uselocale(lc_c) == LC_GLOBAL_LOCALE && uselocale((locale_t)0) == lc_c);
	return 0;
}

/* localeconv()'s answer: the host checks it is the domain's memory */
ENTRY(lc_localeconv)
{
	(void)arg;
	return (intptr_t)localeconv();
}

ENTRY(lc_locale_again)
{
	(void)arg;
	T(uselocale((locale_t)0) == lc_c);
	T(uselocale(LC_GLOBAL_LOCALE) == lc_c && uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
	freelocale(lc_c);
	return 0;
}

/* ---- time zone: UTC */

ENTRY(lc_time)
{
	time_t t = 1700000000; /* 2023-11-14 22:13:20 UTC, a Tuesday */
	struct tm a, g, *p;
	char buf[80];

	(void)arg;
	T(setenv("TZ", "CET-1", 1) == 0);
	tzset();
	T(streq(tzname[0], "UTC") && streq(tzname[1], "UTC") && timezone == 0 && daylight == 0);
	p = localtime(&t);
	T(p && p->tm_year == 123 && p->tm_mon == 10 && p->tm_mday == 14 && p->tm_hour == 22 && p->tm_min == 13 &&
	  p->tm_sec == 20 && p->tm_wday == 2 && p->tm_yday == 317 && p->tm_isdst == 0 && streq(p->tm_zone, "UTC"));
	T(localtime_r(&t, &a) == &a && a.tm_hour == 22 && gmtime_r(&t, &g) == &g && g.tm_sec == 20);
	T((p = gmtime(&t)) && p->tm_hour == 22 && mktime(&a) == t && timegm(&g) == t);
	T(strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z %z %s %%s", &a) &&
	  streq(buf, "2023-11-14 22:13:20 UTC +0000 1700000000 %s"));
	struct tm n = { .tm_year = 123, .tm_mon = 13, .tm_mday = 1, .tm_isdst = -1 };
	T(mktime(&n) != (time_t)-1 && n.tm_year == 124 && n.tm_mon == 1 && n.tm_mday == 1 && n.tm_wday == 4);
	struct tm z = { .tm_year = 70, .tm_mday = 1 }; /* no zone name: tzset would be called for one */
	T(strftime(buf, sizeof(buf), "%Z", &z) && streq(buf, "UTC"));
	t = -1;
	T((p = gmtime(&t)) && p->tm_year == 69 && p->tm_mon == 11 && p->tm_mday == 31 && p->tm_wday == 3);
	T(streq(ctime_r(&t, buf), "Wed Dec 31 23:59:59 1969\n"));
	timezone = 7;
	daylight = 1;
	tzname[0] = (char *)"PLG";
	T(timezone == 7 && streq(tzname[0], "PLG"));
	return 0;
}

ENTRY(lc_time_again)
{
	(void)arg;
	T(timezone == 7 && daylight == 1 && streq(tzname[0], "PLG"));
	tzset();
	T(timezone == 0 && daylight == 0 && streq(tzname[0], "UTC"));
	return 0;
}

/* ---- random numbers: the host's reference values (arg) */

struct rand_ref {
	int r[2];          /* srand(7) */
	long l48[2];       /* srand48(9) */
	int rr;            /* rand_r with seed */
	unsigned seed;
	long init3;        /* initstate(3, 64 bytes), random() */
	long seed48_l;     /* seed48(s48), lrand48() */
	long lcong_m;      /* lcong48(p7), mrand48() */
	long x_n, x_j;     /* nrand48(x48), jrand48(x48) */
	double x_e;        /* erand48(x48) */
	unsigned short s48[3], p7[7], x48[3];
};

ENTRY(lc_rand)
{
	const struct rand_ref *x = arg;
	unsigned s = x->seed;
	static char st[64];
	unsigned short s48[3], p7[7], x48[3];

	srandom(7);
	T(random() == x->r[0]);
	srand(7);
	T(rand() == x->r[0]);
	srand48(9);
	T(lrand48() == x->l48[0]);
	T(rand_r(&s) == x->rr);
	double d = drand48();
	T(d >= 0 && d < 1);
	srand48(9);
	T(lrand48() == x->l48[0]);
	memcpy(s48, x->s48, sizeof(s48));
	T(seed48(s48) && lrand48() == x->seed48_l);
	memcpy(x48, x->x48, sizeof(x48));
	T(erand48(x48) == x->x_e && nrand48(x48) == x->x_n && jrand48(x48) == x->x_j);
	memcpy(p7, x->p7, sizeof(p7));
	lcong48(p7);
	T(mrand48() == x->lcong_m);
	char *old = initstate(3, st, sizeof(st));
	T(old && random() == x->init3);
	T(setstate(old) == st);
	srand48(9);
	T(lrand48() == x->l48[0]);
	srand(7);
	T(rand() == x->r[0]);
	return 0;
}

ENTRY(lc_rand_again)
{
	const struct rand_ref *x = arg;

	T(rand() == x->r[1] && lrand48() == x->l48[1]);
	return 0;
}

/* ---- strtok: its own saved pointer */

static char tok[] = "x;y;z";

ENTRY(lc_strtok)
{
	(void)arg;
	T(streq(strtok(tok, ";"), "x") && streq(strtok(NULL, ";"), "y"));
	return 0;
}

ENTRY(lc_strtok_again)
{
	(void)arg;
	T(streq(strtok(NULL, ";"), "z") && !strtok(NULL, ";"));
	return 0;
}

/* ---- errno: its own changes; the host's untouched (test).  Returns
 * 1000 * (errno on entry) + its errno on return */

ENTRY(lc_errno)
{
	int entry = errno;

	(void)arg;
	errno = 0;
	T(close(-1) == -1 && errno == EBADF);
	errno = ENOENT;
	return 1000 * entry + errno;
}

/* ---- pthread keys, pthread_once, a mutex of its own */

static pthread_key_t key;
static int key_value, once_runs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mutex;

static void once_fn(void)
{
	once_runs++;
}

ENTRY(lc_pthread)
{
	pthread_mutexattr_t ma;

	(void)arg;
	T(pthread_key_create(&key, NULL) == 0 && pthread_getspecific(key) == NULL);
	T(pthread_setspecific(key, &key_value) == 0 && pthread_getspecific(key) == &key_value);
	T(pthread_once(&once, once_fn) == 0 && pthread_once(&once, once_fn) == 0 && once_runs == 1);
	T(pthread_mutexattr_init(&ma) == 0 && pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK) == 0);
	T(pthread_mutex_init(&mutex, &ma) == 0 && pthread_mutexattr_destroy(&ma) == 0);
	T(pthread_mutex_lock(&mutex) == 0 && pthread_mutex_trylock(&mutex) == EBUSY);
	return 0; /* the mutex stays locked, by this thread */
}

/* the key it took (the host checks it took none of the C library's table) */
ENTRY(lc_pthread_key)
{
	(void)arg;
	return 0x10000 + (intptr_t)key;
}

ENTRY(lc_pthread_again)
{
	pthread_key_t k2;

	(void)arg;
	T(pthread_getspecific(key) == &key_value);
	T(pthread_once(&once, once_fn) == 0 && once_runs == 1);
	T(pthread_mutex_lock(&mutex) == EDEADLK && pthread_mutex_trylock(&mutex) == EBUSY);
	T(pthread_mutex_unlock(&mutex) == 0 && pthread_mutex_unlock(&mutex) == EPERM);
	T(pthread_mutex_lock(&mutex) == 0 && pthread_mutex_unlock(&mutex) == 0 && pthread_mutex_destroy(&mutex) == 0);
	T(pthread_setspecific(key, NULL) == 0 && pthread_key_delete(key) == 0);
	T(pthread_key_create(&k2, NULL) == 0 && k2 == key && pthread_key_delete(k2) == 0);
	return 0;
}

/* ---- stdio: streams of its own (arg: a file's path) */

ENTRY(lc_stdio_write)
{
	FILE *f = fopen(arg, "w");

	T(f && setvbuf(f, NULL, _IOFBF, 0) == 0);
	T(fprintf(f, "line %d\n", 1) == 7 && fputs("two\n", f) >= 0 && fputc('3', f) == '3' && putc('\n', f) == '\n');
	T(fwrite("four\n", 1, 5, f) == 5 && ftell(f) == 18);
	T(fflush(f) == 0 && fileno(f) >= 0 && !ferror(f) && !feof(f));
	T(fclose(f) == 0);
	return 0;
}

ENTRY(lc_stdio_read)
{
	char b[64];
	FILE *f = fopen(arg, "r");

	T(f && fgets(b, sizeof(b), f) && streq(b, "line 1\n"));
	T(fgetc(f) == 't' && getc(f) == 'w' && ungetc('W', f) == 'W' && ftell(f) == 8 && fgetc(f) == 'W');
	T(fread(b, 1, sizeof(b), f) == 9 && !memcmp(b, "o\n3\nfour\n", 9) && feof(f) && !ferror(f));
	T(fseek(f, 5, SEEK_SET) == 0 && !feof(f) && ftell(f) == 5 && fgetc(f) == '1');
	rewind(f);
	T(ftell(f) == 0 && fgetc(f) == 'l');
	T(fwrite("x", 1, 1, f) == 0 && ferror(f));
	clearerr(f);
	T(!ferror(f) && fclose(f) == 0);
	int fd = open(arg, O_RDONLY);
	T(fd >= 0 && (f = fdopen(fd, "r")) && fileno(f) == fd && fgets(b, sizeof(b), f) && streq(b, "line 1\n"));
	T(fclose(f) == 0);
	T((f = fopen(arg, "a")) && fputs("five\n", f) >= 0 && fclose(f) == 0);
	return 0;
}

ENTRY(lc_stdio_mem)
{
	char buf[32], r[8], *p = NULL, *line = NULL;
	size_t n = 0, cap = 0;
	FILE *m = fmemopen(buf, sizeof(buf), "w+");

	(void)arg;
	T(m && fprintf(m, "x=%d", 5) == 3 && fflush(m) == 0 && streq(buf, "x=5"));
	rewind(m);
	T(fgets(r, sizeof(r), m) && streq(r, "x=5") && fclose(m) == 0);
	T((m = fmemopen(buf, 4, "w")) && fputs("12345", m) == EOF && ferror(m) && fclose(m) == 0);
	T((m = open_memstream(&p, &n)));
	T(fprintf(m, "hello %s", "mem") == 9 && fflush(m) == 0 && n == 9 && streq(p, "hello mem"));
	for (int i = 0; i < 1000; i++)
		fputc('a' + i % 26, m);
	T(fclose(m) == 0 && n == 1009 && strlen(p) == 1009 && p[9] == 'a');
	free(p);
	T((m = fmemopen((void *)"one\ntwo\n", 8, "r")));
	T(getline(&line, &cap, m) == 4 && streq(line, "one\n") && getline(&line, &cap, m) == 4 && streq(line, "two\n"));
	T(getline(&line, &cap, m) == -1 && feof(m));
	free(line);
	T(fclose(m) == 0);
	return 0;
}

/* a stream left open: the host checks the FILE is the domain's memory */
ENTRY(lc_stdio_open)
{
	return (intptr_t)fopen(arg, "r");
}

/* a memory stream left open, on a buffer of its own (fmemopen) or made for
 * it (open_memstream): the host checks each FILE is the domain's memory */
static char mem_buf[64], *mem_p;
static size_t mem_n;
static FILE *mem_f[2];

ENTRY(lc_stdio_memopen)
{
	(void)arg;
	mem_f[0] = fmemopen(mem_buf, sizeof(mem_buf), "w");
	mem_f[1] = open_memstream(&mem_p, &mem_n);
	T(mem_f[0] && mem_f[1] && fputs("fmem", mem_f[0]) >= 0 && fputs("memstream", mem_f[1]) >= 0);
	return 0;
}

ENTRY(lc_stdio_memfile)
{
	return (intptr_t)mem_f[arg != NULL];
}

ENTRY(lc_stdio_memclose)
{
	(void)arg;
	T(fclose(mem_f[0]) == 0 && streq(mem_buf, "fmem"));
	T(fclose(mem_f[1]) == 0 && mem_n == 9 && streq(mem_p, "memstream"));
	free(mem_p);
	return 0;
}

ENTRY(lc_stdio_close)
{
	char b[8];

	T(fgets(b, sizeof(b), arg) && streq(b, "line 1\n"));
	T(fclose(arg) == 0);
	return 0;
}

/* ---- state that stays the C library's: l64a() writes a static buffer of
 * the C library (not bound).  With key-0 protection the write faults (the
 * fault names l64a); without, the buffer is the host's */
ENTRY(lc_shared)
{
	(void)arg;
	return (intptr_t)l64a(0x3ffff);
}
