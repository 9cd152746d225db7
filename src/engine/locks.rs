//! A shard's lock table for the transaction layer ([`super::tx`]): intent
//! locks on keys (shared or exclusive) or on the whole shard, and a FIFO of
//! requests waiting for them.
//!
//! Owned by one shard engine thread; never blocks (a request that cannot be
//! granted waits in the queue, and the engine acts on the grants that a
//! release returns).
//!
//! # Rules
//!
//! A request is granted when none of its keys (or the shard) is held in a
//! conflicting mode and no earlier *active* request still waiting in the
//! queue conflicts with it, so conflicting requests are granted in arrival
//! order. Requests of one connection are granted in their arrival order
//! whatever their keys: a connection's commands run in the order it sent
//! them. A transaction's request becomes active only once the transaction
//! holds its locks on every lower shard (it acquires shards in ascending
//! order); until then it waits without blocking others, which is what makes
//! the layer deadlock-free: a waiter at shard S holds locks only on shards
//! below S, so a chain of waits climbs the shards and cannot close a cycle.

use std::collections::VecDeque;

use bytes::Bytes;

pub use crate::msg::{KeyLock, Mode, TxId, Want};

fn conflicts(a: Mode, b: Mode) -> bool {
    a == Mode::Exclusive || b == Mode::Exclusive
}

/// Whether two requests' locks conflict.
fn wants_conflict(x: &Want, y: &Want) -> bool {
    match (x, y) {
        (Want::Shard(a), Want::Shard(b)) => conflicts(*a, *b),
        (Want::Shard(m), Want::Keys(ks)) | (Want::Keys(ks), Want::Shard(m)) => {
            ks.iter().any(|k| conflicts(*m, k.mode))
        }
        (Want::Keys(a), Want::Keys(b)) => a.iter().any(|p| {
            b.iter()
                .any(|q| p.db == q.db && p.key == q.key && conflicts(p.mode, q.mode))
        }),
    }
}

/// Who sent a request: an IO thread and its connection token. Requests of
/// one owner are granted in arrival order.
pub type Owner = (u16, u64);

/// A lock count: readers and whether a writer holds it.
#[derive(Clone, Copy, Debug, Default)]
struct Held {
    shared: u32,
    exclusive: bool,
}

impl Held {
    fn allows(&self, m: Mode) -> bool {
        match m {
            Mode::Shared => !self.exclusive,
            Mode::Exclusive => !self.exclusive && self.shared == 0,
        }
    }

    fn take(&mut self, m: Mode) {
        match m {
            Mode::Shared => self.shared += 1,
            Mode::Exclusive => self.exclusive = true,
        }
    }

    fn give(&mut self, m: Mode) {
        match m {
            Mode::Shared => self.shared = self.shared.saturating_sub(1),
            Mode::Exclusive => self.exclusive = false,
        }
    }

    fn free(&self) -> bool {
        self.shared == 0 && !self.exclusive
    }
}

/// A request waiting in the queue, with what the engine does on its grant.
struct Waiting<T> {
    id: TxId,
    owner: Owner,
    want: Want,
    /// Whether it competes for its locks yet (see the module docs).
    active: bool,
    payload: T,
}

/// One shard's locks and waiting requests. `T` is what the engine keeps
/// with a waiting request and gets back when it is granted.
pub struct Locks<T> {
    keys: hashbrown::HashMap<(u16, Bytes), Held>,
    shard: Held,
    /// Locks held per transaction (and whose they are), to release them.
    holders: hashbrown::HashMap<TxId, (Owner, Want)>,
    queue: VecDeque<Waiting<T>>,
}

impl<T> Default for Locks<T> {
    fn default() -> Self {
        Locks {
            keys: hashbrown::HashMap::new(),
            shard: Held::default(),
            holders: hashbrown::HashMap::new(),
            queue: VecDeque::new(),
        }
    }
}

impl<T> Locks<T> {
    /// Nothing held and nothing waiting: every command may run at once
    /// (the single-shard fast path costs this one check).
    #[inline]
    pub fn idle(&self) -> bool {
        self.holders.is_empty() && self.queue.is_empty()
    }

