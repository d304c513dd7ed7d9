//! The before/after comparison of two builds: per-sample metrics and
//! per-group waits, each tested with Mann-Whitney U over the samples.
//!
//! Each group's waits are taken sample by sample from the inputs' detail
//! (0 where it did not appear); the tests are in [`crate::stats`].

use anyhow::{Result, bail};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use super::classes::ClassMap;

use super::model::{GroupKey, KeyValues, Metrics};
use super::sample_metrics;
use crate::detail::KeyWaits;
use crate::facts::InputFacts;
use crate::stats::{self, MannWhitney, SortedSide, TestMethod};

/// A per-sample figure that `diff` compares (`--metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
#[clap(rename_all = "snake_case")]
pub enum Metric {
    /// Time on-CPU.
    RunningNs,
    /// Waits on spin-class locks.
    SpinNs,
    /// Spin over running.
    SpinShare,
    /// Waits on kernel_lock.
    KernelLockNs,
    /// Running minus spin.
    WorkNs,
    /// Waits on sleep-class locks.
    SleepWaitNs,
    /// Time off-CPU.
    OffCpuNs,
}

impl Metric {
    /// Every metric, in the order the summary shows them.
    pub const ALL: [Metric; 7] = [
        Metric::RunningNs,
        Metric::SpinNs,
        Metric::SpinShare,
        Metric::KernelLockNs,
        Metric::WorkNs,
        Metric::SleepWaitNs,
        Metric::OffCpuNs,
    ];

    /// The metric's name, as the JSON contract and `--metric` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::RunningNs => "running_ns",
            Metric::SpinNs => "spin_ns",
            Metric::SpinShare => "spin_share",
            Metric::KernelLockNs => "kernel_lock_ns",
            Metric::WorkNs => "work_ns",
            Metric::SleepWaitNs => "sleep_wait_ns",
            Metric::OffCpuNs => "off_cpu_ns",
        }
    }

    /// True for a fraction, false for nanoseconds.
    pub fn is_share(self) -> bool {
        self == Metric::SpinShare
    }

    /// The metric's value in one sample, when defined.
    pub fn value(self, metrics: &Metrics) -> Option<f64> {
        match self {
            Metric::RunningNs => metrics.running_ns.map(|v| v as f64),
            Metric::SpinNs => Some(metrics.spin_ns as f64),
            Metric::SpinShare => metrics.spin_share,
            Metric::KernelLockNs => Some(metrics.kernel_lock_ns as f64),
            Metric::WorkNs => metrics.work_ns.map(|v| v as f64),
            Metric::SleepWaitNs => Some(metrics.sleep_wait_ns as f64),
            Metric::OffCpuNs => metrics.off_cpu_ns.map(|v| v as f64),
        }
    }
}

/// How to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffOptions {
    /// Which categories spin and which sleep.
    pub classes: ClassMap,
    /// Key columns of the per-group comparison.
    pub by: Vec<GroupKey>,
    /// Significance level; 1 or more turns the tests off.
    pub alpha: f64,
    /// `--fail-above`: the rise of the median that makes a regression.
    pub fail_above: Option<Threshold>,
    /// The metrics `--fail-above` watches.
    pub fail_metrics: Vec<Metric>,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// The side's label.
    pub label: String,
    /// Its number of samples.
    pub samples: usize,
}

