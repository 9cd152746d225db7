//! A shard's lock table for the transaction layer ([`super::tx`]): intent
//! locks on keys (shared or exclusive) or on the whole shard, FIFO queues of
//! requests waiting for them, and each connection's requests in the order
//! it sent them.
//!
//! Owned by one shard engine thread; never blocks (a request that cannot be
//! granted waits, and the engine acts on the grants that a release or an
//! activation returns).
//!
//! # Rules
//!
//! Every request sits in its connection's queue (its *owner*) until it is
//! granted (a parked command, which runs at once and holds nothing) or
//! released (a transaction, which holds its locks until then): a request
//! is considered only at the front of its owner's queue, so a connection's
//! commands run on a shard in the order it sent them.
//!
//! A request *competes* for its locks once it is *active* and at its
//! owner's front, or, for a split command that *follows* its connection's
//! previous one over the same shards (`crate::msg::TxInfo::follows`), once
//! everything before it in its owner's queue holds its locks. A
//! transaction's request becomes active only when the transaction holds its
//! locks on every lower shard (it acquires shards in ascending order). A
//! competing request joins the FIFO of every key it locks (or the shard-
//! wide FIFO) and is granted when it is at the front of each key's FIFO,
//! the held locks allow it, and no earlier competing request conflicts with
//! it at the shard level. Granting only ever looks at queue fronts, so a
//! release costs time in what it unblocks, not in how many wait.
//!
//! # Why it cannot deadlock
//!
//! A competing request at shard S waits only for holders at S (which wait
//! only at higher shards, or not at all) and for earlier competing requests
//! at S: waits climb the shards and cannot close a cycle. A request that is
//! not competing waits for its owner's earlier request or for its token
//! from a lower shard, and no wait leads back to what it holds: either it
//! holds nothing (a single-shard command; or a transaction whose lowest
//! shard the earlier one locks too, which is the only kind the IO thread
//! sends while the connection has one in flight, and which queues there
//! until the earlier one let go), or it follows the earlier one over the
//! same shards and holds only shards where that one already holds its
//! locks, so that one waits at the shard where this one waits (competing,
//! or with its token on the way) and only upward from there.

use std::collections::VecDeque;

pub use crate::msg::{KeyLock, KeyLocks, Mode, TxId, Want};

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

/// One key's lock: who holds it and who competes for it, in order.
#[derive(Default)]
struct Node {
    held: Held,
    queue: VecDeque<Handle>,
}

/// A waiting request's handle (unique per lock table).
type Handle = u64;

/// A waiting request, with what the engine does on its grant.
struct Waiting<T> {
    /// The transaction (0: a parked command, which takes no lock).
    id: TxId,
    owner: Owner,
    want: Want,
    /// Its transaction holds every lower shard (see the module docs).
    active: bool,
    /// It may compete once every earlier request of its owner here holds
    /// its locks, not only at its owner's front ([`crate::msg::TxInfo::follows`]).
    follows: bool,
    /// Its order among competing requests (0: not competing yet).
    ord: u64,
    payload: T,
}

/// One shard's locks and waiting requests. `T` is what the engine keeps
/// with a waiting request and gets back when it is granted.
pub struct Locks<T> {
    keys: hashbrown::HashMap<(u16, u64), Node>,
    shard: Held,
    /// Holders of key locks, and those among them with an exclusive one
    /// (a shard-wide request waits for them).
    key_holds: u32,
    key_x_holds: u32,
    /// Competing shard-wide requests by mode, in order: `(ord, handle)`.
    shard_s: VecDeque<(u64, Handle)>,
    shard_x: VecDeque<(u64, Handle)>,
    /// Competing key requests' orders (and those with an exclusive key),
    /// so a shard-wide request waits for earlier ones.
    key_waiters: Orders,
    key_x_waiters: Orders,
    /// Locks held per transaction (and whose they are), to release them.
    holders: hashbrown::HashMap<TxId, (Owner, Want)>,
    waiting: hashbrown::HashMap<Handle, Waiting<T>>,
    by_tx: hashbrown::HashMap<TxId, Handle>,
    /// Each owner's requests here (waiting or holding), in arrival order.
    owners: hashbrown::HashMap<Owner, VecDeque<OwnerEntry>>,
    /// Emptied owner queues, kept for reuse (one allocation less per
    /// transaction).
    spare: Vec<VecDeque<OwnerEntry>>,
    /// The candidates of the last [`Locks::pump`], kept for its buffer.
    cands: Vec<Handle>,
    next_handle: Handle,
    next_ord: u64,
}

