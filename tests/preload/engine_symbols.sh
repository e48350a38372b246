#!/usr/bin/env bash
# tests/preload/engine_symbols.sh MAP OBJECT...
#
# No object of the engine (bpfemu_core) refers by name to a function the
# shim exports (preload/bpfemu.map: close, open, stat, mmap, syscall...): in
# libbpfemu.so such a call would bind to the shim's wrapper. The engine
# reaches the system through emu/os.c instead. Lists every offender.
set -uo pipefail
map=$1
shift
command -v nm >/dev/null || { echo "SKIP: nm is not installed"; exit 77; }
exported=$(sed -n '/global:/,/local:/p' "$map" | sed 's|/\*.*\*/||g' | tr ';' '\n' |
	sed 's/global://; s/local:.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' | grep -E '^[A-Za-z_][A-Za-z0-9_]*$' |
	grep -v '^bpfemu_')
[ -n "$exported" ] || { echo "FAIL: no exported names read from $map"; exit 1; }
bad=0
for o in "$@"; do
	while read -r sym; do
		echo "FAIL: $(basename "$o") calls $sym, which the shim wraps"
		bad=1
	done < <(nm -u "$o" | awk 'NF == 2 { print $2 }' | sed 's/@.*//' | grep -xF "$exported")
done
[ "$bad" = 0 ] && echo "ok: $# engine objects, $(echo "$exported" | wc -l) wrapped names, none called by the engine"
exit "$bad"
