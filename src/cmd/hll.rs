//! HyperLogLog commands (<https://redis.io/docs/latest/commands/?group=hyperloglog>):
//! PFADD PFCOUNT PFMERGE PFDEBUG, with Redis 7.0's replies and errors
//! (`r:src/hyperloglog.c`); the representation is [`crate::store::hll`].
//! PFSELFTEST touches no key and runs on the IO thread.
//!
//! PFADD and PFDEBUG run on their key's shard. PFCOUNT of several keys and
//! PFMERGE read their keys on their shards in key order
//! ([`super::set::gather`]), each key's registers decoded (and checked)
//! there, then count or store on the destination's shard.

use bytes::Bytes;

use super::set::{Got, gather};
use super::{CmdError, CmdResult, Ctx, Handler};
use crate::pubsub::notify::STRING as NOTIFY_STRING;
use crate::spec::key_hash;
use crate::store::hll::{self, Corrupt};
use crate::store::{Str, Value};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("pfadd", pfadd),
    ("pfcount", pfcount),
    ("pfmerge", pfmerge),
    ("pfdebug", pfdebug),
];

/// A string that is not an HLL (Redis sends it with its own code).
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";
/// An HLL whose registers do not decode.
pub const CORRUPT: &str = "INVALIDOBJ Corrupted HLL object detected";

impl From<Corrupt> for CmdError {
    fn from(_: Corrupt) -> CmdError {
        CmdError::Msg(CORRUPT)
    }
}

/// The bytes of an HLL value. Errors: WRONGTYPE for other types, the HLL
/// WRONGTYPE for a string without an HLL header (an integer never is one).
fn hll_bytes(v: &Value) -> Result<&[u8], CmdError> {
    match v {
        Value::Str(s) if hll::is_hll(s) => Ok(s),
        Value::Str(_) | Value::Int(_) => Err(CmdError::Msg(NOT_HLL)),
        _ => Err(CmdError::WrongType),
    }
}

/// Takes a checked HLL's bytes out of its value for writing (put them back
/// with [`raw`]); a raw string gives up its buffer without a copy.
fn take(v: &mut Value) -> Vec<u8> {
    match v {
        Value::Str(Str::Raw(b)) => std::mem::take(b).into_vec(),
        Value::Str(s) => s.to_vec(),
        _ => Vec::new(),
    }
}

/// An HLL's bytes as a value: "raw", as Redis unshares a string it writes.
fn raw(v: Vec<u8>) -> Value {
    Value::Str(Str::raw(v))
}

/// PFADD key [element ...]: 1 if a register changed or the key was
/// created, else 0. Errors: WRONGTYPE, the HLL WRONGTYPE, INVALIDOBJ (the
/// elements added before the damage was met stay added, as in Redis).
/// Publishes `pfadd` on a change.
fn pfadd(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let max = ctx.sh.enc().hll_sparse_max_bytes;
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let db = &mut ctx.sh.dbs[ctx.db];
    let (mut v, existed) = match db.get_mut(h, &args[1], now) {
        Some(e) => {
            hll_bytes(&e.value)?;
            (take(&mut e.value), true)
        }
        None => (hll::empty(), false),
    };
    let mut updated = !existed;
    let mut result: CmdResult = Ok(());
    for ele in &args[2..] {
        match hll::add(&mut v, ele, max) {
            Ok(grew) => updated |= grew,
            Err(c) => {
                result = Err(c.into());
                break;
            }
        }
    }
    if updated && result.is_ok() {
        hll::invalidate(&mut v);
    }
    match db.get_mut(h, &args[1], now) {
        Some(e) => e.value = raw(v),
        None => {
            db.set(h, &args[1], raw(v), 0, now);
        }
    }
    result?;
    if updated {
        ctx.sh.notify(NOTIFY_STRING, "pfadd", ctx.db, &args[1]);
    }
    ctx.out.int(updated as i64);
    Ok(())
}

