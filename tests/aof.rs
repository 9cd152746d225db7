//! The append-only file (issue #14): with `appendfsync always` an
//! acknowledged write survives kill -9, cross-shard transactions replay
//! whole, a BGREWRITEAOF under load loses nothing, a truncated tail is cut
//! (or refused), expiries replay as absolute times, and tandem and
//! redis-server 7.0 load each other's `appendonlydir`.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn conn(port: u16) -> redis::Connection {
    conn_to(port)
}

fn field(c: &mut redis::Connection, name: &str) -> String {
    persistence_field(c, name)
}

/// A client that MSETs, until `stop`, a pair `a<i>`/`b<i>` (of `pairs`,
/// over two shards) to the same value and a new key `n<n>`; returns how
/// many were acknowledged.
fn pair_writer(url: String, stop: &Arc<AtomicBool>, pairs: u64) -> std::thread::JoinHandle<u64> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut c = conn_on(&url, 0);
        let mut acked = 0u64;
        let deadline = Instant::now() + Duration::from_secs(20);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            let n = acked;
            let r: redis::RedisResult<()> = redis::cmd("MSET")
                .arg(format!("a{}", n % pairs))
                .arg(n)
                .arg(format!("b{}", n % pairs))
                .arg(n)
                .arg(format!("n{n}"))
                .arg(n)
                .query(&mut c);
            if r.is_err() {
                break;
            }
            acked += 1;
        }
        acked
    })
}

/// Every acknowledged MSET of [`pair_writer`] is there and every pair whole.
fn check_pairs(c: &mut redis::Connection, acked: u64, pairs: u64) {
    let keys: Vec<String> = (0..acked).map(|n| format!("n{n}")).collect();
    for chunk in keys.chunks(500) {
        let vals: Vec<Option<u64>> = redis::cmd("MGET").arg(chunk).query(c).unwrap();
        assert!(
            vals.iter().all(Option::is_some),
            "an acknowledged MSET lost"
        );
    }
    for i in 0..pairs {
        let (a, b): (Option<u64>, Option<u64>) = redis::cmd("MGET")
            .arg(format!("a{i}"))
            .arg(format!("b{i}"))
            .query(c)
            .unwrap();
        assert_eq!(a, b, "pair {i} is not whole");
    }
}

/// tandem's arguments for a test in `dir` with the AOF on, then `extra`.
fn aof_args<'a>(dir: &'a TempDir, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--dir", dir.path(), "--appendonly", "yes"];
    v.extend_from_slice(extra);
    v
}

fn kill9(s: &mut Server) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGKILL) };
    let _ = s.wait_exit();
}

/// Accounts on every shard that MULTI/EXEC transfers move money between.
const ACCOUNTS: usize = 8;
const TOTAL: i64 = 8_000;

/// Writers run single-key SETs, cross-shard MSET pairs and MULTI/EXEC
/// transfers until the server is killed; each records the last write it
/// saw acknowledged. After kill -9 and a restart from the AOF, every
/// acknowledged write is there, every pair is whole and the transfers'
/// sum is unchanged. Two rounds: the second appends to the first's file.
#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = TempDir::new("aof-kill");
    let args = aof_args(
        &dir,
        &[
            "--appendfsync",
            "always",
            "--io-threads",
            "2",
            "--shards",
            "3",
        ],
    );
    let accounts = spread("acct", ACCOUNTS);
    let mut acked_total = 0u64;
    for round in 0..2u64 {
        let mut s = Server::start(&args);
        if round == 0 {
            let mut c = s.conn();
            let mut p = redis::pipe();
            for a in &accounts {
                p.cmd("SET").arg(a).arg(TOTAL / ACCOUNTS as i64).ignore();
            }
            let () = p.query(&mut c).unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for t in 0..4u64 {
            let (url, accounts, stop) = (s.url(), accounts.clone(), stop.clone());
            writers.push(std::thread::spawn(move || {
                let mut c = conn_on(&url, t as usize);
                c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let mut acked: Option<u64> = None;
                let deadline = Instant::now() + Duration::from_secs(20);
                for n in 0..1_000_000u64 {
                    if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                        break;
                    }
                    let key = format!("w{round}:{t}:{n}");
                    let r: redis::RedisResult<()> = match n % 3 {
                        0 => redis::cmd("SET").arg(&key).arg(n).query(&mut c),
                        1 => redis::cmd("MSET")
                            .arg(&key)
                            .arg(n)
                            .arg(format!("{key}:pair"))
                            .arg(n)
                            .query(&mut c),
                        _ => {
                            let (a, b) = (
                                &accounts[(n as usize) % ACCOUNTS],
                                &accounts[(n as usize + 3) % ACCOUNTS],
                            );
                            redis::pipe()
                                .atomic()
                                .cmd("DECRBY")
                                .arg(a)
                                .arg(1)
                                .ignore()
                                .cmd("INCRBY")
                                .arg(b)
                                .arg(1)
                                .ignore()
                                .cmd("SET")
                                .arg(&key)
                                .arg(n)
                                .ignore()
                                .query(&mut c)
                        }
                    };
                    if r.is_err() {
                        break;
                    }
                    acked = Some(n);
                }
                acked
            }));
        }
        std::thread::sleep(Duration::from_millis(700));
        kill9(&mut s);
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<Option<u64>> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        drop(s);
        let s = Server::start(&args);
        let mut c = s.conn();
        for (t, last) in acked.iter().enumerate() {
            let Some(last) = *last else { continue };
            acked_total += last + 1;
            let keys: Vec<String> = (0..=last).map(|n| format!("w{round}:{t}:{n}")).collect();
            for chunk in keys.chunks(500) {
                let vals: Vec<Option<u64>> = redis::cmd("MGET").arg(chunk).query(&mut c).unwrap();
                for (k, v) in chunk.iter().zip(vals) {
                    assert!(v.is_some(), "round {round}: acknowledged {k} lost");
                }
            }
            let pairs: Vec<String> = (0..=last)
                .filter(|n| n % 3 == 1)
                .map(|n| format!("w{round}:{t}:{n}:pair"))
                .collect();
            for chunk in pairs.chunks(500) {
                let vals: Vec<Option<u64>> = redis::cmd("MGET").arg(chunk).query(&mut c).unwrap();
                assert!(
                    vals.iter().all(Option::is_some),
                    "round {round}: a pair lost"
                );
            }
        }
        let balances: Vec<i64> = redis::cmd("MGET").arg(&accounts).query(&mut c).unwrap();
        assert_eq!(
            balances.iter().sum::<i64>(),
            TOTAL,
            "round {round}: a transfer replayed in part: {balances:?}"
        );
        assert_eq!(field(&mut c, "aof_enabled"), "1");
    }
    assert!(
        acked_total > 100,
        "too few writes to mean anything: {acked_total}"
    );
}

