#!/bin/bash
# tests/launch-network.sh: qemu's TCP under Landlock, with and without
# set_network (core/confine.c), seen from a listener on the host's
# loopback that qemu is told to connect to (-netdev socket,connect=):
#  - network off: the connection is refused to qemu (Permission denied)
#    and the listener sees nothing
#  - network on: a port other than 80 and 443 is still refused
#  - network on, port 443: the connection arrives (the rule lets the
#    mirror through); skipped if 443 is taken on this host
#  - network on: the appliance has its NIC up at 10.0.2.15 (dmesg names
#    virtio_net, guestd's log says so)
# Only run where Landlock has TCP rules (ABI >= 4); says so otherwise.
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/launch-network-$$; mkdir -p "$out"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$out"' EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }

LIBGUESTFS_DEBUG=1 $gk shell run 2>"$out/probe.err" >/dev/null
abi=$(sed -n 's/.*landlock: ABI \([0-9]*\).*/\1/p' "$out/probe.err" | head -1)
if [ -z "$abi" ] || [ "$abi" -lt 4 ]; then
  echo "Landlock without TCP rules on this kernel (ABI ${abi:-none}): nothing to test" >&2; exit 77
fi

# listen PORT FILE: accept one connection for 60 s, write ACCEPTED or
# NOCONN to FILE; its pid goes to pids.  Returns 1 if the port is taken.
listen() {
  python3 - "$1" "$2" <<'EOF' &
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    open(sys.argv[2], "w").write("BUSY\n"); sys.exit(0)
s.listen(1)
open(sys.argv[2], "w").write("LISTENING\n")
s.settimeout(60)
try:
    s.accept()
    open(sys.argv[2], "w").write("ACCEPTED\n")
except OSError:
    open(sys.argv[2], "w").write("NOCONN\n")
EOF
  pids+=($!)
  for _ in $(seq 50); do [ -s "$2" ] && break; sleep 0.1; done
  [ "$(cat "$2")" != BUSY ]
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

listen "$port" "$out/l1"
timeout 120 $gk shell config -netdev "socket,id=t0,connect=127.0.0.1:$port" : run >"$out/1.out" 2>&1
if grep -q 'Permission denied' "$out/1.out" && [ "$(cat "$out/l1")" = LISTENING ]; then
  pass tcp-refused-without-network
else fail tcp-refused-without-network "listener $(cat "$out/l1"): $(tail -2 "$out/1.out")"; fi

timeout 120 $gk shell set-network true : config -netdev "socket,id=t0,connect=127.0.0.1:$port" : run \
  >"$out/2.out" 2>&1
if grep -q 'Permission denied' "$out/2.out" && [ "$(cat "$out/l1")" = LISTENING ]; then
  pass tcp-other-port-refused-with-network
else fail tcp-other-port-refused-with-network "listener $(cat "$out/l1"): $(tail -2 "$out/2.out")"; fi

if listen 443 "$out/l2"; then
  timeout 120 $gk shell set-network true : config -netdev "socket,id=t0,connect=127.0.0.1:443" : run \
    >"$out/3.out" 2>&1
  for _ in $(seq 50); do [ "$(cat "$out/l2")" != LISTENING ] && break; sleep 0.1; done
  if [ "$(cat "$out/l2")" = ACCEPTED ]; then pass tcp-443-allowed-with-network
  else fail tcp-443-allowed-with-network "listener $(cat "$out/l2"): $(tail -2 "$out/3.out")"; fi
else
  echo "SKIP: tcp-443-allowed-with-network: port 443 is taken on this host"
fi

# The guest side: the NIC is up with the static address.
LIBGUESTFS_DEBUG=1 timeout 120 $gk shell set-network true : run : dmesg >"$out/4.out" 2>"$out/4.err"
if grep -q 'network: .* is 10.0.2.15/24' "$out/4.out" "$out/4.err" ||
   grep -q 'network: .* is 10.0.2.15/24' <(LIBGUESTFS_DEBUG=1 GUESTKIT_SNAPSHOT=0 timeout 120 \
     $gk shell set-network true : run 2>&1); then
  pass guest-nic-up
else fail guest-nic-up "$(grep -i 'network\|virtio_net' "$out/4.out" "$out/4.err" | head -3)"; fi
timeout 120 $gk shell get-network : set-network true : get-network >"$out/5.out" 2>&1
[ "$(tr '\n' ' ' <"$out/5.out")" = "false true " ] && pass get-network || fail get-network "$(cat "$out/5.out")"
exit $rc
