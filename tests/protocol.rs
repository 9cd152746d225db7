//! Protocol edges over raw sockets: split packets, inline commands,
//! malformed frames, huge lengths, limits, deep pipelines across shards,
//! slow readers. Every bad input gets its Redis error and leaves the server
//! and other clients unharmed.

mod common;
use common::*;

#[test]
fn split_packets_and_inline() {
    each_mode(|s| {
        let mut r = s.raw();
        let msg = frame(&[b"SET", b"split", b"hello world"]);
        for b in &msg {
            r.send(&[*b]);
        }
        assert_eq!(r.read_reply(), "+OK\r\n");
        // A frame cut at every position, two commands per write.
        let two = [frame(&[b"GET", b"split"]), frame(&[b"PING"])].concat();
        for cut in 1..two.len() {
            r.send(&two[..cut]);
            std::thread::sleep(std::time::Duration::from_millis(1));
            r.send(&two[cut..]);
            assert_eq!(r.read_reply(), "$11\r\nhello world\r\n");
            assert_eq!(r.read_reply(), "+PONG\r\n");
        }
        // Inline commands, with quotes and escapes, and blank lines skipped.
        r.send(b"set inl \"a b\\x41\"\r\n\r\nget inl\nPING\r\n");
        assert_eq!(r.read_reply(), "+OK\r\n");
        assert_eq!(r.read_reply(), "$4\r\na bA\r\n");
        assert_eq!(r.read_reply(), "+PONG\r\n");
    });
}

#[test]
fn command_errors_keep_connection() {
    each_mode(|s| {
        let mut r = s.raw();
        r.send(&frame(&[b"NOSUCH", b"a", b"b"]));
        assert_eq!(
            r.read_reply(),
            "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"
        );
        r.send(&frame(&[b"GET"]));
        assert_eq!(
            r.read_reply(),
            "-ERR wrong number of arguments for 'get' command\r\n"
        );
        r.send(&frame(&[b"MSET", b"a", b"1", b"b"]));
        assert_eq!(
            r.read_reply(),
            "-ERR wrong number of arguments for 'mset' command\r\n"
        );
        r.send(&frame(&[b"SET", b"n", b"notanumber"]));
        assert_eq!(r.read_reply(), "+OK\r\n");
        r.send(&frame(&[b"INCR", b"n"]));
        assert_eq!(
            r.read_reply(),
            "-ERR value is not an integer or out of range\r\n"
        );
        r.send(&frame(&[b"SET", b"big", b"9223372036854775807"]));
        assert_eq!(r.read_reply(), "+OK\r\n");
        r.send(&frame(&[b"INCR", b"big"]));
        assert_eq!(
            r.read_reply(),
            "-ERR increment or decrement would overflow\r\n"
        );
        r.send(&frame(&[b"SELECT", b"99"]));
        assert_eq!(r.read_reply(), "-ERR DB index is out of range\r\n");
        r.send(b"PING\r\n");
        assert_eq!(r.read_reply(), "+PONG\r\n");
    });
}

/// Each malformed frame: the client gets `-ERR Protocol error: ...` and is
/// closed; replies to commands before it are still delivered; others carry on.
#[test]
fn malformed_frames_close_only_that_client() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-5\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n+PING\r\n",
            "-ERR Protocol error: expected '$', got '+'\r\n",
        ),
        (
            b"*2\r\n$3\r\nGET\r\n$999999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*99999999999\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"SET \"unbalanced\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    each_mode(|s| {
        let mut bystander = s.conn();
        let _: () = redis::cmd("SET")
            .arg("by")
            .arg("stander")
            .query(&mut bystander)
            .unwrap();
        for (input, err) in cases {
            let mut r = s.raw();
            let mut msg = frame(&[b"SET", b"before", b"1"]);
            msg.extend_from_slice(input);
            r.send(&msg);
            assert_eq!(
                r.read_reply(),
                "+OK\r\n",
                "reply before the bad frame for {:?}",
                String::from_utf8_lossy(input)
            );
            assert_eq!(r.read_reply(), *err);
            assert!(
                r.closed(),
                "connection not closed after {:?}",
                String::from_utf8_lossy(input)
            );
            let v: String = redis::cmd("GET").arg("by").query(&mut bystander).unwrap();
            assert_eq!(v, "stander");
        }
        s.assert_alive();
    });
}

