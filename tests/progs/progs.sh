#!/usr/bin/env bash
# tests/progs/progs.sh emu|kernel|diff
#
# An ordinary libbpf program (progs.bpf.c: BTF-defined maps, global data,
# a map pinned by name, xdp/tc/socket/tracepoint/kprobe programs) through
# Debian's libbpf: the loader (load, a second load reusing the pin, a second
# process reading the pins, unpin), bpftool prog/map show of the pinned
# objects, the skeleton program, and attaching the XDP program (on the kernel
# in a private network namespace; under bpfemu with BPFEMU_ATTACH=inert).
# In diff mode the transcripts of bpfemu (as nobody) and the kernel (as root)
# must be identical once ids, times, uids and the kernel's rewritten/JITed
# sizes are normalized.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

# common.sh stages helpers from one directory: gather ours and itest_helper
BIN=$(mktemp -d /tmp/bpfemu-progs-bin.XXXXXX) || exit 1
for f in prog_loader prog_skel; do ln -s "$ITEST_BIN/$f" "$BIN/$f"; done
[ -n "${ITEST_HELPER:-}" ] && ln -s "$ITEST_HELPER" "$BIN/itest_helper"
OBJ_SRC=$ITEST_BIN/progs.o
ITEST_BIN=$BIN
itest_init "${1:-}" prog_loader prog_skel
rm -rf -- "$BIN"
cp -- "$OBJ_SRC" "$STAGE/progs.o" && chmod 644 "$STAGE/progs.o" || fail "cannot stage progs.o"

norm_show() {
	sed -E 's/^[0-9]+: /N: /; s/loaded_at [^ ]+  uid [0-9]+/loaded_at T  uid U/;
		s/xlated [0-9]+B  (jited [0-9]+B|not jited)/xlated X  jited J/; s/map_ids [0-9,]+/map_ids M/;
		s/btf_id [0-9]+/btf_id B/; s/owner (not )?jited/owner J/'
}

# attach runs in a network namespace of its own on the kernel (lo is private)
attach() {
	local m=$1
	shift
	if [ "$m" = kernel ]; then
		kern unshare -n "$@"
	else
		emu env BPFEMU_ATTACH=inert "$@"
	fi
}

session() {
	local m=$1 L="$STAGE/prog_loader" O="$STAGE/progs.o" D=/sys/fs/bpf/progs
	in_mode "$m" mkdir -p "$D" || return 1
	echo "-- load"
	in_mode "$m" "$L" "$O" "$D" load
	echo "-- reuse"
	in_mode "$m" "$L" "$O" "$D" reuse
	echo "-- read"
	in_mode "$m" "$L" "$O" "$D" read
	echo "-- ls"
	in_mode "$m" ls "$D"
	echo "-- bpftool prog show"
	in_mode "$m" bpftool prog show pinned "$D/xdp_count" | norm_show
	in_mode "$m" bpftool -j prog show pinned "$D/xdp_count" |
		sed -E 's/"(id|loaded_at|uid|bytes_xlated|bytes_jited|btf_id)":[0-9]+/"\1":N/g; s/"jited":(true|false)/"jited":J/;
			s/"map_ids":\[[0-9,]+\]/"map_ids":M/; s/,"bytes_jited":N//'
	echo
	echo "-- bpftool map show"
	for mp in counts stats progs_bss progs_rodata outer jmp events shared; do
		in_mode "$m" bpftool map show pinned "$D/$mp" | norm_show
	done
	echo "-- unpin"
	in_mode "$m" "$L" "$O" "$D" unpin
	in_mode "$m" ls "$D"
	echo "-- skeleton"
	in_mode "$m" "$STAGE/prog_skel"
	echo "-- attach"
	attach "$m" "$L" "$O" "$D" attach
	attach "$m" "$STAGE/prog_skel" attach | grep -E '^(attach|link|destroyed)'
}

EXPECT=(
	'^load: ok$'
	'^prog xdp_count +sec xdp insns 32 type 6 name xdp_count tag b8d078a575dba143 maps 4 gpl 1 btf yes func_info 1 line_info 14$'
	'^  fd reads anon_inode:bpf-prog$'
	'^globals: counter 0 started 7 tagline bpfemu limit 42 magic 0x1234$'
	'^bss update then mmap: ok counter 41 flags_seen 0$'
	'^rodata update: EPERM$'
	'^pcpu update ok lookup ok: ([0-9]+) of \1 cpus right; short value: '
	'^lru 24 updates into 16: 0 failed, [0-9]+ keys left, newest kept$'
	'^rodata mmap writable: EPERM$'
	'^jmp\[1\] = tc_mark: EINVAL$'
	'^reused shared\[1\]: ok 77$'
	'^  counter after mmap increment 100$'
	'^bss lookup after skel->bss->counter = 5: ok counter 5$'
	'^bss update 1234: ok skel->bss->counter 1234$'
	'^attach xdp lo: ok$'
	'^link info: ok type 6 ifindex 1$'
)

run() {
	local m=$1 out=$2
	say "progs ($m)"
	session "$m" >"$out" 2>&1
	cat "$out"
	for re in "${EXPECT[@]}"; do
		grep -qE -- "$re" "$out" || { printf 'FAIL: progs (%s): no line matching /%s/\n' "$m" "$re"; FAILS=$((FAILS + 1)); }
	done
}

FAILS=0
kernel_needs map hash array ringbuf hash_of_maps prog_array
kernel_needs prog xdp sched_cls socket_filter tracepoint kprobe
twin "libbpf programs transcript" progs run
[ "$FAILS" -eq 0 ] || fail "$FAILS expected line(s) missing"
exit 0
