//! Every directive `tandem --help` lists has a test that its effect is
//! real (issue #11: nothing may say OK and do nothing). [`TESTED`] names,
//! for each directive, the test that shows its effect; a directive added
//! to the server without one fails [`every_directive_has_an_effect_test`].
//! The tests below cover the directives no other file exercised.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Directive → `file::test` that shows its effect.
const TESTED: &[(&str, &str)] = &[
    (
        "hll-sparse-max-bytes",
        "hyperloglog::replies_and_values_match_redis",
    ),
    (
        "stream-node-max-entries",
        "streams::random_operations_match_redis_and_a_model",
    ),
    (
        "stream-node-max-bytes",
        "streams::replies_match_redis_byte_for_byte",
    ),
    (
        "client-output-buffer-limit",
        "pubsub::slow_subscriber_is_cut_off_at_its_limit",
    ),
    (
        "notify-keyspace-events",
        "pubsub::keyspace_notifications_match_redis",
    ),
    (
        "port",
        "hardening::restart_on_the_same_port_with_clients_connected",
    ),
    ("bind", "directives::bind_chooses_the_address"),
    ("io-threads", "directives::thread_layout_directives"),
    ("shards", "directives::thread_layout_directives"),
    ("cpus", "server::cpus_and_pin_place_the_threads"),
    ("pin", "server::cpus_and_pin_place_the_threads"),
    ("colocated", "directives::thread_layout_directives"),
    (
        "disable-thp",
        "directives::disable_thp_turns_huge_pages_off",
    ),
    (
        "spin-us",
        "directives::spin_us_applies_live_to_every_thread",
    ),
    (
        "latency-tracking",
        "server::latency_stats_per_stage_and_command",
    ),
    (
        "latency-sample-every",
        "server::latency_stats_per_stage_and_command",
    ),
    ("slowlog-log-slower-than", "slowlog::thresholds_and_length"),
    ("slowlog-max-len", "slowlog::thresholds_and_length"),
    (
        "latency-monitor-threshold",
        "slowlog::latency_monitor_records_slow_commands",
    ),
    ("maxclients", "server::maxclients_rejects_extra_clients"),
    ("timeout", "server::client_and_config_commands"),
    ("databases", "directives::databases_bounds_select"),
    (
        "proto-max-bulk-len",
        "protocol::bulk_and_query_buffer_limits",
    ),
    (
        "client-query-buffer-limit",
        "protocol::bulk_and_query_buffer_limits",
    ),
    ("client-output-limit", "protocol::client_that_never_reads"),
    ("requirepass", "protocol::auth_required"),
    ("aclfile", "acl::acl_file_round_trips"),
    ("acllog-max-len", "acl::acl_directives_match_redis"),
    ("acl-pubsub-default", "acl::acl_directives_match_redis"),
    (
        "protected-mode",
        "acl::protected_mode_refuses_remote_clients",
    ),
    ("loglevel", "directives::loglevel_applies_live"),
    ("save", "bgsave::save_schedule_and_shutdown_save"),
    ("appendonly", "aof::appendonly_turns_on_and_off_at_run_time"),
    ("rdbcompression", "bgsave::rdb_compression_and_checksum"),
    ("rdbchecksum", "bgsave::rdb_compression_and_checksum"),
    (
        "enable-debug-command",
        "dump::debug_reload_answers_as_redis",
    ),
    ("appendfsync", "aof::acknowledged_writes_survive_kill_9"),
    ("appenddirname", "aof::names_and_automatic_rewrites"),
    ("appendfilename", "aof::names_and_automatic_rewrites"),
    (
        "aof-use-rdb-preamble",
        "aof::command_bases_without_rdb_preamble",
    ),
    (
        "aof-load-truncated",
        "aof::a_truncated_tail_is_cut_or_refused",
    ),
    (
        "auto-aof-rewrite-percentage",
        "aof::names_and_automatic_rewrites",
    ),
    (
        "auto-aof-rewrite-min-size",
        "aof::names_and_automatic_rewrites",
    ),
    ("maxmemory", "eviction::evicting_policies_hold_the_limit"),
    (
        "maxmemory-policy",
        "eviction::evicting_policies_hold_the_limit",
    ),
    ("maxmemory-samples", "eviction::samples_make_the_pick_exact"),
    (
        "maxmemory-eviction-tenacity",
        "eviction::tenacity_bounds_one_command",
    ),
    ("lfu-log-factor", "eviction::lfu_log_factor_slows_counting"),
    ("lfu-decay-time", "eviction::lfu_decay_time_decays_counters"),
    ("dir", "directives::dir_is_the_working_directory"),
    ("dbfilename", "dump::bad_rdb_files_stop_startup"),
    (
        "list-max-listpack-size",
        "directives::encoding_thresholds_apply_live",
    ),
    (
        "hash-max-listpack-entries",
        "directives::encoding_thresholds_apply_live",
    ),
    (
        "hash-max-listpack-value",
        "directives::encoding_thresholds_apply_live",
    ),
    (
        "set-max-intset-entries",
        "directives::encoding_thresholds_apply_live",
    ),
    (
        "set-max-listpack-entries",
        "directives::encoding_thresholds_apply_live",
    ),
    (
        "set-max-listpack-value",
        "directives::encoding_thresholds_apply_live",
    ),
    (
        "zset-max-listpack-entries",
        "directives::encoding_thresholds_apply_live",
    ),
    (
        "zset-max-listpack-value",
        "directives::encoding_thresholds_apply_live",
    ),
    ("hz", "directives::hz_applies_live_to_shards"),
    (
        "busy-reply-threshold",
        "scripting::busy_scripts_and_script_kill",
    ),
];