/// PFCOUNT key [key ...]: the estimated cardinality of the key's HLL (0
/// for a missing key), or of the union of several keys' (on any shards).
/// One key answers from its cached count or caches the new one in the
/// value (a write, logged to the AOF as Redis propagates it). Errors:
/// WRONGTYPE, the HLL WRONGTYPE, INVALIDOBJ, for the first key in order
/// that has one.
fn pfcount(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    if args.len() > 2 {
        let keys: Vec<Bytes> = args[1..].to_vec();
        let to = ctx.reply_to;
        ctx.deferred = true;
        gather(ctx.sh, to, ctx.db, keys, registers_of, move |sh, regs| {
            let max = union(regs);
            sh.reply_later(to, |r| r.int(hll::count_registers(&max) as i64));
        });
        return Ok(());
    }
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let Some(e) = ctx.sh.dbs[ctx.db].get_mut(h, &args[1], now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let s = hll_bytes(&e.value)?;
    let card = match hll::cached(s) {
        Some(c) => {
            // Redis unshares the string whether or not the cache is good.
            if !matches!(e.value, Value::Str(Str::Raw(_))) {
                let v = take(&mut e.value);
                e.value = raw(v);
            }
            c
        }
        None => {
            let c = hll::count(s)?;
            let mut v = take(&mut e.value);
            hll::set_cached(&mut v, c);
            e.value = raw(v);
            let db = ctx.db;
            ctx.sh.propagate(db, &[&b"PFCOUNT"[..], &args[1][..]]);
            c
        }
    };
    ctx.out.int(card as i64);
    Ok(())
}

/// A key's registers, one byte each, for a union (checked on its shard).
fn registers_of(v: &Value) -> Result<Registers, CmdError> {
    let s = hll_bytes(v)?;
    let mut regs = vec![0u8; hll::REGISTERS];
    hll::merge_into(&mut regs, s)?;
    Ok(Registers {
        dense: s.get(4) == Some(&hll::DENSE),
        regs,
    })
}

/// One key's decoded registers, and whether it was dense.
struct Registers {
    dense: bool,
    regs: Vec<u8>,
}

/// The register-wise maximum of the keys read (missing keys are empty).
fn union(all: Vec<Got<Registers>>) -> Vec<u8> {
    let mut max = vec![0u8; hll::REGISTERS];
    for g in all {
        if let Got::Found(r) = g {
            max.iter_mut()
                .zip(&r.regs)
                .for_each(|(m, v)| *m = (*m).max(*v));
        }
    }
    max
}

/// PFMERGE destkey [sourcekey ...]: stores the union of destkey's and the
/// sources' HLLs in destkey (created sparse if missing, made dense if any
/// input was); `+OK`. Errors: WRONGTYPE, the HLL WRONGTYPE, INVALIDOBJ,
/// for the first key in order that has one. Publishes `pfadd`.
fn pfmerge(ctx: &mut Ctx) -> CmdResult {
    let keys: Vec<Bytes> = ctx.args[1..].to_vec();
    let dst = ctx.args[1].clone();
    let db = ctx.db;
    let to = ctx.reply_to;
    ctx.deferred = true;
    gather(ctx.sh, to, db, keys, registers_of, move |sh, regs| {
        let dense = regs.iter().any(|g| matches!(g, Got::Found(r) if r.dense));
        let max = union(regs);
        let target = sh.shard_of(&dst);
        sh.hop(target, move |sh| {
            let limit = sh.enc().hll_sparse_max_bytes;
            let now = sh.now_ms;
            let h = key_hash(&dst);
            let mut v = match sh.dbs[db].get_mut(h, &dst, now) {
                Some(e) => take(&mut e.value),
                None => hll::empty(),
            };
            let mut result = Ok(());
            if dense && v.get(4) == Some(&hll::SPARSE) {
                match hll::to_dense(&v) {
                    Ok(d) => v = d,
                    Err(_) => result = Err(CORRUPT),
                }
            }
            if result.is_ok() {
                for (i, &m) in max.iter().enumerate() {
                    if m != 0 {
                        // A damaged destination was refused when read.
                        let _ = hll::raise(&mut v, i, m, limit);
                    }
                }
                hll::invalidate(&mut v);
            }
            match sh.dbs[db].get_mut(h, &dst, now) {
                Some(e) => e.value = raw(v),
                None => {
                    sh.dbs[db].set(h, &dst, raw(v), 0, now);
                }
            }
            match result {
                Ok(()) => {
                    sh.notify(NOTIFY_STRING, "pfadd", db, &dst);
                    sh.reply_later(to, |r| r.ok());
                }
                Err(e) => sh.reply_later(to, |r| r.error(e)),
            }
        });
    });
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key: the registers (the value
/// made dense first, as in Redis), the sparse opcodes as text, the
/// encoding, or a conversion to dense (1 if it converted). Errors, in
/// Redis's order: `The specified key does not exist`, WRONGTYPE, the HLL
/// WRONGTYPE, `Unknown PFDEBUG subcommand '<name>'`, `HLL encoding is not
/// sparse` (DECODE), INVALIDOBJ.
fn pfdebug(ctx: &mut Ctx) -> CmdResult {
    let args = ctx.args;
    let h = ctx.key_hash(2);
    let now = ctx.now();
    let Some(e) = ctx.sh.dbs[ctx.db].get_mut(h, &args[2], now) else {
        return Err(CmdError::Msg("ERR The specified key does not exist"));
    };
    hll_bytes(&e.value)?;
    let mut v = take(&mut e.value);
    let sub = args[1].to_ascii_lowercase();
    let sparse = v.get(4) == Some(&hll::SPARSE);
    let result = match &sub[..] {
        b"getreg" | b"todense" if sparse => match hll::to_dense(&v) {
            Ok(d) => {
                v = d;
                Ok(true)
            }
            Err(c) => Err(CmdError::from(c)),
        },
        b"getreg" | b"todense" | b"encoding" => Ok(false),
        b"decode" if sparse => Ok(false),
        b"decode" => Err(CmdError::Msg("ERR HLL encoding is not sparse")),
        _ => Err(CmdError::Owned(format!(
            "ERR Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(&args[1])
        ))),
    };
    let out = &mut *ctx.out;
    if let Ok(converted) = result {
        match &sub[..] {
            b"getreg" => {
                let regs = hll::registers(&v);
                out.array(regs.len());
                for r in regs {
                    out.int(r as i64);
                }
            }
            b"decode" => out.bulk(hll::decode(&v).as_bytes()),
            b"encoding" => out.simple(if sparse { "sparse" } else { "dense" }),
            _ => out.int(converted as i64),
        }
    }
    // Unshared, and dense if it was converted, whatever the reply.
    e.value = raw(v);
    result.map(|_| ())
}
