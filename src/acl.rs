//! Users and their permissions (ACL), as Redis 7.0's `src/acl.c` defines
//! them (<https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/>).
//!
//! A user has passwords (kept as SHA-256 hashes, compared in constant
//! time), an on/off switch and one or more selectors: the root one and
//! any added with `(...)`. A selector allows commands (a bit per command
//! and subcommand of [`spec::ACL_COMMANDS`], set by `+cmd`, `-cmd`,
//! `+@category`, ...), key patterns (`~p` read and write, `%R~p` read,
//! `%W~p` write) and channel patterns (`&p`). A call is allowed when one
//! selector allows its command and all its keys and channels.
//!
//! [`Acl`] is the server's set of users and its ACL LOG, shared by every
//! IO thread; connections hold an `Arc<User>` and pick up a changed user
//! when [`Acl::generation`] moves. The commands that reach it (ACL, AUTH,
//! HELLO AUTH) live in `net::local`; the checks run in the IO stage
//! before a command is routed, and on the shard for each call a script
//! makes ([`Caller`]).

use crate::resp::parse::split_args;
use crate::spec::{self, AclId, CmdId, CommandSpec, access, cat, flag};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Why a call was refused, and the argument that caused it (Redis's
/// `ACL_DENIED_*` codes, whose order decides which of several selectors'
/// reasons is reported).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    /// The command or subcommand is not allowed.
    Command,
    /// Key argument `args[i]` matches no pattern with the access it needs.
    Key(usize),
    /// Channel argument `args[i]` matches no channel pattern.
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Channel(i) => (4, i),
        }
    }

    /// The NOPERM error a refused call answers, as `processCommand`
    /// words it.
    pub fn error(self, command: &str) -> String {
        match self {
            Denied::Command => {
                format!("NOPERM this user has no permissions to run the '{command}' command")
            }
            Denied::Key(_) => {
                "NOPERM this user has no permissions to access one of the keys used as arguments"
                    .into()
            }
            Denied::Channel(_) => "NOPERM this user has no permissions to access one of the channels used as arguments".into(),
        }
    }

    /// The reason a script's refused call gives (`getAclErrorMessage`).
    pub fn script_reason(self) -> &'static str {
        match self {
            Denied::Command => "can't run this command or subcommand",
            Denied::Key(_) => {
                "can't access at least one of the keys mentioned in the command arguments"
            }
            Denied::Channel(_) => "can't publish to the channel mentioned in the command",
        }
    }

    /// The reason EXEC gives for a queued call the user may no longer
    /// run (`execCommand`).
    pub fn exec_reason(self) -> &'static str {
        match self {
            Denied::Command => "no permission to execute the command or subcommand",
            Denied::Key(_) => "no permission to touch the specified keys",
            Denied::Channel(_) => "no permission to access one of the channels used as arguments",
        }
    }
}

/// A call's keys and channels, found once for all of a user's selectors
/// (Redis's `aclKeyResultCache`).
struct Call {
    /// (argument index, key-spec flags).
    keys: spec::keyspecs::Keys,
    channels: Vec<(usize, bool)>,
}

/// A key pattern and the access it grants ([`access`] bits; both for
/// `~`).
#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyPattern {
    pattern: Glob,
    flags: u8,
}

/// A key or channel pattern, with the shape it was found to have when
/// the rule was set: most are a name or a prefix and a `*`, which a
/// comparison matches faster than the glob matcher.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Glob {
    text: Vec<u8>,
    shape: Shape,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// No special character: the name itself.
    Exact,
    /// One `*`, last: anything starting with the rest.
    Prefix,
    /// Anything else: [`crate::glob::matches`].
    Other,
}

impl Glob {
    fn new(text: &[u8]) -> Glob {
        let special = |b: &u8| matches!(b, b'*' | b'?' | b'[' | b'\\');
        let shape = match text.iter().position(special) {
            None => Shape::Exact,
            Some(i) if i + 1 == text.len() && text[i] == b'*' => Shape::Prefix,
            Some(_) => Shape::Other,
        };
        Glob {
            text: text.to_vec(),
            shape,
        }
    }

    /// Whether `s` matches, as Redis's `stringmatchlen` (case-sensitive).
    fn matches(&self, s: &[u8]) -> bool {
        match self.shape {
            Shape::Exact => self.text == s,
            // As in Redis, the empty string matches no `*`.
            Shape::Prefix => !s.is_empty() && s.starts_with(&self.text[..self.text.len() - 1]),
            Shape::Other => crate::glob::matches(&self.text, s, false),
        }
    }
}

/// A set of permissions: commands, key patterns, channel patterns.
#[derive(Clone, Debug)]
struct Selector {
    root: bool,
    /// `allcommands` / `+@all` and not narrowed since: no bit is checked.
    all_commands: bool,
    /// `+@all` was the last of `+@all`/`-@all`: described as `+@all`
    /// and then what was taken away (Redis's reserved "future commands"
    /// bit).
    future: bool,
    /// A bit per [`AclId`].
    allowed: Vec<u64>,
    /// `+select|0`: first arguments allowed of an otherwise denied
    /// command, as given.
    first_args: Vec<(AclId, Vec<Vec<u8>>)>,
    all_keys: bool,
    patterns: Vec<KeyPattern>,
    all_channels: bool,
    channels: Vec<Glob>,
}

