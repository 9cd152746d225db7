//! Cross-shard atomicity and isolation (issue #12): commands whose keys
//! live on several shards run as transactions, so no client observes one
//! half done, and racing transactions stay all-or-nothing. Every check is
//! bounded in time and count, and runs under three layouts: one IO thread
//! and three shards, two IO threads and three shards (where races show:
//! the shards see the IO threads' batches in different orders), and
//! colocated.

mod common;
use common::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Writers MSET three keys on three shards to one value; readers MGET
/// them and must never see two different values.
#[test]
fn mset_and_mget_are_isolated() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let keys = spread("iso", 3);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in 0..3 {
            let keys = keys.clone();
            threads.push(spawn_until(&stop, s.url(), 0, move |c, n| {
                let v = format!("w{w}-{n}");
                let args: Vec<&str> = keys.iter().flat_map(|k| [k.as_str(), v.as_str()]).collect();
                let mut cmd = redis::cmd("MSET");
                cmd.arg(&args);
                let _: () = cmd.query(c).unwrap();
            }));
        }
        for _ in 0..3 {
            let keys = keys.clone();
            threads.push(spawn_until(&stop, s.url(), 1, move |c, _| {
                let got: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(c).unwrap();
                assert!(
                    got.windows(2).all(|w| w[0] == w[1]),
                    "MGET saw a half-applied MSET: {got:?}"
                );
            }));
        }
        std::thread::sleep(Duration::from_millis(2500));
        stop.store(true, Ordering::Relaxed);
        let counts: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(counts.iter().all(|&n| n > 10), "{layout:?}: {counts:?}");
        s.assert_alive();
    }
}

/// Two clients race MSETNX over the same eight keys (on all shards) in
/// opposite orders, round after round: each round exactly one wins, and
/// every key holds the winner's value. Without cross-shard atomicity a
/// quarter of the rounds used to end mixed.
#[test]
fn racing_msetnx_is_all_or_nothing() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let keys = spread("nx", 8);
        let mut c = s.conn();
        for round in 0..150 {
            let _: i64 = redis::cmd("DEL").arg(&keys).query(&mut c).unwrap();
            let racers: Vec<JoinHandle<i64>> = (0..2)
                .map(|r| {
                    let mut keys = keys.clone();
                    if r == 1 {
                        keys.reverse();
                    }
                    let url = s.url();
                    std::thread::spawn(move || {
                        let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                        let v = format!("racer{r}");
                        let args: Vec<&str> =
                            keys.iter().flat_map(|k| [k.as_str(), v.as_str()]).collect();
                        redis::cmd("MSETNX").arg(&args).query(&mut c).unwrap()
                    })
                })
                .collect();
            let won: Vec<i64> = racers.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(
                won.iter().sum::<i64>(),
                1,
                "{layout:?} round {round}: {won:?}"
            );
            let vals: Vec<Option<String>> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
            let winner = format!("racer{}", if won[0] == 1 { 0 } else { 1 });
            assert!(
                vals.iter().all(|v| v.as_deref() == Some(winner.as_str())),
                "{layout:?} round {round}: mixed values {vals:?}"
            );
        }
        s.assert_alive();
    }
}

