#!/usr/bin/env bash
# tools/bench/vm.sh [--quick] [--rounds N] [BUILD_DIR]   (run-bench --vm runs it; so does run-bench)
#
# How fast programs run: tools/bench/vm.c (bench_vm) on tools/bench/vm.bpf.c's
# programs and two hand-built ones, three ways in one go, in interleaved
# rounds (the machine may be shared: each round runs all three back to back):
#   kernel   as root on the real bpf() with the kernel's JIT (skipped without
#            root or a working bpf())
#   jit      as nobody under `bpfemu run` (the emulator, BPFEMU_JIT=1)
#   interp   the same with BPFEMU_JIT=0 (the emulator's interpreter)
# and prints, per row, the median over the rounds of each way's median of 5
# calls, the ratios to the kernel and issue 14's targets: the emulator at
# most the kernel on (a) xdp_pass and (b) xdp_count, at most 2x on (c)
# xdp_sum, for both the reported duration and the wall time per run (the
# call's time / repeat, repeat = 1,000,000; --quick: 100,000).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
QUICK=
ROUNDS=3
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=--quick; shift ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	*) break ;;
	esac
done
BUILD=$(cd "${1:-$SRC/build}" && pwd)
BENCH=$BUILD/tools/bench/bench_vm
OBJ=$BUILD/tools/bench/vm.o
[ -x "$BENCH" ] && [ -f "$OBJ" ] || { echo "vm.sh: $BENCH or $OBJ not built (needs clang and libbpf)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/bpfemu-vmbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
cp "$BENCH" "$OBJ" "$BUILD/tools/bpfemu" "$BUILD/preload/libbpfemu.so" "$WORK/"
chmod 644 "$WORK/vm.o"
RUNAS=()
if [ "$(id -u)" = 0 ]; then
	RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
KERNEL_OK=
if [ "$(id -u)" = 0 ] && "$WORK/bench_vm" "$WORK/vm.o" --quick --only xdp_pass >/dev/null 2>&1; then
	KERNEL_OK=1
fi
echo "== programs run: $(uname -srm); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "== kernel: $([ -n "$KERNEL_OK" ] && echo "root, bpf_jit_enable=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null || echo '?')" || echo "skipped (needs root and a working bpf())")"
echo "== emulator: as $([ ${#RUNAS[@]} -gt 0 ] && echo nobody || id -un) under bpfemu run; $ROUNDS interleaved rounds"

emu() {     # emu JIT OUT
	local st
	st=$(mktemp -d "$WORK/state.XXXXXX")
	chmod 777 "$st"
	"${RUNAS[@]}" env BPFEMU_JIT="$1" BPFEMU_ROOT="$st/root" BPFEMU_LIB="$WORK/libbpfemu.so" \
		"$WORK/bpfemu" run -- "$WORK/bench_vm" "$WORK/vm.o" $QUICK >"$2"
}
for r in $(seq "$ROUNDS"); do
	if [ -n "$KERNEL_OK" ]; then
		"$WORK/bench_vm" "$WORK/vm.o" $QUICK >"$WORK/kernel.$r"
	else
		: >"$WORK/kernel.$r"
	fi
	emu 1 "$WORK/jit.$r"
	emu 0 "$WORK/interp.$r"
done

awk -v rounds="$ROUNDS" '
FNR == 1 { src = FILENAME; sub(/.*\//, "", src); split(src, sp, "."); src = sp[1] }
$1 == "row" { n[src, $2]++; v[src, $2, n[src, $2]] = $3; if (!($2 in seen)) { seen[$2] = 1; order[++nr] = $2 } }
function med(s, r,   k, m, a, i, j, t) {
	m = n[s, r]; if (!m) return ""
	for (i = 1; i <= m; i++) a[i] = v[s, r, i] + 0
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((m + 1) / 2)]
}
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "" : sprintf("%.2f", a / b) }
END {
	printf "\n%-30s %9s %9s %9s %9s %9s  %s\n", "row (ns per run; median)", "kernel", "jit", "interp", "jit/kern", "int/kern", "target (jit and interp vs kernel)"
	miss = 0
	for (i = 1; i <= nr; i++) {
		r = order[i]; k = med("kernel", r); j = med("jit", r); p = med("interp", r)
		t = ""
		if (r ~ /^xdp_(pass|count|sum)_/) {
			lim = r ~ /^xdp_sum/ ? 2 : 1
			if (k != "") {
				t = (j <= lim * k ? "jit ok" : sprintf("jit MISS by %.0f%%", 100 * (j / (lim * k) - 1)))
				t = t ", " (p <= lim * k ? "interp ok" : sprintf("interp MISS by %.0f%%", 100 * (p / (lim * k) - 1)))
				t = t " (<= " lim "x)"
				if (j > lim * k) miss++
			}
		}
		printf "%-30s %9s %9s %9s %9s %9s  %s\n", r, k, j, p, ratio(j, k), ratio(p, k), t
	}
	printf "\nJIT rows missing a target: %d\n", miss
}' "$WORK"/kernel.* "$WORK"/jit.* "$WORK"/interp.*
