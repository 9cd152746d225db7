//! Redis 7.0's key specifications (`src/commands/*.json`'s `key_specs`)
//! for every command and subcommand that names keys, and the search that
//! finds a call's keys with them (`getKeysUsingKeySpecs` in `db.c`,
//! with the `getkeys_proc`s Redis falls back to). COMMAND INFO shows the
//! specs; COMMAND GETKEYS and GETKEYSANDFLAGS, and the ACL key checks,
//! use the search.

use super::{ACL_COMMANDS, AclId, CmdId};

/// Key-spec flags, in the order COMMAND INFO lists them
/// (`addReplyFlagsForKeyArgs`).
pub mod kflag {
    pub const RO: u16 = 1 << 0;
    pub const RW: u16 = 1 << 1;
    pub const OW: u16 = 1 << 2;
    pub const RM: u16 = 1 << 3;
    pub const ACCESS: u16 = 1 << 4;
    pub const UPDATE: u16 = 1 << 5;
    pub const INSERT: u16 = 1 << 6;
    pub const DELETE: u16 = 1 << 7;
    pub const NOT_KEY: u16 = 1 << 8;
    pub const INCOMPLETE: u16 = 1 << 9;
    pub const VARIABLE_FLAGS: u16 = 1 << 10;
    /// Each flag's name, bit `i` named by `NAMES[i]`.
    pub const NAMES: [&str; 11] = [
        "RO",
        "RW",
        "OW",
        "RM",
        "access",
        "update",
        "insert",
        "delete",
        "not_key",
        "incomplete",
        "variable_flags",
    ];
}

