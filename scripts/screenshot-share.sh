#!/usr/bin/env bash
# Shares a small demo collection from a running local MediaVault (start it with scripts/dev.sh) and takes a
# screenshot of its public share page in headless Chromium, so a person can look at what viewers see.
#
#   scripts/screenshot-share.sh                 photos + a transcoded video → .data/share-page.png
#   scripts/screenshot-share.sh --password PW   also screenshot the password form of a protected link
#   scripts/screenshot-share.sh --out FILE      where to write the screenshot
# MEDIAVAULT_URL (default http://127.0.0.1:4000) names the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

out="$PWD/.data/share-page.png"
password=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --password) password=$2; shift 2 ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
base=${MEDIAVAULT_URL:-http://127.0.0.1:4000}
require_gateway "$base"
ensure_debian_packages chromium fonts-dejavu-core ffmpeg curl
chromium_bin=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium_bin" ] || die "chromium is not installed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
api() { # method path [json body]
  curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' ${3:+-d "$3"}
}

token=$(dev_session "$base" share-demo)

log "making demo media with ffmpeg"
ffmpeg_quiet=(ffmpeg -hide_banner -loglevel error -y)
"${ffmpeg_quiet[@]}" -f lavfi -i testsrc2=size=1280x720 -frames:v 1 "$work/test-pattern.png"
"${ffmpeg_quiet[@]}" -f lavfi -i smptehdbars=size=1280x720 -frames:v 1 "$work/colour-bars.png"
"${ffmpeg_quiet[@]}" -f lavfi -i mandelbrot=size=1280x720 -frames:v 1 "$work/mandelbrot.jpg"
"${ffmpeg_quiet[@]}" -f lavfi -i testsrc=size=640x360:rate=25 -f lavfi -i sine=frequency=330 -t 3 \
  -c:v libx264 -pix_fmt yuv420p -c:a aac "$work/short-clip.mp4"

upload() { # file mime title → media id
  local size signed media_id
  size=$(stat -c %s "$1")
  signed=$(api POST /media/upload/sign "{\"filename\":\"$(basename "$1")\",\"mime_type\":\"$2\",\"size_bytes\":$size}")
  media_id=$(json_field media_id <<<"$signed")
  curl -fsS -X PUT -H "Content-Type: $2" --data-binary "@$1" "$(json_field upload_url <<<"$signed")" >/dev/null
  api POST /media/upload/confirm "{\"media_id\":\"$media_id\",\"title\":\"$3\"}" >/dev/null
  echo "$media_id"
}
ids=(
  "$(upload "$work/test-pattern.png" image/png "Test pattern")"
  "$(upload "$work/colour-bars.png" image/png "Colour bars <HD>")"
  "$(upload "$work/mandelbrot.jpg" image/jpeg "Mandelbrot & friends")"
  "$(upload "$work/short-clip.mp4" video/mp4 "A short clip")"
)

log "waiting for the worker to process them (thumbnails, HEVC)"
for id in "${ids[@]}"; do
  for _ in $(seq 1 120); do
    case "$(api GET "/processing/$id/status")" in *'"ready"'*|*'"failed"'*) break ;; esac
    sleep 0.5
  done
done

collection=$(api POST /collection '{"title":"Demo trip","description":"Shared from MediaVault: three pictures and a clip."}' \
  | json_field id)
for id in "${ids[@]}"; do api POST "/collection/$collection/add" "{\"media_id\":\"$id\"}" >/dev/null; done
link=$(api POST "/collection/$collection/links" '{"label":"screenshot","allow_download":true}')
page=$(json_field url <<<"$link")

shoot() { # url file
  timeout 120 "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
    --user-data-dir="$work/profile" --virtual-time-budget=8000 --window-size=1280,1000 --screenshot="$2" "$1" \
    >/dev/null 2>&1
}
mkdir -p "$(dirname "$out")"
shoot "$page" "$out"
log "share page: $page"
log "screenshot: $out"
if [ -n "$password" ]; then
  locked=$(api POST "/collection/$collection/links" "{\"label\":\"protected\",\"password\":\"$password\"}" | json_field url)
  shoot "$locked" "${out%.png}-password.png"
  log "protected link: $locked"
  log "screenshot: ${out%.png}-password.png"
fi
