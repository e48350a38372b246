# shellcheck shell=bash
# tests/seccomp/common_seccomp.sh: the integration helpers (tests/integration/
# common.sh) plus the seccomp door's binaries and runs.
# shellcheck source=tests/integration/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/common.sh"
: "${SECCOMP_BIN:=$BPFEMU_BUILD_DIR/tests/seccomp}"

# sc_stage BIN...: copies the door's test binaries into STAGE (after itest_init)
sc_stage() {
	local f
	for f in "$@"; do
		[ -x "$SECCOMP_BIN/$f" ] || skip "$SECCOMP_BIN/$f is not built ($f)"
		cp -- "$SECCOMP_BIN/$f" "$STAGE/" && chmod 755 "$STAGE/$f" || fail "cp $f"
	done
}

# emu_mode MODE CMD...: CMD under `bpfemu run --mode MODE` as nobody
emu_mode() {
	local m=$1
	shift
	as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run --mode "$m" -- "$@"
}
