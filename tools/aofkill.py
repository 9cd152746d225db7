#!/usr/bin/env python3
"""kill -9 under write load with `appendfsync always` (issue #14).

Starts tandem with the append-only file (`--appendfsync always`, 1 IO
thread, 2 shards), runs writer processes that pipeline SETs of unique
keys (single-shard) and MSETs of two keys on different shards, recording
every write whose reply arrived; kills the server with SIGKILL at a random
moment; restarts it from its files and checks that every acknowledged
write is there (MSET pairs whole). Repeats until at least `--writes`
acknowledged writes were checked in total.

    python3 tools/aofkill.py                  # 1,000,000 writes
    python3 tools/aofkill.py --writes 200000  # quicker

Exits non-zero on the first lost write. Prints one line per round.
"""
import argparse
import multiprocessing as mp
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/tandem")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def frame(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def read_replies(sock, buf, n):
    """Reads n simple replies (+OK / -ERR lines); returns (count, rest)."""
    got = 0
    while got < n:
        while b"\r\n" in buf and got < n:
            line, buf = buf.split(b"\r\n", 1)
            if line.startswith(b"-"):
                raise RuntimeError(line.decode())
            got += 1
        if got < n:
            chunk = sock.recv(1 << 16)
            if not chunk:
                return got, buf
            buf += chunk
    return got, buf


def writer(port, wid, rnd, out):
    """Pipelines 64 writes at a time until the server dies; puts the
    number of the last acknowledged write."""
    acked = -1
    try:
        s = socket.create_connection(("127.0.0.1", port))
        buf = b""
        n = 0
        while True:
            batch = []
            for i in range(n, n + 64):
                k = f"r{rnd}:w{wid}:{i}"
                if i % 2:
                    batch.append(frame("MSET", k, i, f"{{p}}{k}", i))
                else:
                    batch.append(frame("SET", k, i))
            s.sendall(b"".join(batch))
            got, buf = read_replies(s, buf, 64)
            acked = n + got - 1
            if got < 64:
                break
            n += 64
    except (OSError, RuntimeError):
        pass
    out.put((wid, acked))


def start(port, d):
    log = open(os.path.join(d, "server.log"), "ab")
    p = subprocess.Popen([BIN, "--port", str(port), "--save", "", "--dir", d,
                          "--appendonly", "yes", "--appendfsync", "always",
                          "--io-threads", "1", "--shards", "2"],
                         stdout=log, stderr=log)
    end = time.time() + 60
    while time.time() < end:
        try:
            c = socket.create_connection(("127.0.0.1", port), 0.5)
            c.sendall(b"PING\r\n")
            if c.recv(7) == b"+PONG\r\n":
                c.close()
                return p
        except OSError:
            time.sleep(0.05)
    p.kill()
    with open(os.path.join(d, "server.log"), "rb") as f:
        sys.stderr.write(f.read()[-3000:].decode(errors="replace"))
    raise SystemExit("tandem did not start")


def check(port, rnd, acked):
    s = socket.create_connection(("127.0.0.1", port))
    f = s.makefile("rb")
    missing = 0
    for wid, last in acked.items():
        keys = []
        for i in range(last + 1):
            k = f"r{rnd}:w{wid}:{i}"
            keys.append(k)
            if i % 2:
                keys.append(f"{{p}}{k}")
        for at in range(0, len(keys), 1000):
            part = keys[at:at + 1000]
            s.sendall(frame("MGET", *part))
            head = f.readline()
            assert head.startswith(b"*"), head
            for k in part:
                line = f.readline()
                if line.startswith(b"$-1"):
                    missing += 1
                    print(f"lost: {k}", file=sys.stderr)
                else:
                    f.read(int(line[1:]) + 2)
    s.close()
    return missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writes", type=int, default=1_000_000)
    ap.add_argument("--writers", type=int, default=4)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="tandem-aofkill-")
    total, rnd = 0, 0
    try:
        while total < args.writes:
            port = free_port()
            srv = start(port, d)
            q = mp.Queue()
            procs = [mp.Process(target=writer, args=(port, w, rnd, q)) for w in range(args.writers)]
            for p in procs:
                p.start()
            time.sleep(random.uniform(1.0, 4.0))
            srv.send_signal(signal.SIGKILL)
            srv.wait()
            acked = dict(q.get() for _ in procs)
            for p in procs:
                p.join()
            port = free_port()
            srv = start(port, d)
            n = sum(v + 1 for v in acked.values())
            missing = check(port, rnd, acked)
            srv.send_signal(signal.SIGTERM)
            srv.wait(30)
            total += n
            print(f"round {rnd}: {n} acknowledged writes, {missing} lost; total {total}")
            if missing:
                raise SystemExit(1)
            rnd += 1
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
