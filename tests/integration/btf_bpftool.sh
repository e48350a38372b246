#!/usr/bin/env bash
# tests/integration/btf_bpftool.sh emu|kernel|diff
#
# btf_maps (libbpf: BTF built with btf__add_*, loaded, a HASH and a
# bpf_spin_lock ARRAY created with it and pinned), then bpftool's BTF views of
# them: btf list (our BTF's line), btf dump id (raw and C), btf dump map, map
# dump (plain and -j) with BTF-formatted values. In diff mode the transcripts
# from bpfemu (as nobody) and from the kernel (as root) must be identical
# once ids are normalized.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" btf_maps

session() {
	local m=$1 id
	in_mode "$m" "$STAGE/btf_maps" /sys/fs/bpf || return 1
	id=$(in_mode "$m" bpftool -j map show pinned /sys/fs/bpf/btf_hash | sed -E 's/.*"btf_id":([0-9]+).*/\1/')
	[ -n "$id" ] || return 1
	echo "-- btf list (our btf)"
	in_mode "$m" bpftool btf list | grep -E "^$id: " | sed -E 's/^[0-9]+:/N:/; s/map_ids [0-9,]+/map_ids M/'
	echo "-- btf dump id"
	in_mode "$m" bpftool btf dump id "$id"
	echo "-- btf dump id format c"
	in_mode "$m" bpftool btf dump id "$id" format c
	echo "-- btf dump map"
	in_mode "$m" bpftool btf dump map pinned /sys/fs/bpf/btf_hash
	# a hash dump lists keys in the hash's order, which differs (our hash is
	# not jhash and the kernel's is seeded): dump keys one by one instead
	local k
	for k in 1 2; do
		echo "-- map lookup key $k"
		in_mode "$m" bpftool map lookup pinned /sys/fs/bpf/btf_hash key $k 0 0 0
		echo "-- map lookup -j key $k"
		in_mode "$m" bpftool -j map lookup pinned /sys/fs/bpf/btf_hash key $k 0 0 0
	done
	echo "-- map dump (element count)"
	in_mode "$m" bpftool map dump pinned /sys/fs/bpf/btf_hash | grep -c '"key":'
	echo "-- lock map dump"
	in_mode "$m" bpftool map dump pinned /sys/fs/bpf/btf_lock
	echo "-- map show"
	in_mode "$m" bpftool map show pinned /sys/fs/bpf/btf_hash | sed -E 's/^[0-9]+:/N:/; s/btf_id [0-9]+/btf_id B/; s/memlock [0-9]+B/memlock MB/'
}

run() {
	local m=$1 out=$2
	say "btf_bpftool ($m)"
	session "$m" >"$out" 2>&1 || { cat "$out"; fail "btf session ($m) failed"; }
	cat "$out"
	grep -q '^locked lookup: lock 0 n 5$' "$out" || fail "($m) locked lookup line missing"
	grep -q '"name": "elem2"' "$out" || fail "($m) BTF-formatted dump missing"
	grep -q '^struct val {$' "$out" || fail "($m) C dump missing"
}

kernel_needs map hash array
twin "btf_bpftool transcript" btf_bpftool run
exit 0
