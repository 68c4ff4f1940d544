#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into the MediaVault Docker Compose stack: the database (recreated
# empty, then pg_restore --clean --if-exists in one transaction) and the media bucket (mirrored back, objects not
# in the backup removed). The gateway and worker are stopped meanwhile and started again afterwards.
#
#   scripts/restore.sh backups/mediavault-20250101T030000Z
#   scripts/restore.sh DIR --yes             without asking (scripts, disaster-recovery runbooks)
#   scripts/restore.sh DIR --skip-bucket     database only
#   scripts/restore.sh DIR --skip-database   bucket only
#   scripts/restore.sh DIR --dev             the stack runs with docker-compose.dev.yml
#
# Everything written after the backup was taken is lost. The checksums in SHA256SUMS are verified first.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/compose.sh
source scripts/lib/compose.sh

usage() { script_usage "$self"; }

backup=""
yes=false
database=true
bucket=true
dev=false
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -y | --yes) yes=true ;;
    --skip-bucket) bucket=false ;;
    --skip-database) database=false ;;
    --dev) dev=true ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *)
      [ -z "$backup" ] || die "only one backup folder, got '$backup' and '$1'"
      backup=$1 ;;
  esac
  shift
done
[ -n "$backup" ] || { usage >&2; die "the backup folder is required"; }
[ -d "$backup" ] || die "no such folder: $backup"
backup=$(cd "$backup" && pwd)
[ -f "$backup/SHA256SUMS" ] || die "$backup has no SHA256SUMS: not a backup made by scripts/backup.sh?"
if [ "$database" = true ]; then
  [ -s "$backup/postgres.dump" ] || die "$backup/postgres.dump is missing or empty"
fi
if [ "$bucket" = true ] && [ ! -d "$backup/bucket" ]; then
  die "$backup has no bucket/ folder (made with --skip-bucket?); pass --skip-bucket to restore the database only"
fi

log "verifying checksums"
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || die "checksum mismatch in $backup: the backup is damaged"
[ -f "$backup/manifest.txt" ] && sed 's/^/    /' "$backup/manifest.txt" >&2

find_compose
[ "$dev" = true ] && use_dev_override
[ "$yes" = true ] || confirm "Replace the current MediaVault data with this backup?"

log "stopping the gateway and the worker"
compose stop gateway worker || true

log "starting PostgreSQL and MinIO"
compose up -d postgres minio
wait_healthy postgres 120
wait_healthy minio 120

if [ "$database" = true ]; then
  # The database is recreated first: --clean alone would keep tables that a newer release added after the
  # backup, and that release's migrations could then not be applied again cleanly.
  log "restoring the database (recreated empty, then pg_restore)"
  # shellcheck disable=SC2016  # expanded inside the container, from the postgres service's environment
  compose exec -T postgres sh -c '
    set -e
    psql -v ON_ERROR_STOP=1 -q -U "$POSTGRES_USER" -d postgres \
      -c "DROP DATABASE IF EXISTS \"$POSTGRES_DB\" WITH (FORCE)" -c "CREATE DATABASE \"$POSTGRES_DB\""
    pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error \
      -U "$POSTGRES_USER" -d "$POSTGRES_DB"' < "$backup/postgres.dump"
fi

if [ "$bucket" = true ]; then
  log "restoring the media bucket"
  # shellcheck disable=SC2016  # expanded inside the mc container, from the minio-init service's environment
  compose run --rm --no-deps -T -v "$backup/bucket:/backup:ro" --entrypoint /bin/sh minio-init -c '
    set -eu
    mc --config-dir /tmp/mc alias set dst http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
    mc --config-dir /tmp/mc mb --ignore-existing "dst/$S3_BUCKET"
    mc --config-dir /tmp/mc mirror --quiet --overwrite --remove /backup "dst/$S3_BUCKET"'
fi

log "starting the stack again"
compose up -d
wait_healthy gateway 240
log "restore complete; check it with scripts/verify-deploy.sh http://localhost:4000"
