//! Sorted-set commands through the `redis` crate against the real server,
//! in every thread layout; score formatting, ranges, both encodings and
//! multi-key commands across shards.

mod common;
use common::*;

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn add_options_and_scores() {
    each_mode(|s| {
        let mut c = s.conn();
        assert_eq!(
            q::<i64>(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]).unwrap(),
            3
        );
        assert_eq!(
            q::<i64>(&mut c, &["ZADD", "z", "NX", "9", "a", "4", "d"]).unwrap(),
            1
        );
        assert_eq!(
            q::<i64>(&mut c, &["ZADD", "z", "XX", "CH", "5", "a", "9", "new"]).unwrap(),
            1
        );
        assert_eq!(
            q::<i64>(&mut c, &["ZADD", "z", "GT", "CH", "1", "a", "6", "b"]).unwrap(),
            1
        );
        assert_eq!(
            q::<String>(&mut c, &["ZADD", "z", "INCR", "1.5", "c"]).unwrap(),
            "4.5"
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["ZADD", "z", "NX", "INCR", "1", "c"]).unwrap(),
            None
        );
        assert_eq!(
            q::<String>(&mut c, &["ZINCRBY", "z", "0.1", "c"]).unwrap(),
            // Redis 7.0's %.17g.
            "4.5999999999999996"
        );
        assert_eq!(q::<String>(&mut c, &["ZSCORE", "z", "a"]).unwrap(), "5");
        let ms: Vec<Option<String>> = q(&mut c, &["ZMSCORE", "z", "a", "zz"]).unwrap();
        assert_eq!(ms, vec![Some("5".into()), None]);
        assert_eq!(q::<i64>(&mut c, &["ZCARD", "z"]).unwrap(), 4);
        q::<i64>(
            &mut c,
            &["ZADD", "f", "1e20", "big", "-inf", "low", "0.1", "tenth"],
        )
        .unwrap();
        assert_eq!(
            q::<String>(&mut c, &["ZSCORE", "f", "big"]).unwrap(),
            "1e+20"
        );
        assert_eq!(
            q::<String>(&mut c, &["ZSCORE", "f", "low"]).unwrap(),
            "-inf"
        );
        assert_eq!(
            q::<String>(&mut c, &["ZSCORE", "f", "tenth"]).unwrap(),
            "0.10000000000000001"
        );
        assert!(err(&mut c, &["ZADD", "z", "NX", "XX", "1", "a"]).contains("XX and NX options"));
        assert!(err(&mut c, &["ZADD", "z", "GT", "LT", "1", "a"]).contains("GT, LT, and/or NX"));
        assert!(
            err(&mut c, &["ZADD", "z", "INCR", "1", "a", "2", "b"])
                .contains("single increment-element pair")
        );
        assert!(err(&mut c, &["ZADD", "z", "x", "a"]).contains("not a valid float"));
        assert!(err(&mut c, &["ZADD", "z", "1", "a", "2"]).contains("syntax error"));
        q::<i64>(&mut c, &["ZADD", "n", "inf", "x"]).unwrap();
        assert!(err(&mut c, &["ZINCRBY", "n", "-inf", "x"]).contains("not a number (NaN)"));
        assert_eq!(q::<i64>(&mut c, &["ZREM", "z", "a", "zz"]).unwrap(), 1);
        q::<String>(&mut c, &["SET", "str", "v"]).unwrap();
        assert!(err(&mut c, &["ZADD", "str", "1", "a"]).contains("wrong kind of value"));
        assert!(err(&mut c, &["ZRANGE", "str", "0", "1"]).contains("wrong kind of value"));
    });
}

