#!/usr/bin/env bash
# Submits a stampede study to Slurm as a job array of SHARDS shards and a
# merge job that runs once they have all succeeded:
#
#   deploy/slurm/submit.sh SHARDS OUT stampede sweep scenarios/backoff-vs-no-backoff.yaml --replications 30
#
# Prints the two job ids (array, then merge). OUT must be on a shared file
# system; the study's outputs appear there, its report in the merge job's log.
# Extra sbatch options (a partition, an account) go in SBATCH_OPTIONS.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 SHARDS OUT stampede compare|sweep|report ARGS…" >&2
    exit 2
fi
shards=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2086 # SBATCH_OPTIONS is a list of options
array=$(sbatch --parsable ${SBATCH_OPTIONS:-} --array=1-"$shards" "$here/study.sbatch" "$out" "$@")
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_OPTIONS:-} --dependency=afterok:"$array" "$here/merge.sbatch" "$out" "$1")
echo "$array $merge"