#[test]
fn huge_inline_and_header_lines() {
    let s = Server::sharded();
    let mut r = s.raw();
    r.send(&vec![b'a'; 70 * 1024]);
    assert_eq!(
        r.read_reply(),
        "-ERR Protocol error: too big inline request\r\n"
    );
    assert!(r.closed());
    let mut r = s.raw();
    let mut m = b"*".to_vec();
    m.extend(vec![b'1'; 70 * 1024]);
    r.send(&m);
    assert_eq!(
        r.read_reply(),
        "-ERR Protocol error: too big mbulk count string\r\n"
    );
    assert!(r.closed());
    s.assert_alive();
}

/// proto-max-bulk-len bounds a declared bulk length; the query buffer limit
/// bounds what a client may leave unparsed.
#[test]
fn bulk_and_query_buffer_limits() {
    let s = Server::start(&[
        "--io-threads",
        "1",
        "--shards",
        "2",
        "--proto-max-bulk-len",
        "1mb",
        "--client-query-buffer-limit",
        "2mb",
    ]);
    let mut r = s.raw();
    r.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n");
    assert_eq!(
        r.read_reply(),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    assert!(r.closed());
    // A bulk string at the limit is fine.
    let mut c = s.conn();
    let v = vec![b'x'; 1 << 20];
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg(&v[..])
        .query(&mut c)
        .unwrap();
    let n: usize = redis::cmd("STRLEN").arg("k").query(&mut c).unwrap();
    assert_eq!(n, 1 << 20);
    // Many incomplete commands' worth of input past the query buffer limit: disconnected.
    let mut r = s.raw();
    let mut junk = b"*2\r\n$3\r\nGET\r\n$1000000\r\n".to_vec();
    junk.extend(vec![b'y'; 999_000]);
    r.send(&junk);
    let mut more = Vec::new();
    for _ in 0..3 {
        more.extend_from_slice(b"*2\r\n$3\r\nGET\r\n$1000000\r\n");
        more.extend(vec![b'z'; 1_000_002]);
    }
    let _ = std::io::Write::write_all(&mut r.s, &more);
    // The first GET completes (its reply may arrive); then the buffer overflows and the server closes.
    assert!(
        r.closed(),
        "client over client-query-buffer-limit was not disconnected"
    );
    s.assert_alive();
}

/// Thousands of pipelined commands whose keys span both shards come back
/// complete and in request order, including multi-key commands split
/// across shards.
#[test]
fn deep_pipeline_across_shards_in_order() {
    each_mode(|s| {
        let mut r = s.raw();
        let n = 5000;
        let mut msg = Vec::new();
        for i in 0..n {
            let k = format!("key:{i}");
            msg.extend(frame(&[b"SET", k.as_bytes(), format!("v{i}").as_bytes()]));
            msg.extend(frame(&[b"GET", k.as_bytes()]));
            if i % 100 == 0 {
                let k2 = format!("key:{}", i + 1);
                msg.extend(frame(&[b"MGET", k.as_bytes(), b"missing", k2.as_bytes()]));
                msg.extend(frame(&[b"EXISTS", k.as_bytes(), b"missing", k.as_bytes()]));
            }
        }
        r.send(&msg);
        let replies = r.read_replies(2 * n + 2 * (n / 100));
        let mut it = replies.iter();
        for i in 0..n {
            assert_eq!(it.next().unwrap(), "+OK\r\n");
            let v = format!("v{i}");
            assert_eq!(*it.next().unwrap(), format!("${}\r\n{v}\r\n", v.len()));
            if i % 100 == 0 {
                // key i exists, key i+1 not yet set at this point of the pipeline.
                assert_eq!(
                    *it.next().unwrap(),
                    format!("*3\r\n${}\r\n{v}\r\n$-1\r\n$-1\r\n", v.len())
                );
                assert_eq!(it.next().unwrap(), ":2\r\n");
            }
        }
        let mut c = s.conn();
        let size: usize = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(size, n);
    });
}

/// A client that never reads its replies: its output is bounded (parsing
/// pauses, then TCP pushes back), and past client-output-limit it is
/// disconnected. Other clients are served throughout.
#[test]
fn client_that_never_reads() {
    let s = Server::start(&[
        "--io-threads",
        "1",
        "--shards",
        "2",
        "--client-output-limit",
        "1mb",
    ]);
    let mut c = s.conn();
    let big = vec![b'v'; 200 * 1024];
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big[..])
        .query(&mut c)
        .unwrap();
    let mut r = s.raw();
    r.s.set_write_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let get = frame(&[b"GET", b"big"]);
    let mut burst = Vec::new();
    for _ in 0..2000 {
        burst.extend_from_slice(&get);
    }
    // The server may stop reading before all of it is accepted.
    let _ = std::io::Write::write_all(&mut r.s, &burst);
    let v: Vec<u8> = redis::cmd("GET").arg("big").query(&mut c).unwrap();
    assert_eq!(v.len(), big.len());
    assert!(
        r.closed(),
        "slow reader over client-output-limit was not disconnected"
    );
    s.assert_alive();
}

