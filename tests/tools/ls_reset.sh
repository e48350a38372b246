#!/bin/bash
# tests/tools/ls_reset.sh MODE: `bpfemu ls` after a load, an update and a
# freeze (emu; diff compares with the kernel), then `bpfemu reset` (emu).
# shellcheck source=../integration/common.sh
. "$(dirname "$0")/../integration/common.sh"
: "${TOOLS_OBJ:=$BPFEMU_BUILD_DIR/tests/tools}"

itest_init "${1:-}"
cp "$TOOLS_OBJ/legacy_maps.o" "$STAGE/" && chmod 644 "$STAGE/legacy_maps.o" || fail "cp legacy_maps.o"

bpfemu_in() {
	local m=$1
	shift
	case $m in
	emu) as_user env BPFEMU_ROOT="$STATE" ${EMU_CPUS:+BPFEMU_CPUS=$EMU_CPUS} BPFEMU_LIB="$STAGE/libbpfemu.so" \
		"$STAGE/bpfemu" "$@" ;;
	kernel) kern "$STAGE/bpfemu" "$@" ;;
	esac
}
tool_in() {
	local m=$1
	shift
	case $m in
	emu) emu "$@" ;;
	kernel) kern "$@" ;;
	esac
}

# session MODE: prints the ls output (ids replaced) after checking it
session() {
	local m=$1 out
	bpfemu_in "$m" load "$STAGE/legacy_maps.o" >/dev/null || fail "$m: load"
	tool_in "$m" bpftool map update pinned /sys/fs/bpf/legacy_maps/flows \
		key 1 0 0 0 0 0 0 0 value 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 || fail "$m: update flows"
	tool_in "$m" bpftool map update pinned /sys/fs/bpf/legacy_maps/flows \
		key 2 0 0 0 0 0 0 0 value 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 || fail "$m: update flows"
	tool_in "$m" bpftool map freeze pinned /sys/fs/bpf/legacy_maps/stats || fail "$m: freeze stats"
	out=$(bpfemu_in "$m" ls /sys/fs/bpf/legacy_maps) || fail "$m: ls"
	printf '%s\n' "$out" >&2
	grep -qx '|-- flows  map hash id=[0-9]* name=flows key=8 value=16 max_entries=256 flags=0x0 entries=2' <<<"$out" ||
		fail "$m: ls: flows line"
	grep -qx '`-- stats  map array id=[0-9]* name=stats key=4 value=8 max_entries=4 flags=0x0 entries=4 frozen' <<<"$out" ||
		fail "$m: ls: stats line"
	printf '%s\n' "$out" | sed -E 's/id=[0-9]+/id=ID/'
	out=$(bpfemu_in "$m" ls --json /sys/fs/bpf/legacy_maps) || fail "$m: ls --json"
	printf '%s\n' "$out" >&2
	grep -q '"name":"flows","path":"/sys/fs/bpf/legacy_maps/flows","kind":"map","type":"hash","id":[0-9]*,"obj_name":"flows","key_size":8,"value_size":16,"max_entries":256,"map_flags":0,"entries":2,"frozen":false' <<<"$out" ||
		fail "$m: ls --json: flows"
	grep -q '"entries":4,"frozen":true' <<<"$out" || fail "$m: ls --json: stats"
	printf '%s\n' "$out" | sed -E 's/"id":[0-9]+/"id":ID/g'
	bpfemu_in "$m" ls /sys/fs/bpf/legacy_maps/nothing >/dev/null 2>&1 && fail "$m: ls of a missing path succeeded"
	echo "missing: rc=$?"
}

if [ "$MODE" = diff ]; then
	run() { session "$1" >"$2"; }
	kernel_needs map hash array
	twin "bpfemu ls" ls_reset run
	say PASS
	exit 0
fi

session emu >/dev/null
# the state root must sit in a directory nobody may change, to be removable
mkdir -m 755 "$STAGE/home" && chown "$NOBODY_UID" "$STAGE/home" 2>/dev/null
mv "$STATE" "$STAGE/home/state" || fail "mv state"
STATE=$STAGE/home/state
say "reset without --yes and without a terminal refuses"
out=$(as_user env BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" reset </dev/null 2>&1)
rc=$?
[ "$rc" = 2 ] || fail "reset without --yes: exit $rc, want 2 ($out)"
grep -q 'stdin is not a terminal: pass --yes' <<<"$out" || fail "reset message: $out"
[ -d "$STATE/bpffs/legacy_maps" ] || fail "reset without --yes removed something"
say "reset refuses a directory that is not a state root"
mkdir -m 755 "$STAGE/notroot" && : >"$STAGE/notroot/keep" && chown -R "$NOBODY_UID" "$STAGE/notroot" 2>/dev/null
out=$(as_user "$STAGE/bpfemu" reset --root "$STAGE/notroot" --yes 2>&1)
rc=$?
[ "$rc" = 1 ] && [ -e "$STAGE/notroot/keep" ] || fail "reset of a non-state-root: exit $rc ($out)"
say "reset --yes removes the state root"
out=$(as_user env BPFEMU_ROOT="$STATE" "$STAGE/bpfemu" reset --yes </dev/null 2>&1) || fail "reset --yes: $out"
echo "$out"
grep -qx "bpfemu: reset: removed $STATE (2 pins)" <<<"$out" || fail "reset output: $out"
[ -e "$STATE" ] && fail "reset --yes left $STATE"
say PASS
