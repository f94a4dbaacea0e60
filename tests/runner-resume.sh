#!/bin/bash
# tests/runner-resume.sh: runs that are killed or interrupted, then resumed.
#  - SIGKILL mid-run (twice, at different points): no finished result is
#    lost, no appliance is left behind, and --resume ends with every task
#    holding exactly one final result, tasks finished before not rerun,
#    and PRAGMA integrity_check ok
#  - SIGINT and SIGTERM: running tasks are recorded as interrupted, the
#    rest stay pending, and --resume finishes them
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-resume-$$; mkdir -p "$out/img"
pid=""
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$out"' EXIT
db=$out/results.db
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$db" "PRAGMA busy_timeout = 10000; $1" | grep -v '^10000$'; }

for i in 1 2 3 4 5 6 7 8; do truncate -s 16M "$out/img/disk$i.img"; done
cat > "$out/job.yaml" <<'EOF2'
images: img/*.img
steps:
  - list_devices:
    save_as: devices
  - sleep: 2
EOF2

# wait_for SQL VALUE: until the query gives at least VALUE (20 s at most).
wait_for() {
  for _ in $(seq 200); do
    [ "$(q "$1" 2>/dev/null)" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# Our appliances still alive (their command lines name our images).
leftovers() { pgrep -f -- "qemu.*$out/img" | wc -l; }

# ---- SIGKILL, resume, SIGKILL again, resume ----
$gk run -j 2 --db "$db" "$out/job.yaml" >"$out/run1.out" 2>&1 &
pid=$!
wait_for "SELECT count(*) FROM tasks WHERE status = 'ok'" 2
kill -KILL $pid; wait $pid 2>/dev/null
ok1=$(q "SELECT group_concat(seq || '@' || finished) FROM tasks WHERE status = 'ok'")
st=$($gk status --db "$db" --format csv | sed -n 2p | cut -d, -f3)
if [ "$st" = killed ] && [ -n "$ok1" ]; then pass sigkill-status-killed
else fail sigkill-status-killed "status '$st', ok '$ok1'"; fi
for _ in $(seq 30); do [ "$(leftovers)" = 0 ] && break; sleep 0.2; done
if [ "$(leftovers)" = 0 ]; then pass sigkill-no-appliance-left
else fail sigkill-no-appliance-left "$(leftovers) qemu processes still run"; fi

$gk run --db "$db" --resume 1 >"$out/run2.out" 2>&1 &
pid=$!
n=$(q "SELECT count(*) FROM tasks WHERE status = 'ok'")
wait_for "SELECT count(*) FROM tasks WHERE status = 'ok'" $((n + 1))
kill -KILL $pid; wait $pid 2>/dev/null
ok2=$(q "SELECT group_concat(seq || '@' || finished) FROM tasks WHERE status = 'ok' AND ',' || '$ok1' || ',' LIKE '%,' || seq || '@' || finished || ',%'")
if [ "$ok2" = "$ok1" ]; then pass sigkill-keeps-finished
else fail sigkill-keeps-finished "before '$ok1', after '$ok2'"; fi

$gk run --db "$db" --resume 1 >"$out/run3.out" 2>&1; st=$?
okn=$(q "SELECT count(*) FROM tasks WHERE run_id = 1 AND status = 'ok'")
rows=$(q "SELECT count(*), count(DISTINCT seq) FROM tasks WHERE run_id = 1")
steps=$(q "SELECT count(*) FROM (SELECT task_id, count(*) AS n FROM steps GROUP BY task_id HAVING n <> 3)")
facts=$(q "SELECT count(*) FROM facts WHERE name = 'devices' AND value = '[\"/dev/sda\"]'")
again=$(q "SELECT group_concat(seq || '@' || finished) FROM tasks WHERE status = 'ok' AND ',' || '$ok1' || ',' LIKE '%,' || seq || '@' || finished || ',%'")
if [ $st = 0 ] && [ "$okn" = 8 ] && [ "$rows" = "8|8" ] && [ "$steps" = 0 ] && [ "$facts" = 8 ] &&
   [ "$again" = "$ok1" ]; then
  pass resume-one-result-each
else fail resume-one-result-each "exit $st, ok $okn, rows $rows, odd steps $steps, facts $facts: $(tail -3 "$out/run3.out")"; fi
[ "$(q "SELECT status FROM runs WHERE id = 1")" = done ] && pass resume-run-done ||
  fail resume-run-done "run status $(q "SELECT status FROM runs WHERE id = 1")"
if [ "$(q "PRAGMA integrity_check")" = ok ]; then pass sigkill-integrity
else fail sigkill-integrity "$(q "PRAGMA integrity_check" | head -3)"; fi
$gk run --db "$db" --resume 1 >"$out/run4.out" 2>&1; st=$?
if [ $st = 0 ] && grep -q "0 of 8 tasks to run again" "$out/run4.out"; then pass resume-finished-run
else fail resume-finished-run "exit $st: $(cat "$out/run4.out")"; fi

# ---- SIGINT / SIGTERM ----
for sig in INT TERM; do
  $gk run -j 2 --db "$db" --images "$out/img/disk[1-4].img" "$out/job.yaml" >"$out/$sig.out" 2>&1 &
  pid=$!
  run=""
  for _ in $(seq 100); do run=$(q "SELECT max(id) FROM runs WHERE ntasks = 4 AND status = 'running'"); [ -n "$run" ] && break; sleep 0.1; done
  wait_for "SELECT count(*) FROM tasks WHERE run_id = ${run:-0} AND status = 'running'" 2
  start=$(date +%s)
  kill -$sig $pid; wait $pid; st=$?
  el=$(( $(date +%s) - start ))
  states=$(q "SELECT group_concat(status, ' ') FROM (SELECT status FROM tasks WHERE run_id = $run ORDER BY seq)")
  # Not a timing check: 120 s only catches a run that waited for its
  # tasks (or hung) instead of stopping them; a sanitizer build is slow.
  if [ $st = 1 ] && [ $el -le 120 ] && [ "$(q "SELECT status FROM runs WHERE id = $run")" = interrupted ] &&
     [ "$states" = "interrupted interrupted pending pending" ] &&
     grep -q "stopping; running tasks are recorded as interrupted" "$out/$sig.out"; then
    pass "sig$sig-interrupts"
  else fail "sig$sig-interrupts" "exit $st after ${el}s, states '$states': $(tail -3 "$out/$sig.out")"; fi
  $gk run --db "$db" --resume "$run" >"$out/$sig-resume.out" 2>&1; st=$?
  if [ $st = 0 ] && [ "$(q "SELECT count(*) FROM tasks WHERE run_id = $run AND status = 'ok'")" = 4 ]; then
    pass "sig$sig-resume"
  else fail "sig$sig-resume" "exit $st: $(tail -3 "$out/$sig-resume.out")"; fi
done
exit $rc
