/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * landlock.c - the seal's file policy, with Landlock.
 *
 * Two things a compartment must not reach through files (doc/THREAT_MODEL.md,
 * A6 and A16):
 *  - /proc: /proc/self/mem ignores protection keys and page protections, and
 *    /proc/self/map_files hands out the mapped objects (closed unless
 *    PKBOX_SEAL_KEEP_PROC);
 *  - the code the host runs: a write to the file of a mapped object changes
 *    the page cache, so the code itself.  Nothing beneath the directory of an
 *    executable mapping (the program, its libraries, ld.so, plugins loaded
 *    before the seal) can be opened for writing, truncated, created, removed,
 *    renamed or linked elsewhere.
 * Landlock only grants: the ruleset handles every write-like right the
 * kernel's ABI knows, reads are granted beneath every entry of / but /proc,
 * and write rights beneath every directory that is neither such a directory
 * nor one of its ancestors (walked from / down), and on the files lying
 * directly in those ancestors.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#if __has_include(<linux/landlock.h>)
#include <linux/landlock.h>
#define HAVE_LANDLOCK_H 1
#endif

#include "fmt.h"
#include "landlock.h"
#include "msg.h"
#include "state.h"

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

#ifdef HAVE_LANDLOCK_H
/* (newer than some headers: Linux 5.19 and 6.2) */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define FS_ABI1                                                                                                    \
	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |             \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |               \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |                \
	 LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)
/* the rights a rule on a file (not a directory) may carry */
#define FS_FILE (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
#endif

#define PATH_LEN 1024
#define MAX_DIRS 64   /* directories of executable objects */
#define MAX_ANC 128   /* their ancestors */
#define MAX_OBJS 256  /* executable objects, and shared file mappings */
#define MAX_FENCE (MAX_DIRS + MAX_ANC)

struct obj {
	dev_t dev;
	ino_t ino;
};

/* built under the library's lock, in pkbox_seal() only */
static struct {
	char dirs[MAX_DIRS][PATH_LEN];
	char anc[MAX_ANC][PATH_LEN];
	struct obj objs[MAX_OBJS], shared[MAX_OBJS];
	struct obj fence[MAX_FENCE], walked[MAX_FENCE];
	int ndirs, nanc, nobjs, nshared, nfence, nwalked;
	bool all_fenced; /* an object lies in / */
	int ruleset;   /* prepared, not yet applied: >= 0 */
	int err;       /* why there is none: -ENOSYS, -EOPNOTSUPP (Landlock off) */
	int rules;
	bool keep_proc;
	bool allow;    /* writes beneath an allow-list only */
} ll = { .ruleset = -1 };

int pkbox__landlock_abi(void)
{
#ifdef HAVE_LANDLOCK_H
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
#else
	return 0;
#endif
}

#ifdef HAVE_LANDLOCK_H
static bool in(char (*set)[PATH_LEN], int n, const char *p)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(set[i], p))
			return true;
	return false;
}

static bool obj_in(const struct obj *set, int n, struct obj o)
{
	for (int i = 0; i < n; i++)
		if (set[i].dev == o.dev && set[i].ino == o.ino)
			return true;
	return false;
}

/* Every file-backed executable mapping: its object, its directory; and
 * every shared mapping of a file (checked against the objects after). */
/* An executable object o, mapped from path (n bytes long; cut to its
 * directory here): recorded, and its directory. */
static int add_object(struct obj o, char *path, size_t n)
{
	if (ll.nobjs == MAX_OBJS)
		return pkbox__err(-E2BIG, "pkbox_seal: more than %d executable objects", MAX_OBJS);
	ll.objs[ll.nobjs++] = o;
	struct stat st;
	if (!stat(path, &st) && st.st_ino == o.ino && st.st_nlink > 1)
		pkbox__msg(PKBOX_WARN,
			   "pkbox_seal: %s has %lu names; the file policy protects this one's directory only",
			   path, (unsigned long)st.st_nlink);
	char *slash = strrchr(path, '/');
	if (slash == path)
		slash[1] = 0; /* an object in / */
	else
		*slash = 0;
	if (in(ll.dirs, ll.ndirs, path))
		return 0;
	if (ll.ndirs == MAX_DIRS || n >= PATH_LEN)
		return pkbox__err(-E2BIG, "pkbox_seal: too many directories of executable objects, or too long");
	pkbox__fmt(ll.dirs[ll.ndirs++], PATH_LEN, "%s", path);
	return 0;
}

