#!/bin/bash
# tests/audit-checks.sh: the inventory step and every kind of check on
# images that hold real Debian 12 files (tests/audit-images.sh: `make
# base's tree, or this host's files and openssh-server's package).
#  - inventory: the os, applications and filesystems rows
#  - each check kind passes on one image and fails on the other, with
#    the evidence (a value and a path, never a whole file)
#  - guestkit run exits 1 when a high check fails, 0 when only lower ones do
#  - drift: a known change between two runs shows in report --diff
#  - hostile file names and file contents come out inert: no ESC in the
#    terminal report, escaped in the HTML page
cd "$(dirname "$0")/.." || exit 1
. tests/audit-images.sh
gk=$PWD/runner/guestkit
out=$PWD/tests/out/audit-checks-$$; mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
db=$out/a.db
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$db" "$1"; }

audit_sources "$out/src" 2>"$out/src.err" || { cat "$out/src.err" >&2; exit 77; }
audit_image "$out/good.img" good web1 "$out/src" && audit_image "$out/bad.img" bad bad1 "$out/src" &&
  cp --sparse=always "$out/good.img" "$out/drift.img" || exit 1

cat >"$out/job.yaml" <<YAML
name: checks
images: [good.img, bad.img, drift.img]
steps:
  - inventory:
  - cat: /etc/hostname
    save_as: hn
checks:
  - {id: exists, severity: low, description: d, file_exists: /root/.ssh/authorized_keys}
  - {id: absent, severity: medium, description: d, file_absent: /root/.ssh/authorized_keys}
  - {id: mode-owner, severity: high, description: d,
     file: {path: /etc/shadow, mode: '^0[0-6][04]0\$', owner: '^0:(0|42)\$'}}
  - {id: owner, severity: low, description: d, file: {path: /etc/shadow, owner: '^0:42\$'}}
  - {id: content, severity: low, description: d,
     file: {path: /etc/ssh/sshd_config, content: '^PasswordAuthentication[[:space:]]+no'}}
  - {id: no-content, severity: low, description: d,
     file: {path: /etc/ssh/sshd_config, no_content: '^PermitRootLogin[[:space:]]+yes'}}
  - {id: motd, severity: low, description: d, file: {path: /etc/motd, no_content: 'alert'}}
  - {id: tree, severity: high, description: d, tree: {path: /etc, mode_not: '[2367]\$'}}
  - {id: config-lens, severity: high, description: d,
     config: {file: /etc/ssh/sshd_config, key: PermitRootLogin, lens: Sshd.lns, value: '^no\$'}}
  - {id: config-default-lens, severity: low, description: d,
     config: {file: /etc/ssh/sshd_config, key: PasswordAuthentication, value: '^no\$'}}
  - {id: config-any-lens, severity: low, description: d,
     config: {file: /etc/os-release, key: VERSION_ID, value: '^"?12"?\$'}}
  - {id: config-unset, severity: low, description: d,
     config: {file: /etc/ssh/sshd_config, key: NoSuchKey, lens: Sshd.lns, value: x, missing: pass}}
  - {id: package-min, severity: high, description: d,
     package: {name: openssh-server, min_version: '1:9.2p1-2+deb12u5'}}
  - {id: package-absent, severity: low, description: d, package: {name: no-such-package}}
  - {id: package-not, severity: low, description: d, package: {name: openssh-server, installed: false}}
  - {id: fact-os, severity: high, description: d, fact: {name: major_version, equals: ['11', '12']}}
  - {id: fact-saved, severity: low, description: d, fact: {name: hn, equals: web1}}
YAML
"$gk" run --db "$db" "$out/job.yaml" >"$out/run1.out" 2>&1; st=$?
n=$(q "SELECT count(*) FROM tasks WHERE status = 'ok'")
[ $st = 1 ] && [ "$n" = 3 ] && grep -q "checks of severity high failed" "$out/run1.out" &&
  pass run-exit-high || fail run-exit-high "exit $st, $n ok: $(tail -3 "$out/run1.out")"

