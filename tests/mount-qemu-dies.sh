#!/bin/bash
# tests/mount-qemu-dies.sh: qemu killed under a `guestkit mount' while
# readers run: the readers end with EIO instead of hanging, new requests
# get EIO at once, fusermount3 -u unmounts, and guestkit mount exits 1.
# Then, on a second mount with no reader running, a file read whole
# before qemu dies (so all in the page cache) fails to open after it:
# the mount notices qemu's end itself, not only from a failing call.
# Every wait has a timeout, so a hang is a FAIL, not a stuck test.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
export GUESTKIT_CACHEDIR=${GUESTKIT_CACHEDIR:-/var/tmp/gk-cache-$(id -u)}
out=tests/out/mount-qemu-dies-$$; mkdir -p "$out"
. tests/mount-fixture.sh
mnt=$out/mnt
cleanup() { mountpoint -q "$mnt" && mnt_stop "$mnt" >/dev/null; rm -rf "$out"; }
trap cleanup EXIT

[ -c /dev/fuse ] || { echo "SKIP: mount-qemu-dies: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: mount-qemu-dies: no fusermount3 (fuse3)"; exit 77; }
mnt_image "$out/img" || { echo "FAIL: mount-qemu-dies-image: $(tail -2 "$out/mk.err")"; exit 1; }
ok() { echo "PASS: $1"; }
bad() { echo "FAIL: $1: $2"; }

mnt_start "$out/img" "$mnt" -i || { echo "FAIL: mount-qemu-dies-start: $(tail -3 "$out/mount.err")"; exit 1; }
qpid=$(mnt_qemu_pid "$MNT_PID")
[ -n "$qpid" ] || { echo "FAIL: mount-qemu-dies-qemu-pid: no qemu below pid $MNT_PID"; exit 1; }
ok mount-qemu-dies-qemu-pid

# Readers that keep the appliance busy: whole files, over and over.
for i in 1 2 3; do
  ( while :; do cat "$mnt/data/big1" "$mnt/data/big2" >/dev/null || exit 5; done ) 2>"$out/reader$i.err" &
  readers="$readers $!"
done
sleep 2
kill -9 "$qpid"
# Each reader must stop with an error, within the timeout.
stuck=0
for r in $readers; do
  for _ in $(seq 1 60); do kill -0 "$r" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$r" 2>/dev/null; then stuck=1; kill "$r"; fi
  wait "$r" 2>/dev/null
done
[ "$stuck" = 0 ] && ok mount-qemu-dies-readers-end || bad mount-qemu-dies-readers-end "a reader hung for 30 s"
if grep -q "Input/output error" "$out"/reader*.err; then ok mount-qemu-dies-readers-eio
else bad mount-qemu-dies-readers-eio "$(cat "$out"/reader*.err | head -3)"; fi

# New requests: EIO, at once (5 s is plenty; a hang fails).
e1=$(timeout 5 cat "$mnt/etc/hostname" 2>&1 >/dev/null; echo "rc=$?")
e2=$(timeout 5 ls "$mnt/var" 2>&1 >/dev/null; echo "rc=$?")
case "$e1 $e2" in
  *"Input/output error"*rc=1*"Input/output error"*rc=*) ok mount-qemu-dies-new-requests-eio ;;
  *) bad mount-qemu-dies-new-requests-eio "$e1 / $e2" ;;
esac
grep -q "the appliance is gone" "$out/mount.err" && ok mount-qemu-dies-message ||
  bad mount-qemu-dies-message "$(tail -2 "$out/mount.err")"

mnt_stop "$mnt"; rc=$?
case $rc in
  1) ok mount-qemu-dies-unmount ;;
  124) bad mount-qemu-dies-unmount "guestkit mount did not exit after fusermount3 -u" ;;
  *) bad mount-qemu-dies-unmount "exit status $rc, expected 1" ;;
esac
if grep -q " $(realpath "$mnt") " /proc/mounts; then bad mount-qemu-dies-unmounted "still mounted"
else ok mount-qemu-dies-unmounted; fi

# Nothing in flight: only the watcher can tell the mount qemu is gone.
mnt_start "$out/img" "$mnt" -i || { echo "FAIL: mount-qemu-dies-cached-start: $(tail -3 "$out/mount.err")"; exit 1; }
qpid=$(mnt_qemu_pid "$MNT_PID")
sum1=$(cat "$mnt/data/bin.dat" | sha256sum)
sum2=$(cat "$mnt/data/bin.dat" | sha256sum)       # from the page cache
kill -9 "$qpid"
for _ in $(seq 1 20); do kill -0 "$qpid" 2>/dev/null || break; sleep 0.25; done
sleep 0.5                                           # the watcher's turn
e3=$(timeout 5 cat "$mnt/data/bin.dat" 2>&1 >/dev/null; echo "rc=$?")
if [ "$sum1" = "$sum2" ] && [[ $e3 == *"Input/output error"*rc=1 ]]; then ok mount-qemu-dies-cached-eio
else bad mount-qemu-dies-cached-eio "a cached file still opened after qemu died: $e3"; fi
mnt_stop "$mnt" >/dev/null
exit 0
