# tests/lib.sh: the common start of the runner's shell tests, sourced
# from the tree's top directory (where the test has cd'd):
#
#   . tests/lib.sh
#   t_begin NAME [SUBDIR...]
#
# gives gk (the guestkit binary), out (tests/out/NAME-PID, with the
# subdirectories, removed when the test exits: a test that needs more
# clean-up sets its own trap after), db ($out/results.db), rc (0 until a
# check fails), and pass, fail and q (a query on $db).
#
# With KEEP set in the environment (KEEP=1 tests/NAME.sh), out is not
# removed, for a look afterwards, and its path goes to stderr (a test
# that sets its own trap decides for itself).

gk=$PWD/runner/guestkit

t_begin() {
  out=$PWD/tests/out/$1-$$
  shift
  mkdir -p "$out"
  for d in "$@"; do mkdir -p "$out/$d"; done
  if [ -n "$KEEP" ]; then
    echo "$(basename "$0"): KEEP is set: $out is kept" >&2
  else
    trap 'rm -rf "$out"' EXIT
  fi
  db=$out/results.db
  rc=0
}

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
q() { sqlite3 -batch -noheader "$db" "$1"; }
