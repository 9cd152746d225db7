//! Issue #18's memory ceiling: `maxmemory`, the eight
//! `maxmemory-policy` values, `-OOM` refusals, LRU/LFU access bits
//! (OBJECT IDLETIME / FREQ), and what an eviction owes (the `evicted`
//! event, INFO `evicted_keys`). Replies Redis gives the same way are
//! diffed byte for byte against redis-server in three layouts; limits are
//! set relative to each server's own `used_memory`, and every load is
//! bounded in count.

mod common;
use common::*;

use std::time::{Duration, Instant};

/// Directives and their checks, with no memory figure in the replies.
const CONFIG: &[&[&str]] = &[
    &["CONFIG", "GET", "maxmemory"],
    &["CONFIG", "GET", "maxmemory-policy"],
    &["CONFIG", "GET", "maxmemory-samples"],
    &["CONFIG", "GET", "maxmemory-eviction-tenacity"],
    &["CONFIG", "GET", "lfu-log-factor"],
    &["CONFIG", "GET", "lfu-decay-time"],
    &["CONFIG", "SET", "maxmemory-policy", "lru"],
    &["CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LFU"],
    &["CONFIG", "GET", "maxmemory-policy"],
    &["CONFIG", "SET", "maxmemory-samples", "0"],
    &["CONFIG", "SET", "maxmemory-samples", "10"],
    &["CONFIG", "SET", "maxmemory-eviction-tenacity", "101"],
    &["CONFIG", "SET", "lfu-log-factor", "-1"],
    &["CONFIG", "SET", "lfu-decay-time", "x"],
    &["CONFIG", "SET", "maxmemory", "10mb"],
    &["CONFIG", "GET", "maxmemory"],
    &["CONFIG", "SET", "maxmemory", "-1"],
    &["CONFIG", "SET", "maxmemory", "0"],
    // Access bits follow the policy: FREQ under LFU, IDLETIME otherwise.
    &["SET", "k", "v"],
    &["OBJECT", "IDLETIME", "k"],
    &["OBJECT", "FREQ", "missing"],
    &["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
    &["OBJECT", "FREQ", "k"],
    &["RESTORE", "r", "0", "payload", "FREQ", "256"],
    &["RESTORE", "r", "0", "payload", "IDLETIME", "-1"],
    &["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    &["CONFIG", "SET", "maxmemory-samples", "5"],
    &["DEL", "k"],
];

/// Memory full under `noeviction` (maxmemory 1 byte): what is refused
/// and how, in and out of MULTI and scripts.
const FULL: &[&[&str]] = &[
    &["SET", "before", "1"],
    &["CONFIG", "SET", "maxmemory", "1"],
    &["SET", "a", "b"],
    &["GET", "before"],
    &["APPEND", "before", "x"],
    &["INCR", "before"],
    &["DEL", "before"],
    &["LPUSH", "l", "x"],
    &["MSET", "a", "1", "b", "2", "c", "3"],
    &["MSETNX", "a", "1", "b", "2"],
    &["RENAME", "nosuch", "b"],
    &["EXISTS", "a", "b", "c"],
    &["MULTI"],
    &["GET", "a"],
    &["SET", "a", "b"],
    &["EXEC"],
    &["MULTI"],
    &["DISCARD"],
    &["EVAL", "return redis.call('set','k','v')", "0"],
    &["EVAL", "return redis.call('get','k')", "0"],
    &["EVAL", "return redis.pcall('set','k','v')", "0"],
    &["EVAL", "#!lua\nreturn redis.call('get','k')", "0"],
    &[
        "EVAL",
        "#!lua flags=no-writes\nreturn redis.call('get','k')",
        "0",
    ],
    &[
        "EVAL",
        "#!lua flags=allow-oom\nreturn redis.call('set','k','v')",
        "0",
    ],
    &["GET", "k"],
    &["DEL", "k"],
    &["PING"],
    &["CONFIG", "SET", "maxmemory", "0"],
    &["SET", "a", "b"],
    &["DEL", "a"],
];

#[test]
fn replies_match_redis_byte_for_byte() {
    let redis = Redis::start(&[]);
    for mode in MODES {
        let s = Server::start(mode);
        let mut ours = s.raw();
        let mut theirs = redis.raw();
        let ctx = format!("{mode:?}");
        for script in [CONFIG, FULL] {
            for cmd in script {
                both(&mut ours, &mut theirs, cmd, &ctx);
            }
        }
        hello3(&mut ours, &mut theirs);
        for cmd in FULL {
            both(&mut ours, &mut theirs, cmd, &format!("{ctx} RESP3"));
        }
        s.assert_alive();
    }
}

/// EXEC of a block queued before memory filled up is refused whole, as
/// Redis's `execCommandAbort` refuses it, and the block is gone.
#[test]
fn exec_refused_when_memory_fills_after_queueing() {
    let redis = Redis::start(&[]);
    for mode in MODES {
        let s = Server::start(mode);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        let (mut admin_ours, mut admin_theirs) = (s.raw(), redis.raw());
        let ctx = format!("{mode:?}");
        for cmd in [&["MULTI"][..], &["SET", "x", "1"], &["GET", "x"]] {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        both(
            &mut admin_ours,
            &mut admin_theirs,
            &["CONFIG", "SET", "maxmemory", "1"],
            &ctx,
        );
        for cmd in [&["EXEC"][..], &["EXEC"], &["GET", "x"]] {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        // A block without a write still runs.
        for cmd in [
            &["CONFIG", "SET", "maxmemory", "0"][..],
            &["MULTI"],
            &["GET", "x"],
        ] {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        both(
            &mut admin_ours,
            &mut admin_theirs,
            &["CONFIG", "SET", "maxmemory", "1"],
            &ctx,
        );
        both(&mut ours, &mut theirs, &["EXEC"], &ctx);
        both(
            &mut admin_ours,
            &mut admin_theirs,
            &["CONFIG", "SET", "maxmemory", "0"],
            &ctx,
        );
        s.assert_alive();
    }
}

fn info_field(c: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let text: String = q(c, &["INFO", section]).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

/// Writes `n` keys `prefix:i` of `size` bytes, pipelined 500 at a time;
/// returns how many writes were refused with -OOM.
fn fill(c: &mut redis::Connection, prefix: &str, n: usize, size: usize, ttl: bool) -> usize {
    let value = "x".repeat(size);
    let mut refused = 0;
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut p = redis::pipe();
        for i in chunk {
            let k = format!("{prefix}:{i}");
            if ttl {
                p.cmd("SET").arg(&k).arg(&value).arg("EX").arg(3600);
            } else {
                p.cmd("SET").arg(&k).arg(&value);
            }
        }
        let replies: Vec<redis::RedisResult<redis::Value>> = p
            .query::<Vec<redis::Value>>(c)
            .map(|v| v.into_iter().map(Ok).collect())
            .unwrap_or_else(|e| {
                assert!(e.to_string().contains("OOM"), "{e}");
                vec![Err(e)]
            });
        for r in replies {
            match r {
                Ok(redis::Value::ServerError(e)) => {
                    assert_eq!(e.code(), "OOM", "{e:?}");
                    refused += 1;
                }
                Ok(_) => {}
                Err(_) => refused += 1,
            }
        }
    }
    refused
}

/// Under each evicting policy a load well past the limit leaves memory
/// near it (Redis too overshoots by what one command allocates: here a
/// pipeline of 500 writes and its replies), counts its evictions, and
/// under volatile policies never touches a key without a TTL.
#[test]
fn evicting_policies_hold_the_limit() {
    for mode in MODES {
        for policy in [
            "allkeys-lru",
            "allkeys-lfu",
            "allkeys-random",
            "volatile-lru",
            "volatile-lfu",
            "volatile-random",
            "volatile-ttl",
        ] {
            let s = Server::start(mode);
            let mut c = s.conn();
            let ctx = format!("{mode:?} {policy}");
            let volatile = policy.starts_with("volatile");
            // Keys that volatile policies must keep.
            fill(&mut c, "keep", 200, 100, false);
            let base = info_field(&mut c, "memory", "used_memory");
            let limit = base + (8 << 20);
            let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]).unwrap();
            let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-policy", policy]).unwrap();
            let refused = fill(&mut c, "load", 30_000, 1000, volatile);
            assert_eq!(refused, 0, "{ctx}: writes refused while keys could go");
            let used = info_field(&mut c, "memory", "used_memory");
            assert!(
                used <= limit + (2 << 20),
                "{ctx}: used {used} over limit {limit}"
            );
            let evicted = info_field(&mut c, "stats", "evicted_keys");
            let keys: u64 = q(&mut c, &["DBSIZE"]).unwrap();
            assert!(evicted > 10_000, "{ctx}: only {evicted} evicted");
            assert_eq!(keys + evicted, 30_200, "{ctx}: keys lost or doubled");
            if volatile {
                for i in 0..200 {
                    let k = format!("keep:{i}");
                    let n: u64 = q(&mut c, &["EXISTS", &k]).unwrap();
                    assert_eq!(n, 1, "{ctx}: {k} without a TTL was evicted");
                }
                // Every key with a TTL goes (the shards' ticks evict
                // too); then nothing is left to evict: writes refused.
                let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "1"]).unwrap();
                let deadline = Instant::now() + Duration::from_secs(10);
                while q::<u64>(&mut c, &["DBSIZE"]).unwrap() > 200 {
                    assert!(Instant::now() < deadline, "{ctx}: keys with a TTL stay");
                    std::thread::sleep(Duration::from_millis(20));
                }
                let e = err(&mut c, &["SET", "keep:0", "y"]);
                assert!(e.contains("OOM"), "{ctx}: {e}");
                let n: u64 = q(&mut c, &["DBSIZE"]).unwrap();
                assert_eq!(n, 200, "{ctx}: persistent keys evicted");
            }
            s.assert_alive();
        }
    }
}

/// allkeys-lru evicts keys idle longest first: keys read after a pause
/// outlive the keys left alone (the access clock ticks in seconds, as
/// Redis's).
#[test]
fn lru_keeps_recently_read_keys() {
    for mode in MODES {
        let s = Server::start(mode);
        let mut c = s.conn();
        let ctx = format!("{mode:?}");
        let base = info_field(&mut c, "memory", "used_memory");
        fill(&mut c, "old", 6000, 1000, false);
        std::thread::sleep(Duration::from_millis(2100));
        let mut p = redis::pipe();
        for i in 0..1000 {
            p.cmd("GET").arg(format!("old:{i}")).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        let limit = info_field(&mut c, "memory", "used_memory");
        let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]).unwrap();
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        )
        .unwrap();
        // Room for about a third of the untouched keys goes to new ones.
        assert!(limit > base);
        fill(&mut c, "new", 1500, 1000, false);
        let survived = |c: &mut redis::Connection, range: std::ops::Range<usize>| {
            let mut p = redis::pipe();
            for i in range.clone() {
                p.cmd("EXISTS").arg(format!("old:{i}"));
            }
            let v: Vec<u64> = p.query(c).unwrap();
            v.iter().sum::<u64>() as f64 / range.len() as f64
        };
        let hot = survived(&mut c, 0..1000);
        let cold = survived(&mut c, 1000..6000);
        assert!(hot >= 0.95, "{ctx}: only {hot} of the read keys survived");
        assert!(cold < 0.9, "{ctx}: {cold} of the idle keys survived");
        s.assert_alive();
    }
}

