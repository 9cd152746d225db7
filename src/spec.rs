//! The command table: every command's name, arity, flags, key positions,
//! routing class and documentation, shared by both stages.
//!
//! A leaf module with no state: IO threads use it to check arity, find keys
//! and pick shards; engines index their handler table by [`CmdId`]; the
//! `COMMAND` replies (COUNT, INFO, DOCS, LIST) are generated from it. Arity
//! and key positions follow Redis 7's `src/commands/*.json` (arity N means
//! exactly N arguments including the name, -N means at least N).

use std::sync::OnceLock;

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
    /// Every flag with its COMMAND INFO name.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (FAST, "fast"),
        (NOSCRIPT, "noscript"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (NO_AUTH, "no_auth"),
        (MOVABLEKEYS, "movablekeys"),
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
    pub fn key_indices(&self, argc: usize) -> impl Iterator<Item = usize> {
        let first = self.first_key.max(0) as usize;
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

    pub fn is(&self, f: u32) -> bool {
        self.flags & f != 0
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
            group: $group,
            since: $since,
            route: $route,
            summary: $sum,
        }
    };
}

/// The command table. Order is irrelevant; [`lookup`] finds by name.
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
        READONLY,
        2,
        2,
        1,
        "generic",
        "2.2.3",
        R::Key,
        "A container for object introspection commands."
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
        NOSCRIPT | LOADING | STALE,
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
        LOADING | STALE,
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
        "config",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
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
];

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

/// The 64-bit keyspace hash of a key, the same on every thread of the
/// process (foldhash with a per-process random seed, so keys chosen by a
/// client cannot be made to collide). IO threads compute it once per key and
/// shards use it for their tables; the shard index comes from the hash slot,
/// not from these bits.
#[inline]
pub fn key_hash(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    STATE
        .get_or_init(|| foldhash::fast::FixedState::with_seed(fastrand::u64(..)))
        .hash_one(key)
}
