//! Fuzz target: command execution. Arbitrary argument vectors go through
//! the command table (arity checked as the IO stage checks it) into an
//! in-process shard engine, driven synchronously as in colocated mode.
//!
//! Oracle: nothing panics (the server aborts on a panic), and every reply
//! the engine returns is exactly one well-formed RESP value at the offsets
//! it claims. Encoding thresholds are low so conversions happen, and the
//! reply limit is small so client-chosen reply sizes are cut short fast.
//!
//! Input: commands separated by 0xFF, arguments by 0xFE; a command's first
//! byte picks the command from the table (so the fuzzer need not spell
//! names), the byte after it the database and protocol.
#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tandem::config::{Config, Tunables};
use tandem::engine::Engine;
use tandem::metrics::Registry;
use tandem::msg::{Claim, Executor, Request, RequestBatch};
use tandem::resp::parse::value_len;
use tandem::spec::{self, Route, flag};

fn tunables() -> Arc<Tunables> {
    static T: OnceLock<Arc<Tunables>> = OnceLock::new();
    T.get_or_init(|| Arc::new(Tunables::new(config()))).clone()
}

/// The fuzzed engine's configuration.
fn config() -> &'static Config {
    static C: OnceLock<Config> = OnceLock::new();
    C.get_or_init(|| {
        let args: Vec<String> = [
            "--list-max-listpack-size",
            "4",
            "--hash-max-listpack-entries",
            "4",
            "--hash-max-listpack-value",
            "8",
            "--set-max-intset-entries",
            "4",
            "--set-max-listpack-entries",
            "4",
            "--set-max-listpack-value",
            "8",
            "--zset-max-listpack-entries",
            "4",
            "--zset-max-listpack-value",
            "8",
            "--client-output-limit",
            "1mb",
            "--proto-max-bulk-len",
            "1mb",
            // HyperLogLogs turn dense after a few elements.
            "--hll-sparse-max-bytes",
            "40",
            // Stream nodes split after a few entries.
            "--stream-node-max-entries",
            "3",
            // Every command goes through the slow log (trims, redaction)
            // and the latency monitor.
            "--slowlog-log-slower-than",
            "0",
            "--slowlog-max-len",
            "4",
            "--latency-monitor-threshold",
            "1",
            // Access bits as LFU counters (every lookup's increment,
            // OBJECT FREQ, RESTORE ... FREQ).
            "--maxmemory-policy",
            "allkeys-lfu",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Config::from_args(&args).expect("fuzz config")
    })
}

/// Engine-side commands, indexed by the command byte.
fn commands() -> &'static [spec::CmdId] {
    static C: OnceLock<Vec<spec::CmdId>> = OnceLock::new();
    C.get_or_init(|| {
        (0..spec::TABLE.len() as spec::CmdId)
            .filter(|&id| !matches!(spec::get(id).route, Route::Local | Route::PubSub))
            .collect()
    })
}

/// Whether the IO stage would send these arguments to a shard.
fn accepted(id: spec::CmdId, argc: usize) -> bool {
    let s = spec::get(id);
    s.arity_ok(argc)
        && match s.route {
            Route::Keys(_) if s.step > 1 => (argc - s.first_key as usize) % s.step as usize == 0,
            _ => true,
        }
}

fn check_replies(b: &tandem::msg::ReplyBatch) {
    let mut start = 0;
    for it in &b.items {
        assert!(it.end >= start && it.end <= b.buf.len(), "reply offsets");
        let one = &b.buf[start..it.end];
        assert_eq!(value_len(one), Some(one.len()), "not one RESP value: {:?}", String::from_utf8_lossy(&one[..one.len().min(200)]));
        start = it.end;
    }
    assert_eq!(start, b.buf.len(), "bytes after the last reply");
}

fuzz_target!(|input: &[u8]| {
    let registry = Registry::new(config());
    let scripts = std::sync::Arc::new(tandem::script::Registry::new(1));
    let saver = std::sync::Arc::new(tandem::persist::Saver::new(1, scripts.clone()));
    let aof = std::sync::Arc::new(tandem::aof::Aof::new(1, tandem::aof::FSYNC_EVERYSEC));
    let common = tandem::engine::shard::Common {
        tun: tunables(),
        scripts,
        saver,
        aof,
        pubsub: std::sync::Arc::new(tandem::pubsub::Hub::new(1)),
        census: std::sync::Arc::new(tandem::engine::evict::Census::new(1)),
    };
    let mut engine = Engine::new(0, 1, 1, 16, common, registry.register("fuzz".into()));
    let table = commands();
    let mut seq = 0u64;
    for raw in input.split(|&b| b == 0xFF).take(64) {
        let Some((&pick, rest)) = raw.split_first() else {
            continue;
        };
        let Some((&ctl, rest)) = rest.split_first() else {
            continue;
        };
        let id = table[pick as usize % table.len()];
        let s = spec::get(id);
        let mut args = vec![Bytes::from_static(s.name.as_bytes())];
        if !rest.is_empty() {
            args.extend(rest.split(|&b| b == 0xFE).take(32).map(Bytes::copy_from_slice));
        }
        if !accepted(id, args.len()) {
            continue;
        }
        let fk = s.first_key.max(0) as usize;
        let hash = args.get(fk).filter(|_| fk > 0).map(|k| spec::key_hash(k)).unwrap_or(0);
        let claim = s.is(flag::BLOCKING).then(|| Arc::new(Claim::default()));
        let n = args.len();
        let batch = RequestBatch {
            io: 0,
            items: vec![Request {
                conn: 1,
                seq,
                part: 0,
                db: (ctl & 0x0F) as u16,
                resp3: ctl & 0x10 != 0,
                cmd: id,
                hash,
                args: 0..n,
                claim,
                stamp: 0,
                tx: None,
                client_flags: 0,
                caller: None,
            }],
            args,
        };
        seq += 1;
        let replies = engine.execute(batch);
        check_replies(&replies);
        if engine.next_deadline().is_some() {
            let fired = engine.fire_timeouts();
            check_replies(&fired);
        }
    }
    // A blocked client that goes away leaves nothing behind.
    engine.unblock(0, 1);
});
