//! Property tests: random command sequences per collection type, run
//! against the real server (2 IO threads, 3 shards, so multi-key commands
//! cross shards) with compact-encoding thresholds set low so collections
//! convert back and forth, every reply compared with a simple in-test
//! model. A failure prints the shrunk command sequence.

mod common;
use common::*;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use redis::Value;

type Reply = Result<Value, String>;

fn b(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn arr(v: impl IntoIterator<Item = Value>) -> Value {
    Value::Array(v.into_iter().collect())
}

fn bulks<'a>(v: impl IntoIterator<Item = &'a String>) -> Value {
    arr(v.into_iter().map(|s| b(s)))
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(x) => String::from_utf8_lossy(x).into_owned(),
        other => format!("{other:?}"),
    }
}

/// The strings of an array reply, sorted (for unordered replies).
fn sorted(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = match v {
        Value::Array(a) | Value::Set(a) => a.iter().map(text).collect(),
        _ => vec![format!("not an array: {v:?}")],
    };
    out.sort();
    out
}

fn same(got: &Reply, want: Value) -> Result<(), String> {
    match got {
        Ok(v) if *v == want => Ok(()),
        _ => Err(format!("got {got:?}, want {want:?}")),
    }
}

fn same_sorted(got: &Reply, mut want: Vec<String>) -> Result<(), String> {
    want.sort();
    match got {
        Ok(v) if sorted(v) == want => Ok(()),
        _ => Err(format!("got {got:?}, want (any order) {want:?}")),
    }
}

fn is_err(got: &Reply, part: &str) -> Result<(), String> {
    match got {
        Err(e) if e.contains(part) => Ok(()),
        _ => Err(format!("got {got:?}, want an error with {part:?}")),
    }
}

/// Redis's strict integer parse (no leading zeros, no '+').
fn strict_int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok().filter(|n| n.to_string() == s)
}

/// Normalizes a Redis `start stop` rank range to `0..len`.
fn span(len: usize, start: i64, stop: i64) -> Option<(usize, usize)> {
    let l = len as i64;
    let s = if start < 0 { start + l } else { start }.max(0);
    let e = if stop < 0 { stop + l } else { stop }.min(l - 1);
    (s <= e && s < l).then_some((s as usize, e as usize))
}

fn key() -> impl Strategy<Value = String> {
    (0..4u8).prop_map(|i| format!("k{i}"))
}

fn val() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c]".prop_map(String::from),
        "[0-9]{1,2}".prop_map(String::from),
        "v[a-z]{9,12}".prop_map(String::from),
    ]
}

fn idx() -> impl Strategy<Value = i64> {
    -6i64..6
}

fn cmd(parts: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    parts.into_iter().map(Into::into).collect()
}

