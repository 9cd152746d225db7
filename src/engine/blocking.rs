//! The shard side of blocking pops: per-key wait queues of blocked clients,
//! their timeouts, and serving them after pushes. The commands themselves
//! (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP) parse
//! their arguments in `cmd::block` and hand over through [`block_on`];
//! XREAD and XREADGROUP with BLOCK (`cmd::stream`) through [`block_with`]
//! once they found nothing to serve.
//!
//! # How a client blocks across shards
//!
//! The IO stage sends a blocking command to its first key's shard with the
//! client's [`Claim`] and runs nothing else from that client until it is
//! answered (Redis's blocked-client rule). The command then visits its keys
//! in order, hopping to each key's shard. On each shard it either finds the
//! first non-empty key, takes the claim and is served, or appends itself to
//! that key's FIFO queue before moving on, so a push that lands between two
//! hops still finds it (no missed wakeup). The first key's shard also keeps
//! the timeout. Whoever takes the claim first answers: the shard serving a
//! pushed element, the one whose timer fires, or the IO thread when the
//! client disconnects; the client's other queue entries are then dead and
//! are purged by a hop to each of their shards.
//!
//! Pushes mark keys with waiters through [`Shard::key_ready`]; the marked
//! keys are served right after the command (or hop) that pushed, oldest
//! waiter first, as Redis does after each command.
//!
//! Served waiters re-run the pop against the key that woke them (Redis 7.2's
//! model); a key that holds another type when it wakes them keeps them
//! waiting.
//!
//! # BLMOVE across shards
//!
//! A BLMOVE (or BRPOPLPUSH) whose destination lives on another shard moves
//! its element only while the transaction layer holds both keys, so nobody
//! sees the element in neither list. The IO thread sends it as a
//! coordinated transaction: its source's shard, holding both locks, serves
//! it at once or lets go of the locks and queues it like any waiter. A push
//! that wakes it takes no claim: the shard begins a transaction of its own
//! over both keys for that client ([`Shard::tx_begun`]) and serves nobody
//! else from that key until it ran, so the oldest waiter keeps its turn.
//! When the transaction holds its locks, [`Shard::resume_move`] pops, and
//! the element reaches the destination by a hop; a destination of another
//! type puts it back. If the element was taken meanwhile (by a client that
//! does not wait), the waiter goes back to the front of the queue.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use hashbrown::HashMap;

use super::Shard;
use crate::cmd::list::{list_event, move_here, pop_values, push_popped, write_mpop};
use crate::cmd::stream::StreamWait;
use crate::cmd::zset::{pop_members, write_zmpop, zset_event};
use crate::cmd::{CmdError, CmdResult, Ctx, typed};
use crate::msg::{Claim, KeyLock, Mode, ReplyTo, TxId, TxInfo, TxKind, Want, next_tx_id};
use crate::pubsub::notify::{LIST, ZSET};
use crate::resp::Reply;
use crate::spec::key_hash;
use crate::store::{End, List, Stream, ZSet};

/// What serving a blocked client does with the key that has data.
#[derive(Debug)]
pub enum Op {
    /// BLPOP/BRPOP: `[key, element]`.
    Pop(End),
    /// BLMPOP: `[key, [element...]]`, up to `count`.
    MPop(End, usize),
    /// BLMOVE/BRPOPLPUSH: the moved element.
    Move { dst: Bytes, from: End, to: End },
    /// BZPOPMIN (`true`)/BZPOPMAX: `[key, member, score]`.
    ZPop(bool),
    /// BZMPOP: `[key, [[member, score]...]]`, up to `count`.
    ZMPop(bool, usize),
    /// XREAD/XREADGROUP with BLOCK: the entries past an ID, per key
    /// ([`crate::cmd::stream::StreamWait`]). Serving one reader takes
    /// nothing from the others: every ready one is served.
    Stream(Box<StreamWait>),
}

