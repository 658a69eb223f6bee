#!/bin/sh
# check-pkbox-run.sh PKBOX_RUN PLUGIN_DIR GADGET BACKEND: pkbox-run's
# contract (pkbox-run(1)), case by case: exit status, the violation line,
# the canary line, and that the canary never shows in the plugin's output.
set -u
run=$1 dir=$2 gadget=$3 be=$4
fail=0 n=0
out=$(mktemp) err=$(mktemp)
scratch=
trap 'rm -f "$out" "$err" ${scratch:+"$scratch"}' EXIT

if [ "$be" = pku ] && ! "$run" --backend=pku "$dir/libpkbox-hello.so" >/dev/null 2>"$err"; then
	if grep -q "pku backend requested" "$err"; then
		echo "pku is not available here: $(cat "$err")"; exit 77
	fi
fi

# expect STATUS DESCRIPTION -- ARGS...: runs pkbox-run ARGS, checks the status
expect() {
	want=$1 what=$2; shift 3
	n=$((n + 1))
	"$run" --backend="$be" "$@" >"$out" 2>"$err"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $what: exit $got, expected $want"; sed 's/^/  out: /' "$out"; sed 's/^/  err: /' "$err"; fail=1
	else
		echo "ok   $what (exit $got)"
	fi
}
has() { # FILE PATTERN DESCRIPTION
	if ! grep -Eq "$2" "$1"; then echo "FAIL $3: no line matching '$2'"; sed 's/^/  | /' "$1"; fail=1; fi
}
hasnt() {
	if grep -Eq "$2" "$1"; then echo "FAIL $3: found '$2'"; fail=1; fi
}
canary_safe() { # the canary line says intact, and its value is nowhere in stdout
	has "$err" '^pkbox-run: canary [0-9a-f]{64} intact$' "$1: canary intact"
	c=$(sed -n 's/^pkbox-run: canary \([0-9a-f]*\) .*/\1/p' "$err")
	if [ -n "$c" ] && grep -q "$(printf %s "$c" | cut -c1-16)" "$out"; then echo "FAIL $1: the canary is in the plugin's output"; fail=1; fi
}

expect 43 "plain call returns argc+40" -- "$dir/libpkbox-hello.so" -- a b
has "$out" '^hello from the compartment: argc=3$' "plugin output"
has "$out" '^arg\[2\]=b$' "arguments"
expect 7 "return value passed through" -- "$dir/libpkbox-hello.so" -- ret=7
expect 0 "return value is taken modulo 256" -- "$dir/libpkbox-hello.so" -- ret=256
expect 64 "no plugin is a usage error" --
expect 64 "unknown option" -- --bogus "$dir/libpkbox-hello.so"
expect 65 "missing file is refused" -- /nonexistent/plugin.so
expect 65 "not an ELF file is refused" -- "$0"
expect 65 "missing symbol is refused" -- "$dir/libpkbox-hello.so" no_such_symbol
expect 65 "a plugin with WRPKRU is refused" -- "$gadget"
has "$err" 'WRPKRU' "refusal names the instruction"
# constructors run after the seal, inside the compartment: one that is
# stopped there is a violation like any other
expect 86 "a constructor that faults is a violation" -- --canary "$dir/libpkbox-ctor-fault.so"
has "$err" '^pkbox-run: violation: .*its constructor was stopped in domain ' "constructor: violation line"
canary_safe "constructor that faults"
expect 43 "--canary with a good plugin" -- --canary "$dir/libpkbox-hello.so" -- a b
canary_safe "good plugin"
for sym in pkbox_main steal_write steal_mprotect steal_remap steal_exec steal_procmem steal_int80 \
	steal_signal steal_seccomp steal_state steal_exec_child steal_exhaust steal_sigreturn steal_thread \
	steal_got steal_printf steal_stack steal_gate steal_pkey_set; do
	expect 86 "thief $sym is stopped" -- --canary "$dir/libpkbox-thief.so" "$sym"
	has "$err" '^pkbox-run: violation: ' "thief $sym: violation line"
	case $sym in steal_gate|steal_pkey_set) # stopped at an instruction that cannot run there
		has "$err" '^pkbox-run: violation: domain .*: forbidden instruction at 0x' "thief $sym: forbidden instruction";;
	steal_exec) # no new executable memory (its code would stop it anyway where there are no pkeys)
		hasnt "$out" 'executable memory MAPPED' "thief $sym: no new executable memory";;
	esac
	canary_safe "thief $sym"
done
# executable memory comes from the loader's code descriptor only, which a
# plugin can neither replace, close, map writable nor map over the host's
# code: each is stopped by the policy itself (a refused syscall)
for sym in steal_codefd_view steal_codefd_swap steal_codefd_close steal_codefd_range steal_codefd_writable \
	steal_codefd_fixed; do
	expect 86 "thief $sym is stopped" -- --canary "$dir/libpkbox-thief.so" "$sym"
	has "$err" '^pkbox-run: violation: domain .*: syscall [0-9]+ refused by the policy' "thief $sym: refused syscall"
	canary_safe "thief $sym"
