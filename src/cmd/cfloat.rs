//! The C floating-point behaviour Redis inherits from libc, reproduced
//! bit for bit, because replies and stored values depend on it:
//!
//! - [`strtod`]: glibc's `strtod` grammar (leading blanks, sign, `inf`,
//!   `infinity`, `nan(...)`, decimal and hex floats `0x1.8p3`) and its
//!   range errors (ERANGE on overflow to infinity or underflow to zero).
//!   Redis reads scores, weights and score ranges with it.
//! - [`LongDouble`]: the x87 80-bit `long double` (64-bit significand) that
//!   Redis uses for INCRBYFLOAT, HINCRBYFLOAT and blocking timeouts:
//!   `strtold` ([`LongDouble::parse`], Redis `string2ld` rules), addition
//!   and multiplication rounded to nearest-even, conversion to `long long`
//!   as x86-64 does it, and `%.17Lf` with Redis's trimming
//!   ([`LongDouble::human`], Redis `ld2string(LD_STR_HUMAN)`).
//!
//! Everything is exact: decimal conversions use big integers, so `0.1 +
//! 0.2` gives `0.3` as in Redis (an f64 sum would print
//! `0.30000000000000004`). Work is bounded by the input length, which
//! callers bound ([`MAX_LD_CHARS`] for long doubles, [`MAX_DIGITS`] for
//! doubles).

use std::cmp::Ordering;

/// Redis's `MAX_LONG_DOUBLE_CHARS`: `string2ld` rejects inputs this long.
pub const MAX_LD_CHARS: usize = 5 * 1024;

/// Significant decimal digits kept when parsing a double; more (only in
/// absurd inputs) are folded into a sticky bit.
pub const MAX_DIGITS: usize = 1200;

/// A binary floating-point format.
#[derive(Clone, Copy)]
struct Format {
    /// Significand bits, the leading one included.
    bits: u32,
    /// Exponent of the leading bit of the smallest normal number.
    emin: i32,
    /// Exponent of the leading bit of the largest finite number.
    emax: i32,
}

const F64: Format = Format {
    bits: 53,
    emin: -1022,
    emax: 1023,
};
const F80: Format = Format {
    bits: 64,
    emin: -16382,
    emax: 16383,
};

/// A value of either format: `|v| = m * 2^e` for finite non-zero ones.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fp {
    Zero(bool),
    Inf(bool),
    Nan,
    Num { neg: bool, m: u64, e: i32 },
}

/// Rounds `(m + sticky) * 2^e` (sticky: a non-zero fraction of one unit
/// below `m`) to `f`, nearest-even; returns the value and glibc's ERANGE:
/// overflow, or a result that is inexact and tiny before rounding (below
/// the smallest normal). Callers passing `sticky` give `m >= 2^(f.bits +
/// 1)`, so the sticky part lies below the rounding bit.
fn round(f: Format, neg: bool, m: u128, e: i32, sticky: bool) -> (Fp, bool) {
    if m == 0 {
        return (Fp::Zero(neg), sticky);
    }
    let top = 127 - m.leading_zeros() as i32;
    let lead = top + e;
    let tiny = lead < f.emin;
    let mut lsb = (lead - (f.bits as i32 - 1)).max(f.emin - (f.bits as i32 - 1));
    let shift = lsb - e;
    let mut q: u128;
    let mut inexact = sticky;
    if shift <= 0 {
        q = m << (-shift) as u32;
    } else if shift >= 129 {
        q = 0;
        inexact = true;
    } else {
        let (kept, rem) = if shift == 128 {
            (0u128, m)
        } else {
            (m >> shift, m & ((1u128 << shift) - 1))
        };
        let half = 1u128 << (shift - 1);
        q = kept;
        inexact |= rem != 0;
        if rem > half || (rem == half && (sticky || q & 1 == 1)) {
            q += 1;
            if q == 1u128 << f.bits {
                q >>= 1;
                lsb += 1;
            }
        }
    }
    if q == 0 {
        return (Fp::Zero(neg), true);
    }
    let lead = (127 - q.leading_zeros() as i32) + lsb;
    if lead > f.emax {
        return (Fp::Inf(neg), true);
    }
    (
        Fp::Num {
            neg,
            m: q as u64,
            e: lsb,
        },
        tiny && inexact,
    )
}

