/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libc_state.c - the C library's state, per compartment.  C-library calls
 * that keep state in the C library's globals (key-0 memory: unwritable
 * inside with key-0 protection, the host's own without it) are bound by the
 * loader (pkbox__libc_fns) to these, which keep it in the compartment's
 * arena (struct pkbox_libc, made when its first plugin is loaded):
 *  - the environment: a copy of the host's taken at the load; getenv,
 *    setenv, unsetenv, putenv, clearenv and the plugin's `environ` work on
 *    it;
 *  - locale: the C locale only.  setlocale() says "C" for "C", "POSIX"
 *    and "" (and for a query), NULL for any other name; newlocale() gives
 *    the C library's own C locale object, uselocale() is recorded per
 *    thread, localeconv() is the C locale's, in the compartment's memory;
 *  - time zone: UTC only.  tzset() sets the compartment's tzname ("UTC"),
 *    timezone and daylight (0); localtime = gmtime, computed here (the C
 *    library's take its time-zone lock, a global); mktime = timegm;
 *    strftime gets a zone name where the tm has none and %s computed here;
 *  - rand/random and the drand48 family: state of their own, through the
 *    C library's reentrant versions (the same sequences);
 *  - strtok: a saved pointer per thread.
 * Called outside a compartment (the host running a plugin's function
 * directly), each goes to the C library's.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "libc_state.h"

struct pkbox_libc {
	char **environ;  /* the plugin's `environ` */
	char **env_own;  /* the array made here (the plugin may point environ elsewhere) */
	size_t env_cap;
	char *tzname[2]; /* the plugin's `tzname`, `timezone`, `daylight` */
	long timezone;
	int daylight;
	_Atomic int lock;
	locale_t c_locale; /* the C library's C locale object (read-only) */
	char c_name[2];
	struct lconv lconv;
	struct tm tm;
	char asc[32];
	struct random_data rnd;
	char *rnd_state;
	int32_t rnd_buf[32];
	struct drand48_data d48;
	char *strtok_at[PKBOX_MAX_THREADS];
	locale_t loc[PKBOX_MAX_THREADS]; /* uselocale()'s, per thread: NULL the global one */
};

static struct pkbox_libc *here(unsigned *ti)
{
	struct pkbox_arena *a = pkbox__arena_here_ti(ti);

	return a ? a->libc : NULL;
}

static struct pkbox_libc *here1(void)
{
	unsigned ti;

	return here(&ti);
}

static void lock(struct pkbox_libc *st)
{
	pkbox__spin_lock(&st->lock);
}

static void unlock(struct pkbox_libc *st)
{
	pkbox__spin_unlock(&st->lock);
}

/* ---------------------------------------------------------------- set-up */

static char *arena_strdup(struct pkbox_arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = pkbox__arena_alloc(a, n);

	return p ? memcpy(p, s, n) : NULL;
}

static int env_copy(struct pkbox_arena *a, struct pkbox_libc *st)
{
	extern char **environ;
	size_t n = 0;

	while (environ && environ[n])
		n++;
	st->env_cap = n + 16;
	st->env_own = pkbox__arena_alloc(a, st->env_cap * sizeof(char *));
	if (!st->env_own)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(st->env_own[i] = arena_strdup(a, environ[i])))
			return -ENOMEM;
	st->env_own[n] = NULL;
	st->environ = st->env_own;
	return 0;
}

int pkbox__libc_setup(struct pkbox_arena *a)
{
	struct pkbox_libc *st = pkbox__arena_alloc(a, sizeof(*st));

	if (!st)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	if (env_copy(a, st))
		return -ENOMEM;
	st->tzname[0] = st->tzname[1] = (char *)"UTC";
	/* the C library answers "C" with its static object: nothing made */
	st->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	st->c_name[0] = 'C';
	st->rnd_state = (char *)st->rnd_buf;
	initstate_r(1, st->rnd_state, sizeof(st->rnd_buf), &st->rnd);
	a->libc = st;
	return 0;
}

void *pkbox__libc_data(struct pkbox_arena *a, const char *name)
{
	struct pkbox_libc *st = a ? a->libc : NULL;

	if (!st || !name)
		return NULL;
	if (!strcmp(name, "environ") || !strcmp(name, "__environ") || !strcmp(name, "_environ"))
		return &st->environ;
	if (!strcmp(name, "tzname") || !strcmp(name, "__tzname"))
		return st->tzname;
	if (!strcmp(name, "timezone") || !strcmp(name, "__timezone"))
		return &st->timezone;
	if (!strcmp(name, "daylight") || !strcmp(name, "__daylight"))
		return &st->daylight;
	return NULL;
}

