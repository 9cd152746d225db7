//! Every setting, its default and its validation; the config file and
//! command-line parser; CONFIG GET/SET by directive name.
//!
//! A leaf. Read by `main` at start-up; the server keeps the live copy behind
//! a lock that only CONFIG GET/SET and the threads' once-per-turn refresh
//! touch. Syntax follows redis-server: `tandem [config-file] [--directive
//! value ...]`, memory sizes like `512mb`, booleans `yes`/`no`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// The value kinds a directive can take.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Integer within an inclusive range.
    Int(i64, i64),
    /// Memory size (`1gb`, `100kb`, plain bytes).
    Mem,
    Bool,
    Str,
    /// Core list, e.g. `0-3,6`.
    Cpus,
}

/// One directive: name, kind, whether CONFIG SET may change it at run time,
/// its default and help line.
struct Directive {
    name: &'static str,
    kind: Kind,
    mutable: bool,
    default: &'static str,
    help: &'static str,
}

const fn d(
    name: &'static str,
    kind: Kind,
    mutable: bool,
    default: &'static str,
    help: &'static str,
) -> Directive {
    Directive {
        name,
        kind,
        mutable,
        default,
        help,
    }
}

/// Default marker for directives whose default depends on the machine.
const AUTO: &str = "auto";

static DIRECTIVES: &[Directive] = &[
    d(
        "port",
        Kind::Int(0, 65535),
        false,
        "6379",
        "TCP port to listen on (0: pick a free one)",
    ),
    d(
        "bind",
        Kind::Str,
        false,
        "127.0.0.1",
        "address(es) to listen on, space separated",
    ),
    d(
        "io-threads",
        Kind::Int(1, 128),
        false,
        AUTO,
        "IO threads (io_uring rings); default fits the machine",
    ),
    d(
        "shards",
        Kind::Int(1, 256),
        false,
        AUTO,
        "shard engine threads, each owning part of the keyspace",
    ),
    d(
        "cpus",
        Kind::Cpus,
        false,
        "",
        "cores to pin to, e.g. 0-3: IO threads take the first, shards the next",
    ),
    d(
        "pin",
        Kind::Bool,
        false,
        "yes",
        "pin each thread to its core of 'cpus' (no: the OS places and moves them)",
    ),
    d(
        "disable-thp",
        Kind::Bool,
        false,
        "yes",
        "turn transparent huge pages off for this process (they keep freed memory resident)",
    ),
    d(
        "colocated",
        Kind::Bool,
        false,
        "no",
        "one thread is both IO thread and shard, no channel",
    ),
    d(
        "spin-us",
        Kind::Int(0, 1_000_000),
        true,
        "20",
        "microseconds a stage spins for new work before parking",
    ),
    d(
        "latency-tracking",
        Kind::Bool,
        true,
        "yes",
        "time sampled requests per stage and per command (INFO latencystats, INFO tandem)",
    ),
    d(
        "latency-sample-every",
        Kind::Int(1, 1 << 30),
        true,
        "1024",
        "with latency-tracking, time one request in this many per IO thread",
    ),
    d(
        "maxclients",
        Kind::Int(1, 1_000_000),
        true,
        "10000",
        "most clients connected at once",
    ),
    d(
        "timeout",
        Kind::Int(0, i32::MAX as i64),
        true,
        "0",
        "close a client idle this many seconds (0: never)",
    ),
    d(
        "databases",
        Kind::Int(1, 65535),
        false,
        "16",
        "number of databases (SELECT index range)",
    ),
    d(
        "proto-max-bulk-len",
        Kind::Mem,
        true,
        "512mb",
        "largest bulk string a client may send",
    ),
    d(
        "client-query-buffer-limit",
        Kind::Mem,
        true,
        "1gb",
        "largest unparsed input a client may have queued",
    ),
    d(
        "client-output-limit",
        Kind::Mem,
        true,
        "256mb",
        "unwritten reply bytes after which a client is disconnected (0: no limit)",
    ),
    d(
        "client-output-buffer-limit",
        Kind::Str,
        true,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        "per client class (normal, replica, pubsub): '<class> <hard> <soft> <soft-seconds>'; a client whose unsent output reaches hard, or stays over soft that many seconds, is disconnected (0: no limit)",
    ),
    d(
        "notify-keyspace-events",
        Kind::Str,
        true,
        "",
        "keyspace notifications published over Pub/Sub: K (keyspace), E (keyevent) and classes g $ l s h z x e t m d n, A for all (\"\": none)",
    ),
    d(
        "requirepass",
        Kind::Str,
        true,
        "",
        "password for the default user (empty: none)",
    ),
    d(
        "aclfile",
        Kind::Str,
        false,
        "",
        "file of ACL users (`user <name> <rules>...` lines), read at start-up and by ACL LOAD, written by ACL SAVE (\"\": none)",
    ),
    d(
        "acllog-max-len",
        Kind::Int(0, i64::MAX),
        true,
        "128",
        "entries ACL LOG keeps",
    ),
    d(
        "acl-pubsub-default",
        Kind::Str,
        true,
        "resetchannels",
        "channels a new ACL user may use: resetchannels (none) or allchannels",
    ),
    d(
        "protected-mode",
        Kind::Bool,
        true,
        "yes",
        "while the default user has no password, refuse clients that are not on loopback",
    ),
    d(
        "loglevel",
        Kind::Str,
        true,
        "notice",
        "debug, verbose, notice or warning",
    ),
    d(
        "save",
        Kind::Str,
        true,
        "3600 1 300 100 60 10000",
        "snapshot schedule, \"<seconds> <changes>\" pairs: BGSAVE once that many writes are that old; also saves at shutdown (\"\": never)",
    ),
    d(
        "enable-debug-command",
        Kind::Str,
        false,
        "no",
        "who may run DEBUG: no, yes, or local (clients connected over loopback)",
    ),
    d(
        "rdbcompression",
        Kind::Bool,
        true,
        "yes",
        "LZF-compress strings over 20 bytes in RDB files and DUMP payloads",
    ),
    d(
        "rdbchecksum",
        Kind::Bool,
        false,
        "yes",
        "end RDB files with a CRC-64 and check it when loading (no: 8 zero bytes, not checked)",
    ),
    d(
        "appendonly",
        Kind::Bool,
        true,
        "no",
        "log every write to the append-only file in `appenddirname` (loaded at start-up instead of the RDB file; CONFIG SET yes starts it with a rewrite)",
    ),
    d(
        "appendfsync",
        Kind::Str,
        true,
        "everysec",
        "when the append-only file is synced: always (before replying), everysec, no (the OS decides)",
    ),
    d(
        "appenddirname",
        Kind::Str,
        false,
        "appendonlydir",
        "directory in `dir` holding the append-only file's parts and manifest",
    ),
    d(
        "appendfilename",
        Kind::Str,
        false,
        "appendonly.aof",
        "name the append-only file's parts and manifest are named after",
    ),
    d(
        "aof-use-rdb-preamble",
        Kind::Bool,
        true,
        "yes",
        "the rewritten base of the append-only file is an RDB file (no: the commands that rebuild the keyspace)",
    ),
    d(
        "aof-load-truncated",
        Kind::Bool,
        true,
        "yes",
        "load an append-only file whose last part ends mid-command, cutting it there",
    ),
    d(
        "auto-aof-rewrite-percentage",
        Kind::Int(0, i32::MAX as i64),
        true,
        "100",
        "rewrite the append-only file once it grew this % over its size after the last rewrite (0: never)",
    ),
    d(
        "auto-aof-rewrite-min-size",
        Kind::Mem,
        true,
        "64mb",
        "no automatic rewrite below this size",
    ),
    d(
        "maxmemory",
        Kind::Mem,
        true,
        "0",
        "memory limit in bytes (0: none): over it, keys are evicted by `maxmemory-policy`, or writes refused with -OOM",
    ),
    d(
        "maxmemory-policy",
        Kind::Str,
        true,
        "noeviction",
        "what goes over `maxmemory`: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, or noeviction (refuse writes)",
    ),
    d(
        "maxmemory-samples",
        Kind::Int(1, i32::MAX as i64),
        true,
        "5",
        "keys sampled per database and eviction round (more: closer to true LRU/LFU, slower)",
    ),
    d(
        "maxmemory-eviction-tenacity",
        Kind::Int(0, 100),
        true,
        "10",
        "how long one command may spend evicting: 0-10 linear up to 500 us, then +15% per step, 100 unlimited",
    ),
    d(
        "lfu-log-factor",
        Kind::Int(0, i32::MAX as i64),
        true,
        "10",
        "LFU counter growth: higher needs more hits to count up",
    ),
    d(
        "lfu-decay-time",
        Kind::Int(0, i32::MAX as i64),
        true,
        "1",
        "minutes after which an unread key's LFU counter halves or drops by one (0: never)",
    ),
    d(
        "dir",
        Kind::Str,
        false,
        ".",
        "working directory (tandem changes into it at start-up, as redis-server)",
    ),
    d(
        "dbfilename",
        Kind::Str,
        false,
        "dump.rdb",
        "RDB file in `dir`: loaded at start-up if present, written by SAVE",
    ),
    d(
        "list-max-listpack-size",
        Kind::Int(-5, i32::MAX as i64),
        true,
        "-2",
        "small-list limit: N > 0 entries, or -1..-5 for 4..64 KB of encoding",
    ),
    d(
        "hash-max-listpack-entries",
        Kind::Int(0, i32::MAX as i64),
        true,
        "512",
        "fields up to which a hash stays compact (listpack)",
    ),
    d(
        "hash-max-listpack-value",
        Kind::Int(0, i32::MAX as i64),
        true,
        "64",
        "longest field or value (bytes) a compact hash holds",
    ),
    d(
        "hll-sparse-max-bytes",
        Kind::Mem,
        true,
        "3000",
        "bytes up to which a HyperLogLog keeps its sparse encoding",
    ),
    d(
        "stream-node-max-bytes",
        Kind::Mem,
        true,
        "4096",
        "bytes of listpack after which a stream starts a new node (0 = no limit)",
    ),
    d(
        "stream-node-max-entries",
        Kind::Int(0, i64::MAX),
        true,
        "100",
        "entries after which a stream starts a new node (0 = no limit)",
    ),
    d(
        "set-max-intset-entries",
        Kind::Int(0, i32::MAX as i64),
        true,
        "512",
        "members up to which an all-integer set stays an intset",
    ),
    d(
        "set-max-listpack-entries",
        Kind::Int(0, i32::MAX as i64),
        true,
        "128",
        "members up to which a set stays compact (listpack)",
    ),
    d(
        "set-max-listpack-value",
        Kind::Int(0, i32::MAX as i64),
        true,
        "64",
        "longest member (bytes) a compact set holds",
    ),
    d(
        "zset-max-listpack-entries",
        Kind::Int(0, i32::MAX as i64),
        true,
        "128",
        "members up to which a sorted set stays compact (listpack)",
    ),
    d(
        "zset-max-listpack-value",
        Kind::Int(0, i32::MAX as i64),
        true,
        "64",
        "longest member (bytes) a compact sorted set holds",
    ),
    d(
        "hz",
        Kind::Int(1, 500),
        true,
        "10",
        "active expiry cycles per second when idle",
    ),
    d(
        "slowlog-log-slower-than",
        Kind::Int(-1, i64::MAX),
        true,
        "10000",
        "log commands that run at least this many microseconds in SLOWLOG (0: every command, -1: none)",
    ),
    d(
        "slowlog-max-len",
        Kind::Int(0, i64::MAX),
        true,
        "128",
        "most entries SLOWLOG keeps",
    ),
    d(
        "latency-monitor-threshold",
        Kind::Int(0, i64::MAX),
        true,
        "0",
        "record commands that run at least this many milliseconds as LATENCY events (0: off)",
    ),
    d(
        "busy-reply-threshold",
        Kind::Int(0, i64::MAX),
        true,
        "5000",
        "ms a script runs before other clients get -BUSY (0: at once)",
    ),
];

