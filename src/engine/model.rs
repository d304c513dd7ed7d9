//! The engine's answer as plain data: what renderers format and what the
//! JSON contract (docs/report.md, docs/diff.md) serialises. Field names are
//! that contract: extend, never rename.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::holders::HolderSummary;

use super::classes::LockClass;
use crate::distribution::Octave;
use crate::parse::InputFormat;

pub use crate::vocabulary::{GroupKey, KERNEL_LOCK, RUNNING};

/// What the ranking is ordered by (`--sort`), largest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Total wait time.
    #[default]
    Total,
    /// Number of events.
    Rows,
    /// Largest single row.
    Max,
    /// Mean per sample in which the group appears.
    Mean,
    /// Where the CPU goes: spinning groups first by their share of
    /// Running, then sleeping groups by their share of off-CPU time, then
    /// the rest by total.
    Running,
}

impl SortKey {
    /// The key's name as `--sort` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SortKey::Total => "total",
            SortKey::Rows => "rows",
            SortKey::Max => "max",
            SortKey::Mean => "mean",
            SortKey::Running => "running",
        }
    }

    /// How the ranking's heading says the order.
    pub fn described(self) -> &'static str {
        match self {
            SortKey::Running => "share of Running (spinning), then of off-CPU time (sleeping)",
            other => other.name(),
        }
    }

    /// The ranking column this key sorts by.
    pub fn column(self) -> &'static str {
        match self {
            SortKey::Total => "total_ns",
            SortKey::Rows => "rows",
            SortKey::Max => "max_ns",
            SortKey::Mean => "mean_ns",
            SortKey::Running => "share_of_running",
        }
    }
}

/// The figures of one sample, or summed over several.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Thread-state totals by state name, nanoseconds.
    pub states_ns: BTreeMap<String, u64>,
    /// Time in the `Running` state (on-CPU); null without state totals.
    pub running_ns: Option<u64>,
    /// Time in every other state (off-CPU); null without state totals.
    pub off_cpu_ns: Option<u64>,
    /// Waits on spin-class locks: CPU burnt spinning.
    pub spin_ns: u64,
    /// Waits on sleep-class locks: time asleep on a lock.
    pub sleep_wait_ns: u64,
    /// Running minus spin: real work (negative if the data disagree).
    pub work_ns: Option<i128>,
    /// Spin over running, 0..1; null when running is unknown or zero.
    pub spin_share: Option<f64>,
    /// Waits on the `kernel_lock` symbol.
    pub kernel_lock_ns: u64,
    /// kernel_lock over running (an extension of the contract).
    pub kernel_lock_share: Option<f64>,
    /// Sleep wait over off-CPU time (an extension of the contract).
    pub sleep_wait_share: Option<f64>,
    /// Work over running, 0..1 (an extension of the contract).
    pub work_share: Option<f64>,
    /// Waits on locks of a kind neither known to spin nor to sleep (class
    /// `other`; an extension).
    pub other_wait_ns: u64,
    /// Lock hold times read with `--events hold` (class `hold`; an
    /// extension).
    pub hold_ns: u64,
}

/// One sample's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSummary {
    /// The label of the input the sample comes from.
    pub input: String,
    /// 1-based number of the sample within its input.
    pub sample: u32,
    /// The figures.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// One input: what was read, and its figures over all its samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputSummary {
    /// File stem, `stdin`, or `--label`.
    pub label: String,
    /// Number of samples read.
    pub samples: usize,
    /// Number of rows read.
    pub rows: u64,
    /// Lines skipped as not part of a table.
    pub skipped_lines: u64,
    /// The format the input was read as (an extension of the contract).
    pub format: InputFormat,
    /// Rows of lock hold times set apart, not counted as waits (lockstat
    /// `-H`, klockstat's hold table; an extension).
    pub hold_rows: u64,
    /// Their summed time (an extension).
    pub hold_ns: u64,
    /// Rows of profiling sections skipped: not lock data (lockstat `-I`;
    /// an extension).
    pub profiling_rows: u64,
    /// Rows of lock owners' stacks skipped: not waits (perf lock `-o`; an
    /// extension).
    pub owner_stack_rows: u64,
    /// Rows of locks acquired without contention, left out: no wait (perf
    /// lock report; an extension).
    pub uncontended_rows: u64,
    /// Contention points counted, callers with counts and no times
    /// (`/proc/lock_stat`; an extension).
    pub contention_point_rows: u64,
    /// Events counted by btrace `count()` maps, read as counts rather than
    /// times (an extension).
    pub counted_events: u64,
    /// Who held the locks its thread waited on, per lock and holder:
    /// present for inputs that record holders (captures; an extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holders: Option<Vec<HolderSummary>>,
    /// Lock types whose releases the capture never records, so whose
    /// holders are unknown (captures; an extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holders_unknown_for: Option<Vec<String>>,
    /// Locks held by more threads at once than a wait is split over (256):
    /// those stretches count as unknown (captures; an extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holders_crowded: Option<Vec<String>>,
    /// The input's figures summed over its samples (an extension).
    pub total: Metrics,
}

