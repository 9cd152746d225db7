//! Keyspace commands through the `redis` crate against the real server, in
//! both thread layouts: expiry (lazy and active), SCAN's guarantee across
//! shards and table growth, RENAME/COPY across shards, databases.

mod common;
use common::*;
use redis::cmd;
use std::collections::HashSet;

#[test]
fn expire_family() {
    each_mode(|s| {
        let mut c = s.conn();
        q::<()>(&mut c, &["SET", "k", "v"]).unwrap();
        assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100", "XX"]).unwrap(), 0);
        assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "100", "NX"]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "50", "GT"]).unwrap(), 0);
        assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k", "200", "GT"]).unwrap(), 1);
        assert_eq!(
            q::<i64>(&mut c, &["PEXPIRE", "k", "5000", "LT"]).unwrap(),
            1
        );
        assert!(q::<i64>(&mut c, &["PTTL", "k"]).unwrap() <= 5000);
        let at: i64 = q(&mut c, &["EXPIRETIME", "k"]).unwrap();
        let pat: i64 = q(&mut c, &["PEXPIRETIME", "k"]).unwrap();
        // Rounded to the nearest second, as redis-server does.
        assert_eq!(at, (pat + 500) / 1000);
        assert_eq!(q::<i64>(&mut c, &["PERSIST", "k"]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["TTL", "k"]).unwrap(), -1);
        assert_eq!(q::<i64>(&mut c, &["TTL", "missing"]).unwrap(), -2);
        assert_eq!(q::<i64>(&mut c, &["EXPIREAT", "k", "1"]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "k"]).unwrap(), 0);
        let e = q::<i64>(&mut c, &["EXPIRE", "k", "1", "NX", "XX"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("NX and XX, GT or LT options at the same time are not compatible"),
            "{e}"
        );
        assert!(
            q::<i64>(&mut c, &["EXPIRE", "k", "1", "FOO"])
                .unwrap_err()
                .to_string()
                .contains("Unsupported option FOO")
        );
    });
}

/// Keys with a short TTL that are never touched again are reclaimed by the
/// active sweep (DBSIZE counts unreclaimed keys, as in Redis).
#[test]
fn active_expiry_reclaims_untouched_keys() {
    each_mode(|s| {
        let mut c = s.conn();
        for i in 0..2000 {
            q::<()>(&mut c, &["SET", &format!("tmp{i}"), "v", "PX", "50"]).unwrap();
        }
        q::<()>(&mut c, &["SET", "keep", "v"]).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let n: i64 = q(&mut c, &["DBSIZE"]).unwrap();
            if n == 1 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "expired keys not reclaimed: dbsize {n}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let info: String = q(&mut c, &["INFO", "stats"]).unwrap();
        assert!(info.contains("expired_keys:2000"), "{info}");
    });
}

/// Every key present for the whole iteration is returned at least once,
/// even when the keyspace grows (segments split) between SCAN calls.
#[test]
fn scan_guarantee_across_shards_and_growth() {
    each_mode(|s| {
        let mut c = s.conn();
        let n = 3000;
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut m = cmd("MSET");
            for i in chunk {
                m.arg(format!("s:{i}")).arg("v");
            }
            let _: () = m.query(&mut c).unwrap();
        }
        let mut seen = HashSet::new();
        let mut cursor = "0".to_string();
        let mut added = 0;
        for round in 0..100_000 {
            let (next, keys): (String, Vec<String>) =
                q(&mut c, &["SCAN", &cursor, "COUNT", "50"]).unwrap();
            seen.extend(keys);
            // Grow the keyspace a lot mid-iteration.
            if round % 3 == 0 && added < 20_000 {
                let mut m = cmd("MSET");
                for j in 0..1000 {
                    m.arg(format!("grow:{}", added + j)).arg("v");
                }
                let _: () = m.query(&mut c).unwrap();
                added += 1000;
            }
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(cursor, "0", "SCAN did not finish");
        for i in 0..n {
            assert!(seen.contains(&format!("s:{i}")), "SCAN missed s:{i}");
        }
        let (_, only): (String, Vec<String>) =
            q(&mut c, &["SCAN", "0", "MATCH", "s:1?", "COUNT", "100000"]).unwrap();
        assert!(only.iter().all(|k| k.starts_with("s:1") && k.len() == 4));
        let (_, typed): (String, Vec<String>) =
            q(&mut c, &["SCAN", "0", "TYPE", "list", "COUNT", "100000"]).unwrap();
        assert!(typed.is_empty());
        assert!(
            q::<redis::Value>(&mut c, &["SCAN", "notanumber"])
                .unwrap_err()
                .to_string()
                .contains("invalid cursor")
        );
        let mut keys: Vec<String> = q(&mut c, &["KEYS", "s:2??"]).unwrap();
        keys.sort();
        assert_eq!(keys.len(), 100);
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), (n + added) as i64);
    });
}

