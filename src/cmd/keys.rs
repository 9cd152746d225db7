//! The keyspace (generic) family
//! (<https://redis.io/docs/latest/commands/?group=generic>): DEL UNLINK
//! EXISTS TOUCH TYPE EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME
//! PEXPIRETIME PERSIST OBJECT MEMORY KEYS SCAN RANDOMKEY RENAME RENAMENX
//! COPY DBSIZE FLUSHDB FLUSHALL SWAPDB, and the shard side of INFO.
//!
//! Routing (done by the IO stage): DEL/UNLINK/EXISTS/TOUCH arrive split per
//! shard; KEYS, DBSIZE, RANDOMKEY, FLUSHDB, FLUSHALL, SWAPDB and INFO run on
//! every shard, each answering for its part; SCAN's cursor names the shard;
//! RENAME, RENAMENX and COPY arrive at the source key's shard, which hops to
//! the destination's shard when it is another one. Deadlines are Unix ms.

use crate::pubsub::notify::GENERIC as NOTIFY_GENERIC;
use bytes::Bytes;

use super::{CmdError, CmdResult, Ctx, Handler, Shard};
use crate::msg::ReplyTo;
use crate::resp::errors;
use crate::spec::key_hash;
use crate::store::{Access, Str, Value};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("del", del),
    ("unlink", del),
    ("exists", exists),
    ("touch", exists),
    ("type", type_),
    ("expire", expire),
    ("pexpire", expire),
    ("expireat", expire),
    ("pexpireat", expire),
    ("ttl", ttl),
    ("pttl", ttl),
    ("expiretime", ttl),
    ("pexpiretime", ttl),
    ("persist", persist),
    ("object", object),
    ("memory", memory),
    ("keys", keys),
    ("scan", scan),
    ("randomkey", randomkey),
    ("rename", rename),
    ("renamenx", rename),
    ("copy", copy),
    ("move", move_),
    ("dbsize", dbsize),
    ("flushdb", flush),
    ("flushall", flush),
    ("swapdb", swapdb),
    ("info", info),
];

const NX_CONFLICT: &str = "ERR NX and XX, GT or LT options at the same time are not compatible";
const GT_LT_CONFLICT: &str = "ERR GT and LT options at the same time are not compatible";
const NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

fn name(ctx: &Ctx) -> String {
    String::from_utf8_lossy(&ctx.args[0]).to_ascii_lowercase()
}

/// DEL / UNLINK key...: the number of keys removed (this shard's part).
fn del(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now();
    let mut n = 0;
    for i in 1..ctx.args.len() {
        let h = ctx.key_hash(i);
        let args = ctx.args;
        if ctx.sh.dbs[ctx.db].remove(h, &args[i], now).is_some() {
            n += 1;
            let db = ctx.db;
            ctx.sh.notify(NOTIFY_GENERIC, "del", db, &args[i]);
        }
    }
    ctx.out.int(n);
    Ok(())
}

/// EXISTS / TOUCH key...: how many of the keys exist (repeats counted).
fn exists(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now();
    // TOUCH updates the keys' access clocks; EXISTS leaves them alone
    // (Redis's LOOKUP_NOTOUCH).
    let touch = ctx.arg_is(0, "touch");
    let mut n = 0;
    for i in 1..ctx.args.len() {
        let h = ctx.key_hash(i);
        let args = ctx.args;
        let db = &mut ctx.sh.dbs[ctx.db];
        n += if touch {
            db.get(h, &args[i], now).is_some()
        } else {
            db.get_notouch(h, &args[i], now).is_some()
        } as i64;
    }
    ctx.out.int(n);
    Ok(())
}

/// TYPE key: `string`, ..., or `none`, as a simple string.
fn type_(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let t = ctx.sh.dbs[ctx.db]
        .get_notouch(h, &args[1], now)
        .map(|e| e.value.type_name())
        .unwrap_or("none");
    ctx.out.simple(t);
    Ok(())
}

/// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX | XX | GT | LT]
/// (<https://redis.io/docs/latest/commands/expire/>): 1 if the deadline was
/// set (a deadline in the past deletes the key), 0 if the key is missing or
/// a condition failed. A key without a TTL counts as an infinite TTL for GT
/// and LT. Errors: not-an-integer, `invalid expire time in '<cmd>'
/// command`, the NX/XX/GT/LT conflict errors, `Unsupported option`.
fn expire(ctx: &mut Ctx) -> CmdResult {
    ctx.sh.propagate_nothing();
    let cmd = name(ctx);
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for i in 3..ctx.args.len() {
        let a = &ctx.args[i];
        if a.eq_ignore_ascii_case(b"NX") {
            nx = true;
        } else if a.eq_ignore_ascii_case(b"XX") {
            xx = true;
        } else if a.eq_ignore_ascii_case(b"GT") {
            gt = true;
        } else if a.eq_ignore_ascii_case(b"LT") {
            lt = true;
        } else {
            return Err(CmdError::Owned(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(a)
            )));
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::Msg(NX_CONFLICT));
    }
    if gt && lt {
        return Err(CmdError::Msg(GT_LT_CONFLICT));
    }
    let when = ctx.int_arg(2)?;
    let invalid = || CmdError::Owned(format!("ERR invalid expire time in '{cmd}' command"));
    let secs = cmd == "expire" || cmd == "expireat";
    let relative = cmd == "expire" || cmd == "pexpire";
    let ms = if secs {
        when.checked_mul(1000).ok_or_else(invalid)?
    } else {
        when
    };
    let now = ctx.now();
    let at = if relative {
        ms.checked_add(now as i64).ok_or_else(invalid)?
    } else {
        ms
    };
    let h = ctx.key_hash(1);
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    let Some(e) = db.get(h, &args[1], now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let cur = e.expire_at();
    let new = at.max(0) as u64;
    let ok = if nx {
        cur == 0
    } else if xx {
        cur != 0 && (!gt || new > cur) && (!lt || new < cur)
    } else if gt {
        cur != 0 && new > cur
    } else if lt {
        cur == 0 || new < cur
    } else {
        true
    };
    if !ok {
        ctx.out.int(0);
        return Ok(());
    }
    // Logged as Redis 7 propagates it: an absolute PEXPIREAT, or the DEL
    // a deadline in the past amounts to; nothing when nothing changed.
    if at <= now as i64 {
        db.remove(h, &args[1], now);
        ctx.sh.propagate(ctx.db, &[b"DEL", &args[1]]);
    } else {
        db.set_expire(h, &args[1], new, now);
        ctx.sh.propagate(
            ctx.db,
            &[b"PEXPIREAT", &args[1], new.to_string().as_bytes()],
        );
    }
    ctx.out.int(1);
    Ok(())
}

/// TTL (s, rounded) / PTTL (ms) / EXPIRETIME (Unix s, rounded) / PEXPIRETIME (Unix
/// ms): -2 if the key is missing, -1 if it has no deadline.
fn ttl(ctx: &mut Ctx) -> CmdResult {
    let cmd = name(ctx);
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let v = match ctx.sh.dbs[ctx.db].get_notouch(h, &args[1], now) {
        None => -2,
        Some(e) if e.expire_at() == 0 => -1,
        Some(e) => {
            let at = e.expire_at() as i64;
            let left = (at - now as i64).max(0);
            match cmd.as_str() {
                "ttl" => (left + 500) / 1000,
                "pttl" => left,
                // Rounded to the nearest second, as TTL is (Redis's
                // ttlGenericCommand: `(ttl + 500) / 1000` for both).
                "expiretime" => (at + 500) / 1000,
                _ => at,
            }
        }
    };
    ctx.out.int(v);
    Ok(())
}

