//! [`Pack`]: the compact encoding of small collections (Redis's "listpack"
//! idea): every element back to back in one allocation, each a LEB128
//! length followed by its bytes. Lookups are linear scans, which for the
//! few dozen elements a pack holds beat a hash table in both speed and
//! memory; collections convert to their large encoding past the
//! `*-max-listpack-*` thresholds.

/// A sequence of byte strings in one buffer. Positions (`pos`) are byte
/// offsets of an element's header, as returned by [`Pack::iter_pos`].
#[derive(Clone, Default, PartialEq)]
pub struct Pack {
    buf: Vec<u8>,
    len: u32,
}

#[inline]
fn header_len(n: usize) -> usize {
    match n {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ => 5,
    }
}

#[inline]
fn write_header(out: &mut [u8], mut n: usize) {
    let mut i = 0;
    loop {
        let b = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out[i] = b;
            return;
        }
        out[i] = b | 0x80;
        i += 1;
    }
}

impl Pack {
    pub fn new() -> Pack {
        Pack::default()
    }

    /// Number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes used by the encoding (the `list-max-listpack-size` measure).
    #[inline]
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes held, for INFO memory.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// The element at byte offset `pos` and the offset of the next one.
    #[inline]
    pub fn at(&self, pos: usize) -> (&[u8], usize) {
        let mut n = 0usize;
        let mut shift = 0;
        let mut i = pos;
        loop {
            let b = self.buf[i];
            n |= ((b & 0x7F) as usize) << shift;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        (&self.buf[i..i + n], i + n)
    }

    /// Elements in order.
    pub fn iter(&self) -> PackIter<'_> {
        PackIter { p: self, pos: 0 }
    }

    /// (offset, element) pairs in order.
    pub fn iter_pos(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut pos = 0;
        std::iter::from_fn(move || {
            if pos >= self.buf.len() {
                return None;
            }
            let (e, next) = self.at(pos);
            let here = pos;
            pos = next;
            Some((here, e))
        })
    }

    /// Offset of element `index` (0-based), or `bytes()` when `index == len`.
    pub fn pos_of(&self, index: usize) -> usize {
        let mut pos = 0;
        for _ in 0..index {
            pos = self.at(pos).1;
        }
        pos
    }

    /// Inserts `e` so that it starts at byte offset `pos`.
    pub fn insert_at(&mut self, pos: usize, e: &[u8]) {
        let h = header_len(e.len());
        let add = h + e.len();
        self.buf.reserve_exact(add);
        let old = self.buf.len();
        self.buf.resize(old + add, 0);
        self.buf.copy_within(pos..old, pos + add);
        write_header(&mut self.buf[pos..], e.len());
        self.buf[pos + h..pos + add].copy_from_slice(e);
        self.len += 1;
    }

    pub fn push_back(&mut self, e: &[u8]) {
        self.insert_at(self.buf.len(), e);
    }

    pub fn push_front(&mut self, e: &[u8]) {
        self.insert_at(0, e);
    }

    /// Removes the element at offset `pos`.
    pub fn remove_at(&mut self, pos: usize) {
        let (_, next) = self.at(pos);
        self.buf.drain(pos..next);
        self.len -= 1;
    }

    /// Removes `n` consecutive elements starting at offset `pos`.
    pub fn remove_run(&mut self, pos: usize, n: usize) {
        let mut end = pos;
        for _ in 0..n {
            end = self.at(end).1;
        }
        self.buf.drain(pos..end);
        self.len -= n as u32;
    }

    /// Replaces the element at offset `pos` with `e`.
    pub fn replace_at(&mut self, pos: usize, e: &[u8]) {
        let (old, next) = self.at(pos);
        if old.len() == e.len() {
            let start = next - e.len();
            self.buf[start..next].copy_from_slice(e);
            return;
        }
        self.remove_at(pos);
        self.insert_at(pos, e);
    }

    /// Offset of the first element equal to `e`, stepping `stride` elements
    /// (2 for field/value packs: only fields are compared).
    pub fn find(&self, e: &[u8], stride: usize) -> Option<usize> {
        let mut pos = 0;
        while pos < self.buf.len() {
            let (x, mut next) = self.at(pos);
            if x == e {
                return Some(pos);
            }
            for _ in 1..stride {
                next = self.at(next).1;
            }
            pos = next;
        }
        None
    }

    /// Releases spare capacity.
    pub fn shrink(&mut self) {
        self.buf.shrink_to_fit();
    }
}

impl std::fmt::Debug for Pack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

/// Iterator over a [`Pack`]'s elements.
pub struct PackIter<'a> {
    p: &'a Pack,
    pos: usize,
}

impl<'a> Iterator for PackIter<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.p.buf.len() {
            return None;
        }
        let (e, next) = self.p.at(self.pos);
        self.pos = next;
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_edits() {
        let mut p = Pack::new();
        p.push_back(b"b");
        p.push_front(b"a");
        let long = vec![b'x'; 300];
        p.push_back(&long);
        p.push_back(b"");
        assert_eq!(p.len(), 4);
        let v: Vec<&[u8]> = p.iter().collect();
        assert_eq!(v, vec![&b"a"[..], b"b", &long[..], b""]);
        let pos = p.find(b"b", 1).unwrap();
        p.replace_at(pos, b"bbbb");
        p.remove_at(p.pos_of(2));
        let v: Vec<&[u8]> = p.iter().collect();
        assert_eq!(v, vec![&b"a"[..], b"bbbb", b""]);
        p.remove_run(0, 2);
        assert_eq!(p.len(), 1);
        assert_eq!(p.iter().next().unwrap(), b"");
    }
}
