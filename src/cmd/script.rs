//! EVAL EVALSHA EVAL_RO EVALSHA_RO FCALL FCALL_RO: run a Lua script or
//! function on this shard (redis.io/commands/eval, /commands/fcall; Redis
//! 7.0 `eval.c`, `function_lua.c`). The IO stage routed the
//! script here inside the transaction layer (see `crate::script` for
//! which locks it holds); this module runs it and carries out its
//! `redis.call`s, on this shard or, synchronously, on the shard that owns
//! the key ([`Shard::call_on`]).
//!
//! Errors: `ERR value is not an integer or out of range` (numkeys), `ERR
//! Number of keys can't be negative`, `ERR Number of keys can't be greater
//! than number of args`, `NOSCRIPT No matching script. Please use EVAL.`,
//! and a script's own errors ([`crate::script::lua`]). Inside a script:
//! `ERR Unknown Redis command called from script`, `ERR Wrong number of
//! args calling Redis command from script`, `ERR This Redis command is not
//! allowed from script` (MULTI, EVAL, blocking commands, ...), `ERR Write
//! commands are not allowed from read-only scripts.`

use bytes::Bytes;

use super::{CmdError, CmdResult, Ctx, Handler, Shard};
use crate::msg::ReplyTo;
use crate::resp::{Reply, errors};
use crate::script::lua::{Host, Runtime};
use crate::spec::{self, Gather, Route, Touched, flag};

pub const HANDLERS: &[(&str, Handler)] = &[
    ("eval", eval),
    ("evalsha", evalsha),
    ("eval_ro", eval_ro),
    ("evalsha_ro", evalsha_ro),
    ("fcall", fcall),
    ("fcall_ro", fcall_ro),
];

/// EVAL_RO/EVALSHA_RO/FCALL_RO of a script or function not flagged
/// `no-writes`.
const RO_WRITE_FLAG: &str = "ERR Can not execute a script with write flag using *_ro command.";

fn fcall(ctx: &mut Ctx) -> CmdResult {
    run_function(ctx, false)
}

fn fcall_ro(ctx: &mut Ctx) -> CmdResult {
    run_function(ctx, true)
}

