//! Issue #18's observability: SLOWLOG, LATENCY and INFO commandstats /
//! errorstats. Replies Redis gives the same way are diffed byte for byte
//! against redis-server in three layouts and RESP3; slow log entries are
//! compared with redis-server's for the same commands (arguments, trims,
//! redactions and client names; not ids, times or durations); counters
//! are compared with redis-server's after the same command stream.

mod common;
use common::*;

use redis::Value;
use std::time::{Duration, Instant};

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

/// Replies with no clock in them: errors, HELP, empty logs.
const SCRIPT: &[&[&str]] = &[
    &["CONFIG", "SET", "slowlog-log-slower-than", "-1"],
    &["SLOWLOG", "RESET"],
    &["SLOWLOG", "GET"],
    &["SLOWLOG", "GET", "-1"],
    &["SLOWLOG", "GET", "0"],
    &["SLOWLOG", "GET", "-2"],
    &["SLOWLOG", "GET", "x"],
    &["SLOWLOG", "GET", "1", "2"],
    &["SLOWLOG", "LEN"],
    &["SLOWLOG", "LEN", "x"],
    &["SLOWLOG", "RESET", "x"],
    &["SLOWLOG", "HELP"],
    &["SLOWLOG", "nope"],
    &["SLOWLOG"],
    &["LATENCY", "HELP"],
    &["LATENCY", "nope"],
    &["LATENCY", "LATEST"],
    &["LATENCY", "LATEST", "x"],
    &["LATENCY", "HISTORY"],
    &["LATENCY", "HISTORY", "command"],
    &["LATENCY", "RESET"],
    &["LATENCY", "RESET", "command", "fast-command"],
    &["LATENCY", "GRAPH", "command"],
    &["LATENCY", "GRAPH"],
    &["LATENCY", "HISTOGRAM", "no-such-command"],
    &["LATENCY", "DOCTOR", "x"],
    &["CONFIG", "GET", "slowlog-log-slower-than"],
    &["CONFIG", "GET", "slowlog-max-len"],
    &["CONFIG", "GET", "latency-monitor-threshold"],
    &["CONFIG", "SET", "slowlog-max-len", "-1"],
    &["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
    &["CONFIG", "SET", "latency-monitor-threshold", "x"],
];

#[test]
fn replies_match_redis_byte_for_byte() {
    let redis = Redis::start(&[]);
    for mode in MODES {
        let s = Server::start(mode);
        let mut ours = s.raw();
        let mut theirs = redis.raw();
        let ctx = format!("{mode:?}");
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        hello3(&mut ours, &mut theirs);
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &format!("{ctx} RESP3"));
        }
        s.assert_alive();
    }
}

/// One slow log entry without its id, time and duration: (arguments,
/// client address, client name).
type Logged = (Vec<Vec<u8>>, Vec<u8>, Vec<u8>);

fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.clone().into_bytes(),
        Value::Int(n) => n.to_string().into_bytes(),
        other => panic!("not a string: {other:?}"),
    }
}

/// SLOWLOG GET -1, newest first, each entry checked for its shape (six
/// fields, increasing ids) and reduced to what is compared.
fn slowlog(c: &mut redis::Connection) -> Vec<Logged> {
    let v: Value = redis::cmd("SLOWLOG").arg("GET").arg(-1).query(c).unwrap();
    let Value::Array(entries) = v else {
        panic!("SLOWLOG GET: {v:?}")
    };
    let mut out = Vec::new();
    let mut last_id = i64::MAX;
    for e in entries {
        let Value::Array(f) = e else {
            panic!("entry: {e:?}")
        };
        assert_eq!(f.len(), 6, "{f:?}");
        let (Value::Int(id), Value::Int(time), Value::Int(us)) = (&f[0], &f[1], &f[2]) else {
            panic!("entry head: {f:?}")
        };
        assert!(*id < last_id, "ids must fall, newest first: {f:?}");
        last_id = *id;
        assert!(*time > 1_600_000_000 && *us >= 0, "{f:?}");
        let Value::Array(args) = &f[3] else {
            panic!("args: {f:?}")
        };
        out.push((args.iter().map(bytes).collect(), bytes(&f[4]), bytes(&f[5])));
    }
    out
}

