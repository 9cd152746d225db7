//! Sorted sets: members ordered by (score, member), with O(log n) ranks.
//!
//! Small sorted sets are a [`Pack`] of (member, score) pairs kept in order
//! (Redis's "listpack" encoding, scores as 8 raw bytes); past
//! `zset-max-listpack-entries` / `-value` they become a [`SkipList`]
//! ("skiplist"): Redis's skiplist with spans (rank-aware, so ZRANK,
//! ZRANGE by rank and every range count are O(log n)) in an arena of nodes,
//! plus a member → node index.
//!
//! Every range query reduces to ranks: [`ZSet::count_below`] counts the
//! prefix of elements satisfying a monotone predicate (for example "score <
//! min"), so a score or lex range is the rank interval between two such
//! counts, walked from a node found by rank.

use hashbrown::HashTable;

use super::Str;
use super::pack::Pack;
// The full 64-bit fingerprint: `key_hash` clears bits 16..40 (the keyspace
// keeps its access clock there), which past 65,536 buckets would leave
// most of a big table unused and its probe chains long.
use crate::spec::key_fp;

const NIL: u32 = u32::MAX;
const MAX_LEVEL: usize = 32;

/// One forward link. Links live in one arena (`SkipList::lv`), each node's
/// levels contiguous, and a link also carries where the next node's levels
/// start and the next node's score: a search step then reads one run of
/// the arena (one cache miss, as Redis's inline level array) and touches
/// the node itself only on a score tie.
#[derive(Clone, Copy, Debug)]
struct Level {
    /// Next node at this level, NIL at the end.
    next: u32,
    /// Start of the next node's levels in the arena.
    next_lv: u32,
    /// Elements skipped by following `next` (to the end if `next` is NIL).
    span: u32,
    /// The next node's score.
    score: f64,
}

const END: Level = Level {
    next: NIL,
    next_lv: NIL,
    span: 0,
    score: 0.0,
};

#[derive(Clone, Debug)]
struct Node {
    member: Str,
    score: f64,
    back: u32,
    /// Start of this node's levels in the arena.
    lv: u32,
    /// Number of levels; 0 marks a free slot.
    height: u8,
}

/// `(score, member)` order: true when `a` sorts before `b`.
#[inline]
fn before(sa: f64, ma: &[u8], sb: f64, mb: &[u8]) -> bool {
    sa < sb || (sa == sb && ma < mb)
}

/// The large sorted-set encoding. Node 0 is the header (levels at arena
/// offset 0). Nodes never move, so ZSCAN walks node slots with Redis's
/// guarantee.
#[derive(Clone, Debug)]
pub struct SkipList {
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Every node's levels, back to back.
    lv: Vec<Level>,
    /// Freed level runs by height, for reuse.
    free_lv: Vec<Vec<u32>>,
    tail: u32,
    len: u32,
    level: usize,
    index: HashTable<u32>,
}

impl Default for SkipList {
    fn default() -> Self {
        SkipList::new()
    }
}

fn random_level() -> usize {
    let mut l = 1;
    while l < MAX_LEVEL && fastrand::u32(..) < u32::MAX / 4 {
        l += 1;
    }
    l
}

impl SkipList {
    pub fn new() -> SkipList {
        let head = Node {
            member: Str::copy_from(b""),
            score: 0.0,
            back: NIL,
            lv: 0,
            height: MAX_LEVEL as u8,
        };
        SkipList {
            nodes: vec![head],
            free: Vec::new(),
            lv: vec![END; MAX_LEVEL],
            free_lv: vec![Vec::new(); MAX_LEVEL + 1],
            tail: NIL,
            len: 0,
            level: 1,
            index: HashTable::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn find(&self, member: &[u8]) -> Option<u32> {
        let nodes = &self.nodes;
        self.index
            .find(key_fp(member), |&i| &*nodes[i as usize].member == member)
            .copied()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.find(member).map(|i| self.nodes[i as usize].score)
    }

    /// Whether the node `l` links to sorts before `(score, member)`.
    #[inline]
    fn link_before(&self, l: &Level, score: f64, member: &[u8]) -> bool {
        l.next != NIL
            && (l.score < score
                || (l.score == score && &*self.nodes[l.next as usize].member < member))
    }

    /// For each level, the last node (and its levels' start) before
    /// `(score, member)`, with its rank when `ranks` is given.
    fn search(
        &self,
        score: f64,
        member: &[u8],
        mut ranks: Option<&mut [u32; MAX_LEVEL]>,
    ) -> ([u32; MAX_LEVEL], [u32; MAX_LEVEL]) {
        let mut update = [0u32; MAX_LEVEL];
        let mut update_lv = [0u32; MAX_LEVEL];
        let (mut x, mut xl, mut rank) = (0u32, 0u32, 0u32);
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv[(xl as usize) + i];
                if !self.link_before(&l, score, member) {
                    break;
                }
                rank += l.span;
                x = l.next;
                xl = l.next_lv;
            }
            update[i] = x;
            update_lv[i] = xl;
            if let Some(r) = ranks.as_deref_mut() {
                r[i] = rank;
            }
        }
        (update, update_lv)
    }

