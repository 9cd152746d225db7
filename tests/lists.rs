//! List commands through the `redis` crate against the real server, in
//! every thread layout; LMOVE and LMPOP with keys on different shards.

mod common;
use common::*;

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn push_pop_range_index() {
    each_mode(|s| {
        let mut c = s.conn();
        assert_eq!(q::<i64>(&mut c, &["RPUSH", "l", "a", "b", "c"]).unwrap(), 3);
        assert_eq!(q::<i64>(&mut c, &["LPUSH", "l", "z"]).unwrap(), 4);
        assert_eq!(q::<i64>(&mut c, &["LPUSHX", "nol", "x"]).unwrap(), 0);
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "nol"]).unwrap(), 0);
        assert_eq!(q::<i64>(&mut c, &["RPUSHX", "l", "d"]).unwrap(), 5);
        let all: Vec<String> = q(&mut c, &["LRANGE", "l", "0", "-1"]).unwrap();
        assert_eq!(all, strs(&["z", "a", "b", "c", "d"]));
        let mid: Vec<String> = q(&mut c, &["LRANGE", "l", "-4", "2"]).unwrap();
        assert_eq!(mid, strs(&["a", "b"]));
        let none: Vec<String> = q(&mut c, &["LRANGE", "l", "5", "10"]).unwrap();
        assert!(none.is_empty());
        assert_eq!(q::<String>(&mut c, &["LINDEX", "l", "-1"]).unwrap(), "d");
        assert_eq!(
            q::<Option<String>>(&mut c, &["LINDEX", "l", "9"]).unwrap(),
            None
        );
        assert_eq!(q::<String>(&mut c, &["LPOP", "l"]).unwrap(), "z");
        let two: Vec<String> = q(&mut c, &["RPOP", "l", "2"]).unwrap();
        assert_eq!(two, strs(&["d", "c"]));
        let zero: Vec<String> = q(&mut c, &["LPOP", "l", "0"]).unwrap();
        assert!(zero.is_empty());
        assert_eq!(
            q::<Option<String>>(&mut c, &["LPOP", "missing"]).unwrap(),
            None
        );
        assert_eq!(
            q::<Option<Vec<String>>>(&mut c, &["LPOP", "missing", "2"]).unwrap(),
            None
        );
        assert!(err(&mut c, &["LPOP", "l", "-1"]).contains("must be positive"));
        assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]).unwrap(), 2);
        // Popping the last elements deletes the key.
        let _: Vec<String> = q(&mut c, &["LPOP", "l", "10"]).unwrap();
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "l"]).unwrap(), 0);
    });
}

#[test]
fn edits_and_errors() {
    each_mode(|s| {
        let mut c = s.conn();
        q::<i64>(&mut c, &["RPUSH", "e", "a", "b", "a", "c", "a"]).unwrap();
        assert_eq!(q::<String>(&mut c, &["LSET", "e", "1", "B"]).unwrap(), "OK");
        assert!(err(&mut c, &["LSET", "e", "9", "x"]).contains("index out of range"));
        assert!(err(&mut c, &["LSET", "nokey", "0", "x"]).contains("no such key"));
        assert_eq!(
            q::<i64>(&mut c, &["LINSERT", "e", "BEFORE", "c", "x"]).unwrap(),
            6
        );
        assert_eq!(
            q::<i64>(&mut c, &["LINSERT", "e", "AFTER", "nope", "x"]).unwrap(),
            -1
        );
        assert_eq!(
            q::<i64>(&mut c, &["LINSERT", "nokey", "AFTER", "a", "x"]).unwrap(),
            0
        );
        assert!(err(&mut c, &["LINSERT", "e", "NEAR", "a", "x"]).contains("syntax error"));
        // e = a B a x c a
        assert_eq!(q::<i64>(&mut c, &["LPOS", "e", "a"]).unwrap(), 0);
        assert_eq!(
            q::<i64>(&mut c, &["LPOS", "e", "a", "RANK", "2"]).unwrap(),
            2
        );
        assert_eq!(
            q::<i64>(&mut c, &["LPOS", "e", "a", "RANK", "-1"]).unwrap(),
            5
        );
        let all: Vec<i64> = q(&mut c, &["LPOS", "e", "a", "COUNT", "0"]).unwrap();
        assert_eq!(all, vec![0, 2, 5]);
        let capped: Vec<i64> = q(&mut c, &["LPOS", "e", "a", "COUNT", "0", "MAXLEN", "3"]).unwrap();
        assert_eq!(capped, vec![0, 2]);
        assert_eq!(
            q::<Option<i64>>(&mut c, &["LPOS", "e", "zz"]).unwrap(),
            None
        );
        assert!(err(&mut c, &["LPOS", "e", "a", "RANK", "0"]).contains("RANK can't be zero"));
        assert!(
            err(&mut c, &["LPOS", "e", "a", "COUNT", "-1"]).contains("COUNT can't be negative")
        );
        assert!(
            err(&mut c, &["LPOS", "e", "a", "MAXLEN", "-1"]).contains("MAXLEN can't be negative")
        );
        assert_eq!(q::<i64>(&mut c, &["LREM", "e", "-1", "a"]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["LREM", "e", "0", "a"]).unwrap(), 2);
        let rest: Vec<String> = q(&mut c, &["LRANGE", "e", "0", "-1"]).unwrap();
        assert_eq!(rest, strs(&["B", "x", "c"]));
        assert_eq!(
            q::<String>(&mut c, &["LTRIM", "e", "1", "-1"]).unwrap(),
            "OK"
        );
        let rest: Vec<String> = q(&mut c, &["LRANGE", "e", "0", "-1"]).unwrap();
        assert_eq!(rest, strs(&["x", "c"]));
        assert_eq!(
            q::<String>(&mut c, &["LTRIM", "e", "5", "1"]).unwrap(),
            "OK"
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "e"]).unwrap(), 0);
        q::<String>(&mut c, &["SET", "str", "v"]).unwrap();
        for args in [
            &["LPUSH", "str", "a"][..],
            &["LRANGE", "str", "0", "1"],
            &["LLEN", "str"],
            &["LPOP", "str"],
        ] {
            assert!(
                err(&mut c, args).contains("wrong kind of value"),
                "{args:?}"
            );
        }
        assert!(err(&mut c, &["LPUSH", "l"]).contains("wrong number of arguments"));
    });
}

