//! Command handlers, one file per family, and the state they run against.
//!
//! Runs on shard engine threads only. A handler gets a [`Ctx`]: the shard's
//! data ([`Shard`]), the command's arguments and a [`Reply`] to write into.
//! It either writes exactly one complete reply and returns `Ok(())`, or
//! returns a [`CmdError`] having written nothing (the engine writes the
//! error), or, for commands whose keys live on other shards, sets
//! `ctx.deferred` and sends [`hop`]s whose last step answers through
//! [`Shard::reply_later`]. Handlers never block.
//!
//! Error strings live in [`crate::resp::errors`]; [`CmdError`] maps onto them
//! in one place ([`CmdError::text`]).

pub mod bitmap;
pub mod block;
pub mod cfloat;
pub mod digest;
pub mod dump;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod notify;
pub mod random;
pub mod script;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod zset;

use std::sync::Arc;

use bytes::Bytes;

pub use crate::engine::shard::{Shard, now_ms};

use crate::msg::{Claim, ReplyTo};
use crate::resp::{Reply, errors};
use crate::spec;
use crate::store::{Db, Hash, List, Set, Stream, Value, ZSet};

/// A command failure, turned into one RESP error reply by the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdError {
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    Overflow,
    NoSuchKey,
    /// Any other fixed text, including its code (`ERR ...`).
    Msg(&'static str),
    /// A text built at run time (rare paths only), including its code.
    Owned(String),
}

impl CmdError {
    /// The error reply text without the leading `-`.
    pub fn text(&self) -> &str {
        match self {
            CmdError::WrongType => errors::WRONGTYPE,
            CmdError::Syntax => errors::SYNTAX,
            CmdError::NotInteger => errors::NOT_INTEGER,
            CmdError::NotFloat => errors::NOT_FLOAT,
            CmdError::Overflow => errors::OVERFLOW,
            CmdError::NoSuchKey => errors::NO_SUCH_KEY,
            CmdError::Msg(m) => m,
            CmdError::Owned(s) => s,
        }
    }
}

/// Result of a handler.
pub type CmdResult = Result<(), CmdError>;

/// A command handler.
pub type Handler = fn(&mut Ctx) -> CmdResult;

/// Everything a handler needs for one command.
pub struct Ctx<'a> {
    pub sh: &'a mut Shard,
    /// Arguments, command name first.
    pub args: &'a [Bytes],
    /// Selected database index (already validated).
    pub db: usize,
    /// Hash of the first key argument, computed by the IO stage.
    pub hash: u64,
    /// Index of the first key argument (0 if keyless).
    pub first_key: usize,
    pub out: &'a mut Reply,
    /// Where a deferred reply goes.
    pub reply_to: ReplyTo,
    /// Set by a handler that answers later through a hop.
    pub deferred: bool,
    /// The client's claim, for blocking commands only.
    pub claim: Option<&'a Arc<Claim>>,
    /// Inside EXEC: a blocking command answers at once instead of waiting
    /// (Redis's `CLIENT_DENY_BLOCKING`).
    pub no_wait: bool,
    /// Client-side caching flags of the request ([`crate::msg::client_flags`]):
    /// a script remembers the keys its reads return for its client.
    pub client_flags: u8,
    /// A script's user with ACL restrictions, which its calls are
    /// checked against ([`crate::msg::Request::caller`]).
    pub caller: Option<&'a Arc<crate::acl::Caller>>,
}

