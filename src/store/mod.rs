//! Data only: the keyspace of one shard, its values and their expiry.
//!
//! Owned and touched by exactly one shard engine thread; no locks, no
//! protocol, no commands. Keys are hashed with [`crate::spec::key_hash`]
//! (computed once in the IO stage and passed along).
//!
//! # Layout
//!
//! A database is split into 2^k segments, each its own `hashbrown`
//! table, chosen by hash bits 40.. (hashbrown itself uses the low bits for
//! buckets and the top 7 for its control tags, so these do not collide with
//! either). When the average segment grows past [`SEG_TARGET`] entries
//! the segment count doubles and every segment splits in two by the next hash
//! bit. That shape gives SCAN Redis's guarantee: a cursor walks segment
//! indices in reverse-binary order (Redis's `dictScan`), so every key present
//! for a whole iteration is returned at least once even when segments double
//! in between calls. Segments also bound the work of active expiry and are the
//! unit the fork-less snapshot serializes.
//!
//! # Snapshots (BGSAVE)
//!
//! Every entry carries a one-bit mark. While no snapshot runs, every entry's
//! mark equals its database's. [`Db::snapshot_begin`] flips the database's
//! mark, which makes every entry *unwritten*, and every segment undone.
//! From then on, before anything changes an entry of an undone segment
//! (every lookup that hands out an entry, every overwrite and removal), the
//! entry is first serialized as it was when the snapshot began and its mark
//! set; entries created meanwhile get the new mark, so the snapshot leaves
//! them out. [`Db::snapshot_step`] writes the rest in the background, whole
//! segments at a time (also before active expiry sweeps one). So the output
//! is the database at the instant the snapshot began, without a fork and
//! without copying what no write touches, and a write costs at most one
//! entry's serialization (Dragonfly's versioned-bucket snapshot,
//! `src/server/snapshot.cc`, with a mark per entry instead of a version per
//! bucket). Segments do not split while a snapshot runs, so their indices
//! stay put.

pub mod dense;
pub mod hash;
pub mod hll;
pub mod list;
pub mod listpack;
pub mod pack;
pub mod set;
pub mod stream;
pub mod zset;

use bytes::Bytes;
use hashbrown::HashTable;

use crate::spec::{HASH_SPARE_BITS, HASH_SPARE_SHIFT};

pub use hash::Hash;
use hashbrown::hash_table::Entry as TableEntry;
pub use list::{End, List};
pub use set::Set;
pub use stream::Stream;
pub use zset::ZSet;

/// Average entries per segment above which the segment count doubles.
pub const SEG_TARGET: usize = 256;
/// Most segments a database splits into.
pub const MAX_SEG_BITS: u32 = 16;
const SEG_SHIFT: u32 = 40;

/// Redis's `OBJ_SHARED_INTEGERS`: integers below it (and not negative)
/// are shared objects.
pub const SHARED_INTEGERS: i64 = 10000;
/// OBJECT REFCOUNT of a shared object (Redis's `OBJ_SHARED_REFCOUNT`).
pub const SHARED_REFCOUNT: i64 = i32::MAX as i64;

/// Longest byte string kept inline in a [`Str`].
pub const INLINE_MAX: usize = 22;

/// A byte string as the keyspace stores it (keys and string values), in 24
/// bytes: short ones (up to [`INLINE_MAX`] bytes, most keys and small
/// values) inline, so a lookup compares keys without another cache miss and
/// a small SET allocates nothing; longer ones in their own allocation.
/// Keeping it this small makes an [`Entry`] exactly one cache line.
#[derive(Clone)]
pub enum Str {
    Inline(u8, [u8; INLINE_MAX]),
    Heap(Box<[u8]>),
    /// A copy (COPY) of a shared small integer: Redis duplicates an
    /// int-encoded object into a private one, still "int" but no longer
    /// shared (OBJECT REFCOUNT 1 instead of [`SHARED_REFCOUNT`]). The
    /// decimal text, inline.
    UnsharedInt(u8, [u8; INLINE_MAX]),
    /// A string value Redis keeps in its "raw" encoding however short:
    /// the result of APPEND to an existing key or of SETRANGE, which
    /// modify a private copy in place (OBJECT ENCODING tells).
    Raw(Box<[u8]>),
}

impl Str {
    /// Heap bytes behind the string (0 when inline).
    pub fn heap_size(&self) -> usize {
        match self {
            Str::Heap(b) | Str::Raw(b) => b.len(),
            Str::Inline(..) | Str::UnsharedInt(..) => 0,
        }
    }

    /// Copies `s` (inline when short).
    #[inline]
    pub fn copy_from(s: &[u8]) -> Str {
        if s.len() <= INLINE_MAX {
            let mut buf = [0u8; INLINE_MAX];
            buf[..s.len()].copy_from_slice(s);
            Str::Inline(s.len() as u8, buf)
        } else {
            Str::Heap(s.into())
        }
    }

    /// A string value in Redis's "raw" encoding (see [`Str::Raw`]).
    pub fn raw(v: Vec<u8>) -> Str {
        Str::Raw(v.into_boxed_slice())
    }

