//! Running out of memory as an error that says what to do, not an abort
//! with a backtrace: the process's allocator is the system's, watched. When
//! an allocation fails (a `ulimit -v`, a cgroup, an input of millions of
//! distinct keys), it writes one line to stderr naming the input being
//! read and the flags that keep less, and exits with status 2.
//!
//! Nothing here may allocate: the message is put together in a buffer on
//! the stack and written with one system call.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// The system allocator, with allocation failure turned into an error
/// exit ([`out_of_memory`]).
pub struct Allocator;

// SAFETY: every call goes to `System` with the same arguments; the only
// difference is what happens when it returns null, which never returns.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as given.
        let pointer = unsafe { System.alloc(layout) };
        if pointer.is_null() {
            out_of_memory(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as given.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if pointer.is_null() {
            out_of_memory(layout.size());
        }
        pointer
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as given.
        let grown = unsafe { System.realloc(pointer, layout, new_size) };
        if grown.is_null() {
            out_of_memory(new_size);
        }
        grown
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded as given.
        unsafe { System.dealloc(pointer, layout) }
    }
}

/// The most bytes of an input's name the message keeps.
const NAME_BYTES: usize = 200;

/// The name of the input read last (set by [`reading`]), in atomics the
/// failing allocation can read without a lock.
static NAME: [AtomicU8; NAME_BYTES] = [const { AtomicU8::new(0) }; NAME_BYTES];
static NAME_LEN: AtomicUsize = AtomicUsize::new(0);

/// Notes that `name` is being read, for the message if memory runs out.
pub fn reading(name: &str) {
    let shown = crate::printable::printable(name);
    let mut length = shown.len().min(NAME_BYTES);
    while !shown.is_char_boundary(length) {
        length -= 1;
    }
    NAME_LEN.store(0, Ordering::Relaxed);
    for (slot, byte) in NAME.iter().zip(shown.as_bytes()[..length].iter()) {
        slot.store(*byte, Ordering::Relaxed);
    }
    NAME_LEN.store(length, Ordering::Release);
}

/// A fixed buffer the message is put together in.
struct Line {
    bytes: [u8; 768],
    length: usize,
}

impl Line {
    fn push(&mut self, text: &[u8]) {
        let room = self.bytes.len() - self.length;
        let taken = text.len().min(room);
        self.bytes[self.length..self.length + taken].copy_from_slice(&text[..taken]);
        self.length += taken;
    }

    fn push_number(&mut self, mut number: usize) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (number % 10) as u8;
            number /= 10;
            if number == 0 {
                break;
            }
        }
        self.push(&digits[at..]);
    }
}

/// Writes the out-of-memory error and exits with status 2, without
/// allocating or unwinding.
fn out_of_memory(size: usize) -> ! {
    let mut line = Line {
        bytes: [0; 768],
        length: 0,
    };
    line.push(b"contend: ");
    let length = NAME_LEN.load(Ordering::Acquire);
    if length > 0 {
        let mut name = [0u8; NAME_BYTES];
        for (byte, slot) in name.iter_mut().zip(&NAME[..length]) {
            *byte = slot.load(Ordering::Relaxed);
        }
        line.push(&name[..length]);
        line.push(b": ");
    }
    line.push(b"out of memory (an allocation of ");
    line.push_number(size);
    line.push(
        b" bytes failed): the input holds more distinct keys or samples than fit; \
          keep fewer with --match or --exclude, --by fewer keys, or --samples, \
          or give contend more memory\n",
    );
    #[cfg(unix)]
    // SAFETY: write(2) and _exit(2) are async-signal-safe and touch no
    // memory of ours beyond the buffer.
    unsafe {
        libc::write(2, line.bytes.as_ptr().cast(), line.length);
        libc::_exit(2);
    }
    #[cfg(not(unix))]
    std::process::exit(2);
}
