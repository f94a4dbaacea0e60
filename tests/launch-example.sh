#!/bin/bash
# tests/launch-example.sh: the manual's HANDLES example compiles as a user
# program would compile it (only <guestfs.h> and -lguestkit) and runs on a
# generated image: it lists /dev/sda1, lists no LVs, and touches /hello.
cd "$(dirname "$0")/.." || exit 1
out=tests/out/example-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
if ${CC:-cc} -std=c99 -Wall -Werror -Icore/include tests/manual-example.c \
     -Lcore -lguestkit -Wl,-rpath,"$PWD/core" -o "$out/example" 2>"$out/cc.err"; then
  echo "PASS: example-compiles"
else
  echo "FAIL: example-compiles: $(head -3 "$out/cc.err")"; exit 1
fi
if ! tests/bin/make-sample-image "$out/disk.img" 32 example 2>"$out/mk.err"; then
  echo "FAIL: example-sample-image: $(tail -3 "$out/mk.err")"; exit 1
fi
"$out/example" "$out/disk.img" >"$out/run.out" 2>"$out/run.err"; rc=$?
if [ $rc = 0 ] && grep -qx 'partitions: /dev/sda1' "$out/run.out" &&
   grep -qx 'logical volumes:' "$out/run.out" && grep -qx 'touched /hello' "$out/run.out"; then
  echo "PASS: example-runs"
else
  echo "FAIL: example-runs: exit $rc: $(cat "$out/run.out" "$out/run.err" | tail -5)"
fi
# The program reports a missing image clearly and fails.
if "$out/example" "$out/missing.img" >/dev/null 2>"$out/err2"; then
  echo "FAIL: example-missing-image: succeeded"
elif grep -q "missing.img" "$out/err2"; then
  echo "PASS: example-missing-image"
else
  echo "FAIL: example-missing-image: message does not name the image: $(cat "$out/err2")"
fi
