//! Pub/Sub on an IO thread: the subscribe family, PUBLISH/SPUBLISH, PUBSUB,
//! and handing published messages to this thread's subscribers.
//!
//! Subscriptions belong to the connection, so they live here, on the IO
//! thread that owns it: each connection keeps what it listens to
//! ([`Subs`]), this thread keeps who listens to what ([`Table`]), and the
//! process-wide registry ([`crate::pubsub::Hub`]) keeps only how many
//! subscribers each IO thread has per channel and pattern. A publish looks
//! up the registry and sends each interested IO thread one delivery; the
//! receiving thread finds the connections in its table and queues the
//! message frames in their reply order (after everything they asked for
//! so far, so after their subscribe confirmation).
//!
//! Replies, message frames and errors follow Redis 7.0 `pubsub.c`
//! (<https://redis.io/docs/latest/develop/interact/pubsub/>): one
//! `subscribe`/`unsubscribe` frame per channel, RESP3 push frames (`>`),
//! RESP2 arrays, a null channel when an unsubscribe-all finds nothing;
//! the subscription count in `subscribe`/`psubscribe` frames is channels
//! plus patterns, in `ssubscribe` frames shard channels only.

use bytes::Bytes;

use super::conn::Conn;
use super::{IoThread, conn_token, encode};
use crate::msg::Delivery;
use crate::pubsub::Space;
use crate::resp::Reply;
use crate::spec::{self, CmdId};

/// The three kinds of subscription, each its own namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// SUBSCRIBE: channels.
    Channel = 0,
    /// SSUBSCRIBE: shard channels.
    Shard = 1,
    /// PSUBSCRIBE: patterns.
    Pattern = 2,
}

impl Kind {
    /// The kind a subscribe-family command works on.
    fn of(command: &str) -> Kind {
        match command {
            "ssubscribe" | "sunsubscribe" => Kind::Shard,
            "psubscribe" | "punsubscribe" => Kind::Pattern,
            _ => Kind::Channel,
        }
    }

    /// Counts a subscriber of `name` on IO thread `io` in or out of the
    /// shared registry.
    fn register(self, hub: &crate::pubsub::Hub, io: usize, name: &Bytes, on: bool) {
        match (self, on) {
            (Kind::Channel, true) => hub.subscribe(io, Space::Global, name),
            (Kind::Channel, false) => hub.unsubscribe(io, Space::Global, name),
            (Kind::Shard, true) => hub.subscribe(io, Space::Shard, name),
            (Kind::Shard, false) => hub.unsubscribe(io, Space::Shard, name),
            (Kind::Pattern, true) => hub.psubscribe(io, name),
            (Kind::Pattern, false) => hub.punsubscribe(io, name),
        }
    }
}

/// What one connection subscribes to: per [`Kind`], each name with the
/// order it was subscribed in. An unsubscribe from everything goes in that
/// order: Redis 7.0 keeps patterns in a list (the same order) and channels
/// in a dict (an unspecified one).
#[derive(Default)]
pub struct Subs {
    names: [hashbrown::HashMap<Bytes, u64>; 3],
    next: u64,
}

impl Subs {
    /// Channels, patterns and shard channels subscribed to (CLIENT LIST's
    /// `sub`, `psub`, `ssub`).
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.names[Kind::Channel as usize].len(),
            self.names[Kind::Pattern as usize].len(),
            self.names[Kind::Shard as usize].len(),
        )
    }

    /// The count a confirmation of `kind` carries: channels plus patterns,
    /// or shard channels alone (Redis 7.0's `clientSubscriptionsCount`
    /// and `clientShardSubscriptionsCount`).
    fn count(&self, kind: Kind) -> usize {
        let (sub, psub, ssub) = self.counts();
        match kind {
            Kind::Shard => ssub,
            _ => sub + psub,
        }
    }

    /// Every subscription: nonzero puts a RESP2 connection in subscribed
    /// mode (Redis's `CLIENT_PUBSUB`).
    pub fn total(&self) -> usize {
        self.names.iter().map(|m| m.len()).sum()
    }
}

/// This IO thread's subscribers: connection tokens per name, per [`Kind`].
#[derive(Default)]
pub(super) struct Table {
    names: [hashbrown::HashMap<Bytes, Vec<u64>>; 3],
}

/// Takes connection `token` off `name`'s subscribers (and the name off the
/// table once nobody is left).
fn remove_token(m: &mut hashbrown::HashMap<Bytes, Vec<u64>>, name: &[u8], token: u64) {
    if let Some(v) = m.get_mut(name) {
        v.retain(|&t| t != token);
        if v.is_empty() {
            m.remove(name);
        }
    }
}

/// Whether a RESP2 connection in subscribed mode may run this command
/// (Redis 7.0 `processCommand`).
pub(super) fn allowed_when_subscribed(name: &str) -> bool {
    matches!(
        name,
        "ping"
            | "subscribe"
            | "ssubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "psubscribe"
            | "punsubscribe"
            | "quit"
            | "reset"
    )
}

