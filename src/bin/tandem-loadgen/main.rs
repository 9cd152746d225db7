//! `tandem-loadgen`: an open-loop load generator for RESP servers (tandem,
//! redis-server, anything that speaks RESP2/RESP3).
//!
//! Open loop (the default): each connection has a fixed schedule of
//! *intended send times*, `pipeline` requests per slot, spread so that all
//! connections together offer `--rate` requests/s. A request's latency runs
//! from its intended send time to the moment its reply is read, so a server
//! stall delays every request scheduled during it and shows in the tail:
//! coordinated omission (the flaw of closed-loop tools such as
//! redis-benchmark, which stop sending while the server stalls) cannot hide
//! it. `--closed-loop` switches to redis-benchmark's model for comparison:
//! each connection sends `pipeline` requests, waits for all replies, repeats,
//! and latency runs from the actual send.
//!
//! Output: percentiles on stdout; `--json FILE` writes the summary (rates,
//! counts, percentiles in µs, a CDF) for the sweep runner; `--hgrm FILE`
//! writes the HDR histogram's percentile distribution (HdrHistogram's
//! `.hgrm` text format, values in ms).

mod reply;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use hdrhistogram::Histogram;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "tandem-loadgen",
    version,
    about = "Open-loop load generator for RESP servers: latency from each request's intended send time"
)]
struct Args {
    /// Server host.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(short = 'p', long, default_value_t = 6379)]
    port: u16,
    /// Connections, spread over the worker threads.
    #[arg(short = 'c', long, default_value_t = 50)]
    connections: usize,
    /// Requests sent together per connection per slot (pipeline depth).
    #[arg(short = 'P', long, default_value_t = 1)]
    pipeline: usize,
    /// Offered load in requests/s over all connections (open loop).
    #[arg(long, default_value_t = 10_000.0)]
    rate: f64,
    /// Closed loop instead: send a pipeline, wait for its replies, repeat
    /// (redis-benchmark's model; `--rate` is ignored).
    #[arg(long)]
    closed_loop: bool,
    /// Number of distinct keys; each request picks one uniformly.
    #[arg(short = 'r', long, default_value_t = 100_000)]
    keyspace: u64,
    /// Value size in bytes for SET, LPUSH, SADD, HSET.
    #[arg(short = 'd', long, default_value_t = 16)]
    value_size: usize,
    /// Command mix as name:weight pairs; names: ping set get incr lpush
    /// rpush lpop rpop sadd hset zadd.
    #[arg(long, default_value = "set:1,get:1")]
    mix: String,
    /// Seconds of load before measuring (not recorded).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seconds of measured load after the warm-up.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Seconds to wait for outstanding replies after the last send; what is
    /// still missing then counts as timed out.
    #[arg(long, default_value_t = 5.0)]
    drain: f64,
    /// Worker threads (each runs its own event loop over its connections).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Cores to pin worker threads to, e.g. `1` or `0,1` (round robin).
    #[arg(long, value_delimiter = ',')]
    cpus: Vec<usize>,
    /// Write the summary as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the latency histogram's percentile distribution (.hgrm, ms).
    #[arg(long)]
    hgrm: Option<PathBuf>,
    /// Seed of the key and command choice (default: random).
    #[arg(long)]
    seed: Option<u64>,
}

/// The commands the mix can hold. Keys follow redis-benchmark's naming
/// (`key:%012d`, `counter:%012d`, ...).
#[derive(Clone, Copy, Debug)]
enum Cmd {
    Ping,
    Set,
    Get,
    Incr,
    Lpush,
    Rpush,
    Lpop,
    Rpop,
    Sadd,
    Hset,
    Zadd,
}

impl Cmd {
    fn parse(name: &str) -> Option<Cmd> {
        Some(match name.to_ascii_lowercase().as_str() {
            "ping" => Cmd::Ping,
            "set" => Cmd::Set,
            "get" => Cmd::Get,
            "incr" => Cmd::Incr,
            "lpush" => Cmd::Lpush,
            "rpush" => Cmd::Rpush,
            "lpop" => Cmd::Lpop,
            "rpop" => Cmd::Rpop,
            "sadd" => Cmd::Sadd,
            "hset" => Cmd::Hset,
            "zadd" => Cmd::Zadd,
            _ => return None,
        })
    }
}