impl<'a> Ctx<'a> {
    /// The selected database of this shard.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.sh.dbs[self.db]
    }

    #[inline]
    pub fn now(&self) -> u64 {
        self.sh.now_ms
    }

    #[inline]
    pub fn arg(&self, i: usize) -> &[u8] {
        &self.args[i]
    }

    /// Hash of argument `i` as a key: reuses the IO stage's hash for the
    /// first key argument.
    #[inline]
    pub fn key_hash(&self, i: usize) -> u64 {
        if i == self.first_key && self.hash != 0 {
            self.hash
        } else {
            spec::key_hash(&self.args[i])
        }
    }

    /// Argument `i` as an integer (Redis `string2ll` rules).
    /// Errors: `ERR value is not an integer or out of range`.
    pub fn int_arg(&self, i: usize) -> Result<i64, CmdError> {
        crate::resp::parse::parse_i64(&self.args[i]).ok_or(CmdError::NotInteger)
    }

    /// The collection of type `T` at key argument 1, `None` if the key is
    /// missing. Errors: WRONGTYPE.
    #[inline]
    pub fn coll<T: Coll>(&mut self) -> Result<Option<&mut T>, CmdError> {
        let h = self.key_hash(1);
        let now = self.now();
        typed::<T>(&mut self.sh.dbs[self.db], h, &self.args[1], now)
    }

    /// [`Ctx::coll`] together with the reply, for handlers that write while
    /// reading the collection.
    #[inline]
    pub fn coll_out<T: Coll>(&mut self) -> Result<(Option<&mut T>, &mut Reply), CmdError> {
        let h = self.key_hash(1);
        let now = self.now();
        let found = typed::<T>(&mut self.sh.dbs[self.db], h, &self.args[1], now)?;
        Ok((found, &mut *self.out))
    }

    /// Removes each of arguments 2.. from the collection at key 1 with
    /// `remove` (HDEL, SREM, ZREM), deleting the key when it empties;
    /// returns how many were removed. Errors: WRONGTYPE.
    pub fn remove_each<T: Coll>(
        &mut self,
        remove: impl Fn(&mut T, &[u8]) -> bool,
    ) -> Result<i64, CmdError> {
        let args = self.args;
        let h = self.key_hash(1);
        let now = self.now();
        let d = &mut self.sh.dbs[self.db];
        let mut n = 0;
        if let Some(c) = typed::<T>(d, h, &args[1], now)? {
            for m in &args[2..] {
                n += remove(c, m) as i64;
            }
            drop_if_empty(d, h, &args[1], now);
        }
        Ok(n)
    }

    /// The optional `count` argument at `i` of LPOP/RPOP/SPOP/ZPOPMIN/
    /// ZPOPMAX. Errors: `value is out of range, must be positive` (also for
    /// a non-integer, as Redis).
    pub fn pop_count(&self, i: usize) -> Result<Option<usize>, CmdError> {
        match self.args.get(i) {
            None => Ok(None),
            Some(a) => match crate::resp::parse::parse_i64(a) {
                Some(n) if n >= 0 => Ok(Some(n as usize)),
                _ => Err(CmdError::Msg(errors::MUST_BE_POSITIVE)),
            },
        }
    }

    /// Argument `i` as Redis's `getRangeLongFromObjectOrReply` reads it
    /// (see [`range_i64`]).
    pub fn range_arg(
        &self,
        i: usize,
        min: i64,
        max: i64,
        msg: Option<&'static str>,
    ) -> Result<i64, CmdError> {
        range_i64(&self.args[i], min, max, msg)
    }

    /// Redis's `wrong number of arguments for '<cmd>' command`, for the
    /// arity checks handlers make themselves (LPOP with too many
    /// arguments, ...).
    pub fn arity_error(&self) -> CmdError {
        CmdError::Owned(format!(
            "ERR wrong number of arguments for '{}' command",
            String::from_utf8_lossy(&self.args[0]).to_ascii_lowercase()
        ))
    }

    /// Case-insensitive comparison of argument `i` with an option name.
    #[inline]
    pub fn arg_is(&self, i: usize, word: &str) -> bool {
        self.args[i].eq_ignore_ascii_case(word.as_bytes())
    }
}

/// The subcommand of container command `args[0]` (XGROUP, XINFO,
/// MEMORY), lower case, once its argument count passed its arity in
/// `subs` (name, Redis arity: N exact, -N at least N), as Redis checks a
/// container's subcommands. Errors: `unknown subcommand '<sub>'. Try
/// <CMD> HELP.`, `wrong number of arguments for '<cmd>|<sub>' command`.
pub fn subcommand(args: &[impl AsRef<[u8]>], subs: &[(&str, i64)]) -> Result<String, CmdError> {
    let (name, arg1) = (args[0].as_ref(), args[1].as_ref());
    let sub = String::from_utf8_lossy(arg1).to_ascii_lowercase();
    let cmd = String::from_utf8_lossy(name).to_ascii_lowercase();
    let Some(&(_, arity)) = subs.iter().find(|(n, _)| *n == sub) else {
        return Err(CmdError::Owned(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            String::from_utf8_lossy(&arg1[..arg1.len().min(128)]),
            cmd.to_ascii_uppercase()
        )));
    };
    let argc = args.len() as i64;
    if (arity > 0 && argc != arity) || (arity < 0 && argc < -arity) {
        return Err(CmdError::Owned(format!(
            "ERR wrong number of arguments for '{cmd}|{sub}' command"
        )));
    }
    Ok(sub)
}

