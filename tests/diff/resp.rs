//! Raw RESP for the differential tester: a blocking TCP connection that
//! sends multibulk frames and reads one reply at a time, keeping the reply's
//! exact bytes (compared first) and a parsed tree (for the normalised
//! comparisons: multisets, scores by value, ...). No client library, so
//! error texts and reply types compare byte for byte.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A parsed RESP2/RESP3 reply. `Ord` so multisets compare by sorting.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Value {
    Simple(Vec<u8>),
    Error(Vec<u8>),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1` (RESP2 null bulk).
    NilBulk,
    Array(Vec<Value>),
    /// `*-1` (RESP2 null array).
    NilArray,
    /// `_` (RESP3 null).
    Null,
    /// `,` (RESP3 double), its text.
    Double(Vec<u8>),
    Bool(bool),
    /// `(` (RESP3 big number), its text.
    Big(Vec<u8>),
    /// `=` (RESP3 verbatim string), format and text as sent.
    Verbatim(Vec<u8>),
    Map(Vec<(Value, Value)>),
    Set(Vec<Value>),
    Push(Vec<Value>),
}

impl Value {
    pub fn is_error(&self) -> bool {
        matches!(self, Value::Error(_))
    }

    /// True for every null shape (`$-1`, `*-1`, `_`).
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::NilBulk | Value::NilArray | Value::Null)
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bulk(b) | Value::Simple(b) | Value::Verbatim(b) => Some(b),
            _ => None,
        }
    }

    /// The elements of an aggregate (array, set, push); a map flattened.
    pub fn items(&self) -> Option<Vec<Value>> {
        match self {
            Value::Array(v) | Value::Set(v) | Value::Push(v) => Some(v.clone()),
            Value::Map(m) => Some(m.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect()),
            _ => None,
        }
    }

    /// A short human rendering (redis-cli like, one line).
    pub fn show(&self) -> String {
        match self {
            Value::Simple(s) => esc(s),
            Value::Error(e) => format!("(error) {}", String::from_utf8_lossy(e)),
            Value::Int(n) => format!("(integer) {n}"),
            Value::Bulk(b) => format!("\"{}\"", esc(b)),
            Value::NilBulk | Value::NilArray | Value::Null => "(nil)".into(),
            Value::Double(d) => format!("(double) {}", esc(d)),
            Value::Bool(b) => format!("(bool) {b}"),
            Value::Big(b) => format!("(big) {}", esc(b)),
            Value::Verbatim(b) => format!("(verbatim) \"{}\"", esc(b)),
            Value::Array(v) | Value::Set(v) | Value::Push(v) => {
                let open = match self {
                    Value::Set(_) => "~[",
                    Value::Push(_) => ">[",
                    _ => "[",
                };
                let inner: Vec<String> = v.iter().map(|x| x.show()).collect();
                format!("{open}{}]", inner.join(", "))
            }
            Value::Map(m) => {
                let inner: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{} => {}", k.show(), v.show()))
                    .collect();
                format!("%{{{}}}", inner.join(", "))
            }
        }
    }
}

/// Escapes bytes for display: printable ASCII as is, the rest `\xHH`.
pub fn esc(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// One argument as redis-cli accepts it on a line: bare when safe, else in
/// double quotes with escapes.
pub fn cli_arg(a: &[u8]) -> String {
    let bare = !a.is_empty()
        && a.iter()
            .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
    if bare {
        String::from_utf8_lossy(a).into_owned()
    } else {
        format!("\"{}\"", esc(a))
    }
}

/// A command as one redis-cli line; long arguments are shown whole.
pub fn cli_line(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| cli_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Encodes a command as a RESP multibulk frame.
pub fn frame(args: &[Vec<u8>]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Parses one reply from the front of `b`: `Ok(Some((value, used)))`,
/// `Ok(None)` if incomplete, `Err` on bytes that are not RESP.
pub fn parse(b: &[u8]) -> Result<Option<(Value, usize)>, String> {
    let Some(nl) = memchr::memmem::find(b, b"\r\n") else {
        return Ok(None);
    };
    if nl == 0 {
        return Err("empty line".into());
    }
    let line = &b[1..nl];
    let rest = nl + 2;
    let num = || -> Result<i64, String> {
        std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad number {:?}", esc(line)))
    };
    let text = |n: i64| -> Option<(Vec<u8>, usize)> {
        let n = n as usize;
        if b.len() < rest + n + 2 {
            return None;
        }
        Some((b[rest..rest + n].to_vec(), rest + n + 2))
    };
    Ok(Some(match b[0] {
        b'+' => (Value::Simple(line.to_vec()), rest),
        b'-' => (Value::Error(line.to_vec()), rest),
        b':' => (Value::Int(num()?), rest),
        b',' => (Value::Double(line.to_vec()), rest),
        b'(' => (Value::Big(line.to_vec()), rest),
        b'#' => (Value::Bool(line == b"t"), rest),
        b'_' => (Value::Null, rest),
        b'$' | b'=' | b'!' => {
            let n = num()?;
            if n < 0 {
                (Value::NilBulk, rest)
            } else {
                match text(n) {
                    None => return Ok(None),
                    Some((t, used)) => (
                        match b[0] {
                            b'$' => Value::Bulk(t),
                            b'=' => Value::Verbatim(t),
                            _ => Value::Error(t),
                        },
                        used,
                    ),
                }
            }
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = num()?;
            if n < 0 {
                return Ok(Some((Value::NilArray, rest)));
            }
            let count = if matches!(b[0], b'%' | b'|') {
                2 * n
            } else {
                n
            };
            let mut items = Vec::new();
            let mut pos = rest;
            for _ in 0..count {
                match parse(&b[pos..])? {
                    None => return Ok(None),
                    Some((v, used)) => {
                        items.push(v);
                        pos += used;
                    }
                }
            }
            let v = match b[0] {
                b'*' => Value::Array(items),
                b'~' => Value::Set(items),
                b'>' => Value::Push(items),
                _ => {
                    let mut m = Vec::new();
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        m.push((k, v));
                    }
                    if b[0] == b'|' {
                        // An attribute precedes the real reply: skip it.
                        return match parse(&b[pos..])? {
                            None => Ok(None),
                            Some((v, used)) => Ok(Some((v, pos + used))),
                        };
                    }
                    Value::Map(m)
                }
            };
            (v, pos)
        }
        other => return Err(format!("unknown RESP type byte {other:#x}")),
    }))
}

/// One reply: its exact bytes and its parse.
#[derive(Clone, Debug)]
pub struct Reply {
    pub raw: Vec<u8>,
    pub v: Value,
}

/// A blocking connection with a read timeout.
pub struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn connect(port: u16) -> std::io::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        s.set_write_timeout(Some(Duration::from_secs(10)))?;
        s.set_nodelay(true)?;
        Ok(Conn { s, buf: Vec::new() })
    }

    /// Sends one command and reads its reply (10 s timeout).
    pub fn call(&mut self, args: &[Vec<u8>]) -> Result<Reply, String> {
        self.s
            .write_all(&frame(args))
            .map_err(|e| format!("write: {e}"))?;
        self.read()
    }

    /// Convenience for side queries built from string slices.
    pub fn call_str(&mut self, args: &[&[u8]]) -> Result<Reply, String> {
        let v: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
        self.call(&v)
    }

    fn read(&mut self) -> Result<Reply, String> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some((v, used)) = parse(&self.buf)? {
                let raw: Vec<u8> = self.buf.drain(..used).collect();
                // Skip RESP3 pushes (none expected: no pub/sub, no tracking).
                if matches!(v, Value::Push(_)) {
                    continue;
                }
                return Ok(Reply { raw, v });
            }
            match self.s.read(&mut chunk) {
                Ok(0) => return Err("connection closed by the server".into()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }
}
