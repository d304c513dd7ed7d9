//! Rendering a [`Diff`]: benchstat-style summary, regressions and
//! improvements, as terminal tables, Markdown, CSV, JSON or two-count folded
//! stacks.

use std::fmt::Write as _;

use anyhow::Result;

use super::Style;
use compact_str::format_compact;

use super::cells::{Cell, NAME_COLUMNS, TextTable};
use super::human::{duration, percent};
use super::text::{BOLD, paint, render_table, wrap};
use crate::engine::diff::{Diff, Direction, GroupDiff, Metric, MetricDiff, Threshold};
use crate::export::writer::write_folded;
use crate::stats::{MIN_SAMPLES_FOR_CI, MIN_SAMPLES_FOR_TEST, TestMethod};

/// The output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
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

/// Renders the comparison; `top` limits each of the two group lists.
pub fn render(diff: &Diff, format: DiffFormat, style: &Style, top: usize) -> Result<String> {
    match format {
        DiffFormat::Table => Ok(text(diff, style, top, false)),
        DiffFormat::Markdown => Ok(text(diff, &Style::default(), top, true)),
        DiffFormat::Csv => csv(diff),
        DiffFormat::Json => {
            let mut json = serde_json::to_string_pretty(diff)?;
            json.push('\n');
            Ok(json)
        }
        DiffFormat::Folded => folded(diff),
        DiffFormat::Summary => Ok(summary(diff)),
    }
}

/// `before -> after: spin_share 46.1 % -> 64.3 % +18.2 pt (p<0.001); ...;
/// 2 of 9 groups rose significantly; FAIL spin_share`: one line. The
/// headline figures are the shares where the inputs have thread states,
/// else the lock-wait times.
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
                "{} {} -> {} {}",
                m.metric.name(),
                figure(m.before_median, share),
                figure(m.after_median, share),
                change(m, true)
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
    let verdict = if diff.regressions.is_empty() {
        "ok".to_string()
    } else {
        let names: Vec<&str> = diff.regressions.iter().map(|m| m.name()).collect();
        format!("FAIL {}", names.join(", "))
    };
    parts.push(verdict);
    format!(
        "{} -> {}: {}\n",
        diff.before.label,
        diff.after.label,
        parts.join("; ")
    )
}

fn text(diff: &Diff, style: &Style, top: usize, markdown: bool) -> String {
    let width = style.width.map(usize::from);
    let heading = |out: &mut String, title: &str| {
        if markdown {
            let _ = write!(out, "### {title}\n\n");
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
        let _ = write!(out, "**{title}**\n\n");
    } else {
        let _ = write!(out, "{}\n\n", paint(&title, style.color, BOLD));
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
    for note in sample_notes(diff) {
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
        let droppable = ["q", "status", "before mean", "after mean"];
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
fn sample_notes(diff: &Diff) -> Vec<String> {
    let (before, after) = (diff.before.samples, diff.after.samples);
    let mut notes = vec![format!(
        "~ : no significant change (p >= {}); a change needs several samplings per build \
         to be told from noise.",
        diff.alpha
    )];
    if before.min(after) < MIN_SAMPLES_FOR_TEST {
        notes.push(format!(
            "With {before}+{after} samples no change can be significant: a rank test \
             needs {MIN_SAMPLES_FOR_TEST} samples a side to reach p < 0.05."
        ));
    }
    if before.max(after) >= MIN_SAMPLES_FOR_CI {
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
    notes
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
    let header = [
        "metric",
        "before mean",
        "after mean",
        "before median",
        "after median",
        "change",
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
                change(m, detail == Detail::Compact).into(),
            ]
        })
        .collect();
    TextTable {
        header: header.iter().map(|h| h.to_string()).collect(),
        numeric: vec![false, true, true, true, true, false],
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
                p_text(group.p_value).into(),
                p_text(group.q_value).into(),
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
/// figures: `FAIL spin_share median 46.1 % -> 64.3 % (+18.2 pt, +39.4 %,
/// p<0.001, n=12+12) above --fail-above 10 %`.
pub fn fail_line(m: &MetricDiff, limit: Threshold) -> String {
    let share = m.metric.is_share();
    let mut change: Vec<String> = points(m).into_iter().collect();
    if let Some(delta) = m.median_delta_pct {
        change.push(signed_percent(delta));
    }
    if let Some(p) = m.p_value {
        change.push(p_phrase(p));
    }
    change.push(format!("n={}+{}", m.n_before, m.n_after));
    format!(
        "FAIL {} median {} -> {} ({}) above --fail-above {}",
        m.metric.name(),
        figure(m.before_median, share),
        figure(m.after_median, share),
        change.join(", "),
        limit.describe()
    )
}

/// benchstat's shape, the change of the median: `+25.3 % (p=0.002,
/// n=12+12)` when significant, `~ (p=0.420, n=5+5)` when not.
fn change(m: &MetricDiff, compact: bool) -> String {
    let n = format!("n={}+{}", m.n_before, m.n_after);
    let percent = m
        .median_delta_pct
        .map_or_else(|| "-".to_string(), signed_percent);
    // A share moves in points; its relative change follows in brackets.
    let delta = match points(m) {
        Some(points) if compact => points,
        Some(points) => format!("{points} [{percent}]"),
        None => percent,
    };
    let n = if compact {
        String::new()
    } else {
        format!(", {n}")
    };
    match m.p_value {
        None => format!("{delta} (n too small for a test{n})"),
        Some(p) if m.significant => format!("{delta} ({}{n})", p_phrase(p)),
        Some(p) => format!("~ ({}{n})", p_phrase(p)),
    }
}

/// A share's change of the median in points: `+18.2 pt`.
fn points(m: &MetricDiff) -> Option<String> {
    m.median_delta_points()
        .map(|points| format!("{points:+.1} pt"))
}

fn signed_percent(delta: f64) -> String {
    format!("{delta:+.1} %")
}

fn p_number(p: f64) -> String {
    if p < 0.001 {
        "<0.001".to_string()
    } else {
        format!("{p:.3}")
    }
}

/// `p=0.014`, or `p<0.001`.
fn p_phrase(p: f64) -> String {
    if p < 0.001 {
        "p<0.001".to_string()
    } else {
        format!("p={p:.3}")
    }
}

fn p_text(p: Option<f64>) -> String {
    p.map_or_else(|| "-".to_string(), p_number)
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

fn csv(diff: &Diff) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = diff.by.iter().map(|key| key.name()).collect();
    header.extend([
        "before_total_ns",
        "after_total_ns",
        "before_mean_ns",
        "after_mean_ns",
        "delta_pct",
        "p_value",
        "q_value",
        "significant",
        "status",
        "direction",
        "test",
    ]);
    writer.write_record(&header)?;
    let optional = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for group in &diff.groups {
        let mut record: Vec<String> = diff
            .by
            .iter()
            .map(|key| group.key(*key).unwrap_or("").to_string())
            .collect();
        record.extend([
            group.before_total_ns.to_string(),
            group.after_total_ns.to_string(),
            group.before_mean_ns.to_string(),
            group.after_mean_ns.to_string(),
            optional(group.delta_pct),
            optional(group.p_value),
            optional(group.q_value),
            group.significant.to_string(),
            group.status.name().to_string(),
            group.direction.name().to_string(),
            group.test.map_or("", TestMethod::name).to_string(),
        ]);
        writer.write_record(&record)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
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
