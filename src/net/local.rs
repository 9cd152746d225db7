//! Commands the IO thread answers itself because they touch only the
//! connection or the server, never the keyspace (the Pub/Sub commands, which
//! also need the thread's table of subscribers, are in `pubsub`): PING ECHO HELLO AUTH QUIT
//! RESET SELECT CLIENT COMMAND CONFIG TIME SHUTDOWN, and the IO-side half of
//! INFO (the shards supply keyspace statistics, merged in [`info_finisher`]).
//!
//! Replies and error texts follow the redis.io page of each command (Redis
//! 7.0). Runs on the IO thread that owns the connection; never blocks.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::conn::Closing;
use super::conn::Conn;
use super::shared::{ClientInfo, Shared};
use super::{Limits, encode};
use crate::metrics;
use crate::msg::ToIo;
use crate::resp::parse::parse_i64;
use crate::resp::{Reply, errors};
use crate::spec::{self, CmdId, flag};

pub use crate::spec::REDIS_VERSION;

pub(super) type Res = Result<(), String>;

/// What a connection-level command may touch: its own connection, the
/// process-wide shared state and its IO thread's cached limits. Anything
/// else it asks of the IO thread through [`After`], applied once the
/// command returns.
pub(super) struct Local<'a> {
    pub conn: &'a mut Conn,
    pub shared: &'a Arc<Shared>,
    pub limits: &'a Limits,
    /// Index of the IO thread running the command.
    pub io_index: u16,
    /// The connection's token on that thread (slot and generation).
    pub token: u64,
    pub after: After,
    /// Inside EXEC: the reply is kept here (an element of EXEC's array)
    /// instead of being queued to the client.
    pub capture: Option<bytes::BytesMut>,
}

/// Follow-ups a connection-level command asks its IO thread for.
#[derive(Default)]
pub(super) struct After {
    /// Close the command's own connection (QUIT, SHUTDOWN, a self-kill).
    pub close: Option<Closing>,
    /// Close these clients of this IO thread (CLIENT KILL).
    pub kill: Vec<u64>,
    /// MONITOR (`true`) or RESET of a monitor (`false`): start or stop
    /// streaming every command to the connection.
    pub monitor: Option<bool>,
    /// Answer these blocked clients of this IO thread now (CLIENT
    /// UNBLOCK: id, with an error rather than as a timeout).
    pub wake: Vec<(u64, bool)>,
    /// CONFIG SET changed the live configuration.
    pub reload_limits: bool,
    /// RESET: drop the client's WATCHed keys on the shards.
    pub unwatch: bool,
    /// RESET: drop the client's Pub/Sub subscriptions.
    pub unsubscribe: bool,
    /// CLIENT TRACKING OFF, RESET: turn client-side caching off.
    pub untrack: bool,
    /// BGREWRITEAOF started a background save: begin its instant on the shards.
    pub snapshot: bool,
    /// SHUTDOWN saves first: hold the connection's reply slot until the
    /// main thread saved (the connection closes) or failed (an error).
    pub await_shutdown: bool,
}

/// Whether the command needs every client's state of this very moment
/// (CLIENT LIST / INFO / KILL), which the IO thread publishes first.
pub(super) fn reads_clients(id: CmdId, args: &[&[u8]]) -> bool {
    spec::get(id).name == "client"
        && args.get(1).is_some_and(|a| {
            [&b"list"[..], b"info", b"kill"]
                .iter()
                .any(|s| a.eq_ignore_ascii_case(s))
        })
}

/// Runs a [`spec::Route::Local`] command for the connection in `l` and
/// queues its reply in order.
pub(super) fn run(l: &mut Local, id: CmdId, args: &[&[u8]]) {
    let name = spec::get(id).name;
    let result = match name {
        "ping" => ping(l, args),
        "echo" => reply(l, |r| r.bulk(&args[1])),
        "select" => select(l, args),
        "hello" => hello(l, args),
        "auth" => super::acl::auth(l, args),
        "acl" => super::acl::acl(l, args),
        "quit" => {
            let _ = reply(l, |r| r.ok());
            l.after.close = Some(Closing::AfterFlush);
            Ok(())
        }
        "reset" => reset(l),
        "client" => client(l, args),
        "command" => command(l, args),
        "config" => config(l, args),
        "time" => {
            let d = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            reply(l, |r| {
                r.array(2);
                r.bulk_int(d.as_secs() as i64);
                r.bulk_int(d.subsec_micros() as i64);
            })
        }
        "shutdown" => shutdown(l, args),
        // Redis runs it on its one thread too: a second or two of CPU.
        "pfselftest" => {
            let max = l.shared.tunables.encodings().hll_sparse_max_bytes;
            let seed = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos() as u64;
            match crate::store::hll::self_test(seed, max) {
                Ok(()) => reply(l, |r| r.ok()),
                Err(e) => reply(l, |r| r.error(&e)),
            }
        }
        "lastsave" => {
            let t = l.shared.saver.last_save();
            reply(l, |r| r.int(t as i64))
        }
        "bgrewriteaof" => {
            let mut begin = false;
            // Inside EXEC Redis schedules it for after.
            let started = match l.capture {
                Some(_) => l.shared.aof.schedule_rewrite(),
                None => l.shared.aof.bgrewrite(&l.shared.saver, || begin = true),
            };
            match started {
                Ok(msg) => {
                    l.after.snapshot = begin;
                    reply(l, |r| r.simple(msg))
                }
                Err(e) => Err(e),
            }
        }
        "monitor" => {
            if l.capture.is_some() {
                Err("ERR MONITOR isn't allowed for DENY BLOCKING client".into())
            } else if l.conn.monitor {
                // As Redis: a second MONITOR is ignored, without a reply.
                Ok(())
            } else {
                l.after.monitor = Some(true);
                reply(l, |r| r.ok())
            }
        }
        "slowlog" => super::slow::slowlog(l, args),
        "latency" => super::slow::latency(l, args),
        "script" => script(l, args),
        "function" => function(l, args),
        other => Err(format!("ERR '{other}' is not handled on the IO thread")),
    };
    if let Err(e) = result {
        let _ = reply(l, |r| r.error(&e));
    }
}

/// SCRIPT LOAD/EXISTS/FLUSH/KILL/HELP (redis.io/commands/script-load and
/// siblings): the script cache is shared, so the IO thread answers, and
/// SCRIPT KILL reaches a script however long it runs. SCRIPT DEBUG is
/// refused as not implemented.
fn script(l: &mut Local, args: &[&[u8]]) -> Res {
    let sub = lower(args[1]);
    let scripts = &l.shared.scripts;
    let arity = || format!("ERR wrong number of arguments for 'script|{sub}' command");
    match sub.as_str() {
        "load" => {
            if args.len() != 3 {
                return Err(arity());
            }
            crate::script::lua::check_syntax(args[2])?;
            let s = scripts.load(Bytes::copy_from_slice(args[2]));
            reply(l, |r| r.bulk(s.sha.as_bytes()))
        }
        "exists" => {
            if args.len() < 3 {
                return Err(arity());
            }
            let found: Vec<bool> = args[2..].iter().map(|a| scripts.get(a).is_some()).collect();
            reply(l, |r| {
                r.array(found.len());
                for f in found {
                    r.int(f as i64);
                }
            })
        }
        "flush" => {
            flush_mode(
                args,
                arity,
                "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
            )?;
            scripts.flush();
            reply(l, |r| r.ok())
        }
        "kill" => {
            if args.len() != 2 {
                return Err(arity());
            }
            scripts.kill().map_err(String::from)?;
            reply(l, |r| r.ok())
        }
        "help" => {
            let lines = [
                "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "EXISTS <sha1> [<sha1> ...]",
                "    Return information about the existence of the scripts in the script cache.",
                "FLUSH [ASYNC|SYNC]",
                "    Flush the Lua scripts cache. Very dangerous on replicas.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the scripts cache.",
                "    * SYNC: Synchronously flush the scripts cache.",
                "KILL",
                "    Kill the currently executing Lua script.",
                "LOAD <script>",
                "    Load a script into the scripts cache without executing it.",
                "HELP",
                "    Prints this help.",
            ];
            help(l, &lines)
        }
        "debug" => Err("ERR tandem: SCRIPT DEBUG is not implemented".into()),
        _ => Err(format!(
            "ERR unknown subcommand '{}'. Try SCRIPT HELP.",
            text(args[1])
        )),
    }
}