static int read_objects(void)
{
	static char line[PATH_LEN + 256];
	FILE *f = fopen("/proc/self/maps", "re");
	int rc = 0;

	if (!f)
		return pkbox__err(-errno, "pkbox_seal: cannot read /proc/self/maps: %m");
	while (!rc && fgets(line, sizeof(line), f)) {
		char perm[8];
		unsigned maj, min;
		unsigned long ino;
		int pos = 0;

		if (!strchr(line, '\n') && !feof(f)) {
			/* cut short: its directory would be wrong */
			rc = pkbox__err(-E2BIG, "pkbox_seal: a mapped file's path is longer than %d bytes", PATH_LEN);
			break;
		}
		if (sscanf(line, "%*x-%*x %7s %*x %x:%x %lu %n", perm, &maj, &min, &ino, &pos) < 4 || !pos)
			continue;
		char *path = line + pos;
		size_t n = strcspn(path, "\n");
		path[n] = 0;
		/* anonymous, [vdso], and files without a name left (memfd too) */
		if (path[0] != '/' || (n > 10 && !strcmp(path + n - 10, " (deleted)")))
			continue;
		struct obj o = { makedev(maj, min), (ino_t)ino };
		if (perm[3] == 's' && !obj_in(ll.shared, ll.nshared, o)) {
			if (ll.nshared == MAX_OBJS)
				rc = pkbox__err(-E2BIG, "pkbox_seal: more than %d shared file mappings", MAX_OBJS);
			else
				ll.shared[ll.nshared++] = o;
		}
		if (perm[2] != 'x' || obj_in(ll.objs, ll.nobjs, o))
			continue;
		int e = add_object(o, path, n);
		if (e) {
			rc = e;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* a is b, or an ancestor of b */
static bool covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	return !strcmp(a, "/") || (!strncmp(a, b, n) && (b[n] == 0 || b[n] == '/'));
}

/* mountinfo's octal escapes (\040 for a space, ...) undone in place */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
		    s[3] <= '7') {
			*d = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d = *s;
		}
	}
	*d = 0;
}

/* what follows a in b (covers(a, b)): "" or "/..." */
static const char *tail(const char *a, const char *b)
{
	return !strcmp(a, "/") ? (strcmp(b, "/") ? b : "") : b + strlen(a);
}

/* Each mount: its file system, the directory of it mounted, and where;
 * false at the end. */
static bool next_mount(FILE *f, char *line, size_t cap, dev_t *dev, char **root, char **at)
{
	while (fgets(line, (int)cap, f)) {
		unsigned maj, min;
		int r0 = 0, r1 = 0, a0 = 0, a1 = 0;

		if (sscanf(line, "%*d %*d %u:%u %n%*s%n %n%*s%n", &maj, &min, &r0, &r1, &a0, &a1) < 2 || !a1)
			continue;
		line[r1] = line[a1] = 0;
		*dev = makedev(maj, min);
		*root = line + r0;
		*at = line + a0;
		unescape(*root);
		unescape(*at);
		return true;
	}
	return false;
}

/* The same file system mounted elsewhere too (a bind mount, a device
 * mounted twice) shows a directory of code at another path: each such path
 * is fenced off as well. */
