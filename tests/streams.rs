//! Streams (XADD XRANGE XREVRANGE XLEN XDEL XTRIM XREAD XREADGROUP XGROUP
//! XACK XCLAIM XAUTOCLAIM XPENDING XINFO XSETID) against redis-server 7.0:
//! a script of every option and error diffed byte for byte in three
//! layouts and both protocols, with streams on three shards (XREAD and
//! XREADGROUP over them, RENAME and COPY between them); XINFO STREAM
//! [FULL], GROUPS and CONSUMERS field by field without their clocks;
//! seeded random adds, trims, deletes and ranges over small listpack nodes,
//! diffed against redis-server and checked against an in-test model;
//! blocking reads woken across shards, in FIFO order, by timeouts, by a
//! destroyed group or a deleted key; DUMP payloads with groups, consumers
//! and pending entries moving both ways. Every wait is bounded.

mod common;
use common::*;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use redis::Value;

/// Small listpack nodes on both servers (Redis's default is 100 entries),
/// so that node splits and `~` trims, which only drop whole nodes, happen
/// within a few entries.
const SMALL_NODES: &[&str] = &["--stream-node-max-entries", "4"];

/// Every command's reply is compared byte for byte, so nothing here
/// answers with a time: ids are explicit (an auto id is the clock),
/// extended XPENDING appears only where its IDLE filter leaves nothing,
/// XINFO STREAM and CONSUMERS only where they fail (the rest is
/// `xinfo_matches_redis_without_clocks`; XINFO GROUPS has no clock), and
/// XCLAIM's min-idle-time is 0 (always met) or 100000000 ms (never met,
/// unless TIME put the delivery in 1970).
const SCRIPT: &[&[&str]] = &[
    &["FLUSHALL"],
    // XADD: explicit ids, partial ids, errors.
    &["XADD", "st", "1-1", "name", "alice", "age", "30"],
    &["XADD", "st", "1-2", "name", "bob"],
    &["XADD", "st", "1-2", "name", "dup"],
    &["XADD", "st", "1-1", "name", "older"],
    &["XADD", "st", "0-5", "x", "y"],
    &["XADD", "st", "0-0", "x", "y"],
    &["XADD", "fresh", "0-0", "x", "y"],
    &["XADD", "fresh", "0", "x", "y"],
    &["XADD", "fresh", "0-*", "x", "y"],
    &["EXISTS", "fresh"],
    &["XADD", "st", "2-*", "k", "v"],
    &["XADD", "st", "2-*", "k", "v2"],
    &["XADD", "st", "1-*", "k", "v"],
    &["XADD", "st", "2", "k", "v"],
    &["XADD", "st", "3", "k", "v"],
    &["XADD", "st", "4-0", "f", "v", "f2"],
    &["XADD", "st", "4-0", "f"],
    &["XADD", "st", "4-0"],
    &["XADD", "st"],
    &["XADD", "st", "4-0", "f", "v", "f", "v", "f", "v"],
    &[
        "XADD",
        "st",
        "5-0",
        "n",
        "12",
        "neg",
        "-5",
        "big",
        "123456789012345",
        "max",
        "9223372036854775807",
        "over",
        "9223372036854775808",
        "zero",
        "007",
        "minus",
        "-0",
        "float",
        "1.5",
        "empty",
        "",
    ],
    &["XADD", "st", "6-0", "", ""],
    &["XADD", "st", "abc", "f", "v"],
    &["XADD", "st", "7-abc", "f", "v"],
    &["XADD", "st", "-1", "f", "v"],
    &["XADD", "st", "7-x*", "f", "v"],
    &["XADD", "st", "18446744073709551616-0", "f", "v"],
    &["XADD", "st", "7-18446744073709551616", "f", "v"],
    &["XADD", "st", ">", "f", "v"],
    &["XADD", "st", "+", "f", "v"],
    &["XADD", "st", "-", "f", "v"],
    &["XADD", "st", "$", "f", "v"],
    &["XADD", "st", "(7", "f", "v"],
    &["XRANGE", "st", "-", "+"],
    &["XLEN", "st"],
    // NOMKSTREAM.
    &["XADD", "nokey", "NOMKSTREAM", "1-1", "x", "y"],
    &["EXISTS", "nokey"],
    &["XADD", "st", "NOMKSTREAM", "7-0", "x", "y"],
    &["XADD", "st", "NOMKSTREAM", "NOMKSTREAM", "7-1", "x", "y"],
    &["XADD", "st", "nomkstream", "7-2", "x", "y"],
    // Trimming options of XADD (stream-node-max-entries is 4).
    &["XADD", "tr", "1-0", "a", "1"],
    &["XADD", "tr", "2-0", "a", "2"],
    &["XADD", "tr", "3-0", "a", "3"],
    &["XADD", "tr", "4-0", "a", "4"],
    &["XADD", "tr", "5-0", "a", "5"],
    &["XADD", "tr", "6-0", "a", "6"],
    &["XADD", "tr", "7-0", "a", "7"],
    &["XADD", "tr", "8-0", "a", "8"],
    &["XADD", "tr", "9-0", "a", "9"],
    &["XADD", "tr", "MAXLEN", "8", "10-0", "a", "10"],
    &["XRANGE", "tr", "-", "+"],
    &["XADD", "tr", "MAXLEN", "=", "6", "11-0", "a", "11"],
    &["XRANGE", "tr", "-", "+", "COUNT", "2"],
    &["XLEN", "tr"],
    &["XADD", "tr", "MAXLEN", "~", "2", "12-0", "a", "12"],
    &["XLEN", "tr"],
    &["XRANGE", "tr", "-", "+"],
    &[
        "XADD", "tr", "MAXLEN", "~", "2", "LIMIT", "1", "13-0", "a", "13",
    ],
    &["XLEN", "tr"],
    &[
        "XADD", "tr", "MAXLEN", "~", "2", "LIMIT", "100", "14-0", "a", "14",
    ],
    &["XLEN", "tr"],
    &["XRANGE", "tr", "-", "+"],
    &[
        "XADD", "tr", "MAXLEN", "~", "0", "LIMIT", "0", "15-0", "a", "15",
    ],
    &["XLEN", "tr"],
    &["XADD", "tr", "MINID", "13", "16-0", "a", "16"],
    &["XRANGE", "tr", "-", "+"],
    &["XADD", "tr", "MINID", "=", "14-0", "17-0", "a", "17"],
    &["XADD", "tr", "MINID", "~", "16-0", "18-0", "a", "18"],
    &[
        "XADD", "tr", "MINID", "~", "17", "LIMIT", "4", "19-0", "a", "19",
    ],
    &["XRANGE", "tr", "-", "+"],
    &[
        "XADD", "tr", "MAXLEN", "2", "LIMIT", "10", "20-0", "a", "20",
    ],
    &[
        "XADD", "tr", "MAXLEN", "=", "2", "LIMIT", "10", "20-0", "a", "20",
    ],
    &["XADD", "tr", "LIMIT", "10", "20-0", "a", "20"],
    &["XADD", "tr", "MAXLEN", "-1", "20-0", "a", "20"],
    &["XADD", "tr", "MAXLEN", "abc", "20-0", "a", "20"],
    &[
        "XADD",
        "tr",
        "MAXLEN",
        "9223372036854775808",
        "20-0",
        "a",
        "20",
    ],
    &["XADD", "tr", "MAXLEN", "==", "2", "20-0", "a", "20"],
    &[
        "XADD", "tr", "MAXLEN", "~", "2", "LIMIT", "-1", "20-0", "a", "20",
    ],
    &[
        "XADD", "tr", "MAXLEN", "~", "2", "LIMIT", "x", "20-0", "a", "20",
    ],
    &["XADD", "tr", "MAXLEN", "2", "MINID", "0", "20-0", "a", "20"],
    &["XADD", "tr", "MINID", "1", "MINID", "2", "20-0", "a", "20"],
    &["XADD", "tr", "MINID", "abc", "20-0", "a", "20"],
    &["XADD", "tr", "MINID", "20-*", "20-0", "a", "20"],
    &["XADD", "tr", "MAXLEN"],
    &["XADD", "tr", "MAXLEN", "5"],
    &["XADD", "tr", "FOO", "20-0", "a", "20"],
    &[
        "XADD", "tr", "LIMIT", "5", "MAXLEN", "~", "10", "20-0", "a", "20",
    ],
    &[
        "XADD",
        "tr",
        "maxlen",
        "~",
        "10",
        "limit",
        "5",
        "nomkstream",
        "21-0",
        "a",
        "21",
    ],
    &["XADD", "tr", "MINID", "100", "22-0", "a", "22"],
    &["XLEN", "tr"],
    &["EXISTS", "tr"],
    &["XRANGE", "tr", "-", "+"],
    &["XADD", "tr", "22-0", "again", "x"],
    &["XADD", "tr", "22-1", "again", "x"],
    &["XADD", "tr", "MAXLEN", "0", "23-0", "a", "23"],
    &["XLEN", "tr"],
    &["XADD", "zero", "MAXLEN", "0", "1-0", "a", "b"],
    &["EXISTS", "zero"],
    &["XLEN", "zero"],
    &["XRANGE", "zero", "-", "+"],
    // The last possible id.
    &[
        "XADD",
        "top",
        "18446744073709551615-18446744073709551614",
        "f",
        "v",
    ],
    &["XADD", "top", "18446744073709551615-*", "f", "v"],
    &["XADD", "top", "18446744073709551615-*", "f", "v"],
    &[
        "XADD",
        "top",
        "18446744073709551615-18446744073709551615",
        "f",
        "v",
    ],
    &["XADD", "top", "MAXLEN", "1", "1-0", "f", "v"],
    &["XLEN", "top"],
    &["XRANGE", "top", "18446744073709551615", "+"],
    &[
        "XRANGE",
        "top",
        "-",
        "18446744073709551615-18446744073709551614",
    ],
    // XRANGE / XREVRANGE.
    &["XADD", "r", "1-1", "a", "1"],
    &["XADD", "r", "1-2", "b", "2"],
    &["XADD", "r", "2-0", "c", "3"],
    &["XADD", "r", "3-5", "d", "4"],
    &["XADD", "r", "3-6", "e", "5"],
    &["XADD", "r", "3-7", "f", "6"],
    &["XRANGE", "r", "-", "+"],
    &["XRANGE", "r", "-", "+", "COUNT", "2"],
    &["XRANGE", "r", "-", "+", "COUNT", "0"],
    &["XRANGE", "r", "-", "+", "COUNT", "-1"],
    &["XRANGE", "r", "-", "+", "COUNT", "abc"],
    &["XRANGE", "r", "-", "+", "COUNT"],
    &["XRANGE", "r", "-", "+", "COUNT", "1", "COUNT", "3"],
    &["XRANGE", "r", "-", "+", "count", "1"],
    &["XRANGE", "r", "-", "+", "LIMIT", "2"],
    &["XRANGE", "r", "-", "+", "COUNT", "9223372036854775807"],
    &["XRANGE", "r", "-", "+", "COUNT", "9223372036854775808"],
    &["XRANGE", "r", "1", "1"],
    &["XRANGE", "r", "3", "3"],
    &["XRANGE", "r", "0", "+"],
    &["XRANGE", "r", "2", "2"],
    &["XRANGE", "r", "1-2", "+"],
    &["XRANGE", "r", "(1-1", "+"],
    &["XRANGE", "r", "(1", "+"],
    &["XRANGE", "r", "(1-2", "(3-5"],
    &["XRANGE", "r", "-", "(3-6"],
    &["XRANGE", "r", "-", "(3"],
    &["XRANGE", "r", "(3-5", "(3-6"],
    &["XRANGE", "r", "(1-2", "(2-0"],
    &["XRANGE", "r", "(2", "3-6"],
    &["XRANGE", "r", "+", "-"],
    &["XRANGE", "r", "3", "1"],
    &["XRANGE", "r", "3-6", "3-5"],
    &["XRANGE", "r", "(0-0", "+"],
    &[
        "XRANGE",
        "r",
        "-",
        "(18446744073709551615-18446744073709551615",
    ],
    &[
        "XRANGE",
        "r",
        "(18446744073709551615-18446744073709551615",
        "+",
    ],
    &["XRANGE", "r", "-", "(0-0"],
    &["XRANGE", "r", "(18446744073709551615", "+"],
    &["XRANGE", "r", "-", "(0"],
    &["XRANGE", "r", "18446744073709551615", "+"],
    &["XRANGE", "r", "18446744073709551616", "+"],
    &["XRANGE", "r", "3-18446744073709551615", "+"],
    &["XRANGE", "r", "(-", "+"],
    &["XRANGE", "r", "-", "(+"],
    &["XRANGE", "r", "abc", "+"],
    &["XRANGE", "r", "-", "abc"],
    &["XRANGE", "r", "1-x", "+"],
    &["XRANGE", "r", "1-", "+"],
    &["XRANGE", "r", "-1", "+"],
    &["XRANGE", "r", "1-*", "+"],
    &["XRANGE", "r", "(", "+"],
    &["XRANGE", "r", "((1", "+"],
    &["XRANGE", "r", ">", "+"],
    &["XRANGE", "r", "$", "+"],
    &["XRANGE", "r"],
    &["XRANGE", "r", "-"],
    &["XRANGE", "r", "-", "+", "COUNT", "1", "extra"],
    &["XRANGE", "missing", "-", "+"],
    &["XRANGE", "missing", "-", "+", "COUNT", "0"],
    &["XREVRANGE", "r", "+", "-"],
    &["XREVRANGE", "r", "+", "-", "COUNT", "2"],
    &["XREVRANGE", "r", "+", "-", "COUNT", "0"],
    &["XREVRANGE", "r", "+", "-", "COUNT", "-5"],
    &["XREVRANGE", "r", "-", "+"],
    &["XREVRANGE", "r", "(3-7", "-"],
    &["XREVRANGE", "r", "3", "(1-1"],
    &["XREVRANGE", "r", "(3", "(1"],
    &["XREVRANGE", "r", "2", "2"],
    &["XREVRANGE", "r", "3", "3", "COUNT", "1"],
    &["XREVRANGE", "r", "(+", "-"],
    &["XREVRANGE", "r", "+", "(-"],
    &[
        "XREVRANGE",
        "r",
        "+",
        "(18446744073709551615-18446744073709551615",
    ],
    &["XREVRANGE", "r", "(0-0", "-"],
    &["XREVRANGE", "r", "+", "abc"],
    &["XREVRANGE", "r", "+"],
    &["XREVRANGE", "missing", "+", "-"],
    &["XLEN", "r"],
    &["XLEN", "missing"],
    &["XLEN", "r", "x"],
    &["XLEN"],
    // XDEL.
    &["XDEL", "r", "1-2"],
    &["XDEL", "r", "1-2"],
    &["XDEL", "r", "2-0", "9-9", "3-5", "2-0"],
    &["XDEL", "r", "1"],
    &["XDEL", "r", "3-*"],
    &["XDEL", "r", "abc"],
    &["XDEL", "r", "1-1", "abc"],
    &["XDEL", "r", "18446744073709551615-18446744073709551615"],
    &["XDEL", "r"],
    &["XDEL", "missing", "1-1"],
    &["XLEN", "r"],
    &["XRANGE", "r", "-", "+"],
    &["XREVRANGE", "r", "+", "-", "COUNT", "1"],
    &["XDEL", "r", "1-1", "3-6", "3-7"],
    &["XLEN", "r"],
    &["EXISTS", "r"],
    &["XRANGE", "r", "-", "+"],
    &["XADD", "r", "3-7", "f", "v"],
    &["XADD", "r", "3-8", "f", "v"],
    // XTRIM.
    &["XADD", "t", "1-0", "a", "1"],
    &["XADD", "t", "2-0", "a", "2"],
    &["XADD", "t", "3-0", "a", "3"],
    &["XADD", "t", "4-0", "a", "4"],
    &["XADD", "t", "5-0", "a", "5"],
    &["XADD", "t", "6-0", "a", "6"],
    &["XADD", "t", "7-0", "a", "7"],
    &["XADD", "t", "8-0", "a", "8"],
    &["XADD", "t", "9-0", "a", "9"],
    &["XADD", "t", "10-0", "a", "10"],
    &["XADD", "t", "11-0", "a", "11"],
    &["XTRIM", "t", "MAXLEN", "10"],
    &["XTRIM", "t", "MAXLEN", "10"],
    &["XTRIM", "t", "MAXLEN", "=", "9"],
    &["XTRIM", "t", "MAXLEN", "~", "5"],
    &["XLEN", "t"],
    &["XTRIM", "t", "MAXLEN", "~", "2", "LIMIT", "1"],
    &["XLEN", "t"],
    &["XTRIM", "t", "MAXLEN", "~", "2", "LIMIT", "4"],
    &["XLEN", "t"],
    &["XTRIM", "t", "MINID", "9"],
    &["XTRIM", "t", "MINID", "=", "10-0"],
    &["XTRIM", "t", "MINID", "~", "11"],
    &["XRANGE", "t", "-", "+"],
    &["XTRIM", "t", "MINID", "~", "11", "LIMIT", "0"],
    &["XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "0"],
    &["XTRIM", "t", "MINID", "0"],
    &[
        "XTRIM",
        "t",
        "MINID",
        "18446744073709551615-18446744073709551615",
    ],
    &["XLEN", "t"],
    &["EXISTS", "t"],
    &["XADD", "t", "1-0", "a", "1"],
    &["XADD", "t", "12-0", "a", "12"],
    &["XTRIM", "t", "MAXLEN", "1", "LIMIT", "1"],
    &["XTRIM", "t", "MAXLEN", "=", "1", "LIMIT", "1"],
    &["XTRIM", "t", "LIMIT", "1"],
    &["XTRIM", "t"],
    &["XTRIM", "t", "MAXLEN"],
    &["XTRIM", "t", "FOO", "1"],
    &["XTRIM", "t", "MAXLEN", "-1"],
    &["XTRIM", "t", "MAXLEN", "abc"],
    &["XTRIM", "t", "MINID", "abc"],
    &["XTRIM", "t", "MINID", "(5"],
    &["XTRIM", "t", "MINID", "-"],
    &["XTRIM", "t", "MINID", "+"],
    &["XTRIM", "t", "MINID", "5-*"],
    &["XTRIM", "t", "MAXLEN", "1", "MINID", "1"],
    &["XTRIM", "t", "MAXLEN", "~", "1", "LIMIT", "-1"],
    &["XTRIM", "t", "MAXLEN", "~", "1", "LIMIT", "x"],
    &["XTRIM", "t", "MAXLEN", "1", "NOMKSTREAM"],
    &["XTRIM", "t", "MAXLEN", "1", "20-0"],
    &["XTRIM", "t", "MAXLEN", "~", "1", "LIMIT", "1", "LIMIT", "2"],
    &["XTRIM", "t", "maxlen", "0"],
    &["XLEN", "t"],
    &["XTRIM", "missing", "MAXLEN", "1"],
    &["XTRIM", "missing", "MINID", "1"],
    &["EXISTS", "missing"],
    // XREAD over streams on several shards (a, b and c are on three shards).
    &["XADD", "a", "1-1", "f", "a1"],
    &["XADD", "a", "2-1", "f", "a2"],
    &["XADD", "b", "1-5", "g", "b1"],
    &["XADD", "c", "3-0", "h", "c1"],
    &["XREAD", "STREAMS", "a", "b", "c", "0", "0", "0"],
    &[
        "XREAD", "COUNT", "1", "STREAMS", "a", "b", "c", "0", "0", "0",
    ],
    &["XREAD", "COUNT", "0", "STREAMS", "a", "b", "0", "0"],
    &["XREAD", "COUNT", "-1", "STREAMS", "a", "0"],
    &["XREAD", "STREAMS", "a", "b", "c", "1-1", "1-5", "0"],
    &["XREAD", "STREAMS", "a", "b", "c", "2-1", "1-5", "3-0"],
    &["XREAD", "STREAMS", "a", "b", "c", "$", "$", "$"],
    &["XREAD", "STREAMS", "a", "missing", "c", "0", "0", "2"],
    &["XREAD", "STREAMS", "missing", "0"],
    &["XREAD", "STREAMS", "a", "a", "0", "1-1"],
    &["XREAD", "STREAMS", "c", "b", "a", "2", "1", "2"],
    &["XREAD", "STREAMS", "a", "1"],
    &["XREAD", "STREAMS", "a", "2"],
    &["XREAD", "streams", "a", "0"],
    &["XREAD", "COUNT", "1", "COUNT", "2", "STREAMS", "a", "0"],
    &[
        "XREAD",
        "STREAMS",
        "a",
        "18446744073709551615-18446744073709551615",
    ],
    &["XREAD", "STREAMS", "a", "b", "0"],
    &["XREAD", "STREAMS", "a", "b", "c", "0", "0"],
    &["XREAD", "STREAMS", "a"],
    &["XREAD", "STREAMS"],
    &["XREAD"],
    &["XREAD", "COUNT", "x", "STREAMS", "a", "0"],
    &["XREAD", "COUNT"],
    &["XREAD", "a", "0"],
    &["XREAD", "FOO", "STREAMS", "a", "0"],
    &["XREAD", "STREAMS", "a", "abc"],
    &["XREAD", "STREAMS", "a", ">"],
    &["XREAD", "STREAMS", "a", "+"],
    &["XREAD", "STREAMS", "a", "-"],
    &["XREAD", "STREAMS", "a", "(1"],
    &["XREAD", "STREAMS", "a", "1-*"],
    &["XREAD", "BLOCK", "x", "STREAMS", "a", "0"],
    &["XREAD", "BLOCK", "-1", "STREAMS", "a", "0"],
    &["XREAD", "BLOCK", "0", "STREAMS", "a", "b", "0", "0"],
    &[
        "XREAD", "BLOCK", "1000", "COUNT", "1", "STREAMS", "a", "1-1",
    ],
    &["XREAD", "NOACK", "STREAMS", "a", "0"],
    &["XREAD", "GROUP", "g", "c", "STREAMS", "a", "0"],
    // Consumer groups.
    &["XADD", "g", "1-0", "f", "1"],
    &["XADD", "g", "2-0", "f", "2"],
    &["XADD", "g", "3-0", "f", "3"],
    &["XADD", "g", "4-0", "f", "4"],
    &["XADD", "g", "5-0", "f", "5"],
    &["XGROUP", "CREATE", "g", "g1", "0"],
    &["XGROUP", "CREATE", "g", "g1", "0"],
    &["XGROUP", "CREATE", "g", "g2", "$"],
    &["XGROUP", "CREATE", "g", "g3", "2-0", "ENTRIESREAD", "2"],
    &["XGROUP", "CREATE", "g", "g4", "0", "ENTRIESREAD", "-1"],
    &["XGROUP", "CREATE", "g", "g5", "0", "ENTRIESREAD", "-2"],
    &["XGROUP", "CREATE", "g", "g5", "0", "ENTRIESREAD", "x"],
    &["XGROUP", "CREATE", "g", "g5", "0", "ENTRIESREAD"],
    &["XGROUP", "CREATE", "g", "g6", "3", "ENTRIESREAD", "99"],
    &[
        "XGROUP",
        "CREATE",
        "g",
        "g7",
        "0",
        "MKSTREAM",
        "ENTRIESREAD",
        "1",
    ],
    &["XGROUP", "CREATE", "g", "g8", "10-0"],
    &["XGROUP", "CREATE", "g", "g9", "0", "MKSTREAM", "MKSTREAM"],
    &["XGROUP", "CREATE", "g", "g10", "0", "FOO"],
    &["XGROUP", "CREATE", "g", "g10", "abc"],
    &["XGROUP", "CREATE", "g", "g10", ">"],
    &["XGROUP", "CREATE", "g", "g10", "+"],
    &["XGROUP", "CREATE", "g", "g10", "-"],
    &["XGROUP", "CREATE", "g", "g10", "1-*"],
    &["XGROUP", "CREATE", "g"],
    &["XGROUP", "CREATE", "g", "g10"],
    &["XGROUP", "create", "g", "g10", "$"],
    &["XINFO", "GROUPS", "g"],
    &["XGROUP", "CREATE", "missing", "g1", "0"],
    &["XGROUP", "CREATE", "mk", "g1", "$", "MKSTREAM"],
    &["XGROUP", "CREATE", "mk", "g1", "$", "MKSTREAM"],
    &["XGROUP", "CREATE", "mk", "g2", "5-0", "MKSTREAM"],
    &["EXISTS", "mk"],
    &["XLEN", "mk"],
    &["TYPE", "mk"],
    &["XRANGE", "mk", "-", "+"],
    &["XINFO", "GROUPS", "mk"],
    &["XGROUP"],
    &["XGROUP", "FOO"],
    &["XGROUP", "FOO", "g", "g1"],
    &["XGROUP", "HELP"],
    &["XGROUP", "help"],
    &["XGROUP", "HELP", "x"],
    &["XGROUP", "SETID", "g", "g1", "1-0"],
    &["XGROUP", "SETID", "g", "g1", "$"],
    &["XGROUP", "SETID", "g", "g2", "0", "ENTRIESREAD", "0"],
    &["XGROUP", "SETID", "g", "g3", "3-0", "ENTRIESREAD", "3"],
    &["XGROUP", "SETID", "g", "g4", "2-0", "ENTRIESREAD", "-1"],
    &["XGROUP", "SETID", "g", "g1", "0", "ENTRIESREAD", "-5"],
    &["XGROUP", "SETID", "g", "g1", "0", "ENTRIESREAD", "x"],
    &["XGROUP", "SETID", "g", "nog", "0"],
    &["XGROUP", "SETID", "missing", "g", "0"],
    &["XGROUP", "SETID", "g", "g1", "abc"],
    &["XGROUP", "SETID", "g", "g1", "0", "FOO"],
    &["XGROUP", "SETID", "g", "g1", "0", "ENTRIESREAD"],
    &["XGROUP", "SETID", "g", "g1", "0", "MKSTREAM"],
    &["XGROUP", "SETID", "g", "g1"],
    &["XINFO", "GROUPS", "g"],
    &["XGROUP", "CREATECONSUMER", "g", "g1", "alice"],
    &["XGROUP", "CREATECONSUMER", "g", "g1", "alice"],
    &["XGROUP", "CREATECONSUMER", "g", "g1", "zed"],
    &["XGROUP", "CREATECONSUMER", "g", "nog", "alice"],
    &["XGROUP", "CREATECONSUMER", "missing", "g1", "alice"],
    &["XGROUP", "CREATECONSUMER", "g", "g1"],
    &["XINFO", "GROUPS", "g"],
    &["XGROUP", "DELCONSUMER", "g", "g1", "zed"],
    &["XGROUP", "DELCONSUMER", "g", "g1", "zed"],
    &["XGROUP", "DELCONSUMER", "g", "nog", "alice"],
    &["XGROUP", "DELCONSUMER", "missing", "g1", "alice"],
    &["XGROUP", "DELCONSUMER", "g", "g1"],
    &["XGROUP", "DESTROY", "g", "g9"],
    &["XGROUP", "DESTROY", "g", "g9"],
    &["XGROUP", "DESTROY", "missing", "g1"],
    &["XGROUP", "DESTROY", "g"],
    &["XGROUP", "DESTROY", "g", "g9", "x"],
    &["XGROUP", "DESTROY", "g", "g7"],
    &["XGROUP", "DESTROY", "g", "g8"],
    &["XGROUP", "DESTROY", "g", "g6"],
    &["XGROUP", "DESTROY", "g", "g5"],
    &["XINFO", "GROUPS", "g"],
    // XREADGROUP, XACK, XPENDING.
    &["XGROUP", "SETID", "g", "g1", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "2",
        "STREAMS",
        "g",
        ">",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "bob",
        "COUNT",
        "1",
        "STREAMS",
        "g",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "g", "0"],
    &["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "g", "1-0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "g",
        "0",
    ],
    &["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "g", "0"],
    &["XREADGROUP", "GROUP", "g1", "carol", "STREAMS", "g", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "NOACK",
        "COUNT",
        "1",
        "STREAMS",
        "g",
        ">",
    ],
    &["XPENDING", "g", "g1"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "0",
        "STREAMS",
        "g",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "g", ">"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "STREAMS",
        "g",
        "18446744073709551615-18446744073709551615",
    ],
    &["XINFO", "GROUPS", "g"],
    &["XPENDING", "g", "g1"],
    &["XPENDING", "g", "g1", "-", "+", "10", "IDLE", "100000000"],
    &["XPENDING", "g", "g1", "IDLE", "100000000", "-", "+", "10"],
    &[
        "XPENDING",
        "g",
        "g1",
        "IDLE",
        "100000000",
        "-",
        "+",
        "10",
        "alice",
    ],
    &["XPENDING", "g", "g1", "-", "+", "10", "nobody"],
    &["XPENDING", "g", "g1", "-", "+", "0"],
    &["XPENDING", "g", "g1", "-", "+", "-1"],
    &["XPENDING", "g", "g1", "-", "+", "x"],
    &["XPENDING", "g", "g1", "-", "+"],
    &["XPENDING", "g", "g1", "-"],
    &["XPENDING", "g", "g1", "IDLE", "x", "-", "+", "10"],
    &["XPENDING", "g", "g1", "IDLE", "10"],
    &["XPENDING", "g", "g1", "abc", "+", "10"],
    &["XPENDING", "g", "g1", "-", "abc", "10"],
    &["XPENDING", "g", "g1", "(1", "+", "10", "IDLE", "100000000"],
    &["XPENDING", "g", "g1", "(5-0", "+", "10"],
    &["XPENDING", "g", "g1", "-", "(1-0", "10"],
    &["XPENDING", "g", "g1", "+", "-", "10"],
    &[
        "XPENDING",
        "g",
        "g1",
        "IDLE",
        "100000000",
        "-",
        "+",
        "10",
        "bob",
        "extra",
    ],
    &["XPENDING", "g", "nog"],
    &["XPENDING", "missing", "g1"],
    &["XPENDING", "g"],
    &["XPENDING", "mk", "g1"],
    &["XACK", "g", "g1", "1-0"],
    &["XACK", "g", "g1", "1-0", "5-0", "3-0", "99-0"],
    &["XACK", "g", "g1", "2-0", "2-0"],
    &["XACK", "g", "g1", "abc"],
    &["XACK", "g", "g1", "1-0", "abc"],
    &["XACK", "g", "nog", "1-0"],
    &["XACK", "missing", "g1", "1-0"],
    &["XACK", "g", "g1"],
    &["XPENDING", "g", "g1"],
    &["XINFO", "GROUPS", "g"],
    &["XGROUP", "DELCONSUMER", "g", "g1", "bob"],
    &["XGROUP", "DELCONSUMER", "g", "g1", "alice"],
    &["XPENDING", "g", "g1"],
    &["XINFO", "GROUPS", "g"],
    &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "g", ">"],
    &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "missing", ">"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c",
        "STREAMS",
        "g",
        "missing",
        ">",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "g", "$"],
    &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "g"],
    &["XREADGROUP", "GROUP", "g1", "STREAMS", "g", ">"],
    &["XREADGROUP", "STREAMS", "g", ">"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c",
        "COUNT",
        "1",
        "STREAMS",
        "g",
        "g",
        ">",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "g", "abc"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c",
        "BLOCK",
        "x",
        "STREAMS",
        "g",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "g", "+"],
    &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "g", "(1"],
    &["XREADGROUP", "GROUP", "g1", "c", "FOO", "STREAMS", "g", ">"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c1",
        "GROUP",
        "g1",
        "c2",
        "STREAMS",
        "g",
        "0",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c",
        "COUNT",
        "x",
        "STREAMS",
        "g",
        ">",
    ],
    &["XREADGROUP", "GROUP", "g1", "c", "STREAMS", "g", "g", "0"],
    &["XADD", "g", "6-0", "f", "6"],
    &["XADD", "g", "7-0", "f", "7"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c",
        "NOACK",
        "STREAMS",
        "g",
        ">",
    ],
    &["XPENDING", "g", "g1"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c",
        "BLOCK",
        "1000",
        "STREAMS",
        "g",
        "0",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "c",
        "BLOCK",
        "10",
        "NOACK",
        "STREAMS",
        "g",
        ">",
    ],
    // XREADGROUP over streams on several shards.
    &["XGROUP", "CREATE", "a", "grp", "0"],
    &["XGROUP", "CREATE", "b", "grp", "0"],
    &["XGROUP", "CREATE", "c", "grp", "$"],
    &[
        "XREADGROUP",
        "GROUP",
        "grp",
        "w",
        "STREAMS",
        "a",
        "b",
        "c",
        ">",
        ">",
        ">",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "grp",
        "w",
        "STREAMS",
        "a",
        "b",
        "c",
        "0",
        "0",
        "0",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "grp",
        "w",
        "STREAMS",
        "a",
        "b",
        "c",
        ">",
        ">",
        ">",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "grp",
        "w",
        "STREAMS",
        "a",
        "b",
        "nokey",
        ">",
        ">",
        ">",
    ],
    &["XADD", "c", "4-0", "h", "c2"],
    &[
        "XREADGROUP",
        "GROUP",
        "grp",
        "w",
        "COUNT",
        "5",
        "STREAMS",
        "c",
        "b",
        "a",
        ">",
        "0",
        "1-1",
    ],
    &["XPENDING", "a", "grp"],
    &["XPENDING", "b", "grp"],
    &["XPENDING", "c", "grp"],
    &["XINFO", "GROUPS", "c"],
    // XCLAIM.
    &["XADD", "cl", "1-0", "f", "1"],
    &["XADD", "cl", "2-0", "f", "2"],
    &["XADD", "cl", "3-0", "f", "3"],
    &["XADD", "cl", "4-0", "f", "4"],
    &["XADD", "cl", "5-0", "f", "5"],
    &["XADD", "cl", "6-0", "f", "6"],
    &["XGROUP", "CREATE", "cl", "g", "0"],
    &["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "cl", ">"],
    &["XCLAIM", "cl", "g", "bob", "0", "1-0", "JUSTID"],
    &[
        "XCLAIM", "cl", "g", "bob", "0", "1-0", "2-0", "9-0", "JUSTID",
    ],
    &["XCLAIM", "cl", "g", "bob", "0", "2-0"],
    &["XPENDING", "cl", "g"],
    &["XCLAIM", "cl", "g", "bob", "100000000", "3-0", "JUSTID"],
    &["XCLAIM", "cl", "g", "bob", "100000000", "3-0"],
    &[
        "XCLAIM",
        "cl",
        "g",
        "bob",
        "0",
        "3-0",
        "JUSTID",
        "RETRYCOUNT",
        "5",
    ],
    &[
        "XCLAIM", "cl", "g", "bob", "0", "4-0", "JUSTID", "LASTID", "10-0",
    ],
    &["XINFO", "GROUPS", "cl"],
    &[
        "XCLAIM", "cl", "g", "bob", "0", "4-0", "JUSTID", "LASTID", "2-0",
    ],
    &["XINFO", "GROUPS", "cl"],
    &["XCLAIM", "cl", "g", "bob", "0", "9-0", "JUSTID", "FORCE"],
    &["XCLAIM", "cl", "g", "bob", "0", "9-0", "FORCE"],
    &["XCLAIM", "cl", "g", "bob", "0", "5-0", "FORCE", "JUSTID"],
    &["XPENDING", "cl", "g"],
    &["XACK", "cl", "g", "6-0"],
    &["XCLAIM", "cl", "g", "carol", "0", "6-0", "JUSTID"],
    &["XCLAIM", "cl", "g", "carol", "0", "6-0", "JUSTID", "FORCE"],
    &["XPENDING", "cl", "g"],
    &["XDEL", "cl", "3-0"],
    &["XCLAIM", "cl", "g", "carol", "0", "3-0", "JUSTID"],
    &["XPENDING", "cl", "g"],
    &["XCLAIM", "cl", "g", "carol", "0", "3-0"],
    &["XCLAIM", "cl", "g", "carol", "0", "1-0", "2-0"],
    &["XPENDING", "cl", "g"],
    &[
        "XCLAIM", "cl", "g", "bob", "0", "4-0", "IDLE", "100", "JUSTID",
    ],
    &["XCLAIM", "cl", "g", "bob", "100000000", "4-0", "JUSTID"],
    &[
        "XCLAIM", "cl", "g", "bob", "0", "4-0", "TIME", "100", "JUSTID",
    ],
    &["XCLAIM", "cl", "g", "dave", "100000000", "4-0", "JUSTID"],
    &["XPENDING", "cl", "g"],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "IDLE", "x"],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "TIME", "x"],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "RETRYCOUNT", "x"],
    &[
        "XCLAIM",
        "cl",
        "g",
        "bob",
        "0",
        "4-0",
        "RETRYCOUNT",
        "-1",
        "JUSTID",
    ],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "LASTID", "abc"],
    &[
        "XCLAIM", "cl", "g", "bob", "0", "4-0", "LASTID", "1-*", "JUSTID",
    ],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "FOO"],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "IDLE"],
    &["XCLAIM", "cl", "g", "bob", "-1", "4-0", "JUSTID"],
    &["XCLAIM", "cl", "g", "bob", "x", "4-0"],
    &["XCLAIM", "cl", "g", "bob", "0", "abc"],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "abc", "JUSTID"],
    &["XCLAIM", "cl", "nog", "bob", "0", "4-0"],
    &["XCLAIM", "missing", "g", "bob", "0", "4-0"],
    &["XCLAIM", "cl", "g", "bob", "0"],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "JUSTID", "JUSTID"],
    &[
        "XCLAIM", "cl", "g", "bob", "0", "4-0", "IDLE", "-5", "JUSTID",
    ],
    &[
        "XCLAIM",
        "cl",
        "g",
        "bob",
        "0",
        "4-0",
        "RETRYCOUNT",
        "2",
        "LASTID",
        "0",
        "JUSTID",
    ],
    &["XCLAIM", "cl", "g", "bob", "0", "4-0", "justid", "force"],
    &["XPENDING", "cl", "g"],
    &["XPENDING", "cl", "g", "-", "+", "10", "IDLE", "100000000"],
    // XAUTOCLAIM.
    &["XAUTOCLAIM", "cl", "g", "erin", "0", "0", "JUSTID"],
    &[
        "XAUTOCLAIM",
        "cl",
        "g",
        "erin",
        "0",
        "0",
        "COUNT",
        "1",
        "JUSTID",
    ],
    &[
        "XAUTOCLAIM",
        "cl",
        "g",
        "erin",
        "0",
        "0-0",
        "COUNT",
        "2",
        "JUSTID",
    ],
    &[
        "XAUTOCLAIM",
        "cl",
        "g",
        "frank",
        "0",
        "2",
        "COUNT",
        "1",
        "JUSTID",
    ],
    &["XAUTOCLAIM", "cl", "g", "frank", "100000000", "0", "JUSTID"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "(1", "JUSTID"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "-", "JUSTID"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "+", "JUSTID"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "0", "COUNT", "0"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "0", "COUNT", "-1"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "0", "COUNT", "x"],
    &[
        "XAUTOCLAIM",
        "cl",
        "g",
        "frank",
        "0",
        "0",
        "COUNT",
        "9223372036854775807",
    ],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "0", "FOO"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0", "abc"],
    &["XAUTOCLAIM", "cl", "g", "frank", "x", "0"],
    &["XAUTOCLAIM", "cl", "nog", "frank", "0", "0"],
    &["XAUTOCLAIM", "missing", "g", "frank", "0", "0"],
    &["XAUTOCLAIM", "cl", "g", "frank", "0"],
    &[
        "XAUTOCLAIM",
        "cl",
        "g",
        "frank",
        "0",
        "0",
        "JUSTID",
        "COUNT",
    ],
    &["XPENDING", "cl", "g"],
    &["XAUTOCLAIM", "cl", "g", "frank", "-1", "0"],
    &["XPENDING", "cl", "g"],
    &["XDEL", "cl", "2-0", "5-0"],
    &["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "cl", "0"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "frank",
        "COUNT",
        "2",
        "STREAMS",
        "cl",
        "1-0",
    ],
    &["XAUTOCLAIM", "cl", "g", "gina", "0", "0", "COUNT", "1"],
    &["XAUTOCLAIM", "cl", "g", "gina", "0", "0", "COUNT", "2"],
    &["XPENDING", "cl", "g"],
    &["XAUTOCLAIM", "cl", "g", "gina", "0", "0", "JUSTID"],
    &["XPENDING", "cl", "g"],
    &["XREADGROUP", "GROUP", "g", "gina", "STREAMS", "cl", "0"],
    &["XINFO", "GROUPS", "cl"],
    &["XGROUP", "DELCONSUMER", "cl", "g", "gina"],
    &["XPENDING", "cl", "g"],
    &["XINFO", "GROUPS", "cl"],
    // XSETID.
    &["XADD", "sid", "1-0", "f", "1"],
    &["XADD", "sid", "2-0", "f", "2"],
    &["XADD", "sid", "3-0", "f", "3"],
    &["XADD", "sid", "4-0", "f", "4"],
    &["XGROUP", "CREATE", "sid", "g", "0"],
    &["XDEL", "sid", "2-0"],
    &["XINFO", "GROUPS", "sid"],
    &["XSETID", "sid", "10-0"],
    &["XSETID", "sid", "3-0"],
    &["XSETID", "sid", "4-0"],
    &["XSETID", "sid", "5-0", "ENTRIESADDED", "3"],
    &[
        "XSETID",
        "sid",
        "5-0",
        "ENTRIESADDED",
        "10",
        "MAXDELETEDID",
        "4-0",
    ],
    &["XINFO", "GROUPS", "sid"],
    &[
        "XSETID",
        "sid",
        "5-0",
        "ENTRIESADDED",
        "10",
        "MAXDELETEDID",
        "6-0",
    ],
    &["XSETID", "sid", "5-0", "ENTRIESADDED", "1"],
    &["XSETID", "sid", "5-0", "ENTRIESADDED", "-1"],
    &["XSETID", "sid", "5-0", "ENTRIESADDED", "x"],
    &["XSETID", "sid", "5-0", "MAXDELETEDID", "x"],
    &["XSETID", "sid", "5-0", "MAXDELETEDID", "1-0"],
    &["XSETID", "sid", "5-0", "FOO", "1"],
    &["XSETID", "sid", "5-0", "ENTRIESADDED"],
    &["XSETID", "sid", "abc"],
    &["XSETID", "sid", "$"],
    &["XSETID", "sid", "5-*"],
    &["XSETID", "missing", "1-0"],
    &["XSETID", "sid"],
    &["XSETID", "sid", "0-0"],
    &["XADD", "sid", "5-0", "f", "5"],
    &["XADD", "sid", "5-1", "f", "5"],
    &[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "COUNT",
        "1",
        "STREAMS",
        "sid",
        ">",
    ],
    &["XINFO", "GROUPS", "sid"],
    &["XADD", "sidempty", "1-0", "a", "b"],
    &["XDEL", "sidempty", "1-0"],
    &["XSETID", "sidempty", "0-0"],
    &["XSETID", "sidempty", "0-1"],
    &["XADD", "sidempty", "0-1", "a", "b"],
    &["XADD", "sidempty", "0-2", "a", "b"],
    &[
        "XSETID",
        "sidempty",
        "0-0",
        "ENTRIESADDED",
        "0",
        "MAXDELETEDID",
        "0-0",
    ],
    // XINFO replies without times.
    &["XINFO", "HELP"],
    &["XINFO"],
    &["XINFO", "FOO"],
    &["XINFO", "STREAM"],
    &["XINFO", "STREAM", "missing"],
    &["XINFO", "GROUPS", "missing"],
    &["XINFO", "CONSUMERS", "missing", "g"],
    &["XINFO", "CONSUMERS", "g", "nog"],
    &["XINFO", "STREAM", "g", "COUNT", "1"],
    &["XINFO", "STREAM", "g", "FULL", "x"],
    &["XINFO", "STREAM", "g", "FULL", "COUNT", "x"],
    &["XINFO", "GROUPS", "g", "x"],
    &["XINFO", "CONSUMERS", "g"],
    &["XINFO", "GROUPS", "a"],
    &["XINFO", "GROUPS", "tr"],
    // Types.
    &["TYPE", "st"],
    &["TYPE", "missing"],
    &["OBJECT", "ENCODING", "st"],
    &["OBJECT", "ENCODING", "mk"],
    &["EXISTS", "st", "mk", "missing"],
    &["SET", "str", "x"],
    &["RPUSH", "list", "x"],
    &["XADD", "str", "1-0", "a", "b"],
    &["XADD", "list", "1-0", "a", "b"],
    &["XLEN", "str"],
    &["XRANGE", "str", "-", "+"],
    &["XREVRANGE", "str", "+", "-"],
    &["XDEL", "str", "1-0"],
    &["XTRIM", "str", "MAXLEN", "1"],
    &["XREAD", "STREAMS", "str", "0"],
    &["XREAD", "STREAMS", "a", "str", "0", "0"],
    &["XREAD", "STREAMS", "missing", "str", "0", "0"],
    &["XGROUP", "CREATE", "str", "g", "0"],
    &["XGROUP", "CREATE", "str", "g", "0", "MKSTREAM"],
    &["XGROUP", "SETID", "str", "g", "0"],
    &["XGROUP", "DESTROY", "str", "g"],
    &["XGROUP", "CREATECONSUMER", "str", "g", "c"],
    &["XGROUP", "DELCONSUMER", "str", "g", "c"],
    &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"],
    &["XACK", "str", "g", "1-0"],
    &["XPENDING", "str", "g"],
    &["XCLAIM", "str", "g", "c", "0", "1-0"],
    &["XAUTOCLAIM", "str", "g", "c", "0", "0"],
    &["XSETID", "str", "1-0"],
    &["XINFO", "STREAM", "str"],
    &["XINFO", "GROUPS", "str"],
    &["XINFO", "CONSUMERS", "str", "g"],
    &["GET", "st"],
    &["SET", "st", "x", "NX"],
    &["APPEND", "st", "x"],
    &["LPUSH", "st", "x"],
    &["HSET", "st", "f", "v"],
    &["SADD", "st", "x"],
    &["ZADD", "st", "1", "x"],
    &["INCR", "st"],
    &["STRLEN", "st"],
    // DEL, EXISTS, RENAME and COPY to keys on other shards.
    &["EXISTS", "g"],
    &["RENAME", "g", "moved"],
    &["EXISTS", "g", "moved"],
    &["XRANGE", "moved", "-", "+"],
    &["XINFO", "GROUPS", "moved"],
    &["XPENDING", "moved", "g1"],
    &["XREADGROUP", "GROUP", "g1", "newc", "STREAMS", "moved", ">"],
    &["XADD", "moved", "8-0", "f", "8"],
    &["XREADGROUP", "GROUP", "g1", "newc", "STREAMS", "moved", ">"],
    &["XPENDING", "moved", "g1"],
    &["RENAME", "moved", "{moved}2"],
    &["XRANGE", "{moved}2", "-", "+"],
    &["XINFO", "GROUPS", "{moved}2"],
    &["COPY", "{moved}2", "copied"],
    &["XRANGE", "copied", "-", "+"],
    &["XINFO", "GROUPS", "copied"],
    &["XPENDING", "copied", "g1"],
    &["XACK", "copied", "g1", "8-0"],
    &["XPENDING", "copied", "g1"],
    &["XPENDING", "{moved}2", "g1"],
    &["COPY", "{moved}2", "copied"],
    &["COPY", "{moved}2", "copied", "REPLACE"],
    &["XPENDING", "copied", "g1"],
    &["DEL", "{moved}2", "copied", "st"],
    &["EXISTS", "{moved}2", "copied", "st"],
    &["XLEN", "copied"],
    &["XADD", "st", "1-0", "f", "v"],
    &["XRANGE", "st", "-", "+"],
    // Scripts read streams without blocking (their keys share a shard).
    &["XADD", "{sc}a", "1-1", "f", "v"],
    &[
        "EVAL",
        "return redis.call('xread','streams',KEYS[1],KEYS[2],'0','0')",
        "2",
        "{sc}a",
        "{sc}b",
    ],
    &[
        "EVAL",
        "return redis.call('xread','count','1','streams',KEYS[1],'$')",
        "1",
        "{sc}a",
    ],
    &["XGROUP", "CREATE", "{sc}a", "g", "0"],
    &[
        "EVAL",
        "return redis.call('xreadgroup','group','g','c','streams',KEYS[1],'>')",
        "1",
        "{sc}a",
    ],
    &[
        "EVAL",
        "return redis.call('xreadgroup','group','g','c','streams',KEYS[1],'>')",
        "1",
        "{sc}a",
    ],
    &[
        "EVAL",
        "return redis.call('xread','block','0','streams',KEYS[1],'$')",
        "1",
        "{sc}a",
    ],
    &["XPENDING", "{sc}a", "g"],
    // Nodes cut by bytes alone: `~` trims drop whole nodes, so what they
    // remove shows where the nodes end.
    &["CONFIG", "SET", "stream-node-max-entries", "0"],
    &["CONFIG", "SET", "stream-node-max-bytes", "150"],
    &["CONFIG", "GET", "stream-node-max-bytes"],
    &[
        "XADD",
        "nb",
        "1-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "2-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "3-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "4-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "5-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "6-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "7-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "8-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "9-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &[
        "XADD",
        "nb",
        "10-1",
        "f",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
    &["XTRIM", "nb", "MAXLEN", "~", "3"],
    &["XLEN", "nb"],
    &["XRANGE", "nb", "-", "+", "COUNT", "1"],
    &["CONFIG", "SET", "stream-node-max-bytes", "4096"],
    &["CONFIG", "SET", "stream-node-max-entries", "4"],
];

