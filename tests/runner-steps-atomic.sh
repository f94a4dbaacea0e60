#!/bin/bash
# tests/runner-steps-atomic.sh: all-or-nothing writes and the changes record.
#  - a task whose step fails in the middle leaves the image byte-identical
#    (sha256) and no overlay behind
#  - a task that succeeds commits: the change is in the image, recorded in
#    `changes', with one 'commit' step; a second run records no changes
#  - --dry-run runs the steps and records the changes, and the image is
#    byte-identical
#  - SIGKILL before the commit (fault injection): the image is untouched;
#    --resume reruns the task and patches it
#  - SIGKILL during the commit: the task is left 'committing'; --resume
#    finishes the commit, recorded once, and the image is patched
#  - a qcow2 image is patched the same way; atomic: false writes in place
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-steps-atomic
sha() { sha256sum "$1" | cut -d' ' -f1; }
run_id() { q "SELECT max(id) FROM runs"; }
# The host name in image $1 (format $2), read by a read-only job.
name_in() {
  cat > "$out/read.yaml" <<YAML
name: read
images: {path: $1, format: ${2:-raw}}
steps:
  - mount_ro: [/dev/sda1, /]
  - cat: /etc/hostname
    save_as: hn
YAML
  $gk run -q --db "$out/read.db" "$out/read.yaml" >/dev/null 2>&1
  sqlite3 -batch -noheader "$out/read.db" "SELECT trim(json_extract(value, '$'), char(10)) FROM facts
    WHERE task_id = (SELECT max(id) FROM tasks) AND name = 'hn'"
}
overlays() { ls -a "$out" | grep -c 'guestkit-run' ; }
job() {   # job NAME IMAGE HOSTNAME [EXTRA STEP LINE] [TOP-LEVEL LINE]
  cat > "$out/$1.yaml" <<YAML
name: $1
images: $2
readonly: false
$5
steps:
  - hostname: $3
$4
YAML
}

tests/bin/make-sample-image "$out/a.img" 32 alpha 2>"$out/mk.err" ||
  { echo "cannot make a sample image: $(cat "$out/mk.err")" >&2; exit 77; }

# ---- a failure in the middle: nothing written ----
before=$(sha "$out/a.img")
job mid a.img web1 "  - write_file: {path: /no/such/dir/x, content: x, size: 0}"
$gk run --db "$db" "$out/mid.yaml" >"$out/mid.out" 2>&1; st=$?
if [ $st = 1 ] && [ "$(sha "$out/a.img")" = "$before" ] && [ "$(overlays)" = 0 ] &&
   [ "$(q "SELECT status FROM tasks WHERE run_id = $(run_id)")" = failed ]; then
  pass mid-task-failure-image-identical
else fail mid-task-failure-image-identical "exit $st, overlays $(overlays): $(tail -3 "$out/mid.out")"; fi

# ---- success: committed, recorded ----
job ok a.img web1
$gk run --db "$db" "$out/ok.yaml" >"$out/ok.out" 2>&1; st=$?
r=$(run_id)
ch=$(q "SELECT group_concat(path || ':' || kind, ' ') FROM (SELECT path, kind FROM changes
        JOIN tasks ON tasks.id = changes.task_id WHERE run_id = $r ORDER BY path)")
commits=$(q "SELECT count(*) FROM steps JOIN tasks ON tasks.id = task_id WHERE run_id = $r AND call = 'commit'")
if [ $st = 0 ] && [ "$(name_in "$out/a.img")" = web1 ] && [ "$(overlays)" = 0 ] &&
   [ "$ch" = "/etc/hostname:changed /etc/hosts:added" ] && [ "$commits" = 1 ]; then
  pass commit-and-changes
else fail commit-and-changes "exit $st, name '$(name_in "$out/a.img")', changes '$ch', commits $commits"; fi

sha_h=$(q "SELECT sha256_after FROM changes JOIN tasks ON tasks.id = task_id WHERE run_id = $r AND path = '/etc/hostname'")
if [ "$sha_h" = "$(printf 'web1\n' | sha256sum | cut -d' ' -f1)" ] &&
   [ "$(q "SELECT mode_after || ' ' || uid_after || ' ' || type FROM changes WHERE path = '/etc/hostname' AND task_id = (SELECT max(id) FROM tasks WHERE run_id = $r)")" = "420 0 file" ]; then
  pass changes-fields
else fail changes-fields "sha $sha_h"; fi

$gk run --db "$db" "$out/ok.yaml" >"$out/ok2.out" 2>&1; st=$?
n=$(q "SELECT count(*) FROM changes JOIN tasks ON tasks.id = task_id WHERE run_id = $(run_id)")
if [ $st = 0 ] && [ "$n" = 0 ]; then pass second-run-no-changes
else fail second-run-no-changes "exit $st, $n changes"; fi

