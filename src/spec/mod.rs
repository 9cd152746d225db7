//! The command table: every command's name, arity, flags, key positions,
//! routing class and documentation, shared by both stages.
//!
//! A leaf module with no state: IO threads use it to check arity, find keys
//! and pick shards; engines index their handler table by [`CmdId`]; the
//! `COMMAND` replies (COUNT, INFO, DOCS, LIST) are generated from it. Arity
//! and key positions follow Redis 7's `src/commands/*.json` (arity N means
//! exactly N arguments including the name, -N means at least N).

use std::sync::OnceLock;

pub mod keyspecs;

/// Index of a command in [`TABLE`].
pub type CmdId = u16;

/// Command flags, as COMMAND INFO reports them.
pub mod flag {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const FAST: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const LOADING: u32 = 1 << 6;
    pub const STALE: u32 = 1 << 7;
    pub const NO_AUTH: u32 = 1 << 8;
    pub const MOVABLEKEYS: u32 = 1 << 9;
    /// May block the client until a key is pushed to (BLPOP, BZPOPMIN, ...):
    /// the IO stage runs nothing else from that client until it is answered.
    pub const BLOCKING: u32 = 1 << 10;
    /// Has subcommands (CLIENT, CONFIG, COMMAND, OBJECT): CLIENT LIST shows
    /// `name|sub`. Not a COMMAND INFO flag.
    pub const CONTAINER: u32 = 1 << 11;
    /// May write through what it runs (EVAL, EVALSHA): locks its keys
    /// exclusively, as a write does.
    pub const MAY_REPLICATE: u32 = 1 << 12;
    /// A Pub/Sub command (COMMAND INFO `pubsub`).
    pub const PUBSUB: u32 = 1 << 13;
    /// Every flag with its COMMAND INFO name.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (FAST, "fast"),
        (NOSCRIPT, "noscript"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (NO_AUTH, "no_auth"),
        (MOVABLEKEYS, "movablekeys"),
        (BLOCKING, "blocking"),
        (MAY_REPLICATE, "may_replicate"),
    ];
}

/// How replies from several shards combine into one reply, for commands the
/// IO stage splits across shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gather {
    /// Integers summed (DEL, EXISTS, DBSIZE).
    Sum,
    /// `+OK` once every part said OK; else the first error (MSET, FLUSHDB).
    Ok,
    /// Arrays whose elements go back to the positions of their keys (MGET).
    Interleave,
    /// Arrays concatenated (KEYS).
    Concat,
    /// One non-null bulk string chosen at random (RANDOMKEY).
    Random,
    /// Per-shard keyspace statistics merged into an INFO reply.
    Info,
    /// Every shard's serialized keyspace, written as one RDB file (SAVE).
    Save,
    /// Every shard took the background save's instant (BGSAVE):
    /// `+Background saving started`.
    Bgsave,
    /// DEBUG RELOAD: with a save, every shard's serialized keyspace written
    /// as SAVE writes it; with NOSAVE, `+OK` once every shard said OK.
    Reload,
}

/// Where the IO stage sends a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Runs on the IO thread: touches only connection or server state.
    Local,
    /// One key decides the shard.
    Key,
    /// Keys split by shard into sub-commands; replies combined by `Gather`.
    Keys(Gather),
    /// Keys on several shards that depend on each other (RENAME, COPY,
    /// MSETNX, LCS): sent whole to the first key's shard, which coordinates.
    Coord,
    /// Every shard runs it; replies combined by `Gather`.
    All(Gather),
    /// The SCAN cursor names the shard.
    Scan,
    /// The Pub/Sub commands: subscriptions live on the IO thread that owns
    /// the connection, publishes go through the shared registry
    /// (`net::pubsub`, [`crate::pubsub`]).
    PubSub,
    /// MULTI EXEC DISCARD WATCH UNWATCH: the IO thread queues a MULTI
    /// block and runs it at EXEC as one transaction (`net::tx`); WATCH
    /// and UNWATCH reach the shards of their keys.
    Tx,
}

/// One command's metadata.
#[derive(Debug)]
pub struct CommandSpec {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: N exact, -N at least N (name included).
    pub arity: i16,
    /// Bit set of [`flag`] values.
    pub flags: u32,
    /// Index of the first key argument, 0 if none.
    pub first_key: i16,
    /// Index of the last key, negative counts from the end (-1 = last arg).
    pub last_key: i16,
    /// Distance between keys.
    pub step: i16,
    /// Index of the `numkeys` argument of movable-key commands (LMPOP,
    /// ZUNIONSTORE, ...), 0 if the key positions are fixed.
    pub numkeys: i16,
    /// Redis command group (string, generic, connection, server, ...).
    pub group: &'static str,
    /// Redis version that introduced it.
    pub since: &'static str,
    /// One-line summary, as in COMMAND DOCS.
    pub summary: &'static str,
    pub route: Route,
}

impl CommandSpec {
    /// Whether `argc` arguments (name included) satisfy the arity.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }

    /// Indices of the key arguments for a command with `argc` arguments.
    /// Empty for movable-key commands, whose positions depend on their
    /// `numkeys` argument: see [`CommandSpec::keys_in`].
    pub fn key_indices(&self, argc: usize) -> impl Iterator<Item = usize> + use<> {
        let first = if self.numkeys > 0 {
            0
        } else {
            self.first_key.max(0) as usize
        };
        let last = if self.first_key <= 0 {
            0
        } else if self.last_key < 0 {
            (argc as i64 + self.last_key as i64).max(0) as usize
        } else {
            (self.last_key as usize).min(argc.saturating_sub(1))
        };
        let step = self.step.max(1) as usize;
        (first..=last)
            .step_by(step)
            .filter(move |&i| first > 0 && i < argc)
    }

    /// Key positions given the arguments (name first); handles `numkeys`.
    /// Returns `None` when `numkeys` is not a positive integer or exceeds
    /// the arguments.
    pub fn keys_in(&self, args: &[&[u8]]) -> Option<Vec<usize>> {
        if self.numkeys <= 0 {
            return Some(self.key_indices(args.len()).collect());
        }
        let nk = self.numkeys as usize;
        let n = crate::resp::parse::parse_i64(args.get(nk)?)?;
        if n <= 0 || nk + n as usize >= args.len() {
            return None;
        }
        let mut v = Vec::new();
        if self.first_key > 0 && (self.first_key as usize) < nk {
            v.push(self.first_key as usize);
        }
        v.extend(nk + 1..=nk + n as usize);
        Some(v)
    }

    /// The key a command reaches in another database, and that database:
    /// MOVE's key lands in database `args[2]`, COPY's destination
    /// (`args[2]`) lives in the database of its `DB n` option. The
    /// transaction layer locks and WATCH-touches that key there too
    /// (redis.io/commands/move, redis.io/commands/copy). None when the
    /// command names no other database or the number is not one.
    pub fn other_db_key(&self, args: &[&[u8]]) -> Option<(usize, u16)> {
        let db = |a: &[u8]| crate::resp::parse::parse_i64(a).and_then(|n| u16::try_from(n).ok());
        match self.name {
            "move" => Some((1, db(args.get(2)?)?)),
            "copy" => {
                let i = args
                    .iter()
                    .skip(3)
                    .position(|a| a.eq_ignore_ascii_case(b"db"))?;
                Some((2, db(args.get(3 + i + 1)?)?))
            }
            _ => None,
        }
    }

    pub fn is(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// Whether a blocking command runs as a coordinated transaction when
    /// its keys live on several shards: BLMOVE and BRPOPLPUSH, whose move
    /// must be atomic, so both keys are locked while it is served (at once,
    /// or when a push wakes it: `engine::blocking`). The blocking pops over
    /// several keys go to their first key's shard and visit the others in
    /// turn, taking no locks.
    pub fn blocks_as_transaction(&self) -> bool {
        matches!(self.name, "blmove" | "brpoplpush" | "xread" | "xreadgroup")
    }

    /// Whether this call may block its client: every blocking command,
    /// except XREAD and XREADGROUP without a BLOCK option, which answer at
    /// once like reads (and may be pipelined).
    pub fn blocks(&self, args: &[&[u8]]) -> bool {
        if !self.is(flag::BLOCKING) {
            return false;
        }
        match self.name {
            "xread" | "xreadgroup" => stream_read_keys(args).1,
            _ => true,
        }
    }
}

use Gather as G;
use Route as R;
use flag::*;

macro_rules! cmd {
    ($name:literal, $arity:expr, $flags:expr, $fk:expr, $lk:expr, $st:expr, $group:literal, $since:literal, $route:expr, $sum:literal) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $fk,
            last_key: $lk,
            step: $st,
            numkeys: 0,
            group: $group,
            since: $since,
            route: $route,
            summary: $sum,
        }
    };
}

macro_rules! cmdn {
    ($name:literal, $arity:expr, $flags:expr, $fk:expr, $lk:expr, $st:expr, $nk:expr, $group:literal, $since:literal, $route:expr, $sum:literal) => {
        CommandSpec {
            name: $name,
            arity: $arity,
            flags: $flags,
            first_key: $fk,
            last_key: $lk,
            step: $st,
            numkeys: $nk,
            group: $group,
            since: $since,
            route: $route,
            summary: $sum,
        }
    };
}

