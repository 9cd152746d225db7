//! Eviction over `maxmemory`, as Redis 7.0's `evict.c` does it.
//!
//! # The limit and who enforces it
//!
//! `maxmemory` bounds the process's allocated bytes (INFO `used_memory`,
//! the allocator's count, [`crate::alloc::allocated`]), as in Redis. Each
//! shard enforces it for its own keys: before every command it runs (and
//! at each tick) it compares the used memory with the limit and, when
//! over, evicts its share of the excess from its own keyspace, so no
//! shard touches another's keys. A shard's share is the excess times its
//! part of the evictable keys (all keys, or those with a TTL under a
//! `volatile-*` policy), which every shard publishes in the [`Census`]:
//! the shards together free what the limit asks, and a shard with more
//! candidates gives more, which keeps their key counts level (equal
//! shares would let them drift apart until one had nothing left). Keys
//! are spread over shards by hash, so the keys a shard picks are as good
//! as a global pick would be: each shard keeps its own pool of the best
//! candidates, filled by sampling, exactly as Redis keeps one
//! (`evictionPoolPopulate`).
//!
//! Reading every thread's allocation counter per command would cost a
//! cache miss per thread, so a shard reads them once per batch and then
//! adds its own thread's counter ([`crate::alloc::mine`]), which moves
//! with every key it writes or evicts. Before it evicts it reads them
//! afresh, so it does not evict again what other shards freed meanwhile.
//!
//! # Refusing writes
//!
//! When memory stays over the limit with nothing to evict (the policy is
//! `noeviction`, or no shard has a candidate left), the command is refused
//! with `-OOM` if it is `denyoom` and runs on this shard alone. The shard
//! also records the verdict ([`crate::alloc::set_out_of_memory`]) for the
//! IO threads, which refuse what Redis refuses before a command starts
//! and which no single shard can decide atomically: commands queued in
//! MULTI, EXEC of a block with a `denyoom` command, `denyoom` commands
//! that span shards. That verdict is the last shard's to look, so it can
//! lag by a command.
//!
//! While a multi-shard transaction holds locks on a shard, the shard
//! evicts nothing (a key could vanish between two steps of it); it evicts
//! at its next command or tick after the locks are gone.
//!
//! # Access bits
//!
//! Each entry's 24 access bits hold an access clock (LRU and every other
//! policy) or an LFU counter with its decrement time (LFU policies),
//! switched with `maxmemory-policy` as Redis switches its `lru` field
//! ([`crate::store::Access`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::shard::Shard;
use crate::alloc;
use crate::store::{Access, lfu_decayed, lfu_minutes};

/// `maxmemory-policy` (<https://redis.io/docs/latest/develop/reference/eviction/>).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    #[default]
    NoEviction,
}

impl Policy {
    /// Every policy, in Redis's order (`maxmemory_policy_enum`).
    pub const ALL: [Policy; 8] = [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
        Policy::NoEviction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::VolatileLru => "volatile-lru",
            Policy::VolatileLfu => "volatile-lfu",
            Policy::VolatileRandom => "volatile-random",
            Policy::VolatileTtl => "volatile-ttl",
            Policy::AllkeysLru => "allkeys-lru",
            Policy::AllkeysLfu => "allkeys-lfu",
            Policy::AllkeysRandom => "allkeys-random",
            Policy::NoEviction => "noeviction",
        }
    }

    /// The policy named `s` (any case).
    pub fn parse(s: &str) -> Option<Policy> {
        Policy::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
    }

    /// CONFIG SET's error for an unknown name, Redis's wording.
    pub fn choices() -> String {
        let names: Vec<&str> = Policy::ALL.iter().map(|p| p.name()).collect();
        format!(
            "argument(s) must be one of the following: {}",
            names.join(", ")
        )
    }

    /// Its index in [`Policy::ALL`].
    pub fn index(self) -> u64 {
        Policy::ALL.iter().position(|p| *p == self).unwrap_or(7) as u64
    }

    fn lfu(self) -> bool {
        matches!(self, Policy::VolatileLfu | Policy::AllkeysLfu)
    }

    fn allkeys(self) -> bool {
        matches!(
            self,
            Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom
        )
    }

    fn random(self) -> bool {
        matches!(self, Policy::VolatileRandom | Policy::AllkeysRandom)
    }
}