fn tandem(args: &[&str]) -> std::process::Output {
    // Bounded: a run that should have stopped but serves fails, not hangs.
    output_within(
        std::process::Command::new(env!("CARGO_BIN_EXE_tandem")).args(args),
        60,
    )
}

#[test]
fn every_directive_has_an_effect_test() {
    let help = String::from_utf8(tandem(&["--help"]).stdout).unwrap();
    let listed: Vec<&str> = help
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(listed.len() > 20, "{help}");
    for d in &listed {
        let (_, test) = TESTED
            .iter()
            .find(|(name, _)| name == d)
            .unwrap_or_else(|| panic!("directive {d} has no effect test in TESTED"));
        let (file, name) = test.split_once("::").unwrap();
        let src =
            std::fs::read_to_string(format!("{}/tests/{file}.rs", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        assert!(
            src.contains(&format!("fn {name}(")),
            "{test} does not exist"
        );
    }
    for (d, _) in TESTED {
        assert!(listed.contains(d), "TESTED names {d}, which --help lacks");
    }
}

/// The `name:value` line of an INFO text, as a number.
fn info_num(info: &str, name: &str) -> u64 {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}

/// Names of the server's threads.
fn thread_names(pid: u32) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn thread_layout_directives() {
    let s = Server::start(&["--io-threads", "2", "--shards", "3"]);
    let names = thread_names(s.child.id());
    for t in [
        "tandem-io0",
        "tandem-io1",
        "tandem-shard0",
        "tandem-shard1",
        "tandem-shard2",
    ] {
        assert!(names.iter().any(|n| n == t), "{t} missing from {names:?}");
    }
    assert!(!names.iter().any(|n| n == "tandem-shard3"), "{names:?}");
    let s = Server::start(&["--colocated", "yes"]);
    let names = thread_names(s.child.id());
    assert!(names.iter().any(|n| n == "tandem-io0"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("tandem-shard")),
        "{names:?}"
    );
}

/// `disable-thp yes` (the default) marks the process with
/// PR_SET_THP_DISABLE, which the kernel reports in /proc; `no` leaves it.
#[test]
fn disable_thp_turns_huge_pages_off() {
    let thp = |pid: u32| -> String {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("THP_enabled:"))
            .map(|v| v.trim().to_string())
            .expect("THP_enabled in /proc/<pid>/status")
    };
    let on = Server::start(&[]);
    assert_eq!(thp(on.child.id()), "0");
    let mut c = on.conn();
    let got: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("disable-thp")
        .query(&mut c)
        .unwrap();
    assert_eq!(got, ["disable-thp", "yes"]);
    let off = Server::start(&["--disable-thp", "no"]);
    assert_eq!(thp(off.child.id()), "1");
}

/// `bind 127.0.0.2`: connections to that address are served, to
/// 127.0.0.1 refused (all of 127/8 is local on Linux).
#[test]
fn bind_chooses_the_address() {
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.2",
            "--save",
            "",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ok = false;
    while Instant::now() < deadline {
        if let Ok(mut t) = std::net::TcpStream::connect(("127.0.0.2", port)) {
            use std::io::{Read, Write};
            t.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            t.write_all(b"PING\r\n").unwrap();
            let mut b = [0u8; 7];
            t.read_exact(&mut b).unwrap();
            ok = &b == b"+PONG\r\n";
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = std::net::TcpStream::connect(("127.0.0.1", port)).is_err();
    let _ = child.kill();
    let _ = child.wait();
    assert!(ok, "not served on 127.0.0.2");
    assert!(refused, "served on 127.0.0.1 too");
}

#[test]
fn databases_bounds_select() {
    let s = Server::start(&["--databases", "4"]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SELECT", "3"]).unwrap();
    assert!(err(&mut c, &["SELECT", "4"]).contains("DB index is out of range"));
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "databases"]).unwrap();
    assert_eq!(v, ["databases", "4"]);
}

/// With `spin-us 0` no thread ever wins a spin; CONFIG SET spin-us then
/// reaches the shards too (they read it on every wait), so request after
/// request finds a shard still spinning.
#[test]
fn spin_us_applies_live_to_every_thread() {
    let s = Server::start(&["--spin-us", "0", "--shards", "2"]);
    let mut c = s.conn();
    for i in 0..300 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
    }
    let t: String = q(&mut c, &["INFO", "tandem"]).unwrap();
    for th in ["io0", "shard0", "shard1"] {
        assert_eq!(info_num(&t, &format!("{th}_spin_wins")), 0, "{th}: {t}");
    }
    let _: () = q(&mut c, &["CONFIG", "SET", "spin-us", "200000"]).unwrap();
    let mut wins = 0;
    for round in 0..50 {
        for i in 0..200 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
        }
        let t: String = q(&mut c, &["INFO", "tandem"]).unwrap();
        wins = info_num(&t, "shard0_spin_wins") + info_num(&t, "shard1_spin_wins");
        if wins > 0 {
            break;
        }
        assert!(round < 49, "no shard spin win after spin-us 200000: {t}");
    }
    assert!(wins > 0);
}

