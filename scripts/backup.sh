#!/usr/bin/env bash
# Backs up the MediaVault Docker Compose stack: a PostgreSQL dump (pg_dump custom format) and a mirror of the
# media bucket, into a timestamped folder with a manifest and SHA-256 sums.
#
#   scripts/backup.sh                     into ./backups/mediavault-<UTC timestamp>/
#   scripts/backup.sh --output /srv/bak   another parent folder
#   scripts/backup.sh --keep 7            afterwards keep only the newest 7 backups in that folder
#   scripts/backup.sh --skip-bucket       database only (e.g. when the bucket is replicated elsewhere)
#
# The stack keeps running; the dump is a consistent snapshot of the database, and objects uploaded while the
# mirror runs may or may not be included. Restore with scripts/restore.sh <folder>. Run it from cron for a
# schedule (docs/deployment.md: "Backups and restore"); copy the folder off the machine.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/compose.sh
source scripts/lib/compose.sh

usage() { script_usage "$self"; }

output=backups
keep=0
bucket=true
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --output)
      [ $# -ge 2 ] || die "--output needs a folder"
      output=$2
      shift ;;
    --keep)
      [ $# -ge 2 ] || die "--keep needs a number"
      keep=$2
      shift ;;
    --skip-bucket) bucket=false ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
case "$keep" in '' | *[!0-9]*) die "--keep must be a whole number, got '$keep'" ;; esac

find_compose
[ -n "$(container_id postgres)" ] || die "the postgres service is not running (start the stack: scripts/start.sh)"
if [ "$bucket" = true ]; then
  [ -n "$(container_id minio)" ] || die "the minio service is not running (start the stack, or pass --skip-bucket)"
fi

mkdir -p "$output"
output=$(cd "$output" && pwd)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$output/mediavault-$stamp"
partial="$target.partial"
[ ! -e "$target" ] || die "$target already exists"
mkdir -p "$partial"
chmod 700 "$partial"
cleanup() { [ -d "$partial" ] && rm -rf "$partial"; }
trap cleanup EXIT

log "dumping PostgreSQL"
# shellcheck disable=SC2016  # expanded inside the container, from the postgres service's environment
compose exec -T postgres sh -c 'pg_dump --format=custom --compress=6 -U "$POSTGRES_USER" -d "$POSTGRES_DB"' \
  > "$partial/postgres.dump"
[ -s "$partial/postgres.dump" ] || die "pg_dump produced an empty file"
# shellcheck disable=SC2016
database=$(compose exec -T postgres sh -c 'printf %s "$POSTGRES_DB"')
pg_version=$(compose exec -T postgres postgres --version | tr -d '\r')

objects=0
bucket_name=""
if [ "$bucket" = true ]; then
  log "mirroring the media bucket"
  mkdir -p "$partial/bucket"
  # shellcheck disable=SC2016  # expanded inside the mc container, from the minio-init service's environment
  compose run --rm --no-deps -T --user "$(id -u):$(id -g)" -v "$partial/bucket:/backup" \
    --entrypoint /bin/sh minio-init -c '
      set -eu
      mc --config-dir /tmp/mc alias set src http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
      mc --config-dir /tmp/mc mirror --quiet --overwrite "src/$S3_BUCKET" /backup'
  # shellcheck disable=SC2016
  bucket_name=$(compose run --rm --no-deps -T --entrypoint /bin/sh minio-init -c 'printf %s "$S3_BUCKET"' | tr -d '\r')
  objects=$(find "$partial/bucket" -type f | wc -l | tr -d ' ')
fi

gateway_image=""
if [ -n "$(container_id gateway)" ]; then
  gateway_image=$(docker inspect --format '{{.Config.Image}}' "$(container_id gateway)")
fi
{
  echo "format=mediavault-backup/1"
  echo "created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host=$(hostname)"
  echo "gateway_image=$gateway_image"
  echo "postgres_server=$pg_version"
  echo "database=$database"
  echo "database_dump=postgres.dump (pg_dump custom format; restore with pg_restore)"
  echo "database_dump_bytes=$(wc -c < "$partial/postgres.dump" | tr -d ' ')"
  echo "bucket=${bucket_name:-<skipped>}"
  echo "bucket_objects=$objects"
  echo "bucket_bytes=$(find "$partial" -path "$partial/bucket/*" -type f -printf '%s\n' \
    | awk '{ s += $1 } END { print s + 0 }')"
} > "$partial/manifest.txt"

sums=$(cd "$partial" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
printf '%s\n' "$sums" > "$partial/SHA256SUMS"
mv "$partial" "$target"
trap - EXIT
log "backup complete: $target ($objects objects)"

if [ "$keep" -gt 0 ]; then
  mapfile -t old < <(find "$output" -maxdepth 1 -type d -name 'mediavault-*' ! -name '*.partial' \
    | sort | head -n "-$keep")
  for dir in "${old[@]}"; do
    log "removing old backup $dir"
    rm -rf "$dir"
  done
fi
echo "$target"
