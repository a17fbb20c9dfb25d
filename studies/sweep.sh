#!/usr/bin/env bash
# Run tools.diagnose for every (variant, seed) in parallel, one CPU thread each.
# usage: studies/sweep.sh PARAMS PAIR OUTDIR "SEEDS" JOBS VARIANT_NAME="--set a=b --set c=d" ...
set -u
params=$1; pair=$2; out=$3; seeds=$4; jobs=$5; shift 5
mkdir -p "$out"
for spec in "$@"; do
  name=${spec%%=*}; sets=${spec#*=}
  for seed in $seeds; do
    echo "$name $seed $sets"
  done
done | PYTHON=${PYTHON:-python3} OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 xargs -P "$jobs" -L 1 bash -c \
  'name=$0; seed=$1; shift 1; $PYTHON -m tools.diagnose --params '"$params"' --pair '"$pair"' --seeds $seed "$@" --out '"$out"'/$name.seed$seed.json > '"$out"'/$name.seed$seed.log 2>&1; echo "$name seed $seed: $(tail -c 600 '"$out"'/$name.seed$seed.log)"'