# Inventory rows.
os=$(q "SELECT o.distro || ' ' || o.major_version || ' ' || o.hostname || ' ' || o.package_format
        FROM os o JOIN tasks t ON t.id = o.task_id WHERE t.image LIKE '%/good.img'")
apps=$(q "SELECT count(*) FROM applications a JOIN tasks t ON t.id = a.task_id WHERE t.image LIKE '%/good.img'")
ssh=$(q "SELECT epoch || ':' || version || '-' || release FROM applications a JOIN tasks t ON t.id = a.task_id
         WHERE t.image LIKE '%/bad.img' AND name = 'openssh-server'")
fs=$(q "SELECT type || ' ' || (size > 0) || ' ' || (used > 0) || ' ' || (length(uuid) = 36) FROM filesystems f
        JOIN tasks t ON t.id = f.task_id WHERE t.image LIKE '%/good.img' AND device = '/dev/sda1'")
want=$(grep -c '^Package: ' "$out/src/var/lib/dpkg/status")
if [ "$os" = "debian 12 web1 deb" ] && [ "$apps" -ge $((want - 5)) ] && [ "$apps" -gt 50 ] &&
   [ "$ssh" = "1:9.2p1-2+deb12u3" ] && [ "$fs" = "ext4 1 1 1" ]; then pass inventory
else fail inventory "os '$os', $apps apps (dpkg says $want), ssh '$ssh', fs '$fs'"; fi

# Each check on the good and the bad image: 1 passed, 0 failed.
res=$(q "SELECT f.check_id || '=' || group_concat(f.passed, '') FROM (SELECT f.check_id, f.passed FROM findings f
         JOIN tasks t ON t.id = f.task_id WHERE t.image NOT LIKE '%/drift.img' ORDER BY f.check_id, t.image DESC) f
         GROUP BY f.check_id ORDER BY f.check_id" | tr '\n' ' ')
want='absent=10 config-any-lens=10 config-default-lens=10 config-lens=10 config-unset=11 content=10 exists=01 fact-os=10 fact-saved=10 mode-owner=10 motd=10 no-content=10 owner=10 package-absent=00 package-min=10 package-not=00 tree=10 '
[ "$res" = "$want" ] && pass check-kinds || fail check-kinds "$(diff <(tr ' ' '\n' <<<"$want") <(tr ' ' '\n' <<<"$res") | grep '^[<>]' | tr '\n' ' ')"

ev() { q "SELECT evidence_path || ' | ' || evidence_value FROM findings f JOIN tasks t ON t.id = f.task_id
          WHERE t.image LIKE '%/$1.img' AND check_id = '$2'"; }
e1=$(ev bad mode-owner); e2=$(ev bad tree); e3=$(ev bad config-lens); e4=$(ev bad package-min)
e5=$(ev bad no-content); e6=$(ev bad fact-os); e7=$(ev good config-unset)
if [ "$e1" = "/etc/shadow | mode 0644" ] && [[ "$e2" == /etc/cron.d/*"<img src=x onerror=alert(1)> | mode 0666" ]] &&
   [ "$e3" = "/files/etc/ssh/sshd_config/PermitRootLogin | yes" ] &&
   [ "$e4" = "openssh-server | 1:9.2p1-2+deb12u3" ] && [ "$e5" = "/etc/ssh/sshd_config | PermitRootLogin yes" ] &&
   [ "$e6" = "major_version | 10" ] && [ "$e7" = "/files/etc/ssh/sshd_config/NoSuchKey | not set" ]; then
  pass evidence
else fail evidence "'$e1' '$e2' '$e3' '$e4' '$e5' '$e6' '$e7'"; fi
big=$(q "SELECT max(length(evidence_value)) FROM findings")
[ "$big" -le 512 ] && pass evidence-capped || fail evidence-capped "$big bytes"

# Hostile names and contents: cleaned for the terminal, escaped in HTML.
"$gk" report --db "$db" --findings >"$out/findings.txt" 2>&1
"$gk" report --db "$db" --format html -o "$out/r.html"
if grep -q 'onerror' "$out/findings.txt" && ! grep -q $'\033' "$out/findings.txt" &&
   ! grep -q $'\007' "$out/findings.txt"; then pass hostile-terminal
else fail hostile-terminal "$(grep -c $'\033' "$out/findings.txt") lines with ESC"; fi
if grep -q '&lt;img src=x onerror=alert(1)&gt;' "$out/r.html" && grep -q 'alert(2)&lt;/script&gt;' "$out/r.html" &&
   ! grep -q '<img' "$out/r.html" && [ "$(grep -o '<script' "$out/r.html" | wc -l)" = 1 ] &&
   ! grep -q $'\033' "$out/r.html"; then pass hostile-html
else fail hostile-html "$(grep -o '<script\|<img' "$out/r.html" | sort | uniq -c | tr '\n' ' ')"; fi

# Drift: a known change to drift.img, audited again.
printf 'web9\n' >"$out/hn"
sed 's/^Version: 1:9.2p1-2+deb12u5$/Version: 1:9.2p1-2+deb12u10/' "$out/src/var/lib/dpkg/status" |
  awk '/^Package: / { p = ($2 == "openssh-server") } p && /^Version: / { $0 = "Version: 1:9.2p1-2+deb12u10" } { print }' >"$out/status2"
"$gk" shell -a "$out/drift.img" -m /dev/sda1 upload "$out/hn" /etc/hostname : \
  upload "$out/status2" /var/lib/dpkg/status : mkdir-p /root/.ssh : \
  write-file /root/.ssh/authorized_keys "ssh-ed25519 AAAA drift" 0 >"$out/sh.out" 2>&1 ||
  fail drift-setup "$(tail -2 "$out/sh.out")"
sed -i 's/\[good.img, bad.img, drift.img\]/[drift.img]/' "$out/job.yaml"
"$gk" run --db "$db" "$out/job.yaml" >"$out/run2.out" 2>&1; st=$?
[ $st = 0 ] && pass run-exit-no-high || fail run-exit-no-high "exit $st: $(tail -3 "$out/run2.out")"
"$gk" report --db "$db" --diff 1 2 --image drift.img --format csv | tail -n +2 | sed 's|^[^,]*,||' >"$out/diff.csv"
if grep -qx 'os,hostname,changed,web1,web9' "$out/diff.csv" &&
   grep -qx 'package,openssh-server:amd64,changed,1:9.2p1-2+deb12u5,1:9.2p1-2+deb12u10' "$out/diff.csv" &&
   grep -qx 'finding,absent,flipped,pass,fail' "$out/diff.csv" && grep -qx 'finding,exists,flipped,fail,pass' "$out/diff.csv" &&
   grep -qx 'fact,hn,changed,"""web1\\n""","""web9\\n"""' "$out/diff.csv" &&
   [ "$(grep -c ',package,' "$out/diff.csv")" = 0 ] && [ "$(grep -c '^package,' "$out/diff.csv")" = 1 ]; then
  pass drift
else fail drift "$(cat "$out/diff.csv" | head -12 | tr '\n' ' ')"; fi
exit $rc
