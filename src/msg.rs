//! The only contract between the two stages: request batches going to shard
//! engines, reply batches coming back, cross-shard hops, and the doorbell
//! that wakes a parked IO thread.
//!
//! Shared by every thread; nothing here blocks except the channels' own
//! receive calls, which each stage makes from its own loop.
//!
//! # Flow and backpressure
//!
//! An IO thread sends at most one [`RequestBatch`] per shard per loop turn,
//! and at most `credits` batches per shard may be unanswered at once; every
//! batch is answered by exactly one [`ReplyBatch`] carrying its credit back.
//! Because the number of batches in flight is bounded by credits, the
//! channels themselves may be unbounded: an engine never blocks when it
//! replies, so the stages cannot deadlock. Cross-shard work travels as
//! [`Hop`]s between engines; a hop that finishes a command answers with a
//! reply batch holding no credit.
//!
//! # Transactions
//!
//! A command whose keys live on several shards runs as a transaction
//! ([`TxInfo`]): the IO thread puts one part of it, in the connection's
//! command order, into the batch of every shard it touches; each part says
//! what it locks there ([`Want`]). The shards take their locks in ascending
//! shard order, passing a token along ([`TxStep::Token`]); the last one
//! starts the work ([`TxStep::Go`]), and each shard lets go of its locks
//! when its share is done ([`TxStep::Release`]). See `engine::tx`.

use std::any::Any;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;

use crate::spec::CmdId;

/// A transaction's identity, unique in the process ([`next_tx_id`]).
pub type TxId = u64;

/// A fresh transaction id (never 0, which means "no transaction").
pub fn next_tx_id() -> TxId {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A request's key locks: inline up to two (most commands and parts lock
/// one or two keys per shard), so building, cloning and dropping them
/// allocates nothing.
pub type KeyLocks = smallvec::SmallVec<[KeyLock; 2]>;

/// How a transaction locks a key (or a whole shard).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Readers: any number at once.
    Shared,
    /// A writer: alone.
    Exclusive,
}

impl Mode {
    /// How a command locks its keys: writers exclusively (the `write` or
    /// `may_replicate` flag of its [`crate::spec`] entry: EVAL may write),
    /// everything else shared.
    pub fn of(cmd: CmdId) -> Mode {
        let s = crate::spec::get(cmd);
        if s.is(crate::spec::flag::WRITE) || s.is(crate::spec::flag::MAY_REPLICATE) {
            Mode::Exclusive
        } else {
            Mode::Shared
        }
    }
}

/// One key a transaction locks, by fingerprint ([`crate::spec::key_fp`]):
/// 16 bytes, no copy of the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyLock {
    pub db: u16,
    pub fp: u64,
    pub mode: Mode,
}

impl KeyLock {
    #[inline]
    pub fn new(db: u16, key: &[u8], mode: Mode) -> KeyLock {
        KeyLock {
            db,
            fp: crate::spec::key_fp(key),
            mode,
        }
    }
}

/// What a transaction locks on one shard.
#[derive(Clone, Debug)]
pub enum Want {
    Keys(KeyLocks),
    /// The whole shard, every database: keyspace-wide commands (KEYS,
    /// FLUSHALL, ...) and work whose keys are not known in advance (SORT
    /// with BY/GET patterns).
    Shard(Mode),
}

/// How a transaction's work is spread over its shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxKind {
    /// Every shard runs its own part of the command (MSET, DEL, KEYS, ...)
    /// and replies with it; each lets go of its locks once its part ran.
    Parts,
    /// One shard runs the command and reaches the others with hops (RENAME,
    /// SINTERSTORE, ...); the others only hold locks, and every shard lets
    /// go when the command has answered.
    Coordinated { coordinator: u16 },
    /// MULTI/EXEC: the steps of [`TxInfo::exec`] run one after the other,
    /// each on its shard, while every lock is held; every shard lets go
    /// after the last.
    Exec,
}

