//! Column names and their aliases, shared by every tabular input format.

use super::RowWaits;

/// What a column of a lock table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The wait duration.
    Dur,
    /// The lock type (`kernel`, `mutex`, `rwlock`, ...).
    Category,
    /// The lock's symbol (`kernel_lock`, `sched_lock`, ...).
    Symbol,
    /// The function that waited.
    Caller,
    /// How many events a pre-aggregated row stands for.
    Count,
    /// When the wait began: a row with one is a single wait (a slice).
    Start,
    /// A column `contend` does not use.
    Other,
}

impl Role {
    /// True for the three key columns (category, symbol, caller).
    pub fn is_key(self) -> bool {
        matches!(self, Role::Category | Role::Symbol | Role::Caller)
    }
}

/// Maps a column name to its role, by alias.
///
/// Perfetto's UI escapes arg columns in two schemes: `arg_set_id__symbol__`
/// (before November 2025) and `arg__set__id_91symbol_93` (`[` and `]` as
/// their code points, after); both are unwrapped to the bare arg name.
pub fn role_of(name: &str) -> Role {
    let lower = name.trim().to_ascii_lowercase();
    match unwrap_arg_name(&lower) {
        "dur" | "duration" | "dur_ns" => Role::Dur,
        "category" | "cat" => Role::Category,
        "symbol" | "name" | "lock" => Role::Symbol,
        "caller" => Role::Caller,
        "count" | "cnt" | "occurrences" => Role::Count,
        "ts" | "timestamp" | "ts_ns" => Role::Start,
        _ => Role::Other,
    }
}

/// What the rows under a header with these columns tell of single waits:
/// a count column makes each a sum of that many; a start time (and no
/// count) makes each one wait, as in a slice list; else each is a sum of
/// an unknown number (a pivot table).
pub fn row_waits(mut roles: impl Iterator<Item = Role> + Clone) -> RowWaits<'static> {
    if roles.clone().any(|role| role == Role::Count) {
        RowWaits::Counted
    } else if roles.any(|role| role == Role::Start) {
        RowWaits::One
    } else {
        RowWaits::Unknown
    }
}

fn unwrap_arg_name(name: &str) -> &str {
    const WRAPPERS: [(&str, &str); 4] = [
        ("arg_set_id__", "__"),
        ("arg__set__id_91", "_93"),
        ("arg_set_id[", "]"),
        ("args.", ""),
    ];
    for (prefix, suffix) in WRAPPERS {
        if let Some(inner) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .filter(|inner| !inner.is_empty())
        {
            return inner;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_aliases() {
        assert_eq!(role_of("dur"), Role::Dur);
        assert_eq!(role_of("Duration"), Role::Dur);
        assert_eq!(role_of("dur_ns"), Role::Dur);
        assert_eq!(role_of("cat"), Role::Category);
        assert_eq!(role_of("category"), Role::Category);
        assert_eq!(role_of("name"), Role::Symbol);
        assert_eq!(role_of("lock"), Role::Symbol);
        assert_eq!(role_of("caller"), Role::Caller);
        assert_eq!(role_of("count"), Role::Count);
        assert_eq!(role_of("ts"), Role::Start);
        assert_eq!(role_of("id"), Role::Other);
    }

    #[test]
    fn perfetto_arg_columns_in_both_escapings() {
        assert_eq!(role_of("arg_set_id__symbol__"), Role::Symbol);
        assert_eq!(role_of("arg_set_id__caller__"), Role::Caller);
        assert_eq!(role_of("arg__set__id_91symbol_93"), Role::Symbol);
        assert_eq!(role_of("arg__set__id_91caller_93"), Role::Caller);
        assert_eq!(role_of("args.symbol"), Role::Symbol);
        assert_eq!(role_of("args.caller"), Role::Caller);
        assert_eq!(role_of("arg_set_id"), Role::Other);
    }
}
