#!/bin/bash
# tests/audit-report.sh: the fleet views of guestkit report over a
# database of known content (tests/audit-fixture.sh), no VM:
#  - --packages with each operator, versions by dpkg's rules (deb12u5 <
#    deb12u10, which a string comparison gets wrong) and by rpm's (a query
#    without a release matches every release)
#  - --findings (--failed), --fleet in table, JSON and CSV, the same data
#  - --diff between two runs: packages added, removed and changed, facts,
#    findings flipped, images added and removed; --baseline IMAGE
#  - hostile guest strings: no ESC, no C1 byte in terminal output
#  - bad options and queries: clear errors, exit 2 / 1, no partial file
#  - a version-1 database gains the audit tables when opened
cd "$(dirname "$0")/.." || exit 1
. tests/audit-fixture.sh
. tests/lib.sh
t_begin audit-report
db=$out/a.db
images() { "$gk" report --db "$db" "$@" --format csv | tail -n +2 | cut -d, -f1 | tr '\n' ' '; }

audit_fixture "$db" || { echo "cannot make the fixture database" >&2; exit 1; }

check_pkgs() {   # name expected args...
  local name=$1 want=$2 got; shift 2
  got=$(images "$@")
  [ "$got" = "$want" ] && pass "$name" || fail "$name" "got '$got', want '$want'"
}
check_pkgs packages-lt '/f/a.img ' --run 1 --packages 'openssh-server<1:9.2p1-2+deb12u5'
check_pkgs packages-lt-numeric '/f/a.img /f/b.img ' --run 1 --packages 'openssh-server<1:9.2p1-2+deb12u10'
check_pkgs packages-le '/f/a.img /f/b.img ' --run 1 --packages 'openssh-server<=1:9.2p1-2+deb12u5'
check_pkgs packages-eq '/f/b.img ' --run 1 --packages 'openssh-server=1:9.2p1-2+deb12u5'
check_pkgs packages-epoch-counts '/f/a.img /f/b.img ' --run 1 --packages 'openssh-server>9.2p1'
check_pkgs packages-epoch-beats '' --run 1 --packages 'openssh-server<10.0'
check_pkgs packages-ge '/f/b.img ' --run 1 --packages 'openssh-server>=1:9.2p1-2+deb12u4'
check_pkgs packages-any '/f/a.img /f/b.img ' --run 1 --packages openssh-server
check_pkgs packages-rpm-norelease '/f/c.img ' --run 1 --packages 'openssh>=9.0p1'
check_pkgs packages-rpm-release '' --run 1 --packages 'openssh>9.0p1-13.el9'
check_pkgs packages-latest-run '/f/a.img /f/b.img /f/d.img ' --packages 'openssh-server>=1:9.2p1-2+deb12u5'
check_pkgs packages-all-latest '/f/c.img ' --all --packages 'openssh'
check_pkgs packages-image-glob '/f/b.img ' --run 1 --image b.img --packages openssh-server

n=$("$gk" report --db "$db" --run 1 --findings --failed --format csv | tail -n +2 | wc -l)
m=$("$gk" report --db "$db" --run 1 --findings --format csv | tail -n +2 | wc -l)
[ "$n" = 3 ] && [ "$m" = 5 ] && pass findings || fail findings "$n failed of $m"

"$gk" report --db "$db" --run 1 --fleet --format json >"$out/f.json"
"$gk" report --db "$db" --run 1 --fleet --format csv >"$out/f.csv"
if python3 - "$out/f.json" "$out/f.csv" <<'PY' 2>"$out/py.err"
import json, csv, sys
j = json.load(open(sys.argv[1])); c = list(csv.DictReader(open(sys.argv[2])))
assert [x['image'] for x in j] == [x['image'] for x in c] == ['/f/a.img', '/f/b.img', '/f/broken.img', '/f/c.img']
assert sum(x['high'] + x['medium'] + x['low'] for x in j) == 3
assert sum(int(x['high']) + int(x['medium']) + int(x['low']) for x in c) == 3
b = [x for x in j if x['image'] == '/f/b.img'][0]
assert b['hostname'] == '<script>alert(1)</script>' and b['packages'] == 1
assert {f['check'] for f in b['findings']} == {'root-login', 'shadow-mode'}
assert b['filesystems'][0]['label'] == '<b>lbl</b>'
PY
then pass fleet-json-csv; else fail fleet-json-csv "$(tail -2 "$out/py.err")"; fi

"$gk" report --db "$db" --diff 1 2 --format csv >"$out/d.csv"
want='/f/a.img,fact,motd,changed,"""hello""","""hello again"""
/f/a.img,finding,root-login,flipped,fail,pass
/f/a.img,package,bash:amd64,removed,5.2.15-2+b2,
/f/a.img,package,curl:amd64,added,,7.88.1-10+deb12u5
/f/a.img,package,openssh-server:amd64,changed,1:9.2p1-2+deb12u3,1:9.2p1-2+deb12u5
/f/b.img,finding,shadow-mode,removed,fail,
/f/c.img,image,,removed,audited,
/f/d.img,image,,added,,audited'
got=$(tail -n +2 "$out/d.csv")
[ "$got" = "$want" ] && pass diff || fail diff "$(diff <(echo "$want") <(echo "$got") | head -5)"
n=$("$gk" report --db "$db" --diff 2 2 --format csv | tail -n +2 | wc -l)
[ "$n" = 0 ] && pass diff-same-run || fail diff-same-run "$n rows"