/// The queued commands of a MULTI/EXEC block, as steps for the shards.
#[derive(Debug)]
pub struct ExecPlan {
    pub steps: Vec<ExecStep>,
    /// The step running now; whichever shard finishes one moves it on.
    pub cursor: std::sync::atomic::AtomicUsize,
    /// A WATCHed key changed: the remaining steps are skipped and EXEC
    /// answers nil.
    pub aborted: AtomicBool,
    /// Where the steps' replies go (each with its own part) and, at the
    /// end, the verdict: part `done_part`, `+OK` or `-ABORT`.
    pub reply: ReplyTo,
    pub done_part: u16,
    /// No command of the block reaches another shard or waits (no hops,
    /// no blocking command): once the checks passed, every shard runs its
    /// own commands at once, in order, in parallel with the others. All
    /// locks are held until the last shard is done, so nobody sees a part.
    pub parallel: bool,
    /// Parallel plans: shards with commands still running.
    pub running: AtomicUsize,
    /// The client's flags for the block's commands ([`client_flags`]).
    pub client_flags: u8,
    /// The client's user when it has ACL restrictions, for the block's
    /// scripts ([`Request::caller`]).
    pub caller: Option<Arc<crate::acl::Caller>>,
    /// With MONITOR on when EXEC was planned: its database and name as the
    /// client spelled it, for the line written after the block ran.
    pub monitor: Option<(u16, Bytes)>,
}

impl ExecPlan {
    /// The shards with commands to run, ascending.
    pub fn run_shards(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self
            .steps
            .iter()
            .filter(|s| matches!(s, ExecStep::Run { .. }))
            .map(|s| s.shard())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// One step of an EXEC.
#[derive(Debug)]
pub enum ExecStep {
    /// Check the connection's WATCHed keys on `shard` (none changed since
    /// WATCH, none expired).
    Check { shard: u16 },
    /// Run a command (or its part on one shard) and reply with `part`.
    Run {
        shard: u16,
        cmd: CmdId,
        db: u16,
        hash: u64,
        args: Vec<Bytes>,
        part: u16,
        /// The command's first (or only) step: the one INFO commandstats
        /// counts as a call.
        first: bool,
    },
}

impl ExecStep {
    pub fn shard(&self) -> u16 {
        match self {
            ExecStep::Check { shard } | ExecStep::Run { shard, .. } => *shard,
        }
    }
}

/// A transaction as every shard it touches sees it.
#[derive(Debug)]
pub struct TxInfo {
    pub id: TxId,
    pub kind: TxKind,
    /// The shards it touches, ascending (the order it locks them in), with
    /// what it locks on each.
    pub shards: Vec<(u16, Want)>,
    /// For [`TxKind::Exec`]: the steps.
    pub exec: Option<ExecPlan>,
    /// Its place in the AOF, taken by its last shard once every lock is
    /// held, when the AOF is on ([`crate::aof`]).
    pub log: std::sync::OnceLock<Arc<crate::aof::TxLog>>,
    /// A split command that follows its connection's previous one, also
    /// split and over exactly the same shards: on each shard it may take
    /// its locks as soon as that one holds its own, rather than once it let
    /// go (see `engine::locks`). Their parts still run in connection order:
    /// both get their go from the same last shard, in grant order.
    pub follows: bool,
}

impl TxInfo {
    /// What the transaction locks on `shard`.
    pub fn want(&self, shard: u16) -> Option<&Want> {
        self.shards
            .iter()
            .find(|(s, _)| *s == shard)
            .map(|(_, w)| w)
    }

    /// The shard after `shard` in locking order, if any.
    pub fn next_after(&self, shard: u16) -> Option<u16> {
        self.shards.iter().map(|(s, _)| *s).find(|&s| s > shard)
    }

    /// The first shard in locking order.
    pub fn first(&self) -> u16 {
        self.shards.first().map(|(s, _)| *s).unwrap_or(0)
    }
}

/// What a transaction a shard began (rather than an IO thread) is for;
/// it decides what each of its shards runs at Go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begun {
    /// Serve a woken cross-shard BLMOVE (the coordinator pops and pushes;
    /// the other shard only holds its lock).
    Move,
    /// A scheduled or shutdown BGSAVE's instant: every shard, holding a
    /// shared lock on all of itself, begins its part.
    Snapshot,
}

/// A step of a transaction's protocol, sent from shard to shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStep {
    /// Every lower shard holds its locks: take yours.
    Token,
    /// Every shard holds its locks: run your part.
    Go,
    /// The work is done: let go of your locks.
    Release,
    /// Run step `n` of an EXEC ([`ExecPlan`]).
    Step(u32),
}

