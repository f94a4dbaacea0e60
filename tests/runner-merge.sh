#!/bin/bash
# tests/runner-merge.sh: guestkit merge on synthetic shard databases
# (tests/shard-fixture.py; no appliance):
#  - three shards make one run with every task, step, fact, and the rows
#    of tables the results schema does not know (found by their foreign
#    keys: under a task, under a row under a task, under the run), links
#    intact; PRAGMA integrity_check passes; report and status read it
#  - merging again adds nothing; a merge killed mid-way and run again
#    ends with the same database
#  - refused, named, the others merged: a truncated shard, a file of
#    random bytes, a database that is no shard's, a shard of another job
#    version, of another shard count, of another group, OUT itself
#  - a task claimed by two shards: merged once; a conflict reported when
#    their results differ; an unfinished task replaced by a finished copy
#    (a rerun shard), its rows not duplicated
#  - usage errors; an OUT that is not a database
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-merge
q() { sqlite3 -batch -noheader "$1" "$2"; }
fixture() { python3 tests/shard-fixture.py "$@" >/dev/null 2>"$out/fx.err" ||
  { echo "cannot make fixtures: $(cat "$out/fx.err")" >&2; exit 1; }; }

fixture "$out/s" --shards 3 --tasks 4 --extra
s0=$out/s/audit-test.shard-0.db s1=$out/s/audit-test.shard-1.db s2=$out/s/audit-test.shard-2.db
db=$out/m.db