/// Members move around a ring of sets on different shards (SMOVE) and
/// a ring of lists (LMOVE), and keys are renamed back and forth across
/// shards, while readers take the union of the sets and the lengths: no
/// member is ever lost or seen twice, and the totals stay constant.
#[test]
fn moves_and_renames_lose_and_duplicate_nothing() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let sets = spread("ring-s", 4);
        let lists = spread("ring-l", 4);
        let names = spread("ren", 2);
        let mut c = s.conn();
        let members: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
        let _: () = redis::cmd("SADD")
            .arg(&sets[0])
            .arg(&members)
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("RPUSH")
            .arg(&lists[0])
            .arg(&members)
            .query(&mut c)
            .unwrap();
        let _: () = redis::cmd("SET")
            .arg(&names[0])
            .arg("payload")
            .query(&mut c)
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in 0..3 {
            let (sets, lists) = (sets.clone(), lists.clone());
            threads.push(spawn_until(&stop, s.url(), w % 2, move |c, n| {
                let i = (n as usize + w) % 4;
                let m = format!("m{}", (n as usize * 7 + w) % 40);
                let _: i64 = redis::cmd("SMOVE")
                    .arg(&sets[i])
                    .arg(&sets[(i + 1) % 4])
                    .arg(&m)
                    .query(c)
                    .unwrap();
                let _: Option<String> = redis::cmd("LMOVE")
                    .arg(&lists[i])
                    .arg(&lists[(i + 1) % 4])
                    .arg("LEFT")
                    .arg("RIGHT")
                    .query(c)
                    .unwrap();
            }));
        }
        {
            let names = names.clone();
            threads.push(spawn_until(&stop, s.url(), 0, move |c, n| {
                let (from, to) = if n % 2 == 0 { (0, 1) } else { (1, 0) };
                let _: () = redis::cmd("RENAME")
                    .arg(&names[from])
                    .arg(&names[to])
                    .query(c)
                    .unwrap();
            }));
        }
        {
            let (sets, names) = (sets.clone(), names.clone());
            threads.push(spawn_until(&stop, s.url(), 1, move |c, _| {
                let all: Vec<String> = redis::cmd("SUNION").arg(&sets).query(c).unwrap();
                assert_eq!(all.len(), 40, "SUNION saw a member missing or moving");
                let cards: i64 = sets
                    .iter()
                    .map(|k| redis::cmd("SCARD").arg(k).query::<i64>(c).unwrap())
                    .sum();
                // Separate commands: only bounds hold between them.
                assert!(cards >= 0);
                let both: i64 = redis::cmd("EXISTS").arg(&names).query(c).unwrap();
                assert_eq!(both, 1, "RENAME seen half done (both or neither name)");
            }));
        }
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            assert!(t.join().unwrap() > 5);
        }
        let all: Vec<String> = redis::cmd("SUNION").arg(&sets).query(&mut c).unwrap();
        assert_eq!(all.len(), 40);
        let total: i64 = lists
            .iter()
            .map(|k| redis::cmd("LLEN").arg(k).query::<i64>(&mut c).unwrap())
            .sum();
        assert_eq!(total, 40, "{layout:?}: LMOVE lost or duplicated elements");
        let mut seen = std::collections::HashSet::new();
        for k in &lists {
            let v: Vec<String> = redis::cmd("LRANGE")
                .arg(k)
                .arg(0)
                .arg(-1)
                .query(&mut c)
                .unwrap();
            for m in v {
                assert!(seen.insert(m.clone()), "{m} twice");
            }
        }
        s.assert_alive();
    }
}

