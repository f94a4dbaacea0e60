#!/usr/bin/python3
"""Print where `make install-python PREFIX=...` puts the guestfs module.

Run with the Debian python3 (/usr/bin/python3, the one python3-dev builds
for).  Its sysconfig knows the schemes Debian patches in: deb_system
(/usr/lib/python3/dist-packages, for PREFIX=/usr) and posix_local
(/usr/local/lib/python3.X/dist-packages, for PREFIX=/usr/local); both are
on that interpreter's sys.path.  The first scheme whose extension
directory lies under PREFIX wins; for any other prefix, the standard
layout under it (posix_prefix), which then needs PYTHONPATH.

Usage: sitedir.py PREFIX
"""
import os
import sys
import sysconfig


def sitedir(prefix):
    prefix = os.path.normpath(prefix)
    for scheme in ("deb_system", "posix_local", "posix_prefix"):
        if scheme not in sysconfig.get_scheme_names():
            continue
        path = os.path.normpath(sysconfig.get_path("platlib", scheme))
        if path.startswith(prefix.rstrip(os.sep) + os.sep):
            return path
    return sysconfig.get_path("platlib", "posix_prefix",
                              vars={"base": prefix, "platbase": prefix})


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].startswith("/"):
        sys.exit("usage: sitedir.py PREFIX (an absolute path)")
    print(sitedir(sys.argv[1]))