$gk report --db "$db" --run "$r" --changes >"$out/rep.out" 2>&1
if grep -q '/etc/hosts' "$out/rep.out" && grep -q changed "$out/rep.out"; then pass report-changes
else fail report-changes "$(head -5 "$out/rep.out")"; fi

# ---- --dry-run ----
before=$(sha "$out/a.img")
job dry a.img web9
$gk run --dry-run --db "$db" "$out/dry.yaml" >"$out/dry.out" 2>&1; st=$?
n=$(q "SELECT count(*) FROM changes JOIN tasks ON tasks.id = task_id WHERE run_id = $(run_id)")
if [ $st = 0 ] && [ "$(sha "$out/a.img")" = "$before" ] && [ "$n" = 2 ] && [ "$(overlays)" = 0 ]; then
  pass dry-run-changes-nothing
else fail dry-run-changes-nothing "exit $st, $n changes, overlays $(overlays)"; fi

# ---- SIGKILL before the commit ----
before=$(sha "$out/a.img")
job kb a.img web2
GUESTKIT_RUNNER_FAULT=kill-before-commit $gk run --db "$db" "$out/kb.yaml" >"$out/kb.out" 2>&1; st=$?
r=$(run_id)
if [ $st = 137 ] && [ "$(sha "$out/a.img")" = "$before" ] &&
   [ "$(q "SELECT status FROM tasks WHERE run_id = $r")" = running ]; then
  pass kill-before-commit-untouched
else fail kill-before-commit-untouched "exit $st, status $(q "SELECT status FROM tasks WHERE run_id = $r")"; fi
$gk run --db "$db" --resume "$r" >"$out/kb2.out" 2>&1; st=$?
if [ $st = 0 ] && [ "$(name_in "$out/a.img")" = web2 ] && [ "$(overlays)" = 0 ] &&
   [ "$(q "SELECT status FROM tasks WHERE run_id = $r")" = ok ]; then
  pass kill-before-commit-resume
else fail kill-before-commit-resume "exit $st: $(tail -3 "$out/kb2.out")"; fi

# ---- SIGKILL during the commit ----
job kc a.img web3
GUESTKIT_RUNNER_FAULT=kill-in-commit $gk run --db "$db" "$out/kc.yaml" >"$out/kc.out" 2>&1; st=$?
r=$(run_id)
s=$(q "SELECT status FROM tasks WHERE run_id = $r")
if [ $st = 137 ] && [ "$s" = committing ] && [ "$(overlays)" = 1 ]; then
  pass kill-in-commit-left-committing
else fail kill-in-commit-left-committing "exit $st, status $s, overlays $(overlays)"; fi
$gk run --db "$db" --resume "$r" >"$out/kc2.out" 2>&1; st=$?
commits=$(q "SELECT count(*) FROM steps JOIN tasks ON tasks.id = task_id WHERE run_id = $r AND call = 'commit'")
if [ $st = 0 ] && [ "$(name_in "$out/a.img")" = web3 ] && [ "$(overlays)" = 0 ] &&
   [ "$(q "SELECT status FROM tasks WHERE run_id = $r")" = ok ] && [ "$commits" = 1 ] &&
   grep -q "commit resumed" "$out/kc2.out"; then
  pass kill-in-commit-resume
else fail kill-in-commit-resume "exit $st, commits $commits: $(tail -3 "$out/kc2.out")"; fi

# ---- qcow2, and atomic: false ----
qemu-img convert -f raw -O qcow2 "$out/a.img" "$out/b.qcow2"
job qc "{path: b.qcow2, format: qcow2}" web4
$gk run --db "$db" "$out/qc.yaml" >"$out/qc.out" 2>&1; st=$?
if [ $st = 0 ] && [ "$(name_in "$out/b.qcow2" qcow2)" = web4 ] &&
   ! qemu-img info "$out/b.qcow2" | grep -q backing; then
  pass qcow2-committed
else fail qcow2-committed "exit $st: $(tail -3 "$out/qc.out")"; fi

job direct a.img web5 "" "atomic: false"
$gk run --db "$db" "$out/direct.yaml" >"$out/direct.out" 2>&1; st=$?
launch=$(q "SELECT args FROM steps JOIN tasks ON tasks.id = task_id WHERE run_id = $(run_id) AND seq = 0")
if [ $st = 0 ] && [ "$(name_in "$out/a.img")" = web5 ] && ! echo "$launch" | grep -q overlay; then
  pass atomic-false-in-place
else fail atomic-false-in-place "exit $st, launch $launch"; fi
exit $rc