/// `maxmemory` and the directives of eviction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `maxmemory`, bytes (0: no limit).
    pub limit: u64,
    pub policy: Policy,
    /// `maxmemory-samples`: keys sampled per database and round.
    pub samples: u32,
    /// `maxmemory-eviction-tenacity`, 0–100.
    pub tenacity: u32,
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`, minutes.
    pub lfu_decay_time: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limit: 0,
            policy: Policy::NoEviction,
            samples: 5,
            tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
        }
    }
}

impl Settings {
    /// How entries keep their access bits under this policy.
    pub fn access(&self) -> Access {
        if self.policy.lfu() {
            Access::Lfu {
                log_factor: self.lfu_log_factor,
                decay_time: self.lfu_decay_time,
            }
        } else {
            Access::Lru
        }
    }

    /// How long one eviction pass may run (Redis's `evictionTimeLimitUs`):
    /// 50 µs per step up to tenacity 10, then 15% more per step; None
    /// (no limit) at 100.
    fn time_limit(&self) -> Option<Duration> {
        let t = self.tenacity.min(100);
        if t <= 10 {
            Some(Duration::from_micros(50 * t as u64))
        } else if t < 100 {
            Some(Duration::from_micros(
                (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
            ))
        } else {
            None
        }
    }
}

/// What an eviction check found (Redis's `EVICT_OK`, `EVICT_RUNNING`,
/// `EVICT_FAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Under the limit, or back under it.
    Ok,
    /// Still over, but eviction is under way (its time ran out, or locks
    /// hold it off): commands are not refused.
    Running,
    /// Over, and nothing may or can be evicted: `denyoom` commands are
    /// refused.
    Fail,
}

/// Candidates kept between rounds (Redis's `EVPOOL_SIZE`).
const POOL_SIZE: usize = 16;
/// Pool rounds one pick may take before giving up (each fills the pool
/// with fresh, present keys, so the first or second round finds one).
const PICK_ROUNDS: usize = 8;

/// An eviction candidate: higher `score` goes first.
struct Candidate {
    score: u64,
    db: usize,
    hash: u64,
    key: Box<[u8]>,
}

/// Each shard's count of evictable keys, as it last published it (one
/// cache line per shard: each is written by its shard alone, at most
/// once per batch and only while `maxmemory` is set).
pub struct Census {
    slots: Box<[Slot]>,
}

#[repr(align(64))]
#[derive(Default)]
struct Slot(AtomicU64);

impl Census {
    pub fn new(shards: usize) -> Census {
        Census {
            slots: (0..shards.max(1)).map(|_| Slot::default()).collect(),
        }
    }

    fn set(&self, shard: usize, n: u64) {
        if let Some(s) = self.slots.get(shard) {
            if s.0.load(Ordering::Relaxed) != n {
                s.0.store(n, Ordering::Relaxed);
            }
        }
    }

    fn total(&self) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

/// A shard's eviction state.
pub struct Evictor {
    /// The settings as read at the start of this batch.
    pub settings: Settings,
    /// Bytes the other threads had allocated at the start of this batch.
    others: i64,
    /// The best candidates seen, lowest score first.
    pool: Vec<Candidate>,
    /// Where the random policies look next.
    next_db: usize,
    /// Whether the check before the running command found memory full
    /// (Redis's `pre_command_oom_state`): a script's first write is
    /// refused then.
    pub oom_before: bool,
    census: Arc<Census>,
}

impl Evictor {
    pub fn new(census: Arc<Census>) -> Evictor {
        Evictor {
            settings: Settings::default(),
            others: 0,
            pool: Vec::new(),
            next_db: 0,
            oom_before: false,
            census,
        }
    }
}

/// Inserts `c` into `pool` (ascending scores, at most [`POOL_SIZE`]), as
/// `evictionPoolPopulate` does: when full, a candidate better than the
/// worst pushes it out.
fn pool_insert(pool: &mut Vec<Candidate>, c: Candidate) {
    let k = pool.partition_point(|p| p.score < c.score);
    if pool.len() < POOL_SIZE {
        pool.insert(k, c);
    } else if k > 0 {
        pool.remove(0);
        pool.insert(k - 1, c);
    }
}

impl Shard {
    /// Reads the eviction settings (before each batch and at each tick)
    /// and, with a limit set, what the other threads have allocated.
    /// Switches the databases' access bits when the policy changes
    /// between LRU and LFU.
    pub fn refresh_memory(&mut self) {
        let s = self.tun.eviction();
        if s.access() != self.evict.settings.access() {
            for d in &mut self.dbs {
                d.set_access(s.access());
            }
        }
        if s.limit == 0 {
            self.evict.oom_before = false;
            if self.evict.settings.limit != 0 {
                self.evict.pool.clear();
            }
        }
        self.evict.settings = s;
        if s.limit != 0 {
            self.evict.others = alloc::allocated() as i64 - alloc::mine();
            self.publish_evictable();
        }
    }

