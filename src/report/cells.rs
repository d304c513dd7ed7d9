//! The report's tables as text cells, shared by the terminal and Markdown
//! renderers so both show the same figures.

use compact_str::{CompactString, ToCompactString, format_compact};

use super::human::{duration, maybe_duration, percent, signed_duration};
use crate::engine::model::{RUNNING, SortKey};
use crate::engine::{Analysis, Group, GroupKey, Metrics};

/// A table cell: up to 24 bytes without a heap allocation.
pub type Cell = CompactString;

/// A table as header and rows of text, with the numeric columns marked so
/// renderers can right-align them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextTable {
    /// Column names.
    pub header: Vec<String>,
    /// True for columns to right-align.
    pub numeric: Vec<bool>,
    /// Cells, one vector per row.
    pub rows: Vec<Vec<Cell>>,
    /// Indices of rows to make stand out.
    pub highlight: Vec<usize>,
}

impl TextTable {
    /// The width the table takes with every cell on one line: the widest
    /// cell of each column plus comfy-table's borders and padding.
    pub fn natural_width(&self) -> usize {
        total_width(&self.column_widths())
    }

    /// The widest cell of each column, in characters: one pass over the
    /// rows, each row's cells read together (a pass per column reads every
    /// row once per column, out of cache for 200 000 rows).
    pub fn column_widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.header.iter().map(|name| text_width(name)).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(text_width(cell));
            }
        }
        widths
    }

    /// The table fitted to `width`: the columns named in `droppable`
    /// (least wanted first) dropped one at a time until it fits, then the
    /// names in the `shortenable` columns cut with `…`, widest column
    /// first. At 80 columns a shorter table reads better than every cell
    /// wrapped in three, and a number is never split.
    pub fn fit(mut self, width: usize, droppable: &[&str], shortenable: &[&str]) -> TextTable {
        // Widths are measured once and kept up to date: measuring is a
        // pass over every cell, and a ranking may have 200 000 rows.
        let mut widths = self.column_widths();
        for name in droppable {
            if total_width(&widths) <= width {
                break;
            }
            // What explains a row (its class, the q that decides its `*`)
            // stays while shorter names make room for it.
            if EXPLAINING.contains(name)
                && self.width_with_short_names(&widths, shortenable) <= width
            {
                break;
            }
            if let Some(column) = self.header.iter().position(|h| h == name) {
                self.header.remove(column);
                self.numeric.remove(column);
                widths.remove(column);
                for row in &mut self.rows {
                    row.remove(column);
                }
            }
        }
        self.shorten(width, shortenable, widths)
    }

    /// Cuts the longest names of the `shortenable` columns until the table
    /// fits `width`: the widest down to the next widest first, then all of
    /// them alike (so that no one column is cut to a stub while another
    /// keeps its whole names), keeping at least [`MIN_NAME`] characters of
    /// each and its header whole.
    fn shorten(mut self, width: usize, shortenable: &[&str], widths: Vec<usize>) -> TextTable {
        let natural = total_width(&widths);
        if natural <= width {
            return self;
        }
        let columns: Vec<(usize, usize, usize)> = shortenable
            .iter()
            .filter_map(|name| self.header.iter().position(|h| h == name))
            .map(|column| {
                let floor = MIN_NAME.max(self.header[column].chars().count());
                (column, widths[column], floor)
            })
            .collect();
        let level = cut_level(&columns, natural - width);
        for (column, current, floor) in columns {
            let target = level.max(floor);
            if target < current {
                for row in &mut self.rows {
                    cut(&mut row[column], target);
                }
            }
        }
        self
    }

    /// The table's width were the `shortenable` columns cut to
    /// [`SHORT_NAME`] characters.
    fn width_with_short_names(&self, widths: &[usize], shortenable: &[&str]) -> usize {
        let cut: Vec<usize> = widths
            .iter()
            .zip(&self.header)
            .map(|(&width, header)| {
                if shortenable.contains(&header.as_str()) {
                    width.min(SHORT_NAME.max(header.chars().count()))
                } else {
                    width
                }
            })
            .collect();
        total_width(&cut)
    }
}