/// An error in an ACL rule, shown as Redis's `ACLSetUserStringError`
/// words it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    UnknownName,
    Syntax,
    KeyAfterAll,
    ChannelAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => {
                "Allowing first-arg of a subcommand is not supported"
            }
        }
    }
}

fn has_space(s: &[u8]) -> bool {
    s.iter().any(|&b| b == b' ' || b == 0)
}

fn words() -> usize {
    spec::ACL_COMMANDS.len().div_ceil(64)
}

impl Selector {
    fn new(root: bool, channels_default_all: bool) -> Selector {
        Selector {
            root,
            all_commands: false,
            future: false,
            allowed: vec![0; words()],
            first_args: Vec::new(),
            all_keys: false,
            patterns: Vec::new(),
            all_channels: channels_default_all,
            channels: Vec::new(),
        }
    }

    fn bit(&self, a: usize) -> bool {
        self.allowed
            .get(a / 64)
            .is_some_and(|w| w & (1 << (a % 64)) != 0)
    }

    fn set_bit(&mut self, a: usize, on: bool) {
        if let Some(w) = self.allowed.get_mut(a / 64) {
            if on {
                *w |= 1 << (a % 64);
            } else {
                *w &= !(1 << (a % 64));
                self.all_commands = false;
            }
        }
    }

    /// `ACLChangeSelectorPerm`: a command and all its subcommands.
    fn change(&mut self, a: AclId, on: bool) {
        self.set_bit(a as usize, on);
        self.first_args.retain(|(id, _)| *id != a);
        for sub in spec::acl_subcommands(a) {
            self.set_bit(sub, on);
        }
    }

    fn change_category(&mut self, c: u32, on: bool) {
        for (i, (_, _, cats)) in spec::ACL_COMMANDS.iter().enumerate() {
            if cats & c != 0 {
                self.change(i as AclId, on);
            }
        }
    }