#[test]
fn moves_across_shards_and_encodings() {
    each_mode(|s| {
        let mut c = s.conn();
        // Many source/destination pairs so some certainly cross shards.
        for i in 0..20 {
            let (src, dst) = (format!("src{i}"), format!("dst{i}"));
            q::<i64>(&mut c, &["RPUSH", &src, "1", "2", "3"]).unwrap();
            assert_eq!(
                q::<String>(&mut c, &["LMOVE", &src, &dst, "LEFT", "RIGHT"]).unwrap(),
                "1"
            );
            assert_eq!(
                q::<String>(&mut c, &["RPOPLPUSH", &src, &dst]).unwrap(),
                "3"
            );
            let d: Vec<String> = q(&mut c, &["LRANGE", &dst, "0", "-1"]).unwrap();
            assert_eq!(d, strs(&["3", "1"]));
            assert_eq!(
                q::<Option<String>>(&mut c, &["LMOVE", "none", &dst, "LEFT", "LEFT"]).unwrap(),
                None
            );
            q::<String>(&mut c, &["SET", &format!("s{i}"), "x"]).unwrap();
            assert!(
                err(&mut c, &["LMOVE", &src, &format!("s{i}"), "LEFT", "LEFT"])
                    .contains("wrong kind of value")
            );
            // The source kept its element after the WRONGTYPE.
            assert_eq!(q::<i64>(&mut c, &["LLEN", &src]).unwrap(), 1);
        }
        let r: (String, Vec<String>) = q(
            &mut c,
            &["LMPOP", "3", "none1", "dst4", "dst5", "RIGHT", "COUNT", "5"],
        )
        .unwrap();
        assert_eq!(r, ("dst4".to_string(), strs(&["1", "3"])));
        assert_eq!(
            q::<Option<(String, Vec<String>)>>(&mut c, &["LMPOP", "2", "n1", "n2", "LEFT"])
                .unwrap(),
            None
        );
        assert!(
            err(&mut c, &["LMPOP", "0", "k", "LEFT"]).contains("numkeys should be greater than 0")
        );
        assert!(
            err(&mut c, &["LMPOP", "1", "k", "LEFT", "COUNT", "0"])
                .contains("count should be greater than 0")
        );
        assert!(err(&mut c, &["LMPOP", "1", "k", "UP"]).contains("syntax error"));
        // Encoding: listpack while small, quicklist past the threshold.
        q::<i64>(&mut c, &["RPUSH", "enc", "a"]).unwrap();
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "enc"]).unwrap(),
            "listpack"
        );
        q::<String>(&mut c, &["CONFIG", "SET", "list-max-listpack-size", "4"]).unwrap();
        q::<i64>(&mut c, &["RPUSH", "enc", "b", "c", "d", "e"]).unwrap();
        assert_eq!(
            q::<String>(&mut c, &["OBJECT", "ENCODING", "enc"]).unwrap(),
            "quicklist"
        );
        let all: Vec<String> = q(&mut c, &["LRANGE", "enc", "0", "-1"]).unwrap();
        assert_eq!(all, strs(&["a", "b", "c", "d", "e"]));
        assert_eq!(q::<String>(&mut c, &["TYPE", "enc"]).unwrap(), "list");
    });
}

