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
use std::time::{Duration, Instant};

const LAYOUTS: &[&[&str]] = &[
    &["--io-threads", "1", "--shards", "3"],
    &["--io-threads", "2", "--shards", "3"],
    &["--colocated", "yes"],
];

/// `n` keys named `{prefix}N`, on as many different shards (of 3) as
/// possible, round robin.
fn spread(prefix: &str, n: usize) -> Vec<String> {
    let mut by_shard: Vec<Vec<String>> = vec![Vec::new(); 3];
    let mut i = 0;
    while by_shard.iter().map(|v| v.len()).min().unwrap_or(0) * 3 < n + 3 {
        let k = format!("{prefix}{i}");
        by_shard[tandem::spec::key_shard(k.as_bytes(), 3)].push(k);
        i += 1;
    }
    (0..n).map(|j| by_shard[j % 3][j / 3].clone()).collect()
}

/// A connection served by IO thread `io` (when the server has it):
/// connects until CLIENT INFO says so, a bounded number of times.
fn conn_on(url: &str, io: usize) -> redis::Connection {
    let client = redis::Client::open(url).unwrap();
    for _ in 0..100 {
        let mut c = client.get_connection().unwrap();
        let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
        let on = info
            .split(' ')
            .find_map(|f| f.strip_prefix("io-thread="))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if on == io {
            return c;
        }
    }
    client.get_connection().unwrap()
}

/// Runs `f` in a loop on its own connection (on IO thread `io` if there
/// is one) until `stop` (or 30 s); returns how many times it ran.
fn spawn_until(
    stop: &Arc<AtomicBool>,
    url: String,
    io: usize,
    f: impl Fn(&mut redis::Connection, u64) + Send + 'static,
) -> JoinHandle<u64> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut c = conn_on(&url, io);
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut n = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            f(&mut c, n);
            n += 1;
        }
        n
    })
}

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
