#!/bin/bash
# tests/shell-basic.sh: `guestkit shell' against real appliances: `:'
# chaining, scripts (-f and stdin) with quoting and comments, the `-'
# prefix, exit status, FileIn/FileOut as `-', -m, -i, --ro, --format=qcow2,
# -x, Bool/Int/StringList arguments, results printed like guestfish.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
out=tests/out/shell-basic-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
tests/bin/make-sample-image "$out/disk.img" 32 shellhost 2>"$out/mk.err" ||
  { echo "FAIL: shell-sample-image: $(tail -2 "$out/mk.err")"; exit 1; }
truncate -s 64M "$out/blank.img"

# run NAME EXPECTED-RC COMMAND...: stdout in $out/out, stderr in $out/err.
run() {
  local name=$1 rc=$2; shift 2
  "$@" >"$out/out" 2>"$out/err"; local got=$?
  if [ "$got" = "$rc" ]; then return 0; fi
  echo "FAIL: $name: exit $got, expected $rc: $(tail -3 "$out/err" | tr '\n' ' ')"
  return 1
}
# same NAME EXPECTED-STDOUT: compare $out/out with it.
same() {
  if [ "$(cat "$out/out")" = "$2" ]; then echo "PASS: $1"
  else echo "FAIL: $1: got '$(head -c 300 "$out/out" | tr '\n' '|')'"; fi
}
# has NAME ERE FILE
has() {
  if grep -qE -- "$2" "$3"; then echo "PASS: $1"
  else echo "FAIL: $1: no /$2/ in '$(head -c 300 "$3" | tr '\n' '|')'"; fi
}

# Chaining with ':', an explicit run, results as lists and strings.
run chain 0 $G shell -a "$out/disk.img" run : list-devices : mount /dev/sda1 / : \
  ls /etc : cat /etc/hostname &&
  same chain "$(printf '/dev/sda\ndebian_version\nfstab\nhostname\nos-release\nshadow\nshellhost\n')"

# A script: quoting, comments, escapes, the '-' prefix, Int forms
# (0x hex, 0 octal), Bool words, structs, hashtables.  No 'run': the
# first command that needs the appliance launches it.
cat >"$out/s1.gk" <<'EOF'
# a comment line
   # and an indented one
mount /dev/sda1 /
write-file /q "tab\there \"dq\" back\\slash \x41\102\nline2" 0
cat /q
write_file '/single quoted' 'no $escapes \n here' 0
cat "/single quoted"
write-file /short abcdefgh 0x3
cat /short
chmod 0640 /short
stat /short
-mkdir /etc
echo still running after the failed mkdir
set-autosync off
get-autosync
set-autosync yes
get-autosync
mountpoints
EOF
run script 0 $G shell -a "$out/disk.img" -f "$out/s1.gk" && echo "PASS: script"
sed -n '1,4p' "$out/out" >"$out/head"
if [ "$(cat "$out/head")" = "$(printf '%s\n' 'tab	here "dq" back\slash AB' 'line2' 'no $escapes \n here' 'abc')" ]
then echo "PASS: script-quoting"; else echo "FAIL: script-quoting: $(tr '\n' '|' <"$out/head")"; fi
has script-int-octal '^mode: 33184$' "$out/out"              # 0100640
has script-int-hex '^size: 3$' "$out/out"
has script-dash-continues '^still running after the failed mkdir$' "$out/out"
has script-dash-reported 'mkdir: /etc: File exists' "$out/err"
has script-bool "$(printf '^false$')" "$out/out"
has script-bool-yes '^true$' "$out/out"
has script-hashtable '^/dev/sda1: /$' "$out/out"

# The first failure ends a script, with exit status 1 and its line.
printf '%s\n' 'mount /dev/sda1 /' 'mkdir /etc' 'echo not reached' >"$out/s2.gk"
run stop-on-failure 1 $G shell -a "$out/disk.img" -f "$out/s2.gk" &&
  { has stop-on-failure-line 's2.gk:2: .*mkdir: /etc: File exists' "$out/err"
    same stop-on-failure-output ""; }
# ... and a command line, and stdin.
run chain-failure 1 $G shell -a "$out/disk.img" -m /dev/sda1 mkdir /etc : echo no &&
  same chain-failure-output ""
run stdin-script 1 bash -c "printf 'mount /dev/sda1 /\nis-dir /etc\nbogus\necho no\n' | $G shell -a '$out/disk.img'" &&
  { same stdin-script-output true; has stdin-script-line 'stdin:3: unknown command' "$out/err"; }

