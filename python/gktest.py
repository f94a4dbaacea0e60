"""python/gktest.py: the little harness of the Python tests (tests/python-*.py).

Like tests/harness.c: one line per check, PASS: name, FAIL: name: why or
SKIP: name: why, for tests/run-tests.sh to count; the exit status is 1
when a check failed.  The tests import the module built in the tree:
python/ goes first on sys.path, and the module's rpath finds
core/libguestkit.so.  Scratch files go under tests/out/python-NAME/,
removed at the end when every check passed.
"""
import os
import shutil
import sys
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "python"))

failed = 0


def skip(name, why):
    print("SKIP: %s: %s" % (name, why), flush=True)


def check(name, fn, *args):
    """Run fn(*args); an exception (an assert, say) fails the check."""
    global failed
    try:
        fn(*args)
    except Skip as e:
        skip(name, e)
        return
    except Exception as e:              # noqa: BLE001 (reported, not hidden)
        failed += 1
        where = traceback.extract_tb(e.__traceback__)[-1]
        print("FAIL: %s: line %d: %s: %s" % (name, where.lineno, type(e).__name__, e), flush=True)
        return
    print("PASS: %s" % name, flush=True)


class Skip(Exception):
    """Raised inside a check: the check is skipped with this reason."""


def raises(exc, fn, *args, **kw):
    """Call fn and return the exception of type exc it raises; fail if it
    raises nothing (or something else, which propagates)."""
    try:
        fn(*args, **kw)
    except exc as e:
        return e
    raise AssertionError("%s did not raise %s" % (getattr(fn, "__name__", fn), exc.__name__))


def import_guestfs():
    """The in-tree module, or exit after a SKIP/FAIL saying why."""
    flags = os.path.join(TOP, "tests", "out", "build-flags")
    sanitized = False
    if os.path.exists(flags):
        with open(flags) as f:
            sanitized = "-fsanitize" in f.read()
    if sanitized:
        skip("python", "the library is built with a sanitizer; python3 is not")
        sys.exit(77)
    try:
        import guestfs
    except ImportError as e:
        print("FAIL: python-import: %s (run make)" % e)
        sys.exit(1)
    if not os.path.abspath(guestfs.__file__).startswith(os.path.join(TOP, "python") + os.sep):
        print("FAIL: python-import: imported %s, not the tree's build" % guestfs.__file__)
        sys.exit(1)
    return guestfs


scratch = []


def scratch_dir(name):
    """An empty tests/out/python-NAME/, removed by done() unless a check
    failed (then it is kept to look at)."""
    d = os.path.join(TOP, "tests", "out", "python-%s" % name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    scratch.append(d)
    return d


def scratch_disk(d, name, mib):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.truncate(mib << 20)
    return path


def done():
    if not failed:
        for d in scratch:
            shutil.rmtree(d, ignore_errors=True)
    sys.exit(1 if failed else 0)
