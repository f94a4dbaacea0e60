#!/bin/bash
# tests/runner-prepare.sh: prepare ahead in the worker pool (issue 17).
# One worker, four sample images, each with its own hostname and size:
# every task after the first must start on an appliance prepared ahead
# (the -v line), and every task must record exactly one device, of its
# own image's size, and its own image's /etc/hostname: a prepared
# appliance that kept or saw another image shows here.  Then the same
# with GUESTKIT_PREPARE_AHEAD=0: no task takes a prepared appliance.  No
# prepared qemu is left running after the run.  Last, SIGINT while a
# task runs and its worker's spare waits: both qemus are gone after.
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-prepare img

names="img1 img2 img3 img4"
size=40
for n in $names; do
  tests/bin/make-sample-image "$out/img/$n.img" $size "host-$n" 2>"$out/mk-$n.err" || {
    echo "FAIL: sample-images: make-sample-image failed: $(tail -3 "$out/mk-$n.err")"; exit 1; }
  size=$((size + 8))
done
cat > "$out/job.yaml" <<EOF2
name: prepare-ahead
images: img/*.img
steps:
  - list_devices:
    save_as: devices
  - blockdev_getsize64: /dev/sda
    save_as: size
  - mount_ro: {device: /dev/sda1, mountpoint: /}
  - cat: /etc/hostname
    save_as: hostname
EOF2

# each_task_own_image RUN: one device, its own size and hostname, per task.
each_task_own_image() {
  local bad="" n img dev sz host want
  for n in $names; do
    img=$out/img/$n.img
    dev=$(q "SELECT f.value FROM facts f JOIN tasks t ON t.id = f.task_id WHERE t.run_id = $1 AND t.image = '$img' AND f.name = 'devices'")
    sz=$(q "SELECT f.value FROM facts f JOIN tasks t ON t.id = f.task_id WHERE t.run_id = $1 AND t.image = '$img' AND f.name = 'size'")
    host=$(q "SELECT trim(json_extract(f.value, '\$'), char(10)) FROM facts f JOIN tasks t ON t.id = f.task_id WHERE t.run_id = $1 AND t.image = '$img' AND f.name = 'hostname'")
    want=$(stat -c %s "$img")
    [ "$dev" = '["/dev/sda"]' ] && [ "$sz" = "$want" ] && [ "$host" = "host-$n" ] ||
      bad="$bad $n: devices $dev, size $sz (want $want), hostname '$host';"
  done
  echo "$bad"
}

for mode in 1 0; do
  GUESTKIT_PREPARE_AHEAD=$mode nice -n 10 $gk run -v -j 1 --db "$db" "$out/job.yaml" \
    >"$out/run$mode.out" 2>&1; st=$?
  run=$(q "SELECT max(id) FROM runs")
  took=$(grep -c "starts on an appliance prepared ahead" "$out/run$mode.out")
  okn=$(q "SELECT count(*) FROM tasks WHERE run_id = $run AND status = 'ok'")
  if [ $st = 0 ] && [ "$okn" = 4 ]; then pass "prepare$mode-run-ok"
  else fail "prepare$mode-run-ok" "exit $st, $okn ok: $(grep -v '^ok' "$out/run$mode.out" | tail -4)"; fi
  want=$([ $mode = 1 ] && echo 3 || echo 0)
  if [ "$took" = "$want" ]; then pass "prepare$mode-tasks-on-prepared"
  else fail "prepare$mode-tasks-on-prepared" "$took tasks took a prepared appliance, want $want"; fi
  bad=$(each_task_own_image "$run")
  if [ -z "$bad" ]; then pass "prepare$mode-one-own-device-per-task"
  else fail "prepare$mode-one-own-device-per-task" "$bad"; fi
done
# The prepared qemus the -v lines name are all gone once the run is over.
left=""
for pid in $(sed -n 's/.*prepared ahead (qemu \([0-9]*\)).*/\1/p' "$out/run1.out"); do
  kill -0 "$pid" 2>/dev/null && left="$left $pid"
done
if [ -z "$left" ]; then pass prepare-no-qemu-left
else fail prepare-no-qemu-left "still running:$left"; fi

# ---- SIGINT while a spare waits: the run stops, no qemu is left ----
cat > "$out/sleepy.yaml" <<EOF2
name: prepare-sigint
images: img/*.img
steps:
  - sleep: 30
EOF2
GUESTKIT_PREPARE_AHEAD=1 nice -n 10 $gk run -j 1 --db "$db" "$out/sleepy.yaml" >"$out/int.out" 2>&1 & p=$!
qemus() { ps -o pid=,comm= --ppid "$p" 2>/dev/null | awk '$2 ~ /^qemu/ { print $1 }'; }
seen=""
for _ in $(seq 600); do
  seen=$(qemus | sort -u)
  [ "$(echo "$seen" | grep -c .)" -ge 2 ] && break   # the task's and the spare
  sleep 0.1
done
kill -INT $p; wait $p; st=$?
left=""
for pid in $seen; do
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && left="$left $pid"
done
if [ "$(echo "$seen" | grep -c .)" -ge 2 ] && [ $st = 1 ] && [ -z "$left" ] &&
   grep -q "interrupted run" "$out/int.out"; then
  pass prepare-sigint-closes-spare
else fail prepare-sigint-closes-spare "qemus seen: $(echo $seen), exit $st, left:$left: $(tail -2 "$out/int.out")"
  kill -KILL $left 2>/dev/null; fi
exit $rc
