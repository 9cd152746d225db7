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

/// One thread's statistics: histograms under a lock and plain counters.
pub struct ThreadStats {
    /// `io0`, `shard1`, ...
    pub name: String,
    hists: Mutex<Hists>,
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
    /// Time one request in this many per IO thread; 0 turns sampling off
    /// (`latency-sample-every`; `latency-tracking no` sets 0).
    pub sample_every: AtomicU64,
}

impl Registry {
    pub fn new(sample_every: u64) -> Registry {
        Registry {
            threads: Mutex::new(Vec::new()),
            sample_every: AtomicU64::new(sample_every),
        }
    }

    /// Registers a thread's statistics under `name`.
    pub fn register(&self, name: String) -> Arc<ThreadStats> {
        let t = Arc::new(ThreadStats {
            name,
            hists: Mutex::new(Hists::new()),
            parks: AtomicU64::new(0),
            spin_wins: AtomicU64::new(0),
        });
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(t.clone());
        t
    }

    /// Clears every histogram and counter (CONFIG RESETSTAT).
    pub fn reset(&self) {
        for t in self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
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
