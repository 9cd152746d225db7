//! The hash family (<https://redis.io/docs/latest/commands/?group=hash>):
//! HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN HSTRLEN HKEYS
//! HVALS HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN. Every command touches one
//! key and runs on its shard.

use super::random::{distinct_picks, parse_with, write_repeats};
use super::{CmdError, CmdResult, Ctx, Handler, typed_or_new};
use crate::resp::{Reply, errors};
use crate::store::Hash;

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("hset", hset),
    ("hsetnx", hsetnx),
    ("hget", hget),
    ("hmget", hmget),
    ("hmset", hmset),
    ("hgetall", hgetall),
    ("hdel", hdel),
    ("hexists", hexists),
    ("hlen", hlen),
    ("hstrlen", hstrlen),
    ("hkeys", hkeys),
    ("hvals", hvals),
    ("hincrby", hincrby),
    ("hincrbyfloat", hincrbyfloat),
    ("hrandfield", hrandfield),
    ("hscan", hscan),
];

/// The hash at key argument 1, created if missing. Errors: WRONGTYPE.
fn write<'c>(ctx: &'c mut Ctx) -> Result<&'c mut Hash, CmdError> {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    typed_or_new::<Hash>(&mut ctx.sh.dbs[ctx.db], h, &ctx.args[1], now, Hash::default)
}

fn set_pairs(ctx: &mut Ctx) -> Result<i64, CmdError> {
    if ctx.args.len() % 2 != 0 {
        return Err(CmdError::Owned(format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase()
        )));
    }
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let hash = write(ctx)?;
    let mut added = 0;
    for p in args[2..].chunks(2) {
        added += hash.set(&p[0], &p[1], &enc) as i64;
    }
    Ok(added)
}

/// HSET key field value [field value ...]
/// (<https://redis.io/docs/latest/commands/hset/>): the number of new
/// fields. Errors: wrong number of arguments, WRONGTYPE.
fn hset(ctx: &mut Ctx) -> CmdResult {
    let n = set_pairs(ctx)?;
    ctx.out.int(n);
    Ok(())
}

/// HMSET key field value [field value ...]: `+OK` (deprecated form of HSET).
fn hmset(ctx: &mut Ctx) -> CmdResult {
    set_pairs(ctx)?;
    ctx.out.ok();
    Ok(())
}

/// HSETNX key field value: 1 if set, 0 if the field existed.
fn hsetnx(ctx: &mut Ctx) -> CmdResult {
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let hash = write(ctx)?;
    let n = if hash.get(&args[2]).is_some() {
        0
    } else {
        hash.set(&args[2], &args[3], &enc);
        1
    };
    ctx.out.int(n);
    Ok(())
}

