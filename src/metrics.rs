//! Per-thread latency histograms and wakeup counters, merged on demand for
//! `INFO latencystats` and `INFO tandem`.
//!
//! Every IO thread and shard engine registers one [`ThreadStats`] at start
//! and records only into its own; INFO merges them (locking each for a
//! moment) and `CONFIG RESETSTAT` clears them. The locks are uncontended
//! except while INFO reads, and are taken only for sampled requests.
//!
//! # Sampled request stages
//!
//! One request in `latency-sample-every` (per IO thread) is timed through
//! the pipeline, on one monotonic clock ([`now_ns`]):
//!
//! | stage      | from                                   | to                                   | recorded by |
//! |------------|----------------------------------------|--------------------------------------|-------------|
//! | `parse`    | its bytes' receive completion handled  | command parsed                       | IO thread   |
//! | `batch`    | parsed                                 | its batch sent to the shard          | IO thread   |
//! | `queue`    | batch sent                             | the shard starts the command         | shard       |
//! | `execute`  | shard starts the command               | reply serialized                     | shard       |
//! | `handback` | reply serialized                       | IO thread takes the reply batch      | IO thread   |
//! | `write`    | IO thread takes the reply              | the send holding it completes        | IO thread   |
//!
//! `execute` is also kept per command, which is what Redis 7 reports as
//! `latency_percentiles_usec_<command>`. Shards also record every batch's
//! size; both stages count parks, spin wins and doorbell (eventfd) writes.
//!
//! # Command and error counters
//!
//! Every command is counted, timed and checked for an error reply where
//! it runs (a shard, or the IO thread for connection commands), into that
//! thread's [`CmdCounters`]: Redis 7's `INFO commandstats` (`calls`,
//! `usec`, `rejected_calls`, `failed_calls`) and `INFO errorstats` (error
//! replies by their first word, as `afterErrorReply` counts them). Only
//! the owning thread writes a counter (a relaxed load and store, no
//! read-modify-write); `CONFIG RESETSTAT` records a baseline that INFO
//! subtracts, so no thread has to be reached to reset.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use hdrhistogram::Histogram;

/// Stage names, in pipeline order (see the module docs).
pub const STAGES: [&str; 6] = ["parse", "batch", "queue", "execute", "handback", "write"];

/// Index of a stage in [`STAGES`].
pub mod stage {
    pub const PARSE: usize = 0;
    pub const BATCH: usize = 1;
    pub const QUEUE: usize = 2;
    pub const EXECUTE: usize = 3;
    pub const HANDBACK: usize = 4;
    pub const WRITE: usize = 5;
}

/// Nanoseconds on the process's monotonic clock; never 0, so 0 can mean
/// "not sampled" in messages.
#[inline]
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(|| Instant::now() - std::time::Duration::from_nanos(1));
    epoch.elapsed().as_nanos() as u64
}

/// A histogram of nanoseconds, 1 ns to 100 s, 2 significant digits.
fn ns_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 100_000_000_000, 2).expect("valid histogram bounds")
}

/// One thread's histograms.
pub struct Hists {
    /// Per stage, ns.
    pub stages: Vec<Histogram<u64>>,
    /// Execute time per command name, ns.
    pub commands: hashbrown::HashMap<&'static str, Histogram<u64>>,
    /// Requests per batch (shards).
    pub batch_size: Histogram<u64>,
}

impl Hists {
    fn new() -> Hists {
        Hists {
            stages: STAGES.iter().map(|_| ns_histogram()).collect(),
            commands: hashbrown::HashMap::new(),
            batch_size: Histogram::new_with_bounds(1, 1 << 20, 2).expect("valid histogram bounds"),
        }
    }

    fn reset(&mut self) {
        self.stages.iter_mut().for_each(|h| h.reset());
        self.commands.clear();
        self.batch_size.reset();
    }

    fn add(&mut self, o: &Hists) {
        for (a, b) in self.stages.iter_mut().zip(&o.stages) {
            let _ = a.add(b);
        }
        for (k, h) in &o.commands {
            let _ = self.commands.entry(k).or_insert_with(ns_histogram).add(h);
        }
        let _ = self.batch_size.add(&o.batch_size);
    }
}

