//! Differential tester: random command sequences run on redis-server
//! (7.0.15, the reference) and on tandem, replies compared (see
//! [`check`] for how) and divergences shrunk to a minimal sequence.
//!
//! - [`generate`]: the seeded case generator (what is and is not generated).
//! - [`check`]: the comparison rules (exact, multiset, property, ...).
//! - [`resp`]: raw RESP over TCP, no client library.
//!
//! Layouts: every case runs against tandem split (`--shards 3`, 1 IO
//! thread) and colocated (`--colocated yes`), each time with the same
//! redis-server reference, both flushed (FLUSHALL) before the case. On a
//! divergence the sequence is shrunk by delta debugging (drop chunks, then
//! single commands, while the same command still diverges) and printed as
//! redis-cli lines with both replies. A tandem process that dies is a crash
//! (release builds abort on panic) and is reported first.
//!
//! Environment (all optional):
//! - `TANDEM_DIFF_SEED`: base seed (case `i` uses seed + i); default 1, or
//!   a time-based one when `TANDEM_DIFF_SECS` is set without a seed.
//! - `TANDEM_DIFF_CASES`: number of cases (default 20).
//! - `TANDEM_DIFF_SECS`: run cases for this many seconds instead.
//! - `TANDEM_DIFF_LEN`: commands per case, about (default 200).
//! - `TANDEM_DIFF_LAYOUT`: `split` or `colocated` to run only one.
//! - `TANDEM_DIFF_SKIP`: comma-separated command names not to generate
//!   (to look past a known divergence).
//! - `TANDEM_DIFF_SHRINK_SECS`: time budget to shrink one divergence
//!   (default 60).

pub mod check;
pub mod generate;
pub mod resp;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::{Redis, Server};
use generate::{Case, Cmd, Gen};
use resp::{Conn, Reply, cli_line, esc};

/// A tandem layout under test.
pub struct Layout {
    pub name: &'static str,
    pub args: &'static [&'static str],
    pub server: Server,
}

impl Layout {
    fn start(name: &'static str, args: &'static [&'static str]) -> Layout {
        Layout {
            name,
            args,
            server: Server::start(args),
        }
    }

    fn alive(&mut self) -> bool {
        matches!(self.server.child.try_wait(), Ok(None))
    }

    fn restart(&mut self) {
        self.server = Server::start(self.args);
    }
}

/// Both servers convert hashes past 128 entries (the default is 512): the
/// generator's bulk HSETs cross 128, so the conversion is exercised.
const HASH_ENTRIES: [&str; 2] = ["--hash-max-listpack-entries", "128"];

pub const LAYOUTS: &[(&str, &[&str])] = &[
    (
        "split",
        &["--shards", "3", HASH_ENTRIES[0], HASH_ENTRIES[1]],
    ),
    (
        "colocated",
        &["--colocated", "yes", HASH_ENTRIES[0], HASH_ENTRIES[1]],
    ),
];

/// How a run of a case ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    Pass,
    /// Command `at` got different replies.
    Diverged {
        at: usize,
        r: Reply,
        t: Reply,
        note: String,
    },
    /// tandem died (or stopped answering) at command `at`.
    Crash {
        at: usize,
        note: String,
    },
}

impl Outcome {
    /// The command index it failed at, if it failed.
    fn at(&self) -> Option<usize> {
        match self {
            Outcome::Pass => None,
            Outcome::Diverged { at, .. } | Outcome::Crash { at, .. } => Some(*at),
        }
    }
}

