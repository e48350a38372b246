#!/usr/bin/env bash
# tests/integration/trace.sh emu|diff
#
# BPFEMU_TRACE, `bpfemu record` and `bpfemu replay` (issue 5).
#   emu   scenarios recorded under the shim as user nobody replay cleanly on
#         the engine; a recorded trace with one changed value byte diverges at
#         that line; malformed logs fail with the line number, no crash
#   diff  the same scenarios under `strace -e trace=bpf` on the kernel (root,
#         private bpffs; kept in expected/trace/ for hosts that cannot show
#         them, and compared with those) and under `bpfemu record`: after normalizing pointers,
#         ids and the trace's data comments the lines are identical; the
#         kernel's strace logs replay on the engine with every result matching
#         (keys and ids inferred), and one changed return value or errno in
#         them diverges at its line
# Scenarios: the bpftool session (one log per command), libbpf_maps (a libbpf
# program) and trace_calls (raw calls, errors and odd sizes, a second thread).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" libbpf_maps trace_calls
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || skip "bpftool is not installed"
PIN=/sys/fs/bpf/demo
LOGS=$STAGE/logs
mkdir -m 777 "$LOGS"
# name, then the command: one log per step (so no pid prefixes)
STEPS=(
	"create|$BPFTOOL map create $PIN type hash key 4 value 8 entries 1024 name demo"
	"update|$BPFTOOL map update pinned $PIN key 1 0 0 0 value 2 0 0 0 0 0 0 0"
	"lookup|$BPFTOOL map lookup pinned $PIN key 1 0 0 0"
	"dump|$BPFTOOL map dump pinned $PIN"
	"show|$BPFTOOL -j map show pinned $PIN"
	"getnext|$BPFTOOL map getnext pinned $PIN key 1 0 0 0"
	"freeze|$BPFTOOL map freeze pinned $PIN"
	"update_frozen|$BPFTOOL map update pinned $PIN key 1 0 0 0 value 3 0 0 0 0 0 0 0"
	"delete_frozen|$BPFTOOL map delete pinned $PIN key 1 0 0 0"
	"pin2|$BPFTOOL map pin pinned $PIN /sys/fs/bpf/demo2"
	"missing|$BPFTOOL map show pinned /sys/fs/bpf/nope"
	"libbpf_maps|$STAGE/libbpf_maps /sys/fs/bpf"
	"trace_calls|$STAGE/trace_calls /sys/fs/bpf/tc"
	"trace_calls_thread|$STAGE/trace_calls /sys/fs/bpf/tc thread"
	"trace_calls_fork|$STAGE/trace_calls /sys/fs/bpf/tc fork"
)

# pointers, ids and fds the run chose; our data comment; strace's exit/signal
# lines and "Process N attached"; pid prefixes
normalize() {
	sed -E -e 's| /\* [a-z_]+=.*\*/$||' \
		-e 's/0x[0-9a-f]{5,}/PTR/g' \
		-e 's/^\[pid +[0-9]+\] //; s/^[0-9]+ +//' \
		-e 's/(map_id|prog_id|btf_id|link_id|next_id|start_id)=[0-9]+/\1=ID/g' \
		-e 's/ => [0-9]+/ => N/g' \
		-e 's/\) +=  ?/) = /' "$1" |
		grep -vE '^(\+\+\+|---) |^strace: |^unlink\('
}

# Runs CMD with no descriptor above 2 (what a test runner leaves open would
# shift every fd number in the logs, which are compared with stored ones).
CLOSEFDS='for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done; exec "$@"'

record_emu() {
	local name=$1 cmd=$2
	# shellcheck disable=SC2086
	as_user bash -c "$CLOSEFDS" bash env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" \
		"$STAGE/bpfemu" record -o "$LOGS/$name.emu" -- $cmd >/dev/null 2>&1
	[ -s "$LOGS/$name.emu" ] || bad "$name: bpfemu record wrote no trace"
}

