//! Zero-copy request parser for RESP2 multibulk and inline commands.
//!
//! Runs on IO threads only. [`parse_command`] looks at the front of a
//! connection's input buffer and either reports a whole command (as spans of
//! that buffer, so the caller can freeze the buffer once and hand out
//! `Bytes` slices without copying), asks for more bytes, or fails with the
//! exact `Protocol error: ...` text Redis 7 sends (`networking.c`,
//! `processMultibulkBuffer` / `processInlineBuffer`).

use bytes::Bytes;
use memchr::memchr;

/// Longest inline command or `*`/`$` header line Redis accepts before
/// declaring a protocol error (`PROTO_INLINE_MAX_SIZE`, 64 KiB).
pub const INLINE_MAX: usize = 64 * 1024;

/// Limits enforced while parsing; mirrors `proto-max-bulk-len` (bytes) and
/// Redis's multibulk count ceiling (`INT_MAX`).
#[derive(Clone, Copy, Debug)]
pub struct ParseLimits {
    /// Largest accepted bulk string, in bytes (`proto-max-bulk-len`, default 512 MiB).
    pub max_bulk: u64,
    /// Largest accepted multibulk element count (Redis: `INT_MAX`).
    pub max_multibulk: u64,
    /// The client must still authenticate: Redis then accepts at most
    /// [`UNAUTH_MAX_MULTIBULK`] elements and bulk strings of at most
    /// [`UNAUTH_MAX_BULK`] bytes (`networking.c`, since 6.2.6), so an
    /// unauthenticated client cannot make the server buffer much.
    pub auth_required: bool,
}

/// Most elements of a request before AUTH (Redis: 10).
pub const UNAUTH_MAX_MULTIBULK: i64 = 10;
/// Longest bulk string of a request before AUTH, in bytes (Redis: 16384).
pub const UNAUTH_MAX_BULK: i64 = 16384;

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_bulk: 512 * 1024 * 1024,
            max_multibulk: i32::MAX as u64,
            auth_required: false,
        }
    }
}

/// Where an unfinished request left off, kept by the connection between
/// receives so the next parse resumes there instead of starting again from
/// the request's first byte: a multibulk of N arguments arriving in many
/// packets costs O(N) in all, not O(N²). Offsets are relative to the start
/// of the unfinished request, which stays at the front of the input
/// buffer. [`Resume::clear`] it whenever the buffer is rebuilt otherwise.
#[derive(Debug, Default)]
pub struct Resume {
    state: Option<Partial>,
}

#[derive(Debug)]
enum Partial {
    /// A multibulk: the offset of its next element's `$` line, how many
    /// elements are still to come, and the spans of those already parsed.
    Multibulk {
        pos: usize,
        left: i64,
        spans: Vec<Span>,
    },
    /// An inline command without its newline yet: bytes already searched.
    Inline { scanned: usize },
}

impl Resume {
    /// Forgets the unfinished request (its bytes will be parsed afresh).
    pub fn clear(&mut self) {
        self.state = None;
    }

    /// Whether a request is half parsed.
    pub fn active(&self) -> bool {
        self.state.is_some()
    }
}

/// One argument of a parsed command: a range of the input buffer, or (only
/// for inline commands with quotes and escapes) bytes of its own.
#[derive(Clone, Debug, PartialEq)]
pub enum Span {
    /// `buf[start..end]`
    At(usize, usize),
    /// An unescaped inline argument.
    Owned(Bytes),
}

/// What [`parse_command`] found at the front of the buffer.
#[derive(Debug, PartialEq)]
pub enum Parsed {
    /// A whole command occupying `buf[..consumed]`; its arguments were pushed
    /// onto the caller's span vector (none for an empty line or `*0`, which
    /// Redis silently skips).
    Command { consumed: usize },
    /// More input is needed; at least `need` bytes in total (a hint used to
    /// reserve space for big bulk strings), or 0 when unknown.
    Incomplete { need: usize },
}

