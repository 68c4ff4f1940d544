#!/usr/bin/env bash
# API hot paths, in one run. Starts one gateway (the binary given; the release build by default) over its own
# database `mediavault_bench` in the PostgreSQL of scripts/dev.sh, and starts nothing else. Seeds two users, one with
# 10,000 media rows and one with 1,000,000 (kept between runs; --reseed seeds again), then prints:
#   - start-to-ready and idle RSS of the gateway;
#   - /healthz (without and with a session token), GET /media/:id and GET /media req/s (wrk, 2 threads,
#     16 connections, a pool of 16);
#   - pgbench of GET /media/:id's own two statements, prepared and not (16 clients);
#   - the list-growth table: every GET /media filter for the 10k user and the 1M user, and q= against the plain
#     first page of the 10k user while the other user has 1M rows; all as ratios;
#   - a presigned PUT of a 500 MB file to the filesystem store (curl) against dd conv=fsync of the same file into
#     the same folder, best of three each.
# Not a test: prints figures. Options: --binary PATH, --rows N (1000000), --small N (10000), --duration S (10),
# --upload-mb N (500), --reseed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

binary=""
rows=1000000
small=10000
duration=10
reseed=0
upload_mb=500
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --small) small=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --upload-mb) upload_mb=$2; shift 2 ;;
    --reseed) reseed=1; shift ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
if [ -z "$binary" ]; then binary="$(swift build -c release --show-bin-path)/mediavault"; fi
[ -x "$binary" ] || die "no gateway binary at $binary: build it with swift build -c release --product mediavault"
if ! command -v wrk >/dev/null || ! command -v pgbench >/dev/null; then ensure_debian_packages wrk postgresql-contrib; fi

pg_port=${DEV_POSTGRES_PORT:-54320}
psql_admin=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -v ON_ERROR_STOP=1 -qtA)
"${psql_admin[@]}" -d postgres -c "SELECT 1" >/dev/null 2>&1 \
  || die "no PostgreSQL on port $pg_port: start it with scripts/dev.sh"