/// FUNCTION LOAD/LIST/DELETE/FLUSH/DUMP/RESTORE/STATS/KILL/HELP (redis.io/commands/
/// function-load and siblings, Redis 7.0 `functions.c`): the libraries are
/// shared, so the IO thread answers; LOAD runs the library's code in this
/// thread's own Lua state to collect its functions (shards load it again
/// at its first FCALL). FUNCTION DUMP and RESTORE use Redis's payload
/// format (`crate::rdb`), so payloads move both ways between tandem and
/// redis-server. FUNCTION STATS reports no `running_script` details.
fn function(l: &mut Local, args: &[&[u8]]) -> Res {
    use crate::script::RestorePolicy;
    let sub = lower(args[1]);
    let scripts = l.shared.scripts.clone();
    let arity = || format!("ERR wrong number of arguments for 'function|{sub}' command");
    match sub.as_str() {
        "load" => {
            let (replace, code) = match args.len() {
                3 => (false, args[2]),
                4 if lower(args[2]) == "replace" => (true, args[3]),
                4 => return Err(format!("ERR Unknown option given: {}", text(args[2]))),
                _ => return Err(arity()),
            };
            let lib = load_library(l, code)?;
            let name = lib.name.clone();
            scripts.add_library(lib, replace)?;
            l.shared.aof.log_local(args);
            reply(l, |r| r.bulk(name.as_bytes()))
        }
        "list" => {
            let mut pattern: Option<&[u8]> = None;
            let mut with_code = false;
            let mut i = 2;
            while i < args.len() {
                match lower(args[i]).as_str() {
                    "withcode" => with_code = true,
                    "libraryname" if i + 1 < args.len() && pattern.is_none() => {
                        pattern = Some(args[i + 1]);
                        i += 1;
                    }
                    "libraryname" if pattern.is_some() => {
                        return Err("ERR library name argument was already given".into());
                    }
                    "libraryname" => return Err("ERR library name argument was not given".into()),
                    other => return Err(format!("ERR Unknown argument {other}")),
                }
                i += 1;
            }
            let libs: Vec<_> = scripts
                .libraries()
                .into_iter()
                .filter(|lib| {
                    pattern.is_none_or(|p| crate::glob::matches(p, lib.name.as_bytes(), false))
                })
                .collect();
            reply(l, |r| {
                r.array(libs.len());
                for lib in &libs {
                    r.map(if with_code { 4 } else { 3 });
                    r.bulk(b"library_name");
                    r.bulk(lib.name.as_bytes());
                    r.bulk(b"engine");
                    r.bulk(b"LUA");
                    r.bulk(b"functions");
                    r.array(lib.functions.len());
                    for f in lib.functions.iter().rev() {
                        r.map(3);
                        r.bulk(b"name");
                        r.bulk(f.name.as_bytes());
                        r.bulk(b"description");
                        match &f.description {
                            Some(d) => r.bulk(d.as_bytes()),
                            None => r.null(),
                        }
                        r.bulk(b"flags");
                        r.set(f.flags.len());
                        for fl in &f.flags {
                            r.simple(fl);
                        }
                    }
                    if with_code {
                        r.bulk(b"library_code");
                        r.bulk(&lib.code);
                    }
                }
            })
        }
        "delete" => {
            if args.len() != 3 {
                return Err(arity());
            }
            scripts.delete_library(&text(args[2]))?;
            l.shared.aof.log_local(args);
            reply(l, |r| r.ok())
        }
        "flush" => {
            flush_mode(
                args,
                arity,
                "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
            )?;
            scripts.flush_functions();
            l.shared.aof.log_local(args);
            reply(l, |r| r.ok())
        }
        "stats" => {
            if args.len() != 2 {
                return Err(arity());
            }
            let libs = scripts.libraries();
            let fns: usize = libs.iter().map(|l| l.functions.len()).sum();
            reply(l, |r| {
                r.map(2);
                r.bulk(b"running_script");
                r.null();
                r.bulk(b"engines");
                r.map(1);
                r.bulk(b"LUA");
                r.map(2);
                r.bulk(b"libraries_count");
                r.int(libs.len() as i64);
                r.bulk(b"functions_count");
                r.int(fns as i64);
            })
        }
        "kill" => {
            if args.len() != 2 {
                return Err(arity());
            }
            scripts.kill().map_err(String::from)?;
            reply(l, |r| r.ok())
        }
        "dump" => {
            if args.len() != 2 {
                return Err(arity());
            }
            let payload = dump_functions(&scripts);
            reply(l, |r| r.bulk(&payload))
        }
        "restore" => {
            let policy = match args.len() {
                3 => RestorePolicy::Append,
                4 => match lower(args[3]).as_str() {
                    "append" => RestorePolicy::Append,
                    "replace" => RestorePolicy::Replace,
                    "flush" => RestorePolicy::Flush,
                    _ => {
                        return Err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.".into());
                    }
                },
                2 => return Err(arity()),
                _ => return Err(crate::cmd::subcommand_syntax_error(args)),
            };
            let libs = read_dump(l, args[2])?;
            scripts.restore(libs, policy)?;
            l.shared.aof.log_local(args);
            reply(l, |r| r.ok())
        }
        "help" => {
            let lines = [
                "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "LOAD [REPLACE] <FUNCTION CODE>",
                "    Create a new library with the given library name and code.",
                "DELETE <LIBRARY NAME>",
                "    Delete the given library.",
                "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
                "    Return general information on all the libraries:",
                "    * Library name",
                "    * The engine used to run the Library",
                "    * Library description",
                "    * Functions list",
                "    * Library code (if WITHCODE is given)",
                "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
                "STATS",
                "    Return information about the current function running:",
                "    * Function name",
                "    * Command used to run the function",
                "    * Duration in MS that the function is running",
                "    If no function is running, return nil",
                "    In addition, returns a list of available engines.",
                "KILL",
                "    Kill the current running function.",
                "FLUSH [ASYNC|SYNC]",
                "    Delete all the libraries.",
                "    When called without the optional mode argument, the behavior is determined by the",
                "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
                "    * ASYNC: Asynchronously flush the libraries.",
                "    * SYNC: Synchronously flush the libraries.",
                "DUMP",
                "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
                "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
                "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
                "    control how to handle existing libraries (default APPEND):",
                "    * FLUSH: delete all existing libraries.",
                "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
                "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
                "      libraries with the new libraries (notice that even on this option there is a chance of failure",
                "      in case of functions name collision with another library).",
                "HELP",
                "    Prints this help.",
            ];
            help(l, &lines)
        }
        _ => Err(format!(
            "ERR unknown subcommand '{}'. Try FUNCTION HELP.",
            text(args[1])
        )),
    }
}

/// A HELP subcommand's reply: its lines as simple strings.
fn help(l: &mut Local, lines: &[&str]) -> Res {
    reply(l, |r| {
        r.array(lines.len());
        for s in lines {
            r.simple(s);
        }
    })
}

/// Runs a library's code in this thread's loader Lua state (FUNCTION LOAD
/// and RESTORE) and describes what it registered; shards load it again at
/// its first FCALL. Errors: the loader's (`Runtime::load_library`).
fn load_library(l: &Local, code: &[u8]) -> Result<crate::script::Library, String> {
    use crate::script::{FunctionMeta, Library};
    use std::sync::atomic::AtomicBool;
    thread_local! {
        static LOADER: std::cell::RefCell<Option<crate::script::lua::Runtime>> =
            const { std::cell::RefCell::new(None) };
    }
    let scripts = l.shared.scripts.clone();
    let tun = l.shared.tunables.clone();
    let (name, regs) = LOADER.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = crate::script::lua::Runtime::new(scripts, u16::MAX, tun).ok();
        }
        match c.as_mut() {
            Some(rt) => rt.load_library(code),
            None => Err("ERR cannot start Lua".to_string()),
        }
    })?;
    let functions = regs
        .into_iter()
        .map(|r| {
            Arc::new(FunctionMeta {
                name: r.name,
                library: name.clone(),
                description: r.description,
                flags: r.flags,
                checked: AtomicBool::new(false),
                strays: AtomicBool::new(false),
            })
        })
        .collect();
    Ok(Library {
        name,
        code: Bytes::copy_from_slice(code),
        functions,
    })
}

/// FUNCTION DUMP: every library's code as RDB `FUNCTION2` records, sealed
/// as a DUMP payload (Redis 7.0 `functionDumpCommand`).
fn dump_functions(scripts: &crate::script::Registry) -> Vec<u8> {
    let mut body = Vec::new();
    for lib in scripts.libraries() {
        body.push(crate::rdb::OPCODE_FUNCTION2);
        crate::rdb::write_string(&mut body, &lib.code);
    }
    crate::rdb::seal_payload(body)
}

/// FUNCTION RESTORE's payload: each library loaded, none applied yet.
/// Errors (Redis 7.0 `functionRestoreCommand` texts): `ERR DUMP payload
/// version or checksum are wrong`, `ERR given type is not a function`,
/// `ERR Pre-GA function format not supported`, `ERR can not read data
/// type`, and a library's own load error.
fn read_dump(l: &Local, payload: &[u8]) -> Result<Vec<crate::script::Library>, String> {
    let (body, _) = crate::rdb::open_payload(payload)
        .ok_or("ERR DUMP payload version or checksum are wrong")?;
    let mut r = crate::rdb::Reader::new(body);
    let mut libs = Vec::new();
    while r.remaining() > 0 {
        match r.byte() {
            Err(_) => return Err("ERR can not read data type".into()),
            Ok(crate::rdb::OPCODE_FUNCTION_PRE_GA) => {
                return Err("ERR Pre-GA function format not supported".into());
            }
            Ok(crate::rdb::OPCODE_FUNCTION2) => {}
            Ok(_) => return Err("ERR given type is not a function".into()),
        }
        let code = r
            .string()
            .map_err(|_| "ERR failed loading the given functions payload".to_string())?;
        libs.push(load_library(l, &code)?);
    }
    Ok(libs)
}

