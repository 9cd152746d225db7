//! BGSAVE, fork-less (issue #14): the file is the keyspace at the instant
//! BGSAVE answered, whatever writes, deletes and cross-shard transactions
//! run while the shards write it; it passes `redis-check-rdb` and loads
//! into redis-server. Its replies, LASTSAVE and INFO `persistence` answer
//! as redis-server 7.0's do.

mod common;
use common::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Keys every round overwrites while the save runs.
const FILLER: usize = 60_000;

fn conn(port: u16) -> redis::Connection {
    conn_to(port)
}

/// Sets every filler key to `value`, pipelined.
fn fill(c: &mut redis::Connection, value: &str) {
    for chunk in (0..FILLER).collect::<Vec<_>>().chunks(1000) {
        let mut p = redis::pipe();
        for i in chunk {
            p.cmd("SET").arg(format!("f:{i}")).arg(value).ignore();
        }
        let () = p.query(c).unwrap();
    }
}

/// One INFO persistence field.
fn field(c: &mut redis::Connection, name: &str) -> String {
    persistence_field(c, name)
}

/// Waits (at most 30 s) for the running background save to end; panics
/// unless it succeeded.
fn wait_saved(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while field(c, "rdb_bgsave_in_progress") == "1" {
        assert!(Instant::now() < deadline, "BGSAVE still running after 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(field(c, "rdb_last_bgsave_status"), "ok");
}

/// While clients run cross-shard transactions (MULTI/EXEC transfers that
/// keep a sum, MSETs that keep two keys equal), BGSAVE three times; right
/// after each BGSAVE answers, delete a key, add one and overwrite every
/// filler key. Each file, loaded into redis-server, holds the keyspace of
/// BGSAVE's instant: the old filler values, the deleted key and not the new
/// one, the sum and the pair intact. Before each, a burst of BGSAVEs that
/// fail at once leaves no stale instant behind.
#[test]
fn bgsave_is_one_instant() {
    for layout in LAYOUTS {
        let dir = TempDir::new("bgsave");
        let args: Vec<&str> = layout
            .iter()
            .copied()
            .chain(["--dir", dir.path()])
            .collect();
        let s = Server::start(&args);
        let mut c = s.conn();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let accts = spread("acct", 6);
        let pair = spread("pair", 2);
        for a in &accts {
            let () = redis::cmd("SET").arg(a).arg(100).query(&mut c).unwrap();
        }
        let () = redis::cmd("MSET")
            .arg(&pair[0])
            .arg(0)
            .arg(&pair[1])
            .arg(0)
            .query(&mut c)
            .unwrap();
        fill(&mut c, "v0");
        let stop = Arc::new(AtomicBool::new(false));
        let a2 = accts.clone();
        let transfers = spawn_until(&stop, s.url(), 0, move |c, n| {
            let (from, to) = (&a2[n as usize % 6], &a2[(n as usize * 7 + 1) % 6]);
            let _: Vec<i64> = redis::pipe()
                .atomic()
                .cmd("DECRBY")
                .arg(from)
                .arg(1)
                .cmd("INCRBY")
                .arg(to)
                .arg(1)
                .query(c)
                .unwrap();
        });
        let p2 = pair.clone();
        let pairs = spawn_until(&stop, s.url(), 1, move |c, n| {
            let () = redis::cmd("MSET")
                .arg(&p2[0])
                .arg(n)
                .arg(&p2[1])
                .arg(n)
                .query(c)
                .unwrap();
        });
        let mut files = Vec::new();
        for round in 0..3 {
            // Saves that fail at once (a directory holds the temporary
            // file's place), while the transfers run: none may lend its
            // instant to a later save.
            let blocker = dir.0.join(format!("temp-bgsave-{}.rdb", s.child.id()));
            std::fs::create_dir(&blocker).unwrap();
            for _ in 0..20 {
                let _: redis::RedisResult<String> = redis::cmd("BGSAVE").query(&mut c);
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            while field(&mut c, "rdb_bgsave_in_progress") == "1" {
                assert!(Instant::now() < deadline, "a failed BGSAVE never ended");
                std::thread::sleep(Duration::from_millis(10));
            }
            assert_eq!(field(&mut c, "rdb_last_bgsave_status"), "err");
            std::fs::remove_dir(&blocker).unwrap();
            let () = redis::cmd("SET")
                .arg(format!("gone{round}"))
                .arg("here")
                .query(&mut c)
                .unwrap();
            let reply: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
            assert_eq!(reply, "Background saving started");
            let _: i64 = redis::cmd("DEL")
                .arg(format!("gone{round}"))
                .query(&mut c)
                .unwrap();
            let () = redis::cmd("SET")
                .arg(format!("new{round}"))
                .arg("x")
                .query(&mut c)
                .unwrap();
            fill(&mut c, &format!("v{}", round + 1));
            wait_saved(&mut c);
            let copy = dir.0.join(format!("round{round}"));
            std::fs::create_dir_all(&copy).unwrap();
            std::fs::copy(dir.0.join("dump.rdb"), copy.join("dump.rdb")).unwrap();
            files.push(copy);
        }
        stop.store(true, Ordering::Relaxed);
        assert!(transfers.join().unwrap() > 0 && pairs.join().unwrap() > 0);
        s.assert_alive();
        drop(s);

        for (round, copy) in files.iter().enumerate() {
            let check = output_within(
                std::process::Command::new("redis-check-rdb").arg(copy.join("dump.rdb")),
                60,
            );
            let text = String::from_utf8_lossy(&check.stdout);
            assert!(
                check.status.success() && text.contains("RDB looks OK"),
                "{layout:?} round {round}: {text}"
            );
            let redis = Redis::start(&["--dir", copy.to_str().unwrap()]);
            let mut r = conn(redis.port);
            let what = format!("{layout:?} round {round}");
            let bal: Vec<i64> = redis::cmd("MGET").arg(&accts).query(&mut r).unwrap();
            assert_eq!(bal.iter().sum::<i64>(), 600, "{what}: {bal:?}");
            let p: Vec<i64> = redis::cmd("MGET").arg(&pair).query(&mut r).unwrap();
            assert_eq!(p[0], p[1], "{what}: half an MSET");
            let gone: Option<String> = redis::cmd("GET")
                .arg(format!("gone{round}"))
                .query(&mut r)
                .unwrap();
            assert_eq!(
                gone.as_deref(),
                Some("here"),
                "{what}: deleted after BGSAVE"
            );
            let new: i64 = redis::cmd("EXISTS")
                .arg(format!("new{round}"))
                .query(&mut r)
                .unwrap();
            assert_eq!(new, 0, "{what}: written after BGSAVE");
            let want = format!("v{round}");
            for chunk in (0..FILLER).collect::<Vec<_>>().chunks(5000) {
                let keys: Vec<String> = chunk.iter().map(|i| format!("f:{i}")).collect();
                let vals: Vec<Option<String>> =
                    redis::cmd("MGET").arg(&keys).query(&mut r).unwrap();
                for (k, v) in keys.iter().zip(vals) {
                    assert_eq!(v.as_deref(), Some(want.as_str()), "{what}: {k}");
                }
            }
            // Filler, accounts, pair, gone{round}, and new{0..round}.
            let size: usize = redis::cmd("DBSIZE").query(&mut r).unwrap();
            assert_eq!(size, FILLER + 6 + 2 + 1 + round, "{what}");
        }
    }
}

/// BGSAVE's, SAVE's and LASTSAVE's replies and INFO `persistence`'s
/// fields, as redis-server 7.0 gives them.
#[test]
fn bgsave_answers_as_redis() {
    let dir = TempDir::new("bgsave-replies");
    let s = Server::start(&["--dir", dir.path(), "--shards", "2"]);
    let redis = Redis::start(&["--dir", dir.path(), "--dbfilename", "theirs.rdb"]);
    let mut ours = s.conn();
    let mut theirs = conn(redis.port);
    let names = |c: &mut redis::Connection| -> Vec<String> {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        info.lines()
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
            .collect()
    };
    assert_eq!(names(&mut ours), names(&mut theirs));
    for c in [&mut ours, &mut theirs] {
        fill(c, "x");
    }
    let before = field(&mut ours, "rdb_saves");
    assert_eq!(before, "0");
    assert_eq!(
        field(&mut ours, "rdb_changes_since_last_save"),
        FILLER.to_string()
    );
    let mut raw = s.raw();
    let mut raw_theirs = redis.raw();
    for (cmd, want) in [
        (&["BGSAVE", "BGSAVE", "SAVE"][..], ""),
        (&["BGSAVE", "foo"][..], "-ERR syntax error"),
        (&["BGSAVE", "SCHEDULE", "x"][..], "-ERR syntax error"),
        (
            &["LASTSAVE", "x"][..],
            "-ERR wrong number of arguments for 'lastsave' command",
        ),
    ] {
        if want.is_empty() {
            // Pipelined in one write, the second BGSAVE and the SAVE find
            // the first one running.
            let mut bytes = Vec::new();
            for c in cmd {
                bytes.extend(frame(&[c.as_bytes()]));
            }
            raw.send(&bytes);
            raw_theirs.send(&bytes);
            let (a, b) = (raw.read_replies(3), raw_theirs.read_replies(3));
            assert_eq!(a, b);
            assert_eq!(a[1], "-ERR Background save already in progress\r\n");
            wait_saved(&mut ours);
            wait_saved(&mut theirs);
            continue;
        }
        let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        raw.send(&frame(&f));
        raw_theirs.send(&frame(&f));
        let (a, b) = (raw.read_reply(), raw_theirs.read_reply());
        assert_eq!(a, b, "{cmd:?}");
        assert!(a.starts_with(want), "{cmd:?}: {a}");
    }
    assert_eq!(field(&mut ours, "rdb_saves"), "1");
    assert_eq!(field(&mut ours, "rdb_changes_since_last_save"), "0");
    assert_eq!(field(&mut ours, "rdb_last_bgsave_status"), "ok");
    // A script's writes count for the `save` schedule as well.
    let () = redis::cmd("EVAL")
        .arg("redis.call('set', KEYS[1], 'x') redis.call('set', KEYS[2], 'y')")
        .arg(2)
        .arg("{t}a")
        .arg("{t}b")
        .query(&mut ours)
        .unwrap();
    assert_eq!(field(&mut ours, "rdb_changes_since_last_save"), "2");
    let last: i64 = redis::cmd("LASTSAVE").query(&mut ours).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now - 5..=now).contains(&last),
        "LASTSAVE {last}, now {now}"
    );
    // Inside MULTI, BGSAVE is scheduled for after the EXEC, as Redis does.
    for cmd in [&["MULTI"][..], &["BGSAVE"], &["EXEC"]] {
        let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        raw.send(&frame(&f));
        raw_theirs.send(&frame(&f));
        assert_eq!(raw.read_reply(), raw_theirs.read_reply(), "{cmd:?}");
    }
    wait_persistence(&mut ours, "rdb_saves", "2");
    wait_saved(&mut ours);
    s.assert_alive();
}

/// The `save` schedule writes a snapshot once a save point is reached; a
/// shutdown saves when the schedule has points or SHUTDOWN SAVE asks, and
/// not with SHUTDOWN NOSAVE; the next start loads what was saved. In the
/// split layout (the shards write the shutdown snapshot) and colocated (the
/// IO thread does).
#[test]
fn save_schedule_and_shutdown_save() {
    for layout in [LAYOUTS[1], LAYOUTS[2]] {
        let dir = TempDir::new("saveschedule");
        let with = |save: &str| -> Server {
            let mut args: Vec<&str> = layout.to_vec();
            args.extend(["--dir", dir.path()]);
            if !save.is_empty() {
                args.push("--save");
                args.extend(save.split(' '));
            }
            Server::start(&args)
        };
        let get = |s: &Server, k: &str| -> Option<String> {
            redis::cmd("GET").arg(k).query(&mut s.conn()).unwrap()
        };
        let set = |s: &Server, k: &str| {
            let () = redis::cmd("SET")
                .arg(k)
                .arg("v")
                .query(&mut s.conn())
                .unwrap();
        };
        // A point of 1 change after 1 s: saved within a few seconds.
        let mut s = with("1 1");
        let mut c = s.conn();
        let points: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("save")
            .query(&mut c)
            .unwrap();
        assert_eq!(points[1], "1 1");
        set(&s, "scheduled");
        let deadline = Instant::now() + Duration::from_secs(15);
        while field(&mut c, "rdb_saves") == "0" {
            assert!(
                Instant::now() < deadline,
                "{layout:?}: the schedule never saved"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        wait_saved(&mut c);
        assert!(dir.0.join("dump.rdb").exists());
        // SIGTERM with save points saves what came after.
        set(&s, "at-sigterm");
        assert_eq!(s.terminate(), Some(0));
        let s = with("");
        assert_eq!(get(&s, "scheduled").as_deref(), Some("v"), "{layout:?}");
        assert_eq!(get(&s, "at-sigterm").as_deref(), Some("v"), "{layout:?}");
        // No save points: SHUTDOWN SAVE saves, SHUTDOWN NOSAVE does not.
        set(&s, "by-shutdown-save");
        let mut r = s.raw();
        r.send(&frame(&[b"SHUTDOWN", b"SAVE", b"NOSAVE"]));
        assert_eq!(r.read_reply(), "-ERR syntax error\r\n");
        r.send(&frame(&[b"SHUTDOWN", b"SAVE"]));
        assert!(r.closed());
        let mut s = s;
        assert_eq!(s.wait_exit(), Some(0));
        let mut s = with("3600 1");
        assert_eq!(
            get(&s, "by-shutdown-save").as_deref(),
            Some("v"),
            "{layout:?}"
        );
        set(&s, "lost");
        let mut r = s.raw();
        r.send(&frame(&[b"SHUTDOWN", b"NOSAVE"]));
        assert!(r.closed());
        assert_eq!(s.wait_exit(), Some(0));
        let s = with("");
        assert_eq!(get(&s, "lost"), None, "{layout:?}: NOSAVE saved");
        assert_eq!(get(&s, "by-shutdown-save").as_deref(), Some("v"));
    }
}

/// kill -9 in the middle of a BGSAVE leaves `dump.rdb` whole: the next
/// start loads either the previous save or the new one entirely (the file
/// is written under a temporary name and renamed when complete).
#[test]
fn kill_during_bgsave_keeps_a_whole_file() {
    let dir = TempDir::new("bgsave-kill");
    let args = ["--dir", dir.path(), "--shards", "2"];
    for round in 0..3 {
        let mut s = Server::start(&args);
        let mut c = s.conn();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        if round == 0 {
            fill(&mut c, "old");
            let () = redis::cmd("SET")
                .arg("epoch")
                .arg("old")
                .query(&mut c)
                .unwrap();
            let () = redis::cmd("SAVE").query(&mut c).unwrap();
        }
        let before: String = redis::cmd("GET").arg("epoch").query(&mut c).unwrap();
        let next = format!("new{round}");
        fill(&mut c, &next);
        let () = redis::cmd("SET")
            .arg("epoch")
            .arg(&next)
            .query(&mut c)
            .unwrap();
        let reply: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
        assert_eq!(reply, "Background saving started");
        // SAFETY: signalling our own child.
        unsafe { libc::kill(s.child.id() as i32, libc::SIGKILL) };
        let _ = s.wait_exit();
        drop(s);
        let s = Server::start(&args);
        let mut c = s.conn();
        let epoch: String = redis::cmd("GET").arg("epoch").query(&mut c).unwrap();
        assert!(
            epoch == before || epoch == next,
            "round {round}: epoch {epoch}"
        );
        let keys: Vec<String> = (0..FILLER).step_by(97).map(|i| format!("f:{i}")).collect();
        let vals: Vec<String> = redis::cmd("MGET").arg(&keys).query(&mut c).unwrap();
        assert!(
            vals.iter().all(|v| *v == epoch),
            "round {round}: a mixed file"
        );
        let n: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, FILLER + 1);
    }
}

/// `rdbcompression` (live) decides whether long strings are written
/// LZF-compressed; `rdbchecksum no` (start-up only, as in Redis 7) ends
/// the file with 8 zero bytes, which redis-server loads, and loads a file
/// whose checksum no longer matches.
#[test]
fn rdb_compression_and_checksum() {
    let dir = TempDir::new("rdb-opts");
    let file = dir.0.join("dump.rdb");
    let mut s = Server::start(&["--dir", dir.path(), "--rdbcompression", "no"]);
    let mut c = s.conn();
    let big = "x".repeat(5000);
    let () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("SAVE").query(&mut c).unwrap();
    let plain = std::fs::metadata(&file).unwrap().len();
    assert!(plain > 5000, "{plain}");
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdbcompression")
        .arg("yes")
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("SAVE").query(&mut c).unwrap();
    let packed = std::fs::metadata(&file).unwrap().len();
    assert!(packed < 1000, "{packed}");
    let e = err(&mut c, &["CONFIG", "SET", "rdbchecksum", "no"]);
    assert!(e.contains("immutable"), "{e}");
    assert_eq!(s.terminate(), Some(0));
    // Without a checksum: zero trailer, loaded by redis-server and tandem.
    let mut s = Server::start(&[
        "--dir",
        dir.path(),
        "--rdbchecksum",
        "no",
        "--rdbcompression",
        "no",
    ]);
    let mut c = s.conn();
    let v: String = redis::cmd("GET").arg("big").query(&mut c).unwrap();
    assert_eq!(v, big);
    let () = redis::cmd("SAVE").query(&mut c).unwrap();
    assert_eq!(s.terminate(), Some(0));
    let mut bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes[bytes.len() - 8..], [0; 8]);
    let r = Redis::start(&["--dir", dir.path(), "--dbfilename", "dump.rdb"]);
    let mut rc = conn(r.port);
    let v: String = redis::cmd("GET").arg("big").query(&mut rc).unwrap();
    assert_eq!(v, big);
    drop(r);
    // A damaged value byte under a real checksum: refused with the
    // check, loaded without it.
    let () = {
        let mut s = Server::start(&["--dir", dir.path(), "--rdbcompression", "no"]);
        let () = redis::cmd("SAVE").query(&mut s.conn()).unwrap();
        assert_eq!(s.terminate(), Some(0));
    };
    bytes = std::fs::read(&file).unwrap();
    let at = bytes.windows(4).position(|w| w == b"xxxx").unwrap();
    assert!(bytes[bytes.len() - 8..] != [0; 8]);
    bytes[at] = b'y';
    std::fs::write(&file, &bytes).unwrap();
    let out = run_tandem_expecting_exit(&["--dir", dir.path()]);
    assert!(!out.status.success());
    let s = Server::start(&["--dir", dir.path(), "--rdbchecksum", "no"]);
    let v: String = redis::cmd("GET").arg("big").query(&mut s.conn()).unwrap();
    assert_eq!(v.len(), 5000);
    assert!(v.starts_with('y'));
}

/// A shutdown whose final save fails leaves the server up, as Redis 7's
/// `prepareForShutdown` does: SHUTDOWN answers `Errors trying to
/// SHUTDOWN`, the commands pipelined behind it run, other clients go on,
/// and SIGTERM with save points does the same; SHUTDOWN FORCE exits
/// anyway. The save is made to fail by a directory where the file goes.
/// Split and colocated layouts, replies diffed against redis-server.
#[test]
fn shutdown_whose_save_fails_stays_up() {
    for layout in [LAYOUTS[1], LAYOUTS[2]] {
        let dir = TempDir::new("shutdown-fails");
        let mut args: Vec<&str> = layout.to_vec();
        args.extend(["--dir", dir.path(), "--dbfilename", "ours.rdb"]);
        let mut s = Server::start(&args);
        let redis = Redis::start(&["--dir", dir.path(), "--dbfilename", "theirs.rdb"]);
        let mut other = s.conn();
        std::fs::create_dir(dir.0.join("ours.rdb")).unwrap();
        std::fs::create_dir(dir.0.join("theirs.rdb")).unwrap();
        let pipeline: Vec<u8> = [
            frame(&[b"SET", b"a", b"1"]),
            frame(&[b"SHUTDOWN", b"SAVE"]),
            frame(&[b"GET", b"a"]),
        ]
        .concat();
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        ours.send(&pipeline);
        theirs.send(&pipeline);
        let got = ours.read_replies(3);
        assert_eq!(got, theirs.read_replies(3), "{layout:?}");
        assert_eq!(got[1], "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
        assert_eq!(got[2], "$1\r\n1\r\n");
        let () = redis::cmd("SET")
            .arg("b")
            .arg("2")
            .query(&mut other)
            .unwrap();
        assert_eq!(
            persistence_field(&mut other, "rdb_last_bgsave_status"),
            "err"
        );
        // SIGTERM with a save point: the save fails, the server stays up.
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("save")
            .arg("3600 1")
            .query(&mut other)
            .unwrap();
        let () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("save")
            .arg("3600 1")
            .query(&mut conn(redis.port))
            .unwrap();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !s.log().contains("Errors trying to shut down the server") {
            assert!(
                Instant::now() < deadline,
                "{layout:?}: no failed save logged"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Parsed again once the failed save lets the clients go.
        let v: Option<String> = redis::cmd("GET").arg("b").query(&mut other).unwrap();
        assert_eq!(v.as_deref(), Some("2"), "{layout:?}");
        s.assert_alive();
        // FORCE exits although the save fails.
        ours.send(&frame(&[b"SHUTDOWN", b"SAVE", b"FORCE"]));
        assert!(ours.closed(), "{layout:?}");
        assert_eq!(s.wait_exit(), Some(0), "{layout:?}");
        // With the file's place free again, SHUTDOWN saves and exits.
        std::fs::remove_dir(dir.0.join("ours.rdb")).unwrap();
        let mut s = Server::start(&args);
        let () = redis::cmd("SET")
            .arg("c")
            .arg("3")
            .query(&mut s.conn())
            .unwrap();
        let mut r = s.raw();
        r.send(&frame(&[b"SHUTDOWN", b"SAVE"]));
        assert!(r.closed(), "{layout:?}");
        assert_eq!(s.wait_exit(), Some(0), "{layout:?}");
        let s = Server::start(&args);
        let v: Option<String> = redis::cmd("GET").arg("c").query(&mut s.conn()).unwrap();
        assert_eq!(v.as_deref(), Some("3"), "{layout:?}");
    }
}

/// SHUTDOWN SAVE while clients on every IO thread write as fast as they
/// can (single keys and cross-shard MSET pairs): the final save holds
/// every client first, so after the restart each writer's last
/// acknowledged value is there (or the one after it, applied but not
/// answered before the connection closed) and every pair is whole.
#[test]
fn shutdown_save_keeps_every_acknowledged_write() {
    for layout in [LAYOUTS[1], LAYOUTS[2]] {
        let dir = TempDir::new("shutdown-acked");
        let mut args: Vec<&str> = layout.to_vec();
        args.extend(["--dir", dir.path()]);
        let mut s = Server::start(&args);
        let pair = spread("pair", 2);
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let url = s.url();
                let pair = pair.clone();
                std::thread::spawn(move || {
                    let mut c = conn_on(&url, w % 2);
                    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    let mut acked = 0u64;
                    let deadline = Instant::now() + Duration::from_secs(30);
                    for n in 1.. {
                        if Instant::now() > deadline {
                            break;
                        }
                        let r: redis::RedisResult<()> = if w == 0 {
                            redis::cmd("MSET")
                                .arg(&pair[0])
                                .arg(n)
                                .arg(&pair[1])
                                .arg(n)
                                .query(&mut c)
                        } else {
                            redis::cmd("SET").arg(format!("w{w}")).arg(n).query(&mut c)
                        };
                        if r.is_err() {
                            break;
                        }
                        acked = n;
                    }
                    acked
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let mut r = s.raw();
        r.send(&frame(&[b"SHUTDOWN", b"SAVE"]));
        assert!(r.closed(), "{layout:?}");
        assert_eq!(s.wait_exit(), Some(0), "{layout:?}");
        let acked: Vec<u64> = writers.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(acked.iter().all(|&n| n > 0), "{layout:?}: {acked:?}");
        let s = Server::start(&args);
        let mut c = s.conn();
        for (w, &n) in acked.iter().enumerate().skip(1) {
            let v: u64 = redis::cmd("GET")
                .arg(format!("w{w}"))
                .query(&mut c)
                .unwrap();
            assert!(
                v == n || v == n + 1,
                "{layout:?}: w{w} saved {v}, acked {n}"
            );
        }
        let p: Vec<u64> = redis::cmd("MGET").arg(&pair).query(&mut c).unwrap();
        assert_eq!(p[0], p[1], "{layout:?}: half an MSET");
        assert!(
            p[0] == acked[0] || p[0] == acked[0] + 1,
            "{layout:?}: pair {p:?}, acked {}",
            acked[0]
        );
    }
}
