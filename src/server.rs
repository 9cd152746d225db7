//! Process assembly: binds the listeners, plans and pins the threads (IO
//! threads on the first cores of the plan, shard engines on the next),
//! wires the channels, waits for SIGINT/SIGTERM or SHUTDOWN and stops
//! everything in order (IO threads first, so in-flight replies are
//! written, then the engines).

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Sender, unbounded};

use crate::config::Config;
use crate::engine::{Engine, IoLink};
use crate::msg::{Executor, ToEngine, ToIo, Waker};
use crate::net::{self, IoSetup, shared::Shared};

/// Which core each thread is pinned to: IO threads first, then shards, from
/// `cpus` (or every core in order), wrapping around when there are more
/// threads than cores. None everywhere under `pin no`.
pub fn plan(cfg: &Config) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
    let cores: Vec<usize> = if !cfg.pin {
        Vec::new()
    } else if cfg.cpus.is_empty() {
        core_affinity::get_core_ids()
            .map(|v| v.into_iter().map(|c| c.id).collect())
            .unwrap_or_default()
    } else {
        cfg.cpus.clone()
    };
    let pick = |i: usize| {
        if cores.is_empty() {
            None
        } else {
            Some(cores[i % cores.len()])
        }
    };
    let io = (0..cfg.io_threads).map(pick).collect();
    let shards = if cfg.colocated {
        Vec::new()
    } else {
        (0..cfg.shards).map(|j| pick(cfg.io_threads + j)).collect()
    };
    (io, shards)
}

/// `disable-thp yes` (Redis 7's directive, on by default): transparent
/// huge pages off for the whole process. With the system's THP mode
/// `always`, the kernel backs the allocator's pages with 2 MiB pages and
/// folds freed 4 KiB pages back into them, so memory a burst freed stays
/// resident. Redis calls the same prctl only when the mode is `always`;
/// tandem calls it whatever the mode (it changes nothing under `madvise`
/// or `never`: nothing here asks for huge pages), which keeps the
/// directive's effect the same on every machine
/// (`/proc/<pid>/status` `THP_enabled: 0`).
fn disable_thp() {
    // SAFETY: a process-wide flag; no pointers involved.
    let r = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1 as libc::c_ulong, 0, 0, 0) };
    if r != 0 {
        tracing::warn!(
            "disable-thp: the kernel refused PR_SET_THP_DISABLE: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Pins the calling thread to `core`; None means unpinned (`pin no`, or no
/// core list from the OS, which is worth a warning).
fn pin(name: &str, core: Option<usize>, wanted: bool) {
    match core {
        Some(id) => {
            if !core_affinity::set_for_current(core_affinity::CoreId { id }) {
                tracing::warn!("{name}: the OS refused pinning to cpu{id}; running unpinned");
            }
        }
        None if wanted => tracing::warn!("{name}: no core list available; running unpinned"),
        None => {}
    }
}

fn spawn<F: FnOnce() + Send + 'static>(name: String, f: F) -> Result<JoinHandle<()>, String> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(f)
        .map_err(|e| format!("cannot start thread {name}: {e}"))
}

/// Blocks SIGINT and SIGTERM in the calling thread (inherited by threads
/// spawned after), so only the main thread takes them, via `sigtimedwait`.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset manipulation on a local set; pthread_sigmask on our thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        set
    }
}

/// Backlog of pending connections, as Redis's `tcp-backlog` default.
const BACKLOG: i32 = 511;

