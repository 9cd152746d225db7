//! Stage 1: the IO threads.
//!
//! Each IO thread is pinned to its own core and drives its own io_uring ring
//! (single issuer, deferred task-run): multishot accept on the shared
//! listeners, multishot receive into a provided buffer ring
//! ([`bufring::BufRing`]), one `Send` in flight per connection, and an
//! eventfd read armed as the doorbell shards ring when this thread has
//! parked ([`crate::msg::Waker`]).
//!
//! # Rooms
//!
//! [`ring`] holds the io_uring mechanics (submission, completion, buffer
//! lifetimes); `lifecycle` the connection's life (accept, receive, parse,
//! send, pause, half-close, close); `route` what happens to a parsed
//! command (checks, batches per shard, splits and gathers, blocked
//! clients); [`local`] the connection-level commands, which see only
//! their own connection through a narrow context; [`conn`] the per-
//! connection state and reply reorder window. This file is the thread
//! itself: its state, its loop, spinning and parking.
//!
//! # One loop turn
//!
//! 1. Reap completions: new connections, received bytes (copied out of the
//!    provided buffer, which goes straight back), finished sends.
//! 2. Parse every connection that received bytes ([`crate::resp::parse`]),
//!    zero-copy: the parsed prefix of the input buffer is frozen once and the
//!    arguments are `Bytes` slices of it. Look each command up in
//!    [`crate::spec`], check arity and auth, hash its key once, and route it:
//!    connection commands run here ([`local`]), keyed commands go to the
//!    batch of the shard owning the key's hash slot, multi-key commands are
//!    split per shard and gathered back ([`gather`]).
//! 3. Drain the inbox of reply batches; each reply lands in its connection's
//!    reorder window ([`conn::Conn::complete`]) so pipelines spanning shards
//!    are answered in request order.
//! 4. Send each shard at most one batch (bounded by credits, see
//!    [`crate::msg`]) and start sends for connections with output.
//! 5. With nothing to do, spin for a while (adaptive, at most `spin-us`)
//!    and then park in `io_uring_enter` with the doorbell armed.
//!
//! # Backpressure
//!
//! A connection with too many replies pending or too much unsent output
//! stops being parsed and its receive is cancelled, so TCP pushes back on the
//! client; past `client-output-limit` it is disconnected. Input beyond
//! `client-query-buffer-limit` disconnects too, as in Redis.
//!
//! # Blocked clients
//!
//! A blocking command (BLPOP, BZPOPMIN, ...) goes to its first key's shard
//! with a fresh [`Claim`]; the connection then parses nothing more (its
//! pipelined commands wait behind it, as in Redis) until that command's
//! reply arrives. A blocked client that disconnects takes its claim, so no
//! shard pops for it, and the shards are told to drop its waits.

mod acl;
pub mod bufring;
pub mod conn;
pub mod gather;
mod lifecycle;
pub mod local;
pub mod pubsub;
pub mod ring;
mod route;
pub mod shared;
mod slow;
pub mod tracking;
mod tx;

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender};
use io_uring::{cqueue, opcode, squeue, types};

use crate::metrics::{ThreadStats, now_ns};
use crate::msg::{Executor, ToEngine, ToIo, Waker};
use crate::resp::Reply;
use crate::resp::parse::{ParseLimits, Span};
use conn::{Closing, Conn};
use ring::Ring;
use route::Outgoing;
use shared::Shared;

// Operation kinds in the top byte of a completion's user data.
const OP_ACCEPT: u64 = 1;
const OP_RECV: u64 = 2;
const OP_SEND: u64 = 3;
const OP_WAKE: u64 = 4;
const OP_CANCEL: u64 = 5;

