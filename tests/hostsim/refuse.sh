#!/usr/bin/env bash
# tests/hostsim/refuse.sh: the kernel twins' skip logic, on a host made to
# refuse one feature (librefuse.so answers BPF_MAP_CREATE of QUEUE maps).
#
#  1. refused with EPERM (a refusal): the Criterion twin test_queue_stack_kernel,
#     bpfemu_diff's queue_stack case and the shell twin bpftool_maptypes.sh
#     skip their kernel side with "host kernel refuses QUEUE map creation
#     (EPERM)" and pass; the engine's side of the shell twin still runs.
#  2. answered with ENOSPC (not a refusal, another answer): the same twins fail.
#  3. no bpffs can be mounted (an empty read-only tmpfs over /sys/fs, in a
#     private mount namespace): the same twins skip their kernel side with
#     "cannot mount ..." and pass, the engine's side checked.
#
# Environment (tests/hostsim/CMakeLists.txt): REFUSE_SO, UNIT_KERNEL (the
# Criterion kernel binary), DIFF (bpfemu_diff), MAPTYPES (the shell twin),
# plus what tests/integration/common.sh needs.
set -uo pipefail
fail() { printf 'FAIL: refuse: %s\n' "$*"; exit 1; }
say() { printf '== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "SKIP: refuse: the kernel twins' kernel side needs root"; exit 77; }
QUEUE=22
OUT=$(mktemp -d /tmp/bpfemu-refuse.XXXXXX) || exit 1
trap 'rm -rf "$OUT"' EXIT
# does the host itself show QUEUE maps? (else there is nothing to refuse)
"$UNIT_KERNEL" --filter 'unit/pop_queue_returns_oldest_first' >"$OUT/plain" 2>&1 ||
	fail "test_queue_stack_kernel fails without the preload: $(tail -3 "$OUT/plain")"
if ! grep -q 'Passing: [1-9]' "$OUT/plain"; then
	echo "SKIP: refuse: the host kernel itself does not show QUEUE maps"
	exit 77
fi

refusing() { env LD_PRELOAD="$REFUSE_SO" REFUSE_MAP_TYPE=$QUEUE REFUSE_ERRNO="$1" "${@:2}"; }
REASON='host kernel refuses QUEUE map creation (EPERM)'

say "1. QUEUE refused with EPERM"
: >"$OUT/skips"
refusing 1 env BPFEMU_SKIP_LOG="$OUT/skips" "$UNIT_KERNEL" --verbose >"$OUT/unit" 2>&1 ||
	fail "test_queue_stack_kernel failed on a host refusing QUEUE: $(grep -E 'FAIL|Synthesis' "$OUT/unit")"
grep -q "\[SKIP\] unit::.*: skipped: $REASON" "$OUT/unit" || fail "the Criterion twin does not say why it skipped"
grep -q 'Passing: [1-9]' "$OUT/unit" || fail "the Criterion twin ran nothing (STACK cases must still run)"
grep -q "test_queue_stack_kernel unit::.*: skipped: $REASON" "$OUT/skips" || fail "no skip line in BPFEMU_SKIP_LOG"
say "test_queue_stack_kernel: $(grep -c '\[SKIP\]' "$OUT/unit") tests skipped with the reason, $(grep -o 'Passing: [0-9]*' "$OUT/unit")"

refusing 1 env BPFEMU_SKIP_LOG="$OUT/skips" "$DIFF" queue_stack >"$OUT/diff" 2>&1 ||
	fail "bpfemu_diff queue_stack failed: $(cat "$OUT/diff")"
grep -q "^ok 1 - queue_stack # kernel side skipped: $REASON" "$OUT/diff" || fail "bpfemu_diff: $(cat "$OUT/diff")"
grep -q "^diff: skipped: case queue_stack: $REASON" "$OUT/skips" || fail "bpfemu_diff logged no skip"
say "bpfemu_diff: $(grep '^ok' "$OUT/diff")"

refusing 1 env BPFEMU_SKIP_LOG="$OUT/skips" bash "$MAPTYPES" diff >"$OUT/shell" 2>&1 ||
	fail "bpftool_maptypes.sh diff failed: $(tail -5 "$OUT/shell")"
grep -q "kernel side skipped: $REASON" "$OUT/shell" || fail "the shell twin does not say why: $(tail -5 "$OUT/shell")"
grep -q "bpftool map types (bpfemu): as expected" "$OUT/shell" || fail "the shell twin did not check the engine"
grep -q "bpftool_maptypes.diff: skipped: kernel side: $REASON" "$OUT/skips" || fail "the shell twin logged no skip"
say "bpftool_maptypes.sh diff: engine checked, kernel side skipped with the reason"

say "2. QUEUE answered with ENOSPC: not a refusal, the twins must fail"
refusing 28 "$UNIT_KERNEL" >"$OUT/unit2" 2>&1 && fail "test_queue_stack_kernel passed on a host answering ENOSPC"
grep -q 'Failing: [1-9]' "$OUT/unit2" || fail "test_queue_stack_kernel: $(tail -2 "$OUT/unit2")"
refusing 28 "$DIFF" queue_stack >"$OUT/diff2" 2>&1 && fail "bpfemu_diff passed on a host answering ENOSPC"
grep -q "^not ok 1 - queue_stack" "$OUT/diff2" || fail "bpfemu_diff: $(cat "$OUT/diff2")"
refusing 28 bash "$MAPTYPES" diff >"$OUT/shell2" 2>&1 && fail "bpftool_maptypes.sh passed on a host answering ENOSPC"
say "all three twins fail: $(grep -o 'Failing: [0-9]*' "$OUT/unit2"), $(grep '^not ok' "$OUT/diff2")"

say "3. no bpffs can be mounted"
nobpffs() {
	unshare -m --propagation private sh -c 'mount -t tmpfs -o ro,size=4k none /sys/fs && exec "$@"' sh "$@"
}
nobpffs env BPFEMU_SKIP_LOG="$OUT/skips3" "$UNIT_KERNEL" --verbose >"$OUT/unit3" 2>&1 ||
	fail "test_queue_stack_kernel failed without bpffs: $(grep -E 'FAIL|Synthesis' "$OUT/unit3")"
grep -q "skipped: cannot mount a private bpffs" "$OUT/unit3" || fail "the Criterion twin does not say why: $(tail -3 "$OUT/unit3")"
nobpffs env BPFEMU_SKIP_LOG="$OUT/skips3" "$DIFF" queue_stack >"$OUT/diff3" 2>&1 ||
	fail "bpfemu_diff failed without bpffs: $(cat "$OUT/diff3")"
grep -q "^ok 1 - queue_stack # kernel side skipped: cannot mount a private bpffs" "$OUT/diff3" ||
	fail "bpfemu_diff: $(cat "$OUT/diff3")"
nobpffs env BPFEMU_SKIP_LOG="$OUT/skips3" bash "$MAPTYPES" diff >"$OUT/shell3" 2>&1 ||
	fail "bpftool_maptypes.sh diff failed without bpffs: $(tail -5 "$OUT/shell3")"
grep -q "kernel side skipped: cannot mount bpffs" "$OUT/shell3" || fail "the shell twin: $(tail -5 "$OUT/shell3")"
grep -q "bpftool map types (bpfemu): as expected" "$OUT/shell3" || fail "the shell twin did not check the engine"
say "all three twins pass with their kernel side skipped: $(sort -u "$OUT/skips3" | sed 's/.*skipped: //' | sort -u | paste -sd';')"
say "PASS"
