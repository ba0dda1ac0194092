#!/usr/bin/env bash
# Interleaved A/B of the incremental backup G1 -> G2 only (as peer-bench.sh runs it: G2 copied over the source with
# cp -a, so every file has a new inode and ctime), repeated from a saved copy of each repository after G1:
#   bench/ab-g2.sh OLD/Portal.Cli.dll NEW/Portal.Cli.dll [ROUNDS=4] [G1=/tmp/bench/g1] [G2=/tmp/bench/g2]
# Compare CPU seconds (user+sys) of the interleaved rounds on a shared machine, not single wall times.
set -euo pipefail
old=$1 new=$2 rounds=${3:-4} g1=${4:-/tmp/bench/g1} g2=${5:-/tmp/bench/g2}; w=$(mktemp -d /tmp/portal-abg2.XXXX); trap 'rm -rf "$w"' EXIT
export PORTAL_PASSPHRASE=benchpass-0123456789
cp -a "$g1" "$w/src"
for v in old new; do cli=${!v}; dotnet "$cli" init --repo "$w/g1-$v" >/dev/null; dotnet "$cli" backup --repo "$w/g1-$v" --source "$w/src" >/dev/null; done
rm -rf "$w/src"; cp -a "$g2" "$w/src"; sync
for _ in $(seq "$rounds"); do for v in old new; do cli=${!v}
  rm -rf "$w/repo"; cp -a "$w/g1-$v" "$w/repo"; sync
  /usr/bin/time -f "$v g2 %e s %U+%S cpu %M KB" dotnet "$cli" backup --repo "$w/repo" --source "$w/src" >/dev/null
done; done
