//! The exported tables' columns, and their records built from an analysis.

use super::{Field, Kind, Value};
use crate::engine::{Analysis, Group, GroupKey, Metrics};

/// The columns of `--what rows`: `input,sample,category,symbol,caller,
/// dur_ns,events`, and `holder` when the rows are split by holder (`--by
/// holder`).
pub fn row_fields(by_holder: bool) -> Vec<Field> {
    let mut fields = vec![
        Field::new("input", Kind::Text),
        Field::new("sample", Kind::Count),
        Field::new("category", Kind::Text),
        Field::new("symbol", Kind::Text),
        Field::new("caller", Kind::Text),
        Field::new("dur_ns", Kind::Duration),
        Field::new("events", Kind::Count),
    ];
    if by_holder {
        fields.push(Field::new("holder", Kind::Text));
    }
    fields
}

/// The columns of `--what samples`: input, sample, one `state_<Name>_ns`
/// per thread state seen, then the sample figures of the JSON contract.
pub fn sample_fields(analysis: &Analysis) -> Vec<Field> {
    let mut fields = vec![
        Field::new("input", Kind::Text),
        Field::new("sample", Kind::Count),
    ];
    for state in analysis.total.states_ns.keys() {
        fields.push(Field::new(state_column(state), Kind::Duration));
    }
    fields.extend([
        Field::new("running_ns", Kind::Duration),
        Field::new("off_cpu_ns", Kind::Duration),
        Field::new("spin_ns", Kind::Duration),
        Field::new("sleep_wait_ns", Kind::Duration),
        Field::new("work_ns", Kind::SignedDuration),
        Field::new("spin_share", Kind::Share),
        Field::new("kernel_lock_ns", Kind::Duration),
        Field::new("kernel_lock_share", Kind::Share),
        Field::new("sleep_wait_share", Kind::Share),
        Field::new("work_share", Kind::Share),
    ]);
    fields
}

/// Hands each record of `--what samples` to `write`, in the order of
/// [`sample_fields`]: one at a time, as each sample's summary is made.
pub fn each_sample_record(
    analysis: &Analysis,
    mut write: impl FnMut(&[Value<'_>]) -> crate::error::Result<()>,
) -> crate::error::Result<()> {
    for sample in analysis.samples.iter() {
        let mut record = vec![
            Value::Text(&sample.input),
            Value::Count(u64::from(sample.sample)),
        ];
        record.extend(metric_values(&sample.metrics, analysis));
        write(&record)?;
    }
    Ok(())
}

/// The columns of `--what groups`: the `--by` keys, then the group fields.
pub fn group_fields(analysis: &Analysis) -> Vec<Field> {
    let mut fields: Vec<Field> = analysis
        .key_names()
        .into_iter()
        .map(|name| Field::new(name, Kind::Text))
        .collect();
    fields.extend(GROUP_FIELDS.map(|(name, kind)| Field::new(name, kind)));
    fields
}

/// The group fields after the `--by` keys, in the JSON contract's order:
/// the one list of them, for the export and the report's CSV.
pub const GROUP_FIELDS: [(&str, Kind); 15] = [
    ("class", Kind::Text),
    ("total_ns", Kind::Duration),
    ("rows", Kind::Count),
    ("samples_seen", Kind::Count),
    ("mean_ns", Kind::Duration),
    ("max_ns", Kind::Duration),
    ("share_of_lock_time", Kind::Share),
    ("share_of_running", Kind::Share),
    ("cumulative_share", Kind::Share),
    ("share_of_off_cpu", Kind::Share),
    ("events", Kind::Count),
    ("mean_per_event_ns", Kind::Duration),
    ("p50_ns", Kind::Duration),
    ("p90_ns", Kind::Duration),
    ("p99_ns", Kind::Duration),
];

/// Hands each record of `--what groups` to `write`, in the order of
/// [`group_fields`]: one at a time (a million groups' records held at once
/// took 900 MB).
pub fn each_group_record(
    groups: &[Group],
    by: &[GroupKey],
    mut write: impl FnMut(&[Value<'_>]) -> crate::error::Result<()>,
) -> crate::error::Result<()> {
    for group in groups {
        write(&group_values(group, by))?;
    }
    Ok(())
}

/// The keys of a group (its input under `--per-input`, then `--by` order),
/// for folded stacks.
pub fn group_keys<'a>(group: &'a Group, by: &[GroupKey]) -> Vec<&'a str> {
    group.key_values(by)
}

/// `state_<Name>_ns`, with runs of anything but letters and digits as one
/// `_`: `Runnable (Preempted)` gives `state_Runnable_Preempted_ns`.
pub fn state_column(state: &str) -> String {
    let words: Vec<&str> = state
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    format!("state_{}_ns", words.join("_"))
}

fn metric_values<'a>(metrics: &'a Metrics, analysis: &Analysis) -> Vec<Value<'a>> {
    let duration = |ns: Option<u64>| ns.map_or(Value::Null, Value::Duration);
    let share = |value: Option<f64>| value.map_or(Value::Null, Value::Share);
    let mut values: Vec<Value<'a>> = analysis
        .total
        .states_ns
        .keys()
        .map(|state| duration(metrics.states_ns.get(state).copied()))
        .collect();
    values.extend([
        duration(metrics.running_ns),
        duration(metrics.off_cpu_ns),
        Value::Duration(metrics.spin_ns),
        Value::Duration(metrics.sleep_wait_ns),
        metrics.work_ns.map_or(Value::Null, Value::SignedDuration),
        share(metrics.spin_share),
        Value::Duration(metrics.kernel_lock_ns),
        share(metrics.kernel_lock_share),
        share(metrics.sleep_wait_share),
        share(metrics.work_share),
    ]);
    values
}

fn group_values<'a>(group: &'a Group, by: &[GroupKey]) -> Vec<Value<'a>> {
    let share = |value: Option<f64>| value.map_or(Value::Null, Value::Share);
    let mut values: Vec<Value<'a>> = group_keys(group, by).into_iter().map(Value::Text).collect();
    values.extend([
        Value::Text(group.class.name()),
        group.total_ns.map_or(Value::Null, Value::Duration),
        Value::Count(group.rows),
        Value::Count(u64::from(group.samples_seen)),
        group.mean_ns.map_or(Value::Null, Value::Duration),
        group.max_ns.map_or(Value::Null, Value::Duration),
        share(group.share_of_lock_time),
        share(group.share_of_running),
        share(group.cumulative_share),
        share(group.share_of_off_cpu),
        group.events.map_or(Value::Null, Value::Count),
    ]);
    values.extend(
        [
            group.mean_per_event_ns,
            group.p50_ns,
            group.p90_ns,
            group.p99_ns,
        ]
        .map(|ns| ns.map_or(Value::Null, Value::Duration)),
    );
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_columns_are_identifiers() {
        assert_eq!(state_column("Running"), "state_Running_ns");
        assert_eq!(
            state_column("Runnable (Preempted)"),
            "state_Runnable_Preempted_ns"
        );
        assert_eq!(
            state_column("Uninterruptible Sleep"),
            "state_Uninterruptible_Sleep_ns"
        );
    }
}