/// One summary metric compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricDiff {
    /// The metric's name.
    pub metric: Metric,
    /// Mean per sample, before.
    pub before_mean: Option<f64>,
    /// Mean per sample, after.
    pub after_mean: Option<f64>,
    /// Median per sample, before.
    pub before_median: Option<f64>,
    /// Median per sample, after.
    pub after_median: Option<f64>,
    /// Change of the mean, percent.
    pub delta_pct: Option<f64>,
    /// Two-sided Mann-Whitney p; null when a side has fewer than 2 values.
    pub p_value: Option<f64>,
    /// p below alpha; with alpha 1 (tests off), wherever there is a p.
    pub significant: bool,
    /// Samples with a value, before (an extension).
    pub n_before: usize,
    /// Samples with a value, after (an extension).
    pub n_after: usize,
    /// 95 % confidence interval of the median before, from 6 samples on
    /// (an extension).
    pub before_median_ci: Option<[f64; 2]>,
    /// The same, after.
    pub after_median_ci: Option<[f64; 2]>,
    /// Change of the median, percent; null when the before median is 0
    /// (an extension). What the table shows and `--fail-above` compares.
    pub median_delta_pct: Option<f64>,
    /// Which way the rank test sees the after samples go (an extension).
    pub direction: Direction,
    /// The distribution p comes from; null without a test (an extension).
    pub test: Option<TestMethod>,
}

/// Which way a figure moved, as the rank test measures it: whether the
/// after samples tend to rank above the before samples (U of the before
/// side below n1*n2/2), below, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// After ranks higher.
    Up,
    /// After ranks lower.
    Down,
    /// Neither, or nothing to compare.
    #[serde(rename = "none")]
    Neither,
}

impl Direction {
    /// The name the JSON and CSV give it.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Neither => "none",
        }
    }

    /// The direction a test's U gives.
    fn of(test: Option<&MannWhitney>, n_before: usize, n_after: usize) -> Direction {
        match test.map(|test| test.second_is(n_before, n_after)) {
            Some(std::cmp::Ordering::Greater) => Direction::Up,
            Some(std::cmp::Ordering::Less) => Direction::Down,
            _ => Direction::Neither,
        }
    }
}

impl MetricDiff {
    /// A share's change of the median in percentage points (after minus
    /// before, x 100); None for a metric in nanoseconds or without medians.
    pub fn median_delta_points(&self) -> Option<f64> {
        self.before_median
            .zip(self.after_median)
            .filter(|_| self.metric.is_share())
            .map(|(before, after)| (after - before) * 100.0)
    }
}

/// What happened to a group between the builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Present on both sides.
    Changed,
    /// Only after.
    New,
    /// Only before.
    Gone,
}

impl Status {
    /// The status as printed.
    pub fn name(self) -> &'static str {
        match self {
            Status::Changed => "changed",
            Status::New => "new",
            Status::Gone => "gone",
        }
    }
}

/// One group compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupDiff {
    /// The group's category, symbol and caller (offsets stripped unless
    /// `--keep-offsets`).
    #[serde(flatten)]
    pub keys: KeyValues,
    /// Total wait before, nanoseconds.
    pub before_total_ns: u64,
    /// Total wait after.
    pub after_total_ns: u64,
    /// Mean wait per sample before (0 in samples without it), rounded.
    pub before_mean_ns: u64,
    /// Mean wait per sample after.
    pub after_mean_ns: u64,
    /// Change of the mean per sample, percent; null for a new group.
    pub delta_pct: Option<f64>,
    /// Two-sided Mann-Whitney p over the per-sample waits.
    pub p_value: Option<f64>,
    /// p adjusted for the number of groups tested (Benjamini-Hochberg).
    pub q_value: Option<f64>,
    /// q below alpha.
    pub significant: bool,
    /// changed, new or gone.
    pub status: Status,
    /// Which way the rank test sees the group's waits go (an extension).
    pub direction: Direction,
    /// The distribution p comes from; null without a test (an extension).
    pub test: Option<TestMethod>,
    /// Change of the mean per sample, nanoseconds (for ordering).
    #[serde(skip)]
    pub change_ns: f64,
}

impl GroupDiff {
    /// The group's value for a key column.
    pub fn key(&self, key: GroupKey) -> Option<&str> {
        self.keys.get(key)
    }
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    /// The old build.
    pub before: Side,
    /// The new build.
    pub after: Side,
    /// Summary metrics, in [`Metric::ALL`] order.
    pub metrics: Vec<MetricDiff>,
    /// Every group, largest change of mean per sample first.
    pub groups: Vec<GroupDiff>,
    /// Metrics that tripped `--fail-above`.
    pub regressions: Vec<Metric>,
    /// Groups with a p-value (the number of comparisons BH corrects for).
    pub groups_tested: usize,
    /// The `--by` keys.
    #[serde(skip)]
    pub by: Vec<GroupKey>,
    /// The significance level `significant` was decided at.
    pub alpha: f64,
}