#[test]
fn replies_match_redis_byte_for_byte() {
    let shard = |k: &str| tandem::spec::key_shard(k.as_bytes(), 3);
    let abc: HashSet<usize> = ["a", "b", "c"].iter().map(|&k| shard(k)).collect();
    assert_eq!(
        abc.len(),
        3,
        "XREAD's streams a, b and c live on three shards"
    );
    assert_ne!(shard("g"), shard("moved"), "RENAME crosses shards");
    assert_ne!(shard("{moved}2"), shard("copied"), "COPY crosses shards");
    for layout in LAYOUTS {
        let s = Server::start(&[*layout, SMALL_NODES].concat());
        let redis = Redis::start(SMALL_NODES);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?}"));
        }
        // The whole script again in RESP3 (it starts with FLUSHALL): maps
        // for XREAD and XINFO, nulls for empty reads.
        hello3(&mut ours, &mut theirs);
        for cmd in SCRIPT {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?} resp3"));
        }
        s.assert_alive();
    }
}

/// XINFO fields whose values are clocks, left out where replies are
/// compared (`radix-tree-nodes` is the shape of Redis's radix tree, not
/// something a client can count on).
const CLOCKS: &[&str] = &[
    "radix-tree-nodes",
    "seen-time",
    "idle",
    "active-time",
    "inactive",
    "delivery-time",
];

