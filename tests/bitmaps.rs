//! Bitmaps and bit fields (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD
//! BITFIELD_RO), diffed byte for byte against redis-server: a fixed script
//! of every option and error in three layouts and both protocols, then
//! seeded random operations over keys on different shards.

mod common;
use common::*;

const SCRIPT: &[&[&str]] = &[
    // SETBIT / GETBIT
    &["SETBIT", "bm", "7", "1"],
    &["SETBIT", "bm", "7", "1"],
    &["SETBIT", "bm", "7", "0"],
    &["SETBIT", "bm", "100", "1"],
    &["GET", "bm"],
    &["STRLEN", "bm"],
    &["OBJECT", "ENCODING", "bm"],
    &["GETBIT", "bm", "100"],
    &["GETBIT", "bm", "101"],
    &["GETBIT", "bm", "100000"],
    &["GETBIT", "nokey", "5"],
    &["SETBIT", "bm", "-1", "1"],
    &["SETBIT", "bm", "x", "1"],
    &["SETBIT", "bm", "4294967296", "1"],
    &["SETBIT", "bm", "1", "2"],
    &["SETBIT", "bm", "1", "-1"],
    &["SETBIT", "bm", "1", "one"],
    &["GETBIT", "bm", "-1"],
    &["GETBIT", "bm", "4294967296"],
    &["SETBIT", "bm"],
    &["GETBIT", "bm", "1", "2"],
    &["LPUSH", "list", "a"],
    &["SETBIT", "list", "1", "1"],
    &["GETBIT", "list", "1"],
    // Integers keep their decimal text.
    &["SET", "num", "12345"],
    &["GETBIT", "num", "2"],
    &["GETBIT", "num", "3"],
    &["BITCOUNT", "num"],
    &["SETBIT", "num", "7", "0"],
    &["GET", "num"],
    &["OBJECT", "ENCODING", "num"],
    &["SET", "short", "ab"],
    &["SETBIT", "short", "1", "0"],
    &["OBJECT", "ENCODING", "short"],
    // BITCOUNT
    &["SET", "s", "foobar"],
    &["BITCOUNT", "s"],
    &["BITCOUNT", "s", "0", "0"],
    &["BITCOUNT", "s", "1", "1"],
    &["BITCOUNT", "s", "1", "-2"],
    &["BITCOUNT", "s", "-3", "-1"],
    &["BITCOUNT", "s", "-1", "-3"],
    &["BITCOUNT", "s", "-100", "100"],
    &["BITCOUNT", "s", "5", "1"],
    &["BITCOUNT", "s", "5", "30", "BIT"],
    &["BITCOUNT", "s", "5", "30", "byte"],
    &["BITCOUNT", "s", "3", "3", "BIT"],
    &["BITCOUNT", "s", "-13", "-2", "BIT"],
    &["BITCOUNT", "s", "0", "47", "BIT"],
    &["BITCOUNT", "s", "1"],
    &["BITCOUNT", "s", "1", "2", "BITS"],
    &["BITCOUNT", "s", "1", "2", "BIT", "x"],
    &["BITCOUNT", "s", "a", "b"],
    &["BITCOUNT", "s", "0", "b"],
    &["BITCOUNT", "nokey", "a", "b"],
    &["BITCOUNT", "nokey", "1"],
    &["BITCOUNT", "list"],
    &["SET", "empty", ""],
    &["BITCOUNT", "empty"],
    &["BITCOUNT", "empty", "0", "-1", "BIT"],
    &["BITCOUNT", "empty", "0", "-1"],
    &[
        "BITCOUNT",
        "s",
        "-9223372036854775808",
        "9223372036854775807",
    ],
    &[
        "BITCOUNT",
        "s",
        "-9223372036854775808",
        "9223372036854775807",
        "BIT",
    ],
    // BITPOS
    &["SET", "p", "\u{0}\u{ff}\u{f0}"],
    &["BITPOS", "p", "1"],
    &["BITPOS", "p", "0"],
    &["BITPOS", "p", "1", "2"],
    &["BITPOS", "p", "0", "1"],
    &["BITPOS", "p", "0", "1", "1"],
    &["BITPOS", "p", "0", "1", "-1"],
    &["BITPOS", "p", "1", "7", "15", "BIT"],
    &["BITPOS", "p", "0", "8", "15", "BIT"],
    &["BITPOS", "p", "0", "8", "-1", "BIT"],
    &["BITPOS", "p", "0", "9", "14", "BIT"],
    &["BITPOS", "p", "1", "17", "18", "BIT"],
    &["BITPOS", "p", "0", "17", "18", "BIT"],
    &["BITPOS", "p", "1", "20", "23", "BIT"],
    &["BITPOS", "p", "0", "20", "23", "BIT"],
    &["BITPOS", "p", "0", "5", "2"],
    &["BITPOS", "p", "1", "-100", "100", "BIT"],
    &["BITPOS", "p", "2"],
    &["BITPOS", "p", "x"],
    &["BITPOS", "p", "1", "x"],
    &["BITPOS", "p", "1", "0", "x"],
    &["BITPOS", "p", "1", "0", "1", "BOTH"],
    &["BITPOS", "p", "1", "0", "1", "BIT", "x"],
    &["BITPOS", "nokey", "0"],
    &["BITPOS", "nokey", "1"],
    &["BITPOS", "nokey", "1", "0", "1", "BIT", "x"],
    &["BITPOS", "nokey", "3"],
    &["BITPOS", "list", "1"],
    &["SET", "ones", "\u{7f}"],
    &["BITPOS", "ones", "0"],
    &["BITPOS", "ones", "0", "0"],
    &["BITPOS", "ones", "0", "0", "-1"],
    &["BITPOS", "empty", "0"],
    &["BITPOS", "empty", "1"],
    // BITOP: keys on several shards (spread over the three in the
    // sharded layouts by their names).
    &["SET", "k1", "foobar"],
    &["SET", "k2", "abcdef"],
    &["SET", "k3", "x"],
    &["BITOP", "AND", "dest", "k1", "k2"],
    &["GET", "dest"],
    &["BITOP", "or", "dest", "k1", "k2", "k3"],
    &["GET", "dest"],
    &["BITOP", "XOR", "dest", "k1", "k2", "k3", "nokey"],
    &["GET", "dest"],
    &["BITOP", "AND", "dest", "k1", "k3"],
    &["GET", "dest"],
    &["BITOP", "AND", "dest", "k1", "nokey"],
    &["GET", "dest"],
    &["BITOP", "NOT", "dest", "k1"],
    &["GET", "dest"],
    &["OBJECT", "ENCODING", "dest"],
    &["TTL", "dest"],
    &["BITOP", "NOT", "dest", "k1", "k2"],
    &["BITOP", "NAND", "dest", "k1"],
    &["BITOP", "AND", "dest", "k1", "list"],
    &["BITOP", "AND", "dest", "list", "k1"],
    &["BITOP", "OR", "dest", "nokey", "nokey2"],
    &["EXISTS", "dest"],
    &["SET", "dest", "v", "EX", "100"],
    &["BITOP", "OR", "dest", "k3"],
    &["TTL", "dest"],
    &["BITOP", "OR", "dest", "num", "k3"],
    &["GET", "dest"],
    &["BITOP", "OR", "list", "k1"],
    &["TYPE", "list"],
    &["BITOP", "AND", "dest"],
    // BITFIELD
    &["BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0"],
    &["BITFIELD", "bf", "INCRBY", "i8", "0", "100"],
    &[
        "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "100",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "i8", "0", "100", "GET", "i8", "0",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "WRAP", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT",
        "INCRBY", "u2", "102", "1",
    ],
    &[
        "BITFIELD", "bf", "INCRBY", "u2", "100", "1", "INCRBY", "u2", "100", "1", "INCRBY", "u2",
        "100", "1",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u2", "102", "-5", "INCRBY", "i4", "3",
        "-20",
    ],
    &[
        "BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u8", "#1", "GET", "i8", "8",
    ],
    &[
        "BITFIELD", "bf", "SET", "u8", "#2", "-1", "OVERFLOW", "SAT", "SET", "u8", "#3", "-1",
        "SET", "u8", "#4", "300",
    ],
    &[
        "BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "#5", "300", "SET", "i8", "#5", "-128",
        "SET", "i8", "#5", "-129",
    ],
    &[
        "BITFIELD",
        "bf",
        "SET",
        "i64",
        "0",
        "-9223372036854775808",
        "INCRBY",
        "i64",
        "0",
        "-1",
        "GET",
        "i64",
        "0",
    ],
    &[
        "BITFIELD",
        "bf",
        "OVERFLOW",
        "SAT",
        "INCRBY",
        "i64",
        "0",
        "-1",
        "INCRBY",
        "i64",
        "0",
        "9223372036854775807",
        "INCRBY",
        "i64",
        "0",
        "9223372036854775807",
    ],
    &[
        "BITFIELD",
        "bf",
        "OVERFLOW",
        "SAT",
        "SET",
        "u63",
        "1",
        "9223372036854775807",
        "INCRBY",
        "u63",
        "1",
        "1",
    ],
    &[
        "BITFIELD", "bf", "GET", "u63", "1", "GET", "i1", "0", "GET", "u1", "0", "GET", "i64", "3",
    ],
    &["BITFIELD", "bf", "GET", "u8", "1000000"],
    &["STRLEN", "bf"],
    &["BITFIELD", "bf"],
    &["BITFIELD", "nokey", "GET", "u8", "0"],
    &["EXISTS", "nokey"],
    &["BITFIELD", "bf", "GET", "u64", "0"],
    &["BITFIELD", "bf", "GET", "i65", "0"],
    &["BITFIELD", "bf", "GET", "i0", "0"],
    &["BITFIELD", "bf", "GET", "x8", "0"],
    &["BITFIELD", "bf", "GET", "u", "0"],
    &["BITFIELD", "bf", "GET", "u8", "-1"],
    &["BITFIELD", "bf", "GET", "u8", "#-1"],
    &["BITFIELD", "bf", "GET", "u8", "#"],
    &["BITFIELD", "bf", "GET", "u8", "4294967296"],
    &["BITFIELD", "bf", "GET", "u8", "#536870912"],
    &["BITFIELD", "bf", "GET", "u8", "#2305843009213693952"],
    &["BITFIELD", "bf", "SET", "u8", "0", "x"],
    &["BITFIELD", "bf", "SET", "u8", "0"],
    &["BITFIELD", "bf", "GET", "u8"],
    &["BITFIELD", "bf", "OVERFLOW", "MAYBE", "GET", "u8", "0"],
    &["BITFIELD", "bf", "OVERFLOW"],
    &["BITFIELD", "bf", "FOO", "u8", "0"],
    &["BITFIELD", "list", "GET", "u8", "0"],
    &["BITFIELD", "list", "SET", "u8", "0", "1"],
    &["BITFIELD", "num", "INCRBY", "u8", "0", "1"],
    &["GET", "num"],
    &["BITFIELD", "grow", "SET", "u4", "#10", "5"],
    &["GET", "grow"],
    // BITFIELD_RO
    &["BITFIELD_RO", "bf", "GET", "u8", "0", "GET", "i4", "#3"],
    &["BITFIELD_RO", "bf", "SET", "u8", "0", "1"],
    &["BITFIELD_RO", "bf", "INCRBY", "u8", "0", "1"],
    &["BITFIELD_RO", "list", "GET", "u8", "0"],
    &["BITFIELD_RO", "list", "SET", "u8", "0", "1"],
    &["BITFIELD_RO", "bf", "SET", "u99", "0", "1"],
    &["BITFIELD_RO", "nokey", "GET", "u8", "0"],
    &["BITFIELD_RO", "bf"],
    &["GET", "bf"],
];