# the two-task scenarios go through strace -f to stderr (no -o), whose
# "[pid N] " prefixes are the ones our trace follows
record_kernel() {
	local name=$1 cmd=$2 e=bpf
	case $name in libbpf_maps) e=bpf,unlink ;; esac
	case $name in
	trace_calls_thread | trace_calls_fork)
		# shellcheck disable=SC2086
		kern env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -f -qq -e trace=$e bash -c "$CLOSEFDS" bash $cmd >/dev/null 2>"$LOGS/$name.kernel"
		;;
	*)
		# shellcheck disable=SC2086
		kern env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
			strace -qq -e trace=$e -o "$LOGS/$name.kernel" bash -c "$CLOSEFDS" bash $cmd >/dev/null 2>&1
		;;
	esac
	grep -qE '^(\[pid +[0-9]+\] )?bpf\(' "$LOGS/$name.kernel" || bad "$name: strace logged no bpf() call"
}

# which lines carry "[pid N] ": "-" for none, else P1, P2... by first appearance
# (strace's signal and exit lines left out: our trace has only bpf() lines)
prefixes() {
	grep -vE '^(\[pid +[0-9]+\] )?(\+\+\+|---) ' "$1" |
		awk '{ if ($1 == "[pid") { p = $2; sub("]", "", p); if (!(p in s)) s[p] = "P" (++n); print s[p] } else print "-" }' |
		uniq -c | tr -s ' \n' ' '
}

replay_ok() {
	local log=$1 out
	if out=$("$STAGE/bpfemu" replay "$log" 2>&1); then
		say "replay $(basename "$log"): $out"
	else
		bad "replay $(basename "$log") diverged: $out"
	fi
}

if [ "$MODE" != kernel ]; then
	say "recording under the shim"
	for s in "${STEPS[@]}"; do
		record_emu "${s%%|*}" "${s#*|}"
	done
	as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run -- rm -f \
		/sys/fs/bpf/demo /sys/fs/bpf/demo2
	grep -q 'key="\\x01\\x00\\x00\\x00" value="\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00"' "$LOGS/update.emu" ||
		bad "update trace lacks the key/value comment"
	for l in thread fork; do
		grep -qE '^\[pid +[0-9]+\] bpf\(BPF_MAP_UPDATE_ELEM' "$LOGS/trace_calls_$l.emu" ||
			bad "$l trace lacks [pid N] prefixes"
	done

	# one session log: replays on a fresh engine from the first command on
	cat "$LOGS"/{create,update,lookup,dump,show,getnext,freeze,update_frozen,delete_frozen,pin2,missing}.emu \
		>"$LOGS/session.emu"
	# (libbpf_maps unpins with unlink(), which the trace does not record: its
	# kernel log, taken with -e trace=bpf,unlink, is replayed in diff mode)
	for l in session trace_calls trace_calls_thread trace_calls_fork; do
		replay_ok "$LOGS/$l.emu"
	done

	# a changed value byte is caught at its line
	line=$(grep -n 'BPF_MAP_LOOKUP_ELEM.* = 0 .*value="\\x02' "$LOGS/session.emu" | head -1 | cut -d: -f1)
	if [ -z "$line" ]; then
		bad "no successful lookup with a value in the session trace"
	else
		sed "${line}s/value=\"\\\\x02/value=\"\\\\x03/" "$LOGS/session.emu" >"$LOGS/changed.emu"
		out=$("$STAGE/bpfemu" replay "$LOGS/changed.emu" 2>&1)
		rc=$?
		[ $rc -eq 1 ] || bad "changed value: exit $rc, expected 1"
		grep -q "changed.emu:$line: divergence: bpf(BPF_MAP_LOOKUP_ELEM): value differs" <<<"$out" ||
			bad "changed value not reported at line $line: $out"
		say "changed value caught: $(head -1 <<<"$out")"
	fi

	# malformed logs: exit 3 and the line number
	malformed() {
		local what=$1 lineno=$2 expect=$3 out rc
		printf '%b' "$4" >"$LOGS/bad.log"
		out=$("$STAGE/bpfemu" replay "$LOGS/bad.log" 2>&1)
		rc=$?
		[ $rc -eq 3 ] || bad "$what: exit $rc, expected 3 ($out)"
		grep -q "bad.log:$lineno: malformed log: $expect" <<<"$out" || bad "$what: message: $out"
	}
	ok_line='bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=4, max_entries=1}, 16) = 3\n'
	malformed truncated 2 'truncated bpf() call' "$ok_line"'bpf(BPF_MAP_UPDATE_ELEM, {map_fd=3, key=0x1234'
	malformed no_return 2 'truncated bpf() call: no return value' "$ok_line"'bpf(BPF_MAP_FREEZE, {map_fd=3}, 4)\n'
	malformed unknown_cmd 1 "unknown bpf command 'BPF_FROB'" 'bpf(BPF_FROB, {map_fd=3}, 4) = 0\n'
	malformed garbage 3 'not a strace line' "$ok_line"'--- SIGCHLD {si_signo=SIGCHLD} ---\n\x01\xff garbage\n'
	malformed unknown_field 1 "unknown field 'bogus'" 'bpf(BPF_MAP_FREEZE, {bogus=3}, 4) = 0\n'
	malformed errno 1 "unknown errno name 'EFOO'" 'bpf(BPF_MAP_FREEZE, {map_fd=3}, 4) = -1 EFOO (x)\n'
	malformed resumed 1 '<\.\.\. bpf resumed> without an unfinished call' '<... bpf resumed>, 4) = 0\n'
	# well-formed strace features: prefixes, unfinished/resumed, signals, exits, other syscalls
	printf '%s\n' 'close(3) = 0' \
		'123 bpf(BPF_MAP_CREATE, {map_type=BPF_MAP_TYPE_ARRAY, key_size=4, value_size=4, max_entries=1} <unfinished ...>' \
		'124 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---' \
		'123 <... bpf resumed>, 16) = 7' \
		'[pid   123] bpf(BPF_MAP_FREEZE, {map_fd=7}, 4) = 0' \
		'123 bpf(BPF_MAP_FREEZE, {map_fd=7}, 4) = -1 EPERM (Operation not permitted)' \
		'123 +++ exited with 0 +++' >"$LOGS/features.log"
	replay_ok "$LOGS/features.log"
