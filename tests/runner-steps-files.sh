#!/bin/bash
# tests/runner-steps-files.sh: the file, config, user and system steps on
# a small Debian image of real files (tests/steps-fixture.sh), each read
# back by raw calls, and one error of each; then the whole job again
# records no changes (every step is idempotent).
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/runner-steps-files-$$; mkdir -p "$out/tree/sub"
[ -n "$KEEP" ] || trap 'rm -rf "$out"' EXIT
db=$out/results.db
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$db" "$1"; }
fact() { q "SELECT json_extract(value, '$') FROM facts WHERE name = '$1' AND task_id = (SELECT max(id) FROM tasks)"; }

fixture=$(tests/steps-fixture.sh) || exit 77
cp --sparse=always "$fixture" "$out/d.img"
echo hello > "$out/tree/a.txt"; echo deep > "$out/tree/sub/b.txt"
# Files of the lengths where SHA-256's padding changes (the appliance
# hashes them itself for the changes record), and a large one.
mkdir -p "$out/tree/len"
for n in 0 1 55 56 63 64 65 119 120 128; do head -c $n /dev/urandom > "$out/tree/len/f$n"; done
head -c 300000 /dev/urandom > "$out/tree/len/big"
printf 'from the host\n' > "$out/motd"
printf '$6$saltsalt$%s\n' "$(printf 'x%.0s' {1..86})" > "$out/pw.hash"
key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGqOmeTestKeyForGuestkitOnly0123456789ab test@gk"