/// Runs `cmds` on the reference and on `layout`, comparing every reply.
pub fn run(redis: &Redis, layout: &mut Layout, resp3: bool, cmds: &[Cmd]) -> Outcome {
    if !layout.alive() {
        layout.restart();
    }
    let mut rc = Conn::connect(redis.port).expect("connect to redis-server");
    let mut tc = match Conn::connect(layout.server.port) {
        Ok(c) => c,
        Err(e) => {
            return Outcome::Crash {
                at: 0,
                note: format!("connect: {e}"),
            };
        }
    };
    let mut prep: Vec<Cmd> = vec![vec![b"FLUSHALL".to_vec()]];
    if resp3 {
        prep.push(vec![b"HELLO".to_vec(), b"3".to_vec()]);
    }
    for c in &prep {
        let r = rc.call(c).expect("redis-server setup");
        assert!(
            !r.v.is_error(),
            "redis-server {}: {}",
            cli_line(c),
            r.v.show()
        );
        match tc.call(c) {
            Ok(t) if !t.v.is_error() => {}
            other => {
                return Outcome::Crash {
                    at: 0,
                    note: format!("setup {} failed: {other:?}", cli_line(c)),
                };
            }
        }
    }
    for (i, c) in cmds.iter().enumerate() {
        let mut pair = check::Pair {
            r: &mut rc,
            t: &mut tc,
        };
        let pre = match check::pre(c, &mut pair) {
            Ok(p) => p,
            Err(e) => panic!("reference side query failed: {e}"),
        };
        let r = rc
            .call(c)
            .unwrap_or_else(|e| panic!("redis-server failed on {}: {e}", cli_line(c)));
        let t = match tc.call(c) {
            Ok(t) => t,
            Err(e) => {
                std::thread::sleep(Duration::from_millis(100));
                let note = if layout.alive() {
                    format!("no reply ({e}); the process is still running")
                } else {
                    format!("tandem process died ({e})")
                };
                return Outcome::Crash { at: i, note };
            }
        };
        let mut pair = check::Pair {
            r: &mut rc,
            t: &mut tc,
        };
        if let Err(note) = check::check(c, &r, &t, pre, &mut pair) {
            if note.starts_with("read:") || note.starts_with("connection closed") {
                return Outcome::Crash { at: i, note };
            }
            return Outcome::Diverged { at: i, r, t, note };
        }
        // A key SET with a deadline already past stays until it is
        // touched or actively expired, and DBSIZE counts it meanwhile, in
        // Redis and in tandem alike, each on its own timing: touch it on
        // both so DBSIZE agrees.
        let past_deadline = check::name(c) == "SET"
            && c.len() > 3
            && c[3..]
                .iter()
                .any(|a| a.eq_ignore_ascii_case(b"EXAT") || a.eq_ignore_ascii_case(b"PXAT"));
        if past_deadline {
            let _ = rc.call_str(&[b"EXISTS", &c[1]]);
            let _ = tc.call_str(&[b"EXISTS", &c[1]]);
        }
    }
    Outcome::Pass
}

/// True when `o` fails the way `orig` did: at the same command name, with
/// the same kind of failure.
fn same_failure(cmds: &[Cmd], o: &Outcome, orig_name: &str, crash: bool) -> bool {
    match o {
        Outcome::Pass => false,
        Outcome::Crash { .. } => crash,
        Outcome::Diverged { at, .. } => !crash && check::name(&cmds[*at]) == orig_name,
    }
}

/// Delta debugging: removes chunks of commands (halving the chunk size)
/// while the failure persists; everything after the failing command is
/// dropped first. Bounded by `budget`.
pub fn shrink(
    redis: &Redis,
    layout: &mut Layout,
    resp3: bool,
    cmds: &[Cmd],
    first: &Outcome,
    budget: Duration,
) -> (Vec<Cmd>, Outcome, usize) {
    let deadline = Instant::now() + budget;
    let at = first.at().unwrap_or(cmds.len().saturating_sub(1));
    let orig_name = check::name(&cmds[at]);
    let crash = matches!(first, Outcome::Crash { .. });
    let mut cur: Vec<Cmd> = cmds[..=at].to_vec();
    let mut outcome = first.clone();
    let mut runs = 0;
    let mut chunk = cur.len().div_ceil(2).max(1);
    'outer: loop {
        let mut i = 0;
        let mut progressed = false;
        while i < cur.len() {
            if Instant::now() > deadline {
                break 'outer;
            }
            let end = (i + chunk).min(cur.len());
            let mut cand = cur[..i].to_vec();
            cand.extend_from_slice(&cur[end..]);
            if cand.is_empty() {
                i = end;
                continue;
            }
            runs += 1;
            let o = run(redis, layout, resp3, &cand);
            if same_failure(&cand, &o, &orig_name, crash) {
                // Keep only up to the failing command.
                let stop = o.at().unwrap_or(cand.len() - 1);
                cand.truncate(stop + 1);
                cur = cand;
                outcome = o;
                progressed = true;
            } else {
                i = end;
            }
        }
        if chunk == 1 && !progressed {
            break;
        }
        if !progressed {
            chunk = chunk.div_ceil(2);
        }
        chunk = chunk.min(cur.len().div_ceil(2)).max(1);
    }
    (cur, outcome, runs)
}

/// A short signature of a failure, to report each distinct one once.
fn signature(layout: &str, cmds: &[Cmd], o: &Outcome) -> String {
    match o {
        Outcome::Pass => String::new(),
        Outcome::Crash { at, .. } => format!("CRASH {} ({layout})", check::name(&cmds[*at])),
        Outcome::Diverged { at, r, t, note } => {
            let class = |x: &Reply| match &x.v {
                resp::Value::Error(e) => {
                    let s = String::from_utf8_lossy(e);
                    s.chars().take(48).collect::<String>()
                }
                v => format!("{:?}", std::mem::discriminant(v)),
            };
            format!(
                "{} | {} | {} | {}",
                check::name(&cmds[*at]),
                class(r),
                class(t),
                note.chars().take(40).collect::<String>()
            )
        }
    }
}

