//! The server as a process and with Redis's own tools: start-up flags and
//! errors, clean shutdown, connection and server commands, redis-cli and a
//! short redis-benchmark run whose every request must succeed.

mod common;
use common::*;
use redis::cmd;
use std::process::Command;

fn tandem(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn help_and_bad_config() {
    let out = tandem(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for d in [
        "--port",
        "--bind",
        "--io-threads",
        "--shards",
        "--cpus",
        "--colocated",
        "--maxclients",
        "--timeout",
        "--databases",
        "--proto-max-bulk-len",
        "--client-query-buffer-limit",
    ] {
        assert!(help.contains(d), "--help lacks {d}");
    }
    let out = tandem(&["--port", "notaport"]);
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("FATAL CONFIG FILE ERROR") && e.contains("'port notaport'"),
        "{e}"
    );
    let out = tandem(&["--no-such-directive", "1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-directive"));
    let dir = std::env::temp_dir().join(format!("tandem-conf-{}", std::process::id()));
    std::fs::write(&dir, "# comment\nport 1\nbogus yes\n").unwrap();
    let out = tandem(&[dir.to_str().unwrap()]);
    let _ = std::fs::remove_file(&dir);
    assert_eq!(out.status.code(), Some(1));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("'bogus yes'") && e.contains("line 3"), "{e}");
}

#[test]
fn signals_and_shutdown_exit_cleanly() {
    for m in MODES {
        let mut s = Server::start(m);
        let mut c = s.conn();
        let _: () = cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
        assert_eq!(s.terminate(), Some(0), "SIGTERM exit code");
    }
    let mut s = Server::sharded();
    let mut r = s.raw();
    // (Saving on the way out: bgsave::save_schedule_and_shutdown_save.)
    r.send(&frame(&[b"SHUTDOWN", b"NOSAVE"]));
    assert!(r.closed());
    assert_eq!(s.wait_exit(), Some(0), "SHUTDOWN exit code");
    let mut s = Server::colocated();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(s.child.id() as i32, libc::SIGINT) };
    assert_eq!(s.wait_exit(), Some(0), "SIGINT exit code");
}

