#!/bin/bash
# tests/mount-browse.sh: `guestkit mount' read-only, browsed with the
# host's own tools (ls -lR, find, stat, cat, cp -a, getfattr, df), each
# compared with what the API reports through `guestkit shell' (find,
# lstat, readlink, getxattrs, statvfs, tar-out) on the same image.
# Also: the errno of a few failures, and that the image is unchanged.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
export GUESTKIT_CACHEDIR=${GUESTKIT_CACHEDIR:-/var/tmp/gk-cache-$(id -u)}
out=tests/out/mount-browse-$$; mkdir -p "$out"
. tests/mount-fixture.sh
mnt=$out/mnt
cleanup() { mountpoint -q "$mnt" && mnt_stop "$mnt" >/dev/null; rm -rf "$out"; }
trap cleanup EXIT

[ -c /dev/fuse ] || { echo "SKIP: mount-browse: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: mount-browse: no fusermount3 (fuse3)"; exit 77; }
mnt_image "$out/img" || { echo "FAIL: mount-browse-image: $(tail -2 "$out/mk.err")"; exit 1; }
sum_before=$(md5sum <"$out/img")

ok() { echo "PASS: $1"; }
bad() { echo "FAIL: $1: $2"; }
# same NAME FILE1 FILE2
same() { if cmp -s "$2" "$3"; then ok "$1"; else bad "$1" "$(diff "$2" "$3" | head -5 | tr '\n' '|')"; fi; }
api() { $G shell -a "$out/img" --ro -m /dev/sda1 "$@"; }

mnt_start "$out/img" "$mnt" -i || { echo "FAIL: mount-browse-start: $(tail -3 "$out/mount.err")"; exit 1; }
ok mount-browse-start

# find: the same names as the API's find.
(cd "$mnt" && find . -mindepth 1 -printf '%P\n') | LC_ALL=C sort >"$out/find.mnt"
api find / | LC_ALL=C sort >"$out/find.api"
same mount-browse-find "$out/find.api" "$out/find.mnt"
n=$(wc -l <"$out/find.mnt")
[ "$n" -gt 200 ] && ok "mount-browse-find-count ($n names)" || bad mount-browse-find-count "only $n names"

# ls -lR runs through the whole tree with no error.
if ls -lR "$mnt" >"$out/ls" 2>"$out/ls.err" && [ ! -s "$out/ls.err" ] &&
   grep -q 'rel -> ../tree/a/1' "$out/ls"; then ok mount-browse-ls-lR
else bad mount-browse-ls-lR "$(head -3 "$out/ls.err")"; fi

# stat: each field the API's lstat has, for files of every kind.
paths="/data/tree/c/7 /data/bin.dat /data/empty /data/rel /data/dirlink /data/secret
  /data/shared /data/suid-id /data/dev/mynull /data/dev/fifo /data/hard2 /etc /"
cmds=()
for p in $paths; do
  read -r ino mode nlink uid gid size mtime < <(stat -c '%i %f %h %u %g %s %Y' "$mnt$p")
  printf 'ino: %s\nmode: %d\nnlink: %s\nuid: %s\ngid: %s\nsize: %s\nmtime: %s\n' \
    "$ino" "$((16#$mode))" "$nlink" "$uid" "$gid" "$size" "$mtime" >>"$out/stat.mnt"
  cmds+=(lstat "$p" :)
done
api "${cmds[@]}" echo | grep -E '^(ino|mode|nlink|uid|gid|size|mtime):' >"$out/stat.api"
same mount-browse-stat "$out/stat.api" "$out/stat.mnt"
if [ "$(stat -c '%t,%T' "$mnt/data/dev/mynull")" = "1,3" ]; then ok mount-browse-stat-rdev
else bad mount-browse-stat-rdev "$(stat -c '%t,%T' "$mnt/data/dev/mynull")"; fi

# Symlinks come back as links, with the guest's target text.
if [ "$(readlink "$mnt/data/abs")" = /etc/passwd ] && [ -L "$mnt/data/abs" ] &&
   [ "$(readlink "$mnt/data/dangling")" = /nonexistent ] &&
   [ "$(api readlink /data/rel)" = "$(readlink "$mnt/data/rel")" ]; then ok mount-browse-readlink
else bad mount-browse-readlink "abs=$(readlink "$mnt/data/abs")"; fi

# cat: text and binary, byte for byte.
if [ "$(cat "$mnt/etc/hostname")" = mounthost ] && [ "$(cat "$mnt/data/spa ce")" = space ] &&
   [ "$(cat "$mnt/data/ünï")" = unicode ] &&
   [ "$(md5sum <"$mnt/data/bin.dat" | cut -d' ' -f1)" = "$(api checksum md5 /data/bin.dat)" ] &&
   [ "$(md5sum <"$mnt/data/big1" | cut -d' ' -f1)" = "$(api checksum md5 /data/big1)" ]; then
  ok mount-browse-cat
else bad mount-browse-cat "contents differ"; fi
# Reads at offsets (dd skip): the same bytes as the API's pread.
dd if="$mnt/data/bin.dat" bs=1000 skip=77 count=3 status=none | od -An -tx1 >"$out/dd.mnt"
api pread /data/bin.dat 3000 77000 >"$out/pread.raw" 2>/dev/null
od -An -tx1 <"$out/pread.raw" | head -c "$(wc -c <"$out/dd.mnt")" >"$out/dd.api"
same mount-browse-read-offset "$out/dd.api" "$out/dd.mnt"

