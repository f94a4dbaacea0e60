#!/bin/bash
# tests/bench-audit.sh: make bench, the audit figures (issue 12).
#  1. guestkit report --packages over 10 000 recorded images: a results
#     database of synthetic images (150 packages each, Debian-like
#     versions), built once with sqlite3 and cached under /var/tmp keyed
#     by the schema; the median wall time of 5 lookups, end to end (the
#     process included).  Target: 0.2 s.
#  2. audit throughput with the inventory step and jobs/audit.yaml's
#     checks on real Debian images (from `make base'), 2 workers, images
#     per minute (target 200: issue 17), per-task phase medians, then a
#     scaling table with 1, 2, 4 and 8 workers (images/min, peak RSS of
#     one appliance, launch and steps medians, CPU seconds per image);
#     virt-inspector beside it when installed.
# Figures only; nothing is asserted.
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
NIMAGES=${BENCH_AUDIT_IMAGES:-10000} NPKGS=${BENCH_AUDIT_PKGS:-150}
RECIPE=1                       # bump when make_db below changes
key=$( (cat schemas/results.sql; echo "$RECIPE") | sha256sum | cut -c1-12)
db=/var/tmp/gk-bench-audit-$NIMAGES-$NPKGS-$key.db

make_db() {
  local tmp=$db.tmp.$$
  rm -f "$tmp"
  sqlite3 -batch "$tmp" < schemas/results.sql || return 1
  # Image i holds packages pkg0..pkgN-1 plus openssh-server, whose
  # Debian revision cycles deb12u1..deb12u10 (a string order would put
  # u10 before u2).
  sqlite3 -batch "$tmp" >/dev/null <<SQL || return 1
PRAGMA user_version = 2;
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO runs (id, job_name, job_file, job_text, status, ntasks, started)
  VALUES (1, 'audit', '/bench/audit.yaml', '', 'done', $NIMAGES, '2026-12-01T00:00:00Z');
WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < $NIMAGES)
  INSERT INTO tasks (id, run_id, seq, image, status)
  SELECT n, 1, n, printf('/srv/fleet/img%05d.qcow2', n), 'ok' FROM i;
INSERT INTO os (task_id, root, type, distro, major_version, minor_version, product,
                hostname, arch, package_format, package_management)
  SELECT id, '/dev/sda1', 'linux', 'debian', 12, id % 8, 'Debian GNU/Linux 12',
         printf('host%05d', id), 'x86_64', 'deb', 'apt' FROM tasks;
WITH RECURSIVE p(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM p WHERE k < $NPKGS - 2)
  INSERT INTO applications (task_id, root, name, epoch, version, release, arch)
  SELECT t.id, '/dev/sda1', printf('pkg%03d', p.k), 0, printf('%d.%d', p.k % 7, t.id % 13),
         '1', 'amd64' FROM tasks t, p;
INSERT INTO applications (task_id, root, name, epoch, version, release, arch)
  SELECT id, '/dev/sda1', 'openssh-server', 1, '9.2p1', printf('2+deb12u%d', 1 + id % 10),
         'amd64' FROM tasks;
COMMIT;
SQL
  mv "$tmp" "$db"
}

if [ ! -s "$db" ]; then
  rm -f /var/tmp/gk-bench-audit-*.db
  t0=$(date +%s.%N)
  make_db || { echo "bench-audit: cannot build $db"; exit 1; }
  echo "  (built $db: $NIMAGES images x $NPKGS packages in $(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}') s)"
fi
# Wall and CPU (user + system) seconds of each lookup; the machine may
# be busy, so the CPU time is printed too.
TIMEFORMAT='%R %U %S'
for _ in 1 2 3 4 5; do
  { time "$gk" report --db "$db" --packages 'openssh-server<1:9.2p1-2+deb12u5' --format csv \
      >"$db.out" 2>/dev/null; } 2>>"$db.times"
done
n=$(tail -n +2 "$db.out" | wc -l)
read -r wall cpu < <(awk '{print $1, $2 + $3}' "$db.times" | sort -n |
  awk '{w[NR] = $1; c[NR] = $2} END {m = int((NR + 1) / 2); printf "%.3f %.3f\n", w[m], c[m]}')
