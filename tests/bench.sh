#!/bin/bash
# tests/bench.sh: make bench.  Runs guestkit's benchmark (tests/bin/bench)
# and, when Debian's libguestfs is installed (guestfish on PATH), the same
# measurements with it in the same run, then prints both with ratios.
# libguestfs runs with LIBGUESTFS_BACKEND=direct and force_tcg, as here
# KVM does not work.  Figures only; nothing is asserted.
# libguestfs has no "cold" figure: guestkit's cold launch is a full kernel
# boot instead of a restore of the saved appliance, and libguestfs has no
# saved appliance to restore, so every launch of it is measured in its
# "launch" row already; its "cold" column says n/a rather than repeat it.
cd "$(dirname "$0")/.." || exit 1
LAUNCHES=${BENCH_LAUNCHES:-10} CALLS=${BENCH_CALLS:-2000} MIB=${BENCH_MIB:-100}
mkdir -p tests/out
ours=$(tests/bin/bench "$LAUNCHES" "$CALLS" "$MIB" 2>tests/out/bench-lib.txt) || { echo "bench: guestkit run failed"; exit 1; }

# Where a warm launch's time goes (medians over 5 verbose launches).
img=tests/out/bench-timings-$$.img
truncate -s 64M "$img"
printf '#include <guestfs.h>\nint main (int c, char **v) { guestfs_h *g = guestfs_create (); guestfs_add_drive (g, v[1]); int r = guestfs_launch (g); guestfs_close (g); return r != 0; }\n' > tests/out/bench-launch.c
${CC:-cc} -Icore/include tests/out/bench-launch.c -Lcore -lguestkit -Wl,-rpath,"$PWD/core" -o tests/out/bench-launch
for i in 1 2 3 4 5; do LIBGUESTFS_DEBUG=1 tests/out/bench-launch "$img" 2>&1 | grep 'launch timings:'; done |
  sed 's/[^0-9. ]//g' | awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]*\.[0-9]+$/) printf "%s%s", (n++ ? " " : ""), $i; print "" }' > tests/out/bench-timings
breakdown=""
k=1
for name in qemu-start state-load hotplug resume+rescan total; do
  med=$(awk -v k=$k '{print $k}' tests/out/bench-timings | sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}')
  breakdown="$breakdown$(printf '  warm launch %-14s %6s s' "$name" "${med:-?}")"$'\n'
  k=$((k + 1))
done
rm -f "$img" tests/out/bench-launch tests/out/bench-launch.c tests/out/bench-timings

theirs=""
if command -v guestfish >/dev/null; then
  export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
  d=$(mktemp -d tests/out/lgfs.XXXXXX); trap 'rm -rf "$d"' EXIT
  truncate -s $((MIB * 2 + 64))M "$d/disk.img"
  now() { date +%s.%N; }
  lts=()
  for i in $(seq "$LAUNCHES"); do
    t0=$(now); guestfish -a "$d/disk.img" run >/dev/null 2>&1; t1=$(now)
    lts+=("$(echo "$t1 - $t0" | awk '{print $1 - $3}')")
  done
  launch=$(printf '%s\n' "${lts[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  # Trivial calls: N is-file calls minus the same script with none.
  { echo run; echo part-disk /dev/sda mbr; echo mkfs ext4 /dev/sda1; echo mount /dev/sda1 /; } > "$d/base"
  { cat "$d/base"; for i in $(seq "$CALLS"); do echo "is-file /lost+found"; done; } > "$d/calls"
  t0=$(now); guestfish -a "$d/disk.img" -f "$d/base" >/dev/null; t1=$(now)
  guestfish -a "$d/disk.img" -f "$d/calls" >/dev/null; t2=$(now)
  call=$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$CALLS" 'BEGIN {print ((c - b) - (b - a)) / n * 1000}')
  head -c $((MIB << 20)) /dev/urandom > "$d/src"
  eval "$(guestfish --listen -a "$d/disk.img")"
  guestfish --remote -- run
  guestfish --remote -- part-disk /dev/sda mbr
  guestfish --remote -- mkfs ext4 /dev/sda1
  guestfish --remote -- mount /dev/sda1 /
  t0=$(now); guestfish --remote -- upload "$d/src" /big; t1=$(now)
  guestfish --remote -- download /big "$d/back"; t2=$(now)
  pid=$(guestfish --remote -- get-pid)
  rss=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/"$pid"/status)
  guestfish --remote -- exit
  theirs=$(awk -v l="$launch" -v c="$call" -v a="$t0" -v b="$t1" -v e="$t2" -v m="$MIB" -v r="$rss" 'BEGIN {
    printf "launch %.3f s\ncold n/a s\nis_file %.3f ms\nupload %.1f MiB/s\ndownload %.1f MiB/s\ntransfer %.2f s\nrss %s MiB\n",
      l, c, m / (b - a), m / (e - b), e - a, r }')
fi

[ -x tests/runner-bench.sh ] && audit=$(tests/runner-bench.sh 2>/dev/null)

# Inspection of one small Debian-like image (made by runner-bench.sh):
# guestkit inspect (median of 3) and, when installed, virt-inspector.
inspect=""
img=tests/out/bench-images/bench-1.img
if [ -x runner/guestkit ] && [ -s "$img" ]; then
  ts=$(for i in 1 2 3; do s=$(date +%s%N); runner/guestkit inspect -a "$img" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done | sort -n | sed -n 2p)
  inspect=$(printf 'inspect    %6.3f s  guestkit inspect, small Debian-like image' "$(echo "$ts" | awk '{print $1 / 1000}')")
  if command -v virt-inspector >/dev/null; then
    s=$(date +%s%N)
    LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg virt-inspector --format=raw -a "$img" >/dev/null 2>&1
    e=$(date +%s%N)
    inspect="$inspect"$'\n'$(awk -v g="$ts" -v v=$(( (e - s) / 1000000 )) 'BEGIN {
      printf "inspect    %6.3f s  virt-inspector, same image (ratio %.1fx)", v / 1000, v / g }')
  fi
fi
echo "guestkit make bench ($(date -u +%F), $(nproc) cores, TCG unless KVM works;" \
     "$LAUNCHES launches, $CALLS calls, $MIB MiB)"
if [ -z "$theirs" ]; then
  echo "$ours" | awk '{printf "  %-10s %10s %s\n", $1, $2, $3}'
  echo "  (libguestfs not installed: no comparison; apt-get install libguestfs-tools for one)"
else
  printf '  %-10s %12s %12s %8s\n' figure guestkit libguestfs ratio
  paste <(echo "$ours") <(echo "$theirs") | awk '{
    if ($5 == "n/a") { printf "  %-10s %8s %-4s %8s %-4s %8s\n", $1, $2, $3, $5, "", "n/a"; next }
    printf "  %-10s %8s %-4s %8s %-4s %7.1fx\n", $1, $2, $3, $5, $6, ($1 == "upload" || $1 == "download") ? $2 / $5 : $5 / $2 }'
  echo "  (ratio > 1: guestkit is better by that factor; libguestfs cold: n/a, as every"
  echo "   launch of it is a full boot, measured in its launch row)"
fi
printf "%s" "$breakdown"
sed 's/^/  /' tests/out/bench-lib.txt
[ -n "${audit:-}" ] && echo "$audit" | sed 's/^/  /'
[ -n "$inspect" ] && echo "$inspect" | sed 's/^/  /'
exit 0