/// Keyspace-wide commands see every shard at one instant: DBSIZE and
/// KEYS never count a cross-shard MSET half applied.
/// Blocking moves (BLMOVE, BRPOPLPUSH) carry two elements around a ring
/// of three lists on different shards: most attempts find their source
/// empty, block, and are woken by another mover's push, so both the
/// immediate and the woken path run across shards, while a non-blocking
/// LMOVE mover takes elements from under woken waiters. A reader counts the
/// elements of every list inside one MULTI/EXEC and must always find both:
/// an element between its source and its destination would be missing.
#[test]
fn blocking_moves_are_atomic() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let lists = spread("bring", 3);
        let mut c = s.conn();
        let _: () = redis::cmd("RPUSH")
            .arg(&lists[0])
            .arg(&["x", "y"])
            .query(&mut c)
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in 0..3 {
            let lists = lists.clone();
            threads.push(spawn_until(&stop, s.url(), w % 2, move |c, n| {
                let (src, dst) = (&lists[w], &lists[(w + 1) % 3]);
                let got: Option<String> = if n % 2 == 0 {
                    redis::cmd("BLMOVE")
                        .arg(src)
                        .arg(dst)
                        .arg("LEFT")
                        .arg("RIGHT")
                        .arg("0.1")
                        .query(c)
                        .unwrap()
                } else {
                    redis::cmd("BRPOPLPUSH")
                        .arg(src)
                        .arg(dst)
                        .arg("0.1")
                        .query(c)
                        .unwrap()
                };
                if let Some(v) = got {
                    assert!(v == "x" || v == "y", "moved {v}");
                }
            }));
        }
        {
            // A mover that never waits takes elements woken waiters expected.
            let lists = lists.clone();
            threads.push(spawn_until(&stop, s.url(), 0, move |c, n| {
                let i = n as usize % 3;
                let _: Option<String> = redis::cmd("LMOVE")
                    .arg(&lists[i])
                    .arg(&lists[(i + 2) % 3])
                    .arg("RIGHT")
                    .arg("LEFT")
                    .query(c)
                    .unwrap();
            }));
        }
        {
            let lists = lists.clone();
            threads.push(spawn_until(&stop, s.url(), 1, move |c, _| {
                let mut p = redis::pipe();
                p.atomic();
                for k in &lists {
                    p.cmd("LLEN").arg(k);
                }
                let lens: Vec<i64> = p.query(c).unwrap();
                assert_eq!(
                    lens.iter().sum::<i64>(),
                    2,
                    "an element was between two lists: {lens:?}"
                );
            }));
        }
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            assert!(t.join().unwrap() > 5, "{layout:?}");
        }
        let mut all: Vec<String> = Vec::new();
        for k in &lists {
            let v: Vec<String> = redis::cmd("LRANGE")
                .arg(k)
                .arg(0)
                .arg(-1)
                .query(&mut c)
                .unwrap();
            all.extend(v);
        }
        all.sort();
        assert_eq!(all, ["x", "y"], "{layout:?}");
        s.assert_alive();
    }
}

#[test]
fn keyspace_wide_reads_are_isolated() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let keys = spread("kw", 6);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let keys = keys.clone();
            threads.push(spawn_until(&stop, s.url(), 0, move |c, n| {
                if n % 2 == 0 {
                    let args: Vec<&str> = keys.iter().flat_map(|k| [k.as_str(), "v"]).collect();
                    let _: () = redis::cmd("MSET").arg(&args).query(c).unwrap();
                } else {
                    let _: i64 = redis::cmd("DEL").arg(&keys).query(c).unwrap();
                }
            }));
        }
        for _ in 0..3 {
            threads.push(spawn_until(&stop, s.url(), 1, move |c, _| {
                let n: i64 = redis::cmd("DBSIZE").query(c).unwrap();
                assert!(n == 0 || n == 6, "DBSIZE saw {n} of 6 keys");
                let k: Vec<String> = redis::cmd("KEYS").arg("kw*").query(c).unwrap();
                assert!(k.is_empty() || k.len() == 6, "KEYS saw {k:?}");
            }));
        }
        std::thread::sleep(Duration::from_millis(2500));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            assert!(t.join().unwrap() > 5);
        }
        s.assert_alive();
    }
}