/// Under an LFU policy reads raise a key's counter (OBJECT FREQ), new
/// keys start at 5, and RESTORE ... FREQ sets it.
#[test]
fn lfu_counts_accesses() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        )
        .unwrap();
        let _: () = q(&mut c, &["SET", "k", "v"]).unwrap();
        let f: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
        // 5 unless a minute boundary passed in between (decay by one).
        assert!((4..=5).contains(&f), "new key freq {f}");
        for _ in 0..20 {
            let _: String = q(&mut c, &["GET", "k"]).unwrap();
        }
        let f: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
        assert!(f > 5, "freq {f} after 20 reads");
        let dump: Vec<u8> = redis::cmd("DUMP").arg("k").query(&mut c).unwrap();
        let _: () = redis::cmd("RESTORE")
            .arg("r")
            .arg(0)
            .arg(dump)
            .arg("FREQ")
            .arg(100)
            .query(&mut c)
            .unwrap();
        let f: i64 = q(&mut c, &["OBJECT", "FREQ", "r"]).unwrap();
        assert!((99..=100).contains(&f), "restored freq {f}");
    });
}

/// Each eviction publishes `evicted` to keyspace-notification
/// subscribers, as Redis's `notifyKeyspaceEvent(NOTIFY_EVICTED, ...)`.
#[test]
fn evictions_are_notified() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ee"]).unwrap();
        let mut sub = s.raw();
        sub.send(&frame(&[b"SUBSCRIBE", b"__keyevent@0__:evicted"]));
        assert!(sub.read_reply().contains("subscribe"));
        let base = info_field(&mut c, "memory", "used_memory");
        let _: () = q(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "maxmemory",
                &(base + (2 << 20)).to_string(),
            ],
        )
        .unwrap();
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
        )
        .unwrap();
        fill(&mut c, "n", 5000, 1000, false);
        let msg = sub.read_reply();
        assert!(
            msg.contains("__keyevent@0__:evicted") && msg.contains("n:"),
            "{msg}"
        );
    });
}