static int aliases(void)
{
	static char line[3 * PATH_LEN], inner[MAX_DIRS][PATH_LEN];
	static dev_t dev[MAX_DIRS];
	size_t best[MAX_DIRS] = { 0 };
	int n = ll.ndirs, rc = 0;
	dev_t d;
	char *root, *at;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return pkbox__err(-errno, "pkbox_seal: cannot read /proc/self/mountinfo: %m");
	/* 1. the mount each directory is seen through (the last of the
	 * longest mount points above it), and its path inside the file system */
	while (next_mount(f, line, sizeof(line), &d, &root, &at))
		for (int i = 0; i < n; i++)
			if (covers(at, ll.dirs[i]) && strlen(at) + 1 > best[i]) {
				const char *t = tail(at, ll.dirs[i]);

				best[i] = strlen(at) + 1;
				dev[i] = d;
				pkbox__fmt(inner[i], PATH_LEN, "%s%s", strcmp(root, "/") || !*t ? root : "", t);
			}
	/* 2. every mount of the same file system that shows part of it */
	rewind(f);
	while (!rc && next_mount(f, line, sizeof(line), &d, &root, &at))
		for (int i = 0; !rc && i < n; i++) {
			char alias[PATH_LEN];

			if (!best[i] || d != dev[i])
				continue;
			if (covers(root, inner[i])) {
				const char *t = tail(root, inner[i]);
				pkbox__fmt(alias, sizeof(alias), "%s%s", strcmp(at, "/") || !*t ? at : "", t);
			} else if (covers(inner[i], root)) {
				pkbox__fmt(alias, sizeof(alias), "%s", at);
			} else {
				continue;
			}
			if (in(ll.dirs, ll.ndirs, alias))
				continue;
			if (ll.ndirs == MAX_DIRS)
				rc = pkbox__err(-E2BIG, "pkbox_seal: more than %d directories of executable objects", MAX_DIRS);
			else
				pkbox__fmt(ll.dirs[ll.ndirs++], PATH_LEN, "%s", alias);
		}
	fclose(f);
	return rc;
}

/* Drops directories beneath others, and lists the ancestors of the rest. */
static int ancestors(void)
{
	bool under[MAX_DIRS] = { false };
	int k = 0;

	for (int i = 0; i < ll.ndirs; i++)
		for (int j = 0; j < ll.ndirs && !under[i]; j++)
			under[i] = j != i && covers(ll.dirs[j], ll.dirs[i]);
	for (int i = 0; i < ll.ndirs; i++)
		if (!under[i] && k++ != i)
			memcpy(ll.dirs[k - 1], ll.dirs[i], PATH_LEN);
	ll.ndirs = k;
	for (int i = 0; i < ll.ndirs; i++) {
		char p[PATH_LEN];

		pkbox__fmt(p, sizeof(p), "%s", ll.dirs[i]);
		for (char *s = strrchr(p, '/'); s && strcmp(ll.dirs[i], "/"); s = strrchr(p, '/')) {
			if (s == p)
				s[1] = 0;
			else
				*s = 0;
			if (!in(ll.anc, ll.nanc, p)) {
				if (ll.nanc == MAX_ANC)
					return pkbox__err(-E2BIG, "pkbox_seal: more than %d directories above executable objects",
							  MAX_ANC);
				pkbox__fmt(ll.anc[ll.nanc++], PATH_LEN, "%s", p);
			}
			if (s == p)
				break;
		}
	}
	return 0;
}

/* A descriptor of an executable object open for writing, or a shared
 * mapping of one, made before the seal (by a plugin's constructor) would
 * pass any policy on paths. */
static int writers_check(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int rc = 0;

	for (int i = 0; i < ll.nshared && !rc; i++)
		if (obj_in(ll.objs, ll.nobjs, ll.shared[i]))
			rc = pkbox__err(-EPERM, "pkbox_seal: an executable object (inode %lu) is also mapped shared",
					(unsigned long)ll.shared[i].ino);
	if (rc)
		return rc;
	if (!dir)
		return pkbox__err(-errno, "pkbox_seal: cannot list this process's descriptors: %m");
	while (!rc && (e = readdir(dir))) {
		int fd = atoi(e->d_name);
		struct stat st;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(dir) || fstat(fd, &st))
			continue;
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && (fl & O_ACCMODE) != O_RDONLY && obj_in(ll.objs, ll.nobjs, (struct obj){ st.st_dev, st.st_ino }))
			rc = pkbox__err(-EPERM, "pkbox_seal: descriptor %d has an executable object open for writing", fd);
	}
	closedir(dir);
	return rc;
}

/* Landlock restricts the calling thread and its children only.  (A thread
 * just joined can still be listed for a moment: its tid is cleared before
 * it leaves the list.) */
