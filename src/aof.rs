//! The append-only file (issue #14, AOF part): Redis 7's multi-part layout
//! (`appenddirname/` with a manifest, one base file and incremental files,
//! `r:src/aof.c`), fed by every shard in one order.
//!
//! # One order across shards
//!
//! Each shard appends the write commands it executes, as RESP arrays in
//! the form Redis propagates them (relative expiries made absolute, a
//! served BLPOP as the LPOP it was, a script as its effects), to a buffer
//! of its own, a [`Chunk`], which it hands to the shared queue ([`Aof`])
//! at the end of each loop turn and before it grants any transaction its
//! locks. A transaction over several shards gets a place in the queue, a
//! [`TxLog`], from its last shard at the moment every lock is held (just
//! before Go); each shard adds what it ran there and the place is filled
//! when every shard let go. The writer thread writes the queue in order,
//! waiting at a place not yet filled, a transaction as MULTI ... EXEC.
//!
//! Why that order is the execution order: a command that conflicts with a
//! transaction and ran before it ran before that transaction's lock on its
//! shard was granted, so its chunk went into the queue before the grant,
//! which is before the place was taken; one that ran after it ran after
//! the transaction let go on its shard, after Go, so after the place.
//! Commands on different shards that no transaction orders touch
//! different keys and commute.
//!
//! # Durability
//!
//! `appendfsync always`: a shard holds its replies until the writer has
//! synced every entry it contributed to ([`Aof::synced`]); the writer
//! syncs once for everything queued while it synced before (group
//! commit). `everysec`: the writer writes what is queued about every
//! millisecond and syncs at most once a second, so a crash of the process
//! loses at most about the last millisecond of acknowledged writes and a
//! crash of the machine about a second (Redis writes before replying and
//! loses only the second); `no`: the OS decides when to sync.
//!
//! # Files
//!
//! `appendonly.aof.<n>.base.rdb` (an RDB file with `aof-base` 1, written
//! by BGREWRITEAOF through the fork-less snapshot of [`crate::persist`];
//! under `aof-use-rdb-preamble no`, `.base.aof`, the commands that rebuild
//! the keyspace, [`rewrite_entry`]),
//! `appendonly.aof.<n>.incr.aof` (commands), `appendonly.aof.manifest`. A
//! rewrite opens the next incremental file at the snapshot's instant (the
//! snapshot transaction's place in the queue); once the base is written
//! the older files become history in the manifest and are deleted.
//!
//! CONFIG SET appendonly yes starts the log at run time: a rewrite whose
//! instant is where each shard starts logging; the manifest is written
//! once that first base is ([`Aof::turn_on`]).
//!
//! Not yet: `aof-timestamp-enabled`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// `appendfsync always`.
pub const FSYNC_ALWAYS: u8 = 0;
/// `appendfsync everysec` (the default).
pub const FSYNC_EVERYSEC: u8 = 1;
/// `appendfsync no`.
pub const FSYNC_NO: u8 = 2;

/// The `appendfsync` value for `s`, None if it is none of Redis's three.
pub fn fsync_policy(s: &str) -> Option<u8> {
    match s.to_ascii_lowercase().as_str() {
        "always" => Some(FSYNC_ALWAYS),
        "everysec" => Some(FSYNC_EVERYSEC),
        "no" => Some(FSYNC_NO),
        _ => None,
    }
}

const OFF: u8 = 0;
/// Replaying the files at start-up: nothing is logged.
const LOADING: u8 = 1;
const ON: u8 = 2;
/// Turned on at run time (CONFIG SET appendonly yes): each shard logs
/// from the first rewrite's instant on; ON once that base is written.
const STARTING: u8 = 3;

/// Commands one shard executed, in order, as RESP arrays; a SELECT
/// precedes each command whose database differs from the one before.
#[derive(Default, Debug)]
pub struct Chunk {
    /// Database of the first command and of the last.
    first_db: u16,
    last_db: u16,
    bytes: Vec<u8>,
    cmds: u32,
}

impl Chunk {
    pub fn is_empty(&self) -> bool {
        self.cmds == 0
    }

    /// Appends command `args` (name first) run in database `db`.
    pub fn push<A: AsRef<[u8]>>(&mut self, db: u16, args: &[A]) {
        if self.cmds == 0 {
            self.first_db = db;
        } else if db != self.last_db {
            select(&mut self.bytes, db);
        }
        self.last_db = db;
        self.cmds += 1;
        write_command(&mut self.bytes, args);
    }

    /// Takes the commands, leaving an empty chunk that writes into `buf`
    /// (a buffer the writer gave back: [`Aof::spare`]).
    pub fn take(&mut self, buf: Vec<u8>) -> Chunk {
        let c = std::mem::take(self);
        self.bytes = buf;
        c
    }

    /// Appends `other`'s commands.
    pub fn append(&mut self, other: Chunk) {
        if other.cmds == 0 {
            return;
        }
        if self.cmds == 0 {
            *self = other;
            return;
        }
        if other.first_db != self.last_db {
            select(&mut self.bytes, other.first_db);
        }
        self.bytes.extend_from_slice(&other.bytes);
        self.last_db = other.last_db;
        self.cmds += other.cmds;
    }

    /// Appends `group` (a script's effects) as one MULTI ... EXEC block
    /// when it holds more than one command, as Redis 7 propagates them.
    pub fn append_group(&mut self, group: Chunk) {
        if group.cmds < 2 {
            return self.append(group);
        }
        let db = group.first_db;
        let mut framed = Chunk::default();
        framed.push(db, &[b"MULTI"]);
        framed.append(group);
        let last = framed.last_db;
        framed.push(last, &[b"EXEC"]);
        framed.cmds = 1;
        self.append(framed);
    }
}

/// Appends the RESP array of `args`, with one reservation up front: this
/// runs for every logged write, and small copies through `memcpy` cost
/// more than the bytes (a profile of SET under `everysec` found 12% of
/// the shard thread there before).
fn write_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    // A header is at most 23 bytes (`$`, 20 digits, CRLF), and a bulk
    // string's CRLF 2 more.
    let room: usize = args.iter().map(|a| a.as_ref().len() + 32).sum::<usize>() + 32;
    out.reserve(room);
    let start = out.len();
    let spare = &mut out.spare_capacity_mut()[..room];
    let mut w = put_header(spare, 0, b'*', args.len());
    for a in args {
        let a = a.as_ref();
        w = put_header(spare, w, b'$', a.len());
        for (d, b) in spare[w..w + a.len()].iter_mut().zip(a) {
            d.write(*b);
        }
        w += a.len();
        spare[w].write(b'\r');
        spare[w + 1].write(b'\n');
        w += 2;
    }
    // SAFETY: `put_header` and the loop above initialised every byte of
    // `spare[..w]`, and `w <= room <= capacity - start`.
    unsafe { out.set_len(start + w) };
}

/// Writes `<tag><n>\r\n` at `spare[w..]`, returning the position after it:
/// [`write_command`]'s header, without a capacity check per byte.
#[inline]
fn put_header(spare: &mut [std::mem::MaybeUninit<u8>], mut w: usize, tag: u8, n: usize) -> usize {
    spare[w].write(tag);
    w += 1;
    if n < 10 {
        spare[w].write(b'0' + n as u8);
        w += 1;
    } else if n < 100 {
        spare[w].write(b'0' + (n / 10) as u8);
        spare[w + 1].write(b'0' + (n % 10) as u8);
        w += 2;
    } else {
        let mut digits = itoa::Buffer::new();
        for (d, b) in spare[w..].iter_mut().zip(digits.format(n).as_bytes()) {
            d.write(*b);
            w += 1;
        }
    }
    spare[w].write(b'\r');
    spare[w + 1].write(b'\n');
    w + 2
}

