#!/bin/bash
# Boot a guestkit appliance with a scratch disk and run guestd/test/client
# against it over the virtio-serial channel (a Unix socket on this side).
#
#   guestd/test/appliance-run.sh APPLIANCE_DIR CLIENT_BINARY
#
# APPLIANCE_DIR holds kernel, initrd and root as guestkit-build-appliance
# makes them.  The scratch disk is a fresh 64 MiB sparse file.  Set V=1 for
# the appliance console and guestd's call log (guestkit.verbose=1).
# DISK=IMAGE: use a copy of IMAGE as the scratch disk instead (the client
# then runs its LVM checks when LVM=1 is set too).
set -euo pipefail
app=$1
client=$2
tmp=$(mktemp -d /tmp/guestd-app.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ -n "${DISK:-}" ]; then cp --sparse=always "$DISK" "$tmp/disk.img"
else truncate -s 64M "$tmp/disk.img"; fi
verbose=
[ -n "${V:-}" ] && verbose=guestkit.verbose=1
qemu-system-x86_64 -machine accel=tcg -cpu max -m 512 -nodefaults -nographic \
  -no-reboot -display none \
  -kernel "$app/kernel" -initrd "$app/initrd" \
  -append "console=ttyS0 root=/dev/vda ro panic=1 quiet $verbose" \
  -serial file:"$tmp/console.log" \
  -drive file="$app/root",format=raw,if=none,id=root,snapshot=on \
  -device virtio-blk-pci,drive=root \
  -device virtio-scsi-pci,id=scsi \
  -drive file="$tmp/disk.img",format=raw,if=none,id=d0,cache=unsafe \
  -device scsi-hd,drive=d0,bus=scsi.0 \
  -chardev socket,path="$tmp/sock",server=on,wait=off,id=ch \
  -device virtio-serial-pci \
  -device virtserialport,chardev=ch,name=org.guestkit.channel.0 &
qpid=$!
for i in $(seq 100); do [ -S "$tmp/sock" ] && break; sleep 0.1; done
rc=0
"$client" "unix:$tmp/sock" || rc=$?
# The client closed the channel: guestd powers the appliance off.
for i in $(seq 100); do kill -0 $qpid 2>/dev/null || break; sleep 0.1; done
if kill -0 $qpid 2>/dev/null; then echo "appliance did not power off" >&2; kill $qpid; rc=1; fi
wait $qpid || true
[ -n "${V:-}" ] && cat "$tmp/console.log"
exit $rc
