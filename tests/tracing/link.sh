#!/usr/bin/env bash
# tests/tracing/link.sh emu|diff
#
# Attach calls and link objects (link_twin.c) under the shim as nobody with
# BPFEMU_ATTACH=inert: perf links on a tracepoint and a uprobe,
# PERF_EVENT_IOC_SET_BPF, raw_tp and tp_btf (RAW_TRACEPOINT_OPEN and
# LINK_CREATE), an iterator and ITER_CREATE, cgroup links with PROG_QUERY,
# LINK_UPDATE and LINK_DETACH, XDP and tcx on lo, netfilter, sk_lookup, and
# (no kernel side here) a kprobe through the kprobe PMU, fentry/fexit/lsm
# and kprobe.multi; link info field by field, BPF_TASK_FD_QUERY; errors.
#   emu   both parts must give the expected transcripts kept beside this script
#   diff  also the shared part on the kernel as root, in a private mount and
#         network namespace with tracefs mounted (lo up): identical
# Then bpftool as a user would: `bpftool link show`, `bpftool perf` and
# `bpftool prog show` while a libbpf-tool (opensnoop) runs under the shim.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

MODE=${1:-emu}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
[ -r /sys/kernel/btf/vmlinux ] || skip "this host has no /sys/kernel/btf/vmlinux (tp_btf and iter need it)"
stage link_twin
HERE=$(dirname "$0")
iemu() { as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" BPFEMU_ATTACH=inert "$STAGE/bpfemu" run -- "$@"; }

for part in shared tracing; do
	say "link_twin $part: as $EMU_USER under the shim, BPFEMU_ATTACH=inert"
	iemu "$STAGE/link_twin" $part >"$STAGE/$part.out" 2>"$STAGE/$part.err" ||
		{ cat "$STAGE/$part.out" "$STAGE/$part.err"; fail "link_twin $part failed"; }
	if diff -u --label expected --label bpfemu "$HERE/link_$part.expected" "$STAGE/$part.out"; then
		say "$part: bpfemu's transcript is the expected one"
	else
		fail "$part: bpfemu's transcript differs from the expected one (-)"
	fi
done

say "without BPFEMU_ATTACH: attach calls are EOPNOTSUPP"
emu "$STAGE/link_twin" shared >"$STAGE/noinert.out" 2>&1
for l in "RAW_TRACEPOINT_OPEN sched_switch: EOPNOTSUPP" "link cgroup sock_create *EOPNOTSUPP" \
	"link xdp on lo *EOPNOTSUPP" "link sk_lookup *EOPNOTSUPP"; do
	grep -q "$l" "$STAGE/noinert.out" || { cat "$STAGE/noinert.out"; fail "without inert mode: no '$l'"; }
done

if [ -x /usr/sbin/opensnoop ]; then
	say "bpftool link show / perf / prog show while opensnoop runs as $EMU_USER"
	# the shell that records its pid becomes opensnoop (exec), so that pid gets the SIGINT
	iemu sh -c 'echo $$ >"$1"; exec /usr/sbin/opensnoop' sh "$STATE/opensnoop.pid" >"$STAGE/opensnoop.out" 2>&1 &
	BGPID=$!
	for _ in $(seq 100); do
		grep -q "^PID" "$STAGE/opensnoop.out" && break
		sleep 0.1
	done
	iemu bpftool link show >"$STAGE/links.out" 2>&1
	iemu bpftool perf >"$STAGE/perf.out" 2>&1
	iemu bpftool prog show >"$STAGE/progs.out" 2>&1
	kill -INT "$(cat "$STATE/opensnoop.pid")" 2>/dev/null
	wait "$BGPID"
	sed 's/^/  /' "$STAGE/links.out" "$STAGE/perf.out"
	grep -Eq "^[0-9]+: perf_event  prog [0-9]+" "$STAGE/links.out" || fail "bpftool link show: no perf_event link"
	grep -Eq "^pid [0-9]+  fd [0-9]+: prog_id [0-9]+  tracepoint  sys_enter_openat$" "$STAGE/perf.out" ||
		fail "bpftool perf: no sys_enter_openat tracepoint"
	grep -Eq "^pid [0-9]+  fd [0-9]+: prog_id [0-9]+  tracepoint  sys_exit_openat$" "$STAGE/perf.out" ||
		fail "bpftool perf: no sys_exit_openat tracepoint"
	grep -q "tracepoint  name tracepoint__syscalls__sys_enter_openat" "$STAGE/progs.out" ||
		fail "bpftool prog show: no opensnoop program"
fi

if [ "$MODE" = diff ]; then
	is_root || skip "the kernel comparison needs root"
	command -v unshare >/dev/null || skip "unshare is not installed"
	say "link_twin shared on the kernel: root, private mount and network namespaces, tracefs"
	cat >"$STAGE/krun.sh" <<'EOS'
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ip link set lo up 2>/dev/null
exec "$@"
EOS
	(cd / && unshare -m -n --propagation private sh "$STAGE/krun.sh" "$STAGE/link_twin" shared) >"$STAGE/kernel.out" 2>&1 ||
		{ cat "$STAGE/kernel.out"; skip "the kernel run failed here"; }
	same_or_fail "link_twin shared" "$STAGE/kernel.out" "$STAGE/shared.out"
fi
exit 0
