//! The list family (<https://redis.io/docs/latest/commands/?group=list>):
//! LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM
//! LTRIM LPOS LMOVE RPOPLPUSH LMPOP.
//!
//! Runs on the shard owning the key. LMOVE/RPOPLPUSH arrive at the source's
//! shard and hop to the destination's; LMPOP arrives at its first key's
//! shard and visits the others in key order. Every push marks the key for
//! clients blocked on it ([`Shard::key_ready`]).

use bytes::Bytes;

use super::{CmdError, CmdResult, Ctx, Handler, Shard, drop_if_empty, typed, typed_or_new};
use crate::msg::ReplyTo;
use crate::resp::Reply;
use crate::spec::key_hash;
use crate::store::{End, List, Str};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("lpush", lpush),
    ("rpush", rpush),
    ("lpushx", lpushx),
    ("rpushx", rpushx),
    ("lpop", lpop),
    ("rpop", rpop),
    ("llen", llen),
    ("lrange", lrange),
    ("lindex", lindex),
    ("lset", lset),
    ("linsert", linsert),
    ("lrem", lrem),
    ("ltrim", ltrim),
    ("lpos", lpos),
    ("lmove", lmove),
    ("rpoplpush", rpoplpush),
    ("lmpop", lmpop),
];

const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
pub const NUMKEYS_POSITIVE: &str = "ERR numkeys should be greater than 0";
pub const COUNT_POSITIVE: &str = "ERR count should be greater than 0";

/// Normalizes a Redis index (negative counts from the end) against `len`.
pub fn norm_index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

/// Clamps a Redis `start stop` range to `0..len`; `None` if empty.
pub fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { start + len } else { start };
    let mut e = if stop < 0 { stop + len } else { stop };
    s = s.max(0);
    if e >= len {
        e = len - 1;
    }
    (s <= e && s < len).then_some((s as usize, e as usize))
}

/// Pushes `vals` onto `key` (creating it unless `only_existing`); returns
/// the new length, or 0 when `only_existing` and the key is missing.
/// Errors: WRONGTYPE.
pub fn push_values(
    sh: &mut Shard,
    db: usize,
    key: &[u8],
    hash: u64,
    end: End,
    vals: &[impl AsRef<[u8]>],
    only_existing: bool,
) -> Result<usize, CmdError> {
    let now = sh.now_ms;
    let enc = sh.enc();
    let d = &mut sh.dbs[db];
    let list = if only_existing {
        match typed::<List>(d, hash, key, now)? {
            Some(l) => l,
            None => return Ok(0),
        }
    } else {
        typed_or_new::<List>(d, hash, key, now, List::default)?
    };
    for v in vals {
        list.push(end, v.as_ref(), &enc);
    }
    let n = list.len();
    sh.key_ready(db, key);
    Ok(n)
}

fn push(ctx: &mut Ctx, end: End, only_existing: bool) -> CmdResult {
    let h = ctx.key_hash(1);
    let n = push_values(
        ctx.sh,
        ctx.db,
        &ctx.args[1],
        h,
        end,
        &ctx.args[2..],
        only_existing,
    )?;
    ctx.out.int(n as i64);
    Ok(())
}

/// LPUSH key element... (<https://redis.io/docs/latest/commands/lpush/>):
/// the new length. Errors: WRONGTYPE.
fn lpush(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Left, false)
}

/// RPUSH key element...: the new length. Errors: WRONGTYPE.
fn rpush(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Right, false)
}

/// LPUSHX key element...: the new length, 0 (and no key) if missing.
fn lpushx(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Left, true)
}

/// RPUSHX key element...: as LPUSHX at the tail.
fn rpushx(ctx: &mut Ctx) -> CmdResult {
    push(ctx, End::Right, true)
}

/// Pops up to `count` elements from `end` of the list at `key`, deleting
/// it when emptied. `None` if the key is missing. Errors: WRONGTYPE.
pub fn pop_values(
    sh: &mut Shard,
    db: usize,
    key: &[u8],
    hash: u64,
    end: End,
    count: usize,
) -> Result<Option<Vec<Str>>, CmdError> {
    let now = sh.now_ms;
    let d = &mut sh.dbs[db];
    let Some(list) = typed::<List>(d, hash, key, now)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(count.min(list.len()));
    while out.len() < count {
        match list.pop(end) {
            Some(v) => out.push(v),
            None => break,
        }
    }
    drop_if_empty(d, hash, key, now);
    Ok(Some(out))
}

