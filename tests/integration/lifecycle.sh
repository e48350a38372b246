#!/usr/bin/env bash
# tests/integration/lifecycle.sh emu|kernel|diff
#
# Maps made and dropped over and over keep to themselves (lifecycle.c): a
# new map reads zero, a dropped one is gone for ids, and a map still held by
# a forked child, a fd passed over a socket, an OBJ_GET fd in another
# process, a pin, a slot of a map of maps or a program's mapping keeps its
# values while others of its size come and go; a program closing every fd it
# does not know, or dup2'ing over high numbers, changes nothing. The shim
# reuses dead object files, the kernel frees and allocates: both must pass.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" lifecycle

run() {
	local m=$1 out=$STAGE/lifecycle.$1
	if [ "$m" = emu ]; then
		emu env BPFEMU_LOG=map "$STAGE/lifecycle" >"$out" 2>"$out.log" || fail "$m: $(grep FAILED "$out" || tail -3 "$out")"
		# the run must have reused object files, or it proved nothing about reuse
		local n
		n=$(grep -c 'the file of a dropped object .* is reused: ok' "$out.log")
		[ "$n" -ge 100 ] || fail "emu: only $n object files reused"
		say "emu: $n object files reused"
		# the markers of files without a name (maps over 1 MiB: emu/objfs.c)
		# go with an id scan once nothing holds their files
		[ -d "$STATE/unnamed" ] || fail "emu: no marker of an unnamed file was made"
		sleep 2
		emu bpftool map list >/dev/null 2>&1 || fail "emu: bpftool map list"
		local left
		left=$(ls -A "$STATE/unnamed")
		[ -z "$left" ] || fail "emu: markers of files nothing holds stay after an id scan: $left"
		say "emu: the markers of unnamed files are gone with their files"
	else
		in_mode "$m" "$STAGE/lifecycle" >"$out" 2>&1 || fail "$m: $(grep FAILED "$out" || tail -3 "$out")"
	fi
	cat "$out"
	say "ok: $m"
}

kernel_needs map hash array array_of_maps
[ "$MODE" = emu ] || ! kernel_on || run kernel
[ "$MODE" = kernel ] || run emu
[ "$MODE" = diff ] && kernel_on && same_or_fail "life cycles" "$STAGE/lifecycle.kernel" "$STAGE/lifecycle.emu"
say "PASS"
