#!/bin/bash
# tests/bench-audit.sh: make bench, the audit figures (issue 12).
#  1. guestkit report --packages over 10 000 recorded images: a results
#     database of synthetic images (150 packages each, Debian-like
#     versions), built once with sqlite3 and cached under /var/tmp keyed
#     by the schema; the median wall time of 5 lookups, end to end (the
#     process included).  Target: 0.2 s.
#  2. (when tests/bench-audit-images.sh's image set is there) audit
#     throughput with the inventory step and the baseline checks,
#     2 workers, images per minute; virt-inspector beside it when installed.
# Figures only; nothing is asserted.
cd "$(dirname "$0")/.." || exit 1
gk=$PWD/runner/guestkit
NIMAGES=${BENCH_AUDIT_IMAGES:-10000} NPKGS=${BENCH_AUDIT_PKGS:-150}
key=$(cat schemas/results.sql tests/bench-audit.sh | sha256sum | cut -c1-12)
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

[ -x tests/bench-audit-run.sh ] && tests/bench-audit-run.sh
exit 0
