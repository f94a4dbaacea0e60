#!/bin/bash
# tests/mount-write.sh: `guestkit mount --rw': changes made with host tools
# (echo, append, dd at an offset, cp of a binary, mkdir, rmdir, rm, mv,
# ln -s, ln, chmod, chown, truncate, touch -d), errors with their errno,
# then unmount, and a fresh appliance (guestkit shell) sees every change.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
export GUESTKIT_CACHEDIR=${GUESTKIT_CACHEDIR:-/var/tmp/gk-cache-$(id -u)}
out=tests/out/mount-write-$$; mkdir -p "$out"
. tests/mount-fixture.sh
mnt=$out/mnt
cleanup() { mountpoint -q "$mnt" && mnt_stop "$mnt" >/dev/null; rm -rf "$out"; }
trap cleanup EXIT

[ -c /dev/fuse ] || { echo "SKIP: mount-write: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: mount-write: no fusermount3 (fuse3)"; exit 77; }
mnt_image "$out/img" || { echo "FAIL: mount-write-image: $(tail -2 "$out/mk.err")"; exit 1; }

ok() { echo "PASS: $1"; }
bad() { echo "FAIL: $1: $2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name" "$*"; fi; }
errof() { "$@" 2>&1 >/dev/null | sed 's/.*: //'; }

mnt_start "$out/img" "$mnt" -m /dev/sda1 --rw || { echo "FAIL: mount-write-start: $(tail -3 "$out/mount.err")"; exit 1; }
grep " $(realpath "$mnt") " /proc/mounts | grep -q ' rw,' && ok mount-write-start-rw ||
  bad mount-write-start-rw "$(grep " $(realpath "$mnt") " /proc/mounts)"

