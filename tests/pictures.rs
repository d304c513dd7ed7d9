//! The charts checked as pictures: each SVG is rendered by resvg (the
//! reference Rust SVG renderer) and its pixels read where a reader looks:
//! a legend swatch shows its series' colour, a flame graph's frame the
//! colour its change earns.

use resvg::tiny_skia::Pixmap;
use resvg::usvg::{Options, Tree};

use crate::util::{SEED, run, scratch_dir};

/// The SVG rendered at its own size.
fn rendered(svg: &str) -> Pixmap {
    let tree = Tree::from_str(svg, &Options::default()).expect("an SVG resvg reads");
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height()).expect("a non-empty picture");
    resvg::render(&tree, Default::default(), &mut pixmap.as_mut());
    pixmap
}

/// The colour at (x, y) as `#RRGGBB`.
fn colour_at(pixmap: &Pixmap, x: f64, y: f64) -> String {
    let pixel = pixmap
        .pixel(x.round() as u32, y.round() as u32)
        .expect("inside the picture")
        .demultiply();
    format!(
        "#{:02X}{:02X}{:02X}",
        pixel.red(),
        pixel.green(),
        pixel.blue()
    )
}

/// The value of `name="..."` in an element's text.
fn attribute<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
    element[start..].split('"').next()
}

fn number(element: &str, name: &str) -> f64 {
    attribute(element, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {element}"))
}

/// Every `<tag ...>` element of the SVG, as text.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    svg.match_indices(&format!("<{tag} "))
        .map(|(at, _)| {
            let end = svg[at..].find('>').expect("closed") + at;
            &svg[at..=end]
        })
        .collect()
}

/// The legend's labels with the y of their baseline: `<text ...>label`.
fn legend_labels(svg: &str) -> Vec<(String, f64, f64)> {
    svg.match_indices("<text ")
        .filter_map(|(at, _)| {
            let open_end = svg[at..].find('>')? + at;
            let element = &svg[at..=open_end];
            let label = svg[open_end + 1..].split('<').next()?.trim().to_string();
            Some((label, number(element, "x"), number(element, "y")))
        })
        .collect()
}

#[test]
fn every_legend_swatch_shows_its_series_colour() {
    let dir = scratch_dir("pictures_legend");
    let chart = dir.join("seed.svg");
    let run = run(&["plot", "-o", chart.to_str().unwrap(), SEED]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let svg = std::fs::read_to_string(&chart).unwrap();
    let pixmap = rendered(&svg);
    // The seed's fourth sample: kernel_lock spin 6.55 ms of 7.51 ms
    // Running, the tallest bar. Its lowest part is kernel_lock spin.
    let bar = elements(&svg, "rect")
        .into_iter()
        .filter(|rect| number(rect, "width") < 200.0)
        .max_by(|a, b| number(a, "height").total_cmp(&number(b, "height")))
        .unwrap();
    let kernel_lock = colour_at(
        &pixmap,
        number(bar, "x") + number(bar, "width") / 2.0,
        number(bar, "y") + number(bar, "height") / 2.0,
    );
    // Each legend entry's swatch: the 10x10 square left of its label, on
    // its line; rendered, it must have a colour (not the white behind it).
    let swatches: Vec<&str> = elements(&svg, "rect")
        .into_iter()
        .filter(|rect| number(rect, "width") == 10.0 && number(rect, "height") == 10.0)
        .collect();
    let mut seen = Vec::new();
    for (label, x, y) in legend_labels(&svg) {
        let Some(swatch) = swatches.iter().find(|rect| {
            let (sx, sy) = (number(rect, "x"), number(rect, "y"));
            sx < x && x - sx < 30.0 && (sy - y).abs() < 14.0
        }) else {
            continue;
        };
        let colour = colour_at(
            &pixmap,
            number(swatch, "x") + 5.0,
            number(swatch, "y") + 5.0,
        );
        assert_ne!(colour, "#FFFFFF", "{label}: the swatch is not drawn");
        seen.push((label, colour));
    }
    let labels: Vec<&str> = seen.iter().map(|(label, _)| label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "kernel_lock spin",
            "other spin",
            "work",
            "sleep-lock wait",
            "other off-CPU"
        ],
        "{seen:?}"
    );
    // The swatch of kernel_lock spin is the colour of the kernel_lock bar.
    assert_eq!(seen[0].1, kernel_lock);
    // And no two series share a colour.
    let mut colours: Vec<&str> = seen.iter().map(|(_, c)| c.as_str()).collect();
    colours.sort();
    colours.dedup();
    assert_eq!(colours.len(), seen.len(), "{seen:?}");
}

