//! The transaction layer, shard side: commands whose keys live on several
//! shards run atomically and isolated, as in Redis.
//!
//! Runs on each shard engine thread; never blocks: what cannot proceed
//! waits in the shard's lock queue ([`super::locks`]) and is resumed by the
//! message that unblocks it.
//!
//! # Protocol
//!
//! The IO thread puts one part of a transaction into the batch of every
//! shard it touches, in the connection's command order ([`TxInfo`]). Then:
//!
//! 1. **Lock, in shard order.** The lowest shard queues its part's locks
//!    as active at once; every other shard queues them inactive (waiting
//!    without blocking anyone) until the [`TxStep::Token`] comes from the
//!    shard below, which sends it once its own locks are granted. Conflicting
//!    requests are granted in arrival order; a connection's requests in the
//!    order it sent them. Waiting only ever happens while holding lower
//!    shards, so waits climb the shards and no cycle (deadlock) can form.
//! 2. **Go.** The highest shard, once granted, sends [`TxStep::Go`] to every
//!    shard of the transaction. For a [`TxKind::Parts`] transaction (MSET,
//!    DEL, KEYS, ...) each shard runs its part, replies with it as a part of
//!    the command's gathered reply, and lets go of its locks. For a
//!    [`TxKind::Coordinated`] one (RENAME, SINTERSTORE, ...) the coordinator
//!    runs the command, whose hops reach the other shards while every lock
//!    is held.
//! 3. **Release.** When the coordinated command has answered (its reply
//!    carries the transaction id), every shard of the transaction gets
//!    [`TxStep::Release`] and lets go; the grants that frees are acted on.
//!
//! Every lock is taken before any part runs and none is given back before
//! the part on that shard ran (conservative two-phase locking), so no
//! other command, on any shard, observes a transaction half done.
//!
//! A single-shard command pays one check while nothing is locked on its
//! shard ([`super::locks::Locks::idle`]); otherwise it runs at once if its
//! keys are free and waits in the queue if not.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::Engine;
use super::locks::{Locks, Owner};
use crate::msg::{KeyLock, Mode, Request, ToEngine, TxId, TxInfo, TxKind, TxStep, Want};
use crate::spec::{self, Gather, Route, flag};

/// A request a shard keeps until it may run: a command parked behind a
/// lock, or the part a transaction runs at [`TxStep::Go`].
pub(super) struct Stored {
    pub io: usize,
    pub req: Request,
    pub args: Vec<Bytes>,
}

impl Stored {
    /// Copies a batch request (its arguments by reference count).
    fn of(io: usize, req: &Request, args: &[Bytes]) -> Stored {
        Stored {
            io,
            req: Request {
                conn: req.conn,
                seq: req.seq,
                part: req.part,
                db: req.db,
                resp3: req.resp3,
                cmd: req.cmd,
                hash: req.hash,
                args: 0..args.len(),
                claim: req.claim.clone(),
                stamp: 0,
                tx: None,
            },
            args: args.to_vec(),
        }
    }
}

/// What a queued lock request resumes when granted.
pub(super) enum Pending {
    Tx,
    Command(Stored),
}

/// A transaction with a part on this shard.
struct Live {
    info: Arc<TxInfo>,
    /// What this shard runs at Go (none: it only holds locks).
    work: Option<Stored>,
}

/// A shard's side of the transaction layer.
#[derive(Default)]
pub(super) struct TxTable {
    pub locks: Locks<Pending>,
    live: hashbrown::HashMap<TxId, Live>,
    /// Tokens that arrived before their part (a peer's hop can overtake
    /// the IO thread's batch).
    early: hashbrown::HashSet<TxId>,
    /// Grants and local steps not acted on yet.
    granted: Vec<(TxId, Pending)>,
    local: VecDeque<(TxId, TxStep)>,
}

impl TxTable {
    /// Nothing locked, nothing waiting, no transaction in progress here.
    #[inline]
    pub fn idle(&self) -> bool {
        self.locks.idle() && self.live.is_empty()
    }
}

/// The lock mode of a command: writers lock exclusively.
fn mode_of(cmd: spec::CmdId) -> Mode {
    if spec::get(cmd).is(flag::WRITE) {
        Mode::Exclusive
    } else {
        Mode::Shared
    }
}

/// What a single-shard command locks: its keys, or the whole shard for a
/// keyspace-wide command (KEYS, FLUSHDB, ...). INFO, SCAN and keyless
/// commands lock nothing (they still keep their connection's order).
pub(super) fn want_of(req: &Request, args: &[Bytes]) -> Want {
    let s = spec::get(req.cmd);
    let mode = mode_of(req.cmd);
    match s.route {
        Route::All(Gather::Info) | Route::Scan | Route::Local => Want::Keys(Vec::new()),
        Route::All(_) => Want::Shard(mode),
        _ => {
            let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            let keys = s.keys_in(&refs).unwrap_or_default();
            Want::Keys(
                keys.into_iter()
                    .filter_map(|i| args.get(i))
                    .map(|k| KeyLock {
                        db: req.db,
                        key: k.clone(),
                        mode,
                    })
                    .collect(),
            )
        }
    }
}

impl Engine {
    /// A request from a batch while something is locked here: runs it if
    /// its locks are free, else parks it in the queue. True if it ran.
    pub(super) fn run_or_park(&mut self, io: usize, req: &Request, args: &[Bytes]) -> bool {
        let want = want_of(req, args);
        let owner: Owner = (io as u16, req.conn);
        if self.tx.locks.can_run_now(owner, &want) {
            return false;
        }
        self.tx
            .locks
            .park(owner, want, Pending::Command(Stored::of(io, req, args)));
        true
    }