#[test]
fn rename_copy_across_shards() {
    each_mode(|s| {
        let mut c = s.conn();
        for i in 0..10 {
            let (src, dst) = (format!("src{i}"), format!("dst{i}"));
            q::<()>(&mut c, &["SET", &src, &format!("v{i}"), "EX", "1000"]).unwrap();
            assert_eq!(q::<String>(&mut c, &["RENAME", &src, &dst]).unwrap(), "OK");
            assert_eq!(q::<i64>(&mut c, &["EXISTS", &src]).unwrap(), 0);
            assert_eq!(
                q::<String>(&mut c, &["GET", &dst]).unwrap(),
                format!("v{i}")
            );
            assert!(
                q::<i64>(&mut c, &["TTL", &dst]).unwrap() > 900,
                "RENAME keeps the TTL"
            );
            let cp = format!("copy{i}");
            assert_eq!(q::<i64>(&mut c, &["COPY", &dst, &cp]).unwrap(), 1);
            assert_eq!(q::<i64>(&mut c, &["COPY", &dst, &cp]).unwrap(), 0);
            assert_eq!(
                q::<i64>(&mut c, &["COPY", &dst, &cp, "REPLACE"]).unwrap(),
                1
            );
            assert_eq!(q::<String>(&mut c, &["GET", &cp]).unwrap(), format!("v{i}"));
            assert_eq!(q::<i64>(&mut c, &["RENAMENX", &dst, &cp]).unwrap(), 0);
            let nx = format!("nx{i}");
            assert_eq!(q::<i64>(&mut c, &["RENAMENX", &dst, &nx]).unwrap(), 1);
            assert_eq!(q::<String>(&mut c, &["GET", &nx]).unwrap(), format!("v{i}"));
        }
        assert!(
            q::<String>(&mut c, &["RENAME", "nosuch", "x"])
                .unwrap_err()
                .to_string()
                .contains("no such key")
        );
        assert_eq!(
            q::<i64>(&mut c, &["COPY", "nx0", "nx0db5", "DB", "5"]).unwrap(),
            1
        );
        q::<()>(&mut c, &["SELECT", "5"]).unwrap();
        assert_eq!(q::<String>(&mut c, &["GET", "nx0db5"]).unwrap(), "v0");
        q::<()>(&mut c, &["SELECT", "0"]).unwrap();
    });
}

