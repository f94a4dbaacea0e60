#!/bin/bash
# tests/runner-steps-ids.sh: owners by name in the write and chown steps
# (runner/steps-config.c's rn_guest_ids): names go to lookup_ids (read in
# guestd from the guest's own /etc/passwd and /etc/group), never through
# Augeas; numbers need no lookup at all; names no passwd line can hold
# are refused by the runner before any call; absent names and a missing
# file are errors that name them.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-steps-ids
fact() { q "SELECT json_extract(value, '$.$2') FROM facts WHERE name = '$1' AND task_id = (SELECT max(id) FROM tasks)"; }
fixture=$(tests/steps-fixture.sh) || exit 77
cp --sparse=always "$fixture" "$out/d.img"

job() {  # NAME STEPS...: a job file of these steps on the image
  { printf 'name: %s\nimages: d.img\nreadonly: false\nsteps:\n' "$1"; shift
    printf '  - %s\n' "$@"; } > "$out/j.yaml"
}
# The library's trace (one line a call, "NAME ARGS", with the runner's
# own lines) goes to run.out.
run() { LIBGUESTFS_TRACE=1 $gk run --db "$db" "$out/j.yaml" >"$out/run.out" 2>&1; }

# No /etc/passwd: a name is an error naming it (the task fails, so the
# image keeps its passwd).
job nofile '{delete: /etc/passwd}' '{write: {path: /f, content: "x\n", owner: daemon}}'
run; st=$?
e=$(q "SELECT error FROM tasks WHERE id = (SELECT max(id) FROM tasks)")
if [ $st = 1 ] && echo "$e" | grep -q 'user and group names: .*/etc/passwd: No such file'; then
  pass owner-no-passwd
else fail owner-no-passwd "exit $st: $e"; fi

# Crafted files: a NIS line first, a duplicate (the first wins).
cat > "$out/j.yaml" <<'YAML'
name: crafted
images: d.img
readonly: false
steps:
  - write: {path: /etc/passwd, content: "+daemon::5:5:::\nroot:x:0:0::/:\ndaemon:x:1:1::/:\ndaemon:x:7:7::/:\n"}
  - write: {path: /etc/group, content: "root:x:0:\nshadow:x:42:\nshadow:x:43:\n"}
  - write: {path: /f, content: "x\n", owner: "daemon:shadow"}
  - chown: {owner: root, group: shadow, path: /etc/group}
  - stat: /f
    save_as: f
  - stat: /etc/group
    save_as: g
YAML
run; st=$?
if [ $st = 0 ] && [ "$(fact f uid) $(fact f gid)" = "1 42" ] && [ "$(fact g uid) $(fact g gid)" = "0 42" ] &&
   grep -q '^lookup_ids "daemon" "shadow"$' "$out/run.out" && grep -q '^lookup_ids "root" "shadow"$' "$out/run.out" &&
   ! grep -q '^aug_' "$out/run.out"; then
  pass owner-by-name-lookup-ids
else fail owner-by-name-lookup-ids "exit $st, f $(fact f uid) $(fact f gid), g $(fact g uid) $(fact g gid): $(grep 'failed\|lookup_ids\|aug_' "$out/run.out" | head -4)"; fi

# Numbers: no lookup.
job numbers '{chown: {owner: "1234", group: "5678", path: /f}}' '{write: {path: /f, content: "y\n", owner: "0:0"}}'
run; st=$?
if [ $st = 0 ] && grep -q '^chown 1234 5678 "/f"$' "$out/run.out" && ! grep -q '^lookup_ids' "$out/run.out"; then
  pass owner-numbers-no-lookup
else fail owner-numbers-no-lookup "exit $st: $(grep 'failed\|lookup_ids\|^chown' "$out/run.out" | head -3)"; fi

err_case() {  # NAME STEP-YAML EXPECTED-ERROR-TEXT [a call that must not be made]
  job e "$2"
  run; st=$?
  e=$(q "SELECT error FROM tasks WHERE id = (SELECT max(id) FROM tasks)")
  if [ $st = 1 ] && echo "$e" | grep -qF -- "$3" &&
     { [ -z "$4" ] || ! grep -q "^$4 " "$out/run.out"; }; then pass "$1"
  else fail "$1" "exit $st: $e"; fi
}
err_case owner-nis-name-refused '{chown: {owner: "+daemon", path: /f}}' "'+daemon' is not a user or group name" lookup_ids
err_case owner-blank-name-refused '{write: {path: /f, content: "x\n", owner: "ro ot:root"}}' "'ro ot' is not a user or group name" lookup_ids
err_case owner-colon-in-group '{write: {path: /f, content: "x\n", owner: "root:a:b"}}' "'a:b' is not a user or group name" lookup_ids
err_case owner-absent-user '{chown: {owner: mallory, path: /f}}' "no user 'mallory' in the guest's /etc/passwd"
err_case owner-absent-group '{chown: {owner: root, group: wheel, path: /f}}' "no group 'wheel' in the guest's /etc/group"
exit $rc
