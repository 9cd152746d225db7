//! Client-side caching (CLIENT TRACKING and friends), diffed byte for byte
//! against redis-server in every layout: default mode over RESP3,
//! invalidations after writes by another client (on another IO thread and
//! shard), NOLOOP, REDIRECT to a RESP2 subscriber of
//! `__redis__:invalidate`, flushes, BCAST prefixes, OPTIN/OPTOUT with
//! CLIENT CACHING, expiry, and every error text.

mod common;

use std::time::Duration;

use common::{LAYOUTS, Raw, Redis, Server, frame};

fn raw_to(port: u16) -> Raw {
    let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    Raw { s }
}

/// Sends `cmd` (space separated) and records the next `frames` replies.
fn step(r: &mut Raw, log: &mut Vec<String>, who: &str, cmd: &str, frames: usize) {
    let args: Vec<&[u8]> = cmd.split(' ').map(|a| a.as_bytes()).collect();
    r.send(&frame(&args));
    let got = r.read_replies(frames).concat();
    log.push(format!("{who}: {cmd} -> {got}"));
}

/// Records the next `frames` values arriving on `r` unasked.
fn recv(r: &mut Raw, log: &mut Vec<String>, who: &str, frames: usize) {
    let got = r.read_replies(frames).concat();
    log.push(format!("{who} <- {got}"));
}

