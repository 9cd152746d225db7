//! Stage 1: the IO threads.
//!
//! Each IO thread is pinned to its own core and drives its own io_uring ring
//! (single issuer, deferred task-run): multishot accept on the shared
//! listeners, multishot receive into a provided buffer ring
//! ([`bufring::BufRing`]), one `Send` in flight per connection, and an
//! eventfd read armed as the doorbell shards ring when this thread has
//! parked ([`crate::msg::Waker`]).
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

pub mod bufring;
pub mod conn;
pub mod gather;
pub mod local;
pub mod ring;
pub mod shared;

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use crossbeam_channel::{Receiver, Sender};
use io_uring::{cqueue, opcode, squeue, types};

use crate::metrics::{ThreadStats, now_ns, stage};
use crate::msg::{Claim, Executor, ReplyBatch, Request, RequestBatch, ToEngine, ToIo, Waker};
use crate::resp::parse::{ParseLimits, Parsed, Span, parse_command, parse_i64, parse_resumable};
use crate::resp::{Reply, errors};
use crate::spec::{self, CmdId, Gather, Route};
use conn::{Closing, Conn, GatherState};
use ring::Ring;
use shared::{ClientInfo, Shared};

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
    timeout: Duration,
    password: String,
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
            timeout: Duration::from_secs(c.timeout),
            password: c.requirepass.clone(),
            spin: Duration::from_micros(c.spin_us),
            tick: Duration::from_millis(1000 / c.hz.max(1)),
            maxclients: c.maxclients,
            databases: c.databases,
        }
    }
}

/// Arguments at least this long travel zero-copy as slices of the
/// connection's input buffer; shorter ones are copied into the batch arena,
/// which is cheaper than a reference count the IO thread and the shard
/// would both touch for every argument.
const ZERO_COPY_MIN: usize = 256;

/// Where one argument of a queued request lives.
enum Arg {
    /// `(offset, length)` in the batch arena.
    Arena(usize, usize),
    /// A slice of the connection's input buffer.
    Shared(Bytes),
}

/// Requests collected for one shard during a loop turn, with their short
/// arguments copied into one arena per batch (see [`ZERO_COPY_MIN`]).
#[derive(Default)]
struct Outgoing {
    items: Vec<Request>,
    arena: BytesMut,
    args: Vec<Arg>,
    /// Requests in `items` sampled for latency.
    sampled: u32,
}

