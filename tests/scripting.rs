//! Lua scripting (issue #13): EVAL and friends against redis-server 7.0,
//! reply bytes compared, including a case per row of the conversion tables
//! (Lua → RESP2, Lua → RESP3, RESP2 → Lua, RESP3 → Lua); real clients
//! (the `redis` crate's `Script`, `redis-cli --eval`); atomicity of scripts
//! across shards, with declared and with undeclared keys, under
//! concurrency; `-BUSY` and SCRIPT KILL; and scripts that try to hurt the
//! server. Every loop is bounded in count and time.

mod common;
use common::*;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Each script is a list of commands (one EVAL per line: `EVAL`, the
/// body, then its arguments, separated by `|`), run after FLUSHALL on a
/// tandem layout and on redis-server; every reply must be byte-identical.
const CASES: &[&[&str]] = &[
    // Lua → RESP2, one row each.
    &[
        "EVAL|return 42|0",
        "EVAL|return 3.99|0",
        "EVAL|return -3.99|0",
        // Out of range and NaN: x86's LLONG_MIN, as redis-server.
        "EVAL|return 0/0|0",
        "EVAL|return 2^63|0",
        "EVAL|return {-2^70, 1/0}|0",
    ],
    &[
        "EVAL|return 'hello'|0",
        "EVAL|return true|0",
        "EVAL|return false|0",
        "EVAL|return nil|0",
    ],
    &[
        "EVAL|return {1, 'two', {3, 'four'}}|0",
        "EVAL|return {1, 2, nil, 4}|0",
    ],
    &[
        "EVAL|return {ok='fine'}|0",
        "EVAL|return {err='MYERR bad'}|0",
    ],
    &[
        "EVAL|return redis.status_reply('ST')|0",
        "EVAL|return redis.error_reply('E1 x')|0",
    ],
    &[
        "EVAL|return {double=3.5}|0",
        "EVAL|return {big_number='123456789012345678901'}|0",
    ],
    &["EVAL|return {map={a=1}}|0", "EVAL|return {set={x=true}}|0"],
    &["EVAL|return {verbatim_string={format='txt', string='hi'}}|0"],
    &["EVAL|return {1, 'a', {ok='x'}, {err='y'}, false, true}|0"],
    // Lua → RESP3: the same rows for a HELLO 3 client.
    &[
        "HELLO|3",
        "EVAL|return 42|0",
        "EVAL|return 3.99|0",
        "EVAL|return 'hello'|0",
        "EVAL|return true|0",
        "EVAL|return false|0",
        "EVAL|return nil|0",
        "EVAL|return {1, 'two', {3}}|0",
        "EVAL|return {ok='fine'}|0",
        "EVAL|return {err='MYERR bad'}|0",
        "EVAL|return {double=3.5}|0",
        "EVAL|return {big_number='123456789012345678901'}|0",
        "EVAL|return {map={a=1}}|0",
        "EVAL|return {set={x=true}}|0",
        "EVAL|return {verbatim_string={format='txt', string='hi'}}|0",
        "HELLO|2",
    ],
    // RESP2 → Lua: what redis.call hands the script, by type().
    &[
        "SET|s|v",
        "RPUSH|l|a|b",
        "EVAL|return type(redis.call('incr', 'n'))|0",
        "EVAL|return redis.call('incr', 'n') + 1|0",
        "EVAL|return {type(redis.call('get', 's')), redis.call('get', 's')}|0",
        "EVAL|return {type(redis.call('get', 'nosuch')), tostring(redis.call('get', 'nosuch'))}|0",
        "EVAL|local t = redis.call('lrange', 'l', 0, -1) return {type(t), #t, t[2]}|0",
        "EVAL|local t = redis.call('set', 'k', 'v') return {type(t), t.ok}|0",
        "EVAL|local t = redis.pcall('incr', 's') return {type(t), t.err}|0",
        "EVAL|return redis.pcall('incr', 's')|0",
        "EVAL|return redis.call('lrange', 'nosuch', 0, -1)|0",
    ],
    // RESP3 → Lua after redis.setresp(3).
    &[
        "HSET|h|f|1",
        "SADD|st|m",
        "ZADD|z|1.5|m",
        "EVAL|redis.setresp(3) local t = redis.call('hgetall', 'h') return {type(t.map), t.map.f}|0",
        "EVAL|redis.setresp(3) local t = redis.call('smembers', 'st') return tostring(t.set.m)|0",
        "EVAL|redis.setresp(3) return tostring(redis.call('get', 'nosuch'))|0",
        "EVAL|redis.setresp(3) local t = redis.call('zscore', 'z', 'm') return tostring(t.double)|0",
        "EVAL|redis.setresp(3) return redis.call('hgetall', 'h')|0",
        "EVAL|redis.setresp(3) return redis.call('zscore', 'z', 'm')|0",
        "EVAL|return redis.call('zscore', 'z', 'm')|0",
        "EVAL|return redis.setresp(4)|0",
    ],
    // KEYS and ARGV, numkeys errors, EVALSHA and SCRIPT.
    &[
        "EVAL|return {KEYS[1], KEYS[2], ARGV[1], #ARGV}|2|a|b|c|d",
        "EVAL|return 1|-1",
        "EVAL|return 1|3|a",
        "EVAL|return 1|x",
        "SCRIPT|LOAD|return 'loaded'",
        "EVALSHA|b6d23a5e5a6ffa3fbd4d38aa4ab1f4ac40a85cd1|0",
        "EVALSHA|B6D23A5E5A6FFA3FBD4D38AA4AB1F4AC40A85CD1|0",
        "SCRIPT|EXISTS|b6d23a5e5a6ffa3fbd4d38aa4ab1f4ac40a85cd1|ffffffffffffffffffffffffffffffffffffffff",
        "SCRIPT|FLUSH",
        "EVALSHA|b6d23a5e5a6ffa3fbd4d38aa4ab1f4ac40a85cd1|0",
        "SCRIPT|LOAD|return (",
        "SCRIPT|FLUSH|bad",
        "SCRIPT|NOPE",
        "SCRIPT|KILL",
        "EVALSHA|nosuch|0",
    ],
    // Errors: compile, run time, from redis.call, the sandbox.
    &[
        "SET|s|v",
        "EVAL|return (|0",
        "EVAL|error('boom')|0",
        "EVAL|error({err='MY boom'})|0",
        "EVAL|return redis.call('incr', 's')|0",
        "EVAL|local x = 1\nreturn redis.call('incr', 's')|0",
        "EVAL|return redis.call('nosuch')|0",
        "EVAL|return redis.call('get')|0",
        "EVAL|return redis.call('eval', 'return 1', 0)|0",
        "EVAL|return redis.call('blpop', 'l', 0)|0",
        "EVAL|return redis.call()|0",
        "EVAL|return redis.call({})|0",
        "EVAL|foo = 1|0",
        "EVAL|return foo|0",
        "EVAL|return os|0",
        "EVAL|_G.x = 1|0",
        "EVAL|string.foo = 1|0",
        "EVAL|KEYS = {}|0",
        "EVAL_RO|return redis.call('set', 'x', 'y')|0",
        "EVAL_RO|return redis.call('get', 's')|0",
        // A shebang declares writes: refused under *_RO before running.
        "EVAL_RO|#!lua\nreturn 1|0",
        "EVAL_RO|#!lua flags=no-writes\nreturn 1|0",
        "EVAL_RO|#!lua flags=allow-oom\nreturn redis.call('get', 's')|0",
        "SCRIPT|LOAD|#!lua\nreturn 1",
        "SCRIPT|LOAD|#!lua flags=bogus\nreturn 1",
        "SCRIPT|LOAD|#!lua\nreturn +",
        "EVALSHA_RO|cb70127618f0b0be70c53cf6bfcfa54a29d9b0c0|0",
        "EVAL|local ok, e = pcall(function() return redis.call('incr', 's') end) return e|0",
        "EVAL|return pcall(error)|0",
    ],
    // Commands from scripts: numbers as arguments, SELECT, writes seen after.
    &[
        "EVAL|return redis.call('set', 'n', 3.0)|0",
        "EVAL|redis.call('set', 'f', 0.1) return redis.call('get', 'f')|0",
        "EVAL|redis.call('select', 3) redis.call('set', 'in3', 'x') return redis.call('get', 'in3')|0",
        "GET|in3",
        "SELECT|3",
        "GET|in3",
        "SELECT|0",
        "EVAL|return redis.call('mset', KEYS[1], 1, KEYS[2], 2, KEYS[3], 3)|3|a|b|c",
        "EVAL|return redis.call('mget', KEYS[1], KEYS[2], KEYS[3], 'nosuch')|3|a|b|c",
        "EVAL|return redis.call('del', 'a', 'b', 'c', 'd')|0",
        "EVAL|return redis.call('exists', 'a', 'b')|0",
        "EVAL|redis.call('rpush', KEYS[1], 'x', 'y') return redis.call('lmove', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')|1|{t}l",
        "EVAL|return redis.sha1hex('')|0",
        "EVAL|return redis.REDIS_VERSION|0",
        "EVAL|return {redis.LOG_WARNING, redis.REPL_ALL}|0",
        "EVAL|redis.log(redis.LOG_WARNING, 'from a script') return 1|0",
        "EVAL|return redis.call('ping')|0",
        "EVAL|return redis.call('echo', 'e')|0",
    ],
    // Functions: FUNCTION LOAD's checks, FCALL and FCALL_RO, errors.
    &[
        "FUNCTION|FLUSH",
        "FUNCTION|LOAD|#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return {keys[1], args[1]} end)\nredis.register_function{function_name='ro', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='read one'}",
        "FCALL|myfunc|1|k|a",
        "FCALL_RO|myfunc|1|k|a",
        "FCALL_RO|ro|1|k",
        "FCALL|nosuch|0",
        "FCALL|myfunc|-1",
        "FUNCTION|LOAD|#!lua name=mylib\nredis.register_function('x', function() return 1 end)",
        "FUNCTION|LOAD|#!lua name=other\nredis.register_function('myfunc', function() return 1 end)",
        "FUNCTION|LOAD|return 1",
        "FUNCTION|LOAD|#!lua name=empty\nlocal x = 1",
        "FUNCTION|LOAD|#!lua name=bad\nredis.call('set','a','b')",
        "FUNCTION|LOAD|#!lua\nredis.register_function('f', function() return 1 end)",
        "FUNCTION|LOAD|#!lua name=f2 flags=x\nredis.register_function('f', function() return 1 end)",
        "FUNCTION|LOAD|#!lua name=bad(\nredis.register_function('f', function() return 1 end)",
        "FUNCTION|LOAD|#!lua name=ok2\nredis.register_function('bad name', function() return 1 end)",
        "FUNCTION|LOAD|#!lua name=ok3\nredis.register_function{function_name='g', callback=function() return 1 end, flags={'bogus'}}",
        "FUNCTION|LOAD|#!lua name=dup\nredis.register_function('f1', function() return 1 end)\nredis.register_function('f1', function() return 2 end)",
        "FUNCTION|LOAD|#!lua name=loop\nwhile true do end",
        "FUNCTION|STATS",
        "FUNCTION|DELETE|nosuch",
        "FUNCTION|DELETE|mylib",
        "FUNCTION|KILL",
        "FCALL|myfunc|1|k|a",
        "FUNCTION|LOAD|#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) error('oops') end)",
        "FCALL|myfunc|0",
        "FUNCTION|LOAD|#!lua name=lib2\nlocal function helper() return redis.call('ping') end\nredis.register_function('usehelper', function(keys, args) return helper() end)\nredis.register_function('fw', function(keys, args) return redis.call('set', keys[1], args[1]) end)",
        "FCALL|usehelper|0",
        "FCALL_RO|fw|1|k|v",
        "FCALL|fw|1|k|v",
        "GET|k",
        "FUNCTION|LOAD|REPLACE|#!lua name=lib2\nredis.register_function('fw2', function(keys, args) return KEYS end)",
        "FCALL|fw|1|k|v",
        "FCALL|fw2|0",
        "FUNCTION|LIST|LIBRARYNAME|lib2",
        "FUNCTION|LIST|LIBRARYNAME|lib2|WITHCODE",
        "FUNCTION|FLUSH",
        "FUNCTION|LIST",
    ],
    // FUNCTION DUMP's payload, byte for byte (one library: the order of
    // several is Redis's hash order), short and LZF-compressed code; the
    // errors of DUMP and RESTORE.
    &[
        "FUNCTION|DUMP",
        "FUNCTION|LOAD|#!lua name=s\nredis.register_function('s', function() return 1 end)",
        "FUNCTION|DUMP",
        "FUNCTION|LOAD|REPLACE|#!lua name=s\nredis.register_function('s', function() return 1 end)\n-- padding padding padding padding padding padding padding padding",
        "FUNCTION|DUMP",
        "FUNCTION|DUMP|x",
        "FUNCTION|RESTORE",
        "FUNCTION|RESTORE|garbage",
        "FUNCTION|RESTORE|0123456789",
        "FUNCTION|RESTORE|x|BOGUS",
        "FUNCTION|RESTORE|x|FLUSH|extra",
        "FCALL|s|0",
        "FUNCTION|HELP",
    ],
    // Shebang flags on EVAL.
    &[
        "EVAL|#!lua flags=no-writes\nreturn redis.call('set','x','y')|0",
        "EVAL|#!lua flags=no-writes\nreturn redis.call('get','x')|0",
        "EVAL|#!lua\nreturn 1|0",
        "EVAL|#!lua flags=bogus\nreturn 1|0",
        "EVAL|#!py\nreturn 1|0",
    ],
    // struct: pack, unpack and size, their edges and errors.
    &[
        r"EVAL|return struct.pack('i40', 1)|0",
        r"EVAL|return struct.pack('q', 1)|0",
        r"EVAL|return struct.unpack('>I2', 'a')|0",
        r"EVAL|return struct.pack('c2', 'a')|0",
        r"EVAL|return struct.size('s')|0",
        r"EVAL|return struct.size('c0')|0",
        r"EVAL|return struct.size('!4 b i d')|0",
        r"EVAL|return struct.size('q')|0",
        r"EVAL|return {struct.unpack('>i2 B c0 s', struct.pack('>i2 B c0 s', -2, 3, 'abc', 'zz'))}|0",
        r"EVAL|return struct.pack('!4 b i', 1, 2)|0",
        r"EVAL|return struct.pack('<L', 0/0)|0",
        r"EVAL|return struct.pack('<L', 2^64)|0",
        r"EVAL|return struct.pack('<L', 2^63)|0",
        r"EVAL|return struct.pack('<l', -2^70)|0",
        r"EVAL|return struct.pack('>i16', -1)|0",
        r"EVAL|return struct.pack('<I3', 70000)|0",
        r"EVAL|return {struct.unpack('<i3', struct.pack('<i3', -5))}|0",
        r"EVAL|return {struct.unpack('<i16', struct.pack('<i16', -1))}|0",
        r"EVAL|return {struct.unpack('>I9', string.rep('\255', 9))}|0",
        r"EVAL|return struct.pack('!3 b', 1)|0",
        r"EVAL|return struct.pack('!', 1)|0",
        r"EVAL|return struct.pack('i99999999999', 1)|0",
        r"EVAL|return {struct.unpack('b', 'xyz', 0)}|0",
        r"EVAL|return {struct.unpack('b', 'xyz', -1)}|0",
        r"EVAL|return {struct.unpack('b', 'xyz', 3)}|0",
        r"EVAL|return {struct.unpack('b', 'xyz', 4)}|0",
        r"EVAL|return {struct.unpack('b', 'xyz', '2')}|0",
        r"EVAL|return {struct.unpack('b', 'xyz', 'a')}|0",
        r"EVAL|return {struct.unpack('c0', 'abc')}|0",
        r"EVAL|return {struct.unpack('s', 'abc')}|0",
        r"EVAL|return {struct.unpack('s s', 'ab\0cd\0')}|0",
        r"EVAL|return {struct.unpack('<f d', struct.pack('<f d', 1.5, -2.25))}|0",
        r"EVAL|return {struct.unpack('>f', struct.pack('>f', 0.1))}|0",
        r"EVAL|return struct.pack('b', 'x')|0",
        r"EVAL|return struct.pack('b')|0",
        r"EVAL|return struct.pack('s', {})|0",
        r"EVAL|return struct.pack('s', 12.5)|0",
        r"EVAL|return struct.pack('b', '12')|0",
        r"EVAL|return struct.pack(5)|0",
        r"EVAL|return struct.pack()|0",
        r"EVAL|return {struct.unpack('!8 b d', struct.pack('!8 b d', 1, 2))}|0",
        r"EVAL|return {struct.unpack('b c1', 'x5y')}|0",
        r"EVAL|return {struct.unpack('c1 c0', 'x2yz')}|0",
        r"EVAL|return {struct.unpack('x x b', 'abc')}|0",
        r"EVAL|return #{struct.unpack(string.rep('b', 7990), string.rep('a', 8000))}|0",
        r"EVAL|return #{struct.unpack(string.rep('b', 8000), string.rep('a', 8000))}|0",
        r"EVAL|return struct.pack('c3', 'abcdef')|0",
        r"EVAL|return struct.pack('>h<h', 1, 1)|0",
        r"EVAL|return struct.size('i33')|0",
        r"EVAL|return struct.size('!5')|0",
        r"EVAL|return {struct.unpack('<I4 c0', '\255\255\255\255xx')}|0",
        r"EVAL|return {struct.unpack('<i4 c0', '\255\255\255\255xx')}|0",
    ],
    // The libraries Redis ships: cjson, cmsgpack, bit.
    &[
        "EVAL|return cjson.encode({1, 2, 3, {a = 1}})|0",
        "EVAL|return cjson.encode({a = 'x/y', b = {}, c = cjson.null, d = 1.5, e = 1e20, f = true})|0",
        r#"EVAL|return cjson.encode('"q\\ \1')|0"#,
        r#"EVAL|local t = cjson.decode('[1,{"a":null},"s",2.5,true]') return {t[1], t[2].a == cjson.null and 'null' or 'x', t[3], tostring(t[4]), tostring(t[5])}|0"#,
        "EVAL|return cjson.encode({[1] = 1, [100] = 2})|0",
        "EVAL|return cjson.encode(function() end)|0",
        "EVAL|local t = {} t[1] = t return cjson.encode(t)|0",
        "EVAL|return cmsgpack.pack({1, 2, 3}, 'abc', -1, 300, -300, 1.5, 0.1, {a = 1}, true, nil, 2^40, -2^40)|0",
        "EVAL|return {cmsgpack.unpack(cmsgpack.pack({1, 'two'}, 3, 'x', string.rep('y', 300)))}|0",
        r"EVAL|return cmsgpack.unpack('\222\255\255')|0",
        "EVAL|return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28)}|0",
        "EVAL|return bit.band(1, 'x')|0",
        "EVAL|return bit.tohex('x')|0",
        "EVAL|return bit.tohex(1, {})|0",
        "EVAL|return bit.lshift(1)|0",
        "EVAL|return bit.band()|0",
        "EVAL|return bit.tobit('0x10')|0",
        "EVAL|return bit.tobit(' 12 ')|0",
        "EVAL|return bit.bswap(nil)|0",
        "EVAL|return {bit.tohex(255, -4), bit.tohex(-1), bit.bswap(1), bit.rol(1, 33), bit.arshift(-256, 4)}|0",
        "EVAL|return {bit.arshift(-16, 2), bit.tohex(255), bit.tohex(-1, -4), bit.tobit(2^32 + 5), bit.rol(1, 33), bit.bswap(1)}|0",
        "EVAL|return redis.log('x')|0",
        "EVAL|return redis.log('x', 'y')|0",
        "EVAL|return redis.log(9, 'y')|0",
    ],
];

fn frame_of(line: &str) -> Vec<u8> {
    let args: Vec<&[u8]> = line.split('|').map(|a| a.as_bytes()).collect();
    frame(&args)
}

#[test]
fn scripts_match_redis() {
    let redis = Redis::start(&[]);
    let mut diffs = Vec::new();
    for layout in LAYOUTS {
        let s = Server::start(layout);
        for case in CASES {
            let mut ours = s.raw();
            let mut theirs = redis.raw();
            for r in [&mut ours, &mut theirs] {
                r.send(b"FLUSHALL\r\n");
                assert_eq!(r.read_reply(), "+OK\r\n");
            }
            for line in case.iter() {
                ours.send(&frame_of(line));
                theirs.send(&frame_of(line));
                let (a, b) = (ours.read_reply(), theirs.read_reply());
                if line.starts_with("HELLO") {
                    continue; // ids and versions differ
                }
                if a != b {
                    diffs.push(format!("{layout:?} {line:?}: tandem {a:?}, redis {b:?}"));
                }
            }
        }
        s.assert_alive();
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// The `redis` crate's `Script` (EVALSHA, then EVAL on NOSCRIPT) and
/// `redis-cli --eval` (keys before the comma, arguments after).
#[test]
fn real_clients_run_scripts() {
    each_mode(|s| {
        let mut c = s.conn();
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut c).unwrap();
        let script = redis::Script::new(
            "redis.call('set', KEYS[1], ARGV[1]); return redis.call('incrby', KEYS[1], ARGV[2])",
        );
        let v: i64 = script.key("counter").arg(10).arg(5).invoke(&mut c).unwrap();
        assert_eq!(v, 15);
        let v: i64 = script.key("counter").arg(1).arg(1).invoke(&mut c).unwrap();
        assert_eq!(v, 2);
        let exists: Vec<i64> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(script.get_hash())
            .query(&mut c)
            .unwrap();
        assert_eq!(exists, vec![1]);

        let dir = std::env::temp_dir().join(format!("tandem-eval-{}", s.port));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("swap.lua");
        std::fs::write(
            &file,
            "local a = redis.call('get', KEYS[1])\n\
             redis.call('set', KEYS[1], redis.call('get', KEYS[2]))\n\
             redis.call('set', KEYS[2], a)\n\
             return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2]), ARGV[1]}\n",
        )
        .unwrap();
        let _: () = redis::cmd("MSET")
            .arg("x")
            .arg("1")
            .arg("y")
            .arg("2")
            .query(&mut c)
            .unwrap();
        let out = output_within(
            std::process::Command::new("redis-cli")
                .args(["-p", &s.port.to_string(), "--eval"])
                .arg(&file)
                .args(["x", "y", ",", "tag"]),
            20,
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text,
            "2\n1\ntag\n",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// Accounts on every shard; clients move money with a script (or the same
/// code as a function, FCALL) over two declared keys (on different shards)
/// while others read every balance with one script: every read, and the
/// end, sums to the starting total.
#[test]
fn bank_transfers_by_script_keep_the_sum() {
    const MOVE: &str = "local b = tonumber(redis.call('get', KEYS[1])) \
        if b < tonumber(ARGV[1]) then return 0 end \
        redis.call('decrby', KEYS[1], ARGV[1]) \
        redis.call('incrby', KEYS[2], ARGV[1]) return 1";
    const SUM: &str = "local s = 0 for i, k in ipairs(KEYS) do \
        s = s + tonumber(redis.call('get', k)) end return s";
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let accounts = spread("acct", 6);
        let mut c = s.conn();
        for a in &accounts {
            let _: () = redis::cmd("SET").arg(a).arg(100).query(&mut c).unwrap();
        }
        // The same transfer as a function, for the third writer.
        let lib = format!(
            "#!lua name=bank\nredis.register_function('transfer', function(KEYS, ARGV) {MOVE} end)"
        );
        let _: String = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg("REPLACE")
            .arg(lib)
            .query(&mut c)
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in 0..3 {
            let accounts = accounts.clone();
            threads.push(spawn_until(&stop, s.url(), w % 2, move |c, n| {
                let from = &accounts[(n as usize + w) % 6];
                let to = &accounts[(n as usize * 5 + w + 1) % 6];
                if from == to {
                    return;
                }
                let _: i64 = if w == 2 {
                    redis::cmd("FCALL")
                        .arg("transfer")
                        .arg(2)
                        .arg(from)
                        .arg(to)
                        .arg(7)
                        .query(c)
                        .unwrap()
                } else {
                    redis::Script::new(MOVE)
                        .key(from)
                        .key(to)
                        .arg(7)
                        .invoke(c)
                        .unwrap()
                };
            }));
        }
        let bad = Arc::new(AtomicBool::new(false));
        for r in 0..2 {
            let (accounts, bad) = (accounts.clone(), bad.clone());
            threads.push(spawn_until(&stop, s.url(), r % 2, move |c, _| {
                let script = redis::Script::new(SUM);
                let mut sc = script.prepare_invoke();
                for a in &accounts {
                    sc.key(a);
                }
                let total: i64 = sc.invoke(c).unwrap();
                if total != 600 {
                    bad.store(true, Ordering::Relaxed);
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        let runs: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(runs.iter().all(|&n| n > 0), "{layout:?}: {runs:?}");
        assert!(
            !bad.load(Ordering::Relaxed),
            "{layout:?}: a read saw money in flight"
        );
        let balances: Vec<i64> = redis::cmd("MGET").arg(&accounts).query(&mut c).unwrap();
        assert_eq!(
            balances.iter().sum::<i64>(),
            600,
            "{layout:?}: {balances:?}"
        );
        s.assert_alive();
    }
}

/// A script that writes keys it builds from ARGV (undeclared, on every
/// shard) stays atomic: readers, by MGET and by another such script, never
/// see two values at once, from the script's first run on.
#[test]
fn scripts_with_undeclared_keys_stay_atomic() {
    const WRITE: &str = "for i = 1, 6 do redis.call('set', ARGV[1] .. i, ARGV[2]) end return 1";
    const READ: &str =
        "local v = {} for i = 1, 6 do v[i] = redis.call('get', ARGV[1] .. i) end return v";
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let mut c = s.conn();
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query(&mut c).unwrap();
        let keys: Vec<String> = (1..=6).map(|i| format!("u{i}")).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let bad = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for w in 0..2 {
            threads.push(spawn_until(&stop, s.url(), w % 2, move |c, n| {
                let _: i64 = redis::cmd("EVAL")
                    .arg(WRITE)
                    .arg(0)
                    .arg("u")
                    .arg(format!("{w}-{n}"))
                    .query(c)
                    .unwrap();
            }));
        }
        for r in 0..2 {
            let (keys, bad) = (keys.clone(), bad.clone());
            threads.push(spawn_until(&stop, s.url(), r % 2, move |c, n| {
                let vals: Vec<Option<String>> = if n % 2 == 0 {
                    redis::cmd("MGET").arg(&keys).query(c).unwrap()
                } else {
                    redis::cmd("EVAL")
                        .arg(READ)
                        .arg(0)
                        .arg("u")
                        .query(c)
                        .unwrap()
                };
                if vals.iter().any(|v| v != &vals[0]) {
                    bad.store(true, Ordering::Relaxed);
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(1500));
        stop.store(true, Ordering::Relaxed);
        let runs: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(runs.iter().all(|&n| n > 0), "{layout:?}: {runs:?}");
        assert!(
            !bad.load(Ordering::Relaxed),
            "{layout:?}: a reader saw a script half done"
        );
        s.assert_alive();
    }
}

/// A script that never ends: past `busy-reply-threshold` other clients get
/// -BUSY (SCRIPT KILL still runs), SCRIPT KILL ends it with Redis's error,
/// and the server serves again. One that wrote cannot be killed, and a
/// shutdown still stops the server. Split layouts only: colocated, the IO
/// thread itself runs the script and answers no one meanwhile (docs/design.md).
#[test]
fn busy_scripts_and_script_kill() {
    for layout in &LAYOUTS[..2] {
        let mut s = Server::start(layout);
        let mut admin = s.raw();
        admin.send(&frame(&[b"CONFIG", b"SET", b"busy-reply-threshold", b"50"]));
        assert_eq!(admin.read_reply(), "+OK\r\n");
        for (body, killable) in [
            ("local i = 0 while true do i = i + 1 end", true),
            (
                "redis.call('set', 'w', 1) local i = 0 while true do i = i + 1 end",
                false,
            ),
        ] {
            let mut looping = s.raw();
            looping.send(&frame(&[b"EVAL", body.as_bytes(), b"0"]));
            // Bounded wait for -BUSY, asked with PING, which the IO thread
            // answers itself. (A command sent to the script's shard before
            // the threshold waits for the script, as in Redis before it.)
            let mut other = s.raw();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                other.send(b"PING\r\n");
                let r = other.read_reply();
                if r.starts_with("-BUSY") {
                    break;
                }
                assert!(Instant::now() < deadline, "no -BUSY: {r}");
                std::thread::sleep(Duration::from_millis(20));
            }
            other.send(b"GET x\r\n");
            assert!(other.read_reply().starts_with("-BUSY"));
            admin.send(b"SCRIPT KILL\r\n");
            if killable {
                assert_eq!(admin.read_reply(), "+OK\r\n");
                let r = looping.read_reply();
                assert!(
                    r.starts_with("-ERR Script killed by user with SCRIPT KILL... script: "),
                    "{r}"
                );
                other.send(b"PING\r\n");
                assert_eq!(other.read_reply(), "+PONG\r\n");
                admin.send(b"SCRIPT KILL\r\n");
                assert!(admin.read_reply().starts_with("-NOTBUSY"));
            } else {
                assert!(admin.read_reply().starts_with("-UNKILLABLE"));
            }
        }
        // The unkillable one is still running: SHUTDOWN without NOSAVE is
        // refused (Redis 7's `shutdownCommand`), a signal stops it.
        admin.send(b"SHUTDOWN\r\n");
        assert_eq!(
            admin.read_reply(),
            "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
        );
        assert_eq!(s.terminate(), Some(0), "{layout:?}");
    }
}

/// Scripts that try to hurt the server get errors; the server and other
/// clients go on.
#[test]
fn hostile_scripts_get_errors() {
    each_mode(|s| {
        let mut r = s.raw();
        for body in [
            "local t = {} t[1] = t return t",
            "local function f() return f() + 1 end return f()",
            "local function f(n) return {f(n + 1)} end return f(1)",
            "return string.rep('x', 2^40)",
            "return #string.rep('x', 2^31 - 1)",
            "local s = string.rep('x', 2^29) return #(s .. s .. s)",
            "return setmetatable({}, {__index = function() error('x') end})",
            "return {err = setmetatable({}, {__tostring = function() return 'x' end})}",
            "return redis.call('get', string.rep('k', 1024 * 1024))",
            "error(nil)",
            "error(setmetatable({}, {__tostring = function() error('nested') end}))",
            "return loadstring(string.dump(function() end))",
            "return redis.call('set', 'k', {})",
            "return coroutine.wrap(function() redis.call('set', 'c', 1) coroutine.yield() end)()",
        ] {
            r.send(&frame(&[b"EVAL", body.as_bytes(), b"0"]));
            let _ = r.read_reply();
            s.assert_alive();
            r.send(b"PING\r\n");
            assert_eq!(r.read_reply(), "+PONG\r\n", "after {body}");
        }
    });
}

/// INFO counts what Redis counts (cached scripts, functions, libraries in
/// `memory`) and what tandem adds in `tandem`: runs with every shard
/// locked, and runs that strayed from their declared keys while only
/// those were locked (after which the script runs with every shard locked).
#[test]
fn info_counts_scripts_and_strays() {
    let s = Server::start(LAYOUTS[0]);
    let mut c = s.conn();
    let field = |c: &mut redis::Connection, section: &str, name: &str| -> u64 {
        let info: String = redis::cmd("INFO").arg(section).query(c).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("{name} missing from INFO {section}"))
            .trim()
            .parse()
            .unwrap()
    };
    assert_eq!(field(&mut c, "memory", "number_of_cached_scripts"), 0);
    const SOMETIMES_FAR: &str = "if ARGV[1] == 'far' then redis.call('set', ARGV[2], 1) end return redis.call('get', KEYS[1])";
    let sha: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(SOMETIMES_FAR)
        .query(&mut c)
        .unwrap();
    let _: String = redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg("return 1")
        .query(&mut c)
        .unwrap();
    assert_eq!(field(&mut c, "memory", "number_of_cached_scripts"), 2);
    let _: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg("#!lua name=two\nredis.register_function('f1', function() return 1 end)\nredis.register_function('f2', function() return 2 end)")
        .query(&mut c)
        .unwrap();
    assert_eq!(field(&mut c, "memory", "number_of_functions"), 2);
    assert_eq!(field(&mut c, "memory", "number_of_libraries"), 1);

    let keys = spread("k", 2);
    let evalsha = |c: &mut redis::Connection, how: &str| {
        let _: Option<String> = redis::cmd("EVALSHA")
            .arg(&sha)
            .arg(1)
            .arg(&keys[0])
            .arg(how)
            .arg(&keys[1])
            .query(c)
            .unwrap();
    };
    // The first run is routed with every shard locked, and stays near.
    evalsha(&mut c, "near");
    assert_eq!(field(&mut c, "tandem", "script_runs_every_shard"), 1);
    evalsha(&mut c, "near");
    assert_eq!(field(&mut c, "tandem", "script_runs_every_shard"), 1);
    assert_eq!(field(&mut c, "tandem", "script_strayed_runs"), 0);
    // Now it strays with only its declared key locked: counted, and from
    // then on it runs with every shard locked.
    evalsha(&mut c, "far");
    assert_eq!(field(&mut c, "tandem", "script_strayed_runs"), 1);
    evalsha(&mut c, "near");
    assert_eq!(field(&mut c, "tandem", "script_runs_every_shard"), 2);
    let v: Option<String> = redis::cmd("GET").arg(&keys[1]).query(&mut c).unwrap();
    assert_eq!(v.as_deref(), Some("1"));
    s.assert_alive();
}

/// FUNCTION DUMP payloads move both ways between tandem and redis-server
/// (Redis's RDB string encoding, LZF and CRC-64), and RESTORE's policies
/// (APPEND, REPLACE, FLUSH) and conflicts answer as redis-server does.
#[test]
fn function_dump_and_restore_move_between_servers() {
    let redis = Redis::start(&[]);
    let s = Server::start(LAYOUTS[1]);
    let mut ours = s.conn();
    let mut theirs = redis::Client::open(format!("redis://127.0.0.1:{}/", redis.port))
        .unwrap()
        .get_connection()
        .unwrap();
    let lib = |name: &str, f: &str, pad: usize| {
        format!(
            "#!lua name={name}\nredis.register_function('{f}', function(keys, args) return '{name}' .. #keys end)\n-- {}",
            "pad ".repeat(pad)
        )
    };
    let load = |c: &mut redis::Connection, code: &str| {
        let _: String = redis::cmd("FUNCTION")
            .arg("LOAD")
            .arg(code)
            .query(c)
            .unwrap();
    };
    let dump = |c: &mut redis::Connection| -> Vec<u8> {
        redis::cmd("FUNCTION").arg("DUMP").query(c).unwrap()
    };
    let restore = |c: &mut redis::Connection, payload: &[u8], policy: &[&str]| -> String {
        let mut cmd = redis::cmd("FUNCTION");
        cmd.arg("RESTORE").arg(payload);
        for p in policy {
            cmd.arg(*p);
        }
        match cmd.query::<String>(c) {
            Ok(v) => v,
            Err(e) => format!("error: {e}"),
        }
    };
    let fcall = |c: &mut redis::Connection, f: &str| -> String {
        match redis::cmd("FCALL")
            .arg(f)
            .arg(1)
            .arg("k")
            .query::<String>(c)
        {
            Ok(v) => v,
            Err(e) => format!("error: {e}"),
        }
    };
    for c in [&mut ours, &mut theirs] {
        let _: () = redis::cmd("FUNCTION").arg("FLUSH").query(c).unwrap();
    }
    // tandem → redis: a compressed library and a short one.
    load(&mut ours, &lib("big", "fbig", 50));
    let from_ours = dump(&mut ours);
    assert_eq!(restore(&mut theirs, &from_ours, &[]), "OK");
    assert_eq!(fcall(&mut theirs, "fbig"), "big1");
    // redis → tandem.
    load(&mut theirs, &lib("small", "fsmall", 0));
    let from_theirs = dump(&mut theirs);
    let _: () = redis::cmd("FUNCTION")
        .arg("FLUSH")
        .query(&mut ours)
        .unwrap();
    assert_eq!(restore(&mut ours, &from_theirs, &[]), "OK");
    assert_eq!(fcall(&mut ours, "fbig"), "big1");
    assert_eq!(fcall(&mut ours, "fsmall"), "small1");
    // The policies, the same on both.
    let one = {
        let _: () = redis::cmd("FUNCTION")
            .arg("FLUSH")
            .query(&mut theirs)
            .unwrap();
        load(&mut theirs, &lib("small", "fother", 3));
        dump(&mut theirs)
    };
    let _: () = redis::cmd("FUNCTION")
        .arg("FLUSH")
        .query(&mut theirs)
        .unwrap();
    assert_eq!(restore(&mut theirs, &from_theirs, &[]), "OK");
    for policy in [&[][..], &["APPEND"], &["REPLACE"], &["FLUSH"]] {
        let (a, b) = (
            restore(&mut ours, &one, policy),
            restore(&mut theirs, &one, policy),
        );
        assert_eq!(a, b, "{policy:?}");
        for f in ["fbig", "fsmall", "fother"] {
            assert_eq!(fcall(&mut ours, f), fcall(&mut theirs, f), "{policy:?} {f}");
        }
    }
    // A corrupted payload changes nothing.
    let mut bad = from_theirs.clone();
    bad[3] ^= 0x20;
    assert_eq!(
        restore(&mut ours, &bad, &[]),
        restore(&mut theirs, &bad, &[])
    );
    s.assert_alive();
}

/// An EVALSHA or FCALL routed before its script or library exists, with
/// the load pipelined right behind it: the load happens on the IO thread
/// before the shard runs the call, but the call came without the locks a
/// new script needs (every shard), so it is answered as unknown, as
/// redis-server answers it, and never runs unisolated. The retry runs.
#[test]
fn a_call_routed_before_its_load_is_answered_as_unknown() {
    let s = Server::start(LAYOUTS[1]);
    let redis = Redis::start(&[]);
    let keys = spread("race", 2);
    let (k1, k2) = (keys[0].as_bytes(), keys[1].as_bytes());
    let body = "redis.call('incr', KEYS[1]) redis.call('incr', KEYS[2]) return 1";
    let sha = tandem::script::sha1_hex(body.as_bytes());
    let lib = "#!lua name=racelib\nredis.register_function('twice', function(KEYS, ARGV) \
               redis.call('incr', KEYS[1]) redis.call('incr', KEYS[2]) return 2 end)";
    let mut bytes = Vec::new();
    for f in [
        &[b"EVALSHA", sha.as_bytes(), b"2", k1, k2][..],
        &[b"SCRIPT", b"LOAD", body.as_bytes()],
        &[b"EVALSHA", sha.as_bytes(), b"2", k1, k2],
        &[b"FCALL", b"twice", b"2", k1, k2],
        &[b"FUNCTION", b"LOAD", lib.as_bytes()],
        &[b"FCALL", b"twice", b"2", k1, k2],
        &[b"MGET", k1, k2],
    ] {
        bytes.extend(frame(f));
    }
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    ours.send(&bytes);
    theirs.send(&bytes);
    let (a, b) = (ours.read_replies(7), theirs.read_replies(7));
    assert_eq!(a, b);
    assert!(a[0].starts_with("-NOSCRIPT"), "{a:?}");
    assert_eq!(a[3], "-ERR Function not found\r\n");
    s.assert_alive();
}