/// The optional `ASYNC|SYNC` of SCRIPT FLUSH and FUNCTION FLUSH (both
/// flush at once here). Errors: `bad` for another word, `arity()` for more.
fn flush_mode(args: &[&[u8]], arity: impl Fn() -> String, bad: &str) -> Res {
    match args.get(2) {
        None => Ok(()),
        Some(m) if args.len() == 3 && (lower(m) == "async" || lower(m) == "sync") => Ok(()),
        Some(_) if args.len() > 3 => Err(arity()),
        Some(_) => Err(bad.into()),
    }
}

pub(super) fn reply(l: &mut Local, f: impl FnOnce(&mut Reply)) -> Res {
    match &mut l.capture {
        Some(buf) => buf.extend_from_slice(&encode(l.conn.resp3, f)),
        None => l.conn.reply_with(f),
    }
    Ok(())
}

pub(super) fn lower(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_ascii_lowercase()
}

pub(super) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ping(l: &mut Local, args: &[&[u8]]) -> Res {
    if super::pubsub::subscribed_resp2(l.conn) {
        // RESP2 subscribed mode: a `pong` frame (Redis's `pingCommand`).
        let arg: &[u8] = args.get(1).copied().unwrap_or(b"");
        if args.len() <= 2 {
            return reply(l, |r| {
                r.array(2);
                r.bulk(b"pong");
                r.bulk(arg);
            });
        }
    }
    match args.len() {
        1 => reply(l, |r| r.simple("PONG")),
        2 => reply(l, |r| r.bulk(&args[1])),
        _ => Err("ERR wrong number of arguments for 'ping' command".into()),
    }
}

fn select(l: &mut Local, args: &[&[u8]]) -> Res {
    let n = parse_i64(&args[1]).ok_or(errors::NOT_INTEGER)?;
    if n < 0 || n as usize >= l.limits.databases {
        return Err(errors::DB_INDEX_OUT_OF_RANGE.into());
    }
    let c = &mut *l.conn;
    c.db = n as u16;
    let id = c.id;
    l.shared.update_client(id, |ci| ci.db = n as u16);
    reply(l, |r| r.ok())
}

/// HELLO [protover [AUTH username password] [SETNAME clientname]]
/// (<https://redis.io/docs/latest/commands/hello/>).
fn hello(l: &mut Local, args: &[&[u8]]) -> Res {
    let mut proto = None;
    let mut i = 1;
    if args.len() > 1 {
        let v =
            parse_i64(&args[1]).ok_or("ERR Protocol version is not an integer or out of range")?;
        if v != 2 && v != 3 {
            return Err(errors::NOPROTO.into());
        }
        proto = Some(v == 3);
        i = 2;
    }
    let mut name = None;
    let mut auth = None;
    while i < args.len() {
        let opt = lower(&args[i]);
        if opt == "auth" && i + 2 < args.len() {
            auth = Some((args[i + 1], args[i + 2]));
            i += 3;
        } else if opt == "setname" && i + 1 < args.len() {
            validate_name(&args[i + 1])?;
            name = Some(text(&args[i + 1]));
            i += 2;
        } else {
            return Err(format!(
                "ERR Syntax error in HELLO option '{}'",
                text(&args[i])
            ));
        }
    }
    if let Some((user, pass)) = auth {
        super::acl::login(l, args[0], user, pass)?;
    }
    let c = &mut *l.conn;
    if !c.authed {
        return Err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into());
    }
    if let Some(p) = proto {
        c.resp3 = p;
    }
    let (id, resp3) = (c.id, c.resp3);
    l.shared.update_client(id, |ci| {
        ci.resp = if resp3 { 3 } else { 2 };
        if let Some(n) = name {
            ci.name = n;
        }
    });
    reply(l, |r| {
        r.map(7);
        r.bulk(b"server");
        r.bulk(b"redis");
        r.bulk(b"version");
        r.bulk(REDIS_VERSION.as_bytes());
        r.bulk(b"proto");
        r.int(if resp3 { 3 } else { 2 });
        r.bulk(b"id");
        r.int(id as i64);
        r.bulk(b"mode");
        r.bulk(b"standalone");
        r.bulk(b"role");
        r.bulk(b"master");
        r.bulk(b"modules");
        r.array(0);
    })
}

fn reset(l: &mut Local) -> Res {
    super::acl::reset_user(l);
    let c = &mut *l.conn;
    c.db = 0;
    c.resp3 = false;
    c.no_touch = false;
    c.no_evict = false;
    // RESET ends MULTI and WATCH too (Redis's `clearClientConnectionState`).
    c.multi = None;
    l.after.unwatch = c.watch.is_some();
    // ... and every subscription, silently, and tracking.
    l.after.unsubscribe = c.subs.is_some();
    l.after.untrack = c.tracking.is_some();
    if c.monitor {
        l.after.monitor = Some(false);
    }
    let id = c.id;
    l.shared.update_client(id, |ci| {
        ci.db = 0;
        ci.resp = 2;
        ci.name.clear();
    });
    reply(l, |r| r.simple("RESET"))
}

/// Redis refuses names with spaces, newlines or other special characters.
fn validate_name(n: &[u8]) -> Res {
    if n.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(
            "ERR Client names cannot contain spaces, newlines or special characters.".into(),
        );
    }
    Ok(())
}

/// One CLIENT LIST / CLIENT INFO line, in Redis 7's field order
/// (`networking.c`, `catClientInfoString`). `age` and `idle` are seconds;
/// `qbuf`, `omem` and `tot-mem` bytes. Fields tandem has no counterpart for
/// yet (Pub/Sub counts, MULTI, the static reply buffer) show Redis's idle
/// values.
fn client_line(ci: &ClientInfo, out: &mut String) {
    let secs = |t: Option<std::time::Instant>| t.map(|t| t.elapsed().as_secs()).unwrap_or(0);
    let _ = writeln!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs={} rbp=0 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user={} redir={} resp={} lib-name={} lib-ver={} io-thread={}",
        ci.id,
        ci.addr,
        ci.laddr,
        ci.fd,
        ci.name,
        secs(ci.created),
        secs(ci.last_active),
        ci.flags,
        ci.db,
        ci.sub,
        ci.psub,
        ci.ssub,
        ci.multi,
        ci.qbuf,
        ci.qbuf_free,
        ci.qbuf + ci.qbuf_free,
        ci.omem,
        ci.tot_mem,
        ci.cmd,
        ci.user,
        ci.redir.map_or(-1, |r| r as i64),
        ci.resp,
        ci.lib_name,
        ci.lib_ver,
        ci.io
    );
}

const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "    * MAXAGE <maxage>",
    "      Kill connections older than the specified age.",
    "LIST [TYPE normal] [ID <id> [<id> ...]]",
    "    Return information about client connections.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "HELP",
    "    Print this help.",
];

