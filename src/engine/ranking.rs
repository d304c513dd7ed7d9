//! The ranking: lock time grouped at the `--by` level, with shares.

use polars::prelude::*;

use super::classes::LockClass;
use super::frames::{KeyNames, f64_values, ratio, str_values, u32_values, u64_values};
use super::model::{Group, GroupKey, KeyValues, SortKey};

/// Groups the facts by `by`, sorted by `sort` (largest first, then by key),
/// with shares of all lock time and of `running_ns`, and the cumulative
/// share. Every group is returned; the caller cuts to `--top`.
/// `keys` is a frame of keys ([`super::frames::Frames::keys`]),
/// `groups_seen` the samples each group appears in, per input.
pub fn rank(
    keys_frame: &DataFrame,
    groups_seen: &DataFrame,
    by: &[GroupKey],
    sort: SortKey,
    time: StateTime,
) -> PolarsResult<DataFrame> {
    let keys: Vec<Expr> = by.iter().map(|key| col(key.name())).collect();
    // Ties (groups without times: count() maps) go by event count.
    let (mut order, mut descending) = match sort {
        // Spinning groups first, by their CPU; then sleeping ones, by
        // their time asleep; then the rest, by total.
        SortKey::Running => (vec![col("tier"), col("tier_ns")], vec![false, true]),
        _ => (vec![col(sort.column())], vec![true]),
    };
    order.push(col("rows"));
    descending.push(true);
    order.extend(keys.iter().cloned());
    descending.extend(keys.iter().map(|_| false));
    // Inputs' samples are distinct: a group's samples add up over them.
    let seen = groups_seen
        .clone()
        .lazy()
        .group_by(keys.clone())
        .agg([col("samples_seen").sum()]);
    keys_frame
        .clone()
        .lazy()
        .group_by(keys.clone())
        .agg([
            col("total_ns").sum(),
            col("rows").sum(),
            col("max_ns").max(),
            col("uncounted").sum(),
            col("class").first().alias("first_class"),
            col("class").n_unique().alias("classes"),
            col("total_ns")
                .filter(col("class").eq(lit(LockClass::Spin.name())))
                .sum()
                .alias("spin_ns"),
            col("total_ns")
                .filter(col("class").eq(lit(LockClass::Sleep.name())))
                .sum()
                .alias("sleep_ns"),
        ])
        .join(seen, keys.clone(), keys, JoinArgs::new(JoinType::Left))
        .with_columns([
            when(col("classes").gt(lit(1u32)))
                .then(lit(LockClass::Mixed.name()))
                .otherwise(col("first_class"))
                .alias("class"),
            (col("total_ns").cast(DataType::Float64) / col("samples_seen").cast(DataType::Float64))
                .alias("mean_ns"),
            ratio(col("total_ns"), col("total_ns").sum()).alias("share_of_lock_time"),
            share_of(col("spin_ns"), time.running_ns).alias("share_of_running"),
            share_of(col("sleep_ns"), time.off_cpu_ns).alias("share_of_off_cpu"),
            when(col("spin_ns").gt(lit(0u64)))
                .then(lit(0u32))
                .when(col("sleep_ns").gt(lit(0u64)))
                .then(lit(1u32))
                .otherwise(lit(2u32))
                .alias("tier"),
            when(col("spin_ns").gt(lit(0u64)))
                .then(col("spin_ns"))
                .when(col("sleep_ns").gt(lit(0u64)))
                .then(col("sleep_ns"))
                .otherwise(col("total_ns"))
                .alias("tier_ns"),
        ])
        .sort_by_exprs(
            order,
            SortMultipleOptions::default()
                .with_order_descending_multi(descending)
                .with_maintain_order(true),
        )
        .with_column(
            col("share_of_lock_time")
                .cum_sum(false)
                .alias("cumulative_share"),
        )
        .collect()
}