/// The parsed configuration. Field meanings are the directives' help lines.
#[derive(Clone, Debug)]
pub struct Config {
    pub port: u16,
    pub bind: Vec<String>,
    pub io_threads: usize,
    pub shards: usize,
    pub cpus: Vec<usize>,
    pub pin: bool,
    /// `disable-thp`: PR_SET_THP_DISABLE at start-up.
    pub disable_thp: bool,
    pub colocated: bool,
    pub spin_us: u64,
    pub latency_tracking: bool,
    pub latency_sample_every: u64,
    pub maxclients: usize,
    /// Idle timeout in seconds, 0 = none.
    pub timeout: u64,
    pub databases: usize,
    /// Bytes.
    pub proto_max_bulk_len: u64,
    /// Bytes.
    pub client_query_buffer_limit: u64,
    /// Bytes.
    pub client_output_limit: u64,
    /// `client-output-buffer-limit`, per [`ObufClass`].
    pub client_obuf: [ObufLimit; 3],
    /// `notify-keyspace-events` as Redis's flag bits
    /// ([`crate::pubsub::notify`]).
    pub notify_keyspace_events: u32,
    pub requirepass: String,
    /// `aclfile`: the ACL users' file, empty for none.
    pub aclfile: String,
    /// `acllog-max-len`: entries ACL LOG keeps.
    pub acllog_max_len: u64,
    /// `acl-pubsub-default allchannels`: new ACL users get `&*`.
    pub acl_pubsub_default_all: bool,
    /// `protected-mode`: without a default user password, only loopback
    /// clients are served.
    pub protected_mode: bool,
    pub loglevel: String,
    /// Working directory (`dir`), entered at start-up.
    pub dir: String,
    /// The RDB file's name in `dir` (`dbfilename`).
    pub dbfilename: String,
    /// Who may run DEBUG (`enable-debug-command`, Redis 7's protected
    /// configs): nobody, everybody, or clients over loopback.
    pub enable_debug_command: Access,
    /// The `save` schedule: (seconds, changes) points, Redis's
    /// `saveparams` (see [`crate::persist::Saver::due`]). Empty: no
    /// automatic saves, none at shutdown.
    pub save: Vec<(u64, u64)>,
    /// `rdbcompression`, `rdbchecksum` ([`crate::rdb::COMPRESSION`],
    /// [`crate::rdb::CHECKSUM`]).
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    /// `appendonly`.
    pub appendonly: bool,
    /// `appendfsync` ([`crate::aof::FSYNC_ALWAYS`], ...).
    pub appendfsync: u8,
    pub appenddirname: String,
    pub appendfilename: String,
    pub aof_load_truncated: bool,
    /// `aof-use-rdb-preamble`: an AOF rewrite's base is an RDB file, else commands.
    pub aof_use_rdb_preamble: bool,
    pub auto_aof_rewrite_percentage: u64,
    /// Bytes.
    pub auto_aof_rewrite_min_size: u64,
    /// A `save` line was read at start-up: later ones add points (as
    /// redis-server's config file and `--save a b --save c d`).
    save_seen: bool,
    /// `user <name> <rules>...` lines of the config file, without
    /// `user`, in order ([`crate::acl`] creates them at start-up).
    pub users: Vec<String>,
    pub hz: u64,
    /// `busy-reply-threshold`, ms.
    pub busy_reply_threshold: u64,
    /// `slowlog-log-slower-than`, µs (negative: off).
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`, entries.
    pub slowlog_max_len: u64,
    /// `latency-monitor-threshold`, ms (0: off).
    pub latency_monitor_threshold: u64,
    /// Compact-encoding thresholds of collections.
    pub enc: Encodings,
    /// `maxmemory` and the eviction directives.
    pub maxmemory: crate::engine::evict::Settings,
    explicit_threads: bool,
    /// The config file read at start-up, as an absolute path (INFO
    /// `config_file`, CONFIG REWRITE); None without one, or from stdin.
    pub config_file: Option<String>,
}

/// Machine default thread plan: on 1–2 cores one IO thread and one shard;
/// above that about one IO thread per four cores, the rest shards.
pub fn default_plan(cores: usize) -> (usize, usize) {
    if cores <= 2 {
        (1, 1)
    } else {
        let io = cores.div_ceil(4);
        (io, cores - io)
    }
}

/// Parses a memory size the way redis-server does (`memtoull`): plain
/// bytes, or a number with b, k/kb, m/mb, g/gb (k=1000, kb=1024, ...).
pub fn parse_mem(s: &str) -> Option<u64> {
    let l = s.to_ascii_lowercase();
    let (num, mul) = [
        ("gb", 1u64 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
        ("g", 1_000_000_000),
        ("m", 1_000_000),
        ("k", 1000),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suf, mul)| l.strip_suffix(suf).map(|n| (n.to_string(), *mul)))
    .unwrap_or((l.clone(), 1));
    num.parse::<u64>().ok()?.checked_mul(mul)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn parse_cpus(s: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b || b - a > 4096 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// The line CONFIG REWRITE adds after the original file's lines, once.
const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

/// A memory value as CONFIG REWRITE writes it (Redis's
/// `rewriteConfigFormatMemory`): the largest of gb, mb, kb that divides it.
fn rewrite_mem(n: u64) -> String {
    match n {
        0 => "0".into(),
        n if n % (1 << 30) == 0 => format!("{}gb", n >> 30),
        n if n % (1 << 20) == 0 => format!("{}mb", n >> 20),
        n if n % (1 << 10) == 0 => format!("{}kb", n >> 10),
        n => n.to_string(),
    }
}

/// A string value as CONFIG REWRITE writes it: a plain word bare (as
/// Redis writes enumerations), anything else quoted as Redis's
/// `sdscatrepr` quotes strings.
fn rewrite_quoted(v: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._/:-,".contains(c);
    if !v.is_empty() && v.chars().all(plain) {
        return v.to_string();
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '\\' | '"' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Config {
    /// The lines CONFIG REWRITE writes for directive `d`, and whether they
    /// must be written even where the old file has none (the value is
    /// not the default).
    fn rewrite_lines(&self, d: &Directive, defaults: &Config) -> (Vec<String>, bool) {
        let value = self.get(d.name).unwrap_or_default();
        let force = defaults.get(d.name).unwrap_or_default() != value;
        let lines = match (d.name, &d.kind) {
            // One line per save point; `save ""` for none (Redis's
            // `rewriteConfigSaveOption`, always written).
            ("save", _) if self.save.is_empty() => return (vec!["save \"\"".into()], true),
            ("save", _) => {
                return (
                    self.save
                        .iter()
                        .map(|(s, c)| format!("save {s} {c}"))
                        .collect(),
                    true,
                );
            }
            // One line per client class.
            ("client-output-buffer-limit", _) => self
                .client_obuf
                .iter()
                .zip(OBUF_NAMES)
                .map(|(l, n)| {
                    format!(
                        "client-output-buffer-limit {n} {} {} {}",
                        rewrite_mem(l.hard),
                        rewrite_mem(l.soft),
                        l.soft_secs
                    )
                })
                .collect(),
            ("bind", _) => vec![format!("bind {value}")],
            (_, Kind::Mem) => {
                let n = value.parse().unwrap_or(0);
                vec![format!("{} {}", d.name, rewrite_mem(n))]
            }
            (_, Kind::Str) => vec![format!("{} {}", d.name, rewrite_quoted(&value))],
            _ => vec![format!("{} {value}", d.name)],
        };
        (lines, force)
    }

    /// CONFIG REWRITE (Redis 7.0's `rewriteConfig`): rewrites the config
    /// file read at start-up so it gives the running configuration. Each
    /// directive's lines replace its old lines in place (extra old lines
    /// for it are blanked); a directive with no old line is appended after
    /// a `# Generated by CONFIG REWRITE` line only if it differs from its
    /// default; comments and lines tandem does not rewrite stay. Written
    /// to a temporary file, synced, then renamed over the old one.
    /// `force_all` (DEBUG CONFIG-REWRITE-FORCE-ALL) writes every directive.
    /// `users` are the ACL users as `user <name> <rules>` lines, written in
    /// place of the old ones unless `aclfile` keeps the users (then the
    /// old ones go: Redis's `rewriteConfigUserOption`).
    ///
    /// Errors: `The server is running without a config file`, or
    /// `Rewriting config file: <reason>`.
    pub fn rewrite(&self, force_all: bool, users: &[String]) -> Result<(), String> {
        let path = self
            .config_file
            .as_deref()
            .ok_or("The server is running without a config file")?;
        let fail = |e: std::io::Error| format!("Rewriting config file: {e}");
        let old = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(fail(e)),
        };
        let mut lines: Vec<String> = Vec::new();
        // Old lines of each directive (by its primary name), in order.
        let mut of: std::collections::HashMap<&'static str, std::collections::VecDeque<usize>> =
            Default::default();
        let mut signed = false;
        for line in old.lines() {
            let t = line.trim();
            if t == REWRITE_SIGNATURE {
                signed = true;
            }
            if !t.is_empty() && !t.starts_with('#') {
                let word = t.split_whitespace().next().unwrap_or("");
                if let Some(d) = directive(word) {
                    of.entry(d.name).or_default().push_back(lines.len());
                } else if word.eq_ignore_ascii_case("user") {
                    of.entry("user").or_default().push_back(lines.len());
                }
            }
            lines.push(line.to_string());
        }
        let defaults = Config::default();
        let user_lines = if self.aclfile.is_empty() {
            users.to_vec()
        } else {
            Vec::new()
        };
        let each = DIRECTIVES
            .iter()
            .map(|d| (d.name, self.rewrite_lines(d, &defaults)))
            .chain(std::iter::once(("user", (user_lines, false))));
        for (name, (new, force)) in each {
            let mut olds = of.remove(name).unwrap_or_default();
            if olds.is_empty() && !force && !force_all {
                continue;
            }
            for l in new {
                match olds.pop_front() {
                    Some(i) => lines[i] = l,
                    None => {
                        if !signed {
                            lines.push(REWRITE_SIGNATURE.into());
                            signed = true;
                        }
                        lines.push(l);
                    }
                }
            }
            // Old lines the directive no longer needs (a second `save`).
            for i in olds {
                lines[i].clear();
            }
        }
        // No runs of empty lines (Redis's `rewriteConfigGetContentFromState`).
        let mut text = String::new();
        let mut was_empty = false;
        for l in &lines {
            if l.is_empty() {
                if was_empty {
                    continue;
                }
                was_empty = true;
            } else {
                was_empty = false;
            }
            text.push_str(l);
            text.push('\n');
        }
        let tmp = format!("{path}.tmp-{}", std::process::id());
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })
    }
}

