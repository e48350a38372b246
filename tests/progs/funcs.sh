#!/usr/bin/env bash
# tests/progs/funcs.sh: user functions (BPFEMU_FUNCS) for a clang-built
# program loaded with Debian's libbpf, as nobody: with tests/progs/funcs_mock.so
# the program's time, random number and XDP metadata kfunc are the mock's;
# without it the load fails (a kfunc neither bpfemu nor a user function
# provides), as it fails on the kernel (where, as root, that kfunc needs a
# device-bound program).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

BIN=$(mktemp -d /tmp/bpfemu-progs-bin.XXXXXX) || exit 1
ln -s "$ITEST_BIN/funcs_loader" "$BIN/funcs_loader"
ln -s "$ITEST_BIN/libfuncs_mock.so" "$BIN/libfuncs_mock.so"
ln -s "$ITEST_HELPER" "$BIN/itest_helper"
OBJ_SRC=$ITEST_BIN/funcs.o
ITEST_BIN=$BIN
itest_init diff funcs_loader libfuncs_mock.so
rm -rf -- "$BIN"
cp -- "$OBJ_SRC" "$STAGE/funcs.o" && chmod 644 "$STAGE/funcs.o" || fail "cannot stage funcs.o"

out=$(emu env BPFEMU_FUNCS="$STAGE/libfuncs_mock.so" "$STAGE/funcs_loader" "$STAGE/funcs.o" 2>&1)
printf '%s\n' "$out"
grep -qx 'load: ok' <<<"$out" || fail "with the mock: the load failed"
grep -qx 'run: ok retval 2' <<<"$out" || fail "with the mock: the run"
grep -qx '.bss: ok now 1000000000 rnd 4 ret 0 hash 0xc0ffee00 type 3' <<<"$out" || fail "with the mock: .bss"
out=$(emu "$STAGE/funcs_loader" "$STAGE/funcs.o" 2>&1)
printf '%s\n' "$out"
grep -qx 'load: EINVAL' <<<"$out" || fail "without the mock the load must fail with EINVAL"
if kernel_on; then
	out=$(kern "$STAGE/funcs_loader" "$STAGE/funcs.o" 2>&1)
	printf 'kernel: %s\n' "$out"
	grep -qx 'load: EINVAL' <<<"$out" || fail "the kernel loaded a program that calls bpf_xdp_metadata_rx_hash outside a device-bound program"
fi
say "user functions: as expected"
exit 0
