//! Rendering a [`Diff`]: benchstat-style summary, regressions and
//! improvements, as terminal tables, Markdown, CSV, JSON or two-count folded
//! stacks.

use std::fmt::Write as _;

use crate::error::Result;

use super::Style;
use compact_str::format_compact;

use super::cells::{Cell, NAME_COLUMNS, TextTable};
use super::human::{duration, percent};
use super::text::{BOLD, paint, render_table, wrap};
use crate::engine::diff::{
    DEFAULT_LIMIT, Diff, Direction, GroupDiff, Metric, MetricDiff, Threshold, Verdict, confidence,
    verdict_threshold,
};
use crate::engine::stats::{MIN_SAMPLES_FOR_CI, TestMethod, least_p, min_samples_for_alpha};
use crate::export::writer::{CsvOptions, RecordWriter, WriterOptions, write_folded};
use crate::export::{ExportFormat, Field, Kind, Value};
use crate::parse::Unit;
use crate::printable::{self, printable};

/// The output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffFormat {
    /// Summary, regressions and improvements for the terminal.
    #[default]
    Table,
    /// Every group compared, as CSV.
    Csv,
    /// Everything, as JSON for scripts.
    Json,
    /// The terminal report as Markdown.
    Markdown,
    /// `key;key;key before_ns after_ns` lines for differential flame graphs.
    Folded,
    /// One line for a CI log: the headline figures, how many groups rose,
    /// and whether `--fail-above` tripped.
    Summary,
}

/// The tables `diff --format csv` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiffTable {
    /// Every group compared.
    #[default]
    Groups,
    /// The metrics of the summary table.
    Metrics,
}

/// Renders the comparison; `top` limits each of the two group lists,
/// `what` picks the table CSV writes.
pub fn render(
    diff: &Diff,
    format: DiffFormat,
    what: DiffTable,
    style: &Style,
    top: usize,
) -> Result<String> {
    match format {
        DiffFormat::Table => Ok(text(diff, style, top, false)),
        DiffFormat::Markdown => Ok(text(diff, &Style::default(), top, true)),
        DiffFormat::Csv => match what {
            DiffTable::Groups => groups_csv(diff, style.csv),
            DiffTable::Metrics => metrics_csv(diff, style.csv),
        },
        DiffFormat::Json => {
            let mut json = serde_json::to_string_pretty(diff)?;
            json.push('\n');
            Ok(json)
        }
        DiffFormat::Folded => folded(diff),
        DiffFormat::Summary => Ok(summary(diff)),
    }
}

/// `before -> after: spin_share 46.1 % -> 64.3 % +18.2 pt [+12.1, +24.3]
/// (p<0.001) regressed; ...; 2 of 9 groups rose significantly; FAIL
/// spin_share`: one line. The headline figures are the shares where the
/// inputs have thread states, else the lock-wait times. The last part is
/// the gate's: `ok` only when every watched metric was tested and none
/// regressed; `INCONCLUSIVE` names those it could not tell; without
/// `--fail-above` there is no gate to pass.
pub fn summary(diff: &Diff) -> String {
    let has_shares = diff
        .metrics
        .iter()
        .any(|m| m.metric == Metric::SpinShare && m.before_median.is_some());
    let headline: &[Metric] = if has_shares {
        &[Metric::SpinShare, Metric::KernelLockNs, Metric::SleepWaitNs]
    } else {
        &[Metric::SpinNs, Metric::SleepWaitNs]
    };
    let mut parts: Vec<String> = diff
        .metrics
        .iter()
        .filter(|m| headline.contains(&m.metric) && m.before_median.is_some())
        .map(|m| {
            let share = m.metric.is_share();
            format!(
                "{} {} -> {} {} {}",
                m.metric.name(),
                figure(m.before_median, share),
                figure(m.after_median, share),
                change(m, true, diff.alpha),
                m.verdict.name()
            )
        })
        .collect();
    let rose = diff
        .groups
        .iter()
        .filter(|g| g.significant && g.direction == Direction::Up)
        .count();
    parts.push(format!(
        "{rose} of {} groups rose significantly",
        diff.groups.len()
    ));
    parts.push(gate_word(diff));
    format!(
        "{} -> {}: {}\n",
        diff.before.label,
        diff.after.label,
        parts.join("; ")
    )
}

