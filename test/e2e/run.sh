#!/usr/bin/env bash
# Runs every test/e2e/*_test.sh against a real `overcast up`, with the real
# clients: aws CLI v1 ("aws") and v2 (/usr/bin/aws), the AWS SDK for
# JavaScript v3 (node), docker, git, curl.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${OVERCAST_BIN:-bin/overcast}
[ -x "$bin" ] || { echo "e2e: build $bin first (make build)" >&2; exit 1; }

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export OVERCAST_ENDPOINT="http://127.0.0.1:$port"
"$bin" up --addr "127.0.0.1:$port" --data-dir "$work/data" >"$work/overcast.log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "$OVERCAST_ENDPOINT/_overcast/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$OVERCAST_ENDPOINT/_overcast/health" >/dev/null || { cat "$work/overcast.log"; exit 1; }

failed=0
for t in test/e2e/*_test.sh; do
  if OVERCAST_LOG="$work/overcast.log" bash "$t"; then
    echo "ok   $t"
  else
    echo "FAIL $t"
    failed=1
  fi
done
if [ $failed != 0 ]; then
  echo "--- overcast log ---"
  tail -50 "$work/overcast.log"
fi
exit $failed
