//! The chart of `contend plot`: where each sample's time goes, as SVG.
//!
//! Top panel: a stacked bar per sample of its Running time, split into
//! kernel_lock spin, other spin and work. Bottom panel: its off-CPU time,
//! with the part spent waiting on sleep locks. Inputs without thread
//! states (perf lock, lockstat) get one panel of their lock waits per
//! sample instead. Samples of several inputs stand side by side, labelled
//! by input; labels are thinned to fit, legends stand right of the bars. Drawn with plotters' SVG backend
//! (no font files needed: text is left to the SVG viewer).

use crate::error::{Error, Result};
use plotters::prelude::*;

use crate::engine::{Analysis, Metrics};

/// Colours of the parts of a bar: Okabe and Ito's palette, which readers
/// with the common colour-vision deficiencies can tell apart.
pub(super) const KERNEL_LOCK: RGBColor = RGBColor(213, 94, 0);
const OTHER_SPIN: RGBColor = RGBColor(230, 159, 0);
pub(super) const WORK: RGBColor = RGBColor(0, 158, 115);
const OFF_CPU: RGBColor = RGBColor(187, 187, 187);
pub(super) const SLEEP_WAIT: RGBColor = RGBColor(0, 114, 178);
pub(super) const OTHER_WAIT: RGBColor = RGBColor(204, 121, 167);

/// Room right of each panel for its legend, so that it covers no bar.
const LEGEND_WIDTH: u32 = 170;
/// The least room an x label needs, in pixels.
const LABEL_WIDTH: u32 = 56;
/// An x label's width per character, in pixels: plotters writes them at
/// 9.7 px, where a sans-serif font's widest characters (digits, `m`, `#`)
/// take up to 0.8 em.
const LABEL_CHAR_WIDTH: f64 = 7.0;

/// Which bars get an x label, so that no two labels overlap: the first
/// bar of each input always (its label names the input), else every
/// k-th, k as many bars as the longest label is wide, a label left out
/// where the next input's first would come too close.
fn shown_labels(bars: &[SampleBar], plot_width: u32) -> Vec<bool> {
    let longest = bars
        .iter()
        .map(|bar| bar.label.chars().count())
        .max()
        .unwrap_or(0);
    let label_width = (longest as f64 * LABEL_CHAR_WIDTH + 8.0).max(f64::from(LABEL_WIDTH));
    let bar_width = f64::from(plot_width) / bars.len().max(1) as f64;
    let every = (label_width / bar_width).ceil().max(1.0) as usize;
    let first_of_input: Vec<bool> = (0..bars.len())
        .map(|index| index == 0 || input_of(&bars[index].label) != input_of(&bars[index - 1].label))
        .collect();
    let mut shown = vec![false; bars.len()];
    let mut last: Option<usize> = None;
    for index in 0..bars.len() {
        let next_first = (index + 1..bars.len())
            .find(|&later| first_of_input[later])
            .unwrap_or(usize::MAX);
        let spaced = last.is_none_or(|last| index - last >= every);
        let room_before_next = next_first.saturating_sub(index) >= every;
        if first_of_input[index] || (index % every == 0 && spaced && room_before_next) {
            shown[index] = true;
            last = Some(index);
        }
    }
    shown
}

/// One bar of the chart: its label and its parts, nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleBar {
    /// `label#N`, or `N` with one input.
    pub label: String,
    /// kernel_lock spin, other spin, work (Running split in three).
    pub running: [u64; 3],
    /// sleep-lock wait, the rest of off-CPU time.
    pub off_cpu: [u64; 2],
    /// Lock waits alone, for inputs without thread states: kernel_lock
    /// spin, other spin, sleep wait, waits of no known class.
    pub waits: [u64; 4],
}

/// `text` as XML allows it and a reader can trust: control characters
/// (a label or a thread name can hold them; XML 1.0 forbids them), bidi
/// overrides and invisible characters shown escaped (`\r`, `\u{202e}`).
pub fn svg_text(text: &str) -> String {
    crate::printable::printable(text).into_owned()
}

/// The bars of every sample, in order.
pub fn bars(analysis: &Analysis) -> Vec<SampleBar> {
    let several = analysis.inputs.len() > 1;
    analysis
        .samples
        .iter()
        .map(|sample| {
            let label = if several {
                format!("{}#{}", svg_text(&sample.input), sample.sample)
            } else {
                sample.sample.to_string()
            };
            let m = &sample.metrics;
            let lock = m.kernel_lock_ns.min(m.spin_ns);
            SampleBar {
                label,
                running: running_parts(m),
                off_cpu: off_cpu_parts(m),
                waits: [lock, m.spin_ns - lock, m.sleep_wait_ns, m.other_wait_ns],
            }
        })
        .collect()
}

