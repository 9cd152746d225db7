//! DUMP/RESTORE and RDB files (issue #14) against redis-server 7.0.15:
//! payloads of every type, in every encoding Redis 7.0 writes, move from
//! redis-server to tandem and back with the same contents and TTLs;
//! RESTORE's options and its errors answer as redis-server does, byte for
//! byte; corrupt payloads are refused and change nothing. A `dump.rdb`
//! written by tandem's SAVE passes `redis-check-rdb` and loads into
//! redis-server, one written by redis-server loads into tandem at
//! start-up, and a damaged file stops start-up and stays as it was.

mod common;
use common::*;

use redis::Value;

fn conn(port: u16) -> redis::Connection {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    c
}

fn run(c: &mut redis::Connection, args: &[&[u8]]) -> Value {
    let mut cmd = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        cmd.arg(*a);
    }
    match cmd.query::<Value>(c) {
        Ok(v) => v,
        Err(e) => Value::SimpleString(format!("error: {e}")),
    }
}

/// Writes keys of every type in both its compact and its large encoding
/// (thresholds are Redis's defaults on both servers), with a TTL on one.
fn fill(c: &mut redis::Connection) {
    let cmds: Vec<Vec<String>> = vec![
        vec!["FLUSHALL".into()],
        vec!["SET".into(), "str".into(), "hello".into()],
        vec!["SET".into(), "int".into(), "-12345".into()],
        vec!["SET".into(), "long".into(), "abc".repeat(40)],
        vec![
            "SET".into(),
            "ttl".into(),
            "v".into(),
            "PX".into(),
            "100000".into(),
        ],
        vec![
            "RPUSH".into(),
            "list".into(),
            "a".into(),
            "1".into(),
            "-70000".into(),
        ],
        ["RPUSH", "biglist"]
            .iter()
            .map(|s| s.to_string())
            .chain((0..400).map(|i| format!("element-{i}-{}", "x".repeat(i % 90))))
            .collect(),
        vec![
            "SADD".into(),
            "ints".into(),
            "1".into(),
            "-5".into(),
            "99999999999".into(),
        ],
        vec!["SADD".into(), "set".into(), "a".into(), "b".into()],
        ["SADD", "bigset"]
            .iter()
            .map(|s| s.to_string())
            .chain((0..700).map(|i| format!("m{i}")))
            .collect(),
        vec![
            "HSET".into(),
            "hash".into(),
            "f".into(),
            "v".into(),
            "n".into(),
            "7".into(),
        ],
        ["HSET", "bighash"]
            .iter()
            .map(|s| s.to_string())
            .chain((0..20).flat_map(|i| [format!("f{i}"), "v".repeat(100)]))
            .collect(),
        vec![
            "ZADD".into(),
            "zset".into(),
            "1".into(),
            "a".into(),
            "-inf".into(),
            "b".into(),
            "2.5".into(),
            "c".into(),
        ],
        ["ZADD", "bigzset"]
            .iter()
            .map(|s| s.to_string())
            .chain((0..300).flat_map(|i| [format!("{}", i as f64 / 4.0), format!("m{i}")]))
            .collect(),
    ];
    for a in &cmds {
        let args: Vec<&[u8]> = a.iter().map(|s| s.as_bytes()).collect();
        let v = run(c, &args);
        assert!(
            !matches!(&v, Value::SimpleString(s) if s.starts_with("error")),
            "{a:?}: {v:?}"
        );
    }
}

const KEYS: &[&str] = &[
    "str", "int", "long", "ttl", "list", "biglist", "ints", "set", "bigset", "hash", "bighash",
    "zset", "bigzset",
];