fn addr_of(c: &mut redis::Connection) -> Vec<u8> {
    let info: String = q(c, &["CLIENT", "INFO"]).unwrap();
    let addr = info
        .split(' ')
        .find_map(|f| f.strip_prefix("addr="))
        .unwrap();
    addr.as_bytes().to_vec()
}

/// The same commands log the same entries in tandem as in redis-server:
/// arguments past 32 and bytes past 128 trimmed the same way, AUTH's and
/// CONFIG SET requirepass's secrets redacted, the client's address and
/// its name as it was; commands run on shards and on the IO thread alike,
/// in the order they ran. A client that left still has its address shown.
#[test]
fn entries_match_redis() {
    let redis = Redis::start(&[]);
    let long = "v".repeat(300);
    let members: Vec<String> = (0..40).map(|i| format!("m{i}")).collect();
    for mode in MODES {
        let s = Server::start(mode);
        let mut logs = Vec::new();
        for port in [s.port, redis.port] {
            let mut c = conn_to(port);
            let _: () = q(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]).unwrap();
            let _: () = q(&mut c, &["SLOWLOG", "RESET"]).unwrap();
            let me = addr_of(&mut c);
            // A shard's entry names the client as it is named when the
            // log is read (or when it left): name it before, not between.
            let _: () = q(&mut c, &["CLIENT", "SETNAME", "worker-1"]).unwrap();
            let _: () = q(&mut c, &["SET", "k", &long]).unwrap();
            let mut sadd = vec!["SADD", "set"];
            sadd.extend(members.iter().map(|m| m.as_str()));
            let _: i64 = q(&mut c, &sadd).unwrap();
            let _: Option<String> = q(&mut c, &["GET", "missing"]).unwrap();
            let _ = err(&mut c, &["AUTH", "user", "secret"]);
            let _: () = q(&mut c, &["CONFIG", "SET", "requirepass", ""]).unwrap();
            let _: Vec<Value> = q(&mut c, &["HGETALL", "nothing"]).unwrap();
            // Another client logs a command on a shard, then leaves.
            let mut other = conn_to(port);
            let _: () = q(&mut other, &["CLIENT", "SETNAME", "leaver"]).unwrap();
            let gone = addr_of(&mut other);
            let _: i64 = q(&mut other, &["INCR", "counter"]).unwrap();
            drop(other);
            // Its close is seen by the server before the log is read.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let list: String = q(&mut c, &["CLIENT", "LIST"]).unwrap();
                if !list.contains("name=leaver") {
                    break;
                }
                assert!(Instant::now() < deadline, "the other client never left");
                std::thread::sleep(Duration::from_millis(10));
            }
            // The redis crate's CLIENT SETINFO is Redis 7.2's: 7.0
            // refuses it, tandem runs (and logs) it. The CLIENT LISTs
            // polled for above vary in number.
            let mut log = slowlog(&mut c);
            log.retain(|e| {
                !e.0.get(1).is_some_and(|a| {
                    a.eq_ignore_ascii_case(b"setinfo") || a.eq_ignore_ascii_case(b"list")
                })
            });
            // Addresses differ between the servers: check, then blank them.
            for e in log.iter_mut() {
                let ok = if e.2 == b"leaver" {
                    e.1 == gone
                } else {
                    e.1 == me || e.1 == gone
                };
                assert!(
                    ok,
                    "{mode:?} {port}: {:?} from {:?}",
                    e.0,
                    String::from_utf8_lossy(&e.1)
                );
                e.1.clear();
            }
            assert!(log.iter().any(|e| e.2 == b"leaver"), "{mode:?} {port}");
            logs.push(log);
        }
        let (ours, theirs) = (&logs[0], &logs[1]);
        let show = |l: &[Logged]| -> Vec<String> {
            l.iter()
                .map(|e| {
                    let a: Vec<String> =
                        e.0.iter()
                            .map(|a| String::from_utf8_lossy(a).into_owned())
                            .collect();
                    format!("{a:?} {}", String::from_utf8_lossy(&e.2))
                })
                .collect()
        };
        assert_eq!(show(ours), show(theirs), "{mode:?}");
        s.assert_alive();
    }
}

