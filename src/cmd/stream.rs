//! The stream family (<https://redis.io/docs/latest/commands/?group=stream>):
//! XADD XRANGE XREVRANGE XLEN XDEL XTRIM XREAD XREADGROUP XGROUP XACK
//! XPENDING XCLAIM XAUTOCLAIM XINFO XSETID, with Redis 7.0's replies, error
//! strings and propagation (`t_stream.c`); the value is
//! [`crate::store::stream`].
//!
//! Every command but XREAD and XREADGROUP names one key and runs on its
//! shard. XREAD and XREADGROUP read several streams: their first key's
//! shard coordinates them (a transaction over every key's shard when they
//! span several), visiting the keys in order twice, once to check them as
//! Redis does before serving anything (types, groups, IDs, `$` resolved),
//! then to serve. With BLOCK and nothing to serve, the client waits on
//! every key ([`crate::engine::blocking`]) until an XADD (or XGROUP
//! DESTROY) there serves it.
//!
//! Writes are logged as Redis propagates them: XADD and XTRIM with their
//! `~` trim made exact (`=` and the count or ID it reached, without LIMIT)
//! and XADD's generated ID spelled out; XREADGROUP, XCLAIM and XAUTOCLAIM
//! as the XCLAIM ... FORCE JUSTID LASTID, XGROUP SETID and XGROUP
//! CREATECONSUMER commands that rebuild their effect.

use std::sync::Arc;

use bytes::Bytes;

use super::{CmdError, CmdResult, Ctx, Handler, Shard, typed};
use crate::engine::blocking::{Op, block_with};
use crate::msg::{Claim, ReplyTo};
use crate::pubsub::notify::STREAM as NOTIFY_STREAM;
use crate::resp::parse::parse_i64;
use crate::resp::{Reply, errors};
use crate::spec::key_hash;
use crate::store::listpack::Elem;
use crate::store::stream::{
    Consumer, Fields, Group, INVALID_ENTRIES_READ, LISTPACK_MAX_SIZE, Nack, NodeLimits, Stream,
    StreamId,
};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("xadd", xadd),
    ("xrange", xrange),
    ("xrevrange", xrevrange),
    ("xlen", xlen),
    ("xdel", xdel),
    ("xtrim", xtrim),
    ("xread", xread),
    ("xreadgroup", xread),
    ("xgroup", xgroup),
    ("xack", xack),
    ("xpending", xpending),
    ("xclaim", xclaim),
    ("xautoclaim", xautoclaim),
    ("xinfo", xinfo),
    ("xsetid", xsetid),
];

const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const XADD_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const XADD_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const XADD_EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
const TOO_LARGE: &str = "ERR Elements are too large to be stored";
const BAD_START: &str = "ERR invalid start ID for the interval";
const BAD_END: &str = "ERR invalid end ID for the interval";
const NEED_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
/// Why a blocked XREADGROUP was answered when its stream was deleted or
/// replaced by another type.
const KEY_GONE: &str = "UNBLOCKED the stream key no longer exists";
/// Why a blocked XREADGROUP was answered when its group went away.
const GROUP_GONE: &str = "NOGROUP the consumer group this client was blocked on no longer exists";

// ---------------------------------------------------------------------
// IDs and replies

/// Redis's `string2ull`: a `string2ll` number that is not negative, or
/// else what `strtoull` accepts whole (leading blanks, a sign, digits; a
/// `-` wraps), never past 64 bits.
fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return u64::try_from(v).ok();
    }
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &s[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses a stream ID as `streamGenericParseIDOrReply`: `-` and `+` (not
/// when `strict`), `<ms>` (seq `missing_seq`), `<ms>-<seq>`, and with
/// `seq_given` also `<ms>-*` (which clears it). The text ends at a NUL as
/// the C string does. Errors: `Invalid stream ID ...`.
fn parse_id_full(
    a: &[u8],
    missing_seq: u64,
    strict: bool,
    mut seq_given: Option<&mut bool>,
) -> Result<StreamId, CmdError> {
    let bad = CmdError::Msg(INVALID_ID);
    if a.len() > 127 {
        return Err(bad);
    }
    let a = a.split(|&c| c == 0).next().unwrap_or_default();
    if strict && (a == b"-" || a == b"+") {
        return Err(bad);
    }
    if let Some(g) = seq_given.as_deref_mut() {
        *g = true;
    }
    if a == b"-" {
        return Ok(StreamId::MIN);
    }
    if a == b"+" {
        return Ok(StreamId::MAX);
    }
    let (ms, seq) = match memchr::memchr(b'-', a) {
        Some(d) => (&a[..d], Some(&a[d + 1..])),
        None => (a, None),
    };
    let ms = string2ull(ms).ok_or(bad.clone())?;
    let seq = match seq {
        None => missing_seq,
        Some(b"*") if seq_given.is_some() => {
            if let Some(g) = seq_given {
                *g = false;
            }
            0
        }
        Some(s) => string2ull(s).ok_or(bad)?,
    };
    Ok(StreamId::new(ms, seq))
}

/// A strict ID (`streamParseStrictIDOrReply`, no `-`/`+`).
fn strict_id(a: &[u8]) -> Result<StreamId, CmdError> {
    parse_id_full(a, 0, true, None)
}

/// An interval bound of XRANGE/XPENDING/XAUTOCLAIM
/// (`streamParseIntervalIDOrReply`): `(` makes it exclusive (then strict).
fn interval_id(a: &[u8], missing_seq: u64) -> Result<(StreamId, bool), CmdError> {
    if a.len() > 1 && a[0] == b'(' {
        Ok((parse_id_full(&a[1..], missing_seq, true, None)?, true))
    } else {
        Ok((parse_id_full(a, missing_seq, false, None)?, false))
    }
}

/// The start of an interval: exclusive bounds step up.
fn start_bound(a: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = interval_id(a, 0)?;
    if ex {
        id.incr().ok_or(CmdError::Msg(BAD_START))
    } else {
        Ok(id)
    }
}

/// The end of an interval: exclusive bounds step down.
fn end_bound(a: &[u8]) -> Result<StreamId, CmdError> {
    let (id, ex) = interval_id(a, u64::MAX)?;
    if ex {
        id.decr().ok_or(CmdError::Msg(BAD_END))
    } else {
        Ok(id)
    }
}

fn id_text(id: StreamId) -> Bytes {
    let mut b = [0u8; 41];
    Bytes::copy_from_slice(id.format(&mut b))
}

fn write_id(r: &mut Reply, id: StreamId) {
    let mut b = [0u8; 41];
    r.bulk(id.format(&mut b));
}

fn write_elem(r: &mut Reply, e: Elem) {
    match e {
        Elem::Int(v) => r.bulk_int(v),
        Elem::Str(s) => r.bulk(s),
    }
}

/// `[id, [field, value, ...]]`.
fn write_entry(r: &mut Reply, id: StreamId, f: &Fields) {
    r.array(2);
    write_id(r, id);
    r.array(f.len() * 2);
    for (a, b) in f {
        write_elem(r, *a);
        write_elem(r, *b);
    }
}

/// A whole-number argument (`getLongLongFromObjectOrReply`); `msg`
/// replaces not-an-integer.
fn ll(a: &[u8], msg: Option<&'static str>) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(msg.map_or(CmdError::NotInteger, CmdError::Msg))
}

/// [`super::subcommand_syntax_error`] as a command error.
fn sub_syntax(args: &[Bytes]) -> CmdError {
    CmdError::Owned(super::subcommand_syntax_error(args))
}

/// The stream at key argument `i`, None when missing. Errors: WRONGTYPE.
fn stream_at<'c>(ctx: &'c mut Ctx, i: usize) -> Result<Option<&'c mut Stream>, CmdError> {
    let h = ctx.key_hash(i);
    let now = ctx.now();
    typed::<Stream>(&mut ctx.sh.dbs[ctx.db], h, &ctx.args[i], now)
}

