#!/usr/bin/env bash
# Status command for the cluster-generic executor on SLURM: prints success, failed or running.
# Usage: status.sh JOBID   (Snakemake passes the id printed by the submit command)
set -u
jobid="$1"
state=$(squeue -h -j "$jobid" -t all -o %T 2>/dev/null | head -n 1)
if [ -z "$state" ] && command -v sacct >/dev/null 2>&1; then
  state=$(sacct -n -X -j "$jobid" -o State 2>/dev/null | head -n 1 | awk '{print $1}')
fi
case "$state" in
  COMPLETED) echo success ;;
  FAILED|CANCELLED*|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED) echo failed ;;
  "") echo failed ;;   # unknown to the scheduler: treat as lost
  *) echo running ;;
esac