fi

if [ "$MODE" = diff ]; then
	# The kernel's strace logs are kept in expected/trace/ (the test's
	# expectations: recorded with BPFEMU_UPDATE_EXPECTED=kernel); where the
	# host shows the scenarios, fresh ones are recorded and must agree.
	KLOGS=$ITEST_DIR/expected/trace
	if kernel_on; then
		say "recording under strace on the kernel"
		for s in "${STEPS[@]}"; do
			record_kernel "${s%%|*}" "${s#*|}"
		done
		kern rm -f /sys/fs/bpf/demo /sys/fs/bpf/demo2
		for s in "${STEPS[@]}"; do
			n=${s%%|*}
			if [ "${BPFEMU_UPDATE_EXPECTED:-}" = kernel ]; then
				mkdir -p "$KLOGS"
				sed -e "s|$STAGE|STAGE|g" "$LOGS/$n.kernel" >"$KLOGS/$n.strace"
			fi
			if diff -u --label "expected strace: $n" --label "kernel strace: $n" \
				<(normalize "$KLOGS/$n.strace") <(sed -e "s|$STAGE|STAGE|g" "$LOGS/$n.kernel" | normalize /dev/stdin) \
				>"$LOGS/$n.kdiff"; then
				say "$n: the kernel's strace log is the expected one"
			else
				cat "$LOGS/$n.kdiff"
				bad "$n: the kernel's strace log differs from $KLOGS/$n.strace"
			fi
		done
	else
		say "the kernel's strace logs from $KLOGS"
		for s in "${STEPS[@]}"; do
			n=${s%%|*}
			[ -r "$KLOGS/$n.strace" ] || fail "$KLOGS/$n.strace is missing (BPFEMU_UPDATE_EXPECTED=kernel as root)"
			sed -e "s|STAGE|$STAGE|g" "$KLOGS/$n.strace" >"$LOGS/$n.kernel"
		done
	fi
	for s in "${STEPS[@]}"; do
		n=${s%%|*}
		if diff -u --label "kernel strace: $n" --label "bpfemu trace: $n" \
			<(normalize "$LOGS/$n.kernel") <(normalize "$LOGS/$n.emu") >"$LOGS/$n.diff"; then
			say "$n: $(normalize "$LOGS/$n.emu" | wc -l) lines identical to strace on the kernel"
		else
			cat "$LOGS/$n.diff"
			bad "$n: the trace differs from strace on the kernel"
		fi
	done
	# the kernel's logs (no key/value bytes: replay infers the keys from the
	# replayed map and the recorded outcome, and ids from creation order)
	# replay on a fresh engine with every result matching
	cat "$LOGS"/{create,update,lookup,dump,show,getnext,freeze,update_frozen,delete_frozen,pin2,missing}.kernel \
		>"$LOGS/session.kernel"
	for l in session libbpf_maps trace_calls trace_calls_thread trace_calls_fork; do
		replay_ok "$LOGS/$l.kernel"
	done
	# "[pid N] " on the same lines as strace -f: while two tasks are traced
	for l in trace_calls_thread trace_calls_fork; do
		k=$(prefixes "$LOGS/$l.kernel") e=$(prefixes "$LOGS/$l.emu")
		if [ "$k" = "$e" ]; then
			say "$l: [pid N] prefixes as strace -f puts them: $e"
		else
			bad "$l: [pid N] prefixes: strace -f: $k; our trace: $e"
		fi
	done

	# a changed return value or errno in a kernel log diverges at its line
	# mutate NAME LOG SED-ADDRESS FROM TO: the first line of LOG matching the
	# address gets FROM replaced by TO; replay must exit 1 naming that line
	mutate() {
		local name=$1 log=$2 addr=$3 from=$4 to=$5 line out rc
		line=$(grep -nE "$addr" "$LOGS/$log" | head -1 | cut -d: -f1)
		if [ -z "$line" ]; then
			bad "$name: no line matching '$addr' in $log"
			return
		fi
		sed "${line}s/$from/$to/" "$LOGS/$log" >"$LOGS/$name.log"
		cmp -s "$LOGS/$log" "$LOGS/$name.log" && bad "$name: sed changed nothing"
		out=$("$STAGE/bpfemu" replay "$LOGS/$name.log" 2>&1)
		rc=$?
		[ $rc -eq 1 ] || bad "$name: exit $rc, expected 1 ($out)"
		grep -q "^$LOGS/$name.log:$line: divergence: " <<<"$out" || bad "$name: not reported at line $line: $out"
		say "$name caught: $(head -1 <<<"$out")"
	}
	# array index 9 of 4 was E2BIG: ENOENT is reachable by no index
	mutate array_errno trace_calls.kernel 'UPDATE_ELEM, .*= -1 E2BIG' 'E2BIG (Argument list too long)' \
		'ENOENT (No such file or directory)'
	# BPF_EXIST on a missing key was ENOENT: E2BIG on a hash that is not full
	mutate hash_e2big libbpf_maps.kernel 'flags=BPF_EXIST}, 32\) = -1 ENOENT' 'ENOENT (No such file or directory)' \
		'E2BIG (Argument list too long)'
	# the first get_next_key on a map with one key returned it: ENOENT is not reachable
	mutate first_key trace_calls_thread.kernel 'BPF_MAP_GET_NEXT_KEY, .*key=NULL.*= 0$' '= 0$' \
		'= -1 ENOENT (No such file or directory)'
	# a return value: BPF_MAP_FREEZE returned 0, not 1
	mutate freeze_ret libbpf_maps.kernel 'BPF_MAP_FREEZE.*= 0$' '= 0$' '= 1'
fi

[ "$FAILS" -eq 0 ] || fail "$FAILS check(s) failed"
say "trace: all checks passed"
