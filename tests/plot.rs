//! `contend plot`: the SVG read back, its bars measured.

use crate::util::{SEED, run, scratch_dir};

/// Fill colours of the chart's parts (src/report/plot.rs): Okabe and
/// Ito's colour-blind-safe palette.
const KERNEL_LOCK: &str = "#D55E00";
const OTHER_SPIN: &str = "#E69F00";
const WORK: &str = "#009E73";
const SLEEP_WAIT: &str = "#0072B2";
const OTHER_WAIT: &str = "#CC79A7";

/// (x, y, height) of every `<rect>` filled with `colour`.
fn rects(svg: &str, colour: &str) -> Vec<(i64, i64, i64)> {
    let attribute = |rect: &str, name: &str| -> i64 {
        let start = rect.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        let end = start + rect[start..].find('"').unwrap();
        rect[start..end].parse().unwrap()
    };
    svg.split("<rect")
        .skip(1)
        .map(|rest| &rest[..rest.find('>').unwrap()])
        .filter(|rect| rect.contains(&format!("fill=\"{colour}\"")))
        .map(|rect| {
            (
                attribute(rect, "x"),
                attribute(rect, "y"),
                attribute(rect, "height"),
            )
        })
        .collect()
}

fn plot(args: &[&str], name: &str) -> String {
    let path = scratch_dir(name).join("chart.svg");
    let mut all = vec!["plot", "-o", path.to_str().unwrap()];
    all.extend(args);
    let run = run(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_seed_chart_has_five_bars_as_high_as_running() {
    let svg = plot(&[SEED], "plot_seed");
    assert!(svg.starts_with("<svg width=\"900\" height=\"600\""));
    assert!(svg.contains("Where the time goes: openbsd-reaper-make-j32"));
    assert!(svg.contains("Running time (ms)") && svg.contains("Off-CPU time (ms)"));
    for label in ["kernel_lock spin", "other spin", "work", "sleep-lock wait"] {
        assert!(svg.contains(label), "{label}");
    }
    // One bar of each part per sample, left to right.
    let lock = rects(&svg, KERNEL_LOCK);
    let other = rects(&svg, OTHER_SPIN);
    let work = rects(&svg, WORK);
    // The legend draws one more rectangle of each colour.
    assert_eq!((lock.len(), other.len(), work.len()), (6, 6, 6));
    let heights: Vec<i64> = (0..5).map(|i| lock[i].2 + other[i].2 + work[i].2).collect();
    let xs: Vec<i64> = lock[..5].iter().map(|r| r.0).collect();
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    // Heights follow Running: 4.384, 3.236, 3.868, 7.508, 2.780 ms.
    let running = [4.384, 3.236, 3.868, 7.508, 2.780];
    let pixels_per_ms = heights[3] as f64 / running[3];
    for (height, ms) in heights.iter().zip(running) {
        assert!(
            (*height as f64 - ms * pixels_per_ms).abs() <= 3.0,
            "{heights:?} against {running:?}"
        );
    }
    // Sample 4 is nearly all kernel_lock (87.3 %).
    assert!(lock[3].2 as f64 / heights[3] as f64 > 0.85);
    // Sleep-lock wait shows in samples 1 and 2 (12.4 and 12.9 ms).
    assert!(rects(&svg, SLEEP_WAIT).iter().filter(|r| r.2 > 0).count() >= 2);
}

#[test]
fn two_inputs_side_by_side() {
    let svg = plot(
        &[
            "--label",
            "before",
            "--label",
            "after",
            "fixtures/diff/reaper-before.txt",
            "fixtures/diff/reaper-after.txt",
            "--size",
            "1400x700",
        ],
        "plot_two",
    );
    assert!(svg.starts_with("<svg width=\"1400\" height=\"700\""));
    assert!(svg.contains("Where the time goes: before vs after"));
    let label = |text: &str| svg.contains(&format!("\n{text}\n</text>"));
    assert!(label("before#1") && label("after#1"));
    let lock = rects(&svg, KERNEL_LOCK);
    assert_eq!(lock.len(), 24 + 1);
    // The legend's swatch (the last) stands right of every bar.
    let (legend, bars) = lock.split_last().unwrap();
    assert!(bars.iter().all(|bar| bar.0 + 20 < legend.0), "{lock:?}");
    // 24 labels do not fit 1400 pixels side by side: every other one, and
    // the first of each input.
    for shown in ["before#1", "before#3", "after#1", "after#3"] {
        assert!(label(shown), "{shown}");
    }
    assert!(!label("before#2") && !label("after#12"));
}

#[test]
fn inputs_without_thread_states_chart_their_lock_waits() {
    let dir = scratch_dir("plot_waits");
    let path = dir.join("chart.svg");
    let run = run(&[
        "plot",
        "fixtures/real/perf-lock-contention-lkml-traceiter-before-after.txt",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains(
        "the inputs have no thread states: the chart shows lock waits per sample, not where \
         Running time goes"
    ));
    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.contains("Lock waits (s)") && !svg.contains("Running time"));
    // Three tables, three samples: spin (rwlock:W, spinlock) and sleep
    // (mutex, rwsem) bars, plus each legend swatch.
    assert_eq!(rects(&svg, OTHER_SPIN).len(), 3 + 1);
    assert_eq!(rects(&svg, SLEEP_WAIT).len(), 3 + 1);
    // No wait of an unknown class: its (empty) bars, and no legend entry.
    assert_eq!(rects(&svg, OTHER_WAIT).len(), 3);
    assert!(!svg.contains("wait of no known class"));
    // Hold times only: nothing to draw, and nothing written.
    let holds = dir.join("holds.svg");
    let run = crate::util::run(&[
        "plot",
        "fixtures/real/lockstat-freebsd-man-ex2-hold.txt",
        "-o",
        holds.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nothing to plot"), "{}", run.stderr);
    assert!(!holds.exists());
}

#[test]
fn bad_plot_requests_exit_two_and_write_nothing() {
    let dir = scratch_dir("plot_bad");
    let png = dir.join("chart.png");
    let run = run(&["plot", SEED, "-o", png.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("contend plot writes SVG"),
        "{}",
        run.stderr
    );
    assert!(!png.exists());
    let svg = dir.join("chart.svg");
    let missing = crate::util::run(&["plot", "missing.txt", "-o", svg.to_str().unwrap()]);
    assert_eq!(missing.code, 2);
    assert!(!svg.exists());
    let size = crate::util::run(&["plot", SEED, "-o", "x.svg", "--size", "big"]);
    assert_eq!(size.code, 2);
    assert!(size.stderr.contains("expected WIDTHxHEIGHT"));
}

#[test]
fn the_charts_in_the_docs_are_the_real_ones() {
    let svg = plot(&[SEED], "plot_docs");
    assert_eq!(svg, crate::util::read("docs/reaper.svg"));
    let over_time = plot(
        &[
            "--over-time",
            "fixtures/diff/reaper-before.txt",
            "fixtures/diff/reaper-after.txt",
        ],
        "plot_docs_over_time",
    );
    assert_eq!(over_time, crate::util::read("docs/over-time.svg"));
}

#[test]
fn control_characters_in_labels_leave_the_svg_well_formed() {
    // A label with ESC and BEL (a thread name in a capture can hold them).
    let svg = plot(
        &["--label", "evil\u{1b}[31m\u{7}", SEED, "--label", "b", SEED],
        "plot_control",
    );
    assert!(
        !svg.chars().any(|c| c.is_control() && c != '\n'),
        "no control characters"
    );
    assert!(
        svg.contains("evil\\u{1b}[31m\\u{7}"),
        "shown escaped, not dropped"
    );
}

/// The y coordinates of each polyline drawn in `colour` with `width`.
fn lines(svg: &str, colour: &str, width: &str) -> Vec<Vec<f64>> {
    svg.lines()
        .filter(|line| {
            line.contains("<polyline")
                && line.contains(&format!("stroke=\"{colour}\""))
                && line.contains(&format!("stroke-width=\"{width}\""))
        })
        .filter_map(|line| {
            let points = line.split("points=\"").nth(1)?.split('"').next()?;
            let ys: Vec<f64> = points
                .split_whitespace()
                .filter_map(|point| point.split_once(',')?.1.parse().ok())
                .collect();
            (ys.len() > 2).then_some(ys)
        })
        .collect()
}

#[test]
fn over_time_draws_the_spin_share_of_each_sample() {
    let svg = plot(&["--over-time", SEED], "over-time");
    let spin = lines(&svg, KERNEL_LOCK, "2");
    assert_eq!(spin.len(), 1, "{svg}");
    let ys = &spin[0];
    // 49.9, 17.6, 75.8, 87.6, 68.7 % of Running: heights proportional to
    // the shares (y grows downwards).
    let shares = [0.4991, 0.1758, 0.7584, 0.8757, 0.6874];
    let per_share = (ys[1] - ys[0]) / (shares[0] - shares[1]);
    for (y, share) in ys.iter().zip(shares) {
        let expected = ys[0] - (share - shares[0]) * per_share;
        assert!((y - expected).abs() <= 1.5, "{ys:?}");
    }
    // The kernel_lock share, thinner, below the spin share everywhere.
    let lock = lines(&svg, KERNEL_LOCK, "1");
    assert_eq!(lock.len(), 1);
    assert!(lock[0].iter().zip(ys).all(|(lock, spin)| lock >= spin));
    // Without Running time there is nothing to draw.
    let run = run(&[
        "plot",
        "--over-time",
        "-o",
        "-",
        "fixtures/formats/linux-perf-lock-contention.txt",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nothing to plot over time"),
        "{}",
        run.stderr
    );
}

#[test]
fn more_samples_than_pixels_draw_one_bar_per_run_of_samples() {
    // 20 000 samples on a chart 400 pixels wide: at most 200 bars, each
    // the mean of 100 samples (a bar per sample wrote 1.4 KB each: 3
    // million samples made a 4 GB SVG).
    let mut table = String::new();
    for i in 0..20_000u64 {
        table.push_str(&format!(
            "Stopped\t400ms\nRunning\t{}ms\ndur\tcategory\tsymbol\tcaller\n{}\tkernel\tkernel_lock\treaper\n\n",
            4 + i % 2,
            1_000_000 + (i % 2) * 2_000_000
        ));
    }
    let dir = crate::util::scratch_dir("plot_many");
    let input = dir.join("many.txt");
    std::fs::write(&input, table).unwrap();
    let input = input.to_str().unwrap();
    // Sizes that follow the 400 x 300 picture, not the samples.
    for (extra, most) in [(None, 400_000), (Some("--over-time"), 60_000)] {
        let out = dir.join("many.svg");
        let mut args = vec![
            "plot",
            "--size",
            "400x300",
            input,
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let run = crate::util::run(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let svg = std::fs::read_to_string(&out).unwrap();
        assert!(svg.len() < most, "{extra:?}: {} bytes", svg.len());
        if extra.is_none() {
            assert!(svg.contains("sample (each bar the mean of 100 samples)"));
            // One kernel_lock bar per run of 100 samples, and the legend's
            // swatch.
            let bars = svg.matches("fill=\"#D55E00\"").count();
            assert!(
                (200..=210).contains(&bars),
                "{bars} kernel_lock bars and swatch"
            );
        }
    }
}

#[test]
fn legends_show_a_swatch_of_each_colour() {
    // plotters clipped its legends to the plotting area, so the box and
    // every swatch right of the bars were 0 pixels wide: names without
    // colours. Each part's colour now has a 10-pixel swatch, and nothing
    // is drawn 0 wide.
    let svg = plot(&[SEED], "plot_legend");
    for colour in ["#D55E00", "#E69F00", "#009E73", "#0072B2", "#BBBBBB"] {
        let swatch = format!("width=\"10\" height=\"10\" opacity=\"1\" fill=\"{colour}\"");
        assert_eq!(svg.matches(&swatch).count(), 1, "{colour}");
    }
    assert!(!svg.contains("width=\"0\""));
    let over_time = plot(&["--over-time", SEED], "plot_legend_over_time");
    assert!(over_time.contains("width=\"10\" height=\"10\" opacity=\"1\" fill=\"#D55E00\""));
    assert!(!over_time.contains("width=\"0\""));
}

#[test]
fn axes_count_samples_in_whole_numbers_and_legends_list_what_is_drawn() {
    // --over-time printed sample numbers as `1.0, 1.5, 2.0`: samples are
    // whole numbers, and shares whole percents.
    let svg = plot(&["--over-time", SEED], "plot_axes");
    let texts: Vec<&str> = svg
        .split("</text>")
        .filter_map(|chunk| chunk.rsplit_once('>').map(|(_, text)| text.trim()))
        .collect();
    for label in ["1", "2", "3", "4", "5", "0", "50", "100"] {
        assert!(texts.contains(&label), "{label} in {texts:?}");
    }
    assert!(
        !texts
            .iter()
            .any(|text| text.ends_with(".0") || text.ends_with(".5")),
        "{texts:?}"
    );
    // A perf lock input has no kernel_lock: its legend lists none.
    let perf = plot(
        &["fixtures/real/perf-lock-contention-lkml-traceiter-before-after.txt"],
        "plot_perf_legend",
    );
    assert!(!perf.contains("kernel_lock spin"));
    assert!(perf.contains("other spin"));
}
