#!/bin/bash
# tests/runner-validate.sh: job validation, no VM (make quick).
#  - every bad job file in tests/runner-bad/ fails with exit status 2 and
#    exactly the errors its .expect file lists ("LINE:COL: message", each
#    matched as a prefix of "FILE:LINE:COL: message"), all at once
#  - a few inputs made here: a todo call, a file over the size cap, an
#    alias bomb of another shape, bad command-line arguments
#  - the example jobs in jobs/ validate (--check runs nothing)
cd "$(dirname "$0")/.." || exit 1
gk=runner/guestkit
out=tests/out/runner-validate-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
[ -x $gk ] || { echo "FAIL: runner-validate: runner/guestkit is not built (make all)"; exit 1; }
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }

# check_errors NAME JOB EXPECT: the job is refused with exactly those errors.
check_errors() {
  local name=$1 job=$2 expect=$3 st want got missing=""
  $gk run --check "$job" >"$out/stdout" 2>"$out/stderr"; st=$?
  if [ $st != 2 ]; then fail "$name" "exit status $st, expected 2"; return; fi
  if grep -qiE 'segmentation|assert|abort|core dumped' "$out/stderr"; then
    fail "$name" "crashed: $(head -3 "$out/stderr")"; return
  fi
  while IFS= read -r line; do
    grep -qF -- "$job:$line" "$out/stderr" || missing="$missing [$line]"
  done < "$expect"
  want=$(grep -c . "$expect"); got=$(grep -c "^$job:" "$out/stderr")
  if [ -n "$missing" ]; then fail "$name" "missing:$missing; got: $(head -5 "$out/stderr")"
  elif [ "$want" != "$got" ]; then fail "$name" "expected $want errors, got $got: $(cat "$out/stderr")"
  elif [ -s "$out/stdout" ]; then fail "$name" "printed tasks although invalid"
  else pass "$name"; fi
}

for job in tests/runner-bad/*.yaml; do
  check_errors "bad-$(basename "$job" .yaml)" "$job" "${job%.yaml}.expect"
done

# A call the action table marks todo is refused as not supported.
todo=$(awk -F'\t' '!/^#/ && NF == 9 && $7 == "todo" && $2 != "lib" {print $1; exit}' schemas/actions.tsv)
if [ -n "$todo" ]; then
  printf 'images: %s/tests/runner-bad/disk.img\nsteps:\n  - %s:\n' "$PWD" "$todo" > "$out/todo.yaml"
  echo "3:5: '$todo' cannot be a step: not supported by this version of guestkit" > "$out/todo.expect"
  check_errors bad-todo-call "$out/todo.yaml" "$out/todo.expect"
else
  echo "SKIP: bad-todo-call: every call of the action table is done"
fi

# A job file over the 4 MiB cap is refused before parsing.
{ echo "images: $PWD/tests/runner-bad/disk.img"; echo "steps:"
  head -c 5000000 /dev/zero | tr '\0' '#'; echo; } > "$out/huge.yaml"
$gk run --check "$out/huge.yaml" 2>"$out/err" >/dev/null; st=$?
if [ $st = 2 ] && grep -q "larger than 4194304 bytes" "$out/err"; then pass bad-huge-file
else fail bad-huge-file "exit $st: $(head -2 "$out/err")"; fi

# A wide alias bomb in a mapping (keys repeated through merges of lists).
{ echo "images: $PWD/tests/runner-bad/disk.img"; echo 'x0: &x0 [a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a]'
  for i in $(seq 1 8); do p=$((i - 1)); echo "x$i: &x$i [*x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p, *x$p]"; done
  echo 'steps: [sync]'; } > "$out/bomb.yaml"
start=$(date +%s%N)
$gk run --check "$out/bomb.yaml" 2>"$out/err" >/dev/null; st=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $st = 2 ] && grep -q "too many nodes once aliases are expanded" "$out/err" && [ $ms -lt 5000 ]; then
  pass bad-alias-bomb-wide
else fail bad-alias-bomb-wide "exit $st in ${ms} ms: $(head -2 "$out/err")"; fi

# Bad command lines: exit status 2 and a message naming the problem.
cli() {
  local name=$1 needle=$2; shift 2
  "$@" >"$out/out" 2>"$out/err"; local st=$?
  if [ $st = 2 ] && grep -qF -- "$needle" "$out/err"; then pass "$name"
  else fail "$name" "exit $st: $(head -2 "$out/err")"; fi
}
cli cli-no-command "usage: guestkit COMMAND" $gk
cli cli-unknown-command "unknown command 'frob'" $gk frob
cli cli-no-job "no job file given" $gk run
cli cli-bad-workers "--workers: expected a number from 1 to 256, got '0'" $gk run -j 0 jobs/audit.yaml
cli cli-bad-timeout "--timeout: expected a number" $gk run --timeout soon jobs/audit.yaml
cli cli-bad-var "--var: expected NAME=VALUE" $gk run --var novalue jobs/audit.yaml
cli cli-bad-var-name "is not a variable name" $gk run --var 1x=2 jobs/audit.yaml
cli cli-resume-and-files "--resume takes no job files" $gk run --resume 1 jobs/audit.yaml
cli cli-unknown-option "Try 'guestkit run --help'" $gk run --frobnicate jobs/audit.yaml
cli cli-missing-job "no-such-job.yaml: No such file or directory" $gk run "$out/no-such-job.yaml"
cli cli-report-format "--format: expected table, json or csv" $gk report --format xml
cli cli-report-no-db "no-such.db" $gk report --db "$out/no-such.db"
cli cli-status-bad-run "expected one run number" $gk status --db "$out/x.db" abc
cli cli-images-missing "--images: image" $gk run --check --images "$out/none.img" jobs/audit.yaml

# --help on every subcommand: exit 0, usage on stdout.
for c in "" run report status; do
  if $gk $c --help >"$out/out" 2>&1 && grep -q "^usage: guestkit" "$out/out"; then
    pass "help-${c:-main}"
  else fail "help-${c:-main}" "$(head -2 "$out/out")"; fi
done

# The example jobs validate (on a stand-in image; the build elsewhere).
img=$PWD/tests/runner-bad/disk.img
for j in audit patch; do
  if $gk run --check --images "$img" jobs/$j.yaml >"$out/out" 2>"$out/err" &&
     grep -q "1 job valid, 1 task" "$out/out"; then pass "example-$j-valid"
  else fail "example-$j-valid" "$(head -3 "$out/err" "$out/out")"; fi
done
mkdir -p "$out/build"
if $gk run --check --var outdir="$PWD/$out/build" jobs/build-skel.yaml >"$out/out" 2>"$out/err" &&
   grep -q "1 job valid, 3 tasks" "$out/out" && grep -q "web1.qcow2 \[web1\] (build)" "$out/out"; then
  pass example-build-valid
else fail example-build-valid "$(head -3 "$out/err" "$out/out")"; fi
exit $rc
