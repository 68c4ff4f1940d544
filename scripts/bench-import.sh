#!/usr/bin/env bash
# Import benchmark: `mediavault import-original` on a generated deployment of the original backend, against a bare
# copy of the same media rows between the two databases (the floor any import stands on).
#   100,000 media (90% ready, the rest across every other state), 1,000 users, 1.5 tags per media, 2,000
#   collections of 10 items; everything in one database as the original's tables, imported into a fresh MediaVault
#   database on a throwaway local PostgreSQL.
# Not a test: prints figures. Options: --media N (default 100000), --debug (use the debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

media=100000
mode=release
while [ $# -gt 0 ]; do
  case "$1" in
    --media) media=$2; shift 2 ;;
    --debug) mode=debug; shift ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done

work=$(mktemp -d /tmp/mediavault-bench-import.XXXXXX)
chmod 755 "$work"
cleanup() {
  if [ -n "${pg_dir:-}" ]; then discard_postgres_cluster "$pg_dir"; fi
  rm -rf "$work"
}
trap cleanup EXIT

log "building mediavault ($mode)"
swift build -c "$mode" --product mediavault >/dev/null 2>&1 || swift build -c "$mode" --product mediavault
bin=$(swift build -c "$mode" --show-bin-path)/mediavault

pg_dir=$(postgres_cluster_dir "$work/postgres")
port=$(free_port 55490)
log "starting PostgreSQL on 127.0.0.1:$port"
start_postgres_cluster "$pg_dir" "$port"
psql_cmd=(psql -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA)
"${psql_cmd[@]}" -c "CREATE DATABASE original" -c "CREATE DATABASE mediavault"

log "generating the original's data: $media media"
"${psql_cmd[@]}" -d original <<SQL
CREATE TABLE users (id BIGSERIAL PRIMARY KEY, discord_id TEXT UNIQUE NOT NULL, username TEXT NOT NULL,
    avatar_url TEXT, created_at TIMESTAMP DEFAULT NOW());
CREATE TABLE media (id UUID PRIMARY KEY, owner_id BIGINT NOT NULL, title TEXT, original_filename TEXT,
    s3_key_original TEXT NOT NULL, s3_key_processed TEXT, mime_type TEXT, size_bytes BIGINT, duration_seconds INT,
    status TEXT NOT NULL, created_at TIMESTAMP DEFAULT NOW());
CREATE TABLE tags (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL, color TEXT);
CREATE TABLE media_tags (media_id UUID, tag_id BIGINT, PRIMARY KEY (media_id, tag_id));
CREATE TABLE collections (id UUID PRIMARY KEY, owner_id BIGINT NOT NULL, title TEXT NOT NULL, description TEXT,
    is_public BOOLEAN DEFAULT FALSE, share_token UUID, created_at TIMESTAMP DEFAULT NOW());
CREATE TABLE collection_items (collection_id UUID, media_id UUID, added_at TIMESTAMP DEFAULT NOW(),
    PRIMARY KEY (collection_id, media_id));
CREATE TABLE processing_jobs (id UUID PRIMARY KEY, media_id UUID NOT NULL, status TEXT NOT NULL,
    error_message TEXT, started_at TIMESTAMP, completed_at TIMESTAMP, created_at TIMESTAMP DEFAULT NOW());

INSERT INTO users (discord_id, username, avatar_url)
SELECT (800000000000000000 + n)::text, 'user' || n, 'https://cdn.discordapp.com/avatars/' || n || '/abc' || n || '.png'
FROM generate_series(1, 1000) n;
INSERT INTO tags (name, color) SELECT 'tag ' || n, '#00ff00' FROM generate_series(1, 50) n;
INSERT INTO media (id, owner_id, title, original_filename, s3_key_original, s3_key_processed, mime_type, size_bytes,
                   duration_seconds, status, created_at)
