#!/bin/bash
# tests/steps-fixture.sh: print the path of a small Debian 12 disk image
# for the step tests, making it first if needed.
#
# Until `make base` (the templated-build issue) provides a full Debian
# tree, this is a small one made of real Debian files: the host's own
# useradd/usermod/dpkg (with their libraries), tzdata, login.defs and skel,
# /etc/ssh/sshd_config from Debian's openssh-server package (downloaded
# once with apt-get), a real /var/lib/dpkg/status, and account files of
# its own.  One ext4 partition, made with mkfs.ext4 -d (no mount).
# Cached under /var/tmp, keyed by this script and the host's package
# versions; made under a temp name and renamed into place.
# Exit 77 (with the reason) when it cannot be made.
set -eu
cd "$(dirname "$0")/.."
pkgs="passwd dpkg tzdata login base-files libc6"
key=$( (cat "$0"; dpkg-query -W $pkgs 2>/dev/null) | sha256sum | cut -c1-16)
dir=/var/tmp/gk-steps-fixture
img=$dir/debian-$key.img
[ -s "$img" ] && { echo "$img"; exit 0; }
mkdir -p "$dir"
exec 9>"$dir/.lock"; flock 9
[ -s "$img" ] && { echo "$img"; exit 0; }
work=$(mktemp -d "$dir/.work-XXXXXX"); trap 'rm -rf "$work"' EXIT
t=$work/root
mkdir -p $t/{etc/ssh,etc/default,etc/skel,var/lib/dpkg/info,var/lib/dpkg/updates,tmp,root,home,usr/share/zoneinfo,usr/bin,usr/sbin,proc,sys,dev,run}
chmod 1777 $t/tmp

# openssh-server's sshd_config (Debian ships it in /usr/share/openssh).
deb=$(ls $dir/openssh-server_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
  (cd "$dir" && apt-get download -q openssh-server >/dev/null 2>"$work/apt.err") ||
    { echo "cannot download openssh-server: $(tail -1 "$work/apt.err")" >&2; exit 77; }
  deb=$(ls $dir/openssh-server_*.deb | head -1)
fi
dpkg-deb -x "$deb" "$work/ssh"
cp "$work/ssh/usr/share/openssh/sshd_config" $t/etc/ssh/sshd_config

# Programs the steps run in the guest, with their libraries.
progs="/bin/sh /bin/bash /usr/sbin/useradd /usr/sbin/usermod /usr/bin/dpkg
  /usr/bin/dpkg-deb /usr/bin/dpkg-query /usr/bin/tar /bin/rm /bin/cat /bin/ls
  /usr/bin/id /bin/mkdir /usr/bin/grep /usr/bin/env /usr/bin/chmod /usr/bin/cp
  /usr/bin/mv /usr/bin/find /usr/bin/sed /usr/bin/touch /usr/bin/diff
  /usr/sbin/ldconfig /usr/sbin/start-stop-daemon /usr/bin/dpkg-split
  /usr/bin/dpkg-divert /usr/bin/dpkg-trigger /usr/bin/dpkg-maintscript-helper"
for p in $progs; do
  r=$(readlink -f "$p"); mkdir -p "$t$(dirname "$r")"; cp -L "$r" "$t$r"
  [ "$r" = "$p" ] || { mkdir -p "$t$(dirname "$p")"; ln -sf "$r" "$t$p" 2>/dev/null || true; }
  ldd "$r" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$t$(dirname "$lib")"; cp -L "$lib" "$t$lib"
  done
done
ln -sf usr/bin $t/bin 2>/dev/null || true
ln -sf usr/sbin $t/sbin 2>/dev/null || true
ln -sf usr/lib $t/lib 2>/dev/null || true
ln -sf usr/lib64 $t/lib64 2>/dev/null || true

cp /etc/login.defs /etc/os-release /etc/debian_version $t/etc/
cp -a /etc/skel/. $t/etc/skel/
cp /etc/default/useradd $t/etc/default/ 2>/dev/null || true
cp -a /usr/share/zoneinfo/Europe /usr/share/zoneinfo/UTC /usr/share/zoneinfo/Etc $t/usr/share/zoneinfo/
ln -sf /usr/share/zoneinfo/Etc/UTC $t/etc/localtime
echo Etc/UTC > $t/etc/timezone
printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' > $t/etc/passwd
printf 'root:x:0:\ndaemon:x:1:\nshadow:x:42:\nsudo:x:27:\nusers:x:100:\nnogroup:x:65534:\n' > $t/etc/group
printf 'root:*:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\nnobody:*:19700:0:99999:7:::\n' > $t/etc/shadow
printf 'root:*::\ndaemon:*::\nshadow:*::\nsudo:*::\nusers:*::\nnogroup:*::\n' > $t/etc/gshadow
chmod 0644 $t/etc/shadow      # wrong on purpose: the patch job fixes it
chmod 0640 $t/etc/gshadow
echo fixture > $t/etc/hostname
printf '127.0.0.1\tlocalhost\n127.0.1.1\tfixture\n' > $t/etc/hosts
echo 'Debian GNU/Linux 12' > $t/etc/issue.net
echo '/dev/sda1 / ext4 defaults 0 1' > $t/etc/fstab
# A real dpkg status: the host's entries for a few packages.
dpkg-query -s $pkgs > $t/var/lib/dpkg/status
for f in available diversions statoverride; do : > $t/var/lib/dpkg/$f; done

tmp=$work/img
truncate -s 96M "$tmp"
echo 'start=2048, type=83' | sfdisk -q "$tmp" >/dev/null
mkfs.ext4 -q -F -L fixture -d $t -E offset=$((2048 * 512)) "$tmp" $(( (96 * 1024 - 1024) ))k
mv "$tmp" "$img"
echo "$img"