rm -f "$db.out" "$db.times"
printf '  report --packages, %d images   %6s s wall, %s s cpu  (%d matching; target <= 0.2 s)\n' \
  "$NIMAGES" "$wall" "$cpu" "$n"

# ---- 2. audit throughput on real Debian images ----
# One image made from `make base's tree (debootstrap-style: kernel,
# systemd, openssh-server, ...), cached under /var/tmp by the tree's name
# (its name carries the hash of its inputs); the set is BENCH_AUDIT_N hard
# links to it (read-only tasks may share an inode; each is its own task
# and appliance).  The job: inventory plus jobs/audit.yaml's checks.
# BENCH_AUDIT_IMAGE=FILE: use that image instead (to try the script).
tar=$(ls -t /var/tmp/guestkit-base/bookworm-*.tar 2>/dev/null | head -1)
[ -n "$BENCH_AUDIT_IMAGE" ] && tar=given
if [ -z "$tar" ]; then
  echo "  audit throughput: skipped (no Debian base tree: make base)"; exit 0
fi
N=${BENCH_AUDIT_N:-8}
img=${BENCH_AUDIT_IMAGE:-/var/tmp/gk-bench-audit-$(basename "$tar" .tar).img}
if [ ! -s "$img" ]; then
  rm -f /var/tmp/gk-bench-audit-bookworm-*.img
  truncate -s 3G "$img.tmp"
  if ! "$gk" shell -a "$img.tmp" part-disk /dev/sda mbr : mkfs ext4 /dev/sda1 : \
       mount /dev/sda1 / : tar-in "$tar" / : write-file /etc/hostname "bench\n" 0 : \
       write-file /etc/fstab "/dev/sda1 / ext4 errors=remount-ro 0 1\n" 0 \
       >/dev/null 2>"$img.err"; then
    echo "  audit throughput: cannot make $img: $(tail -2 "$img.err")"; rm -f "$img.tmp"; exit 0
  fi
  mv "$img.tmp" "$img"; rm -f "$img.err"
fi
dir=$(mktemp -d /var/tmp/gk-bench-audit-set.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for i in $(seq "$N"); do ln "$img" "$dir/debian-$i.img"; done
{ echo "name: bench-audit"; echo "images: $dir/*.img"; echo "steps:"; echo "  - inventory:"
  sed -n '/^checks:/,$p' jobs/audit.yaml; } >"$dir/job.yaml"
# The job on the set with W workers: images/min, and the peak RSS of one
# appliance (the qemu processes under that guestkit run, sampled every
# 0.5 s), and the CPU seconds (user + system, qemu included) per image:
# unlike the wall time, that does not depend on what else the machine
# runs.  Sets $okn, $secs, $rss_peak, $cpu; the database is $dir/r-W.db.
descendants() {
  local p
  for p in $(pgrep -P "$1" 2>/dev/null); do echo "$p"; descendants "$p"; done
}
audit_with() {
  local w=$1 sampler run t0 t1
  rm -f "$dir/rss-$w" "$dir/r-$w.db"*
  t0=$(date +%s%N)
  rm -f "$dir/cpu-$w"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%U %S' -o "$dir/cpu-$w" "$gk" run --db "$dir/r-$w.db" -j "$w" "$dir/job.yaml" >"$dir/out-$w" 2>&1 &
  else
    "$gk" run --db "$dir/r-$w.db" -j "$w" "$dir/job.yaml" >"$dir/out-$w" 2>&1 &
  fi
  run=$!
  ( while kill -0 "$run" 2>/dev/null; do
      for p in $(descendants "$run"); do
        case $(cat /proc/"$p"/comm 2>/dev/null) in
          qemu-system*) awk '/^VmRSS/ {print $2}' /proc/"$p"/status 2>/dev/null ;;
        esac
      done >>"$dir/rss-$w"
      sleep 0.5
    done ) &
  sampler=$!
  wait "$run"
  t1=$(date +%s%N)
  wait "$sampler" 2>/dev/null
  okn=$(sqlite3 "$dir/r-$w.db" "SELECT count(*) FROM tasks WHERE status = 'ok'")
  secs=$(awk -v ns=$((t1 - t0)) 'BEGIN {printf "%.1f", ns / 1e9}')
  rss_peak=$(sort -n "$dir/rss-$w" | tail -1 | awk '{printf "%d", $1 / 1024}')
  cpu=$(awk -v n="$N" 'NF == 2 && $1 ~ /^[0-9.]+$/ {printf "%.2f", ($1 + $2) / n}' "$dir/cpu-$w" 2>/dev/null)
}
audit_with 2
cp "$dir/r-2.db" "$dir/r.db"
apps=$(sqlite3 "$dir/r.db" "SELECT count(*) / max(1, count(DISTINCT task_id)) FROM applications")
steps=$(sqlite3 "$dir/r.db" "SELECT group_concat(call || ' ' || ms, ', ') FROM (SELECT call, round(avg(duration_ms) / 1000, 2) AS ms FROM steps GROUP BY call ORDER BY seq)")
awk -v n="$N" -v ok="$okn" -v s="$secs" -v a="$apps" 'BEGIN {
  printf "  audit (inventory + baseline checks), real Debian images: %.1f images/min (2 workers, %d images, %d ok, in %.1f s; %d packages each; target >= 200, issue 17)\n", n * 60 / s, n, ok, s, a }'