SELECT id, owner, 'Clip ' || n, 'clip' || n || '.mp4', 'original/' || owner || '/' || id || '/clip' || n || '.mp4',
       CASE WHEN n % 100 < 90 THEN 'processed/' || id || '.mp4' END, 'video/mp4', 1000000 + n, 30,
       CASE WHEN n % 100 < 94 THEN 'ready' WHEN n % 100 < 96 THEN 'queued' WHEN n % 100 < 97 THEN 'processing'
            WHEN n % 100 < 99 THEN 'failed' ELSE 'uploading' END,
       '2024-01-01'::timestamp + n * interval '1 minute'
FROM (SELECT n, gen_random_uuid() AS id, 1 + n % 1000 AS owner FROM generate_series(1, $media) n) m;
INSERT INTO media_tags (media_id, tag_id) SELECT id, 1 + abs(hashtext(id::text)) % 50 FROM media;
INSERT INTO media_tags (media_id, tag_id) SELECT id, 1 + abs(hashtext(id::text || 'b')) % 50 FROM media
  WHERE abs(hashtext(id::text)) % 2 = 0 ON CONFLICT DO NOTHING;
INSERT INTO collections (id, owner_id, title, is_public, share_token)
SELECT gen_random_uuid(), 1 + n % 1000, 'Collection ' || n, n % 2 = 0, gen_random_uuid() FROM generate_series(1, 2000) n;
INSERT INTO collection_items (collection_id, media_id)
SELECT c.id, m.id FROM collections c
CROSS JOIN LATERAL (SELECT id FROM media WHERE owner_id = c.owner_id AND status <> 'uploading' LIMIT 10) m;
ANALYZE;
SQL

export MEDIAVAULT_ENV=development POSTGRES_HOST="127.0.0.1:$port" POSTGRES_USER=postgres POSTGRES_DB=mediavault
export SESSION_SECRET=bench-import-session-secret-0123456789 STORAGE_BACKEND=filesystem STORAGE_DIR="$work/storage"
export LOG_LEVEL=warning
export MEDIAVAULT_ENV_FILE="$work/bench.env"
: > "$MEDIAVAULT_ENV_FILE"
"$bin" migrate >/dev/null
url="postgres://postgres@127.0.0.1:$port/original"

# The floor: the same media rows copied between the databases with COPY, nothing decided, nothing checked.
"${psql_cmd[@]}" -d mediavault -c "CREATE TABLE public.media_copy (LIKE media.items INCLUDING DEFAULTS)" \
  -c "ALTER TABLE public.media_copy ALTER COLUMN owner_id DROP NOT NULL"
copy_started=$(date +%s.%N)
"${psql_cmd[@]}" -d original -c "\\copy (SELECT id, title, original_filename, mime_type, size_bytes, status, s3_key_original FROM media) TO STDOUT" \
  | "${psql_cmd[@]}" -d mediavault -c "\\copy public.media_copy (id, title, original_filename, mime_type, size_bytes, status, object_key) FROM STDIN"
copy_seconds=$(python3 -c "import time; print(time.time() - $copy_started)")
"${psql_cmd[@]}" -d mediavault -c "DROP TABLE public.media_copy"

log "importing"
"$bin" import-original --database-url "$url" --json > "$work/first.json"
log "importing again (nothing new)"
"$bin" import-original --database-url "$url" --json > "$work/second.json"

python3 - "$work/first.json" "$work/second.json" "$copy_seconds" "$media" "$mode" <<'PY'
import json, sys
first, second = (json.load(open(p)) for p in sys.argv[1:3])
copy_seconds, media, mode = float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rate = media / first["seconds"]
print(f"import-original ({mode}): {media} media, {first['users']['imported']} users, "
      f"{first['tags']['imported']} tags, {first['collections']['imported']} collections, "
      f"{first['collection_items']['imported']} items, {first['queued_for_processing']} queued for processing")
print(f"  first run  {first['seconds']:.1f} s = {rate:,.0f} media rows/s (all phases)")
print(f"  re-run     {second['seconds']:.1f} s = {media / second['seconds']:,.0f} media rows/s checked, "
      f"{second['media']['imported']} imported")
print(f"  bare COPY of the media rows: {copy_seconds:.2f} s = {media / copy_seconds:,.0f} rows/s; "
      f"the import takes {first['seconds'] / copy_seconds:.1f}x as long")
PY