/// Writers keep cross-shard pairs equal while BGREWRITEAOF rewrites the
/// file; afterwards the manifest names the new base and one incremental
/// file, the old ones are gone, redis-check-aof accepts the directory,
/// and a restart after kill -9 has every acknowledged pair, equal.
#[test]
fn bgrewriteaof_under_load_loses_nothing() {
    let dir = TempDir::new("aof-rewrite");
    let args = aof_args(
        &dir,
        &[
            "--appendfsync",
            "always",
            "--shards",
            "2",
            "--io-threads",
            "1",
        ],
    );
    let mut s = Server::start(&args);
    let mut c = s.conn();
    let e = err(&mut c, &["BGREWRITEAOF", "x"]);
    assert!(
        e.contains("wrong number of arguments for 'bgrewriteaof' command"),
        "{e}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let writer = pair_writer(s.url(), &stop, 500);
    std::thread::sleep(Duration::from_millis(300));
    let reply: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(reply, "Background append only file rewriting started");
    wait_persistence(&mut c, "aof_rewrites", "1");
    assert_eq!(field(&mut c, "aof_last_bgrewrite_status"), "ok");
    std::thread::sleep(Duration::from_millis(300));
    kill9(&mut s);
    stop.store(true, Ordering::Relaxed);
    let acked = writer.join().unwrap();
    drop(s);
    let aofdir = dir.0.join("appendonlydir");
    let manifest = std::fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
    assert_eq!(
        manifest,
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(&aofdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "appendonly.aof.2.base.rdb",
            "appendonly.aof.2.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    let check = output_within(
        Command::new("redis-check-aof").arg(aofdir.join("appendonly.aof.manifest")),
        30,
    );
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("All AOF files and manifest are valid"),
        "redis-check-aof: {text}"
    );
    let s = Server::start(&args);
    let mut c = s.conn();
    check_pairs(&mut c, acked, 500);
    assert!(acked > 10, "too few writes: {acked}");
}

/// The last file ending mid-command: with `aof-load-truncated no`
/// start-up stops and says why; by default the tail is cut off (the file
/// too) and the rest loads.
#[test]
fn a_truncated_tail_is_cut_or_refused() {
    let dir = TempDir::new("aof-trunc");
    let args = aof_args(&dir, &["--shards", "2"]);
    let mut s = Server::start(&args);
    let mut c = s.conn();
    for k in ["a", "b", "c"] {
        let () = redis::cmd("SET").arg(k).arg(k).query(&mut c).unwrap();
    }
    assert_eq!(s.terminate(), Some(0));
    let incr = dir.0.join("appendonlydir/appendonly.aof.1.incr.aof");
    let whole = std::fs::metadata(&incr).unwrap().len();
    let mut bytes = std::fs::read(&incr).unwrap();
    bytes.extend_from_slice(b"*3\r\n$3\r\nset\r\n$1\r\nd");
    std::fs::write(&incr, &bytes).unwrap();
    let out = run_tandem_expecting_exit(&[
        "--dir",
        dir.path(),
        "--appendonly",
        "yes",
        "--aof-load-truncated",
        "no",
    ]);
    assert!(!out.status.success());
    let log =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("Unexpected end of file"), "{log}");
    let s = Server::start(&args);
    let mut c = s.conn();
    let vals: Vec<Option<String>> = redis::cmd("MGET")
        .arg(&["a", "b", "c", "d"])
        .query(&mut c)
        .unwrap();
    assert_eq!(
        vals,
        [Some("a".into()), Some("b".into()), Some("c".into()), None]
    );
    assert_eq!(std::fs::metadata(&incr).unwrap().len(), whole);
}