impl Op {
    /// Whether `key` can serve this op now: it holds the op's type (it is
    /// then non-empty). `Ok(false)` when missing. Errors: WRONGTYPE.
    fn ready(&self, sh: &mut Shard, db: usize, key: &[u8]) -> Result<bool, CmdError> {
        let (h, now) = (key_hash(key), sh.now_ms);
        let d = &mut sh.dbs[db];
        Ok(match self {
            Op::Pop(_) | Op::MPop(..) | Op::Move { .. } => typed::<List>(d, h, key, now)?.is_some(),
            Op::ZPop(_) | Op::ZMPop(..) => typed::<ZSet>(d, h, key, now)?.is_some(),
            Op::Stream(w) => w.ready(sh, db, key),
        })
    }

    /// Whether serving this op takes what it serves, so that once one
    /// waiter of a key finds nothing, those behind it would not either.
    fn consumes(&self) -> bool {
        !matches!(self, Op::Stream(_))
    }

    /// The reply when the timeout passes: a null array for every op, BLMOVE
    /// and BRPOPLPUSH included (Redis's `replyToBlockedClientTimedOut`
    /// answers every list/zset wait with a null array, although those two
    /// are documented as returning a null bulk string).
    fn timed_out(&self, r: &mut Reply) {
        r.null_array();
    }

    /// The reply when it may not block (inside EXEC) and nothing has data:
    /// Redis answers BLMOVE and BRPOPLPUSH with a null bulk string there
    /// (`blmoveGenericCommand`), the others with a null array.
    fn denied(&self, r: &mut Reply) {
        match self {
            Op::Move { .. } => r.null(),
            _ => r.null_array(),
        }
    }
}

/// One blocked client, shared by its entries in every key queue.
#[derive(Debug)]
struct Blocked {
    claim: Arc<Claim>,
    to: ReplyTo,
    db: usize,
    keys: Vec<Bytes>,
    /// Unix time in ms; 0 waits forever.
    deadline: u64,
    /// Unique on the first key's shard, which holds the timer.
    id: u64,
    op: Op,
    /// Inside EXEC: answer at once when no key has data, wait nowhere.
    no_wait: bool,
}

/// A shard's blocked clients: a FIFO queue per key, the keys pushed to
/// since the last serve, and the timeouts of clients whose first key lives
/// here.
#[derive(Debug)]
pub struct Waits {
    /// Per database: key → waiters, oldest first.
    queues: Vec<HashMap<Bytes, VecDeque<Arc<Blocked>>>>,
    ready: Vec<(usize, Bytes)>,
    /// (deadline ms, id) → waiter.
    timers: BTreeMap<(u64, u64), Arc<Blocked>>,
    next_id: u64,
    /// Woken cross-shard BLMOVEs, by the transaction that will serve them.
    resuming: HashMap<TxId, Arc<Blocked>>,
    /// (database, key) of those waiters' sources: nobody else is served
    /// from them until the transaction ran.
    waking: Vec<(usize, Bytes)>,
}

impl Waits {
    pub fn new(databases: usize) -> Waits {
        Waits {
            queues: (0..databases).map(|_| HashMap::new()).collect(),
            ready: Vec::new(),
            timers: BTreeMap::new(),
            next_id: 0,
            resuming: HashMap::new(),
            waking: Vec::new(),
        }
    }

    /// Notes a push to `key`: one branch when nobody waits in `db`.
    #[inline]
    pub fn mark(&mut self, db: usize, key: &[u8]) {
        let q = &self.queues[db];
        if !q.is_empty()
            && q.contains_key(key)
            && self.ready.last().is_none_or(|(d, k)| *d != db || k != key)
        {
            self.ready.push((db, Bytes::copy_from_slice(key)));
        }
    }

    /// Whether anyone waits on a key of database `db`.
    #[inline]
    pub fn any(&self, db: usize) -> bool {
        !self.queues[db].is_empty()
    }

