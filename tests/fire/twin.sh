#!/usr/bin/env bash
# tests/fire/twin.sh emu|diff
#
# Kernel twin of bpfemu fire: fire_twin.bpf.o has a raw_tp and a tp_btf
# program on sys_enter, tracepoint programs on raw_syscalls:sys_enter,
# syscalls:sys_enter_kill and sys_exit_kill, each recording (for the loader's
# own process) what its context and the task helpers show: the arguments, the
# record's fields, pid/tid/uid/gid, comm, the current task_struct's pid, tgid,
# comm and real_parent->tgid; tp_btf's stack, stored by bpf_get_stackid under
# the id jhash2 of its frames gives (the kernel's hash). On the kernel (root, a private mount namespace
# with tracefs) the loader calls kill(getpid(), 0); under bpfemu (nobody,
# BPFEMU_ATTACH=inert) `bpfemu fire --pid LOADER` fires the events that call
# makes with its values:
#     --kstack do_syscall_64,entry_SYSCALL_64 \
#       tracepoint:raw_syscalls:sys_enter id=62 args=PID,0 regs.di=PID regs.si=0
#     tracepoint:syscalls:sys_enter_kill pid=PID sig=0
#     tracepoint:syscalls:sys_exit_kill ret=0
# Both transcripts (the loader's own pid, uid and parent printed as self and
# parent) must be expected/twin.txt.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

[ -r /sys/kernel/btf/vmlinux ] || skip "this host has no /sys/kernel/btf/vmlinux"
# the helpers come from two build directories: this one's and the integration tests' (itest_helper)
BINS=$(mktemp -d /tmp/bpfemu-fire-bins.XXXXXX) || fail "mktemp"
ln -s "$ITEST_BIN/fire_twin" "$ITEST_BIN/fire_twin.bpf.o" "$BINS/"
ln -s "${ITEST_HELPER:-$BPFEMU_BUILD_DIR/tests/integration/itest_helper}" "$BINS/itest_helper"
ITEST_BIN=$BINS
trap 'itest_cleanup; rm -rf "$BINS"' EXIT
itest_init "${1:-emu}" fire_twin
cp "$ITEST_BIN/fire_twin.bpf.o" "$STAGE/" && chmod 644 "$STAGE/fire_twin.bpf.o" || fail "cp fire_twin.bpf.o"
if kernel_on; then
	kern mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
		kern mount -t debugfs nodev /sys/kernel/debug 2>/dev/null ||
		kernel_off "cannot mount tracefs (tracepoint programs attach through it)"
fi

run_twin() {
	local mode=$1 out=$2 pid i
	if [ "$mode" = kernel ]; then
		kern "$STAGE/fire_twin" "$STAGE/fire_twin.bpf.o" kernel >"$out" 2>"$out.err" ||
			{ cat "$out.err"; return 1; }
		return 0
	fi
	as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" BPFEMU_ATTACH=inert \
		"$STAGE/bpfemu" run -- "$STAGE/fire_twin" "$STAGE/fire_twin.bpf.o" emu >"$out.raw" 2>"$out.err" &
	local bg=$!
	for i in $(seq 100); do
		grep -q '^ready' "$out.raw" && break
		kill -0 $bg 2>/dev/null || break
		sleep 0.1
	done
	pid=$(awk '/^ready/ {print $2}' "$out.raw")
	[ -n "$pid" ] || { cat "$out.raw" "$out.err"; return 1; }
	{
		echo "--pid $pid --kstack do_syscall_64,entry_SYSCALL_64 tracepoint:raw_syscalls:sys_enter id=62 args=$pid,0 regs.di=$pid regs.si=0"
		echo "--pid $pid tracepoint:syscalls:sys_enter_kill pid=$pid sig=0"
		echo "--pid $pid tracepoint:syscalls:sys_exit_kill ret=0"
	} >"$STAGE/events"
	chmod 644 "$STAGE/events"
	as_user env BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" fire -v -f "$STAGE/events" | sed 's/^/  /'
	[ "${PIPESTATUS[0]}" = 0 ] || { kill -INT "$pid"; return 1; }
	sleep 0.3
	kill -INT "$pid"
	wait $bg || { cat "$out.err"; return 1; }
	grep -v '^ready' "$out.raw" >"$out"
}
twin "fire_twin: what kill() shows tracing programs" twin run_twin
