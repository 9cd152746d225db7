//! Set commands through the `redis` crate against the real server, in
//! every thread layout; the algebra with keys on different shards.

mod common;
use common::*;
use std::collections::HashSet;

fn set(v: Vec<String>) -> HashSet<String> {
    v.into_iter().collect()
}

fn hs(v: &[&str]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn members_and_encodings() {
    each_mode(|s| {
        let mut c = s.conn();
        assert_eq!(
            q::<i64>(&mut c, &["SADD", "s", "1", "2", "3", "2"]).unwrap(),
            3
        );
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "s"]).unwrap(),
            "intset"
        );
        assert_eq!(q::<i64>(&mut c, &["SADD", "s", "x"]).unwrap(), 1);
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "s"]).unwrap(),
            "listpack"
        );
        assert_eq!(
            set(q(&mut c, &["SMEMBERS", "s"]).unwrap()),
            hs(&["1", "2", "3", "x"])
        );
        assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "x"]).unwrap(), 1);
        let mis: Vec<i64> = q(&mut c, &["SMISMEMBER", "s", "1", "nope"]).unwrap();
        assert_eq!(mis, vec![1, 0]);
        assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]).unwrap(), 4);
        assert_eq!(q::<i64>(&mut c, &["SREM", "s", "1", "nope"]).unwrap(), 1);
        for i in 0..300 {
            q::<i64>(&mut c, &["SADD", "big", &format!("m{i}")]).unwrap();
        }
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "big"]).unwrap(),
            "hashtable"
        );
        let r: Vec<String> = q(&mut c, &["SRANDMEMBER", "big", "40"]).unwrap();
        assert_eq!(set(r.clone()).len(), 40);
        let r: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "-10"]).unwrap();
        assert_eq!(r.len(), 10);
        let r: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "10"]).unwrap();
        assert_eq!(set(r), hs(&["2", "3", "x"]));
        let popped: Vec<String> = q(&mut c, &["SPOP", "big", "100"]).unwrap();
        assert_eq!(set(popped.clone()).len(), 100);
        assert_eq!(q::<i64>(&mut c, &["SCARD", "big"]).unwrap(), 200);
        for m in &popped {
            assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "big", m]).unwrap(), 0);
        }
        let mut cursor = "0".to_string();
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let (next, items): (String, Vec<String>) =
                q(&mut c, &["SSCAN", "big", &cursor, "COUNT", "9"]).unwrap();
            seen.extend(items);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 200);
        let _: Vec<String> = q(&mut c, &["SPOP", "s", "10"]).unwrap();
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]).unwrap(), 0);
        assert_eq!(q::<Option<String>>(&mut c, &["SPOP", "s"]).unwrap(), None);
        assert!(err(&mut c, &["SPOP", "big", "-1"]).contains("must be positive"));
        q::<String>(&mut c, &["SET", "str", "v"]).unwrap();
        assert!(err(&mut c, &["SADD", "str", "a"]).contains("wrong kind of value"));
        assert!(err(&mut c, &["SMEMBERS", "str"]).contains("wrong kind of value"));
    });
}

#[test]
fn algebra_across_shards() {
    each_mode(|s| {
        let mut c = s.conn();
        q::<i64>(&mut c, &["SADD", "k1", "a", "b", "c", "d"]).unwrap();
        q::<i64>(&mut c, &["SADD", "k2", "c", "d", "e"]).unwrap();
        q::<i64>(&mut c, &["SADD", "k3", "d", "z"]).unwrap();
        assert_eq!(
            set(q(&mut c, &["SINTER", "k1", "k2", "k3"]).unwrap()),
            hs(&["d"])
        );
        assert_eq!(
            set(q(&mut c, &["SUNION", "k1", "k2", "k3"]).unwrap()),
            hs(&["a", "b", "c", "d", "e", "z"])
        );
        assert_eq!(
            set(q(&mut c, &["SDIFF", "k1", "k2", "k3"]).unwrap()),
            hs(&["a", "b"])
        );
        assert_eq!(
            set(q(&mut c, &["SINTER", "k1", "missing"]).unwrap()),
            hs(&[])
        );
        assert_eq!(
            q::<i64>(&mut c, &["SINTERCARD", "2", "k1", "k2"]).unwrap(),
            2
        );
        assert_eq!(
            q::<i64>(&mut c, &["SINTERCARD", "2", "k1", "k2", "LIMIT", "1"]).unwrap(),
            1
        );
        assert!(
            err(&mut c, &["SINTERCARD", "0", "k1"]).contains("numkeys should be greater than 0")
        );
        assert!(
            err(&mut c, &["SINTERCARD", "2", "k1", "k2", "LIMIT", "-1"])
                .contains("LIMIT can't be negative")
        );
        for (cmd, want) in [("SINTERSTORE", 2), ("SUNIONSTORE", 5), ("SDIFFSTORE", 2)] {
            for dst in ["d1", "d2", "d3", "d4"] {
                assert_eq!(
                    q::<i64>(&mut c, &[cmd, dst, "k1", "k2"]).unwrap(),
                    want,
                    "{cmd} {dst}"
                );
                assert_eq!(q::<i64>(&mut c, &["SCARD", dst]).unwrap(), want);
            }
        }
        // An empty result deletes the destination.
        assert_eq!(
            q::<i64>(&mut c, &["SINTERSTORE", "d1", "k1", "missing"]).unwrap(),
            0
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "d1"]).unwrap(), 0);
        q::<String>(&mut c, &["SET", "str", "v"]).unwrap();
        assert!(err(&mut c, &["SUNION", "k1", "str"]).contains("wrong kind of value"));
        // SMOVE between many pairs, so some cross shards.
        for i in 0..10 {
            let (a, b) = (format!("ma{i}"), format!("mb{i}"));
            q::<i64>(&mut c, &["SADD", &a, "x", "y"]).unwrap();
            assert_eq!(q::<i64>(&mut c, &["SMOVE", &a, &b, "x"]).unwrap(), 1);
            assert_eq!(q::<i64>(&mut c, &["SMOVE", &a, &b, "nope"]).unwrap(), 0);
            assert_eq!(set(q(&mut c, &["SMEMBERS", &b]).unwrap()), hs(&["x"]));
            assert!(err(&mut c, &["SMOVE", &a, "str", "y"]).contains("wrong kind of value"));
            assert_eq!(q::<i64>(&mut c, &["SISMEMBER", &a, "y"]).unwrap(), 1);
        }
    });
}

