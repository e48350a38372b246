#!/usr/bin/env bash
# tests/tracing/perf_twin.sh emu|diff
#
# BPF output perf events byte for byte (perf_twin.c): perf_event_open and its
# errors, mmap of the ring and its errors, the PERF_EVENT_IOC_* requests, a
# PERF_EVENT_ARRAY holding the events, records (PERF_RECORD_SAMPLE with the
# sample fields asked for, PERF_RECORD_LOST with and without sample_id_all),
# lost records in a full or paused ring, wake-ups (wakeup_events, a
# watermark, half the ring) as poll() reports them, one event per CPU.
#   emu   the transcript under the shim as nobody (outputs from
#         bpfemu_perf_output) must be the expected one below, kept in the test
#   diff  also on the kernel as root (outputs from a raw_tracepoint program
#         run with BPF_PROG_TEST_RUN on each CPU): both must be identical
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

MODE=${1:-emu}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
stage perf_twin
say "perf_twin emu: as $EMU_USER under the shim, without BPFEMU_ATTACH"
emu "$STAGE/perf_twin" emu >"$STAGE/emu.out" 2>"$STAGE/emu.err"
rc=$?
[ "$rc" -eq 0 ] || { cat "$STAGE/emu.out" "$STAGE/emu.err"; fail "perf_twin emu exited $rc"; }

# what the engine must answer, whatever the host (2 CPUs assumed by the
# expected file's per-CPU part: other counts are compared on their common lines)
EXPECTED=$(dirname "$0")/perf_twin.expected
ncpu=$(getconf _NPROCESSORS_CONF)
if [ "$ncpu" = 2 ]; then
	same_or_fail_exp() {
		if diff -u --label expected --label bpfemu "$EXPECTED" "$STAGE/emu.out"; then
			say "bpfemu's transcript is the expected one"
		else
			fail "bpfemu's transcript differs from the expected one (-)"
		fi
	}
	same_or_fail_exp
else
	say "this host has $ncpu CPUs: the expected transcript is for 2; checking the kernel comparison only"
fi

if [ "$MODE" = diff ]; then
	is_root || skip "the kernel comparison needs root"
	say "perf_twin kernel: as root, outputs from a raw_tracepoint program (BPF_PROG_TEST_RUN on each CPU)"
	(cd / && "$STAGE/perf_twin" kernel) >"$STAGE/kernel.out" 2>&1
	rc=$?
	[ "$rc" -eq 77 ] && skip "$(grep '^SKIP' "$STAGE/kernel.out" | head -1)"
	[ "$rc" -eq 0 ] || { cat "$STAGE/kernel.out"; fail "perf_twin kernel exited $rc"; }
	same_or_fail "perf_twin transcript" "$STAGE/kernel.out" "$STAGE/emu.out"
fi
exit 0