    /// Publishes how many keys this shard could evict under the policy.
    fn publish_evictable(&self) {
        let volatile = !self.evict.settings.policy.allkeys();
        let n: usize = self
            .dbs
            .iter()
            .map(|d| if volatile { d.expires_len() } else { d.len() })
            .sum();
        self.evict.census.set(self.id as usize, n as u64);
    }

    /// The process's allocated bytes as this shard sees them now.
    pub fn used_memory(&self) -> u64 {
        (self.evict.others + alloc::mine()).max(0) as u64
    }

    /// Brings memory back under `maxmemory` if it is over, evicting this
    /// shard's share of the excess by the policy (Redis's
    /// `performEvictions`), within the tenacity's time. `may_evict` false
    /// (a transaction holds locks here) evicts nothing. Records the
    /// verdict for the IO threads.
    pub fn perform_evictions(&mut self, may_evict: bool) -> Verdict {
        let s = self.evict.settings;
        if s.limit == 0 || self.used_memory() <= s.limit {
            return self.under_limit();
        }
        // Over by the batch's figure: what do the others hold now?
        self.evict.others = alloc::allocated() as i64 - alloc::mine();
        let used = self.used_memory();
        if used <= s.limit {
            return self.under_limit();
        }
        if s.policy == Policy::NoEviction {
            alloc::set_out_of_memory(true);
            return Verdict::Fail;
        }
        self.publish_evictable();
        let total = self.evict.census.total();
        if total == 0 {
            alloc::set_out_of_memory(true);
            return Verdict::Fail;
        }
        if !may_evict {
            return Verdict::Running;
        }
        let mine = self
            .evict
            .census
            .slots
            .get(self.id as usize)
            .map_or(0, |s| s.0.load(Ordering::Relaxed));
        // The excess times this shard's part of the candidates, at least
        // one key's worth when it has any.
        let share = ((used - s.limit) as u128 * mine as u128).div_ceil(total as u128) as i64;
        let (start, limit) = (Instant::now(), s.time_limit());
        let (mut freed, mut n) = (0i64, 0u32);
        while freed < share {
            let Some((db, hash, key)) = self.pick() else {
                break;
            };
            // Only the removal counts as freed (Redis measures
            // `dbSyncDelete` alone): what the DEL's log entry and the
            // notifications take is freed later, or never ends the loop.
            let before = alloc::mine();
            self.dbs[db].evict(hash, &key);
            freed += before - alloc::mine();
            self.evicted(db, &key);
            n += 1;
            if n % 16 == 0 && limit.is_some_and(|l| start.elapsed() > l) {
                break;
            }
        }
        self.publish_evictable();
        alloc::set_out_of_memory(false);
        if self.used_memory() <= s.limit {
            Verdict::Ok
        } else {
            // The other shards free the rest at their next command or
            // tick (Redis's `EVICT_RUNNING`: nothing is refused).
            Verdict::Running
        }
    }

    fn under_limit(&self) -> Verdict {
        alloc::set_out_of_memory(false);
        Verdict::Ok
    }

    /// What an eviction owes besides the removal (Redis's
    /// `performEvictions` after `dbSyncDelete`): the `evicted` keyspace
    /// event, a DEL in the AOF, an invalidation for tracking clients. A
    /// WATCH on the key fails as for any key gone since WATCH.
    fn evicted(&mut self, db: usize, key: &[u8]) {
        self.notify(crate::pubsub::notify::EVICTED, "evicted", db, key);
        if self.logging {
            self.log_expired();
            self.push_log(db as u16, &[&b"DEL"[..], key]);
        }
        if self.tracking_active() {
            self.invalidate(key, None);
        }
    }

