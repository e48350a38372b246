#!/usr/bin/env bash
# tests/tracing/sops.sh emu|diff
#
# struct_ops (issue 16's last attach kind): BPF_MAP_TYPE_STRUCT_OPS and
# BPF_PROG_TYPE_STRUCT_OPS as Linux 6.18 answers them.
#   1. sops_twin (raw bpf()): map creation errors, member program loads, the
#      value's update checks (tcp_congestion_ops' members, unique names),
#      lookups (state, refcnt, programs by id), delete, BPF_F_LINK maps with
#      LINK_CREATE / LINK_UPDATE / LINK_DETACH and link info, bpf_dummy_ops
#      (also under the seccomp door: --mode seccomp)
#   2. bpftool as a user would: `struct_ops register` of a libbpf object
#      (sops.bpf.c, Debian's libbpf 1.1: bpf_map__attach_struct_ops), then in
#      other processes `struct_ops show`, `struct_ops dump`, `map show`,
#      `prog show`, `struct_ops unregister`, `show` again; a linked map while
#      `link show` and `struct_ops show` look (sops_twin link-show)
#   3. (engine only) bpfemu fire struct_ops:tcp_congestion_ops/bpfemu_sops.MEMBER
#   emu   1 and 2 under the shim as nobody, against sops.expected (ids, times,
#         the value type's vmlinux BTF id and what only a JIT has normalized)
#   diff  also on the kernel as root in a private mount namespace: identical
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

MODE=${1:-emu}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
[ -r /sys/kernel/btf/vmlinux ] || skip "this host has no /sys/kernel/btf/vmlinux (struct_ops types are its)"
command -v bpftool >/dev/null || skip "bpftool is not installed"
stage sops_twin
cp "$ITEST_BIN/sops.o" "$STAGE/" || fail "sops.o is missing: build first"
chmod 644 "$STAGE/sops.o"
HERE=$(dirname "$0")
# the value type's id in the host's vmlinux BTF: another kernel build numbers it otherwise
VTYPE=$(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
	sed -nE "s/^\[([0-9]+)\] STRUCT 'bpf_struct_ops_tcp_congestion_ops' .*/\1/p")
[ -n "$VTYPE" ] || skip "no bpf_struct_ops_tcp_congestion_ops in this host's vmlinux BTF"
vtype_norm() { sed -E "s/(attach_btf_id |\"btf_vmlinux_value_type_id\": )$VTYPE\b/\1VTYPE_ID/"; }

# ids, times, the JIT and uids as tokens; libbpf's notes on sections it skips dropped
norm() {
	sed -E -e 's/^[0-9]+: /ID: /' -e 's/\b(id|map_id|prog|btf_id) [1-9][0-9]*/\1 ID/g' -e 's/prog_id:[0-9]+/prog_id:ID/g' \
		-e 's/"(id|btf_id)": [0-9]+/"\1": ID/' -e 's/map_ids [0-9,]+/map_ids ID/' \
		-e 's/loaded_at [^ ]+/loaded_at TIME/' -e 's/\buid [0-9]+/uid UID/' \
		-e 's/(not jited|jited [0-9]+B)/JIT/' -e 's/ +$//' \
		-e '/^libbpf: elf: skipping/d' | vtype_norm
}

# session RUNNER...: the whole transcript, each command through RUNNER
session() {
	{ "$@" "$STAGE/sops_twin" || echo "sops_twin: exit $?"; } | vtype_norm
	echo "-- bpftool"
	{
		"$@" bpftool struct_ops register "$STAGE/sops.o"
		"$@" bpftool struct_ops show
		"$@" bpftool struct_ops dump name sops_ca
		"$@" bpftool map show name sops_ca
		"$@" bpftool prog show name sops_ssthresh
		"$@" bpftool struct_ops unregister name sops_ca
		"$@" bpftool struct_ops unregister name sops_ca
		echo "show after unregister:"
		"$@" bpftool struct_ops show
		# shellcheck disable=SC2016 # $LINK and $MAP are sops_twin's, for the shell it starts
		"$@" "$STAGE/sops_twin" link-show 'bpftool link show id $LINK; bpftool struct_ops show id $MAP'
		echo "show after the link closed:"
		"$@" bpftool struct_ops show
	} 2>&1 | norm
}

