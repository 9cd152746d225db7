//! The operator's commands of issue #18 built so far: DEBUG PROTOCOL,
//! ERROR, SLEEP, SET-ACTIVE-EXPIRE and LOG, MEMORY USAGE, PURGE,
//! MALLOC-STATS and HELP, CLIENT PAUSE and UNPAUSE, and CLIENT REPLY. Replies Redis gives the same way are diffed
//! byte for byte against redis-server in three layouts and RESP3; the
//! rest is checked for its effect (keys left unexpired, a log line, sizes
//! that follow the value).

mod common;
use common::*;

use std::time::{Duration, Instant};

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

const SCRIPT: &[&[&str]] = &[
    &["DEBUG", "PROTOCOL", "string"],
    &["DEBUG", "PROTOCOL", "integer"],
    &["DEBUG", "PROTOCOL", "double"],
    &["DEBUG", "PROTOCOL", "bignum"],
    &["DEBUG", "PROTOCOL", "null"],
    &["DEBUG", "PROTOCOL", "array"],
    &["DEBUG", "PROTOCOL", "set"],
    &["DEBUG", "PROTOCOL", "map"],
    &["DEBUG", "PROTOCOL", "attrib"],
    &["DEBUG", "PROTOCOL", "push"],
    &["DEBUG", "PROTOCOL", "verbatim"],
    &["DEBUG", "PROTOCOL", "true"],
    &["DEBUG", "PROTOCOL", "false"],
    &["DEBUG", "PROTOCOL", "TRUE"],
    &["DEBUG", "PROTOCOL", "nope"],
    &["DEBUG", "PROTOCOL"],
    &["DEBUG", "ERROR", "MYERR something\r\nbroke"],
    &["DEBUG", "ERROR", "plain words"],
    &["DEBUG", "SLEEP", "0"],
    &["DEBUG", "SLEEP", "abc"],
    &["DEBUG", "SLEEP", "-1"],
    &["DEBUG", "SLEEP", "0.01"],
    &["DEBUG", "SLEEP"],
    &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
    &["DEBUG", "SET-ACTIVE-EXPIRE"],
    &["DEBUG", "LOG", "from the operations test"],
    &["MEMORY", "HELP"],
    &["MEMORY", "HELP", "extra"],
    &["MEMORY", "nope"],
    &["MEMORY", "USAGE"],
    &["MEMORY", "USAGE", "missing"],
    &["SET", "k", "v"],
    &["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
    &["MEMORY", "USAGE", "k", "SAMPLES", "x"],
    &["MEMORY", "USAGE", "k", "SAMPLES"],
    &["MEMORY", "USAGE", "k", "FOO", "1"],
    &["MEMORY", "USAGE", "missing", "SAMPLES", "0"],
    &["MEMORY", "PURGE"],
    &["MEMORY", "PURGE", "now"],
    &["CLIENT", "PAUSE", "abc"],
    &["CLIENT", "PAUSE", "-1"],
    &["CLIENT", "PAUSE", "10", "foo"],
    &["CLIENT", "PAUSE", "abc", "foo"],
    &["CLIENT", "PAUSE"],
    &["CLIENT", "UNPAUSE", "x"],
    &["CLIENT", "PAUSE", "0", "WRITE"],
    &["CLIENT", "UNPAUSE"],
    &["SET", "after-pause", "1"],
    &["CLIENT", "UNBLOCK"],
    &["CLIENT", "UNBLOCK", "x"],
    &["CLIENT", "UNBLOCK", "x", "sometimes"],
    &["CLIENT", "UNBLOCK", "99999", "sometimes"],
    &["CLIENT", "UNBLOCK", "99999", "ERROR"],
    &["CLIENT", "UNBLOCK", "-5"],
    &["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"],
];

/// Every reply in [`SCRIPT`] matches redis-server's byte for byte, in
/// three layouts and then in RESP3.
#[test]
fn replies_match_redis_byte_for_byte() {
    let redis = Redis::start(DEBUG_ON);
    for mode in MODES {
        let args: Vec<&str> = mode.iter().chain(DEBUG_ON).copied().collect();
        let s = Server::start(&args);
        let mut ours = s.raw();
        let mut theirs = redis.raw();
        let ctx = format!("{mode:?}");
        both(&mut ours, &mut theirs, &["FLUSHALL"], &ctx);
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        hello3(&mut ours, &mut theirs);
        both(&mut ours, &mut theirs, &["FLUSHALL"], &ctx);
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &format!("{ctx} RESP3"));
        }
        s.assert_alive();
    }
}

