#!/usr/bin/env bash
# Runs the study in deploy/kubernetes/study.yaml, then its merge, and prints
# the study's report. Kubernetes has no job-to-job dependency, so this waits
# for the Indexed Job to complete before applying the merge Job.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl apply -f "$here/study.yaml"
kubectl wait --for=condition=complete --timeout=24h job/stampede-shards
kubectl apply -f "$here/merge.yaml"
kubectl wait --for=condition=complete --timeout=1h job/stampede-merge
kubectl logs job/stampede-merge