#[test]
fn ranges_ranks_and_removal() {
    each_mode(|s| {
        let mut c = s.conn();
        for n in [8usize, 300] {
            // 8 stays listpack, 300 becomes skiplist: same answers.
            let k = format!("r{n}");
            for i in 0..n {
                q::<i64>(&mut c, &["ZADD", &k, &i.to_string(), &format!("m{i:03}")]).unwrap();
            }
            let enc: String = q(&mut c, &["OBJECT", "ENCODING", &k]).unwrap();
            assert_eq!(enc, if n == 8 { "listpack" } else { "skiplist" });
            let r: Vec<String> = q(&mut c, &["ZRANGE", &k, "0", "2"]).unwrap();
            assert_eq!(r, strs(&["m000", "m001", "m002"]));
            let r: Vec<String> = q(&mut c, &["ZRANGE", &k, "0", "1", "REV", "WITHSCORES"]).unwrap();
            let last = n - 1;
            assert_eq!(
                r,
                vec![
                    format!("m{last:03}"),
                    last.to_string(),
                    format!("m{:03}", last - 1),
                    (last - 1).to_string()
                ]
            );
            let r: Vec<String> = q(&mut c, &["ZRANGE", &k, "(2", "5", "BYSCORE"]).unwrap();
            assert_eq!(r, strs(&["m003", "m004", "m005"]));
            let r: Vec<String> = q(
                &mut c,
                &["ZRANGE", &k, "5", "(2", "BYSCORE", "REV", "LIMIT", "1", "2"],
            )
            .unwrap();
            assert_eq!(r, strs(&["m004", "m003"]));
            let r: Vec<String> = q(
                &mut c,
                &["ZRANGEBYSCORE", &k, "-inf", "+inf", "LIMIT", "2", "1"],
            )
            .unwrap();
            assert_eq!(r, strs(&["m002"]));
            let r: Vec<String> =
                q(&mut c, &["ZREVRANGEBYSCORE", &k, "3", "1", "WITHSCORES"]).unwrap();
            assert_eq!(r, strs(&["m003", "3", "m002", "2", "m001", "1"]));
            let r: Vec<String> = q(&mut c, &["ZREVRANGE", &k, "0", "0"]).unwrap();
            assert_eq!(r, vec![format!("m{last:03}")]);
            assert_eq!(q::<i64>(&mut c, &["ZCOUNT", &k, "1", "(4"]).unwrap(), 3);
            assert_eq!(q::<i64>(&mut c, &["ZRANK", &k, "m005"]).unwrap(), 5);
            assert_eq!(
                q::<i64>(&mut c, &["ZREVRANK", &k, "m005"]).unwrap(),
                (n - 6) as i64
            );
            let rs: (i64, String) = q(&mut c, &["ZRANK", &k, "m002", "WITHSCORE"]).unwrap();
            assert_eq!(rs, (2, "2".to_string()));
            assert_eq!(
                q::<Option<i64>>(&mut c, &["ZRANK", &k, "nope"]).unwrap(),
                None
            );
            assert_eq!(
                q::<i64>(&mut c, &["ZREMRANGEBYRANK", &k, "0", "1"]).unwrap(),
                2
            );
            assert_eq!(
                q::<i64>(&mut c, &["ZREMRANGEBYSCORE", &k, "-inf", "(3"]).unwrap(),
                1
            );
            assert_eq!(q::<i64>(&mut c, &["ZCARD", &k]).unwrap(), (n - 3) as i64);
        }
        q::<i64>(
            &mut c,
            &[
                "ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e",
            ],
        )
        .unwrap();
        let r: Vec<String> = q(&mut c, &["ZRANGEBYLEX", "lex", "[b", "(d"]).unwrap();
        assert_eq!(r, strs(&["b", "c"]));
        let r: Vec<String> = q(
            &mut c,
            &["ZREVRANGEBYLEX", "lex", "+", "-", "LIMIT", "0", "2"],
        )
        .unwrap();
        assert_eq!(r, strs(&["e", "d"]));
        let r: Vec<String> = q(&mut c, &["ZRANGE", "lex", "-", "[b", "BYLEX"]).unwrap();
        assert_eq!(r, strs(&["a", "b"]));
        assert_eq!(
            q::<i64>(&mut c, &["ZLEXCOUNT", "lex", "(a", "+"]).unwrap(),
            4
        );
        assert_eq!(
            q::<i64>(&mut c, &["ZREMRANGEBYLEX", "lex", "[d", "+"]).unwrap(),
            2
        );
        assert!(
            err(&mut c, &["ZRANGEBYLEX", "lex", "b", "c"]).contains("not valid string range item")
        );
        assert!(
            err(&mut c, &["ZRANGEBYSCORE", "lex", "x", "1"]).contains("min or max is not a float")
        );
        assert!(
            err(&mut c, &["ZRANGE", "lex", "0", "1", "LIMIT", "0", "1"])
                .contains("LIMIT is only supported")
        );
        assert!(
            err(&mut c, &["ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"])
                .contains("WITHSCORES not supported")
        );
        // Pops.
        let p: Vec<String> = q(&mut c, &["ZPOPMIN", "lex"]).unwrap();
        assert_eq!(p, strs(&["a", "0"]));
        let p: Vec<String> = q(&mut c, &["ZPOPMAX", "lex", "5"]).unwrap();
        assert_eq!(p, strs(&["c", "0", "b", "0"]));
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "lex"]).unwrap(), 0);
        assert!(err(&mut c, &["ZPOPMIN", "r8", "-1"]).contains("must be positive"));
        let r: Vec<String> = q(&mut c, &["ZRANDMEMBER", "r300", "-5", "WITHSCORES"]).unwrap();
        assert_eq!(r.len(), 10);
        let mut cursor = "0".to_string();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let (next, items): (String, Vec<String>) =
                q(&mut c, &["ZSCAN", "r300", &cursor]).unwrap();
            for p in items.chunks(2) {
                seen.insert(p[0].clone());
            }
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 297);
    });
}