    /// The next key to evict: (database, hash, key), or None if the
    /// policy leaves nothing to evict.
    fn pick(&mut self) -> Option<(usize, u64, Box<[u8]>)> {
        let s = self.evict.settings;
        let volatile = !s.policy.allkeys();
        let n = self.dbs.len();
        if s.policy.random() {
            // One key from the next database that has one.
            for _ in 0..n {
                self.evict.next_db = (self.evict.next_db + 1) % n.max(1);
                let j = self.evict.next_db;
                let mut got = None;
                self.dbs[j].sample(1, volatile, |e| {
                    got = Some((e.hash(), Box::<[u8]>::from(&e.key[..])))
                });
                if let Some((h, k)) = got {
                    return Some((j, h, k));
                }
            }
            return None;
        }
        let now = self.now_ms;
        let minutes = lfu_minutes(now);
        let score = |e: &crate::store::Entry| -> u64 {
            match s.policy {
                Policy::VolatileTtl => u64::MAX - e.expire_at(),
                p if p.lfu() => 255 - lfu_decayed(e.lru(), minutes, s.lfu_decay_time),
                _ => e.idle_secs(now),
            }
        };
        for _ in 0..PICK_ROUNDS {
            let mut total = 0;
            let (dbs, pool) = (&self.dbs, &mut self.evict.pool);
            for (i, d) in dbs.iter().enumerate() {
                let keys = if volatile { d.expires_len() } else { d.len() };
                if keys == 0 {
                    continue;
                }
                total += keys;
                d.sample(s.samples as usize, volatile, |e| {
                    let sc = score(e);
                    // Worse than every candidate of a full pool: skip
                    // before copying the key.
                    if pool.len() == POOL_SIZE && pool.first().is_some_and(|p| p.score >= sc) {
                        return;
                    }
                    pool_insert(
                        pool,
                        Candidate {
                            score: sc,
                            db: i,
                            hash: e.hash(),
                            key: Box::from(&e.key[..]),
                        },
                    );
                });
            }
            if total == 0 {
                return None;
            }
            // Best first; a candidate gone since it was sampled is a ghost.
            while let Some(c) = self.evict.pool.pop() {
                if self
                    .dbs
                    .get(c.db)
                    .is_some_and(|d| d.holds(c.hash, &c.key, volatile))
                {
                    return Some((c.db, c.hash, c.key));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_round_trip() {
        for p in Policy::ALL {
            assert_eq!(Policy::parse(p.name()), Some(p));
            assert_eq!(Policy::ALL[p.index() as usize], p);
        }
        assert_eq!(Policy::parse("ALLKEYS-LRU"), Some(Policy::AllkeysLru));
        assert_eq!(Policy::parse("lru"), None);
    }

    #[test]
    fn time_limit_follows_tenacity() {
        let at = |t| {
            Settings {
                tenacity: t,
                ..Settings::default()
            }
            .time_limit()
        };
        assert_eq!(at(0), Some(Duration::ZERO));
        assert_eq!(at(10), Some(Duration::from_micros(500)));
        assert_eq!(at(11), Some(Duration::from_micros(575)));
        assert_eq!(at(100), None);
    }

    #[test]
    fn pool_keeps_the_best() {
        let mut pool = Vec::new();
        let candidate = |score| Candidate {
            score,
            db: 0,
            hash: 0,
            key: Box::from(&b"k"[..]),
        };
        for score in [5u64, 1, 9, 3, 7] {
            pool_insert(&mut pool, candidate(score));
        }
        let scores: Vec<u64> = pool.iter().map(|c| c.score).collect();
        assert_eq!(scores, [1, 3, 5, 7, 9]);
        for score in 10..40u64 {
            pool_insert(&mut pool, candidate(score));
        }
        assert_eq!(pool.len(), POOL_SIZE);
        assert_eq!(pool.first().map(|c| c.score), Some(24));
        assert_eq!(pool.last().map(|c| c.score), Some(39));
    }
}
