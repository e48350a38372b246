#!/usr/bin/env bash
# tests/integration/bpftool_maptypes.sh emu|kernel|diff
#
# Debian's bpftool on the map types of issue 3: create, update, lookup, dump,
# push, pop, peek, enqueue, dequeue on PERCPU_HASH, PERCPU_ARRAY, LRU_HASH,
# LRU_PERCPU_HASH, LPM_TRIE, QUEUE, STACK and BLOOM_FILTER, then map show.
#   emu     under `bpfemu run` as user nobody
#   kernel  on the real bpf() as root (checks the expectations themselves)
#   diff    both; the transcripts must be identical once ids are normalized
#           (memlock is compared as is: the engine computes the kernel's)
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}"
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || skip "bpftool is not installed (apt-get install bpftool)"
P=/sys/fs/bpf
NCPUS=$(awk -F, '{n=0; for (i=1;i<=NF;i++) { split($i,r,"-"); n += (r[2]=="" ? 1 : r[2]-r[1]+1) } print n}' \
	/sys/devices/system/cpu/possible)

# hash dumps list keys in bucket order, which depends on the hash function
sorted() { sort; }
# the maps of this session only (a kernel has others)
# (bpftool 7.1's listing repeats the btf_id of the last map with BTF on every
# map after it: other tests' maps on the kernel leave one; ours have none)
ours() {
	awk '/^[0-9]+: /{keep = / name (pch|pca|lru|lrup|lpm|q|st|bf) /} keep' |
		sed -E '/^\tbtf_id [0-9]+$/d; s/^\tbtf_id [0-9]+  /\t/'
}

