#!/usr/bin/env bash
# Shared helpers for MediaVault's scripts: package installs and a loopback PostgreSQL cluster.
# Sourced, not executed.

# script_usage FILE: prints the comment block under FILE's shebang, which is each script's --help text.
script_usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"; }

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_debian_packages PKG... installs the Debian packages that are missing (one apt-get update at most).
ensure_debian_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_python_packages PKG:COMMAND... pip-installs PKG when COMMAND is not on PATH (or, with an empty
# COMMAND, when the module PKG does not import).
ensure_python_packages() {
  local spec pkg cmd
  for spec in "$@"; do
    pkg=${spec%%:*}
    cmd=${spec#*:}
    if [ -n "$cmd" ]; then
      command -v "$cmd" >/dev/null 2>&1 && continue
    else
      python3 -c "import $pkg" >/dev/null 2>&1 && continue
    fi
    log "installing $pkg (PyPI)"
    python3 -m pip install -q "$pkg" || die "could not install $pkg with pip"
  done
}

postgres_bin() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  printf '%s\n' "$dir"
}

# Runs a PostgreSQL server binary as the postgres user when we are root (initdb refuses root).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres_cluster DIR PORT: creates the cluster on first use and starts it on 127.0.0.1:PORT.
start_postgres_cluster() {
  local dir port=$2 bin
  dir=$(realpath -m "$1")
  bin=$(postgres_bin)
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
  fi
  if as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    return 0
  fi
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 ${POSTGRES_EXTRA_OPTIONS:-}" \
    start >/dev/null || { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }
}

stop_postgres_cluster() {
  local dir bin
  dir=$(realpath -m "$1")
  bin=$(postgres_bin)
  [ -f "$dir/data/PG_VERSION" ] || return 0
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# A free TCP port on loopback, preferring the given one.
free_port() {
  local preferred=$1
  python3 - "$preferred" <<'PY'
import socket, sys
preferred = int(sys.argv[1])
for port in [preferred] + [0]:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        print(s.getsockname()[1])
        break
    except OSError:
        continue
    finally:
        s.close()
PY
}

# require_gateway BASE: stops with a hint unless a gateway answers /healthz at BASE.
require_gateway() {
  curl -fsS "$1/healthz" >/dev/null || die "no gateway at $1: run scripts/dev.sh first"
}

# dev_session BASE USERNAME: prints a session token from the development sign-in (MEDIAVAULT_ENV=development).
dev_session() {
  curl -fsS -X POST "$1/auth/dev/login" -H 'Content-Type: application/json' -d "{\"username\":\"$2\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# stop_process PID [GRACE_SECONDS]: SIGTERM, then SIGKILL if it is still there after the grace period (default 5 s).
# `weed mini`, for one, can take far longer than that to stop once its data folder is gone.
stop_process() {
  local pid=$1 grace=${2:-5} waited=0
  kill "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((grace * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -KILL "$pid" 2>/dev/null || true
}
