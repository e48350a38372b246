#!/usr/bin/env bash
# tests/verifier/libbpf_tools.sh emu|diff|xlated: every BPF program of Debian's
# libbpf-tools, loaded the way each tool loads it (its own CO-RE relocations,
# read-only data, the programs it chooses after probing the kernel), under
# bpfemu and on the kernel: the same programs accepted or refused, with the
# same errno, and the same verified_insns (the verifier's processed count).
#
# Each tool runs with libloadwatch.so preloaded (loadwatch.c): it writes one
# line per program of the tool's object loaded, and ends the tool when it
# starts attaching them (nothing runs). Under bpfemu it also answers the
# loads this host's kernel refuses (REFUSE_LOADS, probed by `vhelper
# refused`: fentry/fexit on a kernel without trampolines) as that kernel
# does, so the tools take the same path.
#
# The kernel's answers are in expected/libbpf_tools.txt, recorded on the host
# its header names (kernel, vmlinux BTF, libbpf-tools version): the programs
# are CO-RE-relocated against the host's BTF, so the engine is checked
# against that file on a host with the same BTF and libbpf-tools, against the
# live kernel on another one (as root), and skipped with the reason otherwise.
# BPFEMU_UPDATE_EXPECTED=kernel rewrites the file from the kernel's run.
#
# xlated (as root): both runs also write each program as bpf_prog_info shows
# it (LOADWATCH_XLATED), and xlcmp prints how many programs have the
# kernel's xlated_prog_len, its instructions (map, helper and call addresses
# set aside) and its dead code shape (the line_info records that survive the
# dead code passes), and classifies the other differences (the kernel's
# rewrites bpfemu does not make); it fails when a shape differs.
# shellcheck source=../integration/common.sh
source "$(dirname "$0")/../integration/common.sh"

: "${VTEST_BIN:=$BPFEMU_BUILD_DIR/tests/verifier}"
EXP=$ITEST_DIR/expected/libbpf_tools.txt
MODE=${1:-}
case $MODE in emu | diff | xlated) ;; *) echo "usage: $0 emu|diff|xlated" >&2; exit 2 ;; esac

# tool -> arguments it needs to reach its load
declare -A ARGS=([funclatency]="vfs_read" [javagc]="-p 1" [ksnoop]="trace ip_send_skb"
	[fsdist]="-t ext4" [fsslower]="-t ext4")

command -v dpkg-query >/dev/null || skip "no dpkg-query: not a Debian host"
ver=$(dpkg-query -W -f '${Version}' libbpf-tools 2>/dev/null) || skip "libbpf-tools is not installed (tools/bootstrap installs it)"
[ -r /sys/kernel/btf/vmlinux ] || skip "no /sys/kernel/btf/vmlinux: libbpf-tools need the kernel's BTF"
btf_sha=$(sha256sum /sys/kernel/btf/vmlinux | cut -d' ' -f1)
host_id="libbpf-tools $ver, vmlinux BTF sha256 $btf_sha"
TOOLS=$(dpkg-query -L libbpf-tools | grep '^/usr/sbin/' | xargs -n1 basename | LC_ALL=C sort)

stage
for f in libloadwatch.so vhelper xlcmp; do
	[ -r "$VTEST_BIN/$f" ] || fail "$VTEST_BIN/$f is missing: build first"
	cp -- "$VTEST_BIN/$f" "$STAGE/" && chmod 755 "$STAGE/$f" || fail "cp $f"
done

