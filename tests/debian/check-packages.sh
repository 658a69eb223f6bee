#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-packages.sh [SRCDIR] - builds the Debian packages (debian/) from a
# copy of the source tree in a temporary directory, checks them with lintian
# (no errors allowed), checks what each package holds, unpacks the three into
# one temporary root (dpkg -x: nothing is installed on this machine), builds
# debian/tests/smoke.c there with pkg-config and runs it, and runs the
# unpacked tools.  SRCDIR defaults to the tree this script is in; its git
# working tree (tracked and untracked, not ignored files) is what is copied.
# Exit 0: all good; 77: a tool it needs is missing (one line says which).
# PKBOX_KEEP=1 keeps the temporary directory.
set -euo pipefail
SRC=$(cd "${1:-$(dirname "$0")/../..}" && pwd)

skip() { echo "SKIP: $*"; exit 77; }
for t in dpkg-buildpackage dpkg-deb dpkg-architecture:dpkg-dev dh:debhelper lintian cc:gcc pkg-config; do
	command -v "${t%%:*}" >/dev/null || skip "${t%%:*} missing (apt-get install ${t#*:})"
done
[ -d "$SRC/debian" ] || { echo "FAIL: no debian/ in $SRC"; exit 1; }
if ! unmet=$(cd "$SRC" && dpkg-checkbuilddeps 2>&1); then
	skip "the build dependencies are not all there: ${unmet##*: }"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pkbox-deb.XXXXXX")
if [ -n "${PKBOX_KEEP:-}" ]; then echo "keeping $WORK"; else trap 'rm -rf "$WORK"' EXIT; fi
fail() { echo "FAIL: $*"; exit 1; }
t0=$(date +%s)

# 1. a clean copy (the .debs land next to it, in $WORK)
mkdir "$WORK/src"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z -co --exclude-standard --deduplicate |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		xargs -0 cp -P --parents -t "$WORK/src")
else
	tar -C "$SRC" --exclude=.git --exclude='./build*' -cf - . | tar -C "$WORK/src" -xf -
fi
echo "building the packages in $WORK (log: build.log)"
if ! (cd "$WORK/src" && dpkg-buildpackage -b -us -uc -j"${PKBOX_JOBS:-2}") >"$WORK/build.log" 2>&1; then
	tail -n 40 "$WORK/build.log"
	fail "dpkg-buildpackage failed"
