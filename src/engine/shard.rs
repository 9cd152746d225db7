//! A shard's state: its part of every database, its clock, its settings,
//! and the outboxes for work that leaves it (hops to other shards, replies
//! produced outside a batch). Owned by the shard's engine thread; command
//! handlers (`cmd`) see it through their `Ctx`.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use crossbeam_channel::{Receiver, Sender};

use super::blocking::Waits;
use crate::config::{Encodings, Tunables};
use crate::msg::{Hop, ReplyTo, ToEngine, TxId, TxInfo};
use crate::resp::Reply;
use crate::spec;
use crate::store::{Db, DbStats};

/// One shard's state as command handlers see it: its databases, the clock
/// and the outboxes for cross-shard work. Owned by the shard's engine thread.
pub struct Shard {
    /// One keyspace part per database index.
    pub dbs: Vec<Db>,
    /// This shard's index and the number of shards.
    pub id: u16,
    pub count: u16,
    /// Unix time in ms, read once per batch.
    pub now_ms: u64,
    /// Run-time settings (`proto-max-bulk-len`, encoding thresholds).
    pub tun: Arc<Tunables>,
    /// This shard's latency histograms, command counters and wakeup
    /// counters ([`crate::metrics`]), and the slow log.
    pub stats: Arc<crate::metrics::ThreadStats>,
    /// Hops to send to other shards (target shard, work), drained by the engine.
    pub hops_out: Vec<(u16, Hop)>,
    /// Replies produced outside a batch (by hops), drained by the engine.
    pub replies_out: Vec<(ReplyTo, Bytes)>,
    /// Commands executed, for INFO stats.
    pub commands: u64,
    /// The CONFIG RESETSTAT generation these statistics belong to
    /// ([`Tunables::stats_epoch`]).
    pub stats_epoch: u64,
    /// Clients blocked on keys of this shard ([`super::blocking`]).
    pub waits: Waits,
    /// The script cache shared with every thread.
    pub scripts: Arc<crate::script::Registry>,
    /// This shard's Lua state, made at its first script.
    pub lua: Option<Box<crate::script::lua::Runtime>>,
    /// The inboxes a running script reaches other shards through
    /// ([`Shard::call_on`]); none in colocated mode (one shard).
    pub link: Option<Link>,
    /// Messages taken from the inbox while a script waited for another
    /// shard, handled before anything newer.
    pub backlog: VecDeque<ToEngine>,
    /// Keys written by scripts' commands, (database, key), for WATCH: the
    /// engine marks them touched after the command.
    pub touched: Vec<(u16, Bytes)>,
    /// Transactions this shard began (woken cross-shard BLMOVEs), with the
    /// blocked client's IO thread and connection: the engine queues their
    /// parts here and on their other shards.
    pub tx_begun: Vec<(Arc<TxInfo>, u16, u64, crate::msg::Begun)>,
    /// Coordinated transactions whose command let go of its locks without
    /// answering (a BLMOVE that went on to wait): the engine releases them.
    pub tx_ended: Vec<TxId>,
    /// RDB saves: the running background save, write counts.
    pub saver: Arc<crate::persist::Saver>,
    /// This shard's part of the running background save: where its
    /// chunks go ([`super::snapshot`]).
    /// With the save's generation ([`crate::persist::Saver::generation`]).
    pub snapshot: Option<(u64, Sender<crate::persist::Chunk>)>,
    /// Write commands executed since start-up, those of scripts included,
    /// for the `save` schedule and INFO `rdb_changes_since_last_save`.
    /// Redis counts changed keys instead; a write that changes nothing
    /// (a DEL of a missing key, an error) counts here.
    pub changes: u64,
    /// The append-only file's queue ([`crate::aof`]).
    pub aof: Arc<crate::aof::Aof>,
    /// Whether writes are logged now (the AOF is on; read every message).
    pub logging: bool,
    /// Commands this shard logged that are not queued yet.
    pub log: crate::aof::Chunk,
    /// The transaction whose commands run now: they are logged in its place.
    pub log_tx: Option<Arc<crate::aof::TxLog>>,
    /// A running script's effects, logged as one MULTI/EXEC block.
    pub log_group: Option<crate::aof::Chunk>,
    /// The last queue entry this shard's replies so far depend on.
    pub log_wait: u64,
    /// Pub/Sub's registry: keyspace notifications and scripts' PUBLISH
    /// go through it.
    pub pubsub: Arc<crate::pubsub::Hub>,
    /// Messages published while running, sent to the IO threads before
    /// the replies of the same turn.
    pub pub_out: crate::pubsub::Outbox,
    /// `notify-keyspace-events` as read at this message (0: off).
    pub notify: u32,
    /// Client-side caching: who read which keys ([`super::tracking`]).
    pub tracking: super::tracking::Table,
    /// The running command logged itself, in the form Redis propagates
    /// (or chose to log nothing): the engine does not log its arguments.
    pub log_custom: bool,
    /// The AOF was turned on at run time and this shard passed the first
    /// rewrite's instant: it logs ([`crate::aof::Aof::logs_after`]).
    pub log_armed: bool,
    /// [`crate::store::expired_epoch`] at the last [`Shard::log_expired`].
    expired_seen: u64,
    /// `maxmemory`: the settings, the memory seen, the candidates
    /// ([`super::evict`]).
    pub evict: super::evict::Evictor,
}