/// Expiries are logged absolute and nothing expires while loading: a key
/// INCRed while it had a TTL that has passed since is gone after a
/// restart (a relative or clock-running replay would bring it back as a
/// key without TTL), and one with time left keeps its deadline.
#[test]
fn expiries_replay_as_absolute_times() {
    let dir = TempDir::new("aof-ttl");
    let args = aof_args(&dir, &["--colocated", "yes"]);
    let mut s = Server::start(&args);
    let mut c = s.conn();
    let () = redis::cmd("SET")
        .arg("short")
        .arg(10)
        .arg("PX")
        .arg(300)
        .query(&mut c)
        .unwrap();
    let n: i64 = redis::cmd("INCR").arg("short").query(&mut c).unwrap();
    assert_eq!(n, 11);
    let () = redis::cmd("SETEX")
        .arg("long")
        .arg(1000)
        .arg("v")
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("EXPIRE")
        .arg("long")
        .arg(2000)
        .query(&mut c)
        .unwrap();
    let at: i64 = redis::cmd("PEXPIRETIME").arg("long").query(&mut c).unwrap();
    // Keys that expired and were written again: the expiry is logged as
    // a DEL (as Redis propagates it), or the replay, which expires
    // nothing, would refuse the NX and push onto the old list.
    let () = redis::cmd("SET")
        .arg("k")
        .arg("old")
        .arg("PX")
        .arg(100)
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("RPUSH")
        .arg("l")
        .arg("old")
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("PEXPIRE")
        .arg("l")
        .arg(100)
        .query(&mut c)
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let set: Option<String> = redis::cmd("SET")
        .arg("k")
        .arg("new")
        .arg("NX")
        .query(&mut c)
        .unwrap();
    assert_eq!(set.as_deref(), Some("OK"));
    let _: i64 = redis::cmd("RPUSH")
        .arg("l")
        .arg("new")
        .query(&mut c)
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(s.terminate(), Some(0));
    let text =
        std::fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.1.incr.aof")).unwrap();
    assert!(
        text.contains("PXAT") && text.contains("PEXPIREAT"),
        "{text}"
    );
    assert!(
        !text.contains("SETEX") && !text.contains("EXPIRE\r\n"),
        "{text}"
    );
    let s = Server::start(&args);
    let mut c = s.conn();
    let short: Option<i64> = redis::cmd("GET").arg("short").query(&mut c).unwrap();
    assert_eq!(short, None);
    let again: i64 = redis::cmd("PEXPIRETIME").arg("long").query(&mut c).unwrap();
    assert_eq!(again, at);
    let k: Option<String> = redis::cmd("GET").arg("k").query(&mut c).unwrap();
    assert_eq!(k.as_deref(), Some("new"));
    let l: Vec<String> = redis::cmd("LRANGE")
        .arg("l")
        .arg(0)
        .arg(-1)
        .query(&mut c)
        .unwrap();
    assert_eq!(l, ["new"]);
    let ttl: i64 = redis::cmd("PTTL").arg("l").query(&mut c).unwrap();
    assert_eq!(ttl, -1);
}

