//! Per-connection state on an IO thread: input accumulator, reply reorder
//! window, gathers for commands split across shards, and the writer queue.
//!
//! Owned by one IO thread; never blocks.
//!
//! # Reply order
//!
//! Every command parsed from a connection gets the next sequence number.
//! Replies arrive from shards in any order; [`Conn::complete`] puts each in
//! its slot of the window and moves the finished prefix into `out`, so a
//! pipeline spanning shards is answered strictly in request order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};

use super::shared::ClientInfo;
use crate::msg::Claim;
use crate::resp::Reply;
use crate::resp::parse::Resume;
use crate::spec::Gather;

/// One pending reply.
enum Slot {
    /// Waiting for its shard.
    Pending,
    /// Finished, waiting for earlier replies.
    Done(Bytes),
    /// Waiting for several shards.
    Gather(Box<GatherState>),
}

/// Parts of a split command collected so far.
pub struct GatherState {
    pub kind: Gather,
    pub parts: Vec<Option<Bytes>>,
    pub left: u16,
    /// For `Interleave`: for each part, the original positions of its keys.
    pub positions: Vec<Vec<u32>>,
    /// For `Info`: formats the merged per-shard statistics into the reply.
    pub finish: Option<Box<dyn FnOnce(Vec<i64>, bool) -> Bytes>>,
    /// The reply whatever the parts said (unless one failed): UNWATCH and
    /// DISCARD, whose parts only clear watches on the shards.
    pub fixed: Option<Bytes>,
    /// For EXEC: how the parts make up its reply.
    pub exec: Option<Box<ExecLayout>>,
    /// For SAVE: the file the parts are written to, and the saver that
    /// records the outcome.
    pub save_to: Option<(String, std::sync::Arc<crate::persist::Saver>)>,
    /// For DEBUG DIGEST (`false`) and DIGEST-VALUE (`true`): the parts are
    /// digests to combine ([`crate::cmd::digest`]).
    pub digest: Option<bool>,
}

impl GatherState {
    /// A gather of `n` parts combined as `kind`.
    pub fn new(kind: Gather, n: usize) -> GatherState {
        GatherState {
            kind,
            parts: vec![None; n],
            left: n as u16,
            positions: Vec::new(),
            finish: None,
            fixed: None,
            exec: None,
            save_to: None,
            digest: None,
        }
    }
}

/// Where each queued command's reply comes from in an EXEC's parts.
pub struct ExecLayout {
    pub slots: Vec<ExecSlot>,
    /// The part holding the verdict (`+OK`, or `-ABORT` when a WATCHed key
    /// changed: EXEC then answers nil).
    pub done: usize,
}

/// One queued command's reply.
pub enum ExecSlot {
    /// Answered on the IO thread when EXEC ran (PING, SELECT, ...).
    Ready(Bytes),
    /// One part.
    One(usize),
    /// Several parts combined as the command's gather does (`parts[i]` of
    /// the nested state comes from EXEC part `from[i]`).
    Gather(Box<GatherState>, Vec<usize>),
}

/// CLIENT REPLY's setting (<https://redis.io/docs/latest/commands/client-reply/>).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    /// No reply is sent.
    Off,
    /// The next command's reply is not sent.
    SkipNext,
}

/// A MULTI block being queued (<https://redis.io/docs/latest/develop/interact/transactions/>).
#[derive(Default)]
pub struct Multi {
    pub queued: Vec<(crate::spec::CmdId, Vec<Bytes>)>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub abort: bool,
}

/// The keys a client WATCHes.
pub struct Watch {
    /// Taken by the first write to any of them (shared with the shards).
    pub flag: Arc<Claim>,
    /// (database, key) pairs, and the shards they live on.
    pub keys: Vec<(u16, Bytes)>,
    pub shards: Vec<u16>,
}

/// Why a connection is going away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    Open,
    /// Write what is queued, then close (QUIT, protocol error).
    AfterFlush,
    /// Close now (error, EOF, killed).
    Now,
}