/// A set of competing requests' orders. They are taken in increasing
/// order, so appending keeps it sorted; it keeps its buffer when empty
/// (a B-tree set allocates a node for its first member, once per
/// transaction on an otherwise idle shard).
#[derive(Default)]
struct Orders(VecDeque<u64>);

impl Orders {
    /// Adds `ord`, larger than every member.
    fn push(&mut self, ord: u64) {
        debug_assert!(self.0.back().is_none_or(|&b| b < ord));
        self.0.push_back(ord);
    }

    fn remove(&mut self, ord: u64) {
        if let Ok(i) = self.0.binary_search(&ord) {
            self.0.remove(i);
        }
    }

    /// The smallest member, `u64::MAX` if none.
    fn first(&self) -> u64 {
        self.0.front().copied().unwrap_or(u64::MAX)
    }
}

/// An entry of an owner's queue.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OwnerEntry {
    Waiting(Handle),
    Holding(TxId),
}

impl<T> Default for Locks<T> {
    fn default() -> Self {
        Locks {
            keys: hashbrown::HashMap::new(),
            shard: Held::default(),
            key_holds: 0,
            key_x_holds: 0,
            shard_s: VecDeque::new(),
            shard_x: VecDeque::new(),
            key_waiters: Orders::default(),
            key_x_waiters: Orders::default(),
            cands: Vec::new(),
            holders: hashbrown::HashMap::new(),
            waiting: hashbrown::HashMap::new(),
            by_tx: hashbrown::HashMap::new(),
            owners: hashbrown::HashMap::new(),
            spare: Vec::new(),
            next_handle: 1,
            next_ord: 1,
        }
    }
}

/// A key request's locks with each key once (a key named twice is locked
/// in the stronger mode). Linear for the few keys of a typical command, a
/// hash map past that.
fn normalize(want: Want) -> Want {
    let Want::Keys(ks) = want else {
        return want;
    };
    if ks.len() < 2 {
        return Want::Keys(ks);
    }
    let mut out = KeyLocks::with_capacity(ks.len());
    if ks.len() <= 16 {
        for k in ks {
            match out.iter_mut().find(|o| o.db == k.db && o.fp == k.fp) {
                Some(o) if k.mode == Mode::Exclusive => o.mode = Mode::Exclusive,
                Some(_) => {}
                None => out.push(k),
            }
        }
        return Want::Keys(out);
    }
    let mut at: hashbrown::HashMap<(u16, u64), usize> = hashbrown::HashMap::new();
    for k in ks {
        match at.get(&(k.db, k.fp)) {
            Some(&i) => {
                if k.mode == Mode::Exclusive {
                    out[i].mode = Mode::Exclusive;
                }
            }
            None => {
                at.insert((k.db, k.fp), out.len());
                out.push(k);
            }
        }
    }
    Want::Keys(out)
}

fn has_exclusive(ks: &[KeyLock]) -> bool {
    ks.iter().any(|k| k.mode == Mode::Exclusive)
}

fn front_ord(q: &VecDeque<(u64, Handle)>) -> u64 {
    q.front().map_or(u64::MAX, |e| e.0)
}

impl<T> Locks<T> {
    /// Nothing held and nothing waiting: every command may run at once
    /// (the single-shard fast path costs this one check).
    #[inline]
    pub fn idle(&self) -> bool {
        self.holders.is_empty() && self.waiting.is_empty()
    }

