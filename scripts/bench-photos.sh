#!/usr/bin/env bash
# Photo benchmark: thumbnail + preview per second for a 24-megapixel JPEG and a HEIC, libvips (what the worker runs:
# vipsthumbnail, orientation, sRGB, stripped) against the ffmpeg thumbnailer the worker used before, in the same run;
# then peak memory on a 100-megapixel image: of the tools, and of a running worker (scripts/dev.sh) processing one.
# Not a test: prints figures. Options: --rounds N (default 5).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

rounds=5
case "${1:-}" in
  --rounds) rounds=$2 ;;
  -h|--help) script_usage "$0"; exit 0 ;;
  "") ;;
  *) die "unknown argument: $1" ;;
esac
ensure_debian_packages ffmpeg libvips-tools time
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log "making a 6000x4000 JPEG, its HEIC and a 10000x10000 JPEG"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=6000x4000 -frames:v 1 -q:v 3 "$work/24mp.jpg"
vips copy "$work/24mp.jpg" "$work/24mp.heic[Q=60]"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=10000x10000 -frames:v 1 -q:v 3 "$work/100mp.jpg"

# Seconds for one preview (1440) and one thumbnail (640, made from the preview), as the worker makes them.
vips_pair() {
  local start
  start=$(date +%s.%N)
  VIPS_BLOCK_UNTRUSTED=1 vipsthumbnail "$1" --size '1440x1440>' --export-profile srgb -o "$work/p.jpg[Q=82,strip]"
  VIPS_BLOCK_UNTRUSTED=1 vipsthumbnail "$work/p.jpg" --size '640x640>' --export-profile srgb -o "$work/t.jpg[Q=82,strip]"
  echo "$(date +%s.%N) - $start" | bc -l
}
ffmpeg_pair() {
  local start
  start=$(date +%s.%N)
  ffmpeg -hide_banner -nostdin -y -loglevel error -i "$1" -frames:v 1 -vf "scale='min(640,iw)':-2" -q:v 3 \
    -update 1 -f image2 "$work/t.jpg"
  ffmpeg -hide_banner -nostdin -y -loglevel error -i "$1" -frames:v 1 -vf "scale='min(1440,iw)':-2" -q:v 3 \
    -update 1 -f image2 "$work/p.jpg"
  echo "$(date +%s.%N) - $start" | bc -l
}
rate() { python3 -c "import sys; t = sum(map(float, sys.argv[1:])); print(f'{len(sys.argv[1:]) / t:.2f}')" "$@"; }

for input in 24mp.jpg 24mp.heic; do
  vips_times=()
  ffmpeg_times=()
  for _ in $(seq 1 "$rounds"); do
    vips_times+=("$(vips_pair "$work/$input")")
    if [ "$input" = 24mp.jpg ]; then ffmpeg_times+=("$(ffmpeg_pair "$work/$input")"); fi
  done
  vips_rate=$(rate "${vips_times[@]}")
  if [ "${#ffmpeg_times[@]}" -gt 0 ]; then
    ffmpeg_rate=$(rate "${ffmpeg_times[@]}")
    printf '%-10s thumbnail+preview per second: libvips %s, ffmpeg %s (libvips/ffmpeg %.2fx)\n' "$input" \
      "$vips_rate" "$ffmpeg_rate" "$(echo "$vips_rate / $ffmpeg_rate" | bc -l)"
  else
    printf '%-10s thumbnail+preview per second: libvips %s (ffmpeg 5.1 cannot read HEIC)\n' "$input" "$vips_rate"
  fi
done

peak() { /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>&1; echo "$(( $(cat "$work/rss") / 1024 )) MiB"; }
printf '100 MP JPEG peak RSS: vipsthumbnail preview %s, ffmpeg preview %s\n' \
  "$(peak env VIPS_BLOCK_UNTRUSTED=1 vipsthumbnail "$work/100mp.jpg" --size '1440x1440>' -o "$work/p.jpg[strip]")" \
  "$(peak ffmpeg -hide_banner -nostdin -y -loglevel error -i "$work/100mp.jpg" -frames:v 1 \
    -vf "scale='min(1440,iw)':-2" -update 1 -f image2 "$work/p.jpg")"

base=${MEDIAVAULT_URL:-http://127.0.0.1:4000}
worker_pid=$(cat .data/worker.pid 2>/dev/null || true)
if [ -n "$worker_pid" ] && curl -fsS "$base/healthz" >/dev/null 2>&1; then
  token=$(dev_session "$base" bench-photos)
  signed=$(curl -fsS -X POST "$base/media/upload/sign" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d "{\"filename\":\"100mp.jpg\",\"mime_type\":\"image/jpeg\",\"size_bytes\":$(stat -c %s "$work/100mp.jpg")}")
  media_id=$(json_field media_id <<<"$signed")
  curl -fsS -X PUT -H 'Content-Type: image/jpeg' --data-binary "@$work/100mp.jpg" \
    "$(json_field upload_url <<<"$signed")" >/dev/null
  curl -fsS -X POST "$base/media/upload/confirm" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"media_id\":\"$media_id\"}" >/dev/null
  until curl -fsS "$base/processing/$media_id/status" -H "Authorization: Bearer $token" | grep -q '"ready"\|"failed"'; do
    sleep 1
  done
  printf 'worker process peak RSS after processing the 100 MP photo: %s MiB (libvips runs in its own process)\n' \
    "$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$worker_pid/status")"
else
  log "no scripts/dev.sh gateway and worker running: skipping the worker's own peak memory"
fi
