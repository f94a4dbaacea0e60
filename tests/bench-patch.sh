#!/bin/bash
# tests/bench-patch.sh: the patch task on a small real-Debian-files image
# (tests/steps-fixture.sh), for `make bench`:
#  - a patch task (jobs/patch.yaml), launch to commit, all-or-nothing
#  - the same job with atomic: false (direct writes): the overlay and
#    commit's share is the difference
#  - set_config's own time (one file, one lens loaded)
# Each figure is the median of RUNS runs (default 3) on fresh copies.
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
runs=${RUNS:-3}
out=$PWD/tests/out/bench-patch-$$; mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
fixture=$(tests/steps-fixture.sh) || exit 77
SOURCE_DATE_EPOCH=0 dpkg-deb --root-owner-group -b jobs/files/fleet-deb "$out/fleet.deb" >/dev/null || exit 77
sed 's/^readonly: false.*/readonly: false\natomic: false/' jobs/patch.yaml > "$out/direct.yaml"
# set_config timed alone: the guest mounted by a step of its own first
# (else the first high-level step also pays for inspecting and mounting).
sed 's/^steps:$/steps:\n  - mount: [\/dev\/sda1, \/]/' jobs/patch.yaml > "$out/mounted.yaml"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() {   # JOB -> "task_ms set_config_ms commit_ms"
  cp --sparse=always "$fixture" "$out/x.img"
  rm -f "$out/db"
  $gk run -q --db "$out/db" --images "$out/x.img" --var deb="$out/fleet.deb" "$1" >/dev/null 2>&1 || return 1
  # Per step of the task (and what no step holds: the changes record,
  # umount_all, sync, close), for the breakdown below.
  sqlite3 -batch -noheader -separator ' ' "$out/db" "SELECT seq, call, round(duration_ms) FROM steps
    UNION ALL SELECT 99, '(between)', round((SELECT duration_ms FROM tasks) - (SELECT sum(duration_ms) FROM steps))" \
    >> "$out/steps-${1##*/}"
  sqlite3 -batch -noheader -separator ' ' "$out/db" "SELECT
    (SELECT round(duration_ms) FROM tasks),
    (SELECT round(duration_ms, 1) FROM steps WHERE call = 'set_config'),
    coalesce((SELECT round(duration_ms) FROM steps WHERE call = 'commit'), 0)"
}
: > "$out/atomic"; : > "$out/direct"; : > "$out/mounted"
for i in $(seq "$runs"); do
  one jobs/patch.yaml >> "$out/atomic" || { echo "bench-patch: the patch job failed" >&2; exit 1; }
  one "$out/mounted.yaml" >> "$out/mounted" || { echo "bench-patch: the mounted job failed" >&2; exit 1; }
  one "$out/direct.yaml" >> "$out/direct" || { echo "bench-patch: the direct job failed" >&2; exit 1; }
done
a=$(cut -d' ' -f1 "$out/atomic" | median); d=$(cut -d' ' -f1 "$out/direct" | median)
sc=$(cut -d' ' -f2 "$out/mounted" | median); cm=$(cut -d' ' -f3 "$out/atomic" | median)
printf 'patch task (launch to commit, median of %d)  %6.2f s   (target <= 1.5 s)\n' "$runs" "$(echo "$a / 1000" | bc -l)"
printf 'same, atomic: false (direct writes)         %6.2f s\n' "$(echo "$d / 1000" | bc -l)"
printf 'overlay + commit overhead                   %6.1f %%   (target <= 15 %%; commit step %s ms)\n' \
  "$(echo "($a - $d) * 100 / $d" | bc -l)" "$cm"
printf 'set_config on sshd_config                   %6.3f s   (target <= 0.3 s)\n' "$(echo "$sc / 1000" | bc -l)"
echo "patch task by step (median ms of $runs):"
sort -n -k1,1 "$out/steps-patch.yaml" | awk '{k=$1" "$2; v[k]=v[k]" "$3} END {for (k in v) print k, v[k]}' |
  sort -n -k1,1 | while read -r seq call ms; do
    printf '  %-12s %6.0f\n' "$call" "$(echo $ms | tr ' ' '\n' | median)"
  done
