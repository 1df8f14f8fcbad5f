#!/usr/bin/env bash
# A stand-in for your test suite: the repository's own client and server talk once on
# 127.0.0.1:8080 (`examples/loopback.rs`), as the README's CI job expects of ./run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet --example loopback
exec target/debug/examples/loopback "${SCENARIO:-classic}" 8080
