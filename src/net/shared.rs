//! Process-wide state the IO threads share: the live configuration, the
//! client registry behind CLIENT LIST/KILL, server counters for INFO, and the
//! shutdown flag.
//!
//! Touched by IO threads (and the server thread) only on rare events:
//! connects, disconnects, CONFIG, CLIENT, INFO, once-per-turn counter adds.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::config::Config;
use crate::msg::{ToIo, Waker};

/// What CLIENT LIST shows about one connection.
#[derive(Clone, Debug, Default)]
pub struct ClientInfo {
    pub id: u64,
    /// The ACL user it is logged in as.
    pub user: String,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: String,
    pub db: u16,
    pub resp: u8,
    pub lib_name: String,
    pub lib_ver: String,
    /// IO thread owning the connection, and its token there (slot and
    /// generation), which shards know it by.
    pub io: u16,
    pub token: u64,
    pub created: Option<Instant>,
    /// The fields below are a snapshot the owning IO thread publishes every
    /// housekeeping tick (`1000 / hz` ms) and right before it answers
    /// CLIENT LIST / INFO / KILL itself, so another thread's clients may
    /// show values up to one tick old.
    ///
    /// Last time the client sent something.
    pub last_active: Option<Instant>,
    /// Redis's flag letters (`N` normal, `b` blocked, `P` subscribed,
    /// `x` in MULTI, `t` tracking, `T` no-touch).
    pub flags: String,
    /// Unparsed input bytes, and the free room of the input buffer.
    pub qbuf: usize,
    pub qbuf_free: usize,
    /// Reply bytes queued or being sent.
    pub omem: usize,
    /// Memory the connection's buffers hold, bytes.
    pub tot_mem: usize,
    /// The last command run (`get`, `client|list`), or `NULL`.
    pub cmd: String,
    /// Commands queued in MULTI, -1 outside one.
    pub multi: i64,
    /// With CLIENT TRACKING on: the client its invalidations go to (0:
    /// itself); CLIENT LIST's `redir` (-1 when off).
    pub redir: Option<u64>,
    /// Channels, patterns and shard channels it subscribes to.
    pub sub: usize,
    pub psub: usize,
    pub ssub: usize,
}

impl ClientInfo {
    /// Its class as CLIENT LIST/KILL TYPE and `client-output-buffer-limit`
    /// name it (Redis's `getClientType`): `pubsub` while it subscribes to
    /// anything, else `normal` (tandem has no replicas or masters yet).
    pub fn kind(&self) -> &'static str {
        if self.sub + self.psub + self.ssub > 0 {
            "pubsub"
        } else {
            "normal"
        }
    }
}

