//! The stream value (<https://redis.io/docs/latest/develop/data-types/streams/>):
//! entries ordered by ID in nodes that are Redis's own listpacks, and the
//! consumer groups with their pending entries lists (PEL).
//!
//! Follows Redis 7.0's `t_stream.c` and `stream.h`. Nodes are keyed by
//! their master ID in a `BTreeMap` (Redis's radix tree of 128-bit
//! big-endian IDs orders them the same way). A node holds, as Redis
//! writes it (`streamAppendItem`):
//!
//! ```text
//! count | deleted | num-fields | field_1 .. field_N | 0          (master entry)
//! flags | ms-diff | seq-diff | [num-fields field value ..] | values .. | lp-count
//! ```
//!
//! IDs are stored as differences from the master ID; an entry whose fields
//! are the master's (flag `SAMEFIELDS`) stores its values only; deletion
//! only flags an entry (`DELETED`) until its node empties. New nodes start
//! when the last one reaches `stream-node-max-bytes` or
//! `stream-node-max-entries`, with Redis's exact test, so `~` trims cut the
//! same nodes as Redis's and a stream costs the same bytes per entry.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::listpack::{self as lp, Elem};

/// Entry flag: deleted (`STREAM_ITEM_FLAG_DELETED`).
pub const FLAG_DELETED: i64 = 1;
/// Entry flag: same fields as the master entry (`STREAM_ITEM_FLAG_SAMEFIELDS`).
pub const FLAG_SAMEFIELDS: i64 = 2;
/// Largest listpack a node may grow to (`STREAM_LISTPACK_MAX_SIZE`, 1 GiB).
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;
/// `entries_read` when unknown (`SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

/// A stream entry ID, `<ms>-<seq>`, ordered as Redis compares them.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> StreamId {
        StreamId { ms, seq }
    }

    /// The next ID (`streamIncrID`); None past the largest.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// The previous ID (`streamDecrID`); None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// `<ms>-<seq>` in `buf`, returned as a slice of it.
    pub fn format(self, buf: &mut [u8; 41]) -> &[u8] {
        let mut a = itoa::Buffer::new();
        let ms = a.format(self.ms).as_bytes();
        let n = ms.len();
        buf[..n].copy_from_slice(ms);
        buf[n] = b'-';
        let mut b = itoa::Buffer::new();
        let seq = b.format(self.seq).as_bytes();
        buf[n + 1..n + 1 + seq.len()].copy_from_slice(seq);
        &buf[..n + 1 + seq.len()]
    }

    /// The 16-byte big-endian form Redis keys its radix trees by
    /// (`streamEncodeID`), as RDB files store it.
    pub fn encode(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    /// The inverse of [`StreamId::encode`]; None unless 16 bytes.
    pub fn decode(b: &[u8]) -> Option<StreamId> {
        let b: &[u8; 16] = b.try_into().ok()?;
        let (ms, seq) = b.split_at(8);
        Some(StreamId::new(
            u64::from_be_bytes(ms.try_into().ok()?),
            u64::from_be_bytes(seq.try_into().ok()?),
        ))
    }
}

/// A pending entry: delivered to a consumer, not yet acknowledged.
#[derive(Clone, Debug, PartialEq)]
pub struct Nack {
    /// Unix ms of the last delivery.
    pub delivery_time: u64,
    pub delivery_count: u64,
    /// The consumer that owns it (a key of [`Group::consumers`]).
    pub consumer: Bytes,
}

