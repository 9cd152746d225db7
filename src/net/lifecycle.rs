//! Connection lifecycle on an IO thread: accept, receive, parse, send,
//! pause and resume, half-close, close and free, and the per-tick
//! publication of client state for CLIENT LIST.
//!
//! Runs on its IO thread; never blocks. A connection's buffers are freed
//! only when no operation the kernel holds refers to them (`ops == 0`).

use std::io;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use io_uring::{cqueue, opcode, types};

use super::conn::{Closing, Conn};
use super::shared::ClientInfo;
use super::{
    IoThread, MAX_PENDING, MAX_SEND, OP_CANCEL, OP_RECV, OP_SEND, OP_WAKE, PAUSE_OUT,
    QUIESCE_DEADLINE, bufring, user_data,
};
use crate::metrics::{now_ns, stage};
use crate::resp::parse::{ParseLimits, Parsed, Span, parse_command, parse_resumable};

/// The refusal `protected-mode` sends (see [`IoThread::on_accept`]).
const PROTECTED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

impl IoThread {
    pub(super) fn arm_recv(&mut self, slot: usize) {
        let Some(c) = self.conns[slot].as_mut() else {
            return;
        };
        if c.recv_armed || c.eof || c.closing != Closing::Open {
            return;
        }
        c.recv_armed = true;
        c.ops += 1;
        let e = opcode::RecvMulti::new(types::Fd(c.fd), bufring::BGID)
            .build()
            .user_data(user_data(OP_RECV, c.generation, slot));
        self.push(e);
    }

    /// A client from another host while `protected-mode` is on and the
    /// default user has no password gets this and is disconnected
    /// (Redis's `clientAcceptHandler`, word for word).
    pub(super) fn on_accept(&mut self, fd: i32) {
        self.open_conn(fd, false);
    }

    /// A socket the server made itself (the AOF replay): served as a
    /// client, already authenticated, never refused for `maxclients`.
    pub(super) fn adopt(&mut self, fd: i32) {
        self.open_conn(fd, true);
    }