/* ---------------------------------------------------------------- the environment */

static bool env_name_ok(const char *name)
{
	if (name && *name && !strchr(name, '='))
		return true;
	errno = EINVAL;
	return false;
}

static char **env_find(struct pkbox_libc *st, const char *name, size_t n)
{
	for (char **e = st->environ; e && *e; e++)
		if (!strncmp(*e, name, n) && (*e)[n] == '=')
			return e;
	return NULL;
}

static char *pk_getenv(const char *name)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return getenv(name);
	char **e = name ? env_find(st, name, strlen(name)) : NULL;
	return e ? *e + strlen(name) + 1 : NULL;
}

static char *pk_secure_getenv(const char *name)
{
	return here1() ? pk_getenv(name) : secure_getenv(name);
}

/* entry ("NAME=value", n the name's length) in the environment, under the
 * lock: 0, 1 where the name is there and !overwrite, -1 (ENOMEM) */
static int env_put(struct pkbox_arena *a, struct pkbox_libc *st, char *entry, size_t n, bool overwrite)
{
	char **e = env_find(st, entry, n);
	size_t cnt = 0;

	if (e) {
		if (overwrite)
			*e = entry;
		return !overwrite;
	}
	while (st->environ && st->environ[cnt])
		cnt++;
	if (st->environ != st->env_own || cnt + 2 > st->env_cap) {
		size_t cap = cnt * 2 + 16;
		char **v = pkbox__arena_alloc(a, cap * sizeof(char *));
		if (!v) {
			errno = ENOMEM;
			return -1;
		}
		if (cnt)
			memcpy(v, st->environ, cnt * sizeof(char *));
		if (st->env_own && st->environ == st->env_own)
			pkbox__arena_free(a, st->env_own);
		st->env_own = st->environ = v;
		st->env_cap = cap;
	}
	st->environ[cnt] = entry;
	st->environ[cnt + 1] = NULL;
	return 0;
}

static int pk_setenv(const char *name, const char *value, int overwrite)
{
	unsigned ti;
	struct pkbox_libc *st = here(&ti);

	if (!st)
		return setenv(name, value, overwrite);
	if (!env_name_ok(name))
		return -1;
	struct pkbox_arena *a = pkbox__arena_here();
	size_t n = strlen(name), v = strlen(value ? value : "");
	char *entry = pkbox__arena_alloc(a, n + v + 2);
	if (!entry)
		return -1;
	memcpy(entry, name, n);
	entry[n] = '=';
	memcpy(entry + n + 1, value ? value : "", v + 1);
	lock(st);
	int r = env_put(a, st, entry, n, overwrite != 0);
	unlock(st);
	if (r)
		pkbox__arena_free(a, entry);
	return r < 0 ? -1 : 0;
}

static void env_remove(struct pkbox_libc *st, const char *name, size_t n)
{
	char **e;

	while ((e = env_find(st, name, n)))
		do
			e[0] = e[1];
		while (*e++);
}

static int pk_unsetenv(const char *name)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return unsetenv(name);
	if (!env_name_ok(name))
		return -1;
	lock(st);
	env_remove(st, name, strlen(name));
	unlock(st);
	return 0;
}

/* the string itself goes in (it is the plugin's); a name alone unsets */
static int pk_putenv(char *s)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return putenv(s);
	const char *eq = s ? strchr(s, '=') : NULL;
	if (!eq)
		return s && *s ? pk_unsetenv(s) : (errno = EINVAL, -1);
	lock(st);
	int r = env_put(pkbox__arena_here(), st, s, (size_t)(eq - s), true);
	unlock(st);
	return r < 0 ? -1 : 0;
}

static int pk_clearenv(void)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return clearenv();
	lock(st);
	if (st->env_own && st->environ == st->env_own)
		pkbox__arena_free(pkbox__arena_here(), st->env_own);
	st->env_own = st->environ = NULL;
	st->env_cap = 0;
	unlock(st);
	return 0;
}

/* ---------------------------------------------------------------- locale */

static bool c_name(const char *n)
{
	return !strcmp(n, "C") || !strcmp(n, "POSIX") || !*n;
}

