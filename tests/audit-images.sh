# tests/audit-images.sh: sourced by the audit tests.  Disk images that
# hold real Debian 12 files, for the checks and the inventory step:
#
#   audit_sources DIR   put the real files in DIR: from `make base's tree
#                       (/var/tmp/guestkit-base/bookworm-*.tar) when it is
#                       there, else from this host (Debian 12: dpkg status,
#                       os-release, passwd, group) and openssh-server's
#                       package (its default sshd_config), fetched once
#                       from the mirror into /var/tmp/gk-audit-debs.
#                       1 with a reason on stderr when neither works.
#   audit_image OUT VARIANT HOSTNAME DIR
#                       a 64 MiB raw image, ext4 on /dev/sda1, made with
#                       guestkit shell.  VARIANT good: the files as Debian
#                       ships them plus PermitRootLogin no and
#                       PasswordAuthentication no, /etc/shadow 0640 root:shadow;
#                       bad: PermitRootLogin yes, PasswordAuthentication yes,
#                       /etc/shadow 0644 root:root, a world-writable file in
#                       /etc/cron.d, /root/.ssh/authorized_keys, Debian 10 in
#                       os-release, openssh-server 1:9.2p1-2+deb12u3; and
#                       hostile strings: PRETTY_NAME holds <script> and an
#                       OSC escape, the world-writable file's name an ESC
#                       sequence and an <img onerror> tag, /etc/motd a
#                       <script> tag and terminal escapes.
audit_sources() {
  local dir=$1 tar deb
  mkdir -p "$dir/etc/ssh" "$dir/var/lib/dpkg"
  tar=$(ls -t /var/tmp/guestkit-base/bookworm-*.tar 2>/dev/null | head -1)
  if [ -n "$tar" ] && tar -xf "$tar" -C "$dir" ./etc/os-release ./etc/debian_version \
       ./etc/passwd ./etc/group ./etc/ssh/sshd_config ./var/lib/dpkg/status 2>/dev/null; then
    [ -L "$dir/etc/os-release" ] &&
      tar -xf "$tar" -C "$dir" ./usr/lib/os-release && cp --remove-destination "$dir/usr/lib/os-release" "$dir/etc/os-release"
    echo "$tar" >"$dir/SOURCE"; return 0
  fi
  grep -q '^VERSION_ID="12"' /etc/os-release 2>/dev/null || {
    echo "no base tree (make base) and the host is not Debian 12" >&2; return 1; }
  cp /etc/debian_version /etc/passwd /etc/group "$dir/etc/" &&
    cp -L /etc/os-release "$dir/etc/os-release" &&
    cp /var/lib/dpkg/status "$dir/var/lib/dpkg/status" || return 1
  mkdir -p /var/tmp/gk-audit-debs
  deb=$(ls /var/tmp/gk-audit-debs/openssh-server_*.deb 2>/dev/null | head -1)
  if [ -z "$deb" ]; then
    (cd /var/tmp/gk-audit-debs && timeout 120 apt-get download -q openssh-server >/dev/null 2>&1)
    deb=$(ls /var/tmp/gk-audit-debs/openssh-server_*.deb 2>/dev/null | head -1)
  fi
  [ -n "$deb" ] || { echo "no base tree (make base) and openssh-server cannot be fetched from the mirror" >&2; return 1; }
  dpkg-deb -x "$deb" "$dir/deb" && cp "$dir/deb/usr/share/openssh/sshd_config" "$dir/etc/ssh/sshd_config" || return 1
  # This host does not run sshd: say in dpkg's status that the image does.
  printf '\nPackage: openssh-server\nStatus: install ok installed\nPriority: optional\nSection: net\nArchitecture: amd64\nVersion: 1:9.2p1-2+deb12u5\nDescription: secure shell (SSH) server\n' \
    >>"$dir/var/lib/dpkg/status"
  echo "host + $(basename "$deb")" >"$dir/SOURCE"
}

audit_image() {
  local out=$1 variant=$2 host=$3 dir=$4 w=$1.d
  rm -rf "$w"; mkdir -p "$w"
  cp "$dir/etc/ssh/sshd_config" "$w/sshd_config"
  cp "$dir/etc/os-release" "$w/os-release"; cp "$dir/etc/debian_version" "$w/debian_version"
  # openssh-server at the version the variant wants, whatever the source had.
  awk -v v="$([ "$variant" = bad ] && echo 1:9.2p1-2+deb12u3 || echo 1:9.2p1-2+deb12u5)" '
    /^Package: / { p = ($2 == "openssh-server") } p && /^Version: / { $0 = "Version: " v } { print }' \
    "$dir/var/lib/dpkg/status" >"$w/status"
  printf '%s\n' "$host" >"$w/hostname"
  printf 'root:*:19700:0:99999:7:::\nsshd:*:19700:0:99999:7:::\n' >"$w/shadow"
  if [ "$variant" = bad ]; then
    printf 'PermitRootLogin yes\nPasswordAuthentication yes\n' >>"$w/sshd_config"
    sed -i 's/^VERSION_ID=.*/VERSION_ID="10"/; s/^VERSION=.*/VERSION="10 (buster)"/' "$w/os-release"
    sed -i "s/^PRETTY_NAME=.*/PRETTY_NAME=\"Debian <script>alert(1)<\/script> $(printf '\033]0;pwned\007')\"/" "$w/os-release"
    echo 10.13 >"$w/debian_version"
  else
    printf 'PermitRootLogin no\nPasswordAuthentication no\n' >>"$w/sshd_config"
  fi
  truncate -s 64M "$out.tmp"
  cat >"$w/script" <<GK
part-disk /dev/sda mbr
mkfs ext4 /dev/sda1
mount /dev/sda1 /
mkdir-p /etc/ssh
mkdir-p /etc/cron.d
mkdir-p /var/lib/dpkg
mkdir-p /root
upload $w/hostname /etc/hostname
upload $w/os-release /etc/os-release
upload $w/debian_version /etc/debian_version
upload $dir/etc/passwd /etc/passwd
upload $dir/etc/group /etc/group
upload $w/sshd_config /etc/ssh/sshd_config
upload $w/status /var/lib/dpkg/status
upload $w/shadow /etc/shadow
write-file /etc/fstab "/dev/sda1 / ext4 errors=remount-ro 0 1\n" 0
GK
  if [ "$variant" = bad ]; then
    cat >>"$w/script" <<GK
chmod 0644 /etc/shadow
write-file /etc/motd "Welcome <script>alert(2)</script> \e[2J\e]0;pwned\a\n" 0
write-file "/etc/cron.d/\e[31m<img src=x onerror=alert(1)>" "* * * * * root /tmp/x\n" 0
chmod 0666 "/etc/cron.d/\e[31m<img src=x onerror=alert(1)>"
mkdir-p /root/.ssh
write-file /root/.ssh/authorized_keys "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests attacker\n" 0
GK
  else
    echo 'write-file /etc/motd "Welcome\n" 0' >>"$w/script"
    echo "chmod 0640 /etc/shadow" >>"$w/script"
    echo "chown 0 42 /etc/shadow" >>"$w/script"
  fi
  runner/guestkit shell -a "$out.tmp" -f "$w/script" >"$w/log" 2>&1 || {
    echo "making $out: $(tail -3 "$w/log")" >&2; rm -f "$out.tmp"; return 1; }
  mv "$out.tmp" "$out"; rm -rf "$w"
}