/// The field names of XINFO's replies: an array whose even items are all
/// among them is a field/value list (RESP2's form of a map).
const XINFO_FIELDS: &[&str] = &[
    "length",
    "radix-tree-keys",
    "radix-tree-nodes",
    "last-generated-id",
    "max-deleted-entry-id",
    "entries-added",
    "recorded-first-entry-id",
    "groups",
    "first-entry",
    "last-entry",
    "entries",
    "name",
    "consumers",
    "pending",
    "last-delivered-id",
    "entries-read",
    "lag",
    "pel-count",
    "seen-time",
    "active-time",
    "idle",
    "inactive",
];

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::BulkString(b) => std::str::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s.as_str()),
        _ => None,
    }
}

fn is_field_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items.len() % 2 == 0
        && items
            .chunks(2)
            .all(|p| text(&p[0]).is_some_and(|k| XINFO_FIELDS.contains(&k)))
}

/// `v` with the values of the `drop` fields replaced by Nil, at any depth:
/// in field/value lists (RESP2 arrays, RESP3 maps) and, when `drop` holds
/// `delivery-time`, in the rows of XINFO STREAM FULL's pending lists
/// ([id, consumer, delivery time, count] in a group, [id, delivery time,
/// count] in a consumer).
fn without(v: &Value, drop: &[&str]) -> Value {
    match v {
        Value::Map(pairs) => Value::Map(
            pairs
                .iter()
                .map(|(k, x)| (k.clone(), field(text(k), x, drop)))
                .collect(),
        ),
        Value::Array(items) if is_field_list(items) => Value::Array(
            items
                .chunks(2)
                .flat_map(|p| [p[0].clone(), field(text(&p[0]), &p[1], drop)])
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|x| without(x, drop)).collect()),
        other => other.clone(),
    }
}

