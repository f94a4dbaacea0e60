#!/bin/bash
# tests/cache-rule.sh: `guestkit cache' and the pruning rule on a cache of
# small made-up entries (no VM): listing with size, last use and in use;
# --prune removes what is unused for GUESTKIT_CACHE_DAYS and, oldest
# first, what is beyond GUESTKIT_CACHE_SIZE, and skips an entry in use;
# --clear removes everything not in use; bad arguments exit 2.
# An entry is held in use the way a handle holds it: a shared flock
# (here on an fd of this shell).
cd "$(dirname "$0")/.." || exit 1
G=$PWD/runner/guestkit
out=$PWD/tests/out/cache-rule-$$
trap 'rm -rf "$out"' EXIT
export GUESTKIT_CACHEDIR=$out/cache
mkdir -p "$out"; mkdir -m 0700 "$GUESTKIT_CACHEDIR"
unset GUESTKIT_CACHE_DAYS GUESTKIT_CACHE_SIZE
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
# entry NAME MIB AGE: an appliance directory (name appliance-*) or a
# snapshot file, MIB of real blocks, last used AGE ago ("9 days").
entry() {
  local p=$GUESTKIT_CACHEDIR/$1
  case $1 in
    appliance-*) mkdir "$p"; for f in kernel initrd; do : >"$p/$f"; done
                 head -c $(($2 << 20)) /dev/zero >"$p/root"; touch -d "$3 ago" "$p" ;;
    *) head -c $(($2 << 20)) /dev/zero >"$p"; touch -d "$3 ago" "$p" ;;
  esac
}
there() { [ -e "$GUESTKIT_CACHEDIR/$1" ]; }
# names NAME...: exactly these entries are left
names() { [ "$(cd "$GUESTKIT_CACHEDIR" && ls -d appliance-* snapshot-* 2>/dev/null | sort | tr '\n' ' ')" = "${*:+$* }" ]; }

entry appliance-old 1 "9 days"       # unused for more than 7 days
entry snapshot-old 1 "8 days"
entry appliance-busy 1 "10 days"     # as old, but in use
entry appliance-mid 2 "3 days"       # the oldest of the recent ones
entry snapshot-mid 1 "2 days"
entry appliance-new 2 "1 hour"
entry snapshot-new.tmp123 1 "1 hour" # left by a killed save
exec 8<"$GUESTKIT_CACHEDIR/appliance-busy" && flock -s 8   # held by this shell's fd 8

$G cache >"$out/list" 2>"$out/err"
if [ $? = 0 ] && grep -qE '^appliance +1\.0M +10d +yes +.*/appliance-busy$' "$out/list" &&
   grep -qE '^appliance +2\.0M +3d +no +.*/appliance-mid$' "$out/list" &&
   grep -qE '^snapshot +1\.0M +8d +no +.*/snapshot-old$' "$out/list" &&
   grep -qE '^temporary .*/snapshot-new\.tmp123$' "$out/list" &&
   grep -qE '^7 entries, 9\.0M$' "$out/list"; then
  pass cache-list
else
  fail cache-list "$(tr '\n' '|' <"$out/list") $(cat "$out/err")"
fi

# Age only (the budget is large): the old, unused ones and the temp file go.
GUESTKIT_CACHE_SIZE=1G $G cache --prune >"$out/out" 2>&1
if grep -q '^removed 3 entries$' "$out/out" &&
   names appliance-busy appliance-mid appliance-new snapshot-mid; then
  pass cache-prune-age
else
  fail cache-prune-age "$(cat "$out/out"); left: $(ls "$GUESTKIT_CACHEDIR")"
fi

# Age in days is configurable: with 2.5 days, appliance-mid goes too.
GUESTKIT_CACHE_DAYS=2.5 $G cache --prune >"$out/out" 2>&1
if grep -q '^removed 1 entry$' "$out/out" &&
   names appliance-busy appliance-new snapshot-mid; then
  pass cache-prune-days
else
  fail cache-prune-days "$(cat "$out/out"); left: $(ls "$GUESTKIT_CACHEDIR")"
fi

# Size: 6 MiB in the cache, a 5 MiB budget: the oldest entry not in use
# (appliance-mid) goes, and only it; the busy one (older still) stays.
entry appliance-mid 2 "3 days"
GUESTKIT_CACHE_DAYS=30 GUESTKIT_CACHE_SIZE=5M $G cache --prune >"$out/out" 2>&1
if grep -q '^removed 1 entry$' "$out/out" &&
   names appliance-busy appliance-new snapshot-mid; then
  pass cache-prune-size
else
  fail cache-prune-size "$(cat "$out/out"); left: $(ls "$GUESTKIT_CACHEDIR")"
fi

# Nothing to do: prune again removes nothing.
GUESTKIT_CACHE_DAYS=30 GUESTKIT_CACHE_SIZE=5M $G cache --prune >"$out/out" 2>&1
if grep -q '^removed 0 entries$' "$out/out" && names appliance-busy appliance-new snapshot-mid; then
  pass cache-prune-idempotent
else
  fail cache-prune-idempotent "$(cat "$out/out")"
fi

# --clear: everything but the entry in use.
$G cache --clear >"$out/out" 2>&1
if grep -q '^removed 2 entries$' "$out/out" && names appliance-busy; then
  pass cache-clear-keeps-busy
else
  fail cache-clear-keeps-busy "$(cat "$out/out"); left: $(ls "$GUESTKIT_CACHEDIR")"
fi
exec 8<&-
$G cache --clear >"$out/out" 2>&1
if grep -q '^removed 1 entry$' "$out/out" && names; then
  pass cache-clear-after-release
else
  fail cache-clear-after-release "$(cat "$out/out")"
fi

# Usage.
$G cache --help >"$out/out" 2>&1 && grep -q -- '--prune' "$out/out" &&
  pass cache-help || fail cache-help "$(head -2 "$out/out")"
$G cache --prune --clear >"$out/out" 2>&1
[ $? = 2 ] && grep -q 'exclude each other' "$out/out" &&
  pass cache-bad-args || fail cache-bad-args "$(cat "$out/out")"
$G cache stray >"$out/out" 2>&1
[ $? = 2 ] && grep -q "unexpected argument 'stray'" "$out/out" &&
  pass cache-bad-word || fail cache-bad-word "$(cat "$out/out")"
chmod 0777 "$GUESTKIT_CACHEDIR"
$G cache >"$out/out" 2>&1
[ $? = 1 ] && grep -q 'not a private directory' "$out/out" &&
  pass cache-unsafe-dir || fail cache-unsafe-dir "$(cat "$out/out")"
exit $rc
