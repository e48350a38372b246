#!/usr/bin/env bash
# tests/tracing/libbpf_tools.sh [emu]
#
# A few of Debian's libbpf-tools as nobody under bpfemu with
# BPFEMU_ATTACH=inert, through tools/libbpf-tools-count --no-kernel: each must
# start (load, attach, print its header, exit 0 on SIGINT). They are the ones
# the issue named as stopping at perf_buffer__new before bpfemu had perf
# buffers, plus one per attach kind they use (tracepoints, kprobes through
# the kprobe PMU, fentry). The full count, kernel side included, is
# tools/libbpf-tools-count (minutes; see README).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

is_root || skip "needs root (setpriv to nobody)"
dpkg -s libbpf-tools >/dev/null 2>&1 || skip "libbpf-tools is not installed (tools/bootstrap installs it)"
TOOLS=execsnoop,opensnoop,exitsnoop,capable,tcpconnect,syscount,vfsstat,killsnoop
OUT=$(mktemp /tmp/bpfemu-count.XXXXXX)
trap 'rm -f "$OUT"' EXIT
"$(dirname "$0")/../../tools/libbpf-tools-count" --build "$BPFEMU_BUILD_DIR" --no-kernel --only "$TOOLS" --out "$OUT" 2>/dev/null
cat "$OUT"
for t in ${TOOLS//,/ }; do
	grep -Eq "^$t +- +started" "$OUT" || fail "$t does not start under bpfemu"
done
say "libbpf-tools: ${TOOLS//,/, } start as nobody under bpfemu"
exit 0
