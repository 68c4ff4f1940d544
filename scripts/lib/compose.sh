#!/usr/bin/env bash
# Helpers for the scripts that drive the Docker Compose stack (start, stop, logs, backup, restore).
# Sourced, not executed; expects scripts/lib/common.sh (log, die) to be sourced first and the repository root
# as the working directory.

# Compose command: `docker compose` (v2) when available, else `docker-compose` (v1).
COMPOSE=()
# Compose files (-f ...) every call uses; --dev adds the development override.
COMPOSE_FILES=(-f docker-compose.yml)

find_compose() {
  command -v docker >/dev/null 2>&1 || die "docker is not installed (https://docs.docker.com/engine/install/)"
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  else
    die "neither 'docker compose' nor 'docker-compose' is available"
  fi
  docker info >/dev/null 2>&1 || die "cannot reach the Docker daemon (is it running, and may this user use it?)"
}

use_dev_override() {
  COMPOSE_FILES=(-f docker-compose.yml -f docker-compose.dev.yml)
}

compose() {
  "${COMPOSE[@]}" "${COMPOSE_FILES[@]}" "$@"
}

# container_id SERVICE: the running container of a service, or nothing.
container_id() {
  compose ps -q "$1" 2>/dev/null | head -n 1
}

# wait_healthy SERVICE TIMEOUT: waits until the service's container reports healthy; fails early when it exits
# or turns unhealthy.
wait_healthy() {
  local service=$1 timeout=$2 waited=0 id status
  while :; do
    id=$(container_id "$service")
    if [ -n "$id" ]; then
      status=$(docker inspect --format '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")
      case "$status" in
        running/healthy) return 0 ;;
        running/unhealthy)
          compose logs --tail=40 "$service" >&2 || true
          die "$service is unhealthy (logs above; more with scripts/logs.sh $service)" ;;
        exited/* | dead/*)
          compose logs --tail=40 "$service" >&2 || true
          die "$service stopped (logs above; more with scripts/logs.sh $service)" ;;
      esac
    fi
    if [ "$waited" -ge "$timeout" ]; then
      compose logs --tail=40 "$service" >&2 || true
      die "$service did not become healthy within ${timeout}s (status: ${status:-not created})"
    fi
    sleep 2
    waited=$((waited + 2))
  done
}

# confirm QUESTION: asks on the terminal; fails when there is none (use --yes in scripts and CI).
confirm() {
  local answer
  [ -t 0 ] || die "$1 — no terminal to confirm on; pass --yes to proceed"
  read -r -p "$1 [y/N] " answer
  case "$answer" in
    y | Y | yes | YES) return 0 ;;
    *) die "cancelled" ;;
  esac
}
