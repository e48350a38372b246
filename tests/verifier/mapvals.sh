#!/usr/bin/env bash
# tests/verifier/mapvals.sh emu|diff: map values with special fields (their
# BTF record). mapvals.bpf.c's programs (spin locks and timers: the direct
# access, lock pairing, call-under-lock, timer map/offset and program-type
# rules) loaded one at a time by kfuncs_loader (Debian's libbpf): verdict,
# errno, the verifier's error line, verified_insns and each loaded program's
# test run; then mapvals_maps: BTF loads and map creations with special
# fields for each map type, what user space reads back of such values, and
# hand-assembled kptr programs (loads, stores, bpf_kptr_xchg). Under bpfemu as
# nobody (the task kfuncs are kfuncs_mock.c's user functions) and on the
# kernel as root; the kernel's answers are in expected/mapvals.txt
# (BPFEMU_UPDATE_EXPECTED=kernel rewrites it).
# shellcheck source=../integration/common.sh
source "$(dirname "$0")/../integration/common.sh"

: "${VTEST_BIN:=$BPFEMU_BUILD_DIR/tests/verifier}"
MODE=${1:-}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
# the kptr programs call bpf_task_from_pid by the id of the host kernel's BTF
grep -q bpf_task_from_pid /sys/kernel/btf/vmlinux 2>/dev/null ||
	skip "the host kernel's BTF (/sys/kernel/btf/vmlinux) has no bpf_task_from_pid"

itest_init "$MODE" itest_helper
for f in kfuncs_loader mapvals_maps libkfuncs_mock.so mapvals.o; do
	[ -r "$VTEST_BIN/$f" ] || fail "$VTEST_BIN/$f is missing: build first"
	cp -- "$VTEST_BIN/$f" "$STAGE/" && chmod 755 "$STAGE/$f" || fail "cp $f"
done

run() {
	local m=$1 out=$2
	if [ "$m" = kernel ]; then
		{ kern "$STAGE/kfuncs_loader" "$STAGE/mapvals.o" && kern "$STAGE/mapvals_maps"; } >"$out" 2>&1
	else
		{ emu "$STAGE/kfuncs_loader" "$STAGE/mapvals.o" &&
			emu env BPFEMU_FUNCS="$STAGE/libkfuncs_mock.so" "$STAGE/mapvals_maps"; } >"$out" 2>&1
	fi
}
twin "map values with special fields" mapvals run