/// A key's contents in a form both servers agree on: sorted members for
/// sets and hashes, scores as numbers (tandem formats doubles as Redis 7.2
/// does, redis-server 7.0.15 with 17 digits).
fn contents(c: &mut redis::Connection, key: &str) -> String {
    let t: String = redis::cmd("TYPE").arg(key).query(c).unwrap();
    match t.as_str() {
        "string" => format!(
            "{:?}",
            redis::cmd("GET").arg(key).query::<Vec<u8>>(c).unwrap()
        ),
        "list" => format!(
            "{:?}",
            redis::cmd("LRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .query::<Vec<Vec<u8>>>(c)
                .unwrap()
        ),
        "set" => {
            let mut m: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg(key).query(c).unwrap();
            m.sort();
            format!("{m:?}")
        }
        "hash" => {
            let mut m: Vec<(Vec<u8>, Vec<u8>)> = redis::cmd("HGETALL").arg(key).query(c).unwrap();
            m.sort();
            format!("{m:?}")
        }
        "zset" => {
            let m: Vec<(Vec<u8>, f64)> = redis::cmd("ZRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(c)
                .unwrap();
            format!("{m:?}")
        }
        other => other.to_string(),
    }
}

/// Every key moves redis-server → tandem and tandem → redis-server with
/// its contents and TTL; the payload of a string, and of a small list,
/// set of integers, hash or sorted set, is byte-identical on both.
#[test]
fn payloads_move_between_servers() {
    let redis = Redis::start(&[]);
    for layout in [LAYOUTS[1], LAYOUTS[2]] {
        let s = Server::start(layout);
        let mut ours = s.conn();
        let mut theirs = conn(redis.port);
        for (src, dst, way) in [(0, 1, "redis -> tandem"), (1, 0, "tandem -> redis")] {
            let cs = [&mut theirs, &mut ours];
            fill(cs[src]);
            let _: () = redis::cmd("FLUSHALL").query(cs[dst]).unwrap();
            for key in KEYS {
                let payload: Vec<u8> = redis::cmd("DUMP").arg(*key).query(cs[src]).unwrap();
                let pttl: i64 = redis::cmd("PTTL").arg(*key).query(cs[src]).unwrap();
                let r = run(
                    cs[dst],
                    &[
                        b"RESTORE",
                        key.as_bytes(),
                        pttl.max(0).to_string().as_bytes(),
                        &payload,
                    ],
                );
                assert_eq!(r, Value::Okay, "{way} {key}");
                let (a, b) = (contents(cs[src], key), contents(cs[dst], key));
                assert_eq!(a, b, "{way} {key}");
                let got: i64 = redis::cmd("PTTL").arg(*key).query(cs[dst]).unwrap();
                if pttl < 0 {
                    assert_eq!(got, -1, "{way} {key}");
                } else {
                    assert!(got > 0 && got <= pttl, "{way} {key}: {got} vs {pttl}");
                }
            }
        }
        fill(&mut theirs);
        fill(&mut ours);
        // Strings, and the compact encodings Redis 7.0 writes for small
        // aggregates (a one-node quicklist, an intset, listpacks).
        for c in [&mut theirs, &mut ours] {
            let _: i64 = redis::cmd("SADD")
                .arg("smallints")
                .arg(&[300, 1, -5])
                .query(c)
                .unwrap();
        }
        // (A blob within a few bytes of LZF's limit, like `ints`' 32-byte
        // intset, may be compressed by one server and not the other: see
        // `rdb::write_string`.)
        for key in ["str", "int", "long", "list", "smallints", "hash", "zset"] {
            let a: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut theirs).unwrap();
            let b: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut ours).unwrap();
            assert_eq!(a, b, "DUMP {key}");
        }
        s.assert_alive();
    }
}

/// A DUMP payload: type byte and body, RDB version 10, CRC-64.
fn payload(body: &[u8]) -> Vec<u8> {
    payload_of_version(body, 10)
}

/// A DUMP payload of RDB version `v` (9: Redis 5 and 6).
fn payload_of_version(body: &[u8], v: u16) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&v.to_le_bytes());
    let crc = tandem::rdb::crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// RESTORE's options, edge cases and errors, and DUMP of a missing key,