/// One command for one shard.
#[derive(Debug)]
pub struct Request {
    /// The connection's token on its IO thread (slot and generation).
    pub conn: u64,
    /// The connection's request sequence number; replies are written in this order.
    pub seq: u64,
    /// Which part of a command split across shards this is (0 otherwise).
    pub part: u16,
    /// Selected database index.
    pub db: u16,
    /// Encode the reply as RESP3.
    pub resp3: bool,
    /// Command table index.
    pub cmd: CmdId,
    /// [`crate::spec::key_hash`] of the first key argument (0 if keyless),
    /// computed once by the IO thread.
    pub hash: u64,
    /// The arguments, name first: a range of [`RequestBatch::args`].
    pub args: std::ops::Range<usize>,
    /// For blocking commands (BLPOP, BZPOPMIN, ...): the client's claim,
    /// shared with its IO thread. `None` for every other command.
    pub claim: Option<Arc<Claim>>,
    /// For a request sampled for latency ([`crate::metrics`]): when its
    /// batch was sent, in [`crate::metrics::now_ns`]; 0 otherwise.
    pub stamp: u64,
    /// The client's state the command needs ([`client_flags`]): tracking
    /// of the keys a read returns, NO-TOUCH.
    pub client_flags: u8,
    /// The transaction this request is a part of, if its command touches
    /// several shards. A part of a coordinated transaction on a shard that
    /// is not the coordinator carries no arguments: it only locks.
    pub tx: Option<Arc<TxInfo>>,
    /// For a script run by a user with ACL restrictions: the user its
    /// calls are checked against ([`crate::acl::Caller`]).
    pub caller: Option<Arc<crate::acl::Caller>>,
}

/// What a [`Request`] carries of its client's state.
pub mod client_flags {
    /// Client-side caching (`CLIENT TRACKING`): remember the keys this
    /// read command returns.
    pub const TRACK_READ: u8 = 1;
    /// `CLIENT NO-TOUCH ON`: lookups leave the keys' access bits (LRU
    /// clock or LFU counter) alone, except TOUCH's.
    pub const NO_TOUCH: u8 = 2;
}

/// One invalidation for one tracking client: its connection token on the
/// receiving IO thread and the key (`None`: everything, after a flush).
#[derive(Debug, Clone)]
pub struct Invalidation {
    pub conn: u64,
    pub key: Option<Bytes>,
    /// The client changed the key itself (dropped if it asked for NOLOOP,
    /// which its IO thread knows).
    pub own: bool,
}

/// The one-shot token of a client blocked on keys (BLPOP and friends),
/// shared by its IO thread and every shard where it waits: whoever takes it
/// first answers the client: the shard that serves it a pushed element,
/// the one whose timer fires, or the IO thread when the client disconnects
/// (which then answers nobody). So a client waiting on keys of several
/// shards is served exactly once and a gone client consumes nothing.
#[derive(Debug, Default)]
pub struct Claim(AtomicBool);

impl Claim {
    /// Takes the token; true for exactly one caller.
    #[inline]
    pub fn take(&self) -> bool {
        !self.0.swap(true, Ordering::AcqRel)
    }

