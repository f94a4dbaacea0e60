#!/bin/bash
# tests/runner-workers.sh: the worker count when neither --workers nor
# the job sets it (runner/README.md, "Workers"): the CPUs this process may
# use (its affinity mask), the memory it may fill over the per-appliance
# figure, never more than the tasks, never less than one; said under -v.
# GUESTKIT_TEST_MEMAVAIL and GUESTKIT_TEST_CPUS (tests only) fake the
# machine; taskset changes the real affinity.  Then one real run, to see
# the count chosen is the one used.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-workers img

for i in $(seq 16); do truncate -s 16M "$out/img/d$i.img"; done
printf 'images: img/*.img\nsteps:\n  - list_devices:\n    save_as: devices\n' >"$out/job.yaml"
printf 'images: img/*.img\nworkers: 3\nsteps:\n  - list_devices:\n' >"$out/job3.yaml"
printf 'images: img/*.img\nmemsize: 512\nsteps:\n  - list_devices:\n' >"$out/job512.yaml"

# said N: the count the -v line gives ("guestkit: N workers: ...")
said() { sed -n 's/^guestkit: \([0-9]*\) workers\{0,1\}: .*/\1/p' "$out/v.err"; }
check() {  # NAME EXPECTED-COUNT ERE-IN-REASON -- ENV... guestkit run args
  local name=$1 want=$2 why=$3; shift 3
  env "$@" >"$out/v.out" 2>"$out/v.err"
  local st=$?
  if [ $st = 0 ] && [ "$(said)" = "$want" ] && grep -qE -- "$why" "$out/v.err"; then pass "$name"
  else fail "$name" "exit $st, want $want: $(cat "$out/v.err")"; fi
}

cpus=$(nproc)         # nproc counts the affinity mask too
big=GUESTKIT_TEST_MEMAVAIL=1000000
w=$((cpus < 16 ? cpus : 16))
check workers-cpus "$w" "$cpus CPUs? \(sched_getaffinity\).*limited by CPUs" \
  $big $gk run -n -v "$out/job.yaml"
# Memory: 256 MiB for the host, then the guest RAM (256 MiB by default)
# plus 96 MiB per appliance.
check workers-low-memory-lowers 1 'limited by memory' \
  GUESTKIT_TEST_CPUS=8 GUESTKIT_TEST_MEMAVAIL=700 $gk run -n -v "$out/job.yaml"
check workers-memory-room 3 '1312 MiB available \(GUESTKIT_TEST_MEMAVAIL\).*room for 3; so 3, limited by memory' \
  GUESTKIT_TEST_CPUS=8 GUESTKIT_TEST_MEMAVAIL=1312 $gk run -n -v "$out/job.yaml"
check workers-memory-more 8 'room for 4[0-9]; so 8, limited by CPUs' \
  GUESTKIT_TEST_CPUS=8 GUESTKIT_TEST_MEMAVAIL=16000 $gk run -n -v "$out/job.yaml"
check workers-job-memsize 2 '608 MiB per appliance \(guest RAM \+ 96 measured\).*room for 2; so 2, limited by memory' \
  GUESTKIT_TEST_CPUS=8 GUESTKIT_TEST_MEMAVAIL=2048 $gk run -n -v "$out/job512.yaml"
check workers-default-memsize 5 '352 MiB per appliance.*room for 5' \
  GUESTKIT_TEST_CPUS=8 GUESTKIT_TEST_MEMAVAIL=2048 $gk run -n -v "$out/job.yaml"
check workers-env-memsize 8 '224 MiB per appliance.*room for 8' \
  LIBGUESTFS_MEMSIZE=128 GUESTKIT_TEST_CPUS=8 GUESTKIT_TEST_MEMAVAIL=2048 $gk run -n -v "$out/job.yaml"
check workers-no-memory-one 1 'room for 0; so 1' \
  GUESTKIT_TEST_CPUS=8 GUESTKIT_TEST_MEMAVAIL=100 $gk run -n -v "$out/job.yaml"
check workers-appliance-mib 7 '100 MiB per appliance \(GUESTKIT_APPLIANCE_MIB\).*room for 7' \
  GUESTKIT_APPLIANCE_MIB=100 GUESTKIT_TEST_CPUS=64 GUESTKIT_TEST_MEMAVAIL=1000 $gk run -n -v "$out/job.yaml"
check workers-at-most-tasks 2 'so 8, .*no more than the 2 tasks' \
  GUESTKIT_TEST_CPUS=8 $big $gk run -n -v --images "$out/img/d[12].img" "$out/job.yaml"
check workers-option 5 '^guestkit: 5 workers: --workers$' $gk run -n -v -j 5 "$out/job.yaml"
check workers-job 3 "the job's workers:" GUESTKIT_TEST_MEMAVAIL=100 $gk run -n -v "$out/job3.yaml"
if command -v taskset >/dev/null; then
  check workers-affinity 1 '1 CPU \(sched_getaffinity\)' $big taskset -c 0 $gk run -n -v "$out/job.yaml"
else echo "SKIP: workers-affinity: taskset is not installed"; fi
# Without -v nothing is said.
GUESTKIT_TEST_MEMAVAIL=700 $gk run -n "$out/job.yaml" >"$out/q.out" 2>"$out/q.err"
[ ! -s "$out/q.err" ] && pass workers-quiet-without-v || fail workers-quiet-without-v "$(cat "$out/q.err")"

# A real run with memory for one appliance: one worker, recorded as such.
GUESTKIT_TEST_CPUS=4 GUESTKIT_TEST_MEMAVAIL=700 $gk run -v --db "$out/r.db" \
  --images "$out/img/d[1-3].img" "$out/job.yaml" >"$out/r.out" 2>"$out/r.err"
st=$?
w=$(sqlite3 "$out/r.db" "SELECT workers FROM runs" 2>&1)
ws=$(sqlite3 "$out/r.db" "SELECT group_concat(DISTINCT worker) FROM tasks" 2>&1)
if [ $st = 0 ] && [ "$w" = 1 ] && [ "$ws" = 1 ] && grep -q 'with 1 worker;' "$out/r.out" &&
   grep -q '^guestkit: 1 worker: .*limited by memory' "$out/r.err"; then
  pass workers-run-uses-count
else fail workers-run-uses-count "exit $st, workers $w, by $ws: $(tail -2 "$out/r.out") $(tail -2 "$out/r.err")"; fi
exit $rc
