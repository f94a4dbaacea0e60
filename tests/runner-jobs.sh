#!/bin/bash
# tests/runner-jobs.sh: the example jobs, end to end through appliances.
#  - jobs/audit.yaml on two Debian-like images and a broken one: the broken
#    task fails alone and its error is recorded; the facts are right; the
#    images are byte-identical afterwards (read-only)
#  - a raw-call patch job (tests/runner-jobs-patch.yaml) on copies: every image patched, visible to a re-audit;
#    on the broken image it fails with the step that failed
#  - jobs/build-skel.yaml: three qcow2 images with per-instance contents; never
#    overwritten; a failing build leaves no file behind
#  - report as table, JSON and CSV; a timeout; a FileOut download
#  - a saved value full of terminal escapes (ESC, BEL, C1 both as UTF-8
#    and as a stray 0x9b byte): never raw in a table or on a terminal,
#    escaped in JSON, byte-exact in CSV written to a file
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-jobs img build dl

tests/bin/make-sample-image "$out/img/alpha.img" 32 alpha 2>"$out/mk1.err" &
tests/bin/make-sample-image "$out/img/beta.img" 32 beta 2>"$out/mk2.err" &
wait
head -c 4194304 /dev/urandom > "$out/img/broken.img"
# make-sample-image is guestkit itself: its failure is a failure, not a skip.
if [ ! -s "$out/img/alpha.img" ] || [ ! -s "$out/img/beta.img" ]; then
  echo "FAIL: sample-images: make-sample-image failed: $(cat "$out"/mk*.err | tail -3)"; exit 1
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

# ---- hostile values in reports ----
mkdir -p "$out/hostile"; cp "$out/img/alpha.img" "$out/hostile/"
printf '\033[31mRED\033]0;pwned\007 \2332J \302\205nel end\n' >"$out/hostile.txt"
cat > "$out/hostile.yaml" <<EOF
images: hostile/alpha.img
readonly: false
steps:
  - mount: [/dev/sda1, /]
  - upload: {filename: $out/hostile.txt, remotefilename: /hostile}
  - cat: /hostile
    save_as: banner
EOF
$gk run --db "$db" "$out/hostile.yaml" >"$out/hostile.out" 2>&1; st=$?
$gk report --db "$db" --facts >"$out/h-table.txt" 2>&1
script -qec "$gk report --db '$db' --facts" /dev/null >"$out/h-tty.txt" 2>&1
script -qec "$gk report --db '$db' --facts --format csv" /dev/null >"$out/h-ttycsv.txt" 2>&1
$gk report --db "$db" --facts --format json >"$out/h.json" 2>&1
$gk report --db "$db" --facts --format csv >"$out/h.csv" 2>&1
# The stray 0x9b byte is stored as U+009B (json.c: a stray byte stands
# for its Latin-1 code); every other character as it was.
if [ $st = 0 ] && python3 - "$out" 2>"$out/py.err" <<'EOF'
import csv, json, re, sys
d = sys.argv[1]
want = "\x1b[31mRED\x1b]0;pwned\x07 \x9b2J \x85nel end\n"
for f in ("h-table.txt", "h-tty.txt", "h-ttycsv.txt", "h.json"):
    b = open(d + "/" + f, "rb").read()
    b.decode("utf-8")                   # valid UTF-8, and no C0 but CR/LF, no DEL, no C1
    assert not re.search(rb"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]", b), (f, b)
for f in ("h-table.txt", "h-tty.txt"):
    b = open(d + "/" + f, "rb").read()
    assert rb"\e[31mRED\e]0;pwned\x07 \u009b2J \u0085nel end" in b, (f, b)
j = json.load(open(d + "/h.json"))
assert [x["value"] for x in j] == [want], j
c = list(csv.DictReader(open(d + "/h.csv", newline="", encoding="utf-8")))
assert [x["value"] for x in c] == [want], c
EOF
then pass report-hostile-values
else fail report-hostile-values "exit $st: $(tail -3 "$out/py.err") $(tail -2 "$out/hostile.out")"; fi

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
$gk run --db "$db" --var outdir="$out/build" jobs/build-skel.yaml >"$out/build.out" 2>&1; st=$?
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
$gk run --db "$db" --var outdir="$out/build" jobs/build-skel.yaml >"$out/b2.out" 2>&1; st=$?
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