fn fmt_mem(n: u64) -> String {
    n.to_string()
}

/// Redis's older names for the listpack thresholds (ziplist, Redis < 7)
/// and for `busy-reply-threshold`, still accepted by Redis 7 as aliases.
const ALIASES: &[(&str, &str)] = &[
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("lua-time-limit", "busy-reply-threshold"),
];

fn directive(name: &str) -> Option<&'static Directive> {
    let name = ALIASES
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(name))
        .map_or(name, |(_, new)| new);
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Thresholds below which collections keep their compact encoding
/// (Redis's `*-max-listpack-*` / `set-max-intset-entries` directives).
/// Entries are counts; values are bytes. `list_max_listpack_size` is
/// Redis's: N > 0 entries, or -1..-5 for 4, 8, 16, 32, 64 KB of encoding.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Encodings {
    pub list_max_listpack_size: i64,
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    pub set_max_listpack_entries: usize,
    pub set_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    /// `hll-sparse-max-bytes`: the longest sparse HyperLogLog value (bytes).
    pub hll_sparse_max_bytes: usize,
    /// `stream-node-max-bytes`: listpack bytes of a stream node (0 = none).
    pub stream_node_max_bytes: usize,
    /// `stream-node-max-entries`: entries of a stream node (0 = none).
    pub stream_node_max_entries: i64,
}

