//! Hashes: a [`Pack`] of field, value pairs while small ("listpack"), a
//! [`Dense`] table of [`Field`]s past `hash-max-listpack-entries` /
//! `-value` ("hashtable"), which gives HRANDFIELD O(1) per field and HSCAN
//! Redis's guarantee.

use super::Str;
use super::dense::{Dense, Keyed};
use super::pack::Pack;
use crate::config::Encodings;

/// One field of a large hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Str,
    pub value: Str,
}

impl Keyed for Field {
    #[inline]
    fn key(&self) -> &[u8] {
        &self.name
    }
}

/// A hash in either encoding.
#[derive(Clone, Debug)]
pub enum Hash {
    Pack(Pack),
    Table(Dense<Field>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Pack::new())
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        match self {
            Hash::Pack(p) => p.len() / 2,
            Hash::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(p) => p.find(field, 2).map(|pos| {
                let (_, next) = p.at(pos);
                p.at(next).0
            }),
            Hash::Table(t) => t.get(field).map(|f| &*f.value),
        }
    }

    /// Sets `field` to `value`; returns true if the field is new.
    pub fn set(&mut self, field: &[u8], value: &[u8], enc: &Encodings) -> bool {
        if let Hash::Pack(p) = self {
            if let Some(pos) = p.find(field, 2) {
                if value.len() <= enc.hash_max_listpack_value {
                    let (_, next) = p.at(pos);
                    p.replace_at(next, value);
                    return false;
                }
            } else if p.len() / 2 < enc.hash_max_listpack_entries
                && field.len() <= enc.hash_max_listpack_value
                && value.len() <= enc.hash_max_listpack_value
            {
                p.push_back(field);
                p.push_back(value);
                return true;
            }
            self.convert();
        }
        let Hash::Table(t) = self else {
            unreachable!("converted above")
        };
        match t.get_mut(field) {
            Some(f) => {
                f.value = Str::copy_from(value);
                false
            }
            None => {
                t.insert_new(Field {
                    name: Str::copy_from(field),
                    value: Str::copy_from(value),
                });
                true
            }
        }
    }

    fn convert(&mut self) {
        if let Hash::Pack(p) = self {
            let mut t = Dense::with_capacity(p.len() / 2 + 1);
            let mut it = p.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                t.insert_new(Field {
                    name: Str::copy_from(f),
                    value: Str::copy_from(v),
                });
            }
            *self = Hash::Table(t);
        }
    }

    /// Removes `field`; true if it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(p) => match p.find(field, 2) {
                Some(pos) => {
                    p.remove_run(pos, 2);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Calls `f(field, value)` for every field.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match self {
            Hash::Pack(p) => {
                let mut it = p.iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    f(k, v);
                }
            }
            Hash::Table(t) => {
                for x in t.iter() {
                    f(&x.name, &x.value);
                }
            }
        }
    }

    /// The field, value pair at position `i` (0..len), for random picks:
    /// O(1) for tables, O(i) for packs.
    pub fn nth(&self, i: usize) -> (&[u8], &[u8]) {
        match self {
            Hash::Pack(p) => {
                let mut it = p.iter().skip(2 * i);
                let k = it.next().expect("index in range");
                let v = it.next().expect("value after field");
                (k, v)
            }
            Hash::Table(t) => {
                let x = t.at(i);
                (&x.name, &x.value)
            }
        }
    }

    /// HSCAN step; a pack is returned whole with cursor 0, as Redis does.
    pub fn scan(&self, cursor: u64, count: usize, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Pack(_) => {
                self.for_each(f);
                0
            }
            Hash::Table(t) => t.scan(cursor, count, |x| f(&x.name, &x.value)),
        }
    }

    pub fn heap_size(&self) -> usize {
        match self {
            Hash::Pack(p) => p.heap_size(),
            Hash::Table(t) => t.heap_size(),
        }
    }
}
