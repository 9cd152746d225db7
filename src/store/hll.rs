//! HyperLogLog in a string value, byte for byte as Redis 7.0 keeps it
//! (`r:src/hyperloglog.c`), so a value moves between the servers by GET
//! and SET (or DUMP and RESTORE) and counts the same in both.
//!
//! Layout: a 16-byte header (`HYLL`, the encoding, three zero bytes, the
//! cached cardinality as a little-endian u64 whose top bit set means
//! "stale"), then 16384 registers of 6 bits:
//!
//! - dense: 12288 bytes, register `i` at bit `6 i`, least significant
//!   bits first;
//! - sparse: run-length opcodes, `00xxxxxx` ZERO (1-64 zero registers),
//!   `01xxxxxx yyyyyyyy` XZERO (1-16384), `1vvvvvxx` VAL (1-4 registers
//!   of value 1-32). A sparse value turns dense when an update needs a
//!   value above 32 or would grow it past `hll-sparse-max-bytes`.
//!
//! Every element hashes with MurmurHash64A (seed `0xadc83b19`): the low
//! 14 bits pick the register, the run of zeros above them (plus one) is
//! the candidate value. The estimate is Ertl's ("New cardinality
//! estimation algorithms for HyperLogLog sketches", 2017), as Redis.
//!
//! Nothing here trusts a value's bytes: a damaged string (sent with SET)
//! gives [`Corrupt`], never a panic or an unbounded loop.

/// Header bytes before the registers.
pub const HDR: usize = 16;
/// Register count (2^14).
pub const REGISTERS: usize = 1 << 14;
/// Hash bits left after the register index.
const Q: u32 = 64 - 14;
/// The largest register value.
const REGISTER_MAX: u8 = 63;
/// Length of a dense value.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * 6).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;

/// A value whose registers do not decode (Redis's `-INVALIDOBJ`).
#[derive(Debug, PartialEq)]
pub struct Corrupt;

/// MurmurHash64A (Austin Appleby), little-endian, as Redis hashes HLL
/// elements.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in chunks.by_ref() {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate() {
            h ^= (*b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element updates and the value it offers (1-51).
pub fn pattern(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash as usize) & (REGISTERS - 1);
    // The bit above the Q used ones ends the run within Q + 1.
    let rest = (hash >> 14) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// An empty HLL: sparse, one XZERO over every register, cached count 0.
pub fn empty() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut left = REGISTERS;
    while left > 0 {
        let n = left.min(XZERO_MAX_LEN);
        push_xzero(&mut v, n);
        left -= n;
    }
    v
}

/// Whether `s` has an HLL's header (and a dense one its exact length):
/// Redis's `isHLLObjectOrReply`.
pub fn is_hll(s: &[u8]) -> bool {
    s.len() >= HDR
        && &s[..4] == b"HYLL"
        && s[4] <= SPARSE
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// The cached cardinality, if it is not stale.
pub fn cached(s: &[u8]) -> Option<u64> {
    let c: [u8; 8] = s.get(8..16)?.try_into().ok()?;
    (c[7] & 0x80 == 0).then(|| u64::from_le_bytes(c))
}

/// Stores `card` as the cached cardinality.
pub fn set_cached(s: &mut [u8], card: u64) {
    if let Some(c) = s.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate(s: &mut [u8]) {
    if let Some(b) = s.get_mut(15) {
        *b |= 0x80;
    }
}

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u32;
    // The last register's second byte is past the end: Redis reads the
    // string's terminating zero there.
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX as u32) as u8
}