fn field(name: Option<&str>, v: &Value, drop: &[&str]) -> Value {
    match (name, v) {
        (Some(n), _) if drop.contains(&n) => Value::Nil,
        (Some("pending"), Value::Array(rows)) if drop.contains(&"delivery-time") => Value::Array(
            rows.iter()
                .map(|row| match row {
                    Value::Array(r) if r.len() == 4 => blank(r, 2),
                    Value::Array(r) if r.len() == 3 => blank(r, 1),
                    other => other.clone(),
                })
                .collect(),
        ),
        _ => without(v, drop),
    }
}

fn blank(row: &[Value], at: usize) -> Value {
    let mut r = row.to_vec();
    r[at] = Value::Nil;
    Value::Array(r)
}

/// Extended XPENDING's rows ([id, consumer, idle ms, deliveries]) without
/// their idle times.
fn without_idle(v: &Value) -> Value {
    match v {
        Value::Array(rows) => Value::Array(
            rows.iter()
                .map(|row| match row {
                    Value::Array(r) if r.len() == 4 => blank(r, 2),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The idle times of extended XPENDING's rows.
fn idle_times(v: &Value) -> Vec<i64> {
    match v {
        Value::Array(rows) => rows
            .iter()
            .map(|row| match row {
                Value::Array(r) if r.len() == 4 => match r[2] {
                    Value::Int(n) => n,
                    ref other => panic!("idle time {other:?}"),
                },
                other => panic!("XPENDING row {other:?}"),
            })
            .collect(),
        other => panic!("XPENDING rows {other:?}"),
    }
}

/// A reply through the `redis` crate; an error reply becomes its text.
fn value(c: &mut redis::Connection, args: &[&str]) -> Value {
    q::<Value>(c, args).unwrap_or_else(|e| Value::SimpleString(format!("error: {e}")))
}

/// Runs `args` on both servers and asserts the replies agree once the
/// `drop` fields are blanked; returns tandem's.
fn same_without(
    ours: &mut redis::Connection,
    theirs: &mut redis::Connection,
    args: &[&str],
    drop: &[&str],
    ctx: &str,
) -> Value {
    let (a, b) = (value(ours, args), value(theirs, args));
    assert_eq!(
        without(&a, drop),
        without(&b, drop),
        "{ctx}: {args:?}\ntandem: {a:?}\nredis:  {b:?}"
    );
    a
}

/// A `redis` crate client speaking RESP3 (HELLO 3).
fn conn_resp3(port: u16) -> redis::Connection {
    let c = redis::Client::open(format!("redis://127.0.0.1:{port}/?protocol=resp3"))
        .unwrap()
        .get_connection()
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// A stream with deleted entries over several nodes, three groups (one
/// created with ENTRIESREAD), pending entries of several consumers (one
/// claimed with RETRYCOUNT, one consumer with none), an empty stream with a
/// group and a stream trimmed to nothing.
const XINFO_SETUP: &[&[&str]] = &[
    &["FLUSHALL"],
    &["XADD", "x", "1-0", "f1", "a", "f2", "1"],
    &["XADD", "x", "2-0", "f1", "b", "f2", "2"],
    &["XADD", "x", "3-0", "other", "c"],
    &["XADD", "x", "4-0", "f1", "d", "f2", "4"],
    &["XADD", "x", "5-0", "f1", "e", "f2", "5"],
    &["XADD", "x", "6-0", "f1", "f", "f2", "6"],
    &["XADD", "x", "7-0", "f1", "g"],
    &["XDEL", "x", "3-0"],
    &["XGROUP", "CREATE", "x", "g1", "0"],
    &["XGROUP", "CREATE", "x", "g2", "$"],
    &["XGROUP", "CREATE", "x", "g3", "2-0", "ENTRIESREAD", "2"],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "2",
        "STREAMS",
        "x",
        ">",
    ],
    &[
        "XREADGROUP",
        "GROUP",
        "g1",
        "bob",
        "COUNT",
        "2",
        "STREAMS",
        "x",
        ">",
    ],
    &["XACK", "x", "g1", "1-0"],
    &[
        "XCLAIM",
        "x",
        "g1",
        "carol",
        "0",
        "4-0",
        "RETRYCOUNT",
        "3",
        "JUSTID",
    ],
    &["XCLAIM", "x", "g1", "carol", "0", "2-0"],
    &["XGROUP", "CREATECONSUMER", "x", "g1", "dave"],
    &["XREADGROUP", "GROUP", "g3", "erin", "STREAMS", "x", ">"],
    &["XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"],
    &["XADD", "t", "1-0", "a", "1"],
    &["XADD", "t", "MAXLEN", "0", "2-0", "a", "2"],
];

/// XINFO STREAM (with FULL), GROUPS and CONSUMERS and extended XPENDING
/// carry clocks, so they are compared field by field through the `redis`
/// crate, in RESP2 and RESP3, with every other field (lag, entries-read,
/// radix-tree-keys, the PELs' consumers and delivery counts) exact.
#[test]
fn xinfo_matches_redis_without_clocks() {
    for layout in LAYOUTS {
        let s = Server::start(&[*layout, SMALL_NODES].concat());
        let redis = Redis::start(SMALL_NODES);
        let (mut ours, mut theirs) = (s.raw(), redis.raw());
        for cmd in XINFO_SETUP {
            both(&mut ours, &mut theirs, cmd, &format!("{layout:?} setup"));
        }
        let conns = [
            (s.conn(), conn_to(redis.port), "resp2"),
            (conn_resp3(s.port), conn_resp3(redis.port), "resp3"),
        ];
        for (mut oc, mut tc, proto) in conns {
            let ctx = format!("{layout:?} {proto}");
            for args in [
                &["XINFO", "STREAM", "x"][..],
                &["XINFO", "STREAM", "x", "FULL"],
                &["XINFO", "STREAM", "x", "FULL", "COUNT", "2"],
                &["XINFO", "STREAM", "x", "FULL", "COUNT", "0"],
                &["XINFO", "GROUPS", "x"],
                &["XINFO", "CONSUMERS", "x", "g1"],
                &["XINFO", "CONSUMERS", "x", "g2"],
                &["XINFO", "CONSUMERS", "x", "g3"],
                &["XINFO", "STREAM", "e"],
                &["XINFO", "STREAM", "e", "FULL"],
                &["XINFO", "GROUPS", "e"],
                &["XINFO", "CONSUMERS", "e", "g"],
                &["XINFO", "STREAM", "t"],
                &["XINFO", "STREAM", "t", "FULL"],
                &["XINFO", "STREAM", "nokey"],
            ] {
                same_without(&mut oc, &mut tc, args, CLOCKS, &ctx);
            }
            // The fields that were compared are there.
            let info = same_without(&mut oc, &mut tc, &["XINFO", "STREAM", "x"], CLOCKS, &ctx);
            let shown = format!("{info:?}");
            for f in [
                "radix-tree-keys",
                "entries-added",
                "recorded-first-entry-id",
            ] {
                assert!(shown.contains(f), "{ctx}: {f} in {shown}");
            }
            for args in [
                &["XPENDING", "x", "g1", "-", "+", "10"][..],
                &["XPENDING", "x", "g1", "-", "+", "10", "carol"],
                &["XPENDING", "x", "g1", "IDLE", "0", "-", "+", "10"],
                &["XPENDING", "x", "g1", "(2-0", "+", "1"],
                &["XPENDING", "x", "g3", "-", "+", "10", "erin"],
            ] {
                let (a, b) = (value(&mut oc, args), value(&mut tc, args));
                assert_eq!(
                    without_idle(&a),
                    without_idle(&b),
                    "{ctx}: {args:?}\ntandem: {a:?}\nredis:  {b:?}"
                );
                // Idle times are real ages: this test is seconds old.
                for idle in idle_times(&a) {
                    assert!((0..60_000).contains(&idle), "{ctx}: {args:?} idle {idle}");
                }
            }
            let rows = value(&mut oc, &["XPENDING", "x", "g1", "-", "+", "10"]);
            assert_eq!(idle_times(&rows).len(), 3, "{ctx}: {rows:?}");
        }
        s.assert_alive();
    }
}

/// A stream entry id.
type Id = (u64, u64);

fn id_text(id: Id) -> String {
    format!("{}-{}", id.0, id.1)
}

fn parse_id(s: &str) -> Id {
    let (ms, seq) = s.split_once('-').unwrap_or_else(|| panic!("id {s}"));
    (ms.parse().unwrap(), seq.parse().unwrap())
}

/// What the model knows of one stream.
#[derive(Clone, Default)]
struct Model {
    exists: bool,
    /// The last id added (it outlives the entry, as Redis's does).
    last: Id,
    entries: BTreeMap<Id, Vec<(String, String)>>,
}

impl Model {
    fn list(&self) -> Vec<(Id, Vec<(String, String)>)> {
        self.entries.iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    /// A random id present in the stream, if any.
    fn pick(&self, rng: &mut Rng) -> Option<Id> {
        let n = self.entries.len() as u64;
        if n == 0 {
            return None;
        }
        self.entries.keys().nth(rng.below(n) as usize).copied()
    }

    /// A random id among the oldest few, if any.
    fn pick_old(&self, rng: &mut Rng) -> Option<Id> {
        let n = self.entries.len() as u64;
        if n == 0 {
            return None;
        }
        self.entries
            .keys()
            .nth(rng.below(n.min(8)) as usize)
            .copied()
    }

    /// The millisecond part of the first id (of the last if empty).
    fn first_ms(&self) -> u64 {
        self.entries.keys().next().map_or(self.last.0, |id| id.0)
    }
}

/// A stream's entries as tandem returns them (XRANGE - +).
fn read_all(c: &mut redis::Connection, key: &str) -> Vec<(Id, Vec<(String, String)>)> {
    let items = match q::<Value>(c, &["XRANGE", key, "-", "+"]).unwrap() {
        Value::Array(items) => items,
        other => panic!("XRANGE {key}: {other:?}"),
    };
    items
        .iter()
        .map(|e| match e {
            Value::Array(parts) if parts.len() == 2 => {
                let fields: Vec<String> = match &parts[1] {
                    Value::Array(f) => f.iter().map(|x| text(x).unwrap().to_string()).collect(),
                    other => panic!("XRANGE {key} fields: {other:?}"),
                };
                let pairs: Vec<(String, String)> = fields
                    .chunks(2)
                    .map(|p| (p[0].clone(), p[1].clone()))
                    .collect();
                (parse_id(text(&parts[0]).unwrap()), pairs)
            }
            other => panic!("XRANGE {key} entry: {other:?}"),
        })
        .collect()
}

/// An XADD id after `last`: explicit, `ms-*`, a bare `ms`, or (one time in
/// ten) one that is not greater than `last`, which must fail. Returns the
/// argument and the id it creates.
fn new_id(rng: &mut Rng, last: Id) -> (String, Option<Id>) {
    match rng.below(10) {
        0..=5 => {
            let ms = last.0 + rng.below(3);
            let seq = if ms == last.0 {
                last.1 + 1 + rng.below(3)
            } else {
                rng.below(3)
            };
            (id_text((ms, seq)), Some((ms, seq)))
        }
        6 | 7 => {
            let ms = last.0 + rng.below(2);
            let seq = if ms == last.0 { last.1 + 1 } else { 0 };
            (format!("{ms}-*"), Some((ms, seq)))
        }
        8 => {
            let ms = last.0 + 1 + rng.below(2);
            (ms.to_string(), Some((ms, 0)))
        }
        _ => {
            let id = if last.0 > 0 && rng.below(2) == 0 {
                (last.0 - 1, rng.below(5))
            } else {
                last
            };
            (id_text(id), None)
        }
    }
}

/// Fields of a new entry: often the same two names (Redis then flags the
/// entry as sharing its node's master fields), else one to four of a few
/// names, duplicates allowed; values integers (listpack integers), words
/// or empty.
fn new_fields(rng: &mut Rng) -> Vec<(String, String)> {
    let names: Vec<String> = if rng.below(2) == 0 {
        vec!["f0".into(), "f1".into()]
    } else {
        (0..1 + rng.below(4))
            .map(|_| format!("f{}", rng.below(4)))
            .collect()
    };
    names
        .into_iter()
        .map(|n| {
            let v = match rng.below(5) {
                0 => rng.signed(1000).to_string(),
                1 => (rng.next() >> 1).to_string(),
                2 => String::new(),
                _ => format!("v{}", rng.below(100)),
            };
            (n, v)
        })
        .collect()
}

/// A trimming clause of XADD or XTRIM.
struct Trim {
    args: Vec<String>,
    maxlen: Option<usize>,
    minid: Option<Id>,
    approx: bool,
    /// LIMIT, with `~` (LIMIT 0: no limit).
    limit: Option<usize>,
    /// LIMIT without `~`: a syntax error.
    bad: bool,
}

fn new_trim(rng: &mut Rng, m: &Model) -> Trim {
    let maxlen = rng.below(2) == 0;
    let mut args = vec![if maxlen { "MAXLEN" } else { "MINID" }.to_string()];
    let approx = match rng.below(3) {
        0 => false,
        1 => {
            args.push("=".into());
            false
        }
        _ => {
            args.push("~".into());
            true
        }
    };
    let (maxlen, minid) = if maxlen {
        // Mostly long enough to keep a few nodes, now and then almost all.
        let n = if rng.below(20) == 0 {
            rng.below(5)
        } else {
            15 + rng.below(50)
        };
        args.push(n.to_string());
        (Some(n as usize), None)
    } else {
        // One of the oldest ids, a bare millisecond time (`ms` is ms-0)
        // or any id near the start.
        let (arg, id) = match (rng.below(3), m.pick_old(rng)) {
            (0, Some(id)) => (id_text(id), id),
            (1, _) => {
                let ms = m.first_ms() + rng.below(4);
                (ms.to_string(), (ms, 0))
            }
            _ => {
                let id = (m.first_ms() + rng.below(4), rng.below(4));
                (id_text(id), id)
            }
        };
        args.push(arg);
        (None, Some(id))
    };
    let (mut limit, mut bad) = (None, false);
    if approx && rng.below(3) == 0 {
        let n = rng.below(12) as usize;
        args.extend(["LIMIT".into(), n.to_string()]);
        limit = Some(n);
    } else if !approx && rng.below(25) == 0 {
        args.extend(["LIMIT".into(), "5".into()]);
        bad = true;
    }
    Trim {
        args,
        maxlen,
        minid,
        approx,
        limit,
        bad,
    }
}

/// Applies an exact trim to the model; returns how many entries went.
fn trim_exactly(m: &mut Model, t: &Trim) -> usize {
    let before = m.entries.len();
    if let Some(n) = t.maxlen {
        while m.entries.len() > n {
            m.entries.pop_first();
        }
    }
    if let Some(min) = t.minid {
        m.entries = m.entries.split_off(&min);
    }
    before - m.entries.len()
}

/// After a `~` trim, whose result depends on node boundaries (diffed
/// against redis-server by the caller): tandem's entries are the model's
/// minus some of its oldest, never fewer than an exact trim leaves, never
/// more gone than a LIMIT allows. The model takes them; returns how many
/// went.
fn trim_roughly(c: &mut redis::Connection, key: &str, m: &mut Model, t: &Trim, ctx: &str) -> usize {
    let before = m.list();
    let after = read_all(c, key);
    assert!(after.len() <= before.len(), "{ctx}: ~ trim grew the stream");
    let gone = before.len() - after.len();
    assert_eq!(
        &before[gone..],
        &after[..],
        "{ctx}: ~ trims the oldest entries"
    );
    let mut exact = m.clone();
    trim_exactly(&mut exact, t);
    assert!(
        after.len() >= exact.entries.len(),
        "{ctx}: ~ trimmed more than = would ({} left, {} exactly)",
        after.len(),
        exact.entries.len()
    );
    if let Some(limit) = t.limit.filter(|&l| l > 0) {
        assert!(gone <= limit, "{ctx}: {gone} trimmed past LIMIT {limit}");
    }
    m.entries = after.into_iter().collect();
    gone
}

fn int_reply(r: &str) -> i64 {
    r.strip_prefix(':')
        .and_then(|v| v.trim_end().parse().ok())
        .unwrap_or_else(|| panic!("integer reply {r:?}"))
}

/// The model against tandem (XRANGE - +), and XINFO STREAM against
/// redis-server (node counts, entries-added, max-deleted-entry-id, first
/// and last entries).
fn check_streams(
    keys: &[String],
    models: &[Model],
    oc: &mut redis::Connection,
    tc: &mut redis::Connection,
    ctx: &str,
) {
    for (key, m) in keys.iter().zip(models) {
        assert_eq!(
            read_all(oc, key),
            m.list(),
            "{ctx}: {key} against the model"
        );
        same_without(oc, tc, &["XINFO", "STREAM", key.as_str()], CLOCKS, ctx);
        let exists: i64 = q(oc, &["EXISTS", key.as_str()]).unwrap();
        assert_eq!(exists == 1, m.exists, "{ctx}: EXISTS {key}");
    }
}

/// 2000 seeded operations (XADD with explicit, partial and bad ids and
/// trims, XTRIM, XDEL, XRANGE, XREVRANGE, XLEN, now and then DEL) on three
/// streams on different shards, with nodes of at most five entries on both
/// servers: every reply diffed against redis-server, exact trims and
/// deletes replayed on a model that tandem's contents must match.
#[test]
fn random_operations_match_redis_and_a_model() {
    const NODES: &[&str] = &["--stream-node-max-entries", "5"];
    let keys = spread("xs", 3);
    let s = Server::start(&[LAYOUTS[1], NODES].concat());
    let redis = Redis::start(NODES);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let (mut oc, mut tc) = (s.conn(), conn_to(redis.port));
    let mut rng = Rng(0x853c_49e6_748f_ea9b);
    let mut models = vec![Model::default(); keys.len()];
    // Counts of what happened, to show the operations did real work.
    let (mut added, mut failed, mut exact_gone, mut rough_gone, mut deleted, mut ranged) =
        (0, 0, 0, 0, 0, 0);
    for i in 0..2000 {
        let k = rng.below(keys.len() as u64) as usize;
        let key = keys[k].clone();
        let ctx = format!("operation {i} on {key}");
        let m = &mut models[k];
        match rng.below(200) {
            0..=89 => {
                let mut cmd: Vec<String> = vec!["XADD".into(), key.clone()];
                let nomkstream = rng.below(10) == 0;
                if nomkstream {
                    cmd.push("NOMKSTREAM".into());
                }
                let trim = (rng.below(10) < 2).then(|| new_trim(&mut rng, m));
                if let Some(t) = &trim {
                    cmd.extend(t.args.iter().cloned());
                }
                let (id_arg, want) = new_id(&mut rng, m.last);
                cmd.push(id_arg);
                let fields = new_fields(&mut rng);
                for (f, v) in &fields {
                    cmd.extend([f.clone(), v.clone()]);
                }
                let reply = both(&mut ours, &mut theirs, &cmd, &ctx);
                let bad = trim.as_ref().is_some_and(|t| t.bad);
                match want {
                    Some(id) if !bad && (m.exists || !nomkstream) => {
                        let id_arg = id_text(id);
                        assert_eq!(reply, format!("${}\r\n{id_arg}\r\n", id_arg.len()), "{ctx}");
                        m.exists = true;
                        m.last = id;
                        m.entries.insert(id, fields);
                        added += 1;
                        match &trim {
                            Some(t) if t.approx => {
                                rough_gone += trim_roughly(&mut oc, &key, m, t, &ctx);
                            }
                            Some(t) => exact_gone += trim_exactly(m, t),
                            None => {}
                        }
                    }
                    _ => {
                        assert!(
                            reply.starts_with('-') || reply == "$-1\r\n",
                            "{ctx}: {reply}"
                        );
                        failed += 1;
                    }
                }
            }
            90..=101 => {
                let mut cmd: Vec<String> = vec!["XDEL".into(), key.clone()];
                let mut ids = Vec::new();
                for _ in 0..1 + rng.below(2) {
                    let id = match m.pick(&mut rng) {
                        Some(id) if rng.below(5) > 0 => id,
                        _ => (rng.below(m.last.0 + 2), rng.below(4)),
                    };
                    ids.push(id);
                    cmd.push(id_text(id));
                }
                let reply = both(&mut ours, &mut theirs, &cmd, &ctx);
                let gone = ids
                    .iter()
                    .filter(|id| m.entries.remove(*id).is_some())
                    .count();
                assert_eq!(int_reply(&reply), gone as i64, "{ctx}");
                deleted += gone;
            }
            102..=113 => {
                let t = new_trim(&mut rng, m);
                let mut cmd: Vec<String> = vec!["XTRIM".into(), key.clone()];
                cmd.extend(t.args.iter().cloned());
                let reply = both(&mut ours, &mut theirs, &cmd, &ctx);
                if t.bad {
                    assert!(reply.starts_with('-'), "{ctx}: {reply}");
                } else if !m.exists {
                    assert_eq!(reply, ":0\r\n", "{ctx}");
                } else {
                    let gone = if t.approx {
                        let gone = trim_roughly(&mut oc, &key, m, &t, &ctx);
                        rough_gone += gone;
                        gone
                    } else {
                        let gone = trim_exactly(m, &t);
                        exact_gone += gone;
                        gone
                    };
                    assert_eq!(int_reply(&reply), gone as i64, "{ctx}");
                }
            }
            114..=169 => {
                // Bounds: `-`/`+`, ids in the stream (inclusive or
                // exclusive), bare millisecond times (ms-0 as a start,
                // ms-max as an end), any id.
                let bound = |rng: &mut Rng, low: bool| -> String {
                    match rng.below(6) {
                        0 => (if low { "-" } else { "+" }).to_string(),
                        1 | 2 => {
                            let id = m.pick(rng).unwrap_or((0, 1));
                            let open = if rng.below(3) == 0 { "(" } else { "" };
                            format!("{open}{}", id_text(id))
                        }
                        3 | 4 => {
                            let open = if rng.below(3) == 0 { "(" } else { "" };
                            format!("{open}{}", rng.below(m.last.0 + 2))
                        }
                        _ => id_text((rng.below(m.last.0 + 2), rng.below(5))),
                    }
                };
                let (low, high) = (bound(&mut rng, true), bound(&mut rng, false));
                let mut cmd: Vec<String> = if rng.below(2) == 0 {
                    vec!["XRANGE".into(), key.clone(), low, high]
                } else {
                    vec!["XREVRANGE".into(), key.clone(), high, low]
                };
                if rng.below(2) == 0 {
                    cmd.extend(["COUNT".into(), rng.below(6).to_string()]);
                }
                let reply = both(&mut ours, &mut theirs, &cmd, &ctx);
                ranged += (reply.starts_with('*')
                    && !reply.starts_with("*0\r\n")
                    && !reply.starts_with("*-1")) as usize;
            }
            170..=198 => {
                let cmd = [String::from("XLEN"), key.clone()];
                let reply = both(&mut ours, &mut theirs, &cmd, &ctx);
                assert_eq!(int_reply(&reply), m.entries.len() as i64, "{ctx}");
            }
            _ => {
                let cmd = [String::from("DEL"), key.clone()];
                let reply = both(&mut ours, &mut theirs, &cmd, &ctx);
                assert_eq!(int_reply(&reply), m.exists as i64, "{ctx}");
                *m = Model::default();
            }
        }
        if i % 250 == 249 {
            check_streams(&keys, &models, &mut oc, &mut tc, &format!("after {i}"));
        }
    }
    check_streams(&keys, &models, &mut oc, &mut tc, "at the end");
    let shown = format!(
        "added {added}, failed {failed}, trimmed = {exact_gone} ~ {rough_gone}, deleted {deleted}, ranges {ranged}"
    );
    assert!(added > 600 && failed > 50, "{shown}");
    assert!(
        exact_gone > 150 && rough_gone > 20 && deleted > 80,
        "{shown}"
    );
    assert!(ranged > 150, "{shown}");
    s.assert_alive();
}

fn send(r: &mut Raw, args: &[&str]) {
    let f: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    r.send(&frame(&f));
}

fn call(r: &mut Raw, args: &[&str]) -> String {
    send(r, args);
    r.read_reply()
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{s}\r\n", s.len())
}

/// One entry as XRANGE and XREAD write it: [id, [field, value, ...]].
fn entry(id: &str, fields: &[&str]) -> String {
    let mut out = format!("*2\r\n{}*{}\r\n", bulk(id), fields.len());
    for f in fields {
        out += &bulk(f);
    }
    out
}

/// XREAD's (and XREADGROUP's) RESP2 reply for one stream.
fn one_stream(key: &str, entries: &[String]) -> String {
    format!(
        "*1\r\n*2\r\n{}*{}\r\n{}",
        bulk(key),
        entries.len(),
        entries.concat()
    )
}

/// XPENDING's summary: how many pending, the first and last ids, and how
/// many each consumer has.
fn pending_of(count: usize, first: &str, last: &str, consumers: &[(&str, usize)]) -> String {
    let mut out = format!(
        "*4\r\n:{count}\r\n{}{}*{}\r\n",
        bulk(first),
        bulk(last),
        consumers.len()
    );
    for (name, n) in consumers {
        out += &format!("*2\r\n{}{}", bulk(name), bulk(&n.to_string()));
    }
    out
}

const NO_PENDING: &str = "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n";

/// XREAD BLOCK on streams of several shards answers with the one an XADD
/// reached; `$` means entries after the last one when the read blocked;
/// every XREAD waiter gets the new entry; RESP3 answers a map.
#[test]
fn xread_block_is_woken_across_shards() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let k = spread("xb", 2);
        let (k0, k1) = (k[0].as_str(), k[1].as_str());
        let (mut r, mut c) = (s.raw(), s.raw());
        assert_eq!(call(&mut c, &["XADD", k0, "1-0", "f", "old"]), bulk("1-0"));
        send(
            &mut r,
            &["XREAD", "BLOCK", "0", "STREAMS", k0, k1, "$", "$"],
        );
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["XADD", k1, "5-0", "f", "new"]), bulk("5-0"));
        assert_eq!(
            r.read_reply(),
            one_stream(k1, &[entry("5-0", &["f", "new"])]),
            "{layout:?}"
        );
        s.wait_blocked(0);

        send(
            &mut r,
            &["XREAD", "BLOCK", "0", "STREAMS", k1, k0, "$", "$"],
        );
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["XADD", k0, "2-0", "f", "a"]), bulk("2-0"));
        assert_eq!(
            r.read_reply(),
            one_stream(k0, &[entry("2-0", &["f", "a"])]),
            "{layout:?}"
        );
        // An id with entries after it answers at once, BLOCK or not.
        assert_eq!(
            call(
                &mut r,
                &[
                    "XREAD", "BLOCK", "0", "COUNT", "1", "STREAMS", k1, k0, "5-0", "0"
                ]
            ),
            one_stream(k0, &[entry("1-0", &["f", "old"])]),
            "{layout:?}"
        );

        // Two XREAD waiters: both get the entry.
        let mut r2 = s.raw();
        send(&mut r, &["XREAD", "BLOCK", "0", "STREAMS", k1, "$"]);
        s.wait_blocked(1);
        send(
            &mut r2,
            &["XREAD", "BLOCK", "5000", "COUNT", "3", "STREAMS", k1, "$"],
        );
        s.wait_blocked(2);
        assert_eq!(call(&mut c, &["XADD", k1, "6-0", "f", "x"]), bulk("6-0"));
        let want = one_stream(k1, &[entry("6-0", &["f", "x"])]);
        assert_eq!(r.read_reply(), want, "{layout:?}");
        assert_eq!(r2.read_reply(), want, "{layout:?}");
        s.wait_blocked(0);

        // Redis serves waiters after the command that woke them: an XADD
        // whose MAXLEN 0 trims its own entry wakes the reader with none.
        send(&mut r, &["XREAD", "BLOCK", "0", "STREAMS", k1, "$"]);
        s.wait_blocked(1);
        assert_eq!(
            call(&mut c, &["XADD", k1, "MAXLEN", "0", "7-0", "f", "y"]),
            bulk("7-0")
        );
        assert_eq!(
            r.read_reply(),
            format!("*1\r\n*2\r\n{}*0\r\n", bulk(k1)),
            "{layout:?}"
        );
        s.wait_blocked(0);

        // RESP3: a map of streams.
        assert!(call(&mut r, &["HELLO", "3"]).starts_with('%'));
        send(
            &mut r,
            &["XREAD", "BLOCK", "0", "STREAMS", k1, k0, "$", "$"],
        );
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["XADD", k0, "3-0", "f", "z"]), bulk("3-0"));
        assert_eq!(
            r.read_reply(),
            format!("%1\r\n{}*1\r\n{}", bulk(k0), entry("3-0", &["f", "z"])),
            "{layout:?}"
        );
        s.wait_blocked(0);
        s.assert_alive();
    }
}

