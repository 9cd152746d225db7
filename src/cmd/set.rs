//! The set family (<https://redis.io/docs/latest/commands/?group=set>):
//! SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE
//! SINTER SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN.
//!
//! Single-key commands run on the key's shard. The algebra (SINTER,
//! SUNION, SDIFF and their STORE and CARD forms) arrives at the first key's
//! shard, collects each key's members by visiting the owning shards in key
//! order ([`gather`]), computes, and stores on the destination's shard.

use crate::pubsub::notify::SET as NOTIFY_SET;
use bytes::Bytes;

use super::hash::{parse_scan, write_scan};
use super::random::{distinct_picks, parse_count, write_repeats};
use super::{CmdError, CmdResult, Ctx, Handler, Shard, drop_if_empty, typed, typed_or_new};
use crate::msg::ReplyTo;
use crate::resp::{Reply, errors};
use crate::spec::key_hash;
use crate::store::{Set, Str, Value};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("sadd", sadd),
    ("srem", srem),
    ("smembers", smembers),
    ("sismember", sismember),
    ("smismember", smismember),
    ("scard", scard),
    ("spop", spop),
    ("srandmember", srandmember),
    ("smove", smove),
    ("sinter", algebra),
    ("sintercard", algebra),
    ("sunion", algebra),
    ("sdiff", algebra),
    ("sinterstore", algebra),
    ("sunionstore", algebra),
    ("sdiffstore", algebra),
    ("sscan", sscan),
];

/// Writes members as a set reply (RESP3 `~`, RESP2 array).
fn write_members<'a>(out: &mut Reply, n: usize, items: impl Iterator<Item = &'a [u8]>) {
    out.set(n);
    for m in items {
        out.bulk(m);
    }
}

/// SADD key member...: how many were added. Errors: WRONGTYPE.
fn sadd(ctx: &mut Ctx) -> CmdResult {
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let set = typed_or_new::<Set>(&mut ctx.sh.dbs[ctx.db], h, &args[1], now, || {
        Set::for_member(&args[2], &enc)
    })?;
    let mut n = 0;
    for m in &args[2..] {
        n += set.add(m, &enc) as i64;
    }
    ctx.out.int(n);
    Ok(())
}

/// SREM key member...: how many were removed; the key goes when empty.
fn srem(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.remove_each::<Set>(|s, m| s.remove(m))?;
    ctx.out.int(n);
    Ok(())
}

/// SMEMBERS key: every member (a set in RESP3). Errors: WRONGTYPE.
fn smembers(ctx: &mut Ctx) -> CmdResult {
    let (found, out) = ctx.coll_out::<Set>()?;
    match found {
        Some(set) => {
            out.set(set.len());
            set.for_each(|m| out.bulk(m));
        }
        None => out.set(0),
    }
    Ok(())
}

/// SISMEMBER key member: 1 or 0.
fn sismember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let n = ctx.coll::<Set>()?.is_some_and(|s| s.contains(&args[2]));
    ctx.out.int(n as i64);
    Ok(())
}

