//! The ranking as CSV: one row per group, the JSON contract's group fields
//! as columns, durations in integer nanoseconds, shares as fractions.

use anyhow::Result;

use crate::engine::{Analysis, Group};
use crate::export::records::GROUP_FIELDS;

/// Renders the ranking as CSV with a header row.
pub fn groups(analysis: &Analysis) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = analysis.key_names();
    header.extend(GROUP_FIELDS.map(|(name, _)| name));
    writer.write_record(&header)?;
    for group in &analysis.groups {
        writer.write_record(group_record(group, analysis))?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn group_record(group: &Group, analysis: &Analysis) -> Vec<String> {
    let share = |value: Option<f64>| value.map_or_else(String::new, |share| share.to_string());
    let mut record: Vec<String> = group
        .key_values(&analysis.by)
        .into_iter()
        .map(String::from)
        .collect();
    record.extend([
        group.class.name().to_string(),
        group.total_ns.to_string(),
        group.rows.to_string(),
        group.samples_seen.to_string(),
        group.mean_ns.to_string(),
        group.max_ns.to_string(),
        share(group.share_of_lock_time),
        share(group.share_of_running),
        share(group.cumulative_share),
        share(group.share_of_off_cpu),
    ]);
    let figure = |value: Option<u64>| value.map_or_else(String::new, |value| value.to_string());
    record.extend(
        [
            group.events,
            group.mean_per_event_ns,
            group.p50_ns,
            group.p90_ns,
            group.p99_ns,
        ]
        .map(figure),
    );
    record
}