    /// Whether a push since the last serve may wake someone.
    #[inline]
    pub fn pending(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Unix time in ms of the earliest timeout held here.
    pub fn next_deadline(&self) -> Option<u64> {
        self.timers.keys().next().map(|k| k.0)
    }

    /// Drops the dead entries (claim taken) of `key`'s queue.
    fn purge(&mut self, db: usize, key: &[u8]) {
        if let Some(q) = self.queues[db].get_mut(key) {
            q.retain(|w| !w.claim.taken());
            if q.is_empty() {
                self.queues[db].remove(key);
            }
        }
    }
}

impl Shard {
    /// Serves the clients blocked on keys pushed to since the last call,
    /// oldest waiter first per key, while the key has data. Called after
    /// every command and hop.
    pub fn serve_ready(&mut self) {
        while let Some((db, key)) = self.waits.ready.pop() {
            if self.waits.waking.iter().any(|(d, k)| *d == db && *k == key) {
                // Its oldest waiter's move comes first.
                continue;
            }
            // Waiters looked at and left waiting (stream readers whose ID
            // the key has not passed), and whether a pop found nothing.
            let mut at = 0;
            let mut drained = false;
            while let Some(q) = self.waits.queues[db].get_mut(&key) {
                let Some(w) = q.get(at).cloned() else {
                    if q.is_empty() {
                        self.waits.queues[db].remove(&key);
                    }
                    break;
                };
                let live = !w.claim.taken();
                if live {
                    let consumes = w.op.consumes();
                    let ready =
                        !(drained && consumes) && matches!(w.op.ready(self, db, &key), Ok(true));
                    if !ready {
                        if consumes && !drained {
                            drained = true;
                            // Only stream readers can still be served, and
                            // only from a stream.
                            let h = key_hash(&key);
                            let now = self.now_ms;
                            if !matches!(
                                typed::<Stream>(&mut self.dbs[db], h, &key, now),
                                Ok(Some(_))
                            ) {
                                break;
                            }
                        }
                        at += 1;
                        continue;
                    }
                }
                // Seen above; `ready` only reads the keyspace.
                let Some(q) = self.waits.queues[db].get_mut(&key) else {
                    break;
                };
                q.remove(at);
                if q.is_empty() {
                    self.waits.queues[db].remove(&key);
                }
                if !live {
                    continue;
                }
                if let Op::Move { dst, .. } = &w.op
                    && self.shard_of(dst) != self.id
                {
                    let dst = dst.clone();
                    self.wake_move(w, db, key.clone(), dst);
                    break;
                }
                if w.claim.take() {
                    let i = w.keys.iter().position(|k| *k == key).unwrap_or(0);
                    serve(self, &w, i, w.to);
                    release(self, &w, Some(i));
                }
            }
        }
    }

    /// A push woke `w`, a BLMOVE from `key` to `dst` on another shard:
    /// begins the transaction over both keys that will serve it
    /// ([`Shard::resume_move`]) and holds `key`'s other waiters until then.
    fn wake_move(&mut self, w: Arc<Blocked>, db: usize, key: Bytes, dst: Bytes) {
        let id = next_tx_id();
        let lock = |k: &[u8]| {
            Want::Keys(
                [KeyLock::new(db as u16, k, Mode::Exclusive)]
                    .into_iter()
                    .collect(),
            )
        };
        let mut shards = vec![(self.id, lock(&key)), (self.shard_of(&dst), lock(&dst))];
        shards.sort_by_key(|(s, _)| *s);
        let info = Arc::new(TxInfo {
            id,
            kind: TxKind::Coordinated {
                coordinator: self.id,
            },
            shards,
            exec: None,
            log: Default::default(),
            follows: false,
        });
        self.tx_begun
            .push((info, w.to.io, w.to.conn, crate::msg::Begun::Move));
        self.waits.waking.push((db, key));
        self.waits.resuming.insert(id, w);
    }