static char *pk_setlocale(int cat, const char *name)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return setlocale(cat, name);
	if (cat < 0 || cat > LC_IDENTIFICATION) {
		errno = EINVAL;
		return NULL;
	}
	if (name && !c_name(name)) {
		errno = ENOENT;
		return NULL;
	}
	st->c_name[0] = 'C';
	st->c_name[1] = 0;
	return st->c_name;
}

static struct lconv *pk_localeconv(void)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return localeconv();
	static const char dot[] = ".", none[] = "";
	struct lconv *l = &st->lconv;
	memset(l, CHAR_MAX, sizeof(*l));
	l->decimal_point = (char *)dot;
	l->thousands_sep = l->grouping = l->int_curr_symbol = l->currency_symbol = (char *)none;
	l->mon_decimal_point = l->mon_thousands_sep = l->mon_grouping = (char *)none;
	l->positive_sign = l->negative_sign = (char *)none;
	return l;
}

static locale_t pk_newlocale(int mask, const char *name, locale_t base)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return newlocale(mask, name, base);
	if (!name || (mask & ~LC_ALL_MASK)) {
		errno = EINVAL;
		return (locale_t)0;
	}
	if (!c_name(name)) {
		errno = ENOENT;
		return (locale_t)0;
	}
	return st->c_locale;
}

static locale_t pk_duplocale(locale_t l)
{
	struct pkbox_libc *st = here1();

	return st ? st->c_locale : duplocale(l);
}

static void pk_freelocale(locale_t l)
{
	if (!here1())
		freelocale(l);
}

static locale_t pk_uselocale(locale_t l)
{
	unsigned ti;
	struct pkbox_libc *st = here(&ti);

	if (!st)
		return uselocale(l);
	locale_t old = st->loc[ti] ? st->loc[ti] : LC_GLOBAL_LOCALE;
	if (l)
		st->loc[ti] = l == LC_GLOBAL_LOCALE ? (locale_t)0 : l;
	return old;
}

/* ---------------------------------------------------------------- random numbers */

static long next_random(struct pkbox_libc *st)
{
	int32_t r = 0;

	lock(st);
	random_r(&st->rnd, &r);
	unlock(st);
	return r;
}

static int pk_rand(void)
{
	struct pkbox_libc *st = here1();

	return st ? (int)next_random(st) : rand();
}

static long pk_random(void)
{
	struct pkbox_libc *st = here1();

	return st ? next_random(st) : random();
}

static void pk_srandom(unsigned seed)
{
	struct pkbox_libc *st = here1();

	if (!st) {
		srandom(seed);
		return;
	}
	lock(st);
	srandom_r(seed, &st->rnd);
	unlock(st);
}

static char *pk_initstate(unsigned seed, char *state, size_t n)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return initstate(seed, state, n);
	lock(st);
	char *old = st->rnd_state;
	int r = initstate_r(seed, state, n, &st->rnd);
	if (!r)
		st->rnd_state = state;
	unlock(st);
	return r ? NULL : old;
}

static char *pk_setstate(char *state)
{
	struct pkbox_libc *st = here1();

	if (!st)
		return setstate(state);
	lock(st);
	char *old = st->rnd_state;
	int r = setstate_r(state, &st->rnd);
	if (!r)
		st->rnd_state = state;
	unlock(st);
	return r ? NULL : old;
}

/* the drand48 family: one call of the reentrant version on the
 * compartment's data, under its lock */
#define D48(fn, type, glibc, ...)                                                                                  \
	do {                                                                                                       \
		struct pkbox_libc *st = here1();                                                                   \
		type r = 0;                                                                                        \
		if (!st)                                                                                           \
			return glibc;                                                                              \
		lock(st);                                                                                          \
		fn(__VA_ARGS__);                                                                                   \
		unlock(st);                                                                                        \
		return r;                                                                                          \
	} while (0)

static double pk_drand48(void) { D48(drand48_r, double, drand48(), &st->d48, &r); }
static double pk_erand48(unsigned short x[3]) { D48(erand48_r, double, erand48(x), x, &st->d48, &r); }
static long pk_lrand48(void) { D48(lrand48_r, long, lrand48(), &st->d48, &r); }
static long pk_nrand48(unsigned short x[3]) { D48(nrand48_r, long, nrand48(x), x, &st->d48, &r); }
static long pk_mrand48(void) { D48(mrand48_r, long, mrand48(), &st->d48, &r); }
static long pk_jrand48(unsigned short x[3]) { D48(jrand48_r, long, jrand48(x), x, &st->d48, &r); }

