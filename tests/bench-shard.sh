#!/bin/bash
# tests/bench-shard.sh: the scale-out figures of make bench (issue 13).
#  - merge: 100 synthetic shard databases of 100 tasks each (17 steps and
#    15 facts a task, tests/shard-fixture.py) merged into a new database:
#    wall and CPU seconds (target: 5 s)
#  - sharding overhead: jobs/audit.yaml over 8 images (6 Debian-like, 2
#    not disks) as a plain `guestkit run -j 2', then as 4 shards of one
#    worker each through a real single-node Slurm (tests/slurm-lib.sh):
#    from `guestkit slurm --submit' to the end of the merge job; the ratio
#    (target: 1.3) and the per-image cost of one worker (plain wall time x
#    workers / images) and its CPU time (guestkit and its qemus), the
#    figures the README's paper simulation uses.
#    Needs root and Slurm; else that part says why it is left out.
# Figures only; nothing is asserted.
cd "$(dirname "$0")/.." || exit 1
. tests/slurm-lib.sh
gk=$PWD/runner/guestkit
out=$(mktemp -d /tmp/gk-bench-shard.XXXXXX) || exit 1
chmod 755 "$out"                    # munged, as munge, must reach its files
trap 'slurm_stop; rm -rf "$out"' EXIT
now() { date +%s.%N; }
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT JOB_COMPLETION_INDEX

# ---- merge ----
python3 tests/shard-fixture.py "$out/shards" --shards 100 --tasks 100 || exit 1
t0=$(now)
/usr/bin/time -f '%U %S' -o "$out/cpu" "$gk" merge -q "$out/merged.db" "$out"/shards/*.db >/dev/null
t1=$(now)
n=$(sqlite3 "$out/merged.db" "SELECT count(*) FROM tasks")
tail -1 "$out/cpu" | awk -v a="$t0" -v b="$t1" -v n="$n" '{ printf "  merge 100 shards x 100 tasks   %6.2f s wall, %.2f s CPU (%d tasks; target 5 s)\n", b - a, $1 + $2, n }'
rm -rf "$out/shards" "$out"/merged.db*

# ---- sharding overhead through Slurm ----
why=$(slurm_missing)
if [ -n "$why" ]; then echo "  sharding overhead              left out: $why"; exit 0; fi
sample_images "$out/img" || exit 1
t0=$(now)
/usr/bin/time -f '%U %S' -o "$out/cpu" \
  "$gk" run -q --db "$out/plain.db" -j 2 --images "$out/img/*.img" jobs/audit.yaml >/dev/null 2>&1
t1=$(now)
cpu=$(tail -1 "$out/cpu" | awk '{ print $1 + $2 }')    # guestkit and its qemus
slurm_start "$out/slurm" || exit 1
t2=$(now)
"$gk" slurm jobs/audit.yaml --shards 4 -j 1 --images "$out/img/*.img" --out "$out/run" \
  --submit > "$out/submit.out" 2>&1
merge=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' "$out/submit.out")
[ -n "$merge" ] && slurm_wait "$merge" 900 >/dev/null
t3=$(now)
ok=$(sqlite3 "$out/run/guestkit.db" "SELECT count(*) FROM tasks WHERE status = 'ok'" 2>/dev/null)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v ok="${ok:-0}" -v cpu="$cpu" 'BEGIN {
  printf "  audit of 8 images, plain -j 2  %6.2f s (%.2f s of one worker, %.2f s CPU, per image)\n", b - a, (b - a) * 2 / 8, cpu / 8
  printf "  same, 4 shards x 1 via Slurm  %6.2f s, submit to merged; ratio %.2f (target 1.3; %d of 6 ok)\n", d - c, (d - c) / (b - a), ok
}'
