//! RDB files (the first part of issue #14): SAVE writes every shard's
//! keyspace as one RDB file as redis-server 7.0 writes it (`rdbSaveRio` in
//! `rdb.c`: header, aux fields, per database SELECTDB and RESIZEDB, keys
//! with their expiry in ms, EOF, CRC-64), and start-up loads such a file,
//! whoever wrote it, giving each key to its shard.
//!
//! SAVE runs as a keyspace-wide transaction (a shared lock on every shard),
//! so the file is one instant of the whole keyspace: a cross-shard
//! transaction is in it entirely or not at all. Each shard serializes its
//! own keys (`cmd::dump`); the IO thread that gathers the parts writes the
//! file, to a temporary name then renamed over `dbfilename`, as Redis does.
//! Not yet: BGSAVE, the `save` schedule, AOF.

use std::io::Write;

use bytes::Bytes;

use crate::config::Encodings;
use crate::rdb::{self, Reader};
use crate::resp::parse::{aggregate_header, value_len};
use crate::store::Value;
use rdb::{
    OPCODE_AUX, OPCODE_EOF, OPCODE_EXPIRETIME, OPCODE_EXPIRETIME_MS, OPCODE_FREQ, OPCODE_FUNCTION2,
    OPCODE_IDLE, OPCODE_MODULE_AUX, OPCODE_RESIZEDB, OPCODE_SELECTDB,
};

/// The body of a RESP bulk string `raw` (`$<len>\r\n<body>\r\n`).
fn bulk_body(raw: &[u8]) -> Option<&[u8]> {
    let at = memchr::memchr(b'\n', raw)? + 1;
    raw.get(at..raw.len().checked_sub(2)?)
}

/// Writes the RDB file `file` (in the working directory, `dir`) from the
/// shards' SAVE replies, and answers for SAVE: `+OK`, or an error naming
/// what failed. Each reply is an array with one bulk string per database:
/// key count and expiry count (8 bytes each, little-endian), then the
/// entries (`cmd::dump::write_entry`).
pub fn write_file(file: &str, parts: &[Bytes]) -> Bytes {
    let mut dbs: Vec<(u64, u64, Vec<&[u8]>)> = Vec::new();
    for p in parts {
        let Some((_, n, mut at)) = aggregate_header(p) else {
            return Bytes::from_static(b"-ERR SAVE: a shard sent no keyspace\r\n");
        };
        for db in 0..n.max(0) as usize {
            let Some(body) = value_len(&p[at..]).and_then(|len| {
                let b = bulk_body(&p[at..at + len]);
                at += len;
                b
            }) else {
                return Bytes::from_static(b"-ERR SAVE: a shard sent a bad keyspace\r\n");
            };
            let (Some(keys), Some(expires)) = (body.get(..8), body.get(8..16)) else {
                return Bytes::from_static(b"-ERR SAVE: a shard sent a bad keyspace\r\n");
            };
            if dbs.len() <= db {
                dbs.resize_with(db + 1, || (0, 0, Vec::new()));
            }
            let u = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
            dbs[db].0 += u(keys);
            dbs[db].1 += u(expires);
            dbs[db].2.push(&body[16..]);
        }
    }
    let mut out = Vec::with_capacity(
        dbs.iter()
            .flat_map(|d| &d.2)
            .map(|e| e.len())
            .sum::<usize>()
            + 256,
    );
    out.extend_from_slice(format!("REDIS{:04}", rdb::RDB_VERSION).as_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for (k, v) in [
        ("redis-ver", "7.0.15".to_string()),
        ("redis-bits", "64".to_string()),
        ("ctime", now.to_string()),
        ("aof-base", "0".to_string()),
    ] {
        out.push(OPCODE_AUX);
        rdb::write_string(&mut out, k.as_bytes());
        rdb::write_string(&mut out, v.as_bytes());
    }
    for (db, (keys, expires, entries)) in dbs.iter().enumerate() {
        if *keys == 0 {
            continue;
        }
        out.push(OPCODE_SELECTDB);
        rdb::write_len(&mut out, db as u64);
        out.push(OPCODE_RESIZEDB);
        rdb::write_len(&mut out, *keys);
        rdb::write_len(&mut out, *expires);
        entries.iter().for_each(|e| out.extend_from_slice(e));
    }
    out.push(OPCODE_EOF);
    let crc = rdb::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    match write_atomically(file, &out) {
        Ok(()) => Bytes::from_static(b"+OK\r\n"),
        Err(e) => Bytes::from(format!("-ERR SAVE failed writing '{file}': {e}\r\n")),
    }
}

/// Writes `bytes` to a temporary file, flushes it to disk, and renames it
/// over `file`, so a crash leaves the old file or the new one, whole.
fn write_atomically(file: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = format!("temp-{}.rdb", std::process::id());
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// One key loaded from a file, for its shard.
pub struct Loaded {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: Value,
    /// Unix ms, 0 = none.
    pub expire_at: u64,
}

/// Loads RDB file `file` if it exists: its keys by shard (of `shards`,
/// `spec::key_shard`), keys already expired at `now_ms` left out, as a
/// master does. `Ok(None)` when there is no file. Errors, naming the file
/// and what is wrong (start-up stops; the file is left as it is): not an
/// RDB file, a newer RDB version than 10, a bad checksum, truncated or
/// corrupt data, a database index beyond `databases`, functions or module
/// data (not loaded yet).
pub fn load(
    file: &str,
    shards: usize,
    databases: usize,
    enc: &Encodings,
    now_ms: u64,
) -> Result<Option<Vec<Vec<Loaded>>>, String> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read '{file}': {e}")),
    };
    parse(&bytes, shards, databases, enc, now_ms)
        .map(Some)
        .map_err(|e| format!("'{file}' cannot be loaded: {e}"))
}

