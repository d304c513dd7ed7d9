//! Holders in the analysis: each input's shares of its waits by holder
//! (captures), summed per input and per group of the ranking.

use super::model::{Group, InputSummary, KeyValues};
use crate::facts::InputFacts;
use crate::holders::{HolderFacts, HolderShare, Holders, summarize_with_holds};

/// Gives each input that records holders its summary, and each group the
/// holders of the waits it ranks (its inputs' shares whose key the
/// group's keys match).
pub fn attach(inputs: &[InputFacts], summaries: &mut [InputSummary], groups: &mut [Group]) {
    for (input, summary) in inputs.iter().zip(summaries.iter_mut()) {
        if let Holders::Known(facts) = &input.holders {
            summary.holders = Some(summarize_with_holds(facts));
            summary.holders_unknown_for = Some(facts.releases_unrecorded.clone());
            summary.holders_crowded = Some(facts.crowded.clone());
        }
    }
    if inputs
        .iter()
        .all(|input| input.holders == Holders::NotRecorded)
    {
        return;
    }
    for group in groups.iter_mut() {
        let known: Vec<&HolderFacts> = inputs
            .iter()
            .enumerate()
            .filter(|(index, _)| group.input_index.is_none_or(|wanted| wanted == *index))
            .filter_map(|(_, input)| match &input.holders {
                Holders::Known(facts) => Some(facts),
                Holders::NotRecorded => None,
            })
            .collect();
        let facts = HolderFacts {
            shares: known
                .iter()
                .flat_map(|facts| &facts.shares)
                .filter(|share| matches_keys(&group.keys, share))
                .cloned()
                .collect(),
            holds: known.iter().flat_map(|facts| facts.holds.clone()).collect(),
            ..HolderFacts::default()
        };
        group.holders = Some(summarize_with_holds(&facts));
    }
}

/// Whether a share's wait falls in a group: each key the group is by
/// equals the share's.
fn matches_keys(keys: &KeyValues, share: &HolderShare) -> bool {
    [&keys.category, &keys.symbol, &keys.caller]
        .into_iter()
        .zip(&share.lock)
        .all(|(wanted, value)| wanted.as_ref().is_none_or(|wanted| wanted == value))
}