/// A minimal unsigned big integer (little-endian 32-bit limbs).
#[derive(Clone, Debug)]
struct Big(Vec<u32>);

impl Big {
    fn from_u128(mut v: u128) -> Big {
        let mut l = Vec::new();
        while v != 0 {
            l.push(v as u32);
            v >>= 32;
        }
        Big(l)
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> u32 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u32 - 1) * 32 + (32 - top.leading_zeros()),
        }
    }

    fn mul_add_small(&mut self, mul: u32, add: u32) {
        let mut carry = add as u64;
        for l in self.0.iter_mut() {
            let v = *l as u64 * mul as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    /// From ASCII decimal digits.
    fn from_digits(d: &[u8]) -> Big {
        let mut b = Big(Vec::new());
        for chunk in d.chunks(9) {
            let mut v = 0u32;
            for &c in chunk {
                v = v * 10 + (c - b'0') as u32;
            }
            b.mul_add_small(10u32.pow(chunk.len() as u32), v);
        }
        b.trim();
        b
    }

    fn mul_pow10(&mut self, mut k: u32) {
        while k >= 9 {
            self.mul_add_small(1_000_000_000, 0);
            k -= 9;
        }
        if k > 0 {
            self.mul_add_small(10u32.pow(k), 0);
        }
    }

    fn shl(&self, n: u32) -> Big {
        let (words, bits) = ((n / 32) as usize, n % 32);
        let mut out = vec![0u32; words];
        if bits == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u32;
            for &l in &self.0 {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
            if carry != 0 {
                out.push(carry);
            }
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn shr1(&mut self) {
        let mut carry = 0u32;
        for l in self.0.iter_mut().rev() {
            let next = *l & 1;
            *l = (*l >> 1) | (carry << 31);
            carry = next;
        }
        self.trim();
    }

    fn cmp(&self, o: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&o.0.len())
            .then_with(|| self.0.iter().rev().cmp(o.0.iter().rev()))
    }

    /// `self -= o`, given `self >= o`.
    fn sub_assign(&mut self, o: &Big) {
        let mut borrow = 0i64;
        for (i, l) in self.0.iter_mut().enumerate() {
            let v = *l as i64 - borrow - o.0.get(i).copied().unwrap_or(0) as i64;
            borrow = (v < 0) as i64;
            *l = v.rem_euclid(1 << 32) as u32;
        }
        self.trim();
    }

    /// The top 128 bits as `(m, e, sticky)`: `self = (m + sticky) * 2^e`.
    fn top128(&self) -> (u128, i32, bool) {
        let bits = self.bits();
        let sh = bits.saturating_sub(128);
        let mut m = 0u128;
        for b in 0..bits - sh {
            if self.bit(sh + b) {
                m |= 1u128 << b;
            }
        }
        let sticky = (0..sh).any(|p| self.bit(p));
        (m, sh as i32, sticky)
    }

    fn bit(&self, pos: u32) -> bool {
        let (w, b) = ((pos / 32) as usize, pos % 32);
        self.0.get(w).is_some_and(|l| l >> b & 1 == 1)
    }

    /// Decimal digits (no leading zeros; "0" for zero).
    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut limbs = self.0.clone();
        let mut parts: Vec<u32> = Vec::new();
        while !limbs.is_empty() {
            let mut rem = 0u64;
            for l in limbs.iter_mut().rev() {
                let cur = (rem << 32) | *l as u64;
                *l = (cur / 1_000_000_000) as u32;
                rem = cur % 1_000_000_000;
            }
            parts.push(rem as u32);
            while limbs.last() == Some(&0) {
                limbs.pop();
            }
        }
        let mut s = parts.last().map(|p| p.to_string()).unwrap_or_default();
        for p in parts.iter().rev().skip(1) {
            s.push_str(&format!("{p:09}"));
        }
        s
    }
}

/// A C float literal as strtod scans it.
enum Lit {
    Inf(bool),
    Nan,
    /// ASCII digits (leading zeros stripped) times `10^e`.
    Dec {
        neg: bool,
        digits: Vec<u8>,
        e: i64,
        sticky: bool,
    },
    /// Top bits of the hex significand times `2^e`.
    Hex {
        neg: bool,
        m: u128,
        e: i64,
        sticky: bool,
    },
}

fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn starts_ci(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// Scans a literal at the start of `s` like glibc's strtod: returns the
/// literal and the bytes consumed (0: no conversion).
fn scan(s: &[u8]) -> (Option<Lit>, usize) {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let rest = &s[i..];
    if starts_ci(rest, b"inf") {
        let n = if starts_ci(rest, b"infinity") { 8 } else { 3 };
        return (Some(Lit::Inf(neg)), i + n);
    }
    if starts_ci(rest, b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let mut j = 4;
            while j < rest.len() && (rest[j].is_ascii_alphanumeric() || rest[j] == b'_') {
                j += 1;
            }
            if rest.get(j) == Some(&b')') {
                n = j + 1;
            }
        }
        return (Some(Lit::Nan), i + n);
    }
    let hexdig = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_hexdigit());
    if rest.len() >= 2
        && rest[0] == b'0'
        && (rest[1] | 0x20) == b'x'
        && (hexdig(rest.get(2)) || (rest.get(2) == Some(&b'.') && hexdig(rest.get(3))))
    {
        return scan_hex(neg, rest, i);
    }
    // Decimal.
    let mut j = 0;
    let mut digits = Vec::new();
    let mut e: i64 = 0;
    let mut sticky = false;
    let mut seen = false;
    fn push(c: u8, frac: bool, digits: &mut Vec<u8>, e: &mut i64, sticky: &mut bool) {
        if digits.is_empty() && c == b'0' {
            if frac {
                *e -= 1;
            }
            return;
        }
        if digits.len() < MAX_DIGITS {
            digits.push(c);
            if frac {
                *e -= 1;
            }
        } else {
            *sticky |= c != b'0';
            if !frac {
                *e += 1;
            }
        }
    }
    while j < rest.len() && rest[j].is_ascii_digit() {
        push(rest[j], false, &mut digits, &mut e, &mut sticky);
        seen = true;
        j += 1;
    }
    if j < rest.len() && rest[j] == b'.' {
        let mut k = j + 1;
        let mut frac_seen = false;
        while k < rest.len() && rest[k].is_ascii_digit() {
            push(rest[k], true, &mut digits, &mut e, &mut sticky);
            frac_seen = true;
            k += 1;
        }
        if seen || frac_seen {
            j = k;
            seen = true;
        }
    }
    if !seen {
        return (None, 0);
    }
    if j < rest.len() && (rest[j] | 0x20) == b'e' {
        j = exponent(rest, j + 1, &mut e);
    }
    // Trailing zeros of the significand move into the exponent.
    while digits.last() == Some(&b'0') {
        digits.pop();
        e += 1;
    }
    (
        Some(Lit::Dec {
            neg,
            digits,
            e,
            sticky,
        }),
        i + j,
    )
}

