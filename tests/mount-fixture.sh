# tests/mount-fixture.sh: sourced by the tests/mount-*.sh tests of
# `guestkit mount'.  Needs $G (runner/guestkit) and $out (a scratch dir).
#
# mnt_image IMG: the sample image (tests/bin/make-sample-image) plus a
#   tree under /data, made on the host and unpacked with tar-in:
#   /data/tree/{a..e}/{1..40}  small text files
#   /data/bin.dat              300 KiB of random bytes
#   /data/empty, "spa ce", ünï  odd files and names
#   /data/rel, abs, dangling, dirlink  symlinks (../tree/a/1, /etc/passwd,
#                              /nonexistent, tree)
#   /data/hard1, hard2         one file, two names
#   /data/secret               0600, owner 1234:99
#   /data/shared               a 1777 directory owned 1000:1000
#   /data/suid-id              the host's id(1), owner 1234, mode 4755
#   /data/dev/mynull, fifo     a character device (1,3) and a fifo
#   /data/big1, big2           8 MiB random files
#   xattr user.color=blue on /data/tree/a/1
# mnt_start IMG MNT OPTION...: start guestkit mount in the background and
#   wait (60 s at most) until MNT is mounted; MNT_PID is its pid.
# mnt_stop MNT: fusermount3 -u, then wait (30 s at most) for the process;
#   its exit status, or 124 if it had to be killed.
# mnt_interrupt MNT: the same after SIGINT (Ctrl-C) instead.
# mnt_qemu_pid PID: the qemu process below PID, or nothing.

mnt_image() {
  local img=$1 t=$out/tree
  tests/bin/make-sample-image "$img" 128 mounthost 2>"$out/mk.err" || return 1
  rm -rf "$t"; mkdir -p "$t/data/tree" "$t/data/dev" "$t/data/shared" || return 1
  for d in a b c d e; do
    mkdir "$t/data/tree/$d"
    for i in $(seq 1 40); do echo "file $d/$i" >"$t/data/tree/$d/$i"; done
  done
  head -c 307200 /dev/urandom >"$t/data/bin.dat"
  : >"$t/data/empty"; echo space >"$t/data/spa ce"; echo unicode >"$t/data/ünï"
  ln -s ../tree/a/1 "$t/data/rel"; ln -s /etc/passwd "$t/data/abs"
  ln -s /nonexistent "$t/data/dangling"; ln -s tree "$t/data/dirlink"
  echo linked >"$t/data/hard1"; ln "$t/data/hard1" "$t/data/hard2"
  echo secret >"$t/data/secret"; chmod 0600 "$t/data/secret"; chown 1234:99 "$t/data/secret"
  chown 1000:1000 "$t/data/shared"; chmod 1777 "$t/data/shared"
  cp /usr/bin/id "$t/data/suid-id"; chown 1234 "$t/data/suid-id"; chmod 4755 "$t/data/suid-id"
  mknod "$t/data/dev/mynull" c 1 3; mkfifo "$t/data/dev/fifo"
  head -c 8388608 /dev/urandom >"$t/data/big1"; head -c 8388608 /dev/urandom >"$t/data/big2"
  tar --numeric-owner -C "$t" -cf "$out/tree.tar" data || return 1
  rm -rf "$t"
  $G shell -a "$img" run : mount /dev/sda1 / : tar-in "$out/tree.tar" / : \
    setxattr user.color blue 4 /data/tree/a/1 >"$out/mk.out" 2>"$out/mk.err" || return 1
  rm -f "$out/tree.tar"
}

mnt_start() {
  local img=$1 mnt=$2; shift 2
  mkdir -p "$mnt"
  # Job control on while it starts: else bash starts a background job
  # with SIGINT ignored, and mnt_interrupt could not act as Ctrl-C does.
  set -m
  $G mount -a "$img" "$@" "$mnt" 2>"$out/mount.err" &
  MNT_PID=$!
  set +m
  for _ in $(seq 1 120); do
    grep -q " $(realpath "$mnt") fuse.guestkit " /proc/mounts && return 0
    kill -0 "$MNT_PID" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

mnt_stop() {
  local mnt=$1
  timeout 30 fusermount3 -u "$mnt" 2>/dev/null
  mnt_wait "$mnt"
}

# mnt_interrupt MNT: as Ctrl-C does (SIGINT), then as mnt_stop.
mnt_interrupt() {
  kill -INT "$MNT_PID"
  mnt_wait "$1"
}

mnt_wait() {
  local mnt=$1
  for _ in $(seq 1 60); do
    kill -0 "$MNT_PID" 2>/dev/null || { wait "$MNT_PID"; return $?; }
    sleep 0.5
  done
  kill -9 "$MNT_PID" 2>/dev/null; wait "$MNT_PID" 2>/dev/null
  timeout 10 fusermount3 -u -z "$mnt" 2>/dev/null
  return 124
}

mnt_qemu_pid() {
  local p kids
  for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    if grep -q qemu /proc/"$p"/comm 2>/dev/null; then echo "$p"; return; fi
    kids=$(mnt_qemu_pid "$p"); [ -n "$kids" ] && { echo "$kids"; return; }
  done
}