    /// A `Bytes` with the same contents (a copy).
    pub fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl std::ops::Deref for Str {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Str::Inline(n, buf) | Str::UnsharedInt(n, buf) => &buf[..*n as usize],
            Str::Heap(b) | Str::Raw(b) => b,
        }
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl PartialEq for Str {
    fn eq(&self, o: &Str) -> bool {
        **self == **o
    }
}

impl Eq for Str {}

impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

impl PartialEq<[u8]> for Str {
    #[inline]
    fn eq(&self, o: &[u8]) -> bool {
        **self == *o
    }
}

impl std::fmt::Debug for Str {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

impl From<Bytes> for Str {
    fn from(b: Bytes) -> Str {
        Str::copy_from(&b)
    }
}

impl From<Vec<u8>> for Str {
    fn from(v: Vec<u8>) -> Str {
        if v.len() <= INLINE_MAX {
            Str::copy_from(&v)
        } else {
            Str::Heap(v.into_boxed_slice())
        }
    }
}

impl From<&[u8]> for Str {
    fn from(s: &[u8]) -> Str {
        Str::copy_from(s)
    }
}

/// A stored value. Collections are boxed so a value stays 24 bytes and an
/// [`Entry`] one cache line.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string (Redis "raw"/"embstr" encodings).
    Str(Str),
    /// A string that is the decimal form of an `i64` (Redis "int" encoding),
    /// kept as a number so INCR does not reparse and reallocate.
    Int(i64),
    List(Box<List>),
    Hash(Box<Hash>),
    Set(Box<Set>),
    ZSet(Box<ZSet>),
    Stream(Box<Stream>),
}

impl Value {
    /// The Redis type name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) | Value::Int(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The Redis encoding name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(Str::Raw(_)) => "raw",
            Value::Str(Str::UnsharedInt(..)) => "int",
            Value::Str(b) if b.len() <= 44 => "embstr",
            Value::Str(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// A value from a client-sent string: integer-looking strings that
    /// round-trip exactly are stored as `Int`, like Redis's shared integers.
    pub fn from_bytes(s: &[u8]) -> Value {
        if s.len() <= 20 {
            if let Some(n) = crate::resp::parse::parse_i64(s) {
                return Value::Int(n);
            }
        }
        Value::Str(Str::copy_from(s))
    }

    /// OBJECT REFCOUNT as Redis reports it: integers 0..9999 are shared
    /// objects ([`SHARED_REFCOUNT`]) wherever they were stored from (SET,
    /// INCR, ...), except a COPY of one; everything else has one owner.
    pub fn refcount(&self) -> i64 {
        match self {
            Value::Int(n) if (0..SHARED_INTEGERS).contains(n) => SHARED_REFCOUNT,
            _ => 1,
        }
    }

    /// The value COPY stores: a shared small integer becomes a private
    /// int-encoded string, as Redis's `dupStringObject`.
    pub fn duplicate(&self) -> Value {
        match self {
            Value::Int(n) if (0..SHARED_INTEGERS).contains(n) => {
                let text = itoa::Buffer::new().format(*n).as_bytes().to_vec();
                let mut buf = [0u8; INLINE_MAX];
                buf[..text.len()].copy_from_slice(&text);
                Value::Str(Str::UnsharedInt(text.len() as u8, buf))
            }
            v => v.clone(),
        }
    }

    /// Approximate heap bytes used by the value, for INFO memory.
    pub fn heap_size(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_size(),
            Value::Int(_) => 0,
            Value::List(l) => l.heap_size(),
            Value::Hash(h) => h.heap_size(),
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(s) => s.heap_size(),
        }
    }
}

/// The access clock entries carry (Redis's `LRU_CLOCK`): Unix seconds
/// modulo 2^24, so it wraps every 194 days, as Redis's does.
pub const LRU_CLOCK_MAX: u64 = (1 << 24) - 1;

/// The access clock at `now_ms`.
#[inline]
pub fn lru_clock(now_ms: u64) -> u64 {
    (now_ms / 1000) & LRU_CLOCK_MAX
}

/// How the access bits of every entry are kept: Redis's 24-bit `lru`
/// field, an access clock under LRU and the other policies, a
/// frequency counter under an LFU `maxmemory-policy` (`evict.c`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Access {
    /// The access clock of the last touch ([`lru_clock`]).
    #[default]
    Lru,
    /// 16 bits of the last decrement time in minutes, then an 8-bit
    /// logarithmic access counter: `lfu-log-factor` sets how slowly the
    /// counter grows, `lfu-decay-time` after how many minutes without an
    /// access it drops by one (0: never).
    Lfu { log_factor: u32, decay_time: u32 },
}

/// A new key's LFU counter (Redis's `LFU_INIT_VAL`), so it survives a
/// few rounds before its first reads.
pub const LFU_INIT_VAL: u64 = 5;

/// Minutes of Unix time modulo 2^16, the LFU decrement clock (Redis's
/// `LFUGetTimeInMinutes`).
#[inline]
pub fn lfu_minutes(now_ms: u64) -> u64 {
    (now_ms / 60_000) & 0xFFFF
}