/// A malformed or over-limit request. After replying `-ERR <text>` the
/// connection is closed, as Redis does. No allocation until [`ParseError::text`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParseError {
    /// A fixed `Protocol error: ...` text.
    Msg(&'static str),
    /// A multibulk element did not start with `$`; carries the byte found.
    ExpectedDollar(u8),
}

impl ParseError {
    pub const INVALID_MULTIBULK_LEN: ParseError =
        ParseError::Msg("Protocol error: invalid multibulk length");
    pub const INVALID_BULK_LEN: ParseError = ParseError::Msg("Protocol error: invalid bulk length");
    pub const BIG_MBULK_COUNT: ParseError =
        ParseError::Msg("Protocol error: too big mbulk count string");
    pub const BIG_BULK_COUNT: ParseError =
        ParseError::Msg("Protocol error: too big bulk count string");
    pub const BIG_INLINE: ParseError = ParseError::Msg("Protocol error: too big inline request");
    pub const UNBALANCED_QUOTES: ParseError =
        ParseError::Msg("Protocol error: unbalanced quotes in request");
    pub const UNAUTH_MULTIBULK: ParseError =
        ParseError::Msg("Protocol error: unauthenticated multibulk length");
    pub const UNAUTH_BULK: ParseError =
        ParseError::Msg("Protocol error: unauthenticated bulk length");

    /// The error reply text without the leading `-`, e.g.
    /// `ERR Protocol error: expected '$', got '+'`.
    pub fn text(&self) -> String {
        match self {
            ParseError::Msg(m) => format!("ERR {m}"),
            ParseError::ExpectedDollar(c) => {
                format!("ERR Protocol error: expected '$', got '{}'", *c as char)
            }
        }
    }
}

/// Parses one command at the front of `buf`, pushing its arguments onto `args`.
///
/// Multibulk (`*N\r\n$L\r\n...`) and inline (`SET k v\n`) forms are both
/// accepted, as Redis does. The bytes after a bulk string's payload are
/// skipped without inspection, like Redis.
///
/// Errors: `Protocol error: invalid multibulk length` (count not a number or
/// over the limit), `invalid bulk length` (negative, not a number or over
/// `proto-max-bulk-len`), `expected '$', got '<c>'` (reported with a
/// generic text), `too big mbulk count string` / `too big bulk count string`
/// / `too big inline request` (a header or inline line over 64 KiB without
/// CRLF), `unbalanced quotes in request`, and before AUTH
/// `unauthenticated multibulk length` / `unauthenticated bulk length`.
pub fn parse_command(
    buf: &[u8],
    limits: &ParseLimits,
    args: &mut Vec<Span>,
) -> Result<Parsed, ParseError> {
    parse_resumable(buf, limits, args, &mut Resume::default())
}

/// [`parse_command`] that picks up an unfinished request where `resume`
/// left it (see [`Resume`]) and records where it stops when the request is
/// still incomplete. `buf` must start at that request's first byte.
#[inline]
pub fn parse_resumable(
    buf: &[u8],
    limits: &ParseLimits,
    args: &mut Vec<Span>,
    resume: &mut Resume,
) -> Result<Parsed, ParseError> {
    let r = match buf.first() {
        None => Ok(Parsed::Incomplete { need: 0 }),
        Some(b'*') => parse_multibulk(buf, limits, args, resume),
        Some(_) => parse_inline(buf, args, resume),
    };
    if resume.state.is_some() && !matches!(r, Ok(Parsed::Incomplete { .. })) {
        resume.clear();
    }
    r
}

/// Parses a decimal `i64` the way Redis's `string2ll` does: optional `-`,
/// no `+`, no leading zeros (except "0"), no spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = if s[0] == b'-' {
        (true, &s[1..])
    } else {
        (false, s)
    };
    if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) || (neg && digits == b"0") {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            None
        } else {
            Some((v as i64).wrapping_neg())
        }
    } else if v > i64::MAX as u64 {
        None
    } else {
        Some(v as i64)
    }
}

