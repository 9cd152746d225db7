//! Routing on an IO thread: each parsed command is checked (table lookup,
//! arity, auth) and run locally, sent to the shard owning its key, split
//! over shards and gathered back, or sent to every shard; batches go out
//! once per shard per loop turn, within credits; reply batches come back
//! into the connections' reorder windows.
//!
//! Runs on its IO thread; never blocks (the shard inboxes are unbounded,
//! and credits bound what is in flight).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};

use super::conn::{Closing, GatherState};
use super::{IoThread, conn_token, local};
use crate::metrics::{now_ns, stage};
use crate::msg::{
    Claim, KeyLock, Mode, ReplyBatch, Request, RequestBatch, ToEngine, TxInfo, TxKind, Want,
    next_tx_id,
};
use crate::resp::errors;
use crate::resp::parse::parse_i64;
use crate::spec::{self, CmdId, Gather, Route, Touched};

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
pub(super) struct Outgoing {
    pub(super) items: Vec<Request>,
    arena: BytesMut,
    args: Vec<Arg>,
    /// Requests in `items` sampled for latency.
    sampled: u32,
}

impl Outgoing {
    pub(super) fn take(&mut self, io: u16) -> RequestBatch {
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

/// An empty argument list (the lock-only parts of a transaction).
pub(super) const NO_ARGS: &[&[u8]] = &[];

/// Random pattern/string pairs DEBUG STRINGMATCH-TEST runs through the
/// glob matcher (Redis runs 10,000,000; a tenth keeps the IO thread's
/// other clients waiting well under a second).
const STRINGMATCH_CYCLES: usize = 1_000_000;

impl IoThread {
    /// Runs one parsed command: checks, then local execution or routing.
    pub(super) fn dispatch(&mut self, slot: usize, args: &[&[u8]]) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        // CLIENT REPLY OFF or SKIP: this command's reply, whatever it is,
        // is not sent (CLIENT REPLY itself decides for its own).
        let client_reply = args.len() == 3
            && args[0].eq_ignore_ascii_case(b"client")
            && args[1].eq_ignore_ascii_case(b"reply")
            && [&b"on"[..], b"off", b"skip"]
                .iter()
                .any(|m| args[2].eq_ignore_ascii_case(m));
        if !client_reply {
            c.mute_if_asked();
        }
        c.local_error = None;
        let found = spec::lookup(&args[0]);
        self.commands += 1;
        let Some(id) = found else {
            self.reject(slot, None, args, &unknown_command(args));
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
            let msg = format!("ERR wrong number of arguments for '{}' command", s.name);
            self.reject(slot, Some(id), args, &msg);
            return;
        }
        if !c.authed && !s.is(spec::flag::NO_AUTH) {
            self.reject(slot, Some(id), args, errors::NOAUTH);
            return;
        }
        let Ok(user) = self.acl_user(slot) else {
            return;
        };
        if let Some(u) = &user {
            if self.acl_refuse(slot, u, id, args) {
                return;
            }
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        if super::pubsub::subscribed_resp2(c) && !super::pubsub::allowed_when_subscribed(s.name) {
            let msg = format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                c.last_cmd
            );
            self.reject(slot, Some(id), args, &msg);
            return;
        }
        if self.shared.scripts.any_busy() && !runs_while_busy(s.name, args) {
            self.reject(slot, Some(id), args, errors::BUSY);
            return;
        }
        if self.shared.maybe_paused() && self.hold_for_pause(slot, s) {
            return;
        }
        if crate::alloc::out_of_memory() && self.refuse_oom(slot, s) {
            self.reject(slot, Some(id), args, errors::OOM);
            return;
        }
        if self.queue_in_multi(slot, id, args) {
            // An error instead of QUEUED refused the command.
            if let Some((head, n)) = self.conns[slot].as_mut().and_then(|c| c.take_local_error()) {
                self.stats
                    .rejected(Some(id), sub_of(s, args), &head[..n as usize]);
            }
            return;
        }
        self.client_flags_now = self.track_flags(slot, s.name);
        self.caller_now = match &user {
            Some(u) => self.script_caller(slot, u, s),
            None => None,
        };
        if self.conns[slot].as_ref().is_some_and(|c| c.no_touch) && s.name != "touch" {
            self.client_flags_now |= crate::msg::client_flags::NO_TOUCH;
        }
        if s.name == "memory"
            && args.len() == 2
            && [&b"stats"[..], b"doctor"]
                .iter()
                .any(|a| args[1].eq_ignore_ascii_case(a))
        {
            // Every shard's figures, summed as INFO's are.
            self.send_all(slot, id, Gather::Info, args);
            return;
        }
        match s.route {
            Route::Local | Route::PubSub | Route::Tx => {
                let start = now_ns();
                match s.route {
                    Route::Local => self.run_local(slot, id, args),
                    Route::PubSub => self.pubsub_command(slot, id, args),
                    _ => self.tx_command(slot, id, args),
                }
                // A stalled EXEC runs (and counts) when dispatched again.
                if !self.conns[slot].as_ref().is_some_and(|c| c.stalled) {
                    self.account_local(slot, id, args, now_ns().saturating_sub(start));
                    if !std::mem::take(&mut self.exec_planned) {
                        self.feed_monitor(slot, s, args);
                    }
                }
            }
            Route::Coord
                if self.nshards > 1
                    && (!s.is(spec::flag::BLOCKING) || s.blocks_as_transaction()) =>
            {
                let sent = self.send_coord(slot, id, args);
                if let Some(shard) = sent.filter(|_| s.blocks(args)) {
                    self.block(slot, shard);
                }
            }
            Route::Key | Route::Coord => {
                let fk = s.first_key as usize;
                let (shard, hash) = match args.get(fk) {
                    Some(k) if fk > 0 => (spec::key_shard(k, self.nshards), spec::key_hash(k)),
                    _ => (0, 0),
                };
                self.send_one(slot, shard, id, hash, args);
                if s.blocks(args) {
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
            Route::Keys(g) | Route::All(g) => {
                if matches!(s.route, Route::Keys(_)) {
                    self.send_split(slot, id, g, args);
                } else {
                    self.send_all(slot, id, g, args);
                }
                // Shown whole here, unless it stalled (it is dispatched
                // again) or was answered here already (DEBUG, admin).
                if !self.conns[slot].as_ref().is_some_and(|c| c.stalled) {
                    self.feed_monitor(slot, s, args);
                }
            }
        }
    }

    /// Whether command `s` is refused while memory is full
    /// ([`crate::alloc::out_of_memory`]) before any shard sees it, as
    /// Redis's `processCommand` refuses it: anything but EXEC, DISCARD,
    /// QUIT and RESET inside MULTI (queueing takes memory), and a
    /// `denyoom` command that may span shards (split, or coordinated as a
    /// transaction), which no one shard can refuse atomically. Commands of
    /// one key are judged by their shard (`engine::evict`); EXEC by its
    /// block (`net::tx`).
    fn refuse_oom(&self, slot: usize, s: &spec::CommandSpec) -> bool {
        let in_multi = self.conns[slot].as_ref().is_some_and(|c| c.multi.is_some());
        if in_multi {
            !matches!(s.name, "exec" | "discard" | "quit" | "reset")
        } else {
            s.is(spec::flag::DENYOOM) && s.route != Route::Key
        }
    }

    /// Answers error `msg` to a command refused before it ran (unknown
    /// command `id` `None`, arity, NOAUTH, BUSY, ...), counting it as
    /// INFO commandstats' `rejected_calls` and in errorstats, and aborts
    /// the connection's MULTI if one is open (Redis's `rejectCommand`).
    pub(super) fn reject(&mut self, slot: usize, id: Option<CmdId>, args: &[&[u8]], msg: &str) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        c.reply_with(|r| r.error(msg));
        c.local_error = None;
        let sub = id.and_then(|id| sub_of(spec::get(id), args));
        self.stats.rejected(id, sub, format!("-{msg}").as_bytes());
        self.abort_multi(slot);
    }

    /// Counts a command this thread ran itself for `ns` in INFO
    /// commandstats and errorstats, and hands it to the slow log if it was
    /// slow.
    fn account_local(&mut self, slot: usize, id: CmdId, args: &[&[u8]], ns: u64) {
        let s = spec::get(id);
        let (error, client) = match self.conns[slot].as_mut() {
            Some(c) => (c.take_local_error(), Some(c.id)),
            None => (None, None),
        };
        let error = error.as_ref().map(|(h, n)| &h[..*n as usize]);
        self.stats.called(id, sub_of(s, args), ns, error, true);
        if self.stats.slow.is_slow(ns) {
            let shared = &self.shared;
            self.stats
                .slow
                .record(args, s.is(spec::flag::FAST), ns, || {
                    let clients = shared.clients.lock().unwrap_or_else(|e| e.into_inner());
                    let (addr, name) = client
                        .and_then(|id| clients.get(&id))
                        .map(|ci| (ci.addr.clone(), ci.name.clone()))
                        .unwrap_or_default();
                    crate::slowlog::Who::Known { addr, name }
                });
        }
    }

    /// Runs a connection-level command through its narrow context, then
    /// applies what it asked of this thread.
    pub(super) fn run_local(&mut self, slot: usize, id: CmdId, args: &[&[u8]]) {
        if local::reads_clients(id, args) {
            self.publish_clients();
        }
        let Some(conn) = self.conns[slot].as_mut() else {
            return;
        };
        let token = conn_token(conn.generation, slot);
        let mut l = local::Local {
            conn,
            token,
            shared: &self.shared,
            limits: &self.limits,
            io_index: self.index,
            after: local::After::default(),
            capture: None,
        };
        local::run(&mut l, id, args);
        let after = l.after;
        self.apply_after(slot, after);
    }

    /// Carries out what a connection-level command asked of this thread.
    pub(super) fn apply_after(&mut self, slot: usize, after: local::After) {
        for cid in after.kill {
            if let Some(&s) = self.by_id.get(&cid) {
                self.close(s, Closing::Now);
                self.maybe_free(s);
            }
        }
        for (id, error) in after.wake {
            self.wake_client(id, error);
        }
        match after.monitor {
            Some(true) => {
                if let Some(c) = self.conns[slot].as_mut() {
                    c.monitor = true;
                    self.monitors.push(slot);
                    self.shared.pubsub.count_monitor(self.index as usize, true);
                }
            }
            Some(false) => self.stop_monitor(slot),
            None => {}
        }
        if let Some(how) = after.close {
            self.close(slot, how);
        }
        if after.reload_limits {
            self.limits = super::Limits::load(&self.shared);
            // A new spin-us applies at once, from its full budget.
            self.spin_budget = self.limits.spin;
        }
        if after.unwatch {
            self.forget_watch(slot);
        }
        if after.unsubscribe {
            self.drop_subscriptions(slot);
        }
        if after.untrack {
            self.drop_tracking(slot);
        }
        if after.await_shutdown {
            if let Some(c) = self.conns[slot].as_mut() {
                let seq = c.begin();
                self.shutdown_waiters.push((slot, c.generation, seq));
            }
        }
        if after.snapshot {
            // BGREWRITEAOF started a background save: its instant is a
            // transaction over every shard, begun on the first.
            if let Some(ex) = self.executor.as_mut() {
                ex.begin_snapshot();
            } else if let Some(tx) = self.shards.first() {
                // Unbounded inbox: never blocks.
                let _ = tx.send(ToEngine::Snapshot);
            }
        }
    }

    /// Queues a request for `shard`, copying its arguments (a slice of
    /// them, or an iterator) into that shard's batch arena.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push_request(
        &mut self,
        slot: usize,
        shard: usize,
        seq: u64,
        part: u16,
        id: CmdId,
        hash: u64,
        args: impl IntoIterator<Item = impl AsRef<[u8]>>,
    ) {
        let c = self.conns[slot].as_ref().expect("live connection");
        let out = &mut self.batches[shard];
        let start = out.args.len();
        let parsed = self.parsed.as_ptr_range();
        for a in args {
            let a = a.as_ref();
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
            tx: None,
            client_flags: self.client_flags_now,
            caller: self.caller_now.clone(),
        });
    }

