#!/bin/bash
# tests/runner-faults.sh: the runner under faults and repeated kills.
#  - an appliance killed mid-task (GUESTKIT_FAULT=kill-qemu:N) is recorded
#    and, with retries set, the task succeeds on a fresh appliance while
#    the other tasks are unaffected
#  - `guestkit run' SIGKILLed at random points 20 times, resumed each
#    time, then finished: every task has exactly one final result, each
#    with the same steps, and PRAGMA integrity_check is ok
#  - the watchdog never signals the pid of a qemu the library has already
#    reaped (tests/reap-watch.c catches it), even when SIGTERM comes in
#    right after the reap
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-faults-$$; mkdir -p "$out/img"
pid=""
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$out"' EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
q() { sqlite3 -batch -noheader "$1" "PRAGMA busy_timeout = 10000; $2" | grep -v '^10000$'; }
for i in $(seq 10); do truncate -s 16M "$out/img/disk$i.img"; done

# ---- a killed appliance is retried on a fresh one ----
cat > "$out/retry.yaml" <<'EOF2'
images: img/disk[1-4].img
retries: 1
steps:
  - list_devices:
    save_as: devices
  - ping_daemon:
EOF2
db=$out/retry.db
GUESTKIT_FAULT=kill-qemu:3 $gk run -j 1 --db "$db" "$out/retry.yaml" >"$out/retry.out" 2>&1; st=$?
ok=$(q "$db" "SELECT count(*) FROM tasks WHERE status = 'ok'")
tries=$(q "$db" "SELECT max(attempts) FROM tasks" 2>/dev/null)
facts=$(q "$db" "SELECT count(*) FROM facts WHERE name = 'devices'")
if [ $st = 0 ] && [ "$ok" = 4 ] && [ "$facts" = 4 ]; then pass fault-kill-qemu-retried
else fail fault-kill-qemu-retried "exit $st, ok $ok, facts $facts, attempts $tries: $(tail -3 "$out/retry.out")"; fi
if [ "$tries" = 2 ] && [ "$(q "$db" "SELECT count(*) FROM tasks WHERE attempts = 1")" = 3 ]; then
  pass fault-kill-qemu-recorded
else fail fault-kill-qemu-recorded "attempts: $(q "$db" "SELECT group_concat(attempts) FROM tasks")"; fi

# ---- 20 SIGKILLs at random points, then resume to the end ----
cat > "$out/slow.yaml" <<'EOF2'
images: img/*.img
steps:
  - list_devices:
    save_as: devices
  - sleep: 1
EOF2
db=$out/kill.db
RANDOM=4242
$gk run -j 2 --db "$db" "$out/slow.yaml" >"$out/kill0.out" 2>&1 &
pid=$!
# Only --resume RUN can go on after a kill: the run must exist first (on
# a busy machine that takes longer than the shortest pause below).
for _ in $(seq 300); do
  [ "$(q "$db" "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] && break; sleep 0.1
done
for k in $(seq 20); do
  sleep "0.$((RANDOM % 9 + 1))"
  kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
  $gk run --db "$db" --resume 1 >"$out/kill$k.out" 2>&1 &
  pid=$!
done
wait $pid; pid=""
$gk run --db "$db" --resume 1 >"$out/final.out" 2>&1; st=$?
rows=$(q "$db" "SELECT count(*) || '|' || count(DISTINCT seq) FROM tasks WHERE run_id = 1")
ok=$(q "$db" "SELECT count(*) FROM tasks WHERE run_id = 1 AND status = 'ok'")
shapes=$(q "$db" "SELECT count(DISTINCT n) FROM (SELECT count(*) AS n FROM steps GROUP BY task_id)")
facts=$(q "$db" "SELECT count(*) FROM facts WHERE name = 'devices'")
if [ $st = 0 ] && [ "$rows" = "10|10" ] && [ "$ok" = 10 ] && [ "$shapes" = 1 ] && [ "$facts" = 10 ]; then
  pass kill20-one-result-each
else fail kill20-one-result-each "exit $st, rows $rows, ok $ok, step shapes $shapes, facts $facts"; fi
if [ "$(q "$db" "PRAGMA integrity_check")" = ok ]; then pass kill20-integrity
else fail kill20-integrity "$(q "$db" "PRAGMA integrity_check" | head -3)"; fi

# ---- the watchdog never signals a pid the library has reaped ----
# The appliance dies in a step (kill-qemu); tests/reap-watch.c holds the
# worker for 5 s right after the library reaped qemu, and SIGTERM comes
# in then: the watchdog must not kill the dead qemu's pid, which the
# system may have given to another process by now.
cc -shared -fPIC -O1 -o "$out/reap-watch.so" tests/reap-watch.c -ldl
cat > "$out/reap.yaml" <<'EOF2'
images: img/disk1.img
steps:
  - list_devices:
  - sleep: 30
EOF2
db=$out/reap.db
REAP_WATCH_MARK=$out/reaped REAP_WATCH_HOLD=5 REAP_WATCH_LOG=$out/reap.log \
  LD_PRELOAD=$out/reap-watch.so GUESTKIT_FAULT=kill-qemu:3 \
  $gk run -j 1 --db "$db" "$out/reap.yaml" >"$out/reap.out" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -f "$out/reaped" ] || ! kill -0 $pid 2>/dev/null && break; sleep 0.1; done
[ -f "$out/reaped" ] && sleep 0.5 && kill -TERM $pid
wait $pid; st=$?; pid=""
steps=$(q "$db" "SELECT group_concat(call || ':' || (error IS NULL), ' ') FROM (SELECT * FROM steps ORDER BY seq)")
died=$(q "$db" "SELECT count(*) FROM steps WHERE seq > 0 AND error LIKE '%exited unexpectedly%'")
if [ -f "$out/reaped" ] && [ "${steps%% *}" = launch:1 ] && [ "$died" -ge 1 ] &&
   [ ! -s "$out/reap.log" ] && [ $st = 1 ]; then
  pass watchdog-no-kill-after-reap
else fail watchdog-no-kill-after-reap "exit $st, reaped $([ -f "$out/reaped" ] && echo yes || echo no), steps '$steps': $(cat "$out/reap.log" 2>/dev/null) $(tail -2 "$out/reap.out")"; fi
