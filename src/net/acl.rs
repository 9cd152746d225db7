//! The IO stage's half of ACL ([`crate::acl`]): each command is checked
//! against its connection's user before it is queued or routed, a refusal
//! answers `-NOPERM` and is recorded in ACL LOG; AUTH and HELLO's AUTH
//! log a client in; the ACL command manages users
//! (<https://redis.io/docs/latest/commands/acl/>).
//!
//! A connection keeps its `Arc<User>` and re-reads it when
//! [`crate::acl::Acl::generation`] moved, so a changed user applies from
//! the connection's next command; a deleted or reloaded user's clients
//! are disconnected. Users with every command, key and channel (the
//! default one, unless changed) are not checked at all.

use std::sync::Arc;

use super::IoThread;
use super::conn::Closing;
use super::local::{Local, Res, lower, reply, text};
use crate::acl::{Caller, Context, Denied, Reason, User};
use crate::resp::errors;
use crate::resp::parse::parse_i64;
use crate::spec::{self, CmdId};

impl IoThread {
    /// The connection's user when its calls must be checked (re-read
    /// first if ACL changed); `None` for a user that may run anything.
    /// A connection whose user was deleted, or replaced by ACL LOAD, is
    /// closed and `Err` returned.
    #[inline]
    pub(super) fn acl_user(&mut self, slot: usize) -> Result<Option<Arc<User>>, ()> {
        let generation = self.shared.acl.generation();
        let Some(c) = self.conns[slot].as_mut() else {
            return Err(());
        };
        if c.acl_gen != generation {
            return self.acl_reread(slot, generation);
        }
        Ok(match &c.user {
            Some(u) if !u.unrestricted() => Some(u.clone()),
            _ => None,
        })
    }

    /// [`Self::acl_user`] after ACL changed: the user read afresh.
    #[cold]
    fn acl_reread(&mut self, slot: usize, generation: u64) -> Result<Option<Arc<User>>, ()> {
        let Some(c) = self.conns[slot].as_mut() else {
            return Err(());
        };
        if let Some(u) = &c.user {
            match self.shared.acl.get(u.name.as_bytes()) {
                Some(now) if now.incarnation() == u.incarnation() => c.user = Some(now),
                _ => {
                    // Redis frees such a user's clients
                    // (`ACLFreeUserAndKillClients`). `acl_gen` stays old:
                    // whatever else it pipelined is refused too.
                    self.close(slot, Closing::Now);
                    return Err(());
                }
            }
        }
        c.acl_gen = generation;
        self.acl_user(slot)
    }

    /// Checks command `id` with `args` against `user`; a refusal is
    /// logged and answered with its NOPERM error (or SORT's refusal of
    /// BY and GET), and `true` returned.
    pub(super) fn acl_refuse(
        &mut self,
        slot: usize,
        user: &User,
        id: CmdId,
        args: &[&[u8]],
    ) -> bool {
        let s = spec::get(id);
        let a = spec::acl_id_of(id, args);
        let denied = match user.check(id, a, args) {
            Ok(()) => {
                if let Some(msg) = sort_refusal(user, id, a, args) {
                    self.reject(slot, Some(id), args, msg);
                    return true;
                }
                return false;
            }
            Err(d) => d,
        };
        let in_multi = self.conns[slot].as_ref().is_some_and(|c| c.multi.is_some());
        let context = if in_multi {
            Context::Multi
        } else {
            Context::Toplevel
        };
        self.acl_log(slot, user, denied, context, a, args);
        let msg = denied.error(acl_name(a, s));
        self.reject(slot, Some(id), args, &msg);
        true
    }

    /// Records refusal `d` of a call in ACL LOG.
    pub(super) fn acl_log(
        &self,
        slot: usize,
        user: &User,
        d: Denied,
        context: Context,
        a: spec::AclId,
        args: &[&[u8]],
    ) {
        let id = self.conns[slot].as_ref().map_or(0, |c| c.id);
        // The line shows this very command, as Redis's does.
        self.publish_clients();
        let object = match d {
            Denied::Command => acl_name(a, spec::get(spec::lookup(args[0]).unwrap_or(0)))
                .as_bytes()
                .to_vec(),
            Denied::Key(i) | Denied::Channel(i) => args.get(i).map_or(Vec::new(), |a| a.to_vec()),
        };
        self.shared.acl.log(
            Reason::of(d),
            context,
            &object,
            &user.name,
            super::local::client_info_line(&self.shared, id),
        );
    }