/// `hz` paces an idle shard's housekeeping: with spin off, an idle shard
/// parks once per tick (1000/hz ms). At hz 1 a second and a half brings a
/// handful of parks; after CONFIG SET hz 500 it brings hundreds. The
/// margins are wide (expected ~2 vs ~750) since a loaded machine can only
/// make ticks later, never earlier.
#[test]
fn hz_applies_live_to_shards() {
    let s = Server::start(&["--spin-us", "0", "--hz", "1", "--shards", "1"]);
    let mut c = s.conn();
    let parks = |c: &mut redis::Connection| {
        let t: String = q(c, &["INFO", "tandem"]).unwrap();
        info_num(&t, "shard0_parks")
    };
    let p0 = parks(&mut c);
    std::thread::sleep(Duration::from_millis(1500));
    let slow = parks(&mut c) - p0;
    assert!(slow <= 20, "hz 1: {slow} parks in 1.5 s");
    let _: () = q(&mut c, &["CONFIG", "SET", "hz", "500"]).unwrap();
    let p1 = parks(&mut c);
    std::thread::sleep(Duration::from_millis(1500));
    let fast = parks(&mut c) - p1;
    assert!(fast >= 100, "hz 500: only {fast} parks in 1.5 s");
}

/// CONFIG SET loglevel takes effect at once: a protocol error, logged at
/// debug level, is absent from the log at `warning` and present after
/// CONFIG SET loglevel debug.
#[test]
fn loglevel_applies_live() {
    let s = Server::start(&["--loglevel", "warning"]);
    let log = format!(
        "{}/target/test-logs/{}.log",
        env!("CARGO_MANIFEST_DIR"),
        s.port
    );
    let mut r = s.raw();
    r.send(b"*1\r\n+bad\r\n");
    let _ = r.read_reply();
    assert!(r.closed());
    let mut c = s.conn();
    let _: () = q(&mut c, &["PING"]).unwrap();
    assert!(
        !std::fs::read_to_string(&log)
            .unwrap()
            .contains("protocol error from client"),
        "debug line logged at loglevel warning"
    );
    let _: () = q(&mut c, &["CONFIG", "SET", "loglevel", "debug"]).unwrap();
    let mut r = s.raw();
    r.send(b"*1\r\n+bad\r\n");
    let _ = r.read_reply();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("protocol error from client")
    {
        assert!(
            Instant::now() < deadline,
            "no debug line after CONFIG SET loglevel debug"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(err(&mut c, &["CONFIG", "SET", "loglevel", "loud"]).contains("loglevel"));
}

/// `dir` is the working directory, as with redis-server: tandem changes
/// into it at start-up (CONFIG GET shows it absolute), refuses one that
/// does not exist, and protects it from CONFIG SET.
#[test]
fn dir_is_the_working_directory() {
    let dir = std::env::temp_dir().join(format!("tandem-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    let s = Server::start(&["--dir", dir.to_str().unwrap()]);
    let cwd = std::fs::read_link(format!("/proc/{}/cwd", s.child.id())).unwrap();
    assert_eq!(cwd, dir);
    let mut c = s.conn();
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "dir"]).unwrap();
    assert_eq!(v, ["dir", dir.to_str().unwrap()]);
    let e = err(&mut c, &["CONFIG", "SET", "dir", "/"]);
    assert!(e.contains("can't set protected config"), "{e}");
    drop(s);
    let out = tandem(&["--dir", "/no/such/dir/here"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such directory"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The memory directives are checked as Redis checks them, at start-up
/// (a bad value stops the server) and in CONFIG SET (all or nothing); a
/// config file with Redis's usual lines starts with them applied.
#[test]
fn memory_directives_are_checked() {
    for (d, v, why) in [
        ("maxmemory", "lots", "memory value"),
        ("maxmemory-policy", "lru", "must be one of the following"),
        ("maxmemory-samples", "0", "between 1 and"),
        ("maxmemory-eviction-tenacity", "101", "between 0 and 100"),
    ] {
        let out = tandem(&[&format!("--{d}"), v]);
        assert_eq!(out.status.code(), Some(1), "{d} {v} accepted at start-up");
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(e.contains(why) && e.contains(d), "{e}");
    }
    let file = std::env::temp_dir().join(format!("tandem-mem-{}.conf", std::process::id()));
    std::fs::write(
        &file,
        "save \"\"\nappendonly no\nmaxmemory 1gb\nmaxmemory-policy allkeys-lru\nmaxmemory-samples 10\ndbfilename dump.rdb\n",
    )
    .unwrap();
    let s = Server::start_with_file(file.to_str(), &[]);
    let _ = std::fs::remove_file(&file);
    let mut c = s.conn();
    for (d, v) in [
        ("maxmemory", "1073741824"),
        ("maxmemory-policy", "allkeys-lru"),
        ("maxmemory-samples", "10"),
    ] {
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", d]).unwrap();
        assert_eq!(got, [d, v]);
    }
    let e = err(&mut c, &["CONFIG", "SET", "dbfilename", "x.rdb"]);
    assert!(e.contains("can't set protected config"), "{e}");
    // CONFIG SET is all or nothing: a refused pair leaves the rest unset.
    let e = err(
        &mut c,
        &["CONFIG", "SET", "timeout", "7", "maxmemory-policy", "lru"],
    );
    assert!(e.contains("maxmemory-policy"), "{e}");
    let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "timeout"]).unwrap();
    assert_eq!(v, ["timeout", "0"]);
    let info: String = q(&mut c, &["INFO", "memory"]).unwrap();
    assert!(
        info.contains(
            "maxmemory:1073741824\r\nmaxmemory_human:1.00G\r\nmaxmemory_policy:allkeys-lru\r\n"
        ),
        "{info}"
    );
}

/// The compact-encoding thresholds, changed with CONFIG SET (by their
/// Redis 7 names and by the old ziplist aliases), decide the next
/// conversion on every shard. CONFIG GET answers an alias under the name
/// asked, as Redis 7.0 does.
#[test]
fn encoding_thresholds_apply_live() {
    each_mode(|s| {
        let mut c = s.conn();
        let enc = |c: &mut redis::Connection, k: &str| -> String {
            q(c, &["OBJECT", "ENCODING", k]).unwrap()
        };
        for (d, v) in [
            ("list-max-ziplist-size", "3"),
            ("hash-max-ziplist-entries", "2"),
            ("hash-max-listpack-value", "4"),
            ("set-max-intset-entries", "2"),
            ("set-max-listpack-entries", "2"),
            ("set-max-listpack-value", "4"),
            ("zset-max-ziplist-entries", "2"),
            ("zset-max-listpack-value", "4"),
        ] {
            let _: () = q(&mut c, &["CONFIG", "SET", d, v]).unwrap();
            let got: Vec<String> = q(&mut c, &["CONFIG", "GET", d]).unwrap();
            assert_eq!(got, [d, v], "CONFIG GET {d}");
        }
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "HASH-MAX-ZIPLIST-ENTRIES"]).unwrap();
        assert_eq!(got, ["HASH-MAX-ZIPLIST-ENTRIES", "2"]);
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "zset-max-*-entries"]).unwrap();
        assert_eq!(got.len(), 4, "both names match the glob: {got:?}");
        // Within the limits: compact; one past: converted.
        let _: () = q(&mut c, &["RPUSH", "l", "a", "b", "c"]).unwrap();
        assert_eq!(enc(&mut c, "l"), "listpack");
        let _: () = q(&mut c, &["RPUSH", "l", "d"]).unwrap();
        assert_eq!(enc(&mut c, "l"), "quicklist");
        let _: () = q(&mut c, &["HSET", "h", "a", "1", "b", "2"]).unwrap();
        assert_eq!(enc(&mut c, "h"), "listpack");
        let _: () = q(&mut c, &["HSET", "h", "c", "3"]).unwrap();
        assert_eq!(enc(&mut c, "h"), "hashtable");
        let _: () = q(&mut c, &["HSET", "hv", "a", "12345"]).unwrap();
        assert_eq!(enc(&mut c, "hv"), "hashtable");
        let _: () = q(&mut c, &["SADD", "si", "1", "2"]).unwrap();
        assert_eq!(enc(&mut c, "si"), "intset");
        let _: () = q(&mut c, &["SADD", "si", "3"]).unwrap();
        assert_ne!(enc(&mut c, "si"), "intset");
        let _: () = q(&mut c, &["SADD", "sv", "12345x"]).unwrap();
        assert_eq!(enc(&mut c, "sv"), "hashtable");
        let _: () = q(&mut c, &["ZADD", "z", "1", "a", "2", "b"]).unwrap();
        assert_eq!(enc(&mut c, "z"), "listpack");
        let _: () = q(&mut c, &["ZADD", "z", "3", "c"]).unwrap();
        assert_eq!(enc(&mut c, "z"), "skiplist");
        let _: () = q(&mut c, &["ZADD", "zv", "1", "abcde"]).unwrap();
        assert_eq!(enc(&mut c, "zv"), "skiplist");
    });
}

