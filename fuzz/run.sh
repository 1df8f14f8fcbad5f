#!/usr/bin/env bash
# Fuzzes one target (capture, decode, pipeline) for SECONDS, seeded with the fixtures.
# Needs cargo-fuzz; the toolchain is stable, so nightly features are unlocked for it here.
# Usage: fuzz/run.sh TARGET SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?target}
seconds=${2:-60}
corpus="fuzz/corpus/$target"
mkdir -p "$corpus"
for f in fixtures/*.pcap fixtures/*.pcapng fixtures/*.gz fixtures/malformed/* fixtures/*/*.pcap; do
  [ -f "$f" ] || continue
  cp "$f" "$corpus/$(basename "$f")"
done
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536