done
# A16: the host's code changed through its file, with the bytes already
# there written back (steal_pagecache).  Landlock refuses every write: exit 0
# and a line that says so; where it has no TRUNCATE right (before Linux 6.2)
# the seal refuses truncate(2) and O_RDONLY|O_TRUNC instead: a violation.  A
# file beside pkbox-run (whose directory is that of an executable object)
# stands in for the library where O_TRUNC cannot be undone.
scratch=$(dirname "$run")/pagecache-scratch-$be
printf x 2>/dev/null >"$scratch" || scratch=
pagecache() { # DESCRIPTION -- ARGS...: runs pkbox-run ARGS, checks the contract above
	what=$1; shift 2
	n=$((n + 1))
	"$run" --backend="$be" "$@" >"$out" 2>"$err"
	got=$?
	if [ $got = 0 ] && grep -q '^steal_pagecache: every write refused$' "$out"; then
		echo "ok   $what: every write refused (exit 0)"
	elif [ $got = 86 ] && grep -Eq '^pkbox-run: violation: domain .*: syscall [0-9]+ refused by the policy' "$err"; then
		echo "ok   $what: a write refused by the seal (exit 86)"
	elif [ $got = 66 ] && grep -q 'sealed without Landlock' "$err"; then
		echo "ok   $what: writes the library's file: this kernel has no Landlock (documented)"
	else
		echo "FAIL $what: exit $got"; sed 's/^/  out: /' "$out"; sed 's/^/  err: /' "$err"; fail=1
	fi
	if [ $got != 66 ]; then hasnt "$out" 'WROTE' "$what"; fi
}
pagecache "thief steal_pagecache" -- --canary "$dir/libpkbox-thief.so" steal_pagecache -- ${scratch:+"$scratch"}
canary_safe "thief steal_pagecache"
# ... which, without the seal, writes the library (where the tree is writable)
if [ -n "$scratch" ]; then
	n=$((n + 1))
	"$run" --backend="$be" --no-seal "$dir/libpkbox-thief.so" steal_pagecache -- "$scratch" >"$out" 2>"$err"
	got=$?
	# (66 when it gets through all its ways; with key-0 protection a later
	# way faults in the C library, 86, after the write went through)
	if { [ $got = 66 ] || [ $got = 86 ]; } && grep -q '^steal_pagecache: open for writing, pwrite: WROTE$' "$out"; then
		echo "ok   without the seal, steal_pagecache writes the library's file (exit $got)"
	else echo "FAIL without the seal, steal_pagecache: exit $got, expected 66 and a pwrite"; sed 's/^/  out: /' "$out"; fail=1; fi
	rm -f "$scratch"
fi
# files: pkbox-run lets a plugin write none unless --allow-write names
# where, and never beneath the directories of the code in place
wdir=$(mktemp -d)
expect 1 "a plugin writes no file without --allow-write" -- "$dir/libpkbox-thief.so" write_file -- "$wdir/f"
has "$out" '^write_file: refused: Permission denied$' "write_file refused"
if [ -e "$wdir/f" ]; then echo "FAIL write_file: the file was made"; fail=1; fi
expect 0 "--allow-write=DIR lets it write there" -- --allow-write="$wdir" "$dir/libpkbox-thief.so" write_file -- "$wdir/f"
expect 1 "... and nowhere else" -- --allow-write="$wdir" "$dir/libpkbox-thief.so" write_file -- "$dir/write-file-test"
expect 64 "--allow-write beneath a directory of code is refused" -- --allow-write="$(dirname "$run")" "$dir/libpkbox-hello.so"
has "$err" 'directory of executable code' "--allow-write refusal names the reason"
pagecache "--allow-write=/ still keeps the code's files" -- --allow-write=/ "$dir/libpkbox-thief.so" steal_pagecache
rm -rf "$wdir"
# a plugin cannot end, kill or stop pkbox-run itself (PKBOX_SEAL_NO_EXIT),
# nor send its report elsewhere (PKBOX_SEAL_KEEP_STDIO)
for sym in end_exit end_kill end_blocked_fault end_alarm end_tiocsti end_report end_sigwait end_sigio \
	end_nonblock end_sigdfl end_sigign end_maps end_exit_thread end_tkill end_tgkill end_sigqueue \
	end_tgsigqueue end_pidfd_signal end_setitimer end_timer end_setrlimit end_prlimit end_report_dup2 \
	end_report_close; do
	expect 86 "plugin $sym is stopped" -- --canary "$dir/libpkbox-thief.so" "$sym"
	has "$err" '^pkbox-run: violation: domain ' "plugin $sym: violation line"
	canary_safe "plugin $sym"
