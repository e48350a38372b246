#!/usr/bin/env bash
# tests/integration/two_process.sh emu|kernel
#
# Process A creates a hash map, pins it and writes key 1 = 100, then waits.
# A second, separately started process B opens the pin, reads key 1, writes
# key 1 = 200 and key 2 = 300 and exits; A, still holding its own fd, must see
# both writes.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

[ "${1:-}" != diff ] || { echo "usage: $0 emu|kernel" >&2; exit 2; }
itest_init "${1:-}" itest_helper
PIN=/sys/fs/bpf/two_proc

say "A: itest_helper pin-write $PIN ($MODE)"
coproc A { in_mode "$MODE" "$STAGE/itest_helper" pin-write "$PIN" 2>&1; }
a_out=${A[0]} a_in=${A[1]} a_pid=$A_PID
ready=
while IFS= read -r -t 20 line <&"$a_out"; do
	printf '  %s\n' "$line"
	[ "$line" = ready ] && ready=1 && break
done
[ -n "$ready" ] || fail "process A did not get ready"

say "B: itest_helper open-rw $PIN ($MODE)"
in_mode "$MODE" "$STAGE/itest_helper" open-rw "$PIN" 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "process B failed"

say "A: continue"
echo go >&"$a_in"
while IFS= read -r -t 20 line <&"$a_out"; do
	printf '  %s\n' "$line"
done
wait "$a_pid"
rc=$?
[ "$rc" -eq 0 ] || fail "process A failed (exit $rc)"

say "unpin: rm $PIN"
in_mode "$MODE" rm "$PIN" || fail "rm $PIN"
say "two processes share the pinned map ($MODE)"
exit 0