impl Shard {
    /// Sends the IO threads the messages published while running (a
    /// script's PUBLISH, keyspace notifications): one message per IO
    /// thread, before this turn's replies.
    /// MONITOR: queues the line of command `s` run here for client `conn`
    /// of IO thread `io` (`None`: by a script), if anyone monitors and
    /// MONITOR shows the command.
    #[inline]
    pub fn feed_monitor(
        &mut self,
        s: &spec::CommandSpec,
        db: usize,
        from: Option<(u16, u64)>,
        args: &[Bytes],
    ) {
        if self.pubsub.monitoring() && crate::monitor::shows(s) {
            self.feed_line(db, from, args);
        }
    }

    fn feed_line(&mut self, db: usize, from: Option<(u16, u64)>, args: &[Bytes]) {
        let addr = from.map(|(io, conn)| self.pubsub.addr(io, conn).unwrap_or_else(|| "?".into()));
        let source = match &addr {
            Some(a) => crate::monitor::Source::Client(a),
            None => crate::monitor::Source::Script,
        };
        let line = crate::monitor::line(db, source, args);
        let hub = self.pubsub.clone();
        hub.feed(&mut self.pub_out, line);
    }

    pub fn flush_published(&mut self) {
        if self.pub_out.pending() {
            let hub = self.pubsub.clone();
            hub.flush(&mut self.pub_out, None);
        }
    }
}

/// This shard's own inbox and every shard's, for calls a script makes to
/// keys on other shards.
pub struct Link {
    pub inbox: Receiver<ToEngine>,
    pub peers: Vec<Sender<ToEngine>>,
}

/// What every shard shares with the rest of the process: run-time
/// settings, the script cache, the saver, the append-only file, the
/// Pub/Sub registry and the census of evictable keys.
#[derive(Clone)]
pub struct Common {
    pub tun: Arc<Tunables>,
    pub scripts: Arc<crate::script::Registry>,
    pub saver: Arc<crate::persist::Saver>,
    pub aof: Arc<crate::aof::Aof>,
    pub pubsub: Arc<crate::pubsub::Hub>,
    pub census: Arc<super::evict::Census>,
}

