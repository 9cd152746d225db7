#!/usr/bin/env bash
# Hostile-clients soak (tests/soak.rs) for as long as asked:
#   tools/soak.sh [seconds]     (default 600, the issue's 10 minutes)
# Prints what the hostile and the well-behaved clients did and the server's
# RSS before and after; fails if an acknowledged write is lost, the server
# panicked or died, or its RSS did not come back within 10% of the start.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-600}"
TANDEM_SOAK_SECS="$secs" cargo test --release --test soak -- --nocapture 2>&1 |
  grep -E "^soak|test result|panicked|RSS"