fn scan_hex(neg: bool, rest: &[u8], start: usize) -> (Option<Lit>, usize) {
    let mut j = 2;
    let mut m = 0u128;
    let mut e: i64 = 0;
    let mut sticky = false;
    fn add(d: u32, frac: bool, m: &mut u128, e: &mut i64, sticky: &mut bool) {
        if *m >> 120 == 0 {
            *m = (*m << 4) | d as u128;
            if frac {
                *e -= 4;
            }
        } else {
            *sticky |= d != 0;
            if !frac {
                *e += 4;
            }
        }
    }
    while j < rest.len() && rest[j].is_ascii_hexdigit() {
        let d = (rest[j] as char).to_digit(16).unwrap_or(0);
        add(d, false, &mut m, &mut e, &mut sticky);
        j += 1;
    }
    if j < rest.len() && rest[j] == b'.' {
        j += 1;
        while j < rest.len() && rest[j].is_ascii_hexdigit() {
            let d = (rest[j] as char).to_digit(16).unwrap_or(0);
            add(d, true, &mut m, &mut e, &mut sticky);
            j += 1;
        }
    }
    if j < rest.len() && (rest[j] | 0x20) == b'p' {
        j = exponent(rest, j + 1, &mut e);
    }
    (Some(Lit::Hex { neg, m, e, sticky }), start + j)
}