/// The gate's outcome in words: `FAIL x`, `INCONCLUSIVE x`, `ok`, or
/// `no gate (--fail-above)`.
fn gate_word(diff: &Diff) -> String {
    let names = |metrics: &[Metric]| -> String {
        metrics
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !diff.gated {
        "no gate (--fail-above)".to_string()
    } else if !diff.regressions.is_empty() {
        let mut word = format!("FAIL {}", names(&diff.regressions));
        if !diff.inconclusive.is_empty() {
            word.push_str(&format!(", INCONCLUSIVE {}", names(&diff.inconclusive)));
        }
        word
    } else if !diff.inconclusive.is_empty() {
        format!("INCONCLUSIVE {}", names(&diff.inconclusive))
    } else {
        "ok".to_string()
    }
}

fn text(diff: &Diff, style: &Style, top: usize, markdown: bool) -> String {
    let width = style.width.map(usize::from);
    let heading = |out: &mut String, title: &str| {
        if markdown {
            let _ = write!(out, "### {}\n\n", printable::markdown(title));
        } else {
            let _ = writeln!(out, "{}", wrap(title, width));
        }
    };
    let mut out = String::new();
    let title = format!(
        "{} ({} samples) -> {} ({} samples)",
        diff.before.label, diff.before.samples, diff.after.label, diff.after.samples
    );
    if markdown {
        let _ = write!(out, "**{}**\n\n", printable::markdown(&title));
    } else {
        let _ = write!(out, "{}\n\n", paint(&printable(&title), style.color, BOLD));
    }
    let fit = |table: TextTable, droppable: &[&str]| match width {
        Some(width) if !markdown => table.fit(width, droppable, &NAME_COLUMNS),
        _ => table,
    };
    // At 80 columns the means go first (the change is of the medians),
    // then the medians' intervals (the JSON keeps them).
    let means = ["before mean", "after mean"];
    let mut metrics = fit(metrics_table(diff, Detail::Full), &means);
    for detail in [Detail::NoIntervals, Detail::Compact] {
        if markdown || width.is_none_or(|width| metrics.natural_width() <= width) {
            break;
        }
        metrics = fit(metrics_table(diff, detail), &means);
    }
    out.push_str(&render_table(&metrics, style, markdown));
    out.push_str("\n\n");
    // A narrow terminal's table may have lost the medians' `± x %`.
    let intervals_shown = metrics.rows.iter().flatten().any(|cell| cell.contains('±'));
    for note in sample_notes(diff, intervals_shown) {
        out.push_str(&wrap(&note, width));
        out.push_str(if markdown { "\n\n" } else { "\n" });
    }
    // Listed by the direction the rank test sees, so that a group is never
    // a regression by its mean and an improvement by its test.
    let (regressions, improvements): (Vec<&GroupDiff>, Vec<&GroupDiff>) = diff
        .groups
        .iter()
        .filter(|g| g.direction != Direction::Neither)
        .partition(|g| g.direction == Direction::Up);
    for (title, groups) in [("Regressions", regressions), ("Improvements", improvements)] {
        out.push('\n');
        if groups.is_empty() {
            heading(&mut out, &format!("{title}: none"));
            continue;
        }
        heading(&mut out, &list_title(title, &groups, top, diff));
        let shown = if top == 0 {
            groups.len()
        } else {
            top.min(groups.len())
        };
        // `q` decides `*` and `~`: `p` goes first.
        let droppable = ["p", "status", "before mean", "after mean", "q"];
        let table = fit(groups_table(diff, &groups[..shown]), &droppable);
        out.push_str(&render_table(&table, style, markdown));
        out.push('\n');
    }
    out
}

/// `Regressions: 1 significant of 4 rises, ...`: how many of the listed
/// changes the data tell from noise, so that nobody reads a `~` row as a
/// regression.
fn list_title(title: &str, groups: &[&GroupDiff], top: usize, diff: &Diff) -> String {
    let count = groups.len();
    let significant = groups.iter().filter(|g| g.significant).count();
    let moves = match (title, count) {
        ("Regressions", 1) => "rise",
        ("Regressions", _) => "rises",
        (_, 1) => "fall",
        _ => "falls",
    };
    let shown = if top > 0 && count > top {
        format!(" (top {top} shown)")
    } else {
        String::new()
    };
    format!(
        "{title}: {significant} significant of {count} {moves}{shown}, by change of the mean \
         per sample; * = significant (q < {}: p from Mann-Whitney, adjusted for {} comparisons \
         by Benjamini-Hochberg), ~ = not told from noise",
        diff.alpha, diff.groups_tested
    )
}

/// What the sample counts allow, in words.
fn sample_notes(diff: &Diff, intervals_shown: bool) -> Vec<String> {
    let (before, after) = (diff.before.samples, diff.after.samples);
    let mut notes = vec![format!(
        "~ : no significant change (p >= {}); a change needs several samplings per build \
         to be told from noise.",
        diff.alpha
    )];
    let least = least_p(before, after);
    if before.min(after) >= 2 && diff.alpha < 1.0 && least >= diff.alpha {
        notes.push(format!(
            "With {before}+{after} samples no change can be significant: the most lopsided \
             arrangement has p = {} (needs {} samples a side to reach p < {}).",
            p_number(least, diff.alpha),
            min_samples_for_alpha(diff.alpha),
            diff.alpha
        ));
    }
    notes.push(format!(
        "change: the shift after - before (the median of every difference between an \
         after and a before sample), in percent of the before median (points for a \
         share), with its {:.0} % confidence interval. verdict: regressed or improved \
         when significant and beyond ± {limit}, same when the interval lies within \
         ± {limit}, else inconclusive.",
        confidence(diff.alpha) * 100.0,
        limit = limit_text(diff)
    ));
    if intervals_shown {
        notes.push(
            "± : how far the 95 % confidence interval of the median reaches, in percent \
             of the median (as benchstat)."
                .to_string(),
        );
    }
    if before.min(after) < MIN_SAMPLES_FOR_CI {
        notes.push(format!(
            "Medians have 95 % confidence intervals from {MIN_SAMPLES_FOR_CI} samples a \
             side ({before}+{after} here)."
        ));
    }
    notes.extend(
        diff.metrics
            .iter()
            .filter(|m| m.verdict == Verdict::Inconclusive)
            .map(|m| {
                format!(
                    "{}: inconclusive, {}",
                    m.metric.name(),
                    why_and_how_many(m, diff)
                )
            }),
    );
    notes
}

/// The limit the verdicts were judged against, as the user gave it (a
/// limit in points is for the share; times keep 10 %).
fn limit_text(diff: &Diff) -> String {
    match diff.limit {
        Some(points @ Threshold::Points(_)) => format!(
            "{} ({} for times)",
            points.describe(),
            DEFAULT_LIMIT.describe()
        ),
        limit => limit.unwrap_or(DEFAULT_LIMIT).describe(),
    }
}

/// `too few samples for a test (n=1+1); needs about 14 samples a side to
/// tell a 10 % rise`.
fn why_and_how_many(m: &MetricDiff, diff: &Diff) -> String {
    let reason = m
        .verdict_reason
        .as_deref()
        .unwrap_or("the data cannot tell");
    let limit = verdict_threshold(m.metric, diff.limit).describe();
    match m.samples_needed {
        Some(n) => format!("{reason}; needs about {n} samples a side to tell a {limit} rise"),
        None if m.limit == Some(0.0) => {
            format!("{reason}; no sample count is estimated for a limit of 0")
        }
        None => format!("{reason}; no sample count is estimated"),
    }
}

/// How much the summary table says: everything, or less to fit a narrow
/// terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Detail {
    /// Intervals, points and percent, sample counts.
    Full,
    /// Without the medians' `± x %`.
    NoIntervals,
    /// Without intervals, a share's relative change and the sample counts
    /// (the title has them).
    Compact,
}

