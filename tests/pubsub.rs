//! Pub/Sub: the subscribe family, PUBLISH/SPUBLISH, PUBSUB, RESP2
//! subscribed mode and RESP3 pushes, diffed byte for byte against
//! redis-server in every layout (subscribers and publishers on different
//! IO threads), plus message order under concurrent publishers, slow
//! subscribers cut off at `client-output-buffer-limit`, scripts that
//! publish, and real clients (the `redis` crate, redis-cli).

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{LAYOUTS, Raw, Redis, Server, frame, q};

fn send(r: &mut Raw, args: &[&str]) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    r.send(&frame(&a));
}

/// Sends each command and reads the given number of replies (frames),
/// recording them in `log`.
fn step(r: &mut Raw, log: &mut Vec<String>, args: &[&str], frames: usize) {
    send(r, args);
    let got = r.read_replies(frames);
    log.push(format!("{args:?} -> {}", got.concat()));
}

/// One connection through the whole subscribe family in RESP2: subscribed
/// mode, its errors and PING, unsubscribe-all (pattern order is Redis
/// 7.0's list order), PUBSUB introspection, PUBLISH inside MULTI, RESET.
fn one_connection(connect: &dyn Fn() -> Raw) -> Vec<String> {
    let mut r = connect();
    let mut log = Vec::new();
    let l = &mut log;
    step(&mut r, l, &["SUBSCRIBE", "a", "b", "a"], 3);
    step(&mut r, l, &["PSUBSCRIBE", "p*", "q?", "p*"], 3);
    step(&mut r, l, &["SSUBSCRIBE", "s1"], 1);
    step(&mut r, l, &["GET", "k"], 1);
    step(&mut r, l, &["CLIENT", "LIST"], 1);
    step(&mut r, l, &["PING"], 1);
    step(&mut r, l, &["PING", "x"], 1);
    step(&mut r, l, &["PUBLISH", "a", "x"], 1);
    step(&mut r, l, &["UNSUBSCRIBE", "a", "zz"], 2);
    step(&mut r, l, &["PUNSUBSCRIBE"], 2);
    step(&mut r, l, &["PUNSUBSCRIBE"], 1);
    step(&mut r, l, &["SUNSUBSCRIBE"], 1);
    step(&mut r, l, &["UNSUBSCRIBE"], 1);
    step(&mut r, l, &["UNSUBSCRIBE"], 1);
    step(&mut r, l, &["PING"], 1);
    step(&mut r, l, &["SUBSCRIBE"], 1);
    step(&mut r, l, &["PUBSUB"], 1);
    step(&mut r, l, &["PUBSUB", "HELP"], 1);
    step(&mut r, l, &["PUBSUB", "FOO"], 1);
    step(&mut r, l, &["PUBSUB", "NUMPAT", "x"], 1);
    step(&mut r, l, &["PUBSUB", "CHANNELS", "a", "b"], 1);
    step(&mut r, l, &["PUBSUB", "NUMSUB"], 1);
    step(&mut r, l, &["PUBLISH", "a"], 1);
    step(&mut r, l, &["MULTI"], 1);
    step(&mut r, l, &["PUBLISH", "a", "x"], 1);
    step(&mut r, l, &["PUBSUB", "NUMSUB", "a"], 1);
    step(&mut r, l, &["EXEC"], 1);
    step(&mut r, l, &["SUBSCRIBE", "a"], 1);
    step(&mut r, l, &["RESET"], 1);
    step(&mut r, l, &["GET", "k"], 1);
    step(&mut r, l, &["PUBSUB", "NUMSUB", "a"], 1);
    log
}

