#!/usr/bin/python3
"""tests/python-threads.py: the GIL is released during each call.

Two threads, one handle each, each with its own appliance.  Each calls
sleep(3), a call that blocks in the appliance; the second starts once
the first is in its call.  Were the GIL held during a call, the second
thread could not even note its start until the first call ended;
released, both calls start before either ends.  What is checked is that
order (the intervals overlap), never a duration.

Then two threads share one handle: the handle's lock makes their calls
take turns (the C contract: one call at a time per handle), so all of
them succeed; and a close from another thread while calls wait makes the
waiting calls raise ClosedHandle, not crash.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"))
import gktest  # noqa: E402
from gktest import check  # noqa: E402

guestfs = gktest.import_guestfs()
tmp = gktest.scratch_dir("threads")


def run_threads(fn, n=2):
    """Run fn(0) ... fn(n - 1) in n threads and wait for them."""
    ts = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def launched(name):
    g = guestfs.GuestFS()
    g.add_drive_opts(gktest.scratch_disk(tmp, name, 16), format="raw")
    g.launch()
    return g


def two_handles_overlap():
    handles, errors = [None, None], []

    def start(i):
        try:
            handles[i] = launched("t%d.img" % i)
        except Exception as e:          # noqa: BLE001 (reported below)
            errors.append(e)
    run_threads(start)
    assert not errors, errors
    events = []                          # (time, "start"/"end", thread)
    first_in = threading.Event()

    def work(i):
        if i == 1:
            # Start once thread 0 is (most likely) inside its call.  Were
            # its GIL held, this thread could not go on until that call
            # ended.  A slow machine can only make the check weaker here,
            # never fail it falsely.
            first_in.wait()
            time.sleep(0.5)
        events.append((time.monotonic(), "start", i))
        if i == 0:
            first_in.set()
        handles[i].sleep(3)
        events.append((time.monotonic(), "end", i))
    run_threads(work)
    for h in handles:
        h.close()
    order = [(kind, i) for _, kind, i in sorted(events)]
    assert order == [("start", 0), ("start", 1), ("end", 0), ("end", 1)], sorted(events)


def one_handle_two_threads():
    g = launched("shared.img")
    g.part_disk("/dev/sda", "mbr")
    g.mkfs("ext4", "/dev/sda1")
    g.mount("/dev/sda1", "/")
    results, errors = [], []

    def work(i):
        try:
            for j in range(25):
                g.write_file("/f%d-%d" % (i, j), "thread %d call %d" % (i, j), 0)
                results.append(g.cat("/f%d-%d" % (i, j)) == "thread %d call %d" % (i, j))
        except Exception as e:          # noqa: BLE001
            errors.append(e)
    run_threads(work)
    assert not errors, errors
    assert results == [True] * 50, results
    assert len(g.ls("/")) == 51, g.ls("/")        # 50 files and lost+found

    # A close while another thread is in a call: the call finishes or
    # raises ClosedHandle; nothing else.
    outcome = []

    def sleeper():
        try:
            g.sleep(2)
            outcome.append("finished")
        except guestfs.ClosedHandle:
            outcome.append("closed")
    t = threading.Thread(target=sleeper)
    t.start()
    time.sleep(0.5)
    g.close()
    t.join()
    assert outcome in (["finished"], ["closed"]), outcome
    try:
        g.ls("/")
        raise AssertionError("ls after close did not raise")
    except guestfs.ClosedHandle:
        pass


check("python-threads-gil-released", two_handles_overlap)
check("python-threads-one-handle", one_handle_two_threads)
gktest.done()
