#!/usr/bin/env python3
"""Eviction benchmarks (issue #18), against redis-server in the same run
(and valkey-server when VALKEY=/path/to/valkey-server is set).

    python3 tools/evictbench.py                      # both parts
    python3 tools/evictbench.py --part hits --policy allkeys-lfu
    python3 tools/evictbench.py --part limit

hits: the hit ratio of a cache under a Zipfian load. Cache-aside clients
  (GET; on a miss, SET) draw keys from `--keys` keys with Zipf exponent
  `--zipf`; every server gets `maxmemory` = its own `used_memory` at start
  + `--budget-mb`, so each has the same room for data whatever its idle
  footprint. The first half of the requests warms the cache; the hit ratio
  is counted over the second half. One request sequence (seeded) for all.

limit: the cost of writing at the limit. redis-benchmark SETs of random
  keys (`-r 10000000 -d 100 -P 16`), once with no limit and once with
  `maxmemory` = used + budget and allkeys-lru, so most SETs evict a key:
  requests/s and server CPU per request.

Prints Markdown tables (paste into BENCHMARKS.md).
"""
import argparse
import bisect
import os
import random
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, cpu_seconds, free_port, stop_server, wait_port  # noqa: E402

SERVERS = {
    "redis": lambda port: ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
    "tandem": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--save", ""],
    "tandem-2shards": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--save", "", "--shards", "2"],
}
if os.environ.get("VALKEY"):
    SERVERS["valkey"] = lambda port: [os.environ["VALKEY"], "--port", str(port), "--save", "", "--appendonly", "no"]