/// A memory limit lowered while idle is met without any command: the
/// shards' tick evicts (Redis's eviction time proc).
#[test]
fn lowered_limit_is_met_while_idle() {
    each_mode(|s| {
        let mut c = s.conn();
        let base = info_field(&mut c, "memory", "used_memory");
        fill(&mut c, "i", 8000, 1000, false);
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        )
        .unwrap();
        let limit = base + (2 << 20);
        let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let used = info_field(&mut c, "memory", "used_memory");
            if used <= limit + (1 << 20) {
                break;
            }
            assert!(Instant::now() < deadline, "still {used} over {limit}");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(info_field(&mut c, "stats", "evicted_keys") > 4000);
    });
}

fn time_secs(c: &mut redis::Connection) -> u64 {
    let t: Vec<String> = q(c, &["TIME"]).unwrap();
    t[0].parse().unwrap()
}

/// `maxmemory-samples`: sampling one key per round evicts at random
/// (the pool never fills: each round adds one and takes one), while
/// sampling every key makes volatile-ttl take exactly the soonest
/// deadlines first.
#[test]
fn samples_make_the_pick_exact() {
    for mode in MODES {
        for (samples, exact) in [("1", false), ("100000", true)] {
            let s = Server::start(mode);
            let mut c = s.conn();
            let ctx = format!("{mode:?} samples {samples}");
            let base = info_field(&mut c, "memory", "used_memory");
            // Deadlines 10000 s + i: key i expires i-th.
            let value = "x".repeat(1000);
            let mut p = redis::pipe();
            for i in 0..3000 {
                p.cmd("SET")
                    .arg(format!("t:{i}"))
                    .arg(&value)
                    .arg("EX")
                    .arg(10_000 + i)
                    .ignore();
            }
            let _: () = p.query(&mut c).unwrap();
            let full = info_field(&mut c, "memory", "used_memory");
            let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory-samples", samples]).unwrap();
            let _: () = q(
                &mut c,
                &["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
            )
            .unwrap();
            // Less room than the keys took: a removed key gives back
            // less than it took (the table keeps its slots), so this
            // evicts well under two thirds of them.
            let limit = base + (full - base) * 85 / 100;
            let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &limit.to_string()]).unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while info_field(&mut c, "memory", "used_memory") > limit {
                assert!(Instant::now() < deadline, "{ctx}: limit never met");
                std::thread::sleep(Duration::from_millis(20));
            }
            let mut p = redis::pipe();
            for i in 2000..3000 {
                p.cmd("EXISTS").arg(format!("t:{i}"));
            }
            let late: Vec<u64> = p.query(&mut c).unwrap();
            let lost = late.iter().filter(|&&n| n == 0).count();
            let keys: u64 = q(&mut c, &["DBSIZE"]).unwrap();
            assert!(keys > 1000, "{ctx}: {keys} keys left");
            if exact {
                assert_eq!(lost, 0, "{ctx}: keys with the latest deadlines evicted");
            } else {
                assert!(lost > 50, "{ctx}: only {lost} late keys evicted at random");
            }
        }
    }
}

