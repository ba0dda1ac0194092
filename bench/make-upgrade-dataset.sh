#!/usr/bin/env bash
# A real software upgrade for the peer benchmark (issue 24): the node_modules of one web app (Next.js, React, MUI,
# the AWS S3 client, TypeScript, ESLint, Jest, webpack, Babel) as it stood in mid-2024 (G1) and after a year of
# upgrades, mid-2025 (G2): Next 14.2 -> 15.3, React 18 -> 19, MUI 5 -> 7, ESLint 8 -> 9, TypeScript 5.4 -> 5.8.
# Every version, transitive ones included, is pinned by the lockfiles in bench/upgrade-dataset/g1 and g2, and
# installed with `npm ci` (install scripts not run: nothing fetched outside the npm registry).
#
#   bench/make-upgrade-dataset.sh DIR        -> DIR/g1, DIR/g2 (each: package.json, package-lock.json, node_modules)
#   bench/make-upgrade-dataset.sh DIR --lock -> resolves the package.json files again and rewrites the lockfiles
#
# Then: ../shared/bench/peer-bench.sh DIR/g1 DIR/g2 /tmp/cli/Portal.Cli.dll
# (npm's --before=DATE was the first idea, but this machine's registry mirror rewrote the publish times.)
set -euo pipefail
dir=$(realpath -m "${1:?usage: make-upgrade-dataset.sh DIR [--lock]}")
spec=$(cd "$(dirname "$0")/upgrade-dataset" && pwd)
mkdir -p "$dir"
for name in g1 g2; do
  w=$dir/$name
  rm -rf "$w"; mkdir -p "$w"
  cp "$spec/$name/package.json" "$w/"
  opts=(--ignore-scripts --no-audit --no-fund --cache "$dir/.npm-cache" --loglevel=error)
  if [[ ${2:-} == --lock || ! -f $spec/$name/package-lock.json ]]; then
    (cd "$w" && npm install --legacy-peer-deps "${opts[@]}" >/dev/null)
    cp "$w/package-lock.json" "$spec/$name/"
  else
    cp "$spec/$name/package-lock.json" "$w/"
    (cd "$w" && npm ci --legacy-peer-deps "${opts[@]}" >/dev/null)
  fi
  printf "%s: %s files, %s symlinks, %s folders, %s MB; next %s, react %s, typescript %s, eslint %s\n" "$name" \
    "$(find "$w" -type f | wc -l)" "$(find "$w" -type l | wc -l)" "$(find "$w" -type d | wc -l)" \
    "$(($(du -sb "$w" | cut -f1) / 1048576))" \
    "$(node -p "require('$w/node_modules/next/package.json').version")" \
    "$(node -p "require('$w/node_modules/react/package.json').version")" \
    "$(node -p "require('$w/node_modules/typescript/package.json').version")" \
    "$(node -p "require('$w/node_modules/eslint/package.json').version")"
done