fn running_parts(metrics: &Metrics) -> [u64; 3] {
    let running = metrics.running_ns.unwrap_or(0);
    let lock = metrics.kernel_lock_ns.min(running);
    let spin = metrics.spin_ns.clamp(lock, running.max(lock));
    [lock, spin - lock, running.saturating_sub(spin)]
}

fn off_cpu_parts(metrics: &Metrics) -> [u64; 2] {
    let off_cpu = metrics.off_cpu_ns.unwrap_or(0);
    let wait = metrics.sleep_wait_ns.min(off_cpu);
    [wait, off_cpu - wait]
}

/// A unit that shows `max_ns` as a number under 1000: (name, ns per unit).
pub fn unit_for(max_ns: u64) -> (&'static str, f64) {
    match max_ns {
        0..1_000 => ("ns", 1.0),
        1_000..1_000_000 => ("µs", 1e3),
        1_000_000..1_000_000_000 => ("ms", 1e6),
        _ => ("s", 1e9),
    }
}

/// What the chart can show of the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Running and off-CPU time per sample, split by lock waits.
    States,
    /// Lock waits per sample: the inputs have no thread states (perf lock,
    /// lockstat, klockstat, btrace).
    WaitsOnly,
}

/// The chart as an SVG document, `width` x `height` pixels, and what it
/// shows.
pub fn svg(analysis: &Analysis, width: u32, height: u32) -> Result<(String, Shown)> {
    // More samples than pixels: each bar the mean of a run of samples, so
    // the SVG grows with the picture, not the input (3 million samples
    // wrote a 4 GB file).
    let (bars, per_bar) = binned(bars(analysis), (width / 2).max(1) as usize);
    if bars.is_empty() {
        return Err(Error::request("no samples to plot".to_string()));
    }
    let has_states = analysis
        .samples
        .iter()
        .any(|s| s.metrics.running_ns.is_some() || s.metrics.off_cpu_ns.is_some());
    let has_waits = bars.iter().any(|bar| bar.waits.iter().any(|&ns| ns > 0));
    if !has_states && !has_waits {
        crate::refuse!(
            "nothing to plot: the inputs have neither thread states nor lock wait times \
             (hold times and event counts are not drawn)"
        );
    }
    let labels: Vec<String> = analysis.inputs.iter().map(|i| svg_text(&i.label)).collect();
    let title = format!("Where the time goes: {}", labels.join(" vs "));
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let root = root
            .titled(&title, ("sans-serif", 22))
            .map_err(draw_error)?;
        if has_states {
            let (top, bottom) = root.split_vertically(height * 55 / 100);
            let running = bars.iter().map(|b| b.running.to_vec()).collect::<Vec<_>>();
            let off_cpu = bars.iter().map(|b| b.off_cpu.to_vec()).collect::<Vec<_>>();
            panel(
                &top,
                &bars,
                per_bar,
                &running,
                "Running time",
                &[
                    ("kernel_lock spin", KERNEL_LOCK),
                    ("other spin", OTHER_SPIN),
                    ("work", WORK),
                ],
            )?;
            panel(
                &bottom,
                &bars,
                per_bar,
                &off_cpu,
                "Off-CPU time",
                &[("sleep-lock wait", SLEEP_WAIT), ("other off-CPU", OFF_CPU)],
            )?;
        } else {
            let waits = bars.iter().map(|b| b.waits.to_vec()).collect::<Vec<_>>();
            panel(
                &root,
                &bars,
                per_bar,
                &waits,
                "Lock waits",
                &[
                    ("kernel_lock spin", KERNEL_LOCK),
                    ("other spin", OTHER_SPIN),
                    ("sleep-lock wait", SLEEP_WAIT),
                    ("wait of no known class", OTHER_WAIT),
                ],
            )?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok((
        out,
        if has_states {
            Shown::States
        } else {
            Shown::WaitsOnly
        },
    ))
}

pub(super) fn draw_error<E: std::fmt::Debug>(err: E) -> Error {
    Error::request(format!("drawing the chart: {err:?}"))
}

/// One panel: a stacked bar per sample, parts bottom to top in `parts`
/// order, y in human units.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    bars: &[SampleBar],
    per_bar: usize,
    stacks: &[Vec<u64>],
    what: &str,
    parts: &[(&str, RGBColor)],
) -> Result<()> {
    let max_ns = stacks
        .iter()
        .map(|stack| stack.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (unit, scale) = unit_for(max_ns);
    let top = max_ns as f64 / scale * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(LEGEND_WIDTH)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0f64..bars.len() as f64, 0f64..top)
        .map_err(draw_error)?;
    // Every bar labelled while the labels fit; else every k-th, always
    // the first sample of each input (its label names the input).
    let plot_width = chart.plotting_area().dim_in_pixel().0;
    let shown = shown_labels(bars, plot_width);
    let label_of = |x: &f64| -> String {
        let index = x.floor() as usize;
        let centred = (x - index as f64 - 0.5).abs() < 1e-9;
        match bars.get(index) {
            Some(bar) if centred && shown[index] => bar.label.clone(),
            _ => String::new(),
        }
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len() * 2 + 1)
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&label_of)
        .x_desc(if per_bar > 1 {
            format!("sample (each bar the mean of {per_bar} samples)")
        } else {
            "sample".to_string()
        })
        .y_desc(format!("{what} ({unit})"))
        .draw()
        .map_err(draw_error)?;
    for (part, (_, colour)) in parts.iter().enumerate() {
        let rectangles = stacks.iter().enumerate().map(|(index, stack)| {
            let below: u64 = stack[..part].iter().sum();
            let x = index as f64;
            let y0 = below as f64 / scale;
            let y1 = (below + stack[part]) as f64 / scale;
            Rectangle::new([(x + 0.15, y0), (x + 0.85, y1)], colour.filled())
        });
        chart.draw_series(rectangles).map_err(draw_error)?;
    }
    // Only the parts some bar has: a perf lock input has no kernel_lock,
    // and its legend does not list one.
    let entries: Vec<(String, ShapeStyle)> = parts
        .iter()
        .enumerate()
        .filter(|(part, _)| stacks.iter().any(|stack| stack[*part] > 0))
        .map(|(_, (name, colour))| (name.to_string(), colour.filled()))
        .collect();
    legend(
        area,
        chart.plotting_area().get_pixel_range(),
        &entries,
        LEGEND_WIDTH,
    )
}