/// Redis's `addReplySubcommandSyntaxError`, for a known subcommand of
/// container `args[0]` given the wrong arguments: `ERR unknown subcommand
/// or wrong number of arguments for '<sub>'. Try <CMD> HELP.`
pub fn subcommand_syntax_error(args: &[impl AsRef<[u8]>]) -> String {
    let arg = |i: usize| args.get(i).map_or(&b""[..], |a| a.as_ref());
    let sub = arg(1);
    format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        String::from_utf8_lossy(arg(0)).to_ascii_uppercase()
    )
}

/// Redis's `addReplyHelp`: a header line naming `cmd`, the `lines`, and
/// HELP's own two.
pub fn write_help(r: &mut Reply, cmd: &str, lines: &[&str]) {
    r.array(lines.len() + 3);
    r.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        r.simple(l);
    }
    r.simple("HELP");
    r.simple("    Prints this help.");
}

/// An integer argument in `min..=max` as Redis's
/// `getRangeLongFromObjectOrReply` reads it: with a custom `msg` (such as
/// `ERR count should be greater than 0`), that message answers both a
/// non-integer and an out-of-range value; without one, not-an-integer or
/// `value is out of range, value must between <min> and <max>`.
pub fn range_i64(a: &[u8], min: i64, max: i64, msg: Option<&'static str>) -> Result<i64, CmdError> {
    match crate::resp::parse::parse_i64(a) {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(match msg {
            Some(m) => CmdError::Msg(m),
            None => CmdError::Owned(format!(
                "ERR value is out of range, value must between {min} and {max}"
            )),
        }),
        None => Err(msg.map_or(CmdError::NotInteger, CmdError::Msg)),
    }
}

/// A SCAN-family cursor as Redis's `parseScanCursorOrReply` reads it with
/// `strtoul`: the text up to a NUL byte, no leading blank, an optional
/// sign (`-1` wraps to `u64::MAX`), decimal digits that fit in 64 bits; an
/// empty string is cursor 0. Errors: `invalid cursor`.
pub fn parse_cursor(a: &[u8]) -> Result<u64, CmdError> {
    let bad = CmdError::Msg(errors::INVALID_CURSOR);
    let a = a.split(|&c| c == 0).next().unwrap_or_default();
    if a.first()
        .is_some_and(|&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))
    {
        return Err(bad);
    }
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    if digits.is_empty() {
        // strtoul converted nothing: the end pointer is the start, which
        // Redis accepts only when the string is empty.
        return if a.is_empty() { Ok(0) } else { Err(bad) };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(bad);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as u64))
            .ok_or(bad.clone())?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// A collection type as handlers see it inside a [`Value`].
pub trait Coll: Sized {
    fn of(v: &Value) -> Option<&Self>;
    fn of_mut(v: &mut Value) -> Option<&mut Self>;
    fn wrap(self) -> Value;
    fn empty(&self) -> bool;
}

macro_rules! coll {
    ($t:ty, $v:ident) => {
        impl Coll for $t {
            #[inline]
            fn of(v: &Value) -> Option<&Self> {
                match v {
                    Value::$v(x) => Some(x),
                    _ => None,
                }
            }
            #[inline]
            fn of_mut(v: &mut Value) -> Option<&mut Self> {
                match v {
                    Value::$v(x) => Some(x),
                    _ => None,
                }
            }
            fn wrap(self) -> Value {
                Value::$v(Box::new(self))
            }
            fn empty(&self) -> bool {
                self.is_empty()
            }
        }
    };
}
coll!(List, List);
coll!(Hash, Hash);
coll!(Set, Set);
coll!(ZSet, ZSet);

/// A stream is a collection that stays when it empties (Redis keeps empty
/// streams: they still have their last ID and groups).
impl Coll for Stream {
    #[inline]
    fn of(v: &Value) -> Option<&Self> {
        match v {
            Value::Stream(x) => Some(x),
            _ => None,
        }
    }
    #[inline]
    fn of_mut(v: &mut Value) -> Option<&mut Self> {
        match v {
            Value::Stream(x) => Some(x),
            _ => None,
        }
    }
    fn wrap(self) -> Value {
        Value::Stream(Box::new(self))
    }
    fn empty(&self) -> bool {
        false
    }
}

/// The collection of type `T` at `key`: `Ok(None)` if the key is missing,
/// WRONGTYPE if it holds another type.
#[inline]
pub fn typed<'d, T: Coll>(
    db: &'d mut Db,
    hash: u64,
    key: &[u8],
    now: u64,
) -> Result<Option<&'d mut T>, CmdError> {
    match db.get_mut(hash, key, now) {
        None => Ok(None),
        Some(e) => T::of_mut(&mut e.value).map(Some).ok_or(CmdError::WrongType),
    }
}