    /// Whether a request competing with order `ord` (`u64::MAX`: a new
    /// one, behind everyone; orders are unique, so `>=` below means "after
    /// it") may take `want` now; `me` is its handle in
    /// the key FIFOs (0: not queued, so every FIFO must be empty).
    fn eligible(&self, want: &Want, ord: u64, me: Handle) -> bool {
        match want {
            Want::Keys(ks) => {
                let x = has_exclusive(ks);
                // The shard-wide level: intent shared (IS) or exclusive (IX).
                let shard_ok = if x {
                    self.shard.free()
                        && front_ord(&self.shard_s).min(front_ord(&self.shard_x)) >= ord
                } else {
                    !self.shard.exclusive && front_ord(&self.shard_x) >= ord
                };
                shard_ok
                    && ks.iter().all(|k| match self.keys.get(&(k.db, k.fp)) {
                        None => true,
                        Some(n) => {
                            n.held.allows(k.mode)
                                && n.queue.front().is_none_or(|&h| h == me && me != 0)
                        }
                    })
            }
            Want::Shard(m) => {
                self.shard.allows(*m)
                    && match m {
                        Mode::Shared => {
                            self.key_x_holds == 0
                                && front_ord(&self.shard_x) >= ord
                                && self.key_x_waiters.first() >= ord
                        }
                        Mode::Exclusive => {
                            self.key_holds == 0
                                && front_ord(&self.shard_s) >= ord
                                && front_ord(&self.shard_x) >= ord
                                && self.shard_x.front().is_none_or(|e| e.1 == me && me != 0)
                                && self.key_waiters.first() >= ord
                        }
                    }
            }
        }
    }

    /// Whether a new request (one that takes its locks only for an
    /// instant, such as a single-shard command) may run now: its
    /// connection has nothing waiting here and its locks are free.
    pub fn can_run_now(&self, owner: Owner, want: &Want) -> bool {
        self.owners.get(&owner).is_none_or(|q| q.is_empty()) && self.eligible(want, u64::MAX, 0)
    }

    fn take(&mut self, id: TxId, owner: Owner, want: Want) {
        match &want {
            Want::Shard(m) => self.shard.take(*m),
            Want::Keys(ks) => {
                if ks.is_empty() {
                    // Holds nothing; still keeps its owner's order.
                } else {
                    self.key_holds += 1;
                    if has_exclusive(ks) {
                        self.key_x_holds += 1;
                    }
                }
                for k in ks {
                    self.keys.entry((k.db, k.fp)).or_default().held.take(k.mode);
                }
            }
        }
        self.holders.insert(id, (owner, want));
    }

    /// Queues a request at its owner's back; it competes at once if it may.
    fn enqueue(
        &mut self,
        id: TxId,
        owner: Owner,
        want: Want,
        active: bool,
        follows: bool,
        payload: T,
    ) -> Handle {
        let h = self.next_handle;
        self.next_handle += 1;
        self.waiting.insert(
            h,
            Waiting {
                id,
                owner,
                want,
                active,
                follows,
                ord: 0,
                payload,
            },
        );
        if id != 0 {
            self.by_tx.insert(id, h);
        }
        self.owner_queue(owner).push_back(OwnerEntry::Waiting(h));
        self.maybe_compete(h);
        h
    }

    /// Takes `want` for transaction `id` now if it may be granted; else
    /// queues it (active or not) with `payload`, appending what this
    /// grants to `granted` (only `id` itself can be). `follows`: see
    /// [`crate::msg::TxInfo::follows`].
    #[allow(clippy::too_many_arguments)]
    pub fn acquire(
        &mut self,
        id: TxId,
        owner: Owner,
        want: Want,
        active: bool,
        follows: bool,
        payload: T,
        granted: &mut Vec<(TxId, T)>,
    ) {
        let want = normalize(want);
        // The uncontended case: it would compete at once and nothing is
        // queued or held against it, so it holds its locks straight away
        // (what queueing and pumping would conclude, without the queues).
        if active && self.competes_at_once(owner, follows) && self.eligible(&want, u64::MAX, 0) {
            self.take(id, owner, want);
            self.owner_queue(owner).push_back(OwnerEntry::Holding(id));
            granted.push((id, payload));
            return;
        }
        let h = self.enqueue(id, owner, want, active, follows, payload);
        self.pump_from(h, granted);
    }

    /// Whether a new active request of `owner` would compete at once: its
    /// owner has nothing here, or (if it follows) only holders.
    fn competes_at_once(&self, owner: Owner, follows: bool) -> bool {
        match self.owners.get(&owner) {
            None => true,
            Some(q) => {
                q.is_empty() || (follows && q.iter().all(|e| matches!(e, OwnerEntry::Holding(_))))
            }
        }
    }

