#!/usr/bin/env bash
# Instructions executed by the server (valgrind callgrind: a count, not a
# time, so it repeats on a noisy machine) for a W2-shaped load, comparing
# two setups. Needs valgrind and redis-tools.
#     tools/callgrind-overhead.sh [runs] [tracking|acl]
#   tracking: latency tracking on against off (issue #4)
#   acl:      redis-benchmark as a user whose every command and key is
#             checked, against the default user (issue #18)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release -q --manifest-path "$ROOT/Cargo.toml"
runs="${1:-2}"
what="${2:-tracking}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

one() { # tag port acl(0|1) extra-args...
  local tag=$1 port=$2 acl=$3; shift 3
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$tag" \
    "$ROOT/target/release/tandem" --port "$port" --colocated yes --spin-us 0 "$@" >"$out/$tag.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
  local auth=()
  if [ "$acl" = 1 ]; then
    redis-cli -p "$port" ACL SETUSER bench on '>benchpw' '+@all' '-@dangerous' '~key:*' '~counter:*' >/dev/null
    auth=(--user bench -a benchpw)
  fi
  redis-benchmark -p "$port" "${auth[@]}" -t set,get -n 100000 -P 16 -c 50 -d 1024 -r 100000 -q >/dev/null 2>&1
  redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
  wait "$pid" || true
  grep "I   refs" "$out/$tag.log" | awk -v t="$tag" '{gsub(",", "", $NF); print t, $NF}'
}

for r in $(seq 1 "$runs"); do
  if [ "$what" = acl ]; then
    one "on$r" 7791 1
    one "off$r" 7792 0
  else
    one "on$r" 7791 0
    one "off$r" 7792 0 --latency-tracking no
  fi
done | tee "$out/all" >&2
label="tracking on/off"
[ "$what" = acl ] && label="ACL-checked user/default user"
awk -v label="$label" '/^on/ {on += $2; n++} /^off/ {off += $2}
     END {printf "%s instructions: %.4f (%+.0f per request of 200k)\n", label, on/off, (on-off)/n/200000}' "$out/all"
