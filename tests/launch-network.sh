#!/bin/bash
# tests/launch-network.sh: the appliance's network (set_network), seen
# from the guest side and, where Landlock has TCP rules (ABI >= 4), from
# a listener on the host's loopback that qemu is told to connect to
# (-netdev socket,connect=; core/confine.c):
#  - a RESTORED appliance (the snapshot path) with set_network true has a
#    NIC up with 10.0.2.15/24 and the default route via 10.0.2.2, read
#    from the appliance's own /proc and /sys by a guest shell (the host's
#    dash, uploaded to a scratch disk; `sh' binds /proc and /sys in);
#    without set_network there is no such NIC (the same reading, so the
#    check can fail); a cold boot's guestd log says the NIC is up
#  - network off: the connection is refused to qemu (Permission denied)
#    and the listener sees nothing
#  - network on: a port other than 80 and 443 is still refused
#  - network on, port 443: the connection arrives (the rule lets the
#    mirror through); skipped if 443 is taken on this host
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
out=$PWD/tests/out/launch-network-$$; mkdir -p "$out"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$out"' EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }

# ---- The guest side ----

# A scratch disk whose tree holds a shell (dash and what it loads).
truncate -s 64M "$out/guest.img"
{
  echo 'run'
  echo 'mkfs ext2 /dev/sda'
  echo 'mount /dev/sda /'
  for d in /bin /lib64 /lib /lib/x86_64-linux-gnu /proc /sys /dev; do echo "mkdir $d"; done
  echo 'upload /bin/dash /bin/sh'
  echo 'upload /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libc.so.6'
  echo 'upload /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2'
  echo 'chmod 0755 /bin/sh'
  echo 'chmod 0755 /lib64/ld-linux-x86-64.so.2'
} >"$out/prep.gk"
if ! timeout 300 $gk shell -a "$out/guest.img" -f "$out/prep.gk" >"$out/prep.out" 2>&1; then
  fail guest-prepare "$(tail -3 "$out/prep.out")"; exit 1
fi

# net-state NETWORK FILE: in a restored appliance, print each interface
# as "if NAME FLAGS", then /proc/net/route and /proc/net/fib_trie; the
# debug output goes to FILE.err.
net_state() {
  local script='cd /sys/class/net && for n in *; do read f <"$n/flags"; echo "if $n $f"; done
while read -r l; do echo "route $l"; done </proc/net/route
while read -r l; do echo "fib $l"; done </proc/net/fib_trie'
  LIBGUESTFS_DEBUG=1 timeout 300 $gk shell --ro -a "$out/guest.img" \
    set-network "$1" : run : mount-ro /dev/sda / : sh "$script" >"$2" 2>"$2.err"
}
# restored FILE: the launch restored the saved appliance (no cold boot).
restored() { grep -q 'launch timings: .*state load' "$1.err" && ! grep -q 'booting cold instead' "$1.err"; }
# nic_up FILE: an interface other than lo, up (IFF_UP), holding 10.0.2.15
# (a /32 host LOCAL entry), the route 10.0.2.0/24 and the default route
# via 10.0.2.2 on it.  /proc/net/route is in hex, little-endian.
nic_up() {
  local f=$1 nic
  for nic in $(sed -n 's/^if \([^ ]*\) \(0x[0-9a-f]*\)$/\1:\2/p' "$f"); do
    [ "${nic%%:*}" = lo ] && continue
    [ $(( ${nic#*:} & 1 )) = 1 ] || continue
    nic=${nic%%:*}
    grep -qE "^route $nic[[:space:]]+0002000A[[:space:]]+00000000[[:space:]].*00FFFFFF" "$f" &&
      grep -qE "^route $nic[[:space:]]+00000000[[:space:]]+0202000A[[:space:]]" "$f" &&
      grep -A1 -E '^fib \|-- 10\.0\.2\.15$' "$f" | grep -q '/32 host LOCAL' && return 0
  done
  return 1
}

net_state true "$out/on"
if ! restored "$out/on"; then
  fail guest-nic-up-restored "the appliance was not restored: $(grep -m1 'snapshot' "$out/on.err")"
elif nic_up "$out/on"; then pass guest-nic-up-restored
else fail guest-nic-up-restored "$(grep -E '^(if|route)' "$out/on" | tr '\n' '|') $(tail -2 "$out/on.err")"; fi

net_state false "$out/off"
if ! restored "$out/off"; then
  fail guest-nic-absent-without-network "the appliance was not restored"
elif grep -q '^if lo ' "$out/off" && ! nic_up "$out/off" && ! grep -q '10\.0\.2\.15' "$out/off"; then
  pass guest-nic-absent-without-network
else fail guest-nic-absent-without-network "$(grep -E '^if' "$out/off" | tr '\n' '|') $(tail -2 "$out/off.err")"; fi

# A cold boot says so in guestd's log.
if LIBGUESTFS_DEBUG=1 GUESTKIT_SNAPSHOT=0 timeout 300 $gk shell set-network true : run 2>&1 |
   grep -q 'network: .* is 10.0.2.15/24'; then pass guest-nic-up-cold
else fail guest-nic-up-cold "no 'network: ... is 10.0.2.15/24' in the cold boot's log"; fi
timeout 120 $gk shell get-network : set-network true : get-network >"$out/5.out" 2>&1
[ "$(tr '\n' ' ' <"$out/5.out")" = "false true " ] && pass get-network || fail get-network "$(cat "$out/5.out")"

# ---- qemu's TCP under Landlock ----

LIBGUESTFS_DEBUG=1 $gk shell run 2>"$out/probe.err" >/dev/null
abi=$(sed -n 's/.*landlock: ABI \([0-9]*\).*/\1/p' "$out/probe.err" | head -1)
if [ -z "$abi" ] || [ "$abi" -lt 4 ]; then
  for t in tcp-refused-without-network tcp-other-port-refused-with-network tcp-443-allowed-with-network; do
    echo "SKIP: $t: Landlock without TCP rules on this kernel (ABI ${abi:-none})"
  done
  exit $rc
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

exit $rc
