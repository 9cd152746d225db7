//! Keyspace notifications for the commands a shard runs
//! (<https://redis.io/docs/latest/develop/use/keyspace-notifications/>):
//! which event each write command publishes, and on which keys.
//!
//! Redis calls `notifyKeyspaceEvent` inside each command; tandem decides
//! after the command from [`EVENTS`] and the reply, in one place:
//!
//! - A write that answered an error, nil, `0` or an empty array changed
//!   nothing and publishes nothing (SADD of members already there, SET NX
//!   on an existing key, EXPIRE of a missing key, HDEL of missing fields;
//!   not HSET, whose `0` means it overwrote fields; ZADD, whose reply does
//!   not say whether a score changed, publishes from its handler).
//! - Otherwise its event goes out on its first key, or on every key for
//!   MSET/MSETNX; SET with an expiry, SETEX and PSETEX add `expire`.
//! - A pop or removal that left its key empty adds `del` (class `g`), as
//!   Redis does when it deletes an emptied collection.
//! - EXPIRE and its siblings publish `del` instead when the time was
//!   already past; GETEX publishes `expire`, `persist` or nothing.
//! - DEL and UNLINK publish `del` for each key they removed, and the store
//!   commands (SINTERSTORE, ZUNIONSTORE, SORT ... STORE, ...) their event
//!   or `del` on the destination: their handlers do, on the destination's
//!   shard (`Shard::notify_stored`). RENAME, COPY, MOVE, LMOVE (and
//!   RPOPLPUSH, a served BLMOVE) and SMOVE publish from their handlers, in
//!   Redis's order, from the shard that finishes the command; so do the
//!   blocking pops (served at once or woken) and LMPOP/ZMPOP
//!   (`Shard::notify_popped`). Expiries
//!   publish `expired` (class `x`) from the shard that reclaimed the key,
//!   lazily or in the active sweep.
//!
//! - With `n` or `m` enabled, the command's keys on this shard are looked
//!   at before it runs: a read (or GETDEL) publishes `keymiss` for each one
//!   missing, a write `new` for each one it created, before its own event.
//!   An event a handler published itself (a store command's, RENAME's
//!   `rename_to`, ...) comes before `new` here, where Redis puts `new`
//!   first, and a key created on another shard (a cross-shard RENAME's
//!   destination) gets no `new`.
//! Event names and classes follow Redis 7.0's `t_*.c`.

use super::Ctx;
use crate::pubsub::notify::{self as n};
use crate::spec;

/// Per write command: its class and event name.
pub static EVENTS: &[(&str, u32, &str)] = &[
    // strings
    ("set", n::STRING, "set"),
    ("setnx", n::STRING, "set"),
    ("setex", n::STRING, "set"),
    ("psetex", n::STRING, "set"),
    ("getset", n::STRING, "set"),
    ("mset", n::STRING, "set"),
    ("msetnx", n::STRING, "set"),
    ("append", n::STRING, "append"),
    ("setrange", n::STRING, "setrange"),
    ("incr", n::STRING, "incrby"),
    ("decr", n::STRING, "decrby"),
    ("incrby", n::STRING, "incrby"),
    ("decrby", n::STRING, "decrby"),
    ("incrbyfloat", n::STRING, "incrbyfloat"),
    ("getdel", n::GENERIC, "del"),
    // generic
    ("expire", n::GENERIC, "expire"),
    ("pexpire", n::GENERIC, "expire"),
    ("expireat", n::GENERIC, "expire"),
    ("pexpireat", n::GENERIC, "expire"),
    ("persist", n::GENERIC, "persist"),
    ("getex", n::GENERIC, "expire"),
    ("restore", n::GENERIC, "restore"),
    // lists
    ("lpush", n::LIST, "lpush"),
    ("lpushx", n::LIST, "lpush"),
    ("rpush", n::LIST, "rpush"),
    ("rpushx", n::LIST, "rpush"),
    ("lpop", n::LIST, "lpop"),
    ("rpop", n::LIST, "rpop"),
    ("linsert", n::LIST, "linsert"),
    ("lset", n::LIST, "lset"),
    ("lrem", n::LIST, "lrem"),
    ("ltrim", n::LIST, "ltrim"),
    // hashes
    ("hset", n::HASH, "hset"),
    ("hsetnx", n::HASH, "hset"),
    ("hmset", n::HASH, "hset"),
    ("hdel", n::HASH, "hdel"),
    ("hincrby", n::HASH, "hincrby"),
    ("hincrbyfloat", n::HASH, "hincrbyfloat"),
    // sets
    ("sadd", n::SET, "sadd"),
    ("srem", n::SET, "srem"),
    ("spop", n::SET, "spop"),
    // sorted sets
    ("zincrby", n::ZSET, "zincr"),
    ("zrem", n::ZSET, "zrem"),
    ("zremrangebyscore", n::ZSET, "zremrangebyscore"),
    ("zremrangebyrank", n::ZSET, "zremrangebyrank"),
    ("zremrangebylex", n::ZSET, "zremrangebylex"),
    ("zpopmin", n::ZSET, "zpopmin"),
    ("zpopmax", n::ZSET, "zpopmax"),
];

/// The event of command `name`, if it publishes one here.
fn event_of(name: &str) -> Option<(u32, &'static str)> {
    EVENTS
        .iter()
        .find(|(c, _, _)| *c == name)
        .map(|&(_, class, ev)| (class, ev))
}

