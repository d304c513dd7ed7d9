//! Lock classes: does a waiter on this kind of lock burn CPU or sleep?
//! Each format knows its own lock kinds' defaults (`lock_class` in its
//! module); the user's `--spin` and `--sleep` come over them in the engine.

use serde::Serialize;

/// How a waiter on a lock category spends its wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LockClass {
    /// Waiting burns CPU (OpenBSD `kernel` i.e. kernel_lock, `mutex`).
    Spin,
    /// The waiter sleeps (`rwlock`, `rrwlock`).
    Sleep,
    /// Neither is known.
    Other,
    /// Not a wait: time the lock was held (lockstat `-H`, klockstat's
    /// hold table, read with `--events hold`).
    Hold,
    /// A group whose rows have more than one class (when `--by` leaves out
    /// the category).
    Mixed,
}

impl LockClass {
    /// The class's name as the reports print it.
    pub fn name(self) -> &'static str {
        match self {
            LockClass::Spin => "spin",
            LockClass::Sleep => "sleep",
            LockClass::Other => "other",
            LockClass::Hold => "hold",
            LockClass::Mixed => "mixed",
        }
    }

    /// Reads a name written by [`LockClass::name`].
    pub fn from_name(name: &str) -> Option<LockClass> {
        [
            LockClass::Spin,
            LockClass::Sleep,
            LockClass::Other,
            LockClass::Hold,
            LockClass::Mixed,
        ]
        .into_iter()
        .find(|class| class.name() == name)
    }
}

/// The class of `category` by lists of spinning and sleeping kinds
/// (case-insensitive); Other when in neither.
pub fn listed_class(category: &str, spin: &[&str], sleep: &[&str]) -> LockClass {
    let named = |list: &[&str]| list.iter().any(|c| c.eq_ignore_ascii_case(category));
    if named(spin) {
        LockClass::Spin
    } else if named(sleep) {
        LockClass::Sleep
    } else {
        LockClass::Other
    }
}

/// OpenBSD's lock kinds, as lltrace names them: the table, CSV, btrace and
/// capture formats default to them.
const OPENBSD_SPIN: [&str; 2] = ["kernel", "mutex"];
const OPENBSD_SLEEP: [&str; 2] = ["rwlock", "rrwlock"];

/// The default class of an OpenBSD lock kind (`kernel`, i.e. kernel_lock,
/// and `mutex` spin; `rwlock` and `rrwlock` sleep).
pub fn openbsd_class(category: &str) -> LockClass {
    listed_class(category, &OPENBSD_SPIN, &OPENBSD_SLEEP)
}
