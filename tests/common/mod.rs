//! Test harness: starts the real `tandem` binary on an ephemeral port,
//! waits until it accepts connections, and stops it (SIGTERM, then SIGKILL)
//! when dropped. Every wait is bounded.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The thread layouts every behaviour test runs under: the split
/// (1 IO thread, 2 shards), colocated, and several IO threads feeding
/// three shards (connections spread over rings, keys over shards).
pub const MODES: &[&[&str]] = &[
    &["--io-threads", "1", "--shards", "2"],
    &["--colocated", "yes"],
    &["--io-threads", "2", "--shards", "3"],
];

pub struct Server {
    pub child: Child,
    pub port: u16,
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// True when the process on `port` answers PING with a RESP reply (+PONG, or
/// -NOAUTH under requirepass): proves the server is serving, not just that
/// something accepts on the port.
fn answers_ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && (&buf == b"+PONG\r\n" || &buf == b"-NOAUTH")
}

impl Server {
    /// Starts tandem with extra directives; panics if it is not accepting
    /// connections within 10 s.
    pub fn start(extra: &[&str]) -> Server {
        Server::start_with_file(None, extra)
    }

    /// [`Server::start`] with a config file, which redis-server style
    /// comes first on the command line.
    pub fn start_with_file(file: Option<&str>, extra: &[&str]) -> Server {
        for _ in 0..5 {
            let port = free_port();
            // Server logs go to target/test-logs/<port>.log for post-mortems.
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
            let _ = std::fs::create_dir_all(&dir);
            let log = std::fs::File::create(dir.join(format!("{port}.log"))).unwrap();
            let mut child = Command::new(env!("CARGO_BIN_EXE_tandem"))
                .args(file)
                .args([
                    "--port",
                    &port.to_string(),
                    "--spin-us",
                    "5",
                    "--loglevel",
                    "debug",
                    // No snapshot on the way out (Redis's default schedule
                    // would write dump.rdb into the crate's directory);
                    // tests that save pass their own `--save` and `--dir`.
                    "--save",
                    "",
                ])
                .args(extra)
                .stdout(Stdio::from(log.try_clone().unwrap()))
                .stderr(Stdio::from(log))
                .spawn()
                .expect("start tandem");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken by someone else: try another
                }
                if answers_ping(port) {
                    return Server { child, port };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("tandem did not start");
    }

    pub fn sharded() -> Server {
        Server::start(MODES[0])
    }

    pub fn colocated() -> Server {
        Server::start(MODES[1])
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).unwrap()
    }

    pub fn conn(&self) -> redis::Connection {
        let c = self
            .client()
            .get_connection_with_timeout(Duration::from_secs(5))
            .unwrap_or_else(|e| {
                panic!(
                    "connect to tandem on port {0}: {e} (server log: target/test-logs/{0}.log)",
                    self.port
                )
            });
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    }

    /// Waits (up to 5 s) until INFO reports `n` blocked clients.
    pub fn wait_blocked(&self, n: usize) {
        let mut c = self.conn();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let info: String = q(&mut c, &["INFO", "clients"]).unwrap();
            let now: usize = info
                .lines()
                .find_map(|l| l.strip_prefix("blocked_clients:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            if now == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "blocked_clients stayed {now}, want {n}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Raw { s }
    }

    /// Sends SIGTERM and waits up to 10 s; returns the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits up to 10 s for the process to exit by itself.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// What the server has logged so far (`target/test-logs/<port>.log`).
    pub fn log(&self) -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-logs");
        std::fs::read_to_string(dir.join(format!("{}.log", self.port))).unwrap_or_default()
    }

    /// Asserts the server still answers PING on a fresh connection.
    pub fn assert_alive(&self) {
        let mut r = self.raw();
        r.send(b"PING\r\n");
        assert_eq!(r.read_reply(), "+PONG\r\n");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            if self.terminate().is_none() {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// A raw TCP client for protocol edges.
pub struct Raw {
    pub s: TcpStream,
}

impl Raw {
    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    /// Reads exactly `n` bytes (10 s timeout).
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0; n];
        self.s.read_exact(&mut v).unwrap();
        v
    }

    /// Reads one complete RESP value as text.
    pub fn read_reply(&mut self) -> String {
        let mut buf = Vec::new();
        loop {
            if let Some(n) = tandem::resp::parse::value_len(&buf) {
                assert_eq!(n, buf.len(), "read more than one reply");
                return String::from_utf8_lossy(&buf).into_owned();
            }
            let mut b = [0u8; 1];
            let got = self.s.read(&mut b).unwrap();
            assert!(
                got > 0,
                "connection closed while reading a reply (have {:?})",
                String::from_utf8_lossy(&buf)
            );
            buf.push(b[0]);
        }
    }

    /// Reads `count` replies into one buffer, efficiently.
    pub fn read_replies(&mut self, count: usize) -> Vec<String> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut pos = 0;
        while out.len() < count {
            while out.len() < count {
                match tandem::resp::parse::value_len(&buf[pos..]) {
                    Some(n) => {
                        out.push(String::from_utf8_lossy(&buf[pos..pos + n]).into_owned());
                        pos += n;
                    }
                    None => break,
                }
            }
            if out.len() == count {
                break;
            }
            let got = self.s.read(&mut chunk).unwrap();
            assert!(got > 0, "connection closed after {} replies", out.len());
            buf.extend_from_slice(&chunk[..got]);
        }
        out
    }

    /// True if the server closed the connection (EOF) within 10 s.
    pub fn closed(&mut self) -> bool {
        let mut b = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match self.s.read(&mut b) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return false;
                }
                Err(_) => return true,
            }
        }
        false
    }
}

