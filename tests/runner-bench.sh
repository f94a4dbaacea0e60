#!/bin/bash
# tests/runner-bench.sh: the audit throughput for `make bench'.
# Runs jobs/audit.yaml on N Debian-like sample images (BENCH_IMAGES,
# default 8; made once and kept in tests/out/bench-images) with the
# default worker count, and prints
#   audit N images/min (W workers, N images in S s)
#   runner overhead X ms/task
# The overhead is the runner's own time per task: everything except the
# time spent inside the library (appliance launch, calls, close).
# Figures only; nothing is asserted.
cd "$(dirname "$0")/.." || exit 1
n=${BENCH_IMAGES:-8}
[ "$n" -ge 8 ] 2>/dev/null || n=8
dir=tests/out/bench-images; mkdir -p "$dir"
for i in $(seq "$n"); do
  f=$dir/bench-$i.img
  [ -s "$f" ] && continue
  tests/bin/make-sample-image "$f" 32 "bench-$i" >/dev/null 2>"$dir/mk-$i.err" &
  [ $((i % 2)) = 0 ] && wait
done
wait
imgs=$(for i in $(seq "$n"); do echo "$dir/bench-$i.img"; done)
for f in $imgs; do [ -s "$f" ] || { echo "runner-bench: cannot make $f: $(cat "$dir"/mk-*.err)"; exit 1; }; done
db=$(mktemp -u tests/out/bench-XXXXXX.db)
args=(); for f in $imgs; do args+=(--images "$f"); done
t0=$(date +%s%N)
out=$(runner/guestkit run --db "$db" "${args[@]}" jobs/audit.yaml 2>&1); st=$?
t1=$(date +%s%N)
rm -f "$db" "$db-wal" "$db-shm"
if [ $st != 0 ]; then echo "runner-bench: the audit failed (exit $st):"; echo "$out" | tail -5; exit 1; fi
sum=$(echo "$out" | tail -1)
workers=$(echo "$sum" | sed -n 's/.* with \([0-9]*\) worker.*/\1/p')
ovh=$(echo "$sum" | sed -n 's/.*runner overhead \([0-9.]*\) ms\/task.*/\1/p')
awk -v n="$n" -v ns=$((t1 - t0)) -v w="$workers" -v o="$ovh" 'BEGIN {
  s = ns / 1e9
  printf "audit %.1f images/min (%d workers, %d images in %.1f s)\n", n * 60 / s, w, n, s
  printf "runner overhead %s ms/task\n", o
}'

# The same audit with libguestfs, as its users would run it: virt-inspector
# on each image, two at a time (the runner's default worker count here).
if command -v virt-inspector >/dev/null; then
  export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
  t0=$(date +%s%N)
  printf '%s\n' $imgs | xargs -P 2 -I{} sh -c 'virt-inspector --format=raw -a "{}" >/dev/null 2>&1'
  t1=$(date +%s%N)
  awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { s = ns / 1e9
    printf "virt-inspector %.1f images/min (2 at a time, %d images in %.1f s)\n", n * 60 / s, n, s }'
fi
