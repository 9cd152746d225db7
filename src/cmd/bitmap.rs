//! Bitmaps and bit fields on string values
//! (<https://redis.io/docs/latest/commands/?group=bitmap>): SETBIT GETBIT
//! BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO, with Redis 7.0's semantics,
//! replies and errors (`r:src/bitops.c`).
//!
//! Bit `n` of a string is bit `7 - n % 8` of byte `n / 8`: the first bit
//! is the most significant bit of the first byte. A string is an infinite
//! run of zero bits past its end. Offsets are bounded by
//! `proto-max-bulk-len` (in bytes) as in Redis, so a write can grow a
//! string to that size and no further; every loop runs over the string's
//! bytes or over at most 64 bits.
//!
//! Runs on the shard owning the key; BITOP arrives at the destination's
//! shard and reads its sources on theirs ([`super::set::gather`]).

use bytes::Bytes;

use super::set::{Got, gather};
use super::string::string_bytes;
use super::{CmdError, CmdResult, Ctx, Handler};
use crate::pubsub::notify::STRING as NOTIFY_STRING;
use crate::resp::errors::BIT_OFFSET;
use crate::resp::parse::parse_i64;
use crate::spec::key_hash;
use crate::store::{Db, Str, Value};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("setbit", setbit),
    ("getbit", getbit),
    ("bitcount", bitcount),
    ("bitpos", bitpos),
    ("bitop", bitop),
    ("bitfield", bitfield),
    ("bitfield_ro", bitfield),
];

const BIT_VALUE: &str = "ERR bit is not an integer or out of range";
const BIT_ARG: &str = "ERR The bit argument must be 1 or 0.";
const NOT_ONE_KEY: &str = "ERR BITOP NOT must be called with a single source key.";
const FIELD_TYPE: &str = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const OVERFLOW_TYPE: &str = "ERR Invalid OVERFLOW type specified";
const RO_ONLY_GET: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// A bit offset argument (Redis's `getBitOffsetFromArgument`): a
/// non-negative integer whose byte is below `max_bulk`; with `hash_bits`
/// > 0, `#n` means `n * hash_bits` (BITFIELD). Error: `bit offset is not
/// an integer or out of range`.
fn bit_offset(arg: &[u8], hash_bits: u32, max_bulk: u64) -> Result<u64, CmdError> {
    let (digits, mul) = match arg.split_first() {
        Some((b'#', rest)) if hash_bits > 0 => (rest, hash_bits as i64),
        _ => (arg, 1),
    };
    // Redis multiplies without an overflow check (a product that wraps to
    // a small offset is accepted there); the same wrapping arithmetic keeps
    // its replies.
    let n = parse_i64(digits)
        .map(|n| n.wrapping_mul(mul))
        .ok_or(CmdError::Msg(BIT_OFFSET))?;
    if n < 0 || (n as u64 >> 3) >= max_bulk {
        return Err(CmdError::Msg(BIT_OFFSET));
    }
    Ok(n as u64)
}

/// The bytes of string `key`, made long enough to hold bit `max_bit` (zero
/// padded), for writing in place; created if missing (Redis's
/// `lookupStringForBitCommand`). The second value is true if the string
/// was created or grew. The value becomes a "raw" string, as Redis
/// unshares it before writing. Error: WRONGTYPE.
fn writable<'a>(
    db: &'a mut Db,
    key: &[u8],
    max_bit: u64,
    now: u64,
) -> Result<(&'a mut [u8], bool), CmdError> {
    // `max_bit` comes from `bit_offset` (plus at most 63): its byte is
    // within `proto-max-bulk-len`, however large the number sent.
    let need = (max_bit >> 3) as usize + 1;
    let h = key_hash(key);
    let dirty = match db.get_mut(h, key, now) {
        Some(e) => {
            let in_place = matches!(&e.value, Value::Str(Str::Raw(b)) if b.len() >= need);
            if in_place {
                false
            } else {
                let mut v = string_bytes(&e.value)?.into_owned();
                let grew = v.len() < need;
                if grew {
                    v.resize(need, 0);
                }
                e.value = Value::Str(Str::raw(v));
                grew
            }
        }
        None => {
            db.set(h, key, Value::Str(Str::raw(vec![0; need])), 0, now);
            true
        }
    };
    match db.get_mut(h, key, now).map(|e| &mut e.value) {
        Some(Value::Str(Str::Raw(b))) => Ok((&mut b[..], dirty)),
        // Cannot happen: the value was made a raw string just above.
        _ => Err(CmdError::Msg("ERR tandem: bitmap value vanished")),
    }
}

