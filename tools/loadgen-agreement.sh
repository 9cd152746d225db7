#!/usr/bin/env bash
# Paired closed-loop throughput of tandem-loadgen against redis-benchmark on
# a server-bound workload (SET 1 KiB, P16, 50 connections, server pinned to
# core 0, clients to core 1): five alternating 3 s pairs, median of the pair
# ratios. Prints the figures for BENCHMARKS.md; asserts nothing about them.
set -euo pipefail
cd "$(dirname "$0")/.."
TANDEM_MEASURE=1 cargo test --release --test loadgen closed_loop -- --nocapture 2>&1 |
  grep -E "^pair|median"