/// Submission queue entries; the completion queue is four times larger.
const SQ_ENTRIES: u32 = 4096;
/// Provided receive buffers per ring, and their size in bytes.
const RECV_BUFS: u16 = 1024;
const RECV_BUF_SIZE: usize = 16 * 1024;
/// Request batches one IO thread may have unanswered per shard.
const CREDITS: u16 = 4;
/// Replies a connection may have pending before parsing pauses.
const MAX_PENDING: usize = 4096;
/// Unsent output bytes after which parsing pauses.
const PAUSE_OUT: usize = 4 << 20;
/// Most bytes handed to one send (1 GiB; the kernel refuses over INT_MAX).
const MAX_SEND: usize = 1 << 30;
/// How long shutdown waits for in-flight replies to be written.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);
/// How long shutdown then waits for the kernel to finish the operations of
/// closed sockets before leaking their buffers instead of freeing them.
const QUIESCE_DEADLINE: Duration = Duration::from_secs(1);

#[inline]
fn user_data(op: u64, generation: u32, slot: usize) -> u64 {
    (op << 56) | (((generation & 0xFF_FFFF) as u64) << 32) | slot as u64
}

/// The connection token carried by requests: generation and slot.
#[inline]
fn conn_token(generation: u32, slot: usize) -> u64 {
    ((generation as u64) << 32) | slot as u64
}

/// What an IO thread is given by the server at start.
pub struct IoSetup {
    pub index: u16,
    /// Listening sockets (shared by every IO thread).
    pub listeners: Vec<RawFd>,
    pub inbox: Receiver<ToIo>,
    pub waker: Arc<Waker>,
    /// Inboxes of the shard engines; empty in colocated mode.
    pub shards: Vec<Sender<ToEngine>>,
    /// The engine this thread drives itself in colocated mode.
    pub executor: Option<Box<dyn Executor>>,
    pub shared: Arc<Shared>,
    /// Told once whether the ring was set up (`Err` names the failure).
    pub ready: Sender<Result<(), String>>,
}

/// Limits cached from the live configuration, refreshed when CONFIG SET
/// bumps the epoch.
struct Limits {
    epoch: u64,
    parse: ParseLimits,
    query_limit: usize,
    output_limit: usize,
    /// `client-output-buffer-limit`, per [`crate::config::ObufClass`].
    obuf: [crate::config::ObufLimit; 3],
    timeout: Duration,
    /// `protected-mode`.
    protected_mode: bool,
    spin: Duration,
    /// Housekeeping period (`1000 / hz` ms): idle timeouts, colocated
    /// active expiry, and the longest park.
    tick: Duration,
    maxclients: usize,
    databases: usize,
    /// Time one request in this many (0: off), see [`crate::metrics`].
    sample_every: u64,
}

impl Limits {
    fn load(shared: &Shared) -> Limits {
        let epoch = shared.config_epoch.load(Ordering::Acquire);
        let c = shared.config();
        Limits {
            sample_every: shared.metrics.sample_every.load(Ordering::Relaxed),
            epoch,
            parse: ParseLimits {
                max_bulk: c.proto_max_bulk_len,
                ..ParseLimits::default()
            },
            query_limit: c.client_query_buffer_limit as usize,
            output_limit: c.client_output_limit as usize,
            obuf: c.client_obuf,
            timeout: Duration::from_secs(c.timeout),
            protected_mode: c.protected_mode,
            spin: Duration::from_micros(c.spin_us),
            tick: Duration::from_millis(1000 / c.hz.max(1)),
            maxclients: c.maxclients,
            databases: c.databases,
        }
    }
}

/// One IO thread's state. Built and run on its own thread by [`run`].
pub struct IoThread {
    index: u16,
    ring: Ring,
    /// Multishot accepts armed (one per listener while running).
    accepts_armed: usize,
    /// The doorbell read is armed.
    wake_armed: bool,
    listeners: Vec<RawFd>,
    inbox: Receiver<ToIo>,
    waker: Arc<Waker>,
    shards: Vec<Sender<ToEngine>>,
    nshards: usize,
    executor: Option<Box<dyn Executor>>,
    shared: Arc<Shared>,
    limits: Limits,

