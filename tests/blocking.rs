//! Blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX
//! BZMPOP) with concurrent clients against the real server in every thread
//! layout: immediate serving, timeouts, wakeups across shards, FIFO order
//! among waiters, pipelined commands held behind a blocked one, and
//! disconnected waiters. Every wait is bounded.

mod common;
use common::*;

use std::thread;
use std::time::{Duration, Instant};

use redis::Value;

/// Shards of the layout `s` was started in (see `common::MODES`).
fn shards_of(s: &Server) -> usize {
    let info: String = q(&mut s.conn(), &["INFO", "server"]).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("tandem_shards:"))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(1)
}

/// Two key names that live on different shards when there are several.
fn split_keys(s: &Server, a: &str, b: &str) -> (String, String) {
    let n = shards_of(s);
    let first = format!("{a}0");
    let sa = tandem::spec::key_shard(first.as_bytes(), n);
    let other = (0..1000)
        .map(|i| format!("{b}{i}"))
        .find(|k| n == 1 || tandem::spec::key_shard(k.as_bytes(), n) != sa)
        .unwrap();
    (first, other)
}

/// Runs `args` on a fresh connection in a thread.
fn spawn_cmd(s: &Server, args: &[&str]) -> thread::JoinHandle<redis::RedisResult<Value>> {
    let mut c = s.conn();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    thread::spawn(move || {
        let a: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        q::<Value>(&mut c, &a)
    })
}

fn bulk(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        other => panic!("expected an array, got {other:?}"),
    }
}

#[test]
fn serves_at_once_in_key_order_and_times_out() {
    each_mode(|s| {
        let mut c = s.conn();
        q::<i64>(&mut c, &["RPUSH", "full", "a", "b"]).unwrap();
        let got: Vec<String> = q(&mut c, &["BLPOP", "empty", "full", "1"]).unwrap();
        assert_eq!(got, ["full", "a"]);
        let got: Vec<String> = q(&mut c, &["BRPOP", "full", "0"]).unwrap();
        assert_eq!(got, ["full", "b"]);
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "full"]).unwrap(), 0);

        // Sub-second timeout: a null array after about 200 ms.
        let t = Instant::now();
        let v: Value = q(&mut c, &["BLPOP", "none1", "none2", "0.2"]).unwrap();
        assert_eq!(v, Value::Nil);
        // Not before its timeout (a slow machine can only make it later;
        // the connection's read timeout catches one that never fires).
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(190), "{took:?}");
        let v: Value = q(&mut c, &["BRPOPLPUSH", "none1", "d", "0.05"]).unwrap();
        assert_eq!(v, Value::Nil);
        let v: Value = q(&mut c, &["BZPOPMAX", "z1", "0.05"]).unwrap();
        assert_eq!(v, Value::Nil);
        let v: Value = q(&mut c, &["BLMPOP", "0.05", "1", "l", "LEFT"]).unwrap();
        assert_eq!(v, Value::Nil);
        let v: Value = q(&mut c, &["BZMPOP", "0.05", "1", "z", "MIN"]).unwrap();
        assert_eq!(v, Value::Nil);
        s.wait_blocked(0);

        // The connection works normally afterwards.
        assert_eq!(q::<String>(&mut c, &["PING"]).unwrap(), "PONG");

        q::<i64>(&mut c, &["ZADD", "zs", "1", "a", "2", "b", "3", "c"]).unwrap();
        let got: Vec<String> = q(&mut c, &["BZPOPMIN", "nz", "zs", "1"]).unwrap();
        assert_eq!(got, ["zs", "a", "1"]);
        let got: Vec<String> = q(&mut c, &["BZPOPMAX", "zs", "1"]).unwrap();
        assert_eq!(got, ["zs", "c", "3"]);
        q::<i64>(&mut c, &["RPUSH", "ml", "1", "2", "3"]).unwrap();
        let got: (String, Vec<String>) = q(
            &mut c,
            &["BLMPOP", "1", "2", "x", "ml", "RIGHT", "COUNT", "2"],
        )
        .unwrap();
        assert_eq!(got, ("ml".to_string(), vec!["3".into(), "2".into()]));
        let got: (String, Vec<(String, f64)>) =
            q(&mut c, &["BZMPOP", "1", "1", "zs", "MAX", "COUNT", "5"]).unwrap();
        assert_eq!(got, ("zs".to_string(), vec![("b".into(), 2.0)]));
        let got: String = q(&mut c, &["BLMOVE", "ml", "dst", "LEFT", "RIGHT", "1"]).unwrap();
        assert_eq!(got, "1");
        let got: String = q(&mut c, &["BRPOPLPUSH", "dst", "dst2", "1"]).unwrap();
        assert_eq!(got, "1");
        assert_eq!(q::<i64>(&mut c, &["LLEN", "dst2"]).unwrap(), 1);
    });
}

