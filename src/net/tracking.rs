//! Client-side caching on an IO thread: CLIENT TRACKING, CACHING, GETREDIR
//! and TRACKINGINFO, the flag each read carries to its shard, and writing
//! the invalidation messages shards send back.
//!
//! Follows Redis 7.0 (`networking.c` `clientCommand`, `tracking.c`,
//! <https://redis.io/docs/latest/develop/reference/client-side-caching/>):
//! an invalidation is a RESP3 push `invalidate [key]` to the tracking
//! client, or, with REDIRECT, to the client it names: as a push if that
//! client speaks RESP3, as a `message` on `__redis__:invalidate` if it is
//! a RESP2 subscriber, and not at all otherwise. A flush sends a null
//! instead of the keys. A redirect to a client that is gone sends the
//! tracking client (RESP3) `tracking-redir-broken <id>`.
//!
//! Shards remember who read what (`engine::tracking`); an invalidation is
//! queued on the receiving connection after every reply it waits for, so
//! a client that writes a key it caches hears of it after the write's
//! reply, as from Redis 7.0.

use bytes::Bytes;

use super::local::{Local, Res, lower, reply, text};
use super::{IoThread, conn_token, encode};
use crate::msg::{Invalidation, ToIo, client_flags};
use crate::pubsub::Tracker;
use crate::resp::errors;

/// A connection's `CLIENT TRACKING` state.
#[derive(Default, Debug)]
pub struct Tracking {
    /// Client id invalidations go to (0: this connection).
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// CLIENT CACHING yes (OPTIN) or no (OPTOUT) for the next command.
    pub caching: bool,
    /// The redirect target was found gone.
    pub broken: bool,
    /// BCAST prefixes (`""` when none was given: every key).
    pub prefixes: Vec<Bytes>,
}

impl Tracking {
    /// The tracking flag ([`client_flags`]) of the next command's requests (an EXEC's:
    /// every read of its block), and whether it uses up a CLIENT CACHING
    /// (every command but CLIENT and MULTI does).
    pub fn flags(&mut self, command: &str) -> u8 {
        if self.bcast {
            return 0;
        }
        let on = if self.optin {
            self.caching
        } else if self.optout {
            !self.caching
        } else {
            true
        };
        // Redis keeps CLIENT CACHING across MULTI for the EXEC.
        if command != "client" && command != "multi" {
            self.caching = false;
        }
        if on { client_flags::TRACK_READ } else { 0 }
    }
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p]... [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP]. Errors: Redis 7.0's texts, in its order.
pub(super) fn client_tracking(l: &mut Local, args: &[&[u8]]) -> Res {
    let mut redirect = 0u64;
    let (mut bcast, mut optin, mut optout, mut noloop) = (false, false, false, false);
    let mut prefixes: Vec<Bytes> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        match lower(args[j]).as_str() {
            "redirect" if more => {
                j += 1;
                if redirect != 0 {
                    return Err("ERR A client can only redirect to a single other client".into());
                }
                let id = crate::resp::parse::parse_i64(args[j]).ok_or(errors::NOT_INTEGER)?;
                let exists = id > 0
                    && l.shared
                        .clients
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .contains_key(&(id as u64));
                if !exists {
                    return Err("ERR The client ID you want redirect to does not exist".into());
                }
                redirect = id as u64;
            }
            "bcast" => bcast = true,
            "optin" => optin = true,
            "optout" => optout = true,
            "noloop" => noloop = true,
            "prefix" if more => {
                j += 1;
                prefixes.push(Bytes::copy_from_slice(args[j]));
            }
            _ => return Err(errors::SYNTAX.into()),
        }
        j += 1;
    }
    match lower(args[2]).as_str() {
        "on" => {}
        "off" => {
            l.after.untrack = true;
            return reply(l, |r| r.ok());
        }
        _ => return Err(errors::SYNTAX.into()),
    }
    if !bcast && !prefixes.is_empty() {
        return Err("ERR PREFIX option requires BCAST mode to be enabled".into());
    }
    let old = l.conn.tracking.as_deref();
    if old.is_some_and(|t| t.bcast != bcast) {
        return Err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if bcast && (optin || optout) {
        return Err("ERR OPTIN and OPTOUT are not compatible with BCAST".into());
    }
    if optin && optout {
        return Err("ERR You can't specify both OPTIN mode and OPTOUT mode".into());
    }
    if old.is_some_and(|t| (optin && t.optout) || (optout && t.optin)) {
        return Err("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.".into());
    }
    if bcast {
        let existing: &[Bytes] = old.map_or(&[], |t| &t.prefixes[..]);
        let overlaps = |a: &[u8], b: &[u8]| {
            let n = a.len().min(b.len());
            a[..n] == b[..n]
        };
        for (i, p) in prefixes.iter().enumerate() {
            if let Some(e) = existing.iter().find(|e| overlaps(e, p)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(e)
                ));
            }
            if let Some(q) = prefixes[i + 1..].iter().find(|q| overlaps(p, q)) {
                return Err(format!(
                    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                    text(p),
                    text(q)
                ));
            }
        }
    }
    // Enable (Redis's `enableTracking`): a second ON keeps the prefixes
    // and adds the new ones.
    let hub = l.shared.pubsub.clone();
    let (io, token) = (l.io_index, l.token);
    let fresh = l.conn.tracking.is_none();
    if fresh {
        hub.count_tracking(true);
    }
    let t = l.conn.tracking.get_or_insert_with(Default::default);
    t.redirect = redirect;
    t.bcast = bcast;
    t.optin = optin;
    t.optout = optout;
    t.noloop = noloop;
    t.caching = false;
    t.broken = false;
    if bcast {
        if prefixes.is_empty() && t.prefixes.is_empty() {
            prefixes.push(Bytes::new());
        }
        for p in prefixes {
            hub.bcast_add(&p, Tracker { io, conn: token });
            t.prefixes.push(p);
        }
    }
    let id = l.conn.id;
    l.shared.update_client(id, |ci| ci.redir = Some(redirect));
    reply(l, |r| r.ok())
}