/// The command table. Order is irrelevant; [`lookup`] finds by name.
#[rustfmt::skip]
pub static TABLE: &[CommandSpec] = &[
    // strings
    cmd!(
        "get",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Returns the string value of a key."
    ),
    cmd!(
        "set",
        -3,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."
    ),
    cmd!(
        "setnx",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Set the string value of a key only when the key doesn't exist."
    ),
    cmd!(
        "setex",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "2.0.0",
        R::Key,
        "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."
    ),
    cmd!(
        "psetex",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "2.6.0",
        R::Key,
        "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist."
    ),
    cmd!(
        "getset",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Returns the previous string value of a key after setting it to a new value."
    ),
    cmd!(
        "getdel",
        2,
        WRITE | FAST,
        1,
        1,
        1,
        "string",
        "6.2.0",
        R::Key,
        "Returns the string value of a key after deleting the key."
    ),
    cmd!(
        "getex",
        -2,
        WRITE | FAST,
        1,
        1,
        1,
        "string",
        "6.2.0",
        R::Key,
        "Returns the string value of a key after setting its expiration time."
    ),
    cmd!(
        "mget",
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "string",
        "1.0.0",
        R::Keys(G::Interleave),
        "Atomically returns the string values of one or more keys."
    ),
    cmd!(
        "mset",
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string",
        "1.0.1",
        R::Keys(G::Ok),
        "Atomically creates or modifies the string values of one or more keys."
    ),
    cmd!(
        "msetnx",
        -3,
        WRITE | DENYOOM,
        1,
        -1,
        2,
        "string",
        "1.0.1",
        R::Coord,
        "Atomically modifies the string values of one or more keys only when all keys don't exist."
    ),
    cmd!(
        "incr",
        2,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."
    ),
    cmd!(
        "decr",
        2,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."
    ),
    cmd!(
        "incrby",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."
    ),
    cmd!(
        "decrby",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."
    ),
    cmd!(
        "incrbyfloat",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "2.6.0",
        R::Key,
        "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist."
    ),
    cmd!(
        "append",
        3,
        WRITE | DENYOOM | FAST,
        1,
        1,
        1,
        "string",
        "2.0.0",
        R::Key,
        "Appends a string to the value of a key. Creates the key if it doesn't exist."
    ),
    cmd!(
        "strlen",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "string",
        "2.2.0",
        R::Key,
        "Returns the length of a string value."
    ),
    cmd!(
        "getrange",
        4,
        READONLY,
        1,
        1,
        1,
        "string",
        "2.4.0",
        R::Key,
        "Returns a substring of the string stored at a key."
    ),
    cmd!(
        "substr",
        4,
        READONLY,
        1,
        1,
        1,
        "string",
        "1.0.0",
        R::Key,
        "Returns a substring from a string value."
    ),
    cmd!(
        "setrange",
        4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "string",
        "2.2.0",
        R::Key,
        "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist."
    ),
    cmd!(
        "lcs",
        -3,
        READONLY,
        1,
        2,
        1,
        "string",
        "7.0.0",
        R::Coord,
        "Finds the longest common substring."
    ),
    // bitmaps (src/cmd/bitmap.rs)
    cmd!("setbit", 4, WRITE | DENYOOM, 1, 1, 1, "bitmap", "2.2.0", R::Key, "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist."),
    cmd!("getbit", 3, READONLY | FAST, 1, 1, 1, "bitmap", "2.2.0", R::Key, "Returns a bit value by offset."),
    cmd!("bitcount", -2, READONLY, 1, 1, 1, "bitmap", "2.6.0", R::Key, "Counts the number of set bits (population counting) in a string."),
    cmd!("bitpos", -3, READONLY, 1, 1, 1, "bitmap", "2.8.7", R::Key, "Finds the first set (1) or clear (0) bit in a string."),
    cmd!("bitop", -4, WRITE | DENYOOM, 2, -1, 1, "bitmap", "2.6.0", R::Coord, "Performs bitwise operations on multiple strings, and stores the result."),
    cmd!("bitfield", -2, WRITE | DENYOOM, 1, 1, 1, "bitmap", "3.2.0", R::Key, "Performs arbitrary bitfield integer operations on strings."),
    // streams (src/cmd/stream.rs)
    cmd!("xadd", -5, WRITE | DENYOOM | FAST, 1, 1, 1, "stream", "5.0.0", R::Key, "Appends a new message to a stream. Creates the key if it doesn't exist."),
    cmd!("xrange", -4, READONLY, 1, 1, 1, "stream", "5.0.0", R::Key, "Returns the messages from a stream within a range of IDs."),
    cmd!("xrevrange", -4, READONLY, 1, 1, 1, "stream", "5.0.0", R::Key, "Returns the messages from a stream within a range of IDs in reverse order."),
    cmd!("xlen", 2, READONLY | FAST, 1, 1, 1, "stream", "5.0.0", R::Key, "Return the number of messages in a stream."),
    cmd!("xdel", -3, WRITE | FAST, 1, 1, 1, "stream", "5.0.0", R::Key, "Returns the number of messages after removing them from a stream."),
    cmd!("xtrim", -4, WRITE, 1, 1, 1, "stream", "5.0.0", R::Key, "Deletes messages from the beginning of a stream."),
    cmd!("xread", -4, READONLY | BLOCKING | MOVABLEKEYS, 0, 0, 0, "stream", "5.0.0", R::Coord, "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise."),
    cmd!("xreadgroup", -7, WRITE | BLOCKING | MOVABLEKEYS, 0, 0, 0, "stream", "5.0.0", R::Coord, "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise."),
    cmd!("xgroup", -2, WRITE | CONTAINER, 2, 2, 1, "stream", "5.0.0", R::Key, "A container for consumer groups commands."),
    cmd!("xack", -4, WRITE | FAST, 1, 1, 1, "stream", "5.0.0", R::Key, "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream."),
    cmd!("xpending", -3, READONLY, 1, 1, 1, "stream", "5.0.0", R::Key, "Returns the information and entries from a stream consumer group's pending entries list."),
    cmd!("xclaim", -6, WRITE | FAST, 1, 1, 1, "stream", "5.0.0", R::Key, "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member."),
    cmd!("xautoclaim", -6, WRITE | FAST, 1, 1, 1, "stream", "6.2.0", R::Key, "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member."),
    cmd!("xinfo", -2, READONLY | CONTAINER, 2, 2, 1, "stream", "5.0.0", R::Key, "A container for stream introspection commands."),
    cmd!("xsetid", -3, WRITE | DENYOOM | FAST, 1, 1, 1, "stream", "5.0.0", R::Key, "An internal command for replicating stream values."),
    // geospatial indexes (src/cmd/geo.rs)
    cmd!("geoadd", -5, WRITE | DENYOOM, 1, 1, 1, "geo", "3.2.0", R::Key, "Adds one or more members to a geospatial index. The key is created if it doesn't exist."),
    cmd!("geodist", -4, READONLY, 1, 1, 1, "geo", "3.2.0", R::Key, "Returns the distance between two members of a geospatial index."),
    cmd!("geohash", -2, READONLY, 1, 1, 1, "geo", "3.2.0", R::Key, "Returns members from a geospatial index as geohash strings."),
    cmd!("geopos", -2, READONLY, 1, 1, 1, "geo", "3.2.0", R::Key, "Returns the longitude and latitude of members from a geospatial index."),
    cmd!("georadius", -6, WRITE | DENYOOM | MOVABLEKEYS, 1, 1, 1, "geo", "3.2.0", R::Coord, "Queries a geospatial index for members within a distance from a coordinate, optionally stores the result."),
    cmd!("georadius_ro", -6, READONLY, 1, 1, 1, "geo", "3.2.10", R::Key, "Returns members from a geospatial index that are within a distance from a coordinate."),
    cmd!("georadiusbymember", -5, WRITE | DENYOOM | MOVABLEKEYS, 1, 1, 1, "geo", "3.2.0", R::Coord, "Queries a geospatial index for members within a distance from a member, optionally stores the result."),
    cmd!("georadiusbymember_ro", -5, READONLY, 1, 1, 1, "geo", "3.2.10", R::Key, "Returns members from a geospatial index that are within a distance from a member."),
    cmd!("geosearch", -7, READONLY, 1, 1, 1, "geo", "6.2.0", R::Key, "Queries a geospatial index for members inside an area of a box or a circle."),
    cmd!("geosearchstore", -8, WRITE | DENYOOM, 1, 2, 1, "geo", "6.2.0", R::Coord, "Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result."),
    // HyperLogLog (src/cmd/hll.rs)
    cmd!("pfadd", -2, WRITE | DENYOOM | FAST, 1, 1, 1, "hyperloglog", "2.8.9", R::Key, "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist."),
    cmd!("pfcount", -2, READONLY, 1, -1, 1, "hyperloglog", "2.8.9", R::Coord, "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s)."),
    cmd!("pfmerge", -2, WRITE | DENYOOM, 1, -1, 1, "hyperloglog", "2.8.9", R::Coord, "Merges one or more HyperLogLog values into a single key."),
    cmd!("pfdebug", 3, WRITE | DENYOOM | ADMIN, 2, 2, 1, "hyperloglog", "2.8.9", R::Key, "Internal commands for debugging HyperLogLog values."),
    cmd!("pfselftest", 1, ADMIN, 0, 0, 0, "hyperloglog", "2.8.9", R::Local, "An internal command for testing HyperLogLog values."),
    cmd!("bitfield_ro", -2, READONLY | FAST, 1, 1, 1, "bitmap", "6.0.0", R::Key, "Performs arbitrary read-only bitfield integer operations on strings."),
    // keyspace
    cmd!(
        "del",
        -2,
        WRITE,
        1,
        -1,
        1,
        "generic",
        "1.0.0",
        R::Keys(G::Sum),
        "Deletes one or more keys."
    ),
    cmd!(
        "unlink",
        -2,
        WRITE | FAST,
        1,
        -1,
        1,
        "generic",
        "4.0.0",
        R::Keys(G::Sum),
        "Asynchronously deletes one or more keys."
    ),
    cmd!(
        "exists",
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic",
        "1.0.0",
        R::Keys(G::Sum),
        "Determines whether one or more keys exist."
    ),
    cmd!(
        "touch",
        -2,
        READONLY | FAST,
        1,
        -1,
        1,
        "generic",
        "3.2.1",
        R::Keys(G::Sum),
        "Returns the number of existing keys out of those specified after updating the time they were last accessed."
    ),
    cmd!(
        "type",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "1.0.0",
        R::Key,
        "Determines the type of value stored at a key."
    ),
    cmd!(
        "expire",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "1.0.0",
        R::Key,
        "Sets the expiration time of a key in seconds."
    ),
    cmd!(
        "pexpire",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "2.6.0",
        R::Key,
        "Sets the expiration time of a key in milliseconds."
    ),
    cmd!(
        "expireat",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "1.2.0",
        R::Key,
        "Sets the expiration time of a key to a Unix timestamp."
    ),
    cmd!(
        "pexpireat",
        -3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "2.6.0",
        R::Key,
        "Sets the expiration time of a key to a Unix milliseconds timestamp."
    ),
    cmd!(
        "ttl",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "1.0.0",
        R::Key,
        "Returns the expiration time in seconds of a key."
    ),
    cmd!(
        "pttl",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "2.6.0",
        R::Key,
        "Returns the expiration time in milliseconds of a key."
    ),
    cmd!(
        "expiretime",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "7.0.0",
        R::Key,
        "Returns the expiration time of a key as a Unix timestamp."
    ),
    cmd!(
        "pexpiretime",
        2,
        READONLY | FAST,
        1,
        1,
        1,
        "generic",
        "7.0.0",
        R::Key,
        "Returns the expiration time of a key as a Unix milliseconds timestamp."
    ),
    cmd!(
        "persist",
        2,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "2.2.0",
        R::Key,
        "Removes the expiration time of a key."
    ),
    cmd!(
        "object",
        -2,
        READONLY | CONTAINER,
        2,
        2,
        1,
        "generic",
        "2.2.3",
        R::Key,
        "A container for object introspection commands."
    ),
    cmd!(
        "memory",
        -2,
        READONLY | CONTAINER,
        2,
        2,
        1,
        "server",
        "4.0.0",
        R::Key,
        "A container for memory diagnostics commands."
    ),
    cmd!(
        "keys",
        2,
        READONLY,
        0,
        0,
        0,
        "generic",
        "1.0.0",
        R::All(G::Concat),
        "Returns all key names that match a pattern."
    ),
    cmd!(
        "scan",
        -2,
        READONLY,
        0,
        0,
        0,
        "generic",
        "2.8.0",
        R::Scan,
        "Iterates over the key names in the database."
    ),
    cmd!(
        "randomkey",
        1,
        READONLY,
        0,
        0,
        0,
        "generic",
        "1.0.0",
        R::All(G::Random),
        "Returns a random key name from the database."
    ),
    cmd!(
        "rename",
        3,
        WRITE,
        1,
        2,
        1,
        "generic",
        "1.0.0",
        R::Coord,
        "Renames a key and overwrites the destination."
    ),
    cmd!(
        "renamenx",
        3,
        WRITE | FAST,
        1,
        2,
        1,
        "generic",
        "1.0.0",
        R::Coord,
        "Renames a key only when the target key name doesn't exist."
    ),
    cmd!(
        "copy",
        -3,
        WRITE | DENYOOM,
        1,
        2,
        1,
        "generic",
        "6.2.0",
        R::Coord,
        "Copies the value of a key to a new key."
    ),
    cmd!(
        "move",
        3,
        WRITE | FAST,
        1,
        1,
        1,
        "generic",
        "1.0.0",
        R::Key,
        "Moves a key to another database."
    ),
    cmd!(
        "dump",
        2,
        READONLY,
        1,
        1,
        1,
        "generic",
        "2.6.0",
        R::Key,
        "Returns a serialized representation of the value stored at a key."
    ),
    cmd!(
        "restore",
        -4,
        WRITE | DENYOOM,
        1,
        1,
        1,
        "generic",
        "2.6.0",
        R::Key,
        "Creates a key from the serialized representation of a value."
    ),
    cmdn!("sort", -2, WRITE | DENYOOM | MOVABLEKEYS, 1, 1, 1, 0, "generic", "1.0.0", R::Coord, "Sorts the elements in a list, a set, or a sorted set, optionally storing the result."),
    cmdn!("sort_ro", -2, READONLY | MOVABLEKEYS, 1, 1, 1, 0, "generic", "7.0.0", R::Coord, "Returns the sorted elements of a list, a set, or a sorted set."),
    cmd!(
        "dbsize",
        1,
        READONLY | FAST,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::All(G::Sum),
        "Returns the number of keys in the database."
    ),
    cmd!(
        "flushdb",
        -1,
        WRITE,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::All(G::Ok),
        "Remove all keys from the current database."
    ),
    cmd!(
        "save",
        1,
        ADMIN | NOSCRIPT,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::All(G::Save),
        "Synchronously saves the database(s) to disk."
    ),
    cmd!(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::All(G::Reload),
        "A container for debugging commands."
    ),
    cmd!(
        "bgsave",
        -1,
        ADMIN | NOSCRIPT,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::All(G::Bgsave),
        "Asynchronously saves the database(s) to disk."
    ),
    cmd!(
        "bgrewriteaof",
        1,
        NOSCRIPT | ADMIN,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::Local,
        "Asynchronously rewrites the append-only file to disk."
    ),
    cmd!(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::Local,
        "Listens for all requests received by the server in real-time."
    ),
    cmd!(
        "slowlog",
        -2,
        ADMIN | LOADING | STALE | CONTAINER,
        0,
        0,
        0,
        "server",
        "2.2.12",
        R::Local,
        "A container for slow log commands."
    ),
    cmd!(
        "latency",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | CONTAINER,
        0,
        0,
        0,
        "server",
        "2.8.13",
        R::Local,
        "A container for latency diagnostics commands."
    ),
    cmd!(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::Local,
        "Returns the Unix timestamp of the last successful save to disk."
    ),
    cmd!(
        "flushall",
        -1,
        WRITE,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::All(G::Ok),
        "Removes all keys from all databases."
    ),
    cmd!(
        "swapdb",
        3,
        WRITE | FAST,
        0,
        0,
        0,
        "server",
        "4.0.0",
        R::All(G::Ok),
        "Swaps two Redis databases."
    ),
    cmd!(
        "select",
        2,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "connection",
        "1.0.0",
        R::Local,
        "Changes the selected database."
    ),
    // connection and server
    cmd!(
        "ping",
        -1,
        FAST,
        0,
        0,
        0,
        "connection",
        "1.0.0",
        R::Local,
        "Returns the server's liveliness response."
    ),
    cmd!(
        "echo",
        2,
        FAST,
        0,
        0,
        0,
        "connection",
        "1.0.0",
        R::Local,
        "Returns the given string."
    ),
    cmd!(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        0,
        0,
        0,
        "connection",
        "6.0.0",
        R::Local,
        "Handshakes with the Redis server."
    ),
    cmd!(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        0,
        0,
        0,
        "connection",
        "1.0.0",
        R::Local,
        "Authenticates the connection."
    ),
    cmd!(
        "quit",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        0,
        0,
        0,
        "connection",
        "1.0.0",
        R::Local,
        "Closes the connection."
    ),
    cmd!(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        0,
        0,
        0,
        "connection",
        "6.2.0",
        R::Local,
        "Resets the connection."
    ),
    cmd!(
        "client",
        -2,
        NOSCRIPT | LOADING | STALE | CONTAINER,
        0,
        0,
        0,
        "connection",
        "2.4.0",
        R::Local,
        "A container for client connection commands."
    ),
    cmd!(
        "command",
        -1,
        LOADING | STALE | CONTAINER,
        0,
        0,
        0,
        "server",
        "2.8.13",
        R::Local,
        "Returns detailed information about all commands."
    ),
    cmd!(
        "info",
        -1,
        LOADING | STALE,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::All(G::Info),
        "Returns information and statistics about the server."
    ),
    cmd!(
        "acl",
        -2,
        NOSCRIPT | LOADING | STALE | CONTAINER,
        0,
        0,
        0,
        "server",
        "6.0.0",
        R::Local,
        "A container for Access List Control commands."
    ),
    cmd!(
        "config",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | CONTAINER,
        0,
        0,
        0,
        "server",
        "2.0.0",
        R::Local,
        "A container for server configuration commands."
    ),
    cmd!(
        "time",
        1,
        LOADING | STALE | FAST,
        0,
        0,
        0,
        "server",
        "2.6.0",
        R::Local,
        "Returns the server time."
    ),
    cmd!(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        0,
        0,
        "server",
        "1.0.0",
        R::Local,
        "Synchronously saves the database(s) to disk and shuts down the Redis server."
    ),
    // pub/sub (Redis 7.0 `src/commands/*subscribe*.json`, `publish.json`, ...)
    cmd!("subscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, 0, 0, 0, "pubsub", "2.0.0", R::PubSub, "Listens for messages published to channels."),
    cmd!("unsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, 0, 0, 0, "pubsub", "2.0.0", R::PubSub, "Stops listening to messages posted to channels."),
    cmd!("psubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, 0, 0, 0, "pubsub", "2.0.0", R::PubSub, "Listens for messages published to channels that match one or more patterns."),
    cmd!("punsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, 0, 0, 0, "pubsub", "2.0.0", R::PubSub, "Stops listening to messages published to channels that match one or more patterns."),
    cmd!("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, 0, 0, 0, "pubsub", "2.0.0", R::PubSub, "Posts a message to a channel."),
    cmd!("pubsub", -2, CONTAINER, 0, 0, 0, "pubsub", "2.8.0", R::PubSub, "A container for Pub/Sub commands."),
    // Shard channels are key-like in Redis's table (`not_key` key specs).
    cmd!("ssubscribe", -2, PUBSUB | NOSCRIPT | LOADING | STALE, 1, -1, 1, "pubsub", "7.0.0", R::PubSub, "Listens for messages published to shard channels."),
    cmd!("sunsubscribe", -1, PUBSUB | NOSCRIPT | LOADING | STALE, 1, -1, 1, "pubsub", "7.0.0", R::PubSub, "Stops listening to messages posted to shard channels."),
    cmd!("spublish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, 1, 1, 1, "pubsub", "7.0.0", R::PubSub, "Post a message to a shard channel"),
    // collections (lists, hashes, sets, sorted sets)
    cmdn!("lpush", -3, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Prepends one or more elements to a list. Creates the key if it doesn't exist."),
    cmdn!("rpush", -3, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Appends one or more elements to a list. Creates the key if it doesn't exist."),
    cmdn!("lpushx", -3, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "list", "2.2.0", R::Key, "Prepends one or more elements to a list only when the list exists."),
    cmdn!("rpushx", -3, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "list", "2.2.0", R::Key, "Appends an element to a list only when the list exists."),
    cmdn!("lpop", -2, WRITE | FAST, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."),
    cmdn!("rpop", -2, WRITE | FAST, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Returns and removes the last elements of a list. Deletes the list if the last element was popped."),
    cmdn!("llen", 2, READONLY | FAST, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Returns the length of a list."),
    cmdn!("lrange", 4, READONLY, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Returns a range of elements from a list."),
    cmdn!("lindex", 3, READONLY, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Returns an element from a list by its index."),
    cmdn!("lset", 4, WRITE | DENYOOM, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Sets the value of an element in a list by its index."),
    cmdn!("linsert", 5, WRITE | DENYOOM, 1, 1, 1, 0, "list", "2.2.0", R::Key, "Inserts an element before or after another element in a list."),
    cmdn!("lrem", 4, WRITE, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Removes elements from a list. Deletes the list if the last element was removed."),
    cmdn!("ltrim", 4, WRITE, 1, 1, 1, 0, "list", "1.0.0", R::Key, "Removes elements from both ends a list. Deletes the list if all elements were trimmed."),
    cmdn!("lpos", -3, READONLY, 1, 1, 1, 0, "list", "6.0.6", R::Key, "Returns the index of matching elements in a list."),
    cmdn!("lmove", 5, WRITE | DENYOOM, 1, 2, 1, 0, "list", "6.2.0", R::Coord, "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved."),
    cmdn!("rpoplpush", 3, WRITE | DENYOOM, 1, 2, 1, 0, "list", "1.2.0", R::Coord, "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped."),
    cmdn!("lmpop", -4, WRITE | MOVABLEKEYS, 2, -1, 1, 1, "list", "7.0.0", R::Coord, "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped."),
    cmdn!("blpop", -3, WRITE | BLOCKING, 1, -2, 1, 0, "list", "2.0.0", R::Coord, "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    cmdn!("brpop", -3, WRITE | BLOCKING, 1, -2, 1, 0, "list", "2.0.0", R::Coord, "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    cmdn!("brpoplpush", 4, WRITE | DENYOOM | BLOCKING, 1, 2, 1, 0, "list", "2.2.0", R::Coord, "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped."),
    cmdn!("blmove", 6, WRITE | DENYOOM | BLOCKING, 1, 2, 1, 0, "list", "6.2.0", R::Coord, "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved."),
    cmdn!("blmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, 3, -1, 1, 2, "list", "7.0.0", R::Coord, "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped."),
    cmdn!("hset", -4, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Creates or modifies the value of a field in a hash."),
    cmdn!("hsetnx", 4, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Sets the value of a field in a hash only when the field doesn't exist."),
    cmdn!("hget", 3, READONLY | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Returns the value of a field in a hash."),
    cmdn!("hmget", -3, READONLY | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Returns the values of all fields in a hash."),
    cmdn!("hmset", -4, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Sets the values of multiple fields."),
    cmdn!("hgetall", 2, READONLY, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Returns all fields and values in a hash."),
    cmdn!("hdel", -3, WRITE | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain."),
    cmdn!("hexists", 3, READONLY | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Determines whether a field exists in a hash."),
    cmdn!("hlen", 2, READONLY | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Returns the number of fields in a hash."),
    cmdn!("hstrlen", 3, READONLY | FAST, 1, 1, 1, 0, "hash", "3.2.0", R::Key, "Returns the length of the value of a field."),
    cmdn!("hkeys", 2, READONLY, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Returns all fields in a hash."),
    cmdn!("hvals", 2, READONLY, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Returns all values in a hash."),
    cmdn!("hincrby", 4, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "hash", "2.0.0", R::Key, "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist."),
    cmdn!("hincrbyfloat", 4, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "hash", "2.6.0", R::Key, "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist."),
    cmdn!("hrandfield", -2, READONLY, 1, 1, 1, 0, "hash", "6.2.0", R::Key, "Returns one or more random fields from a hash."),
    cmdn!("hscan", -3, READONLY, 1, 1, 1, 0, "hash", "2.8.0", R::Key, "Iterates over fields and values of a hash."),
    cmdn!("sadd", -3, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "set", "1.0.0", R::Key, "Adds one or more members to a set. Creates the key if it doesn't exist."),
    cmdn!("srem", -3, WRITE | FAST, 1, 1, 1, 0, "set", "1.0.0", R::Key, "Removes one or more members from a set. Deletes the set if the last member was removed."),
    cmdn!("smembers", 2, READONLY, 1, 1, 1, 0, "set", "1.0.0", R::Key, "Returns all members of a set."),
    cmdn!("sismember", 3, READONLY | FAST, 1, 1, 1, 0, "set", "1.0.0", R::Key, "Determines whether a member belongs to a set."),
    cmdn!("smismember", -3, READONLY | FAST, 1, 1, 1, 0, "set", "6.2.0", R::Key, "Determines whether multiple members belong to a set."),
    cmdn!("scard", 2, READONLY | FAST, 1, 1, 1, 0, "set", "1.0.0", R::Key, "Returns the number of members in a set."),
    cmdn!("spop", -2, WRITE | FAST, 1, 1, 1, 0, "set", "1.0.0", R::Key, "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped."),
    cmdn!("srandmember", -2, READONLY, 1, 1, 1, 0, "set", "1.0.0", R::Key, "Get one or multiple random members from a set"),
    cmdn!("smove", 4, WRITE | FAST, 1, 2, 1, 0, "set", "1.0.0", R::Coord, "Moves a member from one set to another."),
    cmdn!("sinter", -2, READONLY, 1, -1, 1, 0, "set", "1.0.0", R::Coord, "Returns the intersect of multiple sets."),
    cmdn!("sintercard", -3, READONLY | MOVABLEKEYS, 2, -1, 1, 1, "set", "7.0.0", R::Coord, "Returns the number of members of the intersect of multiple sets."),
    cmdn!("sunion", -2, READONLY, 1, -1, 1, 0, "set", "1.0.0", R::Coord, "Returns the union of multiple sets."),
    cmdn!("sdiff", -2, READONLY, 1, -1, 1, 0, "set", "1.0.0", R::Coord, "Returns the difference of multiple sets."),
    cmdn!("sinterstore", -3, WRITE | DENYOOM, 1, -1, 1, 0, "set", "1.0.0", R::Coord, "Stores the intersect of multiple sets in a key."),
    cmdn!("sunionstore", -3, WRITE | DENYOOM, 1, -1, 1, 0, "set", "1.0.0", R::Coord, "Stores the union of multiple sets in a key."),
    cmdn!("sdiffstore", -3, WRITE | DENYOOM, 1, -1, 1, 0, "set", "1.0.0", R::Coord, "Stores the difference of multiple sets in a key."),
    cmdn!("sscan", -3, READONLY, 1, 1, 1, 0, "set", "2.8.0", R::Key, "Iterates over members of a set."),
    cmdn!("zadd", -4, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist."),
    cmdn!("zincrby", 4, WRITE | DENYOOM | FAST, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Increments the score of a member in a sorted set."),
    cmdn!("zrem", -3, WRITE | FAST, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed."),
    cmdn!("zscore", 3, READONLY | FAST, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Returns the score of a member in a sorted set."),
    cmdn!("zmscore", -3, READONLY | FAST, 1, 1, 1, 0, "sorted_set", "6.2.0", R::Key, "Returns the score of one or more members in a sorted set."),
    cmdn!("zcard", 2, READONLY | FAST, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Returns the number of members in a sorted set."),
    cmdn!("zcount", 4, READONLY | FAST, 1, 1, 1, 0, "sorted_set", "2.0.0", R::Key, "Returns the count of members in a sorted set that have scores within a range."),
    cmdn!("zlexcount", 4, READONLY | FAST, 1, 1, 1, 0, "sorted_set", "2.8.9", R::Key, "Returns the number of members in a sorted set within a lexicographical range."),
    cmdn!("zrank", -3, READONLY | FAST, 1, 1, 1, 0, "sorted_set", "2.0.0", R::Key, "Returns the index of a member in a sorted set ordered by ascending scores."),
    cmdn!("zrevrank", -3, READONLY | FAST, 1, 1, 1, 0, "sorted_set", "2.0.0", R::Key, "Returns the index of a member in a sorted set ordered by descending scores."),
    cmdn!("zrange", -4, READONLY, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Returns members in a sorted set within a range of indexes."),
    cmdn!("zrangestore", -5, WRITE | DENYOOM, 1, 2, 1, 0, "sorted_set", "6.2.0", R::Coord, "Stores a range of members from sorted set in a key."),
    cmdn!("zrangebyscore", -4, READONLY, 1, 1, 1, 0, "sorted_set", "1.0.5", R::Key, "Returns members in a sorted set within a range of scores."),
    cmdn!("zrevrangebyscore", -4, READONLY, 1, 1, 1, 0, "sorted_set", "2.2.0", R::Key, "Returns members in a sorted set within a range of scores in reverse order."),
    cmdn!("zrangebylex", -4, READONLY, 1, 1, 1, 0, "sorted_set", "2.8.9", R::Key, "Returns members in a sorted set within a lexicographical range."),
    cmdn!("zrevrangebylex", -4, READONLY, 1, 1, 1, 0, "sorted_set", "2.8.9", R::Key, "Returns members in a sorted set within a lexicographical range in reverse order."),
    cmdn!("zrevrange", -4, READONLY, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Returns members in a sorted set within a range of indexes in reverse order."),
    cmdn!("zremrangebyrank", 4, WRITE, 1, 1, 1, 0, "sorted_set", "2.0.0", R::Key, "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed."),
    cmdn!("zremrangebyscore", 4, WRITE, 1, 1, 1, 0, "sorted_set", "1.2.0", R::Key, "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed."),
    cmdn!("zremrangebylex", 4, WRITE, 1, 1, 1, 0, "sorted_set", "2.8.9", R::Key, "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed."),
    cmdn!("zpopmin", -2, WRITE | FAST, 1, 1, 1, 0, "sorted_set", "5.0.0", R::Key, "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    cmdn!("zpopmax", -2, WRITE | FAST, 1, 1, 1, 0, "sorted_set", "5.0.0", R::Key, "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped."),
    cmdn!("zmpop", -4, WRITE | MOVABLEKEYS, 2, -1, 1, 1, "sorted_set", "7.0.0", R::Coord, "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped."),
    cmdn!("bzpopmin", -3, WRITE | FAST | BLOCKING, 1, -2, 1, 0, "sorted_set", "5.0.0", R::Coord, "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    cmdn!("bzpopmax", -3, WRITE | FAST | BLOCKING, 1, -2, 1, 0, "sorted_set", "5.0.0", R::Coord, "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise. Deletes the sorted set if the last element was popped."),
    cmdn!("bzmpop", -5, WRITE | BLOCKING | MOVABLEKEYS, 3, -1, 1, 2, "sorted_set", "7.0.0", R::Coord, "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."),
    cmdn!("zrandmember", -2, READONLY, 1, 1, 1, 0, "sorted_set", "6.2.0", R::Key, "Returns one or more random members from a sorted set."),
    cmdn!("zunion", -3, READONLY | MOVABLEKEYS, 2, -1, 1, 1, "sorted_set", "6.2.0", R::Coord, "Returns the union of multiple sorted sets."),
    cmdn!("zinter", -3, READONLY | MOVABLEKEYS, 2, -1, 1, 1, "sorted_set", "6.2.0", R::Coord, "Returns the intersect of multiple sorted sets."),
    cmdn!("zdiff", -3, READONLY | MOVABLEKEYS, 2, -1, 1, 1, "sorted_set", "6.2.0", R::Coord, "Returns the difference between multiple sorted sets."),
    cmdn!("zunionstore", -4, WRITE | DENYOOM | MOVABLEKEYS, 1, 1, 1, 2, "sorted_set", "2.0.0", R::Coord, "Stores the union of multiple sorted sets in a key."),
    cmdn!("zinterstore", -4, WRITE | DENYOOM | MOVABLEKEYS, 1, 1, 1, 2, "sorted_set", "2.0.0", R::Coord, "Stores the intersect of multiple sorted sets in a key."),
    cmdn!("zdiffstore", -4, WRITE | DENYOOM | MOVABLEKEYS, 1, 1, 1, 2, "sorted_set", "6.2.0", R::Coord, "Stores the difference of multiple sorted sets in a key."),
    cmdn!("zintercard", -3, READONLY | MOVABLEKEYS, 2, -1, 1, 1, "sorted_set", "7.0.0", R::Coord, "Returns the number of members of the intersect of multiple sorted sets."),
    cmdn!("zscan", -3, READONLY, 1, 1, 1, 0, "sorted_set", "2.8.0", R::Key, "Iterates over members and scores of a sorted set."),
    // scripting
    cmdn!("eval", -3, NOSCRIPT | STALE | MAY_REPLICATE | MOVABLEKEYS, 0, 0, 0, 2, "scripting", "2.6.0", R::Coord, "Executes a server-side Lua script."),
    cmdn!("evalsha", -3, NOSCRIPT | STALE | MAY_REPLICATE | MOVABLEKEYS, 0, 0, 0, 2, "scripting", "2.6.0", R::Coord, "Executes a server-side Lua script by SHA1 digest."),
    cmdn!("eval_ro", -3, NOSCRIPT | STALE | READONLY | MOVABLEKEYS, 0, 0, 0, 2, "scripting", "7.0.0", R::Coord, "Executes a read-only server-side Lua script."),
    cmdn!("evalsha_ro", -3, NOSCRIPT | STALE | READONLY | MOVABLEKEYS, 0, 0, 0, 2, "scripting", "7.0.0", R::Coord, "Executes a read-only server-side Lua script by SHA1 digest."),
    cmdn!("fcall", -3, NOSCRIPT | STALE | MAY_REPLICATE | MOVABLEKEYS, 0, 0, 0, 2, "scripting", "7.0.0", R::Coord, "Invokes a function."),
    cmdn!("fcall_ro", -3, NOSCRIPT | STALE | READONLY | MOVABLEKEYS, 0, 0, 0, 2, "scripting", "7.0.0", R::Coord, "Invokes a read-only function."),
    cmdn!("function", -2, NOSCRIPT | CONTAINER, 0, 0, 0, 0, "scripting", "7.0.0", R::Local, "A container for function commands."),
    cmdn!("script", -2, NOSCRIPT | CONTAINER, 0, 0, 0, 0, "scripting", "2.6.0", R::Local, "A container for Lua scripts management commands."),
    // transactions
    cmdn!("multi", 1, NOSCRIPT | LOADING | STALE | FAST, 0, 0, 0, 0, "transactions", "1.2.0", R::Tx, "Starts a transaction."),
    cmdn!("exec", 1, NOSCRIPT | LOADING | STALE, 0, 0, 0, 0, "transactions", "1.2.0", R::Tx, "Executes all commands in a transaction."),
    cmdn!("discard", 1, NOSCRIPT | LOADING | STALE | FAST, 0, 0, 0, 0, "transactions", "2.0.0", R::Tx, "Discards a transaction."),
    cmdn!("watch", -2, NOSCRIPT | LOADING | STALE | FAST, 1, -1, 1, 0, "transactions", "2.2.0", R::Tx, "Monitors changes to keys to determine the execution of a transaction."),
    cmdn!("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST, 0, 0, 0, 0, "transactions", "2.2.0", R::Tx, "Forgets about watched keys of a transaction."),
];

/// The keys a command touches, as the transaction layer locks them.
pub enum Touched<'a> {
    Known(Vec<&'a [u8]>),
    /// It reads keys named by patterns (SORT ... BY / GET), or runs a
    /// script that may touch any key.
    Unknown,
}

/// The keys a command touches: its key positions, plus SORT's STORE
/// destination (SORT with a BY or GET pattern reads keys not known before
/// it runs). The key [`CommandSpec::other_db_key`] names is among them; the
/// caller locks it in its database.
pub fn touched_keys<'a>(s: &CommandSpec, args: &[&'a [u8]]) -> Touched<'a> {
    let mut keys: Vec<&[u8]> = s
        .keys_in(args)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| args.get(i).copied())
        .collect();
    if s.name == "sort" || s.name == "sort_ro" {
        let mut i = 2;
        while i + 1 < args.len() {
            let opt = args[i];
            if opt.eq_ignore_ascii_case(b"by") || opt.eq_ignore_ascii_case(b"get") {
                let pat = args[i + 1];
                // `GET #` is the element itself and `BY nosort` no key.
                if pat != b"#" && memchr::memchr(b'*', pat).is_some() {
                    return Touched::Unknown;
                }
            } else if opt.eq_ignore_ascii_case(b"store") {
                keys.push(args[i + 1]);
            }
            i += if opt.eq_ignore_ascii_case(b"limit") {
                3
            } else {
                2
            };
        }
    }
    if s.name == "xread" || s.name == "xreadgroup" {
        keys.extend(stream_read_keys(args).0);
    }
    // GEORADIUS[BYMEMBER] ... STORE|STOREDIST key: the last one counts,
    // as in Redis's `georadiusGetKeys`.
    if s.name == "georadius" || s.name == "georadiusbymember" {
        let mut i = 5;
        let mut store = None;
        while i + 1 < args.len() {
            if args[i].eq_ignore_ascii_case(b"store") || args[i].eq_ignore_ascii_case(b"storedist")
            {
                store = Some(args[i + 1]);
                i += 1;
            }
            i += 1;
        }
        keys.extend(store);
    }
    Touched::Known(keys)
}

/// XREAD's and XREADGROUP's keys (the first half of what follows their
/// STREAMS option, as `xreadGetKeys` finds them) and whether a BLOCK
/// option comes before it. No keys when STREAMS is missing or what
/// follows it is odd (the command then answers an error).
pub fn stream_read_keys<'a>(args: &[&'a [u8]]) -> (Vec<&'a [u8]>, bool) {
    let mut block = false;
    let mut i = 1;
    while i < args.len() {
        let a = args[i];
        let more = args.len() - 1 - i;
        if a.eq_ignore_ascii_case(b"streams") && more > 0 {
            let rest = &args[i + 1..];
            if rest.len() % 2 != 0 {
                return (Vec::new(), block);
            }
            return (rest[..rest.len() / 2].to_vec(), block);
        }
        if a.eq_ignore_ascii_case(b"block") && more > 0 {
            block = true;
            i += 1;
        } else if a.eq_ignore_ascii_case(b"count") && more > 0 {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"group") && more >= 2 {
            i += 2;
        }
        i += 1;
    }
    (Vec::new(), block)
}

/// ACL command categories (`ACL CAT`), one bit each, in Redis 7.0's order
/// (`ACLCommandCategories` in `src/acl.c`).
pub mod cat {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const READ: u32 = 1 << 1;
    pub const WRITE: u32 = 1 << 2;
    pub const SET: u32 = 1 << 3;
    pub const SORTEDSET: u32 = 1 << 4;
    pub const LIST: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const STRING: u32 = 1 << 7;
    pub const BITMAP: u32 = 1 << 8;
    pub const HYPERLOGLOG: u32 = 1 << 9;
    pub const GEO: u32 = 1 << 10;
    pub const STREAM: u32 = 1 << 11;
    pub const PUBSUB: u32 = 1 << 12;
    pub const ADMIN: u32 = 1 << 13;
    pub const FAST: u32 = 1 << 14;
    pub const SLOW: u32 = 1 << 15;
    pub const BLOCKING: u32 = 1 << 16;
    pub const DANGEROUS: u32 = 1 << 17;
    pub const CONNECTION: u32 = 1 << 18;
    pub const TRANSACTION: u32 = 1 << 19;
    pub const SCRIPTING: u32 = 1 << 20;
    /// Every category's name, bit `i` named by `NAMES[i]`.
    pub const NAMES: [&str; 21] = [
        "keyspace",
        "read",
        "write",
        "set",
        "sortedset",
        "list",
        "hash",
        "string",
        "bitmap",
        "hyperloglog",
        "geo",
        "stream",
        "pubsub",
        "admin",
        "fast",
        "slow",
        "blocking",
        "dangerous",
        "connection",
        "transaction",
        "scripting",
    ];

    /// The bit of category `name` (without its `@`), case-insensitively.
    pub fn by_name(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .position(|n| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|i| 1 << i)
    }
}

/// Index of a command or subcommand in [`ACL_COMMANDS`]: what an ACL
/// user's command bitmap is indexed by.
pub type AclId = u16;

/// Every Redis 7.0 command and subcommand (`config|get`) with its arity
/// and ACL categories, sorted by full name: the categories its JSON file in
/// Redis's `src/commands/` lists and those `setImplicitACLCategories`
/// derives from its flags (write, read, admin and dangerous, fast or
/// slow, ...). It names the commands tandem does not implement too
/// (CLUSTER, WAIT, ...), so ACL rules written for Redis load unchanged.
/// COMMAND INFO and ACL CAT report these; ACL SETUSER's `+@category`
/// grants them.
pub const ACL_COMMANDS: &[(&str, i16, u32)] = {
    use cat::*;
    &[
        ("acl", -2, SLOW),
        ("acl|cat", -2, SLOW),
        ("acl|deluser", -3, ADMIN | SLOW | DANGEROUS),
        ("acl|dryrun", -4, ADMIN | SLOW | DANGEROUS),
        ("acl|genpass", -2, SLOW),
        ("acl|getuser", 3, ADMIN | SLOW | DANGEROUS),
        ("acl|help", 2, SLOW),
        ("acl|list", 2, ADMIN | SLOW | DANGEROUS),
        ("acl|load", 2, ADMIN | SLOW | DANGEROUS),
        ("acl|log", -2, ADMIN | SLOW | DANGEROUS),
        ("acl|save", 2, ADMIN | SLOW | DANGEROUS),
        ("acl|setuser", -3, ADMIN | SLOW | DANGEROUS),
        ("acl|users", 2, ADMIN | SLOW | DANGEROUS),
        ("acl|whoami", 2, SLOW),
        ("append", 3, WRITE | STRING | FAST),
        ("asking", 1, FAST | CONNECTION),
        ("auth", -2, FAST | CONNECTION),
        ("bgrewriteaof", 1, ADMIN | SLOW | DANGEROUS),
        ("bgsave", -1, ADMIN | SLOW | DANGEROUS),
        ("bitcount", -2, READ | BITMAP | SLOW),
        ("bitfield", -2, WRITE | BITMAP | SLOW),
        ("bitfield_ro", -2, READ | BITMAP | FAST),
        ("bitop", -4, WRITE | BITMAP | SLOW),
        ("bitpos", -3, READ | BITMAP | SLOW),
        ("blmove", 6, WRITE | LIST | SLOW | BLOCKING),
        ("blmpop", -5, WRITE | LIST | SLOW | BLOCKING),
        ("blpop", -3, WRITE | LIST | SLOW | BLOCKING),
        ("brpop", -3, WRITE | LIST | SLOW | BLOCKING),
        ("brpoplpush", 4, WRITE | LIST | SLOW | BLOCKING),
        ("bzmpop", -5, WRITE | SORTEDSET | SLOW | BLOCKING),
        ("bzpopmax", -3, WRITE | SORTEDSET | FAST | BLOCKING),
        ("bzpopmin", -3, WRITE | SORTEDSET | FAST | BLOCKING),
        ("client", -2, SLOW),
        ("client|caching", 3, SLOW | CONNECTION),
        ("client|getname", 2, SLOW | CONNECTION),
        ("client|getredir", 2, SLOW | CONNECTION),
        ("client|help", 2, SLOW | CONNECTION),
        ("client|id", 2, SLOW | CONNECTION),
        ("client|info", 2, SLOW | CONNECTION),
        ("client|kill", -3, ADMIN | SLOW | DANGEROUS | CONNECTION),
        ("client|list", -2, ADMIN | SLOW | DANGEROUS | CONNECTION),
        ("client|no-evict", 3, ADMIN | SLOW | DANGEROUS | CONNECTION),
        ("client|pause", -3, ADMIN | SLOW | DANGEROUS | CONNECTION),
        ("client|reply", 3, SLOW | CONNECTION),
        ("client|setname", 3, SLOW | CONNECTION),
        ("client|tracking", -3, SLOW | CONNECTION),
        ("client|trackinginfo", 2, SLOW | CONNECTION),
        ("client|unblock", -3, ADMIN | SLOW | DANGEROUS | CONNECTION),
        ("client|unpause", 2, ADMIN | SLOW | DANGEROUS | CONNECTION),
        ("cluster", -2, SLOW),
        ("cluster|addslots", -3, ADMIN | SLOW | DANGEROUS),
        ("cluster|addslotsrange", -4, ADMIN | SLOW | DANGEROUS),
        ("cluster|bumpepoch", 2, ADMIN | SLOW | DANGEROUS),
        ("cluster|count-failure-reports", 3, ADMIN | SLOW | DANGEROUS),
        ("cluster|countkeysinslot", 3, SLOW),
        ("cluster|delslots", -3, ADMIN | SLOW | DANGEROUS),
        ("cluster|delslotsrange", -4, ADMIN | SLOW | DANGEROUS),
        ("cluster|failover", -2, ADMIN | SLOW | DANGEROUS),
        ("cluster|flushslots", 2, ADMIN | SLOW | DANGEROUS),
        ("cluster|forget", 3, ADMIN | SLOW | DANGEROUS),
        ("cluster|getkeysinslot", 4, SLOW),
        ("cluster|help", 2, SLOW),
        ("cluster|info", 2, SLOW),
        ("cluster|keyslot", 3, SLOW),
        ("cluster|links", 2, SLOW),
        ("cluster|meet", -4, ADMIN | SLOW | DANGEROUS),
        ("cluster|myid", 2, SLOW),
        ("cluster|nodes", 2, SLOW),
        ("cluster|replicas", 3, ADMIN | SLOW | DANGEROUS),
        ("cluster|replicate", 3, ADMIN | SLOW | DANGEROUS),
        ("cluster|reset", -2, ADMIN | SLOW | DANGEROUS),
        ("cluster|saveconfig", 2, ADMIN | SLOW | DANGEROUS),
        ("cluster|set-config-epoch", 3, ADMIN | SLOW | DANGEROUS),
        ("cluster|setslot", -4, ADMIN | SLOW | DANGEROUS),
        ("cluster|shards", 2, SLOW),
        ("cluster|slaves", 3, ADMIN | SLOW | DANGEROUS),
        ("cluster|slots", 2, SLOW),
        ("command", -1, SLOW | CONNECTION),
        ("command|count", 2, SLOW | CONNECTION),
        ("command|docs", -2, SLOW | CONNECTION),
        ("command|getkeys", -4, SLOW | CONNECTION),
        ("command|getkeysandflags", -4, SLOW | CONNECTION),
        ("command|help", 2, SLOW | CONNECTION),
        ("command|info", -2, SLOW | CONNECTION),
        ("command|list", -2, SLOW | CONNECTION),
        ("config", -2, SLOW),
        ("config|get", -3, ADMIN | SLOW | DANGEROUS),
        ("config|help", 2, SLOW),
        ("config|resetstat", 2, ADMIN | SLOW | DANGEROUS),
        ("config|rewrite", 2, ADMIN | SLOW | DANGEROUS),
        ("config|set", -4, ADMIN | SLOW | DANGEROUS),
        ("copy", -3, KEYSPACE | WRITE | SLOW),
        ("dbsize", 1, KEYSPACE | READ | FAST),
        ("debug", -2, ADMIN | SLOW | DANGEROUS),
        ("decr", 2, WRITE | STRING | FAST),
        ("decrby", 3, WRITE | STRING | FAST),
        ("del", -2, KEYSPACE | WRITE | SLOW),
        ("discard", 1, FAST | TRANSACTION),
        ("dump", 2, KEYSPACE | READ | SLOW),
        ("echo", 2, FAST | CONNECTION),
        ("eval", -3, SLOW | SCRIPTING),
        ("eval_ro", -3, SLOW | SCRIPTING),
        ("evalsha", -3, SLOW | SCRIPTING),
        ("evalsha_ro", -3, SLOW | SCRIPTING),
        ("exec", 1, SLOW | TRANSACTION),
        ("exists", -2, KEYSPACE | READ | FAST),
        ("expire", -3, KEYSPACE | WRITE | FAST),
        ("expireat", -3, KEYSPACE | WRITE | FAST),
        ("expiretime", 2, KEYSPACE | READ | FAST),
        ("failover", -1, ADMIN | SLOW | DANGEROUS),
        ("fcall", -3, SLOW | SCRIPTING),
        ("fcall_ro", -3, SLOW | SCRIPTING),
        ("flushall", -1, KEYSPACE | WRITE | SLOW | DANGEROUS),
        ("flushdb", -1, KEYSPACE | WRITE | SLOW | DANGEROUS),
        ("function", -2, SLOW),
        ("function|delete", 3, WRITE | SLOW | SCRIPTING),
        ("function|dump", 2, SLOW | SCRIPTING),
        ("function|flush", -2, WRITE | SLOW | SCRIPTING),
        ("function|help", 2, SLOW | SCRIPTING),
        ("function|kill", 2, SLOW | SCRIPTING),
        ("function|list", -2, SLOW | SCRIPTING),
        ("function|load", -3, WRITE | SLOW | SCRIPTING),
        ("function|restore", -3, WRITE | SLOW | SCRIPTING),
        ("function|stats", 2, SLOW | SCRIPTING),
        ("geoadd", -5, WRITE | GEO | SLOW),
        ("geodist", -4, READ | GEO | SLOW),
        ("geohash", -2, READ | GEO | SLOW),
        ("geopos", -2, READ | GEO | SLOW),
        ("georadius", -6, WRITE | GEO | SLOW),
        ("georadius_ro", -6, READ | GEO | SLOW),
        ("georadiusbymember", -5, WRITE | GEO | SLOW),
        ("georadiusbymember_ro", -5, READ | GEO | SLOW),
        ("geosearch", -7, READ | GEO | SLOW),
        ("geosearchstore", -8, WRITE | GEO | SLOW),
        ("get", 2, READ | STRING | FAST),
        ("getbit", 3, READ | BITMAP | FAST),
        ("getdel", 2, WRITE | STRING | FAST),
        ("getex", -2, WRITE | STRING | FAST),
        ("getrange", 4, READ | STRING | SLOW),
        ("getset", 3, WRITE | STRING | FAST),
        ("hdel", -3, WRITE | HASH | FAST),
        ("hello", -1, FAST | CONNECTION),
        ("hexists", 3, READ | HASH | FAST),
        ("hget", 3, READ | HASH | FAST),
        ("hgetall", 2, READ | HASH | SLOW),
        ("hincrby", 4, WRITE | HASH | FAST),
        ("hincrbyfloat", 4, WRITE | HASH | FAST),
        ("hkeys", 2, READ | HASH | SLOW),
        ("hlen", 2, READ | HASH | FAST),
        ("hmget", -3, READ | HASH | FAST),
        ("hmset", -4, WRITE | HASH | FAST),
        ("hrandfield", -2, READ | HASH | SLOW),
        ("hscan", -3, READ | HASH | SLOW),
        ("hset", -4, WRITE | HASH | FAST),
        ("hsetnx", 4, WRITE | HASH | FAST),
        ("hstrlen", 3, READ | HASH | FAST),
        ("hvals", 2, READ | HASH | SLOW),
        ("incr", 2, WRITE | STRING | FAST),
        ("incrby", 3, WRITE | STRING | FAST),
        ("incrbyfloat", 3, WRITE | STRING | FAST),
        ("info", -1, SLOW | DANGEROUS),
        ("keys", 2, KEYSPACE | READ | SLOW | DANGEROUS),
        ("lastsave", 1, ADMIN | FAST | DANGEROUS),
        ("latency", -2, SLOW),
        ("latency|doctor", 2, ADMIN | SLOW | DANGEROUS),
        ("latency|graph", 3, ADMIN | SLOW | DANGEROUS),
        ("latency|help", 2, SLOW),
        ("latency|histogram", -2, ADMIN | SLOW | DANGEROUS),
        ("latency|history", 3, ADMIN | SLOW | DANGEROUS),
        ("latency|latest", 2, ADMIN | SLOW | DANGEROUS),
        ("latency|reset", -2, ADMIN | SLOW | DANGEROUS),
        ("lcs", -3, READ | STRING | SLOW),
        ("lindex", 3, READ | LIST | SLOW),
        ("linsert", 5, WRITE | LIST | SLOW),
        ("llen", 2, READ | LIST | FAST),
        ("lmove", 5, WRITE | LIST | SLOW),
        ("lmpop", -4, WRITE | LIST | SLOW),
        ("lolwut", -1, READ | FAST),
        ("lpop", -2, WRITE | LIST | FAST),
        ("lpos", -3, READ | LIST | SLOW),
        ("lpush", -3, WRITE | LIST | FAST),
        ("lpushx", -3, WRITE | LIST | FAST),
        ("lrange", 4, READ | LIST | SLOW),
        ("lrem", 4, WRITE | LIST | SLOW),
        ("lset", 4, WRITE | LIST | SLOW),
        ("ltrim", 4, WRITE | LIST | SLOW),
        ("memory", -2, SLOW),
        ("memory|doctor", 2, SLOW),
        ("memory|help", 2, SLOW),
        ("memory|malloc-stats", 2, SLOW),
        ("memory|purge", 2, SLOW),
        ("memory|stats", 2, SLOW),
        ("memory|usage", -3, READ | SLOW),
        ("mget", -2, READ | STRING | FAST),
        ("migrate", -6, KEYSPACE | WRITE | SLOW | DANGEROUS),
        ("module", -2, SLOW),
        ("module|help", 2, SLOW),
        ("module|list", 2, ADMIN | SLOW | DANGEROUS),
        ("module|load", -3, ADMIN | SLOW | DANGEROUS),
        ("module|loadex", -3, ADMIN | SLOW | DANGEROUS),
        ("module|unload", 3, ADMIN | SLOW | DANGEROUS),
        ("monitor", 1, ADMIN | SLOW | DANGEROUS),
        ("move", 3, KEYSPACE | WRITE | FAST),
        ("mset", -3, WRITE | STRING | SLOW),
        ("msetnx", -3, WRITE | STRING | SLOW),
        ("multi", 1, FAST | TRANSACTION),
        ("object", -2, SLOW),
        ("object|encoding", 3, KEYSPACE | READ | SLOW),
        ("object|freq", 3, KEYSPACE | READ | SLOW),
        ("object|help", 2, KEYSPACE | SLOW),
        ("object|idletime", 3, KEYSPACE | READ | SLOW),
        ("object|refcount", 3, KEYSPACE | READ | SLOW),
        ("persist", 2, KEYSPACE | WRITE | FAST),
        ("pexpire", -3, KEYSPACE | WRITE | FAST),
        ("pexpireat", -3, KEYSPACE | WRITE | FAST),
        ("pexpiretime", 2, KEYSPACE | READ | FAST),
        ("pfadd", -2, WRITE | HYPERLOGLOG | FAST),
        ("pfcount", -2, READ | HYPERLOGLOG | SLOW),
        ("pfdebug", 3, WRITE | HYPERLOGLOG | ADMIN | SLOW | DANGEROUS),
        ("pfmerge", -2, WRITE | HYPERLOGLOG | SLOW),
        ("pfselftest", 1, HYPERLOGLOG | ADMIN | SLOW | DANGEROUS),
        ("ping", -1, FAST | CONNECTION),
        ("psetex", 4, WRITE | STRING | SLOW),
        ("psubscribe", -2, PUBSUB | SLOW),
        ("psync", -3, ADMIN | SLOW | DANGEROUS),
        ("pttl", 2, KEYSPACE | READ | FAST),
        ("publish", 3, PUBSUB | FAST),
        ("pubsub", -2, SLOW),
        ("pubsub|channels", -2, PUBSUB | SLOW),
        ("pubsub|help", 2, SLOW),
        ("pubsub|numpat", 2, PUBSUB | SLOW),
        ("pubsub|numsub", -2, PUBSUB | SLOW),
        ("pubsub|shardchannels", -2, PUBSUB | SLOW),
        ("pubsub|shardnumsub", -2, PUBSUB | SLOW),
        ("punsubscribe", -1, PUBSUB | SLOW),
        ("quit", -1, FAST | CONNECTION),
        ("randomkey", 1, KEYSPACE | READ | SLOW),
        ("readonly", 1, FAST | CONNECTION),
        ("readwrite", 1, FAST | CONNECTION),
        ("rename", 3, KEYSPACE | WRITE | SLOW),
        ("renamenx", 3, KEYSPACE | WRITE | FAST),
        ("replconf", -1, ADMIN | SLOW | DANGEROUS),
        ("replicaof", 3, ADMIN | SLOW | DANGEROUS),
        ("reset", 1, FAST | CONNECTION),
        ("restore", -4, KEYSPACE | WRITE | SLOW | DANGEROUS),
        ("restore-asking", -4, KEYSPACE | WRITE | SLOW | DANGEROUS),
        ("role", 1, ADMIN | FAST | DANGEROUS),
        ("rpop", -2, WRITE | LIST | FAST),
        ("rpoplpush", 3, WRITE | LIST | SLOW),
        ("rpush", -3, WRITE | LIST | FAST),
        ("rpushx", -3, WRITE | LIST | FAST),
        ("sadd", -3, WRITE | SET | FAST),
        ("save", 1, ADMIN | SLOW | DANGEROUS),
        ("scan", -2, KEYSPACE | READ | SLOW),
        ("scard", 2, READ | SET | FAST),
        ("script", -2, SLOW),
        ("script|debug", 3, SLOW | SCRIPTING),
        ("script|exists", -3, SLOW | SCRIPTING),
        ("script|flush", -2, SLOW | SCRIPTING),
        ("script|help", 2, SLOW | SCRIPTING),
        ("script|kill", 2, SLOW | SCRIPTING),
        ("script|load", 3, SLOW | SCRIPTING),
        ("sdiff", -2, READ | SET | SLOW),
        ("sdiffstore", -3, WRITE | SET | SLOW),
        ("select", 2, FAST | CONNECTION),
        ("set", -3, WRITE | STRING | SLOW),
        ("setbit", 4, WRITE | BITMAP | SLOW),
        ("setex", 4, WRITE | STRING | SLOW),
        ("setnx", 3, WRITE | STRING | FAST),
        ("setrange", 4, WRITE | STRING | SLOW),
        ("shutdown", -1, ADMIN | SLOW | DANGEROUS),
        ("sinter", -2, READ | SET | SLOW),
        ("sintercard", -3, READ | SET | SLOW),
        ("sinterstore", -3, WRITE | SET | SLOW),
        ("sismember", 3, READ | SET | FAST),
        ("slaveof", 3, ADMIN | SLOW | DANGEROUS),
        ("slowlog", -2, SLOW),
        ("slowlog|get", -2, ADMIN | SLOW | DANGEROUS),
        ("slowlog|help", 2, SLOW),
        ("slowlog|len", 2, ADMIN | SLOW | DANGEROUS),
        ("slowlog|reset", 2, ADMIN | SLOW | DANGEROUS),
        ("smembers", 2, READ | SET | SLOW),
        ("smismember", -3, READ | SET | FAST),
        ("smove", 4, WRITE | SET | FAST),
        (
            "sort",
            -2,
            WRITE | SET | SORTEDSET | LIST | SLOW | DANGEROUS,
        ),
        (
            "sort_ro",
            -2,
            READ | SET | SORTEDSET | LIST | SLOW | DANGEROUS,
        ),
        ("spop", -2, WRITE | SET | FAST),
        ("spublish", 3, PUBSUB | FAST),
        ("srandmember", -2, READ | SET | SLOW),
        ("srem", -3, WRITE | SET | FAST),
        ("sscan", -3, READ | SET | SLOW),
        ("ssubscribe", -2, PUBSUB | SLOW),
        ("strlen", 2, READ | STRING | FAST),
        ("subscribe", -2, PUBSUB | SLOW),
        ("substr", 4, READ | STRING | SLOW),
        ("sunion", -2, READ | SET | SLOW),
        ("sunionstore", -3, WRITE | SET | SLOW),
        ("sunsubscribe", -1, PUBSUB | SLOW),
        ("swapdb", 3, KEYSPACE | WRITE | FAST | DANGEROUS),
        ("sync", 1, ADMIN | SLOW | DANGEROUS),
        ("time", 1, FAST),
        ("touch", -2, KEYSPACE | READ | FAST),
        ("ttl", 2, KEYSPACE | READ | FAST),
        ("type", 2, KEYSPACE | READ | FAST),
        ("unlink", -2, KEYSPACE | WRITE | FAST),
        ("unsubscribe", -1, PUBSUB | SLOW),
        ("unwatch", 1, FAST | TRANSACTION),
        ("wait", 3, SLOW | CONNECTION),
        ("watch", -2, FAST | TRANSACTION),
        ("xack", -4, WRITE | STREAM | FAST),
        ("xadd", -5, WRITE | STREAM | FAST),
        ("xautoclaim", -6, WRITE | STREAM | FAST),
        ("xclaim", -6, WRITE | STREAM | FAST),
        ("xdel", -3, WRITE | STREAM | FAST),
        ("xgroup", -2, SLOW),
        ("xgroup|create", -5, WRITE | STREAM | SLOW),
        ("xgroup|createconsumer", 5, WRITE | STREAM | SLOW),
        ("xgroup|delconsumer", 5, WRITE | STREAM | SLOW),
        ("xgroup|destroy", 4, WRITE | STREAM | SLOW),
        ("xgroup|help", 2, STREAM | SLOW),
        ("xgroup|setid", -5, WRITE | STREAM | SLOW),
        ("xinfo", -2, SLOW),
        ("xinfo|consumers", 4, READ | STREAM | SLOW),
        ("xinfo|groups", 3, READ | STREAM | SLOW),
        ("xinfo|help", 2, STREAM | SLOW),
        ("xinfo|stream", -3, READ | STREAM | SLOW),
        ("xlen", 2, READ | STREAM | FAST),
        ("xpending", -3, READ | STREAM | SLOW),
        ("xrange", -4, READ | STREAM | SLOW),
        ("xread", -4, READ | STREAM | SLOW | BLOCKING),
        ("xreadgroup", -7, WRITE | STREAM | SLOW | BLOCKING),
        ("xrevrange", -4, READ | STREAM | SLOW),
        ("xsetid", -3, WRITE | STREAM | FAST),
        ("xtrim", -4, WRITE | STREAM | SLOW),
        ("zadd", -4, WRITE | SORTEDSET | FAST),
        ("zcard", 2, READ | SORTEDSET | FAST),
        ("zcount", 4, READ | SORTEDSET | FAST),
        ("zdiff", -3, READ | SORTEDSET | SLOW),
        ("zdiffstore", -4, WRITE | SORTEDSET | SLOW),
        ("zincrby", 4, WRITE | SORTEDSET | FAST),
        ("zinter", -3, READ | SORTEDSET | SLOW),
        ("zintercard", -3, READ | SORTEDSET | SLOW),
        ("zinterstore", -4, WRITE | SORTEDSET | SLOW),
        ("zlexcount", 4, READ | SORTEDSET | FAST),
        ("zmpop", -4, WRITE | SORTEDSET | SLOW),
        ("zmscore", -3, READ | SORTEDSET | FAST),
        ("zpopmax", -2, WRITE | SORTEDSET | FAST),
        ("zpopmin", -2, WRITE | SORTEDSET | FAST),
        ("zrandmember", -2, READ | SORTEDSET | SLOW),
        ("zrange", -4, READ | SORTEDSET | SLOW),
        ("zrangebylex", -4, READ | SORTEDSET | SLOW),
        ("zrangebyscore", -4, READ | SORTEDSET | SLOW),
        ("zrangestore", -5, WRITE | SORTEDSET | SLOW),
        ("zrank", 3, READ | SORTEDSET | FAST),
        ("zrem", -3, WRITE | SORTEDSET | FAST),
        ("zremrangebylex", 4, WRITE | SORTEDSET | SLOW),
        ("zremrangebyrank", 4, WRITE | SORTEDSET | SLOW),
        ("zremrangebyscore", 4, WRITE | SORTEDSET | SLOW),
        ("zrevrange", -4, READ | SORTEDSET | SLOW),
        ("zrevrangebylex", -4, READ | SORTEDSET | SLOW),
        ("zrevrangebyscore", -4, READ | SORTEDSET | SLOW),
        ("zrevrank", 3, READ | SORTEDSET | FAST),
        ("zscan", -3, READ | SORTEDSET | SLOW),
        ("zscore", 3, READ | SORTEDSET | FAST),
        ("zunion", -3, READ | SORTEDSET | SLOW),
        ("zunionstore", -4, WRITE | SORTEDSET | SLOW),
    ]
};

/// The [`AclId`] of a full command name (`get`, `config|get`),
/// lower-case.
pub fn acl_lookup(full: &str) -> Option<AclId> {
    ACL_COMMANDS
        .binary_search_by(|(n, _, _)| n.cmp(&full))
        .ok()
        .map(|i| i as AclId)
}

/// The [`AclId`] of command `id`, itself (not a subcommand).
pub fn acl_id(id: CmdId) -> AclId {
    static IDS: OnceLock<Vec<AclId>> = OnceLock::new();
    IDS.get_or_init(|| {
        TABLE
            .iter()
            .map(|s| acl_lookup(s.name).unwrap_or(AclId::MAX))
            .collect()
    })
    .get(id as usize)
    .copied()
    .unwrap_or(AclId::MAX)
}

/// The [`AclId`] a call runs as: a container command's subcommand
/// (`config|get` for `CONFIG GET`) when it names a known one, else the
/// command's own. `AclId::MAX` for a command Redis does not list.
pub fn acl_id_of(id: CmdId, args: &[&[u8]]) -> AclId {
    let s = get(id);
    if s.is(flag::CONTAINER) {
        if let Some(sub) = args.get(1).filter(|a| a.len() <= MAX_NAME) {
            let full = format!("{}|{}", s.name, String::from_utf8_lossy(sub)).to_ascii_lowercase();
            if let Some(a) = acl_lookup(&full) {
                return a;
            }
        }
    }
    acl_id(id)
}

/// The ACL categories of a command or subcommand ([`cat`] bits).
pub fn acl_categories(a: AclId) -> u32 {
    ACL_COMMANDS.get(a as usize).map_or(0, |(_, _, c)| *c)
}

/// Whether `argc` arguments (name included) satisfy the arity of a
/// command or subcommand (`config|get`: at least 3), as
/// [`CommandSpec::arity_ok`]; true for an unknown id.
pub fn acl_arity_ok(a: AclId, argc: usize) -> bool {
    let arity = ACL_COMMANDS
        .get(a as usize)
        .map_or(0, |(_, n, _)| *n as i64);
    let argc = argc as i64;
    !((arity > 0 && argc != arity) || argc < -arity)
}

/// The subcommands of container command `a` (`config|get`, ...), which
/// follow it in [`ACL_COMMANDS`]'s order.
pub fn acl_subcommands(a: AclId) -> std::ops::Range<usize> {
    let Some((name, _, _)) = ACL_COMMANDS.get(a as usize) else {
        return 0..0;
    };
    let start = a as usize + 1;
    let n = ACL_COMMANDS[start..]
        .iter()
        .take_while(|(n, _, _)| {
            n.len() > name.len() && n.starts_with(name) && n.as_bytes()[name.len()] == b'|'
        })
        .count();
    start..start + n
}

/// How a command uses its keys, for ACL key patterns (`%R~`, `%W~`):
/// Redis 7.0's key-spec flags, ACCESS as READ and INSERT, DELETE or
/// UPDATE as WRITE. A key with neither (EXISTS, TYPE, TTL, ...) matches
/// any pattern.
pub mod access {
    pub const READ: u8 = 1;
    pub const WRITE: u8 = 2;
}

/// The channel arguments of a Pub/Sub call ACL channel patterns (`&`)
/// cover, as (argument index, whether it is a pattern): PUBLISH's and
/// SPUBLISH's channel, (S)SUBSCRIBE's channels, PSUBSCRIBE's patterns
/// (matched literally). Unsubscribing is never refused.
pub fn channel_args(s: &CommandSpec, args: &[&[u8]]) -> Vec<(usize, bool)> {
    if s.route != Route::PubSub {
        return Vec::new();
    }
    match s.name {
        "publish" | "spublish" => vec![(1, false)],
        "subscribe" | "ssubscribe" => (1..args.len()).map(|i| (i, false)).collect(),
        "psubscribe" => (1..args.len()).map(|i| (i, true)).collect(),
        _ => Vec::new(),
    }
}

/// The Redis release whose behaviour tandem matches; clients and tools read
/// it from HELLO, INFO and scripts' `redis.REDIS_VERSION`.
pub const REDIS_VERSION: &str = "7.0.15";

/// Longest command name in the table, for allocation-free lookups.
const MAX_NAME: usize = 32;

fn index() -> &'static hashbrown::HashMap<&'static [u8], CmdId> {
    // hashbrown's default hasher (foldhash): command lookup is on the hot path.
    static INDEX: OnceLock<hashbrown::HashMap<&'static [u8], CmdId>> = OnceLock::new();
    INDEX.get_or_init(|| {
        TABLE
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes(), i as CmdId))
            .collect()
    })
}

/// Finds a command by name, case-insensitively, without allocating.
pub fn lookup(name: &[u8]) -> Option<CmdId> {
    if name.len() > MAX_NAME {
        return None;
    }
    let mut buf = [0u8; MAX_NAME];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    index().get(&*lower).copied()
}

/// The spec of a command id returned by [`lookup`].
#[inline]
pub fn get(id: CmdId) -> &'static CommandSpec {
    &TABLE[id as usize]
}

/// Redis Cluster hash slot of a key: CRC16 (XMODEM) of the `{hashtag}` if the
/// key has a non-empty one, else of the whole key, modulo 16384
/// (<https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/>).
pub fn key_slot(key: &[u8]) -> u16 {
    static CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_XMODEM);
    let tagged = match memchr::memchr(b'{', key) {
        Some(open) => match memchr::memchr(b'}', &key[open + 1..]) {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    CRC.checksum(tagged) & 16383
}

/// The shard owning a hash slot when `shards` shards split the 16384 slots
/// into contiguous ranges, as cluster nodes do.
#[inline]
pub fn slot_shard(slot: u16, shards: usize) -> usize {
    slot as usize * shards / 16384
}

/// The shard owning `key`.
#[inline]
pub fn key_shard(key: &[u8], shards: usize) -> usize {
    if shards == 1 {
        0
    } else {
        slot_shard(key_slot(key), shards)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    #[test]
    fn lookup_and_keys() {
        let id = lookup(b"MsEt").unwrap();
        let s = get(id);
        assert_eq!(s.name, "mset");
        assert_eq!(s.key_indices(5).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(
            get(lookup(b"del").unwrap())
                .key_indices(4)
                .collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(get(lookup(b"ping").unwrap()).key_indices(2).count(), 0);
        assert!(lookup(b"nosuch").is_none());
        let names: std::collections::HashSet<_> = TABLE.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), TABLE.len(), "duplicate command name");
    }
}

/// Bits 16..40 of every [`key_hash`], always zero, so a keyspace entry can
/// keep its access clock there beside the hash (see `crate::store::Entry`).
/// Tables index buckets with the low bits (a segment's table stays far
/// below 2^16 buckets), segments use bits 40..56 and the table's tags the
/// top 7: none of them read these.
pub const HASH_SPARE_BITS: u64 = 0xFF_FFFF << HASH_SPARE_SHIFT;
/// Position of [`HASH_SPARE_BITS`].
pub const HASH_SPARE_SHIFT: u32 = 16;

/// The 64-bit keyspace hash of a key, the same on every thread of the
/// process (foldhash with a per-process random seed, so keys chosen by a
/// client cannot be made to collide), with [`HASH_SPARE_BITS`] cleared. IO
/// threads compute it once per key and shards use it for their tables; the
/// shard index comes from the hash slot, not from these bits.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    key_fp(key) & !HASH_SPARE_BITS
}

/// A key's full 64-bit fingerprint (the hash [`key_hash`] is cut from):
/// what the transaction layer's lock table and WATCH index keys by. Two
/// keys with one fingerprint only make their locks conflict (they wait for
/// each other: correct, just serial), as in Dragonfly's `LockFp`.
#[inline]
pub fn key_fp(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    STATE
        .get_or_init(|| foldhash::fast::FixedState::with_seed(fastrand::u64(..)))
        .hash_one(key)
}
