#!/usr/bin/env bash
# Instructions per request of two tandem builds on the same load (valgrind
# callgrind: a count, not a time, so it repeats on a noisy machine).
# Colocated, no spinning, so the count is the work itself.
#     tools/callgrind-ab.sh BASE_BINARY [NEW_BINARY] [load]
# load: w2 (SET/GET 1 KiB, P16) or w3 (SET/GET/INCR 16 B, P32, 1M keys; default)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
base="$1"
new="${2:-$ROOT/target/release/tandem}"
load="${3:-w3}"
case "$load" in
  w2) bench=(-t set,get -n 100000 -P 16 -c 50 -d 1024 -r 100000); reqs=200000 ;;
  *)  bench=(-t set,get,incr -n 100000 -P 32 -c 50 -d 16 -r 1000000); reqs=300000 ;;
esac
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
one() { # tag binary port
  local tag=$1 bin=$2 port=$3
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$tag" \
    "$bin" --port "$port" --colocated yes --spin-us 0 >"$out/$tag.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-benchmark -p "$port" "${bench[@]}" -q >/dev/null 2>&1
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$pid" || true
  grep "I   refs" "$out/$tag.log" | awk -v t="$tag" -v n="$reqs" '{gsub(",", "", $NF); printf "%s %d instructions, %.0f per request\n", t, $NF, $NF/n}'
}
one base "$base" 7793
one new "$new" 7794
