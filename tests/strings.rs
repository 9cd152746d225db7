//! String commands through the `redis` crate against the real server, in
//! both thread layouts. Multi-key commands use keys that land on different
//! shards (and `{hashtag}` keys that land together).

mod common;
use common::*;

#[test]
fn set_get_options() {
    each_mode(|s| {
        let mut c = s.conn();
        assert_eq!(q::<String>(&mut c, &["SET", "a", "1"]).unwrap(), "OK");
        assert_eq!(
            q::<Option<String>>(&mut c, &["SET", "a", "2", "NX"]).unwrap(),
            None
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["SET", "b", "2", "XX"]).unwrap(),
            None
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["SET", "a", "3", "GET"])
                .unwrap()
                .as_deref(),
            Some("1")
        );
        assert_eq!(
            q::<String>(&mut c, &["SET", "a", "4", "EX", "100"]).unwrap(),
            "OK"
        );
        let ttl: i64 = q(&mut c, &["TTL", "a"]).unwrap();
        assert!((99..=100).contains(&ttl));
        assert_eq!(
            q::<String>(&mut c, &["SET", "a", "5", "KEEPTTL"]).unwrap(),
            "OK"
        );
        assert!(q::<i64>(&mut c, &["PTTL", "a"]).unwrap() > 90_000);
        assert_eq!(q::<String>(&mut c, &["SET", "a", "6"]).unwrap(), "OK");
        assert_eq!(q::<i64>(&mut c, &["TTL", "a"]).unwrap(), -1);
        assert_eq!(
            q::<String>(&mut c, &["SET", "p", "v", "PX", "30"]).unwrap(),
            "OK"
        );
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert_eq!(q::<Option<String>>(&mut c, &["GET", "p"]).unwrap(), None);
        assert!(
            err(&mut c, &["SET", "a", "1", "EX", "0"])
                .contains("invalid expire time in 'set' command")
        );
        assert!(err(&mut c, &["SET", "a", "1", "NX", "XX"]).contains("syntax error"));
        assert!(err(&mut c, &["SET", "a", "1", "EX", "abc"]).contains("not an integer"));
        assert_eq!(q::<String>(&mut c, &["GETSET", "a", "7"]).unwrap(), "6");
        assert_eq!(q::<String>(&mut c, &["GETDEL", "a"]).unwrap(), "7");
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]).unwrap(), 0);
        assert_eq!(q::<i64>(&mut c, &["SETNX", "a", "x"]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["SETNX", "a", "y"]).unwrap(), 0);
        assert_eq!(
            q::<String>(&mut c, &["SETEX", "e", "10", "v"]).unwrap(),
            "OK"
        );
        assert_eq!(
            q::<String>(&mut c, &["PSETEX", "e", "10000", "v"]).unwrap(),
            "OK"
        );
        assert!(q::<i64>(&mut c, &["PTTL", "e"]).unwrap() > 9000);
        assert_eq!(
            q::<String>(&mut c, &["GETEX", "e", "PERSIST"]).unwrap(),
            "v"
        );
        assert_eq!(q::<i64>(&mut c, &["TTL", "e"]).unwrap(), -1);
        assert_eq!(
            q::<String>(&mut c, &["GETEX", "e", "EX", "50"]).unwrap(),
            "v"
        );
        assert!(q::<i64>(&mut c, &["TTL", "e"]).unwrap() > 40);
    });
}