static int threads_check(void)
{
	pid_t self = pkbox__gettid(), other = 0;

	for (int tries = 0; tries < 100; tries++) {
		DIR *dir = opendir("/proc/self/task");
		struct dirent *e;

		if (!dir)
			return pkbox__err(-errno, "pkbox_seal: cannot list this process's threads: %m");
		other = 0;
		while (!other && (e = readdir(dir))) {
			pid_t tid = (pid_t)atoi(e->d_name);

			if (tid > 0 && tid != self)
				other = tid;
		}
		closedir(dir);
		if (!other)
			return 0;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return pkbox__err(-EBUSY,
			  "pkbox_seal: thread %d is running; the file policy (Landlock) would restrict only the sealing "
			  "thread and the threads it starts: seal before starting threads",
			  (int)other);
}

/* Landlock attaches a rule to a directory, not to a path: the same
 * directory seen through another mount gets the same rights.  So what is
 * fenced off (the directories of code and those above them, through every
 * path found) is told by device and inode. */
static int fence_build(void)
{
	ll.nfence = ll.nwalked = 0;
	for (int i = 0; i < ll.ndirs + ll.nanc; i++) {
		struct stat st;
		const char *p = i < ll.ndirs ? ll.dirs[i] : ll.anc[i - ll.ndirs];

		if (stat(p, &st) || obj_in(ll.fence, ll.nfence, (struct obj){ st.st_dev, st.st_ino }))
			continue;
		if (ll.nfence == MAX_FENCE)
			return pkbox__err(-E2BIG, "pkbox_seal: more than %d directories to fence off", MAX_FENCE);
		ll.fence[ll.nfence++] = (struct obj){ st.st_dev, st.st_ino };
	}
	return 0;
}

/* One rule beneath (a directory) or on (a file) fd. */
static int rule(int fd, __u64 rights, const char *name)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = rights, .parent_fd = fd };

	if (!rights)
		return 0;
	if (syscall(SYS_landlock_add_rule, ll.ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0))
		return pkbox__err(-errno, "pkbox_seal: Landlock rule for %s: %m", name);
	ll.rules++;
	return 0;
}

/* Rules for the entries of path (with writes: every right on all but those
 * fenced off); top: path is /, every entry of which gets reading at least.
 * Symbolic links get none: their targets have rules of their own. */
