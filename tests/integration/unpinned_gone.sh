#!/usr/bin/env bash
# tests/integration/unpinned_gone.sh emu|kernel
#
# Process A creates a map without pinning it, prints its id X and exits; its
# exit closes the last fd, so afterwards MAP_GET_FD_BY_ID(X) fails with
# ENOENT and MAP_GET_NEXT_ID does not list X.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

[ "${1:-}" != diff ] || { echo "usage: $0 emu|kernel" >&2; exit 2; }
itest_init "${1:-}" itest_helper
say "A: itest_helper create-unpinned ($MODE)"
out=$(in_mode "$MODE" "$STAGE/itest_helper" create-unpinned 2>&1) || {
	printf '%s\n' "$out"
	fail "process A failed"
}
printf '  %s\n' "$out"
id=$(sed -n 's/^id \([0-9][0-9]*\)$/\1/p' <<<"$out")
[ -n "$id" ] || fail "process A printed no map id"

say "B: itest_helper gone $id ($MODE)"
in_mode "$MODE" "$STAGE/itest_helper" gone "$id" 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "map $id outlived its last fd"
say "an unpinned map is freed with its last fd ($MODE)"
exit 0
