#!/usr/bin/env bash
# tests/fire/tools.sh emu|diff
#
# Real clients: Debian's libbpf-tools print what the kernel would for events
# bpfemu fires (tools/libbpf-tools-fire, its recipes): execsnoop, opensnoop,
# exitsnoop, killsnoop, sigsnoop, syscount, vfsstat, capable, tcpconnect,
# bashreadline, hardirqs, softirqs, drsnoop, solisten, mountsnoop, runqlat
# (a histogram of 1000 chosen latencies), runqslower, cpudist, bitesize and
# biolatency, gethostlatency (a uprobe on libc's getaddrinfo), tcpstates and
# tcplife (one socket's sock:inet_sock_set_state events, a named tcp_sock its
# skaddr points to in each), oomkill, tcprtt, funclatency, biosnoop; the file
# system tools (fsslower, ext4slower, btrfsslower, xfsslower, fsdist, ext4dist,
# btrfsdist, xfsdist: an open, write, read and fsync with chosen latencies),
# tcpconnlat, tcptracer, tcptop, tcpsynbl, the stack tools (wakeuptime,
# offcputime, biostacks: --kstack), biotop, biopattern, filetop, klockstat
# and ksnoop, each as
# nobody under the shim with BPFEMU_ATTACH=inert (as the user running the
# test when that is not root).
#   emu   the fired events' lines must be in each tool's output
#   diff  also on the kernel as root, for the real events (skipped per tool
#         where the host refuses it: no kprobes, lockdown)
# A tool that does not start under bpfemu (runqlat before the path-sensitive
# verifier) is reported, not failed: tools/libbpf-tools-count owns that.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

MODE=${1:-emu}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
dpkg -s libbpf-tools >/dev/null 2>&1 || skip "the libbpf-tools package is not installed"
[ -r /sys/kernel/btf/vmlinux ] || skip "this host has no /sys/kernel/btf/vmlinux"
TOOLS=execsnoop,opensnoop,exitsnoop,killsnoop,sigsnoop,syscount,vfsstat,capable,tcpconnect,bashreadline,hardirqs,softirqs,drsnoop,solisten,mountsnoop,runqlat,runqslower,cpudist,bitesize,biolatency,gethostlatency,tcpstates,tcplife,oomkill,tcprtt,funclatency,biosnoop,ext4slower,fsslower,btrfsslower,xfsslower,ext4dist,fsdist,btrfsdist,xfsdist,tcpconnlat,tcptracer,tcptop,tcpsynbl,wakeuptime,offcputime,biostacks,biotop,biopattern,filetop,klockstat,ksnoop
OPTS=(--build "$BPFEMU_BUILD_DIR" --only "$TOOLS")
if [ "$MODE" = diff ] && ! is_root; then
	# the engine's side is fire.tools; without root there is nothing to add
	skip "not root (the tools run on the kernel as root)"
fi
[ "$MODE" = emu ] && OPTS+=(--no-kernel)
"$ITEST_SRC/../../tools/libbpf-tools-fire" "${OPTS[@]}" >"/tmp/bpfemu-fire-tools.$$" 2>&1
rc=$?
cat "/tmp/bpfemu-fire-tools.$$"
rm -f "/tmp/bpfemu-fire-tools.$$"
[ "$rc" = 0 ] || fail "a tool did not print what the fired (or real) event should show"
say "tools: as expected"