    pub(super) fn send_one(
        &mut self,
        slot: usize,
        shard: usize,
        id: CmdId,
        hash: u64,
        args: &[&[u8]],
    ) {
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
    pub(super) fn maybe_sample(&mut self, shard: usize) {
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
    pub(super) fn block(&mut self, slot: usize, shard: usize) {
        let claim = Arc::new(Claim::default());
        if let Some(req) = self.batches[shard].items.last_mut() {
            req.claim = Some(claim.clone());
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        c.blocked = Some((c.next_seq - 1, claim.clone()));
        self.shared.blocked_clients.fetch_add(1, Ordering::Relaxed);
        self.shared
            .blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(c.id, claim);
    }

    /// Ends a client's wait: its blocking command was answered (`gone` =
    /// false) or the client is going away, in which case its claim is taken
    /// so no shard pops for it and the shards drop its waits.
    pub(super) fn unblock(&mut self, slot: usize, gone: bool) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let Some((_, claim)) = c.blocked.take() else {
            return;
        };
        self.shared.blocked_clients.fetch_sub(1, Ordering::Relaxed);
        self.shared
            .blocked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&c.id);
        if !gone {
            self.to_parse.push(slot);
            return;
        }
        if !claim.take() {
            // Already served or timed out; the reply is dropped with the client.
            return;
        }
        let conn = conn_token(c.generation, slot);
        self.tell_gone(conn, 0..self.nshards as u16);
    }

    /// Ends MONITOR for the connection in `slot` (RESET, or its close).
    pub(super) fn stop_monitor(&mut self, slot: usize) {
        if let Some(c) = self.conns[slot].as_mut()
            && c.monitor
        {
            c.monitor = false;
            self.monitors.retain(|&s| s != slot);
            self.shared.pubsub.count_monitor(self.index as usize, false);
        }
    }

    /// Writes MONITOR lines to this thread's monitors.
    pub(super) fn feed_monitors(&mut self, lines: &[Bytes]) {
        for i in 0..self.monitors.len() {
            let slot = self.monitors[i];
            let Some(c) = self.conns[slot].as_mut() else {
                continue;
            };
            if c.closing != Closing::Open {
                continue;
            }
            for l in lines {
                c.local_reply(l);
            }
            self.mark_dirty(slot);
        }
    }

    /// MONITOR's line for a command this thread runs or spreads over the
    /// shards itself: connection commands (after they ran, so SELECT shows
    /// its new database) and commands split over shards (whole, before the
    /// parts run).
    pub(super) fn feed_monitor(&mut self, slot: usize, s: &spec::CommandSpec, args: &[&[u8]]) {
        if !self.shared.pubsub.monitoring() || !crate::monitor::shows(s) {
            return;
        }
        let Some(c) = self.conns[slot].as_ref() else {
            return;
        };
        let token = conn_token(c.generation, slot);
        let addr = self
            .shared
            .pubsub
            .addr(self.index, token)
            .unwrap_or_else(|| "?".into());
        let line = crate::monitor::line(c.db as usize, crate::monitor::Source::Client(&addr), args);
        let hub = self.shared.pubsub.clone();
        hub.feed(&mut self.pub_out, line);
    }

    /// CLIENT UNBLOCK of client `id` of this thread: if it still waits,
    /// its shards answer it now (as a timeout, or with an error).
    pub(super) fn wake_client(&mut self, id: u64, error: bool) {
        let Some(&slot) = self.by_id.get(&id) else {
            return;
        };
        let Some(c) = self.conns[slot].as_ref() else {
            return;
        };
        if !c.blocked.as_ref().is_some_and(|(_, claim)| !claim.taken()) {
            return;
        }
        let (io, conn) = (self.index, conn_token(c.generation, slot));
        if let Some(ex) = self.executor.as_mut() {
            let replies = ex.wake(io, conn, error);
            self.on_replies(replies);
            return;
        }
        for tx in &self.shards {
            // Unbounded inbox: never blocks.
            let _ = tx.send(ToEngine::Wake { io, conn, error });
        }
    }

    /// Tells `shards` to drop the blocked-client waits and the WATCHes of
    /// connection `conn` of this thread (`ToEngine::Unblock`).
    pub(super) fn tell_gone(&mut self, conn: u64, shards: impl IntoIterator<Item = u16>) {
        let io = self.index;
        if let Some(ex) = self.executor.as_mut() {
            ex.unblock(io, conn);
            return;
        }
        for s in shards {
            if let Some(tx) = self.shards.get(s as usize) {
                // Unbounded inbox: never blocks.
                let _ = tx.send(ToEngine::Unblock { io, conn });
            }
        }
    }

    /// Splits a multi-key command (MGET, MSET, DEL, ...) into one
    /// sub-command per shard, with the same name and that shard's keys.
    pub(super) fn send_split(&mut self, slot: usize, id: CmdId, g: Gather, args: &[&[u8]]) {
        let s = spec::get(id);
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
        // Per shard, the ordinals of its keys (scratch buffers kept from
        // one call to the next: a split costs no allocation here).
        let mut by_shard = std::mem::take(&mut self.split_keys);
        let mut order = std::mem::take(&mut self.split_order);
        by_shard.resize_with(n, Vec::new);
        by_shard.iter_mut().for_each(Vec::clear);
        order.clear();
        for (k, i) in s.key_indices(args.len()).enumerate() {
            let shard = spec::key_shard(args[i], n);
            if by_shard[shard].is_empty() {
                order.push(shard);
            }
            by_shard[shard].push(k as u32);
        }
        self.send_split_parts(slot, id, g, args, &by_shard, &order);
        self.split_keys = by_shard;
        self.split_order = order;
    }

    /// Sends a split command's parts, part `p` to shard `order[p]` with
    /// the keys whose ordinals `by_shard[order[p]]` lists, as one
    /// transaction; or nothing if the connection stalls instead (it is
    /// parsed again later: [`Self::tx_must_wait`]).
    fn send_split_parts(
        &mut self,
        slot: usize,
        id: CmdId,
        g: Gather,
        args: &[&[u8]],
        by_shard: &[Vec<u32>],
        order: &[usize],
    ) {
        let s = spec::get(id);
        let step = s.step.max(1) as usize;
        let first = s.first_key as usize;
        let key_at = |k: u32| first + k as usize * step;
        let lowest = order.iter().copied().min().unwrap_or(0) as u16;
        if self.tx_must_wait(slot, lowest) {
            return;
        }
        let mut gs = GatherState::new(g, order.len());
        if g == Gather::Interleave {
            gs.positions = order.iter().map(|&sh| by_shard[sh].clone()).collect();
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let db = c.db;
        let seq = c.begin_gather(gs);
        // One transaction: every part locks its keys on its shard.
        let mode = Mode::of(id);
        let mut shards: Vec<(u16, Want)> = Vec::with_capacity(order.len());
        for &sh in order {
            let keys = by_shard[sh]
                .iter()
                .map(|&k| KeyLock::new(db, args[key_at(k)], mode))
                .collect();
            shards.push((sh as u16, Want::Keys(keys)));
        }
        shards.sort_by_key(|(s, _)| *s);
        let follows = self.follows_split(slot, &shards);
        let info = Arc::new(TxInfo {
            id: next_tx_id(),
            kind: TxKind::Parts,
            shards,
            exec: None,
            log: Default::default(),
            follows,
        });
        for (p, &sh) in order.iter().enumerate() {
            let keys = &by_shard[sh];
            let hash = keys.first().map_or(0, |&k| spec::key_hash(args[key_at(k)]));
            let sub = std::iter::once(args[0]).chain(
                keys.iter()
                    .flat_map(|&k| args[key_at(k)..key_at(k) + step].iter().copied()),
            );
            self.push_request(slot, sh, seq, p as u16, id, hash, sub);
            self.mark_tx(slot, sh, &info);
        }
    }

    /// Marks the request just queued for `shard` by connection `slot` as
    /// a part of `info`, the connection's latest transaction.
    pub(super) fn mark_tx(&mut self, slot: usize, shard: usize, info: &Arc<TxInfo>) {
        if let Some(req) = self.batches[shard].items.last_mut() {
            req.tx = Some(info.clone());
            if let Some(c) = self.conns[slot].as_mut() {
                c.tx_wait = Some((req.seq, info.clone()));
            }
        }
    }

    /// Whether a split command over `shards` follows the connection's
    /// transaction in flight ([`TxInfo::follows`]): that one is a split
    /// command too, over exactly the same shards.
    fn follows_split(&self, slot: usize, shards: &[(u16, Want)]) -> bool {
        let Some(Some(c)) = self.conns.get(slot) else {
            return false;
        };
        c.tx_wait.as_ref().is_some_and(|(_, last)| {
            last.kind == TxKind::Parts
                && last.shards.len() == shards.len()
                && last.shards.iter().zip(shards).all(|(a, b)| a.0 == b.0)
        })
    }

    /// Whether a transaction whose lowest shard is `first` must wait for
    /// the connection's transaction in flight (then the connection stalls:
    /// this command is parsed again once that one is answered).
    ///
    /// The lock table (`engine::locks`) needs this: a connection's later
    /// transaction must hold nothing while an earlier one still waits for
    /// locks, or the two could close a cycle with other clients'. When the
    /// later one's lowest shard is one the earlier one locks, it waits in
    /// the connection's order there until the earlier one ran, so it may
    /// go out at once (pipelined MSETs over the same shards do not wait
    /// for each other's round trip); otherwise it waits here.
    pub(super) fn tx_must_wait(&mut self, slot: usize, first: u16) -> bool {
        let Some(c) = self.conns[slot].as_mut() else {
            return false;
        };
        let Some((_, last)) = &c.tx_wait else {
            return false;
        };
        if last.shards.iter().any(|(s, _)| *s == first) {
            return false;
        }
        c.stalled = true;
        // Counted again when it is dispatched again.
        self.commands -= 1;
        true
    }

    /// CLIENT PAUSE in force: holds the command (and what follows it) while
    /// the pause covers it (`processCommand`: every command under ALL;
    /// under WRITE, writes, commands that may write (EVAL, PUBLISH, ...)
    /// and an EXEC whose queue has one), to be parsed again when the pause
    /// ends. True if it was held.
    /// The caller checks [`Shared::maybe_paused`] first, so a server never paused pays a
    /// load and a branch.
    #[cold]
    fn hold_for_pause(&mut self, slot: usize, s: &spec::CommandSpec) -> bool {
        let mode = self.shared.paused();
        if mode == 0 {
            return false;
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return false;
        };
        let writes =
            |s: &spec::CommandSpec| s.is(spec::flag::WRITE) || s.is(spec::flag::MAY_REPLICATE);
        let covered = mode == super::shared::PAUSE_ALL
            || writes(s)
            || (s.name == "exec"
                && c.multi
                    .as_ref()
                    .is_some_and(|m| m.queued.iter().any(|(id, _)| writes(spec::get(*id)))));
        if !covered {
            return false;
        }
        c.stalled = true;
        c.pause_held = true;
        let generation = c.generation;
        // Counted again when it runs.
        self.commands -= 1;
        self.pause_held.push((slot, generation));
        true
    }

    /// Parses again the connections CLIENT PAUSE held, once it ended.
    pub(super) fn resume_paused(&mut self) {
        if self.pause_held.is_empty() || self.shared.paused() != 0 {
            return;
        }
        for (slot, generation) in std::mem::take(&mut self.pause_held) {
            if let Some(c) = self.conn_mut(slot, generation) {
                if std::mem::take(&mut c.pause_held) {
                    c.stalled = false;
                    self.to_parse.push(slot);
                }
            }
        }
    }

    /// A command whose keys depend on each other (RENAME, SINTERSTORE,
    /// LMOVE, ...): sent to its first key's shard, which coordinates it
    /// with hops. When its keys live on several shards it runs as a
    /// coordinated transaction: each of those shards gets a part that
    /// locks its keys (or the whole shard, for SORT's BY/GET patterns,
    /// whose keys are not known in advance), in this connection's order.
    /// Returns the shard that got the command (its coordinator), or None
    /// when the connection stalled instead (see [`Self::tx_must_wait`]).
    pub(super) fn send_coord(&mut self, slot: usize, id: CmdId, args: &[&[u8]]) -> Option<usize> {
        let s = spec::get(id);
        let n = self.nshards;
        let fk = s.first_key as usize;
        let touched = coord_keys(&self.shared.scripts, s, args);
        let (first, hash) = match (args.get(fk), &touched) {
            (Some(k), _) if fk > 0 => (spec::key_shard(k, n), spec::key_hash(k)),
            // A script runs on its first declared key's shard.
            (_, Touched::Known(keys)) if !keys.is_empty() => (spec::key_shard(keys[0], n), 0),
            _ => (0, 0),
        };
        let db = self.conns[slot].as_ref()?.db;
        let mode = Mode::of(id);
        let shards: Vec<(u16, Want)> = match touched {
            Touched::Unknown => (0..n as u16).map(|s| (s, Want::Shard(mode))).collect(),
            Touched::Known(keys) => {
                let mut by_shard: Vec<(u16, Want)> = Vec::new();
                // COPY ... DB n: the destination lives in database n.
                let other = s
                    .other_db_key(args)
                    .and_then(|(i, d)| Some((args.get(i).copied()?, d)));
                let located = keys
                    .into_iter()
                    .map(|k| (db, k))
                    .chain(other.map(|(k, d)| (d, k)));
                for (db, k) in located {
                    let sh = spec::key_shard(k, n) as u16;
                    let lock = KeyLock::new(db, k, mode);
                    match by_shard.iter_mut().find(|(s, _)| *s == sh) {
                        Some((_, Want::Keys(v))) => v.push(lock),
                        _ => by_shard.push((sh, Want::Keys([lock].into_iter().collect()))),
                    }
                }
                by_shard.sort_by_key(|(s, _)| *s);
                by_shard
            }
        };
        if shards.len() <= 1 {
            // One shard (or keys the handler will reject): no transaction.
            self.send_one(slot, first, id, hash, args);
            return Some(first);
        }
        if self.tx_must_wait(slot, shards[0].0) {
            return None;
        }
        let info = Arc::new(TxInfo {
            id: next_tx_id(),
            kind: TxKind::Coordinated {
                coordinator: first as u16,
            },
            shards,
            exec: None,
            log: Default::default(),
            follows: false,
        });
        let seq = self.conns[slot].as_mut()?.begin();
        // The coordinator's part carries the command; the others only lock.
        let parts: Vec<u16> = info.shards.iter().map(|(s, _)| *s).collect();
        for shard in parts {
            let shard = shard as usize;
            if shard == first {
                self.push_request(slot, shard, seq, 0, id, hash, args);
                self.maybe_sample(shard);
            } else {
                self.push_request(slot, shard, seq, 0, id, 0, NO_ARGS);
            }
            self.mark_tx(slot, shard, &info);
        }
        Some(first)
    }

    /// Sends a keyspace-wide command (KEYS, DBSIZE, FLUSHALL, INFO, ...) to
    /// every shard and gathers the answers.
    pub(super) fn send_all(&mut self, slot: usize, id: CmdId, g: Gather, args: &[&[u8]]) {
        let n = self.nshards;
        let kind = g;
        let finish = if g == Gather::Info {
            Some(local::info_finisher(&self.shared, args))
        } else {
            None
        };
        let mut saves = matches!(g, Gather::Save | Gather::Bgsave);
        if kind == Gather::Reload {
            let start = now_ns();
            match self.debug_checks(slot, args) {
                Some(save) => saves = save,
                None => {
                    // Answered here (SLEEP, PROTOCOL, ...).
                    self.account_local(slot, id, args, now_ns().saturating_sub(start));
                    return;
                }
            }
            if let (Ok(crate::persist::Debug::Object), Some(key)) =
                (crate::persist::Debug::parse(args), args.get(2))
            {
                // One key: its shard answers.
                let shard = spec::key_shard(key, n);
                self.send_one(slot, shard, id, spec::key_hash(key), args);
                return;
            }
        }
        if n == 1 && finish.is_none() && !saves && kind != Gather::Reload {
            self.send_one(slot, 0, id, 0, args);
            return;
        }
        if kind != Gather::Info && self.tx_must_wait(slot, 0) {
            return;
        }
        if saves && kind != Gather::Reload {
            let started = self.start_save(kind, args);
            if !matches!(started, Ok(true)) {
                if let Some(c) = self.conns[slot].as_mut() {
                    match started {
                        Err(e) => c.reply_with(|r| r.error(&e)),
                        _ => c.reply_with(|r| r.simple("Background saving scheduled")),
                    }
                }
                return;
            }
        }
        let mut g = GatherState::new(g, n);
        g.finish = finish;
        if kind == Gather::Reload {
            g.digest = match crate::persist::Debug::parse(args) {
                Ok(crate::persist::Debug::Digest) => Some(false),
                Ok(crate::persist::Debug::DigestValue) => Some(true),
                _ => None,
            };
        }
        if saves && kind != Gather::Bgsave {
            g.save_to = Some((
                self.shared.config().dbfilename.clone(),
                self.shared.saver.clone(),
            ));
        }
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        let seq = c.begin_gather(g);
        // KEYS, DBSIZE, FLUSHALL, ... see every shard at one instant: a
        // transaction locking each whole shard. INFO needs no such view.
        let info = (kind != Gather::Info).then(|| {
            // DEBUG RELOAD replaces every shard's keys.
            let mode = if kind == Gather::Reload {
                Mode::Exclusive
            } else {
                Mode::of(id)
            };
            let shards: Vec<(u16, Want)> = (0..n as u16).map(|s| (s, Want::Shard(mode))).collect();
            let follows = self.follows_split(slot, &shards);
            Arc::new(TxInfo {
                id: next_tx_id(),
                kind: TxKind::Parts,
                shards,
                exec: None,
                log: Default::default(),
                follows,
            })
        });
        for shard in 0..n {
            self.push_request(slot, shard, seq, shard as u16, id, 0, args);
            if let Some(info) = &info {
                self.mark_tx(slot, shard, info);
            }
        }
    }

    /// Checks a DEBUG command on the IO thread: `enable-debug-command`
    /// (Redis 7's error when it forbids this client), the subcommand and
    /// its options ([`crate::persist::Debug`]), HELP answered here, and no
    /// background save running when RELOAD saves. Returns whether the
    /// RELOAD saves, or None once it answered.
    fn debug_checks(&mut self, slot: usize, args: &[&[u8]]) -> Option<bool> {
        use crate::config::Access;
        let allowed = match self.shared.config().enable_debug_command {
            Access::Yes => true,
            Access::No => false,
            Access::Local => self.conns[slot].as_ref().is_some_and(|c| c.local),
        };
        let c = self.conns[slot].as_mut()?;
        if !allowed {
            c.reply_with(|r| {
                r.error(
                    "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
                )
            });
            return None;
        }
        match crate::persist::Debug::parse(args) {
            Err(e) => c.reply_with(|r| r.error(&e)),
            Ok(crate::persist::Debug::Help) => c.reply_with(|r| {
                r.array(crate::persist::DEBUG_HELP.len());
                for line in crate::persist::DEBUG_HELP {
                    r.simple(line);
                }
            }),
            Ok(crate::persist::Debug::Reload { save, .. }) => {
                if save && self.shared.saver.in_progress() {
                    c.reply_with(|r| r.error("ERR Background save already in progress"));
                } else {
                    return Some(save);
                }
            }
            // Every shard's part, gathered at one instant.
            Ok(
                crate::persist::Debug::Digest
                | crate::persist::Debug::DigestValue
                | crate::persist::Debug::Object,
            ) => {
                return Some(false);
            }
            Ok(crate::persist::Debug::Sleep(secs)) => {
                // Redis stops its one thread; this stops the connection's
                // IO thread (its clients wait, the shards go on).
                if secs > 0.0 && secs.is_finite() {
                    std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(1e9)));
                }
                c.reply_with(|r| r.ok());
            }
            Ok(crate::persist::Debug::SetActiveExpire(on)) => {
                self.shared.tunables.set_active_expire(on);
                c.reply_with(|r| r.ok());
            }
            Ok(crate::persist::Debug::Protocol(name)) => {
                c.reply_with(|r| debug_protocol(r, &name));
            }
            Ok(crate::persist::Debug::Error(text)) => {
                c.reply_with(|r| r.error(&String::from_utf8_lossy(&text)));
            }
            Ok(crate::persist::Debug::Log(msg)) => {
                tracing::warn!("DEBUG LOG: {msg}");
                c.reply_with(|r| r.ok());
            }
            Ok(crate::persist::Debug::ChangeReplId) => {
                tracing::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
                self.shared.change_repl_id();
                c.reply_with(|r| r.ok());
            }
            Ok(crate::persist::Debug::ConfigRewriteForceAll) => {
                match self
                    .shared
                    .config()
                    .rewrite(true, &self.shared.acl.user_lines())
                {
                    Ok(()) => c.reply_with(|r| r.ok()),
                    Err(e) => {
                        let e =
                            e.replace("Rewriting config file", "CONFIG-REWRITE-FORCE-ALL failed");
                        c.reply_with(|r| r.error(&format!("ERR {e}")))
                    }
                }
            }
            Ok(crate::persist::Debug::StringmatchTest) => {
                crate::glob::fuzz_test(STRINGMATCH_CYCLES);
                c.reply_with(|r| r.simple("Apparently Redis did not crash: test passed"));
            }
        }
        None
    }

