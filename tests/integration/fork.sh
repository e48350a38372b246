#!/usr/bin/env bash
# tests/integration/fork.sh emu|kernel
#
# A process creates a map and forks; the child updates the map through the
# fd it inherited, the parent sees the update after the child exits.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

[ "${1:-}" != diff ] || { echo "usage: $0 emu|kernel" >&2; exit 2; }
itest_init "${1:-}" itest_helper
say "itest_helper fork ($MODE)"
in_mode "$MODE" "$STAGE/itest_helper" fork 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "fork test failed"
say "a forked child shares the map ($MODE)"
exit 0