class Conn:
    """A minimal pipelining RESP2 client."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, cmds):
        out = []
        for args in cmds:
            out.append(b"*%d\r\n" % len(args))
            for a in args:
                out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.s.recv(1 << 16)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        if line[:1] == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.s.recv(1 << 16)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data
        return line

    def cmd(self, *args):
        self.send([[a if isinstance(a, bytes) else str(a).encode() for a in args]])
        return self.reply()


def used_memory(c):
    info = c.cmd("INFO", "memory").decode()
    return int(info.split("used_memory:")[1].split("\r\n")[0])


def start(name):
    port = free_port()
    proc = subprocess.Popen(SERVERS[name](port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return port, proc


def zipf_sequence(keys, s, n, seed):
    weights = [1.0 / (i + 1) ** s for i in range(keys)]
    total = sum(weights)
    cdf, acc = [], 0.0
    for w in weights:
        acc += w / total
        cdf.append(acc)
    rng = random.Random(seed)
    # Ranks scattered over the key names, so hot keys are not neighbours.
    names = list(range(keys))
    rng.shuffle(names)
    return [names[min(bisect.bisect_left(cdf, rng.random()), keys - 1)] for _ in range(n)]


def run_hits(name, seq, args):
    port, proc = start(name)
    try:
        c = Conn(port)
        limit = used_memory(c) + args.budget_mb * (1 << 20)
        c.cmd("CONFIG", "SET", "maxmemory-policy", args.policy)
        c.cmd("CONFIG", "SET", "maxmemory", str(limit))
        value = b"v" * args.value
        half = len(seq) // 2
        hits = gets = refused = 0
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.time()
        for start_i in range(0, len(seq), args.batch):
            batch = seq[start_i:start_i + args.batch]
            keys = [b"key:%d" % k for k in batch]
            c.send([[b"GET", k] for k in keys])
            missed = [k for k in keys if c.reply() is None]
            if start_i >= half:
                gets += len(keys)
                hits += len(keys) - len(missed)
            if missed:
                c.send([[b"SET", k, value] for k in missed])
                for _ in missed:
                    if c.reply().startswith(b"-"):
                        refused += 1
        wall = time.time() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
        used = used_memory(c)
        info = c.cmd("INFO", "stats").decode()
        evicted = int(info.split("evicted_keys:")[1].split("\r\n")[0])
        keys_left = int(c.cmd("DBSIZE")[1:])
        return {
            "server": name,
            "hit": hits / max(gets, 1),
            "evicted": evicted,
            "keys": keys_left,
            "over": used - limit,
            "refused": refused,
            "wall": wall,
            "cpu": cpu,
        }
    finally:
        stop_server(proc)


def run_limit(name, args, limited):
    """One redis-benchmark SET run; with `limited`, a sampler reads
    used_memory every 10 ms for the largest `used - maxmemory` (INFO runs
    after the server's own pre-command eviction in both Redis and tandem,
    so it sees what a command leaves, not the instant within one)."""
    port, proc = start(name)
    try:
        c = Conn(port)
        limit = used_memory(c) + args.budget_mb * (1 << 20)
        if limited:
            c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
            c.cmd("CONFIG", "SET", "maxmemory", str(limit))
        peak = [-(1 << 62)]
        done = threading.Event()

        def sample():
            s = Conn(port)
            while not done.is_set():
                peak[0] = max(peak[0], used_memory(s) - limit)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        if limited:
            sampler.start()
        n = args.limit_requests
        cmd = ["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(n), "-r", "10000000",
               "-d", "100", "-P", "16", "-c", "50", "--csv", "-q"]
        cpu0 = cpu_seconds(proc.pid)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(proc.pid) - cpu0
        done.set()
        if limited:
            sampler.join()
        rps = float(out.strip().splitlines()[-1].split(",")[1].strip('"'))
        info = c.cmd("INFO", "stats").decode()
        evicted = int(info.split("evicted_keys:")[1].split("\r\n")[0])
        return {"server": name, "limited": limited, "rps": rps, "cpu_us": cpu / n * 1e6,
                "evicted": evicted, "peak": peak[0] if limited else None}
    finally:
        stop_server(proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=["hits", "limit", "all"], default="all")
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--policy", default="allkeys-lru")
    ap.add_argument("--budget-mb", type=int, default=32)
    ap.add_argument("--keys", type=int, default=400_000)
    ap.add_argument("--zipf", type=float, default=0.99)
    ap.add_argument("--requests", type=int, default=1_000_000)
    ap.add_argument("--value", type=int, default=200)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--limit-requests", type=int, default=3_000_000)
    args = ap.parse_args()
    servers = args.servers.split(",")
    if args.part in ("hits", "all"):
        seq = zipf_sequence(args.keys, args.zipf, args.requests, 7)
        rows = [run_hits(s, seq, args) for s in servers]
        base = next((r for r in rows if r["server"] == "redis"), rows[0])
        print(f"\nHit ratio, {args.policy}, {args.keys} keys Zipf {args.zipf}, {args.value} B values, "
              f"budget {args.budget_mb} MiB above idle used_memory, {args.requests} requests (second half counted)\n")
        print("| server | hit ratio | vs redis | keys held | evicted | used - maxmemory at end | refused SETs |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['server']} | {r['hit']:.4f} | {r['hit'] / base['hit']:.3f} | {r['keys']} | {r['evicted']} | "
                  f"{r['over'] / 1024:+.0f} KiB | {r['refused']} |")
    if args.part in ("limit", "all"):
        rows = []
        for s in servers:
            for limited in (False, True):
                rows.append(run_limit(s, args, limited))
        base = {r["limited"]: r for r in rows if r["server"] == "redis"}
        print(f"\nWriting at the limit: redis-benchmark -t set -r 10000000 -d 100 -P 16 -c 50 -n {args.limit_requests}; "
              f"limited = maxmemory used+{args.budget_mb} MiB, allkeys-lru\n")
        print("| server | limit | req/s | vs redis | CPU us/req | vs redis | evicted | largest used - maxmemory seen by INFO |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            b = base.get(r["limited"], r)
            peak = "" if r["peak"] is None else f"{r['peak'] / 1024:+.0f} KiB"
            print(f"| {r['server']} | {'yes' if r['limited'] else 'no'} | {r['rps']:,.0f} | {r['rps'] / b['rps']:.2f} | "
                  f"{r['cpu_us']:.2f} | {r['cpu_us'] / b['cpu_us']:.2f} | {r['evicted']} | {peak} |")


if __name__ == "__main__":
    main()