/// The LFU counter in access bits `bits` at `minutes`, after the decay
/// the time since its last decrement owes (Redis's `LFUDecrAndReturn`).
pub fn lfu_decayed(bits: u64, minutes: u64, decay_time: u32) -> u64 {
    let (ldt, counter) = (bits >> 8, bits & 255);
    let elapsed = if minutes >= ldt {
        minutes - ldt
    } else {
        65535 - ldt + minutes
    };
    let periods = elapsed.checked_div(decay_time as u64).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// One logarithmic increment of an LFU counter (Redis's `LFULogIncr`):
/// the higher the counter, the less likely an access moves it; 255
/// saturates.
fn lfu_incr(counter: u64, log_factor: u32) -> u64 {
    if counter >= 255 {
        return 255;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if fastrand::f64() < p {
        counter + 1
    } else {
        counter
    }
}

/// One key with its value and expiry deadline: 64 bytes, one cache line,
/// so a lookup that finds its key costs one miss for the control bytes and
/// one for the entry. The access bits (an LRU clock or an LFU counter,
/// [`Access`]: OBJECT IDLETIME / FREQ, eviction) live in the hash word's
/// spare bits
/// ([`crate::spec::HASH_SPARE_BITS`]) so the entry stays one line.
#[derive(Debug)]
#[repr(align(64))]
pub struct Entry {
    pub key: Str,
    /// The key's hash with the access clock in its spare bits: read it
    /// through [`Entry::hash`] and [`Entry::lru`].
    hash_lru: u64,
    pub value: Value,
    /// Unix time in ms at which the key expires (0 = no expiry) below
    /// [`SNAPSHOT_MARK`], the snapshot mark in the top bit (read them
    /// through [`Entry::expire_at`] and [`Entry::mark`]). Changed only
    /// through [`Db`] so TTL counts stay right.
    expire_word: u64,
}

/// The top bit of [`Entry`]'s expiry word: its snapshot mark (see the
/// module docs). Deadlines are below 2^63 ms (clients send them as
/// positive 64-bit integers).
const SNAPSHOT_MARK: u64 = 1 << 63;

impl Entry {
    /// Bytes the key takes in the keyspace (MEMORY USAGE): its entry, the
    /// heap bytes of its name and of its value (collections' estimates).
    pub fn memory_usage(&self) -> usize {
        std::mem::size_of::<Entry>() + self.key.heap_size() + self.value.heap_size()
    }

    fn new(key: Str, hash: u64, value: Value, expire_at: u64, clock: u64, mark: bool) -> Entry {
        let mut e = Entry {
            key,
            hash_lru: hash,
            value,
            expire_word: (expire_at & !SNAPSHOT_MARK) | if mark { SNAPSHOT_MARK } else { 0 },
        };
        e.touch(clock);
        e
    }

    /// The snapshot mark.
    #[inline]
    fn mark(&self) -> bool {
        self.expire_word & SNAPSHOT_MARK != 0
    }

    #[inline]
    fn set_mark(&mut self, mark: bool) {
        self.expire_word = self.expire_at() | if mark { SNAPSHOT_MARK } else { 0 };
    }

    /// Sets the deadline (Unix ms, 0 = none), keeping the mark.
    #[inline]
    fn set_expire_at(&mut self, at: u64) {
        self.expire_word = (self.expire_word & SNAPSHOT_MARK) | (at & !SNAPSHOT_MARK);
    }

    /// The key's hash ([`crate::spec::key_hash`]).
    #[inline]
    pub fn hash(&self) -> u64 {
        self.hash_lru & !HASH_SPARE_BITS
    }

    /// The access clock of the last touch ([`lru_clock`]).
    #[inline]
    pub fn lru(&self) -> u64 {
        (self.hash_lru & HASH_SPARE_BITS) >> HASH_SPARE_SHIFT
    }

    /// Seconds since the last touch, allowing for one wrap of the clock
    /// (Redis's `estimateObjectIdleTime`).
    pub fn idle_secs(&self, now_ms: u64) -> u64 {
        let (now, then) = (lru_clock(now_ms), self.lru());
        if now >= then {
            now - then
        } else {
            now + (LRU_CLOCK_MAX - then)
        }
    }

    /// Backdates the last access by `idle` seconds (RESTORE ... IDLETIME),
    /// as Redis's `objectSetLRUOrLFU`: an idle time reaching past the
    /// clock's start lands half a wrap ahead instead (Redis's own quirk).
    pub fn set_idle(&mut self, idle: u64, now_ms: u64) {
        let clock = lru_clock(now_ms);
        let at = match clock.checked_sub(idle) {
            Some(at) => at,
            None => (clock + LRU_CLOCK_MAX / 2) % LRU_CLOCK_MAX,
        };
        self.touch(at);
    }

    /// Sets the access bits (an access clock, or LFU bits: [`Access`]).
    #[inline]
    fn touch(&mut self, clock: u64) {
        self.hash_lru = self.hash() | ((clock & LRU_CLOCK_MAX) << HASH_SPARE_SHIFT);
    }

    /// Records an access under `access` at `clock` ([`Db::clock`]): the
    /// new access clock, or one LFU increment after decay (Redis's
    /// `updateLFU`).
    #[inline]
    fn accessed(&mut self, access: Access, clock: u64) {
        match access {
            Access::Lru => self.touch(clock),
            Access::Lfu {
                log_factor,
                decay_time,
            } => {
                let counter = lfu_decayed(self.lru(), clock, decay_time);
                self.touch((clock << 8) | lfu_incr(counter, log_factor));
            }
        }
    }

    /// The LFU counter now, after decay (OBJECT FREQ; meaningful under an
    /// LFU policy, whose bits the entry then holds).
    pub fn lfu_freq(&self, now_ms: u64, decay_time: u32) -> u64 {
        lfu_decayed(self.lru(), lfu_minutes(now_ms), decay_time)
    }

    /// Sets the LFU counter to `freq` as of now (RESTORE ... FREQ).
    pub fn set_freq(&mut self, freq: u8, now_ms: u64) {
        self.touch((lfu_minutes(now_ms) << 8) | freq as u64);
    }

    /// Deadline in Unix ms, 0 if the key is persistent.
    #[inline]
    pub fn expire_at(&self) -> u64 {
        self.expire_word & !SNAPSHOT_MARK
    }

    #[inline]
    fn expired(&self, now_ms: u64) -> bool {
        let at = self.expire_at();
        at != 0 && at <= now_ms
    }
}

#[derive(Default)]
struct Segment {
    table: HashTable<Entry>,
    /// Entries in this segment with a deadline.
    ttl: u32,
}

/// Key lookups of read commands, for INFO's `keyspace_hits` and
/// `keyspace_misses`, keys reclaimed by expiry (`expired_keys`) and
/// keys evicted over `maxmemory` (`evicted_keys`).
#[derive(Debug, Default, Clone, Copy)]
pub struct DbStats {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
    pub evicted: u64,
}

/// Writes one entry into a snapshot's output (the shard engine passes
/// `cmd::dump`'s RDB writer, so the store knows no file format).
pub type SnapshotWrite = fn(&mut Vec<u8>, &Entry);

/// A snapshot of one database in progress (see the module docs).
struct Snapshot {
    /// The database index the output is for: it travels with the data
    /// through SWAPDB.
    index: usize,
    write: SnapshotWrite,
    /// Per segment: already serialized.
    done: Vec<bool>,
    /// Segments not yet serialized; 0 once the snapshot is complete (then
    /// `done` is no longer read, and segments may split again).
    left: usize,
    /// Where the background pass looks next.
    next: usize,
    /// Entries expired at this Unix time in ms are left out, as Redis
    /// leaves out keys expired when it saves.
    at_ms: u64,
    /// Serialized entries not yet taken ([`Db::snapshot_take`]).
    out: Vec<u8>,
}

impl Snapshot {
    /// Writes entry `e` of segment `s` if it is still unwritten (its mark
    /// differs from `mark`, the database's), and marks it written.
    #[inline]
    fn before_change(&mut self, s: usize, e: &mut Entry, mark: bool) {
        if self.left != 0 && e.mark() != mark && !self.done[s] {
            self.write(e);
            e.set_mark(mark);
        }
    }

    #[cold]
    fn write(&mut self, e: &Entry) {
        if !e.expired(self.at_ms) {
            (self.write)(&mut self.out, e);
        }
    }

    /// Writes every unwritten entry of segment `seg` (index `s`) and marks
    /// the segment done.
    fn write_segment(&mut self, s: usize, seg: &mut Segment, mark: bool) {
        if self.left == 0 || self.done[s] {
            return;
        }
        for e in seg.table.iter_mut() {
            if e.mark() != mark {
                self.write(e);
                e.set_mark(mark);
            }
        }
        self.done[s] = true;
        self.left -= 1;
    }
}

/// Before entry `e` of segment `s` changes: a running snapshot writes it
/// first if it is still unwritten ([`Snapshot::before_change`]).
#[inline]
fn before_change(snap: &mut Option<Box<Snapshot>>, s: usize, e: &mut Entry, mark: bool) {
    if let Some(sn) = snap.as_deref_mut() {
        sn.before_change(s, e, mark);
    }
}

/// One database (SELECT index) of one shard.
pub struct Db {
    segs: Vec<Segment>,
    /// A snapshot in progress, if any.
    snap: Option<Box<Snapshot>>,
    /// The mark of written (or new) entries; see the module docs.
    mark: bool,
    bits: u32,
    len: usize,
    ttl_len: usize,
    /// Segment index where the next active-expiry step starts.
    sweep: usize,
    /// Set while a read command runs (Redis counts hits and misses in
    /// `lookupKeyRead`, not in writes' lookups).
    pub count_reads: bool,
    pub stats: DbStats,
    /// Keep the keys expiry reclaims in `expired_keys`: the AOF logs each
    /// as a DEL, as Redis propagates expiries, so a replay (which expires
    /// nothing) sees the key go where it went.
    pub log_expired: bool,
    pub expired_keys: Vec<Box<[u8]>>,
    /// The last `now_ms` seen and its access clock, so a lookup does not
    /// divide (the clock changes once a second).
    clock_ms: u64,
    clock: u64,
    /// How entries' access bits are kept (the shard sets it from
    /// `maxmemory-policy`).
    access: Access,
    /// Set while a command of a CLIENT NO-TOUCH client runs: lookups
    /// leave the access bits alone.
    pub no_touch: bool,
}

/// Counts the keys queued in any database's `expired_keys`, across every
/// shard, so the shard can skip its walk over 16 databases before each
/// logged command when nothing expired since its last look
/// ([`expired_epoch`]). Global rather than per shard so it stays right
/// whichever thread touches a database; it moves only when a key expires.
static EXPIRED_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The number of expired keys queued so far (see [`Db::expired_keys`]):
/// unchanged since a shard's last look means none of its databases has
/// queued one since.
#[inline]
pub fn expired_epoch() -> u64 {
    EXPIRED_EPOCH.load(std::sync::atomic::Ordering::Relaxed)
}

fn queue_expired(keys: &mut Vec<Box<[u8]>>, key: &[u8]) {
    keys.push(Box::from(key));
    EXPIRED_EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The hash a table rehashes an entry by.
#[inline]
fn table_hash(e: &Entry) -> u64 {
    e.hash()
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl Db {
    pub fn new() -> Db {
        Db {
            segs: vec![Segment::default()],
            snap: None,
            mark: false,
            bits: 0,
            len: 0,
            ttl_len: 0,
            sweep: 0,
            count_reads: false,
            stats: DbStats::default(),
            log_expired: false,
            expired_keys: Vec::new(),
            clock_ms: 0,
            clock: 0,
            access: Access::Lru,
            no_touch: false,
        }
    }

    /// Switches how access bits are kept. Entries keep their bits, which
    /// the new mode reads as best it can (Redis's warning: "when
    /// switching between policies at runtime LRU and LFU data will take
    /// some time to adjust").
    pub fn set_access(&mut self, access: Access) {
        self.access = access;
        self.clock_ms = u64::MAX;
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// The clock access bits are written with at `now_ms`, cached: the
    /// access clock ([`lru_clock`]) or, under LFU, [`lfu_minutes`].
    #[inline]
    fn clock(&mut self, now_ms: u64) -> u64 {
        if now_ms != self.clock_ms {
            self.clock_ms = now_ms;
            self.clock = match self.access {
                Access::Lru => lru_clock(now_ms),
                Access::Lfu { .. } => lfu_minutes(now_ms),
            };
        }
        self.clock
    }

    /// The access bits of a new entry at `clock`: the clock itself, or
    /// under LFU a fresh counter ([`LFU_INIT_VAL`]).
    #[inline]
    fn fresh(&self, clock: u64) -> u64 {
        match self.access {
            Access::Lru => clock,
            Access::Lfu { .. } => (clock << 8) | LFU_INIT_VAL,
        }
    }

    /// Number of keys, including expired keys not yet reclaimed.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of keys with a deadline.
    /// Bytes of the hash table itself (its slots, one entry each, and
    /// its control bytes), not counting what entries point to: MEMORY
    /// STATS' `overhead.hashtable.main`.
    pub fn table_bytes(&self) -> usize {
        self.segs
            .iter()
            .map(|s| {
                let slots = s.table.capacity();
                slots * std::mem::size_of::<Entry>() + slots + 16
            })
            .sum()
    }

    pub fn expires_len(&self) -> usize {
        self.ttl_len
    }

    #[inline]
    fn seg_of(&self, hash: u64) -> usize {
        ((hash >> SEG_SHIFT) as usize) & (self.segs.len() - 1)
    }

    /// The live entry for `key`, reclaiming it first if it has expired.
    /// Touches it (its access clock) and, during a read command, counts
    /// the hit or miss.
    pub fn get_mut(&mut self, hash: u64, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        self.lookup(hash, key, now_ms, true)
    }

    /// The live entry for `key`, reclaiming it first if it has expired,
    /// counting the hit or miss of a read command, but leaving its access
    /// clock alone: Redis's `LOOKUP_NOTOUCH` (EXISTS, TYPE, TTL, OBJECT).
    pub fn get_notouch(&mut self, hash: u64, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.lookup(hash, key, now_ms, false).map(|e| &*e)
    }

    #[inline]
    fn lookup(&mut self, hash: u64, key: &[u8], now_ms: u64, touch: bool) -> Option<&mut Entry> {
        let clock = self.clock(now_ms);
        let (access, no_touch) = (self.access, self.no_touch);
        let s = self.seg_of(hash);
        let seg = &mut self.segs[s];
        let found = match seg.table.find_entry(hash, |e| e.key == *key) {
            Ok(mut occ) if occ.get().expired(now_ms) => {
                before_change(&mut self.snap, s, occ.get_mut(), self.mark);
                let (e, _) = occ.remove();
                seg.ttl -= 1;
                self.ttl_len -= 1;
                self.len -= 1;
                self.stats.expired += 1;
                if self.log_expired {
                    queue_expired(&mut self.expired_keys, &e.key);
                }
                drop(e);
                None
            }
            Ok(occ) => {
                let e = occ.into_mut();
                before_change(&mut self.snap, s, e, self.mark);
                if touch && !no_touch {
                    e.accessed(access, clock);
                }
                Some(e)
            }
            Err(_) => None,
        };
        if self.count_reads {
            if found.is_some() {
                self.stats.hits += 1;
            } else {
                self.stats.misses += 1;
            }
        }
        found
    }

    /// The live entry for `key` without touching, reclaiming or counting
    /// anything (WATCH bookkeeping; commands use [`Db::get_notouch`]).
    pub fn peek(&self, hash: u64, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.segs[self.seg_of(hash)]
            .table
            .find(hash, |e| e.key == *key)
            .filter(|e| !e.expired(now_ms))
    }

    /// The live entry for `key`; an expired one is treated as absent (and
    /// reclaimed).
    pub fn get(&mut self, hash: u64, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.get_mut(hash, key, now_ms).map(|e| &*e)
    }

    /// Whether a live entry exists, without reclaiming anything.
    pub fn contains(&self, hash: u64, key: &[u8], now_ms: u64) -> bool {
        let seg = &self.segs[self.seg_of(hash)];
        seg.table
            .find(hash, |e| e.key == *key)
            .is_some_and(|e| !e.expired(now_ms))
    }

    /// Sets `key` to `value` with deadline `expire_at` (0 = none), replacing
    /// whatever was there (keeping the key's allocation). Returns the old
    /// live value, if any.
    pub fn set(
        &mut self,
        hash: u64,
        key: &[u8],
        value: Value,
        expire_at: u64,
        now_ms: u64,
    ) -> Option<Value> {
        let clock = self.clock(now_ms);
        let (access, fresh) = (self.access, self.fresh(clock));
        let s = self.seg_of(hash);
        let seg = &mut self.segs[s];
        let old = match seg.table.entry(hash, |e| e.key == *key, table_hash) {
            TableEntry::Occupied(mut occ) => {
                let e = occ.get_mut();
                before_change(&mut self.snap, s, e, self.mark);
                e.accessed(access, clock);
                let live = !e.expired(now_ms);
                let old_value = std::mem::replace(&mut e.value, value);
                let had_ttl = e.expire_at() != 0;
                e.set_expire_at(expire_at);
                let has_ttl = expire_at != 0;
                if had_ttl != has_ttl {
                    if has_ttl {
                        seg.ttl += 1;
                        self.ttl_len += 1;
                    } else {
                        seg.ttl -= 1;
                        self.ttl_len -= 1;
                    }
                }
                return if live { Some(old_value) } else { None };
            }
            TableEntry::Vacant(v) => {
                v.insert(Entry::new(
                    Str::copy_from(key),
                    hash,
                    value,
                    expire_at,
                    fresh,
                    self.mark,
                ));
                None
            }
        };
        if expire_at != 0 {
            seg.ttl += 1;
            self.ttl_len += 1;
        }
        self.len += 1;
        self.maybe_grow();
        old
    }

    /// The live entry for `key`, created with `make()` and no deadline if
    /// missing (or expired). One table probe on the hot path.
    pub fn get_or_insert_with(
        &mut self,
        hash: u64,
        key: &[u8],
        now_ms: u64,
        make: impl FnOnce() -> Value,
    ) -> &mut Entry {
        // Grow first: growth moves entries, so it cannot follow the insert.
        if self.len + 1 > self.segs.len() * SEG_TARGET {
            self.maybe_grow_for(self.len + 1);
        }
        let clock = self.clock(now_ms);
        let (access, fresh) = (self.access, self.fresh(clock));
        let s = self.seg_of(hash);
        let seg = &mut self.segs[s];
        match seg.table.entry(hash, |e| e.key == *key, table_hash) {
            TableEntry::Occupied(occ) => {
                let e = occ.into_mut();
                before_change(&mut self.snap, s, e, self.mark);
                if e.expired(now_ms) {
                    e.value = make();
                    e.set_expire_at(0);
                    seg.ttl -= 1;
                    self.ttl_len -= 1;
                    self.stats.expired += 1;
                    if self.log_expired {
                        queue_expired(&mut self.expired_keys, &e.key);
                    }
                }
                e.accessed(access, clock);
                e
            }
            TableEntry::Vacant(v) => {
                self.len += 1;
                v.insert(Entry::new(
                    Str::copy_from(key),
                    hash,
                    make(),
                    0,
                    fresh,
                    self.mark,
                ))
                .into_mut()
            }
        }
    }

    /// Inserts an entry whose key is already an owned `Bytes` (RENAME, COPY);
    /// replaces any existing entry.
    pub fn set_owned(&mut self, key: Bytes, hash: u64, value: Value, expire_at: u64, now_ms: u64) {
        // (A running snapshot writes the entry it replaces first.)
        self.remove_any(hash, &key);
        let key = Str::from(key);
        let clock = self.clock(now_ms);
        let fresh = self.fresh(clock);
        let s = self.seg_of(hash);
        let seg = &mut self.segs[s];
        seg.table.insert_unique(
            hash,
            Entry::new(key, hash, value, expire_at, fresh, self.mark),
            table_hash,
        );
        if expire_at != 0 {
            seg.ttl += 1;
            self.ttl_len += 1;
        }
        self.len += 1;
        self.maybe_grow();
    }

    /// Removes `key`; returns the entry if it was live.
    pub fn remove(&mut self, hash: u64, key: &[u8], now_ms: u64) -> Option<Entry> {
        self.remove_any(hash, key).filter(|e| !e.expired(now_ms))
    }

    fn remove_any(&mut self, hash: u64, key: &[u8]) -> Option<Entry> {
        let s = self.seg_of(hash);
        let seg = &mut self.segs[s];
        let mut occ = seg.table.find_entry(hash, |e| e.key == *key).ok()?;
        before_change(&mut self.snap, s, occ.get_mut(), self.mark);
        let (e, _) = occ.remove();
        if e.expire_at() != 0 {
            seg.ttl -= 1;
            self.ttl_len -= 1;
        }
        self.len -= 1;
        Some(e)
    }

    /// Sets or clears (0) the deadline of a live key. Returns false if the
    /// key does not exist.
    pub fn set_expire(&mut self, hash: u64, key: &[u8], expire_at: u64, now_ms: u64) -> bool {
        let s = self.seg_of(hash);
        let Some(e) = self.get_mut(hash, key, now_ms) else {
            return false;
        };
        let had = e.expire_at() != 0;
        e.set_expire_at(expire_at);
        let has = expire_at != 0;
        if had != has {
            let seg = &mut self.segs[s];
            if has {
                seg.ttl += 1;
                self.ttl_len += 1;
            } else {
                seg.ttl -= 1;
                self.ttl_len -= 1;
            }
        }
        true
    }

    /// Drops every key (statistics stay). A running snapshot first
    /// serializes what it has not yet written (dropping every key costs as
    /// much).
    pub fn clear(&mut self) {
        let (stats, mark, access, no_touch) = (self.stats, self.mark, self.access, self.no_touch);
        let mut snap = self.snap.take();
        if let Some(sn) = snap.as_deref_mut() {
            for (i, seg) in self.segs.iter_mut().enumerate() {
                sn.write_segment(i, seg, mark);
            }
        }
        *self = Db::new();
        self.stats = stats;
        self.snap = snap;
        self.mark = mark;
        self.access = access;
        self.no_touch = no_touch;
    }

    /// Writes segment `s`'s unwritten entries for a running snapshot
    /// (before active expiry sweeps it).
    fn write_segment(&mut self, s: usize) {
        if let Some(sn) = self.snap.as_deref_mut() {
            sn.write_segment(s, &mut self.segs[s], self.mark);
        }
    }

    /// Starts a snapshot of this database as it is now, to be written as
    /// database `index` through `write`; entries expired at `now_ms` are
    /// left out. Replaces any snapshot still running.
    pub fn snapshot_begin(&mut self, index: usize, write: SnapshotWrite, now_ms: u64) {
        self.snapshot_end();
        // Every entry now has the other mark: unwritten.
        self.mark = !self.mark;
        let n = self.segs.len();
        self.snap = Some(Box::new(Snapshot {
            index,
            write,
            done: vec![false; n],
            left: n,
            next: 0,
            at_ms: now_ms,
            out: Vec::new(),
        }));
    }

    /// Serializes unwritten segments until about `budget` bytes of output
    /// are waiting or none is left. Returns true once every segment is
    /// written (or no snapshot runs).
    pub fn snapshot_step(&mut self, budget: usize) -> bool {
        let Some(sn) = self.snap.as_deref_mut() else {
            return true;
        };
        while sn.left != 0 && sn.out.len() < budget {
            let i = sn.next;
            sn.next += 1;
            sn.write_segment(i, &mut self.segs[i], self.mark);
        }
        sn.left == 0
    }

    /// The snapshot output waiting, with the database index it is for
    /// (empty if none).
    pub fn snapshot_take(&mut self) -> (usize, Vec<u8>) {
        match self.snap.as_deref_mut() {
            Some(sn) => (sn.index, std::mem::take(&mut sn.out)),
            None => (0, Vec::new()),
        }
    }

    /// Bytes of snapshot output waiting to be taken.
    pub fn snapshot_pending(&self) -> usize {
        self.snap.as_ref().map_or(0, |sn| sn.out.len())
    }

    /// Ends the snapshot (complete or abandoned); what was not taken is
    /// dropped. An abandoned one leaves entries with both marks: they all
    /// get the database's again, so the next snapshot finds them unwritten.
    pub fn snapshot_end(&mut self) {
        if self.snap.take().is_some_and(|sn| sn.left != 0) {
            let mark = self.mark;
            for seg in &mut self.segs {
                seg.table.iter_mut().for_each(|e| e.set_mark(mark));
            }
        }
    }

    fn maybe_grow(&mut self) {
        self.maybe_grow_for(self.len);
    }

    fn maybe_grow_for(&mut self, len: usize) {
        // Segments keep their indices while a snapshot is being written.
        if self.snap.as_ref().is_some_and(|sn| sn.left != 0) {
            return;
        }
        if len > self.segs.len() * SEG_TARGET && self.bits < MAX_SEG_BITS {
            // Doubling splits segment i into i and i + n by the next hash bit.
            // O(n) once per doubling, amortised like any table resize.
            let n = self.segs.len();
            let mut segs: Vec<Segment> = (0..2 * n).map(|_| Segment::default()).collect();
            self.bits += 1;
            let mask = 2 * n - 1;
            for seg in std::mem::take(&mut self.segs) {
                for e in seg.table.into_iter() {
                    let i = ((e.hash() >> SEG_SHIFT) as usize) & mask;
                    if e.expire_at() != 0 {
                        segs[i].ttl += 1;
                    }
                    segs[i].table.insert_unique(e.hash(), e, table_hash);
                }
            }
            self.segs = segs;
            self.sweep = 0;
        }
    }

    /// One SCAN step from `cursor`: calls `f` for every live entry of the
    /// segments visited, stopping once at least `count` entries were seen or
    /// `10 * count` segments were visited. Returns the next cursor (0 when
    /// the iteration is complete). Cursor order is reverse-binary over
    /// segment indices, so growth between calls loses nothing.
    pub fn scan(&self, cursor: u64, count: usize, now_ms: u64, mut f: impl FnMut(&Entry)) -> u64 {
        let mask = (self.segs.len() - 1) as u64;
        let mut v = cursor;
        let mut seen = 0;
        let mut visited = 0;
        let count = count.max(1);
        loop {
            let seg = &self.segs[(v & mask) as usize];
            for e in seg.table.iter() {
                if !e.expired(now_ms) {
                    f(e);
                }
                seen += 1;
            }
            visited += 1;
            v |= !mask;
            v = v.reverse_bits().wrapping_add(1).reverse_bits();
            if v == 0 || seen >= count || visited >= count.saturating_mul(10) {
                return v;
            }
        }
    }

    /// Calls `f` for every live entry (KEYS).
    pub fn for_each(&self, now_ms: u64, mut f: impl FnMut(&Entry)) {
        for seg in &self.segs {
            for e in seg.table.iter() {
                if !e.expired(now_ms) {
                    f(e);
                }
            }
        }
    }

    /// A random live key, or None if there is none.
    pub fn random_key(&self, now_ms: u64) -> Option<Str> {
        if self.len == 0 {
            return None;
        }
        // Random non-empty segment, then a random entry in it; fall back to a
        // walk when most keys have expired.
        for _ in 0..64 {
            let seg = &self.segs[fastrand::usize(..self.segs.len())];
            let n = seg.table.len();
            if n == 0 {
                continue;
            }
            let e = seg.table.iter().nth(fastrand::usize(..n))?;
            if !e.expired(now_ms) {
                return Some(e.key.clone());
            }
        }
        let mut found = None;
        self.for_each(now_ms, |e| {
            if found.is_none() {
                found = Some(e.key.clone())
            }
        });
        found
    }

    /// Removes `key` to free memory over `maxmemory`, live or expired
    /// (an expired key not yet reclaimed holds memory all the same, and
    /// Redis evicts it too), counting it in `stats.evicted`. Returns
    /// whether it was there.
    pub fn evict(&mut self, hash: u64, key: &[u8]) -> bool {
        let gone = self.remove_any(hash, key).is_some();
        self.stats.evicted += gone as u64;
        gone
    }

    /// Whether `key` is present, expired or not, and with a deadline if
    /// `volatile` (an eviction candidate still there).
    pub fn holds(&self, hash: u64, key: &[u8], volatile: bool) -> bool {
        self.segs[self.seg_of(hash)]
            .table
            .find(hash, |e| e.key == *key)
            .is_some_and(|e| !volatile || e.expire_at() != 0)
    }

    /// Calls `f` with up to `n` entries taken from a random point of the
    /// table, only those with a deadline if `volatile`, expired ones
    /// included (eviction's sample, as Redis's `dictGetSomeKeys`: nearby
    /// slots of one segment, then the next segments). Visits each
    /// segment at most once, so the work is bounded by the table.
    pub fn sample(&self, n: usize, volatile: bool, mut f: impl FnMut(&Entry)) {
        let want = if volatile { self.ttl_len } else { self.len };
        if want == 0 || n == 0 {
            return;
        }
        let segs = self.segs.len();
        let start = fastrand::usize(..segs);
        let mut found = 0;
        for i in 0..segs {
            let seg = &self.segs[(start + i) % segs];
            let len = seg.table.len();
            if len == 0 || volatile && seg.ttl == 0 {
                continue;
            }
            let from = fastrand::usize(..len);
            let ring = seg
                .table
                .iter()
                .skip(from)
                .chain(seg.table.iter().take(from));
            for e in ring {
                if volatile && e.expire_at() == 0 {
                    continue;
                }
                f(e);
                found += 1;
                if found >= n {
                    return;
                }
            }
        }
    }

    /// One budgeted step of active expiry: walks segments from where the
    /// last step stopped, skipping those with no deadlines, and reclaims
    /// expired entries until about `budget` entries were examined. Returns
    /// the number of keys reclaimed.
    pub fn expire_step(&mut self, now_ms: u64, budget: usize) -> usize {
        if self.ttl_len == 0 {
            return 0;
        }
        let n = self.segs.len();
        let mut examined = 0;
        let mut reclaimed = 0;
        for _ in 0..n {
            let i = self.sweep % n;
            self.sweep = (i + 1) % n;
            if self.segs[i].ttl == 0 {
                examined += 1;
                continue;
            }
            self.write_segment(i);
            let seg = &mut self.segs[i];
            examined += seg.table.len();
            let mut gone = 0u32;
            let (log, keys) = (self.log_expired, &mut self.expired_keys);
            seg.table.retain(|e| {
                let dead = e.expired(now_ms);
                gone += dead as u32;
                if dead && log {
                    queue_expired(keys, &e.key);
                }
                !dead
            });
            seg.ttl -= gone;
            self.ttl_len -= gone as usize;
            self.len -= gone as usize;
            self.stats.expired += gone as u64;
            reclaimed += gone as usize;
            if examined >= budget {
                break;
            }
        }
        reclaimed
    }
}

const _: () = assert!(
    std::mem::size_of::<Entry>() == 64,
    "Entry must stay one cache line"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::key_hash;

    fn set(db: &mut Db, k: &str, exp: u64) {
        db.set(
            key_hash(k.as_bytes()),
            k.as_bytes(),
            Value::from_bytes(b"v"),
            exp,
            1000,
        );
    }

    #[test]
    fn scan_survives_growth() {
        let mut db = Db::new();
        for i in 0..2000 {
            set(&mut db, &format!("k{i}"), 0);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = db.scan(cursor, 10, 1000, |e| {
                seen.insert(e.key.clone());
            });
            calls += 1;
            // Grow the table in the middle of the iteration.
            if calls == 3 {
                for i in 2000..20000 {
                    set(&mut db, &format!("k{i}"), 0);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..2000 {
            assert!(
                seen.contains(&Str::copy_from(format!("k{i}").as_bytes())),
                "k{i} missing"
            );
        }
    }

    #[test]
    fn expiry_lazy_and_active() {
        let mut db = Db::new();
        for i in 0..1000 {
            set(&mut db, &format!("t{i}"), 1500);
            set(&mut db, &format!("p{i}"), 0);
        }
        assert_eq!(db.expires_len(), 1000);
        assert!(db.get(key_hash(b"t1"), b"t1", 2000).is_none());
        assert_eq!(db.len(), 1999);
        let mut total = 0;
        for _ in 0..100 {
            total += db.expire_step(2000, 100);
        }
        assert_eq!(total, 999);
        assert_eq!(db.len(), 1000);
        assert_eq!(db.expires_len(), 0);
    }

    /// Writes `key=value;` for a snapshot test.
    fn text(out: &mut Vec<u8>, e: &Entry) {
        out.extend_from_slice(&e.key);
        out.push(b'=');
        if let Value::Str(v) = &e.value {
            out.extend_from_slice(v);
        }
        out.push(b';');
    }

    fn put(db: &mut Db, k: &str, v: &str) {
        db.set(
            key_hash(k.as_bytes()),
            k.as_bytes(),
            Value::Str(Str::copy_from(v.as_bytes())),
            0,
            1000,
        );
    }

    #[test]
    fn snapshot_is_one_instant() {
        // Just below the point where 32 segments split in two.
        const N: usize = 32 * SEG_TARGET - 40;
        let mut db = Db::new();
        for i in 0..N {
            put(&mut db, &format!("k{i}"), "old");
        }
        let segs = db.segs.len();
        db.snapshot_begin(7, text, 1000);
        // Writes, deletes, and inserts past the split point while the
        // snapshot is written a little at a time.
        let (mut out, mut i, mut added) = (Vec::new(), 0, 0);
        while !db.snapshot_step(64) {
            put(&mut db, &format!("k{}", i % N), "new");
            let gone = format!("k{}", (i + 1) % N);
            db.remove(key_hash(gone.as_bytes()), gone.as_bytes(), 1000);
            i += 1;
            for _ in 0..20 {
                put(&mut db, &format!("n{added}"), "new");
                added += 1;
            }
            let (index, bytes) = db.snapshot_take();
            assert_eq!(index, 7);
            out.extend(bytes);
        }
        out.extend(db.snapshot_take().1);
        // (Segments may split once the last one is written, not before:
        // a split before would move unwritten entries, which the contents
        // check below would catch.)
        assert!(db.len() > segs * SEG_TARGET, "never passed the split point");
        db.snapshot_end();
        let written = String::from_utf8(out).unwrap();
        let mut got: Vec<&str> = written.split_terminator(';').collect();
        got.sort();
        let mut want: Vec<String> = (0..N).map(|i| format!("k{i}=old")).collect();
        want.sort();
        assert_eq!(got, want);
        put(&mut db, "last", "x");
        assert!(db.segs.len() > segs, "growth did not resume");
        // An abandoned snapshot leaves nothing half-marked: the next one
        // writes every key.
        db.snapshot_begin(0, text, 1000);
        db.snapshot_step(64);
        put(&mut db, "k7", "newer");
        db.snapshot_end();
        db.snapshot_begin(0, text, 1000);
        while !db.snapshot_step(1 << 20) {}
        let out = db.snapshot_take().1;
        let n = out.iter().filter(|&&b| b == b';').count();
        assert_eq!(n, db.len());
    }
}
