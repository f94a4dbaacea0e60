#!/bin/bash
# tests/bench-build.sh: templated builds from the cached base (make bench).
#   - one instance, boot check excluded        target <= 15 s on TCG
#   - the boot check of that image (boot-test)  target <= 60 s on TCG
#   - 3 instances with 2 workers vs one         target <= 1.5 x one
#   - output qcow2 vs the base's used space     target <= 1.2 x
# Prints the figures and, honestly, which targets are missed.  Skips when
# there is no base (make base).
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
. tests/lib-build.sh
base=$(runner/build-base.sh --path)
if [ ! -s "$base" ]; then
  echo "bench-build: skipped: no Debian base at $base (make base)" >&2; exit 0
fi
out=$PWD/tests/out/bench-build-$$; mkdir -p "$out/one" "$out/three"
trap 'rm -rf "$out"' EXIT

secs() { python3 -c "import time; print(time.monotonic())"; }
missed=""
ratio_ok() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= float(sys.argv[2]) else 1)" "$1" "$2"; }

build_job "$out/one.yaml" "$out/one" "[{name: b1}]" qcow2 2G
t0=$(secs); $gk run -q --db "$out/r.db" "$out/one.yaml" >"$out/one.out" 2>&1 || {
  echo "bench-build: the build failed: $(tail -3 "$out/one.out")" >&2; exit 1; }
one=$(python3 -c "print(round($(secs) - $t0, 1))")
printf 'build, one instance from the cached base (no boot check): %6.1f s  (target <= 15 s)\n' "$one"
ratio_ok "$one" 15 || missed="$missed one-build"

t0=$(secs)
$gk boot-test -a "$out/one/b1.qcow2" --format qcow2 --expect "b1 login:" --timeout 10m >"$out/bt.out" 2>&1
boot=$(python3 -c "print(round($(secs) - $t0, 1))")
printf 'boot check to "b1 login:" (guestkit boot-test):            %6.1f s  (target <= 60 s)  %s\n' \
  "$boot" "$(grep -o "after .*" "$out/bt.out")"
ratio_ok "$boot" 60 || missed="$missed boot-check"

build_job "$out/three.yaml" "$out/three" "[{name: c1}, {name: c2}, {name: c3}]" qcow2 2G
t0=$(secs); $gk run -q -j 2 --db "$out/r.db" "$out/three.yaml" >"$out/three.out" 2>&1
three=$(python3 -c "print(round($(secs) - $t0, 1))")
r=$(python3 -c "print(round($three / $one, 2))")
printf 'build, 3 instances with 2 workers:                         %6.1f s  = %s x one  (target <= 1.5 x)\n' "$three" "$r"
ratio_ok "$r" 1.5 || missed="$missed three-builds(2 cores: 3 TCG appliances need at least 2 rounds)"

q=$(stat -c %s "$out/one/b1.qcow2")
used=$(tar -tvf "$base" | awk '{s += $3} END {print s}')
r=$(python3 -c "print(round($q / $used, 2))")
printf 'output qcow2 %s MiB vs the base'"'"'s used space %s MiB:        %s x  (target <= 1.2 x)\n' \
  $((q >> 20)) $((used >> 20)) "$r"
ratio_ok "$r" 1.2 || missed="$missed qcow2-size"
if [ -n "$missed" ]; then echo "bench-build: targets missed:$missed"
else echo "bench-build: every target met"; fi
