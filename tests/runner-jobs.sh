#!/bin/bash
# tests/runner-jobs.sh: the example jobs, end to end through appliances.
#  - jobs/audit.yaml on two Debian-like images and a broken one: the broken
#    task fails alone and its error is recorded; the facts are right; the
#    images are byte-identical afterwards (read-only)
#  - a raw-call patch job (tests/runner-jobs-patch.yaml) on copies: every image patched, visible to a re-audit;
#    on the broken image it fails with the step that failed
#  - jobs/build.yaml: three qcow2 images with per-instance contents; never
#    overwritten; a failing build leaves no file behind
#  - report as table, JSON and CSV; a timeout; a FileOut download
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-jobs-$$; mkdir -p "$out/img" "$out/build" "$out/dl"
trap 'rm -rf "$out"' EXIT
db=$out/results.db
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$db" "$1"; }

tests/bin/make-sample-image "$out/img/alpha.img" 32 alpha 2>"$out/mk1.err" &
tests/bin/make-sample-image "$out/img/beta.img" 32 beta 2>"$out/mk2.err" &
wait
head -c 4194304 /dev/urandom > "$out/img/broken.img"
if [ ! -s "$out/img/alpha.img" ] || [ ! -s "$out/img/beta.img" ]; then
  echo "cannot make sample images: $(cat "$out"/mk*.err)" >&2; exit 77
