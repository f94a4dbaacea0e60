#!/bin/bash
# tests/test-tool.sh: `guestkit test-tool' on a real appliance.
#   - success: exit 0, the versions, accelerator, appliance and cache
#     lines, a cold and a warm launch with the library's timings, every
#     call ok, OK at the end; its private temp dir (under TMPDIR) removed;
#   - -v: the appliance console (the kernel's boot messages) on stderr;
#   - failures: GUESTKIT_ACCEL=bogus (the library refuses it) and a qemu
#     that exits at once (LIBGUESTFS_QEMU): exit 1, FAILED naming the
#     launch and the library's message, no temp dir left;
#   - SIGTERM during a launch: the temp dir is removed too;
#   - usage: --help exits 0, a bad option exits 2.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
out=$PWD/tests/out/test-tool-$$; mkdir -p "$out/tmp"; trap 'rm -rf "$out"' EXIT
pass () { echo "PASS: $1"; }
fail () { echo "FAIL: $1: $2"; }
empty_tmp () { [ -z "$(ls -A "$out/tmp")" ]; }

TMPDIR=$out/tmp $G test-tool >"$out/ok.out" 2>"$out/ok.err"; rc=$?
if [ $rc = 0 ] && [ "$(tail -1 "$out/ok.out")" = OK ]; then pass test-tool-ok
else fail test-tool-ok "exit $rc: $(tail -3 "$out/ok.out" "$out/ok.err" | tr '\n' ' ')"; fi
missing=
for re in '^  guestkit +[0-9]' '^  qemu +.*QEMU emulator version' '^  kernel +/' \
    '^  supermin +' '^  accelerator +(kvm|tcg)' '^  appliance +/' '^  cache +/' \
    '^launch 1 \(cold.*: [0-9.]+ s$' '^    qemu up in [0-9.]+ s \(cold boot' \
    '^launch [23] \(warm.*: [0-9.]+ s$' '^    launch timings: qemu start' \
    '^    in use: appliance /' '^  part_disk /dev/sda mbr +ok' '^  mkfs ext4 /dev/sda1 +ok' \
    '^  cat /test-tool.txt +ok .*\(the text written\)' '^  umount / +ok'; do
  grep -Eq "$re" "$out/ok.out" || missing="$missing [$re]"
done
if [ -z "$missing" ]; then pass test-tool-report
else fail test-tool-report "missing:$missing"; fi
# The cold launch boots the kernel; a warm one restores (a different path).
if grep -q '^launch 1 (cold' "$out/ok.out" && ! sed -n '/^launch 1/,/^launch 2/p' "$out/ok.out" |
     grep -q 'launch timings:'; then pass test-tool-cold-is-cold
else fail test-tool-cold-is-cold "$(sed -n '/^launch 1/,/^launch 2/p' "$out/ok.out" | head -5)"; fi
scratch=$(sed -n 's/^  scratch *\([^ ]*\) .*/\1/p' "$out/ok.out")
if [ -n "$scratch" ] && [ "${scratch#"$out/tmp/"}" != "$scratch" ] && empty_tmp; then
  pass test-tool-cleans-up
else fail test-tool-cleans-up "scratch '$scratch', left: $(ls -A "$out/tmp")"; fi
if [ ! -s "$out/ok.err" ]; then pass test-tool-quiet
else fail test-tool-quiet "stderr without -v: $(head -3 "$out/ok.err")"; fi

TMPDIR=$out/tmp $G test-tool -v >"$out/v.out" 2>"$out/v.err"; rc=$?
if [ $rc = 0 ] && grep -q 'Linux version' "$out/v.err" && grep -q '^guestkit: qemu command:' "$out/v.err" &&
   ! grep -q 'Linux version' "$out/ok.err"; then
  pass test-tool-verbose-console
else fail test-tool-verbose-console "exit $rc; stderr: $(head -c 300 "$out/v.err")"; fi

GUESTKIT_ACCEL=bogus TMPDIR=$out/tmp $G test-tool >"$out/bad.out" 2>&1; rc=$?
if [ $rc = 1 ] && grep -q '^  accelerator  none: GUESTKIT_ACCEL=bogus' "$out/bad.out" &&
   grep -q '^FAILED: launch 1 .*GUESTKIT_ACCEL=bogus: expected kvm, tcg or auto' "$out/bad.out" &&
   ! grep -qx OK "$out/bad.out" && empty_tmp; then
  pass test-tool-bad-accel
else fail test-tool-bad-accel "exit $rc: $(tail -3 "$out/bad.out" | tr '\n' ' ')"; fi

printf '#!/bin/sh\n[ "$1" = --version ] && { echo "broken qemu 0.0"; exit 0; }\n%s\n' \
  'echo "this qemu refuses to start" >&2; exit 3' >"$out/qemu"; chmod +x "$out/qemu"
LIBGUESTFS_QEMU=$out/qemu TMPDIR=$out/tmp $G test-tool >"$out/q.out" 2>&1; rc=$?
if [ $rc = 1 ] && grep -q "^  qemu  *$out/qemu: broken qemu 0.0" "$out/q.out" &&
   grep -q '^FAILED: launch 1 .*qemu exited before the appliance was ready.*this qemu refuses to start' "$out/q.out" &&
   empty_tmp; then
  pass test-tool-qemu-fails
else fail test-tool-qemu-fails "exit $rc: $(grep -A2 FAILED "$out/q.out" | head -3 | tr '\n' ' ')"; fi

# SIGTERM while the appliance is starting: still no temp dir left.
printf '#!/bin/sh\n[ "$1" = --version ] && { echo "slow qemu"; exit 0; }\nexec sleep 30\n' >"$out/slow"
chmod +x "$out/slow"
LIBGUESTFS_QEMU=$out/slow TMPDIR=$out/tmp $G test-tool >"$out/t.out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^  scratch' "$out/t.out" && break; sleep 0.1; done
sleep 0.5; kill -TERM $pid; wait $pid; rc=$?
if [ $rc = 143 ] && grep -q '^  scratch' "$out/t.out" && empty_tmp; then pass test-tool-signal-cleans-up
else fail test-tool-signal-cleans-up "exit $rc, left: $(ls -A "$out/tmp")"; fi

$G test-tool --help >"$out/h.out" 2>&1; rc=$?
$G test-tool --bogus >/dev/null 2>"$out/u.err"; rc2=$?
if [ $rc = 0 ] && grep -q '^usage: guestkit test-tool' "$out/h.out" && grep -q -- '-v, --verbose' "$out/h.out" &&
   [ $rc2 = 2 ] && grep -q "Try 'guestkit test-tool --help'" "$out/u.err"; then
  pass test-tool-usage
else fail test-tool-usage "--help exit $rc, --bogus exit $rc2"; fi