/// Commands a rewrite puts in one command at most (Redis's
/// `AOF_REWRITE_ITEMS_PER_CMD`).
const ITEMS_PER_CMD: usize = 64;

/// Appends the commands that rebuild one key of a base of commands
/// (`aof-use-rdb-preamble no`), as Redis 7.0's `rewriteAppendOnlyFileRio`
/// writes them: SET, or RPUSH, SADD, ZADD or HMSET of at most 64 items
/// each, then PEXPIREAT (Unix ms) if it has a deadline. Scores are written
/// as Redis 7.0 writes and replies with them (`%.17g`). A
/// [`crate::store::SnapshotWrite`].
pub fn rewrite_entry(out: &mut Vec<u8>, e: &crate::store::Entry) {
    use crate::store::Value;
    let key = &e.key[..];
    match &e.value {
        Value::Int(n) => write_command(
            out,
            &[b"SET", key, itoa::Buffer::new().format(*n).as_bytes()],
        ),
        Value::Str(s) => write_command(out, &[b"SET", key, &s[..]]),
        Value::List(l) => {
            let mut b = Batches::new(out, b"RPUSH", key, l.len(), 1);
            l.iter().for_each(|v| b.item(&[v]));
        }
        Value::Set(s) => {
            let mut b = Batches::new(out, b"SADD", key, s.len(), 1);
            s.for_each(|m| b.item(&[m]));
        }
        Value::Hash(h) => {
            let mut b = Batches::new(out, b"HMSET", key, h.len(), 2);
            h.for_each(|f, v| b.item(&[f, v]));
        }
        Value::Stream(s) => rewrite_stream(out, key, s),
        Value::ZSet(z) => {
            let mut b = Batches::new(out, b"ZADD", key, z.len(), 2);
            z.walk(0, z.len(), false, |m, score| {
                b.item(&[crate::resp::write::fmt_double(score).as_bytes(), m])
            });
        }
    }
    if e.expire_at() != 0 {
        let at = itoa::Buffer::new().format(e.expire_at()).to_string();
        write_command(out, &[b"PEXPIREAT", key, at.as_bytes()]);
    }
}

/// The commands that rebuild a stream, as Redis 7.0's
/// `rewriteStreamObject` writes them: an XADD per entry (or, for an empty
/// stream, `XADD key MAXLEN 0 0-1 x y`), `XSETID key last ENTRIESADDED n
/// MAXDELETEDID id`, then per group `XGROUP CREATE key group last
/// ENTRIESREAD n`, and per consumer `XCLAIM key group consumer 0 id TIME
/// ms RETRYCOUNT n JUSTID FORCE` for each pending entry, or `XGROUP
/// CREATECONSUMER` for one without any.
fn rewrite_stream(out: &mut Vec<u8>, key: &[u8], s: &crate::store::Stream) {
    use crate::store::listpack::Elem;
    use crate::store::stream::StreamId;
    let text = |id: StreamId| {
        let mut b = [0u8; 41];
        id.format(&mut b).to_vec()
    };
    if s.length > 0 {
        s.range(StreamId::MIN, StreamId::MAX, false, false, |id, fields| {
            let id = text(id);
            let mut ints: Vec<Vec<u8>> = Vec::new();
            let owned = |e: Elem, ints: &mut Vec<Vec<u8>>| -> usize {
                ints.push(match e {
                    Elem::Int(v) => itoa::Buffer::new().format(v).as_bytes().to_vec(),
                    Elem::Str(b) => b.to_vec(),
                });
                ints.len() - 1
            };
            for (f, v) in fields {
                owned(*f, &mut ints);
                owned(*v, &mut ints);
            }
            let mut args: Vec<&[u8]> = vec![b"XADD", key, &id];
            args.extend(ints.iter().map(|v| &v[..]));
            write_command(out, &args);
            true
        });
    } else {
        write_command(out, &[b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y"]);
    }
    let last = text(s.last_id);
    let added = s.entries_added.to_string();
    let maxdel = text(s.max_deleted_id);
    write_command(
        out,
        &[
            b"XSETID",
            key,
            &last,
            b"ENTRIESADDED",
            added.as_bytes(),
            b"MAXDELETEDID",
            &maxdel,
        ],
    );
    for (name, g) in &s.groups {
        let last = text(g.last_id);
        let read = g.entries_read.to_string();
        write_command(
            out,
            &[
                b"XGROUP",
                b"CREATE",
                key,
                name,
                &last,
                b"ENTRIESREAD",
                read.as_bytes(),
            ],
        );
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                write_command(out, &[&b"XGROUP"[..], b"CREATECONSUMER", key, name, cname]);
                continue;
            }
            for id in &c.pel {
                let Some(n) = g.pel.get(id) else {
                    continue;
                };
                let id = text(*id);
                let time = n.delivery_time.to_string();
                let count = n.delivery_count.to_string();
                write_command(
                    out,
                    &[
                        b"XCLAIM",
                        key,
                        name,
                        cname,
                        b"0",
                        &id,
                        b"TIME",
                        time.as_bytes(),
                        b"RETRYCOUNT",
                        count.as_bytes(),
                        b"JUSTID",
                        b"FORCE",
                    ],
                );
            }
        }
    }
}

/// Appends `FUNCTION LOAD <code>` for each function library, as a rewrite
/// of commands begins (`rewriteFunctions`).
pub fn rewrite_functions(out: &mut Vec<u8>, scripts: &crate::script::Registry) {
    for lib in scripts.libraries() {
        write_command(out, &[&b"FUNCTION"[..], b"LOAD", &lib.code]);
    }
}

/// A key's items written as commands of at most [`ITEMS_PER_CMD`] items
/// (`name key item...`), each item `per` arguments.
struct Batches<'a> {
    out: &'a mut Vec<u8>,
    name: &'static [u8],
    key: &'a [u8],
    left: usize,
    in_cmd: usize,
    per: usize,
}

impl<'a> Batches<'a> {
    fn new(
        out: &'a mut Vec<u8>,
        name: &'static [u8],
        key: &'a [u8],
        items: usize,
        per: usize,
    ) -> Self {
        Batches {
            out,
            name,
            key,
            left: items,
            in_cmd: 0,
            per,
        }
    }

    fn item(&mut self, parts: &[&[u8]]) {
        if self.left == 0 {
            return;
        }
        if self.in_cmd == 0 {
            let n = self.left.min(ITEMS_PER_CMD);
            header(self.out, b'*', 2 + n * self.per);
            bulk(self.out, self.name);
            bulk(self.out, self.key);
        }
        for p in parts {
            bulk(self.out, p);
        }
        self.left -= 1;
        self.in_cmd += 1;
        if self.in_cmd == ITEMS_PER_CMD {
            self.in_cmd = 0;
        }
    }
}

/// Appends a RESP bulk string.
fn bulk(out: &mut Vec<u8>, a: &[u8]) {
    header(out, b'$', a.len());
    out.extend_from_slice(a);
    out.push(b'\r');
    out.push(b'\n');
}

