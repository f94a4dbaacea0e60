#!/bin/bash
# tests/calls-mount.sh: guestd's two ways to mount (guestd/mount.c).
# A block device with a known or probed type and options that are kernel
# flags and filesystem data is mounted by mount(2) itself; loop files,
# options mount(8) keeps for itself, and failures go to mount(8).  Which
# way a call went is read from guestd's verbose log ("mount(2) ..." for
# the direct path, "command mount: exit N" for mount(8)); what the mount
# did is checked through the guest (read-only refuses a write, noexec is
# in the kernel's flags, the data option reached the filesystem).
cd "$(dirname "$0")/.." || exit 1
G=runner/guestkit
out=tests/out/calls-mount-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
tests/bin/make-sample-image "$out/disk.img" 32 mount-host 2>"$out/mk.err" ||
  { echo "FAIL: mount-sample-image: $(tail -2 "$out/mk.err")"; exit 1; }

# sh NAME COMMANDS: run the shell verbosely on the disk; the log of guestd
# (its lines from the console) goes to $out/NAME.log, stdout to NAME.out.
shv() {
  local name=$1; shift
  printf '%s\n' "$@" | $G shell -v -a "$out/disk.img" >"$out/$name.out" 2>"$out/$name.err"
  grep '^guestd: ' "$out/$name.err" > "$out/$name.log"
}

# ---- the direct path: mount(2), no mount(8) ----
shv ro run 'mount-ro /dev/sda1 /' 'is-file /etc/hostname' 'touch /x'
if grep -q 'mount(2) /dev/sda1 on /sysroot: type ext4, flags 0x8001' "$out/ro.log" &&
   ! grep -q 'command mount:' "$out/ro.log" && grep -qx true "$out/ro.out" &&
   grep -q 'touch: .*Read-only file system' "$out/ro.err"; then
  pass mount-ro-direct
else fail mount-ro-direct "$(grep -i 'mount\|touch' "$out/ro.err" | tail -4)"; fi

# Flags and data: noexec is a flag; errors=remount-ro is ext4's data.
shv opts run 'mount-options noexec,errors=remount-ro /dev/sda1 /' 'touch /written' \
  'mountpoints'
if grep -q "mount(2) /dev/sda1 on /sysroot: type ext4, flags 0x8008, data 'errors=remount-ro'" \
     "$out/opts.log" && ! grep -q 'command mount:' "$out/opts.log" &&
   grep -q '/dev/sda1' "$out/opts.out"; then
  pass mount-options-direct
else fail mount-options-direct "$(grep 'mount' "$out/opts.log" | tail -3; tail -2 "$out/opts.err")"; fi

# The write went to the disk: a second appliance sees it.
shv again run 'mount-ro /dev/sda1 /' 'is-file /written'
if grep -qx true "$out/again.out"; then pass mount-rw-wrote
else fail mount-rw-wrote "$(tail -3 "$out/again.err")"; fi

# mount_vfs with the type given: no probe needed, still direct.
shv vfs run 'mount-vfs ro ext4 /dev/sda1 /' 'is-dir /etc'
if grep -q 'mount(2) /dev/sda1 on /sysroot: type ext4' "$out/vfs.log" &&
   ! grep -q 'command mount:' "$out/vfs.log" && grep -qx true "$out/vfs.out"; then
  pass mount-vfs-direct
else fail mount-vfs-direct "$(grep 'mount' "$out/vfs.log" | tail -3)"; fi

# ---- mount(8) still does what only it can do ----
# "loop" is mount(8)'s own option: it gets the call (and refuses a
# block device as a loop source here), mount(2) never sees it.
shv loop run '-mount-options loop /dev/sda1 /'
if grep -q 'command mount: exit' "$out/loop.log" && ! grep -q 'mount(2)' "$out/loop.log"; then
  pass mount-userspace-option-to-mount8
else fail mount-userspace-option-to-mount8 "$(grep 'mount' "$out/loop.log" | tail -3)"; fi

# An option ext4 does not know: mount(2) fails, mount(8) words the error.
shv bad run '-mount-options bogus_option_xyz /dev/sda1 /'
if grep -q 'command mount: exit' "$out/bad.log" && ! grep -q 'mount(2)' "$out/bad.log" &&
   grep -q 'mount_options: /dev/sda1 on /: mount' "$out/bad.err"; then
  pass mount-bad-option-error
else fail mount-bad-option-error "$(grep 'mount' "$out/bad.err" | tail -3)"; fi

# A type the device does not have: the error is mount(8)'s, nothing mounted.
shv wrong run '-mount-vfs ro xfs /dev/sda1 /' 'mounts'
if grep -q 'command mount: exit' "$out/wrong.log" && grep -q 'mount_vfs: /dev/sda1 on /' "$out/wrong.err" &&
   ! grep -q '/dev/sda1' "$out/wrong.out"; then
  pass mount-wrong-type-error
else fail mount-wrong-type-error "$(grep 'mount' "$out/wrong.err" | tail -3)"; fi

# A blank device: the probe finds nothing, mount(8) says so.
truncate -s 16M "$out/blank.img"
printf '%s\n' run '-mount /dev/sdb /' | $G shell -v -a "$out/disk.img" -a "$out/blank.img" \
  >"$out/blank.out" 2>"$out/blank.err"
if grep -q 'guestd: .*command mount: exit' "$out/blank.err" &&
   grep -q 'mount: /dev/sdb on /: ' "$out/blank.err"; then
  pass mount-blank-error
else fail mount-blank-error "$(grep 'mount' "$out/blank.err" | tail -3)"; fi
exit $rc
