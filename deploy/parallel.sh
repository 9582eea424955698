#!/usr/bin/env bash
# A stampede study split into shards run by GNU parallel, then merged: the
# same bytes as running the study in one go.
#
#   deploy/parallel.sh SHARDS OUT stampede sweep scenarios/backoff-vs-no-backoff.yaml --replications 30
#
# runs `stampede sweep … --shard I/SHARDS --out OUT/parts` for I = 1..SHARDS,
# as many at once as the machine has cores, then `stampede merge OUT/parts
# --out OUT`. The study's report is printed as the command alone would print
# it. To spread the shards over other machines, add GNU parallel's own
# options through PARALLEL, e.g.
#
#   PARALLEL='--sshloginfile hosts.txt --workdir /shared/study' deploy/parallel.sh 16 /shared/study/out stampede sweep …
#
# where every host has `stampede` on its PATH and /shared is the same folder
# everywhere (or use --basefile / --return to copy the scenario and parts).
# Each shard gets its number from --shard; `--shard auto/N` would read
# PARALLEL_SEQ instead. A shard that was interrupted resumes when run again.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 SHARDS OUT stampede compare|sweep|report ARGS…" >&2
    exit 2
fi
shards=$1 out=$2
shift 2
case $shards in
    '' | *[!0-9]* | 0) echo "SHARDS must be a number of 1 or more, not '$shards'" >&2; exit 2 ;;
esac
command -v parallel >/dev/null || { echo "GNU parallel is not installed (Debian: apt-get install parallel)" >&2; exit 2; }
mkdir -p "$out/parts"
# --halt now,fail=1: one failed shard stops the others, and the exit code says so.
# Each shard's hint to run the merge is left out: the merge comes next.
parallel --will-cite --quote --halt now,fail=1 "$@" --shard {}/"$shards" --out "$out/parts" ::: $(seq 1 "$shards") \
    2> >(grep -v '^when every shard is done' >&2)
"$1" merge "$out/parts" --out "$out"