pub struct Conn {
    pub fd: i32,
    /// Generation of this slot, so late replies for a closed connection are dropped.
    pub generation: u32,
    /// Client id (CLIENT ID), unique across the process.
    pub id: u64,
    pub input: BytesMut,
    /// Where parsing of the unfinished request at the front of `input`
    /// stopped (see [`crate::resp::parse::Resume`]).
    pub resume: Resume,
    pub out: BytesMut,
    /// Bytes handed to the kernel in the send in flight; untouched until it completes.
    pub sending: BytesMut,
    pub send_off: usize,
    pub send_inflight: bool,
    pub recv_armed: bool,
    /// A cancel of the multishot receive is in flight (input paused).
    pub recv_cancelling: bool,
    /// Queued in the IO thread's list of connections with output to send.
    pub dirty: bool,
    /// SQEs in flight that reference this connection (the slot is freed at 0).
    pub ops: u32,
    pub closing: Closing,
    /// The client shut its sending side (EOF on receive): what it sent
    /// before is still parsed and answered, then the connection closes.
    pub eof: bool,
    /// Parsing paused: too many replies pending or too much output queued.
    pub paused: bool,
    pub db: u16,
    pub resp3: bool,
    pub authed: bool,
    /// The ACL user it runs as; `None` for the server's own connection
    /// (the AOF replay), which may run anything.
    pub user: Option<Arc<crate::acl::User>>,
    /// [`crate::acl::Acl::generation`] when `user` was last read.
    pub acl_gen: u64,
    pub next_seq: u64,
    /// The blocking command (BLPOP, ...) this client waits on: its sequence
    /// number and claim. Nothing more is parsed until it is answered.
    pub blocked: Option<(u64, Arc<Claim>)>,
    /// MONITOR: every command run is streamed to this client.
    pub monitor: bool,
    /// A sampled reply queued in `out` (when the IO thread took it, ns).
    pub timed_reply: Option<u64>,
    /// A sampled reply in the send in flight (when the IO thread took it, ns).
    pub timed_send: Option<u64>,
    base_seq: u64,
    window: VecDeque<Slot>,
    pub last_active: Instant,
    /// The last command dispatched, as CLIENT LIST's `cmd` shows it: the
    /// command's static name, or `name|sub` for container commands.
    pub last_cmd: std::borrow::Cow<'static, str>,
    /// Inside MULTI: the commands queued so far.
    pub multi: Option<Multi>,
    /// The keys it WATCHes, if any.
    pub watch: Option<Watch>,
    /// Its latest transaction (a command over several shards, or EXEC)
    /// while it is in flight: its sequence number and shards.
    pub tx_wait: Option<(u64, Arc<crate::msg::TxInfo>)>,
    /// A command that would start another transaction waits for it: the
    /// connection parses nothing more until `tx_wait` is answered.
    pub stalled: bool,
    /// CLIENT REPLY: what happens to replies from the next command on.
    pub reply_mode: ReplyMode,
    /// CLIENT NO-TOUCH ON: its commands leave the keys' access bits alone
    /// ([`crate::msg::client_flags::NO_TOUCH`]).
    pub no_touch: bool,
    /// CLIENT NO-EVICT ON: shown as CLIENT LIST's `e` flag (tandem evicts
    /// no clients).
    pub no_evict: bool,
    /// The start (up to 32 bytes) of the last error reply the IO thread
    /// queued for this connection itself, for INFO errorstats.
    pub local_error: Option<([u8; 32], u8)>,
    /// Sequence numbers whose replies are not sent, ascending.
    pub muted: VecDeque<u64>,
    /// Stalled by CLIENT PAUSE (not by a transaction): resumed when the
    /// pause ends.
    pub pause_held: bool,
    /// Connected over loopback (or internal): `enable-debug-command local`.
    pub local: bool,
    /// CLIENT TRACKING's state while on ([`super::tracking`]).
    pub tracking: Option<Box<super::tracking::Tracking>>,
    /// Its Pub/Sub subscriptions, once it made one ([`super::pubsub`]).
    pub subs: Option<Box<super::pubsub::Subs>>,
    /// Since when its output has stayed over its class's soft limit
    /// (`client-output-buffer-limit`).
    pub obuf_soft_since: Option<Instant>,
}