    /// Transaction `tx`, begun by [`Shard::wake_move`], holds its locks:
    /// serves its BLMOVE (the pop here, the push by a hop, the reply
    /// carrying `tx`), or puts the waiter back at the front of its queue if
    /// the element is gone, or does nothing if the client already timed out
    /// or left. Then the key's other waiters get their turn. True if a reply
    /// is on its way (it ends the transaction); false: release it now.
    pub fn resume_move(&mut self, tx: TxId) -> bool {
        let Some(w) = self.waits.resuming.remove(&tx) else {
            return false;
        };
        let (db, key) = (w.db, w.keys[0].clone());
        self.waits.waking.retain(|(d, k)| !(*d == db && *k == key));
        let mut answering = false;
        if !w.claim.taken() {
            match w.op.ready(self, db, &key) {
                Ok(false) => self.waits.queues[db]
                    .entry(key.clone())
                    .or_default()
                    .push_front(w.clone()),
                res => {
                    if w.claim.take() {
                        let to = ReplyTo { tx, ..w.to };
                        match res {
                            Err(e) => self.reply_later(to, |r| r.error(e.text())),
                            Ok(_) => serve(self, &w, 0, to),
                        }
                        release(self, &w, Some(0));
                        answering = true;
                    }
                }
            }
        }
        self.waits.mark(db, &key);
        self.serve_ready();
        answering
    }

    /// Answers (null) the blocked clients whose timeout has passed.
    pub fn fire_timeouts(&mut self) {
        let now = self.now_ms;
        while let Some(e) = self.waits.timers.first_entry() {
            if e.key().0 > now {
                break;
            }
            let w = e.remove();
            if w.claim.take() {
                self.reply_later(w.to, |r| w.op.timed_out(r));
                release(self, &w, None);
            }
        }
    }

    /// CLIENT UNBLOCK: answers the blocked client `conn` of IO thread `io`
    /// as its timeout would, or with `-UNBLOCKED client unblocked via
    /// CLIENT UNBLOCK` (`error`), if it waits here and nobody answered it
    /// yet; its waits on every shard go.
    pub fn wake(&mut self, io: u16, conn: u64, error: bool) {
        let mine = |w: &Arc<Blocked>| w.to.io == io && w.to.conn == conn;
        let found = self
            .waits
            .timers
            .values()
            .chain(self.waits.queues.iter().flat_map(|q| q.values().flatten()))
            .find(|w| mine(w))
            .cloned();
        let Some(w) = found else {
            return;
        };
        if w.claim.take() {
            self.reply_later(w.to, |r| {
                if error {
                    r.error("UNBLOCKED client unblocked via CLIENT UNBLOCK");
                } else {
                    w.op.timed_out(r);
                }
            });
            release(self, &w, None);
        }
    }

