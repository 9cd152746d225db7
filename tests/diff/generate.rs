//! Random command sequences over every data command tandem implements.
//!
//! A case is a pure function of its seed: the protocol (RESP2, or RESP3
//! after `HELLO 3`) and a list of commands. Keys come from small pools so
//! commands collide: per family three names with the `{t}` hashtag (one
//! slot, so one shard) and three without (spread over the shards), so
//! multi-key commands both stay on a shard and cross shards; about one key
//! in eight is drawn from another family's pool to provoke WRONGTYPE.
//! Values mix integers (small, negative, i64 edges, overflow), floats,
//! empty strings, binary bytes and long strings (> 64 bytes, so compact
//! encodings convert). Every command also has invalid variants (bad
//! integers/floats, syntax errors, wrong arity, mixed-case names).
//!
//! Deliberately NOT generated, to be enabled when the fixes land (another
//! engineer is changing that code):
//! - SRANDMEMBER/HRANDFIELD/ZRANDMEMBER counts below -100000 (server aborts),
//! - glob patterns with more than ~4 `*` against long keys (exponential
//!   matcher): patterns here have at most two,
//! - SCAN COUNT above 1e9,
//! - HINCRBYFLOAT with an infinite increment (`HINCRBYFLOAT newkey f inf`
//!   leaves an empty hash). Moreover tandem computes HINCRBYFLOAT in f64
//!   where Redis uses 80-bit long double (`1.1 + -0.25` is `0.85` in Redis,
//!   `0.8500000000000001` in tandem; `1e400` is a valid increment; hex
//!   floats parse): HINCRBYFLOAT runs only on fields `fl0`..`fl2` that
//!   only HINCRBY/HINCRBYFLOAT write, with dyadic increments, so both
//!   agree. `src/cmd/cfloat.rs` has the exact long double (INCRBYFLOAT
//!   uses it).
//! - Unknown commands with binary arguments (Redis prints the arguments
//!   up to a NUL byte; tandem's IO stage prints them all, lossily).
//! - SELECT with an index outside the C int range (Redis: `value is out of
//!   range, value must between -2147483648 and 2147483647`; tandem's IO
//!   stage says `DB index is out of range`).
//! - MOVE (not implemented yet).
//!
//! Not generated because tandem deliberately follows Redis 7.2 where the
//! 7.0.15 reference differs: ZRANK/ZREVRANK ... WITHSCORE (7.2 option);
//! LPOS ... RANK -9223372036854775808 (7.0 negates LONG_MIN: undefined
//! behaviour in C; tandem refuses it like 7.2); blocking timeouts beyond
//! `LLONG_MAX` ms (`inf`, `1e300`: 7.0 casts them with undefined
//! behaviour and says `timeout is negative`; tandem says 7.2's `timeout is
//! out of range`).
//! Not generated because replies are server-specific: OBJECT IDLETIME/FREQ,
//! INFO, CLIENT, CONFIG, DEBUG, TIME, HELLO (other than the case's
//! `HELLO 3`), COMMAND.
//!
//! Timing: relative expiries are long (>= 100 s) and absolute ones are far
//! in the future (year 2100) or in the past, so no key expires while a
//! sequence runs; blocking commands use 0.01 s timeouts and never 0.

use fastrand::Rng;

pub type Cmd = Vec<Vec<u8>>;

/// A generated case.
#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    pub resp3: bool,
    pub cmds: Vec<Cmd>,
}

/// 2100-01-01 in seconds and milliseconds: far enough for any run.
const FUTURE_S: &str = "4102444800";
const FUTURE_MS: &str = "4102444800000";

#[derive(Clone, Copy, PartialEq, Debug)]
enum Fam {
    Str,
    List,
    Hash,
    Set,
    ZSet,
    /// Sorted sets whose members all have score 0, the only ones lex
    /// ranges are used on: Redis leaves lex ranges over mixed scores
    /// unspecified (and its skiplist walk then depends on random levels).
    /// Only ZADD/ZINCRBY with score 0, ZREM, pops and lex-range stores
    /// write them; generic commands do not pick them.
    Lex,
}

const FAMS: [Fam; 5] = [Fam::Str, Fam::List, Fam::Hash, Fam::Set, Fam::ZSet];

/// Small member/field pool: collisions, integers (intset), floats, empty,
/// binary, one longer than 64 bytes.
const MEMBERS: &[&str] = &[
    "a", "b", "c", "d", "e", "f", "1", "2", "3", "-1", "10", "100", "1.5", "",
];