fn session(port: u16) -> Vec<String> {
    let mut log = Vec::new();
    let l = &mut log;
    let (mut a, mut b, mut c) = (raw_to(port), raw_to(port), raw_to(port));
    a.send(&frame(&[b"HELLO", b"3"]));
    a.read_replies(1);
    step(&mut c, l, "c", "FLUSHALL", 1);
    step(&mut a, l, "a", "CLIENT TRACKING ON", 1);
    step(&mut a, l, "a", "CLIENT TRACKINGINFO", 1);
    step(&mut a, l, "a", "CLIENT GETREDIR", 1);
    step(&mut a, l, "a", "GET k1", 1);
    step(&mut a, l, "a", "MGET k2 k3", 1);
    step(&mut c, l, "c", "SET k1 v", 1);
    recv(&mut a, l, "a", 1);
    step(&mut c, l, "c", "SET k2 v", 1);
    recv(&mut a, l, "a", 1);
    // Invalidated once: k1 is no longer tracked until read again.
    step(&mut c, l, "c", "SET k1 v2", 1);
    step(&mut a, l, "a", "SET k3 x", 2);
    step(&mut a, l, "a", "GET k3", 1);
    step(&mut a, l, "a", "CLIENT TRACKING ON NOLOOP", 1);
    step(&mut a, l, "a", "SET k3 y", 1);
    step(&mut a, l, "a", "PING", 1);
    step(&mut a, l, "a", "GET k3", 1);
    step(&mut c, l, "c", "SET k3 z", 1);
    recv(&mut a, l, "a", 1);
    // Reads inside MULTI are tracked too.
    step(&mut a, l, "a", "MULTI", 1);
    step(&mut a, l, "a", "GET t1", 1);
    step(&mut a, l, "a", "EXEC", 1);
    step(&mut c, l, "c", "SET t1 v", 1);
    recv(&mut a, l, "a", 1);
    // ... and reads a script makes (its keys on any shard).
    step(
        &mut a,
        l,
        "a",
        "EVAL return(redis.call('GET',KEYS[1])) 1 s1",
        1,
    );
    step(
        &mut a,
        l,
        "a",
        "EVAL return(redis.call('MGET','s2','s3')) 0",
        1,
    );
    step(&mut c, l, "c", "SET s1 v", 1);
    recv(&mut a, l, "a", 1);
    // Redis tracks the script's declared keys, not the ones it reads by
    // name: s3 owes nothing (the PING would read it otherwise).
    step(&mut c, l, "c", "SET s3 v", 1);
    step(&mut a, l, "a", "PING", 1);
    step(&mut a, l, "a", "CLIENT TRACKING OFF", 1);
    // REDIRECT to a RESP2 subscriber.
    b.send(&frame(&[b"CLIENT", b"ID"]));
    let bid = b.read_reply().trim_start_matches(':').trim().to_string();
    step(&mut b, l, "b", "SUBSCRIBE __redis__:invalidate", 1);
    step(
        &mut a,
        l,
        "a",
        &format!("CLIENT TRACKING ON REDIRECT {bid}"),
        1,
    );
    step(&mut a, l, "a", "GET r1", 1);
    step(&mut c, l, "c", "SET r1 v", 1);
    recv(&mut b, l, "b", 1);
    step(&mut c, l, "c", "FLUSHALL", 1);
    recv(&mut b, l, "b", 1);
    step(&mut a, l, "a", "CLIENT TRACKING OFF", 1);
    // BCAST.
    step(
        &mut a,
        l,
        "a",
        "CLIENT TRACKING ON BCAST PREFIX user: PREFIX us",
        1,
    );
    step(
        &mut a,
        l,
        "a",
        "CLIENT TRACKING ON BCAST PREFIX user: PREFIX obj:",
        1,
    );
    step(&mut a, l, "a", "CLIENT TRACKING ON BCAST PREFIX u", 1);
    step(&mut a, l, "a", "CLIENT TRACKINGINFO", 1);
    step(&mut c, l, "c", "SET other x", 1);
    step(&mut c, l, "c", "SET user:1 x", 1);
    recv(&mut a, l, "a", 1);
    step(&mut c, l, "c", "SET obj:9 x", 1);
    recv(&mut a, l, "a", 1);
    step(&mut a, l, "a", "CLIENT TRACKING ON OPTIN", 1);
    step(&mut a, l, "a", "CLIENT CACHING YES", 1);
    step(&mut a, l, "a", "CLIENT TRACKING OFF", 1);
    // OPTIN: only the read right after CLIENT CACHING YES is tracked.
    step(&mut a, l, "a", "CLIENT TRACKING ON OPTIN", 1);
    step(&mut a, l, "a", "CLIENT CACHING YES", 1);
    step(&mut a, l, "a", "CLIENT TRACKINGINFO", 1);
    step(&mut a, l, "a", "GET o1", 1);
    step(&mut a, l, "a", "GET o2", 1);
    step(&mut c, l, "c", "SET o2 x", 1);
    step(&mut c, l, "c", "SET o1 x", 1);
    recv(&mut a, l, "a", 1);
    // CLIENT CACHING YES holds across MULTI for the EXEC's reads.
    step(&mut a, l, "a", "CLIENT CACHING YES", 1);
    step(&mut a, l, "a", "MULTI", 1);
    step(&mut a, l, "a", "GET o3", 1);
    step(&mut a, l, "a", "EXEC", 1);
    step(&mut a, l, "a", "GET o4", 1);
    step(&mut c, l, "c", "SET o4 x", 1);
    step(&mut c, l, "c", "SET o3 x", 1);
    recv(&mut a, l, "a", 1);
    step(&mut a, l, "a", "CLIENT CACHING NO", 1);
    step(&mut a, l, "a", "CLIENT TRACKING ON OPTOUT", 1);
    step(&mut a, l, "a", "CLIENT TRACKING OFF", 1);
    // OPTOUT: every read but the one after CLIENT CACHING NO.
    step(&mut a, l, "a", "CLIENT TRACKING ON OPTOUT", 1);
    step(&mut a, l, "a", "CLIENT CACHING NO", 1);
    step(&mut a, l, "a", "GET p1", 1);
    step(&mut a, l, "a", "GET p2", 1);
    step(&mut c, l, "c", "SET p1 x", 1);
    step(&mut c, l, "c", "SET p2 x", 1);
    recv(&mut a, l, "a", 1);
    step(&mut a, l, "a", "CLIENT TRACKING OFF", 1);
    // Errors.
    for bad in [
        "CLIENT TRACKING ON PREFIX x",
        "CLIENT TRACKING ON REDIRECT 999999",
        "CLIENT TRACKING ON REDIRECT x",
        "CLIENT TRACKING ON BCAST OPTIN",
        "CLIENT TRACKING ON OPTIN OPTOUT",
        "CLIENT TRACKING maybe",
        "CLIENT TRACKING ON FOO",
        "CLIENT TRACKING",
        "CLIENT CACHING YES",
        "CLIENT CACHING",
        "CLIENT GETREDIR x",
    ] {
        step(&mut a, l, "a", bad, 1);
    }
    step(&mut a, l, "a", "CLIENT GETREDIR", 1);
    step(&mut a, l, "a", "CLIENT TRACKINGINFO", 1);
    // RESET turns tracking off.
    step(&mut a, l, "a", "RESET", 1);
    step(&mut a, l, "a", "CLIENT TRACKINGINFO", 1);
    log.into_iter()
        .map(|line| {
            line.replace(&format!("REDIRECT {bid}"), "REDIRECT <b>")
                .replace(&format!(":{bid}\r\n"), ":<b>\r\n")
        })
        .collect()
}

#[test]
fn tracking_matches_redis_byte_for_byte() {
    let redis = Redis::start(&[]);
    let want = session(redis.port);
    drop(redis);
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let got = session(s.port);
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "{layout:?}");
        }
        assert_eq!(got.len(), want.len());
        s.assert_alive();
    }
}

/// A key a tracking client read is invalidated when it expires, whether
/// the active sweep or a lookup reclaims it (redis-server 7.0.15 sends the
/// same push: checked by hand, its timing being the sweep's).
#[test]
fn expiry_invalidates_tracked_keys() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let mut a = s.raw();
        a.send(&frame(&[b"HELLO", b"3"]));
        a.read_replies(1);
        let mut log = Vec::new();
        step(&mut a, &mut log, "a", "CLIENT TRACKING ON", 1);
        step(&mut a, &mut log, "a", "PSETEX ex 50 v", 1);
        step(&mut a, &mut log, "a", "GET ex", 1);
        recv(&mut a, &mut log, "a", 1);
        assert_eq!(
            log.last().unwrap(),
            "a <- >2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nex\r\n",
            "{layout:?}"
        );
    }
}
