#!/usr/bin/env bash
# tests/verifier/kfuncs.sh emu|diff: the kfunc calls of kfuncs.bpf.c (open-
# coded numbers iterators as bpf_for/bpf_repeat write them, wrong arguments,
# missing and double releases, unchecked NULLs, a pointer/size pair, RCU
# brackets, a task acquire/release pair) loaded one program at a time by
# kfuncs_loader (Debian's libbpf): each program's verdict, errno, the
# verifier's error line and verified_insns, and each loaded program's test
# run (retval), under bpfemu as nobody and on the kernel as root. bpfemu runs
# the iterator and RCU kfuncs itself; the task and user-copy kfuncs are user
# functions (kfuncs_mock.c, BPFEMU_FUNCS). The kernel's answers are in
# expected/kfuncs.txt; BPFEMU_UPDATE_EXPECTED=kernel rewrites it.
# shellcheck source=../integration/common.sh
source "$(dirname "$0")/../integration/common.sh"

: "${VTEST_BIN:=$BPFEMU_BUILD_DIR/tests/verifier}"
MODE=${1:-}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
# the programs call kfuncs by the ids of the host kernel's BTF (libbpf resolves
# them there, for bpfemu as for the kernel)
grep -q bpf_iter_num_new /sys/kernel/btf/vmlinux 2>/dev/null ||
	skip "the host kernel's BTF (/sys/kernel/btf/vmlinux) has no bpf_iter_num_new"

itest_init "$MODE" itest_helper
for f in kfuncs_loader libkfuncs_mock.so kfuncs.o; do
	[ -r "$VTEST_BIN/$f" ] || fail "$VTEST_BIN/$f is missing: build first"
	cp -- "$VTEST_BIN/$f" "$STAGE/" && chmod 755 "$STAGE/$f" || fail "cp $f"
done

run() {
	local m=$1 out=$2
	if [ "$m" = kernel ]; then
		kern "$STAGE/kfuncs_loader" "$STAGE/kfuncs.o" >"$out" 2>&1
	else
		emu env BPFEMU_FUNCS="$STAGE/libkfuncs_mock.so" "$STAGE/kfuncs_loader" "$STAGE/kfuncs.o" >"$out" 2>&1
	fi
}
twin "kfunc calls of kfuncs.bpf.c" kfuncs run
