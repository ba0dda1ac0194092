#!/usr/bin/env bash
# RTO extrapolation benchmark: a full restore of the shared dataset against drills of random samples scaled by bytes.
set -euo pipefail
B=${1:-/tmp/drill-bench}
CLI="dotnet $(cd "$(dirname "$0")/.." && pwd)/Portal.Cli/bin/Debug/net10.0/Portal.Cli.dll"
export PORTAL_PASSPHRASE="bench passphrase"
rm -rf $B/data $B/repo $B/out*
python3 ${MAKE_DATASET:-/work/shared/bench/make-dataset.py} $B/data
$CLI init --repo $B/repo >/dev/null
$CLI backup --repo $B/repo --source $B/data >/dev/null
ms() { date +%s%N | cut -c1-13; }
t0=$(ms); $CLI restore --repo $B/repo --snapshot latest --target $B/out-full >/dev/null; t1=$(ms)
full=$((t1 - t0)); total=$(find $B/data -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "full restore: ${full} ms, ${total} bytes, $(find $B/data -type f | wc -l) files"
rm -rf $B/out-full
for seed in 1 2 3; do
  for kind in files:400 bytes:104857600; do
    python3 - "$B/data" "$kind" "$seed" > $B/sample.txt <<'PY'
import os, random, sys
root, kind, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs if os.path.isfile(os.path.join(d, f)) and not os.path.islink(os.path.join(d, f)))
random.Random(seed).shuffle(files)
what, n = kind.split(":"); n = int(n); chosen, size = [], 0
for f in files:
    chosen.append(f); size += os.path.getsize(os.path.join(root, f))
    if (what == "files" and len(chosen) >= n) or (what == "bytes" and size >= n): break
print(size); print("\n".join(chosen))
PY
    sbytes=$(head -1 $B/sample.txt); args=(); while read -r f; do args+=(--include "$f"); done < <(tail -n +2 $B/sample.txt)
    t0=$(ms); $CLI restore --repo $B/repo --snapshot latest --target $B/out-sample "${args[@]}" >/dev/null; t1=$(ms)
    s=$((t1 - t0)); est=$(python3 -c "print(round($s * $total / $sbytes))")
    echo "sample $kind seed $seed: ${s} ms for ${sbytes} bytes -> full estimated ${est} ms ($(python3 -c "print(f'{($est - $full) / $full * 100:+.0f} %')"))"
    rm -rf $B/out-sample
  done
done
