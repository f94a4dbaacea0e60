#!/bin/bash
# tests/mount-safety.sh: what a hostile image cannot do through `guestkit
# mount': the mount is nodev,nosuid (in /proc/mounts), and not
# allow_other unless -o asks; a guest device node is shown with its
# numbers but cannot be opened; a setuid binary runs without its owner's
# uid; a symlink is a link (its guest text), not what it points to.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
export GUESTKIT_CACHEDIR=${GUESTKIT_CACHEDIR:-/var/tmp/gk-cache-$(id -u)}
out=tests/out/mount-safety-$$; mkdir -p "$out"
. tests/mount-fixture.sh
mnt=$out/mnt
cleanup() { mountpoint -q "$mnt" && mnt_stop "$mnt" >/dev/null; rm -rf "$out"; }
trap cleanup EXIT

[ -c /dev/fuse ] || { echo "SKIP: mount-safety: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "SKIP: mount-safety: no fusermount3 (fuse3)"; exit 77; }
mnt_image "$out/img" || { echo "FAIL: mount-safety-image: $(tail -2 "$out/mk.err")"; exit 1; }
ok() { echo "PASS: $1"; }
bad() { echo "FAIL: $1: $2"; }
opts() { grep " $(realpath "$mnt") fuse.guestkit " /proc/mounts | cut -d' ' -f4; }

# Control: the same binary copied out to the host's disk does take its
# owner's uid, so the check below can tell nosuid from a no-op.
mnt_start "$out/img" "$mnt" -i && cp -a "$mnt/data/suid-id" "$out/suid-copy" && mnt_stop "$mnt"
control=$("$out/suid-copy" -u 2>/dev/null)

for mode in --ro --rw; do
  mnt_start "$out/img" "$mnt" -i $mode || { echo "FAIL: mount-safety-start$mode: $(tail -3 "$out/mount.err")"; exit 1; }
  o=$(opts)
  case ",$o," in
    *,nodev,*) case ",$o," in *,nosuid,*) ok "mount-safety-nodev-nosuid$mode ($o)" ;;
                 *) bad "mount-safety-nodev-nosuid$mode" "$o" ;; esac ;;
    *) bad "mount-safety-nodev-nosuid$mode" "$o" ;;
  esac
  case ",$o," in *allow_other*) bad "mount-safety-no-allow-other$mode" "$o" ;;
    *) ok "mount-safety-no-allow-other$mode" ;; esac

  # The device: a character device 1,3 (the guest's /dev/null numbers),
  # which the host will not open (nodev: EACCES), neither to read nor to write.
  f=$mnt/data/dev/mynull
  if [ -c "$f" ] && [ "$(stat -c '%t,%T' "$f")" = 1,3 ] &&
     ! (exec 3<"$f") 2>"$out/dev.err" && grep -q "Permission denied" "$out/dev.err" &&
     ! (exec 3>"$f") 2>/dev/null; then ok "mount-safety-device$mode"
  else bad "mount-safety-device$mode" "$(ls -l "$f"; cat "$out/dev.err")"; fi

  # The setuid binary (the host's id, owned by 1234, mode 4755): its
  # bits are shown, and it runs as us, not as 1234.
  s=$mnt/data/suid-id
  if [ "$control" != 1234 ]; then
    echo "SKIP: mount-safety-setuid$mode: setuid has no effect in $out either (uid '$control')"
  elif [ "$(stat -c '%a %u' "$s")" = "4755 1234" ] && [ "$("$s" -u)" = "$(id -u)" ]; then
    ok "mount-safety-setuid$mode"
  else bad "mount-safety-setuid$mode" "$(stat -c '%a %u' "$s"), runs as $("$s" -u)"; fi

  # A symlink to a host-looking path is a link with the guest's text.
  if [ "$(stat -c %F "$mnt/data/abs")" = "symbolic link" ] &&
     [ "$(readlink "$mnt/data/abs")" = /etc/passwd ] &&
     [ "$(find "$mnt/data" -maxdepth 1 -name abs -type l)" = "$mnt/data/abs" ]; then
    ok "mount-safety-symlink$mode"
  else bad "mount-safety-symlink$mode" "$(ls -l "$mnt/data/abs")"; fi
  mnt_stop "$mnt" || bad "mount-safety-unmount$mode" "exit $?"
done

# allow_other only when asked for.
if mnt_start "$out/img" "$mnt" -i -o allow_other; then
  case ",$(opts)," in *,allow_other,*|*default_permissions*allow_other*) ok mount-safety-allow-other-asked ;;
    *) bad mount-safety-allow-other-asked "$(opts)" ;; esac
  mnt_stop "$mnt"
elif grep -q "user_allow_other" "$out/mount.err"; then
  echo "SKIP: mount-safety-allow-other-asked: /etc/fuse.conf has no user_allow_other"
else bad mount-safety-allow-other-asked "$(tail -2 "$out/mount.err")"; fi
exit 0