/// A listening socket on `host:port` with SO_REUSEADDR set, so a restart
/// binds at once while the previous run's connections sit in TIME_WAIT
/// (redis-server does the same, `anetSetReuseAddr`). Errors: the address
/// does not parse, or socket/bind/listen failed.
fn listen(host: &str, port: u16) -> std::io::Result<TcpListener> {
    use std::net::{SocketAddr, ToSocketAddrs};
    use std::os::fd::FromRawFd;
    let addr: SocketAddr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let (family, sa, len) = sockaddr(&addr);
    // SAFETY: plain socket calls on a descriptor we own; `sa` is a live
    // sockaddr of `len` bytes. The fd is closed on every error path.
    unsafe {
        let fd = libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let one: libc::c_int = 1;
        let ok = libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            &one as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
            && libc::bind(fd, &sa as *const _ as *const libc::sockaddr, len) == 0
            && libc::listen(fd, BACKLOG) == 0;
        if !ok {
            let e = std::io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        Ok(TcpListener::from_raw_fd(fd))
    }
}

/// `addr` as a C sockaddr: family, storage, length.
fn sockaddr(addr: &std::net::SocketAddr) -> (i32, libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid; we fill one variant.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    match addr {
        std::net::SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            (
                libc::AF_INET,
                ss,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        }
        std::net::SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut ss as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            (
                libc::AF_INET6,
                ss,
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
            )
        }
    }
}

/// Holds every client for a shutdown's final save: each IO thread stops
/// parsing and reports once every request it sent to a shard is answered
/// ([`ToIo::Hold`]), so the snapshot holds every acknowledged write and no
/// write follows it. A script still running after 5 s is aborted, as a
/// shutdown does, since nothing could reach it with SCRIPT KILL.
fn hold_clients(shared: &Shared, io_tx: &[Sender<ToIo>], wakers: &[Arc<Waker>]) {
    let (ack_tx, ack_rx) = crossbeam_channel::bounded::<()>(0);
    for (tx, w) in io_tx.iter().zip(wakers) {
        let _ = tx.send(ToIo::Hold(ack_tx.clone()));
        w.wake();
    }
    drop(ack_tx);
    let since = std::time::Instant::now();
    // Each IO thread drops its sender when quiet (or by exiting).
    while let Err(crossbeam_channel::RecvTimeoutError::Timeout) =
        ack_rx.recv_timeout(Duration::from_millis(100))
    {
        if since.elapsed() > Duration::from_secs(5) && shared.scripts.any_busy() {
            tracing::warn!("A script keeps the final save waiting: aborting it");
            shared.scripts.abort_all();
        }
    }
}

/// Replays the AOF's `commands` (`count` of them) through a connection
/// IO thread 0 serves, with the clock stopped (no key expires while
/// loading, as in Redis). Errors: the socket pair, or what
/// [`crate::aof::replay`] reports.
fn replay_aof(
    io_tx: &[crossbeam_channel::Sender<ToIo>],
    wakers: &[Arc<Waker>],
    commands: Vec<u8>,
    count: usize,
) -> Result<(), String> {
    use std::os::fd::FromRawFd;
    if count == 0 {
        return Ok(());
    }
    let mut fds = [0i32; 2];
    // SAFETY: socketpair fills the two-int array we pass.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(format!(
            "AOF replay: socketpair: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: fds[1] is ours, open, and owned by nothing else.
    let ours = unsafe { std::os::fd::OwnedFd::from_raw_fd(fds[1]) };
    let (Some(tx), Some(w)) = (io_tx.first(), wakers.first()) else {
        return Err("AOF replay: no IO thread".into());
    };
    if tx.send(ToIo::Adopt(fds[0])).is_err() {
        // SAFETY: the IO thread never got it.
        unsafe { libc::close(fds[0]) };
        return Err("AOF replay: the IO thread is gone".into());
    }
    w.wake();
    crate::engine::shard::set_loading(true);
    let r = crate::aof::replay(ours, commands, count);
    crate::engine::shard::set_loading(false);
    r
}

