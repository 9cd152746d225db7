//! HyperLogLog (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST) against
//! redis-server: replies byte for byte, and the values themselves (GET)
//! byte for byte, sparse and dense, in three layouts; values written by
//! one server count the same in the other; damaged values get Redis's
//! errors and never hurt the server.

mod common;
use common::*;

fn get_bytes(c: &mut redis::Connection, key: &str) -> Option<Vec<u8>> {
    q(c, &["GET", key]).unwrap()
}

const SCRIPT: &[&[&str]] = &[
    &["PFADD", "h1"],
    &["PFADD", "h1"],
    &["PFCOUNT", "h1"],
    &["PFADD", "h1", "a", "b", "c", "d", "e", "f", "g"],
    &["PFADD", "h1", "a", "b"],
    &["PFCOUNT", "h1"],
    &["PFCOUNT", "h1"],
    &["PFDEBUG", "ENCODING", "h1"],
    &["PFDEBUG", "DECODE", "h1"],
    &["OBJECT", "ENCODING", "h1"],
    &["PFADD", "h2", "c", "d", "x", "y", "z"],
    &["PFADD", "h3", "1", "2", "3"],
    &["PFCOUNT", "h1", "h2"],
    &["PFCOUNT", "h1", "h2", "h3", "missing"],
    &["PFCOUNT", "missing"],
    &["PFCOUNT", "missing", "missing2"],
    &["PFMERGE", "m", "h1", "h2", "h3"],
    &["PFCOUNT", "m"],
    &["PFMERGE", "m"],
    &["PFMERGE", "m2"],
    &["PFCOUNT", "m2"],
    &["PFMERGE", "h1", "h2"],
    &["PFCOUNT", "h1"],
    &["PFDEBUG", "TODENSE", "h3"],
    &["PFDEBUG", "TODENSE", "h3"],
    &["PFDEBUG", "ENCODING", "h3"],
    &["PFDEBUG", "DECODE", "h3"],
    &["PFADD", "h3", "4"],
    &["PFCOUNT", "h3"],
    &["PFMERGE", "m3", "h2", "h3"],
    &["PFDEBUG", "ENCODING", "m3"],
    &["PFCOUNT", "m3", "h1"],
    &["PFDEBUG", "GETREG", "h2"],
    &["PFDEBUG", "ENCODING", "h2"],
    &["PFDEBUG", "NOPE", "h2"],
    &["PFDEBUG", "NOPE", "missing"],
    &["PFDEBUG", "GETREG", "missing"],
    // Wrong types: a list, a plain string, an integer.
    &["RPUSH", "list", "a"],
    &["SET", "str", "hello"],
    &["SET", "int", "12345"],
    &["SET", "short", "HYLL"],
    &["PFADD", "list", "a"],
    &["PFADD", "str", "a"],
    &["PFADD", "int", "a"],
    &["PFADD", "short", "a"],
    &["PFCOUNT", "list"],
    &["PFCOUNT", "str"],
    &["PFCOUNT", "h1", "str"],
    &["PFCOUNT", "h1", "list", "str"],
    &["PFMERGE", "str", "h1"],
    &["PFMERGE", "m", "h1", "list"],
    &["PFDEBUG", "ENCODING", "str"],
    &["PFDEBUG", "ENCODING", "list"],
    &["PFADD"],
    &["PFDEBUG", "ENCODING"],
    &["PFSELFTEST", "x"],
    &["CONFIG", "GET", "hll-sparse-max-bytes"],
    &["CONFIG", "SET", "hll-sparse-max-bytes", "30"],
    &[
        "PFADD", "small", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k",
    ],
    &["PFDEBUG", "ENCODING", "small"],
    &["CONFIG", "SET", "hll-sparse-max-bytes", "1kb"],
    &["CONFIG", "GET", "hll-sparse-max-bytes"],
    &["CONFIG", "SET", "hll-sparse-max-bytes", "-1"],
    &["CONFIG", "SET", "hll-sparse-max-bytes", "3000"],
];

/// Keys whose values are compared byte for byte after the script.
const KEYS: &[&str] = &["h1", "h2", "h3", "m", "m2", "m3", "small"];

#[test]
fn replies_and_values_match_redis() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let redis = Redis::start(&[]);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        for cmd in SCRIPT {
            let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            both(&mut ours, &mut theirs, &f, &format!("{layout:?}"));
        }
        let (mut oc, mut tc) = (s.conn(), conn_to(redis.port));
        for k in KEYS {
            assert_eq!(
                get_bytes(&mut oc, k),
                get_bytes(&mut tc, k),
                "{layout:?} {k}"
            );
        }
        // RESP3 replies.
        hello3(&mut ours, &mut theirs);
        for cmd in [
            &[&b"PFCOUNT"[..], b"h1", b"h2"][..],
            &[b"PFDEBUG", b"ENCODING", b"h1"],
            &[b"PFDEBUG", b"DECODE", b"h1"],
            &[b"PFADD", b"h1", b"new"],
        ] {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?} resp3"));
        }
        s.assert_alive();
    }
}

