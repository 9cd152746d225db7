//! Client-side caching on a shard
//! (<https://redis.io/docs/latest/develop/reference/client-side-caching/>,
//! Redis 7.0 `tracking.c`): which tracking clients read which of this
//! shard's keys, and the invalidations a write (or an expiry) sends them.
//!
//! Like Redis's tracking table, keys are remembered by name alone (not by
//! database), an entry is dropped once its invalidation is sent (the
//! client must read the key again to hear of the next change), and clients
//! are forgotten lazily: an invalidation for a client that went away or
//! turned tracking off is dropped by its IO thread. The table holds at
//! most [`MAX_KEYS`] keys per shard; past that the oldest-looking entry
//! is invalidated early, as Redis does past `tracking-table-max-keys`.
//! BCAST clients are not in the table: every write checks their prefixes
//! in the shared registry ([`crate::pubsub::Hub::bcast_invalidate`]).

use bytes::Bytes;

use super::shard::Shard;
use crate::pubsub::Tracker;

/// Most keys one shard's table remembers (Redis's default
/// `tracking-table-max-keys` is 1,000,000 for the whole server).
pub const MAX_KEYS: usize = 1_000_000;

/// Keys read by tracking clients, and who read them.
#[derive(Default)]
pub struct Table {
    keys: hashbrown::HashMap<Bytes, Vec<Tracker>>,
}

impl Table {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl Shard {
    /// Whether a write here may owe someone an invalidation.
    #[inline]
    pub fn tracking_active(&self) -> bool {
        !self.tracking.is_empty() || self.pubsub.bcast_active()
    }

    /// Remembers that tracking client `t` read `key`.
    pub fn remember_read(&mut self, key: &[u8], t: Tracker) {
        if let Some(v) = self.tracking.keys.get_mut(key) {
            if !v.iter().any(|x| x.io == t.io && x.conn == t.conn) {
                v.push(t);
            }
            return;
        }
        if self.tracking.keys.len() >= MAX_KEYS / self.count.max(1) as usize {
            let victim = self.tracking.keys.keys().next().cloned();
            if let Some(k) = victim {
                self.invalidate(&k, None);
            }
        }
        self.tracking
            .keys
            .insert(Bytes::copy_from_slice(key), vec![t]);
    }

    /// `key` changed (a write by `writer`, IO thread and connection, or an
    /// expiry): queues an invalidation for every client that read it and
    /// every BCAST client whose prefix it has (marked as its own for the
    /// writer, which NOLOOP drops), and forgets who read it.
    pub fn invalidate(&mut self, key: &[u8], writer: Option<(u16, u64)>) {
        let nio = self.pubsub.io_threads();
        if let Some(readers) = self.tracking.keys.remove(key) {
            for t in readers {
                let own = writer == Some((t.io, t.conn));
                self.pub_out
                    .invalidate(nio, t.io as usize, t.conn, Some(key), own);
            }
        }
        let hub = self.pubsub.clone();
        hub.bcast_invalidate(&mut self.pub_out, key, writer);
    }

    /// FLUSHALL: every tracking client drops everything (its IO thread
    /// tells it, once, from shard 0), and nothing read before is
    /// remembered (Redis's `trackingInvalidateKeysOnFlush`).
    pub fn invalidate_flush(&mut self, all_dbs: bool) {
        if self.id == 0 {
            self.pubsub.invalidate_all();
        }
        if all_dbs {
            self.tracking.keys.clear();
        }
    }
}
