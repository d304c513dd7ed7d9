//! `contend plot --over-time`: the spin share and the kernel_lock share of
//! Running, sample by sample, as lines: for inputs with many samples (a
//! capture cut into windows, a btrace script printing every second), where
//! a bar per sample would be too thin to read.

use crate::error::Result;
use plotters::prelude::*;

use super::plot::{KERNEL_LOCK, OTHER_WAIT, SLEEP_WAIT, WORK, draw_error, legend, svg_text};
use crate::engine::Analysis;

/// A sample's number, spin share and kernel_lock share: what the lines
/// need of it (millions of samples' whole summaries would not fit).
type Shares = (u32, Option<f64>, Option<f64>);

/// One colour per input, in input order: the bar chart's Okabe-Ito
/// colours.
const INPUT_COLOURS: [RGBColor; 4] = [KERNEL_LOCK, SLEEP_WAIT, WORK, OTHER_WAIT];

/// Room right of the chart for its legend.
const LEGEND_WIDTH: u32 = 230;

/// The chart as an SVG document, `width` x `height` pixels. Refused when
/// no sample has Running time (no share to draw).
pub fn svg(analysis: &Analysis, width: u32, height: u32) -> Result<String> {
    if analysis
        .samples
        .iter()
        .all(|s| s.metrics.spin_share.is_none())
    {
        crate::refuse!(
            "nothing to plot over time: no sample has Running time, and --over-time draws \
             shares of it (without --over-time, plot draws lock waits per sample)"
        );
    }
    let most_samples = analysis.inputs.iter().map(|i| i.samples).max().unwrap_or(1);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let root = root
            .titled("Spin share of Running per sample", ("sans-serif", 22))
            .map_err(draw_error)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(LEGEND_WIDTH)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(1f64..(most_samples.max(2)) as f64, 0f64..100f64)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            // Samples are whole numbers: `5`, never `5.0`; ticks between
            // them stay unlabelled. The light minor grid is left out: it
            // competed with the lines.
            .x_label_formatter(&|x: &f64| {
                if x.fract().abs() < 1e-9 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y: &f64| format!("{y:.0}"))
            .light_line_style(TRANSPARENT)
            .x_desc("sample")
            .y_desc("% of Running")
            .draw()
            .map_err(draw_error)?;
        let mut entries: Vec<(String, ShapeStyle)> = Vec::new();
        for (index, input) in analysis.inputs.iter().enumerate() {
            let colour = INPUT_COLOURS[index % INPUT_COLOURS.len()];
            let samples: Vec<Shares> = analysis
                .samples
                .of_input(index)
                .map(|s| (s.sample, s.metrics.spin_share, s.metrics.kernel_lock_share))
                .collect();
            let label = svg_text(&input.label);
            let spin = |s: &Shares| (s.0, s.1);
            draw_line(
                &mut chart,
                &mut entries,
                &samples,
                spin,
                colour.stroke_width(2),
                &format!("{label} spin"),
            )?;
            if input.format.has_kernel_lock() {
                let lock = |s: &Shares| (s.0, s.2);
                let style = colour.mix(0.5).stroke_width(1);
                draw_line(
                    &mut chart,
                    &mut entries,
                    &samples,
                    lock,
                    style,
                    &format!("{label} kernel_lock"),
                )?;
            }
        }
        legend(
            &root,
            chart.plotting_area().get_pixel_range(),
            &entries,
            LEGEND_WIDTH,
        )?;
        root.present().map_err(draw_error)?;
    }
    Ok(out)
}

/// At most `most` points: runs of consecutive points made one, at their
/// means (a run without any point stays a gap).
fn thinned(points: &[Option<(f64, f64)>], most: usize) -> Vec<Option<(f64, f64)>> {
    let per_point = points.len().div_ceil(most.max(1)).max(1);
    if per_point == 1 {
        return points.to_vec();
    }
    points
        .chunks(per_point)
        .map(|run| {
            let known: Vec<(f64, f64)> = run.iter().flatten().copied().collect();
            (!known.is_empty()).then(|| {
                let count = known.len() as f64;
                let (x, y) = known
                    .iter()
                    .fold((0.0, 0.0), |(x, y), point| (x + point.0, y + point.1));
                (x / count, y / count)
            })
        })
        .collect()
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// One line through the samples' shares, in percent, broken where a
/// sample has none (no Running time); its legend entry added once.
fn draw_line(
    chart: &mut Chart<'_, '_>,
    entries: &mut Vec<(String, ShapeStyle)>,
    samples: &[Shares],
    share: impl Fn(&Shares) -> (u32, Option<f64>),
    style: ShapeStyle,
    label: &str,
) -> Result<()> {
    let points: Vec<Option<(f64, f64)>> = samples
        .iter()
        .map(|s| {
            let (sample, value) = share(s);
            value.map(|v| (f64::from(sample), v * 100.0))
        })
        .collect();
    // A point per pixel column at most (the mean of the samples in it):
    // the SVG grows with the picture, not with millions of samples.
    let points = thinned(&points, chart.plotting_area().dim_in_pixel().0 as usize);
    for run in points.split(Option::is_none).filter(|run| !run.is_empty()) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                run.iter().flatten().copied().collect::<Vec<_>>(),
                style,
            )))
            .map_err(draw_error)?;
    }
    entries.push((label.to_string(), style));
    Ok(())
}