    /// `owner`'s queue, made (from the spares) if it has none.
    fn owner_queue(&mut self, owner: Owner) -> &mut VecDeque<OwnerEntry> {
        let spare = &mut self.spare;
        self.owners
            .entry(owner)
            .or_insert_with(|| spare.pop().unwrap_or_default())
    }

    /// Drops `owner`'s queue if it is empty, keeping its allocation.
    fn drop_owner_if_empty(&mut self, owner: Owner) {
        if self.owners.get(&owner).is_some_and(|q| q.is_empty()) {
            if let Some(q) = self.owners.remove(&owner) {
                if self.spare.len() < 256 {
                    self.spare.push(q);
                }
            }
        }
    }

    /// Queues a request that will take no lock when granted (a parked
    /// single-shard command: it runs at its grant and is done).
    pub fn park(&mut self, owner: Owner, want: Want, payload: T, granted: &mut Vec<(TxId, T)>) {
        let h = self.enqueue(0, owner, normalize(want), true, false, payload);
        self.pump_from(h, granted);
    }

    /// Whether waiting request `h` is where it may compete in its owner's
    /// queue: at the front; or, if it follows, behind only requests that
    /// hold their locks.
    fn may_compete(&self, h: Handle) -> bool {
        let Some(w) = self.waiting.get(&h) else {
            return false;
        };
        let first_waiting = self.owners.get(&w.owner).and_then(|q| {
            q.iter()
                .position(|e| matches!(e, OwnerEntry::Waiting(_)))
                .map(|i| (i, q[i]))
        });
        match first_waiting {
            Some((i, e)) => e == OwnerEntry::Waiting(h) && (i == 0 || w.follows),
            None => false,
        }
    }

    /// Starts request `h` competing if it is active, at its owner's front
    /// and not competing yet.
    fn maybe_compete(&mut self, h: Handle) {
        let Some(w) = self.waiting.get(&h) else {
            return;
        };
        if !w.active || w.ord != 0 || !self.may_compete(h) {
            return;
        }
        let ord = self.next_ord;
        self.next_ord += 1;
        let Some(w) = self.waiting.get_mut(&h) else {
            return;
        };
        w.ord = ord;
        match &w.want {
            Want::Shard(Mode::Shared) => self.shard_s.push_back((ord, h)),
            Want::Shard(Mode::Exclusive) => self.shard_x.push_back((ord, h)),
            Want::Keys(ks) => {
                if !ks.is_empty() {
                    self.key_waiters.push(ord);
                    if has_exclusive(ks) {
                        self.key_x_waiters.push(ord);
                    }
                }
                for k in ks {
                    self.keys
                        .entry((k.db, k.fp))
                        .or_default()
                        .queue
                        .push_back(h);
                }
            }
        }
    }

    /// Takes waiting request `h` out of the competing structures (not its
    /// owner's queue). Returns the candidates its leaving may unblock.
    fn uncompete(&mut self, h: Handle, cands: &mut Vec<Handle>) {
        let Some(w) = self.waiting.get(&h) else {
            return;
        };
        let ord = w.ord;
        if ord == 0 {
            return;
        }
        match &w.want {
            Want::Shard(m) => {
                let q = if *m == Mode::Shared {
                    &mut self.shard_s
                } else {
                    &mut self.shard_x
                };
                if let Some(i) = q.iter().position(|e| e.1 == h) {
                    q.remove(i);
                }
                // Key requests queued behind it may go now.
                self.all_key_fronts(cands);
                self.shard_fronts(cands);
            }
            Want::Keys(ks) => {
                self.key_waiters.remove(ord);
                self.key_x_waiters.remove(ord);
                for k in ks {
                    let slot = (k.db, k.fp);
                    if let Some(n) = self.keys.get_mut(&slot) {
                        if let Some(i) = n.queue.iter().position(|&x| x == h) {
                            n.queue.remove(i);
                        }
                        if let Some(&f) = n.queue.front() {
                            cands.push(f);
                        }
                        if n.held.free() && n.queue.is_empty() {
                            self.keys.remove(&slot);
                        }
                    }
                }
                self.shard_fronts(cands);
            }
        }
    }

