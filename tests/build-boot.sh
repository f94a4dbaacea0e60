#!/bin/bash
# tests/build-boot.sh: a real build from the cached Debian base (make base),
# boot-verified to its login prompt, and what fails around it.
#  - one instance: partition, filesystems, unpack, fstab, hostname,
#    machine_id, bootloader, ssh_host_keys, firstboot; verify: boot to
#    "NAME login:"; the output is in place, its sha256 recorded matches the
#    file (facts and the builds view), the boot time and console recorded
#    (the verify boot uses virtio-blk: the appliance saw /dev/sda, the VM
#    sees /dev/vda, and root by UUID boots it)
#  - guestkit boot-test on the same image over virtio-scsi with a text
#    that never appears: fails in time, naming the console's last line;
#    the image is unchanged
#  - the image as a base image of a bigger build: its filesystem grown
#  - a build without a bootloader: verify fails with a clear message and
#    no image is put in place
# Skips (77) when there is no base and the mirror cannot make one.
cd "$(dirname "$0")/.." || exit 1
. tests/lib-build.sh
need_base
. tests/lib.sh
t_begin build-boot img bad

# $1 file, $2 output dir, $3 "yes" for a bootloader, $4 expect, $5 timeout
job() {
  build_job "$1" "$2" "[{name: bt1}]" qcow2 2G
  [ "$3" = yes ] || sed -i '/^  - bootloader$/d' "$1"
  cat >> "$1" <<EOF
  - ssh_host_keys: reset
  - firstboot: {script: "echo guestkit-firstboot-ran > /dev/ttyS0\\n"}
verify: {boot: true, expect: "$4", timeout: ${5:-10m}}
EOF
}

job "$out/good.yaml" "$out/img" yes "{{name}} login:"
$gk run --db "$db" "$out/good.yaml" >"$out/good.out" 2>&1; st=$?
img=$out/img/bt1.qcow2
if [ $st = 0 ] && [ -s "$img" ] && [ -z "$(ls -A "$out/img" | grep -v '^bt1.qcow2$')" ]; then
  pass build-boots-to-login
else fail build-boots-to-login "exit $st: $(tail -15 "$out/good.out")"; fi

sha=$(q "SELECT json_extract(value, '$') FROM facts WHERE name = 'output_sha256'")
vsha=$(q "SELECT sha256 FROM builds WHERE instance = 'bt1'")
if [ -n "$sha" ] && [ "$sha" = "$(sha256sum "$img" | cut -c1-64)" ] && [ "$vsha" = "$sha" ]; then pass build-sha256-recorded
else fail build-sha256-recorded "recorded '$sha', file $(sha256sum "$img" 2>&1)"; fi

secs=$(q "SELECT json_extract(value, '$') FROM facts WHERE name = 'boot_seconds'")
tail=$(q "SELECT json_extract(value, '$') FROM facts WHERE name = 'boot_console'")
if [ -n "$secs" ] && echo "$tail" | grep -q "bt1 login:"; then pass build-boot-recorded
else fail build-boot-recorded "seconds '$secs', console '$tail'"; fi

if [ -s "$img" ]; then
  sum=$(sha256sum "$img")
  $gk boot-test -a "$img" --format qcow2 --bus scsi --expect "no such text here" --timeout 25s \
    >"$out/never.out" 2>&1; st=$?
  if [ $st = 1 ] && grep -q "'no such text here' not seen on the console within 25 s; last console line" "$out/never.out" &&
     grep -q "^---- console" "$out/never.out" && [ "$(sha256sum "$img")" = "$sum" ]; then
    pass boot-test-expect-never-seen
  else fail boot-test-expect-never-seen "exit $st: $(tail -5 "$out/never.out")"; fi
fi

# The image as the base of another build, grown from 2G to 3G: its last
# partition and filesystem fill the new size.
if [ -s "$img" ]; then
  cat > "$out/grow.yaml" <<EOF
name: grow
matrix: [{name: bt2}]
base: {image: $img, format: qcow2}
build: {size: 3G, format: qcow2, output: "$out/img/{{name}}.qcow2"}
timeout: 10m
steps:
  - hostname: "{{name}}"
  - statvfs: /
    save_as: fs
EOF
  $gk run --db "$db" "$out/grow.yaml" >"$out/grow.out" 2>&1; st=$?
  size=$(q "SELECT json_extract(value, '$.blocks') * json_extract(value, '$.bsize') FROM facts WHERE name = 'fs'")
  if [ $st = 0 ] && [ -n "$size" ] && [ "$size" -gt $((2900 << 20)) ] && [ -s "$out/img/bt2.qcow2" ]; then
    pass build-base-image-grown
  else fail build-base-image-grown "exit $st, fs bytes '$size': $(tail -3 "$out/grow.out")"; fi
fi

# No bootloader (and a small tree, to be quick): the console stays empty.
mkdir -p "$out/small/etc"; echo small > "$out/small/etc/hostname"
tar -C "$out/small" -cf "$out/small.tar" .
base=$out/small.tar job "$out/noboot.yaml" "$out/bad" no "{{name}} login:" 20s
$gk run --db "$db" "$out/noboot.yaml" >"$out/noboot.out" 2>&1; st=$?
err=$(q "SELECT error FROM tasks WHERE run_id = (SELECT max(id) FROM runs)")
if [ $st = 1 ] && [ -z "$(ls -A "$out/bad")" ] &&
   echo "$err" | grep -q "verify: 'bt1 login:' not seen on the console within 20 s; the console stayed empty (no bootloader"; then
  pass build-without-bootloader-fails-verify
else fail build-without-bootloader-fails-verify "exit $st, left '$(ls -A "$out/bad")', error '$err'"; fi
exit $rc