    /// A transaction's part arrives in a batch: queue its locks (active on
    /// its first shard, or if the token came first).
    pub(super) fn tx_part(&mut self, io: usize, req: &Request, args: &[Bytes]) {
        let Some(info) = req.tx.clone() else {
            return;
        };
        let me = self.sh.id;
        let id = info.id;
        let want = info.want(me).cloned().unwrap_or(Want::Keys(Vec::new()));
        let work = match info.kind {
            TxKind::Parts => Some(Stored::of(io, req, args)),
            TxKind::Coordinated { coordinator } if coordinator == me => {
                Some(Stored::of(io, req, args))
            }
            TxKind::Coordinated { .. } => None,
        };
        let active = info.first() == me || self.tx.early.remove(&id);
        self.tx.live.insert(id, Live { info, work });
        let owner: Owner = (io as u16, req.conn);
        if let Some(p) = self.tx.locks.acquire(id, owner, want, active, Pending::Tx) {
            self.tx.granted.push((id, p));
        }
        self.tx_progress();
    }

    /// A step of transaction `id` from another shard (or this one).
    pub(super) fn tx_step(&mut self, id: TxId, step: TxStep) {
        self.tx.local.push_back((id, step));
        self.tx_progress();
    }

    /// Acts on grants and local steps until none is left.
    fn tx_progress(&mut self) {
        loop {
            if !self.tx.granted.is_empty() {
                // In grant order: a connection's parked commands run as sent.
                for (id, p) in std::mem::take(&mut self.tx.granted) {
                    match p {
                        Pending::Tx => self.tx_granted(id),
                        Pending::Command(st) => {
                            self.run_stored(st, 0);
                        }
                    }
                }
                continue;
            }
            let Some((id, step)) = self.tx.local.pop_front() else {
                return;
            };
            match step {
                TxStep::Token => {
                    if self.tx.live.contains_key(&id) {
                        let mut g = std::mem::take(&mut self.tx.granted);
                        self.tx.locks.activate(id, &mut g);
                        self.tx.granted = g;
                    } else {
                        self.tx.early.insert(id);
                    }
                }
                TxStep::Go => self.tx_go(id),
                TxStep::Release => self.tx_release_here(id),
            }
        }
    }

    /// This shard granted transaction `id` its locks: pass the token up,
    /// or, on the last shard, tell every shard to go.
    fn tx_granted(&mut self, id: TxId) {
        let Some(live) = self.tx.live.get(&id) else {
            return;
        };
        let info = live.info.clone();
        match info.next_after(self.sh.id) {
            Some(next) => self.send_tx(next, id, TxStep::Token),
            None => {
                for &(s, _) in &info.shards {
                    self.send_tx(s, id, TxStep::Go);
                }
            }
        }
    }

    /// Runs this shard's share of transaction `id`.
    fn tx_go(&mut self, id: TxId) {
        let Some(live) = self.tx.live.get_mut(&id) else {
            return;
        };
        let kind = live.info.kind;
        let work = live.work.take();
        match kind {
            TxKind::Parts => {
                if let Some(st) = work {
                    self.run_stored(st, 0);
                }
                self.tx_release_here(id);
            }
            TxKind::Coordinated { .. } => {
                if let Some(st) = work {
                    // The command answers with the transaction's id on its
                    // reply; `run_hops` then releases every shard. A command
                    // that answered at once is done now.
                    if !self.run_stored(st, id) {
                        self.tx_release_all(id);
                    }
                }
            }
        }
    }

    /// Lets go of transaction `id`'s locks on this shard and acts on what
    /// that grants.
    fn tx_release_here(&mut self, id: TxId) {
        self.tx.live.remove(&id);
        self.tx.early.remove(&id);
        let mut g = std::mem::take(&mut self.tx.granted);
        self.tx.locks.release(id, &mut g);
        self.tx.granted = g;
    }

    /// A coordinated transaction's command answered: every shard of it
    /// lets go.
    pub(super) fn tx_release_all(&mut self, id: TxId) {
        let shards: Vec<u16> = match self.tx.live.get(&id) {
            Some(live) => live.info.shards.iter().map(|(s, _)| *s).collect(),
            // Not known here (cannot happen: a command only reaches the
            // shards of its keys): tell everyone, a no-op where unknown.
            None => (0..self.sh.count).collect(),
        };
        for s in shards {
            self.send_tx(s, id, TxStep::Release);
        }
        self.tx_progress();
    }

    /// Sends a step to shard `s` (queued locally for this shard).
    fn send_tx(&mut self, s: u16, id: TxId, step: TxStep) {
        if s == self.sh.id || self.peers.is_empty() {
            self.tx.local.push_back((id, step));
        } else if let Some(p) = self.peers.get(s as usize) {
            // Unbounded inbox: never blocks.
            let _ = p.send(ToEngine::Tx { id, step });
        }
    }

    /// Runs a stored request as a batch request would run; its reply goes
    /// to its IO thread's outbox. `tx` is the coordinated transaction it
    /// ends (0: none). Returns true if the command deferred its reply.
    fn run_stored(&mut self, st: Stored, tx: TxId) -> bool {
        self.run_request(st.io, &st.req, &st.args, tx)
    }
}
