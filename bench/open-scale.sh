#!/usr/bin/env bash
# Opening a repository of 10,000,000 chunks for a no-change backup of a 1,000,000-file item (issue 24).
#   bench/open-scale.sh [WORKDIR] [FILES] [CHUNKS]      (default /tmp/open-scale, 1,000,000 files, 10,000,000 chunks)
# Makes FILES small files (1,000 folders; 60-1,000 bytes of text each) once, backs them up, times a no-change backup,
# then adds CHUNKS synthetic chunks to the index (Portal.Bench open-scale: index objects only, no data) and times the
# same no-change backup and `snapshots` (open alone) again. Prints wall seconds, CPU seconds and peak RSS of each step.
set -euo pipefail
W=${1:-/tmp/open-scale}
FILES=${2:-1000000}
CHUNKS=${3:-10000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PORTAL_PASSPHRASE="bench passphrase for open-scale"
dotnet publish "$ROOT/Portal.Cli" -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$W/cli" -nologo -v q -clp:ErrorsOnly >/dev/null
dotnet build "$ROOT/bench/Portal.Bench" -c Release -nologo -v q -clp:ErrorsOnly | grep -E "error" && exit 1 || true
CLI="dotnet $W/cli/Portal.Cli.dll"
BENCH="dotnet $ROOT/bench/Portal.Bench/bin/Release/net10.0/Portal.Bench.dll"
if [ ! -f "$W/src/.done-$FILES" ]; then
  rm -rf "$W/src"
  python3 - "$W/src" "$FILES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(24)
words = "vault backup item recovery point agent region policy replica restore machine folder".split()
per = max(1, n // 1000)
for i in range(n):
    d = os.path.join(root, f"d{i // per:04d}")
    if i % per == 0: os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i % per:05d}.txt"), "w") as f:
        f.write(" ".join(rnd.choice(words) for _ in range(rnd.randint(10, 160))))
open(os.path.join(root, f".done-{n}"), "w").close()
PY
fi
step() { local name=$1; shift; /usr/bin/time -f "$name: %e s wall, %U+%S s CPU, peak %M KB" "$@" >/dev/null 2>"$W/time.txt" || { cat "$W/time.txt" >&2; exit 1; }; tail -1 "$W/time.txt"; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $FILES files"
rm -rf "$W/repo"
$CLI init --repo "$W/repo" >/dev/null
step "first backup" $CLI backup --repo "$W/repo" --source "$W/src"
step "no-change backup" $CLI backup --repo "$W/repo" --source "$W/src"
step "snapshots (open)" $CLI snapshots --repo "$W/repo"
$BENCH open-scale "$W/repo" "$CHUNKS"
step "snapshots (open), $CHUNKS more chunks" $CLI snapshots --repo "$W/repo"
step "no-change backup, $CHUNKS more chunks" $CLI backup --repo "$W/repo" --source "$W/src"
step "no-change backup, $CHUNKS more chunks, again" $CLI backup --repo "$W/repo" --source "$W/src"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