/// CONFIG REWRITE (Redis 7.0's rules): each directive's lines are
/// rewritten in place (an old alias line becomes the current name, a
/// second `save` line goes), changed directives with no line are appended
/// after `# Generated by CONFIG REWRITE`, comments stay; a server started
/// from the result has the same configuration; DEBUG
/// CONFIG-REWRITE-FORCE-ALL writes defaults too. Without a file it is
/// refused as redis-server refuses it; INFO names the file.
#[test]
fn config_rewrite_round_trips() {
    let dir = std::env::temp_dir().join(format!("tandem-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tandem.conf");
    std::fs::write(
        &file,
        "# my settings\nsave 900 1\nsave 300 10\n\nhash-max-ziplist-entries 64\nmaxmemory 0\n# end\n",
    )
    .unwrap();
    let s = Server::start_with_file(file.to_str(), &["--enable-debug-command", "yes"]);
    let mut c = s.conn();
    let info: String = q(&mut c, &["INFO", "server"]).unwrap();
    let shown = file.canonicalize().unwrap();
    assert!(
        info.contains(&format!("config_file:{}\r\n", shown.display())),
        "{info}"
    );
    for (d, v) in [
        ("maxmemory", "10mb"),
        ("maxmemory-policy", "allkeys-lru"),
        ("save", "60 5"),
        ("hash-max-listpack-entries", "100"),
        ("notify-keyspace-events", "Ex"),
    ] {
        let _: () = q(&mut c, &["CONFIG", "SET", d, v]).unwrap();
    }
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# my settings");
    assert_eq!(lines[1], "save 60 5");
    assert!(lines.contains(&"hash-max-listpack-entries 100"), "{text}");
    assert!(lines.contains(&"maxmemory 10mb"), "{text}");
    assert!(lines.contains(&"# end"), "{text}");
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("save")).count(),
        1,
        "{text}"
    );
    let sig = lines
        .iter()
        .position(|l| *l == "# Generated by CONFIG REWRITE")
        .unwrap_or_else(|| panic!("{text}"));
    let policy = lines
        .iter()
        .position(|l| *l == "maxmemory-policy allkeys-lru");
    assert!(policy.is_some_and(|p| p > sig), "{text}");
    // Unchanged defaults are not written.
    assert!(!text.contains("maxmemory-samples"), "{text}");
    // A second rewrite changes nothing.
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]).unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    let _: () = q(&mut c, &["DEBUG", "CONFIG-REWRITE-FORCE-ALL"]).unwrap();
    let all = std::fs::read_to_string(&file).unwrap();
    assert!(all.contains("\nmaxmemory-samples 5\n"), "{all}");
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]).unwrap();
    drop(s);
    let s = Server::start_with_file(file.to_str(), &[]);
    let mut c = s.conn();
    for (d, v) in [
        ("maxmemory", "10485760"),
        ("maxmemory-policy", "allkeys-lru"),
        ("hash-max-listpack-entries", "100"),
        ("notify-keyspace-events", "xE"),
    ] {
        // (Not `save`: the harness starts every server with `--save ""`.)
        let got: Vec<String> = q(&mut c, &["CONFIG", "GET", d]).unwrap();
        assert_eq!(got, [d, v], "{text}");
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    let s = Server::start(&[]);
    let mut c = s.conn();
    let e = err(&mut c, &["CONFIG", "REWRITE"]);
    assert!(
        e.contains("The server is running without a config file"),
        "{e}"
    );
}
