#!/usr/bin/env python3
"""BGSAVE under write load (issue #14): what a snapshot costs tandem
(fork-less) and redis-server (fork + copy-on-write), in the same run.

    python3 tools/bgsavebench.py              # 5,000,000 keys
    python3 tools/bgsavebench.py --keys 1000000

For each server: fill `--keys` string keys (16-byte values) plus a list,
a set and a hash of 100,000 elements each; measure the idle memory; start
a write load (redis-benchmark SET over the same keys, pipeline 16, 4
connections) and a GET probe (one connection, one request at a time);
BGSAVE; poll INFO until the save
ends. Memory is the proportional set size (Pss, /proc/<pid>/smaps_rollup)
of the server plus any child it forked, sampled every 20 ms, so pages a
forked child shares are counted once and pages copied on write twice.

Prints per server: save wall time (s), idle memory and peak memory over
idle (MiB), and the GET probe's p50/p99/max (ms) and its count of replies
slower than 1 ms, over the 2 s from BGSAVE on (the same window for every
server, longer than either save here), and its p99 in the second before.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import ROOT, free_port, wait_port  # noqa: E402


def pss_kib(pid):
    total = 0
    pids = [pid]
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                pids += [int(c) for c in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cmd(port, *args):
    out = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True)
    return out.stdout.strip()


def info_field(port, name):
    for line in cmd(port, "info", "persistence").splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def bench(port, *args, **kw):
    return subprocess.Popen(["redis-benchmark", "-p", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, **kw)


def fill(port, keys):
    subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(keys), "-r", str(keys),
                    "-d", "16", "-P", "64", "-q"], capture_output=True)
    # redis-benchmark's -r draws keys at random: top up to exactly `keys`
    # distinct keys is not needed for the comparison, both servers get the
    # same command stream.
    for t in ("lpush", "sadd", "hset"):
        subprocess.run(["redis-benchmark", "-p", str(port), "-t", t, "-n", "100000", "-r", "100000000",
                        "-P", "64", "-q"], capture_output=True)


class Probe(threading.Thread):
    """GETs one key at a time on one connection, recording (time sent,
    latency in s) for every reply."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.samples = []
        self.stop = False

    def run(self):
        req = b"*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000042\r\n"
        while not self.stop:
            t = time.perf_counter()
            self.s.sendall(req)
            buf = b""
            while not buf.endswith(b"\r\n") or (buf.startswith(b"$") and buf.count(b"\r\n") < 2 and not buf.startswith(b"$-1")):
                buf += self.s.recv(65536)
            self.samples.append((t, time.perf_counter() - t))


WINDOW_S = 2.0


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


def run(name, argv, keys):
    port = free_port()
    d = tempfile.mkdtemp(prefix="bgsavebench-")
    proc = subprocess.Popen(argv(port, d), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    try:
        wait_port(port, proc)
        fill(port, keys)
        dbsize = cmd(port, "dbsize")
        time.sleep(1)
        idle = pss_kib(proc.pid)
        load = bench(port, "-t", "set", "-n", "100000000", "-r", str(keys), "-d", "16", "-P", "16", "-c", "4")
        probe = Probe(port)
        probe.start()
        time.sleep(1)
        t0 = time.perf_counter()
        before = [l for (t, l) in probe.samples if t < t0]
        peak = idle
        start = time.time()
        reply = cmd(port, "bgsave")
        while time.time() - start < 600:
            peak = max(peak, pss_kib(proc.pid))
            if info_field(port, "rdb_bgsave_in_progress") == "0":
                break
            time.sleep(0.02)
        wall = time.time() - start
        # Latency over a fixed window from BGSAVE on, the same for every
        # server: a short save's few samples would make its p99 its worst.
        while time.perf_counter() < t0 + WINDOW_S:
            time.sleep(0.05)
        t1 = t0 + WINDOW_S
        probe.stop = True
        probe.join(timeout=30)
        during = [l for (t, l) in probe.samples if t0 <= t <= t1]
        if os.environ.get("BGSAVEBENCH_TRACE"):
            worst = sorted(((l, t - t0) for (t, l) in probe.samples if t0 <= t <= t1), reverse=True)[:15]
            print(name, len(during), "samples; worst (ms, at ms):",
                  [(round(l * 1000, 1), round(at * 1000)) for l, at in worst], file=sys.stderr)
        load.terminate()
        load.communicate(timeout=30)
        status = info_field(port, "rdb_last_bgsave_status")
        size = os.path.getsize(os.path.join(d, "dump.rdb")) if os.path.exists(os.path.join(d, "dump.rdb")) else 0
        return dict(server=name, reply=reply, status=status, dbsize=dbsize, wall=wall,
                    idle_mib=idle / 1024, peak_over_mib=(peak - idle) / 1024, file_mib=size / 2**20,
                    p50=pct(during, 0.5), p99=pct(during, 0.99), p99_before=pct(before, 0.99),
                    max_ms=max(during) * 1000 if during else float("nan"),
                    slow=sum(1 for l in during if l > 0.001), samples=len(during))
    finally:
        cmd(port, "shutdown", "nosave")
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        subprocess.run(["rm", "-rf", d])


SERVERS = {
    "redis": lambda port, d: ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                              "--dir", d],
    "tandem": lambda port, d: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port),
                               "--save", "", "--dir", d],
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=5_000_000)
    ap.add_argument("--servers", default="redis,tandem")
    a = ap.parse_args()
    for name in a.servers.split(","):
        r = run(name, SERVERS[name], a.keys)
        print(f"{r['server']:8} keys={r['dbsize']} bgsave={r['reply']!r} status={r['status']} "
              f"wall={r['wall']:.2f}s idle={r['idle_mib']:.0f}MiB peak_over_idle={r['peak_over_mib']:.0f}MiB "
              f"file={r['file_mib']:.0f}MiB get over {WINDOW_S:.0f}s from BGSAVE: p50={r['p50']:.2f}ms "
              f"p99={r['p99']:.2f}ms max={r['max_ms']:.1f}ms >1ms={r['slow']}/{r['samples']} "
              f"(p99 in the second before: {r['p99_before']:.2f}ms)", flush=True)


if __name__ == "__main__":
    main()
