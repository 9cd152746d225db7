#!/usr/bin/env bash
# SAVE and start-up load of the same data set, tandem against redis-server
# (issue #14 figures). Fills redis-server with N string keys plus hashes,
# lists and sets (redis-benchmark), SAVEs it, loads that file into tandem,
# SAVEs again from tandem, and loads tandem's file into redis-server.
#     tools/rdbbench.sh [N_KEYS]      (default 1000000)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-1000000}"
dir="$(mktemp -d)"
trap 'redis-cli -p 7851 shutdown nosave >/dev/null 2>&1 || true; redis-cli -p 7852 shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
# Up and done loading (redis-server answers -LOADING until then).
wait_up() { for _ in $(seq 1 600); do [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return; sleep 0.05; done; echo "port $1 not up" >&2; exit 1; }
secs() { python3 -c 'import sys,time; t=time.time(); import subprocess; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); print(f"{time.time()-t:.2f}")' "$@"; }
mkdir -p "$dir/r" "$dir/t"
redis-server --port 7851 --dir "$dir/r" --save "" --appendonly no --logfile "$dir/r1.log" &
wait_up 7851
redis-benchmark -p 7851 -q -n "$n" -r "$n" -P 32 -c 20 -t set,hset,lpush,sadd >/dev/null
keys=$(redis-cli -p 7851 dbsize)
echo "data set: $keys keys, $(redis-cli -p 7851 info memory | grep used_memory_human | tr -d '\r')"
echo "redis-server SAVE: $(secs redis-cli -p 7851 save) s"
redis-cli -p 7851 shutdown nosave >/dev/null 2>&1 || true
sleep 0.5
start=$(date +%s.%N)
redis-server --port 7851 --dir "$dir/r" --save "" --appendonly no --logfile "$dir/r0.log" &
wait_up 7851
echo "redis-server start-up with its own file: $(python3 -c "import time; print(f'{time.time()-$start:.2f}')") s ($(grep -o 'DB loaded from disk.*' "$dir/r0.log"))"
redis-cli -p 7851 shutdown nosave >/dev/null 2>&1 || true
sleep 0.5
cp "$dir/r/dump.rdb" "$dir/t/dump.rdb"
ls -l "$dir/r/dump.rdb" | awk '{print "file: " $5 " bytes"}'
start=$(date +%s.%N)
"$ROOT/target/release/tandem" --port 7852 --dir "$dir/t" >"$dir/t.log" 2>&1 &
wait_up 7852
echo "tandem start-up with the file: $(python3 -c "import time; print(f'{time.time()-$start:.2f}')") s ($(grep -o 'DB loaded from disk.*' "$dir/t.log"))"
[ "$(redis-cli -p 7852 dbsize)" = "$keys" ] || { echo "tandem loaded $(redis-cli -p 7852 dbsize) keys, want $keys" >&2; exit 1; }
echo "tandem SAVE: $(secs redis-cli -p 7852 save) s"
redis-cli -p 7852 shutdown nosave >/dev/null 2>&1 || true
sleep 0.5
cp "$dir/t/dump.rdb" "$dir/r/dump.rdb"
ls -l "$dir/t/dump.rdb" | awk '{print "tandem file: " $5 " bytes"}'
start=$(date +%s.%N)
redis-server --port 7851 --dir "$dir/r" --save "" --appendonly no --logfile "$dir/r2.log" &
wait_up 7851
echo "redis-server start-up with tandem's file: $(python3 -c "import time; print(f'{time.time()-$start:.2f}')") s ($(grep -o 'DB loaded from disk.*' "$dir/r2.log"))"
[ "$(redis-cli -p 7851 dbsize)" = "$keys" ] || { echo "redis-server loaded a different key count" >&2; exit 1; }
