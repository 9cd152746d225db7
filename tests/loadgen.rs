//! The load generator (`tandem-loadgen`) against the real server and
//! against a deliberately stalling fixture, each time side by side with
//! redis-benchmark:
//! - closed loop, both tools run the same server-bound workload without an
//!   error; how close their throughputs are is a figure, not an assertion
//!   (`tools/loadgen-agreement.sh` runs the paired measurement and prints
//!   it for BENCHMARKS.md);
//! - open loop against a server that stalls 100 ms every second, the
//!   loadgen's p99.9 shows the stall (a load can only make it larger),
//!   while redis-benchmark's max proves it ran into the stalls too.
mod common;
use common::output_within;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::Server;

/// The tests here measure; one at a time, so neither loads the other's CPU.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the load generator with `args` (split at spaces) and returns its
/// JSON summary.
fn loadgen(port: u16, args: &str) -> serde_json::Value {
    let dir = tempdir();
    let json = dir.join(format!("loadgen-{port}-{}.json", fastrand::u64(..)));
    let out = output_within(
        Command::new(env!("CARGO_BIN_EXE_tandem-loadgen"))
            .args(["-p", &port.to_string(), "--json", json.to_str().unwrap()])
            .args(args.split_whitespace()),
        300,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tandem-loadgen failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_file(json);
    v
}

fn tempdir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What redis-benchmark printed, parsed: rps, p99.9 and max in ms.
#[derive(Debug)]
struct Bench {
    rps: f64,
    /// Shown in the stall test's message (Debug), not asserted.
    #[allow(dead_code)]
    p999_ms: f64,
    max_ms: f64,
}

/// Runs redis-benchmark with `args` (split at spaces; full output: it
/// prints the latency distribution, from which p99.9 is read) and parses it.
fn redis_benchmark(port: u16, pin: Option<&str>, args: &str) -> Bench {
    let mut cmd = match pin {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpu, "redis-benchmark"]);
            c
        }
        None => Command::new("redis-benchmark"),
    };
    let out = output_within(
        cmd.args(["-p", &port.to_string()])
            .args(args.split_whitespace()),
        300,
    );
    assert!(out.status.success(), "redis-benchmark failed");
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "\n");
    let mut rps = None;
    let mut p999 = None;
    let mut max = None;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim();
        // "99.900% <= 0.807 milliseconds (cumulative count 99925)"
        if p999.is_none() {
            if let Some((pct, rest)) = t.split_once("% <= ") {
                if pct.parse::<f64>().is_ok_and(|p| p >= 99.9) {
                    p999 = rest.split_whitespace().next().and_then(|v| v.parse().ok());
                }
            }
        }
        // "latency summary (msec):" / "avg min p50 p95 p99 max" / values
        if t.starts_with("latency summary") {
            let header: Vec<String> = lines
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(String::from)
                .collect();
            let values: Vec<f64> = lines
                .next()
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            if let Some(i) = header.iter().position(|h| h == "max") {
                max = values.get(i).copied();
            }
        }
        // "  throughput summary: 90579.71 requests per second"
        if let Some(v) = t.strip_prefix("throughput summary:") {
            rps = v.split_whitespace().next().and_then(|v| v.parse().ok());
        }
    }
    Bench {
        rps: rps.unwrap_or_else(|| panic!("no throughput in redis-benchmark output:\n{text}")),
        p999_ms: p999.unwrap_or_else(|| panic!("no p99.9 in redis-benchmark output:\n{text}")),
        max_ms: max.unwrap_or_else(|| panic!("no max in redis-benchmark output:\n{text}")),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Closed loop, SET of 1 KiB values, 50 connections, pipeline 16: a
/// workload on which the single server thread (pinned to core 0) is the
/// bottleneck and each client, on core 1, stays below its core (redis-
/// benchmark ~80%, loadgen ~55%). Where redis-benchmark saturates its core
/// (pipeline 1, or 16-byte values at >1M req/s against tandem) it measures
/// itself rather than the server, and the two are not comparable.
///
/// By default one short pair checks that both tools run the workload
/// cleanly. With `TANDEM_MEASURE=1` (`tools/loadgen-agreement.sh`) it runs
/// five 3 s pairs and prints the median ratio; a ratio is a figure for
/// BENCHMARKS.md, never asserted (it moves with the machine's load).
#[test]
fn closed_loop_throughput_agrees_with_redis_benchmark() {
    let measure = std::env::var_os("TANDEM_MEASURE").is_some();
    let (pairs, secs) = if measure { (5, 3) } else { (1, 1) };
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let srv = Server::start(&[
        "--colocated",
        "yes",
        "--cpus",
        "0",
        "--latency-tracking",
        "no",
    ]);
    // Five pairs of 3 s runs, alternating which tool goes first; each
    // pair's ratio is taken under the same machine conditions (single runs
    // here move by ±10% and more with the neighbours' load: pair ratios
    // spread over 0.93-1.13), and the median of the pair ratios is checked.
    // Runs of 1 s favour the loadgen by ~5%: redis-benchmark's clock also
    // covers connecting its clients.
    // Fill the keyspace first, so no measured run pays for the allocation
    // of the first 100k values.
    loadgen(
        srv.port,
        "--closed-loop -c 50 -P 16 --mix set:1 -r 100000 -d 1024 --warmup 0 --duration 1 --cpus 1",
    );
    let mut ratios = Vec::new();
    let mut last = 0.0;
    for pair in 0..pairs {
        let ours = || {
            let v = loadgen(
                srv.port,
                &format!(
                    "--closed-loop -c 50 -P 16 --mix set:1 -r 100000 -d 1024 --warmup 0 --duration {secs} --cpus 1"
                ),
            );
            assert_eq!(v["errors"], 0);
            assert_eq!(v["lost_connections"], 0);
            let rps = v["achieved_rps"].as_f64().unwrap();
            assert!(rps > 0.0, "{v}");
            rps
        };
        // About as many requests as the loadgen serves in the same time.
        let theirs = |rate: f64| {
            let n =
                ((rate * secs as f64) as u64 / 16 * 16).max(if measure { 100_000 } else { 16_000 });
            redis_benchmark(
                srv.port,
                Some("1"),
                &format!("-t set -c 50 -P 16 -r 100000 -d 1024 -n {n} --threads 1"),
            )
            .rps
        };
        // Pair 0 runs the loadgen first, so `last` (the rate that sizes
        // redis-benchmark's run) is known from then on.
        let (o, t) = if pair % 2 == 0 {
            let o = ours();
            (o, theirs(o))
        } else {
            let t = theirs(last);
            (ours(), t)
        };
        last = o;
        eprintln!(
            "pair {pair}: loadgen {o:.0} req/s, redis-benchmark {t:.0} req/s, ratio {:.3}",
            o / t
        );
        ratios.push(o / t);
    }
    let r = median(ratios.clone());
    eprintln!(
        "closed loop throughput ratio loadgen/redis-benchmark: median {r:.3} of {ratios:.3?}"
    );
    srv.assert_alive();
}

/// Every command of the mix goes out well-formed (no error replies from a
/// real server), keys are named as redis-benchmark names them, and the
/// flags are checked.
#[test]
fn every_mix_command_is_served() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let srv = Server::start(&["--io-threads", "1", "--shards", "2"]);
    let v = loadgen(
        srv.port,
        "--closed-loop -c 4 -P 8 -r 1000 -d 32 --warmup 0 --duration 0.5 \
         --mix ping:1,set:1,get:1,incr:1,lpush:1,rpush:1,lpop:1,rpop:1,sadd:1,hset:1,zadd:1",
    );
    assert_eq!(v["errors"], 0, "{v}");
    assert_eq!(v["lost_connections"], 0);
    assert!(v["completed"].as_u64().unwrap() > 1000, "{v}");
    let mut c = srv.conn();
    for (pattern, kind) in [
        ("key:*", "string"),
        ("counter:*", "string"),
        ("set:*", "set"),
        ("hash:*", "hash"),
        ("zset:*", "zset"),
    ] {
        let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query(&mut c).unwrap();
        assert!(!keys.is_empty(), "no {pattern} keys");
        for k in keys.iter().take(5) {
            let digits = k.split_once(':').unwrap().1;
            assert!(
                digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()),
                "{k}"
            );
            assert!(
                digits.parse::<u64>().unwrap() < 1000,
                "{k} outside the keyspace"
            );
            let t: String = redis::cmd("TYPE").arg(k).query(&mut c).unwrap();
            assert_eq!(t, kind, "{k}");
        }
    }
    let bad = output_within(
        Command::new(env!("CARGO_BIN_EXE_tandem-loadgen")).args([
            "-p",
            &srv.port.to_string(),
            "--mix",
            "flushall:1",
        ]),
        60,
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown command 'flushall'"));
}