/// Every key of every database as text: type, value (members sorted) and
/// whether it has a TTL.
fn snapshot(port: u16) -> BTreeMap<String, String> {
    let mut c = conn(port);
    let mut out = BTreeMap::new();
    for db in 0..4 {
        let () = redis::cmd("SELECT").arg(db).query(&mut c).unwrap();
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
            let v = match t.as_str() {
                "string" => {
                    let v: String = redis::cmd("GET").arg(&k).query(&mut c).unwrap();
                    v
                }
                "list" => {
                    let v: Vec<String> = redis::cmd("LRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .query(&mut c)
                        .unwrap();
                    v.join(",")
                }
                "set" => {
                    let mut v: Vec<String> = redis::cmd("SMEMBERS").arg(&k).query(&mut c).unwrap();
                    v.sort();
                    v.join(",")
                }
                "hash" => {
                    let v: BTreeMap<String, String> =
                        redis::cmd("HGETALL").arg(&k).query(&mut c).unwrap();
                    format!("{v:?}")
                }
                "zset" => {
                    let v: Vec<(String, f64)> = redis::cmd("ZRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES")
                        .query(&mut c)
                        .unwrap();
                    format!("{v:?}")
                }
                "stream" => {
                    // Entries, then what groups, consumers and the PEL
                    // hold (no clocks: those differ per server).
                    let entries: redis::Value = redis::cmd("XRANGE")
                        .arg(&k)
                        .arg("-")
                        .arg("+")
                        .query(&mut c)
                        .unwrap();
                    let groups: redis::Value = redis::cmd("XINFO")
                        .arg("GROUPS")
                        .arg(&k)
                        .query(&mut c)
                        .unwrap();
                    let mut pending = Vec::new();
                    if let redis::Value::Array(gs) = &groups {
                        for g in gs {
                            let redis::Value::Array(fields) = g else {
                                continue;
                            };
                            let redis::Value::BulkString(name) = &fields[1] else {
                                continue;
                            };
                            let name = name.clone();
                            let p: redis::Value = redis::cmd("XPENDING")
                                .arg(&k)
                                .arg(&name)
                                .arg("-")
                                .arg("+")
                                .arg(100)
                                .query(&mut c)
                                .unwrap();
                            // [id, consumer, idle, deliveries]: idle is a clock.
                            if let redis::Value::Array(rows) = p {
                                for r in rows {
                                    if let redis::Value::Array(r) = r {
                                        pending.push(format!("{:?} {:?} {:?}", r[0], r[1], r[3]));
                                    }
                                }
                            }
                            let cs: redis::Value = redis::cmd("XINFO")
                                .arg("CONSUMERS")
                                .arg(&k)
                                .arg(&name)
                                .query(&mut c)
                                .unwrap();
                            if let redis::Value::Array(cs) = cs {
                                for cons in cs {
                                    if let redis::Value::Array(f) = cons {
                                        pending.push(format!("consumer {:?} {:?}", f[1], f[3]));
                                    }
                                }
                            }
                        }
                    }
                    let info: Vec<redis::Value> = redis::cmd("XINFO")
                        .arg("STREAM")
                        .arg(&k)
                        .query(&mut c)
                        .unwrap();
                    format!("{entries:?} {groups:?} {pending:?} {:?}", &info[6..14])
                }
                other => other.to_string(),
            };
            let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
            out.insert(format!("{db}/{k}"), format!("{t}={v} ttl:{}", ttl > 0));
        }
    }
    out
}

/// The same writes on either server: every type, several databases, a
/// script, MULTI/EXEC, relative expiries, SPOP, a served BLPOP, bit
/// commands (BITOP across shards).
fn workload(port: u16) {
    let mut c = conn(port);
    let cmds: &[&[&str]] = &[
        &["SET", "s", "v"],
        &["SET", "t", "v", "EX", "1000"],
        &["SETEX", "u", "1000", "v"],
        &["INCRBYFLOAT", "f", "1.5"],
        &["APPEND", "s", "w"],
        &["RPUSH", "l", "a", "b", "c", "d"],
        &["LPOP", "l"],
        &["SADD", "set", "1", "2", "3", "4", "5"],
        &["SPOP", "set"],
        &["HSET", "h", "f1", "v1", "f2", "v2"],
        &["HDEL", "h", "f1"],
        &["ZADD", "z", "1", "a", "2", "b", "3.5", "c"],
        &["ZINCRBY", "z", "2", "a"],
        &["EXPIRE", "l", "5000"],
        &["MSET", "m1", "1", "m2", "2", "m3", "3"],
        &["RENAME", "m3", "m4"],
        &["DEL", "m1"],
        // Bit commands whose strings stay ASCII ("@A", then "rA").
        &["SETBIT", "bits", "1", "1"],
        &["BITFIELD", "bits", "SET", "u8", "#1", "65"],
        &["BITOP", "OR", "bor", "m2", "bits"],
        &["SELECT", "2"],
        &["SET", "indb2", "x"],
        &["LPUSH", "q", "job"],
        &["BLPOP", "q", "0"],
        &["RPUSH", "q", "k1", "k2"],
        &["SELECT", "0"],
        &[
            "EVAL",
            "redis.call('set', KEYS[1], 'lua') redis.call('incr', KEYS[2]) return 1",
            "2",
            "{x}a",
            "{x}b",
        ],
        &["GETEX", "s", "PX", "900000"],
        // A stream with a trim, deletions, a group, its PEL and consumers.
        &["XADD", "st", "1-1", "f", "v"],
        &["XADD", "st", "2-1", "g", "w", "h", "x"],
        &["XADD", "st", "MAXLEN", "~", "100", "*", "n", "1"],
        &["XADD", "st", "*", "n", "2"],
        &["XTRIM", "st", "MINID", "=", "0-5"],
        &["XGROUP", "CREATE", "st", "grp", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "st",
            ">",
        ],
        &["XACK", "st", "grp", "1-1"],
        &["XCLAIM", "st", "grp", "bob", "0", "2-1", "JUSTID"],
        &[
            "XREADGROUP",
            "GROUP",
            "grp",
            "carol",
            "NOACK",
            "COUNT",
            "1",
            "STREAMS",
            "st",
            ">",
        ],
        &["XGROUP", "CREATECONSUMER", "st", "grp", "dave"],
        &["XDEL", "st", "1-1"],
        &["XGROUP", "CREATE", "st2", "empty", "$", "MKSTREAM"],
        &["XSETID", "st2", "7-7"],
    ];
    for cmd in cmds {
        let mut r = redis::cmd(cmd[0]);
        for a in &cmd[1..] {
            r.arg(*a);
        }
        let _: redis::Value = r.query(&mut c).unwrap();
    }
    let _: Vec<redis::Value> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("tx1")
        .arg("1")
        .cmd("SADD")
        .arg("tx2")
        .arg("m")
        .query(&mut c)
        .unwrap();
}

