//! Fuzz target: the RESP request parser (multibulk and inline frames).
//!
//! Oracle: parsing the whole input at once and feeding it in pieces (cut
//! where the input's first bytes say, through the resumable parser, as a
//! connection receives it) give the same commands and the same outcome; and
//! nothing panics, whatever the bytes. The first byte also picks the
//! pre-AUTH limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::resp::parse::{ParseError, ParseLimits, Parsed, Resume, Span, parse_resumable};

#[derive(Debug, PartialEq)]
enum End {
    /// Ran out of input (maybe inside a frame).
    Incomplete,
    Error(ParseError),
}

fn arg(buf: &[u8], s: &Span) -> Vec<u8> {
    match s {
        Span::At(a, b) => buf[*a..*b].to_vec(),
        Span::Owned(o) => o.to_vec(),
    }
}

/// Parses `buf[..]` as a connection would once all of it has arrived.
fn whole(buf: &[u8], limits: &ParseLimits) -> (Vec<Vec<Vec<u8>>>, End) {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut resume = Resume::default();
    // Bounded: every Command consumes at least one byte.
    loop {
        let mut spans = Vec::new();
        match parse_resumable(&buf[pos..], limits, &mut spans, &mut resume) {
            Ok(Parsed::Command { consumed }) => {
                assert!(consumed > 0 && pos + consumed <= buf.len());
                out.push(spans.iter().map(|s| arg(&buf[pos..], s)).collect());
                pos += consumed;
            }
            Ok(Parsed::Incomplete { .. }) => return (out, End::Incomplete),
            Err(e) => return (out, End::Error(e)),
        }
    }
}

/// Feeds `data` in pieces of the given sizes, parsing after each piece
/// with one [`Resume`] kept across pieces.
fn pieces(data: &[u8], sizes: &[u8], limits: &ParseLimits) -> (Vec<Vec<Vec<u8>>>, End) {
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut resume = Resume::default();
    let mut fed = 0;
    let mut i = 0;
    while fed < data.len() {
        let n = (sizes.get(i % sizes.len().max(1)).copied().unwrap_or(7) as usize % 64) + 1;
        i += 1;
        let next = (fed + n).min(data.len());
        buf.extend_from_slice(&data[fed..next]);
        fed = next;
        loop {
            let mut spans = Vec::new();
            match parse_resumable(&buf, limits, &mut spans, &mut resume) {
                Ok(Parsed::Command { consumed }) => {
                    out.push(spans.iter().map(|s| arg(&buf, s)).collect());
                    buf.drain(..consumed);
                }
                Ok(Parsed::Incomplete { .. }) => break,
                Err(e) => return (out, End::Error(e)),
            }
        }
    }
    (out, End::Incomplete)
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    // The next few bytes pick the piece sizes; the rest is the stream.
    let (sizes, data) = rest.split_at(rest.len().min(4));
    let limits = ParseLimits {
        max_bulk: 1 << 20,
        max_multibulk: 1 << 16,
        auth_required: mode & 1 == 1,
    };
    let a = whole(data, &limits);
    let b = pieces(data, sizes, &limits);
    assert_eq!(a, b, "whole vs pieces");
});