# ---- one run from three shards ----
$gk merge "$db" "$s0" "$s1" "$s2" >"$out/m1.out" 2>&1; st=$?
counts() { q "$db" "SELECT (SELECT count(*) FROM runs) || ' ' || (SELECT count(*) FROM tasks) || ' ' ||
  (SELECT count(*) FROM steps) || ' ' || (SELECT count(*) FROM facts) || ' ' ||
  (SELECT count(*) FROM xt_findings) || ' ' || (SELECT count(*) FROM xt_finding_refs) || ' ' ||
  (SELECT count(*) FROM run_notes)"; }
c=$(counts)
if [ $st = 0 ] && [ "$c" = "1 12 204 180 24 24 1" ] &&
   [ "$(q "$db" "SELECT group_concat(seq, ',') FROM (SELECT seq FROM tasks ORDER BY seq)")" = 1,2,3,4,5,6,7,8,9,10,11,12 ] &&
   grep -q "12 of 12 tasks, all there" "$out/m1.out"; then
  pass merge-one-run
else fail merge-one-run "exit $st, counts '$c': $(cat "$out/m1.out")"; fi

# every row still belongs to its own task: facts, steps, and the rows two
# links away (xt_finding_refs -> xt_findings -> tasks) name the task's image
bad=$(q "$db" "SELECT (SELECT count(*) FROM facts f JOIN tasks t ON t.id = f.task_id
    WHERE json_extract(f.value, '\$') NOT LIKE t.image || ' value %') +
  (SELECT count(*) FROM steps s JOIN tasks t ON t.id = s.task_id
    WHERE json_extract(s.result, '\$') NOT LIKE '% of ' || t.image) +
  (SELECT count(*) FROM xt_finding_refs r JOIN xt_findings f ON f.id = r.finding_id
    JOIN tasks t ON t.id = f.task_id WHERE r.ref NOT LIKE t.image || '#%') +
  (SELECT count(*) FROM tasks WHERE run_id <> (SELECT id FROM runs)) +
  (SELECT count(*) FROM run_notes WHERE run_id <> (SELECT id FROM runs))")
[ "$bad" = 0 ] && pass merge-links-kept || fail merge-links-kept "$bad rows under the wrong task"

r=$(q "$db" "SELECT status || ' ' || ntasks || ' ' || json_extract(options, '\$.shard.group') || ' ' ||
  (json_type(options, '\$.shard.index') IS NULL) || ' ' ||
  (SELECT count(*) FROM json_each(options, '\$.shard.sources')) || ' ' || started FROM runs")
[ "$r" = "done 12 audit-test 1 3 2026-12-01T01:00:00.000Z" ] && pass merge-run-row ||
  fail merge-run-row "'$r'"

[ "$(q "$db" "PRAGMA integrity_check")" = ok ] && pass merge-integrity ||
  fail merge-integrity "$(q "$db" "PRAGMA integrity_check")"

n=$($gk report --db "$db" --format csv | tail -n +2 | wc -l)
$gk status --db "$db" >"$out/st.out" 2>&1
[ "$n" = 12 ] && grep -q "^1 *audit *done *12 *12" "$out/st.out" && pass merge-report ||
  fail merge-report "$n rows; $(cat "$out/st.out")"

# ---- idempotent, resumable ----
before=$(q "$db" "SELECT group_concat(x, ';') FROM (SELECT id || ',' || seq || ',' || status AS x FROM tasks ORDER BY id)")
$gk merge "$db" "$s0" "$s1" "$s2" "$s1" >"$out/m2.out" 2>&1; st=$?
after=$(q "$db" "SELECT group_concat(x, ';') FROM (SELECT id || ',' || seq || ',' || status AS x FROM tasks ORDER BY id)")
if [ $st = 0 ] && [ "$(counts)" = "$c" ] && [ "$before" = "$after" ] &&
   [ "$(grep -c '0 new, 0 updated, 4 unchanged' "$out/m2.out")" = 4 ]; then
  pass merge-twice-adds-nothing
else fail merge-twice-adds-nothing "exit $st, counts $(counts): $(cat "$out/m2.out")"; fi

fixture "$out/big" --shards 40 --tasks 20 --extra
full=$out/full.db
$gk merge -q "$full" "$out"/big/*.db >/dev/null 2>&1
want=$(q "$full" "SELECT count(*) || ' ' || (SELECT count(*) FROM steps) || ' ' || (SELECT count(*) FROM xt_finding_refs) FROM tasks")
killed=$out/killed.db
$gk merge -q "$killed" "$out"/big/*.db >/dev/null 2>&1 & pid=$!
for i in $(seq 200); do             # killed once some shards are in
  [ "$(q "$killed" "SELECT count(*) FROM tasks" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
  sleep 0.02
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
part=$(q "$killed" "SELECT count(*) FROM tasks" 2>/dev/null)
$gk merge -q "$killed" "$out"/big/*.db >"$out/m3.out" 2>&1; st=$?
got=$(q "$killed" "SELECT count(*) || ' ' || (SELECT count(*) FROM steps) || ' ' || (SELECT count(*) FROM xt_finding_refs) FROM tasks")
if [ $st = 0 ] && [ "$want" = "800 13600 1600" ] && [ "$got" = "$want" ] &&
   [ "$(q "$killed" "PRAGMA integrity_check")" = ok ]; then
  pass merge-killed-and-rerun
else fail merge-killed-and-rerun "exit $st, want '$want' got '$got' (killed at '$part' tasks): $(tail -3 "$out/m3.out")"; fi

# ---- bad shards: refused and named, the others merged ----
fixture "$out/b" --shards 4 --tasks 3 --group bad
b0=$out/b/bad.shard-0.db b1=$out/b/bad.shard-1.db b2=$out/b/bad.shard-2.db b3=$out/b/bad.shard-3.db
head -c 6000 "$b1" > "$out/b/truncated.db"
head -c 20000 /dev/urandom > "$out/b/random.db"
sqlite3 "$out/b/plain.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1)"
cp "$b2" "$out/b/version.db"; q "$out/b/version.db" "UPDATE runs SET job_text = job_text || '# changed'"
cp "$b2" "$out/b/count.db"; q "$out/b/count.db" "UPDATE runs SET options = json_set(options, '\$.shard.count', 5)"
cp "$s0" "$out/b/other-group.db"
bdb=$out/bad.db
$gk merge "$bdb" "$b0" "$out/b/truncated.db" "$out/b/random.db" "$out/b/plain.db" \
  "$out/b/version.db" "$out/b/count.db" "$out/b/other-group.db" "$out/b/missing.db" \
  "$bdb" "$b2" >"$out/bad.out" 2>"$out/bad.err"; st=$?
refused() { grep -q "merge: .*$1: refused: .*$2" "$out/bad.err" && echo yes; }
if [ $st = 1 ] &&
   [ "$(refused truncated.db 'not a sound database')" ] &&
   [ "$(refused random.db 'not a sound database\|not a database')" ] &&
   [ "$(refused plain.db 'not a guestkit results database')" ] &&
   [ "$(refused version.db 'another version of job .audit.')" ] &&
   [ "$(refused count.db 'one of 5 shards, not of 4')" ] &&
   [ "$(refused other-group.db 'group audit-test (job audit), not of group bad')" ] &&
   [ "$(refused missing.db 'No such file')" ] &&
   [ "$(refused bad.db 'the output database')" ] &&
   [ "$(q "$bdb" "SELECT count(*) FROM tasks")" = 6 ] &&
   grep -q "6 of 12 tasks; shards not merged yet: 1 3" "$out/bad.out" &&
   [ "$(q "$bdb" "SELECT status FROM runs")" = interrupted ] &&
   [ "$(q "$bdb" "PRAGMA integrity_check")" = ok ]; then
  pass merge-bad-shards-refused
else fail merge-bad-shards-refused "exit $st: $(cat "$out/bad.out" "$out/bad.err")"; fi

# the missing shards later: the run completes
$gk merge "$bdb" "$b1" "$b3" >"$out/late.out" 2>&1; st=$?
[ $st = 0 ] && [ "$(q "$bdb" "SELECT status || ' ' || (SELECT count(*) FROM tasks) FROM runs")" = "done 12" ] &&
  pass merge-late-shards || fail merge-late-shards "exit $st: $(cat "$out/late.out")"

# ---- two claims of one task ----
cp "$b1" "$out/b/copy.db"                   # the same results: merged once
cp "$b1" "$out/b/differs.db"                # another result for task 2
q "$out/b/differs.db" "UPDATE tasks SET status = 'failed', error = 'boom' WHERE seq = 2"
$gk merge "$bdb" "$out/b/copy.db" "$out/b/differs.db" >"$out/dup.out" 2>"$out/dup.err"; st=$?
if [ $st = 1 ] && grep -q "copy.db: .*0 new, 0 updated, 3 unchanged" "$out/dup.out" &&
   grep -q "differs.db: conflict: task 2 (/srv/images/vm00002.img) is failed here and ok in the output" "$out/dup.err" &&
   [ "$(grep -c conflict "$out/dup.err")" = 1 ] &&
   [ "$(q "$bdb" "SELECT status FROM tasks WHERE seq = 2")" = ok ] &&
   [ "$(q "$bdb" "SELECT count(*) FROM tasks")" = 12 ]; then
  pass merge-duplicate-claims
else fail merge-duplicate-claims "exit $st: $(cat "$out/dup.out" "$out/dup.err")"; fi

# ---- a shard rerun: its unfinished task replaced by the finished copy ----
fixture "$out/r" --shards 2 --tasks 3 --group rerun --extra
r0=$out/r/rerun.shard-0.db
cp "$r0" "$out/r/cancelled.db"
q "$out/r/cancelled.db" "UPDATE tasks SET status = 'interrupted', error = 'interrupted' WHERE seq = 3;
  DELETE FROM facts WHERE task_id = (SELECT id FROM tasks WHERE seq = 3) AND name <> 'fact0';
  UPDATE runs SET status = 'interrupted'"
rdb=$out/rerun.db
$gk merge "$rdb" "$out/r/cancelled.db" "$out/r/rerun.shard-1.db" >"$out/r1.out" 2>&1; st1=$?
s1=$(q "$rdb" "SELECT status FROM runs")
$gk merge "$rdb" "$r0" >"$out/r2.out" 2>&1; st2=$?
if [ $st1 = 1 ] && [ "$s1" = interrupted ] && [ $st2 = 0 ] &&
   grep -q "1 unfinished" "$out/r1.out" &&
   grep -q "0 new, 1 updated, 2 unchanged" "$out/r2.out" &&
   [ "$(q "$rdb" "SELECT status || ' ' || (SELECT count(*) FROM facts f JOIN tasks t ON t.id = f.task_id WHERE t.seq = 3) ||
       ' ' || (SELECT count(*) FROM xt_findings f JOIN tasks t ON t.id = f.task_id WHERE t.seq = 3) FROM tasks WHERE seq = 3")" = "ok 15 2" ] &&
   [ "$(q "$rdb" "SELECT count(*) || ' ' || (SELECT count(*) FROM facts) || ' ' || (SELECT count(*) FROM xt_finding_refs) FROM tasks")" = "6 90 12" ] &&
   [ "$(q "$rdb" "SELECT status FROM runs")" = done ]; then
  pass merge-rerun-shard-replaces
else fail merge-rerun-shard-replaces "exit $st1/$st2 ($s1): $(cat "$out/r1.out" "$out/r2.out")"; fi
# and the older, unfinished copy merged after it changes nothing
$gk merge "$rdb" "$out/r/cancelled.db" >"$out/r3.out" 2>&1; st=$?
[ $st = 0 ] && [ "$(q "$rdb" "SELECT status FROM tasks WHERE seq = 3")" = ok ] &&
  pass merge-older-copy-ignored || fail merge-older-copy-ignored "exit $st: $(cat "$out/r3.out")"

# ---- a table linked to neither runs nor tasks: said so, not merged ----
cp "$s0" "$out/loose.db"; q "$out/loose.db" "CREATE TABLE loose (x); INSERT INTO loose VALUES (1)"
$gk merge "$out/l.db" "$out/loose.db" >/dev/null 2>"$out/loose.err"
grep -q "loose.db: table 'loose' is not linked to runs or tasks" "$out/loose.err" &&
  [ "$(q "$out/l.db" "SELECT count(*) FROM loose")" = 0 ] &&
  [ "$(q "$out/l.db" "SELECT count(*) FROM tasks")" = 4 ] && pass merge-unlinked-table-said ||
  fail merge-unlinked-table-said "$(cat "$out/loose.err")"

# ---- usage ----
$gk merge >/dev/null 2>"$out/u1.err"; st1=$?
$gk merge "$db" 2>"$out/u2.err"; st2=$?
head -c 5000 /dev/urandom > "$out/notdb.db"
$gk merge "$out/notdb.db" "$s0" >/dev/null 2>"$out/u3.err"; st3=$?
if [ $st1 = 2 ] && [ $st2 = 2 ] && [ $st3 = 2 ] && grep -q "at least one shard" "$out/u2.err" &&
   grep -q "notdb.db" "$out/u3.err"; then
  pass merge-usage
else fail merge-usage "$st1/$st2/$st3: $(cat "$out"/u*.err)"; fi
exit $rc