    /// What a script run by this call needs to check its own calls:
    /// set for EVAL, FCALL and EXEC of a user with restrictions.
    pub(super) fn script_caller(
        &self,
        slot: usize,
        user: &Arc<User>,
        s: &spec::CommandSpec,
    ) -> Option<Arc<Caller>> {
        if !(s.name.starts_with("eval") || s.name.starts_with("fcall") || s.name == "exec") {
            return None;
        }
        let id = self.conns[slot].as_ref().map_or(0, |c| c.id);
        Some(Arc::new(Caller {
            user: user.clone(),
            client_info: super::local::client_info_line(&self.shared, id),
            acl: self.shared.acl.clone(),
        }))
    }
}

/// The name ACL errors and the log give a command: `config|get` for a
/// known subcommand.
fn acl_name(a: spec::AclId, s: &spec::CommandSpec) -> &'static str {
    spec::ACL_COMMANDS
        .get(a as usize)
        .map_or(s.name, |(n, _, _)| n)
}

/// SORT's BY with a pattern and GET need a user who may read every key
/// (`sortCommandGeneric`).
fn sort_refusal(user: &User, id: CmdId, a: spec::AclId, args: &[&[u8]]) -> Option<&'static str> {
    let s = spec::get(id);
    if s.name != "sort" && s.name != "sort_ro" {
        return None;
    }
    // The first BY with a pattern or GET is the one refused, as Redis's
    // option loop meets it.
    let mut first = None;
    let mut i = 2;
    while i + 1 < args.len() && first.is_none() {
        let opt = args[i];
        if opt.eq_ignore_ascii_case(b"by") && memchr::memchr(b'*', args[i + 1]).is_some() {
            first = Some("ERR BY option of SORT denied due to insufficient ACL permissions.");
        } else if opt.eq_ignore_ascii_case(b"get") {
            first = Some("ERR GET option of SORT denied due to insufficient ACL permissions.");
        }
        i += if opt.eq_ignore_ascii_case(b"limit") {
            3
        } else if [&b"by"[..], b"get", b"store"]
            .iter()
            .any(|o| opt.eq_ignore_ascii_case(o))
        {
            2
        } else {
            1
        };
    }
    first.filter(|_| !user.all_keys_for(id, a, args, spec::access::READ))
}

/// Logs the connection in as `name` with `pass` (`ACLAuthenticateUser`).
/// Errors: WRONGPASS, after an ACL LOG entry (reason `auth`, object the
/// command's name as sent).
pub(super) fn login(l: &mut Local, cmd: &[u8], name: &[u8], pass: &[u8]) -> Res {
    match l.shared.acl.authenticate(name, pass) {
        Some(u) => {
            let uname = u.name.clone();
            let c = &mut *l.conn;
            c.user = Some(u);
            c.authed = true;
            let id = c.id;
            l.shared.update_client(id, |ci| ci.user = uname);
            Ok(())
        }
        None => {
            let context = if l.conn.multi.is_some() {
                Context::Multi
            } else {
                Context::Toplevel
            };
            let info = super::local::client_info_line(l.shared, l.conn.id);
            l.shared.acl.log(
                Reason::Auth,
                context,
                cmd,
                &String::from_utf8_lossy(name),
                info,
            );
            Err(errors::WRONGPASS.into())
        }
    }
}

/// AUTH password | AUTH username password.
pub(super) fn auth(l: &mut Local, args: &[&[u8]]) -> Res {
    match args.len() {
        2 => {
            if l.shared.acl.default_user().nopass() {
                return Err(errors::AUTH_NOT_CONFIGURED.into());
            }
            login(l, args[0], b"default", args[1])?;
        }
        3 => login(l, args[0], args[1], args[2])?,
        _ => return Err(errors::SYNTAX.into()),
    }
    reply(l, |r| r.ok())
}

/// RESET's part: back to the default user, authenticated if it needs no
/// password (`clientSetDefaultAuth`).
pub(super) fn reset_user(l: &mut Local) {
    let u = l.shared.acl.default_user();
    let c = &mut *l.conn;
    if c.user.is_some() {
        c.authed = u.nopass() && u.enabled();
        c.user = Some(u);
        let id = c.id;
        l.shared
            .update_client(id, |ci| ci.user = "default".to_string());
    }
}

/// Disconnects the clients logged in as `name`: all of them, or with
/// `subscribed` only those with a Pub/Sub subscription. Returns whether
/// the calling connection is among them.
fn kill_users_clients(l: &mut Local, name: &str, subscribed: bool) -> bool {
    let my_id = l.conn.id;
    let targets: Vec<(u64, u16)> = l
        .shared
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .filter(|c| c.user == name && (!subscribed || c.sub + c.psub + c.ssub > 0))
        .map(|c| (c.id, c.io))
        .collect();
    super::local::kill_clients(l, my_id, &targets)
}