#[test]
fn counters_and_ranges() {
    each_mode(|s| {
        let mut c = s.conn();
        assert_eq!(q::<i64>(&mut c, &["INCR", "n"]).unwrap(), 1);
        assert_eq!(q::<i64>(&mut c, &["INCRBY", "n", "41"]).unwrap(), 42);
        assert_eq!(q::<i64>(&mut c, &["DECR", "n"]).unwrap(), 41);
        assert_eq!(q::<i64>(&mut c, &["DECRBY", "n", "-9"]).unwrap(), 50);
        assert_eq!(q::<String>(&mut c, &["GET", "n"]).unwrap(), "50");
        assert_eq!(
            q::<String>(&mut c, &["INCRBYFLOAT", "f", "10.5"]).unwrap(),
            "10.5"
        );
        assert_eq!(
            q::<String>(&mut c, &["INCRBYFLOAT", "f", "0.1"]).unwrap(),
            "10.6"
        );
        assert_eq!(
            q::<String>(&mut c, &["INCRBYFLOAT", "n", "-50"]).unwrap(),
            "0"
        );
        assert!(err(&mut c, &["INCRBYFLOAT", "f", "abc"]).contains("not a valid float"));
        q::<()>(&mut c, &["SET", "m", "-9223372036854775808"]).unwrap();
        assert!(err(&mut c, &["DECR", "m"]).contains("overflow"));
        assert_eq!(q::<i64>(&mut c, &["APPEND", "s", "Hello"]).unwrap(), 5);
        assert_eq!(q::<i64>(&mut c, &["APPEND", "s", " World"]).unwrap(), 11);
        assert_eq!(q::<i64>(&mut c, &["STRLEN", "s"]).unwrap(), 11);
        assert_eq!(
            q::<String>(&mut c, &["GETRANGE", "s", "0", "4"]).unwrap(),
            "Hello"
        );
        assert_eq!(
            q::<String>(&mut c, &["GETRANGE", "s", "-5", "-1"]).unwrap(),
            "World"
        );
        assert_eq!(
            q::<String>(&mut c, &["SUBSTR", "s", "6", "100"]).unwrap(),
            "World"
        );
        assert_eq!(
            q::<i64>(&mut c, &["SETRANGE", "s", "6", "Redis"]).unwrap(),
            11
        );
        assert_eq!(q::<String>(&mut c, &["GET", "s"]).unwrap(), "Hello Redis");
        assert_eq!(q::<i64>(&mut c, &["SETRANGE", "z", "3", "x"]).unwrap(), 4);
        assert_eq!(q::<Vec<u8>>(&mut c, &["GET", "z"]).unwrap(), b"\0\0\0x");
        assert!(err(&mut c, &["SETRANGE", "z", "-1", "x"]).contains("offset is out of range"));
        assert!(
            err(&mut c, &["SETRANGE", "z", "536870912", "x"])
                .contains("string exceeds maximum allowed size")
        );
    });
}

#[test]
fn multi_key_across_shards() {
    each_mode(|s| {
        let mut c = s.conn();
        let keys: Vec<String> = (0..20).map(|i| format!("mk{i}")).collect();
        let mut mset = vec!["MSET"];
        let vals: Vec<String> = (0..20).map(|i| format!("val{i}")).collect();
        for i in 0..20 {
            mset.push(&keys[i]);
            mset.push(&vals[i]);
        }
        assert_eq!(q::<String>(&mut c, &mset).unwrap(), "OK");
        let mut mget = vec!["MGET", "absent"];
        mget.extend(keys.iter().map(|s| s.as_str()));
        let got: Vec<Option<String>> = q(&mut c, &mget).unwrap();
        assert_eq!(got[0], None);
        for i in 0..20 {
            assert_eq!(got[i + 1].as_deref(), Some(vals[i].as_str()));
        }
        assert_eq!(
            q::<i64>(&mut c, &["MSETNX", "mk0", "x", "fresh1", "y"]).unwrap(),
            0
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "fresh1"]).unwrap(), 0);
        assert_eq!(
            q::<i64>(
                &mut c,
                &["MSETNX", "fresh1", "x", "fresh2", "y", "fresh3", "z"]
            )
            .unwrap(),
            1
        );
        assert_eq!(
            q::<Vec<String>>(&mut c, &["MGET", "fresh1", "fresh2", "fresh3"]).unwrap(),
            vec!["x", "y", "z"]
        );
        let mut del = vec!["DEL", "absent"];
        del.extend(keys.iter().map(|s| s.as_str()));
        assert_eq!(q::<i64>(&mut c, &del).unwrap(), 20);
        q::<()>(&mut c, &["MSET", "{t}a", "ohmytext", "{t}b", "mynewtext"]).unwrap();
        assert_eq!(
            q::<String>(&mut c, &["LCS", "{t}a", "{t}b"]).unwrap(),
            "mytext"
        );
        q::<()>(&mut c, &["MSET", "lcs1", "ohmytext", "lcs2", "mynewtext"]).unwrap();
        assert_eq!(
            q::<String>(&mut c, &["LCS", "lcs1", "lcs2"]).unwrap(),
            "mytext"
        );
        assert_eq!(
            q::<i64>(&mut c, &["LCS", "lcs1", "lcs2", "LEN"]).unwrap(),
            6
        );
    });
}