#[test]
fn multi_key_across_shards() {
    each_mode(|s| {
        let mut c = s.conn();
        q::<i64>(&mut c, &["ZADD", "za", "1", "a", "2", "b", "3", "c"]).unwrap();
        q::<i64>(&mut c, &["ZADD", "zb", "10", "b", "20", "c", "30", "d"]).unwrap();
        q::<i64>(&mut c, &["SADD", "sc", "c", "x"]).unwrap();
        let r: Vec<String> = q(&mut c, &["ZUNION", "2", "za", "zb", "WITHSCORES"]).unwrap();
        assert_eq!(r, strs(&["a", "1", "b", "12", "c", "23", "d", "30"]));
        let r: Vec<String> = q(
            &mut c,
            &[
                "ZINTER",
                "3",
                "za",
                "zb",
                "sc",
                "WEIGHTS",
                "1",
                "2",
                "100",
                "WITHSCORES",
            ],
        )
        .unwrap();
        assert_eq!(r, strs(&["c", "143"]));
        let r: Vec<String> = q(
            &mut c,
            &["ZINTER", "2", "za", "zb", "AGGREGATE", "MAX", "WITHSCORES"],
        )
        .unwrap();
        assert_eq!(r, strs(&["b", "10", "c", "20"]));
        let r: Vec<String> = q(&mut c, &["ZDIFF", "2", "za", "zb"]).unwrap();
        assert_eq!(r, strs(&["a"]));
        assert_eq!(
            q::<i64>(&mut c, &["ZINTERCARD", "2", "za", "zb"]).unwrap(),
            2
        );
        assert_eq!(
            q::<i64>(&mut c, &["ZINTERCARD", "2", "za", "zb", "LIMIT", "1"]).unwrap(),
            1
        );
        for dst in ["d1", "d2", "d3", "d4", "d5"] {
            assert_eq!(
                q::<i64>(
                    &mut c,
                    &["ZUNIONSTORE", dst, "2", "za", "zb", "AGGREGATE", "MIN"]
                )
                .unwrap(),
                4
            );
            let r: Vec<String> = q(&mut c, &["ZRANGE", dst, "0", "-1", "WITHSCORES"]).unwrap();
            assert_eq!(r, strs(&["a", "1", "b", "2", "c", "3", "d", "30"]));
            assert_eq!(
                q::<i64>(&mut c, &["ZINTERSTORE", dst, "2", "za", "zb"]).unwrap(),
                2
            );
            assert_eq!(
                q::<i64>(&mut c, &["ZDIFFSTORE", dst, "2", "za", "zb"]).unwrap(),
                1
            );
            assert_eq!(
                q::<i64>(&mut c, &["ZRANGESTORE", dst, "zb", "15", "+inf", "BYSCORE"]).unwrap(),
                2
            );
            let r: Vec<String> = q(&mut c, &["ZRANGE", dst, "0", "-1"]).unwrap();
            assert_eq!(r, strs(&["c", "d"]));
        }
        assert!(err(&mut c, &["ZUNION", "0", "za"]).contains("at least 1 input key"));
        assert!(
            err(&mut c, &["ZUNION", "2", "za", "zb", "WEIGHTS", "1", "x"])
                .contains("weight value is not a float")
        );
        q::<String>(&mut c, &["SET", "str", "v"]).unwrap();
        assert!(err(&mut c, &["ZUNION", "2", "za", "str"]).contains("wrong kind of value"));
        let r: (String, Vec<(String, String)>) = q(
            &mut c,
            &["ZMPOP", "3", "none", "zb", "za", "MAX", "COUNT", "2"],
        )
        .unwrap();
        assert_eq!(r.0, "zb");
        assert_eq!(
            r.1,
            vec![("d".into(), "30".into()), ("c".into(), "20".into())]
        );
        assert_eq!(
            q::<Option<(String, Vec<(String, String)>)>>(&mut c, &["ZMPOP", "1", "none", "MIN"])
                .unwrap(),
            None
        );
    });
}

