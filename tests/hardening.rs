//! No client can crash, wedge or mislead the server (issue #11): each
//! defect found by trying tandem as a hostile or careless client would,
//! with the input that triggered it. Every test ends by checking the
//! server still answers, so a test "passes" only if the process survived.

mod common;
use common::*;

/// Negative counts to the RAND commands ask for |count| picks with
/// repeats: a count near i64::MIN used to size an allocation and abort the
/// process (redis-server 7.0.15 itself dies on these). Now the reply is
/// built pick by pick and stops at the reply limit with a range error.
#[test]
fn rand_commands_with_huge_negative_counts() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = q(&mut c, &["SADD", "s", "a"]).unwrap();
        let _: () = q(&mut c, &["HSET", "h", "f", "v"]).unwrap();
        let _: () = q(&mut c, &["ZADD", "z", "1", "a"]).unwrap();
        // A big (hashtable / skiplist) collection as well as a small one.
        for i in 0..300 {
            let m = format!("member-{i}");
            let _: () = q(&mut c, &["SADD", "bigs", &m]).unwrap();
            let _: () = q(&mut c, &["HSET", "bigh", &m, "v"]).unwrap();
            let _: () = q(&mut c, &["ZADD", "bigz", &i.to_string(), &m]).unwrap();
        }
        let too_big = "value is out of range, the reply would exceed client-output-limit";
        let min_err = "value is out of range, value must between -9223372036854775807 and 9223372036854775807";
        for key in ["s", "bigs"] {
            assert!(err(&mut c, &["SRANDMEMBER", key, "-9223372036854775807"]).contains(too_big));
            assert!(err(&mut c, &["SRANDMEMBER", key, "-9223372036854775808"]).contains(min_err));
        }
        for key in ["h", "bigh"] {
            assert!(err(&mut c, &["HRANDFIELD", key, "-9223372036854775807"]).contains(too_big));
            assert!(err(&mut c, &["HRANDFIELD", key, "-9223372036854775808"]).contains(min_err));
            assert!(
                err(
                    &mut c,
                    &["HRANDFIELD", key, "-4611686018427387904", "WITHVALUES"]
                )
                .contains("value is out of range")
            );
            assert!(
                err(
                    &mut c,
                    &["HRANDFIELD", key, "-4611686018427387903", "WITHVALUES"]
                )
                .contains(too_big)
            );
        }
        for key in ["z", "bigz"] {
            assert!(err(&mut c, &["ZRANDMEMBER", key, "-9223372036854775807"]).contains(too_big));
            assert!(
                err(
                    &mut c,
                    &["ZRANDMEMBER", key, "-4611686018427387903", "WITHSCORES"]
                )
                .contains(too_big)
            );
        }
        // Redis's order of checks: the count is parsed before the syntax.
        assert!(
            err(&mut c, &["HRANDFIELD", "h", "x", "y"]).contains("not an integer"),
            "count first"
        );
        assert!(err(&mut c, &["ZRANDMEMBER", "z", "1", "y"]).contains("syntax error"));
        // Ordinary negative counts still answer with repeats.
        let v: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "-5"]).unwrap();
        assert_eq!(v, vec!["a"; 5]);
        let v: Vec<String> = q(&mut c, &["HRANDFIELD", "bigh", "-7", "WITHVALUES"]).unwrap();
        assert_eq!(v.len(), 14);
        let v: Vec<String> = q(&mut c, &["ZRANDMEMBER", "bigz", "-1000"]).unwrap();
        assert_eq!(v.len(), 1000);
        // The bound follows client-output-limit: 1 MB of picks is over it.
        let _: () = q(&mut c, &["CONFIG", "SET", "client-output-limit", "1mb"]).unwrap();
        assert!(err(&mut c, &["SRANDMEMBER", "bigs", "-200000"]).contains(too_big));
        let v: Vec<String> = q(&mut c, &["SRANDMEMBER", "bigs", "-10000"]).unwrap();
        assert_eq!(v.len(), 10000);
        s.assert_alive();
    });
}

/// `KEYS *a*a*a*a*a*a*a*a*a*a*b` against a key of 60 `a`s took minutes
/// (exponential backtracking) and hung every client of the shard. The
/// matcher now stops early like Redis's `stringmatchlen`; the 10 s read
/// timeout of the connection fails this test if it does not.
#[test]
fn pathological_glob_patterns_finish() {
    each_mode(|s| {
        let mut c = s.conn();
        let key = "a".repeat(60);
        let _: () = q(&mut c, &["SET", &key, "v"]).unwrap();
        let _: () = q(&mut c, &["SADD", "set", &key]).unwrap();
        let _: () = q(&mut c, &["HSET", "hash", &key, "v"]).unwrap();
        let _: () = q(&mut c, &["ZADD", "zset", "1", &key]).unwrap();
        let pat = "*a*a*a*a*a*a*a*a*a*a*b";
        let keys: Vec<String> = q(&mut c, &["KEYS", pat]).unwrap();
        assert!(keys.is_empty());
        let (_, found): (String, Vec<String>) =
            q(&mut c, &["SCAN", "0", "MATCH", pat, "COUNT", "1000"]).unwrap();
        assert!(found.is_empty());
        for (cmd, key) in [("SSCAN", "set"), ("HSCAN", "hash"), ("ZSCAN", "zset")] {
            let (_, found): (String, Vec<String>) =
                q(&mut c, &[cmd, key, "0", "MATCH", pat]).unwrap();
            assert!(found.is_empty(), "{cmd}");
        }
        // A pattern that does match still does.
        let keys: Vec<String> = q(&mut c, &["KEYS", "*a*a*a*a*a*a*a*a*a*a"]).unwrap();
        assert_eq!(keys, vec![key.clone()]);
        s.assert_alive();
    });
}

/// `SCAN 0 COUNT 9223372036854775807` overflowed the segment budget
/// (count * 10); `HINCRBYFLOAT newkey f inf` answered an error but left an
/// empty hash behind (`TYPE newkey` said hash).
#[test]
fn scan_count_overflow_and_failed_writes_leave_nothing() {
    each_mode(|s| {
        let mut c = s.conn();
        for i in 0..100 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        for _ in 0..100 {
            let (next, found): (String, Vec<String>) =
                q(&mut c, &["SCAN", &cursor, "COUNT", "9223372036854775807"]).unwrap();
            seen.extend(found);
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(cursor, "0");
        assert_eq!(seen.len(), 100);
        let e = err(&mut c, &["HINCRBYFLOAT", "newkey", "f", "inf"]);
        assert!(e.contains("increment would produce NaN or Infinity"), "{e}");
        let t: String = q(&mut c, &["TYPE", "newkey"]).unwrap();
        assert_eq!(t, "none");
        let n: i64 = q(&mut c, &["EXISTS", "newkey"]).unwrap();
        assert_eq!(n, 0);
        s.assert_alive();
    });
}