#[test]
fn client_and_config_commands() {
    each_mode(|s| {
        let mut a = s.conn();
        let mut b = s.conn();
        let id: i64 = cmd("CLIENT").arg("ID").query(&mut a).unwrap();
        let _: () = cmd("CLIENT")
            .arg("SETNAME")
            .arg("alpha")
            .query(&mut a)
            .unwrap();
        let name: String = cmd("CLIENT").arg("GETNAME").query(&mut a).unwrap();
        assert_eq!(name, "alpha");
        assert!(
            cmd("CLIENT")
                .arg("SETNAME")
                .arg("has space")
                .query::<()>(&mut a)
                .is_err()
        );
        let list: String = cmd("CLIENT").arg("LIST").query(&mut b).unwrap();
        assert!(
            list.contains(&format!("id={id} ")) && list.contains("name=alpha"),
            "{list}"
        );
        let info: String = cmd("CLIENT").arg("INFO").query(&mut a).unwrap();
        assert!(info.starts_with(&format!("id={id} ")));
        let killed: i64 = cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query(&mut b)
            .unwrap();
        assert_eq!(killed, 1);
        assert!(
            cmd("PING").query::<String>(&mut a).is_err(),
            "killed client still served"
        );
        let timeout: Vec<String> = cmd("CONFIG")
            .arg("GET")
            .arg("timeout")
            .query(&mut b)
            .unwrap();
        assert_eq!(timeout, vec!["timeout", "0"]);
        let _: () = cmd("CONFIG")
            .arg("SET")
            .arg("timeout")
            .arg("1")
            .query(&mut b)
            .unwrap();
        let e = cmd("CONFIG")
            .arg("SET")
            .arg("port")
            .arg("1")
            .query::<()>(&mut b)
            .unwrap_err()
            .to_string();
        assert!(e.contains("can't set immutable config"), "{e}");
        let e = cmd("CONFIG")
            .arg("SET")
            .arg("maxclients")
            .arg("abc")
            .query::<()>(&mut b)
            .unwrap_err()
            .to_string();
        assert!(e.contains("maxclients"), "{e}");
        // timeout 1: an idle client is closed within a few seconds.
        let mut idle = s.raw();
        assert!(
            idle.closed(),
            "idle client not closed after CONFIG SET timeout 1"
        );
        // `b` sat idle as long, so it was closed too, as in Redis.
        assert!(cmd("PING").query::<String>(&mut b).is_err());
        let mut b = s.conn();
        let _: () = cmd("CONFIG")
            .arg("SET")
            .arg("timeout")
            .arg("0")
            .query(&mut b)
            .unwrap();
        let n: i64 = cmd("COMMAND").arg("COUNT").query(&mut b).unwrap();
        assert_eq!(n as usize, tandem::spec::TABLE.len());
        let docs: redis::Value = cmd("COMMAND").arg("DOCS").arg("get").query(&mut b).unwrap();
        assert!(format!("{docs:?}").contains("Returns the string value of a key."));
        let info: redis::Value = cmd("COMMAND")
            .arg("INFO")
            .arg("mset")
            .query(&mut b)
            .unwrap();
        assert!(format!("{info:?}").contains("mset"));
        let keys: Vec<String> = cmd("COMMAND")
            .arg("GETKEYS")
            .arg("MSET")
            .arg("a")
            .arg("1")
            .arg("b")
            .arg("2")
            .query(&mut b)
            .unwrap();
        assert_eq!(keys, vec!["a", "b"]);
        let (secs, _micros): (String, String) = cmd("TIME").query(&mut b).unwrap();
        assert!(secs.parse::<u64>().unwrap() > 1_700_000_000);
        let info: String = cmd("INFO").query(&mut b).unwrap();
        for sec in [
            "# Server",
            "# Clients",
            "# Memory",
            "# Stats",
            "# CPU",
            "# Keyspace",
            "# Persistence\r\nloading:0",
            "# Replication\r\nrole:master",
            // Client libraries read it at start-up to choose cluster mode.
            "# Cluster\r\ncluster_enabled:0",
            "redis_version:7.0.15",
            "connected_clients:",
        ] {
            assert!(info.contains(sec), "INFO lacks {sec}");
        }
    });
}

#[test]
fn maxclients_rejects_extra_clients() {
    let s = Server::start(&["--colocated", "yes", "--maxclients", "2"]);
    // Wait until the harness's start-up probe connection is gone (bounded).
    let mut a = s.raw();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        a.send(&frame(&[b"INFO", b"clients"]));
        if a.read_reply().contains("connected_clients:1\r\n") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "probe connection not reaped"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut b = s.raw();
    b.send(b"PING\r\n");
    assert_eq!(b.read_reply(), "+PONG\r\n");
    let mut c = s.raw();
    assert_eq!(c.read_reply(), "-ERR max number of clients reached\r\n");
}