fn line_end(buf: &[u8], from: usize) -> Option<usize> {
    // Position of '\r' in a "\r\n" terminator at or after `from`.
    let mut at = from;
    loop {
        let i = memchr(b'\r', &buf[at..])? + at;
        if i + 1 >= buf.len() {
            return None;
        }
        if buf[i + 1] == b'\n' {
            return Some(i);
        }
        at = i + 1;
    }
}

#[inline]
fn parse_multibulk(
    buf: &[u8],
    limits: &ParseLimits,
    args: &mut Vec<Span>,
    resume: &mut Resume,
) -> Result<Parsed, ParseError> {
    let mark = args.len();
    // Fast path first: nothing half parsed (the usual case).
    let resumed = match &mut resume.state {
        Some(Partial::Multibulk { pos, left, spans }) => {
            args.append(spans);
            Some((*pos, *left))
        }
        _ => None,
    };
    let (pos, left) = match resumed {
        Some(at) => {
            resume.state = None;
            at
        }
        None => match parse_multibulk_header(buf, limits)? {
            Header::Incomplete => return Ok(Parsed::Incomplete { need: 0 }),
            Header::Count { count, pos } if count <= 0 => {
                return Ok(Parsed::Command { consumed: pos });
            }
            Header::Count { count, pos } => (pos, count),
        },
    };
    let result = parse_elements(buf, limits, args, pos, left);
    match result {
        Ok(Step::Done(consumed)) => Ok(Parsed::Command { consumed }),
        Ok(Step::More { pos, left, need }) => {
            resume.state = Some(Partial::Multibulk {
                pos,
                left,
                spans: args.drain(mark..).collect(),
            });
            Ok(Parsed::Incomplete { need })
        }
        Err(e) => {
            args.truncate(mark);
            Err(e)
        }
    }
}

enum Header {
    Incomplete,
    /// The element count and the offset just past the header line.
    Count {
        count: i64,
        pos: usize,
    },
}

#[inline(always)]
fn parse_multibulk_header(buf: &[u8], limits: &ParseLimits) -> Result<Header, ParseError> {
    let Some(cr) = line_end(buf, 1) else {
        if buf.len() > INLINE_MAX {
            return Err(ParseError::BIG_MBULK_COUNT);
        }
        return Ok(Header::Incomplete);
    };
    if cr > INLINE_MAX {
        return Err(ParseError::BIG_MBULK_COUNT);
    }
    let count = match parse_i64(&buf[1..cr]) {
        Some(n) if n <= limits.max_multibulk as i64 => n,
        _ => return Err(ParseError::INVALID_MULTIBULK_LEN),
    };
    if limits.auth_required && count > UNAUTH_MAX_MULTIBULK {
        return Err(ParseError::UNAUTH_MULTIBULK);
    }
    Ok(Header::Count { count, pos: cr + 2 })
}

enum Step {
    /// The request is whole; it took this many bytes.
    Done(usize),
    /// More bytes are needed from `pos` on, for `left` elements.
    More { pos: usize, left: i64, need: usize },
}

/// Parses `left` bulk-string elements from `pos` on.
#[inline(always)]
fn parse_elements(
    buf: &[u8],
    limits: &ParseLimits,
    args: &mut Vec<Span>,
    mut pos: usize,
    mut left: i64,
) -> Result<Step, ParseError> {
    while left > 0 {
        if pos >= buf.len() {
            return Ok(Step::More { pos, left, need: 0 });
        }
        if buf[pos] != b'$' {
            return Err(ParseError::ExpectedDollar(buf[pos]));
        }
        let Some(cr) = line_end(buf, pos + 1) else {
            if buf.len() - pos > INLINE_MAX {
                return Err(ParseError::BIG_BULK_COUNT);
            }
            return Ok(Step::More { pos, left, need: 0 });
        };
        if cr - pos > INLINE_MAX {
            return Err(ParseError::BIG_BULK_COUNT);
        }
        let len = match parse_i64(&buf[pos + 1..cr]) {
            Some(n) if n >= 0 && (n as u64) <= limits.max_bulk => n,
            _ => return Err(ParseError::INVALID_BULK_LEN),
        };
        if limits.auth_required && len > UNAUTH_MAX_BULK {
            return Err(ParseError::UNAUTH_BULK);
        }
        let start = cr + 2;
        let end = start + len as usize;
        if end + 2 > buf.len() {
            return Ok(Step::More {
                pos,
                left,
                need: end + 2,
            });
        }
        args.push(Span::At(start, end));
        pos = end + 2;
        left -= 1;
    }
    Ok(Step::Done(pos))
}