impl Outgoing {
    fn take(&mut self, io: u16) -> RequestBatch {
        let cap = self.arena.capacity().clamp(4096, 1 << 20);
        let data = std::mem::replace(&mut self.arena, BytesMut::with_capacity(cap)).freeze();
        let args = self
            .args
            .drain(..)
            .map(|a| match a {
                Arg::Arena(o, l) => data.slice(o..o + l),
                Arg::Shared(b) => b,
            })
            .collect();
        RequestBatch {
            io,
            items: std::mem::take(&mut self.items),
            args,
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
    /// Connections with output to start sending.
    dirty: Vec<usize>,
    /// Connections with unparsed input to look at this turn.
    to_parse: Vec<usize>,

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
    /// Counters added to the shared totals once per turn.
    commands: u64,
    in_bytes: u64,
    out_bytes: u64,
    last_tick: Instant,
    /// This thread's latency histograms and wakeup counters.
    stats: Arc<ThreadStats>,
    /// Requests sent to shards since the last sampled one.
    since_sample: u64,
    /// When this loop turn's completions were reaped (ns, sampling on only).
    turn_ns: u64,
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
            shared: s.shared,
            limits,
            conns: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            by_id: hashbrown::HashMap::new(),
            dirty: Vec::new(),
            to_parse: Vec::new(),
            batches: (0..nshards).map(|_| Outgoing::default()).collect(),
            credits: vec![CREDITS; nshards],
            cqes: Vec::with_capacity(256),
            parsed: Bytes::new(),
            spans: Vec::new(),
            cmds: Vec::new(),
            spin_budget: spin,
            stopping: None,
            commands: 0,
            in_bytes: 0,
            out_bytes: 0,
            last_tick: Instant::now(),
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

    fn arm_recv(&mut self, slot: usize) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        if c.recv_armed || c.eof || c.closing != Closing::Open {
            return;
        }
        c.recv_armed = true;
        c.ops += 1;
        let e = opcode::RecvMulti::new(types::Fd(c.fd), bufring::BGID)
            .build()
            .user_data(user_data(OP_RECV, c.generation, slot));
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
            self.flush_batches();
            self.flush_sends();
            self.ring.bufs().commit();
            self.end_turn();
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

    fn on_accept(&mut self, fd: i32) {
        if self.stopping.is_some() {
            // SAFETY: closing the fd we were just given.
            unsafe { libc::close(fd) };
            return;
        }
        let shared = self.shared.clone();
        if shared.connected.load(Ordering::Relaxed) >= self.limits.maxclients {
            let msg = b"-ERR max number of clients reached\r\n";
            // SAFETY: best-effort write of a static message, then close.
            unsafe {
                libc::write(fd, msg.as_ptr() as *const libc::c_void, msg.len());
                libc::close(fd);
            }
            shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
            tracing::info!("rejected a client: maxclients reached");
            return;
        }
        let one: libc::c_int = 1;
        // SAFETY: setsockopt with a live int.
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                &one as *const _ as *const libc::c_void,
                4,
            );
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.gens.push(0);
                self.conns.len() - 1
            }
        };
        self.gens[slot] = self.gens[slot].wrapping_add(1) & 0xFF_FFFF;
        let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let authed = self.limits.password.is_empty();
        self.conns[slot] = Some(Conn::new(fd, self.gens[slot], id, authed));
        self.by_id.insert(id, slot);
        shared.connected.fetch_add(1, Ordering::Relaxed);
        shared.total_connections.fetch_add(1, Ordering::Relaxed);
        let info = ClientInfo {
            id,
            addr: sock_addr(fd, true),
            laddr: sock_addr(fd, false),
            fd,
            io: self.index,
            created: Some(Instant::now()),
            last_active: Some(Instant::now()),
            resp: 2,
            flags: "N",
            cmd: "NULL".into(),
            ..Default::default()
        };
        shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, info);
        self.arm_recv(slot);
    }

    fn conn_mut(&mut self, slot: usize, generation: u32) -> Option<&mut Conn> {
        match self.conns.get_mut(slot) {
            Some(Some(c)) if c.generation & 0xFF_FFFF == generation & 0xFF_FFFF => Some(c),
            _ => None,
        }
    }

    fn on_recv(&mut self, slot: usize, generation: u32, res: i32, flags: u32) {
        let more = cqueue::more(flags);
        if let Some(bid) = cqueue::buffer_select(flags) {
            if res > 0 {
                let n = res as usize;
                // Split borrows: the buffer ring and the connection table.
                let data = self.ring.bufs().data(bid, n);
                if let Some(Some(c)) = self.conns.get_mut(slot) {
                    if c.generation == generation {
                        c.input.extend_from_slice(data);
                        c.last_active = Instant::now();
                    }
                }
                self.in_bytes += n as u64;
            }
            self.ring.bufs().give_back(bid);
        }
        let query_limit = self.limits.query_limit;
        let Some(c) = self.conn_mut(slot, generation) else {
            return;
        };
        if !more {
            c.recv_armed = false;
            c.recv_cancelling = false;
            c.ops -= 1;
        }
        let (paused, over) = (c.paused, c.input.len() > query_limit);
        if res > 0 {
            if over {
                tracing::info!(
                    "closing client {}: query buffer over client-query-buffer-limit",
                    c.id
                );
                self.close(slot, Closing::Now);
            } else if !paused {
                self.to_parse.push(slot);
                if !more {
                    self.arm_recv(slot);
                }
            }
        } else if res == 0 {
            // EOF: the client shut its sending side. As redis-server does,
            // every command it sent before is still answered (a half-closed
            // socket can read), then the connection closes (`flush_sends`).
            // A blocked client would wait for nothing: Redis frees it at
            // once, and so do we.
            c.eof = true;
            if c.blocked.is_some() {
                self.close(slot, Closing::Now);
            } else {
                self.to_parse.push(slot);
                self.mark_dirty(slot);
            }
        } else if res == -libc::ENOBUFS {
            // Out of provided buffers: they come back at the end of this turn.
            if !more && !paused {
                self.arm_recv(slot);
            }
        } else if res == -libc::ECANCELED {
            // Paused on purpose; re-armed when the connection drains. If it
            // drained while the cancel was in flight, that re-arm found the
            // old receive still armed and did nothing: arm it now.
            if !more && !paused {
                self.arm_recv(slot);
            }
        } else {
            tracing::debug!(
                "receive failed on slot {slot}: {}",
                io::Error::from_raw_os_error(-res)
            );
            self.close(slot, Closing::Now);
        }
        self.maybe_free(slot);
    }

    fn on_send(&mut self, slot: usize, generation: u32, res: i32) {
        if res > 0 {
            self.out_bytes += res as u64;
        }
        let Some(c) = self.conn_mut(slot, generation) else {
            return;
        };
        c.ops -= 1;
        c.send_inflight = false;
        if res < 0 {
            tracing::debug!(
                "send failed on slot {slot}: {}",
                io::Error::from_raw_os_error(-res)
            );
            self.close(slot, Closing::Now);
            self.maybe_free(slot);
            return;
        }
        c.send_off += res as usize;
        let mut timed = None;
        if c.send_off >= c.sending.len() {
            c.sending.clear();
            c.send_off = 0;
            timed = c.timed_send.take();
        }
        if let Some(t) = timed {
            self.stats.stage(stage::WRITE, now_ns().saturating_sub(t));
        }
        self.mark_dirty(slot);
        self.maybe_free(slot);
    }

    /// Starts a close. `Now` shuts the socket down so in-flight operations
    /// finish; the slot is freed when the last one completes.
    fn close(&mut self, slot: usize, how: Closing) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.closing == Closing::Now {
            return;
        }
        c.closing = how;
        if c.blocked.is_some() {
            self.unblock(slot, true);
        }
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if how == Closing::Now {
            // SAFETY: shutting down our own socket; the fd stays open until freed.
            unsafe { libc::shutdown(c.fd, libc::SHUT_RDWR) };
        } else if !c.dirty {
            c.dirty = true;
            self.dirty.push(slot);
        }
    }

    /// Frees the slot of a closed connection once no operation refers to it.
    fn maybe_free(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get(slot) else {
            return;
        };
        if c.closing != Closing::Now || c.ops > 0 {
            return;
        }
        let Some(c) = self.conns[slot].take() else {
            return;
        };
        // SAFETY: no operation refers to the fd any more.
        unsafe { libc::close(c.fd) };
        self.by_id.remove(&c.id);
        self.free.push(slot);
        self.shared.connected.fetch_sub(1, Ordering::Relaxed);
        self.shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&c.id);
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
                ToIo::Shutdown => self.begin_stop(),
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

    /// True when every request sent to a shard is answered and every reply written.
    fn drained(&self) -> bool {
        self.credits.iter().all(|&c| c == CREDITS)
            && self.batches.iter().all(|b| b.items.is_empty())
            && self
                .conns
                .iter()
                .flatten()
                .all(|c| c.out_bytes() == 0 || c.closing == Closing::Now)
    }

    /// Closes every connection at shutdown. Sockets are shut down first
    /// so the kernel completes their receives and sends; the thread then
    /// reaps for up to [`QUIESCE_DEADLINE`], freeing each connection whose
    /// operations are done. One still holding an operation after that is
    /// leaked rather than freed, and so are the ring's buffers (see
    /// [`ring`]): no buffer the kernel may touch is ever freed.
    fn close_all(&mut self) {
        for slot in 0..self.conns.len() {
            self.close(slot, Closing::Now);
            self.maybe_free(slot);
        }
        if self.wake_armed {
            let e = opcode::AsyncCancel::new(user_data(OP_WAKE, 0, 0))
                .build()
                .user_data(user_data(OP_CANCEL, 0, 0));
            self.push(e);
        }
        let deadline = Instant::now() + QUIESCE_DEADLINE;
        while self.in_flight() > 0 && Instant::now() < deadline {
            self.ring.wait(Duration::from_millis(10));
            self.reap();
        }
        for slot in 0..self.conns.len() {
            if let Some(c) = self.conns[slot].take() {
                tracing::warn!(
                    "client {}: {} operation(s) still in flight at shutdown; leaking its buffers",
                    c.id,
                    c.ops
                );
                self.shared.connected.fetch_sub(1, Ordering::Relaxed);
                self.shared
                    .clients
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&c.id);
                std::mem::forget(c);
            }
        }
        if self.in_flight() == 0 {
            self.ring.set_quiet();
        }
    }

    /// Copies every connection's live state into the shared client
    /// registry (one lock for all), for CLIENT LIST / INFO / KILL.
    pub(super) fn publish_clients(&self) {
        if self.by_id.is_empty() {
            return;
        }
        let mut m = self
            .shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for c in self.conns.iter().flatten() {
            if let Some(ci) = m.get_mut(&c.id) {
                c.publish(ci);
            }
        }
    }

    /// Submitted operations whose completion has not been reaped yet.
    fn in_flight(&self) -> usize {
        self.accepts_armed
            + self.wake_armed as usize
            + self
                .conns
                .iter()
                .flatten()
                .map(|c| c.ops as usize)
                .sum::<usize>()
    }

    fn on_replies(&mut self, b: ReplyBatch) {
        if let Some(c) = self.credits.get_mut(b.shard as usize) {
            *c += b.credits;
        }
        let mut start = 0usize;
        for it in &b.items {
            let end = it.end;
            let slot = (it.conn & 0xFFFF_FFFF) as usize;
            let generation = (it.conn >> 32) as u32;
            // A sampled reply: its handback ends now, its write starts.
            let handed = (it.stamp != 0).then(|| {
                let now = now_ns();
                self.stats
                    .stage(stage::HANDBACK, now.saturating_sub(it.stamp));
                now
            });
            if let Some(c) = self.conn_mut(slot, generation) {
                if let Some(now) = handed {
                    c.timed_reply.get_or_insert(now);
                }
                let woke = c.blocked.as_ref().is_some_and(|(seq, _)| *seq == it.seq);
                if c.complete(it.seq, it.part, &b.buf, start, end) && !c.dirty {
                    c.dirty = true;
                    self.dirty.push(slot);
                }
                if woke {
                    self.unblock(slot, false);
                }
            }
            start = end;
        }
    }

    /// Colocated: answers the blocked clients whose timeout has passed.
    fn colocated_timeouts(&mut self) {
        let Some(ex) = self.executor.as_mut() else {
            return;
        };
        if ex
            .next_deadline()
            .is_some_and(|d| d <= crate::cmd::now_ms())
        {
            let replies = ex.fire_timeouts();
            self.on_replies(replies);
        }
    }

    /// Parses every connection that received input this turn.
    fn parse_pending(&mut self) {
        let mut list = std::mem::take(&mut self.to_parse);
        for &slot in &list {
            self.parse_conn(slot);
        }
        list.clear();
        if self.to_parse.is_empty() {
            self.to_parse = list;
        }
    }

    fn parse_conn(&mut self, slot: usize) {
        if self.stopping.is_some() {
            return;
        }
        let mut limits = self.limits.parse;
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.closing != Closing::Open || c.paused || c.blocked.is_some() || c.input.is_empty() {
            return;
        }
        // Before AUTH, Redis's tighter request limits apply, and commands
        // are parsed one at a time: the limits lift for what follows a
        // successful AUTH in the same packet.
        limits.auth_required = !c.authed;
        let mut spans = std::mem::take(&mut self.spans);
        let mut cmds = std::mem::take(&mut self.cmds);
        spans.clear();
        cmds.clear();
        let mut pos = 0;
        let mut error = None;
        loop {
            if c.pending() + cmds.len() >= MAX_PENDING || c.out_bytes() >= PAUSE_OUT {
                c.paused = true;
                break;
            }
            let first = spans.len();
            match parse_resumable(&c.input[pos..], &limits, &mut spans, &mut c.resume) {
                Ok(Parsed::Command { consumed }) => {
                    if spans.len() > first {
                        cmds.push((pos, first, spans.len()));
                    }
                    pos += consumed;
                    if limits.auth_required && !cmds.is_empty() {
                        break;
                    }
                }
                Ok(Parsed::Incomplete { .. }) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let paused = c.paused;
        // The parsed prefix is frozen once; arguments are borrowed from it
        // while dispatching (see `push_request` for how they travel).
        let frozen = c.input.split_to(pos).freeze();
        self.parsed = frozen.clone();
        let mut args: Vec<&[u8]> = Vec::with_capacity(8);
        for (n, &(base, a, b)) in cmds.iter().enumerate() {
            args.clear();
            args.extend(spans[a..b].iter().map(|s| match s {
                Span::At(x, y) => &frozen[base + x..base + y],
                Span::Owned(o) => &o[..],
            }));
            self.dispatch(slot, &args);
            let Some(c) = self.conns[slot].as_mut() else {
                break;
            };
            if c.blocked.is_some() && c.eof {
                // Blocked after sending EOF: nobody is left to answer
                // (Redis frees such a client when it reads the EOF).
                error = None;
                self.close(slot, Closing::Now);
                break;
            }
            if c.blocked.is_some() {
                // A blocked client runs nothing else: what follows (even a
                // protocol error) is parsed again once it is answered.
                if let Some(&(next, _, _)) = cmds.get(n + 1) {
                    let mut rest = BytesMut::from(&frozen[next..]);
                    rest.extend_from_slice(&c.input);
                    c.input = rest;
                    c.resume.clear();
                }
                error = None;
                break;
            }
        }
        if let Some(c) = self.conns[slot].as_mut() {
            if error.is_some() {
                c.input.clear();
                c.resume.clear();
            } else if limits.auth_required && !c.input.is_empty() && c.blocked.is_none() {
                // Parsed one command before AUTH: the next waits a turn.
                self.to_parse.push(slot);
            }
        }
        drop(args);
        self.parsed = Bytes::new();
        self.spans = spans;
        self.cmds = cmds;
        if let Some(e) = error {
            if let Some(c) = self.conns[slot].as_mut() {
                tracing::debug!("protocol error from client {}: {}", c.id, e.text());
                c.reply_with(|r| r.error(&e.text()));
            }
            self.close(slot, Closing::AfterFlush);
        }
        if paused {
            self.pause_input(slot);
        }
        self.mark_dirty(slot);
    }

    fn mark_dirty(&mut self, slot: usize) {
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            if !c.dirty {
                c.dirty = true;
                self.dirty.push(slot);
            }
        }
    }

    /// Stops receiving for a paused connection so TCP pushes back on it.
    fn pause_input(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.recv_armed && !c.recv_cancelling {
            c.recv_cancelling = true;
            let e = opcode::AsyncCancel::new(user_data(OP_RECV, c.generation, slot))
                .build()
                .user_data(user_data(OP_CANCEL, 0, 0));
            self.push(e);
        }
    }

    /// Runs one parsed command: checks, then local execution or routing.
    fn dispatch(&mut self, slot: usize, args: &[&[u8]]) {
        self.commands += 1;
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let Some(id) = spec::lookup(&args[0]) else {
            c.reply_with(|r| r.error(&unknown_command(args)));
            return;
        };
        let s = spec::get(id);
        c.last_cmd = if s.is(spec::flag::CONTAINER) && args.len() > 1 {
            // Container commands show their subcommand (`client|list`).
            let sub = String::from_utf8_lossy(&args[1][..args[1].len().min(32)]);
            format!("{}|{}", s.name, sub.to_ascii_lowercase()).into()
        } else {
            s.name.into()
        };
        let argc_ok = s.arity_ok(args.len())
            && match s.route {
                // MSET-style pairs: Redis reports a wrong argument count.
                Route::Keys(_) if s.step > 1 => {
                    (args.len() - s.first_key as usize) % s.step as usize == 0
                }
                _ => true,
            };
        if !argc_ok {
            c.reply_with(|r| {
                r.error(&format!(
                    "ERR wrong number of arguments for '{}' command",
                    s.name
                ))
            });
            return;
        }
        if !c.authed && !s.is(spec::flag::NO_AUTH) {
            c.reply_with(|r| r.error(errors::NOAUTH));
            return;
        }
        match s.route {
            Route::Local => local::run(self, slot, id, args),
            Route::Key | Route::Coord => {
                let fk = s.first_key as usize;
                let (shard, hash) = match args.get(fk) {
                    Some(k) if fk > 0 => (spec::key_shard(k, self.nshards), spec::key_hash(k)),
                    _ => (0, 0),
                };
                self.send_one(slot, shard, id, hash, args);
                if s.is(spec::flag::BLOCKING) {
                    self.block(slot, shard);
                }
            }
            Route::Scan => {
                let n = self.nshards as u64;
                let shard = parse_i64(&args[1])
                    .map(|c| (c as u64 % n) as usize)
                    .unwrap_or(0);
                self.send_one(slot, shard, id, 0, args);
            }
            Route::Keys(g) => self.send_split(slot, id, g, args),
            Route::All(g) => self.send_all(slot, id, g, args),
        }
    }

    /// Queues a request for `shard`, copying its arguments into that
    /// shard's batch arena.
    #[allow(clippy::too_many_arguments)]
    fn push_request(
        &mut self,
        slot: usize,
        shard: usize,
        seq: u64,
        part: u16,
        id: CmdId,
        hash: u64,
        args: &[&[u8]],
    ) {
        let c = self.conns[slot].as_ref().expect("live connection");
        let out = &mut self.batches[shard];
        let start = out.args.len();
        let parsed = self.parsed.as_ptr_range();
        for a in args {
            if a.len() >= ZERO_COPY_MIN && parsed.contains(&a.as_ptr()) {
                out.args.push(Arg::Shared(self.parsed.slice_ref(a)));
            } else {
                out.args.push(Arg::Arena(out.arena.len(), a.len()));
                out.arena.extend_from_slice(a);
            }
        }
        let end = out.args.len();
        out.items.push(Request {
            conn: conn_token(c.generation, slot),
            seq,
            part,
            db: c.db,
            resp3: c.resp3,
            cmd: id,
            hash,
            args: start..end,
            claim: None,
            stamp: 0,
        });
    }

    fn send_one(&mut self, slot: usize, shard: usize, id: CmdId, hash: u64, args: &[&[u8]]) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let seq = c.begin();
        self.push_request(slot, shard, seq, 0, id, hash, args);
        self.maybe_sample(shard);
    }

    /// Marks the request just queued for `shard` as sampled, one in
    /// `latency-sample-every`, and records its parse stage.
    #[inline]
    fn maybe_sample(&mut self, shard: usize) {
        if self.limits.sample_every == 0 {
            return;
        }
        self.since_sample += 1;
        if self.since_sample < self.limits.sample_every {
            return;
        }
        self.since_sample = 0;
        let now = now_ns();
        self.stats
            .stage(stage::PARSE, now.saturating_sub(self.turn_ns));
        let out = &mut self.batches[shard];
        if let Some(req) = out.items.last_mut() {
            req.stamp = now;
            out.sampled += 1;
        }
    }

    /// Marks the client blocked on the command just queued for `shard` and
    /// hands that request the client's [`Claim`]: the connection parses
    /// nothing more until it is answered, as Redis does with blocked clients.
    fn block(&mut self, slot: usize, shard: usize) {
        let claim = Arc::new(Claim::default());
        if let Some(req) = self.batches[shard].items.last_mut() {
            req.claim = Some(claim.clone());
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        c.blocked = Some((c.next_seq - 1, claim));
        self.shared.blocked_clients.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends a client's wait: its blocking command was answered (`gone` =
    /// false) or the client is going away, in which case its claim is taken
    /// so no shard pops for it and the shards drop its waits.
    fn unblock(&mut self, slot: usize, gone: bool) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let Some((_, claim)) = c.blocked.take() else {
            return;
        };
        self.shared.blocked_clients.fetch_sub(1, Ordering::Relaxed);
        if !gone {
            self.to_parse.push(slot);
            return;
        }
        if !claim.take() {
            // Already served or timed out; the reply is dropped with the client.
            return;
        }
        let conn = conn_token(c.generation, slot);
        let io = self.index;
        if let Some(ex) = self.executor.as_mut() {
            ex.unblock(io, conn);
        } else {
            for tx in &self.shards {
                // Unbounded inbox: never blocks.
                let _ = tx.send(ToEngine::Unblock { io, conn });
            }
        }
    }

    /// Splits a multi-key command (MGET, MSET, DEL, ...) into one
    /// sub-command per shard, with the same name and that shard's keys.
    fn send_split(&mut self, slot: usize, id: CmdId, g: Gather, args: &[&[u8]]) {
        let s = spec::get(id);
        let step = s.step.max(1) as usize;
        let n = self.nshards;
        let first = s.first_key as usize;
        let first_shard = spec::key_shard(&args[first], n);
        let single = n == 1
            || s.key_indices(args.len())
                .all(|i| spec::key_shard(&args[i], n) == first_shard);
        if single {
            let hash = spec::key_hash(&args[first]);
            self.send_one(slot, first_shard, id, hash, args);
            return;
        }
        // (shard, sub-command arguments, original key positions)
        let mut parts: Vec<(usize, Vec<&[u8]>, Vec<u32>)> = Vec::new();
        for (k, i) in s.key_indices(args.len()).enumerate() {
            let shard = spec::key_shard(&args[i], n);
            let p = match parts.iter().position(|p| p.0 == shard) {
                Some(p) => p,
                None => {
                    parts.push((shard, vec![args[0]], Vec::new()));
                    parts.len() - 1
                }
            };
            parts[p].1.extend_from_slice(&args[i..i + step]);
            parts[p].2.push(k as u32);
        }
        let positions = if g == Gather::Interleave {
            parts.iter().map(|p| p.2.clone()).collect()
        } else {
            Vec::new()
        };
        let g = GatherState {
            kind: g,
            parts: vec![None; parts.len()],
            left: parts.len() as u16,
            positions,
            finish: None,
        };
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let seq = c.begin_gather(g);
        for (p, (shard, sub, _)) in parts.into_iter().enumerate() {
            let hash = spec::key_hash(sub[1]);
            self.push_request(slot, shard, seq, p as u16, id, hash, &sub);
        }
    }

    /// Sends a keyspace-wide command (KEYS, DBSIZE, FLUSHALL, INFO, ...) to
    /// every shard and gathers the answers.
    fn send_all(&mut self, slot: usize, id: CmdId, g: Gather, args: &[&[u8]]) {
        let n = self.nshards;
        let finish = if g == Gather::Info {
            Some(local::info_finisher(self, slot, args))
        } else {
            None
        };
        if n == 1 && finish.is_none() {
            self.send_one(slot, 0, id, 0, args);
            return;
        }
        let g = GatherState {
            kind: g,
            parts: vec![None; n],
            left: n as u16,
            positions: Vec::new(),
            finish,
        };
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let seq = c.begin_gather(g);
        for shard in 0..n {
            self.push_request(slot, shard, seq, shard as u16, id, 0, args);
        }
    }

    /// Sends each shard this turn's batch if it has a credit; in colocated
    /// mode runs it at once on this thread.
    fn flush_batches(&mut self) {
        for shard in 0..self.nshards {
            if self.batches[shard].items.is_empty() || self.credits[shard] == 0 {
                continue;
            }
            if self.batches[shard].sampled > 0 {
                let out = &mut self.batches[shard];
                out.sampled = 0;
                let now = now_ns();
                for req in out.items.iter_mut().filter(|r| r.stamp != 0) {
                    self.stats.stage(stage::BATCH, now - req.stamp);
                    req.stamp = now;
                }
            }
            let batch = self.batches[shard].take(self.index);
            self.credits[shard] -= 1;
            if let Some(ex) = self.executor.as_mut() {
                let replies = ex.execute(batch);
                self.on_replies(replies);
            } else if self.shards[shard].send(ToEngine::Batch(batch)).is_err() {
                tracing::error!("shard {shard} is gone");
                self.credits[shard] += 1;
            }
        }
    }

    /// Starts a send for every connection with output and none in flight;
    /// closes finished or over-limit connections; resumes paused ones.
    fn flush_sends(&mut self) {
        let limits = self.limits.parse;
        let mut list = std::mem::take(&mut self.dirty);
        for &slot in &list {
            let output_limit = self.limits.output_limit;
            let Some(Some(c)) = self.conns.get_mut(slot) else {
                continue;
            };
            c.dirty = false;
            if c.closing == Closing::Now {
                continue;
            }
            if output_limit > 0 && c.out_bytes() > output_limit {
                tracing::info!("closing client {}: output over client-output-limit", c.id);
                self.close(slot, Closing::Now);
                self.maybe_free(slot);
                continue;
            }
            if !c.send_inflight && c.sending.is_empty() && !c.out.is_empty() {
                std::mem::swap(&mut c.out, &mut c.sending);
                c.send_off = 0;
                if c.timed_send.is_none() {
                    c.timed_send = c.timed_reply.take();
                }
            }
            if !c.send_inflight && c.send_off < c.sending.len() {
                let ptr = c.sending[c.send_off..].as_ptr();
                // The kernel caps one send at INT_MAX bytes (EINVAL above):
                // a bigger output goes out in several sends.
                let len = (c.sending.len() - c.send_off).min(MAX_SEND) as u32;
                c.send_inflight = true;
                c.ops += 1;
                let e = opcode::Send::new(types::Fd(c.fd), ptr, len)
                    .flags(libc::MSG_NOSIGNAL)
                    .build()
                    .user_data(user_data(OP_SEND, c.generation, slot));
                self.push(e);
            }
            let Some(c) = self.conns[slot].as_mut() else {
                continue;
            };
            let finished = c.pending() == 0 && c.out_bytes() == 0;
            if finished && (c.closing == Closing::AfterFlush || c.eof && !has_command(c, &limits)) {
                self.close(slot, Closing::Now);
                self.maybe_free(slot);
                continue;
            }
            if c.paused && c.pending() < MAX_PENDING / 2 && c.out_bytes() < PAUSE_OUT / 2 {
                c.paused = false;
                if !c.input.is_empty() {
                    self.to_parse.push(slot);
                }
                self.arm_recv(slot);
            }
        }
        list.clear();
        if self.dirty.is_empty() {
            self.dirty = list;
        }
    }

    /// Once-per-turn bookkeeping: counters, configuration refresh, and
    /// (every `1000 / hz` ms) idle timeouts and colocated active expiry.
    fn end_turn(&mut self) {
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

/// Whether a connection's unparsed input still holds a whole command (or a
/// protocol error to report), so a half-closed connection is not closed
/// before it is parsed. Rare path: called only for connections at EOF.
fn has_command(c: &Conn, limits: &ParseLimits) -> bool {
    let mut spans = Vec::new();
    !matches!(
        parse_command(&c.input, limits, &mut spans),
        Ok(Parsed::Incomplete { .. })
    )
}

/// Redis 7's unknown-command error: the name and up to the first arguments,
/// each quoted (`networking.c`, `processCommand`).
fn unknown_command(args: &[&[u8]]) -> String {
    let name = String::from_utf8_lossy(&args[0][..args[0].len().min(128)]);
    let mut s = format!("ERR unknown command '{name}', with args beginning with: ");
    for a in args[1..].iter() {
        if s.len() >= 128 + 64 {
            break;
        }
        s.push('\'');
        s.push_str(&String::from_utf8_lossy(&a[..a.len().min(128)]));
        s.push_str("' ");
    }
    s
}

/// `ip:port` of a socket's peer (`peer`) or local end.
fn sock_addr(fd: i32, peer: bool) -> String {
    // SAFETY: getpeername/getsockname fill a zeroed sockaddr_storage of the size we pass.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let p = &mut ss as *mut _ as *mut libc::sockaddr;
        let r = if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        };
        if r != 0 {
            return String::new();
        }
        match ss.ss_family as i32 {
            libc::AF_INET => {
                let a = &*(p as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                format!("{ip}:{}", u16::from_be(a.sin_port))
            }
            libc::AF_INET6 => {
                let a = &*(p as *const libc::sockaddr_in6);
                let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
                format!("{ip}:{}", u16::from_be(a.sin6_port))
            }
            _ => String::new(),
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
