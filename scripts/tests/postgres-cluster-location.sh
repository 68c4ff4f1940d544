#!/usr/bin/env bash
# Checks where scripts/lib/common.sh keeps a PostgreSQL cluster, which is what lets scripts/dev.sh and
# scripts/test.sh run from a clone in any folder. As root the server runs as the postgres user, so a cluster asked
# for inside a folder that user cannot enter (a clone in root's 0700 home) must move to its fallback under
# /var/tmp and start there; as anyone else it stays where it was asked for. Either way the cluster must start and
# answer on loopback. Takes a few seconds; stops and deletes what it made, also when a check fails.
#
#   scripts/tests/postgres-cluster-location.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  script_usage "$0"
  exit 0
fi

ensure_debian_packages postgresql

pass() { printf 'PASS  %s\n' "$*"; }

root=$(realpath "$(mktemp -d)")
clusters=()
cleanup() {
  local dir
  for dir in ${clusters[@]+"${clusters[@]}"}; do discard_postgres_cluster "$dir"; done
  rm -rf "$root"
}
trap cleanup EXIT

# Like a home folder of mode 0700 with a clone in it, below folders anyone can enter.
chmod 755 "$root"
locked="$root/home"
mkdir -p "$locked/clone/.data"
chmod 700 "$locked"
asked="$locked/clone/.data/postgres"

pg_dir=$(postgres_cluster_dir "$asked")
clusters+=("$pg_dir")
if [ "$(id -u)" = 0 ]; then
  [ "$(postgres_blocked_at "$asked")" = "$locked" ] || die "the folder in the way is not $locked"
  [ "$pg_dir" = "$(postgres_fallback_dir "$asked")" ] || die "cluster for $asked placed in $pg_dir, not its fallback"
  case "$pg_dir" in "$locked"/*) die "cluster placed inside the unreachable $locked" ;; esac
  [ "$(stat -c '%U %a' "$(dirname "$pg_dir")")" = "postgres 700" ] ||
    die "$(dirname "$pg_dir") is not postgres's with mode 700: $(stat -c '%U %a' "$(dirname "$pg_dir")")"
  [ "$(postgres_cluster_dir "$asked" 2>/dev/null)" = "$pg_dir" ] || die "a second run chose another fallback"
  pass "a cluster asked for in a 0700 folder goes to $pg_dir, the same on each run"

  if refusal=$(start_postgres_cluster "$asked" 1 2>&1); then die "start_postgres_cluster accepted the unreachable $asked"; fi
  case "$refusal" in *"cannot enter $locked"*) ;; *) die "start_postgres_cluster failed otherwise: $refusal" ;; esac
  pass "start_postgres_cluster refuses a folder the postgres user cannot enter"

  open="$root/open/clone/.data/postgres"
  [ "$(postgres_cluster_dir "$open")" = "$open" ] || die "a reachable cluster folder was not kept"
  pass "a cluster folder the postgres user can reach is kept"
else
  [ "$pg_dir" = "$asked" ] || die "as $(id -un), the cluster for $asked was placed in $pg_dir"
  pass "as $(id -un), a cluster in one's own 0700 folder stays there"
fi

port=$(free_port 55439)
start_postgres_cluster "$pg_dir" "$port"
answer=$(psql -h 127.0.0.1 -p "$port" -U postgres -qtA -c 'SELECT 1')
[ "$answer" = 1 ] || die "the cluster in $pg_dir answered '$answer' to SELECT 1"
pass "the cluster in $pg_dir starts and answers on 127.0.0.1:$port"
stop_postgres_cluster "$pg_dir"
! postgres_cluster_running "$pg_dir" || die "the cluster in $pg_dir is still running after stop"
pass "the cluster stops"

# A socket path longer than a sockaddr_un holds stops the server from starting, whoever runs it.
long="$root/$(printf 'd%.0s' $(seq 1 100))/postgres"
long_dir=$(postgres_cluster_dir "$long" 2>/dev/null)
clusters+=("$long_dir")
[ "$long_dir" = "$(postgres_fallback_dir "$long")" ] || die "a too long cluster folder was kept: $long_dir"
pass "a cluster folder too long for the socket goes to $long_dir"