/// `numkeys` at argument 2, checked against the arguments that follow.
fn numkeys(ctx: &Ctx) -> Result<usize, CmdError> {
    let nk = ctx.int_arg(2)?;
    if nk < 0 {
        return Err(CmdError::Msg("ERR Number of keys can't be negative"));
    }
    if nk as u64 > (ctx.args.len() - 3) as u64 {
        return Err(CmdError::Msg(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    Ok(nk as usize)
}

/// Whether a script or function found here must be answered as unknown
/// because the locks its request came with cannot isolate it. The IO
/// thread routes an EVALSHA or FCALL by what it knew of the script then
/// (`net::route::coord_keys`): one it did not know, or knew to stay within
/// keys of one shard, comes with no transaction. If it was loaded in
/// between (a new script runs with every shard locked until a run shows it
/// stays within its keys), or its keys are not all on this shard, running
/// it now would let other clients see its writes half done. The reply is
/// then what the IO thread saw, `NOSCRIPT` or `Function not found`, which
/// clients answer by loading the script and sending it again, routed right.
fn unknown_when_routed(ctx: &Ctx, every_shard: bool, nk: usize) -> bool {
    if ctx.reply_to.tx != 0 || ctx.sh.count == 1 {
        return false;
    }
    every_shard
        || ctx.args[3..3 + nk]
            .iter()
            .any(|k| ctx.sh.shard_of(k) != ctx.sh.id)
}

/// Runs function `ctx.args[1]` (`FCALL name numkeys key... arg...`,
/// redis.io/commands/fcall). Errors: `ERR Function not found`, `ERR Can
/// not execute a script with write flag using *_ro command.`, numkeys as
/// EVAL.
fn run_function(ctx: &mut Ctx, read_only: bool) -> CmdResult {
    let nk = numkeys(ctx)?;
    let scripts = ctx.sh.scripts.clone();
    let (meta, lib) = scripts
        .function(&ctx.args[1])
        .filter(|(f, _)| !unknown_when_routed(ctx, f.needs_every_shard(), nk))
        .ok_or(CmdError::Msg("ERR Function not found"))?;
    if read_only && !meta.no_writes() {
        return Err(CmdError::Msg(RO_WRITE_FLAG));
    }
    refuse_oom(ctx, &meta.flags)?;
    let keys = &ctx.args[3..3 + nk];
    let argv = &ctx.args[3 + nk..];
    let generation = scripts.fn_generation();
    let strayed = with_runtime(
        ctx,
        keys,
        read_only || meta.no_writes(),
        false,
        |rt, host, out| rt.run_function(&lib, &meta.name, generation, keys, argv, host, out),
    )?;
    scripts.learned(strayed, &meta.checked, &meta.strays);
    Ok(())
}

/// A script or function that declares its flags (a shebang, a
/// registration) and neither `allow-oom` nor `no-writes` is refused
/// whole when memory was full as its command began (Redis 7.0: its
/// EVAL or FCALL counts as `denyoom`, `scriptFlagsToCmdFlags`).
fn refuse_oom(ctx: &Ctx, flags: &[String]) -> Result<(), CmdError> {
    let exempt = flags.iter().any(|f| f == "allow-oom" || f == "no-writes");
    if ctx.sh.evict.oom_before && !exempt {
        return Err(CmdError::Msg(errors::OOM));
    }
    Ok(())
}

/// Runs `f` with this shard's Lua runtime (made at the first script) and a
/// host for the script's calls; returns whether the script strayed from
/// its declared `keys`. Afterwards, clients blocked on keys it pushed to
/// on other shards are served there (a hop serves its shard's ready keys).
/// `oom_checked`: a script without flags, whose first `denyoom` call is
/// refused if memory was full as it began (Redis's `scriptVerifyOOM`).
fn with_runtime(
    ctx: &mut Ctx,
    keys: &[Bytes],
    read_only: bool,
    oom_checked: bool,
    f: impl FnOnce(&mut Runtime, &mut dyn Host, &mut Reply),
) -> Result<bool, CmdError> {
    let scripts = ctx.sh.scripts.clone();
    let mut rt = match ctx.sh.lua.take() {
        Some(rt) => rt,
        None => match Runtime::new(scripts.clone(), ctx.sh.id, ctx.sh.tun.clone()) {
            Ok(rt) => Box::new(rt),
            Err(e) => return Err(CmdError::Owned(format!("ERR cannot start Lua: {e}"))),
        },
    };
    let me = ctx.sh.id;
    scripts.started(me);
    // The script is logged as its effects (Redis 7), as one block.
    ctx.sh.propagate_nothing();
    let outer = ctx.sh.log_group.replace(crate::aof::Chunk::default());
    let oom = oom_checked && ctx.sh.evict.oom_before;
    let caller = ctx.caller.cloned();
    let mut host = ScriptHost {
        caller,
        sh: ctx.sh,
        db: ctx.db,
        declared: keys,
        read_only,
        oom,
        strayed: false,
        wrote: false,
        remote: Vec::new(),
        tracker: (ctx.client_flags & crate::msg::client_flags::TRACK_READ != 0).then_some(
            crate::pubsub::Tracker {
                io: ctx.reply_to.io,
                conn: ctx.reply_to.conn,
            },
        ),
    };
    f(&mut rt, &mut host, ctx.out);
    let (strayed, remote) = (host.strayed, std::mem::take(&mut host.remote));
    scripts.finished(me);
    let effects = std::mem::replace(&mut ctx.sh.log_group, outer).unwrap_or_default();
    if let Some(g) = ctx.sh.log_group.as_mut() {
        g.append(effects);
    } else if let Some(t) = &ctx.sh.log_tx {
        // Inside a transaction's place, which the writer frames whole.
        t.append(effects);
    } else {
        ctx.sh.log.append_group(effects);
    }
    ctx.sh.lua = Some(rt);
    for s in remote {
        ctx.sh.hop(s, |_| {});
    }
    Ok(strayed)
}

fn eval(ctx: &mut Ctx) -> CmdResult {
    run(ctx, false, false)
}

fn evalsha(ctx: &mut Ctx) -> CmdResult {
    run(ctx, true, false)
}

fn eval_ro(ctx: &mut Ctx) -> CmdResult {
    run(ctx, false, true)
}

fn evalsha_ro(ctx: &mut Ctx) -> CmdResult {
    run(ctx, true, true)
}

/// Runs the script of `ctx.args` (`<script|sha1> numkeys key... arg...`).
fn run(ctx: &mut Ctx, by_sha: bool, read_only: bool) -> CmdResult {
    let nk = numkeys(ctx)?;
    let scripts = ctx.sh.scripts.clone();
    let script = if by_sha {
        scripts
            .get(&ctx.args[1])
            .filter(|s| !unknown_when_routed(ctx, s.needs_every_shard(), nk))
            .ok_or(CmdError::Msg(
                "NOSCRIPT No matching script. Please use EVAL.",
            ))?
    } else {
        scripts.load(ctx.args[1].clone())
    };
    // A script with a shebang declares whether it writes: under *_RO
    // one without `no-writes` is refused before it runs (Redis 7.0,
    // `evalGenericCommand`); one without a shebang is refused only when
    // it calls a write command.
    let flagged = script.body.starts_with(b"#!");
    if flagged {
        if let Ok(sb) = crate::script::parse_shebang(&script.body, false) {
            if read_only && !sb.flags.iter().any(|f| f == "no-writes") {
                return Err(CmdError::Msg(RO_WRITE_FLAG));
            }
            refuse_oom(ctx, &sb.flags)?;
        }
    }
    let keys = &ctx.args[3..3 + nk];
    let argv = &ctx.args[3 + nk..];
    let generation = scripts.generation();
    let strayed = with_runtime(ctx, keys, read_only, !flagged, |rt, host, out| {
        rt.run(&script.sha, &script.body, generation, keys, argv, host, out)
    })?;
    scripts.learned(strayed, &script.checked, &script.strays);
    Ok(())
}

/// A running script's view of the shard: carries out its calls.
struct ScriptHost<'a> {
    sh: &'a mut Shard,
    /// The database the script's commands use (SELECT inside the script
    /// changes it, for the script only).
    db: usize,
    /// `KEYS`: a call touching any other key makes the script one that
    /// runs with every shard locked from now on.
    declared: &'a [Bytes],
    read_only: bool,
    /// Memory was full as the script began and it has no flags: its
    /// first `denyoom` call, before any write, is refused.
    oom: bool,
    strayed: bool,
    wrote: bool,
    /// Other shards the script wrote on.
    remote: Vec<u16>,
    /// Client-side caching: the client that tracks the script's declared
    /// keys once it reads (taken at the first read).
    tracker: Option<crate::pubsub::Tracker>,
    /// The user each call is checked against, when it has ACL
    /// restrictions.
    caller: Option<std::sync::Arc<crate::acl::Caller>>,
}

fn error_reply(msg: &str) -> Bytes {
    let mut r = Reply::new(false);
    r.error(msg);
    r.buf.freeze()
}

impl Host for ScriptHost<'_> {
    fn no_writes(&mut self) {
        self.read_only = true;
    }

    fn call(&mut self, args: Vec<Bytes>, resp3: bool) -> Bytes {
        let Some(id) = spec::lookup(&args[0]) else {
            return error_reply("ERR Unknown Redis command called from script");
        };
        let s = spec::get(id);
        if !s.arity_ok(args.len()) {
            return error_reply("ERR Wrong number of args calling Redis command from script");
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        if matches!(s.name, "xread" | "xreadgroup") && s.blocks(&refs) {
            return error_reply(&format!(
                "ERR {} command is not allowed with BLOCK option from scripts",
                String::from_utf8_lossy(&args[0])
            ));
        }
        if s.is(flag::NOSCRIPT) || s.blocks(&refs) {
            return error_reply("ERR This Redis command is not allowed from script");
        }
        if let Some(c) = &self.caller {
            if let Err(e) = c.check(id, &refs) {
                return error_reply(&e);
            }
        }
        let write = s.is(flag::WRITE);
        if write && self.read_only {
            return error_reply("ERR Write commands are not allowed from read-only scripts.");
        }
        if self.oom && !self.wrote && s.is(flag::DENYOOM) {
            return error_reply(errors::OOM);
        }
        match s.route {
            Route::Local | Route::PubSub => return self.local(s.name, &args, resp3),
            Route::Key | Route::Coord | Route::Keys(_) => {}
            Route::All(_) | Route::Scan | Route::Tx => {
                return error_reply(&format!(
                    "ERR tandem: '{}' is not supported inside scripts yet",
                    s.name
                ));
            }
        }
        let count = self.sh.count as usize;
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        let keys = match spec::touched_keys(s, &refs) {
            Touched::Known(k) => k,
            Touched::Unknown if count == 1 => Vec::new(),
            Touched::Unknown => {
                self.strayed = true;
                return error_reply(&format!(
                    "ERR tandem: '{}' with BY or GET patterns is not supported inside scripts on several shards yet",
                    s.name
                ));
            }
        };
        let other = s
            .other_db_key(&refs)
            .and_then(|(i, _)| refs.get(i).copied());
        if keys
            .iter()
            .chain(other.iter())
            .any(|k| !self.declared.iter().any(|d| &d[..] == *k))
        {
            self.strayed = true;
        }
        if write && !self.wrote {
            self.wrote = true;
            self.sh.scripts.wrote(self.sh.id);
        }
        let mut shards: Vec<u16> = keys
            .iter()
            .map(|k| spec::key_shard(k, count) as u16)
            .collect();
        shards.sort_unstable();
        shards.dedup();
        match shards.len() {
            0 => self.on(self.sh.id, id, args, resp3),
            1 => self.on(shards[0], id, args, resp3),
            _ => match s.route {
                Route::Keys(g) => self.split(id, g, &args, resp3),
                _ => error_reply(&format!(
                    "ERR tandem: '{}' with keys on different shards is not supported inside scripts yet; put its keys under one {{hash tag}}",
                    s.name
                )),
            },
        }
    }
}

impl ScriptHost<'_> {
    /// Runs command `id` on shard `target` (this one or, waiting, another).
    fn on(&mut self, target: u16, id: spec::CmdId, args: Vec<Bytes>, resp3: bool) -> Bytes {
        let db = self.db;
        if target != self.sh.id && spec::get(id).is(flag::WRITE) && !self.remote.contains(&target) {
            self.remote.push(target);
        }
        if spec::get(id).is(flag::READONLY) {
            self.remember_declared();
        }
        let (reply, logged) = match self
            .sh
            .call_on(target, move |sh| run_here(sh, db, id, &args, resp3))
        {
            Some(r) => r,
            None => return error_reply("ERR tandem: shard unreachable"),
        };
        if let Some(g) = self.sh.log_group.as_mut() {
            g.append(logged);
        }
        reply
    }

    /// Client-side caching, at the script's first read: its client tracks
    /// the keys the script declared (Redis remembers the keys of the
    /// calling EVAL, not those of the command the script runs), each on
    /// the shard that owns it, before the script answers.
    fn remember_declared(&mut self) {
        let Some(t) = self.tracker.take() else {
            return;
        };
        for k in self.declared {
            let home = self.sh.shard_of(k);
            if home == self.sh.id {
                self.sh.remember_read(k, t);
            } else {
                let k = k.clone();
                let _ = self.sh.call_on(home, move |sh| sh.remember_read(&k, t));
            }
        }
    }

    /// A split command (MSET, MGET, DEL, EXISTS, ...) whose keys live on
    /// several shards: one part per shard, combined as the IO stage
    /// combines them (`gather`).
    fn split(&mut self, id: spec::CmdId, g: Gather, args: &[Bytes], resp3: bool) -> Bytes {
        let s = spec::get(id);
        let count = self.sh.count as usize;
        let step = s.step.max(1) as usize;
        // (shard, sub-command, positions of its keys)
        let mut parts: Vec<(u16, Vec<Bytes>, Vec<usize>)> = Vec::new();
        for (k, i) in s.key_indices(args.len()).enumerate() {
            let shard = spec::key_shard(&args[i], count) as u16;
            let p = match parts.iter().position(|p| p.0 == shard) {
                Some(p) => p,
                None => {
                    parts.push((shard, vec![args[0].clone()], Vec::new()));
                    parts.len() - 1
                }
            };
            parts[p]
                .1
                .extend_from_slice(&args[i..(i + step).min(args.len())]);
            parts[p].2.push(k);
        }
        let total = s.key_indices(args.len()).count();
        let mut sum = 0i64;
        let mut first_error: Option<Bytes> = None;
        let mut slots: Vec<Option<Bytes>> = vec![None; total];
        for (shard, sub, positions) in parts {
            let reply = self.on(shard, id, sub, resp3);
            if reply.first() == Some(&b'-') {
                first_error.get_or_insert(reply);
                continue;
            }
            match g {
                Gather::Sum => {
                    sum += reply
                        .get(1..reply.len().saturating_sub(2))
                        .and_then(crate::resp::parse::parse_i64)
                        .unwrap_or(0);
                }
                Gather::Interleave => {
                    for (pos, elem) in positions.into_iter().zip(array_elements(&reply)) {
                        if let Some(slot) = slots.get_mut(pos) {
                            *slot = Some(elem);
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(e) = first_error {
            return e;
        }
        let mut r = Reply::new(resp3);
        match g {
            Gather::Sum => r.int(sum),
            Gather::Interleave => {
                r.array(total);
                for e in slots {
                    match e {
                        Some(b) => r.raw(&b),
                        None => r.null(),
                    }
                }
            }
            _ => r.ok(),
        }
        r.buf.freeze()
    }

    /// Connection commands a script may run (PING, ECHO, SELECT, TIME,
    /// PUBLISH, SPUBLISH);
    /// the others are refused as not implemented inside scripts.
    fn local(&mut self, name: &str, args: &[Bytes], resp3: bool) -> Bytes {
        let mut r = Reply::new(resp3);
        match name {
            "ping" if args.len() == 1 => r.simple("PONG"),
            "ping" if args.len() == 2 => r.bulk(&args[1]),
            "echo" if args.len() == 2 => r.bulk(&args[1]),
            "select" if args.len() == 2 => match crate::resp::parse::parse_i64(&args[1]) {
                None => r.error(crate::resp::errors::NOT_INTEGER),
                Some(n) if n < 0 || n as usize >= self.sh.dbs.len() => {
                    r.error(crate::resp::errors::DB_INDEX_OUT_OF_RANGE)
                }
                Some(n) => {
                    self.db = n as usize;
                    r.ok();
                }
            },
            "time" => {
                let d = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                r.array(2);
                r.bulk_int(d.as_secs() as i64);
                r.bulk_int(d.subsec_micros() as i64);
            }
            // PUBLISH and SPUBLISH from a script (arity checked above):
            // delivered when this shard next flushes, before its replies.
            "publish" | "spublish" => {
                let space = if name == "publish" {
                    crate::pubsub::Space::Global
                } else {
                    crate::pubsub::Space::Shard
                };
                let n =
                    self.sh
                        .pubsub
                        .clone()
                        .publish(&mut self.sh.pub_out, space, &args[1], &args[2]);
                r.int(n)
            }
            "ping" | "echo" | "select" => {
                r.error("ERR Wrong number of args calling Redis command from script")
            }
            other => r.error(&format!(
                "ERR tandem: '{other}' is not supported inside scripts yet"
            )),
        }
        r.buf.freeze()
    }
}

/// The elements of an array reply, each as its own encoded reply.
fn array_elements(reply: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let Some(end) = memchr::memmem::find(reply, b"\r\n") else {
        return out;
    };
    let n = crate::resp::parse::parse_i64(&reply[1..end]).unwrap_or(0);
    let mut at = end + 2;
    for _ in 0..n.max(0) {
        let start = at;
        if !skip_reply(reply, &mut at, 0) {
            break;
        }
        out.push(Bytes::copy_from_slice(&reply[start..at]));
    }
    out
}

/// Advances `at` past one reply; false if malformed.
fn skip_reply(buf: &[u8], at: &mut usize, depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    let Some(&tag) = buf.get(*at) else {
        return false;
    };
    let Some(end) = memchr::memmem::find(&buf[*at..], b"\r\n").map(|e| e + *at) else {
        return false;
    };
    let n = crate::resp::parse::parse_i64(&buf[*at + 1..end]);
    *at = end + 2;
    match tag {
        b'$' | b'=' => {
            if let Some(n) = n.filter(|&n| n >= 0) {
                *at += n as usize + 2;
            }
            *at <= buf.len()
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = n.unwrap_or(0).max(0) * if tag == b'%' { 2 } else { 1 };
            (0..n).all(|_| skip_reply(buf, at, depth + 1))
        }
        _ => true,
    }
}

/// Runs command `id` against this shard for a script and returns its
/// reply, with what it logged for the AOF (the script's shard adds it to
/// the script's effects). Its keys are this shard's; a write marks them
/// for WATCH.
fn run_here(
    sh: &mut Shard,
    db: usize,
    id: spec::CmdId,
    args: &[Bytes],
    resp3: bool,
) -> (Bytes, crate::aof::Chunk) {
    let outer = sh.log_group.replace(crate::aof::Chunk::default());
    let reply = run_logged(sh, db, id, args, resp3);
    let logged = std::mem::replace(&mut sh.log_group, outer).unwrap_or_default();
    (reply, logged)
}

fn run_logged(sh: &mut Shard, db: usize, id: spec::CmdId, args: &[Bytes], resp3: bool) -> Bytes {
    let s = spec::get(id);
    let Some(h) = super::handler(id) else {
        return error_reply(&format!("ERR '{}' cannot run on a shard", s.name));
    };
    let fk = s.first_key.max(0) as usize;
    let hash = match args.get(fk) {
        Some(k) if fk > 0 => spec::key_hash(k),
        _ => 0,
    };
    let mut out = Reply {
        buf: bytes::BytesMut::with_capacity(64),
        resp3,
    };
    let mut ctx = Ctx {
        sh: &mut *sh,
        args,
        db,
        hash,
        first_key: fk,
        out: &mut out,
        reply_to: ReplyTo {
            io: u16::MAX,
            conn: 0,
            seq: 0,
            part: 0,
            resp3,
            tx: 0,
        },
        deferred: false,
        claim: None,
        no_wait: true,
        client_flags: 0,
        caller: None,
    };
    ctx.sh.feed_monitor(s, db, None, args);
    let start = crate::metrics::now_ns();
    super::execute_quiet(h, &mut ctx, s);
    if ctx.deferred {
        // Cannot happen: every key of the command is on this shard.
        return error_reply("ERR tandem: a script's command tried to leave its shard");
    }
    // INFO commandstats counts a script's calls and their time; its
    // errors reach the script, not the client, so errorstats does not.
    let sub = args
        .get(1)
        .filter(|_| s.is(flag::CONTAINER))
        .map(|a| &a[..]);
    let ns = crate::metrics::now_ns().saturating_sub(start);
    sh.stats.called(id, sub, ns, None, true);
    if s.is(flag::WRITE) {
        // The `save` schedule counts a script's writes too.
        sh.changes += 1;
        let refs: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
        if let Touched::Known(keys) = spec::touched_keys(s, &refs) {
            for k in keys {
                sh.touched.push((db as u16, Bytes::copy_from_slice(k)));
            }
        }
        if let Some((i, other)) = s.other_db_key(&refs) {
            if let Some(k) = args.get(i) {
                sh.touched.push((other, k.clone()));
            }
        }
    }
    out.buf.freeze()
}