pub struct Gen {
    r: Rng,
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen {
            r: Rng::with_seed(seed),
        }
    }

    /// A whole case of about `len` commands.
    pub fn case(seed: u64, len: usize) -> Case {
        let mut g = Gen::new(seed);
        let resp3 = g.chance(25);
        let n = len / 2 + g.r.usize(0..=len);
        let cmds = (0..n).map(|_| g.command()).collect();
        Case { seed, resp3, cmds }
    }

    fn chance(&mut self, pct: u32) -> bool {
        self.r.u32(0..100) < pct
    }

    fn pick(&mut self, xs: &[&str]) -> Vec<u8> {
        b(xs[self.r.usize(0..xs.len())])
    }

    /// An option word, sometimes in mixed case (Redis is case-insensitive).
    fn w(&mut self, word: &str) -> Vec<u8> {
        if self.chance(15) {
            word.chars()
                .map(|c| {
                    if self.r.bool() {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }
                })
                .collect::<String>()
                .into_bytes()
        } else {
            b(word)
        }
    }

    fn key_of(&mut self, fam: Fam) -> Vec<u8> {
        let prefix = match fam {
            Fam::Str => "k",
            Fam::List => "l",
            Fam::Hash => "h",
            Fam::Set => "s",
            Fam::ZSet => "z",
            Fam::Lex => "x",
        };
        let tag = if self.r.bool() { "{t}" } else { "" };
        let mut k = format!("{tag}{prefix}{}", self.r.u8(0..3)).into_bytes();
        if self.chance(3) {
            // A binary name now and then (NUL, high bytes, CRLF).
            k.extend_from_slice(b"\x00\xff\r\n");
        }
        k
    }

    /// A key of family `fam`, or (one in eight) of any family.
    fn key(&mut self, fam: Fam) -> Vec<u8> {
        if self.chance(12) {
            // Never a mixed-score sorted set for a lex key.
            let n = if fam == Fam::Lex { 4 } else { FAMS.len() };
            let f = FAMS[self.r.usize(0..n)];
            self.key_of(f)
        } else {
            self.key_of(fam)
        }
    }

    fn any_key(&mut self) -> Vec<u8> {
        if self.chance(5) {
            return self.pattern_key();
        }
        let f = FAMS[self.r.usize(0..FAMS.len())];
        self.key_of(f)
    }

    fn keys(&mut self, fam: Fam, max: usize) -> Vec<Vec<u8>> {
        let n = self.r.usize(1..=max);
        (0..n).map(|_| self.key(fam)).collect()
    }

    /// Keys read by SORT's BY/GET patterns (`w_*`, `o_*->f`).
    fn pattern_key(&mut self) -> Vec<u8> {
        let m = self.member_plain();
        let tag = if self.chance(20) { "{t}" } else { "" };
        if self.r.bool() {
            [format!("{tag}w_").into_bytes(), m].concat()
        } else {
            [format!("{tag}o_").into_bytes(), m].concat()
        }
    }

    fn long_str(&mut self, min: usize, max: usize) -> Vec<u8> {
        let n = self.r.usize(min..=max);
        let c = b'a' + self.r.u8(0..3);
        let mut v = vec![c; n];
        // A digit at the end so long values still differ.
        if let Some(l) = v.last_mut() {
            *l = b'0' + self.r.u8(0..10);
        }
        v
    }

    fn small_int(&mut self) -> Vec<u8> {
        self.r.i64(-20..=120).to_string().into_bytes()
    }

    /// A string value of any flavour.
    fn val(&mut self) -> Vec<u8> {
        match self.r.u32(0..24) {
            0..=4 => self.small_int(),
            5 => self.pick(&[
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
                "4611686018427387904",
                "10000",
                "12345678901234567890",
            ]),
            6 => self.pick(&[
                "007", "+1", " 1", "1 ", "0x10", "-0", "00", "1e3", "1E2", "0.0",
            ]),
            7..=8 => self.pick(&[
                "1.5",
                "-0.25",
                "3.0",
                "0.1",
                "1e10",
                "inf",
                "-inf",
                "1e400",
                "5.",
                ".5",
                "nan",
                "1.1",
                "-1.7976931348623157e308",
            ]),
            9 => b(""),
            10 => vec![0, 0xff, b'\r', b'\n', b'a', 0x80],
            11 => self.long_str(45, 90),
            12 => self.long_str(100, 400),
            13..=15 => self.member(),
            _ => self.pick(&[
                "hello", "world", "foo bar", "x", "abc", "abcd", "bcde", "ohmytext",
            ]),
        }
    }

    /// A member without binary bytes (for pattern key names).
    fn member_plain(&mut self) -> Vec<u8> {
        self.pick(&MEMBERS[..13])
    }

    fn member(&mut self) -> Vec<u8> {
        match self.r.u32(0..30) {
            0 => self.long_str(65, 80),
            1 => vec![b'\xfe', 0, b'm'],
            2 => self.small_int(),
            _ => self.pick(MEMBERS),
        }
    }

    fn members(&mut self, max: usize) -> Vec<Vec<u8>> {
        let n = self.r.usize(1..=max);
        (0..n).map(|_| self.member()).collect()
    }

    /// An integer argument: mostly small valid, sometimes an edge or junk.
    fn int_arg(&mut self, lo: i64, hi: i64) -> Vec<u8> {
        match self.r.u32(0..40) {
            0 => self.pick(&["abc", "1.5", "", " 1", "+1", "0x1", "1e2"]),
            1 => self.pick(&[
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
                "-9223372036854775809",
                "99999999999",
            ]),
            _ => self.r.i64(lo..=hi).to_string().into_bytes(),
        }
    }

    /// A count for the RAND family: never below -100000 (see the header).
    fn rand_count(&mut self) -> Vec<u8> {
        match self.r.u32(0..30) {
            0 => self.pick(&[
                "abc",
                "1.5",
                "",
                "-999",
                "99999999999",
                "9223372036854775807",
            ]),
            _ => self.r.i64(-12..=15).to_string().into_bytes(),
        }
    }

    /// A score for ZADD/ZINCRBY/WEIGHTS.
    fn score(&mut self) -> Vec<u8> {
        match self.r.u32(0..40) {
            0 => self.pick(&["abc", "nan", "", "1e400", "0x10", "1.5.5", "(1"]),
            1..=2 => self.pick(&["inf", "-inf", "+inf", "Inf", "-INF"]),
            3..=8 => self.pick(&[
                "1.5", "-2.25", "0.1", "1e3", "3.0", "-0", "1.1", "2.5e-5", "1e17",
            ]),
            _ => self.r.i64(-5..=20).to_string().into_bytes(),
        }
    }

    /// A score range bound: numbers, exclusive `(n`, infinities, junk.
    fn score_bound(&mut self) -> Vec<u8> {
        match self.r.u32(0..30) {
            0 => self.pick(&["abc", "[1", "(", "((1", "nan", ""]),
            1..=4 => self.pick(&["-inf", "+inf", "inf", "(-inf", "(+inf"]),
            5..=12 => format!("({}", self.r.i64(-5..=20)).into_bytes(),
            13..=15 => self.pick(&["1.5", "(2.5", "-0.5", "(0"]),
            _ => self.r.i64(-5..=20).to_string().into_bytes(),
        }
    }

    /// A lex range bound.
    fn lex_bound(&mut self) -> Vec<u8> {
        match self.r.u32(0..20) {
            0 => self.pick(&["a", "", "1", "{a"]),
            1..=5 => self.pick(&["-", "+"]),
            _ => {
                let m = self.member();
                let p = if self.r.bool() { b'[' } else { b'(' };
                [vec![p], m].concat()
            }
        }
    }

    /// Relative expiry in seconds: long (>= 100 s), or <= 0 (immediate
    /// deletion), or invalid. Never a short positive one (a race).
    fn ttl_s(&mut self) -> Vec<u8> {
        match self.r.u32(0..20) {
            0 => self.pick(&["0", "-1", "-100"]),
            1 => self.pick(&[
                "abc",
                "1.5",
                "",
                "9223372036854775807",
                "9223372036854775",
                "-9223372036854775808",
            ]),
            _ => self.r.i64(100..=100000).to_string().into_bytes(),
        }
    }

    fn ttl_ms(&mut self) -> Vec<u8> {
        match self.r.u32(0..20) {
            0 => self.pick(&["0", "-1", "-100"]),
            1 => self.pick(&["abc", "1.5", "9223372036854775807", "-9223372036854775808"]),
            _ => self.r.i64(100_000..=100_000_000).to_string().into_bytes(),
        }
    }

    /// Absolute Unix time in seconds: in the past or in 2100.
    fn at_s(&mut self) -> Vec<u8> {
        match self.r.u32(0..10) {
            0 => self.pick(&["1", "1000", "0"]),
            1 => self.pick(&["-1", "abc", "9223372036854775807", "92233720368547758"]),
            _ => b(FUTURE_S),
        }
    }

    fn at_ms(&mut self) -> Vec<u8> {
        match self.r.u32(0..10) {
            0 => self.pick(&["1", "1000", "0"]),
            1 => self.pick(&["-1", "abc", "9223372036854775807"]),
            _ => b(FUTURE_MS),
        }
    }

    /// A blocking timeout: short (never 0, which blocks forever), or
    /// invalid.
    fn timeout(&mut self) -> Vec<u8> {
        match self.r.u32(0..20) {
            // Not inf or 1e300: tandem follows 7.2's `timeout is out of
            // range` where 7.0 converts with undefined behaviour (see the
            // header).
            0 => self.pick(&["-1", "abc", "-0.5", "", "-inf"]),
            _ => self.pick(&["0.01", "0.02", "0.015"]),
        }
    }

    fn command(&mut self) -> Cmd {
        let mut c = match self.r.u32(0..100) {
            0..=17 => self.string_cmd(),
            18..=31 => self.keys_cmd(),
            32..=46 => self.list_cmd(),
            47..=59 => self.hash_cmd(),
            60..=73 => self.set_cmd(),
            74..=93 => self.zset_cmd(),
            94..=97 => self.sort_cmd(),
            _ => self.bulk_cmd(),
        };
        // Wrong arity and junk: drop or add trailing arguments (not to
        // ZRANK/ZREVRANK, whose 4-argument form is Redis 7.2's WITHSCORE).
        let rank = c[0].eq_ignore_ascii_case(b"ZRANK") || c[0].eq_ignore_ascii_case(b"ZREVRANK");
        if self.chance(3) && !rank {
            if self.r.bool() && c.len() > 1 {
                let keep = self.r.usize(1..c.len());
                c.truncate(keep);
            } else {
                c.push(self.pick(&["junk", "1", "NX", ""]));
            }
        }
        if self.chance(8) {
            c[0] = self.w(&String::from_utf8_lossy(&c[0]).to_ascii_uppercase());
            if self.r.bool() {
                c[0].make_ascii_lowercase();
            }
        }
        c
    }

    /// Commands that grow a collection past its compact-encoding limits
    /// (128 entries, 64-byte values, 512 integers for intsets).
    fn bulk_cmd(&mut self) -> Cmd {
        let n = if self.r.bool() {
            self.r.usize(120..140)
        } else {
            self.r.usize(5..20)
        };
        match self.r.u32(0..5) {
            0 => {
                let mut c = vec![self.w("RPUSH"), self.key(Fam::List)];
                for i in 0..n {
                    c.push(format!("v{i}").into_bytes());
                }
                c
            }
            1 => {
                let mut c = vec![self.w("SADD"), self.key(Fam::Set)];
                let n = if self.r.bool() {
                    n
                } else {
                    self.r.usize(500..530)
                };
                let ints = self.r.bool();
                for i in 0..n {
                    c.push(if ints {
                        i.to_string().into_bytes()
                    } else {
                        format!("m{i}").into_bytes()
                    });
                }
                c
            }
            2 => {
                let mut c = vec![self.w("HSET"), self.key(Fam::Hash)];
                for i in 0..n {
                    c.push(format!("f{i}").into_bytes());
                    c.push(i.to_string().into_bytes());
                }
                c
            }
            3 => {
                let mut c = vec![self.w("ZADD"), self.key(Fam::ZSet)];
                for i in 0..n {
                    c.push((i as i64 % 17 - 3).to_string().into_bytes());
                    c.push(format!("m{i}").into_bytes());
                }
                c
            }
            _ => {
                // SORT pattern keys: weights and hash fields.
                let m = self.member_plain();
                if self.r.bool() {
                    let v = if self.chance(80) {
                        self.small_int()
                    } else {
                        self.val()
                    };
                    vec![b("SET"), [b("w_"), m].concat(), v]
                } else {
                    let f = self.small_int();
                    let g = self.val();
                    vec![b("HSET"), [b("o_"), m].concat(), b("f"), f, b("g"), g]
                }
            }
        }
    }

    fn expiry_opt(&mut self) -> Vec<Vec<u8>> {
        match self.r.u32(0..5) {
            0 => vec![self.w("EX"), self.ttl_s()],
            1 => vec![self.w("PX"), self.ttl_ms()],
            2 => vec![self.w("EXAT"), self.at_s()],
            3 => vec![self.w("PXAT"), self.at_ms()],
            _ => vec![self.w("KEEPTTL")],
        }
    }

    fn string_cmd(&mut self) -> Cmd {
        let k = self.key(Fam::Str);
        match self.r.u32(0..32) {
            0..=2 => vec![self.w("GET"), k],
            3..=6 => {
                let mut c = vec![self.w("SET"), k, self.val()];
                for _ in 0..self.r.usize(0..4) {
                    match self.r.u32(0..8) {
                        0 => c.push(self.w("NX")),
                        1 => c.push(self.w("XX")),
                        2 => c.push(self.w("GET")),
                        3..=6 => c.extend(self.expiry_opt()),
                        _ => c.push(self.pick(&["FOO", "EX", "PX"])),
                    }
                }
                c
            }
            7 => vec![self.w("SETNX"), k, self.val()],
            8 => vec![self.w("SETEX"), k, self.ttl_s(), self.val()],
            9 => vec![self.w("PSETEX"), k, self.ttl_ms(), self.val()],
            10 => vec![self.w("GETSET"), k, self.val()],
            11 => vec![self.w("GETDEL"), k],
            12 => {
                let mut c = vec![self.w("GETEX"), k];
                match self.r.u32(0..7) {
                    0 => {}
                    1 => c.push(self.w("PERSIST")),
                    2 => {
                        c.extend(self.expiry_opt());
                        c.extend(self.expiry_opt());
                    }
                    _ => {
                        let mut o = self.expiry_opt();
                        if o[0].eq_ignore_ascii_case(b"KEEPTTL") && self.chance(70) {
                            o = vec![self.w("PERSIST")];
                        }
                        c.extend(o)
                    }
                }
                c
            }
            13 => {
                let mut c = vec![self.w("MGET")];
                c.extend(self.keys(Fam::Str, 5));
                c
            }
            14 | 15 => {
                let name = if self.r.bool() { "MSET" } else { "MSETNX" };
                let mut c = vec![self.w(name)];
                for _ in 0..self.r.usize(1..4) {
                    c.push(self.key(Fam::Str));
                    c.push(self.val());
                }
                c
            }
            16 => vec![self.w("INCR"), k],
            17 => vec![self.w("DECR"), k],
            18 => vec![self.w("INCRBY"), k, self.int_arg(-100, 100)],
            19 => vec![self.w("DECRBY"), k, self.int_arg(-100, 100)],
            20 => {
                let f = if self.r.bool() {
                    self.score()
                } else {
                    self.val()
                };
                vec![self.w("INCRBYFLOAT"), k, f]
            }
            21 | 22 => vec![self.w("APPEND"), k, self.val()],
            23 => vec![self.w("STRLEN"), k],
            24 | 25 => {
                let name = if self.chance(80) {
                    "GETRANGE"
                } else {
                    "SUBSTR"
                };
                vec![
                    self.w(name),
                    k,
                    self.int_arg(-12, 12),
                    self.int_arg(-12, 12),
                ]
            }
            26 | 27 => {
                let off = match self.r.u32(0..12) {
                    0 => self.pick(&["-1", "abc", "536870912", "99999999999"]),
                    1 => self.r.usize(60..200).to_string().into_bytes(),
                    _ => self.r.usize(0..12).to_string().into_bytes(),
                };
                let v = if self.chance(10) { b("") } else { self.val() };
                vec![self.w("SETRANGE"), k, off, v]
            }
            28 | 29 => {
                let mut c = vec![self.w("LCS"), k, self.key(Fam::Str)];
                for _ in 0..self.r.usize(0..4) {
                    match self.r.u32(0..6) {
                        0 => c.push(self.w("LEN")),
                        1 | 2 => c.push(self.w("IDX")),
                        3 => c.push(self.w("WITHMATCHLEN")),
                        4 => {
                            c.push(self.w("MINMATCHLEN"));
                            c.push(self.int_arg(-1, 5));
                        }
                        _ => c.push(b("BOGUS")),
                    }
                }
                c
            }
            _ => {
                // Values good for LCS and SORT.
                let v = self.pick(&["ohmytext", "mynewtext", "abcdefg", "xbcdyfz", "12", "3"]);
                vec![b("SET"), k, v]
            }
        }
    }

    fn db_index(&mut self) -> Vec<u8> {
        match self.r.u32(0..20) {
            0 => self.pick(&["16", "-1", "abc", "99999999999", "1.0"]),
            _ => self.r.u8(0..3).to_string().into_bytes(),
        }
    }

    /// A KEYS/SCAN MATCH pattern: at most two `*` (see the header).
    fn pattern(&mut self) -> Vec<u8> {
        self.pick(&[
            "*", "k*", "{t}*", "*0", "?1", "[hk]*", "[^k]*", "h[0-1]", "*{t}*", "nomatch",
            "\\{t\\}*", "[a-z]?", "s*", "z?", "w_*", "*_*", "[", "\\", "l[12]",
        ])
    }

    fn keys_cmd(&mut self) -> Cmd {
        match self.r.u32(0..40) {
            0..=2 => {
                let name = self.pick(&["DEL", "UNLINK", "EXISTS", "TOUCH"]);
                let mut c = vec![self.w(std::str::from_utf8(&name).unwrap_or("DEL"))];
                for _ in 0..self.r.usize(1..5) {
                    c.push(self.any_key());
                }
                c
            }
            3..=4 => vec![self.w("TYPE"), self.any_key()],
            5..=9 => {
                let name = self.pick(&["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"]);
                let t = match &name[..] {
                    b"EXPIRE" => self.ttl_s(),
                    b"PEXPIRE" => self.ttl_ms(),
                    b"EXPIREAT" => self.at_s(),
                    _ => self.at_ms(),
                };
                let mut c = vec![
                    self.w(std::str::from_utf8(&name).unwrap_or("EXPIRE")),
                    self.any_key(),
                    t,
                ];
                for _ in 0..self.r.usize(0..3).saturating_sub(1) {
                    c.push(self.pick(&["NX", "XX", "GT", "LT", "nx", "gt", "FOO"]));
                }
                c
            }
            10..=13 => {
                let name = self.pick(&["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]);
                vec![
                    self.w(std::str::from_utf8(&name).unwrap_or("TTL")),
                    self.any_key(),
                ]
            }
            14 => vec![self.w("PERSIST"), self.any_key()],
            15..=17 => {
                let sub = match self.r.u32(0..12) {
                    0 => self.pick(&["REFCOUNT", "FOO", "encoding"]),
                    _ => self.w("ENCODING"),
                };
                vec![self.w("OBJECT"), sub, self.any_key()]
            }
            18 => vec![self.w("KEYS"), self.pattern()],
            19..=20 => {
                let mut c = vec![self.w("SCAN"), self.scan_cursor()];
                self.scan_opts(&mut c, true);
                c
            }
            21 => vec![self.w("RANDOMKEY")],
            22..=24 => {
                let name = if self.r.bool() { "RENAME" } else { "RENAMENX" };
                let a = self.any_key();
                let d = if self.chance(10) {
                    a.clone()
                } else {
                    self.any_key()
                };
                vec![self.w(name), a, d]
            }
            25..=27 => {
                let a = self.any_key();
                let d = if self.chance(10) {
                    a.clone()
                } else {
                    self.any_key()
                };
                let mut c = vec![self.w("COPY"), a, d];
                if self.chance(40) {
                    c.push(self.w("DB"));
                    c.push(self.db_index());
                }
                if self.chance(40) {
                    c.push(self.w("REPLACE"));
                }
                if self.chance(5) {
                    c.push(b("DB"));
                }
                c
            }
            28 => vec![self.w("DBSIZE")],
            29 => {
                let mut c = vec![self.w("FLUSHDB")];
                if self.chance(30) {
                    c.push(self.pick(&["ASYNC", "SYNC", "sync", "FOO"]));
                }
                c
            }
            30 => {
                if self.chance(30) {
                    vec![self.w("FLUSHALL")]
                } else {
                    vec![self.w("DBSIZE")]
                }
            }
            31..=34 => {
                // Not an index outside the C int range (see the header).
                let mut i = self.db_index();
                if i == b"99999999999" {
                    i = b("2147483647");
                }
                vec![self.w("SELECT"), i]
            }
            35 | 36 => vec![self.w("SWAPDB"), self.db_index(), self.db_index()],
            37 => vec![self.w("ECHO"), self.val()],
            38 => match self.r.u32(0..10) {
                // RESET: back to RESP2 and database 0 on both servers.
                0 => vec![self.w("RESET")],
                1 => vec![self.w("AUTH"), self.pick(&["pw", "default", ""])],
                _ => {
                    let mut c = vec![self.w("PING")];
                    if self.r.bool() {
                        c.push(self.val());
                    }
                    c
                }
            },
            39 if self.chance(30) => {
                // Switch protocol mid-sequence (HELLO's reply names the
                // server: only its kind is compared), or a bad version.
                vec![self.w("HELLO"), self.pick(&["2", "3", "3", "4", "abc"])]
            }
            _ => {
                // A plain argument: tandem's IO stage (code under change)
                // quotes binary arguments of unknown commands differently
                // (Redis stops at a NUL byte; see the header).
                let m = self.member_plain();
                vec![self.pick(&["NOSUCHCMD", "GETT", "MOVE2"]), m]
            }
        }
    }

    /// A SCAN cursor: 0 (then iterated to the end) or an invalid one.
    fn scan_cursor(&mut self) -> Vec<u8> {
        // 0 (then iterated to the end), spelled as strtoul also reads 0, or
        // an invalid one; never another valid cursor (what it returns
        // depends on the table layout).
        match self.r.u32(0..20) {
            0 => self.pick(&["abc", "18446744073709551616", "1.5", " 1", "0x1"]),
            1 => self.pick(&["", "00", "+0", "-0"]),
            _ => b("0"),
        }
    }

    fn scan_opts(&mut self, c: &mut Cmd, with_type: bool) {
        for _ in 0..self.r.usize(0..3) {
            match self.r.u32(0..10) {
                0..=3 => {
                    c.push(self.w("MATCH"));
                    let p = if with_type {
                        self.pattern()
                    } else {
                        self.pick(&[
                            "*", "a*", "*1*", "?", "[a-c]", "m1*", "f*", "1*", "nomatch", "*e",
                        ])
                    };
                    c.push(p);
                }
                4..=7 => {
                    c.push(self.w("COUNT"));
                    c.push(match self.r.u32(0..10) {
                        0 => self.pick(&["0", "-1", "abc", "1000000000"]),
                        _ => self.pick(&["1", "2", "3", "10", "100"]),
                    });
                }
                8 if with_type => {
                    c.push(self.w("TYPE"));
                    c.push(self.pick(&["string", "list", "set", "zset", "hash", "foo", "SET"]));
                }
                _ => c.push(b("NOSUCHOPT")),
            }
        }
    }

    fn end(&mut self) -> Vec<u8> {
        let e = if self.r.bool() { "LEFT" } else { "RIGHT" };
        if self.chance(3) {
            b("MIDDLE")
        } else {
            self.w(e)
        }
    }

    fn list_cmd(&mut self) -> Cmd {
        let k = self.key(Fam::List);
        match self.r.u32(0..40) {
            0..=5 => {
                let name = self.pick(&["LPUSH", "RPUSH", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]);
                let mut c = vec![self.w(std::str::from_utf8(&name).unwrap_or("LPUSH")), k];
                for _ in 0..self.r.usize(1..5) {
                    c.push(self.val());
                }
                c
            }
            6..=8 => {
                let name = if self.r.bool() { "LPOP" } else { "RPOP" };
                let mut c = vec![self.w(name), k];
                if self.r.bool() {
                    c.push(self.int_arg(-1, 5));
                }
                c
            }
            9 => vec![self.w("LLEN"), k],
            10..=12 => vec![
                self.w("LRANGE"),
                k,
                self.int_arg(-10, 10),
                self.int_arg(-10, 10),
            ],
            13 => vec![self.w("LINDEX"), k, self.int_arg(-10, 10)],
            14 => vec![self.w("LSET"), k, self.int_arg(-6, 6), self.val()],
            15 | 16 => {
                let w = match self.r.u32(0..10) {
                    0 => b("MIDDLE"),
                    1..=5 => self.w("BEFORE"),
                    _ => self.w("AFTER"),
                };
                vec![self.w("LINSERT"), k, w, self.val(), self.val()]
            }
            17 => vec![self.w("LREM"), k, self.int_arg(-3, 3), self.val()],
            18 => vec![self.w("LTRIM"), k, self.int_arg(-8, 8), self.int_arg(-8, 8)],
            19..=21 => {
                let mut c = vec![self.w("LPOS"), k, self.val()];
                for _ in 0..self.r.usize(0..4) {
                    match self.r.u32(0..4) {
                        0 => {
                            c.push(self.w("RANK"));
                            c.push(match self.r.u32(0..8) {
                                0 => self.pick(&["0", "-9223372036854775807", "abc"]),
                                _ => self.r.i64(-3..=3).to_string().into_bytes(),
                            });
                        }
                        1 => {
                            c.push(self.w("COUNT"));
                            c.push(self.int_arg(-1, 4));
                        }
                        2 => {
                            c.push(self.w("MAXLEN"));
                            c.push(self.int_arg(-1, 6));
                        }
                        _ => c.push(b("FOO")),
                    }
                }
                c
            }
            22..=24 => {
                let d = self.key(Fam::List);
                vec![self.w("LMOVE"), k, d, self.end(), self.end()]
            }
            25 => vec![self.w("RPOPLPUSH"), k, self.key(Fam::List)],
            26..=28 => {
                let name = if self.chance(80) { "LMPOP" } else { "BLMPOP" };
                let mut c = vec![self.w(name)];
                if name == "BLMPOP" {
                    c.push(self.timeout());
                }
                let keys = self.keys(Fam::List, 3);
                let nk = match self.r.u32(0..15) {
                    0 => self.pick(&["0", "-1", "abc", "5", "99999999999"]),
                    _ => keys.len().to_string().into_bytes(),
                };
                c.push(nk);
                c.extend(keys);
                c.push(self.end());
                if self.r.bool() {
                    c.push(self.w("COUNT"));
                    c.push(self.int_arg(-1, 4));
                }
                c
            }
            29..=31 => {
                let name = if self.r.bool() { "BLPOP" } else { "BRPOP" };
                let mut c = vec![self.w(name)];
                c.extend(self.keys(Fam::List, 3));
                c.push(self.timeout());
                c
            }
            32 => vec![self.w("BRPOPLPUSH"), k, self.key(Fam::List), self.timeout()],
            33 => {
                let d = self.key(Fam::List);
                vec![
                    self.w("BLMOVE"),
                    k,
                    d,
                    self.end(),
                    self.end(),
                    self.timeout(),
                ]
            }
            34 => vec![self.w("OBJECT"), self.w("ENCODING"), k],
            35 => vec![self.w("SET"), k, self.val()],
            _ => vec![self.w("LRANGE"), k, b("0"), b("-1")],
        }
    }

    fn hash_cmd(&mut self) -> Cmd {
        let k = self.key(Fam::Hash);
        match self.r.u32(0..36) {
            0..=6 => {
                let name = if self.chance(80) { "HSET" } else { "HMSET" };
                let mut c = vec![self.w(name), k];
                for _ in 0..self.r.usize(1..4) {
                    c.push(self.member());
                    c.push(self.val());
                }
                c
            }
            7 => vec![self.w("HSETNX"), k, self.member(), self.val()],
            8..=9 => vec![self.w("HGET"), k, self.member()],
            10 => {
                let mut c = vec![self.w("HMGET"), k];
                c.extend(self.members(4));
                c
            }
            11..=13 => vec![self.w("HGETALL"), k],
            14..=15 => {
                let mut c = vec![self.w("HDEL"), k];
                c.extend(self.members(3));
                c
            }
            16 => vec![self.w("HEXISTS"), k, self.member()],
            17 => vec![self.w("HLEN"), k],
            18 => vec![self.w("HSTRLEN"), k, self.member()],
            19 => vec![self.w("HKEYS"), k],
            20 => vec![self.w("HVALS"), k],
            21..=22 => {
                // Small increments on the HINCRBYFLOAT fields (see the
                // header), any on the others.
                let (f, by) = if self.r.bool() {
                    (self.member(), self.int_arg(-50, 50))
                } else {
                    let f = format!("fl{}", self.r.u8(0..3)).into_bytes();
                    (f, self.r.i64(-50..=50).to_string().into_bytes())
                };
                vec![self.w("HINCRBY"), k, f, by]
            }
            23..=24 => {
                // See the header: dyadic increments on fields of their own.
                let f = match self.r.u32(0..8) {
                    0 => self.pick(&["abc", "nan", "", " 1"]),
                    _ => self.pick(&["1.5", "-0.25", "3", "0.5", "1e3", "-2", "2.5e-1"]),
                };
                let field = format!("fl{}", self.r.u8(0..3)).into_bytes();
                vec![self.w("HINCRBYFLOAT"), k, field, f]
            }
            25..=27 => {
                let mut c = vec![self.w("HRANDFIELD"), k];
                if self.chance(70) {
                    c.push(self.rand_count());
                    if self.r.bool() {
                        c.push(if self.chance(90) {
                            self.w("WITHVALUES")
                        } else {
                            b("WITHSCORES")
                        });
                    }
                }
                c
            }
            28..=30 => {
                let mut c = vec![self.w("HSCAN"), k, self.scan_cursor()];
                self.scan_opts(&mut c, false);
                c
            }
            31 => vec![self.w("OBJECT"), self.w("ENCODING"), k],
            32 => {
                // A long field or value converts the encoding.
                let f = self.long_str(60, 70);
                vec![self.w("HSET"), k, f, self.val()]
            }
            _ => vec![self.w("HGETALL"), k],
        }
    }

    fn set_algebra_keys(&mut self, c: &mut Cmd, max: usize) {
        for _ in 0..self.r.usize(1..=max) {
            c.push(self.key(Fam::Set));
        }
    }

    fn set_cmd(&mut self) -> Cmd {
        let k = self.key(Fam::Set);
        match self.r.u32(0..40) {
            0..=7 => {
                let mut c = vec![self.w("SADD"), k];
                c.extend(self.members(5));
                c
            }
            8..=9 => {
                let mut c = vec![self.w("SREM"), k];
                c.extend(self.members(3));
                c
            }
            10..=11 => vec![self.w("SMEMBERS"), k],
            12 => vec![self.w("SISMEMBER"), k, self.member()],
            13 => {
                let mut c = vec![self.w("SMISMEMBER"), k];
                c.extend(self.members(4));
                c
            }
            14 => vec![self.w("SCARD"), k],
            15..=16 => {
                let mut c = vec![self.w("SPOP"), k];
                if self.r.bool() {
                    c.push(self.int_arg(-1, 6));
                }
                c
            }
            17..=18 => {
                let mut c = vec![self.w("SRANDMEMBER"), k];
                if self.chance(70) {
                    c.push(self.rand_count());
                }
                c
            }
            19..=20 => vec![self.w("SMOVE"), k, self.key(Fam::Set), self.member()],
            21..=26 => {
                let name = self.pick(&["SINTER", "SUNION", "SDIFF"]);
                let mut c = vec![self.w(std::str::from_utf8(&name).unwrap_or("SINTER"))];
                c.push(k);
                self.set_algebra_keys(&mut c, 3);
                c
            }
            27..=30 => {
                let name = self.pick(&["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]);
                let mut c = vec![
                    self.w(std::str::from_utf8(&name).unwrap_or("SINTERSTORE")),
                    self.key(Fam::Set),
                    k,
                ];
                self.set_algebra_keys(&mut c, 2);
                c
            }
            31..=32 => {
                let mut c = vec![self.w("SINTERCARD")];
                let mut keys = vec![k];
                self.set_algebra_keys(&mut keys, 2);
                c.push(match self.r.u32(0..15) {
                    0 => self.pick(&["0", "-1", "abc", "9"]),
                    _ => keys.len().to_string().into_bytes(),
                });
                c.extend(keys);
                if self.r.bool() {
                    c.push(self.w("LIMIT"));
                    c.push(self.int_arg(-1, 4));
                }
                c
            }
            33..=35 => {
                let mut c = vec![self.w("SSCAN"), k, self.scan_cursor()];
                self.scan_opts(&mut c, false);
                c
            }
            36 => vec![self.w("OBJECT"), self.w("ENCODING"), k],
            37 => {
                let mut c = vec![self.w("SADD"), k];
                for _ in 0..self.r.usize(1..6) {
                    c.push(self.small_int());
                }
                c
            }
            _ => vec![self.w("SMEMBERS"), k],
        }
    }

    fn zadd(&mut self, k: Vec<u8>) -> Cmd {
        let mut c = vec![self.w("ZADD"), k];
        for _ in 0..self.r.usize(0..3) {
            let o = self.pick(&["NX", "XX", "GT", "LT", "CH", "INCR", "CH", "GT"]);
            c.push(self.w(std::str::from_utf8(&o).unwrap_or("CH")));
        }
        for _ in 0..self.r.usize(1..4) {
            c.push(self.score());
            c.push(self.member());
        }
        if self.chance(4) {
            c.push(self.member()); // odd arity: syntax error
        }
        c
    }

    fn limit(&mut self, c: &mut Cmd) {
        c.push(self.w("LIMIT"));
        c.push(self.int_arg(-2, 4));
        c.push(self.int_arg(-2, 5));
    }

    /// ZRANGE in all its forms (index, BYSCORE, BYLEX, REV, LIMIT,
    /// WITHSCORES), with ZRANGESTORE's destination when `store`.
    fn zrange(&mut self, k: Vec<u8>, store: bool) -> Cmd {
        let mut c = if store {
            vec![self.w("ZRANGESTORE"), self.key(Fam::ZSet), k]
        } else {
            vec![self.w("ZRANGE"), k]
        };
        let by = self.r.u32(0..3);
        match by {
            0 => {
                c.push(self.int_arg(-6, 6));
                c.push(self.int_arg(-6, 6));
            }
            1 => {
                c.push(self.score_bound());
                c.push(self.score_bound());
            }
            _ => {
                c.push(self.lex_bound());
                c.push(self.lex_bound());
            }
        }
        if by == 2 {
            // Lex ranges only over equal scores (see Fam::Lex).
            let at = if store { 2 } else { 1 };
            c[at] = self.key(Fam::Lex);
            if store && self.r.bool() {
                c[1] = self.key(Fam::Lex);
            }
        }
        let mut opts: Vec<Cmd> = Vec::new();
        if by == 1 || (by == 0 && self.chance(10)) {
            opts.push(vec![self.w("BYSCORE")]);
        }
        if by == 2 || (by == 0 && self.chance(10)) {
            opts.push(vec![self.w("BYLEX")]);
        }
        if self.chance(35) {
            opts.push(vec![self.w("REV")]);
        }
        if self.chance(35) {
            let mut l = Vec::new();
            self.limit(&mut l);
            opts.push(l);
        }
        if self.chance(40) {
            opts.push(vec![self.w("WITHSCORES")]);
        }
        if self.chance(4) {
            opts.push(vec![b("BOGUS")]);
        }
        self.r.shuffle(&mut opts);
        for o in opts {
            c.extend(o);
        }
        c
    }

    fn zset_keys(&mut self, max: usize) -> Vec<Vec<u8>> {
        let n = self.r.usize(1..=max);
        (0..n)
            .map(|_| {
                if self.chance(15) {
                    self.key(Fam::Set) // sets are valid inputs (score 1)
                } else {
                    self.key(Fam::ZSet)
                }
            })
            .collect()
    }

    /// ZUNION/ZINTER/ZDIFF(+STORE), ZINTERCARD, ZMPOP, BZMPOP argument tails.
    fn zalgebra(&mut self) -> Cmd {
        let name = self.pick(&[
            "ZUNION",
            "ZINTER",
            "ZDIFF",
            "ZUNIONSTORE",
            "ZINTERSTORE",
            "ZDIFFSTORE",
        ]);
        let store = name.ends_with(b"STORE");
        let diff = name.starts_with(b"ZDIFF");
        let mut c = vec![self.w(std::str::from_utf8(&name).unwrap_or("ZUNION"))];
        if store {
            c.push(self.key(Fam::ZSet));
        }
        let keys = self.zset_keys(3);
        c.push(match self.r.u32(0..15) {
            0 => self.pick(&["0", "-1", "abc", "7"]),
            _ => keys.len().to_string().into_bytes(),
        });
        let nk = keys.len();
        c.extend(keys);
        let mut opts: Vec<Cmd> = Vec::new();
        if self.chance(if diff { 8 } else { 40 }) {
            let mut w = vec![self.w("WEIGHTS")];
            let n = if self.chance(90) { nk } else { nk + 1 };
            for _ in 0..n {
                w.push(self.score());
            }
            opts.push(w);
        }
        if self.chance(if diff { 8 } else { 40 }) {
            let a = self.pick(&["SUM", "MIN", "MAX", "sum", "max", "AVG"]);
            opts.push(vec![self.w("AGGREGATE"), a]);
        }
        if !store && self.chance(50) {
            opts.push(vec![self.w("WITHSCORES")]);
        }
        if store && self.chance(3) {
            opts.push(vec![self.w("WITHSCORES")]);
        }
        self.r.shuffle(&mut opts);
        for o in opts {
            c.extend(o);
        }
        c
    }

    fn zset_cmd(&mut self) -> Cmd {
        let k = self.key(Fam::ZSet);
        match self.r.u32(0..64) {
            0..=7 => self.zadd(k),
            8..=9 => vec![self.w("ZINCRBY"), k, self.score(), self.member()],
            10..=11 => {
                let mut c = vec![self.w("ZREM"), k];
                c.extend(self.members(3));
                c
            }
            12 => vec![self.w("ZSCORE"), k, self.member()],
            13 => {
                let mut c = vec![self.w("ZMSCORE"), k];
                c.extend(self.members(3));
                c
            }
            14 => vec![self.w("ZCARD"), k],
            15 => vec![self.w("ZCOUNT"), k, self.score_bound(), self.score_bound()],
            16 => vec![
                self.w("ZLEXCOUNT"),
                self.key(Fam::Lex),
                self.lex_bound(),
                self.lex_bound(),
            ],
            17 => {
                let name = if self.r.bool() { "ZRANK" } else { "ZREVRANK" };
                vec![self.w(name), k, self.member()]
            }
            18..=23 => self.zrange(k, false),
            24..=25 => self.zrange(k, true),
            26..=29 => {
                let name = self.pick(&[
                    "ZRANGEBYSCORE",
                    "ZREVRANGEBYSCORE",
                    "ZRANGEBYLEX",
                    "ZREVRANGEBYLEX",
                ]);
                let lex = name.ends_with(b"LEX");
                let k = if lex { self.key(Fam::Lex) } else { k };
                let mut c = vec![
                    self.w(std::str::from_utf8(&name).unwrap_or("ZRANGEBYSCORE")),
                    k,
                ];
                if lex {
                    c.push(self.lex_bound());
                    c.push(self.lex_bound());
                } else {
                    c.push(self.score_bound());
                    c.push(self.score_bound());
                }
                if self.chance(if lex { 5 } else { 40 }) {
                    c.push(self.w("WITHSCORES"));
                }
                if self.chance(35) {
                    self.limit(&mut c);
                }
                c
            }
            30 => {
                let mut c = vec![
                    self.w("ZREVRANGE"),
                    k,
                    self.int_arg(-6, 6),
                    self.int_arg(-6, 6),
                ];
                if self.r.bool() {
                    c.push(self.w("WITHSCORES"));
                }
                c
            }
            31 => vec![
                self.w("ZREMRANGEBYRANK"),
                k,
                self.int_arg(-5, 5),
                self.int_arg(-5, 5),
            ],
            32 => vec![
                self.w("ZREMRANGEBYSCORE"),
                k,
                self.score_bound(),
                self.score_bound(),
            ],
            33 => vec![
                self.w("ZREMRANGEBYLEX"),
                self.key(Fam::Lex),
                self.lex_bound(),
                self.lex_bound(),
            ],
            34..=35 => {
                let name = if self.r.bool() { "ZPOPMIN" } else { "ZPOPMAX" };
                let mut c = vec![self.w(name), k];
                if self.r.bool() {
                    c.push(self.int_arg(-1, 4));
                }
                c
            }
            36..=37 => {
                let name = if self.chance(80) { "ZMPOP" } else { "BZMPOP" };
                let mut c = vec![self.w(name)];
                if name == "BZMPOP" {
                    c.push(self.timeout());
                }
                let keys = self.zset_keys(3);
                c.push(match self.r.u32(0..15) {
                    0 => self.pick(&["0", "-1", "abc", "5"]),
                    _ => keys.len().to_string().into_bytes(),
                });
                c.extend(keys);
                c.push(match self.r.u32(0..20) {
                    0 => b("MIDDLE"),
                    1..=10 => self.w("MIN"),
                    _ => self.w("MAX"),
                });
                if self.r.bool() {
                    c.push(self.w("COUNT"));
                    c.push(self.int_arg(-1, 4));
                }
                c
            }
            38 => {
                let name = if self.r.bool() {
                    "BZPOPMIN"
                } else {
                    "BZPOPMAX"
                };
                let mut c = vec![self.w(name)];
                c.extend(self.zset_keys(3));
                c.push(self.timeout());
                c
            }
            39..=41 => {
                let mut c = vec![self.w("ZRANDMEMBER"), k];
                if self.chance(70) {
                    c.push(self.rand_count());
                    if self.r.bool() {
                        c.push(if self.chance(90) {
                            self.w("WITHSCORES")
                        } else {
                            b("WITHVALUES")
                        });
                    }
                }
                c
            }
            42..=49 => self.zalgebra(),
            50..=51 => {
                let mut c = vec![self.w("ZINTERCARD")];
                let keys = self.zset_keys(3);
                c.push(match self.r.u32(0..15) {
                    0 => self.pick(&["0", "-1", "abc"]),
                    _ => keys.len().to_string().into_bytes(),
                });
                c.extend(keys);
                if self.r.bool() {
                    c.push(self.w("LIMIT"));
                    c.push(self.int_arg(-1, 4));
                }
                c
            }
            52..=54 => {
                let mut c = vec![self.w("ZSCAN"), k, self.scan_cursor()];
                self.scan_opts(&mut c, false);
                c
            }
            55 => vec![self.w("OBJECT"), self.w("ENCODING"), k],
            56 => {
                let m = self.long_str(60, 70);
                vec![self.w("ZADD"), k, self.score(), m]
            }
            57 | 58 => self.lex_write(),
            _ => vec![self.w("ZRANGE"), k, b("0"), b("-1"), b("WITHSCORES")],
        }
    }

    /// Writes to a Fam::Lex key: every score is 0.
    fn lex_write(&mut self) -> Cmd {
        let k = self.key(Fam::Lex);
        match self.r.u32(0..10) {
            0..=5 => {
                let mut c = vec![self.w("ZADD"), k];
                if self.chance(30) {
                    let o = self.pick(&["NX", "XX", "CH", "GT", "LT", "INCR"]);
                    c.push(o);
                }
                let n = if c.last().is_some_and(|o| o == b"INCR") {
                    1
                } else {
                    self.r.usize(1..5)
                };
                for _ in 0..n {
                    c.push(self.pick(&["0", "0", "-0", "0.0"]));
                    c.push(self.member());
                }
                c
            }
            6 => vec![self.w("ZINCRBY"), k, b("0"), self.member()],
            7 => {
                let mut c = vec![self.w("ZREM"), k];
                c.extend(self.members(3));
                c
            }
            8 => {
                // Past the listpack limits: 128 members.
                let mut c = vec![self.w("ZADD"), k];
                for i in 0..self.r.usize(120..140) {
                    c.push(b("0"));
                    c.push(format!("m{i}").into_bytes());
                }
                c
            }
            _ => vec![self.w("ZRANGE"), k, b("0"), b("-1"), b("WITHSCORES")],
        }
    }

    fn sort_cmd(&mut self) -> Cmd {
        let ro = self.chance(25);
        let fam = match self.r.u32(0..3) {
            0 => Fam::List,
            1 => Fam::Set,
            _ => Fam::ZSet,
        };
        let mut c = vec![self.w(if ro { "SORT_RO" } else { "SORT" }), self.key(fam)];
        let mut opts: Vec<Cmd> = Vec::new();
        if self.chance(40) {
            let p = self.pick(&[
                "w_*", "nosort", "o_*->f", "o_*->g", "{t}w_*", "nokey_*", "w_*->f", "w_", "o_*->",
            ]);
            opts.push(vec![self.w("BY"), p]);
        }
        if self.chance(30) {
            let mut l = Vec::new();
            self.limit(&mut l);
            opts.push(l);
        }
        for _ in 0..self.r.usize(0..3).saturating_sub(1) {
            let p = self.pick(&["#", "w_*", "o_*->f", "o_*->g", "nokey_*", "{t}w_*"]);
            opts.push(vec![self.w("GET"), p]);
        }
        if self.chance(30) {
            let dir = if self.r.bool() { "ASC" } else { "DESC" };
            opts.push(vec![self.w(dir)]);
        }
        if self.chance(45) {
            opts.push(vec![self.w("ALPHA")]);
        }
        if !ro && self.chance(25) {
            opts.push(vec![self.w("STORE"), self.key(Fam::List)]);
        }
        if self.chance(3) {
            opts.push(vec![b("BOGUS")]);
        }
        self.r.shuffle(&mut opts);
        for o in opts {
            c.extend(o);
        }
        c
    }
}
