#!/bin/bash
# tests/runner-steps-packages.sh: the packages step's view of what the
# guest has installed, now read by guestd from the guest's dpkg status
# (dpkg_packages) instead of by running dpkg-query, on the small Debian
# image of real files (tests/steps-fixture.sh):
#  - debs: installed; given again, skipped (same version installed)
#  - remove: an installed package is removed (its files gone), one that
#    is not installed is left alone; removing again does nothing
#  - a package dpkg left half-installed or with config-files only is
#    not "installed": remove leaves it alone
#  - a status file guestd will not read: the step fails naming the
#    package and the reason, and the image is byte-identical
#  - the job's .deb is read on the host (dpkg-deb -f, -c) once for all
#    the images of a run, and a file that is not a .deb fails the step
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-steps-packages-$$; mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$out/db" "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
result() { q "SELECT result FROM steps WHERE task_id = (SELECT max(id) FROM tasks) AND call = 'packages'"; }

fixture=$(tests/steps-fixture.sh) || exit 77
cp --sparse=always "$fixture" "$out/x.img"
SOURCE_DATE_EPOCH=0 dpkg-deb --root-owner-group -b jobs/files/fleet-deb "$out/fleet.deb" >/dev/null ||
  { echo "dpkg-deb cannot build the test package" >&2; exit 77; }

job() {  # NAME, then the step lines
  local n=$1; shift
  { echo "name: $n"; echo "images: x.img"; echo "readonly: false"; echo "steps:"
    printf '%s\n' "$@"; } > "$out/$n.yaml"
  "$gk" run -q --db "$out/db" "$out/$n.yaml" > "$out/$n.out" 2>&1
}
has_file() {  # PATH: 0 if it exists in the image
  { echo "name: ck"; echo "images: x.img"; echo "steps:"; echo "  - mount_ro: [/dev/sda1, /]"
    echo "  - exists: $1"; echo "    save_as: e"; } > "$out/ck.yaml"
  "$gk" run -q --db "$out/ck.db" "$out/ck.yaml" >/dev/null 2>&1
  [ "$(sqlite3 -batch -noheader "$out/ck.db" "SELECT value FROM facts WHERE name = 'e' AND
       task_id = (SELECT max(id) FROM tasks)")" = true ]
}
policy=/usr/share/guestkit-fleet/policy

job inst "  - packages: {debs: [\"$out/fleet.deb\"]}"; st=$?
r=$(result)
[ $st = 0 ] && [ "$r" = '{"installed":["guestkit-fleet=1.0"],"removed":[]}' ] && has_file $policy &&
  pass deb-installed || fail deb-installed "exit $st, result $r: $(tail -3 "$out/inst.out")"

job again "  - packages: {debs: [\"$out/fleet.deb\"]}"; st=$?
r=$(result)
[ $st = 0 ] && [ "$r" = '{"installed":[],"removed":[]}' ] && pass deb-same-version-skipped ||
  fail deb-same-version-skipped "exit $st, result $r"

job rm "  - packages: {remove: [guestkit-fleet, no-such-package]}"; st=$?
r=$(result)
[ $st = 0 ] && [ "$r" = '{"installed":[],"removed":["guestkit-fleet"]}' ] && ! has_file $policy &&
  pass removed || fail removed "exit $st, result $r: $(tail -3 "$out/rm.out")"

job rm2 "  - packages: {remove: [guestkit-fleet]}"; st=$?
r=$(result)
[ $st = 0 ] && [ "$r" = '{"installed":[],"removed":[]}' ] && pass remove-again-nothing ||
  fail remove-again-nothing "exit $st, result $r"

# States dpkg does not call installed: remove must not run dpkg -r.
printf '%s\n' "" "Package: halfpkg" "Status: install reinstreq half-installed" \
  "Maintainer: t <t@localhost>" "Version: 1.0" "Architecture: all" "Description: half" "" \
  "Package: cfgpkg" "Status: deinstall ok config-files" "Maintainer: t <t@localhost>" \
  "Version: 2.0" "Architecture: all" "Description: conffiles only" > "$out/extra"
job states "  - mount: [/dev/sda1, /]" "  - upload: [\"$out/extra\", /tmp/extra]" \
  "  - sh: \"cat /tmp/extra >> /var/lib/dpkg/status\"" \
  "  - packages: {remove: [halfpkg, cfgpkg]}"; st=$?
r=$(result)
[ $st = 0 ] && [ "$r" = '{"installed":[],"removed":[]}' ] && pass not-installed-states-left ||
  fail not-installed-states-left "exit $st, result $r: $(tail -3 "$out/states.out")"

before=$(sha "$out/x.img")
job big "  - mount: [/dev/sda1, /]" "  - truncate_size: [/var/lib/dpkg/status, 67108865]" \
  "  - packages: {remove: [guestkit-fleet]}"; st=$?
e=$(q "SELECT error FROM tasks WHERE id = (SELECT max(id) FROM tasks)")
if [ $st = 1 ] && echo "$e" | grep -q "packages.*guestkit-fleet: reading the guest's dpkg status: .*/var/lib/dpkg/status: larger than" &&
   [ "$(sha "$out/x.img")" = "$before" ]; then pass unreadable-status-fails
else fail unreadable-status-fails "exit $st: $e"; fi

# Two images, one .deb: dpkg-deb runs once for each question (a wrapper
# first in PATH counts its runs), and both images get the package.
mkdir -p "$out/bin"
printf '#!/bin/sh\necho "$1" >> %s/dpkg-deb.log\nexec /usr/bin/dpkg-deb "$@"\n' "$out" > "$out/bin/dpkg-deb"
chmod +x "$out/bin/dpkg-deb"
cp --sparse=always "$fixture" "$out/y1.img"; cp --sparse=always "$fixture" "$out/y2.img"
{ echo "name: two"; echo "images: [y1.img, y2.img]"; echo "readonly: false"; echo "steps:"
  echo "  - packages: {debs: [\"$out/fleet.deb\"]}"; } > "$out/two.yaml"
PATH=$out/bin:$PATH "$gk" run -q --db "$out/two.db" "$out/two.yaml" > "$out/two.out" 2>&1; st=$?
n=$(sqlite3 -batch -noheader "$out/two.db" "SELECT count(*) FROM steps WHERE call = 'packages' AND
     result = '{\"installed\":[\"guestkit-fleet=1.0\"],\"removed\":[]}'")
log=$(sort "$out/dpkg-deb.log" | uniq -c | tr -s ' ' | tr '\n' ';')
[ $st = 0 ] && [ "$n" = 2 ] && [ "$log" = " 1 -c; 1 -f;" ] && pass deb-read-once-per-run ||
  fail deb-read-once-per-run "exit $st, $n installed, dpkg-deb runs: $log $(tail -2 "$out/two.out")"

# Not a .deb: the step fails naming it, before anything is uploaded.
echo "not a package" > "$out/bad.deb"
job notdeb "  - packages: {debs: [\"$out/bad.deb\"]}"; st=$?
e=$(q "SELECT error FROM tasks WHERE id = (SELECT max(id) FROM tasks)")
[ $st = 1 ] && echo "$e" | grep -q "packages.*debs: $out/bad.deb is not a .deb package" &&
  pass not-a-deb-fails || fail not-a-deb-fails "exit $st: $e"
exit $rc
