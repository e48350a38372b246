#!/usr/bin/env bash
# tests/seccomp/lifecycle.sh emu
#
# The seccomp door's life cycle: the supervisor killed while the program
# lives (the program's next bpf() is ENOSYS, never a hang); the program
# killed in the middle of its calls (bpfemu exits at once with the status a
# shell gives a SIGKILLed command, 137); exit statuses (the program's, 127,
# 126); `--trace` and `bpfemu record` write the same trace in both modes.
# shellcheck source=tests/seccomp/common_seccomp.sh
. "$(dirname "$0")/common_seccomp.sh"

itest_init "${1:-}"
sc_stage static_bpf

wait_line() {          # wait_line FILE: until FILE has "ready"
	local i
	for i in $(seq 100); do
		grep -q '^ready$' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	fail "the program never got ready: $(cat "$1")"
}

say "the supervisor dies: the program's next bpf() is ENOSYS"
as_user env BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" run -- "$STAGE/static_bpf" /sys/fs/bpf wait >"$STAGE/wait.out" 2>&1 &
SUP=$!
wait_line "$STAGE/wait.out"
PROG=$(pgrep -P "$(pgrep -P "$SUP" || echo "$SUP")" static_bpf || pgrep -P "$SUP" static_bpf)
[ -n "$PROG" ] || fail "cannot find the program's pid"
kill -9 "$(pgrep -x bpfemu -P "$SUP" || echo "$SUP")" 2>/dev/null
kill -9 "$SUP" 2>/dev/null
wait "$SUP" 2>/dev/null
kill -USR1 "$PROG"
for i in $(seq 100); do
	kill -0 "$PROG" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$PROG" 2>/dev/null && fail "the program hangs after the supervisor's death"
cat "$STAGE/wait.out"
grep -q '^after: ENOSYS$' "$STAGE/wait.out" || fail "bpf() after the supervisor's death: not ENOSYS"

say "the program is killed in the middle of its calls"
as_user env BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" run -- "$STAGE/static_bpf" /sys/fs/bpf loop >"$STAGE/loop.out" 2>&1 &
SUP=$!
wait_line "$STAGE/loop.out"
sleep 0.2
PROG=$(pgrep -f "static_bpf /sys/fs/bpf loop" | while read -r p; do [ "$(ps -o comm= -p "$p")" = static_bpf ] && echo "$p"; done | head -1)
[ -n "$PROG" ] || fail "cannot find the looping program"
kill -9 "$PROG"
wait "$SUP"
RC=$?
[ "$RC" -eq 137 ] || fail "bpfemu exited $RC after its program was killed, expected 137"
say "bpfemu exited 137"

say "exit statuses"
emu_mode seccomp sh -c 'exit 7'
RC=$?
[ "$RC" -eq 7 ] || fail "exit status $RC, expected 7"
emu_mode seccomp /nonexistent/prog 2>/dev/null
RC=$?
[ "$RC" -eq 127 ] || fail "a missing program: $RC, expected 127"
printf 'not a program\n' >"$STAGE/noexec"
chmod 644 "$STAGE/noexec"
emu_mode seccomp "$STAGE/noexec" 2>/dev/null
RC=$?
[ "$RC" -eq 126 ] || fail "a file that is not a program: $RC, expected 126"

say "--trace and record: the same trace through both doors"
for m in preload seccomp; do
	rm -rf "$STATE"/* "$STAGE/trace.$m"
	: >"$STAGE/trace.$m"
	chmod 666 "$STAGE/trace.$m"
	as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run --mode "$m" \
		--trace "$STAGE/trace.$m" -- bpftool map create /sys/fs/bpf/t type array key 4 value 4 entries 2 name t ||
		fail "traced run ($m)"
	as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run --mode "$m" \
		--trace "$STAGE/trace.$m" -- bpftool map update pinned /sys/fs/bpf/t key 1 0 0 0 value 9 0 0 0 ||
		fail "traced run ($m)"
done
cat "$STAGE/trace.seccomp"
grep -q 'BPF_MAP_UPDATE_ELEM' "$STAGE/trace.seccomp" || fail "the seccomp trace lacks the update"
# pointers differ from run to run (ASLR)
sed -E 's/0x[0-9a-f]{6,}/ADDR/g' "$STAGE/trace.preload" >"$STAGE/trace.preload.n"
sed -E 's/0x[0-9a-f]{6,}/ADDR/g' "$STAGE/trace.seccomp" >"$STAGE/trace.seccomp.n"
diff -u "$STAGE/trace.preload.n" "$STAGE/trace.seccomp.n" || fail "the traces differ (-preload +seccomp)"
rm -rf "${STATE:?}"/*
as_user env BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" record -o /tmp/$$.rec -- "$STAGE/static_bpf" /sys/fs/bpf basic >/dev/null 2>&1 ||
	fail "record of the static client"
grep -c '^bpf(\|^\[pid' /tmp/$$.rec | grep -qv '^0$' || fail "record wrote no line"
as_user "$STAGE/bpfemu" replay /tmp/$$.rec >/dev/null 2>"$STAGE/replay.err" || { cat "$STAGE/replay.err"; fail "replay of the static client's record"; }
rm -f /tmp/$$.rec
say "recorded under the door and replayed"
exit 0
