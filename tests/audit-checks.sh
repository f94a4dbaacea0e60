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
#  - blkid gives what vfs_type, get_e2label and get_e2uuid give, and
#    find_modes what find and lstat give, with a depth bound
cd "$(dirname "$0")/.." || exit 1
. tests/audit-images.sh
. tests/lib.sh
t_begin audit-checks
db=$out/a.db

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
# The two calls the audit uses in place of programs (guestd/probe.c,
# guestd/walk.c), against the calls they replace, on a crafted image:
# ext4 with a label, swap with a label, vfat, a partition with nothing
# on it; a tree with set modes, symlinks that point out of it and at
# itself, a hostile name, and one 300 levels deep.
truncate -s 64M "$out/probe.img"
deep=/deep; for _ in $(seq 300); do deep=$deep/d; done
"$gk" shell -a "$out/probe.img" part-init /dev/sda mbr : part-add /dev/sda p 64 40959 : \
  part-add /dev/sda p 40960 49151 : part-add /dev/sda p 49152 90111 : part-add /dev/sda p 90112 120000 : \
  mkfs ext4 /dev/sda1 : set-e2label /dev/sda1 audit-root : mkswap-L sw1 /dev/sda2 : mkfs vfat /dev/sda3 : \
  mount /dev/sda1 / : mkdir-p /t/sub : write-file /t/a "x" 0 : chmod 0644 /t/a : \
  write-file /t/ww "x" 0 : chmod 0666 /t/ww : mkdir /t/sg : chmod 02755 /t/sg : \
  write-file /t/sub/b "x" 0 : chmod 0600 /t/sub/b : ln-s / /t/up : ln-s . /t/sub/loop : \
  write-file "/t/\e[31m<x>" "x" 0 : chmod 0640 "/t/\e[31m<x>" : mkdir-p "$deep" >"$out/probe.sh.out" 2>&1 ||
  fail probe-setup "$(tail -2 "$out/probe.sh.out")"
# blkid: TYPE as vfs_type, LABEL and UUID as get_e2label and get_e2uuid.
"$gk" shell --ro -a "$out/probe.img" blkid /dev/sda : vfs-type /dev/sda : blkid /dev/sda1 : vfs-type /dev/sda1 : \
  get-e2label /dev/sda1 : get-e2uuid /dev/sda1 : blkid /dev/sda2 : vfs-type /dev/sda2 : \
  blkid /dev/sda3 : vfs-type /dev/sda3 : blkid /dev/sda4 : vfs-type /dev/sda4 >"$out/probe.out" 2>&1
for d in sda sda1 sda2 sda3 sda4; do "$gk" shell --ro -a "$out/probe.img" blkid /dev/$d >"$out/tags-$d" 2>&1; done
tags() { grep '^[A-Z_]*: ' "$out/tags-$1"; }
e2=$(grep -v '^[A-Z_]*: ' "$out/probe.out" | tr '\n' ' ')
t1=$(tags sda1 | sed -n 's/^TYPE: //p'); l1=$(tags sda1 | sed -n 's/^LABEL: //p')
u1=$(tags sda1 | sed -n 's/^UUID: //p'); t2=$(tags sda2 | sed -n 's/^TYPE: //p')
l2=$(tags sda2 | sed -n 's/^LABEL: //p'); t3=$(tags sda3 | sed -n 's/^TYPE: //p')
pt=$(tags sda | sed -n 's/^PTTYPE: //p'); n4=$(tags sda4 | grep -c '^TYPE: ')
if [ "$e2" = " ext4 audit-root $u1 swap vfat  " ] && [ -n "$u1" ] && [ "$t1 $l1" = "ext4 audit-root" ] &&
   [ "$t2 $l2 $t3 $pt $n4" = "swap sw1 vfat dos 0" ] && ! grep -q '^TYPE' <(tags sda); then pass blkid-as-vfs-type
else fail blkid-as-vfs-type "vfs_type/e2 '$e2'; blkid: '$t1' '$l1' '$u1' '$t2' '$l2' '$t3' '$pt', $n4 TYPE on sda4"; fi
# find_modes: find's names, each with its lstat mode (as set above);
# symlinks listed, never followed; a tree deeper than the bound is an
# error that says so.
"$gk" shell --ro -a "$out/probe.img" -m /dev/sda1 find /t >"$out/find.out" 2>&1
"$gk" shell --ro -a "$out/probe.img" -m /dev/sda1 find-modes /t >"$out/fm.out" 2>&1
fm_names=$(awk 'NR % 2 == 1' "$out/fm.out"); fm=$(paste - - <"$out/fm.out" | sort | tr '\t\n' '= ')
want='\e[31m<x>=100640 a=100644 sg=42755 sub=40755 sub/b=100600 sub/loop=120777 up=120777 ww=100666 '  # the shell shows ESC as \e
if [ "$fm_names" = "$(cat "$out/find.out")" ] && [ "$fm" = "$want" ]; then pass find-modes
else fail find-modes "got '$fm' want '$want'; find: $(tr '\n' ' ' <"$out/find.out")"; fi
"$gk" shell --ro -a "$out/probe.img" -m /dev/sda1 find-modes /deep >"$out/deep.out" 2>&1; st=$?
"$gk" shell --ro -a "$out/probe.img" -m /dev/sda1 find-modes "/deep$(printf '/d%.0s' $(seq 50))" >"$out/deep2.out" 2>&1; st2=$?
if [ $st != 0 ] && grep -q 'find_modes: /deep: deeper than 256 levels' "$out/deep.out" &&
   [ $st2 = 0 ] && [ "$(wc -l <"$out/deep2.out")" = $((2 * 250)) ]; then pass find-modes-bounds
else fail find-modes-bounds "exit $st: $(head -c 300 "$out/deep.out"); 250 levels: exit $st2, $(wc -l <"$out/deep2.out") lines"; fi
exit $rc