#[test]
fn databases_and_flush() {
    each_mode(|s| {
        let mut c = s.conn();
        let mut other = s.conn();
        q::<()>(&mut c, &["SET", "a", "db0"]).unwrap();
        q::<()>(&mut c, &["SELECT", "1"]).unwrap();
        q::<()>(&mut c, &["SET", "a", "db1"]).unwrap();
        q::<()>(&mut c, &["SET", "b", "db1"]).unwrap();
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 2);
        assert_eq!(q::<String>(&mut other, &["GET", "a"]).unwrap(), "db0");
        assert_eq!(q::<String>(&mut c, &["SWAPDB", "0", "1"]).unwrap(), "OK");
        assert_eq!(q::<String>(&mut other, &["GET", "a"]).unwrap(), "db1");
        assert_eq!(q::<String>(&mut c, &["TYPE", "a"]).unwrap(), "string");
        assert_eq!(q::<String>(&mut c, &["TYPE", "zz"]).unwrap(), "none");
        let info: String = q(&mut c, &["INFO", "keyspace"]).unwrap();
        assert!(
            info.contains("db0:keys=2,expires=0") && info.contains("db1:keys=1,expires=0"),
            "{info}"
        );
        let rk: String = q(&mut other, &["RANDOMKEY"]).unwrap();
        assert!(rk == "a" || rk == "b");
        assert_eq!(q::<String>(&mut c, &["FLUSHDB"]).unwrap(), "OK");
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]).unwrap(), 0);
        assert_eq!(q::<i64>(&mut other, &["DBSIZE"]).unwrap(), 2);
        assert_eq!(q::<String>(&mut c, &["FLUSHALL", "ASYNC"]).unwrap(), "OK");
        assert_eq!(q::<i64>(&mut other, &["DBSIZE"]).unwrap(), 0);
        assert_eq!(
            q::<Option<String>>(&mut other, &["RANDOMKEY"]).unwrap(),
            None
        );
        assert!(
            q::<String>(&mut c, &["FLUSHALL", "BOGUS"])
                .unwrap_err()
                .to_string()
                .contains("syntax error")
        );
        q::<()>(&mut c, &["SET", "t", "1"]).unwrap();
        assert_eq!(q::<i64>(&mut c, &["TOUCH", "t", "u", "t"]).unwrap(), 2);
        assert_eq!(q::<i64>(&mut c, &["UNLINK", "t", "u"]).unwrap(), 1);
        q::<()>(&mut c, &["SET", "o", "12345"]).unwrap();
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "o"]).unwrap(),
            "int"
        );
    });
}

/// SCAN reads its cursor like strtoul: an empty one is 0.
#[test]
fn scan_empty_cursor_is_zero() {
    each_mode(|s| {
        let mut r = s.raw();
        r.send(&frame(&[b"SET", b"k", b"v"]));
        assert_eq!(r.read_reply(), "+OK\r\n");
        r.send(&frame(&[b"SCAN", b"0"]));
        let zero = r.read_reply();
        r.send(&frame(&[b"SCAN", b""]));
        assert_eq!(r.read_reply(), zero);
        r.send(&frame(&[b"SCAN", b"x"]));
        assert_eq!(r.read_reply(), "-ERR invalid cursor\r\n");
    });
}

/// SWAPDB and COPY ... DB read indexes as C ints, with Redis's messages.
#[test]
fn db_index_arguments() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["SWAPDB", "99999999999", "0"],
                    "-ERR invalid first DB index\r\n",
                ),
                (
                    &["SWAPDB", "0", "2147483648"],
                    "-ERR invalid second DB index\r\n",
                ),
                (&["SWAPDB", "0", "abc"], "-ERR invalid second DB index\r\n"),
                (&["SWAPDB", "0", "16"], "-ERR DB index is out of range\r\n"),
                (&["SWAPDB", "-1", "0"], "-ERR DB index is out of range\r\n"),
                (&["SET", "a", "v"], "+OK\r\n"),
                (
                    &["COPY", "a", "b", "DB", "99999999999"],
                    "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n",
                ),
                (
                    &["COPY", "a", "b", "DB", "16"],
                    "-ERR DB index is out of range\r\n",
                ),
                (
                    &["COPY", "a", "b", "DB", "abc"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (
                    &["COPY", "a", "a", "DB", "0"],
                    "-ERR source and destination objects are the same\r\n",
                ),
            ],
        );
    });
}

/// OBJECT REFCOUNT as Redis: integers 0..9999 are shared objects
/// (2147483647) however they were stored, except a COPY of one.
#[test]
fn object_refcount_shared_integers() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["SET", "a", "7"], "+OK\r\n"),
                (&["OBJECT", "REFCOUNT", "a"], ":2147483647\r\n"),
                (&["COPY", "a", "{t}b"], ":1\r\n"),
                (&["OBJECT", "REFCOUNT", "{t}b"], ":1\r\n"),
                (&["OBJECT", "ENCODING", "{t}b"], "$3\r\nint\r\n"),
                (&["INCR", "{t}b"], ":8\r\n"),
                (&["OBJECT", "REFCOUNT", "{t}b"], ":2147483647\r\n"),
                (&["SET", "c", "10000"], "+OK\r\n"),
                (&["OBJECT", "REFCOUNT", "c"], ":1\r\n"),
                (&["SET", "d", "-1"], "+OK\r\n"),
                (&["OBJECT", "REFCOUNT", "d"], ":1\r\n"),
                (&["APPEND", "e", "12"], ":2\r\n"),
                (&["OBJECT", "REFCOUNT", "e"], ":2147483647\r\n"),
                (&["SET", "l", "9999"], "+OK\r\n"),
                (&["INCR", "l"], ":10000\r\n"),
                (&["OBJECT", "REFCOUNT", "l"], ":1\r\n"),
                (&["RPUSH", "list", "1"], ":1\r\n"),
                (&["OBJECT", "REFCOUNT", "list"], ":1\r\n"),
            ],
        );
    });
}