/// One command's INFO commandstats counters (Redis's `calls`,
/// `microseconds`, `rejected_calls`, `failed_calls`; time in ns here).
#[derive(Default)]
pub struct CmdCounters {
    calls: AtomicU64,
    ns: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
}

/// Adds `n` to a counter only its owning thread writes.
#[inline]
fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

impl CmdCounters {
    fn get(&self) -> [u64; 4] {
        [&self.calls, &self.ns, &self.rejected, &self.failed].map(|c| c.load(Ordering::Relaxed))
    }
}

/// Distinct error prefixes and container subcommands counted per thread;
/// past it new ones are not (Redis 7.2 stops at 128 error prefixes).
const MAX_NAMES: usize = 128;

/// Counters kept by name, under a lock: error replies by prefix and the
/// subcommands of container commands (`client|list`), both rare.
#[derive(Default)]
struct Named {
    /// Error replies sent, all prefixes (INFO `total_error_replies`).
    errors_total: u64,
    errors: hashbrown::HashMap<Box<str>, u64>,
    /// calls, ns, rejected, failed.
    subs: hashbrown::HashMap<Box<str>, [u64; 4]>,
}

/// The first word of an error reply (`-WRONGTYPE Operation...` gives
/// `WRONGTYPE`), as Redis's `afterErrorReply` finds it: a space within
/// its first 32 bytes, else `ERR`.
pub fn error_prefix(reply: &[u8]) -> &str {
    let head = &reply[..reply.len().min(32)];
    match memchr::memchr(b' ', head) {
        Some(sp) if sp > 1 => std::str::from_utf8(&head[1..sp]).unwrap_or("ERR"),
        _ => "ERR",
    }
}

/// One thread's statistics: histograms under a lock and plain counters.
pub struct ThreadStats {
    /// `io0`, `shard1`, ...
    pub name: String,
    hists: Mutex<Hists>,
    /// The server's slow log, for commands this thread runs.
    pub slow: Arc<crate::slowlog::SlowLog>,
    /// Per command id ([`crate::spec::TABLE`]).
    cmds: Box<[CmdCounters]>,
    named: Mutex<Named>,
    /// Times the thread parked (blocked in the kernel or the channel).
    pub parks: AtomicU64,
    /// Times spinning found work before the spin budget ran out.
    pub spin_wins: AtomicU64,
}

impl ThreadStats {
    /// Records `ns` for stage `s` (a [`stage`] index).
    #[inline]
    pub fn stage(&self, s: usize, ns: u64) {
        let mut h = self.hists.lock().unwrap_or_else(|e| e.into_inner());
        let _ = h.stages[s].record(ns.max(1));
    }

    /// Records a sampled command's queue wait and execute time.
    pub fn executed(&self, command: &'static str, queue_ns: u64, exec_ns: u64) {
        let mut h = self.hists.lock().unwrap_or_else(|e| e.into_inner());
        let _ = h.stages[stage::QUEUE].record(queue_ns.max(1));
        let _ = h.stages[stage::EXECUTE].record(exec_ns.max(1));
        let _ = h
            .commands
            .entry(command)
            .or_insert_with(ns_histogram)
            .record(exec_ns.max(1));
    }

    /// Records the size of one batch (shards, every batch).
    #[inline]
    pub fn batch(&self, requests: usize) {
        let mut h = self.hists.lock().unwrap_or_else(|e| e.into_inner());
        let _ = h.batch_size.record(requests.max(1) as u64);
    }

    /// Counts command `id` that ran for `ns`; `error` is its reply if that
    /// was an error; `call` is false for the later parts of a command split
    /// across shards (their time and errors count, not another call). A
    /// container command (`sub` given) is counted as `name|sub`, unless it
    /// answered that the subcommand is unknown (Redis counts no command
    /// then).
    #[inline]
    pub fn called(
        &self,
        id: crate::spec::CmdId,
        sub: Option<&[u8]>,
        ns: u64,
        error: Option<&[u8]>,
        call: bool,
    ) {
        if let Some(e) = error {
            self.error(e);
        }
        match sub {
            None => {
                if let Some(c) = self.cmds.get(id as usize) {
                    bump(&c.calls, call as u64);
                    bump(&c.ns, ns);
                    if error.is_some() {
                        bump(&c.failed, 1);
                    }
                }
            }
            Some(sub) => {
                if error.is_some_and(|e| e.starts_with(b"-ERR unknown subcommand")) {
                    return;
                }
                self.sub(id, sub, [call as u64, ns, 0, error.is_some() as u64]);
            }
        }
    }

