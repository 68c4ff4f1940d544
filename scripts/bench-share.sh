#!/usr/bin/env bash
# Share-page benchmark against a running local MediaVault (start it with scripts/dev.sh, --release for figures):
# what a viewer of an N-item collection waits for — the server-rendered page GET /s/:token, its JSON
# GET /api/share/:token and the original's GET /collection/:id?token= — with GET /healthz on the same connection
# as the baseline. Not a test: prints figures. Options: --items N (default 200), --runs N (default 200).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

items=200
runs=200
while [ $# -gt 0 ]; do
  case "$1" in
    --items) items=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
base=${MEDIAVAULT_URL:-http://127.0.0.1:4000}
pg_port=${DEV_POSTGRES_PORT:-54320}
require_gateway "$base"

token=$(dev_session "$base" bench-share)
user_id=$(curl -fsS "$base/auth/me" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

log "seeding $items processed media rows (half photos, half videos) for one user (direct SQL)"
psql -h 127.0.0.1 -p "$pg_port" -U postgres -d mediavault -v ON_ERROR_STOP=1 -q <<SQL
DELETE FROM collection.collections WHERE owner_id = '$user_id';
DELETE FROM media.items WHERE owner_id = '$user_id';
INSERT INTO media.items (id, owner_id, title, original_filename, mime_type, size_bytes, status, object_key,
                         processed_key, thumbnail_key, duration_seconds, width, height, created_at)
SELECT id, '$user_id', 'Item ' || n || ' <b>&</b>', 'item_' || n || CASE WHEN n % 2 = 0 THEN '.jpg' ELSE '.mp4' END,
       CASE WHEN n % 2 = 0 THEN 'image/jpeg' ELSE 'video/mp4' END, 100000 + n, 'ready',
       'original/$user_id/' || id || '/item_' || n,
       CASE WHEN n % 2 = 0 THEN NULL ELSE 'processed/' || id || '.mp4' END, 'thumbnails/' || id || '.jpg',
       CASE WHEN n % 2 = 0 THEN NULL ELSE 12.5 END, 1280, 720, now() - make_interval(secs => n)
FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $items) AS n) AS seeded;
SQL

python3 - "$base" "$token" "$runs" <<'PY'
import http.client, json, statistics, sys, time, urllib.parse
base, token, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
host = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
def call(method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    if r.status != 200: raise SystemExit(f"{method} {path} -> {r.status} {data[:300]!r}")
    return data
media, page_number = [], 1
while True:
    batch = json.loads(call("GET", f"/media?page_size=100&page={page_number}", headers=auth))["items"]
    media += batch
    if len(batch) < 100: break
    page_number += 1
collection = json.loads(call("POST", "/collection", json.dumps({"title": "Benchmark", "description": "x"}), auth))
for item in media:
    call("POST", f"/collection/{collection['id']}/add", json.dumps({"media_id": item["id"]}), auth)
link = json.loads(call("POST", f"/collection/{collection['id']}/links", json.dumps({"allow_download": True}), auth))
page = urllib.parse.urlparse(link["url"]).path
paths = [("GET /healthz (baseline)", "/healthz"), ("GET /s/:token (HTML page)", page),
         ("GET /api/share/:token (JSON)", "/api/share/" + link["token"]),
         ("GET /collection/:id?token= (original)", f"/collection/{collection['id']}?token={collection['share_token']}")]
for _, path in paths:  # warm up
    for _ in range(10): call("GET", path)
results = {}
for label, path in paths:
    times = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(call("GET", path))
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    results[label] = statistics.median(times)
    print(f"{label:42s} p50 {statistics.median(times):6.2f} ms  p95 {times[int(len(times) * 0.95) - 1]:6.2f} ms  "
          f"{size / 1024:6.1f} KiB")
baseline = results["GET /healthz (baseline)"]
print(f"{len(media)} items (the page shows 200 at a time); ratios to /healthz (p50): " + ", ".join(
    f"{label.split(' (')[0]} {value / baseline:.1f}x" for label, value in results.items() if "baseline" not in label))
PY