    /// Whether someone already took it.
    #[inline]
    pub fn taken(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Requests from one IO thread to one shard, collected over one loop turn.
#[derive(Debug)]
pub struct RequestBatch {
    /// Index of the sending IO thread (where replies go).
    pub io: u16,
    pub items: Vec<Request>,
    /// Every request's arguments back to back (slices of one arena).
    pub args: Vec<Bytes>,
}

/// Where one reply lives in a [`ReplyBatch`] buffer.
#[derive(Debug, Clone, Copy)]
pub struct ReplyItem {
    pub conn: u64,
    pub seq: u64,
    pub part: u16,
    /// End offset of this reply in the batch buffer; it starts where the
    /// previous item ended (or at 0). A `usize`: one batch may exceed 4 GiB
    /// (a 512 MB value read nine times in a pipeline).
    pub end: usize,
    /// For a sampled request: when the shard finished it
    /// ([`crate::metrics::now_ns`]); 0 otherwise.
    pub stamp: u64,
}

/// Serialized replies for one IO thread, back to back in one buffer.
#[derive(Debug, Default)]
pub struct ReplyBatch {
    pub buf: Bytes,
    pub items: Vec<ReplyItem>,
    /// Request batches this answers (credits returned to the IO thread).
    pub credits: u16,
    /// The shard that sent it.
    pub shard: u16,
}

/// Who a deferred reply is for: kept by cross-shard hops.
#[derive(Debug, Clone, Copy)]
pub struct ReplyTo {
    pub io: u16,
    pub conn: u64,
    pub seq: u64,
    pub part: u16,
    pub resp3: bool,
    /// The transaction whose command this reply ends (0 if none): its
    /// shards let go of their locks once it is sent.
    pub tx: TxId,
}

/// Work one engine hands another: a closure run on the target engine's
/// thread with its engine state (downcast by the engine module).
pub struct Hop(pub Box<dyn FnOnce(&mut dyn Any) + Send>);

impl std::fmt::Debug for Hop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hop")
    }
}

/// Messages into a shard engine.
#[derive(Debug)]
pub enum ToEngine {
    Batch(RequestBatch),
    Hop(Hop),
    /// A blocked client of IO thread `io` with this connection token went
    /// away (its [`Claim`] is already taken): drop its waits.
    Unblock {
        io: u16,
        conn: u64,
    },
    /// CLIENT UNBLOCK: answer the blocked client of IO thread `io` with
    /// this connection token now, as its timeout would (`error` false) or
    /// with `-UNBLOCKED client unblocked via CLIENT UNBLOCK`.
    Wake {
        io: u16,
        conn: u64,
        error: bool,
    },
    /// Steps of transactions, in the order another shard took them (one
    /// message per peer per loop turn).
    Tx(Vec<(TxId, TxStep)>),
    /// A transaction a shard began has a part here: queue its locks for
    /// connection `conn` of IO thread `io` (a woken BLMOVE's client).
    Join {
        info: Arc<TxInfo>,
        io: u16,
        conn: u64,
        what: Begun,
    },
    /// Begin a background save's instant (the `save` schedule, a shutdown
    /// that saves): a transaction over every shard ([`Begun::Snapshot`]).
    /// Sent to one shard, once [`crate::persist::Saver::start`] succeeded.
    Snapshot,
    /// The AOF writer synced entries this shard's held replies wait for
    /// ([`crate::aof::Aof::wait_for`]).
    Synced,
    Shutdown,
}

/// Messages into an IO thread.
#[derive(Debug)]
pub enum ToIo {
    Replies(ReplyBatch),
    /// Close the connection with this client id (CLIENT KILL from another IO thread).
    Kill(u64),
    /// CLIENT UNBLOCK from another IO thread: end the wait of this client
    /// id if it is blocked (`error`: with an error, else as a timeout).
    Unblock {
        id: u64,
        error: bool,
    },
    /// Colocated: begin the background save the `save` schedule started
    /// ([`Executor::begin_snapshot`]).
    Snapshot,
    /// Serve this socket as a client connection (the AOF replay at
    /// start-up: authenticated, not counted against `maxclients`).
    Adopt(i32),
    /// Start accepting on these listeners (after the AOF was replayed).
    Listen(Vec<i32>),
    /// Parse nothing more until [`ToIo::Release`] (a shutdown's final
    /// save); drop the sender once every request sent to a shard is
    /// answered, which tells the main thread this thread is quiet.
    Hold(crossbeam_channel::Sender<()>),
    /// Parse again after [`ToIo::Hold`]: the final save failed, so every
    /// SHUTDOWN waiting on this thread gets `ERR Errors trying to
    /// SHUTDOWN. Check logs.`
    Release,
    /// Pub/Sub messages for this thread's subscribers, in publish order
    /// ([`crate::pubsub`]).
    Published(Vec<Delivery>),
    /// MONITOR lines (status replies) for this thread's monitors, in the
    /// order the sending thread ran their commands.
    Monitor(Arc<[Bytes]>),
    /// Client-side caching: keys other clients changed, for this thread's
    /// tracking clients (`CLIENT TRACKING`).
    Invalidate(Vec<Invalidation>),
    /// An invalidation for client `id` of this thread, forwarded from the
    /// IO thread of a tracking client that redirects to it.
    /// `resp3`: the tracking client's protocol, which the null of a
    /// flush's invalidation follows (as in Redis).
    InvalidateClient {
        id: u64,
        key: Option<Bytes>,
        resp3: bool,
    },
    /// FLUSHALL or FLUSHDB ran: every tracking client of this thread is
    /// told to drop everything.
    InvalidateAll,
    Shutdown,
}

