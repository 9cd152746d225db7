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
//! BGSAVE ([`Saver`]) writes the same file without stopping the shards:
//! each serializes its keys as they were at BGSAVE's instant
//! (`engine::snapshot`, `store`'s snapshot marks) and a writer thread puts
//! the chunks together; an AOF rewrite writes its base the same way
//! ([`Job::AofBase`], [`crate::aof`]).

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender};

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
pub fn write_file(file: &str, head: &[u8], parts: &[Bytes]) -> Bytes {
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
    out.extend_from_slice(head);
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
    let crc = rdb::file_checksum(rdb::crc64(&out));
    out.extend_from_slice(&crc.to_le_bytes());
    match write_atomically(file, &out) {
        Ok(()) => Bytes::from_static(b"+OK\r\n"),
        Err(e) => Bytes::from(format!("-ERR SAVE failed writing '{file}': {e}\r\n")),
    }
}

/// Appends an RDB file's start, as redis-server 7.0 writes it: the magic
/// and version, then the aux fields (`rdbSaveInfoAuxFields`), `aof-base`
/// 1 when `aof_base` (an AOF's base file). The function libraries follow
/// ([`write_functions`]).
pub fn write_header_as(out: &mut Vec<u8>, aof_base: bool) {
    out.extend_from_slice(format!("REDIS{:04}", rdb::RDB_VERSION).as_bytes());
    for (k, v) in [
        ("redis-ver", "7.0.15".to_string()),
        ("redis-bits", "64".to_string()),
        ("ctime", unix_secs().to_string()),
        ("aof-base", if aof_base { "1" } else { "0" }.to_string()),
    ] {
        out.push(OPCODE_AUX);
        rdb::write_string(out, k.as_bytes());
        rdb::write_string(out, v.as_bytes());
    }
}

/// Appends each function library's code as a `FUNCTION2` record, as
/// redis-server 7.0 writes them after the aux fields (`rdbSaveFunctions`).
pub fn write_functions(out: &mut Vec<u8>, scripts: &crate::script::Registry) {
    for lib in scripts.libraries() {
        out.push(OPCODE_FUNCTION2);
        rdb::write_string(out, &lib.code);
    }
}

/// Now, in Unix seconds.
pub fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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

/// What an RDB file holds: its keys by shard and its function
/// libraries' code (loaded by a FUNCTION RESTORE at start-up).
#[derive(Default)]
pub struct LoadedFile {
    pub keys: Vec<Vec<Loaded>>,
    pub functions: Vec<Vec<u8>>,
}

impl LoadedFile {
    /// The functions as one FUNCTION RESTORE command (RESP), if any.
    pub fn restore_command(&self) -> Option<Vec<u8>> {
        if self.functions.is_empty() {
            return None;
        }
        let mut body = Vec::new();
        for code in &self.functions {
            body.push(OPCODE_FUNCTION2);
            rdb::write_string(&mut body, code);
        }
        let payload = rdb::seal_payload(body);
        let mut cmd = format!(
            "*4\r\n$8\r\nFUNCTION\r\n$7\r\nRESTORE\r\n${}\r\n",
            payload.len()
        )
        .into_bytes();
        cmd.extend_from_slice(&payload);
        cmd.extend_from_slice(b"\r\n$7\r\nREPLACE\r\n");
        Some(cmd)
    }
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
) -> Result<Option<LoadedFile>, String> {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read '{file}': {e}")),
    };
    parse_file(&bytes, shards, databases, enc, now_ms)
        .map(Some)
        .map_err(|e| format!("'{file}' cannot be loaded: {e}"))
}

/// Parses an RDB file's bytes into its keys by shard and its functions,
/// as [`load`] does (`now_ms` 0 keeps every key, as loading an AOF base
/// does).
pub fn parse_file(
    bytes: &[u8],
    shards: usize,
    databases: usize,
    enc: &Encodings,
    now_ms: u64,
) -> Result<LoadedFile, String> {
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
    let mut functions = Vec::new();
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
            OPCODE_FUNCTION2 => functions.push(r.string()?),
            OPCODE_MODULE_AUX => {
                return Err("it holds module data, which tandem does not load".into());
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
        if want != 0 && rdb::CHECKSUM.load(Ordering::Relaxed) && rdb::crc64(&bytes[..at]) != want {
            return Err("bad checksum (the file is damaged)".into());
        }
    }
    Ok(LoadedFile {
        keys: out,
        functions,
    })
}

