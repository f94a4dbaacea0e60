#!/bin/bash
# tests/shell-tty.sh: `guestkit shell' for a person at a keyboard, under a
# real pseudo-terminal (a private tmux server): Tab completion of command
# names and guest paths, the up arrow, history kept in
# ~/.guestkit_history; then edit, glob, --listen/--remote and --version,
# which need no terminal.
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
out=$PWD/tests/out/shell-tty-$$; mkdir -p "$out"
tmux_pid=; server_pid=; nobody_pid=
cleanup() {
  [ -n "$tmux_pid" ] && kill "$tmux_pid" 2>/dev/null
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "$nobody_pid" ] && kill "$nobody_pid" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }

tests/bin/make-sample-image "$out/disk.img" 32 ttyhost 2>"$out/mk.err" ||
  { fail shell-tty-image "$(tail -2 "$out/mk.err")"; exit 1; }

# ---- under a pseudo-terminal ----
if ! command -v tmux >/dev/null; then
  echo "SKIP: shell-tty-pty: tmux is not installed (make deps installs it)" >&2
else
  T="tmux -L gk-tty-$$ -f /dev/null"
  mkdir -p "$out/home"
  $T new-session -d -x 160 -y 40 -s t \
    "env HOME=$out/home TERM=xterm $G shell -a $out/disk.img -m /dev/sda1" 2>"$out/tmux.err"
  tmux_pid=$($T display-message -p '#{pid}' 2>/dev/null)
  # The screen, trailing blanks kept (-N): "mount " differs from "mount".
  screen() { $T capture-pane -p -N -t t 2>/dev/null; }
  # wait_for ERE [SECONDS]: until the screen shows it.
  wait_for() {
    local end=$((SECONDS + ${2:-120}))
    while [ $SECONDS -le $end ]; do
      screen | grep -qE -- "$1" && return 0
      sleep 0.2
    done
    return 1
  }
  if ! wait_for 'guestkit> ' 300; then
    fail shell-tty-prompt "no prompt: $(screen | tail -5 | tr '\n' '|')"
  else
    pass shell-tty-prompt
    # A command name: "mou" has one common prefix, "mount".
    $T send-keys -t t 'mou' Tab
    wait_for 'guestkit> mount$' 10 && pass shell-tty-complete-command ||
      fail shell-tty-complete-command "$(screen | tail -2 | tr '\n' '|')"
    $T send-keys -t t C-u
    # A guest path prefix with one match, read from the appliance.
    $T send-keys -t t 'cat /etc/hostn' Tab
    wait_for 'guestkit> cat /etc/hostname ' 30 && pass shell-tty-complete-path ||
      fail shell-tty-complete-path "$(screen | tail -2 | tr '\n' '|')"
    $T send-keys -t t Enter
    wait_for '^ttyhost$' 30 && pass shell-tty-run || fail shell-tty-run "$(screen | tail -3 | tr '\n' '|')"
    # A directory completes with its slash and no space.
    $T send-keys -t t 'ls /ho' Tab
    wait_for 'guestkit> ls /home/$' 30 && pass shell-tty-complete-dir ||
      fail shell-tty-complete-dir "$(screen | tail -2 | tr '\n' '|')"
    $T send-keys -t t C-u 'echo first-line' Enter
    wait_for '^first-line$' 10
    # The up arrow brings the last command back; Ctrl-A moves to the start.
    $T send-keys -t t Up
    wait_for 'guestkit> echo first-line$' 10 && pass shell-tty-up-arrow ||
      fail shell-tty-up-arrow "$(screen | tail -2 | tr '\n' '|')"
    $T send-keys -t t C-a 'echo X-' Enter
    wait_for '^X-echo first-line$' 10 && pass shell-tty-ctrl-a ||
      fail shell-tty-ctrl-a "$(screen | tail -2 | tr '\n' '|')"
    $T send-keys -t t 'quit' Enter
    for ((i = 0; i < 100; i++)); do kill -0 "$tmux_pid" 2>/dev/null || break; sleep 0.1; done
    # libedit's format: a header line, then entries with blanks as \040.
    sed 's/\\040/ /g' "$out/home/.guestkit_history" >"$out/hist" 2>/dev/null
    if grep -qx 'echo first-line' "$out/hist" && grep -qx 'cat /etc/hostname ' "$out/hist"; then
      pass shell-tty-history-file
    else fail shell-tty-history-file "$(tr '\n' '|' <"$out/home/.guestkit_history" 2>&1)"; fi
    [ "$(stat -c %a "$out/home/.guestkit_history" 2>/dev/null)" = 600 ] &&
      pass shell-tty-history-private || fail shell-tty-history-private "mode $(stat -c %a "$out/home/.guestkit_history")"
  fi
  kill "$tmux_pid" 2>/dev/null; tmux_pid=
  # GUESTKIT_HISTORY=0: nothing is written.
  mkdir -p "$out/home2"
  $T new-session -d -x 120 -y 20 -s u \
    "env HOME=$out/home2 GUESTKIT_HISTORY=0 TERM=xterm $G shell" 2>>"$out/tmux.err"
  tmux_pid=$($T display-message -p '#{pid}' 2>/dev/null)
  $T send-keys -t u 'echo x' Enter 'quit' Enter
  for ((i = 0; i < 100; i++)); do kill -0 "$tmux_pid" 2>/dev/null || break; sleep 0.1; done
  [ ! -e "$out/home2/.guestkit_history" ] && pass shell-tty-history-off ||
    fail shell-tty-history-off "a history file was written"
  kill "$tmux_pid" 2>/dev/null; tmux_pid=