/// One published message as one IO thread receives it: which of its
/// subscribers get it is the thread's to look up.
#[derive(Debug)]
pub struct Delivery {
    /// Published with SPUBLISH: a shard channel's `smessage`.
    pub sharded: bool,
    pub channel: Bytes,
    pub payload: Bytes,
    /// The channel has subscribers on this thread.
    pub direct: bool,
    /// Patterns matching the channel with subscribers on this thread
    /// (each gets a `pmessage`).
    pub patterns: Vec<Bytes>,
}

/// Doorbell for an IO thread parked in `io_uring_enter`: an eventfd whose
/// read is armed in that thread's ring, written only while the thread says it
/// is parked, because each cross-core wake costs tens of microseconds here
/// (`shared/reference/uring-and-handoff.md`).
#[derive(Debug)]
pub struct Waker {
    parked: AtomicBool,
    fd: RawFd,
    /// Eventfd writes made (wakeups actually delivered).
    pub wakes: AtomicU64,
}

impl Waker {
    /// Creates the eventfd. Errors: the OS refused an eventfd.
    pub fn new() -> std::io::Result<Waker> {
        // SAFETY: plain syscall, no pointers.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Waker {
            parked: AtomicBool::new(false),
            fd,
            wakes: AtomicU64::new(0),
        })
    }

    /// The eventfd, for the owning IO thread to arm a read on.
    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Called by the owner before it blocks; it must re-check its inbox after.
    pub fn set_parked(&self, parked: bool) {
        self.parked.store(parked, Ordering::SeqCst);
    }

    /// Called after sending to the owner: rings only if the owner is parked.
    pub fn wake(&self) {
        if self.parked.load(Ordering::SeqCst) && self.parked.swap(false, Ordering::SeqCst) {
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a live stack value to our eventfd.
            unsafe { libc::write(self.fd, &one as *const u64 as *const libc::c_void, 8) };
            self.wakes.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        // SAFETY: we own the fd.
        unsafe { libc::close(self.fd) };
    }
}

/// Synchronous execution for colocated mode: the IO thread hands a batch over
/// and gets the reply batch back on the same thread.
pub trait Executor: Send {
    /// Executes `batch`, returning its replies (with its credit).
    fn execute(&mut self, batch: RequestBatch) -> ReplyBatch;
    /// Housekeeping between bursts (active expiry).
    fn idle(&mut self);
    /// Unix time in ms of the earliest blocked-client timeout, if any.
    fn next_deadline(&self) -> Option<u64>;
    /// Answers the blocked clients whose timeout has passed; the batch
    /// holds no credit.
    fn fire_timeouts(&mut self) -> ReplyBatch;
    /// Drops the waits of a blocked client that went away.
    fn unblock(&mut self, io: u16, conn: u64);
    /// Answers a blocked client now ([`ToEngine::Wake`]); the batch holds
    /// no credit.
    fn wake(&mut self, io: u16, conn: u64, error: bool) -> ReplyBatch;
    /// A step of background work (a BGSAVE's part); true while more
    /// remains, so the IO thread must not park.
    fn background(&mut self) -> bool;
    /// Begins the part of a background save the `save` schedule or a
    /// saving shutdown started ([`ToEngine::Snapshot`]'s equivalent).
    fn begin_snapshot(&mut self);
}
