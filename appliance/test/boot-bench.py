#!/usr/bin/env python3
"""boot-bench: time an appliance boot from qemu start to the launch word.

Throwaway measuring tool for appliance/ (not part of the build).  Listens on
a Unix socket as the library will, starts qemu with the given appliance and
options, and reports the seconds from fork to the 4-byte launch word
0xf5f55ff5 arriving, plus qemu's peak RSS (VmHWM) a moment later.  With -v
it prints what hello-init sent after the word, and the serial console.

  boot-bench.py [-n RUNS] [-v] [--disk IMG]... APPLIANCE_DIR -- QEMU_ARGS...

QEMU_ARGS may use {kernel} {initrd} {root} {sock} {disks}; {disks} expands
to the virtio-scsi controller plus one scsi-hd per --disk.
"""

import argparse, os, socket, statistics, subprocess, sys, tempfile, time

LAUNCH = bytes.fromhex("f5f55ff5")


def disk_args(disks):
    if not disks:
        return []
    a = ["-device", "virtio-scsi-pci,id=scsi0"]
    for i, img in enumerate(disks):
        a += ["-blockdev", f"driver=file,filename={img},node-name=f{i},read-only=on",
              "-blockdev", f"driver=raw,file=f{i},node-name=hd{i},read-only=on",
              "-device", f"scsi-hd,drive=hd{i},bus=scsi0.0,lun={i}"]
    return a


def vmhwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return -1


def one_run(app, qargs, disks, verbose, timeout):
    tmp = tempfile.mkdtemp(prefix="gkbench.")
    sock = os.path.join(tmp, "sock")
    console = os.path.join(tmp, "console")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock)
    srv.listen(1)
    args = []
    for a in qargs:
        if a == "{disks}":
            args += disk_args(disks)
        else:
            args.append(a.format(kernel=f"{app}/kernel", initrd=f"{app}/initrd",
                                 root=f"{app}/root", sock=sock))
    t0 = time.monotonic()
    with open(console, "wb") as cons:
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=cons,
                             stderr=subprocess.STDOUT)
    srv.settimeout(timeout)
    got, rest, t = b"", b"", None
    try:
        conn, _ = srv.accept()
        conn.settimeout(timeout)
        while len(got) < 4:
            b = conn.recv(4 - len(got))
            if not b:
                break
            got += b
        t = time.monotonic() - t0
        conn.settimeout(1.0)
        try:
            while b"--- end" not in rest:
                b = conn.recv(65536)
                if not b:
                    break
                rest += b
        except socket.timeout:
            pass
    except socket.timeout:
        pass
    rss = vmhwm(p.pid)
    p.kill()
    p.wait()
    if got != LAUNCH:
        t = None
    if verbose or t is None:
        sys.stdout.write(rest.decode(errors="replace"))
        with open(console, "rb") as f:
            sys.stdout.write("--- console\n" + f.read().decode(errors="replace"))
    subprocess.call(["rm", "-rf", tmp])
    return t, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=3)
    ap.add_argument("-v", action="store_true")
    ap.add_argument("--disk", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("app")
    ap.add_argument("qemu", nargs=argparse.REMAINDER)
    o = ap.parse_args()
    q = o.qemu[1:] if o.qemu and o.qemu[0] == "--" else o.qemu
    times, rsss = [], []
    for i in range(o.n):
        t, rss = one_run(o.app, q, o.disk, o.v, o.timeout)
        print(f"run {i}: launch {'FAILED' if t is None else f'{t:.3f} s'}  VmHWM {rss} MiB",
              flush=True)
        if t is not None:
            times.append(t)
            rsss.append(rss)
    if times:
        print(f"median {statistics.median(times):.3f} s  min {min(times):.3f}  "
              f"max {max(times):.3f}  VmHWM median {statistics.median(rsss)} MiB")


if __name__ == "__main__":
    main()
