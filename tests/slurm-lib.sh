# tests/slurm-lib.sh: a private single-node Slurm for tests/runner-slurm.sh
# and tests/bench-shard.sh (sourced, not run).  Installs nothing: make deps
# installs slurm-wlm and munge.  Started by hand (there is no systemd):
#   munged      as the munge user, its key, socket and logs in $SL/munge
#   slurmctld   in the foreground, root, state and logs in $SL
#   slurmd      in the foreground, root, spool in $SL, TmpFS (a job's
#               TMPDIR, where shards keep their databases) $SL/tmp
# slurm.conf: NodeName is `hostname -s', CPUs and memory no more than
# `slurmd -C' says, ProctrackType=proctrack/linuxproc, TaskPlugin=task/none,
# SelectType=select/cons_tres; ports picked at random so that two trees
# can run it at once.  slurm_stop kills every daemon by its pid.
#
#   slurm_missing         prints why Slurm cannot run here, or nothing
#   slurm_start DIR       start everything under DIR; 0 once the node is idle
#   slurm_stop            stop the daemons (call it from an EXIT trap)
#   slurm_wait JOBID SECS wait until every task of JOBID has ended; prints
#                         their states ("COMPLETED FAILED ...")

slurm_pids=()

slurm_missing() {
  local b
  [ "$(id -u)" = 0 ] || { echo "not root (slurmd and munged need root)"; return; }
  for b in munged munge slurmctld slurmd sbatch squeue scancel scontrol sinfo setpriv; do
    command -v $b >/dev/null 2>&1 || { echo "$b is not installed (make deps installs slurm-wlm and munge)"; return; }
  done
  id munge >/dev/null 2>&1 || echo "there is no munge user"
}

# A background daemon; its pid kept for slurm_stop.
slurm_daemon() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  slurm_pids+=($!)
}

slurm_start() {
  SL=$1
  local host cpus mem port i
  mkdir -p "$SL/munge" "$SL/state" "$SL/spool" "$SL/log" "$SL/tmp"
  chmod 755 "$SL"; chmod 1777 "$SL/tmp"
  chown munge:munge "$SL/munge"; chmod 755 "$SL/munge"
  head -c 1024 /dev/urandom > "$SL/munge/munge.key"
  chown munge:munge "$SL/munge/munge.key"; chmod 400 "$SL/munge/munge.key"
  slurm_daemon "$SL/log/munged.out" setpriv --reuid=munge --regid=munge --clear-groups \
    munged -F --socket="$SL/munge/sock" --key-file="$SL/munge/munge.key" \
    --log-file="$SL/munge/munged.log" --pid-file="$SL/munge/munged.pid" \
    --seed-file="$SL/munge/munged.seed"
  for i in $(seq 50); do [ -S "$SL/munge/sock" ] && break; sleep 0.1; done
  [ -S "$SL/munge/sock" ] || { echo "munged did not start: $(cat "$SL/log/munged.out")" >&2; return 1; }

  host=$(hostname -s)
  cpus=$(slurmd -C | sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' | head -1)
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  port=$((20000 + RANDOM % 20000))
  cat > "$SL/slurm.conf" <<EOF
ClusterName=gk$$
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SL/munge/sock
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/log/slurmctld.log
SlurmdLogFile=$SL/log/slurmd.log
TmpFS=$SL/tmp
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=3600
SchedulerType=sched/builtin
NodeName=$host CPUs=${cpus:-1} RealMemory=$(( ${mem:-2048} / 2 )) State=UNKNOWN
PartitionName=gk Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$SL/slurm.conf
  slurm_daemon "$SL/log/slurmctld.out" slurmctld -D -f "$SL/slurm.conf"
  slurm_daemon "$SL/log/slurmd.out" slurmd -D -f "$SL/slurm.conf"
  for i in $(seq 150); do
    [ "$(sinfo -h -o %T 2>/dev/null)" = idle ] && return 0
    sleep 0.2
  done
  echo "the Slurm node did not come up: $(tail -3 "$SL"/log/*.out "$SL"/log/*.log 2>&1)" >&2
  return 1
}

slurm_stop() {
  local i p
  # slurmd first (it ends the jobs it runs), then slurmctld, then munged
  for ((i = ${#slurm_pids[@]} - 1; i >= 0; i--)); do
    p=${slurm_pids[i]}
    kill "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  slurm_pids=()
}

# The states of a job's tasks (one word each), sorted.
slurm_states() {
  scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort
}

slurm_wait() {
  local id=$1 secs=$2 i s
  for ((i = 0; i < secs * 5; i++)); do
    s=$(slurm_states "$id")
    if [ -n "$s" ] && ! echo "$s" | grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED'; then
      echo $s
      return 0
    fi
    sleep 0.2
  done
  echo "TIMEOUT $s"
  return 1
}

# sample_images DIR: 8 images for a sharded audit in DIR: 6 Debian-like
# ones (made once, cached in /var/tmp keyed by the tool that makes them)
# and 2 that are no disk at all.
sample_images() {
  local dir=$1 key cache h
  key=$(sha256sum tests/bin/make-sample-image | cut -c1-16)
  cache=/var/tmp/gk-slurm-images-$key
  if [ ! -f "$cache/done" ]; then
    rm -rf "$cache.tmp.$$"; mkdir -p "$cache.tmp.$$"
    for h in web1 web2 db1 db2 mail1 build1; do
      tests/bin/make-sample-image "$cache.tmp.$$/$h.img" 32 "$h" 2>>"$cache.tmp.$$/err" || break
    done
    if [ "$(ls "$cache.tmp.$$"/*.img 2>/dev/null | wc -l)" != 6 ]; then
      echo "cannot make sample images: $(cat "$cache.tmp.$$/err")" >&2
      rm -rf "$cache.tmp.$$"
      return 1
    fi
    touch "$cache.tmp.$$/done"
    mv -T "$cache.tmp.$$" "$cache" 2>/dev/null || rm -rf "$cache.tmp.$$"
  fi
  mkdir -p "$dir"
  cp --sparse=always "$cache"/*.img "$dir/"
  head -c 4194304 /dev/urandom > "$dir/junk1.img"
  head -c 4194304 /dev/zero > "$dir/junk2.img"
}