fi

# Progress bars: on a pseudo-terminal's stderr, never on a pipe.
head -c 8388608 /dev/urandom >"$out/big"
if command -v script >/dev/null; then
  script -q -e -c "$G shell --progress-bars -a $out/disk.img -m /dev/sda1 upload $out/big /big : rm /big" \
    "$out/typescript" >/dev/null 2>&1
  grep -qaE '\[#+ *\] +[0-9]+%.*/s' "$out/typescript" && grep -qa '100%' "$out/typescript" &&
    pass shell-progress-pty || fail shell-progress-pty "$(tr -c '[:print:]' '.' <"$out/typescript" | head -c 300)"
else
  echo "SKIP: shell-progress-pty: script(1) is not installed" >&2
  echo "SKIP: shell-progress-pty: script(1) is not installed"
fi
$G shell --progress-bars -a "$out/disk.img" -m /dev/sda1 upload "$out/big" /big2 : \
  checksum md5 /big2 : rm /big2 >"$out/o" 2>"$out/e"
[ ! -s "$out/e" ] && [ "$(cat "$out/o")" = "$(md5sum <"$out/big" | cut -d' ' -f1)" ] &&
  pass shell-progress-not-on-pipe || fail shell-progress-not-on-pipe "$(head -c 200 "$out/e")"
rm -f "$out/big"

# Off a terminal, no line editing: the prompt is not printed and the
# commands of stdin run as a script.
printf 'echo plain\n' | HOME=$out/home3 $G shell >"$out/o" 2>&1
[ "$(cat "$out/o")" = plain ] && [ ! -e "$out/home3/.guestkit_history" ] &&
  pass shell-pipe-plain || fail shell-pipe-plain "$(head -3 "$out/o" | tr '\n' '|')"

# ---- edit ----
cat >"$out/editor" <<'EOF'
#!/bin/sh
sed -i 's/ttyhost/edited-host/' "$1"
EOF
chmod +x "$out/editor"
ino() { $G shell -a "$out/disk.img" -m /dev/sda1 stat /etc/hostname 2>&1 | sed -n 's/^ino: //p'; }
ino0=$(ino)
EDITOR=true $G shell -a "$out/disk.img" -m /dev/sda1 edit /etc/hostname : cat /etc/hostname >"$out/o" 2>&1
[ "$(cat "$out/o")" = ttyhost ] && [ "$(ino)" = "$ino0" ] && [ -n "$ino0" ] &&
  pass shell-edit-unchanged-no-upload || fail shell-edit-unchanged-no-upload "$(tr '\n' '|' <"$out/o") ino $ino0 -> $(ino)"
