//! How two replies to the same command are compared.
//!
//! Byte-equal replies always pass. Otherwise the rule depends on the
//! command; anything not listed must be byte-equal (errors always are):
//!
//! - **Scores by value.** Both servers format doubles with Redis 7.0's
//!   `%.17g` (`1.1000000000000001`); score positions of sorted-set replies
//!   (and every RESP3 double) are still compared as parsed f64 values, so
//!   a formatting slip shows in the byte-exact tests rather than here.
//! - **Multisets** where Redis leaves the order unspecified: SINTER,
//!   SUNION, SDIFF, KEYS; SMEMBERS unless the set is an intset (sorted);
//!   HKEYS/HVALS/HGETALL unless the hash is a listpack (insertion order).
//!   The encoding is asked from the reference (OBJECT ENCODING) only when
//!   the replies differ.
//! - **Properties** where the reply is random: SPOP, SRANDMEMBER,
//!   HRANDFIELD, ZRANDMEMBER (right count, members of the collection as
//!   the reference held it just before, distinct when Redis promises it,
//!   same reply shape), RANDOMKEY (a key that exists). After SPOP the
//!   reference is made to pop what tandem popped, so states stay equal.
//! - **Tolerance**: TTL/EXPIRETIME within 1 s, PTTL/PEXPIRETIME within
//!   1000 ms (the two servers set and read them moments apart).
//! - **SCAN family** (cursor 0): each server iterated to cursor 0, the
//!   unions compared (HSCAN/ZSCAN as field/value pairs).
//! - **SORT**: exact, except ALPHA with a BY pattern on a set or sorted set
//!   or with LIMIT (equal weights keep their input order, which is defined
//!   only for a list and only without LIMIT, as Redis uses glibc's merge
//!   sort then, a partial quicksort with LIMIT) and BY without `*` (no
//!   sorting) on a set: then a
//!   multiset of GET groups, or only the count under LIMIT; a STORE result
//!   is checked as a multiset and tandem's copy made equal to the
//!   reference's.
//! - **SORT numeric errors**: Redis's SORT can fail on a stale ERANGE left
//!   in errno by an earlier command; the reference is then asked again
//!   after clearing errno.
//! - **OBJECT ENCODING**: exact, except that tandem uses Redis 7.2's list
//!   and set encodings: a 7.0 `quicklist` list may be a `listpack` in
//!   tandem, a 7.0 `hashtable` set may be a `listpack`.

use std::collections::{BTreeMap, BTreeSet};

use super::generate::Cmd;
use super::resp::{Conn, Reply, Value, esc};

/// The two connections a check may use for side queries: the reference
/// (`r`) and tandem (`t`), both in the database the sequence selected.
pub struct Pair<'a> {
    pub r: &'a mut Conn,
    pub t: &'a mut Conn,
}

/// A snapshot taken before a command with a random reply.
pub enum Pre {
    None,
    /// Members of a set.
    Members(BTreeSet<Vec<u8>>),
    /// Field -> value, or member -> canonical score.
    Pairs(BTreeMap<Vec<u8>, Vec<u8>>),
}

pub fn name(cmd: &Cmd) -> String {
    String::from_utf8_lossy(&cmd[0]).to_ascii_uppercase()
}

fn has(cmd: &Cmd, from: usize, word: &str) -> bool {
    cmd.iter()
        .skip(from)
        .any(|a| a.eq_ignore_ascii_case(word.as_bytes()))
}

/// The argument after option `word`, if any.
fn opt_arg<'c>(cmd: &'c Cmd, from: usize, word: &str) -> Option<&'c [u8]> {
    let i = cmd
        .iter()
        .skip(from)
        .position(|a| a.eq_ignore_ascii_case(word.as_bytes()))?;
    cmd.get(from + i + 1).map(|v| &v[..])
}