    /// A run of `h` levels in the arena.
    fn alloc_levels(&mut self, h: usize) -> u32 {
        match self.free_lv[h].pop() {
            Some(at) => {
                self.lv[at as usize..at as usize + h].fill(END);
                at
            }
            None => {
                let at = self.lv.len() as u32;
                self.lv.resize(self.lv.len() + h, END);
                at
            }
        }
    }

    /// Adds a member that is not present.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let mut rank = [0u32; MAX_LEVEL];
        let (mut update, mut update_lv) = self.search(score, member, Some(&mut rank));
        let lvl = random_level();
        if lvl > self.level {
            for i in self.level..lvl {
                rank[i] = 0;
                update[i] = 0;
                update_lv[i] = 0;
                self.lv[i].span = self.len;
            }
            self.level = lvl;
        }
        let nl = self.alloc_levels(lvl);
        let node = Node {
            member: Str::copy_from(member),
            score,
            back: if update[0] == 0 { NIL } else { update[0] },
            lv: nl,
            height: lvl as u8,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        for i in 0..lvl {
            let u = update_lv[i] as usize + i;
            let ul = self.lv[u];
            self.lv[nl as usize + i] = Level {
                span: ul.span - (rank[0] - rank[i]),
                ..ul
            };
            self.lv[u] = Level {
                next: id,
                next_lv: nl,
                span: rank[0] - rank[i] + 1,
                score,
            };
        }
        for i in lvl..self.level {
            self.lv[update_lv[i] as usize + i].span += 1;
        }
        let next = self.lv[nl as usize].next;
        if next != NIL {
            self.nodes[next as usize].back = id;
        } else {
            self.tail = id;
        }
        self.len += 1;
        let nodes = &self.nodes;
        self.index
            .insert_unique(key_fp(member), id, |&j| key_fp(&nodes[j as usize].member));
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let id = self.find(member)?;
        let (score, xl, height) = {
            let n = &self.nodes[id as usize];
            (n.score, n.lv, n.height as usize)
        };
        let (_, update_lv) = self.search(score, member, None);
        for i in 0..self.level {
            let u = update_lv[i] as usize + i;
            if self.lv[u].next == id {
                let xl = self.lv[xl as usize + i];
                let ul = &mut self.lv[u];
                *ul = Level {
                    span: ul.span + xl.span - 1,
                    ..xl
                };
            } else {
                self.lv[u].span -= 1;
            }
        }
        let next = self.lv[xl as usize].next;
        let back = self.nodes[id as usize].back;
        if next != NIL {
            self.nodes[next as usize].back = back;
        } else {
            self.tail = back;
        }
        while self.level > 1 && self.lv[self.level - 1].next == NIL {
            self.level -= 1;
        }
        self.len -= 1;
        let Ok(occ) = self.index.find_entry(key_fp(member), |&j| j == id) else {
            unreachable!("skiplist index out of sync");
        };
        occ.remove();
        let n = &mut self.nodes[id as usize];
        n.member = Str::copy_from(b"");
        n.height = 0;
        self.free_lv[height].push(xl);
        self.free.push(id);
        Some(score)
    }

