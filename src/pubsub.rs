//! Pub/Sub's process-wide registry: which IO threads have subscribers for
//! which channels and patterns, so that a publish from any thread (PUBLISH
//! on an IO thread, a keyspace notification or a script's PUBLISH on a
//! shard) costs one lookup and at most one message per IO thread with
//! subscribers, never one per subscriber.
//!
//! # Shape
//!
//! Subscribers live on IO threads: each thread keeps its own table of
//! which of its connections listen to what (`net::pubsub`), and this
//! registry keeps only, per channel (and per pattern), how many
//! subscribers each IO thread has. A publisher looks the channel up under a
//! shared lock (16 stripes by channel hash, so subscribes rarely meet
//! publishes), matches the channel against every pattern (as Redis does,
//! with the same bounded matcher, [`crate::glob`]), and queues one
//! [`Delivery`] per interested IO thread in its [`Outbox`]. The outbox is
//! flushed once per loop turn of the publishing thread, as one
//! [`ToIo::Published`] per IO thread: a burst of publishes costs one
//! channel message and at most one wake per IO thread.
//!
//! # Order
//!
//! Every delivery to an IO thread travels through that thread's one inbox,
//! which is FIFO across senders, so messages published by one client reach
//! each subscriber in publish order. A subscriber is counted here only once
//! its IO thread queued the subscribe confirmation, so any message that
//! counted it is written after that confirmation.
//!
//! The count PUBLISH answers is the subscribers registered when it looked;
//! a subscriber that leaves between that look and the delivery is counted
//! but not sent to, as if it had left just after.
//!
//! Semantics follow Redis 7.0 `pubsub.c`: channels and shard channels
//! (SSUBSCRIBE/SPUBLISH) are separate namespaces; shard channels ignore
//! patterns.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use bytes::Bytes;
use crossbeam_channel::Sender;

use crate::msg::{Delivery, Invalidation, ToIo, Waker};

/// Lock stripes of each channel namespace.
const STRIPES: usize = 16;

/// Which namespace a channel name lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// SUBSCRIBE / PUBLISH (patterns apply).
    Global,
    /// SSUBSCRIBE / SPUBLISH (Redis 7.0 sharded channels; no patterns).
    Shard,
}

/// Per channel: subscribers on each IO thread.
type Counts = Vec<u32>;

struct Channels {
    stripes: Vec<RwLock<HashMap<Bytes, Counts>>>,
    /// Channels with at least one subscriber (INFO `pubsub_channels`).
    len: AtomicUsize,
}

impl Channels {
    fn new() -> Channels {
        Channels {
            stripes: (0..STRIPES).map(|_| RwLock::new(HashMap::new())).collect(),
            len: AtomicUsize::new(0),
        }
    }

    fn stripe(&self, name: &[u8]) -> &RwLock<HashMap<Bytes, Counts>> {
        &self.stripes[(crate::spec::key_fp(name) as usize) % STRIPES]
    }
}

/// The registry every thread shares ([`crate::net::shared::Shared::pubsub`],
/// `Shard::pubsub`).
pub struct Hub {
    nio: usize,
    channels: Channels,
    shard_channels: Channels,
    /// Patterns with subscribers, in the order first subscribed, with
    /// their subscribers per IO thread.
    patterns: RwLock<Vec<(Bytes, Counts)>>,
    /// `patterns.len()`, read without the lock by every publish.
    npatterns: AtomicUsize,
    /// Every IO thread's inbox and doorbell, set once at start-up.
    links: OnceLock<Vec<(Sender<ToIo>, Arc<Waker>)>>,
    /// Client-side caching in BCAST mode: per key prefix, the tracking
    /// clients registered for it (`CLIENT TRACKING ON BCAST PREFIX p`).
    bcast: RwLock<Vec<(Bytes, Vec<Tracker>)>>,
    /// `bcast.len()`, read without the lock by every write a shard runs.
    nbcast: AtomicUsize,
    /// Clients with tracking on, in any mode.
    tracking_clients: AtomicUsize,
    /// MONITOR clients per IO thread, and in all.
    monitors: Vec<AtomicUsize>,
    nmonitors: AtomicUsize,
    /// Every connection's address by (IO thread, connection token), for
    /// MONITOR lines written where the command runs.
    addrs: RwLock<HashMap<(u16, u64), Arc<str>>>,
}

