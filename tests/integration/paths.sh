#!/usr/bin/env bash
# tests/integration/paths.sh emu|kernel|diff
#
# ".." inside bpffs: the kernel walks every component, so a missing one before
# ".." is ENOENT and a pin (a file) before ".." is ENOTDIR, for stat, open,
# mkdir, OBJ_PIN and OBJ_GET alike; an existing directory is stepped out of.
# The expected lines are the kernel's (mode kernel checks them there; diff
# runs both and compares the transcripts).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" perm_helper
P=$STAGE/perm_helper
B=/sys/fs/bpf

expected() {
	cat <<'END'
nope/../x: stat=ENOENT open=ENOENT mkdir=ENOENT pin=ENOENT get=ENOENT
f/../y: stat=ENOTDIR open=ENOTDIR mkdir=ENOTDIR pin=ENOTDIR get=ENOTDIR
d/../z: stat=ENOENT open=ENOENT mkdir=OK pin=EEXIST get=EACCES
d/../f: stat=OK open=EIO mkdir=EEXIST pin=EEXIST get=OK
d/../d: stat=OK open=OK mkdir=EEXIST pin=EEXIST get=EACCES
d/nope/../../w: stat=ENOENT open=ENOENT mkdir=ENOENT pin=ENOENT get=ENOENT
nope/..: stat=ENOENT open=ENOENT mkdir=ENOENT pin=ENOENT get=ENOENT
d/..: stat=OK open=OK mkdir=EEXIST pin=EEXIST get=EACCES
f/..: stat=ENOTDIR open=ENOTDIR mkdir=ENOTDIR pin=ENOTDIR get=ENOTDIR
d/./../../bpf/v: stat=ENOENT open=ENOENT mkdir=OK pin=EEXIST get=EACCES
d//..//f: stat=OK open=EIO mkdir=EEXIST pin=EEXIST get=OK
END
}

run() {
	local m=$1 out rel
	out=$STAGE/paths.$m
	in_mode "$m" "$P" pin $B/f >/dev/null || fail "$m: pin"
	in_mode "$m" mkdir $B/d || fail "$m: mkdir"
	local rels=(nope/../x f/../y d/../z d/../f d/../d d/nope/../../w nope/.. d/.. f/.. d/./../../bpf/v d//..//f)
	local paths=()
	for rel in "${rels[@]}"; do paths+=("$B/$rel"); done
	in_mode "$m" "$P" path "${paths[@]}" >"$out.raw" 2>&1 || fail "$m: perm_helper path"
	paste -d' ' <(printf '%s:\n' "${rels[@]}") "$out.raw" >"$out"
	cat "$out"
	expected | diff -u --label expected --label "$m" - "$out" || fail "$m: the errnos differ from the kernel's"
	say "ok: $m"
}

if [ "$MODE" != emu ] && kernel_on; then run kernel; fi
[ "$MODE" = kernel ] || run emu
[ "$MODE" = diff ] && kernel_on && same_or_fail ".. paths" "$STAGE/paths.kernel" "$STAGE/paths.emu"
say "PASS"