/// SMISMEMBER key member...: an array of 1/0.
fn smismember(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (found, out) = ctx.coll_out::<Set>()?;
    let set = found;
    out.array(args.len() - 2);
    for m in &args[2..] {
        out.int(set.as_ref().is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

/// SCARD key: the number of members.
fn scard(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.coll::<Set>()?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// SPOP key [count] (<https://redis.io/docs/latest/commands/spop/>): one
/// random member (or null); with count up to count distinct members (a set
/// in RESP3; empty when the key is missing). O(1) per member. Errors:
/// `value is out of range, must be positive`, WRONGTYPE.
fn spop(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = ctx.pop_count(2)?;
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let d = &mut ctx.sh.dbs[ctx.db];
    let Some(set) = typed::<Set>(d, h, &args[1], now)? else {
        match count {
            None => ctx.out.null(),
            Some(_) => ctx.out.set(0),
        }
        return Ok(());
    };
    let mut popped = Vec::new();
    for _ in 0..count.unwrap_or(1) {
        match set.pop_random() {
            Some(m) => popped.push(m),
            None => break,
        }
    }
    drop_if_empty(d, h, &args[1], now);
    // Random: logged as the SREM of what it popped (Redis 7 does the same).
    ctx.sh.propagate_nothing();
    if !popped.is_empty() {
        let mut logged: Vec<&[u8]> = vec![b"SREM", &args[1]];
        logged.extend(popped.iter().map(|m| &m[..]));
        ctx.sh.propagate(ctx.db, &logged);
    }
    match count {
        None => ctx.out.bulk(&popped[0]),
        Some(_) => write_members(ctx.out, popped.len(), popped.iter().map(|m| &m[..])),
    }
    Ok(())
}

/// SRANDMEMBER key [count]: one random member (or null); positive count =
/// distinct members, negative = |count| picks that may repeat; O(1) per
/// pick. Errors: not-an-integer, `value is out of range, value must
/// between ...`, syntax error, WRONGTYPE, and
/// [`super::random::REPLY_TOO_BIG`] past the reply limit.
fn srandmember(ctx: &mut Ctx) -> CmdResult {
    let count = match ctx.args.len() {
        2 => None,
        3 => Some(parse_count(&ctx.args[2])?),
        _ => return Err(CmdError::Syntax),
    };
    let reply_limit = ctx.sh.tun.reply_limit();
    let (found, out) = ctx.coll_out::<Set>()?;
    let Some(set) = found else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let Some(c) = count else {
        out.bulk(&set.nth(fastrand::usize(..set.len())));
        return Ok(());
    };
    if c >= 0 {
        // Distinct members: always an array, RESP3 included (Redis's
        // srandmemberWithCountCommand), unlike SPOP's set.
        let picks = distinct_picks(set.len(), c as u64);
        out.array(picks.len());
        for i in picks {
            out.bulk(&set.nth(i));
        }
        return Ok(());
    }
    // Repeats allowed: an array of |count| picks, written as it goes.
    let mark = out.buf.len();
    let n = c.unsigned_abs();
    out.array(n as usize);
    let limit = reply_limit;
    match set {
        // Position lookups in a listpack walk it: list the members once.
        Set::Pack(_) => {
            let members = set.members();
            write_repeats(out, mark, limit, members.len(), n, |o, i| {
                o.bulk(&members[i])
            })
        }
        _ => write_repeats(out, mark, limit, set.len(), n, |o, i| o.bulk(&set.nth(i))),
    }
}

/// SMOVE source destination member: 1 if moved, 0 if not a member of the
/// source (or the source is missing, whatever the destination holds).
/// Errors: WRONGTYPE for either key (checked before moving).
fn smove(ctx: &mut Ctx) -> CmdResult {
    let (src, dst, m) = (
        ctx.args[1].clone(),
        ctx.args[2].clone(),
        ctx.args[3].clone(),
    );
    let hs = ctx.key_hash(1);
    let db = ctx.db;
    let now = ctx.now();
    let enc = ctx.sh.enc();
    // A missing source answers 0 before the destination's type is looked
    // at (Redis's order).
    let present = match typed::<Set>(&mut ctx.sh.dbs[db], hs, &src, now)? {
        Some(s) => s.contains(&m),
        None => {
            ctx.out.int(0);
            return Ok(());
        }
    };
    let target = ctx.sh.shard_of(&dst);
    let hd = key_hash(&dst);
    if target == ctx.sh.id {
        typed::<Set>(&mut ctx.sh.dbs[db], hd, &dst, now)?;
        if !present {
            ctx.out.int(0);
            return Ok(());
        }
        if src != dst {
            if let Some(s) = typed::<Set>(&mut ctx.sh.dbs[db], hs, &src, now)? {
                s.remove(&m);
            }
            drop_if_empty(&mut ctx.sh.dbs[db], hs, &src, now);
            let emptied = !ctx.sh.dbs[db].contains(hs, &src, now);
            let added = typed_or_new::<Set>(&mut ctx.sh.dbs[db], hd, &dst, now, || {
                Set::for_member(&m, &enc)
            })?
            .add(&m, &enc);
            smoved_events(ctx.sh, db, &src, &dst, emptied, added);
        }
        ctx.out.int(1);
        return Ok(());
    }
    ctx.deferred = true;
    let to = ctx.reply_to;
    let home = ctx.sh.id;
    // Destination type first; then remove at the source and add at the
    // destination (not atomic against other clients between the hops).
    ctx.sh.hop(target, move |sh| {
        let now = sh.now_ms;
        if typed::<Set>(&mut sh.dbs[db], hd, &dst, now).is_err() {
            return sh.reply_later(to, |r| r.error(errors::WRONGTYPE));
        }
        if !present {
            return sh.reply_later(to, |r| r.int(0));
        }
        sh.hop(home, move |sh| {
            let now = sh.now_ms;
            let removed = match typed::<Set>(&mut sh.dbs[db], hs, &src, now) {
                Ok(Some(s)) => s.remove(&m),
                _ => false,
            };
            drop_if_empty(&mut sh.dbs[db], hs, &src, now);
            if !removed {
                return sh.reply_later(to, |r| r.int(0));
            }
            let emptied = !sh.dbs[db].contains(hs, &src, now);
            sh.hop(target, move |sh| {
                let now = sh.now_ms;
                let enc = sh.enc();
                match typed_or_new::<Set>(&mut sh.dbs[db], hd, &dst, now, || {
                    Set::for_member(&m, &enc)
                }) {
                    Ok(s) => {
                        let added = s.add(&m, &enc);
                        smoved_events(sh, db, &src, &dst, emptied, added);
                        sh.reply_later(to, |r| r.int(1));
                    }
                    Err(e) => sh.reply_later(to, |r| r.error(e.text())),
                }
            });
        });
    });
    Ok(())
}

/// SMOVE's keyspace events, in Redis's order (`smoveCommand`): `srem` on
/// the source, `del` if that emptied it, `sadd` on the destination if the
/// member was new there.
fn smoved_events(sh: &mut Shard, db: usize, src: &[u8], dst: &[u8], emptied: bool, added: bool) {
    use crate::pubsub::notify::{GENERIC, SET};
    sh.notify(SET, "srem", db, src);
    if emptied {
        sh.notify(GENERIC, "del", db, src);
    }
    if added {
        sh.notify(SET, "sadd", db, dst);
    }
}

/// What one key of a multi-key read held.
pub enum Got<T> {
    Missing,
    Found(T),
}

/// Visits `keys` in order on their shards, reading each with `read` (which
/// may fail with WRONGTYPE), then calls `done` on the last shard visited
/// with every result in key order. The first error is replied to `to`.
pub fn gather<T: Send + 'static>(
    sh: &mut Shard,
    to: ReplyTo,
    db: usize,
    keys: Vec<Bytes>,
    read: fn(&Value) -> Result<T, CmdError>,
    done: impl FnOnce(&mut Shard, Vec<Got<T>>) + Send + 'static,
) {
    gather_from(sh, to, db, keys, Vec::new(), read, Box::new(done));
}

type Done<T> = Box<dyn FnOnce(&mut Shard, Vec<Got<T>>) + Send>;

fn gather_from<T: Send + 'static>(
    sh: &mut Shard,
    to: ReplyTo,
    db: usize,
    keys: Vec<Bytes>,
    mut acc: Vec<Got<T>>,
    read: fn(&Value) -> Result<T, CmdError>,
    done: Done<T>,
) {
    let target = sh.shard_of(&keys[acc.len()]);
    sh.hop(target, move |sh| {
        let now = sh.now_ms;
        while acc.len() < keys.len() && sh.shard_of(&keys[acc.len()]) == sh.id {
            let k = &keys[acc.len()];
            let got = match sh.dbs[db].get(key_hash(k), k, now) {
                None => Got::Missing,
                Some(e) => match read(&e.value) {
                    Ok(t) => Got::Found(t),
                    Err(err) => return sh.reply_later(to, |r| r.error(err.text())),
                },
            };
            acc.push(got);
        }
        if acc.len() == keys.len() {
            done(sh, acc);
        } else {
            gather_from(sh, to, db, keys, acc, read, done);
        }
    });
}

fn set_members(v: &Value) -> Result<Vec<Str>, CmdError> {
    match v {
        Value::Set(s) => Ok(s.members()),
        _ => Err(CmdError::WrongType),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// Computes the set operation over the gathered members, in key order.
fn compute(op: Op, sets: Vec<Got<Vec<Str>>>, limit: usize) -> Vec<Str> {
    let mut it = sets.into_iter().map(|g| match g {
        Got::Missing => Vec::new(),
        Got::Found(v) => v,
    });
    let first = it.next().unwrap_or_default();
    match op {
        Op::Union => {
            let mut seen: hashbrown::HashSet<Str> = first.into_iter().collect();
            for s in it {
                seen.extend(s);
            }
            seen.into_iter().collect()
        }
        Op::Diff => {
            let mut keep: hashbrown::HashSet<Str> = first.into_iter().collect();
            for s in it {
                for m in s {
                    keep.remove(&m);
                }
            }
            keep.into_iter().collect()
        }
        Op::Inter => {
            let rest: Vec<hashbrown::HashSet<Str>> = it.map(|s| s.into_iter().collect()).collect();
            let mut out = Vec::new();
            for m in first {
                if rest.iter().all(|s| s.contains(&m)) {
                    out.push(m);
                    if out.len() == limit {
                        break;
                    }
                }
            }
            out
        }
    }
}

/// SINTER/SUNION/SDIFF key... (a set reply), SINTERCARD numkeys key...
/// [LIMIT limit] (an integer), SINTERSTORE/SUNIONSTORE/SDIFFSTORE
/// destination key... (the stored size; an empty result deletes the
/// destination). Errors: WRONGTYPE, `numkeys should be greater than 0`,
/// `Number of keys can't be greater than number of args`, `LIMIT can't be
/// negative`, syntax error.
fn algebra(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase();
    let op = if name.starts_with("sinter") {
        Op::Inter
    } else if name.starts_with("sunion") {
        Op::Union
    } else {
        Op::Diff
    };
    let store = name.ends_with("store");
    let card = name == "sintercard";
    let mut limit = usize::MAX;
    let keys: Vec<Bytes> = if card {
        let n = ctx.range_arg(1, 1, i64::MAX, Some(super::list::NUMKEYS_POSITIVE))? as usize;
        if n + 2 > ctx.args.len() {
            return Err(CmdError::Msg(
                "ERR Number of keys can't be greater than number of args",
            ));
        }
        // LIMIT may repeat (the last wins); a non-integer is `LIMIT can't
        // be negative` too, as in Redis.
        let mut j = 2 + n;
        while j < ctx.args.len() {
            if ctx.arg_is(j, "LIMIT") && j + 1 < ctx.args.len() {
                let l = ctx.range_arg(j + 1, 0, i64::MAX, Some("ERR LIMIT can't be negative"))?;
                limit = if l > 0 { l as usize } else { usize::MAX };
                j += 2;
            } else {
                return Err(CmdError::Syntax);
            }
        }
        ctx.args[2..2 + n].to_vec()
    } else if store {
        ctx.args[2..].to_vec()
    } else {
        ctx.args[1..].to_vec()
    };
    let dst = store.then(|| ctx.args[1].clone());
    let db = ctx.db;
    let to = ctx.reply_to;
    ctx.deferred = true;
    gather(ctx.sh, to, db, keys, set_members, move |sh, sets| {
        let result = compute(op, sets, limit);
        if card {
            return sh.reply_later(to, |r| r.int(result.len() as i64));
        }
        match dst {
            None => sh.reply_later(to, |r| {
                write_members(r, result.len(), result.iter().map(|m| &m[..]))
            }),
            Some(dst) => {
                let target = sh.shard_of(&dst);
                let event = match op {
                    Op::Inter => "sinterstore",
                    Op::Union => "sunionstore",
                    Op::Diff => "sdiffstore",
                };
                sh.hop(target, move |sh| {
                    let enc = sh.enc();
                    let now = sh.now_ms;
                    let n = result.len();
                    let h = key_hash(&dst);
                    let existed = sh.dbs[db].remove(h, &dst, now).is_some();
                    if n > 0 {
                        let mut set = Set::for_member(&result[0], &enc);
                        for m in &result {
                            set.add(m, &enc);
                        }
                        sh.dbs[db].set(h, &dst, Value::Set(Box::new(set)), 0, now);
                    }
                    sh.notify_stored(NOTIFY_SET, event, db, &dst, n > 0, existed);
                    sh.reply_later(to, |r| r.int(n as i64));
                });
            }
        }
    });
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]: `[cursor, [member...]]`.
/// Errors, in Redis's order: `invalid cursor`, WRONGTYPE, the options'
/// errors (a missing key is an empty scan whatever the options).
fn sscan(ctx: &mut Ctx) -> CmdResult {
    super::parse_cursor(&ctx.args[2])?;
    let a = parse_scan(ctx);
    let mut items = Vec::new();
    let next = match ctx.coll::<Set>()? {
        Some(set) => {
            let a = a?;
            set.scan(a.cursor, a.count, |m| {
                if a.pattern.is_none_or(|p| crate::glob::matches(p, m, false)) {
                    items.push(m.to_vec());
                }
            })
        }
        None => 0,
    };
    write_scan(ctx.out, next, &items);
    Ok(())
}