/// `maxmemory-eviction-tenacity`: at 0 one command evicts at most 16
/// keys per shard and leaves the rest for later; at 100 it evicts all
/// its shard's share at once.
#[test]
fn tenacity_bounds_one_command() {
    for mode in MODES {
        for (tenacity, bounded) in [("0", true), ("100", false)] {
            let s = Server::start(&[mode, &["--hz", "1"][..]].concat());
            let mut c = s.conn();
            let ctx = format!("{mode:?} tenacity {tenacity}");
            let base = info_field(&mut c, "memory", "used_memory");
            fill(&mut c, "k", 6000, 1000, false);
            let _: () = q(
                &mut c,
                &["CONFIG", "SET", "maxmemory-eviction-tenacity", tenacity],
            )
            .unwrap();
            let _: () = q(
                &mut c,
                &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
            )
            .unwrap();
            let _: () = q(
                &mut c,
                &[
                    "CONFIG",
                    "SET",
                    "maxmemory",
                    &(base + (1 << 20)).to_string(),
                ],
            )
            .unwrap();
            // Every shard runs DBSIZE, evicting before it.
            let _: u64 = q(&mut c, &["DBSIZE"]).unwrap();
            let evicted = info_field(&mut c, "stats", "evicted_keys");
            if bounded {
                // DBSIZE, INFO and perhaps one tick, 16 keys each per shard.
                assert!(evicted <= 16 * 3 * 3, "{ctx}: {evicted} evicted at once");
            } else {
                assert!(evicted >= 3000, "{ctx}: only {evicted} evicted at once");
            }
        }
    }
}

