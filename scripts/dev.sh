#!/usr/bin/env bash
# Sets up and runs MediaVault locally on embedded defaults: a PostgreSQL cluster under .data/ on loopback (under
# /var/tmp when the postgres user cannot enter the checkout, as root; .data/postgres-location says where), the
# filesystem object store under .data/storage, PostgreSQL as the job queue and the development sign-in; starts the
# gateway and the worker in the background and shows the main job working: a video uploaded and transcoded to HEVC.
#
#   scripts/dev.sh           set up, start gateway (http://localhost:4000) and worker, upload and transcode a clip
#   scripts/dev.sh stop      stop the gateway, the worker and the local PostgreSQL
#   scripts/dev.sh status    show what is running
#   scripts/dev.sh --release build in release mode (slower build, faster server)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

data_dir="$PWD/.data"
pg_home=$(realpath -m "$data_dir/postgres")
pg_dir=$pg_home
# Where the last start put the cluster: .data/postgres or its fallback (see postgres_cluster_dir). Nothing else is
# taken from the file, since a copied checkout brings it along and must leave the original's cluster alone.
pg_location_file="$data_dir/postgres-location"
if [ -s "$pg_location_file" ] && [ "$(cat "$pg_location_file")" = "$(postgres_fallback_dir "$pg_home")" ]; then
  pg_dir=$(postgres_fallback_dir "$pg_home")
fi
pg_port=${DEV_POSTGRES_PORT:-54320}
http_port=${HTTP_PORT:-4000}
build_mode=debug

case "${1:-}" in
  -h|--help) script_usage "$0"; exit 0 ;;
  stop)
    for name in gateway worker; do
      if [ -f "$data_dir/$name.pid" ]; then kill "$(cat "$data_dir/$name.pid")" 2>/dev/null || true; rm -f "$data_dir/$name.pid"; fi
    done
    stop_postgres_cluster "$pg_dir"
    log "stopped"; exit 0 ;;
  status)
    for name in gateway worker; do
      if [ -f "$data_dir/$name.pid" ] && kill -0 "$(cat "$data_dir/$name.pid")" 2>/dev/null; then
        echo "$name: running (pid $(cat "$data_dir/$name.pid"))"
      else echo "$name: stopped"; fi
    done
    if postgres_cluster_running "$pg_dir"; then echo "postgres: running (data in $pg_dir)"
    else echo "postgres: stopped"; fi
    exit 0 ;;
  --release) build_mode=release ;;
  "") ;;
  *) die "unknown argument: $1 (see --help)" ;;
esac

command -v swift >/dev/null || die "the Swift toolchain must be on PATH"
ensure_debian_packages postgresql curl ca-certificates ffmpeg libimage-exiftool-perl libvips-tools
mkdir -p "$data_dir"
chmod 755 "$data_dir"

previous_pg_dir=$pg_dir
pg_dir=$(postgres_cluster_dir "$pg_home")
# The cluster moves when the postgres user's access to the checkout changed; the old one would hold the port.
if [ "$previous_pg_dir" != "$pg_dir" ] && postgres_cluster_running "$previous_pg_dir"; then
  log "stopping the cluster in $previous_pg_dir"
  stop_postgres_cluster "$previous_pg_dir"
fi
printf '%s\n' "$pg_dir" > "$pg_location_file"
if [ "$pg_dir" = "$pg_home" ]; then pg_shown=.data/postgres; else pg_shown=$pg_dir; fi
log "starting PostgreSQL on 127.0.0.1:$pg_port (data in $pg_shown)"
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
export STORAGE_BACKEND=filesystem STORAGE_DIR="$data_dir/storage"
export WORKER_HTTP_HOST=127.0.0.1 WORKER_HTTP_PORT="${WORKER_HTTP_PORT:-9090}" WORKER_POLL_INTERVAL_MS=250

log "building ($build_mode)"
swift build -c "$build_mode" --product mediavault
swift build -c "$build_mode" --product mediavault-worker
bin_dir=$(swift build -c "$build_mode" --show-bin-path)

for name in gateway worker; do
  if [ -f "$data_dir/$name.pid" ] && kill -0 "$(cat "$data_dir/$name.pid")" 2>/dev/null; then
    log "restarting the running $name"
    kill "$(cat "$data_dir/$name.pid")"
    sleep 1
  fi
done
"$bin_dir/mediavault" migrate
log "starting the gateway (log: .data/gateway.log) and the worker (log: .data/worker.log)"
nohup "$bin_dir/mediavault" serve --no-migrate > "$data_dir/gateway.log" 2>&1 &
echo $! > "$data_dir/gateway.pid"
nohup "$bin_dir/mediavault-worker" > "$data_dir/worker.log" 2>&1 &
echo $! > "$data_dir/worker.pid"

for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$http_port/healthz" >/dev/null || { tail -n 20 "$data_dir/gateway.log" >&2; die "gateway did not start"; }

base="http://127.0.0.1:$http_port"
log "demo: development sign-in as 'demo', then GET /auth/me"
token=$(dev_session "$base" demo)
curl -fsS "$base/auth/me" -H "Authorization: Bearer $token"; echo
curl -fsS "$base/readyz"; echo

log "demo: upload a 3-second test clip (H.264) and let the worker transcode it to HEVC"
clip="$data_dir/demo-clip.mp4"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi -i sine=frequency=440 \
  -t 3 -c:v libx264 -pix_fmt yuv420p -c:a aac "$clip"
signed=$(curl -fsS -X POST "$base/media/upload/sign" -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' \
  -d "{\"filename\":\"demo-clip.mp4\",\"mime_type\":\"video/mp4\",\"size_bytes\":$(stat -c %s "$clip")}")
media_id=$(json_field media_id <<<"$signed")
curl -fsS -X PUT -H 'Content-Type: video/mp4' --data-binary "@$clip" "$(json_field upload_url <<<"$signed")" >/dev/null
curl -fsS -X POST "$base/media/upload/confirm" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "{\"media_id\":\"$media_id\"}"; echo
status=""
for _ in $(seq 1 120); do
  status=$(curl -fsS "$base/processing/$media_id/status" -H "Authorization: Bearer $token")
  case "$status" in *'"ready"'*|*'"failed"'*) break ;; esac
  sleep 0.5
done
echo "$status"
curl -fsS "$base/media/$media_id" -H "Authorization: Bearer $token"; echo
stream=$(curl -fsS "$base/media/$media_id" -H "Authorization: Bearer $token" | json_field stream_url)
curl -fsS "$stream" -o "$data_dir/demo-clip.hevc.mp4"
log "processed file: $(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,codec_tag_string,width,height \
  -of csv=p=0 "$data_dir/demo-clip.hevc.mp4") (codec, tag, width, height) → .data/demo-clip.hevc.mp4"

cat <<MSG

MediaVault is running (development mode).
  API        $base            health: $base/healthz  readiness: $base/readyz  metrics: $base/metrics
  Sign in    browser: $base/auth/dev/login?username=alice   (redirects to FRONTEND_URL/auth/callback?token=…)
             curl:    curl -X POST $base/auth/dev/login -H 'Content-Type: application/json' -d '{"username":"alice"}'
  Token      export TOKEN=$token
  Worker     http://127.0.0.1:$WORKER_HTTP_PORT/healthz  metrics: http://127.0.0.1:$WORKER_HTTP_PORT/metrics
  Logs       .data/gateway.log .data/worker.log        Stop: scripts/dev.sh stop
MSG