fi
sha256sum "$out"/img/*.img > "$out/before.sha"

# ---- audit ----
$gk run --db "$db" --images "$out/img/*.img" jobs/audit.yaml >"$out/audit.out" 2>&1; st=$?
run=$(q "SELECT max(id) FROM runs")
if [ $st = 1 ] && [ "$(q "SELECT count(*) FROM tasks WHERE run_id = $run")" = 3 ]; then
  pass audit-runs
else fail audit-runs "exit $st: $(tail -5 "$out/audit.out")"; fi

ok=$(q "SELECT group_concat(status, ' ') FROM (SELECT status FROM tasks WHERE run_id = $run ORDER BY image)")
err=$(q "SELECT error FROM tasks WHERE run_id = $run AND image LIKE '%broken.img'")
if [ "$(q "SELECT status FROM tasks WHERE run_id = $run AND image LIKE '%broken.img'")" = failed ] &&
   [ "$(q "SELECT count(*) FROM tasks WHERE run_id = $run AND status = 'ok'")" = 2 ] &&
   echo "$err" | grep -q "step [0-9]* (.*line [0-9]*)"; then
  pass audit-broken-fails-alone
else fail audit-broken-fails-alone "statuses '$ok', error '$err'"; fi

h=$(q "SELECT trim(json_extract(value, '$'), char(10)) FROM facts_by_image WHERE run_id = $run AND name = 'hostname' ORDER BY image" | tr -d '\n')
v=$(q "SELECT count(*) FROM facts_by_image WHERE run_id = $run AND name = 'os_release' AND json_extract(value, '$') LIKE '%bookworm%'")
if [ "$h" = "alphabeta" ] && [ "$v" = 2 ]; then pass audit-facts
else fail audit-facts "hostnames '$h', os_release x$v"; fi

if sha256sum -c --quiet "$out/before.sha" >/dev/null 2>&1; then pass audit-readonly-untouched
else fail audit-readonly-untouched "$(sha256sum -c "$out/before.sha" 2>&1 | grep -v OK)"; fi

# ---- report formats ----
$gk report --db "$db" >"$out/r.txt" 2>&1 &&
  grep -q "^run  task  status" "$out/r.txt" && grep -q "broken.img" "$out/r.txt" &&
  pass report-table || fail report-table "$(head -5 "$out/r.txt")"
$gk report --db "$db" --format json >"$out/r.json" 2>&1
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert len(d)==3; \
  assert sorted(t['facts']['hostname'].strip() for t in d if t['status']=='ok')==['alpha','beta']" "$out/r.json" 2>"$out/py.err"; then
  pass report-json
else fail report-json "$(tail -2 "$out/py.err")"; fi
$gk report --db "$db" --facts --format csv >"$out/r.csv" 2>&1
if python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); \
  assert any(x['name']=='os_release' and 'bookworm' in x['value'] for x in r)" "$out/r.csv" 2>"$out/py.err"; then
  pass report-csv
else fail report-csv "$(tail -2 "$out/py.err")"; fi
n=$($gk report --db "$db" --failed --format csv | tail -n +2 | wc -l)
[ "$n" = 1 ] && pass report-failed || fail report-failed "$n rows"
$gk report --db "$db" --image beta.img --steps --format csv >"$out/steps.csv"
n=$(grep -c ',cat,' "$out/steps.csv"); m=$(grep -c 'alpha.img' "$out/steps.csv")
[ "$n" -ge 2 ] && [ "$m" = 0 ] && grep -q ',0,launch,' "$out/steps.csv" && pass report-image-steps ||
  fail report-image-steps "$n cat steps, $m of alpha: $(head -3 "$out/steps.csv")"

$gk report --db "$db" --by-image --failed --format csv >"$out/byimg.csv"
if [ "$(tail -n +2 "$out/byimg.csv" | cut -d, -f1,7)" = "$out/img/broken.img,failed" ]; then
  pass report-by-image
else fail report-by-image "$(cat "$out/byimg.csv")"; fi

# ---- patch (on copies) ----
mkdir -p "$out/patch"; cp "$out"/img/*.img "$out/patch/"
$gk run --db "$db" --images "$out/patch/*.img" tests/runner-jobs-patch.yaml >"$out/patch.out" 2>&1; st=$?
run=$(q "SELECT max(id) FROM runs")
prl=$(q "SELECT group_concat(value) FROM facts_by_image WHERE run_id = $run AND name = 'permit_root_login'")
perr=$(q "SELECT error FROM tasks WHERE run_id = $run AND status <> 'ok'")
if [ $st = 1 ] && [ "$prl" = '["PermitRootLogin no"],["PermitRootLogin no"]' ] &&
   echo "$perr" | grep -q "step 1 (mount, line"; then
  pass patch-runs
else fail patch-runs "exit $st, facts '$prl', error '$perr': $(tail -3 "$out/patch.out")"; fi
# A read-only audit of the patched images sees the changes.
$gk run --db "$db" --images "$out/patch/alpha.img" jobs/audit.yaml >"$out/re.out" 2>&1
run=$(q "SELECT max(id) FROM runs")
if [ "$(q "SELECT value FROM facts_by_image WHERE run_id = $run AND name = 'has_sshd_config'")" = true ] &&
   [ "$(q "SELECT json_extract(value, '$.mode') & 511 FROM facts_by_image WHERE run_id = $run AND name = 'shadow_stat'")" = 416 ]; then
  pass patch-visible
else fail patch-visible "$(tail -3 "$out/re.out")"; fi

# ---- build ----
$gk run --db "$db" --var outdir="$out/build" jobs/build.yaml >"$out/build.out" 2>&1; st=$?
if [ $st = 0 ] && [ "$(ls "$out/build" | tr '\n' ' ')" = "db1.qcow2 web1.qcow2 web2.qcow2 " ] &&
   qemu-img info "$out/build/web2.qcow2" | grep -q "file format: qcow2"; then
  pass build-runs
else fail build-runs "exit $st: $(ls -a "$out/build"; tail -5 "$out/build.out")"; fi
cat > "$out/check-build.yaml" <<EOF
images: {path: build/web2.qcow2, format: qcow2}
steps:
  - mount_ro: [/dev/sda1, /]
  - cat: /etc/hostname
    save_as: hostname
  - cat: /etc/guestkit/role
    save_as: role
  - cat: /srv/www/index.html
    save_as: index
EOF
$gk run --db "$db" "$out/check-build.yaml" >"$out/cb.out" 2>&1; st=$?
run=$(q "SELECT max(id) FROM runs")
if [ $st = 0 ] && [ "$(q "SELECT json_extract(value, '$') FROM facts_by_image WHERE run_id = $run AND name = 'hostname'")" = web2.example.com ] &&
   q "SELECT value FROM facts_by_image WHERE run_id = $run AND name = 'role'" | grep -q 'role=web\\ndomain=example.com'; then
  pass build-contents
else fail build-contents "exit $st: $(tail -3 "$out/cb.out")"; fi
sum=$(sha256sum "$out/build/web1.qcow2")
$gk run --db "$db" --var outdir="$out/build" jobs/build.yaml >"$out/b2.out" 2>&1; st=$?
if [ $st = 2 ] && grep -q "web1.qcow2' exists (set overwrite: true" "$out/b2.out" &&
   [ "$(sha256sum "$out/build/web1.qcow2")" = "$sum" ]; then
  pass build-no-overwrite
else fail build-no-overwrite "exit $st: $(tail -3 "$out/b2.out")"; fi
mkdir -p "$out/bad"
cat > "$out/bad-build.yaml" <<EOF
matrix: {name: [one, two]}
build: {size: 16M, format: raw, output: "bad/{{name}}.img"}
steps:
  - part_disk: [/dev/sda, mbr]
  - mount: [/dev/sda1, /]        # no filesystem: fails
EOF
$gk run --db "$db" "$out/bad-build.yaml" >"$out/bb.out" 2>&1; st=$?
if [ $st = 1 ] && [ -z "$(ls -A "$out/bad")" ]; then pass build-failure-leaves-nothing
else fail build-failure-leaves-nothing "exit $st, left: $(ls -A "$out/bad")"; fi

# ---- a download (FileOut), never over an existing file ----
cat > "$out/download.yaml" <<EOF
images: img/alpha.img
steps:
  - mount_ro: [/dev/sda1, /]
  - download: {remotefilename: /etc/hostname, filename: "dl/{{image_stem}}.hostname"}
EOF
$gk run --db "$db" "$out/download.yaml" >"$out/dl.out" 2>&1; st=$?
$gk run --db "$db" "$out/download.yaml" >"$out/dl2.out" 2>&1; st2=$?
if [ $st = 0 ] && [ "$(cat "$out/dl/alpha.hostname")" = alpha ] && [ $st2 = 1 ] &&
   grep -q "alpha.hostname' exists; not replacing it" "$out/dl2.out" &&
   [ "$(ls -A "$out/dl")" = alpha.hostname ]; then
  pass download-file
else fail download-file "exit $st/$st2: $(ls -A "$out/dl"; cat "$out/dl.out" "$out/dl2.out" | tail -4)"; fi

# ---- a stuck task is killed at its timeout ----
cat > "$out/stuck.yaml" <<EOF
images: img/alpha.img
timeout: 2
retries: 1                      # a timeout is retried once
steps:
  - sleep: 60
EOF
start=$(date +%s)
$gk run --db "$db" "$out/stuck.yaml" >"$out/stuck.out" 2>&1; st=$?
el=$(( $(date +%s) - start ))
run=$(q "SELECT max(id) FROM runs")
if [ $st = 1 ] && [ $el -lt 30 ] &&
   [ "$(q "SELECT status || ' ' || attempts || ' ' || error FROM tasks WHERE run_id = $run")" = "timeout 2 timed out after 2 s" ]; then
  pass timeout-kills-and-retries
else fail timeout-kills-and-retries "exit $st after ${el}s: $(tail -3 "$out/stuck.out")"; fi

if [ "$(q "PRAGMA integrity_check")" = ok ]; then pass db-integrity
else fail db-integrity "$(q "PRAGMA integrity_check" | head -3)"; fi
bad=$(q "SELECT count(*) FROM steps WHERE NOT json_valid(args) OR NOT json_valid(coalesce(result, 'null'))")
bad=$((bad + $(q "SELECT count(*) FROM facts WHERE NOT json_valid(value)")))
[ "$bad" = 0 ] && pass db-json-valid || fail db-json-valid "$bad rows hold invalid JSON"
exit $rc
