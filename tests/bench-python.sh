#!/bin/bash
# tests/bench-python.sh: make bench's Python figure.  The median time of
# one is_file call from Python (g.is_file) against the same call from C
# (python/bench-isfile.so, loaded with ctypes, calling guestfs_is_file on
# the same handle through GuestFS._o), each timed with a monotonic clock
# around the call.  One process, one appliance: blocks of Python calls
# and blocks of C calls take turns, so the load on the shared machine
# falls on both alike.  The ratio is Python's cost over the C round trip
# (target: at most 1.2x).  Also the cost from Python of a call that stays
# in the library (get_memsize): a bound on what the binding itself adds.
# When Debian's libguestfs Python binding (python3-guestfs) is installed,
# its g.is_file with the same loop, and its ratio to ours.
# Figures only; nothing is asserted.
cd "$(dirname "$0")/.." || exit 1
CALLS=${BENCH_CALLS:-2000}
PY3=/usr/bin/python3
out=tests/out/bench-python-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
[ -f python/bench-isfile.so ] && ls python/guestfs.*.so >/dev/null 2>&1 ||
  { echo "bench-python: run make first"; exit 1; }

# argv: DISK CALLS [c].  Prints "python MEDIAN_US [c MEDIAN_US]".
cat > "$out/loop.py" <<'EOF'
import ctypes, sys, time
import guestfs
g = guestfs.GuestFS()
g.add_drive_opts(sys.argv[1], format="raw")
g.launch()
g.part_disk("/dev/sda", "mbr")
g.mkfs("ext4", "/dev/sda1")
g.mount("/dev/sda1", "/")
calls, with_c, block = int(sys.argv[2]), len(sys.argv) > 3, 100
now, is_file = time.monotonic_ns, g.is_file
if with_c:
    lib = ctypes.CDLL(sys.argv[3])
    lib.gk_bench_is_file.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                     ctypes.POINTER(ctypes.c_double)]
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    handle, buf = get(g._o, b"guestfs_h"), (ctypes.c_double * block)()
py, c = [], []
for _ in range(max(1, calls // block)):
    for _ in range(block):
        t0 = now()
        is_file("/lost+found")
        py.append((now() - t0) / 1000)
    if with_c:
        if lib.gk_bench_is_file(handle, b"/lost+found", block, buf) == -1:
            sys.exit("C loop failed")
        c.extend(buf)
med = lambda v: sorted(v)[len(v) // 2]
print("python %.1f" % med(py) + (" c %.1f" % med(c) if with_c else ""))
g.close()
EOF

truncate -s 64M "$out/disk.img"
ours=$(PYTHONPATH=$PWD/python $PY3 "$out/loop.py" "$out/disk.img" "$CALLS" "$PWD/python/bench-isfile.so") ||
  { echo "bench-python: the run failed"; exit 1; }
lib=$(PYTHONPATH=$PWD/python $PY3 -c '
import time, guestfs
g, n = guestfs.GuestFS(), 100000
t0 = time.monotonic_ns()
for _ in range(n):
    g.get_memsize()
print("%.2f" % ((time.monotonic_ns() - t0) / n / 1000))')

echo "guestkit Python binding ($(date -u +%F), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg);" \
     "$CALLS calls each way, in turns of 100, one appliance)"
echo "$ours" | awk -v l="$lib" '{
  printf "  is_file from C       %8.1f us\n", $4
  printf "  is_file from Python  %8.1f us   ratio %.2fx the C round trip (target <= 1.2x)\n", $2, $2 / $4
  printf "  get_memsize, Python  %8.2f us   (a library-only call: the binding adds at most this)\n", l }'

# libguestfs's binding, when installed (its module, not ours, on the path).
if PYTHONPATH= $PY3 -c 'import guestfs, sys; sys.exit("guestkit" in guestfs.__file__)' 2>/dev/null; then
  rm -f "$out/disk.img"; truncate -s 64M "$out/disk.img"
  theirs=$(LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg PYTHONPATH= \
           $PY3 "$out/loop.py" "$out/disk.img" "$CALLS" 2>/dev/null)
  [ -n "$theirs" ] && echo "$ours $theirs" | awk '{
    printf "  is_file, libguestfs Python binding %8.1f us (ratio %.1fx: > 1, guestkit is faster)\n", $6, $6 / $2 }'
else
  echo "  (libguestfs's Python binding not installed: no comparison; apt-get install python3-guestfs for one)"
fi
exit 0
