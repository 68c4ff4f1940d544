#!/usr/bin/env bash
# Follows the logs of the MediaVault Docker Compose stack.
#
#   scripts/logs.sh                   all services
#   scripts/logs.sh gateway worker    only these services (gateway, worker, postgres, minio, nsqd, ...)
#   scripts/logs.sh --tail 500 gateway
#   scripts/logs.sh --no-follow gateway
#
# The gateway and worker log JSON lines; pipe through `jq -R 'fromjson? // .'` to pretty-print them.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/compose.sh
source scripts/lib/compose.sh

usage() { script_usage "$self"; }

tail_lines=200
follow=(--follow)
services=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --tail)
      [ $# -ge 2 ] || die "--tail needs a number of lines"
      tail_lines=$2
      shift ;;
    --no-follow) follow=() ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) services+=("$1") ;;
  esac
  shift
done
case "$tail_lines" in '' | *[!0-9]*) die "--tail must be a whole number, got '$tail_lines'" ;; esac

find_compose
if [ "${#services[@]}" -gt 0 ]; then
  known=$(compose config --services)
  for service in "${services[@]}"; do
    grep -qx "$service" <<<"$known" || die "no service '$service' (services: $(tr '\n' ' ' <<<"$known"))"
  done
fi
compose logs "${follow[@]}" --tail="$tail_lines" "${services[@]}"
