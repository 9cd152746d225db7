//! DEBUG DIGEST and DIGEST-VALUE: Redis's digest of a dataset and of
//! single values (`computeDatasetDigest` and `xorObjectDigest` in Redis
//! 7.0's `debug.c`), so the same data gives the same digest in tandem and
//! in redis-server whatever the encodings, and test suites can compare
//! datasets (before and after DEBUG RELOAD, or between servers).
//!
//! A value's digest mixes (SHA-1 chained) what has an order and XORs what
//! has none: a list's elements are mixed in order, a set's members XORed,
//! a hash's and a sorted set's pairs each digested then XORed. The dataset
//! digest XORs the SHA-1 of every key's digest into the running digest of
//! its database, after mixing in the database's number: XOR is order-free,
//! so each shard digests its own keys ([`dataset_part`]) and the IO thread
//! combines the parts ([`combine`]).

use sha1_smol::Sha1;

use super::{CmdError, CmdResult, Ctx};
use crate::store::Value;
use crate::store::listpack::Elem;
use crate::store::stream::StreamId;

/// A SHA-1 sized digest.
pub type Digest = [u8; 20];

/// Redis's `xorDigest`: `d ^= SHA1(data)`.
pub fn xor(d: &mut Digest, data: &[u8]) {
    let h = Sha1::from(data).digest().bytes();
    d.iter_mut().zip(h).for_each(|(a, b)| *a ^= b);
}

/// Redis's `mixDigest`: `d = SHA1(d ^ SHA1(data))`.
pub fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    *d = Sha1::from(&d[..]).digest().bytes();
}

/// Lower-case hex, as DEBUG DIGEST answers.
pub fn hex(d: &Digest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis's object type numbers (`OBJ_STRING` ...), mixed first.
fn type_code(v: &Value) -> u32 {
    match v {
        Value::Str(_) | Value::Int(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Redis's `xorObjectDigest` of one value into `d`; `expires`: the key has
/// a TTL.
pub fn value_digest(d: &mut Digest, v: &Value, expires: bool) {
    mix(d, &type_code(v).to_be_bytes());
    match v {
        Value::Str(s) => mix(d, &s[..]),
        Value::Int(n) => mix(d, itoa::Buffer::new().format(*n).as_bytes()),
        Value::List(l) => l.iter().for_each(|e| mix(d, e)),
        Value::Set(s) => s.for_each(|m| xor(d, m)),
        Value::Hash(h) => h.for_each(|f, v| {
            let mut e = Digest::default();
            mix(&mut e, f);
            mix(&mut e, v);
            xor(d, &e);
        }),
        Value::ZSet(z) => z.walk(0, z.len(), false, |m, score| {
            let mut e = Digest::default();
            mix(&mut e, m);
            mix(&mut e, crate::resp::write::fmt_double(score).as_bytes());
            xor(d, &e);
        }),
        Value::Stream(s) => {
            let text = |e: &Elem, buf: &mut itoa::Buffer| -> Vec<u8> {
                match e {
                    Elem::Int(n) => buf.format(*n).as_bytes().to_vec(),
                    Elem::Str(b) => b.to_vec(),
                }
            };
            let mut buf = itoa::Buffer::new();
            s.range(StreamId::MIN, StreamId::MAX, false, false, |id, fields| {
                mix(d, format!("{}.{}", id.ms, id.seq).as_bytes());
                for (f, v) in fields {
                    mix(d, &text(f, &mut buf));
                    mix(d, &text(v, &mut buf));
                }
                true
            });
        }
    }
    if expires {
        xor(d, b"!!expire!!");
    }
}

/// This shard's part of DEBUG DIGEST: per database, null if the shard
/// holds none of its keys, else the XOR of the SHA-1 of each key's digest
/// (its name mixed, then [`value_digest`]). Keys past their TTL that no
/// expiry reclaimed yet are left out (Redis counts them).
pub fn dataset_part(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now();
    let parts: Vec<Option<Digest>> = ctx
        .sh
        .dbs
        .iter()
        .map(|db| {
            let mut acc: Option<Digest> = None;
            db.for_each(now, |e| {
                let mut d = Digest::default();
                mix(&mut d, &e.key[..]);
                value_digest(&mut d, &e.value, e.expire_at() != 0);
                xor(acc.get_or_insert_with(Digest::default), &d);
            });
            acc
        })
        .collect();
    write_parts(ctx, &parts)
}

/// This shard's part of DEBUG DIGEST-VALUE key...: per key, its value's
/// digest if the key is this shard's and exists, else null.
pub fn values_part(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now();
    let me = ctx.sh.id;
    let keys = ctx.args.get(2..).unwrap_or_default().to_vec();
    let db = ctx
        .sh
        .dbs
        .get(ctx.db)
        .ok_or(CmdError::Msg("ERR DB index is out of range"))?;
    let digests: Vec<Option<Digest>> = keys
        .iter()
        .map(|k| {
            if crate::spec::key_shard(k, ctx.sh.count as usize) as u16 != me {
                return None;
            }
            let e = db.peek(crate::spec::key_hash(k), k, now)?;
            let mut d = Digest::default();
            value_digest(&mut d, &e.value, e.expire_at() != 0);
            Some(d)
        })
        .collect();
    write_parts(ctx, &digests)
}

/// A shard's part: an array of 20-byte bulk strings, null where it has
/// nothing.
fn write_parts(ctx: &mut Ctx, parts: &[Option<Digest>]) -> CmdResult {
    ctx.out.array(parts.len());
    for p in parts {
        match p {
            Some(d) => ctx.out.bulk(d),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// Combines the shards' parts of DEBUG DIGEST (`per_db`: for each shard,
/// for each database, its XORed key digests if it has keys there) into
/// Redis's dataset digest: for each database with keys, in order, the
/// database number (big-endian u32) is mixed in, then every shard's part
/// XORed. All zeros for an empty dataset.
pub fn combine(per_db: &[Vec<Option<Digest>>]) -> Digest {
    let mut fin = Digest::default();
    let dbs = per_db.iter().map(Vec::len).max().unwrap_or(0);
    for j in 0..dbs {
        let parts: Vec<&Digest> = per_db.iter().filter_map(|p| p.get(j)?.as_ref()).collect();
        if parts.is_empty() {
            continue;
        }
        mix(&mut fin, &(j as u32).to_be_bytes());
        for p in parts {
            fin.iter_mut().zip(p).for_each(|(a, b)| *a ^= b);
        }
    }
    fin
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis's digest of `SET a 1` in database 0 (`redis-cli debug digest`
    /// against redis-server 7.0.15).
    #[test]
    fn matches_redis_for_one_string() {
        let mut d = Digest::default();
        mix(&mut d, b"a");
        value_digest(&mut d, &Value::Int(1), false);
        let mut part = Digest::default();
        xor(&mut part, &d);
        let fin = combine(&[vec![Some(part)]]);
        assert_eq!(hex(&fin), REDIS_SET_A_1);
    }

    const REDIS_SET_A_1: &str = "943d800368fb9c0e951138f1bc0e313ac769d91f";
}