if [ "$("${psql_admin[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'mediavault_bench'")" != 1 ]; then
  "${psql_admin[@]}" -d postgres -c "CREATE DATABASE mediavault_bench"
fi
psql_bench=("${psql_admin[@]}" -d mediavault_bench)

work=$(mktemp -d)
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ]; then stop_process "$gateway_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port 4100)
base="http://127.0.0.1:$port"
export MEDIAVAULT_ENV=development LOG_LEVEL=warning LOG_FORMAT=text
export POSTGRES_HOST="127.0.0.1:$pg_port" POSTGRES_USER=postgres POSTGRES_DB=mediavault_bench POSTGRES_MAX_CONNECTIONS=16
export SESSION_SECRET=bench-session-secret-0123456789abcdef0123456789abcdef
export HTTP_HOST=127.0.0.1 HTTP_PORT="$port" API_BASE_URL="$base" FRONTEND_URL=http://localhost:3000
export STORAGE_BACKEND=filesystem STORAGE_DIR="$work/storage" NSQ_HOSTS=
"$binary" migrate >/dev/null

# Start-to-ready: from exec to the first 200 from /readyz, polled every few milliseconds.
started=$(date +%s%N)
"$binary" serve --no-migrate >"$work/gateway.log" 2>&1 &
gateway_pid=$!
until curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; do
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$work/gateway.log" >&2; die "the gateway stopped"; }
  sleep 0.005
done
ready_ms=$(( ($(date +%s%N) - started) / 1000000 ))
sleep 2
idle_rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$gateway_pid/status")

small_token=$(dev_session "$base" bench-small)
large_token=$(dev_session "$base" bench-large)
small_id=$("${psql_bench[@]}" -c "SELECT id FROM auth.users WHERE username = 'bench-small'")
large_id=$("${psql_bench[@]}" -c "SELECT id FROM auth.users WHERE username = 'bench-large'")

seed() {
  local owner=$1 count=$2
  log "seeding $count media rows for $owner"
  # Titles from a small vocabulary (a word is in about 5% of titles), a status mix like a real library (unconfirmed
  # uploads only among the last day's, or the janitor would sweep them mid-run), two tags per item out of 150,
  # capture times for 95% of items.
  "${psql_bench[@]}" <<SQL
DELETE FROM media.items WHERE owner_id = '$owner';
INSERT INTO media.items (id, owner_id, title, original_filename, mime_type, size_bytes, status, object_key,
                         created_at, taken_at)
SELECT gen_random_uuid(), '$owner',
       (ARRAY['sunset','beach','family','birthday','hiking','city','snow','garden','concert','wedding',
              'harbour','forest','market','museum','river','desert','island','bridge','castle','lake'])[1 + n % 20]
         || ' ' || (ARRAY['morning','evening','trip','day','night','weekend','visit','walk','party','holiday',
              'summer','winter','spring','autumn','friends','kids','dog','cat','view','picnic'])[1 + (n / 20) % 20]
         || ' ' || n,
       'IMG_' || lpad(n::text, 7, '0') || '.jpg', 'image/jpeg', 1000 + n % 5000000,
       CASE WHEN n % 100 < 90 THEN 'ready' WHEN n % 100 < 93 THEN 'failed' WHEN n % 100 < 97 THEN 'queued'
            WHEN n % 100 < 99 OR n > 1200 THEN 'processing' ELSE 'uploading' END,
       'original/bench/' || '$owner' || '/' || n,
       now() - make_interval(secs => n * 60),
       CASE WHEN n % 20 = 0 THEN NULL ELSE now() - make_interval(secs => n * 60 + 3600) END
FROM generate_series(1, $count) AS n;
INSERT INTO media.tags (media_id, owner_id, tag)
SELECT id, owner_id, 'tag' || (abs(hashtext(id::text)) % 100) FROM media.items WHERE owner_id = '$owner'
UNION ALL
SELECT id, owner_id, 'tag' || (100 + abs(hashtext(id::text || 'b')) % 50) FROM media.items WHERE owner_id = '$owner';
INSERT INTO media.user_storage (user_id, item_count) VALUES ('$owner', $count)
ON CONFLICT (user_id) DO UPDATE SET item_count = EXCLUDED.item_count;
SQL
}
for pair in "$small_id:$small" "$large_id:$rows"; do
  owner=${pair%%:*} count=${pair##*:}
  have=$("${psql_bench[@]}" -c "SELECT count(*) FROM media.items WHERE owner_id = '$owner'")
  if [ "$reseed" = 1 ] || [ "$have" != "$count" ]; then seed "$owner" "$count"; fi
done
"${psql_bench[@]}" -c "VACUUM ANALYZE media.items" -c "VACUUM ANALYZE media.tags" \
  -c "VACUUM ANALYZE media.owner_status_counts" -c "VACUUM ANALYZE media.owner_tag_counts"

# The item GET /media/:id reads: a ready photo of the small user, with two renditions like a processed video.
media_id=$("${psql_bench[@]}" -c "SELECT id FROM media.items WHERE owner_id = '$small_id' AND status = 'ready'
  ORDER BY created_at DESC LIMIT 1")
"${psql_bench[@]}" <<SQL
INSERT INTO media.renditions (media_id, kind, object_key, mime_type, video_codec, width, height, bit_rate, size_bytes)
VALUES ('$media_id', 'primary', 'processed/$media_id/hevc.mp4', 'video/mp4; codecs="hvc1.1.6.L93.B0"', 'hevc',
        1280, 720, 2000000, 1000000),
       ('$media_id', 'compatibility', 'processed/$media_id/h264.mp4', 'video/mp4; codecs="avc1.64001F, mp4a.40.2"',
        'h264', 1280, 720, 2500000, 1200000)
ON CONFLICT DO NOTHING;
SQL

wrk_rate() { # URL [TOKEN] -> requests per second
  local auth=()
  if [ -n "${2:-}" ]; then auth=(-H "Authorization: Bearer $2"); fi
  wrk -t2 -c16 -d"${duration}s" "${auth[@]}" "$1" | awk '/^Requests\/sec:/ { printf "%.0f", $2 }'
}

# GET /media/:id's SQL as the gateway sends it, values inlined (pgbench binds nothing of its own).
token_hash=$(printf '%s' "$small_token" | sha256sum | cut -d' ' -f1)
cat >"$work/media-get.sql" <<SQL
SELECT s.id, u.id, u.discord_id, u.username FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
WHERE s.token_hash = '\\x$token_hash'::bytea AND s.revoked_at IS NULL AND s.expires_at > now();
SELECT i.id, i.owner_id, i.title, i.original_filename, i.mime_type, i.size_bytes, i.declared_size_bytes, i.status,
    i.object_key, i.multipart_upload_id, i.part_size, i.processed_key, i.thumbnail_key, i.duration_seconds,
    i.width, i.height, i.error_message, i.created_at,
    COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM media.tags t WHERE t.media_id = i.id), '{}') AS tags,
    i.taken_at, i.taken_at_source, i.latitude, i.longitude, i.altitude, i.capture_details::text, i.preview_key,
    (SELECT json_agg(json_build_object('kind', r.kind, 'object_key', r.object_key, 'mime_type', r.mime_type,
        'video_codec', r.video_codec, 'width', r.width, 'height', r.height, 'bit_rate', r.bit_rate,
        'size_bytes', r.size_bytes, 'is_hdr', r.is_hdr)) FROM media.renditions r WHERE r.media_id = i.id)::text
FROM media.items i WHERE i.id = '$media_id' AND i.owner_id = '$small_id';
SQL
pgbench_tps() { # MODE -> transactions per second
  pgbench -n -M "$1" -c 16 -j 2 -T "$duration" -f "$work/media-get.sql" -h 127.0.0.1 -p "$pg_port" -U postgres \
    mediavault_bench 2>/dev/null | awk '/^tps/ { printf "%.0f", $3 }'
}

log "throughput (${duration} s each)"
healthz=$(wrk_rate "$base/healthz")
# The same, with the bearer token a signed-in client sends everywhere: the authentication middleware then looks the
# session up, one statement, as on every API route.
healthz_signed_in=$(wrk_rate "$base/healthz" "$small_token")
media_get=$(wrk_rate "$base/media/$media_id" "$small_token")
media_list=$(wrk_rate "$base/media?page=1&page_size=20" "$small_token")
media_list_large=$(wrk_rate "$base/media?page=1&page_size=20" "$large_token")
prepared=$(pgbench_tps prepared)
extended=$(pgbench_tps extended)

python3 - "$base" "$small_token" "$large_token" "$small" "$rows" <<PY
import http.client, statistics, sys, time, urllib.parse
base, small_token, large_token, small, large = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
host = urllib.parse.urlparse(base)
connection = http.client.HTTPConnection(host.hostname, host.port, timeout=120)
def median_ms(path, token, runs=40):
    times = []
    for index in range(runs + 5):
        started = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse(); response.read()
        if response.status != 200: raise SystemExit(f"{path} -> {response.status}")
        if index >= 5: times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)

