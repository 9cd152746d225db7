//! Slow commands: the slow log (SLOWLOG) and the latency monitor (LATENCY),
//! shared by every IO thread and shard.
//!
//! Every command is timed where it runs (a shard, or the IO thread for
//! connection commands); one that took at least `slowlog-log-slower-than`
//! µs is pushed here, and one that took at least
//! `latency-monitor-threshold` ms adds a sample to the `command` (or
//! `fast-command`) event. Both sit behind one mutex, taken only for such
//! commands, so the fast path pays one comparison.
//!
//! Follows Redis 7.0's `slowlog.c` (entry shape, argument trimming, the
//! length kept) and `latency.c` (160 samples per event, one per second).
//!
//! A slow log entry names its client by address and name. A shard knows a
//! client only by its IO thread and connection token, so its entries hold
//! those ([`Who::Pending`]) until an IO thread resolves them: SLOWLOG GET
//! from the client registry, or the connection's close from what it knew.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;

/// Redis's `SLOWLOG_ENTRY_MAX_ARGC`: arguments kept per entry.
pub const MAX_ARGC: usize = 32;
/// Redis's `SLOWLOG_ENTRY_MAX_STRING`: bytes kept per argument.
pub const MAX_STRING: usize = 128;
/// Redis's `LATENCY_TS_LEN`: samples kept per latency event.
pub const LATENCY_SAMPLES: usize = 160;

/// The client an entry names.
#[derive(Clone, Debug)]
pub enum Who {
    /// Logged on a shard: the IO thread and connection token, not yet
    /// matched to an address and name.
    Pending { io: u16, conn: u64 },
    /// `ip:port` and client name (empty if none).
    Known { addr: String, name: String },
}

/// One slow log entry (Redis's `slowlogEntry`).
#[derive(Clone, Debug)]
pub struct Entry {
    pub id: u64,
    /// Unix time, s.
    pub time: u64,
    /// Execution time, µs.
    pub duration_us: u64,
    /// The arguments as [`trim_args`] kept them.
    pub args: Vec<Bytes>,
    pub who: Who,
}

/// One latency event's samples (Redis's `latencyTimeSeries`).
#[derive(Clone, Debug)]
pub struct Series {
    /// (Unix time s, latency ms); time 0 marks an unused slot.
    pub samples: [(u64, u64); LATENCY_SAMPLES],
    /// Next slot written.
    pub idx: usize,
    /// All-time high, ms.
    pub max: u64,
}

impl Series {
    fn new() -> Series {
        Series {
            samples: [(0, 0); LATENCY_SAMPLES],
            idx: 0,
            max: 0,
        }
    }

    /// Samples oldest first, unused slots left out.
    pub fn in_order(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        (0..LATENCY_SAMPLES)
            .map(move |j| self.samples[(self.idx + j) % LATENCY_SAMPLES])
            .filter(|s| s.0 != 0)
    }

