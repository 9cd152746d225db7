//! Reply encoder: RESP2 and RESP3 (`HELLO 3`) into one growing buffer.
//!
//! Shard engines (and the IO stage, for connection commands) write replies
//! through [`Reply`]; the RESP3-only types degrade to their RESP2 forms as
//! Redis 7 does (map → flat array, set → array, double → bulk string,
//! null → `$-1` or `*-1`, boolean → integer). Spec:
//! <https://github.com/redis/redis-specifications/blob/master/protocol/RESP3.md>.

use bytes::{BufMut, BytesMut};

/// A reply buffer plus the protocol version of the client it is for.
#[derive(Debug, Default)]
pub struct Reply {
    /// Encoded replies, back to back.
    pub buf: BytesMut,
    /// Encode RESP3 types (`HELLO 3`) rather than their RESP2 forms.
    pub resp3: bool,
}

impl Reply {
    pub fn new(resp3: bool) -> Self {
        Reply {
            buf: BytesMut::with_capacity(4096),
            resp3,
        }
    }

    #[inline]
    fn header(&mut self, tag: u8, n: i64) {
        let mut b = itoa::Buffer::new();
        let s = b.format(n);
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(tag);
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// `+<s>\r\n`; `s` must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// `+OK\r\n`
    #[inline]
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// `-<s>\r\n`; `s` carries its code, e.g. `ERR syntax error`. CR and LF
    /// inside `s` are replaced by spaces, as Redis does.
    pub fn error(&mut self, s: &str) {
        self.buf.reserve(s.len() + 3);
        self.buf.put_u8(b'-');
        for &c in s.as_bytes() {
            self.buf
                .put_u8(if c == b'\r' || c == b'\n' { b' ' } else { c });
        }
        self.buf.put_slice(b"\r\n");
    }

    /// `:<n>\r\n`
    #[inline]
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// `$<len>\r\n<bytes>\r\n`
    #[inline]
    pub fn bulk(&mut self, s: &[u8]) {
        self.header(b'$', s.len() as i64);
        self.buf.reserve(s.len() + 2);
        self.buf.put_slice(s);
        self.buf.put_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `n` (as GET of an integer).
    pub fn bulk_int(&mut self, n: i64) {
        let mut b = itoa::Buffer::new();
        let s = b.format(n);
        self.bulk(s.as_bytes());
    }

    /// Null bulk string: RESP2 `$-1`, RESP3 `_`.
    #[inline]
    pub fn null(&mut self) {
        self.buf
            .put_slice(if self.resp3 { b"_\r\n" } else { b"$-1\r\n" });
    }

    /// Null array: RESP2 `*-1`, RESP3 `_`.
    pub fn null_array(&mut self) {
        self.buf
            .put_slice(if self.resp3 { b"_\r\n" } else { b"*-1\r\n" });
    }

    /// Array header for `n` elements.
    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// Map header for `n` key/value pairs (RESP2: array of `2n`).
    pub fn map(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'%', n as i64)
        } else {
            self.header(b'*', 2 * n as i64)
        }
    }

    /// Set header for `n` members (RESP2: array).
    pub fn set(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'~', n as i64)
        } else {
            self.header(b'*', n as i64)
        }
    }

    /// Push header for `n` elements (RESP2: array), for pub/sub messages.
    pub fn push(&mut self, n: usize) {
        if self.resp3 {
            self.header(b'>', n as i64)
        } else {
            self.header(b'*', n as i64)
        }
    }

    /// Double: RESP3 `,<d>`, RESP2 bulk string; formatted by [`fmt_double`].
    pub fn double(&mut self, d: f64) {
        let s = fmt_double(d);
        if self.resp3 {
            self.buf.put_u8(b',');
            self.buf.put_slice(s.as_bytes());
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(s.as_bytes());
        }
    }

    /// Boolean: RESP3 `#t`/`#f`, RESP2 `:1`/`:0`.
    pub fn boolean(&mut self, b: bool) {
        if self.resp3 {
            self.buf.put_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(b as i64);
        }
    }

    /// Verbatim string (`=<len>\r\ntxt:<s>`) in RESP3, bulk string in RESP2;
    /// used by INFO and CLIENT LIST/INFO as Redis 7 does.
    pub fn verbatim(&mut self, s: &[u8]) {
        if self.resp3 {
            self.header(b'=', s.len() as i64 + 4);
            self.buf.put_slice(b"txt:");
            self.buf.put_slice(s);
            self.buf.put_slice(b"\r\n");
        } else {
            self.bulk(s);
        }
    }

    /// Appends bytes that are already a complete RESP encoding.
    pub fn raw(&mut self, s: &[u8]) {
        self.buf.put_slice(s);
    }
}

/// Formats a double as Redis 7.0 replies with it and writes it into
/// listpacks and the AOF: C's `%.17g` (17 significant digits, trailing
/// zeros dropped, exponent form below 1e-4 or from 1e17, as `1e+21`),
/// `inf`/`-inf`/`nan` (`r:src/networking.c` `addReplyDouble`,
/// `r:src/util.c` `d2string`). Redis 7.2 moved to shortest round-trip
/// digits; 7.0 is the specification.
pub fn fmt_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // The exponent after rounding to 17 digits decides the form, as %g.
    let e_form = format!("{d:.16e}");
    let (mant, exp) = e_form.split_once('e').unwrap_or((&e_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let mant = trim_fraction(mant);
        return format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    let fixed = format!("{d:.*}", (16 - exp) as usize);
    trim_fraction(&fixed).to_string()
}

/// Drops a fraction's trailing zeros, and its point if nothing is left.
fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        let mut r = Reply::new(false);
        r.map(2);
        r.null();
        r.double(1.5);
        r.boolean(true);
        assert_eq!(&r.buf[..], b"*4\r\n$-1\r\n$3\r\n1.5\r\n:1\r\n");
        let mut r = Reply::new(true);
        r.map(2);
        r.null();
        r.double(3.0);
        r.boolean(false);
        assert_eq!(&r.buf[..], b"%2\r\n_\r\n,3\r\n#f\r\n");
    }

    #[test]
    fn doubles() {
        assert_eq!(fmt_double(3.0), "3");
        assert_eq!(fmt_double(0.1), "0.10000000000000001");
        assert_eq!(fmt_double(56.441257870158204), "56.441257870158204");
        assert_eq!(fmt_double(1e16), "10000000000000000");
        assert_eq!(fmt_double(1e17), "1e+17");
        assert_eq!(fmt_double(0.0001), "0.0001");
        assert_eq!(fmt_double(0.00001), "1.0000000000000001e-05");
        assert_eq!(fmt_double(-0.0), "-0");
        assert_eq!(fmt_double(-2.5), "-2.5");
        assert_eq!(fmt_double(1e21), "1e+21");
        assert_eq!(fmt_double(f64::INFINITY), "inf");
    }
}
