#!/bin/sh
# check-pitfalls.sh PKBOX_RUN PLUGIN_DIR BACKEND [NAME...]: the "PKU
# Pitfalls" attacks and what a constructor can leave behind for later
# (tests/plugins/pitfalls.c), each from the plugin's entry point and from its
# constructor, against pkbox-run's contract (pkbox-run(1)): exit 86 with one
# violation line, the canary line intact, the canary nowhere in the
# plugin's output, and no process of the run left behind.
#
# A constructor runs inside the compartment under the policy (plugins load
# only after the seal): one that is stopped there, by a refused syscall or a
# fault, makes the load fail, which pkbox-run reports as a violation (86).
# Nothing here is refused at load (65): the object has no PKRU-writing
# instruction in its code and no IFUNC; all it does, it does when it runs.
#
# POSIX sh with busybox in mind (the guests): no bash, no GNU options.
set -u
run=$1 dir=$2 be=$3
shift 3
plugin=$dir/libpkbox-pitfalls.so
fail=0 n=0
tmp=$(mktemp -d)
out=$tmp/out err=$tmp/err sidf=$tmp/sid
trap 'rm -rf "$tmp"' EXIT

if [ "$be" = pku ] && ! "$run" --backend=pku "$dir/libpkbox-hello.so" >/dev/null 2>"$err"; then
	if grep -q "pku backend requested" "$err"; then
		echo "pku is not available here: $(cat "$err")"; exit 77
	fi
fi

attacks="basecase pkey_mprotect mprotect32 mremap proc_mem vm_readv file_backed shared_memory map_race scan_race
	seccomp sighandler sigreturn helper clonevm seccomp_neuter rseq codepatch sigdfl forkspin mapcount rwx procfd"
[ $# -gt 0 ] && attacks=$*

has() { # FILE PATTERN DESCRIPTION
	if ! grep -Eq "$2" "$1"; then echo "FAIL $3: no line matching '$2'"; sed 's/^/  | /' "$1"; fail=1; fi
}

# the live processes of session $1 (the run's), from /proc: busybox ps
# cannot say; zombies are dead already (whoever reaps them may be slow)
session_now() {
	for f in /proc/[0-9]*/stat; do
		# after "PID (COMM) ": state ppid pgrp session ...
		st=$(sed 's/.*) //' "$f" 2>/dev/null | cut -d' ' -f1,4)
		if [ "${st#* }" = "$1" ] && [ "${st% *}" != Z ]; then
			p=${f#/proc/}; echo "${p%/stat}"
		fi
	done
}
# ... given two seconds to go (a parent-death signal is not instant)
session_left() {
	for t in 1 2 3; do
		left=$(session_now "$1")
		[ -z "$left" ] && return
		[ $t = 3 ] || sleep 1
	done
	echo $left
}

# one run: CTOR (or "") SYMBOL DESCRIPTION
check() {
	ctor=$1 sym=$2 what=$3
	n=$((n + 1))
	rm -f "$sidf"
	# its own session, so that whatever it leaves behind can be found
	PKBOX_PITFALL_CTOR=$ctor setsid sh -c 'echo $$ >"$1"; shift; exec timeout 60 "$@"' sh "$sidf" \
		"$run" --backend="$be" --canary "$plugin" "$sym" >"$out" 2>"$err"
	got=$?
	sid=$(cat "$sidf" 2>/dev/null)
	if [ "$got" != 86 ]; then
		case $got in
		124|143) why="timed out (60 s)";;
		65) why="refused at load (65)";;
		0) why="the plugin returned 0 (it got what it looked for)";;
		*) why="exit $got";;
		esac
		echo "FAIL $what: $why, expected 86"; sed 's/^/  out: /' "$out"; sed 's/^/  err: /' "$err"; fail=1
	else
		echo "ok   $what (exit 86)"
	fi
	v=$(grep -c '^pkbox-run: violation: ' "$err")
	if [ "$got" = 86 ] && [ "$v" != 1 ]; then echo "FAIL $what: $v violation lines, expected one"; fail=1; fi
	[ "$got" = 65 ] && [ "$alt" = 65 ] || has "$err" '^pkbox-run: canary [0-9a-f]{64} intact$' "$what: canary intact"
	c=$(sed -n 's/^pkbox-run: canary \([0-9a-f]*\) .*/\1/p' "$err" | head -n 1)
	if [ -n "$c" ] && grep -q "$(printf %s "$c" | cut -c1-16)" "$out"; then
		echo "FAIL $what: the canary is in the plugin's output"; fail=1
	fi
	if [ -n "$sid" ]; then
		left=$(session_left "$sid")
		if [ -n "$left" ]; then
			echo "FAIL $what: processes left behind: $left"; fail=1
			for p in $left; do kill -9 "$p" 2>/dev/null; done
		fi
	fi
}

for a in $attacks; do
	check "" "pf_$a" "$a from the entry point"
	check "$a" pf_use "$a from the constructor"
done
echo "$n cases"
exit $fail