#[test]
fn auth_required() {
    let s = Server::start(&["--colocated", "yes", "--requirepass", "sekret"]);
    let mut r = s.raw();
    r.send(&frame(&[b"GET", b"k"]));
    assert_eq!(r.read_reply(), "-NOAUTH Authentication required.\r\n");
    r.send(&frame(&[b"AUTH", b"wrong"]));
    assert_eq!(
        r.read_reply(),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    r.send(&frame(&[b"AUTH", b"sekret"]));
    assert_eq!(r.read_reply(), "+OK\r\n");
    r.send(&frame(&[b"GET", b"k"]));
    assert_eq!(r.read_reply(), "$-1\r\n");
    let c = redis::Client::open(format!("redis://:sekret@127.0.0.1:{}/", s.port)).unwrap();
    let mut c = c.get_connection().unwrap();
    let _: () = redis::cmd("SET").arg("k").arg("1").query(&mut c).unwrap();
}

#[test]
fn resp3_types() {
    each_mode(|s| {
        let mut r = s.raw();
        r.send(&frame(&[b"HELLO", b"3"]));
        let hello = r.read_reply();
        assert!(hello.starts_with("%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"), "{hello}");
        r.send(&frame(&[b"GET", b"nope"]));
        assert_eq!(r.read_reply(), "_\r\n");
        r.send(&frame(&[b"MGET", b"nope", b"nada", b"zilch"]));
        assert_eq!(r.read_reply(), "*3\r\n_\r\n_\r\n_\r\n");
        r.send(&frame(&[b"CONFIG", b"GET", b"databases"]));
        assert_eq!(r.read_reply(), "%1\r\n$9\r\ndatabases\r\n$2\r\n16\r\n");
        r.send(&frame(&[b"INFO", b"server"]));
        let info = r.read_reply();
        assert!(
            info.starts_with('=')
                && info.contains("txt:# Server")
                && info.contains("redis_version:7.0.15"),
            "{info}"
        );
        r.send(&frame(&[b"HELLO", b"4"]));
        assert_eq!(r.read_reply(), "-NOPROTO unsupported protocol version\r\n");
        r.send(&frame(&[b"HELLO", b"2"]));
        assert!(r.read_reply().starts_with("*14\r\n"));
        r.send(&frame(&[b"GET", b"nope"]));
        assert_eq!(r.read_reply(), "$-1\r\n");
    });
}

#[test]
fn quit_and_reset() {
    let s = Server::colocated();
    let mut r = s.raw();
    r.send(
        &[
            frame(&[b"SELECT", b"3"]),
            frame(&[b"RESET"]),
            frame(&[b"QUIT"]),
            frame(&[b"PING"]),
        ]
        .concat(),
    );
    assert_eq!(r.read_reply(), "+OK\r\n");
    assert_eq!(r.read_reply(), "+RESET\r\n");
    assert_eq!(r.read_reply(), "+OK\r\n");
    assert!(r.closed());
}