/// The stream at key argument `i` borrowed from the shard alone, so the
/// reply stays writable. Errors: WRONGTYPE.
fn stream_in<'s>(
    sh: &'s mut Shard,
    db: usize,
    args: &[Bytes],
    h: u64,
    i: usize,
) -> Result<Option<&'s mut Stream>, CmdError> {
    let now = sh.now_ms;
    typed::<Stream>(&mut sh.dbs[db], h, &args[i], now)
}

fn limits(sh: &Shard) -> NodeLimits {
    let e = sh.enc();
    NodeLimits {
        max_bytes: e.stream_node_max_bytes,
        max_entries: e.stream_node_max_entries,
    }
}

// ---------------------------------------------------------------------
// XADD and XTRIM

#[derive(Clone, Copy, PartialEq)]
enum Strategy {
    None,
    MaxLen(u64),
    MinId(StreamId),
}

/// The options of XADD and XTRIM (`streamAddTrimArgs`).
struct AddTrim {
    strategy: Strategy,
    approx: bool,
    limit: i64,
    /// Index of the MAXLEN/MINID threshold (rewritten when `approx`).
    arg_idx: usize,
    /// Index of LIMIT's value, 0 if none (left out of the log).
    limit_idx: usize,
    /// XADD: the ID given (and whether its sequence was), its index.
    id: Option<(StreamId, bool)>,
    idpos: usize,
    no_mkstream: bool,
}

