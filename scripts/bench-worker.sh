#!/usr/bin/env bash
# Worker benchmark against a running local MediaVault (scripts/dev.sh, --release for figures): a 1080p H.264 clip
# is uploaded and processed by the worker (download, probe, one ffmpeg run writing the HEVC file and the 720p H.264
# compatibility rendition, poster, codec strings, uploads, bookkeeping), and the same ffmpeg command (printed by
# `mediavault-worker --print-plan`, so arguments and thread settings are the worker's own) is run bare, alternating,
# N rounds. Also runs bare ffmpeg writing the HEVC file alone, for the rendition's extra cost. Prints wall and CPU
# time of each and the ratios worker/bare (goal <= 1.05) and (HEVC + H.264)/HEVC. Not a test.
# Options: --rounds N (default 2), --seconds N (clip length, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

rounds=2
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
ensure_debian_packages ffmpeg time
base=${MEDIAVAULT_URL:-http://127.0.0.1:4000}
pg_port=${DEV_POSTGRES_PORT:-54320}
require_gateway "$base"
worker_pid=$(cat .data/worker.pid 2>/dev/null) || die "no worker running (start it with scripts/dev.sh)"
worker_bin=$(readlink -f "/proc/$worker_pid/exe")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

clip="$work/clip-1080p.mp4"
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440 \
  -t "$seconds" -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$clip"
# The worker's own arguments for this clip, with its settings (from the worker's environment).
mapfile -t worker_env < <(tr '\0' '\n' < "/proc/$worker_pid/environ" | grep -E '^(FFMPEG|TRANSCODE)_' || true)
mapfile -t plan < <(cd "$work" && env "${worker_env[@]}" "$worker_bin" --print-plan "$clip")
[ "${#plan[@]}" -gt 10 ] || die "could not read the worker's ffmpeg plan"
# The HEVC output alone: everything up to and including the first output path.
hevc_only=()
for argument in "${plan[@]}"; do
  hevc_only+=("$argument")
  [ "$argument" = "$work/primary.mp4" ] && break
done
token=$(dev_session "$base" bench-worker)

# CPU seconds the worker process and its reaped children (ffmpeg) have used: utime+stime+cutime+cstime.
worker_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15 + $16 + $17) / hz }' "/proc/$worker_pid/stat"
}
# Runs a command; prints "wall cpu" in seconds.
timed() {
  /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$work/time"
}

totals=(0 0 0 0 0 0)   # bare wall, bare cpu, worker wall, worker cpu, hevc-only wall, hevc-only cpu
add() { totals[$1]=$(python3 -c "print(${totals[$1]} + $2)"); }
for round in $(seq 1 "$rounds"); do
  read -r bare_wall bare_cpu < <(timed ffmpeg "${plan[@]}")
  read -r hevc_wall hevc_cpu < <(timed ffmpeg "${hevc_only[@]}")

  cpu_before=$(worker_cpu)
  signed=$(curl -fsS -X POST "$base/media/upload/sign" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' \
    -d "{\"filename\":\"bench.mp4\",\"mime_type\":\"video/mp4\",\"size_bytes\":$(stat -c %s "$clip")}")
  media_id=$(json_field media_id <<<"$signed")
  curl -fsS -X PUT -H 'Content-Type: video/mp4' --data-binary "@$clip" "$(json_field upload_url <<<"$signed")" >/dev/null
  curl -fsS -X POST "$base/media/upload/confirm" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"media_id\":\"$media_id\"}" >/dev/null
  # Polled slowly: the job's own time comes from its row, and a busy poll would compete with the worker's ffmpeg
  # (which runs at FFMPEG_NICE) in a way bare ffmpeg never sees.
  until curl -fsS "$base/processing/$media_id/status" -H "Authorization: Bearer $token" | grep -q '"ready"\|"failed"'; do
    sleep 2
  done
  curl -fsS "$base/processing/$media_id/status" -H "Authorization: Bearer $token" | grep -q '"ready"' \
    || die "the worker's job failed: see .data/worker.log"
  worker_cpu_used=$(python3 -c "print(round($(worker_cpu) - $cpu_before, 2))")
  # Claim to completion, as the job row records it.
  worker_wall=$(psql -h 127.0.0.1 -p "$pg_port" -U postgres -d mediavault -qtA \
    -c "SELECT round(EXTRACT(EPOCH FROM finished_at - started_at)::numeric, 2) FROM processing.jobs WHERE media_id = '$media_id'")
  kinds=$(psql -h 127.0.0.1 -p "$pg_port" -U postgres -d mediavault -qtA \
    -c "SELECT string_agg(kind, '+' ORDER BY kind) FROM media.renditions WHERE media_id = '$media_id'")
  printf 'round %d: bare ffmpeg %ss wall %ss CPU | worker job %ss wall %ss CPU (%s) | HEVC alone %ss wall %ss CPU\n' \
    "$round" "$bare_wall" "$bare_cpu" "$worker_wall" "$worker_cpu_used" "$kinds" "$hevc_wall" "$hevc_cpu"
  add 0 "$bare_wall"; add 1 "$bare_cpu"; add 2 "$worker_wall"; add 3 "$worker_cpu_used"; add 4 "$hevc_wall"
  add 5 "$hevc_cpu"
done
python3 - "${totals[@]}" <<'PY'
import sys
bare_wall, bare_cpu, worker_wall, worker_cpu, hevc_wall, hevc_cpu = map(float, sys.argv[1:])
print(f"worker/bare: wall {worker_wall / bare_wall:.3f}, CPU {worker_cpu / bare_cpu:.3f} (goal <= 1.05); "
      f"bare CPU/wall {bare_cpu / bare_wall:.2f} cores")
print(f"compatibility rendition's extra cost over the HEVC encode alone: wall +{(bare_wall / hevc_wall - 1) * 100:.0f}%, "
      f"CPU +{(bare_cpu / hevc_cpu - 1) * 100:.0f}%")
PY