impl Default for Encodings {
    fn default() -> Self {
        Encodings {
            list_max_listpack_size: -2,
            // Redis 7.0's compiled-in default (not 128 like the zset one).
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            set_max_listpack_entries: 128,
            set_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            stream_node_max_bytes: 4096,
            stream_node_max_entries: 100,
        }
    }
}

impl Encodings {
    /// Whether a compact list of `entries` elements and `bytes` of
    /// encoding is within `list-max-listpack-size`.
    pub fn list_fits(&self, entries: usize, bytes: usize) -> bool {
        match self.list_max_listpack_size {
            n if n > 0 => entries <= n as usize,
            n => bytes <= 4096usize << ((-n).clamp(1, 5) - 1),
        }
    }
}

/// The settings shard engines read while running, updated in place by
/// CONFIG SET (relaxed atomics: a shard sees a change from its next
/// command or loop turn on).
/// One client class's output limits (`client-output-buffer-limit`;
/// Redis's `clientBufferLimitsConfig`): bytes, bytes, seconds; 0 is no
/// limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObufLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: u64,
}

/// The client classes `client-output-buffer-limit` names, as indices of
/// [`Config::client_obuf`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObufClass {
    Normal = 0,
    Replica = 1,
    Pubsub = 2,
}

const OBUF_NAMES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Parses `<class> <hard> <soft> <soft-seconds>` groups into `limits`,
/// all or nothing (Redis's `updateClientOutputBufferLimit`, with its
/// error texts).
fn parse_obuf(value: &str, limits: &mut [ObufLimit; 3]) -> Result<(), String> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if words.len() % 4 != 0 {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut next = *limits;
    for g in words.chunks(4) {
        let class = match g[0].to_ascii_lowercase().as_str() {
            "normal" => ObufClass::Normal,
            "slave" | "replica" => ObufClass::Replica,
            "pubsub" => ObufClass::Pubsub,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into());
            }
        };
        let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        let hard = parse_mem(g[1]).ok_or_else(bad)?;
        let soft = parse_mem(g[2]).ok_or_else(bad)?;
        let soft_secs: u64 = g[3].parse().map_err(|_| bad())?;
        next[class as usize] = ObufLimit {
            hard,
            soft,
            soft_secs,
        };
    }
    *limits = next;
    Ok(())
}

/// Who may run a protected command (Redis 7's `enable-debug-command`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    No,
    Yes,
    /// Clients connected over loopback.
    Local,
}

#[derive(Debug)]
pub struct Tunables {
    proto_max_bulk_len: AtomicU64,
    client_output_limit: AtomicU64,
    spin_us: AtomicU64,
    hz: AtomicU64,
    busy_reply_threshold: AtomicU64,
    notify_keyspace_events: std::sync::atomic::AtomicU32,
    enc: [AtomicI64; 11],
    /// Bumped by CONFIG RESETSTAT: shards start their counters over.
    stats_epoch: AtomicU64,
    /// `dbfilename`, for the shards' part of DEBUG RELOAD NOSAVE.
    dbfilename: std::sync::Mutex<String>,
    /// Background expiry on (DEBUG SET-ACTIVE-EXPIRE; not a directive).
    active_expire: std::sync::atomic::AtomicBool,
    /// `maxmemory`, then the policy's index, `maxmemory-samples`,
    /// `maxmemory-eviction-tenacity`, `lfu-log-factor`, `lfu-decay-time`.
    eviction: [AtomicU64; 6],
}

impl Tunables {
    pub fn new(c: &Config) -> Tunables {
        let t = Tunables {
            proto_max_bulk_len: AtomicU64::new(0),
            client_output_limit: AtomicU64::new(0),
            spin_us: AtomicU64::new(0),
            hz: AtomicU64::new(10),
            busy_reply_threshold: AtomicU64::new(5000),
            notify_keyspace_events: Default::default(),
            enc: Default::default(),
            stats_epoch: AtomicU64::new(0),
            dbfilename: Default::default(),
            active_expire: std::sync::atomic::AtomicBool::new(true),
            eviction: Default::default(),
        };
        t.store(c);
        t
    }