    /// Number of leading elements for which `pred(score, member)` holds
    /// (`pred` must be true on a prefix of the order).
    pub fn count_below(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let (mut xl, mut rank) = (0u32, 0u32);
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv[xl as usize + i];
                if l.next == NIL || !pred(l.score, &self.nodes[l.next as usize].member) {
                    break;
                }
                rank += l.span;
                xl = l.next_lv;
            }
        }
        rank as usize
    }

    /// Node at 0-based `rank`.
    fn node_at(&self, rank: usize) -> u32 {
        let target = rank as u32 + 1;
        let (mut x, mut xl, mut traversed) = (0u32, 0u32, 0u32);
        for i in (0..self.level).rev() {
            loop {
                let l = self.lv[xl as usize + i];
                if l.next == NIL || traversed + l.span > target {
                    break;
                }
                traversed += l.span;
                x = l.next;
                xl = l.next_lv;
            }
            if traversed == target {
                return x;
            }
        }
        NIL
    }

    /// Calls `f(member, score)` for ranks `start..end` (ascending) or
    /// `end-1` down to `start` (`rev`).
    pub fn walk(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        if start >= end {
            return;
        }
        let mut x = self.node_at(if rev { end - 1 } else { start });
        for _ in start..end {
            if x == NIL {
                break;
            }
            let n = &self.nodes[x as usize];
            f(&n.member, n.score);
            x = if rev {
                n.back
            } else {
                self.lv[n.lv as usize].next
            };
        }
    }

    /// ZSCAN step over node slots, from the top down; cursor semantics as
    /// [`super::dense::Dense::scan`].
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        let top = if cursor == 0 {
            self.nodes.len()
        } else {
            (cursor as usize).min(self.nodes.len())
        };
        let mut i = top;
        let mut seen = 0;
        while i > 1 && seen < count.max(1) {
            i -= 1;
            let n = &self.nodes[i];
            if n.height > 0 {
                f(&n.member, n.score);
                seen += 1;
            }
        }
        if i <= 1 { 0 } else { i as u64 }
    }

    /// Approximate heap bytes.
    pub fn heap_size(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.lv.capacity() * std::mem::size_of::<Level>()
            + self.index.capacity() * 5
    }
}

/// A sorted set in either encoding.
#[derive(Clone, Debug)]
pub enum ZSet {
    /// (member, score as 8 big-endian bytes of `f64::to_bits`) pairs, sorted.
    Pack(Pack),
    Skip(Box<SkipList>),
}

fn score_of(b: &[u8]) -> f64 {
    f64::from_bits(u64::from_be_bytes(b.try_into().expect("8-byte score")))
}

/// What [`ZSet::add`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Added {
    New,
    Updated,
    Same,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::Pack(Pack::new())
    }
}

impl ZSet {
    pub fn len(&self) -> usize {
        match self {
            ZSet::Pack(p) => p.len() / 2,
            ZSet::Skip(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Redis encoding name.
    pub fn encoding(&self) -> &'static str {
        match self {
            ZSet::Pack(_) => "listpack",
            ZSet::Skip(_) => "skiplist",
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => p.find(member, 2).map(|pos| {
                let (_, next) = p.at(pos);
                score_of(p.at(next).0)
            }),
            ZSet::Skip(s) => s.score(member),
        }
    }

    /// Sets `member`'s score, converting to the skiplist encoding when
    /// the set grows past `max_entries` or the member is longer than
    /// `max_value` bytes.
    pub fn add(
        &mut self,
        member: &[u8],
        score: f64,
        max_entries: usize,
        max_value: usize,
    ) -> Added {
        let old = self.score(member);
        if old == Some(score) {
            return Added::Same;
        }
        if old.is_some() {
            self.remove(member);
        }
        if let ZSet::Pack(p) = self {
            if p.len() / 2 + 1 > max_entries || member.len() > max_value {
                self.convert();
            }
        }
        match self {
            ZSet::Pack(p) => {
                // Redis stores a listpack score that is a whole number as
                // an integer, so -0 becomes 0 there (a skiplist keeps -0).
                let score = if score == 0.0 { 0.0 } else { score };
                // Find the insertion point in (score, member) order.
                let mut pos = 0;
                while pos < p.bytes() {
                    let (m, next) = p.at(pos);
                    let (s, after) = p.at(next);
                    if !before(score_of(s), m, score, member) {
                        break;
                    }
                    pos = after;
                }
                p.insert_at(pos, &score.to_bits().to_be_bytes());
                p.insert_at(pos, member);
            }
            ZSet::Skip(s) => s.insert(member, score),
        }
        if old.is_some() {
            Added::Updated
        } else {
            Added::New
        }
    }

    /// Converts to the skiplist encoding if still a listpack (Redis's
    /// SORT does this to the sorted set it reads, permanently).
    pub fn to_skiplist(&mut self) {
        if let ZSet::Pack(_) = self {
            self.convert();
        }
    }

    fn convert(&mut self) {
        let mut s = SkipList::new();
        if let ZSet::Pack(p) = self {
            let mut it = p.iter();
            while let (Some(m), Some(sc)) = (it.next(), it.next()) {
                s.insert(m, score_of(sc));
            }
        }
        *self = ZSet::Skip(Box::new(s));
    }

    /// Removes `member`; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        match self {
            ZSet::Pack(p) => {
                let pos = p.find(member, 2)?;
                let (_, next) = p.at(pos);
                let s = score_of(p.at(next).0);
                p.remove_run(pos, 2);
                Some(s)
            }
            ZSet::Skip(s) => s.remove(member),
        }
    }