#[test]
fn errors() {
    each_mode(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["SET", "str", "x"]).unwrap();
        for t in ["-1", "-0.5"] {
            assert!(err(&mut c, &["BLPOP", "k", t]).contains("timeout is negative"));
        }
        for t in ["abc", "1x", "nan", ""] {
            assert!(
                err(&mut c, &["BRPOP", "k", t]).contains("timeout is not a float or out of range"),
                "{t}"
            );
        }
        assert!(err(&mut c, &["BZPOPMIN", "k", "1e300"]).contains("timeout is out of range"));
        assert!(err(&mut c, &["BLPOP", "str", "1"]).contains("wrong kind of value"));
        assert!(err(&mut c, &["BZPOPMIN", "str", "1"]).contains("wrong kind of value"));
        assert!(err(&mut c, &["BLMOVE", "a", "b", "UP", "LEFT", "1"]).contains("syntax error"));
        q::<i64>(&mut c, &["RPUSH", "src", "v"]).unwrap();
        assert!(
            err(&mut c, &["BLMOVE", "src", "str", "LEFT", "LEFT", "1"])
                .contains("wrong kind of value")
        );
        assert_eq!(
            q::<i64>(&mut c, &["LLEN", "src"]).unwrap(),
            1,
            "nothing moved"
        );
        assert!(
            err(&mut c, &["BLMPOP", "1", "0", "k", "LEFT"]).contains("numkeys should be greater")
        );
        assert!(err(&mut c, &["BLMPOP", "-1", "1", "k", "LEFT"]).contains("timeout is negative"));
        assert!(
            err(&mut c, &["BZMPOP", "1", "1", "k", "MIN", "COUNT", "0"])
                .contains("count should be greater")
        );
        assert!(err(&mut c, &["BZMPOP", "1", "1", "k", "LEFT"]).contains("syntax error"));
        assert!(err(&mut c, &["BLPOP", "k"]).contains("wrong number of arguments for 'blpop'"));
        s.wait_blocked(0);
    });
}

#[test]
fn push_wakes_waiter_across_shards() {
    each_mode(|s| {
        let (k1, k2) = split_keys(s, "wa", "wb");
        let mut c = s.conn();
        let waiter = spawn_cmd(s, &["BLPOP", &k1, &k2, "5"]);
        s.wait_blocked(1);
        q::<i64>(&mut c, &["RPUSH", &k2, "x", "y"]).unwrap();
        let got = items(waiter.join().unwrap().unwrap());
        assert_eq!((bulk(&got[0]), bulk(&got[1])), (k2.clone(), "x".into()));
        s.wait_blocked(0);
        // The waiter's other key no longer has a (dead) waiter.
        q::<i64>(&mut c, &["RPUSH", &k1, "z"]).unwrap();
        assert_eq!(q::<i64>(&mut c, &["LLEN", &k1]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["LLEN", &k2]).unwrap(), 1);

        // Sorted sets: ZADD wakes BZPOPMAX, BZMPOP.
        let (z1, z2) = split_keys(s, "za", "zb");
        let waiter = spawn_cmd(s, &["BZPOPMAX", &z1, &z2, "5"]);
        s.wait_blocked(1);
        q::<i64>(&mut c, &["ZADD", &z1, "1", "m", "5", "n"]).unwrap();
        let got = items(waiter.join().unwrap().unwrap());
        assert_eq!(bulk(&got[0]), z1);
        assert_eq!(bulk(&got[1]), "n");
        assert_eq!(bulk(&got[2]), "5");
        let waiter = spawn_cmd(
            s,
            &["BZMPOP", "5", "2", &z2, "nothing", "MIN", "COUNT", "3"],
        );
        s.wait_blocked(1);
        q::<i64>(&mut c, &["ZADD", &z2, "2", "p", "1", "o"]).unwrap();
        let got = items(waiter.join().unwrap().unwrap());
        assert_eq!(bulk(&got[0]), z2);
        assert_eq!(items(got[1].clone()).len(), 2);

        // BLMPOP woken by LPUSH takes up to COUNT from the pushed end.
        let waiter = spawn_cmd(s, &["BLMPOP", "5", "2", "none", &k2, "LEFT", "COUNT", "2"]);
        s.wait_blocked(0); // k2 still holds "y": served at once
        let got = items(waiter.join().unwrap().unwrap());
        assert_eq!(bulk(&got[0]), k2);
        let waiter = spawn_cmd(s, &["BLMPOP", "5", "1", &k2, "LEFT", "COUNT", "2"]);
        s.wait_blocked(1);
        q::<i64>(&mut c, &["LPUSH", &k2, "1", "2", "3"]).unwrap();
        let got = items(waiter.join().unwrap().unwrap());
        let vals: Vec<String> = items(got[1].clone()).iter().map(bulk).collect();
        assert_eq!(vals, ["3", "2"]);
    });
}

