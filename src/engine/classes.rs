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

/// Which categories spin and which sleep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassMap {
    spin: Vec<String>,
    sleep: Vec<String>,
}

impl Default for ClassMap {
    /// OpenBSD's lock kinds, as lltrace names them.
    fn default() -> Self {
        ClassMap {
            spin: vec!["kernel".into(), "mutex".into()],
            sleep: vec!["rwlock".into(), "rrwlock".into()],
        }
    }
}

impl ClassMap {
    /// The defaults with `--spin` and `--sleep` applied: a category named
    /// there takes that class, every other keeps its default.
    pub fn with_overrides(spin: &[String], sleep: &[String]) -> Self {
        let mut map = ClassMap::default();
        for category in spin {
            map.sleep.retain(|c| !c.eq_ignore_ascii_case(category));
            map.spin.push(category.clone());
        }
        for category in sleep {
            map.spin.retain(|c| !c.eq_ignore_ascii_case(category));
            map.sleep.push(category.clone());
        }
        map
    }

    /// The class of a category (case-insensitive).
    pub fn class_of(&self, category: &str) -> LockClass {
        let named = |list: &[String]| list.iter().any(|c| c.eq_ignore_ascii_case(category));
        if named(&self.spin) {
            LockClass::Spin
        } else if named(&self.sleep) {
            LockClass::Sleep
        } else {
            LockClass::Other
        }
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
