//! SORT and SORT_RO through the `redis` crate against the real server in
//! every thread layout: numeric and ALPHA order, DESC, LIMIT clamping, BY
//! and GET patterns (string keys and hash fields, which land on other
//! shards), BY nosort, STORE, and the error replies. Expected replies are
//! those of redis-server 7.0 for the same commands.

mod common;
use common::*;

fn load(c: &mut redis::Connection) {
    q::<i64>(c, &["RPUSH", "l", "3", "1", "2", "10", "-5", "1.5"]).unwrap();
    q::<i64>(c, &["SADD", "s", "c", "a", "b", "3"]).unwrap();
    q::<i64>(c, &["ZADD", "z", "3", "c", "1", "a", "2", "b"]).unwrap();
    let w = [
        "w_a", "30", "w_b", "10", "w_c", "20", "w_3", "5", "w_1", "7", "w_2", "1", "w_10", "0",
    ];
    let mut mset = vec!["MSET"];
    mset.extend(w);
    q::<String>(c, &mset).unwrap();
    q::<i64>(c, &["HSET", "h_a", "f", "9", "name", "alice"]).unwrap();
    q::<i64>(c, &["HSET", "h_b", "f", "1", "name", "bob"]).unwrap();
    q::<i64>(c, &["HSET", "h_c", "f", "5"]).unwrap();
    q::<i64>(c, &["RPUSH", "words", "banana", "apple", "Cherry"]).unwrap();
    q::<String>(c, &["SET", "str", "x"]).unwrap();
}

fn sorted(c: &mut redis::Connection, args: &str) -> Vec<Option<String>> {
    let a: Vec<&str> = args.split(' ').collect();
    q(c, &a).unwrap()
}

fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter()
        .map(|s| (!s.is_empty()).then(|| s.to_string()))
        .collect()
}

#[test]
fn orders_limits_and_patterns() {
    each_mode(|s| {
        let mut c = s.conn();
        load(&mut c);
        let cases: &[(&str, &[&str])] = &[
            ("SORT l", &["-5", "1", "1.5", "2", "3", "10"]),
            ("SORT l DESC", &["10", "3", "2", "1.5", "1", "-5"]),
            ("SORT l LIMIT 1 2", &["1", "1.5"]),
            ("SORT l LIMIT 2 -1", &["1.5", "2", "3", "10"]),
            ("SORT l LIMIT -1 2", &["-5", "1"]),
            ("SORT l LIMIT 10 2", &[]),
            ("SORT l LIMIT 0 0", &[]),
            ("SORT s ALPHA", &["3", "a", "b", "c"]),
            ("SORT words ALPHA", &["Cherry", "apple", "banana"]),
            ("SORT words ALPHA DESC LIMIT 0 2", &["banana", "apple"]),
            ("SORT z BY w_*", &["b", "c", "a"]),
            ("SORT z BY w_* DESC", &["a", "c", "b"]),
            ("SORT z BY nosort", &["a", "b", "c"]),
            ("SORT z BY nosort DESC LIMIT 1 5", &["b", "a"]),
            ("SORT missing", &[]),
            ("SORT_RO l DESC LIMIT 0 1", &["10"]),
        ];
        for (cmd, want) in cases {
            assert_eq!(sorted(&mut c, cmd), some(want), "{cmd}");
        }
        // GET: "#" is the element, missing keys and fields are null.
        assert_eq!(
            sorted(&mut c, "SORT z BY h_*->f GET # GET h_*->name GET w_*"),
            some(&["b", "bob", "10", "c", "", "20", "a", "alice", "30"])
        );
        assert_eq!(
            sorted(&mut c, "SORT l BY w_* GET # GET w_*"),
            some(&["-5", "", "1.5", "", "10", "0", "2", "1", "3", "5", "1", "7"])
        );
        // A missing BY key weighs 0: ties fall back to the elements.
        assert_eq!(
            sorted(&mut c, "SORT l BY nokey_*"),
            some(&["-5", "1", "1.5", "10", "2", "3"])
        );
    });
}

#[test]
fn store_and_errors() {
    each_mode(|s| {
        let mut c = s.conn();
        load(&mut c);
        assert_eq!(q::<i64>(&mut c, &["SORT", "l", "STORE", "dst"]).unwrap(), 6);
        let l: Vec<String> = q(&mut c, &["LRANGE", "dst", "0", "-1"]).unwrap();
        assert_eq!(l, ["-5", "1", "1.5", "2", "3", "10"]);
        // BY nosort on a set with STORE sorts ALPHA (deterministic, as Redis).
        assert_eq!(
            q::<i64>(&mut c, &["SORT", "s", "BY", "nosort", "STORE", "dst2"]).unwrap(),
            4
        );
        let l: Vec<String> = q(&mut c, &["LRANGE", "dst2", "0", "-1"]).unwrap();
        assert_eq!(l, ["3", "a", "b", "c"]);
        // Missing GET values are stored as empty strings.
        let n: i64 = q(
            &mut c,
            &[
                "SORT",
                "z",
                "BY",
                "nosort",
                "GET",
                "h_*->name",
                "STORE",
                "dst3",
            ],
        )
        .unwrap();
        assert_eq!(n, 3);
        let l: Vec<String> = q(&mut c, &["LRANGE", "dst3", "0", "-1"]).unwrap();
        assert_eq!(l, ["alice", "bob", ""]);
        // An empty result deletes the destination, whatever it held.
        assert_eq!(
            q::<i64>(&mut c, &["SORT", "missing", "STORE", "str"]).unwrap(),
            0
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "str"]).unwrap(), 0);
        // A client blocked on the destination is served by the store.
        let mut b = s.conn();
        let t = std::thread::spawn(move || {
            q::<Vec<String>>(&mut b, &["BLPOP", "sorted", "5"]).unwrap()
        });
        s.wait_blocked(1);
        q::<i64>(&mut c, &["SORT", "l", "DESC", "STORE", "sorted"]).unwrap();
        assert_eq!(t.join().unwrap(), ["sorted", "10"]);

        q::<String>(&mut c, &["SET", "str", "x"]).unwrap();
        assert!(err(&mut c, &["SORT", "str"]).contains("wrong kind of value"));
        assert!(err(&mut c, &["SORT", "s"]).contains("can't be converted into double"));
        assert!(
            err(
                &mut c,
                &["SORT", "l", "BY", "w_*", "GET", "#", "ALPHA", "BAD"]
            )
            .contains("syntax error")
        );
        assert!(err(&mut c, &["SORT_RO", "l", "STORE", "x"]).contains("syntax error"));
        assert!(err(&mut c, &["SORT", "l", "LIMIT", "1"]).contains("syntax error"));
        assert!(err(&mut c, &["SORT", "l", "LIMIT", "a", "1"]).contains("not an integer"));
        assert!(err(&mut c, &["SORT", "l", "GET"]).contains("syntax error"));
        assert!(err(&mut c, &["SORT"]).contains("wrong number of arguments for 'sort'"));
    });
}

