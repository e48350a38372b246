#!/usr/bin/env bash
# tests/integration/perms.sh: state-root permissions, users sharing one fake
# bpffs, access modes, and paths that try to leave the state root.
# Emulator only, as root driving two users (nobody and daemon) with setpriv;
# the path errnos were taken from a real bpffs (unshare -m, mount -t bpf).
. "$(dirname "$0")/common.sh"
[ "${1:-emu}" = emu ] || skip "emu mode only"
is_root || skip "needs root to run as two users"
stage perm_helper
P=$STAGE/perm_helper
U1="setpriv --reuid=65534 --regid=65534 --clear-groups"
U2="setpriv --reuid=1 --regid=1 --clear-groups"
run_as() { local u=$1 root=$2; shift 2; (cd / && $u "$STAGE/bpfemu" run --root "$root" -- "$@"); }
expect() { local want=$1 got; shift; got=$("$@" 2>&1); [ "$got" = "$want" ] || fail "$*: got '$got', want '$want'"; say "ok: $want"; }

# a state root the emulator creates is 0700
mkdir -m 1777 "$STAGE/pub"
expect "pin=OK" run_as "$U1" "$STAGE/pub/fresh" "$P" pin /sys/fs/bpf/m
[ "$(stat -c %a "$STAGE/pub/fresh")" = 700 ] || fail "fresh root is $(stat -c %a "$STAGE/pub/fresh")"
# the state root is made at first use, not by every process that loads the
# shim: a root-started setpriv (or shell) in front of the real program leaves
# nothing behind, so the program, run as nobody, makes its own root
(cd / && "$STAGE/bpfemu" run --root "$STAGE/pub/late" -- sh -c 'ls / >/dev/null; exec 3</etc/passwd; cat /proc/self/fdinfo/3 >/dev/null; readlink /proc/self/fd/3 >/dev/null; cat /proc/sys/kernel/bpf_stats_enabled >/dev/null 2>&1; test -e /proc/self/fd/3') ||
	fail "a shell under the shim"
[ -e "$STAGE/pub/late" ] && fail "a process that never used bpf() nor bpffs made the state root"
got=$(cd / && "$STAGE/bpfemu" run --root "$STAGE/pub/late" -- $U1 "$P" pin /sys/fs/bpf/m 2>&1)
[ "$got" = "pin=OK" ] || fail "setpriv in front of the program: got '$got'"
[ "$(stat -c '%a %U' "$STAGE/pub/late")" = "700 nobody" ] || fail "late root: $(stat -c '%a %U' "$STAGE/pub/late")"
say "ok: the state root is made by the first process that uses it (nobody behind a root setpriv)"
# one owned by another user, or writable by others without the sticky bit, is refused
mkdir -m 755 "$STAGE/daemons" && chown 1:1 "$STAGE/daemons"
expect "create=EACCES" run_as "$U1" "$STAGE/daemons" "$P" pin /sys/fs/bpf/m
mkdir -m 777 "$STAGE/open" && chmod 777 "$STAGE/open"
expect "create=EACCES" run_as "$U1" "$STAGE/open" "$P" pin /sys/fs/bpf/m

# a root-owned sticky root is shared: pins are 0600, modes behave as on bpffs
SH=$STAGE/shared
mkdir -m 1777 "$SH" && chmod 1777 "$SH"
expect "pin=OK" run_as "$U1" "$SH" "$P" pin /sys/fs/bpf/m1
expect "pin=OK" run_as "$U2" "$SH" "$P" pin /sys/fs/bpf/m2
[ "$(stat -c '%a %U' "$SH/bpffs/m1")" = "600 nobody" ] || fail "pin mode: $(stat -c '%a %U' "$SH/bpffs/m1")"
expect "get=EACCES" run_as "$U2" "$SH" "$P" get /sys/fs/bpf/m1 rw
expect "get=EACCES" run_as "$U2" "$SH" "$P" get /sys/fs/bpf/m1 ro
expect "get=EACCES" run_as "$U1" "$SH" "$P" get /sys/fs/bpf/m2 ro
run_as "$U1" "$SH" chmod 644 /sys/fs/bpf/m1 || fail "chmod through the shim"
# another user of a 0644 pin: a read-only fd that reads but cannot write, and
# no read-write or write-only fd (the kernel, with daemon given CAP_BPF: these
# exact lines; the engine maps the file PROT_READ and reads without its lock)
expect "get=OK update=EPERM lookup=ENOENT" run_as "$U2" "$SH" "$P" get /sys/fs/bpf/m1 ro
expect "get=EACCES" run_as "$U2" "$SH" "$P" get /sys/fs/bpf/m1 rw
expect "get=EACCES" run_as "$U2" "$SH" "$P" get /sys/fs/bpf/m1 wo
expect "get=OK update=OK lookup=OK" run_as "$U1" "$SH" "$P" get /sys/fs/bpf/m1 rw
expect "get=OK update=EPERM lookup=OK" run_as "$U2" "$SH" "$P" get /sys/fs/bpf/m1 ro
expect "next=OK lookup=OK batch=1 update=EPERM delete=EPERM freeze=EPERM info=OK fdinfo=OK" \
	run_as "$U2" "$SH" "$P" read /sys/fs/bpf/m1
expect "get=OK update=OK lookup=EPERM" run_as "$U1" "$SH" "$P" get /sys/fs/bpf/m1 wo
expect "get=OK update=EPERM lookup=OK" run_as "$U1" "$SH" "$P" get /sys/fs/bpf/m1 ro
run_as "$U2" "$SH" rm /sys/fs/bpf/m1 2>/dev/null && fail "daemon removed nobody's pin in a sticky bpffs"

# paths: nothing resolves outside the state root (errnos of a real bpffs)
OWN=$STAGE/pub/own
mkdir -m 1777 "$STAGE/out"
run_as "$U1" "$OWN" ln -s "$STAGE/out" /sys/fs/bpf/esc || fail "ln -s in the fake bpffs"
expect "pin=EPERM" run_as "$U1" "$OWN" "$P" pin /sys/fs/bpf/esc/x
expect "pin=EPERM" run_as "$U1" "$OWN" "$P" pin "/sys/fs/bpf/../../..$STAGE/out/y"
touch "$STAGE/out/f" && chmod 666 "$STAGE/out/f"
run_as "$U1" "$OWN" ln -s "$STAGE/out/f" /sys/fs/bpf/lf || fail "ln -s"
expect "get=EACCES" run_as "$U1" "$OWN" "$P" get /sys/fs/bpf/lf rw
expect "get=EACCES" run_as "$U1" "$OWN" "$P" get /sys/fs/bpf/esc rw
expect "pin=ENAMETOOLONG" run_as "$U1" "$OWN" "$P" pin "/sys/fs/bpf/$(printf 'n%.0s' {1..256})"
expect "pin=OK" run_as "$U1" "$OWN" "$P" pin "/sys/fs/bpf/$(printf 'n%.0s' {1..255})"
expect "pin=ENAMETOOLONG" run_as "$U1" "$OWN" "$P" pin "/sys/fs/bpf/$(printf 'd/%.0s' {1..2100})x"
[ -z "$(ls "$STAGE/out" | grep -v '^f$')" ] || fail "something was created outside: $(ls "$STAGE/out")"
say "PASS"