fn tool(name: &str, args: &[String]) -> String {
    let out = output_within(Command::new(name).args(args), 300);
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn redis_cli_works() {
    each_mode(|s| {
        let p = s.port.to_string();
        let cli = |a: &[&str]| {
            let mut v = vec!["-p".to_string(), p.clone()];
            v.extend(a.iter().map(|s| s.to_string()));
            tool("redis-cli", &v)
        };
        assert_eq!(cli(&["PING"]).trim(), "PONG");
        assert_eq!(cli(&["SET", "cli", "hello"]).trim(), "OK");
        assert_eq!(cli(&["GET", "cli"]).trim(), "hello");
        assert_eq!(cli(&["MGET", "cli", "nope"]), "hello\n\n");
        assert!(cli(&["INFO", "server"]).contains("redis_version:7.0.15"));
        assert_eq!(
            cli(&["--no-raw", "INCR", "cli"]).trim(),
            "(error) ERR value is not an integer or out of range"
        );
        // redis-cli's own start-up probes (COMMAND DOCS) and pipe mode.
        let out = Command::new("redis-cli")
            .args(["-p", &p, "--pipe"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut ch| {
                use std::io::Write;
                let mut input = Vec::new();
                for i in 0..1000 {
                    input.extend(frame(&[b"SET", format!("pipe{i}").as_bytes(), b"x"]));
                }
                ch.stdin.take().unwrap().write_all(&input)?;
                ch.wait_with_output()
            })
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("errors: 0, replies: 1000"), "{text}");
    });
}

#[test]
fn redis_benchmark_every_request_succeeds() {
    each_mode(|s| {
        let p = s.port.to_string();
        let args: Vec<String> = [
            "-p",
            &p,
            "-t",
            "set,get,incr,mset",
            "-n",
            "20000",
            "-c",
            "20",
            "-P",
            "16",
            "-r",
            "1000",
            "-d",
            "64",
            "--csv",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let out = tool("redis-benchmark", &args);
        for t in ["\"SET\"", "\"GET\"", "\"INCR\"", "\"MSET (10 keys)\""] {
            assert!(out.contains(t), "benchmark output lacks {t}: {out}");
        }
        let mut c = s.conn();
        let info: String = cmd("INFO").arg("stats").query(&mut c).unwrap();
        let total: u64 = info
            .lines()
            .find_map(|l| l.strip_prefix("total_commands_processed:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(total >= 80_000, "server processed {total} commands");
        // Every SET landed: the keyspace holds exactly the benchmark's key range.
        let n: i64 = cmd("DBSIZE").query(&mut c).unwrap();
        assert!(
            n > 1900 && n <= 2000,
            "dbsize {n}: key:* and counter:* ranges"
        );
        let v: Vec<u8> = cmd("GET").arg("key:000000000042").query(&mut c).unwrap();
        assert_eq!(v.len(), 64);
    });
}

/// The `name:value` line of an INFO text.
fn info_field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
}

#[test]
fn latency_stats_per_stage_and_command() {
    each_mode(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["CONFIG", "SET", "latency-sample-every", "1"]).unwrap();
        for i in 0..200 {
            q::<String>(&mut c, &["SET", &format!("k{i}"), "v"]).unwrap();
            q::<Option<String>>(&mut c, &["GET", &format!("k{i}")]).unwrap();
        }
        q::<i64>(&mut c, &["RPUSH", "l", "a"]).unwrap();
        let info: String = q(&mut c, &["INFO", "latencystats"]).unwrap();
        assert!(info.starts_with("# Latencystats"), "{info}");
        for cmd in ["get", "set", "rpush"] {
            let line = info_field(&info, &format!("latency_percentiles_usec_{cmd}"))
                .unwrap_or_else(|| panic!("no {cmd} line in {info}"));
            // p50=<µs>,p99=<µs>,p99.9=<µs>, each a non-negative number.
            let parts: Vec<&str> = line.split(',').collect();
            assert_eq!(parts.len(), 3, "{line}");
            for (p, want) in parts.iter().zip(["p50=", "p99=", "p99.9="]) {
                let v: f64 = p.strip_prefix(want).unwrap().parse().unwrap();
                assert!(v >= 0.0, "{line}");
            }
        }
        let t: String = q(&mut c, &["INFO", "tandem"]).unwrap();
        assert_eq!(info_field(&t, "latency_sample_every").as_deref(), Some("1"));
        for stage in ["parse", "batch", "queue", "execute", "handback", "write"] {
            let line = info_field(&t, &format!("stage_{stage}_usec")).unwrap();
            let samples: u64 = line.rsplit("samples=").next().unwrap().parse().unwrap();
            assert!(samples >= 300, "{stage}: {line}");
        }
        assert!(info_field(&t, "io0_parks").is_some(), "{t}");
        assert!(info_field(&t, "io0_eventfd_writes").is_some(), "{t}");
        assert!(info_field(&t, "shard0_batch_size").is_some(), "{t}");
        // INFO everything has both sections; the default INFO has neither.
        let all: String = q(&mut c, &["INFO", "everything"]).unwrap();
        assert!(all.contains("# Latencystats") && all.contains("# Tandem"));
        let default: String = q(&mut c, &["INFO"]).unwrap();
        assert!(!default.contains("# Latencystats"));

        // CONFIG RESETSTAT clears them; latency-tracking no stops sampling.
        q::<String>(&mut c, &["CONFIG", "SET", "latency-tracking", "no"]).unwrap();
        q::<String>(&mut c, &["CONFIG", "RESETSTAT"]).unwrap();
        q::<String>(&mut c, &["SET", "x", "1"]).unwrap();
        let info: String = q(&mut c, &["INFO", "latencystats"]).unwrap();
        assert!(!info.contains("latency_percentiles_usec_"), "{info}");
        let t: String = q(&mut c, &["INFO", "tandem"]).unwrap();
        assert_eq!(info_field(&t, "latency_sample_every").as_deref(), Some("0"));
        assert!(
            info_field(&t, "stage_execute_usec")
                .unwrap()
                .ends_with("samples=0")
        );
        // Doorbell counts start over too (a few from the commands since).
        if let Some(w) = info_field(&t, "io0_eventfd_writes") {
            assert!(w.parse::<u64>().unwrap() <= 10, "{t}");
        }
        let v: Vec<String> = q(&mut c, &["CONFIG", "GET", "latency-tracking"]).unwrap();
        assert_eq!(v, ["latency-tracking", "no"]);
    });
}

/// Cpus_allowed_list of each of the server's threads, by thread name.
fn thread_affinity(pid: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status = std::fs::read_to_string(task.unwrap().path().join("status")).unwrap();
        let field = |k: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        out.push((field("Name:"), field("Cpus_allowed_list:")));
    }
    out
}