/// `slowlog-max-len` keeps the newest entries; `-1` logs nothing; a high
/// threshold logs nothing of a fast command; GET's count limits the reply.
#[test]
fn thresholds_and_length() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = q(&mut c, &["CONFIG", "SET", "slowlog-log-slower-than", "0"]).unwrap();
        let _: () = q(&mut c, &["CONFIG", "SET", "slowlog-max-len", "3"]).unwrap();
        for i in 0..10 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
        }
        let n: i64 = q(&mut c, &["SLOWLOG", "LEN"]).unwrap();
        assert_eq!(n, 3);
        let log = slowlog(&mut c);
        assert_eq!(log.len(), 3);
        // The newest first: the LEN, then the last two SETs.
        assert_eq!(log[0].0[0], b"SLOWLOG");
        assert_eq!(
            log[1].0,
            vec![b"SET".to_vec(), b"k9".to_vec(), b"v".to_vec()]
        );
        assert_eq!(log[2].0[1], b"k8");
        let v: Vec<Value> = q(&mut c, &["SLOWLOG", "GET", "1"]).unwrap();
        assert_eq!(v.len(), 1);
        for threshold in ["-1", "100000000"] {
            let _: () = q(
                &mut c,
                &["CONFIG", "SET", "slowlog-log-slower-than", threshold],
            )
            .unwrap();
            let _: () = q(&mut c, &["SLOWLOG", "RESET"]).unwrap();
            for i in 0..10 {
                let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
            }
            let n: i64 = q(&mut c, &["SLOWLOG", "LEN"]).unwrap();
            assert_eq!(n, 0, "threshold {threshold}");
        }
        s.assert_alive();
    });
}

/// A command slower than `latency-monitor-threshold` (DEBUG SLEEP) is a
/// `command` event: LATENCY LATEST and HISTORY show it, DOCTOR and GRAPH
/// describe it, RESET drops it. LATENCY HISTOGRAM counts timed commands
/// when every request is timed.
#[test]
fn latency_monitor_records_slow_commands() {
    for mode in MODES {
        let args: Vec<&str> = mode
            .iter()
            .chain(DEBUG_ON)
            .chain(&["--latency-sample-every", "1"])
            .copied()
            .collect();
        let s = Server::start(&args);
        let mut c = s.conn();
        let doctor: String = q(&mut c, &["LATENCY", "DOCTOR"]).unwrap();
        assert!(doctor.contains("off"), "{doctor}");
        let _: () = q(
            &mut c,
            &["CONFIG", "SET", "latency-monitor-threshold", "20"],
        )
        .unwrap();
        let _: () = q(&mut c, &["SET", "fast", "1"]).unwrap();
        let latest: Vec<Value> = q(&mut c, &["LATENCY", "LATEST"]).unwrap();
        assert!(latest.is_empty(), "{mode:?}: {latest:?}");
        let _: String = q(&mut c, &["DEBUG", "SLEEP", "0.05"]).unwrap();
        let latest: Vec<(String, i64, i64, i64)> = q(&mut c, &["LATENCY", "LATEST"]).unwrap();
        assert_eq!(latest.len(), 1, "{mode:?}: {latest:?}");
        let (event, _, ms, max) = &latest[0];
        assert_eq!(event, "command");
        assert!(*ms >= 50 && max >= ms, "{mode:?}: {latest:?}");
        let history: Vec<(i64, i64)> = q(&mut c, &["LATENCY", "HISTORY", "command"]).unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        let doctor: String = q(&mut c, &["LATENCY", "DOCTOR"]).unwrap();
        assert!(doctor.contains("1. command: 1 latency spikes"), "{doctor}");
        let graph: String = q(&mut c, &["LATENCY", "GRAPH", "command"]).unwrap();
        assert!(graph.starts_with("command - high "), "{graph}");
        let n: i64 = q(&mut c, &["LATENCY", "RESET"]).unwrap();
        assert_eq!(n, 1);
        let latest: Vec<Value> = q(&mut c, &["LATENCY", "LATEST"]).unwrap();
        assert!(latest.is_empty());
        // Every request timed: the histogram counts all ten SETs.
        for i in 0..10 {
            let _: () = q(&mut c, &["SET", &format!("h{i}"), "v"]).unwrap();
        }
        let h: Value = q(&mut c, &["LATENCY", "HISTOGRAM", "set", "nothing"]).unwrap();
        // RESP2 flattens the maps: [name, [calls, n, histogram_usec, [...]]].
        let text = format!("{h:?}");
        let Value::Array(v) = &h else {
            panic!("{text}")
        };
        assert_eq!(v.len(), 2, "{text}");
        assert_eq!(bytes(&v[0]), b"set", "{text}");
        let Value::Array(inner) = &v[1] else {
            panic!("{text}")
        };
        assert_eq!(bytes(&inner[0]), b"calls");
        let Value::Int(calls) = inner[1] else {
            panic!("{text}")
        };
        assert!(calls >= 11, "{mode:?}: {text}");
        let Value::Array(buckets) = &inner[3] else {
            panic!("{text}")
        };
        // Cumulative: the last bucket holds every call.
        assert_eq!(buckets.last(), Some(&Value::Int(calls)), "{text}");
        s.assert_alive();
    }
}