/// CLIENT CACHING YES|NO: the next command is (not) tracked, in OPTIN
/// (OPTOUT) mode.
pub(super) fn client_caching(l: &mut Local, args: &[&[u8]]) -> Res {
    let Some(t) = l.conn.tracking.as_deref_mut() else {
        return Err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled".into());
    };
    match lower(args[2]).as_str() {
        "yes" if t.optin => t.caching = true,
        "yes" => {
            return Err(
                "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
                    .into(),
            );
        }
        "no" if t.optout => t.caching = true,
        "no" => {
            return Err(
                "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
                    .into(),
            );
        }
        _ => return Err(errors::SYNTAX.into()),
    }
    reply(l, |r| r.ok())
}

/// CLIENT GETREDIR: the redirect id, 0 without one, -1 when not tracking.
pub(super) fn client_getredir(l: &mut Local) -> Res {
    let v = l.conn.tracking.as_ref().map_or(-1, |t| t.redirect as i64);
    reply(l, |r| r.int(v))
}

/// CLIENT TRACKINGINFO: a map of `flags`, `redirect` and `prefixes`.
pub(super) fn client_trackinginfo(l: &mut Local) -> Res {
    let t = l.conn.tracking.as_deref();
    let mut flags: Vec<&str> = vec![if t.is_some() { "on" } else { "off" }];
    if let Some(t) = t {
        if t.bcast {
            flags.push("bcast");
        }
        if t.optin {
            flags.push("optin");
            if t.caching {
                flags.push("caching-yes");
            }
        }
        if t.optout {
            flags.push("optout");
            if t.caching {
                flags.push("caching-no");
            }
        }
        if t.noloop {
            flags.push("noloop");
        }
        if t.broken {
            flags.push("broken_redirect");
        }
    }
    let redirect = t.map_or(-1, |t| t.redirect as i64);
    // In Redis's radix-tree order.
    let mut prefixes: Vec<Bytes> = t.map(|t| t.prefixes.clone()).unwrap_or_default();
    prefixes.sort();
    reply(l, |r| {
        r.map(3);
        r.bulk(b"flags");
        r.set(flags.len());
        for f in &flags {
            r.bulk(f.as_bytes());
        }
        r.bulk(b"redirect");
        r.int(redirect);
        r.bulk(b"prefixes");
        r.array(prefixes.len());
        for p in &prefixes {
            r.bulk(p);
        }
    })
}

impl IoThread {
    /// Writes the invalidations shards sent for this thread's tracking
    /// clients.
    pub(super) fn on_invalidate(&mut self, list: Vec<Invalidation>) {
        for inv in list {
            let slot = (inv.conn & 0xFFFF_FFFF) as usize;
            let generation = (inv.conn >> 32) as u32;
            let Some(c) = self.conn_mut(slot, generation) else {
                continue;
            };
            if inv.own && c.tracking.as_ref().is_some_and(|t| t.noloop) {
                continue;
            }
            self.invalidate_for(slot, &inv.key);
        }
    }

