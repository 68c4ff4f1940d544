#!/usr/bin/env bash
# Worker benchmark against a running local MediaVault (scripts/dev.sh): a 20-second 1280x720 clip is uploaded and
# processed by the worker (download, probe, HEVC transcode, poster, upload, bookkeeping), and the same transcode is
# run with bare ffmpeg using the worker's exact arguments, alternating, N rounds. Prints the ratio worker / bare
# (goal <= 1.10). Not a test. Options: --rounds N (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

rounds=3
case "${1:-}" in
  --rounds) rounds=$2 ;;
  -h|--help) script_usage "$0"; exit 0 ;;
  "") ;;
  *) die "unknown argument: $1" ;;
esac
ensure_debian_packages bc ffmpeg
base=${MEDIAVAULT_URL:-http://127.0.0.1:4000}
pg_port=${DEV_POSTGRES_PORT:-54320}
require_gateway "$base"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

clip="$work/clip-720p.mp4"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 \
  -t 20 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$clip"
token=$(dev_session "$base" bench-worker)
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

bare_total=0
worker_total=0
for round in $(seq 1 "$rounds"); do
  # The worker's default plan for an H.264/AAC 720p input (see TranscodePlan).
  start=$(date +%s.%N)
  ffmpeg -hide_banner -nostdin -y -loglevel error -i "$clip" -map 0:v:0 '-map' '0:a:0?' -c:v libx265 -crf 28 \
    -preset fast -x265-params log-level=error -pix_fmt yuv420p -tag:v hvc1 -c:a aac -b:a 128k -movflags +faststart \
    -progress pipe:1 -nostats -f mp4 "$work/bare.mp4" >/dev/null
  bare=$(echo "$(date +%s.%N) - $start" | bc)

  signed=$(curl -fsS -X POST "$base/media/upload/sign" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d "{\"filename\":\"bench.mp4\",\"mime_type\":\"video/mp4\",\"size_bytes\":$(stat -c %s "$clip")}")
  media_id=$(json_field media_id <<<"$signed")
  curl -fsS -X PUT -H 'Content-Type: video/mp4' --data-binary "@$clip" "$(json_field upload_url <<<"$signed")" >/dev/null
  curl -fsS -X POST "$base/media/upload/confirm" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"media_id\":\"$media_id\"}" >/dev/null
  until curl -fsS "$base/processing/$media_id/status" -H "Authorization: Bearer $token" | grep -q '"ready"\|"failed"'; do
    sleep 0.2
  done
  # Claim to completion, as the job row records it.
  worker=$(psql -h 127.0.0.1 -p "$pg_port" -U postgres -d mediavault -qtA \
    -c "SELECT EXTRACT(EPOCH FROM finished_at - started_at) FROM processing.jobs WHERE media_id = '$media_id'")
  printf 'round %d: bare ffmpeg %.2f s, worker job %.2f s, ratio %.3f\n' "$round" "$bare" "$worker" \
    "$(echo "$worker / $bare" | bc -l)"
  bare_total=$(echo "$bare_total + $bare" | bc)
  worker_total=$(echo "$worker_total + $worker" | bc)
done
printf 'total: bare %.2f s, worker %.2f s, worker/bare = %.3f\n' "$bare_total" "$worker_total" \
  "$(echo "$worker_total / $bare_total" | bc -l)"
