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
use crate::msg::{
    Begun, Claim, ExecPlan, ExecStep, KeyLock, KeyLocks, Mode, Request, ToEngine, TxId, TxInfo,
    TxKind, TxStep, Want,
};
use crate::spec::{self, Gather, Route};

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
                client_flags: req.client_flags,
                caller: req.caller.clone(),
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

/// What a transaction's part runs on this shard at [`TxStep::Go`].
pub(super) enum Work {
    /// A command (a split command's part, or a coordinated command).
    Run(Stored),
    /// Serve the blocked BLMOVE whose wake began this transaction
    /// ([`super::Shard::resume_move`]).
    ResumeMove,
    /// Begin this shard's part of a background save
    /// ([`super::Shard::begin_snapshot`]).
    Snapshot,
}

impl Work {
    /// What shard `me` runs at Go for a transaction a shard began.
    pub(super) fn for_begun(what: Begun, info: &TxInfo, me: u16) -> Option<Work> {
        match (what, info.kind) {
            (Begun::Move, TxKind::Coordinated { coordinator }) if coordinator == me => {
                Some(Work::ResumeMove)
            }
            (Begun::Move, _) => None,
            (Begun::Snapshot, _) => Some(Work::Snapshot),
        }
    }
}

/// A transaction with a part on this shard.
struct Live {
    info: Arc<TxInfo>,
    /// What this shard runs at Go (none: it only holds locks).
    work: Option<Work>,
}

/// A client WATCHing a key of this shard.
struct Watcher {
    owner: Owner,
    key: Bytes,
    /// The client's "a watched key changed" flag, shared with its IO thread
    /// and every shard it watches on: taken (set) by the first change.
    flag: Arc<Claim>,
    /// Whether the key was live at WATCH time (Redis: a watched key that
    /// expires before EXEC fails it, one already expired does not).
    live: bool,
}

/// The WATCHed keys of this shard (Redis's `watched_keys`, `multi.c`),
/// indexed by database and key fingerprint ([`spec::key_fp`]).
#[derive(Default)]
struct Watches {
    keys: hashbrown::HashMap<(u16, u64), Vec<Watcher>>,
    /// Each watching client's keys here.
    by_owner: hashbrown::HashMap<Owner, Vec<(u16, u64)>>,
}

impl Watches {
    fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// A write touched `key` of database `db`: every client watching it
    /// fails its next EXEC.
    fn touch(&mut self, db: u16, key: &[u8]) {
        let slot = (db, spec::key_fp(key));
        if let Some(ws) = self.keys.get_mut(&slot) {
            ws.retain(|w| {
                let hit = w.key == key;
                if hit {
                    w.flag.take();
                }
                !hit
            });
            if ws.is_empty() {
                self.keys.remove(&slot);
            }
        }
    }

    /// A coordinated transaction locked the key with fingerprint `fp` for
    /// writing: its watchers fail (with a colliding key's too: a retry).
    fn touch_fp(&mut self, db: u16, fp: u64) {
        if let Some(ws) = self.keys.remove(&(db, fp)) {
            for w in ws {
                w.flag.take();
            }
        }
    }

    /// FLUSHDB / FLUSHALL / SWAPDB: every watcher of database `db` (all
    /// databases when None) fails. (Redis spares keys that did not exist;
    /// failing them too only makes a client retry.)
    fn touch_db(&mut self, db: Option<u16>) {
        self.keys.retain(|(d, _), ws| {
            if db.is_none_or(|db| db == *d) {
                for w in ws.iter() {
                    w.flag.take();
                }
                false
            } else {
                true
            }
        });
    }

    /// Drops every watch of `owner` here (UNWATCH, EXEC, DISCARD, a client
    /// that went away).
    fn unwatch(&mut self, owner: Owner) {
        for k in self.by_owner.remove(&owner).unwrap_or_default() {
            if let Some(ws) = self.keys.get_mut(&k) {
                ws.retain(|w| w.owner != owner);
                if ws.is_empty() {
                    self.keys.remove(&k);
                }
            }
        }
    }
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
    /// An empty buffer `granted` is swapped with while acted on.
    granted_spare: Vec<(TxId, Pending)>,
    local: VecDeque<(TxId, TxStep)>,
    /// Steps for each other shard, sent at the end of the loop turn.
    out: Vec<Vec<(TxId, TxStep)>>,
    watches: Watches,
}