/// EXISTS, TYPE, TTL and OBJECT leave the access clock alone but still
/// reclaim an expired key, so DBSIZE stops counting it (Redis's
/// `LOOKUP_NOTOUCH` lookups expire keys too). Found by tests/differential.rs.
#[test]
fn notouch_lookups_reclaim_expired_keys() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["FLUSHALL"], "+OK\r\n"),
                (&["SET", "e1", "x", "PXAT", "1"], "+OK\r\n"),
                (&["SET", "e2", "x", "PXAT", "1"], "+OK\r\n"),
                (&["SET", "e3", "x", "PXAT", "1"], "+OK\r\n"),
                (&["SET", "e4", "x", "PXAT", "1"], "+OK\r\n"),
                (&["EXISTS", "e1"], ":0\r\n"),
                (&["TYPE", "e2"], "+none\r\n"),
                (&["TTL", "e3"], ":-2\r\n"),
                (&["OBJECT", "ENCODING", "e4"], "$-1\r\n"),
                (&["DBSIZE"], ":0\r\n"),
            ],
        );
    });
}

/// MOVE against redis-server, byte for byte: moved with its deadline, 0 when
/// missing or already in the target database, Redis's errors and their
/// order; and WATCH on the key in the target database sees the move.
#[test]
fn move_matches_redis() {
    let script: &[&[&str]] = &[
        &["FLUSHALL"],
        &["SET", "k", "v"],
        // An absolute deadline: the same on both servers to the ms.
        &["PEXPIREAT", "k", "99999999999000"],
        &["MOVE", "k", "1"],
        &["EXISTS", "k"],
        &["MOVE", "k", "1"],
        &["SELECT", "1"],
        &["GET", "k"],
        &["PEXPIRETIME", "k"],
        &["MOVE", "k", "1"],
        &["MOVE", "k", "99"],
        &["MOVE", "k", "-1"],
        &["MOVE", "k", "abc"],
        &["MOVE", "k", "4294967296"],
        &["MOVE", "nokey", "0"],
        &["SELECT", "0"],
        &["SET", "k", "other"],
        &["SELECT", "1"],
        &["MOVE", "k", "0"],
        &["TYPE", "k"],
        &["RPUSH", "l", "a", "b"],
        &["MOVE", "l", "2"],
        &["SELECT", "2"],
        &["LRANGE", "l", "0", "-1"],
        &["MOVE"],
        &["MOVE", "l", "0", "extra"],
    ];
    let redis = Redis::start(&[]);
    for mode in MODES {
        let s = Server::start(mode);
        let (mut r, mut t) = (redis.raw(), s.raw());
        for args in script {
            let f: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            r.send(&frame(&f));
            t.send(&frame(&f));
            assert_eq!(t.read_reply(), r.read_reply(), "{mode:?}: {args:?}");
        }
        // WATCH a key of database 1, then MOVE it there from database 0.
        let mut w = s.raw();
        let mut m = s.raw();
        for (on_w, args) in [
            (true, &["SELECT", "1"][..]),
            (true, &["WATCH", "mk"]),
            (false, &["SET", "mk", "x"]),
            (false, &["MOVE", "mk", "1"]),
            (true, &["MULTI"]),
            (true, &["GET", "mk"]),
        ] {
            let c = if on_w { &mut w } else { &mut m };
            let f: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            c.send(&frame(&f));
            c.read_reply();
        }
        w.send(&frame(&[b"EXEC"]));
        assert_eq!(
            w.read_reply(),
            "*-1\r\n",
            "{mode:?}: EXEC after a MOVE into a watched key"
        );
    }
}