fn client(l: &mut Local, args: &[&[u8]]) -> Res {
    let sub = lower(&args[1]);
    let my_id = l.conn.id;
    let wrong_args = || format!("ERR wrong number of arguments for 'client|{sub}' command");
    match sub.as_str() {
        "id" if args.len() == 2 => reply(l, |r| r.int(my_id as i64)),
        "setname" if args.len() == 3 => {
            validate_name(&args[2])?;
            l.shared.update_client(my_id, |ci| ci.name = text(&args[2]));
            reply(l, |r| r.ok())
        }
        "getname" if args.len() == 2 => {
            let name = l
                .shared
                .clients
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&my_id)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            reply(l, |r| {
                if name.is_empty() {
                    r.null()
                } else {
                    r.bulk(name.as_bytes())
                }
            })
        }
        "setinfo" if args.len() == 4 => {
            let attr = lower(&args[2]);
            validate_name(&args[3]).map_err(|_| {
                format!(
                    "ERR {} cannot contain spaces, newlines or special characters.",
                    attr
                )
            })?;
            let v = text(&args[3]);
            match attr.as_str() {
                "lib-name" => l.shared.update_client(my_id, |ci| ci.lib_name = v),
                "lib-ver" => l.shared.update_client(my_id, |ci| ci.lib_ver = v),
                _ => return Err(format!("ERR Unrecognized option '{}'", text(&args[2]))),
            }
            reply(l, |r| r.ok())
        }
        "info" if args.len() == 2 => {
            let mut s = String::new();
            if let Some(ci) = l
                .shared
                .clients
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&my_id)
            {
                client_line(ci, &mut s);
            }
            reply(l, |r| r.verbatim(s.as_bytes()))
        }
        "list" => {
            let mut ids: Option<Vec<u64>> = None;
            let mut kind: Option<&str> = None;
            let mut i = 2;
            while i < args.len() {
                match lower(&args[i]).as_str() {
                    "type" if i + 1 < args.len() => {
                        let t = lower(&args[i + 1]);
                        if !["normal", "master", "replica", "pubsub"].contains(&t.as_str()) {
                            return Err(format!(
                                "ERR Unknown client type '{}'",
                                text(&args[i + 1])
                            ));
                        }
                        // No replicas or masters yet: those match nobody.
                        kind = Some(match t.as_str() {
                            "pubsub" => "pubsub",
                            "normal" => "normal",
                            _ => "-",
                        });
                        i += 2;
                    }
                    "id" if i + 1 < args.len() => {
                        let mut v = Vec::new();
                        for a in &args[i + 1..] {
                            match parse_i64(a) {
                                Some(n) if n > 0 => v.push(n as u64),
                                _ => return Err("ERR Invalid client ID".into()),
                            }
                        }
                        ids = Some(v);
                        i = args.len();
                    }
                    _ => return Err(errors::SYNTAX.into()),
                }
            }
            let mut s = String::new();
            for ci in l
                .shared
                .clients
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
            {
                if ids.as_ref().is_none_or(|v| v.contains(&ci.id))
                    && kind.is_none_or(|k| k == ci.kind())
                {
                    client_line(ci, &mut s);
                }
            }
            reply(l, |r| r.verbatim(s.as_bytes()))
        }
        "kill" if args.len() >= 3 => client_kill(l, my_id, args),
        "pause" if args.len() == 3 || args.len() == 4 => {
            // Redis checks the mode before the timeout.
            let mode = match args.get(3).map(|a| lower(a)) {
                None => super::shared::PAUSE_ALL,
                Some(m) if m == "all" => super::shared::PAUSE_ALL,
                Some(m) if m == "write" => super::shared::PAUSE_WRITE,
                Some(_) => return Err("ERR CLIENT PAUSE mode must be WRITE or ALL".into()),
            };
            let ms = parse_i64(args[2])
                .ok_or_else(|| "ERR timeout is not an integer or out of range".to_string())?;
            if ms < 0 {
                return Err(errors::TIMEOUT_NEGATIVE.into());
            }
            // A timeout of 0 ends at once, as Redis's end time of 0 does.
            let until = if ms > 0 {
                crate::cmd::now_ms().saturating_add(ms as u64)
            } else {
                0
            };
            l.shared.pause(until, mode);
            reply(l, |r| r.ok())
        }
        // The reply of CLIENT REPLY OFF or SKIP itself is not sent either;
        // ON's is (`clientCommand`). Inside EXEC it answers +OK in the
        // array, where Redis leaves its element out (a malformed reply).
        "reply" if args.len() == 3 => match lower(&args[2]).as_str() {
            "on" => {
                l.conn.reply_mode = super::conn::ReplyMode::On;
                reply(l, |r| r.ok())
            }
            "off" | "skip" => {
                l.conn.reply_mode = if lower(&args[2]) == "off" {
                    super::conn::ReplyMode::Off
                } else {
                    super::conn::ReplyMode::SkipNext
                };
                if l.capture.is_none() {
                    l.conn.mute_next();
                }
                reply(l, |r| r.ok())
            }
            _ => Err(errors::SYNTAX.into()),
        },
        "unpause" if args.len() == 2 => {
            l.shared.unpause();
            reply(l, |r| r.ok())
        }
        "unblock" if args.len() == 3 || args.len() == 4 => client_unblock(l, args),
        "unblock" if args.len() > 4 => Err(crate::cmd::subcommand_syntax_error(args)),
        "tracking" if args.len() >= 3 => super::tracking::client_tracking(l, args),
        "caching" if args.len() == 3 => super::tracking::client_caching(l, args),
        "getredir" if args.len() == 2 => super::tracking::client_getredir(l),
        "trackinginfo" if args.len() == 2 => super::tracking::client_trackinginfo(l),
        // tandem never evicts clients (it has no `maxmemory-clients`), so
        // NO-EVICT's promise holds either way.
        "no-evict" if args.len() == 3 => match lower(&args[2]).as_str() {
            "on" | "off" => {
                l.conn.no_evict = lower(&args[2]) == "on";
                reply(l, |r| r.ok())
            }
            _ => Err(errors::SYNTAX.into()),
        },
        // Redis 7.2's CLIENT NO-TOUCH: the client's commands (but TOUCH)
        // leave LRU clocks and LFU counters as they are.
        "no-touch" if args.len() == 3 => match lower(&args[2]).as_str() {
            "on" | "off" => {
                l.conn.no_touch = lower(&args[2]) == "on";
                reply(l, |r| r.ok())
            }
            _ => Err(errors::SYNTAX.into()),
        },
        "help" if args.len() == 2 => reply(l, |r| {
            r.array(CLIENT_HELP.len());
            for l in CLIENT_HELP {
                r.simple(l);
            }
        }),
        "id" | "setname" | "getname" | "setinfo" | "info" | "kill" | "help" | "no-evict"
        | "no-touch" | "tracking" | "caching" | "getredir" | "trackinginfo" | "pause"
        | "unpause" | "reply" | "unblock" => Err(wrong_args()),
        _ => Err(format!(
            "ERR unknown subcommand '{}'. Try CLIENT HELP.",
            text(&args[1])
        )),
    }
}

/// CLIENT UNBLOCK id [TIMEOUT|ERROR]
/// (<https://redis.io/docs/latest/commands/client-unblock/>): 1 if client
/// `id` was waiting on a blocking command (BLPOP, XREAD BLOCK, ...), which
/// then gets its timeout reply, or `-UNBLOCKED client unblocked via CLIENT
/// UNBLOCK` with ERROR; else 0. Errors (in Redis's order): `CLIENT UNBLOCK
/// reason should be TIMEOUT or ERROR`, not an integer.
fn client_unblock(l: &mut Local, args: &[&[u8]]) -> Res {
    let error = match args.get(3).map(|a| lower(a)).as_deref() {
        None | Some("timeout") => false,
        Some("error") => true,
        Some(_) => return Err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR".into()),
    };
    let id = parse_i64(args[2]).ok_or(errors::NOT_INTEGER)?;
    let id = u64::try_from(id).unwrap_or(0);
    let waiting = l
        .shared
        .blocked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .is_some_and(|claim| !claim.taken());
    if waiting {
        let thread = l
            .shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .map(|c| c.io);
        match thread {
            Some(t) if t == l.io_index => l.after.wake.push((id, error)),
            Some(t) => {
                if let Some((tx, w)) = l
                    .shared
                    .io_links
                    .get()
                    .and_then(|links| links.get(t as usize))
                {
                    let _ = tx.send(ToIo::Unblock { id, error });
                    w.wake();
                }
            }
            None => {}
        }
    }
    reply(l, |r| r.int(waiting as i64))
}

/// Disconnects clients `targets` (id, IO thread): this thread's after
/// the command, other threads' through their inboxes. Returns whether
/// `my_id`, the caller, is among them (it closes once answered).
pub(super) fn kill_clients(l: &mut Local, my_id: u64, targets: &[(u64, u16)]) -> bool {
    let mut kill_self = false;
    for &(cid, thread) in targets {
        if cid == my_id {
            kill_self = true;
        } else if thread == l.io_index {
            l.after.kill.push(cid);
        } else if let Some(links) = l.shared.io_links.get() {
            let (tx, w) = &links[thread as usize];
            let _ = tx.send(ToIo::Kill(cid));
            w.wake();
        }
    }
    kill_self
}

/// Client `id`'s CLIENT LIST line without its newline, from the last
/// published state (ACL LOG's `client-info`).
pub(super) fn client_info_line(shared: &Shared, id: u64) -> String {
    let mut out = String::new();
    if let Some(ci) = shared
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
    {
        client_line(ci, &mut out);
    }
    out.truncate(out.trim_end().len());
    out
}

/// CLIENT KILL ip:port (old form: +OK or `No such client`) or CLIENT KILL
/// with filters (new form: the number killed), every given filter having to
/// match (<https://redis.io/docs/latest/commands/client-kill/>): ID, TYPE
/// (normal, master, replica/slave, pubsub), USER, ADDR, LADDR, SKIPME
/// (yes by default), and MAXAGE (seconds; Redis 7.4's filter: clients at
/// least that old). Errors: syntax error, `client-id should be greater
/// than 0`, `Unknown client type`, `No such user`.
fn client_kill(l: &mut Local, my_id: u64, args: &[&[u8]]) -> Res {
    let old_form = args.len() == 3;
    let (mut id, mut addr, mut laddr, mut maxage) = (None, None, None, None);
    let mut user: Option<String> = None;
    let mut kind: Option<String> = None;
    let mut skipme = true;
    if old_form {
        addr = Some(text(&args[2]));
        skipme = false;
    } else {
        if args.len() % 2 != 0 {
            return Err(errors::SYNTAX.into());
        }
        for pair in args[2..].chunks(2) {
            let v = text(&pair[1]);
            match lower(&pair[0]).as_str() {
                "id" => {
                    id = Some(
                        parse_i64(&pair[1])
                            .filter(|&n| n > 0)
                            .ok_or("ERR client-id should be greater than 0")?
                            as u64,
                    )
                }
                "type" => {
                    // No replicas or masters yet: those types match nobody.
                    let t = v.to_ascii_lowercase();
                    if !["normal", "master", "replica", "slave", "pubsub"].contains(&t.as_str()) {
                        return Err(format!("ERR Unknown client type '{v}'"));
                    }
                    kind = Some(t);
                }
                "addr" => addr = Some(v),
                "laddr" => laddr = Some(v),
                "user" => {
                    if l.shared.acl.get(&pair[1]).is_none() {
                        return Err(format!("ERR No such user '{v}'"));
                    }
                    user = Some(v);
                }
                "skipme" => {
                    skipme = match v.to_ascii_lowercase().as_str() {
                        "yes" => true,
                        "no" => false,
                        _ => return Err(errors::SYNTAX.into()),
                    }
                }
                "maxage" => {
                    maxage = Some(
                        parse_i64(&pair[1])
                            .filter(|&n| n >= 0)
                            .ok_or(errors::SYNTAX)? as u64,
                    )
                }
                _ => return Err(errors::SYNTAX.into()),
            }
        }
    }
    let targets: Vec<(u64, u16)> = l
        .shared
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .filter(|c| kind.as_deref().is_none_or(|k| k == c.kind()))
        .filter(|c| id.is_none_or(|i| i == c.id))
        .filter(|c| addr.as_ref().is_none_or(|a| *a == c.addr))
        .filter(|c| laddr.as_ref().is_none_or(|a| *a == c.laddr))
        .filter(|c| user.as_ref().is_none_or(|u| *u == c.user))
        .filter(|c| maxage.is_none_or(|m| c.created.is_some_and(|t| t.elapsed().as_secs() >= m)))
        .filter(|c| !(skipme && c.id == my_id))
        .map(|c| (c.id, c.io))
        .collect();
    let kill_self = kill_clients(l, my_id, &targets);
    if old_form {
        if targets.is_empty() {
            return Err("ERR No such client".into());
        }
        reply(l, |r| r.ok())?;
    } else {
        reply(l, |r| r.int(targets.len() as i64))?;
    }
    if kill_self {
        l.after.close = Some(Closing::AfterFlush);
    }
    Ok(())
}