    /// Checks SAVE's and BGSAVE's arguments and state before they reach
    /// the shards, and starts BGSAVE's file writer: Redis's errors for a
    /// save already running and for a bad argument (`BGSAVE [SCHEDULE]`).
    /// `Ok(false)`: BGSAVE SCHEDULE while an AOF rewrite writes its base,
    /// so the save starts after it (`+Background saving scheduled`).
    fn start_save(&self, kind: Gather, args: &[&[u8]]) -> Result<bool, String> {
        let saver = &self.shared.saver;
        if kind == Gather::Save {
            return match saver.in_progress() {
                true => Err("ERR Background save already in progress".into()),
                false => Ok(true),
            };
        }
        let schedule = match args {
            [_] => false,
            [_, a] if a.eq_ignore_ascii_case(b"schedule") => true,
            _ => return Err(crate::resp::errors::SYNTAX.into()),
        };
        if schedule && saver.writing_aof_base() {
            saver.schedule();
            return Ok(false);
        }
        saver.start(&self.shared.config().dbfilename).map(|()| true)
    }

    /// Sends each shard this turn's batch if it has a credit; in colocated
    /// mode runs it at once on this thread.
    pub(super) fn flush_batches(&mut self) {
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

    pub(super) fn on_replies(&mut self, b: ReplyBatch) {
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
                if let Some(c) = self.conn_mut(slot, generation) {
                    if c.tx_wait.as_ref().is_some_and(|(t, _)| c.answered(*t)) {
                        c.tx_wait = None;
                        if std::mem::take(&mut c.stalled) {
                            self.to_parse.push(slot);
                        }
                    }
                }
            }
            start = end;
        }
    }

    /// Colocated: answers the blocked clients whose timeout has passed.
    pub(super) fn colocated_timeouts(&mut self) {
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
}

