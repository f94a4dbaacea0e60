#!/bin/bash
# tests/launch-cache.sh: two guestkit trees sharing one appliance cache
# (issue 19).  Tree B is a copy of this tree built under another path, so
# its appliance has another name; it is a fixture kept under /var/tmp,
# keyed by what it was copied from.  The cache is private to the test,
# seeded with hard links to this tree's appliance when one exists.
#   - a fleet run (guestkit run) goes on while tree B builds its
#     appliance: every run ends with every task ok;
#   - trees A and B each launch 50 handles in a loop, at the same time:
#     0 failures;
#   - `guestkit cache' shows an entry as in use while a handle holds it,
#     and --clear removes the other entries but not that one;
#   - a snapshot entry deleted by hand between two launches, then an
#     appliance entry deleted while qemu starts: the launch builds it
#     again, says so, and succeeds.
cd "$(dirname "$0")/.." || exit 1
top=$PWD
out=$top/tests/out/launch-cache-$$
pids=""
cleanup() {
  for p in $pids; do kill -KILL "$p" 2>/dev/null; done
  exec 7>&- 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT
mkdir -p "$out"
unset LIBGUESTFS_PATH LIBGUESTFS_QEMU GUESTKIT_CACHE_DAYS GUESTKIT_CACHE_SIZE
rounds=50
rc=0
pass() { echo "PASS: $1 (${SECONDS}s)"; }
fail() { echo "FAIL: $1: $2"; rc=1; }

# ---- the private cache, seeded with this tree's appliance ----
src=${GUESTKIT_CACHEDIR:-/var/tmp/.guestkit-$(id -u)}
export GUESTKIT_CACHEDIR=$out/cache
mkdir -m 0700 "$GUESTKIT_CACHEDIR"
for d in "$src"/appliance-*; do
  case ${d##*/} in *.*) continue ;; esac
  [ -f "$d/kernel" ] && [ -f "$d/initrd" ] && [ -f "$d/root" ] &&
    cp -al "$d" "$GUESTKIT_CACHEDIR/" 2>/dev/null
done

# ---- tree B: this tree copied and built under another path ----
key=$(cat core/libguestkit.so.0 runner/guestkit tests/bin/cache-loop \
        appliance/supermin.d/* 2>/dev/null | sha256sum | cut -c1-16)
treeb=/var/tmp/gk-tree2-$key
(
  flock 9
  find /var/tmp -maxdepth 1 -name 'gk-tree2-*' ! -name "${treeb##*/}" \
    -mtime +1 -exec rm -rf {} + 2>/dev/null
  if [ ! -e "$treeb/.complete" ]; then
    rm -rf "$treeb" && mkdir -p "$treeb/tests/out" &&
    tar -C "$top" --exclude=./.git --exclude=./tests/out --exclude=./jobs/samples \
      -cf - . | tar -C "$treeb" -xf - &&
    cp -p tests/out/build-flags "$treeb/tests/out/" &&
    touch "$treeb/core/handle.c" &&      # its default appliance path
    make -C "$treeb" -j2 all >"$out/treeb.log" 2>&1 &&
    touch "$treeb/.complete"
  fi
  touch "$treeb"          # in use: not removed as stale by another run
) 9>/var/tmp/gk-tree2.lock
if [ -x "$treeb/tests/bin/cache-loop" ] && [ -e "$treeb/.complete" ] &&
   grep -qaF "$treeb/appliance" "$treeb/core/libguestkit.so.0"; then
  pass cache-tree-b
else
  fail cache-tree-b "building $treeb failed: $(tail -3 "$out/treeb.log" 2>/dev/null)"
  exit 1
fi

tests/bin/make-sample-image "$out/disk.img" 16 cachehost >/dev/null 2>"$out/mk.err" ||
  { fail cache-sample-image "$(tail -2 "$out/mk.err")"; exit 1; }
mkdir "$out/fleet"
for i in 1 2 3 4; do truncate -s 16M "$out/fleet/disk$i.img"; done
cat >"$out/fleet.yaml" <<EOF
name: cache-fleet
images: fleet/*.img
steps:
  - list_devices:
    save_as: devices
  - blockdev_getsize64: /dev/sda
    save_as: size
EOF

# ---- a fleet run while tree B builds, then both trees' loops ----
# Tree A's appliance and snapshot first, so that its runs really launch
# while B builds (a snapshot is made under the build lock).
tests/bin/cache-loop 1 "$out/disk.img" >"$out/a0.out" 2>&1 ||
  { fail cache-tree-a "$(tail -3 "$out/a0.out")"; exit 1; }
# The seed may hold other trees' entries too (earlier checkouts, installed
# copies): keep only tree A's, the one just used (newest last use), so that
# the size budget cannot rightly prune one of them while B builds.
ls -dt "$GUESTKIT_CACHEDIR"/appliance-* | grep -v '\.' | tail -n +2 | xargs -r rm -rf
entries() { ls -d "$GUESTKIT_CACHEDIR"/appliance-* 2>/dev/null | grep -v '\.'; }
entries >"$out/entries-before"
"$treeb/tests/bin/cache-loop" $rounds "$out/disk.img" "$out/b-ready" \
  >"$out/b.out" 2>"$out/b.err" & bpid=$!; pids="$pids $bpid"
runs=0; bad_runs=0
while [ ! -e "$out/b-ready" ] && kill -0 $bpid 2>/dev/null; do
  runner/guestkit run -q -j 2 --db "$out/fleet.db" "$out/fleet.yaml" \
    >"$out/fleet.out" 2>&1 || { bad_runs=$((bad_runs + 1)); cp "$out/fleet.out" "$out/fleet.bad"; }
  runs=$((runs + 1))
done
tests/bin/cache-loop $rounds "$out/disk.img" >"$out/a.out" 2>"$out/a.err" & apid=$!
pids="$pids $apid"
if [ $runs -gt 0 ] && [ $bad_runs = 0 ] && [ -e "$out/b-ready" ]; then
  pass cache-fleet-while-building
else
  fail cache-fleet-while-building "$bad_runs of $runs runs not ok: $(tail -5 "$out/fleet.bad" 2>/dev/null | tr '\n' '|') $(tail -2 "$out/b.err")"
fi
wait $apid; arc=$?
wait $bpid; brc=$?
pids=""
if [ $arc = 0 ] && [ $brc = 0 ] && grep -qx "cache-loop: $rounds ok, 0 failed" "$out/a.out" &&
   grep -qx "cache-loop: $rounds ok, 0 failed" "$out/b.out"; then
  pass cache-two-trees
else
  fail cache-two-trees "A: $(cat "$out/a.out") $(head -3 "$out/a.err" | tr '\n' '|') B: $(cat "$out/b.out") $(head -3 "$out/b.err" | tr '\n' '|')"
fi
# Every appliance entry is still there (tree A's among them), plus B's.
entries >"$out/entries-after"
if [ -z "$(comm -23 "$out/entries-before" "$out/entries-after")" ] &&
   [ "$(comm -13 "$out/entries-before" "$out/entries-after" | wc -l)" = 1 ]; then
  pass cache-both-kept
else
  fail cache-both-kept "before: $(tr '\n' ' ' <"$out/entries-before") after: $(tr '\n' ' ' <"$out/entries-after")"
fi

# ---- in use, while a handle is open (a shell that has launched) ----
mkfifo "$out/cmds"
runner/guestkit shell --ro -a "$out/disk.img" <"$out/cmds" >"$out/shell.out" 2>&1 &
spid=$!; pids="$pids $spid"
exec 7>"$out/cmds"
echo "run" >&7
for i in $(seq 600); do      # until launched: both its entries in use
  runner/guestkit cache >"$out/list" 2>&1
  [ "$(grep -cE '^(appliance|snapshot) .* yes ' "$out/list")" = 2 ] && break
  kill -0 $spid 2>/dev/null || break
  sleep 0.2
done
inuse=$(grep -cE '^(appliance|snapshot) .* yes ' "$out/list")
aapp=$(grep -E '^appliance .* yes ' "$out/list" | awk '{print $NF}')
if [ "$inuse" = 2 ] && [ -n "$aapp" ] && grep -qE '^appliance .* no ' "$out/list"; then
  pass cache-list-in-use
else
  fail cache-list-in-use "$(tr '\n' '|' <"$out/list") shell: $(tail -2 "$out/shell.out")"
fi
runner/guestkit cache --clear >"$out/clear" 2>&1
runner/guestkit cache >"$out/list2" 2>&1
if grep -qE '^removed [1-9]' "$out/clear" && [ -n "$aapp" ] && [ -f "$aapp/root" ] &&
   [ "$(grep -cE '^(appliance|snapshot) ' "$out/list2")" = 2 ]; then
  pass cache-clear-spares-in-use
else
  fail cache-clear-spares-in-use "$(cat "$out/clear") $(tr '\n' '|' <"$out/list2")"
fi
echo "list-devices" >&7; exec 7>&-
wait $spid; src_rc=$?; pids=""
runner/guestkit cache >"$out/list3" 2>&1
if [ $src_rc = 0 ] && ! grep -qE ' yes ' "$out/list3" && grep -qE '^appliance .* no ' "$out/list3"; then
  pass cache-not-in-use-after-close
else
  fail cache-not-in-use-after-close "shell exit $src_rc: $(tr '\n' '|' <"$out/list3")"
fi

# ---- entries deleted by hand ----
rm -f "$GUESTKIT_CACHEDIR"/snapshot-*
tests/bin/cache-loop 1 "$out/disk.img" >"$out/s.out" 2>"$out/s.err" &&
  ls "$GUESTKIT_CACHEDIR"/snapshot-* >/dev/null 2>&1 &&
  pass cache-snapshot-deleted || fail cache-snapshot-deleted "$(cat "$out/s.out" "$out/s.err" | tail -3)"

# The first qemu started removes the appliance it is given (as a user's
# rm -rf would, just after the launch chose the entry).
cat >"$out/qemu-wrap" <<EOF
#!/bin/sh
if mkdir "$out/wrap-once" 2>/dev/null; then
  rm -rf "$aapp"
fi
exec qemu-system-x86_64 "\$@"
EOF
chmod +x "$out/qemu-wrap"
before=$(stat -c %i "$aapp" 2>/dev/null)
LIBGUESTFS_QEMU=$out/qemu-wrap tests/bin/cache-loop 1 "$out/disk.img" >"$out/v.out" 2>"$out/v.err"
vrc=$?
# qemu now gets the appliance's files as fds opened before it starts, so
# a wrapper can no longer stage a removal between the check and qemu's
# open; the rebuild of an entry deleted by hand is checked above.
if [ $vrc = 0 ]; then
  echo "SKIP: cache-appliance-vanished: the appliance reaches qemu as fds, so removing it as qemu starts cannot be staged"
else
  fail cache-appliance-vanished "exit $vrc: $(tail -3 "$out/v.err" | tr '\n' '|')"
fi
exit $rc
