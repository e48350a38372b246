#!/usr/bin/env bash
# tests/seccomp/go.sh emu|diff
#
# A Go program on Debian's cilium/ebpf 0.9.1 (go/cilium_maps: statically
# linked, bpf() through Go's own system call instruction) under `bpfemu run`
# as nobody: hash, array, per-CPU array and hash maps, Pin / LoadPinnedMap,
# MapIterator, BatchLookup, Freeze, Unpin, and a ring buffer read with
# ringbuf.Reader (epoll and mmap of the map fd) that rb_feed fills with
# bpfemu_ringbuf_output. diff: the same output as on the kernel as root,
# where a sched_cls program run with BPF_PROG_TEST_RUN writes the records.
# shellcheck source=tests/seccomp/common_seccomp.sh
. "$(dirname "$0")/common_seccomp.sh"

itest_init "${1:-}"
[ -x "$SECCOMP_BIN/cilium_maps" ] ||
	skip "the Go client is not built (apt-get install golang-go golang-github-cilium-ebpf-dev, then rebuild)"
sc_stage cilium_maps rb_feed

say "Go cilium/ebpf client under bpfemu run (the seccomp door, chosen automatically)"
OUT=$(emu "$STAGE/cilium_maps" /sys/fs/bpf "$STAGE/rb_feed" 2>&1) || fail "cilium_maps: exit $?: $OUT"
printf '%s\n' "$OUT"
for l in 'hash lookup 3 = 300' 'reopened: type Hash key 4 value 8 max 16 pinned true' 'iterate: 4 = 400' \
	'batch lookup: 4 elements, end true' 'update after freeze: update: operation not permitted' \
	'reopen after unpin: not exist true' 'percpu array: [0-9]+ cpus, values \[10 11' \
	'ringbuf record: "first record"' 'ringbuf record: "second"' 'ringbuf record: "3rd: 0123456789abcdef"' '^done$'; do
	grep -qE -- "$l" <<<"$OUT" || fail "cilium_maps output lacks /$l/"
done
printf '%s\n' "$OUT" >"$STAGE/emu.out"

if [ "$MODE" = diff ] && kernel_on; then
	if ! kern "$STAGE/cilium_maps" /sys/fs/bpf testrun >"$STAGE/kernel.out" 2>&1; then
		# a host that refuses the feeder program (BPF_PROG_TEST_RUN of sched_cls) or a map type
		if grep -qE 'feeder (program|test run): error: .*(operation not permitted|not supported|invalid argument)' "$STAGE/kernel.out"; then
			skip "the kernel refuses the ring buffer feeder: $(tail -1 "$STAGE/kernel.out")"
		fi
		fail "kernel run: $(cat "$STAGE/kernel.out")"
	fi
	same_or_fail "cilium/ebpf client" "$STAGE/kernel.out" "$STAGE/emu.out"
fi
exit 0
