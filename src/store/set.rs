//! Sets: a sorted array of integers while every member is an integer
//! ("intset", up to `set-max-intset-entries`), a [`Pack`] while small
//! ("listpack", up to `set-max-listpack-entries` / `-value`, as Redis 7.2),
//! and a [`Dense`] table past those ("hashtable"), which makes SPOP and
//! SRANDMEMBER O(1) per member and SSCAN keep Redis's guarantee.

use std::borrow::Cow;

use super::Str;
use super::dense::{Dense, Keyed};
use super::pack::Pack;
use crate::config::Encodings;
use crate::resp::parse::parse_i64;

impl Keyed for Str {
    #[inline]
    fn key(&self) -> &[u8] {
        self
    }
}

/// A set in one of its three encodings.
#[derive(Clone, Debug)]
pub enum Set {
    Ints(Vec<i64>),
    Pack(Pack),
    Table(Dense<Str>),
}

impl Default for Set {
    fn default() -> Self {
        Set::Ints(Vec::new())
    }
}

fn int_bytes(n: i64) -> Cow<'static, [u8]> {
    Cow::Owned(itoa::Buffer::new().format(n).as_bytes().to_vec())
}

impl Set {
    /// An empty set in the encoding its first member calls for.
    pub fn for_member(m: &[u8], enc: &Encodings) -> Set {
        if parse_i64(m).is_some() && enc.set_max_intset_entries > 0 {
            Set::Ints(Vec::new())
        } else if enc.set_max_listpack_entries > 0 && m.len() <= enc.set_max_listpack_value {
            Set::Pack(Pack::new())
        } else {
            Set::Table(Dense::default())
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Ints(v) => v.len(),
            Set::Pack(p) => p.len(),
            Set::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Pack(_) => "listpack",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        match self {
            Set::Ints(v) => parse_i64(m).is_some_and(|n| v.binary_search(&n).is_ok()),
            Set::Pack(p) => p.find(m, 1).is_some(),
            Set::Table(t) => t.contains(m),
        }
    }

    /// Adds `m`; true if it was not a member.
    pub fn add(&mut self, m: &[u8], enc: &Encodings) -> bool {
        if let Set::Ints(v) = self {
            if let Some(n) = parse_i64(m) {
                match v.binary_search(&n) {
                    Ok(_) => return false,
                    Err(i) if v.len() < enc.set_max_intset_entries => {
                        v.insert(i, n);
                        return true;
                    }
                    Err(_) => self.convert_to_table(),
                }
            } else if v.len() < enc.set_max_listpack_entries
                && m.len() <= enc.set_max_listpack_value
            {
                let mut p = Pack::new();
                for n in v.iter() {
                    p.push_back(itoa::Buffer::new().format(*n).as_bytes());
                }
                *self = Set::Pack(p);
            } else {
                self.convert_to_table();
            }
        }
        if let Set::Pack(p) = self {
            if p.find(m, 1).is_some() {
                return false;
            }
            if p.len() < enc.set_max_listpack_entries && m.len() <= enc.set_max_listpack_value {
                p.push_back(m);
                return true;
            }
            self.convert_to_table();
        }
        let Set::Table(t) = self else {
            unreachable!("converted above")
        };
        if t.contains(m) {
            return false;
        }
        t.insert_new(Str::copy_from(m));
        true
    }

    fn convert_to_table(&mut self) {
        let mut t = Dense::with_capacity(self.len() + 1);
        self.for_each(|m| {
            t.insert_new(Str::copy_from(m));
        });
        *self = Set::Table(t);
    }

    /// Removes `m`; true if it was a member.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            Set::Ints(v) => match parse_i64(m).map(|n| v.binary_search(&n)) {
                Some(Ok(i)) => {
                    v.remove(i);
                    true
                }
                _ => false,
            },
            Set::Pack(p) => match p.find(m, 1) {
                Some(pos) => {
                    p.remove_at(pos);
                    true
                }
                None => false,
            },
            Set::Table(t) => t.remove(m).is_some(),
        }
    }

    /// Calls `f` for every member.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        match self {
            Set::Ints(v) => {
                let mut b = itoa::Buffer::new();
                for n in v {
                    f(b.format(*n).as_bytes());
                }
            }
            Set::Pack(p) => p.iter().for_each(f),
            Set::Table(t) => t.iter().for_each(|s| f(s)),
        }
    }

    /// Every member, copied.
    pub fn members(&self) -> Vec<Str> {
        let mut v = Vec::with_capacity(self.len());
        self.for_each(|m| v.push(Str::copy_from(m)));
        v
    }

    /// Member at position `i` (0..len): O(1) for intsets and tables.
    pub fn nth(&self, i: usize) -> Cow<'_, [u8]> {
        match self {
            Set::Ints(v) => int_bytes(v[i]),
            Set::Pack(p) => Cow::Borrowed(p.iter().nth(i).expect("index in range")),
            Set::Table(t) => Cow::Borrowed(t.at(i)),
        }
    }

    /// Removes and returns a uniformly random member.
    pub fn pop_random(&mut self) -> Option<Str> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let i = fastrand::usize(..n);
        Some(match self {
            Set::Ints(v) => Str::copy_from(&int_bytes(v.remove(i))),
            Set::Pack(p) => {
                let pos = p.pos_of(i);
                let m = Str::copy_from(p.at(pos).0);
                p.remove_at(pos);
                m
            }
            Set::Table(t) => t.remove_at(i),
        })
    }

    /// SSCAN step; compact encodings are returned whole with cursor 0.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8])) -> u64 {
        match self {
            Set::Table(t) => t.scan(cursor, count, |m| f(m)),
            _ => {
                self.for_each(f);
                0
            }
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            Set::Ints(v) => v.capacity() * 8,
            Set::Pack(p) => p.heap_size(),
            Set::Table(t) => t.heap_size(),
        }
    }
}