/// The keys a coordinated command touches ([`spec::touched_keys`]); a
/// script or function touches any key unless it was seen to stay within
/// its declared keys (`crate::script`), and an EVALSHA or FCALL of an
/// unknown one none (its shard answers NOSCRIPT or not found).
pub(super) fn coord_keys<'a>(
    scripts: &crate::script::Registry,
    s: &spec::CommandSpec,
    args: &[&'a [u8]],
) -> Touched<'a> {
    if s.is(spec::flag::MOVABLEKEYS) && s.numkeys == 2 && s.name.starts_with("fcall") {
        match args.get(1).and_then(|a| scripts.function(a)) {
            None => return Touched::Known(Vec::new()),
            Some((f, _)) if !f.needs_every_shard() => {}
            Some(_) => {
                scripts
                    .global_runs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Touched::Unknown;
            }
        }
    } else if s.is(spec::flag::MOVABLEKEYS) && s.numkeys == 2 && s.name.starts_with("eval") {
        let by_sha = s.name.starts_with("evalsha");
        let found = match args.get(1) {
            Some(a) if by_sha => scripts.get(a),
            Some(a) => scripts.get(crate::script::sha1_hex(a).as_bytes()),
            None => None,
        };
        match found {
            None if by_sha => return Touched::Known(Vec::new()),
            Some(script) if !script.needs_every_shard() => {}
            _ => {
                scripts
                    .global_runs
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Touched::Unknown;
            }
        }
    }
    spec::touched_keys(s, args)
}