/// SETBIT key offset 0|1: sets or clears one bit, growing the string with
/// zero bytes as needed; the bit's previous value. Errors: `bit offset is
/// not an integer or out of range`, `bit is not an integer or out of
/// range`, WRONGTYPE. Publishes `setbit` when the string changed.
fn setbit(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let off = bit_offset(&args[2], 0, ctx.sh.max_bulk())?;
    let on = match parse_i64(&args[3]) {
        Some(v @ (0 | 1)) => v as u8,
        _ => return Err(CmdError::Msg(BIT_VALUE)),
    };
    let now = ctx.now();
    let (bytes, dirty) = writable(&mut ctx.sh.dbs[ctx.db], &args[1], off, now)?;
    let shift = 7 - (off & 7) as u32;
    let mut old = 0;
    if let Some(b) = bytes.get_mut((off >> 3) as usize) {
        old = (*b >> shift) & 1;
        *b = (*b & !(1 << shift)) | (on << shift);
    }
    if dirty || old != on {
        ctx.sh.notify(NOTIFY_STRING, "setbit", ctx.db, &args[1]);
    }
    ctx.out.int(old as i64);
    Ok(())
}

/// GETBIT key offset: the bit at `offset`, 0 past the end or for a missing
/// key. Errors: `bit offset is not an integer or out of range`, WRONGTYPE.
fn getbit(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let off = bit_offset(&args[2], 0, ctx.sh.max_bulk())?;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let bit = match ctx.sh.dbs[ctx.db].get(h, &args[1], now) {
        None => 0,
        Some(e) => {
            let s = string_bytes(&e.value)?;
            s.get((off >> 3) as usize)
                .map_or(0, |b| (b >> (7 - (off & 7))) & 1)
        }
    };
    ctx.out.int(bit as i64);
    Ok(())
}

/// The number of set bits in `bytes`, eight bytes at a time.
fn popcount(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let mut n: u64 = words
        .by_ref()
        .map(|w| {
            u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]).count_ones() as u64
        })
        .sum();
    n += words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum::<u64>();
    n
}