/// MULTI/EXEC/DISCARD/WATCH/UNWATCH answer byte for byte as redis-server
/// 7.0 does, in RESP2 and RESP3: queued replies, EXECABORT after a
/// queueing error, runtime errors as elements, WATCH broken by the
/// client's own write, by another client's, and not by a read, nested
/// MULTI, EXEC/DISCARD without MULTI, blocking commands not blocking,
/// SELECT inside MULTI, keys on several shards.
#[test]
fn multi_exec_matches_redis() {
    let redis = Redis::start(&[]);
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let scripts: &[&[&[u8]]] = &[
            &[
                b"MULTI",
                b"SET a 1",
                b"SET b 2",
                b"INCR a",
                b"LPUSH a x",
                b"MGET a b c",
                b"PING",
                b"ECHO hi",
                b"EXEC",
            ],
            &[b"MULTI", b"SET x 1", b"NOSUCH", b"GET", b"EXEC", b"GET x"],
            &[
                b"EXEC", b"DISCARD", b"MULTI", b"MULTI", b"WATCH k", b"SET q 1", b"DISCARD",
                b"GET q",
            ],
            &[
                b"SET a 1",
                b"WATCH a b",
                b"SET a 5",
                b"MULTI",
                b"GET a",
                b"EXEC",
                b"GET a",
            ],
            &[
                b"SET a 1", b"WATCH a", b"GET a", b"MULTI", b"INCR a", b"EXEC",
            ],
            &[
                b"WATCH a", b"UNWATCH", b"SET a 9", b"MULTI", b"GET a", b"EXEC",
            ],
            &[
                b"DEL nolist",
                b"WATCH nolist",
                b"DEL nolist",
                b"MULTI",
                b"PING",
                b"EXEC",
            ],
            &[
                b"MULTI",
                b"BLPOP nolist 0",
                b"RPUSH l v",
                b"BLPOP l 0",
                b"BRPOPLPUSH l2 l 0",
                b"EXEC",
            ],
            &[
                b"MULTI",
                b"SELECT 2",
                b"SET indb2 1",
                b"SELECT 0",
                b"EXEC",
                b"SELECT 2",
                b"GET indb2",
                b"SELECT 0",
            ],
            &[
                b"MULTI",
                b"MSET k1 a k2 b k3 c",
                b"MGET k1 k2 k3",
                b"DEL k1 k2 k3 k4",
                b"EXISTS k1",
                b"EXEC",
            ],
            &[
                b"MULTI",
                b"RENAME nosuch x",
                b"SET r1 v",
                b"RENAME r1 r2",
                b"GET r2",
                b"EXEC",
            ],
            &[b"MULTI", b"EXEC", b"MULTI", b"DISCARD", b"EXEC"],
            &[
                b"HELLO 3", b"SET a 1", b"WATCH a", b"SET a 2", b"MULTI", b"PING", b"EXEC",
                b"MULTI", b"SET z 1", b"GET z", b"EXEC", b"HELLO 2",
            ],
        ];
        for script in scripts {
            let mut ours = s.raw();
            let mut theirs = redis.raw();
            for r in [&mut ours, &mut theirs] {
                r.send(b"FLUSHALL\r\n");
                assert_eq!(r.read_reply(), "+OK\r\n");
            }
            for line in script.iter() {
                let args: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
                ours.send(&frame(&args));
                theirs.send(&frame(&args));
                let (a, b) = (ours.read_reply(), theirs.read_reply());
                if line.starts_with(b"HELLO") {
                    continue; // the client id differs
                }
                assert_eq!(
                    a,
                    b,
                    "{layout:?} after {:?}: {}",
                    script
                        .iter()
                        .map(|l| String::from_utf8_lossy(l))
                        .collect::<Vec<_>>(),
                    String::from_utf8_lossy(line)
                );
            }
        }
        // Another client's write breaks the WATCH; a read does not.
        for (other, broken) in [("SET w 2", true), ("GET w", false)] {
            let mut r = s.raw();
            let mut o = s.raw();
            r.send(&frame(&[b"SET", b"w", b"1"]));
            assert_eq!(r.read_reply(), "+OK\r\n");
            r.send(&frame(&[b"WATCH", b"w"]));
            assert_eq!(r.read_reply(), "+OK\r\n");
            let args: Vec<&[u8]> = other.as_bytes().split(|&b| b == b' ').collect();
            o.send(&frame(&args));
            let _ = o.read_reply();
            r.send(b"MULTI\r\nINCR w\r\nEXEC\r\n");
            let got = r.read_replies(3);
            let want = if broken { "*-1\r\n" } else { "*1\r\n:2\r\n" };
            assert_eq!(got[2], want, "{layout:?}: {other}");
        }
        // Writes from another database reach a watched key too: MOVE's key
        // and COPY ... DB n's destination (on the same shard or another).
        for (i, other) in [
            "SET mw x|MOVE mw 0",
            "SET src x|COPY src mw DB 0",
            "SET src x|COPY src mw DB 5",
        ]
        .iter()
        .enumerate()
        {
            let mut r = s.raw();
            let mut o = s.raw();
            r.send(b"FLUSHALL\r\nWATCH mw\r\n");
            assert_eq!(r.read_replies(2), ["+OK\r\n", "+OK\r\n"]);
            o.send(b"SELECT 3\r\n");
            o.read_reply();
            for cmd in other.split('|') {
                let args: Vec<&[u8]> = cmd.as_bytes().split(|&b| b == b' ').collect();
                o.send(&frame(&args));
                assert!(!o.read_reply().starts_with('-'), "{layout:?}: {cmd}");
            }
            r.send(b"MULTI\r\nGET mw\r\nEXEC\r\n");
            let got = r.read_replies(3);
            let want = if i < 2 { "*-1\r\n" } else { "*1\r\n$-1\r\n" };
            assert_eq!(got[2], want, "{layout:?}: {other}");
        }
        s.assert_alive();
    }
}