#[test]
fn growing_values_stay_byte_identical_through_dense() {
    let keys = spread("hll", 3);
    let s = Server::start(LAYOUTS[1]);
    let redis = Redis::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let (mut oc, mut tc) = (s.conn(), conn_to(redis.port));
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    // Elements in growing batches: sparse opcodes split and merge, then
    // each key turns dense past 3000 bytes (a few thousand elements).
    for round in 0..60 {
        for (k, key) in keys.iter().enumerate() {
            let n = 1 + (round * (k + 1)) % 97;
            let elements: Vec<String> = (0..n)
                .map(|_| format!("e{}", rng.next() % 200_000))
                .collect();
            let mut cmd: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
            cmd.extend(elements.iter().map(|e| e.as_bytes()));
            both(&mut ours, &mut theirs, &cmd, &format!("round {round}"));
            if round % 3 == 0 {
                both(
                    &mut ours,
                    &mut theirs,
                    &[b"PFCOUNT", key.as_bytes()],
                    "count",
                );
                assert_eq!(
                    get_bytes(&mut oc, key),
                    get_bytes(&mut tc, key),
                    "round {round} {key}"
                );
            }
        }
        if round % 10 == 9 {
            let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
            let mut cmd: Vec<&[u8]> = vec![b"PFCOUNT"];
            cmd.extend(&refs);
            both(&mut ours, &mut theirs, &cmd, "union");
            let mut cmd: Vec<&[u8]> = vec![b"PFMERGE", b"{merged}"];
            cmd.extend(&refs);
            both(&mut ours, &mut theirs, &cmd, "merge");
            assert_eq!(
                get_bytes(&mut oc, "{merged}"),
                get_bytes(&mut tc, "{merged}"),
                "merge {round}"
            );
        }
    }
    for key in &keys {
        both(
            &mut ours,
            &mut theirs,
            &[&b"PFDEBUG"[..], b"ENCODING", key.as_bytes()],
            "end",
        );
        assert_eq!(get_bytes(&mut oc, key), get_bytes(&mut tc, key), "{key}");
    }
    let enc = both(
        &mut ours,
        &mut theirs,
        &[&b"PFDEBUG"[..], b"ENCODING", keys[2].as_bytes()],
        "end",
    );
    assert_eq!(enc, "+dense\r\n", "the biggest key turned dense");
    s.assert_alive();
}

#[test]
fn damaged_values_get_redis_errors() {
    let s = Server::start(LAYOUTS[0]);
    let redis = Redis::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let mut tc = conn_to(redis.port);
    // A sparse value with several kinds of opcodes, from redis-server.
    let _: i64 = q(
        &mut tc,
        &["PFADD", "src", "a", "b", "c", "d", "e", "f", "g", "h"],
    )
    .unwrap();
    let sparse = get_bytes(&mut tc, "src").unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0;
    for i in 0..400 {
        let mut v = sparse.clone();
        match i % 3 {
            // Truncate the opcodes.
            0 => v.truncate(16 + (rng.next() as usize) % (v.len() - 16)),
            // Change one opcode byte.
            1 => {
                let at = 16 + (rng.next() as usize) % (v.len() - 16);
                v[at] = rng.next() as u8;
            }
            // Append a byte.
            _ => v.push(rng.next() as u8),
        }
        both(&mut ours, &mut theirs, &[&b"SET"[..], b"bad", &v], "set");
        let ctx = format!("damage {i}: {v:?}");
        for cmd in [
            &[&b"PFCOUNT"[..], b"bad"][..],
            &[b"PFCOUNT", b"bad", b"src"],
            &[b"PFMERGE", b"bad2", b"bad"],
            &[b"PFADD", b"bad", b"x", b"y", b"z"],
            &[b"PFDEBUG", b"GETREG", b"bad"],
        ] {
            let r = both(&mut ours, &mut theirs, cmd, &ctx);
            errors += r.starts_with('-') as usize;
        }
        both(&mut ours, &mut theirs, &[&b"DEL"[..], b"bad2"], "cleanup");
    }
    assert!(errors > 100, "damage was detected: {errors}");
    s.assert_alive();
}

#[test]
fn pfselftest_passes() {
    let s = Server::start(&[]);
    let mut r = s.raw();
    r.send(&frame(&[b"PFSELFTEST"]));
    assert_eq!(r.read_reply(), "+OK\r\n");
}
