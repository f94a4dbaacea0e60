#!/usr/bin/python3
"""examples/audit-images.py: audit a directory of disk images.

For each image in DIR, read-only: the operating systems on it (inspect_os)
and, for each, its distribution, version, host name and how many packages
its package database lists.  Prints one table row per OS (or one row
saying why an image has none) and exits 1 if some image could not be
audited.  The guests are never changed: every disk is added readonly.

usage: audit-images.py [--jobs N] DIR
    --jobs N   audit N images at a time (one handle, and one appliance,
               per thread; the module releases the GIL during calls)

Written against the guestfs module's libguestfs-compatible API, so it
runs with either guestkit's or libguestfs's binding.
"""
import argparse
import concurrent.futures
import os
import sys

import guestfs

FORMATS = {".qcow2": "qcow2", ".vmdk": "vmdk", ".vdi": "vdi", ".vhdx": "vhdx"}
COLUMNS = ("IMAGE", "ROOT", "DISTRO", "VERSION", "HOSTNAME", "PACKAGES")


def audit(path):
    """(rows, why): the table rows (tuples of COLUMNS) for one image, and
    None, or why it could not be audited."""
    name = os.path.basename(path)
    fmt = FORMATS.get(os.path.splitext(path)[1].lower(), "raw")
    with guestfs.GuestFS(python_return_dict=True) as g:
        try:
            g.add_drive_opts(path, format=fmt, readonly=True)
            g.launch()
            roots = g.inspect_os()
        except RuntimeError as e:
            return [(name,) + ("-",) * 5], str(e)
        if not roots:
            return [(name,) + ("-",) * 5], "no operating system found"
        rows = []
        for root in roots:
            version = "%d.%d" % (g.inspect_get_major_version(root),
                                 g.inspect_get_minor_version(root))
            try:
                packages = str(len(g.inspect_list_applications(root)))
            except RuntimeError:
                packages = "?"
            rows.append((name, root, g.inspect_get_distro(root), version,
                         g.inspect_get_hostname(root), packages))
        return rows, None


def print_table(rows):
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(COLUMNS))]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def main():
    p = argparse.ArgumentParser(description="Audit a directory of disk images.")
    p.add_argument("--jobs", type=int, default=1, help="images audited at once")
    p.add_argument("dir", help="directory holding the images")
    args = p.parse_args()
    try:
        images = sorted(os.path.join(args.dir, f) for f in os.listdir(args.dir)
                        if os.path.isfile(os.path.join(args.dir, f)))
    except OSError as e:
        sys.exit("audit-images: %s: %s" % (args.dir, e.strerror))
    if not images:
        sys.exit("audit-images: %s: no images" % args.dir)
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = list(pool.map(audit, images))
    print_table([COLUMNS] + [row for rows, _ in results for row in rows])
    failed = [(os.path.basename(path), why) for path, (_, why) in zip(images, results) if why]
    for name, why in failed:
        print("%s: %s" % (name, why))
    print("%d images, %d audited, %d failed" % (len(images), len(images) - len(failed), len(failed)))
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
