#!/bin/bash
# tests/runner-steps-doc.sh: the high-level steps, from their table (no VM).
#  - schemas/job-schema.md's generated steps section is current (make
#    steps-doc rewrites it)
#  - it names every step and every argument of `guestkit steps`
#  - guestkit help STEP describes a step; a misspelt one gets a hint
cd "$(dirname "$0")/.." || exit 1
gk=runner/guestkit
[ -x $gk ] || { echo "runner/guestkit is not built" >&2; exit 77; }
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }

if d=$(python3 tests/steps-doc.py schemas/job-schema.md $gk 2>&1); then pass doc-current
else fail doc-current "run make steps-doc: $(echo "$d" | head -20)"; fi

missing=""
for s in $($gk steps | awk '{print $1}'); do
  grep -q "^#### \`$s\`" schemas/job-schema.md || missing="$missing $s"
  for a in $($gk help "$s" | awk 'NR > 1 && $1 != "records:" {print $1}'); do
    grep -q "^| \`$a\` |" schemas/job-schema.md || missing="$missing $s.$a"
  done
done
n=$($gk steps | wc -l)
if [ -z "$missing" ] && [ "$n" -ge 1 ]; then pass doc-every-step-and-argument
else fail doc-every-step-and-argument "missing:$missing ($n steps)"; fi

h=$($gk help hostname 2>&1)
if echo "$h" | grep -q '^hostname (system):' && echo "$h" | grep -q 'name .*required'; then
  pass help-step
else fail help-step "$h"; fi
h=$($gk help hostnme 2>&1); st=$?
if [ $st = 2 ] && echo "$h" | grep -q "did you mean 'hostname'"; then pass help-misspelt
else fail help-misspelt "exit $st: $h"; fi
exit $rc