/// A BLOCK timeout answers a null array (RESP3: null), not before its
/// time; inside MULTI a blocking read answers at once as if timed out.
#[test]
fn xread_block_times_out_and_never_blocks_in_multi() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let mut r = s.raw();
        let t = Instant::now();
        assert_eq!(
            call(&mut r, &["XREAD", "BLOCK", "200", "STREAMS", "none", "$"]),
            "*-1\r\n"
        );
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(190), "{layout:?}: {took:?}");
        assert_eq!(
            call(&mut r, &["XGROUP", "CREATE", "grp", "g", "$", "MKSTREAM"]),
            "+OK\r\n"
        );
        assert_eq!(
            call(
                &mut r,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "50",
                    "STREAMS",
                    "grp",
                    ">"
                ]
            ),
            "*-1\r\n"
        );
        // The timed-out reader was never served, so it is no consumer.
        assert_eq!(call(&mut r, &["XINFO", "CONSUMERS", "grp", "g"]), "*0\r\n");
        assert!(call(&mut r, &["HELLO", "3"]).starts_with('%'));
        assert_eq!(
            call(&mut r, &["XREAD", "BLOCK", "50", "STREAMS", "none", "$"]),
            "_\r\n"
        );
        assert_eq!(
            call(
                &mut r,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "c",
                    "BLOCK",
                    "50",
                    "STREAMS",
                    "grp",
                    ">"
                ]
            ),
            "_\r\n"
        );
        s.wait_blocked(0);

        let mut m = s.raw();
        assert_eq!(call(&mut m, &["MULTI"]), "+OK\r\n");
        for args in [
            &["XREAD", "BLOCK", "0", "STREAMS", "none", "$"][..],
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "grp",
                ">",
            ],
        ] {
            assert_eq!(call(&mut m, args), "+QUEUED\r\n");
        }
        // A wait here would fail the read (10 s timeout).
        assert_eq!(
            call(&mut m, &["EXEC"]),
            "*2\r\n*-1\r\n*-1\r\n",
            "{layout:?}"
        );
        s.wait_blocked(0);
        s.assert_alive();
    }
}