/// DEBUG is refused unless `enable-debug-command` allows it, as in Redis.
#[test]
fn debug_needs_enable_debug_command() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let e = err(&mut c, &["DEBUG", "PROTOCOL", "string"]);
    assert!(e.contains("DEBUG command not allowed"), "{e}");
}

/// With SET-ACTIVE-EXPIRE 0 nothing expires in the background: keys past
/// their deadline stay counted until touched; with 1 again they go.
#[test]
fn set_active_expire_stops_and_restarts_background_expiry() {
    for mode in MODES {
        let args: Vec<&str> = mode.iter().chain(DEBUG_ON).copied().collect();
        let s = Server::start(&args);
        let mut c = s.conn();
        let _: String = q(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "0"]).unwrap();
        for k in spread("exp", 30) {
            let _: () = q(&mut c, &["SET", &k, "v", "PX", "20"]).unwrap();
        }
        // Several expiry ticks (hz 10) pass; nothing reclaims the keys.
        std::thread::sleep(Duration::from_millis(400));
        let n: i64 = q(&mut c, &["DBSIZE"]).unwrap();
        assert_eq!(n, 30, "{mode:?}: keys expired with active expiry off");
        let _: String = q(&mut c, &["DEBUG", "SET-ACTIVE-EXPIRE", "1"]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let n: i64 = q(&mut c, &["DBSIZE"]).unwrap();
            if n == 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{mode:?}: {n} keys never expired"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        s.assert_alive();
    }
}