/// DEBUG, as tandem runs it (`debugCommand` in Redis 7.0's `debug.c`):
/// RELOAD, with its options (save first unless NOSAVE; empty the keyspace
/// first unless NOFLUSH; MERGE: loaded keys replace existing ones), and
/// DIGEST and DIGEST-VALUE, which the shards run; HELP, SLEEP, SET-ACTIVE-EXPIRE, PROTOCOL, ERROR and LOG,
/// which the IO thread answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Debug {
    Reload {
        save: bool,
        flush: bool,
        merge: bool,
    },
    Help,
    /// SLEEP seconds: the connection's IO thread stops for that long
    /// (`strtod` of the argument; Redis stops the whole server).
    Sleep(f64),
    /// SET-ACTIVE-EXPIRE 0|1: background expiry off or on (`atoi`).
    SetActiveExpire(bool),
    /// PROTOCOL type: a test reply of that RESP type.
    Protocol(String),
    /// ERROR string: the string as an error reply, line breaks as spaces.
    Error(Vec<u8>),
    /// LOG message: the message in the server log.
    Log(String),
    /// DIGEST: the dataset's digest, from every shard's part.
    Digest,
    /// DIGEST-VALUE key...: each key's value digest, from its shard.
    DigestValue,
    /// OBJECT key: the value's internals, from the key's shard.
    Object,
    /// CHANGE-REPL-ID: a new replication id (INFO `master_replid`).
    ChangeReplId,
    /// CONFIG-REWRITE-FORCE-ALL: CONFIG REWRITE writing every directive.
    ConfigRewriteForceAll,
    /// STRINGMATCH-TEST (Redis 7.0's name; STRINGMATCH-LEN in later
    /// versions): random patterns against random strings through the
    /// glob matcher, which must not crash.
    StringmatchTest,
}

/// Redis 7.0's other DEBUG subcommands, refused with an error that says
/// tandem lacks them (`debugCommand` in `debug.c`).
const DEBUG_ELSEWHERE: &[&str] = &[
    "aof-flush-sleep",
    "assert",
    "client-eviction",
    "crash-and-recover",
    "dict-resizing",
    "htstats",
    "htstats-key",
    "jmap",
    "leak",
    "listpack",
    "loadaof",
    "mallctl",
    "mallctl-str",
    "oom",
    "panic",
    "pause-cron",
    "populate",
    "quicklist-packed-threshold",
    "replybuffer",
    "restart",
    "script",
    "sdslen",
    "segfault",
    "set-disable-deny-scripts",
    "set-skip-checksum-validation",
    "structsize",
];

/// The lines of DEBUG HELP for what tandem implements.
pub const DEBUG_HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Available options:",
    "    * MERGE: Merge the content of the RDB with the current data.",
    "    * NOFLUSH: Do not empty the current database before loading the RDB.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "HELP",
    "    Print this help.",
];

