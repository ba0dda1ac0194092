#!/usr/bin/env bash
# Interleaved A/B of first, incremental and no-change backups with two builds of the CLI, as peer-bench.sh runs them
# (copy G1, back up, copy G2 over it, back up, back up again), two rounds:
#   bench/ab-incremental.sh OLD/Portal.Cli.dll NEW/Portal.Cli.dll [G1=/tmp/bench/g1] [G2=/tmp/bench/g2]
# Compare CPU seconds (user+sys) of the interleaved rounds on a shared machine, not single wall times.
set -euo pipefail
old=$1 new=$2 g1=${3:-/tmp/bench/g1} g2=${4:-/tmp/bench/g2}; w=$(mktemp -d /tmp/portal-abg2.XXXX); trap 'rm -rf "$w"' EXIT
export PORTAL_PASSPHRASE=benchpass-0123456789
for r in 1 2; do for v in old new; do cli=${!v}
  rm -rf "$w/src" "$w/repo-$v"; cp -a "$g1" "$w/src"; sync
  dotnet "$cli" init --repo "$w/repo-$v" >/dev/null
  /usr/bin/time -f "$v g1 %e s %U+%S cpu %M KB" dotnet "$cli" backup --repo "$w/repo-$v" --source "$w/src" >/dev/null
  rm -rf "$w/src"; cp -a "$g2" "$w/src"; sync
  /usr/bin/time -f "$v g2 %e s %U+%S cpu %M KB" dotnet "$cli" backup --repo "$w/repo-$v" --source "$w/src" >/dev/null
  /usr/bin/time -f "$v nochange %e s %U+%S cpu %M KB" dotnet "$cli" backup --repo "$w/repo-$v" --source "$w/src" >/dev/null
done; done
