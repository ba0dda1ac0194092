#!/usr/bin/env bash
# Peak memory and time of one first backup and one restore with the CLI, and a check that the restore is identical.
#   bench/mem.sh PATH/TO/Portal.Cli.dll SOURCE LABEL
# e.g. SOURCE made by ../shared/bench/make-scale-dataset.py DIR --files 100000. Prints wall seconds and peak RSS (KB).
set -euo pipefail
cli=$1 src=$2 label=$3
w=$(mktemp -d /tmp/portal-mem.XXXX); trap 'rm -rf "$w"' EXIT
export PORTAL_PASSPHRASE=benchpass-0123456789
dotnet "$cli" init --repo "$w/repo" >/dev/null
/usr/bin/time -f "%e %M" -o "$w/t1" dotnet "$cli" backup --repo "$w/repo" --source "$src" >/dev/null
/usr/bin/time -f "%e %M" -o "$w/t2" dotnet "$cli" restore --repo "$w/repo" --snapshot latest --target "$w/out" >/dev/null
diff -r --no-dereference "$src" "$w/out" >/dev/null && ok=identical || ok=DIFFERS
echo "$label backup=$(cat "$w/t1") restore=$(cat "$w/t2") $ok load=$(cut -d' ' -f1 /proc/loadavg)"