    /// Publishes `c`'s run-time settings.
    pub fn store(&self, c: &Config) {
        self.proto_max_bulk_len
            .store(c.proto_max_bulk_len, Ordering::Relaxed);
        self.client_output_limit
            .store(c.client_output_limit, Ordering::Relaxed);
        self.spin_us.store(c.spin_us, Ordering::Relaxed);
        self.hz.store(c.hz, Ordering::Relaxed);
        self.busy_reply_threshold
            .store(c.busy_reply_threshold, Ordering::Relaxed);
        self.notify_keyspace_events
            .store(c.notify_keyspace_events, Ordering::Relaxed);
        c.dbfilename
            .clone_into(&mut self.dbfilename.lock().unwrap_or_else(|e| e.into_inner()));
        let m = &c.maxmemory;
        let v = [
            m.limit,
            m.policy.index(),
            m.samples as u64,
            m.tenacity as u64,
            m.lfu_log_factor as u64,
            m.lfu_decay_time as u64,
        ];
        if self.eviction() != *m {
            for (a, v) in self.eviction.iter().zip(v) {
                a.store(v, Ordering::Relaxed);
            }
            // A new limit or policy: judged afresh at once where it needs
            // no shard (memory over the limit with nothing to be evicted,
            // as Redis's CONFIG SET finds at once), else by the shards at
            // their next command or tick.
            use crate::engine::evict::Policy;
            crate::alloc::set_out_of_memory(
                m.limit != 0
                    && m.policy == Policy::NoEviction
                    && crate::alloc::allocated() > m.limit,
            );
        }
        // The RDB writer's switches live beside its code (`crate::rdb`).
        crate::rdb::configure(c.rdbcompression, c.rdbchecksum);
        let e = &c.enc;
        let v = [
            e.list_max_listpack_size,
            e.hash_max_listpack_entries as i64,
            e.hash_max_listpack_value as i64,
            e.set_max_intset_entries as i64,
            e.set_max_listpack_entries as i64,
            e.set_max_listpack_value as i64,
            e.zset_max_listpack_entries as i64,
            e.zset_max_listpack_value as i64,
            e.hll_sparse_max_bytes as i64,
            e.stream_node_max_bytes as i64,
            e.stream_node_max_entries,
        ];
        for (a, v) in self.enc.iter().zip(v) {
            a.store(v, Ordering::Relaxed);
        }
    }

    /// Whether shards expire keys in the background (Redis's
    /// `active_expire_enabled`, set by DEBUG SET-ACTIVE-EXPIRE).
    pub fn active_expire(&self) -> bool {
        self.active_expire.load(Ordering::Relaxed)
    }

    pub fn set_active_expire(&self, on: bool) {
        self.active_expire.store(on, Ordering::Relaxed);
    }

    /// `maxmemory` and the eviction directives.
    #[inline]
    pub fn eviction(&self) -> crate::engine::evict::Settings {
        use crate::engine::evict::{Policy, Settings};
        let g = |i: usize| self.eviction[i].load(Ordering::Relaxed);
        Settings {
            limit: g(0),
            policy: Policy::ALL.get(g(1) as usize).copied().unwrap_or_default(),
            samples: g(2) as u32,
            tenacity: g(3) as u32,
            lfu_log_factor: g(4) as u32,
            lfu_decay_time: g(5) as u32,
        }
    }

    /// `proto-max-bulk-len` in bytes.
    #[inline]
    pub fn proto_max_bulk_len(&self) -> u64 {
        self.proto_max_bulk_len.load(Ordering::Relaxed)
    }

    /// The most bytes one reply may take (`client-output-limit`; a client
    /// whose unsent output passes it is disconnected anyway), so commands
    /// whose reply size a client chooses (SRANDMEMBER with a negative
    /// count, ...) stop building there. 0 (no limit) gives
    /// [`REPLY_HARD_LIMIT`].
    #[inline]
    pub fn reply_limit(&self) -> u64 {
        match self.client_output_limit.load(Ordering::Relaxed) {
            0 => REPLY_HARD_LIMIT,
            n => n.min(REPLY_HARD_LIMIT),
        }
    }

    /// `spin-us`: how long a stage spins for work before parking, µs.
    #[inline]
    pub fn spin_us(&self) -> u64 {
        self.spin_us.load(Ordering::Relaxed)
    }

    /// The CONFIG RESETSTAT generation.
    #[inline]
    pub fn stats_epoch(&self) -> u64 {
        self.stats_epoch.load(Ordering::Relaxed)
    }

    /// CONFIG RESETSTAT: asks every shard to start its counters over.
    pub fn reset_stats(&self) {
        self.stats_epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// `hz`: active-expiry ticks per second when idle.
    #[inline]
    pub fn hz(&self) -> u64 {
        self.hz.load(Ordering::Relaxed).max(1)
    }

    /// `busy-reply-threshold`: how long a script runs before other
    /// clients get `-BUSY`, ms.
    #[inline]
    pub fn busy_reply_threshold(&self) -> u64 {
        self.busy_reply_threshold.load(Ordering::Relaxed)
    }

    /// `notify-keyspace-events` as flag bits ([`crate::pubsub::notify`]).
    #[inline]
    pub fn notify_keyspace_events(&self) -> u32 {
        self.notify_keyspace_events.load(Ordering::Relaxed)
    }

    /// `dbfilename`: the RDB file's name in the working directory.
    pub fn dbfilename(&self) -> String {
        self.dbfilename
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn encodings(&self) -> Encodings {
        let g = |i: usize| self.enc[i].load(Ordering::Relaxed);
        Encodings {
            list_max_listpack_size: g(0),
            hash_max_listpack_entries: g(1) as usize,
            hash_max_listpack_value: g(2) as usize,
            set_max_intset_entries: g(3) as usize,
            set_max_listpack_entries: g(4) as usize,
            set_max_listpack_value: g(5) as usize,
            zset_max_listpack_entries: g(6) as usize,
            zset_max_listpack_value: g(7) as usize,
            hll_sparse_max_bytes: g(8) as usize,
            stream_node_max_bytes: g(9) as usize,
            stream_node_max_entries: g(10),
        }
    }
}

/// The largest single reply a command builds even with no
/// `client-output-limit` (bytes): 4 GiB.
pub const REPLY_HARD_LIMIT: u64 = 4 << 30;

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let (io, shards) = default_plan(cores);
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".into()],
            io_threads: io,
            shards,
            cpus: Vec::new(),
            pin: true,
            disable_thp: true,
            colocated: false,
            latency_tracking: true,
            latency_sample_every: 1024,
            spin_us: 20,
            maxclients: 10000,
            timeout: 0,
            databases: 16,
            proto_max_bulk_len: 512 << 20,
            client_query_buffer_limit: 1 << 30,
            client_output_limit: 256 << 20,
            client_obuf: [
                ObufLimit::default(),
                ObufLimit {
                    hard: 256 << 20,
                    soft: 64 << 20,
                    soft_secs: 60,
                },
                ObufLimit {
                    hard: 32 << 20,
                    soft: 8 << 20,
                    soft_secs: 60,
                },
            ],
            notify_keyspace_events: 0,
            requirepass: String::new(),
            aclfile: String::new(),
            acllog_max_len: 128,
            acl_pubsub_default_all: false,
            protected_mode: true,
            loglevel: "notice".into(),
            dir: ".".into(),
            dbfilename: "dump.rdb".into(),
            enable_debug_command: Access::No,
            rdbcompression: true,
            rdbchecksum: true,
            appendonly: false,
            appendfsync: crate::aof::FSYNC_EVERYSEC,
            appenddirname: "appendonlydir".into(),
            appendfilename: "appendonly.aof".into(),
            aof_load_truncated: true,
            aof_use_rdb_preamble: true,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 << 20,
            hz: 10,
            busy_reply_threshold: 5000,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            enc: Encodings::default(),
            maxmemory: crate::engine::evict::Settings::default(),
            explicit_threads: false,
            config_file: None,
            save: vec![(3600, 1), (300, 100), (60, 10000)],
            save_seen: false,
            users: Vec::new(),
        }
    }
}

impl Config {
    /// Requests timed per IO thread: one in this many, 0 when
    /// `latency-tracking` is off.
    pub fn sample_every(&self) -> u64 {
        if self.latency_tracking {
            self.latency_sample_every
        } else {
            0
        }
    }