/// Encodes a command as a RESP multibulk frame.
pub fn frame(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Runs `f` against a fresh server in every mode.
pub fn each_mode(f: impl Fn(&Server)) {
    for m in MODES {
        let s = Server::start(m);
        f(&s);
    }
}

/// Runs one command through the `redis` crate.
pub fn q<T: redis::FromRedisValue>(
    c: &mut redis::Connection,
    args: &[&str],
) -> redis::RedisResult<T> {
    let mut k = redis::cmd(args[0]);
    for a in &args[1..] {
        k.arg(*a);
    }
    k.query(c)
}

/// Runs a command that must fail; returns the error text.
pub fn err(c: &mut redis::Connection, args: &[&str]) -> String {
    match q::<redis::Value>(c, args) {
        Err(e) => e.to_string(),
        Ok(v) => panic!("expected an error from {args:?}, got {v:?}"),
    }
}

/// The reference redis-server on an ephemeral port, no persistence;
/// killed when dropped. Every wait is bounded.
pub struct Redis {
    child: Child,
    pub port: u16,
}

impl Redis {
    /// Starts redis-server with `extra` directives; panics if it is not
    /// answering within 10 s (install it: `apt-get install redis-server`).
    pub fn start(extra: &[&str]) -> Redis {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
                .args(extra)
                // SORT ALPHA uses strcoll(): a fixed locale keeps it bytewise.
                .env("LC_ALL", "C")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start redis-server (apt-get install redis-server)");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if answers_ping(port) {
                    return Redis { child, port };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start");
    }

    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Raw { s }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs an external program (redis-benchmark, redis-cli, the load
/// generator) and returns its output, killing it and failing the test if
/// it has not finished within `secs` seconds: a wedged server must fail a
/// test, not hang the run.
pub fn output_within(cmd: &mut Command, secs: u64) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); .ci/run installs it"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for child") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Output {
        status,
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
    }
}

/// Sends each command on one raw connection and asserts its reply is
/// exactly the given RESP text (`"*"`: any reply). For regressions found by
/// tests/differential.rs, where the reply bytes are the point; expected
/// replies are redis-server 7.0's unless a test says otherwise.
pub fn expect_replies(s: &Server, cases: &[(&[&str], &str)]) {
    let mut r = s.raw();
    for (args, want) in cases {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        r.send(&frame(&args));
        let got = r.read_reply();
        if *want != "*" {
            assert_eq!(got, *want, "reply to {args:?}");
        }
    }
}

/// The layouts concurrency tests run under: one IO thread and three
/// shards, two IO threads and three shards (where races show: the shards
/// see the IO threads' batches in different orders), and colocated.
pub const LAYOUTS: &[&[&str]] = &[
    &["--io-threads", "1", "--shards", "3"],
    &["--io-threads", "2", "--shards", "3"],
    &["--colocated", "yes"],
];