/// Compares `inputs[0]` (before) with `inputs[1]` (after).
pub fn compare(inputs: &[InputFacts], options: &DiffOptions) -> Result<Diff> {
    let [before, after] = inputs else {
        bail!("diff compares exactly two inputs, got {}", inputs.len());
    };
    let metrics = compare_metrics(before, after, options)?;
    let (before, after) = (side(before), side(after));
    let mut groups = compare_groups(inputs, options)?;
    let q_values = stats::benjamini_hochberg(&groups.iter().map(|g| g.p_value).collect::<Vec<_>>());
    for (group, q_value) in groups.iter_mut().zip(q_values) {
        group.q_value = q_value;
        group.significant = significant(q_value, options.alpha);
    }
    let regressions = tripped(&metrics, options);
    Ok(Diff {
        before,
        after,
        groups_tested: groups.iter().filter(|g| g.p_value.is_some()).count(),
        metrics,
        groups,
        regressions,
        by: options.by.clone(),
        alpha: options.alpha,
    })
}

fn side(input: &InputFacts) -> Side {
    Side {
        label: input.label.clone(),
        samples: input.samples.len(),
    }
}

/// Significant at `alpha`: p below it; with alpha 1 (the tests turned
/// off), any p. Without a p, never.
fn significant(p: Option<f64>, alpha: f64) -> bool {
    p.is_some_and(|p| alpha >= 1.0 || p < alpha)
}

/// The p-value and method of a test, None below 2 values a side.
fn tested_p(test: Option<&MannWhitney>, n_before: usize, n_after: usize) -> Option<MannWhitney> {
    test.copied().filter(|_| n_before >= 2 && n_after >= 2)
}

fn delta_pct(before: f64, after: f64) -> Option<f64> {
    (before != 0.0).then(|| (after - before) / before.abs() * 100.0)
}

fn compare_metrics(
    before: &InputFacts,
    after: &InputFacts,
    options: &DiffOptions,
) -> Result<Vec<MetricDiff>> {
    let per_sample = |input: &InputFacts| -> Result<Vec<Metrics>> {
        let samples = sample_metrics(std::slice::from_ref(input), &options.classes)?;
        Ok(samples.into_iter().map(|s| s.metrics).collect())
    };
    let (before, after) = (per_sample(before)?, per_sample(after)?);
    Ok(Metric::ALL
        .iter()
        .map(|&metric| {
            let values = |side: &[Metrics]| -> Vec<f64> {
                side.iter().filter_map(|m| metric.value(m)).collect()
            };
            compare_values(metric, &values(&before), &values(&after), options.alpha)
        })
        .collect())
}

fn compare_values(metric: Metric, before: &[f64], after: &[f64], alpha: f64) -> MetricDiff {
    let (before_mean, after_mean) = (stats::mean(before), stats::mean(after));
    let (before_median, after_median) = (stats::median(before), stats::median(after));
    let test = stats::mann_whitney(before, after);
    let tested = tested_p(test.as_ref(), before.len(), after.len());
    let p_value = tested.map(|test| test.p_value);
    let interval = |values: &[f64]| stats::median_ci(values).map(|(low, high)| [low, high]);
    MetricDiff {
        metric,
        before_mean,
        after_mean,
        before_median,
        after_median,
        delta_pct: before_mean
            .zip(after_mean)
            .and_then(|(b, a)| delta_pct(b, a)),
        p_value,
        significant: significant(p_value, alpha),
        n_before: before.len(),
        n_after: after.len(),
        before_median_ci: interval(before),
        after_median_ci: interval(after),
        median_delta_pct: before_median
            .zip(after_median)
            .and_then(|(b, a)| delta_pct(b, a)),
        direction: Direction::of(test.as_ref(), before.len(), after.len()),
        test: tested.map(|test| test.method),
    }
}