/// Whether a reply says the command changed nothing: an error, nil, `0`,
/// or an empty array. Not for HSET, whose `0` says only that every field
/// existed (it still wrote them).
fn changed_nothing(reply: &[u8]) -> bool {
    matches!(
        reply,
        [b'-' | b'!', ..] | b"$-1\r\n" | b"*-1\r\n" | b"_\r\n" | b":0\r\n" | b"*0\r\n"
    )
}

/// Publishes the keyspace events of write command `s`, which just
/// answered `ctx.out.buf[mark..]` (see the module notes).
pub fn after_write(ctx: &mut Ctx, s: &spec::CommandSpec, mark: usize) {
    if ctx.sh.notify == 0 || ctx.sh.pubsub.idle() {
        return;
    }
    let Some((class, event)) = event_of(s.name) else {
        return;
    };
    let reply = ctx.out.buf.get(mark..).unwrap_or_default();
    // LINSERT answers -1 when the pivot is missing: nothing inserted.
    let nothing = match s.name {
        "hset" | "hmset" => matches!(reply, [b'-' | b'!', ..]),
        _ => changed_nothing(reply),
    };
    if nothing || (s.name == "linsert" && reply == b":-1\r\n") {
        return;
    }
    let db = ctx.db;
    let args = ctx.args;
    match s.name {
        "mset" | "msetnx" => {
            for k in args[1..].iter().step_by(2) {
                ctx.sh.notify(class, event, db, k);
            }
            return;
        }
        _ => {}
    }
    let Some(key) = args.get(ctx.first_key).filter(|_| ctx.first_key > 0) else {
        return;
    };
    // An expiry already past deletes the key (`del`, as Redis's
    // `expireGenericCommand`); GETEX PERSIST is a `persist`; a GETEX
    // without options changes nothing.
    if matches!(
        s.name,
        "expire" | "pexpire" | "expireat" | "pexpireat" | "getex"
    ) {
        let has = |o: &[u8]| args[2..].iter().any(|a| a.eq_ignore_ascii_case(o));
        let h = ctx.key_hash(ctx.first_key);
        let now = ctx.now();
        if s.name == "getex" && has(b"persist") {
            ctx.sh.notify(n::GENERIC, "persist", db, key);
        } else if s.name == "getex" && ![&b"ex"[..], b"px", b"exat", b"pxat"].iter().any(|o| has(o))
        {
            // GETEX without options changes nothing.
        } else if !ctx.sh.dbs[db].contains(h, key, now) {
            ctx.sh.notify(n::GENERIC, "del", db, key);
        } else {
            ctx.sh.notify(class, event, db, key);
        }
        return;
    }
    ctx.sh.notify(class, event, db, key);
    let expires = match s.name {
        "setex" | "psetex" => true,
        "set" => args[3..].iter().any(|a| {
            [&b"ex"[..], b"px", b"exat", b"pxat"]
                .iter()
                .any(|o| a.eq_ignore_ascii_case(o))
        }),
        _ => false,
    };
    if expires {
        ctx.sh.notify(n::GENERIC, "expire", db, key);
    }
    let may_empty = matches!(
        s.name,
        "lpop"
            | "rpop"
            | "lrem"
            | "ltrim"
            | "hdel"
            | "srem"
            | "spop"
            | "zrem"
            | "zremrangebyscore"
            | "zremrangebyrank"
            | "zremrangebylex"
            | "zpopmin"
            | "zpopmax"
    );
    if may_empty {
        let h = ctx.key_hash(ctx.first_key);
        let now = ctx.now();
        if !ctx.sh.dbs[db].contains(h, key, now) {
            ctx.sh.notify(n::GENERIC, "del", db, key);
        }
    }
}

/// With `new` (n) or `keymiss` (m) events on: which of the command's keys
/// that live on this shard exist before it runs (argument index,
/// existence); `keymiss` goes out now for the reads that miss (Redis's
/// `lookupKeyRead`, which OBJECT does not notify through).
pub fn before(ctx: &mut Ctx, s: &spec::CommandSpec) -> Vec<(usize, bool)> {
    let refs: Vec<&[u8]> = ctx.args.iter().map(|a| &a[..]).collect();
    let now = ctx.now();
    let db = ctx.db;
    let mut keys = Vec::new();
    for i in s.keys_in(&refs).unwrap_or_default() {
        let Some(k) = refs.get(i) else { continue };
        if ctx.sh.shard_of(k) != ctx.sh.id {
            continue;
        }
        let exists = ctx.sh.dbs[db].contains(spec::key_hash(k), k, now);
        keys.push((i, exists));
    }
    let reads = (s.is(spec::flag::READONLY) && s.name != "object") || s.name == "getdel";
    if reads && ctx.sh.notify & n::KEY_MISS != 0 {
        for &(i, exists) in &keys {
            if !exists {
                let k = ctx.args[i].clone();
                ctx.sh.notify(n::KEY_MISS, "keymiss", db, &k);
            }
        }
    }
    keys
}

/// After write command `s` ran: `new` for each key of [`before`] it
/// created.
pub fn created(ctx: &mut Ctx, s: &spec::CommandSpec, before: &[(usize, bool)]) {
    if ctx.sh.notify & n::NEW == 0 || !s.is(spec::flag::WRITE) {
        return;
    }
    let now = ctx.now();
    let db = ctx.db;
    for &(i, existed) in before {
        let k = ctx.args[i].clone();
        if !existed && ctx.sh.dbs[db].contains(spec::key_hash(&k), &k, now) {
            ctx.sh.notify(n::NEW, "new", db, &k);
        }
    }
}
