#!/usr/bin/env bash
# Stands up a one-node Slurm cluster on this machine from Debian's
# `slurm-wlm` and `munge` packages (installed if missing; needs root), runs
# a sharded study through deploy/slurm/submit.sh (a job array, then a merge
# job that depends on it), and checks the merged outputs against the same
# study run in one go, byte for byte. Everything it starts is stopped and
# its files removed at the end; the system's own Slurm configuration is not
# touched (the daemons and commands read SLURM_CONF).
#
#   deploy/slurm-local-test.sh [SHARDS]        # default 4
#
# It uses the stampede in STAMPEDE_DIR, else target/release/stampede
# (cargo build --release), else `stampede` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
shards=${1:-4}
scenario=$PWD/scenarios/backoff-vs-no-backoff.yaml
study=(sweep "$scenario" --replications 4)

if [ -n "${STAMPEDE_DIR:-}" ]; then
    bin=$STAMPEDE_DIR
elif [ -x target/release/stampede ]; then
    bin=$PWD/target/release
else
    bin=$(dirname "$(command -v stampede)")
fi
export PATH=$bin:$PATH

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "== installing slurm-wlm and munge"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

work=$(mktemp -d /tmp/stampede-slurm.XXXXXX)
chmod 755 "$work"
cleanup() {
    [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
    [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
    [ -f "$work/munge/munged.pid" ] && kill "$(cat "$work/munge/munged.pid")" 2>/dev/null || true
    sleep 1
    rm -rf "$work"
}
[ -n "${KEEP_WORK:-}" ] || trap cleanup EXIT

echo "== munge: a key and a daemon of our own"
mkdir -p "$work/munge"
chown munge: "$work/munge" 2>/dev/null || true
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chown munge: "$work/munge/munge.key" 2>/dev/null || true
chmod 400 "$work/munge/munge.key"
munge_socket=$work/munge/munge.socket
runuser -u munge -- munged --key-file="$work/munge/munge.key" \
    --socket="$munge_socket" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/munge/munged.log" --seed-file="$work/munge/seed" --force
host=$(hostname -s)
cpus=$(nproc)
memory=$(awk '/MemTotal/ { print int($2 / 1024 * 0.8) }' /proc/meminfo)

echo "== slurm: one node ($host, $cpus CPUs), controller and daemon"
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<CONF
ClusterName=stampede-local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
MinJobAge=3600
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -i
slurmd
for _ in $(seq 60); do
    sinfo --noheader --states=idle 2>/dev/null | grep -q local && break
    sleep 1
done
sinfo

echo "== the study in $shards shards: a job array, then a merge job"
out=$work/study
# One CPU per shard, so the node runs $cpus shards at a time.
read -r array merge < <(SBATCH_OPTIONS="--cpus-per-task=1 --chdir=$work" \
    deploy/slurm/submit.sh "$shards" "$out" stampede "${study[@]}")
echo "array job $array, merge job $merge (runs after the array: afterok)"
state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2 || true; }
for _ in $(seq 600); do
    case "$(state "$merge")" in
        COMPLETED) break ;;
        FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY)
            echo "the merge job ended $(state "$merge")"
            tail -n 5 "$work"/stampede-*.log
            exit 1
            ;;
    esac
    if scontrol show job "$merge" | grep -q DependencyNeverSatisfied; then
        echo "a shard failed, so the merge never runs:"
        tail -n 5 "$work"/stampede-shard-*.log
        exit 1
    fi
    sleep 1
done
[ "$(state "$merge")" = COMPLETED ] || { echo "the merge job did not finish in 10 minutes"; exit 1; }
scontrol --oneliner show job "$array" | grep -oE 'ArrayTaskId=[0-9]+|JobState=[A-Z_]+' |
    paste -d' ' - - | sed 's/ArrayTaskId=/  array task /'
echo "  merge job $merge JobState=$(state "$merge")"
echo "-- the merge job's log (the study's report):"
cat "$work"/stampede-merge-*.log

echo "== the same study in one go, and the two compared"
stampede "${study[@]}" --out "$work/serial" >"$work/serial.txt" 2>/dev/null
diff -r --exclude=parts "$out" "$work/serial"
# The merge job's log is its stdout (the report) then its stderr (what it wrote).
head -n "$(wc -l <"$work/serial.txt")" "$work"/stampede-merge-*.log | cmp - "$work/serial.txt"
echo "identical: $(find "$out" -maxdepth 1 -type f | wc -l) files and the printed report, from $shards Slurm array tasks and one merge job"