    /// Applies one selector rule (`ACLSetSelector`).
    fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if op.is_empty() {
            // `("" +get)`: nothing Redis knows either.
            return Err(RuleError::Syntax);
        }
        if is("allkeys") || op == b"~*" {
            self.all_keys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.patterns.clear();
        } else if is("allchannels") || op == b"&*" {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.allowed.iter_mut().for_each(|w| *w = u64::MAX);
            self.all_commands = true;
            self.future = true;
            self.first_args.clear();
        } else if is("nocommands") || is("-@all") {
            self.allowed.iter_mut().for_each(|w| *w = 0);
            self.all_commands = false;
            self.future = false;
            self.first_args.clear();
        } else if op[0] == b'~' || op[0] == b'%' {
            if self.all_keys {
                return Err(RuleError::KeyAfterAll);
            }
            let mut flags = 0u8;
            let mut offset = 1;
            if op[0] == b'%' {
                loop {
                    match op.get(offset).map(u8::to_ascii_uppercase) {
                        Some(b'R') if flags & access::READ == 0 => flags |= access::READ,
                        Some(b'W') if flags & access::WRITE == 0 => flags |= access::WRITE,
                        Some(b'~') => {
                            offset += 1;
                            break;
                        }
                        // `%R` with no `~`: Redis takes the empty pattern.
                        None if flags != 0 => break,
                        // A bare `%`: Redis takes a pattern granting
                        // nothing, then aborts describing it; refused.
                        _ => return Err(RuleError::Syntax),
                    }
                    offset += 1;
                }
            } else {
                flags = access::READ | access::WRITE;
            }
            let pattern = &op[offset..];
            if has_space(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|p| p.pattern.text == pattern) {
                Some(p) => p.flags |= flags,
                None => self.patterns.push(KeyPattern {
                    pattern: Glob::new(pattern),
                    flags,
                }),
            }
            self.all_keys = false;
        } else if op[0] == b'&' {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pattern = &op[1..];
            if has_space(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c.text == pattern) {
                self.channels.push(Glob::new(pattern));
            }
            self.all_channels = false;
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let c = cat::by_name(&op[2..]).ok_or(RuleError::UnknownName)?;
            self.change_category(c, op[0] == b'+');
        } else if op[0] == b'+' || op[0] == b'-' {
            let name = String::from_utf8_lossy(&op[1..]).to_ascii_lowercase();
            if let Some(a) = spec::acl_lookup(&name) {
                self.change(a, op[0] == b'+');
            } else if op[0] == b'-' {
                return Err(RuleError::UnknownName);
            } else {
                // `+cmd|first-arg` of a command without subcommands.
                let raw = &op[1..];
                let bar = memchr::memrchr(b'|', raw).ok_or(RuleError::UnknownName)?;
                let cmd = String::from_utf8_lossy(&raw[..bar]).to_ascii_lowercase();
                let sub = &raw[bar + 1..];
                let a = spec::acl_lookup(&cmd).ok_or(RuleError::UnknownName)?;
                if cmd.contains('|') {
                    return Err(RuleError::FirstArgOfSubcommand);
                }
                if sub.is_empty() {
                    return Err(RuleError::Syntax);
                }
                if !spec::acl_subcommands(a).is_empty() {
                    // A container's unknown subcommand.
                    return Err(RuleError::UnknownName);
                }
                match self.first_args.iter_mut().find(|(id, _)| *id == a) {
                    Some((_, subs)) => {
                        if !subs.iter().any(|s| s.eq_ignore_ascii_case(sub)) {
                            subs.push(sub.to_vec());
                        }
                    }
                    None => self.first_args.push((a, vec![sub.to_vec()])),
                }
            }
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// Whether the selector may run command `a` with arguments `args`,
    /// whose keys and channels the caller found (`ACLSelectorCheckCmd`).
    fn check(&self, s: &CommandSpec, a: AclId, args: &[&[u8]], call: &Call) -> Result<(), Denied> {
        if !self.all_commands && !s.is(flag::NO_AUTH) && !self.bit(a as usize) {
            let idx = if spec::ACL_COMMANDS
                .get(a as usize)
                .is_some_and(|(n, _, _)| n.contains('|'))
            {
                2
            } else {
                1
            };
            let ok = self.first_args.iter().any(|(id, subs)| {
                *id == a
                    && args
                        .get(idx)
                        .is_some_and(|arg| subs.iter().any(|s| s.eq_ignore_ascii_case(arg)))
            });
            if !ok {
                return Err(Denied::Command);
            }
        }
        if !self.all_keys {
            for &(i, flags) in &call.keys {
                if !self.key_ok(args[i], spec::keyspecs::access(flags)) {
                    return Err(Denied::Key(i));
                }
            }
        }
        if !self.all_channels {
            for &(i, is_pattern) in &call.channels {
                if !self.channel_ok(args[i], is_pattern) {
                    return Err(Denied::Channel(i));
                }
            }
        }
        Ok(())
    }

    fn key_ok(&self, key: &[u8], need: u8) -> bool {
        self.all_keys
            || self
                .patterns
                .iter()
                .any(|p| p.flags & need == need && p.pattern.matches(key))
    }

    /// Channel patterns match a channel as globs, and a PSUBSCRIBE
    /// pattern only literally (`ACLCheckChannelAgainstList`).
    fn channel_ok(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels
            || self.channels.iter().any(|p| {
                if is_pattern {
                    p.text == channel
                } else {
                    p.matches(channel)
                }
            })
    }

    /// Whether it may read (and write, with [`access::WRITE`]) every key:
    /// `allkeys` or a `*` pattern granting that access
    /// (`ACLSelectorHasUnrestrictedKeyAccess`).
    fn all_keys_for(&self, need: u8) -> bool {
        self.all_keys
            || self
                .patterns
                .iter()
                .any(|p| p.flags & need == need && p.pattern.text == b"*")
    }

    /// Commands allowed and denied among those of category `c`.
    fn count_category(&self, c: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for (i, (_, _, cats)) in spec::ACL_COMMANDS.iter().enumerate() {
            if cats & c != 0 {
                if self.bit(i) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// The command rules that rebuild this selector's bitmap
    /// (`ACLDescribeSelectorCommandRules`): `+@all` or `-@all`, the
    /// categories that fit best, then single commands. Single commands
    /// come in [`spec::ACL_COMMANDS`]' order (Redis's follow its hash
    /// table's).
    fn describe_commands(&self) -> String {
        let mut rules = String::new();
        let mut fake = Selector::new(false, false);
        let additive = !self.future;
        let _ = fake.apply(if additive { b"-@all" } else { b"+@all" });
        rules.push_str(if additive { "-@all " } else { "+@all " });
        let mut temp = self.clone();
        let mut applied = [false; cat::NAMES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, done) in applied.iter().enumerate() {
                if *done {
                    continue;
                }
                let (on, off) = temp.count_category(1 << j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            fake.change_category(1 << j, additive);
            temp.change_category(1 << j, !additive);
            rules.push(if additive { '+' } else { '-' });
            rules.push('@');
            rules.push_str(cat::NAMES[j]);
            rules.push(' ');
            applied[j] = true;
        }
        for (i, (name, _, _)) in spec::ACL_COMMANDS.iter().enumerate() {
            let (mine, theirs) = (self.bit(i), fake.bit(i));
            if mine != theirs {
                rules.push(if mine { '+' } else { '-' });
                rules.push_str(name);
                rules.push(' ');
                fake.change(i as AclId, mine);
            }
            if !mine {
                if let Some((_, subs)) = self.first_args.iter().find(|(id, _)| *id as usize == i) {
                    for s in subs {
                        rules.push('+');
                        rules.push_str(name);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(s));
                        rules.push(' ');
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let v: Vec<String> = self
            .patterns
            .iter()
            .map(|p| {
                let head = match p.flags {
                    f if f == access::READ => "%R~",
                    f if f == access::WRITE => "%W~",
                    _ => "~",
                };
                format!("{head}{}", String::from_utf8_lossy(&p.pattern.text))
            })
            .collect();
        v.join(" ")
    }

    fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let v: Vec<String> = self
            .channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(&c.text)))
            .collect();
        v.join(" ")
    }

    /// `ACLDescribeSelector`: keys, channels, commands.
    fn describe(&self) -> String {
        let mut out = String::new();
        let keys = self.describe_keys();
        if !keys.is_empty() {
            out.push_str(&keys);
            out.push(' ');
        }
        if self.all_channels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            let ch = self.describe_channels();
            if !ch.is_empty() {
                out.push_str(&ch);
                out.push(' ');
            }
        }
        out.push_str(&self.describe_commands());
        out
    }
}

/// A user: name, flags, password hashes and selectors (the root one
/// first).
#[derive(Clone, Debug)]
pub struct User {
    pub name: String,
    enabled: bool,
    nopass: bool,
    /// `skip-sanitize-payload` (Some(true)) or `sanitize-payload`
    /// (Some(false)) if either was given.
    skip_sanitize: Option<bool>,
    /// SHA-256 of each password.
    passwords: Vec<[u8; 32]>,
    selectors: Vec<Selector>,
    /// May run anything: the root selector has every command, key and
    /// channel. The IO stage checks nothing for such a user.
    unrestricted: bool,
    /// Which user object this is: kept by ACL SETUSER's changes, new when
    /// a user is created (again) or reloaded, so connections logged in as
    /// a deleted or replaced user notice.
    incarnation: u64,
}

static INCARNATIONS: AtomicU64 = AtomicU64::new(1);

fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64
        || !s
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks(2).enumerate() {
        let d = |b: u8| {
            if b.is_ascii_digit() {
                b - b'0'
            } else {
                b - b'a' + 10
            }
        };
        out[i] = d(pair[0]) << 4 | d(pair[1]);
    }
    Some(out)
}

/// SHA-256 of a password (`ACLHashPassword`).
pub fn hash_password(p: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(p).into()
}

/// Compares two hashes in time independent of where they differ.
fn same_hash(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl User {
    /// A new user: off, no passwords, no permissions
    /// (`ACLCreateUser`).
    pub fn new(name: &str, channels_default_all: bool) -> User {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            skip_sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, channels_default_all)],
            unrestricted: false,
            incarnation: INCARNATIONS.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The `default` user: `on nopass ~* &* +@all`.
    pub fn default_user() -> User {
        let mut u = User::new("default", false);
        for r in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(r.as_bytes(), false);
        }
        u
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn nopass(&self) -> bool {
        self.nopass
    }

    /// See the field: equal for versions of one user object.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// Whether the user may run anything without checks.
    pub fn unrestricted(&self) -> bool {
        self.unrestricted
    }

    fn refresh(&mut self) {
        let r = &self.selectors[0];
        self.unrestricted = r.all_commands && r.all_keys && r.all_channels;
    }

    /// Applies one rule (`ACLSetUser`). Errors: [`RuleError`].
    pub fn apply(&mut self, op: &[u8], channels_default_all: bool) -> Result<(), RuleError> {
        let r = self.apply_inner(op, channels_default_all);
        self.refresh();
        r
    }

    fn apply_inner(&mut self, op: &[u8], channels_default_all: bool) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |w: &str| op.eq_ignore_ascii_case(w.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.skip_sanitize = Some(true);
        } else if is("sanitize-payload") {
            self.skip_sanitize = Some(false);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let h = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                unhex(&op[1..]).ok_or(RuleError::BadHash)?
            };
            if !self.passwords.contains(&h) {
                self.passwords.push(h);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let h = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                unhex(&op[1..]).ok_or(RuleError::BadHash)?
            };
            let i = self
                .passwords
                .iter()
                .position(|p| *p == h)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(i);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut s = Selector::new(false, channels_default_all);
            for rule in split_args(&op[1..op.len() - 1]).ok_or(RuleError::Syntax)? {
                s.apply(&rule)?;
            }
            self.selectors.push(s);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for r in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply_inner(r.as_bytes(), channels_default_all)?;
            }
            if channels_default_all {
                self.apply_inner(b"allchannels", channels_default_all)?;
            }
            for r in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply_inner(r.as_bytes(), channels_default_all)?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// Whether `pass` is one of the user's passwords (any, with
    /// `nopass`); every stored hash is compared, in constant time.
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let h = hash_password(pass);
        self.passwords
            .iter()
            .fold(false, |found, p| found | same_hash(p, &h))
    }

    /// What `args`, a call of command `id`, names that some selector
    /// restricts.
    fn call(&self, id: CmdId, a: AclId, args: &[&[u8]]) -> Call {
        let s = spec::get(id);
        Call {
            keys: if self.selectors.iter().all(|x| x.all_keys) {
                Default::default()
            } else {
                spec::keyspecs::find(id, a, args)
            },
            channels: if self.selectors.iter().all(|x| x.all_channels) {
                Vec::new()
            } else {
                spec::channel_args(s, args)
            },
        }
    }

    /// Whether the user may run this call of command `id` as ACL command
    /// `a` (its subcommand, [`spec::acl_id_of`]): one selector must allow
    /// it all (`ACLCheckAllUserCommandPerm`). Of several refusals the one
    /// reported is the gravest, then the one of the latest argument.
    pub fn check(&self, id: CmdId, a: AclId, args: &[&[u8]]) -> Result<(), Denied> {
        if self.unrestricted {
            return Ok(());
        }
        let s = spec::get(id);
        let call = self.call(id, a, args);
        let mut worst = Denied::Command;
        for sel in &self.selectors {
            match sel.check(s, a, args, &call) {
                Ok(()) => return Ok(()),
                Err(d) if d.rank() > worst.rank() => worst = d,
                Err(_) => {}
            }
        }
        Err(worst)
    }

    /// Whether a selector allows the call and every key with access
    /// `need` (SORT's BY and GET: `ACLUserCheckCmdWithUnrestrictedKeyAccess`).
    pub fn all_keys_for(&self, id: CmdId, a: AclId, args: &[&[u8]], need: u8) -> bool {
        if self.unrestricted {
            return true;
        }
        let call = self.call(id, a, args);
        let s = spec::get(id);
        self.selectors
            .iter()
            .any(|sel| sel.check(s, a, args, &call).is_ok() && sel.all_keys_for(need))
    }

    /// Whether the user may use channel `ch` (a pattern, literally, when
    /// `is_pattern`).
    pub fn channel_ok(&self, ch: &[u8], is_pattern: bool) -> bool {
        self.selectors.iter().any(|s| s.channel_ok(ch, is_pattern))
    }

    /// Whether every selector that allowed `old`'s channels allows them
    /// still: when not, the user's subscribed clients are disconnected
    /// (`ACLKillPubsubClientsIfNeeded`, by its first test).
    pub fn channels_narrowed(&self, old: &User) -> bool {
        if self.selectors.iter().any(|s| s.all_channels) {
            return false;
        }
        let before: Vec<&Glob> = old.selectors.iter().flat_map(|s| &s.channels).collect();
        let all_before = old.selectors.iter().any(|s| s.all_channels);
        all_before
            || before
                .iter()
                .any(|c| !self.selectors.iter().any(|s| s.channels.contains(c)))
    }

    /// ACL LIST's description: flags, `#hash`es, the root selector, the
    /// other selectors in parentheses (`ACLDescribeUser`).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for f in self.flag_names() {
            out.push_str(f);
            out.push(' ');
        }
        for p in &self.passwords {
            out.push('#');
            out.push_str(&hex(p));
            out.push(' ');
        }
        for s in &self.selectors {
            if s.root {
                out.push_str(&s.describe());
            } else {
                out.push_str(" (");
                out.push_str(&s.describe());
                out.push(')');
            }
        }
        out
    }

    /// The flags ACL GETUSER lists, in Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut v = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            v.push("nopass");
        }
        match self.skip_sanitize {
            Some(true) => v.push("skip-sanitize-payload"),
            Some(false) => v.push("sanitize-payload"),
            None => {}
        }
        v
    }

    /// The password hashes, hex.
    pub fn password_hashes(&self) -> Vec<String> {
        self.passwords.iter().map(hex).collect()
    }

    /// Each selector's (commands, keys, channels) as ACL GETUSER shows
    /// them, the root one first.
    pub fn selector_fields(&self) -> Vec<[String; 3]> {
        self.selectors
            .iter()
            .map(|s| {
                [
                    s.describe_commands(),
                    s.describe_keys(),
                    s.describe_channels(),
                ]
            })
            .collect()
    }
}

