#!/bin/bash
# tests/runner-steps-patch.sh: the shipped jobs/patch.yaml on a small
# Debian image of real files (tests/steps-fixture.sh), with a .deb made
# here by dpkg-deb:
#  - sshd hardened (set_config), the package installed by the guest's
#    dpkg, the banner written, /etc/shadow 0640 root:shadow
#  - run again: ok, and no changes recorded (idempotent)
#  - --dry-run on a fresh copy: changes recorded, image byte-identical
#  - a .deb that is not one: the task fails naming the step and its line,
#    and the image is byte-identical
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-steps-patch img
sha() { sha256sum "$1" | cut -d' ' -f1; }
last_task() { q "SELECT max(id) FROM tasks"; }

fixture=$(tests/steps-fixture.sh) || exit 77
cp --sparse=always "$fixture" "$out/img/web1.img"
cp --sparse=always "$fixture" "$out/fresh.img"
SOURCE_DATE_EPOCH=0 dpkg-deb --root-owner-group -b jobs/files/fleet-deb "$out/fleet.deb" >/dev/null ||
  { echo "dpkg-deb cannot build the test package" >&2; exit 77; }
head -c 3000 /dev/urandom > "$out/bad.deb"

$gk run --db "$db" --images "$out/img/*.img" --var deb="$out/fleet.deb" jobs/patch.yaml >"$out/p1.out" 2>&1; st=$?
[ $st = 0 ] && pass patch-ok || fail patch-ok "exit $st: $(grep -v '^run ' "$out/p1.out" | head -3)"

# Read back, read-only.
cat > "$out/check.yaml" <<'YAML'
name: check
images: img/web1.img
steps:
  - mount_ro: [/dev/sda1, /]
  - cat: /etc/ssh/sshd_config
    save_as: sshd
  - cat: /etc/issue.net
    save_as: banner
  - stat: /etc/shadow
    save_as: shadow
  - cat: /usr/share/guestkit-fleet/policy
    save_as: policy
  - grep: {regex: "^Package: guestkit-fleet", path: /var/lib/dpkg/status}
    save_as: status
YAML
$gk run --db "$out/check.db" "$out/check.yaml" >/dev/null 2>&1
f() { sqlite3 -batch -noheader "$out/check.db" "SELECT json_extract(value, '$') FROM facts WHERE name = '$1' AND task_id = (SELECT max(id) FROM tasks)"; }
s=$(f sshd | grep -E '^(PermitRootLogin|PasswordAuthentication|X11Forwarding|Banner) ' | sort | tr '\n' '|')
[ "$s" = "Banner /etc/issue.net|PasswordAuthentication no|PermitRootLogin no|X11Forwarding no|" ] &&
  pass sshd-hardened || fail sshd-hardened "$s"
[ "$(f banner)" = "Authorised use only. This system is managed by guestkit." ] && pass banner || fail banner "$(f banner)"
m=$(f shadow | python3 -c 'import json,sys; d=json.load(sys.stdin); print(oct(d["mode"] & 0o7777), d["uid"], d["gid"])')
[ "$m" = "0o640 0 42" ] && pass shadow-mode || fail shadow-mode "$m"
if [ "$(f policy)" = "fleet policy 2026-12" ] && f status | grep -q guestkit-fleet; then pass deb-installed
else fail deb-installed "policy '$(f policy)', status '$(f status)'"; fi
ch=$(q "SELECT group_concat(path, ' ') FROM changes WHERE task_id = $(last_task)")
echo " $ch " | grep -q ' /usr/share/guestkit-fleet/policy ' && echo " $ch " | grep -q ' /var/lib/dpkg/status ' &&
  pass changes-of-patch || fail changes-of-patch "$ch"

before=$(sha "$out/img/web1.img")
$gk run --db "$db" --images "$out/img/*.img" --var deb="$out/fleet.deb" jobs/patch.yaml >"$out/p2.out" 2>&1; st=$?
n=$(q "SELECT count(*) FROM changes WHERE task_id = $(last_task)")
[ $st = 0 ] && [ "$n" = 0 ] && pass patch-again-no-changes ||
  fail patch-again-no-changes "exit $st, $n changes: $(q "SELECT group_concat(path, ' ') FROM changes WHERE task_id = $(last_task)")"

before=$(sha "$out/fresh.img")
$gk run --dry-run --db "$db" --images "$out/fresh.img" --var deb="$out/fleet.deb" jobs/patch.yaml >"$out/p3.out" 2>&1; st=$?
n=$(q "SELECT count(*) FROM changes WHERE task_id = $(last_task)")
[ $st = 0 ] && [ "$n" -gt 3 ] && [ "$(sha "$out/fresh.img")" = "$before" ] && pass dry-run ||
  fail dry-run "exit $st, $n changes"

$gk run --db "$db" --images "$out/fresh.img" --var deb="$out/bad.deb" jobs/patch.yaml >"$out/p4.out" 2>&1; st=$?
e=$(q "SELECT error FROM tasks WHERE id = $(last_task)")
line=$(grep -n '^  - packages:' jobs/patch.yaml | cut -d: -f1)
if [ $st = 1 ] && echo "$e" | grep -q "step 2 (packages, line $line): debs: .*bad.deb is not a .deb package" &&
   [ "$(sha "$out/fresh.img")" = "$before" ]; then
  pass bad-deb-image-identical
else fail bad-deb-image-identical "exit $st: $e"; fi
exit $rc
