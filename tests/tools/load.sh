#!/bin/bash
# tests/tools/load.sh MODE: `bpfemu load` on the objects CMake compiled
# (TOOLS_OBJ), as nobody under the emulator (emu), as root on the real kernel
# (kernel), or both with their transcripts compared (diff).
# shellcheck source=../integration/common.sh
. "$(dirname "$0")/../integration/common.sh"
: "${TOOLS_OBJ:=$BPFEMU_BUILD_DIR/tests/tools}"

itest_init "${1:-}"
NCPU=$(awk -F'[-,]' '{n=0; for (i=1;i<=NF;i+=2) n+=($(i+1)==""?1:$(i+1)-$i+1); print n}' \
	/sys/devices/system/cpu/possible 2>/dev/null)
[ -n "$NCPU" ] || NCPU=$(nproc)

# Objects, staged where nobody can read them, plus two damaged copies.
OBJ=$STAGE/obj
mkdir -m 755 "$OBJ"
for f in "$TOOLS_OBJ"/*.o; do cp -- "$f" "$OBJ/" || fail "cp $f"; done
head -c 2000 "$OBJ/btf_maps.o" >"$OBJ/trunc.o"
cp "$OBJ/btf_maps.o" "$OBJ/badbtf.o"
off=$(readelf -S -W "$OBJ/btf_maps.o" | awk '$2 == ".BTF" { print $5 }')
[ -n "$off" ] || fail "btf_maps.o has no .BTF section"
printf '\0\0' | dd of="$OBJ/badbtf.o" bs=1 seek=$((16#$off)) conv=notrunc 2>/dev/null
chmod 644 "$OBJ"/*.o

# How each mode runs `bpfemu load`: as nobody the tool itself re-executes
# under the shim (no `bpfemu run` needed); as root it uses the real kernel.
bpfemu_in() {
	local m=$1
	shift
	case $m in
	emu) as_user env BPFEMU_ROOT="$STATE" ${EMU_CPUS:+BPFEMU_CPUS=$EMU_CPUS} BPFEMU_LIB="$STAGE/libbpfemu.so" \
		"$STAGE/bpfemu" "$@" ;;
	kernel) kern "$STAGE/bpfemu" "$@" ;;
	esac
}

# Successful loads: object | modes | expected rows "name type key value max_entries flags"
# (add a mode to a line when the engine gains the map type)
LOAD_CASES=(
	"btf_maps|emu kernel|counts hash 4 16 1024 0x1;table array 4 64 16 0x0"
	"legacy_maps|emu kernel|flows hash 8 16 256 0x0;stats array 4 8 4 0x0"
	"iproute2_maps|emu kernel|acl hash 4 4 64 0x1;hits array 4 8 32 0x0"
	"perf|emu kernel|events perf_event_array 4 4 NCPU 0x0"
	"mim|emu kernel|slot hash 4 4 8 0x0;slots hash_of_maps 4 4 4 0x0;outer array_of_maps 4 4 2 0x0"
)
# Failures: object | options | message after "bpfemu: load: FILE: " (a glob) | pin dir that must not exist
ERR_CASES=(
	"btf_big|--pin-dir /sys/fs/bpf/btf_maps|map 'counts': existing pin /sys/fs/bpf/btf_maps/counts is incompatible: max_entries is 1024 there, 2048 in the object|"
	"rollback||map 'second' (array, key 8, value 4, max_entries 8, flags 0x0): create: Invalid argument|/sys/fs/bpf/rollback"
	"nomaps||no map section: neither \"maps\" nor \".maps\" is present|/sys/fs/bpf/nomaps"
	"x86||ELF header: machine 62 is not BPF (247): not a BPF object|/sys/fs/bpf/x86"
	"trunc|--pin-dir /sys/fs/bpf/trunc|truncated: the section header table (offset *, * entries) ends past the end of the file (2000 bytes)|/sys/fs/bpf/trunc"
	"badbtf||section .BTF: bad magic 0 (want 0xeb9f, host byte order)|/sys/fs/bpf/badbtf"
)

# session MODE TRANSCRIPT: runs every case that MODE supports, checks it,
# and writes what a kernel and bpfemu must agree on (ids replaced) to TRANSCRIPT.
session() {
	local m=$1 t=$2 c obj modes rows row out err rc ids ids2 opts msg gone
	: >"$t"
	for c in "${LOAD_CASES[@]}"; do
		IFS='|' read -r obj modes rows <<<"$c"
		# possible CPUs: the emulated run's BPFEMU_CPUS, else the host's
		rows=${rows//NCPU/$([ "$m" = emu ] && echo "${EMU_CPUS:-$NCPU}" || echo "$NCPU")}
		[[ " $modes " == *" $m "* ]] || continue
		[ "$MODE" = diff ] && [[ "$modes" != *emu*kernel* ]] && continue
		say "$m: load $obj.o"
		out=$(bpfemu_in "$m" load "$OBJ/$obj.o" 2>&1) || fail "$m: load $obj.o: $out"
		printf '%s\n' "$out"
		IFS=';' read -ra want <<<"$rows"
		[ "$(printf '%s\n' "$out" | sed '1d;$d' | wc -l)" = "${#want[@]}" ] || fail "$m: $obj: row count"
		for row in "${want[@]}"; do
			set -- $row
			printf '%s\n' "$out" | awk -v n="$1" -v r="$row" -v p="/sys/fs/bpf/$obj/$1" '
				$1 == n { got = $1 " " $2 " " $3 " " $4 " " $5 " " $6
					  if (got == r && $7 == "created" && $8 > 0 && $9 == p) ok = 1 }
				END { exit !ok }' || fail "$m: $obj: row '$row' not found as created at /sys/fs/bpf/$obj/$1"
		done
		ids=$(printf '%s\n' "$out" | awk 'NR > 1 && NF == 9 { print $8 }')
		# the same object again: every pin reused, same ids
		out=$(bpfemu_in "$m" load "$OBJ/$obj.o" 2>&1) || fail "$m: reload $obj.o: $out"
		ids2=$(printf '%s\n' "$out" | awk 'NR > 1 && NF == 9 { print $8 }')
		[ "$ids" = "$ids2" ] || fail "$m: $obj: reload gave other ids"
		printf '%s\n' "$out" | tail -1 | grep -qx "${#want[@]} maps\? *: 0 created, ${#want[@]} reused" ||
			printf '%s\n' "$out" | tail -1 | grep -q "0 created, ${#want[@]} reused" ||
			fail "$m: $obj: reload did not reuse every pin: $out"
		printf '%s\n' "$out" | awk 'NR > 1 && NF == 9 { $8 = "ID" } { print }' >>"$t"
		# --json names the same maps
		out=$(bpfemu_in "$m" load "$OBJ/$obj.o" --json 2>&1) || fail "$m: load --json $obj.o"
		for row in "${want[@]}"; do
			set -- $row
			grep -q "{\"name\":\"$1\",\"section\":\"[.]*maps\",\"type\":\"$2\",\"key_size\":$3,\"value_size\":$4,\"max_entries\":$5," <<<"$out" ||
				fail "$m: $obj: --json lacks $1: $out"
		done
		grep -q '"reused":false' <<<"$out" && fail "$m: $obj: --json after a load shows a created map"
		printf '%s\n' "$out" | sed -E 's/"id":[0-9]+/"id":ID/g' >>"$t"
	done
	for c in "${ERR_CASES[@]}"; do
		IFS='|' read -r obj opts msg gone <<<"$c"
		say "$m: load $obj.o $opts (must fail)"
		# shellcheck disable=SC2086
		err=$(bpfemu_in "$m" load "$OBJ/$obj.o" $opts 2>&1 >/dev/null)
		rc=$?
		printf '%s\n' "$err"
		[ "$rc" = 1 ] || fail "$m: $obj: exit $rc, want 1"
		# shellcheck disable=SC2053
		[[ $err == "bpfemu: load: $OBJ/$obj.o: "$msg ]] || fail "$m: $obj: message: $err"
		# (offsets in the object depend on the checkout path its DWARF names)
		echo "$obj: rc=$rc ${err#bpfemu: load: $OBJ/}" | sed -E "s/offset [0-9]+/offset N/" >>"$t"
		if [ -n "$gone" ]; then
			bpfemu_in "$m" ls "$gone" >/dev/null 2>&1 && fail "$m: $obj: $gone was left behind"
		fi
	done
	# the incompatible load changed nothing
	out=$(bpfemu_in "$m" ls /sys/fs/bpf/btf_maps) || fail "$m: ls btf_maps"
	printf '%s\n' "$out"
	[ "$(printf '%s\n' "$out" | grep -c ' map ')" = 2 ] || fail "$m: btf_maps changed: $out"
	grep -q 'counts  map hash .* max_entries=1024 ' <<<"$out" || fail "$m: counts changed: $out"
	# usage errors
	bpfemu_in "$m" load >/dev/null 2>&1
	rc=$?
	[ "$rc" = 2 ] || fail "$m: load without an object: exit $rc, want 2"
	echo "usage: rc=$rc" >>"$t"
}

kernel_needs map hash array perf_event_array hash_of_maps array_of_maps
twin "bpfemu load transcripts" load session
say "PASS"