/// What a client may still run while a script is past
/// `busy-reply-threshold` (Redis 7.0's `allow-busy` commands: SCRIPT KILL,
/// SHUTDOWN, and connection and transaction bookkeeping).
fn runs_while_busy(name: &str, args: &[&[u8]]) -> bool {
    match name {
        "auth" | "hello" | "multi" | "discard" | "unwatch" | "reset" | "quit" | "shutdown" => true,
        "script" => args.get(1).is_some_and(|a| a.eq_ignore_ascii_case(b"kill")),
        "function" => args
            .get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"kill") || a.eq_ignore_ascii_case(b"stats")),
        _ => false,
    }
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

/// DEBUG PROTOCOL `name`: Redis's test value of that RESP type
/// (`debugCommand`): in RESP2 each type falls back as Redis's reply
/// functions do, and a push is refused. Errors: `RESP2 is not supported by
/// this command`, `Wrong protocol type name. ...`.
fn debug_protocol(r: &mut crate::resp::Reply, name: &str) {
    match name {
        "string" => r.bulk(b"Hello World"),
        "integer" => r.int(12345),
        "double" => r.double(3.141),
        "bignum" => {
            let n = b"1234567999999999999999999999999999999";
            if r.resp3 {
                r.raw(b"(");
                r.raw(n);
                r.raw(b"\r\n");
            } else {
                r.bulk(n);
            }
        }
        "null" => r.null(),
        "array" => {
            r.array(3);
            (0..3).for_each(|j| r.int(j));
        }
        "set" => {
            r.set(3);
            (0..3).for_each(|j| r.int(j));
        }
        "map" => {
            r.map(3);
            for j in 0..3 {
                r.int(j);
                r.boolean(j == 1);
            }
        }
        "attrib" => {
            if r.resp3 {
                r.raw(b"|1\r\n");
                r.bulk(b"key-popularity");
                r.array(2);
                r.bulk(b"key:123");
                r.int(90);
            }
            r.bulk(b"Some real reply following the attribute");
        }
        "push" => {
            if !r.resp3 {
                return r.error("ERR RESP2 is not supported by this command");
            }
            r.push(2);
            r.bulk(b"server-cpu-usage");
            r.int(42);
            r.bulk(b"Some real reply following the push reply");
        }
        "true" => r.boolean(true),
        "false" => r.boolean(false),
        "verbatim" => r.verbatim(b"This is a verbatim\nstring"),
        _ => r.error(
            "ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false",
        ),
    }
}

/// The subcommand INFO commandstats counts a container command under
/// (`client|list`), `None` for other commands.
fn sub_of<'a>(s: &spec::CommandSpec, args: &[&'a [u8]]) -> Option<&'a [u8]> {
    if s.is(spec::flag::CONTAINER) {
        args.get(1).copied()
    } else {
        None
    }
}
