#!/bin/bash
# tests/bench-python.sh: make bench's Python figure.  The median time of
# one is_file call from Python (g.is_file) against the same call from C
# (python/bench-isfile), each on its own appliance and scratch disk,
# timed the same way (a monotonic clock around each call); the ratio is
# Python's overhead over the C round trip (target: at most 1.2x).  Runs
# C, Python, C, Python, ... (BENCH_ROUNDS each) and keeps each side's best
# median, as the machine is shared and one run's median moves with the
# load.  Also the cost from Python of a call that stays in the library
# (get_memsize): an upper bound on what the binding itself adds to a call.  When Debian's libguestfs Python binding (python3-guestfs)
# is installed, the same loop with it, and its ratio to ours.
# Figures only; nothing is asserted.
cd "$(dirname "$0")/.." || exit 1
CALLS=${BENCH_CALLS:-1000} ROUNDS=${BENCH_ROUNDS:-3}
PY3=/usr/bin/python3
out=tests/out/bench-python-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
[ -x python/bench-isfile ] && ls python/guestfs.*.so >/dev/null 2>&1 ||
  { echo "bench-python: run make first"; exit 1; }

# The Python loop; argv: DISK CALLS.  Prints the median in microseconds.
cat > "$out/loop.py" <<'EOF'
import sys, time
import guestfs
g = guestfs.GuestFS()
g.add_drive_opts(sys.argv[1], format="raw")
g.launch()
g.part_disk("/dev/sda", "mbr")
g.mkfs("ext4", "/dev/sda1")
g.mount("/dev/sda1", "/")
now, is_file = time.monotonic_ns, g.is_file
t = []
for _ in range(int(sys.argv[2])):
    t0 = now()
    is_file("/lost+found")
    t.append(now() - t0)
t.sort()
print("%.1f" % (t[len(t) // 2] / 1000))
g.close()
EOF

disk () { rm -f "$out/disk.img"; truncate -s 64M "$out/disk.img"; echo "$out/disk.img"; }
c_us=() py_us=()
for round in $(seq "$ROUNDS"); do
  c_us+=("$(python/bench-isfile "$(disk)" "$CALLS" | awk '{print $2}')")
  py_us+=("$(PYTHONPATH=$PWD/python $PY3 "$out/loop.py" "$(disk)" "$CALLS")")
done
best () { printf '%s\n' "$@" | grep -v '^$' | sort -g | head -1; }
c=$(best "${c_us[@]}") py=$(best "${py_us[@]}")
[ -n "$c" ] && [ -n "$py" ] || { echo "bench-python: a run failed (C: '${c_us[*]}', Python: '${py_us[*]}')"; exit 1; }

lib=$(PYTHONPATH=$PWD/python $PY3 -c '
import time, guestfs
g, n = guestfs.GuestFS(), 100000
t0 = time.monotonic_ns()
for _ in range(n):
    g.get_memsize()
print("%.2f" % ((time.monotonic_ns() - t0) / n / 1000))')

echo "guestkit Python binding ($(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); $CALLS calls, best of $ROUNDS medians)"
awk -v c="$c" -v p="$py" -v l="$lib" -v ca="${c_us[*]}" -v pa="${py_us[*]}" 'BEGIN {
  printf "  is_file from C       %8.1f us   (medians: %s)\n", c, ca
  printf "  is_file from Python  %8.1f us   (medians: %s)\n", p, pa
  printf "  ratio Python / C     %8.2fx     (target <= 1.2x)\n", p / c
  printf "  get_memsize, Python  %8.2f us   (a library-only call: the binding adds at most this)\n", l }'

# libguestfs's binding, when installed (its module, not ours, on the path).
if PYTHONPATH= $PY3 -c 'import guestfs, sys; sys.exit("guestkit" in guestfs.__file__)' 2>/dev/null; then
  lg=$(LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg PYTHONPATH= \
       $PY3 "$out/loop.py" "$(disk)" "$CALLS" 2>/dev/null)
  [ -n "$lg" ] && awk -v l="$lg" -v p="$py" 'BEGIN {
    printf "  is_file, libguestfs Python binding %8.1f us (ratio %.1fx: > 1, guestkit is faster)\n", l, l / p }'
else
  echo "  (libguestfs's Python binding not installed: no comparison; apt-get install python3-guestfs for one)"
fi
exit 0
