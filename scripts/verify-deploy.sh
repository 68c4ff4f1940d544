#!/usr/bin/env bash
# Verifies a running MediaVault gateway from the outside, as after a deploy: health, readiness, metrics, the
# error envelope of an unauthenticated request, security headers, request IDs and the public share page.
#
#   scripts/verify-deploy.sh URL [options]          e.g. scripts/verify-deploy.sh https://api.example.com
#
#   --allow-degraded         /readyz not ready (e.g. database down) is a warning, not a failure
#   --gateway-secret S       send X-Gateway-Secret: S, and check that requests without it are refused
#   --gateway-secret-env V   the same, reading the secret from environment variable V (keeps it out of `ps`)
#   --wait SECONDS           first wait up to SECONDS for /healthz to answer 200 (default 0: no waiting)
#   --timeout SECONDS        timeout of each request (default 10)
#   --insecure               do not verify the TLS certificate (self-signed staging only)
#
# Prints one PASS/FAIL/WARN line per check and ends with "N passed, M failed"; exits 1 when a check failed.
# Needs bash and curl; uses python3 or jq for JSON when present.
set -euo pipefail
self=$(readlink -f "$0")

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$self"; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

base=""
allow_degraded=false
secret=""
wait_seconds=0
timeout=10
insecure=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --allow-degraded) allow_degraded=true ;;
    --gateway-secret)
      [ $# -ge 2 ] || die "--gateway-secret needs a value"
      secret=$2
      shift ;;
    --gateway-secret-env)
      [ $# -ge 2 ] || die "--gateway-secret-env needs a variable name"
      [ -n "${!2:-}" ] || die "environment variable $2 is empty or not set"
      secret=${!2}
      shift ;;
    --wait)
      [ $# -ge 2 ] || die "--wait needs a number of seconds"
      wait_seconds=$2
      shift ;;
    --timeout)
      [ $# -ge 2 ] || die "--timeout needs a number of seconds"
      timeout=$2
      shift ;;
    --insecure) insecure=(--insecure) ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *)
      [ -z "$base" ] || die "only one URL, got '$base' and '$1'"
      base=$1 ;;
  esac
  shift
done
[ -n "$base" ] || { usage >&2; die "the gateway's base URL is required"; }
case "$base" in http://* | https://*) ;; *) die "URL must start with http:// or https://, got '$base'" ;; esac
base=${base%/}
for number in "$wait_seconds" "$timeout"; do
  case "$number" in '' | *[!0-9]*) die "--wait and --timeout take whole seconds, got '$number'" ;; esac
done
command -v curl >/dev/null 2>&1 || die "curl is required"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
warned=0
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
warn() { warned=$((warned + 1)); printf 'WARN  %s\n' "$*"; }

# request NAME METHOD PATH [curl args...]: response in $work/NAME.{status,headers,body}; the gateway secret is
# sent unless the caller passes --no-secret as the first curl argument.
request() {
  local name=$1 method=$2 path=$3 status
  shift 3
  local args=()
  if [ "${1:-}" = --no-secret ]; then
    shift
  elif [ -n "$secret" ]; then
    args+=(-H "X-Gateway-Secret: $secret")
  fi
  status=$(curl -sS "${insecure[@]}" --max-time "$timeout" -X "$method" -o "$work/$name.body" \
    -D "$work/$name.headers" -w '%{http_code}' "${args[@]}" "$@" "$base$path" 2>"$work/$name.error") || true
  printf '%s' "${status:-000}" > "$work/$name.status"
  touch "$work/$name.body" "$work/$name.headers"
}

status_of() { cat "$work/$1.status"; }

# header NAME HEADER: the last value of HEADER in the response (case-insensitive), without CR.
header() {
  tr -d '\r' < "$work/$1.headers" | awk -v want="$(printf '%s' "$2" | tr '[:upper:]' '[:lower:]')" '
    { line = $0; idx = index(line, ":"); if (idx == 0) next
      key = tolower(substr(line, 1, idx - 1))
      if (key == want) { value = substr(line, idx + 1); sub(/^[ \t]+/, "", value); sub(/[ \t]+$/, "", value) } }
    END { print value }'
}

# json_field NAME FIELD: a top-level string field of the JSON body, or nothing.
json_field() {
  local file="$work/$1.body" field=$2
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$file" "$field" <<'PY' 2>/dev/null || true
import json, sys
try:
    value = json.load(open(sys.argv[1])).get(sys.argv[2])
except Exception:
    value = None
print(value if isinstance(value, str) else "")
PY
  elif command -v jq >/dev/null 2>&1; then
    jq -r --arg f "$field" '.[$f] // empty | strings' "$file" 2>/dev/null || true
  else
    sed -n "s/.*\"$field\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$file" | head -n 1
  fi
}

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }
snippet() { head -c 200 "$work/$1.body" | tr -d '\r\n'; }
explain() {
  if [ "$(status_of "$1")" = 000 ]; then
    printf 'no response (%s)' "$(tr -d '\r\n' < "$work/$1.error")"
  else
    printf 'HTTP %s %s' "$(status_of "$1")" "$(snippet "$1")"
  fi
}

