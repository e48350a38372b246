#!/usr/bin/env bash
# tests/seccomp/static.sh emu|diff
#
# A `gcc -static` program (static_bpf.c) that issues bpf() with its own
# `syscall` instruction, under `bpfemu run` as nobody: the door is chosen
# for it (no --mode). Maps, errors, pins, /proc fdinfo and fd links, stat
# and statfs of bpffs, open of a pin, dup, a thread, a forked child, an
# mmapable array (stores seen by lookups, updates by the mapping, freeze
# EBUSY while mapped), mmap errors. diff: the same transcript as the kernel's
# (root, a fresh bpffs). Then the door's own cases: thousands of signals
# during calls (nothing lost or done twice).
# shellcheck source=tests/seccomp/common_seccomp.sh
. "$(dirname "$0")/common_seccomp.sh"

itest_init "${1:-}"
sc_stage static_bpf

EXP=$(cat <<'X'
hash create: ok
update 1: ok
update 2: ok
update 3: ok
update 2 noexist: EEXIST
lookup 2: ok 22
lookup bad pointer: EFAULT
lookup bad fd: EBADF
delete 3: ok
keys: 2, end ENOENT
fdinfo: map_type:	1
fdinfo: key_size:	4
fdinfo: value_size:	8
fdinfo: max_entries:	64
fdinfo: frozen:	0
fd link: anon_inode:bpf-map
pin: ok
pin again: EEXIST
get: ok
lookup through get: ok 11
stat pin: ok regular 1 size 0
statfs dir: ok magic 0xcafe4a11
open pin: EIO
get missing: ENOENT
lookup through dup: ok 22
thread update: ok
child update: ok
parent sees child's: ok 99
parent sees thread's: ok 7700
unlink pin: ok
get after unlink: ENOENT
pin after unlink: ok
unlink again: ok
array create: ok
mmap: ok
lookup 5 after store: ok 555
mapping sees update: 666
freeze while mapped writable: EBUSY
mmap past the data: EINVAL
mmap of a hash: ENOTSUPP
X
)

say "static client under bpfemu run (the seccomp door, chosen automatically)"
OUT=$(emu "$STAGE/static_bpf" /sys/fs/bpf session 2>&1) || fail "static_bpf session: exit $?: $OUT"
printf '%s\n' "$OUT"
[ "$OUT" = "$EXP" ] || fail "the session differs from the expected transcript: $(diff <(printf '%s\n' "$EXP") <(printf '%s\n' "$OUT"))"
printf '%s\n' "$OUT" >"$STAGE/emu.out"

say "signals during calls (no SA_RESTART): a call is interrupted before it is served or not at all"
SIG=$(emu "$STAGE/static_bpf" /sys/fs/bpf signals 2>&1) || fail "static_bpf signals: $SIG"
printf '%s\n' "$SIG"
grep -q '^signals: 4000 pushed and popped in order, 0 wrong, then ENOENT; signalled often$' <<<"$SIG" ||
	fail "signals: elements lost or popped twice"

if [ "$MODE" = diff ] && kernel_on; then
	kern "$STAGE/static_bpf" /sys/fs/bpf session >"$STAGE/kernel.out" 2>&1 || fail "kernel session: exit $?"
	same_or_fail "static client session" "$STAGE/kernel.out" "$STAGE/emu.out"
fi
exit 0