    fn open_conn(&mut self, fd: i32, internal: bool) {
        if self.stopping.is_some() {
            // SAFETY: closing the fd we were just given.
            unsafe { libc::close(fd) };
            return;
        }
        let shared = self.shared.clone();
        if !internal && shared.connected.load(Ordering::Relaxed) >= self.limits.maxclients {
            let msg = b"-ERR max number of clients reached\r\n";
            // SAFETY: best-effort write of a static message, then close.
            unsafe {
                libc::write(fd, msg.as_ptr() as *const libc::c_void, msg.len());
                libc::close(fd);
            }
            shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
            tracing::info!("rejected a client: maxclients reached");
            return;
        }
        if !internal && self.limits.protected_mode && shared.acl.default_user().nopass() && {
            let peer = sock_addr(fd, true);
            !peer.is_empty() && !is_loopback(&peer)
        } {
            // SAFETY: best-effort write of a static message, then close.
            unsafe {
                libc::write(
                    fd,
                    PROTECTED.as_ptr() as *const libc::c_void,
                    PROTECTED.len(),
                );
                libc::close(fd);
            }
            shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let one: libc::c_int = 1;
        // SAFETY: setsockopt with a live int.
        unsafe {
            libc::setsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                &one as *const _ as *const libc::c_void,
                4,
            );
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.conns.push(None);
                self.gens.push(0);
                self.conns.len() - 1
            }
        };
        self.gens[slot] = self.gens[slot].wrapping_add(1) & 0xFF_FFFF;
        let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let addr = sock_addr(fd, true);
        let acl_gen = shared.acl.generation();
        let default = shared.acl.default_user();
        // Redis's `clientSetDefaultAuth`: authenticated at once when the
        // default user needs no password and is on.
        let authed = internal || (default.nopass() && default.enabled());
        let user = (!internal).then_some(default);
        let mut conn = Conn::new(fd, self.gens[slot], id, authed, user, acl_gen);
        conn.local = internal || is_loopback(&addr);
        self.conns[slot] = Some(conn);
        self.by_id.insert(id, slot);
        shared.connected.fetch_add(1, Ordering::Relaxed);
        shared.total_connections.fetch_add(1, Ordering::Relaxed);
        let token = super::conn_token(self.gens[slot], slot);
        shared.pubsub.connected(self.index, token, &addr);
        let info = ClientInfo {
            id,
            addr,
            laddr: sock_addr(fd, false),
            fd,
            io: self.index,
            token,
            created: Some(Instant::now()),
            last_active: Some(Instant::now()),
            resp: 2,
            flags: "N".into(),
            cmd: "NULL".into(),
            user: "default".into(),
            multi: -1,
            ..Default::default()
        };
        shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, info);
        self.arm_recv(slot);
    }

    pub(super) fn conn_mut(&mut self, slot: usize, generation: u32) -> Option<&mut Conn> {
        match self.conns.get_mut(slot) {
            Some(Some(c)) if c.generation & 0xFF_FFFF == generation & 0xFF_FFFF => Some(c),
            _ => None,
        }
    }

    pub(super) fn on_recv(&mut self, slot: usize, generation: u32, res: i32, flags: u32) {
        let more = cqueue::more(flags);
        if let Some(bid) = cqueue::buffer_select(flags) {
            if res > 0 {
                let n = res as usize;
                // Split borrows: the buffer ring and the connection table.
                let data = self.ring.bufs().data(bid, n);
                if let Some(Some(c)) = self.conns.get_mut(slot) {
                    if c.generation == generation {
                        c.input.extend_from_slice(data);
                        c.last_active = Instant::now();
                    }
                }
                self.in_bytes += n as u64;
                self.reads += 1;
            }
            self.ring.bufs().give_back(bid);
        }
        let query_limit = self.limits.query_limit;
        let Some(c) = self.conn_mut(slot, generation) else {
            return;
        };
        if !more {
            c.recv_armed = false;
            c.recv_cancelling = false;
            c.ops -= 1;
        }
        let (paused, over) = (c.paused, c.input.len() > query_limit);
        if res > 0 {
            if over {
                tracing::info!(
                    "closing client {}: query buffer over client-query-buffer-limit",
                    c.id
                );
                self.close(slot, Closing::Now);
            } else if !paused {
                self.to_parse.push(slot);
                if !more {
                    self.arm_recv(slot);
                }
            }
        } else if res == 0 {
            // EOF: the client shut its sending side. As redis-server does,
            // every command it sent before is still answered (a half-closed
            // socket can read), then the connection closes (`flush_sends`).
            // A blocked client would wait for nothing: Redis frees it at
            // once, and so do we.
            c.eof = true;
            if c.blocked.is_some() {
                self.close(slot, Closing::Now);
            } else {
                self.to_parse.push(slot);
                self.mark_dirty(slot);
            }
        } else if res == -libc::ENOBUFS {
            // Out of provided buffers: they come back at the end of this turn.
            if !more && !paused {
                self.arm_recv(slot);
            }
        } else if res == -libc::ECANCELED {
            // Paused on purpose; re-armed when the connection drains. If it
            // drained while the cancel was in flight, that re-arm found the
            // old receive still armed and did nothing: arm it now.
            if !more && !paused {
                self.arm_recv(slot);
            }
        } else {
            tracing::debug!(
                "receive failed on slot {slot}: {}",
                io::Error::from_raw_os_error(-res)
            );
            self.close(slot, Closing::Now);
        }
        self.maybe_free(slot);
    }

    pub(super) fn on_send(&mut self, slot: usize, generation: u32, res: i32) {
        if res > 0 {
            self.out_bytes += res as u64;
            self.writes += 1;
        }
        let Some(c) = self.conn_mut(slot, generation) else {
            return;
        };
        c.ops -= 1;
        c.send_inflight = false;
        if res < 0 {
            tracing::debug!(
                "send failed on slot {slot}: {}",
                io::Error::from_raw_os_error(-res)
            );
            self.close(slot, Closing::Now);
            self.maybe_free(slot);
            return;
        }
        c.send_off += res as usize;
        let mut timed = None;
        if c.send_off >= c.sending.len() {
            c.sending.clear();
            c.send_off = 0;
            timed = c.timed_send.take();
        }
        if let Some(t) = timed {
            self.stats.stage(stage::WRITE, now_ns().saturating_sub(t));
        }
        self.mark_dirty(slot);
        self.maybe_free(slot);
    }

    /// Starts a close. `Now` shuts the socket down so in-flight operations
    /// finish; the slot is freed when the last one completes.
    pub(super) fn close(&mut self, slot: usize, how: Closing) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.closing == Closing::Now {
            return;
        }
        c.closing = how;
        if c.blocked.is_some() {
            self.unblock(slot, true);
        }
        self.forget_watch(slot);
        self.drop_subscriptions(slot);
        self.drop_tracking(slot);
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if how == Closing::Now {
            // SAFETY: shutting down our own socket; the fd stays open until freed.
            unsafe { libc::shutdown(c.fd, libc::SHUT_RDWR) };
        } else if !c.dirty {
            c.dirty = true;
            self.dirty.push(slot);
        }
    }

    /// Frees the slot of a closed connection once no operation refers to it.
    pub(super) fn maybe_free(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get(slot) else {
            return;
        };
        if c.closing != Closing::Now || c.ops > 0 {
            return;
        }
        self.stop_monitor(slot);
        let Some(c) = self.conns[slot].take() else {
            return;
        };
        self.shared
            .pubsub
            .disconnected(self.index, super::conn_token(c.generation, slot));
        // SAFETY: no operation refers to the fd any more.
        unsafe { libc::close(c.fd) };
        self.by_id.remove(&c.id);
        self.free.push(slot);
        self.shared.connected.fetch_sub(1, Ordering::Relaxed);
        let gone = self
            .shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&c.id);
        // Slow log entries a shard made for this client name it now.
        if let Some(ci) = gone {
            self.stats.slow.resolve(|io, conn| {
                (io == ci.io && conn == ci.token).then(|| (ci.addr.clone(), ci.name.clone()))
            });
        }
    }

    /// Closes every connection at shutdown. Sockets are shut down first
    /// so the kernel completes their receives and sends; the thread then
    /// reaps for up to [`QUIESCE_DEADLINE`], freeing each connection whose
    /// operations are done. One still holding an operation after that is
    /// leaked rather than freed, and so are the ring's buffers (see
    /// [`ring`]): no buffer the kernel may touch is ever freed.
    pub(super) fn close_all(&mut self) {
        for slot in 0..self.conns.len() {
            self.close(slot, Closing::Now);
            self.maybe_free(slot);
        }
        if self.wake_armed {
            let e = opcode::AsyncCancel::new(user_data(OP_WAKE, 0, 0))
                .build()
                .user_data(user_data(OP_CANCEL, 0, 0));
            self.push(e);
        }
        let deadline = Instant::now() + QUIESCE_DEADLINE;
        while self.in_flight() > 0 && Instant::now() < deadline {
            self.ring.wait(Duration::from_millis(10));
            self.reap();
        }
        for slot in 0..self.conns.len() {
            if let Some(c) = self.conns[slot].take() {
                tracing::warn!(
                    "client {}: {} operation(s) still in flight at shutdown; leaking its buffers",
                    c.id,
                    c.ops
                );
                self.shared.connected.fetch_sub(1, Ordering::Relaxed);
                self.shared
                    .clients
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&c.id);
                std::mem::forget(c);
            }
        }
        if self.in_flight() == 0 {
            self.ring.set_quiet();
        }
    }

    /// Submitted operations whose completion has not been reaped yet.
    pub(super) fn in_flight(&self) -> usize {
        self.accepts_armed
            + self.wake_armed as usize
            + self
                .conns
                .iter()
                .flatten()
                .map(|c| c.ops as usize)
                .sum::<usize>()
    }

    /// Copies every connection's live state into the shared client
    /// registry (one lock for all), for CLIENT LIST / INFO / KILL.
    pub(super) fn publish_clients(&self) {
        if self.by_id.is_empty() {
            return;
        }
        let mut m = self
            .shared
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for c in self.conns.iter().flatten() {
            if let Some(ci) = m.get_mut(&c.id) {
                c.publish(ci);
            }
        }
    }

    /// Parses every connection that received input this turn.
    pub(super) fn parse_pending(&mut self) {
        let mut list = std::mem::take(&mut self.to_parse);
        for &slot in &list {
            self.parse_conn(slot);
        }
        list.clear();
        if self.to_parse.is_empty() {
            self.to_parse = list;
        }
    }

    pub(super) fn parse_conn(&mut self, slot: usize) {
        if self.stopping.is_some() || self.held || self.awaits_shutdown(slot) {
            return;
        }
        let mut limits = self.limits.parse;
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.closing != Closing::Open
            || c.paused
            || c.blocked.is_some()
            || c.stalled
            || c.input.is_empty()
        {
            return;
        }
        // Before AUTH, Redis's tighter request limits apply, and commands
        // are parsed one at a time: the limits lift for what follows a
        // successful AUTH in the same packet.
        limits.auth_required = !c.authed;
        let mut spans = std::mem::take(&mut self.spans);
        let mut cmds = std::mem::take(&mut self.cmds);
        spans.clear();
        cmds.clear();
        let mut pos = 0;
        let mut error = None;
        loop {
            if c.pending() + cmds.len() >= MAX_PENDING || c.out_bytes() >= PAUSE_OUT {
                c.paused = true;
                break;
            }
            let first = spans.len();
            match parse_resumable(&c.input[pos..], &limits, &mut spans, &mut c.resume) {
                Ok(Parsed::Command { consumed }) => {
                    if spans.len() > first {
                        cmds.push((pos, first, spans.len()));
                    }
                    pos += consumed;
                    if limits.auth_required && !cmds.is_empty() {
                        break;
                    }
                }
                Ok(Parsed::Incomplete { .. }) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let paused = c.paused;
        // The parsed prefix is frozen once; arguments are borrowed from it
        // while dispatching (see `push_request` for how they travel).
        let frozen = c.input.split_to(pos).freeze();
        self.parsed = frozen.clone();
        let mut args: Vec<&[u8]> = Vec::with_capacity(8);
        for (n, &(base, a, b)) in cmds.iter().enumerate() {
            args.clear();
            args.extend(spans[a..b].iter().map(|s| match s {
                Span::At(x, y) => &frozen[base + x..base + y],
                Span::Owned(o) => &o[..],
            }));
            self.dispatch(slot, &args);
            let Some(c) = self.conns[slot].as_mut() else {
                break;
            };
            if c.blocked.is_some() && c.eof {
                // Blocked after sending EOF: nobody is left to answer
                // (Redis frees such a client when it reads the EOF).
                error = None;
                self.close(slot, Closing::Now);
                break;
            }
            if c.stalled {
                // Waits for its transaction in flight: this command and
                // what follows are parsed again once it is answered.
                let mut rest = BytesMut::from(&frozen[base..]);
                rest.extend_from_slice(&c.input);
                c.input = rest;
                c.resume.clear();
                error = None;
                break;
            }
            let waits = c.blocked.is_some();
            if waits || self.awaits_shutdown(slot) {
                // A blocked client runs nothing else: what follows (even a
                // protocol error) is parsed again once it is answered. So
                // does a SHUTDOWN waiting for the final save.
                let Some(c) = self.conns[slot].as_mut() else {
                    break;
                };
                if let Some(&(next, _, _)) = cmds.get(n + 1) {
                    let mut rest = BytesMut::from(&frozen[next..]);
                    rest.extend_from_slice(&c.input);
                    c.input = rest;
                    c.resume.clear();
                }
                error = None;
                break;
            }
        }
        if let Some(c) = self.conns[slot].as_mut() {
            if error.is_some() {
                c.input.clear();
                c.resume.clear();
            } else if limits.auth_required
                && !c.input.is_empty()
                && c.blocked.is_none()
                && !c.stalled
            {
                // Parsed one command before AUTH: the next waits a turn.
                self.to_parse.push(slot);
            }
        }
        drop(args);
        self.parsed = Bytes::new();
        self.spans = spans;
        self.cmds = cmds;
        if let Some(e) = error {
            if let Some(c) = self.conns[slot].as_mut() {
                tracing::debug!("protocol error from client {}: {}", c.id, e.text());
                c.reply_with(|r| r.error(&e.text()));
            }
            self.close(slot, Closing::AfterFlush);
        }
        if paused {
            self.pause_input(slot);
        }
        self.mark_dirty(slot);
    }

    /// Whether the connection in `slot` sent a SHUTDOWN that waits for the
    /// final save.
    fn awaits_shutdown(&self, slot: usize) -> bool {
        let Some(Some(c)) = self.conns.get(slot) else {
            return false;
        };
        self.shutdown_waiters
            .iter()
            .any(|&(s, g, _)| s == slot && g == c.generation)
    }

    pub(super) fn mark_dirty(&mut self, slot: usize) {
        if let Some(Some(c)) = self.conns.get_mut(slot) {
            if !c.dirty {
                c.dirty = true;
                self.dirty.push(slot);
            }
        }
    }

    /// Stops receiving for a paused connection so TCP pushes back on it.
    pub(super) fn pause_input(&mut self, slot: usize) {
        let Some(Some(c)) = self.conns.get_mut(slot) else {
            return;
        };
        if c.recv_armed && !c.recv_cancelling {
            c.recv_cancelling = true;
            let e = opcode::AsyncCancel::new(user_data(OP_RECV, c.generation, slot))
                .build()
                .user_data(user_data(OP_CANCEL, 0, 0));
            self.push(e);
        }
    }

    /// Starts a send for every connection with output and none in flight;
    /// closes finished or over-limit connections; resumes paused ones.
    pub(super) fn flush_sends(&mut self) {
        let limits = self.limits.parse;
        let mut list = std::mem::take(&mut self.dirty);
        for &slot in &list {
            let output_limit = self.limits.output_limit;
            let Some(Some(c)) = self.conns.get_mut(slot) else {
                continue;
            };
            c.dirty = false;
            if c.closing == Closing::Now {
                continue;
            }
            if output_limit > 0 && c.out_bytes() > output_limit {
                tracing::info!("closing client {}: output over client-output-limit", c.id);
                self.close(slot, Closing::Now);
                self.maybe_free(slot);
                continue;
            }
            if over_class_limit(c, &self.limits.obuf) {
                tracing::warn!(
                    "Client id={} closed for overcoming of output buffer limits.",
                    c.id
                );
                self.close(slot, Closing::Now);
                self.maybe_free(slot);
                continue;
            }
            if !c.send_inflight && c.sending.is_empty() && !c.out.is_empty() {
                std::mem::swap(&mut c.out, &mut c.sending);
                c.send_off = 0;
                if c.timed_send.is_none() {
                    c.timed_send = c.timed_reply.take();
                }
            }
            if !c.send_inflight && c.send_off < c.sending.len() {
                let ptr = c.sending[c.send_off..].as_ptr();
                // The kernel caps one send at INT_MAX bytes (EINVAL above):
                // a bigger output goes out in several sends.
                let len = (c.sending.len() - c.send_off).min(MAX_SEND) as u32;
                c.send_inflight = true;
                c.ops += 1;
                let e = opcode::Send::new(types::Fd(c.fd), ptr, len)
                    .flags(libc::MSG_NOSIGNAL)
                    .build()
                    .user_data(user_data(OP_SEND, c.generation, slot));
                self.push(e);
            }
            let Some(c) = self.conns[slot].as_mut() else {
                continue;
            };
            let finished = c.pending() == 0 && c.out_bytes() == 0;
            if finished && (c.closing == Closing::AfterFlush || c.eof && !has_command(c, &limits)) {
                self.close(slot, Closing::Now);
                self.maybe_free(slot);
                continue;
            }
            if c.paused && c.pending() < MAX_PENDING / 2 && c.out_bytes() < PAUSE_OUT / 2 {
                c.paused = false;
                if !c.input.is_empty() {
                    self.to_parse.push(slot);
                }
                self.arm_recv(slot);
            }
        }
        list.clear();
        if self.dirty.is_empty() {
            self.dirty = list;
        }
    }
}

/// Whether a connection's unparsed input still holds a whole command (or a
/// protocol error to report), so a half-closed connection is not closed
/// before it is parsed. Rare path: called only for connections at EOF.
fn has_command(c: &Conn, limits: &ParseLimits) -> bool {
    let mut spans = Vec::new();
    !matches!(
        parse_command(&c.input, limits, &mut spans),
        Ok(Parsed::Incomplete { .. })
    )
}

/// Whether `ip:port` ([`sock_addr`]) is a loopback address (IPv4-mapped
/// included), as Redis's `islocalClient`.
fn is_loopback(addr: &str) -> bool {
    let ip = addr.rsplit_once(':').map_or(addr, |(ip, _)| ip);
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => a.is_loopback(),
        Ok(std::net::IpAddr::V6(a)) => {
            a.is_loopback() || a.to_ipv4_mapped().is_some_and(|a| a.is_loopback())
        }
        Err(_) => false,
    }
}

