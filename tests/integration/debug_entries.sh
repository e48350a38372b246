#!/usr/bin/env bash
# tests/integration/debug_entries.sh emu|kernel|diff
#
# bpf_preload's maps.debug and progs.debug in the bpffs root are root's 0400
# files: a user other than root may see them but not open (EACCES), chmod or
# chown (EPERM), ask for read/write access, touch, remove or rename them.
# Run through coreutils as nobody; the expected lines are the kernel's
# (nobody on a bpffs that root mounted), and diff compares both transcripts.
# shellcheck source=tests/integration/common.sh
. "$(dirname "$0")/common.sh"

itest_init "${1:-}"
D=/sys/fs/bpf/maps.debug

# each command, its exit status and its message, for one file
script() {
	cat <<END
for c in "ls -l $D" "chmod 600 $D" "chown 65534 $D" "test -e $D" "test -r $D" "test -w $D" \
	"touch $D" "touch -d 2020-01-01 $D" "cat $D" "rm -f $D" "mv $D /sys/fs/bpf/x" "ln $D /sys/fs/bpf/y" \
	"ls -l $D"; do
	out=\$(\$c 2>&1)
	rc=\$?
	echo "\$c: rc=\$rc \$out" | sed -E 's/ [A-Z][a-z]{2} [ 0-9]{2} [0-9:]{4,5} / DATE /'

done
END
}

expected() {
	cat <<END
ls -l $D: rc=0 -r-------- 1 root root 0 DATE $D
chmod 600 $D: rc=1 chmod: changing permissions of '$D': Operation not permitted
chown 65534 $D: rc=1 chown: changing ownership of '$D': Operation not permitted
test -e $D: rc=0 
test -r $D: rc=1 
test -w $D: rc=1 
touch $D: rc=1 touch: cannot touch '$D': Permission denied
touch -d 2020-01-01 $D: rc=1 touch: cannot touch '$D': Permission denied
cat $D: rc=1 cat: $D: Permission denied
rm -f $D: rc=1 rm: cannot remove '$D': Operation not permitted
mv $D /sys/fs/bpf/x: rc=1 mv: cannot move '$D' to '/sys/fs/bpf/x': Operation not permitted
ln $D /sys/fs/bpf/y: rc=1 ln: failed to create hard link '/sys/fs/bpf/y' => '$D': Operation not permitted
ls -l $D: rc=0 -r-------- 1 root root 0 DATE $D
END
}

run() {
	local m=$1 out=$STAGE/debug.$1
	script >"$STAGE/debug.sh"
	chmod 755 "$STAGE/debug.sh"
	case $m in
	kernel) kern setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups sh "$STAGE/debug.sh" >"$out" 2>&1 ;;
	emu) emu sh "$STAGE/debug.sh" >"$out" 2>&1 ;;
	esac
	cat "$out"
	expected | diff -u --label expected --label "$m" - "$out" || fail "$m: not the kernel's answers"
	say "ok: $m"
}

if [ "$MODE" != emu ] && kernel_on; then run kernel; fi
[ "$MODE" = kernel ] || run emu
[ "$MODE" = diff ] && kernel_on && same_or_fail "maps.debug as nobody" "$STAGE/debug.kernel" "$STAGE/debug.emu"
say "PASS"
