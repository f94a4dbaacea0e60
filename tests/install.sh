#!/bin/bash
# tests/install.sh: make install / make uninstall (issue 14).
# Installs into a DESTDIR (PREFIX=/usr/local), builds the manual's example
# with pkg-config against the installed copy (ldd must show the DESTDIR
# library, not the tree's) and runs it; installs again into a real PREFIX
# and runs the example there with no LIBGUESTFS_PATH, so the installed
# library finds its appliance by default; the man pages are installed by
# section where man(1) finds them; uninstall leaves no files.
cd "$(dirname "$0")/.." || exit 1
out=$PWD/tests/out/install-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
dest=$out/dest pre=$out/prefix fails=0
pass () { echo "PASS: $1"; }
fail () { echo "FAIL: $1: $2"; fails=$((fails + 1)); }

if make -s install PREFIX=/usr/local DESTDIR="$dest" >"$out/inst.log" 2>&1; then
  pass install-destdir
else
  fail install-destdir "$(tail -5 "$out/inst.log")"; exit 1
fi
# Every listed file is there, and nothing else was installed.
make -s install-list PREFIX=/usr/local | sort > "$out/list"
(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) > "$out/found"
if cmp -s "$out/list" "$out/found"; then pass install-manifest
else fail install-manifest "$(diff "$out/list" "$out/found" | head -5)"; fi
for f in lib/libguestkit.so.0 lib/libguestkit.so lib/libguestkit.a include/guestfs.h \
    lib/pkgconfig/libguestkit.pc bin/guestkit lib/guestkit/guestkit-build-appliance \
    lib/guestkit/supermin.d/packages; do
  [ -e "$dest/usr/local/$f" ] || fail "install-has-$f" "missing"
done
# The Python module: the installed copy imports with the installed
# library (its rpath), not the tree's.  In a SANITIZE=thread build python3
# gets libtsan preloaded: the runtime cannot be dlopened with the module
# ("cannot allocate memory in static TLS block"); ASan's can (tests.mk
# sets verify_asan_link_order=0).
py=$(make -s install-python-list PREFIX=/usr/local)
san=$(ldd "$dest/usr/local/lib/libguestkit.so.0" | awk '/libtsan\.so/ { print $3 }')
if [ -s "$dest$py" ] && readelf -d "$dest$py" | grep -q 'R.*PATH.*\[/usr/local/lib\]' &&
   PYTHONPATH=$(dirname "$dest$py") LD_LIBRARY_PATH=$dest/usr/local/lib LD_PRELOAD=$san /usr/bin/python3 -c '
import guestfs, sys
assert guestfs.__file__.startswith(sys.argv[1]), guestfs.__file__
libs = [l.split()[-1] for l in open("/proc/self/maps") if "libguestkit" in l]
assert libs and all(l.startswith(sys.argv[1]) for l in libs), libs
g = guestfs.GuestFS(); g.set_memsize(300); assert g.get_memsize() == 300; g.close()' "$dest" 2>"$out/py.err"; then
  pass install-python-module
else fail install-python-module "$py: $(readelf -d "$dest$py" | grep PATH) $(tail -2 "$out/py.err" 2>/dev/null)"; fi
# The man pages: every generated one, by section, found by man(1) there.
man=$dest/usr/local/share/man missing=
for p in $(python3 schemas/generate-man.py --list .); do
  [ -s "$man/man${p##*.}/$p" ] && cmp -s "man/$p" "$man/man${p##*.}/$p" || missing="$missing $p"
done
if [ -z "$missing" ] && [ "$(man -M "$man" -w guestfs 2>/dev/null)" = "$man/man3/guestfs.3" ] &&
   [ "$(man -M "$man" -w 5 guestkit-jobs 2>/dev/null)" = "$man/man5/guestkit-jobs.5" ] &&
   [ "$(man -M "$man" -w guestkit-test-tool 2>/dev/null)" = "$man/man1/guestkit-test-tool.1" ] &&
   LC_ALL=C MANWIDTH=80 man -M "$man" guestkit-run 2>/dev/null | grep -q -- '--resume'; then
  pass install-man-pages
else fail install-man-pages "missing or different:$missing; man -w guestfs: $(man -M "$man" -w guestfs 2>&1)"; fi
if strings "$dest/usr/local/lib/libguestkit.so.0" | grep -qx /usr/local/lib/guestkit; then
  pass install-default-path
