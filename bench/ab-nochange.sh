#!/usr/bin/env bash
# Interleaved A/B of no-change backups (wall, user+sys CPU, peak RSS) of one folder with two builds of the CLI:
#   bench/ab-nochange.sh OLD/Portal.Cli.dll NEW/Portal.Cli.dll [SOURCE=/tmp/bench/g1] [ROUNDS=3]
# On a shared machine compare CPU seconds of interleaved rounds, not single wall times.
set -euo pipefail
old=$1 new=$2 src=${3:-/tmp/bench/g1} rounds=${4:-3}
w=$(mktemp -d /tmp/portal-ab.XXXX); trap 'rm -rf "$w"' EXIT
export PORTAL_PASSPHRASE=benchpass-0123456789
for v in old new; do cli=${!v}; dotnet "$cli" init --repo "$w/$v" >/dev/null; dotnet "$cli" backup --repo "$w/$v" --source "$src" >/dev/null; done
for _ in $(seq "$rounds"); do
  for v in old new; do
    cli=${!v}; /usr/bin/time -f "$v nochange %e s %U+%S cpu %M KB" dotnet "$cli" backup --repo "$w/$v" --source "$src" >/dev/null
  done
done
