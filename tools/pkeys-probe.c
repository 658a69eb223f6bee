/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pkeys-probe - what this machine offers for protection keys, and which
 * backend libpkeysbox would use.  Exit: 0 hardware pkeys, 1 fallback only,
 * 2 error. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkeysbox.h"

static const char *const act_names[] = { "kill_process", "kill_thread", "trap", "errno",
					 "user_notif", "trace", "log", "allow" };

static void json_str(const char *k, const char *v, int comma)
{
	printf("  \"%s\": \"", k);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	printf("\"%s\n", comma ? "," : "");
}

static const char *yesno(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "unreadable";
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pkeys-probe [--json] [--help] [--version]\n"
		   "Reports CPU and kernel support for memory protection keys and the libpkeysbox\n"
		   "backend this machine gets. Exit status: 0 hardware pkeys, 1 fallback only, 2 error.\n");
}

static void print_json(const struct pkbox_info *in, const char *acts, const char *backend)
{
	char pkru[16];

	printf("{\n");
	json_str("cpu_vendor", in->cpu_vendor, 1);
	json_str("cpu_model", in->cpu_model, 1);
	printf("  \"cpu_family\": %u,\n  \"cpu_model_number\": %u,\n  \"cpu_stepping\": %u,\n", in->cpu_family,
	       in->cpu_model_nr, in->cpu_stepping);
	printf("  \"cpuid_pku\": %d,\n  \"cpuid_ospke\": %d,\n", in->cpuid_pku, in->cpuid_ospke);
	printf("  \"cpuinfo_pku\": %d,\n  \"cpuinfo_ospke\": %d,\n", in->cpuinfo_pku, in->cpuinfo_ospke);
	json_str("kernel", in->kernel_release, 1);
	printf("  \"pkey_alloc\": %s,\n", in->kernel_pkeys ? "true" : "false");
	json_str("pkey_alloc_error", in->kernel_pkeys ? "" : strerrorname_np(in->pkey_alloc_errno) ?: "?", 1);
	printf("  \"keys_available\": %d,\n", in->keys_available);
	snprintf(pkru, sizeof(pkru), "0x%08x", in->pkru);
	if (in->pkru_valid)
		json_str("pkru", pkru, 1);
	else
		printf("  \"pkru\": null,\n");
	printf("  \"seccomp_filter\": %s,\n", in->seccomp_filter ? "true" : "false");
	json_str("seccomp_actions", acts, 1);
	printf("  \"mdwe\": %s,\n  \"mseal\": %s,\n", in->mdwe ? "true" : "false", in->mseal ? "true" : "false");
	json_str("backend", backend, 0);
	printf("}\n");
}

static void print_text(const struct pkbox_info *in, const char *acts, const char *backend)
{
	const char *env = getenv("PKBOX_BACKEND");

	printf("CPU vendor:          %s\n", in->cpu_vendor);
	printf("CPU model:           %s\n", in->cpu_model);
	printf("family/model/step:   %u/%u/%u\n", in->cpu_family, in->cpu_model_nr, in->cpu_stepping);
	printf("CPUID PKU:           %d\n", in->cpuid_pku);
	printf("CPUID OSPKE:         %d\n", in->cpuid_ospke);
	printf("/proc/cpuinfo:       pku %s, ospke %s\n", yesno(in->cpuinfo_pku), yesno(in->cpuinfo_ospke));
	printf("kernel:              %s\n", in->kernel_release);
	if (in->kernel_pkeys)
		printf("pkey_alloc:          works\n");
	else
		printf("pkey_alloc:          fails: %s (%s)\n", strerrorname_np(in->pkey_alloc_errno) ?: "?",
		       strerror(in->pkey_alloc_errno));
	printf("keys available:      %d\n", in->keys_available);
	if (in->pkru_valid)
		printf("PKRU:                0x%08x\n", in->pkru);
	else
		printf("PKRU:                not readable (no OSPKE)\n");
	printf("seccomp filter:      %s\n", in->seccomp_filter ? "yes" : "no");
	printf("seccomp actions:     %s\n", *acts ? acts : "(none)");
	printf("MDWE (PR_SET_MDWE):  %s\n", in->mdwe ? "available" : "not available");
	printf("mseal:               %s\n", in->mseal ? "available" : "not available");
	printf("backend:             %s\n", backend);
	if (env && *env)
		printf("PKBOX_BACKEND:       %s (set in the environment)\n", env);
	printf("verdict:             %s\n", in->backend == PKBOX_BACKEND_PKU
						 ? "hardware protection keys work"
						 : "no usable protection keys: the mprotect fallback is used");
}

/* the names of the seccomp actions the kernel offers, space-separated */
static void action_names(unsigned int mask, char *acts)
{
	for (unsigned i = 0; i < 8; i++) {
		if (mask & (1u << i)) {
			if (*acts)
				strcat(acts, " ");
			strcat(acts, act_names[i]);
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	PKBOX_OPTS(pkbox_info, in);
	int json = 0, c;
	char acts[128] = "";

	while ((c = getopt_long(argc, argv, "jhV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("pkeys-probe %d.%d.%d\n", PKBOX_VERSION_MAJOR, PKBOX_VERSION_MINOR, PKBOX_VERSION_MICRO); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (pkbox_probe(&in)) {
		fprintf(stderr, "pkeys-probe: %s\n", pkbox_last_error());
		return 2;
	}
	action_names(in.seccomp_actions, acts);
	if (json)
		print_json(&in, acts, pkbox_backend_name(in.backend));
	else
		print_text(&in, acts, pkbox_backend_name(in.backend));
	return in.backend == PKBOX_BACKEND_PKU ? 0 : 1;
}