/// LPOP/RPOP key [count] (<https://redis.io/docs/latest/commands/lpop/>):
/// without count a bulk string or null; with count an array (empty for
/// count 0) or a null array when the key is missing. Errors: `value is out
/// of range, must be positive`, WRONGTYPE.
fn pop(ctx: &mut Ctx, end: End) -> CmdResult {
    if ctx.args.len() > 3 {
        return Err(ctx.arity_error());
    }
    let count = ctx.pop_count(2)?;
    let h = ctx.key_hash(1);
    let db = ctx.db;
    // Redis replies with an empty array for count 0 before touching the list
    // (but after the type check).
    if count == Some(0) {
        let now = ctx.now();
        return match typed::<List>(&mut ctx.sh.dbs[db], h, &ctx.args[1], now)? {
            Some(_) => {
                ctx.out.array(0);
                Ok(())
            }
            None => {
                ctx.out.null_array();
                Ok(())
            }
        };
    }
    let got = pop_values(ctx.sh, db, &ctx.args[1], h, end, count.unwrap_or(1))?;
    match (got, count) {
        (None, None) => ctx.out.null(),
        (None, Some(_)) => ctx.out.null_array(),
        (Some(v), None) => ctx.out.bulk(&v[0]),
        (Some(v), Some(_)) => {
            ctx.out.array(v.len());
            for e in &v {
                ctx.out.bulk(e);
            }
        }
    }
    Ok(())
}

fn lpop(ctx: &mut Ctx) -> CmdResult {
    pop(ctx, End::Left)
}

fn rpop(ctx: &mut Ctx) -> CmdResult {
    pop(ctx, End::Right)
}

