#!/usr/bin/env bash
# tests/integration/trace_whole.sh emu|diff
#
# Whole programs traced and replayed (issue 18): BTF, programs, test runs and
# links, not only map sessions. Scenarios:
#   progs     trace_progs: raw calls of every command strace 6.1 decodes (and of
#             those it prints as a pointer), successes and errors
#   skel      trace_skel: a libbpf skeleton program (BTF maps, .rodata/.data/
#             .bss, an XDP program test-run three times, maps read back)
#   bpftool   `bpftool prog loadall` of trace_skel.bpf.o (clang-built), then
#             `bpftool prog show pinned` of its program
#   softirqs, hardirqs, syscount
#             three of Debian's libbpf-tools, started and stopped (their own
#             interval/duration arguments)
#   emu   each scenario recorded under the shim as nobody (BPFEMU_ATTACH=inert),
#         with strace's default string size and with -s 65536, replays with no
#         divergence; changed bytes in a record (a BTF's magic, a program's name
#         in its info, a test run's retval when the engine runs programs) are
#         divergences at their line
#         strace logs of the same programs taken on a kernel (Linux 6.18,
#         strace 6.1), kept in expected/trace_whole/, replay as nobody with
#         their BTF, programs, map entries and ids inferred
#   diff  the same under `strace -f -qq [-s 65536] -e trace=bpf` on the kernel
#         (root, private bpffs and tracefs; the raw calls in a network namespace
#         of their own; where the host cannot, the stored logs stand in; where
#         it can, fresh logs must agree with the stored ones, which
#         BPFEMU_UPDATE_EXPECTED=kernel rewrites): every kernel log replays
#         with no divergence, and our trace lines equal strace's once pointers,
#         ids, pids, durations and the running kernel's version are normalized.
#         Where they may not, the test says which lines and why: results the
#         engine answers otherwise by design in progs (attach calls it does not
#         emulate), test runs while the engine has no VM (then also the replay
#         of the kernel's test runs), and what the tools read after attaching
#         (the kernel's programs fired and filled maps; the shim's did not).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

[ -x "$ITEST_BIN/trace_skel" ] || { echo "SKIP: trace_whole: trace_skel not built (clang or bpftool missing at build time)"; exit 77; }
itest_init "${1:-}" trace_progs trace_skel
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || skip "bpftool is not installed"
kernel_needs map hash array perf_event_array
kernel_needs prog xdp tracepoint raw_tracepoint socket_filter
cp -- "$ITEST_BIN/trace_skel.bpf.o" "$STAGE/trace_skel.bpf.o" && chmod 644 "$STAGE/trace_skel.bpf.o" ||
	fail "cannot stage trace_skel.bpf.o"
LOGS=$STAGE/logs
mkdir -m 777 "$LOGS"
cat >"$STAGE/bpftool.sh" <<EOF
#!/bin/sh
$BPFTOOL prog loadall $STAGE/trace_skel.bpf.o /sys/fs/bpf/ts pinmaps /sys/fs/bpf/tsmaps &&
$BPFTOOL prog show pinned /sys/fs/bpf/ts/xdp_count
EOF
chmod 755 "$STAGE/bpftool.sh"
SCEN=(progs skel bpftool)
declare -A CMD=(
	[progs]="$STAGE/trace_progs"
	[skel]="$STAGE/trace_skel"
	[bpftool]="$STAGE/bpftool.sh"
)
TOOLS=(softirqs hardirqs syscount)
declare -A TOOLARGS=([softirqs]="1 1" [hardirqs]="1 1" [syscount]="-d 1")
for t in "${TOOLS[@]}"; do
	if [ -x "/usr/sbin/$t" ]; then
		SCEN+=("$t")
		CMD[$t]="timeout -s INT 10 /usr/sbin/$t ${TOOLARGS[$t]}"
	else
		say "SKIP $t: /usr/sbin/$t is missing (Debian's libbpf-tools: tools/bootstrap installs it)"
	fi