/// A consumer of a group.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Consumer {
    /// Unix ms it was last seen (read, claimed or created).
    pub seen_time: u64,
    /// The IDs of the group's PEL it owns.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group (`streamCG`).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Last ID delivered to any of its consumers.
    pub last_id: StreamId,
    /// Entries the group read, [`INVALID_ENTRIES_READ`] if unknown.
    pub entries_read: i64,
    pub pel: BTreeMap<StreamId, Nack>,
    /// By name, in the byte order Redis's radix tree lists them.
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Removes `id` from the PEL and from its owner's list; true if it
    /// was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Gives pending entry `id` to `consumer` (which must exist), taking
    /// it from its previous owner.
    pub fn give(&mut self, id: StreamId, consumer: &Bytes) {
        let Some(n) = self.pel.get_mut(&id) else {
            return;
        };
        if n.consumer != *consumer {
            if let Some(c) = self.consumers.get_mut(&n.consumer) {
                c.pel.remove(&id);
            }
            n.consumer = consumer.clone();
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// The parsed master entry of a node.
struct Head<'a> {
    count: i64,
    deleted: i64,
    fields: Vec<Elem<'a>>,
    /// Position of the first entry after the master entry.
    first: usize,
}

/// Listpack position of the master entry's `count` (after the header).
const COUNT_POS: usize = 6;

fn head(node: &[u8]) -> Head<'_> {
    let (count, p) = lp::get(node, COUNT_POS);
    let (deleted, p) = lp::get(node, p);
    let (nf, mut p) = lp::get(node, p);
    let mut fields = Vec::with_capacity(nf.int().max(0) as usize);
    for _ in 0..nf.int() {
        let (f, q) = lp::get(node, p);
        fields.push(f);
        p = q;
    }
    // The master entry's zero terminator.
    let p = lp::next(node, p);
    Head {
        count: count.int(),
        deleted: deleted.int(),
        fields,
        first: p,
    }
}

/// A node's live count, and whether the master entry's fields are those
/// of `pairs` (field, value, ...), read without collecting them.
fn same_fields(node: &[u8], pairs: &[Bytes]) -> (i64, bool) {
    let (count, p) = lp::get(node, COUNT_POS);
    let p = lp::next(node, p);
    let (nf, mut p) = lp::get(node, p);
    if nf.int() as usize != pairs.len() / 2 {
        return (count.int(), false);
    }
    for i in 0..pairs.len() / 2 {
        let (f, q) = lp::get(node, p);
        if !f.eq_bytes(&pairs[2 * i]) {
            return (count.int(), false);
        }
        p = q;
    }
    (count.int(), true)
}

/// One decoded entry of a node.
struct Decoded {
    flags: i64,
    id: StreamId,
    /// Position of its flags element.
    at: usize,
    next: usize,
}

/// Decodes the entry at `pos`, its fields and values into `out` (cleared)
/// when `out` is given.
fn decode<'a>(
    node: &'a [u8],
    pos: usize,
    master: StreamId,
    h: &Head<'a>,
    out: Option<&mut Vec<(Elem<'a>, Elem<'a>)>>,
) -> Decoded {
    let (flags, p) = lp::get(node, pos);
    let (msd, p) = lp::get(node, p);
    let (seqd, mut p) = lp::get(node, p);
    let flags = flags.int();
    let id = StreamId::new(
        master.ms.wrapping_add(msd.int() as u64),
        master.seq.wrapping_add(seqd.int() as u64),
    );
    let same = flags & FLAG_SAMEFIELDS != 0;
    let n = if same {
        h.fields.len()
    } else {
        let (n, q) = lp::get(node, p);
        p = q;
        n.int().max(0) as usize
    };
    match out {
        Some(out) => {
            out.clear();
            for i in 0..n {
                let f = if same {
                    h.fields[i]
                } else {
                    let (f, q) = lp::get(node, p);
                    p = q;
                    f
                };
                let (v, q) = lp::get(node, p);
                p = q;
                out.push((f, v));
            }
        }
        None => {
            for _ in 0..(if same { n } else { 2 * n }) {
                p = lp::next(node, p);
            }
        }
    }
    // lp-count.
    let next = lp::next(node, p);
    Decoded {
        flags,
        id,
        at: pos,
        next,
    }
}

/// The fields and values of one entry, as a range visits them.
pub type Fields<'a> = [(Elem<'a>, Elem<'a>)];

/// A stream (`stream` in `stream.h`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stream {
    /// Master ID → node listpack.
    nodes: BTreeMap<StreamId, Vec<u8>>,
    /// Live entries.
    pub length: u64,
    /// The largest ID ever added (or set by XSETID).
    pub last_id: StreamId,
    /// The first live entry's ID, 0-0 when empty.
    pub first_id: StreamId,
    /// The largest ID deleted by XDEL (or set by XSETID).
    pub max_deleted_id: StreamId,
    /// Entries ever added.
    pub entries_added: u64,
    /// By name, in the byte order Redis's radix tree lists them.
    pub groups: BTreeMap<Bytes, Group>,
}