/// Converts a scanned literal to format `f`; the flag is ERANGE.
fn convert(f: Format, lit: Lit) -> (Fp, bool) {
    match lit {
        Lit::Inf(neg) => (Fp::Inf(neg), false),
        Lit::Nan => (Fp::Nan, false),
        Lit::Hex { neg, m, e, sticky } => {
            if m == 0 {
                return (Fp::Zero(neg), false);
            }
            let top = 127 - m.leading_zeros() as i64;
            if top + e > f.emax as i64 + 1 {
                return (Fp::Inf(neg), true);
            }
            if top + e < f.emin as i64 - f.bits as i64 - 2 {
                return (Fp::Zero(neg), true);
            }
            // A sticky bit only comes with a full (>= 121-bit) significand.
            round(f, neg, m, e as i32, sticky)
        }
        Lit::Dec {
            neg,
            digits,
            e,
            sticky,
        } => {
            if digits.is_empty() {
                return (Fp::Zero(neg), false);
            }
            // The value lies in [10^(mag-1), 10^mag).
            let mag = digits.len() as i64 + e;
            // 10^(mag-1) >= 2^(3(mag-1)) and 10^mag < 2^(4 mag) (mag > 0),
            // 10^mag <= 2^(3 mag) (mag <= 0): settle the far ranges early.
            if 3 * (mag - 1) > f.emax as i64 + 1 {
                return (Fp::Inf(neg), true);
            }
            if mag <= 0 && 3 * mag < f.emin as i64 - f.bits as i64 - 1 {
                return (Fp::Zero(neg), true);
            }
            let mut d = Big::from_digits(&digits);
            if e >= 0 {
                d.mul_pow10(e as u32);
                let (m, sh, st) = d.top128();
                return round(f, neg, m, sh, st || sticky);
            }
            let mut p = Big(vec![1]);
            p.mul_pow10((-e) as u32);
            // q = floor(d * 2^s / p) in [2^125, 2^127).
            let s = p.bits() as i64 - d.bits() as i64 + 126;
            let (mut num, den) = if s >= 0 {
                (d.shl(s as u32), p)
            } else {
                (d, p.shl((-s) as u32))
            };
            let mut q = 0u128;
            let mut t = den.shl(127);
            for b in (0..=127).rev() {
                if num.cmp(&t) != Ordering::Less {
                    num.sub_assign(&t);
                    q |= 1u128 << b;
                }
                t.shr1();
            }
            let st = !num.is_zero() || sticky;
            round(f, neg, q, (-s) as i32, st)
        }
    }
}

/// glibc `strtod` on `s`: the value and the bytes consumed (0 when no
/// number was found), and ERANGE.
pub fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let (lit, used) = scan(s);
    let Some(lit) = lit else {
        return (0.0, 0, false);
    };
    let (fp, erange) = convert(F64, lit);
    (to_f64(fp), used, erange)
}