fn parse_inline(
    buf: &[u8],
    args: &mut Vec<Span>,
    resume: &mut Resume,
) -> Result<Parsed, ParseError> {
    let from = match resume.state {
        Some(Partial::Inline { scanned }) => scanned.min(buf.len()),
        _ => 0,
    };
    let Some(nl) = memchr(b'\n', &buf[from..]).map(|i| i + from) else {
        if buf.len() > INLINE_MAX {
            return Err(ParseError::BIG_INLINE);
        }
        resume.state = Some(Partial::Inline { scanned: buf.len() });
        return Ok(Parsed::Incomplete { need: 0 });
    };
    if nl > INLINE_MAX {
        return Err(ParseError::BIG_INLINE);
    }
    let mut line_end = nl;
    if line_end > 0 && buf[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    split_inline_args(&buf[..line_end], args)?;
    Ok(Parsed::Command { consumed: nl + 1 })
}

/// Splits an inline command line like Redis's `sdssplitargs`: whitespace
/// separated words, `"..."` with `\n \r \t \b \a \\ \" \xHH` escapes and
/// `'...'` with only `\'`. A closing quote must be followed by whitespace or
/// the end of the line.
fn split_inline_args(line: &[u8], args: &mut Vec<Span>) -> Result<(), ParseError> {
    let mark = args.len();
    let mut i = 0;
    let n = line.len();
    while i < n {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        if line[i] != b'"' && line[i] != b'\'' {
            let start = i;
            while i < n && !line[i].is_ascii_whitespace() && line[i] != b'"' && line[i] != b'\'' {
                i += 1;
            }
            if i < n && (line[i] == b'"' || line[i] == b'\'') {
                // A quote in the middle of a word: fall back to the slow path.
                let mut word = line[start..i].to_vec();
                i = quoted_word(line, i, &mut word).inspect_err(|_| args.truncate(mark))?;
                args.push(Span::Owned(Bytes::from(word)));
            } else {
                args.push(Span::At(start, i));
            }
        } else {
            let mut word = Vec::new();
            i = quoted_word(line, i, &mut word).inspect_err(|_| args.truncate(mark))?;
            args.push(Span::Owned(Bytes::from(word)));
        }
    }
    Ok(())
}

/// Splits a line into arguments as Redis's `sdssplitargs` does (the
/// inline protocol's rules: spaces separate, double quotes with escapes,
/// single quotes with `\'`): ACL rules inside a `(...)` selector and the
/// ACL file's lines. None for unbalanced quotes.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut spans = Vec::new();
    split_inline_args(line, &mut spans).ok()?;
    Some(
        spans
            .into_iter()
            .map(|s| match s {
                Span::At(a, b) => line[a..b].to_vec(),
                Span::Owned(b) => b.to_vec(),
            })
            .collect(),
    )
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Reads a quoted section starting at `line[i]` (a quote) and any unquoted
/// continuation, appending to `word`; returns the index after the word.
fn quoted_word(line: &[u8], mut i: usize, word: &mut Vec<u8>) -> Result<usize, ParseError> {
    let n = line.len();
    let quote = line[i];
    i += 1;
    loop {
        if i >= n {
            return Err(ParseError::UNBALANCED_QUOTES);
        }
        let c = line[i];
        if quote == b'"' && c == b'\\' && i + 3 < n && line[i + 1] == b'x' {
            if let (Some(h), Some(l)) = (hex_val(line[i + 2]), hex_val(line[i + 3])) {
                word.push(h * 16 + l);
                i += 4;
                continue;
            }
        }
        if quote == b'"' && c == b'\\' && i + 1 < n {
            word.push(match line[i + 1] {
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'b' => 8,
                b'a' => 7,
                other => other,
            });
            i += 2;
            continue;
        }
        if quote == b'\'' && c == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
            word.push(b'\'');
            i += 2;
            continue;
        }
        if c == quote {
            i += 1;
            // Redis requires whitespace (or the end) right after a closing quote.
            if i < n && !line[i].is_ascii_whitespace() {
                return Err(ParseError::UNBALANCED_QUOTES);
            }
            return Ok(i);
        }
        word.push(c);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ParseError> {
        let mut out = Vec::new();
        let mut pos = 0;
        let limits = ParseLimits::default();
        loop {
            let mut spans = Vec::new();
            match parse_command(&input[pos..], &limits, &mut spans)? {
                Parsed::Incomplete { .. } => return Ok(out),
                Parsed::Command { consumed } => {
                    let base = pos;
                    out.push(
                        spans
                            .iter()
                            .map(|s| match s {
                                Span::At(a, b) => input[base + a..base + b].to_vec(),
                                Span::Owned(b) => b.to_vec(),
                            })
                            .collect(),
                    );
                    pos += consumed;
                }
            }
        }
    }

    #[test]
    fn multibulk_and_split_points() {
        let msg = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n";
        for cut in 0..msg.len() {
            let first = parse_all(&msg[..cut]).unwrap();
            assert!(first.len() <= 2);
        }
        let all = parse_all(msg).unwrap();
        assert_eq!(
            all,
            vec![
                vec![b"SET".to_vec(), b"k".to_vec(), b"hello".to_vec()],
                vec![b"PING".to_vec()]
            ]
        );
    }

    #[test]
    fn inline_quotes() {
        let all = parse_all(b"set \"a b\" 'c\\'d' \"\\x41\\n\"\r\n\r\nping\n").unwrap();
        assert_eq!(
            all[0],
            vec![
                b"set".to_vec(),
                b"a b".to_vec(),
                b"c'd".to_vec(),
                b"A\n".to_vec()
            ]
        );
        assert!(all[1].is_empty());
        assert_eq!(all[2], vec![b"ping".to_vec()]);
        assert_eq!(
            parse_all(b"set \"abc\n"),
            Err(ParseError::UNBALANCED_QUOTES)
        );
    }

    #[test]
    fn limits() {
        assert_eq!(parse_all(b"*-1\r\n").unwrap(), vec![Vec::<Vec<u8>>::new()]);
        assert_eq!(
            parse_all(b"*abc\r\n"),
            Err(ParseError::INVALID_MULTIBULK_LEN)
        );
        assert_eq!(
            parse_all(b"*1\r\n$-5\r\n"),
            Err(ParseError::INVALID_BULK_LEN)
        );
        assert_eq!(
            parse_all(b"*1\r\n$999999999999\r\n"),
            Err(ParseError::INVALID_BULK_LEN)
        );
        assert_eq!(
            parse_all(b"*1\r\n+x\r\n"),
            Err(ParseError::ExpectedDollar(b'+'))
        );
        assert_eq!(
            parse_all(b"*99999999999\r\n"),
            Err(ParseError::INVALID_MULTIBULK_LEN)
        );
        assert_eq!(
            parse_all(&vec![b'a'; INLINE_MAX + 1]),
            Err(ParseError::BIG_INLINE)
        );
    }

    /// A request fed a few bytes at a time through one [`Resume`] parses
    /// to the same arguments as in one piece, and resumes where it stopped.
    #[test]
    fn resumes_across_receives() {
        let mut msg = b"*1000\r\n".to_vec();
        for i in 0..1000 {
            let a = format!("arg{i}");
            msg.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        msg.extend_from_slice(b"PING\r\n");
        let limits = ParseLimits::default();
        for step in [1, 3, 7, 64, 1000] {
            let mut resume = Resume::default();
            let mut spans = Vec::new();
            let mut fed = 0;
            let consumed = loop {
                fed = (fed + step).min(msg.len());
                match parse_resumable(&msg[..fed], &limits, &mut spans, &mut resume).unwrap() {
                    Parsed::Command { consumed } => break consumed,
                    Parsed::Incomplete { .. } => {
                        assert!(spans.is_empty(), "spans stay in the resume state");
                        assert!(fed < msg.len());
                    }
                }
            };
            assert!(!resume.active());
            assert_eq!(spans.len(), 1000);
            assert_eq!(spans[999], Span::At(consumed - 8, consumed - 2));
            // The inline command after it, fed byte by byte.
            let rest = &msg[consumed..];
            let mut spans = Vec::new();
            for cut in 1..=rest.len() {
                let r = parse_resumable(&rest[..cut], &limits, &mut spans, &mut resume).unwrap();
                if cut < rest.len() {
                    assert_eq!(r, Parsed::Incomplete { need: 0 });
                } else {
                    assert_eq!(r, Parsed::Command { consumed: 6 });
                }
            }
        }
    }

    #[test]
    fn unauthenticated_limits() {
        let limits = ParseLimits {
            auth_required: true,
            ..ParseLimits::default()
        };
        let mut spans = Vec::new();
        assert_eq!(
            parse_command(b"*11\r\n", &limits, &mut spans),
            Err(ParseError::UNAUTH_MULTIBULK)
        );
        assert!(parse_command(b"*10\r\n", &limits, &mut spans).is_ok());
        assert_eq!(
            parse_command(b"*1\r\n$16385\r\n", &limits, &mut spans),
            Err(ParseError::UNAUTH_BULK)
        );
        assert!(parse_command(b"*1\r\n$16384\r\n", &limits, &mut spans).is_ok());
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"012"), None);
        assert_eq!(parse_i64(b"+1"), None);
        assert_eq!(parse_i64(b"-0"), None);
        assert_eq!(parse_i64(b"0"), Some(0));
    }
}