impl Debug {
    /// Parses `DEBUG subcommand [arg ...]`. Errors (the reply, Redis 7.0's
    /// where it has one): `unknown subcommand or wrong number of arguments
    /// for '<sub>'. Try DEBUG HELP.`, `DEBUG RELOAD only supports the
    /// MERGE, NOFLUSH and NOSAVE options.`, and `tandem: DEBUG <SUB> is not
    /// implemented` for the subcommands of Redis that tandem lacks.
    pub fn parse(args: &[&[u8]]) -> Result<Debug, String> {
        let sub = args
            .get(1)
            .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase());
        match sub.as_deref() {
            Some("help") if args.len() == 2 => Ok(Debug::Help),
            Some("reload") => {
                let (mut save, mut flush, mut merge) = (true, true, false);
                for a in &args[2..] {
                    match String::from_utf8_lossy(a).to_ascii_lowercase().as_str() {
                        "merge" => merge = true,
                        "noflush" => flush = false,
                        "nosave" => save = false,
                        _ => {
                            return Err(
                                "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
                                    .into(),
                            );
                        }
                    }
                }
                Ok(Debug::Reload { save, flush, merge })
            }
            Some("sleep") if args.len() == 3 => Ok(Debug::Sleep(strtod_prefix(args[2]))),
            Some("set-active-expire") if args.len() == 3 => {
                Ok(Debug::SetActiveExpire(atoi(args[2]) != 0))
            }
            Some("protocol") if args.len() == 3 => Ok(Debug::Protocol(
                String::from_utf8_lossy(args[2]).to_ascii_lowercase(),
            )),
            Some("error") if args.len() == 3 => Ok(Debug::Error(
                args[2]
                    .iter()
                    .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
                    .collect(),
            )),
            Some("digest") if args.len() == 2 => Ok(Debug::Digest),
            Some("object") if args.len() == 3 => Ok(Debug::Object),
            Some("digest-value") => Ok(Debug::DigestValue),
            Some("change-repl-id") if args.len() == 2 => Ok(Debug::ChangeReplId),
            Some("config-rewrite-force-all") if args.len() == 2 => Ok(Debug::ConfigRewriteForceAll),
            Some("stringmatch-test" | "stringmatch-len") if args.len() == 2 => {
                Ok(Debug::StringmatchTest)
            }
            Some("log") if args.len() == 3 => {
                Ok(Debug::Log(String::from_utf8_lossy(args[2]).into_owned()))
            }
            Some(s) if DEBUG_ELSEWHERE.contains(&s) => Err(format!(
                "ERR tandem: DEBUG {} is not implemented",
                s.to_ascii_uppercase()
            )),
            _ => Err(crate::cmd::subcommand_syntax_error(args)),
        }
    }
}

/// C's `atoi`: blanks, a sign, then digits as far as they go (0 if none;
/// past `i64` it saturates, where C's is undefined).
fn atoi(a: &[u8]) -> i64 {
    let a = a.trim_ascii_start();
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    let n = digits
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .fold(0i64, |n, &c| {
            n.saturating_mul(10).saturating_add((c - b'0') as i64)
        });
    if neg { -n } else { n }
}

/// C's `strtod` on the longest prefix that reads as a number (0 if none).
fn strtod_prefix(a: &[u8]) -> f64 {
    let a = a.trim_ascii_start();
    let text = String::from_utf8_lossy(a);
    let mut end = text
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    while end > 0 {
        if let Ok(v) = text[..end].parse::<f64>() {
            return v;
        }
        end -= 1;
    }
    0.0
}

/// A piece of a background save's file, from a shard to the file writer.
pub enum Chunk {
    /// Serialized entries (`cmd::dump::write_entry`) of database `db`.
    Data { db: usize, bytes: Vec<u8> },
    /// The shard has sent all of its part.
    Done,
}

/// One shard's count of executed write commands, on its own cache line.
#[repr(align(64))]
#[derive(Default)]
struct Changes(AtomicU64);

