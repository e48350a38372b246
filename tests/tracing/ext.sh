#!/usr/bin/env bash
# tests/tracing/ext.sh emu|diff
#
# Program extensions (BPF_PROG_TYPE_EXT, libbpf's SEC("freplace/FUNC")):
# ext_twin loads ext_tgt.o (an XDP program calling the global function
# check()) and ext.o's extensions of it: load errors (a static function,
# prototypes that differ, no target, an extension of an extension), attach
# by RAW_TRACEPOINT_OPEN and LINK_CREATE (EBUSY for a second extension of
# the same function), link info, `bpftool link show` / `prog show` while
# attached, and BPF_PROG_TEST_RUN of the target before, while and after the
# extension replaces check() (retval 2, then 1, then 2 again).
# The same under the seccomp door (--mode seccomp). Then (engine only)
# `bpfemu fire raw_tracepoint:sys_enter` of a raw_tp
# program (ext_fire.bpf.c) whose pick() new_pick() replaces while attached.
#   emu   under the shim as nobody, without BPFEMU_ATTACH=inert, against
#         ext.expected (ids, times and the JIT normalized)
#   diff  also on the kernel as root in a private mount namespace: identical;
#         skipped with the reason where the host refuses extensions
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/../integration/common.sh"

MODE=${1:-emu}
case $MODE in emu | diff) ;; *) echo "usage: $0 emu|diff" >&2; exit 2 ;; esac
command -v bpftool >/dev/null || skip "bpftool is not installed"
stage ext_twin
for o in ext.o ext_tgt.o ext_fire.o; do
	cp "$ITEST_BIN/$o" "$STAGE/" || fail "$o is missing: build first"
	chmod 644 "$STAGE/$o"
done
HERE=$(dirname "$0")

norm() {
	sed -E -e 's/^[0-9]+: /ID: /' -e 's/\b(prog|btf_id|map_ids) [0-9,]+/\1 ID/g' \
		-e 's/loaded_at [^ ]+/loaded_at TIME/' -e 's/\buid [0-9]+/uid UID/' \
		-e 's/(not jited|jited [0-9]+B)/JIT/' -e 's/memlock [0-9]+B/memlock MEM/' -e 's/ +$//'
}

# shellcheck disable=SC2016 # $LINK, $EXT and $TGT are ext_twin's, for the shell it starts
CMD='bpftool link show id $LINK; bpftool prog show id $EXT; bpftool prog show id $TGT'
session() {
	"$@" "$STAGE/ext_twin" "$STAGE" "$CMD" 2>&1 | norm
}

say "extension session as $EMU_USER under the shim (no inert mode)"
session emu >"$STAGE/emu.out" 2>&1
[ -n "${EXT_KEEP:-}" ] && cp "$STAGE/emu.out" "$EXT_KEEP.emu"
if diff -u --label expected --label bpfemu "$HERE/ext.expected" "$STAGE/emu.out"; then
	say "bpfemu's transcript is the expected one ($(wc -l <"$HERE/ext.expected") lines)"
else
	fail "bpfemu's transcript differs from the expected one (-)"
fi

say "ext_twin under the seccomp door (--mode seccomp): the same transcript"
fresh_state
as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" "$STAGE/bpfemu" run --mode seccomp -- \
	"$STAGE/ext_twin" "$STAGE" "$CMD" 2>&1 | norm >"$STAGE/door.out"
diff -u --label expected --label door "$HERE/ext.expected" "$STAGE/door.out" ||
	fail "ext_twin under the seccomp door differs from the expected transcript (-)"

# No kernel side: an extension of a program `bpfemu fire` runs (BPFEMU_ATTACH=inert
# for the raw tracepoint; the extension's link needs no inert mode)
say "bpfemu fire of a raw_tp program whose pick() an extension replaces, as $EMU_USER"
fresh_state
# the CLI runs the engine itself, with the shim ext_twin's system() passes on
# preloaded (the two engines must not meet: a sanitizer build once sent the
# CLI engine's mmap to the shim's wrapper, and the fire found no program)
FIRE="$STAGE/bpfemu fire --root $STATE raw_tracepoint:sys_enter"
as_user env BPFEMU_ROOT="$STATE" BPFEMU_LIB="$STAGE/libbpfemu.so" BPFEMU_ATTACH=inert "$STAGE/bpfemu" run -- \
	"$STAGE/ext_twin" fire "$STAGE" "$FIRE id=12345 && $FIRE" >"$STAGE/fire.out" 2>&1
# pick() gives 2 for id 12345 and 1 otherwise; new_pick() 0, counting 100 and 1 in its own .bss
diff -u --label expected --label bpfemu - "$STAGE/fire.out" <<'EOF' || fail "the fire transcript differs (-)"
fire_main on sys_enter: ok
load new_pick_7 -> pick: EINVAL
  | Validating new_pick_7() func#0...
  | 0: R1=ctx() R10=fp0
  | ; return ctx->args[1] == 12345 ? 8 : 7; @ ext.bpf.c:77
  | 0: (79) r1 = *(u64 *)(r1 +8)          ; R1=scalar()
  | 1: (b7) r0 = 8                        ; R0=8
  | 2: (15) if r1 == 0x3039 goto pc+1     ; R1=scalar()
  | 3: (b7) r0 = 7                        ; R0=7
  | 4: (95) exit
  | At program exit the register R0 has smin=7 smax=7 should have been in [0, 0]
load new_pick -> pick: P1
fired: hits 2 last 1
link_create new_pick: L1 type 2 prog P1 attach_type 0 target_obj P2 target_btf_id 9
fired, new_pick attached: hits 4 last 0
new_pick's: calls 101
fired, new_pick detached: hits 6 last 1
EOF
say "fired: pick() replaced while the link lived (last 0, new_pick counted 101), restored after"

if [ "$MODE" = diff ]; then
	kernel_session "extension session" "${EXT_KEEP:-}" "^load new_two -> two: EPERM" \
		"this host's kernel refuses extension programs as root (EPERM)"
fi
exit 0
