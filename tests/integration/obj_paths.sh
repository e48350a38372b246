#!/usr/bin/env bash
# tests/integration/obj_paths.sh emu|kernel|diff
#
# BPF_OBJ_PIN and BPF_OBJ_GET on every path shape (trailing slashes, "//",
# "." and ".." inside and across bpffs, empty and dotted names), relative to
# the cwd and to a directory fd (BPF_F_PATH_FD: a bpffs directory, an O_PATH
# one, a closed fd, -1, AT_FDCWD, /dev/null, a directory outside bpffs), and
# read-only / write-only gets through a path_fd. obj_paths runs without
# CAP_DAC_OVERRIDE, so a 0000 pin is EACCES for root as for nobody. The
# expected lines are the kernel's (Linux 6.18); mode kernel checks them
# there, emu under the shim as nobody, diff runs both and compares.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}" obj_paths

expected() {
	cat <<'END'
pin setup-m: OK
pin setup-inner: OK
pin setup-secret: OK
get /sys/fs/bpf/m: OK update=OK lookup=OK
get /sys/fs/bpf/m/: ENOTDIR
get /sys/fs/bpf//m: OK update=OK lookup=OK
get /sys/fs/bpf/./m: OK update=OK lookup=OK
get /sys/fs/bpf/m/.: ENOTDIR
get /sys/fs/bpf/m/..: ENOTDIR
get /sys/fs/bpf/d/../m: OK update=OK lookup=OK
get /sys/fs/bpf/../bpf/m: OK update=OK lookup=OK
get /sys/fs/../fs/bpf/m: OK update=OK lookup=OK
get /sys/fs/bpf/d/inner: OK update=OK lookup=OK
get /sys/fs/bpf/d//inner/: ENOTDIR
get /sys/fs/bpf/d/: EACCES
get /sys/fs/bpf/d: EACCES
get /sys/fs/bpf: EACCES
get /sys/fs/bpf/: EACCES
get //sys//fs//bpf//m: OK update=OK lookup=OK
get /sys/fs/bpf/d/./inner/.: ENOTDIR
get /sys/fs/bpf/nope/: ENOENT
get /sys/fs/bpf/m//: ENOTDIR
get /sys/fs/bpf/../../sys/fs/bpf/m: ENOENT
get /sys/fs/bpf/d/../../bpf/d/inner: OK update=OK lookup=OK
get /./sys/fs/bpf/m: OK update=OK lookup=OK
get /sys/fs/bpf/..: EACCES
get /sys/fs/bpf/d/..: EACCES
get /sys/fs/bpf/nope/..: ENOENT
get /sys/fs/bpf/m/../m: ENOTDIR
get /sys/fs/bpf/secret: EACCES
get /sys/fs/bpf/maps.debug: EACCES
get /sys/fs/bpf/maps.debug/: ENOTDIR
get /sys/fs/bpf/.m: EPERM
get : ENOENT
get /sys/fs/bpf/m/x: ENOTDIR
pin /sys/fs/bpf/p1/: ENOENT
pin /sys/fs/bpf//p2: OK
pin /sys/fs/bpf/./p3: OK
pin /sys/fs/bpf/d/../p4: OK
pin /sys/fs/bpf/../bpf/p5: OK
pin /sys/fs/bpf/m/p6: ENOTDIR
pin /sys/fs/bpf/nope/p7: ENOENT
pin /sys/fs/bpf/.: EEXIST
pin /sys/fs/bpf/..: EEXIST
pin /sys/fs/bpf: EEXIST
pin /sys/fs/bpf/: EEXIST
pin /sys/fs/bpf/m: EEXIST
pin /sys/fs/bpf/m/: EEXIST
pin /sys/fs/bpf/d/: EEXIST
pin //sys/fs/bpf/p15: OK
pin /sys/fs/bpf/d/p16/.: ENOENT
pin /sys/fs/bpf/p17/..: ENOENT
pin /sys/fs/bpf/../p22: EPERM
pin /sys/fs/bpf/p23//: ENOENT
pin /sys/fs/bpf/d/p24/: ENOENT
pin /sys/fs/bpf/maps.debug: EEXIST
pin /sys/fs/bpf/.p25: EPERM
pin /sys/fs/bpf/d/./p26: OK
pin /sys/fs/bpf/m/..: ENOTDIR
pin : ENOENT
get /sys/fs/bpf/p2 (pinned above): OK update=OK lookup=OK
get /sys/fs/bpf/p4 (pinned above): OK update=OK lookup=OK
get cwd bpffs: m: OK update=OK lookup=OK
get cwd bpffs: ./m: OK update=OK lookup=OK
get cwd bpffs: ./m/: ENOTDIR
get cwd bpffs: ../bpf/m: OK update=OK lookup=OK
get cwd bpffs: d/../m: OK update=OK lookup=OK
get cwd bpffs: d/inner: OK update=OK lookup=OK
get cwd bpffs: d/../d/inner/: ENOTDIR
get cwd bpffs: nope: ENOENT
get cwd bpffs: .: EACCES
get cwd bpffs: ..: EACCES
get cwd bpffs: m/..: ENOTDIR
get cwd bpffs: secret: EACCES
pin cwd bpffs: r1: OK
pin cwd bpffs: ./r2: OK
pin cwd bpffs: ../bpf/r3: OK
pin cwd bpffs: d/../r4/: ENOENT
pin cwd bpffs: d/r5: OK
pin cwd bpffs: m: EEXIST
pin cwd bpffs: nope/r6: ENOENT
pin cwd bpffs: ../r7: EPERM
get cwd /sys/fs: bpf/m: OK update=OK lookup=OK
pin cwd /sys/fs: bpf/r8: OK
get cwd /sys/fs: ./bpf/d/../m: OK update=OK lookup=OK
pin fd bpffs: q1: OK
get fd bpffs: q1: OK update=OK lookup=OK
get fd bpffs: m: OK update=OK lookup=OK
get fd bpffs: m rdonly: OK update=EPERM lookup=OK
get fd bpffs: m wronly: OK update=OK lookup=EPERM
get fd bpffs: m rdonly|wronly: EINVAL
pin fd bpffs: m: EEXIST
get fd bpffs: nope: ENOENT
get fd bpffs: m/: ENOTDIR
get fd bpffs: ..: EACCES
get fd bpffs: ../bpf/m: OK update=OK lookup=OK
get fd bpffs: secret: EACCES
get fd bpffs: empty: ENOENT
get fd closed: m: EBADF
pin fd closed: q2: EBADF
get fd closed: /sys/fs/bpf/m: OK update=OK lookup=OK
pin fd closed: /sys/fs/bpf/q9: OK
get fd -1: m: EBADF
get fd -100 (cwd bpffs): m: OK update=OK lookup=OK
pin fd -100 (cwd bpffs): q10: OK
get fd /dev/null: m: ENOTDIR
pin fd /dev/null: q3: ENOTDIR
get fd /dev/null: /sys/fs/bpf/m: OK update=OK lookup=OK
get fd d: inner: OK update=OK lookup=OK
get fd d: ../m: OK update=OK lookup=OK
get fd d: ../../bpf/m: OK update=OK lookup=OK
pin fd d: ../q4: OK
pin fd d: q11: OK
get fd d: q11: OK update=OK lookup=OK
get fd O_PATH bpffs: m: OK update=OK lookup=OK
pin fd O_PATH bpffs: q12: OK
pin fd /tmp: q5: EPERM
get fd /tmp: nope: ENOENT
get fd /sys/fs: bpf/m: OK update=OK lookup=OK
pin fd /sys/fs: bpf/q6: OK
get no flag, path_fd set: m: EINVAL
pin no flag, path_fd set: q7: EINVAL
pin flag RDONLY on pin: q8: EINVAL
get unknown flag: m: EINVAL
get fd bpffs, no flag, path_fd 0: m: OK update=OK lookup=OK
stat q1: file
stat q4: file
stat q6: file
stat q10: file
stat q11: ENOENT
stat q12: file
stat r1: file
stat r2: file
stat r3: file
stat r8: file
stat d/r5: file
stat q9: file
END
}

run() {
	local m=$1 out=$STAGE/obj_paths.$1
	in_mode "$m" "$STAGE/obj_paths" nodac >"$out" 2>&1 || fail "$m: obj_paths: $(tail -1 "$out")"
	expected | diff -u --label expected --label "$m" - "$out" || fail "$m: the answers differ from the kernel's"
	say "ok: $m ($(wc -l <"$out") cases)"
}

kernel_needs map hash
[ "$MODE" = emu ] || ! kernel_on || run kernel
[ "$MODE" = kernel ] || run emu
[ "$MODE" = diff ] && kernel_on && same_or_fail "pin/get paths" "$STAGE/obj_paths.kernel" "$STAGE/obj_paths.emu"
say "PASS"