/// Where the search for a spec's keys begins.
#[derive(Clone, Copy, Debug)]
pub enum Begin {
    /// At this argument.
    Index(i32),
    /// After this keyword, searched from `startfrom` (negative: from the
    /// end, backwards).
    Keyword(&'static str, i32),
    Unknown,
}

/// How the keys follow the beginning.
#[derive(Clone, Copy, Debug)]
pub enum Find {
    /// Up to `lastkey` (negative: from the end; with a `limit`, that part
    /// of what remains), every `step`.
    Range {
        lastkey: i32,
        step: i32,
        limit: i32,
    },
    /// A count at `index`, the keys from `first` after the beginning.
    Keynum {
        index: i32,
        first: i32,
        step: i32,
    },
    Unknown,
}

/// One key specification.
#[derive(Clone, Copy, Debug)]
pub struct KeySpec {
    pub notes: &'static str,
    /// [`kflag`] bits.
    pub flags: u16,
    pub begin: Begin,
    pub find: Find,
}

use kflag::*;

/// Every command and subcommand with key specs, sorted by full name.
const KEY_SPECS: &[(&str, &[KeySpec])] = &[
    (
        "append",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "bitcount",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "bitfield",
        &[KeySpec {
            notes: "This command allows both access and modification of the key",
            flags: RW | ACCESS | UPDATE | VARIABLE_FLAGS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "bitfield_ro",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "bitop",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(3),
                find: Find::Range {
                    lastkey: -1,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "bitpos",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "blmove",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "blmpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "blpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -2,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "brpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -2,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "brpoplpush",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "bzmpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "bzpopmax",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -2,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "bzpopmin",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -2,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "copy",
        &[
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "decr",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "decrby",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "del",
        &[KeySpec {
            notes: "",
            flags: RM | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "dump",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "eval",
        &[KeySpec {
            notes: "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "eval_ro",
        &[KeySpec {
            notes: "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS",
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "evalsha",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "evalsha_ro",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "exists",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "expire",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "expireat",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "expiretime",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "fcall",
        &[KeySpec {
            notes: "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "fcall_ro",
        &[KeySpec {
            notes: "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS",
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "geoadd",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "geodist",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "geohash",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "geopos",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "georadius",
        &[
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Keyword("STORE", 6),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Keyword("STOREDIST", 6),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "georadius_ro",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "georadiusbymember",
        &[
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Keyword("STORE", 5),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Keyword("STOREDIST", 5),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "georadiusbymember_ro",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "geosearch",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "geosearchstore",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "get",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "getbit",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "getdel",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "getex",
        &[KeySpec {
            notes: "RW and UPDATE because it changes the TTL",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "getrange",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "getset",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hdel",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hexists",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hget",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hgetall",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hincrby",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hincrbyfloat",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hkeys",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hlen",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hmget",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hmset",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hrandfield",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hscan",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hset",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hsetnx",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hstrlen",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "hvals",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "incr",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "incrby",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "incrbyfloat",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lcs",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lindex",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "linsert",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "llen",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lmove",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "lmpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "lpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lpos",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lpush",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lpushx",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lrange",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lrem",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "lset",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "ltrim",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "memory|usage",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "mget",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "migrate",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(3),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE | INCOMPLETE,
                begin: Begin::Keyword("KEYS", -2),
                find: Find::Range {
                    lastkey: -1,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "move",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "mset",
        &[KeySpec {
            notes: "",
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 2,
                limit: 0,
            },
        }],
    ),
    (
        "msetnx",
        &[KeySpec {
            notes: "",
            flags: OW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 2,
                limit: 0,
            },
        }],
    ),
    (
        "object|encoding",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "object|freq",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "object|idletime",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "object|refcount",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "persist",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pexpire",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pexpireat",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pexpiretime",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pfadd",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pfcount",
        &[KeySpec {
            notes: "RW because it may change the internal representation of the key, and propagate to replicas",
            flags: RW | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pfdebug",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pfmerge",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | INSERT,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: -1,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "psetex",
        &[KeySpec {
            notes: "",
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "pttl",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "rename",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "renamenx",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: OW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "restore",
        &[KeySpec {
            notes: "",
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "restore-asking",
        &[KeySpec {
            notes: "",
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "rpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "rpoplpush",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "rpush",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "rpushx",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sadd",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "scard",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sdiff",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sdiffstore",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: -1,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "set",
        &[KeySpec {
            notes: "RW and ACCESS due to the optional `GET` argument",
            flags: RW | ACCESS | UPDATE | VARIABLE_FLAGS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "setbit",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "setex",
        &[KeySpec {
            notes: "",
            flags: OW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "setnx",
        &[KeySpec {
            notes: "",
            flags: OW | INSERT,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "setrange",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sinter",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sintercard",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "sinterstore",
        &[
            KeySpec {
                notes: "",
                flags: RW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: -1,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "sismember",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "smembers",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "smismember",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "smove",
        &[
            KeySpec {
                notes: "",
                flags: RW | ACCESS | DELETE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RW | INSERT,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "sort",
        &[
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
                flags: RO | ACCESS,
                begin: Begin::Unknown,
                find: Find::Unknown,
            },
            KeySpec {
                notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
                flags: OW | UPDATE,
                begin: Begin::Unknown,
                find: Find::Unknown,
            },
        ],
    ),
    (
        "sort_ro",
        &[
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
                flags: RO | ACCESS,
                begin: Begin::Unknown,
                find: Find::Unknown,
            },
        ],
    ),
    (
        "spop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "spublish",
        &[KeySpec {
            notes: "",
            flags: NOT_KEY,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "srandmember",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "srem",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sscan",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "ssubscribe",
        &[KeySpec {
            notes: "",
            flags: NOT_KEY,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "strlen",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "substr",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sunion",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "sunionstore",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: -1,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "sunsubscribe",
        &[KeySpec {
            notes: "",
            flags: NOT_KEY,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "touch",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "ttl",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "type",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "unlink",
        &[KeySpec {
            notes: "",
            flags: RM | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "watch",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xack",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xadd",
        &[KeySpec {
            notes: "UPDATE instead of INSERT because of the optional trimming feature",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xautoclaim",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xclaim",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xdel",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xgroup|create",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xgroup|createconsumer",
        &[KeySpec {
            notes: "",
            flags: RW | INSERT,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xgroup|delconsumer",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xgroup|destroy",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xgroup|setid",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xinfo|consumers",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xinfo|groups",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xinfo|stream",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(2),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xlen",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xpending",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xrange",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xread",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Keyword("STREAMS", 1),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 2,
            },
        }],
    ),
    (
        "xreadgroup",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Keyword("STREAMS", 4),
            find: Find::Range {
                lastkey: -1,
                step: 1,
                limit: 2,
            },
        }],
    ),
    (
        "xrevrange",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xsetid",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "xtrim",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zadd",
        &[KeySpec {
            notes: "",
            flags: RW | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zcard",
        &[KeySpec {
            notes: "",
            flags: RO,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zcount",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zdiff",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "zdiffstore",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Keynum {
                    index: 0,
                    first: 1,
                    step: 1,
                },
            },
        ],
    ),
    (
        "zincrby",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | UPDATE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zinter",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "zintercard",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "zinterstore",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Keynum {
                    index: 0,
                    first: 1,
                    step: 1,
                },
            },
        ],
    ),
    (
        "zlexcount",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zmpop",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "zmscore",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zpopmax",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zpopmin",
        &[KeySpec {
            notes: "",
            flags: RW | ACCESS | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrandmember",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrange",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrangebylex",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrangebyscore",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrangestore",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
        ],
    ),
    (
        "zrank",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrem",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zremrangebylex",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zremrangebyrank",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zremrangebyscore",
        &[KeySpec {
            notes: "",
            flags: RW | DELETE,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrevrange",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrevrangebylex",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrevrangebyscore",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zrevrank",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zscan",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zscore",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Range {
                lastkey: 0,
                step: 1,
                limit: 0,
            },
        }],
    ),
    (
        "zunion",
        &[KeySpec {
            notes: "",
            flags: RO | ACCESS,
            begin: Begin::Index(1),
            find: Find::Keynum {
                index: 0,
                first: 1,
                step: 1,
            },
        }],
    ),
    (
        "zunionstore",
        &[
            KeySpec {
                notes: "",
                flags: OW | UPDATE,
                begin: Begin::Index(1),
                find: Find::Range {
                    lastkey: 0,
                    step: 1,
                    limit: 0,
                },
            },
            KeySpec {
                notes: "",
                flags: RO | ACCESS,
                begin: Begin::Index(2),
                find: Find::Keynum {
                    index: 0,
                    first: 1,
                    step: 1,
                },
            },
        ],
    ),
];

/// The key specs of ACL command `a` (a command or subcommand), none if
/// it names no keys.
pub fn of(a: AclId) -> &'static [KeySpec] {
    // Indexed once by ACL id: the ACL checks look this up per command.
    static BY_ID: std::sync::OnceLock<Vec<&'static [KeySpec]>> = std::sync::OnceLock::new();
    let by_id = BY_ID.get_or_init(|| {
        ACL_COMMANDS
            .iter()
            .map(|(name, _, _)| {
                KEY_SPECS
                    .binary_search_by(|(n, _)| n.cmp(name))
                    .map_or(&[][..], |i| KEY_SPECS[i].1)
            })
            .collect()
    });
    by_id.get(a as usize).copied().unwrap_or(&[])
}

/// A call's keys: (argument index, [`kflag`] bits).
pub type Keys = smallvec::SmallVec<[(usize, u16); 4]>;

/// The [`super::access`] a key with flags `f` needs: ACCESS reads,
/// INSERT, DELETE and UPDATE write (`ACLSelectorCheckKey`).
#[inline]
pub fn access(f: u16) -> u8 {
    let read = if f & ACCESS != 0 {
        super::access::READ
    } else {
        0
    };
    let write = if f & (INSERT | DELETE | UPDATE) != 0 {
        super::access::WRITE
    } else {
        0
    };
    read | write
}

/// Whether command `a` names keys at all (`doesCommandHaveKeys`): a spec
/// that is not `not_key`, or a key-finding procedure.
pub fn has_keys(a: AclId) -> bool {
    of(a).iter().any(|s| s.flags & NOT_KEY == 0)
}

/// The keys of a call of ACL command `a` with `args` (name first), as
/// Redis's `getKeysFromCommandWithSpecs` finds them: the specs unless
/// one is unknown or incomplete, or the flags vary with the arguments;
/// then the command's own procedure (SET, BITFIELD, SORT, SORT_RO,
/// MIGRATE), and none for the others. `not_key` specs (a shard channel)
/// are skipped.
pub fn find(id: CmdId, a: AclId, args: &[&[u8]]) -> Keys {
    let specs = of(a);
    let varflags = specs.iter().any(|s| s.flags & VARIABLE_FLAGS != 0);
    if !varflags {
        if let Some(keys) = by_specs(id, specs, args) {
            return keys;
        }
    }
    let name = ACL_COMMANDS.get(a as usize).map_or("", |(n, _, _)| *n);
    by_procedure(name, args)
}

/// `getKeysUsingKeySpecs` with `GET_KEYSPEC_DEFAULT`: None where Redis
/// returns -1 (an unknown or incomplete spec, a bad count, a range past
/// the arguments).
fn by_specs(id: CmdId, specs: &[KeySpec], args: &[&[u8]]) -> Option<Keys> {
    let argc = args.len() as i64;
    let mut out = Keys::new();
    for spec in specs {
        if spec.flags & NOT_KEY != 0 {
            continue;
        }
        let mut first: i64 = match spec.begin {
            Begin::Index(i) => i as i64,
            Begin::Keyword(kw, from) => {
                let from = from as i64;
                let start = if from > 0 { from } else { argc + from };
                let end = if from > 0 { argc - 1 } else { 1 };
                let mut found = 0;
                let mut i = start;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if args[i as usize].eq_ignore_ascii_case(kw.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            Begin::Unknown => return None,
        };
        let (last, step) = match spec.find {
            Find::Range {
                lastkey,
                step,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit == 0 {
                    argc + lastkey as i64
                } else {
                    first + ((argc - first) / limit as i64 + lastkey as i64)
                };
                (last, step as i64)
            }
            Find::Keynum {
                index,
                first: fk,
                step,
            } => {
                let at = first + index as i64;
                if index as i64 >= argc || at >= argc || at < 0 {
                    return None;
                }
                let n = crate::resp::parse::parse_i64(args[at as usize]).filter(|&n| n >= 0)?;
                first += fk as i64;
                (first.saturating_add(n) - 1, step as i64)
            }
            Find::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            if i < argc && i >= first {
                out.push((i as usize, spec.flags));
            } else if super::get(id).arity >= 0 {
                return None;
            }
            i += step.max(1);
        }
        if spec.flags & INCOMPLETE != 0 {
            return None;
        }
    }
    Some(out)
}

/// The `getkeys_proc`s whose answer differs from the specs': SET's and
/// BITFIELD's flags, SORT's STORE, MIGRATE's KEYS. Others find nothing
/// where their specs failed (a bad count).
fn by_procedure(name: &str, args: &[&[u8]]) -> Keys {
    let is = |a: &[u8], w: &str| a.eq_ignore_ascii_case(w.as_bytes());
    let mut out = Keys::new();
    match name {
        "set" => {
            let get = args.iter().skip(3).any(|a| is(a, "get"));
            out.push((
                1,
                if get {
                    RW | ACCESS | UPDATE
                } else {
                    OW | UPDATE
                },
            ));
        }
        "bitfield" => {
            let mut readonly = true;
            let mut i = 2;
            while i < args.len() {
                let rem = args.len() - i - 1;
                let a = args[i];
                if is(a, "get") && rem >= 2 {
                    i += 2;
                } else if (is(a, "set") || is(a, "incrby")) && rem >= 3 {
                    readonly = false;
                    break;
                } else if is(a, "overflow") && rem >= 1 {
                    i += 1;
                } else {
                    // A syntax error: safer to assume a write, as Redis.
                    readonly = false;
                    break;
                }
                i += 1;
            }
            out.push((
                1,
                if readonly {
                    RO | ACCESS
                } else {
                    RW | ACCESS | UPDATE
                },
            ));
        }
        "sort_ro" => out.push((1, RO | ACCESS)),
        "sort" => {
            out.push((1, RO | ACCESS));
            // `sortGetKeys`: LIMIT skips two, GET and BY one; the last
            // STORE with an argument after it names the destination.
            let mut store = None;
            let mut i = 2;
            while i < args.len() {
                let a = args[i];
                if is(a, "limit") {
                    i += 2;
                } else if is(a, "get") || is(a, "by") {
                    i += 1;
                } else if is(a, "store") && i + 1 < args.len() {
                    store = Some(i + 1);
                }
                i += 1;
            }
            out.extend(store.map(|p| (p, OW | UPDATE)));
        }
        "migrate" => {
            let (mut first, mut num) = (3, 1);
            if args.len() > 6 {
                let mut i = 6;
                while i < args.len() {
                    let a = args[i];
                    if is(a, "keys") {
                        if !args[3].is_empty() {
                            num = 0;
                        } else {
                            first = i + 1;
                            num = args.len() - first;
                        }
                        break;
                    }
                    if is(a, "auth") {
                        i += 1;
                    } else if is(a, "auth2") {
                        i += 2;
                    }
                    i += 1;
                }
            }
            out.extend((first..first + num).map(|p| (p, RW | ACCESS | DELETE)));
        }
        _ => {}
    }
    out
}