/// `lfu-log-factor`: at 0 every read counts (the counter climbs by one
/// per access from its start of 5); at 100 reads past the first few
/// rarely move it.
#[test]
fn lfu_log_factor_slows_counting() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        )
        .unwrap();
        for (factor, key) in [("0", "fast"), ("100", "slow")] {
            let _: () = q(&mut c, &["CONFIG", "SET", "lfu-log-factor", factor]).unwrap();
            let _: () = q(&mut c, &["SET", key, "v"]).unwrap();
            for _ in 0..50 {
                let _: String = q(&mut c, &["GET", key]).unwrap();
            }
        }
        let fast: i64 = q(&mut c, &["OBJECT", "FREQ", "fast"]).unwrap();
        let slow: i64 = q(&mut c, &["OBJECT", "FREQ", "slow"]).unwrap();
        // A minute boundary in between takes one off.
        assert!((54..=55).contains(&fast), "factor 0: {fast}");
        assert!(slow < 12, "factor 100: {slow}");
    });
}

/// `lfu-decay-time`: a counter loses one per that many minutes since its
/// last decrement (0: never). The decrement time is shown by switching a
/// key written under LRU to LFU, which reads its access clock as LFU bits
/// (Redis's own quirk): a decrement time of `clock >> 8` and a counter of
/// `clock & 255`, from which OBJECT FREQ is computed here exactly.
#[test]
fn lfu_decay_time_decays_counters() {
    each_mode(|s| {
        let mut c = s.conn();
        // SET within one known second, so its access clock is known.
        let clock = loop {
            let t0 = time_secs(&mut c);
            let _: () = q(&mut c, &["SET", "k", "v"]).unwrap();
            if time_secs(&mut c) == t0 {
                break t0 & 0xFF_FFFF;
            }
        };
        let (ldt, counter) = (clock >> 8, clock & 255);
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        )
        .unwrap();
        for decay in [0u64, 1, 1_000_000] {
            let _: () = q(
                &mut c,
                &["CONFIG", "SET", "lfu-decay-time", &decay.to_string()],
            )
            .unwrap();
            let (freq, minutes) = loop {
                let t0 = time_secs(&mut c);
                let f: u64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
                if time_secs(&mut c) / 60 == t0 / 60 {
                    break (f, (t0 / 60) & 0xFFFF);
                }
            };
            let elapsed = if minutes >= ldt {
                minutes - ldt
            } else {
                65535 - ldt + minutes
            };
            let periods = elapsed.checked_div(decay).unwrap_or(0);
            assert_eq!(freq, counter.saturating_sub(periods), "decay {decay}");
        }
    });
}