/// Starts redis-server 7.0 in `dir` with `appendonly yes`, then `extra`.
fn redis_in(dir: &str, extra: &[&str]) -> Redis {
    let mut args = vec![
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ];
    args.extend(extra);
    Redis::start(&args)
}

/// tandem's `appendonlydir` loads into redis-server with the same
/// contents, and redis-server's into tandem (an incremental file, then
/// one after BGREWRITEAOF, whose base is redis's RDB preamble).
#[test]
fn tandem_and_redis_load_each_others_aof() {
    // tandem → redis-server
    let tdir = TempDir::new("aof-to-redis");
    let targs = ["--dir", tdir.path(), "--appendonly", "yes", "--shards", "3"];
    let mut t = Server::start(&targs);
    workload(t.port);
    let expected = snapshot(t.port);
    assert_eq!(t.terminate(), Some(0));
    let check = output_within(
        Command::new("redis-check-aof").arg(tdir.0.join("appendonlydir/appendonly.aof.manifest")),
        30,
    );
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("All AOF files and manifest are valid"),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let r = redis_in(tdir.path(), &[]);
    assert_eq!(snapshot(r.port), expected);
    drop(r);
    // redis-server → tandem: its incremental file, then after a rewrite.
    redis_aof_into_tandem("aof-from-redis", &[], false);
    redis_aof_into_tandem("aof-from-redis-rw", &[], true);
}

/// redis-server 7.0 with the AOF on (and `extra` directives) in a fresh
/// directory runs [`workload`], then if `rewrite` a BGREWRITEAOF and one
/// more write; tandem (2 shards) loads that directory with the same keys.
fn redis_aof_into_tandem(tag: &str, extra: &[&str], rewrite: bool) {
    let rdir = TempDir::new(tag);
    let r = redis_in(rdir.path(), extra);
    workload(r.port);
    if rewrite {
        let mut c = conn(r.port);
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        wait_rewrites(&mut c, 1);
        let _: () = redis::cmd("SET")
            .arg("after")
            .arg("rewrite")
            .query(&mut c)
            .unwrap();
    }
    let expected = snapshot(r.port);
    drop(r);
    let t = Server::start(&["--dir", rdir.path(), "--appendonly", "yes", "--shards", "2"]);
    assert_eq!(snapshot(t.port), expected, "{tag}");
}

/// `appenddirname` and `appendfilename` name the directory and files;
/// once the file grew past `auto-aof-rewrite-min-size` and
/// `auto-aof-rewrite-percentage` over its base, it is rewritten by itself;
/// the result loads.
#[test]
fn names_and_automatic_rewrites() {
    let dir = TempDir::new("aof-auto");
    let args = aof_args(
        &dir,
        &[
            "--appenddirname",
            "logs",
            "--appendfilename",
            "my.aof",
            "--auto-aof-rewrite-min-size",
            "1mb",
            "--auto-aof-rewrite-percentage",
            "50",
            "--shards",
            "2",
        ],
    );
    let mut s = Server::start(&args);
    let mut c = s.conn();
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "appenddirname"]).unwrap();
    assert_eq!(got, ["appenddirname", "logs"]);
    let value = "x".repeat(1000);
    for round in 0..3 {
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.cmd("SET")
                .arg(format!("k{i}"))
                .arg(format!("{round}{value}"))
                .ignore();
        }
        let () = p.query(&mut c).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while field(&mut c, "aof_rewrites") == "0" || field(&mut c, "aof_rewrite_in_progress") == "1" {
        assert!(Instant::now() < deadline, "no automatic rewrite");
        std::thread::sleep(Duration::from_millis(20));
    }
    let size: u64 = field(&mut c, "aof_current_size").parse().unwrap();
    assert!(size < 3_000_000, "not rewritten smaller: {size}");
    let manifest = std::fs::read_to_string(dir.0.join("logs/my.aof.manifest")).unwrap();
    assert!(
        manifest.starts_with("file my.aof.2.base.rdb seq 2 type b\n"),
        "{manifest}"
    );
    assert_eq!(s.terminate(), Some(0));
    let s = Server::start(&args);
    let mut c = s.conn();
    let v: String = redis::cmd("GET").arg("k999").query(&mut c).unwrap();
    assert_eq!(v, format!("2{value}"));
    let n: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 1000);
}

