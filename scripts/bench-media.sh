#!/usr/bin/env bash
# Media benchmarks against a running local MediaVault (start it with scripts/dev.sh):
#   1. sign + PUT + confirm round trips per second (filesystem store, 8 concurrent clients);
#   2. GET /media latency for a user with 1,000,000 media rows (first page, a tag filter, a search, a deep page).
# Not a test: prints figures. Options: --uploads N (default 2000), --rows N (default 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

uploads=2000
rows=1000000
while [ $# -gt 0 ]; do
  case "$1" in
    --uploads) uploads=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    -h|--help) script_usage "$0"; exit 0 ;;
    *) die "unknown argument: $1" ;;
  esac
done
base=${MEDIAVAULT_URL:-http://127.0.0.1:4000}
pg_port=${DEV_POSTGRES_PORT:-54320}
require_gateway "$base"

python3 - "$base" "$uploads" <<'PY'
import http.client, json, sys, threading, time, urllib.parse
base, total = sys.argv[1], int(sys.argv[2])
host = urllib.parse.urlparse(base)
def conn(): return http.client.HTTPConnection(host.hostname, host.port, timeout=30)
def call(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse(); data = r.read()
    if r.status != 200: raise SystemExit(f"{method} {path} -> {r.status} {data[:200]!r}")
    return data
c = conn()
token = json.loads(call(c, "POST", "/auth/dev/login", json.dumps({"username": "bench-uploads"}),
                        {"Content-Type": "application/json"}))["token"]
auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
payload = b"x" * 1024
def worker(count, latencies):
    c = conn()
    for _ in range(count):
        started = time.perf_counter()
        signed = json.loads(call(c, "POST", "/media/upload/sign",
            json.dumps({"filename": "b.jpg", "mime_type": "image/jpeg", "size_bytes": len(payload)}), auth))
        url = urllib.parse.urlparse(signed["upload_url"])
        call(c, "PUT", url.path + "?" + url.query, payload, {"Content-Type": "image/jpeg"})
        call(c, "POST", "/media/upload/confirm", json.dumps({"media_id": signed["media_id"]}), auth)
        latencies.append(time.perf_counter() - started)
clients = 8
latencies = []
threads = [threading.Thread(target=worker, args=(total // clients, latencies)) for _ in range(clients)]
started = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - started
latencies.sort()
print(f"sign+PUT+confirm: {len(latencies)} uploads in {elapsed:.1f} s = {len(latencies)/elapsed:.0f} uploads/s "
      f"(p50 {latencies[len(latencies)//2]*1000:.1f} ms, p99 {latencies[int(len(latencies)*0.99)]*1000:.1f} ms, "
      f"{clients} clients; each upload is 3 requests)")
PY

log "seeding $rows media rows for one user (direct SQL)"
token=$(dev_session "$base" bench-list)
user_id=$(curl -fsS "$base/auth/me" -H "Authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
psql -h 127.0.0.1 -p "$pg_port" -U postgres -d mediavault -v ON_ERROR_STOP=1 -q <<SQL
DELETE FROM media.items WHERE owner_id = '$user_id';
INSERT INTO media.items (id, owner_id, title, original_filename, mime_type, size_bytes, status, object_key, created_at)
SELECT gen_random_uuid(), '$user_id', 'Clip ' || n, 'clip_' || n || '.mp4', 'video/mp4', 1000 + n % 5000,
       (ARRAY['queued','processing','ready','failed'])[1 + n % 4], 'original/bench/' || n,
       now() - make_interval(secs => n)
FROM generate_series(1, $rows) AS n;
INSERT INTO media.tags (media_id, owner_id, tag)
SELECT id, owner_id, 'tag' || (abs(hashtext(id::text)) % 100) FROM media.items WHERE owner_id = '$user_id';
INSERT INTO media.user_storage (user_id, item_count) VALUES ('$user_id', $rows)
ON CONFLICT (user_id) DO UPDATE SET item_count = EXCLUDED.item_count;
VACUUM ANALYZE media.items; VACUUM ANALYZE media.tags;
SQL

python3 - "$base" "$token" <<'PY'
import http.client, statistics, sys, time, urllib.parse
base, token = sys.argv[1], sys.argv[2]
host = urllib.parse.urlparse(base)
c = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
def timed(path, runs=30):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        c.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = c.getresponse(); r.read()
        if r.status != 200: raise SystemExit(f"{path} -> {r.status}")
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"GET {path:45s} p50 {statistics.median(times):7.1f} ms   p95 {times[int(len(times)*0.95)-1]:7.1f} ms")
for path in ["/media?page=1&page_size=20", "/media?page=1&page_size=100", "/media?status=ready&page_size=20",
             "/media?tags=tag7&page_size=20", "/media?q=clip_99999&page_size=20", "/media?sort=title_asc&page_size=20",
             "/media?page=500&page_size=20"]:
    timed(path)
PY