    fn shard_fronts(&self, cands: &mut Vec<Handle>) {
        // Shared shard-wide requests do not conflict with each other: any
        // of them may go once the exclusive ones before it are done.
        let x = front_ord(&self.shard_x);
        cands.extend(self.shard_s.iter().take_while(|e| e.0 < x).map(|e| e.1));
        if let Some(e) = self.shard_x.front() {
            cands.push(e.1);
        }
    }

    fn all_key_fronts(&self, cands: &mut Vec<Handle>) {
        cands.extend(self.keys.values().filter_map(|n| n.queue.front().copied()));
    }

    /// [`Locks::pump`] from the one candidate `h`.
    fn pump_from(&mut self, h: Handle, granted: &mut Vec<(TxId, T)>) {
        let mut cands = std::mem::take(&mut self.cands);
        cands.clear();
        cands.push(h);
        self.pump(cands, granted);
    }

    /// Grants, front to back, what the candidates (and what each grant
    /// unblocks) allow, appending grants to `granted`; keeps the emptied
    /// candidates' buffer for the next time.
    fn pump(&mut self, mut cands: Vec<Handle>, granted: &mut Vec<(TxId, T)>) {
        while let Some(h) = cands.pop() {
            let Some(w) = self.waiting.get(&h) else {
                continue;
            };
            if w.ord == 0 || !self.eligible(&w.want, w.ord, h) {
                continue;
            }
            self.uncompete(h, &mut cands);
            let Some(w) = self.waiting.remove(&h) else {
                continue;
            };
            let owner = w.owner;
            if w.id != 0 {
                // A transaction keeps its owner's place until released.
                self.by_tx.remove(&w.id);
                let q = self.owner_queue(owner);
                if let Some(e) = q.iter_mut().find(|e| **e == OwnerEntry::Waiting(h)) {
                    *e = OwnerEntry::Holding(w.id);
                }
                self.take(w.id, owner, w.want);
                // A request that follows it may compete now.
                self.owner_next(owner, &mut cands);
            } else {
                let q = self.owner_queue(owner);
                if let Some(i) = q.iter().position(|e| *e == OwnerEntry::Waiting(h)) {
                    q.remove(i);
                }
                self.owner_next(owner, &mut cands);
            }
            granted.push((w.id, w.payload));
        }
        self.cands = cands;
    }

    /// The owner's queue changed: its first waiting request may compete
    /// (see [`Locks::maybe_compete`] for when).
    fn owner_next(&mut self, owner: Owner, cands: &mut Vec<Handle>) {
        let next = match self.owners.get(&owner) {
            None => return,
            Some(q) if q.is_empty() => {
                self.drop_owner_if_empty(owner);
                return;
            }
            Some(q) => q.iter().find_map(|e| match e {
                OwnerEntry::Waiting(h) => Some(*h),
                OwnerEntry::Holding(_) => None,
            }),
        };
        if let Some(h) = next {
            self.maybe_compete(h);
            cands.push(h);
        }
    }

    /// Marks transaction `id`'s waiting request active (it now holds every
    /// lower shard) and grants what can be granted. Returns false if `id`
    /// has no request here yet.
    pub fn activate(&mut self, id: TxId, granted: &mut Vec<(TxId, T)>) -> bool {
        let Some(&h) = self.by_tx.get(&id) else {
            return false;
        };
        if let Some(w) = self.waiting.get_mut(&h) {
            w.active = true;
        }
        if self.may_compete(h)
            && self
                .waiting
                .get(&h)
                .is_some_and(|w| w.ord == 0 && self.eligible(&w.want, u64::MAX, 0))
        {
            // Uncontended (as in `acquire`): it takes its locks without
            // passing through the key queues.
            if let Some(w) = self.waiting.remove(&h) {
                self.by_tx.remove(&id);
                let q = self.owner_queue(w.owner);
                if let Some(e) = q.iter_mut().find(|e| **e == OwnerEntry::Waiting(h)) {
                    *e = OwnerEntry::Holding(id);
                }
                self.take(id, w.owner, w.want);
                granted.push((id, w.payload));
                let mut cands = std::mem::take(&mut self.cands);
                cands.clear();
                self.owner_next(w.owner, &mut cands);
                self.pump(cands, granted);
            }
            return true;
        }
        self.maybe_compete(h);
        self.pump_from(h, granted);
        true
    }