/// `cpus` pins each stage thread to its core; `pin no` leaves them all on
/// every core the process may use (the sweep's "unpinned" plan).
#[test]
fn cpus_and_pin_place_the_threads() {
    let pinned = Server::start(&["--io-threads", "1", "--shards", "1", "--cpus", "1,0"]);
    let threads = thread_affinity(pinned.child.id());
    let of = |threads: &[(String, String)], name: &str| {
        threads
            .iter()
            .find(|t| t.0 == name)
            .unwrap_or_else(|| panic!("no thread {name} in {threads:?}"))
            .1
            .clone()
    };
    assert_eq!(of(&threads, "tandem-io0"), "1");
    assert_eq!(of(&threads, "tandem-shard0"), "0");

    let free = Server::start(&[
        "--io-threads",
        "1",
        "--shards",
        "1",
        "--cpus",
        "1,0",
        "--pin",
        "no",
    ]);
    let mut c = free.conn();
    let v: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("pin")
        .query(&mut c)
        .unwrap();
    assert_eq!(v, ["pin", "no"]);
    let threads = thread_affinity(free.child.id());
    let main = thread_affinity(free.child.id())
        .into_iter()
        .find(|t| t.0 == "tandem")
        .map(|t| t.1)
        .unwrap();
    assert_eq!(of(&threads, "tandem-io0"), main);
    assert_eq!(of(&threads, "tandem-shard0"), main);
    let _: String = redis::cmd("SET").arg("k").arg("v").query(&mut c).unwrap();
}

/// The `field=value` of client `id`'s line in a CLIENT LIST text.
fn client_field(list: &str, id: i64, field: &str) -> Option<String> {
    let line = list.lines().find(|l| l.starts_with(&format!("id={id} ")))?;
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .map(String::from)
}

