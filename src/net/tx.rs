//! MULTI, EXEC, DISCARD, WATCH and UNWATCH on an IO thread: a MULTI block
//! is queued here and, at EXEC, planned as one transaction over every
//! shard its commands (and the client's WATCHed keys) touch, which the
//! shards run as one unit (`engine::tx`).
//!
//! Semantics follow Redis 7.0 (`multi.c`,
//! <https://redis.io/docs/latest/develop/interact/transactions/>): commands
//! inside MULTI answer `+QUEUED`; a command refused while queueing (unknown,
//! wrong arity) makes EXEC answer `-EXECABORT` and run nothing; errors while
//! the block runs are elements of EXEC's array and do not stop the rest; a
//! WATCHed key written (or expired) since WATCH makes EXEC answer nil;
//! EXEC, DISCARD and RESET end the WATCH; blocking commands inside MULTI do
//! not block. Connection-level commands inside MULTI (PING, SELECT, ...)
//! run when EXEC is planned, in order, so a SELECT applies to the commands
//! after it.
//!
//! Runs on the IO thread; never blocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize};

use bytes::{Bytes, BytesMut};

use super::conn::{ExecLayout, ExecSlot, GatherState, Multi, Watch};
use super::{IoThread, conn_token, local};
use crate::msg::{
    Claim, ExecPlan, ExecStep, KeyLock, Mode, ReplyTo, TxInfo, TxKind, Want, next_tx_id,
};
use crate::resp::errors;
use crate::resp::parse::parse_i64;
use crate::spec::{self, CmdId, Gather, Route, Touched};

const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// What a transaction locks, shard by shard, while being planned.
#[derive(Default)]
struct Locks {
    per_shard: Vec<(u16, Vec<KeyLock>, Option<Mode>)>,
}

impl Locks {
    fn slot(&mut self, shard: u16) -> &mut (u16, Vec<KeyLock>, Option<Mode>) {
        if let Some(i) = self.per_shard.iter().position(|e| e.0 == shard) {
            return &mut self.per_shard[i];
        }
        self.per_shard.push((shard, Vec::new(), None));
        let last = self.per_shard.len() - 1;
        &mut self.per_shard[last]
    }

    fn key(&mut self, shard: u16, db: u16, key: &[u8], mode: Mode) {
        self.slot(shard).1.push(KeyLock::new(db, key, mode));
    }

    fn shard(&mut self, shard: u16, mode: Mode) {
        let s = self.slot(shard);
        s.2 = Some(match (s.2, mode) {
            (Some(Mode::Exclusive), _) | (_, Mode::Exclusive) => Mode::Exclusive,
            _ => Mode::Shared,
        });
    }

    /// Ascending by shard, a whole-shard lock absorbing key locks.
    fn into_wants(mut self) -> Vec<(u16, Want)> {
        self.per_shard.sort_by_key(|e| e.0);
        self.per_shard
            .into_iter()
            .map(|(s, keys, whole)| match whole {
                Some(m) => (s, Want::Shard(m)),
                None => (s, Want::Keys(keys.into())),
            })
            .collect()
    }
}