$G shell -a "$out/disk.img" -m /dev/sda1 chmod 0640 /etc/hostname 2>/dev/null
EDITOR=$out/editor $G shell -a "$out/disk.img" -m /dev/sda1 edit /etc/hostname : \
  cat /etc/hostname : stat /etc/hostname : ls /etc >"$out/o" 2>&1
if [ "$(head -1 "$out/o")" = edited-host ] && grep -qx 'mode: 33184' "$out/o" &&
   ! grep -q guestkit-edit "$out/o"; then pass shell-edit-changes
else fail shell-edit-changes "$(tr '\n' '|' <"$out/o")"; fi
ls "${TMPDIR:-/tmp}" | grep -q "^guestkit-edit-" && fail shell-edit-temp-removed "left in ${TMPDIR:-/tmp}" ||
  pass shell-edit-temp-removed
# An editor that fails leaves the file as it was.
EDITOR=false $G shell -a "$out/disk.img" -m /dev/sda1 edit /etc/hostname >"$out/o" 2>&1; rc=$?
[ $rc = 1 ] && grep -q "exited with status 1" "$out/o" &&
  [ "$($G shell -a "$out/disk.img" -m /dev/sda1 cat /etc/hostname)" = edited-host ] &&
  pass shell-edit-editor-fails || fail shell-edit-editor-fails "rc $rc: $(tr '\n' '|' <"$out/o")"
$G shell -a "$out/disk.img" -m /dev/sda1 edit /nonexistent >"$out/o" 2>&1
[ $? = 1 ] && grep -q 'nonexistent' "$out/o" && pass shell-edit-missing || fail shell-edit-missing "$(cat "$out/o")"
PAGER=cat $G shell -a "$out/disk.img" -m /dev/sda1 more /etc/hostname >"$out/o" 2>&1
[ "$(cat "$out/o")" = edited-host ] && pass shell-more || fail shell-more "$(tr '\n' '|' <"$out/o")"

# ---- glob: one run per match ----
$G shell -a "$out/disk.img" -m /dev/sda1 mkdir /g : write-file /g/a.txt A 0 : \
  write-file /g/b.txt B 0 : write-file /g/c.txt C 0 : write-file /g/d.dat D 0 : \
  glob cat '/g/*.txt' >"$out/o" 2>&1
[ "$(cat "$out/o")" = "$(printf 'A\nB\nC')" ] && pass shell-glob-three ||
  fail shell-glob-three "$(tr '\n' '|' <"$out/o")"
$G shell -a "$out/disk.img" -m /dev/sda1 glob echo '/g/*.none' >"$out/o" 2>&1
[ "$(cat "$out/o")" = '/g/*.none' ] && pass shell-glob-no-match || fail shell-glob-no-match "$(cat "$out/o")"

# ---- --listen / --remote: one appliance, many invocations ----
export XDG_RUNTIME_DIR=$out/run; mkdir -m 700 "$XDG_RUNTIME_DIR"
line=$($G shell --listen -a "$out/disk.img" 2>"$out/listen.err")
server_pid=$(printf '%s' "$line" | sed -n 's/^GUESTKIT_PID=\([0-9]*\); export GUESTKIT_PID$/\1/p')
if [ -z "$server_pid" ]; then
  fail shell-listen "printed '$line': $(cat "$out/listen.err")"