/// Joins SETUSER's arguments that open a selector with `(` up to the one
/// that closes it (`ACLMergeSelectorArguments`). Err: the index of an
/// argument whose parenthesis never closes.
pub fn merge_selectors(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, a) in args.iter().enumerate() {
        // An argument that opens a selector starts over, even inside one
        // (as Redis's loop does).
        if a.first() == Some(&b'(') && a.last() != Some(&b')') {
            open = Some((j, a.to_vec()));
            continue;
        }
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(a);
            if a.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        // A lone "(" both opens and, being its last byte, is not ")".
        out.push(a.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}

/// Where a refused call came from (ACL LOG's `context`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
}

/// What ACL LOG records (`reason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

/// One ACL LOG entry (`ACLLogEntry`).
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub count: u64,
    pub reason: Reason,
    pub context: Context,
    /// The command, key or channel refused, or AUTH's name.
    pub object: Vec<u8>,
    pub username: String,
    /// Last time it happened, ms since the epoch.
    pub ms: u64,
    /// CLIENT LIST's line for the client.
    pub client_info: String,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Entries this close in time, with the same reason, context, object and
/// user, are one entry with a count (Redis's
/// `ACL_LOG_GROUPING_MAX_TIME_DELTA`).
const LOG_GROUPING_MS: u64 = 60_000;