    /// Builds the configuration from redis-server style arguments (program
    /// name excluded): an optional config file path first, then
    /// `--directive value...` pairs that override it.
    ///
    /// Errors: a text naming the directive and the problem, in the shape of
    /// redis-server's `FATAL CONFIG FILE ERROR`.
    pub fn from_args(args: &[String]) -> Result<Config, String> {
        let mut c = Config::default();
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                let text = if first == "-" {
                    let mut s = String::new();
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                        .map_err(|e| e.to_string())?;
                    s
                } else {
                    let text = std::fs::read_to_string(first).map_err(|e| {
                        format!("Fatal error, can't open config file '{first}': {e}")
                    })?;
                    // Absolute: `dir` changes the working directory.
                    c.config_file = std::fs::canonicalize(first)
                        .ok()
                        .map(|p| p.display().to_string());
                    text
                };
                c.load_text(&text)?;
                rest = &args[1..];
            }
        }
        // `--name v1 v2 --other v` → lines "name v1 v2", like redis-server.
        let mut lines: Vec<Vec<String>> = Vec::new();
        for a in rest {
            if let Some(name) = a.strip_prefix("--") {
                lines.push(vec![name.to_string()]);
            } else if let Some(line) = lines.last_mut() {
                line.push(a.clone());
            } else {
                return Err(fatal(a, "Invalid argument: options must start with --"));
            }
        }
        for line in lines {
            let shown = line.join(" ");
            let name = &line[0];
            let value = line[1..].join(" ");
            c.set_at_startup(name, &value)
                .map_err(|e| fatal(&shown, &e))?;
        }
        c.finish()?;
        Ok(c)
    }

    /// Applies a config file's text (one `directive args...` per line,
    /// `#` comments).
    pub fn load_text(&mut self, text: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let (name, value) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
            let value = value.trim().trim_matches('"');
            self.set_at_startup(name, value).map_err(|e| {
                format!(
                    "{}\nReading the configuration file, at line {}",
                    fatal(t, &e),
                    n + 1
                )
            })?;
        }
        Ok(())
    }

    fn set_at_startup(&mut self, name: &str, value: &str) -> Result<(), String> {
        if name.eq_ignore_ascii_case("io-threads") || name.eq_ignore_ascii_case("shards") {
            self.explicit_threads = true;
        }
        if name.eq_ignore_ascii_case("user") {
            // ACL users, created once the server is up (not a CONFIG GET
            // parameter, as in Redis).
            self.users.push(value.to_string());
            return Ok(());
        }
        if name.eq_ignore_ascii_case("save") && self.save_seen && !value.is_empty() {
            let mut more = parse_save_points(value)?;
            self.save.append(&mut more);
            return Ok(());
        }
        if name.eq_ignore_ascii_case("save") {
            self.save_seen = true;
        }
        self.apply(name, value)
    }

    fn finish(&mut self) -> Result<(), String> {
        if self.colocated {
            if self.explicit_threads && (self.io_threads != 1 || self.shards != 1) {
                return Err(fatal(
                    "colocated yes",
                    "colocated mode runs one thread: 'io-threads' and 'shards' must be 1",
                ));
            }
            self.io_threads = 1;
            self.shards = 1;
        }
        Ok(())
    }

    /// Sets a directive from its text form, validating it.
    ///
    /// Errors: `Bad directive or wrong number of arguments` for an unknown
    /// name, or the reason a value is invalid.
    fn apply(&mut self, name: &str, value: &str) -> Result<(), String> {
        let d = directive(name)
            .ok_or_else(|| "Bad directive or wrong number of arguments".to_string())?;
        let int = |lo: i64, hi: i64| -> Result<i64, String> {
            let n: i64 = value
                .parse()
                .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
            if n < lo || n > hi {
                return Err(format!("argument must be between {lo} and {hi} inclusive"));
            }
            Ok(n)
        };
        let mem = || parse_mem(value).ok_or_else(|| "argument must be a memory value".to_string());
        let boolean =
            || parse_bool(value).ok_or_else(|| "argument must be 'yes' or 'no'".to_string());
        match d.kind {
            Kind::Int(lo, hi) => {
                let n = int(lo, hi)?;
                match d.name {
                    "port" => self.port = n as u16,
                    "io-threads" => self.io_threads = n as usize,
                    "shards" => self.shards = n as usize,
                    "spin-us" => self.spin_us = n as u64,
                    "latency-sample-every" => self.latency_sample_every = n as u64,
                    "maxclients" => self.maxclients = n as usize,
                    "timeout" => self.timeout = n as u64,
                    "databases" => self.databases = n as usize,
                    "hz" => self.hz = n as u64,
                    "busy-reply-threshold" => self.busy_reply_threshold = n as u64,
                    "slowlog-log-slower-than" => self.slowlog_log_slower_than = n,
                    "slowlog-max-len" => self.slowlog_max_len = n as u64,
                    "latency-monitor-threshold" => self.latency_monitor_threshold = n as u64,
                    "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage = n as u64,
                    "list-max-listpack-size" => self.enc.list_max_listpack_size = n,
                    "hash-max-listpack-entries" => self.enc.hash_max_listpack_entries = n as usize,
                    "hash-max-listpack-value" => self.enc.hash_max_listpack_value = n as usize,
                    "set-max-intset-entries" => self.enc.set_max_intset_entries = n as usize,
                    "set-max-listpack-entries" => self.enc.set_max_listpack_entries = n as usize,
                    "set-max-listpack-value" => self.enc.set_max_listpack_value = n as usize,
                    "zset-max-listpack-entries" => self.enc.zset_max_listpack_entries = n as usize,
                    "zset-max-listpack-value" => self.enc.zset_max_listpack_value = n as usize,
                    "stream-node-max-entries" => self.enc.stream_node_max_entries = n,
                    "maxmemory-samples" => self.maxmemory.samples = n as u32,
                    "acllog-max-len" => self.acllog_max_len = n as u64,
                    "maxmemory-eviction-tenacity" => self.maxmemory.tenacity = n as u32,
                    "lfu-log-factor" => self.maxmemory.lfu_log_factor = n as u32,
                    "lfu-decay-time" => self.maxmemory.lfu_decay_time = n as u32,
                    _ => unreachable!("int directive {}", d.name),
                }
            }
            Kind::Mem => {
                let n = mem()?;
                match d.name {
                    "proto-max-bulk-len" => {
                        if n < 1024 * 1024 {
                            return Err("argument must be a memory value of at least 1mb".into());
                        }
                        self.proto_max_bulk_len = n
                    }
                    "client-query-buffer-limit" => {
                        if n < 1024 * 1024 {
                            return Err("argument must be a memory value of at least 1mb".into());
                        }
                        self.client_query_buffer_limit = n
                    }
                    "client-output-limit" => self.client_output_limit = n,
                    "maxmemory" => self.maxmemory.limit = n,
                    "auto-aof-rewrite-min-size" => self.auto_aof_rewrite_min_size = n,
                    "hll-sparse-max-bytes" => {
                        self.enc.hll_sparse_max_bytes = n.min(i64::MAX as u64) as usize
                    }
                    "stream-node-max-bytes" => {
                        self.enc.stream_node_max_bytes = n.min(i64::MAX as u64) as usize
                    }
                    _ => unreachable!("mem directive {}", d.name),
                }
            }
            Kind::Bool => {
                let b = boolean()?;
                match d.name {
                    "colocated" => self.colocated = b,
                    "pin" => self.pin = b,
                    "disable-thp" => self.disable_thp = b,
                    "latency-tracking" => self.latency_tracking = b,
                    "appendonly" => self.appendonly = b,
                    "rdbcompression" => self.rdbcompression = b,
                    "rdbchecksum" => self.rdbchecksum = b,
                    "aof-load-truncated" => self.aof_load_truncated = b,
                    "aof-use-rdb-preamble" => self.aof_use_rdb_preamble = b,
                    "protected-mode" => self.protected_mode = b,
                    _ => unreachable!("bool directive {}", d.name),
                }
            }
            Kind::Str => match d.name {
                "bind" => {
                    let addrs: Vec<String> = value.split_whitespace().map(String::from).collect();
                    if addrs.is_empty() {
                        return Err("wrong number of arguments".into());
                    }
                    for a in &addrs {
                        let a = a.trim_start_matches('-');
                        if a != "*" && a.parse::<std::net::IpAddr>().is_err() && a != "localhost" {
                            return Err(format!("Invalid bind address '{a}'"));
                        }
                    }
                    self.bind = addrs;
                }
                "requirepass" => self.requirepass = value.to_string(),
                "aclfile" => self.aclfile = value.to_string(),
                "acl-pubsub-default" => {
                    self.acl_pubsub_default_all = match value.to_ascii_lowercase().as_str() {
                        "allchannels" => true,
                        "resetchannels" => false,
                        _ => {
                            return Err("argument(s) must be one of the following: allchannels, resetchannels".into());
                        }
                    }
                }
                "maxmemory-policy" => {
                    self.maxmemory.policy = crate::engine::evict::Policy::parse(value)
                        .ok_or_else(crate::engine::evict::Policy::choices)?
                }
                "client-output-buffer-limit" => parse_obuf(value, &mut self.client_obuf)?,
                "notify-keyspace-events" => {
                    self.notify_keyspace_events = crate::pubsub::notify::parse(value)
                        .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?
                }
                "save" => self.save = parse_save_points(value)?,
                "appendfsync" => {
                    self.appendfsync = crate::aof::fsync_policy(value)
                        .ok_or("argument(s) must be one of the following: always, everysec, no")?
                }
                "appenddirname" | "appendfilename" => {
                    // Redis: a plain name, the files live in `dir`.
                    if value.is_empty() || value.contains('/') || value == "." || value == ".." {
                        return Err(format!("{} can't be a path, just a name", d.name));
                    }
                    if d.name == "appenddirname" {
                        self.appenddirname = value.to_string()
                    } else {
                        self.appendfilename = value.to_string()
                    }
                }
                "dbfilename" => {
                    // Redis refuses a path here (`isValidAuxString` aside):
                    // the file lives in `dir`.
                    if value.is_empty() || value.contains('/') {
                        return Err("dbfilename can't be a path, just a filename".into());
                    }
                    self.dbfilename = value.to_string()
                }
                "enable-debug-command" => {
                    self.enable_debug_command = match value.to_ascii_lowercase().as_str() {
                        "no" => Access::No,
                        "yes" => Access::Yes,
                        "local" => Access::Local,
                        _ => {
                            return Err(
                                "argument(s) must be one of the following: no, yes, local".into()
                            );
                        }
                    }
                }
                "dir" => {
                    if !std::path::Path::new(value).is_dir() {
                        return Err(format!("No such directory: '{value}'"));
                    }
                    self.dir = value.to_string()
                }
                "loglevel" => {
                    if !["debug", "verbose", "notice", "warning", "nothing"].contains(&value) {
                        return Err("argument(s) must be one of the following: debug, verbose, notice, warning, nothing".into());
                    }
                    self.loglevel = value.to_string()
                }
                _ => unreachable!("str directive {}", d.name),
            },
            Kind::Cpus => {
                self.cpus = parse_cpus(value)
                    .ok_or_else(|| format!("Invalid core list '{value}' (expected e.g. 0-3,6)"))?;
            }
        }
        Ok(())
    }

    /// The text value of a directive, as CONFIG GET shows it.
    pub fn get(&self, name: &str) -> Option<String> {
        let d = directive(name)?;
        Some(match d.name {
            "port" => self.port.to_string(),
            "bind" => self.bind.join(" "),
            "io-threads" => self.io_threads.to_string(),
            "shards" => self.shards.to_string(),
            "cpus" => self
                .cpus
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(","),
            "colocated" => if self.colocated { "yes" } else { "no" }.into(),
            "pin" => if self.pin { "yes" } else { "no" }.into(),
            "disable-thp" => if self.disable_thp { "yes" } else { "no" }.into(),
            "spin-us" => self.spin_us.to_string(),
            "latency-tracking" => if self.latency_tracking { "yes" } else { "no" }.into(),
            "latency-sample-every" => self.latency_sample_every.to_string(),
            "maxclients" => self.maxclients.to_string(),
            "timeout" => self.timeout.to_string(),
            "databases" => self.databases.to_string(),
            "proto-max-bulk-len" => fmt_mem(self.proto_max_bulk_len),
            "client-query-buffer-limit" => fmt_mem(self.client_query_buffer_limit),
            "client-output-limit" => fmt_mem(self.client_output_limit),
            "requirepass" => self.requirepass.clone(),
            "aclfile" => self.aclfile.clone(),
            "acllog-max-len" => self.acllog_max_len.to_string(),
            "acl-pubsub-default" => if self.acl_pubsub_default_all {
                "allchannels"
            } else {
                "resetchannels"
            }
            .to_string(),
            "client-output-buffer-limit" => self
                .client_obuf
                .iter()
                .zip(OBUF_NAMES)
                .map(|(l, n)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_secs))
                .collect::<Vec<_>>()
                .join(" "),
            "notify-keyspace-events" => crate::pubsub::notify::format(self.notify_keyspace_events),
            "loglevel" => self.loglevel.clone(),
            "dir" => self.dir.clone(),
            "dbfilename" => self.dbfilename.clone(),
            "enable-debug-command" => match self.enable_debug_command {
                Access::No => "no",
                Access::Yes => "yes",
                Access::Local => "local",
            }
            .into(),
            "appendonly" => if self.appendonly { "yes" } else { "no" }.into(),
            "rdbcompression" => if self.rdbcompression { "yes" } else { "no" }.into(),
            "rdbchecksum" => if self.rdbchecksum { "yes" } else { "no" }.into(),
            "appendfsync" => ["always", "everysec", "no"][self.appendfsync.min(2) as usize].into(),
            "appenddirname" => self.appenddirname.clone(),
            "appendfilename" => self.appendfilename.clone(),
            "aof-load-truncated" => if self.aof_load_truncated { "yes" } else { "no" }.into(),
            "protected-mode" => if self.protected_mode { "yes" } else { "no" }.into(),
            "aof-use-rdb-preamble" => if self.aof_use_rdb_preamble {
                "yes"
            } else {
                "no"
            }
            .into(),
            "auto-aof-rewrite-percentage" => self.auto_aof_rewrite_percentage.to_string(),
            "auto-aof-rewrite-min-size" => fmt_mem(self.auto_aof_rewrite_min_size),
            "save" => self
                .save
                .iter()
                .map(|(s, c)| format!("{s} {c}"))
                .collect::<Vec<_>>()
                .join(" "),
            "hz" => self.hz.to_string(),
            "busy-reply-threshold" => self.busy_reply_threshold.to_string(),
            "slowlog-log-slower-than" => self.slowlog_log_slower_than.to_string(),
            "slowlog-max-len" => self.slowlog_max_len.to_string(),
            "latency-monitor-threshold" => self.latency_monitor_threshold.to_string(),
            "list-max-listpack-size" => self.enc.list_max_listpack_size.to_string(),
            "hash-max-listpack-entries" => self.enc.hash_max_listpack_entries.to_string(),
            "hash-max-listpack-value" => self.enc.hash_max_listpack_value.to_string(),
            "set-max-intset-entries" => self.enc.set_max_intset_entries.to_string(),
            "hll-sparse-max-bytes" => fmt_mem(self.enc.hll_sparse_max_bytes as u64),
            "stream-node-max-bytes" => fmt_mem(self.enc.stream_node_max_bytes as u64),
            "stream-node-max-entries" => self.enc.stream_node_max_entries.to_string(),
            "set-max-listpack-entries" => self.enc.set_max_listpack_entries.to_string(),
            "set-max-listpack-value" => self.enc.set_max_listpack_value.to_string(),
            "zset-max-listpack-entries" => self.enc.zset_max_listpack_entries.to_string(),
            "zset-max-listpack-value" => self.enc.zset_max_listpack_value.to_string(),
            "maxmemory" => fmt_mem(self.maxmemory.limit),
            "maxmemory-policy" => self.maxmemory.policy.name().into(),
            "maxmemory-samples" => self.maxmemory.samples.to_string(),
            "maxmemory-eviction-tenacity" => self.maxmemory.tenacity.to_string(),
            "lfu-log-factor" => self.maxmemory.lfu_log_factor.to_string(),
            "lfu-decay-time" => self.maxmemory.lfu_decay_time.to_string(),
            // Every directive has an arm above (the directive tests read
            // each one back); never abort on a table slip.
            _ => String::new(),
        })
    }

    /// CONFIG GET of one pattern, as Redis 7.0 answers it (`config.c`,
    /// `configGetCommand`): a name without glob characters is looked up
    /// (an old alias too) and reported under the name as asked; a glob
    /// is matched against every name and alias, each reported under the
    /// name that matched.
    pub fn get_matching(&self, pattern: &[u8]) -> Vec<(String, String)> {
        if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
            let name = String::from_utf8_lossy(pattern).into_owned();
            return match self.get(&name) {
                Some(v) => vec![(name, v)],
                None => Vec::new(),
            };
        }
        let names = DIRECTIVES
            .iter()
            .map(|d| d.name)
            .chain(ALIASES.iter().map(|(old, _)| *old));
        names
            .filter(|n| crate::glob::matches(pattern, n.as_bytes(), true))
            .filter_map(|n| Some((n.to_string(), self.get(n)?)))
            .collect()
    }

    /// CONFIG SET one directive at run time.
    ///
    /// Errors (Redis 7 texts, without `-ERR `):
    /// `Unknown option or number of arguments for CONFIG SET - '<name>'`,
    /// `CONFIG SET failed (possibly related to argument '<name>') - can't set immutable config`,
    /// `CONFIG SET failed (possibly related to argument '<name>') - <reason>`.
    pub fn set_runtime(&mut self, name: &str, value: &str) -> Result<(), String> {
        let Some(d) = directive(name) else {
            return Err(format!(
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        };
        if !d.mutable {
            // Redis 7 protects the file locations from CONFIG SET.
            let what = if matches!(d.name, "dir" | "dbfilename") {
                "protected"
            } else {
                "immutable"
            };
            return Err(format!(
                "CONFIG SET failed (possibly related to argument '{}') - can't set {what} config",
                d.name
            ));
        }
        self.apply(d.name, value).map_err(|e| {
            format!(
                "CONFIG SET failed (possibly related to argument '{}') - {e}",
                d.name
            )
        })
    }

    /// The `--help` text: usage and every directive with its default.
    pub fn help() -> String {
        let mut s = String::from(
            "Usage: tandem [/path/to/tandem.conf] [--directive value ...]\n       tandem --help | --version\n\nDirectives (Redis names where Redis has one):\n",
        );
        for d in DIRECTIVES {
            let def = if d.default.is_empty() {
                "\"\""
            } else {
                d.default
            };
            let _ = writeln!(s, "  --{:<27} {} (default: {def})", d.name, d.help);
        }
        s.push_str("\nExamples:\n  tandem --port 7000 --shards 2\n  tandem /etc/tandem.conf --loglevel verbose\n");
        s
    }
}

/// The `save` directive's value: `""` (no points) or `<seconds> <changes>`
/// pairs of non-negative integers. Error: `Invalid save parameters`
/// (Redis's text).
fn parse_save_points(value: &str) -> Result<Vec<(u64, u64)>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let n: Vec<Option<u64>> = value.split_whitespace().map(|w| w.parse().ok()).collect();
    if n.is_empty() || n.len() % 2 != 0 || n.iter().any(Option::is_none) {
        return Err("Invalid save parameters".into());
    }
    let n: Vec<u64> = n.into_iter().flatten().collect();
    Ok(n.chunks(2).map(|p| (p[0], p[1])).collect())
}