/// XREADGROUP BLOCK woken by an XADD on another shard delivers the entry
/// to that consumer and records it as pending (not with NOACK); reading
/// history (an id, not `>`) never blocks.
#[test]
fn xreadgroup_block_delivers_and_records_pending() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let k = spread("xg", 2);
        let (k0, k1) = (k[0].as_str(), k[1].as_str());
        let (mut r, mut c) = (s.raw(), s.raw());
        for key in [k0, k1] {
            assert_eq!(
                call(&mut c, &["XGROUP", "CREATE", key, "g", "$", "MKSTREAM"]),
                "+OK\r\n"
            );
        }
        send(
            &mut r,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "alice",
                "BLOCK",
                "0",
                "STREAMS",
                k0,
                k1,
                ">",
                ">",
            ],
        );
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["XADD", k1, "1-0", "f", "v"]), bulk("1-0"));
        assert_eq!(
            r.read_reply(),
            one_stream(k1, &[entry("1-0", &["f", "v"])]),
            "{layout:?}"
        );
        s.wait_blocked(0);
        assert_eq!(
            call(&mut c, &["XPENDING", k1, "g"]),
            pending_of(1, "1-0", "1-0", &[("alice", 1)]),
            "{layout:?}"
        );
        assert_eq!(call(&mut c, &["XPENDING", k0, "g"]), NO_PENDING);
        assert_eq!(
            call(&mut c, &["XINFO", "GROUPS", k1]),
            format!(
                "*1\r\n*12\r\n{}{}{}:1\r\n{}:1\r\n{}{}{}:1\r\n{}:0\r\n",
                bulk("name"),
                bulk("g"),
                bulk("consumers"),
                bulk("pending"),
                bulk("last-delivered-id"),
                bulk("1-0"),
                bulk("entries-read"),
                bulk("lag")
            ),
            "{layout:?}"
        );

        // NOACK: delivered, not pending.
        send(
            &mut r,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "bob",
                "NOACK",
                "BLOCK",
                "0",
                "STREAMS",
                k1,
                ">",
            ],
        );
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["XADD", k1, "2-0", "f", "w"]), bulk("2-0"));
        assert_eq!(
            r.read_reply(),
            one_stream(k1, &[entry("2-0", &["f", "w"])]),
            "{layout:?}"
        );
        assert_eq!(
            call(&mut c, &["XPENDING", k1, "g"]),
            pending_of(1, "1-0", "1-0", &[("alice", 1)]),
            "{layout:?}"
        );

        // History: at once, even when it is empty.
        assert_eq!(
            call(
                &mut r,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "alice",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    k1,
                    "0"
                ]
            ),
            one_stream(k1, &[entry("1-0", &["f", "v"])]),
            "{layout:?}"
        );
        assert_eq!(
            call(
                &mut r,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "carol",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    k1,
                    "0"
                ]
            ),
            format!("*1\r\n*2\r\n{}*0\r\n", bulk(k1)),
            "{layout:?}"
        );
        s.wait_blocked(0);
        s.assert_alive();
    }
}