fn command_info(r: &mut Reply, s: &spec::CommandSpec) {
    r.array(10);
    r.bulk(s.name.as_bytes());
    r.int(s.arity as i64);
    let flags: Vec<&str> = flag::NAMES
        .iter()
        .filter(|(f, _)| s.is(*f))
        .map(|(_, n)| *n)
        .collect();
    r.set(flags.len());
    for f in flags {
        r.simple(f);
    }
    r.int(s.first_key as i64);
    r.int(s.last_key as i64);
    r.int(s.step as i64);
    let cats = spec::acl_categories(spec::acl_lookup(s.name).unwrap_or(spec::AclId::MAX));
    r.set(cats.count_ones() as usize);
    for (i, c) in spec::cat::NAMES.iter().enumerate() {
        if cats & (1 << i) != 0 {
            r.simple(&format!("@{c}"));
        }
    }
    r.array(0); // tips
    key_specs(
        r,
        spec::keyspecs::of(spec::acl_lookup(s.name).unwrap_or(spec::AclId::MAX)),
    );
    r.array(0); // subcommands
}

/// COMMAND INFO's key specifications (`addReplyCommandKeySpecs`).
fn key_specs(r: &mut Reply, specs: &[spec::keyspecs::KeySpec]) {
    use spec::keyspecs::{Begin, Find};
    r.array(specs.len());
    for ks in specs {
        r.map(if ks.notes.is_empty() { 3 } else { 4 });
        if !ks.notes.is_empty() {
            r.bulk(b"notes");
            r.bulk(ks.notes.as_bytes());
        }
        r.bulk(b"flags");
        key_flags(r, ks.flags);
        r.bulk(b"begin_search");
        r.map(2);
        r.bulk(b"type");
        match ks.begin {
            Begin::Index(i) => {
                r.bulk(b"index");
                r.bulk(b"spec");
                r.map(1);
                r.bulk(b"index");
                r.int(i as i64);
            }
            Begin::Keyword(kw, from) => {
                r.bulk(b"keyword");
                r.bulk(b"spec");
                r.map(2);
                r.bulk(b"keyword");
                r.bulk(kw.as_bytes());
                r.bulk(b"startfrom");
                r.int(from as i64);
            }
            Begin::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map(0);
            }
        }
        r.bulk(b"find_keys");
        r.map(2);
        r.bulk(b"type");
        match ks.find {
            Find::Range {
                lastkey,
                step,
                limit,
            } => {
                r.bulk(b"range");
                r.bulk(b"spec");
                r.map(3);
                r.bulk(b"lastkey");
                r.int(lastkey as i64);
                r.bulk(b"keystep");
                r.int(step as i64);
                r.bulk(b"limit");
                r.int(limit as i64);
            }
            Find::Keynum { index, first, step } => {
                r.bulk(b"keynum");
                r.bulk(b"spec");
                r.map(3);
                r.bulk(b"keynumidx");
                r.int(index as i64);
                r.bulk(b"firstkey");
                r.int(first as i64);
                r.bulk(b"keystep");
                r.int(step as i64);
            }
            Find::Unknown => {
                r.bulk(b"unknown");
                r.bulk(b"spec");
                r.map(0);
            }
        }
    }
}

/// A key's flags as a set of status replies (`addReplyFlagsForKeyArgs`).
fn key_flags(r: &mut Reply, flags: u16) {
    r.set(flags.count_ones() as usize);
    for (i, name) in spec::keyspecs::kflag::NAMES.iter().enumerate() {
        if flags & (1 << i) != 0 {
            r.simple(name);
        }
    }
}

fn command_docs(r: &mut Reply, s: &spec::CommandSpec) {
    r.bulk(s.name.as_bytes());
    r.map(3);
    r.bulk(b"summary");
    r.bulk(s.summary.as_bytes());
    r.bulk(b"since");
    r.bulk(s.since.as_bytes());
    r.bulk(b"group");
    r.bulk(s.group.as_bytes());
}

/// COMMAND [COUNT | INFO name... | DOCS name... | LIST [FILTERBY PATTERN p] |
/// GETKEYS cmd args...], all generated from [`spec::TABLE`].
fn command(l: &mut Local, args: &[&[u8]]) -> Res {
    let table = spec::TABLE;
    if args.len() == 1 {
        return reply(l, |r| {
            r.array(table.len());
            for s in table {
                command_info(r, s);
            }
        });
    }
    let sub = lower(&args[1]);
    match sub.as_str() {
        "count" if args.len() == 2 => reply(l, |r| r.int(table.len() as i64)),
        "info" => reply(l, |r| {
            if args.len() == 2 {
                r.array(table.len());
                table.iter().for_each(|s| command_info(r, s));
            } else {
                r.array(args.len() - 2);
                for a in &args[2..] {
                    match spec::lookup(a) {
                        Some(id) => command_info(r, spec::get(id)),
                        None => r.null_array(),
                    }
                }
            }
        }),
        "docs" => reply(l, |r| {
            let chosen: Vec<&spec::CommandSpec> = if args.len() == 2 {
                table.iter().collect()
            } else {
                args[2..]
                    .iter()
                    .filter_map(|a| spec::lookup(a))
                    .map(spec::get)
                    .collect()
            };
            r.map(chosen.len());
            chosen.into_iter().for_each(|s| command_docs(r, s));
        }),
        "list" => {
            // FILTERBY PATTERN glob | ACLCAT category | MODULE name (none
            // are loaded, so nothing matches).
            let filter = match args.len() {
                2 => None,
                5 if lower(&args[2]) == "filterby" => match lower(&args[3]).as_str() {
                    "pattern" | "aclcat" | "module" => Some((lower(&args[3]), args[4])),
                    _ => return Err(errors::SYNTAX.into()),
                },
                _ => return Err(errors::SYNTAX.into()),
            };
            let names: Vec<&str> = table
                .iter()
                .filter(|s| match &filter {
                    None => true,
                    Some((by, p)) if by == "pattern" => {
                        crate::glob::matches(p, s.name.as_bytes(), true)
                    }
                    Some((by, cat)) if by == "aclcat" => spec::cat::by_name(cat).is_some_and(|c| {
                        spec::acl_categories(spec::acl_lookup(s.name).unwrap_or(spec::AclId::MAX))
                            & c
                            != 0
                    }),
                    Some(_) => false,
                })
                .map(|s| s.name)
                .collect();
            reply(l, |r| {
                r.array(names.len());
                names.iter().for_each(|n| r.bulk(n.as_bytes()));
            })
        }
        "getkeys" | "getkeysandflags" if args.len() >= 4 => {
            // Redis's `getKeysSubcommandImpl`, on the key specs.
            let call = &args[2..];
            let id = spec::lookup(call[0]).ok_or("ERR Invalid command specified")?;
            let s = spec::get(id);
            let a = spec::acl_id_of(id, call);
            if s.is(flag::CONTAINER) && call.len() > 1 && a == spec::acl_id(id) {
                return Err("ERR Invalid command specified".into());
            }
            if !spec::keyspecs::has_keys(a) {
                return Err("ERR The command has no key arguments".into());
            }
            if !spec::acl_arity_ok(a, call.len()) {
                return Err("ERR Invalid number of arguments specified for command".into());
            }
            let keys = spec::keyspecs::find(id, a, call);
            // EVAL, FCALL and their kin may name no key.
            if keys.is_empty() && !(s.name.starts_with("eval") || s.name.starts_with("fcall")) {
                return Err("ERR Invalid arguments specified for command".into());
            }
            let flags = sub == "getkeysandflags";
            reply(l, |r| {
                r.array(keys.len());
                for &(p, f) in &keys {
                    if flags {
                        r.array(2);
                        r.bulk(call[p]);
                        key_flags(r, f);
                    } else {
                        r.bulk(call[p]);
                    }
                }
            })
        }
        "count" | "getkeys" | "getkeysandflags" => Err(format!(
            "ERR wrong number of arguments for 'command|{sub}' command"
        )),
        _ => Err(format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            text(&args[1])
        )),
    }
}