/// against redis-server: the same replies and the same resulting keys.
#[test]
fn restore_answers_as_redis() {
    let redis = Redis::start(&[]);
    let s = Server::start(LAYOUTS[1]);
    let mut ours = s.conn();
    let mut theirs = conn(redis.port);
    let good = payload(&[0, 3, b'a', b'b', b'c']);
    let mut bad_crc = good.clone();
    bad_crc[1] ^= 1;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let future = (now_ms + 100_000).to_string();
    let cases: Vec<Vec<Vec<u8>>> = {
        let s = |v: &[&[u8]]| v.iter().map(|a| a.to_vec()).collect::<Vec<Vec<u8>>>();
        vec![
            s(&[b"DUMP", b"missing"]),
            s(&[b"RESTORE", b"k", b"0", &good]),
            s(&[b"GET", b"k"]),
            s(&[b"RESTORE", b"k", b"0", &good]),
            s(&[b"RESTORE", b"k", b"-1", &good, b"REPLACE"]),
            s(&[b"RESTORE", b"k", b"abc", &good, b"REPLACE"]),
            s(&[b"RESTORE", b"k", b"0", b"garbage", b"REPLACE"]),
            s(&[b"RESTORE", b"k", b"0", &bad_crc, b"REPLACE"]),
            s(&[b"RESTORE", b"k", b"0", &payload(&[99, 1, 2]), b"REPLACE"]),
            // A string running into the trailer (Redis reads it from the
            // whole payload), empty list, duplicate set members, a listpack
            // whose size lies.
            s(&[b"RESTORE", b"k", b"0", &payload(&[0, 10, b'a']), b"REPLACE"]),
            s(&[b"RESTORE", b"k", b"0", &payload(&[1, 0]), b"REPLACE"]),
            s(&[
                b"RESTORE",
                b"k",
                b"0",
                &payload(&[2, 2, 1, b'a', 1, b'a']),
                b"REPLACE",
            ]),
            s(&[
                b"RESTORE",
                b"k",
                b"0",
                &payload(&[16, 9, 200, 0, 0, 0, 2, 0, 0x81, 2, 0xFF]),
                b"REPLACE",
            ]),
            s(&[b"GET", b"k"]),
            s(&[b"RESTORE", b"k", b"0", &good, b"BOGUS"]),
            s(&[
                b"RESTORE",
                b"k",
                b"0",
                &good,
                b"REPLACE",
                b"IDLETIME",
                b"-1",
            ]),
            s(&[b"RESTORE", b"k", b"0", &good, b"REPLACE", b"IDLETIME", b"x"]),
            s(&[b"RESTORE", b"k", b"0", &good, b"REPLACE", b"FREQ", b"256"]),
            s(&[
                b"RESTORE",
                b"k",
                b"0",
                &good,
                b"REPLACE",
                b"FREQ",
                b"5",
                b"IDLETIME",
                b"5",
            ]),
            s(&[b"RESTORE", b"k", b"0", &good, b"REPLACE", b"FREQ"]),
            s(&[b"RESTORE", b"k", b"0", &good, b"REPLACE", b"FREQ", b"5"]),
            s(&[
                b"RESTORE",
                b"k",
                b"0",
                &good,
                b"REPLACE",
                b"IDLETIME",
                b"1000",
            ]),
            // An absolute TTL in the past restores nothing, and REPLACE
            // still deletes the key.
            s(&[b"RESTORE", b"k", b"1000", &good, b"REPLACE", b"ABSTTL"]),
            s(&[b"EXISTS", b"k"]),
            s(&[b"RESTORE", b"k2", future.as_bytes(), &good, b"ABSTTL"]),
            s(&[b"EXPIRETIME", b"k2"]),
            s(&[b"RESTORE", b"k3", b"5000", &good]),
            s(&[b"TTL", b"k3"]),
            s(&[
                b"RESTORE", b"k4", b"0", &good, b"ABSTTL", b"ABSTTL", b"REPLACE", b"REPLACE",
            ]),
            s(&[b"DUMP", b"k4"]),
            s(&[b"DUMP"]),
            s(&[b"RESTORE", b"k", b"0"]),
        ]
    };
    for case in &cases {
        let args: Vec<&[u8]> = case.iter().map(|a| &a[..]).collect();
        let a = run(&mut theirs, &args);
        let b = run(&mut ours, &args);
        let shown: Vec<String> = case
            .iter()
            .map(|a| String::from_utf8_lossy(a).into())
            .collect();
        assert_eq!(a, b, "{shown:?}");
    }
    // Stricter than redis-server (whose shallow check takes it): an intset
    // out of order is refused, and the key stays as it was.
    let unordered = payload(&[11, 12, 2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]);
    assert_eq!(
        run(&mut ours, &[b"RESTORE", b"k", b"0", &good]),
        Value::Okay
    );
    let before = run(&mut ours, &[b"DUMP", b"k"]);
    let r = run(&mut ours, &[b"RESTORE", b"k", b"0", &unordered, b"REPLACE"]);
    assert_eq!(
        r,
        Value::SimpleString("error: ResponseError: Bad data format".into())
    );
    assert_eq!(run(&mut ours, &[b"DUMP", b"k"]), before);
    // IDLETIME backdates the last access (a second may pass meanwhile).
    let r = run(
        &mut ours,
        &[b"RESTORE", b"idle", b"0", &good, b"IDLETIME", b"1000"],
    );
    assert_eq!(r, Value::Okay);
    let idle: i64 = redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg("idle")
        .query(&mut ours)
        .unwrap();
    assert!((1000..=1002).contains(&idle), "{idle}");
    s.assert_alive();
}

