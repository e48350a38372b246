#!/usr/bin/env bash
# tests/progs/run.sh emu|kernel|diff
#
# Programs run (issue 14's acceptance): as nobody under bpfemu and as root on
# the kernel, a Debian-libbpf program (run_loader) loads run.bpf.o and
# test-runs its programs with bpf_prog_test_run_opts: an XDP program that
# updates hash, array, per-CPU, map-in-map and .bss maps and writes ring
# buffer records (polled by a second process with ring_buffer__poll), packet
# rewrites with csum_diff and head/tail adjustments, a tc program with
# __sk_buff in and out and skb_load/store_bytes, a socket filter with LD_ABS,
# a cgroup skb program, bpf_loop and bpf_for_each_map_elem callbacks with a
# tail call, a raw tracepoint with arguments, and the errnos of bad attrs.
# Then `bpftool prog run` of the pinned XDP program, a second process reading
# the pinned maps, and `bpftool prog show` with the run-time statistics.
# A kernel twin (tests/integration/common.sh): the transcript must be
# expected/run.txt, Linux 6.18's (durations and run times normalized), under
# bpfemu on every host and on the kernel where the host shows it.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

BIN=$(mktemp -d /tmp/bpfemu-progs-bin.XXXXXX) || exit 1
ln -s "$ITEST_BIN/run_loader" "$BIN/run_loader"
[ -n "${ITEST_HELPER:-}" ] && ln -s "$ITEST_HELPER" "$BIN/itest_helper"
OBJ_SRC=$ITEST_BIN/run.o
ITEST_BIN=$BIN
itest_init "${1:-}" run_loader
rm -rf -- "$BIN"
cp -- "$OBJ_SRC" "$STAGE/run.o" && chmod 644 "$STAGE/run.o" || fail "cannot stage run.o"
# the packet bpftool sends: 64 bytes, IPv4/UDP from 10.0.0.7
python3 - "$STAGE/pkt.bin" <<'PY' || fail "cannot write pkt.bin"
import sys
p = bytearray(64)
p[0:14] = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0])
p[14] = 0x45; p[17] = 50; p[22] = 64; p[23] = 17
p[26:30] = bytes([10, 0, 0, 7]); p[30:34] = bytes([10, 0, 0, 9])
open(sys.argv[1], "wb").write(p)
PY
chmod 644 "$STAGE/pkt.bin"

session() {
	local m=$1 L="$STAGE/run_loader" O="$STAGE/run.o" D=/sys/fs/bpf/run
	in_mode "$m" mkdir -p "$D" || return 1
	echo "-- run"
	in_mode "$m" "$L" "$O" "$D" run
	echo "-- bpftool prog run"
	in_mode "$m" bpftool prog run pinned "$D/xdp_acc" data_in "$STAGE/pkt.bin" data_out - repeat 2 2>&1 |
		sed -E 's/duration \(average\): [0-9]+ns/duration (average): Nns/'
	echo "-- pins"
	in_mode "$m" ls "$D"
	echo "-- dump (another process)"
	in_mode "$m" "$L" "$O" "$D" dump
	echo "-- bpftool prog show"
	in_mode "$m" bpftool prog show pinned "$D/xdp_acc" |
		sed -E 's/^[0-9]+: /N: /; s/loaded_at [^ ]+  uid [0-9]+/loaded_at T  uid U/;
			s/xlated [0-9]+B  (jited [0-9]+B|not jited)/xlated X  jited J/; s/map_ids [0-9,]+/map_ids M/;
			s/btf_id [0-9]+/btf_id B/; s/run_time_ns [0-9]+/run_time_ns T/'
}

EXPECT=(
	'^load: ok$'
	'^udp from \.1: ok retval 2 size 64 data 020000000002020000000001080045'
	'^tcp from \.2, repeat 3: ok retval 2 size 80'
	'^short data_out: ENOSPC retval 2 size 64 data 02000000000202000000$'
	'^13 bytes: EINVAL'
	'^1200 bytes: ok retval 1 size 1200'
	'^udp from \.1: ok retval 3 size 68 '
	'^tc_act: ok retval 7 size 64 '
	'^  ctx_out: mark 41 priority 1 cb 7 64 8 ifindex 1 wire_len 64 size 192$'
	'^sock_len dport 53: ok retval 50 '
	'^sock_len dport 54: ok retval 0 '
	'^raw_args: ok retval 42$'
	'^raw_args 8 bytes of ctx: EINVAL$'
	'^by_src: 10\.0\.0\.1=2 10\.0\.0\.2=3 10\.0\.0\.4=1 10\.0\.0\.7=2$'
	'^bytes \(all CPUs\): ok '
	'^\.bss: ok seen 6 last_len 64$'
	'^\.bss: ok seen 8 last_len 64$'
	'^stats xdp_acc: ok run_cnt 8 run_time_ns > 0$'
	'^consumer: 6 records$'
	'^Return value: 2, duration \(average\): Nns$'
	'run_time_ns T run_cnt 8$'
)

run() {
	local m=$1 out=$2
	say "programs run ($m)"
	session "$m" >"$out" 2>&1
	cat "$out"
	for re in "${EXPECT[@]}"; do
		grep -qE -- "$re" "$out" || { printf 'FAIL: run (%s): no line matching /%s/\n' "$m" "$re"; FAILS=$((FAILS + 1)); }
	done
}

FAILS=0
kernel_needs map hash array percpu_array hash_of_maps ringbuf prog_array
kernel_needs prog xdp sched_cls socket_filter cgroup_skb raw_tracepoint
twin "programs run transcript" run run
[ "$FAILS" -eq 0 ] || fail "$FAILS expected line(s) missing"
exit 0