/// Length in bytes of the complete RESP value (any RESP2/RESP3 type) at the
/// start of `buf`, or None if it is truncated or malformed. Used by the IO
/// stage to split shard replies that it merges (MGET across shards).
pub fn value_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < 3 {
        return None;
    }
    let cr = line_end(buf, 1)?;
    let head = &buf[1..cr];
    let after = cr + 2;
    match buf.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n = parse_i64(head)?;
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (end <= buf.len()).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = parse_i64(head)?;
            if n < 0 {
                return Some(after);
            }
            let mult = if matches!(buf[0], b'%' | b'|') { 2 } else { 1 };
            let mut pos = after;
            for _ in 0..n * mult {
                pos += value_len(buf.get(pos..)?)?;
            }
            Some(pos)
        }
        _ => None,
    }
}

/// The element count and header length of an aggregate reply (`*3\r\n`),
/// or None if `buf` does not start with one.
pub fn aggregate_header(buf: &[u8]) -> Option<(u8, i64, usize)> {
    if buf.len() < 3 || !matches!(buf.first()?, b'*' | b'~' | b'%' | b'>') {
        return None;
    }
    let cr = line_end(buf, 1)?;
    Some((buf[0], parse_i64(&buf[1..cr])?, cr + 2))
}

/// The value of an integer reply (`:12\r\n`), or None.
pub fn integer_reply(buf: &[u8]) -> Option<i64> {
    if buf.len() < 3 || buf[0] != b':' {
        return None;
    }
    let cr = line_end(buf, 1)?;
    parse_i64(&buf[1..cr])
}
