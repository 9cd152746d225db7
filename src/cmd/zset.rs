//! The sorted-set family
//! (<https://redis.io/docs/latest/commands/?group=sorted-set>): ZADD ZINCRBY
//! ZREM ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANK ZREVRANK ZRANGE
//! ZRANGESTORE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX
//! ZREVRANGE ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX
//! ZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF ZUNIONSTORE ZINTERSTORE ZDIFFSTORE
//! ZINTERCARD ZSCAN.
//!
//! Every range is turned into a rank interval with
//! [`ZSet::count_below`] (O(log n) on the skiplist), then walked; scores
//! are formatted as Redis 7.0's `%.17g` ([`crate::resp::write::fmt_double`]).
//! Multi-key commands arrive at their first key's shard and visit the
//! others in key order ([`super::set::gather`]).

use bytes::Bytes;

use super::hash::{parse_scan, write_scan};
use super::list::{clamp_range, parse_mpop, pop_first_nonempty};
use super::random::{distinct_picks, parse_with, write_repeats};
use super::set::{Got, gather};
use super::{CmdError, CmdResult, Ctx, Handler, Shard, drop_if_empty, typed, typed_or_new};
use crate::msg::ReplyTo;
use crate::resp::Reply;
use crate::spec::key_hash;
use crate::store::zset::Added;
use crate::store::{Str, Value, ZSet};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("zadd", zadd),
    ("zincrby", zincrby),
    ("zrem", zrem),
    ("zscore", zscore),
    ("zmscore", zmscore),
    ("zcard", zcard),
    ("zcount", zcount),
    ("zlexcount", zcount),
    ("zrank", zrank),
    ("zrevrank", zrank),
    ("zrange", zrange),
    ("zrangestore", zrangestore),
    ("zrangebyscore", zrange),
    ("zrevrangebyscore", zrange),
    ("zrangebylex", zrange),
    ("zrevrangebylex", zrange),
    ("zrevrange", zrange),
    ("zremrangebyrank", zremrange),
    ("zremrangebyscore", zremrange),
    ("zremrangebylex", zremrange),
    ("zpopmin", zpop),
    ("zpopmax", zpop),
    ("zmpop", zmpop),
    ("zrandmember", zrandmember),
    ("zunion", combine),
    ("zinter", combine),
    ("zdiff", combine),
    ("zunionstore", combine),
    ("zinterstore", combine),
    ("zdiffstore", combine),
    ("zintercard", combine),
    ("zscan", zscan),
];

const NOT_FLOAT_RANGE: &str = "ERR min or max is not a float";
const NOT_LEX_RANGE: &str = "ERR min or max not valid string range item";
const NAN_SCORE: &str = "ERR resulting score is not a number (NaN)";

/// A score as ZADD, ZINCRBY and WEIGHTS read it (Redis `string2d`: the
/// whole argument is one strtod number, hex floats and `inf` included, no
/// overflow, not NaN). Errors: `value is not a valid float`.
pub fn parse_score(a: &[u8]) -> Result<f64, CmdError> {
    super::cfloat::string2d(a).ok_or(CmdError::NotFloat)
}

/// One end of a score range: `1.5`, `(1.5` (exclusive), `-inf`, `+inf`.
#[derive(Clone, Copy, Debug)]
pub struct ScoreBound {
    pub v: f64,
    pub excl: bool,
}

/// Errors: `min or max is not a float`. Parsed as Redis's `zslParseRange`
/// does, with a bare strtod over the C string: leading blanks are skipped,
/// an empty bound is 0 (so `(` is an exclusive 0), an overflow is ±inf;
/// only trailing garbage and NaN are refused.
pub fn parse_score_bound(a: &[u8]) -> Result<ScoreBound, CmdError> {
    let a = a.split(|&c| c == 0).next().unwrap_or_default();
    let (excl, num) = match a.first() {
        Some(b'(') => (true, &a[1..]),
        _ => (false, a),
    };
    let (v, used, _) = super::cfloat::strtod(num);
    if used != num.len() || v.is_nan() {
        return Err(CmdError::Msg(NOT_FLOAT_RANGE));
    }
    Ok(ScoreBound { v, excl })
}

/// One end of a lex range: `-`, `+`, `[x` (inclusive), `(x` (exclusive).
#[derive(Clone, Debug)]
pub enum LexBound {
    Min,
    Max,
    Incl(Bytes),
    Excl(Bytes),
}

