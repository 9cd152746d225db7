//! Redis's listpack (`listpack.c`): elements back to back in one
//! buffer, each an integer in its smallest encoding or a length-prefixed
//! string, followed by its back-length; a 6-byte header (total bytes,
//! element count, 65535 past it) and the end byte 0xFF. The RDB format of
//! small collections, and the node of a stream (`stream`), which keeps
//! Redis's exact layout in memory. Reading a blob a client sent is
//! `crate::rdb`'s (checked); [`get`] reads what this process wrote.

/// `s` as an integer if it is one's canonical decimal spelling
/// (`rdbTryIntegerEncoding`: "12" yes, "012", "+1", " 1" no).
pub fn canonical_int(s: &[u8]) -> Option<i64> {
    let n: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (n.to_string().as_bytes() == s).then_some(n)
}

/// A listpack blob of `items` as `lpAppend` builds one (`listpack.c`):
/// the 6-byte header (total bytes, count or 65535 past it), each item as
/// an integer in its smallest encoding when it is one's canonical decimal
/// spelling and as a string with a 6-, 12- or 32-bit length otherwise,
/// each followed by its back-length, and 0xFF.
pub fn write_listpack<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut lp = Listpack::new();
    items.into_iter().for_each(|i| lp.push(i));
    lp.finish()
}

/// A listpack blob built item by item ([`write_listpack`]).
pub struct Listpack {
    buf: Vec<u8>,
    count: usize,
}

impl Listpack {
    pub fn new() -> Listpack {
        Listpack {
            buf: vec![0u8; 6],
            count: 0,
        }
    }

    pub fn push(&mut self, item: &[u8]) {
        listpack_entry(&mut self.buf, item);
        self.count += 1;
    }

    /// The blob: header filled in, end byte added.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xFF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = self.count.min(u16::MAX as usize) as u16;
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

impl Default for Listpack {
    fn default() -> Listpack {
        Listpack::new()
    }
}

/// Bytes one item takes in a listpack, back-length included (what
/// [`Listpack::push`] appends, computed without writing it).
pub fn listpack_entry_len(item: &[u8]) -> usize {
    let enc = match canonical_int(item) {
        Some(0..=127) => 1,
        Some(-4096..=4095) => 2,
        Some(v) if i16::try_from(v).is_ok() => 3,
        Some(-8_388_608..=8_388_607) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None if item.len() < 64 => 1 + item.len(),
        None if item.len() < 4096 => 2 + item.len(),
        None => 5 + item.len(),
    };
    enc + backlen_bytes(enc as u64)
}

/// Bytes of a listpack entry's back-length for an entry of `l` bytes
/// (encoding and data): 7 bits each (`lpEncodeBacklen`).
pub fn backlen_bytes(l: u64) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// Appends one listpack entry: encoding, data and back-length
/// (`lpEncodeIntegerGetType`, `lpEncodeString`, `lpEncodeBacklen`): an
/// integer in its smallest encoding when `item` is one's canonical decimal
/// spelling (as `lpAppend` converts it), else a string.
pub fn listpack_entry(lp: &mut Vec<u8>, item: &[u8]) {
    match canonical_int(item) {
        Some(v) => append_int(lp, v),
        None => append_str(lp, item),
    }
}

/// Appends integer `v` as one listpack entry (`lpAppendInteger`).
pub fn append_int(lp: &mut Vec<u8>, v: i64) {
    let start = lp.len();
    match v {
        0..=127 => lp.push(v as u8),
        -4096..=4095 => {
            let u = (v as u16) & 0x1FFF;
            lp.extend_from_slice(&[0xC0 | (u >> 8) as u8, u as u8]);
        }
        _ if i16::try_from(v).is_ok() => {
            lp.push(0xF1);
            lp.extend_from_slice(&(v as i16).to_le_bytes());
        }
        -8_388_608..=8_388_607 => {
            lp.push(0xF2);
            lp.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        }
        _ if i32::try_from(v).is_ok() => {
            lp.push(0xF3);
            lp.extend_from_slice(&(v as i32).to_le_bytes());
        }
        _ => {
            lp.push(0xF4);
            lp.extend_from_slice(&v.to_le_bytes());
        }
    }
    push_backlen(lp, (lp.len() - start) as u64);
}

/// Appends `s` as one listpack string entry, never converted to an
/// integer (`lpEncodeString`).
pub fn append_str(lp: &mut Vec<u8>, s: &[u8]) {
    let start = lp.len();
    let n = s.len();
    if n < 64 {
        lp.push(0x80 | n as u8);
    } else if n < 4096 {
        lp.extend_from_slice(&[0xE0 | (n >> 8) as u8, n as u8]);
    } else {
        lp.push(0xF0);
        lp.extend_from_slice(&(n as u32).to_le_bytes());
    }
    lp.extend_from_slice(s);
    push_backlen(lp, (lp.len() - start) as u64);
}

/// The entry's size, most significant 7-bit group first, every byte but
/// the first flagged with the high bit (`lpEncodeBacklen`).
fn push_backlen(lp: &mut Vec<u8>, l: u64) {
    let groups = backlen_bytes(l);
    for g in (0..groups).rev() {
        let b = ((l >> (7 * g)) & 127) as u8;
        lp.push(if g == groups - 1 { b } else { b | 128 });
    }
}

/// Bytes integer `v` takes as a listpack entry, back-length included.
pub fn int_entry_len(v: i64) -> usize {
    match v {
        0..=127 => 2,
        -4096..=4095 => 3,
        _ if i16::try_from(v).is_ok() => 4,
        -8_388_608..=8_388_607 => 5,
        _ if i32::try_from(v).is_ok() => 6,
        _ => 10,
    }
}

/// One element of a listpack this process wrote (trusted: never a blob a
/// client sent, which `rdb` checks and copies first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl Elem<'_> {
    /// The element as an integer (a string reads as 0, as `lpGetInteger`
    /// never sees one where tandem reads an integer).
    pub fn int(self) -> i64 {
        match self {
            Elem::Int(v) => v,
            Elem::Str(_) => 0,
        }
    }

