#!/bin/bash
# tests/bench-density.sh: make bench, memory per appliance (issue 17).
# qemu's RSS and PSS (/proc/PID/smaps_rollup) per appliance with 1, 4 and
# 16 appliances running at once: idle after a restore (2 s, and 6 s, when
# free page reporting has handed the guest's free memory back), after a
# 100 MiB upload + download (at once, and 4 s later), and after
# drop_caches in the guest; then the levers
# tried, each against the default at 1 appliance.  Figures only; nothing
# is asserted.  BENCH_DENSITY_COUNTS overrides "1 4 16".
cd "$(dirname "$0")/.." || exit 1
bin=tests/bin/bench-density
[ -x $bin ] || { echo "bench-density: $bin not built (make tests/bin/bench-density)"; exit 0; }
mkdir -p tests/out
run() {  # LABEL N ENV...: one line per point, MiB per appliance
  local label=$1 n=$2; shift 2
  env "$@" nice $bin "$n" 100 2>"tests/out/density.err" | awk -v l="$label" '
    $2 == "transfer-seconds" { printf "    %-30s one transfer %.1f s\n", l, $3; next }
    { printf "    %-30s %2d at once, %-11s RSS %4d MiB (max %d), PSS %4d MiB, anon %4d MiB, kernel file %.1f MiB\n",
             l, $1, $2, $4, $5, $7, $10, $12 }'
  [ "${PIPESTATUS[0]}" = 0 ] || echo "    $label: failed: $(tail -2 tests/out/density.err)"
}
echo "  density (per appliance; targets: RSS <= 100 MiB idle, <= 150 MiB after the transfer)"
for n in ${BENCH_DENSITY_COUNTS:-1 4 16}; do
  run default "$n"
done
echo "  levers, 1 appliance:"
# The TCG code buffer: all of it resident once filled.
for tb in 32 8; do run "tb-size=$tb (default 64)" 1 GUESTKIT_TCG_TB_SIZE=$tb; done
# A smaller guest: a restore reads every page of guest RAM (zero pages
# included), and this host maps no shared zero page, so -m is RSS until
# free page reporting gives the free part back (the idle-6s line).
run "memsize 128 (default 256)" 1 LIBGUESTFS_MEMSIZE=128
ksm=$(cat /sys/kernel/mm/ksm/run 2>/dev/null || echo absent)
echo "    KSM: /sys/kernel/mm/ksm/run = $ksm (qemu marks guest RAM mergeable by default, mem-merge=on; 0: the host does not merge)"
zp=$(python3 -c '
import mmap
def rss():
    return int([l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]) // 1024
m = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
before = rss()
s = sum(m[i] for i in range(0, 64 << 20, 4096))
print(rss() - before)' 2>/dev/null)
echo "    zero page: reading 64 MiB of untouched anonymous memory made ${zp:-?} MiB resident here (a host with the shared zero page: ~0)"
echo "  (figures from a machine loaded by other work)"
exit 0