/// One line of the ranking, at the `--by` level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The input's label, with `--per-input` (an extension); absent
    /// otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The same input by its index among the inputs: how the engine finds
    /// it (labels are for people).
    #[serde(skip)]
    pub input_index: Option<usize>,
    /// The group's category, symbol and caller.
    #[serde(flatten)]
    pub keys: KeyValues,
    /// The lock class of the group's rows.
    pub class: LockClass,
    /// Total wait, nanoseconds; null where the rows count events with no
    /// time (a `count()` map).
    pub total_ns: Option<u64>,
    /// Rows read, or the events they count where they count them (perf
    /// lock's `contended`, a count column): see `events`.
    pub rows: u64,
    /// Samples in which the group appears.
    pub samples_seen: u32,
    /// Mean wait per sample in which it appears, nanoseconds (rounded):
    /// the terminal's `mean/sample`; null without times.
    pub mean_ns: Option<u64>,
    /// Largest single row, nanoseconds; null without times.
    pub max_ns: Option<u64>,
    /// Total over all lock waits, 0..1.
    pub share_of_lock_time: Option<f64>,
    /// Spin-class wait over running time, 0..1; null for groups that do
    /// not spin or when running time is unknown.
    pub share_of_running: Option<f64>,
    /// Running sum of `share_of_lock_time` in ranking order.
    pub cumulative_share: Option<f64>,
    /// Sleep-class wait over off-CPU time, 0..1; null for groups that do
    /// not sleep or when off-CPU time is unknown (an extension).
    pub share_of_off_cpu: Option<f64>,
    /// Lock waits (events) counted; null where a row is a sum of an
    /// unknown number of them (a pivot table, a btrace `sum()` map; an
    /// extension).
    pub events: Option<u64>,
    /// Mean wait per event, nanoseconds (rounded); null where the events
    /// or their times are unknown (an extension).
    pub mean_per_event_ns: Option<u64>,
    /// Median single wait, nanoseconds; null unless every event of the
    /// group was read as a single wait (an FXT capture, a slice list; an
    /// extension). Exact when the waits in its bucket are equal, else
    /// within 3.2 % (src/distribution.rs).
    pub p50_ns: Option<u64>,
    /// 90th percentile of the single waits (an extension).
    pub p90_ns: Option<u64>,
    /// 99th percentile of the single waits (an extension).
    pub p99_ns: Option<u64>,
    /// The single waits by power of two, as lockstat -h shows them, with
    /// `--histogram` (absent without; null where not available; an
    /// extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Option<Vec<Octave>>>,
    /// Who held the lock while it was waited on, per holder, largest
    /// first: present when an input records holders (captures; an
    /// extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holders: Option<Vec<HolderSummary>>,
}

/// The key values of a group, of a ranking or of a diff: those the
/// `--by` keys name; a key not grouped on is None and absent from the JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct KeyValues {
    /// Lock type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Lock symbol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Waiting function.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// The thread that held the lock (`--by holder`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

impl KeyValues {
    /// The value for a key column (None when not grouped by it).
    pub fn get(&self, key: GroupKey) -> Option<&str> {
        match key {
            GroupKey::Category => self.category.as_deref(),
            GroupKey::Symbol => self.symbol.as_deref(),
            GroupKey::Caller => self.caller.as_deref(),
            GroupKey::Holder => self.holder.as_deref(),
        }
    }
}

impl Group {
    /// The group's value for a key column (None when not grouped by it).
    pub fn key(&self, key: GroupKey) -> Option<&str> {
        self.keys.get(key)
    }

    /// The group's key values: its input (with `--per-input`), then the
    /// `by` keys in order.
    pub fn key_values(&self, by: &[GroupKey]) -> Vec<&str> {
        let input = self.input.as_deref().into_iter();
        input
            .chain(by.iter().map(|key| self.key(*key).unwrap_or("")))
            .collect()
    }
}

/// Something in the data a reader must know before trusting the figures
/// (in the JSON as `{"kind": "spin_exceeds_running", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// More spin than running time in a sample: the class mapping or the
    /// data is wrong.
    SpinExceedsRunning {
        /// Input label.
        input: String,
        /// 1-based sample number.
        sample: u32,
        /// Spin in that sample.
        spin_ns: u64,
        /// Running in that sample.
        running_ns: u64,
    },
    /// Some samples have no Running total; shares cover the rest.
    MissingRunning {
        /// Input label.
        input: String,
        /// Samples without a Running total.
        without: usize,
        /// Samples in the input.
        of: usize,
        /// Which samples (1-based) have none (an extension).
        samples: Vec<u32>,
    },
}

/// Everything `report` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// One entry per input.
    pub inputs: Vec<InputSummary>,
    /// One entry per sample of every input.
    pub samples: super::samples::Samples,
    /// Figures over all samples of all inputs.
    pub total: Metrics,
    /// The ranking, cut to `--top`.
    pub groups: Vec<Group>,
    /// Number of groups before the `--top` cut (an extension).
    pub groups_total: usize,
    /// The `--by` keys, in order.
    #[serde(skip)]
    pub by: Vec<GroupKey>,
    /// One ranking per input (`--per-input`).
    #[serde(skip)]
    pub per_input: bool,
    /// The ranking's order.
    #[serde(skip)]
    pub sort: SortKey,
    /// Each group shown has its histogram of single waits (`--histogram`).
    #[serde(skip)]
    pub histogram: bool,
    /// What the reader must know (an extension of the contract).
    pub warnings: Vec<Warning>,
}

impl Analysis {
    /// Whether any input's format can show OpenBSD's `kernel_lock`.
    pub fn has_kernel_lock(&self) -> bool {
        self.inputs
            .iter()
            .any(|input| input.format.has_kernel_lock())
    }

    /// The names of the ranking's key columns: `input` with `--per-input`,
    /// then the `--by` keys.
    pub fn key_names(&self) -> Vec<&'static str> {
        let input = self.per_input.then_some("input").into_iter();
        input.chain(self.by.iter().map(|key| key.name())).collect()
    }
}
