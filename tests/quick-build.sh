#!/bin/bash
# tests/quick-build.sh: build-level checks, no VM.
#  - the public header compiles alone as C99 and as C++
#  - the library exports only guestfs_* (the public tier)
#  - generated files are current with the tables in schemas/
cd "$(dirname "$0")/.." || exit 1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
rc=0

printf '#include "guestfs.h"\nint main (void) { guestfs_h *g = guestfs_create (); guestfs_close (g); return 0; }\n' > "$tmp/h.c"
if ${CC:-cc} -std=c99 -pedantic -Wall -Werror -Icore/include -c "$tmp/h.c" -o "$tmp/h.o" 2>"$tmp/err"; then
  pass header-c99; else fail header-c99 "$(head -3 "$tmp/err")"; fi
cp "$tmp/h.c" "$tmp/h.cc"
if ${CXX:-c++} -std=c++11 -Wall -Werror -Icore/include -c "$tmp/h.cc" -o "$tmp/hh.o" 2>"$tmp/err"; then
  pass header-cxx; else fail header-cxx "$(head -3 "$tmp/err")"; fi

leaks=$(nm -D --defined-only core/libguestkit.so.0 | awk '$3 !~ /^guestfs_/ && $2 != "A" {print $3}')
if [ -z "$leaks" ]; then pass exports-public-only; else fail exports-public-only "$(echo $leaks | head -c 300)"; fi
if nm core/libguestkit.a >/dev/null 2>&1; then pass static-library; else fail static-library "core/libguestkit.a unreadable"; fi

if out=$(${PYTHON:-python3} schemas/generate.py --check . 2>&1); then
  pass generated-current; else fail generated-current "$out"; fi
exit $rc
