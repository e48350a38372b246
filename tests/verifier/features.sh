#!/usr/bin/env bash
# tests/verifier/features.sh emu|diff: the programs of features.bpf.c
# (callbacks, global functions, bpf-to-bpf calls with stack pointers, spin
# locks, socket references, ring buffer records, packet loops, tail calls)
# loaded by Debian's bpftool (`prog loadall`), under bpfemu as nobody and on
# the kernel as root: each program's verdict and verified_insns
# (libloadwatch.so) as the kernel's. The kernel's answers are in
# expected/features.txt (the programs use no kernel BTF, so they hold on any
# host); BPFEMU_UPDATE_EXPECTED=kernel rewrites it from the kernel's run.
# shellcheck source=../integration/common.sh
source "$(dirname "$0")/../integration/common.sh"

: "${VTEST_BIN:=$BPFEMU_BUILD_DIR/tests/verifier}"
MODE=${1:-}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || skip "bpftool is not installed"

itest_init "$MODE" itest_helper
for f in libloadwatch.so features.o features_bad.o; do
	[ -r "$VTEST_BIN/$f" ] || fail "$VTEST_BIN/$f is missing: build first"
	cp -- "$VTEST_BIN/$f" "$STAGE/" && chmod 755 "$STAGE/$f" || fail "cp $f"
done

run() {
	local m=$1 out=$2
	rm -f "$STAGE/lw.$m"
	: >"$STAGE/lw.$m" && chmod 666 "$STAGE/lw.$m"
	if [ "$m" = kernel ]; then
		kern env LOADWATCH_OUT="$STAGE/lw.$m" LD_PRELOAD="$STAGE/libloadwatch.so" \
			"$BPFTOOL" prog loadall "$STAGE/features.o" /sys/fs/bpf/features >/dev/null 2>&1
	else
		as_user env LD_PRELOAD="$STAGE/libloadwatch.so:$STAGE/libbpfemu.so" BPFEMU_LIB="$STAGE/libbpfemu.so" \
			LOADWATCH_OUT="$STAGE/lw.$m" BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" run -- \
			"$BPFTOOL" prog loadall "$STAGE/features.o" /sys/fs/bpf/features >/dev/null 2>&1
	fi
	cp "$STAGE/lw.$m" "$out"
}
twin "features.bpf.c loaded by bpftool" features run

# features_bad.o: the kernel's whole log of a refused program, as libbpf prints
# it (kernel addresses of maps masked: they are the kernel's own)
run_bad() {
	local m=$1 out=$2
	if [ "$m" = kernel ]; then
		kern "$BPFTOOL" prog loadall "$STAGE/features_bad.o" /sys/fs/bpf/bad >"$out.raw" 2>&1
	else
		as_user env BPFEMU_LIB="$STAGE/libbpfemu.so" BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" run -- \
			"$BPFTOOL" prog loadall "$STAGE/features_bad.o" /sys/fs/bpf/bad >"$out.raw" 2>&1
	fi
	sed -E 's/(\(18\) r[0-9] = )0xffff[0-9a-f]{12}/\1KADDR/; s|'"$STAGE"'|STAGE|g' "$out.raw" >"$out"
}
twin "features_bad.bpf.c refused, the log" features_bad run_bad
