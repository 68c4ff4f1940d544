#!/usr/bin/env bash
# The API against its description: validates openapi.json, then runs schemathesis against a live gateway (a real
# PostgreSQL database and the filesystem store), signed in as a test user, over every operation. Fails on any 5xx,
# on any response the document does not describe, and on invalid input the gateway accepts.
#
#   scripts/tests/api-contract.sh --postgres HOST:PORT [--binary PATH] [--examples N]
#
# The PostgreSQL server must accept the postgres user without a password (scripts/test.sh starts such a cluster);
# the script creates and drops its own database there.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

postgres="" binary="" examples=${API_CONTRACT_EXAMPLES:-25}
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) postgres=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --examples) examples=$2; shift 2 ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
[ -n "$postgres" ] || die "--postgres HOST:PORT is required"
if [ -z "$binary" ]; then binary="$(swift build --show-bin-path)/mediavault"; fi
[ -x "$binary" ] || die "no gateway binary at $binary: build it with swift build"
ensure_python_packages openapi-spec-validator==0.9.0:openapi-spec-validator schemathesis==4.32.5:schemathesis

document=Sources/GatewayApp/openapi.json
log "validating $document"
openapi-spec-validator "$document"

database=mediavault_contract_$$
psql_admin=(psql -h "${postgres%:*}" -p "${postgres##*:}" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
work=$(mktemp -d /tmp/mediavault-contract.XXXXXX)
gateway_pid=""
cleanup() {
  if [ -n "$gateway_pid" ]; then stop_process "$gateway_pid"; fi
  "${psql_admin[@]}" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"${psql_admin[@]}" -c "CREATE DATABASE $database"

port=$(free_port 4300)
base="http://127.0.0.1:$port"
# Development mode for its sign-in route (the fuzzed user needs a session without Discord); everything else is as
# in production. LOG_LEVEL=error keeps the thousands of refused requests out of the test output.
env_vars=(
  MEDIAVAULT_ENV=development LOG_LEVEL=error LOG_FORMAT=text
  POSTGRES_HOST="$postgres" POSTGRES_USER=postgres POSTGRES_DB="$database"
  SESSION_SECRET=contract-session-secret-0123456789abcdef0123456789
  HTTP_HOST=127.0.0.1 HTTP_PORT="$port" API_BASE_URL="$base" FRONTEND_URL=http://localhost:3000
  STORAGE_BACKEND=filesystem STORAGE_DIR="$work/storage" NSQ_HOSTS=
)
env "${env_vars[@]}" "$binary" migrate >/dev/null
env "${env_vars[@]}" "$binary" serve --no-migrate >"$work/gateway.log" 2>&1 &
gateway_pid=$!
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
  kill -0 "$gateway_pid" 2>/dev/null || { cat "$work/gateway.log" >&2; die "the gateway stopped"; }
  sleep 0.1
done
curl -fsS -o /dev/null "$base/readyz" || die "the gateway did not become ready"

token=$(dev_session "$base" contract-fuzzer)
api() { # METHOD PATH [JSON]: a signed-in call, its JSON reply on standard output
  curl -fsS -X "$1" "$base$2" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' ${3:+-d "$3"}
}
log "seeding a photo, a multipart upload, a collection, a share link and an API key for the run"
python3 - "$work/seed.png" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
rows = b"".join(b"\x00" + bytes([200, 80, 40]) * 16 for _ in range(16))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
signed=$(api POST /media/upload/sign '{"filename": "seed.png", "mime_type": "image/png"}')
media=$(json_field media_id <<<"$signed")
curl -fsS -X PUT "$(json_field upload_url <<<"$signed")" -H 'Content-Type: image/png' --data-binary @"$work/seed.png" >/dev/null
api POST /media/upload/confirm "{\"media_id\": \"$media\"}" >/dev/null
multipart=$(api POST /media/upload/multipart '{"filename": "seed.mp4", "mime_type": "video/mp4", "size_bytes": 12582912}' \
  | json_field media_id)
collection=$(api POST /collection '{"title": "Seed"}' | json_field id)
api POST "/collection/$collection/add" "{\"media_id\": \"$media\"}" >/dev/null
link=$(api POST "/collection/$collection/links" '{"label": "seed"}')
api_key=$(api POST /auth/api-keys '{"name": "seed", "scopes": ["media:read"]}' | json_field id)
export MV_CONTRACT_MEDIA=$media MV_CONTRACT_MULTIPART=$multipart MV_CONTRACT_COLLECTION=$collection
MV_CONTRACT_LINK=$(json_field id <<<"$link") MV_CONTRACT_LINK_TOKEN=$(json_field token <<<"$link")
export MV_CONTRACT_LINK MV_CONTRACT_LINK_TOKEN MV_CONTRACT_API_KEY=$api_key

log "running schemathesis: every operation, up to $examples examples each"
started=$(date +%s)
# POST /auth/logout is left out: it would end the session every later request is signed in with (its contract is
# covered by the Swift tests). One worker: Python 3.11's parser is not safe to call from hypothesis's threads.
status=0
# Deletions run last, in a pass of their own, so the seeded things are still there for everything else.
for pass in "--exclude-method DELETE" "--include-method DELETE"; do
  # shellcheck disable=SC2086 # the pass is two words on purpose
  schemathesis --config-file scripts/tests/schemathesis.toml run "$base/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --exclude-path /auth/logout $pass \
    --max-examples "$examples" --seed 20261201 --workers 1 \
    --request-timeout 30 \
    --report junit --report-dir "$work/report" || status=$?
done
elapsed=$(( $(date +%s) - started ))
if grep -E "Internal|panic|fatal" "$work/gateway.log" >/dev/null 2>&1; then
  log "gateway log:"; cat "$work/gateway.log" >&2
fi
[ "$status" = 0 ] || die "schemathesis found responses that break the API description (${elapsed} s)"
log "schemathesis passed in ${elapsed} s"
