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

# Runs a PostgreSQL server binary as the postgres user when we are root (initdb refuses root), from / since the
# postgres user may not be able to enter our working folder (the binaries complain; callers pass absolute paths).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The user the cluster's server runs as: initdb refuses root, so root hands it to the postgres user.
postgres_server_user() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# postgres_can_enter DIR: whether the cluster's server can reach DIR, or DIR once created (start_postgres_cluster
# creates missing folders with mode 755). Only root needs asking: as anyone else the server runs as us, and we are
# in the checkout already. access(2) fails when any folder on the way is not searchable, so one test covers them all.
postgres_can_enter() {
  [ "$(id -u)" = 0 ] || return 0
  local dir
  dir=$(realpath -m "$1")
  while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
  runuser -u postgres -- test -x "$dir"
}

# postgres_blocked_at DIR: the first folder on the way to DIR that the postgres user cannot enter (for the message).
postgres_blocked_at() {
  local path="" part parts
  IFS=/ read -ra parts <<<"${1#/}"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    path="$path/$part"
    [ -d "$path" ] || break
    runuser -u postgres -- test -x "$path" || { printf '%s\n' "$path"; return 0; }
  done
  printf '%s\n' "$1"
}

# postgres_fallback_dir DIR: where postgres_cluster_dir puts the cluster asked for at DIR when it cannot stay there.
# Named after DIR, so every clone (and every cluster of one) keeps its own, and the same one on each run. /var/tmp,
# not /tmp: Debian empties /tmp at boot, and a dev cluster's data should outlive that.
postgres_fallback_dir() {
  local dir
  dir=$(realpath -m "$1")
  printf '/var/tmp/mediavault-%s-%s/postgres\n' "$(id -un)" "$(printf '%s' "$dir" | sha256sum | cut -c 1-12)"
}

# postgres_cluster_dir DIR: prints the folder for the cluster asked for at DIR, creating the fallback folder when
# needed. That is DIR itself unless the server could not use it there: as root, when the postgres user cannot enter
# a folder on the way (a clone in root's 0700 home); for anyone, when DIR is too long for the server's socket path
# (a sockaddr_un holds 107 bytes, and "/.s.PGSQL.PORT" takes up to 15 of them).
postgres_cluster_dir() {
  local dir home owner reason LC_ALL=C
  dir=$(realpath -m "$1")
  if [ "${#dir}" -gt 92 ]; then
    reason="$dir is too long for PostgreSQL's socket path"
  elif ! postgres_can_enter "$(dirname "$dir")"; then
    reason="PostgreSQL (user postgres) cannot enter $(postgres_blocked_at "$(dirname "$dir")")"
  else
    printf '%s\n' "$dir"
    return 0
  fi
  home=$(dirname "$(postgres_fallback_dir "$dir")")
  owner=$(postgres_server_user)
  if mkdir -m 700 "$home" 2>/dev/null; then
    [ "$owner" = "$(id -un)" ] || chown "$owner:" "$home"
  elif [ ! -e "$home" ]; then
    die "could not create $home for the PostgreSQL cluster"
  fi
  # /var/tmp is writable by everyone: a folder someone else made under this name must not receive the cluster.
  if [ -L "$home" ] || [ ! -d "$home" ] || [ "$(stat -c '%U %a' "$home")" != "$owner 700" ]; then
    die "$home is not a folder of $owner's with mode 700; remove it and run again"
  fi
  log "$reason; keeping the cluster in $home/postgres"
  printf '%s\n' "$home/postgres"
}

# start_postgres_cluster DIR PORT: creates the cluster on first use and starts it on 127.0.0.1:PORT, with its socket
# in DIR. DIR comes from postgres_cluster_dir.
start_postgres_cluster() {
  local dir port=$2 bin
  dir=$(realpath -m "$1")
  bin=$(postgres_bin)
  postgres_can_enter "$(dirname "$dir")" || die "PostgreSQL (user postgres) cannot enter" \
    "$(postgres_blocked_at "$(dirname "$dir")"); choose the cluster folder with postgres_cluster_dir"
  # The server must be able to pass through any folder created here, whatever root's umask.
  (umask 022 && mkdir -p "$dir")
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >/dev/null
  fi
  if postgres_cluster_running "$dir"; then
    return 0
  fi
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 ${POSTGRES_EXTRA_OPTIONS:-}" \
    start >/dev/null || { cat "$dir/server.log" >&2; die "PostgreSQL did not start"; }
}

postgres_cluster_running() {
  local dir
  dir=$(realpath -m "$1")
  [ -f "$dir/data/PG_VERSION" ] || return 1
  as_postgres "$(postgres_bin)/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

stop_postgres_cluster() {
  local dir bin
  dir=$(realpath -m "$1")
  bin=$(postgres_bin)
  [ -f "$dir/data/PG_VERSION" ] || return 0
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# discard_postgres_cluster DIR: stops a throwaway cluster and deletes DIR, and with it the /var/tmp folder that
# postgres_cluster_dir made for it, which nothing else uses.
discard_postgres_cluster() {
  local dir
  dir=$(realpath -m "$1")
  stop_postgres_cluster "$dir"
  rm -rf "$dir"
  case "$(dirname "$dir")" in
    /var/tmp/mediavault-*) rmdir "$(dirname "$dir")" 2>/dev/null || true ;;
  esac
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

# json_field NAME: a top-level field of the JSON document on standard input.
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

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
