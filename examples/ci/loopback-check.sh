#!/usr/bin/env bash
# The README's CI job, as written: capture lo while the tests run, then check that every
# connection to port 8080 opened and closed cleanly. Needs synfin on the PATH, tcpdump (or
# dumpcap), and the right to capture (root, or CAP_NET_RAW and CAP_NET_ADMIN).
set -euo pipefail
cd "$(dirname "$0")"
synfin check --capture lo --port 8080 --junit report.xml -- ./run-tests.sh
