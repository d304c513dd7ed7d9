//! The engine: facts in, the [`Analysis`] out. Computes everything the
//! reports show, as plain folds over the facts (already one record per
//! key and per sample); prints nothing.

pub mod classes;
pub mod diff;
pub mod effect;
pub mod fleet;
pub mod holders;
pub mod live;
pub mod model;
pub mod ranking;
pub mod samples;
pub mod stats;
pub mod waits;

use crate::error::{Error, Result};
use crate::refuse;

use crate::facts::InputFacts;
use crate::parse::SetApart;
pub use classes::{ClassMap, LockClass};
pub use model::{
    Analysis, Group, GroupKey, InputSummary, KeyValues, Metrics, SampleSummary, SortKey, Warning,
};
pub use samples::Samples;

/// How to analyse: the engine's options, apart from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalysisOptions {
    /// Which categories spin and which sleep.
    pub classes: ClassMap,
    /// Key columns of the ranking, in order (never empty).
    pub by: Vec<GroupKey>,
    /// Order of the ranking.
    pub sort: SortKey,
    /// Groups to keep in the ranking; 0 keeps all (per input, with
    /// `per_input`).
    pub top: usize,
    /// One ranking per input instead of one over all inputs.
    pub per_input: bool,
    /// Give each group shown its power-of-two histogram of single waits.
    pub histogram: bool,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            classes: ClassMap::default(),
            by: GroupKey::ALL.to_vec(),
            sort: SortKey::Total,
            top: 20,
            per_input: false,
            histogram: false,
        }
    }
}

/// Checks that every sum the engine takes fits in 64 bits: all lock waits
/// of all inputs, all their row counts, all state time. Polars would wrap
/// around silently; a wrong figure is worse than an error.
pub fn check_sums(inputs: &[InputFacts]) -> Result<()> {
    let mut waits = 0u64;
    let mut rows = 0u64;
    let mut states = 0u64;
    for input in inputs {
        for key in &input.keys {
            waits = waits.checked_add(key.total_ns).ok_or_else(|| {
                Error::request(format!(
                    "{}: the lock waits add up to more than 2^64 ns (584 years); are the \
                     durations in nanoseconds? (--unit)",
                    input.label
                ))
            })?;
            rows = rows.checked_add(key.rows).ok_or_else(|| {
                Error::request(format!(
                    "{}: the row counts add up to more than 2^64",
                    input.label
                ))
            })?;
        }
        for ns in input.samples.all_ns() {
            states = states.checked_add(ns).ok_or_else(|| {
                Error::request(format!(
                    "{}: the thread-state times add up to more than 2^64 ns (584 years)",
                    input.label
                ))
            })?;
        }
    }
    Ok(())
}

/// Checks that the inputs were read for the ranking's grouping: the
/// samples each group appears in were counted while reading.
fn check_grouping(inputs: &[InputFacts], by: &[GroupKey]) -> Result<()> {
    let wanted = crate::facts::kept_keys(by);
    match inputs
        .iter()
        .find(|input| !input.keys.is_empty() && input.grouped_by != wanted)
    {
        Some(input) => refuse!(
            "{} was read for another grouping than --by {}",
            input.label,
            by.iter()
                .map(|key| key.name())
                .collect::<Vec<_>>()
                .join(",")
        ),
        None => Ok(()),
    }
}

/// The figures of every sample of the inputs, in order, without a ranking
/// (what `diff` compares).
pub fn sample_metrics(inputs: &[InputFacts], classes: &ClassMap) -> Result<Samples> {
    check_sums(inputs)?;
    Ok(Samples::of(inputs, classes))
}

/// Analyses the facts of one or more inputs.
pub fn analyze(inputs: &[InputFacts], options: &AnalysisOptions) -> Result<Analysis> {
    let mut groups = Vec::new();
    let mut analysis = analyze_paged(inputs, options, &mut |_, page| {
        groups.extend(page);
        Ok(())
    })?;
    analysis.groups = groups;
    Ok(analysis)
}

/// The fewest groups [`analyze_paged`] hands over at a time.
const PAGE_GROUPS: usize = 4096;

