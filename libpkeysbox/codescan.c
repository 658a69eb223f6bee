/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * codescan.c - the seal's look at the process's code: every executable
 * mapping scanned for instructions that write PKRU (inspect.c), the two
 * known system sites disabled (objects bound lazily: binding.c).
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "inspect.h"
#include "msg.h"
#include "seal.h"
#include "sys.h"

int pkbox__xmaps_read(struct pkbox_xmap *m, int max, int *count)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	int n = 0;

	if (!f)
		return pkbox__err(-errno, "cannot read /proc/self/maps: %m");
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perm[8], path[256] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi, perm, path) < 3)
			continue;
		if (perm[2] != 'x')
			continue;
		if (n == max) {
			fclose(f);
			return pkbox__err(-E2BIG, "more than %d executable mappings", max);
		}
		m[n].lo = lo;
		m[n].hi = hi;
		m[n].readable = perm[0] == 'r';
		pkbox__fmt(m[n].path, sizeof(m[n].path), "%s", path);
		n++;
	}
	fclose(f);
	*count = n;
	return 0;
}

static bool is_gate_site(uintptr_t a)
{
	extern const char pkbox__wrpkru_enter[], pkbox__wrpkru_exit[], pkbox__wrpkru_die[];

	return a == (uintptr_t)pkbox__wrpkru_enter || a == (uintptr_t)pkbox__wrpkru_exit ||
	       a == (uintptr_t)pkbox__wrpkru_die;
}

static bool path_is(const char *path, const char *base)
{
	const char *s = strrchr(path, '/');

	s = s ? s + 1 : path;
	return !strncmp(s, base, strlen(base));
}

/* Scans every executable mapping once.  The two known system sites
 * (glibc's pkey_set, the dynamic loader's lazy-binding XRSTOR) are returned
 * in sites[] to be disabled later; anything else but the gate's own
 * WRPKRUs refuses the seal. */
int pkbox__code_inspect(struct pkbox_finding *sites, int *nsites)
{
	static struct pkbox_xmap m[PKBOX_MAX_XMAPS];
	struct pkbox_finding f[64];
	int n, rc;

	rc = pkbox__xmaps_read(m, PKBOX_MAX_XMAPS, &n);
	if (rc)
		return rc;
	*nsites = 0;
	for (int i = 0; i < n; i++) {
		if (!m[i].readable) {
			if (!strcmp(m[i].path, "[vsyscall]"))
				continue; /* the kernel's fixed page: emulated, never executed */
			return pkbox__err(-EACCES, "cannot inspect execute-only mapping %#lx-%#lx %s",
					  (unsigned long)m[i].lo, (unsigned long)m[i].hi, m[i].path);
		}
		bool adj = i > 0 && m[i - 1].hi == m[i].lo && m[i - 1].readable;
		const uint8_t *prev = adj ? (const uint8_t *)(m[i].lo - 2) : NULL;
		size_t nf = pkbox__scan(prev, adj ? 2 : 0, (const uint8_t *)m[i].lo, m[i].hi - m[i].lo, m[i].lo, f, 64);

		if (nf > 64)
			return pkbox__err(-EPERM, "%s contains %zu PKRU-writing sequences", m[i].path, nf);
		for (size_t j = 0; j < nf; j++) {
			if (is_gate_site(f[j].addr))
				continue;
			bool known = (path_is(m[i].path, "libc.so") && f[j].kind == PKBOX_INSN_WRPKRU) ||
				     (path_is(m[i].path, "ld-linux") && f[j].kind == PKBOX_INSN_XRSTOR);
			if (!known) {
				const struct pkbox_xmap *w = f[j].addr < m[i].lo ? &m[i - 1] : &m[i];

				return pkbox__err(-EPERM, "%s at %#lx (%s+%#lx%s) can write PKRU; refusing to seal",
						  pkbox__insn_name(f[j].kind), (unsigned long)f[j].addr,
						  w->path[0] ? w->path : "anonymous", (unsigned long)(f[j].addr - w->lo),
						  w != &m[i] ? ", running into the next mapping" : "");
			}
			if (*nsites == PKBOX_MAX_SITES)
				return pkbox__err(-EPERM, "more than %d system PKRU-writing sites", PKBOX_MAX_SITES);
			sites[(*nsites)++] = f[j];
		}
	}
	return 0;
}

/* Overwrites each site with UD2. */
int pkbox__code_disable(const struct pkbox_finding *sites, int n)
{
	static const uint8_t ud2[3] = { 0x0f, 0x0b, 0x90 };

	for (int i = 0; i < n; i++) {
		int e = pkbox__poke(sites[i].addr, ud2, 3);

		if (e)
			return pkbox__err(e, "cannot disable %s at %#lx: %s", pkbox__insn_name(sites[i].kind),
					  (unsigned long)sites[i].addr, pkbox__strerror(-e));
	}
	return 0;
}