/// fixtures/flame: two builds' btrace dumps of kstack maps, as
/// [`kstack_dump`] writes them.
const FLAME_BEFORE: &str = "fixtures/flame/exit-before.txt";
const FLAME_AFTER: &str = "fixtures/flame/exit-after.txt";

/// A btrace dump of `samples` printouts of three kstack maps: the exit
/// path's wait scaled by `exit_scale`, the release path's steady, and a
/// mutex path through `path` (it moves between builds).
fn kstack_dump(samples: u64, exit_scale: u64, path: &str) -> String {
    let mut text = String::new();
    for sample in 0..samples {
        let jitter = (sample * 7919) % 5000;
        text.push_str(&format!(
            "@wait_ns[\n    queued_spin_lock_slowpath+0x11d\n    _raw_spin_lock+0x1e\n    \
             do_exit+0x2e5\n    do_group_exit+0x33\n]: {}\n",
            100_000 * exit_scale + jitter
        ));
        text.push_str(&format!(
            "@wait_ns[\n    queued_spin_lock_slowpath+0x11d\n    _raw_spin_lock+0x1e\n    \
             release_task+0x40\n    do_exit+0x2e5\n]: {}\n",
            50_000 + (sample * 104_729) % 40_000
        ));
        text.push_str(&format!(
            "@wait_ns[\n    mutex_lock+0x10\n    {path}+0x20\n]: {}\n\n",
            30_000 + jitter
        ));
    }
    text
}

/// `n` with thousands separators, as inferno's tooltips write it.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (at, digit) in digits.chars().enumerate() {
        if at > 0 && (digits.len() - at) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// The fill of the frame whose tooltip starts with `title`.
fn frame_fill<'a>(svg: &'a str, title: &str) -> &'a str {
    let at = svg
        .find(&format!("<title>{title}"))
        .unwrap_or_else(|| panic!("no frame {title}"));
    let rect = elements(&svg[at..], "rect")[0];
    attribute(rect, "fill").unwrap()
}

/// The centre of the frame whose tooltip is `title`, as inferno places it
/// (x and width in percent of the picture, inside its 10-pixel margins).
fn frame_centre(svg: &str, title: &str, picture_width: f64) -> (f64, f64) {
    let at = svg.find(&format!("<title>{title}")).unwrap();
    let rect = elements(&svg[at..], "rect")[0];
    let percent = |name: &str| {
        attribute(rect, name)
            .unwrap()
            .trim_end_matches('%')
            .parse::<f64>()
            .unwrap()
    };
    let x = percent("x") + percent("width") / 2.0;
    (
        x / 100.0 * picture_width,
        number(rect, "y") + number(rect, "height") / 2.0,
    )
}