    /// FLUSHALL/FLUSHDB: every tracking client here drops everything.
    pub(super) fn invalidate_all(&mut self) {
        for slot in 0..self.conns.len() {
            if self.conns[slot]
                .as_ref()
                .is_some_and(|c| c.tracking.is_some())
            {
                self.invalidate_for(slot, &None);
            }
        }
    }

    /// An invalidation of `key` for the tracking client in `slot`: to it,
    /// or to the client it redirects to (here, forwarded to that client's
    /// IO thread, or reported broken).
    fn invalidate_for(&mut self, slot: usize, key: &Option<Bytes>) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        let Some(t) = c.tracking.as_deref_mut() else {
            return;
        };
        let redirect = t.redirect;
        let resp3 = c.resp3;
        if redirect == 0 {
            if resp3 {
                let f = invalidation_frame(true, true, key);
                c.local_reply(&f);
                self.mark_dirty(slot);
            }
            return;
        }
        if let Some(&target) = self.by_id.get(&redirect) {
            return self.write_redirected(target, key, resp3);
        }
        let io = self
            .shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&redirect)
            .map(|ci| ci.io);
        match io {
            Some(io) => self.shared.pubsub.send_to(
                io as usize,
                ToIo::InvalidateClient {
                    id: redirect,
                    key: key.clone(),
                    resp3,
                },
            ),
            None => {
                t.broken = true;
                if c.resp3 {
                    let f = encode(true, |r| {
                        r.push(2);
                        r.bulk(b"tracking-redir-broken");
                        r.int(redirect as i64);
                    });
                    c.local_reply(&f);
                    self.mark_dirty(slot);
                }
            }
        }
    }

    /// An invalidation forwarded to client `id` of this thread.
    pub(super) fn invalidate_client(&mut self, id: u64, key: Option<Bytes>, resp3: bool) {
        if let Some(&slot) = self.by_id.get(&id) {
            self.write_redirected(slot, &key, resp3);
        }
    }

    /// Writes an invalidation to the redirect target in `slot`: a push in
    /// RESP3, a `__redis__:invalidate` message to a RESP2 subscriber,
    /// nothing to a plain RESP2 client. A flush's null follows the
    /// tracking client's protocol (`from_resp3`), as Redis writes it.
    fn write_redirected(&mut self, slot: usize, key: &Option<Bytes>, from_resp3: bool) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        let subscribed = c.subs.as_ref().is_some_and(|s| s.total() > 0);
        if !c.resp3 && !subscribed {
            return;
        }
        let f = invalidation_frame(c.resp3, from_resp3, key);
        c.local_reply(&f);
        self.mark_dirty(slot);
    }

    /// The tracking flag ([`client_flags`]) for the command about to be routed from `slot`.
    pub(super) fn track_flags(&mut self, slot: usize, command: &str) -> u8 {
        match self.conns.get_mut(slot) {
            Some(Some(c)) => c.tracking.as_deref_mut().map_or(0, |t| t.flags(command)),
            _ => 0,
        }
    }

    /// Turns a connection's tracking off (CLIENT TRACKING OFF, RESET, a
    /// close): its BCAST prefixes leave the shared registry; what shards
    /// remember of its reads is forgotten lazily.
    pub(super) fn drop_tracking(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if let Some(t) = c.tracking.take() {
            let token = conn_token(c.generation, slot);
            for p in &t.prefixes {
                self.shared.pubsub.bcast_remove(p, self.index, token);
            }
            self.shared.pubsub.count_tracking(false);
            self.shared.update_client(c.id, |ci| ci.redir = None);
        }
    }
}

/// An invalidation message: `invalidate` and the key (or null after a
/// flush), as a RESP3 push or, for a redirect to a RESP2 subscriber, a
/// `message` on `__redis__:invalidate` (Redis's `sendTrackingMessage`).
/// The null is RESP3's `_` when `null_resp3`, else RESP2's `$-1`.
fn invalidation_frame(resp3: bool, null_resp3: bool, key: &Option<Bytes>) -> Bytes {
    encode(resp3, |r| {
        if resp3 {
            r.push(2);
            r.bulk(b"invalidate");
        } else {
            r.array(3);
            r.bulk(b"message");
            r.bulk(b"__redis__:invalidate");
        }
        match key {
            Some(k) => {
                r.array(1);
                r.bulk(k);
            }
            None => r.raw(if null_resp3 { b"_\r\n" } else { b"$-1\r\n" }),
        }
    })
}