/// CONFIG GET pattern... | SET name value... | RESETSTAT | REWRITE.
fn config(l: &mut Local, args: &[&[u8]]) -> Res {
    let sub = lower(&args[1]);
    match sub.as_str() {
        "get" if args.len() >= 3 => {
            let mut found: Vec<(String, String)> = Vec::new();
            {
                let cfg = l.shared.config();
                for p in &args[2..] {
                    for kv in cfg.get_matching(p) {
                        if !found.iter().any(|(n, _)| *n == kv.0) {
                            found.push(kv);
                        }
                    }
                }
            }
            reply(l, |r| {
                r.map(found.len());
                for (n, v) in &found {
                    r.bulk(n.as_bytes());
                    r.bulk(v.as_bytes());
                }
            })
        }
        "set" if args.len() >= 4 && args.len() % 2 == 0 => {
            // All or nothing, as Redis 7: apply to a copy, commit if every pair is valid.
            let mut next = l.shared.config().clone();
            for pair in args[2..].chunks(2) {
                next.set_runtime(&text(&pair[0]), &text(&pair[1]))
                    .map_err(|e| format!("ERR {e}"))?;
            }
            l.shared.aof.set_fsync(next.appendfsync);
            l.shared.aof.set_preamble(next.aof_use_rdb_preamble);
            // appendonly: Redis's startAppendOnly / stopAppendOnly.
            let was = l.shared.config().appendonly;
            if next.appendonly && !was {
                let mut begin = false;
                l.shared
                    .aof
                    .turn_on(&next, &l.shared.saver, || begin = true)
                    .map_err(|e| {
                        format!("ERR CONFIG SET failed (possibly related to argument 'appendonly') - {e}")
                    })?;
                l.after.snapshot = begin;
            } else if !next.appendonly && was {
                l.shared.aof.turn_off();
            }
            l.shared.tunables.store(&next);
            l.shared.metrics.configure(&next);
            l.shared.acl.configure(&next);
            if next.requirepass != l.shared.config().requirepass {
                l.shared.acl.set_default_password(&next.requirepass);
            }
            crate::logging::set_level(&next.loglevel);
            *l.shared.config.write().unwrap_or_else(|e| e.into_inner()) = next;
            l.shared.config_epoch.fetch_add(1, Ordering::Release);
            l.after.reload_limits = true;
            reply(l, |r| r.ok())
        }
        "resetstat" if args.len() == 2 => {
            // Shards start their counters (hits, misses, expired, commands)
            // over before their next batch.
            l.shared.tunables.reset_stats();
            l.shared
                .ops_meter
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
            l.shared
                .mem_peak
                .store(super::shared::allocated_bytes(), Ordering::Relaxed);
            l.shared.total_commands.store(0, Ordering::Relaxed);
            l.shared.total_connections.store(0, Ordering::Relaxed);
            l.shared.rejected_connections.store(0, Ordering::Relaxed);
            l.shared.net_input_bytes.store(0, Ordering::Relaxed);
            l.shared.net_output_bytes.store(0, Ordering::Relaxed);
            l.shared.net_reads.store(0, Ordering::Relaxed);
            l.shared.net_writes.store(0, Ordering::Relaxed);
            l.shared.metrics.reset();
            if let Some(links) = l.shared.io_links.get() {
                for (_, w) in links.iter() {
                    w.wakes.store(0, Ordering::Relaxed);
                }
            }
            reply(l, |r| r.ok())
        }
        "rewrite" if args.len() == 2 => {
            let done = l.shared.config().rewrite(false, &l.shared.acl.user_lines());
            match done {
                Ok(()) => reply(l, |r| r.ok()),
                Err(e) => Err(format!("ERR {e}")),
            }
        }
        "get" | "set" | "resetstat" | "rewrite" => Err(format!(
            "ERR wrong number of arguments for 'config|{sub}' command"
        )),
        _ => Err(format!(
            "ERR unknown subcommand '{}'. Try CONFIG HELP.",
            text(&args[1])
        )),
    }
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]: stops the server; the
/// connection closes without a reply, as in Redis. When the `save`
/// schedule has points or SAVE is given (and not NOSAVE), the main thread
/// first holds every client, waits for what they sent to be answered, and
/// writes an RDB snapshot (`server.rs`); if that save fails the server
/// stays up and the caller gets `ERR Errors trying to SHUTDOWN. Check
/// logs.` (Redis 7 `prepareForShutdown`; FORCE exits anyway). Errors:
/// `syntax error` (an unknown flag, or both SAVE and NOSAVE); `No
/// shutdown in progress.` for ABORT; BUSY while a script runs, unless
/// NOSAVE (`shutdownCommand`).
fn shutdown(l: &mut Local, args: &[&[u8]]) -> Res {
    let (mut save, mut nosave, mut force) = (false, false, false);
    for a in &args[1..] {
        match lower(a).as_str() {
            "now" => {}
            "force" => force = true,
            "save" => save = true,
            "nosave" => nosave = true,
            "abort" => return Err("ERR No shutdown in progress.".into()),
            _ => return Err(errors::SYNTAX.into()),
        }
    }
    let how = match (save, nosave) {
        (true, true) => return Err(errors::SYNTAX.into()),
        (true, false) => crate::persist::EXIT_SAVE,
        (false, true) => crate::persist::EXIT_NOSAVE,
        (false, false) => crate::persist::EXIT_DEFAULT,
    };
    if !nosave && l.shared.scripts.any_busy() {
        return Err(errors::BUSY.into());
    }
    tracing::info!("User requested shutdown...");
    let req = crate::persist::ExitRequest { how, force };
    if req.saves(!l.shared.config().save.is_empty()) {
        l.shared.ask_shutdown(req);
        l.after.await_shutdown = true;
    } else {
        l.shared.request_shutdown();
        l.after.close = Some(Closing::Now);
    }
    Ok(())
}

// Positions in a shard's INFO statistics array (see the shard's INFO
// handler, `cmd::keys`): six totals, then keys and expires per database,
// then table bytes per database.
const SHARD_COMMANDS: usize = 0;
const SHARD_EXPIRED: usize = 1;
const SHARD_HITS: usize = 2;
const SHARD_MISSES: usize = 3;
const SHARD_EVICTED: usize = 4;
const SHARD_LUA: usize = 5;
const SHARD_KEYSPACE: usize = 6;

/// Builds the closure that turns the shards' summed statistics into the
/// INFO reply for the sections in `args` (server, clients, memory, stats,
/// cpu, keyspace; `all`/`everything`/`default` or none for every one).
///
/// Shard statistics layout: see `SHARD_COMMANDS` and the constants after it.
pub(super) fn info_finisher(
    shared: &Arc<Shared>,
    args: &[&[u8]],
) -> Box<dyn FnOnce(Vec<i64>, bool) -> Bytes> {
    let shared = shared.clone();
    if args[0].eq_ignore_ascii_case(b"memory") {
        let doctor = args
            .get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"doctor"));
        return Box::new(move |sums: Vec<i64>, resp3: bool| {
            let m = MemoryStats::from(&shared, &sums);
            if doctor {
                encode(resp3, |r| r.verbatim(m.doctor().as_bytes()))
            } else {
                encode(resp3, |r| m.write(r))
            }
        });
    }
    let mut sections: Vec<String> = args[1..].iter().map(|a| lower(a)).collect();
    let all = sections.iter().any(|s| s == "all" || s == "everything");
    if all || sections.is_empty() || sections.iter().any(|s| s == "default") {
        // Every section, in Redis 7's order; without `all`/`everything`
        // commandstats and latencystats (and tandem's own) are left out.
        const ALL: &[&str] = &[
            "server",
            "clients",
            "memory",
            "persistence",
            "stats",
            "replication",
            "cpu",
            "modules",
            "commandstats",
            "errorstats",
            "latencystats",
            "cluster",
            "keyspace",
            "tandem",
        ];
        const NOT_DEFAULT: &[&str] = &["commandstats", "latencystats", "tandem"];
        sections = ALL
            .iter()
            .filter(|s| all || !NOT_DEFAULT.contains(s))
            .map(|s| s.to_string())
            .collect();
    }
    Box::new(move |sums: Vec<i64>, resp3: bool| {
        let text = format_info(&shared, &sections, &sums);
        encode(resp3, |r| r.verbatim(text.as_bytes()))
    })
}

/// MEMORY STATS' figures (`getMemoryOverheadData` in Redis 7.0's
/// `object.c`), from the allocator's count of allocated bytes, the
/// process's RSS, the clients' buffers and every shard's tables. tandem
/// keeps a key's TTL in its entry, so there is no expires table
/// (`overhead.hashtable.expires` 0); it has no replication, cluster links
/// or AOF buffer (0). The allocator reports no active/resident split:
/// both are the RSS.
struct MemoryStats {
    peak: u64,
    total: u64,
    startup: u64,
    clients: u64,
    scripts: u64,
    /// Bytes the shards' Lua states hold.
    lua: u64,
    /// Per database with keys: (index, table bytes).
    dbs: Vec<(usize, u64)>,
    keys: u64,
    rss: u64,
}

