//! Random picks shared by SRANDMEMBER, HRANDFIELD and ZRANDMEMBER
//! (<https://redis.io/docs/latest/commands/srandmember/>): a positive count
//! asks for distinct members, a negative one for |count| independent picks
//! that may repeat.
//!
//! Runs on shard engine threads. The repeating form's reply size is chosen
//! by the client, so it is written pick by pick and stops at the reply
//! limit ([`crate::config::Tunables::reply_limit`]) with an error instead of
//! sizing anything by the count.

use super::{CmdError, CmdResult};
use crate::resp::Reply;

/// The error a repeating pick gets when its reply would pass the reply
/// limit. Redis 7.0 has no such bound (it builds the reply until memory
/// runs out); the text keeps Redis's range-error prefix.
pub const REPLY_TOO_BIG: &str =
    "ERR value is out of range, the reply would exceed client-output-limit";

/// Positions of `count` distinct picks from `len` (all of them, in
/// position order, when `count >= len`). O(1) per pick plus O(count) for
/// distinctness; never allocates more than `len` positions.
pub fn distinct_picks(len: usize, count: u64) -> Vec<usize> {
    if len == 0 || count == 0 {
        return Vec::new();
    }
    if count >= len as u64 {
        return (0..len).collect();
    }
    let count = count as usize;
    if count * 3 > len {
        // Dense pick: shuffle positions and take a prefix.
        let mut all: Vec<usize> = (0..len).collect();
        fastrand::shuffle(&mut all);
        all.truncate(count);
        return all;
    }
    let mut seen = hashbrown::HashSet::with_capacity(count);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let i = fastrand::usize(..len);
        if seen.insert(i) {
            out.push(i);
        }
    }
    out
}

/// Writes `n` independent uniform picks from positions `0..len` with
/// `write` (which encodes the element at a position), after the caller
/// wrote the aggregate header. Checks the bytes written since `mark` (where
/// the reply started) against `limit` as it goes. Errors:
/// [`REPLY_TOO_BIG`], having possibly written a partial reply that the
/// engine discards (see [`super::execute`]).
pub fn write_repeats(
    out: &mut Reply,
    mark: usize,
    limit: u64,
    len: usize,
    n: u64,
    mut write: impl FnMut(&mut Reply, usize),
) -> CmdResult {
    // Every element takes at least 4 bytes ("$0\r\n\r\n" is 6): refuse an
    // impossible count before doing any work.
    if len == 0 || n.saturating_mul(4) > limit {
        return if len == 0 {
            Ok(())
        } else {
            Err(CmdError::Msg(REPLY_TOO_BIG))
        };
    }
    for i in 0..n {
        write(out, fastrand::usize(..len));
        if i % 64 == 63 && (out.buf.len() - mark) as u64 > limit {
            return Err(CmdError::Msg(REPLY_TOO_BIG));
        }
    }
    if (out.buf.len() - mark) as u64 > limit {
        return Err(CmdError::Msg(REPLY_TOO_BIG));
    }
    Ok(())
}

/// Redis's text for a count of `i64::MIN` (`getRangeLongFromObjectOrReply`
/// with the range `-LONG_MAX..LONG_MAX`).
pub const COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/// Parses the count argument of the RAND commands. Errors: not-an-integer,
/// [`COUNT_RANGE`] for `i64::MIN`.
pub fn parse_count(arg: &[u8]) -> Result<i64, CmdError> {
    match crate::resp::parse::parse_i64(arg) {
        None => Err(CmdError::NotInteger),
        Some(i64::MIN) => Err(CmdError::Msg(COUNT_RANGE)),
        Some(n) => Ok(n),
    }
}

/// `key [count [<with>]]` of HRANDFIELD (`WITHVALUES`) and ZRANDMEMBER
/// (`WITHSCORES`), checked in Redis 7.0's order (`t_hash.c`, `t_zset.c`):
/// the count, then the syntax, then the count's range with `<with>`
/// (pairs double the reply, so |count| must stay within `LONG_MAX/2`).
/// Errors: not-an-integer, [`COUNT_RANGE`], syntax error, `value is out of
/// range`.
pub fn parse_with(args: &[bytes::Bytes], with: &str) -> Result<(Option<i64>, bool), CmdError> {
    if args.len() < 3 {
        return Ok((None, false));
    }
    let count = parse_count(&args[2])?;
    if args.len() > 4 || (args.len() == 4 && !args[3].eq_ignore_ascii_case(with.as_bytes())) {
        return Err(CmdError::Syntax);
    }
    let pairs = args.len() == 4;
    if pairs && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::Msg("ERR value is out of range"));
    }
    Ok((Some(count), pairs))
}
