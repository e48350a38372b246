#!/usr/bin/env bash
# tests/progs/attach.sh: attach calls under bpfemu as nobody. Without
# BPFEMU_ATTACH they fail with EOPNOTSUPP and a BPFEMU_LOG line naming the
# call (no crash, no hang); with BPFEMU_ATTACH=inert they give link fds that
# read as anon_inode:bpf_link, with link info naming the program's attach.
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
exit 0
