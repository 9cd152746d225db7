#!/usr/bin/env bash
# Instructions executed by the server (valgrind callgrind: a count, not a
# time, so it repeats on a noisy machine) for a W2-shaped load, with
# latency tracking on and off. Needs valgrind and redis-tools.
#     tools/callgrind-overhead.sh [runs]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release -q --manifest-path "$ROOT/Cargo.toml"
runs="${1:-2}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

one() { # tag port extra-args...
  local tag=$1 port=$2; shift 2
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$tag" \
    "$ROOT/target/release/tandem" --port "$port" --colocated yes --spin-us 0 "$@" >"$out/$tag.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-benchmark -p "$port" -t set,get -n 100000 -P 16 -c 50 -d 1024 -r 100000 -q >/dev/null 2>&1
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$pid" || true
  grep "I   refs" "$out/$tag.log" | awk -v t="$tag" '{gsub(",", "", $NF); print t, $NF}'
}

for r in $(seq 1 "$runs"); do
  one "on$r" 7791
  one "off$r" 7792 --latency-tracking no
done | tee "$out/all" >&2
awk '/^on/ {on += $2; n++} /^off/ {off += $2}
     END {printf "tracking on/off instructions: %.4f (%+.0f per request of 200k)\n", on/off, (on-off)/n/200000}' "$out/all"
