#!/usr/bin/env bash
# Browser tests of the ciel portal (issue 2, item 9).
#
# Starts a real SMTP sink (aiosmtpd, Maildir) and `ciel serve --demo` on free
# loopback ports with a throw-away SQLite database, then runs the Playwright
# tests (playwright-core driving Debian's /usr/bin/chromium) with Node's test
# runner. Both servers are always stopped; the exit status is the tests'.
#
# Needs: node >= 20 with `npm ci --prefix e2e` done, python3 with
# aiosmtpd==1.4.6, /usr/bin/chromium, and a built ciel binary:
#   CIEL_BIN (default target/debug/ciel, relative to the repository root).
# Logs and screenshots go to e2e/test-results/ (gitignored).
# Usage: bash e2e/run.sh [TEST_FILE...]   (default: every e2e/tests/*.test.mjs)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

bin="${CIEL_BIN:-target/debug/ciel}"
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
if [[ ! -x "$bin" ]]; then
  echo "e2e: no ciel binary at $bin (build it with 'cargo build -p ciel' or set CIEL_BIN)" >&2
  exit 2
fi
if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  echo "e2e: playwright-core is not installed: run 'npm ci --prefix e2e'" >&2
  exit 2
fi
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "e2e: python3 cannot import aiosmtpd: run 'pip install aiosmtpd==1.4.6'" >&2
  exit 2
fi
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM_PATH" ]]; then
  echo "e2e: no chromium at $CHROMIUM_PATH (apt-get install chromium)" >&2
  exit 2
fi

results="$here/test-results"
rm -rf "$results"
mkdir -p "$results"
work="$(mktemp -d "${TMPDIR:-/tmp}/ciel-e2e.XXXXXX")"
smtp_pid=""
ciel_pid=""

stop() {
  # Stops the process we started (by its id), waiting a bounded time.
  local pid="$1"
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$ciel_pid"
  stop "$smtp_pid"
  # Keep the delivered mail beside the logs for whoever reads a failure.
  [[ -d "$work/maildir" ]] && cp -r "$work/maildir" "$results/maildir" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two distinct free ports, chosen by the kernel.
read -r smtp_port http_port < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(*(s.getsockname()[1] for s in socks))
EOF
)

maildir="$work/maildir"
# Python's Maildir creates its tmp/new/cur only in a folder it creates itself.
mkdir -p "$maildir/tmp" "$maildir/new" "$maildir/cur"
python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$maildir" \
  >"$results/smtp.log" 2>&1 &
smtp_pid=$!

cat >"$work/ciel.toml" <<EOF
[server]
public_url = "http://127.0.0.1:$http_port"

[mail]
transport = "smtp"
from = "ciel <noreply@ciel.test>"

[mail.smtp]
host = "127.0.0.1"
port = $smtp_port
tls = "none"
EOF

wait_for() {
  # wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
  local secs="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "e2e: $what not ready after ${secs}s" >&2
      return 1
    fi
    sleep 0.2
  done
}
port_open() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1"; }
alive() { kill -0 "$1" 2>/dev/null; }
ciel_ready() {
  alive "$ciel_pid" || return 0 # let the caller notice the crash below
  # The demo data is loaded after the listener starts: wait for the banner too.
  grep -q "ciel is listening" "$results/ciel.log" &&
    python3 -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1], timeout=2).status != 200)' \
      "http://127.0.0.1:$http_port/readyz"
}

wait_for 20 "SMTP sink on port $smtp_port" port_open "$smtp_port" || {
  cat "$results/smtp.log" >&2
  exit 1
}

RUST_LOG="${RUST_LOG:-info}" "$bin" --database-url "sqlite://$work/ciel.db" --config "$work/ciel.toml" \
  serve --listen "127.0.0.1:$http_port" --demo >"$results/ciel.log" 2>&1 &
ciel_pid=$!

if ! wait_for 30 "ciel on port $http_port" ciel_ready || ! alive "$ciel_pid"; then
  echo "e2e: ciel did not start; its log:" >&2
  tail -n 50 "$results/ciel.log" >&2
  exit 1
fi

export CIEL_URL="http://127.0.0.1:$http_port"
export MAILDIR="$maildir"
export E2E_RESULTS="$results"
echo "e2e: ciel at $CIEL_URL, SMTP sink on 127.0.0.1:$smtp_port, mail in $MAILDIR"

status=0
# The whole run is bounded: each test has its own timeout, and the runner as a whole too.
# Arguments, if any, name the test files to run (e.g. e2e/tests/mobile.test.mjs).
if (($# > 0)); then tests=("$@"); else tests=("$here/tests/"); fi
timeout --kill-after=10 300 node --test --test-reporter=spec --test-timeout=60000 "${tests[@]}" || status=$?
if ((status != 0)); then
  echo "e2e: tests failed (status $status); last lines of the ciel log:" >&2
  tail -n 30 "$results/ciel.log" >&2
fi
exit "$status"
