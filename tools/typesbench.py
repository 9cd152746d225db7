#!/usr/bin/env python3
"""Bitmaps, HyperLogLog, geo and stream commands (issue #17) against
redis-server in the same run: requests/s and the server process's CPU time
per request at pipeline 1 and 16, and memory per HyperLogLog and per
stream entry.

    python3 tools/typesbench.py                # everything, 2 runs each
    python3 tools/typesbench.py --repeat 1 --workloads setbit,pfadd
    python3 tools/typesbench.py --memory       # RSS per HLL and stream entry only

Workloads (redis-benchmark -c 50 -r 100000, each at -P 1 and -P 16;
every server is started fresh per workload and filled first when the
workload reads):
  setbit     SETBIT flags:<random> 5 1 (100k one-byte bitmaps)
  bitcount   BITCOUNT bm 0 1023 (a 1 KiB range of a ~125 KiB bitmap)
  pfadd      PFADD hll <random element> (the HLL turns dense)
  pfcount    PFCOUNT h1 h2 (a union of two dense HLLs: no cached count)
  geoadd     GEOADD g 13.361389 38.115556 <random member>
  geosearch  GEOSEARCH pts FROMLONLAT 13.5 38.5 BYRADIUS 1 km ASC WITHDIST
             over 100k points spread on a 1 x 1 degree square (~30 found)
  xadd       XADD st * f v (auto IDs)
  xread      XREAD COUNT 10 STREAMS st 500-1 (10 of 1000 entries)
  xreadgroup XREADGROUP GROUP g c COUNT 1 STREAMS st > (each call
             delivers the next of 250k entries into the PEL; 200k calls)
  xack       XACK st g <random id> over a PEL of 250k delivered entries

Prints a Markdown table: median req/s and CPU µs per request, each with
its ratio to redis-server.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, cpu_seconds, free_port, rss_kib, stop_server, wait_port  # noqa: E402
from txbench import frame  # noqa: E402

SERVERS = {
    "redis": lambda port: ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
    "tandem": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--save", ""],
}

WORKLOADS = {
    # redis-benchmark's __rand_int__ has leading zeros, which an offset may
    # not: the random part is the key.
    "setbit": (None, "SETBIT flags:__rand_int__ 5 1", ""),
    "bitcount": ("bitmap", "BITCOUNT bm 0 1023", ""),
    "pfadd": (None, "PFADD hll __rand_int__", "-r 1000000"),
    "pfcount": ("hll", "PFCOUNT h1 h2", "-n 20000"),
    "geoadd": (None, "GEOADD g 13.361389 38.115556 m:__rand_int__", ""),
    "geosearch": ("points", "GEOSEARCH pts FROMLONLAT 13.5 38.5 BYRADIUS 1 km ASC WITHDIST", "-n 200000"),
    "xadd": (None, "XADD st * f v", ""),
    "xread": ("stream", "XREAD COUNT 10 STREAMS st 500-1", ""),
    "xreadgroup": ("group", "XREADGROUP GROUP g c COUNT 1 STREAMS st >", "-n 200000"),
    # __rand_int__ has leading zeros: an ID's ms part reads them as Redis's
    # strtoull does.
    "xack": ("pel", "XACK st g __rand_int__-1", "-r 250000 -n 200000"),
}
N = {1: 200_000, 16: 1_000_000}


def skip_reply(f):
    """Reads one RESP2 reply from `f`, nested arrays included; fails on an
    error reply."""
    line = f.readline()
    if line.startswith(b"-"):
        raise RuntimeError(line)
    if line.startswith(b"$") and not line.startswith(b"$-1"):
        f.read(int(line[1:]) + 2)
    elif line.startswith(b"*"):
        for _ in range(max(0, int(line[1:]))):
            skip_reply(f)


def pipeline(port, commands):
    """Sends `commands` (lists of arguments) in batches of 1000, reading
    every reply; fails on an error reply."""
    s = socket.create_connection(("127.0.0.1", port))
    for i in range(0, len(commands), 1000):
        batch = commands[i:i + 1000]
        s.sendall(b"".join(frame(*c) for c in batch))
        f = s.makefile("rb")
        for _ in batch:
            skip_reply(f)
    s.close()


def fill(port, what):
    rnd = random.Random(17)
    if what == "bitmap":
        pipeline(port, [["SETBIT", "bm", rnd.randrange(1_000_000), 1] for _ in range(100_000)])
    elif what == "hll":
        for k in ("h1", "h2"):
            pipeline(port, [["PFADD", k] + [f"{k}-{rnd.random()}" for _ in range(100)] for _ in range(200)])
    elif what == "points":
        cmds = []
        for b in range(1000):
            c = ["GEOADD", "pts"]
            for j in range(100):
                c += [f"{13 + rnd.random():.6f}", f"{38 + rnd.random():.6f}", f"p{b}-{j}"]
            cmds.append(c)
        pipeline(port, cmds)
    elif what == "stream":
        pipeline(port, [["XADD", "st", f"{i}-1", "f", "v", "x", i] for i in range(1, 1001)])
    elif what in ("group", "pel"):
        pipeline(port, [["XADD", "st", f"{i}-1", "f", "v"] for i in range(1, 250_001)])
        pipeline(port, [["XGROUP", "CREATE", "st", "g", "0"]])
        if what == "pel":
            pipeline(port, [["XREADGROUP", "GROUP", "g", "c", "COUNT", 1000, "STREAMS", "st", ">"]] * 250)


def run(server, workload, depth):
    what, command, extra = WORKLOADS[workload]
    port = free_port()
    proc = subprocess.Popen(SERVERS[server](port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        if what:
            fill(port, what)
        n = N[depth]
        # A workload's own `-n` (the slow ones) replaces the default count.
        if "-n" in extra.split():
            n = int(extra.split()[extra.split().index("-n") + 1])
            opts = f"-c 50 -P {depth} -r 100000".split() + extra.split()
        else:
            opts = f"-n {n} -c 50 -P {depth}".split() + (extra or "-r 100000").split()
        cmd = ["redis-benchmark", "-p", str(port), "--csv", "-q"] + opts + command.split()
        before = cpu_seconds(proc.pid)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=600).stdout
        cpu = cpu_seconds(proc.pid) - before
        row = [line for line in out.splitlines() if line.startswith('"')][-1]
        return float(row.split(",")[1].strip('"')), cpu / n * 1e6
    finally:
        stop_server(proc)


def stream_memory(server, count=300_000):
    """RSS per stream entry of two fields (`name user:<i> score <i>`),
    bytes, with the default node limits."""
    port = free_port()
    proc = subprocess.Popen(SERVERS[server](port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        base = rss_kib(proc.pid)
        pipeline(port, [["XADD", "mem", f"{i}-0", "name", f"user:{i}", "score", i] for i in range(1, count + 1)])
        return (rss_kib(proc.pid) - base) * 1024 / count
    finally:
        stop_server(proc)


def memory(server, count=10_000):
    """RSS per sparse HLL (5 elements) and per dense HLL, bytes."""
    port = free_port()
    proc = subprocess.Popen(SERVERS[server](port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        pipeline(port, [["PFADD", "src"] + [f"e{i}-{j}" for j in range(100)] for i in range(100)])
        base = rss_kib(proc.pid)
        pipeline(port, [["PFADD", f"s:{i}", "a", "b", "c", "d", i] for i in range(count)])
        sparse = rss_kib(proc.pid)
        pipeline(port, [["PFMERGE", f"d:{i}", "src"] for i in range(count)])
        dense = rss_kib(proc.pid)
        return (sparse - base) * 1024 / count, (dense - sparse) * 1024 / count
    finally:
        stop_server(proc)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--servers", default="redis,tandem")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--memory", action="store_true", help="only RSS per HLL")
    args = ap.parse_args()
    servers = args.servers.split(",")
    if "tandem" in servers:
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    if not args.memory:
        print("| workload | P | server | req/s | ×redis | CPU µs/req | ×redis |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for w in args.workloads.split(","):
            for depth in (1, 16):
                got = {}
                for s in servers:
                    runs = [run(s, w, depth) for _ in range(args.repeat)]
                    got[s] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
                for s in servers:
                    rps, cpu = got[s]
                    base = got.get("redis", got[s])
                    print(f"| {w} | {depth} | {s} | {rps:,.0f} | {rps / base[0]:.2f} | {cpu:.2f} | {cpu / base[1]:.2f} |", flush=True)
    print()
    print("| server | bytes per sparse HLL (5 elements) | bytes per dense HLL | bytes per stream entry |")
    print("|---|---:|---:|---:|")
    for s in servers:
        sp, de = memory(s)
        st = stream_memory(s)
        print(f"| {s} | {sp:,.0f} | {de:,.0f} | {st:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