/// SSCAN as Redis: the cursor (strtoul: "" is 0) first, then the key (a
/// missing one is an empty scan whatever the options), then the options.
#[test]
fn sscan_error_order() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["SSCAN", "nokey", "0", "NOSUCHOPT"],
                    "*2\r\n$1\r\n0\r\n*0\r\n",
                ),
                (&["SSCAN", "nokey", "abc"], "-ERR invalid cursor\r\n"),
                (&["SSCAN", "nokey", " 1"], "-ERR invalid cursor\r\n"),
                (&["SADD", "s", "a"], ":1\r\n"),
                (&["SSCAN", "s", "0", "NOSUCHOPT"], "-ERR syntax error\r\n"),
                (&["SSCAN", "s", ""], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"),
                (
                    &["SSCAN", "s", "00", "COUNT", "5"],
                    "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n",
                ),
                (&["SET", "str", "v"], "+OK\r\n"),
                (
                    &["SSCAN", "str", "0", "BADOPT"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["SSCAN", "str", "abc"], "-ERR invalid cursor\r\n"),
            ],
        );
    });
}

/// SMOVE answers 0 for a missing source before it looks at the
/// destination's type; source and destination may be the same key.
#[test]
fn smove_missing_source_first() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["SET", "d", "x"], "+OK\r\n"),
                (&["SMOVE", "nosrc", "d", "m"], ":0\r\n"),
                (&["SADD", "src", "m"], ":1\r\n"),
                (
                    &["SMOVE", "src", "d", "m"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["SMOVE", "src", "src", "m"], ":1\r\n"),
                (&["SMOVE", "src", "src", "zz"], ":0\r\n"),
            ],
        );
    });
}

/// SINTERCARD's numkeys and LIMIT errors as Redis's (non-integers
/// included); LIMIT may repeat, the last one wins.
#[test]
fn sintercard_arguments() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["SADD", "s", "a", "b", "c"], ":3\r\n"),
                (
                    &["SINTERCARD", "abc", "s"],
                    "-ERR numkeys should be greater than 0\r\n",
                ),
                (
                    &["SINTERCARD", "0", "s"],
                    "-ERR numkeys should be greater than 0\r\n",
                ),
                (
                    &["SINTERCARD", "3", "s"],
                    "-ERR Number of keys can't be greater than number of args\r\n",
                ),
                (
                    &["SINTERCARD", "1", "s", "LIMIT", "abc"],
                    "-ERR LIMIT can't be negative\r\n",
                ),
                (
                    &["SINTERCARD", "1", "s", "LIMIT", "1", "LIMIT", "0"],
                    ":3\r\n",
                ),
                (&["SINTERCARD", "1", "s", "LIMIT", "2"], ":2\r\n"),
                (&["SINTERCARD", "1", "s", "LIMIT"], "-ERR syntax error\r\n"),
            ],
        );
    });
}

/// SRANDMEMBER with a count replies an array in RESP3 too (SPOP a set).
#[test]
fn srandmember_count_is_an_array() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["HELLO", "3"], "*"),
                (&["SADD", "s", "a"], ":1\r\n"),
                (&["SRANDMEMBER", "s", "0"], "*0\r\n"),
                (&["SRANDMEMBER", "s", "5"], "*1\r\n$1\r\na\r\n"),
                (&["SRANDMEMBER", "nokey", "3"], "*0\r\n"),
                (&["SPOP", "s", "0"], "~0\r\n"),
                (&["SPOP", "nokey", "2"], "~0\r\n"),
                (&["SPOP", "s", "5"], "~1\r\n$1\r\na\r\n"),
            ],
        );
    });
}