/// CLIENT NO-TOUCH ON (Redis 7.2): the client's reads leave a key's LFU
/// counter alone, its TOUCH still counts, and OFF or RESET end it; under
/// LRU its reads leave the idle time growing. A plain client's reads
/// count, in the same run, so the check can fail.
#[test]
fn no_touch_clients_leave_access_bits_alone() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
        )
        .unwrap();
        let _: () = q(&mut c, &["CONFIG", "SET", "lfu-log-factor", "0"]).unwrap();
        let _: () = q(&mut c, &["SET", "k", "v"]).unwrap();
        let start: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
        let e = err(&mut c, &["CLIENT", "NO-TOUCH", "maybe"]);
        assert!(e.contains("syntax error"), "{e}");
        let _: () = q(&mut c, &["CLIENT", "NO-TOUCH", "ON"]).unwrap();
        // CLIENT LIST's `T` flag (with NO-EVICT's `e`), as Redis 7.2.
        let info: String = q(&mut c, &["CLIENT", "INFO"]).unwrap();
        assert!(info.contains(" flags=T "), "{info}");
        let _: () = q(&mut c, &["CLIENT", "NO-EVICT", "ON"]).unwrap();
        let info: String = q(&mut c, &["CLIENT", "INFO"]).unwrap();
        assert!(info.contains(" flags=eT "), "{info}");
        let _: () = q(&mut c, &["CLIENT", "NO-EVICT", "OFF"]).unwrap();
        for _ in 0..10 {
            let _: String = q(&mut c, &["GET", "k"]).unwrap();
            let _: Vec<Option<String>> = q(&mut c, &["MGET", "k", "other"]).unwrap();
        }
        let after: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
        assert!(after <= start, "no-touch reads counted: {start} -> {after}");
        let _: u64 = q(&mut c, &["TOUCH", "k"]).unwrap();
        let touched: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
        assert!(touched > after, "TOUCH did not count: {after} -> {touched}");
        let _: () = q(&mut c, &["CLIENT", "NO-TOUCH", "OFF"]).unwrap();
        let _: String = q(&mut c, &["GET", "k"]).unwrap();
        let read: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
        assert!(
            read > touched,
            "plain read did not count: {touched} -> {read}"
        );
        // RESET ends it.
        let _: () = q(&mut c, &["CLIENT", "NO-TOUCH", "ON"]).unwrap();
        let _: String = q(&mut c, &["RESET"]).unwrap();
        let info: String = q(&mut c, &["CLIENT", "INFO"]).unwrap();
        assert!(info.contains(" flags=N "), "{info}");
        let _: String = q(&mut c, &["GET", "k"]).unwrap();
        let reset: i64 = q(&mut c, &["OBJECT", "FREQ", "k"]).unwrap();
        assert!(
            reset > read,
            "reads after RESET did not count: {read} -> {reset}"
        );
        // Under LRU a no-touch read leaves the idle time alone.
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
        )
        .unwrap();
        let _: () = q(&mut c, &["SET", "idle", "v"]).unwrap();
        std::thread::sleep(Duration::from_millis(2100));
        let _: () = q(&mut c, &["CLIENT", "NO-TOUCH", "ON"]).unwrap();
        let _: String = q(&mut c, &["GET", "idle"]).unwrap();
        let idle: u64 = q(&mut c, &["OBJECT", "IDLETIME", "idle"]).unwrap();
        assert!(idle >= 2, "idle {idle} after a no-touch read");
        let _: () = q(&mut c, &["CLIENT", "NO-TOUCH", "OFF"]).unwrap();
        let _: String = q(&mut c, &["GET", "idle"]).unwrap();
        let idle: u64 = q(&mut c, &["OBJECT", "IDLETIME", "idle"]).unwrap();
        assert_eq!(idle, 0);
    });
}
