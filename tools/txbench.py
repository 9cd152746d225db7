#!/usr/bin/env python3
"""Transaction-layer benchmarks (issue #12): what atomicity across shards
costs, against redis-server in the same run.

    python3 tools/txbench.py                  # every workload, 3 runs each
    python3 tools/txbench.py --repeat 1 --workloads exec5

Workloads (redis-benchmark unless noted; tandem runs with 2 shards so keys
can live on different shards):
  mset10       redis-benchmark -t mset: MSET of 10 random keys (most span
               both shards), pipeline 16
  mset2-one    MSET of 2 keys with one hash tag (always one shard)
  mset2-cross  MSET of 2 keys whose tags live on different shards (always a
               transaction over two shards)
  exec5        MULTI + 5 SETs over both shards + EXEC, 8 blocks per round
               trip, 4 connections (a Python client: the server's CPU per
               EXEC is the figure, throughput is client-bound)
  evalsha1-pN  EVALSHA of a loaded 1-key script (INCR of KEYS[1]), at
               pipeline N (1 or 16)
  evalsha3-pN  EVALSHA of a 3-key script (INCR of each key) whose keys'
               tags live on both shards: a transaction over two shards
  fcall-pN     FCALL of a library function (INCR of keys[1])

Prints one row per server and workload: median req/s and the server
process's CPU time per request (per EXEC block for exec5).
"""

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, cpu_seconds, free_port, run_test, wait_port  # noqa: E402


def crc16(data: bytes) -> int:
    """CRC16-XMODEM, as Redis Cluster's key slots."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def tag_on(shard: int, shards: int) -> str:
    """A hash tag whose slot tandem maps to `shard` of `shards`."""
    for i in range(10000):
        t = f"t{i}"
        if (crc16(t.encode()) % 16384) * shards // 16384 == shard:
            return t
    raise RuntimeError("no tag found")


T0, T1 = tag_on(0, 2), tag_on(1, 2)

SERVERS = {
    "redis": lambda port: ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
    "tandem": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--save", "",
                            "--io-threads", "1", "--shards", "2"],
}

N = 300000
BENCH = "-c 50 -P 16 -r 100000"

# The scripts of the evalsha and fcall workloads, loaded before each run.
INCR1 = "return redis.call('INCR', KEYS[1])"
INCR_ALL = "for i = 1, #KEYS do redis.call('INCR', KEYS[i]) end return #KEYS"
LIBRARY = "#!lua name=bench\nredis.register_function('bump', function(keys, args) return redis.call('INCR', keys[1]) end)"
SETUP = [("SCRIPT", "LOAD", INCR1), ("SCRIPT", "LOAD", INCR_ALL), ("FUNCTION", "LOAD", "REPLACE", LIBRARY)]


def sha1(body):
    return hashlib.sha1(body.encode()).hexdigest()


WORKLOADS = {
    "mset10": ("-t", "mset"),
    "mset2-one": ("cmd", f"mset {{{T0}}}:__rand_int__ x {{{T0}}}:__rand_int__ y"),
    "mset2-cross": ("cmd", f"mset {{{T0}}}:__rand_int__ x {{{T1}}}:__rand_int__ y"),
    "exec5": ("py", None),
}
for p in (1, 16):
    WORKLOADS[f"evalsha1-p{p}"] = ("cmd", f"-P {p} evalsha {sha1(INCR1)} 1 {{{T0}}}:__rand_int__")
    WORKLOADS[f"evalsha3-p{p}"] = (
        "cmd",
        f"-P {p} evalsha {sha1(INCR_ALL)} 3 {{{T0}}}:a:__rand_int__ {{{T1}}}:b:__rand_int__ {{{T0}}}:c:__rand_int__",
    )
    WORKLOADS[f"fcall-p{p}"] = ("cmd", f"-P {p} fcall bump 1 {{{T0}}}:__rand_int__")


def frame(*args):
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def setup(port):
    """Loads the workloads' scripts and library; checks each reply."""
    s = socket.create_connection(("127.0.0.1", port))
    for args in SETUP:
        s.sendall(frame(*args))
        got = s.recv(1 << 16)
        if got.startswith(b"-"):
            raise RuntimeError(f"{args[:2]}: {got!r}")
    s.close()