/// Function libraries persist as Redis keeps them: in the RDB file (which
/// redis-server 7.0 loads), in the AOF as FUNCTION LOAD, and in a
/// rewritten AOF's base.
#[test]
fn function_libraries_persist() {
    const LIB: &str = "#!lua name=keep\nredis.register_function('keep_get', function(keys) return redis.call('GET', keys[1]) end)";
    let libs = |c: &mut redis::Connection| -> Vec<String> {
        let list: Vec<redis::Value> = redis::cmd("FUNCTION").arg("LIST").query(c).unwrap();
        let text = format!("{list:?}");
        ["keep", "more"]
            .iter()
            .filter(|n| text.contains(&format!("\"{n}\"")) || text.contains(&format!("{n}")))
            .map(|n| n.to_string())
            .collect()
    };
    // RDB: SAVE, restart, and redis-server reads the same file.
    let dir = TempDir::new("fn-rdb");
    let mut s = Server::start(&["--dir", dir.path(), "--shards", "2"]);
    let mut c = s.conn();
    let name: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(LIB)
        .query(&mut c)
        .unwrap();
    assert_eq!(name, "keep");
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let () = redis::cmd("SAVE").query(&mut c).unwrap();
    assert_eq!(s.terminate(), Some(0));
    let s = Server::start(&["--dir", dir.path(), "--shards", "2"]);
    let mut c = s.conn();
    let v: String = redis::cmd("FCALL")
        .arg("keep_get")
        .arg(1)
        .arg("k")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, "v");
    drop(s);
    let r = Redis::start(&["--dir", dir.path(), "--dbfilename", "dump.rdb"]);
    let mut c = conn(r.port);
    let v: String = redis::cmd("FCALL")
        .arg("keep_get")
        .arg(1)
        .arg("k")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, "v");
    drop(r);
    // AOF: logged as FUNCTION LOAD, then kept by a rewrite's base.
    let adir = TempDir::new("fn-aof");
    let args = ["--dir", adir.path(), "--appendonly", "yes", "--shards", "2"];
    let mut s = Server::start(&args);
    let mut c = s.conn();
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(LIB)
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("SET").arg("k").arg("a").query(&mut c).unwrap();
    assert_eq!(s.terminate(), Some(0));
    let mut s = Server::start(&args);
    let mut c = s.conn();
    assert_eq!(libs(&mut c), ["keep"]);
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_persistence(&mut c, "aof_rewrites", "1");
    assert_eq!(s.terminate(), Some(0));
    let s = Server::start(&args);
    let mut c = s.conn();
    let v: String = redis::cmd("FCALL")
        .arg("keep_get")
        .arg(1)
        .arg("k")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, "a");
}

/// CONFIG SET appendonly yes on a running server with data: INFO says
/// enabled at once, the first rewrite writes a base of what was there
/// (while writers keep cross-shard pairs equal), and from its instant
/// every write is logged: a restart after kill -9 (under `always`) has
/// them all. CONFIG SET appendonly no stops the log: a write after it is
/// not in the file, and the files stay loadable.
#[test]
fn appendonly_turns_on_and_off_at_run_time() {
    let dir = TempDir::new("aof-runtime");
    let mut s = Server::start(&["--dir", dir.path(), "--shards", "2"]);
    let mut c = s.conn();
    let mut p = redis::pipe();
    for i in 0..2000 {
        p.cmd("SET").arg(format!("before:{i}")).arg(i).ignore();
    }
    let () = p.query(&mut c).unwrap();
    assert_eq!(field(&mut c, "aof_enabled"), "0");
    let stop = Arc::new(AtomicBool::new(false));
    let writer = pair_writer(s.url(), &stop, 100);
    std::thread::sleep(Duration::from_millis(200));
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("always")
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendonly")
        .arg("yes")
        .query(&mut c)
        .unwrap();
    assert_eq!(field(&mut c, "aof_enabled"), "1");
    wait_persistence(&mut c, "aof_rewrites", "1");
    std::thread::sleep(Duration::from_millis(200));
    let () = redis::cmd("SET")
        .arg("after-on")
        .arg(1)
        .query(&mut c)
        .unwrap();
    kill9(&mut s);
    stop.store(true, Ordering::Relaxed);
    let acked = writer.join().unwrap();
    drop(s);
    let args = ["--dir", dir.path(), "--shards", "2", "--appendonly", "yes"];
    let s = Server::start(&args);
    let mut c = s.conn();
    let n: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    let want = 2000 + 1 + acked + 2 * acked.min(100);
    assert!(n >= want, "keys lost: {n} < {want}");
    check_pairs(&mut c, acked, 100);
    let v: Option<i64> = redis::cmd("GET").arg("after-on").query(&mut c).unwrap();
    assert_eq!(v, Some(1));
    // Off: the log stops; what it has still loads.
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendonly")
        .arg("no")
        .query(&mut c)
        .unwrap();
    assert_eq!(field(&mut c, "aof_enabled"), "0");
    let () = redis::cmd("SET")
        .arg("after-off")
        .arg(1)
        .query(&mut c)
        .unwrap();
    drop(c);
    drop(s);
    let s = Server::start(&args);
    let mut c = s.conn();
    let (on, off): (Option<i64>, Option<i64>) = redis::cmd("MGET")
        .arg("after-on")
        .arg("after-off")
        .query(&mut c)
        .unwrap();
    assert_eq!((on, off), (Some(1), None));
    assert!(acked > 10, "too few writes: {acked}");
}

