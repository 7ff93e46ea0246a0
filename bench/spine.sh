#!/usr/bin/env bash
# Benchmarks of the spine (issue 2), on loopback only, bounded in time:
#   1. start-up: process start to /readyz = 200 on an empty SQLite database;
#   2. GET /healthz throughput (wrk, 2 threads, 64 connections, 10 s);
#   3. a portal page with demo data, logged in, 50 concurrent users (wrk
#      --latency, 10 s): p50/p99.
# Usage: cargo build --release -p ciel && bash bench/spine.sh
set -euo pipefail
BIN=${CIEL_BIN:-target/release/ciel}
PORT=${PORT:-18080}
DURATION=${DURATION:-10s}
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }

now_ms() { date +%s%3N; }
wait_ready() {
  for _ in $(seq 1 2000); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz" && return 0
    sleep 0.005
  done
  echo "server did not get ready"; exit 1
}

echo "== start-up on an empty SQLite database (5 runs)"
for i in 1 2 3 4 5; do
  rm -f "$work"/ciel.db*
  t0=$(now_ms)
  "$BIN" --database-url "sqlite://$work/ciel.db" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
  pid=$!
  wait_ready
  t1=$(now_ms)
  echo "run $i: ready in $((t1 - t0)) ms"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done

echo "== GET /healthz"
rm -f "$work"/ciel.db*
CIEL_LOG__LEVEL=warn "$BIN" --database-url "sqlite://$work/ciel.db" serve --listen "127.0.0.1:$PORT" --demo >/dev/null 2>&1 &
pid=$!
wait_ready
wrk -t2 -c64 -d"$DURATION" "http://127.0.0.1:$PORT/healthz"

echo "== GET /espace-client/users (Administrator, demo data), 50 concurrent users"
jar="$work/jar"
csrf=$(curl -s -c "$jar" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="_csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -b "$jar" -c "$jar" -o /dev/null -d "_csrf=$csrf&email=jeanne.martin%40atelier-numerique.example&password=ciel-demo-2026%21&next=%2F" "http://127.0.0.1:$PORT/login"
session=$(awk '$6 == "ciel_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "login failed"; exit 1; }
curl -fs -o /dev/null -H "Cookie: ciel_session=$session" "http://127.0.0.1:$PORT/espace-client/users"
wrk -t"${WRK_THREADS:-1}" -c50 -d"$DURATION" --latency -H "Cookie: ciel_session=$session" "http://127.0.0.1:$PORT/espace-client/users"
