//! The string family (<https://redis.io/docs/latest/commands/?group=string>):
//! GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET MSETNX INCR DECR
//! INCRBY DECRBY INCRBYFLOAT APPEND STRLEN GETRANGE SUBSTR SETRANGE LCS.
//!
//! Runs on the shard owning the key. MGET and MSET arrive already split per
//! shard by the IO stage; MSETNX and LCS arrive whole at the first key's
//! shard and visit the other shards with hops when their keys live there.
//! Expiry deadlines are Unix time in milliseconds.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;

use super::cfloat::LongDouble;
use super::{CmdError, CmdResult, Ctx, Handler, Shard};
use crate::msg::ReplyTo;
use crate::resp::{Reply, errors};
use crate::spec::key_hash;
use crate::store::{Str, Value};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("get", get),
    ("set", set),
    ("setnx", setnx),
    ("setex", setex),
    ("psetex", psetex),
    ("getset", getset),
    ("getdel", getdel),
    ("getex", getex),
    ("mget", mget),
    ("mset", mset),
    ("msetnx", msetnx),
    ("incr", incr),
    ("decr", decr),
    ("incrby", incrby),
    ("decrby", decrby),
    ("incrbyfloat", incrbyfloat),
    ("append", append),
    ("strlen", strlen),
    ("getrange", getrange),
    ("substr", getrange),
    ("setrange", setrange),
    ("lcs", lcs),
];

const LCS_BOTH: &str = "ERR If you want both the length and indexes, please just use IDX.";
const LCS_TYPE: &str = "ERR The specified keys must contain string values";
const LCS_MEMORY: &str =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
const DECR_OVERFLOW: &str = "ERR decrement would overflow";

/// The bytes of a string value. Errors: WRONGTYPE for any other type (the
/// match is exhaustive so new types must decide).
pub fn string_bytes(v: &Value) -> Result<Cow<'_, [u8]>, CmdError> {
    match v {
        Value::Str(b) => Ok(Cow::Borrowed(b)),
        Value::Int(n) => Ok(Cow::Owned(
            itoa::Buffer::new().format(*n).as_bytes().to_vec(),
        )),
        Value::List(_) | Value::Hash(_) | Value::Set(_) | Value::ZSet(_) | Value::Stream(_) => {
            Err(CmdError::WrongType)
        }
    }
}

/// Writes a string value as a bulk string without copying it first.
fn write_string(out: &mut Reply, v: &Value) -> CmdResult {
    match v {
        Value::Str(b) => out.bulk(b),
        Value::Int(n) => out.bulk_int(*n),
        Value::List(_) | Value::Hash(_) | Value::Set(_) | Value::ZSet(_) | Value::Stream(_) => {
            return Err(CmdError::WrongType);
        }
    }
    Ok(())
}

/// The `invalid expire time in '<cmd>' command` error.
fn invalid_expire(ctx: &Ctx) -> CmdError {
    CmdError::Owned(format!(
        "ERR invalid expire time in '{}' command",
        String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase()
    ))
}

/// Converts an EX/PX/EXAT/PXAT amount into a Unix-ms deadline, with Redis's
/// checks: `<= 0` or overflow gives `invalid expire time in '<cmd>'`.
fn deadline(ctx: &Ctx, opt: &[u8], n: i64) -> Result<u64, CmdError> {
    if n <= 0 {
        return Err(invalid_expire(ctx));
    }
    let opt = opt.to_ascii_uppercase();
    let ms = match opt.as_slice() {
        b"EX" | b"EXAT" => n.checked_mul(1000).ok_or_else(|| invalid_expire(ctx))?,
        _ => n,
    };
    let at = match opt.as_slice() {
        b"EX" | b"PX" => ms
            .checked_add(ctx.now() as i64)
            .ok_or_else(|| invalid_expire(ctx))?,
        _ => ms,
    };
    Ok(at as u64)
}

