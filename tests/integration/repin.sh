#!/usr/bin/env bash
# tests/integration/repin.sh diff
#
# Pin a map, unlink the pin, pin the same fd again (by path and through a
# directory fd): the kernel answers 0 every time. Transcripts compared.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" repin
run() {
	say "$1: repin"
	in_mode "$1" "$STAGE/repin" >"$2" 2>&1 || fail "repin ($1)"
	sed 's/^/  /' "$2"
	grep -q "pin a again: ok" "$2" || fail "pinning an unpinned fd again failed ($1)"
}
kernel_needs map hash array
twin "pin, unlink, pin again" repin run
exit 0