healthz, healthz_signed_in = $healthz, $healthz_signed_in
media_get, media_list, media_list_large = $media_get, $media_list, $media_list_large
prepared, extended = $prepared, $extended
print()
print(f"gateway: ready {$ready_ms} ms after start, idle RSS {$idle_rss_kb / 1024:.1f} MiB")
print(f"GET /healthz                 {healthz:>8} req/s")
print(f"GET /healthz, signed in      {healthz_signed_in:>8} req/s   (the session lookup included)")
print(f"GET /media/:id               {media_get:>8} req/s   {media_get / healthz:.2f} x /healthz, "
      f"{media_get / healthz_signed_in:.2f} x /healthz signed in, {media_get / prepared:.2f} x pgbench prepared")
print(f"GET /media (10k user)        {media_list:>8} req/s   {media_list / healthz:.2f} x /healthz")
print(f"GET /media (1M user)         {media_list_large:>8} req/s   {media_list_large / media_list:.2f} x the 10k user")
print(f"pgbench, the route's SQL     {prepared:>8} tx/s prepared, {extended} tx/s extended "
      f"({prepared / extended:.2f} x)")
print()
filters = [
    ("first page", "page=1&page_size=20"),
    ("page of 100", "page=1&page_size=100"),
    ("deep page (500)", "page=500&page_size=20"),
    ("sort=title_asc", "sort=title_asc"),
    ("sort=size_desc", "sort=size_desc"),
    ("sort=taken_at_desc", "sort=taken_at_desc"),
    ("status=ready", "status=ready"),
    ("status=failed", "status=failed"),
    ("status=uploading", "status=uploading"),
    ("tags=tag7", "tags=tag7"),
    ("tags=tag107", "tags=tag107"),
    ("tags=tag7,tag107 (combined)", "tags=tag7,tag107"),
    ("status=ready&tags=tag7 (combined)", "status=ready&tags=tag7"),
    ("taken_after (last 2 days)", "taken_after=" + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 86400))),
    ("q=IMG_0000042 (one file)", "q=IMG_0000042"),
]
print(f"{'GET /media filter':36s} {str(small // 1000) + 'k rows':>10s} {str(large // 1000) + 'k rows':>10s}   ratio")
for name, query in filters:
    a = median_ms(f"/media?{query}", small_token)
    b = median_ms(f"/media?{query}", large_token)
    print(f"{name:36s} {a:8.2f} ms {b:8.2f} ms   {b / a:5.2f}")