def run_cmd(port, pid, command):
    """redis-benchmark with an arbitrary command (a leading `-P n` sets
    the pipeline depth); CPU per request."""
    words = command.split()
    opts = BENCH.split()
    if words[0] == "-P":
        opts[opts.index("-P") + 1] = words[1]
        words = words[2:]
    setup(port)
    cmd = ["redis-benchmark", "-p", str(port), "-n", str(N), "--csv", "-q"] + opts + words
    before = cpu_seconds(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
    cpu = cpu_seconds(pid) - before
    row = [line for line in out.splitlines() if line.startswith('"')][-1]
    rps = float(row.split(",")[1].strip('"'))
    return rps, cpu / N * 1e6


def run_exec5(port, pid, blocks=40000, conns=4, depth=8):
    """MULTI + 5 SETs + EXEC blocks from `conns` raw connections."""
    keys = [f"{{{T0 if i % 2 == 0 else T1}}}:k{i}" for i in range(5)]
    block = frame("MULTI") + b"".join(frame("SET", k, "v") for k in keys) + frame("EXEC")
    # MULTI +OK, 5 +QUEUED, then the EXEC array (*5 and five +OK).
    reply = b"+OK\r\n" + b"+QUEUED\r\n" * 5 + b"*5\r\n" + b"+OK\r\n" * 5
    per = blocks // conns

    def client():
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        want = reply * depth
        for _ in range(per // depth):
            s.sendall(block * depth)
            got = b""
            while len(got) < len(want):
                chunk = s.recv(1 << 16)
                if not chunk:
                    raise RuntimeError("connection closed")
                got += chunk
            if got != want:
                raise RuntimeError(f"unexpected reply: {got[:200]!r}")
        s.close()

    before = cpu_seconds(pid)
    t0 = time.time()
    ts = [threading.Thread(target=client) for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    wall = time.time() - t0
    cpu = cpu_seconds(pid) - before
    done = per // depth * depth * conns
    return done / wall, cpu / done * 1e6


def measure(server, workload):
    port = free_port()
    proc = subprocess.Popen(SERVERS[server](port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        kind, what = WORKLOADS[workload]
        if kind == "-t":
            r = run_test(port, proc.pid, what, f"-n {N} {BENCH}")
            return r["rps"], r["cpu_us"]
        if kind == "cmd":
            return run_cmd(port, proc.pid, what)
        return run_exec5(port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--servers", default="redis,tandem")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--extra", default="", help="extra tandem directives, e.g. '--spin-us 0'")
    args = ap.parse_args()
    if args.extra:
        base = SERVERS["tandem"]
        SERVERS["tandem"] = lambda port: base(port) + args.extra.split()
    if "tandem" in args.servers:
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    results = {}
    for w in args.workloads.split(","):
        for rep in range(args.repeat):
            for s in args.servers.split(","):
                rps, cpu = measure(s, w)
                results.setdefault((w, s), []).append((rps, cpu))
                print(f"{w:12} {s:8} run {rep}: {rps:>12,.0f} req/s  cpu {cpu:.2f} us/req", file=sys.stderr)
    print("| workload | server | req/s (median) | ×redis | CPU µs/req | ×redis |")
    print("|---|---|---:|---:|---:|---:|")
    for w in args.workloads.split(","):
        base = results.get((w, "redis"))
        for s in args.servers.split(","):
            rows = results[(w, s)]
            rps = statistics.median(r[0] for r in rows)
            cpu = statistics.median(r[1] for r in rows)
            if base:
                brps = statistics.median(r[0] for r in base)
                bcpu = statistics.median(r[1] for r in base)
                print(f"| {w} | {s} | {rps:,.0f} | {rps / brps:.2f} | {cpu:.2f} | {cpu / bcpu:.2f} |")
            else:
                print(f"| {w} | {s} | {rps:,.0f} | | {cpu:.2f} | |")


if __name__ == "__main__":
    main()