/// Reads the ranking frame into groups, keeping the first `top` (all when
/// `top` is 0).
pub fn groups_of(
    frame: &DataFrame,
    names: &KeyNames<'_>,
    by: &[GroupKey],
    top: usize,
) -> PolarsResult<Vec<Group>> {
    let frame = if top == 0 {
        frame.clone()
    } else {
        frame.head(Some(top))
    };
    let key_values = |key: GroupKey| -> PolarsResult<Vec<Option<String>>> {
        if by.contains(&key) {
            names.names_of(&frame, key.name())
        } else {
            Ok(vec![None; frame.height()])
        }
    };
    let category = key_values(GroupKey::Category)?;
    let symbol = key_values(GroupKey::Symbol)?;
    let caller = key_values(GroupKey::Caller)?;
    let class = str_values(&frame, "class")?;
    let total_ns = u64_values(&frame, "total_ns")?;
    let rows = u64_values(&frame, "rows")?;
    let samples_seen = u32_values(&frame, "samples_seen")?;
    let max_ns = u64_values(&frame, "max_ns")?;
    let share_of_lock_time = f64_values(&frame, "share_of_lock_time")?;
    let share_of_running = f64_values(&frame, "share_of_running")?;
    let share_of_off_cpu = f64_values(&frame, "share_of_off_cpu")?;
    let cumulative_share = f64_values(&frame, "cumulative_share")?;
    let uncounted = u32_values(&frame, "uncounted")?;
    Ok((0..frame.height())
        .map(|row| {
            let total_ns = total_ns[row].unwrap_or(0);
            let rows = rows[row].unwrap_or(0);
            let events = (uncounted[row] == Some(0)).then_some(rows);
            Group {
                input: None,
                keys: KeyValues {
                    category: category[row].clone(),
                    symbol: symbol[row].clone(),
                    caller: caller[row].clone(),
                },
                class: class[row]
                    .as_deref()
                    .and_then(LockClass::from_name)
                    .unwrap_or(LockClass::Other),
                total_ns,
                rows,
                samples_seen: samples_seen[row].unwrap_or(0),
                // In integers: past 2^53 ns a float's mean is off.
                mean_ns: rounded_mean(total_ns.into(), u64::from(samples_seen[row].unwrap_or(0))),
                max_ns: max_ns[row].unwrap_or(0),
                share_of_lock_time: share_of_lock_time[row],
                share_of_running: share_of_running[row],
                share_of_off_cpu: share_of_off_cpu[row],
                cumulative_share: cumulative_share[row],
                events,
                mean_per_event_ns: mean_per_event(total_ns, events),
                p50_ns: None,
                p90_ns: None,
                p99_ns: None,
                histogram: None,
            }
        })
        .collect())
}

/// Total over events, where both are known: a count() map's events have
/// no times.
fn mean_per_event(total_ns: u64, events: Option<u64>) -> Option<u64> {
    match events {
        Some(events) if events > 0 && total_ns > 0 => Some(rounded_mean(total_ns.into(), events)),
        _ => None,
    }
}

/// `total / count` rounded half up, in integers (a float's mean past
/// 2^53 is off); 0 for a count of 0. A mean of 64-bit values fits 64
/// bits; a larger quotient saturates.
pub fn rounded_mean(total: u128, count: u64) -> u64 {
    if count == 0 {
        return 0;
    }
    let count = u128::from(count);
    u64::try_from((total + count / 2) / count).unwrap_or(u64::MAX)
}

/// Running and off-CPU time of what a ranking covers, the wholes of its
/// shares (None without thread states).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateTime {
    /// On-CPU time.
    pub running_ns: Option<u64>,
    /// Off-CPU time.
    pub off_cpu_ns: Option<u64>,
}

/// A part of a group over a state's time; null for groups without that
/// part, or when the state's time is unknown.
fn share_of(part: Expr, whole: Option<u64>) -> Expr {
    match whole {
        Some(whole) if whole > 0 => when(part.clone().gt(lit(0u64)))
            .then(ratio(part, lit(whole as f64)))
            .otherwise(lit(NULL).cast(DataType::Float64)),
        _ => lit(NULL).cast(DataType::Float64),
    }
}
