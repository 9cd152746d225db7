//! Stage 2: the shard engine thread loop.
//!
//! One engine per shard, pinned to its own core, single owner of its part of
//! every database (so no locks on data). It blocks only on its inbox: it
//! spins for `spin-us` looking for work, then parks in the channel's receive
//! with a timeout that paces active expiry (`hz`) and is cut short by the
//! earliest blocked-client timeout ([`crate::cmd::block`]).
//!
//! # Design
//!
//! An [`Engine`] receives [`RequestBatch`]es (one per IO thread per loop turn)
//! and [`Hop`]s (cross-shard steps from other engines). It executes every
//! request of a batch in order against its [`Shard`], appending each reply to
//! one buffer per destination IO thread, and after draining what is queued it
//! sends each IO thread one [`ReplyBatch`] and rings that thread's doorbell
//! only if it is parked. Hops produced while executing go out after the
//! batch; hops addressed to this shard run at once. Between bursts the engine
//! runs a budgeted active-expiry step, so expired keys are reclaimed even if
//! never touched again.
//!
//! In colocated mode the IO thread drives the same engine synchronously
//! through [`Executor`], with no channel and no thread.

pub mod blocking;
pub mod evict;
pub mod locks;
pub mod shard;
pub mod snapshot;
pub mod tracking;
mod tx;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use bytes::BytesMut;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use crate::cmd::{self, Ctx, Handler};
use crate::metrics::{ThreadStats, now_ns};
use crate::msg::{
    Executor, Hop, ReplyBatch, ReplyItem, ReplyTo, Request, RequestBatch, ToEngine, ToIo, TxId,
    Waker,
};
use crate::resp::Reply;
use crate::spec;
use shard::Shard;

/// Messages drained per wake before replies are flushed, so one busy IO
/// thread cannot delay the others' replies indefinitely.
const DRAIN_LIMIT: usize = 64;
/// Entries examined per active-expiry step after a burst of work.
const EXPIRE_BUDGET_BUSY: usize = 64;
/// Entries examined per idle tick.
const EXPIRE_BUDGET_IDLE: usize = 4096;

/// Replies being collected for one IO thread.
struct Outbox {
    reply: Reply,
    items: Vec<ReplyItem>,
    credits: u16,
}

impl Outbox {
    fn new() -> Outbox {
        Outbox {
            reply: Reply::new(false),
            items: Vec::new(),
            credits: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty() && self.credits == 0
    }

    fn take(&mut self, shard: u16) -> ReplyBatch {
        let cap = self.reply.buf.capacity().clamp(4096, 1 << 20);
        let buf = std::mem::replace(&mut self.reply.buf, BytesMut::with_capacity(cap)).freeze();
        ReplyBatch {
            buf,
            items: std::mem::take(&mut self.items),
            credits: std::mem::take(&mut self.credits),
            shard,
        }
    }
}

/// A link to one IO thread: its inbox and its doorbell.
#[derive(Clone)]
pub struct IoLink {
    pub tx: Sender<ToIo>,
    pub waker: Arc<Waker>,
}

/// One shard's engine. See the module docs for the loop.
pub struct Engine {
    sh: Shard,
    handlers: Vec<Option<Handler>>,
    out: Vec<Outbox>,
    local_hops: VecDeque<Hop>,
    /// Inboxes of every engine, indexed by shard (for hops).
    peers: Vec<Sender<ToEngine>>,
    /// The shard's side of the transaction layer.
    tx: tx::TxTable,
    /// How long the next wait spins before parking: doubles (up to
    /// `spin-us`) when spinning found work, halves when it did not, as the
    /// IO threads' budget does, so an idle shard stops burning a core.
    spin_budget: Duration,
    /// The `spin-us` the budget was last set from: a CONFIG SET starts the
    /// budget over at the new value.
    spin_setting: Duration,
    /// Running a command of an EXEC block (blocking commands answer at once).
    in_exec: bool,
    /// In EXEC: the step running is its command's first (the one counted
    /// as a call).
    exec_call: bool,
    /// While a batch runs: when the next command began, which is when the
    /// previous one ended ([`now_ns`]); 0 outside a batch (read the clock).
    mark: u64,
    /// Under `appendfsync always`: reply batches (IO thread, batch) held
    /// until the AOF entry they depend on is on disk, oldest first.
    held: VecDeque<(u64, usize, ReplyBatch)>,
}

impl Engine {
    /// An engine for shard `id` of `count`, replying to `io_threads` IO
    /// threads, recording its latency samples into `stats`. `spin-us` and
    /// `hz` are read from `tunables` on every wait, so CONFIG SET applies
    /// at once.
    pub fn new(
        id: u16,
        count: u16,
        io_threads: usize,
        databases: usize,
        common: shard::Common,
        stats: Arc<ThreadStats>,
    ) -> Engine {
        let spin_budget = Duration::from_micros(common.tun.spin_us());
        Engine {
            sh: Shard::new(id, count, databases, common, stats),
            handlers: cmd::handlers(),
            out: (0..io_threads).map(|_| Outbox::new()).collect(),
            local_hops: VecDeque::new(),
            peers: Vec::new(),
            tx: tx::TxTable::default(),
            spin_budget,
            spin_setting: spin_budget,
            in_exec: false,
            exec_call: false,
            mark: 0,
            held: VecDeque::new(),
        }
    }

