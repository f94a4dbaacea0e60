#!/usr/bin/python3
"""tests/python-api.py: the guestfs Python module against one real appliance.

One handle, two scratch disks (sda: ext4 for the file checks, sdb: LVM),
shared by all checks but the ones about handles themselves.  One check
per return type and per argument type, each seeing the effect in the
guest; then errors (RuntimeError with the call's message, nothing
printed), bad arguments (TypeError naming the argument, None for a
string, NUL bytes, out of range ints) and closed handles.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
import gktest  # noqa: E402
from gktest import check, raises, Skip  # noqa: E402

guestfs = gktest.import_guestfs()
tmp = gktest.scratch_dir("api")
BLOB = bytes(range(256)) * 5 + b"\0end"     # NUL bytes, bytes >= 0x80
g = None


def setup():
    global g
    g = guestfs.GuestFS()
    g.add_drive_opts(gktest.scratch_disk(tmp, "a.img", 64), format="raw")
    g.add_drive_opts(gktest.scratch_disk(tmp, "b.img", 32), format="raw", readonly=False)
    g.launch()
    assert g.is_ready() is True
    g.part_disk("/dev/sda", "mbr")
    g.mkfs("ext4", "/dev/sda1")
    g.mount("/dev/sda1", "/")
    g.write_file("/lines", "a\nb\nc\n", 0)


# ---- return types ----

def ret_err():
    assert g.exists("/touched") is False
    assert g.touch("/touched") is None
    assert g.exists("/touched") is True


def ret_int():
    n = g.wc_l("/lines")
    assert type(n) is int and n == 3, n


def ret_int64():
    n = g.blockdev_getsize64("/dev/sda")
    assert type(n) is int and n == 64 << 20, n


def ret_bool():
    assert g.is_file("/lines") is True
    assert g.is_file("/nothing-here") is False
    assert g.is_dir("/lost+found") is True


def ret_const_string():
    with guestfs.GuestFS() as h:
        h.set_qemu("/opt/py-test/qemu")
        assert h.get_qemu() == "/opt/py-test/qemu", h.get_qemu()


def ret_const_opt_string():
    with guestfs.GuestFS() as h:
        h.set_append("console=ttyS0 quiet")
        assert h.get_append() == "console=ttyS0 quiet"
        h.set_append(None)                      # OptString: NULL
        assert h.get_append() is None


def ret_string():
    s = g.cat("/lines")
    assert type(s) is str and s == "a\nb\nc\n", repr(s)


def ret_string_list():
    names = g.ls("/")
    assert type(names) is list and {"lines", "lost+found", "touched"} <= set(names), names


def ret_hashtable():
    mp = g.mountpoints()
    assert mp == {"/dev/sda1": "/"}, mp
    t = g.tune2fs_l("/dev/sda1")
    assert type(t) is dict and t.get("Filesystem magic number") == "0xEF53", t


def ret_buffer_out():
    src = os.path.join(tmp, "blob")
    with open(src, "wb") as f:
        f.write(BLOB)
    g.upload(src, "/blob")                      # FileIn
    data = g.read_file("/blob")
    assert type(data) is bytes and data == BLOB, len(data)


def ret_struct():
    st = g.stat("/lines")
    assert type(st) is dict and st["size"] == 6 and st["nlink"] == 1, st
    v = g.version()
    assert v["major"] == 1 and type(v["extra"]) is str, v


def ret_struct_list():
    ents = {d["name"]: d for d in g.readdir("/")}
    assert {".", "..", "lines", "lost+found"} <= set(ents), ents
    assert ents["lines"]["ftyp"] == "r" and ents["lost+found"]["ftyp"] == "d"   # Char
    assert ents["lines"]["ino"] == g.stat("/lines")["ino"]


def lvm():
    g.available(["lvm2"])
    g.pvcreate("/dev/sdb")
    g.vgcreate("vgpy", ["/dev/sdb"])            # DeviceList
    g.lvcreate("lvpy", "vgpy", 8)
    assert g.lvs() == ["/dev/vgpy/lvpy"], g.lvs()


def struct_fields_lvm():
    try:
        g.available(["lvm2"])
    except RuntimeError as e:
        raise Skip("no lvm2 in the appliance: %s" % e)
    pv = g.pvs_full()
    assert len(pv) == 1 and pv[0]["pv_name"] == "/dev/sdb", pv
    assert len(pv[0]["pv_uuid"]) == 32 and pv[0]["pv_uuid"].isalnum(), pv   # UUID
    assert 0 < pv[0]["pv_size"] <= 32 << 20                                   # Bytes
    lv = g.lvs_full()
    assert lv[0]["lv_name"] == "lvpy" and lv[0]["lv_size"] == 8 << 20, lv
    assert lv[0]["snap_percent"] is None, lv[0]["snap_percent"]              # OptPercent


def struct_fields_xattr():
    g.setxattr("user.pytest", "hello", 5, "/lines")
    xs = {x["attrname"]: x["attrval"] for x in g.getxattrs("/lines")}
    assert xs.get("user.pytest") == b"hello", xs                             # Buffer


def struct_fields_int32():
    g.aug_init("/", 0)
    try:
        r = g.aug_defnode("pynode", "/files/etc/py-test", "v")
    finally:
        g.aug_close()
    assert r == {"i": 1, "b": 1}, r                                           # Int32


# ---- argument types ----

def arg_string():
    g.write_file("/greeting", "hello from python", 0)
    assert g.cat("/greeting") == "hello from python"


def arg_opt_string():
    g.aug_init("/", 0)
    try:
        assert g.aug_defvar("pyv", "/augeas") == 1      # a node set
        assert g.aug_defvar("pyv", None) == 0           # OptString NULL: undefined
        e = raises(TypeError, g.aug_defvar, "pyv", 5)
        assert "'expr'" in str(e), e
    finally:
        g.aug_close()


def arg_string_list():
    assert g.echo_daemon(["one", "two", "three"]) == "one two three"
    assert g.echo_daemon(("a", "b")) == "a b"   # a tuple too


def arg_device_list():
    try:
        g.available(["lvm2"])
    except RuntimeError as e:
        raise Skip("no lvm2 in the appliance: %s" % e)
    lvm()
    assert g.vgs() == ["vgpy"], g.vgs()


def arg_bool():
    g.set_autosync(False)
    assert g.get_autosync() is False
    g.set_autosync(True)
    assert g.get_autosync() is True


def arg_int():
    g.chmod(0o640, "/lines")
    assert g.stat("/lines")["mode"] & 0o777 == 0o640
    g.chmod(0o604, "/lines")
    assert g.stat("/lines")["mode"] & 0o777 == 0o604


def arg_int64():
    g.touch("/sized")
    g.truncate_size("/sized", 5 << 32 | 7)      # beyond 32 bits
    assert g.stat("/sized")["size"] == 5 << 32 | 7
    assert g.pread("/blob", 4, 256) == BLOB[256:260]   # Int and Int64


def arg_file_out():
    back = os.path.join(tmp, "blob.back")
    g.download("/blob", back)
    with open(back, "rb") as f:
        assert f.read() == BLOB


def arg_buffer_in():
    # binary-safe: NULs and high bytes reach the file as given, at the offset
    data = b"\x00\xffgk\x00\x01"
    g.write_file("/bin-target", "abcdefghij", 0)
    assert g.pwrite("/bin-target", data, 2) == len(data)
    assert g.pread("/bin-target", 10, 0) == b"ab" + data + b"ij"
    e = raises(TypeError, g.pwrite, "/bin-target", "text", 0)
    assert "'content'" in str(e) and "bytes" in str(e), e
    e = raises(TypeError, g.pwrite, "/bin-target", None, 0)
    assert "'content'" in str(e), e


def arg_dev_or_path():
    assert "ext4" in g.file("/dev/sda1"), g.file("/dev/sda1")
    assert "text" in g.file("/lines"), g.file("/lines")


def arg_keywords():
    assert g.is_file(path="/lines") is True
    assert g.mkdir_mode(mode=0o700, path="/kw") is None
    assert g.stat("/kw")["mode"] & 0o777 == 0o700


def arg_surrogates():
    # A name that is not UTF-8 goes in and comes back as os.fsdecode has it.
    name = os.fsdecode(b"caf\xe9")
    g.touch("/" + name)
    assert name in g.ls("/"), g.ls("/")
    assert g.is_file("/" + name) is True


def progress_callback():
    src = os.path.join(tmp, "big")
    with open(src, "wb") as f:
        f.write(os.urandom(3 << 20))
    seen, inner = [], []

    def cb(proc_nr, serial, position, total):
        seen.append((proc_nr, position, total))
        if not inner:                   # the handle is busy: refused, no deadlock
            try:
                g.is_file("/lines")
            except RuntimeError as e:
                inner.append(str(e))
    g.set_progress_callback(cb)
    g.upload(src, "/big")
    assert seen and all(t == 3 << 20 for _, _, t in seen), seen[:3]
    positions = [p for _, p, _ in seen]
    assert positions == sorted(positions) and positions[-1] == 3 << 20, positions
    assert inner and "callback" in inner[0], inner
    g.set_progress_callback(None)
    seen.clear()
    g.download("/big", src + ".back")
    assert seen == [], seen
    assert os.path.getsize(src + ".back") == 3 << 20
    e = raises(TypeError, g.set_progress_callback, 5)
    assert "'cb'" in str(e), e


# ---- errors ----

def err_runtime():
    e = raises(RuntimeError, g.cat, "/no/such/file")
    msg = str(e)
    assert msg.startswith("cat:") and "/no/such/file" in msg, msg


def err_relative_path():
    e = raises(RuntimeError, g.cat, "lines")
    assert "path must be absolute" in str(e), e


def err_state():
    with guestfs.GuestFS() as h:
        e = raises(RuntimeError, h.mount_ro, "/dev/sda1", "/")
        assert "call guestfs_launch first" in str(e), e
        e = raises(RuntimeError, h.add_drive_opts, os.path.join(tmp, "missing.img"))
        assert "missing.img" in str(e), e


def err_quiet():
    # The C library's default handler prints each error; the module
    # silences it, so the message is only in the exception.
    code = ("import guestfs\ng = guestfs.GuestFS()\n"
            "try:\n  g.cat('/x')\nexcept RuntimeError as e:\n  print('caught:', e)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.path.join(gktest.TOP, "python")))
    assert p.returncode == 0 and p.stdout.startswith("caught: cat:"), p
    assert p.stderr == "", p.stderr


# ---- bad arguments ----

def type_str():
    e = raises(TypeError, g.is_file, 42)
    assert "is_file()" in str(e) and "'path'" in str(e) and "int" in str(e), e
    e = raises(TypeError, g.is_file, b"/lines")
    assert "'path'" in str(e), e


def type_none_for_string():
    e = raises(TypeError, g.is_file, None)
    assert "'path'" in str(e) and "NoneType" in str(e), e
    e = raises(TypeError, g.mount_ro, None, "/")
    assert "'device'" in str(e), e


def type_int():
    e = raises(TypeError, g.chmod, "0644", "/lines")
    assert "'mode'" in str(e), e
    e = raises(TypeError, g.chmod, 6.0, "/lines")
    assert "'mode'" in str(e), e
    e = raises(OverflowError, g.chmod, 1 << 40, "/lines")
    assert "'mode'" in str(e), e
    e = raises(TypeError, g.truncate_size, "/sized", "big")
    assert "'size'" in str(e), e


def type_bool():
    e = raises(TypeError, g.set_autosync, "yes")
    assert "'autosync'" in str(e), e
    assert g.get_autosync() is True


def type_string_list():
    e = raises(TypeError, g.echo_daemon, "one two")
    assert "'words'" in str(e), e
    e = raises(TypeError, g.echo_daemon, ["one", None])
    assert "'words'" in str(e) and "item 1" in str(e), e
    e = raises(TypeError, g.echo_daemon, None)
    assert "'words'" in str(e), e


def type_optargs():
    with guestfs.GuestFS() as h:
        e = raises(TypeError, h.add_drive_opts, "/x", format=1)
        assert "'format'" in str(e), e
        e = raises(TypeError, h.add_drive_opts, "/x", readonly="yes")
        assert "'readonly'" in str(e), e
        raises(TypeError, h.add_drive_opts, "/x", "raw")     # keywords only
        raises(TypeError, h.add_drive_opts, "/x", iface="virtio")


def type_arity():
    raises(TypeError, g.is_file)
    raises(TypeError, g.is_file, "/a", "/b")
    raises(TypeError, g.is_file, pathname="/a")
    raises(TypeError, g.sync, 1)


def value_nul():
    e = raises(ValueError, g.is_file, "/li\0nes")
    assert "'path'" in str(e), e
    e = raises(ValueError, g.echo_daemon, ["ok", "n\0ul"])
    assert "'words'" in str(e), e
    assert g.is_ready() is True


def closed_handle():
    h = guestfs.GuestFS()
    assert type(h._o).__name__ == "PyCapsule", h._o     # the C handle
    h.close()
    assert h._o is None
    e = raises(guestfs.ClosedHandle, h.get_memsize)
    assert isinstance(e, ValueError) and "closed" in str(e) and "get_memsize" in str(e), e
    raises(guestfs.ClosedHandle, h.add_drive_opts, "/x", format="raw")
    h.close()                                   # twice: harmless


def context_manager():
    with guestfs.GuestFS() as h:
        assert h.is_config() is True
    raises(guestfs.ClosedHandle, h.is_config)
    try:
        with guestfs.GuestFS() as h2:
            raise KeyError("inside")
    except KeyError:
        pass                                    # propagates ...
    raises(guestfs.ClosedHandle, h2.is_config)  # ... and the handle is closed


def every_call_a_method():
    with open(os.path.join(gktest.TOP, "schemas", "actions.tsv")) as f:
        calls = [line.split("\t")[0] for line in f if line.strip() and not line.startswith("#")]
    missing = [c for c in calls if not callable(getattr(guestfs.GuestFS, c, None))]
    assert not missing and len(calls) > 250, missing


def main():
    check("python-every-call-a-method", every_call_a_method)
    try:
        setup()
    except Exception as e:
        print("FAIL: python-launch: %s" % e)
        sys.exit(1)
    print("PASS: python-launch")
    for name, fn in [
            ("ret-err", ret_err), ("ret-int", ret_int), ("ret-int64", ret_int64),
            ("ret-bool", ret_bool), ("ret-const-string", ret_const_string),
            ("ret-const-opt-string", ret_const_opt_string), ("ret-string", ret_string),
            ("ret-string-list", ret_string_list), ("ret-hashtable", ret_hashtable),
            ("ret-buffer-out", ret_buffer_out), ("ret-struct", ret_struct),
            ("ret-struct-list", ret_struct_list),
            ("arg-string", arg_string), ("arg-opt-string", arg_opt_string),
            ("arg-string-list", arg_string_list), ("arg-device-list", arg_device_list),
            ("arg-bool", arg_bool), ("arg-int", arg_int), ("arg-int64", arg_int64),
            ("arg-file-out", arg_file_out), ("arg-dev-or-path", arg_dev_or_path),
            ("arg-buffer-in", arg_buffer_in),
            ("arg-keywords", arg_keywords), ("arg-surrogates", arg_surrogates),
            ("struct-fields-lvm", struct_fields_lvm), ("struct-fields-xattr", struct_fields_xattr),
            ("struct-fields-int32", struct_fields_int32), ("progress-callback", progress_callback),
            ("err-runtime", err_runtime), ("err-relative-path", err_relative_path),
            ("err-state", err_state), ("err-quiet", err_quiet),
            ("type-str", type_str), ("type-none-for-string", type_none_for_string),
            ("type-int", type_int), ("type-bool", type_bool),
            ("type-string-list", type_string_list), ("type-optargs", type_optargs),
            ("type-arity", type_arity), ("value-nul", value_nul),
            ("closed-handle", closed_handle), ("context-manager", context_manager)]:
        check("python-" + name, fn)
    g.close()
    gktest.done()


main()