/// Whether the connection is in RESP2 subscribed mode, where only the
/// commands of [`allowed_when_subscribed`] run.
pub(super) fn subscribed_resp2(c: &Conn) -> bool {
    !c.resp3 && c.subs.as_ref().is_some_and(|s| s.total() > 0)
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

impl IoThread {
    /// Runs a [`spec::Route::PubSub`] command and queues its reply.
    pub(super) fn pubsub_command(&mut self, slot: usize, id: CmdId, args: &[&[u8]]) {
        let name = spec::get(id).name;
        let out = match name {
            "subscribe" | "ssubscribe" | "psubscribe" => self.subscribe(slot, name, args),
            "unsubscribe" | "sunsubscribe" | "punsubscribe" => self.unsubscribe(slot, name, args),
            _ => {
                self.pubsub_reply(slot, id, args, false);
                return;
            }
        };
        if let Some(c) = self.conns[slot].as_mut() {
            c.local_reply(&out);
            // CLIENT LIST/KILL TYPE see the change at once, from any thread.
            let (sub, psub, ssub) = c.subs.as_ref().map_or((0, 0, 0), |s| s.counts());
            let id = c.id;
            self.shared.update_client(id, |ci| {
                (ci.sub, ci.psub, ci.ssub) = (sub, psub, ssub);
            });
        }
    }

    /// PUBLISH, SPUBLISH and PUBSUB, answered in order or, inside EXEC
    /// (`capture`), returned as an element of its array. The subscribe
    /// family is refused inside MULTI before it gets here.
    pub(super) fn pubsub_reply(
        &mut self,
        slot: usize,
        id: CmdId,
        args: &[&[u8]],
        capture: bool,
    ) -> Bytes {
        let Some(resp3) = self.conns[slot].as_ref().map(|c| c.resp3) else {
            return Bytes::new();
        };
        let hub = self.shared.pubsub.clone();
        let out = match spec::get(id).name {
            "publish" | "spublish" => {
                let space = match spec::get(id).name {
                    "publish" => Space::Global,
                    _ => Space::Shard,
                };
                let n = hub.publish(&mut self.pub_out, space, args[1], args[2]);
                // This thread's subscribers get it now: a publisher that
                // subscribes too sees the message before the count, as
                // from Redis.
                let mine = self.pub_out.take(self.index as usize);
                self.deliver(mine);
                encode(resp3, |r| r.int(n))
            }
            _ => encode(resp3, |r| pubsub_introspection(r, &hub, args)),
        };
        if !capture {
            if let Some(c) = self.conns[slot].as_mut() {
                c.local_reply(&out);
            }
        }
        out
    }

    /// SUBSCRIBE, SSUBSCRIBE, PSUBSCRIBE: one confirmation per name.
    fn subscribe(&mut self, slot: usize, name: &str, args: &[&[u8]]) -> Bytes {
        let kind = Kind::of(name);
        let hub = self.shared.pubsub.clone();
        let io = self.index as usize;
        let Some(c) = self.conns[slot].as_mut() else {
            return Bytes::new();
        };
        let token = conn_token(c.generation, slot);
        let subs = c.subs.get_or_insert_with(Default::default);
        let mut r = Reply::new(c.resp3);
        for &n in &args[1..] {
            let n = Bytes::copy_from_slice(n);
            if !subs.names[kind as usize].contains_key(&n) {
                subs.names[kind as usize].insert(n.clone(), subs.next);
                subs.next += 1;
                self.subs.names[kind as usize]
                    .entry(n.clone())
                    .or_default()
                    .push(token);
                kind.register(&hub, io, &n, true);
            }
            r.push(3);
            r.bulk(name.as_bytes());
            r.bulk(&n);
            r.int(subs.count(kind) as i64);
        }
        r.buf.freeze()
    }

    /// UNSUBSCRIBE, SUNSUBSCRIBE, PUNSUBSCRIBE: one confirmation per name
    /// (every name subscribed to, in order, without arguments; a null one
    /// when there is none).
    fn unsubscribe(&mut self, slot: usize, name: &str, args: &[&[u8]]) -> Bytes {
        let kind = Kind::of(name);
        let hub = self.shared.pubsub.clone();
        let io = self.index as usize;
        let Some(c) = self.conns[slot].as_mut() else {
            return Bytes::new();
        };
        let token = conn_token(c.generation, slot);
        let subs = c.subs.get_or_insert_with(Default::default);
        let names: Vec<Bytes> = if args.len() > 1 {
            args[1..]
                .iter()
                .map(|a| Bytes::copy_from_slice(a))
                .collect()
        } else {
            let mut v: Vec<(u64, Bytes)> = subs.names[kind as usize]
                .iter()
                .map(|(n, &o)| (o, n.clone()))
                .collect();
            v.sort_unstable_by_key(|e| e.0);
            v.into_iter().map(|e| e.1).collect()
        };
        let mut r = Reply::new(c.resp3);
        for n in &names {
            if subs.names[kind as usize].remove(n).is_some() {
                remove_token(&mut self.subs.names[kind as usize], n, token);
                kind.register(&hub, io, n, false);
            }
            r.push(3);
            r.bulk(name.as_bytes());
            r.bulk(n);
            r.int(subs.count(kind) as i64);
        }
        if names.is_empty() {
            r.push(3);
            r.bulk(name.as_bytes());
            r.null();
            r.int(subs.count(kind) as i64);
        }
        r.buf.freeze()
    }

    /// Drops every subscription of a connection that closes or RESETs,
    /// telling it nothing (Redis's `pubsubUnsubscribeAll*` with notify off).
    pub(super) fn drop_subscriptions(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        let Some(subs) = c.subs.take() else {
            return;
        };
        let token = conn_token(c.generation, slot);
        self.shared.update_client(c.id, |ci| {
            (ci.sub, ci.psub, ci.ssub) = (0, 0, 0);
        });
        let hub = &self.shared.pubsub;
        let io = self.index as usize;
        for kind in [Kind::Channel, Kind::Shard, Kind::Pattern] {
            for n in subs.names[kind as usize].keys() {
                remove_token(&mut self.subs.names[kind as usize], n, token);
                kind.register(hub, io, n, false);
            }
        }
    }

    /// Queues published messages for this thread's subscribers: a
    /// `message` (or `smessage`) for each subscriber of the channel, then
    /// a `pmessage` for each subscriber of each matching pattern, each
    /// frame encoded once per protocol.
    pub(super) fn deliver(&mut self, list: Vec<Delivery>) {
        for d in list {
            if d.direct {
                let (kind, word): (Kind, &[u8]) = if d.sharded {
                    (Kind::Shard, b"smessage")
                } else {
                    (Kind::Channel, b"message")
                };
                self.fan_out(kind, &d.channel, |r| {
                    r.push(3);
                    r.bulk(word);
                    r.bulk(&d.channel);
                    r.bulk(&d.payload);
                });
            }
            for p in &d.patterns {
                self.fan_out(Kind::Pattern, p, |r| {
                    r.push(4);
                    r.bulk(b"pmessage");
                    r.bulk(p);
                    r.bulk(&d.channel);
                    r.bulk(&d.payload);
                });
            }
        }
    }

    /// Queues a frame for every subscriber of `name` (of `kind`) on this
    /// thread, encoding it once per protocol.
    fn fan_out(&mut self, kind: Kind, name: &[u8], frame: impl Fn(&mut Reply)) {
        let Some(tokens) = self.subs.names[kind as usize].get(name) else {
            return;
        };
        let mut frames: [Option<Bytes>; 2] = [None, None];
        for &t in tokens {
            let slot = (t & 0xFFFF_FFFF) as usize;
            let Some(Some(c)) = self.conns.get_mut(slot) else {
                continue;
            };
            let f = frames[c.resp3 as usize].get_or_insert_with(|| encode(c.resp3, |r| frame(r)));
            c.local_reply(f);
            if !c.dirty {
                c.dirty = true;
                self.dirty.push(slot);
            }
        }
    }

    /// Sends the other IO threads what this thread's publishes queued for
    /// them (once per loop turn, before the shards get this turn's batches).
    pub(super) fn flush_published(&mut self) {
        if self.pub_out.pending() {
            let hub = self.shared.pubsub.clone();
            hub.flush(&mut self.pub_out, Some(self.index as usize));
            let mine = self.pub_out.take(self.index as usize);
            self.deliver(mine);
        }
    }
}

/// PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP
/// (redis.io/commands/pubsub-channels and siblings). Errors: Redis's
/// unknown-subcommand text.
fn pubsub_introspection(r: &mut Reply, hub: &crate::pubsub::Hub, args: &[&[u8]]) {
    let sub = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    let arity_ok = match sub.as_str() {
        "help" | "numpat" => args.len() == 2,
        _ => true,
    };
    if !arity_ok {
        return r.error(&format!(
            "ERR wrong number of arguments for 'pubsub|{sub}' command"
        ));
    }
    match (sub.as_str(), args.len()) {
        ("help", 2) => {
            r.array(PUBSUB_HELP.len());
            for l in PUBSUB_HELP {
                r.simple(l);
            }
        }
        ("channels" | "shardchannels", 2 | 3) => {
            let space = if sub == "channels" {
                Space::Global
            } else {
                Space::Shard
            };
            let list = hub.channels(space, args.get(2).copied());
            r.array(list.len());
            for c in &list {
                r.bulk(c);
            }
        }
        ("numsub" | "shardnumsub", _) => {
            let space = if sub == "numsub" {
                Space::Global
            } else {
                Space::Shard
            };
            r.array((args.len() - 2) * 2);
            for &c in &args[2..] {
                r.bulk(c);
                r.int(hub.numsub(space, c));
            }
        }
        ("numpat", 2) => r.int(hub.pattern_count() as i64),
        ("help" | "numpat" | "channels" | "shardchannels", _) => {
            r.error(&crate::cmd::subcommand_syntax_error(args))
        }
        _ => r.error(&format!(
            "ERR unknown subcommand '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(args[1])
        )),
    }
}