/// The summary table at a level of detail.
fn metrics_table(diff: &Diff, detail: Detail) -> TextTable {
    let intervals = detail == Detail::Full;
    // Compact: the medians' headers shortened (the means, which the fit
    // drops first, keep theirs).
    let (before_median, after_median) = if detail == Detail::Compact {
        ("before", "after")
    } else {
        ("before median", "after median")
    };
    let header = [
        "metric",
        "before mean",
        "after mean",
        before_median,
        after_median,
        "change",
        "verdict",
    ];
    let rows = diff
        .metrics
        .iter()
        .map(|m| {
            let share = m.metric.is_share();
            let value = |v: Option<f64>| figure(v, share);
            vec![
                Cell::const_new(m.metric.name()),
                value(m.before_mean),
                value(m.after_mean),
                with_interval(
                    m.before_median,
                    m.before_median_ci.filter(|_| intervals),
                    share,
                )
                .into(),
                with_interval(
                    m.after_median,
                    m.after_median_ci.filter(|_| intervals),
                    share,
                )
                .into(),
                change(m, detail == Detail::Compact, diff.alpha).into(),
                Cell::const_new(m.verdict.name()),
            ]
        })
        .collect();
    TextTable {
        header: header.iter().map(|h| h.to_string()).collect(),
        numeric: vec![false, true, true, true, true, false, false],
        rows,
        highlight: Vec::new(),
    }
}

