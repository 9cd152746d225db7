//! Issue #18's ACL: users, rules and their descriptions, the permission
//! checks on commands, keys and channels (top level, in MULTI/EXEC, in
//! scripts), ACL LOG, AUTH and HELLO AUTH, requirepass, the ACL file.
//! Replies are compared with redis-server's byte for byte in three
//! layouts; the one thing Redis orders by its hash table (the single
//! commands after the categories in a description, and ACL CAT's list) is
//! compared as a set.

mod common;
use common::*;

/// Sorts each run of single-command rules (`+get -set`, not `+@read`)
/// in a reply, which Redis lists in its command table's hash order.
fn normalize(reply: &str) -> String {
    reply
        .split("\r\n")
        .map(|line| {
            let mut out: Vec<String> = Vec::new();
            let mut run: Vec<&str> = Vec::new();
            for tok in line.split(' ') {
                let single = (tok.starts_with('+') || tok.starts_with('-'))
                    && tok.len() > 1
                    && !tok[1..].starts_with('@')
                    && tok[1..].starts_with(|c: char| c.is_ascii_lowercase());
                if single {
                    run.push(tok);
                } else {
                    run.sort_unstable();
                    out.extend(run.drain(..).map(String::from));
                    out.push(tok.to_string());
                }
            }
            run.sort_unstable();
            out.extend(run.drain(..).map(String::from));
            out.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// Like [`both`], with [`normalize`]d replies.
fn both_n(ours: &mut Raw, theirs: &mut Raw, cmd: &[&str], ctx: &str) -> String {
    let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
    ours.send(&frame(&f));
    theirs.send(&frame(&f));
    let (a, b) = (ours.read_reply(), theirs.read_reply());
    assert_eq!(normalize(&a), normalize(&b), "{ctx}: {cmd:?}");
    a
}

/// Managing users: rules, their errors, descriptions, DRYRUN, DELUSER.
const MANAGE: &[&[&str]] = &[
    &[
        "ACL",
        "SETUSER",
        "alice",
        "on",
        ">p1",
        ">p2",
        "+@read",
        "-get",
        "~a*",
        "%R~b*",
        "%W~c*",
        "&ch*",
        "(+set ~x*)",
    ],
    &["ACL", "GETUSER", "alice"],
    &["ACL", "LIST"],
    &["ACL", "USERS"],
    &["ACL", "SETUSER", "alice", "<p2"],
    &["ACL", "SETUSER", "alice", "<nope"],
    &["ACL", "SETUSER", "alice", "#abc"],
    &[
        "ACL",
        "SETUSER",
        "alice",
        "#F64551FCD6F07823CB87971CFB91446425DA18286B3AB1EF935E0CBD7A69F68A",
    ],
    &[
        "ACL",
        "SETUSER",
        "alice",
        "!6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
    ],
    &[
        "ACL",
        "SETUSER",
        "alice",
        "#6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        "%RW~d*",
        "%R~a*",
    ],
    &["ACL", "GETUSER", "alice"],
    &[
        "ACL",
        "SETUSER",
        "alice",
        "clearselectors",
        "resetkeys",
        "nopass",
    ],
    &["ACL", "GETUSER", "alice"],
    &[
        "ACL",
        "SETUSER",
        "bob",
        "reset",
        "+@all",
        "-@dangerous",
        "~*",
        "&*",
    ],
    &["ACL", "LIST"],
    &[
        "ACL",
        "SETUSER",
        "carol",
        "-@all",
        "+select|0",
        "+client",
        "+@hash",
        "+config|get",
    ],
    &[
        "ACL",
        "SETUSER",
        "dave",
        "+@all",
        "-config|set",
        "-client|kill",
        "-select",
        "+select|0",
    ],
    &[
        "ACL",
        "SETUSER",
        "erin",
        "-@all",
        "+@read",
        "+@write",
        "-@keyspace",
        "+del",
    ],
    &[
        "ACL",
        "SETUSER",
        "frank",
        "nocommands",
        "+@geo",
        "+@sortedset",
        "-zadd",
        "allkeys",
        "allchannels",
    ],
    &[
        "ACL",
        "SETUSER",
        "grace",
        "allcommands",
        "-@admin",
        "+info",
        "skip-sanitize-payload",
        "(~x* +get)",
        "(%W~y* +set &z)",
    ],
    &["ACL", "LIST"],
    &["ACL", "GETUSER", "grace"],
    &["ACL", "GETUSER", "nosuch"],
    // Rule errors change nothing.
    &["ACL", "SETUSER", "bob", "+nosuch"],
    &["ACL", "SETUSER", "bob", "-nosuch"],
    &["ACL", "SETUSER", "bob", "+@nosuch"],
    &["ACL", "SETUSER", "bob", "%X~a"],
    &["ACL", "SETUSER", "bob", "~a"],
    &["ACL", "SETUSER", "bob", "&a"],
    &["ACL", "SETUSER", "bob", "+config|get|x"],
    &["ACL", "SETUSER", "bob", "+config|nosuch"],
    &["ACL", "SETUSER", "bob", "+get|"],
    &["ACL", "SETUSER", "bob", "bogus"],
    &["ACL", "SETUSER", "bob", "off", "bogus"],
    &["ACL", "SETUSER", "bob", "("],
    &["ACL", "SETUSER", "bob", "(+get", "~x"],
    &["ACL", "SETUSER", "bob", "(+get", "~x)"],
    &["ACL", "SETUSER", "b b"],
    &["ACL", "LIST"],
    // DRYRUN: the checks without running.
    &["ACL", "DRYRUN", "alice", "get", "a1"],
    &["ACL", "DRYRUN", "alice", "mget", "a1"],
    &["ACL", "DRYRUN", "bob", "flushall"],
    &["ACL", "DRYRUN", "bob", "get", "x"],
    &["ACL", "DRYRUN", "carol", "select", "0"],
    &["ACL", "DRYRUN", "carol", "select", "1"],
    &["ACL", "DRYRUN", "carol", "config", "get", "x"],
    &["ACL", "DRYRUN", "carol", "config", "set", "x", "y"],
    &["ACL", "DRYRUN", "carol", "client", "list"],
    &["ACL", "DRYRUN", "grace", "get", "x1"],
    &["ACL", "DRYRUN", "grace", "set", "y1", "v"],
    &["ACL", "DRYRUN", "grace", "publish", "z", "m"],
    &["ACL", "DRYRUN", "grace", "publish", "q", "m"],
    &["ACL", "DRYRUN", "nosuch", "get", "x"],
    &["ACL", "DRYRUN", "bob", "nosuch"],
    &["ACL", "DRYRUN", "bob", "get"],
    &["ACL", "DRYRUN", "bob", "config", "get"],
    // The rest of the command.
    &["ACL", "DELUSER", "default"],
    &["ACL", "DELUSER", "alice", "nosuch", "bob"],
    &["ACL", "USERS"],
    &["ACL", "GENPASS", "0"],
    &["ACL", "GENPASS", "4097"],
    &["ACL", "GENPASS", "x"],
    &["ACL", "CAT", "nosuch"],
    &["ACL", "CAT", "a", "b"],
    &["ACL", "CAT"],
    &["ACL", "WHOAMI"],
    &["ACL", "LOG", "x"],
    &["ACL", "LOG", "RESET"],
    &["ACL", "LOG"],
    &["ACL", "LOAD"],
    &["ACL", "SAVE"],
    &["ACL", "SETUSER"],
    &["ACL", "GETUSER", "a", "b"],
    &["ACL", "NOSUCH"],
    &["ACL", "HELP"],
    &["AUTH", "p"],
    &["AUTH", "nosuch", "p"],
    &["AUTH", "a", "b", "c"],
    &["ACL", "DELUSER", "carol", "dave", "erin", "frank", "grace"],
];

#[test]
fn managing_users_matches_redis() {
    for mode in MODES {
        let redis = Redis::start(&[]);
        let s = Server::start(mode);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        let ctx = format!("{mode:?}");
        for cmd in MANAGE {
            both_n(&mut ours, &mut theirs, cmd, &ctx);
        }
        hello3(&mut ours, &mut theirs);
        for cmd in MANAGE {
            both_n(&mut ours, &mut theirs, cmd, &format!("{ctx} RESP3"));
        }
        s.assert_alive();
    }
}

/// Every command's categories in COMMAND INFO, and every category's
/// commands in ACL CAT, are Redis's.
#[test]
fn categories_match_redis() {
    let redis = Redis::start(&[]);
    let s = Server::start(&[]);
    let mut ours = s.conn();
    let mut theirs = conn_to(redis.port);
    let names: Vec<String> = q(&mut ours, &["COMMAND", "LIST"]).unwrap();
    assert!(names.len() > 200);
    for name in &names {
        let cats = |c: &mut redis::Connection| -> Vec<String> {
            let v: Vec<redis::Value> = redis::cmd("COMMAND")
                .arg("INFO")
                .arg(name)
                .query(c)
                .unwrap();
            let redis::Value::Array(info) = &v[0] else {
                panic!("{name}: {v:?}")
            };
            redis::from_redis_value(info[6].clone()).unwrap()
        };
        assert_eq!(cats(&mut ours), cats(&mut theirs), "{name}");
    }
    let all: Vec<String> = q(&mut theirs, &["ACL", "CAT"]).unwrap();
    assert_eq!(all.len(), 21);
    for c in &all {
        let mut a: Vec<String> = q(&mut ours, &["ACL", "CAT", c]).unwrap();
        let mut b: Vec<String> = q(&mut theirs, &["ACL", "CAT", c]).unwrap();
        a.sort();
        b.sort();
        assert_eq!(a, b, "ACL CAT {c}");
    }
}

/// One call of each command with keys, `K` standing for the key (each is
/// tried with a read-only, a write-only and a read-write key). Those
/// with a second key use `K` for it too.
const KEYED: &[&str] = &[
    "get K",
    "set K v",
    "set K v GET",
    "setnx K v",
    "setex K 10 v",
    "psetex K 10 v",
    "getset K v",
    "getdel K",
    "getex K",
    "getrange K 0 1",
    "setrange K 0 v",
    "append K v",
    "strlen K",
    "incr K",
    "incrby K 1",
    "incrbyfloat K 1",
    "decr K",
    "decrby K 1",
    "mget K K",
    "mset K v K v",
    "msetnx K v",
    "lcs K K",
    "substr K 0 1",
    "exists K",
    "del K",
    "unlink K",
    "type K",
    "touch K",
    "ttl K",
    "pttl K",
    "expire K 10",
    "pexpire K 10",
    "expireat K 10",
    "pexpireat K 10",
    "expiretime K",
    "pexpiretime K",
    "persist K",
    "rename K K",
    "renamenx K K",
    "copy K K",
    "move K 1",
    "dump K",
    "restore K 0 x",
    "object encoding K",
    "object freq K",
    "memory usage K",
    "sort K",
    "sort K STORE K",
    "sort_ro K",
    "lpush K a",
    "rpush K a",
    "lpushx K a",
    "rpushx K a",
    "lpop K",
    "rpop K",
    "llen K",
    "lrange K 0 1",
    "lindex K 0",
    "lset K 0 a",
    "linsert K BEFORE a b",
    "lrem K 0 a",
    "ltrim K 0 1",
    "lpos K a",
    "lmove K K LEFT RIGHT",
    "rpoplpush K K",
    "lmpop 1 K LEFT",
    "blpop K 0",
    "brpop K 0",
    "blmove K K LEFT RIGHT 0",
    "sadd K a",
    "srem K a",
    "smembers K",
    "sismember K a",
    "smismember K a",
    "scard K",
    "spop K",
    "srandmember K",
    "smove K K a",
    "sinter K K",
    "sintercard 1 K",
    "sinterstore K K",
    "sunion K",
    "sunionstore K K",
    "sdiff K",
    "sdiffstore K K",
    "sscan K 0",
    "hset K f v",
    "hsetnx K f v",
    "hget K f",
    "hmget K f",
    "hmset K f v",
    "hdel K f",
    "hlen K",
    "hstrlen K f",
    "hexists K f",
    "hgetall K",
    "hkeys K",
    "hvals K",
    "hincrby K f 1",
    "hincrbyfloat K f 1",
    "hrandfield K",
    "hscan K 0",
    "zadd K 1 a",
    "zincrby K 1 a",
    "zrem K a",
    "zcard K",
    "zscore K a",
    "zmscore K a",
    "zrank K a",
    "zrevrank K a",
    "zrange K 0 1",
    "zrangestore K K 0 1",
    "zrevrange K 0 1",
    "zrangebyscore K 0 1",
    "zrangebylex K - +",
    "zcount K 0 1",
    "zlexcount K - +",
    "zpopmin K",
    "zpopmax K",
    "bzpopmin K 0",
    "zmpop 1 K MIN",
    "zunionstore K 1 K",
    "zinterstore K 1 K",
    "zdiffstore K 1 K",
    "zunion 1 K",
    "zinter 1 K",
    "zdiff 1 K",
    "zintercard 1 K",
    "zremrangebyrank K 0 1",
    "zremrangebyscore K 0 1",
    "zremrangebylex K - +",
    "zrandmember K",
    "zscan K 0",
    "setbit K 0 1",
    "getbit K 0",
    "bitcount K",
    "bitpos K 1",
    "bitop AND K K",
    "bitfield K GET u8 0",
    "bitfield K SET u8 0 1",
    "bitfield_ro K GET u8 0",
    "pfadd K a",
    "pfcount K",
    "pfmerge K K",
    "geoadd K 0 0 a",
    "geopos K a",
    "geodist K a b",
    "geohash K a",
    "georadius K 0 0 1 km",
    "georadius K 0 0 1 km STORE K",
    "georadiusbymember K a 1 km",
    "georadius_ro K 0 0 1 km",
    "geosearch K FROMLONLAT 0 0 BYRADIUS 1 km",
    "geosearchstore K K FROMLONLAT 0 0 BYRADIUS 1 km",
    "xadd K * f v",
    "xlen K",
    "xrange K - +",
    "xrevrange K + -",
    "xdel K 1-1",
    "xtrim K MAXLEN 1",
    "xread STREAMS K 0",
    "xreadgroup GROUP g c STREAMS K >",
    "xgroup create K g $",
    "xack K g 1-1",
    "xpending K g",
    "xclaim K g c 0 1-1",
    "xautoclaim K g c 0 0",
    "xinfo stream K",
    "xsetid K 1-1",
    "eval x 1 K",
    "evalsha x 1 K",
    "eval_ro x 1 K",
    "fcall f 1 K",
    "fcall_ro f 1 K",
    "watch K",
];

/// Commands without keys, to try against every category.
const KEYLESS: &[&str] = &[
    "ping",
    "echo x",
    "select 0",
    "dbsize",
    "randomkey",
    "keys *",
    "scan 0",
    "flushdb",
    "flushall",
    "info",
    "config get x",
    "config set x y",
    "client list",
    "client setname n",
    "client kill id 1",
    "command count",
    "time",
    "lastsave",
    "save",
    "bgsave",
    "debug object x",
    "slowlog get",
    "latency latest",
    "memory stats",
    "monitor",
    "publish ch m",
    "subscribe ch",
    "psubscribe ch*",
    "pubsub channels",
    "multi",
    "exec",
    "discard",
    "unwatch",
    "script flush",
    "script load x",
    "function list",
    "auth x",
    "hello",
    "reset",
    "quit",
    "acl whoami",
    "acl list",
    "acl setuser x",
    "swapdb 0 1",
    "shutdown",
    "object help",
    "pfselftest",
];

fn call(template: &str, key: &str) -> Vec<String> {
    template
        .split(' ')
        .map(|t| {
            if t == "K" {
                key.to_string()
            } else {
                t.to_string()
            }
        })
        .collect()
}

/// The checks themselves: ACL DRYRUN of every command above, for a user
/// lacking each category in turn, and for users whose keys may only be
/// read, only be written, or both.
#[test]
fn permission_matrix_matches_redis() {
    let redis = Redis::start(&[]);
    let s = Server::start(&["--io-threads", "2", "--shards", "3"]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let cats: Vec<String> = q(&mut conn_to(redis.port), &["ACL", "CAT"]).unwrap();
    let mut refused = 0;
    for c in &cats {
        let rule = format!("-@{c}");
        let setuser = [
            "ACL", "SETUSER", "m", "reset", "on", "nopass", "+@all", &rule, "~*", "&*",
        ];
        both(&mut ours, &mut theirs, &setuser, "setuser");
        for t in KEYED.iter().chain(KEYLESS) {
            let mut cmd = vec!["ACL".to_string(), "DRYRUN".into(), "m".into()];
            cmd.extend(call(t, "k"));
            let r = both(&mut ours, &mut theirs, &cmd, &format!("without @{c}"));
            refused += r.contains("no permissions") as usize;
        }
    }
    // Every category refused something.
    assert!(refused > 300, "{refused}");
    let users: &[&[&str]] = &[
        &["%R~r*", "~rw*", "%W~w*"],
        &["%RW~rw*", "%R~r*"],
        &["%W~w*", "(%R~r* +@read)"],
        &["~rw*", "(%W~w* -@all +@write)"],
    ];
    for keys in users {
        let mut setuser = vec![
            "ACL", "SETUSER", "k", "reset", "on", "nopass", "+@all", "&*",
        ];
        setuser.extend_from_slice(keys);
        both(&mut ours, &mut theirs, &setuser, "setuser");
        for t in KEYED {
            for key in ["r1", "w1", "rw1", "none"] {
                let mut cmd = vec!["ACL".to_string(), "DRYRUN".into(), "k".into()];
                cmd.extend(call(t, key));
                both(&mut ours, &mut theirs, &cmd, &format!("{keys:?}"));
            }
        }
    }
    // Channels: patterns match channels; PSUBSCRIBE's only literally.
    let chan = [
        "ACL", "SETUSER", "c", "reset", "on", "nopass", "+@all", "~*", "&news.*", "&exact",
    ];
    both(&mut ours, &mut theirs, &chan, "setuser");
    for t in [
        "publish news.1 m",
        "publish other m",
        "subscribe news.1 exact",
        "subscribe news.1 other",
        "psubscribe news.*",
        "psubscribe news.1",
        "psubscribe exact",
        "spublish news.1 m",
        "ssubscribe other",
        "unsubscribe other",
        "punsubscribe other",
    ] {
        let mut cmd = vec!["ACL".to_string(), "DRYRUN".into(), "c".into()];
        cmd.extend(call(t, ""));
        both(&mut ours, &mut theirs, &cmd, "channels");
    }
    s.assert_alive();
}

/// Runs `cmds` as user `user` (password `pass`) on both servers and
/// compares replies.
fn as_user(ours: &mut Raw, theirs: &mut Raw, user: &str, pass: &str, cmds: &[&[&str]], ctx: &str) {
    both(ours, theirs, &["AUTH", user, pass], ctx);
    for cmd in cmds {
        both_n(ours, theirs, cmd, ctx);
    }
}

/// What a refused user sees, and what ACL LOG records, at the top level,
/// in MULTI/EXEC and in scripts; AUTH, HELLO AUTH, RESET and WHOAMI.
#[test]
fn refusals_match_redis() {
    for mode in MODES {
        let redis = Redis::start(&[]);
        let s = Server::start(mode);
        let (mut admin_o, mut admin_t) = (s.raw(), redis.raw());
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        let ctx = format!("{mode:?}");
        for cmd in [
            &["SET", "r1", "v"][..],
            &["LPUSH", "list", "1", "2"],
            &[
                "ACL",
                "SETUSER",
                "u",
                "on",
                ">pw",
                "+@all",
                "-get",
                "-@dangerous",
                "%R~r*",
                "~rw*",
                "%W~w*",
                "&ch*",
            ],
            &["ACL", "SETUSER", "off", "off", ">pw", "+@all"],
            &["ACL", "LOG", "RESET"],
        ] {
            both(&mut admin_o, &mut admin_t, cmd, &ctx);
        }
        let cmds: &[&[&str]] = &[
            &["ACL", "WHOAMI"],
            &["GET", "r1"],
            &["GETRANGE", "r1", "0", "-1"],
            &["SET", "r1", "v"],
            &["SET", "w1", "v"],
            &["SET", "w1", "v", "GET"],
            &["APPEND", "rw1", "x"],
            &["MGET", "r1", "w1"],
            &["MSET", "w1", "a", "w2", "b"],
            &["MSET", "w1", "a", "r2", "b"],
            &["KEYS", "*"],
            &["FLUSHALL"],
            &["CONFIG", "SET", "maxmemory", "0"],
            &["CONFIG", "GET", "maxmemory"],
            &["PUBLISH", "ch1", "m"],
            &["PUBLISH", "other", "m"],
            &["SORT", "r1"],
            &["SORT", "list", "BY", "w*"],
            &["SORT", "list", "GET", "r*"],
            &["SORT", "list", "GET", "r*", "BY", "w*"],
            &["SORT", "list", "BY", "nosort", "GET", "#"],
            &["EVAL", "return redis.call('get','r1')", "0"],
            &["EVAL", "return redis.pcall('set','r1','x')", "0"],
            &["EVAL", "return redis.call('getrange','r1',0,-1)", "0"],
            &["EVAL", "return redis.call('append','w1','x')", "0"],
            &["MULTI"],
            &["SET", "w1", "1"],
            &["EXEC"],
            &["MULTI"],
            &["SET", "w1", "1"],
            &["GET", "r1"],
            &["EXEC"],
            &["MULTI"],
            &["GETRANGE", "r1", "0", "-1"],
            &["SET", "w1", "2"],
            &["EXEC"],
            &["AUTH", "u", "wrong"],
            &["AUTH", "off", "pw"],
            &["AUTH", "nosuch", "pw"],
            &["HELLO", "2", "AUTH", "u", "wrong"],
            &["ACL", "WHOAMI"],
        ];
        as_user(&mut ours, &mut theirs, "u", "pw", cmds, &ctx);
        // The log, newest first, without its clock and client fields.
        let log = |c: &mut redis::Connection| -> Vec<Vec<String>> {
            let v: Vec<Vec<redis::Value>> = q(c, &["ACL", "LOG"]).unwrap();
            v.into_iter()
                .map(|e| {
                    e.chunks(2)
                        .filter_map(|kv| {
                            let k: String = redis::from_redis_value(kv[0].clone()).ok()?;
                            let keep = ["count", "reason", "context", "object", "username"];
                            if !keep.contains(&k.as_str()) {
                                return None;
                            }
                            let v = match &kv[1] {
                                redis::Value::Int(n) => n.to_string(),
                                other => redis::from_redis_value::<String>(other.clone()).ok()?,
                            };
                            Some(format!("{k}={v}"))
                        })
                        .collect()
                })
                .collect()
        };
        assert_eq!(log(&mut s.conn()), log(&mut conn_to(redis.port)), "{ctx}");
        // A queued command the user may no longer run when EXEC comes.
        for cmd in [&["MULTI"][..], &["SET", "w1", "3"], &["APPEND", "rw1", "y"]] {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        both(
            &mut admin_o,
            &mut admin_t,
            &["ACL", "SETUSER", "u", "-append"],
            &ctx,
        );
        both(&mut ours, &mut theirs, &["EXEC"], &ctx);
        // RESET: back to the default user.
        for cmd in [&["RESET"][..], &["ACL", "WHOAMI"], &["GET", "r1"]] {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        // HELLO AUTH (its reply names each server's client id).
        for r in [&mut ours, &mut theirs] {
            r.send(&frame(&[b"HELLO", b"3", b"AUTH", b"u", b"pw"]));
            assert!(r.read_reply().starts_with('%'));
        }
        for cmd in [
            &["ACL", "WHOAMI"][..],
            &["GET", "r1"],
            &["ACL", "DRYRUN", "u", "get", "r1"],
        ] {
            let r = both_n(&mut ours, &mut theirs, cmd, &ctx);
            assert!(!r.is_empty());
        }
        s.assert_alive();
    }
}

/// requirepass is the default user's password: new connections must
/// AUTH, CONFIG SET changes it, `requirepass ""` makes it `nopass`.
#[test]
fn requirepass_is_the_default_users_password() {
    for mode in MODES {
        let redis = Redis::start(&["--requirepass", "sekret"]);
        let mut args = mode.to_vec();
        args.extend(["--requirepass", "sekret"]);
        let s = Server::start(&args);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        let ctx = format!("{mode:?}");
        for cmd in [
            &["GET", "x"][..],
            &["ACL", "WHOAMI"],
            &["AUTH", "wrong"],
            &["AUTH", "default", "wrong"],
            &["AUTH", "sekret"],
            &["ACL", "LIST"],
            &["CONFIG", "SET", "requirepass", "other"],
            &["ACL", "LIST"],
            &["AUTH", "other"],
            &["CONFIG", "SET", "requirepass", ""],
            &["ACL", "LIST"],
            &["AUTH", "x"],
            &["ACL", "SETUSER", "default", "resetpass", ">pw2"],
        ] {
            both(&mut ours, &mut theirs, cmd, &ctx);
        }
        // A new connection now needs the new password.
        let (mut o2, mut t2) = (s.raw(), redis.raw());
        for cmd in [
            &["PING"][..],
            &["HELLO", "3"],
            &["AUTH", "pw2"],
            &["PING"],
            &["ACL", "SETUSER", "default", "nopass"],
        ] {
            both(&mut o2, &mut t2, cmd, &ctx);
        }
        s.assert_alive();
    }
}

/// Deleting a user disconnects its clients; narrowing its channels
/// disconnects its subscribers; a changed user applies to its logged-in
/// clients at their next command.
#[test]
fn changes_reach_logged_in_clients() {
    each_mode(|s| {
        let mut admin = s.conn();
        let _: () = q(
            &mut admin,
            &["ACL", "SETUSER", "v", "on", ">pw", "+@all", "~*", "&*"],
        )
        .unwrap();
        let mut c = s.raw();
        c.send(&frame(&[b"AUTH", b"v", b"pw"]));
        assert_eq!(c.read_reply(), "+OK\r\n");
        let _: () = q(&mut admin, &["ACL", "SETUSER", "v", "-get"]).unwrap();
        c.send(&frame(&[b"GET", b"x"]));
        assert_eq!(
            c.read_reply(),
            "-NOPERM this user has no permissions to run the 'get' command\r\n"
        );
        // A subscriber loses its connection when its channels shrink.
        let mut sub = s.raw();
        sub.send(&frame(&[b"AUTH", b"v", b"pw"]));
        assert_eq!(sub.read_reply(), "+OK\r\n");
        sub.send(&frame(&[b"SUBSCRIBE", b"news"]));
        assert!(sub.read_reply().contains("subscribe"));
        let _: () = q(
            &mut admin,
            &["ACL", "SETUSER", "v", "resetchannels", "&other"],
        )
        .unwrap();
        assert!(sub.closed(), "subscriber kept after its channels went");
        // The other client, not subscribed, stays until its user goes.
        c.send(&frame(&[b"PING"]));
        assert_eq!(c.read_reply(), "+PONG\r\n");
        let n: i64 = q(&mut admin, &["ACL", "DELUSER", "v"]).unwrap();
        assert_eq!(n, 1);
        assert!(c.closed(), "client of a deleted user kept");
        // Clients of a user that never existed are refused at AUTH.
        let mut d = s.raw();
        d.send(&frame(&[b"AUTH", b"v", b"pw"]));
        assert!(d.read_reply().starts_with("-WRONGPASS"));
        let list: String = q(&mut admin, &["CLIENT", "LIST"]).unwrap();
        assert!(list.contains("user=default"), "{list}");
        // CLIENT KILL USER.
        let _: () = q(
            &mut admin,
            &["ACL", "SETUSER", "w", "on", "nopass", "+@all"],
        )
        .unwrap();
        d.send(&frame(&[b"AUTH", b"w", b"x"]));
        assert_eq!(d.read_reply(), "+OK\r\n");
        let killed: i64 = q(&mut admin, &["CLIENT", "KILL", "USER", "w"]).unwrap();
        assert_eq!(killed, 1);
        assert!(d.closed());
        let e = err(&mut admin, &["CLIENT", "KILL", "USER", "nosuch"]);
        assert!(e.contains("No such user 'nosuch'"), "{e}");
        s.assert_alive();
    });
}

/// ACL SAVE writes the users to `aclfile`, ACL LOAD reads them back (and
/// refuses a file with errors whole), and the server starts with them.
#[test]
fn acl_file_round_trips() {
    let dir = TempDir::new("aclfile");
    let path = format!("{}/users.acl", dir.path());
    std::fs::write(
        &path,
        "user default on nopass ~* &* +@all\nuser ann on #6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b ~a* -@all +get\n",
    )
    .unwrap();
    let s = Server::start(&["--aclfile", &path]);
    let mut c = s.conn();
    let users: Vec<String> = q(&mut c, &["ACL", "LIST"]).unwrap();
    assert_eq!(
        users,
        [
            "user ann on #6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b ~a* resetchannels -@all +get",
            "user default on nopass ~* &* +@all"
        ]
    );
    let mut a = s.raw();
    a.send(&frame(&[b"AUTH", b"ann", b"1"]));
    assert_eq!(a.read_reply(), "+OK\r\n");
    let _: () = q(
        &mut c,
        &["ACL", "SETUSER", "bea", "on", ">x", "+@read", "~b*"],
    )
    .unwrap();
    let _: () = q(&mut c, &["ACL", "SAVE"]).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("user bea on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 ~b* resetchannels -@all +@read\n"), "{text}");
    // A file with an error changes nothing.
    std::fs::write(&path, "user zed on +nosuch\n").unwrap();
    let e = err(&mut c, &["ACL", "LOAD"]);
    assert!(e.contains("Error in applying operation '+nosuch'"), "{e}");
    assert!(
        e.ends_with("no change to the previously active ACL rules was performed"),
        "{e}"
    );
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]).unwrap();
    assert_eq!(users, ["ann", "bea", "default"]);
    // A good one replaces every user; ann's client is disconnected.
    std::fs::write(&path, "user cy on nopass +@all ~*\n").unwrap();
    let _: () = q(&mut c, &["ACL", "LOAD"]).unwrap();
    let users: Vec<String> = q(&mut c, &["ACL", "USERS"]).unwrap();
    assert_eq!(users, ["cy", "default"]);
    a.send(&frame(&[b"PING"]));
    assert!(a.closed());
    // The default user's clients stay.
    let _: String = q(&mut c, &["PING"]).unwrap();
    // A bad file stops the server from starting.
    std::fs::write(&path, "user x on bogus\n").unwrap();
    let out = run_tandem_expecting_exit(&["--aclfile", &path]);
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("Aborting Redis startup because of ACL errors"),
        "{log}"
    );
    s.assert_alive();
}

/// The ACL directives: CONFIG GET/SET with Redis's checks.
#[test]
fn acl_directives_match_redis() {
    let redis = Redis::start(&[]);
    let s = Server::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    for cmd in [
        &["CONFIG", "GET", "acllog-max-len"][..],
        &["CONFIG", "GET", "acl-pubsub-default"],
        &["CONFIG", "GET", "protected-mode"],
        &["CONFIG", "SET", "acllog-max-len", "-1"],
        &["CONFIG", "SET", "acllog-max-len", "2"],
        &["CONFIG", "SET", "acl-pubsub-default", "x"],
        &["CONFIG", "SET", "acl-pubsub-default", "allchannels"],
        &["ACL", "SETUSER", "p"],
        &["ACL", "LIST"],
        &["CONFIG", "SET", "acl-pubsub-default", "resetchannels"],
        &["CONFIG", "SET", "protected-mode", "no"],
        &["CONFIG", "GET", "protected-mode"],
        &["CONFIG", "SET", "aclfile", "x"],
        // acllog-max-len 2: the log keeps two entries.
        &["AUTH", "p", "1"],
        &["AUTH", "q", "1"],
        &["AUTH", "r", "1"],
        &["ACL", "LOG", "5"],
    ] {
        if cmd[0] == "ACL" && cmd[1] == "LOG" {
            let f: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
            ours.send(&frame(&f));
            theirs.send(&frame(&f));
            let (a, b) = (ours.read_reply(), theirs.read_reply());
            assert!(
                a.starts_with("*2\r\n") && b.starts_with("*2\r\n"),
                "{a}\n{b}"
            );
            continue;
        }
        both(&mut ours, &mut theirs, cmd, "directives");
    }
    s.assert_alive();
}

/// This host's IPv4 addresses that are not loopback (getifaddrs).
fn outside_addresses() -> Vec<std::net::Ipv4Addr> {
    let mut out = Vec::new();
    // SAFETY: getifaddrs fills a list we walk read-only and then free.
    unsafe {
        let mut ifs: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut ifs) != 0 {
            return out;
        }
        let mut p = ifs;
        while !p.is_null() {
            let a = (*p).ifa_addr;
            if !a.is_null() && (*a).sa_family as i32 == libc::AF_INET {
                let sin = &*(a as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !ip.is_loopback() {
                    out.push(ip);
                }
            }
            p = (*p).ifa_next;
        }
        libc::freeifaddrs(ifs);
    }
    out
}

/// `protected-mode`: while the default user has no password, a client
/// from an address that is not loopback gets Redis's DENIED message and
/// is disconnected; with the mode off, or a password set, it is served.
/// Loopback clients always are. (On a host with loopback only, only the
/// last is exercised.)
#[test]
fn protected_mode_refuses_remote_clients() {
    let s = Server::start(&["--bind", "0.0.0.0"]);
    let mut admin = s.conn();
    let _: String = q(&mut admin, &["PING"]).unwrap();
    let Some(ip) = outside_addresses().into_iter().next() else {
        return;
    };
    let remote = || {
        let c = std::net::TcpStream::connect((ip, s.port)).unwrap();
        c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        c
    };
    use std::io::{Read, Write};
    let mut c = remote();
    let mut text = String::new();
    let _ = c.read_to_string(&mut text);
    assert!(
        text.starts_with("-DENIED Redis is running in protected mode"),
        "{text}"
    );
    let _: () = q(&mut admin, &["CONFIG", "SET", "protected-mode", "no"]).unwrap();
    let mut c = remote();
    c.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    let _: () = q(&mut admin, &["CONFIG", "SET", "protected-mode", "yes"]).unwrap();
    let _: () = q(&mut admin, &["CONFIG", "SET", "requirepass", "pw"]).unwrap();
    let mut c = remote();
    c.write_all(b"PING\r\n").unwrap();
    let mut buf = [0u8; 7];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"-NOAUTH");
    let _: () = q(&mut admin, &["CONFIG", "SET", "requirepass", ""]).unwrap();
    s.assert_alive();
}

/// `user` lines in the config file create users at start-up; CONFIG
/// REWRITE writes the users back in their place; users and an
/// `aclfile` together stop start-up, as in Redis.
#[test]
fn config_file_users_and_rewrite() {
    let dir = TempDir::new("aclconf");
    let conf = format!("{}/tandem.conf", dir.path());
    std::fs::write(
        &conf,
        "# users\nuser ann on >pw ~a* -@all +get\nport 0\nuser default on nopass ~* &* +@all\n",
    )
    .unwrap();
    let s = Server::start_with_file(Some(&conf), &[]);
    let mut c = s.conn();
    let users: Vec<String> = q(&mut c, &["ACL", "LIST"]).unwrap();
    assert_eq!(
        users,
        [
            "user ann on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a* resetchannels -@all +get",
            "user default on nopass sanitize-payload ~* &* +@all"
        ]
    );
    let mut a = s.raw();
    a.send(&frame(&[b"AUTH", b"ann", b"pw"]));
    assert_eq!(a.read_reply(), "+OK\r\n");
    a.send(&frame(&[b"SET", b"a1", b"v"]));
    assert!(a.read_reply().starts_with("-NOPERM"));
    let _: () = q(&mut c, &["ACL", "SETUSER", "bo", "on", "nopass", "+@read"]).unwrap();
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]).unwrap();
    let text = std::fs::read_to_string(&conf).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "# users");
    assert_eq!(
        lines[1],
        "user ann on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a* resetchannels -@all +get"
    );
    assert!(
        lines.contains(&"user bo on nopass resetchannels -@all +@read"),
        "{text}"
    );
    assert!(
        lines.contains(&"user default on nopass sanitize-payload ~* &* +@all"),
        "{text}"
    );
    s.assert_alive();
    // Both ways of declaring users at once: refused.
    std::fs::write(&conf, "user x on nopass\n").unwrap();
    let acl = format!("{}/users.acl", dir.path());
    std::fs::write(&acl, "").unwrap();
    let start = |extra: &[&str]| {
        let port = free_port().to_string();
        output_within(
            std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
                .arg(&conf)
                .args(["--port", &port, "--save", ""])
                .args(extra),
            20,
        )
    };
    let out = start(&["--aclfile", &acl]);
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("users defined in redis.conf and at the same setting an ACL file"),
        "{log}"
    );
    // A bad rule stops start-up.
    std::fs::write(&conf, "user x on +nosuch\n").unwrap();
    let out = start(&[]);
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("Error loading ACL rule '+nosuch' for the user named 'x'"),
        "{log}"
    );
}