    /// Counts a command refused before it ran (arity, NOAUTH, BUSY, ...)
    /// with error reply `error`; `id` is `None` for an unknown command.
    pub fn rejected(&self, id: Option<crate::spec::CmdId>, sub: Option<&[u8]>, error: &[u8]) {
        self.error(error);
        match (id, sub) {
            (Some(id), None) => {
                if let Some(c) = self.cmds.get(id as usize) {
                    bump(&c.rejected, 1);
                }
            }
            (Some(id), Some(sub)) => self.sub(id, sub, [0, 0, 1, 0]),
            (None, _) => {}
        }
    }

    fn sub(&self, id: crate::spec::CmdId, sub: &[u8], add: [u64; 4]) {
        let mut name = format!(
            "{}|{}",
            crate::spec::get(id).name,
            String::from_utf8_lossy(&sub[..sub.len().min(32)])
        );
        name.make_ascii_lowercase();
        let mut n = self.named.lock().unwrap_or_else(|e| e.into_inner());
        let full = n.subs.len() >= MAX_NAMES;
        if let Some(c) = n.subs.get_mut(name.as_str()) {
            c.iter_mut().zip(add).for_each(|(c, a)| *c += a);
        } else if !full {
            n.subs.insert(name.into(), add);
        }
    }

    /// Counts an error reply (`-PREFIX message`).
    pub fn error(&self, reply: &[u8]) {
        let prefix = error_prefix(reply);
        let mut n = self.named.lock().unwrap_or_else(|e| e.into_inner());
        n.errors_total += 1;
        let full = n.errors.len() >= MAX_NAMES;
        if let Some(c) = n.errors.get_mut(prefix) {
            *c += 1;
        } else if !full {
            n.errors.insert(prefix.into(), 1);
        }
    }