fn groups_table(diff: &Diff, groups: &[&GroupDiff]) -> TextTable {
    let mut header = vec![" ".to_string()];
    let mut numeric = vec![false];
    for key in &diff.by {
        header.push(key.name().to_string());
        numeric.push(false);
    }
    for name in ["before mean", "after mean", "change", "p", "q", "status"] {
        header.push(name.to_string());
        numeric.push(name != "status");
    }
    let rows = groups
        .iter()
        .map(|group| {
            let mut row = vec![Cell::const_new(if group.significant { "*" } else { "~" })];
            for key in &diff.by {
                row.push(Cell::from(group.key(*key).unwrap_or("")));
            }
            row.extend([
                duration(group.before_mean_ns),
                duration(group.after_mean_ns),
                group
                    .delta_pct
                    .map_or_else(|| group.status.name().to_string(), signed_percent)
                    .into(),
                p_text(group.p_value, diff.alpha).into(),
                p_text(group.q_value, diff.alpha).into(),
                Cell::const_new(group.status.name()),
            ]);
            row
        })
        .collect();
    let highlight = groups
        .iter()
        .enumerate()
        .filter(|(_, g)| g.significant && g.direction == Direction::Up)
        .map(|(index, _)| index)
        .collect();
    TextTable {
        header,
        numeric,
        rows,
        highlight,
    }
}

/// The line that says on stderr why `diff` failed the gate, with the
/// figures: `FAIL spin_share +18.2 pt [+12.1, +24.3] (+28.3 %, median
/// 46.1 % -> 64.3 %, p<0.001, n=12+12) regressed beyond --fail-above
/// 10 %`.
pub fn fail_line(m: &MetricDiff, limit: Threshold, alpha: f64) -> String {
    let share = m.metric.is_share();
    let mut figures: Vec<String> = Vec::new();
    if share && let Some(pct) = m.shift_pct {
        figures.push(signed_percent(pct));
    }
    figures.push(format!(
        "median {} -> {}",
        figure(m.before_median, share),
        figure(m.after_median, share)
    ));
    if let Some(p) = m.p_value {
        figures.push(p_phrase(p, alpha));
    }
    figures.push(format!("n={}+{}", m.n_before, m.n_after));
    format!(
        "FAIL {} {} ({}) regressed beyond --fail-above {}",
        m.metric.name(),
        shift_with_interval(m),
        figures.join(", "),
        limit.describe()
    )
}