/// Parses `INFO commandstats` into `name -> (calls, rejected, failed)`,
/// leaving out INFO itself (tandem counts an INFO before it answers,
/// Redis after) and the time.
fn cmdstats(c: &mut redis::Connection) -> Vec<String> {
    let info: String = q(c, &["INFO", "commandstats"]).unwrap();
    let mut v: Vec<String> = info
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
        .map(|l| {
            let (name, rest) = l.split_once(':').unwrap();
            let keep: Vec<&str> = rest
                .split(',')
                .filter(|f| f.starts_with("calls=") || f.contains("_calls="))
                .collect();
            format!("{name}:{}", keep.join(","))
        })
        .collect();
    v.sort();
    v
}

fn errorstats(c: &mut redis::Connection) -> Vec<String> {
    let info: String = q(c, &["INFO", "errorstats"]).unwrap();
    let stats: String = q(c, &["INFO", "stats"]).unwrap();
    let mut v: Vec<String> = info
        .lines()
        .filter(|l| l.starts_with("errorstat_"))
        .chain(
            stats
                .lines()
                .filter(|l| l.starts_with("total_error_replies:")),
        )
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// After the same commands (successes, failures, refusals, unknown
/// commands and subcommands, a transaction, a split MSET, a script's
/// calls) INFO
/// commandstats' calls, rejected_calls and failed_calls and INFO
/// errorstats match redis-server's, and CONFIG RESETSTAT clears them.
#[test]
fn command_and_error_counters_match_redis() {
    let redis = Redis::start(&[]);
    let script: &[&[&str]] = &[
        &["SET", "a", "1"],
        &["GET", "a"],
        &["GET"],
        &["LPUSH", "a", "x"],
        &["INCR", "a"],
        &["MSET", "x", "1", "y", "2", "z", "3"],
        &["MGET", "x", "y", "z"],
        &["NOSUCHCOMMAND", "arg"],
        &["CLIENT", "NOSUCH"],
        &["CLIENT", "GETNAME"],
        &["OBJECT", "ENCODING", "a"],
        &["XINFO", "STREAM", "missing"],
        &["MULTI"],
        &["SET", "b", "2"],
        &["INCR", "b"],
        &["LPUSH", "b", "x"],
        &["EXEC"],
        &["MULTI"],
        &["GET"],
        &["EXEC"],
        &[
            "EVAL",
            "redis.call('incr', KEYS[1]) return redis.call('get', KEYS[1])",
            "1",
            "n",
        ],
        &["EXPIRE", "a", "notanumber"],
        &["ZADD", "zz", "nan", "m"],
    ];
    for mode in MODES {
        let s = Server::start(mode);
        let mut results = Vec::new();
        for (port, mut raw) in [(s.port, s.raw()), (redis.port, redis.raw())] {
            let mut c = conn_to(port);
            let _: () = q(&mut c, &["FLUSHALL"]).unwrap();
            let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]).unwrap();
            for cmd in script {
                let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
                raw.send(&frame(&f));
                raw.read_reply();
            }
            results.push((cmdstats(&mut c), errorstats(&mut c)));
            let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]).unwrap();
            let after = cmdstats(&mut c);
            assert_eq!(
                after,
                vec![
                    "cmdstat_config|resetstat:calls=1,rejected_calls=0,failed_calls=0".to_string()
                ],
                "{mode:?} {port}"
            );
            assert_eq!(
                errorstats(&mut c),
                vec!["total_error_replies:0".to_string()]
            );
        }
        assert_eq!(results[0].0, results[1].0, "{mode:?}: commandstats");
        assert_eq!(results[0].1, results[1].1, "{mode:?}: errorstats");
        s.assert_alive();
    }
}
