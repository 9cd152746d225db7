//! Combining the replies of a command split across shards into the one
//! reply the client expects (spec's [`Gather`] kinds).
//!
//! Runs on the IO thread when the last part arrives. Any part that is an
//! error makes the whole reply that error (the first one, in part order).

use bytes::{BufMut, Bytes, BytesMut};

use super::conn::{ExecLayout, ExecSlot, GatherState};
use crate::resp::Reply;
use crate::resp::parse::{aggregate_header, integer_reply, value_len};
use crate::spec::Gather;

/// Builds the final reply from every part of `g`.
pub fn merge(g: &mut GatherState, resp3: bool) -> Bytes {
    fn take_parts(g: &mut GatherState) -> Vec<Bytes> {
        g.parts
            .iter_mut()
            .map(|p| p.take().unwrap_or_default())
            .collect()
    }
    if let Some(layout) = g.exec.take() {
        return exec_reply(*layout, take_parts(g), resp3);
    }
    let failed = g.parts.iter().flatten().find(|p| p.first() == Some(&b'-'));
    if let Some(err) = failed {
        return err.clone();
    }
    if let Some(fixed) = g.fixed.take() {
        return fixed;
    }
    if g.kind == Gather::Ok {
        // The same bytes in RESP2 and RESP3; no buffer to build.
        return Bytes::from_static(b"+OK\r\n");
    }
    let parts = take_parts(g);
    let mut r = Reply::new(resp3);
    match g.kind {
        Gather::Sum => {
            let total: i64 = parts.iter().map(|p| integer_reply(p).unwrap_or(0)).sum();
            r.int(total);
        }
        Gather::Ok => r.ok(), // answered above
        Gather::Concat => {
            let mut tag = b'*';
            let mut count = 0;
            let mut body = BytesMut::new();
            for p in &parts {
                if let Some((t, n, h)) = aggregate_header(p) {
                    tag = t;
                    count += n.max(0);
                    body.put_slice(&p[h..]);
                }
            }
            r.buf.put_u8(tag);
            r.buf
                .put_slice(itoa::Buffer::new().format(count).as_bytes());
            r.buf.put_slice(b"\r\n");
            r.buf.put_slice(&body);
        }
        Gather::Interleave => {
            let total: usize = g.positions.iter().map(|p| p.len()).sum();
            let mut slots: Vec<&[u8]> = vec![b"$-1\r\n"; total];
            for (p, positions) in parts.iter().zip(&g.positions) {
                let Some((_, _, mut at)) = aggregate_header(p) else {
                    continue;
                };
                for &pos in positions {
                    let Some(len) = value_len(&p[at..]) else {
                        break;
                    };
                    slots[pos as usize] = &p[at..at + len];
                    at += len;
                }
            }
            r.array(total);
            for s in slots {
                if s == b"$-1\r\n" { r.null() } else { r.raw(s) }
            }
        }
        Gather::Random => {
            let live: Vec<&Bytes> = parts
                .iter()
                .filter(|p| p.first() == Some(&b'$') && !p.starts_with(b"$-1"))
                .collect();
            if live.is_empty() {
                r.null();
            } else {
                r.raw(live[fastrand::usize(..live.len())]);
            }
        }
        Gather::Save => {
            return match g.save_to.take() {
                Some((file, saver)) => saver.save(&file, &parts),
                None => Bytes::from_static(b"-ERR SAVE without a file\r\n"),
            };
        }
        Gather::Bgsave => r.simple("Background saving started"),
        Gather::Reload if g.digest.is_some() => {
            return digest_reply(&parts, g.digest == Some(true), resp3);
        }
        Gather::Reload => {
            return match g.save_to.take() {
                Some((file, saver)) => saver.save(&file, &parts),
                None => Bytes::from_static(b"+OK\r\n"),
            };
        }
        Gather::Info => {
            // Element-wise sum of every shard's statistics array.
            let mut sums: Vec<i64> = Vec::new();
            for p in &parts {
                let Some((_, n, mut at)) = aggregate_header(p) else {
                    continue;
                };
                for i in 0..n.max(0) as usize {
                    let Some(len) = value_len(&p[at..]) else {
                        break;
                    };
                    let v = integer_reply(&p[at..at + len]).unwrap_or(0);
                    if sums.len() <= i {
                        sums.push(0);
                    }
                    sums[i] += v;
                    at += len;
                }
            }
            return match g.finish.take() {
                Some(f) => f(sums, resp3),
                None => Bytes::from_static(b"-ERR INFO without formatter\r\n"),
            };
        }
    }
    r.buf.freeze()
}

/// EXEC's reply: nil when a WATCHed key changed (`*-1` in RESP2, `_` in
/// RESP3), else one element per queued command, errors included (a command
/// failing inside EXEC does not stop the others, as in Redis).
/// DEBUG DIGEST's reply from the shards' parts (arrays of null or 20-byte
/// bulk strings, see [`crate::cmd::digest`]): the dataset's digest; with
/// `by_key` (DIGEST-VALUE), per key the digest from its shard, zeros for a
/// missing key. Each as 40 hex digits in a status reply, as Redis.
fn digest_reply(parts: &[Bytes], by_key: bool, resp3: bool) -> Bytes {
    use crate::cmd::digest::{Digest, combine, hex};
    let decoded: Vec<Vec<Option<Digest>>> = parts
        .iter()
        .map(|p| {
            let Some((_, n, mut at)) = aggregate_header(p) else {
                return Vec::new();
            };
            let mut v = Vec::new();
            for _ in 0..n.max(0) {
                let Some(len) = value_len(&p[at..]) else {
                    break;
                };
                v.push(bulk_payload(&p[at..at + len]).and_then(|b| Digest::try_from(b).ok()));
                at += len;
            }
            v
        })
        .collect();
    let mut r = Reply::new(resp3);
    if by_key {
        let keys = decoded.iter().map(Vec::len).max().unwrap_or(0);
        r.array(keys);
        for i in 0..keys {
            let d = decoded
                .iter()
                .find_map(|p| p.get(i).copied().flatten())
                .unwrap_or_default();
            r.simple(&hex(&d));
        }
    } else {
        r.simple(&hex(&combine(&decoded)));
    }
    r.buf.freeze()
}

/// The payload of a bulk string reply; None for a null (or anything else).
fn bulk_payload(b: &[u8]) -> Option<&[u8]> {
    let rest = b.strip_prefix(b"$")?;
    let cr = memchr::memchr(b'\r', rest)?;
    let n: usize = std::str::from_utf8(&rest[..cr]).ok()?.parse().ok()?;
    rest.get(cr + 2..cr + 2 + n)
}

fn exec_reply(layout: ExecLayout, parts: Vec<Bytes>, resp3: bool) -> Bytes {
    let mut r = Reply::new(resp3);
    if parts
        .get(layout.done)
        .is_none_or(|p| p.first() == Some(&b'-'))
    {
        r.null_array();
        return r.buf.freeze();
    }
    r.array(layout.slots.len());
    for slot in layout.slots {
        match slot {
            ExecSlot::Ready(b) => r.raw(&b),
            ExecSlot::One(p) => r.raw(parts.get(p).map(|b| &b[..]).unwrap_or(b"$-1\r\n")),
            ExecSlot::Gather(mut g, from) => {
                for (i, p) in from.into_iter().enumerate() {
                    if let Some(slot) = g.parts.get_mut(i) {
                        *slot = parts.get(p).cloned();
                    }
                }
                let merged = merge(&mut g, resp3);
                r.raw(&merged);
            }
        }
    }
    r.buf.freeze()
}
