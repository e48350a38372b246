#!/usr/bin/env bash
# tests/integration/repin.sh diff
#
# Pin a map, unlink the pin, pin the same fd again (by path and through a
# directory fd): the kernel answers 0 every time. Transcripts compared.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" repin
out_k=$STAGE/kernel.out out_e=$STAGE/emu.out
if [ "$MODE" != emu ]; then
	say "kernel: repin"
	in_mode kernel "$STAGE/repin" >"$out_k" 2>&1 || fail "repin on the kernel"
	sed 's/^/  /' "$out_k"
fi
if [ "$MODE" != kernel ]; then
	say "bpfemu: repin"
	in_mode emu "$STAGE/repin" >"$out_e" 2>&1 || fail "repin under bpfemu"
	sed 's/^/  /' "$out_e"
	grep -q "pin a again: ok" "$out_e" || fail "pinning an unpinned fd again failed"
fi
[ "$MODE" != diff ] || same_or_fail "pin, unlink, pin again" "$out_k" "$out_e"
exit 0
