#!/usr/bin/env bash
# Capture a test's own loopback traffic and check that every connection opened and closed
# cleanly: start tcpdump on lo, run the exchange, stop the capture, run `synfin check`.
#
#   examples/ci/loopback-check.sh [PORT]
#
# Needs root (or CAP_NET_RAW) and tcpdump. Replace the exchange below with your own test
# suite; keep the port filter so that only its traffic is captured.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${1:-47300}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --quiet --bin synfin --example loopback
synfin=target/release/synfin

# 1. Start the capture, and wait until tcpdump is listening.
tcpdump -i lo --immediate-mode -U -s 0 -w "$work/test.pcap" "tcp port $port" 2>"$work/tcpdump.log" &
dump=$!
until grep -q listening "$work/tcpdump.log"; do
  kill -0 "$dump" 2>/dev/null || { cat "$work/tcpdump.log" >&2; exit 2; }
  sleep 0.1
done
sleep 1 # tcpdump reports "listening" a moment before packets reach it

# 2. The exchange under test: here the repo's own client/server on 127.0.0.1:$port.
target/release/examples/loopback classic "$port"

# 3. Stop the capture (SIGINT lets tcpdump flush the file).
sleep 1
kill -INT "$dump"
wait "$dump" 2>/dev/null || true

# 4. The gate: one connection to the port, complete handshake, orderly close, no RST, no
#    retransmission, nothing left open; JUnit XML for the CI system.
"$synfin" check --port "$port" --expect-conns 1 --junit "${JUNIT:-$work/junit.xml}" "$work/test.pcap"
