//! The words of every option that takes one of a list (`--sort total`,
//! `--format json`): each value's name and its line of help, for the
//! types of the layers below, which know nothing of clap. A format's words
//! are its `Format`'s (`name`, `summary`), in its own module.

use clap::ValueEnum;
use clap::builder::PossibleValue;

use crate::engine::diff::Metric;
use crate::engine::{GroupKey, SortKey};
use crate::export::{ExportFormat, What};
use crate::parse::{Events, InputFormat, MapKey, Unit, Values};
use crate::report::ReportFormat;
use crate::report::diff::{DiffFormat, DiffTable};
use crate::terminal::ColorChoice;

/// `impl ValueEnum` for each type from its values' names and help, in the
/// order `--help` lists them.
macro_rules! choices {
    ($($type:ident { $($variant:ident => $name:literal: $help:literal,)* })*) => {$(
        impl ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($type::$variant),*]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($type::$variant => PossibleValue::new($name).help($help),)*
                })
            }
        }
    )*};
}

choices! {
    Values {
        Auto => "auto": "Times, unless the script pasted with the output fills the map with `count()`",
        Time => "time": "Wait times, in `--unit`",
        Count => "count": "Event counts (`count()`): ranked by events, no times",
    }
    Events {
        Wait => "wait": "Lock waits (spinning or sleeping); hold times set apart",
        Hold => "hold": "Lock hold times only (class `hold`); waits set apart",
    }
    Unit {
        Ns => "ns": "Nanoseconds",
        Us => "us": "Microseconds",
        Ms => "ms": "Milliseconds",
        S => "s": "Seconds",
    }
    MapKey {
        Category => "category": "The lock type",
        Symbol => "symbol": "The lock's symbol",
        Caller => "caller": "The waiting function",
        Skip => "skip": "A key to ignore (a pid, a CPU number)",
    }
    SortKey {
        Total => "total": "Total wait time",
        Rows => "rows": "Number of events",
        Max => "max": "Largest single row",
        Mean => "mean": "Mean per sample in which the group appears",
        Running => "running": "Where the CPU goes: spinning groups first by their share of Running, then sleeping groups by their share of off-CPU time, then the rest by total",
    }
    Metric {
        RunningNs => "running_ns": "Time on-CPU",
        SpinNs => "spin_ns": "Waits on spin-class locks",
        SpinShare => "spin_share": "Spin over running",
        KernelLockNs => "kernel_lock_ns": "Waits on kernel_lock",
        WorkNs => "work_ns": "Running minus spin",
        SleepWaitNs => "sleep_wait_ns": "Waits on sleep-class locks",
        OffCpuNs => "off_cpu_ns": "Time off-CPU",
    }
    ReportFormat {
        Table => "table": "Verdict and tables for the terminal",
        Csv => "csv": "The ranking as CSV",
        Json => "json": "Everything, as the JSON contract of docs/report.md",
        Markdown => "markdown": "Verdict and tables as Markdown, for a mail or a README",
    }
    DiffFormat {
        Table => "table": "Summary, regressions and improvements for the terminal",
        Csv => "csv": "Every group compared, as CSV",
        Json => "json": "Everything, as JSON for scripts",
        Markdown => "markdown": "The terminal report as Markdown",
        Folded => "folded": "`key;key;key before_ns after_ns` lines for differential flame graphs",
        Summary => "summary": "One line for a CI log: the headline figures, how many groups rose, and whether `--fail-above` tripped",
    }
    DiffTable {
        Groups => "groups": "Every group compared",
        Metrics => "metrics": "The metrics of the summary table",
    }
    What {
        Rows => "rows": "The normalized rows, one per parsed row, streamed",
        Groups => "groups": "The ranking of `report`, at `--by`, with all its columns",
        Samples => "samples": "One record per sample, with each thread state as a column",
    }
    ExportFormat {
        Csv => "csv": "Comma-separated, RFC 4180 quoting, header row",
        Tsv => "tsv": "Tab-separated, header row",
        Json => "json": "One JSON array of objects",
        Ndjson => "ndjson": "One JSON object per line",
        Folded => "folded": "`key;key;key total_ns` lines for inferno or flamegraph.pl",
        Parquet => "parquet": "Apache Parquet (needs -o FILE)",
    }
    GroupKey {
        Category => "category": "The lock type",
        Symbol => "symbol": "The lock's symbol",
        Caller => "caller": "The waiting function",
        Holder => "holder": "The thread that held the lock (captures with --thread, perf lock -o)",
    }
    ColorChoice {
        Auto => "auto": "When stdout is a terminal and NO_COLOR is not set",
        Always => "always": "Always",
        Never => "never": "Never",
    }
}

impl ValueEnum for InputFormat {
    fn value_variants<'a>() -> &'a [Self] {
        &InputFormat::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let spec = self.spec();
        Some(PossibleValue::new(spec.name).help(spec.summary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_formats_name_is_the_one_the_command_line_takes() {
        for format in InputFormat::ALL {
            let parsed = InputFormat::from_str(format.spec().name, false);
            assert_eq!(parsed, Ok(format), "{}", format.spec().name);
        }
    }

    #[test]
    fn the_by_keys_are_spelled_as_their_columns() {
        for key in GroupKey::EVERY {
            assert_eq!(GroupKey::from_str(key.name(), false), Ok(key));
        }
    }

    #[test]
    fn the_sort_keys_are_spelled_as_their_names() {
        for key in SortKey::value_variants() {
            assert_eq!(SortKey::from_str(key.name(), false), Ok(*key));
        }
    }
}
