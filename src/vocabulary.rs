//! The words every stage shares: the state that is on-CPU, the lock the
//! verdict singles out, the keys a ranking groups by. Below the facts and
//! the engine both, so that neither reaches into the other for them.

use serde::Serialize;

/// The state counted as on-CPU; every other state is off-CPU.
pub const RUNNING: &str = "Running";

/// The symbol whose waits the verdict singles out.
pub const KERNEL_LOCK: &str = "kernel_lock";

/// A key column a ranking can group by (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKey {
    /// The lock type.
    Category,
    /// The lock's symbol.
    Symbol,
    /// The waiting function.
    Caller,
    /// The thread that held the lock during the wait (captures read with
    /// `--thread`, perf lock `-o`): a wait held by several is split over
    /// them.
    Holder,
}

/// How many parts a key has: (category, symbol, caller, holder).
pub const KEY_PARTS: usize = 4;

/// The holder of a wait whose holder is not known (or not recorded).
pub const UNKNOWN_HOLDER: &str = "unknown";

impl GroupKey {
    /// The keys of the default `--by`, in order.
    pub const ALL: [GroupKey; 3] = [GroupKey::Category, GroupKey::Symbol, GroupKey::Caller];

    /// Every key, in the order of a key's parts.
    pub const EVERY: [GroupKey; KEY_PARTS] = [
        GroupKey::Category,
        GroupKey::Symbol,
        GroupKey::Caller,
        GroupKey::Holder,
    ];

    /// The column's name in frames, tables and CSV.
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Category => "category",
            GroupKey::Symbol => "symbol",
            GroupKey::Caller => "caller",
            GroupKey::Holder => "holder",
        }
    }

    /// The key's index in (category, symbol, caller, holder).
    pub fn position(self) -> usize {
        match self {
            GroupKey::Category => 0,
            GroupKey::Symbol => 1,
            GroupKey::Caller => 2,
            GroupKey::Holder => 3,
        }
    }
}