static int rules_in(const char *path, bool top, bool writes, __u64 handled)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	struct stat st;
	int rc = 0;

	if (!dir)
		return 0; /* unreadable: nothing beneath it can be written */
	if (writes && !fstat(dirfd(dir), &st)) {
		/* the same directory through another path: done already */
		struct obj o = { st.st_dev, st.st_ino };

		if (obj_in(ll.walked, ll.nwalked, o) || ll.nwalked == MAX_FENCE) {
			closedir(dir);
			return obj_in(ll.walked, ll.nwalked, o) ? 0 : pkbox__err(-E2BIG, "pkbox_seal: too many walks");
		}
		ll.walked[ll.nwalked++] = o;
	}
	while (!rc && (e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int fd = openat(dirfd(dir), e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* gone meanwhile */
		if (!fstat(fd, &st) && !S_ISLNK(st.st_mode)) {
			__u64 all = S_ISDIR(st.st_mode) ? handled : FS_FILE & handled;
			/* a directory of code, one above such: no write rights here */
			bool fenced = ll.all_fenced ||
				      (S_ISDIR(st.st_mode) && obj_in(ll.fence, ll.nfence, (struct obj){ st.st_dev, st.st_ino }));

			if (top && !strcmp(e->d_name, "proc"))
				rc = rule(fd, ll.keep_proc ? all : 0, e->d_name);
			else if (top && (fenced || !writes))
				rc = rule(fd, LANDLOCK_ACCESS_FS_READ_FILE, e->d_name);
			else if (!fenced)
				rc = rule(fd, all, e->d_name);
		}
		close(fd);
	}
	closedir(dir);
	return rc;
}
#endif

#ifdef HAVE_LANDLOCK_H
/* Write rules beneath the paths of an allow-list only: one rule on a path
 * with no executable code beneath it, the walk of the default policy on
 * one above such code; none at all beneath such code. */
static int allowed_rules(const char *const *allow, __u64 handled)
{
	int rc = 0;

	for (int i = 0; !rc && allow[i]; i++) {
		char real[PATH_MAX];
		bool above = false;

		if (!realpath(allow[i], real))
			return pkbox__err(-errno, "pkbox_seal: allow_write: %s: %m", allow[i]);
		for (int j = 0; j < ll.ndirs; j++)
			if (covers(ll.dirs[j], real))
				return pkbox__err(-EPERM, "pkbox_seal: allow_write: %s is beneath %s, a directory of "
							  "executable code", real, ll.dirs[j]);
		for (int j = 0; !rc && j < ll.nanc; j++)
			if (covers(real, ll.anc[j])) {
				above = true;
				rc = rules_in(ll.anc[j], false, true, handled);
			}
		if (!above && !rc) {
			int fd = open(real, O_PATH | O_CLOEXEC);
			struct stat st;

			if (fd < 0 || fstat(fd, &st))
				rc = pkbox__err(-errno, "pkbox_seal: allow_write: %s: %m", real);
			else
				rc = rule(fd, S_ISDIR(st.st_mode) ? handled : FS_FILE & handled, real);
			if (fd >= 0)
				close(fd);
		}
	}
	return rc;
}
#endif

int pkbox__files_prepare(const struct pkbox_seal_opts *opts)
{
	unsigned flags = opts ? opts->flags : 0;
	/* (the library's copy: fields past the caller's sz read as 0) */
	const char *const *allow = opts ? opts->allow_write : NULL;

	pkbox__files_drop();
	ll.ndirs = ll.nanc = ll.nobjs = ll.nshared = ll.rules = ll.err = 0;
	ll.keep_proc = !!(flags & PKBOX_SEAL_KEEP_PROC);
	ll.allow = !!allow;
#ifdef HAVE_LANDLOCK_H
	int abi = pkbox__landlock_abi();
	int rc;

	if (!abi && allow)
		return pkbox__err(-ENOTSUP, "pkbox_seal: allow_write needs Landlock, which this kernel lacks");
	if (!abi) {
		ll.err = errno == EOPNOTSUPP ? -EOPNOTSUPP : -ENOSYS;
		return 0;
	}
	if ((rc = threads_check()) || (rc = read_objects()) || (rc = writers_check()) || (rc = aliases()) ||
	    (rc = ancestors()) || (rc = fence_build()))
		return rc;
	ll.all_fenced = in(ll.dirs, ll.ndirs, "/");
	__u64 handled = FS_ABI1 | (abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0) | (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0);
	struct landlock_ruleset_attr ra = { .handled_access_fs = handled };

	ll.ruleset = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (ll.ruleset < 0)
		return pkbox__err(-errno, "pkbox_seal: landlock_create_ruleset: %m");
	bool all = !allow;
	for (int i = 0; allow && allow[i]; i++)
		all |= !strcmp(allow[i], "/");
	rc = rules_in("/", true, all, handled);
	for (int i = 0; !rc && all && i < ll.nanc; i++)
		if (strcmp(ll.anc[i], "/"))
			rc = rules_in(ll.anc[i], false, true, handled);
	if (!rc && !all)
		rc = allowed_rules(allow, handled);
	if (rc)
		pkbox__files_drop();
	return rc;
#else
	if (allow)
		return pkbox__err(-ENOTSUP, "pkbox_seal: allow_write needs Landlock, which this build lacks");
	ll.err = -ENOSYS;
	return 0;
#endif
}

int pkbox__files_apply(void)
{
	int rc;

	if (ll.ruleset < 0)
		return ll.err ? ll.err : -ENOSYS;
	/* (Landlock wants no_new_privs, or CAP_SYS_ADMIN; the seal sets it anyway) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, ll.ruleset, 0))
		rc = -errno;
	else
		rc = ll.keep_proc ? -ECANCELED : 0;
	if (rc == 0 || rc == -ECANCELED)
		pkbox__msg(PKBOX_INFO,
			   "file policy: Landlock ABI %d, %d rules; %d executable objects, nothing beneath their %d "
			   "directories writable%s",
			   pkbox__landlock_abi(), ll.rules, ll.nobjs, ll.ndirs,
			   ll.allow ? ", nothing else but beneath the allow-list" : "");
	pkbox__files_drop();
	return rc;
}

void pkbox__files_drop(void)
{
	if (ll.ruleset >= 0)
		close(ll.ruleset);
	ll.ruleset = -1;
}