/// Runs random sequences of `commands`, each checked by a
/// fresh model `M` through `check(model, command, reply)`.
fn run_model<M: Default>(
    s: &Server,
    commands: impl Strategy<Value = Vec<String>>,
    check: fn(&mut M, &[String], &Reply) -> Result<(), String>,
) {
    let c = RefCell::new(s.conn());
    for (k, v) in [
        ("list-max-listpack-size", "4"),
        ("hash-max-listpack-entries", "4"),
        ("hash-max-listpack-value", "8"),
        ("set-max-intset-entries", "4"),
        ("set-max-listpack-entries", "4"),
        ("set-max-listpack-value", "8"),
        ("zset-max-listpack-entries", "4"),
        ("zset-max-listpack-value", "8"),
    ] {
        q::<String>(&mut c.borrow_mut(), &["CONFIG", "SET", k, v]).unwrap();
    }
    let mut runner = TestRunner::new(Config {
        cases: 100,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&vec(commands, 1..60), |cmds| {
        let mut c = c.borrow_mut();
        q::<String>(&mut c, &["FLUSHALL"]).unwrap();
        let mut m = M::default();
        for (n, one) in cmds.iter().enumerate() {
            let args: Vec<&str> = one.iter().map(|s| s.as_str()).collect();
            let got: Reply = q::<Value>(&mut c, &args).map_err(|e| e.to_string());
            check(&mut m, one, &got)
                .map_err(|e| TestCaseError::fail(format!("command {n} {one:?}: {e}")))?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    s.assert_alive();
}

// ---------------------------------------------------------------- lists

fn list_cmd() -> impl Strategy<Value = Vec<String>> {
    let end = || prop_oneof![Just("LEFT"), Just("RIGHT")];
    prop_oneof![
        3 => (prop_oneof![Just("LPUSH"), Just("RPUSH")], key(), vec(val(), 1..6))
            .prop_map(|(c, k, vs)| cmd([c.to_string(), k].into_iter().chain(vs))),
        1 => (prop_oneof![Just("LPOP"), Just("RPOP")], key(), proptest::option::of(0..4u8)).prop_map(
            |(c, k, n)| cmd([c.to_string(), k].into_iter().chain(n.map(|n| n.to_string())))
        ),
        1 => key().prop_map(|k| cmd(["LLEN".to_string(), k])),
        1 => (key(), idx(), idx())
            .prop_map(|(k, a, z)| cmd(["LRANGE".into(), k, a.to_string(), z.to_string()])),
        1 => (key(), idx()).prop_map(|(k, i)| cmd(["LINDEX".into(), k, i.to_string()])),
        1 => (key(), idx(), val()).prop_map(|(k, i, v)| cmd(["LSET".into(), k, i.to_string(), v])),
        1 => (key(), prop_oneof![Just("BEFORE"), Just("AFTER")], val(), val())
            .prop_map(|(k, w, p, v)| cmd(["LINSERT".into(), k, w.into(), p, v])),
        1 => (key(), -2i64..3, val()).prop_map(|(k, n, v)| cmd(["LREM".into(), k, n.to_string(), v])),
        1 => (key(), idx(), idx())
            .prop_map(|(k, a, z)| cmd(["LTRIM".into(), k, a.to_string(), z.to_string()])),
        1 => (key(), key(), end(), end())
            .prop_map(|(s, d, f, t)| cmd(["LMOVE".into(), s, d, f.into(), t.into()])),
        1 => (key(), val()).prop_map(|(k, v)| cmd(["LPOS".into(), k, v])),
    ]
}

#[derive(Default)]
struct Lists(HashMap<String, VecDeque<String>>);

fn check_list(m: &mut Lists, c: &[String], got: &Reply) -> Result<(), String> {
    let m = &mut m.0;
    let k = &c[1];
    let int = |i: &String| i.parse::<i64>().unwrap();
    let r = match c[0].as_str() {
        "LPUSH" | "RPUSH" => {
            let l = m.entry(k.clone()).or_default();
            for v in &c[2..] {
                if c[0] == "LPUSH" {
                    l.push_front(v.clone())
                } else {
                    l.push_back(v.clone())
                }
            }
            same(got, Value::Int(l.len() as i64))
        }
        "LPOP" | "RPOP" => {
            let count = c.get(2).map(int);
            match (m.get_mut(k), count) {
                (None, _) => same(got, Value::Nil),
                (Some(_), Some(0)) => same(got, arr([])),
                (Some(l), n) => {
                    let mut out = Vec::new();
                    for _ in 0..n.unwrap_or(1) {
                        let v = if c[0] == "LPOP" {
                            l.pop_front()
                        } else {
                            l.pop_back()
                        };
                        out.extend(v);
                    }
                    match n {
                        None => same(got, b(&out[0])),
                        Some(_) => same(got, bulks(&out)),
                    }
                }
            }
        }
        "LLEN" => same(got, Value::Int(m.get(k).map_or(0, |l| l.len()) as i64)),
        "LRANGE" => {
            let l = m.get(k).cloned().unwrap_or_default();
            let want = match span(l.len(), int(&c[2]), int(&c[3])) {
                Some((s, e)) => l.range(s..=e).cloned().collect(),
                None => Vec::new(),
            };
            same(got, bulks(&want))
        }
        "LINDEX" => {
            let l = m.get(k).cloned().unwrap_or_default();
            let i = int(&c[2]);
            let i = if i < 0 { i + l.len() as i64 } else { i };
            match usize::try_from(i).ok().and_then(|i| l.get(i)) {
                Some(v) => same(got, b(v)),
                None => same(got, Value::Nil),
            }
        }
        "LSET" => match m.get_mut(k) {
            None => is_err(got, "no such key"),
            Some(l) => {
                let i = int(&c[2]);
                let i = if i < 0 { i + l.len() as i64 } else { i };
                match usize::try_from(i).ok().filter(|&i| i < l.len()) {
                    Some(i) => {
                        l[i] = c[3].clone();
                        same(got, Value::Okay)
                    }
                    None => is_err(got, "index out of range"),
                }
            }
        },
        "LINSERT" => match m.get_mut(k) {
            None => same(got, Value::Int(0)),
            Some(l) => match l.iter().position(|x| *x == c[3]) {
                None => same(got, Value::Int(-1)),
                Some(p) => {
                    l.insert(if c[2] == "BEFORE" { p } else { p + 1 }, c[4].clone());
                    same(got, Value::Int(l.len() as i64))
                }
            },
        },
        "LREM" => {
            let n = int(&c[2]);
            let mut removed = 0;
            if let Some(l) = m.get_mut(k) {
                let limit = if n == 0 {
                    usize::MAX
                } else {
                    n.unsigned_abs() as usize
                };
                let mut keep: Vec<String> = Vec::new();
                let items: Vec<String> = if n < 0 {
                    l.iter().rev().cloned().collect()
                } else {
                    l.iter().cloned().collect()
                };
                for x in items {
                    if x == c[3] && removed < limit {
                        removed += 1;
                    } else {
                        keep.push(x);
                    }
                }
                if n < 0 {
                    keep.reverse();
                }
                *l = keep.into();
            }
            same(got, Value::Int(removed as i64))
        }
        "LTRIM" => {
            if let Some(l) = m.get_mut(k) {
                *l = match span(l.len(), int(&c[2]), int(&c[3])) {
                    Some((s, e)) => l.range(s..=e).cloned().collect(),
                    None => VecDeque::new(),
                };
            }
            same(got, Value::Okay)
        }
        "LMOVE" => {
            let v = m.get_mut(k).and_then(|l| {
                if c[3] == "LEFT" {
                    l.pop_front()
                } else {
                    l.pop_back()
                }
            });
            match v {
                None => same(got, Value::Nil),
                Some(v) => {
                    let d = m.entry(c[2].clone()).or_default();
                    if c[4] == "LEFT" {
                        d.push_front(v.clone())
                    } else {
                        d.push_back(v.clone())
                    }
                    same(got, b(&v))
                }
            }
        }
        "LPOS" => match m.get(k).and_then(|l| l.iter().position(|x| *x == c[2])) {
            Some(p) => same(got, Value::Int(p as i64)),
            None => same(got, Value::Nil),
        },
        other => panic!("no model for {other}"),
    };
    m.retain(|_, l| !l.is_empty());
    r
}

#[test]
fn lists_match_model() {
    let s = Server::start(MODES[2]);
    run_model(&s, list_cmd(), check_list);
}

// ---------------------------------------------------------------- hashes

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "f[a-d]".prop_map(String::from),
        "field_[a-z]{8}".prop_map(String::from)
    ]
}

fn hash_cmd() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        3 => (key(), vec((field(), val()), 1..4)).prop_map(|(k, fv)| {
            cmd(["HSET".to_string(), k].into_iter().chain(fv.into_iter().flat_map(|(f, v)| [f, v])))
        }),
        1 => (key(), field(), val()).prop_map(|(k, f, v)| cmd(["HSETNX".into(), k, f, v])),
        1 => (prop_oneof![Just("HGET"), Just("HEXISTS"), Just("HSTRLEN")], key(), field())
            .prop_map(|(c, k, f)| cmd([c.into(), k, f])),
        1 => (key(), vec(field(), 1..4))
            .prop_map(|(k, fs)| cmd(["HDEL".to_string(), k].into_iter().chain(fs))),
        1 => (key(), vec(field(), 1..4))
            .prop_map(|(k, fs)| cmd(["HMGET".to_string(), k].into_iter().chain(fs))),
        1 => (key(), field(), -5i64..5)
            .prop_map(|(k, f, n)| cmd(["HINCRBY".into(), k, f, n.to_string()])),
        1 => (prop_oneof![Just("HLEN"), Just("HGETALL"), Just("HKEYS"), Just("HVALS")], key())
            .prop_map(|(c, k)| cmd([c.into(), k])),
    ]
}