    /// Drops every wait of connection `conn` of IO thread `io` (it went away;
    /// its claim is already taken).
    pub fn unblock(&mut self, io: u16, conn: u64) {
        let gone = |w: &Arc<Blocked>| w.to.io == io && w.to.conn == conn;
        for q in self.waits.queues.iter_mut() {
            q.retain(|_, ws| {
                ws.retain(|w| !gone(w));
                !ws.is_empty()
            });
        }
        self.waits.timers.retain(|_, w| !gone(w));
    }
}

/// Tries `w.keys[i..]` in order, hopping to each key's shard: serves the
/// first key with data, queues `w` on each empty one.
fn attempt(sh: &mut Shard, w: Arc<Blocked>, mut i: usize) {
    while i < w.keys.len() {
        let target = sh.shard_of(&w.keys[i]);
        if target != sh.id {
            sh.hop(target, move |sh| attempt(sh, w, i));
            return;
        }
        if w.claim.taken() {
            // Served on an earlier key's shard, timed out, or gone.
            return;
        }
        match w.op.ready(sh, w.db, &w.keys[i]) {
            Err(e) => {
                if w.claim.take() {
                    sh.reply_later(w.to, |r| r.error(e.text()));
                    release(sh, &w, Some(i));
                }
                return;
            }
            Ok(true) => {
                if w.claim.take() {
                    serve(sh, &w, i, w.to);
                    release(sh, &w, Some(i));
                }
                return;
            }
            Ok(false) if w.no_wait => i += 1,
            Ok(false) => {
                if i == 0 && w.deadline > 0 {
                    sh.waits.timers.insert((w.deadline, w.id), w.clone());
                }
                sh.waits.queues[w.db]
                    .entry(w.keys[i].clone())
                    .or_default()
                    .push_back(w.clone());
                i += 1;
            }
        }
    }
    if w.no_wait && w.claim.take() {
        // Nothing had data and it may not wait (inside EXEC).
        sh.reply_later(w.to, |r| w.op.denied(r));
    }
}

/// Pops for `w` from its key `i` (known ready, claim taken) and answers
/// `to`. A BLMOVE to another shard runs only while a transaction holds
/// both its keys.
fn serve(sh: &mut Shard, w: &Blocked, i: usize, to: ReplyTo) {
    let (db, key) = (w.db, &w.keys[i]);
    let h = key_hash(key);
    // Logged as the pop it was, as Redis 7 propagates a served blocking
    // command (BLPOP as LPOP key, BZMPOP as ZPOPMIN key count, ...).
    let end_name = |e: End| -> &'static [u8] {
        match e {
            End::Left => b"LEFT",
            End::Right => b"RIGHT",
        }
    };
    let log = |sh: &mut Shard, name: &[u8], n: Option<usize>| {
        let n = n.map(|n| n.to_string());
        match &n {
            Some(n) => sh.propagate(db, &[name, key, n.as_bytes()]),
            None => sh.propagate(db, &[name, key]),
        }
    };
    let pop_name = |e: End| -> &'static [u8] {
        match e {
            End::Left => b"LPOP",
            End::Right => b"RPOP",
        }
    };
    let res = match &w.op {
        Op::Stream(sw) => {
            sw.serve(sh, db, key, to);
            Ok(())
        }
        Op::Pop(end) => pop_values(sh, db, key, h, *end, 1).map(|v| {
            let v = v.unwrap_or_default();
            log(sh, pop_name(*end), None);
            sh.notify_popped(LIST, list_event(*end), db, key);
            sh.reply_later(to, |r| {
                r.array(2);
                r.bulk(key);
                r.bulk(&v[0]);
            })
        }),
        Op::MPop(end, count) => pop_values(sh, db, key, h, *end, *count).map(|v| {
            let v = v.unwrap_or_default();
            log(sh, pop_name(*end), Some(v.len()));
            sh.notify_popped(LIST, list_event(*end), db, key);
            sh.reply_later(to, |r| write_mpop(r, key, &v))
        }),
        Op::ZPop(min) => pop_members(sh, db, key, *min, 1).map(|v| {
            let v = v.unwrap_or_default();
            log(sh, if *min { b"ZPOPMIN" } else { b"ZPOPMAX" }, None);
            sh.notify_popped(ZSET, zset_event(*min), db, key);
            sh.reply_later(to, |r| {
                r.array(3);
                r.bulk(key);
                r.bulk(&v[0].0);
                r.double(v[0].1);
            })
        }),
        Op::ZMPop(min, count) => pop_members(sh, db, key, *min, *count).map(|v| {
            let v = v.unwrap_or_default();
            log(
                sh,
                if *min { b"ZPOPMIN" } else { b"ZPOPMAX" },
                Some(v.len()),
            );
            sh.notify_popped(ZSET, zset_event(*min), db, key);
            sh.reply_later(to, |r| write_zmpop(r, key, &v))
        }),
        Op::Move { dst, from, to: end } => {
            // As LMOVE (into the place of the transaction holding both
            // keys when they live on two shards).
            sh.propagate(db, &[b"LMOVE", key, dst, end_name(*from), end_name(*end)]);
            if sh.shard_of(dst) == sh.id {
                move_here(sh, db, key, dst, *from, *end).map(|v| {
                    sh.reply_later(to, |r| match v {
                        Some(v) => r.bulk(&v),
                        None => r.null(),
                    })
                })
            } else {
                pop_values(sh, db, key, h, *from, 1).map(|v| match v.and_then(|mut v| v.pop()) {
                    Some(v) => push_popped(sh, to, db, key.clone(), dst.clone(), v, *from, *end),
                    None => sh.reply_later(to, |r| r.null()),
                })
            }
        }
    };
    if let Err(e) = res {
        sh.reply_later(to, |r| r.error(e.text()));
    }
}