impl TxTable {
    /// Nothing locked, nothing waiting, no transaction in progress here.
    #[inline]
    pub fn idle(&self) -> bool {
        self.locks.idle() && self.live.is_empty()
    }

    /// Whether some client WATCHes a key of this shard.
    #[inline]
    pub fn watching(&self) -> bool {
        !self.watches.is_empty()
    }
}

/// What a single-shard command locks: its keys, or the whole shard for a
/// keyspace-wide command (KEYS, FLUSHDB, ...). INFO, SCAN and keyless
/// commands lock nothing (they still keep their connection's order).
pub(super) fn want_of(req: &Request, args: &[Bytes]) -> Want {
    let s = spec::get(req.cmd);
    let mode = Mode::of(req.cmd);
    match s.route {
        Route::All(Gather::Info) | Route::Scan | Route::Local | Route::PubSub => {
            Want::Keys(KeyLocks::new())
        }
        Route::Tx if s.name != "watch" => Want::Keys(KeyLocks::new()),
        Route::All(_) => Want::Shard(mode),
        _ => {
            let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
            let keys = s.keys_in(&refs).unwrap_or_default();
            let mut locks: KeyLocks = keys
                .into_iter()
                .filter_map(|i| args.get(i))
                .map(|k| KeyLock::new(req.db, k, mode))
                .collect();
            if let Some((i, db)) = s.other_db_key(&refs) {
                if let Some(k) = refs.get(i) {
                    locks.push(KeyLock::new(db, k, mode));
                }
            }
            Want::Keys(locks)
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
        let mut g = std::mem::take(&mut self.tx.granted);
        self.tx.locks.park(
            owner,
            want,
            Pending::Command(Stored::of(io, req, args)),
            &mut g,
        );
        self.tx.granted = g;
        self.tx_progress();
        true
    }

    /// A transaction's part arrives in a batch: queue its locks (active on
    /// its first shard, or if the token came first).
    pub(super) fn tx_part(&mut self, io: usize, req: &Request, args: &[Bytes]) {
        let Some(info) = req.tx.clone() else {
            return;
        };
        let me = self.sh.id;
        let work = match info.kind {
            TxKind::Parts => Some(Work::Run(Stored::of(io, req, args))),
            TxKind::Coordinated { coordinator } if coordinator == me => {
                Some(Work::Run(Stored::of(io, req, args)))
            }
            // An EXEC's steps carry their own commands.
            TxKind::Coordinated { .. } | TxKind::Exec => None,
        };
        self.tx_join(info, (io as u16, req.conn), work);
    }

    /// Queues transaction `info`'s locks here for `owner` (active on its
    /// first shard, or if the token came first), with what this shard
    /// runs at Go.
    pub(super) fn tx_join(&mut self, info: Arc<TxInfo>, owner: Owner, work: Option<Work>) {
        let me = self.sh.id;
        let id = info.id;
        let want = info
            .want(me)
            .cloned()
            .unwrap_or(Want::Keys(KeyLocks::new()));
        let active = info.first() == me || self.tx.early.remove(&id);
        let info_follows = info.follows;
        self.tx.live.insert(id, Live { info, work });
        let mut g = std::mem::take(&mut self.tx.granted);
        self.tx
            .locks
            .acquire(id, owner, want, active, info_follows, Pending::Tx, &mut g);
        self.tx.granted = g;
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
                // Swapped with the spare buffer, so neither is reallocated.
                let mut now = std::mem::take(&mut self.tx.granted_spare);
                std::mem::swap(&mut now, &mut self.tx.granted);
                for (id, p) in now.drain(..) {
                    match p {
                        Pending::Tx => self.tx_granted(id),
                        Pending::Command(st) => {
                            self.run_stored(st, 0);
                        }
                    }
                }
                self.tx.granted_spare = now;
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
                TxStep::Step(n) => self.exec_step(id, n as usize),
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
        let snapshot = matches!(live.work, Some(Work::Snapshot));
        // What ran here before this grant goes into the AOF before the
        // transaction's place (`crate::aof`, "One order across shards").
        self.sh.log_flush();
        match info.next_after(self.sh.id) {
            Some(next) => self.send_tx(next, id, TxStep::Token),
            None => {
                // A rewrite's instant takes a place even before logging
                // starts (the AOF turned on at run time): it opens the file.
                if self.sh.logging || (snapshot && self.sh.aof.starting()) {
                    let _ = info
                        .log
                        .set(self.sh.aof.reserve(info.shards.len(), snapshot));
                }
                for &(s, _) in &info.shards {
                    self.send_tx(s, id, TxStep::Go);
                }
            }
        }
    }

    /// Runs this shard's share of transaction `id`, logging what it
    /// runs in the transaction's AOF place.
    fn tx_go(&mut self, id: TxId) {
        let log = self.tx_log(id);
        let prev = self.enter_tx_log(log);
        self.tx_go_logged(id);
        self.sh.log_tx = prev;
    }

    /// Transaction `id`'s AOF place, if it has one.
    fn tx_log(&self, id: TxId) -> Option<Arc<crate::aof::TxLog>> {
        self.tx.live.get(&id)?.info.log.get().cloned()
    }

    /// Makes `log` where commands are logged (replies now wait for it);
    /// returns the previous place.
    fn enter_tx_log(
        &mut self,
        log: Option<Arc<crate::aof::TxLog>>,
    ) -> Option<Arc<crate::aof::TxLog>> {
        if let Some(t) = &log {
            self.sh.log_wait = self.sh.log_wait.max(t.id);
        }
        std::mem::replace(&mut self.sh.log_tx, log)
    }

    fn tx_go_logged(&mut self, id: TxId) {
        let Some(live) = self.tx.live.get_mut(&id) else {
            return;
        };
        let kind = live.info.kind;
        let work = live.work.take();
        let info = live.info.clone();
        // A coordinated command's writes happen in hops: the keys it
        // locks for writing count as written for WATCH.
        if self.tx.watching() && matches!(kind, TxKind::Coordinated { .. }) {
            if let Some(Want::Keys(ks)) = info.want(self.sh.id) {
                for k in ks.iter().filter(|k| k.mode == Mode::Exclusive) {
                    self.tx.watches.touch_fp(k.db, k.fp);
                }
            }
        }
        match kind {
            TxKind::Exec => {
                // The first step's shard starts the sequence; a parallel
                // plan without checks starts on every shard at once.
                let Some(plan) = info.exec.as_ref() else {
                    return;
                };
                match plan.steps.first() {
                    Some(ExecStep::Run { .. }) if plan.parallel => {
                        if plan.run_shards().contains(&self.sh.id) {
                            self.exec_step(id, 0);
                        }
                    }
                    Some(st) if st.shard() == self.sh.id => self.exec_step(id, 0),
                    _ => {}
                }
            }
            TxKind::Parts => {
                match work {
                    Some(Work::Run(st)) => {
                        self.run_stored(st, 0);
                    }
                    Some(Work::Snapshot) => {
                        self.sh.begin_snapshot();
                        // Turned on at run time: what follows this
                        // instant is not in the base, so it is logged.
                        if self.sh.aof.starting() {
                            self.sh.log_armed = true;
                            self.sh.refresh_logging();
                        }
                    }
                    _ => {}
                }
                self.tx_release_here(id);
            }
            TxKind::Coordinated { .. } => {
                // The command answers with the transaction's id on its
                // reply; `run_hops` then releases every shard. A command
                // that answered at once (or not at all) is done now.
                let deferred = match work {
                    Some(Work::Run(st)) => self.run_stored(st, id),
                    Some(Work::ResumeMove) => self.sh.resume_move(id),
                    Some(Work::Snapshot) | None => return,
                };
                if !deferred {
                    self.tx_release_all(id);
                }
            }
        }
    }

    /// Lets go of transaction `id`'s locks on this shard and acts on what
    /// that grants. An EXEC also ends its client's WATCH here.
    fn tx_release_here(&mut self, id: TxId) {
        if let Some(live) = self.tx.live.get(&id) {
            if let Some(p) = &live.info.exec {
                self.tx.watches.unwatch((p.reply.io, p.reply.conn));
            }
            if let Some(t) = live.info.log.get() {
                self.sh.aof.part_done(t);
            }
        }
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

    /// A reply carrying transaction `id` was sent: the coordinated command
    /// ended (release every shard), or an EXEC step did (next step).
    pub(super) fn tx_replied(&mut self, id: TxId) {
        let exec = self
            .tx
            .live
            .get(&id)
            .is_some_and(|l| l.info.kind == TxKind::Exec);
        if exec {
            self.exec_advance(id);
            self.tx_progress();
        } else {
            self.tx_release_all(id);
        }
    }

    /// Runs step `n` of EXEC `id` on this shard, logging in its AOF place.
    fn exec_step(&mut self, id: TxId, n: usize) {
        let log = self.tx_log(id);
        let prev = self.enter_tx_log(log);
        self.exec_step_logged(id, n);
        self.sh.log_tx = prev;
    }

    fn exec_step_logged(&mut self, id: TxId, n: usize) {
        let Some(info) = self.tx.live.get(&id).map(|l| l.info.clone()) else {
            return;
        };
        let Some(plan) = &info.exec else {
            return;
        };
        let Some(step) = plan.steps.get(n) else {
            return;
        };
        let owner: Owner = (plan.reply.io, plan.reply.conn);
        let aborted = plan.aborted.load(std::sync::atomic::Ordering::Acquire);
        if plan.parallel && matches!(step, ExecStep::Run { .. }) {
            return self.exec_run_mine(id, n);
        }
        match step {
            ExecStep::Check { .. } => {
                if !aborted && !self.watch_intact(owner) {
                    plan.aborted
                        .store(true, std::sync::atomic::Ordering::Release);
                }
            }
            ExecStep::Run { .. } if !aborted => {
                let deferred = self.exec_run(plan, step, id);
                if deferred {
                    // Deferred: its reply carries `id` and moves EXEC on.
                    return;
                }
            }
            ExecStep::Run { .. } => self.exec_skip(plan, step),
        }
        self.exec_advance(id);
    }

    /// A parallel plan's commands on this shard, from step `n` on, in
    /// order (none of them hops or waits); the last shard to finish
    /// answers the verdict and releases every shard.
    fn exec_run_mine(&mut self, id: TxId, n: usize) {
        let Some(info) = self.tx.live.get(&id).map(|l| l.info.clone()) else {
            return;
        };
        let prev = self.enter_tx_log(info.log.get().cloned());
        self.exec_run_mine_logged(&info, id, n);
        self.sh.log_tx = prev;
    }

    fn exec_run_mine_logged(&mut self, info: &Arc<TxInfo>, id: TxId, n: usize) {
        let Some(plan) = &info.exec else {
            return;
        };
        let me = self.sh.id;
        let aborted = plan.aborted.load(std::sync::atomic::Ordering::Acquire);
        for step in plan.steps.iter().skip(n) {
            if !matches!(step, ExecStep::Run { shard, .. } if *shard == me) {
                continue;
            }
            if aborted {
                self.exec_skip(plan, step);
            } else {
                // Never deferred: the plan has no hopping or blocking command.
                self.exec_run(plan, step, 0);
            }
        }
        if plan
            .running
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel)
            == 1
        {
            self.exec_verdict(id, plan);
        }
    }

    /// Runs a command of an EXEC plan as its connection's request, not
    /// blocking (`no_wait`); a deferred reply carries `tx`. True if deferred.
    fn exec_run(&mut self, plan: &ExecPlan, step: &ExecStep, tx: TxId) -> bool {
        let ExecStep::Run {
            cmd,
            db,
            hash,
            args,
            part,
            first,
            ..
        } = step
        else {
            return false;
        };
        let req = Request {
            conn: plan.reply.conn,
            seq: plan.reply.seq,
            part: *part,
            db: *db,
            resp3: plan.reply.resp3,
            cmd: *cmd,
            hash: *hash,
            args: 0..args.len(),
            claim: None,
            stamp: 0,
            tx: None,
            client_flags: plan.client_flags,
            caller: plan.caller.clone(),
        };
        self.in_exec = true;
        self.exec_call = *first;
        let deferred = self.run_request(plan.reply.io as usize, &req, args, tx);
        self.in_exec = false;
        deferred
    }

    /// A command skipped because a WATCHed key changed: its part still
    /// answers (null), so the IO thread's gather completes; EXEC then
    /// says nil.
    fn exec_skip(&mut self, plan: &ExecPlan, step: &ExecStep) {
        if let ExecStep::Run { part, .. } = step {
            let mut to = plan.reply;
            to.part = *part;
            self.sh.reply_later(to, |r| r.null());
        }
    }

    /// Answers EXEC's verdict (its last part) and releases every shard.
    fn exec_verdict(&mut self, id: TxId, plan: &ExecPlan) {
        if let Some((db, name)) = &plan.monitor {
            // After the block's commands, as Redis shows EXEC.
            let s = spec::get(spec::lookup(b"exec").unwrap_or_default());
            let from = Some((plan.reply.io, plan.reply.conn));
            self.sh
                .feed_monitor(s, *db as usize, from, std::slice::from_ref(name));
        }
        let aborted = plan.aborted.load(std::sync::atomic::Ordering::Acquire);
        let mut to = plan.reply;
        to.part = plan.done_part;
        to.tx = 0;
        self.sh
            .reply_later(to, |r| if aborted { r.error("ABORT") } else { r.ok() });
        self.tx_release_all(id);
    }

    /// The current step of EXEC `id` is done: send the next one to its
    /// shard (every shard with commands, once a parallel plan's checks
    /// are done), or, after the last, answer the verdict and release.
    fn exec_advance(&mut self, id: TxId) {
        let Some(info) = self.tx.live.get(&id).map(|l| l.info.clone()) else {
            return;
        };
        let Some(plan) = &info.exec else {
            return;
        };
        let next = plan
            .cursor
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
        match plan.steps.get(next) {
            Some(ExecStep::Run { .. }) if plan.parallel => {
                for s in plan.run_shards() {
                    self.send_tx(s, id, TxStep::Step(next as u32));
                }
            }
            Some(step) => self.send_tx(step.shard(), id, TxStep::Step(next as u32)),
            None => self.exec_verdict(id, plan),
        }
    }

    /// Whether `owner`'s watched keys here are as they were at WATCH: no
    /// write touched them (the shared flag) and none that was live then
    /// has expired since (Redis's `isWatchedKeyExpired`).
    fn watch_intact(&mut self, owner: Owner) -> bool {
        let Some(keys) = self.tx.watches.by_owner.get(&owner) else {
            return true;
        };
        let now = crate::cmd::now_ms();
        for slot in keys {
            // Its watchers were dropped by a write (which took the
            // client's flag) unless one of this client's is still here.
            let Some(ws) = self.tx.watches.keys.get(slot) else {
                return false;
            };
            let mut mine = ws.iter().filter(|w| w.owner == owner).peekable();
            if mine.peek().is_none() {
                return false;
            }
            for w in mine {
                if w.flag.taken() {
                    return false;
                }
                let live = self
                    .sh
                    .dbs
                    .get(slot.0 as usize)
                    .is_some_and(|d| d.peek(spec::key_hash(&w.key), &w.key, now).is_some());
                if w.live && !live {
                    return false;
                }
            }
        }
        true
    }

    /// WATCH key... (this shard's keys): registers the client, remembering
    /// whether each key is live now.
    pub(super) fn watch(&mut self, io: usize, req: &Request, args: &[Bytes]) {
        let owner: Owner = (io as u16, req.conn);
        if let Some(flag) = &req.claim {
            let now = self.sh.now_ms;
            for key in args.iter().skip(1) {
                let live = self
                    .sh
                    .dbs
                    .get(req.db as usize)
                    .is_some_and(|d| d.peek(spec::key_hash(key), key, now).is_some());
                let k = (req.db, spec::key_fp(key));
                let ws = self.tx.watches.keys.entry(k).or_default();
                if ws.iter().any(|w| w.owner == owner && w.key == key) {
                    continue;
                }
                ws.push(Watcher {
                    owner,
                    key: key.clone(),
                    flag: flag.clone(),
                    live,
                });
                self.tx.watches.by_owner.entry(owner).or_default().push(k);
            }
        }
        self.reply_ok(io, req);
    }

    /// UNWATCH (sent to the shards the client watches on).
    pub(super) fn unwatch(&mut self, io: usize, req: &Request) {
        self.tx.watches.unwatch((io as u16, req.conn));
        self.reply_ok(io, req);
    }

    /// A client went away: its watches go too.
    pub(super) fn forget(&mut self, io: u16, conn: u64) {
        self.tx.watches.unwatch((io, conn));
    }

    /// Marks the keys a write command may have changed as touched for
    /// WATCH; `existed` says which of `keys` existed before it ran (a key
    /// that neither existed before nor after was not written, as for DEL of
    /// a missing key). Keyspace-wide writes touch whole databases.
    pub(super) fn watch_after_write(&mut self, req: &Request, args: &[Bytes], existed: &[bool]) {
        let s = spec::get(req.cmd);
        match s.route {
            Route::All(_) => match s.name {
                // DEBUG RELOAD replaces every database (Redis's emptyData
                // touches every watched key; tandem, every database also
                // with NOFLUSH: a client only retries).
                "flushall" => self.tx.watches.touch_db(None),
                "debug"
                    if args
                        .get(1)
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"reload")) =>
                {
                    self.tx.watches.touch_db(None)
                }
                // DIGEST changes nothing.
                "debug" => {}
                "swapdb" => {
                    for a in args.iter().skip(1).take(2) {
                        if let Some(db) = crate::resp::parse::parse_i64(a) {
                            self.tx.watches.touch_db(Some(db as u16));
                        }
                    }
                }
                _ => self.tx.watches.touch_db(Some(req.db)),
            },
            _ => {
                let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
                let now = self.sh.now_ms;
                for (j, i) in s.keys_in(&refs).unwrap_or_default().into_iter().enumerate() {
                    let Some(key) = args.get(i) else {
                        continue;
                    };
                    let exists = self
                        .sh
                        .dbs
                        .get(req.db as usize)
                        .is_some_and(|d| d.peek(spec::key_hash(key), key, now).is_some());
                    if exists || existed.get(j).copied().unwrap_or(true) {
                        self.tx.watches.touch(req.db, key);
                    }
                }
                // MOVE's key and COPY's destination land in another
                // database too (counted as written even when the command
                // did nothing: a client only retries).
                if let Some((i, db)) = s.other_db_key(&refs) {
                    if let Some(key) = refs.get(i) {
                        self.tx.watches.touch(db, key);
                    }
                }
            }
        }
    }

    /// Marks `keys` (database, key) as touched for WATCH (the writes of a
    /// script's commands).
    pub(super) fn touch_keys(&mut self, keys: &[(u16, Bytes)]) {
        if self.tx.watching() {
            for (db, k) in keys {
                self.tx.watches.touch(*db, k);
            }
        }
    }

    /// Whether each key of a write command exists now (before it runs),
    /// for [`Engine::watch_after_write`].
    pub(super) fn keys_existing(&mut self, req: &Request, args: &[Bytes]) -> Vec<bool> {
        let s = spec::get(req.cmd);
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        let now = self.sh.now_ms;
        s.keys_in(&refs)
            .unwrap_or_default()
            .into_iter()
            .map(|i| {
                args.get(i).is_some_and(|key| {
                    self.sh
                        .dbs
                        .get(req.db as usize)
                        .is_some_and(|d| d.peek(spec::key_hash(key), key, now).is_some())
                })
            })
            .collect()
    }

    /// Sends a step to shard `s` (queued locally for this shard). Steps
    /// for other shards go out together at the end of the loop turn
    /// ([`Engine::flush_tx`]): one message, and at most one wakeup, per
    /// peer however many transactions moved on.
    fn send_tx(&mut self, s: u16, id: TxId, step: TxStep) {
        if s == self.sh.id || self.peers.is_empty() {
            self.tx.local.push_back((id, step));
        } else {
            let s = s as usize;
            if self.tx.out.len() <= s {
                self.tx.out.resize_with(s + 1, Vec::new);
            }
            self.tx.out[s].push((id, step));
        }
    }

    /// Sends the steps collected for each peer ([`Engine::send_tx`]).
    pub(super) fn flush_tx(&mut self) {
        for (s, out) in self.tx.out.iter_mut().enumerate() {
            if out.is_empty() {
                continue;
            }
            if let Some(p) = self.peers.get(s) {
                // Unbounded inbox: never blocks.
                let _ = p.send(ToEngine::Tx(std::mem::take(out)));
            }
        }
    }

    /// Runs a stored request as a batch request would run; its reply goes
    /// to its IO thread's outbox. `tx` is the coordinated transaction it
    /// ends (0: none). Returns true if the command deferred its reply.
    fn run_stored(&mut self, st: Stored, tx: TxId) -> bool {
        self.run_any(st.io, &st.req, &st.args, tx)
    }
}