/// DEBUG LOG writes its message to the server log; DEBUG SLEEP answers OK
/// after its pause and the server goes on.
#[test]
fn debug_log_and_sleep() {
    let s = Server::start(DEBUG_ON);
    let mut c = s.conn();
    let _: String = q(&mut c, &["DEBUG", "LOG", "marker-31337"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.log().contains("DEBUG LOG: marker-31337") {
        assert!(Instant::now() < deadline, "no log line: {}", s.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let ok: String = q(&mut c, &["DEBUG", "SLEEP", "0.05"]).unwrap();
    assert_eq!(ok, "OK");
    let pong: String = q(&mut c, &["PING"]).unwrap();
    assert_eq!(pong, "PONG");
}

/// MEMORY USAGE follows the value: a bigger string, a longer list, a
/// stream with more entries cost more; a missing key is null; a value
/// type of every family answers. MALLOC-STATS says what Redis says for an
/// allocator without a report; STATS counts every shard's keys and tables
/// per database; DOCTOR answers.
#[test]
fn memory_usage_follows_the_value() {
    each_mode(|s| {
        let mut c = s.conn();
        let usage =
            |c: &mut redis::Connection, k: &str| -> i64 { q(c, &["MEMORY", "USAGE", k]).unwrap() };
        let _: () = q(&mut c, &["SET", "small", "x"]).unwrap();
        let big = "y".repeat(10_000);
        let _: () = q(&mut c, &["SET", "big", &big]).unwrap();
        let small = usage(&mut c, "small");
        assert!(small > 0);
        assert!(usage(&mut c, "big") >= small + 10_000);
        for (k, n) in [("l1", 10), ("l2", 10_000)] {
            let items: Vec<String> = (0..n).map(|i| format!("item-{i}")).collect();
            let mut cmd = vec!["RPUSH", k];
            cmd.extend(items.iter().map(|s| s.as_str()));
            let _: i64 = q(&mut c, &cmd).unwrap();
        }
        assert!(usage(&mut c, "l2") > usage(&mut c, "l1") + 50_000);
        for i in 0..500 {
            let _: String = q(&mut c, &["XADD", "st", "*", "f", &i.to_string()]).unwrap();
        }
        let _: String = q(&mut c, &["XADD", "st1", "*", "f", "v"]).unwrap();
        assert!(usage(&mut c, "st") > usage(&mut c, "st1"));
        let _: i64 = q(&mut c, &["SADD", "set", "a", "b"]).unwrap();
        let _: i64 = q(&mut c, &["HSET", "h", "a", "b"]).unwrap();
        let _: i64 = q(&mut c, &["ZADD", "z", "1", "a"]).unwrap();
        for k in ["set", "h", "z"] {
            assert!(usage(&mut c, k) > 0, "{k}");
        }
        let none: Option<i64> = q(&mut c, &["MEMORY", "USAGE", "nothing"]).unwrap();
        assert_eq!(none, None);
        let stats: String = q(&mut c, &["MEMORY", "MALLOC-STATS"]).unwrap();
        assert_eq!(stats, "Stats not supported for the current allocator");
        // MEMORY STATS: every shard's keys and tables, the allocator's total.
        let _: () = q(&mut c, &["SELECT", "5"]).unwrap();
        let _: () = q(&mut c, &["SET", "in5", "v"]).unwrap();
        let _: () = q(&mut c, &["SELECT", "0"]).unwrap();
        // A megabyte of data: more than the allocator's drift since
        // start-up (buffers the threads free or grow), which a few small
        // keys are not.
        let _: () = q(&mut c, &["SET", "big", &"x".repeat(1 << 20)]).unwrap();
        let stats: std::collections::HashMap<String, redis::Value> =
            q(&mut c, &["MEMORY", "STATS"]).unwrap();
        let int = |k: &str| match stats.get(k) {
            Some(redis::Value::Int(n)) => *n,
            other => panic!("{k}: {other:?}"),
        };
        let dbsize: i64 = q(&mut c, &["DBSIZE"]).unwrap();
        assert_eq!(int("keys.count"), dbsize + 1);
        assert!(int("total.allocated") > int("startup.allocated"));
        assert!(int("overhead.total") > 0 && int("dataset.bytes") > 0);
        for db in ["db.0", "db.5"] {
            let Some(redis::Value::Array(m)) = stats.get(db) else {
                panic!("{db}: {stats:?}")
            };
            assert_eq!(
                m[0],
                redis::Value::BulkString(b"overhead.hashtable.main".to_vec())
            );
            assert!(matches!(m[1], redis::Value::Int(n) if n > 0), "{m:?}");
        }
        assert!(!stats.contains_key("db.1"));
        let doctor: String = q(&mut c, &["MEMORY", "DOCTOR"]).unwrap();
        assert!(!doctor.is_empty());
        // Inside MULTI it cannot gather: refused, not answered wrong.
        let mut p = redis::pipe();
        p.atomic().cmd("MEMORY").arg("STATS");
        let e = p.query::<redis::Value>(&mut c).unwrap_err();
        assert!(e.to_string().contains("not implemented"), "{e}");
        s.assert_alive();
    });
}

/// CLIENT PAUSE WRITE holds writes (plain, queued in MULTI, EXEC) from
/// every client on every IO thread, not reads; nothing they write lands
/// until CLIENT UNPAUSE, then all of it does. CLIENT PAUSE ALL holds every
/// command until its time is up, and they all run then.
#[test]
fn client_pause_holds_writes_until_unpause() {
    for mode in MODES {
        let s = Server::start(mode);
        let mut admin = s.conn();
        let keys = spread("paused", 6);
        let _: String = q(&mut admin, &["CLIENT", "PAUSE", "100000", "WRITE"]).unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let mut writers = Vec::new();
        for (i, k) in keys.iter().enumerate() {
            let url = s.url();
            let k = k.clone();
            let tx = tx.clone();
            writers.push(std::thread::spawn(move || {
                // Half of them on each IO thread of a 2-IO layout.
                let mut c = conn_on(&url, i % 2);
                if i % 3 == 0 {
                    let _: Vec<redis::Value> = redis::pipe()
                        .atomic()
                        .cmd("SET")
                        .arg(&k)
                        .arg("v")
                        .query(&mut c)
                        .unwrap();
                } else {
                    let _: () = q(&mut c, &["SET", &k, "v"]).unwrap();
                }
                let _ = tx.send(k);
            }));
        }
        // Reads go on meanwhile; none of the writes has landed.
        let mut reader = s.conn();
        for _ in 0..20 {
            for k in &keys {
                let v: Option<String> = q(&mut reader, &["GET", k]).unwrap();
                assert_eq!(v, None, "{mode:?}: {k} written during CLIENT PAUSE WRITE");
            }
            let pong: String = q(&mut reader, &["PING"]).unwrap();
            assert_eq!(pong, "PONG");
        }
        assert!(
            rx.try_recv().is_err(),
            "{mode:?}: a write answered during the pause"
        );
        let _: String = q(&mut admin, &["CLIENT", "UNPAUSE"]).unwrap();
        for _ in &keys {
            rx.recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|_| panic!("{mode:?}: a held write never ran"));
        }
        for w in writers {
            w.join().unwrap();
        }
        for k in &keys {
            let v: Option<String> = q(&mut reader, &["GET", k]).unwrap();
            assert_eq!(v.as_deref(), Some("v"), "{mode:?}: {k}");
        }
        // ALL: held until it ends by itself, then run.
        let _: String = q(&mut admin, &["CLIENT", "PAUSE", "300", "ALL"]).unwrap();
        let n: i64 = q(&mut reader, &["DEL", &keys[0]]).unwrap();
        assert_eq!(n, 1);
        let pong: String = q(&mut admin, &["PING"]).unwrap();
        assert_eq!(pong, "PONG");
        s.assert_alive();
    }
}

/// CLIENT REPLY OFF, SKIP and ON leave out exactly the replies Redis
/// leaves out, whatever answers them (the IO thread, one shard, several
/// shards, an error), in every layout and in RESP3: the bytes a pipeline
/// gets back are redis-server's.
#[test]
fn client_reply_mutes_what_redis_mutes() {
    let pipeline: &[&[&str]] = &[
        &["CLIENT", "REPLY", "OFF"],
        &["SET", "r1", "1"],
        &["NOSUCHCMD"],
        &["GET", "r1"],
        &["CLIENT", "REPLY", "bad"],
        &["CLIENT", "REPLY"],
        &["MGET", "r1", "a", "b", "c"],
        &["CLIENT", "REPLY", "ON"],
        &["GET", "r1"],
        &["CLIENT", "REPLY", "SKIP"],
        &["GET", "r1"],
        &["INCR", "r1"],
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "ON"],
        &["GET", "r1"],
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "OFF"],
        &["PING"],
        &["CLIENT", "REPLY", "ON"],
        &["DEL", "{x}a", "{x}b", "zz", "yy"],
        &["CLIENT", "REPLY", "SKIP"],
        &["MGET", "a", "b", "c", "d"],
        &["CLIENT", "REPLY", "SKIP"],
        &["BLPOP", "empty", "0.01"],
        &["CLIENT", "REPLY", "SKIP"],
        &["MULTI"],
        &["SET", "in-multi", "1"],
        &["EXEC"],
        &["GET", "in-multi"],
        &["PING", "end"],
    ];
    let redis = Redis::start(&[]);
    for resp3 in [false, true] {
        for mode in MODES {
            let s = Server::start(mode);
            let mut got = Vec::new();
            for port in [s.port, redis.port] {
                let mut r = if port == s.port { s.raw() } else { redis.raw() };
                if resp3 {
                    r.send(&frame(&[b"HELLO", b"3"]));
                    let _ = r.read_reply();
                }
                r.send(&frame(&[b"FLUSHALL"]));
                let _ = r.read_reply();
                let mut bytes = Vec::new();
                for cmd in pipeline {
                    let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
                    bytes.extend(frame(&args));
                }
                r.send(&bytes);
                let mut replies = Vec::new();
                for _ in 0..pipeline.len() {
                    let rep = r.read_reply();
                    let end = rep.contains("end");
                    replies.push(rep);
                    if end {
                        break;
                    }
                }
                got.push(replies);
            }
            assert_eq!(got[0], got[1], "{mode:?} resp3={resp3}");
            s.assert_alive();
        }
    }
}

/// CLIENT UNBLOCK ends a blocked client's wait from another connection on
/// another IO thread: as a timeout (BLPOP's null, XREAD BLOCK's null), or
/// with `-UNBLOCKED` under ERROR, answering 1; a client that is not
/// blocked, or no client, gets 0 and is left alone.
#[test]
fn client_unblock_ends_a_wait() {
    for mode in MODES {
        let s = Server::start(mode);
        let url = s.url();
        let mut waiter = conn_on(&url, 0);
        let mut other = conn_on(&url, 1);
        let id: i64 = q(&mut waiter, &["CLIENT", "ID"]).unwrap();
        let id = id.to_string();
        let cases: [(&[&str], &str); 3] = [
            (&["BLPOP", "list", "0"], "TIMEOUT"),
            (
                &["XREAD", "BLOCK", "0", "STREAMS", "stream", "$"],
                "TIMEOUT",
            ),
            (&["BZPOPMIN", "zset", "0"], "ERROR"),
        ];
        for (cmd, how) in cases {
            let cmd: Vec<String> = cmd.iter().map(|a| a.to_string()).collect();
            let h = std::thread::spawn(move || {
                let r = redis::cmd(&cmd[0])
                    .arg(&cmd[1..])
                    .query::<redis::Value>(&mut waiter);
                (r, waiter)
            });
            s.wait_blocked(1);
            let n: i64 = q(&mut other, &["CLIENT", "UNBLOCK", &id, how]).unwrap();
            assert_eq!(n, 1, "{mode:?} {how}");
            let (r, back) = h.join().unwrap();
            waiter = back;
            match how {
                "TIMEOUT" => assert_eq!(r.unwrap(), redis::Value::Nil, "{mode:?}"),
                _ => {
                    let e = r.unwrap_err();
                    assert_eq!(e.code(), Some("UNBLOCKED"), "{mode:?}: {e}");
                }
            }
            s.wait_blocked(0);
        }
        // Not blocked, or no such client: 0, and the client goes on.
        let n: i64 = q(&mut other, &["CLIENT", "UNBLOCK", &id]).unwrap();
        assert_eq!(n, 0);
        let n: i64 = q(&mut other, &["CLIENT", "UNBLOCK", "987654", "ERROR"]).unwrap();
        assert_eq!(n, 0);
        let pong: String = q(&mut waiter, &["PING"]).unwrap();
        assert_eq!(pong, "PONG");
        // The wait is gone on its shard: a later push is not popped for it.
        let _: i64 = q(&mut other, &["RPUSH", "list", "a"]).unwrap();
        let len: i64 = q(&mut other, &["LLEN", "list"]).unwrap();
        assert_eq!(len, 1, "{mode:?}");
        s.assert_alive();
    }
}

/// DEBUG DIGEST and DIGEST-VALUE give redis-server's digests for the same
/// data, in three layouts: every type in its small and large encodings,
/// integers kept as numbers, TTLs, several databases, an empty dataset;
/// DEBUG RELOAD leaves the digest as it was.
#[test]
fn digests_match_redis() {
    let redis = Redis::start(DEBUG_ON);
    let big: Vec<String> = (0..300).map(|i| format!("m{i}")).collect();
    let mut script: Vec<Vec<String>> = vec![
        words("SET s hello"),
        words("SET n 12345"),
        words("SET ttl v EX 1000"),
        words("RPUSH l a b 7"),
        words("SADD si 1 2 3"),
        words("SADD ss x y"),
        words("HSET h f v g 9"),
        words("ZADD z 1.5 a -2 b"),
        words("XADD x 1-1 f v n 5"),
        words("XADD x 2-0 g w"),
        words("XADD x 3-0 h u"),
        words("XDEL x 2-0"),
        words("SELECT 3"),
        vec!["SET".into(), "s".into(), "in db 3".into()],
        words("SELECT 0"),
    ];
    for (cmd, key) in [("SADD", "bigset"), ("RPUSH", "biglist")] {
        let mut c = vec![cmd.to_string(), key.to_string()];
        c.extend(big.iter().cloned());
        script.push(c);
    }
    let mut hset = vec!["HSET".to_string(), "bighash".to_string()];
    let mut zadd = vec!["ZADD".to_string(), "bigz".to_string()];
    for (i, m) in big.iter().enumerate() {
        hset.extend([m.clone(), format!("value-{i}")]);
        zadd.extend([format!("{}", i as f64 / 7.0), m.clone()]);
    }
    script.extend([hset, zadd]);
    let keys = [
        "s", "n", "ttl", "l", "si", "ss", "h", "z", "x", "bigset", "biglist", "bighash", "bigz",
        "missing",
    ];
    let mut value_cmd = vec!["DEBUG", "DIGEST-VALUE"];
    value_cmd.extend(keys);
    for mode in MODES {
        // DEBUG RELOAD writes its file in `dir`.
        let dir = TempDir::new("digest");
        let args: Vec<&str> = mode
            .iter()
            .chain(DEBUG_ON)
            .chain(&["--dir", dir.path()])
            .copied()
            .collect();
        let s = Server::start(&args);
        let mut ours = s.raw();
        let mut theirs = redis.raw();
        let ctx = format!("{mode:?}");
        both(&mut ours, &mut theirs, &["FLUSHALL"], &ctx);
        let empty = both(&mut ours, &mut theirs, &["DEBUG", "DIGEST"], &ctx);
        assert_eq!(empty, format!("+{}\r\n", "0".repeat(40)));
        for cmd in &script {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        let digest = both(&mut ours, &mut theirs, &["DEBUG", "DIGEST"], &ctx);
        assert_ne!(digest, empty);
        both(&mut ours, &mut theirs, &value_cmd, &ctx);
        // A reload keeps every value as it was.
        let mut c = s.conn();
        let _: () = q(&mut c, &["DEBUG", "RELOAD"]).unwrap();
        ours.send(&frame(&[b"DEBUG", b"DIGEST"]));
        assert_eq!(ours.read_reply(), digest, "{ctx}: after DEBUG RELOAD");
        s.assert_alive();
    }
}

/// A command from its words, split at spaces.
fn words(line: &str) -> Vec<String> {
    line.split(' ').map(String::from).collect()
}

/// What MONITOR shows for `script` run by one client: its lines with the
/// time cut off and the client's address replaced by `me`, up to the
/// ECHO that ends the script.
fn monitored(monitor: &mut Raw, client: &mut Raw, script: &[Vec<&str>]) -> Vec<String> {
    monitor.send(&frame(&[b"MONITOR"]));
    assert_eq!(monitor.read_reply(), "+OK\r\n");
    client.send(&frame(&[b"CLIENT", b"INFO"]));
    let info = client.read_reply();
    let me = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .unwrap()
        .to_string();
    for cmd in script {
        let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        client.send(&frame(&f));
        client.read_reply();
    }
    client.send(&frame(&[b"ECHO", b"the end"]));
    client.read_reply();
    let mut lines = Vec::new();
    for _ in 0..200 {
        let l = monitor.read_reply();
        // `+<s>.<us> [<db> <who>] args`: drop the time.
        let (_, rest) = l.split_once(' ').expect("a MONITOR line");
        let rest = rest.trim_end().replace(&me, "me");
        let done = rest.ends_with("\"ECHO\" \"the end\"");
        lines.push(rest);
        if done {
            return lines;
        }
    }
    panic!("no end of script in {lines:?}");
}

/// MONITOR shows what redis-server's shows for the same commands, in the
/// same order, in three layouts: the database and client of each command,
/// arguments quoted as Redis quotes them, secrets redacted, administrative
/// commands left out, a split MSET whole, a MULTI block's commands between
/// MULTI and EXEC, a script's commands as `lua` after its EVAL, blocking
/// commands; RESET ends it.
#[test]
fn monitor_matches_redis() {
    let redis = Redis::start(&[]);
    let script: Vec<Vec<&str>> = vec![
        vec!["SET", "k", "plain"],
        vec!["SET", "q\"w", "a\nb\r\t\\\u{1}"],
        vec!["GET", "k"],
        vec!["MSET", "x", "1", "y", "2", "z", "3"],
        vec!["MULTI"],
        vec!["SET", "a", "1"],
        vec!["INCR", "a"],
        // A connection command in the block (PING, ECHO) would show before
        // the block's other commands: tandem answers it while planning.
        vec!["EXEC"],
        vec![
            "EVAL",
            "redis.call('set', KEYS[1], 'from lua') return 1",
            "1",
            "s",
        ],
        vec!["AUTH", "nobody", "secret"],
        vec!["CONFIG", "GET", "port"],
        vec!["SELECT", "2"],
        vec!["SET", "in2", "v"],
        vec!["SELECT", "0"],
        vec!["BLPOP", "nothing", "0.01"],
        vec!["DBSIZE"],
        vec!["EXEC"],
    ];
    for mode in MODES {
        let s = Server::start(mode);
        let ours = monitored(&mut s.raw(), &mut s.raw(), &script);
        let theirs = monitored(&mut redis.raw(), &mut redis.raw(), &script);
        assert_eq!(ours, theirs, "{mode:?}");
        // RESET ends MONITOR: the client gets replies again, no lines.
        let mut m = s.raw();
        m.send(&frame(&[b"MONITOR"]));
        assert_eq!(m.read_reply(), "+OK\r\n");
        m.send(&frame(&[b"RESET"]));
        let mut c = s.conn();
        let _: () = q(&mut c, &["SET", "after", "reset"]).unwrap();
        // The SET may show before RESET is seen; then only RESET's reply.
        let mut r = m.read_reply();
        if r.starts_with("+1") || r.starts_with("+2") {
            r = m.read_reply();
        }
        assert_eq!(r, "+RESET\r\n", "{mode:?}");
        m.send(&frame(&[b"PING"]));
        assert_eq!(m.read_reply(), "+PONG\r\n", "{mode:?}");
        s.assert_alive();
    }
}

/// DEBUG OBJECT answers as redis-server does for every type and encoding
/// (refcount, encoding, serialized length, a list's quicklist figures),
/// leaving out the address and the access clock; a missing key is an
/// error in both.
#[test]
fn debug_object_matches_redis() {
    let redis = Redis::start(DEBUG_ON);
    let long: Vec<String> = (0..2000).map(|i| format!("element-{i}")).collect();
    let mut script: Vec<Vec<String>> = vec![
        words("SET s hello"),
        words("SET n 123"),
        vec!["SET".into(), "big".into(), "x".repeat(100)],
        words("RPUSH l a b c"),
        words("SADD si 1 2"),
        words("SADD ss a"),
        words("HSET h a b"),
        words("ZADD z 1 a"),
        words("XADD x 1-1 a b"),
    ];
    let mut push = vec!["RPUSH".to_string(), "biglist".to_string()];
    push.extend(long.iter().cloned());
    script.push(push);
    let strip = |r: &str| -> String {
        r.split(' ')
            .filter(|f| !f.starts_with("at:") && !f.starts_with("lru"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    for mode in MODES {
        let args: Vec<&str> = mode.iter().chain(DEBUG_ON).copied().collect();
        let s = Server::start(&args);
        let mut ours = s.raw();
        let mut theirs = redis.raw();
        let ctx = format!("{mode:?}");
        both(&mut ours, &mut theirs, &["FLUSHALL"], &ctx);
        for cmd in &script {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        for k in ["s", "n", "big", "l", "si", "ss", "h", "z", "x", "biglist"] {
            let f = frame(&[b"DEBUG", b"OBJECT", k.as_bytes()]);
            ours.send(&f);
            theirs.send(&f);
            let (a, b) = (ours.read_reply(), theirs.read_reply());
            assert!(a.starts_with("+Value at:0x"), "{ctx} {k}: {a}");
            // The encoding is OBJECT ENCODING's, where tandem has Redis
            // 7.2's small lists and sets (listpack); the rest is Redis 7.0's.
            ours.send(&frame(&[b"OBJECT", b"ENCODING", k.as_bytes()]));
            let enc = ours.read_reply();
            let enc = enc.lines().nth(1).unwrap_or_default();
            assert!(
                a.contains(&format!(" encoding:{enc} ")),
                "{ctx} {k}: {a} vs {enc}"
            );
            let no_enc = |r: &str| {
                strip(r)
                    .split(' ')
                    .filter(|f| !f.starts_with("encoding:"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            assert_eq!(no_enc(&a), no_enc(&b), "{ctx} {k}");
        }
        both(
            &mut ours,
            &mut theirs,
            &["DEBUG", "OBJECT", "missing"],
            &ctx,
        );
        both(&mut ours, &mut theirs, &["DEBUG", "OBJECT"], &ctx);
        s.assert_alive();
    }
}

/// COMMAND LIST FILTERBY ACLCAT lists a category's commands, MODULE
/// none (no modules), a bad filter is a syntax error as in Redis
/// (`acl::keys_and_flags_match_redis` covers GETKEYS and GETKEYSANDFLAGS).
#[test]
fn command_list_filters() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let hll: Vec<String> = q(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "hyperloglog"],
    )
    .unwrap();
    for name in ["pfadd", "pfcount", "pfmerge"] {
        assert!(hll.iter().any(|n| n == name), "{hll:?}");
    }
    assert!(!hll.iter().any(|n| n == "set"), "{hll:?}");
    let none: Vec<String> = q(&mut c, &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]).unwrap();
    assert!(none.is_empty());
    let mut pat: Vec<String> =
        q(&mut c, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "xa*"]).unwrap();
    pat.sort();
    assert_eq!(
        pat,
        vec![
            "xack".to_string(),
            "xadd".to_string(),
            "xautoclaim".to_string()
        ]
    );
    let e = err(&mut c, &["COMMAND", "LIST", "FILTERBY", "foo", "x"]);
    assert!(e.contains("syntax error"), "{e}");
}

/// DEBUG CHANGE-REPL-ID gives INFO a new `master_replid` (its own id, not
/// the run id); DEBUG STRINGMATCH-TEST runs the glob matcher over random
/// patterns and answers as Redis 7.0 does.
#[test]
fn debug_repl_id_and_stringmatch_test() {
    let s = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = s.conn();
    let field = |c: &mut redis::Connection, section: &str, name: &str| -> String {
        let text: String = q(c, &["INFO", section]).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name}"))
            .to_string()
    };
    let before = field(&mut c, "replication", "master_replid");
    assert_eq!(before.len(), 40);
    assert_ne!(before, field(&mut c, "server", "run_id"));
    let _: () = q(&mut c, &["DEBUG", "CHANGE-REPL-ID"]).unwrap();
    let after = field(&mut c, "replication", "master_replid");
    assert_eq!(after.len(), 40);
    assert_ne!(before, after);
    let ok: String = q(&mut c, &["DEBUG", "STRINGMATCH-TEST"]).unwrap();
    assert_eq!(ok, "Apparently Redis did not crash: test passed");
    s.assert_alive();
}

/// INFO everything has every field redis-server 7.0 has, section by
/// section and in its order (values differ; tandem's own `tandem_*`
/// fields and Tandem section come on top).
#[test]
fn info_fields_match_redis() {
    let redis = Redis::start(&[]);
    let names = |text: &str| -> Vec<String> {
        let mut out = Vec::new();
        let mut skip = false;
        for l in text.lines() {
            if let Some(sec) = l.strip_prefix("# ") {
                skip = sec == "Tandem";
                if !skip {
                    out.push(l.to_string());
                }
                continue;
            }
            let Some((name, _)) = l.split_once(':') else {
                continue;
            };
            if skip
                || name.starts_with("tandem_")
                || name.starts_with("cmdstat_")
                || name.starts_with("errorstat_")
                || name.starts_with("latency_percentiles_usec_")
            {
                continue;
            }
            out.push(name.to_string());
        }
        out
    };
    let mut theirs = redis::Client::open(format!("redis://127.0.0.1:{}/", redis.port))
        .unwrap()
        .get_connection()
        .unwrap();
    let want = names(&q::<String>(&mut theirs, &["INFO", "everything"]).unwrap());
    each_mode(|s| {
        let mut c = s.conn();
        let got = names(&q::<String>(&mut c, &["INFO", "everything"]).unwrap());
        assert_eq!(got, want);
    });
}

fn info_number(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let text: String = q(c, &["INFO", section]).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// INFO's `total_reads_processed` and `total_writes_processed` count
/// receives and sends, CONFIG RESETSTAT zeroes them; `tracking_clients`
/// counts clients with CLIENT TRACKING on.
#[test]
fn info_counts_reads_writes_and_tracking_clients() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]).unwrap();
        for i in 0..20 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
        }
        let reads = info_number(&mut c, "stats", "total_reads_processed");
        let writes = info_number(&mut c, "stats", "total_writes_processed");
        // Each round trip is at least one receive and one send.
        assert!(reads >= 20 && writes >= 20, "{reads} {writes}");
        assert!(reads <= 200 && writes <= 200, "{reads} {writes}");
        assert_eq!(info_number(&mut c, "clients", "tracking_clients"), 0);
        let mut t = s.conn();
        let _: () = q(&mut t, &["CLIENT", "TRACKING", "ON"]).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while info_number(&mut c, "clients", "tracking_clients") != 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "tracking client never counted"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
}