echo "    mean seconds per step: $steps"
# Per-phase medians over the tasks of database $1: launch (step 0), the
# steps, and what is left of the task's time (close, commit, the runner),
# in seconds: "L S R".
medians() {
  sqlite3 "$1" "
    WITH t AS (SELECT t.id, t.duration_ms AS total,
                      (SELECT duration_ms FROM steps WHERE task_id = t.id AND seq = 0) AS launch,
                      (SELECT sum(duration_ms) FROM steps WHERE task_id = t.id AND seq > 0) AS steps
                 FROM tasks t WHERE t.status = 'ok')
    SELECT launch, steps, total - launch - steps FROM t" 2>/dev/null |
    awk -F'|' '{l[NR] = $1; s[NR] = $2; r[NR] = $3}
      function med(v, n,   i, j, x) { for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j > 0 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
                                      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
      END { if (NR) printf "%.2f %.2f %.2f\n", med(l, NR) / 1000, med(s, NR) / 1000, med(r, NR) / 1000 }'
}
read -r ml ms mr < <(medians "$dir/r.db")
[ -n "$ml" ] && echo "    per-task medians: launch $ml s, steps $ms s, the rest (close, runner) $mr s"
# The scaling table: the same set with 1, 2, 4 and 8 workers.
# With more workers than CPUs each task takes longer: the medians of its
# launch and steps say which phase stretches.
echo "    workers  images/min  seconds  ok   peak RSS of one appliance (MiB)  launch, steps (medians, s)  CPU s/image"
for w in ${BENCH_AUDIT_WORKERS:-1 2 4 8}; do
  audit_with "$w"
  read -r ml ms mr < <(medians "$dir/r-$w.db")
  awk -v w="$w" -v n="$N" -v s="$secs" -v ok="$okn" -v r="$rss_peak" -v ml="$ml" -v ms="$ms" -v c="${cpu:--}" 'BEGIN {
    printf "    %7d  %10.1f  %7.1f  %2d   %-32s %-27s %s\n", w, n * 60 / s, s, ok, r, ml ", " ms, c }'
done
echo "    (on $(nproc) CPUs, a machine loaded by other work: figures, not a target check)"
if command -v virt-inspector >/dev/null; then
  export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
  t0=$(date +%s%N)
  ls "$dir"/*.img | xargs -P 2 -I{} sh -c 'virt-inspector --format=raw -a "{}" >/dev/null 2>&1'
  t1=$(date +%s%N)
  awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { s = ns / 1e9
    printf "  virt-inspector on the same images: %.1f images/min (2 at a time, %.1f s)\n", n * 60 / s, s }'
else
  echo "  virt-inspector: not installed (libguestfs-tools), no comparison"
fi
exit 0