impl Shard {
    pub fn new(
        id: u16,
        count: u16,
        databases: usize,
        common: Common,
        stats: Arc<crate::metrics::ThreadStats>,
    ) -> Shard {
        let Common {
            tun,
            scripts,
            saver,
            aof,
            pubsub,
            census,
        } = common;
        Shard {
            pubsub,
            pub_out: crate::pubsub::Outbox::default(),
            notify: 0,
            tracking: Default::default(),
            dbs: (0..databases).map(|_| Db::new()).collect(),
            id,
            count,
            now_ms: now_ms(),
            tun,
            stats,
            hops_out: Vec::new(),
            replies_out: Vec::new(),
            commands: 0,
            stats_epoch: 0,
            waits: Waits::new(databases),
            scripts,
            lua: None,
            link: None,
            backlog: VecDeque::new(),
            touched: Vec::new(),
            tx_begun: Vec::new(),
            tx_ended: Vec::new(),
            saver,
            snapshot: None,
            changes: 0,
            logging: aof.on(),
            aof,
            log: crate::aof::Chunk::default(),
            log_tx: None,
            log_group: None,
            log_wait: 0,
            log_custom: false,
            log_armed: false,
            expired_seen: 0,
            evict: super::evict::Evictor::new(census),
        }
    }

    /// Reads whether writes are logged now (every message: the AOF may
    /// have been turned on or off by CONFIG SET).
    #[inline]
    pub fn refresh_logging(&mut self) {
        let was = self.logging;
        self.logging = self.aof.logs_after(self.log_armed);
        if !self.aof.enabled() {
            self.log_armed = false;
        }
        self.notify = self.tun.notify_keyspace_events();
        use crate::pubsub::notify as n;
        // Expiries are kept for the log (a DEL each) and for `expired`
        // events.
        let keep = self.logging
            || self.tracking_active()
            || (self.notify & n::EXPIRED != 0 && self.notify & (n::KEYSPACE | n::KEYEVENT) != 0);
        if was != self.logging || self.dbs.first().is_some_and(|d| d.log_expired != keep) {
            for d in &mut self.dbs {
                d.log_expired = keep;
                d.expired_keys.clear();
            }
        }
    }

    /// Publishes a store command's event on its destination (Redis's
    /// `*storeGenericCommand`): `event` if it stored something, else `del`
    /// if it removed what was there.
    pub fn notify_stored(
        &mut self,
        class: u32,
        event: &str,
        db: usize,
        dst: &[u8],
        stored: bool,
        existed: bool,
    ) {
        if stored {
            self.notify(class, event, db, dst);
        } else if existed {
            self.notify(crate::pubsub::notify::GENERIC, "del", db, dst);
        }
    }

    /// Publishes a pop's event on `key` (`lpop`, `zpopmin`, ...), then
    /// `del` if it emptied the key: blocking pops, LMPOP and ZMPOP, as
    /// Redis's `listPopRangeAndReplyWithKey` and `genericZpopCommand`.
    pub fn notify_popped(&mut self, class: u32, event: &str, db: usize, key: &[u8]) {
        if self.notify == 0 {
            return;
        }
        self.notify(class, event, db, key);
        let now = self.now_ms;
        if !self.dbs[db].contains(crate::spec::key_hash(key), key, now) {
            self.notify(crate::pubsub::notify::GENERIC, "del", db, key);
        }
    }

    /// Publishes keyspace event `event` of class `class` on `key` of
    /// database `db` if `notify-keyspace-events` enables it
    /// ([`crate::pubsub::notify::publish`]).
    #[inline]
    pub fn notify(&mut self, class: u32, event: &str, db: usize, key: &[u8]) {
        if self.notify & class != 0 {
            let hub = self.pubsub.clone();
            crate::pubsub::notify::publish(
                &hub,
                &mut self.pub_out,
                self.notify,
                class,
                event,
                db,
                key,
            );
        }
    }

    /// Logs command `args` (name first) as run in database `db`, in the
    /// form Redis propagates it (the caller rewrote what must be: an
    /// expiry made absolute, a blocking pop as the pop it was), into the
    /// running script's block, the running transaction's place, or this
    /// shard's chunk. Marks the running command as logged.
    pub fn propagate(&mut self, db: usize, args: &[&[u8]]) {
        self.propagate_args(db, args);
    }