/// Every key of [`fill`] plus one in database 2, as `contents` sees them.
fn snapshot(c: &mut redis::Connection) -> Vec<String> {
    let mut out: Vec<String> = KEYS
        .iter()
        .map(|k| format!("{k}: {}", contents(c, k)))
        .collect();
    let ttl: i64 = redis::cmd("PTTL").arg("ttl").query(c).unwrap();
    assert!(ttl > 0 && ttl <= 100_000, "ttl {ttl}");
    let _: () = redis::cmd("SELECT").arg(2).query(c).unwrap();
    out.push(contents(c, "in-db-2"));
    let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
    out
}

/// tandem's SAVE → redis-check-rdb → redis-server loads it; redis-server's
/// SAVE → tandem loads it at start-up (split and colocated): the same keys,
/// values and TTLs everywhere.
#[test]
fn rdb_files_move_between_servers() {
    for layout in [LAYOUTS[1], LAYOUTS[2]] {
        let dir = TempDir::new("rdb");
        let args: Vec<&str> = layout
            .iter()
            .copied()
            .chain(["--dir", dir.path()])
            .collect();
        let s = Server::start(&args);
        let mut ours = s.conn();
        fill(&mut ours);
        let _: () = redis::cmd("SELECT").arg(2).query(&mut ours).unwrap();
        let _: () = redis::cmd("SET")
            .arg("in-db-2")
            .arg("two")
            .query(&mut ours)
            .unwrap();
        let _: () = redis::cmd("SELECT").arg(0).query(&mut ours).unwrap();
        let want = snapshot(&mut ours);
        assert_eq!(run(&mut ours, &[b"SAVE"]), Value::Okay);
        let file = dir.0.join("dump.rdb");
        let check = output_within(std::process::Command::new("redis-check-rdb").arg(&file), 30);
        let text = String::from_utf8_lossy(&check.stdout);
        assert!(
            check.status.success() && text.contains("RDB looks OK"),
            "{text}"
        );
        drop(s);

        let redis = Redis::start(&["--dir", dir.path()]);
        let mut theirs = conn(redis.port);
        assert_eq!(
            snapshot(&mut theirs),
            want,
            "{layout:?}: redis-server loading tandem's file"
        );
        // redis-server's own file, with a key more, back into tandem.
        let _: () = redis::cmd("SET")
            .arg("from-redis")
            .arg("r")
            .query(&mut theirs)
            .unwrap();
        assert_eq!(run(&mut theirs, &[b"SAVE"]), Value::Okay);
        drop(redis);
        let s = Server::start(&args);
        let mut ours = s.conn();
        assert_eq!(
            snapshot(&mut ours),
            want,
            "{layout:?}: tandem loading redis-server's file"
        );
        let v: String = redis::cmd("GET")
            .arg("from-redis")
            .query(&mut ours)
            .unwrap();
        assert_eq!(v, "r");
        s.assert_alive();
    }
}