/// A RESP server fixture that stops answering for `stall` at the start of
/// every `period` (measured from its start), like a server with a periodic
/// 100 ms pause (a fork, a big DEL, a page-fault storm). It answers every
/// command with +OK, except CONFIG (redis-benchmark's start-up probe) with
/// an empty array.
struct Staller {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Staller {
    fn start(stall: Duration, period: Duration) -> Staller {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let t0 = Instant::now();
        let flag = stop.clone();
        let accept = std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let flag = flag.clone();
                        conns.push(std::thread::spawn(move || {
                            serve(s, flag, t0, stall, period)
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            for c in conns {
                let _ = c.join();
            }
        });
        Staller {
            port,
            stop,
            accept: Some(accept),
        }
    }
}

impl Drop for Staller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn serve(mut s: TcpStream, stop: Arc<AtomicBool>, t0: Instant, stall: Duration, period: Duration) {
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match s.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        }
        // The stall: inside the first `stall` of a period, nothing is
        // answered until it ends.
        let phase = Duration::from_nanos((t0.elapsed().as_nanos() % period.as_nanos()) as u64);
        if phase < stall {
            std::thread::sleep(stall - phase);
        }
        let mut at = 0;
        while let Some((len, name)) = request(&buf[at..]) {
            at += len;
            out.extend_from_slice(if name.eq_ignore_ascii_case(b"config") {
                b"*0\r\n"
            } else {
                b"+OK\r\n"
            });
        }
        buf.drain(..at);
        if s.write_all(&out).is_err() {
            return;
        }
        out.clear();
    }
}

