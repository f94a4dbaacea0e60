#!/bin/bash
# tests/mount-concurrent.sh: several readers at once on one `guestkit
# mount' (FUSE serves them in several threads, on one handle): md5sum of
# the big files, cat of the small ones, find and ls -lR together; each
# answer must equal the API's (checksum, find) and a lone reader's.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
export GUESTKIT_CACHEDIR=${GUESTKIT_CACHEDIR:-/var/tmp/gk-cache-$(id -u)}
out=tests/out/mount-concurrent-$$; mkdir -p "$out"
. tests/mount-fixture.sh
mnt=$out/mnt
cleanup() { mountpoint -q "$mnt" && mnt_stop "$mnt" >/dev/null; rm -rf "$out"; }
trap cleanup EXIT

[ -c /dev/fuse ] || { echo "SKIP: mount-concurrent: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: mount-concurrent: no fusermount3 (fuse3)"; exit 77; }
mnt_image "$out/img" || { echo "FAIL: mount-concurrent-image: $(tail -2 "$out/mk.err")"; exit 1; }
ok() { echo "PASS: $1"; }
bad() { echo "FAIL: $1: $2"; }

$G shell -a "$out/img" --ro -m /dev/sda1 checksum md5 /data/big1 : checksum md5 /data/big2 : \
  checksum md5 /data/bin.dat : find /data >"$out/api" 2>"$out/api.err" ||
  { echo "FAIL: mount-concurrent-api: $(tail -2 "$out/api.err")"; exit 1; }
want_sums=$(sed -n 1,3p "$out/api" | tr '\n' ' ')
sed -n '4,$p' "$out/api" | LC_ALL=C sort >"$out/find.api"

# Without the kernel's page cache between readers (direct_io), so every
# read of every reader reaches the appliance.
mnt_start "$out/img" "$mnt" -i -o direct_io || { echo "FAIL: mount-concurrent-start: $(tail -3 "$out/mount.err")"; exit 1; }
pids=
for i in 1 2 3 4; do
  ( s=$(md5sum <"$mnt/data/big1" | cut -d' ' -f1) t=$(md5sum <"$mnt/data/big2" | cut -d' ' -f1)
    u=$(md5sum <"$mnt/data/bin.dat" | cut -d' ' -f1); echo "$s $t $u " ) >"$out/sum$i" &
  pids="$pids $!"
done
for i in 1 2; do
  (cd "$mnt/data" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort) >"$out/find$i" &
  pids="$pids $!"
done
for i in 1 2; do
  for f in "$mnt"/data/tree/*/*; do cat "$f"; done >"$out/cat$i" &
  pids="$pids $!"
done
ls -lR "$mnt" >"$out/ls" 2>"$out/ls.err" & pids="$pids $!"
( for _ in $(seq 1 60); do sleep 1; done; kill $pids 2>/dev/null ) & guard=$!
wait $pids; kill "$guard" 2>/dev/null

bad_sums=0
for i in 1 2 3 4; do [ "$(cat "$out/sum$i")" = "$want_sums" ] || bad_sums=$((bad_sums + 1)); done
[ "$bad_sums" = 0 ] && ok mount-concurrent-md5 || bad mount-concurrent-md5 "$bad_sums of 4 readers got other bytes"
sed 's|^/data/||; /^\/data$/d' "$out/find.api" | LC_ALL=C sort >"$out/find.want"
if cmp -s "$out/find1" "$out/find.want" && cmp -s "$out/find2" "$out/find.want"; then ok mount-concurrent-find
else bad mount-concurrent-find "$(diff "$out/find1" "$out/find.want" | head -3 | tr '\n' '|')"; fi
for f in "$mnt"/data/tree/*/*; do cat "$f"; done >"$out/cat.alone"
if cmp -s "$out/cat1" "$out/cat.alone" && cmp -s "$out/cat2" "$out/cat.alone" &&
   [ "$(wc -l <"$out/cat.alone")" = 200 ]; then ok mount-concurrent-cat
else bad mount-concurrent-cat "readers disagree"; fi
[ -s "$out/ls" ] && [ ! -s "$out/ls.err" ] && ok mount-concurrent-ls-lR || bad mount-concurrent-ls-lR "$(head -2 "$out/ls.err")"
mnt_stop "$mnt"; rc=$?
[ "$rc" = 0 ] && ok mount-concurrent-unmount || bad mount-concurrent-unmount "exit $rc"
exit 0