/// Consumers blocked on one group are served first come first served: one
/// entry goes to the first, the next to the second.
#[test]
fn xreadgroup_waiters_are_served_fifo() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let (mut r1, mut r2, mut c) = (s.raw(), s.raw(), s.raw());
        assert_eq!(
            call(&mut c, &["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"]),
            "+OK\r\n"
        );
        send(
            &mut r1,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c1",
                "BLOCK",
                "0",
                "STREAMS",
                "q",
                ">",
            ],
        );
        s.wait_blocked(1);
        send(
            &mut r2,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c2",
                "COUNT",
                "5",
                "BLOCK",
                "0",
                "STREAMS",
                "q",
                ">",
            ],
        );
        s.wait_blocked(2);
        assert_eq!(call(&mut c, &["XADD", "q", "1-0", "n", "1"]), bulk("1-0"));
        assert_eq!(
            r1.read_reply(),
            one_stream("q", &[entry("1-0", &["n", "1"])]),
            "{layout:?}"
        );
        // The second is still waiting: nothing new for the group.
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["XADD", "q", "2-0", "n", "2"]), bulk("2-0"));
        assert_eq!(
            r2.read_reply(),
            one_stream("q", &[entry("2-0", &["n", "2"])]),
            "{layout:?}"
        );
        s.wait_blocked(0);
        assert_eq!(
            call(&mut c, &["XPENDING", "q", "g"]),
            pending_of(2, "1-0", "2-0", &[("c1", 1), ("c2", 1)]),
            "{layout:?}"
        );
        s.assert_alive();
    }
}