/// A rise that fails the gate: in percent of the before median (`10`,
/// `10%`), or for a share in percentage points (`5pt`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    /// Relative to the before median, percent.
    Percent(f64),
    /// For shares: points, after minus before median, x 100.
    Points(f64),
}

impl Threshold {
    /// Reads `10`, `10%`, `10 %` or `5pt`; the value is checked to be a
    /// finite number of 0 or more.
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let text = text.trim();
        let (number, points) = match text.strip_suffix("pt") {
            Some(number) => (number, true),
            None => (text.strip_suffix('%').unwrap_or(text), false),
        };
        let value: f64 = number
            .trim()
            .parse()
            .ok()
            .filter(|value: &f64| value.is_finite())
            .ok_or_else(|| format!("\"{text}\" is not a percentage (10, 10%) or points (5pt)"))?;
        if value < 0.0 {
            return Err(format!(
                "{value} is a fall: --fail-above takes the rise that fails, 0 or more \
                 (a falling metric never fails the gate)"
            ));
        }
        Ok(if points {
            Threshold::Points(value)
        } else {
            Threshold::Percent(value)
        })
    }

    /// Whether the metric's median rose past this threshold.
    fn exceeded_by(self, m: &MetricDiff) -> bool {
        match self {
            Threshold::Percent(limit) => m.median_delta_pct.is_some_and(|delta| delta > limit),
            Threshold::Points(limit) => m.median_delta_points().is_some_and(|delta| delta > limit),
        }
    }

    /// `10 %` or `5 pt`, as the gate's message says it.
    pub fn describe(self) -> String {
        match self {
            Threshold::Percent(limit) => format!("{limit} %"),
            Threshold::Points(limit) => format!("{limit} pt"),
        }
    }
}

/// The watched metrics that rose past `--fail-above`: the rank test sees
/// the after samples go up, the median rose by more than the limit, and
/// (unless `--alpha 1`) the change is significant. Direction and size
/// must agree: a median that fell never trips, whatever the mean does.
fn tripped(metrics: &[MetricDiff], options: &DiffOptions) -> Vec<Metric> {
    let Some(limit) = options.fail_above else {
        return Vec::new();
    };
    metrics
        .iter()
        .filter(|m| options.fail_metrics.contains(&m.metric))
        .filter(|m| options.alpha >= 1.0 || m.significant)
        .filter(|m| m.direction == Direction::Up)
        .filter(|m| limit.exceeded_by(m))
        .map(|m| m.metric)
        .collect()
}