    conns: Vec<Option<Conn>>,
    gens: Vec<u32>,
    free: Vec<usize>,
    /// Client id → slot, for CLIENT KILL.
    by_id: hashbrown::HashMap<u64, usize>,
    /// Slots of this thread's MONITOR clients.
    monitors: Vec<usize>,
    /// The EXEC being dispatched went to the shards as a plan, whose last
    /// shard writes its MONITOR line.
    exec_planned: bool,
    /// Connections with output to start sending.
    dirty: Vec<usize>,
    /// Connections with unparsed input to look at this turn.
    to_parse: Vec<usize>,
    /// Connections CLIENT PAUSE holds (slot, generation).
    pause_held: Vec<(usize, u32)>,

    /// Requests collected this turn, per shard.
    batches: Vec<Outgoing>,
    credits: Vec<u16>,

    cqes: Vec<cqueue::Entry>,
    /// The input being dispatched (frozen), for zero-copy long arguments.
    parsed: Bytes,
    spans: Vec<Span>,
    cmds: Vec<(usize, usize, usize)>,
    spin_budget: Duration,
    stopping: Option<Instant>,
    /// A shutdown's final save holds this thread: nothing is parsed.
    held: bool,
    /// Dropped once every request sent to a shard is answered while held.
    hold_ack: Option<Sender<()>>,
    /// SHUTDOWNs waiting for the final save: slot, generation and the
    /// sequence number of their reply.
    shutdown_waiters: Vec<(usize, u32, u64)>,
    /// Counters added to the shared totals once per turn.
    commands: u64,
    in_bytes: u64,
    /// Receives that brought bytes and sends that took some, since the
    /// last fold into INFO's `total_reads_processed` and
    /// `total_writes_processed`.
    reads: u64,
    writes: u64,
    out_bytes: u64,
    last_tick: Instant,
    /// This thread's latency histograms and wakeup counters.
    stats: Arc<ThreadStats>,
    /// Scratch of `send_split`, kept for its buffers: per shard, the
    /// ordinals of the keys that go there; and the shards in order of
    /// their first key.
    split_keys: Vec<Vec<u32>>,
    split_order: Vec<usize>,
    /// Requests sent to shards since the last sampled one.
    since_sample: u64,
    /// When this loop turn's completions were reaped (ns, sampling on only).
    turn_ns: u64,
    /// Who on this thread subscribes to what ([`pubsub`]).
    subs: pubsub::Table,
    /// Messages this thread's publishes queued for other IO threads,
    /// sent once per turn.
    pub_out: crate::pubsub::Outbox,
    /// Client-side caching flags of the command being routed
    /// ([`crate::msg::client_flags`]), put on each of its requests.
    client_flags_now: u8,
    /// For a script (EVAL, FCALL, EXEC) of a user with ACL restrictions:
    /// what its calls are checked against, put on its requests.
    caller_now: Option<Arc<crate::acl::Caller>>,
}

/// Runs one IO thread until shutdown. Errors: the ring or its buffers could
/// not be set up (io_uring unavailable), which the caller reports loudly.
pub fn run(setup: IoSetup) -> io::Result<()> {
    let ready = setup.ready.clone();
    let mut t = match IoThread::new(setup) {
        Ok(t) => t,
        Err(e) => {
            let _ = ready.send(Err(format!("io_uring setup failed: {e}")));
            return Err(e);
        }
    };
    let _ = ready.send(Ok(()));
    drop(ready);
    t.main_loop()
}