/// A plain SET replaces a key of any type; only SET ... GET looks at the
/// old value (found by tests/differential.rs; replies from redis-server 7.0).
#[test]
fn set_overwrites_any_type() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["RPUSH", "l", "a"], ":1\r\n"),
                (&["SET", "l", "v"], "+OK\r\n"),
                (&["GET", "l"], "$1\r\nv\r\n"),
                (&["SADD", "{t}s", "m"], ":1\r\n"),
                (&["SET", "{t}s", "v", "NX"], "$-1\r\n"),
                (
                    &["SET", "{t}s", "v", "XX", "GET"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["HSET", "h", "f", "v"], ":1\r\n"),
                (
                    &["SET", "h", "v", "GET"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["TYPE", "h"], "+hash\r\n"),
                (&["SET", "h", "v", "KEEPTTL"], "+OK\r\n"),
                (&["TYPE", "h"], "+string\r\n"),
            ],
        );
    });
}

/// SET/GETEX options as Redis parses them: all options before any value,
/// repeats allowed; GETEX answers a missing key before judging the expiry.
#[test]
fn set_getex_option_parsing() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["SET", "k", "v", "EX", "100", "EX", "200"], "+OK\r\n"),
                (&["TTL", "k"], ":200\r\n"),
                (
                    &["SET", "k", "v", "EX", "100", "PX", "5000"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["SET", "k", "v", "EX", "0", "FOO"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["SET", "k", "v", "EX", "abc", "FOO"],
                    "-ERR syntax error\r\n",
                ),
                (&["SET", "k", "v", "KEEPTTL", "KEEPTTL"], "+OK\r\n"),
                (&["SET", "k", "v", "GET", "GET"], "$1\r\nv\r\n"),
                (&["SET", "k", "w", "NX", "NX"], "$-1\r\n"),
                (&["RPUSH", "l", "a"], ":1\r\n"),
                (
                    &["SET", "l", "v", "EX", "0", "GET"],
                    "-ERR invalid expire time in 'set' command\r\n",
                ),
                (
                    &["SET", "l", "v", "EX", "10", "GET"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["GETEX", "nokey", "EX", "abc"], "$-1\r\n"),
                (
                    &["GETEX", "nokey", "EX", "0", "FOO"],
                    "-ERR syntax error\r\n",
                ),
                (
                    &["GETEX", "l", "EX", "abc"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (
                    &["GETEX", "k", "EX", "abc"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (
                    &["GETEX", "k", "EXAT", "4102444800", "EXAT", "4102444801"],
                    "$1\r\nv\r\n",
                ),
                (&["EXPIRETIME", "k"], ":4102444801\r\n"),
                (&["GETEX", "k", "PERSIST", "PERSIST"], "$1\r\nv\r\n"),
                (&["TTL", "k"], ":-1\r\n"),
                (
                    &["GETEX", "k", "EX", "100", "PERSIST"],
                    "-ERR syntax error\r\n",
                ),
                (&["GETEX", "k", "EXAT", "1"], "$1\r\nv\r\n"),
                (&["EXISTS", "k"], ":0\r\n"),
            ],
        );
    });
}

/// INCRBYFLOAT in long double as Redis (0.1 + 0.2 is 0.3, 1e400 is in
/// range, hex floats parse), its result stored as a string (`embstr` even
/// when integral), WRONGTYPE before the increment is read.
#[test]
fn incrbyfloat_long_double() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["INCRBYFLOAT", "f", "0.1"], "$3\r\n0.1\r\n"),
                (&["INCRBYFLOAT", "f", "0.2"], "$3\r\n0.3\r\n"),
                (&["INCRBYFLOAT", "f", "1.1"], "$3\r\n1.4\r\n"),
                (&["OBJECT", "ENCODING", "f"], "$6\r\nembstr\r\n"),
                (&["SET", "n", "3"], "+OK\r\n"),
                (&["INCRBYFLOAT", "n", "2"], "$1\r\n5\r\n"),
                (&["OBJECT", "ENCODING", "n"], "$6\r\nembstr\r\n"),
                (&["INCRBYFLOAT", "f", "0x10"], "$4\r\n17.4\r\n"),
                (
                    &["INCRBYFLOAT", "m", "-9223372036854775808"],
                    "$20\r\n-9223372036854775808\r\n",
                ),
                (
                    &["INCRBYFLOAT", "m", "0.5"],
                    "$22\r\n-9223372036854775807.5\r\n",
                ),
                (
                    &["INCRBYFLOAT", "f", "inf"],
                    "-ERR increment would produce NaN or Infinity\r\n",
                ),
                (
                    &["INCRBYFLOAT", "f", " 1"],
                    "-ERR value is not a valid float\r\n",
                ),
                (&["ZADD", "z", "1", "a"], ":1\r\n"),
                (
                    &["INCRBYFLOAT", "z", "abc"],
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (&["SET", "s", "abc"], "+OK\r\n"),
                (
                    &["INCRBYFLOAT", "s", "abc"],
                    "-ERR value is not a valid float\r\n",
                ),
                (&["STRLEN", "f"], ":4\r\n"),
                (
                    &["INCRBYFLOAT", "big", "1e400"],
                    "$401\r\n10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522094053927317616200295822777259255734023828976593340661017797447434546173917862448116674971723778943824391593338047470675026246684401359237513603830343735485505244955964979021825038280091068414947402456898653040951017512658092615827588920183472511643316591362664138176309734806343732497430221946880\r\n",
                ),
            ],
        );
    });
}