fn fatal(line: &str, reason: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (tandem {}) ***\n>>> '{line}'\n{reason}",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_and_rejects() {
        let c = Config::from_args(&args(
            "--port 7000 --shards 2 --io-threads 1 --proto-max-bulk-len 2mb --cpus 0-1,3",
        ))
        .unwrap();
        assert_eq!((c.port, c.shards, c.io_threads), (7000, 2, 1));
        assert_eq!(c.proto_max_bulk_len, 2 << 20);
        assert_eq!(c.cpus, vec![0, 1, 3]);
        assert!(
            Config::from_args(&args("--port abc"))
                .unwrap_err()
                .contains("'port abc'")
        );
        assert!(
            Config::from_args(&args("--nosuch 1"))
                .unwrap_err()
                .contains("Bad directive")
        );
        assert!(
            Config::from_args(&args("--port 70000"))
                .unwrap_err()
                .contains("between")
        );
        assert!(Config::from_args(&args("--colocated yes --shards 2")).is_err());
        let c = Config::from_args(&args("--colocated yes")).unwrap();
        assert_eq!((c.io_threads, c.shards), (1, 1));
    }

    #[test]
    fn runtime_set_and_get() {
        let mut c = Config::default();
        assert!(c.set_runtime("timeout", "5").is_ok());
        assert_eq!(c.get("timeout").unwrap(), "5");
        assert!(
            c.set_runtime("port", "1")
                .unwrap_err()
                .contains("immutable")
        );
        assert!(
            c.set_runtime("foo", "1")
                .unwrap_err()
                .contains("Unknown option")
        );
        assert_eq!(c.get_matching(b"client-*").len(), 3);
        assert_eq!(parse_mem("1gb"), Some(1 << 30));
        assert_eq!(parse_mem("100k"), Some(100_000));
        assert_eq!(default_plan(2), (1, 1));
        assert_eq!(default_plan(8), (2, 6));
    }
}