#[derive(Default)]
struct Hashes(HashMap<String, BTreeMap<String, String>>);

fn check_hash(m: &mut Hashes, c: &[String], got: &Reply) -> Result<(), String> {
    let m = &mut m.0;
    let k = &c[1];
    let h = m.entry(k.clone()).or_default();
    let r = match c[0].as_str() {
        "HSET" => {
            let mut added = 0;
            for p in c[2..].chunks(2) {
                added += h.insert(p[0].clone(), p[1].clone()).is_none() as i64;
            }
            same(got, Value::Int(added))
        }
        "HSETNX" => {
            let new = !h.contains_key(&c[2]);
            if new {
                h.insert(c[2].clone(), c[3].clone());
            }
            same(got, Value::Int(new as i64))
        }
        "HGET" => same(got, h.get(&c[2]).map_or(Value::Nil, |v| b(v))),
        "HEXISTS" => same(got, Value::Int(h.contains_key(&c[2]) as i64)),
        "HSTRLEN" => same(got, Value::Int(h.get(&c[2]).map_or(0, |v| v.len()) as i64)),
        "HDEL" => {
            let n = c[2..].iter().filter(|f| h.remove(*f).is_some()).count();
            same(got, Value::Int(n as i64))
        }
        "HMGET" => same(
            got,
            arr(c[2..].iter().map(|f| h.get(f).map_or(Value::Nil, |v| b(v)))),
        ),
        "HINCRBY" => {
            let by: i64 = c[3].parse().unwrap();
            match h.get(&c[2]).map(|v| strict_int(v)) {
                Some(None) => is_err(got, "hash value is not an integer"),
                old => {
                    let n = old.flatten().unwrap_or(0) + by;
                    h.insert(c[2].clone(), n.to_string());
                    same(got, Value::Int(n))
                }
            }
        }
        "HLEN" => same(got, Value::Int(h.len() as i64)),
        "HKEYS" => same_sorted(got, h.keys().cloned().collect()),
        "HVALS" => same_sorted(got, h.values().cloned().collect()),
        "HGETALL" => match got {
            Ok(Value::Array(a)) => {
                let mut pairs: Vec<(String, String)> =
                    a.chunks(2).map(|p| (text(&p[0]), text(&p[1]))).collect();
                pairs.sort();
                let want: Vec<(String, String)> =
                    h.iter().map(|(f, v)| (f.clone(), v.clone())).collect();
                (pairs == want)
                    .then_some(())
                    .ok_or(format!("got {pairs:?}, want {want:?}"))
            }
            _ => Err(format!("got {got:?}")),
        },
        other => panic!("no model for {other}"),
    };
    m.retain(|_, h| !h.is_empty());
    r
}