fn report(layout: &str, case: &Case, cmds: &[Cmd], o: &Outcome, runs: usize) -> String {
    let mut s = String::new();
    let (at, head) = match o {
        Outcome::Pass => return s,
        Outcome::Crash { at, note } => (*at, format!("!!! CRASH: {note}")),
        Outcome::Diverged { at, note, .. } => (*at, format!("DIVERGENCE: {note}")),
    };
    s += &format!(
        "\n==== {head}\n     layout {layout}, case seed {} ({}), shrunk to {} commands in {runs} replays\n",
        case.seed,
        if case.resp3 { "RESP3" } else { "RESP2" },
        cmds.len()
    );
    s += "     FLUSHALL\n";
    if case.resp3 {
        s += "     HELLO 3\n";
    }
    for (i, c) in cmds.iter().enumerate() {
        let mark = if i == at { "  >> " } else { "     " };
        let mut line = cli_line(c);
        if line.len() > 400 {
            line = format!("{}... ({} args)", &line[..400], c.len());
        }
        s += &format!("{mark}{line}\n");
    }
    if let Outcome::Diverged { r, t, .. } = o {
        let show = |x: &Reply| {
            let raw = esc(&x.raw);
            let raw = if raw.len() > 600 {
                format!("{}...", &raw[..600])
            } else {
                raw
            };
            format!("{}\n              raw {raw}", x.v.show())
        };
        s += &format!("     redis : {}\n", show(r));
        s += &format!("     tandem: {}\n", show(t));
    }
    s += &format!(
        "     reproduce: TANDEM_DIFF_SEED={} TANDEM_DIFF_CASES=1 TANDEM_DIFF_LAYOUT={layout} cargo test --release --test differential -- --nocapture\n",
        case.seed
    );
    s
}

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The test body: runs the configured cases, shrinks and prints every
/// distinct divergence, panics if there was any.
pub fn main() {
    let secs: Option<u64> = env("TANDEM_DIFF_SECS");
    let seed: u64 = env("TANDEM_DIFF_SEED").unwrap_or_else(|| {
        if secs.is_some() {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() % 1_000_000 * 1000)
                .unwrap_or(1)
        } else {
            1
        }
    });
    let cases: u64 = env("TANDEM_DIFF_CASES").unwrap_or(if secs.is_some() { u64::MAX } else { 20 });
    let len: usize = env("TANDEM_DIFF_LEN").unwrap_or(200);
    let shrink_budget = Duration::from_secs(env("TANDEM_DIFF_SHRINK_SECS").unwrap_or(60));
    let only: Option<String> = env("TANDEM_DIFF_LAYOUT");
    let skip: Vec<String> = std::env::var("TANDEM_DIFF_SKIP")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect();
    let deadline = secs.map(|s| Instant::now() + Duration::from_secs(s));

    let redis = Redis::start(&HASH_ENTRIES);
    let mut layouts: Vec<Layout> = LAYOUTS
        .iter()
        .filter(|(n, _)| only.as_deref().is_none_or(|o| o == *n))
        .map(|(n, a)| Layout::start(n, a))
        .collect();
    assert!(!layouts.is_empty(), "TANDEM_DIFF_LAYOUT matches no layout");

    let started = Instant::now();
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let mut reports = Vec::new();
    let mut crashes = 0;
    let (mut ran, mut commands) = (0u64, 0usize);
    for i in 0..cases {
        if deadline.is_some_and(|d| Instant::now() > d) {
            break;
        }
        let mut case = Gen::case(seed.wrapping_add(i), len);
        if !skip.is_empty() {
            case.cmds.retain(|c| !skip.contains(&check::name(c)));
        }
        ran += 1;
        for layout in layouts.iter_mut() {
            let o = run(&redis, layout, case.resp3, &case.cmds);
            commands += match o.at() {
                Some(a) => a + 1,
                None => case.cmds.len(),
            };
            if matches!(o, Outcome::Pass) {
                continue;
            }
            let sig = signature(layout.name, &case.cmds, &o);
            let seen = found.entry(sig.clone()).or_insert(0);
            *seen += 1;
            if *seen > 1 {
                continue;
            }
            if matches!(o, Outcome::Crash { .. }) {
                crashes += 1;
            }
            let (min, mo, runs) = shrink(&redis, layout, case.resp3, &case.cmds, &o, shrink_budget);
            let text = report(layout.name, &case, &min, &mo, runs);
            println!("{text}");
            reports.push(text);
        }
    }
    println!(
        "\ndifferential: {ran} cases from seed {seed}, {commands} commands compared, {} distinct divergences ({crashes} crashes), {:.1} s",
        found.len(),
        started.elapsed().as_secs_f64()
    );
    for (sig, n) in &found {
        println!("  {n:4}x  {sig}");
    }
    assert!(
        found.is_empty(),
        "{} distinct divergences from redis-server (details above):\n{}",
        found.len(),
        reports.join("")
    );
}