/// After `w`'s claim was taken: drops its other queue entries (all but key
/// `served`, whose entry the server already removed) and its timer, here and
/// on the other shards of its keys.
fn release(sh: &mut Shard, w: &Arc<Blocked>, served: Option<usize>) {
    let mut shards: Vec<u16> = Vec::new();
    for (j, k) in w.keys.iter().enumerate() {
        let s = sh.shard_of(k);
        if Some(j) != served && !shards.contains(&s) {
            shards.push(s);
        }
    }
    let first = sh.shard_of(&w.keys[0]);
    if w.deadline > 0 && !shards.contains(&first) {
        shards.push(first);
    }
    for s in shards {
        let w = w.clone();
        let purge = move |sh: &mut Shard| {
            for (j, k) in w.keys.iter().enumerate() {
                if Some(j) != served && sh.shard_of(k) == sh.id {
                    sh.waits.purge(w.db, k);
                }
            }
            if sh.shard_of(&w.keys[0]) == sh.id {
                sh.waits.timers.remove(&(w.deadline, w.id));
            }
        };
        if s == sh.id {
            purge(sh);
        } else {
            sh.hop(s, purge);
        }
    }
}

/// Serves `ctx`'s client from the first of `keys` with data or blocks it
/// there until `deadline` (unix ms, 0 = forever).
pub fn block_on(ctx: &mut Ctx, keys: Vec<Bytes>, deadline: u64, op: Op) -> CmdResult {
    ctx.deferred = true;
    block_with(
        ctx.sh,
        ctx.claim.cloned(),
        ctx.reply_to,
        ctx.db,
        keys,
        deadline,
        op,
        ctx.no_wait,
    );
    Ok(())
}

/// [`block_on`] from a hop: serves the client (`claim`, answering `to`)
/// from the first of `keys` in database `db` with data, or blocks it.
/// A transaction `to` carries ends here unless it serves a cross-shard
/// move at once.
#[allow(clippy::too_many_arguments)]
pub fn block_with(
    sh: &mut Shard,
    claim: Option<Arc<Claim>>,
    mut to: ReplyTo,
    db: usize,
    keys: Vec<Bytes>,
    deadline: u64,
    op: Op,
    no_wait: bool,
) {
    let id = sh.waits.next_id;
    sh.waits.next_id += 1;
    // Without an IO thread (the unit-test harness) nobody else holds it.
    let claim: Arc<Claim> = claim.unwrap_or_default();
    // A cross-shard BLMOVE, run by its source's shard as the coordinator
    // of a transaction that holds both keys: served now under those locks
    // (the reply ends the transaction), or it lets go of them and waits.
    // (Inside EXEC, `no_wait`, the EXEC's locks hold until it ends.)
    if to.tx != 0 && !no_wait {
        let idle = claim.taken()
            || !matches!(op, Op::Move { .. })
            || keys
                .first()
                .is_some_and(|k| matches!(op.ready(sh, db, k), Ok(false)));
        if idle {
            sh.tx_ended.push(to.tx);
            to.tx = 0;
        }
    }
    let w = Arc::new(Blocked {
        claim,
        to,
        db,
        keys,
        deadline,
        id,
        op,
        no_wait,
    });
    attempt(sh, w, 0);
}
