//! A provided-buffer ring for multishot receive: the kernel picks a free
//! buffer for each receive completion and names it by id; the IO thread
//! copies the bytes out and hands the buffer straight back.
//!
//! Owned by one IO thread; never blocks.

use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::IoUring;
use io_uring::types::BufRingEntry;

/// Buffer group id used for all receives of a ring.
pub const BGID: u16 = 1;

pub struct BufRing {
    ring: *mut BufRingEntry,
    ring_bytes: usize,
    entries: u16,
    buf_size: usize,
    mem: Vec<u8>,
    tail: u16,
    /// Buffers returned since the last [`BufRing::commit`].
    dirty: bool,
}

impl BufRing {
    /// Registers `entries` (a power of two) buffers of `buf_size` bytes with
    /// `ring`. Errors: mmap or registration refused by the kernel.
    pub fn new(ring: &IoUring, entries: u16, buf_size: usize) -> io::Result<BufRing> {
        assert!(entries.is_power_of_two());
        let ring_bytes = entries as usize * std::mem::size_of::<BufRingEntry>();
        // SAFETY: anonymous private mapping; checked for MAP_FAILED below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ring_bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // Fault every page in now: the pool is in use from the first
        // receives on, and the process's RSS should show it from the start
        // rather than creep up as the kernel first fills each buffer.
        let mut mem = vec![0u8; entries as usize * buf_size];
        for page in mem.chunks_mut(4096) {
            // SAFETY: a volatile write of a byte inside the buffer, so the
            // store (and the page fault) is not optimized away.
            unsafe { std::ptr::write_volatile(page.as_mut_ptr(), 0) };
        }
        let mut br = BufRing {
            ring: ptr as *mut BufRingEntry,
            ring_bytes,
            entries,
            buf_size,
            mem,
            tail: 0,
            dirty: false,
        };
        // SAFETY: the mapping lives as long as `br`, which [`super::ring::Ring`]
        // drops only after the ring, and only once no receive is in flight.
        unsafe {
            ring.submitter()
                .register_buf_ring_with_flags(ptr as u64, entries, BGID, 0)?
        };
        for bid in 0..entries {
            br.give_back(bid);
        }
        br.commit();
        Ok(br)
    }

    /// The bytes the kernel wrote into buffer `bid`.
    pub fn data(&self, bid: u16, len: usize) -> &[u8] {
        let start = bid as usize * self.buf_size;
        &self.mem[start..start + len.min(self.buf_size)]
    }

    /// Returns buffer `bid` to the kernel (visible after [`BufRing::commit`]).
    pub fn give_back(&mut self, bid: u16) {
        let idx = (self.tail & (self.entries - 1)) as usize;
        // SAFETY: idx < entries, inside the mapping; the kernel only reads
        // entries past the published tail, and this one is not yet published.
        unsafe {
            let e = &mut *self.ring.add(idx);
            e.set_addr(self.mem.as_ptr().add(bid as usize * self.buf_size) as u64);
            e.set_len(self.buf_size as u32);
            e.set_bid(bid);
        }
        self.tail = self.tail.wrapping_add(1);
        self.dirty = true;
    }

    /// Publishes returned buffers to the kernel with one release store.
    pub fn commit(&mut self) {
        if self.dirty {
            // SAFETY: the tail field overlays the first entry's reserved
            // field, inside the mapping; the kernel reads it with acquire.
            unsafe {
                let tail = BufRingEntry::tail(self.ring as *const BufRingEntry) as *const AtomicU16;
                (*tail).store(self.tail, Ordering::Release);
            }
            self.dirty = false;
        }
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mapping; `Ring` drops the ring first and
        // drops this only when no operation is in flight.
        unsafe { libc::munmap(self.ring as *mut libc::c_void, self.ring_bytes) };
    }
}