/// The line that says on stderr that the gate cannot tell a watched
/// metric, why, and what would settle it; `failing` when
/// `--fail-inconclusive` makes it fail the run.
pub fn inconclusive_line(m: &MetricDiff, limit: Threshold, failing: bool) -> String {
    let reason = m
        .verdict_reason
        .as_deref()
        .unwrap_or("the data cannot tell");
    let limit_text = verdict_threshold(m.metric, Some(limit)).describe();
    let settle = match m.samples_needed {
        Some(n) => format!("about {n} samples a side would tell a {limit_text} rise"),
        None if m.n_before == 0 || m.n_after == 0 => {
            "samples with it on both sides would (not more of the same)".to_string()
        }
        None => "more samples a side would".to_string(),
    };
    let exit = if failing {
        "exit 1: --fail-inconclusive"
    } else {
        "--fail-inconclusive makes this exit 1"
    };
    format!(
        "INCONCLUSIVE {}: --fail-above {} cannot tell: {reason}; {settle} ({exit})",
        m.metric.name(),
        limit.describe()
    )
}

/// A shift as printed: its estimate and interval, each with its sign,
/// and the unit they share.
struct ShiftText {
    /// `+25.3`, or `+3.100 ms` in time.
    estimate: String,
    /// `[+12.0, +40.1]`, when there is an interval.
    interval: Option<String>,
    /// ` %` of the before median, ` pt` for a share, or nothing where the
    /// figures carry their own (a time, when the before median is 0).
    unit: &'static str,
}

impl ShiftText {
    /// The shift of a metric; None without one.
    fn of(m: &MetricDiff) -> Option<ShiftText> {
        let bracket = |[low, high]: [String; 2]| format!("[{low}, {high}]");
        let points = |v: f64| format!("{:+.1}", v * 100.0);
        let percent = |v: f64| format!("{v:+.1}");
        let text = |estimate: f64, interval: Option<[f64; 2]>, show: &dyn Fn(f64) -> String| {
            (show(estimate), interval.map(|ends| bracket(ends.map(show))))
        };
        let (estimate, interval, unit) = if m.metric.is_share() {
            let (estimate, interval) = text(m.shift?, m.shift_ci, &points);
            (estimate, interval, " pt")
        } else if let Some(pct) = m.shift_pct {
            let (estimate, interval) = text(pct, m.shift_ci_pct, &percent);
            (estimate, interval, " %")
        } else {
            let (estimate, interval) = text(m.shift?, m.shift_ci, &signed_duration);
            (estimate, interval, "")
        };
        Some(ShiftText {
            estimate,
            interval,
            unit,
        })
    }

    /// `+25.3 % [+12.0, +40.1]`, or without the interval.
    fn with_interval(&self, interval: bool) -> String {
        match self.interval.as_ref().filter(|_| interval) {
            Some(ends) => format!("{}{} {ends}", self.estimate, self.unit),
            None => format!("{}{}", self.estimate, self.unit),
        }
    }
}

/// The shift and its interval: `+25.3 % [+12.0, +40.1]`, `-18.2 pt
/// [-22.0, -12.0]` for a share, `+3.100 ms [...]` where the before median
/// is 0 (no percent of it); `-` without a shift.
fn shift_with_interval(m: &MetricDiff) -> String {
    ShiftText::of(m).map_or_else(|| "-".to_string(), |shift| shift.with_interval(true))
}

/// `+3.100 ms`, `-250 ns`.
fn signed_duration(ns: f64) -> String {
    let sign = if ns < 0.0 { "-" } else { "+" };
    format!("{sign}{}", duration(ns.abs().round() as u64))
}

/// The change, as the shift after - before: `+25.3 % [+12.0, +40.1]
/// (p=0.002, n=12+12)` when significant, `~ [-9.1, +12.0] % (p=0.420,
/// n=12+12)` when not (the interval without the estimate, as benchstat
/// hides a change it cannot tell from noise). Compact leaves out the
/// interval and the sample counts.
fn change(m: &MetricDiff, compact: bool, alpha: f64) -> String {
    let shift = ShiftText::of(m);
    let n = if compact {
        String::new()
    } else {
        format!(", n={}+{}", m.n_before, m.n_after)
    };
    let estimate = shift
        .as_ref()
        .map_or_else(|| "-".to_string(), |shift| shift.with_interval(!compact));
    match m.p_value {
        None => format!("{estimate} (n too small for a test{n})"),
        Some(p) if m.significant => format!("{estimate} ({}{n})", p_phrase(p, alpha)),
        Some(p) => match shift.and_then(|s| s.interval.filter(|_| !compact).map(|i| (i, s.unit))) {
            Some((interval, unit)) => format!("~ {interval}{unit} ({}{n})", p_phrase(p, alpha)),
            None => format!("~ ({}{n})", p_phrase(p, alpha)),
        },
    }
}