    /// Whether the element spells `s` (an integer in its decimal form).
    pub fn eq_bytes(self, s: &[u8]) -> bool {
        match self {
            Elem::Str(b) => b == s,
            Elem::Int(v) => itoa::Buffer::new().format(v).as_bytes() == s,
        }
    }

    /// Appends the element to `lp` as it is.
    pub fn append_to(self, lp: &mut Vec<u8>) {
        match self {
            Elem::Int(v) => append_int(lp, v),
            Elem::Str(s) => append_str(lp, s),
        }
    }
}

/// The element at byte `pos` of `lp` and the position of the next one.
/// `pos` must be an element's start in a well-formed listpack.
pub fn get(lp: &[u8], pos: usize) -> (Elem<'_>, usize) {
    let b = lp[pos];
    let sext = |u: u64, bits: u32| -> i64 { ((u << (64 - bits)) as i64) >> (64 - bits) };
    let le = |from: usize, n: usize| -> u64 {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(&lp[from..from + n]);
        u64::from_le_bytes(a)
    };
    let (e, n) = if b & 0x80 == 0 {
        (Elem::Int((b & 0x7F) as i64), 1)
    } else if b & 0xC0 == 0x80 {
        let n = (b & 0x3F) as usize;
        (Elem::Str(&lp[pos + 1..pos + 1 + n]), 1 + n)
    } else if b & 0xE0 == 0xC0 {
        let u = (((b & 0x1F) as u64) << 8) | lp[pos + 1] as u64;
        (Elem::Int(sext(u, 13)), 2)
    } else if b & 0xF0 == 0xE0 {
        let n = (((b & 0x0F) as usize) << 8) | lp[pos + 1] as usize;
        (Elem::Str(&lp[pos + 2..pos + 2 + n]), 2 + n)
    } else {
        match b {
            0xF0 => {
                let n = le(pos + 1, 4) as usize;
                (Elem::Str(&lp[pos + 5..pos + 5 + n]), 5 + n)
            }
            0xF1 => (Elem::Int(sext(le(pos + 1, 2), 16)), 3),
            0xF2 => (Elem::Int(sext(le(pos + 1, 3), 24)), 4),
            0xF3 => (Elem::Int(sext(le(pos + 1, 4), 32)), 5),
            _ => (Elem::Int(le(pos + 1, 8) as i64), 9),
        }
    };
    (e, pos + n + backlen_bytes(n as u64))
}

/// The position after the element at `pos`.
#[inline]
pub fn next(lp: &[u8], pos: usize) -> usize {
    get(lp, pos).1
}

/// Replaces the element at `pos` with integer `v`, moving what follows
/// when the size changes (`lpReplaceInteger`). The caller fixes the
/// header ([`seal`]).
pub fn replace_int(lp: &mut Vec<u8>, pos: usize, v: i64) {
    let end = next(lp, pos);
    let mut enc = Vec::with_capacity(10);
    append_int(&mut enc, v);
    lp.splice(pos..end, enc);
}

/// An empty listpack: the 6-byte header and the end byte.
pub fn new() -> Vec<u8> {
    let mut lp = vec![0u8; 6];
    lp.push(0xFF);
    lp
}

/// Appends to a listpack built by [`new`]: drops the end byte, runs
/// `f`, which appends `added` elements, and seals it again.
pub fn extend(lp: &mut Vec<u8>, added: usize, f: impl FnOnce(&mut Vec<u8>)) {
    lp.pop();
    f(lp);
    lp.push(0xFF);
    let count = u16::from_le_bytes([lp[4], lp[5]]);
    let count = if count == u16::MAX {
        u16::MAX
    } else {
        (count as usize + added).min(u16::MAX as usize) as u16
    };
    lp[4..6].copy_from_slice(&count.to_le_bytes());
    seal(lp);
}

/// Writes the total size into the header (after [`replace_int`]).
pub fn seal(lp: &mut [u8]) {
    let total = lp.len() as u32;
    lp[..4].copy_from_slice(&total.to_le_bytes());
}
