//! Lists: a [`Pack`] while small ("listpack"), a ring buffer of [`Str`]
//! past `list-max-listpack-size` ("quicklist"), so pushes and pops at both
//! ends are O(1) and LINDEX/LSET are O(1) too.

use std::collections::VecDeque;

use super::Str;
use super::pack::Pack;
use crate::config::Encodings;

/// A list in either encoding.
#[derive(Clone, Debug)]
pub enum List {
    Pack(Pack),
    Deque(VecDeque<Str>),
}

impl Default for List {
    fn default() -> Self {
        List::Pack(Pack::new())
    }
}

/// Which end of a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Left,
    Right,
}

impl List {
    pub fn len(&self) -> usize {
        match self {
            List::Pack(p) => p.len(),
            List::Deque(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The Redis encoding name.
    pub fn encoding(&self) -> &'static str {
        match self {
            List::Pack(_) => "listpack",
            List::Deque(_) => "quicklist",
        }
    }

    /// Converts a pack that no longer fits `enc` (after adding `extra`
    /// bytes) to the ring-buffer encoding.
    fn grow_check(&mut self, enc: &Encodings, extra: usize) {
        if let List::Pack(p) = self {
            if !enc.list_fits(p.len() + 1, p.bytes() + extra + 1) {
                let d: VecDeque<Str> = p.iter().map(Str::copy_from).collect();
                *self = List::Deque(d);
            }
        }
    }

    pub fn push(&mut self, end: End, v: &[u8], enc: &Encodings) {
        self.grow_check(enc, v.len());
        match (self, end) {
            (List::Pack(p), End::Left) => p.push_front(v),
            (List::Pack(p), End::Right) => p.push_back(v),
            (List::Deque(d), End::Left) => d.push_front(Str::copy_from(v)),
            (List::Deque(d), End::Right) => d.push_back(Str::copy_from(v)),
        }
    }

    pub fn pop(&mut self, end: End) -> Option<Str> {
        match (self, end) {
            (List::Pack(p), _) if p.is_empty() => None,
            (List::Pack(p), End::Left) => {
                let v = Str::copy_from(p.at(0).0);
                p.remove_at(0);
                Some(v)
            }
            (List::Pack(p), End::Right) => {
                let pos = p.pos_of(p.len() - 1);
                let v = Str::copy_from(p.at(pos).0);
                p.remove_at(pos);
                Some(v)
            }
            (List::Deque(d), End::Left) => d.pop_front(),
            (List::Deque(d), End::Right) => d.pop_back(),
        }
    }

    /// Element at index `i` (0-based from the left).
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            List::Pack(p) => p.iter().nth(i),
            List::Deque(d) => d.get(i).map(|s| &**s),
        }
    }

    /// Replaces element `i` (which must exist).
    pub fn set(&mut self, i: usize, v: &[u8], enc: &Encodings) {
        self.grow_check(enc, v.len());
        match self {
            List::Pack(p) => {
                let pos = p.pos_of(i);
                p.replace_at(pos, v);
            }
            List::Deque(d) => d[i] = Str::copy_from(v),
        }
    }

    /// Inserts `v` before index `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, v: &[u8], enc: &Encodings) {
        self.grow_check(enc, v.len());
        match self {
            List::Pack(p) => {
                let pos = p.pos_of(i);
                p.insert_at(pos, v);
            }
            List::Deque(d) => d.insert(i, Str::copy_from(v)),
        }
    }

    /// Elements in order.
    pub fn iter(&self) -> Box<dyn DoubleEndedIterator<Item = &[u8]> + '_> {
        match self {
            List::Pack(p) => {
                // A pack is only walkable forwards; small, so collect.
                let v: Vec<&[u8]> = p.iter().collect();
                Box::new(v.into_iter())
            }
            List::Deque(d) => Box::new(d.iter().map(|s| &**s)),
        }
    }

    /// Elements `start..=end` (indices already clamped by the caller).
    pub fn range(&self, start: usize, end: usize) -> Vec<&[u8]> {
        match self {
            List::Pack(p) => p.iter().skip(start).take(end + 1 - start).collect(),
            List::Deque(d) => d.range(start..=end).map(|s| &**s).collect(),
        }
    }

    /// Keeps only indices in `start..=end`; an empty range empties the list.
    pub fn trim(&mut self, start: usize, end: Option<usize>) {
        let len = self.len();
        let (keep_from, keep_to) = match end {
            Some(e) if start <= e && start < len => (start, e.min(len - 1) + 1),
            _ => (0, 0),
        };
        match self {
            List::Pack(p) => {
                if keep_to < len {
                    let pos = p.pos_of(keep_to);
                    p.remove_run(pos, len - keep_to);
                }
                p.remove_run(0, keep_from.min(p.len()));
                p.shrink();
            }
            List::Deque(d) => {
                d.truncate(keep_to);
                d.drain(..keep_from.min(d.len()));
            }
        }
    }

    /// Removes elements equal to `v`: `count > 0` the first `count` from the
    /// left, `count < 0` from the right, 0 all. Returns how many.
    pub fn remove(&mut self, v: &[u8], count: i64) -> usize {
        let len = self.len();
        let limit = if count == 0 {
            usize::MAX
        } else {
            count.unsigned_abs() as usize
        };
        let hits: Vec<usize> = {
            let it = self
                .iter()
                .enumerate()
                .filter(|(_, e)| *e == v)
                .map(|(i, _)| i);
            if count < 0 {
                let mut all: Vec<usize> = it.collect();
                all.reverse();
                all.truncate(limit);
                all
            } else {
                it.take(limit).collect()
            }
        };
        if hits.is_empty() {
            return 0;
        }
        let mut drop = vec![false; len];
        for &i in &hits {
            drop[i] = true;
        }
        match self {
            List::Pack(p) => {
                let mut np = Pack::new();
                for (i, e) in p.iter().enumerate() {
                    if !drop[i] {
                        np.push_back(e);
                    }
                }
                *p = np;
            }
            List::Deque(d) => {
                let mut i = 0;
                d.retain(|_| {
                    let keep = !drop[i];
                    i += 1;
                    keep
                });
            }
        }
        hits.len()
    }

    pub fn heap_size(&self) -> usize {
        match self {
            List::Pack(p) => p.heap_size(),
            // Element slots only: long elements' own allocations are not
            // walked (O(1) estimate).
            List::Deque(d) => d.capacity() * std::mem::size_of::<Str>(),
        }
    }
}
