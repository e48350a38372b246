#!/usr/bin/env bash
# tests/fire/progs.sh emu
#
# bpfemu fire on every attach kind: fire_loader (Debian's libbpf) loads
# fire_progs.bpf.o as nobody under the shim with BPFEMU_ATTACH=inert and
# attaches a tracepoint, raw_tp and tp_btf program on sched_switch, tracepoint
# programs on sys_enter_openat / sys_exit_openat, a kprobe and kretprobe on
# do_nanosleep, fentry/fexit on do_unlinkat (cookies on the kprobes, fentry
# and the uprobe), a uprobe and uretprobe on its own fire_target() and an lsm
# program on file_open; then `bpfemu fire`, run as nobody from another
# process, fires one event of each kind with a chosen task, CPU, time and
# values. The records the programs send through the perf buffer (context
# fields, the task helpers, the current task_struct, probe reads of kernel and
# user memory, func ip, cookies, func args, the stack) and the run counts must
# be the expected ones (expected/progs.txt); sys_exit_openat's return values
# also come through a ring buffer. Then the CLI's errors.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

MODE=${1:-emu}
[ "$MODE" = emu ] || { echo "usage: $0 emu" >&2; exit 2; }
[ -r /sys/kernel/btf/vmlinux ] || skip "this host has no /sys/kernel/btf/vmlinux"
stage fire_loader
cp "$ITEST_BIN/fire_progs.bpf.o" "$STAGE/" && chmod 644 "$STAGE/fire_progs.bpf.o" || fail "cp fire_progs.bpf.o"
HERE=$(cd "$(dirname "$0")" && pwd)

