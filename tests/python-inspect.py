#!/usr/bin/python3
"""tests/python-inspect.py: inspection from Python, and examples/audit-images.py.

The images are the samples the C tests and `make samples' use
(tests/bin/make-sample-image: a Debian 12 layout on ext4), made here in
tests/out/python-inspect/ with their own host names; the first gets a
dpkg status with three packages (written from Python), the second none,
and a third file is random bytes.  Then, on one read-only handle made
with python_return_dict=False (libguestfs's list-of-pairs form):
inspect_os and the inspect_get_* calls, the applications, mount_ro and
cat, and a write refused.  Last, the example audits the directory.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
import gktest  # noqa: E402
from gktest import check, raises  # noqa: E402

guestfs = gktest.import_guestfs()
tmp = gktest.scratch_dir("inspect")
IMG1, IMG2 = os.path.join(tmp, "py-1.img"), os.path.join(tmp, "py-2.img")
DPKG = "".join("Package: %s\nStatus: install ok installed\nArchitecture: amd64\n"
               "Version: %s\nDescription: %s\n\n" % p for p in [
                   ("bash", "5.2.15-2+b2", "GNU Bourne Again SHell"),
                   ("coreutils", "9.1-1", "GNU core utilities"),
                   ("libc6", "2.36-9+deb12u4", "GNU C Library")])


def make_images():
    maker = os.path.join(gktest.TOP, "tests", "bin", "make-sample-image")
    for path, host in ((IMG1, "pyhost-1"), (IMG2, "pyhost-2")):
        subprocess.run([maker, path, "32", host], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(tmp, "broken.img"), "wb") as f:
        f.write(os.urandom(4 << 20))
    with guestfs.GuestFS() as g:
        g.add_drive_opts(IMG1, format="raw", readonly=False)
        g.launch()
        g.mount("/dev/sda1", "/")
        g.write_file("/var/lib/dpkg/status", DPKG, 0)
        g.umount_all()
        g.sync()


g = None


def inspect_os():
    global g
    g = guestfs.GuestFS(python_return_dict=False)
    g.add_drive_opts(IMG1, format="raw", readonly=True)
    g.launch()
    roots = g.inspect_os()
    assert roots == ["/dev/sda1"], roots
    assert g.inspect_get_type("/dev/sda1") == "linux"
    assert g.inspect_get_distro("/dev/sda1") == "debian"
    assert g.inspect_get_major_version("/dev/sda1") == 12
    assert g.inspect_get_product_name("/dev/sda1") == "Debian GNU/Linux 12 (bookworm)"
    assert g.inspect_get_hostname("/dev/sda1") == "pyhost-1"
    assert g.inspect_get_package_format("/dev/sda1") == "deb"
    assert g.inspect_is_live("/dev/sda1") is False


def inspect_mountpoints_pairs():
    mp = g.inspect_get_mountpoints("/dev/sda1")
    assert mp == [("/", "/dev/sda1")], mp           # python_return_dict=False


def inspect_applications():
    apps = g.inspect_list_applications("/dev/sda1")
    assert [a["app_name"] for a in apps] == ["bash", "coreutils", "libc6"], apps
    bash = apps[0]
    assert bash["app_version"] == "5.2.15" and bash["app_release"] == "2+b2", bash
    assert bash["app_epoch"] == 0 and bash["app_arch"] == "amd64", bash    # Int32


def inspect_mount_ro_cat():
    g.mount_ro("/dev/sda1", "/")
    assert g.cat("/etc/hostname") == "pyhost-1\n"
    assert "ID=debian" in g.cat("/etc/os-release")
    e = raises(RuntimeError, g.touch, "/written")
    assert str(e).startswith("touch:"), e
    assert g.exists("/written") is False
    g.umount_all()


def readonly_is_kept():
    # readonly=True reached the library: the image file is unchanged.
    with guestfs.GuestFS() as h:
        h.add_drive_opts(IMG2, format="raw", readonly=True)
        h.launch()
        h.mount_options("", "/dev/sda1", "/")   # a read-write mount is refused or
        try:                                     # writes to a throwaway overlay
            h.write_file("/etc/hostname", "changed\n", 0)
            h.sync()
        except RuntimeError:
            pass
    with guestfs.GuestFS() as h:
        h.add_drive_opts(IMG2, format="raw", readonly=True)
        h.launch()
        assert h.inspect_get_hostname(h.inspect_os()[0]) == "pyhost-2"


def bad_format():
    with guestfs.GuestFS() as h:
        e = raises(RuntimeError, h.add_drive_opts, IMG1, format="nosuchformat")
        assert "unknown disk format" in str(e), e
        e = raises(RuntimeError, h.add_drive_opts, IMG1, format="qcow2", readonly=True)
        assert "not a usable qcow2 image" in str(e), e     # a raw image is no qcow2
        h.add_drive_opts(IMG1, format="raw", readonly=True)


def audit_example():
    p = subprocess.run([sys.executable, os.path.join(gktest.TOP, "examples", "audit-images.py"),
                        "--jobs", "2", tmp], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=os.path.join(gktest.TOP, "python")))
    lines = p.stdout.splitlines()
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)   # broken.img fails
    assert lines[0].split() == ["IMAGE", "ROOT", "DISTRO", "VERSION", "HOSTNAME", "PACKAGES"], lines
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:4]}
    assert rows == {"broken.img": ["-"] * 5,
                    "py-1.img": ["/dev/sda1", "debian", "12.11", "pyhost-1", "3"],
                    "py-2.img": ["/dev/sda1", "debian", "12.11", "pyhost-2", "0"]}, lines
    assert lines[4:] == ["broken.img: no operating system found",
                         "3 images, 2 audited, 1 failed"], lines


try:
    make_images()
except Exception as e:
    print("FAIL: python-inspect-images: %s" % e)
    sys.exit(1)
check("python-inspect-os", inspect_os)
if g is None or g.is_ready() is False:
    sys.exit(1)
check("python-inspect-mountpoints-pairs", inspect_mountpoints_pairs)
check("python-inspect-applications", inspect_applications)
check("python-inspect-mount-ro-cat", inspect_mount_ro_cat)
g.close()
check("python-inspect-readonly-kept", readonly_is_kept)
check("python-inspect-bad-format", bad_format)
check("python-audit-images-example", audit_example)
gktest.done()
