//! The before/after comparison of two builds: per-sample metrics and
//! per-group waits, each tested with Mann-Whitney U over the samples.
//!
//! Each group's waits are taken sample by sample from the inputs' detail
//! (0 where it did not appear); the tests are in [`crate::engine::stats`].

use crate::error::Result;
use crate::refuse;
use crate::vocabulary::KEY_PARTS;
use rayon::prelude::*;
use serde::Serialize;

use super::classes::ClassMap;

use super::model::{GroupKey, KeyValues, Metrics, Warning};
use super::ranking::rounded_mean;
use super::{Samples, sample_metrics};
use crate::engine::effect;
use crate::engine::stats::{self, MannWhitney, SortedSide, TestMethod};
use crate::facts::InputFacts;
use crate::facts::detail::KeyWaits;
use crate::hashing::InputMap;

/// A per-sample figure that `diff` compares (`--metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
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

    /// The metric's value in one sample as an exact integer of
    /// nanoseconds (None for a share, or when undefined): ranked as
    /// integers, values past 2^53 ns stay apart.
    pub fn nanoseconds(self, metrics: &Metrics) -> Option<i128> {
        match self {
            Metric::RunningNs => metrics.running_ns.map(i128::from),
            Metric::SpinNs => Some(metrics.spin_ns.into()),
            Metric::SpinShare => None,
            Metric::KernelLockNs => Some(metrics.kernel_lock_ns.into()),
            Metric::WorkNs => metrics.work_ns,
            Metric::SleepWaitNs => Some(metrics.sleep_wait_ns.into()),
            Metric::OffCpuNs => metrics.off_cpu_ns.map(i128::from),
        }
    }

    /// Whether the metric is read from the Running time, which a sample
    /// without a Running total does not have.
    pub fn needs_running(self) -> bool {
        matches!(self, Metric::RunningNs | Metric::SpinShare | Metric::WorkNs)
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
    /// `--fail-above`: the rise that makes a regression (the shift, in
    /// percent of the before median or in points); also the limit within
    /// which a metric's verdict is `same`.
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
    /// The Hodges-Lehmann shift, after minus before: the median of every
    /// difference between an after and a before sample, in the metric's
    /// unit (an extension; the change the table shows).
    pub shift: Option<f64>,
    /// Its distribution-free confidence interval at 1 - alpha (95 % with
    /// `--alpha 1`); null when there are too few samples for one.
    pub shift_ci: Option<[f64; 2]>,
    /// The shift in percent of the before median; null when that is 0.
    pub shift_pct: Option<f64>,
    /// Its interval in percent of the before median.
    pub shift_ci_pct: Option<[f64; 2]>,
    /// What the data say: regressed, improved, same or inconclusive.
    pub verdict: Verdict,
    /// Why the verdict is inconclusive, in words; null otherwise.
    pub verdict_reason: Option<String>,
    /// The change the verdict is judged against, in the metric's unit:
    /// `--fail-above` (or 10 % without it) of the before median, or its
    /// points for a share; null without a before median.
    pub limit: Option<f64>,
    /// Samples a side that would give the test an 80 % chance to detect a
    /// rise of `limit`, estimated from the samples at hand; null where no
    /// count can (no limit, or beyond a million).
    pub samples_needed: Option<usize>,
}

/// What a comparison concludes, after Chromium Pinpoint's SAME /
/// DIFFERENT / UNKNOWN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// It rose, significantly and by more than the limit.
    Regressed,
    /// It fell, significantly and by more than the limit.
    Improved,
    /// A change of the limit's size is ruled out: the shift's interval
    /// lies within plus or minus the limit.
    Same,
    /// The data cannot tell: too few samples, the metric missing from an
    /// input, or an interval wider than the limit.
    Inconclusive,
}