/// Two subscribers (RESP2 and RESP3) and a publisher on separate
/// connections: messages, pattern messages, shard messages, a RESP3
/// subscriber running commands and publishing to itself, PUBSUB counts,
/// CLIENT KILL TYPE pubsub.
fn three_connections(connect: &dyn Fn() -> Raw) -> Vec<String> {
    let mut log = Vec::new();
    let l = &mut log;
    let (mut s2, mut s3, mut p) = (connect(), connect(), connect());
    step(&mut s2, l, &["SUBSCRIBE", "news"], 1);
    step(&mut s2, l, &["PSUBSCRIBE", "n*"], 1);
    send(&mut s3, &["HELLO", "3"]);
    s3.read_replies(1);
    step(&mut s3, l, &["SUBSCRIBE", "news"], 1);
    step(&mut s3, l, &["SSUBSCRIBE", "news"], 1);
    step(&mut s3, l, &["SET", "k", "v"], 1);
    step(&mut s3, l, &["GET", "k"], 1);
    step(&mut p, l, &["PUBLISH", "news", "hello"], 1);
    step(&mut p, l, &["SPUBLISH", "news", "sharded"], 1);
    step(&mut p, l, &["PUBLISH", "other", "nobody"], 1);
    step(&mut p, l, &["PUBLISH", "nx", "pattern only"], 1);
    l.push(format!("s2 <- {}", s2.read_replies(3).concat()));
    l.push(format!("s3 <- {}", s3.read_replies(2).concat()));
    // A RESP3 subscriber publishing to itself gets the push first.
    step(&mut s3, l, &["PUBLISH", "news", "self"], 2);
    l.push(format!("s2 <- {}", s2.read_replies(2).concat()));
    step(&mut p, l, &["PUBSUB", "NUMSUB", "news", "n*", "none"], 1);
    step(&mut p, l, &["PUBSUB", "SHARDNUMSUB", "news"], 1);
    step(&mut p, l, &["PUBSUB", "NUMPAT"], 1);
    step(&mut p, l, &["PUBSUB", "CHANNELS", "n*"], 1);
    step(&mut p, l, &["PUBSUB", "CHANNELS", "x*"], 1);
    step(&mut p, l, &["PUBSUB", "SHARDCHANNELS"], 1);
    // CLIENT LIST TYPE pubsub: the Pub/Sub fields of each line.
    send(&mut p, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    let list = p.read_reply();
    let mut lines: Vec<String> = list
        .lines()
        .filter(|line| line.contains("id="))
        .map(|line| {
            line.split(' ')
                .filter(|f| {
                    ["flags=", "sub=", "psub=", "ssub="]
                        .iter()
                        .any(|p| f.starts_with(p))
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    lines.sort();
    l.push(format!("CLIENT LIST TYPE pubsub: {lines:?}"));
    step(&mut p, l, &["CLIENT", "KILL", "TYPE", "pubsub"], 1);
    assert!(s2.closed() && s3.closed(), "pubsub clients killed");
    step(&mut p, l, &["PUBLISH", "news", "gone"], 1);
    step(&mut p, l, &["PUBSUB", "NUMPAT"], 1);
    log
}

fn raw_to(port: u16) -> Raw {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    Raw { s }
}

#[test]
fn replies_match_redis_byte_for_byte() {
    let redis = Redis::start(&[]);
    let want1 = one_connection(&|| raw_to(redis.port));
    let want3 = three_connections(&|| raw_to(redis.port));
    for layout in LAYOUTS {
        let s = Server::start(layout);
        assert_eq!(one_connection(&|| raw_to(s.port)), want1, "{layout:?}");
        assert_eq!(three_connections(&|| raw_to(s.port)), want3, "{layout:?}");
        s.assert_alive();
    }
}

/// Two publishers pipelining numbered messages while three subscribers
/// (RESP2 channel, RESP3 channel, RESP2 pattern) on different IO threads
/// listen: every subscriber gets every message, each publisher's in order.
#[test]
fn every_subscriber_gets_every_message_in_publish_order() {
    const N: usize = 3000;
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let mut subs: Vec<(Raw, bool)> = Vec::new();
        for (i, cmd) in ["SUBSCRIBE", "SUBSCRIBE", "PSUBSCRIBE"].iter().enumerate() {
            let mut r = s.raw();
            if i == 1 {
                send(&mut r, &["HELLO", "3"]);
                r.read_replies(1);
            }
            send(&mut r, &[cmd, if i == 2 { "ord*" } else { "order" }]);
            r.read_replies(1);
            subs.push((r, i == 2));
        }
        let pubs: Vec<_> = (0..2)
            .map(|p| {
                let mut r = s.raw();
                std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    for i in 0..N {
                        buf.extend_from_slice(&frame(&[
                            b"PUBLISH",
                            b"order",
                            format!("{p}:{i}").as_bytes(),
                        ]));
                        if i % 100 == 99 {
                            r.send(&buf);
                            buf.clear();
                        }
                    }
                    r.send(&buf);
                    for reply in r.read_replies(N) {
                        assert_eq!(reply, ":3\r\n");
                    }
                })
            })
            .collect();
        for (r, pattern) in &mut subs {
            let mut next = [0usize; 2];
            for m in r.read_replies(2 * N) {
                let payload = m.rsplit("\r\n").nth(1).unwrap().to_string();
                assert!(m.contains(if *pattern { "pmessage" } else { "message" }));
                let (p, i) = payload.split_once(':').unwrap();
                let (p, i): (usize, usize) = (p.parse().unwrap(), i.parse().unwrap());
                assert_eq!(i, next[p], "{layout:?}: publisher {p} out of order");
                next[p] += 1;
            }
            assert_eq!(next, [N, N]);
        }
        for p in pubs {
            p.join().unwrap();
        }
    }
}

/// A subscriber that never reads is disconnected once its unsent output
/// passes the `pubsub` class's hard limit; the one that reads gets every
/// message and the server stays up. Same on redis-server.
#[test]
fn slow_subscriber_is_cut_off_at_its_limit() {
    fn run(port: u16, what: &str) {
        let mut c = common::conn_to(port);
        let _: () = q(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "client-output-buffer-limit",
                "pubsub 256kb 128kb 60",
            ],
        )
        .unwrap();
        let mut slow = raw_to(port);
        send(&mut slow, &["SUBSCRIBE", "flood"]);
        slow.read_replies(1);
        let mut fast = raw_to(port);
        send(&mut fast, &["SUBSCRIBE", "flood"]);
        fast.read_replies(1);
        const N: usize = 600;
        let payload = "x".repeat(64 * 1024);
        let mut p = raw_to(port);
        let mut receivers = Vec::new();
        // In lockstep with the reading subscriber, so only the other one
        // falls behind.
        for _ in 0..N {
            send(&mut p, &["PUBLISH", "flood", &payload]);
            receivers.push(p.read_reply());
            let m = fast.read_replies(1);
            assert!(m[0].starts_with("*3\r\n$7\r\nmessage\r\n"), "{what}");
        }
        assert!(
            receivers.iter().any(|r| r == ":1\r\n"),
            "{what}: slow one cut off"
        );
        assert!(slow.closed(), "{what}: slow subscriber disconnected");
        let n: i64 = q(&mut c, &["PUBSUB", "NUMSUB", "flood"])
            .map(|v: Vec<redis::Value>| match v.get(1) {
                Some(redis::Value::Int(n)) => *n,
                _ => -1,
            })
            .unwrap();
        assert_eq!(n, 1, "{what}: only the reading subscriber is left");
        let cfg: Vec<String> = q(&mut c, &["CONFIG", "GET", "client-output-buffer-limit"]).unwrap();
        assert_eq!(
            cfg[1], "normal 0 0 0 slave 268435456 67108864 60 pubsub 262144 131072 60",
            "{what}"
        );
    }
    let redis = Redis::start(&[]);
    run(redis.port, "redis-server");
    drop(redis);
    for layout in LAYOUTS {
        let s = Server::start(layout);
        run(s.port, &format!("tandem {layout:?}"));
        s.assert_alive();
        let mut c = s.conn();
        assert_eq!(
            common::err(
                &mut c,
                &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb"]
            ),
            "ResponseError: CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration."
        );
    }
}

/// PUBLISH from a script (run on a shard) and from MULTI/EXEC reaches
/// subscribers on every IO thread, through the `redis` crate's pub/sub
/// connection.
#[test]
fn scripts_and_transactions_publish_to_real_clients() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let mut conns: Vec<redis::Connection> =
            (0..2).map(|io| common::conn_on(&s.url(), io)).collect();
        // A `PubSub` unsubscribes when dropped: keep them.
        let mut subs: Vec<redis::PubSub> = conns.iter_mut().map(|c| c.as_pubsub()).collect();
        for ps in &mut subs {
            ps.subscribe("events").unwrap();
            ps.psubscribe("ev*").unwrap();
        }
        let mut c = s.conn();
        let n: i64 = q(
            &mut c,
            &[
                "EVAL",
                "return redis.call('PUBLISH', 'events', ARGV[1])",
                "0",
                "from-script",
            ],
        )
        .unwrap();
        assert_eq!(n, 4, "{layout:?}");
        let exec: Vec<i64> = redis::pipe()
            .atomic()
            .cmd("PUBLISH")
            .arg("events")
            .arg("from-exec")
            .query(&mut c)
            .unwrap();
        assert_eq!(exec, vec![4], "{layout:?}");
        for ps in &mut subs {
            ps.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut got = Vec::new();
            for _ in 0..4 {
                let m = ps.get_message().unwrap();
                got.push((
                    m.get_pattern::<Option<String>>().unwrap(),
                    m.get_payload::<String>().unwrap(),
                ));
            }
            assert_eq!(
                got,
                vec![
                    (None, "from-script".to_string()),
                    (Some("ev*".to_string()), "from-script".to_string()),
                    (None, "from-exec".to_string()),
                    (Some("ev*".to_string()), "from-exec".to_string()),
                ],
                "{layout:?}"
            );
        }
    }
}

