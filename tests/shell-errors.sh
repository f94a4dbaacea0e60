#!/bin/bash
# tests/shell-errors.sh: `guestkit shell' on bad input, without a VM:
# unknown commands, wrong argument counts, bad integers and booleans,
# unbalanced quotes, bad escapes, NUL bytes, over-long lines, bad options;
# each gives a clear message naming the command or argument (and the
# script line) and a non-zero exit, never a crash.  Also help and quoting.
cd "$(dirname "$0")/.." || exit 1
G=runner/guestkit
out=tests/out/shell-errors-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
[ -x $G ] || { echo "FAIL: shell-errors: $G is not built (make all)"; exit 1; }

# expect NAME RC STDERR-PATTERN -- COMMAND...: exit status RC and a
# message matching the pattern on stderr.
expect() {
  local name=$1 rc=$2 pat=$3; shift 4
  "$@" >"$out/out" 2>"$out/err" </dev/null; local got=$?
  if [ "$got" != "$rc" ]; then echo "FAIL: $name: exit $got, expected $rc: $(head -c 300 "$out/err")"
  elif [ $got -ge 128 ]; then echo "FAIL: $name: killed by signal $((got - 128))"
  elif ! grep -qE -- "$pat" "$out/err"; then echo "FAIL: $name: no /$pat/ in: $(head -c 300 "$out/err")"
  else echo "PASS: $name"; fi
}
script() { printf '%s\n' "$@" >"$out/s.gk"; }   # a script, one argument a line

expect unknown-command 1 "unknown command 'frobnicate'" -- $G shell frobnicate
expect suggestion 1 "did you mean 'mount'" -- $G shell mountt /dev/sda1 /
expect notinfish 1 "unknown command 'wait-ready'" -- $G shell wait-ready
expect arg-count 1 "mount: expected 2 arguments, got 1 \(usage: mount device mountpoint\)" -- \
  $G shell mount /dev/sda1
expect bad-int 1 "set_memsize: memsize: expected an integer .*got 'lots'" -- $G shell set-memsize lots
expect int-range 1 "set_memsize: memsize: 4294967296 is out of range" -- $G shell set-memsize 4294967296
expect bad-octal 1 "memsize: expected an integer .*got '09'" -- $G shell set-memsize 09
expect bad-bool 1 "set_autosync: autosync: expected true or false .*got 'maybe'" -- \
  $G shell set-autosync maybe
expect chain-stops 1 "unknown command 'nosuch'" -- $G shell echo a : nosuch : echo b
check_out() { # name, expected stdout
  if [ "$(cat "$out/out")" = "$2" ]; then echo "PASS: $1"; else echo "FAIL: $1: got '$(head -c 200 "$out/out")'"; fi
}
check_out chain-stops-output a

script 'echo one' 'echo "two' 'echo three'
expect unbalanced-double 1 "s.gk:2: unterminated double quote" -- $G shell -f "$out/s.gk"
check_out unbalanced-stops one
script "echo 'one"
expect unbalanced-single 1 "s.gk:1: unterminated single quote" -- $G shell -f "$out/s.gk"
script '# comment' '' 'echo "a\qb"'
expect bad-escape 1 "s.gk:3: unknown escape .q" -- $G shell -f "$out/s.gk"
script 'echo "\x00"'
expect nul-escape 1 "s.gk:1: an escape makes a NUL byte" -- $G shell -f "$out/s.gk"
printf 'echo ok\necho a\000b\n' >"$out/s.gk"
expect nul-byte 1 "s.gk:2: the line holds a NUL byte" -- $G shell -f "$out/s.gk"
{ printf 'echo '; head -c 1100000 /dev/zero | tr '\0' x; printf '\necho after\n'; } >"$out/s.gk"
expect long-line 1 "s.gk:1: line longer than 1048576 bytes" -- $G shell -f "$out/s.gk"
script 'echo x' '' '  bogus-cmd 1 2'
expect script-line 1 "s.gk:3: unknown command 'bogus-cmd'" -- $G shell -f "$out/s.gk"
expect stdin-line 1 "stdin:2: unknown command 'nope'" -- \
  bash -c "printf 'echo x\nnope\n' | $G shell"
expect missing-script 1 "nonexistent.gk: No such file" -- $G shell -f "$out/nonexistent.gk"
expect local-fails 1 "!exit 3: exit status 3" -- $G shell -f <(printf '!exit 3\n')
expect bad-option 2 "unrecognized option" -- $G shell --bogus
expect i-without-a 2 "-i and -m need drives" -- $G shell -i
expect format-without-a 2 "shell: --format qcow2: no -a IMG follows it" -- $G shell --format qcow2
expect format-after-a 2 "shell: --format qcow2: no -a IMG follows it" -- \
  $G shell -a "$out/x.img" --format qcow2 echo hi
expect f-and-commands 2 "either with -f or on the command line" -- $G shell -f x echo
expect help-unknown 1 "help: unknown command 'nosuch'" -- $G shell help nosuch

# Quoting and the `-' prefix, with no VM: echo only.
script '# comment' '  # indented comment' 'echo plain  '"'"'single \n $x'"'"' "dq\t\x41\101\\\"" a'"'"'b'"'"'"c"' '-nosuch' 'echo after'
expect quoting 0 "unknown command 'nosuch'" -- $G shell -f "$out/s.gk"
check_out quoting-words "$(printf 'plain single \\n $x dq\tAA\\" abc\nafter')"
printf 'echo one\nquit\necho two\n' | $G shell >"$out/out" 2>&1
check_out quit-stops one

$G shell help >"$out/out" 2>&1
if grep -q '^  list-devices  *list whole-disk' "$out/out" && grep -q 'run=launch' "$out/out" &&
   ! grep -q 'wait-ready' "$out/out"; then echo "PASS: help-list"
else echo "FAIL: help-list: $(head -c 300 "$out/out")"; fi
$G shell help mount-ro >"$out/out" 2>&1
if grep -q '^usage: mount-ro device mountpoint$' "$out/out" &&
   grep -q 'returns: nothing' "$out/out"; then echo "PASS: help-command"
else echo "FAIL: help-command: $(cat "$out/out")"; fi
$G shell help run >"$out/out" 2>&1
if grep -q '^usage: launch$' "$out/out" && grep -q '^alias: run$' "$out/out"; then echo "PASS: help-alias"
else echo "FAIL: help-alias: $(cat "$out/out")"; fi
$G shell --help >"$out/out" 2>&1 && grep -q -- '--format FMT' "$out/out" &&
  echo "PASS: usage" || echo "FAIL: usage: $(head -3 "$out/out")"

# Random bytes as a script ('!' removed: no host commands) end in an
# error message, not a crash.
head -c 65536 /dev/urandom | tr -d '!' >"$out/s.gk"
$G shell -f "$out/s.gk" >/dev/null 2>"$out/err"; rc=$?
if [ $rc = 1 ] && [ -s "$out/err" ]; then echo "PASS: random-script"
else echo "FAIL: random-script: exit $rc: $(head -c 200 "$out/err")"; fi