/// RDB persistence state shared by every thread: the background save that
/// runs (at most one), the outcome of the last ones, and the write counts
/// the `save` schedule and INFO `rdb_changes_since_last_save` read.
///
/// A BGSAVE ([`Saver::start`]) spawns a writer thread that writes the
/// header, then each shard's [`Chunk`]s as they come (a SELECTDB before
/// each run of another database's entries: the shards' parts interleave),
/// then EOF and the CRC-64, to a temporary file it flushes to disk and
/// renames over `dbfilename` once every shard sent [`Chunk::Done`].
pub struct Saver {
    /// The running save's generation and chunk inbox, until every shard
    /// took a sender.
    sink: Mutex<Option<(u64, Sender<Chunk>)>>,
    /// Saves started so far: the running one's generation.
    generation: AtomicU64,
    /// Shards that took a sender for the running save.
    begun: AtomicUsize,
    shards: usize,
    in_progress: AtomicBool,
    /// Unix s of the last successful save (start-up time at first, as Redis).
    last_save: AtomicU64,
    last_bgsave_ok: AtomicBool,
    /// Seconds the last background save took (-1: none yet).
    last_bgsave_secs: AtomicI64,
    /// Unix s the running background save started.
    bgsave_started: AtomicU64,
    /// Successful saves since start-up (INFO `rdb_saves`).
    saves: AtomicU64,
    changes: Vec<Changes>,
    /// Total changes when the last successful save took its instant.
    changes_at_save: AtomicU64,
    /// Total changes when the running background save took its instant.
    changes_at_start: AtomicU64,
    /// Unix s of the last BGSAVE attempt (Redis's `lastbgsave_try`).
    last_try: AtomicU64,
    /// The running save writes an RDB file (not an AOF base).
    rdb_job: AtomicBool,
    /// BGSAVE SCHEDULE came while an AOF rewrite ran.
    scheduled: AtomicBool,
    /// The running save writes commands, not RDB ([`Job::AofBase`]).
    commands: AtomicBool,
    /// The function libraries, saved with the keys.
    scripts: Arc<crate::script::Registry>,
}

/// What a background save writes.
pub enum Job {
    /// An RDB file, `dbfilename` (BGSAVE, the `save` schedule, shutdown).
    Rdb { file: String },
    /// An AOF rewrite's base, to `tmp`: an RDB file with `aof-base` 1, or
    /// under `aof-use-rdb-preamble no` (`commands`) the commands that
    /// rebuild the keyspace ([`crate::aof::rewrite_entry`]); `done` is told
    /// whether it was written, and installs it.
    AofBase {
        tmp: String,
        commands: bool,
        done: Box<dyn FnOnce(bool) + Send>,
    },
}

/// Shutdown saves if the `save` schedule has points (SIGTERM, SIGINT, a
/// plain SHUTDOWN).
pub const EXIT_DEFAULT: u8 = 0;
/// SHUTDOWN SAVE: saves even without save points.
pub const EXIT_SAVE: u8 = 1;
/// SHUTDOWN NOSAVE: does not save.
pub const EXIT_NOSAVE: u8 = 2;

/// A shutdown asked for by SHUTDOWN or a signal: how it saves
/// ([`EXIT_DEFAULT`], [`EXIT_SAVE`] or [`EXIT_NOSAVE`]), and whether a
/// failed save still exits (SHUTDOWN FORCE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExitRequest {
    pub how: u8,
    pub force: bool,
}

impl ExitRequest {
    /// Whether this shutdown saves first, given whether the `save`
    /// schedule has points (Redis's `prepareForShutdown`).
    pub fn saves(&self, scheduled: bool) -> bool {
        match self.how {
            EXIT_SAVE => true,
            EXIT_NOSAVE => false,
            _ => scheduled,
        }
    }
}

/// Seconds after a failed BGSAVE before the schedule tries again (Redis's
/// `CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_DELAY_S: u64 = 5;

/// What INFO `persistence` reports about RDB saves.
pub struct SaverInfo {
    pub changes_since_last_save: u64,
    pub bgsave_in_progress: bool,
    pub last_save_time: u64,
    pub last_bgsave_ok: bool,
    pub last_bgsave_secs: i64,
    pub current_bgsave_secs: i64,
    pub saves: u64,
}

impl Saver {
    /// The saver of a server with `shards` shards, whose function
    /// libraries are in `scripts`.
    pub fn new(shards: usize, scripts: Arc<crate::script::Registry>) -> Saver {
        Saver {
            sink: Mutex::new(None),
            generation: AtomicU64::new(0),
            begun: AtomicUsize::new(0),
            shards,
            in_progress: AtomicBool::new(false),
            last_save: AtomicU64::new(unix_secs()),
            last_bgsave_ok: AtomicBool::new(true),
            last_bgsave_secs: AtomicI64::new(-1),
            bgsave_started: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            changes: (0..shards).map(|_| Changes::default()).collect(),
            changes_at_save: AtomicU64::new(0),
            changes_at_start: AtomicU64::new(0),
            last_try: AtomicU64::new(0),
            rdb_job: AtomicBool::new(true),
            scheduled: AtomicBool::new(false),
            commands: AtomicBool::new(false),
            scripts,
        }
    }

