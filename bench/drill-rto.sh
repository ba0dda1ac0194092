#!/usr/bin/env bash
# RTO extrapolation benchmark (issue 22): whole restores of the shared dataset against restore drills of random samples,
# each scaled to the whole point by the files' bytes (the first model) and by the reads from storage (what drills use).
# Restores are timed inside one process, as the portal's drill times RestoreAsync (no process start or key derivation).
#   bench/drill-rto.sh [WORKDIR] [ROUNDS]   (default /tmp/drill-bench, 3 rounds of a whole restore and seven samples)
#   DRILL_FLUSH=1 bench/drill-rto.sh ...    every restore timed until its data is on disk, as drills do
set -euo pipefail
B=${1:-/tmp/drill-bench}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PORTAL_PASSPHRASE="bench passphrase for drills"
dotnet build "$ROOT/Portal.Cli" -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
dotnet build "$ROOT/bench/Portal.Bench" -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
CLI="dotnet $ROOT/Portal.Cli/bin/Release/net10.0/Portal.Cli.dll"
if [ ! -d "$B/repo" ]; then
  rm -rf "$B/data"
  python3 "${MAKE_DATASET:-/work/shared/bench/make-dataset.py}" "$B/data"
  $CLI init --repo "$B/repo" >/dev/null
  $CLI backup --repo "$B/repo" --source "$B/data" >/dev/null
fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet "$ROOT/bench/Portal.Bench/bin/Release/net10.0/Portal.Bench.dll" drill-rto "$B/repo" "$B/scratch" "$RUNS"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