fire() { as_user env BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" fire "$@"; }

say "fire_loader as $EMU_USER under the shim, BPFEMU_ATTACH=inert"
as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" BPFEMU_ATTACH=inert \
	"$STAGE/bpfemu" run -- "$STAGE/fire_loader" "$STAGE/fire_progs.bpf.o" >"$STAGE/out" 2>"$STAGE/err" &
KPID=$!
for _ in $(seq 100); do
	grep -q '^ready' "$STAGE/out" && break
	kill -0 $KPID 2>/dev/null || break
	sleep 0.1
done
grep -q '^ready' "$STAGE/out" || { cat "$STAGE/out" "$STAGE/err"; fail "fire_loader did not start"; }
LPID=$(awk '/^ready/ {print $2}' "$STAGE/out")

T="--pid 4242 --tid 4243 --comm fired --uid 1000 --gid 1001 --ppid 77 --cpu 0 --time 1000000000"
say "bpfemu fire: one event of each kind"
fire $T tracepoint:sched:sched_switch prev_pid=1 next_pid=2 prev_comm=a next_comm=b prev_state=1 next_prio=120 \
	prev.pid=11 next.pid=12 prev.comm=pa next.real_parent.comm=parent prev.__state=2 next.real_parent.tgid=99 \
	preempt=1 >"$STAGE/fire.out" || fail "sched_switch"
fire $T tracepoint:syscalls:sys_enter_openat dfd=-100 filename=/etc/passwd flags=0x80000 >>"$STAGE/fire.out" || fail "openat"
fire $T --count 3 tp:syscalls:sys_exit_openat ret=-2 >>"$STAGE/fire.out" || fail "exit openat"
fire $T --ip 0xffffffff81234560 kprobe:do_nanosleep mode=1 >>"$STAGE/fire.out" || fail "kprobe"
fire $T kretprobe:do_nanosleep ret=-4 >>"$STAGE/fire.out" || fail "kretprobe"
fire $T --ip 0xffffffff81230000 fentry:do_unlinkat dfd=-100 name.name=/tmp/x name.refcnt.counter=3 >>"$STAGE/fire.out" ||
	fail "fentry"
fire $T fexit:do_unlinkat dfd=5 ret=-13 >>"$STAGE/fire.out" || fail "fexit"
fire $T "uprobe:$STAGE/fire_loader:fire_target" arg0=7 arg1=hello >>"$STAGE/fire.out" || fail "uprobe"
fire $T "uretprobe:$STAGE/fire_loader:fire_target" ret=12 >>"$STAGE/fire.out" || fail "uretprobe"
fire $T lsm:file_open file.f_flags=0101 >>"$STAGE/fire.out" || fail "lsm"
say "a batch file: a stack for tp_btf, the default task (this process)"
cat >"$STAGE/batch" <<'EOB'
# sched_switch with a kernel stack of two frames
--kstack 0xffffffff81000010,0xffffffff81000020 raw_tp:sched_switch prev.pid=5 next.pid=6
tracepoint:syscalls:sys_exit_openat ret=3
EOB
chmod 644 "$STAGE/batch"
fire -v -f "$STAGE/batch" --cpu 0 --time 2000000000 --comm batch >"$STAGE/batch.out" || fail "batch"
sed 's/^/  /' "$STAGE/batch.out"
grep -q "^2 events, 3 runs, 0 ended early$" "$STAGE/batch.out" || fail "batch: not 2 events and 3 runs"

for _ in $(seq 50); do
	[ "$(grep -c ' on cpu ' "$STAGE/out")" -ge 18 ] && [ "$(grep -c '^ringbuf' "$STAGE/out")" -ge 4 ] && break
	sleep 0.1
done
kill -INT "$LPID"
wait $KPID || { cat "$STAGE/err"; fail "fire_loader failed"; }
KPID=
# the batch's task is this process: its pid, tid, uid, gid and parent vary
sed -E -e '/^ready /d' \
	-e '/comm="batch"/ s/pid=[0-9]+ tid=[0-9]+ uid=[0-9]+ gid=[0-9]+ ppid=[0-9]+ cpu=0 task_pid=[0-9]+/pid=P tid=T uid=U gid=G ppid=PP cpu=0 task_pid=T/' \
	"$STAGE/out" >"$STAGE/records.all"
# the ring buffer's lines interleave with the perf buffer's: theirs go last
{ grep -v '^ringbuf' "$STAGE/records.all"; grep '^ringbuf' "$STAGE/records.all"; } >"$STAGE/records"
update_expected engine "$STAGE/records" "$HERE/expected/progs.txt"
expect_file "fire_loader's records" "$HERE/expected/progs.txt" "$STAGE/records"
[ -s "$STAGE/err" ] && { say "fire_loader's stderr:"; sed 's/^/  /' "$STAGE/err"; }

say "errors: the CLI's exit status and message"
check_err() {
	local want=$1 pattern=$2
	shift 2
	fire "$@" >"$STAGE/e.out" 2>&1
	local rc=$?
	[ "$rc" = "$want" ] || { cat "$STAGE/e.out"; fail "bpfemu fire $*: exit $rc, not $want"; }
	grep -q -- "$pattern" "$STAGE/e.out" || { cat "$STAGE/e.out"; fail "bpfemu fire $*: no '$pattern'"; }
	say "  $* -> $rc: $(head -c 150 "$STAGE/e.out" | head -1)"
}
check_err 2 "no field or argument 'nosuch'" tracepoint:sched:sched_switch nosuch=1
check_err 2 "does not fit its 4 bytes" tracepoint:sched:sched_switch prev_pid=0x100000000
check_err 2 "is not an event kind" bogus:x
check_err 2 "has no member 'nosuch' in the kernel's BTF" raw_tp:sched_switch prev.nosuch=1
check_err 2 "give its members" raw_tp:sched_switch prev=42x
check_err 1 "no btf_trace_no_such_tp" raw_tp:no_such_tp
check_err 1 "no program is attached" tracepoint:sched:sched_wakeup p.pid=1
check_err 2 "unknown option" --nosuch 1 tracepoint:sched:sched_switch
check_err 2 "--cpu 4096" --cpu 4096 tracepoint:sched:sched_switch
say "progs: every attach kind fired as expected"