#[test]
fn blmove_to_another_shard() {
    each_mode(|s| {
        let (src, dst) = split_keys(s, "src", "dst");
        let mut c = s.conn();
        let waiter = spawn_cmd(s, &["BLMOVE", &src, &dst, "RIGHT", "LEFT", "5"]);
        s.wait_blocked(1);
        q::<i64>(&mut c, &["RPUSH", &src, "a", "b"]).unwrap();
        assert_eq!(bulk(&waiter.join().unwrap().unwrap()), "b");
        let d: Vec<String> = q(&mut c, &["LRANGE", &dst, "0", "-1"]).unwrap();
        assert_eq!(d, ["b"]);
        let waiter = spawn_cmd(s, &["BRPOPLPUSH", "emptysrc", &dst, "5"]);
        s.wait_blocked(1);
        q::<i64>(&mut c, &["LPUSH", "emptysrc", "c"]).unwrap();
        assert_eq!(bulk(&waiter.join().unwrap().unwrap()), "c");
        let d: Vec<String> = q(&mut c, &["LRANGE", &dst, "0", "-1"]).unwrap();
        assert_eq!(d, ["c", "b"]);
        // A waiter on the destination is woken by the move.
        let waiter = spawn_cmd(s, &["BLPOP", &dst, "5"]);
        let got = items(waiter.join().unwrap().unwrap());
        assert_eq!(bulk(&got[1]), "c");

        let (src2, dst2) = split_keys(s, "fifo", "fdst");
        // A woken cross-shard move keeps its turn: the BLPOP queued after
        // it gets the second element, not the first.
        let mover = spawn_cmd(s, &["BLMOVE", &src2, &dst2, "LEFT", "LEFT", "5"]);
        s.wait_blocked(1);
        thread::sleep(Duration::from_millis(100));
        let popper = spawn_cmd(s, &["BLPOP", &src2, "5"]);
        s.wait_blocked(2);
        thread::sleep(Duration::from_millis(100));
        q::<i64>(&mut c, &["RPUSH", &src2, "first"]).unwrap();
        assert_eq!(bulk(&mover.join().unwrap().unwrap()), "first");
        q::<i64>(&mut c, &["RPUSH", &src2, "second"]).unwrap();
        let got = items(popper.join().unwrap().unwrap());
        assert_eq!(bulk(&got[1]), "second");

        // Woken with a destination of another type: WRONGTYPE, and the
        // element stays in the source (Redis pops, then pushes it back).
        q::<String>(&mut c, &["SET", &dst2, "str"]).unwrap();
        let mover = spawn_cmd(s, &["BLMOVE", &src2, &dst2, "LEFT", "RIGHT", "5"]);
        s.wait_blocked(1);
        q::<i64>(&mut c, &["RPUSH", &src2, "e1", "e2"]).unwrap();
        let e = mover.join().unwrap().unwrap_err();
        assert!(e.to_string().contains("WRONGTYPE"), "{e}");
        let l: Vec<String> = q(&mut c, &["LRANGE", &src2, "0", "-1"]).unwrap();
        assert_eq!(l, ["e1", "e2"]);
    });
}

#[test]
fn waiters_are_served_fifo() {
    each_mode(|s| {
        let mut c = s.conn();
        let mut waiters = Vec::new();
        for i in 0..3 {
            waiters.push(spawn_cmd(s, &["BRPOP", "fifo", "5"]));
            s.wait_blocked(i + 1);
        }
        q::<i64>(&mut c, &["LPUSH", "fifo", "a", "b", "c"]).unwrap();
        let got: Vec<String> = waiters
            .into_iter()
            .map(|w| bulk(&items(w.join().unwrap().unwrap())[1]))
            .collect();
        assert_eq!(got, ["a", "b", "c"]);
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "fifo"]).unwrap(), 0);

        // One push of one element wakes exactly one of two waiters.
        let w1 = spawn_cmd(s, &["BLPOP", "one", "5"]);
        s.wait_blocked(1);
        let w2 = spawn_cmd(s, &["BLPOP", "one", "0.5"]);
        s.wait_blocked(2);
        q::<i64>(&mut c, &["RPUSH", "one", "only"]).unwrap();
        assert_eq!(bulk(&items(w1.join().unwrap().unwrap())[1]), "only");
        assert_eq!(w2.join().unwrap().unwrap(), Value::Nil);
    });
}

