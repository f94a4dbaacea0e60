#!/bin/bash
# tests/launch-guestd-client.sh: guestd's own wire-level client against a
# booted appliance, without the library: guestd/test/appliance-run.sh
# boots the appliance this tree's library uses (found from a launch's
# debug output) with a 64 MiB scratch disk, and guestd/test/client runs
# its device checks over the raw protocol (partitions, mkfs, mounts,
# read-only remounts, a symlink that points out of the guest tree,
# device upload and download, the appliance's own disk refused).
# quick-guestd.sh runs the same client with no VM, against a temp dir.
cd "$(dirname "$0")/.." || exit 1
out=tests/out/launch-guestd-client-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
name=guestd-client-appliance
if [ ! -x guestd/test/client ] || [ ! -x runner/guestkit ]; then
  echo "FAIL: $name: guestd/test/client or runner/guestkit is not built (make all)"; exit 1
fi
truncate -s 16M "$out/probe.img"
LIBGUESTFS_DEBUG=1 runner/guestkit shell -a "$out/probe.img" run >"$out/probe.log" 2>&1
app=$(grep -o '/[^ ,=]*/appliance-[0-9a-f]*' "$out/probe.log" | head -1)
# qemu now gets the kernel as an fd: the cache listing names the entry.
[ -n "$app" ] || app=$(runner/guestkit cache 2>/dev/null | grep -o '/[^ ]*/appliance-[0-9a-f]*' | head -1)
if [ -z "$app" ] || [ ! -f "$app/kernel" ] || [ ! -f "$app/root" ]; then
  echo "FAIL: $name: no appliance found in a launch's debug output: $(tail -2 "$out/probe.log")"
  exit 1
fi
guestd/test/appliance-run.sh "$app" guestd/test/client >"$out/run.out" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q ': 0 failure(s)' "$out/run.out"; then echo "PASS: $name"
else echo "FAIL: $name: exit $rc: $(grep -m5 FAIL "$out/run.out"; tail -2 "$out/run.out")"; exit 1; fi
