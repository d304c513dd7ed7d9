//! The human-readable reports: the terminal report and its Markdown twin.

use super::Style;
use super::boxes::{self, Look};
use compact_str::format_compact;

use super::cells::{
    Cell, GROUPS_DROPPABLE, NAME_COLUMNS, SAMPLES_KEPT, TextTable, groups_heading, groups_table,
    sample_rows, samples_table,
};
use super::histogram;
use super::holders;
use super::spark::{SAMPLES_IN_TABLE, spin_sparklines};
use super::verdict::{verdict, warning_lines};
use crate::engine::Analysis;
use crate::printable::{self, printable};

/// The terminal report: verdicts, the samples table, warnings, the ranking.
pub fn terminal(analysis: &Analysis, style: &Style) -> String {
    let width = style.width.map(usize::from);
    let mut out = String::new();
    for line in verdicts(analysis) {
        out.push_str(&paint(&wrap(&line, width), style.color, BOLD));
        out.push('\n');
    }
    out.push('\n');
    let glyphs = Glyphs::for_style(style);
    if has_times(analysis) {
        out.push_str(&samples_section(analysis, style, &glyphs));
    }
    out.push_str(&groups_section(analysis, style, &glyphs));
    if style.ascii {
        // Durations print `µs`; plain ASCII says `us`; the bar column's
        // `|` would read as the table's borders.
        return out
            .replace('µ', "u")
            .replace('…', "~")
            .replace(RUNNING_BAR, "Running: lock / spin / work");
    }
    out
}

/// A table cut to the terminal's width, dropping `droppable` columns
/// first.
fn fitted(table: TextTable, style: &Style, droppable: &[&str]) -> TextTable {
    match style.width {
        Some(width) => table.fit(usize::from(width), droppable, &NAME_COLUMNS),
        None => table,
    }
}

/// The samples table (or its total and sparklines, for many samples) and
/// its bars' legend.
fn samples_section(analysis: &Analysis, style: &Style, glyphs: &Glyphs) -> String {
    let width = style.width.map(usize::from);
    let mut out = String::new();
    let every_sample = analysis.samples.len() <= SAMPLES_IN_TABLE || style.all_samples;
    if !every_sample {
        out.push_str(&spin_sparklines(
            analysis,
            width.unwrap_or(100),
            style.ascii,
        ));
        out.push_str(&wrap(
            "(the table keeps the total; --samples all shows every sample)",
            width,
        ));
        out.push_str("\n\n");
    }
    let samples = with_sample_bars(
        samples_table(analysis, every_sample),
        analysis,
        every_sample,
        glyphs,
    );
    let droppable = samples_droppable(&samples);
    let droppable: Vec<&str> = droppable.iter().map(String::as_str).collect();
    let samples = fitted(samples, style, &droppable);
    out.push_str(&render_table(&samples, style, false));
    out.push('\n');
    if samples.header.iter().any(|h| h == RUNNING_BAR) {
        out.push_str(&wrap(&glyphs.legend(), width));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Whether any input has a time to show per sample: a thread state or a
/// lock time. count() maps have neither, and a table of zeros would read
/// as figures.
fn has_times(analysis: &Analysis) -> bool {
    let total = &analysis.total;
    !total.states_ns.is_empty()
        || total.spin_ns + total.sleep_wait_ns + total.other_wait_ns + total.hold_ns > 0
}

/// The ranking under its heading, then the histograms and the holders.
fn groups_section(analysis: &Analysis, style: &Style, glyphs: &Glyphs) -> String {
    let width = style.width.map(usize::from);
    let mut out = wrap(&groups_heading(analysis), width);
    out.push('\n');
    let groups = without_blank_columns(with_group_bars(groups_table(analysis), analysis, glyphs));
    let droppable = blank_columns_first(&groups, &GROUPS_DROPPABLE);
    let groups = fitted(groups, style, &droppable);
    out.push_str(&render_table(&groups, style, false));
    out.push('\n');
    for section in [histogram::section(analysis), holders::section(analysis)]
        .into_iter()
        .flatten()
    {
        out.push('\n');
        for line in section.lines() {
            out.push_str(&wrap(line, width));
            out.push('\n');
        }
    }
    out
}

/// `droppable` with the columns that show nothing (every cell `-`: events
/// of pivot tables) moved first, so a narrow terminal drops them before
/// columns with figures.
fn blank_columns_first<'a>(table: &TextTable, droppable: &[&'a str]) -> Vec<&'a str> {
    let blank = |name: &&str| {
        table
            .header
            .iter()
            .position(|h| h == name)
            .is_some_and(|column| table.rows.iter().all(|row| row[column] == "-"))
    };
    let (mut order, rest): (Vec<&str>, Vec<&str>) = droppable.iter().copied().partition(blank);
    order.extend(rest);
    order
}

