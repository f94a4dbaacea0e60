#!/bin/bash
# tests/launch-env.sh: the environment variables of the manual reach the
# launch: LIBGUESTFS_TRACE, LIBGUESTFS_DEBUG, LIBGUESTFS_MEMSIZE,
# LIBGUESTFS_APPEND, TMPDIR, and the accelerator choice
# (GUESTKIT_ACCEL, LIBGUESTFS_BACKEND_SETTINGS=force_tcg) is reported.
cd "$(dirname "$0")/.." || exit 1
out=tests/out/env-$$; mkdir -p "$out/tmp"; trap 'rm -rf "$out"' EXIT
tests/bin/make-sample-image "$out/disk.img" 16 envtest 2>"$out/mk.err" ||
  { echo "FAIL: env-sample-image: $(tail -2 "$out/mk.err")"; exit 1; }
check() { # name, condition-command...
  local name=$1; shift
  if "$@"; then echo "PASS: $name"; else echo "FAIL: $name: $(tail -3 "$out/err" | tr '\n' ' ')"; fi
}
LIBGUESTFS_TRACE=1 LIBGUESTFS_DEBUG=1 LIBGUESTFS_MEMSIZE=320 GUESTKIT_ACCEL=tcg \
  LIBGUESTFS_APPEND="guestkit.testmark=1" TMPDIR="$PWD/$out/tmp" \
  tests/bin/manual-example "$out/disk.img" >"$out/out" 2>"$out/err"
check env-run test $? = 0
check env-trace grep -q '^mount "/dev/sda1" "/"$' "$out/out"
check env-debug-accel grep -q 'accelerator: tcg' "$out/err"
check env-memsize grep -q ' -m 320 ' "$out/err"
check env-append grep -q 'guestkit.testmark=1' "$out/err"
check env-tmpdir grep -q "temp dir: $PWD/$out/tmp/guestkit\." "$out/err"
# and the launch really used it: its overlay and files were made there,
# then removed at close
check env-tmpdir-cleaned test -z "$(ls -A "$out/tmp")"
LIBGUESTFS_BACKEND_SETTINGS=force_tcg GUESTKIT_ACCEL=kvm LIBGUESTFS_DEBUG=1 \
  tests/bin/manual-example "$out/disk.img" >"$out/out" 2>"$out/err"
check env-force-tcg grep -q 'accelerator: tcg' "$out/err"
GUESTKIT_ACCEL=bogus tests/bin/manual-example "$out/disk.img" >"$out/out" 2>"$out/err"
check env-bad-accel grep -q 'GUESTKIT_ACCEL' "$out/err"