/// Runs the server until SIGINT, SIGTERM or SHUTDOWN. Errors: a listener
/// could not be bound, or a thread (or its io_uring ring) could not start.
pub fn run(mut cfg: Config) -> Result<(), String> {
    let sigs = block_signals();
    crate::alloc::tune();
    if cfg.disable_thp {
        disable_thp();
    }
    // As redis-server: relative paths (the RDB file) live in `dir`, and
    // CONFIG GET dir shows the absolute working directory.
    std::env::set_current_dir(&cfg.dir)
        .map_err(|e| format!("Can't chdir to '{}': {e}", cfg.dir))?;
    if let Ok(cwd) = std::env::current_dir() {
        cfg.dir = cwd.display().to_string();
    }
    let mut listeners = Vec::new();
    let mut port = cfg.port;
    for addr in &cfg.bind {
        let host = match addr.trim_start_matches('-') {
            "*" => "0.0.0.0",
            "localhost" => "127.0.0.1",
            a => a,
        };
        let l = listen(host, port).map_err(|e| {
            format!("Could not create server TCP listening socket {host}:{port}: {e}")
        })?;
        port = l.local_addr().map(|a| a.port()).unwrap_or(port);
        listeners.push(l);
    }
    // The data, before anything serves: with `appendonly yes` the AOF
    // (its base now, its commands replayed once the threads run), else
    // the RDB file, if any. A file that cannot be loaded stops start-up
    // and is left as it is.
    let nshards = if cfg.colocated { 1 } else { cfg.shards };
    let started = std::time::Instant::now();
    let before_load = crate::alloc::allocated();
    crate::rdb::configure(cfg.rdbcompression, cfg.rdbchecksum);
    let aof = Arc::new(crate::aof::Aof::new(nshards, cfg.appendfsync));
    aof.set_preamble(cfg.aof_use_rdb_preamble);
    let (file, mut commands, mut count) = if cfg.appendonly {
        let loaded = aof.open(&cfg)?;
        (loaded.base, loaded.commands, loaded.count)
    } else {
        let file = crate::persist::load(
            &cfg.dbfilename,
            nshards,
            cfg.databases,
            &cfg.enc,
            crate::engine::shard::now_ms(),
        )?;
        (file, Vec::new(), 0)
    };
    // What the loaded file holds is data, not start-up overhead.
    let loaded_bytes = crate::alloc::allocated().saturating_sub(before_load);
    // The file's function libraries load first, by a FUNCTION RESTORE
    // replayed like the AOF's commands.
    if let Some(cmd) = file.as_ref().and_then(|f| f.restore_command()) {
        commands.splice(0..0, cmd);
        count += 1;
    }
    // Replayed before any listener is armed (with the AOF on, always: its
    // state must be whole before a client writes).
    let mut replay = (cfg.appendonly || count > 0).then_some((commands, count));
    let mut preload = file
        .map(|f| f.keys)
        .map(|per_shard| {
            let keys: usize = per_shard.iter().map(Vec::len).sum();
            tracing::info!(
                "DB loaded from disk: {keys} keys in {:.3} seconds",
                started.elapsed().as_secs_f64()
            );
            per_shard.into_iter().map(Some).collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut preloaded = move |j: usize| {
        preload
            .get_mut(j)
            .and_then(Option::take)
            .unwrap_or_default()
    };
    let (io_cores, shard_cores) = plan(&cfg);
    let wanted = cfg.pin;
    let fmt = |c: &Option<usize>| {
        c.map(|c| format!("cpu{c}"))
            .unwrap_or_else(|| "unpinned".into())
    };
    let mut plan_text = Vec::new();
    for (i, c) in io_cores.iter().enumerate() {
        plan_text.push(format!(
            "{}{i}:{}",
            if cfg.colocated { "io+shard" } else { "io" },
            fmt(c)
        ));
    }
    for (j, c) in shard_cores.iter().enumerate() {
        plan_text.push(format!("shard{j}:{}", fmt(c)));
    }
    let plan_text = plan_text.join(" ");
    tracing::info!(
        "tandem {} (Redis {} compatible) starting: port {port}, {} IO thread(s), {} shard(s){}",
        env!("CARGO_PKG_VERSION"),
        net::local::REDIS_VERSION,
        cfg.io_threads,
        cfg.shards,
        if cfg.colocated { ", colocated" } else { "" }
    );
    tracing::info!("thread plan: {plan_text}");

    let mut sh = Shared::new(cfg.clone(), port, plan_text);
    sh.aof = aof.clone();
    if !cfg.users.is_empty() && !cfg.aclfile.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.".into());
    }
    sh.acl
        .load_config_users(&cfg.users)
        .map_err(|e| format!("{e}\nCritical error while loading ACLs. Exiting."))?;
    if !cfg.aclfile.is_empty() {
        sh.acl
            .load_file(&cfg.aclfile)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
    }
    let shared = Arc::new(sh);
    let nio = cfg.io_threads;
    let mut io_tx = Vec::new();
    let mut io_rx = Vec::new();
    let mut wakers = Vec::new();
    for _ in 0..nio {
        let (tx, rx) = unbounded::<ToIo>();
        io_tx.push(tx);
        io_rx.push(rx);
        wakers.push(Arc::new(Waker::new().map_err(|e| format!("eventfd: {e}"))?));
    }
    let _ = shared
        .io_links
        .set(io_tx.iter().cloned().zip(wakers.iter().cloned()).collect());
    shared
        .pubsub
        .connect(io_tx.iter().cloned().zip(wakers.iter().cloned()).collect());
    let links: Vec<IoLink> = io_tx
        .iter()
        .cloned()
        .zip(wakers.iter().cloned())
        .map(|(tx, waker)| IoLink { tx, waker })
        .collect();

    let mut shard_tx = Vec::new();
    let mut engines = Vec::new();
    if !cfg.colocated {
        let mut rxs = Vec::new();
        for _ in 0..cfg.shards {
            let (tx, rx) = unbounded::<ToEngine>();
            shard_tx.push(tx);
            rxs.push(rx);
        }
        for (j, rx) in rxs.into_iter().enumerate() {
            let (peers, io, core) = (shard_tx.clone(), links.clone(), shard_cores[j]);
            let c = cfg.clone();
            let common = shared.engine_common();
            let stats = shared.metrics.register(format!("shard{j}"));
            let name = format!("tandem-shard{j}");
            let keys = preloaded(j);
            engines.push(spawn(name.clone(), move || {
                pin(&name, core, wanted);
                let mut e = Engine::new(
                    j as u16,
                    c.shards as u16,
                    c.io_threads,
                    c.databases,
                    common,
                    stats,
                );
                e.preload(keys);
                e.run(rx, peers, io);
            })?);
        }
    }
    if !shard_tx.is_empty() {
        let peers = shard_tx.clone();
        aof.set_wake(Box::new(move |i| {
            if let Some(p) = peers.get(i) {
                // Unbounded inbox: never blocks.
                let _ = p.send(ToEngine::Synced);
            }
        }));
    }
    let fds: Vec<i32> = listeners.iter().map(|l| l.as_raw_fd()).collect();
    let (ready_tx, ready_rx) = unbounded();
    let mut ios = Vec::new();
    for (i, inbox) in io_rx.into_iter().enumerate() {
        let executor: Option<Box<dyn Executor>> = if cfg.colocated {
            let mut e = Engine::new(
                0,
                1,
                1,
                cfg.databases,
                shared.engine_common(),
                shared.metrics.register(format!("shard{i}")),
            );
            e.preload(preloaded(0));
            Some(Box::new(e))
        } else {
            None
        };
        let setup = IoSetup {
            index: i as u16,
            // While the AOF is replayed nobody else connects.
            listeners: if replay.is_some() {
                Vec::new()
            } else {
                fds.clone()
            },
            inbox,
            waker: wakers[i].clone(),
            shards: shard_tx.clone(),
            executor,
            shared: shared.clone(),
            ready: ready_tx.clone(),
        };
        let name = format!("tandem-io{i}");
        let (core, sh) = (io_cores[i], shared.clone());
        ios.push(spawn(name.clone(), move || {
            pin(&name, core, wanted);
            if let Err(e) = net::run(setup) {
                tracing::error!("{name}: {e}");
                sh.request_shutdown();
            }
        })?);
    }
    drop(ready_tx);
    let mut failure = None;
    for _ in 0..nio {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failure = Some(e),
            Err(_) => failure = Some("an IO thread exited during start-up".into()),
        }
    }
    // Every thread, ring and buffer is set up now, the AOF not yet
    // replayed (Redis measures after `initServer`, before loading data).
    shared.startup_allocated.store(
        crate::alloc::allocated().saturating_sub(loaded_bytes),
        std::sync::atomic::Ordering::Relaxed,
    );
    if let (None, Some((commands, count))) = (&failure, replay.take()) {
        match replay_aof(&io_tx, &wakers, commands, count) {
            Ok(()) => {
                tracing::info!(
                    "DB loaded from append only file: {:.3} seconds",
                    started.elapsed().as_secs_f64()
                );
                if cfg.appendonly {
                    aof.loaded();
                }
                for (tx, w) in io_tx.iter().zip(&wakers) {
                    let _ = tx.send(ToIo::Listen(fds.clone()));
                    w.wake();
                }
            }
            Err(e) => failure = Some(e),
        }
    }
    if failure.is_none() {
        tracing::info!(
            "Ready to accept connections tcp on {}:{port}",
            cfg.bind.join(" ")
        );
    }

    // Starts the shards' parts of a background save: its instant is a
    // transaction over every shard, begun on the first.
    let begin = || {
        if let Some(tx) = shard_tx.first() {
            // Unbounded inbox: never blocks.
            let _ = tx.send(ToEngine::Snapshot);
        } else if let (Some(tx), Some(w)) = (io_tx.first(), wakers.first()) {
            let _ = tx.send(ToIo::Snapshot);
            w.wake();
        }
    };
    while failure.is_none() && !shared.shutdown.load(std::sync::atomic::Ordering::SeqCst) {
        let ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        };
        // SAFETY: waits on the blocked set with a live timespec.
        let sig = unsafe { libc::sigtimedwait(&sigs, std::ptr::null_mut(), &ts) };
        let asked = if sig == libc::SIGINT || sig == libc::SIGTERM {
            tracing::info!(
                "Received {} scheduling shutdown...",
                if sig == libc::SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                }
            );
            Some(crate::persist::ExitRequest::default())
        } else {
            shared.take_shutdown_request()
        };
        let (points, file) = {
            let c = shared.config();
            (c.save.clone(), c.dbfilename.clone())
        };
        if let Some(req) = asked {
            if !req.saves(!points.is_empty()) {
                break;
            }
            // Redis saves before it exits with no client served meanwhile,
            // and stays up when that save fails (`prepareForShutdown`).
            hold_clients(&shared, &io_tx, &wakers);
            if crate::persist::final_save(&shared.saver, &file, req.force, begin) || req.force {
                break;
            }
            tracing::warn!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            // A SHUTDOWN sent during the hold waits on its IO thread and
            // gets this failure's error with the others: not a new try.
            let _ = shared.take_shutdown_request();
            for (tx, w) in io_tx.iter().zip(&wakers) {
                let _ = tx.send(ToIo::Release);
                w.wake();
            }
            continue;
        }
        // The `save` schedule (Redis's serverCron check, every 100 ms here).
        if !points.is_empty() && shared.saver.due(&points) && shared.saver.start(&file).is_ok() {
            tracing::info!("Changes past a save point. Saving...");
            begin();
        } else if shared.saver.take_scheduled() && shared.saver.start(&file).is_ok() {
            // BGSAVE SCHEDULE waited for an AOF rewrite.
            begin();
        }
        // A rewrite BGREWRITEAOF scheduled behind a BGSAVE, or the
        // AOF's growth past `auto-aof-rewrite-percentage` (serverCron).
        let (pct, min) = {
            let c = shared.config();
            (c.auto_aof_rewrite_percentage, c.auto_aof_rewrite_min_size)
        };
        if shared.aof.start_scheduled(&shared.saver, pct, min) {
            begin();
        }
    }
    shared.request_shutdown();
    for h in ios {
        let _ = h.join();
    }
    // A background save still running finishes (its writer removes its
    // temporary file if it fails) before the shards stop.
    shared.saver.wait_idle();
    for tx in &shard_tx {
        let _ = tx.send(ToEngine::Shutdown);
    }
    for h in engines {
        let _ = h.join();
    }
    // The AOF's last writes reach the disk (Redis syncs it at shutdown).
    shared.aof.stop();
    drop(listeners);
    std::thread::sleep(Duration::from_millis(1));
    match failure {
        Some(e) => Err(e),
        None => {
            tracing::info!("tandem is now ready to exit, bye bye...");
            Ok(())
        }
    }
}