/// Accounts on every shard; clients move money with WATCH/MULTI/EXEC
/// (retrying when a WATCH breaks) while others read every balance in one
/// MULTI/EXEC: every read, and the end, sums to the starting total.
#[test]
fn bank_transfers_keep_the_sum() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let accounts = spread("acct", 6);
        let mut c = s.conn();
        for a in &accounts {
            let _: () = redis::cmd("SET").arg(a).arg(100).query(&mut c).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in 0..3 {
            let accounts = accounts.clone();
            threads.push(spawn_until(&stop, s.url(), w % 2, move |c, n| {
                let from = &accounts[(n as usize + w) % 6];
                let to = &accounts[(n as usize * 5 + w + 1) % 6];
                if from == to {
                    return;
                }
                // The redis crate's WATCH/MULTI/EXEC retry loop.
                let _: () = redis::transaction(c, &[from, to], |c, pipe| {
                    let bal: i64 = redis::cmd("GET").arg(from).query(c)?;
                    if bal < 7 {
                        return pipe.query(c);
                    }
                    pipe.cmd("DECRBY").arg(from).arg(7).ignore();
                    pipe.cmd("INCRBY").arg(to).arg(7).ignore();
                    pipe.query(c)
                })
                .unwrap();
            }));
        }
        for r in 0..2 {
            let accounts = accounts.clone();
            threads.push(spawn_until(&stop, s.url(), r % 2, move |c, _| {
                let mut p = redis::pipe();
                p.atomic();
                for a in &accounts {
                    p.cmd("GET").arg(a);
                }
                let bal: Vec<i64> = p.query(c).unwrap();
                assert_eq!(
                    bal.iter().sum::<i64>(),
                    600,
                    "a read saw money in flight: {bal:?}"
                );
            }));
        }
        std::thread::sleep(Duration::from_millis(2000));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            assert!(t.join().unwrap() > 5);
        }
        let bal: Vec<i64> = redis::cmd("MGET").arg(&accounts).query(&mut c).unwrap();
        assert_eq!(bal.iter().sum::<i64>(), 600, "{layout:?}: {bal:?}");
        s.assert_alive();
    }
}

/// One MULTI/EXEC sets three keys on three shards; readers (MGET, and
/// MULTI/EXEC of GETs) never see some set and not the others.
#[test]
fn exec_is_one_unit() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let keys = spread("unit", 3);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in 0..2 {
            let keys = keys.clone();
            threads.push(spawn_until(&stop, s.url(), w % 2, move |c, n| {
                let v = format!("w{w}-{n}");
                let mut p = redis::pipe();
                p.atomic();
                for k in &keys {
                    p.cmd("SET").arg(k).arg(&v).ignore();
                }
                let _: () = p.query(c).unwrap();
            }));
        }
        for r in 0..2 {
            let keys = keys.clone();
            threads.push(spawn_until(&stop, s.url(), (r + 1) % 2, move |c, n| {
                let got: Vec<Option<String>> = if n % 2 == 0 {
                    redis::cmd("MGET").arg(&keys).query(c).unwrap()
                } else {
                    let mut p = redis::pipe();
                    p.atomic();
                    for k in &keys {
                        p.cmd("GET").arg(k);
                    }
                    p.query(c).unwrap()
                };
                assert!(
                    got.windows(2).all(|w| w[0] == w[1]),
                    "EXEC seen half done: {got:?}"
                );
            }));
        }
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            assert!(t.join().unwrap() > 5);
        }
        s.assert_alive();
    }
}