/// A damaged, truncated or too-new file stops start-up with a message that
/// names it, and is left byte for byte as it was.
#[test]
fn bad_rdb_files_stop_startup() {
    let dir = TempDir::new("badrdb");
    let s = Server::start(&["--dir", dir.path(), "--shards", "2"]);
    let mut c = s.conn();
    fill(&mut c);
    assert_eq!(run(&mut c, &[b"SAVE"]), Value::Okay);
    drop(s);
    let good = std::fs::read(dir.0.join("dump.rdb")).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let cases: [(&str, Vec<u8>); 3] = [
        ("flipped.rdb", flipped),
        ("truncated.rdb", good[..good.len() / 3].to_vec()),
        ("newer.rdb", b"REDIS0011\xff".to_vec()),
    ];
    for (name, bytes) in cases {
        std::fs::write(dir.0.join(name), &bytes).unwrap();
        let out = output_within(
            std::process::Command::new(env!("CARGO_BIN_EXE_tandem")).args([
                "--port",
                "0",
                "--dir",
                dir.path(),
                "--dbfilename",
                name,
            ]),
            20,
        );
        let log = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{name}: started anyway");
        assert!(
            log.contains(&format!("'{name}' cannot be loaded")),
            "{name}: {log}"
        );
        assert_eq!(
            std::fs::read(dir.0.join(name)).unwrap(),
            bytes,
            "{name} changed"
        );
    }
}

/// An item of a test ziplist: bytes, or an integer in its compact form.
enum Zv {
    S(Vec<u8>),
    I(i64),
}

/// A ziplist blob as Redis before 7.0 writes one (`ziplist.c`): header,
/// entries with the previous entry's length (1 or 5 bytes), each string
/// and integer encoding, and 0xFF.
fn ziplist(items: &[Zv]) -> Vec<u8> {
    let (mut body, mut prev, mut tail) = (Vec::new(), 0usize, 0usize);
    for it in items {
        let mut e = Vec::new();
        if prev < 254 {
            e.push(prev as u8);
        } else {
            e.push(0xFE);
            e.extend((prev as u32).to_le_bytes());
        }
        match it {
            Zv::S(s) => {
                let n = s.len();
                if n < 64 {
                    e.push(n as u8);
                } else if n < 16384 {
                    e.extend([0x40 | (n >> 8) as u8, n as u8]);
                } else {
                    e.push(0x80);
                    e.extend((n as u32).to_be_bytes());
                }
                e.extend(s);
            }
            Zv::I(v @ 0..=12) => e.push(0xF1 + *v as u8),
            Zv::I(v) if i8::try_from(*v).is_ok() => e.extend([0xFE, *v as i8 as u8]),
            Zv::I(v) if i16::try_from(*v).is_ok() => {
                e.push(0xC0);
                e.extend((*v as i16).to_le_bytes());
            }
            Zv::I(v) if (-(1 << 23)..1 << 23).contains(v) => {
                e.push(0xF0);
                e.extend(&(*v as i32).to_le_bytes()[..3]);
            }
            Zv::I(v) if i32::try_from(*v).is_ok() => {
                e.push(0xD0);
                e.extend((*v as i32).to_le_bytes());
            }
            Zv::I(v) => {
                e.push(0xE0);
                e.extend(v.to_le_bytes());
            }
        }
        tail = 10 + body.len();
        prev = e.len();
        body.extend(e);
    }
    let mut zl = Vec::new();
    zl.extend((10 + body.len() as u32 + 1).to_le_bytes());
    zl.extend((tail.max(10) as u32).to_le_bytes());
    zl.extend((items.len() as u16).to_le_bytes());
    zl.extend(body);
    zl.push(0xFF);
    zl
}

/// A zipmap blob (`zipmap.c`, hashes of Redis before 2.6).
fn zipmap(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let len = |out: &mut Vec<u8>, n: usize| {
        if n < 254 {
            out.push(n as u8);
        } else {
            out.push(0xFE);
            out.extend((n as u32).to_le_bytes());
        }
    };
    let mut zm = vec![pairs.len().min(254) as u8];
    for (f, v) in pairs {
        len(&mut zm, f.len());
        zm.extend(*f);
        len(&mut zm, v.len());
        zm.push(0); // free bytes after the value
        zm.extend(*v);
    }
    zm.push(0xFF);
    zm
}