impl Conn {
    pub fn new(
        fd: i32,
        generation: u32,
        id: u64,
        authed: bool,
        user: Option<Arc<crate::acl::User>>,
        acl_gen: u64,
    ) -> Conn {
        Conn {
            fd,
            generation,
            id,
            input: BytesMut::with_capacity(16 * 1024),
            resume: Resume::default(),
            out: BytesMut::with_capacity(16 * 1024),
            sending: BytesMut::with_capacity(16 * 1024),
            send_off: 0,
            send_inflight: false,
            recv_armed: false,
            recv_cancelling: false,
            dirty: false,
            ops: 0,
            closing: Closing::Open,
            eof: false,
            paused: false,
            db: 0,
            resp3: false,
            authed,
            user,
            acl_gen,
            next_seq: 0,
            blocked: None,
            monitor: false,
            timed_reply: None,
            timed_send: None,
            base_seq: 0,
            window: VecDeque::new(),
            last_active: Instant::now(),
            last_cmd: std::borrow::Cow::Borrowed("NULL"),
            multi: None,
            watch: None,
            tx_wait: None,
            stalled: false,
            reply_mode: ReplyMode::On,
            no_touch: false,
            no_evict: false,
            local_error: None,
            muted: VecDeque::new(),
            pause_held: false,
            local: false,
            subs: None,
            tracking: None,
            obuf_soft_since: None,
        }
    }

    /// Replies not yet handed to `out`.
    pub fn pending(&self) -> usize {
        self.window.len()
    }

    /// Bytes queued or in flight to the client.
    pub fn out_bytes(&self) -> usize {
        self.out.len() + self.sending.len() - self.send_off
    }

    /// Whether the reply to `seq` is complete (queued for the client or
    /// waiting only for earlier replies).
    pub fn answered(&self, seq: u64) -> bool {
        match seq.checked_sub(self.base_seq) {
            None => true,
            Some(i) => matches!(self.window.get(i as usize), Some(Slot::Done(_)) | None),
        }
    }

    /// Reserves the next sequence number for a command sent to a shard.
    pub fn begin(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        self.window.push_back(Slot::Pending);
        s
    }

