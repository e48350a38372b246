#!/usr/bin/env bash
# tests/integration/ringbuf_poll.sh [emu]
#
# libbpf's ring buffer APIs (Debian's libbpf) as nobody under the shim, with
# the other end in a separate process:
#  1. a consumer creates and pins a RINGBUF and waits in ring_buffer__poll
#     (5 s timeout); a producer started afterwards calls bpfemu_ringbuf_output
#     (dlsym from libbpfemu.so) 40 times, 25 ms apart. The consumer must get
#     every record in order, each poll must come back with data (it blocks,
#     no empty returns), promptly, without burning CPU, and an idle
#     poll(200 ms) must wait its timeout.
#  2. the reverse: a producer creates and pins a one-page USER_RINGBUF and
#     writes 64 records of 512 bytes with user_ring_buffer__reserve/
#     reserve_blocking + submit; a drainer in another process calls
#     bpfemu_user_ringbuf_drain every 20 ms. The producer must block for
#     space (not spin) and the drainer get every record in order.
# There is no kernel mode: on the kernel only a BPF program produces into a
# ring buffer (or drains a user ring buffer).
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

case "${1:-emu}" in emu) ;; *) echo "usage: $0 [emu]" >&2; exit 2 ;; esac
itest_init emu ringbuf_poll

# start_bg NAME CMD...: runs CMD in the background, output to $STAGE/NAME.out,
# and waits until it printed "ready"
start_bg() {
	local name=$1 i
	shift
	"$@" >"$STAGE/$name.out" 2>&1 &
	BG_PID=$!
	for i in $(seq 200); do
		grep -qx ready "$STAGE/$name.out" && return 0
		kill -0 "$BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/  /' "$STAGE/$name.out"
	fail "$name did not get ready"
}
finish_bg() {           # NAME: waits for it, shows its output, fails on failure
	local rc
	wait "$BG_PID"
	rc=$?
	sed 's/^/  /' "$STAGE/$1.out"
	[ "$rc" -eq 0 ] || fail "$1 failed (exit $rc)"
}

say "consumer: ring_buffer__new + ring_buffer__poll as $EMU_USER"
start_bg consumer emu "$STAGE/ringbuf_poll" consume /sys/fs/bpf/rb 40
say "producer: bpfemu_ringbuf_output from another process"
emu "$STAGE/ringbuf_poll" produce /sys/fs/bpf/rb 40 25 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the producer failed"
say "consumer:"
finish_bg consumer

say "user ring buffer: user_ring_buffer__reserve_blocking/submit as $EMU_USER"
start_bg producer emu "$STAGE/ringbuf_poll" ureserve /sys/fs/bpf/urb 64
say "drainer: bpfemu_user_ringbuf_drain from another process"
emu "$STAGE/ringbuf_poll" udrain /sys/fs/bpf/urb 64 20 2>&1 | sed 's/^/  /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "the drainer failed"
say "producer:"
finish_bg producer

emu rm /sys/fs/bpf/rb /sys/fs/bpf/urb || fail "unpin"
say "ring buffers: libbpf consumers and producers across processes, blocking"
exit 0
