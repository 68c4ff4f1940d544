#!/usr/bin/env bash
# `mediavault upload` throughput against curl. Starts one gateway (the binary given; the release build by default)
# over its own database `mediavault_bench_upload` in the PostgreSQL of scripts/dev.sh, with the filesystem store in
# a scratch folder, and prints for 200 files of 5 MB and for one 2 GB file:
#   - curl: the same files PUT one after another to presigned URLs signed beforehand (the bytes only), for the small
#     files also with curl's default `Expect: 100-continue` (which the gateway must answer at once);
#   - mediavault upload --skip-hash: sign, PUT (parts for the big file), confirm;
#   - mediavault upload: the same with hashing and the server check;
# as seconds, MB/s and the ratio to curl, best of two runs each (every run on a fresh database state).
# Not a test: prints figures. Options: --binary PATH, --files N (200), --file-mb N (5), --big-mb N (2048).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

binary="" files=200 file_mb=5 big_mb=2048
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --files) files=$2; shift 2 ;;
    --file-mb) file_mb=$2; shift 2 ;;
    --big-mb) big_mb=$2; shift 2 ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
if [ -z "$binary" ]; then binary="$(swift build -c release --show-bin-path)/mediavault"; fi
[ -x "$binary" ] || die "no binary at $binary: build it with swift build -c release --product mediavault"

pg_port=${DEV_POSTGRES_PORT:-54320}
psql_admin=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA)
"${psql_admin[@]}" -d postgres -c "SELECT 1" >/dev/null 2>&1 || die "no PostgreSQL on port $pg_port: start it with scripts/dev.sh"
database=mediavault_bench_upload
work=$(mktemp -d)
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ]; then stop_process "$gateway_pid"; fi
  "${psql_admin[@]}" -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${psql_admin[@]}" -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"

port=$(free_port 4200)
base="http://127.0.0.1:$port"
export MEDIAVAULT_ENV=development LOG_LEVEL=warning LOG_FORMAT=text
export POSTGRES_HOST="127.0.0.1:$pg_port" POSTGRES_USER=postgres POSTGRES_DB=$database
export SESSION_SECRET=bench-session-secret-0123456789abcdef0123456789abcdef
export HTTP_HOST=127.0.0.1 HTTP_PORT="$port" API_BASE_URL="$base" FRONTEND_URL=http://localhost:3000
export STORAGE_BACKEND=filesystem STORAGE_DIR="$work/storage" NSQ_HOSTS="" MAX_UPLOAD_BYTES=$(( (big_mb + 16) << 20 ))
"$binary" migrate >/dev/null
"$binary" serve --no-migrate >"$work/gateway.log" 2>&1 &
gateway_pid=$!
until curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; do
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$work/gateway.log" >&2; die "the gateway stopped"; }
  sleep 0.05
done
token=$(dev_session "$base" bench-uploader)
key=$(curl -fsS -X POST "$base/auth/api-keys" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"name": "bench", "scopes": ["media:read", "media:write"]}' | json_field key)

log "writing $files files of $file_mb MB and one of $big_mb MB"
mkdir -p "$work/small" "$work/big"
for i in $(seq 1 "$files"); do head -c $((file_mb * 1000000)) /dev/urandom >"$work/small/$(printf '%04d' "$i").jpg"; done
head -c $((big_mb << 20)) /dev/urandom >"$work/big/long.mov"

reset_library() {
  "${psql_admin[@]}" -d "$database" -c "DELETE FROM processing.outbox; DELETE FROM processing.jobs; DELETE FROM media.items;
    UPDATE media.user_storage SET used_bytes = 0, item_count = 0" >/dev/null
  rm -rf "$work/storage"/original
}

# curl: URLs signed first (not timed), then the PUTs one after another, as a script would. With a third argument
# `expect`, curl sends its default `Expect: 100-continue`: the same time means the gateway answered it at once (a
# server that does not makes curl wait a second per file).
curl_run() { # FOLDER MIME [expect]
  local urls=() file signed expect_header=(-H 'Expect:')
  [ "${3:-}" = expect ] && expect_header=()
  for file in "$1"/*; do
    signed=$(curl -fsS -X POST "$base/media/upload/sign" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
      -d "{\"filename\": \"$(basename "$file")\", \"mime_type\": \"$2\", \"size_bytes\": $(stat -c %s "$file")}")
    urls+=("$file" "$(json_field upload_url <<<"$signed")")
  done
  local started i
  started=$(date +%s%N)
  for ((i = 0; i < ${#urls[@]}; i += 2)); do
    # -T streams the file.
    curl -fsS -o /dev/null "${expect_header[@]}" -H "Content-Type: $2" -T "${urls[i]}" "${urls[i + 1]}"
  done
  echo $(( ($(date +%s%N) - started) / 1000000 ))
}

cli_run() { # FOLDER [FLAGS…]
  local folder=$1 started
  shift
  started=$(date +%s%N)
  MEDIAVAULT_SERVER=$base MEDIAVAULT_API_KEY=$key "$binary" upload "$folder" "$@" >/dev/null 2>&1
  echo $(( ($(date +%s%N) - started) / 1000000 ))
}

best() { # COMMAND…: the shorter of two runs, each after a reset
  local a b
  reset_library; a=$("$@")
  reset_library; b=$("$@")
  echo $(( a < b ? a : b ))
}

report() { # LABEL MILLISECONDS BYTES BASELINE_MS
  awk -v label="$1" -v ms="$2" -v bytes="$3" -v base="$4" 'BEGIN {
    printf "  %-34s %8.2f s %8.1f MB/s   %.2fx curl\n", label, ms / 1000, bytes / 1e6 / (ms / 1000), base / ms }'
}

for set in small big; do
  bytes=$(du -sb "$work/$set" | cut -f1)
  mime=image/jpeg
  [ "$set" = big ] && mime=video/quicktime
  curl_ms=$(best curl_run "$work/$set" "$mime")
  skip_ms=$(best cli_run "$work/$set" --skip-hash --concurrency 4)
  full_ms=$(best cli_run "$work/$set" --concurrency 4)
  echo "$set: $(find "$work/$set" -type f | wc -l) files, $((bytes / 1000000)) MB"
  report "curl PUT (presigned, sequential)" "$curl_ms" "$bytes" "$curl_ms"
  if [ "$set" = small ]; then
    report "curl PUT, Expect: 100-continue" "$(best curl_run "$work/$set" "$mime" expect)" "$bytes" "$curl_ms"
  fi
  report "mediavault upload --skip-hash" "$skip_ms" "$bytes" "$curl_ms"
  report "mediavault upload (hash + check)" "$full_ms" "$bytes" "$curl_ms"
done
