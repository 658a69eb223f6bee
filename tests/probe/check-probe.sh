#!/bin/sh
# check-probe.sh PROBE [CPUID] - pkeys-probe's CPUID bits, vendor and exit
# status agree with the cpuid tool on this machine (POSIX sh, busybox-safe).
PROBE=$1
CPUID=${2:-}
[ -n "$CPUID" ] && [ -x "$CPUID" ] || { echo "SKIP: the cpuid tool is not installed (apt-get install cpuid)"; exit 77; }

json=$("$PROBE" --json); rc=$?
field() { printf '%s\n' "$json" | sed -n "s/^ *\"$1\": \"*\([^\",]*\)\"*,*\$/\1/p"; }
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok: $1 = $2"; else echo "FAIL: $1: probe says '$2', expected '$3'"; fail=1; fi; }

ecx=$("$CPUID" -1 -l 7 -s 0 -r | sed -n 's/.*ecx=\(0x[0-9a-fA-F]*\).*/\1/p' | head -n 1)
[ -n "$ecx" ] || { echo "FAIL: cannot read leaf 7 from cpuid"; exit 1; }
ecx=$(printf '%d' "$ecx")
check cpuid_pku "$(field cpuid_pku)" $(( (ecx >> 3) & 1 ))
check cpuid_ospke "$(field cpuid_ospke)" $(( (ecx >> 4) & 1 ))

# the vendor string, from leaf 0's registers (ebx, edx, ecx as ASCII)
l0=$("$CPUID" -1 -l 0 -r | sed -n 's/.*ebx=\(0x[0-9a-f]*\) ecx=\(0x[0-9a-f]*\) edx=\(0x[0-9a-f]*\).*/\1 \3 \2/p' | head -n 1)
vendor=
for r in $l0; do
	v=$(printf '%d' "$r")
	for s in 0 8 16 24; do
		vendor="$vendor$(printf "\\$(printf '%03o' $(( (v >> s) & 255 )))")"
	done
done
check cpu_vendor "$(field cpu_vendor)" "$vendor"

backend=$(field backend)
case "$backend" in
pku) check exit_status $rc 0 ;;
mprotect) check exit_status $rc 1 ;;
*) echo "FAIL: unknown backend '$backend'"; fail=1 ;;
esac
# pku exactly when both bits are set and the kernel gives keys
if [ "$(field cpuid_pku)$(field cpuid_ospke)$(field pkey_alloc)" = "11true" ]; then want=pku; else want=mprotect; fi
check backend "$backend" "$want"
keys=$(field keys_available)
if [ "$backend" = pku ]; then
	[ "$keys" -gt 0 ] && echo "ok: keys_available = $keys" || { echo "FAIL: pku backend but no keys available"; fail=1; }
	[ "$(field pkru)" != "" ] || { echo "FAIL: PKRU not reported although OSPKE is set"; fail=1; }
else
	check keys_available_without_pkeys "$keys" 0
fi
if [ -n "$PKBOX_EXPECT_BACKEND" ]; then check expected_backend "$backend" "$PKBOX_EXPECT_BACKEND"; fi

# the text output says the same
text=$("$PROBE")
printf '%s\n' "$text" | grep -q "^CPUID PKU: *$(field cpuid_pku)\$" || { echo "FAIL: text output disagrees on PKU"; fail=1; }
printf '%s\n' "$text" | grep -q "^CPUID OSPKE: *$(field cpuid_ospke)\$" || { echo "FAIL: text output disagrees on OSPKE"; fail=1; }
printf '%s\n' "$text" | grep -q "^backend: *$backend\$" || { echo "FAIL: text output disagrees on the backend"; fail=1; }

"$PROBE" --bogus >/dev/null 2>&1
check bad_option_exit $? 2
exit $fail
