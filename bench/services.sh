#!/usr/bin/env bash
# Benchmarks of issue 4, on loopback only, bounded in time:
#   1. the daily pass over COUNT services on SQLite (ciel bench services:
#      seeding, the pass with every service due, a second idle pass, the
#      list of one client's 200 services timed in process);
#   2. GET /api/v1/organizations/{org}/services?limit=200 through HTTP with
#      the client Administrator's API token: one client at a time (-c1) and
#      ten at once (-c10), wrk --latency, DURATION each.
# Usage: cargo build --release -p ciel && bash bench/services.sh
set -euo pipefail
BIN=${CIEL_BIN:-target/release/ciel}
PORT=${PORT:-18081}
COUNT=${COUNT:-100000}
DURATION=${DURATION:-10s}
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }

db="sqlite://$work/ciel.db"
echo "== ciel bench services --count $COUNT"
"$BIN" --database-url "$db" bench services --count "$COUNT" | tee "$work/out"
eval "$(grep '^BENCH_ORG=' "$work/out")"

echo "== HTTP: the client's 200 services"
# No job workers: the daily pass would otherwise catch up to the real date
# while wrk measures.
CIEL_JOBS__WORKERS=0 CIEL_LOG__LEVEL=warn "$BIN" --database-url "$db" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 2000); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz" && break
  sleep 0.005
done
url="http://127.0.0.1:$PORT/api/v1/organizations/$BENCH_ORG/services?limit=200"
n=$(curl -fs -H "Authorization: Bearer $BENCH_TOKEN" "$url" | grep -o '"id":"svc_' | wc -l)
echo "one answer lists $n services"
for c in 1 10; do
  echo "-- $c connection(s)"
  wrk -t1 -c"$c" -d"$DURATION" --latency -H "Authorization: Bearer $BENCH_TOKEN" "$url"
done