    /// Whether transaction `id` holds its locks here.
    pub fn holds(&self, id: TxId) -> bool {
        self.holders.contains_key(&id)
    }

    /// Releases transaction `id`'s locks (or forgets its waiting request)
    /// and grants what can be granted now, appending the grants to
    /// `granted` (`(0, payload)` for a parked command).
    pub fn release(&mut self, id: TxId, granted: &mut Vec<(TxId, T)>) {
        let mut cands = std::mem::take(&mut self.cands);
        cands.clear();
        let entry;
        let owner;
        if let Some((o, want)) = self.holders.remove(&id) {
            match want {
                Want::Shard(m) => {
                    self.shard.give(m);
                    self.all_key_fronts(&mut cands);
                    self.shard_fronts(&mut cands);
                }
                Want::Keys(ks) => {
                    if !ks.is_empty() {
                        self.key_holds -= 1;
                        if has_exclusive(&ks) {
                            self.key_x_holds -= 1;
                            if self.key_x_holds == 0 {
                                self.shard_fronts(&mut cands);
                            }
                        }
                        if self.key_holds == 0 {
                            self.shard_fronts(&mut cands);
                        }
                    }
                    for k in ks {
                        let slot = (k.db, k.fp);
                        if let Some(n) = self.keys.get_mut(&slot) {
                            n.held.give(k.mode);
                            if let Some(&f) = n.queue.front() {
                                cands.push(f);
                            } else if n.held.free() {
                                self.keys.remove(&slot);
                            }
                        }
                    }
                }
            }
            entry = OwnerEntry::Holding(id);
            owner = Some(o);
        } else if let Some(h) = self.by_tx.remove(&id) {
            self.uncompete(h, &mut cands);
            entry = OwnerEntry::Waiting(h);
            owner = self.waiting.remove(&h).map(|w| w.owner);
        } else {
            return;
        }
        if let Some(owner) = owner {
            if let Some(q) = self.owners.get_mut(&owner) {
                if let Some(i) = q.iter().position(|e| *e == entry) {
                    q.remove(i);
                }
            }
            self.owner_next(owner, &mut cands);
        }
        self.pump(cands, granted);
    }