/// Polls CLIENT LIST (up to 5 s: another IO thread publishes its clients
/// once per tick) until `ok` holds for client `id`'s `field`.
fn wait_client_field(c: &mut redis::Connection, id: i64, field: &str, ok: impl Fn(&str) -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let list: String = q(c, &["CLIENT", "LIST"]).unwrap();
        let v = client_field(&list, id, field);
        if v.as_deref().is_some_and(&ok) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "client {id} {field}={v:?} in {list}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// CLIENT LIST shows each connection's real state: the last command, its
/// database, unparsed input, queued output, idle seconds and the blocked
/// flag, also for clients of another IO thread.
#[test]
fn client_list_reports_live_fields() {
    each_mode(|s| {
        let mut obs = s.conn();
        let mut a = s.conn();
        let a_id: i64 = q(&mut a, &["CLIENT", "ID"]).unwrap();
        let _: () = q(&mut a, &["SELECT", "3"]).unwrap();
        let _: () = q(&mut a, &["SET", "k", "v"]).unwrap();
        wait_client_field(&mut obs, a_id, "cmd", |v| v == "set");
        wait_client_field(&mut obs, a_id, "db", |v| v == "3");
        let info: String = q(&mut a, &["CLIENT", "INFO"]).unwrap();
        assert!(info.contains(" cmd=client|info "), "{info}");
        assert!(info.contains(" flags=N "), "{info}");
        // Half a command waits in the input buffer.
        let mut r = s.raw();
        r.send(&frame(&[b"CLIENT", b"ID"]));
        let r_id: i64 = r.read_reply()[1..].trim().parse().unwrap();
        r.send(b"*2\r\n$3\r\nGET\r\n$10\r\nabc");
        wait_client_field(&mut obs, r_id, "qbuf", |v| v.parse::<u64>().unwrap() > 0);
        // A client that never reads keeps output queued.
        let mut big = s.conn();
        let _: () = q(&mut big, &["SET", "big", &"x".repeat(1 << 20)]).unwrap();
        let mut lazy = s.raw();
        lazy.send(&frame(&[b"CLIENT", b"ID"]));
        let lazy_id: i64 = lazy.read_reply()[1..].trim().parse().unwrap();
        let mut gets = Vec::new();
        for _ in 0..40 {
            gets.extend(frame(&[b"GET", b"big"]));
        }
        lazy.send(&gets);
        wait_client_field(&mut obs, lazy_id, "omem", |v| v.parse::<u64>().unwrap() > 0);
        wait_client_field(&mut obs, lazy_id, "tot-mem", |v| {
            v.parse::<u64>().unwrap() > 1 << 20
        });
        // Blocked, then idle for over a second.
        let mut b = s.raw();
        b.send(&frame(&[b"CLIENT", b"ID"]));
        let b_id: i64 = b.read_reply()[1..].trim().parse().unwrap();
        b.send(&frame(&[b"BLPOP", b"nothing", b"0"]));
        wait_client_field(&mut obs, b_id, "flags", |v| v == "b");
        wait_client_field(&mut obs, b_id, "cmd", |v| v == "blpop");
        wait_client_field(&mut obs, b_id, "idle", |v| v.parse::<u64>().unwrap() >= 1);
        let age = client_field(
            &q::<String>(&mut obs, &["CLIENT", "LIST"]).unwrap(),
            b_id,
            "age",
        );
        assert!(age.unwrap().parse::<u64>().unwrap() >= 1);
    });
}

/// CLIENT KILL filters as redis.io documents them: TYPE, USER, ADDR,
/// LADDR, ID, SKIPME, MAXAGE; every filter must match. `MAXAGE 3600`
/// used to kill every other client.
#[test]
fn client_kill_filters() {
    each_mode(|s| {
        let mut me = s.conn();
        let my_id: i64 = q(&mut me, &["CLIENT", "ID"]).unwrap();
        let mut others: Vec<_> = (0..3).map(|_| s.raw()).collect();
        for o in &mut others {
            o.send(b"PING\r\n");
            assert_eq!(o.read_reply(), "+PONG\r\n");
        }
        let n: i64 = q(&mut me, &["CLIENT", "KILL", "MAXAGE", "3600"]).unwrap();
        assert_eq!(n, 0, "MAXAGE 3600 kills nobody this young");
        let n: i64 = q(&mut me, &["CLIENT", "KILL", "TYPE", "pubsub"]).unwrap();
        assert_eq!(n, 0);
        let n: i64 = q(&mut me, &["CLIENT", "KILL", "TYPE", "master"]).unwrap();
        assert_eq!(n, 0);
        for o in &mut others {
            o.send(b"PING\r\n");
            assert_eq!(o.read_reply(), "+PONG\r\n", "a client was killed");
        }
        assert!(
            err(&mut me, &["CLIENT", "KILL", "TYPE", "foo"]).contains("Unknown client type 'foo'")
        );
        assert!(
            err(&mut me, &["CLIENT", "KILL", "USER", "nobody"]).contains("No such user 'nobody'")
        );
        assert!(err(&mut me, &["CLIENT", "KILL", "ID", "abc"]).contains("greater than 0"));
        assert!(err(&mut me, &["CLIENT", "KILL", "SKIPME", "maybe"]).contains("syntax error"));
        assert!(err(&mut me, &["CLIENT", "KILL", "MAXAGE", "x"]).contains("syntax error"));
        assert!(err(&mut me, &["CLIENT", "KILL", "NOSUCH", "x"]).contains("syntax error"));
        assert!(err(&mut me, &["CLIENT", "KILL", "1.2.3.4:5"]).contains("No such client"));
        // ADDR of one client kills exactly it; ID and ADDR must both match.
        let addr = others[0].s.local_addr().unwrap().to_string();
        let n: i64 = q(&mut me, &["CLIENT", "KILL", "ADDR", &addr, "ID", "999999"]).unwrap();
        assert_eq!(n, 0);
        let n: i64 = q(&mut me, &["CLIENT", "KILL", "ADDR", &addr]).unwrap();
        assert_eq!(n, 1);
        assert!(others[0].closed());
        // TYPE normal USER default: everyone else, not me (SKIPME yes).
        let laddr = others[1].s.peer_addr().unwrap().to_string();
        let n: i64 = q(
            &mut me,
            &[
                "CLIENT", "KILL", "TYPE", "normal", "USER", "default", "LADDR", &laddr,
            ],
        )
        .unwrap();
        assert_eq!(n, 2);
        assert!(others[1].closed() && others[2].closed());
        let _: () = q(&mut me, &["PING"]).unwrap();
        // MAXAGE 0 SKIPME no: me too.
        let n: i64 = q(
            &mut me,
            &[
                "CLIENT",
                "KILL",
                "MAXAGE",
                "0",
                "SKIPME",
                "no",
                "ID",
                &my_id.to_string(),
            ],
        )
        .unwrap();
        assert_eq!(n, 1);
        assert!(q::<String>(&mut me, &["PING"]).is_err());
    });
}

/// INFO's statistics carry real values: keyspace hits and misses of read
/// commands, expired keys (lazy and active), the command rate, memory from
/// the allocator with its peak; CONFIG RESETSTAT starts them over on every
/// shard.
#[test]
fn info_stats_are_real() {
    each_mode(|s| {
        let mut c = s.conn();
        let stats = |c: &mut redis::Connection, f: &str| -> u64 {
            let info: String = q(c, &["INFO", "stats"]).unwrap();
            info_field(&info, f).unwrap().parse().unwrap()
        };
        let _: () = q(&mut c, &["SET", "a", "1"]).unwrap();
        let _: () = q(&mut c, &["RPUSH", "l", "x"]).unwrap();
        let _: Option<String> = q(&mut c, &["GET", "a"]).unwrap();
        let _: Option<String> = q(&mut c, &["GET", "missing"]).unwrap();
        let _: Vec<Option<String>> = q(&mut c, &["MGET", "a", "b", "c"]).unwrap();
        let _: Vec<String> = q(&mut c, &["LRANGE", "l", "0", "-1"]).unwrap();
        assert_eq!(stats(&mut c, "keyspace_hits"), 3);
        assert_eq!(stats(&mut c, "keyspace_misses"), 3);
        // Writes do not count, as in Redis (lookupKeyWrite).
        let _: () = q(&mut c, &["SET", "a", "2"]).unwrap();
        let _: i64 = q(&mut c, &["INCR", "n"]).unwrap();
        assert_eq!(stats(&mut c, "keyspace_hits"), 3);
        // One key expires lazily (read after its deadline), the others by
        // the active sweep (never touched again).
        let _: () = q(&mut c, &["SET", "gone", "v", "PX", "1"]).unwrap();
        for i in 0..50 {
            let _: () = q(&mut c, &["SET", &format!("sweep{i}"), "v", "PX", "1"]).unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let _: Option<String> = q(&mut c, &["GET", "gone"]).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while stats(&mut c, "expired_keys") < 51 {
            assert!(std::time::Instant::now() < deadline, "expired_keys stuck");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(stats(&mut c, "expired_keys"), 51);
        // Memory: 20 000 values of 1 KB show in used_memory.
        let mem = |c: &mut redis::Connection, f: &str| -> u64 {
            let info: String = q(c, &["INFO", "memory"]).unwrap();
            info_field(&info, f).unwrap().parse().unwrap()
        };
        let before = mem(&mut c, "used_memory");
        let mut p = redis::pipe();
        for i in 0..20_000 {
            p.cmd("SET")
                .arg(format!("m{i}"))
                .arg(vec![b'x'; 1024])
                .ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        let after = mem(&mut c, "used_memory");
        assert!(
            after >= before + 20_000 * 1024,
            "used_memory {before} -> {after}"
        );
        assert!(mem(&mut c, "used_memory_peak") >= after);
        // The command rate, while another client works.
        let url = s.url();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let bg = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
                while !stop.load(std::sync::atomic::Ordering::Relaxed)
                    && std::time::Instant::now() < deadline
                {
                    let _: () = q(&mut c, &["PING"]).unwrap();
                }
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while stats(&mut c, "instantaneous_ops_per_sec") == 0 {
            assert!(std::time::Instant::now() < deadline, "no command rate");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        bg.join().unwrap();
        // RESETSTAT: every counter Redis resets starts over, on every shard.
        let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]).unwrap();
        let _: Option<String> = q(&mut c, &["GET", "missing"]).unwrap();
        assert_eq!(stats(&mut c, "keyspace_hits"), 0);
        assert_eq!(stats(&mut c, "keyspace_misses"), 1);
        assert_eq!(stats(&mut c, "expired_keys"), 0);
        assert!(stats(&mut c, "total_commands_processed") <= 10);
        assert!(stats(&mut c, "total_connections_received") <= 1);
    });
}

/// OBJECT IDLETIME is the seconds since the key was last touched: reads
/// and writes touch it, EXISTS, TYPE, TTL and OBJECT itself do not, TOUCH
/// does. OBJECT FREQ answers Redis's error under the noeviction policy.
#[test]
fn object_idletime_and_freq() {
    let s = Server::sharded();
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "k", "v"]).unwrap();
    let _: () = q(&mut c, &["SET", "t", "v"]).unwrap();
    let idle =
        |c: &mut redis::Connection, k: &str| -> i64 { q(c, &["OBJECT", "IDLETIME", k]).unwrap() };
    assert!(idle(&mut c, "k") <= 1);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let _: i64 = q(&mut c, &["EXISTS", "k"]).unwrap();
    let _: String = q(&mut c, &["TYPE", "k"]).unwrap();
    let _: i64 = q(&mut c, &["TTL", "k"]).unwrap();
    assert!(idle(&mut c, "k") >= 2, "peeks must not touch");
    let _: Option<String> = q(&mut c, &["GET", "k"]).unwrap();
    assert!(idle(&mut c, "k") <= 1, "GET touches");
    let _: i64 = q(&mut c, &["TOUCH", "t"]).unwrap();
    assert!(idle(&mut c, "t") <= 1, "TOUCH touches");
    let v: Option<i64> = q(&mut c, &["OBJECT", "IDLETIME", "missing"]).unwrap();
    assert_eq!(v, None);
    assert!(
        err(&mut c, &["OBJECT", "FREQ", "k"]).contains("An LFU maxmemory policy is not selected")
    );
}