    /// Reserves the next sequence number for a command split into parts.
    pub fn begin_gather(&mut self, g: GatherState) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        self.window.push_back(Slot::Gather(Box::new(g)));
        s
    }

    /// Queues a reply produced on the IO thread itself, in order.
    pub fn local_reply(&mut self, bytes: &[u8]) {
        if bytes.first() == Some(&b'-') {
            let mut head = [0u8; 32];
            let n = bytes.len().min(32);
            head[..n].copy_from_slice(&bytes[..n]);
            self.local_error = Some((head, n as u8));
        }
        if self.window.is_empty() {
            self.emit(self.next_seq, bytes);
            self.next_seq += 1;
            self.base_seq += 1;
        } else {
            self.next_seq += 1;
            self.window
                .push_back(Slot::Done(Bytes::copy_from_slice(bytes)));
        }
    }

    /// Records the reply (or one part of it) for `seq`: `batch[start..end]`
    /// of a reply batch. The common in-order case copies straight into
    /// `out` without touching the batch's reference count. Returns false if
    /// no such request is pending (a stale reply), which callers ignore.
    pub fn complete(
        &mut self,
        seq: u64,
        part: u16,
        batch: &Bytes,
        start: usize,
        end: usize,
    ) -> bool {
        let Some(idx) = seq.checked_sub(self.base_seq) else {
            return false;
        };
        let idx = idx as usize;
        if idx >= self.window.len() {
            return false;
        }
        if idx == 0 && matches!(self.window[0], Slot::Pending) {
            // Common case: the reply everyone waits for arrives first.
            self.emit(seq, &batch[start..end]);
            self.window.pop_front();
            self.base_seq += 1;
            self.drain_prefix();
            return true;
        }
        let bytes = batch.slice(start..end);
        match &mut self.window[idx] {
            Slot::Pending => self.window[idx] = Slot::Done(bytes),
            Slot::Gather(g) => {
                if let Some(p) = g.parts.get_mut(part as usize) {
                    if p.is_none() {
                        *p = Some(bytes);
                        g.left -= 1;
                    }
                }
                if g.left == 0 {
                    let merged = super::gather::merge(g, self.resp3);
                    self.window[idx] = Slot::Done(merged);
                }
            }
            Slot::Done(_) => return false,
        }
        self.drain_prefix();
        true
    }

    fn drain_prefix(&mut self) {
        while let Some(Slot::Done(_)) = self.window.front() {
            if let Some(Slot::Done(b)) = self.window.pop_front() {
                self.emit(self.base_seq, &b);
            }
            self.base_seq += 1;
        }
    }

    /// Queues the reply to `seq` for the client, unless CLIENT REPLY muted
    /// it. Replies come here in sequence order.
    #[inline]
    fn emit(&mut self, seq: u64, bytes: &[u8]) {
        if !self.muted.is_empty() {
            while self.muted.front().is_some_and(|&m| m < seq) {
                self.muted.pop_front();
            }
            if self.muted.front() == Some(&seq) {
                self.muted.pop_front();
                return;
            }
        }
        self.out.extend_from_slice(bytes);
    }

    /// Takes the error the IO thread answered since the last take.
    pub fn take_local_error(&mut self) -> Option<([u8; 32], u8)> {
        self.local_error.take()
    }

    /// Mutes the reply to the command being dispatched (the next sequence
    /// number) if CLIENT REPLY OFF or SKIP asks for it.
    pub fn mute_if_asked(&mut self) {
        match self.reply_mode {
            ReplyMode::On => {}
            ReplyMode::Off => self.mute_next(),
            ReplyMode::SkipNext => {
                self.reply_mode = ReplyMode::On;
                self.mute_next();
            }
        }
    }

    /// Mutes the reply to the next sequence number (once: a command held
    /// and dispatched again keeps its number).
    pub fn mute_next(&mut self) {
        let seq = self.next_seq;
        if self.muted.back() != Some(&seq) {
            self.muted.push_back(seq);
        }
    }

    /// What CLIENT LIST shows of this connection's live state, copied into
    /// its shared [`ClientInfo`] entry.
    pub fn publish(&self, ci: &mut ClientInfo) {
        ci.last_active = Some(self.last_active);
        let (sub, psub, ssub) = self.subs.as_ref().map_or((0, 0, 0), |s| s.counts());
        (ci.sub, ci.psub, ci.ssub) = (sub, psub, ssub);
        // Redis's letters, in its order (`getClientTypeName`'s neighbour
        // in networking.c); N when none applies.
        ci.flags.clear();
        for (on, letter) in [
            (sub + psub + ssub > 0, 'P'),
            (self.multi.is_some(), 'x'),
            (self.blocked.is_some(), 'b'),
            (self.tracking.is_some(), 't'),
            (self.tracking.as_ref().is_some_and(|t| t.broken), 'R'),
            (self.tracking.as_ref().is_some_and(|t| t.bcast), 'B'),
            (self.no_evict, 'e'),
            (self.no_touch, 'T'),
        ] {
            if on {
                ci.flags.push(letter);
            }
        }
        if ci.flags.is_empty() {
            ci.flags.push('N');
        }
        ci.multi = self.multi.as_ref().map_or(-1, |m| m.queued.len() as i64);
        ci.qbuf = self.input.len();
        ci.qbuf_free = self.input.capacity() - self.input.len();
        ci.omem = self.out_bytes();
        ci.tot_mem = std::mem::size_of::<Conn>()
            + self.input.capacity()
            + self.out.capacity()
            + self.sending.capacity()
            + self.window.capacity() * std::mem::size_of::<Slot>();
        if ci.cmd != self.last_cmd {
            ci.cmd.clear();
            ci.cmd.push_str(&self.last_cmd);
        }
    }

    /// Encodes a reply with this connection's protocol and queues it in order.
    pub fn reply_with(&mut self, f: impl FnOnce(&mut Reply)) {
        let bytes = super::encode(self.resp3, f);
        self.local_reply(&bytes);
    }
}
