//! Live heap bytes (and the number of allocations) of this process, counted by a global
//! allocator that wraps the system's.
//!
//! Resident memory (`VmRSS`) also counts what the allocator keeps after a free (a large JSON
//! body parsed and dropped leaves its pages behind), so it overstates what a printer keeps.
//! This counter is exact: bytes allocated and not yet freed. It is off until [`start`] is
//! called (one relaxed load per allocation then), so the other tables pay next to nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};

/// The system allocator, counting live bytes once [`start`] was called.
pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

/// Counts one allocation of `bytes` (a realloc counts as one).
fn counted(bytes: isize) {
    if ON.load(Ordering::Relaxed) {
        LIVE.fetch_add(bytes, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed to the system allocator unchanged; the counter only observes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            counted(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        if ON.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            counted(layout.size() as isize);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            counted(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// Starts counting from zero. Frees of blocks allocated before are counted too, so read the
/// counter as a difference of two [`live`] readings taken after `start`.
pub fn start() {
    LIVE.store(0, Ordering::Relaxed);
    ON.store(true, Ordering::Relaxed);
}

/// Stops counting (the readings keep their values), so that timed work after a count pays
/// only the one relaxed load per allocation.
pub fn stop() {
    ON.store(false, Ordering::Relaxed);
}

/// Allocations (and reallocations) counted since the process began; only those made while
/// counting is on, so read it as a difference of two readings taken after [`start`].
pub fn allocations() -> usize {
    ALLOCS.load(Ordering::Relaxed)
}

/// Live bytes counted since [`start`] (negative when more was freed than allocated).
pub fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}
