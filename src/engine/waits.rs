//! Wait distributions of the groups a ranking shows: the histograms of
//! their keys, merged. A group has one only when every event of it was
//! read as a single wait; a distribution made up from sums would mislead.

use crate::hashing::InputMap;

use super::model::{Group, GroupKey};
use crate::distribution::Histogram;
use crate::facts::InputFacts;
use crate::vocabulary::KEY_PARTS;

/// A group's identity: its input by index (with `--per-input`), then its
/// keys' texts (category, symbol, caller, holder), None where not grouped
/// by.
type GroupId<'a> = (Option<usize>, [Option<&'a str>; KEY_PARTS]);

/// Fills the groups' percentiles (and with `histogram`, their power-of-two
/// histograms) from the inputs' single waits.
pub fn attach(
    inputs: &[InputFacts],
    groups: &mut [Group],
    by: &[GroupKey],
    per_input: bool,
    histogram: bool,
) {
    // Inputs without single waits (most) cost nothing here.
    let merged = inputs
        .iter()
        .any(|input| !input.histograms.is_empty())
        .then(|| merge_by_group(inputs, groups, by, per_input));
    for (at, group) in groups.iter_mut().enumerate() {
        let waits = merged.as_ref().map(|merged| &merged[at]).filter(|waits| {
            group
                .events
                .is_some_and(|events| events > 0 && events == waits.count())
        });
        if let Some(percentiles) = waits.and_then(Histogram::percentiles) {
            group.p50_ns = Some(percentiles.p50_ns);
            group.p90_ns = Some(percentiles.p90_ns);
            group.p99_ns = Some(percentiles.p99_ns);
        }
        if histogram {
            group.histogram = Some(waits.map(|waits| waits.octaves()));
        }
    }
}

/// Per group, in order, the merged histograms of its keys.
fn merge_by_group(
    inputs: &[InputFacts],
    groups: &[Group],
    by: &[GroupKey],
    per_input: bool,
) -> Vec<Histogram> {
    let index: InputMap<GroupId<'_>, usize> = groups
        .iter()
        .enumerate()
        .map(|(at, group)| {
            let keys = GroupKey::EVERY.map(|key| group.keys.get(key));
            ((group.input_index, keys), at)
        })
        .collect();
    let grouped = GroupKey::EVERY.map(|key| by.contains(&key));
    let mut merged = vec![Histogram::default(); groups.len()];
    for (input_index, input) in inputs.iter().enumerate() {
        let input_id = per_input.then_some(input_index);
        for (&key, waits) in &input.histograms {
            let ids = input.keys[key as usize].ids();
            let keys = std::array::from_fn(|at| grouped[at].then(|| input.key(ids[at])));
            if let Some(&at) = index.get(&(input_id, keys)) {
                merged[at].merge(waits);
            }
        }
    }
    merged
}