/// APPEND to an existing key and SETRANGE leave a "raw" string however
/// short, as Redis (COPY keeps it).
#[test]
fn append_setrange_raw_encoding() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["SET", "a", "hello"], "+OK\r\n"),
                (&["OBJECT", "ENCODING", "a"], "$6\r\nembstr\r\n"),
                (&["APPEND", "a", "x"], ":6\r\n"),
                (&["OBJECT", "ENCODING", "a"], "$3\r\nraw\r\n"),
                (&["APPEND", "new", "123"], ":3\r\n"),
                (&["OBJECT", "ENCODING", "new"], "$3\r\nint\r\n"),
                (&["APPEND", "new2", "hello"], ":5\r\n"),
                (&["OBJECT", "ENCODING", "new2"], "$6\r\nembstr\r\n"),
                (&["SETRANGE", "r", "2", "ab"], ":4\r\n"),
                (&["OBJECT", "ENCODING", "r"], "$3\r\nraw\r\n"),
                (&["GET", "r"], "$4\r\n\x00\x00ab\r\n"),
                (&["SET", "e", "12345"], "+OK\r\n"),
                (&["SETRANGE", "e", "0", "9"], ":5\r\n"),
                (&["OBJECT", "ENCODING", "e"], "$3\r\nraw\r\n"),
                (&["SET", "e2", "12345"], "+OK\r\n"),
                (&["SETRANGE", "e2", "0", ""], ":5\r\n"),
                (&["OBJECT", "ENCODING", "e2"], "$3\r\nint\r\n"),
                (&["COPY", "a", "{t}a2"], ":1\r\n"),
                (&["OBJECT", "ENCODING", "{t}a2"], "$3\r\nraw\r\n"),
            ],
        );
    });
}

/// LCS checks both keys' types first, with its own message, then the
/// options (keys on one shard and on two).
#[test]
fn lcs_type_errors_first() {
    each_mode(|s| {
        expect_replies(
            s,
            &[
                (&["SET", "{t}a", "ohmytext"], "+OK\r\n"),
                (&["RPUSH", "{t}l", "x"], ":1\r\n"),
                (
                    &["LCS", "{t}a", "{t}l", "LEN", "IDX"],
                    "-ERR The specified keys must contain string values\r\n",
                ),
                (
                    &["LCS", "{t}l", "{t}a", "BOGUS"],
                    "-ERR The specified keys must contain string values\r\n",
                ),
                (&["SET", "b", "mynewtext"], "+OK\r\n"),
                (
                    &["LCS", "{t}a", "b", "LEN", "IDX"],
                    "-ERR If you want both the length and indexes, please just use IDX.\r\n",
                ),
                (
                    &["LCS", "{t}a", "b", "MINMATCHLEN", "x"],
                    "-ERR value is not an integer or out of range\r\n",
                ),
                (&["RPUSH", "l2", "x"], ":1\r\n"),
                (
                    &["LCS", "{t}a", "l2", "BOGUS"],
                    "-ERR The specified keys must contain string values\r\n",
                ),
                (&["LCS", "{t}a", "b", "LEN"], ":6\r\n"),
                (&["LCS", "nokey", "{t}a"], "$0\r\n\r\n"),
            ],
        );
    });
}