/// The collection of type `T` at `key`, created by `make` if missing.
/// Errors: WRONGTYPE.
#[inline]
pub fn typed_or_new<'d, T: Coll>(
    db: &'d mut Db,
    hash: u64,
    key: &[u8],
    now: u64,
    make: impl FnOnce() -> T,
) -> Result<&'d mut T, CmdError> {
    let e = db.get_or_insert_with(hash, key, now, || make().wrap());
    T::of_mut(&mut e.value).ok_or(CmdError::WrongType)
}

/// Deletes `key` if it holds an empty collection (Redis never keeps empty
/// aggregates).
pub fn drop_if_empty(db: &mut Db, hash: u64, key: &[u8], now: u64) {
    // A look that neither touches the key nor counts a hit: the failed
    // command already did what it does to both.
    let empty = match db.peek(hash, key, now).map(|e| &e.value) {
        Some(Value::List(x)) => x.is_empty(),
        Some(Value::Hash(x)) => x.is_empty(),
        Some(Value::Set(x)) => x.is_empty(),
        Some(Value::ZSet(x)) => x.is_empty(),
        _ => false,
    };
    if empty {
        db.remove(hash, key, now);
    }
}

/// The handler table, indexed by [`CmdId`]; `None` for commands the IO
/// stage runs itself ([`spec::Route::Local`]).
pub fn handlers() -> Vec<Option<Handler>> {
    let mut t: Vec<Option<Handler>> = vec![None; spec::TABLE.len()];
    let families = [
        string::HANDLERS,
        bitmap::HANDLERS,
        hll::HANDLERS,
        geo::HANDLERS,
        keys::HANDLERS,
        dump::HANDLERS,
        list::HANDLERS,
        block::HANDLERS,
        hash::HANDLERS,
        set::HANDLERS,
        zset::HANDLERS,
        stream::HANDLERS,
        sort::HANDLERS,
        script::HANDLERS,
    ];
    for (name, h) in families.iter().flat_map(|f| f.iter()) {
        let id = spec::lookup(name.as_bytes())
            .unwrap_or_else(|| panic!("handler for unknown command {name}"));
        t[id as usize] = Some(*h);
    }
    t
}

/// Keyspace event classes that look at a command's keys before it runs.
const NEW_OR_MISS: u32 = crate::pubsub::notify::NEW | crate::pubsub::notify::KEY_MISS;

/// Runs one command `s`. Writes the reply (or its error) into `ctx.out`
/// unless the handler deferred it, and logs a write to the AOF
/// ([`log_write`]) before serving the blocked clients its pushes woke, so
/// the log has the push before the pops it fed.
pub fn execute(h: Handler, ctx: &mut Ctx, s: &spec::CommandSpec) {
    execute_quiet(h, ctx, s);
    if ctx.sh.waits.pending() {
        ctx.sh.serve_ready();
    }
}

/// [`execute`] without serving the blocked clients its pushes woke: a
/// script's commands, whose woken clients are served when the script is
/// done (as Redis serves them after the EVAL).
pub fn execute_quiet(h: Handler, ctx: &mut Ctx, s: &spec::CommandSpec) {
    let read = s.is(spec::flag::READONLY);
    let mark = ctx.out.buf.len();
    if read {
        ctx.sh.dbs[ctx.db].count_reads = true;
    }
    ctx.sh.log_custom = false;
    let seen = if ctx.sh.notify & (NEW_OR_MISS) != 0 {
        notify::before(ctx, s)
    } else {
        Vec::new()
    };
    let result = h(ctx);
    if read {
        ctx.sh.dbs[ctx.db].count_reads = false;
    }
    let failed = result.is_err();
    if let Err(e) = result {
        ctx.out.buf.truncate(mark);
        ctx.out.error(e.text());
        // A handler that created its collection and then failed (say
        // `HINCRBYFLOAT new f inf`) must not leave it behind empty: Redis
        // never keeps empty aggregates.
        if ctx.first_key > 0 && ctx.first_key < ctx.args.len() {
            let h = ctx.key_hash(ctx.first_key);
            let now = ctx.now();
            drop_if_empty(&mut ctx.sh.dbs[ctx.db], h, &ctx.args[ctx.first_key], now);
        }
    }
    // A write that deleted or replaced a stream answers the group
    // readers blocked on it (Redis's `signalDeletedKeyAsReady`): its keys
    // are looked at after it, when someone waits here.
    if s.is(spec::flag::WRITE) && !failed && ctx.sh.waits.any(ctx.db) {
        for i in s.key_indices(ctx.args.len()) {
            ctx.sh.waits.mark(ctx.db, &ctx.args[i]);
        }
    }
    if s.is(spec::flag::WRITE) && ctx.sh.logging {
        let error = failed || matches!(ctx.out.buf.get(mark), Some(b'-' | b'!'));
        log_write(ctx, s, error);
    }
    if ctx.sh.notify != 0 && s.is(spec::flag::WRITE) && !failed {
        if !seen.is_empty() {
            notify::created(ctx, s, &seen);
        }
        notify::after_write(ctx, s, mark);
    }
    ctx.sh.commands += 1;
}

