#!/usr/bin/env bash
# Long differential run against redis-server (see tests/differential.rs and
# tests/diff/mod.rs): tools/difftest.sh [SEED] [SECS] [extra cargo test args]
# Case i uses seed SEED+i; every distinct divergence is shrunk and printed.
# Other knobs pass through the environment: TANDEM_DIFF_LEN, TANDEM_DIFF_LAYOUT,
# TANDEM_DIFF_SKIP, TANDEM_DIFF_SHRINK_SECS.
set -euo pipefail
cd "$(dirname "$0")/.."
SEED="${1:-$(date +%s)}"
SECS="${2:-600}"
shift $(( $# > 2 ? 2 : $# ))
echo "difftest: seed $SEED for $SECS s" >&2
TANDEM_DIFF_SEED="$SEED" TANDEM_DIFF_SECS="$SECS" \
  exec cargo test --release --test differential "$@" -- --nocapture
