#!/bin/bash
# tests/runner-shard.sh: guestkit run --shard, and what guestkit slurm and
# guestkit k8s write.
#  no appliance:
#  - bad input: --shard 5/4, 0/0 and other malformed values, --shards
#    without an index, bad environment values, a bad --shard-group
#  - the split: every task in exactly one shard, the shards even; the
#    shard of each task is the documented hash and rank (recomputed here
#    in Python); the same images in another order, or under a matrix,
#    give each shard the same tasks
#  - the index from SLURM_ARRAY_TASK_ID (with _MIN/_STEP, or --shards N)
#    and from JOB_COMPLETION_INDEX with --shards N
#  - guestkit slurm: the array script (%K throttle, partition, the shard
#    command) and the merge script; --submit without Slurm says so and the
#    scripts are still written
#  - guestkit k8s: the manifest parsed as YAML: ConfigMap with the job,
#    Indexed Job (completions, parallelism, backoffLimitPerIndex,
#    restartPolicy Never, mounts), suspended merge Job
#  with appliances (tiny images, one cheap step):
#  - two shards with --out: each copy holds its own tasks, the local
#    databases are gone, the merge equals a plain run of the same job
#  - a shard started again goes on from its copy: only its unfinished
#    task runs; a changed job file with the same group is refused
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-shard img tmp
q() { sqlite3 -batch -noheader "$1" "$2"; }
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_STEP \
  JOB_COMPLETION_INDEX
export TMPDIR=$out/tmp

for i in $(seq -w 1 20); do head -c 1048576 /dev/zero > "$out/img/vm$i.img"; done
cat > "$out/job.yaml" <<EOF
name: sharded
images: img/*.img
steps:
  - blockdev_getsize64: /dev/sda
    save_as: size
EOF

# ---- bad input ----
bad() {  # bad NAME EXPECTED-MESSAGE ARGS...: exit 2 and the message
  local name=$1 msg=$2; shift 2
  "$gk" run -n "$@" >"$out/bad.out" 2>&1; local st=$?
  if [ $st = 2 ] && grep -q -- "$msg" "$out/bad.out"; then pass "shard-bad-$name"
  else fail "shard-bad-$name" "exit $st: $(cat "$out/bad.out")"; fi
}
bad 5of4 "shard index 5 is out of range: shards of 4 are numbered 0 to 3" --shard 5/4 "$out/job.yaml"
bad 0of0 "there must be at least 1 shard, got 0" --shard 0/0 "$out/job.yaml"
bad words "expected I/N (shard I of N, from 0), got 'one'" --shard one "$out/job.yaml"
bad negative "expected I/N with numbers" --shard -1/4 "$out/job.yaml"
bad huge "expected I/N with numbers" --shard 1/99999999999 "$out/job.yaml"
bad no-index "--shards N needs the shard's index" --shards 4 "$out/job.yaml"
bad disagree "--shard 1/4 and --shards 3 disagree" --shard 1/4 --shards 3 "$out/job.yaml"
bad group "--shard-group: '../x' is not a name" --shard 0/2 --shard-group ../x "$out/job.yaml"
bad two-jobs "a shard runs one job file, not 2" --shard 0/2 "$out/job.yaml" "$out/job.yaml"
bad out-alone "--shard-group and --out are for a shard" --out "$out/o" "$out/job.yaml"
SLURM_ARRAY_TASK_ID=x bad env-slurm "SLURM_ARRAY_TASK_ID='x' is not a shard number" "$out/job.yaml"
SLURM_ARRAY_TASK_ID=3 bad env-nocount "SLURM_ARRAY_TASK_COUNT is not" "$out/job.yaml"
SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_STEP=2 \
  bad env-range "SLURM_ARRAY_TASK_ID=5 is not in the array's range" "$out/job.yaml"
SLURM_ARRAY_TASK_ID=4 bad env-shards "shard index 4 is out of range" --shards 4 "$out/job.yaml"
JOB_COMPLETION_INDEX=1 bad env-k8s "give the number of shards with --shards N" "$out/job.yaml"

# ---- the split ----
images() { "$gk" run -n "$@" 2>&1 | sed -n 's/^sharded task [0-9]*\/[0-9]*: \([^ ]*\).*/\1/p'; }
: > "$out/all"
for s in 0 1 2 3; do images --shard $s/4 "$out/job.yaml" | sed "s/^/$s /" >> "$out/all"; done
python3 - "$out/all" "$out/img" > "$out/hash.out" 2>&1 <<'EOF'
import glob, os, sys
# the hash documented in runner/shard.c
M = (1 << 64) - 1
def fnv(h, data):
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & M
    return h