/// `n` keys named `{prefix}N`, on as many different shards (of 3) as
/// possible, round robin.
pub fn spread(prefix: &str, n: usize) -> Vec<String> {
    let mut by_shard: Vec<Vec<String>> = vec![Vec::new(); 3];
    let mut i = 0;
    while by_shard.iter().map(|v| v.len()).min().unwrap_or(0) * 3 < n + 3 {
        let k = format!("{prefix}{i}");
        by_shard[tandem::spec::key_shard(k.as_bytes(), 3)].push(k);
        i += 1;
    }
    (0..n).map(|j| by_shard[j % 3][j / 3].clone()).collect()
}

/// A connection served by IO thread `io` (when the server has it):
/// connects until CLIENT INFO says so, a bounded number of times.
pub fn conn_on(url: &str, io: usize) -> redis::Connection {
    let client = redis::Client::open(url).unwrap();
    for _ in 0..100 {
        let mut c = client.get_connection().unwrap();
        let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
        let on = info
            .split(' ')
            .find_map(|f| f.strip_prefix("io-thread="))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if on == io {
            return c;
        }
    }
    client.get_connection().unwrap()
}

/// Runs `f` in a loop on its own connection (on IO thread `io` if there
/// is one) until `stop` (or 30 s); returns how many times it ran.
pub fn spawn_until(
    stop: &Arc<AtomicBool>,
    url: String,
    io: usize,
    f: impl Fn(&mut redis::Connection, u64) + Send + 'static,
) -> JoinHandle<u64> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut c = conn_on(&url, io);
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut n = 0;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            f(&mut c, n);
            n += 1;
        }
        n
    })
}

/// A fresh directory under the system's temporary one, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("tandem-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One field of INFO `persistence` (panics if it is missing).
pub fn persistence_field(c: &mut redis::Connection, name: &str) -> String {
    let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .trim()
        .to_string()
}

/// Waits (at most 30 s) until INFO `persistence` field `name` reads
/// `want`; panics after that.
pub fn wait_persistence(c: &mut redis::Connection, name: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while persistence_field(c, name) != want {
        assert!(Instant::now() < deadline, "{name} never became {want}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A client of whatever server listens on `port` (tandem or redis-server),
/// with a 20 s read timeout.
pub fn conn_to(port: u16) -> redis::Connection {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c
}

/// Runs tandem on a free port with `--save ""` and `extra`, expecting it
/// to stop by itself (a start-up it must refuse); fails the test if it
/// still runs after 20 s. Returns its output.
pub fn run_tandem_expecting_exit(extra: &[&str]) -> std::process::Output {
    let port = free_port().to_string();
    output_within(
        Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(["--port", &port, "--save", ""])
            .args(extra),
        20,
    )
}

/// A small deterministic generator (xorshift64*) for seeded random
/// tests: the same operations on every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (> 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `-span..=span`.
    pub fn signed(&mut self, span: i64) -> i64 {
        self.below(2 * span as u64 + 1) as i64 - span
    }

    /// A float in `[lo, hi)`, in steps of a millionth of the span.
    pub fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + self.below(1_000_000) as f64 / 1_000_000.0 * (hi - lo)
    }
}

/// Sends `cmd` to tandem (`ours`) and redis-server (`theirs`) and asserts
/// the same reply bytes; returns the reply. Replies are read in chunks
/// (PFDEBUG GETREG answers 16384 integers).
pub fn both<A: AsRef<[u8]>>(ours: &mut Raw, theirs: &mut Raw, cmd: &[A], ctx: &str) -> String {
    let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_ref()).collect();
    ours.send(&frame(&f));
    theirs.send(&frame(&f));
    let (a, b) = (
        ours.read_replies(1).remove(0),
        theirs.read_replies(1).remove(0),
    );
    let shown: Vec<String> = f
        .iter()
        .map(|a| String::from_utf8_lossy(&a[..a.len().min(40)]).into_owned())
        .collect();
    assert_eq!(a, b, "{ctx}: {shown:?}");
    a
}

/// Switches both connections to RESP3 (HELLO's own reply names each
/// server, so it is only checked to be a map).
pub fn hello3(ours: &mut Raw, theirs: &mut Raw) {
    for r in [ours, theirs] {
        r.send(&frame(&[b"HELLO", b"3"]));
        assert!(r.read_reply().starts_with('%'));
    }
}