# run_all emu|kernel REFUSE OUT: the transcript of all tools
run_all() {
	local m=$1 refuse=$2 out=$3 xl=${4:-} t lw
	: >"$out"
	[ -z "$xl" ] || { : >"$xl" && chmod 666 "$xl"; }
	for t in $TOOLS; do
		echo "== $t" >>"$out"
		[ -z "$xl" ] || echo "== $t" >>"$xl"
		lw=$STAGE/lw.$m.$t
		rm -f "$lw"
		if [ "$m" = kernel ]; then
			# with tracefs and debugfs mounted (a private mount namespace), as
			# bpfemu's inert mode shows them: tools probe for tracepoints there
			# before choosing their programs (opensnoop's sys_enter_open)
			(cd / && unshare -m --propagation private sh -c '
				mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
				mount -t debugfs nodev /sys/kernel/debug 2>/dev/null
				exec "$@"' sh env LOADWATCH_STOP=1 LOADWATCH_OUT="$lw" LOADWATCH_XLATED="$xl" LD_PRELOAD="$STAGE/libloadwatch.so" \
				timeout -s INT 20 "/usr/sbin/$t" ${ARGS[$t]:-}) >/dev/null 2>&1 </dev/null
		else
			fresh_state
			: >"$lw" && chmod 666 "$lw"
			as_user env LD_PRELOAD="$STAGE/libloadwatch.so:$STAGE/libbpfemu.so" BPFEMU_LIB="$STAGE/libbpfemu.so" \
				LOADWATCH_STOP=1 LOADWATCH_OUT="$lw" LOADWATCH_XLATED="$xl" REFUSE_LOADS="$refuse" BPFEMU_ROOT="$STATE" \
				BPFEMU_ATTACH=inert timeout -s INT 20 "$STAGE/bpfemu" run -- "/usr/sbin/$t" ${ARGS[$t]:-} \
				>/dev/null 2>&1 </dev/null
		fi
		[ -e "$lw" ] && cat "$lw" >>"$out"
	done
}

header_field() { sed -n "s/^# $1: //p" "$EXP" | head -1; }

if [ "$MODE" = xlated ]; then
	is_root || skip "not root (the kernel's xlated programs are read as root)"
	refuse=$("$STAGE/vhelper" refused) || fail "vhelper refused"
	run_all kernel "$refuse" "$STAGE/kernel.txt" "$STAGE/kernel.xl"
	run_all emu "$refuse" "$STAGE/emu.txt" "$STAGE/emu.xl"
	same_or_fail "libbpf-tools loads" "$STAGE/kernel.txt" "$STAGE/emu.txt"
	[ -z "${XLCMP_KEEP:-}" ] || cp -- "$STAGE/kernel.xl" "$STAGE/emu.xl" "$XLCMP_KEEP/" || fail "cp to $XLCMP_KEEP"
	"$STAGE/xlcmp" "$STAGE/kernel.xl" "$STAGE/emu.xl" ${XLCMP_VERBOSE:+-v} || fail "a dead code shape differs from the kernel's"
	say "libbpf-tools: dead code shapes as the kernel's"
	exit 0
fi

live=
if [ "$MODE" = diff ]; then
	if ! is_root; then
		kernel_off "not root (the tools load their programs on the kernel as root)"
	else
		refuse=$("$STAGE/vhelper" refused) || fail "vhelper refused"
		say "the host refuses: ${refuse:-nothing} (REFUSE_LOADS for the emulated runs)"
		run_all kernel "$refuse" "$STAGE/kernel.txt"
		live=1
		if [ "${BPFEMU_UPDATE_EXPECTED:-}" = kernel ]; then
			{
				echo "# host: $host_id"
				echo "# recorded on: Linux $(uname -r)"
				echo "# refused: $refuse"
				cat "$STAGE/kernel.txt"
			} >"$EXP"
			say "wrote $EXP from the kernel's run"
		fi
	fi
fi

[ -e "$EXP" ] || fail "no expected transcript $EXP (BPFEMU_UPDATE_EXPECTED=kernel, as root: $0 diff)"
if [ "$(header_field host)" = "$host_id" ]; then
	refuse=$(header_field refused)
	grep -v '^#' "$EXP" >"$STAGE/expected.txt"
	run_all emu "$refuse" "$STAGE/emu.txt"
	if diff -u --label "expected (the kernel)" --label bpfemu "$STAGE/expected.txt" "$STAGE/emu.txt"; then
		say "$(grep -vc '^==' "$STAGE/expected.txt") program loads of $(grep -c '^==' "$STAGE/expected.txt") tools: as the kernel answered"
	else
		fail "bpfemu differs from the kernel's answers (-) $EXP"
	fi
	if [ -n "$live" ]; then
		same_or_fail "libbpf-tools loads" "$STAGE/kernel.txt" "$STAGE/emu.txt"
	fi
elif [ -n "$live" ]; then
	say "the expected answers were recorded with $(header_field host); this host has $host_id: bpfemu against the live kernel"
	run_all emu "$refuse" "$STAGE/emu.txt"
	same_or_fail "libbpf-tools loads" "$STAGE/kernel.txt" "$STAGE/emu.txt"
else
	skip "the expected answers are for $(header_field host), this host has $host_id (their programs are relocated against that BTF); run as root to compare with this kernel"
fi
