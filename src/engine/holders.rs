//! Holders in the analysis: each input's shares of its waits by holder
//! (captures), summed per input and per group of the ranking.

use super::model::{Group, InputSummary, KeyValues};
use crate::facts::InputFacts;
use crate::holders::{
    HoldIndex, HolderFacts, HolderShare, Holders, holder_key, index_holds, summarize_with_holds,
};

/// Each input's holder facts, where it records them.
fn known(inputs: &[InputFacts]) -> Vec<Option<&HolderFacts>> {
    inputs
        .iter()
        .map(|input| match &input.holders {
            Holders::Known(facts) => Some(facts),
            Holders::NotRecorded => None,
        })
        .collect()
}

/// Gives each input that records holders its summary.
pub fn attach_to_inputs(inputs: &[InputFacts], summaries: &mut [InputSummary]) {
    for (facts, summary) in known(inputs).iter().zip(summaries.iter_mut()) {
        if let Some(facts) = facts {
            let shares: Vec<&HolderShare> = facts.shares.iter().collect();
            summary.holders = Some(summarize_with_holds(&shares, &index_holds(&facts.holds)));
            summary.holders_unknown_for = Some(facts.releases_unrecorded.clone());
            summary.holders_crowded = Some(facts.crowded.clone());
        }
    }
}

/// Gives each group the holders of the waits it ranks (its inputs' shares
/// whose key the group's keys match), where inputs record holders.
pub fn attach_to_groups(inputs: &[InputFacts], groups: &mut [Group]) {
    let known = known(inputs);
    if known.iter().all(Option::is_none) {
        return;
    }
    // Indexed once: a group of one input names its holders' holds there,
    // a group of every input in any of them.
    let each_input: Vec<HoldIndex> = known
        .iter()
        .map(|facts| index_holds(facts.iter().flat_map(|f| &f.holds)))
        .collect();
    let every_input = index_holds(known.iter().flatten().flat_map(|f| &f.holds));
    for group in groups.iter_mut() {
        let inputs_of_group = known
            .iter()
            .enumerate()
            .filter(|(index, _)| group.input_index.is_none_or(|wanted| wanted == *index))
            .filter_map(|(_, facts)| *facts);
        let shares: Vec<&HolderShare> = inputs_of_group
            .flat_map(|facts| &facts.shares)
            .filter(|share| matches_keys(&group.keys, share))
            .collect();
        let holds = match group.input_index {
            Some(index) => &each_input[index],
            None => &every_input,
        };
        group.holders = Some(summarize_with_holds(&shares, holds));
    }
}

/// Whether a share's wait falls in a group: each key the group is by
/// equals the share's, its holder too (`--by holder`).
fn matches_keys(keys: &KeyValues, share: &HolderShare) -> bool {
    let lock = [&keys.category, &keys.symbol, &keys.caller]
        .into_iter()
        .zip(&share.lock)
        .all(|(wanted, value)| wanted.as_ref().is_none_or(|wanted| wanted == value));
    lock && keys
        .holder
        .as_ref()
        .is_none_or(|wanted| *wanted == holder_key(share.holder.as_ref()))
}
