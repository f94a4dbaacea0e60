#!/usr/bin/python3
"""tests/python-install.py: make install-python / uninstall-python.

Into a DESTDIR, for PREFIX=/usr/local and PREFIX=/usr: the module lands
in the directory Debian's python3 searches for that prefix (from
sysconfig, through python/sitedir.py), with its rpath at PREFIX/lib;
the installed copy imports (the library taken from the tree with
LD_LIBRARY_PATH, as it is not in the DESTDIR) and makes a handle; and
uninstall-python leaves nothing behind.  No appliance.
"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
import gktest  # noqa: E402
from gktest import check  # noqa: E402

gktest.import_guestfs()
tmp = gktest.scratch_dir("install")
PY3 = "/usr/bin/python3"


def make(*args):
    return subprocess.run(["make", "-s", "--no-print-directory", *args], cwd=gktest.TOP,
                          check=True, capture_output=True, text=True).stdout


def debian_path():
    return subprocess.run([PY3, "-c", "import sys; print('\\n'.join(sys.path))"],
                          check=True, capture_output=True, text=True).stdout.split()


def install(prefix):
    dest = os.path.join(tmp, "dest" + prefix.replace("/", "-"))
    target = make("install-python-list", "PREFIX=" + prefix).strip()
    assert os.path.dirname(target) in debian_path(), (target, debian_path())
    make("install-python", "PREFIX=" + prefix, "DESTDIR=" + dest)
    installed = dest + target
    found = [os.path.join(d, f) for d, _, fs in os.walk(dest) for f in fs]
    assert found == [installed], found
    if shutil.which("readelf"):
        dyn = subprocess.run(["readelf", "-d", installed], capture_output=True, text=True).stdout
        assert "[%s/lib]" % prefix in dyn, dyn
    code = "import guestfs; print(guestfs.__file__); print(guestfs.GuestFS().is_config())"
    p = subprocess.run([PY3, "-c", code], capture_output=True, text=True, cwd=tmp,
                       env=dict(os.environ, PYTHONPATH=os.path.dirname(installed),
                                LD_LIBRARY_PATH=os.path.join(gktest.TOP, "core")))
    assert p.returncode == 0 and p.stdout.split() == [installed, "True"], p
    make("uninstall-python", "PREFIX=" + prefix, "DESTDIR=" + dest)
    assert not os.path.exists(installed) and not os.path.exists(os.path.dirname(installed))


check("python-install-usr-local", install, "/usr/local")
check("python-install-usr", install, "/usr")
gktest.done()