/// The ranking without the columns that are `-` on every row: nothing
/// to show (events of pivot tables and sums, shares of Running or off-CPU
/// time where no input has it). The JSON and CSV keep every field.
fn without_blank_columns(mut table: TextTable) -> TextTable {
    if table.rows.is_empty() {
        return table;
    }
    let keep: Vec<bool> = (0..table.header.len())
        .map(|column| {
            !table
                .rows
                .iter()
                .all(|row| row.get(column).is_some_and(|cell| cell == "-"))
        })
        .collect();
    table.header = kept(table.header, &keep);
    table.numeric = kept(table.numeric, &keep);
    table.rows = std::mem::take(&mut table.rows)
        .into_iter()
        .map(|row| kept(row, &keep))
        .collect();
    table
}

/// The values whose `keep` is true.
fn kept<T>(values: Vec<T>, keep: &[bool]) -> Vec<T> {
    values
        .into_iter()
        .zip(keep)
        .filter(|(_, keep)| **keep)
        .map(|(value, _)| value)
        .collect()
}

/// The samples table's columns a narrow terminal leaves out, least wanted
/// first: sleep-lock wait, the off-CPU states, then the bar (a picture of
/// figures the table keeps); never the verdict's figures.
fn samples_droppable(table: &TextTable) -> Vec<String> {
    let mut names = vec!["sleep wait".to_string()];
    names.extend(
        table
            .header
            .iter()
            .filter(|name| {
                !SAMPLES_KEPT.contains(&name.as_str())
                    && name.as_str() != RUNNING_BAR
                    && name.as_str() != "sleep wait"
            })
            .cloned(),
    );
    names.push(RUNNING_BAR.to_string());
    names
}

/// The header of the samples table's bar column.
const RUNNING_BAR: &str = "Running: lock | spin | work";
/// The header of the ranking's bar column.
const SHARE_BAR: &str = "share of lock time";
/// Characters per bar.
const BAR_WIDTH: usize = 20;

/// The characters bars are drawn with.
struct Glyphs {
    kernel_lock: char,
    other_spin: char,
    work: char,
}

impl Glyphs {
    fn for_style(style: &Style) -> Glyphs {
        if style.ascii {
            Glyphs {
                kernel_lock: '#',
                other_spin: '+',
                work: '.',
            }
        } else {
            Glyphs {
                kernel_lock: '█',
                other_spin: '▓',
                work: '░',
            }
        }
    }

    fn legend(&self) -> String {
        format!(
            "bars: {} kernel_lock spin, {} other spin, {} work, as parts of each \
             sample's Running time",
            self.kernel_lock, self.other_spin, self.work
        )
    }
}

/// `cells` characters of `glyph`.
fn run_of(glyph: char, cells: usize) -> Cell {
    std::iter::repeat_n(glyph, cells).collect()
}

/// A bar splitting Running into kernel_lock spin, other spin and work;
/// empty without Running time. Spin past Running fills the bar.
fn running_bar(metrics: &crate::engine::Metrics, glyphs: &Glyphs) -> Cell {
    let (Some(spin), Some(lock)) = (metrics.spin_share, metrics.kernel_lock_share) else {
        return Cell::default();
    };
    let cells = |share: f64| ((share.clamp(0.0, 1.0)) * BAR_WIDTH as f64).round() as usize;
    let lock_cells = cells(lock);
    let spin_cells = cells(spin).max(lock_cells);
    format_compact!(
        "{}{}{}",
        run_of(glyphs.kernel_lock, lock_cells),
        run_of(glyphs.other_spin, spin_cells - lock_cells),
        run_of(glyphs.work, BAR_WIDTH - spin_cells)
    )
}

/// The samples table with a bar per sample (and for the total).
fn with_sample_bars(
    mut table: TextTable,
    analysis: &Analysis,
    every_sample: bool,
    glyphs: &Glyphs,
) -> TextTable {
    if analysis.total.spin_share.is_none() {
        return table;
    }
    table.header.push(RUNNING_BAR.to_string());
    table.numeric.push(false);
    let rows = sample_rows(analysis, every_sample);
    for (row, (_, _, metrics)) in table.rows.iter_mut().zip(rows) {
        row.push(running_bar(&metrics, glyphs));
    }
    table
}

/// The ranking with a bar per group for its share of all lock time.
fn with_group_bars(mut table: TextTable, analysis: &Analysis, glyphs: &Glyphs) -> TextTable {
    // Without lock time (count() values) no group has a share to draw.
    if analysis
        .groups
        .iter()
        .all(|group| group.share_of_lock_time.is_none())
    {
        return table;
    }
    table.header.push(SHARE_BAR.to_string());
    table.numeric.push(false);
    for (row, group) in table.rows.iter_mut().zip(&analysis.groups) {
        let share = group.share_of_lock_time.unwrap_or(0.0).clamp(0.0, 1.0);
        let cells = (share * BAR_WIDTH as f64).round() as usize;
        // A group too small for one cell still shows it is there, when
        // its share prints as more than 0.0 %; one that prints 0.0 % draws
        // no bar, as its figure says.
        let cells = if share >= 0.0005 { cells.max(1) } else { 0 };
        row.push(run_of(glyphs.kernel_lock, cells));
    }
    table
}