impl MemoryStats {
    fn from(sh: &Shared, sums: &[i64]) -> MemoryStats {
        let total = super::shared::allocated_bytes();
        let dbs_n = sums.len().saturating_sub(SHARD_KEYSPACE) / 3;
        let stat = |i: usize| sums.get(i).copied().unwrap_or(0).max(0) as u64;
        let mut dbs = Vec::new();
        let mut keys = 0;
        for d in 0..dbs_n {
            let n = stat(SHARD_KEYSPACE + 2 * d);
            keys += n;
            if n > 0 {
                dbs.push((d, stat(SHARD_KEYSPACE + 2 * dbs_n + d)));
            }
        }
        let clients = sh
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|c| c.tot_mem as u64)
            .sum();
        MemoryStats {
            peak: sh.mem_peak.fetch_max(total, Ordering::Relaxed).max(total),
            total,
            startup: sh.startup_allocated.load(Ordering::Relaxed),
            clients,
            scripts: sh.scripts.memory() as u64,
            lua: stat(SHARD_LUA),
            dbs,
            keys,
            rss: super::shared::rss_bytes(),
        }
    }

    fn overhead(&self) -> u64 {
        self.startup + self.clients + self.scripts + self.dbs.iter().map(|d| d.1).sum::<u64>()
    }

    fn write(&self, r: &mut Reply) {
        let net = self.total.saturating_sub(self.startup);
        let overhead = self.overhead();
        let dataset = self.total.saturating_sub(overhead);
        let pct = |a: u64, b: u64| {
            if b == 0 {
                0.0
            } else {
                a as f64 * 100.0 / b as f64
            }
        };
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        r.map(27 + self.dbs.len());
        let int = |r: &mut Reply, k: &str, v: u64| {
            r.bulk(k.as_bytes());
            r.int(v as i64);
        };
        let dbl = |r: &mut Reply, k: &str, v: f64| {
            r.bulk(k.as_bytes());
            r.double(v);
        };
        int(r, "peak.allocated", self.peak);
        int(r, "total.allocated", self.total);
        int(r, "startup.allocated", self.startup);
        int(r, "replication.backlog", 0);
        int(r, "clients.slaves", 0);
        int(r, "clients.normal", self.clients);
        int(r, "cluster.links", 0);
        int(r, "aof.buffer", 0);
        int(r, "lua.caches", self.scripts);
        int(r, "functions.caches", 0);
        for (d, table) in &self.dbs {
            r.bulk(format!("db.{d}").as_bytes());
            r.map(2);
            int(r, "overhead.hashtable.main", *table);
            int(r, "overhead.hashtable.expires", 0);
        }
        int(r, "overhead.total", overhead);
        int(r, "keys.count", self.keys);
        int(
            r,
            "keys.bytes-per-key",
            net.checked_div(self.keys).unwrap_or(0),
        );
        int(r, "dataset.bytes", dataset);
        dbl(r, "dataset.percentage", pct(dataset, net));
        dbl(r, "peak.percentage", pct(self.total, self.peak));
        int(r, "allocator.allocated", self.total);
        int(r, "allocator.active", self.rss);
        int(r, "allocator.resident", self.rss);
        dbl(
            r,
            "allocator-fragmentation.ratio",
            ratio(self.rss, self.total),
        );
        int(
            r,
            "allocator-fragmentation.bytes",
            self.rss.saturating_sub(self.total),
        );
        dbl(r, "allocator.rss-ratio", 1.0);
        int(r, "allocator.rss-bytes", 0);
        dbl(r, "rss-overhead.ratio", 1.0);
        int(r, "rss-overhead.bytes", 0);
        dbl(r, "fragmentation", ratio(self.rss, self.total));
        int(
            r,
            "fragmentation.bytes",
            self.rss.saturating_sub(self.total),
        );
    }

    /// MEMORY DOCTOR: what stands out in these figures, in tandem's words.
    fn doctor(&self) -> String {
        const MB: u64 = 1 << 20;
        if self.total < 5 * MB {
            return "This instance holds too little data (under 5 MB) for a memory diagnosis.\n"
                .into();
        }
        let mut found = Vec::new();
        if self.peak > self.total + self.total / 2 {
            found.push(format!(
                "Peak memory: at its peak the instance used {} MB, more than 150% of the {} MB it uses now. Memory freed since may stay resident; MEMORY PURGE hands it back.",
                self.peak / MB,
                self.total / MB
            ));
        }
        let frag = self.rss as f64 / self.total.max(1) as f64;
        if frag > 1.4 && self.rss - self.total > 10 * MB {
            found.push(format!(
                "High fragmentation: the process's RSS is {frag:.2} times what is allocated ({} MB more). MEMORY PURGE returns free pages to the system.",
                (self.rss - self.total) / MB
            ));
        }
        if self.clients > 200 * MB {
            found.push(format!(
                "Big client buffers: clients hold {} MB of query and reply buffers. CLIENT LIST shows which (qbuf, omem); slow readers of big replies or Pub/Sub are the usual cause.",
                self.clients / MB
            ));
        }
        if found.is_empty() {
            return "No memory problem found: fragmentation, peak and client buffers are within normal bounds.\n".into();
        }
        let mut s = String::from("Memory issues found:\n\n");
        for f in found {
            s.push_str(" * ");
            s.push_str(&f);
            s.push_str("\n\n");
        }
        s
    }
}

/// `INFO tandem`: scripts and functions run with every shard locked and
/// runs that strayed from their declared keys, per-stage latency
/// percentiles of sampled requests (see [`crate::metrics`]), batch sizes
/// per shard, and per-thread parks, spin wins and doorbell (eventfd)
/// writes.
fn format_tandem(sh: &Shared, s: &mut String) {
    let (threads, merged) = sh.metrics.snapshot();
    let _ = write!(
        s,
        "# Tandem\r\nlatency_sample_every:{}\r\nscript_runs_every_shard:{}\r\nscript_strayed_runs:{}\r\n",
        sh.metrics.sample_every.load(Ordering::Relaxed),
        sh.scripts.global_runs.load(Ordering::Relaxed),
        sh.scripts.strayed_runs.load(Ordering::Relaxed),
    );
    for (name, h) in metrics::STAGES.iter().zip(&merged.stages) {
        let _ = write!(
            s,
            "stage_{name}_usec:{},samples={}\r\n",
            metrics::percentiles_usec(h),
            h.len()
        );
    }
    let wakes: Vec<u64> = sh
        .io_links
        .get()
        .map(|l| {
            l.iter()
                .map(|(_, w)| w.wakes.load(Ordering::Relaxed))
                .collect()
        })
        .unwrap_or_default();
    for t in &threads {
        let name = &t.name;
        let _ = write!(
            s,
            "{name}_parks:{}\r\n{name}_spin_wins:{}\r\n",
            t.parks, t.spin_wins
        );
        if let Some(i) = name
            .strip_prefix("io")
            .and_then(|i| i.parse::<usize>().ok())
        {
            let _ = write!(
                s,
                "{name}_eventfd_writes:{}\r\n",
                wakes.get(i).copied().unwrap_or(0)
            );
        }
        let b = &t.batch_size;
        if !b.is_empty() {
            let _ = write!(
                s,
                "{name}_batch_size:p50={},p99={},max={},batches={}\r\n",
                b.value_at_quantile(0.5),
                b.value_at_quantile(0.99),
                b.max(),
                b.len()
            );
        }
    }
    s.push_str("\r\n");
}

fn human(n: u64) -> String {
    let f = n as f64;
    if f >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}G", f / (1024.0 * 1024.0 * 1024.0))
    } else if f >= 1024.0 * 1024.0 {
        format!("{:.2}M", f / (1024.0 * 1024.0))
    } else if f >= 1024.0 {
        format!("{:.2}K", f / 1024.0)
    } else {
        format!("{n}B")
    }
}