/// PERSIST key: 1 if a deadline was removed, else 0.
fn persist(ctx: &mut Ctx) -> CmdResult {
    let h = ctx.key_hash(1);
    let now = ctx.now();
    let args = ctx.args;
    let db = &mut ctx.sh.dbs[ctx.db];
    let had = db.get(h, &args[1], now).is_some_and(|e| e.expire_at() != 0);
    if had {
        db.set_expire(h, &args[1], 0, now);
    }
    ctx.out.int(had as i64);
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
];

/// MEMORY USAGE key [SAMPLES count] | PURGE | MALLOC-STATS | HELP
/// (<https://redis.io/docs/latest/commands/memory-usage/>): USAGE gives
/// the bytes of the key's entry, name and value (null for a missing key);
/// tandem sizes every value whole, so SAMPLES is checked and needs no
/// sampling. PURGE hands free memory back to the OS on every thread.
/// MALLOC-STATS answers as Redis does for an allocator without a report.
/// DOCTOR and STATS are refused as not implemented. Errors: unknown
/// subcommand, wrong number of arguments for `memory|<sub>`, syntax error,
/// not an integer.
fn memory(ctx: &mut Ctx) -> CmdResult {
    let sub = super::subcommand(
        ctx.args,
        &[
            ("usage", -3),
            ("doctor", 2),
            ("stats", 2),
            ("malloc-stats", 2),
            ("purge", 2),
            ("help", 2),
        ],
    )?;
    match sub.as_str() {
        "help" => super::write_help(ctx.out, "MEMORY", MEMORY_HELP),
        "purge" => {
            crate::alloc::give_back();
            ctx.out.ok();
        }
        "malloc-stats" => ctx
            .out
            .bulk(b"Stats not supported for the current allocator"),
        // This shard's part; the IO thread gathers every shard's, which
        // a transaction or a script cannot do.
        "doctor" | "stats" if ctx.no_wait => {
            return Err(CmdError::Owned(format!(
                "ERR tandem: MEMORY {} inside MULTI or a script is not implemented",
                sub.to_ascii_uppercase()
            )));
        }
        "doctor" | "stats" => return info(ctx),
        _ => {
            let mut j = 3;
            while j < ctx.args.len() {
                if ctx.arg_is(j, "samples") && j + 1 < ctx.args.len() {
                    if ctx.int_arg(j + 1)? < 0 {
                        return Err(CmdError::Syntax);
                    }
                    j += 2;
                } else {
                    return Err(CmdError::Syntax);
                }
            }
            let h = ctx.key_hash(2);
            let now = ctx.now();
            let args = ctx.args;
            match ctx.sh.dbs[ctx.db].get_notouch(h, &args[2], now) {
                Some(e) => ctx.out.int(e.memory_usage() as i64),
                None => ctx.out.null(),
            }
        }
    }
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Print this help.",
];

/// OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ key, OBJECT HELP: null for a
/// missing key. IDLETIME (seconds since the last access) needs a non-LFU
/// `maxmemory-policy` and FREQ (the logarithmic access counter) an LFU
/// one; each errors under the other, with Redis's messages.
fn object(ctx: &mut Ctx) -> CmdResult {
    let sub = String::from_utf8_lossy(&ctx.args[1]).to_ascii_lowercase();
    if sub == "help" && ctx.args.len() == 2 {
        ctx.out.array(OBJECT_HELP.len());
        for l in OBJECT_HELP {
            ctx.out.simple(l);
        }
        return Ok(());
    }
    if !["encoding", "refcount", "idletime", "freq"].contains(&sub.as_str()) {
        return Err(CmdError::Owned(format!(
            "ERR unknown subcommand '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(&ctx.args[1])
        )));
    }
    if ctx.args.len() != 3 {
        return Err(CmdError::Owned(format!(
            "ERR wrong number of arguments for 'object|{sub}' command"
        )));
    }
    let h = ctx.key_hash(2);
    let now = ctx.now();
    let args = ctx.args;
    let access = ctx.sh.dbs[ctx.db].access();
    // OBJECT looks without touching (Redis's LOOKUP_NOTOUCH).
    let Some(e) = ctx.sh.dbs[ctx.db].get_notouch(h, &args[2], now) else {
        ctx.out.null();
        return Ok(());
    };
    match sub.as_str() {
        "encoding" => ctx.out.bulk(e.value.encoding().as_bytes()),
        "refcount" => ctx.out.int(e.value.refcount()),
        // The entry's access bits hold a clock or an LFU counter, by
        // `maxmemory-policy` (`store::Access`).
        "idletime" => match access {
            Access::Lru => ctx.out.int(e.idle_secs(now) as i64),
            Access::Lfu { .. } => return Err(CmdError::Msg(LFU_SELECTED)),
        },
        _ => match access {
            Access::Lfu { decay_time, .. } => ctx.out.int(e.lfu_freq(now, decay_time) as i64),
            Access::Lru => return Err(CmdError::Msg(NO_LFU)),
        },
    }
    Ok(())
}