/// ZSCAN as Redis: cursor, then key (missing: empty scan), then options.
#[test]
fn zscan_error_order() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["ZSCAN", "nokey", "", "NOSUCHOPT"],
                    "*2\r\n$1\r\n0\r\n*0\r\n",
                ),
                (
                    &["ZSCAN", "nokey", "18446744073709551616"],
                    "-ERR invalid cursor\r\n",
                ),
            ],
        );
    });
}

/// ZRANDMEMBER reads the count before the rest (a syntax error comes
/// second) and bounds a huge positive count only WITHSCORES.
#[test]
fn zrandmember_argument_order() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (
                    &["ZRANDMEMBER", "z", "1.5", "WITHVALUES"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (&["ZADD", "z", "1", "a"], ":1\r\n"),
                (
                    &["ZRANDMEMBER", "z", "9223372036854775807"],
                    "*1\r\n$1\r\na\r\n",
                ),
                (
                    &["ZRANDMEMBER", "z", "9223372036854775807", "WITHSCORES"],
                    "-ERR value is out of range\r\n",
                ),
                (&["ZRANDMEMBER", "z", "2", "junk"], "-ERR syntax error\r\n"),
            ],
        );
    });
}

/// Scores parse as Redis's strtod: ZADD/ZINCRBY take hex floats and
/// refuse overflow, blanks and underflow to zero; range bounds accept an
/// empty number (0), leading blanks and overflow (±inf).
#[test]
fn score_parsing() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["ZADD", "z", "0x10", "a"], ":1\r\n"),
                (&["ZSCORE", "z", "a"], "$2\r\n16\r\n"),
                (
                    &["ZADD", "z", "1e400", "b"],
                    "-ERR value is not a valid float\r\n",
                ),
                (
                    &["ZADD", "z", " 1", "b"],
                    "-ERR value is not a valid float\r\n",
                ),
                (
                    &["ZADD", "z", "1e-400", "b"],
                    "-ERR value is not a valid float\r\n",
                ),
                (&["ZADD", "z", "0x1p-2", "b"], ":1\r\n"),
                (&["ZSCORE", "z", "b"], "$4\r\n0.25\r\n"),
                (&["ZADD", "z", "2.5e-5", "c"], ":1\r\n"),
                (&["ZCOUNT", "z", "", "(20"], ":3\r\n"),
                (&["ZCOUNT", "z", "(", "20"], ":3\r\n"),
                (&["ZCOUNT", "z", " 1", "20"], ":1\r\n"),
                (
                    &["ZCOUNT", "z", "( ", "20"],
                    "-ERR min or max is not a float\r\n",
                ),
                (&["ZCOUNT", "z", "1e400", "inf"], ":0\r\n"),
                (&["ZCOUNT", "z", "-1e400", "(1e400"], ":3\r\n"),
                (
                    &["ZRANGEBYSCORE", "z", "(0", "0x11"],
                    "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
                ),
                (
                    &["ZREMRANGEBYSCORE", "z", "nan", "1"],
                    "-ERR min or max is not a float\r\n",
                ),
            ],
        );
    });
}

