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
}

impl GroupKey {
    /// Every key, in the order of the default `--by`.
    pub const ALL: [GroupKey; 3] = [GroupKey::Category, GroupKey::Symbol, GroupKey::Caller];

    /// The column's name in frames, tables and CSV.
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Category => "category",
            GroupKey::Symbol => "symbol",
            GroupKey::Caller => "caller",
        }
    }

    /// The key's index in (category, symbol, caller).
    pub fn position(self) -> usize {
        match self {
            GroupKey::Category => 0,
            GroupKey::Symbol => 1,
            GroupKey::Caller => 2,
        }
    }
}