/// `text` broken at spaces into lines of at most `width` characters (a
/// longer word stays whole), continuation lines indented by two; its own
/// indentation is kept.
pub fn wrap(text: &str, width: Option<usize>) -> String {
    // Escaped first: a key or label in the line cannot act on the terminal.
    let text = &*printable(text);
    let Some(width) = width.filter(|&w| w > 20) else {
        return text.to_string();
    };
    let rest = text.trim_start_matches(' ');
    let indent = text.len() - rest.len();
    let mut words = rest.split(' ');
    let first = words.next().unwrap_or("");
    let mut out = format!("{}{first}", " ".repeat(indent));
    let mut line_len = indent + first.chars().count();
    for word in words {
        let len = word.chars().count();
        if line_len + 1 + len > width {
            out.push_str("\n  ");
            line_len = 2;
        } else {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += len;
    }
    out
}

/// The same report as Markdown, to paste into a mail or a README.
pub fn markdown(analysis: &Analysis) -> String {
    let plain = Style::default();
    let mut out = String::new();
    for line in verdicts(analysis) {
        out.push_str(&format!("**{}**\n\n", printable::markdown(&line)));
    }
    out.push_str("### Samples\n\n");
    out.push_str(&render_table(&samples_table(analysis, true), &plain, true));
    out.push_str("\n\n");
    for line in warning_lines(&analysis.warnings, false) {
        out.push_str(&format!("> {}\n\n", printable::markdown(&line)));
    }
    out.push_str(&format!(
        "### {}\n\n",
        printable::markdown(&groups_heading(analysis))
    ));
    out.push_str(&render_table(
        &without_blank_columns(groups_table(analysis)),
        &plain,
        true,
    ));
    out.push('\n');
    if let Some(section) = histogram::section(analysis) {
        out.push_str(&format!("\n```\n{section}```\n"));
    }
    if let Some(section) = holders::section(analysis) {
        out.push_str(&format!("\n```\n{section}```\n"));
    }
    out
}

/// One verdict per input, and one over all inputs when there are several.
fn verdicts(analysis: &Analysis) -> Vec<String> {
    let mut lines: Vec<String> = analysis
        .inputs
        .iter()
        .map(|input| {
            holds_or_counts_only(input).unwrap_or_else(|| {
                let mut line = verdict(
                    &input.label,
                    Some(input.format),
                    input.format.has_kernel_lock(),
                    input.samples,
                    &input.total,
                );
                let class_of = input.format.spec().lock_class;
                line.extend(holders::verdict_clause(input, class_of));
                line
            })
        })
        .collect();
    if analysis.inputs.len() > 1 {
        let samples = analysis.samples.len();
        let kernel_lock = analysis.has_kernel_lock();
        lines.push(verdict(
            "all inputs",
            None,
            kernel_lock,
            samples,
            &analysis.total,
        ));
    }
    lines
}

/// The verdict of an input with no wait times to weigh: every row a hold
/// time, set apart, or an event count (`count()` maps). "0 ns spinning"
/// would read as an answer.
fn holds_or_counts_only(input: &crate::engine::InputSummary) -> Option<String> {
    let total = &input.total;
    let waits = total.spin_ns + total.sleep_wait_ns + total.other_wait_ns + total.hold_ns;
    if waits > 0 {
        return None;
    }
    let label = format!("{} ({})", input.label, input.format.name());
    if input.counted_events > 0 {
        return Some(format!(
            "{label}: {} lock events counted in {} {}, no times (count() values): no spin \
             share; ranked by events",
            input.counted_events,
            input.samples,
            if input.samples == 1 {
                "sample"
            } else {
                "samples"
            }
        ));
    }
    (input.hold_rows > 0).then(|| {
        format!(
            "{label}: no lock waits: its {} rows are lock hold times, set apart (--events \
             hold ranks them)",
            input.hold_rows
        )
    })
}

/// A text table as terminal box drawing or as Markdown; highlighted rows
/// are red and bold when colour is on. A table that still does not fit
/// (what it keeps is wider than the terminal) runs past the edge rather
/// than split its numbers.
pub fn render_table(content: &TextTable, style: &Style, markdown: bool) -> String {
    let look = if markdown {
        Look::Markdown
    } else if style.ascii {
        Look::Ascii
    } else {
        Look::Utf8
    };
    boxes::draw(content, look, style.color && !markdown)
}

/// The ANSI select-graphic-rendition code of bold text (the verdicts).
pub const BOLD: &str = "1";

/// Wraps text in an ANSI attribute when colour is on.
pub fn paint(text: &str, color: bool, sgr: &str) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
