#!/usr/bin/env bash
# Calibrate the wall-clock A/B gate: N A/A runs (HEAD against itself: every alarm is false) and N
# runs with a 10% slowdown injected into one implementation (every run should fail the gate).
# Usage: scripts/calibrate-ab.sh [N=20] [IMPL=manual-gradient] [FACTOR=1.1]; extra `ab` options
# go in AB_OPTIONS (both kinds of run), INJECTED_OPTIONS (injected runs only: e.g. `--impl
# manual-gradient` times only the case that is slowed, in a third of the time) and AA_OPTIONS (A/A
# runs only; by default they keep every case, since each case is one more chance of a false alarm).
# Run it on a quiet machine with a clean working tree, with linreg-bench on PATH.
set -uo pipefail
n=${1:-20}
impl=${2:-manual-gradient}
factor=${3:-1.1}
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "calibrate-ab: the working tree differs from HEAD, so the A/A would not be A/A; commit or stash first" >&2
  exit 2
fi
reports=${CALIBRATION_DIR:-$(mktemp -d)}
echo "calibrate-ab: each run's comparison in $reports" >&2
gate() {  # exit 0 (no regression) or 1 (regression); anything else stops the calibration
  local name=$1
  shift
  linreg-bench ab --base HEAD --fail-on-regression ${AB_OPTIONS:-} "$@" > "$reports/$name.md" 2> "$reports/$name.err"
  local code=$?
  if [ "$code" -gt 1 ]; then
    echo "calibrate-ab: linreg-bench ab exited $code: $(tail -1 "$reports/$name.err")" >&2
    exit 2
  fi
  return "$code"
}
false_alarms=0
caught=0
for i in $(seq 1 "$n"); do
  gate "aa-$i" ${AA_OPTIONS:-} || false_alarms=$((false_alarms + 1))
  gate "injected-$i" ${INJECTED_OPTIONS:-} --inject-slowdown "$impl=$factor" || caught=$((caught + 1))
  echo "after $i: A/A false alarms $false_alarms/$i, $impl ×$factor caught $caught/$i" >&2
done
echo "A/A false alarms: $false_alarms/$n; $impl ×$factor injected: caught $caught/$n"