/// LMPOP/ZMPOP (and the blocking forms) read numkeys and COUNT with
/// Redis's own messages, non-integers included; BLMPOP/BZMPOP check their
/// other arguments before the timeout.
#[test]
fn mpop_numkeys_and_count_errors() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["LMPOP", "abc", "l", "LEFT"],
                    "-ERR numkeys should be greater than 0\r\n",
                ),
                (
                    &["LMPOP", "0", "l", "LEFT"],
                    "-ERR numkeys should be greater than 0\r\n",
                ),
                (
                    &["LMPOP", "1", "l", "LEFT", "COUNT", ""],
                    "-ERR count should be greater than 0\r\n",
                ),
                (
                    &["LMPOP", "1", "l", "LEFT", "COUNT", "0"],
                    "-ERR count should be greater than 0\r\n",
                ),
                (
                    &["LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["LMPOP", "1", "l", "LEFT", "COUNT", "abc", "junk"],
                    "-ERR count should be greater than 0\r\n",
                ),
                (&["RPUSH", "l", "a", "b", "c"], ":3\r\n"),
                (
                    &["LMPOP", "1", "l", "RIGHT", "COUNT", "2"],
                    "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n",
                ),
                (
                    &["ZMPOP", "abc", "z", "MIN"],
                    "-ERR numkeys should be greater than 0\r\n",
                ),
                (
                    &["ZMPOP", "1", "z", "MIN", "COUNT", "-1"],
                    "-ERR count should be greater than 0\r\n",
                ),
                (
                    &["BLMPOP", "1e400", "1", "l", "MIDDLE"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["BZMPOP", "abc", "2", "z", "z2", "MIN", "COUNT", "0"],
                    "-ERR count should be greater than 0\r\n",
                ),
                (
                    &["BLMPOP", "abc", "1", "l", "LEFT"],
                    "-ERR timeout is not a float or out of range\r\n",
                ),
                (
                    &["BZMPOP", "0.01", "1", "z", "MAX", "COUNT", "x"],
                    "-ERR count should be greater than 0\r\n",
                ),
            ],
        );
    });
}

/// LPOP/RPOP with more than a count: Redis's arity error.
#[test]
fn pop_arity_error() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["LPOP", "l", "1", "2"],
                    "-ERR wrong number of arguments for 'lpop' command\r\n",
                ),
                (
                    &["RPOP", "l", "-1", "1"],
                    "-ERR wrong number of arguments for 'rpop' command\r\n",
                ),
            ],
        );
    });
}

/// LINDEX/LSET look the key up before reading the index, as Redis.
#[test]
fn lindex_lset_error_order() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["LINDEX", "nolist", "abc"], "$-1\r\n"),
                (&["LINDEX", "nolist", "-9223372036854775809"], "$-1\r\n"),
                (&["SET", "s", "v"], "+OK\r\n"),
                (
                    &["LINDEX", "s", "abc"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["LSET", "nolist", "abc", "x"], "-ERR no such key\r\n"),
                (
                    &["LSET", "s", "abc", "x"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["RPUSH", "l", "a"], ":1\r\n"),
                (
                    &["LSET", "l", "abc", "x"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (
                    &["LINDEX", "l", "abc"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (&["LSET", "l", "5", "x"], "-ERR index out of range\r\n"),
            ],
        );
    });
}

/// LPOS checks an option's name before its value; COUNT and MAXLEN answer
/// a non-integer with their own message, as Redis.
#[test]
fn lpos_option_errors() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["RPUSH", "l", "a", "b", "a"], ":3\r\n"),
                (
                    &["LPOS", "l", "a", "FOO", "MAXLEN", "abc"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["LPOS", "l", "a", "COUNT", "abc"],
                    "-ERR COUNT can't be negative\r\n",
                ),
                (
                    &["LPOS", "l", "a", "MAXLEN", ""],
                    "-ERR MAXLEN can't be negative\r\n",
                ),
                (
                    &["LPOS", "l", "a", "RANK", "abc"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (
                    &["LPOS", "l", "a", "RANK", "0"],
                    "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n",
                ),
                (
                    &["LPOS", "l", "a", "COUNT", "0", "RANK", "-1"],
                    "*2\r\n:2\r\n:0\r\n",
                ),
                (&["LPOS", "l", "a", "COUNT"], "-ERR syntax error\r\n"),
                (
                    &["LPOS", "nolist", "a", "COUNT", "1", "MAXLEN", "-1"],
                    "-ERR MAXLEN can't be negative\r\n",
                ),
            ],
        );
    });
}
