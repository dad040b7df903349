#!/usr/bin/env bash
# A real Slurm test of `cloudcapex slurm --submit`: installs Debian's slurmctld, slurmd,
# slurm-client and munge (skipped, saying so, only where apt-get cannot install
# packages), starts a one-node cluster in a temporary folder (its own munge key, socket,
# slurm.conf, state and logs; the daemons started and stopped here, by their PIDs),
# submits a 4-shard run as a job array plus a dependent merge job, waits for the merge,
# and checks its outputs are byte-identical to a plain run.
#
# Run: tests/slurm.sh   (CLOUDCAPEX_BIN: the binary; default target/release/cloudcapex)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${CLOUDCAPEX_BIN:-$PWD/target/release/cloudcapex}"

need=(slurmctld slurmd sbatch squeue munged)
missing() { for c in "${need[@]}"; do command -v "$c" >/dev/null || PATH="$PATH:/usr/sbin" command -v "$c" >/dev/null || return 0; done; return 1; }
export PATH="$PATH:/usr/sbin"
if missing; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing slurmctld slurmd slurm-client munge (Debian packages)"
    apt-get update -qq >/dev/null 2>&1 || true
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         slurmctld slurmd slurm-client munge >/dev/null 2>&1; then
      echo "SKIPPED: apt-get could not install Slurm's packages here"; exit 0
    fi
  else
    echo "SKIPPED: Slurm is not installed and apt-get cannot install packages here (needs root)"; exit 0
  fi
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work"/{munge,state,spool,run}
chmod 700 "$work/munge"

# munge: a key of our own, a socket of our own (so a system munged, if any, is not used).
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed"
for _ in $(seq 50); do [ -s "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

cat > "$work/slurm.conf" <<EOF
ClusterName=ccx-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=ccx Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"

slurmctld -i -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$work/run/slurmctld.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/run/slurmctld.pid")")
slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do [ -s "$work/run/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/run/slurmd.pid")")
for _ in $(seq 100); do
  sinfo -h -o %t 2>/dev/null | grep -qE '^(idle|mix|alloc)' && break; sleep 0.2
done
if ! sinfo -h -o %t | grep -qE '^(idle|mix|alloc)'; then
  echo "the one-node cluster did not come up:"; sinfo || true
  tail -20 "$work/slurmctld.log" "$work/slurmd.log" || true; exit 1
fi
echo "one-node Slurm cluster up: $host, $cpus CPUs"

args=(scenarios/base.toml --paths 9000 --paths-out 3)
"$BIN" slurm "${args[@]}" --shards 4 --cpus-per-task 1 --time 00:10:00 --partition ccx \
  --job-dir "$work/job" --out "$work/merged" --submit | tee "$work/submitted.txt"
merge_id=$(sed -n 's/.*merge job \([0-9]*\).*/\1/p' "$work/submitted.txt")
[ -n "$merge_id" ] || { echo "no merge job id printed"; exit 1; }

# Wait for the merge job to leave the queue (at most 5 minutes).
for _ in $(seq 600); do
  squeue -h -j "$merge_id" 2>/dev/null | grep -q . || break; sleep 0.5
done
if [ ! -f "$work/merged/base/quarterly.csv" ]; then
  echo "the merge job did not write the outputs"; squeue || true
  cat "$work"/job/logs/*.out 2>/dev/null || true; tail -20 "$work/slurmctld.log" || true; exit 1
fi
ls "$work/job/shards/base"

"$BIN" run "${args[@]}" --out "$work/plain" --quiet
for f in quarterly.csv summary.csv convergence.csv paths.csv path_scalars.csv drivers.csv scenario.toml; do
  cmp "$work/plain/base/$f" "$work/merged/base/$f"
done
echo "slurm: 4 array tasks and the merge job ran; every output byte-identical to a plain run"
