#!/usr/bin/env bash
# tests/integration/libbpf_maps.sh emu|kernel|diff
#
# Runs libbpf_maps (HASH and ARRAY through Debian's libbpf: create, update
# with BPF_ANY/NOEXIST/EXIST, lookup, get_next_key, delete, pin, obj_get with
# and without BPF_F_RDONLY/WRONLY, freeze, get_info_by_fd) and checks key
# lines of its transcript; in diff mode the transcripts from bpfemu (as nobody)
# and from the kernel (as root) must be identical.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" libbpf_maps

# Lines every correct run prints (the kernel's answers, checked on 6.x).
EXPECT=(
	'^update hash key 1 val 11 flags 1 +EEXIST$'
	'^update hash key 2 val 20 flags 2 +ENOENT$'
	'^update hash \(full\) key 5 val 50 flags 0 +E2BIG$'
	'^keys hash +4 keys, end ENOENT: 1 2 3 4$'
	'^lookup hash via pin key 1 +ok val 12$'
	'^lookup hash key 2 +ok val 21$'
	'^  same id as creator: yes$'
	'^update hash rdonly key 1 val 13 flags 0 +EPERM$'
	'^update hash frozen key 1 val 15 flags 0 +EPERM$'
	'^obj_get hash after unpin +ENOENT$'
	'^update array key 4 val 104 flags 0 +E2BIG$'
	'^delete array key 0 +EINVAL$'
	'^lookup array key 3 +ok val 203$'
	'^update array frozen key 3 val 303 flags 0 +EPERM$'
)

run() {
	local m=$1 out=$2 rc
	say "libbpf_maps ($m)"
	in_mode "$m" "$STAGE/libbpf_maps" /sys/fs/bpf >"$out" 2>&1
	rc=$?
	cat "$out"
	[ "$rc" -eq 0 ] || fail "libbpf_maps ($m) exited $rc"
	for re in "${EXPECT[@]}"; do
		if ! grep -qE -- "$re" "$out"; then
			printf 'FAIL: libbpf_maps (%s): no line matching /%s/\n' "$m" "$re"
			FAILS=$((FAILS + 1))
		fi
	done
	say "libbpf_maps ($m): expected lines checked"
}

FAILS=0
kernel_needs map hash array
twin "libbpf_maps transcript" libbpf_maps run
[ "$FAILS" -eq 0 ] || fail "$FAILS expected line(s) missing"
exit 0
