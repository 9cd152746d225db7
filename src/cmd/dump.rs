//! DUMP and RESTORE (<https://redis.io/docs/latest/commands/dump/>,
//! <https://redis.io/docs/latest/commands/restore/>): a key's value in
//! Redis's serialized form, an RDB value followed by the RDB version and a
//! CRC-64 (`crate::rdb`), so payloads move between tandem and redis-server
//! both ways. Single-key commands: they run on the key's shard. Also each
//! shard's part of SAVE, which writes values the same way.

use super::{CmdError, CmdResult, Ctx, Handler};
use crate::config::Encodings;
use crate::rdb::{self, Object, types};
use crate::store::dense::Dense;
use crate::store::zset::Added;
use crate::store::{End, Hash, List, Set, Value, ZSet};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[
    ("dump", dump),
    ("restore", restore),
    ("save", save),
    ("bgsave", bgsave),
    ("debug", debug),
];

const BAD_PAYLOAD: &str = "ERR DUMP payload version or checksum are wrong";
const BAD_DATA: &str = "ERR Bad data format";
const BUSYKEY: &str = "BUSYKEY Target key name already exists.";

/// DUMP key: the serialized value as a bulk string, null for a missing key.
/// The value is written as redis-server 7.0 writes it ([`write_value`]),
/// which it restores whatever its encoding thresholds.
fn dump(ctx: &mut Ctx) -> CmdResult {
    let (h, now) = (ctx.key_hash(1), ctx.now());
    let Some(e) = ctx.sh.dbs[ctx.db].get(h, &ctx.args[1], now) else {
        ctx.out.null();
        return Ok(());
    };
    let mut body = Vec::new();
    write_value(&mut body, None, &e.value);
    ctx.out.bulk(&rdb::seal_payload(body));
    Ok(())
}

/// Most bytes of one quicklist node's listpack in a file (Redis's default
/// `list-max-listpack-size -2`).
const QUICKLIST_NODE_BYTES: usize = 8192;

/// Appends a value as redis-server 7.0 writes it (`rdbSaveObject`): its
/// type, the key if given (in a file; a DUMP payload has none), then the
/// value. A list is a quicklist of listpack nodes of up to 8 KiB; a set of
/// integers an intset; a small hash or sorted set (tandem's compact
/// encoding) a listpack; larger ones, and sets of other members (Redis 7.0
/// has no set listpack), the plain encoding of their type (`crate::rdb`).
pub fn write_value(out: &mut Vec<u8>, key: Option<&[u8]>, value: &Value) {
    let head = |out: &mut Vec<u8>, t: u8| {
        out.push(t);
        if let Some(k) = key {
            rdb::write_string(out, k);
        }
    };
    match value {
        Value::Int(n) => {
            head(out, types::STRING);
            rdb::write_string(out, itoa::Buffer::new().format(*n).as_bytes());
        }
        Value::Str(s) => {
            head(out, types::STRING);
            rdb::write_string(out, s);
        }
        Value::List(l) => {
            let mut nodes: Vec<Vec<&[u8]>> = Vec::new();
            let mut bytes = 0;
            for v in l.iter() {
                let n = rdb::listpack_entry_len(v);
                match nodes.last_mut() {
                    Some(node) if bytes + n <= QUICKLIST_NODE_BYTES => node.push(v),
                    _ => {
                        nodes.push(vec![v]);
                        bytes = 7; // header and end byte
                    }
                }
                bytes += n;
            }
            head(out, types::LIST_QUICKLIST_2);
            rdb::write_len(out, nodes.len() as u64);
            for node in nodes {
                // quicklist.h: QUICKLIST_NODE_CONTAINER_PACKED.
                rdb::write_len(out, 2);
                rdb::write_string(out, &rdb::write_listpack(node));
            }
        }
        Value::Set(s) if matches!(**s, crate::store::Set::Ints(_)) => {
            if let crate::store::Set::Ints(v) = &**s {
                head(out, types::SET_INTSET);
                rdb::write_string(out, &rdb::write_intset(v));
            }
        }
        Value::Set(s) => {
            head(out, types::SET);
            rdb::write_len(out, s.len() as u64);
            s.for_each(|m| rdb::write_string(out, m));
        }
        Value::Hash(hs) if hs.encoding() == "listpack" => {
            let mut lp = rdb::Listpack::new();
            hs.for_each(|f, v| {
                lp.push(f);
                lp.push(v);
            });
            head(out, types::HASH_LISTPACK);
            rdb::write_string(out, &lp.finish());
        }
        Value::Hash(hs) => {
            head(out, types::HASH);
            rdb::write_len(out, hs.len() as u64);
            hs.for_each(|f, v| {
                rdb::write_string(out, f);
                rdb::write_string(out, v);
            });
        }
        Value::ZSet(z) if z.encoding() == "listpack" => {
            let mut lp = rdb::Listpack::new();
            z.walk(0, z.len(), false, |m, score| {
                lp.push(m);
                lp.push(crate::resp::write::fmt_double(score).as_bytes());
            });
            head(out, types::ZSET_LISTPACK);
            rdb::write_string(out, &lp.finish());
        }
        Value::Stream(s) => write_stream(out, s, head),
        Value::ZSet(z) => {
            head(out, types::ZSET_2);
            rdb::write_len(out, z.len() as u64);
            z.walk(0, z.len(), false, |m, score| {
                rdb::write_string(out, m);
                rdb::write_binary_double(out, score);
            });
        }
    }
}