pub struct Shared {
    pub config: RwLock<Config>,
    /// Bumped by CONFIG SET; IO threads refresh their cached limits when it moves.
    pub config_epoch: AtomicU64,
    /// Settings shards read at run time; CONFIG SET republishes them.
    pub tunables: Arc<crate::config::Tunables>,
    pub clients: Mutex<BTreeMap<u64, ClientInfo>>,
    pub next_client_id: AtomicU64,
    pub connected: AtomicUsize,
    /// Clients waiting on a blocking command (BLPOP, ...), for INFO clients.
    pub blocked_clients: AtomicUsize,
    /// Those clients by id, with the claim that says whether they were
    /// answered yet (CLIENT UNBLOCK's view from any IO thread).
    pub blocked: Mutex<hashbrown::HashMap<u64, Arc<crate::msg::Claim>>>,
    pub total_connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_commands: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Receives and sends that moved bytes (INFO `total_reads_processed`,
    /// `total_writes_processed`: Redis counts its read and write calls).
    pub net_reads: AtomicU64,
    pub net_writes: AtomicU64,
    pub shutdown: AtomicBool,
    /// A SHUTDOWN that saves first, for the main thread to carry out
    /// ([`Shared::ask_shutdown`]).
    shutdown_asked: Mutex<Option<crate::persist::ExitRequest>>,
    pub started: Instant,
    /// Every IO thread's inbox and doorbell (for CLIENT KILL and shutdown).
    pub io_links: OnceLock<Vec<(Sender<ToIo>, Arc<Waker>)>>,
    /// The port actually bound.
    pub port: u16,
    /// Thread plan text for INFO (`io0:cpu0 shard0:cpu1`).
    pub plan: String,
    pub run_id: String,
    /// INFO's `master_replid`: its own random id, as Redis's `replid`.
    pub repl_id: Mutex<String>,
    /// Every thread's latency histograms and wakeup counters.
    pub metrics: Arc<crate::metrics::Registry>,
    /// The script cache every connection and shard sees (EVAL, SCRIPT).
    pub scripts: Arc<crate::script::Registry>,
    /// The ACL users and ACL LOG.
    pub acl: Arc<crate::acl::Acl>,
    /// Each shard's count of evictable keys, for `maxmemory`
    /// ([`crate::engine::evict::Census`]).
    pub census: Arc<crate::engine::evict::Census>,
    /// Pub/Sub's registry of subscribers per IO thread ([`crate::pubsub`]).
    pub pubsub: Arc<crate::pubsub::Hub>,
    /// RDB saves: the running BGSAVE, LASTSAVE, INFO persistence.
    pub saver: Arc<crate::persist::Saver>,
    /// The append-only file ([`crate::aof`]).
    pub aof: Arc<crate::aof::Aof>,
    /// Samples of `total_commands` for INFO's `instantaneous_ops_per_sec`.
    pub ops_meter: Mutex<OpsMeter>,
    /// The same for network bytes in and out
    /// (`instantaneous_input_kbps`, `instantaneous_output_kbps`).
    pub net_meters: Mutex<[OpsMeter; 2]>,
    /// Highest `used_memory` seen (INFO `used_memory_peak`), bytes.
    pub mem_peak: AtomicU64,
    /// Bytes allocated when the server was set up, before any data or
    /// client (MEMORY STATS' `startup.allocated`, INFO's
    /// `used_memory_startup`): set again once every thread is up.
    pub startup_allocated: AtomicU64,
    /// When freed memory was last handed back to the OS ([`Shared::sample_stats`]).
    last_trim: Mutex<Instant>,
    /// CLIENT PAUSE: whether one may be in force (the IO threads' fast
    /// check), and its end (Unix ms) and mode ([`PAUSE_WRITE`],
    /// [`PAUSE_ALL`]).
    pause_on: AtomicBool,
    pause: Mutex<(u64, u8)>,
}

/// CLIENT PAUSE WRITE: commands that write (or may: EVAL, PUBLISH, EXEC of
/// writes) wait.
pub const PAUSE_WRITE: u8 = 1;
/// CLIENT PAUSE ALL: every command waits (in Redis 7.0 CLIENT UNPAUSE
/// too).
pub const PAUSE_ALL: u8 = 2;

/// Recent samples of the command counter, taken every housekeeping tick by
/// IO thread 0, for `instantaneous_ops_per_sec` (Redis samples every 100 ms
/// and averages the last 16, `trackInstantaneousMetric`).
#[derive(Debug, Default)]
pub struct OpsMeter {
    samples: std::collections::VecDeque<(Instant, u64)>,
}

impl OpsMeter {
    const WINDOW: usize = 16;

    /// Records the command count `total` now.
    pub fn sample(&mut self, total: u64) {
        if self.samples.len() == Self::WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back((Instant::now(), total));
    }

    /// Commands per second over the sampled window.
    pub fn per_sec(&self) -> u64 {
        self.rate() as u64
    }