/// Whether a command is run at once even inside MULTI (Redis:
/// `processCommand`).
pub(super) fn runs_inside_multi(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

impl IoThread {
    /// MULTI EXEC DISCARD WATCH UNWATCH.
    pub(super) fn tx_command(&mut self, slot: usize, id: CmdId, args: &[&[u8]]) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        match spec::get(id).name {
            "multi" => {
                if c.multi.is_some() {
                    // Not queued, and the block goes on (Redis).
                    return c.reply_with(|r| r.error("ERR MULTI calls can not be nested"));
                }
                c.multi = Some(Multi::default());
                c.reply_with(|r| r.ok());
            }
            "discard" => {
                if c.multi.take().is_none() {
                    return c.reply_with(|r| r.error("ERR DISCARD without MULTI"));
                }
                self.end_watch(slot, Bytes::from_static(b"+OK\r\n"));
            }
            "exec" => self.exec(slot, args[0]),
            "watch" => {
                if c.multi.is_some() {
                    return c.reply_with(|r| r.error("ERR WATCH inside MULTI is not allowed"));
                }
                self.watch(slot, id, args);
            }
            _ => self.end_watch(slot, Bytes::from_static(b"+OK\r\n")),
        }
    }

    /// Queues a command inside MULTI. Returns false if the connection is
    /// not in MULTI or the command runs at once anyway.
    pub(super) fn queue_in_multi(&mut self, slot: usize, id: CmdId, args: &[&[u8]]) -> bool {
        let Some(c) = self.conns[slot].as_mut() else {
            return false;
        };
        let Some(m) = c.multi.as_mut() else {
            return false;
        };
        let s = spec::get(id);
        if runs_inside_multi(s.name) {
            return false;
        }
        // Redis 7's `no-multi` commands among tandem's.
        if matches!(s.name, "shutdown" | "save") {
            m.abort = true;
            c.reply_with(|r| r.error("ERR Command not allowed inside a transaction"));
            return true;
        }
        // Redis runs a subscribe inside EXEC, which then answers an array
        // with more elements than its header says; tandem refuses it.
        if s.route == Route::PubSub && !matches!(s.name, "publish" | "spublish" | "pubsub") {
            m.abort = true;
            let msg = format!(
                "ERR tandem: {} inside MULTI is not supported",
                s.name.to_ascii_uppercase()
            );
            c.reply_with(|r| r.error(&msg));
            return true;
        }
        // DEBUG's checks (`enable-debug-command`) and its file are the IO
        // thread's, outside an EXEC's plan. Redis runs it inside MULTI.
        if s.name == "debug" {
            m.abort = true;
            c.reply_with(|r| r.error("ERR tandem: DEBUG inside MULTI is not supported"));
            return true;
        }
        m.queued
            .push((id, args.iter().map(|a| Bytes::copy_from_slice(a)).collect()));
        c.reply_with(|r| r.simple("QUEUED"));
        true
    }

    /// Flags the MULTI block (if any) so EXEC answers EXECABORT: a command
    /// was refused while queueing.
    pub(super) fn abort_multi(&mut self, slot: usize) {
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            if let Some(m) = c.multi.as_mut() {
                m.abort = true;
            }
        }
    }

    /// WATCH key...: registers the keys on their shards (in this
    /// connection's command order) under the client's flag.
    fn watch(&mut self, slot: usize, id: CmdId, args: &[&[u8]]) {
        let n = self.nshards;
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let db = c.db;
        let w = c.watch.get_or_insert_with(|| Watch {
            flag: Arc::new(Claim::default()),
            keys: Vec::new(),
            shards: Vec::new(),
        });
        let flag = w.flag.clone();
        let mut parts: Vec<(usize, Vec<&[u8]>)> = Vec::new();
        for k in &args[1..] {
            let shard = spec::key_shard(k, n);
            w.keys.push((db, Bytes::copy_from_slice(k)));
            if !w.shards.contains(&(shard as u16)) {
                w.shards.push(shard as u16);
            }
            match parts.iter_mut().find(|p| p.0 == shard) {
                Some(p) => p.1.push(k),
                None => parts.push((shard, vec![args[0], k])),
            }
        }
        let seq = c.begin_gather(GatherState::new(Gather::Ok, parts.len()));
        for (p, (shard, sub)) in parts.into_iter().enumerate() {
            self.push_request(slot, shard, seq, p as u16, id, 0, &sub);
            if let Some(req) = self.batches[shard].items.last_mut() {
                req.claim = Some(flag.clone());
            }
        }
    }

    /// Ends the client's WATCH (UNWATCH, DISCARD, EXEC that did not run):
    /// each shard it watches on drops its keys, in this connection's order;
    /// the command answers `reply`.
    fn end_watch(&mut self, slot: usize, reply: Bytes) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let Some(w) = c.watch.take() else {
            return c.local_reply(&reply);
        };
        let Some(unwatch) = spec::lookup(b"unwatch") else {
            return c.local_reply(&reply);
        };
        let mut g = GatherState::new(Gather::Ok, w.shards.len());
        g.fixed = Some(reply);
        let seq = c.begin_gather(g);
        for (p, shard) in w.shards.iter().enumerate() {
            self.push_request(
                slot,
                *shard as usize,
                seq,
                p as u16,
                unwatch,
                0,
                &[b"unwatch"],
            );
        }
    }

    /// RESET or a client that went away: its watches are dropped on the
    /// shards without a reply.
    pub(super) fn forget_watch(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        let Some(w) = c.watch.take() else {
            return;
        };
        let conn = conn_token(c.generation, slot);
        self.tell_gone(conn, w.shards);
    }

    /// Runs a connection-level command inside EXEC; its reply becomes an
    /// element of EXEC's array.
    fn local_in_exec(&mut self, slot: usize, id: CmdId, args: &[&[u8]]) -> Bytes {
        if local::reads_clients(id, args) {
            self.publish_clients();
        }
        let Some(conn) = self.conns[slot].as_mut() else {
            return Bytes::new();
        };
        let token = conn_token(conn.generation, slot);
        let mut l = local::Local {
            conn,
            token,
            shared: &self.shared,
            limits: &self.limits,
            io_index: self.index,
            after: local::After::default(),
            capture: Some(BytesMut::new()),
        };
        local::run(&mut l, id, args);
        let out = l.capture.take().unwrap_or_default().freeze();
        let after = l.after;
        self.apply_after(slot, after);
        self.feed_monitor(slot, spec::get(id), args);
        out
    }

    /// EXEC: plans the queued commands as steps for the shards and sends
    /// the transaction; answers at once when nothing reaches a shard.
    /// The lowest shard an EXEC of the connection's MULTI block would lock
    /// (its watched keys' and its commands'), if any: checked against its
    /// transaction in flight before anything of the block runs.
    fn exec_lowest_shard(&self, slot: usize) -> Option<u16> {
        let n = self.nshards;
        let c = self.conns.get(slot)?.as_ref()?;
        let multi = c.multi.as_ref().filter(|m| !m.abort)?;
        let mut low = c
            .watch
            .as_ref()
            .and_then(|w| w.shards.iter().min().copied());
        for (id, owned) in &multi.queued {
            let s = spec::get(*id);
            // Exactly the shards `exec` will lock (keep the two in step).
            let args: Vec<&[u8]> = owned.iter().map(|a| &a[..]).collect();
            let key_low = |idx: Vec<usize>| {
                idx.into_iter()
                    .filter_map(|i| args.get(i))
                    .map(|k| spec::key_shard(k, n) as u16)
                    .min()
            };
            let here = match s.route {
                Route::Local | Route::Tx | Route::PubSub => None,
                // Only scheduled inside EXEC (see `exec`).
                _ if s.name == "bgsave" => None,
                Route::All(_) => Some(0),
                _ if s.name == "sort" || s.name == "sort_ro" => Some(0),
                Route::Scan => Some(
                    parse_i64(args.get(1).copied().unwrap_or(b"0"))
                        .map(|c| (c as u64 % n as u64) as u16)
                        .unwrap_or(0),
                ),
                // Keyless forms run on shard 0.
                Route::Key | Route::Coord => {
                    Some(key_low(s.keys_in(&args).unwrap_or_default()).unwrap_or(0))
                }
                Route::Keys(_) => key_low(s.key_indices(args.len()).collect()),
            };
            low = match (low, here) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        low
    }

    fn exec(&mut self, slot: usize, name: &[u8]) {
        let n = self.nshards;
        if let Some(first) = self.exec_lowest_shard(slot) {
            if self.tx_must_wait(slot, first) {
                return;
            }
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let Some(multi) = c.multi.take() else {
            return c.reply_with(|r| r.error("ERR EXEC without MULTI"));
        };
        if multi.abort {
            let err = super::encode(c.resp3, |r| r.error(EXECABORT));
            return self.end_watch(slot, err);
        }
        // Memory full and the block would write: refused whole, as Redis
        // refuses an EXEC whose block has a `denyoom` command
        // (`execCommandAbort` with the OOM error).
        if crate::alloc::out_of_memory()
            && multi
                .queued
                .iter()
                .any(|(id, _)| spec::get(*id).is(spec::flag::DENYOOM))
        {
            let msg = format!(
                "EXECABORT Transaction discarded because of: {}",
                errors::OOM
            );
            let err = super::encode(c.resp3, |r| r.error(&msg));
            self.stats
                .rejected(spec::lookup(name), None, format!("-{msg}").as_bytes());
            return self.end_watch(slot, err);
        }
        let watch = c.watch.take();
        let resp3 = c.resp3;
        // ACL is checked again: the user may have changed since queuing.
        let user = c.user.clone().filter(|u| !u.unrestricted());
        let mut locks = Locks::default();
        let mut steps: Vec<ExecStep> = Vec::new();
        let mut slots: Vec<ExecSlot> = Vec::new();
        let mut next_part = 0usize;
        // Commands that hop to other shards or may wait run one at a time.
        let mut parallel = true;
        if let Some(w) = &watch {
            // First, on every shard with watched keys: are they intact?
            // Their locks keep writers out from that check to the end.
            for &s in &w.shards {
                steps.push(ExecStep::Check { shard: s });
            }
            for (db, k) in &w.keys {
                locks.key(spec::key_shard(k, n) as u16, *db, k, Mode::Shared);
            }
        }
        for (id, owned) in multi.queued {
            let s = spec::get(id);
            let args: Vec<&[u8]> = owned.iter().map(|a| &a[..]).collect();
            if let Some(u) = &user {
                let a = spec::acl_id_of(id, &args);
                if let Err(d) = u.check(id, a, &args) {
                    self.acl_log(slot, u, d, crate::acl::Context::Multi, a, &args);
                    let msg = format!(
                        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: {}",
                        d.exec_reason()
                    );
                    slots.push(ExecSlot::Ready(super::encode(resp3, |r| r.error(&msg))));
                    continue;
                }
            }
            let Some(c) = self.conns[slot].as_ref() else {
                return;
            };
            let db = c.db;
            let mode = Mode::of(id);
            if s.route == Route::Coord || s.is(spec::flag::BLOCKING) {
                parallel = false;
            }
            let run = |shard: usize, sub: &[&[u8]], part: usize, first: bool| ExecStep::Run {
                shard: shard as u16,
                cmd: id,
                db,
                hash: sub
                    .get(s.first_key.max(0) as usize)
                    .filter(|_| s.first_key > 0)
                    .map_or(0, |k| spec::key_hash(k)),
                args: sub.iter().map(|a| Bytes::copy_from_slice(a)).collect(),
                part: part as u16,
                first,
            };
            match s.route {
                // Inside EXEC Redis schedules BGSAVE for after it
                // (`bgsaveCommand` with `server.in_exec`); the main
                // thread starts it once nothing else is being saved.
                _ if s.name == "bgsave" => {
                    let out = match &args[..] {
                        [_] => true,
                        [_, a] => a.eq_ignore_ascii_case(b"schedule"),
                        _ => false,
                    };
                    let out = if out {
                        self.shared.saver.schedule();
                        Bytes::from_static(b"+Background saving scheduled\r\n")
                    } else {
                        Bytes::from_static(b"-ERR syntax error\r\n")
                    };
                    slots.push(ExecSlot::Ready(out));
                }
                Route::Local => {
                    let out = self.local_in_exec(slot, id, &args);
                    slots.push(ExecSlot::Ready(out));
                }
                Route::PubSub => {
                    let out = self.pubsub_reply(slot, id, &args, true);
                    slots.push(ExecSlot::Ready(out));
                }
                Route::Tx => {
                    // UNWATCH inside MULTI: EXEC ends the WATCH anyway.
                    slots.push(ExecSlot::Ready(Bytes::from_static(b"+OK\r\n")));
                }
                Route::Key | Route::Coord | Route::Scan => {
                    let touched = match s.route {
                        Route::Coord => super::route::coord_keys(&self.shared.scripts, s, &args),
                        _ => spec::touched_keys(s, &args),
                    };
                    let keys = match touched {
                        Touched::Known(keys) => keys,
                        Touched::Unknown => {
                            // SORT's BY/GET patterns, or a script, may read
                            // any key: lock everything.
                            for sh in 0..n {
                                locks.shard(sh as u16, mode);
                            }
                            s.keys_in(&args)
                                .unwrap_or_default()
                                .into_iter()
                                .filter_map(|i| args.get(i).copied())
                                .collect()
                        }
                    };
                    let shard = match s.route {
                        Route::Scan => parse_i64(args.get(1).copied().unwrap_or(b"0"))
                            .map(|c| (c as u64 % n as u64) as usize)
                            .unwrap_or(0),
                        _ => keys.first().map_or(0, |k| spec::key_shard(k, n)),
                    };
                    for k in &keys {
                        locks.key(spec::key_shard(k, n) as u16, db, k, mode);
                    }
                    if let Some((i, other)) = s.other_db_key(&args) {
                        if let Some(k) = args.get(i) {
                            locks.key(spec::key_shard(k, n) as u16, other, k, mode);
                        }
                    }
                    locks.slot(shard as u16);
                    // A blocking command does not block inside EXEC: the
                    // shard runs it with `no_wait` (engine::tx).
                    steps.push(run(shard, &args, next_part, true));
                    slots.push(ExecSlot::One(next_part));
                    next_part += 1;
                }
                Route::Keys(g) => {
                    let step_len = s.step.max(1) as usize;
                    let mut parts: Vec<(usize, Vec<&[u8]>, Vec<u32>)> = Vec::new();
                    for (k, i) in s.key_indices(args.len()).enumerate() {
                        let shard = spec::key_shard(args[i], n);
                        locks.key(shard as u16, db, args[i], mode);
                        let p = match parts.iter().position(|p| p.0 == shard) {
                            Some(p) => p,
                            None => {
                                parts.push((shard, vec![args[0]], Vec::new()));
                                parts.len() - 1
                            }
                        };
                        parts[p]
                            .1
                            .extend_from_slice(&args[i..(i + step_len).min(args.len())]);
                        parts[p].2.push(k as u32);
                    }
                    let mut gs = GatherState::new(g, parts.len());
                    if g == Gather::Interleave {
                        gs.positions = parts.iter().map(|p| p.2.clone()).collect();
                    }
                    let mut from = Vec::new();
                    for (i, (shard, sub, _)) in parts.iter().enumerate() {
                        steps.push(run(*shard, sub, next_part, i == 0));
                        from.push(next_part);
                        next_part += 1;
                    }
                    slots.push(ExecSlot::Gather(Box::new(gs), from));
                }
                Route::All(g) => {
                    let mut gs = GatherState::new(g, n);
                    if g == Gather::Info {
                        gs.finish = Some(local::info_finisher(&self.shared, &args));
                    }
                    let mut from = Vec::new();
                    for sh in 0..n {
                        if g != Gather::Info {
                            locks.shard(sh as u16, mode);
                        } else {
                            locks.slot(sh as u16);
                        }
                        steps.push(run(sh, &args, next_part, sh == 0));
                        from.push(next_part);
                        next_part += 1;
                    }
                    slots.push(ExecSlot::Gather(Box::new(gs), from));
                }
            }
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        if steps.is_empty() {
            // Only connection-level commands: the array is ready.
            let mut g = GatherState::new(Gather::Ok, 0);
            g.exec = Some(Box::new(ExecLayout { slots, done: 0 }));
            let mut done = vec![Some(Bytes::from_static(b"+OK\r\n"))];
            std::mem::swap(&mut g.parts, &mut done);
            let reply = super::gather::merge(&mut g, c.resp3);
            return c.local_reply(&reply);
        }
        let mut g = GatherState::new(Gather::Ok, next_part + 1);
        g.exec = Some(Box::new(ExecLayout {
            slots,
            done: next_part,
        }));
        let resp3 = c.resp3;
        let seq = c.begin_gather(g);
        let plan_steps = steps;
        let mut plan = ExecPlan {
            steps: plan_steps,
            cursor: AtomicUsize::new(0),
            aborted: AtomicBool::new(false),
            reply: ReplyTo {
                io: self.index,
                conn: conn_token(c.generation, slot),
                seq,
                part: 0,
                resp3,
                tx: 0,
            },
            done_part: next_part as u16,
            parallel,
            running: AtomicUsize::new(0),
            client_flags: self.client_flags_now,
            caller: self.caller_now.clone(),
            monitor: self
                .shared
                .pubsub
                .monitoring()
                .then(|| (c.db, Bytes::copy_from_slice(name))),
        };
        // The shard that ends the block writes EXEC's MONITOR line.
        self.exec_planned = true;
        plan.running = AtomicUsize::new(plan.run_shards().len());
        let info = Arc::new(TxInfo {
            id: next_tx_id(),
            kind: TxKind::Exec,
            shards: locks.into_wants(),
            exec: Some(plan),
            log: Default::default(),
            follows: false,
        });
        let Some(exec_id) = spec::lookup(b"exec") else {
            return;
        };
        let shards: Vec<u16> = info.shards.iter().map(|(s, _)| *s).collect();
        for s in shards {
            self.push_request(slot, s as usize, seq, 0, exec_id, 0, super::route::NO_ARGS);
            self.mark_tx(slot, s as usize, &info);
        }
        drop(watch);
    }
}
