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
skip() {
	printf 'SKIP: %s: %s\n' "$ITEST_NAME" "$*"
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

# CMD under the shim with the test's private state root.
emu() {
	as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run -- "$@"
}

# Starts a process holding a private mount namespace with a fresh bpffs on
# /sys/fs/bpf; `kern CMD` then runs CMD as root inside it. Skips the test
# (exit 77) without root, the tools, or a working bpf().
kernel_start() {
	local i
	is_root || skip "the kernel comparison needs root (real bpf() and a bpffs mount)"
	for i in unshare nsenter mount; do
		command -v "$i" >/dev/null || skip "$i is not installed"
	done
	"$STAGE/itest_helper" probe >/dev/null 2>&1 || skip "the real bpf() does not work here"
	unshare -m --propagation private sh -c \
		'mount -t bpf bpf /sys/fs/bpf && : > "$1" && exec sleep 100000' sh "$STAGE/kready" &
	KPID=$!
	for i in $(seq 100); do
		[ -e "$STAGE/kready" ] && return 0
		kill -0 "$KPID" 2>/dev/null || skip "cannot mount bpffs in a private mount namespace"
		sleep 0.05
	done
	fail "bpffs mount in a private namespace timed out"
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
	if [ "$MODE" != emu ]; then
		say "kernel runs: as root, real bpf(), fresh bpffs in a private mount namespace"
	fi
}

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
