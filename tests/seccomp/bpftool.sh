#!/usr/bin/env bash
# tests/seccomp/bpftool.sh emu
#
# Debian's bpftool (and coreutils on the fake /sys/fs/bpf) forced through
# the seccomp door (`bpfemu run --mode seccomp`) as nobody: the transcript of
# a session must be the one the same session gives through the preload
# (`--mode preload`), each in a fresh state root, byte for byte (ids and
# memlock included; one element per hash when the order would show): maps of several types, pins in directories, dumps,
# JSON, freeze, `-f` (pinned paths from /proc/mounts and a walk of the
# bpffs), fdinfo-based show, ls, mkdir, mv, rm.
# shellcheck source=tests/seccomp/common_seccomp.sh
. "$(dirname "$0")/common_seccomp.sh"

itest_init "${1:-}"
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || skip "bpftool is not installed (apt-get install bpftool)"

session() {
	local m=$1 out=$2
	STATE=$STAGE/state.$m
	mkdir -m 700 "$STATE"
	is_root && chown "$NOBODY_UID:$NOBODY_GID" "$STATE"
	: >"$out"
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		# shellcheck disable=SC2086
		set -- $line
		[ "$1" = bpftool ] && set -- "$BPFTOOL" "${@:2}"
		{
			printf '$ %s\n' "$line"
			emu_mode "$m" "$@" 2>&1
			printf '[exit %d]\n' "$?"
		} >>"$out"
	done <<'CMDS'
bpftool map create /sys/fs/bpf/demo type hash key 4 value 8 entries 1024 name demo
bpftool map update pinned /sys/fs/bpf/demo key 1 0 0 0 value 2 0 0 0 0 0 0 0
bpftool map update pinned /sys/fs/bpf/demo key 2 0 0 0 value 3 0 0 0 0 0 0 0
bpftool map lookup pinned /sys/fs/bpf/demo key 2 0 0 0
bpftool map delete pinned /sys/fs/bpf/demo key 1 0 0 0
bpftool map dump pinned /sys/fs/bpf/demo
bpftool -j map show pinned /sys/fs/bpf/demo
bpftool map getnext pinned /sys/fs/bpf/demo key 2 0 0 0
bpftool map lookup pinned /sys/fs/bpf/demo key 1 0 0 0
mkdir /sys/fs/bpf/dir
bpftool map create /sys/fs/bpf/dir/pcpu type percpu_array key 4 value 8 entries 4 name pcpu
bpftool map update pinned /sys/fs/bpf/dir/pcpu key 1 0 0 0 value 7 0 0 0 0 0 0 0
bpftool -j map lookup pinned /sys/fs/bpf/dir/pcpu key 1 0 0 0
bpftool map create /sys/fs/bpf/dir/q type queue value 4 entries 8 name q
bpftool map push pinned /sys/fs/bpf/dir/q value 5 0 0 0
bpftool map pop pinned /sys/fs/bpf/dir/q
bpftool map create /sys/fs/bpf/lpm type lpm_trie key 8 value 4 entries 16 name lpm flags 1
bpftool map update pinned /sys/fs/bpf/lpm key 24 0 0 0 10 0 0 0 value 1 0 0 0
bpftool map lookup pinned /sys/fs/bpf/lpm key 32 0 0 0 10 0 0 1
bpftool map show
bpftool -f map show
bpftool map freeze pinned /sys/fs/bpf/demo
bpftool map update pinned /sys/fs/bpf/demo key 1 0 0 0 value 3 0 0 0 0 0 0 0
bpftool map pin pinned /sys/fs/bpf/demo /sys/fs/bpf/dir/demo2
bpftool -f map show pinned /sys/fs/bpf/dir/demo2
ls -l --time-style=+ /sys/fs/bpf /sys/fs/bpf/dir
mv /sys/fs/bpf/dir/demo2 /sys/fs/bpf/demo3
stat -c %s:%F:%a /sys/fs/bpf/demo3 /sys/fs/bpf/dir
rm /sys/fs/bpf/demo /sys/fs/bpf/demo3 /sys/fs/bpf/lpm
rm -r /sys/fs/bpf/dir
bpftool map show pinned /sys/fs/bpf/demo
ls -a /sys/fs/bpf
CMDS
}

say "bpftool session through the preload"
session preload "$STAGE/preload.out"
say "bpftool session through the seccomp door"
session seccomp "$STAGE/seccomp.out"
cat "$STAGE/seccomp.out"
grep -q 'key: 02 00 00 00  value: 03 00 00 00 00 00 00 00' "$STAGE/seccomp.out" || fail "the dump lacks key 2"
grep -q 'pinned /sys/fs/bpf/dir/demo2' "$STAGE/seccomp.out" || fail "-f shows no pinned path"
if diff -u --label "preload" --label "seccomp" "$STAGE/preload.out" "$STAGE/seccomp.out"; then
	say "bpftool session: identical through the preload and the seccomp door"
else
	fail "the seccomp door's transcript differs from the preload's (-preload +seccomp)"
fi
exit 0
