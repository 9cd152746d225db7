//! Hostile-clients soak (issue #11): many connections sending malformed
//! frames, giant declared lengths, half-closed sockets, clients that never
//! read, connect/disconnect storms, slow senders and pathological patterns,
//! while well-behaved clients keep writing and checking their own keys on
//! every shard. At the end every acknowledged write is readable, the
//! process is alive and logged no panic, and its RSS came back to within
//! 10% of where it started.
//!
//! `cargo test` runs it for a few seconds; `tools/soak.sh [seconds]` (or
//! `TANDEM_SOAK_SECS`) runs it as long as asked (the figure is 10
//! minutes) and prints what it did.

mod common;
use common::*;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Resident set size of a process, bytes.
/// Resident bytes of `pid`, counted page by page (`smaps_rollup`'s Rss).
/// Not `status`'s VmRSS: that one sums counters each thread keeps and
/// folds in lazily, and it read 105 MiB here while the pages summed to
/// 55 MiB (a full-suite run, a thread that freed what another faulted in).
fn rss(pid: u32) -> u64 {
    let field = |file: &str, name: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/{file}"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(name).map(str::to_string))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    };
    field("smaps_rollup", "Rss:")
        .or_else(|| field("status", "VmRSS:"))
        .unwrap_or(0)
}

/// Counters of what the hostile clients did, for the report.
#[derive(Default)]
struct Tally {
    malformed: AtomicU64,
    giant: AtomicU64,
    half_closed: AtomicU64,
    never_read: AtomicU64,
    storm: AtomicU64,
    slow: AtomicU64,
    patterns: AtomicU64,
    good_writes: AtomicU64,
    good_checks: AtomicU64,
}

fn connect(port: u16) -> Option<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(10))).ok()?;
    Some(s)
}

/// Reads whatever comes until EOF, an error or `limit` bytes.
fn drain(s: &mut TcpStream, limit: usize) -> usize {
    let mut buf = [0u8; 16384];
    let mut n = 0;
    while n < limit {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

/// Spawns a hostile loop that runs `f(rng)` until `stop`.
fn hostile(
    stop: &Arc<AtomicBool>,
    seed: u64,
    f: impl Fn(&mut fastrand::Rng) + Send + 'static,
) -> JoinHandle<()> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut rng = fastrand::Rng::with_seed(seed);
        while !stop.load(Ordering::Relaxed) {
            f(&mut rng);
        }
    })
}

