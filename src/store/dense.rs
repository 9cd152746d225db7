//! [`Dense`]: the large encoding of sets and hashes (and the member index
//! of large sorted sets): elements in one dense `Vec`, found through a
//! `hashbrown` table of their positions.
//!
//! Dense storage gives what Redis's chained dict gives and a plain hash table
//! does not: a uniformly random element in O(1) (SPOP, SRANDMEMBER,
//! HRANDFIELD, ZRANDMEMBER), and a SCAN cursor with Redis's guarantee.
//! Removal moves the last element into the hole (`swap_remove`), and SCAN
//! walks positions from the top down, so an element only ever moves from
//! the visited region (the top) into a hole: every element present for a
//! whole iteration is returned at least once, whatever happens in between.

use hashbrown::HashTable;

// The full 64-bit fingerprint: `key_hash` clears bits 16..40 (the keyspace
// keeps its access clock there), which past 65,536 buckets would leave
// most of a big table unused and its probe chains long.
use crate::spec::key_fp;

/// An element with a byte-string identity (a set member, a hash field).
pub trait Keyed {
    fn key(&self) -> &[u8];
}

/// Elements stored densely and indexed by their key.
#[derive(Clone)]
pub struct Dense<T> {
    items: Vec<T>,
    index: HashTable<u32>,
}

impl<T> Default for Dense<T> {
    fn default() -> Self {
        Dense {
            items: Vec::new(),
            index: HashTable::new(),
        }
    }
}

impl<T> std::fmt::Debug for Dense<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dense({} elements)", self.items.len())
    }
}

impl<T: Keyed> Dense<T> {
    pub fn with_capacity(n: usize) -> Dense<T> {
        Dense {
            items: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Position of the element with `key`.
    #[inline]
    pub fn position(&self, key: &[u8]) -> Option<usize> {
        let items = &self.items;
        self.index
            .find(key_fp(key), |&i| items[i as usize].key() == key)
            .map(|&i| i as usize)
    }

    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&T> {
        self.position(key).map(|i| &self.items[i])
    }

    #[inline]
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut T> {
        self.position(key).map(|i| &mut self.items[i])
    }

    #[inline]
    pub fn contains(&self, key: &[u8]) -> bool {
        self.position(key).is_some()
    }

    /// The element at position `i` (0..len).
    #[inline]
    pub fn at(&self, i: usize) -> &T {
        &self.items[i]
    }

    #[inline]
    pub fn at_mut(&mut self, i: usize) -> &mut T {
        &mut self.items[i]
    }

    /// Adds `item`, whose key must not be present; returns its position.
    pub fn insert_new(&mut self, item: T) -> usize {
        let i = self.items.len();
        let items = &self.items;
        self.index
            .insert_unique(key_fp(item.key()), i as u32, |&j| {
                key_fp(items[j as usize].key())
            });
        self.items.push(item);
        i
    }

    /// Removes the element at position `i`; the last element takes its
    /// place. Returns the removed element.
    pub fn remove_at(&mut self, i: usize) -> T {
        let last = self.items.len() - 1;
        let items = &self.items;
        let h = key_fp(items[i].key());
        let Ok(occ) = self.index.find_entry(h, |&j| j as usize == i) else {
            unreachable!("dense index out of sync");
        };
        occ.remove();
        if i != last {
            let hl = key_fp(items[last].key());
            if let Some(slot) = self.index.find_mut(hl, |&j| j as usize == last) {
                *slot = i as u32;
            }
        }
        let item = self.items.swap_remove(i);
        // Keep memory proportional to size after mass removals.
        if self.items.capacity() > 64 && self.items.len() < self.items.capacity() / 4 {
            self.items.shrink_to(self.items.len() * 2);
            let items = &self.items;
            self.index
                .shrink_to(items.len() * 2, |&j| key_fp(items[j as usize].key()));
        }
        item
    }

    /// Removes the element with `key`.
    pub fn remove(&mut self, key: &[u8]) -> Option<T> {
        let i = self.position(key)?;
        Some(self.remove_at(i))
    }

    /// A uniformly random position; `None` when empty.
    pub fn random(&self) -> Option<usize> {
        if self.items.is_empty() {
            None
        } else {
            Some(fastrand::usize(..self.items.len()))
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }

    /// Takes all elements out, in position order.
    pub fn into_vec(self) -> Vec<T> {
        self.items
    }

    /// One SCAN step. Cursor 0 starts at the top; a nonzero cursor `c`
    /// means positions below `c` are still to visit. Calls `f` for about
    /// `count` elements and returns the next cursor, 0 when done.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&T)) -> u64 {
        let top = if cursor == 0 {
            self.items.len()
        } else {
            (cursor as usize).min(self.items.len())
        };
        let low = top.saturating_sub(count.max(1));
        for i in (low..top).rev() {
            f(&self.items[i]);
        }
        low as u64
    }

    /// Approximate heap bytes (element storage plus index).
    pub fn heap_size(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<T>() + self.index.capacity() * 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct K(Vec<u8>);
    impl Keyed for K {
        fn key(&self) -> &[u8] {
            &self.0
        }
    }

    #[test]
    fn scan_guarantee_under_removal_and_growth() {
        let mut d = Dense::default();
        for i in 0..1000 {
            d.insert_new(K(format!("m{i}").into_bytes()));
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, 10, |k| {
                seen.insert(k.0.clone());
            });
            step += 1;
            // Remove odd members and add new ones while iterating.
            if step % 3 == 0 {
                let victim = format!("m{}", (step * 7) % 1000 | 1);
                d.remove(victim.as_bytes());
                d.insert_new(K(format!("n{step}").into_bytes()));
            }
            if cursor == 0 {
                break;
            }
        }
        for i in (0..1000).step_by(2) {
            assert!(seen.contains(format!("m{i}").as_bytes()), "m{i} missed");
        }
        for k in d.iter() {
            assert_eq!(d.get(&k.0), Some(k));
        }
    }
}
