# shellcheck shell=bash
# tests/integration/common.sh: helpers sourced by the integration tests.
#
# A test calls itest_init MODE, where MODE is
#   emu     run under `bpfemu run` (as user nobody when we are root)
#   kernel  run on the real bpf() as root, in a private mount namespace with a
#           fresh bpffs on /sys/fs/bpf (exit 77 = skipped without root/bpf())
#   diff    both, for tests that compare transcripts
# and then runs commands with `in_mode MODE CMD...` (or `emu`/`kern`).
#
# Paths come from CTest's environment (tests/integration/CMakeLists.txt):
#   BPFEMU_CLI  the bpfemu binary      BPFEMU_SO  libbpfemu.so
#   ITEST_BIN   the directory with the compiled helpers (libbpf_maps, itest_helper)
# Run by hand, they default to the build dir `build/` of this checkout.
#
# The checkout may live where nobody cannot read (/root), so everything that
# runs as nobody is first copied to a fresh 0755 directory in /tmp (STAGE).

set -uo pipefail

ITEST_NAME=$(basename "$0" .sh)
ITEST_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ITEST_DIR=$(cd "$(dirname "$0")" && pwd)        # the test's own directory (expected/ is there)
: "${BPFEMU_BUILD_DIR:=$ITEST_SRC/../../build}"
: "${BPFEMU_CLI:=$BPFEMU_BUILD_DIR/tools/bpfemu}"
: "${BPFEMU_SO:=$BPFEMU_BUILD_DIR/preload/libbpfemu.so}"
: "${ITEST_BIN:=$BPFEMU_BUILD_DIR/tests/integration}"
NOBODY_UID=65534
NOBODY_GID=65534

say() { printf '== %s\n' "$*"; }
fail() {
	printf 'FAIL: %s: %s\n' "$ITEST_NAME" "$*"
	exit 1
}
# skip_log WHO WHY: one line in $BPFEMU_SKIP_LOG (tools/check's summary counts them)
skip_log() {
	[ -n "${BPFEMU_SKIP_LOG:-}" ] || return 0
	printf '%s: skipped: %s\n' "$1" "$2" >>"$BPFEMU_SKIP_LOG"
}
skip() {
	printf 'SKIP: %s: %s\n' "$ITEST_NAME" "$*"
	skip_log "$ITEST_NAME${MODE:+.$MODE}" "$*"
	exit 77
}
is_root() { [ "$(id -u)" = 0 ]; }

STAGE=
KPID=
itest_cleanup() {
	if [ -n "$KPID" ]; then
		kill "$KPID" 2>/dev/null
		wait "$KPID" 2>/dev/null
	fi
	[ -n "$STAGE" ] && rm -rf -- "$STAGE"
}
trap itest_cleanup EXIT