/// Parses `set:1,get:4` into cumulative weights.
fn parse_mix(s: &str) -> Result<Vec<(Cmd, u32)>, String> {
    let mut out = Vec::new();
    let mut total = 0u32;
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (name, w) = part.split_once(':').unwrap_or((part, "1"));
        let cmd = Cmd::parse(name).ok_or_else(|| format!("unknown command '{name}' in --mix"))?;
        let w: u32 = w
            .parse()
            .map_err(|_| format!("bad weight '{w}' in --mix"))?;
        if w > 0 {
            total = total.checked_add(w).ok_or("--mix weights overflow")?;
            out.push((cmd, total));
        }
    }
    if out.is_empty() {
        return Err("--mix has no command with a positive weight".into());
    }
    Ok(out)
}

/// Appends one request as a RESP array of bulk strings.
struct Encoder {
    mix: Vec<(Cmd, u32)>,
    keyspace: u64,
    value: Vec<u8>,
    rng: fastrand::Rng,
}

impl Encoder {
    fn push(&mut self, buf: &mut Vec<u8>) {
        let total = self.mix.last().map(|m| m.1).unwrap_or(1);
        let pick = self.rng.u32(0..total);
        let cmd = self
            .mix
            .iter()
            .find(|m| pick < m.1)
            .map(|m| m.0)
            .unwrap_or(Cmd::Ping);
        let n = self.rng.u64(0..self.keyspace.max(1));
        // `prefix` + the key number as 12 zero-padded digits, on the stack
        // (no allocation per request).
        let key = |prefix: &str| -> Key {
            let mut k = Key {
                bytes: [b'0'; 24],
                len: prefix.len() + 12,
            };
            k.bytes[..prefix.len()].copy_from_slice(prefix.as_bytes());
            let mut v = n;
            for d in k.bytes[prefix.len()..k.len].iter_mut().rev() {
                *d = b'0' + (v % 10) as u8;
                v /= 10;
            }
            k
        };
        let value = self.value.as_slice();
        match cmd {
            Cmd::Ping => array(buf, &[b"PING"]),
            Cmd::Set => array(buf, &[b"SET", key("key:").get(), value]),
            Cmd::Get => array(buf, &[b"GET", key("key:").get()]),
            Cmd::Incr => array(buf, &[b"INCR", key("counter:").get()]),
            Cmd::Lpush => array(buf, &[b"LPUSH", key("list:").get(), value]),
            Cmd::Rpush => array(buf, &[b"RPUSH", key("list:").get(), value]),
            Cmd::Lpop => array(buf, &[b"LPOP", key("list:").get()]),
            Cmd::Rpop => array(buf, &[b"RPOP", key("list:").get()]),
            Cmd::Sadd => array(buf, &[b"SADD", key("set:").get(), key("element:").get()]),
            Cmd::Hset => array(
                buf,
                &[b"HSET", key("hash:").get(), key("field:").get(), value],
            ),
            Cmd::Zadd => {
                let mut score = itoa::Buffer::new();
                let score = score.format(self.rng.u32(0..1_000_000));
                array(
                    buf,
                    &[
                        b"ZADD",
                        key("zset:").get(),
                        score.as_bytes(),
                        key("member:").get(),
                    ],
                )
            }
        }
    }
}

/// A generated key name (prefix of at most 12 bytes + 12 digits).
struct Key {
    bytes: [u8; 24],
    len: usize,
}