/// -0 scores as Redis stores them: a listpack keeps whole scores as
/// integers (-0 becomes 0), a skiplist keeps -0; ZUNIONSTORE builds a
/// skiplist and converts a small result, ZRANGESTORE starts from a
/// listpack.
#[test]
fn negative_zero_scores() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["ZADD", "{t}z1", "-0", "120"], ":1\r\n"),
                (&["ZSCORE", "{t}z1", "120"], "$1\r\n0\r\n"),
                (
                    &[
                        "ZADD",
                        "{t}z1",
                        "-2",
                        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb0",
                    ],
                    ":1\r\n",
                ),
                (
                    &[
                        "ZUNIONSTORE",
                        "{t}z2",
                        "3",
                        "{t}z1",
                        "z0",
                        "s0",
                        "WEIGHTS",
                        "-4",
                        "-1",
                        "3",
                        "AGGREGATE",
                        "MAX",
                    ],
                    ":2\r\n",
                ),
                (&["ZSCORE", "{t}z2", "120"], "$2\r\n-0\r\n"),
                (&["OBJECT", "ENCODING", "{t}z2"], "$8\r\nskiplist\r\n"),
                (&["ZADD", "{t}z3", "1", "a"], ":1\r\n"),
                (
                    &["ZUNIONSTORE", "{t}z4", "1", "{t}z3", "WEIGHTS", "-0"],
                    ":1\r\n",
                ),
                (&["ZSCORE", "{t}z4", "a"], "$1\r\n0\r\n"),
                (
                    &["ZUNION", "1", "{t}z3", "WEIGHTS", "-0", "WITHSCORES"],
                    "*2\r\n$1\r\na\r\n$2\r\n-0\r\n",
                ),
                (&["ZRANGESTORE", "{t}z5", "{t}z2", "0", "-1"], ":2\r\n"),
                (&["ZSCORE", "{t}z5", "120"], "$1\r\n0\r\n"),
                (
                    &["ZRANGESTORE", "{t}z6", "{t}z2", "-inf", "+inf", "BYSCORE"],
                    ":2\r\n",
                ),
                (&["ZSCORE", "{t}z6", "120"], "$1\r\n0\r\n"),
            ],
        );
    });
}

/// ZINCRBY goes through ZADD's parser in Redis: an increment spelled like
/// a ZADD option is a syntax error. A new member takes the increment
/// itself (-0 stays -0 in the reply; a listpack stores it as 0).
#[test]
fn zincrby_quirks() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["ZINCRBY", "z", "nx", "m"], "-ERR syntax error\r\n"),
                (&["ZINCRBY", "z", "GT", "m"], "-ERR syntax error\r\n"),
                (&["ZINCRBY", "z", "incr", "m"], "-ERR syntax error\r\n"),
                (&["ZINCRBY", "z", "-0", "n"], "$2\r\n-0\r\n"),
                (&["ZSCORE", "z", "n"], "$1\r\n0\r\n"),
                (&["ZINCRBY", "z", "-0", "n"], "$1\r\n0\r\n"),
                (&["ZADD", "z", "0", "a"], ":1\r\n"),
                (&["ZINCRBY", "z", "-0", "a"], "$1\r\n0\r\n"),
            ],
        );
    });
}