/// A range's start and end as given (`start end [BYTE|BIT]`), resolved as
/// Redis does: negative values count from the end, both clamped into the
/// string. In BIT units the ends become bytes plus masks of the bits of
/// the first and last byte that lie outside the range.
struct Span {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

fn resolve(len: usize, mut start: i64, mut end: i64, bits: bool) -> Span {
    let mut total = len as i64;
    if bits {
        total <<= 3;
    }
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0, 0);
    if bits && start <= end {
        first_mask = (!((1u32 << (8 - (start & 7))) - 1) & 0xff) as u8;
        last_mask = ((1u32 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    Span {
        start,
        end,
        first_mask,
        last_mask,
    }
}

/// Parses a range's unit word: BIT (true) or BYTE. Error: syntax error.
fn unit(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// BITCOUNT key [start end [BYTE|BIT]]: the number of set bits in the
/// string or the range (bytes by default). A missing key counts 0 before
/// the range is looked at, as in Redis. Errors: WRONGTYPE, not an
/// integer, syntax error.
fn bitcount(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let Some(e) = ctx.sh.dbs[ctx.db].get(h, &args[1], now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = string_bytes(&e.value)?;
    let span = match args.len() {
        2 => Span {
            start: 0,
            end: s.len() as i64 - 1,
            first_mask: 0,
            last_mask: 0,
        },
        4 | 5 => {
            let start = parse_i64(&args[2]).ok_or(CmdError::NotInteger)?;
            let end = parse_i64(&args[3]).ok_or(CmdError::NotInteger)?;
            if start < 0 && end < 0 && start > end {
                ctx.out.int(0);
                return Ok(());
            }
            let bits = match args.get(4) {
                Some(a) => unit(a)?,
                None => false,
            };
            resolve(s.len(), start, end, bits)
        }
        _ => return Err(CmdError::Syntax),
    };
    let count = if span.start > span.end {
        0
    } else {
        let (a, b) = (span.start as usize, span.end as usize);
        let mut n = popcount(s.get(a..=b).unwrap_or_default());
        let first = s.get(a).map_or(0, |x| x & span.first_mask);
        let last = s.get(b).map_or(0, |x| x & span.last_mask);
        n = n.saturating_sub((first.count_ones() + last.count_ones()) as u64);
        n
    };
    ctx.out.int(count as i64);
    Ok(())
}

/// The position of the first bit equal to `bit` in `bytes`; past the end
/// a string is zeros, so a missing 0 is at `8 * len` and a missing 1 is
/// -1 (Redis's `redisBitpos`).
fn first_bit(bytes: &[u8], bit: u8) -> i64 {
    let skip = if bit == 1 { 0u8 } else { 0xff };
    let mut words = bytes.chunks_exact(8);
    let mut base = 0i64;
    let wskip = if bit == 1 { 0u64 } else { u64::MAX };
    for w in words.by_ref() {
        let v = u64::from_be_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        if v != wskip {
            let lead = if bit == 1 {
                v.leading_zeros()
            } else {
                (!v).leading_zeros()
            };
            return base + lead as i64;
        }
        base += 64;
    }
    for &b in words.remainder() {
        if b != skip {
            let lead = if bit == 1 {
                b.leading_zeros()
            } else {
                (!b).leading_zeros()
            };
            return base + lead as i64;
        }
        base += 8;
    }
    if bit == 1 { -1 } else { base }
}

/// BITPOS key 0|1 [start [end [BYTE|BIT]]]: the position of the first bit
/// equal to the one asked for, in the range (bytes by default) or the
/// string. A missing key is all zeros (0 for a clear bit, -1 for a set
/// one); with no end given, a clear bit may be found just past the string;
/// with an end, not finding it is -1. Errors: not an integer, `The bit
/// argument must be 1 or 0.`, WRONGTYPE, syntax error.
fn bitpos(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let bit = match parse_i64(&args[2]).ok_or(CmdError::NotInteger)? {
        b @ (0 | 1) => b as u8,
        _ => return Err(CmdError::Msg(BIT_ARG)),
    };
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let Some(e) = ctx.sh.dbs[ctx.db].get(h, &args[1], now) else {
        ctx.out.int(if bit == 1 { -1 } else { 0 });
        return Ok(());
    };
    let p = string_bytes(&e.value)?;
    let mut end_given = false;
    let span = match args.len() {
        3 => Span {
            start: 0,
            end: p.len() as i64 - 1,
            first_mask: 0,
            last_mask: 0,
        },
        4..=6 => {
            let start = parse_i64(&args[3]).ok_or(CmdError::NotInteger)?;
            let bits = match args.get(5) {
                Some(a) => unit(a)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(a) => {
                    end_given = true;
                    parse_i64(a).ok_or(CmdError::NotInteger)?
                }
                None => p.len() as i64 - 1,
            };
            resolve(p.len(), start, end, bits)
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = if span.start > span.end {
        -1
    } else {
        bitpos_in(&p, span, bit, end_given)
    };
    ctx.out.int(pos);
    Ok(())
}

/// BITPOS over a non-empty resolved span, as Redis's `bitposCommand`
/// scans it: the masked first byte, the whole bytes, the masked last byte.
fn bitpos_in(p: &[u8], span: Span, bit: u8, end_given: bool) -> i64 {
    let byte_at = |i: i64| p.get(i as usize).copied().unwrap_or(0);
    let masked = |b: u8, mask: u8| if bit == 1 { b & !mask } else { b | mask };
    let (mut start, end) = (span.start, span.end);
    let mut bytes = end - start + 1;
    let pos = 'found: {
        if span.first_mask != 0 {
            let mut t = masked(byte_at(start), span.first_mask);
            if span.last_mask != 0 && bytes == 1 {
                t = masked(t, span.last_mask);
            }
            let pos = first_bit(&[t], bit);
            if bytes == 1 || (pos != -1 && pos != 8) {
                break 'found pos;
            }
            start += 1;
            bytes -= 1;
        }
        let whole = bytes - (span.last_mask != 0) as i64;
        if whole > 0 {
            let (a, b) = (start as usize, (start + whole) as usize);
            let pos = first_bit(p.get(a..b).unwrap_or_default(), bit);
            if bytes == whole || (pos != -1 && pos != whole << 3) {
                break 'found pos;
            }
            start += whole;
            bytes -= whole;
        }
        first_bit(&[masked(byte_at(end), span.last_mask)], bit)
    };
    // With an end given, a clear bit found past the range is not there.
    if end_given && bit == 0 && pos == bytes << 3 {
        return -1;
    }
    if pos == -1 { -1 } else { pos + (start << 3) }
}

#[derive(Clone, Copy, PartialEq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...]: stores the bitwise result
/// of the source strings (missing keys are empty, shorter strings zero
/// padded) in `destkey` as a string, or deletes `destkey` when every
/// source is empty; the stored length in bytes. Sources may live on any
/// shard: they are read in key order on theirs, then the result is stored
/// on the destination's. Errors: syntax error (unknown operation), `BITOP
/// NOT must be called with a single source key.`, WRONGTYPE (the first
/// source that is not a string). Publishes `set` (or `del`) on destkey.
fn bitop(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let op = match &args[1] {
        a if a.eq_ignore_ascii_case(b"and") => BitOp::And,
        a if a.eq_ignore_ascii_case(b"or") => BitOp::Or,
        a if a.eq_ignore_ascii_case(b"xor") => BitOp::Xor,
        a if a.eq_ignore_ascii_case(b"not") => BitOp::Not,
        _ => return Err(CmdError::Syntax),
    };
    if op == BitOp::Not && args.len() != 4 {
        return Err(CmdError::Msg(NOT_ONE_KEY));
    }
    let dst: Bytes = args[2].clone();
    let keys: Vec<Bytes> = args[3..].to_vec();
    let db = ctx.db;
    let to = ctx.reply_to;
    ctx.deferred = true;
    gather(ctx.sh, to, db, keys, source_bytes, move |sh, srcs| {
        let result = combine(op, srcs);
        let target = sh.shard_of(&dst);
        sh.hop(target, move |sh| {
            let now = sh.now_ms;
            let h = key_hash(&dst);
            let n = result.len();
            let existed = sh.dbs[db].remove(h, &dst, now).is_some();
            if n > 0 {
                // Redis stores the new string "raw" whatever its length.
                sh.dbs[db].set(h, &dst, Value::Str(Str::raw(result)), 0, now);
            }
            sh.notify_stored(NOTIFY_STRING, "set", db, &dst, n > 0, existed);
            sh.reply_later(to, |r| r.int(n as i64));
        });
    });
    Ok(())
}

fn source_bytes(v: &Value) -> Result<Vec<u8>, CmdError> {
    Ok(string_bytes(v)?.into_owned())
}

/// BITOP's result over the sources in key order (Redis's `bitopCommand`):
/// as long as the longest source, the others zero padded.
fn combine(op: BitOp, srcs: Vec<Got<Vec<u8>>>) -> Vec<u8> {
    let mut srcs = srcs.into_iter().map(|g| match g {
        Got::Missing => Vec::new(),
        Got::Found(v) => v,
    });
    let mut rest: Vec<Vec<u8>> = Vec::new();
    let mut res = srcs.next().unwrap_or_default();
    rest.extend(srcs);
    let max = rest.iter().map(Vec::len).fold(res.len(), usize::max);
    res.resize(max, 0);
    match op {
        BitOp::Not => res.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for s in &rest {
                res.iter_mut().zip(s).for_each(|(r, b)| *r &= b);
                if let Some(tail) = res.get_mut(s.len()..) {
                    tail.fill(0);
                }
            }
        }
        BitOp::Or => {
            for s in &rest {
                res.iter_mut().zip(s).for_each(|(r, b)| *r |= b);
            }
        }
        BitOp::Xor => {
            for s in &rest {
                res.iter_mut().zip(s).for_each(|(r, b)| *r ^= b);
            }
        }
    }
    res
}

/// What BITFIELD does when a SET or INCRBY does not fit its type.
#[derive(Clone, Copy, PartialEq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq)]
enum FieldOp {
    Get,
    Set,
    IncrBy,
}

/// One BITFIELD operation: a field of `bits` bits (1-64 signed, 1-63
/// unsigned) at bit `offset`.
struct Field {
    op: FieldOp,
    offset: u64,
    value: i64,
    bits: u32,
    signed: bool,
    overflow: Overflow,
}

/// A field type `i<bits>` or `u<bits>`. Error: `Invalid bitfield type...`.
fn field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(CmdError::Msg(FIELD_TYPE)),
    };
    match parse_i64(&arg[1..]) {
        Some(n) if n >= 1 && n <= if signed { 64 } else { 63 } => Ok((signed, n as u32)),
        _ => Err(CmdError::Msg(FIELD_TYPE)),
    }
}

/// Parses BITFIELD's operations, in Redis's order of errors.
fn parse_fields(args: &[Bytes], max_bulk: u64) -> Result<Vec<Field>, CmdError> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut j = 2;
    while j < args.len() {
        let rem = args.len() - j - 1;
        let a = &args[j];
        let op = if a.eq_ignore_ascii_case(b"get") && rem >= 2 {
            FieldOp::Get
        } else if a.eq_ignore_ascii_case(b"set") && rem >= 3 {
            FieldOp::Set
        } else if a.eq_ignore_ascii_case(b"incrby") && rem >= 3 {
            FieldOp::IncrBy
        } else if a.eq_ignore_ascii_case(b"overflow") && rem >= 1 {
            let t = &args[j + 1];
            overflow = if t.eq_ignore_ascii_case(b"wrap") {
                Overflow::Wrap
            } else if t.eq_ignore_ascii_case(b"sat") {
                Overflow::Sat
            } else if t.eq_ignore_ascii_case(b"fail") {
                Overflow::Fail
            } else {
                return Err(CmdError::Msg(OVERFLOW_TYPE));
            };
            j += 2;
            continue;
        } else {
            return Err(CmdError::Syntax);
        };
        let (signed, bits) = field_type(&args[j + 1])?;
        let offset = bit_offset(&args[j + 2], bits, max_bulk)?;
        let value = if op == FieldOp::Get {
            0
        } else {
            parse_i64(&args[j + 3]).ok_or(CmdError::NotInteger)?
        };
        ops.push(Field {
            op,
            offset,
            value,
            bits,
            signed,
            overflow,
        });
        j += if op == FieldOp::Get { 3 } else { 4 };
    }
    Ok(ops)
}

/// The `bits`-bit unsigned field at bit `offset` of `p` (zeros past its
/// end).
fn get_unsigned(p: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..bits as u64 {
        let at = offset + i;
        let b = p.get((at >> 3) as usize).copied().unwrap_or(0);
        v = (v << 1) | ((b >> (7 - (at & 7))) & 1) as u64;
    }
    v
}

/// The `bits`-bit two's complement field at bit `offset` of `p`.
fn get_signed(p: &[u8], offset: u64, bits: u32) -> i64 {
    let v = get_unsigned(p, offset, bits);
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Writes the low `bits` bits of `v` at bit `offset` of `p` (bits past
/// its end are dropped: the caller made it long enough).
fn set_field(p: &mut [u8], offset: u64, bits: u32, v: u64) {
    for i in 0..bits as u64 {
        let at = offset + i;
        let bit = ((v >> (bits as u64 - 1 - i)) & 1) as u8;
        let shift = 7 - (at & 7);
        if let Some(b) = p.get_mut((at >> 3) as usize) {
            *b = (*b & !(1 << shift)) | (bit << shift);
        }
    }
}

/// Whether unsigned `value + incr` fits `bits` bits: 0, or 1 / -1 for an
/// overflow / underflow with the value WRAP or SAT makes of it (Redis's
/// `checkUnsignedBitfieldOverflow`, its wrapping arithmetic kept).
fn check_unsigned(value: u64, incr: i64, bits: u32, ow: Overflow) -> (i32, u64) {
    let max = (1u64 << bits) - 1;
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let wrap = || value.wrapping_add(incr as u64) & !(u64::MAX << bits);
    if value > max || (incr > 0 && incr > max_incr) {
        (1, if ow == Overflow::Sat { max } else { wrap() })
    } else if incr < 0 && incr < min_incr {
        (-1, if ow == Overflow::Sat { 0 } else { wrap() })
    } else {
        (0, 0)
    }
}

/// The signed counterpart of [`check_unsigned`] (Redis's
/// `checkSignedBitfieldOverflow`).
fn check_signed(value: i64, incr: i64, bits: u32, ow: Overflow) -> (i32, i64) {
    let max: i64 = if bits == 64 {
        i64::MAX
    } else {
        (1i64 << (bits - 1)) - 1
    };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wrap = || {
        let mut c = (value as u64).wrapping_add(incr as u64);
        if bits < 64 {
            let mask = u64::MAX << bits;
            if c & (1u64 << (bits - 1)) != 0 {
                c |= mask;
            } else {
                c &= !mask;
            }
        }
        c as i64
    };
    if value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr)
    {
        (1, if ow == Overflow::Sat { max } else { wrap() })
    } else if value < min
        || (bits != 64 && incr < min_incr)
        || (value < 0 && incr < 0 && incr < min_incr)
    {
        (-1, if ow == Overflow::Sat { min } else { wrap() })
    } else {
        (0, 0)
    }
}

/// Runs one SET or INCRBY on `p`: its reply (None: a FAIL overflow, which
/// writes nothing) and whether it changed the field.
fn write_field(p: &mut [u8], f: &Field) -> (Option<i64>, bool) {
    if f.signed {
        let old = get_signed(p, f.offset, f.bits);
        let (new, reply, overflow) = if f.op == FieldOp::IncrBy {
            let (o, lim) = check_signed(old, f.value, f.bits, f.overflow);
            let new = if o != 0 {
                lim
            } else {
                old.wrapping_add(f.value)
            };
            (new, new, o)
        } else {
            let (o, lim) = check_signed(f.value, 0, f.bits, f.overflow);
            (if o != 0 { lim } else { f.value }, old, o)
        };
        if overflow != 0 && f.overflow == Overflow::Fail {
            return (None, false);
        }
        set_field(p, f.offset, f.bits, new as u64);
        (Some(reply), old != new)
    } else {
        let old = get_unsigned(p, f.offset, f.bits);
        let (new, reply, overflow) = if f.op == FieldOp::IncrBy {
            let (o, lim) = check_unsigned(old, f.value, f.bits, f.overflow);
            let new = if o != 0 {
                lim
            } else {
                old.wrapping_add(f.value as u64)
            };
            (new, new, o)
        } else {
            let v = f.value as u64;
            let (o, lim) = check_unsigned(v, 0, f.bits, f.overflow);
            (if o != 0 { lim } else { v }, old, o)
        };
        if overflow != 0 && f.overflow == Overflow::Fail {
            return (None, false);
        }
        set_field(p, f.offset, f.bits, new);
        // Fields are at most 63 bits unsigned: the reply fits an i64.
        (Some(reply as i64), old != new)
    }
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type
/// offset increment] [OVERFLOW WRAP|SAT|FAIL] ... and BITFIELD_RO key [GET
/// type offset] ...: an array with one reply per GET, SET (the old value)
/// and INCRBY (the new value, nil when OVERFLOW FAIL refused it). Types
/// are `i1`-`i64` and `u1`-`u63`; `#n` offsets count in fields. With only
/// GETs the key is read and never created. Errors, in Redis's order:
/// syntax error, `Invalid OVERFLOW type specified`, `Invalid bitfield
/// type...`, `bit offset is not an integer or out of range`, not an
/// integer, `BITFIELD_RO only supports the GET subcommand`, WRONGTYPE.
/// Publishes `setbit` when a field changed.
fn bitfield(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let ops = parse_fields(args, ctx.sh.max_bulk())?;
    let now = ctx.now();
    let top = ops
        .iter()
        .filter(|f| f.op != FieldOp::Get)
        .map(|f| f.offset + f.bits as u64 - 1)
        .max();
    let Some(top) = top else {
        // Only GETs: a read.
        let h = ctx.key_hash(1);
        let found = ctx.sh.dbs[ctx.db].get(h, &args[1], now);
        let p = match found {
            Some(e) => string_bytes(&e.value)?,
            None => Default::default(),
        };
        ctx.out.array(ops.len());
        for f in &ops {
            ctx.out.int(read_field(&p, f));
        }
        return Ok(());
    };
    if args[0].eq_ignore_ascii_case(b"bitfield_ro") {
        return Err(CmdError::Msg(RO_ONLY_GET));
    }
    let (p, dirty) = writable(&mut ctx.sh.dbs[ctx.db], &args[1], top, now)?;
    ctx.out.array(ops.len());
    let mut changed = false;
    for f in &ops {
        if f.op == FieldOp::Get {
            ctx.out.int(read_field(p, f));
            continue;
        }
        match write_field(p, f) {
            (Some(v), ch) => {
                ctx.out.int(v);
                changed |= ch || dirty;
            }
            (None, _) => ctx.out.null(),
        }
    }
    if changed {
        ctx.sh.notify(NOTIFY_STRING, "setbit", ctx.db, &args[1]);
    }
    Ok(())
}

fn read_field(p: &[u8], f: &Field) -> i64 {
    if f.signed {
        get_signed(p, f.offset, f.bits)
    } else {
        get_unsigned(p, f.offset, f.bits) as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bit_matches_a_bit_by_bit_scan() {
        let samples: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0xff],
            vec![0; 17],
            vec![0xff; 17],
            (0..40u8).map(|i| if i == 33 { 0x10 } else { 0 }).collect(),
            (0..40u8)
                .map(|i| if i == 21 { 0xef } else { 0xff })
                .collect(),
        ];
        for s in &samples {
            for bit in [0u8, 1] {
                let want = (0..s.len() * 8)
                    .find(|&i| (s[i / 8] >> (7 - i % 8)) & 1 == bit)
                    .map_or(if bit == 1 { -1 } else { s.len() as i64 * 8 }, |i| i as i64);
                assert_eq!(first_bit(s, bit), want, "{s:?} {bit}");
            }
            assert_eq!(
                popcount(s),
                s.iter().map(|b| b.count_ones() as u64).sum::<u64>()
            );
        }
    }
}
