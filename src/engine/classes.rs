//! Lock classes: does a waiter on this kind of lock burn CPU or sleep?

use crate::parse::InputFormat;
pub use crate::parse::LockClass;

/// Which categories spin and which sleep: each format's defaults, with the
/// user's `--spin` and `--sleep` taking precedence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClassMap {
    spin: Vec<String>,
    sleep: Vec<String>,
}

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
        self.class_in(InputFormat::Table, category)
    }

    /// The class of a category read in `format`: the user's flags first,
    /// then the format's defaults.
    pub fn class_in(&self, format: InputFormat, category: &str) -> LockClass {
        let named = |list: &[String]| list.iter().any(|c| c.eq_ignore_ascii_case(category));
        if named(&self.spin) {
            return LockClass::Spin;
        }
        if named(&self.sleep) {
            return LockClass::Sleep;
        }
        format.lock_class(category)
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
        for (format, category, class) in [
            (InputFormat::PerfLock, "spinlock", LockClass::Spin),
            (InputFormat::PerfLock, "rwlock:W", LockClass::Spin),
            (InputFormat::PerfLock, "mutex", LockClass::Sleep),
            (InputFormat::PerfLock, "rwsem:R", LockClass::Sleep),
            (InputFormat::PerfLock, "percpu-rwsem", LockClass::Sleep),
            (
                InputFormat::Lockstat,
                "Adaptive mutex spin",
                LockClass::Spin,
            ),
            (
                InputFormat::Lockstat,
                "R/W writer blocked by readers",
                LockClass::Sleep,
            ),
            (
                InputFormat::Lockstat,
                "Adaptive mutex hold",
                LockClass::Hold,
            ),
            (InputFormat::Lockstat, "Spin lock hold", LockClass::Hold),
        ] {
            assert_eq!(map.class_in(format, category), class, "{category}");
        }
        // The user's word wins in every format.
        let map = ClassMap::with_overrides(&[], &["spinlock".into()]);
        assert_eq!(
            map.class_in(InputFormat::PerfLock, "spinlock"),
            LockClass::Sleep
        );
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