done
SIZES=(32 65536)

# does the engine run programs (BPF_PROG_TEST_RUN)? trace_progs says so
emu_out=$(emu env BPFEMU_ATTACH=inert "$STAGE/trace_progs" 2>/dev/null)
if grep -q '^test_run: 0$' <<<"$emu_out"; then
	VM=1
	say "the engine runs programs: test runs are compared and replayed strictly"
else
	VM=0
	say "the engine has no BPF_PROG_TEST_RUN yet ($(grep '^test_run:' <<<"$emu_out")): test run results are not compared"
fi
emu rm -rf /sys/fs/bpf/ts /sys/fs/bpf/tsmaps

# pointers, ids, pids, durations; our data comment; strace's exit and signal lines
normalize() {
	sed -E -e 's| /\* [a-z_]+=.*\*/$||' \
		-e 's/0x[0-9a-f]{5,}/PTR/g' \
		-e 's/^\[pid +[0-9]+\] //; s/^[0-9]+ +//' \
		-e 's/(map_id|prog_id|btf_id|link_id|next_id|start_id|pid)=[0-9]+/\1=ID/g' \
		-e 's/duration=[0-9]+/duration=N/' \
		-e 's/KERNEL_VERSION\([1-9][0-9]*, [0-9]+, [0-9]+\)/KERNEL_VERSION(V)/g' \
		-e 's/ => [0-9]+/ => N/g' \
		-e 's/\) +=  ?/) = /' "$1" |
		grep -vE '^(\+\+\+|---) |^strace: '
}

# the tools' lines up to their last attach call: what they read afterwards,
# the kernel's programs had written (their events fired there, not here)
cut_after() {
	local n=$1 f=$2 last
	case $n in
	progs | skel | bpftool) cat "$f" ;;
	*)
		local t
		t=$(mktemp "$LOGS/cut.XXXXXX")
		cat "$f" >"$t"
		last=$(grep -nE 'BPF_LINK_CREATE|BPF_RAW_TRACEPOINT_OPEN|BPF_PROG_ATTACH' "$t" | tail -1 | cut -d: -f1)
		if [ -n "$last" ]; then head -n "$last" "$t"; else cat "$t"; fi
		rm -f "$t"
		;;
	esac
}

# Runs CMD with no descriptor above 2 (what a test runner leaves open would
# shift every fd number in the logs, which are compared with stored ones).
CLOSEFDS='for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done; exec "$@"'

record_emu() {
	local name=$1 s=$2
	fresh_state
	# shellcheck disable=SC2086
	as_user bash -c "$CLOSEFDS" bash env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" BPFEMU_ATTACH=inert \
		"$STAGE/bpfemu" record -s "$s" -o "$LOGS/$name.emu$s" -- ${CMD[$name]} >"$LOGS/$name.emu$s.out" 2>&1
	as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run -- \
		rm -rf /sys/fs/bpf/ts /sys/fs/bpf/tsmaps
	[ -s "$LOGS/$name.emu$s" ] || bad "$name: bpfemu record -s $s wrote no trace"
}

record_kernel() {
	local name=$1 s=$2 pre=
	[ "$name" = progs ] && pre="unshare -n"    # its XDP link goes on a private lo
	# shellcheck disable=SC2086
	kern env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		$pre strace -f -qq -s "$s" -e trace=bpf -o "$LOGS/$name.k$s" bash -c "$CLOSEFDS" bash ${CMD[$name]} \
		>"$LOGS/$name.k$s.out" 2>&1
	kern rm -rf /sys/fs/bpf/ts /sys/fs/bpf/tsmaps
	grep -qE '^[0-9]+ +bpf\(' "$LOGS/$name.k$s" || bad "$name: strace -s $s logged no bpf() call"
}