/// Analyses as [`analyze`] does, but hands the ranking's groups to `each`
/// a page at a time, in order, with the analysis so far (its `groups`
/// empty), instead of keeping them: exporting a million groups holds a
/// page of them, not a million.
pub fn analyze_paged(
    inputs: &[InputFacts],
    options: &AnalysisOptions,
    each: &mut dyn FnMut(&Analysis, Vec<Group>) -> Result<()>,
) -> Result<Analysis> {
    check_sums(inputs)?;
    check_grouping(inputs, &options.by)?;
    let names = ranking::KeyNames::of(inputs);
    let samples = Samples::of(inputs, &options.classes);
    let mut inputs_out = input_summaries(inputs, &samples);
    holders::attach_to_inputs(inputs, &mut inputs_out);
    let total = samples.total();
    // Without Running time there is no share of it to rank by: perf lock,
    // lockstat and klockstat inputs rank by total wait, as their own tools
    // do (a 58 ms rwsem ranked after an 8 µs spin lock).
    let sort = match options.sort {
        SortKey::Running if total.running_ns.is_none() => SortKey::Total,
        sort => sort,
    };
    let options = &AnalysisOptions {
        sort,
        ..options.clone()
    };
    let rankings = rankings(inputs, &names, &inputs_out, &total, options);
    let analysis = Analysis {
        warnings: warnings(&samples),
        inputs: inputs_out,
        samples,
        total,
        groups: Vec::new(),
        groups_total: rankings.iter().map(|(_, ranking)| ranking.len()).sum(),
        by: options.by.clone(),
        per_input: options.per_input,
        sort: options.sort,
        histogram: options.histogram,
    };
    let size = page_size(inputs);
    for (input, ranking) in &rankings {
        for mut page in ranking.pages(&names, &options.by, size) {
            if let Some(index) = *input {
                for group in &mut page {
                    group.input = Some(analysis.inputs[index].label.clone());
                    group.input_index = Some(index);
                }
            }
            waits::attach(
                inputs,
                &mut page,
                &options.by,
                options.per_input,
                options.histogram,
            );
            holders::attach_to_groups(inputs, &mut page);
            each(&analysis, page)?;
        }
    }
    Ok(analysis)
}

/// The ranking over every input, or with `--per-input` one per input (by
/// its index), in input order.
fn rankings(
    inputs: &[InputFacts],
    names: &ranking::KeyNames<'_>,
    summaries: &[InputSummary],
    total: &Metrics,
    options: &AnalysisOptions,
) -> Vec<(Option<usize>, ranking::Ranking)> {
    if !options.per_input {
        let every_input: Vec<usize> = (0..inputs.len()).collect();
        let time = ranking::StateTime {
            running_ns: total.running_ns,
            off_cpu_ns: total.off_cpu_ns,
        };
        let ranking = ranking::rank(inputs, &every_input, names, options, time);
        return vec![(None, ranking)];
    }
    summaries
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let time = ranking::StateTime {
                running_ns: input.total.running_ns,
                off_cpu_ns: input.total.off_cpu_ns,
            };
            let ranking = ranking::rank(inputs, &[index], names, options, time);
            (Some(index), ranking)
        })
        .collect()
}

/// Groups a page holds: a page's distributions and holders are found by
/// a pass over every input's, so a page is at least an eighth of the
/// keys with distributions (at most eight passes), and a capture's
/// ranking (holders) is one page.
fn page_size(inputs: &[InputFacts]) -> usize {
    let holders = inputs
        .iter()
        .any(|input| matches!(input.holders, crate::holders::Holders::Known(_)));
    if holders {
        return usize::MAX;
    }
    let distributions: usize = inputs.iter().map(|input| input.histograms.len()).sum();
    PAGE_GROUPS.max(distributions.div_ceil(8))
}

/// One summary per input, with its figures over its samples.
fn input_summaries(inputs: &[InputFacts], samples: &Samples) -> Vec<InputSummary> {
    inputs
        .iter()
        .enumerate()
        .map(|(index, input)| InputSummary {
            label: input.label.clone(),
            samples: input.samples.len(),
            rows: input.rows,
            skipped_lines: input.stats.skipped_lines,
            format: input.format,
            hold_rows: input.stats.set_apart[SetApart::HoldRows].count,
            hold_ns: input.stats.hold_ns,
            profiling_rows: input.stats.set_apart[SetApart::ProfilingRows].count,
            owner_stack_rows: input.stats.set_apart[SetApart::OwnerRows].count,
            uncontended_rows: input.stats.set_apart[SetApart::UncontendedRows].count,
            contention_point_rows: input.stats.set_apart[SetApart::ContentionPoints].count,
            counted_events: input.stats.counted_events,
            holders: None,
            holders_unknown_for: None,
            holders_crowded: None,
            total: samples.input_total(index),
        })
        .collect()
}

fn warnings(samples: &Samples) -> Vec<Warning> {
    let mut warnings = samples.spin_exceeding_running();
    warnings.extend((0..samples.inputs()).filter_map(|input| samples.missing_running(input)));
    warnings
}
