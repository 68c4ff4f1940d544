#!/usr/bin/env bash
# Starts the MediaVault Docker Compose stack, waits for the gateway to report healthy and prints its URLs.
#
#   scripts/start.sh                  pull the published images (MEDIAVAULT_TAG, default latest) and start
#   scripts/start.sh --dev            build the gateway and worker from this checkout (docker-compose.dev.yml)
#   scripts/start.sh --timeout 300    seconds to wait for the gateway to become healthy (default 240)
#   scripts/start.sh --no-env-init    do not create .env or fill in missing secrets
#
# Without .env, it is created from .env.example. Secrets that are empty or still "change-me…" in .env
# (SESSION_SECRET, POSTGRES_PASSWORD, MINIO_ROOT_PASSWORD, S3_SECRET_KEY, GRAFANA_ADMIN_PASSWORD) are generated
# with `openssl rand -hex 32`; the script names them but never prints their values.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh
# shellcheck source=scripts/lib/compose.sh
source scripts/lib/compose.sh

usage() { script_usage "$self"; }

dev=false
timeout=240
init_env=true
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --dev) dev=true ;;
    --timeout)
      [ $# -ge 2 ] || die "--timeout needs a number of seconds"
      timeout=$2
      shift ;;
    --no-env-init) init_env=false ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done
case "$timeout" in '' | *[!0-9]*) die "--timeout must be a whole number of seconds, got '$timeout'" ;; esac

random_secret() {
  openssl rand -hex 32 2>/dev/null || python3 -c 'import secrets; print(secrets.token_hex(32))'
}

# env_value NAME: the value of NAME in .env (last assignment, inline comment and quotes removed).
env_value() {
  sed -n "s/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}$1=//p" .env | tail -n 1 \
    | sed 's/[[:space:]]\{1,\}#.*$//; s/^"\(.*\)"$/\1/; s/^'"'"'\(.*\)'"'"'$/\1/; s/[[:space:]]*$//'
}

# set_env_value NAME VALUE: replaces NAME's assignment in .env, or appends one.
set_env_value() {
  local name=$1 value=$2 tmp
  tmp=$(mktemp .env.XXXXXX)
  if grep -q "^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}$name=" .env; then
    awk -v name="$name" -v value="$value" '
      $0 ~ "^[[:space:]]*(export[[:space:]]+)?" name "=" { print name "=" value; next }
      { print }' .env > "$tmp"
  else
    { cat .env; printf '%s=%s\n' "$name" "$value"; } > "$tmp"
  fi
  chmod 600 "$tmp"
  mv "$tmp" .env
}

# Copies .env.example to .env with inline comments moved onto their own lines: `NAME=   # note` would
# otherwise give NAME the value "# note" in Docker Compose's .env parser.
env_from_example() {
  awk '
    /^[[:space:]]*(export[[:space:]]+)?[A-Za-z_][A-Za-z0-9_]*=/ && $0 !~ /=[[:space:]]*["\047]/ {
      if (match($0, /[[:space:]]+#/)) {
        comment = substr($0, RSTART); sub(/^[[:space:]]+/, "", comment)
        print comment
        print substr($0, 1, RSTART - 1)
        next
      }
    }
    { print }' .env.example > .env
}

prepare_env() {
  if [ ! -f .env ]; then
    if [ -f .env.example ]; then
      env_from_example
      log "created .env from .env.example"
    else
      : > .env
      log "created an empty .env"
    fi
    chmod 600 .env
  fi
  local name generated=()
  for name in SESSION_SECRET POSTGRES_PASSWORD MINIO_ROOT_PASSWORD S3_SECRET_KEY GRAFANA_ADMIN_PASSWORD; do
    case "$(env_value "$name")" in
      '' | change-me*)
        set_env_value "$name" "$(random_secret)"
        generated+=("$name") ;;
    esac
  done
  if [ "${#generated[@]}" -gt 0 ]; then
    log "generated in .env: ${generated[*]}"
  fi
  if [ -z "$(env_value DISCORD_CLIENT_ID)" ] && [ "$(env_value MEDIAVAULT_ENV)" != development ] \
    && [ "$dev" != true ]; then
    log "DISCORD_CLIENT_ID is empty in .env: production mode needs the Discord settings (or set" \
      "MEDIAVAULT_ENV=development to try MediaVault without them; docs/deployment.md)"
  fi
}

find_compose
[ "$dev" = true ] && use_dev_override
[ "$init_env" = true ] && prepare_env

if [ "$dev" = true ]; then
  log "building and starting the stack (development override)"
  compose up -d --build
else
  tag=${MEDIAVAULT_TAG:-}
  if [ -z "$tag" ] && [ -f .env ]; then tag=$(env_value MEDIAVAULT_TAG); fi
  log "pulling and starting the stack (image tag: ${tag:-latest})"
  compose pull --quiet gateway worker || log "pull failed; starting with the images already present"
  compose up -d
fi

log "waiting up to ${timeout}s for the gateway to become healthy"
wait_healthy gateway "$timeout"

admin=${ADMIN_BIND_ADDRESS:-127.0.0.1}
grafana_port=${GRAFANA_PORT:-3001}
if [ -f .env ]; then
  admin=${ADMIN_BIND_ADDRESS:-$(env_value ADMIN_BIND_ADDRESS)}
  admin=${admin:-127.0.0.1}
  grafana_port=${GRAFANA_PORT:-$(env_value GRAFANA_PORT)}
  grafana_port=${grafana_port:-3001}
fi
[ "$admin" = 0.0.0.0 ] && admin=localhost

cat <<MSG

MediaVault is running.
  API            http://localhost:4000        (health: /healthz  readiness: /readyz  metrics: /metrics)
  MinIO S3       http://localhost:9000        (presigned upload and download URLs)
  MinIO console  http://$admin:9001
  NSQ admin      http://$admin:4171
  Prometheus     http://$admin:9090
  Grafana        http://$admin:$grafana_port        (user: admin unless GRAFANA_ADMIN_USER; password in .env)
  Verify         scripts/verify-deploy.sh http://localhost:4000
  Logs           scripts/logs.sh [service]    Stop: scripts/stop.sh

MSG
compose ps
