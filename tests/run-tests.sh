#!/bin/bash
# tests/run-tests.sh PROGRAM...: run test programs (in parallel, -j JOBS),
# collect their PASS/FAIL/SKIP lines, print a summary and the closing
# line "N passed, N failed, N skipped".  A program that exits non-zero
# without printing a FAIL line counts as one failure.  Exit 77 means
# skipped: the program's own SKIP lines count, or if it printed none, one
# skip whose reason is the last line of its stderr.
#
# Sanitizer runs (tests.mk exports ASAN_/UBSAN_/TSAN_OPTIONS): each
# program's reports go to tests/out/logs/{asan,ubsan,tsan}.NAME.PID, for
# every process it starts, and any such file fails the program.  Its exit
# status alone does not tell: a process killed by a signal, or one whose
# status a script does not look at, reports and still "passes".
jobs=1
if [ "$1" = -j ]; then jobs=$2; shift 2; fi
outdir=tests/out/logs; mkdir -p "$outdir"
run_one() {
  local t=$1 log start end ms rc name kind var
  name=$(basename "$t"); log=$outdir/$name.log
  for kind in asan ubsan tsan; do
    rm -f "$outdir/$kind.$name".[0-9]*
    var=${kind^^}_OPTIONS      # the later log_path wins
    [ -n "${!var}" ] && export "$var=${!var}:log_path=$PWD/$outdir/$kind.$name"
  done
  start=$(date +%s%N)
  timeout "${TEST_TIMEOUT:-900}" "$t" >"$log" 2>"$log.err"; rc=$?
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  printf 'rc=%d time=%d.%d\n' "$rc" $((ms / 1000)) $((ms % 1000 / 100)) >"$log.rc"
}
export -f run_one; export outdir
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
p=0; f=0; s=0
for t in "$@"; do
  log=$outdir/$(basename "$t").log
  rc=$(sed -n 's/^rc=\([0-9]*\).*/\1/p' "$log.rc"); tm=$(sed -n 's/.*time=//p' "$log.rc")
  np=$(grep -c '^PASS:' "$log"); nf=$(grep -c '^FAIL:' "$log"); ns=$(grep -c '^SKIP:' "$log")
  grep -E '^(FAIL|SKIP):' "$log" | sed 's/^/  /'
  if [ "$rc" = 77 ]; then
    if [ "$ns" = 0 ]; then
      ns=1; why=$(grep -v '^[[:space:]]*$' "$log.err" | tail -1)
      echo "  SKIP: $t: ${why:-no reason given on stderr}"
    fi
  elif [ "$rc" != 0 ] && [ "$nf" = 0 ]; then nf=1; echo "  FAIL: $t exited with status $rc:"; tail -5 "$log.err" | sed 's/^/    /'
  fi
  for r in "$outdir"/{asan,ubsan,tsan}."$(basename "$t")".[0-9]*; do
    [ -e "$r" ] || continue
    nf=$((nf + 1)); echo "  FAIL: $t: sanitizer report in $r:"
    grep -m 3 -E '^(WARNING|ERROR|SUMMARY):|runtime error' "$r" | sed 's/^/    /'
  done
  printf '%-32s %3d passed %3d failed %3d skipped  (%ss)\n' "$(basename "$t")" "$np" "$nf" "$ns" "$tm"
  p=$((p + np)); f=$((f + nf)); s=$((s + ns))
done
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ]
