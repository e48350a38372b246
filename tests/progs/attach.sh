#!/usr/bin/env bash
# tests/progs/attach.sh: attach calls under bpfemu as nobody. Without
# BPFEMU_ATTACH they fail with EOPNOTSUPP and a BPFEMU_LOG line naming the
# call (no crash, no hang); with BPFEMU_ATTACH=inert they give link fds that
# read as anon_inode:bpf_link, with link info naming the program's attach.
# Probes (libbpf's perf_event_open path): the tracepoint program through
# bpf_program__attach and the kprobe program through attach_kprobe fail by
# default with a log line naming the call that failed; with
# BPFEMU_ATTACH=inert they attach to stand-in events, `bpftool link show`
# (run by the loader while the links live) lists two perf_event links, and
# they are gone after bpf_link__destroy.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

BIN=$(mktemp -d /tmp/bpfemu-progs-bin.XXXXXX) || exit 1
ln -s "$ITEST_BIN/prog_loader" "$BIN/prog_loader"
OBJ_SRC=$ITEST_BIN/progs.o
ITEST_BIN=$BIN
itest_init emu prog_loader
rm -rf -- "$BIN"
cp -- "$OBJ_SRC" "$STAGE/progs.o" && chmod 644 "$STAGE/progs.o" || fail "cannot stage progs.o"

out=$(emu env BPFEMU_LOG=sys timeout 60 "$STAGE/prog_loader" "$STAGE/progs.o" /sys/fs/bpf attach 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || fail "loader exited $rc"
grep -q '^attach xdp lo: EOPNOTSUPP$' <<<"$out" || fail "attach without BPFEMU_ATTACH is not EOPNOTSUPP"
grep -q 'bpf(BPF_LINK_CREATE): attaching a program needs a kernel' <<<"$out" || fail "no log line naming BPF_LINK_CREATE"

out=$(emu env BPFEMU_ATTACH=inert timeout 60 "$STAGE/prog_loader" "$STAGE/progs.o" /sys/fs/bpf attach 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || fail "loader (inert) exited $rc"
grep -q '^attach xdp lo: ok$' <<<"$out" || fail "inert attach failed"
grep -q '^link info: ok type 6 ifindex 1$' <<<"$out" || fail "inert link info"
BPFTOOL=$(command -v bpftool || echo /usr/sbin/bpftool)
out=$(emu env BPFEMU_LOG=sys timeout 60 "$STAGE/prog_loader" "$STAGE/progs.o" /sys/fs/bpf probes 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || fail "loader probes exited $rc"
grep -Eq '^attach tracepoint syscalls/sys_enter_nanosleep: E[A-Z0-9]+$' <<<"$out" || fail "default tracepoint attach did not fail"
grep -Eq '^attach kprobe do_nanosleep: E[A-Z0-9]+$' <<<"$out" || fail "default kprobe attach did not fail"
grep -Eq 'sys: (open\(/sys/|perf_event_open\(|bpf\(BPF_LINK_CREATE\): attaching|ioctl\()' <<<"$out" ||
	fail "no log line naming the failed attach call"

out=$(emu env BPFEMU_ATTACH=inert LOADER_SHOW="$BPFTOOL link show" timeout 60 "$STAGE/prog_loader" "$STAGE/progs.o" \
	/sys/fs/bpf probes 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || fail "loader probes (inert) exited $rc"
grep -q '^attach tracepoint syscalls/sys_enter_nanosleep: ok$' <<<"$out" || fail "inert tracepoint attach failed"
grep -q '^tracepoint syscalls/sys_enter_nanosleep link info: ok type 7 prog matches yes$' <<<"$out" ||
	fail "inert tracepoint link info"
grep -q '^attach kprobe do_nanosleep: ok$' <<<"$out" || fail "inert kprobe attach failed"
grep -q '^kprobe do_nanosleep link info: ok type 7 prog matches yes$' <<<"$out" || fail "inert kprobe link info"
[ "$(grep -Ec '^[0-9]+: perf_event +prog [0-9]+' <<<"$out")" -eq 2 ] || fail "bpftool link show does not list two perf_event links"
grep -q '^destroy: tracepoint ok kprobe ok$' <<<"$out" || fail "links not destroyed cleanly"
left=$(emu "$BPFTOOL" link show 2>&1)
[ -z "$left" ] || fail "links left after destroy: $left"
exit 0