#[test]
fn a_flame_graph_draws_each_stack_as_wide_as_its_wait() {
    // The whole xfs_release mail: three count() stacks, 1 432 766 +
    // 137 639 + 41 132 = 1 611 537 events (the mail's own figures).
    let dir = scratch_dir("pictures_flame");
    let svg_path = dir.join("xfs.svg");
    let run = run(&[
        "plot",
        "--flame",
        "-o",
        svg_path.to_str().unwrap(),
        "fixtures/real/bpftrace-lkml-xfs-release-whole-mail.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let svg = std::fs::read_to_string(&svg_path).unwrap();
    // The README and docs/plot.md show this very graph.
    assert_eq!(svg, crate::util::read("docs/xfs-flame.svg"));
    for title in [
        "all (1,611,537 events, 100%)",
        "xfs_release (1,473,898 events, 91.46%)",
        "xfs_iunlock (41,132 events, 2.55%)",
        "xfs_ilock (137,639 events, 8.54%)",
    ] {
        assert!(svg.contains(&format!("<title>{title}</title>")), "{title}");
    }
    // Drawn: the widest frame under `all` has the palette's colour, not
    // the white background.
    let pixmap = rendered(&svg);
    let (x, y) = frame_centre(&svg, "xfs_release", f64::from(pixmap.width()));
    assert_ne!(colour_at(&pixmap, x, y), "#FFFFFF");
    // An input without stacks is refused with why.
    let table = crate::util::run(&["plot", "--flame", "-o", "-", SEED]);
    assert_eq!(table.code, 2);
    assert!(table.stdout.is_empty());
    assert_eq!(
        table.stderr,
        "contend: openbsd-reaper-make-j32 (table): no call stacks to draw; --flame draws the \
         stacks printed with the waits: btrace and bpftrace maps keyed by kstack, perf lock \
         contention -v, klockstat -s, lockstat -s\n"
    );
}

#[test]
fn a_differential_flame_graph_colours_only_significant_changes() {
    let dir = scratch_dir("pictures_diff_flame");
    // Eight printouts a side: the exit path's wait triples (significant),
    // the release path's stays, the mutex moves from old_path to new_path.
    let (before, after) = (
        crate::util::repo_path(FLAME_BEFORE),
        crate::util::repo_path(FLAME_AFTER),
    );
    assert_eq!(
        crate::util::read(FLAME_BEFORE),
        kstack_dump(8, 1, "old_path")
    );
    assert_eq!(
        crate::util::read(FLAME_AFTER),
        kstack_dump(8, 3, "new_path")
    );
    let flame = dir.join("diff.svg");
    let run = run(&[
        "diff",
        "--flame",
        flame.to_str().unwrap(),
        before.to_str().unwrap(),
        after.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let svg = std::fs::read_to_string(&flame).unwrap();
    // docs/plot.md shows this very graph.
    assert_eq!(svg, crate::util::read("docs/diff-flame.svg"));
    let pixmap = rendered(&svg);
    let width = f64::from(pixmap.width());
    let pixel = |title: &str| {
        let (x, y) = frame_centre(&svg, title, width);
        colour_at(&pixmap, x, y)
    };
    // What the dumps hold: the exit path's wait after, the mutex path's on
    // either side (the same jitter a side).
    let jitter = |sample: u64| (sample * 7919) % 5000;
    let exit_after: u64 = (0..8).map(|s| 300_000 + jitter(s)).sum();
    let mutex: u64 = (0..8).map(|s| 30_000 + jitter(s)).sum();
    assert!(svg.contains(&format!("<title>all ({} ns, 100%)</title>", {
        let release: u64 = (0..8).map(|s| 50_000 + (s * 104_729) % 40_000).sum();
        thousands(exit_after + release + 2 * mutex)
    })));
    // The exit path's lock frame rose significantly: red (more red than
    // green or blue).
    let exit = pixel(&format!(
        "queued_spin_lock_slowpath ({} ns",
        thousands(exit_after)
    ));
    let [r, g, b] = [1, 3, 5].map(|at| u8::from_str_radix(&exit[at..at + 2], 16).unwrap());
    assert!(r > 200 && g < 150 && b < 150, "{exit}");
    // The release path's did not change significantly: near white, as
    // frames whose change is noise are.
    assert_eq!(frame_fill(&svg, "release_task"), "rgb(250,250,250)");
    assert_eq!(pixel("release_task"), "#FAFAFA");
    // Stacks of one side only are marked, the vanished one at its before
    // width, each coloured by its significant move.
    assert!(svg.contains("<title>(gone) ("), "{svg}");
    assert!(svg.contains("<title>(new) ("));
    let mutex_title = format!("mutex_lock ({} ns, ", thousands(mutex));
    let rgb = |fill: &str| -> Vec<u8> {
        fill.trim_start_matches("rgb(")
            .trim_end_matches(')')
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect()
    };
    let gone = rgb(frame_fill(&svg, &format!("{mutex_title}7.41%; -")));
    let new = rgb(frame_fill(&svg, &format!("{mutex_title}7.41%; +")));
    assert!(gone[2] > gone[0], "the vanished path is blue: {gone:?}");
    assert!(new[0] > new[2], "the new path is red: {new:?}");
    // Reading from stdin twice is not needed: `-` for the graph is refused,
    // as is writing it over an input.
    let refused = crate::util::run(&[
        "diff",
        "--flame",
        before.to_str().unwrap(),
        before.to_str().unwrap(),
        after.to_str().unwrap(),
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
}

/// The font the charts' text is laid out in for the overlap test: DejaVu
/// Sans, Debian's default (fonts-dejavu-core, which .ci/run installs
/// where it is missing); plotters asks for `sans-serif`.
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// Every text of the picture laid out in [`FONT`]: (text, box).
fn laid_out_texts(svg: &str) -> Vec<(String, resvg::tiny_skia::Rect)> {
    let mut options = Options::default();
    let font = std::fs::read(FONT)
        .unwrap_or_else(|err| panic!("{FONT}: {err} (apt-get install fonts-dejavu-core)"));
    options.fontdb_mut().load_font_data(font);
    options.fontdb_mut().set_sans_serif_family("DejaVu Sans");
    let tree = Tree::from_str(svg, &options).expect("an SVG resvg reads");
    let mut texts = Vec::new();
    collect_texts(tree.root(), &mut texts);
    texts
}

fn collect_texts(group: &resvg::usvg::Group, texts: &mut Vec<(String, resvg::tiny_skia::Rect)>) {
    for node in group.children() {
        match node {
            resvg::usvg::Node::Group(inner) => collect_texts(inner, texts),
            resvg::usvg::Node::Text(text) => {
                let words: String = text.chunks().iter().map(|c| c.text()).collect();
                // Laid out: the glyphs became paths with a size.
                assert!(
                    text.flattened().has_children(),
                    "{words}: not laid out (no font?)"
                );
                texts.push((words, text.abs_bounding_box()));
            }
            _ => {}
        }
    }
}

/// The texts whose boxes overlap, by more than a pixel each way.
fn overlapping(texts: &[(String, resvg::tiny_skia::Rect)]) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for (at, (a, box_a)) in texts.iter().enumerate() {
        for (b, box_b) in &texts[at + 1..] {
            if let Some(common) = box_a.intersect(box_b) {
                if common.width() > 1.0 && common.height() > 1.0 {
                    pairs.push((a.clone(), b.clone()));
                }
            }
        }
    }
    pairs
}

#[test]
fn no_label_overlaps_another() {
    let dir = scratch_dir("pictures_labels");
    let many = dir.join("many.txt");
    // 60 samples, two inputs side by side: the x axis must thin its
    // labels out rather than print them over each other.
    std::fs::write(&many, crate::report::samples_text(60, |_| Some("4ms"))).unwrap();
    let many = many.to_str().unwrap();
    for (name, args) in [
        ("seed", vec![SEED]),
        ("two builds", vec![SEED, "fixtures/formats/reaper.csv"]),
        ("many samples", vec![many, many]),
        (
            "perf lock",
            vec!["fixtures/formats/linux-perf-lock-contention.txt"],
        ),
        ("over time", vec!["--over-time", many, SEED]),
    ] {
        let chart = dir.join("chart.svg");
        let mut all = vec!["plot", "-o", chart.to_str().unwrap()];
        all.extend(args);
        let run = run(&all);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let texts = laid_out_texts(&std::fs::read_to_string(&chart).unwrap());
        assert!(texts.len() >= 10, "{name}: {} texts", texts.len());
        assert_eq!(overlapping(&texts), [], "{name}");
    }
}