/// Node limits (`stream-node-max-bytes`, `stream-node-max-entries`).
#[derive(Clone, Copy, Debug)]
pub struct NodeLimits {
    pub max_bytes: usize,
    pub max_entries: i64,
}

impl Stream {
    /// Nodes (XINFO's `radix-tree-keys`).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes in ID order: master ID and listpack (RDB, DUMP).
    pub fn nodes(&self) -> impl Iterator<Item = (StreamId, &[u8])> {
        self.nodes.iter().map(|(k, v)| (*k, &v[..]))
    }

    /// Heap bytes, for INFO memory.
    pub fn heap_size(&self) -> usize {
        self.nodes
            .values()
            .map(|n| n.capacity() + 48)
            .sum::<usize>()
            + self
                .groups
                .values()
                .map(|g| 64 + g.pel.len() * 64 + g.consumers.len() * 64)
                .sum::<usize>()
    }

    /// Appends an entry with ID `id` (already checked to exceed
    /// `last_id`) and `pairs` (field, value, field, value...), as
    /// `streamAppendItem` does.
    pub fn append(&mut self, id: StreamId, pairs: &[Bytes], limits: NodeLimits) {
        let numfields = pairs.len() / 2;
        let totelelen: usize = pairs.iter().map(|p| p.len()).sum();
        let mut node_max_bytes = limits.max_bytes;
        if node_max_bytes == 0 || node_max_bytes > LISTPACK_MAX_SIZE {
            node_max_bytes = LISTPACK_MAX_SIZE;
        }
        let mut tail = self.nodes.last_key_value().map(|(k, _)| *k);
        if let Some(k) = tail {
            let node = &self.nodes[&k];
            let full = if node.len() + totelelen >= node_max_bytes {
                true
            } else if limits.max_entries != 0 {
                let (count, p) = lp::get(node, COUNT_POS);
                let (deleted, _) = lp::get(node, p);
                count.int() + deleted.int() >= limits.max_entries
            } else {
                false
            };
            if full {
                // A closed node moves to an allocation of its exact size
                // (Redis's `lpShrinkToFit`); the larger one it leaves is
                // what the next node's reservation reuses.
                if let Some(n) = self.nodes.get_mut(&k) {
                    *n = n.as_slice().to_vec();
                }
                tail = None;
            }
        }
        let mut flags = 0;
        let master = match tail {
            None => {
                let mut node = lp::new();
                node.reserve(node_max_bytes.min(4096));
                lp::extend(&mut node, numfields + 4, |b| {
                    lp::append_int(b, 1);
                    lp::append_int(b, 0);
                    lp::append_int(b, numfields as i64);
                    for i in 0..numfields {
                        lp::listpack_entry(b, &pairs[2 * i]);
                    }
                    lp::append_int(b, 0);
                });
                self.nodes.insert(id, node);
                flags |= FLAG_SAMEFIELDS;
                id
            }
            Some(k) => {
                let node = self.nodes.get_mut(&k).expect("tail node");
                let (count, same) = same_fields(node, pairs);
                if same {
                    flags |= FLAG_SAMEFIELDS;
                }
                lp::replace_int(node, COUNT_POS, count + 1);
                lp::seal(node);
                k
            }
        };
        let node = self.nodes.get_mut(&master).expect("tail node");
        let same = flags & FLAG_SAMEFIELDS != 0;
        let added = 3 + numfields + if same { 0 } else { numfields + 1 } + 1;
        lp::extend(node, added, |b| {
            lp::append_int(b, flags);
            lp::append_int(b, id.ms.wrapping_sub(master.ms) as i64);
            lp::append_int(b, id.seq.wrapping_sub(master.seq) as i64);
            if !same {
                lp::append_int(b, numfields as i64);
            }
            for i in 0..numfields {
                if !same {
                    lp::listpack_entry(b, &pairs[2 * i]);
                }
                lp::listpack_entry(b, &pairs[2 * i + 1]);
            }
            let lp_count = 3 + numfields + if same { 0 } else { numfields + 1 };
            lp::append_int(b, lp_count as i64);
        });
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
    }