/// Length and command name of one complete RESP array request at the front
/// of `b`, or None if incomplete.
fn request(b: &[u8]) -> Option<(usize, Vec<u8>)> {
    fn line(b: &[u8], at: usize) -> Option<(usize, usize)> {
        let nl = b[at..].iter().position(|&c| c == b'\n')?;
        let n = std::str::from_utf8(&b[at + 1..at + nl - 1])
            .ok()?
            .parse()
            .ok()?;
        Some((n, at + nl + 1))
    }
    if b.first() != Some(&b'*') {
        return None;
    }
    let (argc, mut at) = line(b, 0)?;
    let mut name = Vec::new();
    for i in 0..argc {
        let (len, start) = line(b, at)?;
        if b.len() < start + len + 2 {
            return None;
        }
        if i == 0 {
            name = b[start..start + len].to_vec();
        }
        at = start + len + 2;
    }
    Some((at, name))
}

#[test]
fn open_loop_p999_shows_a_stall_that_redis_benchmark_hides() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fixture = Staller::start(Duration::from_millis(100), Duration::from_secs(1));
    // Open loop: 5000 req/s over 3 s spans at least two full stalls; every
    // request scheduled during one waits for its end, ~10% of them.
    let v = loadgen(
        fixture.port,
        "--rate 5000 -c 10 -P 1 --mix set:1 --warmup 0.2 --duration 3",
    );
    assert_eq!(v["errors"], 0);
    assert_eq!(v["timeouts"], 0);
    let ours = v["latency_us"]["p99.9"].as_f64().unwrap() / 1000.0;
    let ours_p50 = v["latency_us"]["p50"].as_f64().unwrap() / 1000.0;
    // Closed loop, the same 10 connections: during a stall only the 10
    // requests in flight wait; the clients send nothing else, so those are
    // a tiny share of all requests.
    let theirs = redis_benchmark(fixture.port, None, "-t set -c 10 -P 1 -n 200000");
    eprintln!(
        "stall fixture: loadgen p50 {ours_p50:.3} ms p99.9 {ours:.3} ms; redis-benchmark {theirs:?}"
    );
    assert!(
        theirs.max_ms >= 50.0,
        "redis-benchmark never ran into a stall (max {} ms): fixture broken?",
        theirs.max_ms
    );
    // A loaded machine can only make the loadgen's tail longer, so this
    // bound cannot flake; redis-benchmark hiding the stall (its p99.9 far
    // below it) is a figure, printed above, since load can raise it too.
    assert!(
        ours >= 50.0,
        "loadgen p99.9 {ours} ms does not show the 100 ms stall"
    );
}