/// redis-cli in subscribe mode prints what is published.
#[test]
fn redis_cli_subscribes() {
    let s = Server::sharded();
    let mut child = Command::new("redis-cli")
        .args(["-p", &s.port.to_string(), "SUBSCRIBE", "cli"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli (.ci/run installs redis-tools)");
    let mut c = s.conn();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v: Vec<redis::Value> = q(&mut c, &["PUBSUB", "NUMSUB", "cli"]).unwrap();
        if matches!(v.get(1), Some(redis::Value::Int(1))) {
            break;
        }
        assert!(Instant::now() < deadline, "redis-cli never subscribed");
        std::thread::sleep(Duration::from_millis(20));
    }
    for m in ["one", "two"] {
        let n: i64 = q(&mut c, &["PUBLISH", "cli", m]).unwrap();
        assert_eq!(n, 1);
    }
    // Read what it prints until the second message (bounded), then stop it.
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut text = String::new();
    while !text.ends_with("two\n") {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(b) => text.push_str(&String::from_utf8_lossy(&b)),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "subscribe",
            "cli",
            "1",
            "message",
            "cli",
            "one",
            "message",
            "cli",
            "two"
        ]
    );
}

/// Keyspace and keyevent notifications for a run of writes over every
/// family, diffed against redis-server's: event names, classes, keys and
/// order. Multi-key commands keep their keys under one hash tag (events of
/// one command on several shards may interleave differently).
fn keyspace_events(port: u16, flags: &str) -> Vec<String> {
    keyspace_events_of(port, flags, WRITES)
}