/// The server's users and ACL LOG.
pub struct Acl {
    users: RwLock<BTreeMap<String, Arc<User>>>,
    /// Moves whenever a user changes: connections re-read theirs.
    generation: AtomicU64,
    log: Mutex<VecDeque<LogEntry>>,
    /// `acllog-max-len`.
    pub log_max_len: AtomicUsize,
    /// `acl-pubsub-default allchannels`: new users get `&*`.
    pub pubsub_default_all: AtomicBool,
}

impl Default for Acl {
    fn default() -> Self {
        let mut users = BTreeMap::new();
        users.insert("default".to_string(), Arc::new(User::default_user()));
        Acl {
            users: RwLock::new(users),
            generation: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
            log_max_len: AtomicUsize::new(128),
            pubsub_default_all: AtomicBool::new(false),
        }
    }
}

impl Acl {
    /// Takes `acllog-max-len` and `acl-pubsub-default` from the
    /// configuration.
    pub fn configure(&self, c: &crate::config::Config) {
        self.log_max_len.store(
            usize::try_from(c.acllog_max_len).unwrap_or(usize::MAX),
            Ordering::Relaxed,
        );
        self.pubsub_default_all
            .store(c.acl_pubsub_default_all, Ordering::Relaxed);
        self.trim_log();
    }