# Copies the bpfemu binary, the library and the named helpers into STAGE and
# makes a state root (STATE) that the user running the tests owns.
stage() {
	local f
	STAGE=$(mktemp -d /tmp/bpfemu-itest.XXXXXX) || fail "mktemp"
	chmod 755 "$STAGE"
	for f in "$BPFEMU_CLI" "$BPFEMU_SO"; do
		[ -r "$f" ] || fail "$f is missing: build first (cmake --build build)"
		cp -- "$f" "$STAGE/" || fail "cp $f"
	done
	for f in "$@"; do
		[ -x "$ITEST_BIN/$f" ] || fail "$ITEST_BIN/$f is missing: build first"
		cp -- "$ITEST_BIN/$f" "$STAGE/" || fail "cp $f"
	done
	chmod 755 "$STAGE"/*
	STATE=$STAGE/state
	mkdir -m 700 "$STATE"
	if is_root; then
		chown "$NOBODY_UID:$NOBODY_GID" "$STATE"
		EMU_USER=nobody
	else
		EMU_USER=$(id -un)
	fi
}

# CMD as nobody (when root; as ourselves otherwise), from / so that an
# unreadable working directory does not matter.
as_user() {
	if is_root; then
		(cd / && exec setpriv --reuid=$NOBODY_UID --regid=$NOBODY_GID --clear-groups \
			env HOME=/ USER=nobody LOGNAME=nobody "$@")
	else
		(cd / && exec "$@")
	fi
}

# CMD under the shim with the test's private state root (and BPFEMU_CPUS when
# EMU_CPUS is set: twin's runs against the expected transcripts).
emu() {
	as_user env BPFEMU_ROOT="$STATE" ${EMU_CPUS:+BPFEMU_CPUS=$EMU_CPUS} BPFEMU_LIB="$STAGE/libbpfemu.so" \
		"$STAGE/bpfemu" run -- "$@"
}

# A new empty state root for the next emulated run.
fresh_state() {
	STATE=$(mktemp -d "$STAGE/state.XXXXXX") || fail "mktemp"
	chmod 700 "$STATE"
	if is_root; then
		chown "$NOBODY_UID:$NOBODY_GID" "$STATE"
	fi
}

# Why the kernel side cannot run here ("" = it can). In kernel mode a reason
# skips the test (exit 77); in diff mode the engine's side still runs and is
# checked against the expected transcript (see twin below).
KERNEL_WHY=
kernel_off() {
	KERNEL_WHY=$1
	skip_log "$ITEST_NAME${MODE:+.$MODE}" "kernel side: $1"
	[ "$MODE" = kernel ] && skip "$1"
	say "kernel side skipped: $1"
	return 1
}
kernel_on() { [ -z "$KERNEL_WHY" ] && [ -n "$KPID" ]; }

# Starts a process holding a private mount namespace with a fresh bpffs on
# /sys/fs/bpf; `kern CMD` then runs CMD as root inside it. Without root, the
# tools, a working bpf() or a bpffs mount, the kernel side is off (kernel_off).
kernel_start() {
	local i
	is_root || { kernel_off "not root (the real bpf() and a bpffs mount need it)"; return; }
	for i in unshare nsenter mount; do
		command -v "$i" >/dev/null || { kernel_off "$i is not installed"; return; }
	done
	"$STAGE/itest_helper" probe >/dev/null 2>&1 || { kernel_off "the host's bpf() does not work"; return; }
	unshare -m --propagation private sh -c \
		'mount -t bpf bpf /sys/fs/bpf && : > "$1" && exec sleep 100000' sh "$STAGE/kready" 2>/dev/null &
	KPID=$!
	for i in $(seq 100); do
		[ -e "$STAGE/kready" ] && return 0
		if ! kill -0 "$KPID" 2>/dev/null; then
			KPID=
			kernel_off "cannot mount bpffs in a private mount namespace"
			return
		fi
		sleep 0.05
	done
	fail "bpffs mount in a private namespace timed out"
}

# kernel_needs map|prog TYPE...: the kernel side needs these map or program
# types (tests/common/hostprobe.h names); a host that refuses one turns the
# kernel side off with its reason.
kernel_needs() {
	local why
	kernel_on || return 0
	why=$("$STAGE/itest_helper" need "$@") && return 0
	[ -n "$why" ] || fail "itest_helper need $*: failed"
	kernel_off "$why"
}
kern() { (cd / && exec nsenter -t "$KPID" -m -- "$@"); }

# in_mode emu|kernel CMD...
in_mode() {
	local m=$1
	shift
	case $m in
	emu) emu "$@" ;;
	kernel) kern "$@" ;;
	*) fail "in_mode: unknown mode $m" ;;
	esac
}

# itest_init MODE [HELPER...]: checks MODE, stages bpfemu, the library and
# the named helpers (plus itest_helper, the bpf() probe, when MODE runs on the
# kernel) and starts the kernel namespace when MODE needs it.
itest_init() {
	local helpers
	MODE=${1:-}
	shift || true
	helpers=("$@")
	[ "$MODE" = emu ] || helpers+=(itest_helper)
	case $MODE in
	emu | kernel | diff) ;;
	*)
		echo "usage: $0 emu|kernel|diff" >&2
		exit 2
		;;
	esac
	stage "${helpers[@]}"
	if [ "$MODE" != emu ]; then
		kernel_start
	fi
	if [ "$MODE" != kernel ]; then
		say "emulated runs: as $EMU_USER, BPFEMU_ROOT=$STATE, binaries staged in $STAGE"
	fi
	if [ "$MODE" != emu ] && kernel_on; then
		say "kernel runs: as root, real bpf(), fresh bpffs in a private mount namespace"
	fi
}

# kernel_session WHAT KEEP REFUSED WHY: diff mode's kernel half of a test
# whose `session RUNNER` prints a transcript: the same session as root in a
# private mount namespace into $STAGE/kernel.out (copied to KEEP.kernel when
# KEEP is set), a skip with WHY when a line of it matches REFUSED (the host
# refuses the feature; the expected transcript still checked the engine),
# else identical to $STAGE/emu.out.
kernel_session() {
	local what=$1 keep=$2 refused=$3 why=$4
	is_root || skip "the kernel comparison needs root"
	command -v unshare >/dev/null || skip "unshare is not installed"
	say "the same session on the kernel: root, a private mount namespace"
	# shellcheck disable=SC2317 # called through session
	krun() { (cd / && unshare -m --propagation private "$@"); }
	session krun >"$STAGE/kernel.out" 2>&1
	[ -n "$keep" ] && cp "$STAGE/kernel.out" "$keep.kernel"
	grep -q -- "$refused" "$STAGE/kernel.out" && skip "$why"
	same_or_fail "$what" "$STAGE/kernel.out" "$STAGE/emu.out"
}

# ---- sessions that print what they ran and check as they go ----

# step MODE CMD...: runs CMD, prints "$ CMD", its output and exit status;
# leaves them in OUT and RC and appends them to TRANSCRIPT (through the
# function named by FILTER, if set).
step() {
	local m=$1 shown tout
	shift
	shown="$*"
	shown=${shown/#$BPFTOOL/bpftool}
	[ "$m" = emu ] && shown="bpfemu run -- $shown"
	OUT=$(in_mode "$m" "$@" 2>&1)
	RC=$?
	printf '$ %s\n' "$shown"
	[ -n "$OUT" ] && printf '%s\n' "$OUT"
	printf '[exit %d]\n' "$RC"
	tout=$OUT
	[ -n "${FILTER:-}" ] && tout=$("$FILTER" <<<"$OUT")
	{
		printf '$ %s\n' "${shown#bpfemu run -- }"
		[ -n "$tout" ] && printf '%s\n' "$tout"
		printf '[exit %d]\n' "$RC"
	} >>"$TRANSCRIPT"
}

# bpftool_step MODE ARGS...: runs bpftool ARGS, appends "$ bpftool ARGS",
# its output (dumps sorted, then through the script's `normalize`) and exit
# status to TRANSCRIPT.
bpftool_step() {
	local m=$1 out rc
	shift
	out=$(in_mode "$m" "$BPFTOOL" "$@" 2>&1)
	rc=$?
	case " $* " in
	*" dump "*) out=$(sort_dump <<<"$out") ;;
	esac
	printf '$ bpftool %s\n%s\n[exit %d]\n' "$*" "$(normalize <<<"$out")" "$rc" >>"$TRANSCRIPT"
}

# A failed check is reported and counted (FAILS); the session goes on so
# that one run shows every problem. The checks read OUT and RC of the last step.
FAILS=0
bad() {
	printf 'FAIL: %s\n' "$*"
	FAILS=$((FAILS + 1))
}
ok() { [ "$RC" -eq 0 ] || bad "$1: exit status $RC, expected 0"; }
nok() { [ "$RC" -ne 0 ] || bad "$1: succeeded, expected a failure"; }
has() { grep -qE -- "$2" <<<"$OUT" || bad "$1: output lacks /$2/"; }
lacks() { ! grep -qE -- "$2" <<<"$OUT" || bad "$1: output has /$2/"; }
count() { [ "$(grep -cE -- "$2" <<<"$OUT")" -eq "$3" ] || bad "$1: /$2/ not $3 times"; }

# Prints a unified diff of two files and fails if they differ.
same_or_fail() {
	local what=$1 a=$2 b=$3
	if diff -u --label "kernel: $what" --label "bpfemu: $what" "$a" "$b"; then
		say "$what: identical on the kernel and under bpfemu"
	else
		fail "$what differs between the kernel (-) and bpfemu (+)"
	fi
}

# bpftool dump output with its elements sorted: JSON lists by their JSON,
# text dumps by their key: lines (hash order is the hash function's).
sort_dump() {
	python3 -c '
import json, sys
s = sys.stdin.read()
try:
    v = json.loads(s)
    if isinstance(v, list):
        v = sorted(v, key=lambda e: json.dumps(e, sort_keys=True))
    print(json.dumps(v, sort_keys=True, indent=1))
except ValueError:
    lines = s.splitlines()
    body = sorted(l for l in lines if l.startswith("key:"))
    rest = [l for l in lines if not l.startswith("key:")]
    print("\n".join(body + rest))
'
}

# ---- kernel twins: expected transcripts ----
#
# The answers the engine must give live in the test: expected/NAME.txt beside
# the script, a transcript as Linux 6.18 gives it, recorded with
# EXPECTED_CPUS possible CPUs. The engine's run is compared with it on every
# host (with BPFEMU_CPUS=EXPECTED_CPUS); the kernel's run confirms it where the
# host shows the session (root, bpffs, the types it needs), else it is
# skipped with its reason. BPFEMU_UPDATE_EXPECTED=kernel (or engine, for a
# session the host kernel refuses) rewrites the file from that run.
EXPECTED_CPUS=2

host_cpus() {
	awk -F'[-,]' '{n=0; for (i=1;i<=NF;i+=2) n+=($(i+1)==""?1:$(i+1)-$i+1); print n}' \
		/sys/devices/system/cpu/possible 2>/dev/null || nproc
}

# expect_file WHAT EXPECTED ACTUAL: ACTUAL (staging paths replaced) must equal EXPECTED.
expect_file() {
	local what=$1 exp=$2 act=$3
	sed -e "s|$STAGE|STAGE|g" "$act" >"$act.norm"
	if [ ! -e "$exp" ]; then
		fail "$what: no expected transcript $exp (write it with BPFEMU_UPDATE_EXPECTED=kernel, as root on a kernel that shows the session)"
	fi
	if diff -u --label "expected: $what" --label "actual: $what" "$exp" "$act.norm"; then
		say "$what: as expected ($(wc -l <"$exp") lines)"
	else
		fail "$what differs from the expected transcript (-) $exp"
	fi
}

# update_expected FROM FILE EXPECTED: BPFEMU_UPDATE_EXPECTED=FROM rewrites EXPECTED.
update_expected() {
	[ "${BPFEMU_UPDATE_EXPECTED:-}" = "$1" ] || return 0
	mkdir -p "$(dirname "$3")"
	sed -e "s|$STAGE|STAGE|g" "$2" >"$3"
	say "wrote $3 from the $1's run"
}

# twin WHAT NAME RUN: the comparison at the end of a kernel twin. `RUN MODE
# FILE` writes MODE's (emu or kernel) normalized transcript to FILE.
twin() {
	local what=$1 name=$2 run=$3 exp hc
	exp=$ITEST_DIR/expected/$name.txt
	hc=$(host_cpus)
	if [ "$MODE" != kernel ]; then
		fresh_state
		EMU_CPUS=$EXPECTED_CPUS "$run" emu "$STAGE/$name.emu" || fail "$what: the emulated run failed"
		update_expected engine "$STAGE/$name.emu" "$exp"
	fi
	if [ "$MODE" != emu ] && kernel_on; then
		"$run" kernel "$STAGE/$name.kernel" || fail "$what: the kernel run failed"
		if [ "$hc" = "$EXPECTED_CPUS" ]; then
			update_expected kernel "$STAGE/$name.kernel" "$exp"
			expect_file "$what (kernel)" "$exp" "$STAGE/$name.kernel"
		else
			# another CPU count: the live cross-check against the engine with the host's
			say "the host has $hc possible CPUs, the expected transcript $EXPECTED_CPUS: kernel against bpfemu with $hc"
			fresh_state
			"$run" emu "$STAGE/$name.emu.host" || fail "$what: the emulated run failed"
			same_or_fail "$what" "$STAGE/$name.kernel" "$STAGE/$name.emu.host"
		fi
	fi
	if [ "$MODE" != kernel ]; then
		expect_file "$what (bpfemu)" "$exp" "$STAGE/$name.emu"
	fi
}