    /// [`Shard::propagate`] of a command's own arguments.
    pub fn propagate_args<A: AsRef<[u8]>>(&mut self, db: usize, args: &[A]) {
        self.log_custom = true;
        if !self.logging {
            return;
        }
        self.log_expired();
        self.push_log(db as u16, args);
    }

    /// Logs a DEL for each key expiry reclaimed since the last call, in
    /// every database, before whatever comes next (Redis propagates a
    /// DEL when it expires a key); a replay, which expires nothing, then
    /// deletes them where they went.
    ///
    /// Publishes an `expired` keyspace event for each too, when enabled,
    /// and invalidates it for tracking clients.
    pub fn log_expired(&mut self) {
        let epoch = crate::store::expired_epoch();
        if epoch == self.expired_seen {
            return;
        }
        self.expired_seen = epoch;
        for i in 0..self.dbs.len() {
            if self.dbs[i].expired_keys.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.dbs[i].expired_keys);
            for k in &keys {
                if self.logging {
                    self.push_log(i as u16, &[&b"DEL"[..], k]);
                }
                self.notify(crate::pubsub::notify::EXPIRED, "expired", i, k);
                if self.tracking_active() {
                    self.invalidate(k, None);
                }
            }
        }
    }

    pub(super) fn push_log<A: AsRef<[u8]>>(&mut self, db: u16, args: &[A]) {
        if let Some(g) = self.log_group.as_mut() {
            g.push(db, args);
        } else if let Some(t) = &self.log_tx {
            t.push(db, args);
        } else {
            self.log.push(db, args);
        }
    }

    /// The running command logs nothing (a blocking pop that waits, a
    /// script whose effects are logged instead).
    pub fn propagate_nothing(&mut self) {
        self.log_custom = true;
    }

    /// Queues this shard's logged commands: at the end of a loop turn,
    /// and before it grants a transaction its locks (see [`crate::aof`]).
    pub fn log_flush(&mut self) {
        if self.logging || self.notify != 0 || self.tracking_active() {
            self.log_expired();
        }
        if !self.log.is_empty() {
            let c = self.log.take(self.aof.spare());
            self.log_wait = self.aof.append(c);
        }
    }

    /// Runs `f` on shard `target`'s thread and waits for its result: a
    /// script's `redis.call` of a key that lives there. While it waits this
    /// thread runs the hops other shards send it (their scripts' calls
    /// here among them, so two scripts calling each other's shards cannot
    /// deadlock) and keeps every other message for later, in order.
    /// Blocked clients served by `f`'s writes are served later, by a hop
    /// the caller sends when the script is done. None if `target` is
    /// unreachable (shutting down).
    pub fn call_on<T: Send + 'static>(
        &mut self,
        target: u16,
        f: impl FnOnce(&mut Shard) -> T + Send + 'static,
    ) -> Option<T> {
        if target == self.id {
            return Some(f(self));
        }
        let (tx, rx) = crossbeam_channel::bounded(1);
        let hop = Hop(Box::new(move |any: &mut dyn Any| {
            if let Some(sh) = any.downcast_mut::<Shard>() {
                let _ = tx.send(f(sh));
            }
        }));
        let link = self.link.as_ref()?;
        let inbox = link.inbox.clone();
        link.peers
            .get(target as usize)?
            .send(ToEngine::Hop(hop))
            .ok()?;
        // Spin first, for up to `spin-us` as the engine's idle loop does:
        // the target is often still spinning itself and answers within a
        // few µs, where a park costs two wake-ups per call.
        let spin = std::time::Duration::from_micros(self.tun.spin_us());
        let start = std::time::Instant::now();
        let mut n = 0u32;
        while start.elapsed() < spin {
            match rx.try_recv() {
                Ok(r) => return Some(r),
                Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
                Err(crossbeam_channel::TryRecvError::Empty) => {}
            }
            match inbox.try_recv() {
                Ok(ToEngine::Hop(h)) => (h.0)(self),
                Ok(other) => self.backlog.push_back(other),
                Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
                Err(crossbeam_channel::TryRecvError::Empty) => {}
            }
            n += 1;
            if n % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        loop {
            crossbeam_channel::select! {
                recv(rx) -> r => return r.ok(),
                recv(inbox) -> m => match m {
                    Ok(ToEngine::Hop(h)) => (h.0)(self),
                    Ok(other) => self.backlog.push_back(other),
                    Err(_) => return None,
                },
            }
        }
    }

    /// Queues `f` to run on shard `target`'s thread (possibly this one);
    /// clients it wakes by pushing are served right after it.
    pub fn hop(&mut self, target: u16, f: impl FnOnce(&mut Shard) + Send + 'static) {
        self.hops_out.push((
            target,
            Hop(Box::new(move |any: &mut dyn Any| {
                let sh = any
                    .downcast_mut::<Shard>()
                    .expect("hop delivered to a shard engine");
                f(sh);
                if sh.waits.pending() {
                    sh.serve_ready();
                }
            })),
        ));
    }

    /// Answers a deferred command: `write` encodes the reply.
    pub fn reply_later(&mut self, to: ReplyTo, write: impl FnOnce(&mut Reply)) {
        let mut r = Reply {
            buf: BytesMut::with_capacity(64),
            resp3: to.resp3,
        };
        write(&mut r);
        self.replies_out.push((to, r.buf.freeze()));
    }

    /// Largest string value a command may build (`proto-max-bulk-len`), bytes.
    #[inline]
    pub fn max_bulk(&self) -> u64 {
        self.tun.proto_max_bulk_len()
    }

    /// Compact-encoding thresholds, as CONFIG SET last left them.
    #[inline]
    pub fn enc(&self) -> Encodings {
        self.tun.encodings()
    }

    /// Marks `key` in database `db` as pushed to (LPUSH, LINSERT, ZADD,
    /// LMOVE's destination, ...) so the clients blocked on it are served
    /// after the current command ([`Shard::serve_ready`]).
    #[inline]
    pub fn key_ready(&mut self, db: usize, key: &[u8]) {
        self.waits.mark(db, key);
    }

    /// Hits, misses, expired and evicted keys over every database of the
    /// shard.
    pub fn db_stats(&self) -> DbStats {
        self.dbs.iter().fold(DbStats::default(), |t, d| DbStats {
            hits: t.hits + d.stats.hits,
            misses: t.misses + d.stats.misses,
            expired: t.expired + d.stats.expired,
            evicted: t.evicted + d.stats.evicted,
        })
    }

    /// Starts the statistics over if CONFIG RESETSTAT ran since they began
    /// (one relaxed load; called before each batch, so every command sent
    /// after RESETSTAT's reply counts from zero).
    #[inline]
    pub fn check_resetstat(&mut self) {
        let epoch = self.tun.stats_epoch();
        if epoch != self.stats_epoch {
            self.stats_epoch = epoch;
            self.commands = 0;
            for d in &mut self.dbs {
                d.stats = DbStats::default();
            }
        }
    }

    /// CLIENT NO-TOUCH: whether the running command's lookups leave
    /// access bits alone, in every database (its scripts' calls and
    /// cross-database commands included), set around the command.
    #[inline]
    pub fn set_no_touch(&mut self, on: bool) {
        for d in &mut self.dbs {
            d.no_touch = on;
        }
    }

    /// The shard owning `key`.
    pub fn shard_of(&self, key: &[u8]) -> u16 {
        spec::key_shard(key, self.count as usize) as u16
    }
}

/// Unix time in milliseconds.
/// Start-up is replaying the AOF: the clock reads 1 ms past the epoch,
/// so no key expires while loading (Redis's `keyIsExpired` while
/// `server.loading`), and a logged expiry in the past is set, not applied.
static LOADING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Starts or ends the stopped clock of AOF loading.
pub fn set_loading(on: bool) {
    LOADING.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// Unix time in ms (1 while the AOF is replayed: [`set_loading`]).
pub fn now_ms() -> u64 {
    if LOADING.load(std::sync::atomic::Ordering::Relaxed) {
        return 1;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
