#!/usr/bin/env bash
# tests/integration/storage_maps.sh emu|kernel|diff
#
# SK_STORAGE, INODE_STORAGE, TASK_STORAGE and CGRP_STORAGE created as
# bpftool's feature probe and libbpf objects do (BTF: int key, a value with
# a bpf_spin_lock) and refused as the kernel refuses them; element calls
# from user space with a socket fd, a file fd, a pidfd or a cgroup fd as the
# key (storage_maps prints one line per step; the expected lines are the
# kernel's, Linux 6.18). The cgroup steps run where the host mounts cgroup2
# (and a v1 hierarchy). As root, `bpftool feature probe` under the shim must
# list every map type as it does on the kernel (the emulator answers every
# bpf() call it makes; as nobody bpftool refuses before calling bpf()). Its
# program-type and helper sections are the verifier's part, and differ on a
# host whose lockdown refuses tracing, ext and lsm loads (README: a known
# difference), so they are not compared here.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" storage_maps

expected() {
	cat <<'END'
sk_storage:
  create as bpftool probes: OK
  create without BTF: EINVAL
  create with a struct key: EINVAL
  create with an int value of 4: OK
  create with BPF_F_CLONE: OK
  create without NO_PREALLOC: EINVAL
  create with max_entries: EINVAL
  create with key 8: EINVAL
inode_storage:
  create as bpftool probes: OK
  create without BTF: EINVAL
  create with a struct key: EINVAL
  create with an int value of 4: OK
  create with BPF_F_CLONE: OK
  create without NO_PREALLOC: EINVAL
  create with max_entries: EINVAL
  create with key 8: EINVAL
task_storage:
  create as bpftool probes: OK
  create without BTF: EINVAL
  create with a struct key: EINVAL
  create with an int value of 4: OK
  create with BPF_F_CLONE: OK
  create without NO_PREALLOC: EINVAL
  create with max_entries: EINVAL
  create with key 8: EINVAL
cgrp_storage:
  create as bpftool probes: OK
  create without BTF: EINVAL
  create with a struct key: EINVAL
  create with an int value of 4: OK
  create with BPF_F_CLONE: OK
  create without NO_PREALLOC: EINVAL
  create with max_entries: EINVAL
  create with key 8: EINVAL
sk_storage elements:
  lookup a unix socket flags 0: ENOENT
  update a unix socket flags 2: ENOENT
  update a unix socket flags 4: OK
  update a unix socket flags 1: EEXIST
  update a unix socket flags 1: EEXIST
  lookup a unix socket flags 0: OK cnt=1 lock=0
  lookup the same owner through another fd flags 0: OK cnt=1 lock=0
  update a unix socket flags 2: OK
  update a unix socket flags 4: OK
  update a unix socket flags 6: OK
  lookup a unix socket flags 4: OK cnt=5 lock=0
  lookup a unix socket flags 2: EINVAL
  update a unix socket flags 0: OK
  lookup a unix socket flags 0: OK cnt=6 lock=0
  delete a unix socket: OK
  delete a unix socket: ENOENT
  lookup a unix socket flags 0: ENOENT
  update a unix socket flags 0: OK
  lookup its peer flags 0: ENOENT
  update a udp socket flags 1: OK
  lookup a udp socket flags 0: OK cnt=9 lock=0
  lookup a pipe flags 0: ENOTSOCK
  update a pipe flags 0: ENOTSOCK
  delete a pipe: ENOTSOCK
  lookup a closed fd flags 0: EBADF
  update a closed fd flags 0: EBADF
  delete a closed fd: EBADF
  lookup fd -1 flags 0: EBADF
  get_next_key: ENOTSUPP
  get_next_key NULL: ENOTSUPP
  lookup_and_delete: ENOTSUPP
  lookup_batch: ENOTSUPP
  freeze: ENOTSUPP
  info: OK type=24 key=4 value=8 max=0 flags=0x1 btf_key=1 btf_value=3
inode_storage elements:
  lookup a file flags 0: ENOENT
  update a file flags 2: ENOENT
  update a file flags 4: OK
  update a file flags 1: EEXIST
  update a file flags 1: EEXIST
  lookup a file flags 0: OK cnt=1 lock=0
  lookup the same owner through another fd flags 0: OK cnt=1 lock=0
  update a file flags 2: OK
  update a file flags 4: OK
  update a file flags 6: OK
  lookup a file flags 4: OK cnt=5 lock=0
  lookup a file flags 2: EINVAL
  update a file flags 0: OK
  lookup a file flags 0: OK cnt=6 lock=0
  delete a file: OK
  delete a file: ENOENT
  lookup a file flags 0: ENOENT
  update a file flags 0: OK
  lookup another file flags 0: ENOENT
  lookup a pipe flags 0: ENOENT
  update a pipe flags 1: OK
  lookup the pipe's other end flags 0: OK cnt=8 lock=0
  update an eventfd flags 1: OK
  lookup a bpf map fd (one anonymous inode with the eventfd) flags 0: OK cnt=11 lock=0
  lookup a closed fd flags 0: EBADF
  update a closed fd flags 0: EBADF
  lookup fd -1 flags 0: EBADF
  get_next_key: ENOTSUPP
  get_next_key NULL: ENOTSUPP
  lookup_and_delete: ENOTSUPP
  lookup_batch: ENOTSUPP
  freeze: ENOTSUPP
  info: OK type=28 key=4 value=8 max=0 flags=0x1 btf_key=1 btf_value=3
task_storage elements:
  lookup our pidfd flags 0: ENOENT
  update our pidfd flags 2: ENOENT
  update our pidfd flags 4: OK
  update our pidfd flags 1: EEXIST
  update our pidfd flags 1: EEXIST
  lookup our pidfd flags 0: OK cnt=1 lock=0
  lookup the same owner through another fd flags 0: OK cnt=1 lock=0
  update our pidfd flags 2: OK
  update our pidfd flags 4: OK
  update our pidfd flags 6: OK
  lookup our pidfd flags 4: OK cnt=5 lock=0
  lookup our pidfd flags 2: EINVAL
  update our pidfd flags 0: OK
  lookup our pidfd flags 0: OK cnt=6 lock=0
  delete our pidfd: OK
  delete our pidfd: ENOENT
  lookup our pidfd flags 0: ENOENT
  update our pidfd flags 0: OK
  lookup a child's pidfd flags 0: ENOENT
  update a child's pidfd flags 1: OK
  lookup a child's pidfd flags 0: OK cnt=12 lock=0
  lookup the pidfd of a reaped child flags 0: ENOENT
  update the pidfd of a reaped child flags 0: ENOENT
  delete the pidfd of a reaped child: ENOENT
  lookup a file flags 0: EBADF
  update a file flags 0: EBADF
  lookup a closed fd flags 0: EBADF
  get_next_key: ENOTSUPP
  get_next_key NULL: ENOTSUPP
  lookup_and_delete: ENOTSUPP
  lookup_batch: ENOTSUPP
  freeze: ENOTSUPP
  info: OK type=29 key=4 value=8 max=0 flags=0x1 btf_key=1 btf_value=3
cgrp_storage elements:
cgroup2 mounted: yes
  lookup a cgroup2 directory flags 0: ENOENT
  update a cgroup2 directory flags 2: ENOENT
  update a cgroup2 directory flags 4: OK
  update a cgroup2 directory flags 1: EEXIST
  update a cgroup2 directory flags 1: EEXIST
  lookup a cgroup2 directory flags 0: OK cnt=1 lock=0
  lookup the same owner through another fd flags 0: OK cnt=1 lock=0
  update a cgroup2 directory flags 2: OK
  update a cgroup2 directory flags 4: OK
  update a cgroup2 directory flags 6: OK
  lookup a cgroup2 directory flags 4: OK cnt=5 lock=0
  lookup a cgroup2 directory flags 2: EINVAL
  update a cgroup2 directory flags 0: OK
  lookup a cgroup2 directory flags 0: OK cnt=6 lock=0
  delete a cgroup2 directory: OK
  delete a cgroup2 directory: ENOENT
  lookup a cgroup2 directory flags 0: ENOENT
  update a cgroup2 directory flags 0: OK
cgroup2 done
cgroup v1 mounted: yes
  lookup a cgroup v1 directory flags 0: ENOENT
  update a cgroup v1 directory flags 1: OK
  lookup a cgroup v1 directory flags 0: OK cnt=13 lock=0
cgroup v1 done
  lookup a directory that is no cgroup flags 0: EBADF
  update a directory that is no cgroup flags 0: EBADF
  lookup a file flags 0: EBADF
  lookup a closed fd flags 0: EBADF
  get_next_key: ENOTSUPP
  get_next_key NULL: ENOTSUPP
  lookup_and_delete: ENOTSUPP
  lookup_batch: ENOTSUPP
  freeze: ENOTSUPP
  info: OK type=32 key=4 value=8 max=0 flags=0x1 btf_key=1 btf_value=3
END
}