    /// Counted units per second over the sampled window.
    pub fn rate(&self) -> f64 {
        match (self.samples.front(), self.samples.back()) {
            (Some(&(t0, n0)), Some(&(t1, n1))) if t1 > t0 => {
                n1.saturating_sub(n0) as f64 / (t1 - t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }

    pub fn clear(&mut self) {
        self.samples.clear();
    }
}

/// Resident set size of the process, bytes (`/proc/self/statm`).
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no memory effects.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64
}

/// Bytes the allocator has handed out and not taken back
/// ([`crate::alloc::allocated`]): INFO's `used_memory`, as Redis reports
/// its allocator's figure rather than RSS.
pub fn allocated_bytes() -> u64 {
    crate::alloc::allocated()
}

impl Shared {
    /// CLIENT PAUSE until `until` (Unix ms) in `mode`: a pause already in
    /// force keeps the later end and the stricter mode (`pauseClients`).
    pub fn pause(&self, until: u64, mode: u8) {
        let mut p = self.pause.lock().unwrap_or_else(|e| e.into_inner());
        let now = crate::cmd::now_ms();
        if p.1 == 0 || p.0 < now {
            *p = (until, mode);
        } else {
            *p = (p.0.max(until), p.1.max(mode));
        }
        self.pause_on.store(true, Ordering::Release);
    }

    /// CLIENT UNPAUSE: the pause ends now; the IO threads resume their
    /// held clients at once.
    pub fn unpause(&self) {
        *self.pause.lock().unwrap_or_else(|e| e.into_inner()) = (0, 0);
        self.pause_on.store(false, Ordering::Release);
        if let Some(links) = self.io_links.get() {
            for (_, w) in links {
                w.wake();
            }
        }
    }

    /// Whether a CLIENT PAUSE may be in force (one load; [`Self::paused`]
    /// says which).
    #[inline]
    pub fn maybe_paused(&self) -> bool {
        self.pause_on.load(Ordering::Acquire)
    }

    /// The pause mode in force now (0: none).
    #[inline]
    pub fn paused(&self) -> u8 {
        if !self.pause_on.load(Ordering::Acquire) {
            return 0;
        }
        let mut p = self.pause.lock().unwrap_or_else(|e| e.into_inner());
        if p.0 < crate::cmd::now_ms() {
            *p = (0, 0);
            self.pause_on.store(false, Ordering::Release);
            return 0;
        }
        p.1
    }

    /// What the shard engines share with the IO threads.
    pub fn engine_common(&self) -> crate::engine::shard::Common {
        crate::engine::shard::Common {
            tun: self.tunables.clone(),
            scripts: self.scripts.clone(),
            saver: self.saver.clone(),
            aof: self.aof.clone(),
            pubsub: self.pubsub.clone(),
            census: self.census.clone(),
        }
    }

    /// A new replication id for INFO's `master_replid` (DEBUG
    /// CHANGE-REPL-ID).
    pub fn change_repl_id(&self) {
        *self.repl_id.lock().unwrap_or_else(|e| e.into_inner()) = random_id();
    }

    pub fn new(config: Config, port: u16, plan: String) -> Shared {
        let run_id = random_id();
        let scripts = Arc::new(crate::script::Registry::new(config.shards));
        let acl = crate::acl::Acl::default();
        acl.configure(&config);
        acl.set_default_password(&config.requirepass);
        Shared {
            acl: Arc::new(acl),
            repl_id: Mutex::new(random_id()),
            census: Arc::new(crate::engine::evict::Census::new(config.shards)),
            metrics: Arc::new(crate::metrics::Registry::new(&config)),
            saver: Arc::new(crate::persist::Saver::new(
                if config.colocated { 1 } else { config.shards },
                scripts.clone(),
            )),
            scripts,
            pubsub: Arc::new(crate::pubsub::Hub::new(config.io_threads)),
            aof: Arc::new(crate::aof::Aof::new(
                if config.colocated { 1 } else { config.shards },
                config.appendfsync,
            )),
            tunables: Arc::new(crate::config::Tunables::new(&config)),
            config: RwLock::new(config),
            config_epoch: AtomicU64::new(0),
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            connected: AtomicUsize::new(0),
            blocked_clients: AtomicUsize::new(0),
            blocked: Mutex::default(),
            total_connections: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            total_commands: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            net_reads: AtomicU64::new(0),
            net_writes: AtomicU64::new(0),
            shutdown: AtomicBool::new(false),
            shutdown_asked: Mutex::new(None),
            started: Instant::now(),
            io_links: OnceLock::new(),
            port,
            plan,
            run_id,
            ops_meter: Mutex::new(OpsMeter::default()),
            net_meters: Mutex::new(Default::default()),
            mem_peak: AtomicU64::new(0),
            startup_allocated: AtomicU64::new(allocated_bytes()),
            last_trim: Mutex::new(Instant::now()),
            pause_on: AtomicBool::new(false),
            pause: Mutex::new((0, 0)),
        }
    }

    /// Asks the main thread for a shutdown that saves first: it holds every
    /// client, saves, and then stops every IO thread, or lets the clients
    /// go on if the save failed (`server.rs`). It looks every 100 ms.
    pub fn ask_shutdown(&self, req: crate::persist::ExitRequest) {
        *self
            .shutdown_asked
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(req);
    }

    /// The shutdown asked for since the last call, if any.
    pub fn take_shutdown_request(&self) -> Option<crate::persist::ExitRequest> {
        self.shutdown_asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Asks every IO thread to stop (SHUTDOWN, signals).
    pub fn request_shutdown(&self) {
        // A script that never ends must not hold the shutdown up.
        self.scripts.abort_all();
        self.shutdown.store(true, Ordering::SeqCst);
        if let Some(links) = self.io_links.get() {
            for (tx, w) in links {
                let _ = tx.send(ToIo::Shutdown);
                w.wake();
            }
        }
    }

    pub fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the periodic samples (IO thread 0, every tick): the command
    /// rate and the memory peak. Also hands freed memory back to the OS
    /// when the process holds much more than it uses (after a burst of
    /// big client buffers, say): the allocator purges freed pages only
    /// lazily (`crate::alloc::tune`), so without this the RSS would stay
    /// near its high-water mark. At most once a second, and only when RSS
    /// exceeds what is allocated by a sixteenth plus 4 MiB. (A looser
    /// bound left the RSS stuck in between after the soak test's bursts.
    /// Redis's jemalloc purges in the background the same way.)
    pub fn sample_stats(&self) {
        let total = self.total_commands.load(Ordering::Relaxed);
        self.ops_meter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .sample(total);
        {
            let mut m = self.net_meters.lock().unwrap_or_else(|e| e.into_inner());
            m[0].sample(self.net_input_bytes.load(Ordering::Relaxed));
            m[1].sample(self.net_output_bytes.load(Ordering::Relaxed));
        }
        let used = allocated_bytes();
        self.mem_peak.fetch_max(used, Ordering::Relaxed);
        let rss = rss_bytes();
        if rss > used + used / 16 + (4 << 20) {
            let mut last = self.last_trim.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= std::time::Duration::from_secs(1) {
                *last = Instant::now();
                crate::alloc::give_back();
                tracing::debug!(
                    "memory: {} KiB allocated, RSS {} KiB, {} KiB after returning free pages",
                    used >> 10,
                    rss >> 10,
                    rss_bytes() >> 10
                );
            }
        }
    }

    pub fn update_client(&self, id: u64, f: impl FnOnce(&mut ClientInfo)) {
        let mut m = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = m.get_mut(&id) {
            f(c);
        }
    }
}

/// 40 random hex digits (Redis's run and replication ids).
fn random_id() -> String {
    (0..40)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect()
}

/// The machine's physical memory, bytes (INFO `total_system_memory`).
pub fn system_memory_bytes() -> u64 {
    // SAFETY: sysconf reads system constants.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages.max(0) as u64).saturating_mul(size.max(0) as u64)
}

/// `uname`'s system, release and machine, as Redis's INFO `os` shows them
/// (`Linux 6.1.0 x86_64`).
pub fn os_name() -> String {
    // SAFETY: uname fills the zeroed struct we pass; its fields are
    // NUL-terminated C strings.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
        }
        let f = |a: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(a.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {} {}", f(&u.sysname), f(&u.release), f(&u.machine))
    }
}
