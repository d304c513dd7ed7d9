//! What a parser read in a way a user might not expect, or set apart from
//! the waits it ranks: one kind each, counted with its first line, and the
//! note that says so. A parser counts a kind (`stats.set_apart.add(kind,
//! line)`); `notes.rs` prints every kind counted, in one loop, so a new
//! kind is a variant here and its note below, nothing else.

use std::ops::{Index, IndexMut};

use super::{ParseStats, Tally};

/// A kind of thing set apart, or read in a way to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetApart {
    /// Tables after the first, each read as a sample of its own (by its
    /// header line).
    ExtraTables,
    /// Rows read as part of the table above them across a blank line (a
    /// blank line pasted inside a table).
    RowsAfterBlank,
    /// libbpf-tools klockstat intervals after the first (by header line):
    /// running totals unless it ran with `-R`.
    RunningTotals,
    /// Rows of a lock owner's stacks (perf lock `-o -v`): read as holders'
    /// doings, not waits.
    OwnerRows,
    /// Rows of locks acquired without contention (perf lock report,
    /// lock_stat and LOCK_PROFILING list every lock): no wait, left out.
    UncontendedRows,
    /// Contention points: callers with counts of contentions and no times
    /// (`/proc/lock_stat`).
    ContentionPoints,
    /// btrace stack-map values read as times with no script to say so:
    /// `@[kstack] = count()` maps hold counts.
    UnsureValues,
    /// btrace values read as event counts (`count()` maps).
    CountRows,
    /// Rows of lock hold times (not waits).
    HoldRows,
    /// Rows of lockstat's profiling sections (not lock data).
    ProfilingRows,
    /// lockstat tables without a section title.
    UntitledTables,
    /// perf lock `-t` rows whose thread name an earlier row gave another
    /// pid: kept apart, keyed `name[pid]`.
    SharedThreadNames,
}

impl SetApart {
    /// Every kind, in the order their notes are printed.
    pub const ALL: [SetApart; 12] = [
        SetApart::ExtraTables,
        SetApart::RowsAfterBlank,
        SetApart::RunningTotals,
        SetApart::OwnerRows,
        SetApart::UncontendedRows,
        SetApart::ContentionPoints,
        SetApart::UnsureValues,
        SetApart::CountRows,
        SetApart::HoldRows,
        SetApart::ProfilingRows,
        SetApart::UntitledTables,
        SetApart::SharedThreadNames,
    ];