cat > "$out/files.yaml" <<YAML
name: files
images: d.img
readonly: false
steps:
  - write: {path: /etc/motd, content: "managed\n", mode: 0600, owner: "daemon:shadow"}
  - write: {path: /etc/motd.host, file: motd}
  - append_line: {path: /etc/issue.net, line: "Authorised use only."}
  - append_line: {path: /etc/issue.net, line: "Authorised use only."}
  - delete: [/etc/hostname.old, /tmp/*.junk]
  - copy_in: {from: tree, to: /opt}
  - chmod: {mode: 0640, path: /etc/shadow}
  - chown: {owner: root, group: shadow, path: /etc/shadow}
  - set_config:
      file: /etc/ssh/sshd_config
      set: {PermitRootLogin: "no", PasswordAuthentication: "no", X11Forwarding: "no"}
  - timezone: Europe/Paris
  - user: {name: alice, shell: /bin/bash, groups: [sudo], password_file: pw.hash, ssh_keys: ["$key"]}
  - ssh_inject: {user: root, keys: ["$key"]}
  - run: {command: "id -u alice > /etc/alice.uid", touches: [/etc/alice.uid]}
  - stat: /etc/motd
    save_as: motd_stat
  - cat: /etc/motd.host
    save_as: motd_host
  - cat: /etc/issue.net
    save_as: issue
  - cat: /opt/tree/sub/b.txt
    save_as: copied
  - stat: /etc/shadow
    save_as: shadow_stat
  - cat: /etc/ssh/sshd_config
    save_as: sshd
  - readlink: /etc/localtime
    save_as: localtime
  - cat: /etc/passwd
    save_as: passwd
  - sh: "grep -c '^alice:[$]6[$]saltsalt[$]x*:' /etc/shadow"
    save_as: shadow_alice
  - cat: /root/.ssh/authorized_keys
    save_as: root_keys
  - stat: /home/alice/.ssh/authorized_keys
    save_as: alice_keys_stat
  - cat: /etc/alice.uid
    save_as: alice_uid
YAML
$gk run --db "$db" "$out/files.yaml" >"$out/run1.out" 2>&1; st=$?
[ $st = 0 ] && pass files-job-ok || fail files-job-ok "exit $st: $(grep -v "^run " "$out/run1.out" | head -3)"

m=$(fact motd_stat); [ "$(echo "$m" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(oct(d["mode"] & 0o7777), d["uid"], d["gid"])')" = "0o600 1 42" ] &&
  pass write-mode-owner-by-guest-name || fail write-mode-owner-by-guest-name "$m"
[ "$(fact motd_host)" = "from the host" ] && pass write-from-host-file || fail write-from-host-file "$(fact motd_host)"
[ "$(fact issue | grep -c 'Authorised use only.')" = 1 ] && pass append-line-once || fail append-line-once "$(fact issue)"
[ "$(fact copied)" = deep ] && pass copy-in-tree || fail copy-in-tree "$(fact copied)"
s=$(fact shadow_stat | python3 -c 'import json,sys; d=json.load(sys.stdin); print(oct(d["mode"] & 0o7777), d["uid"], d["gid"])')
[ "$s" = "0o640 0 42" ] && pass chmod-chown-shadow || fail chmod-chown-shadow "$s"
sshd=$(fact sshd | grep -E '^(PermitRootLogin|PasswordAuthentication|X11Forwarding) ' | sort | tr '\n' ' ')
[ "$sshd" = "PasswordAuthentication no PermitRootLogin no X11Forwarding no " ] &&
  pass set-config-sshd || fail set-config-sshd "$sshd"
[ "$(fact localtime)" = ../usr/share/zoneinfo/Europe/Paris ] && pass timezone || fail timezone "$(fact localtime)"
if fact passwd | grep -q '^alice:x:[0-9]*:[0-9]*::/home/alice:/bin/bash$' &&
   [ "$(fact shadow_alice)" = 1 ] && [ -n "$(fact alice_uid)" ]; then
  pass user-created-with-password
else fail user-created-with-password "$(fact passwd | grep alice) / $(fact alice_uid)"; fi
[ "$(fact root_keys)" = "$key" ] && pass ssh-inject || fail ssh-inject "$(fact root_keys)"
k=$(fact alice_keys_stat | python3 -c 'import json,sys; d=json.load(sys.stdin); print(oct(d["mode"] & 0o7777), d["uid"])')
[ "$k" = "0o600 $(fact alice_uid)" ] && pass user-ssh-keys || fail user-ssh-keys "$k"

# The hash is only in the guest's /etc/shadow: not in any step's
# arguments, result or error, nor any fact, nor the output.
hash=$(cat "$out/pw.hash")
n=$(q "SELECT (SELECT count(*) FROM steps WHERE instr(args || coalesce(result, '') || coalesce(error, ''), '$hash') > 0) + (SELECT count(*) FROM facts WHERE instr(value, '$hash') > 0)")
if [ "$n" = 0 ] && ! grep -qF "$hash" "$out/run1.out"; then pass password-not-recorded
else fail password-not-recorded "$n steps hold it"; fi

# Changes: the record names what the steps changed.
ch=$(q "SELECT group_concat(path || ':' || kind, ' ') FROM changes WHERE task_id = (SELECT max(id) FROM tasks)")
for want in /etc/motd:added /etc/shadow:changed /etc/ssh/sshd_config:changed /opt/tree/sub/b.txt:added \
            /etc/localtime:changed /home/alice:added /etc/passwd:changed; do
  echo " $ch " | grep -q " $want " || missing="$missing $want"
done
[ -z "$missing" ] && pass changes-record || fail changes-record "missing$missing in: $ch"

# The appliance's sums are sha256sum's, at every padding length.
bad=
for f in "$out"/tree/len/*; do
  got=$(q "SELECT sha256_after || ' ' || size_after FROM changes WHERE task_id = (SELECT max(id) FROM tasks) AND path = '/opt/tree/len/${f##*/}'")
  [ "$got" = "$(sha256sum "$f" | cut -d' ' -f1) $(stat -c %s "$f")" ] || bad="$bad ${f##*/}=$got"
done
[ -z "$bad" ] && pass changes-sha256-lengths || fail changes-sha256-lengths "$bad"