# replay_clean LOG [ALLOWED-ERE [USER]]: no divergence, or (with ALLOWED-ERE)
# only at lines whose call matches it; replayed as the emulated user with
# USER=user. A kernel log must have had programs inferred.
replay_clean() {
	local log=$1 allowed=${2:-} who=${3:-} out rc lines ln l runner=()
	[ "$who" = user ] && runner=(as_user)
	out=$("${runner[@]}" "$STAGE/bpfemu" replay --keep-going "$log" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		say "replay $(basename "$log")${who:+ as $EMU_USER}: ${out##*: }"
		case $log in *.k32 | *.k65536 | *.strace)
			grep -qE ' programs?[,)]' <<<"$out" || bad "replay $(basename "$log"): no program inferred from a kernel log?" ;;
		esac
		return
	fi
	if [ $rc -ne 1 ] || [ -z "$allowed" ]; then
		bad "replay $(basename "$log")${who:+ as $EMU_USER} (exit $rc): $out"
		return
	fi
	lines=$(grep -oE "^$log:[0-9]+: divergence" <<<"$out" | sed -E 's/.*:([0-9]+): divergence/\1/' | sort -un)
	for ln in $lines; do
		l=$(sed -n "${ln}p" "$log")
		grep -qE "$allowed" <<<"$l" ||
			bad "replay $(basename "$log"): divergence at line $ln, not one the test allows: $(grep ":$ln: " <<<"$out" | head -1)"
	done
	say "replay $(basename "$log")${who:+ as $EMU_USER}: divergences only at the allowed lines ($(echo $lines | wc -w)): $allowed"
}

# a changed byte in a record is a divergence at its line
mutate() {
	local name=$1 log=$2 addr=$3 from=$4 to=$5 expect=$6 line out rc
	line=$(grep -nE "$addr" "$log" | head -1 | cut -d: -f1)
	if [ -z "$line" ]; then
		bad "$name: no line matching '$addr' in $(basename "$log")"
		return
	fi
	sed "${line}s/$from/$to/" "$log" >"$LOGS/$name.log"
	cmp -s "$log" "$LOGS/$name.log" && bad "$name: sed changed nothing"
	out=$("$STAGE/bpfemu" replay "$LOGS/$name.log" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || bad "$name: exit $rc, expected 1 ($out)"
	grep -qF "$LOGS/$name.log:$line: divergence: $expect" <<<"$out" || bad "$name: not reported at line $line: $out"
	say "$name caught: $(head -1 <<<"$out")"
}

say "recording under the shim (as $EMU_USER, BPFEMU_ATTACH=inert)"
for n in "${SCEN[@]}"; do
	for s in "${SIZES[@]}"; do
		record_emu "$n" "$s"
	done
done
for n in "${SCEN[@]}"; do
	for s in "${SIZES[@]}"; do
		replay_clean "$LOGS/$n.emu$s"
	done
done
grep -q '^load: ok' "$LOGS/skel.emu32.out" || bad "skel: the skeleton did not load under the shim: $(cat "$LOGS/skel.emu32.out")"
grep -q 'BPF_BTF_LOAD.* = [0-9].* btf="\\x9f\\xeb' "$LOGS/skel.emu32" || bad "skel: no BTF_LOAD with the whole blob in its comment"
grep -q 'BPF_PROG_TEST_RUN.* data_in="' "$LOGS/skel.emu32" || bad "skel: no test run with its data in the comment"
mutate btf_magic "$LOGS/skel.emu32" 'BPF_BTF_LOAD.* = [0-9]+ .* btf="\\x9f\\xeb' 'btf="\\x9f\\xeb' 'btf="\\x9f\\xec' \
	'bpf(BPF_BTF_LOAD): expected an fd'
mutate prog_name "$LOGS/skel.emu32" 'BPF_OBJ_GET_INFO_BY_FD.* info="\\x06\\x00\\x00\\x00' \
	'\\x78\\x64\\x70\\x5f\\x63\\x6f\\x75\\x6e\\x74' '\\x78\\x64\\x70\\x5f\\x63\\x6f\\x75\\x6e\\x75' \
	'bpf(BPF_OBJ_GET_INFO_BY_FD): info name differs'
if [ "$VM" = 1 ]; then
	mutate test_retval "$LOGS/skel.emu32" 'BPF_PROG_TEST_RUN.* = 0 .* retval=3 ' ' retval=3 ' ' retval=2 ' \
		'bpf(BPF_PROG_TEST_RUN): retval expected 2, got 3'
fi

# Where a kernel log may diverge, and our lines may answer otherwise: in
# progs the calls the engine does not emulate (LINK_UPDATE, ITER_CREATE,
# TASK_FD_QUERY, PROG_QUERY; PROG_DETACH succeeds in inert mode), the
# fd_array load and the 144-byte attr it refuses; test runs without a VM.
PROGS_ENGINE='BPF_LINK_UPDATE|BPF_ITER_CREATE|BPF_TASK_FD_QUERY|BPF_PROG_QUERY|BPF_PROG_DETACH|fd_array=(0x|PTR)|, \.\.\.\}, 144\)'
TESTRUN='BPF_PROG_TEST_RUN'

# strace logs taken on a kernel (Linux 6.18, strace 6.1) kept with the test:
# their BTF, programs, map contents and ids are inferred, without root
say "kernel logs kept in expected/trace_whole, replayed as $EMU_USER"
for f in "$ITEST_DIR"/expected/trace_whole/*.strace; do
	sed -e "s|STAGE|$STAGE|g" "$f" >"$LOGS/$(basename "$f")" && chmod 644 "$LOGS/$(basename "$f")"
	case $f in
	*/progs.*)
		if [ "$VM" = 1 ]; then
			replay_clean "$LOGS/$(basename "$f")" "$PROGS_ENGINE" user
		else
			replay_clean "$LOGS/$(basename "$f")" "$PROGS_ENGINE|$TESTRUN" user
		fi
		;;
	*/skel.*)
		if [ "$VM" = 1 ]; then
			replay_clean "$LOGS/$(basename "$f")" "" user
		else
			replay_clean "$LOGS/$(basename "$f")" "$TESTRUN" user
		fi
		;;
	*) replay_clean "$LOGS/$(basename "$f")" "" user ;;
	esac