fi
t1=$(date +%s)
VER=$(cd "$WORK/src" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
CHANGES=$WORK/libpkeysbox_${VER}_$ARCH.changes
LIB=$WORK/libpkeysbox0_${VER}_$ARCH.deb
DEV=$WORK/libpkeysbox-dev_${VER}_$ARCH.deb
TOOLS=$WORK/pkeysbox-tools_${VER}_$ARCH.deb
for f in "$CHANGES" "$LIB" "$DEV" "$TOOLS"; do [ -f "$f" ] || fail "$(basename "$f") was not built"; done
echo "built in $((t1 - t0)) s: $(cd "$WORK" && echo ./*.deb | sed 's|\./||g')"

# 2. lintian: errors fail, warnings are shown
lintian_rc=0
lintian --fail-on error "$CHANGES" >"$WORK/lintian.log" 2>&1 || lintian_rc=$?
grep -v 'running with root privileges' "$WORK/lintian.log" || true
errors=$(grep -c '^E: ' "$WORK/lintian.log" || true)
echo "lintian: $errors errors, $(grep -c '^W: ' "$WORK/lintian.log" || true) warnings"
[ "$lintian_rc" = 0 ] && [ "$errors" = 0 ] || fail "lintian reports errors (rc $lintian_rc)"

# 3. what each package holds (dpkg-deb -c), its control data (dpkg-deb -I)
has() { # DEB PATH...: each PATH (a regex) is in DEB
	local deb=$1 p list
	shift
	list=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
	for p in "$@"; do
		grep -qx -- "$p" <<<"$list" || fail "$(basename "$deb") lacks $p"
	done
}
lacks() { # DEB REGEX: nothing in DEB matches
	! dpkg-deb -c "$1" | awk '{print $6}' | grep -q -- "$2" || fail "$(basename "$1") holds $2"
}
has "$LIB" "/usr/lib/$MA/libpkeysbox\.so\.0" "/usr/lib/$MA/libpkeysbox\.so\.0\.[0-9.]*"
lacks "$LIB" '/usr/include/\|\.pc$\|/man/\|libpkeysbox\.so$\|/bin/'
has "$DEV" /usr/include/pkeysbox\.h "/usr/lib/$MA/libpkeysbox\.so" "/usr/lib/$MA/pkgconfig/libpkeysbox\.pc" \
	/usr/share/man/man7/pkeysbox\.7\.gz /usr/share/man/man3/pkbox_init\.3\.gz
lacks "$DEV" 'libpkeysbox\.so\.0\|/bin/\|/man1/'
has "$TOOLS" /usr/bin/pkeys-probe /usr/bin/pkbox-run /usr/bin/pkbox-bench /usr/share/man/man1/pkeys-probe\.1\.gz /usr/share/man/man1/pkbox-run\.1\.gz /usr/share/man/man1/pkbox-bench\.1\.gz
lacks "$TOOLS" '\.so\|/include/\|/man3/'
nman=$(dpkg-deb -c "$DEV" | grep -c '/man3/.*\.3\.gz$' || true)
nsrc=$(find "$WORK/src/doc/man/man3" -name '*.3' | wc -l)
[ "$nman" = "$nsrc" ] || fail "libpkeysbox-dev has $nman man3 pages, doc/man/man3 has $nsrc"
dpkg-deb -f "$DEV" Depends | grep -q "libpkeysbox0 (= $VER)" || fail "libpkeysbox-dev does not depend on libpkeysbox0 (= $VER)"
dpkg-deb -f "$TOOLS" Depends | grep -q 'libpkeysbox0 (>= ' || fail "pkeysbox-tools does not depend on libpkeysbox0"
# the symbols file lists every exported pkbox_* function, and only those
mkdir "$WORK/ctrl"
dpkg-deb -e "$LIB" "$WORK/ctrl"
[ -f "$WORK/ctrl/symbols" ] || fail "libpkeysbox0 has no symbols file"
grep -o 'pkbox_[a-z0-9_]*' "$WORK/ctrl/symbols" | sort -u >"$WORK/sym.list"
grep -o '\bpkbox_[a-z0-9_]*(' "$WORK/src/include/pkeysbox.h" | tr -d '(' | sort -u >"$WORK/hdr.list"
diff -u "$WORK/hdr.list" "$WORK/sym.list" >"$WORK/sym.diff" || { cat "$WORK/sym.diff"; fail "the symbols file and include/pkeysbox.h differ"; }
# and so does debian/libpkeysbox0.symbols (dpkg-gensymbols only warns of new ones)
grep -o 'pkbox_[a-z0-9_]*' "$WORK/src/debian/libpkeysbox0.symbols" | sort -u >"$WORK/srcsym.list"
diff -u "$WORK/hdr.list" "$WORK/srcsym.list" >"$WORK/sym.diff" || { cat "$WORK/sym.diff"; fail "debian/libpkeysbox0.symbols is out of date"; }
echo "symbols: $(wc -l <"$WORK/sym.list") pkbox_* functions, as in pkeysbox.h"
# the -dev package depends on the -dev packages of what the .pc requires
dpkg-deb --fsys-tarfile "$DEV" | tar -xOf - "./usr/lib/$MA/pkgconfig/libpkeysbox.pc" >"$WORK/libpkeysbox.pc"
for mod in $(sed -n 's/^Requires\(\.private\)\?: *//p' "$WORK/libpkeysbox.pc" | tr ',' '\n' | awk 'NF { print $1 }'); do
	pkg=$(dpkg -S "/usr/lib/$MA/pkgconfig/$mod.pc" 2>/dev/null | cut -d: -f1) || pkg=
	[ -n "$pkg" ] || pkg=$(dpkg -S "/usr/share/pkgconfig/$mod.pc" 2>/dev/null | cut -d: -f1) || pkg=
	[ -n "$pkg" ] || fail "no installed package has $mod.pc (required by libpkeysbox.pc)"
	dpkg-deb -f "$DEV" Depends | tr ',' '\n' | grep -q "^ *$pkg\b" || fail "libpkeysbox.pc requires $mod, but libpkeysbox-dev does not depend on $pkg"
done

# 4. unpacked into one root: build and run a program with pkg-config
ROOT=$WORK/root
for d in "$LIB" "$DEV" "$TOOLS"; do dpkg -x "$d" "$ROOT"; done
export PKG_CONFIG_SYSROOT_DIR=$ROOT
# the root's .pc first; the system's for what it requires (libseccomp)
export PKG_CONFIG_LIBDIR=$ROOT/usr/lib/$MA/pkgconfig:/usr/lib/$MA/pkgconfig:/usr/share/pkgconfig
flags=$(pkg-config --cflags --libs libpkeysbox) || fail "pkg-config --cflags --libs libpkeysbox failed in the unpacked root"
echo "pkg-config: $flags"
case " $flags " in *" -I$ROOT/usr/include "*) ;; *) fail "pkg-config's -I does not point into the root" ;; esac
case " $flags " in *" -L$ROOT/usr/lib/$MA "*) ;; *) fail "pkg-config's -L does not point into the root" ;; esac
# shellcheck disable=SC2086
cc -Wall -Werror -o "$WORK/smoke" "$WORK/src/debian/tests/smoke.c" $flags || fail "smoke.c does not build against the root"
export LD_LIBRARY_PATH=$ROOT/usr/lib/$MA
ldd "$WORK/smoke" | grep -q "libpkeysbox\.so\.0 => $ROOT/" || fail "smoke does not load the root's libpkeysbox"
out=$("$WORK/smoke") || fail "smoke failed: $out"
echo "$out"

# 5. the unpacked tools and man pages
probe_rc=0
"$ROOT/usr/bin/pkeys-probe" >"$WORK/probe.out" 2>&1 || probe_rc=$?
[ "$probe_rc" -le 1 ] || { cat "$WORK/probe.out"; fail "pkeys-probe exited $probe_rc"; }
probe_be=$(sed -n 's/^backend: *//p' "$WORK/probe.out")
smoke_be=$(sed -n 's/.* backend \([a-z]*\):.*/\1/p' <<<"$out")
echo "pkeys-probe (exit $probe_rc): backend $probe_be"
[ -n "$probe_be" ] && [ "$probe_be" = "$smoke_be" ] || fail "pkeys-probe says backend '$probe_be', the library chose '$smoke_be'"
"$ROOT/usr/bin/pkbox-run" --help >/dev/null || fail "pkbox-run --help failed"
"$ROOT/usr/bin/pkbox-bench" --help >/dev/null || fail "pkbox-bench --help failed"
find "$ROOT/usr/share/man" -name '*.gz' -exec gzip -t {} + || fail "a man page is not a good gzip file"
if command -v man >/dev/null; then
	MANPAGER=cat MANWIDTH=80 man -l "$ROOT/usr/share/man/man3/pkbox_call.3.gz" 2>/dev/null | grep -q 'pkbox_call' ||
		fail "man -l pkbox_call.3.gz shows no pkbox_call"
fi
echo "PASS: 3 packages built, lintian clean of errors, installed-tree build and run ok ($(($(date +%s) - t0)) s)"