/// KEYS pattern: this shard's matching keys (the IO stage concatenates).
fn keys(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now();
    let pat = &ctx.args[1];
    let all = pat.as_ref() == b"*";
    let mut found: Vec<Str> = Vec::new();
    ctx.sh.dbs[ctx.db].for_each(now, |e| {
        if all || crate::glob::matches(pat, &e.key, false) {
            found.push(e.key.clone());
        }
    });
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]
/// (<https://redis.io/docs/latest/commands/scan/>). The client's cursor is
/// `inner * shards + shard`: the IO stage sends it to shard `cursor %
/// shards`, which scans its part from `inner` (reverse-binary over its
/// segments, so keys present throughout are returned at least once even
/// across resizes) and hands over to the next shard when done. Errors:
/// `invalid cursor`, syntax error, not-an-integer.
fn scan(ctx: &mut Ctx) -> CmdResult {
    let cursor = super::parse_cursor(&ctx.args[1])?;
    let mut count = 10usize;
    let mut pattern: Option<&[u8]> = None;
    let mut kind: Option<String> = None;
    let mut i = 2;
    while i < ctx.args.len() {
        if i + 1 >= ctx.args.len() {
            return Err(CmdError::Syntax);
        }
        if ctx.arg_is(i, "COUNT") {
            let n = ctx.int_arg(i + 1)?;
            if n < 1 {
                return Err(CmdError::Syntax);
            }
            count = n as usize;
        } else if ctx.arg_is(i, "MATCH") {
            // A lone `*` matches everything, the empty key too (Redis's
            // `use_pattern` in `scanGenericCommand`).
            pattern = Some(&ctx.args[i + 1][..]).filter(|p| *p != b"*");
        } else if ctx.arg_is(i, "TYPE") {
            kind = Some(String::from_utf8_lossy(&ctx.args[i + 1]).to_ascii_lowercase());
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    let shards = ctx.sh.count as u64;
    let inner = cursor / shards;
    let now = ctx.now();
    let mut found: Vec<Str> = Vec::new();
    let next = ctx.sh.dbs[ctx.db].scan(inner, count, now, |e| {
        if pattern.is_some_and(|p| !crate::glob::matches(p, &e.key, false)) {
            return;
        }
        if kind.as_ref().is_some_and(|t| t != e.value.type_name()) {
            return;
        }
        found.push(e.key.clone());
    });
    let id = ctx.sh.id as u64;
    let next = if next != 0 {
        next * shards + id
    } else if id + 1 < shards {
        id + 1
    } else {
        0
    };
    ctx.out.array(2);
    ctx.out.bulk(itoa::Buffer::new().format(next).as_bytes());
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
    Ok(())
}

/// RANDOMKEY: a random key of this shard, or null.
fn randomkey(ctx: &mut Ctx) -> CmdResult {
    let now = ctx.now();
    match ctx.sh.dbs[ctx.db].random_key(now) {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
    Ok(())
}

/// DBSIZE: this shard's key count in the selected database.
fn dbsize(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.sh.dbs[ctx.db].len();
    ctx.out.int(n as i64);
    Ok(())
}

/// FLUSHDB / FLUSHALL [ASYNC | SYNC]: `+OK`. Both modes free memory before
/// replying. Errors: syntax error.
fn flush(ctx: &mut Ctx) -> CmdResult {
    if ctx.args.len() > 2
        || (ctx.args.len() == 2 && !ctx.arg_is(1, "ASYNC") && !ctx.arg_is(1, "SYNC"))
    {
        return Err(CmdError::Syntax);
    }
    if name(ctx) == "flushall" {
        ctx.sh.dbs.iter_mut().for_each(|d| d.clear());
    } else {
        ctx.sh.dbs[ctx.db].clear();
    }
    ctx.out.ok();
    Ok(())
}

/// SWAPDB index1 index2: `+OK`. Errors: `invalid first DB index`, `invalid
/// second DB index`, `DB index is out of range`.
fn swapdb(ctx: &mut Ctx) -> CmdResult {
    // Redis reads both as C ints: outside the int range is "invalid" too.
    let (lo, hi) = (i32::MIN as i64, i32::MAX as i64);
    let a = ctx.range_arg(1, lo, hi, Some("ERR invalid first DB index"))?;
    let b = ctx.range_arg(2, lo, hi, Some("ERR invalid second DB index"))?;
    let n = ctx.sh.dbs.len() as i64;
    if a < 0 || b < 0 || a >= n || b >= n {
        return Err(CmdError::Msg(errors::DB_INDEX_OUT_OF_RANGE));
    }
    ctx.sh.dbs.swap(a as usize, b as usize);
    ctx.out.ok();
    Ok(())
}

/// INFO, shard side: `[commands executed, keys expired, keyspace hits,
/// keyspace misses, keys evicted, Lua state bytes, then for each
/// database: keys, keys with a deadline, then each database's hash table
/// bytes]` as integers, for INFO, MEMORY STATS and DOCTOR; the IO stage
/// sums them over shards and formats the reply
/// (`net::local::info_finisher`, which reads this layout).
fn info(ctx: &mut Ctx) -> CmdResult {
    let dbs = ctx.sh.dbs.len();
    ctx.out.array(6 + 3 * dbs);
    let total = ctx.sh.db_stats();
    ctx.out.int(ctx.sh.commands as i64);
    ctx.out.int(total.expired as i64);
    ctx.out.int(total.hits as i64);
    ctx.out.int(total.misses as i64);
    ctx.out.int(total.evicted as i64);
    ctx.out
        .int(ctx.sh.lua.as_ref().map_or(0, |l| l.memory()) as i64);
    for d in &ctx.sh.dbs {
        ctx.out.int(d.len() as i64);
        ctx.out.int(d.expires_len() as i64);
    }
    for d in &ctx.sh.dbs {
        ctx.out.int(d.table_bytes() as i64);
    }
    Ok(())
}

/// Writes `(value, deadline)` to `dst` in database `db` of this shard
/// unless `nx` and it exists; returns whether it wrote.
fn put(sh: &mut Shard, db: usize, dst: &Bytes, value: Value, at: u64, nx: bool) -> bool {
    let now = sh.now_ms;
    let h = key_hash(dst);
    let d = &mut sh.dbs[db];
    if nx && d.contains(h, dst, now) {
        return false;
    }
    d.remove(h, dst, now);
    d.set_owned(dst.clone(), h, value, at, now);
    true
}

/// RENAME / RENAMENX key newkey: moves the value and its deadline. RENAME
/// replies `+OK`, RENAMENX 1 or 0 (destination exists). Errors: `no such
/// key`. Across shards: RENAME takes the entry here and hops it to the
/// destination's shard, which replies; RENAMENX first asks the destination's
/// shard whether the name is free. Isolation from concurrent writers on the
/// other shard comes with the transaction layer.
fn rename(ctx: &mut Ctx) -> CmdResult {
    let nx = name(ctx) == "renamenx";
    let now = ctx.now();
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    let h = ctx.key_hash(1);
    if !ctx.sh.dbs[ctx.db].contains(h, &src, now) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst {
        if nx {
            ctx.out.int(0)
        } else {
            ctx.out.ok()
        }
        return Ok(());
    }
    let target = ctx.sh.shard_of(&dst);
    let db = ctx.db;
    if target == ctx.sh.id {
        if nx && ctx.sh.dbs[db].contains(key_hash(&dst), &dst, now) {
            ctx.out.int(0);
            return Ok(());
        }
        let Some(e) = ctx.sh.dbs[db].remove(h, &src, now) else {
            return Err(CmdError::NoSuchKey);
        };
        let at = e.expire_at();
        put(ctx.sh, db, &dst, e.value, at, false);
        renamed(ctx.sh, db, &src, &dst);
        if nx {
            ctx.out.int(1)
        } else {
            ctx.out.ok()
        }
        return Ok(());
    }
    ctx.deferred = true;
    let to = ctx.reply_to;
    let home = ctx.sh.id;
    if !nx {
        let e = ctx.sh.dbs[db]
            .remove(h, &src, now)
            .ok_or(CmdError::NoSuchKey)?;
        let at = e.expire_at();
        let value = e.value;
        // Both events from here, in Redis's order; the destination is
        // written under the same transaction before anyone can look.
        renamed(ctx.sh, db, &src, &dst);
        ctx.sh.hop(target, move |sh| {
            put(sh, db, &dst, value, at, false);
            sh.reply_later(to, |r| r.ok());
        });
        return Ok(());
    }
    // RENAMENX: check the destination, come back for the source, deliver it.
    ctx.sh.hop(target, move |sh| {
        if sh.dbs[db].contains(key_hash(&dst), &dst, sh.now_ms) {
            sh.reply_later(to, |r| r.int(0));
            return;
        }
        sh.hop(home, move |sh| {
            let Some(e) = sh.dbs[db].remove(key_hash(&src), &src, sh.now_ms) else {
                sh.reply_later(to, |r| r.error(errors::NO_SUCH_KEY));
                return;
            };
            let at = e.expire_at();
            let value = e.value;
            renamed(sh, db, &src, &dst);
            sh.hop(target, move |sh| {
                put(sh, db, &dst, value, at, false);
                sh.reply_later(to, |r| r.int(1));
            });
        });
    });
    Ok(())
}

/// RENAME's keyspace events: `rename_from` on the source, `rename_to` on
/// the destination (Redis's `renameGenericCommand`).
fn renamed(sh: &mut Shard, db: usize, src: &[u8], dst: &[u8]) {
    sh.notify(NOTIFY_GENERIC, "rename_from", db, src);
    sh.notify(NOTIFY_GENERIC, "rename_to", db, dst);
}

/// COPY source destination [DB index] [REPLACE]: 1 if copied (value and
/// deadline), 0 if the source is missing or the destination exists without
/// REPLACE. Errors: `source and destination objects are the same`, `DB
/// index is out of range`, not-an-integer, syntax error.
fn copy(ctx: &mut Ctx) -> CmdResult {
    let mut dst_db = ctx.db;
    let mut replace = false;
    let mut i = 3;
    while i < ctx.args.len() {
        if ctx.arg_is(i, "REPLACE") {
            replace = true;
        } else if ctx.arg_is(i, "DB") && i + 1 < ctx.args.len() {
            // A C int, as Redis's getIntFromObjectOrReply reads it.
            let n = ctx.range_arg(i + 1, i32::MIN as i64, i32::MAX as i64, None)?;
            if n < 0 || n as usize >= ctx.sh.dbs.len() {
                return Err(CmdError::Msg(errors::DB_INDEX_OUT_OF_RANGE));
            }
            dst_db = n as usize;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    let (src, dst) = (ctx.args[1].clone(), ctx.args[2].clone());
    if src == dst && dst_db == ctx.db {
        return Err(CmdError::Msg(errors::SAME_OBJECT));
    }
    let now = ctx.now();
    let h = ctx.key_hash(1);
    let Some(e) = ctx.sh.dbs[ctx.db].get(h, &src, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let (value, at) = (e.value.duplicate(), e.expire_at());
    let target = ctx.sh.shard_of(&dst);
    if target == ctx.sh.id {
        let done = put(ctx.sh, dst_db, &dst, value, at, !replace);
        if done {
            ctx.sh.notify(NOTIFY_GENERIC, "copy_to", dst_db, &dst);
        }
        ctx.out.int(done as i64);
        return Ok(());
    }
    ctx.deferred = true;
    let to: ReplyTo = ctx.reply_to;
    ctx.sh.hop(target, move |sh| {
        let done = put(sh, dst_db, &dst, value, at, !replace);
        if done {
            sh.notify(NOTIFY_GENERIC, "copy_to", dst_db, &dst);
        }
        sh.reply_later(to, |r| r.int(done as i64));
    });
    Ok(())
}

/// MOVE key db (<https://redis.io/docs/latest/commands/move/>): moves the
/// key, with its deadline, to database `db`: 1 if moved, 0 if the key is
/// missing or `db` already holds it. A key lives on the same shard in every
/// database, so MOVE never leaves its shard. Errors (in Redis 7.0's order,
/// `moveCommand`): not-an-integer / `value is out of range, value must
/// between ...` (a C int), `DB index is out of range`, `source and
/// destination objects are the same`.
fn move_(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.range_arg(2, i32::MIN as i64, i32::MAX as i64, None)?;
    if n < 0 || n as usize >= ctx.sh.dbs.len() {
        return Err(CmdError::Msg(errors::DB_INDEX_OUT_OF_RANGE));
    }
    let dst_db = n as usize;
    if dst_db == ctx.db {
        return Err(CmdError::Msg(errors::SAME_OBJECT));
    }
    let now = ctx.now();
    let h = ctx.key_hash(1);
    let key = ctx.args[1].clone();
    let moved = ctx.sh.dbs[ctx.db].contains(h, &key, now)
        && !ctx.sh.dbs[dst_db].contains(h, &key, now)
        && match ctx.sh.dbs[ctx.db].remove(h, &key, now) {
            Some(e) => {
                let at = e.expire_at();
                ctx.sh.dbs[dst_db].set_owned(key.clone(), h, e.value, at, now);
                true
            }
            None => false,
        };
    if moved {
        let db = ctx.db;
        ctx.sh.notify(NOTIFY_GENERIC, "move_from", db, &key);
        ctx.sh.notify(NOTIFY_GENERIC, "move_to", dst_db, &key);
    }
    ctx.out.int(moved as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::testing::Harness;

    #[test]
    fn expire_options() {
        let mut h = Harness::default();
        h.run(&["set", "k", "v"]);
        assert_eq!(h.run(&["expire", "k", "100", "xx"]), ":0\r\n");
        assert_eq!(h.run(&["expire", "k", "100", "gt"]), ":0\r\n");
        assert_eq!(h.run(&["expire", "k", "100", "lt"]), ":1\r\n");
        assert_eq!(h.run(&["expire", "k", "50", "nx"]), ":0\r\n");
        assert_eq!(h.run(&["expire", "k", "200", "gt"]), ":1\r\n");
        assert_eq!(h.run(&["ttl", "k"]), ":200\r\n");
        assert_eq!(
            h.run(&["expire", "k", "1", "nx", "gt"]),
            format!("-{}\r\n", super::NX_CONFLICT)
        );
        assert_eq!(
            h.run(&["expire", "k", "1", "gt", "lt"]),
            format!("-{}\r\n", super::GT_LT_CONFLICT)
        );
        assert_eq!(
            h.run(&["expire", "k", "1", "foo"]),
            "-ERR Unsupported option foo\r\n"
        );
        assert_eq!(
            h.run(&["expire", "k", "9223372036854775807"]),
            "-ERR invalid expire time in 'expire' command\r\n"
        );
        assert_eq!(h.run(&["pexpire", "k", "-1"]), ":1\r\n");
        assert_eq!(h.run(&["ttl", "k"]), ":-2\r\n");
        h.run(&["set", "k", "v"]);
        assert_eq!(h.run(&["ttl", "k"]), ":-1\r\n");
        assert_eq!(h.run(&["persist", "k"]), ":0\r\n");
        assert_eq!(h.run(&["pexpireat", "k", "99999999999999"]), ":1\r\n");
        assert_eq!(h.run(&["pexpiretime", "k"]), ":99999999999999\r\n");
        // Rounded as redis-server 7.0.15 does: 99999999999.999 s.
        assert_eq!(h.run(&["expiretime", "k"]), ":100000000000\r\n");
        assert_eq!(h.run(&["persist", "k"]), ":1\r\n");
    }

    #[test]
    fn scan_and_keys() {
        let mut h = Harness::default();
        for i in 0..1000 {
            h.run(&["set", &format!("k{i}"), "v"]);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = "0".to_string();
        for _ in 0..10_000 {
            let r = h.run(&["scan", &cursor, "count", "7", "match", "k*"]);
            let lines: Vec<&str> = r.split("\r\n").collect();
            cursor = lines[2].to_string();
            for w in lines[4..].chunks(2) {
                if w.len() == 2 && !w[1].is_empty() {
                    seen.insert(w[1].to_string());
                }
            }
            if cursor == "0" {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert_eq!(h.run(&["scan", "x"]), "-ERR invalid cursor\r\n");
        assert_eq!(h.run(&["scan", "0", "count", "0"]), "-ERR syntax error\r\n");
        assert_eq!(h.run(&["keys", "k99?"]).matches("\r\n$").count(), 10);
        assert_eq!(h.run(&["dbsize"]), ":1000\r\n");
        assert_eq!(h.run(&["flushdb", "async"]), "+OK\r\n");
        assert_eq!(h.run(&["dbsize"]), ":0\r\n");
        assert_eq!(h.run(&["randomkey"]), "$-1\r\n");
    }

    #[test]
    fn rename_copy_swap() {
        let mut h = Harness::default();
        assert_eq!(h.run(&["rename", "a", "b"]), "-ERR no such key\r\n");
        h.run(&["set", "a", "1", "ex", "100"]);
        assert_eq!(h.run(&["rename", "a", "b"]), "+OK\r\n");
        assert_eq!(h.run(&["ttl", "b"]), ":100\r\n");
        assert_eq!(
            h.run(&["copy", "b", "b"]),
            format!("-{}\r\n", crate::resp::errors::SAME_OBJECT)
        );
        assert_eq!(h.run(&["copy", "b", "c"]), ":1\r\n");
        assert_eq!(h.run(&["copy", "b", "c"]), ":0\r\n");
        assert_eq!(
            h.run(&["copy", "b", "c", "db", "16"]),
            "-ERR DB index is out of range\r\n"
        );
        assert_eq!(h.run(&["copy", "b", "c", "db", "3"]), ":1\r\n");
        assert_eq!(h.run_db(3, &["get", "c"]), "$1\r\n1\r\n");
        assert_eq!(h.run(&["renamenx", "b", "c"]), ":0\r\n");
        assert_eq!(h.run(&["renamenx", "b", "d"]), ":1\r\n");
        assert_eq!(
            h.run(&["swapdb", "0", "x"]),
            "-ERR invalid second DB index\r\n"
        );
        assert_eq!(h.run(&["swapdb", "0", "3"]), "+OK\r\n");
        assert_eq!(h.run(&["get", "c"]), "$1\r\n1\r\n");
        assert_eq!(h.run(&["type", "c"]), "+string\r\n");
        assert_eq!(h.run(&["object", "encoding", "c"]), "$3\r\nint\r\n");
        assert_eq!(
            h.run(&["object", "freq", "c"]),
            format!("-{}\r\n", super::NO_LFU)
        );
        assert_eq!(h.run(&["exists", "c", "c", "zz"]), ":2\r\n");
        assert_eq!(h.run(&["del", "c", "zz"]), ":1\r\n");
    }
}