fn dense_put(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * 6 / 8;
    let fb = (i * 6) & 7;
    let v = v as u32;
    if let Some(b) = regs.get_mut(byte) {
        *b &= !((REGISTER_MAX as u32) << fb) as u8;
        *b |= (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((REGISTER_MAX as u32) >> (8 - fb)) as u8;
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Raises dense register `i` to `v`; true if it grew.
fn dense_raise(regs: &mut [u8], i: usize, v: u8) -> bool {
    if v > dense_get(regs, i) {
        dense_put(regs, i, v);
        true
    } else {
        false
    }
}

/// One decoded sparse opcode.
#[derive(Clone, Copy)]
enum Op {
    /// A run of zero registers; `wide` for the two-byte XZERO.
    Zero {
        len: usize,
        wide: bool,
    },
    Val {
        value: u8,
        len: usize,
    },
}

impl Op {
    /// The opcode at `s[p]` (a missing second XZERO byte reads as 0, as
    /// Redis reads the terminating zero).
    fn at(s: &[u8], p: usize) -> Op {
        let b = s.get(p).copied().unwrap_or(0);
        if b & 0xc0 == 0 {
            Op::Zero {
                len: (b & 0x3f) as usize + 1,
                wide: false,
            }
        } else if b & 0x80 == 0 {
            let lo = s.get(p + 1).copied().unwrap_or(0) as usize;
            Op::Zero {
                len: ((((b & 0x3f) as usize) << 8) | lo) + 1,
                wide: true,
            }
        } else {
            Op::Val {
                value: ((b >> 2) & 0x1f) + 1,
                len: (b & 3) as usize + 1,
            }
        }
    }

    fn span(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }

    fn bytes(self) -> usize {
        match self {
            Op::Zero { wide: true, .. } => 2,
            _ => 1,
        }
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    (((value - 1) << 2) | (len as u8 - 1)) | 0x80
}

fn push_xzero(v: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    v.push((l >> 8) as u8 | 0x40);
    v.push((l & 0xff) as u8);
}

/// A zero run of `len` registers: ZERO up to 64, XZERO above.
fn push_zeros(v: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        push_xzero(v, len);
    } else {
        v.push(len as u8 - 1);
    }
}

/// Calls `f(first register, run length, value)` for each opcode of the
/// sparse registers `ops` until it returns false; the number of registers
/// covered before that opcode (all of them if it never did).
fn sparse_runs(ops: &[u8], mut f: impl FnMut(usize, usize, u8) -> bool) -> usize {
    let (mut p, mut idx) = (0, 0);
    while p < ops.len() {
        let op = Op::at(ops, p);
        let go = match op {
            Op::Zero { len, .. } => f(idx, len, 0),
            Op::Val { value, len } => f(idx, len, value),
        };
        if !go {
            break;
        }
        idx += op.span();
        p += op.bytes();
    }
    idx
}

/// The dense form of sparse `s` (its header kept, the encoding changed).
/// A VAL past the last register, or runs that do not cover exactly every
/// register, make it [`Corrupt`].
pub fn to_dense(s: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut d = vec![0u8; DENSE_SIZE];
    d[..HDR].copy_from_slice(s.get(..HDR).ok_or(Corrupt)?);
    d[4] = DENSE;
    // A run past the last register is damage (Redis since the fix of
    // CVE-2025-32023, as Debian's 7.0.15 has it).
    let mut over = false;
    let covered = sparse_runs(s.get(HDR..).ok_or(Corrupt)?, |first, len, value| {
        if first + len > REGISTERS {
            over = true;
            return false;
        }
        for i in (value != 0)
            .then_some(first..first + len)
            .into_iter()
            .flatten()
        {
            dense_put(&mut d[HDR..], i, value);
        }
        true
    });
    if over || covered != REGISTERS {
        return Err(Corrupt);
    }
    Ok(d)
}

/// Raises register `index` of HLL `s` to `count`, turning it dense when
/// the sparse form cannot hold the result within `max_sparse` bytes: true
/// if a register grew. Redis's `hllSparseSet` / `hllDenseSet`, with the
/// same opcode splitting and merging so the bytes match.
pub fn raise(s: &mut Vec<u8>, index: usize, count: u8, max_sparse: usize) -> Result<bool, Corrupt> {
    match s.get(4) {
        Some(&DENSE) => Ok(dense_raise(s.get_mut(HDR..).ok_or(Corrupt)?, index, count)),
        Some(&SPARSE) => sparse_raise(s, index, count, max_sparse),
        _ => Err(Corrupt),
    }
}

fn sparse_raise(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_sparse: usize,
) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Find the opcode covering `index`.
    let (mut p, mut first, mut prev) = (HDR, 0usize, None);
    let mut op = None;
    while p < s.len() {
        let o = Op::at(s, p);
        if index < first + o.span() {
            op = Some(o);
            break;
        }
        prev = Some(p);
        p += o.bytes();
        first += o.span();
    }
    let Some(op) = op else {
        return Err(Corrupt);
    };
    match op {
        Op::Val { value, .. } if value >= count => return Ok(false),
        Op::Val { len: 1, .. }
        | Op::Zero {
            len: 1,
            wide: false,
        } => {
            s[p] = val_byte(count, 1);
        }
        _ => {
            // Split the run into up to three: before, ours, after.
            let last = first + op.span() - 1;
            let mut seq = Vec::with_capacity(5);
            match op {
                Op::Zero { .. } => {
                    if index != first {
                        push_zeros(&mut seq, index - first);
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        push_zeros(&mut seq, last - index);
                    }
                }
                Op::Val { value, .. } => {
                    if index != first {
                        seq.push(val_byte(value, index - first));
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        seq.push(val_byte(value, last - index));
                    }
                }
            }
            let old = op.bytes();
            if seq.len() > old && s.len() + (seq.len() - old) > max_sparse {
                return promote(s, index, count);
            }
            let end = (p + old).min(s.len());
            s.splice(p..end, seq);
        }
    }
    // Merge adjacent VALs of one value, scanning up to five opcodes from
    // the one before the change.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let o = Op::at(s, p);
        let Op::Val { value: v1, len: l1 } = o else {
            p += o.bytes();
            continue;
        };
        if p + 1 < s.len() {
            if let Op::Val { value: v2, len: l2 } = Op::at(s, p + 1) {
                if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                    s[p + 1] = val_byte(v1, l1 + l2);
                    s.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
    invalidate(s);
    Ok(true)
}

/// Turns sparse `s` dense, then raises register `index` to `count`.
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    let mut d = to_dense(s)?;
    dense_raise(&mut d[HDR..], index, count);
    *s = d;
    Ok(true)
}

/// PFADD's step for one element; true if a register grew.
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_sparse: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern(ele);
    raise(s, index, count, max_sparse)
}

/// Raises each of `max`'s registers to `s`'s (PFMERGE, PFCOUNT of several
/// keys): Redis's `hllMerge`.
pub fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Corrupt> {
    match s.get(4) {
        Some(&DENSE) => {
            let regs = s.get(HDR..).ok_or(Corrupt)?;
            for (i, m) in max.iter_mut().enumerate().take(REGISTERS) {
                *m = (*m).max(dense_get(regs, i));
            }
            Ok(())
        }
        Some(&SPARSE) => {
            let mut over = false;
            let covered = sparse_runs(s.get(HDR..).ok_or(Corrupt)?, |first, len, value| match max
                .get_mut(first..first + len)
            {
                Some(regs) if first + len <= REGISTERS => {
                    if value != 0 {
                        regs.iter_mut().for_each(|m| *m = (*m).max(value));
                    }
                    true
                }
                _ => {
                    over = true;
                    false
                }
            });
            if over || covered != REGISTERS {
                return Err(Corrupt);
            }
            Ok(())
        }
        _ => Err(Corrupt),
    }
}

/// The estimated cardinality of HLL `s`. A sparse value whose runs do not
/// cover every register is [`Corrupt`] (Redis's `invalid` flag).
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u64; 64];
    match s.get(4) {
        Some(&DENSE) => {
            let regs = s.get(HDR..).ok_or(Corrupt)?;
            for i in 0..REGISTERS {
                histo[dense_get(regs, i) as usize] += 1;
            }
        }
        Some(&SPARSE) => {
            let covered = sparse_runs(s.get(HDR..).ok_or(Corrupt)?, |_, len, value| {
                histo[value as usize] += len as u64;
                true
            });
            if covered != REGISTERS {
                return Err(Corrupt);
            }
        }
        _ => return Err(Corrupt),
    }
    Ok(estimate(&histo))
}

