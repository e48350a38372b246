#!/usr/bin/env bash
# tests/integration/bpftool_map.sh diff|emu|kernel
#
# Every `bpftool map` subcommand of Debian's bpftool (v7.1) on every map type
# the engine has, plain, -j, -p and -f, on the kernel (as root, private bpffs)
# and under bpfemu (as nobody): both transcripts must equal
# expected/bpftool_map.txt once ids and memlock are normalized and hash dumps
# sorted (the kernel's jhash and ours order buckets differently).
#
# A map type is one line of MAP_TYPES: name, create arguments, one key, a
# second key, a value. Types added to the engine later are one line each.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}"
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || skip "bpftool is not installed (apt-get install bpftool)"

#          name   create arguments                              key1         key2         value
MAP_TYPES=(
	"hash  |type hash key 4 value 8 entries 4 name m_hash     |1 0 0 0     |2 0 0 0     |7 0 0 0 0 0 0 0"
	"array |type array key 4 value 8 entries 4 name m_array   |1 0 0 0     |2 0 0 0     |7 0 0 0 0 0 0 0"
	"mmap  |type array key 4 value 4 entries 2 name m_mm flags 0x400|0 0 0 0 |1 0 0 0     |9 0 0 0"
)

# The kernel runs see /sys/fs/bpf twice in /proc/mounts (the host's bpffs and
# the private one stacked on it), so -f lists every pin twice there: one of each.
normalize() {
	sed -E -e 's/"id": ?[0-9]+/"id":ID/g; s/"bytes_memlock": ?[0-9]+/"bytes_memlock":MEMLOCK/g' \
		-e 's/^[0-9]+: /ID: /; s/memlock [0-9]+B/memlock MEMLOCK/' \
		-e 's/"pinned":\["([^"]*)","\1"\]/"pinned":["\1"]/' |
		awk '!(/^\tpinned / && $0 == prev) { print } { prev = $0 }'
}

session() {
	local m=$1 line name args k1 k2 v P
	TRANSCRIPT=$STAGE/transcript.$m
	: >"$TRANSCRIPT"
	say "bpftool map subcommands ($m)"
	for line in "${MAP_TYPES[@]}"; do
		IFS='|' read -r name args k1 k2 v <<<"$line"
		name=${name// /}
		P=/sys/fs/bpf/$name
		# shellcheck disable=SC2086
		{
			bpftool_step "$m" map create $P $args
			for f in "" -j -p -f "-f -j"; do bpftool_step "$m" $f map show pinned $P; done
			bpftool_step "$m" map list pinned $P
			bpftool_step "$m" map update pinned $P key $k1 value $v
			bpftool_step "$m" map update pinned $P key $k1 value $v noexist
			bpftool_step "$m" map update pinned $P key $k2 value $v exist
			bpftool_step "$m" map update pinned $P key $k2 value $v any
			for f in "" -j -p; do bpftool_step "$m" $f map lookup pinned $P key $k1; done
			bpftool_step "$m" map lookup pinned $P key 3 3 3 3
			bpftool_step "$m" map lookup pinned $P key 1
			for f in "" -j -p; do bpftool_step "$m" $f map dump pinned $P; done
			bpftool_step "$m" map delete pinned $P key $k2
			bpftool_step "$m" map delete pinned $P key $k2
			# from here on a hash holds one key: getnext does not depend on bucket order
			bpftool_step "$m" map getnext pinned $P key 3 3 3 3
			bpftool_step "$m" -j map getnext pinned $P
			bpftool_step "$m" map getnext pinned $P key $k1
			bpftool_step "$m" map pin pinned $P $P.2
			bpftool_step "$m" map show pinned $P.2
			for c in peek pop dequeue; do bpftool_step "$m" map $c pinned $P; done
			for c in push enqueue; do bpftool_step "$m" map $c pinned $P value $v; done
			bpftool_step "$m" map event_pipe pinned $P
			bpftool_step "$m" map freeze pinned $P
			bpftool_step "$m" -j map show pinned $P
			bpftool_step "$m" map update pinned $P key $k1 value $v
			bpftool_step "$m" map freeze pinned $P
			bpftool_step "$m" map dump pinned $P
		}
	done
}

run() {
	session "$1"
	mv "$STAGE/transcript.$1" "$2"
}
kernel_needs map hash array
twin "bpftool map subcommands" bpftool_map run
exit 0
