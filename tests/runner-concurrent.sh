#!/bin/bash
# tests/runner-concurrent.sh: two `guestkit run' processes writing one
# results database at once (WAL, busy timeout), with `guestkit status'
# and `report' reading it meanwhile: both runs complete, every task is
# recorded once, the database is intact.
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-concurrent-$$; mkdir -p "$out/a" "$out/b"
p1=""; p2=""
trap '[ -n "$p1" ] && kill -KILL $p1 $p2 2>/dev/null; rm -rf "$out"' EXIT
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
exit $rc
