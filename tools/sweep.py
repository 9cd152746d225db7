#!/usr/bin/env python3
"""Stage-split latency sweep: tandem under every configuration of a matrix,
redis-server under the same load as the reference, one CSV row per run.

    python3 tools/sweep.py                        # default matrix, < 10 min on 2 cores
    python3 tools/sweep.py --quick                # a 2-configuration smoke sweep (~30 s)
    python3 tools/sweep.py --matrix lab.json --out lab/mine.csv

The matrix (JSON; keys as in DEFAULT below) is crossed in full:
layouts (io-threads, shards, colocated) x cpus plans x spin policies give
the server configurations; for each, and for redis-server, every pipeline
depth gets
  - one closed-loop tandem-loadgen run (the most the pair can do),
  - one redis-benchmark run of about the same length (closed loop too),
  - one open-loop tandem-loadgen run per offered rate.
Each row holds the configuration, the tool, offered and achieved rate,
latency percentiles (us; open loop from intended send time), errors,
server CPU time per request (us, utime+stime from /proc), tandem's
per-stage p50/p99 (INFO tandem, reset before each run) and the latency CDF
("percentile:us;..."), plus the machine it ran on for the plots' labels.
`cargo run --release --bin tandem-report -- <csv>` turns it into plots.
"""
import argparse
import csv
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import cpu_seconds, free_port, wait_port  # noqa: E402  (tools/bench.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The binaries (`cargo build --release`); the environment may point
# elsewhere (tests/report.rs passes cargo's own paths).
TANDEM = os.environ.get("TANDEM_BIN", os.path.join(ROOT, "target/release/tandem"))
LOADGEN = os.environ.get("LOADGEN_BIN", os.path.join(ROOT, "target/release/tandem-loadgen"))

# Layouts name the thread shape; cpus plans: a core list for the `cpus`
# directive, or "none" for `pin no`. spin_us: how long an idle stage spins
# before parking (0 = park at once).
DEFAULT = {
    "layouts": [
        {"name": "split", "io_threads": 1, "shards": 1, "colocated": False},
        {"name": "colocated", "io_threads": 1, "shards": 1, "colocated": True},
    ],
    "cpus": ["0,1", "none"],
    "spin_us": [20, 0],
    "pipeline": [1, 16],
    "rates": [20000, 50000, 100000, 200000, 400000],
    "connections": 50,
    "warmup_s": 0.5,
    "duration_s": 1.5,
    "drain_s": 2.0,
    "mix": "set:1,get:1",
    "value_size": 16,
    "keyspace": 100000,
    "latency_sample_every": 64,
    "reference": True,
}

QUICK = dict(
    DEFAULT,
    layouts=DEFAULT["layouts"],
    cpus=["0,1"],
    spin_us=[20],
    pipeline=[4],
    rates=[20000, 60000],
    warmup_s=0.2,
    duration_s=0.6,
    drain_s=1.0,
)

COLUMNS = [
    "run", "machine", "server", "config", "io_threads", "shards", "colocated",
    "cpus", "spin_us", "pipeline", "connections", "tool", "offered_rps",
    "achieved_rps", "completed", "errors", "timeouts", "mean_us", "p50_us",
    "p90_us", "p99_us", "p99.9_us", "p99.99_us", "max_us",
    "server_cpu_us_per_req", "stages", "cdf",
]

STAGES = ["parse", "batch", "queue", "execute", "handback", "write"]


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()}-core {model}, Linux {platform.release()}"