d=$mnt/data
head -c 200000 /dev/urandom >"$out/blob"
echo hello >"$d/new.txt"
echo more >>"$d/new.txt"
printf 'XYZ' | dd of="$d/tree/b/1" bs=1 seek=2 conv=notrunc status=none
cp "$out/blob" "$d/blob"
mkdir "$d/newdir" && echo inside >"$d/newdir/f"
mkdir "$d/gone" && rmdir "$d/gone"
rm "$d/tree/c/1"
mv "$d/tree/c/2" "$d/renamed"
mv "$d/tree/c/3" "$d/tree/c/4"            # over an existing file
# rename(2) itself, not mv(1), which moves into a directory.
rename() { python3 -c 'import os, sys
try: os.rename(sys.argv[1], sys.argv[2])
except OSError as e: print(os.strerror(e.errno), file=sys.stderr); sys.exit(1)' "$@"; }
mkdir "$d/emptydir" && rename "$d/newdir" "$d/emptydir"   # a directory over an empty one
ln -s ../etc/hostname "$d/newlink"
ln "$d/tree/d/1" "$d/newhard"
chmod 0640 "$d/tree/d/2"
chown 4321:77 "$d/tree/d/3"
truncate -s 3 "$d/tree/d/4"
truncate -s 100000 "$d/tree/d/5"
touch -d '2001-02-03 04:05:06' "$d/tree/d/6"

# What the mount shows at once (the caches forgot what changed).
check mount-write-read-back [ "$(cat "$d/new.txt")" = "$(printf 'hello\nmore')" ]
check mount-write-dd-offset [ "$(cat "$d/tree/b/1")" = "fiXYZb/1" ]
check mount-write-binary cmp -s "$out/blob" "$d/blob"
check mount-write-stat-after [ "$(stat -c '%a %u %g' "$d/tree/d/2" "$d/tree/d/3" | tr '\n' ' ')" = "640 0 0 644 4321 77 " ]
check mount-write-listing [ "$(ls "$d/tree/c" | wc -l)" = 37 ]
# A write through one descriptor is read back through it and another
# open one, both of which had read the old bytes (no stale read-ahead).
got=$(python3 -c 'import os, sys
a = os.open(sys.argv[1], os.O_RDWR); b = os.open(sys.argv[1], os.O_RDONLY)
os.pread(a, 8, 0); os.pread(b, 8, 0); os.pwrite(a, b"ZZ", 0)
print(os.pread(a, 4, 0).decode(), os.pread(b, 4, 0).decode())' "$d/tree/e/1")
check mount-write-read-after-write [ "$got" = "ZZle ZZle" ]

# Errors, each with the errno the host tools expect.
e1=$(errof mkdir "$d/tree"); e2=$(errof rmdir "$d/tree"); e3=$(errof rm "$d/nope")
e4=$(errof rmdir "$d/empty"); e5=$(rename "$d/empty" "$d/shared" 2>&1)
e7=$(rename "$d/shared" "$d/tree" 2>&1); e8=$(rename "$d/shared" "$d/empty" 2>&1)
e6=$(errof ln "$d/nope" "$d/x")
if [ "$e1" = "File exists" ] && [ "$e2" = "Directory not empty" ] &&
   [ "$e3" = "No such file or directory" ] && [ "$e4" = "Not a directory" ] &&
   [ "$e5" = "Is a directory" ] && [ "$e6" = "No such file or directory" ] &&
   [ "$e7" = "Directory not empty" ] && [ "$e8" = "Not a directory" ] &&
   [ -f "$d/empty" ] && [ -d "$d/tree/a" ]; then ok mount-write-errno
else bad mount-write-errno "'$e1' '$e2' '$e3' '$e4' '$e5' '$e6' '$e7' '$e8'"; fi

# Ctrl-C: the mount goes away and the changes are flushed to the image.
mnt_interrupt "$mnt"; rc=$?
check mount-write-unmount-ctrl-c [ "$rc" = 0 ]
check mount-write-unmounted [ -z "$(grep " $(realpath "$mnt") " /proc/mounts)" ]

# A fresh appliance on the image: every change is there.  Each answer
# goes after a marker line @N; sec N prints answer N.
q=("cat /data/new.txt" "checksum md5 /data/blob" "is-dir /data/gone" "exists /data/tree/c/1"
   "cat /data/renamed" "cat /data/tree/c/4" "exists /data/tree/c/3" "cat /data/emptydir/f"
   "readlink /data/newlink" "lstat /data/newhard" "lstat /data/tree/d/1" "lstat /data/tree/d/2"
   "lstat /data/tree/d/3" "lstat /data/tree/d/4" "lstat /data/tree/d/5" "lstat /data/tree/d/6"
   "cat /data/tree/b/1")
cmds=(); n=0
for c in "${q[@]}"; do
  n=$((n + 1)); read -r -a w <<<"$c"; cmds+=(echo "@$n" : "${w[@]}" :)
done
$G shell -a "$out/img" --ro -m /dev/sda1 "${cmds[@]}" echo @end >"$out/api" 2>"$out/api.err" ||
  bad mount-write-relaunch "$(tail -2 "$out/api.err")"
sec() { awk -v n="@$1" '/^@/{on = ($0 == n); next} on && NF' "$out/api" | tr '\n' '|'; }
field() { sec "$1" | tr '|' '\n' | sed -n "s/^$2: //p"; }
check mount-write-persisted-content [ "$(sec 1)$(sec 17)" = "hello|more|fiXYZb/1|" ]
check mount-write-persisted-binary [ "$(sec 2)" = "$(md5sum <"$out/blob" | cut -d' ' -f1)|" ]
check mount-write-persisted-names [ "$(sec 3)$(sec 4)$(sec 5)$(sec 6)$(sec 7)$(sec 8)" = "false|false|file c/2|file c/3|false|inside|" ]
check mount-write-persisted-symlink [ "$(sec 9)" = "../etc/hostname|" ]
check mount-write-persisted-hardlink [ "$(field 10 ino) $(field 10 nlink)" = "$(field 11 ino) 2" ]
check mount-write-persisted-chmod [ "$(field 12 mode)" = $((0100640)) ]
check mount-write-persisted-chown [ "$(field 13 uid):$(field 13 gid)" = 4321:77 ]
check mount-write-persisted-truncate [ "$(field 14 size) $(field 15 size)" = "3 100000" ]
check mount-write-persisted-utimens [ "$(field 16 mtime)" = "$(date -d '2001-02-03 04:05:06' +%s)" ]

# The shell passes a word's bytes as pwrite's BufferIn; the count comes back.
$G shell -a "$out/img" -m /dev/sda1 pwrite /data/empty "a b" 0 : pwrite /data/empty Z 5 : \
  pread /data/empty 10 0 >"$out/pw" 2>"$out/pw.err"
printf '3\n1\na b\0\0Z' >"$out/pw.want"
check mount-write-shell-pwrite cmp -s "$out/pw.want" "$out/pw"
$G shell -a "$out/img" -m /dev/sda1 pwrite /data/nope x 0 2>"$out/pw.err"; rc=$?
if [ "$rc" = 1 ] && grep -q "No such file" "$out/pw.err"; then ok mount-write-shell-pwrite-error
else bad mount-write-shell-pwrite-error "exit $rc: $(cat "$out/pw.err")"; fi
exit 0