/// Errors: `min or max not valid string range item`.
pub fn parse_lex_bound(a: &Bytes) -> Result<LexBound, CmdError> {
    match a.first() {
        Some(b'-') if a.len() == 1 => Ok(LexBound::Min),
        Some(b'+') if a.len() == 1 => Ok(LexBound::Max),
        Some(b'[') => Ok(LexBound::Incl(a.slice(1..))),
        Some(b'(') => Ok(LexBound::Excl(a.slice(1..))),
        _ => Err(CmdError::Msg(NOT_LEX_RANGE)),
    }
}

/// What selects a range.
#[derive(Clone, Debug)]
pub enum Range {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

/// The rank interval `lo..hi` (ascending ranks) a range covers.
pub fn rank_interval(z: &ZSet, r: &Range, rev: bool) -> (usize, usize) {
    let len = z.len();
    match r {
        Range::Rank(s, e) => match clamp_range(*s, *e, len) {
            None => (0, 0),
            Some((s, e)) if rev => (len - 1 - e, len - s),
            Some((s, e)) => (s, e + 1),
        },
        Range::Score(min, max) => {
            let lo = z.count_below(|s, _| s < min.v || (min.excl && s == min.v));
            let hi = z.count_below(|s, _| s < max.v || (!max.excl && s == max.v));
            (lo, hi.max(lo))
        }
        Range::Lex(min, max) => {
            let lo = z.count_below(|_, m| match min {
                LexBound::Min => false,
                LexBound::Max => true,
                LexBound::Incl(x) => m < &x[..],
                LexBound::Excl(x) => m <= &x[..],
            });
            let hi = z.count_below(|_, m| match max {
                LexBound::Min => false,
                LexBound::Max => true,
                LexBound::Incl(x) => m <= &x[..],
                LexBound::Excl(x) => m < &x[..],
            });
            (lo, hi.max(lo))
        }
    }
}

/// The (member, score) pairs of a range, in reply order, after LIMIT
/// (`offset`, `count` < 0 = all).
pub fn select(z: &ZSet, r: &Range, rev: bool, limit: Option<(i64, i64)>) -> Vec<(Str, f64)> {
    let (lo, hi) = rank_interval(z, r, rev);
    let (offset, count) = match limit {
        Some((o, _)) if o < 0 => return Vec::new(),
        Some((o, c)) => (o as usize, c),
        None => (0, -1),
    };
    let n = hi - lo;
    if offset >= n {
        return Vec::new();
    }
    let take = if count < 0 {
        n - offset
    } else {
        (count as usize).min(n - offset)
    };
    if rev {
        let end = hi - offset;
        z.range(end - take, end, true)
    } else {
        let start = lo + offset;
        z.range(start, start + take, false)
    }
}

/// Writes members (with scores: flat pairs in RESP2, [member, score] pairs
/// in RESP3).
pub fn write_range(out: &mut Reply, items: &[(Str, f64)], scores: bool) {
    if !scores {
        out.array(items.len());
        for (m, _) in items {
            out.bulk(m);
        }
    } else if out.resp3 {
        out.array(items.len());
        for (m, s) in items {
            out.array(2);
            out.bulk(m);
            out.double(*s);
        }
    } else {
        out.array(items.len() * 2);
        for (m, s) in items {
            out.bulk(m);
            out.double(*s);
        }
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
/// (<https://redis.io/docs/latest/commands/zadd/>): the number of members
/// added (changed with CH); with INCR the new score, or null when a
/// condition blocked it. Errors: `XX and NX options at the same time are
/// not compatible`, `GT, LT, and/or NX options at the same time are not
/// compatible`, `INCR option supports a single increment-element pair`,
/// `value is not a valid float`, `resulting score is not a number (NaN)`,
/// syntax error, WRONGTYPE.
pub(super) fn zadd(ctx: &mut Ctx) -> CmdResult {
    let (mut nx, mut xx, mut gt, mut lt, mut ch, mut incr) =
        (false, false, false, false, false, false);
    let mut i = 2;
    while i < ctx.args.len() {
        let a = &ctx.args[i];
        match a.to_ascii_uppercase().as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            b"CH" => ch = true,
            b"INCR" => incr = true,
            _ => break,
        }
        i += 1;
    }
    let pairs = &ctx.args[i..];
    if pairs.is_empty() || pairs.len() % 2 != 0 {
        return Err(CmdError::Syntax);
    }
    if nx && xx {
        return Err(CmdError::Msg(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (gt && nx) || (lt && nx) || (gt && lt) {
        return Err(CmdError::Msg(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if incr && pairs.len() > 2 {
        return Err(CmdError::Msg(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let scores: Vec<f64> = pairs
        .chunks(2)
        .map(|p| parse_score(&p[0]))
        .collect::<Result<_, _>>()?;
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let db = ctx.db;
    let d = &mut ctx.sh.dbs[db];
    if xx && typed::<ZSet>(d, h, &args[1], now)?.is_none() {
        if incr {
            ctx.out.null();
        } else {
            ctx.out.int(0);
        }
        return Ok(());
    }
    let z = typed_or_new::<ZSet>(d, h, &args[1], now, ZSet::default)?;
    let (mut added, mut changed) = (0i64, 0i64);
    let mut incr_result = None;
    for (p, &score) in pairs.chunks(2).zip(&scores) {
        let m = &p[1];
        let old = z.score(m);
        let new = match (old, incr) {
            (Some(o), true) => o + score,
            _ => score,
        };
        if new.is_nan() {
            drop_if_empty(d, h, &args[1], now);
            return Err(CmdError::Msg(NAN_SCORE));
        }
        let blocked = match old {
            Some(o) => nx || (gt && new <= o) || (lt && new >= o),
            None => xx,
        };
        if blocked {
            continue;
        }
        match z.add(
            m,
            new,
            enc.zset_max_listpack_entries,
            enc.zset_max_listpack_value,
        ) {
            Added::New => {
                added += 1;
                changed += 1;
            }
            Added::Updated => changed += 1,
            Added::Same => {}
        }
        incr_result = Some(new);
    }
    drop_if_empty(d, h, &args[1], now);
    ctx.sh.key_ready(db, &args[1]);
    // Redis notifies when a member was added or its score changed, which
    // the reply (without CH) does not tell; ZINCRBY's `zincr` comes from
    // `cmd::notify`.
    if changed > 0 && ctx.arg_is(0, "zadd") {
        let event = if incr { "zincr" } else { "zadd" };
        ctx.sh
            .notify(crate::pubsub::notify::ZSET, event, db, &args[1]);
    }
    if incr {
        match incr_result {
            Some(v) => ctx.out.double(v),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.int(if ch { changed } else { added });
    }
    Ok(())
}

/// ZINCRBY key increment member: the new score. Errors: syntax error (an
/// increment that is a ZADD option word), `value is not a valid float`,
/// `resulting score is not a number (NaN)`, WRONGTYPE.
fn zincrby(ctx: &mut Ctx) -> CmdResult {
    // Redis runs ZINCRBY through ZADD's parser: an increment spelled like a
    // ZADD option leaves an odd number of arguments, a syntax error.
    if ["NX", "XX", "CH", "INCR", "GT", "LT"]
        .iter()
        .any(|o| ctx.arg_is(2, o))
    {
        return Err(CmdError::Syntax);
    }
    let by = parse_score(&ctx.args[2])?;
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let db = ctx.db;
    let d = &mut ctx.sh.dbs[db];
    let z = typed_or_new::<ZSet>(d, h, &args[1], now, ZSet::default)?;
    // A new member gets the increment itself (so -0 stays -0, as Redis).
    let new = match z.score(&args[3]) {
        Some(old) => old + by,
        None => by,
    };
    if new.is_nan() {
        drop_if_empty(d, h, &args[1], now);
        return Err(CmdError::Msg(NAN_SCORE));
    }
    z.add(
        &args[3],
        new,
        enc.zset_max_listpack_entries,
        enc.zset_max_listpack_value,
    );
    ctx.sh.key_ready(db, &args[1]);
    ctx.out.double(new);
    Ok(())
}

/// ZREM key member...: how many were removed.
fn zrem(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.remove_each::<ZSet>(|z, m| z.remove(m).is_some())?;
    ctx.out.int(n);
    Ok(())
}

/// ZSCORE key member: the score (a double) or null.
fn zscore(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let s = ctx.coll::<ZSet>()?.and_then(|z| z.score(&args[2]));
    match s {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

/// ZMSCORE key member...: an array of scores or nulls.
fn zmscore(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (found, out) = ctx.coll_out::<ZSet>()?;
    let z = found;
    out.array(args.len() - 2);
    for m in &args[2..] {
        match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
    Ok(())
}

/// ZCARD key: the number of members.
fn zcard(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.coll::<ZSet>()?.map_or(0, |z| z.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// ZCOUNT key min max (a score range) / ZLEXCOUNT key min max (a lex
/// range): how many members the range holds. O(log n). Errors: `min or max
/// is not a float`, `min or max not valid string range item`, WRONGTYPE.
fn zcount(ctx: &mut Ctx) -> CmdResult {
    let r = if ctx.arg_is(0, "zlexcount") {
        Range::Lex(
            parse_lex_bound(&ctx.args[2])?,
            parse_lex_bound(&ctx.args[3])?,
        )
    } else {
        Range::Score(
            parse_score_bound(&ctx.args[2])?,
            parse_score_bound(&ctx.args[3])?,
        )
    };
    let n = ctx.coll::<ZSet>()?.map_or(0, |z| {
        let (lo, hi) = rank_interval(z, &r, false);
        hi - lo
    });
    ctx.out.int(n as i64);
    Ok(())
}

/// ZRANK/ZREVRANK key member [WITHSCORE]: the 0-based rank (or null);
/// WITHSCORE gives `[rank, score]`. O(log n). Errors: syntax error,
/// WRONGTYPE.
fn zrank(ctx: &mut Ctx) -> CmdResult {
    let rev = ctx.arg_is(0, "zrevrank");
    let with = match ctx.args.len() {
        3 => false,
        4 if ctx.arg_is(3, "WITHSCORE") => true,
        _ => return Err(CmdError::Syntax),
    };
    let args = ctx.args;
    let (found, out) = ctx.coll_out::<ZSet>()?;
    let found = found.and_then(|z| {
        let r = z.rank(&args[2])?;
        let s = z.score(&args[2])?;
        Some((if rev { z.len() - 1 - r } else { r }, s))
    });
    match (found, with) {
        (None, false) => out.null(),
        (None, true) => out.null_array(),
        (Some((r, _)), false) => out.int(r as i64),
        (Some((r, s)), true) => {
            out.array(2);
            out.int(r as i64);
            out.double(s);
        }
    }
    Ok(())
}

/// A parsed range query of the ZRANGE family.
struct Query {
    range: Range,
    rev: bool,
    limit: Option<(i64, i64)>,
    scores: bool,
}

/// Parses ZRANGE-family arguments: `min max` at `at`, `at + 1`, options
/// after. `name` decides the legacy forms' fixed options. Follows Redis's
/// `zrangeGenericCommand`: options are read in order and the first bad one
/// is a syntax error (BYSCORE/BYLEX/REV only once, and only for ZRANGE and
/// ZRANGESTORE; WITHSCORES for every form but ZRANGESTORE; LIMIT for all,
/// its numbers checked as met); then the combinations (LIMIT with a rank
/// range is refused only when its count is not -1, as in Redis), then the
/// range itself.
fn parse_query(name: &str, args: &[Bytes], at: usize) -> Result<Query, CmdError> {
    #[derive(PartialEq)]
    enum By {
        Auto,
        Rank,
        Score,
        Lex,
    }
    let store = name == "zrangestore";
    let (mut by, mut rev) = match name {
        "zrangebyscore" => (By::Score, Some(false)),
        "zrevrangebyscore" => (By::Score, Some(true)),
        "zrangebylex" => (By::Lex, Some(false)),
        "zrevrangebylex" => (By::Lex, Some(true)),
        "zrevrange" => (By::Rank, Some(true)),
        "zrange" | "zrangestore" => (By::Auto, None),
        _ => (By::Rank, Some(false)),
    };
    let (mut offset, mut count) = (0i64, -1i64);
    let mut scores = false;
    let mut i = at + 2;
    while i < args.len() {
        let a = &args[i];
        if !store && a.eq_ignore_ascii_case(b"WITHSCORES") {
            scores = true;
        } else if a.eq_ignore_ascii_case(b"LIMIT") && i + 2 < args.len() {
            offset = crate::resp::parse::parse_i64(&args[i + 1]).ok_or(CmdError::NotInteger)?;
            count = crate::resp::parse::parse_i64(&args[i + 2]).ok_or(CmdError::NotInteger)?;
            i += 2;
        } else if rev.is_none() && a.eq_ignore_ascii_case(b"REV") {
            rev = Some(true);
        } else if by == By::Auto && a.eq_ignore_ascii_case(b"BYLEX") {
            by = By::Lex;
        } else if by == By::Auto && a.eq_ignore_ascii_case(b"BYSCORE") {
            by = By::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let rev = rev.unwrap_or(false);
    if by == By::Auto {
        by = By::Rank;
    }
    if count != -1 && by == By::Rank {
        return Err(CmdError::Msg(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if scores && by == By::Lex {
        return Err(CmdError::Msg(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // Reverse score and lex queries name the larger bound first.
    let (a, b) = if rev && by != By::Rank {
        (&args[at + 1], &args[at])
    } else {
        (&args[at], &args[at + 1])
    };
    let range = match by {
        By::Score => Range::Score(parse_score_bound(a)?, parse_score_bound(b)?),
        By::Lex => Range::Lex(parse_lex_bound(a)?, parse_lex_bound(b)?),
        _ => {
            let s = crate::resp::parse::parse_i64(a).ok_or(CmdError::NotInteger)?;
            let e = crate::resp::parse::parse_i64(b).ok_or(CmdError::NotInteger)?;
            Range::Rank(s, e)
        }
    };
    // A rank range ignores LIMIT (only `LIMIT <offset> -1` gets this far).
    let limit = (by != By::Rank).then_some((offset, count));
    Ok(Query {
        range,
        rev,
        limit,
        scores,
    })
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count]
/// [WITHSCORES] (<https://redis.io/docs/latest/commands/zrange/>) and the
/// legacy ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX,
/// ZREVRANGE forms. Errors: `min or max is not a float`, `min or max not
/// valid string range item`, the LIMIT/WITHSCORES combination errors,
/// not-an-integer, syntax error, WRONGTYPE.
fn zrange(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase();
    let q = parse_query(&name, ctx.args, 2)?;
    let items = match ctx.coll::<ZSet>()? {
        Some(z) => select(z, &q.range, q.rev, q.limit),
        None => Vec::new(),
    };
    write_range(ctx.out, &items, q.scores);
    Ok(())
}

/// How a stored sorted-set result is built, which decides whether a -0
/// score survives (a listpack stores whole scores as integers, so -0
/// becomes 0; a skiplist keeps -0).
#[derive(Clone, Copy)]
pub(super) enum Build {
    /// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE: a skiplist, converted to a
    /// listpack at the end when small enough (Redis's
    /// `zsetConvertToListpackIfNeeded`).
    SkipThenConvert,
    /// ZRANGESTORE: a listpack unless the result is known to exceed
    /// `zset-max-listpack-entries`, then members added one by one,
    /// converting when a limit is passed (Redis's `zrangeResultBeginStore`).
    PackUnless { known_len: Option<usize> },
}

/// Replaces `dst` with a sorted set of `items` (deleting it when empty)
/// and answers with the count.
/// `event` is the keyspace event it publishes (`zunionstore`, ...).
pub(super) fn store_result(
    sh: &mut Shard,
    to: ReplyTo,
    db: usize,
    dst: Bytes,
    items: Vec<(Str, f64)>,
    build: Build,
    event: &'static str,
) {
    let target = sh.shard_of(&dst);
    sh.hop(target, move |sh| {
        let enc = sh.enc();
        let now = sh.now_ms;
        let h = key_hash(&dst);
        let existed = sh.dbs[db].remove(h, &dst, now).is_some();
        let n = items.len();
        sh.notify_stored(crate::pubsub::notify::ZSET, event, db, &dst, n > 0, existed);
        if n > 0 {
            let (max_entries, max_value) =
                (enc.zset_max_listpack_entries, enc.zset_max_listpack_value);
            let skip = match build {
                Build::SkipThenConvert => {
                    n > max_entries || items.iter().any(|(m, _)| m.len() > max_value)
                }
                Build::PackUnless { known_len } => known_len.is_some_and(|l| l > max_entries),
            };
            let mut z = if skip {
                ZSet::Skip(Box::default())
            } else {
                ZSet::default()
            };
            for (m, s) in &items {
                z.add(m, *s, max_entries, max_value);
            }
            sh.dbs[db].set(h, &dst, Value::ZSet(Box::new(z)), 0, now);
            sh.key_ready(db, &dst);
        }
        sh.reply_later(to, |r| r.int(n as i64));
    });
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
/// the number of members stored in dst (replacing it). Errors: as ZRANGE.
fn zrangestore(ctx: &mut Ctx) -> CmdResult {
    let q = parse_query("zrangestore", ctx.args, 3)?;
    let (dst, src) = (ctx.args[1].clone(), ctx.args[2].clone());
    let to = ctx.reply_to;
    let db = ctx.db;
    ctx.deferred = true;
    let sel: fn(&Value) -> Result<Value, CmdError> = |v| match v {
        Value::ZSet(_) => Ok(v.clone()),
        _ => Err(CmdError::WrongType),
    };
    gather(ctx.sh, to, db, vec![src], sel, move |sh, got| {
        let items = match got.into_iter().next() {
            Some(Got::Found(Value::ZSet(z))) => select(&z, &q.range, q.rev, q.limit),
            _ => Vec::new(),
        };
        // Redis knows the length up front only for a rank range.
        let known_len = matches!(q.range, Range::Rank(..)).then_some(items.len());
        store_result(
            sh,
            to,
            db,
            dst,
            items,
            Build::PackUnless { known_len },
            "zrangestore",
        );
    });
    Ok(())
}

/// ZREMRANGEBYRANK key start stop / ZREMRANGEBYSCORE key min max /
/// ZREMRANGEBYLEX key min max: how many were removed. Errors: as the
/// matching range parse, WRONGTYPE.
fn zremrange(ctx: &mut Ctx) -> CmdResult {
    let range = if ctx.arg_is(0, "zremrangebyrank") {
        Range::Rank(ctx.int_arg(2)?, ctx.int_arg(3)?)
    } else if ctx.arg_is(0, "zremrangebyscore") {
        Range::Score(
            parse_score_bound(&ctx.args[2])?,
            parse_score_bound(&ctx.args[3])?,
        )
    } else {
        Range::Lex(
            parse_lex_bound(&ctx.args[2])?,
            parse_lex_bound(&ctx.args[3])?,
        )
    };
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let d = &mut ctx.sh.dbs[ctx.db];
    let mut n = 0;
    if let Some(z) = typed::<ZSet>(d, h, &args[1], now)? {
        let (lo, hi) = rank_interval(z, &range, false);
        for (m, _) in z.range(lo, hi, false) {
            z.remove(&m);
            n += 1;
        }
        drop_if_empty(d, h, &args[1], now);
    }
    ctx.out.int(n);
    Ok(())
}

/// Pops up to `count` lowest (`min`) or highest members of the sorted set
/// at `key`, deleting it when emptied; `None` if missing. Errors: WRONGTYPE.
pub fn pop_members(
    sh: &mut Shard,
    db: usize,
    key: &[u8],
    min: bool,
    count: usize,
) -> Result<Option<Vec<(Str, f64)>>, CmdError> {
    let now = sh.now_ms;
    let h = key_hash(key);
    let d = &mut sh.dbs[db];
    let Some(z) = typed::<ZSet>(d, h, key, now)? else {
        return Ok(None);
    };
    let len = z.len();
    let take = count.min(len);
    let items = if min {
        z.range(0, take, false)
    } else {
        z.range(len - take, len, true)
    };
    for (m, _) in &items {
        z.remove(m);
    }
    drop_if_empty(d, h, key, now);
    Ok(Some(items))
}

/// ZPOPMIN/ZPOPMAX key [count]: popped members with scores (flat in RESP2;
/// in RESP3 a pair without count, an array of pairs with it). Errors:
/// `value is out of range, must be positive`, WRONGTYPE.
fn zpop(ctx: &mut Ctx) -> CmdResult {
    let min = ctx.arg_is(0, "zpopmin");
    if ctx.args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = ctx.pop_count(2)?;
    let key = ctx.args[1].clone();
    let items = pop_members(ctx.sh, ctx.db, &key, min, count.unwrap_or(1))?.unwrap_or_default();
    let out = &mut *ctx.out;
    if count.is_none() && out.resp3 {
        // A single pop is one flat [member, score] pair in RESP3.
        match items.first() {
            Some((m, s)) => {
                out.array(2);
                out.bulk(m);
                out.double(*s);
            }
            None => out.array(0),
        }
    } else {
        write_range(out, &items, true);
    }
    Ok(())
}

/// Writes `[key, [[member, score]...]]` of ZMPOP/BZMPOP.
pub fn write_zmpop(r: &mut Reply, key: &[u8], items: &[(Str, f64)]) {
    r.array(2);
    r.bulk(key);
    r.array(items.len());
    for (m, s) in items {
        r.array(2);
        r.bulk(m);
        r.double(*s);
    }
}

/// The keyspace event of a sorted-set pop.
pub fn zset_event(min: bool) -> &'static str {
    if min { "zpopmin" } else { "zpopmax" }
}

/// ZMPOP numkeys key... MIN|MAX [COUNT count]
/// (<https://redis.io/docs/latest/commands/zmpop/>): pops from the first
/// non-empty sorted set in key order; `[key, [[member, score]...]]` or a
/// null array. Errors: `numkeys should be greater than 0`, `count should be
/// greater than 0`, syntax error, WRONGTYPE.
fn zmpop(ctx: &mut Ctx) -> CmdResult {
    let (keys, min, count) = parse_mpop(ctx.args, 1, ("MIN", "MAX"))?;
    ctx.deferred = true;
    let pop = move |sh: &mut Shard, db: usize, k: &[u8]| {
        let got = pop_members(sh, db, k, min, count);
        if matches!(&got, Ok(Some(v)) if !v.is_empty()) {
            let event = zset_event(min);
            sh.notify_popped(crate::pubsub::notify::ZSET, event, db, k);
        }
        got
    };
    pop_first_nonempty(ctx.sh, ctx.reply_to, ctx.db, keys, 0, pop, write_zmpop);
    Ok(())
}

/// ZRANDMEMBER key [count [WITHSCORES]]: one random member (or null); a
/// positive count gives distinct members, a negative one |count| picks that
/// may repeat. Errors: not-an-integer, `value is out of range` (see
/// [`parse_with`]), syntax error, WRONGTYPE, and
/// [`super::random::REPLY_TOO_BIG`] past the reply limit.
fn zrandmember(ctx: &mut Ctx) -> CmdResult {
    let (count, with) = parse_with(ctx.args, "WITHSCORES")?;
    let reply_limit = ctx.sh.tun.reply_limit();
    let (found, out) = ctx.coll_out::<ZSet>()?;
    let Some(z) = found else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let len = z.len();
    // Each pick is a rank: O(log n) on the skiplist.
    let Some(c) = count else {
        let r = fastrand::usize(..len);
        if let Some((m, _)) = z.range(r, r + 1, false).first() {
            out.bulk(m);
        }
        return Ok(());
    };
    if c >= 0 {
        let items: Vec<(Str, f64)> = distinct_picks(len, c as u64)
            .iter()
            .flat_map(|&r| z.range(r, r + 1, false))
            .collect();
        write_range(out, &items, with);
        return Ok(());
    }
    // Repeats allowed: |count| picks, written as they go; a small set is
    // listed once instead of walking a listpack per pick.
    let mark = out.buf.len();
    let n = c.unsigned_abs();
    match (with, out.resp3) {
        (true, false) => out.array(n as usize * 2),
        _ => out.array(n as usize),
    }
    let listed = if len <= 1024 {
        z.range(0, len, false)
    } else {
        Vec::new()
    };
    write_repeats(out, mark, reply_limit, len, n, |o, r| {
        let one;
        let (m, s) = match listed.get(r) {
            Some(item) => item,
            None => {
                one = z.range(r, r + 1, false);
                match one.first() {
                    Some(item) => item,
                    None => return o.null(),
                }
            }
        };
        match (with, o.resp3) {
            (false, _) => o.bulk(m),
            (true, true) => {
                o.array(2);
                o.bulk(m);
                o.double(*s);
            }
            (true, false) => {
                o.bulk(m);
                o.double(*s);
            }
        }
    })
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]: `[cursor, [member,
/// score...]]`.
fn zscan(ctx: &mut Ctx) -> CmdResult {
    // Errors in Redis's order: cursor, type, then the options (a missing
    // key is an empty scan whatever the options).
    super::parse_cursor(&ctx.args[2])?;
    let a = parse_scan(ctx);
    let mut items = Vec::new();
    let next = match ctx.coll::<ZSet>()? {
        Some(z) => {
            let a = a?;
            z.scan(a.cursor, a.count, |m, s| {
                if a.pattern.is_none_or(|p| crate::glob::matches(p, m, false)) {
                    items.push(m.to_vec());
                    items.push(crate::resp::write::fmt_double(s).into_bytes());
                }
            })
        }
        None => 0,
    };
    write_scan(ctx.out, next, &items);
    Ok(())
}

/// Members with scores of a sorted set, or of a set (every score 1), as
/// ZUNION and friends read their inputs.
fn scored(v: &Value) -> Result<Vec<(Str, f64)>, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z.range(0, z.len(), false)),
        Value::Set(s) => Ok(s.members().into_iter().map(|m| (m, 1.0)).collect()),
        _ => Err(CmdError::WrongType),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Agg {
    Sum,
    Min,
    Max,
}

/// Redis's `zunionInterAggregate`: `target` combined with `val`.
fn aggregate(a: Agg, target: f64, val: f64) -> f64 {
    match a {
        // Redis turns inf + -inf (NaN) into 0.
        Agg::Sum => {
            let s = target + val;
            if s.is_nan() { 0.0 } else { s }
        }
        // Ties keep the target (0 vs -0 included), as Redis's ternaries.
        Agg::Min => {
            if val < target {
                val
            } else {
                target
            }
        }
        Agg::Max => {
            if val > target {
                val
            } else {
                target
            }
        }
    }
}

/// The options of ZUNION/ZINTER/ZDIFF(STORE)/ZINTERCARD after the keys.
struct CombineOpts {
    weights: Vec<f64>,
    agg: Agg,
    scores: bool,
    limit: usize,
}

/// ZUNION/ZINTER/ZDIFF numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX]
/// [WITHSCORES]; the STORE forms (destination first, the stored size);
/// ZINTERCARD numkeys key... [LIMIT limit]. Inputs may be sets (score 1).
/// Errors: `at least 1 input key is needed for '<cmd>' command`, `weight
/// value is not a float`, `LIMIT can't be negative`, syntax error,
/// WRONGTYPE.
fn combine(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase();
    let store = name.ends_with("store");
    let card = name == "zintercard";
    let op = &name[1..name.len() - if store { 5 } else { 0 }];
    let op = if card { "inter" } else { op };
    let nk_at = if store { 2 } else { 1 };
    let n = ctx.int_arg(nk_at)?;
    if n <= 0 {
        return Err(CmdError::Owned(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    let n = n as usize;
    if nk_at + n >= ctx.args.len() {
        return Err(CmdError::Syntax);
    }
    let keys = ctx.args[nk_at + 1..nk_at + 1 + n].to_vec();
    // Redis checks every key's type before reading the options, so their
    // errors wait until the keys have been gathered.
    let opts = (|| {
        let mut o = CombineOpts {
            weights: vec![1.0f64; n],
            agg: Agg::Sum,
            scores: false,
            limit: usize::MAX,
        };
        let mut i = nk_at + 1 + n;
        while i < ctx.args.len() {
            if card && ctx.arg_is(i, "LIMIT") && i + 1 < ctx.args.len() {
                let l = ctx.range_arg(i + 1, 0, i64::MAX, Some("ERR LIMIT can't be negative"))?;
                o.limit = if l > 0 { l as usize } else { usize::MAX };
                i += 2;
            } else if !card && op != "diff" && ctx.arg_is(i, "WEIGHTS") && i + n < ctx.args.len() {
                for (k, w) in o.weights.iter_mut().enumerate() {
                    *w = super::cfloat::string2d(&ctx.args[i + 1 + k])
                        .ok_or(CmdError::Msg("ERR weight value is not a float"))?;
                }
                i += 1 + n;
            } else if !card && op != "diff" && ctx.arg_is(i, "AGGREGATE") && i + 1 < ctx.args.len()
            {
                o.agg = match ctx.args[i + 1].to_ascii_uppercase().as_slice() {
                    b"SUM" => Agg::Sum,
                    b"MIN" => Agg::Min,
                    b"MAX" => Agg::Max,
                    _ => return Err(CmdError::Syntax),
                };
                i += 2;
            } else if !card && !store && ctx.arg_is(i, "WITHSCORES") {
                o.scores = true;
                i += 1;
            } else {
                return Err(CmdError::Syntax);
            }
        }
        Ok(o)
    })();
    let op = op.to_string();
    let dst = store.then(|| ctx.args[1].clone());
    let to = ctx.reply_to;
    let db = ctx.db;
    ctx.deferred = true;
    gather(ctx.sh, to, db, keys, scored, move |sh, inputs| {
        let o = match opts {
            Ok(o) => o,
            Err(e) => return sh.reply_later(to, |r| r.error(e.text())),
        };
        let (weights, agg, scores, limit) = (o.weights, o.agg, o.scores, o.limit);
        let mut inputs: Vec<(Vec<(Str, f64)>, f64)> = inputs
            .into_iter()
            .map(|g| match g {
                Got::Missing => Vec::new(),
                Got::Found(v) => v,
            })
            .zip(weights)
            .collect();
        // Redis sums union and intersection inputs smallest first (a stable
        // sort by cardinality), which decides the order of float additions.
        if op != "diff" {
            inputs.sort_by_key(|(v, _)| v.len());
        }
        let mut acc: hashbrown::HashMap<Str, (f64, usize)> = hashbrown::HashMap::new();
        for (k, (input, weight)) in inputs.iter().enumerate() {
            if op == "diff" && k > 0 {
                for (m, _) in input {
                    acc.remove(m);
                }
                continue;
            }
            for (m, s) in input {
                let ws = {
                    let v = s * weight;
                    if v.is_nan() { 0.0 } else { v }
                };
                if op == "inter" && k > 0 && !acc.contains_key(m) {
                    continue;
                }
                acc.entry(m.clone())
                    .and_modify(|(x, seen)| {
                        if *seen == k {
                            return;
                        }
                        *x = aggregate(agg, *x, ws);
                        *seen = k;
                    })
                    .or_insert((ws, k));
            }
            if op == "inter" && k > 0 {
                acc.retain(|_, (_, seen)| *seen == k);
            }
        }
        if card {
            let n = acc.len().min(limit);
            return sh.reply_later(to, |r| r.int(n as i64));
        }
        let mut items: Vec<(Str, f64)> = acc.into_iter().map(|(m, (s, _))| (m, s)).collect();
        items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| (*a.0).cmp(&*b.0)));
        match dst {
            Some(dst) => {
                let event = match op.as_str() {
                    "inter" => "zinterstore",
                    "union" => "zunionstore",
                    _ => "zdiffstore",
                };
                store_result(sh, to, db, dst, items, Build::SkipThenConvert, event)
            }
            None => sh.reply_later(to, |r| write_range(r, &items, scores)),
        }
    });
    Ok(())
}