/// Compares every group of either side, sample by sample, from each
/// side's detail (each key's wait per sample, kept key by key): a group's
/// waits are read through the keys it holds on that side.
fn compare_groups(inputs: &[InputFacts], options: &DiffOptions) -> Result<Vec<GroupDiff>> {
    let positions: Vec<usize> = options.by.iter().map(|key| key.position()).collect();
    let mut group_ids: FxHashMap<[Option<String>; 3], u32> = FxHashMap::default();
    let mut group_keys: Vec<[Option<String>; 3]> = Vec::new();
    let mut sides: Vec<SideWaits> = Vec::new();
    for input in inputs {
        let mut keys_by_group: Vec<(u32, u32)> = input
            .keys
            .iter()
            .enumerate()
            .map(|(at, key)| {
                let ids = key.ids();
                let mut texts: [Option<String>; 3] = Default::default();
                for &position in &positions {
                    texts[position] = Some(input.key(ids[position]).to_string());
                }
                let group = *group_ids.entry(texts.clone()).or_insert_with(|| {
                    group_keys.push(texts);
                    (group_keys.len() - 1) as u32
                });
                (group, at as u32)
            })
            .collect();
        keys_by_group.sort_unstable();
        sides.push(SideWaits {
            detail: &input.detail,
            keys_by_group,
            samples: input.samples.len(),
        });
    }
    let [before, after] = &sides[..] else {
        bail!("diff compares exactly two inputs, got {}", sides.len());
    };
    // Groups are tested on every core: each test ranks thousands of
    // samples, and the order of the result is the groups' order. Each
    // worker sums a group's keys per sample in a buffer of its own.
    let mut groups: Vec<GroupDiff> = group_keys
        .par_iter()
        .enumerate()
        .map_init(Scratch::default, |scratch, (group, texts)| {
            let Scratch {
                summing,
                before_values,
                after_values,
            } = scratch;
            let before_zeros = before.sorted_waits(group as u32, summing, before_values);
            let after_zeros = after.sorted_waits(group as u32, summing, after_values);
            // A group whose waits are all 0 ns is no comparison.
            let all_zero = |waits: &[u64]| waits.last().is_none_or(|&ns| ns == 0);
            if all_zero(before_values) && all_zero(after_values) {
                return None;
            }
            let [category, symbol, caller] = texts.clone();
            let keys = KeyValues {
                category,
                symbol,
                caller,
            };
            let before = SortedSide {
                zeros: before_zeros,
                values: before_values,
            };
            let after = SortedSide {
                zeros: after_zeros,
                values: after_values,
            };
            Some(group_diff(keys, before, after))
        })
        // Options flattened one by one: `flatten` would make each its own
        // parallel iterator, with a vector and a list node of its own (for
        // a million groups, 500 MB more at the peak).
        .flatten_iter()
        .collect();
    groups.sort_by(|x, y| {
        y.change_ns
            .abs()
            .total_cmp(&x.change_ns.abs())
            .then_with(|| x.keys.cmp(&y.keys))
    });
    Ok(groups)
}

/// One side's detail, read group by group.
struct SideWaits<'a> {
    detail: &'a KeyWaits,
    /// (group, key) of each of the side's keys, in group order.
    keys_by_group: Vec<(u32, u32)>,
    /// The side's number of samples.
    samples: usize,
}

impl SideWaits<'_> {
    /// The keys of `group` on this side.
    fn keys_of(&self, group: u32) -> &[(u32, u32)] {
        let start = self.keys_by_group.partition_point(|&(id, _)| id < group);
        let end = self.keys_by_group.partition_point(|&(id, _)| id <= group);
        &self.keys_by_group[start..end]
    }

    /// The group's wait in each sample (its keys' waits summed), in
    /// ascending order: the samples with a wait into `values`, sorted, and
    /// the count of those without, returned (their 0s are not written
    /// out: a group has a wait in about a quarter of a 4 000-sample
    /// file's samples).
    fn sorted_waits(&self, group: u32, summing: &mut Summing, values: &mut Vec<u64>) -> usize {
        values.clear();
        match self.keys_of(group) {
            [(_, key)] => self.waits_of_key(*key, values),
            keys => self.summed_waits(keys, summing, values),
        }
        values.sort_unstable();
        // A value a sample at most: a key's pairs of one sample come one
        // after the other, and a group's are summed by sample.
        debug_assert!(values.len() <= self.samples, "more waits than samples");
        self.samples.saturating_sub(values.len())
    }

    /// The waits of a group of one key (most of them, by every key): the
    /// key's own, in sample order. A sample split between two chunks of
    /// a file comes twice in a row: summed.
    fn waits_of_key(&self, key: u32, values: &mut Vec<u64>) {
        let mut last = u32::MAX;
        self.detail.for_each_wait(key, |sample, ns| {
            if sample as usize >= self.samples {
                return;
            }
            match values.last_mut() {
                Some(sum) if sample == last => *sum = sum.saturating_add(ns),
                _ => values.push(ns),
            }
            last = sample;
        });
    }

    /// The waits of a group of several keys into `values`, summed sample
    /// by sample in `summing.sums` (left all 0); only the samples with a
    /// wait.
    fn summed_waits(&self, keys: &[(u32, u32)], summing: &mut Summing, values: &mut Vec<u64>) {
        let Summing { sums, waited } = summing;
        if sums.len() < self.samples {
            sums.resize(self.samples, 0);
        }
        waited.clear();
        for &(_, key) in keys {
            self.detail.for_each_wait(key, |sample, ns| {
                if sample as usize >= self.samples {
                    return;
                }
                let sum = &mut sums[sample as usize];
                if *sum == 0 && ns != 0 {
                    waited.push(sample);
                }
                *sum = sum.saturating_add(ns);
            });
        }
        values.extend(
            waited
                .iter()
                .map(|&sample| std::mem::take(&mut sums[sample as usize])),
        );
    }
}

