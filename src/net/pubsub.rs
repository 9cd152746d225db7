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

/// What one connection subscribes to.
#[derive(Default)]
pub struct Subs {
    pub channels: hashbrown::HashSet<Bytes>,
    /// Patterns, each with the order it was subscribed in: PUNSUBSCRIBE
    /// without arguments goes in that order, as Redis 7.0's list does.
    pub patterns: hashbrown::HashMap<Bytes, u64>,
    next_pattern: u64,
    pub shard: hashbrown::HashSet<Bytes>,
}

impl Subs {
    /// Channels plus patterns (the count `subscribe` frames carry).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every subscription: nonzero puts a RESP2 connection in subscribed
    /// mode (Redis's `CLIENT_PUBSUB`).
    pub fn total(&self) -> usize {
        self.count() + self.shard.len()
    }
}

/// This IO thread's subscribers: connection tokens per channel, shard
/// channel and pattern.
#[derive(Default)]
pub(super) struct Table {
    channels: hashbrown::HashMap<Bytes, Vec<u64>>,
    shard: hashbrown::HashMap<Bytes, Vec<u64>>,
    patterns: hashbrown::HashMap<Bytes, Vec<u64>>,
}

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
            "subscribe" | "ssubscribe" => self.subscribe(slot, name, args),
            "unsubscribe" | "sunsubscribe" => self.unsubscribe(slot, name, args),
            "psubscribe" => self.psubscribe(slot, args),
            "punsubscribe" => self.punsubscribe(slot, args),
            _ => {
                self.pubsub_reply(slot, id, args, false);
                return;
            }
        };
        if let Some(c) = self.conns[slot].as_mut() {
            c.local_reply(&out);
            // CLIENT LIST/KILL TYPE see the change at once, from any thread.
            let (sub, psub, ssub) = c.subs.as_ref().map_or((0, 0, 0), |s| {
                (s.channels.len(), s.patterns.len(), s.shard.len())
            });
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

    fn subscribe(&mut self, slot: usize, name: &str, args: &[&[u8]]) -> Bytes {
        let space = if name == "ssubscribe" {
            Space::Shard
        } else {
            Space::Global
        };
        let hub = self.shared.pubsub.clone();
        let io = self.index as usize;
        let Some(c) = self.conns[slot].as_mut() else {
            return Bytes::new();
        };
        let token = conn_token(c.generation, slot);
        let subs = c.subs.get_or_insert_with(Default::default);
        let mut r = Reply::new(c.resp3);
        for &ch in &args[1..] {
            let ch = Bytes::copy_from_slice(ch);
            let set = match space {
                Space::Global => &mut subs.channels,
                Space::Shard => &mut subs.shard,
            };
            if set.insert(ch.clone()) {
                let table = match space {
                    Space::Global => &mut self.subs.channels,
                    Space::Shard => &mut self.subs.shard,
                };
                table.entry(ch.clone()).or_default().push(token);
                hub.subscribe(io, space, &ch);
            }
            let count = match space {
                Space::Global => subs.count(),
                Space::Shard => subs.shard.len(),
            };
            r.push(3);
            r.bulk(name.as_bytes());
            r.bulk(&ch);
            r.int(count as i64);
        }
        r.buf.freeze()
    }

    fn unsubscribe(&mut self, slot: usize, name: &str, args: &[&[u8]]) -> Bytes {
        let space = if name == "sunsubscribe" {
            Space::Shard
        } else {
            Space::Global
        };
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
            match space {
                Space::Global => subs.channels.iter().cloned().collect(),
                Space::Shard => subs.shard.iter().cloned().collect(),
            }
        };
        let mut r = Reply::new(c.resp3);
        for ch in &names {
            let (set, table) = match space {
                Space::Global => (&mut subs.channels, &mut self.subs.channels),
                Space::Shard => (&mut subs.shard, &mut self.subs.shard),
            };
            if set.remove(ch) {
                remove_token(table, ch, token);
                hub.unsubscribe(io, space, ch);
            }
            let count = match space {
                Space::Global => subs.count(),
                Space::Shard => subs.shard.len(),
            };
            r.push(3);
            r.bulk(name.as_bytes());
            r.bulk(ch);
            r.int(count as i64);
        }
        if names.is_empty() {
            // Subscribed to nothing: still one frame, with a null channel.
            let count = match space {
                Space::Global => subs.count(),
                Space::Shard => subs.shard.len(),
            };
            r.push(3);
            r.bulk(name.as_bytes());
            r.null();
            r.int(count as i64);
        }
        r.buf.freeze()
    }

    fn psubscribe(&mut self, slot: usize, args: &[&[u8]]) -> Bytes {
        let hub = self.shared.pubsub.clone();
        let io = self.index as usize;
        let Some(c) = self.conns[slot].as_mut() else {
            return Bytes::new();
        };
        let token = conn_token(c.generation, slot);
        let subs = c.subs.get_or_insert_with(Default::default);
        let mut r = Reply::new(c.resp3);
        for &p in &args[1..] {
            let p = Bytes::copy_from_slice(p);
            if !subs.patterns.contains_key(&p) {
                subs.patterns.insert(p.clone(), subs.next_pattern);
                subs.next_pattern += 1;
                self.subs.patterns.entry(p.clone()).or_default().push(token);
                hub.psubscribe(io, &p);
            }
            r.push(3);
            r.bulk(b"psubscribe");
            r.bulk(&p);
            r.int(subs.count() as i64);
        }
        r.buf.freeze()
    }

    fn punsubscribe(&mut self, slot: usize, args: &[&[u8]]) -> Bytes {
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
            let mut v: Vec<(u64, Bytes)> =
                subs.patterns.iter().map(|(p, &o)| (o, p.clone())).collect();
            v.sort_unstable_by_key(|e| e.0);
            v.into_iter().map(|e| e.1).collect()
        };
        let mut r = Reply::new(c.resp3);
        for p in &names {
            if subs.patterns.remove(p).is_some() {
                remove_token(&mut self.subs.patterns, p, token);
                hub.punsubscribe(io, p);
            }
            r.push(3);
            r.bulk(b"punsubscribe");
            r.bulk(p);
            r.int(subs.count() as i64);
        }
        if names.is_empty() {
            r.push(3);
            r.bulk(b"punsubscribe");
            r.null();
            r.int(subs.count() as i64);
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
        for ch in &subs.channels {
            remove_token(&mut self.subs.channels, ch, token);
            hub.unsubscribe(io, Space::Global, ch);
        }
        for ch in &subs.shard {
            remove_token(&mut self.subs.shard, ch, token);
            hub.unsubscribe(io, Space::Shard, ch);
        }
        for p in subs.patterns.keys() {
            remove_token(&mut self.subs.patterns, p, token);
            hub.punsubscribe(io, p);
        }
    }

    /// Queues published messages for this thread's subscribers: a
    /// `message` (or `smessage`) for each subscriber of the channel, then
    /// a `pmessage` for each subscriber of each matching pattern, each
    /// frame encoded once per protocol.
    pub(super) fn deliver(&mut self, list: Vec<Delivery>) {
        for d in list {
            if d.direct {
                let kind: &[u8] = if d.sharded { b"smessage" } else { b"message" };
                let table = if d.sharded {
                    &self.subs.shard
                } else {
                    &self.subs.channels
                };
                if let Some(tokens) = table.get(&d.channel) {
                    let mut frames: [Option<Bytes>; 2] = [None, None];
                    for &t in tokens {
                        let slot = (t & 0xFFFF_FFFF) as usize;
                        let Some(Some(c)) = self.conns.get_mut(slot) else {
                            continue;
                        };
                        let f = frames[c.resp3 as usize].get_or_insert_with(|| {
                            encode(c.resp3, |r| {
                                r.push(3);
                                r.bulk(kind);
                                r.bulk(&d.channel);
                                r.bulk(&d.payload);
                            })
                        });
                        c.local_reply(f);
                        if !c.dirty {
                            c.dirty = true;
                            self.dirty.push(slot);
                        }
                    }
                }
            }
            for p in &d.patterns {
                let Some(tokens) = self.subs.patterns.get(p) else {
                    continue;
                };
                let mut frames: [Option<Bytes>; 2] = [None, None];
                for &t in tokens {
                    let slot = (t & 0xFFFF_FFFF) as usize;
                    let Some(Some(c)) = self.conns.get_mut(slot) else {
                        continue;
                    };
                    let f = frames[c.resp3 as usize].get_or_insert_with(|| {
                        encode(c.resp3, |r| {
                            r.push(4);
                            r.bulk(b"pmessage");
                            r.bulk(p);
                            r.bulk(&d.channel);
                            r.bulk(&d.payload);
                        })
                    });
                    c.local_reply(f);
                    if !c.dirty {
                        c.dirty = true;
                        self.dirty.push(slot);
                    }
                }
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
        ("help" | "numpat" | "channels" | "shardchannels", _) => r.error(&format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(args[1])
        )),
        _ => r.error(&format!(
            "ERR unknown subcommand '{}'. Try PUBSUB HELP.",
            String::from_utf8_lossy(args[1])
        )),
    }
}