    /// Whether `want` is compatible with the locks held now.
    fn compatible(&self, want: &Want) -> bool {
        match want {
            Want::Shard(m) => {
                self.shard.allows(*m)
                    && (*m == Mode::Shared && self.keys.values().all(|h| !h.exclusive)
                        || *m == Mode::Exclusive && self.keys.values().all(Held::free))
            }
            Want::Keys(ks) => ks.iter().all(|k| {
                (k.mode == Mode::Shared && !self.shard.exclusive
                    || k.mode == Mode::Exclusive && self.shard.free())
                    && self
                        .keys
                        .get(&(k.db, k.key.clone()))
                        .is_none_or(|h| h.allows(k.mode))
            }),
        }
    }

    /// Whether a request queued at position `upto` (or a new one, with
    /// `upto` = queue length) may be granted: compatible with the held
    /// locks, and no earlier waiting request of the same owner, nor an
    /// earlier active one whose locks conflict.
    fn grantable(&self, owner: Owner, want: &Want, upto: usize) -> bool {
        self.compatible(want)
            && self.holders.values().all(|(o, _)| *o != owner)
            && self
                .queue
                .iter()
                .take(upto)
                .all(|w| w.owner != owner && !(w.active && wants_conflict(&w.want, want)))
    }

    /// Whether a new request (one that takes its locks only for an
    /// instant, such as a single-shard command) may run now.
    pub fn can_run_now(&self, owner: Owner, want: &Want) -> bool {
        self.grantable(owner, want, self.queue.len())
    }

    fn take(&mut self, id: TxId, owner: Owner, want: Want) {
        match &want {
            Want::Shard(m) => self.shard.take(*m),
            Want::Keys(ks) => {
                for k in ks {
                    self.keys
                        .entry((k.db, k.key.clone()))
                        .or_default()
                        .take(k.mode);
                }
            }
        }
        self.holders.insert(id, (owner, want));
    }

    /// Takes `want` for transaction `id` now if it may be granted; else
    /// queues it (active or not) with `payload`. Returns the payload back
    /// when granted at once.
    pub fn acquire(
        &mut self,
        id: TxId,
        owner: Owner,
        want: Want,
        active: bool,
        payload: T,
    ) -> Option<T> {
        if active && self.can_run_now(owner, &want) {
            self.take(id, owner, want);
            return Some(payload);
        }
        self.queue.push_back(Waiting {
            id,
            owner,
            want,
            active,
            payload,
        });
        None
    }

    /// Queues a request that will take no lock when granted (a parked
    /// single-shard command: it runs at its grant and is done).
    pub fn park(&mut self, owner: Owner, want: Want, payload: T) {
        self.queue.push_back(Waiting {
            id: 0,
            owner,
            want,
            active: true,
            payload,
        });
    }

    /// Marks transaction `id`'s waiting request active (it now holds every
    /// lower shard) and grants what can be granted. Returns false if `id`
    /// has no request here yet.
    pub fn activate(&mut self, id: TxId, granted: &mut Vec<(TxId, T)>) -> bool {
        let Some(w) = self.queue.iter_mut().find(|w| w.id == id && id != 0) else {
            return false;
        };
        w.active = true;
        self.grant_waiting(granted);
        true
    }

    /// Whether transaction `id` holds its locks here.
    pub fn holds(&self, id: TxId) -> bool {
        self.holders.contains_key(&id)
    }

    /// Releases transaction `id`'s locks (or forgets its waiting request)
    /// and grants what can be granted now, in queue order, appending the
    /// grants to `granted` (`(0, payload)` for a parked command).
    pub fn release(&mut self, id: TxId, granted: &mut Vec<(TxId, T)>) {
        if let Some((_, want)) = self.holders.remove(&id) {
            match want {
                Want::Shard(m) => self.shard.give(m),
                Want::Keys(ks) => {
                    for k in ks {
                        let slot = (k.db, k.key);
                        if let Some(h) = self.keys.get_mut(&slot) {
                            h.give(k.mode);
                            if h.free() {
                                self.keys.remove(&slot);
                            }
                        }
                    }
                }
            }
        } else if let Some(i) = self.queue.iter().position(|w| w.id == id && id != 0) {
            self.queue.remove(i);
        }
        self.grant_waiting(granted);
    }