/// SORT as Redis's sortCommandGeneric: BY without `*` walks a list
/// backwards for DESC; a sorted set is converted to a skiplist for good
/// (SORT_RO too); equal ALPHA weights keep list order (a stable sort);
/// numeric weights parse as strtod (blanks, hex, empty = 0; underflow and
/// trailing garbage are errors).
#[test]
fn sort_matches_redis() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["RPUSH", "l", "ohmytext", "114", "a"], ":3\r\n"),
                (
                    &["SORT", "l", "BY", "w_", "DESC"],
                    "*3\r\n$1\r\na\r\n$3\r\n114\r\n$8\r\nohmytext\r\n",
                ),
                (
                    &["SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "5"],
                    "*2\r\n$3\r\n114\r\n$8\r\nohmytext\r\n",
                ),
                (
                    &["SORT", "l", "BY", "nosort", "LIMIT", "1", "1"],
                    "*1\r\n$3\r\n114\r\n",
                ),
                (&["ZADD", "z", "2", "a", "1", "b"], ":2\r\n"),
                (&["OBJECT", "ENCODING", "z"], "$8\r\nlistpack\r\n"),
                (
                    &["SORT_RO", "z", "BY", "nosort"],
                    "*2\r\n$1\r\nb\r\n$1\r\na\r\n",
                ),
                (&["OBJECT", "ENCODING", "z"], "$8\r\nskiplist\r\n"),
                (&["RPUSH", "al", "b", "a", "c", "d"], ":4\r\n"),
                (&["MSET", "w_b", "1", "w_a", "1", "w_c", "0"], "+OK\r\n"),
                (
                    &["SORT", "al", "BY", "w_*", "ALPHA"],
                    "*4\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n",
                ),
                (
                    &["SORT", "al", "BY", "w_*", "ALPHA", "DESC"],
                    "*4\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nd\r\n",
                ),
                (&["RPUSH", "nl", " 1", "0x10", "", "inf"], ":4\r\n"),
                (
                    &["SORT", "nl"],
                    "*4\r\n$0\r\n\r\n$2\r\n 1\r\n$4\r\n0x10\r\n$3\r\ninf\r\n",
                ),
                (&["RPUSH", "el", "5", "1e-400"], ":2\r\n"),
                (
                    &["SORT", "el"],
                    "-ERR One or more scores can't be converted into double\r\n",
                ),
                (&["RPUSH", "el2", "5", "1 "], ":2\r\n"),
                (
                    &["SORT", "el2"],
                    "-ERR One or more scores can't be converted into double\r\n",
                ),
            ],
        );
    });
}

/// SORT ALPHA without STORE compares with strcoll(): C strings (the C
/// locale), so text after a NUL byte is ignored and such ties keep input
/// order; with STORE the comparison is binary.
#[test]
fn alpha_compares_c_strings_without_store() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["LPUSH", "l", "20", "\x00\x01ab", "-6", ""], ":4\r\n"),
                (
                    &["SORT", "l", "ALPHA", "DESC"],
                    "*4\r\n$2\r\n20\r\n$2\r\n-6\r\n$0\r\n\r\n$4\r\n\x00\x01ab\r\n",
                ),
                (
                    &["SORT", "l", "ALPHA"],
                    "*4\r\n$0\r\n\r\n$4\r\n\x00\x01ab\r\n$2\r\n-6\r\n$2\r\n20\r\n",
                ),
                (&["SORT", "l", "ALPHA", "DESC", "STORE", "d"], ":4\r\n"),
                (
                    &["LRANGE", "d", "0", "-1"],
                    "*4\r\n$2\r\n20\r\n$2\r\n-6\r\n$4\r\n\x00\x01ab\r\n$0\r\n\r\n",
                ),
                (&["RPUSH", "m", "a\x00b", "a\x00a", "a"], ":3\r\n"),
                (
                    &["SORT", "m", "ALPHA"],
                    "*3\r\n$3\r\na\x00b\r\n$3\r\na\x00a\r\n$1\r\na\r\n",
                ),
                (&["SORT", "m", "ALPHA", "STORE", "d2"], ":3\r\n"),
                (
                    &["LRANGE", "d2", "0", "-1"],
                    "*3\r\n$1\r\na\r\n$3\r\na\x00a\r\n$3\r\na\x00b\r\n",
                ),
            ],
        );
    });
}