/// Reads that miss and writes that create keys, for `new` (n) and
/// `keymiss` (m) events: single-key commands and MGET/MSET under one tag.
const NEW_AND_MISS: &[&[&str]] = &[
    &["GET", "m1"],
    &["MGET", "{m}2", "{m}3"],
    &["EXISTS", "m4"],
    &["TYPE", "m5"],
    &["TTL", "m6"],
    &["HGET", "m7", "f"],
    &["LRANGE", "m8", "0", "-1"],
    &["OBJECT", "ENCODING", "m14"],
    &["SET", "n1", "v"],
    &["SET", "n1", "w"],
    &["LPUSH", "n2", "a"],
    &["SADD", "n3", "a"],
    &["INCR", "n4"],
    &["HSET", "n5", "f", "v"],
    &["ZADD", "n6", "1", "a"],
    &["MSET", "{n}8", "a", "{n}9", "b"],
    &["GETDEL", "m11"],
    &["GETDEL", "n1"],
    &["LPOP", "m12"],
    &["RPUSHX", "m21", "a"],
    &["GET", "n4"],
];

fn keyspace_events_of(port: u16, flags: &str, script: &[&[&str]]) -> Vec<String> {
    let mut c = raw_to(port);
    let mut ignore = Vec::new();
    step(&mut c, &mut ignore, &["FLUSHALL"], 1);
    step(
        &mut c,
        &mut ignore,
        &["CONFIG", "SET", "notify-keyspace-events", flags],
        1,
    );
    let mut sub = raw_to(port);
    send(&mut sub, &["PSUBSCRIBE", "__key*__:*"]);
    sub.read_replies(1);
    for args in script {
        step(&mut c, &mut ignore, args, 1);
    }
    // An expiry, reclaimed by the active sweep or by this lookup.
    step(&mut c, &mut ignore, &["SET", "gone", "v", "PX", "1"], 1);
    std::thread::sleep(Duration::from_millis(20));
    step(&mut c, &mut ignore, &["GET", "gone"], 1);
    // The end marker: published after every reply above was read, so
    // after every event they caused.
    step(
        &mut c,
        &mut ignore,
        &["PUBLISH", "__keyspace@0__:end", "end"],
        1,
    );
    let mut events = Vec::new();
    loop {
        let m = sub.read_reply();
        let parts: Vec<&str> = m.split("\r\n").collect();
        let (ch, payload) = (parts[6], parts[8]);
        if ch == "__keyspace@0__:end" {
            break;
        }
        events.push(format!("{ch} {payload}"));
        assert!(events.len() < 1000, "no end marker");
    }
    let mut ignore = Vec::new();
    step(
        &mut c,
        &mut ignore,
        &["CONFIG", "SET", "notify-keyspace-events", ""],
        1,
    );
    events
}