fn int_of(b: &[u8]) -> Option<i64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// A double's text in one canonical form (None if not a number).
fn canon_f(b: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(b).ok()?;
    let f: f64 = s.parse().ok()?;
    Some(format!("{f:?}").into_bytes())
}

fn canon_bulk(v: &mut Value) {
    if let Value::Bulk(b) = v {
        if let Some(c) = canon_f(b) {
            *b = c;
        }
    }
}

fn canon_doubles(v: &mut Value) {
    match v {
        Value::Double(d) => {
            if let Some(c) = canon_f(d) {
                *d = c;
            }
        }
        Value::Array(xs) | Value::Set(xs) | Value::Push(xs) => {
            xs.iter_mut().for_each(canon_doubles)
        }
        Value::Map(m) => m.iter_mut().for_each(|(k, x)| {
            canon_doubles(k);
            canon_doubles(x);
        }),
        _ => {}
    }
}

fn canon_odd(v: &mut Value) {
    if let Value::Array(xs) = v {
        for (i, x) in xs.iter_mut().enumerate() {
            if i % 2 == 1 {
                canon_bulk(x);
            }
        }
    }
}

/// Scores of sorted-set replies (RESP2 bulk strings at known positions,
/// every RESP3 double) in canonical form.
fn canon_scores(name: &str, cmd: &Cmd, v: &mut Value) {
    canon_doubles(v);
    match name {
        "ZSCORE" | "ZINCRBY" | "ZADD" => canon_bulk(v),
        "ZMSCORE" => {
            if let Value::Array(xs) = v {
                xs.iter_mut().for_each(canon_bulk);
            }
        }
        "ZPOPMIN" | "ZPOPMAX" => canon_odd(v),
        "ZRANGE" | "ZRANGEBYSCORE" | "ZREVRANGEBYSCORE" | "ZREVRANGE" | "ZUNION" | "ZINTER"
        | "ZDIFF" | "ZRANDMEMBER"
            if has(cmd, 2, "WITHSCORES") =>
        {
            canon_odd(v)
        }
        "ZMPOP" | "BZMPOP" => {
            if let Value::Array(xs) = v {
                if let Some(Value::Array(els)) = xs.get_mut(1) {
                    for e in els {
                        if let Value::Array(p) = e {
                            if let Some(s) = p.get_mut(1) {
                                canon_bulk(s);
                            }
                        }
                    }
                }
            }
        }
        "BZPOPMIN" | "BZPOPMAX" => {
            if let Value::Array(xs) = v {
                if let Some(s) = xs.get_mut(2) {
                    canon_bulk(s);
                }
            }
        }
        _ => {}
    }
}

/// Sorts an aggregate's elements in groups of `chunk` (pairs for HGETALL
/// in RESP2); a map's pairs.
fn sort_items(v: &mut Value, chunk: usize) {
    match v {
        Value::Array(xs) | Value::Set(xs) => {
            if chunk <= 1 {
                xs.sort();
            } else if xs.len() % chunk == 0 {
                let mut groups: Vec<Vec<Value>> = xs.chunks(chunk).map(|c| c.to_vec()).collect();
                groups.sort();
                *xs = groups.into_iter().flatten().collect();
            }
        }
        Value::Map(m) => m.sort(),
        _ => {}
    }
}

/// Flattens one level of nesting (RESP3 `[[m, s], ...]` -> `[m, s, ...]`).
fn flat(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for x in v.items().unwrap_or_default() {
        match x {
            Value::Array(inner) => out.extend(inner),
            other => out.push(other),
        }
    }
    out
}

fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Bulk(b) | Value::Simple(b) => Some(b.clone()),
        Value::Double(d) => canon_f(d),
        _ => None,
    }
}

/// The encoding the reference reports for `key` (empty if none).
fn ref_encoding(p: &mut Pair, key: &[u8]) -> Result<Vec<u8>, String> {
    let r = p.r.call_str(&[b"OBJECT", b"ENCODING", key])?;
    Ok(r.v.as_bytes().map(|b| b.to_vec()).unwrap_or_default())
}