fn signed_percent(delta: f64) -> String {
    format!("{delta:+.1} %")
}

/// p as printed: 3 decimals, more where 3 would round it across alpha
/// (0.0499 is not 0.050 under alpha 0.05), `<0.001` below 0.001 unless
/// alpha itself is that small.
fn p_number(p: f64, alpha: f64) -> String {
    if p < 0.001 && alpha >= 0.001 {
        return "<0.001".to_string();
    }
    for decimals in 3..=12 {
        let shown = format!("{p:.decimals$}");
        let value: f64 = shown.parse().unwrap_or(p);
        if (value < alpha) == (p < alpha) && (value != alpha || p == alpha) {
            return shown;
        }
    }
    format!("{p:e}")
}

/// `p=0.014`, or `p<0.001`.
fn p_phrase(p: f64, alpha: f64) -> String {
    let number = p_number(p, alpha);
    if number.starts_with('<') {
        format!("p{number}")
    } else {
        format!("p={number}")
    }
}

fn p_text(p: Option<f64>, alpha: f64) -> String {
    p.map_or_else(|| "-".to_string(), |p| p_number(p, alpha))
}

fn figure(value: Option<f64>, share: bool) -> Cell {
    match value {
        None => Cell::const_new("-"),
        Some(v) if share => percent(Some(v)),
        Some(v) if v < 0.0 => format_compact!("-{}", duration((-v).round() as u64)),
        Some(v) => duration(v.round() as u64),
    }
}

/// benchstat's `median ± x %`: x the farther end of the 95 % interval, as
/// a percentage of the median (the JSON has the interval itself).
fn with_interval(median: Option<f64>, interval: Option<[f64; 2]>, share: bool) -> String {
    let shown = figure(median, share);
    match (median, interval) {
        (Some(m), Some([low, high])) if m != 0.0 => {
            let spread = (m - low).abs().max((high - m).abs()) / m.abs() * 100.0;
            format!("{shown} ± {spread:.0} %")
        }
        (Some(_), Some([low, high])) => format!(
            "{shown} [{}, {}]",
            figure(Some(low), share),
            figure(Some(high), share)
        ),
        _ => shown.into(),
    }
}

