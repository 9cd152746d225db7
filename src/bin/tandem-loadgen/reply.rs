//! Finds where one RESP2/RESP3 reply ends in a receive buffer, without
//! building it: the load generator only needs to count replies and tell
//! errors apart. Follows the RESP3 specification's type list
//! (<https://github.com/redis/redis-specifications/blob/master/protocol/RESP3.md>).

/// One complete reply at the front of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    /// Bytes the reply takes, CRLFs included.
    pub len: usize,
    /// True for `-ERR ...` simple errors and `!<n>` blob errors at top level.
    pub error: bool,
}

/// A reply that can never become valid, however many bytes follow.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

/// `Ok(Some(frame))` when `buf` starts with a complete reply, `Ok(None)`
/// when more bytes are needed, `Err` on a byte that no RESP reply starts with
/// or a length that is not a number.
pub fn frame(buf: &[u8]) -> Result<Option<Frame>, Malformed> {
    let Some(first) = buf.first() else {
        return Ok(None);
    };
    let error = matches!(first, b'-' | b'!');
    Ok(skip(buf, 0, 0)?.map(|len| Frame { len, error }))
}

/// Deepest aggregate nesting accepted (Redis replies nest a few levels).
const MAX_DEPTH: usize = 64;

/// End offset of the reply that starts at `at`, or None if incomplete.
fn skip(buf: &[u8], at: usize, depth: usize) -> Result<Option<usize>, Malformed> {
    if depth > MAX_DEPTH {
        return Err(Malformed("reply nested too deep".into()));
    }
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let Some(nl) = memchr::memchr(b'\n', &buf[at..]) else {
        return Ok(None);
    };
    let line_end = at + nl + 1; // just past '\n'
    let header = &buf[at + 1..line_end.saturating_sub(2).max(at + 1)];
    match kind {
        // Single-line types: simple string, error, integer, null, boolean,
        // double, big number.
        b'+' | b'-' | b':' | b'_' | b'#' | b',' | b'(' => Ok(Some(line_end)),
        // Length-prefixed blobs: bulk string, blob error, verbatim string.
        b'$' | b'!' | b'=' => {
            let n = number(header)?;
            if n < 0 {
                return Ok(Some(line_end)); // RESP2 null bulk string ($-1)
            }
            let end = line_end + n as usize + 2;
            Ok((buf.len() >= end).then_some(end))
        }
        // Aggregates: array, set, push (n elements), map and attribute
        // (2n elements).
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = number(header)?;
            if n < 0 {
                return Ok(Some(line_end)); // RESP2 null array (*-1)
            }
            let elems = if matches!(kind, b'%' | b'|') {
                2 * n
            } else {
                n
            };
            let mut pos = line_end;
            for _ in 0..elems {
                match skip(buf, pos, depth + 1)? {
                    Some(end) => pos = end,
                    None => return Ok(None),
                }
            }
            if kind == b'|' {
                // An attribute precedes the reply it describes.
                return skip(buf, pos, depth + 1);
            }
            Ok(Some(pos))
        }
        other => Err(Malformed(format!(
            "unexpected reply type byte {:?}",
            other as char
        ))),
    }
}

fn number(s: &[u8]) -> Result<i64, Malformed> {
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| Malformed(format!("bad length {:?}", String::from_utf8_lossy(s))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(b: &[u8]) -> Frame {
        frame(b).unwrap().unwrap()
    }

    #[test]
    fn every_type_and_partial_input() {
        let cases: &[&[u8]] = &[
            b"+OK\r\n",
            b"-ERR no\r\n",
            b":12\r\n",
            b"$3\r\nfoo\r\n",
            b"$-1\r\n",
            b"*-1\r\n",
            b"*2\r\n$1\r\na\r\n:1\r\n",
            b"%1\r\n+k\r\n*1\r\n,1.5\r\n",
            b"~0\r\n",
            b"|1\r\n+a\r\n+b\r\n:7\r\n",
            b"=7\r\ntxt:abc\r\n",
            b"!3\r\nbad\r\n",
            b"_\r\n",
        ];
        for c in cases {
            assert_eq!(whole(c).len, c.len(), "{:?}", String::from_utf8_lossy(c));
            for cut in 0..c.len() {
                assert_eq!(frame(&c[..cut]).unwrap(), None, "prefix {cut} of {c:?}");
            }
        }
        assert!(whole(b"-ERR x\r\n").error);
        assert!(whole(b"!1\r\nx\r\n").error);
        assert!(!whole(b"*1\r\n-ERR x\r\n").error);
        assert!(frame(b"?x\r\n").is_err());
        assert!(frame(b"$x\r\n").is_err());
    }
}
