//! Lock classes: does a waiter on this kind of lock burn CPU or sleep?

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
            LockClass::Mixed => "mixed",
        }
    }

    /// Reads a name written by [`LockClass::name`].
    pub fn from_name(name: &str) -> Option<LockClass> {
        [
            LockClass::Spin,
            LockClass::Sleep,
            LockClass::Other,
            LockClass::Mixed,
        ]
        .into_iter()
        .find(|class| class.name() == name)
    }
}

/// Which categories spin and which sleep: each format's defaults, with the
/// user's `--spin` and `--sleep` taking precedence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassMap {
    spin: Vec<String>,
    sleep: Vec<String>,
}

/// OpenBSD's lock kinds, as lltrace names them.
const OPENBSD_SPIN: [&str; 2] = ["kernel", "mutex"];
const OPENBSD_SLEEP: [&str; 2] = ["rwlock", "rrwlock"];
/// Linux's, as `perf lock contention` names them (`rwsem:R` is `rwsem`).
const LINUX_SPIN: [&str; 2] = ["spinlock", "rwlock"];
const LINUX_SLEEP: [&str; 6] = [
    "mutex",
    "rwsem",
    "semaphore",
    "percpu-rwsem",
    "rtmutex",
    "pcpu-sem",
];

impl ClassMap {
    /// The defaults with `--spin` and `--sleep` applied: a category named
    /// there takes that class, every other keeps its format's default.
    pub fn with_overrides(spin: &[String], sleep: &[String]) -> Self {
        ClassMap {
            spin: spin.to_vec(),
            sleep: sleep.to_vec(),
        }
    }

    /// The class of a category of the table, CSV or btrace formats
    /// (OpenBSD's names; case-insensitive).
    pub fn class_of(&self, category: &str) -> LockClass {
        self.class_in("table", category)
    }

    /// The class of a category read in the format named `format`: the
    /// user's flags first, then the format's defaults.
    pub fn class_in(&self, format: &str, category: &str) -> LockClass {
        let named = |list: &[String]| list.iter().any(|c| c.eq_ignore_ascii_case(category));
        if named(&self.spin) {
            return LockClass::Spin;
        }
        if named(&self.sleep) {
            return LockClass::Sleep;
        }
        match format {
            "perf-lock" => linux_class(category),
            "lockstat" => lockstat_class(category),
            _ => listed_class(category, &OPENBSD_SPIN, &OPENBSD_SLEEP),
        }
    }
}

fn listed_class(category: &str, spin: &[&str], sleep: &[&str]) -> LockClass {
    let named = |list: &[&str]| list.iter().any(|c| c.eq_ignore_ascii_case(category));
    if named(spin) {
        LockClass::Spin
    } else if named(sleep) {
        LockClass::Sleep
    } else {
        LockClass::Other
    }
}

/// perf's lock types, with their `:R`/`:W` flavour dropped.
fn linux_class(category: &str) -> LockClass {
    let base = category.split(':').next().unwrap_or(category);
    listed_class(base, &LINUX_SPIN, &LINUX_SLEEP)
}

/// lockstat's event types say it themselves: `Adaptive mutex spin`, `R/W
/// writer blocked by readers`; `hold` events are not waits.
fn lockstat_class(event: &str) -> LockClass {
    let event = event.to_ascii_lowercase();
    if event.contains("spin") {
        LockClass::Spin
    } else if event.contains("block") {
        LockClass::Sleep
    } else {
        LockClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openbsd_defaults() {
        let map = ClassMap::default();
        assert_eq!(map.class_of("kernel"), LockClass::Spin);
        assert_eq!(map.class_of("mutex"), LockClass::Spin);
        assert_eq!(map.class_of("rwlock"), LockClass::Sleep);
        assert_eq!(map.class_of("rrwlock"), LockClass::Sleep);
        assert_eq!(map.class_of("futex"), LockClass::Other);
        assert_eq!(map.class_of("Kernel"), LockClass::Spin);
    }

    #[test]
    fn overrides_move_a_category() {
        let map = ClassMap::with_overrides(&["rwlock".into()], &["mutex".into()]);
        assert_eq!(map.class_of("rwlock"), LockClass::Spin);
        assert_eq!(map.class_of("mutex"), LockClass::Sleep);
        assert_eq!(map.class_of("kernel"), LockClass::Spin);
    }

    #[test]
    fn linux_and_lockstat_defaults() {
        let map = ClassMap::default();
        assert_eq!(map.class_in("perf-lock", "spinlock"), LockClass::Spin);
        assert_eq!(map.class_in("perf-lock", "rwlock:W"), LockClass::Spin);
        assert_eq!(map.class_in("perf-lock", "mutex"), LockClass::Sleep);
        assert_eq!(map.class_in("perf-lock", "rwsem:R"), LockClass::Sleep);
        assert_eq!(map.class_in("perf-lock", "percpu-rwsem"), LockClass::Sleep);
        assert_eq!(
            map.class_in("lockstat", "Adaptive mutex spin"),
            LockClass::Spin
        );
        assert_eq!(
            map.class_in("lockstat", "R/W writer blocked by readers"),
            LockClass::Sleep
        );
        assert_eq!(
            map.class_in("lockstat", "Adaptive mutex hold"),
            LockClass::Other
        );
        // The user's word wins in every format.
        let map = ClassMap::with_overrides(&[], &["spinlock".into()]);
        assert_eq!(map.class_in("perf-lock", "spinlock"), LockClass::Sleep);
    }

    #[test]
    fn names_round_trip() {
        for class in [
            LockClass::Spin,
            LockClass::Sleep,
            LockClass::Other,
            LockClass::Mixed,
        ] {
            assert_eq!(LockClass::from_name(class.name()), Some(class));
        }
    }
}