/// A run of writes over every family (see [`keyspace_events`]).
const WRITES: &[&[&str]] = &[
    &["SET", "a", "1"],
    &["SET", "a", "2", "NX"],
    &["SET", "b", "1", "EX", "100"],
    &["INCR", "a"],
    &["INCRBYFLOAT", "a", "1.5"],
    &["APPEND", "a", "x"],
    &["SETRANGE", "a", "0", "y"],
    &["SETBIT", "bits", "9", "1"],
    &["SETBIT", "bits", "9", "1"],
    &[
        "BITFIELD", "bits", "SET", "u4", "0", "0", "INCRBY", "u4", "4", "1",
    ],
    &[
        "BITFIELD", "bits", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "9",
    ],
    &["BITOP", "NOT", "{b}dst", "{b}nothing"],
    &["BITOP", "NOT", "{b}dst", "{b}src"],
    &["SET", "{b}src", "x"],
    &["BITOP", "NOT", "{b}dst", "{b}src"],
    &["BITOP", "AND", "{b}dst", "{b}none"],
    &["MSET", "{m}1", "1", "{m}2", "2"],
    &["DEL", "{m}1", "{m}2", "{m}3"],
    &["XADD", "x", "1-1", "f", "v"],
    &["XADD", "x", "MAXLEN", "0", "2-1", "f", "v"],
    &["XADD", "x", "3-1", "f", "v"],
    &["XADD", "nox", "NOMKSTREAM", "1-1", "f", "v"],
    &["XDEL", "x", "3-1", "9-9"],
    &["XDEL", "x", "9-9"],
    &["XTRIM", "x", "MAXLEN", "0"],
    &["XGROUP", "CREATE", "x", "g", "0"],
    &["XGROUP", "CREATE", "y", "g", "$", "MKSTREAM"],
    &["XGROUP", "CREATECONSUMER", "x", "g", "c"],
    &["XGROUP", "SETID", "x", "g", "0"],
    &["XADD", "x", "4-1", "f", "v"],
    &["XREADGROUP", "GROUP", "g", "d", "STREAMS", "x", ">"],
    &["XCLAIM", "x", "g", "e", "0", "4-1"],
    &["XAUTOCLAIM", "x", "g", "f", "0", "0"],
    &["XGROUP", "DELCONSUMER", "x", "g", "c"],
    &["XGROUP", "DESTROY", "x", "g"],
    &["XSETID", "x", "9-9"],
    &["LPUSH", "l", "x", "y"],
    &["RPUSH", "l", "z"],
    &["LSET", "l", "0", "q"],
    &["LINSERT", "l", "BEFORE", "q", "p"],
    &["LINSERT", "l", "BEFORE", "nope", "p"],
    &["LREM", "l", "0", "nope"],
    &["LTRIM", "l", "0", "1"],
    &["RPOP", "l"],
    &["LPOP", "l"],
    &["HSET", "h", "f", "v", "g", "w"],
    &["HSET", "h", "f", "v2"],
    &["HINCRBY", "h", "n", "1"],
    &["HDEL", "h", "nope"],
    &["HDEL", "h", "f", "g", "n"],
    &["SADD", "s", "a", "b"],
    &["SADD", "s", "a"],
    &["SREM", "s", "a", "b"],
    &["SADD", "{t}s1", "x", "y"],
    &["SINTERSTORE", "{t}dst", "{t}s1"],
    &["ZADD", "z", "1", "a", "2", "b"],
    &["ZADD", "z", "5", "b"],
    &["ZADD", "z", "5", "b"],
    &["ZINCRBY", "z", "2", "a"],
    &["ZREM", "z", "nope"],
    &["ZPOPMIN", "z"],
    &["ZREMRANGEBYSCORE", "z", "-inf", "+inf"],
    &["SET", "p", "v"],
    &["EXPIRE", "p", "100"],
    &["PERSIST", "p"],
    &["PERSIST", "p"],
    &["GETDEL", "p"],
    &["SETEX", "se", "100", "v"],
    &["GETSET", "se", "w"],
    &[
        "EVAL",
        "redis.call('SET', KEYS[1], 'x'); return redis.call('DEL', KEYS[1])",
        "1",
        "ev",
    ],
    // Two keys, on one shard or on two (the events are published by
    // the shard that finishes the command, in Redis's order).
    &["SET", "r1", "v"],
    &["RENAME", "r1", "r2"],
    &["RENAMENX", "r2", "r3"],
    &["COPY", "r3", "c1"],
    &["COPY", "r3", "c1"],
    &["MOVE", "c1", "2"],
    &["RPUSH", "src", "a", "b"],
    &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
    &["RPOPLPUSH", "src", "dst"],
    &["RPOPLPUSH", "src", "dst"],
    &["SADD", "ss", "m"],
    &["SADD", "sd", "m"],
    &["SMOVE", "ss", "sd", "m"],
    &["SET", "x", "1"],
    &["EXPIRE", "x", "-1"],
    &["SET", "x", "1"],
    &["GETEX", "x"],
    &["GETEX", "x", "EX", "100"],
    &["GETEX", "x", "PERSIST"],
    &["SORT", "dst", "ALPHA", "STORE", "sorted"],
    &["SORT", "nothing", "STORE", "sorted"],
    &["ZADD", "{z}a", "1", "m"],
    &["ZUNIONSTORE", "{z}u", "1", "{z}a"],
    &["ZRANGESTORE", "{z}r", "{z}a", "0", "-1"],
    // Blocking pops that find data at once, and the MPOPs.
    &["RPUSH", "bl", "a", "b"],
    &["BLPOP", "bl", "0"],
    &["BRPOP", "bl", "0"],
    &["RPUSH", "lm", "x", "y"],
    &["LMPOP", "1", "lm", "LEFT", "COUNT", "2"],
    &["ZADD", "bz", "1", "a", "2", "b"],
    &["BZPOPMIN", "bz", "0"],
    &["ZMPOP", "1", "bz", "MAX"],
];

