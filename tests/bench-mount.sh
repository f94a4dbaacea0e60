#!/bin/bash
# tests/bench-mount.sh: make bench, the figures of `guestkit mount'
# (issue 15), and guestmount's beside them when libguestfs is installed.
#  1. find MOUNTPOINT | wc -l on a fresh mount of the biggest image at
#     hand: a real Debian image from `make base''s tree when there is one
#     (the one tests/bench-audit.sh makes), else a synthetic tree of
#     10 000 files (100 directories of 100, cached under /var/tmp).
#     Target: <= 5 s on TCG.
#  2. cat of a 100 MiB file through the mount, MiB/s.  Target >= 100.
#  3. four readers at once (md5sum of four 25 MiB files, -o direct_io),
#     with FUSE's threads serialised on the handle (the default) and with
#     one FUSE thread (-s): how the two compare.
# Figures only; nothing is asserted.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
export GUESTKIT_CACHEDIR=${GUESTKIT_CACHEDIR:-/var/tmp/gk-cache-$(id -u)}
. tests/mount-fixture.sh
out=$(mktemp -d /var/tmp/gk-bench-mount.XXXXXX)
mnt=$out/mnt
trap 'mountpoint -q "$mnt" && fusermount3 -u "$mnt"; rm -rf "$out"' EXIT
if [ ! -c /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "  guestkit mount: skipped (no /dev/fuse or fusermount3)"; exit 0
fi
RECIPE=1                         # bump when the images below change
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }

# The tree image: Debian's if bench-audit made one, else synthetic.
tree=$(ls -t /var/tmp/gk-bench-audit-bookworm-*.img 2>/dev/null | head -1)
tree_what="a real Debian image ($(basename "$tree" 2>/dev/null))"
if [ -z "$tree" ]; then
  tree=/var/tmp/gk-bench-mount-tree-$RECIPE.img
  tree_what="a synthetic tree of 10 000 files (no Debian base image: make base, make bench)"
  if [ ! -s "$tree" ]; then
    t=$out/t; mkdir -p "$t"
    for d in $(seq -w 1 100); do
      mkdir "$t/d$d"; (cd "$t/d$d" && for f in $(seq -w 1 100); do echo "$d/$f" >"f$f"; done)
    done
    tar -C "$t" -cf "$out/t.tar" . && rm -rf "$t"
    truncate -s 512M "$tree.tmp"
    $G shell -a "$tree.tmp" part-disk /dev/sda mbr : mkfs ext4 /dev/sda1 : mount /dev/sda1 / : \
      tar-in "$out/t.tar" / >/dev/null 2>"$out/err" && mv "$tree.tmp" "$tree" ||
      { echo "  guestkit mount: cannot make $tree: $(tail -2 "$out/err")"; rm -f "$tree.tmp"; exit 0; }
    rm -f "$out/t.tar"
  fi
fi
# The big-file image: /big (100 MiB) and /q1../q4 (25 MiB each), random.
big=/var/tmp/gk-bench-mount-big-$RECIPE.img
if [ ! -s "$big" ]; then
  head -c 104857600 /dev/urandom >"$out/big"
  truncate -s 400M "$big.tmp"
  cmds=(part-disk /dev/sda mbr : mkfs ext4 /dev/sda1 : mount /dev/sda1 / : upload "$out/big" /big)
  for i in 1 2 3 4; do head -c 26214400 /dev/urandom >"$out/q$i"; cmds+=(: upload "$out/q$i" "/q$i"); done
  $G shell -a "$big.tmp" "${cmds[@]}" >/dev/null 2>"$out/err" && mv "$big.tmp" "$big" ||
    { echo "  guestkit mount: cannot make $big: $(tail -2 "$out/err")"; rm -f "$big.tmp"; exit 0; }
  rm -f "$out"/big "$out"/q?
fi
tree_dev=/dev/sda1

# start_ours IMG OPTION...; start_theirs IMG: mount on $mnt, 0 or 1.
start_ours() { mnt_start "$@" -m "$tree_dev" 2>/dev/null; }
stop_ours() { mnt_stop "$mnt" >/dev/null; }
start_theirs() {
  mkdir -p "$mnt"
  LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg \
    guestmount --format=raw -a "$1" -m "$tree_dev" --ro "$mnt" 2>"$out/gm.err"
}
stop_theirs() { fusermount3 -u "$mnt"; sleep 1; }

# find_time: seconds of find | wc -l on the mount, and the count.
find_time() { local a b n; a=$(now); n=$(find "$mnt" | wc -l); b=$(now); echo "$(secs "$a" "$b") $n"; }
# cat_rate: MiB/s of cat of /big.
cat_rate() { local a b; a=$(now); cat "$mnt/big" >/dev/null; b=$(now)
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", 100 / ((b - a) / 1e9) }'; }
# four_readers: seconds for four md5sums at once.
four_readers() { local a b r=(); a=$(now)
  for i in 1 2 3 4; do md5sum "$mnt/q$i" >/dev/null & r+=($!); done; wait "${r[@]}"; b=$(now); secs "$a" "$b"; }

start_ours "$tree" "$mnt" || { echo "  guestkit mount: cannot mount $tree"; exit 0; }
read -r fs fn < <(find_time); stop_ours
start_ours "$big" "$mnt" || { echo "  guestkit mount: cannot mount $big"; exit 0; }
rate=$(cat_rate); stop_ours
start_ours "$big" "$mnt" -o direct_io && { mt=$(four_readers); stop_ours; }
start_ours "$big" "$mnt" -o direct_io -s && { st=$(four_readers); stop_ours; }
echo "  guestkit mount, find | wc -l over $tree_what: $fs s for $fn names (target <= 5 s)"
echo "  guestkit mount, cat of a 100 MiB file: $rate MiB/s (target >= 100)"
echo "  guestkit mount, 4 readers of 25 MiB at once: $mt s with FUSE threads on one handle, $st s with one FUSE thread (-s)"

if command -v guestmount >/dev/null; then
  if start_theirs "$tree"; then
    read -r gs gn < <(find_time); stop_theirs
    echo "  guestmount, the same find: $gs s for $gn names (guestkit/guestmount time ratio $(awk -v a="$fs" -v b="$gs" 'BEGIN { printf "%.2f", a / b }'))"
  else echo "  guestmount: cannot mount $tree: $(tail -1 "$out/gm.err")"; fi
  if start_theirs "$big"; then
    grate=$(cat_rate); stop_theirs
    echo "  guestmount, the same cat: $grate MiB/s (guestkit/guestmount ratio $(awk -v a="$rate" -v b="$grate" 'BEGIN { printf "%.2f", a / b }'))"
  fi
else
  echo "  guestmount: not installed (libguestfs-tools), no comparison"
fi