/// The cardinality of raw registers (one byte each, values 0-63).
pub fn count_registers(regs: &[u8]) -> u64 {
    let mut histo = [0u64; 64];
    for &r in regs {
        histo[(r & 63) as usize] += 1;
    }
    estimate(&histo)
}

/// Ertl's estimator over the register histogram (Redis's `hllCount`).
fn estimate(histo: &[u64; 64]) -> u64 {
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q as usize + 1] as f64) / m);
    for j in (1..=Q as usize).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    // 0.5 / ln 2
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    // Converges within ~60 rounds for x < 1; the cap only bounds the loop.
    for _ in 0..10_000 {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            break;
        }
    }
    z
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    for _ in 0..10_000 {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if prev == z {
            break;
        }
    }
    z / 3.0
}

/// PFDEBUG DECODE's text of sparse `s`: `z:N` (ZERO), `Z:N` (XZERO),
/// `v:V,N` (VAL), space separated.
pub fn decode(s: &[u8]) -> String {
    let mut out = Vec::new();
    let ops = s.get(HDR..).unwrap_or_default();
    let mut p = 0;
    while p < ops.len() {
        let op = Op::at(ops, p);
        out.push(match op {
            Op::Zero { len, wide: false } => format!("z:{len}"),
            Op::Zero { len, wide: true } => format!("Z:{len}"),
            Op::Val { value, len } => format!("v:{value},{len}"),
        });
        p += op.bytes();
    }
    out.join(" ")
}