/// `ip:port` of a socket's peer (`peer`) or local end.
fn sock_addr(fd: i32, peer: bool) -> String {
    // SAFETY: getpeername/getsockname fill a zeroed sockaddr_storage of the size we pass.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let p = &mut ss as *mut _ as *mut libc::sockaddr;
        let r = if peer {
            libc::getpeername(fd, p, &mut len)
        } else {
            libc::getsockname(fd, p, &mut len)
        };
        if r != 0 {
            return String::new();
        }
        match ss.ss_family as i32 {
            libc::AF_INET => {
                let a = &*(p as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                format!("{ip}:{}", u16::from_be(a.sin_port))
            }
            libc::AF_INET6 => {
                let a = &*(p as *const libc::sockaddr_in6);
                let ip = std::net::Ipv6Addr::from(a.sin6_addr.s6_addr);
                format!("{ip}:{}", u16::from_be(a.sin6_port))
            }
            _ => String::new(),
        }
    }
}

/// Whether a connection's unsent output is over its class's
/// `client-output-buffer-limit` (Redis's `checkClientOutputBufferLimits`):
/// at or over the hard limit, or over the soft limit for longer than its
/// seconds, timed from when it first went over (reset once under).
fn over_class_limit(c: &mut Conn, limits: &[crate::config::ObufLimit; 3]) -> bool {
    use crate::config::ObufClass;
    let class = if c.subs.as_ref().is_some_and(|s| s.total() > 0) {
        ObufClass::Pubsub
    } else {
        ObufClass::Normal
    };
    let l = limits[class as usize];
    let used = c.out_bytes() as u64;
    if l.hard > 0 && used >= l.hard {
        return true;
    }
    if l.soft > 0 && used >= l.soft {
        match c.obuf_soft_since {
            None => c.obuf_soft_since = Some(Instant::now()),
            Some(t) => return t.elapsed().as_secs() > l.soft_secs,
        }
    } else {
        c.obuf_soft_since = None;
    }
    false
}