    /// Requests waiting (for INFO and tests).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(ks: &[(&str, Mode)]) -> Want {
        Want::Keys(
            ks.iter()
                .map(|(k, m)| KeyLock::new(0, k.as_bytes(), *m))
                .collect(),
        )
    }

    use Mode::{Exclusive as X, Shared as S};

    /// Acquires; returns the payload if granted at once.
    fn acq(
        l: &mut Locks<&'static str>,
        id: TxId,
        owner: Owner,
        want: Want,
        active: bool,
        p: &'static str,
    ) -> Option<&'static str> {
        let mut g = Vec::new();
        l.acquire(id, owner, want, active, false, p, &mut g);
        assert!(g.len() <= 1);
        g.pop().map(|(i, p)| {
            assert_eq!(i, id);
            p
        })
    }

    #[test]
    fn conflicts_wait_and_are_granted_in_order() {
        let mut l: Locks<&'static str> = Locks::default();
        assert!(l.idle());
        assert_eq!(
            acq(&mut l, 1, (0, 1), keys(&[("a", X)]), true, "t1"),
            Some("t1")
        );
        // Readers of another key pass; a reader of `a` waits.
        assert!(l.can_run_now((0, 9), &keys(&[("b", S)])));
        assert!(!l.can_run_now((0, 9), &keys(&[("a", S)])));
        assert_eq!(acq(&mut l, 2, (0, 2), keys(&[("a", S)]), true, "t2"), None);
        assert_eq!(acq(&mut l, 3, (0, 3), keys(&[("a", S)]), true, "t3"), None);
        // A writer after them waits behind them, though `c` is free.
        assert_eq!(
            acq(&mut l, 4, (0, 4), keys(&[("a", X), ("c", X)]), true, "t4"),
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
        let mut l: Locks<&'static str> = Locks::default();
        // Not yet holding its lower shards: waits, blocks nobody else.
        assert_eq!(acq(&mut l, 1, (0, 1), keys(&[("a", X)]), false, "t1"), None);
        assert_eq!(
            acq(&mut l, 2, (0, 2), keys(&[("a", X)]), true, "t2"),
            Some("t2")
        );
        // But its own connection's later commands wait behind it.
        assert!(!l.can_run_now((0, 1), &keys(&[("z", S)])));
        let mut g = Vec::new();
        l.park((0, 1), keys(&[("z", S)]), "later", &mut g);
        assert!(g.is_empty());
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
    fn commands_behind_a_waiting_transaction_block_nobody() {
        let mut l: Locks<&'static str> = Locks::default();
        // A's transaction waits for its token; A's next command waits
        // behind it without competing, so B's transaction on the same key
        // is granted (otherwise B, holding lower shards, would wait for a
        // command that waits for A's lower shards: a deadlock).
        assert_eq!(acq(&mut l, 1, (0, 1), keys(&[("a", X)]), false, "tA"), None);
        let mut g = Vec::new();
        l.park((0, 1), keys(&[("b", X)]), "A later", &mut g);
        assert!(g.is_empty());
        assert_eq!(
            acq(&mut l, 2, (0, 2), keys(&[("b", X)]), true, "tB"),
            Some("tB")
        );
        l.release(2, &mut g);
        assert!(g.is_empty(), "A's command still waits for its transaction");
        assert!(l.activate(1, &mut g));
        assert_eq!(g, vec![(1, "tA")]);
        g.clear();
        l.release(1, &mut g);
        assert_eq!(g, vec![(0, "A later")]);
        assert!(l.idle());
    }

    #[test]
    fn a_following_transaction_is_granted_behind_a_holding_one() {
        let mut l: Locks<&'static str> = Locks::default();
        let mut g = Vec::new();
        l.acquire(1, (0, 1), keys(&[("a", X)]), true, false, "t1", &mut g);
        assert_eq!(g, vec![(1, "t1")]);
        g.clear();
        // Same connection, split over the same shards: granted while t1
        // holds (no conflict); a conflicting one still waits for the keys.
        l.acquire(2, (0, 1), keys(&[("b", X)]), true, true, "t2", &mut g);
        assert_eq!(g, vec![(2, "t2")]);
        g.clear();
        l.acquire(3, (0, 1), keys(&[("a", S)]), true, true, "t3", &mut g);
        assert!(g.is_empty(), "t3 reads what t1 writes");
        // One that does not follow, and a single-shard command, wait for
        // everything before them to let go.
        l.acquire(4, (0, 1), keys(&[("z", X)]), true, false, "t4", &mut g);
        l.park((0, 1), keys(&[("y", S)]), "cmd", &mut g);
        assert!(g.is_empty());
        l.release(1, &mut g);
        assert_eq!(g, vec![(3, "t3")]);
        g.clear();
        l.release(2, &mut g);
        assert!(g.is_empty(), "t3 still holds");
        l.release(3, &mut g);
        assert_eq!(g, vec![(4, "t4")]);
        g.clear();
        l.release(4, &mut g);
        assert_eq!(g, vec![(0, "cmd")]);
        assert!(l.idle());
    }

    #[test]
    fn many_waiters_are_granted_front_to_back() {
        let mut l: Locks<u32> = Locks::default();
        let mut g = Vec::new();
        l.acquire(1, (0, 0), keys(&[("a", X)]), true, false, 0, &mut g);
        assert_eq!(g.len(), 1);
        g.clear();
        for i in 1..=20_000u32 {
            let m = if i % 1000 == 0 { X } else { S };
            l.park((1, i as u64), keys(&[("a", m)]), i, &mut g);
        }
        assert!(g.is_empty());
        l.release(1, &mut g);
        let got: Vec<u32> = g.iter().map(|(_, p)| *p).collect();
        assert_eq!(
            got,
            (1..=20_000).collect::<Vec<_>>(),
            "parked commands hold nothing"
        );
        assert!(l.idle());
    }

    #[test]
    fn shard_locks() {
        let mut l: Locks<&'static str> = Locks::default();
        assert!(acq(&mut l, 1, (0, 1), keys(&[("a", S)]), true, "r").is_some());
        assert!(acq(&mut l, 2, (0, 2), Want::Shard(S), true, "scan").is_some());
        assert!(acq(&mut l, 3, (0, 3), Want::Shard(X), true, "flush").is_none());
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