fn parse(
    bytes: &[u8],
    shards: usize,
    databases: usize,
    enc: &Encodings,
    now_ms: u64,
) -> Result<Vec<Vec<Loaded>>, String> {
    let version = bytes
        .get(..9)
        .filter(|h| h.starts_with(b"REDIS"))
        .and_then(|h| std::str::from_utf8(&h[5..]).ok()?.parse::<u16>().ok())
        .ok_or("not an RDB file (no REDIS header)")?;
    if version == 0 || version > rdb::RDB_VERSION {
        return Err(format!(
            "RDB version {version} is not supported (tandem reads up to {})",
            rdb::RDB_VERSION
        ));
    }
    let mut out: Vec<Vec<Loaded>> = (0..shards).map(|_| Vec::new()).collect();
    let mut r = Reader::new(&bytes[9..]);
    let mut db = 0usize;
    let mut expire_at = 0u64;
    loop {
        let t = r.byte()?;
        match t {
            OPCODE_EOF => break,
            OPCODE_AUX => {
                r.string()?;
                r.string()?;
            }
            OPCODE_RESIZEDB => {
                r.len()?;
                r.len()?;
            }
            OPCODE_SELECTDB => {
                let n = r.len()?;
                if n >= databases as u64 {
                    return Err(format!(
                        "it uses database {n}, beyond 'databases' ({databases})"
                    ));
                }
                db = n as usize;
            }
            OPCODE_EXPIRETIME_MS => {
                expire_at = u64::from_le_bytes(r.bytes(8)?.try_into().map_err(|_| "bad expiry")?);
            }
            OPCODE_EXPIRETIME => {
                let s = u32::from_le_bytes(r.bytes(4)?.try_into().map_err(|_| "bad expiry")?);
                expire_at = s as u64 * 1000;
            }
            OPCODE_IDLE => {
                r.len()?;
            }
            OPCODE_FREQ => {
                r.byte()?;
            }
            OPCODE_FUNCTION2 | OPCODE_MODULE_AUX => {
                return Err(
                    "it holds functions or module data, which tandem does not load yet \
                            (FUNCTION RESTORE loads functions)"
                        .into(),
                );
            }
            t => {
                let key = r.string()?;
                let value = r.object(t)?;
                let value = crate::cmd::dump::to_value(value, enc)
                    .ok_or("duplicate members in a collection")?;
                let at = std::mem::take(&mut expire_at);
                if at != 0 && at <= now_ms {
                    continue;
                }
                let shard = crate::spec::key_shard(&key, shards);
                out[shard].push(Loaded {
                    db,
                    key,
                    value,
                    expire_at: at,
                });
            }
        }
    }
    if version >= 5 {
        let at = 9 + r.position();
        let want = bytes.get(at..at + 8).ok_or("no checksum after EOF")?;
        let want = u64::from_le_bytes(want.try_into().map_err(|_| "bad checksum")?);
        // A zero checksum means the writer had `rdbchecksum no`.
        if want != 0 && rdb::crc64(&bytes[..at]) != want {
            return Err("bad checksum (the file is damaged)".into());
        }
    }
    Ok(out)
}