"$gk" report --db "$db" --run 1 --baseline a.img --format csv >"$out/b.csv"
if grep -q '^/f/b.img,os,hostname,changed,web1,<script>' "$out/b.csv" &&
   grep -q '^/f/c.img,finding,root-login,flipped,fail,pass' "$out/b.csv" &&
   ! grep -q '^/f/a.img' "$out/b.csv"; then pass baseline
else fail baseline "$(head -4 "$out/b.csv")"; fi
"$gk" report --db "$db" --run 1 --baseline '*.img' >/dev/null 2>"$out/e"; st=$?
[ $st = 1 ] && grep -q "matches more than one image" "$out/e" && pass baseline-ambiguous ||
  fail baseline-ambiguous "exit $st: $(cat "$out/e")"

# Terminal output: guest strings cleaned of ESC and C1 (U+009B, CSI).
for v in "--fleet" "--findings" "--baseline a.img" "--diff 1 2"; do
  # shellcheck disable=SC2086
  "$gk" report --db "$db" $([ "$v" = "--diff 1 2" ] || echo --run 1) $v >>"$out/term.txt" 2>&1
done
if grep -q 'EVIL' "$out/term.txt" && ! grep -q $'\033' "$out/term.txt" &&
   ! grep -qP '\xc2[\x80-\x9f]' "$out/term.txt" && ! grep -q $'\007' "$out/term.txt"; then
  pass terminal-escapes-cleaned
else fail terminal-escapes-cleaned "$(grep -c $'\033' "$out/term.txt") ESC lines"; fi

# HTML: written, self-contained, escaped (the browser test is audit-html.sh).
"$gk" report --db "$db" --run 1 --format html -o "$out/fleet.html"
if [ -s "$out/fleet.html" ] && [ "$(grep -o '<script' "$out/fleet.html" | wc -l)" = 1 ] &&
   grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$out/fleet.html" &&
   ! grep -q $'\033' "$out/fleet.html" && ! grep -qiE '(src|href)="(https?:)?//' "$out/fleet.html"; then
  pass html-escaped
else fail html-escaped "$(grep -o '<script' "$out/fleet.html" | wc -l) scripts"; fi

# Errors.
bad() {  # name want_status want_message args...
  local name=$1 st=$2 msg=$3 got; shift 3
  "$gk" report --db "$db" "$@" >"$out/o" 2>"$out/e"; got=$?
  [ $got = "$st" ] && grep -q -- "$msg" "$out/e" && pass "$name" ||
    fail "$name" "exit $got: $(cat "$out/e")"
}
bad err-packages-spec 1 "expected NAME or NAME<VERSION" --packages 'ssh<'
bad err-packages-epoch 1 "expected NAME or NAME<VERSION" --packages 'ssh<x:1'
bad err-diff-arg 2 "needs two runs" --diff 1
bad err-diff-run 2 "expected a run number" --diff 1 x
bad err-two-modes 2 "choose one of" --findings --fleet
bad err-html-no-o 2 "needs -o FILE" --format html
bad err-o-no-html 2 "-o is for --format html" --fleet -o x.html
bad err-format 2 "expected table, json, csv or html" --fleet --format xml
"$gk" report --db "$db" --run 1 --format html -o "$out/nodir/x.html" 2>"$out/e"; st=$?
[ $st = 1 ] && [ ! -e "$out/nodir" ] && grep -q "nodir" "$out/e" && pass err-html-dir ||
  fail err-html-dir "exit $st"
"$gk" report --db "$db" --run 9 --format html -o "$out/none.html" 2>"$out/e"; st=$?
[ $st = 1 ] && [ ! -e "$out/none.html" ] && ! ls "$out" | grep -q tmp && pass err-html-empty ||
  fail err-html-empty "exit $st: $(cat "$out/e")"

# A database of schema version 1 gains the audit tables when opened.
v1=$out/v1.db
sqlite3 "$v1" "CREATE TABLE runs (id INTEGER PRIMARY KEY, job_name TEXT NOT NULL, job_file TEXT NOT NULL, job_text TEXT NOT NULL, options TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL, ntasks INTEGER NOT NULL, workers INTEGER, started TEXT NOT NULL, finished TEXT, pid INTEGER, host TEXT); PRAGMA user_version = 1;"
"$gk" report --db "$v1" --fleet >/dev/null 2>"$out/e"
if [ "$(sqlite3 "$v1" 'PRAGMA user_version')" = 2 ] &&
   [ "$(sqlite3 "$v1" "SELECT count(*) FROM sqlite_master WHERE name IN ('os','applications','filesystems','findings')")" = 4 ] &&
   grep -q "holds no audit yet" "$out/e"; then pass schema-v1-upgraded
else fail schema-v1-upgraded "$(cat "$out/e")"; fi
exit $rc