done
# the violation line says what a plugin that ends the process tried
expect 86 "plugin end_exit is stopped" -- --canary "$dir/libpkbox-thief.so" end_exit
has "$err" 'it called exit\(\)' "end_exit: the violation line says what it tried"
expect 86 "plugin end_abort is stopped" -- --canary "$dir/libpkbox-thief.so" end_abort
has "$err" 'it called abort\(\)' "end_abort: the violation line says what it tried"
canary_safe "plugin end_abort"
# a wait for any signal is refused, not ended by --timeout's own
expect 86 "plugin end_sigsuspend is stopped" -- --timeout=1 --canary "$dir/libpkbox-thief.so" end_sigsuspend
has "$err" '^pkbox-run: violation: domain .*: syscall [0-9]+ refused' "plugin end_sigsuspend: refused, not out of time"
canary_safe "plugin end_sigsuspend"
# nor leave a process behind (PKBOX_SEAL_NO_THREADS: no new threads or
# processes): each run carries a marker argument that a child would carry too
survivors() { # MARKER: pids of processes whose command line has it (/proc: busybox's ps differs)
	for c in /proc/[0-9]*/cmdline; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$c")
		case $cmd in *"$1"*) p=${c#/proc/}; echo "${p%/cmdline}";; esac
	done
}
for sym in end_fork end_vfork end_clone_vm_proc; do
	mark="pkbox-check-$$-$sym"
	expect 86 "plugin $sym is stopped" -- --canary "$dir/libpkbox-thief.so" "$sym" -- "$mark"
	has "$err" '^pkbox-run: violation: domain .*: syscall [0-9]+ refused' "plugin $sym: violation line"
	canary_safe "plugin $sym"
	left=$(survivors "$mark")
	if [ -n "$left" ]; then echo "FAIL plugin $sym: left process(es) $left behind"; kill -9 $left; fail=1; fi
done
# the self-test says whether key-0 memory is writable in the compartment;
# either way, steal_stack above finds pkbox-run's frames out of its reach
has "$err" '^pkbox-run: key-0 memory: (read-only|writable by the plugin)' "the key-0 line"
# it is the seal that stops the end_ plugins: without it the kernel ends
# the process for a fault with SIGSEGV blocked, and the report can be hidden
n=$((n + 1))
"$run" --backend="$be" --no-seal "$dir/libpkbox-thief.so" end_blocked_fault >"$out" 2>"$err"
got=$?
if [ $got -gt 128 ]; then echo "ok   without the seal, end_blocked_fault ends pkbox-run (status $got)"
else echo "FAIL without the seal, end_blocked_fault: exit $got, expected death by signal"; fail=1; fi
n=$((n + 1))
"$run" --backend="$be" --no-seal "$dir/libpkbox-thief.so" end_sigdfl >"$out" 2>"$err"
got=$?
if [ $got -gt 128 ]; then echo "ok   without the seal, end_sigdfl ends pkbox-run (status $got)"
else echo "FAIL without the seal, end_sigdfl: exit $got, expected death by signal"; fail=1; fi
# ... and a process sharing the address space outlives the call
n=$((n + 1))
mark="pkbox-check-$$-noseal-clone"
"$run" --backend="$be" --no-seal "$dir/libpkbox-thief.so" end_clone_vm_proc -- "$mark" >"$out" 2>"$err"
sleep 0.2
left=$(survivors "$mark")
if [ -n "$left" ]; then echo "ok   without the seal, end_clone_vm_proc leaves a process behind"; kill -9 $left
else echo "FAIL without the seal, end_clone_vm_proc: no process left behind"; fail=1; fi
n=$((n + 1))
"$run" --backend="$be" --no-seal --canary "$dir/libpkbox-thief.so" end_report >"$out" 2>"$err"
if ! grep -q '^pkbox-run: canary ' "$err"; then echo "ok   without the seal, end_report hides pkbox-run's report"
else echo "FAIL without the seal, end_report: the report is still there"; fail=1; fi
# a plugin that never comes back, with --timeout
expect 86 "--timeout stops a plugin that never returns" -- --timeout=0.3 --canary "$dir/libpkbox-thief.so" end_spin
has "$err" '^pkbox-run: violation: domain libpkbox-thief.so: out of time after 300 ms' "--timeout: violation line"
canary_safe "--timeout"
# ... which the seal keeps from being taken: without it, a plugin waiting
# for the timer's signal itself is never stopped
n=$((n + 1))
timeout 3 "$run" --backend="$be" --no-seal --timeout=0.3 "$dir/libpkbox-thief.so" end_sigwait >"$out" 2>"$err"
got=$?
# (124 from coreutils' timeout, 143 from busybox's, as in the guests)
if [ $got = 124 ] || [ $got = 143 ]; then echo "ok   without the seal, end_sigwait outlives --timeout"
else echo "FAIL without the seal, end_sigwait: exit $got, expected to hang"; fail=1; fi
expect 43 "--timeout lets a plugin that returns in time return" -- --timeout=30 "$dir/libpkbox-hello.so" -- a b
expect 64 "--timeout=abc is a usage error" -- --timeout=abc "$dir/libpkbox-hello.so"
"$run" --backend="$be" --no-seal "$dir/libpkbox-hello.so" >"$out" 2>"$err"
has "$err" 'WITHOUT the seccomp policy' "--no-seal says so"
echo "$n cases"
exit $fail
