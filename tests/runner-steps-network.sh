#!/bin/bash
# tests/runner-steps-network.sh: `network: true' and packages: install by
# name, on a real Debian 12 image built from the cached base (make base),
# against the guest's own apt sources (the Debian mirror).
#  - without `network: true' the step is refused, naming the key
#  - a name apt could take for an option is refused before anything runs
#  - with the network: the package is installed by the guest's apt, its
#    files are in the changes record, resolv.conf is the guest's own
#    again and apt's lists are cleared as they were
#  - a package the mirror does not have: the task fails with apt's
#    message and the image is byte-identical (atomic)
# Needs the base and the Debian mirror: skips, saying which, without.
cd "$(dirname "$0")/.." || exit 1
. tests/lib-build.sh
need_base
. tests/lib.sh
t_begin runner-steps-network img
sha() { sha256sum "$1" | cut -d' ' -f1; }

# The guest's apt uses the mirror the base was made from.
mirror=$(tar -xOf "$base" ./etc/apt/sources.list 2>/dev/null | awk '$1 == "deb" { print $2; exit }')
if [ -z "$mirror" ] ||
   ! python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1].rstrip("/") + "/dists/bookworm/Release", timeout=15).read(64)' "$mirror" 2>/dev/null; then
  echo "the Debian mirror ${mirror:-(none in the base)} is not reachable from here" >&2; exit 77
fi

# A Debian image from the base: one partition, the tree unpacked.
cat > "$out/mk.yaml" <<EOF
name: mk
base: {tar: $base}
build: {size: 2G, format: raw, output: "$out/img/deb.raw"}
timeout: 20m
steps:
  - partition
  - filesystems: {label: deb}
  - unpack
  - fstab
EOF
$gk run -q --db "$out/mk.db" "$out/mk.yaml" >"$out/mk.out" 2>&1 ||
  { echo "FAIL: network-image: $(tail -3 "$out/mk.out")"; exit 1; }
img=$out/img/deb.raw
resolv_before=$($gk shell -a "$img" --ro -i <<<'cat /etc/resolv.conf' 2>&1)

job() { # name network packages...
  local n=$1 net=$2; shift 2
  { echo "name: $n"; echo "images: $img"; echo "format: raw"; echo "readonly: false"
    [ "$net" = - ] || echo "network: $net"
    echo "timeout: 15m"
    echo "steps:"; echo "  - packages:"; echo "      install: [$(IFS=,; echo "$*")]"; } > "$out/$n.yaml"
}

h0=$(sha "$img")
job nonet - hello
$gk run --db "$out/r.db" "$out/nonet.yaml" >"$out/nonet.out" 2>&1
if [ $? != 0 ] && grep -q 'network: true' "$out/nonet.out" && [ "$(sha "$img")" = "$h0" ]; then
  pass network-required
else fail network-required "$(tail -3 "$out/nonet.out")"; fi

job badname true '"-o=APT::Get::Foo"'
$gk run --db "$out/r.db" "$out/badname.yaml" >"$out/badname.out" 2>&1
if [ $? != 0 ] && grep -q 'not a Debian package name' "$out/badname.out"; then pass bad-package-name
else fail bad-package-name "$(tail -3 "$out/badname.out")"; fi

job nosuch true guestkit-no-such-package-zz
$gk run --db "$out/r.db" "$out/nosuch.yaml" >"$out/nosuch.out" 2>&1
if [ $? != 0 ] && grep -q 'guestkit-no-such-package-zz' "$out/nosuch.out" &&
   [ "$(sha "$img")" = "$h0" ]; then pass missing-package-image-unchanged
else fail missing-package-image-unchanged "sha $(sha "$img") vs $h0: $(tail -3 "$out/nosuch.out")"; fi

job inst true hello
$gk run --db "$out/r.db" "$out/inst.yaml" >"$out/inst.out" 2>&1; st=$?
[ $st = 0 ] && pass install-ok || fail install-ok "exit $st: $(tail -5 "$out/inst.out")"
res=$(sqlite3 -batch -noheader "$out/r.db" \
  "SELECT result FROM steps WHERE task_id = (SELECT max(id) FROM tasks) AND call = 'packages'")
case $res in *'"hello='*) pass install-result ;; *) fail install-result "$res" ;; esac
ch=$(sqlite3 -batch -noheader "$out/r.db" \
  "SELECT group_concat(path, ' ') FROM changes WHERE task_id = (SELECT max(id) FROM tasks)")
case " $ch " in *" /usr/bin/hello "*) pass install-changes-recorded ;;
  *) fail install-changes-recorded "$(echo "$ch" | cut -c1-300)" ;; esac
after=$($gk shell -a "$img" --ro -i <<'EOF' 2>&1
is-file /usr/bin/hello
cat /etc/resolv.conf
glob-expand /var/lib/apt/lists/*_Packages
EOF
)
if [ "$(echo "$after" | head -1)" = true ]; then pass installed-in-image
else fail installed-in-image "$(echo "$after" | head -3)"; fi
if [ "$(echo "$after" | sed -n '2,$p' | grep -v _Packages)" = "$(echo "$resolv_before")" ] &&
   ! echo "$after" | grep -q _Packages; then pass resolv-and-lists-restored
else fail resolv-and-lists-restored "before '$resolv_before', after '$after'"; fi
exit $rc