    /// The latest sample.
    pub fn latest(&self) -> (u64, u64) {
        self.samples[(self.idx + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES]
    }
}

#[derive(Default)]
struct Inner {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
    /// Latency events by name, in the order they first happened.
    events: Vec<(&'static str, Series)>,
}

/// The slow log and the latency monitor, with their thresholds.
pub struct SlowLog {
    inner: Mutex<Inner>,
    /// `slowlog-log-slower-than` in ns; `u64::MAX` when off (negative).
    slower_than_ns: AtomicU64,
    /// `slowlog-max-len`.
    max_len: AtomicUsize,
    /// `latency-monitor-threshold` in ns; `u64::MAX` when off (0).
    latency_ns: AtomicU64,
    /// The smaller of the two thresholds: the fast path's one comparison.
    floor_ns: AtomicU64,
    /// Entries still [`Who::Pending`].
    pending: AtomicUsize,
}

impl Default for SlowLog {
    fn default() -> SlowLog {
        let s = SlowLog {
            inner: Mutex::default(),
            slower_than_ns: AtomicU64::new(0),
            max_len: AtomicUsize::new(128),
            latency_ns: AtomicU64::new(0),
            floor_ns: AtomicU64::new(0),
            pending: AtomicUsize::new(0),
        };
        s.configure(10_000, 128, 0);
        s
    }
}

fn unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl SlowLog {
    /// Applies `slowlog-log-slower-than` (µs, negative: off),
    /// `slowlog-max-len` and `latency-monitor-threshold` (ms, 0: off).
    pub fn configure(&self, slower_than_us: i64, max_len: u64, latency_ms: u64) {
        let slow = if slower_than_us < 0 {
            u64::MAX
        } else {
            (slower_than_us as u64).saturating_mul(1000)
        };
        let lat = if latency_ms == 0 {
            u64::MAX
        } else {
            latency_ms.saturating_mul(1_000_000)
        };
        self.slower_than_ns.store(slow, Ordering::Relaxed);
        self.latency_ns.store(lat, Ordering::Relaxed);
        self.max_len.store(
            usize::try_from(max_len).unwrap_or(usize::MAX),
            Ordering::Relaxed,
        );
        self.floor_ns.store(slow.min(lat), Ordering::Relaxed);
    }

    /// Whether a command that took `ns` must be looked at ([`Self::record`]).
    #[inline]
    pub fn is_slow(&self, ns: u64) -> bool {
        ns >= self.floor_ns.load(Ordering::Relaxed)
    }

    /// Records a command that [`Self::is_slow`] flagged: a slow log entry
    /// (with `args` trimmed and redacted) if it reached
    /// `slowlog-log-slower-than`, a `command` or `fast-command` latency
    /// sample if it reached `latency-monitor-threshold`. EXEC is never
    /// logged (Redis's `CMD_SKIP_SLOWLOG`): the commands it ran are.
    pub fn record(
        &self,
        args: &[impl AsRef<[u8]>],
        fast: bool,
        ns: u64,
        who: impl FnOnce() -> Who,
    ) {
        let log = ns >= self.slower_than_ns.load(Ordering::Relaxed)
            && !args
                .first()
                .is_some_and(|a| a.as_ref().eq_ignore_ascii_case(b"exec"));
        let sample = ns >= self.latency_ns.load(Ordering::Relaxed);
        if !log && !sample {
            return;
        }
        let now = unix_s();
        let entry_args = if log { trim_args(args) } else { Vec::new() };
        let who = if log { Some(who()) } else { None };
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(who) = who {
            if matches!(who, Who::Pending { .. }) {
                self.pending.fetch_add(1, Ordering::Relaxed);
            }
            let id = g.next_id;
            g.next_id += 1;
            g.entries.push_front(Entry {
                id,
                time: now,
                duration_us: ns / 1000,
                args: entry_args,
                who,
            });
            self.trim(&mut g);
        }
        if sample {
            add_sample(
                &mut g.events,
                if fast { "fast-command" } else { "command" },
                now,
                ns / 1_000_000,
            );
        }
    }

    /// Drops the oldest entries past `slowlog-max-len`.
    fn trim(&self, g: &mut Inner) {
        let max = self.max_len.load(Ordering::Relaxed);
        while g.entries.len() > max {
            if let Some(e) = g.entries.pop_back()
                && matches!(e.who, Who::Pending { .. })
            {
                self.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Whether the latency monitor is on (`latency-monitor-threshold` > 0).
    #[inline]
    pub fn latency_on(&self) -> bool {
        self.latency_ns.load(Ordering::Relaxed) != u64::MAX
    }

    /// Adds a sample of `ms` to latency event `event` if it reaches
    /// `latency-monitor-threshold` (Redis's `latencyAddSampleIfNeeded`).
    pub fn latency_event(&self, event: &'static str, ms: u64) {
        if ms.saturating_mul(1_000_000) < self.latency_ns.load(Ordering::Relaxed) {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        add_sample(&mut g.events, event, unix_s(), ms);
    }

    /// Whether some entries still name their client by token.
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Relaxed) > 0
    }

    /// Names the client of pending entries: `resolve(io, conn)` gives the
    /// address and name of a live connection, or `None` (left pending).
    pub fn resolve(&self, mut resolve: impl FnMut(u16, u64) -> Option<(String, String)>) {
        if !self.has_pending() {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for e in g.entries.iter_mut() {
            if let Who::Pending { io, conn } = e.who
                && let Some((addr, name)) = resolve(io, conn)
            {
                e.who = Who::Known { addr, name };
                self.pending.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Up to `count` entries, newest first (SLOWLOG GET).
    pub fn get(&self, count: usize) -> Vec<Entry> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // A lowered slowlog-max-len applies from the next command in
        // Redis; here from the next look, which no client can tell apart.
        self.trim(&mut g);
        g.entries.iter().take(count).cloned().collect()
    }

    /// SLOWLOG LEN.
    pub fn len(&self) -> usize {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        self.trim(&mut g);
        g.entries.len()
    }

    /// SLOWLOG RESET.
    pub fn reset(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.entries.clear();
        self.pending.store(0, Ordering::Relaxed);
    }

    /// Every latency event with its samples, in the order they first
    /// happened.
    pub fn events(&self) -> Vec<(&'static str, Series)> {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .events
            .clone()
    }

    /// LATENCY RESET: drops the named events (all with `None`); returns
    /// how many were dropped. Names compare without case, as Redis's.
    pub fn reset_events(&self, names: Option<&[&[u8]]>) -> usize {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let before = g.events.len();
        match names {
            None => g.events.clear(),
            Some(names) => g
                .events
                .retain(|(e, _)| !names.iter().any(|n| n.eq_ignore_ascii_case(e.as_bytes()))),
        }
        before - g.events.len()
    }
}

/// Redis's `latencyAddSample`: one sample per second, the highest.
fn add_sample(events: &mut Vec<(&'static str, Series)>, event: &'static str, now: u64, ms: u64) {
    let i = match events.iter().position(|(e, _)| *e == event) {
        Some(i) => i,
        None => {
            events.push((event, Series::new()));
            events.len() - 1
        }
    };
    let ts = &mut events[i].1;
    ts.max = ts.max.max(ms);
    let prev = (ts.idx + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES;
    if ts.samples[prev].0 == now {
        ts.samples[prev].1 = ts.samples[prev].1.max(ms);
        return;
    }
    ts.samples[ts.idx] = (now, ms);
    ts.idx = (ts.idx + 1) % LATENCY_SAMPLES;
}

/// The arguments a slow log entry keeps (Redis's `slowlogCreateEntry`):
/// at most [`MAX_ARGC`], the last of them then saying
/// `... (N more arguments)`; each at most [`MAX_STRING`] bytes, then
/// `... (N more bytes)`. Secrets are replaced by `(redacted)` first
/// ([`redact`]).
pub fn trim_args(args: &[impl AsRef<[u8]>]) -> Vec<Bytes> {
    let argc = args.len();
    let kept = argc.min(MAX_ARGC);
    let redacted = redact(args);
    (0..kept)
        .map(|j| {
            if kept != argc && j == kept - 1 {
                return Bytes::from(format!("... ({} more arguments)", argc - kept + 1));
            }
            if redacted.contains(&j) {
                return Bytes::from_static(b"(redacted)");
            }
            let a = args[j].as_ref();
            if a.len() > MAX_STRING {
                let mut v = a[..MAX_STRING].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_STRING).as_bytes(),
                );
                Bytes::from(v)
            } else {
                Bytes::copy_from_slice(a)
            }
        })
        .collect()
}

/// Positions of arguments Redis never shows in its slow log or MONITOR
/// (`redactClientCommandArgument`): AUTH's password (and user), HELLO's
/// AUTH pair, a sensitive CONFIG SET value (`requirepass`,
/// `masterauth`), every argument of ACL SETUSER from the user name on, MIGRATE's AUTH and AUTH2 credentials.
pub fn redact(args: &[impl AsRef<[u8]>]) -> Vec<usize> {
    let is = |i: usize, s: &str| {
        args.get(i)
            .is_some_and(|a| a.as_ref().eq_ignore_ascii_case(s.as_bytes()))
    };
    let mut out = Vec::new();
    if is(0, "auth") {
        out.push(1);
        if args.len() == 3 {
            out.push(2);
        }
    } else if is(0, "hello") {
        let mut j = 2;
        while j < args.len() {
            if is(j, "auth") && j + 2 < args.len() {
                out.extend([j + 1, j + 2]);
                j += 3;
            } else {
                j += 1;
            }
        }
    } else if is(0, "config") && is(1, "set") {
        let mut j = 2;
        while j + 1 < args.len() {
            if is(j, "requirepass") || is(j, "masterauth") {
                out.push(j + 1);
            }
            j += 2;
        }
    } else if is(0, "acl") && is(1, "setuser") {
        out.extend(2..args.len());
    } else if is(0, "migrate") {
        for j in 6..args.len() {
            if is(j, "auth") {
                out.push(j + 1);
            } else if is(j, "auth2") {
                out.extend([j + 1, j + 2]);
            }
        }
    }
    out
}