echo "Verifying $base"

if [ "$wait_seconds" -gt 0 ]; then
  deadline=$((SECONDS + wait_seconds))
  until request wait GET /healthz && [ "$(status_of wait)" = 200 ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "gave up waiting ${wait_seconds}s for /healthz: $(explain wait)"
      break
    fi
    sleep 3
  done
fi

# 1. Liveness.
request healthz GET /healthz
if [ "$(status_of healthz)" = 200 ] && [ "$(json_field healthz status)" = ok ]; then
  pass "GET /healthz answers 200 {\"status\":\"ok\"}"
else
  fail "GET /healthz: expected 200 {\"status\":\"ok\"}, got $(explain healthz)"
fi

# 2. Readiness (PostgreSQL reachable).
request readyz GET /readyz
if [ "$(status_of readyz)" = 200 ]; then
  pass "GET /readyz answers 200 (dependencies reachable)"
elif [ "$allow_degraded" = true ]; then
  warn "GET /readyz not ready, allowed by --allow-degraded: $(explain readyz)"
else
  fail "GET /readyz: expected 200, got $(explain readyz)"
fi

# 3. Unauthenticated request: 401 with the error envelope; also carries the security headers and request ID.
request_id="verify-deploy-$RANDOM$RANDOM"
request me GET /auth/me -H "X-Request-ID: $request_id"
me_status=$(status_of me)
if [ "$me_status" = 401 ] && [ "$(json_field me code)" = unauthenticated ]; then
  pass "GET /auth/me without a session answers 401 {\"code\":\"unauthenticated\"}"
elif [ "$me_status" = 403 ] && [ -z "$secret" ]; then
  fail "GET /auth/me answers 403: the gateway requires X-Gateway-Secret; pass --gateway-secret"
else
  fail "GET /auth/me without a session: expected 401 unauthenticated, got $(explain me)"
fi

check_header() {
  local name=$1 expected=$2 actual
  actual=$(header me "$name")
  if [ "$(lower "$actual")" = "$(lower "$expected")" ]; then
    pass "header $name: $actual"
  else
    fail "header $name: expected '$expected', got '${actual:-<missing>}'"
  fi
}
check_header X-Content-Type-Options nosniff
check_header X-Frame-Options DENY
check_header Referrer-Policy no-referrer

echoed=$(header me X-Request-ID)
if [ "$echoed" = "$request_id" ]; then
  pass "X-Request-ID is echoed ($request_id)"
else
  fail "X-Request-ID: sent '$request_id', got back '${echoed:-<missing>}'"
fi

# Share pages are public (no gateway secret): an unknown link answers the HTML "not found" page under a
# Content-Security-Policy that allows no scripts.
request share GET /s/verify-deploy-unknown-link --no-secret
share_csp=$(header share Content-Security-Policy)
if [ "$(status_of share)" = 404 ] && grep -q 'Link not found' "$work/share.body" &&
  [[ "$share_csp" == *"default-src 'none'"* ]] && [[ "$share_csp" != *script-src* ]]; then
  pass "GET /s/<unknown> answers the 404 share page with a script-free Content-Security-Policy"
else
  fail "GET /s/<unknown>: expected the 404 share page with CSP default-src 'none', got $(explain share) (CSP '${share_csp:-<missing>}')"
fi

# 4. Metrics (after the requests above, so the HTTP counters have samples).
request metrics GET /metrics
if [ "$(status_of metrics)" = 200 ] && grep -q '^http_requests_total' "$work/metrics.body"; then
  pass "GET /metrics serves Prometheus text with http_requests_total"
elif [ "$(status_of metrics)" = 200 ]; then
  fail "GET /metrics answers 200 but has no http_requests_total samples"
elif [ "$(status_of metrics)" = 403 ] && [ -z "$secret" ]; then
  fail "GET /metrics answers 403: the gateway requires X-Gateway-Secret; pass --gateway-secret"
else
  fail "GET /metrics: expected 200, got $(explain metrics)"
fi

# 5. With a gateway secret: requests without it are refused, health stays open to orchestrators.
if [ -n "$secret" ]; then
  request blocked GET /auth/me --no-secret
  if [ "$(status_of blocked)" = 403 ] && [ "$(json_field blocked code)" = permission_denied ]; then
    pass "without X-Gateway-Secret, GET /auth/me is refused with 403 permission_denied"
  else
    fail "without X-Gateway-Secret, GET /auth/me: expected 403 permission_denied, got $(explain blocked)"
  fi
  request open GET /healthz --no-secret
  if [ "$(status_of open)" = 200 ]; then
    pass "without X-Gateway-Secret, GET /healthz stays open"
  else
    fail "without X-Gateway-Secret, GET /healthz: expected 200, got $(explain open)"
  fi
fi

if [ "$warned" -gt 0 ]; then
  echo "$warned warning(s)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