/// A stream as Redis 7.0's `rdbSaveObject` writes it
/// (`RDB_TYPE_STREAM_LISTPACKS_2`): its nodes (16-byte master ID, the
/// listpack as it is), length, last, first and max-deleted IDs, entries
/// added, then each group (name, last ID, entries read, its PEL with
/// delivery times and counts, its consumers with seen times and IDs).
fn write_stream(out: &mut Vec<u8>, s: &crate::store::Stream, head: impl Fn(&mut Vec<u8>, u8)) {
    head(out, types::STREAM_LISTPACKS_2);
    rdb::write_len(out, s.node_count() as u64);
    for (master, node) in s.nodes() {
        rdb::write_string(out, &master.encode());
        rdb::write_string(out, node);
    }
    for v in [
        s.length,
        s.last_id.ms,
        s.last_id.seq,
        s.first_id.ms,
        s.first_id.seq,
        s.max_deleted_id.ms,
        s.max_deleted_id.seq,
        s.entries_added,
    ] {
        rdb::write_len(out, v);
    }
    rdb::write_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        rdb::write_string(out, name);
        rdb::write_len(out, g.last_id.ms);
        rdb::write_len(out, g.last_id.seq);
        // -1 (unknown) is written as its 64-bit two's complement.
        rdb::write_len(out, g.entries_read as u64);
        rdb::write_len(out, g.pel.len() as u64);
        for (id, n) in &g.pel {
            out.extend_from_slice(&id.encode());
            out.extend_from_slice(&n.delivery_time.to_le_bytes());
            rdb::write_len(out, n.delivery_count);
        }
        rdb::write_len(out, g.consumers.len() as u64);
        for (cname, c) in &g.consumers {
            rdb::write_string(out, cname);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            rdb::write_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.encode());
            }
        }
    }
}

/// Appends one key of a database to an RDB file: its deadline (Unix ms,
/// 0 = none) as `EXPIRETIME_MS`, then type, key and value.
pub fn write_entry(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_at: u64) {
    if expire_at != 0 {
        out.push(rdb::OPCODE_EXPIRETIME_MS);
        out.extend_from_slice(&expire_at.to_le_bytes());
    }
    write_value(out, Some(key), value);
}

