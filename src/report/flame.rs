//! Lock-wait flame graphs: the waits by call stack, drawn by inferno (the
//! Rust FlameGraph) as an interactive SVG (search, zoom, a tooltip per
//! frame with its time and share). `diff --flame` draws the after side
//! with only the significant changes coloured.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::refuse;
use inferno::flamegraph::{self, Options, color::BackgroundColor};

use crate::engine::GroupKey;
use crate::engine::diff::{Diff, GroupDiff};
use crate::facts::InputFacts;
use crate::printable::printable;

/// The inputs whose waits carry call stacks, and what to say of one that
/// has none.
fn stacks_of(inputs: &[InputFacts]) -> Result<()> {
    let without: Vec<String> = inputs
        .iter()
        .filter(|input| input.stacks.is_empty())
        .map(|input| format!("{} ({})", input.label, input.format.name()))
        .collect();
    if without.is_empty() {
        return Ok(());
    }
    refuse!(
        "{}: no call stacks to draw; --flame draws the stacks printed with the waits: \
         btrace and bpftrace maps keyed by kstack, perf lock contention -v, klockstat -s, \
         lockstat -s",
        without.join(", ")
    )
}

/// Whether the stacks weigh events (count() maps), not nanoseconds.
fn counts_events<'a>(mut inputs: impl Iterator<Item = &'a InputFacts>) -> bool {
    inputs.all(|input| input.stats.counted_events > 0)
}

/// A frame as inferno reads it: shown escaped (no control character reaches
/// a viewer), with no `;` (the frame separator) and no blank.
fn frame(text: &str) -> String {
    printable(text)
        .chars()
        .map(|c| match c {
            ';' => ':',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect()
}

/// `stack` with its frames made safe, under `root` when given.
fn folded(root: Option<&str>, stack: &str) -> String {
    let frames = stack.split(';').map(frame);
    root.map(frame)
        .into_iter()
        .chain(frames)
        .collect::<Vec<_>>()
        .join(";")
}

/// The options shared by both graphs: deterministic colours (the same
/// input draws the same picture), the unit in the tooltips.
fn options(title: String, subtitle: String, width: u32, unit: &str) -> Options<'static> {
    let mut options = Options::default();
    options.title = title;
    options.subtitle = Some(subtitle);
    options.count_name = unit.to_string();
    options.image_width = Some(width as usize);
    options.deterministic = true;
    options.bgcolors = Some(BackgroundColor::Flat((255, 255, 255).into()));
    options
}

/// Draws folded `lines` (`stack weight [weight]`).
fn draw(options: &mut Options<'_>, lines: &[String]) -> Result<String> {
    let mut out = Vec::new();
    flamegraph::from_lines(options, lines.iter().map(String::as_str), &mut out)
        .map_err(|err| Error::request(format!("drawing the flame graph: {err}")))?;
    String::from_utf8(out).map_err(|err| Error::request(format!("drawing the flame graph: {err}")))
}

/// The flame graph of the inputs' waits, `width` pixels wide; under a root
/// frame per input when there are several.
pub fn svg(inputs: &[InputFacts], width: u32) -> Result<String> {
    stacks_of(inputs)?;
    let several = inputs.len() > 1;
    let mut weights: BTreeMap<String, u64> = BTreeMap::new();
    for input in inputs {
        let root = several.then_some(input.label.as_str());
        for ((_, stack), weight) in &input.stacks {
            let sum = weights.entry(folded(root, stack)).or_default();
            *sum = sum.saturating_add(*weight);
        }
    }
    let total: u64 = weights.values().fold(0, |all, w| all.saturating_add(*w));
    let unit = if counts_events(inputs.iter()) {
        "events"
    } else {
        "ns"
    };
    let labels: Vec<&str> = inputs.iter().map(|input| input.label.as_str()).collect();
    let subtitle = format!(
        "{}: {total} {unit} of lock waits in {} stacks; width: share of the waits",
        printable(&labels.join(", ")),
        weights.len()
    );
    let lines: Vec<String> = weights
        .iter()
        .map(|(stack, weight)| format!("{stack} {weight}"))
        .collect();
    draw(
        &mut options("Lock waits by call stack".into(), subtitle, width, unit),
        &lines,
    )
}

/// The group a stack's waits belong to in the diff: its key projected on
/// the diff's `--by`.
fn group_of<'d>(diff: &'d Diff, input: &InputFacts, key: u32) -> Option<&'d GroupDiff> {
    let fact = &input.keys[key as usize];
    let values: Vec<&str> = diff
        .by
        .iter()
        .map(|by| {
            input.key(match by {
                GroupKey::Category => fact.category,
                GroupKey::Symbol => fact.symbol,
                GroupKey::Caller => fact.caller,
                GroupKey::Holder => fact.holder,
            })
        })
        .collect();
    diff.groups.iter().find(|group| {
        diff.by
            .iter()
            .zip(&values)
            .all(|(by, value)| group.key(*by).unwrap_or("") == *value)
    })
}

/// How a stack is drawn in the differential graph.
#[derive(Debug, Clone, Copy, Default)]
struct Sides {
    before: u64,
    after: u64,
    /// Its group's change is significant (the diff's own test).
    significant: bool,
}

/// The differential flame graph: the after side's stacks, as wide as their
/// wait after; a frame is red or blue only where its group's change is
/// significant by the diff's test (q < alpha), white where the data cannot
/// tell it from noise. Stacks seen only before are drawn at their before
/// width under a `(gone)` frame, those seen only after under `(new)`.
pub fn diff_svg(
    diff: &Diff,
    before: &InputFacts,
    after: &InputFacts,
    width: u32,
) -> Result<String> {
    stacks_of(std::slice::from_ref(before))?;
    stacks_of(std::slice::from_ref(after))?;
    let mut stacks: BTreeMap<String, Sides> = BTreeMap::new();
    for (input, is_after) in [(before, false), (after, true)] {
        for ((key, stack), weight) in &input.stacks {
            let sides = stacks.entry(folded(None, stack)).or_default();
            if is_after {
                sides.after = sides.after.saturating_add(*weight);
            } else {
                sides.before = sides.before.saturating_add(*weight);
            }
            sides.significant |= group_of(diff, input, *key).is_some_and(|g| g.significant);
        }
    }
    let lines: Vec<String> = stacks
        .iter()
        .map(|(stack, sides)| differential_line(stack, *sides))
        .collect();
    let unit = if counts_events([before, after].into_iter()) {
        "events"
    } else {
        "ns"
    };
    let subtitle = format!(
        "{} -> {}: width: wait after; red: a significant rise, blue: a significant fall \
         (q < {}), white: not told from noise; (new) and (gone): stacks seen on one side only",
        printable(&diff.before.label),
        printable(&diff.after.label),
        diff.alpha
    );
    draw(
        &mut options("Lock waits: what changed".into(), subtitle, width, unit),
        &lines,
    )
}

/// One line of the differential graph's input (`stack first second`:
/// inferno draws `second` wide, coloured by `second - first`).
fn differential_line(stack: &str, sides: Sides) -> String {
    let Sides {
        before,
        after,
        significant,
    } = sides;
    match (before, after) {
        // Drawn at its before width; its colour the fall to nothing.
        (before, 0) => {
            let first = if significant {
                before.saturating_mul(2)
            } else {
                before
            };
            format!("(gone);{stack} {first} {before}")
        }
        (0, after) => {
            let first = if significant { 0 } else { after };
            format!("(new);{stack} {first} {after}")
        }
        (before, after) => {
            let first = if significant { before } else { after };
            format!("{stack} {first} {after}")
        }
    }
}