impl IoThread {
    fn new(s: IoSetup) -> io::Result<IoThread> {
        let ring = Ring::new(SQ_ENTRIES, RECV_BUFS, RECV_BUF_SIZE)?;
        let nshards = if s.executor.is_some() {
            1
        } else {
            s.shards.len()
        };
        let limits = Limits::load(&s.shared);
        let spin = limits.spin;
        let mut t = IoThread {
            index: s.index,
            ring,
            accepts_armed: 0,
            wake_armed: false,
            listeners: s.listeners,
            inbox: s.inbox,
            waker: s.waker,
            shards: s.shards,
            nshards,
            executor: s.executor,
            stats: s.shared.metrics.register(format!("io{}", s.index)),
            since_sample: 0,
            turn_ns: 0,
            split_keys: Vec::new(),
            split_order: Vec::new(),
            shared: s.shared,
            limits,
            conns: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            by_id: hashbrown::HashMap::new(),
            monitors: Vec::new(),
            exec_planned: false,
            dirty: Vec::new(),
            to_parse: Vec::new(),
            pause_held: Vec::new(),
            batches: (0..nshards).map(|_| Outgoing::default()).collect(),
            credits: vec![CREDITS; nshards],
            cqes: Vec::with_capacity(256),
            parsed: Bytes::new(),
            spans: Vec::new(),
            cmds: Vec::new(),
            spin_budget: spin,
            stopping: None,
            held: false,
            hold_ack: None,
            shutdown_waiters: Vec::new(),
            commands: 0,
            in_bytes: 0,
            reads: 0,
            writes: 0,
            out_bytes: 0,
            last_tick: Instant::now(),
            subs: pubsub::Table::default(),
            pub_out: crate::pubsub::Outbox::default(),
            client_flags_now: 0,
            caller_now: None,
        };
        for i in 0..t.listeners.len() {
            t.arm_accept(i);
        }
        t.arm_wake();
        Ok(t)
    }

    fn push(&mut self, e: squeue::Entry) {
        // SAFETY: every buffer an entry points at stays alive and unmoved
        // until its completion: connection buffers until the slot's op
        // count is zero (`maybe_free`, `close_all`), the ring's own
        // buffers until the ring is dropped quiet (see `ring`).
        unsafe { self.ring.push(&e) }
    }

    fn enter(&mut self) {
        self.ring.enter();
    }