# cp -a to the host, against tar-out of the same tree through the API:
# names, types, modes, owners, sizes, link targets and contents.
cp -a "$mnt/data" "$out/copy" 2>"$out/cp.err" || bad mount-browse-cp-a "$(head -2 "$out/cp.err")"
api tar-out /data "$out/api.tar"
mkdir "$out/api" && tar --numeric-owner -xpf "$out/api.tar" -C "$out/api"
listing() { (cd "$1" && find . -printf '%P|%y|%m|%U|%G|%s|%l|%n|%TY-%Tm-%Td %TH:%TM\n' | LC_ALL=C sort); }
listing "$out/api" >"$out/cp.api"; listing "$out/copy" >"$out/cp.mnt"
same mount-browse-cp-a-metadata "$out/cp.api" "$out/cp.mnt"
if diff -r --no-dereference "$out/api" "$out/copy" >"$out/diff" 2>&1 ||
   ! grep -qv '^File .* is a \(character special file\|fifo\) while' "$out/diff"; then
  ok mount-browse-cp-a-contents
else bad mount-browse-cp-a-contents "$(head -3 "$out/diff" | tr '\n' '|')"; fi
rm -rf "$out/copy" "$out/api" "$out/api.tar"

# xattrs: getfattr through the mount, getxattrs through the API.
if command -v getfattr >/dev/null; then
  if [ "$(getfattr -n user.color --only-values "$mnt/data/tree/a/1" 2>/dev/null)" = blue ] &&
     getfattr -d "$mnt/data/tree/a/1" 2>/dev/null | grep -q '^user.color="blue"' &&
     api getxattrs /data/tree/a/1 | grep -q 'attrval: blue' &&
     ! getfattr -n user.color "$mnt/data/tree/a/2" 2>/dev/null; then ok mount-browse-xattrs
  else bad mount-browse-xattrs "$(getfattr -d "$mnt/data/tree/a/1" 2>&1 | head -3)"; fi
else echo "SKIP: mount-browse-xattrs: no getfattr (attr)"; fi

# statfs: df's block count is the API's statvfs.
if [ "$(stat -f -c '%b %f %c' "$mnt")" = "$(api statvfs / | awk '/^blocks:/{b=$2} /^bfree:/{f=$2} /^files:/{n=$2} END{print b, f, n}')" ]; then
  ok mount-browse-statfs
else bad mount-browse-statfs "$(stat -f -c '%b %f %c' "$mnt")"; fi

# errno of failures, as the host tools show them.
errof() { "$@" 2>&1 >/dev/null | sed 's/.*: //'; }
e1=$(errof stat "$mnt/data/nope"); e2=$(errof cat "$mnt/etc/hostname/x"); e3=$(errof cat "$mnt/etc")
if [ "$e1" = "No such file or directory" ] && [ "$e2" = "Not a directory" ] && [ "$e3" = "Is a directory" ]; then
  ok mount-browse-errno
else bad mount-browse-errno "'$e1' '$e2' '$e3'"; fi
e4=$(errof sh -c "echo x > '$mnt/data/new'"); e5=$(errof mkdir "$mnt/data/d"); e6=$(errof rm "$mnt/data/empty")
if [ "$e4" = "Read-only file system" ] && [ "$e5" = "Read-only file system" ] &&
   [ "$e6" = "Read-only file system" ] && [ -e "$mnt/data/empty" ]; then ok mount-browse-erofs
else bad mount-browse-erofs "'$e4' '$e5' '$e6'"; fi

mnt_stop "$mnt"; rc=$?
[ "$rc" = 0 ] && ok mount-browse-unmount || bad mount-browse-unmount "guestkit mount exited $rc"
grep -q " $(realpath "$mnt" 2>/dev/null) " /proc/mounts && bad mount-browse-unmounted "still in /proc/mounts"
[ "$(md5sum <"$out/img")" = "$sum_before" ] && ok mount-browse-image-unchanged ||
  bad mount-browse-image-unchanged "the image changed under a read-only mount"

# Bad usage: exit 2 with a message, nothing mounted.
$G mount -a "$out/img" "$mnt" 2>"$out/u.err"; r1=$?
$G mount -a "$out/img" -i "$out/nodir" 2>"$out/u2.err"; r2=$?
$G mount -a "$out/img" -i -o suid "$mnt" 2>"$out/u3.err"; r3=$?
$G mount -a "$out/img" --format qcow2 -i "$out/nodir" 2>"$out/u4.err"; r4=$?   # never mounts
if [ "$r1" = 2 ] && [ "$r2" = 2 ] && [ "$r3" = 2 ] && [ "$r4" = 2 ] &&
   grep -q 'one of -i or -m' "$out/u.err" && grep -q 'nodir' "$out/u2.err" &&
   grep -q 'suid: not allowed' "$out/u3.err" &&
   grep -q 'mount: --format qcow2: no -a IMG follows it' "$out/u4.err"; then ok mount-browse-usage
else bad mount-browse-usage "$r1 $r2 $r3 $r4: $(cat "$out/u.err" "$out/u2.err" "$out/u3.err" "$out/u4.err" | tr '\n' '|')"; fi
exit 0
