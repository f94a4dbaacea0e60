#!/bin/bash
# tests/runner-concurrent.sh: two `guestkit run' processes writing one
# results database at once (WAL, busy timeout), with `guestkit status'
# and `report' reading it meanwhile: both runs complete, every task is
# recorded once, the database is intact.
# Then a second writer (sqlite3) that holds the write lock longer than the
# runner's busy timeout while a task's result waits to be written: the
# result is recorded once the lock is free (the retry loop), and a step
# row whose task another process deleted is refused (foreign_keys on).
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-concurrent-$$; mkdir -p "$out/a" "$out/b"
p1=""; p2=""; holder=""
trap '[ -n "$p1" ] && kill -KILL $p1 $p2 $holder 2>/dev/null; rm -rf "$out"' EXIT
db=$out/results.db
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$db" "PRAGMA busy_timeout = 10000; $1" | grep -v '^10000$'; }

for i in 1 2 3 4; do truncate -s 16M "$out/a/disk$i.img" "$out/b/disk$i.img"; done
for d in a b; do
  cat > "$out/$d.yaml" <<EOF2
name: job-$d
images: $d/*.img
steps:
  - list_devices:
    save_as: devices
  - blockdev_getsize64: /dev/sda
    save_as: size
  - sleep: 1
EOF2
done
$gk run -j 1 --db "$db" "$out/a.yaml" >"$out/a.out" 2>&1 & p1=$!
$gk run -j 1 --db "$db" "$out/b.yaml" >"$out/b.out" 2>&1 & p2=$!
readers=0; rerr=0
while kill -0 $p1 2>/dev/null || kill -0 $p2 2>/dev/null; do
  if [ -f "$db" ]; then
    $gk status --db "$db" >/dev/null 2>>"$out/readers.err" || rerr=$((rerr + 1))
    $gk report --db "$db" --all --format json >/dev/null 2>>"$out/readers.err" || rerr=$((rerr + 1))
    readers=$((readers + 1))
  fi
  sleep 0.2
done
wait $p1; s1=$?; wait $p2; s2=$?
if [ $s1 = 0 ] && [ $s2 = 0 ]; then pass concurrent-both-complete
else fail concurrent-both-complete "exit $s1/$s2: $(cat "$out/a.out" "$out/b.out" | grep -v "^ok" | tail -4)"; fi
runs=$(q "SELECT group_concat(job_name || ':' || status || ':' || ntasks, ' ') FROM (SELECT * FROM runs ORDER BY job_name)")
tasks=$(q "SELECT count(*), count(DISTINCT image) FROM tasks WHERE status = 'ok'")
facts=$(q "SELECT count(*) FROM facts WHERE name = 'size' AND value = '16777216'")
if [ "$runs" = "job-a:done:4 job-b:done:4" ] && [ "$tasks" = "8|8" ] && [ "$facts" = 8 ]; then
  pass concurrent-all-recorded
else fail concurrent-all-recorded "runs '$runs', tasks '$tasks', facts '$facts'"; fi
if [ $rerr = 0 ]; then pass concurrent-readers
else fail concurrent-readers "$rerr of $readers reads failed: $(head -3 "$out/readers.err")"; fi
if [ "$(q "PRAGMA integrity_check")" = ok ]; then pass concurrent-integrity
else fail concurrent-integrity "$(q "PRAGMA integrity_check" | head -3)"; fi

# ---- a second writer holding the lock (GUESTKIT_DB_BUSY_MS=200) ----
db=$out/busy.db; mkdir -p "$out/c" "$out/dl"
for i in 1 2 3; do truncate -s 1M "$out/c/disk$i.img"; done
cat > "$out/c.yaml" <<EOF2
name: job-c
images: c/*.img
steps:
  - list_devices:
    save_as: devices
  - download: {remotefilename: /dev/sda, filename: "dl/{{image_stem}}.raw"}
EOF2
GUESTKIT_DB_BUSY_MS=200 $gk run -j 1 --db "$db" "$out/c.yaml" >"$out/c.out" 2>&1 & p1=$!
# until_ok COND...: poll COND every 0.1 s, 60 s at most.
until_ok() { for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }
task1_running() { [ "$(q "SELECT status FROM tasks WHERE seq = 1" 2>/dev/null)" = running ]; }
steps_done() { [ -f "$out/dl/disk1.raw" ]; }
no_children() { ! pgrep -P $p1 >/dev/null; }
until_ok task1_running
mkfifo "$out/hold.fifo"
sqlite3 -bail "$db" <"$out/hold.fifo" >"$out/hold.out" 2>&1 & holder=$!
exec 3>"$out/hold.fifo"
printf '.timeout 20000\nBEGIN EXCLUSIVE;\nDELETE FROM tasks WHERE seq = 3;\n.shell touch %s\n' \
  "$out/held" >&3
held() { [ -f "$out/held" ]; }
# Task 1's last step is done (its download is in place) and its appliance
# is gone (qemu and the recovery process are the runner's children): its
# result now waits for the lock.  Hold the lock ten busy timeouts more.
if until_ok held && until_ok steps_done && until_ok no_children; then
  sleep 2
  during=$(q "SELECT count(*) FROM tasks WHERE status = 'ok'")
else during="not reached: held $(held && echo yes || echo no), children $(pgrep -P $p1 | wc -l), $(ls "$out/dl")"; fi
printf 'COMMIT;\n' >&3; exec 3>&-
wait $holder; hs=$?; holder=""
wait $p1; s1=$?
okn=$(q "SELECT count(*) FROM tasks WHERE status = 'ok'")
facts=$(q "SELECT count(*) FROM facts WHERE name = 'devices'")
if [ "$hs" = 0 ] && [ "$during" = 0 ] && [ "$okn" = 2 ] && [ "$facts" = 2 ] &&
   ! grep -Eq "cannot record the result: .*(locked|busy)" "$out/c.out"; then
  pass concurrent-busy-writer
else fail concurrent-busy-writer "holder exit $hs ($(cat "$out/hold.out")), ok while held '$during', ok after $okn, facts $facts: $(grep -v '^ok' "$out/c.out" | tail -3)"; fi
orphans=$(q "SELECT count(*) FROM steps WHERE task_id NOT IN (SELECT id FROM tasks)")
if [ "$orphans" = 0 ] && grep -q "task 3 .*cannot record the result: .*FOREIGN KEY" "$out/c.out"; then
  pass concurrent-foreign-keys
else fail concurrent-foreign-keys "orphan steps $orphans: $(grep -i 'task 3' "$out/c.out" | tail -2)"; fi
exit $rc