/// The highest width `level` to which cutting the columns (column,
/// width, floor) saves `excess` characters, or their floors when no level
/// does.
fn cut_level(columns: &[(usize, usize, usize)], excess: usize) -> usize {
    let saved = |level: usize| -> usize {
        columns
            .iter()
            .map(|&(_, width, floor)| width.saturating_sub(level.max(floor)))
            .sum()
    };
    let widest = columns
        .iter()
        .map(|&(_, width, _)| width)
        .max()
        .unwrap_or(0);
    (0..=widest)
        .rev()
        .find(|&level| saved(level) >= excess)
        .unwrap_or(0)
}

/// The width of a table whose columns are `widths` wide: comfy-table's
/// borders and padding take 3 characters a column, and one more.
fn total_width(widths: &[usize]) -> usize {
    widths.iter().map(|width| width + 3).sum::<usize>() + 1
}

/// The characters of a cell: its bytes when ASCII, which most cells are
/// and which is quicker to tell than counting.
pub fn text_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// The fewest characters a shortened name keeps (with its `…`).
const MIN_NAME: usize = 5;

/// The characters a name keeps where a column that explains the rows
/// ([`EXPLAINING`]) needs its room.
const SHORT_NAME: usize = 12;

/// Columns a narrow terminal keeps by shortening names to [`SHORT_NAME`]
/// rather than drop: a ranking's `class` says why a sleep lock with the
/// largest wait sits below the spin locks, and a diff's `q` decides its
/// `*` or `~`.
pub const EXPLAINING: [&str; 2] = ["class", "q"];

/// `text` cut to `max` characters by a `…` in its middle: names of one
/// family differ at either end (`reaper-before`, `reaper-after`,
/// `uvm_map_entry_kmem_pool`).
fn cut(text: &mut Cell, max: usize) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > max {
        let tail = (max - 1) / 2;
        let head = max - 1 - tail;
        let head: String = chars[..head].iter().collect();
        let tail: String = chars[chars.len() - tail..].iter().collect();
        *text = format_compact!("{head}…{tail}");
    }
}

/// Key columns whose names a narrow terminal shortens.
pub const NAME_COLUMNS: [&str; 4] = ["input", "category", "symbol", "caller"];

/// Columns of the ranking a narrow terminal leaves out, least wanted first.
pub const GROUPS_DROPPABLE: [&str; 13] = [
    "share of lock time",
    "cum %",
    "p90",
    "p50",
    "samples",
    "mean/sample",
    "mean/event",
    "events",
    "p99",
    "max",
    "% locks",
    "% off-CPU",
    "class",
];

/// Columns of the samples table a narrow terminal keeps whatever the
/// width: the verdict's own figures.
pub const SAMPLES_KEPT: [&str; 8] = [
    "input",
    "sample",
    "Running",
    "spin",
    "kernel_lock",
    "work",
    "spin %",
    "all",
];

/// The per-sample table, with a last row `all` for the total; without
/// `every_sample`, only the totals ([`sample_rows`]).
pub fn samples_table(analysis: &Analysis, every_sample: bool) -> TextTable {
    let show_input = analysis.inputs.len() > 1;
    let states = state_names(analysis);
    let mut header = Vec::new();
    let mut numeric = Vec::new();
    if show_input {
        header.push("input".to_string());
        numeric.push(false);
    }
    header.push("sample".to_string());
    numeric.push(true);
    for state in &states {
        header.push(state.clone());
        numeric.push(true);
    }
    let kernel_lock = analysis.has_kernel_lock();
    for name in ["spin", "kernel_lock", "work", "spin %", "sleep wait"] {
        if name == "kernel_lock" && !kernel_lock {
            continue;
        }
        header.push(name.to_string());
        numeric.push(true);
    }
    let rows = sample_rows(analysis, every_sample)
        .into_iter()
        .map(|(input, sample, metrics)| {
            let mut row = Vec::new();
            if show_input {
                row.push(input);
            }
            row.push(sample);
            row.extend(metric_cells(&metrics, &states, kernel_lock));
            row
        })
        .collect();
    TextTable {
        header,
        numeric,
        rows,
        highlight: Vec::new(),
    }
}

