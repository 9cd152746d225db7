//! Blocking pops (<https://redis.io/docs/latest/commands/blpop/> and
//! friends): BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP.
//! Each handler parses its arguments and timeout, then hands the client to
//! the shard's wait queues ([`crate::engine::blocking`], which documents how
//! a client blocks across shards).

use super::cfloat::LongDouble;
use super::list::parse_mpop;
use super::{CmdError, CmdResult, Ctx, Handler};
use crate::engine::blocking::{Op, block_on};
use crate::store::End;

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("blpop", blpop),
    ("brpop", brpop),
    ("brpoplpush", brpoplpush),
    ("blmove", blmove),
    ("blmpop", blmpop),
    ("bzpopmin", bzpop),
    ("bzpopmax", bzpop),
    ("bzmpop", bzmpop),
];

const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
const TIMEOUT_RANGE: &str = "ERR timeout is out of range";

/// Parses a blocking timeout in seconds (fractions allowed) into an
/// absolute unix deadline in ms, 0 for "forever": the text is read as a
/// `long double` (Redis `string2ld` rules: `1e400` is a number), times
/// 1000, rounded up. Past `LLONG_MAX` ms, or past it once added to the
/// clock, is `timeout is out of range`. That is Redis 7.2's
/// `getTimeoutFromObjectOrReply`; 7.0 instead converts with undefined
/// behaviour in C (`inf` and `1e300` come out `timeout is negative`, a
/// deadline overflowing the clock wraps and blocks for ever). Errors:
/// `timeout is not a float or out of range`, `timeout is negative`,
/// `timeout is out of range`.
fn parse_timeout(a: &[u8], now: u64) -> Result<u64, CmdError> {
    let secs = LongDouble::parse(a).ok_or(CmdError::Msg(TIMEOUT_NOT_FLOAT))?;
    let ms = secs.mul(LongDouble::from_i64(1000));
    if ms.partial_cmp(&LongDouble::from_i64(i64::MAX)) == Some(std::cmp::Ordering::Greater) {
        return Err(CmdError::Msg(TIMEOUT_RANGE));
    }
    let ms = ms.ceil().to_i64_trunc();
    if ms < 0 {
        return Err(CmdError::Msg(TIMEOUT_NEGATIVE));
    }
    if ms == 0 {
        return Ok(0);
    }
    if ms > i64::MAX - now as i64 {
        return Err(CmdError::Msg(TIMEOUT_RANGE));
    }
    Ok(now + ms as u64)
}

/// The deadline of timeout argument `i` (see [`parse_timeout`]).
fn deadline(ctx: &Ctx, i: usize) -> Result<u64, CmdError> {
    parse_timeout(ctx.arg(i), ctx.now())
}

/// BLPOP key... timeout (<https://redis.io/docs/latest/commands/blpop/>):
/// `[key, element]` from the first non-empty list in key order, else waits
/// up to `timeout` seconds (0 = forever) and replies a null array. Errors:
/// `timeout is not a float or out of range`, `timeout is negative`,
/// WRONGTYPE (a key of another type before any list with data).
fn blpop(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.args.len() - 1;
    let d = deadline(ctx, n)?;
    block_on(ctx, ctx.args[1..n].to_vec(), d, Op::Pop(End::Left))
}

/// BRPOP key... timeout: BLPOP from the tail.
fn brpop(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.args.len() - 1;
    let d = deadline(ctx, n)?;
    block_on(ctx, ctx.args[1..n].to_vec(), d, Op::Pop(End::Right))
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
/// (<https://redis.io/docs/latest/commands/blmove/>): LMOVE that waits for
/// the source; a null bulk string on timeout. Errors: syntax error, the
/// timeout errors of BLPOP, WRONGTYPE.
fn blmove(ctx: &mut Ctx) -> CmdResult {
    let from = super::list::parse_end(&ctx.args[3]).ok_or(CmdError::Syntax)?;
    let to = super::list::parse_end(&ctx.args[4]).ok_or(CmdError::Syntax)?;
    let d = deadline(ctx, 5)?;
    let dst = ctx.args[2].clone();
    block_on(
        ctx,
        vec![ctx.args[1].clone()],
        d,
        Op::Move { dst, from, to },
    )
}

/// BRPOPLPUSH source destination timeout: BLMOVE source destination RIGHT LEFT.
fn brpoplpush(ctx: &mut Ctx) -> CmdResult {
    let d = deadline(ctx, 3)?;
    let op = Op::Move {
        dst: ctx.args[2].clone(),
        from: End::Right,
        to: End::Left,
    };
    block_on(ctx, vec![ctx.args[1].clone()], d, op)
}

/// BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT count]
/// (<https://redis.io/docs/latest/commands/blmpop/>): LMPOP that waits;
/// a null array on timeout. Errors: those of LMPOP, then (as Redis) the
/// timeout errors of BLPOP.
fn blmpop(ctx: &mut Ctx) -> CmdResult {
    let (keys, left, count) = parse_mpop(ctx.args, 2, ("LEFT", "RIGHT"))?;
    let d = deadline(ctx, 1)?;
    let end = if left { End::Left } else { End::Right };
    block_on(ctx, keys, d, Op::MPop(end, count))
}

/// BZPOPMIN/BZPOPMAX key... timeout
/// (<https://redis.io/docs/latest/commands/bzpopmin/>): `[key, member,
/// score]` from the first non-empty sorted set, else waits; a null array
/// on timeout. Errors: as BLPOP.
fn bzpop(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.args.len() - 1;
    let d = deadline(ctx, n)?;
    let min = ctx.arg_is(0, "bzpopmin");
    block_on(ctx, ctx.args[1..n].to_vec(), d, Op::ZPop(min))
}

/// BZMPOP timeout numkeys key... MIN|MAX [COUNT count]
/// (<https://redis.io/docs/latest/commands/bzmpop/>): ZMPOP that waits; a
/// null array on timeout. Errors: those of ZMPOP, then (as Redis) the
/// timeout errors of BLPOP.
fn bzmpop(ctx: &mut Ctx) -> CmdResult {
    let (keys, min, count) = parse_mpop(ctx.args, 2, ("MIN", "MAX"))?;
    let d = deadline(ctx, 1)?;
    block_on(ctx, keys, d, Op::ZMPop(min, count))
}