static void pk_srand48(long seed)
{
	struct pkbox_libc *st = here1();

	if (!st) {
		srand48(seed);
		return;
	}
	lock(st);
	srand48_r(seed, &st->d48);
	unlock(st);
}

static unsigned short *pk_seed48(unsigned short x[3])
{
	struct pkbox_libc *st = here1();

	if (!st)
		return seed48(x);
	lock(st);
	seed48_r(x, &st->d48);
	unlock(st);
	return st->d48.__old_x;
}

static void pk_lcong48(unsigned short p[7])
{
	struct pkbox_libc *st = here1();

	if (!st) {
		lcong48(p);
		return;
	}
	lock(st);
	lcong48_r(p, &st->d48);
	unlock(st);
}

/* ---------------------------------------------------------------- strtok */

static char *pk_strtok(char *s, const char *delim)
{
	unsigned ti;
	struct pkbox_libc *st = here(&ti);

	return st ? strtok_r(s, delim, &st->strtok_at[ti]) : strtok(s, delim);
}

/* ---------------------------------------------------------------- time: UTC */

/* days since 1970-01-01 of a proleptic Gregorian date (m 1 to 12), and back
 * (H. Hinnant's algorithms) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static struct tm *utc(time_t t, struct tm *tm, const char *zone)
{
	int64_t days = t / 86400, s = t % 86400, y;
	unsigned m, d;

	if (s < 0)
		s += 86400, days--;
	civil_from_days(days, &y, &m, &d);
	if (y - 1900 > INT_MAX || y - 1900 < INT_MIN) {
		errno = EOVERFLOW;
		return NULL;
	}
	tm->tm_year = (int)(y - 1900);
	tm->tm_mon = (int)m - 1;
	tm->tm_mday = (int)d;
	tm->tm_hour = (int)(s / 3600);
	tm->tm_min = (int)(s / 60 % 60);
	tm->tm_sec = (int)(s % 60);
	tm->tm_wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	tm->tm_yday = (int)(days - days_from_civil(y, 1, 1));
	tm->tm_isdst = 0;
	tm->tm_gmtoff = 0;
	tm->tm_zone = zone;
	return tm;
}

/* a broken-down UTC time, fields out of range allowed, in seconds */
static time_t from_tm(const struct tm *tm)
{
	int64_t mon = tm->tm_mon, y = (int64_t)tm->tm_year + 1900 + (mon >= 0 ? mon / 12 : (mon - 11) / 12);

	mon -= (mon >= 0 ? mon / 12 : (mon - 11) / 12) * 12;
	int64_t days = days_from_civil(y, (unsigned)mon + 1, 1) + tm->tm_mday - 1;
	return (time_t)(days * 86400 + (int64_t)tm->tm_hour * 3600 + (int64_t)tm->tm_min * 60 + tm->tm_sec);
}

static struct tm *pk_gmtime_r(const time_t *t, struct tm *tm)
{
	return here1() ? utc(*t, tm, "GMT") : gmtime_r(t, tm);
}

static struct tm *pk_localtime_r(const time_t *t, struct tm *tm)
{
	return here1() ? utc(*t, tm, "UTC") : localtime_r(t, tm);
}

static struct tm *pk_gmtime(const time_t *t)
{
	struct pkbox_libc *st = here1();

	return st ? utc(*t, &st->tm, "GMT") : gmtime(t);
}

static struct tm *pk_localtime(const time_t *t)
{
	struct pkbox_libc *st = here1();

	return st ? utc(*t, &st->tm, "UTC") : localtime(t);
}

static time_t pk_mktime(struct tm *tm)
{
	if (!here1())
		return mktime(tm);
	time_t t = from_tm(tm);
	return utc(t, tm, "UTC") ? t : (time_t)-1;
}

static time_t pk_timegm(struct tm *tm)
{
	if (!here1())
		return timegm(tm);
	time_t t = from_tm(tm);
	return utc(t, tm, "GMT") ? t : (time_t)-1;
}

static void pk_tzset(void)
{
	struct pkbox_libc *st = here1();

	if (!st) {
		tzset();
		return;
	}
	st->tzname[0] = st->tzname[1] = (char *)"UTC";
	st->timezone = 0;
	st->daylight = 0;
}

static char *pk_asctime(const struct tm *tm)
{
	struct pkbox_libc *st = here1();

	return st ? asctime_r(tm, st->asc) : asctime(tm);
}

