//! SORT and SORT_RO (<https://redis.io/docs/latest/commands/sort/>) over
//! lists, sets and sorted sets, with BY, LIMIT, GET, ASC/DESC, ALPHA and
//! STORE.
//!
//! Runs on the shard owning the sorted key, which reads its elements. The
//! keys that BY and GET patterns name may live on any shard: the job then
//! visits each of those shards once, in shard order, collecting the values,
//! sorts on the last one, and (STORE) hops to the destination's shard to
//! write the list. Like cross-shard LMOVE it is not atomic against other
//! clients between hops.

use std::cmp::Ordering;

use bytes::Bytes;

use super::cfloat::strtod;
use super::{CmdError, CmdResult, Ctx, Handler, Shard};
use crate::msg::ReplyTo;
use crate::resp::parse::parse_i64;
use crate::spec::key_hash;
use crate::store::{List, Value};

/// (name, handler) pairs registered in the handler table.
pub static HANDLERS: &[(&str, Handler)] = &[("sort", sort), ("sort_ro", sort)];

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// Parsed options of one SORT.
#[derive(Debug, Default)]
struct Opts {
    /// BY pattern with a `*` (a BY without one only disables sorting).
    by: Option<Bytes>,
    dontsort: bool,
    limit: Option<(i64, i64)>,
    gets: Vec<Bytes>,
    desc: bool,
    alpha: bool,
    store: Option<Bytes>,
}

