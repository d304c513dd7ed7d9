//! A fleet's report (`report DIR`): the verdict over every host, the hosts
//! of most spin, and the locks with how their spin share spreads over the
//! hosts. Host names and keys came from inputs: shown escaped on the
//! terminal and in Markdown.

use compact_str::format_compact;

use super::cells::{Cell, TextTable};
use super::human::{maybe_duration, percent};
use super::text::{BOLD, paint, render_table, wrap};
use super::{ReportFormat, Style};
use crate::engine::fleet::{Fleet, FleetLock, HostShare, HostSummary};
use crate::engine::{GroupKey, KeyValues};
use crate::error::Result;
use crate::export::writer::{RecordWriter, WriterOptions};
use crate::export::{ExportFormat, Field, Kind, Value};
use crate::parse::Unit;
use crate::printable::markdown;

/// Hosts listed on the terminal: those of most spin share.
const HOSTS_SHOWN: usize = 10;
/// Stand-out hosts named per lock on the terminal.
const STANDOUTS_SHOWN: usize = 3;

/// The fleet's report in `format`.
pub fn render(fleet: &Fleet, format: ReportFormat, style: &Style) -> Result<String> {
    match format {
        ReportFormat::Table => Ok(text(fleet, style, false)),
        ReportFormat::Markdown => Ok(text(fleet, style, true)),
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(fleet)?;
            text.push('\n');
            Ok(text)
        }
        ReportFormat::Csv => csv(fleet, style),
    }
}

/// The terminal or Markdown report. Text from the dataset (hosts, builds,
/// keys) goes into lines and cells as it is: the table drawer and
/// [`wrap`] escape it for the terminal, [`markdown`] and the drawer for
/// Markdown.
fn text(fleet: &Fleet, style: &Style, as_markdown: bool) -> String {
    let mut out = String::new();
    for line in verdicts(fleet) {
        if as_markdown {
            out.push_str(&format!("**{}**\n\n", markdown(&line)));
        } else {
            let width = style.width.map(usize::from);
            out.push_str(&paint(&wrap(&line, width), style.color, BOLD));
            out.push('\n');
        }
    }
    if !as_markdown {
        out.push('\n');
    }
    let hosts = hosts_table(fleet);
    let heading = format!(
        "Hosts: {} of {}, by spin share",
        hosts.rows.len(),
        fleet.hosts.len()
    );
    out.push_str(&section_heading(&heading, as_markdown, style));
    let droppable = ["top lock", "off-CPU", "samples", "build"];
    out.push_str(&render_table(
        &fitted(hosts, style, &droppable),
        style,
        as_markdown,
    ));
    out.push('\n');
    let keys: Vec<&str> = fleet.by.iter().map(|key| key.name()).collect();
    let heading = format!(
        "Locks by {}: top {} of {} by wait over the fleet; spin share over the hosts with \
         Running (0 where not waited on)",
        keys.join(","),
        fleet.locks.len(),
        fleet.locks_total
    );
    out.push('\n');
    out.push_str(&section_heading(&heading, as_markdown, style));
    // The spread over hosts and who stands out are what a fleet adds.
    let droppable = [
        "rows",
        "max",
        "p50 wait",
        "class",
        "total",
        "hosts",
        "spin p90",
        "stand out",
    ];
    let locks = locks_table(fleet);
    out.push_str(&render_table(
        &fitted(locks, style, &droppable),
        style,
        as_markdown,
    ));
    out.push('\n');
    if style.ascii {
        return out.replace('µ', "u").replace('…', "~");
    }
    out
}

fn section_heading(heading: &str, as_markdown: bool, style: &Style) -> String {
    if as_markdown {
        format!("### {}\n\n", markdown(heading))
    } else {
        format!("{}\n", wrap(heading, style.width.map(usize::from)))
    }
}

fn fitted(table: TextTable, style: &Style, droppable: &[&str]) -> TextTable {
    match style.width {
        Some(width) => table.fit(
            usize::from(width),
            droppable,
            &["host", "symbol", "caller", "top lock"],
        ),
        None => table,
    }
}