/// Which expiry option SET/GETEX carry.
#[derive(Clone, Copy, PartialEq)]
enum Expire {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// SET and GETEX options as Redis's `parseExtendedStringArgumentsOrReply`
/// reads them: every option is parsed (and conflicts rejected with a
/// syntax error) before any value is checked; repeating an option is
/// allowed and the last one wins (`SET k v EX 10 EX 20` is valid), as in
/// Redis.
#[derive(Default)]
struct ExtOpts {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    /// The expiry option and the index of its argument.
    expire: Option<(Expire, usize)>,
}

fn parse_ext(ctx: &Ctx, set: bool) -> Result<ExtOpts, CmdError> {
    let mut o = ExtOpts::default();
    let n = ctx.args.len();
    let mut j = if set { 3 } else { 2 };
    while j < n {
        let next = j + 1 < n;
        // An expiry option is accepted when no other kind is present.
        let free = |o: &ExtOpts, k: Expire| {
            !o.keepttl && !o.persist && o.expire.is_none_or(|(x, _)| x == k) && next
        };
        let kind = [
            ("EX", Expire::Ex),
            ("PX", Expire::Px),
            ("EXAT", Expire::ExAt),
            ("PXAT", Expire::PxAt),
        ]
        .into_iter()
        .find(|(w, _)| ctx.arg_is(j, w))
        .map(|(_, k)| k);
        if set && ctx.arg_is(j, "NX") && !o.xx {
            o.nx = true;
        } else if set && ctx.arg_is(j, "XX") && !o.nx {
            o.xx = true;
        } else if set && ctx.arg_is(j, "GET") {
            o.get = true;
        } else if set && ctx.arg_is(j, "KEEPTTL") && !o.persist && o.expire.is_none() {
            o.keepttl = true;
        } else if !set && ctx.arg_is(j, "PERSIST") && o.expire.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some(k) = kind.filter(|&k| free(&o, k)) {
            o.expire = Some((k, j + 1));
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    Ok(o)
}

/// The deadline of the parsed expiry option, if any (Redis
/// `getExpireMillisecondsOrReply`). Errors: not-an-integer, `invalid
/// expire time in '<cmd>' command`.
fn ext_deadline(ctx: &Ctx, o: &ExtOpts) -> Result<Option<u64>, CmdError> {
    let Some((k, i)) = o.expire else {
        return Ok(None);
    };
    let n = ctx.int_arg(i)?;
    let opt: &[u8] = match k {
        Expire::Ex => b"EX",
        Expire::Px => b"PX",
        Expire::ExAt => b"EXAT",
        Expire::PxAt => b"PXAT",
    };
    deadline(ctx, opt, n).map(Some)
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
/// (<https://redis.io/docs/latest/commands/set/>). Replies `+OK`, or null
/// when NX/XX prevented the write; with GET, the old value or null.
/// Errors, in Redis's order: syntax error on conflicting options, then
/// not-an-integer / `invalid expire time in 'set' command`, then
/// WRONGTYPE (GET on a non-string; a plain SET overwrites any type).
fn set(ctx: &mut Ctx) -> CmdResult {
    let o = parse_ext(ctx, true)?;
    let at = ext_deadline(ctx, &o)?;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    let (exists, old_ttl) = match db.get(h, &args[1], now) {
        Some(e) => {
            // Only GET looks at the old value: a plain SET overwrites a key
            // of any type, as Redis does.
            if o.get {
                write_string(ctx.out, &e.value)?;
            }
            (true, e.expire_at())
        }
        None => {
            if o.get {
                ctx.out.null();
            }
            (false, 0)
        }
    };
    if (o.nx && exists) || (o.xx && !exists) {
        if !o.get {
            ctx.out.null();
        }
        ctx.sh.propagate_nothing();
        return Ok(());
    }
    let deadline = at;
    let at = match at {
        Some(t) => t,
        None if o.keepttl => old_ttl,
        None => 0,
    };
    db.set(h, &args[1], Value::from_bytes(&args[2]), at, now);
    if !o.get {
        ctx.out.ok();
    }
    // A relative or second-based expiry is logged as PXAT (Redis 7).
    if let (Some(t), Some((k, i))) = (deadline, o.expire) {
        if k != Expire::PxAt {
            let t = t.to_string();
            let mut logged: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            logged[i - 1] = b"PXAT";
            logged[i] = t.as_bytes();
            ctx.sh.propagate(ctx.db, &logged);
        }
    }
    Ok(())
}

/// GET key: the value, or null. Errors: WRONGTYPE.
fn get(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    match ctx.sh.dbs[ctx.db].get(h, &args[1], now) {
        Some(e) => write_string(ctx.out, &e.value),
        None => {
            ctx.out.null();
            Ok(())
        }
    }
}

/// SETNX key value: 1 if set, 0 if the key existed.
fn setnx(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    if db.contains(h, &args[1], now) {
        ctx.out.int(0);
    } else {
        db.set(h, &args[1], Value::from_bytes(&args[2]), 0, now);
        ctx.out.int(1);
    }
    Ok(())
}

fn set_with_ttl(ctx: &mut Ctx, opt: &[u8]) -> CmdResult {
    let n = ctx.int_arg(2)?;
    let at = deadline(ctx, opt, n)?;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    ctx.sh.dbs[ctx.db].set(h, &args[1], Value::from_bytes(&args[3]), at, now);
    ctx.out.ok();
    // Logged as SET key value PXAT <ms> (Redis 7).
    let at = at.to_string();
    ctx.sh.propagate(
        ctx.db,
        &[b"SET", &args[1], &args[3], b"PXAT", at.as_bytes()],
    );
    Ok(())
}

/// SETEX key seconds value. Errors: `invalid expire time in 'setex' command`.
fn setex(ctx: &mut Ctx) -> CmdResult {
    set_with_ttl(ctx, b"EX")
}

/// PSETEX key milliseconds value. Errors: `invalid expire time in 'psetex' command`.
fn psetex(ctx: &mut Ctx) -> CmdResult {
    set_with_ttl(ctx, b"PX")
}

/// GETSET key value: the old value (or null), TTL cleared.
fn getset(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    match db.get(h, &args[1], now) {
        Some(e) => write_string(ctx.out, &e.value)?,
        None => ctx.out.null(),
    }
    db.set(h, &args[1], Value::from_bytes(&args[2]), 0, now);
    Ok(())
}

/// GETDEL key: the value (or null), then the key is deleted.
fn getdel(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    ctx.sh.propagate_nothing();
    let db = &mut ctx.sh.dbs[ctx.db];
    match db.get(h, &args[1], now) {
        Some(e) => {
            write_string(ctx.out, &e.value)?;
            db.remove(h, &args[1], now);
            ctx.sh.propagate(ctx.db, &[b"DEL", &args[1]]);
        }
        None => ctx.out.null(),
    }
    Ok(())
}

/// GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]: the value, with
/// its TTL changed. A deadline in the past deletes the key, as in Redis.
/// Errors, in Redis's order: syntax error (options), then null for a
/// missing key whatever the expiry value, WRONGTYPE, and only then
/// not-an-integer / `invalid expire time in 'getex' command`.
fn getex(ctx: &mut Ctx) -> CmdResult {
    let o = parse_ext(ctx, false)?;
    // Checked only once the key is known to hold a string.
    let at = ext_deadline(ctx, &o);
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    let Some(e) = db.get(h, &args[1], now) else {
        ctx.out.null();
        return Ok(());
    };
    string_bytes(&e.value)?;
    let at = at?;
    write_string(ctx.out, &e.value)?;
    // Logged as what it did (Redis 7): DEL, PEXPIREAT or PERSIST.
    let t = match at {
        Some(t) if t <= now => {
            db.remove(h, &args[1], now);
            Some(None)
        }
        Some(t) => {
            db.set_expire(h, &args[1], t, now);
            Some(Some(t))
        }
        None if o.persist => {
            db.set_expire(h, &args[1], 0, now);
            Some(Some(0))
        }
        None => None,
    };
    ctx.sh.propagate_nothing();
    match t {
        Some(None) => ctx.sh.propagate(ctx.db, &[b"DEL", &args[1]]),
        Some(Some(0)) => ctx.sh.propagate(ctx.db, &[b"PERSIST", &args[1]]),
        Some(Some(t)) => {
            let t = t.to_string();
            ctx.sh
                .propagate(ctx.db, &[b"PEXPIREAT", &args[1], t.as_bytes()]);
        }
        None => {}
    }
    Ok(())
}

/// MGET key...: an array of values, null for missing or non-string keys.
fn mget(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now();
    let n = ctx.args.len() - 1;
    ctx.out.array(n);
    for i in 1..=n {
        let h = ctx.key_hash(i);
        let args = ctx.args;
        match ctx.sh.dbs[ctx.db].get(h, &args[i], now) {
            Some(e) if write_string(ctx.out, &e.value).is_ok() => {}
            _ => ctx.out.null(),
        }
    }
    Ok(())
}

/// MSET key value [key value ...]: `+OK`. Pairs arrive per shard.
fn mset(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() % 2 == 0 {
        return Err(CmdError::Msg(
            "ERR wrong number of arguments for 'mset' command",
        ));
    }
    let now = ctx.now();
    for i in (1..ctx.args.len()).step_by(2) {
        let h = ctx.key_hash(i);
        let args = ctx.args;
        ctx.sh.dbs[ctx.db].set(h, &args[i], Value::from_bytes(&args[i + 1]), 0, now);
    }
    ctx.out.ok();
    Ok(())
}

/// Key/value pairs of one shard.
type Group = (u16, Vec<(Bytes, Bytes)>);

/// MSETNX key value [key value ...]: 1 if every key was absent and all were
/// set, else 0 and nothing is set. Keys on other shards are checked, then
/// set, by a chain of hops (one shard after another) whose last step
/// replies. Isolation from concurrent writers on the other shards comes with
/// the transaction layer.
fn msetnx(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() % 2 == 0 {
        return Err(CmdError::Msg(
            "ERR wrong number of arguments for 'msetnx' command",
        ));
    }
    let mut groups: Vec<Group> = vec![(ctx.sh.id, Vec::new())];
    for i in (1..ctx.args.len()).step_by(2) {
        let shard = ctx.sh.shard_of(&ctx.args[i]);
        let pair = (ctx.args[i].clone(), ctx.args[i + 1].clone());
        match groups.iter_mut().find(|g| g.0 == shard) {
            Some(g) => g.1.push(pair),
            None => groups.push((shard, vec![pair])),
        }
    }
    if groups.len() == 1 {
        let now = ctx.now();
        let db = &mut ctx.sh.dbs[ctx.db];
        if groups[0]
            .1
            .iter()
            .any(|(k, _)| db.contains(key_hash(k), k, now))
        {
            ctx.out.int(0);
            return Ok(());
        }
        for (k, v) in &groups[0].1 {
            db.set(key_hash(k), k, Value::from_bytes(v), 0, now);
        }
        ctx.out.int(1);
        return Ok(());
    }
    ctx.deferred = true;
    msetnx_step(ctx.sh, ctx.db, Arc::new(groups), 0, false, ctx.reply_to);
    Ok(())
}

/// One step of the MSETNX chain, on shard `groups[i].0`: checking (first
/// pass) or setting (second pass) that shard's keys.
fn msetnx_step(
    sh: &mut Shard,
    db: usize,
    groups: Arc<Vec<Group>>,
    i: usize,
    setting: bool,
    to: ReplyTo,
) {
    let now = sh.now_ms;
    let d = &mut sh.dbs[db];
    if setting {
        for (k, v) in &groups[i].1 {
            d.set(key_hash(k), k, Value::from_bytes(v), 0, now);
        }
    } else if groups[i]
        .1
        .iter()
        .any(|(k, _)| d.contains(key_hash(k), k, now))
    {
        sh.reply_later(to, |r| r.int(0));
        return;
    }
    let (next, setting) = match (i + 1 < groups.len(), setting) {
        (true, s) => (i + 1, s),
        (false, false) => (0, true),
        (false, true) => {
            sh.reply_later(to, |r| r.int(1));
            return;
        }
    };
    let target = groups[next].0;
    sh.hop(target, move |sh| {
        msetnx_step(sh, db, groups, next, setting, to)
    });
}

/// Shared body of INCR/DECR/INCRBY/DECRBY: adds `by` to the integer at key 1
/// (0 if missing), keeping its TTL. Errors: not-an-integer, overflow.
fn incr_by(ctx: &mut Ctx, by: i64) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    let n = match db.get_mut(h, &args[1], now) {
        Some(e) => {
            let cur = match &e.value {
                Value::Int(n) => *n,
                Value::Str(s) => crate::resp::parse::parse_i64(s).ok_or(CmdError::NotInteger)?,
                _ => return Err(CmdError::WrongType),
            };
            let n = cur.checked_add(by).ok_or(CmdError::Overflow)?;
            e.value = Value::Int(n);
            n
        }
        None => {
            db.set(h, &args[1], Value::Int(by), 0, now);
            by
        }
    };
    ctx.out.int(n);
    Ok(())
}

fn incr(ctx: &mut Ctx) -> CmdResult {
    incr_by(ctx, 1)
}

fn decr(ctx: &mut Ctx) -> CmdResult {
    incr_by(ctx, -1)
}

fn incrby(ctx: &mut Ctx) -> CmdResult {
    let by = ctx.int_arg(2)?;
    incr_by(ctx, by)
}

/// DECRBY key decrement. Errors: `decrement would overflow` for i64::MIN,
/// as in Redis.
fn decrby(ctx: &mut Ctx) -> CmdResult {
    let by = ctx.int_arg(2)?;
    if by == i64::MIN {
        return Err(CmdError::Msg(DECR_OVERFLOW));
    }
    incr_by(ctx, -by)
}

/// Parses a float the way Redis's `string2ld` accepts it: no spaces, no
/// trailing garbage, not NaN. An f64 approximation, still used by
/// HINCRBYFLOAT (which Redis computes in long double: see
/// [`LongDouble`], what INCRBYFLOAT uses).
pub fn parse_float(s: &[u8]) -> Option<f64> {
    if s.is_empty()
        || s.len() > 5000
        || s[0].is_ascii_whitespace()
        || s[s.len() - 1].is_ascii_whitespace()
    {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let v: f64 = text.parse().ok()?;
    // Out of range (ERANGE in strtold) is rejected; a literal "inf" is not.
    let overflow = v.is_infinite() && !text.to_ascii_lowercase().contains("inf");
    (!v.is_nan() && !overflow).then_some(v)
}

/// Formats an f64 like Redis's human long-double form: fixed-point, no
/// exponent, trailing zeros trimmed (`3`, `10.6`). Used by HINCRBYFLOAT;
/// exact only where f64 and long double agree ([`LongDouble::human`] is
/// exact).
pub fn fmt_human(v: f64) -> String {
    // Rust's shortest round-trip Display never uses an exponent.
    format!("{v}")
}

/// INCRBYFLOAT key increment: the new value as a bulk string, TTL kept.
/// Computed as Redis does, in x87 80-bit `long double` and printed with
/// `%.17Lf` trimmed ([`LongDouble`]): `0.1 + 0.2` gives `0.3`, `1e400` is
/// a valid increment. The result is stored as a string even when it looks
/// like an integer (OBJECT ENCODING `embstr`, as Redis's
/// `createStringObjectFromLongDouble`). Errors, in Redis's order:
/// WRONGTYPE, `value is not a valid float` (the stored value, then the
/// increment), `increment would produce NaN or Infinity`.
fn incrbyfloat(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    let (cur, at) = match db.get(h, &args[1], now) {
        Some(e) => {
            let cur = match &e.value {
                Value::Int(n) => LongDouble::from_i64(*n),
                Value::Str(s) => LongDouble::parse(s).ok_or(CmdError::NotFloat)?,
                _ => return Err(CmdError::WrongType),
            };
            (cur, e.expire_at())
        }
        None => (LongDouble::ZERO, 0),
    };
    let by = LongDouble::parse(&args[2]).ok_or(CmdError::NotFloat)?;
    let v = cur.add(by);
    if !v.is_finite() {
        return Err(CmdError::Msg(errors::INCR_FLOAT_NAN));
    }
    let s = v.human().into_bytes();
    ctx.out.bulk(&s);
    db.set(h, &args[1], Value::Str(Str::from(s)), at, now);
    Ok(())
}

/// APPEND key value: the new length. Errors: `string exceeds maximum
/// allowed size (proto-max-bulk-len)`.
fn append(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let max = ctx.sh.max_bulk();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    let len = match db.get_mut(h, &args[1], now) {
        Some(e) => {
            let cur = string_bytes(&e.value)?;
            let total = cur.len() + args[2].len();
            if total as u64 > max {
                return Err(CmdError::Msg(errors::STRING_TOO_LONG));
            }
            let mut v = Vec::with_capacity(total);
            v.extend_from_slice(&cur);
            v.extend_from_slice(&args[2]);
            // Redis appends to a private raw copy: "raw" however short.
            e.value = Value::Str(Str::raw(v));
            total
        }
        None => {
            db.set(h, &args[1], Value::from_bytes(&args[2]), 0, now);
            args[2].len()
        }
    };
    ctx.out.int(len as i64);
    Ok(())
}

/// STRLEN key: the length of the value, 0 if missing.
fn strlen(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let n = match ctx.sh.dbs[ctx.db].get(h, &args[1], now) {
        Some(e) => string_bytes(&e.value)?.len(),
        None => 0,
    };
    ctx.out.int(n as i64);
    Ok(())
}

/// GETRANGE (and SUBSTR) key start end: inclusive, negative offsets count
/// from the end, clamped as Redis does.
fn getrange(ctx: &mut Ctx) -> CmdResult {
    let mut start = ctx.int_arg(2)?;
    let mut end = ctx.int_arg(3)?;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let Some(e) = ctx.sh.dbs[ctx.db].get(h, &args[1], now) else {
        ctx.out.bulk(b"");
        return Ok(());
    };
    let s = string_bytes(&e.value)?;
    let len = s.len() as i64;
    // Redis: both negative and start > end gives an empty string.
    if start < 0 && end < 0 && start > end {
        ctx.out.bulk(b"");
        return Ok(());
    }
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        ctx.out.bulk(b"");
    } else {
        ctx.out.bulk(&s[start as usize..=end as usize]);
    }
    Ok(())
}

/// SETRANGE key offset value: the new length; zero-padded. Errors: `offset
/// is out of range` (negative), `string exceeds maximum allowed size`.
fn setrange(ctx: &mut Ctx) -> CmdResult {
    let off = ctx.int_arg(2)?;
    if off < 0 {
        return Err(CmdError::Msg(errors::OFFSET_OUT_OF_RANGE));
    }
    let off = off as u64;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let max = ctx.sh.max_bulk();
    let args = ctx.args;
    let val = &args[3];
    let db = &mut ctx.sh.dbs[ctx.db];
    let cur: Option<Vec<u8>> = match db.get(h, &args[1], now) {
        Some(e) => Some(string_bytes(&e.value)?.into_owned()),
        None => None,
    };
    if val.is_empty() {
        ctx.out.int(cur.map(|c| c.len()).unwrap_or(0) as i64);
        return Ok(());
    }
    if off + val.len() as u64 > max {
        return Err(CmdError::Msg(errors::STRING_TOO_LONG));
    }
    let mut s = cur.unwrap_or_default();
    let end = off as usize + val.len();
    if s.len() < end {
        s.resize(end, 0);
    }
    s[off as usize..end].copy_from_slice(val);
    let len = s.len();
    // Redis edits a raw string in place: "raw" however short.
    match db.get_mut(h, &args[1], now) {
        Some(e) => e.value = Value::Str(Str::raw(s)),
        None => {
            db.set(h, &args[1], Value::Str(Str::raw(s)), 0, now);
        }
    }
    ctx.out.int(len as i64);
    Ok(())
}

/// LCS options.
#[derive(Clone, Copy)]
struct LcsOpts {
    len: bool,
    idx: bool,
    min: i64,
    with_len: bool,
}

/// LCS options; errors (syntax, not-an-integer, LEN with IDX) are reported
/// only after both keys passed the type check, as in Redis.
fn lcs_opts(ctx: &Ctx) -> Result<LcsOpts, CmdError> {
    let mut o = LcsOpts {
        len: false,
        idx: false,
        min: 0,
        with_len: false,
    };
    let mut i = 3;
    while i < ctx.args.len() {
        if ctx.arg_is(i, "LEN") {
            o.len = true;
        } else if ctx.arg_is(i, "IDX") {
            o.idx = true;
        } else if ctx.arg_is(i, "WITHMATCHLEN") {
            o.with_len = true;
        } else if ctx.arg_is(i, "MINMATCHLEN") && i + 1 < ctx.args.len() {
            o.min = ctx.int_arg(i + 1)?.max(0);
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if o.len && o.idx {
        return Err(CmdError::Msg(LCS_BOTH));
    }
    Ok(o)
}

/// A key's value for LCS: missing is empty; another type is Redis's
/// `The specified keys must contain string values` (not WRONGTYPE).
fn lcs_value(v: Option<&Value>) -> Result<Vec<u8>, CmdError> {
    match v {
        None => Ok(Vec::new()),
        Some(v) => string_bytes(v)
            .map(|c| c.into_owned())
            .map_err(|_| CmdError::Msg(LCS_TYPE)),
    }
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
/// (<https://redis.io/docs/latest/commands/lcs/>). Missing keys count as
/// empty strings. When key2 lives on another shard, key1's value travels
/// there in a hop and the reply comes from that shard. Errors, in Redis's
/// order: both keys' types, then the options.
fn lcs(ctx: &mut Ctx) -> CmdResult {
    let opts = lcs_opts(ctx);
    let now = ctx.now();
    let h = ctx.key_hash(1);
    let args = ctx.args;
    let a = lcs_value(ctx.sh.dbs[ctx.db].get(h, &args[1], now).map(|e| &e.value))?;
    let target = ctx.sh.shard_of(&args[2]);
    if target == ctx.sh.id {
        let b = lcs_value(
            ctx.sh.dbs[ctx.db]
                .get(key_hash(&args[2]), &args[2], now)
                .map(|e| &e.value),
        )?;
        return lcs_reply(ctx.out, &a, &b, opts?, ctx.sh.max_bulk());
    }
    ctx.deferred = true;
    let (db, to, key2) = (ctx.db, ctx.reply_to, args[2].clone());
    ctx.sh.hop(target, move |sh| {
        let now = sh.now_ms;
        let max = sh.max_bulk();
        let b = lcs_value(
            sh.dbs[db]
                .get(key_hash(&key2), &key2, now)
                .map(|e| &e.value),
        );
        sh.reply_later(to, |r| {
            let res = b.and_then(|b| {
                let o = opts?;
                let mark = r.buf.len();
                lcs_reply(r, &a, &b, o, max).inspect_err(|_| r.buf.truncate(mark))
            });
            if let Err(e) = res {
                r.error(e.text());
            }
        });
    });
    Ok(())
}

/// Computes the LCS of `a` and `b` with Redis's dynamic programme and
/// backtrack (`t_string.c`, `lcsCommand`), so IDX ranges come out in the
/// same order (from the end of the strings).
fn lcs_reply(out: &mut Reply, a: &[u8], b: &[u8], o: LcsOpts, max_bulk: u64) -> CmdResult {
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1).saturating_mul(blen as u64 + 1);
    if cells.saturating_mul(4) > max_bulk {
        return Err(CmdError::Msg(LCS_MEMORY));
    }
    let w = blen + 1;
    let mut t = vec![0u32; (alen + 1) * w];
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let total = t[alen * w + blen] as usize;
    if o.len {
        out.int(total as i64);
        return Ok(());
    }
    let mut result = vec![0u8; total];
    let mut matches: Vec<(usize, usize, usize, usize)> = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, total);
    let (mut as_, mut ae, mut bs, mut be) = (alen, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if as_ == alen {
                as_ = i - 1;
                ae = i - 1;
                bs = j - 1;
                be = j - 1;
            } else if as_ == i && bs == j {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if as_ != alen {
                emit = true;
            }
        }
        if emit {
            let mlen = ae - as_ + 1;
            if o.min == 0 || mlen as i64 >= o.min {
                matches.push((as_, ae, bs, be));
            }
            as_ = alen;
        }
    }
    if !o.idx {
        out.bulk(&result);
        return Ok(());
    }
    out.map(2);
    out.bulk(b"matches");
    out.array(matches.len());
    for (as_, ae, bs, be) in matches {
        out.array(if o.with_len { 3 } else { 2 });
        out.array(2);
        out.int(as_ as i64);
        out.int(ae as i64);
        out.array(2);
        out.int(bs as i64);
        out.int(be as i64);
        if o.with_len {
            out.int((ae - as_ + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::Harness;

    #[test]
    fn set_options_and_errors() {
        let mut h = Harness::default();
        assert_eq!(h.run(&["set", "k", "v"]), "+OK\r\n");
        assert_eq!(h.run(&["set", "k", "w", "nx"]), "$-1\r\n");
        assert_eq!(h.run(&["set", "k", "w", "nx", "get"]), "$1\r\nv\r\n");
        assert_eq!(h.run(&["set", "n", "w", "xx"]), "$-1\r\n");
        assert_eq!(h.run(&["set", "k", "w", "xx", "get"]), "$1\r\nv\r\n");
        assert_eq!(
            h.run(&["set", "k", "1", "nx", "xx"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            h.run(&["set", "k", "1", "ex", "10", "px", "10"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            h.run(&["set", "k", "1", "ex", "10", "keepttl"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(h.run(&["set", "k", "1", "ex"]), "-ERR syntax error\r\n");
        assert_eq!(
            h.run(&["set", "k", "1", "ex", "-1"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            h.run(&["set", "k", "1", "ex", "9223372036854775807"]),
            "-ERR invalid expire time in 'set' command\r\n"
        );
        assert_eq!(
            h.run(&["set", "k", "1", "px", "x"]),
            "-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(h.run(&["set", "k", "1", "exat", "1"]), "+OK\r\n");
        assert_eq!(h.run(&["get", "k"]), "$-1\r\n");
        assert_eq!(
            h.run(&["setex", "k", "0", "v"]),
            "-ERR invalid expire time in 'setex' command\r\n"
        );
        assert_eq!(
            h.run(&["psetex", "k", "-5", "v"]),
            "-ERR invalid expire time in 'psetex' command\r\n"
        );
        assert_eq!(h.run(&["set", "i", "12"]), "+OK\r\n");
        assert_eq!(h.run(&["get", "i"]), "$2\r\n12\r\n");
    }

    #[test]
    fn counters() {
        let mut h = Harness::default();
        assert_eq!(h.run(&["incrby", "c", "5"]), ":5\r\n");
        assert_eq!(
            h.run(&["decrby", "c", "-9223372036854775808"]),
            "-ERR decrement would overflow\r\n"
        );
        assert_eq!(h.run(&["set", "c", "9223372036854775807"]), "+OK\r\n");
        assert_eq!(
            h.run(&["incr", "c"]),
            "-ERR increment or decrement would overflow\r\n"
        );
        assert_eq!(h.run(&["set", "f", "1.5"]), "+OK\r\n");
        assert_eq!(h.run(&["incrbyfloat", "f", "1.5"]), "$1\r\n3\r\n");
        assert_eq!(h.run(&["incrbyfloat", "g", "0.1"]), "$3\r\n0.1\r\n");
        // Long double, as Redis: no f64 artefacts, 1e400 in range.
        assert_eq!(h.run(&["incrbyfloat", "g", "0.2"]), "$3\r\n0.3\r\n");
        assert_eq!(h.run(&["incrbyfloat", "g", "-0.3"]), "$1\r\n0\r\n");
        assert!(
            h.run(&["incrbyfloat", "h", "1e400"])
                .starts_with("$401\r\n1000")
        );
        assert_eq!(
            h.run(&["incrbyfloat", "f", "inf"]),
            "-ERR increment would produce NaN or Infinity\r\n"
        );
        assert_eq!(
            h.run(&["incrbyfloat", "f", " 1"]),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(h.run(&["incrbyfloat", "g", "5.0e3"]), "$4\r\n5000\r\n");
        assert_eq!(h.run(&["incr", "f"]), ":4\r\n");
    }

    #[test]
    fn ranges_and_lcs() {
        let mut h = Harness::default();
        h.run(&["set", "s", "This is a string"]);
        assert_eq!(h.run(&["getrange", "s", "0", "3"]), "$4\r\nThis\r\n");
        assert_eq!(h.run(&["getrange", "s", "-3", "-1"]), "$3\r\ning\r\n");
        assert_eq!(
            h.run(&["getrange", "s", "0", "-1"]),
            "$16\r\nThis is a string\r\n"
        );
        assert_eq!(h.run(&["getrange", "s", "10", "100"]), "$6\r\nstring\r\n");
        assert_eq!(h.run(&["getrange", "s", "-1", "-5"]), "$0\r\n\r\n");
        assert_eq!(h.run(&["setrange", "e", "0", ""]), ":0\r\n");
        assert_eq!(h.run(&["get", "e"]), "$-1\r\n");
        h.run(&["set", "a", "ohmytext"]);
        h.run(&["set", "b", "mynewtext"]);
        assert_eq!(h.run(&["lcs", "a", "b"]), "$6\r\nmytext\r\n");
        assert_eq!(h.run(&["lcs", "a", "b", "len"]), ":6\r\n");
        assert_eq!(
            h.run(&["lcs", "a", "b", "len", "idx"]),
            format!("-{}\r\n", super::LCS_BOTH)
        );
        assert_eq!(
            h.run(&["lcs", "a", "b", "idx", "minmatchlen", "4", "withmatchlen"]),
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"
        );
        assert_eq!(
            h.run(&["lcs", "a", "b", "idx"]),
            "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n"
        );
    }
}