# the expected lines, without the cgroup sections the run says it could not make
expected_for() {
	local out=$1
	expected | awk -v v2="$(grep -q '^cgroup2 mounted: yes' "$out" && echo y)" \
		-v v1="$(grep -q '^cgroup v1 mounted: yes' "$out" && echo y)" '
		/^cgroup2 mounted:/ { print (v2 ? $0 : "cgroup2 mounted: no"); skip = !v2; next }
		/^cgroup2 done/ { if (!skip) print; skip = 0; next }
		/^cgroup v1 mounted:/ { print (v1 ? $0 : "cgroup v1 mounted: no"); skip = !v1; next }
		/^cgroup v1 done/ { if (!skip) print; skip = 0; next }
		!skip { print }'
}

run() {
	local m=$1 out=$STAGE/storage_maps.$1
	in_mode "$m" "$STAGE/storage_maps" >"$out" 2>&1 || fail "$m: storage_maps: $(tail -1 "$out")"
	expected_for "$out" | diff -u --label expected --label "$m" - "$out" || fail "$m: the answers differ from the kernel's"
	say "ok: $m ($(wc -l <"$out") lines)"
}

probe() {
	local m=$1 out=$STAGE/probe.$1
	command -v bpftool >/dev/null || { say "bpftool missing: feature probe not compared"; return; }
	if [ "$m" = kernel ]; then
		kern bpftool feature probe >"$out" 2>&1 || fail "kernel: bpftool feature probe"
	else
		(cd / && env BPFEMU_ROOT="$STAGE/rootprobe" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run -- \
			bpftool feature probe) >"$out" 2>&1 || fail "emu: bpftool feature probe: $(tail -1 "$out")"
	fi
	grep -E 'map_type (sk|inode|task|cgrp)_storage' "$out" | sed "s/^/$m: /"
	grep -E 'map_type' "$out" >"$out.maps"
	[ -s "$out.maps" ] || fail "$m: bpftool feature probe listed no map types"
}

# the storages need BTF: the shared probe does not make them; this does
if kernel_on && ! why=$(kern "$STAGE/storage_maps" probe 2>&1); then
	kernel_off "${why:-storage_maps probe failed}"
fi
[ "$MODE" = emu ] || ! kernel_on || run kernel
[ "$MODE" = kernel ] || run emu
if [ "$MODE" = diff ] && kernel_on; then
	same_or_fail "local storage maps" "$STAGE/storage_maps.kernel" "$STAGE/storage_maps.emu"
	probe kernel
	probe emu
	same_or_fail "bpftool feature probe's map types (as root)" "$STAGE/probe.kernel.maps" "$STAGE/probe.emu.maps"
fi
say "PASS"