fn to_f64(fp: Fp) -> f64 {
    match fp {
        Fp::Zero(neg) => {
            if neg {
                -0.0
            } else {
                0.0
            }
        }
        Fp::Inf(neg) => {
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        Fp::Nan => f64::NAN,
        Fp::Num { neg, m, e } => {
            // m < 2^53; normal when m >= 2^52.
            let bits = if m >> 52 != 0 {
                let biased = (e + 52 + 1023) as u64;
                (biased << 52) | (m & ((1 << 52) - 1))
            } else {
                m
            };
            let v = f64::from_bits(bits);
            if neg { -v } else { v }
        }
    }
}

/// Redis `string2d` (`getDoubleFromObject`): the whole string is one
/// number, no leading blank, not NaN, no overflow to ±inf nor underflow to
/// zero (a literal `inf` is fine). ZADD, ZINCRBY, WEIGHTS.
pub fn string2d(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    if let Some(v) = plain_decimal(s) {
        return Some(v);
    }
    let (v, used, erange) = strtod(s);
    if used != s.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

/// The value of a plain decimal `[-]digits[.digits]` whose digits, point
/// removed, make an integer below 2^53 with at most 22 after the point:
/// then that integer and the power of ten are exact doubles and one
/// multiplication or division rounds correctly (Clinger's fast path), the
/// same double `strtod` gives. None for anything else (exponents, more
/// digits, `inf`), which takes the full conversion.
fn plain_decimal(s: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (neg, body) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    let (int, frac) = match memchr::memchr(b'.', body) {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, &body[..0]),
    };
    if (int.is_empty() && frac.is_empty()) || int.len() + frac.len() > 16 || frac.len() > 22 {
        return None;
    }
    let mut m: u64 = 0;
    for &c in int.iter().chain(frac) {
        if !c.is_ascii_digit() {
            return None;
        }
        m = m * 10 + (c - b'0') as u64;
    }
    if m > 1 << 53 {
        return None;
    }
    let v = m as f64 / POW10[frac.len()];
    Some(if neg { -v } else { v })
}

/// An x87 80-bit extended-precision value, Redis's `long double`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LongDouble(Fp);

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble(Fp::Zero(false));

    /// Redis `string2ld`: strtold over the whole string, which must be
    /// shorter than [`MAX_LD_CHARS`], not start with a blank, not be NaN,
    /// nor overflow to ±inf or underflow to zero.
    pub fn parse(s: &[u8]) -> Option<LongDouble> {
        if s.is_empty() || s.len() >= MAX_LD_CHARS || is_c_space(s[0]) {
            return None;
        }
        let (lit, used) = scan(s);
        if used != s.len() {
            return None;
        }
        let (fp, erange) = convert(F80, lit?);
        let bad = match fp {
            Fp::Nan => true,
            Fp::Inf(_) | Fp::Zero(_) => erange,
            _ => false,
        };
        (!bad).then_some(LongDouble(fp))
    }

    /// Exact conversion of an integer.
    pub fn from_i64(n: i64) -> LongDouble {
        if n == 0 {
            return LongDouble::ZERO;
        }
        let (fp, _) = round(F80, n < 0, n.unsigned_abs() as u128, 0, false);
        LongDouble(fp)
    }

    /// Exact conversion of a double.
    pub fn from_f64(d: f64) -> LongDouble {
        if d.is_nan() {
            return LongDouble(Fp::Nan);
        }
        if d.is_infinite() {
            return LongDouble(Fp::Inf(d < 0.0));
        }
        if d == 0.0 {
            return LongDouble(Fp::Zero(d.is_sign_negative()));
        }
        let bits = d.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1 << 52) - 1);
        let (m, e) = if exp == 0 {
            (frac, -1074)
        } else {
            (frac | 1 << 52, exp - 1075)
        };
        LongDouble(round(F80, d < 0.0, m as u128, e, false).0)
    }

    pub fn is_finite(&self) -> bool {
        matches!(self.0, Fp::Zero(_) | Fp::Num { .. })
    }

    /// `self + o`, rounded to nearest-even (x87 default).
    pub fn add(self, o: LongDouble) -> LongDouble {
        use Fp::*;
        LongDouble(match (self.0, o.0) {
            (Nan, _) | (_, Nan) => Nan,
            (Inf(a), Inf(b)) => {
                if a == b {
                    Inf(a)
                } else {
                    Nan
                }
            }
            (Inf(a), _) | (_, Inf(a)) => Inf(a),
            (Zero(a), Zero(b)) => Zero(a && b),
            (Zero(_), x) | (x, Zero(_)) => x,
            (
                Num {
                    neg: na,
                    m: ma,
                    e: ea,
                },
                Num {
                    neg: nb,
                    m: mb,
                    e: eb,
                },
            ) => {
                // Order so `a` has the larger exponent.
                let ((na, ma, ea), (nb, mb, eb)) = if ea >= eb {
                    ((na, ma, ea), (nb, mb, eb))
                } else {
                    ((nb, mb, eb), (na, ma, ea))
                };
                let d = (ea - eb) as u32;
                // Align at exponent ea - 62 (a's significand shifted up 62).
                let a = (ma as u128) << 62;
                let (b, sticky) = if d <= 62 {
                    ((mb as u128) << (62 - d), false)
                } else if d - 62 < 128 {
                    let sh = d - 62;
                    let b = mb as u128 >> sh;
                    (b, (mb as u128) & ((1u128 << sh) - 1) != 0)
                } else {
                    (0, true)
                };
                let e = ea - 62;
                if na == nb {
                    round(F80, na, a + b, e, sticky).0
                } else if sticky {
                    // b is far below a (a >= 2^125 > b): the exact
                    // difference is (a - b - 1) plus a fraction.
                    round(F80, na, a - b - 1, e, true).0
                } else if a > b {
                    round(F80, na, a - b, e, false).0
                } else if b > a {
                    round(F80, nb, b - a, e, false).0
                } else {
                    Zero(false)
                }
            }
        })
    }

    /// `self * o`, rounded to nearest-even.
    pub fn mul(self, o: LongDouble) -> LongDouble {
        use Fp::*;
        let sign = |a: bool, b: bool| a != b;
        LongDouble(match (self.0, o.0) {
            (Nan, _) | (_, Nan) => Nan,
            (Inf(_), Zero(_)) | (Zero(_), Inf(_)) => Nan,
            (Inf(a), Inf(b)) => Inf(sign(a, b)),
            (Inf(a), Num { neg: b, .. }) | (Num { neg: a, .. }, Inf(b)) => Inf(sign(a, b)),
            (Zero(a), Zero(b)) => Zero(sign(a, b)),
            (Zero(a), Num { neg: b, .. }) | (Num { neg: a, .. }, Zero(b)) => Zero(sign(a, b)),
            (
                Num {
                    neg: na,
                    m: ma,
                    e: ea,
                },
                Num {
                    neg: nb,
                    m: mb,
                    e: eb,
                },
            ) => round(F80, sign(na, nb), ma as u128 * mb as u128, ea + eb, false).0,
        })
    }

    /// `ceill(self)`: the smallest integer not below it (-0 for values in
    /// (-1, 0)).
    pub fn ceil(self) -> LongDouble {
        let Fp::Num { neg, m, e } = self.0 else {
            return self;
        };
        if e >= 0 {
            return self;
        }
        let k = (-e) as u32;
        let (int, frac) = if k >= 64 {
            (0u64, m != 0)
        } else {
            (m >> k, m & ((1u64 << k) - 1) != 0)
        };
        let int = if frac && !neg { int + 1 } else { int };
        if int == 0 {
            return LongDouble(Fp::Zero(neg));
        }
        LongDouble(round(F80, neg, int as u128, 0, false).0)
    }

    /// Numeric comparison (None with NaN); -0 equals 0.
    pub fn partial_cmp(&self, o: &LongDouble) -> Option<Ordering> {
        // (sign, magnitude) with the magnitude normalized for comparison.
        fn key(fp: Fp) -> Option<(bool, i32, u64)> {
            match fp {
                Fp::Nan => None,
                Fp::Zero(_) => Some((false, i32::MIN, 0)),
                Fp::Inf(neg) => Some((neg, i32::MAX, u64::MAX)),
                Fp::Num { neg, m, e } => {
                    let lz = m.leading_zeros();
                    Some((neg, e - lz as i32, m << lz))
                }
            }
        }
        let (a, b) = (key(self.0)?, key(o.0)?);
        let mag = |k: (bool, i32, u64)| (k.1, k.2);
        let signed = |k: (bool, i32, u64)| {
            if k.1 == i32::MIN {
                0
            } else if k.0 {
                -1
            } else {
                1
            }
        };
        Some(match signed(a).cmp(&signed(b)) {
            Ordering::Equal if signed(a) > 0 => mag(a).cmp(&mag(b)),
            Ordering::Equal if signed(a) < 0 => mag(b).cmp(&mag(a)),
            other => other,
        })
    }

    /// `(long long)self` as x86-64 compiles it: truncation toward zero, and
    /// the "integer indefinite" `LLONG_MIN` for NaN, infinities and values
    /// out of range.
    pub fn to_i64_trunc(self) -> i64 {
        match self.0 {
            Fp::Zero(_) => 0,
            Fp::Inf(_) | Fp::Nan => i64::MIN,
            Fp::Num { neg, m, e } => {
                let mag: u128 = if e >= 0 {
                    if e >= 64 {
                        return i64::MIN;
                    }
                    (m as u128) << e
                } else if e <= -64 {
                    0
                } else {
                    (m >> (-e) as u32) as u128
                };
                if neg {
                    if mag > 1u128 << 63 {
                        i64::MIN
                    } else {
                        (mag as i128).wrapping_neg() as i64
                    }
                } else if mag >= 1u128 << 63 {
                    i64::MIN
                } else {
                    mag as i64
                }
            }
        }
    }

    /// Redis `ld2string(LD_STR_HUMAN)`: `%.17Lf`, trailing zeros (and a
    /// trailing dot) removed, `-0` shown as `0`; `inf`/`-inf` as such.
    pub fn human(self) -> String {
        let (neg, m, e) = match self.0 {
            Fp::Inf(neg) => return if neg { "-inf".into() } else { "inf".into() },
            Fp::Nan => return "nan".into(),
            Fp::Zero(neg) => (neg, 0u64, 0i32),
            Fp::Num { neg, m, e } => (neg, m, e),
        };
        // n = round-half-even(|v| * 10^17)
        let scaled = m as u128 * 100_000_000_000_000_000u128;
        let digits = if e >= 0 {
            Big::from_u128(scaled).shl(e as u32).to_decimal()
        } else {
            let k = (-e) as u32;
            let n = if k >= 128 {
                0
            } else {
                let q = scaled >> k;
                let rem = scaled & ((1u128 << k) - 1);
                let half = 1u128 << (k - 1);
                if rem > half || (rem == half && q & 1 == 1) {
                    q + 1
                } else {
                    q
                }
            };
            n.to_string()
        };
        let digits = format!("{digits:0>18}");
        let (int, frac) = digits.split_at(digits.len() - 17);
        let mut s = format!("{}{int}.{frac}", if neg { "-" } else { "" });
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
        if s == "-0" {
            s = "0".into();
        }
        s
    }
}