/// Writes a keyspace entry as a snapshot writes it
/// ([`crate::store::SnapshotWrite`]): [`write_entry`].
pub fn snapshot_write(out: &mut Vec<u8>, e: &crate::store::Entry) {
    write_entry(out, &e.key, &e.value, e.expire_at());
}

/// BGSAVE [SCHEDULE], this shard's part: the IO thread started the
/// background save (`crate::persist::Saver::start`) and sent this to every
/// shard as one transaction, so each takes the same instant
/// ([`Shard::begin_snapshot`](crate::engine::shard::Shard)); `+OK`, which
/// the IO thread turns into `+Background saving started`. Error if the
/// save is no longer running (its writer failed at once).
fn bgsave(ctx: &mut Ctx) -> CmdResult {
    if ctx.sh.begin_snapshot() {
        ctx.out.ok();
        Ok(())
    } else {
        Err(CmdError::Msg("ERR Background saving failed to start"))
    }
}

/// SAVE, this shard's part (the IO thread writes the file:
/// `crate::persist::write_file`): an array with one bulk string per
/// database, holding its live keys' count, how many have a deadline (8
/// bytes each, little-endian) and the keys ([`write_entry`]).
fn save(ctx: &mut Ctx) -> CmdResult {
    let parts = save_parts(ctx);
    reply_parts(ctx, &parts);
    Ok(())
}

/// Answers with [`save_parts`]' parts: an array of bulk strings.
fn reply_parts(ctx: &mut Ctx, parts: &[Vec<u8>]) {
    ctx.out.array(parts.len());
    for p in parts {
        ctx.out.bulk(p);
    }
}

/// This shard's part of SAVE: per database, the live keys' count, how
/// many have a deadline (8 bytes each, little-endian) and the keys.
fn save_parts(ctx: &mut Ctx) -> Vec<Vec<u8>> {
    let now = ctx.now();
    let mut parts = Vec::with_capacity(ctx.sh.dbs.len());
    for d in &ctx.sh.dbs {
        let mut part = vec![0u8; 16];
        let (mut keys, mut expires) = (0u64, 0u64);
        d.for_each(now, |e| {
            keys += 1;
            expires += (e.expire_at() != 0) as u64;
            write_entry(&mut part, &e.key, &e.value, e.expire_at());
        });
        part[..8].copy_from_slice(&keys.to_le_bytes());
        part[8..16].copy_from_slice(&expires.to_le_bytes());
        parts.push(part);
    }
    parts
}

/// Redis's reply when DEBUG RELOAD cannot load the file.
const RELOAD_FAILED: &str = "ERR Error trying to load the RDB dump";