static char *pk_ctime_r(const time_t *t, char *buf)
{
	struct tm tm;

	if (!here1())
		return ctime_r(t, buf);
	return utc(*t, &tm, "UTC") ? asctime_r(&tm, buf) : NULL;
}

static char *pk_ctime(const time_t *t)
{
	struct pkbox_libc *st = here1();

	return st ? pk_ctime_r(t, st->asc) : ctime(t);
}

/* fmt with each %s (seconds since the epoch, which the C library computes
 * with its mktime) written out, into out (cap bytes): 0, or -1 too long */
static int fmt_seconds(const char *fmt, const struct tm *tm, char *out, size_t cap)
{
	size_t o = 0;

	for (const char *p = fmt; *p; p++) {
		char num[24];
		const char *add = num;
		size_t n = 0;
		if (p[0] == '%' && p[1] == 's') {
			n = (size_t)snprintf(num, sizeof(num), "%lld", (long long)from_tm(tm));
			p++;
		} else {
			add = p;
			n = p[0] == '%' && p[1] ? 2 : 1;
			p += n - 1;
		}
		if (o + n + 1 > cap)
			return -1;
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = 0;
	return 0;
}

/* the C library's strftime, with a zone name where the tm has none (it
 * would call tzset for one) and %s written out (it would call mktime) */
static size_t pk_strftime(char *s, size_t max, const char *fmt, const struct tm *tm)
{
	char f[512];

	if (!here1())
		return strftime(s, max, fmt, tm);
	struct tm t = *tm;
	if (!t.tm_zone || !*t.tm_zone)
		t.tm_zone = "UTC";
	if (strstr(fmt, "%s")) {
		if (fmt_seconds(fmt, &t, f, sizeof(f)))
			return 0;
		fmt = f;
	}
	return strftime(s, max, fmt, &t);
}

const struct pkbox_heap_fn pkbox__libc_fns[] = {
	{ "getenv", (void *)pk_getenv },
	{ "secure_getenv", (void *)pk_secure_getenv },
	{ "__libc_secure_getenv", (void *)pk_secure_getenv },
	{ "setenv", (void *)pk_setenv },
	{ "unsetenv", (void *)pk_unsetenv },
	{ "putenv", (void *)pk_putenv },
	{ "clearenv", (void *)pk_clearenv },
	{ "setlocale", (void *)pk_setlocale },
	{ "localeconv", (void *)pk_localeconv },
	{ "newlocale", (void *)pk_newlocale },
	{ "__newlocale", (void *)pk_newlocale },
	{ "duplocale", (void *)pk_duplocale },
	{ "__duplocale", (void *)pk_duplocale },
	{ "freelocale", (void *)pk_freelocale },
	{ "__freelocale", (void *)pk_freelocale },
	{ "uselocale", (void *)pk_uselocale },
	{ "__uselocale", (void *)pk_uselocale },
	{ "rand", (void *)pk_rand },
	{ "srand", (void *)pk_srandom },
	{ "random", (void *)pk_random },
	{ "srandom", (void *)pk_srandom },
	{ "initstate", (void *)pk_initstate },
	{ "setstate", (void *)pk_setstate },
	{ "drand48", (void *)pk_drand48 },
	{ "erand48", (void *)pk_erand48 },
	{ "lrand48", (void *)pk_lrand48 },
	{ "nrand48", (void *)pk_nrand48 },
	{ "mrand48", (void *)pk_mrand48 },
	{ "jrand48", (void *)pk_jrand48 },
	{ "srand48", (void *)pk_srand48 },
	{ "seed48", (void *)pk_seed48 },
	{ "lcong48", (void *)pk_lcong48 },
	{ "strtok", (void *)pk_strtok },
	{ "tzset", (void *)pk_tzset },
	{ "localtime", (void *)pk_localtime },
	{ "localtime_r", (void *)pk_localtime_r },
	{ "__localtime_r", (void *)pk_localtime_r },
	{ "gmtime", (void *)pk_gmtime },
	{ "gmtime_r", (void *)pk_gmtime_r },
	{ "__gmtime_r", (void *)pk_gmtime_r },
	{ "mktime", (void *)pk_mktime },
	{ "timelocal", (void *)pk_mktime },
	{ "timegm", (void *)pk_timegm },
	{ "asctime", (void *)pk_asctime },
	{ "ctime", (void *)pk_ctime },
	{ "ctime_r", (void *)pk_ctime_r },
	{ "strftime", (void *)pk_strftime },
	{ NULL, NULL },
};