/// An RDB string (length-prefixed, no compression).
fn rdb_string(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let n = s.len();
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.extend([0x40 | (n >> 8) as u8, n as u8]);
    } else {
        out.push(0x80);
        out.extend((n as u32).to_be_bytes());
    }
    out.extend(s);
    out
}

/// Payloads in the encodings of Redis before 7.0 (ziplists of every entry
/// encoding, quicklists of ziplists, zipmaps) restore into tandem with the
/// contents redis-server 7.0 gives them; damaged ones are refused by both
/// with the same error.
#[test]
fn old_encodings_restore_as_redis_restores_them() {
    let long = vec![b'x'; 300];
    let huge = vec![b'y'; 20_000];
    let mut entries = vec![
        Zv::S(b"a".to_vec()),
        Zv::S(long.clone()),
        Zv::S(vec![b'm'; 100]),
        Zv::S(huge.clone()),
        Zv::S(Vec::new()),
    ];
    for v in [
        0,
        7,
        12,
        13,
        -1,
        -128,
        127,
        300,
        -30_000,
        1 << 20,
        -(1 << 23),
        1 << 30,
        -(1 << 31),
        1 << 40,
        i64::MIN,
        i64::MAX,
    ] {
        entries.push(Zv::I(v));
    }
    let list = ziplist(&entries);
    let hash = ziplist(&[
        Zv::S(b"f".to_vec()),
        Zv::I(5),
        Zv::S(b"g".to_vec()),
        Zv::S(long.clone()),
        Zv::I(123_456),
        Zv::S(b"int-field".to_vec()),
    ]);
    let zset = ziplist(&[
        Zv::S(b"low".to_vec()),
        Zv::I(-5),
        Zv::S(b"mid".to_vec()),
        Zv::S(b"1.5".to_vec()),
        Zv::I(99),
        Zv::S(b"inf".to_vec()),
    ]);
    let node2 = ziplist(&[Zv::S(b"second".to_vec()), Zv::I(2)]);
    let mut quick = vec![2u8];
    quick.extend(rdb_string(&list));
    quick.extend(rdb_string(&node2));
    let zm = zipmap(&[(b"name", b"tandem"), (b"big", &long), (&long, b"v")]);
    let cases: Vec<(&str, u8, Vec<u8>)> = vec![
        ("zl-list", 10, rdb_string(&list)),
        ("zl-hash", 13, rdb_string(&hash)),
        ("zl-zset", 12, rdb_string(&zset)),
        ("quicklist", 14, quick),
        ("zipmap", 9, rdb_string(&zm)),
    ];
    let redis = Redis::start(&[]);
    each_mode(|s| {
        let mut theirs = conn(redis.port);
        let mut ours = s.conn();
        for (key, t, body) in &cases {
            let mut b = vec![*t];
            b.extend(body);
            let p = payload_of_version(&b, 9);
            for c in [&mut ours, &mut theirs] {
                let _: () = redis::cmd("DEL").arg(*key).query(c).unwrap();
                let r = run(c, &[b"RESTORE", key.as_bytes(), b"0", &p]);
                assert_eq!(r, Value::Okay, "{key}");
            }
            assert_eq!(
                contents(&mut ours, key),
                contents(&mut theirs, key),
                "{key}"
            );
        }
        // Damaged: a total that disagrees with the blob, a cut entry, a
        // string running past the end.
        let mut short = list.clone();
        short.truncate(list.len() - 2);
        short.push(0xFF);
        let mut cut = ziplist(&[Zv::S(b"abc".to_vec())]);
        cut[11] = 0x30; // claims 48 bytes
        let mut raw_ours = s.raw();
        let mut raw_theirs = redis.raw();
        for (what, t, blob) in [("short", 10u8, short), ("cut", 13, cut)] {
            let mut b = vec![t];
            b.extend(rdb_string(&blob));
            let f = frame(&[b"RESTORE", b"bad", b"0", &payload_of_version(&b, 9)]);
            raw_ours.send(&f);
            raw_theirs.send(&f);
            assert_eq!(raw_ours.read_reply(), raw_theirs.read_reply(), "{what}");
        }
        let n: i64 = redis::cmd("EXISTS").arg("bad").query(&mut ours).unwrap();
        assert_eq!(n, 0);
    });
    // The same keys in a version-9 file (Redis 6's), loaded at start-up.
    let dir = TempDir::new("rdb-v9");
    let mut file = b"REDIS0009".to_vec();
    file.extend([0xFE, 0]); // SELECTDB 0
    for (key, t, body) in &cases {
        file.push(*t);
        file.extend(rdb_string(key.as_bytes()));
        file.extend(body);
    }
    file.push(0xFF);
    let crc = tandem::rdb::crc64(&file);
    file.extend(crc.to_le_bytes());
    std::fs::write(dir.0.join("old.rdb"), &file).unwrap();
    let from = ["--dir", dir.path(), "--dbfilename", "old.rdb"];
    let theirs_srv = Redis::start(&from);
    let mut theirs = conn(theirs_srv.port);
    for layout in [LAYOUTS[1], LAYOUTS[2]] {
        let args: Vec<&str> = layout.iter().copied().chain(from).collect();
        let s = Server::start(&args);
        let mut ours = s.conn();
        for (key, _, _) in &cases {
            let want = contents(&mut theirs, key);
            assert_ne!(want, "none", "redis-server did not load {key}");
            assert_eq!(contents(&mut ours, key), want, "{layout:?} {key}");
        }
    }
}