/// BGREWRITEAOF inside MULTI, and one sent while a BGSAVE runs, are
/// scheduled (Redis's replies) and run once nothing else is being saved.
#[test]
fn rewrites_inside_multi_and_behind_a_bgsave_are_scheduled() {
    let dir = TempDir::new("aof-sched");
    let s = Server::start(&["--dir", dir.path(), "--appendonly", "yes", "--shards", "2"]);
    let mut c = s.conn();
    let () = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
    let mut raw = s.raw();
    raw.send(&frame(&[b"MULTI"]));
    raw.send(&frame(&[b"BGREWRITEAOF"]));
    raw.send(&frame(&[b"EXEC"]));
    assert_eq!(
        raw.read_replies(3),
        [
            "+OK\r\n",
            "+QUEUED\r\n",
            "*1\r\n+Background append only file rewriting scheduled\r\n"
        ]
    );
    wait_persistence(&mut c, "aof_rewrites", "1");
    // One write, both commands: the BGSAVE is still running at the second.
    let mut both = frame(&[b"BGSAVE"]);
    both.extend(frame(&[b"BGREWRITEAOF"]));
    raw.send(&both);
    assert_eq!(
        raw.read_replies(2),
        [
            "+Background saving started\r\n",
            "+Background append only file rewriting scheduled\r\n"
        ]
    );
    wait_persistence(&mut c, "aof_rewrites", "2");
    assert_eq!(field(&mut c, "aof_last_bgrewrite_status"), "ok");
}

/// kill -9 while BGREWRITEAOF writes the new base leaves the previous
/// files usable: the manifest names the old base and every incremental
/// file, the next start loads all the data, and a rewrite then succeeds.
#[test]
fn kill_during_bgrewriteaof_keeps_the_files_usable() {
    let dir = TempDir::new("aof-kill-rewrite");
    // `always`: under `everysec` the last millisecond of acknowledged
    // writes may still be in the writer's queue at a kill -9.
    let args = aof_args(&dir, &["--appendfsync", "always", "--shards", "2"]);
    for round in 0..3 {
        let mut s = Server::start(&args);
        let mut c = s.conn();
        for chunk in (0..60_000).collect::<Vec<_>>().chunks(1000) {
            let mut p = redis::pipe();
            for i in chunk {
                p.cmd("SET").arg(format!("f:{i}")).arg(round).ignore();
            }
            let () = p.query(&mut c).unwrap();
        }
        let reply: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        assert_eq!(reply, "Background append only file rewriting started");
        kill9(&mut s);
        drop(s);
        let s = Server::start(&args);
        let mut c = s.conn();
        let n: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 60_000, "round {round}");
        let keys: Vec<String> = (0..60_000).step_by(101).map(|i| format!("f:{i}")).collect();
        let vals: Vec<i64> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
        assert!(vals.iter().all(|&v| v == round), "round {round}: {vals:?}");
    }
    let s = Server::start(&args);
    let mut c = s.conn();
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_persistence(&mut c, "aof_rewrites", "1");
    assert_eq!(field(&mut c, "aof_last_bgrewrite_status"), "ok");
}