/// The samples table's rows as (input, sample, figures): every sample's
/// then the `all` row, or (when the samples are too many to list) only
/// each input's `all` row where there are several.
pub fn sample_rows(analysis: &Analysis, every_sample: bool) -> Vec<(Cell, Cell, Metrics)> {
    let several = analysis.inputs.len() > 1;
    let mut rows: Vec<(Cell, Cell, Metrics)> = Vec::new();
    if every_sample {
        rows.extend(analysis.samples.iter().map(|sample| {
            let sample_number = sample.sample.to_compact_string();
            (Cell::from(&*sample.input), sample_number, sample.metrics)
        }));
    } else if several {
        rows.extend(analysis.inputs.iter().enumerate().map(|(index, input)| {
            let total = analysis.samples.table_total(Some(index));
            (Cell::from(&*input.label), Cell::const_new("all"), total)
        }));
        return rows;
    }
    let (input, sample) = if several { ("all", "") } else { ("", "all") };
    rows.push((
        Cell::const_new(input),
        Cell::const_new(sample),
        analysis.samples.table_total(None),
    ));
    rows
}

/// The ranking table, one row per group, numbered.
pub fn groups_table(analysis: &Analysis) -> TextTable {
    let mut header = vec!["#".to_string()];
    let mut numeric = vec![true];
    for name in analysis.key_names() {
        header.push(name.to_string());
        numeric.push(false);
    }
    let shown = GroupColumns::of(&analysis.groups);
    for name in shown.names() {
        header.push(name.to_string());
        numeric.push(name != "class");
    }
    let rows = ranks_in_input(analysis)
        .into_iter()
        .zip(&analysis.groups)
        .map(|(rank, group)| group_cells(rank, group, &analysis.by, shown, header.len() + 1))
        .collect();
    TextTable {
        header,
        numeric,
        rows,
        highlight: Vec::new(),
    }
}

/// The heading above the ranking: what it groups by and what it shows.
pub fn groups_heading(analysis: &Analysis) -> String {
    let keys: Vec<&str> = analysis.by.iter().map(|key| key.name()).collect();
    let shown = analysis.groups.len();
    let total = analysis.groups_total;
    let groups = if total == 1 { "group" } else { "groups" };
    let range = if shown < total {
        format!("top {shown} of {total} {groups}")
    } else {
        format!("{total} {groups}")
    };
    let per_input = if analysis.per_input {
        ", ranked per input"
    } else {
        ""
    };
    let total = &analysis.total;
    let holds_only =
        total.hold_ns > 0 && total.spin_ns + total.sleep_wait_ns + total.other_wait_ns == 0;
    let waits = total.spin_ns + total.sleep_wait_ns + total.other_wait_ns + total.hold_ns;
    let order = match analysis.sort {
        // count() values: equal (absent) times, so the tie on events ranks.
        SortKey::Total if waits == 0 && analysis.groups.iter().any(|g| g.total_ns.is_none()) => {
            "events (count() values have no times)"
        }
        SortKey::Total if total.running_ns.is_none() => {
            "total wait (no input has Running time to take shares of)"
        }
        sort => sort.described(),
    };
    format!(
        "Lock {} by {}: {range}, by {order}{per_input}",
        if holds_only { "holds" } else { "waits" },
        keys.join(", "),
    )
}

/// `Running` first (it is the one the verdict uses), then the others by name.
fn state_names(analysis: &Analysis) -> Vec<String> {
    let mut names: Vec<String> = analysis.total.states_ns.keys().cloned().collect();
    names.sort_by_key(|name| (name != RUNNING, name.clone()));
    names
}