    /// Moves whenever any user changes.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub fn get(&self, name: &[u8]) -> Option<Arc<User>> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users.get(&*String::from_utf8_lossy(name)).cloned()
    }

    pub fn default_user(&self) -> Arc<User> {
        self.get(b"default")
            .unwrap_or_else(|| Arc::new(User::default_user()))
    }

    /// Every user, by name.
    pub fn users(&self) -> Vec<Arc<User>> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users.values().cloned().collect()
    }

    fn channels_default(&self) -> bool {
        self.pubsub_default_all.load(Ordering::Relaxed)
    }

    /// ACL SETUSER: applies `rules` to a copy of user `name` (a new one
    /// if there is none) and keeps it only if all apply
    /// (`ACLStringSetUser`). Returns the user before and after. Errors:
    /// the ERR text Redis gives.
    pub fn set_user(
        &self,
        name: &[u8],
        rules: &[&[u8]],
    ) -> Result<(Option<Arc<User>>, Arc<User>), String> {
        let merged = merge_selectors(rules).map_err(|j| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(rules[j])
            )
        })?;
        let name = String::from_utf8_lossy(name).into_owned();
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let old = users.get(&name).cloned();
        let all = self.channels_default();
        let mut u = old
            .as_deref()
            .cloned()
            .unwrap_or_else(|| User::new(&name, all));
        for r in &merged {
            u.apply(r, all).map_err(|e| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(r),
                    e.message()
                )
            })?;
        }
        let u = Arc::new(u);
        users.insert(name, u.clone());
        drop(users);
        self.bump();
        Ok((old, u))
    }

    /// ACL DELUSER: removes the users named; returns how many existed.
    pub fn delete(&self, names: &[&[u8]]) -> usize {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let n = names
            .iter()
            .filter(|n| users.remove(&*String::from_utf8_lossy(n)).is_some())
            .count();
        drop(users);
        self.bump();
        n
    }

    /// `requirepass`: the default user's only password, or `nopass`
    /// when empty (`ACLUpdateDefaultUserPassword`).
    pub fn set_default_password(&self, pass: &str) {
        let rule = if pass.is_empty() {
            b"nopass".to_vec()
        } else {
            [b">", pass.as_bytes()].concat()
        };
        let _ = self.set_user(b"default", &[b"resetpass", &rule]);
    }

    /// Checks a name and password (`ACLCheckUserCredentials`): the user
    /// if it exists, is on, and the password is one of its own.
    pub fn authenticate(&self, name: &[u8], pass: &[u8]) -> Option<Arc<User>> {
        let u = self.get(name)?;
        (u.enabled && u.password_ok(pass)).then_some(u)
    }

    /// Reads an ACL file (`ACLLoadFromFile`): lines `user <name>
    /// <rules>...`. On any error nothing changes and the errors are
    /// returned, as Redis words them.
    pub fn load_file(&self, path: &str) -> Result<(), String> {
        let text = std::fs::read(path)
            .map_err(|e| format!("Error loading ACLs, opening file '{path}': {e}"))?;
        let all = self.channels_default();
        let mut fresh: BTreeMap<String, Arc<User>> = BTreeMap::new();
        let mut errors = String::new();
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let n = i + 1;
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let argv: Vec<&[u8]> = line
                .split(|&b| b == b' ')
                .filter(|a| !a.is_empty())
                .collect();
            if argv.len() < 2 || argv[0] != b"user" {
                errors.push_str(&format!(
                    "{path}:{n} should start with user keyword followed by the username. "
                ));
                continue;
            }
            let name = String::from_utf8_lossy(argv[1]).into_owned();
            if fresh.contains_key(&name) {
                errors.push_str(&format!(
                    "WARNING: Duplicate user '{name}' found on line {n}. "
                ));
                continue;
            }
            let Ok(rules) = merge_selectors(&argv[2..]) else {
                errors.push_str(&format!(
                    "{path}:{n}: Unmatched parenthesis in selector definition."
                ));
                continue;
            };
            let mut u = User::new(&name, all);
            let mut syntax_error = false;
            for r in &rules {
                let r = r.trim_ascii();
                if let Err(e) = u.apply(r, all) {
                    if e == RuleError::UnknownName {
                        errors.push_str(&format!(
                            "{path}:{n}: Error in applying operation '{}': {}. ",
                            String::from_utf8_lossy(r),
                            e.message()
                        ));
                    } else if !syntax_error {
                        errors.push_str(&format!("{path}:{n}: {}. ", e.message()));
                        syntax_error = true;
                    }
                }
            }
            fresh.insert(name, Arc::new(u));
        }
        if !errors.is_empty() {
            errors.push_str(
                "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
            );
            return Err(errors);
        }
        // The default user stays the same object (Redis copies the new
        // definition into it): its clients stay logged in.
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let mut default = fresh
            .remove("default")
            .map_or_else(User::default_user, |u| (*u).clone());
        if let Some(old) = users.get("default") {
            default.incarnation = old.incarnation;
        }
        fresh.insert("default".to_string(), Arc::new(default));
        *users = fresh;
        drop(users);
        self.bump();
        Ok(())
    }

    /// A `user <name> <description>` line per user, as ACL SAVE and
    /// CONFIG REWRITE write them.
    pub fn user_lines(&self) -> Vec<String> {
        self.users()
            .iter()
            .map(|u| format!("user {} {}", u.name, u.describe()))
            .collect()
    }

    /// The ACL file's text (`ACLSaveToFile`).
    pub fn file_text(&self) -> String {
        self.user_lines().iter().map(|l| format!("{l}\n")).collect()
    }

    /// Creates the users of the config file's `user` lines (each its name
    /// and rules, `ACLLoadConfiguredUsers`). Errors: the first rule that
    /// does not apply, as Redis logs it.
    pub fn load_config_users(&self, lines: &[String]) -> Result<(), String> {
        for line in lines {
            let argv = split_args(line.as_bytes())
                .ok_or_else(|| format!("Unbalanced quotes in user declaration '{line}'"))?;
            let Some((name, rules)) = argv.split_first() else {
                continue;
            };
            let name_text = String::from_utf8_lossy(name).into_owned();
            let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
            if name_text != "default" && users.contains_key(&name_text) {
                return Err(format!("Duplicate user '{name_text}' found"));
            }
            let all = self.channels_default();
            // The default user starts over from `reset`; the rules make it.
            let mut u = User::new(&name_text, all);
            if let Some(old) = users.get(&name_text) {
                u.incarnation = old.incarnation;
                let _ = u.apply(b"reset", all);
            }
            let rules: Vec<&[u8]> = rules.iter().map(|r| &r[..]).collect();
            for r in merge_selectors(&rules).map_err(|_| {
                format!("Unmatched parenthesis in the rules of the user named '{name_text}'")
            })? {
                u.apply(&r, all).map_err(|e| {
                    format!(
                        "Error loading ACL rule '{}' for the user named '{name_text}': {}",
                        String::from_utf8_lossy(&r),
                        e.message()
                    )
                })?;
            }
            users.insert(name_text, Arc::new(u));
        }
        self.bump();
        Ok(())
    }

    /// Writes the users to `path` through a temporary file renamed over
    /// it. Errors: the I/O error.
    pub fn save_file(&self, path: &str) -> std::io::Result<()> {
        let tmp = format!("{path}.tmp-{}-{}", std::process::id(), now_ms());
        let r = std::fs::write(&tmp, self.file_text()).and_then(|_| std::fs::rename(&tmp, path));
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r
    }

    /// Records a refusal in ACL LOG (`addACLLogEntry`): an entry like one
    /// of the latest ten within a minute counts up and moves first.
    pub fn log(
        &self,
        reason: Reason,
        context: Context,
        object: &[u8],
        username: &str,
        client_info: String,
    ) {
        let ms = now_ms();
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let found = log.iter().take(10).position(|e| {
            e.reason == reason
                && e.context == context
                && e.ms.abs_diff(ms) <= LOG_GROUPING_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = found {
            if let Some(mut e) = log.remove(i) {
                e.count += 1;
                e.ms = ms;
                e.client_info = client_info;
                log.push_front(e);
            }
            return;
        }
        log.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object: object.to_vec(),
            username: username.to_string(),
            ms,
            client_info,
        });
        let max = self.log_max_len.load(Ordering::Relaxed);
        log.truncate(max);
    }

    /// The latest `count` entries, newest first, with each one's age in
    /// seconds.
    pub fn log_entries(&self, count: usize) -> Vec<(LogEntry, f64)> {
        let now = now_ms();
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.iter()
            .take(count)
            .map(|e| (e.clone(), now.saturating_sub(e.ms) as f64 / 1000.0))
            .collect()
    }

    pub fn log_reset(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Trims the log to `acllog-max-len`.
    pub fn trim_log(&self) {
        let max = self.log_max_len.load(Ordering::Relaxed);
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .truncate(max);
    }
}