#[test]
fn replies_match_redis_byte_for_byte() {
    // BITOP's keys in the script live on several shards of three.
    let shards: std::collections::HashSet<usize> = ["k1", "k2", "k3", "dest"]
        .iter()
        .map(|k| tandem::spec::key_shard(k.as_bytes(), 3))
        .collect();
    assert!(shards.len() >= 2, "{shards:?}");
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let redis = Redis::start(&[]);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?}"));
        }
        hello3(&mut ours, &mut theirs);
        for cmd in [
            &[
                "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "5", "GET", "u4", "0",
            ][..],
            &["BITCOUNT", "bf", "0", "-1", "BIT"],
            &["BITPOS", "bf", "0"],
            &["BITOP", "XOR", "dest", "bf", "k1"],
            &["GETBIT", "dest", "3"],
        ] {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?} resp3"));
        }
        s.assert_alive();
    }
}

#[test]
fn random_operations_match_redis() {
    let keys = spread("bits", 4);
    let s = Server::start(LAYOUTS[1]);
    let redis = Redis::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let (mut ours_c, mut theirs_c) = (s.conn(), conn_to(redis.port));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    // Replies seen: errors, non-zero counts, non-empty BITOP results,
    // BITFIELD arrays, the rest.
    let mut seen = [0usize; 5];
    for i in 0..3000 {
        let key = keys[rng.below(keys.len() as u64) as usize].clone();
        let mut cmd: Vec<String> = Vec::new();
        match rng.below(7) {
            0 => {
                cmd.extend(["SETBIT".into(), key, rng.below(300).to_string()]);
                cmd.push(rng.below(2).to_string());
            }
            1 => cmd.extend(["GETBIT".into(), key, rng.below(320).to_string()]),
            2 => {
                cmd.extend(["BITCOUNT".into(), key]);
                if rng.below(3) > 0 {
                    cmd.push(rng.signed(50).to_string());
                    cmd.push(rng.signed(50).to_string());
                    match rng.below(3) {
                        0 => cmd.push("BIT".into()),
                        1 => cmd.push("BYTE".into()),
                        _ => {}
                    }
                }
            }
            3 => {
                cmd.extend(["BITPOS".into(), key, rng.below(2).to_string()]);
                let n = rng.below(4);
                if n >= 1 {
                    cmd.push(rng.signed(330).to_string());
                }
                if n >= 2 {
                    cmd.push(rng.signed(330).to_string());
                }
                if n == 3 {
                    cmd.push(if rng.below(2) == 0 { "BIT" } else { "BYTE" }.into());
                }
            }
            4 => {
                let op = ["AND", "OR", "XOR", "NOT"][rng.below(4) as usize];
                let dst = keys[rng.below(keys.len() as u64) as usize].clone();
                cmd.extend(["BITOP".into(), op.into(), dst]);
                let n = if op == "NOT" { 1 } else { 1 + rng.below(3) };
                for _ in 0..n {
                    cmd.push(keys[rng.below(keys.len() as u64) as usize].clone());
                }
            }
            5 => {
                cmd.extend([
                    if rng.below(4) == 0 {
                        "BITFIELD_RO"
                    } else {
                        "BITFIELD"
                    }
                    .into(),
                    key,
                ]);
                for _ in 0..1 + rng.below(4) {
                    if rng.below(4) == 0 {
                        cmd.push("OVERFLOW".into());
                        cmd.push(["WRAP", "SAT", "FAIL"][rng.below(3) as usize].into());
                    }
                    let signed = rng.below(2) == 0;
                    let bits = 1 + rng.below(if signed { 64 } else { 63 });
                    let ty = format!("{}{bits}", if signed { 'i' } else { 'u' });
                    let off = if rng.below(3) == 0 {
                        format!("#{}", rng.below(6))
                    } else {
                        rng.below(200).to_string()
                    };
                    let value = match rng.below(4) {
                        0 => i64::MAX.to_string(),
                        1 => i64::MIN.to_string(),
                        _ => rng.signed(1 << (bits.min(40) as i64)).to_string(),
                    };
                    match rng.below(3) {
                        0 => cmd.extend(["GET".into(), ty, off]),
                        1 => cmd.extend(["SET".into(), ty, off, value]),
                        _ => cmd.extend(["INCRBY".into(), ty, off, value]),
                    }
                }
            }
            _ => {
                // The bytes themselves (a raw reply is read as text).
                let a: Option<Vec<u8>> = q(&mut ours_c, &["GET", &key]).unwrap();
                let b: Option<Vec<u8>> = q(&mut theirs_c, &["GET", &key]).unwrap();
                assert_eq!(a, b, "operation {i}: GET {key}");
                continue;
            }
        }
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let reply = both(&mut ours, &mut theirs, &refs, &format!("operation {i}"));
        let class = match (refs[0], reply.as_bytes().first()) {
            (_, Some(b'-')) => 0,
            ("BITCOUNT", _) if reply != ":0\r\n" => 1,
            ("BITOP", _) if reply != ":0\r\n" => 2,
            ("BITFIELD", Some(b'*')) => 3,
            _ => 4,
        };
        seen[class] += 1;
    }
    // The operations did real work: bits were counted, strings combined
    // across shards, fields written; errors were the exception.
    assert!(seen[1] > 100 && seen[2] > 100 && seen[3] > 100, "{seen:?}");
    assert!(seen[0] < 600, "{seen:?}");
    s.assert_alive();
}