    /// Visits the entries with `start <= id <= end` in order (reversed if
    /// `rev`), live ones only unless `tombstones`, until `f` returns false.
    /// Returns how many entries `f` saw.
    pub fn range<'s>(
        &'s self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        tombstones: bool,
        mut f: impl FnMut(StreamId, &Fields<'s>) -> bool,
    ) -> usize {
        let mut seen = 0;
        if start > end {
            return 0;
        }
        let mut fields = Vec::new();
        if !rev {
            // The node holding `start` is the last one keyed at or before it.
            let from = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(StreamId::MIN);
            for (&master, node) in self.nodes.range(from..) {
                if master > end {
                    break;
                }
                let h = head(node);
                let mut p = h.first;
                while node[p] != 0xFF {
                    let d = decode(node, p, master, &h, Some(&mut fields));
                    p = d.next;
                    if d.id > end {
                        return seen;
                    }
                    if d.id < start || (!tombstones && d.flags & FLAG_DELETED != 0) {
                        continue;
                    }
                    seen += 1;
                    if !f(d.id, &fields) {
                        return seen;
                    }
                }
            }
        } else {
            let mut at = Vec::new();
            for (&master, node) in self.nodes.range(..=end).rev() {
                let h = head(node);
                at.clear();
                let mut p = h.first;
                while node[p] != 0xFF {
                    at.push(p);
                    p = decode(node, p, master, &h, None).next;
                }
                for &p in at.iter().rev() {
                    let d = decode(node, p, master, &h, Some(&mut fields));
                    if d.id < start {
                        return seen;
                    }
                    if d.id > end || (!tombstones && d.flags & FLAG_DELETED != 0) {
                        continue;
                    }
                    seen += 1;
                    if !f(d.id, &fields) {
                        return seen;
                    }
                }
            }
        }
        seen
    }

    /// Whether live entry `id` exists (`streamEntryExists`).
    pub fn contains(&self, id: StreamId) -> bool {
        self.range(id, id, false, false, |_, _| false) == 1
    }

    /// The first (or last) entry's ID, tombstones included if asked;
    /// `MAX` (first) or `MIN` (last) when there is none
    /// (`streamGetEdgeID`).
    pub fn edge_id(&self, first: bool, tombstones: bool) -> StreamId {
        let mut found = None;
        self.range(StreamId::MIN, StreamId::MAX, !first, tombstones, |id, _| {
            found = Some(id);
            false
        });
        found.unwrap_or(if first { StreamId::MAX } else { StreamId::MIN })
    }

    /// The last live entry's ID (`streamLastValidID`), 0-0 if none.
    pub fn last_valid_id(&self) -> StreamId {
        self.edge_id(false, false)
    }