/// A sample's figures in the samples table's order; the kernel_lock
/// column only where an input can show it.
fn metric_cells(metrics: &Metrics, states: &[String], kernel_lock: bool) -> Vec<Cell> {
    let mut cells: Vec<Cell> = states
        .iter()
        .map(|state| maybe_duration(metrics.states_ns.get(state).copied()))
        .collect();
    cells.push(duration(metrics.spin_ns));
    if kernel_lock {
        cells.push(duration(metrics.kernel_lock_ns));
    }
    cells.push(
        metrics
            .work_ns
            .map_or_else(|| Cell::const_new("-"), signed_duration),
    );
    cells.push(percent(metrics.spin_share));
    cells.push(duration(metrics.sleep_wait_ns));
    cells
}

/// The 1-based rank of each of `analysis.groups`, counted within its input
/// under `--per-input`.
pub fn ranks_in_input(analysis: &Analysis) -> Vec<usize> {
    // One pass with a count per input: a count over the groups before each
    // one was quadratic (minutes for 200 000 groups).
    let mut seen: std::collections::HashMap<Option<&str>, usize> = Default::default();
    analysis
        .groups
        .iter()
        .map(|group| {
            let rank = seen.entry(group.input.as_deref()).or_insert(0);
            *rank += 1;
            *rank
        })
        .collect()
}

/// Which of the ranking's optional columns have something to show: a
/// mean per event where some group's events are known, percentiles where
/// some group has single waits.
#[derive(Debug, Clone, Copy)]
struct GroupColumns {
    mean_per_event: bool,
    percentiles: bool,
}

impl GroupColumns {
    fn of(groups: &[Group]) -> Self {
        GroupColumns {
            mean_per_event: groups.iter().any(|g| g.mean_per_event_ns.is_some()),
            percentiles: groups.iter().any(|g| g.p50_ns.is_some()),
        }
    }

    fn names(self) -> Vec<&'static str> {
        let mut names = vec!["class", "total", "events", "samples", "mean/sample"];
        if self.mean_per_event {
            names.push("mean/event");
        }
        if self.percentiles {
            names.extend(["p50", "p90", "p99"]);
        }
        names.extend(["max", "% locks", "% running", "% off-CPU", "cum %"]);
        names
    }
}

/// A group's row of the ranking, in a vector of `room` cells: one more
/// than the columns, for the bar the terminal adds, so that no row grows
/// twice.
fn group_cells(
    rank: usize,
    group: &Group,
    by: &[GroupKey],
    shown: GroupColumns,
    room: usize,
) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(room);
    cells.push(rank.to_compact_string());
    cells.extend(group.key_values(by).into_iter().map(Cell::from));
    cells.extend([
        Cell::const_new(group.class.name()),
        maybe_duration(group.total_ns),
        group
            .events
            .map_or_else(|| Cell::const_new("-"), |events| events.to_compact_string()),
        group.samples_seen.to_compact_string(),
        maybe_duration(group.mean_ns),
    ]);
    if shown.mean_per_event {
        cells.push(maybe_duration(group.mean_per_event_ns));
    }
    if shown.percentiles {
        cells.extend([group.p50_ns, group.p90_ns, group.p99_ns].map(maybe_duration));
    }
    cells.extend([
        maybe_duration(group.max_ns),
        percent(group.share_of_lock_time),
        percent(group.share_of_running),
        off_cpu_share(group.share_of_off_cpu),
        percent(group.cumulative_share),
    ]);
    cells
}

/// A group's share of the off-CPU time; a sleep-lock wait can outlast the
/// sleep (begun while the thread still ran, ended after it woke), and a
/// share of a whole above the whole reads as an error: `>100 %`, with the
/// exact ratio in the JSON.
fn off_cpu_share(share: Option<f64>) -> CompactString {
    match share {
        Some(share) if share > 1.0 => CompactString::const_new(">100 %"),
        share => percent(share),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_to_a_like_length_widest_first() {
        // symbol 16 wide, caller 17, category at its header's 8: 9 too
        // many cut both to 12 (4 + 5), not the caller to 8.
        let columns = [(0, 8, 8), (1, 16, 5), (2, 17, 5)];
        assert_eq!(cut_level(&columns, 9), 12);
        // One too many: only the widest gives it up.
        assert_eq!(cut_level(&columns, 1), 16);
        // More than every column can give: their floors.
        assert_eq!(cut_level(&columns, 100), 0);
    }
}
