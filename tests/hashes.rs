//! Hash commands through the `redis` crate against the real server, in
//! every thread layout, both encodings.

mod common;
use common::*;
use std::collections::HashMap;

#[test]
fn set_get_delete() {
    each_mode(|s| {
        let mut c = s.conn();
        assert_eq!(
            q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2"]).unwrap(),
            2
        );
        assert_eq!(
            q::<i64>(&mut c, &["HSET", "h", "a", "10", "c", "3"]).unwrap(),
            1
        );
        assert_eq!(
            q::<String>(&mut c, &["HMSET", "h", "d", "4"]).unwrap(),
            "OK"
        );
        assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "a", "x"]).unwrap(), 0);
        assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "e", "5"]).unwrap(), 1);
        assert_eq!(q::<String>(&mut c, &["HGET", "h", "a"]).unwrap(), "10");
        assert_eq!(
            q::<Option<String>>(&mut c, &["HGET", "h", "zz"]).unwrap(),
            None
        );
        let m: Vec<Option<String>> = q(&mut c, &["HMGET", "h", "b", "zz", "c"]).unwrap();
        assert_eq!(m, vec![Some("2".into()), None, Some("3".into())]);
        let all: HashMap<String, String> = q(&mut c, &["HGETALL", "h"]).unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(all["d"], "4");
        assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]).unwrap(), 5);
        assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "a"]).unwrap(), 2);
        assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "e"]).unwrap(), 1);
        let mut keys: Vec<String> = q(&mut c, &["HKEYS", "h"]).unwrap();
        keys.sort();
        assert_eq!(keys, vec!["a", "b", "c", "d", "e"]);
        let vals: Vec<String> = q(&mut c, &["HVALS", "h"]).unwrap();
        assert_eq!(vals.len(), 5);
        assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "a", "b", "zz"]).unwrap(), 2);
        assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "c", "d", "e"]).unwrap(), 3);
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]).unwrap(), 0);
        assert!(err(&mut c, &["HSET", "h", "a"]).contains("wrong number of arguments"));
        assert!(err(&mut c, &["HSET", "h", "a", "1", "b"]).contains("wrong number of arguments"));
        q::<String>(&mut c, &["SET", "str", "v"]).unwrap();
        assert!(err(&mut c, &["HGET", "str", "a"]).contains("wrong kind of value"));
        assert!(err(&mut c, &["HSET", "str", "a", "1"]).contains("wrong kind of value"));
    });
}

#[test]
fn counters_random_scan_encoding() {
    each_mode(|s| {
        let mut c = s.conn();
        assert_eq!(q::<i64>(&mut c, &["HINCRBY", "n", "f", "5"]).unwrap(), 5);
        assert_eq!(q::<i64>(&mut c, &["HINCRBY", "n", "f", "-7"]).unwrap(), -2);
        assert_eq!(
            q::<String>(&mut c, &["HINCRBYFLOAT", "n", "g", "10.5"]).unwrap(),
            "10.5"
        );
        assert_eq!(
            q::<String>(&mut c, &["HINCRBYFLOAT", "n", "g", "0.1"]).unwrap(),
            "10.6"
        );
        q::<i64>(
            &mut c,
            &["HSET", "n", "s", "abc", "big", "9223372036854775807"],
        )
        .unwrap();
        assert!(err(&mut c, &["HINCRBY", "n", "s", "1"]).contains("hash value is not an integer"));
        assert!(err(&mut c, &["HINCRBY", "n", "big", "1"]).contains("overflow"));
        assert!(
            err(&mut c, &["HINCRBYFLOAT", "n", "s", "1"]).contains("hash value is not a float")
        );
        assert!(err(&mut c, &["HINCRBY", "n", "f", "x"]).contains("not an integer"));
        // HRANDFIELD: distinct for positive counts, repeats for negative.
        // Past hash-max-listpack-entries (512 by default, as Redis 7.0).
        for i in 0..600 {
            q::<i64>(&mut c, &["HSET", "big", &format!("f{i}"), &format!("v{i}")]).unwrap();
        }
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "big"]).unwrap(),
            "hashtable"
        );
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "n"]).unwrap(),
            "listpack"
        );
        let d: Vec<String> = q(&mut c, &["HRANDFIELD", "big", "50"]).unwrap();
        let set: std::collections::HashSet<&String> = d.iter().collect();
        assert_eq!((d.len(), set.len()), (50, 50));
        let r: Vec<String> = q(&mut c, &["HRANDFIELD", "n", "-20"]).unwrap();
        assert_eq!(r.len(), 20);
        let wv: Vec<String> = q(&mut c, &["HRANDFIELD", "big", "3", "WITHVALUES"]).unwrap();
        assert_eq!(wv.len(), 6);
        assert_eq!(wv[1], wv[0].replace('f', "v"));
        assert_eq!(
            q::<Option<String>>(&mut c, &["HRANDFIELD", "nokey"]).unwrap(),
            None
        );
        // HSCAN walks a large hash incrementally and returns every field.
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let (next, items): (String, Vec<String>) =
                q(&mut c, &["HSCAN", "big", &cursor, "COUNT", "7"]).unwrap();
            for pair in items.chunks(2) {
                seen.insert(pair[0].clone());
            }
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 600);
        let (_, m): (String, Vec<String>) = q(&mut c, &["HSCAN", "n", "0", "MATCH", "f*"]).unwrap();
        assert_eq!(m, vec!["f", "-2"]);
        assert!(err(&mut c, &["HSCAN", "n", "abc"]).contains("invalid cursor"));
    });
}

/// HSCAN as Redis: cursor, then key (missing: empty scan), then options.
#[test]
fn hscan_error_order() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["HSCAN", "nokey", "0", "COUNT", "abc"],
                    "*2\r\n$1\r\n0\r\n*0\r\n",
                ),
                (&["HSET", "h", "f", "v"], ":1\r\n"),
                (
                    &["HSCAN", "h", "+0", "MATCH", "f*"],
                    "*2\r\n$1\r\n0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n",
                ),
                (&["HSCAN", "h", "0", "COUNT", "0"], "-ERR syntax error\r\n"),
            ],
        );
    });
}

/// HRANDFIELD reads the count before the rest (a syntax error comes
/// second).
#[test]
fn hrandfield_argument_order() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["HRANDFIELD", "h", "abc", "junk"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (
                    &["HRANDFIELD", "h", "1.5", "WITHSCORES"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
            ],
        );
    });
}