    #[inline]
    pub fn count(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// One thread's counters and batch sizes, as INFO shows them.
pub struct ThreadSnapshot {
    pub name: String,
    pub parks: u64,
    pub spin_wins: u64,
    pub batch_size: Histogram<u64>,
}

/// Every thread's statistics, shared by the whole server.
pub struct Registry {
    threads: Mutex<Vec<Arc<ThreadStats>>>,
    /// Every thread's [`CmdCounters`] summed at the last CONFIG RESETSTAT,
    /// per command id; INFO shows the sums minus this.
    base: Mutex<Vec<[u64; 4]>>,
    /// SLOWLOG and LATENCY ([`crate::slowlog`]).
    pub slow: Arc<crate::slowlog::SlowLog>,
    /// Time one request in this many per IO thread; 0 turns sampling off
    /// (`latency-sample-every`; `latency-tracking no` sets 0).
    pub sample_every: AtomicU64,
}

impl Registry {
    /// A registry set up from `c` ([`Registry::configure`]).
    pub fn new(c: &crate::config::Config) -> Registry {
        let r = Registry {
            threads: Mutex::new(Vec::new()),
            base: Mutex::new(Vec::new()),
            slow: Arc::default(),
            sample_every: AtomicU64::new(0),
        };
        r.configure(c);
        r
    }

    /// Applies `c`'s latency sampling and slow-command thresholds (at
    /// start and after CONFIG SET).
    pub fn configure(&self, c: &crate::config::Config) {
        self.sample_every.store(c.sample_every(), Ordering::Relaxed);
        self.slow.configure(
            c.slowlog_log_slower_than,
            c.slowlog_max_len,
            c.latency_monitor_threshold,
        );
    }

    /// Registers a thread's statistics under `name`.
    pub fn register(&self, name: String) -> Arc<ThreadStats> {
        let t = Arc::new(ThreadStats {
            name,
            hists: Mutex::new(Hists::new()),
            cmds: crate::spec::TABLE
                .iter()
                .map(|_| CmdCounters::default())
                .collect(),
            named: Mutex::default(),
            slow: self.slow.clone(),
            parks: AtomicU64::new(0),
            spin_wins: AtomicU64::new(0),
        });
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(t.clone());
        t
    }

    /// Every thread's command counters summed, per command id.
    fn command_sums(threads: &[Arc<ThreadStats>]) -> Vec<[u64; 4]> {
        let mut sums = vec![[0u64; 4]; crate::spec::TABLE.len()];
        for t in threads {
            for (s, c) in sums.iter_mut().zip(t.cmds.iter()) {
                s.iter_mut()
                    .zip(c.get())
                    .for_each(|(s, v)| *s = s.wrapping_add(v));
            }
        }
        sums
    }

    /// INFO commandstats: (name, [calls, ns, rejected, failed]) of every
    /// command and container subcommand counted since the last CONFIG
    /// RESETSTAT, by name.
    pub fn command_stats(&self) -> Vec<(String, [u64; 4])> {
        let threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        let sums = Self::command_sums(&threads);
        let base = self.base.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(String, [u64; 4])> = Vec::new();
        for (i, s) in sums.iter().enumerate() {
            let b = base.get(i).copied().unwrap_or_default();
            let mut v = [0u64; 4];
            for k in 0..4 {
                v[k] = s[k].wrapping_sub(b[k]);
            }
            if v[0] + v[2] + v[3] > 0 {
                out.push((crate::spec::TABLE[i].name.to_string(), v));
            }
        }
        let mut subs: hashbrown::HashMap<Box<str>, [u64; 4]> = hashbrown::HashMap::new();
        for t in threads.iter() {
            let n = t.named.lock().unwrap_or_else(|e| e.into_inner());
            for (k, v) in &n.subs {
                let e = subs.entry(k.clone()).or_default();
                e.iter_mut().zip(v).for_each(|(e, v)| *e += v);
            }
        }
        out.extend(subs.into_iter().map(|(k, v)| (k.into_string(), v)));
        out.sort();
        out
    }

    /// INFO errorstats and `total_error_replies`: every error reply
    /// counted since the last CONFIG RESETSTAT, and the counts by prefix.
    pub fn error_stats(&self) -> (u64, Vec<(String, u64)>) {
        let mut total = 0;
        let mut by: hashbrown::HashMap<Box<str>, u64> = hashbrown::HashMap::new();
        for t in self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let n = t.named.lock().unwrap_or_else(|e| e.into_inner());
            total += n.errors_total;
            for (k, v) in &n.errors {
                *by.entry(k.clone()).or_default() += v;
            }
        }
        let mut v: Vec<(String, u64)> = by.into_iter().map(|(k, v)| (k.into_string(), v)).collect();
        v.sort();
        (total, v)
    }

    /// Clears every histogram and counter (CONFIG RESETSTAT).
    pub fn reset(&self) {
        let threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        *self.base.lock().unwrap_or_else(|e| e.into_inner()) = Self::command_sums(&threads);
        for t in threads.iter() {
            *t.named.lock().unwrap_or_else(|e| e.into_inner()) = Named::default();
            t.hists.lock().unwrap_or_else(|e| e.into_inner()).reset();
            t.parks.store(0, Ordering::Relaxed);
            t.spin_wins.store(0, Ordering::Relaxed);
        }
    }

    /// Every thread's counters, and all threads' histograms merged.
    pub fn snapshot(&self) -> (Vec<ThreadSnapshot>, Hists) {
        let mut merged = Hists::new();
        let mut per = Vec::new();
        for t in self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let h = t.hists.lock().unwrap_or_else(|e| e.into_inner());
            merged.add(&h);
            per.push(ThreadSnapshot {
                name: t.name.clone(),
                parks: t.parks.load(Ordering::Relaxed),
                spin_wins: t.spin_wins.load(Ordering::Relaxed),
                batch_size: h.batch_size.clone(),
            });
        }
        (per, merged)
    }
}

/// `p50=…,p99=…,p99.9=…` of a ns histogram in µs with 3 decimals, as
/// Redis 7's `latency_percentiles_usec_<command>` lines.
pub fn percentiles_usec(h: &Histogram<u64>) -> String {
    let q = |p: f64| h.value_at_quantile(p) as f64 / 1000.0;
    format!("p50={:.3},p99={:.3},p99.9={:.3}", q(0.5), q(0.99), q(0.999))
}
