#!/usr/bin/env bash
# The two commands of the README's quick start, on a fresh Debian machine with the .NET 10 SDK:
#   ./portal.sh run                  the portal at http://127.0.0.1:5080 on the embedded defaults
#   ./portal.sh test [ARGS...]       every test with real services (ARGS go to `dotnet test`, e.g. --filter)
# Both install what is missing (Debian packages need root or sudo) and stop what they started.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"

say() { printf 'portal.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { say "apt-get update"; as_root apt-get update -qq; apt_updated=1; }
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

need_dotnet() {
  command -v dotnet >/dev/null || die "the .NET 10 SDK is not installed: see https://learn.microsoft.com/dotnet/core/install/linux-debian"
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

need_postgres() {
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/pg_ctl" ] || apt_install postgresql
  command -v psql >/dev/null || apt_install postgresql-client
}

need_chromium() { [ -x /usr/bin/chromium ] || apt_install chromium; }

need_node_services() {
  command -v npm >/dev/null || apt_install nodejs npm
  local dir=$repo/e2e/services
  if [ ! -x "$dir/node_modules/.bin/azurite-blob" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    say "npm ci in e2e/services"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    port_free "$p" && { echo "$p"; return; }
  done
  die "no free loopback port found"
}

wait_port() { # port seconds what
  local i
  for i in $(seq 1 $(($2 * 10))); do
    port_free "$1" || return 0
    sleep 0.1
  done
  die "$3 did not start listening on 127.0.0.1:$1 within $2 s"
}

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
pg_run() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres DATADIR PORT LOG [extra server options]: initdb on first use, then start.
start_postgres() {
  local data=$1 port=$2 log=$3; shift 3
  local bin; bin=$(pg_bin)
  mkdir -p "$data"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data" "$(dirname "$log")"
  chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    pg_run "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
  fi
  pg_run "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k /tmp $*" start >/dev/null \
    || { cat "$log" >&2; die "PostgreSQL did not start (log above: $log)"; }
}

stop_postgres() { pg_run "$(pg_bin)/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true; }

# A folder the postgres user can reach: the checkout if every parent is traversable, else one under /var/tmp.
postgres_home() {
  local wanted=$1
  if [ "$(id -u)" -ne 0 ] || runuser -u postgres -- test -x "$(dirname "$wanted")" 2>/dev/null; then
    echo "$wanted"
  else
    echo "/var/tmp/portal-$(printf '%s' "$repo" | sha256sum | cut -c1-12)/postgres"
  fi
}

cmd_run() {
  need_dotnet
  started_pg=  # global: the EXIT trap reads it
  if [ -z "${ConnectionStrings__Portal:-}" ]; then
    need_postgres
    mkdir -p "$repo/.data"
    local data port=${PORTAL_PG_PORT:-55432}
    data=$(postgres_home "$repo/.data/postgres")
    mkdir -p "$(dirname "$data")" "$repo/.data/log"
    [ "$(id -u)" -eq 0 ] && chmod 755 "$(dirname "$data")"
    port_free "$port" || die "port $port is taken: set PORTAL_PG_PORT to a free port, or ConnectionStrings__Portal to your own database"
    say "PostgreSQL on 127.0.0.1:$port, data in $data"
    start_postgres "$data" "$port" "$(dirname "$data")/postgres.log"
    started_pg=$data
    trap 'say "stopping PostgreSQL"; stop_postgres "$started_pg"' EXIT
    export ConnectionStrings__Portal="Host=127.0.0.1;Port=$port;Username=postgres;Database=portal"
  fi
  export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
  export Storage__Root=${Storage__Root:-$repo/.data/regions}
  export Protection__KeyRingPath=${Protection__KeyRingPath:-$repo/.data/keys}
  say "building the portal"
  dotnet build Portal/Portal.csproj -nologo -v q -clp:ErrorsOnly
  say "the portal at ${PORTAL_URLS:-http://127.0.0.1:5080} (Ctrl-C stops it)"
  # In the background with wait, so that Ctrl-C or a TERM to this script reaches the portal as a TERM
  # (its graceful shutdown), and then the EXIT trap stops PostgreSQL.
  dotnet Portal/bin/Debug/net10.0/Portal.dll --contentRoot "$repo/Portal" --urls "${PORTAL_URLS:-http://127.0.0.1:5080}" &
  portal_pid=$!
  trap 'kill -TERM "$portal_pid" 2>/dev/null || true' INT TERM
  local rc=0
  while kill -0 "$portal_pid" 2>/dev/null; do
    wait "$portal_pid" && rc=0 || rc=$?
  done
  return "$rc"
}

cmd_test() {
  need_dotnet
  need_postgres
  need_chromium
  need_node_services

  # globals: the EXIT trap runs after this function has returned
  tmp=$(mktemp -d /tmp/portal-test.XXXXXX)
  chmod 755 "$tmp"
  pid_azurite=
  test_pids=()
  cleanup() {
    [ ${#test_pids[@]} -gt 0 ] && kill "${test_pids[@]}" 2>/dev/null
    [ -f "$tmp/pg/PG_VERSION" ] && stop_postgres "$tmp/pg"
    [ -n "$pid_azurite" ] && kill "$pid_azurite" 2>/dev/null && wait "$pid_azurite" 2>/dev/null
    rm -rf "$tmp"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  local pg_port az_port
  pg_port=$(free_port)
  start_postgres "$tmp/pg" "$pg_port" "$tmp/postgres.log" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400
  az_port=$(free_port)
  "$repo/e2e/services/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$az_port" \
    --inMemoryPersistence --skipApiVersionCheck --disableTelemetry >"$tmp/azurite.log" 2>&1 &
  pid_azurite=$!
  wait_port "$az_port" 30 "Azurite"
  say "services: PostgreSQL 127.0.0.1:$pg_port, Azurite 127.0.0.1:$az_port"

  export PORTAL_TEST_PG="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=postgres;Maximum Pool Size=20"
  export PORTAL_TEST_AZURITE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$az_port/devstoreaccount1;"
  export PORTAL_TEST_CHROMIUM=/usr/bin/chromium
  export PORTAL_TEST_OUTPUT=${PORTAL_TEST_OUTPUT:-$repo/.test-output}
  rm -rf "$PORTAL_TEST_OUTPUT"; mkdir -p "$PORTAL_TEST_OUTPUT"

  dotnet build Portal.sln -nologo -v q -clp:ErrorsOnly
  # The two test projects run side by side (each alone leaves one of the two cores mostly idle); every output line
  # says which project it comes from. PORTAL_TEST_SERIAL=1 runs them one after the other.
  local failed=0 project name pid
  test_pids=()
  for project in Portal.Tests/Portal.Tests.csproj e2e/Portal.E2E.csproj; do
    name=$(basename "$project" .csproj)
    say "dotnet test $project"
    dotnet test "$project" --no-build -nologo \
      --logger "trx;LogFilePrefix=$name" --results-directory "$PORTAL_TEST_OUTPUT/trx" "$@" \
      > >(sed -u "s/^/[$name] /") 2>&1 &
    test_pids+=($!)
    if [ "${PORTAL_TEST_SERIAL:-0}" = 1 ]; then wait "$!" || failed=1; test_pids=(); fi
  done
  for pid in "${test_pids[@]}"; do wait "$pid" || failed=1; done
  test_pids=()
  summarize "$PORTAL_TEST_OUTPUT/trx"
  [ "$failed" -eq 0 ] || { say "some tests failed: screenshots and logs under $PORTAL_TEST_OUTPUT"; return 1; }
}

# One closing line over every project: "N passed, N failed, N skipped".
summarize() {
  local passed=0 failed=0 skipped=0 f counters
  for f in "$1"/*.trx; do
    [ -f "$f" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$f" | head -n 1)
    passed=$((passed + $(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")))
    failed=$((failed + $(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")))
    skipped=$((skipped + $(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")))
  done
  echo "Tests: $passed passed, $failed failed, $skipped skipped"
}

# A throwaway PostgreSQL for a benchmark (stopped and removed on exit), its port in bench_pg_port. Extra arguments: server settings.
bench_postgres() {
  need_dotnet
  need_postgres
  tmp=$(mktemp -d /tmp/portal-bench.XXXXXX)
  chmod 755 "$tmp"
  trap '[ -f "$tmp/pg/PG_VERSION" ] && stop_postgres "$tmp/pg"; rm -rf "$tmp"' EXIT
  bench_pg_port=$(free_port)
  start_postgres "$tmp/pg" "$bench_pg_port" "$tmp/postgres.log" "$@"
}

# Server time of the items and jobs lists on 10,000 items and 100,000 jobs, on a throwaway PostgreSQL.
cmd_bench_lists() {
  bench_postgres
  export PORTAL_BENCH_PG="Host=127.0.0.1;Port=$bench_pg_port;Username=postgres;Database=postgres"
  dotnet run -c Release --project bench/Portal.Bench.Lists -nologo -- "$@"
}

# Issue 25's page timings: the same seeded database, the real portal process (Release), the main pages' server render time.
cmd_bench_pages() {
  bench_postgres
  export PORTAL_BENCH_PG="Host=127.0.0.1;Port=$bench_pg_port;Username=postgres;Database=postgres"
  dotnet build -c Release Portal/Portal.csproj -nologo -v q -clp:ErrorsOnly
  dotnet run -c Release --project bench/Portal.Bench.Lists -nologo -- pages
}

# Issue 21's figures with real processes (Release builds): an agent's backup through the portal against the CLI, and
# fleets of agents on one portal instance. Arguments: see bench/Portal.Bench.Machines/Program.cs.
cmd_bench_machines() {
  bench_postgres -c max_connections=300
  export PORTAL_TEST_PG="Host=127.0.0.1;Port=$bench_pg_port;Username=postgres;Database=postgres;Maximum Pool Size=20"
  dotnet build -c Release bench/Portal.Bench.Machines -nologo -v q -clp:ErrorsOnly
  dotnet bench/Portal.Bench.Machines/bin/Release/net10.0/Portal.Bench.Machines.dll "$@"
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  bench-lists) shift; cmd_bench_lists "$@" ;;
  bench-pages) shift; cmd_bench_pages "$@" ;;
  bench-machines) shift; cmd_bench_machines "$@" ;;
  *) echo "usage: ./portal.sh run | ./portal.sh test [dotnet test arguments] | ./portal.sh bench-lists | ./portal.sh bench-pages | ./portal.sh bench-machines ..." >&2; exit 2 ;;
esac