/// DEBUG RELOAD against redis-server: refused under the default
/// `enable-debug-command no` with Redis's error; allowed, it saves and
/// reloads every shard's keys unchanged (TTLs and other databases too),
/// NOSAVE replaces the keyspace with the file's, NOSAVE NOFLUSH MERGE adds
/// the file's keys to it; options and other subcommands answer as Redis
/// (or say tandem lacks them), and a missing file is Redis's error.
#[test]
fn debug_reload_answers_as_redis() {
    // Default: DEBUG is not allowed, and the directive is start-up only.
    let s = Server::start(&["--shards", "2"]);
    let redis = Redis::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    for cmd in [
        &["DEBUG", "RELOAD"][..],
        &["DEBUG"],
        &["CONFIG", "GET", "enable-debug-command"],
        &["CONFIG", "SET", "enable-debug-command", "yes"],
    ] {
        let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        ours.send(&frame(&f));
        theirs.send(&frame(&f));
        assert_eq!(ours.read_reply(), theirs.read_reply(), "{cmd:?}");
    }
    drop((s, redis));
    // `local`: allowed over loopback, where the tests connect.
    let dir = TempDir::new("debug-local");
    let s = Server::start(&["--dir", dir.path(), "--enable-debug-command", "local"]);
    let mut r = s.raw();
    r.send(&frame(&[b"DEBUG", b"RELOAD"]));
    assert_eq!(r.read_reply(), "+OK\r\n");
    drop(s);
    for layout in [LAYOUTS[1], LAYOUTS[2]] {
        let dir = TempDir::new("debug-reload");
        let mut args: Vec<&str> = layout.to_vec();
        args.extend(["--dir", dir.path(), "--enable-debug-command", "yes"]);
        let s = Server::start(&args);
        let redis = Redis::start(&[
            "--dir",
            dir.path(),
            "--dbfilename",
            "theirs.rdb",
            "--enable-debug-command",
            "yes",
        ]);
        let mut ours = s.conn();
        let mut theirs = conn(redis.port);
        for c in [&mut ours, &mut theirs] {
            fill(c);
            let _: () = redis::cmd("SELECT").arg(2).query(c).unwrap();
            let _: () = redis::cmd("SET")
                .arg("in-db-2")
                .arg("two")
                .query(c)
                .unwrap();
            let _: () = redis::cmd("SELECT").arg(0).query(c).unwrap();
        }
        let want = snapshot(&mut ours);
        assert_eq!(want, snapshot(&mut theirs), "{layout:?}");
        // A client WATCHing a key sees DEBUG RELOAD as a write of it
        // (Redis empties the keyspace first, touching every watched key
        // that existed).
        let (mut w_ours, mut w_theirs) = (s.raw(), redis.raw());
        for w in [&mut w_ours, &mut w_theirs] {
            w.send(&frame(&[b"WATCH", b"str"]));
            assert_eq!(w.read_reply(), "+OK\r\n");
        }
        let (mut raw_ours, mut raw_theirs) = (s.raw(), redis.raw());
        let mut both = |cmd: &[&str]| -> String {
            let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            raw_ours.send(&frame(&f));
            raw_theirs.send(&frame(&f));
            let a = raw_ours.read_reply();
            assert_eq!(a, raw_theirs.read_reply(), "{layout:?} {cmd:?}");
            a
        };
        assert_eq!(both(&["DEBUG", "RELOAD"]), "+OK\r\n");
        for w in [&mut w_ours, &mut w_theirs] {
            w.send(&frame(&[b"MULTI"]));
            w.send(&frame(&[b"SET", b"str", b"from-watcher"]));
            w.send(&frame(&[b"EXEC"]));
            let replies: Vec<String> = (0..3).map(|_| w.read_reply()).collect();
            assert_eq!(replies, ["+OK\r\n", "+QUEUED\r\n", "*-1\r\n"], "{layout:?}");
        }
        assert!(dir.0.join("dump.rdb").exists());
        assert_eq!(snapshot(&mut ours), want, "{layout:?}: after DEBUG RELOAD");
        both(&["DEBUG", "RELOAD", "bar"]);
        both(&["DEBUG", "foo"]);
        // NOSAVE: the file's keys replace what came after it.
        both(&["SET", "after", "1"]);
        both(&["DEL", "str"]);
        assert_eq!(both(&["DEBUG", "RELOAD", "NOSAVE"]), "+OK\r\n");
        assert_eq!(both(&["EXISTS", "after", "str"]), ":1\r\n");
        assert_eq!(snapshot(&mut ours), want, "{layout:?}: after NOSAVE");
        // NOSAVE NOFLUSH MERGE: the file's keys added to what is there.
        both(&["SET", "kept", "1"]);
        both(&["SET", "str", "changed"]);
        assert_eq!(
            both(&["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"]),
            "+OK\r\n"
        );
        assert_eq!(both(&["GET", "kept"]), "$1\r\n1\r\n");
        assert_eq!(snapshot(&mut ours), want, "{layout:?}: after MERGE");
        // No file: Redis's error (Redis has emptied the keyspace by then;
        // tandem changes nothing).
        std::fs::remove_file(dir.0.join("dump.rdb")).unwrap();
        std::fs::remove_file(dir.0.join("theirs.rdb")).unwrap();
        both(&["DEBUG", "RELOAD", "NOSAVE"]);
        assert_eq!(
            snapshot(&mut ours),
            want,
            "{layout:?}: a failed reload changed keys"
        );
        let mut raw = s.raw();
        raw.send(&frame(&[b"DEBUG", b"SDSLEN", b"kept"]));
        assert_eq!(
            raw.read_reply(),
            "-ERR tandem: DEBUG SDSLEN is not implemented\r\n"
        );
        raw.send(&frame(&[b"DEBUG", b"HELP"]));
        assert!(raw.read_reply().starts_with("*"));
        // Inside MULTI it is refused, and the transaction with it.
        for (cmd, want) in [
            (&[&b"MULTI"[..]][..], "+OK\r\n"),
            (
                &[b"DEBUG", b"RELOAD"],
                "-ERR tandem: DEBUG inside MULTI is not supported\r\n",
            ),
            (
                &[b"EXEC"],
                "-EXECABORT Transaction discarded because of previous errors.\r\n",
            ),
        ] {
            raw.send(&frame(cmd));
            assert_eq!(raw.read_reply(), want);
        }
        s.assert_alive();
    }
}