/// A legend in the margin right of a chart's plotting area, never over
/// its data: a box, and before each name a swatch of its colour. Drawn on
/// the whole panel: plotters' own series labels are clipped to the
/// plotting area, which left their swatches 0 pixels wide out there.
pub(super) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    plotting: (std::ops::Range<i32>, std::ops::Range<i32>),
    entries: &[(String, ShapeStyle)],
    margin: u32,
) -> Result<()> {
    let (base_x, base_y) = area.get_base_pixel();
    let (x, y) = (plotting.0.end - base_x + 12, plotting.1.start - base_y + 8);
    let (width, height) = (margin as i32 - 24, 10 + 16 * entries.len() as i32);
    let frame = [(x, y), (x + width, y + height)];
    area.draw(&Rectangle::new(frame, WHITE.mix(0.8).filled()))
        .map_err(draw_error)?;
    area.draw(&Rectangle::new(frame, BLACK.stroke_width(1)))
        .map_err(draw_error)?;
    for (index, (name, style)) in entries.iter().enumerate() {
        let top = y + 8 + 16 * index as i32;
        let swatch = [(x + 8, top), (x + 18, top + 10)];
        area.draw(&Rectangle::new(swatch, style.color.filled()))
            .map_err(draw_error)?;
        let font = ("sans-serif", 12).into_font();
        area.draw(&Text::new(name.clone(), (x + 24, top), font))
            .map_err(draw_error)?;
    }
    Ok(())
}

/// The bars, or at most `most` of them: runs of `k` consecutive samples
/// of one input made one bar, their mean, labelled by the run's first;
/// and `k` (1 when every sample keeps its bar).
pub fn binned(bars: Vec<SampleBar>, most: usize) -> (Vec<SampleBar>, usize) {
    let per_bar = bars.len().div_ceil(most.max(1));
    if per_bar <= 1 {
        return (bars, 1);
    }
    let mut binned: Vec<SampleBar> = Vec::new();
    let mut run: Vec<SampleBar> = Vec::new();
    for bar in bars {
        let same_input = run
            .first()
            .is_none_or(|first| input_of(&first.label) == input_of(&bar.label));
        if run.len() == per_bar || !same_input {
            binned.push(mean_bar(&run));
            run.clear();
        }
        run.push(bar);
    }
    if !run.is_empty() {
        binned.push(mean_bar(&run));
    }
    (binned, per_bar)
}

/// One bar for a run of samples: each part's mean, the first's label.
fn mean_bar(run: &[SampleBar]) -> SampleBar {
    fn mean<const N: usize>(run: &[SampleBar], part: impl Fn(&SampleBar) -> [u64; N]) -> [u64; N] {
        let mut sums = [0u128; N];
        for bar in run {
            for (sum, ns) in sums.iter_mut().zip(part(bar)) {
                *sum += u128::from(ns);
            }
        }
        sums.map(|sum| (sum / run.len().max(1) as u128) as u64)
    }
    SampleBar {
        label: run
            .first()
            .map_or_else(String::new, |bar| bar.label.clone()),
        running: mean(run, |bar| bar.running),
        off_cpu: mean(run, |bar| bar.off_cpu),
        waits: mean(run, |bar| bar.waits),
    }
}

/// The input part of a bar label (`before` of `before#3`; empty with one
/// input).
fn input_of(label: &str) -> &str {
    label.rsplit_once('#').map_or("", |(input, _)| input)
}