    fn arm_accept(&mut self, i: usize) {
        let fd = self.listeners[i];
        let e = opcode::AcceptMulti::new(types::Fd(fd))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(OP_ACCEPT, 0, i));
        self.accepts_armed += 1;
        self.push(e);
    }

    fn arm_wake(&mut self) {
        let ptr = self.ring.wake_ptr();
        let e = opcode::Read::new(types::Fd(self.waker.fd()), ptr, 8)
            .build()
            .user_data(user_data(OP_WAKE, 0, 0));
        self.wake_armed = true;
        self.push(e);
    }

    fn main_loop(&mut self) -> io::Result<()> {
        loop {
            self.enter();
            let mut busy = self.reap();
            if self.limits.sample_every > 0 {
                self.turn_ns = now_ns();
            }
            busy |= self.drain_inbox();
            self.colocated_timeouts();
            self.parse_pending();
            // Before this turn's batches: a client's publish reaches the
            // other IO threads before anything its later commands cause.
            self.flush_published();
            self.flush_batches();
            self.flush_sends();
            self.ring.bufs().commit();
            self.end_turn();
            // Colocated: a BGSAVE's part keeps the thread from parking.
            busy |= self.executor.as_mut().is_some_and(|ex| ex.background());
            if self.hold_ack.is_some() && self.answered() {
                self.hold_ack = None;
            }
            if let Some(since) = self.stopping {
                if self.drained() || since.elapsed() > DRAIN_DEADLINE {
                    self.close_all();
                    return Ok(());
                }
            }
            if busy || !self.to_parse.is_empty() {
                continue;
            }
            if !self.spin() {
                self.park();
            }
        }
    }

    /// Spins for new work up to the adaptive budget; true if work arrived.
    /// The budget doubles (up to `spin-us`) when spinning pays off and
    /// halves when it does not, so an idle or overloaded thread stops
    /// burning a core the client may need.
    fn spin(&mut self) -> bool {
        if self.spin_budget.is_zero() {
            self.spin_budget = Duration::from_micros(1).min(self.limits.spin);
            return false;
        }
        let start = Instant::now();
        loop {
            if !self.inbox.is_empty() {
                break;
            }
            self.enter();
            if self.ring.has_completions() {
                break;
            }
            if start.elapsed() >= self.spin_budget {
                self.spin_budget /= 2;
                return false;
            }
            std::hint::spin_loop();
        }
        self.spin_budget = (self.spin_budget * 2).min(self.limits.spin);
        ThreadStats::count(&self.stats.spin_wins);
        true
    }

    /// Blocks in the kernel until a completion, the doorbell or the park timeout.
    fn park(&mut self) {
        self.waker.set_parked(true);
        if !self.inbox.is_empty()
            || self.shared.shutdown.load(Ordering::Relaxed) && self.stopping.is_none()
        {
            self.waker.set_parked(false);
            return;
        }
        ThreadStats::count(&self.stats.parks);
        // Colocated: wake for the earliest blocked-client timeout too.
        let park = match self.executor.as_ref().and_then(|ex| ex.next_deadline()) {
            Some(d) => {
                Duration::from_millis(d.saturating_sub(crate::cmd::now_ms())).min(self.limits.tick)
            }
            None => self.limits.tick,
        };
        self.ring.wait(park);
        self.waker.set_parked(false);
    }

    /// Processes every available completion. Returns true if any arrived.
    fn reap(&mut self) -> bool {
        let mut any = false;
        let mut batch = std::mem::take(&mut self.cqes);
        loop {
            batch.clear();
            self.ring.reap_into(&mut batch, 256);
            if batch.is_empty() {
                self.cqes = batch;
                return any;
            }
            any = true;
            for cqe in batch.iter() {
                self.on_cqe(cqe.clone());
            }
        }
    }

    fn on_cqe(&mut self, cqe: cqueue::Entry) {
        let ud = cqe.user_data();
        let op = ud >> 56;
        let generation = ((ud >> 32) & 0xFF_FFFF) as u32;
        let slot = (ud & 0xFFFF_FFFF) as usize;
        let res = cqe.result();
        let flags = cqe.flags();
        match op {
            OP_ACCEPT => {
                if !cqueue::more(flags) {
                    self.accepts_armed -= 1;
                }
                if res >= 0 {
                    self.on_accept(res);
                } else if res != -libc::ECANCELED {
                    tracing::debug!("accept failed: {}", io::Error::from_raw_os_error(-res));
                }
                if !cqueue::more(flags) && self.stopping.is_none() {
                    self.arm_accept(slot);
                }
            }
            OP_WAKE => {
                self.wake_armed = false;
                if self.stopping.is_none() {
                    self.arm_wake();
                }
            }
            OP_RECV => self.on_recv(slot, generation, res, flags),
            OP_SEND => self.on_send(slot, generation, res),
            _ => {}
        }
    }

    fn drain_inbox(&mut self) -> bool {
        let mut any = false;
        while let Ok(m) = self.inbox.try_recv() {
            any = true;
            match m {
                ToIo::Replies(b) => self.on_replies(b),
                ToIo::Kill(id) => {
                    if let Some(&slot) = self.by_id.get(&id) {
                        self.close(slot, Closing::Now);
                        self.maybe_free(slot);
                    }
                }
                ToIo::Unblock { id, error } => self.wake_client(id, error),
                ToIo::Monitor(lines) => self.feed_monitors(&lines),
                ToIo::Hold(ack) => {
                    self.held = true;
                    self.hold_ack = Some(ack);
                }
                ToIo::Release => self.release(),
                ToIo::Published(list) => self.deliver(list),
                ToIo::Invalidate(list) => self.on_invalidate(list),
                ToIo::InvalidateClient { id, key, resp3 } => self.invalidate_client(id, key, resp3),
                ToIo::InvalidateAll => self.invalidate_all(),
                ToIo::Shutdown => self.begin_stop(),
                ToIo::Snapshot => {
                    if let Some(ex) = self.executor.as_mut() {
                        ex.begin_snapshot();
                    }
                }
                ToIo::Adopt(fd) => self.adopt(fd),
                ToIo::Listen(fds) => {
                    if self.stopping.is_none() {
                        for fd in fds {
                            self.listeners.push(fd);
                            self.arm_accept(self.listeners.len() - 1);
                        }
                    }
                }
            }
        }
        if self.stopping.is_none() && self.shared.shutdown.load(Ordering::Relaxed) {
            self.begin_stop();
        }
        any
    }

    fn begin_stop(&mut self) {
        if self.stopping.is_some() {
            return;
        }
        self.stopping = Some(Instant::now());
        for i in 0..self.listeners.len() {
            let e = opcode::AsyncCancel::new(user_data(OP_ACCEPT, 0, i))
                .build()
                .user_data(user_data(OP_CANCEL, 0, 0));
            self.push(e);
        }
    }

    /// True when every request sent to a shard is answered.
    fn answered(&self) -> bool {
        self.credits.iter().all(|&c| c == CREDITS)
            && self.batches.iter().all(|b| b.items.is_empty())
    }

    /// Ends a hold ([`ToIo::Release`]): the SHUTDOWNs waiting here get
    /// Redis's error, and every connection with input is parsed again.
    fn release(&mut self) {
        self.held = false;
        self.hold_ack = None;
        for (slot, generation, seq) in std::mem::take(&mut self.shutdown_waiters) {
            if let Some(c) = self.conn_mut(slot, generation) {
                let b = encode(c.resp3, |r| {
                    r.error("ERR Errors trying to SHUTDOWN. Check logs.")
                });
                c.complete(seq, 0, &b, 0, b.len());
                self.mark_dirty(slot);
            }
        }
        for (slot, c) in self.conns.iter().enumerate() {
            if c.as_ref().is_some_and(|c| !c.input.is_empty()) {
                self.to_parse.push(slot);
            }
        }
    }

    /// True when every request sent to a shard is answered and every reply written.
    fn drained(&self) -> bool {
        self.answered()
            && self
                .conns
                .iter()
                .flatten()
                .all(|c| c.out_bytes() == 0 || c.closing == Closing::Now)
    }

    /// Once-per-turn bookkeeping: counters, configuration refresh, and
    /// (every `1000 / hz` ms) idle timeouts and colocated active expiry.
    fn end_turn(&mut self) {
        self.resume_paused();
        if self.commands > 0 {
            self.shared
                .total_commands
                .fetch_add(std::mem::take(&mut self.commands), Ordering::Relaxed);
        }
        if self.in_bytes > 0 {
            self.shared
                .net_input_bytes
                .fetch_add(std::mem::take(&mut self.in_bytes), Ordering::Relaxed);
        }
        if self.out_bytes > 0 {
            self.shared
                .net_output_bytes
                .fetch_add(std::mem::take(&mut self.out_bytes), Ordering::Relaxed);
        }
        if self.reads > 0 {
            self.shared
                .net_reads
                .fetch_add(std::mem::take(&mut self.reads), Ordering::Relaxed);
        }
        if self.writes > 0 {
            self.shared
                .net_writes
                .fetch_add(std::mem::take(&mut self.writes), Ordering::Relaxed);
        }
        if self.shared.config_epoch.load(Ordering::Acquire) != self.limits.epoch {
            self.limits = Limits::load(&self.shared);
        }
        if self.last_tick.elapsed() < self.limits.tick {
            return;
        }
        self.last_tick = Instant::now();
        self.publish_clients();
        if self.index == 0 {
            self.shared.sample_stats();
        }
        // Output over a soft limit is timed even while nothing new is
        // queued: look at those connections again.
        for slot in 0..self.conns.len() {
            if self.conns[slot]
                .as_ref()
                .is_some_and(|c| c.obuf_soft_since.is_some())
            {
                self.mark_dirty(slot);
            }
        }
        crate::alloc::give_back_if_asked();
        if let Some(ex) = self.executor.as_mut() {
            ex.idle();
        }
        if !self.limits.timeout.is_zero() {
            let timeout = self.limits.timeout;
            let idle: Vec<usize> = self
                .conns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    c.as_ref()
                        .filter(|c| c.pending() == 0 && c.last_active.elapsed() > timeout)
                        .map(|_| i)
                })
                .collect();
            for slot in idle {
                self.close(slot, Closing::Now);
                self.maybe_free(slot);
            }
        }
    }
}

/// A reply encoded on the IO thread for a connection's protocol.
fn encode(resp3: bool, f: impl FnOnce(&mut Reply)) -> Bytes {
    let mut r = Reply {
        buf: bytes::BytesMut::with_capacity(64),
        resp3,
    };
    f(&mut r);
    r.buf.freeze()
}