/// ZRANGE-family options as Redis's zrangeGenericCommand reads them: in
/// order, BYSCORE/BYLEX/REV once, WITHSCORES and LIMIT for every form;
/// LIMIT with a rank range is refused unless its count is -1.
#[test]
fn zrange_option_parsing() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["ZADD", "z", "1", "a", "2", "b"], ":2\r\n"),
                (
                    &["ZRANGE", "z", "0", "-1", "LIMIT", "1", "-1"],
                    "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
                ),
                (
                    &["ZRANGE", "z", "0", "-1", "LIMIT", "1", "1"],
                    "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
                ),
                (
                    &["ZRANGE", "z", "0", "-1", "REV", "REV"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["ZRANGE", "z", "0", "1", "BYSCORE", "BYSCORE"],
                    "-ERR syntax error\r\n",
                ),
                (&["ZRANGE", "z", "0", "1", "BYSCORE", "REV"], "*0\r\n"),
                (
                    &["ZRANGEBYLEX", "z", "-", "+", "WITHSCORES"],
                    "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
                ),
                (
                    &[
                        "ZREVRANGEBYLEX",
                        "z",
                        "+",
                        "-",
                        "WITHSCORES",
                        "LIMIT",
                        "0",
                        "1",
                    ],
                    "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
                ),
                (
                    &["ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
                    "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n",
                ),
                (
                    &[
                        "ZREVRANGE",
                        "z",
                        "0",
                        "-1",
                        "LIMIT",
                        "0",
                        "-1",
                        "WITHSCORES",
                    ],
                    "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n",
                ),
                (
                    &[
                        "ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX", "LIMIT", "abc", "1",
                    ],
                    "-ERR syntax error\r\n",
                ),
                (
                    &[
                        "ZRANGE", "z", "0", "1", "LIMIT", "abc", "1", "BYSCORE", "BYLEX",
                    ],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (
                    &["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["ZRANGEBYSCORE", "z", "-inf", "+inf", "BYSCORE"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &[
                        "ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1", "LIMIT", "0",
                        "5",
                    ],
                    "*1\r\n$1\r\nb\r\n",
                ),
            ],
        );
    });
}

/// ZUNION/ZINTER/ZDIFF(+STORE)/ZINTERCARD check every key's type before
/// the options; WEIGHTS parse as strtod (hex); union and intersection sum
/// their inputs smallest first, as Redis, so float sums round alike
/// (0.2 + 0.3 + 0.1 = 0.6, shown by Redis 7.0's %.17g as
/// 0.59999999999999998; key order would give 0.6000000000000001).
#[test]
fn zunion_inter_diff_arguments() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["ZADD", "z", "1", "a", "2", "b"], ":2\r\n"),
                (&["SET", "str", "v"], "+OK\r\n"),
                (
                    &["ZUNION", "2", "z", "str", "WEIGHTS", "1"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (
                    &["ZUNION", "2", "z", "str", "BOGUS"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (
                    &["ZINTERCARD", "1", "str", "LIMIT", "-1"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (
                    &["ZDIFF", "2", "str", "z", "BOGUS"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (
                    &["ZUNIONSTORE", "d", "2", "z", "str", "AGGREGATE", "AVG"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (
                    &["ZUNION", "1", "z", "WEIGHTS", "0x10", "WITHSCORES"],
                    "*4\r\n$1\r\na\r\n$2\r\n16\r\n$1\r\nb\r\n$2\r\n32\r\n",
                ),
                (
                    &["ZINTER", "2", "z", "z", "WEIGHTS", "1", "1e400"],
                    "-ERR weight value is not a float\r\n",
                ),
                (
                    &["ZINTER", "2", "z", "z", "WEIGHTS", "1", " 1"],
                    "-ERR weight value is not a float\r\n",
                ),
                (
                    &["ZUNION", "0", "z"],
                    "-ERR at least 1 input key is needed for 'zunion' command\r\n",
                ),
                (&["ZUNIONSTORE", "d", "2", "z"], "-ERR syntax error\r\n"),
                (&["ZADD", "a", "0.1", "m", "0", "x1", "0", "x2"], ":3\r\n"),
                (&["ZADD", "b", "0.2", "m"], ":1\r\n"),
                (&["ZADD", "c", "0.3", "m", "0", "y1"], ":2\r\n"),
                (&["ZUNIONSTORE", "d", "3", "a", "b", "c"], ":4\r\n"),
                (&["ZSCORE", "d", "m"], "$19\r\n0.59999999999999998\r\n"),
                (&["ZINTERSTORE", "d", "3", "a", "b", "c"], ":1\r\n"),
                (&["ZSCORE", "d", "m"], "$19\r\n0.59999999999999998\r\n"),
            ],
        );
    });
}