/// HGET key field: the value or null. Errors: WRONGTYPE.
fn hget(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (found, out) = ctx.coll_out::<Hash>()?;
    match found.and_then(|x| x.get(&args[2])) {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
    Ok(())
}

/// HMGET key field...: an array of values (null for missing fields).
fn hmget(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (found, out) = ctx.coll_out::<Hash>()?;
    let hash = found;
    out.array(args.len() - 2);
    for f in &args[2..] {
        match hash.as_ref().and_then(|x| x.get(f)) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
    Ok(())
}

/// HGETALL key: field, value pairs (a map in RESP3). Errors: WRONGTYPE.
fn hgetall(ctx: &mut Ctx) -> CmdResult {
    let (found, out) = ctx.coll_out::<Hash>()?;
    match found {
        Some(hash) => {
            out.map(hash.len());
            hash.for_each(|k, v| {
                out.bulk(k);
                out.bulk(v);
            });
        }
        None => out.map(0),
    }
    Ok(())
}

/// HKEYS / HVALS: every field, or every value.
fn keys_or_vals(ctx: &mut Ctx, keys: bool) -> CmdResult {
    let (found, out) = ctx.coll_out::<Hash>()?;
    match found {
        Some(hash) => {
            out.array(hash.len());
            hash.for_each(|k, v| out.bulk(if keys { k } else { v }));
        }
        None => out.array(0),
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx) -> CmdResult {
    keys_or_vals(ctx, true)
}

fn hvals(ctx: &mut Ctx) -> CmdResult {
    keys_or_vals(ctx, false)
}

/// HDEL key field...: how many fields were removed; the key goes when
/// empty. Errors: WRONGTYPE.
fn hdel(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.remove_each::<Hash>(|h, f| h.remove(f))?;
    ctx.out.int(n);
    Ok(())
}

/// HEXISTS key field: 1 or 0.
fn hexists(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let n = ctx
        .coll::<Hash>()?
        .is_some_and(|x| x.get(&args[2]).is_some());
    ctx.out.int(n as i64);
    Ok(())
}

/// HLEN key: the number of fields.
fn hlen(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.coll::<Hash>()?.map_or(0, |x| x.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// HSTRLEN key field: the value's length, 0 if missing.
fn hstrlen(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let n = ctx
        .coll::<Hash>()?
        .and_then(|x| x.get(&args[2]).map(|v| v.len()));
    ctx.out.int(n.unwrap_or(0) as i64);
    Ok(())
}

/// HINCRBY key field increment: the new value. Errors: `hash value is not
/// an integer`, not-an-integer (increment), overflow, WRONGTYPE.
fn hincrby(ctx: &mut Ctx) -> CmdResult {
    let by = ctx.int_arg(3)?;
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let hash = write(ctx)?;
    let cur = match hash.get(&args[2]) {
        Some(v) => crate::resp::parse::parse_i64(v)
            .ok_or(CmdError::Msg("ERR hash value is not an integer"))?,
        None => 0,
    };
    let n = cur.checked_add(by).ok_or(CmdError::Overflow)?;
    hash.set(&args[2], itoa::Buffer::new().format(n).as_bytes(), &enc);
    ctx.out.int(n);
    Ok(())
}

/// HINCRBYFLOAT key field increment: the new value as a bulk string.
/// Errors: `hash value is not a float`, not-a-float, `increment would
/// produce NaN or Infinity`, WRONGTYPE.
fn hincrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let by = super::string::parse_float(&ctx.args[3]).ok_or(CmdError::NotFloat)?;
    let enc = ctx.sh.enc();
    let args = ctx.args;
    let hash = write(ctx)?;
    let cur = match hash.get(&args[2]) {
        Some(v) => {
            super::string::parse_float(v).ok_or(CmdError::Msg("ERR hash value is not a float"))?
        }
        None => 0.0,
    };
    let v = cur + by;
    if !v.is_finite() {
        return Err(CmdError::Msg(errors::INCR_FLOAT_NAN));
    }
    let text = super::string::fmt_human(v);
    hash.set(&args[2], text.as_bytes(), &enc);
    ctx.out.bulk(text.as_bytes());
    Ok(())
}

/// HRANDFIELD key [count [WITHVALUES]]
/// (<https://redis.io/docs/latest/commands/hrandfield/>): one field (or
/// null); with a positive count up to count distinct fields, with a
/// negative count |count| fields that may repeat; WITHVALUES adds values
/// (pairs in RESP3). Errors: not-an-integer, `value is out of range`
/// (see [`parse_with`]), syntax error, WRONGTYPE, and
/// [`super::random::REPLY_TOO_BIG`] past the reply limit.
fn hrandfield(ctx: &mut Ctx) -> CmdResult {
    let (count, with) = parse_with(ctx.args, "WITHVALUES")?;
    let reply_limit = ctx.sh.tun.reply_limit();
    let (found, out) = ctx.coll_out::<Hash>()?;
    let Some(hash) = found else {
        match count {
            None => out.null(),
            Some(_) => out.array(0),
        }
        return Ok(());
    };
    let len = hash.len();
    let Some(c) = count else {
        out.bulk(hash.nth(fastrand::usize(..len)).0);
        return Ok(());
    };
    if c >= 0 {
        let picks = distinct_picks(len, c as u64);
        write_fields(out, with, picks.iter().map(|&i| hash.nth(i)));
        return Ok(());
    }
    // Repeats allowed: |count| picks (pairs with WITHVALUES), written as
    // they go; a listpack is listed once since its positions walk it.
    let mark = out.buf.len();
    let n = c.unsigned_abs();
    match (with, out.resp3) {
        (true, false) => out.array(n as usize * 2),
        _ => out.array(n as usize),
    }
    let pairs: Vec<(&[u8], &[u8])> = match hash {
        Hash::Pack(_) => (0..len).map(|i| hash.nth(i)).collect(),
        Hash::Table(_) => Vec::new(),
    };
    let at = |i: usize| pairs.get(i).copied().unwrap_or_else(|| hash.nth(i));
    write_repeats(out, mark, reply_limit, len, n, |o, i| {
        let (k, v) = at(i);
        match (with, o.resp3) {
            (false, _) => o.bulk(k),
            (true, true) => {
                o.array(2);
                o.bulk(k);
                o.bulk(v);
            }
            (true, false) => {
                o.bulk(k);
                o.bulk(v);
            }
        }
    })
}

fn write_fields<'a>(
    out: &mut Reply,
    with: bool,
    items: impl ExactSizeIterator<Item = (&'a [u8], &'a [u8])>,
) {
    let n = items.len();
    if with && out.resp3 {
        out.array(n);
        for (k, v) in items {
            out.array(2);
            out.bulk(k);
            out.bulk(v);
        }
    } else if with {
        out.array(n * 2);
        for (k, v) in items {
            out.bulk(k);
            out.bulk(v);
        }
    } else {
        out.array(n);
        for (k, _) in items {
            out.bulk(k);
        }
    }
}

/// Parsed `cursor [MATCH pattern] [COUNT count]` of HSCAN/SSCAN/ZSCAN.
pub struct ScanArgs<'a> {
    pub cursor: u64,
    pub pattern: Option<&'a [u8]>,
    pub count: usize,
}

/// Parses the SCAN-family options from argument 2 on. Errors: `invalid
/// cursor`, not-an-integer, syntax error.
pub fn parse_scan<'a>(ctx: &Ctx<'a>) -> Result<ScanArgs<'a>, CmdError> {
    let args = ctx.args;
    let cursor = super::parse_cursor(&args[2])?;
    let mut a = ScanArgs {
        cursor,
        pattern: None,
        count: 10,
    };
    let mut i = 3;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(CmdError::Syntax);
        }
        if ctx.arg_is(i, "COUNT") {
            let n = ctx.int_arg(i + 1)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            a.count = n as usize;
        } else if ctx.arg_is(i, "MATCH") {
            // A lone `*` matches everything, the empty string too (Redis's
            // `use_pattern` in `scanGenericCommand`).
            a.pattern = Some(&args[i + 1][..]).filter(|p| *p != b"*");
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(a)
}

/// Writes `[cursor, [items]]`.
pub fn write_scan(out: &mut Reply, next: u64, items: &[Vec<u8>]) {
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(items.len());
    for x in items {
        out.bulk(x);
    }
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
/// (<https://redis.io/docs/latest/commands/hscan/>): `[cursor, [field,
/// value...]]`. Errors, in Redis's order: `invalid cursor`, WRONGTYPE, the
/// options' errors (a missing key is an empty scan whatever the options).
fn hscan(ctx: &mut Ctx) -> CmdResult {
    super::parse_cursor(&ctx.args[2])?;
    let a = parse_scan(ctx);
    let mut items = Vec::new();
    let next = match ctx.coll::<Hash>()? {
        Some(hash) => {
            let a = a?;
            hash.scan(a.cursor, a.count, |k, v| {
                if a.pattern.is_none_or(|p| crate::glob::matches(p, k, false)) {
                    items.push(k.to_vec());
                    items.push(v.to_vec());
                }
            })
        }
        None => 0,
    };
    write_scan(ctx.out, next, &items);
    Ok(())
}