say "struct_ops session as $EMU_USER under the shim"
session emu >"$STAGE/emu.out" 2>&1
# SOPS_KEEP=PREFIX keeps the transcripts (PREFIX.emu, PREFIX.kernel) to write sops.expected from
[ -n "${SOPS_KEEP:-}" ] && cp "$STAGE/emu.out" "$SOPS_KEEP.emu"
if diff -u --label expected --label bpfemu "$HERE/sops.expected" "$STAGE/emu.out"; then
	say "bpfemu's transcript is the expected one ($(wc -l <"$HERE/sops.expected") lines)"
else
	fail "bpfemu's transcript differs from the expected one (-)"
fi

say "sops_twin under the seccomp door (--mode seccomp): the same transcript"
fresh_state
as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run --mode seccomp -- \
	"$STAGE/sops_twin" >"$STAGE/door.out" 2>"$STAGE/door.err" || { cat "$STAGE/door.err"; fail "sops_twin under the door"; }
vtype_norm <"$STAGE/door.out" >"$STAGE/door.norm"
sed '/^-- bpftool$/,$d' "$HERE/sops.expected" | diff -u --label expected --label door - "$STAGE/door.norm" ||
	fail "sops_twin under the seccomp door differs from the expected transcript (-)"

# No kernel side: a registered member's program run by `bpfemu fire`
say "bpfemu fire struct_ops:tcp_congestion_ops/bpfemu_sops.MEMBER as $EMU_USER"
fresh_state
emu bpftool struct_ops register "$STAGE/sops.o" >/dev/null 2>&1 || fail "struct_ops register"
bfire() { as_user "$STAGE/bpfemu" fire --root "$STATE" "$@"; }
out=$(bfire -v struct_ops:tcp_congestion_ops/bpfemu_sops.ssthresh 2>&1) || fail "fire ssthresh: $out"
echo "  $out"
[[ $out =~ ^prog\ [0-9]+\ \'sops_ssthresh\'\ \(struct_ops\):\ returned\ 7$ ]] || fail "fire ssthresh: '$out'"
out=$(bfire -v struct_ops:tcp_congestion_ops/bpfemu_sops.cong_avoid arg1=3 arg2=5 2>&1) || fail "fire cong_avoid: $out"
echo "  $out"
[[ $out =~ \'sops_cong_avoid\'\ \(struct_ops\):\ returned\ 0$ ]] || fail "fire cong_avoid: '$out'"
# ssthresh adds 1 to calls, cong_avoid its acked (arg2)
emu bpftool map dump name sops.bss >"$STAGE/bss.out" 2>&1
grep -q '"calls": 6$' "$STAGE/bss.out" || { cat "$STAGE/bss.out"; fail "the programs' .bss: calls is not 6"; }
say "the programs counted 6 in their .bss"
out=$(bfire struct_ops:tcp_congestion_ops/bpfemu_sops.get_info 2>&1) && fail "fire get_info (no program): '$out'"
out=$(bfire struct_ops:tcp_congestion_ops/bpfemu_sops.nope 2>&1) && fail "fire of a member the struct has not ran"
[[ $out == *"no function member nope in struct tcp_congestion_ops"* ]] || fail "fire of member nope: '$out'"
emu bpftool struct_ops unregister name sops_ca >/dev/null 2>&1 || fail "unregister"
out=$(bfire struct_ops:tcp_congestion_ops/bpfemu_sops.ssthresh 2>&1) && fail "fire after unregister ran: '$out'"
say "after unregister nothing runs: $out"

if [ "$MODE" = diff ]; then
	# a host that refuses struct_ops (no CAP_BPF, lockdown): the expected file still checked the engine
	kernel_session "struct_ops session" "${SOPS_KEEP:-}" "^create tcp_congestion_ops: EPERM" \
		"this host's kernel refuses struct_ops maps as root (EPERM)"
fi
exit 0