done

if [ "$MODE" = diff ]; then
	# The kernel's strace logs are kept in expected/trace_whole/ (recorded
	# with BPFEMU_UPDATE_EXPECTED=kernel); where the host shows the
	# programs, fresh ones are recorded and must agree with them.
	KLOGS=$ITEST_DIR/expected/trace_whole
	LIVE=()          # the scenarios traced on this host's kernel now
	if kernel_on; then
		if kern sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing' 2>/dev/null; then
			TRACEFS=1
		else
			TRACEFS=0
			skip_log "$ITEST_NAME.$MODE" "the tools on the kernel: tracefs cannot be mounted"
			say "the tools on the kernel skipped: tracefs cannot be mounted here (their stored logs are used)"
		fi
		say "recording under strace on the kernel"
		for n in "${SCEN[@]}"; do
			case $n in progs | skel | bpftool) ;; *) [ "$TRACEFS" = 1 ] || continue ;; esac
			LIVE+=("$n")
			for s in "${SIZES[@]}"; do
				record_kernel "$n" "$s"
				if [ "${BPFEMU_UPDATE_EXPECTED:-}" = kernel ]; then
					mkdir -p "$KLOGS"
					sed -e "s|$STAGE|STAGE|g" "$LOGS/$n.k$s" >"$KLOGS/$n.k$s.strace"
				fi
				if diff -u --label "expected strace -s $s: $n" --label "kernel strace -s $s: $n" \
					<(sed -e "s|STAGE|$STAGE|g" "$KLOGS/$n.k$s.strace" | normalize /dev/stdin | cut_after "$n" /dev/stdin) \
					<(normalize "$LOGS/$n.k$s" | cut_after "$n" /dev/stdin) >"$LOGS/$n.k$s.kdiff"; then
					say "$n -s $s: the kernel's strace log is the expected one"
				else
					cat "$LOGS/$n.k$s.kdiff"
					bad "$n -s $s: the kernel's strace log differs from $KLOGS/$n.k$s.strace"
				fi
			done
		done
		grep -q '^test run 0: retval 3' "$LOGS/skel.k32.out" || bad "skel on the kernel: $(cat "$LOGS/skel.k32.out")"
	fi
	for n in "${SCEN[@]}"; do
		for s in "${SIZES[@]}"; do
			[ -e "$LOGS/$n.k$s" ] && continue
			if [ -r "$KLOGS/$n.k$s.strace" ]; then
				sed -e "s|STAGE|$STAGE|g" "$KLOGS/$n.k$s.strace" >"$LOGS/$n.k$s"
			else
				bad "$KLOGS/$n.k$s.strace is missing (BPFEMU_UPDATE_EXPECTED=kernel as root)"
			fi
		done
	done

	# replays of the kernel's logs (no instructions, BTF cut at -s 32, no
	# test run output, no data: inferred)
	for n in "${SCEN[@]}"; do
		for s in "${SIZES[@]}"; do
			[ -e "$LOGS/$n.k$s" ] || continue
			case $n in
			progs) replay_clean "$LOGS/$n.k$s" "$PROGS_ENGINE|$TESTRUN" ;;
			skel) if [ "$VM" = 1 ]; then replay_clean "$LOGS/$n.k$s"; else replay_clean "$LOGS/$n.k$s" "$TESTRUN"; fi ;;
			*) replay_clean "$LOGS/$n.k$s" ;;
			esac
		done
	done

	# our trace lines against strace's: the tools where they were traced on
	# this kernel now (their run under the shim depends on the host's vmlinux
	# BTF), the rest against the stored logs on any host
	for n in "${SCEN[@]}"; do
		case $n in
		progs | skel | bpftool) ;;
		*)
			if [[ " ${LIVE[*]} " != *" $n "* ]]; then
				say "$n: trace lines not compared (not traced on this kernel now)"
				continue
			fi
			;;
		esac
		for s in "${SIZES[@]}"; do
			[ -e "$LOGS/$n.k$s" ] || continue
			k="$LOGS/$n.k$s.norm" e="$LOGS/$n.emu$s.norm" why=
			normalize "$LOGS/$n.k$s" | cut_after "$n" /dev/stdin >"$k"
			normalize "$LOGS/$n.emu$s" | cut_after "$n" /dev/stdin >"$e"
			case $n in
			progs)
				# results the engine answers otherwise by design: the calls' words still compared
				why="results of $PROGS_ENGINE|$TESTRUN not compared"
				sed -i -E "/$PROGS_ENGINE|$TESTRUN/s/\) = .*/) = R/" "$k" "$e"
				;;
			skel)
				if [ "$VM" = 0 ]; then
					why="up to the first test run (the engine has no VM yet)"
					for f in "$k" "$e"; do
						sed -i -n "/BPF_PROG_TEST_RUN/{s/) = .*/) = R/;p;q};p" "$f"
					done
				fi
				;;
			bpftool) ;;
			*) why="up to the last attach call (then the kernel's programs had fired)" ;;
			esac
			if diff -u --label "kernel strace -s $s: $n" --label "bpfemu trace -s $s: $n" "$k" "$e" >"$LOGS/$n.$s.diff"; then
				say "$n -s $s: $(wc -l <"$e") lines identical to strace on the kernel${why:+ ($why)}"
			else
				cat "$LOGS/$n.$s.diff"
				bad "$n -s $s: the trace differs from strace on the kernel"
			fi
		done
	done
fi

[ "$FAILS" -eq 0 ] || fail "$FAILS check(s) failed"
say "trace_whole: all checks passed"