/// Appends `<tag><n>\r\n` without allocating.
fn header(out: &mut Vec<u8>, tag: u8, n: usize) {
    out.push(tag);
    if n < 10 {
        out.push(b'0' + n as u8);
    } else if n < 100 {
        out.push(b'0' + (n / 10) as u8);
        out.push(b'0' + (n % 10) as u8);
    } else {
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
    out.push(b'\r');
    out.push(b'\n');
}

/// Appends `SELECT db`.
pub fn select(out: &mut Vec<u8>, db: u16) {
    write_command(out, &[&b"SELECT"[..], db.to_string().as_bytes()]);
}

/// A transaction's place in the queue: what each of its shards ran,
/// complete once every shard let go ([`TxLog::part_done`]).
#[derive(Debug)]
pub struct TxLog {
    /// Its id in the queue (replies that depend on it wait for this).
    pub id: u64,
    left: AtomicUsize,
    body: Mutex<Chunk>,
    /// A rewrite's instant: the writer starts the next incremental file here.
    switch: bool,
}

impl TxLog {
    /// Appends command `args` run in database `db` as part of this transaction.
    pub fn push<A: AsRef<[u8]>>(&self, db: u16, args: &[A]) {
        lock(&self.body).push(db, args);
    }

    /// Appends a script's effects (run inside this transaction).
    pub fn append(&self, c: Chunk) {
        lock(&self.body).append(c);
    }

    fn complete(&self) -> bool {
        self.left.load(Ordering::Acquire) == 0
    }
}

enum Entry {
    Chunk(Chunk),
    Tx(Arc<TxLog>),
}

#[derive(Default)]
struct Queue {
    /// Entries not taken by the writer yet, with their ids.
    entries: std::collections::VecDeque<(u64, Entry)>,
    /// Id of the last entry queued.
    last: u64,
    stop: bool,
}

/// The manifest (`appendonly.aof.manifest`): base, history and
/// incremental files with their sequence numbers (`aofInfoFormat`,
/// `aofLoadManifestFromFile` in `r:src/aof.c`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifest {
    pub base: Option<(String, u64)>,
    pub history: Vec<(String, u64)>,
    pub incrs: Vec<(String, u64)>,
}

impl Manifest {
    /// Parses a manifest's text. Errors name the line that is wrong: a
    /// line that is not `file <name> seq <n> type b|h|i` pairs, a name
    /// with a path, a zero sequence, two bases, incremental sequences not
    /// increasing, no file at all.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| format!("Invalid AOF manifest line {}: {why}", n + 1);
            if line.len() > 1024 {
                return Err(bad("longer than 1024 bytes"));
            }
            let words = split_args(line).ok_or_else(|| bad("unbalanced quotes"))?;
            if words.len() < 6 || words.len() % 2 != 0 {
                return Err(bad("the number of arguments is wrong"));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair[0].to_ascii_lowercase().as_str() {
                    "file" => name = Some(pair[1].clone()),
                    "seq" => seq = pair[1].parse::<u64>().ok(),
                    "type" => kind = Some(pair[1].clone()),
                    _ => {} // Later versions' keys are ignored, as Redis does.
                }
            }
            let name = name.ok_or_else(|| bad("no file name"))?;
            if name.contains('/') || name.is_empty() {
                return Err(bad("the file name is not a plain name"));
            }
            let seq = seq.filter(|&s| s > 0).ok_or_else(|| bad("bad seq"))?;
            match kind.as_deref() {
                Some("b") => {
                    if m.base.is_some() {
                        return Err(bad("a second base file"));
                    }
                    m.base = Some((name, seq));
                }
                Some("h") => m.history.push((name, seq)),
                Some("i") => {
                    if m.incrs.last().is_some_and(|(_, s)| *s >= seq) {
                        return Err(bad("incremental file sequences must increase"));
                    }
                    m.incrs.push((name, seq));
                }
                _ => return Err(bad("unknown file type")),
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest's text: base, history, then incremental files.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let mut line = |name: &str, seq: u64, t: &str| {
            s.push_str(&format!("file {} seq {seq} type {t}\n", quote(name)));
        };
        if let Some((n, q)) = &self.base {
            line(n, *q, "b");
        }
        for (n, q) in &self.history {
            line(n, *q, "h");
        }
        for (n, q) in &self.incrs {
            line(n, *q, "i");
        }
        s
    }
}

/// `name` as `sdscatrepr` would show it when it needs quoting.
fn quote(name: &str) -> String {
    if name
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\')
    {
        return name.to_string();
    }
    let mut s = String::from("\"");
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_ascii_graphic() || c == ' ' => s.push(c),
            c => {
                let mut b = [0; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    s.push_str(&format!("\\x{byte:02x}"));
                }
            }
        }
    }
    s.push('"');
    s
}

/// Splits a manifest line as `sdssplitargs` does (quotes and escapes);
/// None for unbalanced quotes.
fn split_args(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut w = String::new();
        match chars.peek() {
            Some('"') => {
                chars.next();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            'n' => w.push('\n'),
                            'r' => w.push('\r'),
                            't' => w.push('\t'),
                            'x' => {
                                let h: String = [chars.next()?, chars.next()?].iter().collect();
                                w.push(u8::from_str_radix(&h, 16).ok()? as char);
                            }
                            c => w.push(c),
                        },
                        c => w.push(c),
                    }
                }
            }
            Some('\'') => {
                chars.next();
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            _ => {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
            }
        }
        out.push(w);
    }
}

/// Where the files live and what they are called (`appenddirname`,
/// `appendfilename`), with the manifest as last persisted.
struct Files {
    dir: PathBuf,
    name: String,
    manifest: Manifest,
}