    /// Grants every waiting request that may be granted, front to back.
    fn grant_waiting(&mut self, granted: &mut Vec<(TxId, T)>) {
        let mut i = 0;
        while i < self.queue.len() {
            let w = &self.queue[i];
            if w.active && self.grantable(w.owner, &w.want, i) {
                let Some(w) = self.queue.remove(i) else {
                    break;
                };
                if w.id != 0 {
                    self.take(w.id, w.owner, w.want);
                }
                granted.push((w.id, w.payload));
                // A grant changes what is held: look again from the front.
                i = 0;
                continue;
            }
            i += 1;
        }
    }

    /// Requests waiting (for INFO and tests).
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[(&str, Mode)]) -> Want {
        Want::Keys(
            ks.iter()
                .map(|(k, m)| KeyLock {
                    db: 0,
                    key: Bytes::copy_from_slice(k.as_bytes()),
                    mode: *m,
                })
                .collect(),
        )
    }

    use Mode::{Exclusive as X, Shared as S};

    #[test]
    fn conflicts_wait_and_are_granted_in_order() {
        let mut l: Locks<&str> = Locks::default();
        assert!(l.idle());
        assert_eq!(
            l.acquire(1, (0, 1), keys(&[("a", X)]), true, "t1"),
            Some("t1")
        );
        // Readers of another key pass; a reader of `a` waits.
        assert!(l.can_run_now((0, 9), &keys(&[("b", S)])));
        assert!(!l.can_run_now((0, 9), &keys(&[("a", S)])));
        assert_eq!(l.acquire(2, (0, 2), keys(&[("a", S)]), true, "t2"), None);
        assert_eq!(l.acquire(3, (0, 3), keys(&[("a", S)]), true, "t3"), None);
        // A writer after them waits behind them, though `c` is free.
        assert_eq!(
            l.acquire(4, (0, 4), keys(&[("a", X), ("c", X)]), true, "t4"),
            None
        );
        let mut g = Vec::new();
        l.release(1, &mut g);
        assert_eq!(g, vec![(2, "t2"), (3, "t3")], "both readers at once");
        g.clear();
        l.release(2, &mut g);
        assert!(g.is_empty());
        l.release(3, &mut g);
        assert_eq!(g, vec![(4, "t4")]);
        g.clear();
        l.release(4, &mut g);
        assert!(l.idle());
    }

    #[test]
    fn inactive_requests_do_not_block_and_owners_keep_order() {
        let mut l: Locks<&str> = Locks::default();
        // Not yet holding its lower shards: waits, blocks nobody else.
        assert_eq!(l.acquire(1, (0, 1), keys(&[("a", X)]), false, "t1"), None);
        assert_eq!(
            l.acquire(2, (0, 2), keys(&[("a", X)]), true, "t2"),
            Some("t2")
        );
        // But its own connection's later commands wait behind it.
        assert!(!l.can_run_now((0, 1), &keys(&[("z", S)])));
        l.park((0, 1), keys(&[("z", S)]), "later");
        let mut g = Vec::new();
        assert!(l.activate(1, &mut g));
        assert!(g.is_empty(), "t2 still holds a");
        l.release(2, &mut g);
        assert_eq!(g, vec![(1, "t1")]);
        // The same connection's next command waits until t1 is done.
        g.clear();
        l.release(1, &mut g);
        assert_eq!(g, vec![(0, "later")]);
    }

    #[test]
    fn shard_locks() {
        let mut l: Locks<&str> = Locks::default();
        assert!(l.acquire(1, (0, 1), keys(&[("a", S)]), true, "r").is_some());
        assert!(l.acquire(2, (0, 2), Want::Shard(S), true, "scan").is_some());
        assert!(
            l.acquire(3, (0, 3), Want::Shard(X), true, "flush")
                .is_none()
        );
        assert!(
            !l.can_run_now((0, 4), &keys(&[("b", X)])),
            "flush waits first"
        );
        let mut g = Vec::new();
        l.release(1, &mut g);
        assert!(g.is_empty());
        l.release(2, &mut g);
        assert_eq!(g, vec![(3, "flush")]);
        assert!(!l.can_run_now((0, 4), &keys(&[("b", S)])));
    }
}