fn soak(secs: u64) {
    let s = Server::start(&["--io-threads", "2", "--shards", "3"]);
    let port = s.port;
    let pid = s.child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());

    // A value the never-reading clients ask for over and over.
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "soak:big", &"b".repeat(100_000)]).unwrap();
    let _: () = q(&mut c, &["SET", &"a".repeat(60), "v"]).unwrap();
    for i in 0..200 {
        let _: () = q(&mut c, &["SADD", "soak:set", &i.to_string()]).unwrap();
    }

    // Well-behaved writers: each owns its keys (spread over every shard),
    // remembers the last acknowledged value of each, and checks them.
    let writers: Vec<JoinHandle<HashMap<String, String>>> = (0..4)
        .map(|w| {
            let stop = stop.clone();
            let tally = tally.clone();
            let url = s.url();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut rng = fastrand::Rng::with_seed(w);
                let mut acked: HashMap<String, String> = HashMap::new();
                let mut version = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    version += 1;
                    let k = format!("good:{w}:{}", rng.u32(..400));
                    let v = format!("{w}-{version}-{}", "x".repeat(rng.usize(..200)));
                    if rng.u8(..10) == 0 {
                        // MSET of several own keys (several shards).
                        let k2 = format!("good:{w}:{}", rng.u32(..400));
                        let _: () = q(&mut c, &["MSET", &k, &v, &k2, &v]).unwrap();
                        acked.insert(k2, v.clone());
                    } else {
                        let _: () = q(&mut c, &["SET", &k, &v]).unwrap();
                    }
                    acked.insert(k.clone(), v);
                    tally.good_writes.fetch_add(1, Ordering::Relaxed);
                    if version % 16 == 0 {
                        let probe = format!("good:{w}:{}", rng.u32(..400));
                        let got: Option<String> = q(&mut c, &["GET", &probe]).unwrap();
                        assert_eq!(got.as_ref(), acked.get(&probe), "writer {w}: {probe}");
                        tally.good_checks.fetch_add(1, Ordering::Relaxed);
                    }
                }
                acked
            })
        })
        .collect();
    // Warm up before taking the baseline: every receive lands in the next
    // of each IO thread's 1024 provided 16 KiB buffers, which become
    // resident only once the kernel has filled them (32 MiB here), so
    // send enough big requests through both IO threads first.
    let warm: Vec<JoinHandle<()>> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                let mut s = connect(port).unwrap();
                let v = vec![b'w'; 64 << 10];
                let mut b = [0u8; 5];
                for _ in 0..60 {
                    s.write_all(&frame(&[b"SET", format!("warm{i}").as_bytes(), &v]))
                        .unwrap();
                    s.read_exact(&mut b).unwrap();
                }
            })
        })
        .collect();
    for w in warm {
        w.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let baseline = rss(pid);
    let used = |c: &mut redis::Connection| -> u64 {
        let info: String = q(c, &["INFO", "memory"]).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let used_start = used(&mut c);

    let mut threads = Vec::new();
    // Malformed frames: random bytes, broken headers, wrong types.
    let t = tally.clone();
    threads.push(hostile(&stop, 1, move |rng| {
        let Some(mut s) = connect(port) else { return };
        // Junk that is only an unfinished frame gets no answer: give up soon.
        let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
        let junk: Vec<u8> = match rng.u8(..4) {
            0 => (0..rng.usize(1..512)).map(|_| rng.u8(..)).collect(),
            1 => b"*2\r\n+notbulk\r\n".to_vec(),
            2 => b"*abc\r\n".to_vec(),
            _ => format!("*1\r\n${}\r\nxy\r\n", rng.i64(-5..0)).into_bytes(),
        };
        let _ = s.write_all(&junk);
        drain(&mut s, 1 << 16);
        t.malformed.fetch_add(1, Ordering::Relaxed);
    }));
    // Giant declared lengths, then silence or a close.
    let t = tally.clone();
    threads.push(hostile(&stop, 2, move |rng| {
        let Some(mut s) = connect(port) else { return };
        let frame = match rng.u8(..3) {
            0 => b"*1\r\n$536870000\r\nabc".to_vec(),
            1 => b"*2147483647\r\n$3\r\nSET\r\n".to_vec(),
            _ => b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$400000000\r\n".to_vec(),
        };
        let _ = s.write_all(&frame);
        std::thread::sleep(Duration::from_millis(rng.u64(..20)));
        t.giant.fetch_add(1, Ordering::Relaxed);
    }));
    // Half-closed: send, shut the write side, read every reply.
    let t = tally.clone();
    threads.push(hostile(&stop, 3, move |rng| {
        let Some(mut s) = connect(port) else { return };
        let k = format!("hc:{}", rng.u32(..1000));
        let req = [
            frame(&[b"SET", k.as_bytes(), b"v"]),
            frame(&[b"GET", k.as_bytes()]),
        ]
        .concat();
        let _ = s.write_all(&req);
        let _ = s.shutdown(Shutdown::Write);
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        assert_eq!(
            got, b"+OK\r\n$1\r\nv\r\n",
            "half-closed client lost its replies"
        );
        t.half_closed.fetch_add(1, Ordering::Relaxed);
    }));
    // Never reads: asks for megabytes, then vanishes.
    let t = tally.clone();
    threads.push(hostile(&stop, 4, move |rng| {
        let Some(mut s) = connect(port) else { return };
        let mut req = Vec::new();
        for _ in 0..rng.usize(50..400) {
            req.extend(frame(&[b"GET", b"soak:big"]));
        }
        let _ = s.write_all(&req);
        std::thread::sleep(Duration::from_millis(rng.u64(50..300)));
        t.never_read.fetch_add(1, Ordering::Relaxed);
    }));
    // Connect/disconnect storm.
    let t = tally.clone();
    threads.push(hostile(&stop, 5, move |_| {
        for _ in 0..50 {
            if let Some(s) = connect(port) {
                drop(s);
                t.storm.fetch_add(1, Ordering::Relaxed);
            }
        }
    }));
    // Slow sender: one byte at a time.
    let t = tally.clone();
    threads.push(hostile(&stop, 6, move |_| {
        let Some(mut s) = connect(port) else { return };
        for b in frame(&[b"PING", b"slowly"]) {
            if s.write_all(&[b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut want = [0u8; 12];
        if s.read_exact(&mut want).is_ok() {
            assert_eq!(&want, b"$6\r\nslowly\r\n");
        }
        t.slow.fetch_add(1, Ordering::Relaxed);
    }));
    // Pathological patterns and client-sized replies.
    let t = tally.clone();
    threads.push(hostile(&stop, 7, move |rng| {
        let Some(mut s) = connect(port) else { return };
        let cmd: Vec<&[u8]> = match rng.u8(..5) {
            0 => vec![b"KEYS", b"*a*a*a*a*a*a*a*a*a*a*b"],
            1 => vec![
                b"SCAN",
                b"0",
                b"MATCH",
                b"*a*a*a*a*a*a*a*a*a*a*b",
                b"COUNT",
                b"1000",
            ],
            2 => vec![b"SRANDMEMBER", b"soak:set", b"-9223372036854775807"],
            3 => vec![b"SRANDMEMBER", b"soak:set", b"-100000"],
            _ => vec![
                b"SSCAN",
                b"soak:set",
                b"0",
                b"COUNT",
                b"9223372036854775807",
            ],
        };
        let _ = s.write_all(&frame(&cmd));
        drain(&mut s, 1);
        t.patterns.fetch_add(1, Ordering::Relaxed);
    }));
    // An idle crowd of connections held open throughout.
    let crowd: Vec<TcpStream> = (0..300).filter_map(|_| connect(port)).collect();

    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join()
            .expect("a hostile client thread failed its own check");
    }
    drop(crowd);
    let mut acked = HashMap::new();
    for w in writers {
        acked.extend(w.join().expect("a writer saw a wrong value"));
    }
    // Every acknowledged write is readable.
    let mut c = s.conn();
    for (k, v) in &acked {
        let got: Option<String> = q(&mut c, &["GET", k]).unwrap();
        assert_eq!(got.as_ref(), Some(v), "{k}");
    }
    s.assert_alive();
    // RSS back within 10% of the start, beyond what the good writers
    // stored, once the hostile clients are gone (their buffers are freed
    // when their connections close).
    let grown = used(&mut c).saturating_sub(used_start);
    let bound = baseline + grown + baseline / 10;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut now = rss(pid);
    while now > bound && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        // A server that still serves (one INFO a round): freed memory of
        // a thread goes back at that thread's collection, which an idle
        // shard or IO thread may not reach for a while; a run that only
        // waited sometimes saw 95 MiB for 30 s that the next command
        // brought down to 55 MiB.
        let _ = used(&mut c);
        now = rss(pid);
    }
    let log = std::fs::read_to_string(format!(
        "{}/target/test-logs/{port}.log",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default();
    let used_end = used(&mut c);
    eprintln!(
        "soak {secs} s: {} good writes, {} checks, {} acked keys verified; hostile: {} malformed, {} giant, {} half-closed, {} never-read, {} storm connects, {} slow, {} patterns; RSS {} -> {} KiB; used_memory {} -> {} KiB",
        tally.good_writes.load(Ordering::Relaxed),
        tally.good_checks.load(Ordering::Relaxed),
        acked.len(),
        tally.malformed.load(Ordering::Relaxed),
        tally.giant.load(Ordering::Relaxed),
        tally.half_closed.load(Ordering::Relaxed),
        tally.never_read.load(Ordering::Relaxed),
        tally.storm.load(Ordering::Relaxed),
        tally.slow.load(Ordering::Relaxed),
        tally.patterns.load(Ordering::Relaxed),
        baseline / 1024,
        now / 1024,
        used_start / 1024,
        used_end / 1024,
    );
    assert!(!log.contains("panicked"), "a thread panicked");
    // What the server still holds: the allocator's live bytes, back to the
    // start plus what the good writers stored (5 MiB here: 1600 keys, the
    // lists and sets they grew), with room to spare but far below one
    // never-read client's queued replies (up to 40 MB) or a giant frame's
    // declared length.
    assert!(
        used_end <= used_start + (16 << 20),
        "used_memory {} KiB, started at {} KiB",
        used_end / 1024,
        used_start / 1024
    );
    assert!(
        now <= bound,
        "RSS {} KiB, started at {} KiB, bound {} KiB; used_memory {} KiB; {}",
        now / 1024,
        baseline / 1024,
        bound / 1024,
        used_end / 1024,
        smaps(pid)
    );
}

/// The resident-memory lines of /proc/<pid>/smaps_rollup, for a failure
/// message (huge pages, anonymous and file-backed parts).
fn smaps(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            [
                "Rss:",
                "Anonymous:",
                "AnonHugePages:",
                "Shared_",
                "Private_",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn hostile_clients_soak() {
    let secs = std::env::var("TANDEM_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    soak(secs);
}