    /// Whether the `save` schedule calls for a BGSAVE now (Redis's
    /// `serverCron` rule): for some point (seconds, changes), at least
    /// `changes` writes since the last save, which is more than `seconds`
    /// old; after a failure, not within [`RETRY_DELAY_S`] of the last try.
    pub fn due(&self, points: &[(u64, u64)]) -> bool {
        if self.in_progress() {
            return false;
        }
        let now = unix_secs();
        let changes = self.info().changes_since_last_save;
        let since = now.saturating_sub(self.last_save());
        let may_retry = self.last_bgsave_ok.load(Ordering::Relaxed)
            || now.saturating_sub(self.last_try.load(Ordering::Relaxed)) > RETRY_DELAY_S;
        may_retry && points.iter().any(|&(s, c)| changes >= c && since > s)
    }

    /// Waits until no background save runs, checking every 10 ms.
    pub fn wait_idle(&self) {
        while self.in_progress() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Shard `shard` has executed `n` write commands since start-up.
    #[inline]
    pub fn set_changes(&self, shard: usize, n: u64) {
        if let Some(c) = self.changes.get(shard) {
            c.0.store(n, Ordering::Relaxed);
        }
    }

    fn total_changes(&self) -> u64 {
        self.changes
            .iter()
            .map(|c| c.0.load(Ordering::Relaxed))
            .sum()
    }

    /// Whether a background save runs.
    pub fn in_progress(&self) -> bool {
        self.in_progress.load(Ordering::Acquire)
    }

    /// Unix s of the last successful save (LASTSAVE).
    pub fn last_save(&self) -> u64 {
        self.last_save.load(Ordering::Relaxed)
    }

    /// Starts a background save to `file` (in the working directory): the
    /// shards then each call [`Saver::sink`] at the save's instant.
    /// Errors: `ERR Background save already in progress` (Redis's reply),
    /// Redis's "Another child process is active" while an AOF rewrite
    /// writes its base, or the writer thread could not start.
    pub fn start(self: &Arc<Self>, file: &str) -> Result<(), String> {
        self.start_job(Job::Rdb {
            file: file.to_string(),
        })
    }

    /// Starts background save `job`; see [`Saver::start`].
    pub fn start_job(self: &Arc<Self>, job: Job) -> Result<(), String> {
        if self.in_progress.swap(true, Ordering::AcqRel) {
            return Err(if self.rdb_job.load(Ordering::Relaxed) {
                "ERR Background save already in progress".into()
            } else {
                "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.".into()
            });
        }
        let rdb = matches!(job, Job::Rdb { .. });
        let commands = matches!(job, Job::AofBase { commands: true, .. });
        self.rdb_job.store(rdb, Ordering::Relaxed);
        self.commands.store(commands, Ordering::Relaxed);
        let (tx, rx) = crossbeam_channel::unbounded();
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.begun.store(0, Ordering::Relaxed);
        *lock(&self.sink) = Some((generation, tx));
        if rdb {
            self.bgsave_started.store(unix_secs(), Ordering::Relaxed);
            self.last_try.store(unix_secs(), Ordering::Relaxed);
            self.changes_at_start
                .store(self.total_changes(), Ordering::Relaxed);
        }
        let me = self.clone();
        let head = if commands {
            let mut head = Vec::new();
            crate::aof::rewrite_functions(&mut head, &self.scripts);
            head
        } else {
            self.header(!rdb)
        };
        let spawned = std::thread::Builder::new()
            .name("tandem-bgsave".into())
            .spawn(move || {
                let started = std::time::Instant::now();
                match job {
                    Job::Rdb { file } => {
                        let tmp = format!("temp-bgsave-{}.rdb", std::process::id());
                        let result =
                            write_background(&rx, &tmp, Some(&file), me.shards, &head, false);
                        drop(rx);
                        if let Err(e) = &result {
                            let _ = std::fs::remove_file(&tmp);
                            tracing::warn!("Background saving error: {e}");
                            me.wait_parts_taken();
                        } else {
                            tracing::info!("Background saving terminated with success");
                        }
                        me.finish(result.is_ok(), started.elapsed().as_secs() as i64);
                    }
                    Job::AofBase {
                        tmp,
                        done,
                        commands,
                    } => {
                        let result = write_background(&rx, &tmp, None, me.shards, &head, commands);
                        drop(rx);
                        if let Err(e) = &result {
                            let _ = std::fs::remove_file(&tmp);
                            tracing::warn!("Background AOF base writing error: {e}");
                            me.wait_parts_taken();
                        }
                        *lock(&me.sink) = None;
                        done(result.is_ok());
                        me.in_progress.store(false, Ordering::Release);
                    }
                }
            });
        match spawned {
            Ok(_) => {
                if rdb {
                    tracing::info!("Background saving started");
                }
                Ok(())
            }
            Err(e) => {
                *lock(&self.sink) = None;
                self.in_progress.store(false, Ordering::Release);
                Err(format!("ERR cannot start the background save: {e}"))
            }
        }
    }

    /// BGSAVE SCHEDULE while an AOF rewrite runs: the save starts once it
    /// is done ([`Saver::take_scheduled`]).
    pub fn schedule(&self) {
        self.scheduled.store(true, Ordering::Relaxed);
    }

    /// Whether a scheduled BGSAVE may start now (nothing is being saved);
    /// clears the schedule when it says yes.
    pub fn take_scheduled(&self) -> bool {
        !self.in_progress() && self.scheduled.swap(false, Ordering::Relaxed)
    }

    /// Whether the running background save is an AOF rewrite's base.
    pub fn writing_aof_base(&self) -> bool {
        self.in_progress() && !self.rdb_job.load(Ordering::Relaxed)
    }

    /// The running save's generation and chunk inbox, for a shard at the
    /// save's instant (None if no save runs). Each shard takes one.
    pub fn sink(&self) -> Option<(u64, Sender<Chunk>)> {
        let mut sink = lock(&self.sink);
        let taken = sink.clone()?;
        if self.begun.fetch_add(1, Ordering::AcqRel) + 1 >= self.shards {
            // The last shard took it: the writer sees a disconnect if one
            // of them goes away before it is done.
            *sink = None;
        }
        Some(taken)
    }

    /// Whether the running save writes commands (an AOF base under
    /// `aof-use-rdb-preamble no`) rather than RDB entries.
    pub fn writes_commands(&self) -> bool {
        self.commands.load(Ordering::Relaxed)
    }

    /// The running (or last) save's generation: a shard's part of an older
    /// one is stale.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// After a failed write: waits until every shard took the save's sink
    /// (each does when the save's instant reaches it), so that a shard the
    /// instant reaches late cannot take the next save's sink for it.
    fn wait_parts_taken(&self) {
        while lock(&self.sink).is_some() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    fn finish(&self, ok: bool, secs: i64) {
        *lock(&self.sink) = None;
        self.last_bgsave_ok.store(ok, Ordering::Relaxed);
        self.last_bgsave_secs.store(secs, Ordering::Relaxed);
        if ok {
            self.saved(self.changes_at_start.load(Ordering::Relaxed));
        }
        self.in_progress.store(false, Ordering::Release);
    }

    /// A save that took its instant when the total of changes was `at` succeeded.
    fn saved(&self, at: u64) {
        self.changes_at_save.store(at, Ordering::Relaxed);
        self.last_save.store(unix_secs(), Ordering::Relaxed);
        self.saves.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes SAVE's file from the shards' replies ([`write_file`]),
    /// recording its success. `-ERR Background save already in progress`
    /// while a BGSAVE runs, as Redis.
    pub fn save(&self, file: &str, parts: &[Bytes]) -> Bytes {
        if self.in_progress() {
            return Bytes::from_static(b"-ERR Background save already in progress\r\n");
        }
        let at = self.total_changes();
        let reply = write_file(file, &self.header(false), parts);
        if reply.starts_with(b"+") {
            self.saved(at);
        }
        reply
    }

    /// A file's start: header, aux fields, the function libraries.
    fn header(&self, aof_base: bool) -> Vec<u8> {
        let mut head = Vec::with_capacity(256);
        write_header_as(&mut head, aof_base);
        write_functions(&mut head, &self.scripts);
        head
    }

    /// The figures INFO `persistence` shows.
    pub fn info(&self) -> SaverInfo {
        let now = unix_secs();
        let running = self.in_progress() && self.rdb_job.load(Ordering::Relaxed);
        SaverInfo {
            changes_since_last_save: self
                .total_changes()
                .saturating_sub(self.changes_at_save.load(Ordering::Relaxed)),
            bgsave_in_progress: running,
            last_save_time: self.last_save(),
            last_bgsave_ok: self.last_bgsave_ok.load(Ordering::Relaxed),
            last_bgsave_secs: self.last_bgsave_secs.load(Ordering::Relaxed),
            current_bgsave_secs: if running {
                now.saturating_sub(self.bgsave_started.load(Ordering::Relaxed)) as i64
            } else {
                -1
            },
            saves: self.saves.load(Ordering::Relaxed),
        }
    }
}

/// The snapshot a shutdown writes, taken by the main thread while every
/// client is held (`server.rs`): waits for a running BGSAVE (its instant is
/// older), starts a new one to `file`, has `begin` start the shards'
/// parts, and waits until the file is written. Returns whether it was;
/// logs the outcome as Redis does (`force`: the server exits anyway).
pub fn final_save(saver: &Arc<Saver>, file: &str, force: bool, begin: impl FnOnce()) -> bool {
    tracing::info!("Saving the final RDB snapshot before exiting.");
    saver.wait_idle();
    let saves = saver.saves.load(Ordering::Relaxed);
    let started = saver.start(file);
    if let Err(e) = &started {
        tracing::warn!("Could not start the save: {e}");
    } else {
        begin();
        saver.wait_idle();
        if saver.saves.load(Ordering::Relaxed) > saves {
            tracing::info!("DB saved on disk");
            return true;
        }
    }
    if force {
        tracing::warn!("Error trying to save the DB. Exit anyway.");
    } else {
        tracing::warn!("Error trying to save the DB, can't exit.");
    }
    false
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The background save's writer: the file from `rx`'s chunks until
/// `shards` shards are done, through `tmp`, renamed over `file` (if
/// any), starting with `head` ([`Saver::header`]). An RDB file gets a
/// SELECTDB before each run of another database's entries, and EOF and
/// its checksum at the end; a file of `commands`, a SELECT command and no
/// trailer.
fn write_background(
    rx: &Receiver<Chunk>,
    tmp: &str,
    file: Option<&str>,
    shards: usize,
    head: &[u8],
    commands: bool,
) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(tmp)?);
    let mut crc = rdb::CRC64.digest();
    let mut put = |f: &mut std::io::BufWriter<std::fs::File>, b: &[u8]| {
        crc.update(b);
        f.write_all(b)
    };
    put(&mut f, head)?;
    let (mut done, mut last_db) = (0, None);
    while done < shards {
        match rx.recv() {
            Ok(Chunk::Data { db, bytes }) => {
                if last_db != Some(db) {
                    let mut sel = Vec::new();
                    if commands {
                        crate::aof::select(&mut sel, db as u16);
                    } else {
                        sel.push(OPCODE_SELECTDB);
                        rdb::write_len(&mut sel, db as u64);
                    }
                    put(&mut f, &sel)?;
                    last_db = Some(db);
                }
                put(&mut f, &bytes)?;
            }
            Ok(Chunk::Done) => done += 1,
            Err(_) => {
                return Err(std::io::Error::other(
                    "a shard stopped before its part was done",
                ));
            }
        }
    }
    if !commands {
        put(&mut f, &[OPCODE_EOF])?;
        let sum = rdb::file_checksum(crc.finalize());
        f.write_all(&sum.to_le_bytes())?;
    }
    let f = f.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    match file {
        Some(file) => std::fs::rename(tmp, file),
        None => Ok(()),
    }
}