/// DEBUG OBJECT key, on the key's shard (`debugCommand` in Redis 7.0's
/// `debug.c`): `Value at:<address> refcount:<n> encoding:<enc>
/// serializedlength:<bytes of its RDB form> lru:<clock> lru_seconds_idle:<s>`,
/// and for a list the quicklist Redis 7.0 would save it as (`ql_nodes`,
/// `ql_avg_node`, `ql_listpack_max`, `ql_compressed`,
/// `ql_uncompressed_size`). Errors: `no such key` (also for a key past
/// its TTL that expiry did not reclaim yet, which Redis still shows).
fn debug_object(ctx: &mut Ctx) -> CmdResult {
    let Some(key) = ctx.args.get(2).cloned() else {
        return Err(CmdError::Syntax);
    };
    let now = ctx.now();
    let list_max = ctx.sh.tun.encodings().list_max_listpack_size;
    let db = ctx
        .sh
        .dbs
        .get(ctx.db)
        .ok_or(CmdError::Msg("ERR DB index is out of range"))?;
    let Some(e) = db.peek(ctx.hash, &key, now) else {
        return Err(CmdError::Msg("ERR no such key"));
    };
    let mut payload = Vec::new();
    write_value(&mut payload, None, &e.value);
    let mut extra = String::new();
    if let Value::List(l) = &e.value {
        // The quicklist as saved: a node count, then each node's listpack.
        let mut r = rdb::Reader::new(payload.get(1..).unwrap_or_default());
        let nodes = r.len().unwrap_or(0);
        let mut bytes = 0usize;
        for _ in 0..nodes {
            let _container = r.len();
            bytes += r.string().map_or(0, |s| s.len());
        }
        extra = format!(
            " ql_nodes:{nodes} ql_avg_node:{:.2} ql_listpack_max:{list_max} ql_compressed:0 ql_uncompressed_size:{bytes}",
            l.len() as f64 / nodes.max(1) as f64
        );
    }
    let line = format!(
        "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{extra}",
        &e.value as *const Value,
        e.value.refcount(),
        e.value.encoding(),
        payload.len().saturating_sub(1),
        e.lru(),
        e.idle_secs(now),
    );
    ctx.out.simple(&line);
    Ok(())
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE], this shard's part, run in a
/// transaction that holds every shard exclusively (the IO thread checks
/// `enable-debug-command`, answers HELP and refuses other subcommands).
/// With a save, the reply is SAVE's part (the IO thread writes the file
/// from the parts and answers `+OK`) and the shard reloads its keys from
/// those same bytes; with NOSAVE it reads `dbfilename` and takes its own
/// keys, `+OK`. Keys already expired are left out, as a master loading a
/// file does. The file is parsed before anything changes: Redis empties
/// the keyspace first, so a file it cannot load leaves it empty; here it
/// changes nothing. Errors: `Error trying to load the RDB dump` (no file,
/// a damaged one); `tandem: DEBUG RELOAD NOFLUSH met existing keys (add
/// MERGE)` where Redis stops with `Duplicated key found in RDB file`.
fn debug(ctx: &mut Ctx) -> CmdResult {
    let args: Vec<&[u8]> = ctx.args.iter().map(|a| &a[..]).collect();
    let (save, flush, merge) = match crate::persist::Debug::parse(&args) {
        Ok(crate::persist::Debug::Reload { save, flush, merge }) => (save, flush, merge),
        Ok(crate::persist::Debug::Digest) => return super::digest::dataset_part(ctx),
        Ok(crate::persist::Debug::DigestValue) => return super::digest::values_part(ctx),
        Ok(crate::persist::Debug::Object) => return debug_object(ctx),
        Ok(_) => {
            return Err(CmdError::Msg(
                "ERR this DEBUG subcommand is answered before the shards",
            ));
        }
        Err(e) => return Err(CmdError::Owned(e)),
    };
    let now = ctx.now();
    let databases = ctx.sh.dbs.len();
    let (parts, file, shards, mine) = if save {
        // The file this shard's part makes, read back as a file would be.
        let parts = save_parts(ctx);
        let mut file = format!("REDIS{:04}", rdb::RDB_VERSION).into_bytes();
        for (db, p) in parts.iter().enumerate() {
            file.push(rdb::OPCODE_SELECTDB);
            rdb::write_len(&mut file, db as u64);
            file.extend_from_slice(&p[16..]);
        }
        file.push(rdb::OPCODE_EOF);
        file.extend_from_slice(&[0; 8]); // no checksum to check
        (Some(parts), file, 1, 0)
    } else {
        let name = ctx.sh.tun.dbfilename();
        let file = std::fs::read(&name).map_err(|e| {
            tracing::warn!("DEBUG RELOAD: cannot read '{name}': {e}");
            CmdError::Msg(RELOAD_FAILED)
        })?;
        (None, file, ctx.sh.count as usize, ctx.sh.id as usize)
    };
    let loaded =
        crate::persist::parse_file(&file, shards, databases, &ctx.sh.enc(), now).map_err(|e| {
            tracing::warn!("DEBUG RELOAD: the file cannot be loaded: {e}");
            CmdError::Msg(RELOAD_FAILED)
        })?;
    let keys = loaded.keys.into_iter().nth(mine).unwrap_or_default();
    if !flush && !merge {
        let dbs = &mut ctx.sh.dbs;
        let clash = keys.iter().any(|k| {
            dbs.get_mut(k.db)
                .is_some_and(|d| d.get(crate::spec::key_hash(&k.key), &k.key, now).is_some())
        });
        if clash {
            return Err(CmdError::Msg(
                "ERR tandem: DEBUG RELOAD NOFLUSH met existing keys (add MERGE)",
            ));
        }
    }
    if flush {
        ctx.sh.dbs.iter_mut().for_each(|d| d.clear());
    }
    for k in keys {
        if let Some(d) = ctx.sh.dbs.get_mut(k.db) {
            d.set(
                crate::spec::key_hash(&k.key),
                &k.key,
                k.value,
                k.expire_at,
                now,
            );
        }
    }
    match parts {
        Some(parts) => reply_parts(ctx, &parts),
        None => ctx.out.ok(),
    }
    Ok(())
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency]: creates `key` from a DUMP payload, with a TTL in ms
/// (0: none; with ABSTTL a Unix time in ms), `+OK`. A TTL already in the
/// past restores nothing (and with REPLACE deletes the key), as Redis.
/// IDLETIME backdates the key's last access (OBJECT IDLETIME) and FREQ
/// sets its LFU counter (OBJECT FREQ); as in Redis (`objectSetLRUOrLFU`)
/// each is checked always but recorded only under the
/// `maxmemory-policy` that keeps it (FREQ under LFU, IDLETIME otherwise).
/// Errors: syntax error, `BUSYKEY Target key name already exists.`,
/// `Invalid TTL value, must be >= 0`, `Invalid IDLETIME value, must be >=
/// 0`, `Invalid FREQ value, must be >= 0 and <= 255`, `DUMP payload
/// version or checksum are wrong`, `Bad data format` (Redis 7.0's
/// `restoreCommand`, checked in its order).
fn restore(ctx: &mut Ctx) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    // IDLETIME and FREQ exclude each other (a second one is a syntax error).
    let (mut idle, mut freq) = (None, None);
    let mut j = 4;
    while j < ctx.args.len() {
        let more = j + 1 < ctx.args.len();
        if ctx.arg_is(j, "REPLACE") {
            replace = true;
        } else if ctx.arg_is(j, "ABSTTL") {
            absttl = true;
        } else if ctx.arg_is(j, "IDLETIME") && more && freq.is_none() {
            let n = ctx.int_arg(j + 1)?;
            if n < 0 {
                return Err(CmdError::Msg("ERR Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(n);
            j += 1;
        } else if ctx.arg_is(j, "FREQ") && more && idle.is_none() {
            let n = ctx.int_arg(j + 1)?;
            if !(0..=255).contains(&n) {
                return Err(CmdError::Msg(
                    "ERR Invalid FREQ value, must be >= 0 and <= 255",
                ));
            }
            freq = Some(n as u8);
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let (h, now) = (ctx.key_hash(1), ctx.now());
    if !replace && ctx.sh.dbs[ctx.db].contains(h, &ctx.args[1], now) {
        return Err(CmdError::Msg(BUSYKEY));
    }
    let ttl = ctx.int_arg(2)?;
    if ttl < 0 {
        return Err(CmdError::Msg("ERR Invalid TTL value, must be >= 0"));
    }
    rdb::open_payload(&ctx.args[3]).ok_or(CmdError::Msg(BAD_PAYLOAD))?;
    // Redis reads the value from the whole payload, trailer included, so a
    // value that runs into the version and checksum bytes still loads.
    let mut r = rdb::Reader::new(&ctx.args[3]);
    let obj = r
        .byte()
        .and_then(|t| r.object(t))
        .map_err(|_| CmdError::Msg(BAD_DATA))?;
    let value = to_value(obj, &ctx.sh.enc()).ok_or(CmdError::Msg(BAD_DATA))?;
    let d = &mut ctx.sh.dbs[ctx.db];
    if replace {
        d.remove(h, &ctx.args[1], now);
    }
    let at = match ttl {
        0 => 0,
        t if absttl => t as u64,
        t => now.saturating_add(t as u64),
    };
    if at != 0 && at <= now {
        // Already expired: nothing to create (Redis's checkAlreadyExpired),
        // logged as the DEL of what REPLACE removed.
        ctx.out.ok();
        ctx.sh.propagate_nothing();
        if replace {
            ctx.sh.propagate(ctx.db, &[b"DEL", &ctx.args[1]]);
        }
        return Ok(());
    }
    d.set(h, &ctx.args[1], value, at, now);
    let lfu = matches!(d.access(), crate::store::Access::Lfu { .. });
    if let Some(e) = d.get_mut(h, &ctx.args[1], now) {
        match (lfu, idle, freq) {
            (false, Some(idle), _) => e.set_idle(idle as u64, now),
            (true, _, Some(freq)) => e.set_freq(freq, now),
            _ => {}
        }
    }
    if ttl != 0 && !absttl {
        // A relative TTL is logged absolute (Redis 7's restoreCommand).
        let at = at.to_string();
        let mut logged: Vec<&[u8]> = ctx.args.iter().map(|a| &a[..]).collect();
        logged[2] = at.as_bytes();
        logged.push(b"ABSTTL");
        ctx.sh.propagate(ctx.db, &logged);
    }
    ctx.out.ok();
    Ok(())
}

/// The keyspace value for a read object, in the encoding its size calls
/// for; None for what Redis refuses to load: duplicate set members, hash
/// fields or sorted-set members.
pub fn to_value(obj: Object, enc: &Encodings) -> Option<Value> {
    Some(match obj {
        Object::Stream(s) => Value::Stream(s),
        Object::Str(s) => Value::from_bytes(&s),
        Object::List(items) => {
            let mut l = List::default();
            for v in &items {
                l.push(End::Right, v, enc);
            }
            Value::List(Box::new(l))
        }
        Object::Set(members) => {
            // Past every compact threshold the table is sized once (no
            // rehash of every member while it grows: loading a big file).
            let big = members.len() > enc.set_max_intset_entries.max(enc.set_max_listpack_entries);
            let mut s = if big {
                Set::Table(Dense::with_capacity(members.len()))
            } else {
                Set::for_member(members.first()?, enc)
            };
            for m in &members {
                if !s.add(m, enc) {
                    return None;
                }
            }
            Value::Set(Box::new(s))
        }
        Object::Hash(pairs) => {
            let mut hs = if pairs.len() > enc.hash_max_listpack_entries {
                Hash::Table(Dense::with_capacity(pairs.len()))
            } else {
                Hash::default()
            };
            for (f, v) in &pairs {
                if !hs.set(f, v, enc) {
                    return None;
                }
            }
            Value::Hash(Box::new(hs))
        }
        Object::ZSet(items) => {
            let mut z = ZSet::default();
            for (m, score) in &items {
                let added = z.add(
                    m,
                    *score,
                    enc.zset_max_listpack_entries,
                    enc.zset_max_listpack_value,
                );
                if added != Added::New {
                    return None;
                }
            }
            Value::ZSet(Box::new(z))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_duplicate_aggregates_are_refused() {
        let enc = Encodings::default();
        assert!(to_value(Object::Set(vec![]), &enc).is_none());
        assert!(to_value(Object::Set(vec![b"a".to_vec(), b"a".to_vec()]), &enc).is_none());
        let dup = vec![
            (b"f".to_vec(), b"1".to_vec()),
            (b"f".to_vec(), b"2".to_vec()),
        ];
        assert!(to_value(Object::Hash(dup), &enc).is_none());
        assert!(
            to_value(
                Object::ZSet(vec![(b"m".to_vec(), 1.0), (b"m".to_vec(), 2.0)]),
                &enc
            )
            .is_none()
        );
    }
}