/// A table of records as CSV, through export's writer (the same
/// `--delimiter`, `--decimal-comma` and formula guard).
fn csv_table(
    fields: &[Field],
    csv: CsvOptions,
    records: impl FnMut(&mut RecordWriter<'_>) -> Result<()>,
) -> Result<String> {
    let mut records = records;
    let mut out = Vec::new();
    let options = WriterOptions {
        format: ExportFormat::Csv,
        unit: Unit::Ns,
        csv,
    };
    let mut writer = RecordWriter::new(&mut out, fields, options)?;
    records(&mut writer)?;
    writer.finish()?;
    Ok(String::from_utf8(out)?)
}

/// Every group compared: docs/diff.md's CSV columns.
fn groups_csv(diff: &Diff, csv: CsvOptions) -> Result<String> {
    let mut fields: Vec<Field> = diff
        .by
        .iter()
        .map(|key| Field::new(key.name(), Kind::Text))
        .collect();
    fields.extend(
        [
            ("before_total_ns", Kind::Duration),
            ("after_total_ns", Kind::Duration),
            ("before_mean_ns", Kind::Duration),
            ("after_mean_ns", Kind::Duration),
            ("delta_pct", Kind::Share),
            ("p_value", Kind::Share),
            ("q_value", Kind::Share),
            ("significant", Kind::Text),
            ("status", Kind::Text),
            ("direction", Kind::Text),
            ("test", Kind::Text),
            ("verdict", Kind::Text),
        ]
        .map(|(name, kind)| Field::new(name, kind)),
    );
    let number = |v: Option<f64>| v.map_or(Value::Null, Value::Share);
    csv_table(&fields, csv, |writer| {
        for group in &diff.groups {
            let mut record: Vec<Value<'_>> = diff
                .by
                .iter()
                .map(|key| Value::Text(group.key(*key).unwrap_or("")))
                .collect();
            record.extend([
                Value::Duration(group.before_total_ns),
                Value::Duration(group.after_total_ns),
                Value::Duration(group.before_mean_ns),
                Value::Duration(group.after_mean_ns),
                number(group.delta_pct),
                number(group.p_value),
                number(group.q_value),
                Value::Text(if group.significant { "true" } else { "false" }),
                Value::Text(group.status.name()),
                Value::Text(group.direction.name()),
                Value::Text(group.test.map_or("", TestMethod::name)),
                Value::Text(group.verdict.name()),
            ]);
            writer.write(&record)?;
        }
        Ok(())
    })
}

/// The metrics of the summary table, one row each: the JSON's `metrics`
/// fields, an interval `[low, high]` as two columns `_low`, `_high`.
fn metrics_csv(diff: &Diff, csv: CsvOptions) -> Result<String> {
    let names = [
        "metric",
        "before_mean",
        "after_mean",
        "before_median",
        "after_median",
        "before_median_ci_low",
        "before_median_ci_high",
        "after_median_ci_low",
        "after_median_ci_high",
        "delta_pct",
        "median_delta_pct",
        "shift",
        "shift_ci_low",
        "shift_ci_high",
        "shift_pct",
        "shift_ci_pct_low",
        "shift_ci_pct_high",
        "p_value",
        "significant",
        "n_before",
        "n_after",
        "direction",
        "test",
        "verdict",
        "verdict_reason",
        "limit",
        "samples_needed",
    ];
    let text_columns = [
        "metric",
        "significant",
        "direction",
        "test",
        "verdict",
        "verdict_reason",
    ];
    let fields: Vec<Field> = names
        .iter()
        .map(|name| {
            let kind = match *name {
                name if text_columns.contains(&name) => Kind::Text,
                "n_before" | "n_after" | "samples_needed" => Kind::Count,
                _ => Kind::Share,
            };
            Field::new(*name, kind)
        })
        .collect();
    let number = |v: Option<f64>| v.map_or(Value::Null, Value::Share);
    let ends = |v: Option<[f64; 2]>| {
        [
            number(v.map(|[low, _]| low)),
            number(v.map(|[_, high]| high)),
        ]
    };
    csv_table(&fields, csv, |writer| {
        for m in &diff.metrics {
            let mut record = vec![
                Value::Text(m.metric.name()),
                number(m.before_mean),
                number(m.after_mean),
                number(m.before_median),
                number(m.after_median),
            ];
            record.extend(ends(m.before_median_ci));
            record.extend(ends(m.after_median_ci));
            record.extend([
                number(m.delta_pct),
                number(m.median_delta_pct),
                number(m.shift),
            ]);
            record.extend(ends(m.shift_ci));
            record.push(number(m.shift_pct));
            record.extend(ends(m.shift_ci_pct));
            record.extend([
                number(m.p_value),
                Value::Text(if m.significant { "true" } else { "false" }),
                Value::Count(m.n_before as u64),
                Value::Count(m.n_after as u64),
                Value::Text(m.direction.name()),
                Value::Text(m.test.map_or("", TestMethod::name)),
                Value::Text(m.verdict.name()),
                Value::Text(m.verdict_reason.as_deref().unwrap_or("")),
                number(m.limit),
                m.samples_needed
                    .map_or(Value::Null, |n| Value::Count(n as u64)),
            ]);
            writer.write(&record)?;
        }
        Ok(())
    })
}

/// Two-count collapsed stacks, the input of inferno's and FlameGraph's
/// differential flame graphs (`inferno-diff-folded`, `difffolded.pl`).
fn folded(diff: &Diff) -> Result<String> {
    let mut out = Vec::new();
    for group in &diff.groups {
        let keys: Vec<&str> = diff
            .by
            .iter()
            .map(|key| group.key(*key).unwrap_or(""))
            .collect();
        write_folded(
            &mut out,
            &keys,
            &[group.before_total_ns, group.after_total_ns],
        )?;
    }
    Ok(String::from_utf8(out)?)
}