fn ref_type(p: &mut Pair, key: &[u8]) -> Result<Vec<u8>, String> {
    let r = p.r.call_str(&[b"TYPE", key])?;
    Ok(r.v.as_bytes().map(|b| b.to_vec()).unwrap_or_default())
}

/// Runs a side command that must not fail.
fn side(c: &mut Conn, args: Vec<Vec<u8>>) -> Result<Value, String> {
    let r = c.call(&args)?;
    if r.v.is_error() {
        return Err(format!(
            "side command {:?} failed: {}",
            super::resp::cli_line(&args),
            r.v.show()
        ));
    }
    Ok(r.v)
}

/// Before a command with a random reply: snapshot what it draws from.
pub fn pre(cmd: &Cmd, p: &mut Pair) -> Result<Pre, String> {
    if cmd.len() < 2 {
        return Ok(Pre::None);
    }
    let key = cmd[1].clone();
    let snap = match name(cmd).as_str() {
        "SPOP" | "SRANDMEMBER" => p.r.call_str(&[b"SMEMBERS", &key])?,
        "HRANDFIELD" => p.r.call_str(&[b"HGETALL", &key])?,
        "ZRANDMEMBER" => {
            p.r.call_str(&[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"])?
        }
        _ => return Ok(Pre::None),
    };
    if snap.v.is_error() {
        return Ok(Pre::None);
    }
    if matches!(name(cmd).as_str(), "SPOP" | "SRANDMEMBER") {
        let m = snap
            .v
            .items()
            .unwrap_or_default()
            .iter()
            .filter_map(bytes_of)
            .collect();
        return Ok(Pre::Members(m));
    }
    let items = flat(&snap.v);
    let mut m = BTreeMap::new();
    for pair in items.chunks(2) {
        if let [k, v] = pair {
            let k = bytes_of(k).unwrap_or_default();
            let mut v = bytes_of(v).unwrap_or_default();
            if name(cmd) == "ZRANDMEMBER" {
                v = canon_f(&v).unwrap_or(v);
            }
            m.insert(k, v);
        }
    }
    Ok(Pre::Pairs(m))
}

fn differ(r: &Value, t: &Value, why: &str) -> Result<(), String> {
    if r == t { Ok(()) } else { Err(why.to_string()) }
}

/// Compares the two replies to `cmd`; `Err` describes a divergence.
pub fn check(cmd: &Cmd, r: &Reply, t: &Reply, pre: Pre, p: &mut Pair) -> Result<(), String> {
    let name = name(cmd);
    if matches!(name.as_str(), "SCAN" | "SSCAN" | "HSCAN" | "ZSCAN") {
        return scan(&name, cmd, r, t, p);
    }
    // A Redis quirk: SORT tests `errno == ERANGE` after strtod without
    // clearing errno first, so an ERANGE left by an earlier command (ZADD
    // with 1e400, a SORT of 1e-400) fails a later numeric SORT. Clear it
    // (a no-op ZADD XX parses its score with errno = 0) and ask again.
    let mut r = r.clone();
    if matches!(name.as_str(), "SORT" | "SORT_RO")
        && r.raw == b"-ERR One or more scores can't be converted into double\r\n"
        && !t.v.is_error()
    {
        p.r.call_str(&[b"ZADD", b"__diff_errno", b"XX", b"0", b"m"])?;
        r = p.r.call(cmd)?;
    }
    let r = &r;
    let sort_store =
        matches!(name.as_str(), "SORT" | "SORT_RO") && opt_arg(cmd, 2, "STORE").is_some();
    if sort_store && !r.v.is_error() && !t.v.is_error() {
        return sort(cmd, r.v.clone(), t.v.clone(), r.raw == t.raw, p);
    }
    if r.raw == t.raw {
        return Ok(());
    }
    if name == "HELLO" && !r.v.is_error() && !t.v.is_error() {
        // Server name, version and client id differ by nature; the reply
        // must be a map in RESP3 and an array in RESP2 on both.
        return if std::mem::discriminant(&r.v) == std::mem::discriminant(&t.v) {
            Ok(())
        } else {
            Err("HELLO reply types differ".into())
        };
    }
    if r.v.is_error() || t.v.is_error() {
        return Err("replies differ".into());
    }
    let (mut rv, mut tv) = (r.v.clone(), t.v.clone());
    canon_scores(&name, cmd, &mut rv);
    canon_scores(&name, cmd, &mut tv);
    if rv == tv {
        return Ok(());
    }
    let key = cmd.get(1).cloned().unwrap_or_default();
    match name.as_str() {
        "SINTER" | "SUNION" | "SDIFF" | "KEYS" => {
            sort_items(&mut rv, 1);
            sort_items(&mut tv, 1);
            differ(&rv, &tv, "differ as multisets")
        }
        "SMEMBERS" => {
            if ref_encoding(p, &key)? == b"intset" {
                return Err("intset members differ (order is sorted for intsets)".into());
            }
            sort_items(&mut rv, 1);
            sort_items(&mut tv, 1);
            differ(&rv, &tv, "differ as multisets")
        }
        "HKEYS" | "HVALS" | "HGETALL" => {
            if ref_encoding(p, &key)? == b"listpack" {
                return Err("listpack hash replies differ (insertion order is defined)".into());
            }
            let chunk = if name == "HGETALL" { 2 } else { 1 };
            sort_items(&mut rv, chunk);
            sort_items(&mut tv, chunk);
            differ(&rv, &tv, "differ as multisets")
        }
        "TTL" | "PTTL" | "EXPIRETIME" | "PEXPIRETIME" => {
            let tol = if name.starts_with('P') { 1000 } else { 1 };
            match (rv.as_int(), tv.as_int()) {
                (Some(a), Some(b)) if a >= 0 && b >= 0 && (a - b).abs() <= tol => Ok(()),
                _ => Err(format!("differ beyond the tolerance {tol}")),
            }
        }
        "OBJECT" if cmd.len() == 3 && cmd[1].eq_ignore_ascii_case(b"ENCODING") => {
            let (Some(re), Some(te)) = (rv.as_bytes(), tv.as_bytes()) else {
                return Err("replies differ".into());
            };
            let ty = ref_type(p, &cmd[2])?;
            let ok = match (&ty[..], re, te) {
                (b"list", b"quicklist", b"listpack") => true,
                (b"set", b"hashtable", b"listpack") => true,
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err("encodings differ".into())
            }
        }
        "SPOP" => spop(cmd, &rv, &tv, pre, p),
        "SRANDMEMBER" => rand_members(cmd, &rv, &tv, pre),
        "HRANDFIELD" => rand_pairs(cmd, &rv, &tv, pre, "WITHVALUES"),
        "ZRANDMEMBER" => rand_pairs(cmd, &rv, &tv, pre, "WITHSCORES"),
        "RANDOMKEY" => {
            let Some(k) = tv.as_bytes() else {
                return Err("not a key".into());
            };
            if rv.is_nil() {
                return Err("the reference has no keys".into());
            }
            match p.r.call_str(&[b"EXISTS", k])?.v.as_int() {
                Some(1) => Ok(()),
                _ => Err(format!("RANDOMKEY gave {:?}, not a key", esc(k))),
            }
        }
        "SORT" | "SORT_RO" => sort(cmd, rv, tv, false, p),
        _ => Err("replies differ".into()),
    }
}

fn members_of(v: &Value) -> Option<Vec<Vec<u8>>> {
    let items = v.items()?;
    items.iter().map(bytes_of).collect()
}

fn same_shape(r: &Value, t: &Value) -> Result<(), String> {
    let kind = |v: &Value| std::mem::discriminant(v);
    if kind(r) != kind(t) {
        return Err("reply types differ".into());
    }
    let (ri, ti) = (r.items().unwrap_or_default(), t.items().unwrap_or_default());
    if let (Some(a), Some(b)) = (ri.first(), ti.first()) {
        if kind(a) != kind(b) {
            return Err("element types differ".into());
        }
    }
    Ok(())
}

/// Count semantics shared by SRANDMEMBER/HRANDFIELD/ZRANDMEMBER: `count`
/// >= 0 gives min(count, size) distinct elements, < 0 gives |count|
/// elements, repeats allowed.
fn check_count(count: i64, size: usize, got: &[Vec<u8>]) -> Result<(), String> {
    let want = if count >= 0 {
        (count as usize).min(size)
    } else if size == 0 {
        0
    } else {
        count.unsigned_abs() as usize
    };
    if got.len() != want {
        return Err(format!("{} elements, want {want}", got.len()));
    }
    if count >= 0 {
        let set: BTreeSet<&Vec<u8>> = got.iter().collect();
        if set.len() != got.len() {
            return Err("repeated elements where Redis promises distinct ones".into());
        }
    }
    Ok(())
}

fn rand_members(cmd: &Cmd, r: &Value, t: &Value, pre: Pre) -> Result<(), String> {
    let Pre::Members(set) = pre else {
        return Err("replies differ (no snapshot)".into());
    };
    same_shape(r, t)?;
    if cmd.len() == 2 {
        let m = t.as_bytes().ok_or("not a member")?;
        return if set.contains(m) {
            Ok(())
        } else {
            Err(format!("{:?} is not a member", esc(m)))
        };
    }
    let count = int_of(&cmd[2]).ok_or("replies differ (count not parsed)")?;
    let got = members_of(t).ok_or("not a list of members")?;
    check_count(count, set.len(), &got)?;
    if let Some(m) = got.iter().find(|m| !set.contains(*m)) {
        return Err(format!("{:?} is not a member", esc(m)));
    }
    Ok(())
}

fn spop(cmd: &Cmd, r: &Value, t: &Value, pre: Pre, p: &mut Pair) -> Result<(), String> {
    let Pre::Members(set) = pre else {
        return Err("replies differ (no snapshot)".into());
    };
    same_shape(r, t)?;
    let (rp, tp) = if cmd.len() == 2 {
        (
            vec![r.as_bytes().ok_or("not a member")?.to_vec()],
            vec![t.as_bytes().ok_or("not a member")?.to_vec()],
        )
    } else {
        let count = int_of(&cmd[2]).ok_or("replies differ (count not parsed)")?;
        let rp = members_of(r).ok_or("not a list of members")?;
        let tp = members_of(t).ok_or("not a list of members")?;
        check_count(count, set.len(), &tp)?;
        (rp, tp)
    };
    if let Some(m) = tp.iter().find(|m| !set.contains(*m)) {
        return Err(format!("popped {:?}, not a member", esc(m)));
    }
    // Make the reference pop what tandem popped.
    let (rs, ts): (BTreeSet<_>, BTreeSet<_>) = (rp.iter().collect(), tp.iter().collect());
    if rs != ts {
        let key = cmd[1].clone();
        let mut add = vec![b"SADD".to_vec(), key.clone()];
        add.extend(rp.iter().cloned());
        side(p.r, add)?;
        let mut rem = vec![b"SREM".to_vec(), key];
        rem.extend(tp.iter().cloned());
        side(p.r, rem)?;
    }
    Ok(())
}

/// HRANDFIELD ... WITHVALUES / ZRANDMEMBER ... WITHSCORES and their plain
/// forms, against the snapshot of pairs.
fn rand_pairs(cmd: &Cmd, r: &Value, t: &Value, pre: Pre, with: &str) -> Result<(), String> {
    let Pre::Pairs(map) = pre else {
        return Err("replies differ (no snapshot)".into());
    };
    same_shape(r, t)?;
    if cmd.len() == 2 {
        let m = t.as_bytes().ok_or("not a member")?;
        return if map.contains_key(m) {
            Ok(())
        } else {
            Err(format!("{:?} is not a member", esc(m)))
        };
    }
    let count = int_of(&cmd[2]).ok_or("replies differ (count not parsed)")?;
    let with = cmd.len() > 3 && cmd[3].eq_ignore_ascii_case(with.as_bytes());
    let items = flat(t);
    let mut got = Vec::new();
    if with {
        if items.len() % 2 != 0 {
            return Err("odd number of elements".into());
        }
        for pair in items.chunks(2) {
            let m = bytes_of(&pair[0]).ok_or("member not a string")?;
            let mut v = bytes_of(&pair[1]).ok_or("value not a string")?;
            if cmd[0].eq_ignore_ascii_case(b"ZRANDMEMBER") {
                v = canon_f(&v).unwrap_or(v);
            }
            match map.get(&m) {
                Some(want) if *want == v => {}
                Some(_) => return Err(format!("{:?} comes with the wrong value", esc(&m))),
                None => return Err(format!("{:?} is not a member", esc(&m))),
            }
            got.push(m);
        }
    } else {
        for x in &items {
            let m = bytes_of(x).ok_or("member not a string")?;
            if !map.contains_key(&m) {
                return Err(format!("{:?} is not a member", esc(&m)));
            }
            got.push(m);
        }
    }
    check_count(count, map.len(), &got)
}

/// SCAN/SSCAN/HSCAN/ZSCAN from cursor 0: iterates both to the end and
/// compares what they returned.
fn scan(name: &str, cmd: &Cmd, r: &Reply, t: &Reply, p: &mut Pair) -> Result<(), String> {
    let ci = if name == "SCAN" { 1 } else { 2 };
    let shaped = |v: &Value| matches!(v, Value::Array(x) if x.len() == 2);
    // Cursors strtoul reads as 0 start a full iteration.
    let zero = cmd
        .get(ci)
        .is_some_and(|c| matches!(&c[..], b"0" | b"" | b"00" | b"+0" | b"-0"));
    if !zero || !shaped(&r.v) || !shaped(&t.v) {
        return if r.raw == t.raw {
            Ok(())
        } else {
            Err("replies differ".into())
        };
    }
    let pairs = matches!(name, "HSCAN" | "ZSCAN");
    let zset = name == "ZSCAN";
    let collect = |conn: &mut Conn, first: &Value| -> Result<BTreeSet<Vec<Vec<u8>>>, String> {
        let mut out = BTreeSet::new();
        let mut reply = first.clone();
        let mut args = cmd.clone();
        for _ in 0..20_000 {
            let Value::Array(parts) = &reply else {
                return Err(format!("scan reply {}", reply.show()));
            };
            let cursor = parts[0].as_bytes().ok_or("cursor not a string")?.to_vec();
            let items = parts[1].items().ok_or("scan items not an array")?;
            let items: Vec<Vec<u8>> = items
                .iter()
                .map(|x| bytes_of(x).ok_or("scan item not a string"))
                .collect::<Result<_, _>>()?;
            if pairs {
                if items.len() % 2 != 0 {
                    return Err("odd number of scan items".into());
                }
                for pv in items.chunks(2) {
                    let v = if zset {
                        canon_f(&pv[1]).unwrap_or(pv[1].clone())
                    } else {
                        pv[1].clone()
                    };
                    out.insert(vec![pv[0].clone(), v]);
                }
            } else {
                for i in items {
                    out.insert(vec![i]);
                }
            }
            if cursor == b"0" {
                return Ok(out);
            }
            args[ci] = cursor;
            reply = conn.call(&args)?.v;
            if reply.is_error() {
                return Err(format!("scan continuation failed: {}", reply.show()));
            }
        }
        Err("scan did not finish in 20000 calls".into())
    };
    let rs = collect(p.r, &r.v).map_err(|e| format!("reference: {e}"))?;
    let ts = collect(p.t, &t.v)?;
    if rs == ts {
        return Ok(());
    }
    let show = |s: &BTreeSet<Vec<Vec<u8>>>| -> String {
        s.iter()
            .take(8)
            .map(|x| x.iter().map(|b| esc(b)).collect::<Vec<_>>().join("="))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let only_r: BTreeSet<_> = rs.difference(&ts).cloned().collect();
    let only_t: BTreeSet<_> = ts.difference(&rs).cloned().collect();
    Err(format!(
        "full iterations differ: {} vs {} elements; only in redis [{}]; only in tandem [{}]",
        rs.len(),
        ts.len(),
        show(&only_r),
        show(&only_t)
    ))
}

fn sort(cmd: &Cmd, mut rv: Value, mut tv: Value, equal: bool, p: &mut Pair) -> Result<(), String> {
    let alpha = has(cmd, 2, "ALPHA");
    let by = opt_arg(cmd, 2, "BY");
    let by_pattern = by.is_some_and(|b| b.contains(&b'*'));
    let dontsort = by.is_some() && !by_pattern;
    let limit = has(cmd, 2, "LIMIT");
    let store = opt_arg(cmd, 2, "STORE").map(|d| d.to_vec());
    let gets = cmd
        .iter()
        .skip(2)
        .filter(|a| a.eq_ignore_ascii_case(b"GET"))
        .count()
        .max(1);
    // Equal ALPHA weights keep their input order (Redis sorts with glibc's
    // merge sort): defined for a list without LIMIT (LIMIT uses a partial
    // quicksort), not for a set or sorted set (hash table order).
    let ty = ref_type(p, &cmd[1])?;
    let is_set = dontsort && ty == b"set";
    let ties = (alpha && by_pattern && (limit || ty != b"list")) || (is_set && store.is_none());
    if !ties {
        return if equal {
            Ok(())
        } else {
            Err("replies differ".into())
        };
    }
    if let Some(dst) = store {
        // The counts differ: a real divergence.
        if rv != tv {
            return Err("stored counts differ".into());
        }
        let rl = side(
            p.r,
            vec![
                b"LRANGE".to_vec(),
                dst.clone(),
                b"0".to_vec(),
                b"-1".to_vec(),
            ],
        )?;
        let tl = side(
            p.t,
            vec![
                b"LRANGE".to_vec(),
                dst.clone(),
                b"0".to_vec(),
                b"-1".to_vec(),
            ],
        )?;
        let (mut a, mut b) = (rl.clone(), tl);
        sort_items(&mut a, gets);
        sort_items(&mut b, gets);
        if !limit && a != b {
            return Err("stored lists differ as multisets".into());
        }
        // Make tandem's copy equal to the reference's.
        side(p.t, vec![b"DEL".to_vec(), dst.clone()])?;
        let items = members_of(&rl).unwrap_or_default();
        if !items.is_empty() {
            let mut push = vec![b"RPUSH".to_vec(), dst];
            push.extend(items);
            side(p.t, push)?;
        }
        return Ok(());
    }
    // GET values may be null: compare the reply's own type only.
    if std::mem::discriminant(&rv) != std::mem::discriminant(&tv) {
        return Err("reply types differ".into());
    }
    if limit {
        let n = |v: &Value| v.items().map(|x| x.len());
        return if n(&rv) == n(&tv) {
            Ok(())
        } else {
            Err("lengths differ".into())
        };
    }
    sort_items(&mut rv, gets);
    sort_items(&mut tv, gets);
    differ(&rv, &tv, "differ as multisets of GET groups")
}