# FileIn and FileOut as '-': upload from stdin, download to stdout (a pipe
# and a regular file), with the bytes intact.
head -c 300000 /dev/urandom >"$out/blob"
run upload-stdin 0 $G shell -a "$out/disk.img" -m /dev/sda1 upload - /blob : checksum md5 /blob \
  <"$out/blob" &&
  same upload-stdin "$(md5sum <"$out/blob" | cut -d' ' -f1)"
$G shell -a "$out/disk.img" -m /dev/sda1 download /blob - 2>"$out/err" | cmp -s - "$out/blob" &&
  echo "PASS: download-stdout-pipe" || echo "FAIL: download-stdout-pipe: $(tail -2 "$out/err")"
run download-stdout-file 0 $G shell -a "$out/disk.img" -m /dev/sda1 download /blob - : echo end &&
  { head -c 300000 "$out/out" | cmp -s - "$out/blob" && [ "$(tail -c 4 "$out/out")" = "end" ] &&
    [ -L /dev/stdout ] && echo "PASS: download-stdout-file" ||
    echo "FAIL: download-stdout-file: bytes differ or /dev/stdout replaced"; }
run read-file-raw 0 $G shell -a "$out/disk.img" -m /dev/sda1 read-file /short &&
  same read-file-raw abc

# -m with parents mounted first, whatever the order given; -i.
run mount-order 0 $G shell -a "$out/disk.img" -a "$out/blank.img" -m /dev/sda1:/home/user \
  -m /dev/sda1 mounts && same mount-order "$(printf '/dev/sda1\n/dev/sda1')"
run inspect-mount 0 $G shell --ro -a "$out/disk.img" -i cat /etc/hostname &&
  same inspect-mount "$(printf 'shellhost\n')"
run inspect-none 1 $G shell -a "$out/blank.img" -i echo no &&
  has inspect-none 'no operating system was found' "$out/err"

# --ro: the appliance refuses writes; the image is unchanged.
sum=$(md5sum <"$out/disk.img")
run ro-refuses 1 $G shell --ro -a "$out/disk.img" -m /dev/sda1 touch /new &&
  has ro-refuses 'touch: /new: Read-only file system' "$out/err"
run ro-device 1 $G shell --ro -a "$out/disk.img" run : zero /dev/sda1 &&
  has ro-device 'zero:' "$out/err"
[ "$(md5sum <"$out/disk.img")" = "$sum" ] && echo "PASS: ro-unchanged" || echo "FAIL: ro-unchanged"

# --format=qcow2 on a qemu-img image; without it the image is raw.
if command -v qemu-img >/dev/null; then
  qemu-img create -q -f qcow2 "$out/q.qcow2" 64M
  run qcow2-write 0 $G shell --format=qcow2 -a "$out/q.qcow2" part-disk /dev/sda msdos : \
    mkfs ext2 /dev/sda1 : mount /dev/sda1 / : write-file /hi "qcow2 works" 0 &&
  run qcow2-read 0 $G shell --format=qcow2 -a "$out/q.qcow2" --ro -m /dev/sda1 cat /hi &&
    same qcow2 "$(printf 'qcow2 works\n')"
  run qcow2-as-raw 1 $G shell -a "$out/q.qcow2" -m /dev/sda1 cat /hi &&
    has qcow2-as-raw 'mount: .*sda1' "$out/err"
else echo "SKIP: qcow2: qemu-img not installed"; fi

# StringList/DeviceList as one word; add/run aliases; -x traces calls.
run stringlist 0 $G shell -x add "$out/blank.img" : run : pvcreate /dev/sda : \
  vgcreate vg0 "/dev/sda" : vgs &&
  { has stringlist '^vg0$' "$out/out"; has trace '^vgcreate "vg0" "/dev/sda"$' "$out/out"; }
run wrong-state 1 $G shell -a "$out/disk.img" run : add "$out/blank.img" &&
  has wrong-state 'add_drive' "$out/err"
run local-command 0 $G shell echo a : '!echo from-the-host' : echo b &&
  same local-command "$(printf 'a\nfrom-the-host\nb')"

# An interactive session (needs script(1) for a terminal): line editing
# echoes what is typed after the prompt.
if command -v script >/dev/null; then
  printf 'echo hi\nnosuch\nhelp quit\nquit\n' |
    script -qec "$G shell -a $out/disk.img" /dev/null >"$out/out" 2>&1
  if grep -q 'guestkit> echo hi' "$out/out" && grep -qa $'^hi\r*$' "$out/out" && grep -q "unknown command 'nosuch'" "$out/out" &&
     grep -q 'quit: leave the shell' "$out/out"; then echo "PASS: interactive"
  else echo "FAIL: interactive: $(tr '\r\n' '||' <"$out/out" | head -c 300)"; fi
else echo "SKIP: interactive: script(1) not installed"; fi
