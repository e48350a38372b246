#!/usr/bin/env bash
# tests/tracing/btf.sh emu|diff
#
# The kernel's BTF as the emulator's (btf_twin.c): /sys/kernel/btf/vmlinux is
# BTF object 1, named vmlinux, kernel_btf, its data the file's; one object per
# module file; `bpftool btf show` lists it as on the kernel; program loads
# naming kernel BTF types (tp_btf, iter; fentry/fexit/fmod_ret, lsm, ext,
# struct_ops) get the kernel's answers and verifier messages; without a
# vmlinux file (BPFEMU_KERNEL_BTF pointing at an empty directory) the engine
# answers as a kernel without BTF.
#   emu   under the shim as nobody; each transcript must be the expected one
#         kept beside this script (type ids print as ID)
#   diff  also the "shared" part on the kernel as root: identical. The
#         fentry/lsm/ext part has no kernel side here: Linux 6.18 with
#         lockdown=integrity refuses those loads with EPERM before any check
#         (shown as a SKIP line when the host does).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

MODE=${1:-emu}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
[ -r /sys/kernel/btf/vmlinux ] || skip "this host has no /sys/kernel/btf/vmlinux"
stage btf_twin
HERE=$(dirname "$0")
check() {          # NAME OUTPUT: compare with $HERE/btf_NAME.expected
	if diff -u --label expected --label bpfemu "$HERE/btf_$1.expected" "$2"; then
		say "$1: bpfemu's transcript is the expected one"
	else
		fail "$1: bpfemu's transcript differs from the expected one (-)"
	fi
}

for part in shared tracing; do
	say "btf_twin $part: as $EMU_USER under the shim"
	emu "$STAGE/btf_twin" $part >"$STAGE/$part.out" 2>"$STAGE/$part.err" ||
		{ cat "$STAGE/$part.out" "$STAGE/$part.err"; fail "btf_twin $part failed"; }
	check $part "$STAGE/$part.out"
done

say "bpftool btf show as $EMU_USER"
emu bpftool btf show >"$STAGE/show.out" 2>&1 || fail "bpftool btf show"
sed 's/^/  /' "$STAGE/show.out"
grep -Eq "^1: name \[vmlinux\]  size $(stat -c %s /sys/kernel/btf/vmlinux)B$" "$STAGE/show.out" ||
	fail "bpftool btf show: no '1: name [vmlinux]  size NB' line"

say "without /sys/kernel/btf/vmlinux (BPFEMU_KERNEL_BTF=an empty directory): a kernel without BTF"
mkdir -m 755 "$STAGE/nobtf"
STATE2=$STAGE/state2
mkdir -m 700 "$STATE2"
is_root && chown "$NOBODY_UID:$NOBODY_GID" "$STATE2"
as_user env BPFEMU_ROOT="$STATE2" BPFEMU_LIB="$STAGE/libbpfemu.so" BPFEMU_KERNEL_BTF="$STAGE/nobtf" BPFEMU_LOG=sys \
	"$STAGE/bpfemu" run -- "$STAGE/btf_twin" shared >"$STAGE/nobtf.out" 2>"$STAGE/nobtf.err"
grep -q "nobtf/vmlinux cannot be read: bpfemu answers as a kernel without BTF" "$STAGE/nobtf.err" ||
	{ cat "$STAGE/nobtf.err"; fail "no log line about the missing vmlinux BTF"; }
check nobtf "$STAGE/nobtf.out"

if [ "$MODE" = diff ]; then
	is_root || skip "the kernel comparison needs root"
	say "btf_twin shared on the kernel, as root"
	(cd / && "$STAGE/btf_twin" shared) >"$STAGE/kernel.out" 2>&1 || { cat "$STAGE/kernel.out"; fail "kernel run"; }
	same_or_fail "btf_twin shared" "$STAGE/kernel.out" "$STAGE/shared.out"
	(cd / && "$STAGE/btf_twin" tracing) >"$STAGE/ktracing.out" 2>&1
	if grep -q "fentry security_file_open  *EPERM$" "$STAGE/ktracing.out"; then
		say "SKIP kernel side of fentry/lsm/ext: this kernel refuses them with EPERM (lockdown)"
	else
		same_or_fail "btf_twin tracing" "$STAGE/ktracing.out" "$STAGE/tracing.out"
	fi
fi
exit 0