/// Deep pipelines of transactions over random shards from several clients
/// on both IO threads: every reply arrives (a deadlock shows as a read
/// timeout). redis-benchmark's `-t mset -P 16` wedged the lock layer this
/// way: a connection's later transaction took a lower shard while its
/// earlier one still waited, and another client's closed the cycle.
#[test]
fn deep_pipelines_of_transactions_finish() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let keys: Arc<Vec<String>> = Arc::new((0..40).map(|i| format!("dp{i}")).collect());
        let mut hs = Vec::new();
        for t in 0..6u64 {
            let url = s.url();
            let keys = keys.clone();
            hs.push(std::thread::spawn(move || {
                let mut c = conn_on(&url, (t % 2) as usize);
                c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut rng = fastrand::Rng::with_seed(t);
                let mut pick = |n: usize| -> Vec<String> {
                    (0..n)
                        .map(|_| keys[rng.usize(..keys.len())].clone())
                        .collect()
                };
                let mut replies = 0usize;
                for round in 0..60 {
                    let mut p = redis::pipe();
                    p.ignore_errors();
                    for i in 0..16 {
                        match (round + i) % 7 {
                            0 => {
                                let mut cmd = redis::cmd("MSET");
                                for k in pick(5) {
                                    cmd.arg(k).arg(round);
                                }
                                p.add_command(cmd);
                            }
                            1 => {
                                p.cmd("MGET").arg(pick(4));
                            }
                            2 => {
                                p.cmd("DEL").arg(pick(3));
                            }
                            3 => {
                                let ks = pick(2);
                                p.cmd("SET").arg(&ks[0]).arg(1);
                                p.cmd("RENAME").arg(&ks[0]).arg(&ks[1]);
                            }
                            4 => {
                                p.cmd("MULTI");
                                for k in pick(3) {
                                    p.cmd("INCR").arg(k);
                                }
                                p.cmd("EXEC");
                            }
                            5 => {
                                p.cmd("GET").arg(pick(1));
                            }
                            _ => {
                                p.cmd("EXISTS").arg(pick(6));
                            }
                        }
                    }
                    // Errors (INCR of a non-number, RENAME of a key another
                    // client deleted) are answers too.
                    let got: Vec<redis::Value> = p
                        .query(&mut c)
                        .unwrap_or_else(|e| panic!("client {t} round {round}: {e}"));
                    replies += got.len();
                }
                replies
            }));
        }
        for h in hs {
            assert!(h.join().expect("client thread") > 0);
        }
        s.assert_alive();
    }
}

/// RESET (and a client going away) drops the client's WATCHes on every
/// layout, colocated included: a key watched before RESET and written after
/// it does not fail the next EXEC.
#[test]
fn reset_forgets_watches() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let mut w = s.raw();
        let mut other = s.raw();
        for (on_w, args) in [
            (true, &["WATCH", "rk"][..]),
            (true, &["RESET"]),
            (true, &["WATCH", "rj"]),
            (false, &["SET", "rk", "x"]),
            (true, &["MULTI"]),
            (true, &["SET", "rj", "1"]),
        ] {
            let c = if on_w { &mut w } else { &mut other };
            let f: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            c.send(&frame(&f));
            c.read_reply();
        }
        w.send(&frame(&[b"EXEC"]));
        assert_eq!(w.read_reply(), "*1\r\n+OK\r\n", "{layout:?}");
    }
}