/// Every register of HLL `s` (dense after [`to_dense`]), for PFDEBUG GETREG.
pub fn registers(dense: &[u8]) -> Vec<u8> {
    let regs = dense.get(HDR..).unwrap_or_default();
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// PFSELFTEST: dense registers keep what is written without touching
/// their neighbours; sparse and dense values agree; the estimate stays
/// within six standard errors up to 10M elements (Redis's
/// `pfselftestCommand`). The error text on failure starts with
/// `TESTFAILED`.
pub fn self_test(seed: u64, max_sparse: usize) -> Result<(), String> {
    let mut rng = seed | 1;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut dense = vec![0u8; DENSE_SIZE - HDR];
    let mut want = vec![0u8; REGISTERS];
    for _ in 0..100 {
        for (i, w) in want.iter_mut().enumerate() {
            *w = (next() & REGISTER_MAX as u64) as u8;
            dense_put(&mut dense, i, *w);
        }
        for (i, &w) in want.iter().enumerate() {
            let got = dense_get(&dense, i);
            if got != w {
                return Err(format!(
                    "TESTFAILED Register {i} should be {w} but is {got}"
                ));
            }
        }
    }
    let mut dense = empty();
    dense = to_dense(&dense).map_err(|_| "TESTFAILED empty HLL".to_string())?;
    let mut sparse = empty();
    let relerr = 1.04 / (REGISTERS as f64).sqrt();
    let mut checkpoint: u64 = 1;
    let salt = next();
    for j in 1..=10_000_000u64 {
        let ele = (j ^ salt).to_le_bytes();
        let _ = add(&mut dense, &ele, max_sparse);
        let _ = add(&mut sparse, &ele, max_sparse);
        if j != checkpoint {
            continue;
        }
        if (j as usize) < max_sparse / 2 && sparse.get(4) != Some(&SPARSE) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let card = count(&dense).map_err(|_| "TESTFAILED dense count".to_string())?;
        if count(&sparse).ok() != Some(card) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = checkpoint.abs_diff(card);
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_and_dense_agree_and_damage_is_caught() {
        let mut sparse = empty();
        let mut dense = to_dense(&empty()).unwrap();
        for i in 0..5000u32 {
            let e = i.to_le_bytes();
            add(&mut sparse, &e, 3000).unwrap();
            add(&mut dense, &e, 3000).unwrap();
            if i % 97 == 0 {
                assert_eq!(count(&sparse), count(&dense));
            }
        }
        assert_eq!(sparse.len(), DENSE_SIZE, "promoted past 3000 bytes");
        assert_eq!(sparse[HDR..], dense[HDR..]);
        // Every truncation and every one-byte change of a sparse value
        // decodes or fails cleanly.
        let mut s = empty();
        for i in 0..200u32 {
            add(&mut s, &i.to_le_bytes(), 3000).unwrap();
        }
        for cut in 0..s.len() {
            let mut t = s[..cut].to_vec();
            let _ = count(&t);
            let _ = to_dense(&t);
            let _ = raise(&mut t, 5, 3, 3000);
        }
        for at in HDR..s.len() {
            for b in [0u8, 0x3f, 0x40, 0x7f, 0x80, 0xff] {
                let mut t = s.clone();
                t[at] = b;
                let _ = count(&t);
                let mut max = vec![0u8; REGISTERS];
                let _ = merge_into(&mut max, &t);
                let _ = raise(&mut t, 16383, 40, 3000);
            }
        }
    }
}