/// The signed decimal exponent at `rest[k..]` (after `e` or `p`), as
/// strtod reads it (clamped, so no client text overflows it), added to `e`.
/// Returns where the number ends, or `k - 1` (the marker is then not part
/// of the number) when no digit follows.
fn exponent(rest: &[u8], mut k: usize, e: &mut i64) -> usize {
    let marker = k - 1;
    let mut neg = false;
    if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
        neg = rest[k] == b'-';
        k += 1;
    }
    if k >= rest.len() || !rest[k].is_ascii_digit() {
        return marker;
    }
    let mut x: i64 = 0;
    while k < rest.len() && rest[k].is_ascii_digit() {
        x = (x * 10 + (rest[k] - b'0') as i64).min(1_000_000_000);
        k += 1;
    }
    *e = e.saturating_add(if neg { -x } else { x });
    k
}

#[cfg(test)]
mod tests {

    #[test]
    fn fast_decimals_match_the_full_conversion() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..200_000 {
            let digits = 1 + next() % 17;
            let mut s: String = (0..digits)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            if next() % 3 > 0 {
                let at = (next() % (digits + 1)) as usize;
                s.insert(at, '.');
            }
            if next() % 4 == 0 {
                s.insert(0, '-');
            }
            if let Some(fast) = plain_decimal(s.as_bytes()) {
                let (full, used, _) = strtod(s.as_bytes());
                assert_eq!(used, s.len(), "{s}");
                assert_eq!(fast.to_bits(), full.to_bits(), "{s}");
            }
        }
    }
    use super::*;

    fn ld(s: &str) -> LongDouble {
        LongDouble::parse(s.as_bytes()).unwrap_or_else(|| panic!("parse {s}"))
    }

    #[test]
    fn strtod_grammar() {
        assert_eq!(string2d(b"1.5"), Some(1.5));
        assert_eq!(string2d(b"0x10"), Some(16.0));
        assert_eq!(string2d(b"0x1.8p1"), Some(3.0));
        assert_eq!(string2d(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(string2d(b"Infinity"), Some(f64::INFINITY));
        assert_eq!(string2d(b"1e308"), Some(1e308));
        assert_eq!(string2d(b"1e309"), None);
        assert_eq!(string2d(b"1e-400"), None);
        assert_eq!(string2d(b"4.9e-324"), Some(5e-324));
        assert_eq!(string2d(b"0e-400"), Some(0.0));
        assert_eq!(string2d(b"nan"), None);
        assert_eq!(string2d(b""), None);
        assert_eq!(string2d(b" 1"), None);
        assert_eq!(string2d(b"1 "), None);
        assert_eq!(string2d(b"1e"), None);
        assert_eq!(string2d(b"."), None);
        assert_eq!(string2d(b"5."), Some(5.0));
        assert_eq!(string2d(b".5"), Some(0.5));
        assert_eq!(string2d(b"0x"), None);
        assert_eq!(strtod(b"0x").1, 1);
        assert_eq!(strtod(b"  -1.5e2x"), (-150.0, 8, false));
        assert_eq!(strtod(b"(1").1, 0);
        assert_eq!(strtod(b"").1, 0);
        assert_eq!(string2d(b"0.1"), Some(0.1));
        assert_eq!(
            string2d(b"2.2250738585072011e-308"),
            Some(2.2250738585072011e-308)
        );
        assert_eq!(
            string2d(b"1.7976931348623157e308"),
            Some(1.7976931348623157e308)
        );
    }

    #[test]
    fn long_double_matches_glibc() {
        // Vectors from glibc: printf("%.17Lf", strtold(a) + strtold(b)),
        // trimmed as Redis does.
        let cases = [
            ("0.1", "0.2", "0.3"),
            ("1.5", "1.5", "3"),
            ("10.5", "0.1", "10.6"),
            ("-9223372036854775808", "0", "-9223372036854775808"),
            // 1e20 + 1 needs 67 bits: it rounds back to 1e20.
            ("1e20", "1", "100000000000000000000"),
            ("0.1", "-0.1", "0"),
            ("-0.00000000000000000001", "0", "0"),
            ("3.0e3", "1.0e3", "4000"),
            ("5.0e3", "0", "5000"),
            ("1.1", "2.2", "3.3"),
            ("1.1", "-0.25", "0.85"),
        ];
        for (a, b, want) in cases {
            assert_eq!(ld(a).add(ld(b)).human(), want, "{a} + {b}");
        }
        assert_eq!(ld("1e400").human().len(), 401);
        assert!(LongDouble::parse(b"1e5000").is_none());
        assert!(LongDouble::parse(b"1e-5000").is_none());
        assert!(LongDouble::parse(b"inf").is_some());
        assert!(!ld("inf").add(ld("1")).is_finite());
        assert_eq!(ld("0.01").mul(ld("1000")).to_i64_trunc(), 10);
        assert_eq!(ld("inf").mul(ld("1000")).to_i64_trunc(), i64::MIN);
        assert_eq!(ld("1e400").mul(ld("1000")).to_i64_trunc(), i64::MIN);
        assert_eq!(ld("-0.5").to_i64_trunc(), 0);
        assert_eq!(ld("1.5").ceil().to_i64_trunc(), 2);
        assert_eq!(ld("-1.5").ceil().to_i64_trunc(), -1);
        assert_eq!(ld("-0.5").ceil(), LongDouble(Fp::Zero(true)));
        assert_eq!(ld("1e30").ceil(), ld("1e30"));
        let max = LongDouble::from_i64(i64::MAX);
        assert_eq!(ld("9.3e18").partial_cmp(&max), Some(Ordering::Greater));
        assert_eq!(ld("-9.3e18").partial_cmp(&max), Some(Ordering::Less));
        assert_eq!(ld("inf").partial_cmp(&max), Some(Ordering::Greater));
        assert_eq!(ld("0").partial_cmp(&ld("-0")), Some(Ordering::Equal));
        assert_eq!(ld("-2").partial_cmp(&ld("-3")), Some(Ordering::Greater));
    }
}