impl Verdict {
    /// The verdict as printed and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Same => "same",
            Verdict::Inconclusive => "inconclusive",
        }
    }
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
    /// regressed or improved when significant, else inconclusive: a group
    /// has no limit to be the same within (an extension).
    pub verdict: Verdict,
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
    /// Metrics `--fail-above` watches whose verdict is inconclusive: the
    /// gate could not test them (an extension).
    pub inconclusive: Vec<Metric>,
    /// Whether `--fail-above` was given (an extension).
    pub gated: bool,
    /// `--fail-above`, the limit of the verdicts (10 % without it).
    #[serde(skip)]
    pub limit: Option<Threshold>,
    /// Groups with a p-value (the number of comparisons BH corrects for).
    pub groups_tested: usize,
    /// The `--by` keys.
    #[serde(skip)]
    pub by: Vec<GroupKey>,
    /// The significance level `significant` was decided at.
    pub alpha: f64,
    /// Samples read in a way the user may not expect (no Running total).
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// Compares `inputs[0]` (before) with `inputs[1]` (after).
pub fn compare(inputs: &[InputFacts], options: &DiffOptions) -> Result<Diff> {
    let [before, after] = inputs else {
        refuse!("diff compares exactly two inputs, got {}", inputs.len());
    };
    let (metrics, warnings) = compare_metrics(before, after, options)?;
    let (before, after) = (side(before), side(after));
    let mut groups = compare_groups(inputs, options)?;
    let q_values = stats::benjamini_hochberg(&groups.iter().map(|g| g.p_value).collect::<Vec<_>>());
    for (group, q_value) in groups.iter_mut().zip(q_values) {
        group.q_value = q_value;
        group.significant = significant(q_value, options.alpha);
        group.verdict = group_verdict(group);
    }
    let gated = |verdict: Verdict| gated_with(&metrics, options, verdict);
    Ok(Diff {
        before,
        after,
        groups_tested: groups.iter().filter(|g| g.p_value.is_some()).count(),
        regressions: gated(Verdict::Regressed),
        inconclusive: gated(Verdict::Inconclusive),
        gated: options.fail_above.is_some(),
        limit: options.fail_above,
        metrics,
        groups,
        by: options.by.clone(),
        alpha: options.alpha,
        warnings,
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

/// The limit of a verdict without `--fail-above`: a change of 10 %.
pub const DEFAULT_LIMIT: Threshold = Threshold::Percent(10.0);

/// The power the sample-size estimate aims at.
pub const TARGET_POWER: f64 = 0.8;

/// The confidence of the shift's interval: 1 - alpha, or 95 % with the
/// tests turned off (`--alpha 1`).
pub fn confidence(alpha: f64) -> f64 {
    if alpha >= 1.0 { 0.95 } else { 1.0 - alpha }
}

/// Each metric compared, and the warning for an input with samples
/// without a Running total (whose Running-based figures leave them out).
fn compare_metrics(
    before: &InputFacts,
    after: &InputFacts,
    options: &DiffOptions,
) -> Result<(Vec<MetricDiff>, Vec<Warning>)> {
    let mut warnings = Vec::new();
    let mut per_sample = |input: &InputFacts| -> Result<Samples> {
        let samples = sample_metrics(std::slice::from_ref(input), &options.classes)?;
        warnings.extend(samples.missing_running(0));
        Ok(samples)
    };
    let (before, after) = (per_sample(before)?, per_sample(after)?);
    let metrics = Metric::ALL
        .iter()
        .map(|&metric| {
            let sides = [&before, &after].map(|side| MetricValues::of(metric, side));
            compare_values(metric, &sides[0], &sides[1], options)
        })
        .collect();
    Ok((metrics, warnings))
}

/// A metric's values on one side: as floats for the figures, and as
/// exact integers of nanoseconds for the ranks (a share has none).
struct MetricValues {
    floats: Vec<f64>,
    nanoseconds: Option<Vec<i128>>,
}

impl MetricValues {
    /// The values of the one input of `side`, each sample's figures made
    /// as they are read (millions of samples' `Metrics` would not fit).
    fn of(metric: Metric, side: &Samples) -> MetricValues {
        let each = || side.metrics_of_input(0);
        MetricValues {
            floats: each().filter_map(|m| metric.value(&m)).collect(),
            nanoseconds: (!metric.is_share())
                .then(|| each().filter_map(|m| metric.nanoseconds(&m)).collect()),
        }
    }
}

fn compare_values(
    metric: Metric,
    before_values: &MetricValues,
    after_values: &MetricValues,
    options: &DiffOptions,
) -> MetricDiff {
    let (before, after) = (&before_values.floats[..], &after_values.floats[..]);
    let (before_mean, after_mean) = (stats::mean(before), stats::mean(after));
    let (before_median, after_median) = (stats::median(before), stats::median(after));
    let test = match (&before_values.nanoseconds, &after_values.nanoseconds) {
        (Some(b), Some(a)) => stats::mann_whitney(b, a),
        _ => stats::mann_whitney(before, after),
    };
    let tested = tested_p(test.as_ref(), before.len(), after.len());
    let p_value = tested.map(|test| test.p_value);
    let interval = |values: &[f64]| stats::median_ci(values).map(|(low, high)| [low, high]);
    let shift = effect::hodges_lehmann(before, after, confidence(options.alpha));
    let relative = |value: f64| before_median.and_then(|median| percent_of(value, median));
    let threshold = verdict_threshold(metric, options.fail_above);
    let limit = before_median.map(|median| threshold.in_unit(median));
    let mut diff = MetricDiff {
        metric,
        before_mean,
        after_mean,
        before_median,
        after_median,
        delta_pct: before_mean
            .zip(after_mean)
            .and_then(|(b, a)| delta_pct(b, a)),
        p_value,
        significant: significant(p_value, options.alpha),
        n_before: before.len(),
        n_after: after.len(),
        before_median_ci: interval(before),
        after_median_ci: interval(after),
        median_delta_pct: before_median
            .zip(after_median)
            .and_then(|(b, a)| delta_pct(b, a)),
        direction: Direction::of(test.as_ref(), before.len(), after.len()),
        test: tested.map(|test| test.method),
        shift: shift.map(|shift| shift.estimate),
        shift_ci: shift.and_then(|shift| shift.interval),
        shift_pct: shift.and_then(|shift| relative(shift.estimate)),
        shift_ci_pct: shift
            .and_then(|shift| shift.interval)
            .and_then(|[low, high]| Some([relative(low)?, relative(high)?])),
        verdict: Verdict::Inconclusive,
        verdict_reason: None,
        limit,
        samples_needed: None,
    };
    let (verdict, reason) = metric_verdict(&diff, options.alpha);
    diff.verdict = verdict;
    diff.verdict_reason = reason;
    // From two samples a side: one sample says nothing of the spread. With
    // the tests off, the count a test at 0.05 would need.
    let alpha = if options.alpha >= 1.0 {
        0.05
    } else {
        options.alpha
    };
    diff.samples_needed = limit
        .filter(|_| before.len() >= 2 && after.len() >= 2)
        .and_then(|limit| {
            effect::samples_needed(
                before,
                after,
                diff.shift?,
                limit,
                alpha,
                TARGET_POWER,
                stats::min_samples_for_alpha(alpha),
            )
        });
    diff
}

/// `value` in percent of `base`; None when `base` is 0.
fn percent_of(value: f64, base: f64) -> Option<f64> {
    (base != 0.0).then(|| value / base.abs() * 100.0)
}

/// The limit a metric's verdict is judged against: `--fail-above` where
/// it applies to the metric (points only to a share), else 10 %.
pub fn verdict_threshold(metric: Metric, fail_above: Option<Threshold>) -> Threshold {
    match fail_above {
        Some(Threshold::Points(_)) if !metric.is_share() => DEFAULT_LIMIT,
        Some(threshold) => threshold,
        None => DEFAULT_LIMIT,
    }
}

/// The verdict of a metric and, when inconclusive, why:
/// - no test (fewer than 2 samples a side, or none on one): inconclusive;
/// - with the tests on, significant, the rank test's direction and the
///   shift beyond the limit the same way: regressed or improved; from a
///   before median of 0 (a limit of 0), any significant rise regresses
///   (the shift, a median of differences, stays 0 while the metric is
///   still 0 in most after samples);
/// - the shift's interval within plus or minus the limit: same;
/// - else inconclusive (no interval from so few samples, or one that
///   reaches past the limit).
///
/// With `--alpha 1` (tests off) the shift alone decides: beyond the limit
/// regressed or improved, else same.
fn metric_verdict(m: &MetricDiff, alpha: f64) -> (Verdict, Option<String>) {
    let inconclusive = |reason: String| (Verdict::Inconclusive, Some(reason));
    let n = format!("n={}+{}", m.n_before, m.n_after);
    if m.n_before == 0 || m.n_after == 0 {
        let side = if m.n_before == 0 { "before" } else { "after" };
        let what = if m.metric.needs_running() {
            "no sample with a Running total"
        } else {
            "no sample"
        };
        return inconclusive(format!("{what} {side}"));
    }
    let (Some(_), Some(shift), Some(limit)) = (m.p_value, m.shift, m.limit) else {
        return inconclusive(format!("too few samples for a test ({n})"));
    };
    if alpha >= 1.0 {
        return (shift_verdict(shift, limit), None);
    }
    let from_nothing = limit == 0.0 && m.direction == Direction::Up;
    let beyond = match m.direction {
        Direction::Up => shift > limit || from_nothing,
        Direction::Down => shift < -limit,
        Direction::Neither => false,
    };
    if m.significant && beyond {
        let verdict = if m.direction == Direction::Up {
            Verdict::Regressed
        } else {
            Verdict::Improved
        };
        return (verdict, None);
    }
    let percent = confidence(alpha) * 100.0;
    match m.shift_ci {
        Some([low, high]) if low >= -limit && high <= limit => (Verdict::Same, None),
        Some(_) if limit == 0.0 => inconclusive(format!(
            "its before median is 0, and the {percent:.0} % interval of the change does not \
             rule out a rise from it"
        )),
        Some(_) => inconclusive(format!(
            "the {percent:.0} % interval of the change reaches past the limit"
        )),
        None => inconclusive(format!(
            "too few samples for a {percent:.0} % interval of the change ({n})"
        )),
    }
}

/// With the tests off: beyond the limit one way or the other, else the
/// same.
fn shift_verdict(shift: f64, limit: f64) -> Verdict {
    if shift > limit {
        Verdict::Regressed
    } else if shift < -limit {
        Verdict::Improved
    } else {
        Verdict::Same
    }
}

/// A group's verdict: its test's, significant (by q) one way or the
/// other; else inconclusive (a group has no limit to be the same within).
fn group_verdict(group: &GroupDiff) -> Verdict {
    match (group.significant, group.direction) {
        (true, Direction::Up) => Verdict::Regressed,
        (true, Direction::Down) => Verdict::Improved,
        _ => Verdict::Inconclusive,
    }
}

/// The metrics `--fail-above` watches whose verdict is `verdict`.
fn gated_with(metrics: &[MetricDiff], options: &DiffOptions, verdict: Verdict) -> Vec<Metric> {
    if options.fail_above.is_none() {
        return Vec::new();
    }
    metrics
        .iter()
        .filter(|m| options.fail_metrics.contains(&m.metric) && m.verdict == verdict)
        .map(|m| m.metric)
        .collect()
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

    /// The threshold in the metric's unit for a before median of
    /// `median`: that percent of it (0 for a median of 0: any rise from
    /// nothing is beyond it), or the points as a fraction.
    pub fn in_unit(self, median: f64) -> f64 {
        match self {
            Threshold::Percent(limit) => limit / 100.0 * median.abs(),
            Threshold::Points(limit) => limit / 100.0,
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

/// Compares every group of either side, sample by sample, from each
/// side's detail (each key's wait per sample, kept key by key): a group's
/// waits are read through the keys it holds on that side.
fn compare_groups(inputs: &[InputFacts], options: &DiffOptions) -> Result<Vec<GroupDiff>> {
    let positions: Vec<usize> = options.by.iter().map(|key| key.position()).collect();
    let mut group_ids: InputMap<[Option<String>; KEY_PARTS], u32> = InputMap::default();
    let mut group_keys: Vec<[Option<String>; KEY_PARTS]> = Vec::new();
    let mut sides: Vec<SideWaits> = Vec::new();
    for input in inputs {
        let mut keys_by_group: Vec<(u32, u32)> = input
            .keys
            .iter()
            .enumerate()
            .map(|(at, key)| {
                let ids = key.ids();
                let mut texts: [Option<String>; KEY_PARTS] = Default::default();
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
        refuse!("diff compares exactly two inputs, got {}", sides.len());
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
            let [category, symbol, caller, holder] = texts.clone();
            let keys = KeyValues {
                category,
                symbol,
                caller,
                holder,
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
        // parallel iterator, with a vector and a list node of its own (half
        // a kilobyte a group at the peak: docs/performance.md).
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
        before_mean_ns: rounded_mean(before_total, before.len() as u64),
        after_mean_ns: rounded_mean(after_total, after.len() as u64),
        delta_pct: delta_pct(before_mean, after_mean),
        p_value: tested.map(|test| test.p_value),
        q_value: None,
        significant: false,
        status,
        direction: Direction::of(test.as_ref(), before.len(), after.len()),
        test: tested.map(|test| test.method),
        verdict: Verdict::Inconclusive,
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