#[test]
fn hashes_match_model() {
    let s = Server::start(MODES[2]);
    run_model(&s, hash_cmd(), check_hash);
}

// ---------------------------------------------------------------- sets

fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-c]".prop_map(String::from),
        (0..40u16).prop_map(|n| n.to_string()),
        "m[a-z]{9}".prop_map(String::from),
    ]
}

fn set_cmd() -> impl Strategy<Value = Vec<String>> {
    prop_oneof![
        3 => (key(), vec(member(), 1..6))
            .prop_map(|(k, ms)| cmd(["SADD".to_string(), k].into_iter().chain(ms))),
        1 => (key(), vec(member(), 1..3))
            .prop_map(|(k, ms)| cmd(["SREM".to_string(), k].into_iter().chain(ms))),
        1 => (prop_oneof![Just("SCARD"), Just("SMEMBERS"), Just("SPOP")], key())
            .prop_map(|(c, k)| cmd([c.into(), k])),
        1 => (key(), member()).prop_map(|(k, m)| cmd(["SISMEMBER".into(), k, m])),
        1 => (key(), key(), member()).prop_map(|(s, d, m)| cmd(["SMOVE".into(), s, d, m])),
        1 => (prop_oneof![Just("SINTER"), Just("SUNION"), Just("SDIFF")], key(), key())
            .prop_map(|(c, a, z)| cmd([c.into(), a, z])),
        1 => (
            prop_oneof![Just("SINTERSTORE"), Just("SUNIONSTORE"), Just("SDIFFSTORE")],
            key(),
            key(),
            key()
        )
            .prop_map(|(c, d, a, z)| cmd([c.into(), d, a, z])),
        1 => (key(), -6i64..6).prop_map(|(k, n)| cmd(["SRANDMEMBER".into(), k, n.to_string()])),
    ]
}