def mix(h):
    h ^= h >> 30; h = (h * 0xbf58476d1ce4e5b9) & M
    h ^= h >> 27; h = (h * 0x94d049bb133111eb) & M
    return h ^ (h >> 31)
def h(path, inst):
    return mix(fnv(fnv(0xcbf29ce484222325, path.encode() + b"\0"), inst.encode()))
keys = sorted((h(p, ""), p.encode(), b"") for p in glob.glob(sys.argv[2] + "/*.img"))
want = sorted((str(r % 4), k[1].decode()) for r, k in enumerate(keys))
got = sorted(tuple(l.split()) for l in open(sys.argv[1]))
assert len(want) == 20, want
assert got == want, (got, want)
sizes = [sum(1 for s, _ in got if s == str(i)) for i in range(4)]
assert sizes == [5, 5, 5, 5], sizes
print("ok")
EOF
[ "$(cat "$out/hash.out")" = ok ] && pass shard-split-is-the-documented-hash ||
  fail shard-split-is-the-documented-hash "$(tail -3 "$out/hash.out")"

# another order of the same images (seq numbers change, shards do not)
args=(); for f in $(ls "$out"/img/*.img | sort -r); do args+=(--images "$f"); done
: > "$out/rev"
for s in 0 1 2 3; do images --shard $s/4 "${args[@]}" "$out/job.yaml" | sed "s/^/$s /" >> "$out/rev"; done
[ "$(sort "$out/rev")" = "$(sort "$out/all")" ] && pass shard-order-independent ||
  fail shard-order-independent "$(diff <(sort "$out/all") <(sort "$out/rev") | head -5)"

# a matrix: the instance is part of the key
cat "$out/job.yaml" > "$out/matrix.yaml"
printf 'matrix:\n  site: [paris, oslo, rome]\n' >> "$out/matrix.yaml"
n=0; for s in 0 1 2; do
  k=$("$gk" run -n --shard $s/3 "$out/matrix.yaml" | grep -c '^sharded task'); n=$((n + k)); done
inst=$("$gk" run -n --shard 0/3 "$out/matrix.yaml" | sed -n 's/.*\[\(.*\)\].*/\1/p' | sort -u | wc -l)
[ $n = 60 ] && [ "$inst" -ge 2 ] && pass shard-matrix-instances ||
  fail shard-matrix-instances "$n tasks over 3 shards, $inst instances in shard 0"

# the environment
e1=$(SLURM_ARRAY_TASK_ID=6 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_STEP=2 \
  "$gk" run -n "$out/job.yaml" | head -1)
e2=$(SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=1 SLURM_ARRAY_TASK_MIN=2 "$gk" run -n --shards 4 "$out/job.yaml" | head -1)
e3=$(JOB_COMPLETION_INDEX=3 "$gk" run -n --shards 4 "$out/job.yaml" | head -1)
l1=$(images --shard 1/4 "$out/job.yaml"); l1e=$(SLURM_ARRAY_TASK_ID=6 SLURM_ARRAY_TASK_COUNT=4 \
  SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_STEP=2 images "$out/job.yaml")
if [[ "$e1" == "shard 1/4 (SLURM_ARRAY_TASK_ID)"* ]] && [[ "$e2" == "shard 2/4 (SLURM_ARRAY_TASK_ID)"* ]] &&
   [[ "$e3" == "shard 3/4 (JOB_COMPLETION_INDEX)"* ]] && [ "$l1" = "$l1e" ]; then
  pass shard-from-environment
else fail shard-from-environment "'$e1' '$e2' '$e3'"; fi

# ---- guestkit slurm: the scripts ----
sd=$out/slurm
"$gk" slurm "$out/job.yaml" --shards 4 --max-running 2 --partition batch --out "$sd" \
  --shard-group nightly-1 -j 2 --timeout 10m --var x=y >"$out/sl.out" 2>&1; st=$?
sh=$sd/shard.sbatch mg=$sd/merge.sbatch
if [ $st = 0 ] && [ -x "$sh" ] && [ -x "$mg" ] && [ -d "$sd/shards" ] && [ -d "$sd/logs" ] &&
   grep -qx '#SBATCH --array=0-3%2' "$sh" && grep -qx '#SBATCH --partition=batch' "$sh" &&
   grep -qx '#SBATCH --cpus-per-task=2' "$sh" && grep -qx '#SBATCH --mem=960M' "$sh" &&
   grep -qx "#SBATCH --output=$sd/logs/shard-%a.out" "$sh" &&
   grep -q "^exec '$gk' 'run' '--shards=4' '--shard-group=nightly-1' '--out=$sd/shards' '--workers=2' '--timeout=600' '--var=x=y' '$out/job.yaml'\$" "$sh" &&
   grep -q "'$gk' merge \"\$tmp\" '$sd/shards'/nightly-1.shard-\*.db" "$mg" &&
   grep -qx '#SBATCH --partition=batch' "$mg" &&
   grep -q "sbatch --dependency=afterany:" "$out/sl.out" && sh -n "$sh" && sh -n "$mg"; then
  pass slurm-scripts
else fail slurm-scripts "exit $st: $(cat "$out/sl.out" "$sh" "$mg" 2>&1 | head -40)"; fi

mkdir -p "$out/bin"; ln -sf "$(command -v sqlite3)" "$out/bin/"
PATH=$out/bin "$gk" slurm "$out/job.yaml" --shards 2 --out "$out/slurm2" --submit >"$out/sub.out" 2>&1; st=$?
if [ $st = 1 ] && grep -q "Slurm is not installed here (no sbatch in PATH)" "$out/sub.out" &&
   [ -s "$out/slurm2/shard.sbatch" ] && [ -s "$out/slurm2/merge.sbatch" ]; then
  pass slurm-submit-without-slurm
else fail slurm-submit-without-slurm "exit $st: $(cat "$out/sub.out")"; fi

"$gk" slurm "$out/job.yaml" >/dev/null 2>"$out/u.err"; st1=$?
"$gk" slurm --shards 2 --image x "$out/job.yaml" >/dev/null 2>>"$out/u.err"; st2=$?
printf 'name: broken\nsteps: [nosuchcall]\n' > "$out/broken.yaml"
"$gk" slurm --shards 2 --out "$out/slurm3" "$out/broken.yaml" >/dev/null 2>>"$out/u.err"; st3=$?
if [ $st1 = 2 ] && [ $st2 = 2 ] && [ $st3 = 2 ] && grep -q -- "--shards N is required" "$out/u.err" &&
   grep -q -- "--image is an option of guestkit k8s" "$out/u.err" &&
   grep -q "broken.yaml:[0-9]*:[0-9]*:" "$out/u.err" && [ ! -e "$out/slurm3" ]; then
  pass slurm-bad-input
else fail slurm-bad-input "$st1/$st2/$st3: $(cat "$out/u.err")"; fi

# ---- a shard's size from the job itself: workers: 3, memsize: 512 ----
sed 's/^name: sharded$/name: sharded\nworkers: 3\nmemsize: 512/' "$out/job.yaml" > "$out/big.yaml"
"$gk" slurm "$out/big.yaml" --shards 2 --out "$out/slurm-big" >/dev/null 2>"$out/big.err"; st=$?
"$gk" k8s "$out/big.yaml" --shards 2 --images-claim fleet --results-claim res \
  >"$out/big-k8s.yaml" 2>>"$out/big.err"; st2=$?
# 256 + 3 * (512 + 96) = 2080
if [ $st = 0 ] && [ $st2 = 0 ] && grep -qx '#SBATCH --cpus-per-task=3' "$out/slurm-big/shard.sbatch" &&
   grep -qx '#SBATCH --mem=2080M' "$out/slurm-big/shard.sbatch" &&
   grep -q 'memory: 2080Mi' "$out/big-k8s.yaml" && grep -q 'cpu: "3"' "$out/big-k8s.yaml"; then
  pass shard-size-from-job
else fail shard-size-from-job "exit $st/$st2: $(cat "$out/big.err"; grep -n 'SBATCH\|cpu\|memory' "$out/slurm-big/shard.sbatch" "$out/big-k8s.yaml")"; fi

# ---- guestkit k8s: the manifest, parsed ----
"$gk" k8s "$out/job.yaml" --shards 4 --max-running 2 --image registry/guestkit:1 \
  --images-claim fleet --results-claim res --shard-group nightly-1 -j 2 >"$out/k8s.yaml" 2>"$out/k8s.err"; st=$?
python3 - "$out/k8s.yaml" "$out/job.yaml" "$out/img" > "$out/k8s.out" 2>&1 <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
job_file, img_dir = sys.argv[2], sys.argv[3]
cm, shards, merge = docs
assert [d["kind"] for d in docs] == ["ConfigMap", "Job", "Job"], docs
assert cm["data"]["job.yaml"] == open(job_file).read()
s = shards["spec"]
assert s["completionMode"] == "Indexed" and s["completions"] == 4 and s["parallelism"] == 2
assert s["backoffLimitPerIndex"] == 2 and s["maxFailedIndexes"] == 4
pod = s["template"]["spec"]
assert pod["restartPolicy"] == "Never"
c = pod["containers"][0]
assert c["image"] == "registry/guestkit:1"
cmd = c["command"]
assert cmd[:2] == ["guestkit", "run"] and "--shards=4" in cmd and "--shard-group=nightly-1" in cmd
assert "--out=/results/shards" in cmd and cmd[-1] == job_file, cmd
assert {"name": "TMPDIR", "value": "/scratch"} in c["env"]
assert c["resources"]["requests"]["cpu"] == "2"
# the runner's worker rule: 256 MiB for the host, guest RAM + 96 per worker
assert c["resources"]["requests"]["memory"] == "960Mi", c["resources"]
mounts = {m["name"]: m for m in c["volumeMounts"]}
assert mounts["job"]["mountPath"] == job_file and mounts["job"]["subPath"] == "job.yaml"
assert mounts["images"]["mountPath"] == img_dir and mounts["images"]["readOnly"] is True
assert mounts["results"]["mountPath"] == "/results"
vols = {v["name"]: v for v in pod["volumes"]}
assert vols["job"]["configMap"]["name"] == cm["metadata"]["name"]
assert vols["images"]["persistentVolumeClaim"] == {"claimName": "fleet", "readOnly": True}
assert vols["results"]["persistentVolumeClaim"]["claimName"] == "res"
assert "emptyDir" in vols["scratch"]
m = merge["spec"]
assert m["suspend"] is True and merge["metadata"]["name"] == shards["metadata"]["name"] + "-merge"
mc = m["template"]["spec"]["containers"][0]
assert mc["command"][:2] == ["/bin/sh", "-c"]
assert "guestkit' merge" in mc["command"][2] and "/results/shards'/nightly-1.shard-*.db" in mc["command"][2]
assert all(len(d["metadata"]["name"]) <= 63 for d in docs)
print("ok")
EOF
[ $st = 0 ] && [ "$(tail -1 "$out/k8s.out")" = ok ] && pass k8s-manifest ||
  fail k8s-manifest "exit $st: $(cat "$out/k8s.err" "$out/k8s.out" | tail -5)"

# ---- with appliances ----
rm -f "$out"/img/vm0[5-9].img "$out"/img/vm1*.img "$out"/img/vm20.img    # 4 images
plain=$out/plain.db
"$gk" run -q --db "$plain" -j 2 "$out/job.yaml" >"$out/plain.out" 2>&1; st=$?
if [ $st != 0 ]; then
  fail shard-runs "the plain run failed (exit $st): $(tail -5 "$out/plain.out")"
  exit 1
fi
od=$out/shards
for s in 0 1; do
  "$gk" run -q --shard $s/2 --shard-group g1 --out "$od" -j 2 "$out/job.yaml" >"$out/s$s.out" 2>&1
  echo $? >> "$out/st"
done
c0=$(q "$od/g1.shard-0.db" "SELECT count(*) FROM tasks" 2>/dev/null)
c1=$(q "$od/g1.shard-1.db" "SELECT count(*) FROM tasks" 2>/dev/null)
if [ "$(tr -d '\n' < "$out/st")" = 00 ] && [ $((c0 + c1)) = 4 ] && [ -z "$(ls "$out/tmp")" ] &&
   [ "$(ls -a "$od" | grep -c '^\.g1')" = 0 ] &&
   [ "$(q "$od/g1.shard-0.db" "PRAGMA journal_mode")" = delete ]; then
  pass shard-runs-copied-out
else fail shard-runs-copied-out "exit $(cat "$out/st"), $c0+$c1 tasks, tmp: $(ls "$out/tmp"): $(cat "$out"/s?.out)"; fi

m=$out/merged.db
"$gk" merge -q "$m" "$od"/g1.shard-*.db >"$out/m.out" 2>&1; st=$?
rows() { q "$1" "SELECT t.seq || ' ' || t.image || ' ' || t.status || ' ' || f.name || '=' || f.value
  FROM tasks t LEFT JOIN facts f ON f.task_id = t.id ORDER BY t.seq, f.name"; }
if [ $st = 0 ] && [ "$(rows "$m")" = "$(rows "$plain")" ] && [ -n "$(rows "$m")" ] &&
   [ "$(q "$m" "SELECT count(*) FROM steps")" = "$(q "$plain" "SELECT count(*) FROM steps")" ]; then
  pass shard-merge-equals-plain-run
else fail shard-merge-equals-plain-run "exit $st: $(cat "$out/m.out"; diff <(rows "$plain") <(rows "$m"))"; fi

# started again: from the copy, only the unfinished task runs
q "$od/g1.shard-0.db" "UPDATE tasks SET status = 'interrupted' WHERE seq = (SELECT min(seq) FROM tasks)"
"$gk" run --shard 0/2 --shard-group g1 --out "$od" -j 2 "$out/job.yaml" >"$out/again.out" 2>&1; st=$?
if [ $st = 0 ] && grep -q "going on from $od/g1.shard-0.db" "$out/again.out" &&
   grep -q "1 of $c0 tasks* to run again" "$out/again.out" &&
   [ "$(q "$od/g1.shard-0.db" "SELECT count(*) FROM tasks WHERE status = 'ok'")" = "$c0" ] &&
   [ "$(q "$od/g1.shard-0.db" "SELECT count(*) FROM runs")" = 1 ]; then
  pass shard-started-again-goes-on
else fail shard-started-again-goes-on "exit $st: $(cat "$out/again.out")"; fi

echo "  - list_partitions" >> "$out/job.yaml"
"$gk" run --shard 0/2 --shard-group g1 --out "$od" "$out/job.yaml" >"$out/changed.out" 2>&1; st=$?
if [ $st = 2 ] && grep -q "holds shard 0 of group g1 from another version of the job" "$out/changed.out"; then
  pass shard-changed-job-refused
else fail shard-changed-job-refused "exit $st: $(cat "$out/changed.out")"; fi
exit $rc
