#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# check-pkgconfig.sh SRCDIR BUILDDIR SANITIZE - a host built the way the
# README says, `cc prog.c $(pkg-config --cflags --libs libpkeysbox)`, with
# this build's uninstalled libpkeysbox.pc: bound eagerly (FLAGS BIND_NOW),
# its calls work on the mprotect backend, and it seals and calls after the
# seal (LD_BIND_NOW=1: the system's own libraries may be bound lazily).
# Exit 77 without cc, pkg-config or readelf, or in a sanitizer build.
set -u
src=$1 build=$2 san=${3:-none}
for p in cc pkg-config readelf; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: no $p"; exit 77; }
done
[ "$san" = none ] || { echo "SKIP: the library is built with -fsanitize=$san, a plain cc host cannot link it"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
export PKG_CONFIG_PATH="$build/meson-uninstalled"
libs=$(pkg-config --cflags --libs libpkeysbox) || { echo "FAIL: pkg-config libpkeysbox"; exit 1; }
echo "# pkg-config: $libs"
# shellcheck disable=SC2086
cc -o "$tmp/host" "$src/tests/test_lazybind.c" $libs || { echo "FAIL: cc"; exit 1; }
readelf -d "$tmp/host" | grep -E 'FLAGS' 
if ! readelf -d "$tmp/host" | grep -Eq '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW'; then
	echo "FAIL: the host is not bound eagerly"
	exit 1
fi
if ! readelf -lW "$tmp/host" | grep -q GNU_RELRO; then
	echo "FAIL: the host has no RELRO"
	exit 1
fi
export LD_LIBRARY_PATH="$build/libpkeysbox"
PKBOX_BACKEND=mprotect "$tmp/host" || { echo "FAIL: the host's calls"; exit 1; }
LD_BIND_NOW=1 PKBOX_BACKEND=mprotect "$tmp/host" --seal || { echo "FAIL: the host's seal"; exit 1; }
echo ok