/// Parses XADD's (`xadd`) or XTRIM's options from argument 2 as
/// `streamParseAddOrTrimArgsOrReply` does. Errors: Redis's, in its order.
fn parse_add_trim(args: &[Bytes], xadd: bool, node_entries: i64) -> Result<AddTrim, CmdError> {
    let mut o = AddTrim {
        strategy: Strategy::None,
        approx: false,
        limit: 0,
        arg_idx: 0,
        limit_idx: 0,
        id: None,
        idpos: 0,
        no_mkstream: false,
    };
    let argc = args.len();
    let mut limit_given = false;
    let mut i = 2;
    while i < argc {
        let more = argc - 1 - i;
        let opt = &args[i][..];
        if xadd && opt == b"*" {
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid"))
            && more > 0
        {
            if o.strategy != Strategy::None {
                return Err(CmdError::Msg(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            o.approx = false;
            let next = &args[i + 1][..];
            if more >= 2 && next == b"~" {
                o.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            if opt.eq_ignore_ascii_case(b"maxlen") {
                let n = ll(&args[i + 1], None)?;
                if n < 0 {
                    return Err(CmdError::Msg("ERR The MAXLEN argument must be >= 0."));
                }
                o.strategy = Strategy::MaxLen(n as u64);
            } else {
                o.strategy = Strategy::MinId(strict_id(&args[i + 1])?);
            }
            i += 1;
            o.arg_idx = i;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            let n = ll(&args[i + 1], None)?;
            if n < 0 {
                return Err(CmdError::Msg("ERR The LIMIT argument must be >= 0."));
            }
            o.limit = n;
            limit_given = true;
            o.limit_idx = i + 1;
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            o.no_mkstream = true;
        } else if xadd {
            let mut seq_given = false;
            let id = parse_id_full(opt, 0, true, Some(&mut seq_given))?;
            o.id = Some((id, seq_given));
            break;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    o.idpos = i;
    if o.limit != 0 && o.strategy == Strategy::None {
        return Err(CmdError::Msg(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && o.strategy == Strategy::None {
        return Err(CmdError::Msg(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !o.approx {
            return Err(CmdError::Msg(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if o.approx {
        // At most 100 nodes' worth of work per trim.
        o.limit = node_entries.saturating_mul(100);
        if o.limit <= 0 {
            o.limit = 10000;
        }
        o.limit = o.limit.min(1_000_000);
    } else {
        o.limit = 0;
    }
    Ok(o)
}

/// Trims `s` by `o`'s strategy; the entries removed.
fn trim_by(s: &mut Stream, o: &AddTrim) -> i64 {
    match o.strategy {
        Strategy::None => 0,
        Strategy::MaxLen(m) => s.trim(Some(m), StreamId::MIN, o.approx, o.limit),
        Strategy::MinId(id) => s.trim(None, id, o.approx, o.limit),
    }
}

/// The command as logged: `~` made `=` with the count (MAXLEN) or first
/// ID (MINID, tombstones included) the trim reached, LIMIT dropped, and
/// for XADD the ID it used (`streamRewriteTrimArgument`).
fn logged_args(args: &[Bytes], o: &AddTrim, s: &Stream, added: Option<StreamId>) -> Vec<Bytes> {
    let mut out = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        if o.approx && i == o.arg_idx - 1 {
            out.push(Bytes::from_static(b"="));
        } else if o.approx && i == o.arg_idx {
            out.push(match o.strategy {
                Strategy::MaxLen(_) => Bytes::from(s.length.to_string()),
                _ => id_text(s.edge_id(true, true)),
            });
        } else if o.limit_idx != 0 && (i == o.limit_idx || i == o.limit_idx - 1) {
            continue;
        } else if let (Some(id), true) = (added, i == o.idpos) {
            out.push(id_text(id));
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]
/// *|id field value [field value ...]
/// (<https://redis.io/docs/latest/commands/xadd/>): the new entry's ID,
/// or null with NOMKSTREAM on a missing key. Errors: wrong number of
/// arguments, Invalid stream ID, `must be greater than 0-0`, `equal or
/// smaller than the target stream top item`, the trim options' errors,
/// WRONGTYPE.
fn xadd(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx.sh);
    let o = parse_add_trim(ctx.args, true, lim.max_entries)?;
    let field_pos = o.idpos + 1;
    let argc = ctx.args.len();
    if argc < field_pos + 2 || (argc - field_pos) % 2 == 1 {
        return Err(ctx.arity_error());
    }
    if let Some((id, true)) = o.id {
        if id.is_zero() {
            return Err(CmdError::Msg(XADD_ZERO));
        }
    }
    let (db, now) = (ctx.db, ctx.now());
    let h = ctx.key_hash(1);
    let args = ctx.args;
    let logging = ctx.sh.logging;
    if o.no_mkstream && typed::<Stream>(&mut ctx.sh.dbs[db], h, &args[1], now)?.is_none() {
        ctx.out.null();
        ctx.sh.propagate_nothing();
        return Ok(());
    }
    let d = &mut ctx.sh.dbs[db];
    let s = super::typed_or_new::<Stream>(d, h, &args[1], now, Stream::default)?;
    if s.last_id == StreamId::MAX {
        return Err(CmdError::Msg(XADD_EXHAUSTED));
    }
    let id = match o.id {
        None => {
            if now > s.last_id.ms {
                StreamId::new(now, 0)
            } else {
                s.last_id.incr().ok_or(CmdError::Msg(XADD_SMALL))?
            }
        }
        Some((id, true)) => id,
        Some((id, false)) => {
            if s.last_id.ms == id.ms {
                s.last_id
                    .incr()
                    .filter(|n| n.ms == id.ms)
                    .ok_or(CmdError::Msg(XADD_SMALL))?
            } else {
                id
            }
        }
    };
    if id <= s.last_id {
        return Err(CmdError::Msg(XADD_SMALL));
    }
    let pairs = &args[field_pos..];
    if pairs.iter().map(|p| p.len()).sum::<usize>() > LISTPACK_MAX_SIZE {
        return Err(CmdError::Msg(TOO_LARGE));
    }
    s.append(id, pairs, lim);
    write_id(ctx.out, id);
    let trimmed = trim_by(s, &o);
    // Built only when a log takes it (the common XADD logs nothing).
    let generated = !matches!(o.id, Some((_, true)));
    let logged = logging.then(|| logged_args(args, &o, s, generated.then_some(id)));
    ctx.sh.notify(NOTIFY_STREAM, "xadd", db, &args[1]);
    if trimmed > 0 {
        ctx.sh.notify(NOTIFY_STREAM, "xtrim", db, &args[1]);
    }
    match logged {
        Some(l) => ctx.sh.propagate_args(db, &l),
        None => ctx.sh.propagate_nothing(),
    }
    ctx.sh.key_ready(db, &args[1]);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
/// (<https://redis.io/docs/latest/commands/xtrim/>): entries removed.
/// Errors: the trim options' errors, WRONGTYPE.
fn xtrim(ctx: &mut Ctx) -> CmdResult {
    let lim = limits(ctx.sh);
    let o = parse_add_trim(ctx.args, false, lim.max_entries)?;
    let (db, args) = (ctx.db, ctx.args);
    let Some(s) = stream_at(ctx, 1)? else {
        ctx.out.int(0);
        ctx.sh.propagate_nothing();
        return Ok(());
    };
    let n = trim_by(s, &o);
    let logged = (n > 0).then(|| logged_args(args, &o, s, None));
    ctx.out.int(n);
    match logged {
        Some(l) => {
            ctx.sh.notify(NOTIFY_STREAM, "xtrim", db, &args[1]);
            ctx.sh.propagate_args(db, &l);
        }
        None => ctx.sh.propagate_nothing(),
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Reads of one stream

/// XRANGE key start end [COUNT count]: entries from `start` to `end`.
fn xrange(ctx: &mut Ctx) -> CmdResult {
    range_command(ctx, false)
}

/// XREVRANGE key end start [COUNT count]: XRANGE backwards.
fn xrevrange(ctx: &mut Ctx) -> CmdResult {
    range_command(ctx, true)
}

/// XRANGE and XREVRANGE (<https://redis.io/docs/latest/commands/xrange/>):
/// `[[id, [field, value...]]...]`, a null array for COUNT 0. Errors:
/// Invalid stream ID, invalid start/end ID for the interval, syntax
/// error, not an integer, WRONGTYPE.
fn range_command(ctx: &mut Ctx, rev: bool) -> CmdResult {
    let (sa, ea) = if rev { (3, 2) } else { (2, 3) };
    let start = start_bound(&ctx.args[sa])?;
    let end = end_bound(&ctx.args[ea])?;
    let mut count: i64 = -1;
    let mut j = 4;
    while j < ctx.args.len() {
        if ctx.arg_is(j, "count") && j + 1 < ctx.args.len() {
            count = ll(&ctx.args[j + 1], None)?.max(0);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let (s, out) = ctx.coll_out::<Stream>()?;
    let Some(s) = s else {
        out.array(0);
        return Ok(());
    };
    if count == 0 {
        out.null_array();
        return Ok(());
    }
    write_range(
        out,
        s,
        start,
        end,
        if count < 0 { 0 } else { count as usize },
        rev,
    );
    Ok(())
}

/// Writes `[[id, fields]...]` for up to `count` (0 = all) live entries.
fn write_range(
    out: &mut Reply,
    s: &Stream,
    start: StreamId,
    end: StreamId,
    count: usize,
    rev: bool,
) {
    let mut body = Reply::new(out.resp3);
    let mut n = 0;
    s.range(start, end, rev, false, |id, f| {
        write_entry(&mut body, id, f);
        n += 1;
        count == 0 || n < count
    });
    out.array(n);
    out.raw(&body.buf);
}

/// XLEN key (<https://redis.io/docs/latest/commands/xlen/>): live entries,
/// 0 for a missing key. Errors: WRONGTYPE.
fn xlen(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.coll::<Stream>()?.map_or(0, |s| s.length);
    ctx.out.int(n as i64);
    Ok(())
}

/// XDEL key id [id ...] (<https://redis.io/docs/latest/commands/xdel/>):
/// entries deleted. Errors: Invalid stream ID, WRONGTYPE.
fn xdel(ctx: &mut Ctx) -> CmdResult {
    let (db, args) = (ctx.db, ctx.args);
    // A missing key answers 0 before the IDs are read, as Redis.
    let Some(s) = stream_at(ctx, 1)? else {
        ctx.out.int(0);
        ctx.sh.propagate_nothing();
        return Ok(());
    };
    let ids = args[2..]
        .iter()
        .map(|a| strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let mut deleted = 0;
    let mut first = false;
    for id in ids {
        if s.delete(id) {
            first |= id == s.first_id;
            if id > s.max_deleted_id {
                s.max_deleted_id = id;
            }
            deleted += 1;
        }
    }
    if deleted > 0 {
        if s.length == 0 {
            s.first_id = StreamId::MIN;
        } else if first {
            s.first_id = s.edge_id(true, false);
        }
    }
    ctx.out.int(deleted);
    if deleted > 0 {
        ctx.sh.notify(NOTIFY_STREAM, "xdel", db, &args[1]);
    } else {
        ctx.sh.propagate_nothing();
    }
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]
/// (<https://redis.io/docs/latest/commands/xsetid/>): `+OK`. Errors:
/// Invalid stream ID, syntax error, `entries_added must be positive`, the
/// ID and length checks of Redis, `no such key`, WRONGTYPE.
fn xsetid(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let id = strict_id(&args[2])?;
    let mut added: i64 = -1;
    let mut max_del = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if ctx.arg_is(i, "entriesadded") && more > 0 {
            added = ll(&args[i + 1], None)?;
            if added < 0 {
                return Err(CmdError::Msg("ERR entries_added must be positive"));
            }
        } else if ctx.arg_is(i, "maxdeletedid") && more > 0 {
            max_del = strict_id(&args[i + 1])?;
            if id < max_del {
                return Err(CmdError::Msg(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let db = ctx.db;
    let s = stream_at(ctx, 1)?.ok_or(CmdError::NoSuchKey)?;
    if s.length > 0 {
        if id < s.last_valid_id() {
            return Err(CmdError::Msg(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
        if added != -1 && s.length > added as u64 {
            return Err(CmdError::Msg(
                "ERR The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    s.last_id = id;
    if added != -1 {
        s.entries_added = added as u64;
    }
    if !max_del.is_zero() {
        s.max_deleted_id = max_del;
    }
    ctx.out.ok();
    ctx.sh.notify(NOTIFY_STREAM, "xsetid", db, &args[1]);
    Ok(())
}

// ---------------------------------------------------------------------
// Consumer groups

/// Looks up consumer `name` of `g`, refreshing its seen time, or creates
/// it; true if created (`streamLookupConsumer`, `streamCreateConsumer`).
fn consumer(g: &mut Group, name: &Bytes, now: u64) -> bool {
    match g.consumers.get_mut(name) {
        Some(c) => {
            c.seen_time = now;
            false
        }
        None => {
            g.consumers.insert(
                name.clone(),
                Consumer {
                    seen_time: now,
                    pel: Default::default(),
                },
            );
            true
        }
    }
}

/// A command to log, built while the stream is borrowed.
type Logged = Vec<Bytes>;

/// `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID
/// LASTID last` for pending entry `id` (`streamPropagateXCLAIM`).
fn xclaim_log(key: &Bytes, group: &Bytes, g: &Group, id: StreamId, n: &Nack) -> Logged {
    vec![
        Bytes::from_static(b"XCLAIM"),
        key.clone(),
        group.clone(),
        n.consumer.clone(),
        Bytes::from_static(b"0"),
        id_text(id),
        Bytes::from_static(b"TIME"),
        Bytes::from(n.delivery_time.to_string()),
        Bytes::from_static(b"RETRYCOUNT"),
        Bytes::from(n.delivery_count.to_string()),
        Bytes::from_static(b"FORCE"),
        Bytes::from_static(b"JUSTID"),
        Bytes::from_static(b"LASTID"),
        id_text(g.last_id),
    ]
}

/// `XGROUP SETID key group last ENTRIESREAD n` (`streamPropagateGroupID`).
fn setid_log(key: &Bytes, group: &Bytes, g: &Group) -> Logged {
    vec![
        Bytes::from_static(b"XGROUP"),
        Bytes::from_static(b"SETID"),
        key.clone(),
        group.clone(),
        id_text(g.last_id),
        Bytes::from_static(b"ENTRIESREAD"),
        Bytes::from(g.entries_read.to_string()),
    ]
}

/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP
/// (<https://redis.io/docs/latest/commands/xgroup/>). Errors: unknown
/// subcommand, wrong number of arguments for `xgroup|<sub>`, the key must
/// exist, NOGROUP, BUSYGROUP, Invalid stream ID, ENTRIESREAD's, WRONGTYPE.
fn xgroup(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let sub = super::subcommand(
        args,
        &[
            ("create", -5),
            ("setid", -5),
            ("destroy", 4),
            ("createconsumer", 5),
            ("delconsumer", 5),
            ("help", 2),
        ],
    )?;
    if sub == "help" {
        super::write_help(ctx.out, "XGROUP", XGROUP_HELP);
        ctx.sh.propagate_nothing();
        return Ok(());
    }
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    let mut i = 5;
    while i < args.len() {
        if sub == "create" && ctx.arg_is(i, "mkstream") {
            mkstream = true;
            i += 1;
        } else if (sub == "create" || sub == "setid")
            && ctx.arg_is(i, "entriesread")
            && i + 1 < args.len()
        {
            entries_read = ll(&args[i + 1], None)?;
            if entries_read < 0 && entries_read != INVALID_ENTRIES_READ {
                return Err(CmdError::Msg(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            i += 2;
        } else {
            return Err(sub_syntax(args));
        }
    }
    let (db, now) = (ctx.db, ctx.now());
    let key = &args[2];
    let gname = &args[3];
    let exists = stream_at(ctx, 2)?.is_some();
    if !mkstream {
        if !exists {
            return Err(CmdError::Msg(NEED_KEY));
        }
        let has = stream_at(ctx, 2)?.is_some_and(|s| s.groups.contains_key(gname));
        if !has && matches!(sub.as_str(), "setid" | "createconsumer" | "delconsumer") {
            return Err(CmdError::Owned(format!(
                "NOGROUP No such consumer group '{}' for key name '{}'",
                String::from_utf8_lossy(gname),
                String::from_utf8_lossy(key)
            )));
        }
    }
    match sub.as_str() {
        "create" if args.len() <= 8 => {
            let given = if &args[4][..] == b"$" {
                None
            } else {
                Some(strict_id(&args[4])?)
            };
            let h = ctx.key_hash(2);
            let s =
                super::typed_or_new::<Stream>(&mut ctx.sh.dbs[db], h, key, now, Stream::default)?;
            let id = given.unwrap_or(s.last_id);
            if s.groups.contains_key(gname) {
                return Err(CmdError::Msg(
                    "BUSYGROUP Consumer Group name already exists",
                ));
            }
            s.groups.insert(gname.clone(), Group::new(id, entries_read));
            ctx.out.ok();
            ctx.sh.notify(NOTIFY_STREAM, "xgroup-create", db, key);
        }
        "setid" if args.len() == 5 || args.len() == 7 => {
            let s = stream_at(ctx, 2)?.ok_or(CmdError::Msg(NEED_KEY))?;
            let id = if &args[4][..] == b"$" {
                s.last_id
            } else {
                parse_id_full(&args[4], 0, false, None)?
            };
            if let Some(g) = s.groups.get_mut(gname) {
                g.last_id = id;
                g.entries_read = entries_read;
            }
            ctx.out.ok();
            ctx.sh.notify(NOTIFY_STREAM, "xgroup-setid", db, key);
        }
        "destroy" => {
            let s = stream_at(ctx, 2)?.ok_or(CmdError::Msg(NEED_KEY))?;
            if s.groups.remove(gname).is_some() {
                ctx.out.int(1);
                ctx.sh.notify(NOTIFY_STREAM, "xgroup-destroy", db, key);
                // Its blocked readers learn it is gone.
                ctx.sh.key_ready(db, key);
            } else {
                ctx.out.int(0);
                ctx.sh.propagate_nothing();
            }
        }
        "createconsumer" => {
            let s = stream_at(ctx, 2)?.ok_or(CmdError::Msg(NEED_KEY))?;
            let g = s.groups.get_mut(gname).ok_or_else(|| nogroup(key, gname))?;
            let created = !g.consumers.contains_key(&args[4]) && consumer(g, &args[4], now);
            ctx.out.int(created as i64);
            if created {
                ctx.sh
                    .notify(NOTIFY_STREAM, "xgroup-createconsumer", db, key);
            } else {
                ctx.sh.propagate_nothing();
            }
        }
        "delconsumer" => {
            let s = stream_at(ctx, 2)?.ok_or(CmdError::Msg(NEED_KEY))?;
            let g = s.groups.get_mut(gname).ok_or_else(|| nogroup(key, gname))?;
            let pending = match g.consumers.remove(&args[4]) {
                Some(c) => {
                    for id in &c.pel {
                        g.pel.remove(id);
                    }
                    Some(c.pel.len())
                }
                None => None,
            };
            ctx.out.int(pending.unwrap_or(0) as i64);
            if pending.is_some() {
                ctx.sh.notify(NOTIFY_STREAM, "xgroup-delconsumer", db, key);
            } else {
                ctx.sh.propagate_nothing();
            }
        }
        _ => return Err(sub_syntax(args)),
    }
    Ok(())
}

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// XACK key group id [id ...] (<https://redis.io/docs/latest/commands/xack/>):
/// entries acknowledged, 0 for a missing key or group. Errors: Invalid
/// stream ID, WRONGTYPE.
fn xack(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let Some(s) = stream_at(ctx, 1)? else {
        ctx.out.int(0);
        ctx.sh.propagate_nothing();
        return Ok(());
    };
    let Some(g) = s.groups.get_mut(&args[2]) else {
        ctx.out.int(0);
        ctx.sh.propagate_nothing();
        return Ok(());
    };
    let ids = args[3..]
        .iter()
        .map(|a| strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let n = ids.into_iter().filter(|&id| g.ack(id)).count();
    ctx.out.int(n as i64);
    if n == 0 {
        ctx.sh.propagate_nothing();
    }
    Ok(())
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Owned(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// XPENDING key group [[IDLE min-idle] start end count [consumer]]
/// (<https://redis.io/docs/latest/commands/xpending/>): the summary
/// `[count, first, last, [[consumer, count]...]]`, or the entries
/// `[[id, consumer, idle ms, deliveries]...]`. Errors: syntax error, not
/// an integer, Invalid stream ID, the interval errors, NOGROUP, WRONGTYPE.
fn xpending(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let argc = args.len();
    let summary = argc == 3;
    if argc != 3 && !(6..=9).contains(&argc) {
        return Err(CmdError::Syntax);
    }
    let (mut start, mut end, mut count, mut minidle) = (StreamId::MIN, StreamId::MAX, 0i64, 0i64);
    let mut cname = None;
    if argc >= 6 {
        let mut si = 3;
        if ctx.arg_is(3, "idle") {
            minidle = ll(&args[4], None)?;
            if argc < 8 {
                return Err(CmdError::Syntax);
            }
            si += 2;
        }
        count = ll(&args[si + 2], None)?.max(0);
        start = start_bound(&args[si])?;
        end = end_bound(&args[si + 1])?;
        cname = args.get(si + 3);
    }
    let now = ctx.now();
    let (s, out) = ctx.coll_out::<Stream>()?;
    let Some(g) = s.and_then(|s| s.groups.get(&args[2])) else {
        return Err(nogroup(&args[1], &args[2]));
    };
    if summary {
        out.array(4);
        out.int(g.pel.len() as i64);
        match (g.pel.first_key_value(), g.pel.last_key_value()) {
            (Some((a, _)), Some((b, _))) => {
                write_id(out, *a);
                write_id(out, *b);
                let owners: Vec<_> = g
                    .consumers
                    .iter()
                    .filter(|(_, c)| !c.pel.is_empty())
                    .collect();
                out.array(owners.len());
                for (name, c) in owners {
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(c.pel.len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return Ok(());
    }
    let ids: Box<dyn Iterator<Item = StreamId> + '_> = match cname {
        Some(n) => match g.consumers.get(n) {
            None => {
                out.array(0);
                return Ok(());
            }
            Some(c) => Box::new(c.pel.range(start..).copied()),
        },
        None => Box::new(g.pel.range(start..).map(|(k, _)| *k)),
    };
    let mut body = Reply::new(out.resp3);
    let mut n = 0;
    for id in ids {
        if count == 0 || id > end {
            break;
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        let idle = now.saturating_sub(nack.delivery_time) as i64;
        if minidle != 0 && idle < minidle {
            continue;
        }
        n += 1;
        count -= 1;
        body.array(4);
        write_id(&mut body, id);
        body.bulk(&nack.consumer);
        body.int(idle);
        body.int(nack.delivery_count as i64);
    }
    out.array(n);
    out.raw(&body.buf);
    Ok(())
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
/// [TIME unix-ms] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
/// (<https://redis.io/docs/latest/commands/xclaim/>): the entries (or
/// IDs) claimed. Errors: NOGROUP, `Invalid min-idle-time argument for
/// XCLAIM`, `Invalid IDLE|TIME|RETRYCOUNT option argument for XCLAIM`,
/// Invalid stream ID, `Unrecognized XCLAIM option`, WRONGTYPE.
fn xclaim(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (db, now) = (ctx.db, ctx.now());
    let key = &args[1];
    let gname = &args[2];
    let cname = &args[3];
    if !stream_at(ctx, 1)?.is_some_and(|s| s.groups.contains_key(gname)) {
        return Err(nogroup(key, gname));
    }
    let minidle = ll(
        &args[4],
        Some("ERR Invalid min-idle-time argument for XCLAIM"),
    )?
    .max(0);
    let mut ids = Vec::new();
    let mut j = 5;
    while j < args.len() {
        match strict_id(&args[j]) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let (mut force, mut justid) = (false, false);
    let mut retrycount: i64 = -1;
    let mut deliverytime: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if ctx.arg_is(j, "force") {
            force = true;
        } else if ctx.arg_is(j, "justid") {
            justid = true;
        } else if ctx.arg_is(j, "idle") && more > 0 {
            j += 1;
            let v = ll(
                &args[j],
                Some("ERR Invalid IDLE option argument for XCLAIM"),
            )?;
            deliverytime = (now as i64).wrapping_sub(v);
        } else if ctx.arg_is(j, "time") && more > 0 {
            j += 1;
            deliverytime = ll(
                &args[j],
                Some("ERR Invalid TIME option argument for XCLAIM"),
            )?;
        } else if ctx.arg_is(j, "retrycount") && more > 0 {
            j += 1;
            retrycount = ll(
                &args[j],
                Some("ERR Invalid RETRYCOUNT option argument for XCLAIM"),
            )?;
        } else if ctx.arg_is(j, "lastid") && more > 0 {
            j += 1;
            last_id = strict_id(&args[j])?;
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(&args[j])
            )));
        }
        j += 1;
    }
    let deliverytime = if deliverytime < 0 || deliverytime > now as i64 {
        now
    } else {
        deliverytime as u64
    };
    let h = ctx.key_hash(1);
    let s = stream_in(ctx.sh, db, args, h, 1)?.ok_or_else(|| nogroup(key, gname))?;
    let mut g = s.groups.remove(gname).ok_or_else(|| nogroup(key, gname))?;
    let mut propagate_last = false;
    if last_id > g.last_id {
        g.last_id = last_id;
        propagate_last = true;
    }
    let mut c = Claims::new(key, gname, cname, now, justid, ctx.out.resp3);
    for id in ids {
        let pending = g.pel.contains_key(&id);
        if !s.contains(id) {
            if pending {
                c.drop_deleted(&mut g, id);
                propagate_last = false;
            }
            continue;
        }
        if force && !pending {
            g.pel.insert(
                id,
                Nack {
                    delivery_time: now,
                    delivery_count: 1,
                    consumer: Bytes::new(),
                },
            );
        }
        let Some(nack) = g.pel.get(&id) else {
            continue;
        };
        if !nack.consumer.is_empty() && minidle != 0 {
            let idle = now as i64 - nack.delivery_time as i64;
            if idle < minidle {
                continue;
            }
        }
        let retry = u64::try_from(retrycount).ok();
        c.claim(&mut g, s, id, deliverytime, retry);
        propagate_last = false;
    }
    if propagate_last {
        c.logs.push(setid_log(key, gname, &g));
    }
    s.groups.insert(gname.clone(), g);
    ctx.out.array(c.n);
    ctx.out.raw(&c.body.buf);
    c.finish(ctx.sh, db);
    Ok(())
}

/// What XCLAIM and XAUTOCLAIM build while they claim: the reply's
/// entries (or IDs), the commands to log, and whether the claiming
/// consumer was created.
struct Claims<'a> {
    key: &'a Bytes,
    group: &'a Bytes,
    consumer: &'a Bytes,
    now: u64,
    justid: bool,
    body: Reply,
    n: usize,
    logs: Vec<Logged>,
    created: bool,
    looked_up: bool,
}

impl<'a> Claims<'a> {
    fn new(
        key: &'a Bytes,
        group: &'a Bytes,
        consumer: &'a Bytes,
        now: u64,
        justid: bool,
        resp3: bool,
    ) -> Self {
        Claims {
            key,
            group,
            consumer,
            now,
            justid,
            body: Reply::new(resp3),
            n: 0,
            logs: Vec::new(),
            created: false,
            looked_up: false,
        }
    }

    /// Pending entry `id` is no longer in the stream: it leaves the PEL,
    /// logged as the XCLAIM that drops it on a replay.
    fn drop_deleted(&mut self, g: &mut Group, id: StreamId) {
        if let Some(nack) = g.pel.get(&id).cloned() {
            self.logs
                .push(xclaim_log(self.key, self.group, g, id, &nack));
        }
        g.ack(id);
    }

    /// Gives pending entry `id` (in the stream) to the claiming consumer,
    /// created at its first claim, delivered at `time`: its count set to
    /// `retry`, or one more unless JUSTID. Writes the entry (or its ID).
    fn claim(&mut self, g: &mut Group, s: &Stream, id: StreamId, time: u64, retry: Option<u64>) {
        if !self.looked_up {
            self.created |= consumer(g, self.consumer, self.now);
            self.looked_up = true;
        }
        g.give(id, self.consumer);
        let Some(nack) = g.pel.get_mut(&id) else {
            return;
        };
        nack.delivery_time = time;
        match retry {
            Some(r) => nack.delivery_count = r,
            None if !self.justid => nack.delivery_count += 1,
            None => {}
        }
        let nack = nack.clone();
        if self.justid {
            write_id(&mut self.body, id);
        } else {
            let body = &mut self.body;
            s.range(id, id, false, false, |id, f| {
                write_entry(body, id, f);
                false
            });
        }
        self.n += 1;
        self.logs
            .push(xclaim_log(self.key, self.group, g, id, &nack));
    }

    /// Publishes the consumer's creation and logs what was claimed.
    fn finish(self, sh: &mut Shard, db: usize) {
        if self.created {
            sh.notify(NOTIFY_STREAM, "xgroup-createconsumer", db, self.key);
        }
        sh.propagate_nothing();
        for l in self.logs {
            sh.propagate_args(db, &l);
        }
    }
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count]
/// [JUSTID] (<https://redis.io/docs/latest/commands/xautoclaim/>):
/// `[next-start, [claimed...], [deleted-ids...]]`. Errors: `Invalid
/// min-idle-time argument for XAUTOCLAIM`, Invalid stream ID, the interval
/// error, `COUNT must be > 0`, syntax error, NOGROUP, WRONGTYPE.
fn xautoclaim(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let (db, now) = (ctx.db, ctx.now());
    let minidle = ll(
        &args[4],
        Some("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
    )?
    .max(0);
    let start = start_bound(&args[5])?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if ctx.arg_is(j, "count") && more > 0 {
            count = super::range_i64(
                &args[j + 1],
                1,
                i64::MAX / 16,
                Some("ERR COUNT must be > 0"),
            )?;
            j += 1;
        } else if ctx.arg_is(j, "justid") {
            justid = true;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let (key, gname, cname) = (&args[1], &args[2], &args[3]);
    if !stream_at(ctx, 1)?.is_some_and(|s| s.groups.contains_key(gname)) {
        return Err(nogroup(key, gname));
    }
    // Redis allocates COUNT IDs up front and fails past what the machine
    // can give (`ztrymalloc`); tandem never sizes anything by COUNT and
    // refuses the counts that allocation could not hold (16 GiB).
    if count > 1 << 30 {
        return Err(CmdError::Msg(
            "ERR Insufficient memory, failed allocating transient memory, COUNT too high.",
        ));
    }
    let h = ctx.key_hash(1);
    let s = stream_in(ctx.sh, db, args, h, 1)?.ok_or_else(|| nogroup(key, gname))?;
    let mut g = s.groups.remove(gname).ok_or_else(|| nogroup(key, gname))?;
    let mut attempts = count.saturating_mul(10);
    let mut cursor = Some(start);
    let mut deleted = Vec::new();
    let mut c = Claims::new(key, gname, cname, now, justid, ctx.out.resp3);
    loop {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        let Some(from) = cursor else {
            break;
        };
        let Some((&id, _)) = g.pel.range(from..).next() else {
            cursor = None;
            break;
        };
        cursor = id.incr();
        if !s.contains(id) {
            c.drop_deleted(&mut g, id);
            deleted.push(id);
            count -= 1;
            continue;
        }
        let delivered = g.pel.get(&id).map_or(now, |n| n.delivery_time);
        if minidle != 0 && (now as i64 - delivered as i64) < minidle {
            continue;
        }
        c.claim(&mut g, s, id, now, None);
        count -= 1;
    }
    let next = cursor
        .and_then(|c| g.pel.range(c..).next().map(|(k, _)| *k))
        .unwrap_or(StreamId::MIN);
    s.groups.insert(gname.clone(), g);
    let out = &mut *ctx.out;
    out.array(3);
    write_id(out, next);
    out.array(c.n);
    out.raw(&c.body.buf);
    out.array(deleted.len());
    for id in deleted {
        write_id(out, id);
    }
    c.finish(ctx.sh, db);
    Ok(())
}

/// XINFO STREAM key [FULL [COUNT n]] | GROUPS key | CONSUMERS key group |
/// HELP (<https://redis.io/docs/latest/commands/xinfo-stream/>): maps as
/// Redis 7.0 writes them. `radix-tree-nodes` counts nodes of tandem's
/// tree, not of Redis's radix tree. Errors: unknown subcommand, wrong
/// number of arguments, `no such key`, NOGROUP, not an integer, WRONGTYPE.
fn xinfo(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let sub = super::subcommand(
        args,
        &[("consumers", 4), ("groups", 3), ("stream", -3), ("help", 2)],
    )?;
    if sub == "help" {
        super::write_help(ctx.out, "XINFO", XINFO_HELP);
        return Ok(());
    }
    let now = ctx.now();
    let h = ctx.key_hash(2);
    let s = stream_in(ctx.sh, ctx.db, args, h, 2)?.ok_or(CmdError::NoSuchKey)?;
    let out = &mut *ctx.out;
    match sub.as_str() {
        "consumers" => {
            let Some(g) = s.groups.get(&args[3]) else {
                return Err(CmdError::Owned(format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    String::from_utf8_lossy(&args[3]),
                    String::from_utf8_lossy(&args[2])
                )));
            };
            out.array(g.consumers.len());
            for (name, c) in &g.consumers {
                out.map(3);
                out.bulk(b"name");
                out.bulk(name);
                out.bulk(b"pending");
                out.int(c.pel.len() as i64);
                out.bulk(b"idle");
                out.int(now.saturating_sub(c.seen_time) as i64);
            }
        }
        "groups" => {
            out.array(s.groups.len());
            for (name, g) in &s.groups {
                out.map(6);
                out.bulk(b"name");
                out.bulk(name);
                out.bulk(b"consumers");
                out.int(g.consumers.len() as i64);
                out.bulk(b"pending");
                out.int(g.pel.len() as i64);
                out.bulk(b"last-delivered-id");
                write_id(out, g.last_id);
                out.bulk(b"entries-read");
                write_entries_read(out, g);
                out.bulk(b"lag");
                match s.lag(g) {
                    Some(l) => out.int(l),
                    None => out.null(),
                }
            }
        }
        _ => stream_info(out, s, args)?,
    }
    Ok(())
}

fn write_entries_read(out: &mut Reply, g: &Group) {
    if g.entries_read != INVALID_ENTRIES_READ {
        out.int(g.entries_read);
    } else {
        out.null();
    }
}

/// XINFO STREAM key [FULL [COUNT n]] (`xinfoReplyWithStreamInfo`).
fn stream_info(out: &mut Reply, s: &Stream, args: &[Bytes]) -> CmdResult {
    let opts = &args[3..];
    let mut full = false;
    let mut count: i64 = 10;
    if !opts.is_empty() {
        if (opts.len() != 1 && opts.len() != 3) || !opts[0].eq_ignore_ascii_case(b"full") {
            return Err(sub_syntax(args));
        }
        full = true;
        if opts.len() == 3 {
            if !opts[1].eq_ignore_ascii_case(b"count") {
                return Err(sub_syntax(args));
            }
            count = ll(&opts[2], None)?;
            if count < 0 {
                count = 10;
            }
        }
    }
    let count = count as usize;
    out.map(if full { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.length as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.node_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(s.node_count() as i64 + 1);
    out.bulk(b"last-generated-id");
    write_id(out, s.last_id);
    out.bulk(b"max-deleted-entry-id");
    write_id(out, s.max_deleted_id);
    out.bulk(b"entries-added");
    out.int(s.entries_added as i64);
    out.bulk(b"recorded-first-entry-id");
    write_id(out, s.first_id);
    if !full {
        out.bulk(b"groups");
        out.int(s.groups.len() as i64);
        for (name, rev) in [(&b"first-entry"[..], false), (b"last-entry", true)] {
            out.bulk(name);
            let n = s.range(StreamId::MIN, StreamId::MAX, rev, false, |id, f| {
                write_entry(out, id, f);
                false
            });
            if n == 0 {
                out.null();
            }
        }
        return Ok(());
    }
    out.bulk(b"entries");
    write_range(out, s, StreamId::MIN, StreamId::MAX, count, false);
    out.bulk(b"groups");
    out.array(s.groups.len());
    let cap = |n: usize| if count == 0 { n } else { n.min(count) };
    for (name, g) in &s.groups {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        write_id(out, g.last_id);
        out.bulk(b"entries-read");
        write_entries_read(out, g);
        out.bulk(b"lag");
        match s.lag(g) {
            Some(l) => out.int(l),
            None => out.null(),
        }
        out.bulk(b"pel-count");
        out.int(g.pel.len() as i64);
        out.bulk(b"pending");
        out.array(cap(g.pel.len()));
        for (id, n) in g.pel.iter().take(cap(g.pel.len())) {
            out.array(4);
            write_id(out, *id);
            out.bulk(&n.consumer);
            out.int(n.delivery_time as i64);
            out.int(n.delivery_count as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            out.map(4);
            out.bulk(b"name");
            out.bulk(cname);
            out.bulk(b"seen-time");
            out.int(c.seen_time as i64);
            out.bulk(b"pel-count");
            out.int(c.pel.len() as i64);
            out.bulk(b"pending");
            out.array(cap(c.pel.len()));
            for id in c.pel.iter().take(cap(c.pel.len())) {
                // A consumer's IDs are always in the group's PEL.
                let (time, count) = g
                    .pel
                    .get(id)
                    .map_or((0, 0), |n| (n.delivery_time, n.delivery_count));
                out.array(3);
                write_id(out, *id);
                out.int(time as i64);
                out.int(count as i64);
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------
// XREAD and XREADGROUP

/// The group part of XREADGROUP.
#[derive(Debug, Clone)]
pub struct GroupRead {
    pub group: Bytes,
    pub consumer: Bytes,
    pub noack: bool,
}

/// What a blocked XREAD/XREADGROUP waits for, per key: the ID entries
/// must exceed (for a group, its last delivered ID is read at wake-up).
#[derive(Debug)]
pub struct StreamWait {
    pub ids: Vec<(Bytes, StreamId)>,
    /// Entries served per wake (XREAD's COUNT, 1000 without it).
    pub count: usize,
    pub group: Option<GroupRead>,
}

impl StreamWait {
    fn gt(&self, key: &[u8]) -> StreamId {
        self.ids
            .iter()
            .find(|(k, _)| &k[..] == key)
            .map_or(StreamId::MAX, |(_, id)| *id)
    }

    /// Whether `key` can serve this wait now: its stream has entries past
    /// the ID (or past the group's last delivered one), or the group is
    /// gone (it answers NOGROUP). A key of another type keeps it waiting.
    pub fn ready(&self, sh: &mut Shard, db: usize, key: &[u8]) -> bool {
        let now = sh.now_ms;
        let Ok(Some(s)) = typed::<Stream>(&mut sh.dbs[db], key_hash(key), key, now) else {
            // A group reader learns its stream is gone (UNBLOCKED).
            return self.group.is_some();
        };
        match &self.group {
            Some(gr) => s
                .groups
                .get(&gr.group)
                .is_none_or(|g| s.last_id > g.last_id),
            None => s.last_id > self.gt(key),
        }
    }

    /// Serves the wait from `key` (ready) to `to`:
    /// `[[key, [entries...]]]` (a one-entry map in RESP3), or NOGROUP.
    pub fn serve(&self, sh: &mut Shard, db: usize, key: &Bytes, to: ReplyTo) {
        let mut r = Reply::new(to.resp3);
        let gt = match &self.group {
            None => self.gt(key),
            Some(gr) => {
                let now = sh.now_ms;
                let d = &mut sh.dbs[db];
                let gone = match typed::<Stream>(d, key_hash(key), key, now) {
                    Ok(Some(s)) => match s.groups.get(&gr.group) {
                        Some(g) => Ok(g.last_id),
                        None => Err(GROUP_GONE),
                    },
                    _ => Err(KEY_GONE),
                };
                match gone {
                    Ok(id) => id,
                    Err(e) => return sh.reply_later(to, |r| r.error(e)),
                }
            }
        };
        if to.resp3 {
            r.map(1);
        } else {
            r.array(1);
            r.array(2);
        }
        r.bulk(key);
        serve_key(
            sh,
            db,
            key,
            gt,
            false,
            self.count,
            self.group.as_ref(),
            &mut r,
        );
        sh.reply_later(to, |out| out.raw(&r.buf));
    }
}

/// One key of an XREAD: its ID argument, as checked on its shard.
#[derive(Clone, Copy)]
enum Gt {
    /// Not checked yet.
    Unseen,
    Id(StreamId),
}

/// An XREAD/XREADGROUP in progress, carried from shard to shard.
struct XRead {
    to: ReplyTo,
    db: usize,
    keys: Vec<Bytes>,
    /// The ID arguments, one per key.
    raw: Vec<Bytes>,
    gts: Vec<Gt>,
    count: usize,
    group: Option<GroupRead>,
    /// BLOCK's deadline (unix ms, 0 = forever), None without BLOCK.
    block: Option<u64>,
    no_wait: bool,
    claim: Option<Arc<Claim>>,
    /// Served keys' replies (`key, entries`), in key order.
    frags: Vec<Bytes>,
    /// 0: checking the keys; 1: serving them.
    pass: u8,
    i: usize,
}

/// XREAD [COUNT count] [BLOCK ms] STREAMS key... id...
/// (<https://redis.io/docs/latest/commands/xread/>) and XREADGROUP GROUP
/// group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key... id...
/// (<https://redis.io/docs/latest/commands/xreadgroup/>):
/// `[[key, [entries...]]...]` for the streams with entries (a map in
/// RESP3), else a null array, or with BLOCK the first stream that gets
/// some. Errors: syntax error, Unbalanced XREAD list, `timeout is not an
/// integer or out of range`, `timeout is negative`, `Missing GROUP
/// option`, GROUP/NOACK with XREAD, NOGROUP, the `$` and `>` misuse
/// errors, Invalid stream ID, WRONGTYPE.
fn xread(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let xreadgroup = args[0].len() == 10;
    let mut block: Option<u64> = None;
    let mut count: i64 = 0;
    let mut streams = 0;
    let mut group: Option<GroupRead> = None;
    let mut noack = false;
    let mut i = 1;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if ctx.arg_is(i, "block") && more > 0 {
            i += 1;
            let ms = ll(
                &args[i],
                Some("ERR timeout is not an integer or out of range"),
            )?;
            if ms < 0 {
                return Err(CmdError::Msg(errors::TIMEOUT_NEGATIVE));
            }
            block = Some(if ms == 0 {
                0
            } else {
                ctx.now().saturating_add(ms as u64)
            });
        } else if ctx.arg_is(i, "count") && more > 0 {
            i += 1;
            count = ll(&args[i], None)?.max(0);
        } else if ctx.arg_is(i, "streams") && more > 0 {
            streams = i + 1;
            if (args.len() - streams) % 2 != 0 {
                return Err(CmdError::Msg(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            break;
        } else if ctx.arg_is(i, "group") && more >= 2 {
            if !xreadgroup {
                return Err(CmdError::Msg(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            group = Some(GroupRead {
                group: args[i + 1].clone(),
                consumer: args[i + 2].clone(),
                noack: false,
            });
            i += 2;
        } else if ctx.arg_is(i, "noack") {
            if !xreadgroup {
                return Err(CmdError::Msg(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            noack = true;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if streams == 0 {
        return Err(CmdError::Syntax);
    }
    if xreadgroup && group.is_none() {
        return Err(CmdError::Msg("ERR Missing GROUP option for XREADGROUP"));
    }
    if let Some(g) = group.as_mut() {
        g.noack = noack;
    }
    let n = (args.len() - streams) / 2;
    // Logged as Redis propagates a group read, by `serve_key`.
    ctx.sh.propagate_nothing();
    let mut st = Box::new(XRead {
        to: ctx.reply_to,
        db: ctx.db,
        keys: args[streams..streams + n].to_vec(),
        raw: args[streams + n..].to_vec(),
        gts: vec![Gt::Unseen; n],
        count: count as usize,
        group,
        block,
        no_wait: ctx.no_wait,
        claim: ctx.claim.cloned(),
        frags: Vec::new(),
        pass: 0,
        i: 0,
    });
    let here = ctx.sh.id;
    if st.keys.iter().all(|k| ctx.sh.shard_of(k) == here) {
        // Every key is here (always so inside a script): no hop, and the
        // reply goes straight out.
        for i in 0..n {
            st.i = i;
            st.gts[i] = Gt::Id(check_key(ctx.sh, &st)?);
        }
        for i in 0..n {
            st.i = i;
            serve_read(ctx.sh, &mut st);
        }
        if !st.frags.is_empty() || st.block.is_none() || st.no_wait {
            write_read(ctx.out, &st.frags);
            return Ok(());
        }
        ctx.deferred = true;
        finish(ctx.sh, st);
        return Ok(());
    }
    ctx.deferred = true;
    step(ctx.sh, st);
    Ok(())
}

/// XREAD's reply from the served keys' parts: an array (a map in RESP3)
/// of them, or a null array when none was served.
fn write_read(r: &mut Reply, frags: &[Bytes]) {
    if frags.is_empty() {
        return r.null_array();
    }
    if r.resp3 {
        r.map(frags.len());
    } else {
        r.array(frags.len());
    }
    for f in frags {
        r.raw(f);
    }
}

/// Runs `st` over its keys on this shard, hopping to the next key's shard
/// when it lives elsewhere; answers when both passes are done.
fn step(sh: &mut Shard, mut st: Box<XRead>) {
    loop {
        if st.i == st.keys.len() {
            if st.pass == 0 {
                st.pass = 1;
                st.i = 0;
                continue;
            }
            return finish(sh, st);
        }
        let target = sh.shard_of(&st.keys[st.i]);
        if target != sh.id {
            sh.hop(target, move |sh| step(sh, st));
            return;
        }
        if st.pass == 0 {
            match check_key(sh, &st) {
                Ok(gt) => st.gts[st.i] = Gt::Id(gt),
                Err(e) => return sh.reply_later(st.to, |r| r.error(e.text())),
            }
        } else {
            serve_read(sh, &mut st);
        }
        st.i += 1;
    }
}

/// Checks key `st.i` as `xreadCommand` does before serving anything: its
/// type, its group, its ID argument (`$` resolved to the last ID).
fn check_key(sh: &mut Shard, st: &XRead) -> Result<StreamId, CmdError> {
    let key = &st.keys[st.i];
    let now = sh.now_ms;
    let s = typed::<Stream>(&mut sh.dbs[st.db], key_hash(key), key, now)?;
    if let Some(gr) = &st.group {
        if !s.as_ref().is_some_and(|s| s.groups.contains_key(&gr.group)) {
            return Err(CmdError::Owned(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(&gr.group)
            )));
        }
    }
    let raw = &st.raw[st.i][..];
    if raw == b"$" {
        if st.group.is_some() {
            return Err(CmdError::Msg(
                "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
            ));
        }
        return Ok(s.map_or(StreamId::MIN, |s| s.last_id));
    }
    if raw == b">" {
        if st.group.is_none() {
            return Err(CmdError::Msg(
                "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
            ));
        }
        return Ok(StreamId::MAX);
    }
    strict_id(raw)
}

/// Serves key `st.i` if it has something for the reader (a group's
/// history always answers, even empty).
fn serve_read(sh: &mut Shard, st: &mut XRead) {
    let key = st.keys[st.i].clone();
    let Gt::Id(gt) = st.gts[st.i] else {
        return;
    };
    let now = sh.now_ms;
    let db = st.db;
    let Ok(Some(s)) = typed::<Stream>(&mut sh.dbs[db], key_hash(&key), &key, now) else {
        return;
    };
    let history = st.group.is_some() && gt != StreamId::MAX;
    // A group read of new entries starts past the group's last one.
    let (serve, gt) = if history {
        (true, gt)
    } else if s.length == 0 {
        (false, gt)
    } else {
        let after = match &st.group {
            Some(gr) => s.groups.get(&gr.group).map_or(StreamId::MAX, |g| g.last_id),
            None => gt,
        };
        (s.last_valid_id() > after, after)
    };
    if !serve {
        return;
    }
    let mut r = Reply::new(st.to.resp3);
    if !st.to.resp3 {
        r.array(2);
    }
    r.bulk(&key);
    serve_key(
        sh,
        db,
        &key,
        gt,
        history,
        st.count,
        st.group.as_ref(),
        &mut r,
    );
    st.frags.push(r.buf.freeze());
}

/// Writes the entries of `key` after `gt` (up to `count`, 0 = all) into
/// `r`, delivering them to the group if any (`streamReplyWithRange`), or
/// the consumer's pending entries from `gt` for a history read
/// (`streamReplyWithRangeFromConsumerPEL`); logs what Redis propagates.
#[allow(clippy::too_many_arguments)]
fn serve_key(
    sh: &mut Shard,
    db: usize,
    key: &Bytes,
    gt: StreamId,
    history: bool,
    count: usize,
    group: Option<&GroupRead>,
    r: &mut Reply,
) {
    let now = sh.now_ms;
    let Ok(Some(s)) = typed::<Stream>(&mut sh.dbs[db], key_hash(key), key, now) else {
        r.array(0);
        return;
    };
    let Some(gr) = group else {
        match gt.incr() {
            Some(start) => write_range(r, s, start, StreamId::MAX, count, false),
            None => r.array(0),
        }
        return;
    };
    let Some(mut g) = s.groups.remove(&gr.group) else {
        r.array(0);
        return;
    };
    let created = consumer(&mut g, &gr.consumer, now);
    let mut logs: Vec<Logged> = Vec::new();
    if created && gr.noack {
        logs.push(vec![
            Bytes::from_static(b"XGROUP"),
            Bytes::from_static(b"CREATECONSUMER"),
            key.clone(),
            gr.group.clone(),
            gr.consumer.clone(),
        ]);
    }
    if history {
        // Past the ID given, as Redis steps it (`streamIncrID`).
        let from = gt.incr().unwrap_or(StreamId::MIN);
        let ids: Vec<StreamId> = g
            .consumers
            .get(&gr.consumer)
            .map(|c| {
                c.pel
                    .range(from..)
                    .take(if count == 0 { usize::MAX } else { count })
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        r.array(ids.len());
        for id in ids {
            let n = s.range(id, id, false, false, |id, f| {
                write_entry(r, id, f);
                false
            });
            if n == 0 {
                r.array(2);
                write_id(r, id);
                r.null_array();
            } else if let Some(nack) = g.pel.get_mut(&id) {
                nack.delivery_time = now;
                nack.delivery_count += 1;
            }
        }
    } else {
        let mut ids = Vec::new();
        let mut body = Reply::new(r.resp3);
        if let Some(start) = gt.incr() {
            s.range(start, StreamId::MAX, false, false, |id, f| {
                write_entry(&mut body, id, f);
                ids.push(id);
                count == 0 || ids.len() < count
            });
        }
        r.array(ids.len());
        r.raw(&body.buf);
        let mut moved = false;
        for id in ids {
            if id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ && !s.range_has_tombstones(id, None) {
                    g.entries_read += 1;
                } else if s.entries_added != 0 {
                    g.entries_read = s.estimate_distance(id);
                }
                g.last_id = id;
                moved |= gr.noack;
            }
            if !gr.noack {
                match g.pel.get_mut(&id) {
                    Some(n) => {
                        n.delivery_time = now;
                        n.delivery_count = 1;
                    }
                    None => {
                        g.pel.insert(
                            id,
                            Nack {
                                delivery_time: now,
                                delivery_count: 1,
                                consumer: gr.consumer.clone(),
                            },
                        );
                    }
                }
                g.give(id, &gr.consumer);
                let nack = g.pel[&id].clone();
                logs.push(xclaim_log(key, &gr.group, &g, id, &nack));
            }
        }
        if moved {
            logs.push(setid_log(key, &gr.group, &g));
        }
    }
    s.groups.insert(gr.group.clone(), g);
    if created {
        sh.notify(NOTIFY_STREAM, "xgroup-createconsumer", db, key);
    }
    for l in logs {
        sh.propagate_args(db, &l);
    }
}

/// Answers an XREAD whose keys were all served: the served keys, or a
/// null array, or it blocks.
fn finish(sh: &mut Shard, st: Box<XRead>) {
    let XRead {
        to,
        db,
        keys,
        gts,
        count,
        group,
        block,
        no_wait,
        claim,
        frags,
        ..
    } = *st;
    let Some(deadline) = block.filter(|_| frags.is_empty() && !no_wait) else {
        return sh.reply_later(to, |r| write_read(r, &frags));
    };
    let ids = keys
        .iter()
        .zip(&gts)
        .map(|(k, g)| {
            (
                k.clone(),
                match g {
                    Gt::Id(id) => *id,
                    Gt::Unseen => StreamId::MAX,
                },
            )
        })
        .collect();
    let wait = StreamWait {
        ids,
        count: if count == 0 { 1000 } else { count },
        group,
    };
    block_with(
        sh,
        claim,
        to,
        db,
        keys,
        deadline,
        Op::Stream(Box::new(wait)),
        false,
    );
}