class Server:
    """One server process on an ephemeral port; stopped on exit."""

    def __init__(self, argv_for_port):
        self.port = free_port()
        self.proc = subprocess.Popen(argv_for_port(self.port), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port, self.proc)
        except RuntimeError:
            self.stop()
            raise

    def command(self, *args):
        """Sends one command with redis-cli, returns its text output."""
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, timeout=10).stdout

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def stages(text):
    """`stage_parse_usec:p50=..,p99=..` lines of INFO tandem -> 'parse:p50:p99;...'."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("stage_") and ":" in line:
            name = line[len("stage_"):].split("_usec")[0]
            vals = dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))
            out.append(f"{name}:{vals.get('p50', '')}:{vals.get('p99', '')}")
    return ";".join(out)


def run_loadgen(port, m, pipeline, rate=None):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as t:
        path = t.name
    cmd = [LOADGEN, "-p", str(port), "-c", str(m["connections"]), "-P", str(pipeline),
           "--mix", m["mix"], "-d", str(m["value_size"]), "-r", str(m["keyspace"]),
           "--warmup", str(m["warmup_s"]), "--duration", str(m["duration_s"]),
           "--drain", str(m["drain_s"]), "--json", path]
    cmd += ["--closed-loop"] if rate is None else ["--rate", str(rate)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, timeout=120)
    with open(path) as f:
        doc = json.load(f)
    os.unlink(path)
    lat = doc["latency_us"]
    return {
        "tool": "loadgen-closed" if rate is None else "loadgen-open",
        "offered_rps": "" if rate is None else rate,
        "achieved_rps": round(doc["achieved_rps"], 1),
        "completed": doc["completed"],
        "errors": doc["errors"],
        "timeouts": doc["timeouts"],
        "mean_us": round(lat["mean"], 2),
        "p50_us": lat["p50"], "p90_us": lat["p90"], "p99_us": lat["p99"],
        "p99.9_us": lat["p99.9"], "p99.99_us": lat["p99.99"], "max_us": lat["max"],
        "cdf": ";".join(f"{p:.5f}:{v}" for p, v in doc["cdf_us"]),
        "_requests": doc["sent"],
    }


def run_redis_benchmark(port, m, pipeline, requests):
    tests = sorted({part.split(":")[0] for part in m["mix"].split(",")})
    cmd = ["redis-benchmark", "-p", str(port), "-c", str(m["connections"]), "-P", str(pipeline),
           "-d", str(m["value_size"]), "-r", str(m["keyspace"]), "-n", str(requests),
           "-t", ",".join(tests), "--csv", "-q"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=300).stdout
    rows = list(csv.reader(line for line in out.splitlines() if line.startswith('"')))
    header, data = rows[0], rows[1:]
    recs = [dict(zip(header, d)) for d in data]
    # One row per test: the mean rate over the tests, worst percentiles.
    ms = lambda k: max(float(r[k]) for r in recs) * 1000
    return {
        "tool": "redis-benchmark",
        "offered_rps": "",
        "achieved_rps": round(sum(float(r["rps"]) for r in recs) / len(recs), 1),
        "completed": requests * len(recs),
        "errors": 0, "timeouts": 0,
        "mean_us": round(max(float(r["avg_latency_ms"]) for r in recs) * 1000, 2),
        "p50_us": ms("p50_latency_ms"), "p90_us": "", "p99_us": ms("p99_latency_ms"),
        "p99.9_us": "", "p99.99_us": "", "max_us": ms("max_latency_ms"),
        "cdf": "",
        "_requests": requests * len(recs),
    }


def configs(m):
    for layout, cpus, spin in itertools.product(m["layouts"], m["cpus"], m["spin_us"]):
        args = ["--io-threads", str(layout["io_threads"]), "--shards", str(layout["shards"]),
                "--colocated", "yes" if layout["colocated"] else "no", "--spin-us", str(spin),
                "--latency-sample-every", str(m["latency_sample_every"])]
        args += ["--pin", "no"] if cpus == "none" else ["--cpus", cpus]
        name = f"{layout['name']} cpus={cpus} spin={spin}us"
        yield name, layout, cpus, spin, args


def sweep(m, out_path, log):
    if "TANDEM_BIN" not in os.environ:
        # Fresh binaries of this checkout (a no-op when up to date).
        subprocess.run(["cargo", "build", "--release", "--bins", "-q"], cwd=ROOT, check=True)
    for exe in (TANDEM, LOADGEN):
        if not os.access(exe, os.X_OK):
            sys.exit(f"{exe} missing: run `cargo build --release` first")
    if not shutil.which("redis-benchmark") or not shutil.which("redis-cli"):
        sys.exit("redis-benchmark/redis-cli missing: apt-get install redis-tools")
    servers = []
    for name, layout, cpus, spin, args in configs(m):
        servers.append((name, "tandem", layout, cpus, spin,
                        lambda port, args=args: [TANDEM, "--port", str(port), "--save", ""] + args))
    if m.get("reference", True):
        if not shutil.which("redis-server"):
            sys.exit("redis-server missing for the reference runs: apt-get install redis-server (or set \"reference\": false)")
        servers.append(("redis-server", "redis", {"io_threads": "", "shards": "", "colocated": ""}, "", "",
                        lambda port: ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]))
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    mach = machine()
    started = time.time()
    run = 0
    with open(out_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for name, kind, layout, cpus, spin, argv in servers:
            with Server(argv) as srv:
                for pipeline in m["pipeline"]:
                    def measure(fn):
                        nonlocal run
                        if kind == "tandem":
                            srv.command("CONFIG", "RESETSTAT")
                        before = cpu_seconds(srv.proc.pid)
                        row = fn()
                        cpu = cpu_seconds(srv.proc.pid) - before
                        run += 1
                        row.update(
                            run=run, machine=mach, server=kind, config=name,
                            io_threads=layout["io_threads"], shards=layout["shards"],
                            colocated=layout["colocated"], cpus=cpus, spin_us=spin,
                            pipeline=pipeline, connections=m["connections"],
                            server_cpu_us_per_req=round(cpu / max(row.pop("_requests"), 1) * 1e6, 3),
                            stages=stages(srv.command("INFO", "tandem")) if kind == "tandem" else "",
                        )
                        w.writerow(row)
                        f.flush()
                        print(f"[{time.time() - started:6.1f}s] {name:32} P={pipeline:<3} {row['tool']:15} "
                              f"offered {str(row['offered_rps']):>7} achieved {row['achieved_rps']:>11,.0f} "
                              f"p99 {row['p99_us']} us", file=log)
                        return row

                    closed = measure(lambda: run_loadgen(srv.port, m, pipeline))
                    n = int(closed["achieved_rps"] * m["duration_s"]) // pipeline * pipeline
                    measure(lambda: run_redis_benchmark(srv.port, m, pipeline, max(n, 10 * pipeline * m["connections"])))
                    for rate in m["rates"]:
                        measure(lambda: run_loadgen(srv.port, m, pipeline, rate))
    print(f"{run} runs in {time.time() - started:.0f} s -> {out_path}", file=log)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--matrix", help="JSON file overriding keys of the default matrix")
    ap.add_argument("--quick", action="store_true", help="a small matrix for a smoke run")
    ap.add_argument("--no-reference", action="store_true", help="skip the redis-server reference runs")
    ap.add_argument("--out", default=os.path.join(ROOT, "lab/results.csv"), help="CSV to write")
    a = ap.parse_args()
    m = dict(QUICK if a.quick else DEFAULT)
    if a.matrix:
        with open(a.matrix) as f:
            m.update(json.load(f))
    if a.no_reference:
        m["reference"] = False
    sweep(m, a.out, sys.stderr)


if __name__ == "__main__":
    main()
