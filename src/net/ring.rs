//! The io_uring mechanics of one IO thread: the ring, its provided receive
//! buffers ([`BufRing`]) and the doorbell's read buffer; submission that
//! never drops an entry, non-blocking and timed enters, and a teardown
//! that frees no buffer the kernel may still touch.
//!
//! Owned by one IO thread (the ring is single issuer); blocks only in
//! [`Ring::wait`], for at most the timeout it is given.
//!
//! # Buffer lifetimes, by construction
//!
//! The kernel writes into the provided buffers and the doorbell buffer
//! while a receive or read is in flight, and reads a connection's send
//! buffer while its send is. Connection buffers are freed only when their
//! operation count is zero (see `IoThread::maybe_free`). The buffers held
//! here are freed by [`Ring`]'s `Drop` only after the ring itself is
//! closed and only if the owner called [`Ring::set_quiet`], having seen
//! every operation complete; otherwise they are leaked on purpose, which
//! is safe whatever the kernel still does. Field order plays no part.

use std::io;
use std::mem::ManuallyDrop;
use std::time::Duration;

use io_uring::{IoUring, cqueue, squeue, types};

use super::bufring::BufRing;

/// `IORING_ENTER_GETEVENTS` (linux/io_uring.h): flush completions (and run
/// deferred task work) during `io_uring_enter`.
const IORING_ENTER_GETEVENTS: u32 = 1;

pub struct Ring {
    uring: ManuallyDrop<IoUring>,
    bufs: ManuallyDrop<BufRing>,
    wake_buf: ManuallyDrop<Box<[u8; 8]>>,
    /// Set when no operation is in flight: the buffers may be freed.
    quiet: bool,
}

impl Ring {
    /// A ring of `sq_entries` submission entries (and four times as many
    /// completion entries) with `bufs` provided receive buffers of
    /// `buf_size` bytes. Asks for single-issuer and deferred task-run
    /// (kernel 6.1+) and falls back without them, with a warning, as they
    /// only save wake-ups. Errors: io_uring unavailable, or the buffer ring
    /// could not be registered.
    pub fn new(sq_entries: u32, bufs: u16, buf_size: usize) -> io::Result<Ring> {
        let uring = match IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_cqsize(sq_entries * 4)
            .build(sq_entries)
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(
                    "io_uring: single-issuer/deferred task-run refused ({e}); running without them (more wake-ups per completion)"
                );
                IoUring::builder()
                    .setup_cqsize(sq_entries * 4)
                    .build(sq_entries)?
            }
        };
        let bufs = BufRing::new(&uring, bufs, buf_size)?;
        Ok(Ring {
            uring: ManuallyDrop::new(uring),
            bufs: ManuallyDrop::new(bufs),
            wake_buf: ManuallyDrop::new(Box::new([0; 8])),
            quiet: false,
        })
    }

    /// Queues `e`, submitting what is queued first when the submission
    /// queue is full.
    ///
    /// # Safety
    /// Every buffer `e` points at must stay alive and unmoved until its
    /// completion is reaped (connection buffers: until the connection's
    /// operation count is back to zero).
    pub unsafe fn push(&mut self, e: &squeue::Entry) {
        loop {
            // SAFETY: the caller guarantees the entry's buffers outlive it.
            if unsafe { self.uring.submission().push(e) }.is_ok() {
                return;
            }
            self.enter();
        }
    }

    /// Submits queued entries and flushes completions into the completion
    /// queue without blocking. EBUSY (completion queue overflowing), EINTR
    /// and EAGAIN just mean "reap and come back".
    pub fn enter(&mut self) {
        let len = self.uring.submission().len() as u32;
        let sub = self.uring.submitter();
        // SAFETY: plain io_uring_enter with no extended argument.
        let r = unsafe { sub.enter::<libc::sigset_t>(len, 0, IORING_ENTER_GETEVENTS, None) };
        if let Err(e) = r {
            match e.raw_os_error() {
                Some(libc::EBUSY) | Some(libc::EINTR) | Some(libc::EAGAIN) => {}
                _ => tracing::warn!("io_uring_enter: {e}"),
            }
        }
    }

    /// Submits and blocks until a completion arrives or `timeout` passes.
    pub fn wait(&mut self, timeout: Duration) {
        let ts = types::Timespec::new()
            .sec(timeout.as_secs())
            .nsec(timeout.subsec_nanos());
        let args = types::SubmitArgs::new().timespec(&ts);
        if let Err(e) = self.uring.submitter().submit_with_args(1, &args) {
            match e.raw_os_error() {
                Some(libc::ETIME) | Some(libc::EINTR) | Some(libc::EBUSY) | Some(libc::EAGAIN) => {}
                _ => tracing::warn!("io_uring_enter (wait): {e}"),
            }
        }
    }

    /// Whether completions are waiting to be reaped.
    pub fn has_completions(&mut self) -> bool {
        !self.uring.completion().is_empty()
    }

    /// Moves up to `max` completions into `out`.
    pub fn reap_into(&mut self, out: &mut Vec<cqueue::Entry>, max: usize) {
        out.extend(self.uring.completion().take(max));
    }

    /// The provided receive buffers.
    pub fn bufs(&mut self) -> &mut BufRing {
        &mut self.bufs
    }

    /// Where the doorbell's eventfd read lands (8 bytes, alive as long as
    /// the ring).
    pub fn wake_ptr(&mut self) -> *mut u8 {
        self.wake_buf.as_mut_ptr()
    }

    /// Declares that no operation is in flight any more (every submitted
    /// entry's completion was reaped), so dropping the ring may free the
    /// buffers it lent the kernel.
    pub fn set_quiet(&mut self) {
        self.quiet = true;
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: each field is dropped exactly once, here. The ring goes
        // first; the buffers follow only if nothing was in flight, else
        // they are leaked so a late kernel write lands in live memory.
        unsafe {
            ManuallyDrop::drop(&mut self.uring);
            if self.quiet {
                ManuallyDrop::drop(&mut self.bufs);
                ManuallyDrop::drop(&mut self.wake_buf);
            } else {
                tracing::warn!(
                    "io_uring: operations still in flight at shutdown; leaking their buffers"
                );
            }
        }
    }
}