    /// Puts the keys loaded from the RDB file at start-up
    /// ([`crate::persist::load`]) into this shard's databases.
    pub fn preload(&mut self, keys: Vec<crate::persist::Loaded>) {
        let now = self.sh.now_ms;
        for k in keys {
            if let Some(d) = self.sh.dbs.get_mut(k.db) {
                d.set(spec::key_hash(&k.key), &k.key, k.value, k.expire_at, now);
            }
        }
    }

    /// Runs the engine loop until [`ToEngine::Shutdown`] or every sender is gone.
    pub fn run(mut self, inbox: Receiver<ToEngine>, peers: Vec<Sender<ToEngine>>, io: Vec<IoLink>) {
        if !peers.is_empty() {
            self.sh.link = Some(shard::Link {
                inbox: inbox.clone(),
                peers: peers.clone(),
            });
        }
        self.peers = peers;
        loop {
            // What a script's wait set aside comes first, in order.
            let first = match self.sh.backlog.pop_front() {
                Some(m) => Some(m),
                None => self.wait(&inbox),
            };
            self.sh.now_ms = cmd::now_ms();
            let busy = first.is_some();
            let mut stop = false;
            match first {
                Some(m) => {
                    stop = self.handle(m);
                    for _ in 1..DRAIN_LIMIT {
                        let next = match self.sh.backlog.pop_front() {
                            Some(m) => m,
                            None => match inbox.try_recv() {
                                Ok(m) => m,
                                Err(_) => break,
                            },
                        };
                        stop |= self.handle(next);
                    }
                }
                None if self.sh.snapshot.is_some() => {}
                None => self.expire(EXPIRE_BUDGET_IDLE),
            }
            if self.sh.snapshot.is_some() {
                self.sh.snapshot_step(snapshot::STEP_BYTES);
            }
            self.sh.fire_timeouts();
            self.run_hops();
            self.flush_tx();
            self.flush(&io);
            if stop {
                return;
            }
            if busy {
                self.expire(EXPIRE_BUDGET_BUSY);
            }
        }
    }