fn format_info(sh: &Shared, sections: &[String], sums: &[i64]) -> String {
    let mut s = String::new();
    let stat = |i: usize| sums.get(i).copied().unwrap_or(0);
    let cfg = sh.config().clone();
    for sec in sections {
        match sec.as_str() {
            "server" => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let up = sh.started.elapsed().as_secs();
                let _ = write!(
                    s,
                    "# Server\r\nredis_version:{REDIS_VERSION}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:io_uring\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{up}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:{}\r\ntandem_version:{}\r\ntandem_io_threads:{}\r\ntandem_shards:{}\r\ntandem_colocated:{}\r\ntandem_plan:{}\r\n\r\n",
                    super::shared::os_name(),
                    std::process::id(),
                    sh.run_id,
                    sh.port,
                    now.as_micros(),
                    up / 86400,
                    cfg.hz,
                    cfg.hz,
                    crate::store::lru_clock(now.as_millis() as u64),
                    std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    cfg.config_file.as_deref().unwrap_or(""),
                    (cfg.io_threads > 1) as u8,
                    env!("CARGO_PKG_VERSION"),
                    cfg.io_threads,
                    cfg.shards,
                    if cfg.colocated { "yes" } else { "no" },
                    sh.plan,
                );
            }
            "clients" => {
                let _ = write!(
                    s,
                    "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n\r\n",
                    sh.connected.load(Ordering::Relaxed),
                    cfg.maxclients,
                    sh.blocked_clients.load(Ordering::Relaxed),
                    sh.clients
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .values()
                        .filter(|c| c.redir.is_some())
                        .count(),
                );
            }
            "memory" => {
                // Redis 7.0's fields, in its order (`genRedisInfoString`).
                let m = MemoryStats::from(sh, sums);
                let (used, rss, peak) = (m.total, m.rss, m.peak);
                let overhead = m.overhead();
                let dataset = used.saturating_sub(overhead);
                let net = used.saturating_sub(m.startup);
                let pct = |a: u64, b: u64| {
                    if b == 0 {
                        0.0
                    } else {
                        a as f64 * 100.0 / b as f64
                    }
                };
                let system = super::shared::system_memory_bytes();
                let libs = sh.scripts.libraries();
                let (libraries, functions) = (
                    libs.len(),
                    libs.iter().map(|l| l.functions.len()).sum::<usize>(),
                );
                let clients = m.clients;
                let limit = cfg.maxmemory.limit;
                let _ = write!(
                    s,
                    "# Memory\r\nused_memory:{used}\r\nused_memory_human:{}\r\nused_memory_rss:{rss}\r\nused_memory_rss_human:{}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{}\r\nused_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{overhead}\r\nused_memory_startup:{}\r\nused_memory_dataset:{dataset}\r\nused_memory_dataset_perc:{:.2}%\r\nallocator_allocated:{used}\r\nallocator_active:{rss}\r\nallocator_resident:{rss}\r\ntotal_system_memory:{system}\r\ntotal_system_memory_human:{}\r\nused_memory_lua:{lua}\r\nused_memory_vm_eval:{lua}\r\nused_memory_lua_human:{}\r\nused_memory_scripts_eval:{scripts}\r\nnumber_of_cached_scripts:{}\r\nnumber_of_functions:{functions}\r\nnumber_of_libraries:{libraries}\r\nused_memory_vm_functions:0\r\nused_memory_vm_total:{lua}\r\nused_memory_vm_total_human:{}\r\nused_memory_functions:0\r\nused_memory_scripts:{scripts}\r\nused_memory_scripts_human:{}\r\nmaxmemory:{limit}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\nallocator_frag_ratio:{:.2}\r\nallocator_frag_bytes:{}\r\nallocator_rss_ratio:1.00\r\nallocator_rss_bytes:0\r\nrss_overhead_ratio:1.00\r\nrss_overhead_bytes:0\r\nmem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\nmem_not_counted_for_evict:0\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\nmem_clients_slaves:0\r\nmem_clients_normal:{clients}\r\nmem_cluster_links:0\r\nmem_aof_buffer:0\r\nmem_allocator:mimalloc\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n\r\n",
                    human(used),
                    human(rss),
                    human(peak),
                    pct(used, peak),
                    m.startup,
                    pct(dataset, net),
                    human(system),
                    human(m.lua),
                    sh.scripts.len(),
                    human(m.lua),
                    human(m.scripts),
                    human(limit),
                    cfg.maxmemory.policy.name(),
                    rss as f64 / used.max(1) as f64,
                    rss.saturating_sub(used),
                    rss as f64 / used.max(1) as f64,
                    rss.saturating_sub(used),
                    lua = m.lua,
                    scripts = m.scripts,
                );
            }
            "stats" => {
                // Redis 7.0's fields, in its order. What tandem has no
                // counterpart for (replication, forks, defragmentation,
                // Redis's own IO threads) is 0, as on a Redis without it;
                // a few figures it does not measure are 0 too (README).
                let (kin, kout) = {
                    let m = sh.net_meters.lock().unwrap_or_else(|e| e.into_inner());
                    (m[0].rate() / 1024.0, m[1].rate() / 1024.0)
                };
                let _ = write!(
                    s,
                    "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{kin:.2}\r\ninstantaneous_output_kbps:{kout:.2}\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\nevicted_keys:{}\r\nevicted_clients:0\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\ntandem_shard_commands:{}\r\n\r\n",
                    sh.total_connections.load(Ordering::Relaxed),
                    sh.total_commands.load(Ordering::Relaxed),
                    sh.ops_meter
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .per_sec(),
                    sh.net_input_bytes.load(Ordering::Relaxed),
                    sh.net_output_bytes.load(Ordering::Relaxed),
                    sh.rejected_connections.load(Ordering::Relaxed),
                    stat(SHARD_EXPIRED),
                    stat(SHARD_EVICTED),
                    stat(SHARD_HITS),
                    stat(SHARD_MISSES),
                    sh.pubsub.channel_count(crate::pubsub::Space::Global),
                    sh.pubsub.pattern_count(),
                    sh.pubsub.channel_count(crate::pubsub::Space::Shard),
                    sh.metrics.error_stats().0,
                    sh.net_reads.load(Ordering::Relaxed),
                    sh.net_writes.load(Ordering::Relaxed),
                    stat(SHARD_COMMANDS),
                );
            }
            "persistence" => {
                // Redis 7.0's fields, in its order. A fork-less save copies
                // no pages, so the copy-on-write figures stay 0.
                let p = sh.saver.info();
                let a = sh.aof.info();
                let _ = write!(
                    s,
                    "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:0\r\nrdb_last_load_keys_loaded:0\r\naof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:0\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                    p.changes_since_last_save,
                    p.bgsave_in_progress as u8,
                    p.last_save_time,
                    if p.last_bgsave_ok { "ok" } else { "err" },
                    p.last_bgsave_secs,
                    p.current_bgsave_secs,
                    p.saves,
                    a.enabled as u8,
                    a.rewrite_in_progress as u8,
                    a.rewrite_scheduled as u8,
                    a.last_rewrite_secs,
                    a.current_rewrite_secs,
                    if a.last_rewrite_ok { "ok" } else { "err" },
                    a.rewrites,
                    if a.last_write_ok { "ok" } else { "err" },
                );
                if a.enabled {
                    // Redis adds these while the AOF is on.
                    let _ = write!(
                        s,
                        "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:0\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                        a.current_size, a.base_size, a.rewrite_scheduled as u8
                    );
                }
                s.push_str("\r\n");
            }
            "replication" => {
                let _ = write!(
                    s,
                    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n\r\n",
                    sh.repl_id.lock().unwrap_or_else(|e| e.into_inner())
                );
            }
            "cluster" => {
                // Client libraries read this at start-up to pick cluster mode.
                s.push_str("# Cluster\r\ncluster_enabled:0\r\n\r\n");
            }
            "cpu" => {
                // SAFETY: getrusage fills the zeroed struct we pass.
                let ru = unsafe {
                    let mut ru: libc::rusage = std::mem::zeroed();
                    libc::getrusage(libc::RUSAGE_SELF, &mut ru);
                    ru
                };
                let t = |tv: libc::timeval| format!("{}.{:06}", tv.tv_sec, tv.tv_usec);
                // Children: none (no fork), read all the same; the main
                // thread: the IO thread answering.
                // SAFETY: as above.
                let (children, thread) = unsafe {
                    let mut c: libc::rusage = std::mem::zeroed();
                    libc::getrusage(libc::RUSAGE_CHILDREN, &mut c);
                    let mut t: libc::rusage = std::mem::zeroed();
                    libc::getrusage(libc::RUSAGE_THREAD, &mut t);
                    (c, t)
                };
                let _ = write!(
                    s,
                    "# CPU\r\nused_cpu_sys:{}\r\nused_cpu_user:{}\r\nused_cpu_sys_children:{}\r\nused_cpu_user_children:{}\r\nused_cpu_sys_main_thread:{}\r\nused_cpu_user_main_thread:{}\r\n\r\n",
                    t(ru.ru_stime),
                    t(ru.ru_utime),
                    t(children.ru_stime),
                    t(children.ru_utime),
                    t(thread.ru_stime),
                    t(thread.ru_utime),
                );
            }
            "keyspace" => {
                s.push_str("# Keyspace\r\n");
                for db in 0..cfg.databases {
                    let (keys, expires) = (
                        stat(SHARD_KEYSPACE + 2 * db),
                        stat(SHARD_KEYSPACE + 1 + 2 * db),
                    );
                    if keys > 0 {
                        let _ = write!(s, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
                    }
                }
                s.push_str("\r\n");
            }
            "modules" => s.push_str("# Modules\r\n\r\n"),
            "commandstats" => {
                // Redis 7's `cmdstat_<name>:calls=…` lines; time summed
                // over every shard a split command ran on.
                s.push_str("# Commandstats\r\n");
                for (name, [calls, ns, rejected, failed]) in sh.metrics.command_stats() {
                    let usec = ns / 1000;
                    let per_call = if calls == 0 {
                        0.0
                    } else {
                        usec as f64 / calls as f64
                    };
                    let _ = write!(
                        s,
                        "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n"
                    );
                }
                s.push_str("\r\n");
            }
            "errorstats" => {
                s.push_str("# Errorstats\r\n");
                for (prefix, n) in sh.metrics.error_stats().1 {
                    let _ = write!(s, "errorstat_{prefix}:count={n}\r\n");
                }
                s.push_str("\r\n");
            }
            "latencystats" => {
                // Redis 7's format, from sampled requests' shard execute time.
                let (_, merged) = sh.metrics.snapshot();
                s.push_str("# Latencystats\r\n");
                let mut cmds: Vec<_> = merged.commands.iter().collect();
                cmds.sort_by_key(|(name, _)| **name);
                for (name, h) in cmds {
                    let _ = write!(
                        s,
                        "latency_percentiles_usec_{name}:{}\r\n",
                        metrics::percentiles_usec(h)
                    );
                }
                s.push_str("\r\n");
            }
            "tandem" => format_tandem(sh, &mut s),
            _ => {}
        }
    }
    while s.ends_with("\r\n\r\n") {
        s.truncate(s.len() - 2);
    }
    s
}
