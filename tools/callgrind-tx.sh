#!/usr/bin/env bash
# Instructions per request of a 2-key MSET on one shard and across two
# (valgrind callgrind: a count, not a time, so it repeats on a noisy
# machine). tandem runs split, 1 IO thread and 2 shards, no spinning; the
# count covers every thread, start-up included (small against 200,000
# requests).
#     tools/callgrind-tx.sh [BINARY]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
bin="${1:-$ROOT/target/release/tandem}"
reqs=200000
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# Hash tags on shard 0 (t2) and shard 1 (t0) of 2 (tools/txbench.py).
for load in one:t2 cross:t0; do
  name=${load%%:*} tag=${load##*:}
  port=$((7820 + RANDOM % 100))
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$name" \
    "$bin" --port "$port" --io-threads 1 --shards 2 --spin-us 0 >"$out/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-benchmark -p "$port" -n "$reqs" -c 50 -P 16 -r 100000 -q \
    mset "{t2}:__rand_int__" x "{$tag}:__rand_int__" y >/dev/null 2>&1
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$pid" || true
  grep "I   refs" "$out/$name.log" | awk -v t="$name" -v n="$reqs" \
    '{gsub(",", "", $NF); printf "mset2-%s %.0f instructions, %.0f per request\n", t, $NF, $NF/n}'
done