print()
plain = median_ms("/media?page=1&page_size=20", small_token)
for query in ["q=sunset", "q=sunset%20evening", "q=IMG_0000042", "q=nothing-matches-this"]:
    searched = median_ms(f"/media?{query}", small_token)
    print(f"{small // 1000}k user, {query:28s} {searched:8.2f} ms   {searched / plain:5.2f} x its plain first page "
          f"({plain:.2f} ms), another user holding {large // 1000}k rows")
PY

log "filesystem store: PUT of a $upload_mb MB file against dd conv=fsync into the same folder"
head -c $((upload_mb * 1000 * 1000)) /dev/urandom >"$work/upload.bin"
mkdir -p "$work/storage"
best_put=0 best_dd=0
for _ in 1 2 3; do
  # Each run starts with nothing dirty in the page cache (the new file, the last run's output), so neither the PUT
  # nor dd is throttled by writeback that is not its own.
  sync
  signed=$(curl -fsS -X POST "$base/media/upload/sign" -H "Authorization: Bearer $small_token" \
    -H 'Content-Type: application/json' \
    -d "{\"filename\":\"big.mp4\",\"mime_type\":\"video/mp4\",\"size_bytes\":$((upload_mb * 1000 * 1000))}")
  url=$(json_field upload_url <<<"$signed")
  cat "$work/upload.bin" >/dev/null
  # -T streams the file (--data-binary would read it all into memory first).
  seconds=$(curl -fsS -o /dev/null -w '%{time_total}' -T "$work/upload.bin" -H 'Content-Type: video/mp4' "$url")
  best_put=$(python3 -c "print(max($best_put, $upload_mb / $seconds))")
  cat "$work/upload.bin" >/dev/null
  sync
  started=$(date +%s%N)
  dd if="$work/upload.bin" of="$work/storage/dd.bin" bs=4M conv=fsync status=none
  seconds=$(python3 -c "print(($(date +%s%N) - $started) / 1e9)")
  best_dd=$(python3 -c "print(max($best_dd, $upload_mb / $seconds))")
  rm -f "$work/storage/dd.bin"
done
python3 -c "print(f'PUT {$upload_mb} MB to the filesystem store   {$best_put:7.0f} MB/s   {$best_put / $best_dd:.2f} x dd conv=fsync ({$best_dd:.0f} MB/s)')"
