/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe.c - what the CPU and the kernel offer, in detail (pkbox_probe's engine). */
#include "config.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "backend.h"
#include "cpu.h"
#include "fmt.h"

#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

static void trim(char *s)
{
	char *p = s;
	size_t n;

	while (*p == ' ')
		p++;
	memmove(s, p, strlen(p) + 1);
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n'))
		s[--n] = 0;
}

/* 1 if word is one of the space-separated flags on /proc/cpuinfo's flags
 * line, 0 if not, -1 if unreadable */
static void cpuinfo_flags(struct pkbox_info *info)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192];

	info->cpuinfo_pku = info->cpuinfo_ospke = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		info->cpuinfo_pku = info->cpuinfo_ospke = 0;
		for (char *save, *w = strtok_r(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \n", &save); w;
		     w = strtok_r(NULL, " \n", &save)) {
			if (!strcmp(w, "pku"))
				info->cpuinfo_pku = 1;
			if (!strcmp(w, "ospke"))
				info->cpuinfo_ospke = 1;
		}
		break;
	}
	fclose(f);
}

static void seccomp_actions(struct pkbox_info *info)
{
	static const struct { const char *name; unsigned bit; } act[] = {
		{ "kill_process", PKBOX_SECCOMP_KILL_PROCESS }, { "kill_thread", PKBOX_SECCOMP_KILL_THREAD },
		{ "trap", PKBOX_SECCOMP_TRAP }, { "errno", PKBOX_SECCOMP_ERRNO },
		{ "user_notif", PKBOX_SECCOMP_USER_NOTIF }, { "trace", PKBOX_SECCOMP_TRACE },
		{ "log", PKBOX_SECCOMP_LOG }, { "allow", PKBOX_SECCOMP_ALLOW },
	};
	FILE *f = fopen("/proc/sys/kernel/seccomp/actions_avail", "r");
	char buf[512];

	if (f) {
		if (fgets(buf, sizeof(buf), f)) {
			for (char *save, *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
				for (size_t i = 0; i < sizeof(act) / sizeof(act[0]); i++)
					if (!strcmp(w, act[i].name))
						info->seccomp_actions |= act[i].bit;
		}
		fclose(f);
	}
	uint32_t a = SECCOMP_RET_ALLOW;
	info->seccomp_filter = prctl(PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 &&
			       syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &a) == 0;
}

/* CPUID: vendor, family, model, stepping, brand string */
static void cpu_ident(struct pkbox_info *info)
{
	unsigned a, b, cx, d;

	if (__get_cpuid(0, &a, &b, &cx, &d)) {
		memcpy(info->cpu_vendor, &b, 4);
		memcpy(info->cpu_vendor + 4, &d, 4);
		memcpy(info->cpu_vendor + 8, &cx, 4);
	}
	if (__get_cpuid(1, &a, &b, &cx, &d)) {
		unsigned fam = (a >> 8) & 0xf, model = (a >> 4) & 0xf;

		if (fam == 0xf)
			fam += (a >> 20) & 0xff;
		if (fam == 0x6 || fam >= 0xf)
			model += ((a >> 16) & 0xf) << 4;
		info->cpu_family = fam;
		info->cpu_model_nr = model;
		info->cpu_stepping = a & 0xf;
	}
	if (__get_cpuid(0x80000000, &a, &b, &cx, &d) && a >= 0x80000004) {
		unsigned *w = (unsigned *)info->cpu_model;

		for (unsigned l = 0; l < 3; l++)
			__get_cpuid(0x80000002 + l, &w[l * 4], &w[l * 4 + 1], &w[l * 4 + 2], &w[l * 4 + 3]);
		info->cpu_model[48] = 0;
		trim(info->cpu_model);
	}
}

/* keys: allocate until the kernel says no, then give them all back */
static void keys_count(struct pkbox_info *info)
{
	int keys[16], n = 0;
	long k = syscall(SYS_pkey_alloc, 0UL, 0UL);

	info->kernel_pkeys = k >= 0;
	info->pkey_alloc_errno = k >= 0 ? 0 : errno;
	while (k >= 0 && n < 16) {
		keys[n++] = (int)k;
		k = syscall(SYS_pkey_alloc, 0UL, 0UL);
	}
	if (k >= 0)
		syscall(SYS_pkey_free, k);
	for (int i = 0; i < n; i++)
		syscall(SYS_pkey_free, keys[i]);
	info->keys_available = n;
}

void pkbox__probe(struct pkbox_info *info)
{
	const struct pkbox_cpu *c = pkbox__cpu();
	struct utsname u;

	cpu_ident(info);
	info->cpuid_pku = c->pku;
	info->cpuid_ospke = c->ospke;
	cpuinfo_flags(info);
	if (!uname(&u))
		pkbox__fmt(info->kernel_release, sizeof(info->kernel_release), "%s", u.release);
	keys_count(info);
	if (c->ospke) {
		info->pkru_valid = 1;
		info->pkru = pkbox__rdpkru();
	}
	seccomp_actions(info);
	/* MDWE: only asked, never set */
	info->mdwe = prctl(PR_GET_MDWE, 0, 0, 0, 0) >= 0;
	/* mseal: a zero-length call seals nothing; ENOSYS says the kernel lacks it */
	info->mseal = !(syscall(SYS_mseal, 0UL, 0UL, 0UL) < 0 && errno == ENOSYS);
	info->backend = pkbox__detect_backend();
	info->backend_in_use = pkbox__backend_in_use();
}