    /// Spin for up to the adaptive budget, then park until a message or
    /// the expiry tick (`1000 / hz` ms).
    fn wait(&mut self, inbox: &Receiver<ToEngine>) -> Option<ToEngine> {
        if self.sh.snapshot.is_some() {
            // A background save's part is unfinished: keep writing it, but
            // let a thread sharing this core (an IO thread) run first.
            return match inbox.try_recv() {
                Ok(m) => Some(m),
                Err(TryRecvError::Empty) => {
                    std::thread::yield_now();
                    None
                }
                Err(TryRecvError::Disconnected) => Some(ToEngine::Shutdown),
            };
        }
        let spin = Duration::from_micros(self.sh.tun.spin_us());
        let tick = Duration::from_millis(1000 / self.sh.tun.hz());
        if spin != self.spin_setting {
            self.spin_setting = spin;
            self.spin_budget = spin;
        }
        if self.spin_budget.is_zero() {
            // Spinning is off, or it stopped paying: try a little again.
            self.spin_budget = Duration::from_micros(1).min(spin);
        } else {
            let start = Instant::now();
            let mut n = 0u32;
            loop {
                match inbox.try_recv() {
                    Ok(m) => {
                        ThreadStats::count(&self.sh.stats.spin_wins);
                        self.spin_budget = (self.spin_budget * 2).min(spin);
                        return Some(m);
                    }
                    Err(TryRecvError::Disconnected) => return Some(ToEngine::Shutdown),
                    Err(TryRecvError::Empty) => {}
                }
                n += 1;
                if n % 64 == 0 {
                    if start.elapsed() >= self.spin_budget {
                        self.spin_budget = (self.spin_budget / 2).min(spin);
                        break;
                    }
                    // Give the core away now and then: on small machines the
                    // IO thread or the client may share it.
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
        // Park until the expiry tick or the earliest blocked-client timeout.
        let park = match self.sh.waits.next_deadline() {
            Some(d) => Duration::from_millis(d.saturating_sub(cmd::now_ms())).min(tick),
            None => tick,
        };
        ThreadStats::count(&self.sh.stats.parks);
        match inbox.recv_timeout(park) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(ToEngine::Shutdown),
        }
    }

    /// Returns true on shutdown. Transaction steps it produced for other
    /// shards go out at once, one message per peer.
    fn handle(&mut self, m: ToEngine) -> bool {
        self.sh.refresh_logging();
        let stop = self.handle_one(m);
        self.flush_tx();
        stop
    }

    fn handle_one(&mut self, m: ToEngine) -> bool {
        match m {
            ToEngine::Batch(b) => {
                self.run_batch(b);
                false
            }
            ToEngine::Hop(h) => {
                (h.0)(&mut self.sh);
                self.touch_script_writes();
                self.run_hops();
                false
            }
            ToEngine::Unblock { io, conn } => {
                self.sh.unblock(io, conn);
                self.forget(io, conn);
                false
            }
            ToEngine::Wake { io, conn, error } => {
                self.sh.wake(io, conn, error);
                self.run_hops();
                false
            }
            ToEngine::Tx(steps) => {
                for (id, step) in steps {
                    self.tx_step(id, step);
                }
                self.run_hops();
                false
            }
            ToEngine::Join {
                info,
                io,
                conn,
                what,
            } => {
                let work = tx::Work::for_begun(what, &info, self.sh.id);
                self.tx_join(info, (io, conn), work);
                self.run_hops();
                false
            }
            ToEngine::Snapshot => {
                self.sh.begin_global_snapshot();
                self.run_hops();
                false
            }
            // Held replies are looked at in `flush`, after this.
            ToEngine::Synced => false,
            ToEngine::Shutdown => true,
        }
    }

    fn run_batch(&mut self, batch: RequestBatch) {
        self.sh.stats.batch(batch.items.len());
        self.sh.check_resetstat();
        self.sh.refresh_memory();
        let io = batch.io as usize;
        // One clock read per command: each starts when the last ended.
        self.mark = now_ns();
        for req in &batch.items {
            let args = &batch.args[req.args.start..req.args.end];
            if req.tx.is_some() {
                self.tx_part(io, req, args);
                self.mark = now_ns();
                continue;
            }
            // The single-shard fast path: one check while nothing is locked.
            if !self.tx.idle() && self.run_or_park(io, req, args) {
                self.mark = now_ns();
                continue;
            }
            self.run_any(io, req, args, 0);
        }
        self.mark = 0;
        self.out[io].credits += 1;
    }

    /// Runs a request: WATCH and UNWATCH parts here (MULTI and EXEC stay
    /// on the IO thread, which plans EXEC as a transaction), commands
    /// through [`Engine::run_request`].
    fn run_any(&mut self, io: usize, req: &Request, args: &[Bytes], tx: TxId) -> bool {
        let s = spec::get(req.cmd);
        if s.route == spec::Route::Tx {
            if s.name == "watch" {
                self.watch(io, req, args);
            } else {
                self.unwatch(io, req);
            }
            return false;
        }
        self.run_request(io, req, args, tx)
    }

    /// Runs one request, its reply going to IO thread `io`'s outbox; `tx`
    /// is the coordinated transaction whose command it is (0: none).
    /// Returns true if the command deferred its reply (hops).
    fn run_request(&mut self, io: usize, req: &Request, args: &[Bytes], tx: TxId) -> bool {
        let spec = spec::get(req.cmd);
        if self.sh.evict.settings.limit != 0 && self.refuse_oom(io, req, args, tx) {
            return false;
        }
        let no_touch = req.client_flags & crate::msg::client_flags::NO_TOUCH != 0;
        // WATCH needs to know which keys a write changed.
        // DEBUG RELOAD (not a write in Redis's table) replaces the keyspace.
        let watched = self.tx.watching()
            && (spec.is(spec::flag::WRITE) || spec.route == spec::Route::All(spec::Gather::Reload));
        let existed = if watched {
            self.keys_existing(req, args)
        } else {
            Vec::new()
        };
        let ob = &mut self.out[io];
        ob.reply.resp3 = req.resp3;
        let reply_to = ReplyTo {
            io: io as u16,
            conn: req.conn,
            seq: req.seq,
            part: req.part,
            resp3: req.resp3,
            tx,
        };
        let start = if self.mark != 0 { self.mark } else { now_ns() };
        let reply_from = ob.reply.buf.len();
        // A command that may be split over shards (MSET, KEYS, ...) is
        // shown whole by its IO thread instead, unless EXEC runs it here; a
        // lock-only part has no arguments.
        let whole =
            self.in_exec || !matches!(spec.route, spec::Route::Keys(_) | spec::Route::All(_));
        if whole && !args.is_empty() {
            self.sh
                .feed_monitor(spec, req.db as usize, Some((io as u16, req.conn)), args);
        }
        let ob = &mut self.out[io];
        match self.handlers[req.cmd as usize] {
            Some(h) => {
                let mut ctx = Ctx {
                    sh: &mut self.sh,
                    args,
                    db: req.db as usize,
                    hash: req.hash,
                    first_key: spec.first_key.max(0) as usize,
                    out: &mut ob.reply,
                    reply_to,
                    deferred: false,
                    claim: req.claim.as_ref(),
                    no_wait: self.in_exec,
                    client_flags: req.client_flags,
                    caller: req.caller.as_ref(),
                };
                if no_touch {
                    ctx.sh.set_no_touch(true);
                }
                cmd::execute(h, &mut ctx, spec);
                if no_touch {
                    ctx.sh.set_no_touch(false);
                }
                let deferred = ctx.deferred;
                if spec.is(spec::flag::WRITE) {
                    self.sh.changes += 1;
                }
                if watched {
                    self.watch_after_write(req, args, &existed);
                }
                if req.client_flags & crate::msg::client_flags::TRACK_READ != 0
                    && spec.is(spec::flag::READONLY)
                {
                    self.remember_reads(io, req, args);
                }
                // Flushes and keys reached on other shards may owe an
                // invalidation even with nothing remembered here.
                if spec.is(spec::flag::WRITE)
                    && (self.sh.tracking_active()
                        || self.sh.pubsub.tracking_clients() > 0
                            && matches!(spec.route, spec::Route::Coord | spec::Route::All(_)))
                {
                    self.invalidate_written(io, req, args);
                }
                self.touch_script_writes();
                if deferred {
                    // Counted when deferred; its reply comes later.
                    let end = now_ns();
                    self.account(io, req, args, None, end.saturating_sub(start));
                    if self.mark != 0 {
                        self.mark = end;
                    }
                    return true;
                }
            }
            None => self.out[io]
                .reply
                .error(&format!("ERR '{}' cannot run on a shard", spec.name)),
        }
        let end = now_ns();
        if self.mark != 0 {
            self.mark = end;
        }
        self.account(io, req, args, Some(reply_from), end.saturating_sub(start));
        let stamp = if req.stamp != 0 {
            self.sh
                .stats
                .executed(spec.name, start.saturating_sub(req.stamp), end - start);
            end
        } else {
            0
        };
        let ob = &mut self.out[io];
        ob.items.push(ReplyItem {
            conn: req.conn,
            seq: req.seq,
            part: req.part,
            end: ob.reply.buf.len(),
            stamp,
        });
        false
    }

    /// `maxmemory`, before a command runs (Redis's `processCommand`):
    /// evicts if memory is over, and answers `-OOM` instead of running a
    /// `denyoom` command that this shard decides alone when nothing could
    /// be evicted. A part of a split command or of a transaction is never
    /// refused here (its other parts may have run): the IO thread refused
    /// those up front ([`crate::alloc::out_of_memory`]). Returns true if
    /// it answered.
    #[cold]
    fn refuse_oom(&mut self, io: usize, req: &Request, args: &[Bytes], tx: TxId) -> bool {
        if self.in_exec || tx != 0 || args.is_empty() {
            self.sh.evict.oom_before = crate::alloc::out_of_memory();
            return false;
        }
        let verdict = self.sh.perform_evictions(self.tx.idle());
        let oom = verdict == evict::Verdict::Fail;
        self.sh.evict.oom_before = oom;
        let s = spec::get(req.cmd);
        if !oom
            || !s.is(spec::flag::DENYOOM)
            || !matches!(s.route, spec::Route::Key | spec::Route::Coord)
        {
            return false;
        }
        let sub = if s.is(spec::flag::CONTAINER) {
            args.get(1).map(|a| &a[..])
        } else {
            None
        };
        self.sh.stats.rejected(
            Some(req.cmd),
            sub,
            format!("-{}", crate::resp::errors::OOM).as_bytes(),
        );
        self.reply_now(io, req, |r| r.error(crate::resp::errors::OOM));
        true
    }

    /// Counts a command that ran for `ns` in INFO commandstats and
    /// errorstats, and hands it to the slow log if it was slow. Its reply
    /// starts at `reply_from` in IO thread `io`'s outbox (`None`: deferred,
    /// no reply yet). A command split across shards counts one call (its
    /// first part, or first EXEC step) and every part's time; each slow
    /// part is logged with its own keys.
    #[inline]
    fn account(
        &mut self,
        io: usize,
        req: &Request,
        args: &[Bytes],
        reply_from: Option<usize>,
        ns: u64,
    ) {
        let spec = spec::get(req.cmd);
        let reply = reply_from.and_then(|f| self.out[io].reply.buf.get(f..));
        let error = reply.filter(|r| r.first() == Some(&b'-'));
        let sub = if spec.is(spec::flag::CONTAINER) {
            args.get(1).map(|a| &a[..])
        } else {
            None
        };
        let call = if self.in_exec {
            self.exec_call
        } else {
            req.part == 0
        };
        self.sh.stats.called(req.cmd, sub, ns, error, call);
        if self.sh.stats.slow.is_slow(ns) {
            let conn = req.conn;
            self.sh
                .stats
                .slow
                .record(args, spec.is(spec::flag::FAST), ns, || {
                    crate::slowlog::Who::Pending {
                        io: io as u16,
                        conn,
                    }
                });
        }
    }

    /// Marks the keys scripts wrote here as touched for WATCH, and
    /// invalidates them for tracking clients.
    #[inline]
    fn touch_script_writes(&mut self) {
        if !self.sh.touched.is_empty() {
            let touched = std::mem::take(&mut self.sh.touched);
            if self.sh.tracking_active() {
                for (_, k) in &touched {
                    self.sh.invalidate(k, None);
                }
            }
            self.touch_keys(&touched);
        }
    }

    /// Client-side caching: the keys of read command `req` that live here,
    /// remembered for its client.
    fn remember_reads(&mut self, io: usize, req: &Request, args: &[Bytes]) {
        let t = crate::pubsub::Tracker {
            io: io as u16,
            conn: req.conn,
        };
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        for i in spec::get(req.cmd).keys_in(&refs).unwrap_or_default() {
            if let Some(k) = refs.get(i) {
                if self.sh.shard_of(k) == self.sh.id {
                    self.sh.remember_read(k, t);
                }
            }
        }
    }

    /// Client-side caching: write command `req` may have changed its keys
    /// that live here; a flush changed everything.
    fn invalidate_written(&mut self, io: usize, req: &Request, args: &[Bytes]) {
        let s = spec::get(req.cmd);
        match s.name {
            "flushall" => return self.sh.invalidate_flush(true),
            "flushdb" => return self.sh.invalidate_flush(false),
            _ => {}
        }
        let writer = Some((io as u16, req.conn));
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        for i in s.keys_in(&refs).unwrap_or_default() {
            if let Some(k) = refs.get(i) {
                let home = self.sh.shard_of(k);
                if home == self.sh.id {
                    self.sh.invalidate(k, writer);
                } else if s.route == spec::Route::Coord {
                    // A key this coordinated command reached on another
                    // shard (RENAME's destination, ...): its readers are
                    // remembered there.
                    let k = Bytes::copy_from_slice(k);
                    self.sh.hop(home, move |sh| sh.invalidate(&k, writer));
                }
            }
        }
    }

    /// Answers `+OK` to a request.
    fn reply_ok(&mut self, io: usize, req: &Request) {
        self.reply_now(io, req, |r| r.ok());
    }

    /// Answers a request with what `write` writes, without running it.
    fn reply_now(&mut self, io: usize, req: &Request, write: impl FnOnce(&mut crate::resp::Reply)) {
        let ob = &mut self.out[io];
        ob.reply.resp3 = req.resp3;
        write(&mut ob.reply);
        ob.items.push(ReplyItem {
            conn: req.conn,
            seq: req.seq,
            part: req.part,
            end: ob.reply.buf.len(),
            stamp: 0,
        });
    }

    /// Runs hops addressed to this shard, sends the others, and queues the
    /// replies they produced; a reply that ends a coordinated transaction
    /// releases its locks, which may run more. Loops until all is done.
    fn run_hops(&mut self) {
        loop {
            loop {
                for (target, hop) in self.sh.hops_out.drain(..) {
                    if target == self.sh.id || self.peers.is_empty() {
                        self.local_hops.push_back(hop);
                    } else {
                        // Unbounded inbox: never blocks (see msg's backpressure notes).
                        let _ = self.peers[target as usize].send(ToEngine::Hop(hop));
                    }
                }
                match self.local_hops.pop_front() {
                    Some(h) => (h.0)(&mut self.sh),
                    None => break,
                }
            }
            self.begin_shard_txs();
            // Commands that let go of their transaction without answering.
            let mut ended = std::mem::take(&mut self.sh.tx_ended);
            for (to, bytes) in self.sh.replies_out.drain(..) {
                if to.tx != 0 {
                    ended.push(to.tx);
                }
                // A reply for no IO thread (a script's own command never
                // defers; should one ever) goes nowhere rather than abort.
                let Some(ob) = self.out.get_mut(to.io as usize) else {
                    continue;
                };
                ob.reply.raw(&bytes);
                ob.items.push(ReplyItem {
                    conn: to.conn,
                    seq: to.seq,
                    part: to.part,
                    end: ob.reply.buf.len(),
                    stamp: 0,
                });
            }
            if ended.is_empty() && self.sh.hops_out.is_empty() && self.sh.tx_begun.is_empty() {
                return;
            }
            for id in ended {
                self.tx_replied(id);
            }
        }
    }

    /// Queues the parts of the transactions this shard began
    /// ([`Shard::tx_begun`]): here, with the work it runs at Go, and on
    /// each other shard of theirs by a [`ToEngine::Join`].
    fn begin_shard_txs(&mut self) {
        for (info, io, conn, what) in std::mem::take(&mut self.sh.tx_begun) {
            for &(s, _) in &info.shards {
                if s == self.sh.id {
                    let work = tx::Work::for_begun(what, &info, s);
                    self.tx_join(info.clone(), (io, conn), work);
                } else if let Some(p) = self.peers.get(s as usize) {
                    // Unbounded inbox: never blocks.
                    let _ = p.send(ToEngine::Join {
                        info: info.clone(),
                        io,
                        conn,
                        what,
                    });
                }
            }
        }
    }

    fn flush(&mut self, io: &[IoLink]) {
        self.sh
            .saver
            .set_changes(self.sh.id as usize, self.sh.changes);
        self.sh.log_flush();
        // After the log's flush, which publishes the `expired` events of
        // the keys it logs; before the replies.
        self.sh.flush_published();
        // Under `appendfsync always` a reply leaves once what it depends
        // on is on disk; later batches queue behind held ones, so each IO
        // thread still gets this shard's replies in order.
        let need = self.sh.log_wait;
        let hold = self.sh.logging
            && self.sh.aof.always()
            && (!self.held.is_empty() || need > self.sh.aof.synced());
        for (i, ob) in self.out.iter_mut().enumerate() {
            if ob.is_empty() {
                continue;
            }
            let batch = ob.take(self.sh.id);
            if hold {
                self.held.push_back((need, i, batch));
            } else if io[i].tx.send(ToIo::Replies(batch)).is_ok() {
                io[i].waker.wake();
            }
        }
        while let Some(&(need, _, _)) = self.held.front() {
            let synced = self.sh.aof.synced();
            if need > synced && self.sh.aof.wait_for(self.sh.id as usize, need) {
                break;
            }
            if let Some((_, i, batch)) = self.held.pop_front() {
                if io[i].tx.send(ToIo::Replies(batch)).is_ok() {
                    io[i].waker.wake();
                }
            }
        }
    }

    fn expire(&mut self, budget: usize) {
        // The active-expiry step is this thread's tick.
        crate::alloc::give_back_if_asked();
        // Eviction goes on between commands too (Redis's
        // `evictionTimeProc`), and a lowered limit is met while idle.
        self.sh.refresh_memory();
        if self.sh.evict.settings.limit != 0 {
            self.sh.perform_evictions(self.tx.idle());
            self.sh.flush_published();
        }
        // With the AOF on, no key expires under a transaction holding
        // locks here: its DEL would land after the transaction's place
        // while the transaction saw the key gone.
        if self.sh.logging && !self.tx.idle() {
            return;
        }
        self.sh.refresh_logging();
        let now = self.sh.now_ms;
        if self.sh.tun.active_expire() {
            // Timed only while the latency monitor is on (`expire-cycle`).
            let start = if self.sh.stats.slow.latency_on() {
                now_ns()
            } else {
                0
            };
            for db in self.sh.dbs.iter_mut() {
                db.expire_step(now, budget);
            }
            if start != 0 {
                let ms = now_ns().saturating_sub(start) / 1_000_000;
                self.sh.stats.slow.latency_event("expire-cycle", ms);
            }
        }
        if self.sh.notify != 0 || self.sh.tracking_active() {
            // `expired` events and invalidations now, not at the next
            // message's turn (the log gets its DELs here too).
            self.sh.log_expired();
        }
        self.sh.flush_published();
    }
}

impl Engine {
    /// Colocated: queues what was logged and, under `appendfsync always`,
    /// waits until it is on disk (the IO thread sends the replies as soon
    /// as the engine returns; one shard, so nothing else can be waited on).
    fn settle_log(&mut self) {
        self.sh.log_flush();
        self.sh.flush_published();
        if self.sh.logging && self.sh.aof.always() {
            self.sh.aof.block_until(self.sh.log_wait);
        }
    }
}

impl Executor for Engine {
    fn execute(&mut self, batch: RequestBatch) -> ReplyBatch {
        self.sh.now_ms = cmd::now_ms();
        let io = batch.io as usize;
        self.sh.refresh_logging();
        self.run_batch(batch);
        self.run_hops();
        self.sh.saver.set_changes(0, self.sh.changes);
        self.settle_log();
        self.out[io].take(self.sh.id)
    }

    fn idle(&mut self) {
        self.sh.now_ms = cmd::now_ms();
        self.expire(EXPIRE_BUDGET_BUSY);
    }

    fn next_deadline(&self) -> Option<u64> {
        self.sh.waits.next_deadline()
    }

    fn fire_timeouts(&mut self) -> ReplyBatch {
        self.sh.now_ms = cmd::now_ms();
        self.sh.fire_timeouts();
        self.run_hops();
        self.settle_log();
        // Colocated engines serve exactly one IO thread.
        self.out[0].take(self.sh.id)
    }

    fn wake(&mut self, io: u16, conn: u64, error: bool) -> ReplyBatch {
        self.sh.now_ms = cmd::now_ms();
        self.sh.wake(io, conn, error);
        self.run_hops();
        self.settle_log();
        self.out[0].take(self.sh.id)
    }

    fn unblock(&mut self, io: u16, conn: u64) {
        // As `ToEngine::Unblock`: its waits and its watches go.
        self.sh.unblock(io, conn);
        self.forget(io, conn);
    }

    fn background(&mut self) -> bool {
        self.sh.now_ms = cmd::now_ms();
        self.sh.snapshot_step(snapshot::STEP_BYTES)
    }

    fn begin_snapshot(&mut self) {
        self.sh.now_ms = cmd::now_ms();
        self.sh.begin_global_snapshot();
        self.run_hops();
    }
}
