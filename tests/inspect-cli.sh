#!/bin/bash
# tests/inspect-cli.sh: `guestkit inspect' on real appliances: the JSON
# keys and values on a Debian-like sample image (with a dpkg database and
# a label added through `guestkit shell'), the same content as
# virt-inspector XML (well-formed, escaped), `[]' on a blank disk, exit 1
# on a missing or unreadable image, exit 2 on usage errors, images never
# written.
cd "$(dirname "$0")/.." || exit 1
G=runner/guestkit
out=tests/out/inspect-cli-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
tests/bin/make-sample-image "$out/disk.img" 32 inspect-host 2>"$out/mk.err" ||
  { echo "FAIL: inspect-sample-image: $(tail -2 "$out/mk.err")"; exit 1; }
truncate -s 16M "$out/blank.img"
printf '%s\n' 'Package: bash' 'Status: install ok installed' 'Architecture: amd64' \
  'Version: 5.2.15-2+b2' '' 'Package: odd<&>"name' 'Status: install ok installed' \
  'Architecture: all' 'Version: 1.0' |
  $G shell -a "$out/disk.img" -m /dev/sda1 upload - /var/lib/dpkg/status : \
    umount-all : set-e2label /dev/sda1 'root<&>' 2>"$out/err" ||
  { echo "FAIL: inspect-prepare: $(tail -2 "$out/err")"; exit 1; }
sum=$(md5sum <"$out/disk.img")

# py NAME CODE: run python3 CODE on $out/out (the check prints "ok").
py() {
  local r
  r=$(python3 -c "$2" <"$out/out" 2>&1)
  if [ "$r" = ok ]; then echo "PASS: $1"; else echo "FAIL: $1: $(echo "$r" | tail -3 | tr '\n' ' ')"; fi
}
# status NAME RC ERE COMMAND...: exit RC and stderr matching ERE (empty
# ERE: no stderr at all).
status() {
  local name=$1 rc=$2 pat=$3; shift 3
  "$@" >"$out/out" 2>"$out/err"; local got=$?
  if [ "$got" != "$rc" ]; then echo "FAIL: $name: exit $got, expected $rc: $(tail -2 "$out/err")"
  elif [ -z "$pat" ] && [ -s "$out/err" ]; then echo "FAIL: $name: messages: $(tail -2 "$out/err")"
  elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$out/err"; then
    echo "FAIL: $name: no /$pat/ in: $(tail -2 "$out/err")"
  else echo "PASS: $name"; fi
}

status json 0 '' $G inspect -a "$out/disk.img" -a "$out/blank.img"
py json-values '
import json, sys
l = json.load(sys.stdin)
assert len(l) == 1, l
o = l[0]
keys = ["root", "type", "distro", "product_name", "major_version", "minor_version", "arch",
        "hostname", "package_format", "package_management", "mountpoints", "filesystems",
        "applications", "warnings"]
assert list(o) == keys, list(o)
want = {"root": "/dev/sda1", "type": "linux", "distro": "debian", "major_version": 12,
        "minor_version": 11, "hostname": "inspect-host", "package_format": "deb",
        "package_management": "apt", "mountpoints": {"/": "/dev/sda1"},
        "product_name": "Debian GNU/Linux 12 (bookworm)"}
for k, v in want.items():
    assert o[k] == v, (k, o[k])
fs = o["filesystems"]
assert [f["device"] for f in fs] == ["/dev/sda1"], fs
assert fs[0]["type"] == "ext4" and fs[0]["label"] == "root<&>" and len(fs[0]["uuid"]) == 36, fs
apps = {a["name"]: a for a in o["applications"]}
assert apps["bash"] == {"name": "bash", "version": "5.2.15", "release": "2+b2", "arch": "amd64"}, apps
assert "odd<&>\"name" in apps, apps
assert all(isinstance(w, str) for w in o["warnings"]), o["warnings"]
print("ok")'

status xml 0 '' $G inspect --xml --ro -a "$out/disk.img"
py xml-values '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.stdin).getroot()
assert r.tag == "operatingsystems", r.tag
oses = r.findall("operatingsystem")
assert len(oses) == 1
o = oses[0]
for k, v in [("root", "/dev/sda1"), ("name", "linux"), ("distro", "debian"),
             ("major_version", "12"), ("minor_version", "11"), ("hostname", "inspect-host"),
             ("package_format", "deb"), ("package_management", "apt")]:
    assert o.findtext(k) == v, (k, o.findtext(k))
mp = o.findall("mountpoints/mountpoint")
assert [(m.get("dev"), m.text) for m in mp] == [("/dev/sda1", "/")], mp
f = o.find("filesystems/filesystem")
assert f.get("dev") == "/dev/sda1" and f.findtext("type") == "ext4", f
assert f.findtext("label") == "root<&>", f.findtext("label")
names = [a.findtext("name") for a in o.findall("applications/application")]
assert "bash" in names and "odd<&>\"name" in names, names
a = [a for a in o.findall("applications/application") if a.findtext("name") == "bash"][0]
assert (a.findtext("version"), a.findtext("release"), a.findtext("arch")) == ("5.2.15", "2+b2", "amd64")
print("ok")'

status blank 0 '' $G inspect -a "$out/blank.img"
[ "$(tr -d ' \n' <"$out/out")" = "[]" ] && echo "PASS: blank-empty-list" ||
  echo "FAIL: blank-empty-list: $(head -c 200 "$out/out")"
status blank-xml 0 '' $G inspect --xml -a "$out/blank.img"
py blank-xml-empty '
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.stdin).getroot()
assert r.tag == "operatingsystems" and len(r) == 0
print("ok")'

[ "$(md5sum <"$out/disk.img")" = "$sum" ] && echo "PASS: image-unchanged" ||
  echo "FAIL: image-unchanged"

head -c 1048576 /dev/urandom >"$out/garbage.img"
status missing-image 1 "inspect: $out/nope.img: No such file" $G inspect -a "$out/nope.img"
status garbage-qcow2 1 "garbage.img" $G inspect --format=qcow2 -a "$out/garbage.img"
status directory-image 1 "is a directory" $G inspect -a "$out"
status unreadable-format 1 "inspect: " $G inspect --format=nosuchformat -a "$out/disk.img"
status no-image 2 "no image given" $G inspect
status stray-argument 2 "unexpected argument" $G inspect "$out/disk.img"
status bad-option 2 "unrecognized option" $G inspect --bogus -a "$out/disk.img"
status format-after-a 2 "inspect: --format qcow2: no -a IMG follows it" \
  $G inspect -a "$out/disk.img" --format qcow2
[ ! -s "$out/out" ] && echo "PASS: errors-no-stdout" || echo "FAIL: errors-no-stdout"
