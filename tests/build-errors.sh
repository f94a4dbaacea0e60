#!/bin/bash
# tests/build-errors.sh: bad input to a build job; each gets a clear error
# naming the file, key and cause, and leaves no output behind.
#  - at validation (no VM, exit 2): base tarball missing, not a tar,
#    gzip-compressed; base image in the wrong format, missing; base with
#    both tar and image; verify without expect, bad timeout; base in a
#    job that is not a build
#  - at run time (a VM each, exit 1, no file left): a corrupted base
#    tarball, a layout that does not fit build.size, a bootloader step
#    without a kernel in the tree, an unpack with no base, a user step
#    with a malformed key (when the user step exists)
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin build-errors o

# a small tree, as a good tar, a truncated one and a gzip
mkdir -p "$out/tree/etc" "$out/tree/boot"
for i in 1 2 3 4 5 6; do head -c 300000 /dev/urandom > "$out/tree/etc/f$i"; done
tar -C "$out/tree" -cf "$out/good.tar" .
head -c 700000 "$out/good.tar" > "$out/corrupt.tar"
gzip -c "$out/good.tar" > "$out/tree.tar.gz"
head -c 100000 /dev/urandom > "$out/random.bin"
truncate -s 64M "$out/raw.img"

# $1 name, $2 extra top-level yaml, $3.. steps lines
mkjob() {
  local f=$out/$1.yaml name=$1 extra=$2; shift 2
  { echo "name: $name"
    echo "build: {size: 64M, format: raw, output: \"o/$name.img\"}"
    printf '%b\n' "$extra"
    echo "steps:"
    for s in "$@"; do echo "  - $s"; done; } > "$f"
}

# ---- validation: exit 2, file:line:col and the cause ----
check_invalid() {   # name, expected message (grep -E)
  local st
  $gk run -n --db "$out/v.db" "$out/$1.yaml" >"$out/$1.out" 2>&1; st=$?
  if [ $st = 2 ] && grep -Eq "$1.yaml:[0-9]+:[0-9]+: $2" "$out/$1.out"; then pass "invalid-$1"
  else fail "invalid-$1" "exit $st: $(cat "$out/$1.out")"; fi
}
mkjob tar-missing "base: {tar: nowhere/base.tar}" partition
check_invalid tar-missing "base.tar: .*nowhere/base.tar: No such file or directory"
mkjob tar-not-tar "base: {tar: random.bin}" partition
check_invalid tar-not-tar "base.tar: .*random.bin is not a tar archive"
mkjob tar-gzip "base: {tar: tree.tar.gz}" partition
check_invalid tar-gzip "base.tar: .*is not a tar archive .*gzip-compressed"
mkjob image-format "base: {image: raw.img, format: qcow2}" partition
check_invalid image-format "base.image: .*(not in qcow2 format|qcow2)"
mkjob image-missing "base: {image: none.qcow2, format: qcow2}" partition
check_invalid image-missing "base.image: .*none.qcow2: No such file"
mkjob base-both "base: {tar: good.tar, image: raw.img}" partition
check_invalid base-both "base: give one of 'tar'"
mkjob verify-no-expect "verify: {boot: true}" partition
check_invalid verify-no-expect "verify: 'expect' is required"
mkjob verify-timeout "verify: {boot: true, expect: x, timeout: forever}" partition
check_invalid verify-timeout "verify.timeout: expected a duration"
printf 'images: [raw.img]\nreadonly: false\nbase: {tar: good.tar}\nsteps: [sync]\n' > "$out/not-build.yaml"
check_invalid not-build "'base' is for build jobs"

# ---- run time: one VM each, nothing left in o/ ----
mkjob corrupt "base: {tar: corrupt.tar}" partition filesystems unpack
mkjob layout "" "partition: {layout: [32M, 48M]}"
mkjob nokernel "base: {tar: good.tar}" partition filesystems unpack bootloader
mkjob nobase "" partition filesystems unpack
jobs="corrupt layout nokernel nobase"
if runner/guestkit steps 2>/dev/null | grep -q "^user "; then
  mkjob badkey "" partition filesystems \
    "user: {name: admin, ssh_keys: [\"ssh-rsa not!base64 me@host\"]}"
  jobs="$jobs badkey"
else
  echo "SKIP: runtime-badkey: no user step in this tree"
fi
files=""; for j in $jobs; do files="$files $out/$j.yaml"; done
# shellcheck disable=SC2086
$gk run -j 2 --db "$out/r.db" $files >"$out/run.out" 2>&1; st=$?
check_run() {   # name, expected error (grep -E)
  local e
  e=$(sqlite3 -batch -noheader "$out/r.db" \
      "SELECT t.error FROM tasks t JOIN runs r ON r.id = t.run_id WHERE r.job_name = '$1'")
  if echo "$e" | grep -Eq "$2" && [ ! -e "$out/o/$1.img" ]; then pass "runtime-$1"
  else fail "runtime-$1" "error '$e', left: $(ls -A "$out/o")"; fi
}
[ $st = 1 ] || fail runtime-exit "exit $st (expected 1): $(tail -5 "$out/run.out")"
check_run corrupt "step 3 \(unpack, line [0-9]+\): .*tar_in"
check_run layout "step 1 \(partition, line [0-9]+\): layout does not fit: item 2 \('48M'\)"
check_run nokernel "step 4 \(bootloader, line [0-9]+\): no kernel in the guest tree"
check_run nobase "step 3 \(unpack, line [0-9]+\): no tar given and the job has no base"
case $jobs in *badkey*) check_run badkey "step 3 \(user, line [0-9]+\): .*key" ;; esac
if [ -z "$(ls -A "$out/o")" ]; then pass runtime-no-partial-output
else fail runtime-no-partial-output "left: $(ls -A "$out/o")"; fi
exit $rc