#[derive(Default)]
struct Sets(HashMap<String, BTreeSet<String>>);

fn combine(m: &HashMap<String, BTreeSet<String>>, op: &str, a: &str, z: &str) -> BTreeSet<String> {
    let e = BTreeSet::new();
    let (x, y) = (m.get(a).unwrap_or(&e), m.get(z).unwrap_or(&e));
    match op {
        "SINTER" => x.intersection(y).cloned().collect(),
        "SUNION" => x.union(y).cloned().collect(),
        _ => x.difference(y).cloned().collect(),
    }
}

fn check_set(m: &mut Sets, c: &[String], got: &Reply) -> Result<(), String> {
    let m = &mut m.0;
    let k = &c[1];
    let r = match c[0].as_str() {
        "SADD" => {
            let s = m.entry(k.clone()).or_default();
            let n = c[2..].iter().filter(|x| s.insert(x.to_string())).count();
            same(got, Value::Int(n as i64))
        }
        "SREM" => {
            let s = m.entry(k.clone()).or_default();
            let n = c[2..].iter().filter(|x| s.remove(*x)).count();
            same(got, Value::Int(n as i64))
        }
        "SCARD" => same(got, Value::Int(m.get(k).map_or(0, |s| s.len()) as i64)),
        "SMEMBERS" => same_sorted(
            got,
            m.get(k)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
        ),
        "SISMEMBER" => same(
            got,
            Value::Int(m.get(k).is_some_and(|s| s.contains(&c[2])) as i64),
        ),
        "SPOP" => match (m.get_mut(k), got) {
            (None, _) => same(got, Value::Nil),
            (Some(s), Ok(v)) => {
                let popped = text(v);
                s.remove(&popped)
                    .then_some(())
                    .ok_or(format!("popped {popped:?}, not a member of {s:?}"))
            }
            (Some(_), Err(e)) => Err(e.clone()),
        },
        "SMOVE" => {
            let has = m.get(k).is_some_and(|s| s.contains(&c[3]));
            if has && c[1] != c[2] {
                m.get_mut(k).unwrap().remove(&c[3]);
                m.entry(c[2].clone()).or_default().insert(c[3].clone());
            }
            same(got, Value::Int(has as i64))
        }
        "SINTER" | "SUNION" | "SDIFF" => {
            same_sorted(got, combine(m, &c[0], &c[1], &c[2]).into_iter().collect())
        }
        "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" => {
            let r = combine(m, &c[0][..c[0].len() - 5], &c[2], &c[3]);
            let n = r.len();
            m.insert(c[1].clone(), r);
            same(got, Value::Int(n as i64))
        }
        "SRANDMEMBER" => {
            let n: i64 = c[2].parse().unwrap();
            let s = m.get(k).cloned().unwrap_or_default();
            match got {
                Ok(Value::Array(a)) => {
                    let picks: Vec<String> = a.iter().map(text).collect();
                    let distinct: BTreeSet<&String> = picks.iter().collect();
                    let want_len = if n >= 0 {
                        (n as usize).min(s.len())
                    } else {
                        n.unsigned_abs() as usize
                    };
                    let want_len = if s.is_empty() { 0 } else { want_len };
                    let ok = picks.len() == want_len
                        && picks.iter().all(|p| s.contains(p))
                        && (n < 0 || distinct.len() == picks.len());
                    ok.then_some(()).ok_or(format!("got {picks:?} from {s:?}"))
                }
                _ => Err(format!("got {got:?}")),
            }
        }
        other => panic!("no model for {other}"),
    };
    m.retain(|_, s| !s.is_empty());
    r
}

#[test]
fn sets_match_model() {
    let s = Server::start(MODES[2]);
    run_model(&s, set_cmd(), check_set);
}

// ---------------------------------------------------------------- sorted sets

/// Scores in halves, so sums stay exact and format the same everywhere.
fn score() -> impl Strategy<Value = String> {
    (-6i64..7).prop_map(|n| fmt(n as f64 / 2.0))
}