/// ACL LOG's names for a reason and a context.
impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }

    pub fn of(d: Denied) -> Reason {
        match d {
            Denied::Command => Reason::Command,
            Denied::Key(_) => Reason::Key,
            Denied::Channel(_) => Reason::Channel,
        }
    }
}

impl Context {
    pub fn name(self) -> &'static str {
        match self {
            Context::Toplevel => "toplevel",
            Context::Multi => "multi",
            Context::Lua => "lua",
        }
    }
}

/// What a script needs of its client to check each call it makes: the
/// user, and for ACL LOG the client's CLIENT LIST line. Requests carry
/// one only for users with restrictions.
pub struct Caller {
    pub user: Arc<User>,
    pub client_info: String,
    pub acl: Arc<Acl>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Caller({})", self.user.name)
    }
}

impl Caller {
    /// Checks a script's call; a refusal is logged (context `lua`) and
    /// answered with the error Redis's `scriptVerifyACL` raises.
    pub fn check(&self, id: CmdId, args: &[&[u8]]) -> Result<(), String> {
        let s = spec::get(id);
        let a = spec::acl_id_of(id, args);
        self.user.check(id, a, args).map_err(|d| {
            let object = match d {
                Denied::Command => spec::ACL_COMMANDS
                    .get(a as usize)
                    .map_or(s.name, |(n, _, _)| n)
                    .as_bytes()
                    .to_vec(),
                Denied::Key(i) | Denied::Channel(i) => args[i].to_vec(),
            };
            self.acl.log(
                Reason::of(d),
                Context::Lua,
                &object,
                &self.user.name,
                self.client_info.clone(),
            );
            format!("ERR The user executing the script {}", d.script_reason())
        })
    }
}

