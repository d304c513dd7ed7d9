//! Per-sample figures and their totals: running, off-CPU, spin, sleep wait,
//! work, shares, kernel_lock.

use polars::prelude::*;

use super::frames::{f64_values, ratio, u64_values};
use super::model::Metrics;

/// Lock sums of each sample joined onto the samples frame, with the derived
/// figures: one row per sample, ordered by `sample_id`.
pub fn per_sample(facts: &DataFrame, samples: &DataFrame) -> PolarsResult<DataFrame> {
    let lock_sums = facts.clone().lazy().group_by([col("sample_id")]).agg([
        sum_where(col("class").eq(lit("spin")), "spin_ns"),
        sum_where(col("class").eq(lit("sleep")), "sleep_wait_ns"),
        sum_where(col("kernel_lock"), "kernel_lock_ns"),
        sum_where(col("class").eq(lit("other")), "other_wait_ns"),
        sum_where(col("class").eq(lit("hold")), "hold_ns"),
    ]);
    samples
        .clone()
        .lazy()
        .left_join(lock_sums, col("sample_id"), col("sample_id"))
        .with_columns([
            col("spin_ns").fill_null(lit(0u64)),
            col("sleep_wait_ns").fill_null(lit(0u64)),
            col("kernel_lock_ns").fill_null(lit(0u64)),
            col("other_wait_ns").fill_null(lit(0u64)),
            col("hold_ns").fill_null(lit(0u64)),
        ])
        .with_columns(known_state_sums())
        .with_columns(derived_figures())
        .sort(["sample_id"], SortMultipleOptions::default())
        .collect()
}

/// Sums of the per-sample frame, by input (one row per input, ordered by
/// input) or over everything (`by_input` false: one row).
pub fn totals(per_sample: &DataFrame, by_input: bool) -> PolarsResult<DataFrame> {
    let sums = [
        sum_of_known("running_ns"),
        sum_of_known("off_cpu_ns"),
        col("spin_ns").sum(),
        col("sleep_wait_ns").sum(),
        col("kernel_lock_ns").sum(),
        col("other_wait_ns").sum(),
        col("hold_ns").sum(),
        col("spin_known_ns").sum(),
        col("kernel_lock_known_ns").sum(),
        col("sleep_wait_known_ns").sum(),
    ];
    let frame = per_sample.clone().lazy();
    let summed = if by_input {
        frame
            .group_by([col("input")])
            .agg(sums)
            .sort(["input"], SortMultipleOptions::default())
    } else {
        frame.select(sums)
    };
    summed.with_columns(derived_figures()).collect()
}

/// Reads the figures of each row of a per-sample or totals frame (states
/// are added by the caller).
pub fn metrics_of(frame: &DataFrame) -> PolarsResult<Vec<Metrics>> {
    let running_ns = u64_values(frame, "running_ns")?;
    let off_cpu_ns = u64_values(frame, "off_cpu_ns")?;
    let spin_ns = u64_values(frame, "spin_ns")?;
    let sleep_wait_ns = u64_values(frame, "sleep_wait_ns")?;
    let kernel_lock_ns = u64_values(frame, "kernel_lock_ns")?;
    let other_wait_ns = u64_values(frame, "other_wait_ns")?;
    let hold_ns = u64_values(frame, "hold_ns")?;
    let spin_known_ns = u64_values(frame, "spin_known_ns")?;
    let spin_share = f64_values(frame, "spin_share")?;
    let kernel_lock_share = f64_values(frame, "kernel_lock_share")?;
    let sleep_wait_share = f64_values(frame, "sleep_wait_share")?;
    Ok((0..frame.height())
        .map(|row| {
            let (work_ns, work_share) = work(running_ns[row], spin_known_ns[row].unwrap_or(0));
            Metrics {
                states_ns: Default::default(),
                running_ns: running_ns[row],
                off_cpu_ns: off_cpu_ns[row],
                spin_ns: spin_ns[row].unwrap_or(0),
                sleep_wait_ns: sleep_wait_ns[row].unwrap_or(0),
                work_ns,
                spin_share: spin_share[row],
                kernel_lock_ns: kernel_lock_ns[row].unwrap_or(0),
                kernel_lock_share: kernel_lock_share[row],
                sleep_wait_share: sleep_wait_share[row],
                work_share,
                other_wait_ns: other_wait_ns[row].unwrap_or(0),
                hold_ns: hold_ns[row].unwrap_or(0),
            }
        })
        .collect())
}

/// Work, Running minus spin, and its share of Running: in integers wide
/// enough for any two 64-bit times (a Running of 1e19 ns is past i64, and
/// its work was printed as unknown); None without Running.
fn work(running_ns: Option<u64>, spin_ns: u64) -> (Option<i128>, Option<f64>) {
    let Some(running) = running_ns else {
        return (None, None);
    };
    let work = i128::from(running) - i128::from(spin_ns);
    let share = (running > 0).then(|| work as f64 / running as f64);
    (Some(work), share)
}

fn sum_where(condition: Expr, name: &str) -> Expr {
    col("total_ns").filter(condition).sum().alias(name)
}

/// A sum that stays null when every value is null (no sample had states),
/// where polars' plain sum would say 0.
fn sum_of_known(name: &str) -> Expr {
    when(col(name).count().gt(lit(0)))
        .then(col(name).sum())
        .otherwise(lit(NULL).cast(DataType::UInt64))
        .alias(name)
}

/// Lock sums restricted to samples whose state totals are known, so that
/// shares over several samples compare like with like.
fn known_state_sums() -> [Expr; 3] {
    let known = |column: &str, state: &str| {
        when(col(state).is_not_null())
            .then(col(column))
            .otherwise(lit(NULL).cast(DataType::UInt64))
            .alias(format!("{}_known_ns", column.trim_end_matches("_ns")))
    };
    [
        known("spin_ns", "running_ns"),
        known("kernel_lock_ns", "running_ns"),
        known("sleep_wait_ns", "off_cpu_ns"),
    ]
}

fn derived_figures() -> [Expr; 3] {
    [
        ratio(col("spin_known_ns"), col("running_ns")).alias("spin_share"),
        ratio(col("kernel_lock_known_ns"), col("running_ns")).alias("kernel_lock_share"),
        ratio(col("sleep_wait_known_ns"), col("off_cpu_ns")).alias("sleep_wait_share"),
    ]
}