const ACL_HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Prints this help.",
];

/// ACL CAT DELUSER DRYRUN GETUSER GENPASS LIST LOAD LOG SAVE SETUSER
/// USERS WHOAMI HELP, with Redis 7.0's replies and errors (`aclCommand`).
pub(super) fn acl(l: &mut Local, args: &[&[u8]]) -> Res {
    let sub = lower(args[1]);
    let n = args.len();
    let acl = l.shared.acl.clone();
    let no_file = || l.shared.config().aclfile.is_empty();
    match sub.as_str() {
        "setuser" if n >= 3 => {
            let name = args[2];
            if name.iter().any(|&b| b == b' ' || b == 0) {
                return Err("ERR Usernames can't contain spaces or null characters".into());
            }
            let (old, new) = acl.set_user(name, &args[3..]).map_err(|e| format!("ERR {e}"))?;
            if let Some(old) = old {
                if new.channels_narrowed(&old) {
                    if kill_users_clients(l, &new.name, true) {
                        l.after.close = Some(Closing::AfterFlush);
                    }
                }
            }
            reply(l, |r| r.ok())
        }
        "deluser" if n >= 3 => {
            if args[2..].iter().any(|a| *a == b"default") {
                return Err("ERR The 'default' user cannot be removed".into());
            }
            let deleted = acl.delete(&args[2..]);
            let mut me = false;
            for name in &args[2..] {
                me |= kill_users_clients(l, &String::from_utf8_lossy(name), false);
            }
            reply(l, |r| r.int(deleted as i64))?;
            if me {
                l.after.close = Some(Closing::AfterFlush);
            }
            Ok(())
        }
        "getuser" if n == 3 => {
            let Some(u) = acl.get(args[2]) else {
                return reply(l, |r| r.null());
            };
            let flags = u.flag_names();
            let passwords = u.password_hashes();
            let selectors = u.selector_fields();
            reply(l, |r| {
                r.map(6);
                r.bulk(b"flags");
                r.set(flags.len());
                for f in &flags {
                    r.bulk(f.as_bytes());
                }
                r.bulk(b"passwords");
                r.array(passwords.len());
                for p in &passwords {
                    r.bulk(p.as_bytes());
                }
                let fields = |r: &mut crate::resp::Reply, f: &[String; 3]| {
                    for (name, v) in ["commands", "keys", "channels"].iter().zip(f) {
                        r.bulk(name.as_bytes());
                        r.bulk(v.as_bytes());
                    }
                };
                fields(r, &selectors[0]);
                r.bulk(b"selectors");
                r.array(selectors.len() - 1);
                for s in &selectors[1..] {
                    r.map(3);
                    fields(r, s);
                }
            })
        }
        "list" | "users" if n == 2 => {
            let users = acl.users();
            reply(l, |r| {
                r.array(users.len());
                for u in &users {
                    if sub == "users" {
                        r.bulk(u.name.as_bytes());
                    } else {
                        r.bulk(format!("user {} {}", u.name, u.describe()).as_bytes());
                    }
                }
            })
        }
        "whoami" if n == 2 => {
            let name = l.conn.user.as_ref().map(|u| u.name.clone());
            reply(l, |r| match &name {
                Some(n) => r.bulk(n.as_bytes()),
                None => r.null(),
            })
        }
        "load" | "save" if no_file() => Err("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.".into()),
        "load" if n == 2 => {
            let path = l.shared.config().aclfile.clone();
            let before = acl.users();
            acl.load_file(&path).map_err(|e| format!("ERR {e}"))?;
            // Every user but the default one is a new object now: their
            // clients go (`ACLFreeUsersSet` frees the old ones).
            let mut me = false;
            for u in before.iter().filter(|u| u.name != "default") {
                me |= kill_users_clients(l, &u.name, false);
            }
            reply(l, |r| r.ok())?;
            if me {
                l.after.close = Some(Closing::AfterFlush);
            }
            Ok(())
        }
        "save" if n == 2 => {
            let path = l.shared.config().aclfile.clone();
            acl.save_file(&path).map_err(|e| {
                tracing::warn!("ACL SAVE to {path}: {e}");
                "ERR There was an error trying to save the ACLs. Please check the server logs for more information".to_string()
            })?;
            reply(l, |r| r.ok())
        }
        "cat" if n == 2 => reply(l, |r| {
            r.array(spec::cat::NAMES.len());
            for c in spec::cat::NAMES {
                r.bulk(c.as_bytes());
            }
        }),
        "cat" if n == 3 => {
            let c = spec::cat::by_name(args[2]).ok_or_else(|| {
                let name = text(args[2]);
                format!("ERR Unknown category '{}'", name.chars().take(128).collect::<String>())
            })?;
            let names: Vec<&str> = spec::ACL_COMMANDS
                .iter()
                .filter(|(_, _, cats)| cats & c != 0)
                .map(|(n, _, _)| *n)
                .collect();
            reply(l, |r| {
                r.array(names.len());
                for name in names {
                    r.bulk(name.as_bytes());
                }
            })
        }
        "genpass" if n == 2 || n == 3 => {
            let bits = if n == 3 {
                parse_i64(args[2]).ok_or(errors::NOT_INTEGER)?
            } else {
                256
            };
            if !(1..=4096).contains(&bits) {
                return Err("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096".into());
            }
            let pass = crate::acl::random_hex((bits as usize).div_ceil(4));
            reply(l, |r| r.bulk(pass.as_bytes()))
        }
        "log" if n == 2 || n == 3 => {
            let mut count = 10usize;
            if n == 3 {
                if args[2].eq_ignore_ascii_case(b"reset") {
                    acl.log_reset();
                    return reply(l, |r| r.ok());
                }
                count = parse_i64(args[2]).ok_or(errors::NOT_INTEGER)?.max(0) as usize;
            }
            let entries = acl.log_entries(count);
            reply(l, |r| {
                r.array(entries.len());
                for (e, age) in &entries {
                    r.map(7);
                    r.bulk(b"count");
                    r.int(e.count as i64);
                    r.bulk(b"reason");
                    r.bulk(e.reason.name().as_bytes());
                    r.bulk(b"context");
                    r.bulk(e.context.name().as_bytes());
                    r.bulk(b"object");
                    r.bulk(&e.object);
                    r.bulk(b"username");
                    r.bulk(e.username.as_bytes());
                    r.bulk(b"age-seconds");
                    r.double(*age);
                    r.bulk(b"client-info");
                    r.bulk(e.client_info.as_bytes());
                }
            })
        }
        "dryrun" if n >= 4 => {
            let u = acl
                .get(args[2])
                .ok_or_else(|| format!("ERR User '{}' not found", text(args[2])))?;
            let call = &args[3..];
            let id = spec::lookup(call[0])
                .ok_or_else(|| format!("ERR Command '{}' not found", text(call[0])))?;
            let s = spec::get(id);
            let a = spec::acl_id_of(id, call);
            if !s.arity_ok(call.len()) || !spec::acl_arity_ok(a, call.len()) {
                return Err(format!(
                    "ERR wrong number of arguments for '{}' command",
                    acl_name(a, s)
                ));
            }
            match u.check(id, a, call) {
                Ok(()) => reply(l, |r| r.ok()),
                Err(d) => {
                    let msg = match d {
                        Denied::Command => format!(
                            "This user has no permissions to run the '{}' command",
                            acl_name(a, s)
                        ),
                        Denied::Key(i) => format!(
                            "This user has no permissions to access the '{}' key",
                            text(call[i])
                        ),
                        Denied::Channel(i) => format!(
                            "This user has no permissions to access the '{}' channel",
                            text(call[i])
                        ),
                    };
                    reply(l, |r| r.bulk(msg.as_bytes()))
                }
            }
        }
        "help" if n == 2 => reply(l, |r| {
            r.array(ACL_HELP.len());
            for h in ACL_HELP {
                r.simple(h);
            }
        }),
        _ => {
            // A known subcommand with the wrong number of arguments, as
            // its arity in Redis's command table refuses it.
            let arity: Option<i64> = match sub.as_str() {
                "setuser" | "deluser" => Some(-3),
                "getuser" => Some(3),
                "list" | "users" | "whoami" | "load" | "save" | "help" => Some(2),
                "cat" | "genpass" | "log" => Some(-2),
                "dryrun" => Some(-4),
                _ => None,
            };
            match arity {
                Some(a) if (a > 0 && n as i64 != a) || (a < 0 && (n as i64) < -a) => Err(format!(
                    "ERR wrong number of arguments for 'acl|{sub}' command"
                )),
                // Known, but not with these arguments (`aclCommand`'s
                // `addReplySubcommandSyntaxError`).
                Some(_) => Err(format!(
                    "ERR unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
                    text(args[1]).chars().take(128).collect::<String>()
                )),
                None => Err(format!(
                    "ERR unknown subcommand '{}'. Try ACL HELP.",
                    text(args[1]).chars().take(128).collect::<String>()
                )),
            }
        }
    }
}
