#!/bin/bash
# tests/runner-slurm.sh: a sharded audit through a real Slurm on this
# machine (tests/slurm-lib.sh starts munged, slurmctld and slurmd by hand
# and stops them by pid).  Skips, saying why, when not root or when Slurm
# is not installed (make deps installs slurm-wlm and munge).
#  - jobs/audit.yaml over 8 images (6 Debian-like, 2 not disks): a plain
#    `guestkit run', then `guestkit slurm --shards 4 --submit'
#  - one shard is cancelled (scancel) while it runs, after its first task
#    and before its last; the merge job (afterany) still runs and says
#    what is missing
#  - that shard alone is rerun (sbatch --array=I) and goes on from its own
#    database; the merge job run again
#  - the merged database then holds the same tasks, statuses, errors and
#    facts as the plain run, each task once, with as many steps, and
#    passes PRAGMA integrity_check
cd "$(dirname "$0")/.." || exit 1
. tests/slurm-lib.sh
why=$(slurm_missing)
if [ -n "$why" ]; then echo "SKIP: runner-slurm: $why"; echo "runner-slurm: $why" >&2; exit 77; fi
gk=$PWD/runner/guestkit
out=$(mktemp -d /tmp/gk-slurm-test.XXXXXX) || exit 1
chmod 755 "$out"                    # munged, as munge, must reach its files
trap 'slurm_stop; rm -rf "$out"' EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$1" "$2"; }
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT JOB_COMPLETION_INDEX

sample_images "$out/img" || exit 1

# ---- the same job on one machine ----
plain=$out/plain.db
"$gk" run -q --db "$plain" -j 2 --images "$out/img/*.img" jobs/audit.yaml >"$out/plain.out" 2>&1
if [ "$(q "$plain" "SELECT count(*) FROM tasks WHERE status = 'ok'")" != 6 ]; then
  fail slurm-plain-run "$(tail -5 "$out/plain.out")"; exit 1
fi

if ! slurm_start "$out/slurm"; then fail slurm-start "see above"; exit 1; fi
pass slurm-start

# ---- submit ----
od=$out/run
export TMPDIR=$out/slurm/tmp        # the shards' local disk (sbatch passes it on)
"$gk" slurm jobs/audit.yaml --shards 4 -j 1 --images "$out/img/*.img" --out "$od" \
  --shard-group audit-slurm --submit >"$out/submit.out" 2>&1; st=$?
ids=$(sed -n 's/^submitted: shards job \([0-9]*\) .*, merge job \([0-9]*\) .*/\1 \2/p' "$out/submit.out")
array=${ids% *} merge=${ids#* }
if [ $st = 0 ] && [ -n "$ids" ]; then pass slurm-submit
else fail slurm-submit "exit $st: $(cat "$out/submit.out")"; exit 1; fi

# the shard with the most tasks is cancelled once its first task is done
big=0 most=0
for s in 0 1 2 3; do
  n=$("$gk" run -n --shard $s/4 --images "$out/img/*.img" jobs/audit.yaml | grep -c '^audit task')
  [ "$n" -gt "$most" ] && most=$n big=$s
done
local_db=$out/slurm/tmp/audit-slurm.shard-$big.db
cancelled=
for i in $(seq 900); do
  done_n=
  [ -f "$local_db" ] &&
    done_n=$(q "$local_db" "SELECT count(*) FROM tasks WHERE status IN ('ok', 'failed')" 2>/dev/null)
  if [ "${done_n:-0}" -ge 1 ] && [ "$done_n" -lt "$most" ]; then
    scancel "${array}_$big" && cancelled=yes
    break
  fi
  case $(slurm_states "${array}_$big") in COMPLETED|FAILED|CANCELLED*) break;; esac
  sleep 0.2
done
states=$(slurm_wait "$array" 300)
mstate=$(slurm_wait "$merge" 120)
# the merge exits 1 (tasks missing or unfinished), so its job is FAILED, but it ran
if [ "$cancelled" = yes ] && echo "$states" | grep -q CANCELLED && [ "$mstate" = FAILED ] &&
   grep -q "shards not merged yet: $big\|unfinished" "$od/logs/merge.out"; then
  pass slurm-cancel-one-shard
else fail slurm-cancel-one-shard "cancelled '$cancelled' ($most tasks in shard $big), array: $states, merge: $mstate"; fi
m=$od/guestkit.db
first=$(q "$m" "SELECT status || ' ' || (SELECT count(*) FROM tasks WHERE status IN ('ok', 'failed')) FROM runs")
if [ -s "$m" ] && [[ "$first" == interrupted* ]] && [ "${first#* }" -lt 8 ]; then
  pass slurm-merge-says-incomplete
else fail slurm-merge-says-incomplete "'$first': $(cat "$od"/logs/merge.out 2>&1 | tail -3)"; fi

# ---- the cancelled shard alone, then the merge again ----
rerun=$(sbatch --parsable --array=$big "$od/shard.sbatch"); rerun=${rerun%%;*}
rstate=$(slurm_wait "$rerun" 300)
remerge=$(sbatch --parsable --dependency=afterany:$rerun "$od/merge.sbatch"); remerge=${remerge%%;*}
mstate=$(slurm_wait "$remerge" 120)
log=$od/logs/shard-$big.out
again=$(sed -n 's/.*job audit, \([0-9]*\) of \([0-9]*\) tasks* to run again.*/\1 \2/p' "$log")
if [ -n "$again" ] && [ "${again% *}" -lt "${again#* }" ] && [ "${again#* }" = "$most" ] &&
   [ "$mstate" = COMPLETED ]; then
  pass slurm-rerun-shard-goes-on
else fail slurm-rerun-shard-goes-on "rerun $rstate, merge $mstate, '$again': $(tail -5 "$log")"; fi

rows() { q "$1" "SELECT t.seq || ' ' || t.image || ' ' || t.status || ' ' || coalesce(t.error, '') || ' ' ||
  coalesce(f.name || '=' || f.value, '') FROM tasks t LEFT JOIN facts f ON f.task_id = t.id
  ORDER BY t.seq, f.name"; }
steps() { q "$1" "SELECT count(*) || ' ' || count(DISTINCT task_id || '/' || seq) FROM steps"; }
if [ "$(rows "$m")" = "$(rows "$plain")" ] && [ "$(steps "$m")" = "$(steps "$plain")" ] &&
   [ "$(q "$m" "SELECT count(*) || ' ' || count(DISTINCT seq) FROM tasks")" = "8 8" ] &&
   [ "$(q "$m" "SELECT count(*) || ' ' || status || ' ' || ntasks FROM runs")" = "1 failed 8" ] &&
   [ "$(q "$m" "PRAGMA integrity_check")" = ok ]; then
  pass slurm-merged-equals-plain-run
else fail slurm-merged-equals-plain-run "$(diff <(rows "$plain") <(rows "$m") | head -8; steps "$plain"; steps "$m")"; fi
exit $rc
