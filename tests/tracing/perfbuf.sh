#!/usr/bin/env bash
# tests/tracing/perfbuf.sh [emu]
#
# libbpf's perf_buffer__new / __poll / __consume (Debian's libbpf) as nobody
# under the shim, without BPFEMU_ATTACH, fed by another process:
#  1. the consumer opens one BPF output event per CPU through
#     perf_buffer__new and waits in perf_buffer__poll; a producer writes 40
#     records 20 ms apart with bpfemu_perf_output, record i into slot
#     i % CPUs: each must arrive on its CPU's buffer, in order, each poll
#     must bring a record (it blocks, no empty returns), promptly, at almost
#     no CPU; an idle poll must wait its timeout;
#  2. a flood of 2000 records of 200 bytes while nobody reads: the producer
#     counts the outputs refused with ENOSPC; perf_buffer__consume must then
#     deliver exactly the records written, and no loss yet (as on the kernel,
#     a loss is reported by the next record that fits); after one more record
#     the next perf_buffer__consume must deliver it and its lost callback
#     count exactly the refused ones (PERF_RECORD_LOST).
# There is no kernel mode: on the kernel only a BPF program writes into a
# perf buffer (tracing.perf_twin.diff compares the records with the kernel's).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

case "${1:-emu}" in emu) ;; *) echo "usage: $0 [emu]" >&2; exit 2 ;; esac
stage perfbuf_libbpf
FIFO=$STAGE/go
mkfifo -m 666 "$FIFO" || fail "mkfifo"

say "consumer: perf_buffer__new + perf_buffer__poll as $EMU_USER"
emu "$STAGE/perfbuf_libbpf" consume /sys/fs/bpf/events 40 "$FIFO" >"$STAGE/consumer.out" 2>&1 &
CPID=$!
for _ in $(seq 200); do
	grep -qx ready "$STAGE/consumer.out" && break
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.1
done
grep -qx ready "$STAGE/consumer.out" || { cat "$STAGE/consumer.out"; fail "the consumer did not get ready"; }

say "producer: bpfemu_perf_output from another process, 40 records 20 ms apart"
emu "$STAGE/perfbuf_libbpf" produce /sys/fs/bpf/events 40 20 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the producer failed"
for _ in $(seq 100); do
	grep -q "^idle perf_buffer__poll" "$STAGE/consumer.out" && break
	kill -0 "$CPID" 2>/dev/null || break
	sleep 0.05
done

say "flood: 2000 records of 200 bytes into slot 0 while nobody reads"
emu "$STAGE/perfbuf_libbpf" flood /sys/fs/bpf/events 2000 200 >"$STAGE/flood.out" 2>&1
rc=$?
sed 's/^/  /' "$STAGE/flood.out"
[ "$rc" -eq 0 ] || fail "the flood failed"
# go: one line into the FIFO the consumer reads (if it is still there to read it)
go() {
	kill -0 "$CPID" 2>/dev/null || { cat "$STAGE/consumer.out"; fail "the consumer exited early"; }
	timeout 20 bash -c 'echo go >"$1"' _ "$FIFO" || { cat "$STAGE/consumer.out"; fail "the consumer did not read"; }
}
go
for _ in $(seq 100); do
	grep -q "^perf_buffer__consume" "$STAGE/consumer.out" && break
	sleep 0.05
done
say "one more record: the next that fits reports the loss"
emu "$STAGE/perfbuf_libbpf" flood /sys/fs/bpf/events 1 200 >"$STAGE/one.out" 2>&1 || fail "one more record"
sed 's/^/  /' "$STAGE/one.out"
go
wait "$CPID"
rc=$?
say "consumer:"
sed 's/^/  /' "$STAGE/consumer.out"
[ "$rc" -eq 0 ] || fail "the consumer failed (exit $rc)"

written=$(sed -n 's/^flood: \([0-9]*\) written, \([0-9]*\) lost.*/\1/p' "$STAGE/flood.out")
lost=$(sed -n 's/^flood: \([0-9]*\) written, \([0-9]*\) lost.*/\2/p' "$STAGE/flood.out")
got=$(sed -n 's/^perf_buffer__consume = [0-9]*: \([0-9]*\) records, the lost callback counted \([0-9]*\)$/\1 \2/p' \
	"$STAGE/consumer.out" | tr '\n' ' ')
[ -n "$written" ] && [ "$lost" -gt 0 ] || fail "the flood lost nothing: the ring should have filled"
[ "$got" = "$written 0 1 $lost " ] ||
	fail "perf_buffer__consume got '$got', expected '$written 0 1 $lost ' (flood written, lost)"
say "perf_buffer__consume delivered the $written records written, then the next with the $lost lost"
emu rm /sys/fs/bpf/events || fail "unpin"
say "perf buffers: libbpf consumer, producer in another process, blocking polls, lost records"
exit 0