# Everything again, without the raw reads that record nothing: no changes.
sed -i '/^  - run:/,$d' "$out/files.yaml"
$gk run --db "$db" "$out/files.yaml" >"$out/run2.out" 2>&1; st=$?
n=$(q "SELECT count(*) FROM changes WHERE task_id = (SELECT max(id) FROM tasks)")
if [ $st = 0 ] && [ "$n" = 0 ]; then pass rerun-no-changes
else fail rerun-no-changes "exit $st, $n changes: $(q "SELECT group_concat(path) FROM changes WHERE task_id = (SELECT max(id) FROM tasks)")"; fi

# Names are looked up in the guest's /etc/passwd and /etc/group by each
# step that needs them (lookup_ids): a user added behind the steps' back
# (run) is seen by the next lookup.
cat > "$out/ids.yaml" <<YAML
name: ids
images: d.img
readonly: false
steps:
  - write: {path: /etc/ids.a, content: "a\n", owner: "root:root"}
  - run: {command: "echo 'dave:x:1234:1234::/nonexistent:/bin/sh' >> /etc/passwd", touches: [/etc/passwd]}
  - chown: {owner: dave, path: /etc/ids.a}
  - chown: {owner: daemon, group: shadow, path: /etc/ids.a}
  - write: {path: /etc/ids.b, content: "b\n", owner: "dave:shadow"}
  - stat: /etc/ids.a
    save_as: ids_a
  - stat: /etc/ids.b
    save_as: ids_b
YAML
$gk run --db "$db" "$out/ids.yaml" >"$out/ids.out" 2>&1; st=$?
ia=$(fact ids_a | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["uid"], d["gid"])' 2>/dev/null)
ib=$(fact ids_b | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["uid"], d["gid"])' 2>/dev/null)
if [ $st = 0 ] && [ "$ia" = "1 42" ] && [ "$ib" = "1234 42" ]; then pass names-after-passwd-changes
else fail names-after-passwd-changes "exit $st, ids.a $ia, ids.b $ib: $(grep -v '^run ' "$out/ids.out" | head -3)"; fi

# One error of each (a task per error, so each is seen).
err_case() {  # NAME STEP-YAML EXPECTED-ERROR-TEXT
  printf 'name: e\nimages: d.img\nreadonly: false\nsteps:\n  - %s\n' "$2" > "$out/e.yaml"
  $gk run --db "$db" "$out/e.yaml" >"$out/e.out" 2>&1; st=$?
  e=$(q "SELECT error FROM tasks WHERE id = (SELECT max(id) FROM tasks)")
  if [ $st = 1 ] && echo "$e" | grep -qF -- "$3" && echo "$e" | grep -q "line 5"; then pass "$1"
  else fail "$1" "exit $st: $e"; fi
}
err_case write-neither '{write: {path: /x}}' "give either 'content' or 'file'"
err_case append-newline '{append_line: {path: /x, line: "a\nb"}}' "one line"
err_case delete-root '{delete: /}' "refusing to delete the whole guest"
err_case copy-in-missing '{copy_in: {from: nothere, to: /opt}}' "nothere"
err_case chmod-missing '{chmod: {mode: 0600, path: /nothere}}' "/nothere"
err_case chown-unknown-user '{chown: {owner: mallory, path: /etc/motd}}' "no user 'mallory' in the guest's /etc/passwd"
err_case set-config-no-file '{set_config: {file: /etc/ssh/nothere, lens: Sshd.lns, set: {A: b}}}' "no such file in the guest"
err_case set-config-no-lens '{set_config: {file: /etc/unknown.conf, set: {A: b}}}' "no lens known"
err_case timezone-unknown '{timezone: Mars/Olympus}' "no time zone 'Mars/Olympus'"
err_case run-exit '{run: "exit 3"}' "the command failed"
err_case user-bad-key '{ssh_inject: {user: root, keys: ["not a key"]}}' "not an ssh public key"
err_case user-bad-hash '{user: {name: bob, password_file: motd}}' "expected one crypt hash"
exit $rc