/// Random rule lists, valid and not, against both servers: the same
/// replies, the same users after each (compared through ACL LIST), and
/// no rule that upsets the server.
#[test]
fn random_rules_match_redis() {
    const FRAGMENTS: &[&str] = &[
        "on",
        "off",
        "nopass",
        "resetpass",
        ">p",
        "<p",
        ">q",
        "#6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        "!6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        "#zz",
        "~a*",
        "%R~b*",
        "%W~c",
        "%RW~d?",
        "%WR~e",
        "%X~f",
        "%R",
        "allkeys",
        "~*",
        "resetkeys",
        "&ch*",
        "&*",
        "allchannels",
        "resetchannels",
        "+get",
        "-get",
        "+@read",
        "-@write",
        "+@all",
        "-@all",
        "allcommands",
        "nocommands",
        "+config|get",
        "-config|set",
        "+select|0",
        "+select|1",
        "+debug|object",
        "+nosuch",
        "-nosuch",
        "+@nosuch",
        "(~x +set)",
        "(+@hash &n*)",
        "(",
        "(+get",
        "~y)",
        "clearselectors",
        "reset",
        "skip-sanitize-payload",
        "sanitize-payload",
        "+@hash",
        "-@dangerous",
        "+client",
        "-client|kill",
        "bogus",
        "",
        "+",
        "-",
        "~",
        "&",
        "+@",
        "+get|",
        "+config|get|x",
        "\u{e9}",
        "+\u{e9}|x",
    ];
    let redis = Redis::start(&[]);
    let s = Server::start(&["--io-threads", "2", "--shards", "3"]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let mut rng = Rng(0x5eed_ac10);
    for round in 0..1500 {
        let user = format!("r{}", rng.below(3));
        let mut cmd = vec!["ACL".to_string(), "SETUSER".into(), user];
        for _ in 0..1 + rng.below(4) {
            cmd.push(FRAGMENTS[rng.below(FRAGMENTS.len() as u64) as usize].to_string());
        }
        let cmd: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        both_n(&mut ours, &mut theirs, &cmd, &format!("round {round}"));
        if round % 8 == 0 {
            both_n(
                &mut ours,
                &mut theirs,
                &["ACL", "LIST"],
                &format!("round {round}"),
            );
            both_n(
                &mut ours,
                &mut theirs,
                &["ACL", "GETUSER", "r0"],
                &format!("round {round}"),
            );
        }
    }
    s.assert_alive();
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS for every command above, and
/// every command's key specifications in COMMAND INFO, as redis-server
/// gives them: the key specs behind the ACL key checks.
#[test]
fn keys_and_flags_match_redis() {
    let redis = Redis::start(&[]);
    let s = Server::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    for t in KEYED.iter().chain(&[
        "sort k LIMIT 0 1 STORE d GET x BY y",
        "sort k STORE",
        "sort k store a store b",
        "bitfield k GET u8",
        "bitfield k OVERFLOW WRAP GET u8 0",
        "bitfield k INCRBY u8 0 1",
        "zunionstore d x k",
        "zunionstore d 5 k",
        "lmpop 0 k LEFT",
        "xread COUNT 1 STREAMS a b c",
        "xread STREAMS a b 0 0",
        "eval x 0",
        "fcall f 0 a",
        "set k v get",
        "set k v getx",
        "georadius k 0 0 1 km STORE a STOREDIST b",
        "spublish ch m",
        "object encoding k",
        "object nosuch k",
        "memory usage k",
        "xinfo stream k",
        "get",
        "get a b",
        "ping",
        "nosuch k",
        "config get x",
    ]) {
        for sub in ["GETKEYS", "GETKEYSANDFLAGS"] {
            let mut cmd = vec!["COMMAND".to_string(), sub.to_string()];
            cmd.extend(call(t, "k"));
            both(&mut ours, &mut theirs, &cmd, sub);
        }
    }
    let mut c = s.conn();
    let names: Vec<String> = q(&mut c, &["COMMAND", "LIST"]).unwrap();
    let mut r = conn_to(redis.port);
    for name in &names {
        let specs = |c: &mut redis::Connection| -> redis::Value {
            let v: Vec<redis::Value> = redis::cmd("COMMAND")
                .arg("INFO")
                .arg(name)
                .query(c)
                .unwrap();
            let redis::Value::Array(info) = &v[0] else {
                panic!("{name}: {v:?}")
            };
            info[8].clone()
        };
        assert_eq!(specs(&mut c), specs(&mut r), "{name}");
    }
    s.assert_alive();
}