/// A reader blocked on a group that is destroyed, or on a stream that is
/// deleted or replaced, gets Redis 7.0's errors; an XREAD reader (no
/// group) stays blocked when its stream goes and is served by the next
/// one's entries past its id.
#[test]
fn blocked_readers_when_the_group_or_stream_goes() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let (mut r, mut c) = (s.raw(), s.raw());
        let read = [
            "XREADGROUP",
            "GROUP",
            "g",
            "c",
            "BLOCK",
            "0",
            "STREAMS",
            "gone",
            ">",
        ];
        assert_eq!(
            call(&mut c, &["XGROUP", "CREATE", "gone", "g", "$", "MKSTREAM"]),
            "+OK\r\n"
        );
        send(&mut r, &read);
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["XGROUP", "DESTROY", "gone", "g"]), ":1\r\n");
        assert_eq!(
            r.read_reply(),
            "-NOGROUP the consumer group this client was blocked on no longer exists\r\n",
            "{layout:?}"
        );
        s.wait_blocked(0);

        assert_eq!(
            call(&mut c, &["XGROUP", "CREATE", "gone", "g", "$"]),
            "+OK\r\n"
        );
        send(&mut r, &read);
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["DEL", "gone"]), ":1\r\n");
        assert_eq!(
            r.read_reply(),
            "-UNBLOCKED the stream key no longer exists\r\n",
            "{layout:?}"
        );
        s.wait_blocked(0);

        assert_eq!(
            call(&mut c, &["XGROUP", "CREATE", "gone", "g", "$", "MKSTREAM"]),
            "+OK\r\n"
        );
        send(&mut r, &read);
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["SET", "gone", "x"]), "+OK\r\n");
        assert_eq!(
            r.read_reply(),
            "-UNBLOCKED the stream key no longer exists\r\n",
            "{layout:?}"
        );
        s.wait_blocked(0);

        assert_eq!(call(&mut c, &["DEL", "gone"]), ":1\r\n");
        assert_eq!(
            call(&mut c, &["XADD", "gone", "5-0", "f", "v"]),
            bulk("5-0")
        );
        send(&mut r, &["XREAD", "BLOCK", "0", "STREAMS", "gone", "$"]);
        s.wait_blocked(1);
        assert_eq!(call(&mut c, &["DEL", "gone"]), ":1\r\n");
        // Time for a wrong answer to arrive; the reader must still wait.
        std::thread::sleep(Duration::from_millis(100));
        s.wait_blocked(1);
        assert_eq!(
            call(&mut c, &["XADD", "gone", "6-0", "f", "w"]),
            bulk("6-0")
        );
        assert_eq!(
            r.read_reply(),
            one_stream("gone", &[entry("6-0", &["f", "w"])]),
            "{layout:?}"
        );
        s.wait_blocked(0);
        s.assert_alive();
    }
}

/// Disconnected readers leave no waiter behind (the next entry is nobody's
/// pending entry); commands pipelined behind a blocked read wait for it.
#[test]
fn disconnected_and_pipelined_readers() {
    for layout in LAYOUTS {
        let s = Server::start(layout);
        let k = spread("xd", 2);
        let (k0, k1) = (k[0].as_str(), k[1].as_str());
        let mut c = s.raw();
        assert_eq!(
            call(&mut c, &["XGROUP", "CREATE", k1, "g", "$", "MKSTREAM"]),
            "+OK\r\n"
        );
        {
            let (mut r1, mut r2) = (s.raw(), s.raw());
            send(
                &mut r1,
                &["XREAD", "BLOCK", "0", "STREAMS", k0, k1, "$", "$"],
            );
            send(
                &mut r2,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    "gone",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    k1,
                    ">",
                ],
            );
            s.wait_blocked(2);
        } // both sockets close
        s.wait_blocked(0);
        assert_eq!(call(&mut c, &["XADD", k1, "1-0", "f", "v"]), bulk("1-0"));
        assert_eq!(
            call(&mut c, &["XPENDING", k1, "g"]),
            NO_PENDING,
            "{layout:?}"
        );
        assert_eq!(call(&mut c, &["XINFO", "CONSUMERS", k1, "g"]), "*0\r\n");

        let mut r = s.raw();
        let mut pipe = frame(&[b"XREAD", b"BLOCK", b"0", b"STREAMS", k0.as_bytes(), b"$"]);
        pipe.extend(frame(&[b"XADD", k0.as_bytes(), b"9-0", b"mine", b"1"]));
        pipe.extend(frame(&[b"PING"]));
        r.send(&pipe);
        s.wait_blocked(1);
        // Nothing after the XREAD ran: its own XADD did not serve it.
        assert_eq!(call(&mut c, &["EXISTS", k0]), ":0\r\n");
        assert_eq!(call(&mut c, &["XADD", k0, "1-0", "f", "v"]), bulk("1-0"));
        let got = r.read_replies(3);
        assert_eq!(
            got[0],
            one_stream(k0, &[entry("1-0", &["f", "v"])]),
            "{layout:?}"
        );
        assert_eq!(got[1], bulk("9-0"));
        assert_eq!(got[2], "+PONG\r\n");
        s.wait_blocked(0);
        s.assert_alive();
    }
}

/// Streams for DUMP/RESTORE: `big` over several nodes (250 entries, some
/// sharing their node's fields, some deleted) with three groups, pending
/// entries of several consumers (one claimed with RETRYCOUNT, one
/// consumer with none); `small` after XSETID; `empty` with a group;
/// `trimmed` emptied by MAXLEN 0.
fn dump_setup() -> Vec<Vec<String>> {
    let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
    let mut cmds = Vec::new();
    for i in 1..=250u64 {
        let mut cmd = words(&format!("XADD big {}-{}", i / 3, i % 3));
        if i % 4 == 0 {
            cmd.extend(["other".into(), format!("v{i}")]);
        } else {
            cmd.extend([
                "f1".into(),
                i.to_string(),
                "f2".into(),
                "x".repeat((i % 7) as usize),
            ]);
        }
        cmds.push(cmd);
    }
    for c in [
        "XDEL big 0-1 10-1 40-0 40-1 40-2",
        "XGROUP CREATE big g1 0",
        "XGROUP CREATE big g2 $",
        "XGROUP CREATE big g3 20-0 ENTRIESREAD 60",
        "XREADGROUP GROUP g1 alice COUNT 5 STREAMS big >",
        "XREADGROUP GROUP g1 bob COUNT 3 STREAMS big >",
        "XACK big g1 1-1 2-2",
        "XCLAIM big g1 carol 0 1-0 RETRYCOUNT 7 JUSTID",
        "XGROUP CREATECONSUMER big g1 dave",
        "XREADGROUP GROUP g3 erin COUNT 2 STREAMS big >",
        "XADD small 1-0 a 1",
        "XADD small 2-0 b 2",
        "XDEL small 1-0",
        "XSETID small 9-0 ENTRIESADDED 50 MAXDELETEDID 1-5",
        "XGROUP CREATE empty g $ MKSTREAM",
        "XADD trimmed 5-5 a 1",
        "XADD trimmed MAXLEN 0 6-0 a 2",
    ] {
        cmds.push(words(c));
    }
    cmds
}

const DUMP_KEYS: &[&str] = &["big", "small", "empty", "trimmed"];

/// The streams on both servers agree: entries, groups (byte for byte),
/// PEL summaries, and XINFO STREAM FULL, clocks included, since DUMP
/// carries delivery and seen times (all but `radix-tree-nodes`), and
/// XINFO CONSUMERS and extended XPENDING without their idle times.
fn same_streams(ours: &mut Raw, theirs: &mut Raw, ctx: &str, port: u16, redis_port: u16) {
    let (mut oc, mut tc) = (conn_to(port), conn_to(redis_port));
    for &key in DUMP_KEYS {
        for args in [
            &["XRANGE", key, "-", "+"][..],
            &["XREVRANGE", key, "+", "-", "COUNT", "7"],
            &["XLEN", key],
            &["XINFO", "GROUPS", key],
            &["XPENDING", key, "g1"],
            &["XPENDING", key, "g3"],
            &["XPENDING", key, "g"],
        ] {
            both(ours, theirs, args, &format!("{ctx} {key}"));
        }
        let full = ["XINFO", "STREAM", key, "FULL"];
        same_without(&mut oc, &mut tc, &full, &["radix-tree-nodes"], ctx);
        same_without(
            &mut oc,
            &mut tc,
            &["XINFO", "STREAM", key],
            &["radix-tree-nodes"],
            ctx,
        );
        same_without(
            &mut oc,
            &mut tc,
            &["XINFO", "CONSUMERS", key, "g1"],
            CLOCKS,
            ctx,
        );
        let args = ["XPENDING", key, "g1", "-", "+", "100"];
        let (a, b) = (value(&mut oc, &args), value(&mut tc, &args));
        assert_eq!(
            without_idle(&a),
            without_idle(&b),
            "{ctx} {key}: {a:?} {b:?}"
        );
    }
}

/// DUMP payloads of streams with groups, consumers and pending entries
/// move from redis-server to tandem and back with everything XINFO shows;
/// the restored streams then take new entries and deliveries alike.
#[test]
fn dump_payloads_move_both_ways() {
    let s = Server::start(LAYOUTS[0]);
    let redis = Redis::start(&[]);
    let (mut ours, mut theirs) = (s.raw(), redis.raw());
    let (mut oc, mut tc) = (s.conn(), conn_to(redis.port));
    for cmd in dump_setup() {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let v = value(&mut tc, &args);
        assert!(
            !matches!(&v, Value::SimpleString(e) if e.starts_with("error")),
            "{args:?}: {v:?}"
        );
    }
    for &key in DUMP_KEYS {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut tc).unwrap();
        let r: Value = redis::cmd("RESTORE")
            .arg(key)
            .arg(0)
            .arg(&payload[..])
            .query(&mut oc)
            .unwrap();
        assert_eq!(r, Value::Okay, "redis -> tandem {key}");
    }
    same_streams(
        &mut ours,
        &mut theirs,
        "redis -> tandem",
        s.port,
        redis.port,
    );
    // The restored streams go on as the originals do.
    for args in [
        &["XADD", "big", "83-1", "f", "v"][..],
        &["XADD", "big", "83-2", "f1", "1", "f2", "x"],
        &["XADD", "small", "9-0", "f", "v"],
        &["XADD", "small", "9-1", "f", "v"],
        &["XADD", "trimmed", "6-0", "a", "3"],
        &["XADD", "trimmed", "6-1", "a", "3"],
        &["XREADGROUP", "GROUP", "g1", "alice", "STREAMS", "big", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "frank",
            "COUNT",
            "3",
            "STREAMS",
            "big",
            ">",
        ],
        &["XREADGROUP", "GROUP", "g2", "frank", "STREAMS", "big", ">"],
        &["XREADGROUP", "GROUP", "g", "frank", "STREAMS", "empty", ">"],
        &["XACK", "big", "g1", "0-2", "1-0", "1-2"],
        &["XCLAIM", "big", "g1", "dave", "0", "2-0", "2-1", "JUSTID"],
        &["XAUTOCLAIM", "big", "g3", "erin", "0", "0", "JUSTID"],
        &["XINFO", "GROUPS", "big"],
        &["XPENDING", "big", "g1"],
    ] {
        both(&mut ours, &mut theirs, args, "after RESTORE");
    }
    // And back: tandem's payloads into an emptied redis-server.
    let _: () = redis::cmd("FLUSHALL").query(&mut tc).unwrap();
    for &key in DUMP_KEYS {
        let payload: Vec<u8> = redis::cmd("DUMP").arg(key).query(&mut oc).unwrap();
        let r: Value = redis::cmd("RESTORE")
            .arg(key)
            .arg(0)
            .arg(&payload[..])
            .query(&mut tc)
            .unwrap();
        assert_eq!(r, Value::Okay, "tandem -> redis {key}");
    }
    same_streams(
        &mut ours,
        &mut theirs,
        "tandem -> redis",
        s.port,
        redis.port,
    );
    s.assert_alive();
}
