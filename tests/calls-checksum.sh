#!/bin/bash
# tests/calls-checksum.sh: checksum "sha256" is computed inside guestd
# (guestd/sha256.c), with no sha256sum started in the appliance, and
# equals the host's sha256sum of the same bytes.  Which way a call went
# is read from guestd's verbose log, where every program it starts leaves
# a "command PROG: exit N" line (guestd/command.c): md5 still runs
# md5sum, so its line proves that the log does show programs.
cd "$(dirname "$0")/.." || exit 1
G=runner/guestkit
out=tests/out/calls-checksum-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
tests/bin/make-sample-image "$out/disk.img" 32 checksum-host 2>"$out/mk.err" ||
  { echo "FAIL: checksum-sample-image: $(tail -2 "$out/mk.err")"; exit 1; }
head -c 200000 /dev/urandom > "$out/blob"

printf '%s\n' run 'mount /dev/sda1 /' "upload $out/blob /blob" 'checksum sha256 /blob' \
  'checksum md5 /blob' '-checksum sha256 /etc' |
  $G shell -v -a "$out/disk.img" >"$out/sum.out" 2>"$out/sum.err"
grep '^guestd: ' "$out/sum.err" > "$out/sum.log"

want=$(sha256sum < "$out/blob" | cut -d' ' -f1)
if [ "$(sed -n 1p "$out/sum.out")" = "$want" ] && ! grep -q 'command sha256sum' "$out/sum.log" &&
   grep -q 'call checksum' "$out/sum.log"; then
  pass checksum-sha256-in-guestd
else fail checksum-sha256-in-guestd "got '$(sed -n 1p "$out/sum.out")', want '$want'; $(grep -i 'sha256\|checksum' "$out/sum.log" | tail -3)"; fi

if [ "$(sed -n 2p "$out/sum.out")" = "$(md5sum < "$out/blob" | cut -d' ' -f1)" ] &&
   grep -q 'command md5sum: exit 0' "$out/sum.log"; then
  pass checksum-md5-runs-md5sum
else fail checksum-md5-runs-md5sum "$(grep -i 'md5\|checksum' "$out/sum.log" | tail -3)"; fi

if grep -q 'checksum: /etc: Is a directory' "$out/sum.err"; then pass checksum-sha256-directory-error
else fail checksum-sha256-directory-error "$(grep -v '^guestd: ' "$out/sum.err" | tail -3)"; fi
exit $rc