impl Key {
    fn get(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

fn array(buf: &mut Vec<u8>, parts: &[&[u8]]) {
    let mut num = itoa::Buffer::new();
    buf.push(b'*');
    buf.extend_from_slice(num.format(parts.len()).as_bytes());
    buf.extend_from_slice(b"\r\n");
    for p in parts {
        buf.push(b'$');
        buf.extend_from_slice(num.format(p.len()).as_bytes());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(p);
        buf.extend_from_slice(b"\r\n");
    }
}

/// CLOCK_MONOTONIC in ns: the clock timerfd schedules against.
fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the local timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// An absolute CLOCK_MONOTONIC timer with ns resolution (epoll's own
/// timeout is in whole ms, too coarse for a schedule of µs slots).
struct Timer(OwnedFd);

impl Timer {
    fn new() -> std::io::Result<Timer> {
        // SAFETY: plain syscall; the fd is owned by the returned value.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd was just created and is owned by no one else.
        Ok(Timer(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn arm_at(&self, at_ns: u64) {
        let at_ns = at_ns.max(1);
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: (at_ns / 1_000_000_000) as libc::time_t,
                tv_nsec: (at_ns % 1_000_000_000) as libc::c_long,
            },
        };
        // SAFETY: valid fd and itimerspec; old value not wanted.
        unsafe {
            libc::timerfd_settime(
                self.0.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
    }

    fn clear(&self) {
        let mut b = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a local buffer.
        unsafe { libc::read(self.0.as_raw_fd(), b.as_mut_ptr().cast(), 8) };
    }
}

/// Timing of the whole run, shared by every worker (CLOCK_MONOTONIC ns).
#[derive(Clone, Copy)]
struct Plan {
    start: u64,
    /// End of the warm-up: requests intended from here on are recorded.
    measure: u64,
    /// No request is intended at or after this.
    end: u64,
    /// Give up waiting for replies here.
    drain: u64,
    /// Per-connection slot interval (open loop), ns.
    interval: f64,
    connections: usize,
    pipeline: usize,
    closed: bool,
}

struct Conn {
    stream: mio::net::TcpStream,
    wbuf: Vec<u8>,
    wpos: usize,
    /// Receive buffer: unparsed replies are `rbuf[rpos..rend]`.
    rbuf: Vec<u8>,
    rpos: usize,
    rend: usize,
    /// Intended send time of each request awaiting its reply, in order.
    pending: VecDeque<u64>,
    /// Slot number of the next open-loop send.
    slot: u64,
    /// This connection's offset into the slot interval, ns.
    offset: f64,
    alive: bool,
}

impl Conn {
    fn slot_time(&self, plan: &Plan) -> u64 {
        plan.start + (self.offset + self.slot as f64 * plan.interval) as u64
    }
}

/// What one worker counted.
struct Stats {
    hist: Histogram<u64>,
    /// Replies to requests intended in the measured window.
    completed: u64,
    /// Of those, error replies.
    errors: u64,
    /// Requests intended in the measured window still unanswered at the end.
    timeouts: u64,
    /// Requests sent in all phases.
    sent: u64,
    /// Connections lost (closed by the server, reset, malformed reply).
    lost: u64,
    first_error: Option<String>,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            // 1 ns .. 1 hour, 3 significant digits.
            hist: Histogram::new_with_bounds(1, 3_600_000_000_000, 3).expect("histogram bounds"),
            completed: 0,
            errors: 0,
            timeouts: 0,
            sent: 0,
            lost: 0,
            first_error: None,
        }
    }

    fn merge(&mut self, o: Stats) {
        self.hist.add(&o.hist).expect("same histogram bounds");
        self.completed += o.completed;
        self.errors += o.errors;
        self.timeouts += o.timeouts;
        self.sent += o.sent;
        self.lost += o.lost;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }
}

const TIMER: Token = Token(usize::MAX);

fn set_timer_slack() {
    // SAFETY: prctl on the calling thread; 1 ns slack keeps timerfd wakeups
    // at their requested time instead of the default 50 µs window.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
}

/// One worker's event loop over its connections until the run ends.
fn worker(plan: Plan, mut conns: Vec<Conn>, mut enc: Encoder) -> std::io::Result<Stats> {
    set_timer_slack();
    let mut stats = Stats::new();
    let mut poll = Poll::new()?;
    let timer = Timer::new()?;
    let tfd = timer.0.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&tfd), TIMER, Interest::READABLE)?;
    for (i, c) in conns.iter_mut().enumerate() {
        poll.registry().register(
            &mut c.stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
    }
    let mut events = Events::with_capacity(1024);
    loop {
        let now = now_ns();
        let mut wake = u64::MAX;
        if now < plan.end {
            wake = plan.end;
        }
        for c in conns.iter_mut().filter(|c| c.alive) {
            if plan.closed {
                if now >= plan.start && now < plan.end && c.pending.is_empty() {
                    send_batch(c, &plan, &mut enc, now, &mut stats);
                }
            } else {
                loop {
                    let t = c.slot_time(&plan);
                    if t >= plan.end {
                        break;
                    }
                    if t > now {
                        wake = wake.min(t);
                        break;
                    }
                    send_batch(c, &plan, &mut enc, t, &mut stats);
                    c.slot += 1;
                }
            }
            if c.wpos < c.wbuf.len() {
                flush(c, &mut stats);
            }
        }
        if plan.closed && now < plan.start {
            wake = wake.min(plan.start);
        }
        if now >= plan.end {
            let waiting = conns.iter().any(|c| c.alive && !c.pending.is_empty());
            if !waiting || now >= plan.drain {
                break;
            }
            wake = wake.min(plan.drain);
        }
        if wake != u64::MAX {
            timer.arm_at(wake);
        }
        match poll.poll(&mut events, Some(Duration::from_secs(1))) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for ev in events.iter() {
            if ev.token() == TIMER {
                timer.clear();
                continue;
            }
            let c = &mut conns[ev.token().0];
            if !c.alive {
                continue;
            }
            if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                read_replies(c, &plan, &mut stats);
                // Closed loop: the next pipeline goes out as soon as the last
                // reply of this one is in, per connection, as redis-benchmark
                // does (not at the next loop turn with everyone else's).
                let now = now_ns();
                if plan.closed && c.alive && c.pending.is_empty() && now < plan.end {
                    send_batch(c, &plan, &mut enc, now, &mut stats);
                    flush(c, &mut stats);
                }
            }
            if c.alive && ev.is_writable() && c.wpos < c.wbuf.len() {
                flush(c, &mut stats);
            }
        }
    }
    for c in &conns {
        stats.timeouts += c
            .pending
            .iter()
            .filter(|&&t| t >= plan.measure && t < plan.end)
            .count() as u64;
    }
    Ok(stats)
}

/// Queues one pipeline of requests, all intended at `at`.
fn send_batch(c: &mut Conn, plan: &Plan, enc: &mut Encoder, at: u64, stats: &mut Stats) {
    for _ in 0..plan.pipeline {
        enc.push(&mut c.wbuf);
        c.pending.push_back(at);
    }
    stats.sent += plan.pipeline as u64;
}

fn lose(c: &mut Conn, stats: &mut Stats, why: String) {
    c.alive = false;
    stats.lost += 1;
    if stats.first_error.is_none() {
        stats.first_error = Some(why);
    }
}

/// Writes queued requests until the socket would block.
fn flush(c: &mut Conn, stats: &mut Stats) {
    while c.wpos < c.wbuf.len() {
        match c.stream.write(&c.wbuf[c.wpos..]) {
            Ok(0) => return lose(c, stats, "connection closed while writing".into()),
            Ok(n) => c.wpos += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return lose(c, stats, format!("write: {e}")),
        }
    }
    if c.wpos == c.wbuf.len() {
        c.wbuf.clear();
        c.wpos = 0;
    } else if c.wpos > 1 << 20 {
        c.wbuf.drain(..c.wpos);
        c.wpos = 0;
    }
}

/// Reads until the socket would block, matching each complete reply to the
/// oldest outstanding request and recording its latency.
fn read_replies(c: &mut Conn, plan: &Plan, stats: &mut Stats) {
    loop {
        if c.rend == c.rbuf.len() {
            // Full: move the unparsed tail to the front, grow if it fills
            // the buffer (one reply larger than the buffer).
            c.rbuf.copy_within(c.rpos..c.rend, 0);
            c.rend -= c.rpos;
            c.rpos = 0;
            if c.rend == c.rbuf.len() {
                c.rbuf.resize(c.rbuf.len() * 2, 0);
            }
        }
        match c.stream.read(&mut c.rbuf[c.rend..]) {
            Ok(0) => return lose(c, stats, "connection closed by the server".into()),
            Ok(n) => {
                c.rend += n;
                let now = now_ns();
                loop {
                    match reply::frame(&c.rbuf[c.rpos..c.rend]) {
                        Ok(Some(f)) => {
                            let at = c.rpos;
                            c.rpos += f.len;
                            let Some(t) = c.pending.pop_front() else {
                                return lose(c, stats, "reply to no request".into());
                            };
                            if t >= plan.measure && t < plan.end {
                                let _ = stats.hist.record(now.saturating_sub(t).max(1));
                                stats.completed += 1;
                                if f.error {
                                    stats.errors += 1;
                                    if stats.first_error.is_none() {
                                        let text = &c.rbuf[at..c.rpos.min(at + 200)];
                                        stats.first_error = Some(
                                            String::from_utf8_lossy(text).trim_end().to_string(),
                                        );
                                    }
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(reply::Malformed(m)) => {
                            return lose(c, stats, format!("malformed reply: {m}"));
                        }
                    }
                }
                if c.rpos == c.rend {
                    c.rpos = 0;
                    c.rend = 0;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return lose(c, stats, format!("read: {e}")),
        }
    }
}

/// Percentiles (in %) reported in the summary and the JSON CDF.
const PERCENTILES: &[f64] = &[50.0, 90.0, 99.0, 99.9, 99.99];

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("tandem-loadgen: {e}");
        std::process::exit(1);
    }
}

fn run(a: Args) -> Result<(), String> {
    let mix = parse_mix(&a.mix)?;
    if a.connections == 0 || a.pipeline == 0 || a.threads == 0 {
        return Err("--connections, --pipeline and --threads must be at least 1".into());
    }
    if !a.closed_loop && !(a.rate > 0.0 && a.rate.is_finite()) {
        return Err("--rate must be a positive number of requests/s".into());
    }
    if a.keyspace == 0 || a.keyspace > 1_000_000_000_000 {
        return Err("--keyspace must be 1 to 10^12 (keys carry 12 digits)".into());
    }
    if !(a.duration > 0.0) || a.warmup < 0.0 || a.drain < 0.0 {
        return Err("--duration must be positive, --warmup and --drain not negative".into());
    }
    let threads = a.threads.min(a.connections);
    let mut per_thread: Vec<Vec<Conn>> = (0..threads).map(|_| Vec::new()).collect();
    let interval = a.pipeline as f64 * a.connections as f64 / a.rate * 1e9;
    for i in 0..a.connections {
        let addr = format!("{}:{}", a.host, a.port);
        let sock = std::net::TcpStream::connect(&addr)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        sock.set_nodelay(true).map_err(|e| e.to_string())?;
        sock.set_nonblocking(true).map_err(|e| e.to_string())?;
        per_thread[i % threads].push(Conn {
            stream: mio::net::TcpStream::from_std(sock),
            wbuf: Vec::with_capacity(64 * 1024),
            wpos: 0,
            rbuf: vec![0; 256 * 1024],
            rpos: 0,
            rend: 0,
            pending: VecDeque::new(),
            slot: 0,
            offset: interval * i as f64 / a.connections as f64,
            alive: true,
        });
    }
    let start = now_ns() + 20_000_000;
    let measure = start + (a.warmup * 1e9) as u64;
    let end = measure + (a.duration * 1e9) as u64;
    let plan = Plan {
        start,
        measure,
        end,
        drain: end + (a.drain * 1e9) as u64,
        interval,
        connections: a.connections,
        pipeline: a.pipeline,
        closed: a.closed_loop,
    };
    let seed = a.seed.unwrap_or_else(|| fastrand::u64(..));
    let handles: Vec<_> = per_thread
        .into_iter()
        .enumerate()
        .map(|(t, conns)| {
            let enc = Encoder {
                mix: mix.clone(),
                keyspace: a.keyspace,
                value: vec![b'x'; a.value_size],
                rng: fastrand::Rng::with_seed(seed.wrapping_add(t as u64)),
            };
            let core = (!a.cpus.is_empty()).then(|| a.cpus[t % a.cpus.len()]);
            std::thread::Builder::new()
                .name(format!("loadgen{t}"))
                .spawn(move || {
                    if let Some(id) = core {
                        core_affinity::set_for_current(core_affinity::CoreId { id });
                    }
                    worker(plan, conns, enc)
                })
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut total = Stats::new();
    for h in handles {
        let s = h
            .join()
            .map_err(|_| "a worker thread panicked".to_string())?
            .map_err(|e| format!("event loop: {e}"))?;
        total.merge(s);
    }
    report(&a, &plan, &total)
}

fn report(a: &Args, plan: &Plan, s: &Stats) -> Result<(), String> {
    let secs = (plan.end - plan.measure) as f64 / 1e9;
    let achieved = s.completed as f64 / secs;
    let h = &s.hist;
    let mode = if a.closed_loop { "closed" } else { "open" };
    let offered = if a.closed_loop {
        "closed loop".to_string()
    } else {
        format!("open loop at {:.0} req/s", a.rate)
    };
    println!(
        "tandem-loadgen: {offered}, {} connections, pipeline {}, {} thread(s), mix {}, keyspace {}, value {} B",
        plan.connections, plan.pipeline, a.threads, a.mix, a.keyspace, a.value_size
    );
    println!(
        "achieved {achieved:.0} req/s over {secs:.1} s measured ({} replies), errors {}, timeouts {}, lost connections {}",
        s.completed, s.errors, s.timeouts, s.lost
    );
    if let Some(e) = &s.first_error {
        println!("first error: {e}");
    }
    let clock = if a.closed_loop { "actual" } else { "intended" };
    let mut line = format!(
        "latency (us, from {clock} send time): mean {:.1}",
        h.mean() / 1000.0
    );
    for p in PERCENTILES {
        line += &format!("  p{p} {:.1}", us(h.value_at_percentile(*p)));
    }
    line += &format!("  max {:.1}", us(h.max()));
    println!("{line}");

    if let Some(path) = &a.hgrm {
        std::fs::write(path, hgrm(h)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &a.json {
        let mut pct = serde_json::Map::new();
        for p in PERCENTILES {
            pct.insert(format!("p{p}"), us(h.value_at_percentile(*p)).into());
        }
        pct.insert("mean".into(), (h.mean() / 1000.0).into());
        pct.insert("max".into(), us(h.max()).into());
        // CDF: percentiles spaced evenly in log(1/(1-p)), up to 99.999%.
        let cdf: Vec<serde_json::Value> = (0..=50)
            .map(|i| {
                let p = 100.0 * (1.0 - 10f64.powf(-(i as f64) / 10.0));
                serde_json::json!([p, us(h.value_at_percentile(p))])
            })
            .collect();
        let doc = serde_json::json!({
            "mode": mode,
            "offered_rps": if a.closed_loop { serde_json::Value::Null } else { a.rate.into() },
            "achieved_rps": achieved,
            "measured_s": secs,
            "connections": plan.connections,
            "pipeline": plan.pipeline,
            "threads": a.threads,
            "mix": a.mix,
            "keyspace": a.keyspace,
            "value_size": a.value_size,
            "completed": s.completed,
            "errors": s.errors,
            "timeouts": s.timeouts,
            "lost_connections": s.lost,
            "sent": s.sent,
            "first_error": s.first_error,
            "latency_us": pct,
            "cdf_us": cdf,
        });
        let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// HdrHistogram's percentile distribution text (`.hgrm`), values in ms.
fn hgrm(h: &Histogram<u64>) -> String {
    let mut out = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut cumulative = 0u64;
    for v in h.iter_quantiles(5) {
        cumulative += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let inv = if q < 1.0 {
            format!("{:>14.2}", 1.0 / (1.0 - q))
        } else {
            format!("{:>14}", "inf")
        };
        out += &format!(
            "{:>12.3} {:>14.12} {:>10} {inv}\n",
            v.value_iterated_to() as f64 / 1e6,
            q,
            cumulative
        );
    }
    out += &format!(
        "#[Mean    = {:>12.3}, StdDeviation   = {:>12.3}]\n#[Max     = {:>12.3}, Total count    = {:>12}]\n",
        h.mean() / 1e6,
        h.stdev() / 1e6,
        h.max() as f64 / 1e6,
        h.len()
    );
    out
}