/// Logs write command `s` as the client sent it, unless its handler
/// logged a rewritten form itself ([`Shard::propagate`]) or it answered
/// an error (Redis propagates neither). A command every shard runs
/// (FLUSHALL, SWAPDB, ...) is logged once, by shard 0: its transaction's
/// place holds it once.
fn log_write(ctx: &mut Ctx, s: &spec::CommandSpec, error: bool) {
    if ctx.sh.log_custom || error || s.is(spec::flag::BLOCKING) {
        return;
    }
    if matches!(s.route, spec::Route::All(_)) && ctx.sh.id != 0 {
        return;
    }
    ctx.sh.propagate_args(ctx.db, ctx.args);
}

/// The handler of command `id`, if it runs on a shard.
pub fn handler(id: spec::CmdId) -> Option<Handler> {
    static TABLE: std::sync::OnceLock<Vec<Option<Handler>>> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(handlers)
        .get(id as usize)
        .copied()
        .flatten()
}

#[cfg(test)]
pub mod testing {
    //! A harness for handler unit tests: runs commands against a one-shard
    //! [`Shard`] without threads or sockets.
    use super::*;
    use crate::config::Tunables;

    pub struct Harness {
        pub sh: Shard,
        pub table: Vec<Option<Handler>>,
        pub resp3: bool,
    }

    impl Default for Harness {
        fn default() -> Self {
            Harness {
                sh: Shard::new(
                    0,
                    1,
                    16,
                    crate::engine::shard::Common {
                        tun: Arc::new(Tunables::new(&crate::config::Config::default())),
                        scripts: Arc::new(crate::script::Registry::new(1)),
                        saver: Arc::new(crate::persist::Saver::new(
                            1,
                            Arc::new(crate::script::Registry::new(1)),
                        )),
                        aof: Arc::new(crate::aof::Aof::new(1, crate::aof::FSYNC_EVERYSEC)),
                        pubsub: Arc::new(crate::pubsub::Hub::new(1)),
                        census: Arc::new(crate::engine::evict::Census::new(1)),
                    },
                    crate::metrics::Registry::new(&crate::config::Config::default())
                        .register("test".into()),
                ),
                table: handlers(),
                resp3: false,
            }
        }
    }

    impl Harness {
        /// Runs `args` in database 0 and returns the raw reply bytes.
        pub fn run(&mut self, args: &[&str]) -> String {
            self.run_db(0, args)
        }

        pub fn run_db(&mut self, db: usize, args: &[&str]) -> String {
            let args: Vec<Bytes> = args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect();
            let id = spec::lookup(&args[0]).expect("known command");
            let s = spec::get(id);
            assert!(s.arity_ok(args.len()), "arity");
            let hash = if s.first_key > 0 && args.len() > s.first_key as usize {
                spec::key_hash(&args[s.first_key as usize])
            } else {
                0
            };
            let mut out = Reply::new(self.resp3);
            let h = self.table[id as usize].expect("engine-side command");
            let mut ctx = Ctx {
                sh: &mut self.sh,
                args: &args,
                db,
                hash,
                first_key: s.first_key.max(0) as usize,
                out: &mut out,
                reply_to: ReplyTo {
                    io: 0,
                    conn: 0,
                    seq: 0,
                    part: 0,
                    resp3: self.resp3,
                    tx: 0,
                },
                deferred: false,
                claim: None,
                no_wait: false,
                client_flags: 0,
                caller: None,
            };
            execute(h, &mut ctx, s);
            assert!(!ctx.deferred, "single-shard harness cannot defer");
            String::from_utf8_lossy(&out.buf).into_owned()
        }
    }
}