/// LLEN key: the length, 0 if missing. Errors: WRONGTYPE.
fn llen(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.coll::<List>()?.map_or(0, |l| l.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// LRANGE key start stop (<https://redis.io/docs/latest/commands/lrange/>):
/// the elements in the inclusive range (negative indices from the end).
/// Errors: not-an-integer, WRONGTYPE.
fn lrange(ctx: &mut Ctx) -> CmdResult {
    let (start, stop) = (ctx.int_arg(2)?, ctx.int_arg(3)?);
    let (found, out) = ctx.coll_out::<List>()?;
    let Some(l) = found else {
        out.array(0);
        return Ok(());
    };
    match clamp_range(start, stop, l.len()) {
        None => out.array(0),
        Some((s, e)) => {
            let items = l.range(s, e);
            out.array(items.len());
            for x in items {
                out.bulk(x);
            }
        }
    }
    Ok(())
}

/// LINDEX key index: the element or null. Errors, in Redis's order (a
/// missing key is null whatever the index): WRONGTYPE, not-an-integer.
fn lindex(ctx: &mut Ctx) -> CmdResult {
    let i = ctx.int_arg(2);
    let (found, out) = ctx.coll_out::<List>()?;
    match found {
        Some(l) => match norm_index(i?, l.len()).and_then(|i| l.get(i)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        },
        None => out.null(),
    }
    Ok(())
}

/// LSET key index element: `+OK`. Errors, in Redis's order: `no such
/// key`, WRONGTYPE, not-an-integer, `index out of range`.
fn lset(ctx: &mut Ctx) -> CmdResult {
    let i = ctx.int_arg(2);
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let l = ctx.coll::<List>()?.ok_or(CmdError::NoSuchKey)?;
    let i = norm_index(i?, l.len()).ok_or(CmdError::Msg(INDEX_OUT_OF_RANGE))?;
    l.set(i, &args[3], &enc);
    ctx.out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 if the pivot
/// is absent, 0 if the key is missing. Errors: syntax error, WRONGTYPE.
fn linsert(ctx: &mut Ctx) -> CmdResult {
    let after = if ctx.arg_is(2, "AFTER") {
        true
    } else if ctx.arg_is(2, "BEFORE") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let db = ctx.db;
    let Some(l) = ctx.coll::<List>()? else {
        ctx.out.int(0);
        return Ok(());
    };
    let Some(p) = l.iter().position(|e| e == &args[3][..]) else {
        ctx.out.int(-1);
        return Ok(());
    };
    l.insert(p + after as usize, &args[4], &enc);
    let n = l.len();
    ctx.sh.key_ready(db, &args[1]);
    ctx.out.int(n as i64);
    Ok(())
}

/// LREM key count element: how many were removed. Errors: not-an-integer,
/// WRONGTYPE.
fn lrem(ctx: &mut Ctx) -> CmdResult {
    let count = ctx.int_arg(2)?;
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let d = &mut ctx.sh.dbs[ctx.db];
    let n = match typed::<List>(d, h, &args[1], now)? {
        Some(l) => l.remove(&args[3], count),
        None => 0,
    };
    drop_if_empty(d, h, &args[1], now);
    ctx.out.int(n as i64);
    Ok(())
}

/// LTRIM key start stop: `+OK`; the key is deleted when nothing remains.
/// Errors: not-an-integer, WRONGTYPE.
fn ltrim(ctx: &mut Ctx) -> CmdResult {
    let (start, stop) = (ctx.int_arg(2)?, ctx.int_arg(3)?);
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let d = &mut ctx.sh.dbs[ctx.db];
    if let Some(l) = typed::<List>(d, h, &args[1], now)? {
        match clamp_range(start, stop, l.len()) {
            Some((s, e)) => l.trim(s, Some(e)),
            None => l.trim(0, None),
        }
        drop_if_empty(d, h, &args[1], now);
    }
    ctx.out.ok();
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num] [MAXLEN len]
/// (<https://redis.io/docs/latest/commands/lpos/>): the index of the match
/// (or null); with COUNT an array of indices (0 = all). Errors: `RANK can't
/// be zero...`, `COUNT can't be negative`, `MAXLEN can't be negative`,
/// syntax error, WRONGTYPE.
fn lpos(ctx: &mut Ctx) -> CmdResult {
    let mut rank = 1i64;
    let mut count: Option<usize> = None;
    let mut maxlen = 0usize;
    // The option name is checked before its value, as Redis does; COUNT
    // and MAXLEN answer a non-integer with their own message too.
    let mut i = 3;
    while i < ctx.args.len() {
        if i + 1 >= ctx.args.len() {
            return Err(CmdError::Syntax);
        }
        if ctx.arg_is(i, "RANK") {
            let n = ctx.int_arg(i + 1)?;
            if n == 0 {
                return Err(CmdError::Msg(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                ));
            }
            // Redis 7.0 negates LONG_MIN here (undefined behaviour in C);
            // tandem refuses it.
            if n == i64::MIN {
                return Err(CmdError::Msg("ERR value is out of range"));
            }
            rank = n;
        } else if ctx.arg_is(i, "COUNT") {
            let n = ctx.range_arg(i + 1, 0, i64::MAX, Some("ERR COUNT can't be negative"))?;
            count = Some(n as usize);
        } else if ctx.arg_is(i, "MAXLEN") {
            let n = ctx.range_arg(i + 1, 0, i64::MAX, Some("ERR MAXLEN can't be negative"))?;
            maxlen = n as usize;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let args = ctx.args;
    let (found, out) = ctx.coll_out::<List>()?;
    let l = found;
    let want = match count {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 1,
    };
    let mut found = Vec::new();
    if let Some(l) = l {
        let len = l.len();
        let limit = if maxlen == 0 { len } else { maxlen.min(len) };
        let mut skip = rank.unsigned_abs() as usize - 1;
        let mut check = |idx: usize, e: &[u8]| {
            if e == &args[2][..] {
                if skip > 0 {
                    skip -= 1;
                } else {
                    found.push(idx);
                }
            }
            found.len() < want
        };
        if rank > 0 {
            for (idx, e) in l.iter().enumerate().take(limit) {
                if !check(idx, e) {
                    break;
                }
            }
        } else {
            for (k, e) in l.iter().rev().enumerate().take(limit) {
                if !check(len - 1 - k, e) {
                    break;
                }
            }
        }
    }
    match count {
        None => match found.first() {
            Some(&i) => out.int(i as i64),
            None => out.null(),
        },
        Some(_) => {
            out.array(found.len());
            for i in found {
                out.int(i as i64);
            }
        }
    }
    Ok(())
}

/// Parses a LEFT|RIGHT argument.
pub fn parse_end(a: &[u8]) -> Option<End> {
    if a.eq_ignore_ascii_case(b"LEFT") {
        Some(End::Left)
    } else if a.eq_ignore_ascii_case(b"RIGHT") {
        Some(End::Right)
    } else {
        None
    }
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
/// (<https://redis.io/docs/latest/commands/lmove/>): the moved element, or
/// null when the source is empty. Errors: syntax error, WRONGTYPE (nothing
/// moves: on one shard the destination's type is checked first, across
/// shards the element goes back, unseen, under the transaction's locks).
fn lmove(ctx: &mut Ctx) -> CmdResult {
    let from = parse_end(&ctx.args[3]).ok_or(CmdError::Syntax)?;
    let to = parse_end(&ctx.args[4]).ok_or(CmdError::Syntax)?;
    move_element(ctx, from, to)
}

/// RPOPLPUSH source destination: LMOVE source destination RIGHT LEFT.
fn rpoplpush(ctx: &mut Ctx) -> CmdResult {
    move_element(ctx, End::Right, End::Left)
}

fn move_element(ctx: &mut Ctx, from: End, to: End) -> CmdResult {
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    let hs = ctx.key_hash(1);
    let db = ctx.db;
    let now = ctx.now();
    if typed::<List>(&mut ctx.sh.dbs[db], hs, &src, now)?.is_none() {
        ctx.out.null();
        return Ok(());
    }
    if ctx.sh.shard_of(&dst) == ctx.sh.id {
        match move_here(ctx.sh, db, &src, &dst, from, to)? {
            Some(v) => ctx.out.bulk(&v),
            None => ctx.out.null(),
        }
        return Ok(());
    }
    // Across shards the coordinated transaction holds both keys: pop here,
    // push there (the element comes back if the destination is not a list).
    let Some(v) = pop_values(ctx.sh, db, &src, hs, from, 1)?.and_then(|mut v| v.pop()) else {
        ctx.out.null();
        return Ok(());
    };
    ctx.deferred = true;
    let reply_to = ctx.reply_to;
    push_popped(ctx.sh, reply_to, db, src, dst, v, from, to);
    Ok(())
}

/// LMOVE when both keys live on this shard: checks the destination's type,
/// pops from `src`, pushes onto `dst`; the moved element, or `None` when
/// `src` is missing. Errors: WRONGTYPE (nothing moved).
pub fn move_here(
    sh: &mut Shard,
    db: usize,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Str>, CmdError> {
    let hd = key_hash(dst);
    let now = sh.now_ms;
    typed::<List>(&mut sh.dbs[db], hd, dst, now)?;
    let Some(v) = pop_values(sh, db, src, key_hash(src), from, 1)?.and_then(|mut v| v.pop()) else {
        return Ok(None);
    };
    push_values(sh, db, dst, hd, to, &[&v[..]], false)?;
    let emptied = !sh.dbs[db].contains(key_hash(src), src, now);
    moved_events(sh, db, src, dst, from, to, emptied);
    Ok(Some(v))
}

/// LMOVE's keyspace events, in Redis's order (`lmoveGenericCommand`): the
/// push on the destination, the pop on the source, `del` if that emptied
/// it.
fn moved_events(
    sh: &mut Shard,
    db: usize,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    emptied: bool,
) {
    use crate::pubsub::notify::{GENERIC, LIST};
    let push = if to == End::Left { "lpush" } else { "rpush" };
    sh.notify(LIST, push, db, dst);
    sh.notify(LIST, list_event(from), db, src);
    if emptied {
        sh.notify(GENERIC, "del", db, src);
    }
}

/// The rest of a cross-shard move whose element `v` was just popped from
/// `src` on this shard (LMOVE, or a served BLMOVE), while the caller's transaction
/// holds both keys: pushes `v` onto `dst` on its shard and answers `v`. If
/// `dst` holds another type, `v` goes back to the end of `src` it came from
/// and the answer is WRONGTYPE: nothing moved, as when Redis checks the
/// destination first (`lmoveGenericCommand`).
#[allow(clippy::too_many_arguments)]
pub fn push_popped(
    sh: &mut Shard,
    reply_to: ReplyTo,
    db: usize,
    src: Bytes,
    dst: Bytes,
    v: Str,
    from: End,
    to: End,
) {
    let home = sh.id;
    let target = sh.shard_of(&dst);
    let emptied = !sh.dbs[db].contains(key_hash(&src), &src, sh.now_ms);
    sh.hop(target, move |sh| {
        match push_values(sh, db, &dst, key_hash(&dst), to, &[&v[..]], false) {
            Ok(_) => {
                moved_events(sh, db, &src, &dst, from, to, emptied);
                sh.reply_later(reply_to, |r| r.bulk(&v))
            }
            Err(e) => sh.hop(home, move |sh| {
                // Back where it was; `src` is still locked, so nobody saw it gone.
                let _ = push_values(sh, db, &src, key_hash(&src), from, &[&v[..]], false);
                sh.reply_later(reply_to, |r| r.error(e.text()));
            }),
        }
    });
}

/// Parses the `numkeys key... <first>|<second> [COUNT count]` tail of
/// LMPOP/ZMPOP (and their blocking forms) starting at the numkeys argument
/// `at`; returns (keys, whether the first word was given, count).
/// Errors: `numkeys should be greater than 0`,
/// `count should be greater than 0`, syntax error.
pub fn parse_mpop(
    args: &[Bytes],
    at: usize,
    min_max: (&str, &str),
) -> Result<(Vec<Bytes>, bool, usize), CmdError> {
    let n = super::range_i64(&args[at], 1, i64::MAX, Some(NUMKEYS_POSITIVE))? as usize;
    if at + 1 + n >= args.len() {
        return Err(CmdError::Syntax);
    }
    let keys = args[at + 1..at + 1 + n].to_vec();
    let w = &args[at + 1 + n];
    let first = if w.eq_ignore_ascii_case(min_max.0.as_bytes()) {
        true
    } else if w.eq_ignore_ascii_case(min_max.1.as_bytes()) {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    // One COUNT at most, its value checked as it is met (Redis's loop).
    let mut count = None;
    let mut j = at + 2 + n;
    while j < args.len() {
        if count.is_none() && args[j].eq_ignore_ascii_case(b"COUNT") && j + 1 < args.len() {
            count =
                Some(super::range_i64(&args[j + 1], 1, i64::MAX, Some(COUNT_POSITIVE))? as usize);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let count = count.unwrap_or(1);
    Ok((keys, first, count))
}

/// Writes the `[key, [element...]]` reply of LMPOP/BLMPOP.
pub fn write_mpop(r: &mut Reply, key: &[u8], vals: &[Str]) {
    r.array(2);
    r.bulk(key);
    r.array(vals.len());
    for v in vals {
        r.bulk(v);
    }
}

/// The keyspace event of a list pop from `end`.
pub fn list_event(end: End) -> &'static str {
    match end {
        End::Left => "lpop",
        End::Right => "rpop",
    }
}

/// LMPOP numkeys key... LEFT|RIGHT [COUNT count]
/// (<https://redis.io/docs/latest/commands/lmpop/>): pops from the first
/// non-empty list in key order; `[key, [elements]]` or a null array.
/// Errors: as [`parse_mpop`], WRONGTYPE.
fn lmpop(ctx: &mut Ctx) -> CmdResult {
    let (keys, left, count) = parse_mpop(ctx.args, 1, ("LEFT", "RIGHT"))?;
    let end = if left { End::Left } else { End::Right };
    ctx.deferred = true;
    let pop = move |sh: &mut Shard, db: usize, k: &[u8]| {
        let got = pop_values(sh, db, k, key_hash(k), end, count);
        if matches!(&got, Ok(Some(v)) if !v.is_empty()) {
            let event = list_event(end);
            sh.notify_popped(crate::pubsub::notify::LIST, event, db, k);
        }
        got
    };
    pop_first_nonempty(ctx.sh, ctx.reply_to, ctx.db, keys, 0, pop, write_mpop);
    Ok(())
}

/// Tries `keys[i..]` in key order, hopping to each key's shard: `pop`
/// takes from one key (`None` or an empty vec when there is nothing) and
/// the first non-empty result is answered with `write(key, items)`; a null
/// array when every key is empty. Shared by LMPOP and ZMPOP.
pub fn pop_first_nonempty<T, P>(
    sh: &mut Shard,
    to: ReplyTo,
    db: usize,
    keys: Vec<Bytes>,
    i: usize,
    pop: P,
    write: fn(&mut Reply, &[u8], &[T]),
) where
    T: Send + 'static,
    P: Fn(&mut Shard, usize, &[u8]) -> Result<Option<Vec<T>>, CmdError> + Send + 'static,
{
    let target = sh.shard_of(&keys[i]);
    sh.hop(target, move |sh| {
        let mut i = i;
        while i < keys.len() && sh.shard_of(&keys[i]) == sh.id {
            match pop(sh, db, &keys[i]) {
                Err(e) => return sh.reply_later(to, |r| r.error(e.text())),
                Ok(Some(v)) if !v.is_empty() => {
                    let k = keys[i].clone();
                    return sh.reply_later(to, |r| write(r, &k, &v));
                }
                Ok(_) => i += 1,
            }
        }
        if i == keys.len() {
            sh.reply_later(to, |r| r.null_array());
        } else {
            pop_first_nonempty(sh, to, db, keys, i, pop, write);
        }
    });
}
