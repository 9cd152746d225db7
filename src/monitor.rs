//! MONITOR's lines: every command a client runs, written where it runs (a
//! shard, or the IO thread for connection commands and commands spread
//! over every shard), as Redis 7.0's `replicationFeedMonitors` writes it:
//!
//! ```text
//! +1700000000.123456 [0 127.0.0.1:50000] "SET" "key" "value"
//! ```
//!
//! Unix time with µs, the database, the client's address (`lua` for a
//! command a script ran), and each argument quoted as `sdscatrepr` quotes
//! it. Administrative commands are left out, and secrets redacted
//! ([`crate::slowlog::redact`]), as in Redis. The lines travel to the
//! monitors' IO threads with Pub/Sub's deliveries ([`crate::pubsub::Hub::feed`]),
//! so each thread's lines arrive in the order it ran their commands.

use bytes::Bytes;

use crate::spec::{self, CommandSpec};

/// Whether MONITOR shows this command: not administrative ones (CONFIG,
/// DEBUG, MONITOR itself, ...), as Redis's `CMD_ADMIN` check.
#[inline]
pub fn shows(s: &CommandSpec) -> bool {
    !s.is(spec::flag::ADMIN)
}

/// Who ran a command, as a MONITOR line names it.
pub enum Source<'a> {
    /// A client connected from this address (`ip:port`).
    Client(&'a str),
    /// A script (`lua`).
    Script,
}

/// One MONITOR line, a status reply: `+<s>.<µs> [<db> <source>] "arg" ...`.
pub fn line(db: usize, source: Source, args: &[impl AsRef<[u8]>]) -> Bytes {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let who = match source {
        Source::Client(a) => a,
        Source::Script => "lua",
    };
    let mut out =
        format!("+{}.{:06} [{db} {who}]", now.as_secs(), now.subsec_micros()).into_bytes();
    let redacted = crate::slowlog::redact(args);
    for (i, a) in args.iter().enumerate() {
        out.push(b' ');
        if redacted.contains(&i) {
            out.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(&mut out, a.as_ref());
        }
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

/// Redis's `sdscatrepr`: the bytes in double quotes, `\` and `"` escaped,
/// `\n \r \t \a \b` spelled so, other unprintable bytes as `\xNN`.
pub fn repr(out: &mut Vec<u8>, a: &[u8]) {
    out.push(b'"');
    for &c in a {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_quotes_as_redis() {
        let mut v = Vec::new();
        repr(&mut v, b"q\"w\\\n\r\t\x07\x08\x00\xffok");
        assert_eq!(v, b"\"q\\\"w\\\\\\n\\r\\t\\a\\b\\x00\\xffok\"");
    }

    #[test]
    fn line_shape() {
        let l = line(3, Source::Client("1.2.3.4:5"), &[&b"AUTH"[..], b"pw"]);
        let s = std::str::from_utf8(&l).unwrap();
        assert!(s.starts_with('+'), "{s}");
        assert!(
            s.ends_with(" [3 1.2.3.4:5] \"AUTH\" \"(redacted)\"\r\n"),
            "{s}"
        );
    }
}