#[test]
fn keyspace_notifications_match_redis() {
    let redis = Redis::start(&[]);
    let mut c = common::conn_to(redis.port);
    let mut cases = Vec::new();
    for flags in ["KEA", "Kg", "E$lshzx", "AK"] {
        cases.push((flags, keyspace_events(redis.port, flags)));
    }
    let new_and_miss = keyspace_events_of(redis.port, "KEnm", NEW_AND_MISS);
    assert!(new_and_miss.len() > 20, "{new_and_miss:?}");
    assert!(cases[0].1.len() > 80, "{:?}", cases[0].1);
    // The canonical text CONFIG GET shows, and the error for a bad class.
    let mut shown = Vec::new();
    for v in ["KEA", "Elg$", "AKEm", "Kn", ""] {
        let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", v]).unwrap();
        let g: Vec<String> = q(&mut c, &["CONFIG", "GET", "notify-keyspace-events"]).unwrap();
        shown.push(g[1].clone());
    }
    let bad = common::err(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KQ"]);
    drop(redis);
    for layout in LAYOUTS {
        let s = Server::start(layout);
        for (flags, want) in &cases {
            assert_eq!(&keyspace_events(s.port, flags), want, "{layout:?} {flags}");
        }
        assert_eq!(
            keyspace_events_of(s.port, "KEnm", NEW_AND_MISS),
            new_and_miss,
            "{layout:?} KEnm"
        );
        let mut c = s.conn();
        for (v, want) in ["KEA", "Elg$", "AKEm", "Kn", ""].iter().zip(&shown) {
            let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", v]).unwrap();
            let g: Vec<String> = q(&mut c, &["CONFIG", "GET", "notify-keyspace-events"]).unwrap();
            assert_eq!(&g[1], want, "{v}");
        }
        assert_eq!(
            common::err(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KQ"]),
            bad
        );
    }
}