/// The verdict lines: the fleet's spin, how it spreads, who stands out.
fn verdicts(fleet: &Fleet) -> Vec<String> {
    let total = &fleet.fleet;
    let builds = match fleet.builds.as_slice() {
        [one] => format!("build {one}"),
        many => format!("{} builds", many.len()),
    };
    let hosts = if total.hosts == 1 { "host" } else { "hosts" };
    let headline = if total.figures.running_ns.is_some() {
        format!(
            "spin is {} of Running, kernel_lock {}.",
            percent(total.figures.spin_share),
            percent(total.figures.kernel_lock_share),
        )
    } else {
        "no host has Running totals (thread states), so no share of the CPU is known: the \
         locks are ranked by their wait."
            .to_string()
    };
    let mut lines = vec![format!(
        "Fleet of {} {hosts} ({builds}): {headline}",
        total.hosts
    )];
    let spread = &total.host_spin_share;
    if spread.hosts > 0 {
        lines.push(format!(
            "Per host: spin share median {}, 90th percentile {} (over {} with Running).",
            percent(spread.median),
            percent(spread.p90),
            spread.hosts
        ));
    }
    if !total.standouts.is_empty() {
        lines.push(format!(
            "Standing out: {}.",
            named_hosts(&total.standouts, STANDOUTS_SHOWN)
        ));
    }
    if fleet.builds.len() > 1 {
        lines.push(format!(
            "The dataset holds builds {}: this report is over all of them; `contend diff DIR \
             --split build=A,B` compares two.",
            fleet.builds.join(", ")
        ));
    }
    lines
}

/// `web017 92.3 %, web101 88.0 % and 3 more`.
fn named_hosts(hosts: &[HostShare], shown_count: usize) -> String {
    let mut names: Vec<String> = hosts
        .iter()
        .take(shown_count)
        .map(|host| format!("{} {}", host.host, percent(Some(host.spin_share))))
        .collect();
    if hosts.len() > shown_count {
        names.push(format!("{} more", hosts.len() - shown_count));
    }
    names.join(", ")
}

fn hosts_table(fleet: &Fleet) -> TextTable {
    let mut hosts: Vec<&HostSummary> = fleet.hosts.iter().collect();
    hosts.sort_by(|a, b| {
        b.figures
            .spin_share
            .unwrap_or(-1.0)
            .total_cmp(&a.figures.spin_share.unwrap_or(-1.0))
            .then_with(|| (&a.host, &a.build).cmp(&(&b.host, &b.build)))
    });
    hosts.truncate(HOSTS_SHOWN);
    let header = [
        "host",
        "build",
        "samples",
        "running",
        "off-CPU",
        "spin",
        "kernel_lock",
        "top lock",
    ];
    let rows: Vec<Vec<Cell>> = hosts
        .iter()
        .map(|host| {
            let mark = if host.standout { " !" } else { "" };
            vec![
                Cell::from(host.host.as_str()),
                Cell::from(host.build.as_str()),
                format_compact!("{}", host.figures.samples),
                maybe_duration(host.figures.running_ns),
                maybe_duration(host.figures.off_cpu_ns),
                format_compact!("{}{mark}", percent(host.figures.spin_share)),
                percent(host.figures.kernel_lock_share),
                Cell::from(
                    host.top_lock
                        .as_ref()
                        .map_or("-".to_string(), |keys| joined(keys, &fleet.by)),
                ),
            ]
        })
        .collect();
    let highlight = hosts
        .iter()
        .enumerate()
        .filter(|(_, host)| host.standout)
        .map(|(at, _)| at)
        .collect();
    TextTable {
        header: header.map(String::from).to_vec(),
        numeric: vec![false, false, true, true, true, true, true, false],
        rows,
        highlight,
    }
}

fn locks_table(fleet: &Fleet) -> TextTable {
    let mut header: Vec<String> = vec!["#".into()];
    header.extend(fleet.by.iter().map(|key| key.name().to_string()));
    let columns = [
        "class",
        "total",
        "rows",
        "max",
        "hosts",
        "in top 5",
        "spin median",
        "spin p90",
        "p50 wait",
        "stand out",
    ];
    header.extend(columns.map(String::from));
    let mut numeric = vec![true];
    numeric.extend(fleet.by.iter().map(|_| false));
    numeric.extend([false, true, true, true, true, true, true, true, true, false]);
    let rows = fleet
        .locks
        .iter()
        .enumerate()
        .map(|(at, lock)| lock_cells(at + 1, lock, &fleet.by))
        .collect();
    TextTable {
        header,
        numeric,
        rows,
        highlight: Vec::new(),
    }
}