session() {
	local m=$1 before=$FAILS i
	TRANSCRIPT=$STAGE/transcript.$m
	: >"$TRANSCRIPT"
	say "bpftool map types ($m)"

	step "$m" "$BPFTOOL" map create $P/pch type percpu_hash key 4 value 4 entries 8 name pch
	ok "create percpu_hash"
	step "$m" "$BPFTOOL" map update pinned $P/pch key 1 0 0 0 value 7 0 0 0
	ok "update percpu_hash"
	step "$m" "$BPFTOOL" map lookup pinned $P/pch key 1 0 0 0
	ok "lookup percpu_hash"
	count "lookup percpu_hash" '^value \(CPU [0-9]+\): 07 00 00 00$' "$NCPUS"
	step "$m" "$BPFTOOL" map dump pinned $P/pch
	ok "dump percpu_hash"
	has "dump percpu_hash" '^Found 1 element$'

	step "$m" "$BPFTOOL" map create $P/pca type percpu_array key 4 value 4 entries 2 name pca
	ok "create percpu_array"
	step "$m" "$BPFTOOL" map update pinned $P/pca key 1 0 0 0 value 9 0 0 0
	ok "update percpu_array"
	step "$m" "$BPFTOOL" map dump pinned $P/pca
	ok "dump percpu_array"
	count "dump percpu_array" '^value \(CPU [0-9]+\): 09 00 00 00$' "$NCPUS"
	count "dump percpu_array" '^value \(CPU [0-9]+\): 00 00 00 00$' "$NCPUS"
	has "dump percpu_array" '^Found 2 elements$'

	# a full LRU map evicts its oldest keys instead of failing
	step "$m" "$BPFTOOL" map create $P/lru type lru_hash key 4 value 4 entries 4 name lru
	ok "create lru_hash"
	for i in 1 2 3 4 5 6; do
		step "$m" taskset -c 0 "$BPFTOOL" map update pinned $P/lru key $i 0 0 0 value $i 0 0 0
		ok "update lru_hash key $i"
	done
	FILTER=sorted step "$m" "$BPFTOOL" map dump pinned $P/lru
	ok "dump lru_hash"
	has "dump lru_hash" '^key: 06 00 00 00  value: 06 00 00 00$'
	has "dump lru_hash" '^Found 4 elements$'
	step "$m" "$BPFTOOL" map lookup pinned $P/lru key 1 0 0 0
	nok "lookup evicted lru key"

	step "$m" "$BPFTOOL" map create $P/lrup type lru_percpu_hash key 4 value 8 entries 16 name lrup flags 2
	ok "create lru_percpu_hash no_common_lru"
	step "$m" "$BPFTOOL" map update pinned $P/lrup key 3 0 0 0 value 1 2 3 4 5 6 7 8
	ok "update lru_percpu_hash"
	step "$m" "$BPFTOOL" map lookup pinned $P/lrup key 3 0 0 0
	count "lookup lru_percpu_hash" '^value \(CPU [0-9]+\): 01 02 03 04 05 06 07 08$' "$NCPUS"

	step "$m" "$BPFTOOL" map create $P/lpm type lpm_trie key 8 value 4 entries 16 name lpm flags 1
	ok "create lpm_trie"
	step "$m" "$BPFTOOL" map update pinned $P/lpm key 16 0 0 0 192 168 0 0 value 1 0 0 0
	ok "update lpm /16"
	step "$m" "$BPFTOOL" map update pinned $P/lpm key 24 0 0 0 192 168 1 0 value 2 0 0 0
	ok "update lpm /24"
	step "$m" "$BPFTOOL" map lookup pinned $P/lpm key 32 0 0 0 192 168 1 9
	ok "lookup lpm"
	has "lookup lpm" 'value: 02 00 00 00$'
	step "$m" "$BPFTOOL" map lookup pinned $P/lpm key 32 0 0 0 192 168 7 9
	has "lookup lpm /16" 'value: 01 00 00 00$'
	step "$m" "$BPFTOOL" map dump pinned $P/lpm
	ok "dump lpm"
	has "dump lpm" '^key: 18 00 00 00 c0 a8 01 00  value: 02 00 00 00$'

	step "$m" "$BPFTOOL" map create $P/q type queue key 0 value 4 entries 2 name q
	ok "create queue"
	step "$m" "$BPFTOOL" map enqueue pinned $P/q value 1 0 0 0
	ok "enqueue"
	step "$m" "$BPFTOOL" map push pinned $P/q value 2 0 0 0
	ok "push queue"
	step "$m" "$BPFTOOL" map push pinned $P/q value 3 0 0 0
	nok "push full queue"
	has "push full queue" 'Argument list too long'
	step "$m" "$BPFTOOL" map peek pinned $P/q
	has "peek queue" '^value: 01 00 00 00$'
	step "$m" "$BPFTOOL" map dequeue pinned $P/q
	has "dequeue" '^value: 01 00 00 00$'
	step "$m" "$BPFTOOL" map pop pinned $P/q
	has "pop queue" '^value: 02 00 00 00$'
	step "$m" "$BPFTOOL" map pop pinned $P/q
	nok "pop empty queue"

	step "$m" "$BPFTOOL" map create $P/st type stack key 0 value 4 entries 2 name st
	ok "create stack"
	step "$m" "$BPFTOOL" map push pinned $P/st value 1 0 0 0
	step "$m" "$BPFTOOL" map push pinned $P/st value 2 0 0 0
	ok "push stack"
	step "$m" "$BPFTOOL" map peek pinned $P/st
	has "peek stack" '^value: 02 00 00 00$'
	step "$m" "$BPFTOOL" map pop pinned $P/st
	has "pop stack" '^value: 02 00 00 00$'
	step "$m" "$BPFTOOL" map pop pinned $P/st
	has "pop stack again" '^value: 01 00 00 00$'

	step "$m" "$BPFTOOL" map create $P/bf type bloom_filter key 0 value 4 entries 16 name bf
	ok "create bloom_filter"
	step "$m" "$BPFTOOL" map push pinned $P/bf value 5 0 0 0
	ok "push bloom_filter"

	FILTER=ours step "$m" "$BPFTOOL" map show
	ok "map show"
	has "map show" 'percpu_hash  name pch  flags 0x0$'
	has "map show" 'lpm_trie  name lpm  flags 0x1$'
	has "map show" 'lru_percpu_hash  name lrup  flags 0x2$'
	has "map show" 'bloom_filter  name bf  flags 0x0$'
	step "$m" "$BPFTOOL" -j map show pinned $P/bf
	ok "-j map show bloom"
	has "-j map show bloom" '"type":"bloom_filter","name":"bf","flags":0,"bytes_key":0,"bytes_value":4,"max_entries":16'
	if [ "$FAILS" -eq "$before" ]; then
		say "bpftool map types ($m): all checks passed"
	else
		say "bpftool map types ($m): $((FAILS - before)) check(s) failed"
	fi
}

normalize() { sed -E -e 's/"id":[0-9]+/"id":ID/; s/^[0-9]+: /ID: /' "$1"; }

run() {
	session "$1"
	normalize "$STAGE/transcript.$1" >"$2"
}
kernel_needs map percpu_hash percpu_array lru_hash lru_percpu_hash lpm_trie queue stack bloom_filter
twin "bpftool map types" bpftool_maptypes run
[ "$FAILS" -eq 0 ] || fail "$FAILS check(s) failed"
exit 0
