#!/usr/bin/env python3
"""Side-by-side benchmark of tandem against Debian's redis-server.

Starts each server in turn on this machine, drives it with redis-benchmark
through the issue's workloads, and reports requests/s, p50/p99 latency and
server CPU time per request (utime+stime of the server process over the
run, from /proc/PID/stat), each as a ratio to redis-server in the same run.

    python3 tools/bench.py                 # all workloads, all servers
    python3 tools/bench.py --quick         # 10x fewer requests
    python3 tools/bench.py --workloads W2 --servers redis,tandem
    python3 tools/bench.py --memory        # RSS after loading collections
    python3 tools/bench.py --acl           # as a user with ACL restrictions

Writes a Markdown table to stdout (paste it into BENCHMARKS.md) and the raw
rows as CSV to target/bench.csv.
"""
import argparse
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")

WORKLOADS = {
    "W1": ("set,get", "-n 1000000 -c 50 -P 1 -d 16"),
    "W2": ("set,get", "-n 3000000 -c 200 -P 16 -d 1024 --threads 2 -r 100000"),
    "W3": ("set,get,incr", "-n 3000000 -c 100 -P 32 -d 16 --threads 2 -r 1000000"),
    # Collections (issue #3). redis-benchmark runs an LPUSH fill before
    # lrange_100, so that row's CPU time covers the fill too (both servers).
    "W4": ("lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100",
           "-n 2000000 -c 100 -P 32 --threads 2 -r 1000000"),
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat(5); index 11, 12 after ')'.
    return (int(fields[11]) + int(fields[12])) / TICK


SERVERS = {
    "redis": lambda port: ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--protected-mode", "no"],
    "tandem": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--save", ""],
    "tandem-colocated": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--save", "", "--colocated", "yes"],
    # Instrumentation overhead (issue #4): the same without latency sampling.
    "tandem-notrack": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--latency-tracking", "no"],
    "tandem-colocated-notrack": lambda port: [os.path.join(ROOT, "target/release/tandem"), "--port", str(port), "--save", "", "--colocated", "yes", "--latency-tracking", "no"],
}
# The append-only file (issue #14): "{dir}" becomes a fresh directory on
# disk per server start, removed after.
for fsync in ("everysec", "always"):
    aof = ["--appendonly", "yes", "--appendfsync", fsync, "--dir", "{dir}"]
    SERVERS[f"redis-aof-{fsync}"] = (lambda a: lambda port: SERVERS["redis"](port)[:-4] + ["--protected-mode", "no"] + a)(aof)
    SERVERS[f"tandem-aof-{fsync}"] = (lambda a: lambda port: SERVERS["tandem"](port) + a)(aof)
# A/B against another build (a worktree of an earlier commit, say):
# TANDEM_BASE=/path/to/tandem python3 tools/bench.py --servers base,tandem
if os.environ.get("TANDEM_BASE"):
    SERVERS["base"] = lambda port: [os.environ["TANDEM_BASE"], "--port", str(port), "--save", ""]
    SERVERS["base-colocated"] = lambda port: [os.environ["TANDEM_BASE"], "--port", str(port), "--save", "", "--colocated", "yes"]


def stop_server(proc):
    """SIGTERM, then SIGKILL if the server is not gone within 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()


# --acl (issue #18): redis-benchmark logs in as a user whose every command
# is checked (no @dangerous commands, keys only under redis-benchmark's
# own prefixes), created on each server before its runs.
ACL = False
ACL_USER = ["bench", "on", ">benchpw", "+@all", "-@dangerous", "~key:*", "~counter:*",
            "~mylist*", "~myset*", "~myhash*", "~myzset*", "&*"]


def run_test(port, pid, test, opts):
    cmd = ["redis-benchmark", "-p", str(port), "-t", test, "--csv", "-q"] + opts.split()
    if ACL:
        cmd += ["--user", "bench", "-a", "benchpw"]
    before = cpu_seconds(pid)
    t0 = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    wall = time.time() - t0
    cpu = cpu_seconds(pid) - before
    rows = list(csv.reader(line for line in out.splitlines() if line.startswith('"')))
    # The last row is the test itself (lrange_100 is preceded by its fill).
    header, data = rows[0], rows[-1]
    rec = dict(zip(header, data))
    n = int(opts.split("-n ")[1].split()[0])
    return {
        "rps": float(rec["rps"]),
        "p50": float(rec["p50_latency_ms"]),
        "p99": float(rec["p99_latency_ms"]),
        "cpu_us": cpu / n * 1e6,
        "wall": wall,
    }


MONITOR = False


def run_server(name, extra, w, tests, opts, rep):
    """Starts one server, runs each test of workload `w` against it, stops it.
    With --monitor, a `redis-cli monitor` (its output thrown away) watches
    every run."""
    port = free_port()
    import tempfile
    tmp = tempfile.mkdtemp(prefix="tandem-bench-", dir=os.environ.get("BENCH_DIR", "/tmp"))
    argv = [a.replace("{dir}", tmp) for a in SERVERS[name](port) + extra]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    watcher = None
    try:
        wait_port(port, proc)
        if ACL:
            subprocess.run(["redis-cli", "-p", str(port), "ACL", "SETUSER"] + ACL_USER, check=True, stdout=subprocess.DEVNULL)
        if MONITOR:
            watcher = subprocess.Popen(["redis-cli", "-p", str(port), "monitor"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        for t in tests.split(","):
            r = run_test(port, proc.pid, t, opts)
            r.update(workload=w, server=name, test=t, rep=rep)
            rows.append(r)
            print(f"{w} {name:17} {t:5} {r['rps']:>12,.0f} rps  p50 {r['p50']:.3f} ms  p99 {r['p99']:.3f} ms  cpu {r['cpu_us']:.2f} us/req", file=sys.stderr)
    finally:
        if watcher:
            watcher.kill()
            watcher.wait()
        stop_server(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


MEMORY_LOAD = "1,000,000 hashes x 10 fields, 1,000,000 sets x 10 members, one 1,000,000-member sorted set"


def memory_load_file():
    """Writes (once) the RESP commands of MEMORY_LOAD to target/memload.resp."""
    path = os.path.join(ROOT, "target/memload.resp")
    if os.path.exists(path):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)

    def frame(*args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    with open(path + ".tmp", "wb") as f:
        for i in range(1_000_000):
            args = ["HSET", f"hash:{i}"]
            for j in range(10):
                args += [f"field{j}", f"v{i % 1000}_{j}"]
            f.write(frame(*args))
        for i in range(1_000_000):
            f.write(frame("SADD", f"set:{i}", *[f"member{j}" for j in range(10)]))
        for c in range(1000):
            args = ["ZADD", "zset"]
            for j in range(1000):
                n = c * 1000 + j
                args += [str(n % 9973), f"m{n}"]
            f.write(frame(*args))
    os.rename(path + ".tmp", path)
    return path


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_memory(servers):
    """Loads MEMORY_LOAD into each server with redis-cli --pipe; reports RSS."""
    path = memory_load_file()
    rows = []
    for name in servers:
        port = free_port()
        proc = subprocess.Popen(SERVERS[name](port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc)
            before = rss_kib(proc.pid)
            with open(path, "rb") as f:
                subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f, check=True, stdout=subprocess.DEVNULL)
            time.sleep(1)
            keys = subprocess.run(["redis-cli", "-p", str(port), "DBSIZE"], capture_output=True, text=True).stdout.strip()
            rss = rss_kib(proc.pid)
            rows.append((name, before, rss, keys))
            print(f"{name:17} keys {keys}  RSS {before / 1024:.0f} -> {rss / 1024:.0f} MiB", file=sys.stderr)
        finally:
            stop_server(proc)
    base = next((r for r in rows if r[0] == "redis"), None)
    print(f"Memory: {MEMORY_LOAD}")
    print("| server | keys | RSS before MiB | RSS after MiB | ×redis |")
    print("|---|---:|---:|---:|---:|")
    for name, before, rss, keys in rows:
        ratio = f"{rss / base[2]:.2f}" if base else "-"
        print(f"| {name} | {keys} | {before / 1024:.0f} | {rss / 1024:.0f} | {ratio} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workloads", default="W1,W2,W3,W4")
    ap.add_argument("--servers", default="redis,tandem,tandem-colocated")
    ap.add_argument("--quick", action="store_true", help="10x fewer requests")
    ap.add_argument("--extra", default="", help="extra tandem directives, e.g. '--spin-us 0'")
    ap.add_argument("--repeat", type=int, default=1, help="runs per test, servers alternating; the median is reported")
    ap.add_argument("--tests", default="", help="only these tests of each workload, e.g. zadd,spop")
    ap.add_argument("--memory", action="store_true", help="RSS after loading collections instead of throughput")
    ap.add_argument("--monitor", action="store_true", help="one MONITOR client (redis-cli monitor) watches every run")
    ap.add_argument("--acl", action="store_true", help="redis-benchmark runs as a user with ACL restrictions")
    args = ap.parse_args()
    global MONITOR, ACL
    MONITOR = args.monitor
    ACL = args.acl
    if not shutil.which("redis-benchmark") or not shutil.which("redis-server"):
        sys.exit("needs redis-benchmark and redis-server: apt-get install -y redis-tools redis-server")
    if not os.path.exists(SERVERS["tandem"](0)[0]):
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)
    if args.memory:
        return run_memory(args.servers.split(","))
    results = []
    for w in args.workloads.split(","):
        tests, opts = WORKLOADS[w]
        if args.tests:
            tests = ",".join(t for t in tests.split(",") if t in args.tests.split(","))
        if args.quick:
            n = int(opts.split("-n ")[1].split()[0])
            opts = opts.replace(f"-n {n}", f"-n {n // 10}")
        for rep in range(args.repeat):
            for name in args.servers.split(","):
                extra = args.extra.split() if name.startswith("tandem") else []
                results += run_server(name, extra, w, tests, opts, rep)
    os.makedirs(os.path.join(ROOT, "target"), exist_ok=True)
    with open(os.path.join(ROOT, "target/bench.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=["workload", "server", "test", "rep", "rps", "p50", "p99", "cpu_us", "wall"])
        wr.writeheader()
        wr.writerows(results)
    # Median over repetitions of each (workload, server, test).
    groups = {}
    for r in results:
        groups.setdefault((r["workload"], r["server"], r["test"]), []).append(r)
    med = lambda rs, k: sorted(x[k] for x in rs)[len(rs) // 2]
    results = [dict(workload=w, server=sv, test=t, **{k: med(rs, k) for k in ("rps", "p50", "p99", "cpu_us", "wall")}) for (w, sv, t), rs in groups.items()]
    base = {(r["workload"], r["test"]): r for r in results if r["server"] == "redis"}
    print("| workload | server | test | requests/s | ×redis | p50 ms | p99 ms | CPU µs/req | ×redis |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        b = base.get((r["workload"], r["test"]))
        rr = f"{r['rps'] / b['rps']:.2f}" if b else "-"
        cr = f"{r['cpu_us'] / b['cpu_us']:.2f}" if b and b["cpu_us"] > 0 else "-"
        print(f"| {r['workload']} | {r['server']} | {r['test']} | {r['rps']:,.0f} | {rr} | {r['p50']:.3f} | {r['p99']:.3f} | {r['cpu_us']:.2f} | {cr} |")


if __name__ == "__main__":
    main()