fn lock_cells(rank: usize, lock: &FleetLock, by: &[GroupKey]) -> Vec<Cell> {
    let mut cells: Vec<Cell> = vec![format_compact!("{rank}")];
    cells.extend(
        by.iter()
            .map(|key| Cell::from(lock.keys.get(*key).unwrap_or(""))),
    );
    let standouts = {
        let named: Vec<String> = lock
            .standouts
            .iter()
            .take(STANDOUTS_SHOWN)
            .map(|host| host.host.clone())
            .collect();
        let more = lock.standouts_total.saturating_sub(named.len());
        match (named.is_empty(), more) {
            (true, _) => "-".to_string(),
            (false, 0) => named.join(" "),
            (false, more) => format!("{} +{more}", named.join(" ")),
        }
    };
    cells.extend([
        Cell::from(lock.class.name()),
        maybe_duration(lock.total_ns),
        format_compact!("{}", lock.rows),
        maybe_duration(lock.max_ns),
        format_compact!("{}", lock.hosts_seen),
        percent(Some(lock.top5_share)),
        percent(lock.spin_share.median),
        percent(lock.spin_share.p90),
        maybe_duration(lock.p50_ns),
        Cell::from(standouts),
    ]);
    cells
}

/// A lock's keys at `by`, as one name: `kernel kernel_lock reaper`.
fn joined(keys: &KeyValues, by: &[GroupKey]) -> String {
    let parts: Vec<&str> = by.iter().filter_map(|key| keys.get(*key)).collect();
    parts.join(" ")
}

/// The locks as CSV: the `--by` keys, then their figures over the fleet.
fn csv(fleet: &Fleet, style: &Style) -> Result<String> {
    let mut fields: Vec<Field> = fleet
        .by
        .iter()
        .map(|key| Field::new(key.name(), Kind::Text))
        .collect();
    fields.extend(
        [
            ("class", Kind::Text),
            ("total_ns", Kind::Duration),
            ("spin_ns", Kind::Duration),
            ("rows", Kind::Count),
            ("events", Kind::Count),
            ("max_ns", Kind::Duration),
            ("hosts_seen", Kind::Count),
            ("hosts_in_top5", Kind::Count),
            ("top5_share", Kind::Share),
            ("spin_share_median", Kind::Share),
            ("spin_share_p90", Kind::Share),
            ("fleet_spin_share", Kind::Share),
            ("p50_ns", Kind::Duration),
            ("p90_ns", Kind::Duration),
            ("p99_ns", Kind::Duration),
            ("standouts_total", Kind::Count),
        ]
        .map(|(name, kind)| Field::new(name, kind)),
    );
    let mut out = Vec::new();
    let options = WriterOptions {
        format: ExportFormat::Csv,
        unit: Unit::Ns,
        csv: style.csv,
    };
    let mut writer = RecordWriter::new(&mut out, &fields, options)?;
    for lock in &fleet.locks {
        let ns = |value: Option<u64>| value.map_or(Value::Null, Value::Duration);
        let share = |value: Option<f64>| value.map_or(Value::Null, Value::Share);
        let mut record: Vec<Value<'_>> = fleet
            .by
            .iter()
            .map(|key| Value::Text(lock.keys.get(*key).unwrap_or("")))
            .collect();
        record.extend([
            Value::Text(lock.class.name()),
            ns(lock.total_ns),
            Value::Duration(lock.spin_ns),
            Value::Count(lock.rows),
            lock.events.map_or(Value::Null, Value::Count),
            ns(lock.max_ns),
            Value::Count(lock.hosts_seen as u64),
            Value::Count(lock.hosts_in_top5 as u64),
            Value::Share(lock.top5_share),
            share(lock.spin_share.median),
            share(lock.spin_share.p90),
            share(lock.fleet_spin_share),
            ns(lock.p50_ns),
            ns(lock.p90_ns),
            ns(lock.p99_ns),
            Value::Count(lock.standouts_total as u64),
        ]);
        writer.write(&record)?;
    }
    writer.finish()?;
    Ok(String::from_utf8(out)?)
}
