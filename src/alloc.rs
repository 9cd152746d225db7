//! The process's memory allocator: mimalloc, wrapped to count the bytes it
//! hands out, which INFO reports as `used_memory` (Redis reports its
//! allocator's figure too, `zmalloc_used_memory`).
//!
//! Why mimalloc: buffers cross stages (requests to shards, reply bytes and
//! transaction records back), so frees often happen on another thread than
//! the allocation. glibc's malloc takes the owning arena's lock for those
//! (futex waits showed in profiles of cross-shard transactions); mimalloc
//! queues them on the owning page without a lock. BENCHMARKS.md has the
//! measurement.
//!
//! Counting is per thread: each thread adds to its own cache-line slot
//! with a plain load and store (no locked instruction, no line shared with
//! another writer); [`allocated`] sums the slots. Threads past the slots
//! share one atomic counter.
//!
//! The binary installs [`Counting`] as its global allocator (`main.rs`);
//! a program that does not (the library's unit tests) reads 0.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// mimalloc with per-thread byte counts.
pub struct Counting;

const SLOTS: usize = 128;

#[repr(align(64))]
struct Slot(AtomicI64);

static COUNTS: [Slot; SLOTS] = [const { Slot(AtomicI64::new(0)) }; SLOTS];
/// Threads without a slot of their own.
static OVERFLOW: AtomicI64 = AtomicI64::new(0);
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot (usize::MAX: none taken yet). A const `Cell`
    /// without a destructor: reading it never allocates.
    static MINE: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn count(delta: i64) {
    let slot = MINE
        .try_with(|m| {
            let mut i = m.get();
            if i == usize::MAX {
                i = NEXT_SLOT.fetch_add(1, Ordering::Relaxed);
                m.set(i);
            }
            i
        })
        .unwrap_or(SLOTS);
    match COUNTS.get(slot) {
        // Only this thread writes its slot: a plain read-modify-write.
        Some(s) => {
            s.0.store(s.0.load(Ordering::Relaxed) + delta, Ordering::Relaxed)
        }
        None => {
            OVERFLOW.fetch_add(delta, Ordering::Relaxed);
        }
    }
}

/// Blocks this big (giant client buffers) are mapped from the OS directly
/// and unmapped when freed, so their memory leaves the process at once
/// rather than waiting in an allocator heap (glibc's mmap threshold did
/// the same before).
const DIRECT: usize = 4 << 20;
const PAGE: usize = 4096;

fn direct(layout: &Layout) -> bool {
    layout.size() >= DIRECT && layout.align() <= PAGE
}

/// Maps `size` bytes (zeroed, as every fresh mapping); null on failure.
fn map(size: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping; no existing memory is touched.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        p as *mut u8
    }
}

