#!/bin/bash
# tests/tools/install.sh: `cmake --install` into a temporary prefix, then,
# as nobody, the installed bpfemu finds the installed library without
# BPFEMU_LIB, and a program built with the installed header and
# `pkg-config --cflags --libs bpfemu` calls bpfemu_bpf.
# shellcheck source=../integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

[ "${1:-emu}" = emu ] || { echo "usage: $0 emu" >&2; exit 2; }
for t in cmake cc pkg-config; do command -v $t >/dev/null || skip "$t is not installed"; done
PREFIX=$(mktemp -d /tmp/bpfemu-install.XXXXXX) || fail mktemp
trap 'rm -rf -- "$PREFIX"' EXIT
chmod 755 "$PREFIX"

say "cmake --install $BPFEMU_BUILD_DIR --prefix $PREFIX"
cmake --install "$BPFEMU_BUILD_DIR" --prefix "$PREFIX" >/dev/null || fail "cmake --install"
LIBDIR=$(dirname "$(find "$PREFIX" -name libbpfemu.so | head -1)")
for f in bin/bpfemu include/bpfemu/bpfemu.h share/man/man1/bpfemu.1; do
	[ -e "$PREFIX/$f" ] || fail "$f not installed"
done
[ -f "$LIBDIR/libbpfemu.so" ] && [ -f "$LIBDIR/pkgconfig/bpfemu.pc" ] || fail "library or bpfemu.pc not installed"
chmod -R a+rX "$PREFIX"
if command -v groff >/dev/null; then
	w=$(groff -man -ww -z "$PREFIX/share/man/man1/bpfemu.1" 2>&1)
	[ -z "$w" ] || fail "man page warnings: $w"
fi

STATE=$PREFIX/state
mkdir -m 700 "$STATE"
is_root && chown "$NOBODY_UID:$NOBODY_GID" "$STATE"

say "installed bpfemu run preloads the installed library (no BPFEMU_LIB)"
out=$(as_user env -u BPFEMU_LIB BPFEMU_ROOT="$STATE" "$PREFIX/bin/bpfemu" run -- cat /proc/self/maps) ||
	fail "bpfemu run: $out"
lib=$(printf '%s\n' "$out" | awk '/libbpfemu\.so/ { print $NF; exit }')
[ "$lib" = "$(realpath "$LIBDIR/libbpfemu.so")" ] || fail "preloaded '$lib', not the installed library"
out=$(as_user env -u BPFEMU_LIB BPFEMU_ROOT="$STATE" "$PREFIX/bin/bpfemu" run -- \
	bpftool map create /sys/fs/bpf/inst type array key 4 value 8 entries 2 name inst 2>&1) ||
	fail "bpftool map create under the installed bpfemu: $out"
out=$(as_user env -u BPFEMU_LIB BPFEMU_ROOT="$STATE" "$PREFIX/bin/bpfemu" ls /sys/fs/bpf) || fail "ls: $out"
grep -q '`-- inst  map array ' <<<"$out" || fail "installed ls: $out"

say "a program built with pkg-config bpfemu calls bpfemu_bpf"
cat >"$PREFIX/embed.c" <<'C'
#include <bpfemu/bpfemu.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
	union bpf_attr a;
	unsigned int key = 1;
	unsigned long long val = 42;
	long fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 2;
	fd = bpfemu_bpf(BPF_MAP_CREATE, &a, sizeof(a));
	if (fd < 0) { printf("create: %s\n", strerror(errno)); return 1; }
	memset(&a, 0, sizeof(a));
	a.map_fd = (unsigned int)fd;
	a.key = (unsigned long)&key;
	a.value = (unsigned long)&val;
	if (bpfemu_bpf(BPF_MAP_UPDATE_ELEM, &a, sizeof(a))) { printf("update: %s\n", strerror(errno)); return 1; }
	val = 0;
	if (bpfemu_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) || val != 42) { printf("lookup\n"); return 1; }
	key = 2;
	if (bpfemu_bpf(BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) != -1 || errno != ENOENT) { printf("lookup 2\n"); return 1; }
	printf("bpfemu %s: map %ld holds 42\n", BPFEMU_VERSION, fd);
	return 0;
}
C
flags=$(PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --cflags --libs bpfemu) || fail "pkg-config bpfemu"
say "pkg-config --cflags --libs bpfemu: $flags"
# shellcheck disable=SC2086
cc -Wall -Werror -o "$PREFIX/embed" "$PREFIX/embed.c" $flags || fail "cc embed.c"
chmod 755 "$PREFIX/embed"
out=$(as_user env LD_LIBRARY_PATH="$LIBDIR" BPFEMU_ROOT="$STATE" "$PREFIX/embed" 2>&1) || fail "embed: $out"
echo "$out"
[[ $out =~ ^"bpfemu 0.1.0: map "[0-9]+" holds 42"$ ]] || fail "embed output: $out"
say PASS