/// Parses the options after the key. Errors: syntax error (STORE in
/// SORT_RO too), not-an-integer for LIMIT.
fn parse(args: &[Bytes], readonly: bool) -> Result<Opts, CmdError> {
    let mut o = Opts::default();
    let mut i = 2;
    let is = |a: &Bytes, w: &str| a.eq_ignore_ascii_case(w.as_bytes());
    while i < args.len() {
        let a = &args[i];
        let left = args.len() - i - 1;
        if is(a, "ASC") {
            o.desc = false;
        } else if is(a, "DESC") {
            o.desc = true;
        } else if is(a, "ALPHA") {
            o.alpha = true;
        } else if is(a, "LIMIT") && left >= 2 {
            let off = parse_i64(&args[i + 1]).ok_or(CmdError::NotInteger)?;
            let count = parse_i64(&args[i + 2]).ok_or(CmdError::NotInteger)?;
            o.limit = Some((off, count));
            i += 2;
        } else if is(a, "STORE") && left >= 1 && !readonly {
            o.store = Some(args[i + 1].clone());
            i += 1;
        } else if is(a, "BY") && left >= 1 {
            let p = &args[i + 1];
            // Redis: a pattern without `*` means "do not sort".
            if memchr::memchr(b'*', p).is_none() {
                o.dontsort = true;
                o.by = None;
            } else {
                o.by = Some(p.clone());
            }
            i += 1;
        } else if is(a, "GET") && left >= 1 {
            o.gets.push(args[i + 1].clone());
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    Ok(o)
}

/// The key (and hash field) a pattern names for `elem`: the first `*`
/// replaced by `elem`, and a `->field` suffix after it selecting a hash
/// field (Redis `lookupKeyByPattern`). `None` without a `*`.
fn pattern_key(pattern: &[u8], elem: &[u8]) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    let star = memchr::memchr(b'*', pattern)?;
    let (keypart, field) = match memchr::memmem::find(&pattern[star + 1..], b"->") {
        Some(at) if star + 1 + at + 2 < pattern.len() => {
            let at = star + 1 + at;
            (&pattern[..at], Some(pattern[at + 2..].to_vec()))
        }
        _ => (pattern, None),
    };
    let mut key = Vec::with_capacity(keypart.len() + elem.len());
    key.extend_from_slice(&keypart[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(&keypart[star + 1..]);
    Some((key, field))
}

/// A pattern key to read: its shard, the slot in `Job::found` its value
/// goes to, the key and the hash field (`->field`).
struct Read {
    shard: u16,
    slot: usize,
    key: Vec<u8>,
    field: Option<Vec<u8>>,
}

/// A SORT in progress, carried across the shards it reads from.
struct Job {
    o: Opts,
    elems: Vec<Bytes>,
    /// Values per element: `row` slots each, the BY value first (when BY
    /// names keys) then one per GET pattern.
    row: usize,
    found: Vec<Option<Bytes>>,
    /// Keys to read, in shard order; those before `next` are done.
    reads: Vec<Read>,
    next: usize,
    /// Sorting a set without BY order for STORE: alphabetical (Redis does
    /// this so the stored result is deterministic).
    force_alpha: bool,
    /// BY without `*` on a list or sorted set: their own order (walked
    /// backwards for DESC).
    keep_order: bool,
    db: usize,
    to: ReplyTo,
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
/// [ALPHA] [STORE destination]: the sorted elements (or per element the
/// GET values, null when missing), or with STORE the length of the list
/// stored at destination (deleted when empty). SORT_RO is the same without
/// STORE. Errors: syntax error, not-an-integer (LIMIT), WRONGTYPE (the key
/// is not a list, set or sorted set), `One or more scores can't be
/// converted into double` (numeric sort of a non-number).
fn sort(ctx: &mut Ctx) -> CmdResult {
    let o = parse(ctx.args, ctx.arg_is(0, "sort_ro"))?;
    let (h, now, db) = (ctx.key_hash(1), ctx.now(), ctx.db);
    let owned = |b: &[u8]| Bytes::copy_from_slice(b);
    let (elems, is_set, ordered) = match ctx.sh.dbs[db]
        .get_mut(h, &ctx.args[1], now)
        .map(|e| &mut e.value)
    {
        None => (Vec::new(), false, false),
        Some(Value::List(l)) => (l.iter().map(owned).collect(), false, true),
        Some(Value::Set(s)) => (s.members().iter().map(|m| owned(m)).collect(), true, false),
        Some(Value::ZSet(z)) => {
            // Redis converts the sorted set to a skiplist for good, SORT_RO
            // included ("Destructively convert encoded sorted sets").
            z.to_skiplist();
            let all = z.range(0, z.len(), false);
            (all.iter().map(|(m, _)| owned(m)).collect(), false, true)
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    let by_slot = o.by.is_some() && !o.dontsort;
    let row = by_slot as usize + o.gets.len();
    let mut found = vec![None; elems.len() * row];
    let mut reads = Vec::new();
    for (i, e) in elems.iter().enumerate() {
        let patterns = o.by.iter().filter(|_| by_slot).chain(o.gets.iter());
        for (j, p) in patterns.enumerate() {
            let slot = i * row + j;
            // BY always holds a `*`, so only a GET can be "#".
            if &p[..] == b"#" {
                found[slot] = Some(e.clone());
            } else if let Some((key, field)) = pattern_key(p, e) {
                let shard = ctx.sh.shard_of(&key);
                reads.push(Read {
                    shard,
                    slot,
                    key,
                    field,
                });
            }
        }
    }
    reads.sort_by_key(|r| r.shard);
    let job = Job {
        force_alpha: o.dontsort && is_set && o.store.is_some(),
        keep_order: o.dontsort && ordered,
        o,
        elems,
        row,
        found,
        reads,
        next: 0,
        db,
        to: ctx.reply_to,
    };
    ctx.deferred = true;
    read_step(ctx.sh, job);
    Ok(())
}

/// Reads this shard's pattern keys, then moves on to the next shard with
/// reads, or finishes.
fn read_step(sh: &mut Shard, mut job: Job) {
    let now = sh.now_ms;
    while let Some(r) = job.reads.get(job.next) {
        if r.shard != sh.id {
            let target = r.shard;
            sh.hop(target, move |sh| read_step(sh, job));
            return;
        }
        let v = sh.dbs[job.db]
            .get(key_hash(&r.key), &r.key, now)
            .map(|e| &e.value);
        job.found[r.slot] = match (v, &r.field) {
            (Some(Value::Str(s)), None) => Some(Bytes::copy_from_slice(s)),
            (Some(Value::Int(n)), None) => Some(Bytes::from(n.to_string())),
            (Some(Value::Hash(h)), Some(f)) => h.get(f).map(Bytes::copy_from_slice),
            _ => None,
        };
        job.next += 1;
    }
    finish(sh, job);
}

/// Sorts, applies LIMIT and answers or stores.
fn finish(sh: &mut Shard, job: Job) {
    let Job {
        o,
        elems,
        row,
        found,
        force_alpha,
        keep_order,
        db,
        to,
        ..
    } = job;
    let n = elems.len();
    let mut order: Vec<usize> = (0..n).collect();
    let by_slot = o.by.is_some() && !o.dontsort;
    let sort_key = |i: usize| -> Option<&[u8]> {
        if by_slot {
            found[i * row].as_deref()
        } else {
            Some(&elems[i])
        }
    };
    if keep_order && o.desc {
        // Redis walks a list or sorted set backwards for BY nosort DESC.
        order.reverse();
    } else if force_alpha || (!o.dontsort && o.alpha) {
        // A stable sort without a tie-break: Redis's qsort (glibc's merge
        // sort) keeps equal BY values in input order, and its comparator
        // calls them equal, DESC included. Without STORE Redis compares
        // with strcoll(), C strings in the C locale: up to a NUL byte.
        let c_str = |b: &'_ [u8]| -> usize { memchr::memchr(0, b).unwrap_or(b.len()) };
        let binary = o.store.is_some();
        order.sort_by(|&a, &b| {
            let c = match (sort_key(a), sort_key(b)) {
                (Some(x), Some(y)) if binary => x.cmp(y),
                (Some(x), Some(y)) => x[..c_str(x)].cmp(&y[..c_str(y)]),
                (None, None) => Ordering::Equal,
                (None, _) => Ordering::Less,
                (_, None) => Ordering::Greater,
            };
            if o.desc { c.reverse() } else { c }
        });
    } else if !o.dontsort {
        let mut scores = Vec::with_capacity(n);
        for i in 0..n {
            // A missing BY key weighs 0. Anything else goes through strtod
            // over the C string as Redis does: leading blanks, hex and an
            // empty string (0) are fine; trailing garbage, NaN and range
            // errors (overflow, underflow) are not.
            let s = match sort_key(i) {
                None => 0.0,
                Some(b) => {
                    let c = b.split(|&x| x == 0).next().unwrap_or_default();
                    let (v, used, erange) = strtod(c);
                    if used != c.len() || erange || v.is_nan() {
                        return sh.reply_later(to, |r| r.error(NOT_DOUBLE));
                    }
                    v
                }
            };
            scores.push(s);
        }
        order.sort_by(|&a, &b| {
            let c = scores[a]
                .partial_cmp(&scores[b])
                .unwrap_or(Ordering::Equal)
                .then_with(|| elems[a].cmp(&elems[b]));
            if o.desc { c.reverse() } else { c }
        });
    }
    // LIMIT as Redis clamps it.
    let (start, end) = match o.limit {
        None => (0, n as i64 - 1),
        Some((off, count)) => {
            let mut start = off.max(0);
            let mut end = if count < 0 {
                n as i64 - 1
            } else {
                start.saturating_add(count) - 1
            };
            if start >= n as i64 {
                start = n as i64 - 1;
                end = n as i64 - 2;
            }
            (start, end.min(n as i64 - 1))
        }
    };
    let picked: &[usize] = if end >= start {
        &order[start as usize..=end as usize]
    } else {
        &[]
    };
    let gets = o.gets.len();
    let first_get = by_slot as usize;
    let value = |i: usize, g: usize| found[i * row + first_get + g].as_deref();
    let Some(dst) = o.store else {
        let len = picked.len() * gets.max(1);
        return sh.reply_later(to, |r| {
            r.array(len);
            for &i in picked {
                if gets == 0 {
                    r.bulk(&elems[i]);
                }
                for g in 0..gets {
                    match value(i, g) {
                        Some(v) => r.bulk(v),
                        None => r.null(),
                    }
                }
            }
        });
    };
    // STORE: missing GET values are stored as empty strings, as Redis does.
    let mut vals: Vec<Bytes> = Vec::with_capacity(picked.len() * gets.max(1));
    for &i in picked {
        if gets == 0 {
            vals.push(elems[i].clone());
        }
        for g in 0..gets {
            vals.push(value(i, g).map(Bytes::copy_from_slice).unwrap_or_default());
        }
    }
    let target = sh.shard_of(&dst);
    sh.hop(target, move |sh| {
        let (h, now, enc) = (key_hash(&dst), sh.now_ms, sh.enc());
        let existed = sh.dbs[db].remove(h, &dst, now).is_some();
        sh.notify_stored(
            crate::pubsub::notify::LIST,
            "sortstore",
            db,
            &dst,
            !vals.is_empty(),
            existed,
        );
        if !vals.is_empty() {
            let mut l = List::default();
            for v in &vals {
                l.push(crate::store::End::Right, v, &enc);
            }
            sh.dbs[db].set(h, &dst, Value::List(Box::new(l)), 0, now);
            sh.key_ready(db, &dst);
        }
        sh.reply_later(to, |r| r.int(vals.len() as i64));
    });
}