// SAFETY: every block comes from mimalloc or from `map`, chosen by its
// layout (the same layout frees it), and is freed by the same path.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = if direct(&layout) {
            map(layout.size())
        } else {
            // SAFETY: the caller's contract is passed on as is.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = if direct(&layout) {
            map(layout.size())
        } else {
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        };
        if !p.is_null() {
            count(layout.size() as i64);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if direct(&layout) {
            // SAFETY: mapped by `map` with this size.
            unsafe { libc::munmap(ptr as *mut libc::c_void, layout.size()) };
        } else {
            // SAFETY: as above.
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        }
        count(-(layout.size() as i64));
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` fits `layout.align()`.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if !direct(&layout) && !direct(&new) {
            // SAFETY: as above.
            let p = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                count(new_size as i64 - layout.size() as i64);
            }
            return p;
        }
        // Across the threshold or between mappings: a new block, a copy.
        // SAFETY: `new` is a valid layout; the old block is live.
        unsafe {
            let p = self.alloc(new);
            if !p.is_null() {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            p
        }
    }
}

/// Bytes allocated and not freed, all threads together (0 when
/// [`Counting`] is not the global allocator). Reads one slot per thread
/// that ever allocated.
pub fn allocated() -> u64 {
    let used = NEXT_SLOT.load(Ordering::Relaxed).min(SLOTS);
    let mut sum = OVERFLOW.load(Ordering::Relaxed);
    for s in &COUNTS[..used] {
        sum += s.0.load(Ordering::Relaxed);
    }
    sum.max(0) as u64
}

/// This thread's net allocations in bytes (negative when it freed more
/// than it allocated: blocks other threads made). A thread-local read:
/// a shard adds it to what [`allocated`] said at the start of a batch to
/// follow memory between commands without reading every thread's slot.
#[inline]
pub fn mine() -> i64 {
    match MINE.try_with(|m| m.get()).ok().and_then(|i| COUNTS.get(i)) {
        Some(s) => s.0.load(Ordering::Relaxed),
        None => 0,
    }
}

/// Set while a shard found used memory over `maxmemory` with nothing it
/// could evict (Redis's `out_of_memory` in `processCommand`): IO threads
/// then refuse what Redis refuses without asking a shard (commands
/// queued in MULTI, an EXEC with a `denyoom` command, `denyoom` commands
/// that span shards). Written only when it changes.
static OUT_OF_MEMORY: AtomicBool = AtomicBool::new(false);

/// Whether the last shard to look found memory full ([`OUT_OF_MEMORY`]).
#[inline]
pub fn out_of_memory() -> bool {
    OUT_OF_MEMORY.load(Ordering::Relaxed)
}

/// Records a shard's verdict (see [`OUT_OF_MEMORY`]).
#[inline]
pub fn set_out_of_memory(on: bool) {
    if OUT_OF_MEMORY.load(Ordering::Relaxed) != on {
        OUT_OF_MEMORY.store(on, Ordering::Relaxed);
    }
}

unsafe extern "C" {
    fn mi_option_set(option: i32, value: std::ffi::c_long);
    fn mi_option_get(option: i32) -> std::ffi::c_long;
    fn mi_collect(force: bool);
}

/// `mi_option_purge_delay` in the vendored mimalloc 3 header
/// (libmimalloc-sys 0.1.49, `mimalloc.h`, `enum mi_option_e`; mimalloc
/// reads it on every purge).
const MI_OPTION_PURGE_DELAY: i32 = 15;

/// Start-up tuning: memory freed for 10 s (rather than mimalloc's 1 s)
/// goes back to the OS. The keyspace churns pages constantly, and each
/// page purged too early comes back zeroed by the kernel on its next use
/// (`clear_page_erms` was ~9% of the server's CPU under cross-shard MSET
/// with the default). [`give_back`] returns memory at once. An operator's
/// `MIMALLOC_PURGE_DELAY` in the environment wins.
pub fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

const PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// Asks every thread to return its free memory to the OS (decommitted,
/// so the RSS drops): after a burst of big client buffers, say. mimalloc
/// keeps free pages in the heap of the thread that allocated them, so
/// each IO and shard thread does its own share at its next tick
/// ([`give_back_if_asked`]). Costs a pass over the free pages: the stats
/// tick calls it at most once a second, when RSS far exceeds
/// [`allocated`].
pub fn give_back() {
    GIVE_BACK.fetch_add(1, Ordering::Relaxed);
    give_back_if_asked();
}

static GIVE_BACK: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The last [`give_back`] request this thread carried out.
    static GIVEN: Cell<u64> = const { Cell::new(0) };
}

/// This thread's share of a pending [`give_back`]; one atomic load when
/// none is pending. Called from each stage's periodic tick.
#[inline]
pub fn give_back_if_asked() {
    let asked = GIVE_BACK.load(Ordering::Relaxed);
    if GIVEN.get() == asked {
        return;
    }
    GIVEN.set(asked);
    // SAFETY: a plain option change around mimalloc's own collection of
    // this thread's heap.
    unsafe {
        let delay = mi_option_get(MI_OPTION_PURGE_DELAY);
        mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        mi_collect(true);
        mi_option_set(MI_OPTION_PURGE_DELAY, delay);
    }
}
