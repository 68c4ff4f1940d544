#!/usr/bin/env bash
# Sets up and runs MediaVault locally on embedded defaults: a PostgreSQL cluster under .data/ on loopback,
# development sign-in, then starts the gateway in the background and shows it working.
#
#   scripts/dev.sh           set up, start the gateway (http://localhost:4000) and run a short demo
#   scripts/dev.sh stop      stop the gateway and the local PostgreSQL
#   scripts/dev.sh status    show what is running
#   scripts/dev.sh --release build in release mode (slower build, faster server)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

data_dir="$PWD/.data"
pg_dir="$data_dir/postgres"
pg_port=${DEV_POSTGRES_PORT:-54320}
http_port=${HTTP_PORT:-4000}
build_mode=debug

case "${1:-}" in
  -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  stop)
    if [ -f "$data_dir/gateway.pid" ]; then kill "$(cat "$data_dir/gateway.pid")" 2>/dev/null || true; rm -f "$data_dir/gateway.pid"; fi
    stop_postgres_cluster "$pg_dir"
    log "stopped"; exit 0 ;;
  status)
    if [ -f "$data_dir/gateway.pid" ] && kill -0 "$(cat "$data_dir/gateway.pid")" 2>/dev/null; then
      echo "gateway: running (pid $(cat "$data_dir/gateway.pid")), http://localhost:$http_port"
    else echo "gateway: stopped"; fi
    exit 0 ;;
  --release) build_mode=release ;;
  "") ;;
  *) die "unknown argument: $1 (see --help)" ;;
esac

command -v swift >/dev/null || die "the Swift toolchain must be on PATH"
ensure_debian_packages postgresql curl ca-certificates
mkdir -p "$data_dir"
chmod 755 "$data_dir"

log "starting PostgreSQL on 127.0.0.1:$pg_port (data in .data/postgres)"
start_postgres_cluster "$pg_dir" "$pg_port"
psql_cmd=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA)
if [ "$("${psql_cmd[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'mediavault'")" != 1 ]; then
  "${psql_cmd[@]}" -c "CREATE DATABASE mediavault"
fi

if [ ! -s "$data_dir/session-secret" ]; then
  (umask 077; openssl rand -hex 32 > "$data_dir/session-secret" 2>/dev/null || python3 -c 'import secrets; print(secrets.token_hex(32))' > "$data_dir/session-secret")
fi

export MEDIAVAULT_ENV=development
export POSTGRES_HOST="127.0.0.1:$pg_port" POSTGRES_USER=postgres POSTGRES_DB=mediavault
SESSION_SECRET=$(cat "$data_dir/session-secret")
export SESSION_SECRET
export HTTP_HOST=127.0.0.1 HTTP_PORT="$http_port"
export API_BASE_URL="${API_BASE_URL:-http://localhost:$http_port}" FRONTEND_URL="${FRONTEND_URL:-http://localhost:3000}"
export LOG_FORMAT="${LOG_FORMAT:-text}"

log "building ($build_mode)"
swift build -c "$build_mode" --product mediavault
bin_dir=$(swift build -c "$build_mode" --show-bin-path)

if [ -f "$data_dir/gateway.pid" ] && kill -0 "$(cat "$data_dir/gateway.pid")" 2>/dev/null; then
  log "restarting the running gateway"
  kill "$(cat "$data_dir/gateway.pid")"
  sleep 1
fi
"$bin_dir/mediavault" migrate
log "starting the gateway (log: .data/gateway.log)"
nohup "$bin_dir/mediavault" serve --no-migrate > "$data_dir/gateway.log" 2>&1 &
echo $! > "$data_dir/gateway.pid"

for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null || { tail -n 20 "$data_dir/gateway.log" >&2; die "gateway did not start"; }

base="http://127.0.0.1:$http_port"
log "demo: development sign-in as 'demo', then GET /auth/me"
token=$(curl -fsS -X POST "$base/auth/dev/login" -H 'Content-Type: application/json' -d '{"username":"demo"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -fsS "$base/auth/me" -H "Authorization: Bearer $token"; echo
curl -fsS "$base/readyz"; echo

cat <<MSG

MediaVault is running (development mode).
  API        $base            health: $base/healthz  readiness: $base/readyz  metrics: $base/metrics
  Sign in    browser: $base/auth/dev/login?username=alice   (redirects to FRONTEND_URL/auth/callback?token=…)
             curl:    curl -X POST $base/auth/dev/login -H 'Content-Type: application/json' -d '{"username":"alice"}'
  Token      export TOKEN=$token
  Logs       .data/gateway.log        Stop: scripts/dev.sh stop
MSG