#[test]
fn pipelined_commands_wait_behind_a_blocked_one() {
    each_mode(|s| {
        let mut r = s.raw();
        let mut pipe = frame(&[b"BLPOP", b"pq", b"0"]);
        pipe.extend(frame(&[b"RPUSH", b"pq", b"mine"]));
        pipe.extend(frame(&[b"PING"]));
        r.send(&pipe);
        s.wait_blocked(1);
        // Nothing after the BLPOP ran: its own RPUSH did not serve it.
        let mut c = s.conn();
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "pq"]).unwrap(), 0);
        q::<i64>(&mut c, &["RPUSH", "pq", "theirs"]).unwrap();
        let got = r.read_replies(3);
        assert_eq!(got[0], "*2\r\n$2\r\npq\r\n$6\r\ntheirs\r\n");
        assert_eq!(got[1], ":1\r\n");
        assert_eq!(got[2], "+PONG\r\n");
        s.wait_blocked(0);

        // Commands sent later, while blocked, wait too: had its own later
        // RPUSH run, the BLPOP would have been served "mine". (The pause
        // only gives that RPUSH time to arrive; nothing is asserted about
        // time, so a slow machine cannot make this fail.)
        r.send(&frame(&[b"BLPOP", b"pq2", b"0"]));
        s.wait_blocked(1);
        r.send(&frame(&[b"RPUSH", b"pq2", b"mine"]));
        std::thread::sleep(Duration::from_millis(50));
        q::<i64>(&mut c, &["RPUSH", "pq2", "v"]).unwrap();
        let got = r.read_replies(2);
        assert_eq!(got[0], "*2\r\n$3\r\npq2\r\n$1\r\nv\r\n");
        assert_eq!(got[1], ":1\r\n");

        // RESP3: doubles for scores, null on timeout.
        r.send(&frame(&[b"HELLO", b"3"]));
        let _ = r.read_reply();
        r.send(&frame(&[b"BZPOPMIN", b"z3", b"0.01"]));
        assert_eq!(r.read_reply(), "_\r\n");
        r.send(&frame(&[b"ZADD", b"z3", b"1.5", b"m"]));
        r.send(&frame(&[b"BZPOPMIN", b"z3", b"1"]));
        let got = r.read_replies(2);
        assert_eq!(got[1], "*3\r\n$2\r\nz3\r\n$1\r\nm\r\n,1.5\r\n");
    });
}

#[test]
fn disconnected_waiter_is_removed() {
    each_mode(|s| {
        let (k1, k2) = split_keys(s, "gone", "left");
        {
            let mut r = s.raw();
            r.send(&frame(&[b"BLPOP", k1.as_bytes(), k2.as_bytes(), b"0"]));
            s.wait_blocked(1);
        } // dropped: the socket closes
        s.wait_blocked(0);
        let mut c = s.conn();
        q::<i64>(&mut c, &["RPUSH", &k1, "kept"]).unwrap();
        q::<i64>(&mut c, &["RPUSH", &k2, "kept"]).unwrap();
        assert_eq!(q::<i64>(&mut c, &["LLEN", &k1]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["LLEN", &k2]).unwrap(), 1);
        s.assert_alive();
    });
}

/// A timed-out BLMOVE/BRPOPLPUSH answers a null array, like every blocking
/// pop (Redis's replyToBlockedClientTimedOut), not a null bulk string.
#[test]
fn blmove_timeout_is_null_array() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["BLMOVE", "none", "d", "LEFT", "LEFT", "0.01"], "*-1\r\n"),
                (&["BRPOPLPUSH", "none", "d", "0.01"], "*-1\r\n"),
            ],
        );
    });
}

/// Timeouts are read as long doubles (strtold: hex floats, `1e400`), then
/// checked as Redis 7.2 does (past LLONG_MAX ms: out of range).
#[test]
fn timeout_parsing() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["BLPOP", "none", "0x1p-8"], "*-1\r\n"),
                (
                    &["BLPOP", "none", " 1"],
                    "-ERR timeout is not a float or out of range\r\n",
                ),
                (&["BLPOP", "none", "-inf"], "-ERR timeout is negative\r\n"),
                (
                    &["BLPOP", "none", "1e400"],
                    "-ERR timeout is out of range\r\n",
                ),
                (
                    &["BLPOP", "none", "9223372036854775.807"],
                    "-ERR timeout is out of range\r\n",
                ),
            ],
        );
    });
}
