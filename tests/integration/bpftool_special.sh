#!/usr/bin/env bash
# tests/integration/bpftool_special.sh diff|emu|kernel
#
# Debian's bpftool (v7.1) on the map types whose values are kernel objects
# (stack traces, devices, CPUs, sockets), on the cgroup storage, the ring
# buffers and the fd arrays: create, show, update, lookup, dump, delete and
# getnext, on the kernel (as root, private bpffs) and under bpfemu (as
# nobody). In diff mode the transcripts must be identical once ids and
# memlock are normalized and dumps sorted. Where the kernel refuses a value
# (a socket map given a number that is no socket in bpftool, a stack trace
# map any update) the error must be the same too.
#
# One line per type: name, create arguments, key1, key2, value.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}"
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
[ -x "$BPFTOOL" ] || skip "bpftool is not installed (apt-get install bpftool)"

MAP_TYPES=(
	"stack   |type stack_trace key 4 value 16 entries 4 name m_stack   |1 0 0 0 |2 0 0 0 |7 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
	"dev     |type devmap key 4 value 4 entries 4 name m_dev           |1 0 0 0 |2 0 0 0 |1 0 0 0"
	"devh    |type devmap_hash key 4 value 8 entries 4 name m_devh     |1 0 0 0 |2 0 0 0 |1 0 0 0 0 0 0 0"
	"cpu     |type cpumap key 4 value 4 entries 2 name m_cpu           |0 0 0 0 |1 0 0 0 |64 0 0 0"
	"cpu8    |type cpumap key 4 value 8 entries 2 name m_cpu8          |0 0 0 0 |1 0 0 0 |32 0 0 0 0 0 0 0"
	"sock    |type sockmap key 4 value 8 entries 2 name m_sock         |0 0 0 0 |1 0 0 0 |0 0 0 0 0 0 0 0"
	"sockh   |type sockhash key 4 value 4 entries 2 name m_sockh       |0 0 0 0 |1 0 0 0 |1 0 0 0"
	"rport   |type reuseport_sockarray key 4 value 8 entries 2 name m_rport|0 0 0 0 |1 0 0 0 |2 0 0 0 0 0 0 0"
	"xsk     |type xskmap key 4 value 4 entries 2 name m_xsk           |0 0 0 0 |1 0 0 0 |0 0 0 0"
	"cgs     |type cgroup_storage key 16 value 8 entries 0 name m_cgs  |1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0|1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0|5 0 0 0 0 0 0 0"
	"rb      |type ringbuf key 0 value 0 entries 4096 name m_rb        |       |       |"
	"urb     |type user_ringbuf key 0 value 0 entries 4096 name m_urb  |       |       |"
	"progs   |type prog_array key 4 value 4 entries 2 name m_progs     |0 0 0 0 |1 0 0 0 |0 0 0 0"
	"perf    |type perf_event_array key 4 value 4 entries 2 name m_perf|0 0 0 0 |1 0 0 0 |0 0 0 0"
	"cgarr   |type cgroup_array key 4 value 4 entries 2 name m_cgarr   |0 0 0 0 |1 0 0 0 |0 0 0 0"
)

normalize() {
	sed -E -e 's/"id": ?[0-9]+/"id":ID/g; s/"bytes_memlock": ?[0-9]+/"bytes_memlock":MEMLOCK/g' \
		-e 's/^[0-9]+: /ID: /; s/memlock [0-9]+B/memlock MEMLOCK/'
}

session() {
	local m=$1 line name args k1 k2 v P
	TRANSCRIPT=$STAGE/transcript.$m
	: >"$TRANSCRIPT"
	say "bpftool on socket, device, CPU, stack, storage, ring and fd maps ($m)"
	for line in "${MAP_TYPES[@]}"; do
		IFS='|' read -r name args k1 k2 v <<<"$line"
		name=${name// /}
		P=/sys/fs/bpf/$name
		# shellcheck disable=SC2086
		{
			bpftool_step "$m" map create $P $args
			for f in "" -j; do bpftool_step "$m" $f map show pinned $P; done
			bpftool_step "$m" map update pinned $P key $k1 value $v
			bpftool_step "$m" map update pinned $P key $k1 value $v noexist
			bpftool_step "$m" map update pinned $P key $k2 value $v exist
			bpftool_step "$m" map update pinned $P key $k2 value $v any
			for f in "" -j; do bpftool_step "$m" $f map lookup pinned $P key $k1; done
			bpftool_step "$m" map lookup pinned $P key 3 3 3 3
			for f in "" -j; do bpftool_step "$m" $f map dump pinned $P; done
			bpftool_step "$m" map delete pinned $P key $k2
			bpftool_step "$m" map delete pinned $P key $k2
			bpftool_step "$m" map getnext pinned $P key 3 3 3 3
			bpftool_step "$m" -j map getnext pinned $P
			bpftool_step "$m" map freeze pinned $P
			bpftool_step "$m" -j map show pinned $P
		}
	done
}

run() {
	session "$1"
	mv "$STAGE/transcript.$1" "$2"
	[ -n "${ITEST_SHOW:-}" ] && cat "$2"
	return 0
}
kernel_needs map stack_trace devmap devmap_hash cpumap sockmap sockhash reuseport_sockarray xskmap cgroup_storage \
	ringbuf user_ringbuf prog_array perf_event_array cgroup_array
twin "bpftool on the special map types" bpftool_special run
exit 0
