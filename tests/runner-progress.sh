#!/bin/bash
# tests/runner-progress.sh: watching a run.
#  - on a pseudo-terminal (a private tmux server), `guestkit run' shows one
#    status line (done, ok, failed, running, images/min, ETA, the slowest
#    running task) redrawn in place below the task lines, cut to the
#    terminal's width;
#  - Ctrl-C there: running tasks recorded interrupted, the rest pending,
#    no status line left on the screen; --resume then runs the remaining
#    tasks and only those;
#  - on a pipe: plain lines, no carriage return or escape sequence;
#  - `guestkit status --watch' follows a run made by another process, on
#    a terminal and on a pipe, until it ends; a killed run; its errors.
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-progress-$$; mkdir -p "$out/img"
T="tmux -L gk-progress-$$ -f /dev/null"
tmux_up=; bgpid=
cleanup() {
  [ -n "$bgpid" ] && kill -KILL "$bgpid" 2>/dev/null
  [ -n "$tmux_up" ] && $T kill-server 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$1" "PRAGMA busy_timeout = 10000; $2" | grep -v '^10000$'; }

for i in 1 2 3 4 5 6; do truncate -s 16M "$out/img/disk$i.img"; done
cat > "$out/job.yaml" <<'EOF'
images: img/*.img
steps:
  - list_devices:
    save_as: devices
  - sleep: 3
EOF

# The status line, as the tests expect it.
LINE='[0-9]+/6 done \([0-9]+ ok, [0-9]+ failed\), [0-9]+ running \| [0-9.?]+ images/min \| ETA [0-9a-z.?]+'

# ---- a pipe: plain lines ----
$gk run -j 2 --db "$out/pipe.db" --images "$out/img/disk[12].img" "$out/job.yaml" >"$out/pipe.out" 2>&1
st=$?
if [ $st = 0 ] && [ "$(grep -c '^ok          run 1 task [12]/2 ' "$out/pipe.out")" = 2 ] &&
   ! grep -q $'[\r\033]' "$out/pipe.out" && ! grep -q 'images/min' "$out/pipe.out"; then
  pass progress-pipe-plain
else fail progress-pipe-plain "exit $st: $(od -c "$out/pipe.out" | head -5)"; fi

if ! command -v tmux >/dev/null; then
  echo "SKIP: progress-tty: tmux is not installed (make deps installs it)"
  exit $rc
fi

screen() { $T capture-pane -p -t "$1" 2>/dev/null; }
# wait_screen PANE ERE [SECONDS]: until the pane shows it.
wait_screen() {
  local end=$((SECONDS + ${3:-120}))
  while [ $SECONDS -le $end ]; do
    screen "$1" | grep -qE -- "$2" && return 0
    sleep 0.2
  done
  return 1
}
wait_sql() {   # DB SQL VALUE: until the query gives at least VALUE (120 s)
  for _ in $(seq 600); do
    [ "$(q "$1" "$2" 2>/dev/null)" -ge "$3" ] 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# ---- a terminal, 120 columns: the status line, then Ctrl-C ----
db=$out/tty.db
$T new-session -d -x 120 -y 40 -s run \
  "cd $out && TERM=xterm $gk run -j 2 --db $db job.yaml; echo EXIT=\$?; sleep 600" 2>"$out/tmux.err"
tmux_up=1
if wait_screen run "$LINE \| slowest disk[0-9]\.img" 300; then
  pass progress-tty-line
else fail progress-tty-line "$(screen run | grep -v '^$' | tail -4 | tr '\n' '|')"; fi
# One task has ended: its line is above the status line, which is still
# drawn once, on the last line written, and fits in 119 columns.
if wait_screen run '^ok          run 1 task [0-9]/6' 300 && wait_screen run "$LINE" 30; then
  s=$(screen run | grep -v '^$')
  n=$(grep -cE 'done \(' <<<"$s")
  last=$(tail -1 <<<"$s")
  if [ "$n" = 1 ] && grep -qE "^$LINE" <<<"$last" && [ ${#last} -le 119 ] &&
     grep -q '^ok          run 1 task' <<<"$(head -n -1 <<<"$s")"; then
    pass progress-tty-in-place
  else fail progress-tty-in-place "$n status lines, last '$last'"; fi
else fail progress-tty-in-place "no task ended: $(screen run | grep -v '^$' | tail -3 | tr '\n' '|')"; fi

# Ctrl-C while two tasks run.
wait_sql "$db" "SELECT count(*) FROM tasks WHERE status = 'running'" 2
okbefore=$(q "$db" "SELECT group_concat(seq || '@' || finished) FROM tasks WHERE status = 'ok'")
$T send-keys -t run C-c
if wait_screen run '^EXIT=' 120; then
  s=$(screen run | grep -v '^$')
  states=$(q "$db" "SELECT group_concat(status, ' ') FROM (SELECT status FROM tasks ORDER BY seq)")
  nint=$(grep -o interrupted <<<"$states" | wc -l)
  after=$(sed -n '/stopping; running tasks are recorded as interrupted/,$p' <<<"$s")
  if grep -q '^EXIT=1$' <<<"$s" && [ "$nint" -ge 1 ] && [ -n "$after" ] &&
     ! grep -qE 'done \(' <<<"$after" && grep -q 'not started' <<<"$after" &&
     [ "$(q "$db" "SELECT status FROM runs WHERE id = 1")" = interrupted ] &&
     ! grep -qE 'running|failed|timeout' <<<"$states"; then
    pass progress-tty-ctrl-c
  else fail progress-tty-ctrl-c "states '$states': $(tail -6 <<<"$s" | tr '\n' '|')"; fi
else fail progress-tty-ctrl-c "run did not stop: $(screen run | grep -v '^$' | tail -3 | tr '\n' '|')"; fi
$T kill-session -t run 2>/dev/null

left=$(q "$db" "SELECT count(*) FROM tasks WHERE status <> 'ok'")
$gk run --db "$db" --resume 1 >"$out/resume.out" 2>&1; st=$?
okafter=$(q "$db" "SELECT group_concat(seq || '@' || finished) FROM tasks WHERE status = 'ok' AND ',' || '$okbefore' || ',' LIKE '%,' || seq || '@' || finished || ',%'")
if [ $st = 0 ] && [ "$(q "$db" "SELECT count(*) FROM tasks WHERE status = 'ok'")" = 6 ] &&
   [ "$(grep -c '^ok ' "$out/resume.out")" = "$left" ] && [ "$okafter" = "$okbefore" ] &&
   [ "$(q "$db" "SELECT count(*) FROM facts WHERE name = 'devices' AND value = '[\"/dev/sda\"]'")" = 6 ]; then
  pass progress-ctrl-c-resume
else fail progress-ctrl-c-resume "exit $st, $left left: $(tail -3 "$out/resume.out" | tr '\n' '|')"; fi

# ---- guestkit status --watch, on a terminal, of a run in another process ----
db=$out/watch.db
$gk run -j 2 --db "$db" "$out/job.yaml" >"$out/bg.out" 2>&1 &
bgpid=$!
wait_sql "$db" "SELECT count(*) FROM tasks WHERE status = 'running'" 1
$T new-session -d -x 100 -y 40 -s watch \
  "cd $out && TERM=xterm $gk status --watch --interval 0.5 --db $db; echo EXIT=\$?; sleep 600"
if wait_screen watch "$LINE \| slowest disk[0-9]\.img" 120; then
  pass status-watch-tty-line
else fail status-watch-tty-line "$(screen watch | grep -v '^$' | tail -3 | tr '\n' '|')"; fi
wait $bgpid; bgst=$?; bgpid=
if wait_screen watch '^EXIT=' 60; then
  s=$(screen watch | grep -v '^$')
  # every task that ended while it watched has its line, the final line
  # counts all six
  if grep -q '^EXIT=0$' <<<"$s" && grep -q '^run 1: done$' <<<"$s" &&
     grep -qE '^6/6 done \(6 ok, 0 failed\), 0 running' <<<"$s" &&
     grep -qE '^ok          run 1 task [0-9]/6  .*disk[0-9]\.img' <<<"$s" &&
     [ "$(grep -cE 'done \(' <<<"$s")" = 1 ] && [ $bgst = 0 ]; then
    pass status-watch-tty-ends
  else fail status-watch-tty-ends "run exit $bgst: $(tail -5 <<<"$s" | tr '\n' '|')"; fi
else fail status-watch-tty-ends "watch did not end: $(screen watch | grep -v '^$' | tail -3 | tr '\n' '|')"; fi
$T kill-session -t watch 2>/dev/null

# ---- status --watch on a pipe; a killed run ----
db=$out/pipewatch.db
$gk run -j 2 --db "$db" "$out/job.yaml" >"$out/bg2.out" 2>&1 &
bgpid=$!
wait_sql "$db" "SELECT count(*) FROM tasks WHERE status = 'running'" 1
$gk status --watch --interval 0.3 --db "$db" 1 >"$out/watch.out" 2>&1 &
wpid=$!
wait_sql "$db" "SELECT count(*) FROM tasks WHERE status = 'ok'" 3
kill -KILL $bgpid; wait $bgpid 2>/dev/null; bgpid=
for _ in $(seq 100); do kill -0 $wpid 2>/dev/null || break; sleep 0.2; done
kill $wpid 2>/dev/null; wait $wpid; st=$?
if [ $st = 1 ] && grep -qE "^$LINE" "$out/watch.out" && ! grep -q $'[\r\033]' "$out/watch.out" &&
   grep -q '^run 1: killed' "$out/watch.out" && grep -qE '^ok          run 1 task' "$out/watch.out"; then
  pass status-watch-pipe-killed
else fail status-watch-pipe-killed "exit $st: $(tail -4 "$out/watch.out" | tr '\n' '|')"; fi
# then resume it and watch a finished run: one line, and its end
$gk run --db "$db" --resume 1 >"$out/resume2.out" 2>&1
$gk status -w --db "$db" >"$out/watch2.out" 2>&1; st=$?
if [ $st = 0 ] && grep -qE '^6/6 done \(6 ok, 0 failed\), 0 running \| [0-9.]+ images/min \| ETA 0s$' "$out/watch2.out" &&
   grep -q '^run 1: done$' "$out/watch2.out"; then
  pass status-watch-finished
else fail status-watch-finished "exit $st: $(cat "$out/watch2.out" | tr '\n' '|')"; fi

# On a narrow terminal the line is cut to its width: no wrapped rest.
$T new-session -d -x 40 -y 10 -s narrow \
  "TERM=xterm $gk status --watch --db $db; echo EXIT=\$?; sleep 600"
if wait_screen narrow '^EXIT=' 60; then
  s=$(screen narrow | grep -v '^$')
  line=$(grep -E '^6/6 done' <<<"$s")
  if [ -n "$line" ] && [ ${#line} -le 39 ] && [ "$(head -1 <<<"$s")" = "$line" ] &&
     [ "$(sed -n 2p <<<"$s")" = "run 1: done" ]; then
    pass status-watch-narrow-cut
  else fail status-watch-narrow-cut "$(tr '\n' '|' <<<"$s")"; fi
else fail status-watch-narrow-cut "$(screen narrow | tr '\n' '|')"; fi
$T kill-session -t narrow 2>/dev/null

# ---- errors ----
$gk status --watch --db "$db" 99 >"$out/e1" 2>&1; st=$?
[ $st = 1 ] && grep -q 'no run 99' "$out/e1" && pass status-watch-no-run ||
  fail status-watch-no-run "exit $st: $(cat "$out/e1")"
$gk status --watch --interval 0 --db "$db" >"$out/e2" 2>&1; st=$?
[ $st = 2 ] && grep -q -- '--interval' "$out/e2" && pass status-watch-bad-interval ||
  fail status-watch-bad-interval "exit $st: $(cat "$out/e2")"
$gk status --watch --format json --db "$db" >"$out/e3" 2>&1; st=$?
[ $st = 2 ] && pass status-watch-no-format || fail status-watch-no-format "exit $st: $(cat "$out/e3")"
$gk status --watch --db "$out/missing.db" >"$out/e4" 2>&1; st=$?
[ $st = 2 ] && grep -q 'missing.db' "$out/e4" && [ ! -e "$out/missing.db" ] &&
  pass status-watch-no-db || fail status-watch-no-db "exit $st: $(cat "$out/e4")"
# without --watch, status is the table as before
$gk status --db "$db" --format csv >"$out/table" 2>&1; st=$?
[ $st = 0 ] && grep -q '^run,job,status' "$out/table" && pass status-table-unchanged ||
  fail status-table-unchanged "exit $st: $(head -2 "$out/table")"
exit $rc