    /// Number of leading elements for which `pred(score, member)` holds.
    pub fn count_below(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSet::Pack(p) => {
                let mut n = 0;
                let mut it = p.iter();
                while let (Some(m), Some(s)) = (it.next(), it.next()) {
                    if !pred(score_of(s), m) {
                        break;
                    }
                    n += 1;
                }
                n
            }
            ZSet::Skip(s) => s.count_below(pred),
        }
    }

    /// 0-based rank of `member` in ascending order.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.score(member)?;
        Some(self.count_below(|s, m| before(s, m, score, member)))
    }

    /// Calls `f(member, score)` for ranks `start..end`, ascending, or
    /// descending from `end - 1` when `rev`.
    pub fn walk(&self, start: usize, end: usize, rev: bool, mut f: impl FnMut(&[u8], f64)) {
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        match self {
            ZSet::Pack(p) => {
                let mut items: Vec<(&[u8], f64)> = Vec::with_capacity(end - start);
                let mut it = p.iter().skip(start * 2);
                for _ in start..end {
                    let (Some(m), Some(s)) = (it.next(), it.next()) else {
                        break;
                    };
                    items.push((m, score_of(s)));
                }
                if rev {
                    items.reverse();
                }
                for (m, s) in items {
                    f(m, s);
                }
            }
            ZSet::Skip(s) => s.walk(start, end, rev, f),
        }
    }

    /// (member, score) pairs for ranks `start..end`, in the walk's order.
    pub fn range(&self, start: usize, end: usize, rev: bool) -> Vec<(Str, f64)> {
        let mut v = Vec::new();
        self.walk(start, end, rev, |m, s| v.push((Str::copy_from(m), s)));
        v
    }

    /// ZSCAN step; a pack is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], f64)) -> u64 {
        match self {
            ZSet::Pack(_) => {
                self.walk(0, self.len(), false, f);
                0
            }
            ZSet::Skip(s) => s.scan(cursor, count, &mut f),
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            ZSet::Pack(p) => p.heap_size(),
            ZSet::Skip(s) => s.heap_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiplist_matches_sorted_model() {
        for (max, n) in [(128usize, 100usize), (4, 2000)] {
            let mut z = ZSet::default();
            let mut model: std::collections::BTreeMap<String, f64> = Default::default();
            for i in 0..n {
                let m = format!("m{}", fastrand::usize(..n));
                let s = (fastrand::i32(..50)) as f64;
                if i % 5 == 4 {
                    assert_eq!(z.remove(m.as_bytes()), model.remove(&m));
                } else {
                    z.add(m.as_bytes(), s, max, 64);
                    model.insert(m, s);
                }
            }
            let mut sorted: Vec<(f64, String)> =
                model.iter().map(|(m, s)| (*s, m.clone())).collect();
            sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
            assert_eq!(z.len(), sorted.len());
            let got: Vec<(f64, String)> = z
                .range(0, z.len(), false)
                .into_iter()
                .map(|(m, s)| (s, String::from_utf8(m.to_vec()).unwrap()))
                .collect();
            assert_eq!(got, sorted);
            for (r, (s, m)) in sorted.iter().enumerate() {
                assert_eq!(z.rank(m.as_bytes()), Some(r));
                assert_eq!(z.score(m.as_bytes()), Some(*s));
            }
            let below10 = sorted.iter().filter(|(s, _)| *s < 10.0).count();
            assert_eq!(z.count_below(|s, _| s < 10.0), below10);
            let rev = z.range(3, 9, true);
            let fwd = z.range(3, 9, false);
            assert!(rev.iter().rev().map(|x| &x.0).eq(fwd.iter().map(|x| &x.0)));
        }
    }
}