else fail install-default-path "installed library does not default to /usr/local/lib/guestkit"; fi

pc () { PKG_CONFIG_PATH=$1/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$2 pkg-config "${@:3}" libguestkit; }
flags=$(pc "$dest/usr/local" "$dest" --cflags --libs)
if ${CC:-cc} -std=c99 -Wall -Werror tests/manual-example.c $flags -o "$out/example" 2>"$out/cc.err"; then
  pass install-example-compiles
else fail install-example-compiles "$flags: $(head -3 "$out/cc.err")"; fi
lib=$(LD_LIBRARY_PATH=$dest/usr/local/lib ldd "$out/example" | awk '/libguestkit/ {print $3}')
if [ "$lib" = "$dest/usr/local/lib/libguestkit.so.0" ]; then pass install-example-uses-installed
else fail install-example-uses-installed "ldd resolves libguestkit to '$lib'"; fi
# A static link against the installed .a works too.  In a sanitizer
# build (make SANITIZE=...) the archive's objects need the sanitizer's
# runtime at link time, which no .pc file of a normal install names.
san=$(grep -o -- '-fsanitize=[^ ]*' tests/out/build-flags 2>/dev/null | head -1)
if ${CC:-cc} -std=c99 $san tests/manual-example.c $(pc "$dest/usr/local" "$dest" --cflags) \
     "$dest/usr/local/lib/libguestkit.a" $(pc "$dest/usr/local" "$dest" --static --libs-only-l | sed 's/-lguestkit//') \
     -o "$out/example-static" 2>"$out/cc2.err" &&
   ! ldd "$out/example-static" | grep -q libguestkit; then
  pass install-static-links
else fail install-static-links "$(head -3 "$out/cc2.err")"; fi

tests/bin/make-sample-image "$out/disk.img" 32 example >/dev/null 2>&1 ||
  { fail install-sample-image "make-sample-image failed"; exit 1; }
run_example () {  # LIBDIR [env...]
  local libdir=$1; shift
  env -u LIBGUESTFS_PATH "$@" LD_LIBRARY_PATH="$libdir" "$out/example" "$out/disk.img" \
    >"$out/run.out" 2>"$out/run.err" &&
  grep -qx 'partitions: /dev/sda1' "$out/run.out" && grep -qx 'touched /hello' "$out/run.out"
}
if run_example "$dest/usr/local/lib" LIBGUESTFS_PATH="$dest/usr/local/lib/guestkit"; then
  pass install-example-runs-destdir
else fail install-example-runs-destdir "$(cat "$out/run.out" "$out/run.err" | tail -4)"; fi

# A real prefix: the library's default path is where its appliance is.
if make -s install PREFIX="$pre" >"$out/inst2.log" 2>&1 &&
   ${CC:-cc} -std=c99 tests/manual-example.c $(pc "$pre" "" --cflags --libs) -o "$out/example" &&
   run_example "$pre/lib"; then
  pass install-prefix-default-appliance
else fail install-prefix-default-appliance "$(cat "$out/inst2.log" "$out/run.out" "$out/run.err" | tail -4)"; fi
if "$pre/bin/guestkit" --help >/dev/null 2>&1 &&
   ldd "$pre/bin/guestkit" | grep -q "$pre/lib/libguestkit.so.0"; then
  pass install-command-runs
else fail install-command-runs "$(ldd "$pre/bin/guestkit" | grep guestkit)"; fi

make -s uninstall PREFIX=/usr/local DESTDIR="$dest" >/dev/null 2>&1
make -s uninstall PREFIX="$pre" >/dev/null 2>&1
left=$(find "$dest" "$pre" \( -type f -o -type l \) 2>/dev/null)
if [ -z "$left" ] && [ -d "$dest/usr/local/lib" ]; then pass uninstall-removes-all
else fail uninstall-removes-all "left: $(echo $left | head -c 300)"; fi
if [ ! -e "$man" ] && [ ! -e "$pre/share/man" ] && [ -z "$(man -M "$man" -w guestfs 2>/dev/null)" ]; then
  pass uninstall-removes-man-pages
else fail uninstall-removes-man-pages "left: $(find "$man" "$pre/share/man" 2>/dev/null | head -5)"; fi
[ $fails = 0 ]