/// Random hex characters from the kernel's generator, for ACL GENPASS
/// (`getRandomHexChars`).
pub fn random_hex(chars: usize) -> String {
    let mut buf = vec![0u8; chars.div_ceil(2)];
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the pointer and length describe the unfilled tail of buf.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n <= 0 {
            // No kernel entropy: fall back to the process's generator.
            buf[filled..].iter_mut().for_each(|b| *b = fastrand::u8(..));
            break;
        }
        filled += n as usize;
    }
    let mut s: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(chars);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new("u", false);
        for r in rules {
            u.apply(r.as_bytes(), false).unwrap();
        }
        u
    }

    #[test]
    fn descriptions_match_redis() {
        // Each as redis-server 7.0.15 describes it.
        assert_eq!(User::default_user().describe(), "on nopass ~* &* +@all");
        assert_eq!(user(&[]).describe(), "off resetchannels -@all");
        assert_eq!(
            user(&["reset"]).describe(),
            "off sanitize-payload resetchannels -@all"
        );
        assert_eq!(
            user(&["on", "+@read", "-get", "~a*", "%R~b*", "&ch*", "(+set ~x*)"]).describe(),
            "on ~a* %R~b* resetchannels &ch* -@all +@read -get (~x* resetchannels -@all +set)"
        );
        assert_eq!(
            user(&["+@all", "-get", "+config|get"]).describe(),
            "off resetchannels +@all -get"
        );
    }

    #[test]
    fn rules_errors() {
        let mut u = User::new("u", false);
        assert_eq!(u.apply(b"+nosuch", false), Err(RuleError::UnknownName));
        assert_eq!(u.apply(b"+@nosuch", false), Err(RuleError::UnknownName));
        assert_eq!(u.apply(b"%X~a", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"#abc", false), Err(RuleError::BadHash));
        assert_eq!(u.apply(b"<nope", false), Err(RuleError::NoSuchPassword));
        assert_eq!(
            u.apply(b"+config|get|x", false),
            Err(RuleError::FirstArgOfSubcommand)
        );
        u.apply(b"~*", false).unwrap();
        assert_eq!(u.apply(b"~a", false), Err(RuleError::KeyAfterAll));
        assert_eq!(u.apply(b"bogus", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"(\"\" +get)", false), Err(RuleError::Syntax));
        assert_eq!(u.apply(b"+\xff\xfe|x", false), Err(RuleError::UnknownName));
        assert_eq!(u.apply(b"+", false), Err(RuleError::UnknownName));
        // After `~*`, any key pattern is refused first, as Redis does.
        assert_eq!(u.apply(b"%", false), Err(RuleError::KeyAfterAll));
    }

    #[test]
    fn passwords_hash_and_compare() {
        let mut u = user(&[">p1", ">p2"]);
        assert!(u.password_ok(b"p1") && u.password_ok(b"p2") && !u.password_ok(b"p3"));
        u.apply(b"<p1", false).unwrap();
        assert!(!u.password_ok(b"p1"));
        // sha256("p1"), as redis-server shows it.
        let h = "f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a";
        assert_eq!(hex(&hash_password(b"p1")), h);
    }

    #[test]
    fn pattern_shapes_match_as_the_glob_matcher() {
        let patterns = [
            "", "*", "a", "ab", "a*", "ab*", "*a", "a*b", "a?", "[ab]*", "a\\*", "**",
        ];
        let subjects = ["", "a", "ab", "abc", "b", "a*", "ba", "aab", "*"];
        for p in patterns {
            let g = Glob::new(p.as_bytes());
            for s in subjects {
                assert_eq!(
                    g.matches(s.as_bytes()),
                    crate::glob::matches(p.as_bytes(), s.as_bytes(), false),
                    "{p:?} {s:?} ({:?})",
                    g.shape
                );
            }
        }
    }

    #[test]
    fn split_args_quotes() {
        assert_eq!(
            split_args(br#"a "b c" 'd\'e' "\x41\n""#).unwrap(),
            vec![
                b"a".to_vec(),
                b"b c".to_vec(),
                b"d'e".to_vec(),
                b"A\n".to_vec()
            ]
        );
        assert!(split_args(br#""open"#).is_none());
    }
}