impl Files {
    /// The files of `cfg` (`appenddirname`, created if missing, and
    /// `appendfilename`), with an empty manifest. Errors: the directory
    /// cannot be made.
    fn create(cfg: &crate::config::Config) -> Result<Files, String> {
        let dir = PathBuf::from(&cfg.appenddirname);
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "Can't open or create append-only dir {}: {e}",
                cfg.appenddirname
            )
        })?;
        Ok(Files {
            dir,
            name: cfg.appendfilename.clone(),
            manifest: Manifest::default(),
        })
    }

    fn manifest_path(&self) -> PathBuf {
        self.path(&format!("{}.manifest", self.name))
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn incr_name(&self, seq: u64) -> String {
        format!("{}.{seq}.incr.aof", self.name)
    }

    /// The base file's name: `.base.rdb`, or `.base.aof` for a base of
    /// commands (`aof-use-rdb-preamble no`), as Redis names them.
    fn base_name(&self, seq: u64, rdb: bool) -> String {
        format!(
            "{}.{seq}.base.{}",
            self.name,
            if rdb { "rdb" } else { "aof" }
        )
    }

    /// Writes the manifest to a temporary file, syncs it, renames it over
    /// the manifest and syncs the directory (`persistAofManifest`).
    fn persist(&self) -> std::io::Result<()> {
        let tmp = self.path(&format!("temp-{}.manifest", self.name));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(self.manifest.render().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.manifest_path())?;
        sync_dir(&self.dir)
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// What INFO `persistence` reports about the AOF.
pub struct AofInfo {
    pub enabled: bool,
    pub rewrite_in_progress: bool,
    pub rewrite_scheduled: bool,
    pub last_rewrite_secs: i64,
    pub current_rewrite_secs: i64,
    pub last_rewrite_ok: bool,
    pub rewrites: u64,
    pub last_write_ok: bool,
    pub current_size: u64,
    pub base_size: u64,
}

/// The AOF state every thread shares: the queue shards append to, the
/// writer's progress, the files, and the rewrite's state.
pub struct Aof {
    q: Mutex<Queue>,
    /// Signals the writer: an entry was queued or completed.
    more: Condvar,
    /// Chunk buffers the writer is done with, for shards to fill again
    /// (their pages stay mapped: no fault per chunk).
    spares: Mutex<Vec<Vec<u8>>>,
    /// The writer waits for entries: the next one queued wakes it. While
    /// it is busy, shards queue without a wake (it looks again soon).
    idle: AtomicBool,
    /// Id of the last entry the writer has on disk (synced under
    /// `always`, written otherwise).
    synced: AtomicU64,
    synced_lock: Mutex<()>,
    synced_cv: Condvar,
    state: AtomicU8,
    fsync: AtomicU8,
    /// Shards holding replies until [`Aof::synced`] moves.
    waiting: Vec<AtomicBool>,
    /// Wakes a shard engine (set once the engines' inboxes exist).
    wake: OnceLock<Box<dyn Fn(usize) + Send + Sync>>,
    files: Mutex<Option<Files>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// A rewrite was started and its snapshot's instant is not placed yet.
    switch_pending: AtomicBool,
    /// Sequence of the incremental file the running rewrite's instant
    /// opened (0: not yet).
    switched_to: AtomicU64,
    rewriting: AtomicBool,
    /// `aof-use-rdb-preamble`: a rewrite's base is an RDB file (else
    /// commands).
    preamble: AtomicBool,
    /// The running rewrite's base is an RDB file.
    rewrite_rdb: AtomicBool,
    rewrite_scheduled: AtomicBool,
    rewrite_started: AtomicU64,
    rewrites: AtomicU64,
    last_rewrite_ok: AtomicBool,
    last_rewrite_secs: AtomicI64,
    last_write_ok: AtomicBool,
    current_size: AtomicU64,
    base_size: AtomicU64,
}

impl Aof {
    /// The AOF state of a server with `shards` shards, off.
    pub fn new(shards: usize, fsync: u8) -> Aof {
        Aof {
            q: Mutex::new(Queue::default()),
            more: Condvar::new(),
            spares: Mutex::new(Vec::new()),
            idle: AtomicBool::new(false),
            synced: AtomicU64::new(0),
            synced_lock: Mutex::new(()),
            synced_cv: Condvar::new(),
            state: AtomicU8::new(OFF),
            fsync: AtomicU8::new(fsync),
            waiting: (0..shards).map(|_| AtomicBool::new(false)).collect(),
            wake: OnceLock::new(),
            files: Mutex::new(None),
            writer: Mutex::new(None),
            switch_pending: AtomicBool::new(false),
            switched_to: AtomicU64::new(0),
            rewriting: AtomicBool::new(false),
            preamble: AtomicBool::new(true),
            rewrite_rdb: AtomicBool::new(true),
            rewrite_scheduled: AtomicBool::new(false),
            rewrite_started: AtomicU64::new(0),
            rewrites: AtomicU64::new(0),
            last_rewrite_ok: AtomicBool::new(true),
            last_rewrite_secs: AtomicI64::new(-1),
            last_write_ok: AtomicBool::new(true),
            current_size: AtomicU64::new(0),
            base_size: AtomicU64::new(0),
        }
    }

    /// Whether shards log their writes now.
    #[inline]
    pub fn on(&self) -> bool {
        self.state.load(Ordering::Relaxed) == ON
    }

    /// Whether `appendonly` is on (loading and starting included).
    pub fn enabled(&self) -> bool {
        self.state.load(Ordering::Relaxed) != OFF
    }

    /// Turned on at run time, its first base not written yet: a shard
    /// logs once it passed that rewrite's instant ([`Aof::logs_after`]).
    #[inline]
    pub fn starting(&self) -> bool {
        self.state.load(Ordering::Relaxed) == STARTING
    }

    /// Whether a shard logs now: the AOF is on, or it is starting and the
    /// shard passed the first rewrite's instant (`armed`).
    #[inline]
    pub fn logs_after(&self, armed: bool) -> bool {
        match self.state.load(Ordering::Relaxed) {
            ON => true,
            STARTING => armed,
            _ => false,
        }
    }

    /// `appendfsync always`.
    #[inline]
    pub fn always(&self) -> bool {
        self.fsync.load(Ordering::Relaxed) == FSYNC_ALWAYS
    }

    /// CONFIG SET appendfsync.
    pub fn set_fsync(&self, policy: u8) {
        self.fsync.store(policy, Ordering::Relaxed);
        self.more.notify_one();
    }

    /// Sets `aof-use-rdb-preamble`: whether the next rewrite's base is an
    /// RDB file or commands.
    pub fn set_preamble(&self, rdb: bool) {
        self.preamble.store(rdb, Ordering::Relaxed);
    }

    /// Sets how engine `shard` is woken when its held replies may go.
    pub fn set_wake(&self, f: Box<dyn Fn(usize) + Send + Sync>) {
        let _ = self.wake.set(f);
    }

    /// Id of the last entry on disk.
    #[inline]
    pub fn synced(&self) -> u64 {
        self.synced.load(Ordering::Acquire)
    }

    /// Shard `shard` holds replies until entry `id` is on disk: it is
    /// woken when it is. False if it already is.
    pub fn wait_for(&self, shard: usize, id: u64) -> bool {
        if let Some(w) = self.waiting.get(shard) {
            w.store(true, Ordering::SeqCst);
        }
        self.synced.load(Ordering::SeqCst) < id
    }

    /// Blocks until entry `id` is on disk (a colocated engine, whose IO
    /// thread sends its replies as soon as it returns), or the writer stopped.
    pub fn block_until(&self, id: u64) {
        let mut g = lock(&self.synced_lock);
        while self.synced() < id && !lock(&self.q).stop {
            g = self
                .synced_cv
                .wait_timeout(g, Duration::from_millis(100))
                .map_or_else(|e| e.into_inner().0, |r| r.0);
        }
    }

    /// Queues a shard's chunk; returns its id.
    pub fn append(&self, c: Chunk) -> u64 {
        let mut q = lock(&self.q);
        q.last += 1;
        let id = q.last;
        q.entries.push_back((id, Entry::Chunk(c)));
        drop(q);
        self.nudge();
        id
    }

    /// An empty buffer for a shard's next chunk (one the writer gave back
    /// when there is one).
    pub fn spare(&self) -> Vec<u8> {
        lock(&self.spares).pop().unwrap_or_default()
    }

    /// Keeps `buf` for a shard's next chunk (a few, of sane size).
    fn give_back(&self, mut buf: Vec<u8>) {
        if buf.capacity() > 8 << 20 {
            return;
        }
        buf.clear();
        let mut s = lock(&self.spares);
        if s.len() < 16 {
            s.push(buf);
        }
    }

    /// Wakes the writer if it waits, or at once under `always` (a reply
    /// waits for it).
    #[inline]
    fn nudge(&self) {
        if self.always() || self.idle.load(Ordering::Acquire) {
            self.more.notify_one();
        }
    }

    /// Logs a command an IO thread ran (FUNCTION LOAD, DELETE, FLUSH,
    /// RESTORE: the function libraries are server state, not a shard's);
    /// under `appendfsync always` waits until it is on disk, so its reply
    /// follows. The commands that use it reach the shards after this.
    pub fn log_local(&self, args: &[&[u8]]) {
        if !self.on() {
            return;
        }
        let mut c = Chunk::default();
        c.push(0, args);
        let id = self.append(c);
        if self.always() {
            self.block_until(id);
        }
    }

    /// Takes the place of a transaction over `shards` shards, whose every
    /// lock is held now. A background save's transaction also places a
    /// pending rewrite's instant.
    pub fn reserve(&self, shards: usize, snapshot: bool) -> Arc<TxLog> {
        let switch = snapshot && self.switch_pending.swap(false, Ordering::AcqRel);
        let mut q = lock(&self.q);
        q.last += 1;
        let t = Arc::new(TxLog {
            id: q.last,
            left: AtomicUsize::new(shards.max(1)),
            body: Mutex::new(Chunk::default()),
            switch,
        });
        q.entries.push_back((t.id, Entry::Tx(t.clone())));
        t
    }

    /// One shard of transaction `t` let go: when it was the last, the
    /// writer may write it.
    pub fn part_done(&self, t: &TxLog) {
        if t.left.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Taking the queue's lock orders this with the writer's check.
            drop(lock(&self.q));
            self.nudge();
        }
    }

    /// The entries ready to write, in order, with the last one's id;
    /// waits up to `wait` for one.
    fn take(&self, wait: Duration) -> (Vec<Entry>, u64, bool) {
        let mut q = lock(&self.q);
        let ready = |q: &Queue| match q.entries.front() {
            Some((_, Entry::Chunk(_))) => true,
            Some((_, Entry::Tx(t))) => t.complete(),
            None => false,
        };
        if !ready(&q) && !q.stop {
            // Stored under the lock: a shard that queues after this sees it.
            self.idle.store(true, Ordering::Release);
            q = self
                .more
                .wait_timeout(q, wait)
                .map_or_else(|e| e.into_inner().0, |r| r.0);
            self.idle.store(false, Ordering::Release);
        }
        let mut out = Vec::new();
        let mut last = 0;
        while ready(&q) {
            if let Some((id, e)) = q.entries.pop_front() {
                last = id;
                out.push(e);
            }
        }
        // Stopping happens once the shards stopped: a transaction still
        // incomplete then never ran whole, and it and what follows it
        // (never acknowledged under `always`) are not written.
        if q.stop && !q.entries.is_empty() {
            tracing::warn!(
                "AOF: {} entries behind an unfinished transaction were not written",
                q.entries.len()
            );
            q.entries.clear();
        }
        (out, last, q.stop)
    }

    fn mark_synced(&self, id: u64) {
        if id == 0 {
            return;
        }
        self.synced.fetch_max(id, Ordering::SeqCst);
        {
            let _g = lock(&self.synced_lock);
            self.synced_cv.notify_all();
        }
        if let Some(wake) = self.wake.get() {
            for (i, w) in self.waiting.iter().enumerate() {
                if w.swap(false, Ordering::SeqCst) {
                    wake(i);
                }
            }
        }
    }

    /// Opens the AOF of `cfg` at start-up: reads the manifest (creating
    /// an empty base, a first incremental file and the manifest when
    /// there is none, as Redis does), starts the writer on the last
    /// incremental file, and returns what to load: the base file's keys
    /// and the incremental files' commands. Logging starts with
    /// [`Aof::loaded`]. Errors stop start-up: a bad manifest, a file it
    /// lists that is missing or cannot be read, a damaged base, a
    /// truncated file other than the last, or the last one truncated with
    /// `aof-load-truncated no`.
    pub fn open(self: &Arc<Self>, cfg: &crate::config::Config) -> Result<Loaded, String> {
        let mut files = Files::create(cfg)?;
        let mpath = files.manifest_path();
        let mut loaded = Loaded::default();
        match std::fs::read_to_string(&mpath) {
            Ok(text) => {
                files.manifest = Manifest::parse(&text)?;
                loaded = load_files(&files, cfg)?;
                if let Some((b, _)) = &files.manifest.base {
                    let n = std::fs::metadata(files.path(b)).map_or(0, |m| m.len());
                    self.base_size.store(n, Ordering::Relaxed);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // No AOF yet: an empty base and a first incremental file
                // (`aofOpenIfNeededOnServerStart`). An RDB file is not
                // loaded when appendonly is on, as in Redis.
                let rdb = cfg.aof_use_rdb_preamble;
                let base = files.base_name(1, rdb);
                let mut bytes = Vec::new();
                if rdb {
                    crate::persist::write_header_as(&mut bytes, true);
                    bytes.push(crate::rdb::OPCODE_EOF);
                    let crc = crate::rdb::file_checksum(crate::rdb::crc64(&bytes));
                    bytes.extend_from_slice(&crc.to_le_bytes());
                }
                let mut f = std::fs::File::create(files.path(&base))
                    .map_err(|e| format!("Can't create the AOF base file {base}: {e}"))?;
                f.write_all(&bytes)
                    .and_then(|_| f.sync_all())
                    .map_err(|e| format!("Can't write the AOF base file {base}: {e}"))?;
                files.manifest.base = Some((base, 1));
                self.base_size.store(bytes.len() as u64, Ordering::Relaxed);
            }
            Err(e) => return Err(format!("Can't read the AOF manifest: {e}")),
        }
        if files.manifest.incrs.is_empty() {
            let seq = files.manifest.base.as_ref().map_or(1, |b| b.1);
            files.manifest.incrs.push((files.incr_name(seq), seq));
        }
        files
            .persist()
            .map_err(|e| format!("Can't persist the AOF manifest: {e}"))?;
        let (name, _) = files.manifest.incrs.last().cloned().unwrap_or_default();
        let f = open_append(&files.path(&name))
            .map_err(|e| format!("Can't open the append-only file {name}: {e}"))?;
        let size = f.metadata().map_or(0, |m| m.len());
        self.current_size.store(
            size + self.base_size.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        *lock(&self.files) = Some(files);
        self.state.store(LOADING, Ordering::Release);
        self.spawn_writer(Some(f))?;
        Ok(loaded)
    }

    fn spawn_writer(self: &Arc<Self>, f: Option<std::fs::File>) -> Result<(), String> {
        let me = self.clone();
        let h = std::thread::Builder::new()
            .name("tandem-aof".into())
            .spawn(move || me.write_loop(f))
            .map_err(|e| format!("cannot start the AOF writer: {e}"))?;
        *lock(&self.writer) = Some(h);
        Ok(())
    }

    /// CONFIG SET appendonly yes (Redis's `startAppendOnly`): opens the
    /// directory (an existing manifest only numbers the new files) and
    /// starts a rewrite whose base is the keyspace at its instant, from
    /// which each shard logs; `begin` starts its snapshot now, or the
    /// rewrite waits for a running BGSAVE. The old files stay what they
    /// are until the base is written. Errors: the directory, a manifest
    /// that does not parse, the writer thread.
    pub fn turn_on(
        self: &Arc<Self>,
        cfg: &crate::config::Config,
        saver: &Arc<crate::persist::Saver>,
        begin: impl FnOnce(),
    ) -> Result<(), String> {
        if self.enabled() {
            return Ok(());
        }
        let mut files = Files::create(cfg)?;
        let mpath = files.manifest_path();
        if let Ok(text) = std::fs::read_to_string(&mpath) {
            files.manifest = Manifest::parse(&text)?;
        }
        *lock(&self.files) = Some(files);
        {
            let mut q = lock(&self.q);
            q.stop = false;
            q.entries.clear();
            self.synced.store(q.last, Ordering::SeqCst);
        }
        self.state.store(STARTING, Ordering::Release);
        if let Err(e) = self.spawn_writer(None) {
            self.state.store(OFF, Ordering::Release);
            return Err(e);
        }
        if saver.in_progress() || self.rewriting.load(Ordering::Acquire) {
            self.rewrite_scheduled.store(true, Ordering::Relaxed);
            return Ok(());
        }
        if self.start_rewrite(saver).is_ok() {
            begin();
        } else {
            self.rewrite_scheduled.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// CONFIG SET appendonly no (`stopAppendOnly`): shards stop logging,
    /// the writer writes and syncs what is queued and stops, and replies
    /// held for `always` go.
    pub fn turn_off(&self) {
        if !self.enabled() {
            return;
        }
        self.state.store(OFF, Ordering::Release);
        self.rewrite_scheduled.store(false, Ordering::Relaxed);
        self.stop();
        // Whatever a shard still holds replies for is as written as it
        // will be.
        self.mark_synced(u64::MAX);
    }

    /// The files are replayed: shards log from now on.
    pub fn loaded(&self) {
        self.state.store(ON, Ordering::Release);
    }

    /// Stops the writer once the queue is written and synced (shutdown,
    /// after the shards stopped).
    pub fn stop(&self) {
        lock(&self.q).stop = true;
        self.more.notify_all();
        if let Some(h) = lock(&self.writer).take() {
            let _ = h.join();
        }
    }

    /// The writer thread: writes what is ready, syncs by policy. No file
    /// yet when the AOF was turned on at run time: the first rewrite's
    /// instant opens one, and nothing is logged before it.
    fn write_loop(&self, mut f: Option<std::fs::File>) {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut db: Option<u16> = None;
        let mut last_sync = Instant::now();
        let mut unsynced = false;
        let mut unsynced_id = 0u64;
        loop {
            let policy = self.fsync.load(Ordering::Relaxed);
            let wait = if policy == FSYNC_EVERYSEC && unsynced {
                Duration::from_secs(1).saturating_sub(last_sync.elapsed())
            } else {
                Duration::from_secs(1)
            };
            let (entries, last, stop) = self.take(wait.max(Duration::from_millis(1)));
            for e in entries {
                match e {
                    Entry::Chunk(c) => self.give_back(emit(&mut buf, &mut db, c)),
                    Entry::Tx(t) => {
                        let body = std::mem::take(&mut *lock(&t.body));
                        if t.switch {
                            // The rewrite's instant: what came before goes
                            // to the current file, the rest to the next.
                            self.write_out(&mut f, &mut buf);
                            if let Some(f) = &f {
                                let _ = f.sync_data();
                            }
                            if let Some(nf) = self.next_incr() {
                                f = Some(nf);
                                db = None;
                            }
                        }
                        if body.cmds >= 2 {
                            let mut framed = Chunk::default();
                            framed.append_group(body);
                            emit(&mut buf, &mut db, framed);
                        } else {
                            self.give_back(emit(&mut buf, &mut db, body));
                        }
                    }
                }
            }
            if !buf.is_empty() {
                self.write_out(&mut f, &mut buf);
                unsynced = true;
            }
            if last != 0 {
                unsynced_id = last;
            }
            let policy = self.fsync.load(Ordering::Relaxed);
            let sync_now = unsynced
                && (stop
                    || policy == FSYNC_ALWAYS
                    || (policy == FSYNC_EVERYSEC && last_sync.elapsed() >= Duration::from_secs(1)));
            if sync_now {
                if let Err(e) = f.as_ref().map_or(Ok(()), |f| f.sync_data()) {
                    tracing::warn!("Error syncing the append only file: {e}");
                    self.last_write_ok.store(false, Ordering::Relaxed);
                }
                last_sync = Instant::now();
                unsynced = false;
            }
            if policy != FSYNC_ALWAYS || !unsynced {
                self.mark_synced(unsynced_id);
            }
            if stop {
                return;
            }
            if policy != FSYNC_ALWAYS && !sync_now {
                // Let a batch gather: at most a write a millisecond while
                // busy, rather than a wake per shard turn.
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    fn write_out(&self, f: &mut Option<std::fs::File>, buf: &mut Vec<u8>) {
        let Some(f) = f.as_mut().filter(|_| !buf.is_empty()) else {
            buf.clear();
            return;
        };
        match f.write_all(buf) {
            Ok(()) => {
                self.current_size
                    .fetch_add(buf.len() as u64, Ordering::Relaxed);
                self.last_write_ok.store(true, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::warn!("Error writing to the AOF file: {e}");
                self.last_write_ok.store(false, Ordering::Relaxed);
            }
        }
        buf.clear();
    }

    /// Opens the next incremental file and lists it in the manifest (a
    /// rewrite's instant). None if that failed: writing goes on in the
    /// current one, and the rewrite fails.
    fn next_incr(&self) -> Option<std::fs::File> {
        let mut g = lock(&self.files);
        let files = g.as_mut()?;
        let seq = files.manifest.incrs.last().map_or(0, |i| i.1) + 1;
        let name = files.incr_name(seq);
        // Fresh: a file of that name left by a start that never finished
        // its first base holds nothing the manifest vouches for.
        let fresh = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(files.path(&name));
        let f = match fresh {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!("Can't open the append-only file {name}: {e}");
                return None;
            }
        };
        files.manifest.incrs.push((name, seq));
        // While starting, the manifest is written once the first base is:
        // until then the old files (if any) are what it describes.
        if !self.starting() {
            if let Err(e) = files.persist() {
                tracing::warn!("Can't persist the AOF manifest: {e}");
            }
        }
        self.switched_to.store(seq, Ordering::Release);
        Some(f)
    }

    /// BGREWRITEAOF: starts a rewrite through `saver` (the new base is a
    /// fork-less snapshot); `begin` then starts the shards' parts. Replies
    /// as Redis 7.0 (`bgrewriteaofCommand`): `+Background append only
    /// file rewriting started`, `... scheduled` while a BGSAVE runs (it
    /// starts when that one ends, [`Aof::start_scheduled`]), `-ERR
    /// Background append only file rewriting already in progress`.
    pub fn bgrewrite(
        self: &Arc<Self>,
        saver: &Arc<crate::persist::Saver>,
        begin: impl FnOnce(),
    ) -> Result<&'static str, String> {
        if self.rewriting.load(Ordering::Acquire) {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        if !self.on() && !self.starting() {
            return Err("ERR tandem: BGREWRITEAOF with appendonly no is not supported yet".into());
        }
        if saver.in_progress() {
            self.rewrite_scheduled.store(true, Ordering::Relaxed);
            return Ok("Background append only file rewriting scheduled");
        }
        self.start_rewrite(saver)?;
        begin();
        Ok("Background append only file rewriting started")
    }

    /// BGREWRITEAOF inside EXEC: the rewrite starts after it, once
    /// nothing else is being saved (`+Background append only file
    /// rewriting scheduled`). Errors: as [`Aof::bgrewrite`].
    pub fn schedule_rewrite(&self) -> Result<&'static str, String> {
        if self.rewriting.load(Ordering::Acquire) {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        if !self.on() && !self.starting() {
            return Err("ERR tandem: BGREWRITEAOF with appendonly no is not supported yet".into());
        }
        self.rewrite_scheduled.store(true, Ordering::Relaxed);
        Ok("Background append only file rewriting scheduled")
    }

    /// A scheduled rewrite (or one `auto-aof-rewrite-percentage` calls
    /// for) starts if nothing else is being saved; true if it did, and
    /// then the caller starts the shards' parts.
    pub fn start_scheduled(
        self: &Arc<Self>,
        saver: &Arc<crate::persist::Saver>,
        pct: u64,
        min_size: u64,
    ) -> bool {
        if !(self.on() || self.starting())
            || self.rewriting.load(Ordering::Acquire)
            || saver.in_progress()
        {
            return false;
        }
        let base = self.base_size.load(Ordering::Relaxed).max(1);
        let size = self.current_size.load(Ordering::Relaxed);
        let grown = pct > 0 && size > min_size && (size - base.min(size)) * 100 / base >= pct;
        let scheduled = self.rewrite_scheduled.swap(false, Ordering::Relaxed);
        if !(scheduled || grown) {
            return false;
        }
        if grown && !scheduled {
            tracing::info!(
                "Starting automatic rewriting of AOF on {}% growth",
                (size - base.min(size)) * 100 / base
            );
        }
        self.start_rewrite(saver).is_ok()
    }

    fn start_rewrite(self: &Arc<Self>, saver: &Arc<crate::persist::Saver>) -> Result<(), String> {
        self.rewriting.store(true, Ordering::Release);
        self.switched_to.store(0, Ordering::Release);
        self.switch_pending.store(true, Ordering::Release);
        self.rewrite_started
            .store(crate::persist::unix_secs(), Ordering::Relaxed);
        let tmp = format!("temp-rewriteaof-bg-{}.aof", std::process::id());
        let me = self.clone();
        let started = Instant::now();
        let rdb = self.preamble.load(Ordering::Relaxed);
        self.rewrite_rdb.store(rdb, Ordering::Relaxed);
        let r = saver.start_job(crate::persist::Job::AofBase {
            tmp: tmp.clone(),
            commands: !rdb,
            done: Box::new(move |ok| me.rewrite_done(ok, &tmp, started)),
        });
        if r.is_err() {
            self.switch_pending.store(false, Ordering::Release);
            self.rewriting.store(false, Ordering::Release);
        } else {
            tracing::info!("Background append only file rewriting started");
        }
        r
    }

    /// The rewrite's base is in `tmp` (if `ok`): it becomes the next base
    /// file, and the files before the rewrite's instant history, deleted.
    fn rewrite_done(&self, ok: bool, tmp: &str, started: Instant) {
        let result = if ok {
            self.install_base(tmp)
        } else {
            Err("the snapshot failed".into())
        };
        match &result {
            Ok(()) => tracing::info!("Background AOF rewrite finished successfully"),
            Err(e) => {
                let _ = std::fs::remove_file(tmp);
                tracing::warn!("Background AOF rewrite failed: {e}");
            }
        }
        self.last_rewrite_ok
            .store(result.is_ok(), Ordering::Relaxed);
        self.last_rewrite_secs
            .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
        if result.is_ok() {
            self.rewrites.fetch_add(1, Ordering::Relaxed);
            // Turned on at run time: the first base is there, so on.
            let _ = self
                .state
                .compare_exchange(STARTING, ON, Ordering::AcqRel, Ordering::Acquire);
        } else if self.starting() {
            // Without a base there is no AOF yet: try again.
            self.rewrite_scheduled.store(true, Ordering::Relaxed);
        }
        self.switch_pending.store(false, Ordering::Release);
        self.rewriting.store(false, Ordering::Release);
    }

    fn install_base(&self, tmp: &str) -> Result<(), String> {
        // The writer places the instant as soon as it reaches it; wait
        // for it (bounded: the snapshot's transaction is long done).
        let deadline = Instant::now() + Duration::from_secs(30);
        let seq = loop {
            let s = self.switched_to.load(Ordering::Acquire);
            if s != 0 {
                break s;
            }
            if Instant::now() > deadline {
                return Err("the new incremental file was never opened".into());
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        let mut g = lock(&self.files);
        let files = g.as_mut().ok_or("the AOF is not open")?;
        let bseq = files.manifest.base.as_ref().map_or(0, |b| b.1) + 1;
        let base = files.base_name(bseq, self.rewrite_rdb.load(Ordering::Relaxed));
        std::fs::rename(tmp, files.path(&base)).map_err(|e| format!("rename: {e}"))?;
        let mut history = std::mem::take(&mut files.manifest.history);
        if let Some(b) = files.manifest.base.take() {
            history.push(b);
        }
        let (old, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut files.manifest.incrs)
            .into_iter()
            .partition(|(_, s)| *s < seq);
        history.extend(old);
        files.manifest.incrs = keep;
        files.manifest.base = Some((base.clone(), bseq));
        files.manifest.history = history;
        files.persist().map_err(|e| format!("manifest: {e}"))?;
        let base_size = std::fs::metadata(files.path(&base)).map_or(0, |m| m.len());
        let incr_size: u64 = files
            .manifest
            .incrs
            .iter()
            .map(|(n, _)| std::fs::metadata(files.path(n)).map_or(0, |m| m.len()))
            .sum();
        for (n, _) in std::mem::take(&mut files.manifest.history) {
            let _ = std::fs::remove_file(files.path(&n));
        }
        files.persist().map_err(|e| format!("manifest: {e}"))?;
        self.base_size.store(base_size, Ordering::Relaxed);
        self.current_size
            .store(base_size + incr_size, Ordering::Relaxed);
        Ok(())
    }

    /// What INFO `persistence` shows.
    pub fn info(&self) -> AofInfo {
        let rewriting = self.rewriting.load(Ordering::Acquire);
        AofInfo {
            enabled: self.enabled(),
            rewrite_in_progress: rewriting,
            rewrite_scheduled: self.rewrite_scheduled.load(Ordering::Relaxed),
            last_rewrite_secs: self.last_rewrite_secs.load(Ordering::Relaxed),
            current_rewrite_secs: if rewriting {
                crate::persist::unix_secs()
                    .saturating_sub(self.rewrite_started.load(Ordering::Relaxed))
                    as i64
            } else {
                -1
            },
            last_rewrite_ok: self.last_rewrite_ok.load(Ordering::Relaxed),
            rewrites: self.rewrites.load(Ordering::Relaxed),
            last_write_ok: self.last_write_ok.load(Ordering::Relaxed),
            current_size: self.current_size.load(Ordering::Relaxed),
            base_size: self.base_size.load(Ordering::Relaxed),
        }
    }
}

/// Writes `c` after a SELECT if the file's database differs; returns its
/// buffer.
fn emit(buf: &mut Vec<u8>, db: &mut Option<u16>, c: Chunk) -> Vec<u8> {
    if c.cmds == 0 {
        return c.bytes;
    }
    if *db != Some(c.first_db) {
        select(buf, c.first_db);
    }
    buf.extend_from_slice(&c.bytes);
    *db = Some(c.last_db);
    c.bytes
}

fn open_append(p: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What start-up loads from the AOF: the base file's keys by shard and
/// the incremental files' commands, to replay through a connection.
#[derive(Default)]
pub struct Loaded {
    /// The base file's keys and functions.
    pub base: Option<crate::persist::LoadedFile>,
    /// RESP commands, whole (a truncated tail was cut off).
    pub commands: Vec<u8>,
    /// How many commands `commands` holds (one reply each).
    pub count: usize,
}

/// Reads the manifest's base and incremental files (`loadAppendOnlyFiles`).
fn load_files(files: &Files, cfg: &crate::config::Config) -> Result<Loaded, String> {
    let mut out = Loaded::default();
    let nshards = if cfg.colocated { 1 } else { cfg.shards };
    let names: Vec<(String, bool)> = files
        .manifest
        .base
        .iter()
        .map(|b| (b.0.clone(), true))
        .chain(files.manifest.incrs.iter().map(|i| (i.0.clone(), false)))
        .collect();
    let last = names.len().saturating_sub(1);
    for (i, (name, is_base)) in names.iter().enumerate() {
        let path = files.path(name);
        let bytes = std::fs::read(&path)
            .map_err(|e| format!("The AOF file {name} doesn't exist or can't be read: {e}"))?;
        if bytes.starts_with(b"REDIS") {
            // An RDB base: expired keys kept, as for an AOF preamble
            // (replay may still touch them; the clock is stopped).
            let base = crate::persist::parse_file(&bytes, nshards, cfg.databases, &cfg.enc, 0)
                .map_err(|e| format!("The AOF base file {name} cannot be loaded: {e}"))?;
            out.base = Some(base);
            continue;
        }
        let scan = scan_commands(&bytes);
        if let Some(bad) = scan.bad {
            return Err(format!(
                "Bad file format reading the append only file {name} at offset {bad}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
            ));
        }
        if scan.ok_up_to < bytes.len() {
            if i != last || *is_base {
                return Err(format!(
                    "Unexpected end of file reading the append only file {name}. (It is not the last file, so it cannot be truncated.)"
                ));
            }
            if !cfg.aof_load_truncated {
                return Err(format!(
                    "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
                ));
            }
            tracing::warn!(
                "!!! Warning: short read while loading the AOF file {name}!!! Truncating the AOF {name} at offset {}",
                scan.ok_up_to
            );
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| format!("Can't truncate {name}: {e}"))?;
            f.set_len(scan.ok_up_to as u64)
                .and_then(|_| f.sync_all())
                .map_err(|e| format!("Can't truncate {name}: {e}"))?;
            tracing::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
        }
        out.commands.extend_from_slice(&bytes[..scan.ok_up_to]);
        out.count += scan.commands;
    }
    Ok(out)
}

/// How far a file of commands is whole.
#[derive(Debug, PartialEq)]
pub struct Scan {
    /// Bytes of whole commands (a MULTI without its EXEC at the end is
    /// not whole: replay rolls back to before it, as Redis does).
    pub ok_up_to: usize,
    /// Commands in those bytes (annotation lines not counted).
    pub commands: usize,
    /// Offset of a line that is neither a command nor an annotation.
    pub bad: Option<usize>,
}

/// Scans RESP commands (`*<n>` arrays of `$<len>` bulk strings) and `#`
/// annotation lines, as `loadSingleAppendOnlyFile` reads them. Bounded
/// by the input: every length is checked against what is left.
pub fn scan_commands(b: &[u8]) -> Scan {
    let mut at = 0;
    let (mut whole, mut commands) = (0, 0);
    let mut multi: Option<(usize, usize)> = None;
    let number = |t: &[u8]| std::str::from_utf8(t).ok()?.parse::<usize>().ok();
    let bad = |at: usize, whole: usize, commands: usize| Scan {
        ok_up_to: whole,
        commands,
        bad: Some(at),
    };
    let line = |at: usize| -> Option<(&[u8], usize)> {
        let end = memchr::memmem::find(b.get(at..)?, b"\r\n")? + at;
        Some((&b[at..end], end + 2))
    };
    loop {
        if at >= b.len() {
            break;
        }
        if b[at] == b'#' {
            match memchr::memchr(b'\n', &b[at..]) {
                Some(n) => {
                    at += n + 1;
                    if multi.is_none() {
                        whole = at;
                    }
                    continue;
                }
                None => break,
            }
        }
        if b[at] != b'*' {
            return bad(at, whole, commands);
        }
        let start = at;
        let Some((head, next)) = line(at + 1) else {
            break;
        };
        let Some(n) = number(head) else {
            return bad(at, whole, commands);
        };
        at = next;
        let mut name: &[u8] = b"";
        let mut complete = true;
        for i in 0..n {
            if at >= b.len() {
                complete = false;
                break;
            }
            if b[at] != b'$' {
                return bad(at, whole, commands);
            }
            let Some((len, next)) = line(at + 1) else {
                complete = false;
                break;
            };
            let Some(len) = number(len) else {
                return bad(at, whole, commands);
            };
            let end = next.saturating_add(len);
            if end.saturating_add(2) > b.len() {
                complete = false;
                break;
            }
            if i == 0 {
                name = &b[next..end];
            }
            at = end + 2;
        }
        if !complete {
            break;
        }
        commands += 1;
        if name.eq_ignore_ascii_case(b"multi") {
            multi = Some((start, commands - 1));
        } else if name.eq_ignore_ascii_case(b"exec") {
            multi = None;
        }
        if multi.is_none() {
            whole = at;
        }
    }
    if let Some((start, before)) = multi {
        return Scan {
            ok_up_to: whole.min(start),
            commands: before,
            bad: None,
        };
    }
    Scan {
        ok_up_to: whole,
        commands,
        bad: None,
    }
}

/// Replays `commands` (`count` of them) through connection `fd` (one end
/// of a socket pair an IO thread adopted), reading one reply each.
/// Errors: an unknown command (Redis stops loading there too), or the
/// connection failed. Other error replies are ignored, as Redis's loader
/// ignores them.
pub fn replay(fd: std::os::fd::OwnedFd, commands: Vec<u8>, count: usize) -> Result<(), String> {
    use std::io::Read;
    let mut sock = std::os::unix::net::UnixStream::from(fd);
    let mut w = sock.try_clone().map_err(|e| format!("AOF replay: {e}"))?;
    let feeder = std::thread::Builder::new()
        .name("tandem-aof-load".into())
        .spawn(move || w.write_all(&commands))
        .map_err(|e| format!("AOF replay: {e}"))?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut chunk = vec![0u8; 1 << 16];
    let mut seen = 0usize;
    let mut unknown: Option<String> = None;
    while seen < count {
        let n = sock
            .read(&mut chunk)
            .map_err(|e| format!("AOF replay: {e}"))?;
        if n == 0 {
            return Err("AOF replay: the server closed the loading connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut at = 0;
        while seen < count {
            let Some(len) = crate::resp::parse::value_len(&buf[at..]) else {
                break;
            };
            let r = &buf[at..at + len];
            // An unknown command stops loading, as in Redis; so does one
            // tandem knows but refuses (rather than dropping its data).
            if unknown.is_none()
                && (r.starts_with(b"-ERR unknown command") || r.starts_with(b"-ERR tandem:"))
            {
                unknown = Some(String::from_utf8_lossy(r.trim_ascii_end()).into_owned());
            }
            at += len;
            seen += 1;
        }
        buf.drain(..at);
    }
    let _ = feeder.join();
    match unknown {
        Some(e) => Err(format!(
            "Unknown or unsupported command reading the append only file: {}",
            e.trim_start_matches('-')
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_written_as_resp_arrays() {
        // Every header width: 1, 2 and 3+ digits, for counts and lengths.
        for count in [1usize, 9, 10, 99, 100, 150] {
            for len in [0usize, 1, 9, 10, 99, 100, 12_345] {
                let args: Vec<Vec<u8>> = (0..count)
                    .map(|i| vec![b'a' + (i % 26) as u8; len])
                    .collect();
                let mut want = format!("*{count}\r\n").into_bytes();
                for a in &args {
                    want.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                    want.extend_from_slice(a);
                    want.extend_from_slice(b"\r\n");
                }
                let mut out = b"prefix".to_vec();
                write_command(&mut out, &args);
                assert_eq!(&out[..6], b"prefix");
                assert_eq!(out[6..], want[..], "{count} args of {len} bytes");
            }
        }
    }

    #[test]
    fn manifest_round_trip() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.base, Some(("appendonly.aof.2.base.rdb".into(), 2)));
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.render(), text);
        assert!(Manifest::parse("").is_err());
        assert!(Manifest::parse("file a seq 0 type b\n").is_err());
        assert!(Manifest::parse("file a/b seq 1 type b\n").is_err());
        assert!(Manifest::parse("file a seq 2 type i\nfile b seq 1 type i\n").is_err());
        let q = Manifest::parse("file \"a b\" seq 1 type i\n").unwrap();
        assert_eq!(q.incrs[0].0, "a b");
        assert_eq!(Manifest::parse(&q.render()).unwrap(), q);
    }

    #[test]
    fn scan_finds_the_whole_prefix() {
        let set = b"*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n";
        let mut f = set.to_vec();
        f.extend_from_slice(b"#TS:123\r\n");
        f.extend_from_slice(set);
        let s = scan_commands(&f);
        assert_eq!(
            s,
            Scan {
                ok_up_to: f.len(),
                commands: 2,
                bad: None
            }
        );
        let mut t = f.clone();
        t.extend_from_slice(b"*3\r\n$3\r\nset\r\n$1\r\nd");
        assert_eq!(scan_commands(&t).ok_up_to, f.len());
        let mut m = f.clone();
        m.extend_from_slice(b"*1\r\n$5\r\nMULTI\r\n");
        m.extend_from_slice(set);
        let s = scan_commands(&m);
        assert_eq!((s.ok_up_to, s.commands), (f.len(), 2));
        m.extend_from_slice(b"*1\r\n$4\r\nEXEC\r\n");
        assert_eq!(scan_commands(&m).ok_up_to, m.len());
        assert_eq!(scan_commands(&m).commands, 5);
        assert!(scan_commands(b"+OK\r\n").bad.is_some());
        // A huge length is a truncation, never an allocation.
        let big = b"*1\r\n$99999999999999\r\nx";
        assert_eq!(scan_commands(big).ok_up_to, 0);
    }

    #[test]
    fn groups_are_framed() {
        let mut c = Chunk::default();
        c.push(0, &[&b"SET"[..], b"a", b"1"]);
        let mut g = Chunk::default();
        g.push(1, &[&b"SET"[..], b"b", b"1"]);
        g.push(1, &[&b"DEL"[..], b"c"]);
        c.append_group(g);
        let text = String::from_utf8(c.bytes.clone()).unwrap();
        assert!(text.contains("SELECT\r\n$1\r\n1\r\n*1\r\n$5\r\nMULTI"));
        assert!(text.ends_with("*1\r\n$4\r\nEXEC\r\n"));
        assert_eq!((c.first_db, c.last_db), (0, 1));
    }
}
