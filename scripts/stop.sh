#!/usr/bin/env bash
# Stops the MediaVault Docker Compose stack.
#
#   scripts/stop.sh                   stop and remove the containers; data volumes stay
#   scripts/stop.sh --volumes         also delete the volumes: the database, stored media, NSQ queue, metrics
#   scripts/stop.sh --volumes --yes   the same without asking (scripts, CI)
#
# Take a backup first when the data matters (scripts/backup.sh).
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/compose.sh
source scripts/lib/compose.sh

usage() { script_usage "$self"; }

volumes=false
yes=false
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -v | --volumes) volumes=true ;;
    -y | --yes) yes=true ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

find_compose
# The dev override only changes how images are built; down removes the project's containers either way.
if [ "$volumes" = true ]; then
  [ "$yes" = true ] || confirm "Delete ALL MediaVault data (database, media, queue, metrics volumes)?"
  log "stopping the stack and deleting its volumes"
  compose down --volumes --remove-orphans
else
  log "stopping the stack (volumes are kept)"
  compose down --remove-orphans
fi