/// A tracking client, as shards address its invalidations: its IO thread
/// and connection token there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tracker {
    pub io: u16,
    pub conn: u64,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
    /// A registry for `io_threads` IO threads.
    pub fn new(io_threads: usize) -> Hub {
        Hub {
            nio: io_threads.max(1),
            channels: Channels::new(),
            shard_channels: Channels::new(),
            patterns: RwLock::new(Vec::new()),
            npatterns: AtomicUsize::new(0),
            links: OnceLock::new(),
            bcast: RwLock::new(Vec::new()),
            nbcast: AtomicUsize::new(0),
            tracking_clients: AtomicUsize::new(0),
            monitors: (0..io_threads.max(1))
                .map(|_| AtomicUsize::new(0))
                .collect(),
            nmonitors: AtomicUsize::new(0),
            addrs: RwLock::default(),
        }
    }

    /// A client of IO thread `io` connected from `addr` (`ip:port`).
    pub fn connected(&self, io: u16, conn: u64, addr: &str) {
        write(&self.addrs).insert((io, conn), addr.into());
    }

    /// That client left.
    pub fn disconnected(&self, io: u16, conn: u64) {
        write(&self.addrs).remove(&(io, conn));
    }

    /// The address of connection `conn` of IO thread `io`.
    pub fn addr(&self, io: u16, conn: u64) -> Option<Arc<str>> {
        read(&self.addrs).get(&(io, conn)).cloned()
    }

    /// A client of IO thread `io` became a MONITOR (`true`) or stopped.
    pub fn count_monitor(&self, io: usize, on: bool) {
        let Some(m) = self.monitors.get(io) else {
            return;
        };
        if on {
            m.fetch_add(1, Ordering::Relaxed);
            self.nmonitors.fetch_add(1, Ordering::Relaxed);
        } else {
            m.fetch_sub(1, Ordering::Relaxed);
            self.nmonitors.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether any client is a MONITOR: the one check every command pays.
    #[inline]
    pub fn monitoring(&self) -> bool {
        self.nmonitors.load(Ordering::Relaxed) > 0
    }

    /// Queues a MONITOR line ([`crate::monitor::line`]) for every IO thread
    /// with monitors, sent at the next flush.
    pub fn feed(&self, out: &mut Outbox, line: Bytes) {
        out.monitor.push(line);
        out.pending = true;
    }

    /// Counts a client turning tracking on (`true`) or off.
    pub fn count_tracking(&self, on: bool) {
        if on {
            self.tracking_clients.fetch_add(1, Ordering::Relaxed);
        } else {
            self.tracking_clients.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether any client tracks keys (INFO `tracking_clients`).
    #[inline]
    pub fn tracking_clients(&self) -> usize {
        self.tracking_clients.load(Ordering::Relaxed)
    }

    /// Registers a BCAST tracking client for keys starting with `prefix`.
    pub fn bcast_add(&self, prefix: &Bytes, t: Tracker) {
        let mut b = write(&self.bcast);
        match b.iter_mut().find(|(p, _)| p == prefix) {
            Some((_, v)) => {
                if !v.iter().any(|x| x.io == t.io && x.conn == t.conn) {
                    v.push(t)
                }
            }
            None => b.push((prefix.clone(), vec![t])),
        }
        self.nbcast.store(b.len(), Ordering::Relaxed);
    }

    /// Unregisters a BCAST tracking client's prefix.
    pub fn bcast_remove(&self, prefix: &[u8], io: u16, conn: u64) {
        let mut b = write(&self.bcast);
        if let Some(i) = b.iter().position(|(p, _)| p == prefix) {
            b[i].1.retain(|x| !(x.io == io && x.conn == conn));
            if b[i].1.is_empty() {
                b.remove(i);
            }
        }
        self.nbcast.store(b.len(), Ordering::Relaxed);
    }

    /// Whether any client tracks in BCAST mode.
    #[inline]
    pub fn bcast_active(&self) -> bool {
        self.nbcast.load(Ordering::Relaxed) > 0
    }

    /// Queues an invalidation of `key` for every BCAST client whose prefix
    /// it starts with, marked `own` for the client that wrote it (Redis's
    /// `trackingRememberKeyToBroadcast`).
    pub fn bcast_invalidate(&self, out: &mut Outbox, key: &[u8], writer: Option<(u16, u64)>) {
        if !self.bcast_active() {
            return;
        }
        let b = read(&self.bcast);
        for (p, clients) in b.iter() {
            if !key.starts_with(p) {
                continue;
            }
            for t in clients {
                let own = writer == Some((t.io, t.conn));
                out.invalidate(self.nio, t.io as usize, t.conn, Some(key), own);
            }
        }
    }

    /// Tells every IO thread that the keyspace was flushed: each sends its
    /// tracking clients an invalidation of everything.
    pub fn invalidate_all(&self) {
        if let Some(links) = self.links.get() {
            for (tx, waker) in links {
                // Unbounded inbox: never blocks.
                if tx.send(ToIo::InvalidateAll).is_ok() {
                    waker.wake();
                }
            }
        }
    }

    /// Sends IO thread `io` a message (a forwarded invalidation).
    pub fn send_to(&self, io: usize, m: ToIo) {
        if let Some((tx, waker)) = self.links.get().and_then(|l| l.get(io)) {
            if tx.send(m).is_ok() {
                waker.wake();
            }
        }
    }

    /// Gives the registry the IO threads' inboxes (once, at start-up).
    pub fn connect(&self, links: Vec<(Sender<ToIo>, Arc<Waker>)>) {
        let _ = self.links.set(links);
    }

    /// Number of IO threads.
    pub fn io_threads(&self) -> usize {
        self.nio
    }

    fn space(&self, s: Space) -> &Channels {
        match s {
            Space::Global => &self.channels,
            Space::Shard => &self.shard_channels,
        }
    }

    /// Counts one more subscriber of `name` on IO thread `io`.
    pub fn subscribe(&self, io: usize, space: Space, name: &Bytes) {
        let ch = self.space(space);
        let mut m = write(ch.stripe(name));
        let counts = m.entry(name.clone()).or_insert_with(|| {
            ch.len.fetch_add(1, Ordering::Relaxed);
            vec![0; self.nio]
        });
        if let Some(c) = counts.get_mut(io) {
            *c += 1;
        }
    }

    /// Counts one subscriber of `name` on IO thread `io` fewer.
    pub fn unsubscribe(&self, io: usize, space: Space, name: &[u8]) {
        let ch = self.space(space);
        let mut m = write(ch.stripe(name));
        let Some(counts) = m.get_mut(name) else {
            return;
        };
        if let Some(c) = counts.get_mut(io) {
            *c = c.saturating_sub(1);
        }
        if counts.iter().all(|&c| c == 0) {
            m.remove(name);
            ch.len.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Counts one more subscriber of `pattern` on IO thread `io`.
    pub fn psubscribe(&self, io: usize, pattern: &Bytes) {
        let mut p = write(&self.patterns);
        let i = match p.iter().position(|(q, _)| q == pattern) {
            Some(i) => i,
            None => {
                p.push((pattern.clone(), vec![0; self.nio]));
                self.npatterns.store(p.len(), Ordering::Relaxed);
                p.len() - 1
            }
        };
        if let Some(c) = p[i].1.get_mut(io) {
            *c += 1;
        }
    }

    /// Counts one subscriber of `pattern` on IO thread `io` fewer.
    pub fn punsubscribe(&self, io: usize, pattern: &[u8]) {
        let mut p = write(&self.patterns);
        let Some(i) = p.iter().position(|(q, _)| q == pattern) else {
            return;
        };
        if let Some(c) = p[i].1.get_mut(io) {
            *c = c.saturating_sub(1);
        }
        if p[i].1.iter().all(|&c| c == 0) {
            p.remove(i);
            self.npatterns.store(p.len(), Ordering::Relaxed);
        }
    }

    /// Publishes `payload` on `channel`: queues one [`Delivery`] in `out`
    /// for every IO thread with a subscriber of the channel (or, outside
    /// [`Space::Shard`], of a pattern matching it). Returns the number of
    /// receivers as PUBLISH answers it: channel subscribers plus, for each
    /// matching pattern, its subscribers (a client subscribed to both
    /// counts twice, as in Redis).
    pub fn publish(&self, out: &mut Outbox, space: Space, channel: &[u8], payload: &[u8]) -> i64 {
        let mut total = 0i64;
        // IO threads with subscribers, as bit sets (`io-threads` is at
        // most 128): no allocation unless a pattern matches.
        let bits = |c: &Counts| -> u128 {
            c.iter()
                .enumerate()
                .filter(|&(io, &n)| n > 0 && io < 128)
                .fold(0, |b, (io, _)| b | 1 << io)
        };
        let mut direct: u128 = 0;
        {
            let m = read(self.space(space).stripe(channel));
            if let Some(c) = m.get(channel) {
                total += c.iter().map(|&n| n as i64).sum::<i64>();
                direct = bits(c);
            }
        }
        let mut matched: Vec<(Bytes, u128)> = Vec::new();
        if space == Space::Global && self.npatterns.load(Ordering::Relaxed) > 0 {
            let p = read(&self.patterns);
            for (pat, counts) in p.iter() {
                if crate::glob::matches(pat, channel, false) {
                    total += counts.iter().map(|&n| n as i64).sum::<i64>();
                    matched.push((pat.clone(), bits(counts)));
                }
            }
        }
        if total == 0 {
            return 0;
        }
        let channel = Bytes::copy_from_slice(channel);
        let payload = Bytes::copy_from_slice(payload);
        out.ensure(self.nio);
        for io in 0..self.nio.min(128) {
            let has = |b: u128| b >> io & 1 == 1;
            let patterns: Vec<Bytes> = matched
                .iter()
                .filter(|(_, b)| has(*b))
                .map(|(p, _)| p.clone())
                .collect();
            if !has(direct) && patterns.is_empty() {
                continue;
            }
            out.per_io[io].push(Delivery {
                sharded: space == Space::Shard,
                channel: channel.clone(),
                payload: payload.clone(),
                direct: has(direct),
                patterns,
            });
        }
        total
    }

    /// Subscribers of `channel` (PUBSUB NUMSUB / SHARDNUMSUB), patterns
    /// not counted.
    pub fn numsub(&self, space: Space, channel: &[u8]) -> i64 {
        read(self.space(space).stripe(channel))
            .get(channel)
            .map_or(0, |c| c.iter().map(|&n| n as i64).sum())
    }

    /// Channels with subscribers matching `pattern` (all without one):
    /// PUBSUB CHANNELS / SHARDCHANNELS.
    pub fn channels(&self, space: Space, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let mut v = Vec::new();
        for s in &self.space(space).stripes {
            for name in read(s).keys() {
                if pattern.is_none_or(|p| crate::glob::matches(p, name, false)) {
                    v.push(name.clone());
                }
            }
        }
        v
    }

    /// Channels with subscribers (INFO `pubsub_channels`,
    /// `pubsubshard_channels`).
    pub fn channel_count(&self, space: Space) -> usize {
        self.space(space).len.load(Ordering::Relaxed)
    }

    /// Patterns with subscribers (PUBSUB NUMPAT, INFO `pubsub_patterns`).
    pub fn pattern_count(&self) -> usize {
        self.npatterns.load(Ordering::Relaxed)
    }

    /// Whether anyone subscribes to anything: a keyspace notification with
    /// nobody listening is not even formatted.
    pub fn idle(&self) -> bool {
        self.channels.len.load(Ordering::Relaxed) == 0 && self.pattern_count() == 0
    }

    /// Sends every IO thread its queued deliveries (one message each) and
    /// rings its doorbell if it is parked. `skip` keeps one thread's
    /// deliveries in the outbox: the caller's own, which it hands over
    /// itself.
    pub fn flush(&self, out: &mut Outbox, skip: Option<usize>) {
        let Some(links) = self.links.get() else {
            return;
        };
        for (io, list) in out.per_io.iter_mut().enumerate() {
            if list.is_empty() || Some(io) == skip {
                continue;
            }
            if let Some((tx, waker)) = links.get(io) {
                // Unbounded inbox: never blocks.
                if tx.send(ToIo::Published(std::mem::take(list))).is_ok() {
                    waker.wake();
                }
            }
        }
        for (io, list) in out.invalidations.iter_mut().enumerate() {
            if list.is_empty() {
                continue;
            }
            if let Some((tx, waker)) = links.get(io) {
                if tx.send(ToIo::Invalidate(std::mem::take(list))).is_ok() {
                    waker.wake();
                }
            }
        }
        if !out.monitor.is_empty() {
            let lines: Arc<[Bytes]> = std::mem::take(&mut out.monitor).into();
            for (io, n) in self.monitors.iter().enumerate() {
                if n.load(Ordering::Relaxed) == 0 {
                    continue;
                }
                if let Some((tx, waker)) = links.get(io) {
                    if tx.send(ToIo::Monitor(lines.clone())).is_ok() {
                        waker.wake();
                    }
                }
            }
        }
        out.pending = out.per_io.iter().any(|l| !l.is_empty());
    }
}

/// Deliveries (and, from shards, client-side caching invalidations) a
/// thread queued since its last flush, per IO thread.
#[derive(Default)]
pub struct Outbox {
    per_io: Vec<Vec<Delivery>>,
    invalidations: Vec<Vec<Invalidation>>,
    /// MONITOR lines, for every IO thread with monitors.
    monitor: Vec<Bytes>,
    /// Something is queued.
    pending: bool,
}

impl Outbox {
    fn ensure(&mut self, nio: usize) {
        if self.per_io.len() < nio {
            self.per_io.resize_with(nio, Vec::new);
        }
        self.pending = true;
    }

    /// Queues an invalidation of `key` (None: everything) for connection
    /// `conn` of IO thread `io`.
    pub fn invalidate(&mut self, nio: usize, io: usize, conn: u64, key: Option<&[u8]>, own: bool) {
        if self.invalidations.len() < nio {
            self.invalidations.resize_with(nio, Vec::new);
        }
        if let Some(l) = self.invalidations.get_mut(io) {
            l.push(Invalidation {
                conn,
                key: key.map(Bytes::copy_from_slice),
                own,
            });
            self.pending = true;
        }
    }

    /// Whether anything is queued (cheap; checked every loop turn).
    #[inline]
    pub fn pending(&self) -> bool {
        self.pending
    }

    /// Takes the deliveries queued for IO thread `io`.
    pub fn take(&mut self, io: usize) -> Vec<Delivery> {
        let v = self
            .per_io
            .get_mut(io)
            .map(std::mem::take)
            .unwrap_or_default();
        self.pending = self.per_io.iter().any(|l| !l.is_empty());
        v
    }
}

/// Keyspace notifications (<https://redis.io/docs/latest/develop/use/keyspace-notifications/>,
/// Redis 7.0 `notify.c`): the event classes of `notify-keyspace-events`
/// and the two channels each event is published on.
pub mod notify {
    use super::{Hub, Outbox, Space};

    /// `__keyspace@<db>__:<key>` channels (K).
    pub const KEYSPACE: u32 = 1 << 0;
    /// `__keyevent@<db>__:<event>` channels (E).
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    /// Excluded from `A` on purpose, as in Redis.
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 13;
    pub const NEW: u32 = 1 << 14;
    /// `A`: every class but key misses and new keys.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    /// Parses a `notify-keyspace-events` value; `None` for a character
    /// that names no class (`keyspaceEventsStringToFlags`).
    pub fn parse(s: &str) -> Option<u32> {
        let mut f = 0;
        for c in s.chars() {
            f |= match c {
                'A' => ALL,
                'g' => GENERIC,
                '$' => STRING,
                'l' => LIST,
                's' => SET,
                'h' => HASH,
                'z' => ZSET,
                'x' => EXPIRED,
                'e' => EVICTED,
                'K' => KEYSPACE,
                'E' => KEYEVENT,
                't' => STREAM,
                'm' => KEY_MISS,
                'd' => MODULE,
                'n' => NEW,
                _ => return None,
            };
        }
        Some(f)
    }

    /// The canonical text of flags, as CONFIG GET shows it
    /// (`keyspaceEventsFlagsToString`).
    pub fn format(f: u32) -> String {
        let mut s = String::new();
        if f & ALL == ALL {
            s.push('A');
        } else {
            for (bit, c) in [
                (GENERIC, 'g'),
                (STRING, '$'),
                (LIST, 'l'),
                (SET, 's'),
                (HASH, 'h'),
                (ZSET, 'z'),
                (EXPIRED, 'x'),
                (EVICTED, 'e'),
                (STREAM, 't'),
                (MODULE, 'd'),
                (NEW, 'n'),
            ] {
                if f & bit != 0 {
                    s.push(c);
                }
            }
        }
        for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if f & bit != 0 {
                s.push(c);
            }
        }
        s
    }

    /// Publishes event `event` of class `class` on key `key` of database
    /// `db`, if `flags` (the live `notify-keyspace-events`) enable it:
    /// `__keyspace@<db>__:<key>` carries the event name and
    /// `__keyevent@<db>__:<event>` the key (`notifyKeyspaceEvent`).
    pub fn publish(
        hub: &Hub,
        out: &mut Outbox,
        flags: u32,
        class: u32,
        event: &str,
        db: usize,
        key: &[u8],
    ) {
        if flags & class == 0 || hub.idle() {
            return;
        }
        let mut ch = Vec::with_capacity(24 + key.len().max(event.len()));
        if flags & KEYSPACE != 0 {
            ch.extend_from_slice(b"__keyspace@");
            ch.extend_from_slice(db.to_string().as_bytes());
            ch.extend_from_slice(b"__:");
            ch.extend_from_slice(key);
            hub.publish(out, Space::Global, &ch, event.as_bytes());
        }
        if flags & KEYEVENT != 0 {
            ch.clear();
            ch.extend_from_slice(b"__keyevent@");
            ch.extend_from_slice(db.to_string().as_bytes());
            ch.extend_from_slice(b"__:");
            ch.extend_from_slice(event.as_bytes());
            hub.publish(out, Space::Global, &ch, key);
        }
    }
}