else
  export GUESTKIT_PID=$server_pid
  $G shell --remote mount /dev/sda1 / &&
    $G shell --remote write-file /remote-mark "from remote" 0 &&
    r=$($G shell --remote cat /remote-mark) && [ "$r" = "from remote" ] &&
    pass shell-remote-same-appliance || fail shell-remote-same-appliance "got '$r'"
  $G shell --remote mkdir /g >"$out/o" 2>&1; rc=$?
  [ $rc = 1 ] && grep -q 'File exists' "$out/o" && pass shell-remote-error ||
    fail shell-remote-error "rc $rc: $(cat "$out/o")"
  r=$(printf 'is-dir /etc\necho done\n' | $G shell --remote)
  [ "$r" = "$(printf 'true\ndone')" ] && pass shell-remote-stdin || fail shell-remote-stdin "'$r'"
  [ "$(stat -c %a "$XDG_RUNTIME_DIR/guestkit")" = 700 ] && pass shell-remote-dir-private ||
    fail shell-remote-dir-private "mode $(stat -c %a "$XDG_RUNTIME_DIR/guestkit")"
  # Another user cannot reach the socket at all ...
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$out" "$XDG_RUNTIME_DIR"
    setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - \
      "$XDG_RUNTIME_DIR/guestkit/socket-$server_pid" >"$out/o" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
try:
    s.connect(sys.argv[1]); print("connected")
except OSError as e:
    print("refused", e.errno)
EOF
    grep -q '^refused' "$out/o" && pass shell-remote-other-user-no-access ||
      fail shell-remote-other-user-no-access "$(cat "$out/o")"
    # ... and a server checks its peer's uid: root talking to nobody's
    # server is refused by the server, and by guestkit's client too.
    mkdir -m 700 "$out/nrun"; chown 65534:65534 "$out/nrun"
    setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_RUNTIME_DIR=$out/nrun HOME=$out/nrun \
      GUESTKIT_CACHEDIR=$out/nrun/cache $G shell --listen >"$out/nline" 2>"$out/n.err"
    nobody_pid=$(sed -n 's/^GUESTKIT_PID=\([0-9]*\);.*/\1/p' "$out/nline")
    python3 - "$out/nrun/guestkit/socket-$nobody_pid" >"$out/o" 2>&1 <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
print(s.recv(200).decode(errors="replace").strip())
EOF
    grep -q "refused: not the server's user" "$out/o" && pass shell-remote-peer-uid-checked ||
      fail shell-remote-peer-uid-checked "$(cat "$out/o" "$out/n.err")"
    XDG_RUNTIME_DIR=$out/nrun $G shell --remote=$nobody_pid echo hi >"$out/o" 2>&1
    [ $? = 1 ] && grep -q 'refusing it' "$out/o" && pass shell-remote-client-refuses ||
      fail shell-remote-client-refuses "$(cat "$out/o")"
    kill "$nobody_pid" 2>/dev/null; nobody_pid=
  else
    echo "SKIP: shell-remote-other-user: needs root and setpriv" >&2
    echo "SKIP: shell-remote-other-user: needs root and setpriv"
  fi
  $G shell --remote quit
  for ((i = 0; i < 100; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$server_pid" 2>/dev/null && fail shell-remote-quit "server $server_pid still runs" ||
    { pass shell-remote-quit; server_pid=; }
  $G shell -a "$out/disk.img" -m /dev/sda1 cat /remote-mark >"$out/o" 2>&1
  [ "$(cat "$out/o")" = "from remote" ] && pass shell-remote-written || fail shell-remote-written "$(cat "$out/o")"
fi
$G shell --remote=999999999 echo x >"$out/o" 2>&1
[ $? = 1 ] && grep -q 'no server' "$out/o" && pass shell-remote-no-server || fail shell-remote-no-server "$(cat "$out/o")"
GUESTKIT_PID= $G shell --remote echo x >"$out/o" 2>&1
[ $? = 2 ] && pass shell-remote-needs-pid || fail shell-remote-needs-pid "$(cat "$out/o")"
$G shell --remote -a "$out/disk.img" echo x >"$out/o" 2>&1
[ $? = 2 ] && pass shell-remote-usage || fail shell-remote-usage "$(cat "$out/o")"

# ---- --version ----
v=$($G --version)
case "$v" in "guestkit "[0-9]*) pass version ;; *) fail version "'$v'" ;; esac
[ "$($G shell --version)" = "$v" ] && [ "$($G run --version)" = "$v" ] && pass version-subcommand ||
  fail version-subcommand "$($G shell --version)"
exit 0