fn fmt(x: f64) -> String {
    format!("{x}")
}

fn zmember() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-e]".prop_map(String::from),
        "z[a-z]{9}".prop_map(String::from)
    ]
}

fn zset_cmd() -> impl Strategy<Value = Vec<String>> {
    let flags = prop_oneof![
        Just(""),
        Just("NX"),
        Just("XX"),
        Just("GT"),
        Just("LT"),
        Just("CH"),
        Just("XX CH"),
        Just("GT CH")
    ];
    prop_oneof![
        3 => (key(), flags, vec((score(), zmember()), 1..4)).prop_map(|(k, f, sm)| {
            cmd(["ZADD".to_string(), k]
                .into_iter()
                .chain(f.split_whitespace().map(String::from))
                .chain(sm.into_iter().flat_map(|(s, m)| [s, m])))
        }),
        1 => (key(), score(), zmember()).prop_map(|(k, s, m)| cmd(["ZINCRBY".into(), k, s, m])),
        1 => (prop_oneof![Just("ZREM"), Just("ZSCORE"), Just("ZRANK"), Just("ZREVRANK")], key(), zmember())
            .prop_map(|(c, k, m)| cmd([c.into(), k, m])),
        1 => key().prop_map(|k| cmd(["ZCARD".to_string(), k])),
        1 => (key(), idx(), idx(), any::<bool>()).prop_map(|(k, a, z, w)| {
            let mut v = cmd(["ZRANGE".into(), k, a.to_string(), z.to_string()]);
            if w {
                v.push("WITHSCORES".into());
            }
            v
        }),
        1 => (prop_oneof![Just("ZCOUNT"), Just("ZRANGEBYSCORE")], key(), score(), score(), any::<bool>())
            .prop_map(|(c, k, lo, hi, excl)| {
                let lo = if excl { format!("({lo}") } else { lo };
                cmd([c.into(), k, lo, hi])
            }),
        1 => (key(), proptest::option::of(0..4u8)).prop_map(|(k, n)| {
            cmd(["ZPOPMIN".to_string(), k].into_iter().chain(n.map(|n| n.to_string())))
        }),
        1 => (key(), idx(), idx()).prop_map(|(k, a, z)| {
            cmd(["ZREMRANGEBYRANK".into(), k, a.to_string(), z.to_string()])
        }),
        1 => (prop_oneof![Just("ZUNIONSTORE"), Just("ZINTERSTORE")], key(), key(), key())
            .prop_map(|(c, d, a, z)| cmd([c.into(), d, "2".into(), a, z])),
    ]
}

#[derive(Default)]
struct ZSets(HashMap<String, BTreeMap<String, f64>>);