    /// Flags live entry `id` deleted (`streamDeleteItem`); true if it was
    /// there. Does not touch `first_id` or `max_deleted_id` (XDEL does).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let h = head(node);
        let mut p = h.first;
        let mut found = None;
        while node[p] != 0xFF {
            let d = decode(node, p, master, &h, None);
            if d.id == id && d.flags & FLAG_DELETED == 0 {
                found = Some(d);
                break;
            }
            if d.id > id {
                break;
            }
            p = d.next;
        }
        let Some(d) = found else {
            return false;
        };
        let (count, deleted) = (h.count, h.deleted);
        if count == 1 {
            self.nodes.remove(&master);
        } else {
            // The flag stays one byte (0..3): nothing moves.
            lp::replace_int(node, d.at, d.flags | FLAG_DELETED);
            lp::replace_int(node, COUNT_POS, count - 1);
            let dp = lp::next(node, COUNT_POS);
            lp::replace_int(node, dp, deleted + 1);
            lp::seal(node);
        }
        self.length -= 1;
        true
    }

    /// Trims from the head (`streamTrim`): to at most `maxlen` entries,
    /// or (`minid`) below that ID. `approx` removes whole nodes only;
    /// `limit` (0 = none) caps the entries removed. Returns how many.
    pub fn trim(&mut self, maxlen: Option<u64>, minid: StreamId, approx: bool, limit: i64) -> i64 {
        let mut deleted: i64 = 0;
        let mut cursor = StreamId::MIN;
        loop {
            let Some((&master, _)) = self.nodes.range(cursor..).next() else {
                break;
            };
            if let Some(m) = maxlen {
                if self.length <= m {
                    break;
                }
            }
            let node = self.nodes.get_mut(&master).expect("node");
            let h = head(node);
            let entries = h.count;
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove = match maxlen {
                Some(m) => self.length - entries as u64 >= m,
                None => {
                    // The node's last ID, tombstones included.
                    let mut p = h.first;
                    let mut last = master;
                    while node[p] != 0xFF {
                        let d = decode(node, p, master, &h, None);
                        last = d.id;
                        p = d.next;
                    }
                    last < minid
                }
            };
            if remove {
                self.nodes.remove(&master);
                self.length -= entries as u64;
                deleted += entries;
                cursor = master;
                continue;
            }
            if approx {
                break;
            }
            let mut from_node = 0i64;
            let mut p = h.first;
            let mut flips = Vec::new();
            while node[p] != 0xFF {
                let d = decode(node, p, master, &h, None);
                let stop = match maxlen {
                    Some(m) => self.length <= m,
                    None => d.id >= minid,
                };
                if stop {
                    break;
                }
                if d.flags & FLAG_DELETED == 0 {
                    flips.push((d.at, d.flags | FLAG_DELETED));
                    from_node += 1;
                    self.length -= 1;
                }
                p = d.next;
            }
            let (count, marked) = (h.count, h.deleted);
            for (at, flags) in flips {
                lp::replace_int(node, at, flags);
            }
            lp::replace_int(node, COUNT_POS, count - from_node);
            let dp = lp::next(node, COUNT_POS);
            lp::replace_int(node, dp, marked + from_node);
            lp::seal(node);
            deleted += from_node;
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted != 0 {
            self.first_id = self.edge_id(true, false);
        }
        deleted
    }

    /// Whether a deleted entry may lie in `start..=end` (`None` = to the
    /// end), per `max_deleted_id` (`streamRangeHasTombstones`).
    pub fn range_has_tombstones(&self, start: StreamId, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_id {
            return false;
        }
        start <= self.max_deleted_id && self.max_deleted_id <= end.unwrap_or(StreamId::MAX)
    }

    /// How many entries came before and up to `id` since the stream began,
    /// or [`INVALID_ENTRIES_READ`] when that cannot be known
    /// (`streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimate_distance(&self, id: StreamId) -> i64 {
        let added = self.entries_added as i64;
        if added == 0 {
            return 0;
        }
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        } else if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        if self.max_deleted_id.is_zero() || self.max_deleted_id < self.first_id {
            if id < self.first_id {
                return added - self.length as i64;
            } else if id == self.first_id {
                return added - self.length as i64 + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag, None when unknown (`streamReplyWithCGLag`).
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(g.last_id, None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_distance(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - read)
    }

    /// Adds a node read from an RDB payload as it was (the caller checked
    /// its layout with [`check_node`]).
    pub fn load_node(&mut self, master: StreamId, node: Vec<u8>) {
        self.nodes.insert(master, node);
    }

    /// The last node's master ID.
    pub fn last_node(&self) -> Option<StreamId> {
        self.nodes.last_key_value().map(|(k, _)| *k)
    }
}

/// Checks a node listpack from an RDB payload (already checked as a
/// listpack by `rdb`) the way `streamValidateListpackIntegrity` does with
/// deep checks: the master entry, every entry's shape and lp-count, IDs
/// ascending after `master`, the counts. Returns its live entries and the
/// IDs of its first and last entries, or None if it is malformed.
pub fn check_node(items: &[Elem], master: StreamId) -> Option<(u64, StreamId)> {
    let int = |i: usize| -> Option<i64> {
        match items.get(i)? {
            Elem::Int(v) => Some(*v),
            Elem::Str(_) => None,
        }
    };
    let count = int(0)?;
    let deleted = int(1)?;
    let nf = int(2)?;
    if count < 0 || deleted < 0 || nf < 0 {
        return None;
    }
    let nf = nf as usize;
    let mut i = 3usize.checked_add(nf)?;
    if int(i)? != 0 {
        return None;
    }
    i += 1;
    let (mut live, mut dead) = (0i64, 0i64);
    let mut last = None::<StreamId>;
    while i < items.len() {
        let start = i;
        let flags = int(i)?;
        let id = StreamId::new(
            master.ms.wrapping_add(int(i + 1)? as u64),
            master.seq.wrapping_add(int(i + 2)? as u64),
        );
        if last.is_some_and(|l| id <= l) || id < master {
            return None;
        }
        last = Some(id);
        i += 3;
        let n = if flags & FLAG_SAMEFIELDS != 0 {
            nf
        } else {
            let n = int(i)?;
            if n < 0 {
                return None;
            }
            i += 1;
            (n as usize).checked_mul(2)?
        };
        i = i.checked_add(n)?;
        if i >= items.len() {
            return None;
        }
        if int(i)? != (i - start) as i64 {
            return None;
        }
        i += 1;
        if flags & FLAG_DELETED != 0 {
            dead += 1;
        } else {
            live += 1;
        }
    }
    if live != count || dead != deleted || live == 0 {
        return None;
    }
    Some((live as u64, last?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    const LIM: NodeLimits = NodeLimits {
        max_bytes: 4096,
        max_entries: 3,
    };

    fn ids(s: &Stream) -> Vec<(u64, u64)> {
        let mut v = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, false, false, |id, _| {
            v.push((id.ms, id.seq));
            true
        });
        v
    }

    #[test]
    fn append_range_delete_trim() {
        let mut s = Stream::default();
        for i in 1..=10u64 {
            let pairs = if i % 3 == 0 {
                vec![b("other"), b("x"), b("n"), b(&i.to_string())]
            } else {
                vec![b("f"), b(&format!("v{i}"))]
            };
            s.append(StreamId::new(i, 0), &pairs, LIM);
        }
        assert_eq!(s.length, 10);
        assert_eq!(s.node_count(), 4);
        let mut got = Vec::new();
        s.range(
            StreamId::new(3, 0),
            StreamId::new(4, 0),
            false,
            false,
            |id, f| {
                let f: Vec<(Vec<u8>, Vec<u8>)> = f
                    .iter()
                    .map(|(a, b)| {
                        let t = |e: &Elem| match e {
                            Elem::Int(v) => v.to_string().into_bytes(),
                            Elem::Str(s) => s.to_vec(),
                        };
                        (t(a), t(b))
                    })
                    .collect();
                got.push((id.ms, f));
                true
            },
        );
        assert_eq!(got[0].1[1], (b"n".to_vec(), b"3".to_vec()));
        assert_eq!(got[1].1[0], (b"f".to_vec(), b"v4".to_vec()));
        let mut rev = Vec::new();
        s.range(StreamId::MIN, StreamId::MAX, true, false, |id, _| {
            rev.push(id.ms);
            rev.len() < 4
        });
        assert_eq!(rev, vec![10, 9, 8, 7]);
        assert!(s.delete(StreamId::new(5, 0)));
        assert!(!s.delete(StreamId::new(5, 0)));
        assert!(!s.contains(StreamId::new(5, 0)));
        assert_eq!(s.length, 9);
        // Deleting a node's last live entry drops the node.
        assert!(s.delete(StreamId::new(10, 0)));
        assert_eq!(s.node_count(), 3);
        assert_eq!(s.trim(Some(5), StreamId::MIN, true, 0), 3);
        assert_eq!(ids(&s), vec![(4, 0), (6, 0), (7, 0), (8, 0), (9, 0)]);
        assert_eq!(s.trim(Some(2), StreamId::MIN, false, 0), 3);
        assert_eq!(ids(&s), vec![(8, 0), (9, 0)]);
        assert_eq!(s.first_id, StreamId::new(8, 0));
        assert_eq!(s.edge_id(true, true), StreamId::new(7, 0));
        assert_eq!(s.trim(None, StreamId::new(9, 0), false, 0), 1);
        assert_eq!(ids(&s), vec![(9, 0)]);
    }

    #[test]
    fn id_steps_and_text() {
        assert_eq!(StreamId::new(1, u64::MAX).incr(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.incr(), None);
        assert_eq!(StreamId::MIN.decr(), None);
        let mut buf = [0u8; 41];
        assert_eq!(
            StreamId::MAX.format(&mut buf),
            b"18446744073709551615-18446744073709551615"
        );
        let id = StreamId::new(7, 9);
        assert_eq!(StreamId::decode(&id.encode()), Some(id));
    }
}
