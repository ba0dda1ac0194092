#!/usr/bin/env bash
# Repository scale in recovery points (issue 24): one item with N points (bench/Portal.Bench/PointsScale.cs), then the
# CLI's snapshots listing, the next backup, check, forget of 9 points of 10 (in-process) and prune, each with its
# wall time, CPU and peak RSS, at each N given (default 1,000 and 10,000, Azure's limit per item being 9,999):
#   bench/points-scale.sh [N ...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PORTAL_PASSPHRASE=benchpass-0123456789
dotnet build "$ROOT/Portal.Cli" -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
dotnet build "$ROOT/bench/Portal.Bench" -c Release -nologo -v q -clp:ErrorsOnly >/dev/null
CLI="dotnet $ROOT/Portal.Cli/bin/Release/net10.0/Portal.Cli.dll"
BENCH="dotnet $ROOT/bench/Portal.Bench/bin/Release/net10.0/Portal.Bench.dll"
t() { local what=$1; shift; /usr/bin/time -f "  $what: %e s wall, %U+%S s CPU, peak RSS %M KB" "$@" >/dev/null; }
for n in ${@:-1000 10000}; do
  w=$(mktemp -d /tmp/points-scale.XXXX)
  echo "N=$n (load $(cut -d' ' -f1-3 /proc/loadavg))"
  $BENCH points-make "$w/repo" "$w/src" "$n"
  echo "  repository: $(du -sh "$w/repo" | cut -f1), $(ls "$w/repo/snapshots" | wc -l) snapshot objects"
  t "snapshots (list)" $CLI snapshots --repo "$w/repo"
  t "backup (the next point)" $CLI backup --repo "$w/repo" --source "$w/src"
  t "check" $CLI check --repo "$w/repo"
  t "forget 9 points of 10 (in-process)" $BENCH points-forget "$w/repo"
  t "prune" $CLI prune --repo "$w/repo"
  t "check after prune" $CLI check --repo "$w/repo"
  rm -rf "$w"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
