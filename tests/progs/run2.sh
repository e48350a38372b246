#!/usr/bin/env bash
# tests/progs/run2.sh emu|kernel|diff
#
# Programs run, the types and helpers beyond run.sh: as nobody under bpfemu
# and as root on the kernel, a Debian-libbpf program (run2_loader) loads
# run2.bpf.o and test-runs a flow dissector, an sk_lookup program, a tc
# program that reshapes its skb (VLAN, tail, checksum, hash) and a syscall
# program (bpf_strtol, bpf_strncmp, bpf_snprintf, bpf_sys_bpf), and an XDP
# program that arms a timer whose callback runs after the test run; it reads the
# ENABLE_STATS fd's /proc link and kernel.bpf_stats_enabled. Then `bpftool
# prog tracelog` shows what an XDP program printed with bpf_printk (as nobody:
# the engine's /sys/kernel/tracing/trace_pipe; on the kernel: tracefs, mounted
# in the test's namespace), and `trace` is empty after it read them.
# A kernel twin (tests/integration/common.sh): the transcript must be
# expected/run2.txt, Linux 6.18's, under bpfemu on every host and on the
# kernel where the host shows it.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

BIN=$(mktemp -d /tmp/bpfemu-progs-bin.XXXXXX) || exit 1
ln -s "$ITEST_BIN/run2_loader" "$BIN/run2_loader"
[ -n "${ITEST_HELPER:-}" ] && ln -s "$ITEST_HELPER" "$BIN/itest_helper"
OBJ_SRC=$ITEST_BIN/run2.o
ITEST_BIN=$BIN
itest_init "${1:-}" run2_loader
rm -rf -- "$BIN"
cp -- "$OBJ_SRC" "$STAGE/run2.o" && chmod 644 "$STAGE/run2.o" || fail "cannot stage run2.o"

# the trace lines without who, where and when printed them
norm_trace() {
	sed -nE '/run2 xdp/{s/^ *[^ ]+-[0-9]+ +\[[0-9]+\] /COMM-PID [CPU] /; s/ +[0-9]+\.[0-9]+: / T: /; p}'
}

session() {
	local m=$1 L="$STAGE/run2_loader" O="$STAGE/run2.o" T=/sys/kernel/tracing
	echo "-- run"
	in_mode "$m" "$L" "$O"
	echo "-- bpftool prog tracelog"
	if [ "$m" = kernel ]; then
		kern sh -c "mountpoint -q $T || mount -t tracefs nodev $T" || return 1
	fi
	# what earlier runs left in the buffer goes first
	in_mode "$m" sh -c "echo > $T/trace" || return 1
	in_mode "$m" timeout 3 bpftool prog tracelog >"$STAGE/tracelog.$m" 2>&1 &
	local tl=$!
	sleep 1
	in_mode "$m" "$L" "$O" print 2
	wait "$tl"
	norm_trace <"$STAGE/tracelog.$m"
	echo "-- trace after trace_pipe read them"
	in_mode "$m" cat "$T/trace" | grep -c 'run2 xdp'
}

EXPECT=(
	'^flow: ok retval 0 size 56 keys 0e0022000008000000110800303900350a0000010a000002'
	'^sk_lookup port 7: ok retval 0 '
	'^tc_reshape: ok retval 0 size 70 '
	'^  cb 0 0 0 0xabcd 0x1002a$'
	'^sys_prog: ok retval 7 parsed -1234 cmp -1 fmt_len 20 out "ab=-1234 \[   -3\] ff"$'
	'^  sys_bpf map: ok type 2 key 4 value 8 entries 2$'
	'^timer later: ok fired 1 init -16 set 0 start 0 cancel -1$'
	'^timer cancelled, 400 ms later: ok fired 1 init -16 set 0 start 0 cancel 1$'
	'^enable_stats: ok link anon_inode:bpf-stats$'
	'^COMM-PID \[CPU\] b\.\.11 T: bpf_trace_printk: run2 xdp len 60$'
)

run() {
	local m=$1 out=$2
	say "programs run, part 2 ($m)"
	session "$m" >"$out" 2>&1
	cat "$out"
	for re in "${EXPECT[@]}"; do
		grep -qE -- "$re" "$out" || { printf 'FAIL: run2 (%s): no line matching /%s/\n' "$m" "$re"; FAILS=$((FAILS + 1)); }
	done
}

FAILS=0
kernel_needs map array
kernel_needs prog xdp sched_cls flow_dissector sk_lookup syscall
twin "programs run, part 2" run2 run
[ "$FAILS" -eq 0 ] || fail "$FAILS expected line(s) missing"
exit 0