/// A worker's buffers for the tests of [`compare_groups`].
#[derive(Default)]
struct Scratch {
    summing: Summing,
    /// A group's waits on each side, sorted, the 0s not written out.
    before_values: Vec<u64>,
    after_values: Vec<u64>,
}

/// The buffers that sum a group of several keys sample by sample.
#[derive(Default)]
struct Summing {
    /// A sum for each sample, all 0 between groups.
    sums: Vec<u64>,
    /// The samples a group has a wait in.
    waited: Vec<u32>,
}

/// The exact sum of per-sample waits (each input's total already fits in
/// 64 bits; a wider sum only guards the arithmetic).
fn total(values: &[u64]) -> u128 {
    values.iter().map(|&ns| u128::from(ns)).sum()
}

/// The mean of `count` values that sum to `total`.
fn mean_of(total: u128, count: usize) -> f64 {
    if count == 0 {
        return 0.0;
    }
    total as f64 / count as f64
}

/// The comparison of a group's per-sample waits, each side sorted.
fn group_diff(keys: KeyValues, before: SortedSide<u64>, after: SortedSide<u64>) -> GroupDiff {
    let (before_total, after_total) = (total(before.values), total(after.values));
    let before_mean = mean_of(before_total, before.len());
    let after_mean = mean_of(after_total, after.len());
    let test = stats::mann_whitney_sorted(before, after);
    let tested = tested_p(test.as_ref(), before.len(), after.len());
    let status = if before_total == 0 {
        Status::New
    } else if after_total == 0 {
        Status::Gone
    } else {
        Status::Changed
    };
    GroupDiff {
        keys,
        before_total_ns: u64::try_from(before_total).unwrap_or(u64::MAX),
        after_total_ns: u64::try_from(after_total).unwrap_or(u64::MAX),
        before_mean_ns: before_mean.round() as u64,
        after_mean_ns: after_mean.round() as u64,
        delta_pct: delta_pct(before_mean, after_mean),
        p_value: tested.map(|test| test.p_value),
        q_value: None,
        significant: false,
        status,
        direction: Direction::of(test.as_ref(), before.len(), after.len()),
        test: tested.map(|test| test.method),
        change_ns: after_mean - before_mean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_groups_mean_counts_the_samples_it_has_no_wait_in() {
        // 0, 0, 4, 8 before (the two 0s counted apart), 6, 6 after.
        let before = SortedSide {
            zeros: 2,
            values: &[4, 8],
        };
        let after = SortedSide::of(&[6, 6]);
        let diff = group_diff(KeyValues::default(), before, after);
        assert_eq!((diff.before_total_ns, diff.after_total_ns), (12, 12));
        assert_eq!((diff.before_mean_ns, diff.after_mean_ns), (3, 6));
        assert_eq!(diff.delta_pct, Some(100.0));
        assert_eq!(diff.change_ns, 3.0);
        assert_eq!(diff.status, Status::Changed);
        // A group with only 0s counted apart before is new.
        let before = SortedSide::<u64> {
            zeros: 4,
            values: &[],
        };
        assert_eq!(
            group_diff(KeyValues::default(), before, after).status,
            Status::New
        );
    }
}