/// Members ordered by (score, member).
fn ordered(z: &BTreeMap<String, f64>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = z.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn flat(items: &[(String, f64)], scores: bool) -> Value {
    arr(items.iter().flat_map(|(m, s)| {
        let mut v = vec![b(m)];
        if scores {
            v.push(b(&fmt(*s)));
        }
        v
    }))
}

fn check_zset(m: &mut ZSets, c: &[String], got: &Reply) -> Result<(), String> {
    let m = &mut m.0;
    let k = &c[1];
    let num = |s: &String| s.parse::<i64>().unwrap();
    let r = match c[0].as_str() {
        "ZADD" => {
            let mut i = 2;
            let mut fl = Vec::new();
            while c[i].chars().all(|ch| ch.is_ascii_uppercase()) {
                fl.push(c[i].as_str());
                i += 1;
            }
            let has = |f: &str| fl.contains(&f);
            let z = m.entry(k.clone()).or_default();
            let (mut added, mut changed) = (0, 0);
            for p in c[i..].chunks(2) {
                let s: f64 = p[0].parse().unwrap();
                match z.get(&p[1]).copied() {
                    Some(_) if has("NX") => {}
                    None if has("XX") => {}
                    Some(old) => {
                        let ok = (!has("GT") || s > old) && (!has("LT") || s < old);
                        if ok && s != old {
                            z.insert(p[1].clone(), s);
                            changed += 1;
                        }
                    }
                    None => {
                        z.insert(p[1].clone(), s);
                        added += 1;
                    }
                }
            }
            same(
                got,
                Value::Int(if has("CH") { added + changed } else { added }),
            )
        }
        "ZINCRBY" => {
            let z = m.entry(k.clone()).or_default();
            let s = z.get(&c[3]).copied().unwrap_or(0.0) + c[2].parse::<f64>().unwrap();
            z.insert(c[3].clone(), s);
            same(got, b(&fmt(s)))
        }
        "ZREM" => {
            let n = m.get_mut(k).and_then(|z| z.remove(&c[2])).is_some();
            same(got, Value::Int(n as i64))
        }
        "ZSCORE" => same(
            got,
            m.get(k)
                .and_then(|z| z.get(&c[2]))
                .map_or(Value::Nil, |s| b(&fmt(*s))),
        ),
        "ZRANK" | "ZREVRANK" => {
            let o = m.get(k).map(ordered).unwrap_or_default();
            match o.iter().position(|(x, _)| *x == c[2]) {
                None => same(got, Value::Nil),
                Some(p) => {
                    let r = if c[0] == "ZRANK" { p } else { o.len() - 1 - p };
                    same(got, Value::Int(r as i64))
                }
            }
        }
        "ZCARD" => same(got, Value::Int(m.get(k).map_or(0, |z| z.len()) as i64)),
        "ZRANGE" => {
            let o = m.get(k).map(ordered).unwrap_or_default();
            let items = match span(o.len(), num(&c[2]), num(&c[3])) {
                Some((s, e)) => o[s..=e].to_vec(),
                None => Vec::new(),
            };
            same(got, flat(&items, c.len() > 4))
        }
        "ZCOUNT" | "ZRANGEBYSCORE" => {
            let (excl, lo) = match c[2].strip_prefix('(') {
                Some(x) => (true, x.parse::<f64>().unwrap()),
                None => (false, c[2].parse::<f64>().unwrap()),
            };
            let hi: f64 = c[3].parse().unwrap();
            let o = m.get(k).map(ordered).unwrap_or_default();
            let items: Vec<(String, f64)> = o
                .into_iter()
                .filter(|(_, s)| (if excl { *s > lo } else { *s >= lo }) && *s <= hi)
                .collect();
            if c[0] == "ZCOUNT" {
                same(got, Value::Int(items.len() as i64))
            } else {
                same(got, flat(&items, false))
            }
        }
        "ZPOPMIN" => {
            let n = c.get(2).map(|n| num(n) as usize);
            let o = m.get(k).map(ordered).unwrap_or_default();
            let items = &o[..n.unwrap_or(1).min(o.len())];
            if let Some(z) = m.get_mut(k) {
                for (x, _) in items {
                    z.remove(x);
                }
            }
            same(got, flat(items, true))
        }
        "ZREMRANGEBYRANK" => {
            let o = m.get(k).map(ordered).unwrap_or_default();
            let gone = match span(o.len(), num(&c[2]), num(&c[3])) {
                Some((s, e)) => o[s..=e].to_vec(),
                None => Vec::new(),
            };
            if let Some(z) = m.get_mut(k) {
                for (x, _) in &gone {
                    z.remove(x);
                }
            }
            same(got, Value::Int(gone.len() as i64))
        }
        "ZUNIONSTORE" | "ZINTERSTORE" => {
            let e = BTreeMap::new();
            let (a, z) = (m.get(&c[3]).unwrap_or(&e), m.get(&c[4]).unwrap_or(&e));
            let mut out = BTreeMap::new();
            for (x, s) in a {
                match z.get(x) {
                    Some(t) => {
                        out.insert(x.clone(), s + t);
                    }
                    None if c[0] == "ZUNIONSTORE" => {
                        out.insert(x.clone(), *s);
                    }
                    None => {}
                }
            }
            if c[0] == "ZUNIONSTORE" {
                for (x, t) in z {
                    out.entry(x.clone()).or_insert(*t);
                }
            }
            let n = out.len();
            m.insert(k.clone(), out);
            same(got, Value::Int(n as i64))
        }
        other => panic!("no model for {other}"),
    };
    m.retain(|_, z| !z.is_empty());
    r
}

#[test]
fn sorted_sets_match_model() {
    let s = Server::start(MODES[2]);
    run_model(&s, zset_cmd(), check_zset);
}