/// Waits for the `n`th AOF rewrite to be done.
fn wait_rewrites(c: &mut redis::Connection, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while field(c, "aof_rewrites") != n.to_string() || field(c, "aof_rewrite_in_progress") != "0" {
        assert!(Instant::now() < deadline, "rewrite {n} did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Under `aof-use-rdb-preamble no` the base is `.base.aof`: the commands
/// that rebuild the keyspace, as Redis 7.0 writes them (items batched 64
/// to a command, PEXPIREAT, FUNCTION LOAD first). redis-check-aof accepts
/// tandem's directory, redis-server 7.0 and tandem load it with the same
/// contents, and tandem loads redis-server's; CONFIG SET back to yes makes
/// the next base an RDB file again.
#[test]
fn command_bases_without_rdb_preamble() {
    const LIB: &str =
        "#!lua name=mylib\nredis.register_function('answer', function(keys, args) return 42 end)";
    let dir = TempDir::new("aof-nopreamble");
    let args = aof_args(&dir, &["--aof-use-rdb-preamble", "no", "--shards", "3"]);
    let mut t = Server::start(&args);
    let aofdir = dir.0.join("appendonlydir");
    assert!(aofdir.join("appendonly.aof.1.base.aof").exists());
    workload(t.port);
    let mut c = t.conn();
    let items: Vec<String> = (0..200).map(|i| format!("e{i}")).collect();
    let _: i64 = redis::cmd("RPUSH")
        .arg("biglist")
        .arg(&items)
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("SADD")
        .arg("bigset")
        .arg(&items)
        .query(&mut c)
        .unwrap();
    let pairs: Vec<(String, String)> = items.iter().map(|i| (i.clone(), format!("v{i}"))).collect();
    let _: i64 = redis::cmd("HSET")
        .arg("bighash")
        .arg(&pairs)
        .query(&mut c)
        .unwrap();
    let scored: Vec<(f64, String)> = items
        .iter()
        .enumerate()
        .map(|(n, i)| (n as f64 / 10.0, i.clone()))
        .collect();
    let _: i64 = redis::cmd("ZADD")
        .arg("bigzset")
        .arg(&scored)
        .query(&mut c)
        .unwrap();
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(LIB)
        .query(&mut c)
        .unwrap();
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrites(&mut c, 1);
    let base = std::fs::read(aofdir.join("appendonly.aof.2.base.aof")).unwrap();
    assert!(base.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"));
    let text = String::from_utf8_lossy(&base);
    // 200 items: four commands each (64 + 64 + 64 + 8).
    for (cmd, key) in [
        ("RPUSH", "biglist"),
        ("SADD", "bigset"),
        ("HMSET", "bighash"),
        ("ZADD", "bigzset"),
    ] {
        let head = format!("\r\n{cmd}\r\n${}\r\n{key}\r\n", key.len());
        assert_eq!(text.matches(&head).count(), 4, "{cmd}");
    }
    assert!(text.contains("PEXPIREAT"));
    let _: () = redis::cmd("SET")
        .arg("after")
        .arg("rewrite")
        .query(&mut c)
        .unwrap();
    let expected = snapshot(t.port);
    assert_eq!(t.terminate(), Some(0));
    let check = output_within(
        Command::new("redis-check-aof").arg(aofdir.join("appendonly.aof.manifest")),
        30,
    );
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("All AOF files and manifest are valid"),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let fcall = |port: u16| -> i64 {
        redis::cmd("FCALL")
            .arg("answer")
            .arg(0)
            .query(&mut conn(port))
            .unwrap()
    };
    let r = redis_in(dir.path(), &[]);
    assert_eq!(snapshot(r.port), expected, "redis-server loading tandem's");
    assert_eq!(fcall(r.port), 42);
    drop(r);
    let t = Server::start(&args);
    assert_eq!(snapshot(t.port), expected, "tandem loading its own");
    assert_eq!(fcall(t.port), 42);
    // Back to an RDB preamble at run time.
    let mut c = t.conn();
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("aof-use-rdb-preamble")
        .arg("yes")
        .query(&mut c)
        .unwrap();
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrites(&mut c, 1);
    assert!(
        std::fs::read(aofdir.join("appendonly.aof.3.base.rdb"))
            .unwrap()
            .starts_with(b"REDIS")
    );
    assert!(!aofdir.join("appendonly.aof.2.base.aof").exists());
    drop(t);
    // redis-server's base of commands into tandem.
    redis_aof_into_tandem(
        "aof-nopreamble-redis",
        &["--aof-use-rdb-preamble", "no"],
        true,
    );
}

/// With one shard (the default layout, and colocated), BGREWRITEAOF and
/// CONFIG SET appendonly yes place their instant in the log as a
/// transaction over several shards does: the rewrite finishes, the next
/// incremental file opens, and a restart has every key.
#[test]
fn rewrites_with_one_shard() {
    for layout in [&["--shards", "1"][..], &["--colocated", "yes"]] {
        let dir = TempDir::new("aof-one-shard");
        let mut args: Vec<&str> = layout.to_vec();
        args.extend(["--dir", dir.path()]);
        let s = Server::start(&args);
        let mut c = s.conn();
        let _: () = redis::cmd("SET")
            .arg("before")
            .arg("1")
            .query(&mut c)
            .unwrap();
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("appendonly")
            .arg("yes")
            .query(&mut c)
            .unwrap();
        wait_rewrites(&mut c, 1);
        let _: () = redis::cmd("SET")
            .arg("between")
            .arg("2")
            .query(&mut c)
            .unwrap();
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        wait_rewrites(&mut c, 2);
        assert_eq!(
            field(&mut c, "aof_last_bgrewrite_status"),
            "ok",
            "{layout:?}"
        );
        let _: () = redis::cmd("SET")
            .arg("after")
            .arg("3")
            .query(&mut c)
            .unwrap();
        let manifest =
            std::fs::read_to_string(dir.0.join("appendonlydir/appendonly.aof.manifest")).unwrap();
        assert!(
            manifest.contains("appendonly.aof.2.base.rdb"),
            "{layout:?}: {manifest}"
        );
        drop(s);
        args.extend(["--appendonly", "yes"]);
        let s = Server::start(&args);
        let mut c = s.conn();
        let got: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&["before", "between", "after"])
            .query(&mut c)
            .unwrap();
        assert_eq!(
            got,
            [Some("1".into()), Some("2".into()), Some("3".into())],
            "{layout:?}"
        );
    }
}
