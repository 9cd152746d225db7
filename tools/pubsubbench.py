#!/usr/bin/env python3
"""Pub/Sub benchmark: tandem against redis-server in the same run.

For each scenario (1, 100 and 1,000 subscribers of one channel; 100
pattern subscribers), starts the server, connects the subscribers (one
process draining them all with a selector), and publishes N messages from
one connection, pipelined 16 at a time. Reports:

  - publishes per second (until every subscriber got every message),
  - publish-to-receive latency p50/p99 (one probe subscriber parses the
    send time carried in each payload),
  - server CPU time per delivered message (utime+stime of the server
    process over the run, /proc/PID/stat).

    python3 tools/pubsubbench.py                      # every scenario
    python3 tools/pubsubbench.py --servers redis,tandem --scenarios subs100

Writes a Markdown table to stdout (for BENCHMARKS.md). Both servers run with
`client-output-buffer-limit pubsub 0 0 0`, so a subscriber that falls
behind is buffered, not cut off.
"""
import argparse
import os
import selectors
import socket
import subprocess
import sys
import time
from multiprocessing import Process, Queue

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import SERVERS, cpu_seconds, free_port, stop_server, wait_port  # noqa: E402

SCENARIOS = {
    # name: (subscribers, patterns?, messages)
    "subs1": (1, False, 200_000),
    "subs100": (100, False, 20_000),
    "subs1000": (1000, False, 3_000),
    "patterns100": (100, True, 20_000),
}
PAYLOAD = 24  # bytes: a 20-digit ns timestamp, zero padded


def frame_len(channel, pattern):
    def bulk(n):
        return len(f"${n}\r\n") + n + 2
    if pattern:
        return len("*4\r\n") + bulk(8) + bulk(len(pattern)) + bulk(len(channel)) + bulk(PAYLOAD)
    return len("*3\r\n") + bulk(7) + bulk(len(channel)) + bulk(PAYLOAD)


def subscribers(port, n, pattern, messages, ready, done):
    """Connects n subscribers plus a probe; drains until each has every message."""
    channel = "bench"
    socks = []
    for i in range(n + 1):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if pattern and i < n:
            # 100 distinct patterns, all matching "bench".
            pat = "b" + "*" * (i % 5 + 1) + "h" + "*" * (i // 5)
            s.sendall(f"PSUBSCRIBE {pat}\r\n".encode())
        else:
            s.sendall(f"SUBSCRIBE {channel}\r\n".encode())
        socks.append(s)
    # Drain the confirmations.
    for s in socks:
        s.settimeout(10)
        buf = b""
        while buf.count(b"\r\n") < 6:
            buf += s.recv(4096)
        s.setblocking(False)
    ready.put(True)
    probe = socks[-1]
    want = {}
    for i, s in enumerate(socks):
        if pattern and i < n:
            pat = "b" + "*" * (i % 5 + 1) + "h" + "*" * (i // 5)
            want[s.fileno()] = messages * frame_len(channel, pat)
        else:
            want[s.fileno()] = messages * frame_len(channel, None)
    got = {fd: 0 for fd in want}
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    lat = []
    pbuf = b""
    left = len(socks)
    deadline = time.time() + 300
    while left and time.time() < deadline:
        for key, _ in sel.select(1):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            now = time.time_ns()
            fd = s.fileno()
            if s is probe:
                pbuf += data
                # Each message ends with the payload line: "<ts>\r\n".
                while True:
                    i = pbuf.find(b"message\r\n")
                    if i < 0:
                        break
                    parts = pbuf[i:].split(b"\r\n", 5)
                    if len(parts) < 6:
                        break
                    lat.append(now - int(parts[4]))
                    pbuf = parts[5]
            got[fd] += len(data)
            if got[fd] >= want[fd]:
                sel.unregister(s)
                left -= 1
    lat.sort()
    done.put((sum(got.values()), lat[len(lat) // 2] if lat else 0, lat[int(len(lat) * 0.99)] if lat else 0, left))


def run(name, scenario):
    n, pattern, messages = SCENARIOS[scenario]
    port = free_port()
    argv = SERVERS[name](port) + ["--client-output-buffer-limit", "pubsub 0 0 0", "--maxclients", "5000"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
        ready, done = Queue(), Queue()
        sub = Process(target=subscribers, args=(port, n, pattern, messages, ready, done))
        sub.start()
        ready.get(timeout=60)
        p = socket.create_connection(("127.0.0.1", port))
        p.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.time()
        sent = 0
        while sent < messages:
            k = min(16, messages - sent)
            batch = b"".join(
                b"*3\r\n$7\r\nPUBLISH\r\n$5\r\nbench\r\n$24\r\n" + str(time.time_ns()).zfill(PAYLOAD).encode() + b"\r\n"
                for _ in range(k)
            )
            p.sendall(batch)
            buf = b""
            while buf.count(b"\r\n") < k:
                buf += p.recv(65536)
            sent += k
        total, p50, p99, left = done.get(timeout=600)
        wall = time.time() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
        sub.join(10)
        delivered = messages * (n + 1)
        return {
            "server": name, "scenario": scenario, "pub_per_s": messages / wall,
            "p50_ms": p50 / 1e6, "p99_ms": p99 / 1e6,
            "cpu_us_per_msg": cpu / delivered * 1e6, "incomplete": left,
        }
    finally:
        stop_server(proc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", default="redis,tandem")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    a = ap.parse_args()
    rows = []
    for sc in a.scenarios.split(","):
        for srv in a.servers.split(","):
            r = run(srv, sc)
            rows.append(r)
            print(f"{sc:12} {srv:17} {r['pub_per_s']:>10,.0f} pub/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                  f"cpu {r['cpu_us_per_msg']:.3f} us/msg{'  INCOMPLETE' if r['incomplete'] else ''}", file=sys.stderr)
    base = {r["scenario"]: r for r in rows if r["server"] == "redis"}
    print("| scenario | server | publishes/s | p50 ms | p99 ms | CPU µs per delivered message | CPU ÷ redis |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        b = base.get(r["scenario"])
        ratio = f"{r['cpu_us_per_msg'] / b['cpu_us_per_msg']:.2f}" if b else "-"
        print(f"| {r['scenario']} | {r['server']} | {r['pub_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
              f"{r['cpu_us_per_msg']:.3f} | {ratio} |")


if __name__ == "__main__":
    main()