    /// The kind's name: the key under which notes of several inputs are
    /// one line.
    pub fn name(self) -> &'static str {
        match self {
            SetApart::ExtraTables => "extra_tables",
            SetApart::RowsAfterBlank => "rows_after_blank",
            SetApart::RunningTotals => "running_totals",
            SetApart::OwnerRows => "owner_rows",
            SetApart::UncontendedRows => "uncontended_rows",
            SetApart::ContentionPoints => "contention_points",
            SetApart::UnsureValues => "unsure_values",
            SetApart::CountRows => "count_rows",
            SetApart::HoldRows => "hold_rows",
            SetApart::ProfilingRows => "profiling_rows",
            SetApart::UntitledTables => "untitled_tables",
            SetApart::SharedThreadNames => "shared_thread_names",
        }
    }

    /// The note on what was counted: `tally` of this kind, in the reading
    /// `stats` sums up.
    pub fn note(self, tally: Tally, stats: &ParseStats) -> String {
        let first = tally.first_line.unwrap_or(0);
        let rows = counted(tally.count, "row", "rows");
        match self {
            SetApart::ExtraTables => format!(
                "{} tables, each read as a sample of its own (the second's header: line {first})",
                tally.count + 1
            ),
            SetApart::RowsAfterBlank => format!(
                "read {rows} after a blank line as part of the table above (first: line {first})"
            ),
            SetApart::RunningTotals => format!(
                "{} klockstat intervals read as samples (the second: line {first}); libbpf-tools \
                 klockstat keeps counting across intervals unless run with -R, and then each \
                 sample is a running total that the report adds up: keep only the last \
                 interval, or record with -R",
                tally.count + 1
            ),
            SetApart::OwnerRows => format!(
                "read {rows} of `=== owner stack trace ===` (first: line {first}) as what the \
                 lock owners were doing (their stacks), not as waits: under \"Who held it\" and \
                 in the JSON's holders"
            ),
            SetApart::UncontendedRows => format!(
                "left out {rows} with no contention (first: line {first}): acquired without a \
                 wait"
            ),
            SetApart::ContentionPoints => format!(
                "counted {} (first: line {first}): they count contentions per caller, but \
                 lock_stat times only whole classes, so they are not ranked",
                counted(tally.count, "contention point", "contention points")
            ),
            SetApart::UnsureValues => format!(
                "read {} of stack keys as nanoseconds (first: line {first}), though no script \
                 above them says sum(); if the map was filled with count() (`@[kstack] = \
                 count()`), they are event counts: --values count",
                counted(tally.count, "map value", "map values")
            ),
            SetApart::CountRows => {
                let why = match stats.count_script_line {
                    Some(line) => format!("the script on line {line} fills the map with count()"),
                    None => "--values count".to_string(),
                };
                format!(
                    "read {} as event counts, not times (first: line {first}; {why}): ranked \
                     by events",
                    counted(tally.count, "map value", "map values")
                )
            }
            SetApart::HoldRows => format!(
                "set apart {rows} of lock hold time (first: line {first}): holds are not \
                 waits; --events hold ranks them"
            ),
            SetApart::ProfilingRows => format!(
                "skipped {rows} of profiling interrupts (first: line {first}): not lock data"
            ),
            SetApart::UntitledTables => format!(
                "{} without a section title (first: line {first}): read as lock events of \
                 unknown kind, category `(no title)`; --spin '(no title)' or --sleep '(no \
                 title)' says which",
                counted(tally.count, "table", "tables")
            ),
            SetApart::SharedThreadNames => format!(
                "{rows} of perf lock -t name a thread by a name an earlier row gave another pid \
                 (first: line {first}): perf printed each thread apart, so each is keyed \
                 name[pid], not merged by name"
            ),
        }
    }
}

/// `1 row`, `4 rows`.
pub fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// A tally of each kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAparts([Tally; SetApart::ALL.len()]);

impl SetAparts {
    /// Counts one of `kind`, on `line`.
    pub fn add(&mut self, kind: SetApart, line: u64) {
        self[kind].add(line);
    }

    /// The kinds counted, with their tallies, in [`SetApart::ALL`]'s order.
    pub fn counted(&self) -> impl Iterator<Item = (SetApart, Tally)> + '_ {
        SetApart::ALL
            .into_iter()
            .map(|kind| (kind, self[kind]))
            .filter(|(_, tally)| tally.first_line.is_some())
    }

    /// Adds another reading's tallies, their lines shifted by `shift`.
    pub fn merge(&mut self, other: &SetAparts, shift: impl Fn(Tally) -> Tally) {
        for kind in SetApart::ALL {
            self[kind].merge(shift(other[kind]));
        }
    }
}

impl Index<SetApart> for SetAparts {
    type Output = Tally;

    fn index(&self, kind: SetApart) -> &Tally {
        &self.0[kind as usize]
    }
}

impl IndexMut<SetApart> for SetAparts {
    fn index_mut(&mut self, kind: SetApart) -> &mut Tally {
        &mut self.0[kind as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_slot_and_name() {
        let mut names: Vec<&str> = SetApart::ALL.iter().map(|kind| kind.name()).collect();
        for (at, kind) in SetApart::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, at, "{kind:?} is out of order in ALL");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SetApart::ALL.len());
    }

    #[test]
    fn only_the_kinds_counted_are_noted() {
        let mut set_apart = SetAparts::default();
        set_apart.add(SetApart::HoldRows, 7);
        set_apart.add(SetApart::HoldRows, 9);
        set_apart.add(SetApart::ExtraTables, 4);
        let counted: Vec<_> = set_apart.counted().collect();
        assert_eq!(
            counted,
            [
                (SetApart::ExtraTables, Tally::of(1, 4)),
                (SetApart::HoldRows, Tally::of(2, 7)),
            ]
        );
        let stats = ParseStats::default();
        assert_eq!(
            SetApart::HoldRows.note(Tally::of(2, 7), &stats),
            "set apart 2 rows of lock hold time (first: line 7): holds are not waits; \
             --events hold ranks them"
        );
    }
}
