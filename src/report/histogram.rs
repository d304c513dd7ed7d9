//! The wait distributions of `--histogram`: each group's single waits by
//! power of two, drawn as lockstat -h draws them, under a line with its
//! count, mean and percentiles.

use super::cells::ranks_in_input;
use super::human::maybe_duration;
use crate::distribution::Octave;
use crate::engine::{Analysis, Group};

/// Characters of a bar holding every wait, as in lockstat.
const BAR_WIDTH: u64 = 30;

/// The section, or None without `--histogram`.
pub fn section(analysis: &Analysis) -> Option<String> {
    if !analysis.histogram {
        return None;
    }
    let mut out =
        String::from("Wait distributions: single waits by power of two, as lockstat -h\n");
    let ranks = ranks_in_input(analysis);
    let mut without = 0;
    for (rank, group) in ranks.iter().zip(&analysis.groups) {
        match &group.histogram {
            Some(Some(octaves)) => {
                out.push('\n');
                out.push_str(&summary_line(*rank, group, analysis));
                out.push_str(&bars(octaves));
            }
            _ => without += 1,
        }
    }
    if without == analysis.groups.len() {
        out.push_str(&not_available(analysis));
    } else if without > 0 {
        out.push_str(&format!(
            "\n({without} of the {} groups shown have no single waits to spread: their rows \
             are sums)\n",
            analysis.groups.len()
        ));
    }
    Some(out)
}

/// `#1 kernel kernel_lock reaper: 5 waits, mean 2.619 ms, p50 ...`.
fn summary_line(rank: usize, group: &Group, analysis: &Analysis) -> String {
    let keys: Vec<&str> = group
        .key_values(&analysis.by)
        .into_iter()
        .filter(|key| !key.is_empty())
        .collect();
    let events = group.events.unwrap_or(0);
    format!(
        "#{rank} {}: {events} {}, mean {}, p50 {}, p90 {}, p99 {}, max {}\n",
        keys.join(" "),
        if events == 1 { "wait" } else { "waits" },
        maybe_duration(group.mean_per_event_ns),
        maybe_duration(group.p50_ns),
        maybe_duration(group.p90_ns),
        maybe_duration(group.p99_ns),
        maybe_duration(group.max_ns),
    )
}

/// lockstat's picture: a line per power of two, its bar a share of 30.
fn bars(octaves: &[Octave]) -> String {
    let total: u64 = octaves.iter().map(|octave| octave.count).sum();
    let mut out = String::from("      nsec ------ Time Distribution ------ count\n");
    for octave in octaves {
        let cells = (u128::from(octave.count) * u128::from(BAR_WIDTH))
            .checked_div(u128::from(total))
            .unwrap_or(0) as usize;
        out.push_str(&format!(
            "{:>10} |{:<width$} {}\n",
            octave.from_ns,
            "@".repeat(cells),
            octave.count,
            width = BAR_WIDTH as usize
        ));
    }
    out
}

/// Why no group has a distribution, input by input.
fn not_available(analysis: &Analysis) -> String {
    let reasons: Vec<String> = analysis
        .inputs
        .iter()
        .map(|input| format!("{}: {}", input.label, input.format.waits_hint()))
        .collect();
    format!("not available: {}\n", reasons.join("; "))
}
