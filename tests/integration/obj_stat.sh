#!/usr/bin/env bash
# tests/integration/obj_stat.sh emu|kernel|diff
#
# fstat, fstat64, fstatat(AT_EMPTY_PATH), statx, fstatfs of map, program, BTF
# and link fds, stat and statfs of /proc/self/fd/N (and /dev/fd/N,
# /proc/<pid>/fd/N), lstat of the link, and stat of pins: obj_stat checks
# each against the kernel's rules (an object fd is the anonymous inode any
# eventfd shows; a pin is a 0600 empty regular file with one link). The
# kernel runs as root (its XDP link in a network namespace of its own), the
# shim as nobody with BPFEMU_ATTACH=inert for the link; diff compares.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" obj_stat

run() {
	local m=$1 out=$STAGE/obj_stat.$1
	if [ "$m" = emu ]; then
		emu env BPFEMU_ATTACH=inert "$STAGE/obj_stat" >"$out" 2>&1 || fail "$m: $(grep FAILED "$out" || tail -3 "$out")"
	else
		kern "$STAGE/obj_stat" >"$out" 2>&1 || fail "$m: $(grep FAILED "$out" || tail -3 "$out")"
	fi
	cat "$out"
	say "ok: $m"
}

kernel_needs map hash; kernel_needs prog xdp
[ "$MODE" = emu ] || ! kernel_on || run kernel
[ "$MODE" = kernel ] || run emu
[ "$MODE" = diff ] && kernel_on && same_or_fail "stat of object fds and pins" "$STAGE/obj_stat.kernel" "$STAGE/obj_stat.emu"
say "PASS"
