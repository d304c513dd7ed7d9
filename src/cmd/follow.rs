//! `contend report --follow`: a line per sample while a tracer runs, the
//! whole report when it ends or at Ctrl-C, and `--alert`'s lines and exit
//! code for a watchdog script.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Result, bail};

use crate::cli::ReportArgs;
use crate::engine::live::{LiveSample, LiveSink};
use crate::error::Exit;
use crate::facts::recent::RecentSamples;
use crate::facts::{FactsBuilder, InputFacts};
use crate::ingest::{self, ReadOptions, follow, source};
use crate::notes::{Verbosity, say, shows};
use crate::parse::{self, InputFormat, Sink};
use crate::printable::printable;
use crate::report::ReportFormat;
use crate::report::live::{LiveView, Screen, alert_line};
use crate::terminal::{output_height, output_width, stdout_redraws, utf8_locale};

/// Follows the one input `args` name, then prints its report.
pub fn run(args: &ReportArgs) -> Result<Exit> {
    let sources = source::sources(&args.input.inputs, &args.input.label)?;
    let [source] = sources.as_slice() else {
        bail!(
            "--follow reads one input (a pipe, a FIFO, a file or stdin), not {}",
            sources.len()
        );
    };
    source::check_exists(source)?;
    let options = args.input.read.options(&args.analysis.by, false);
    let stop = follow::stop_on_interrupt()?;
    let (reader, format) = follow::open(source, options.format, Arc::clone(&stop))?;
    if format == InputFormat::Fxt {
        bail!(
            "{}: a capture is read whole, its samples cut from the whole trace: \
             drop --follow",
            source.name
        );
    }
    let (facts, live) = read_live(args, &options, source, reader, format, &stop)?;
    if live.stdout_gone {
        // The reader of the lines went away (`| head`): not a failure.
        return Ok(Exit::Ok);
    }
    if stop.load(Ordering::Relaxed) && shows(Verbosity::Normal) {
        say(format_args!(
            "contend: {}: interrupted after {} samples",
            source.label, live.samples
        ));
    }
    let inputs = [facts];
    ingest::check_filters(&options.fold.filters, &inputs)?;
    super::note_no_holders(&inputs, &args.analysis.by);
    if args.format == ReportFormat::Table {
        println!();
    }
    super::report::show(args, &inputs)?;
    Ok(if live.alerted {
        Exit::Regression
    } else {
        Exit::Ok
    })
}

/// What following the input did besides reading it.
#[derive(Debug, Default)]
struct Followed {
    /// An alert fired.
    alerted: bool,
    /// Stdout could not be written (a closed pipe).
    stdout_gone: bool,
    /// Samples read.
    samples: u64,
}

/// Parses the input into facts, printing each sample's line as it
/// completes.
fn read_live(
    args: &ReportArgs,
    options: &ReadOptions,
    source: &source::Source,
    reader: Box<dyn std::io::BufRead>,
    format: InputFormat,
    stop: &AtomicBool,
) -> Result<(InputFacts, Followed)> {
    let classes = args.analysis.classes.classes();
    let mut view = LiveView::new(args.ascii || !utf8_locale(), format.has_kernel_lock())
        .keeping(args.last.map_or(usize::MAX, |last| last as usize));
    let mut followed = Followed::default();
    // On a terminal, the view redraws in place; into a pipe or a log, a
    // line a sample.
    let mut screen = (args.format == ReportFormat::Table && stdout_redraws()).then(|| {
        Screen::new(
            output_height().unwrap_or(24),
            output_width(args.width).unwrap_or(80),
        )
    });
    let mut on_sample = |sample: &LiveSample| {
        followed.samples += 1;
        if followed.stdout_gone {
            return;
        }
        // JSON, CSV and Markdown stay one document on stdout: their live
        // lines go to stderr.
        let written = if let Some(screen) = &mut screen {
            let row = view.row(sample);
            let title = screen_title(args, &source.label, followed.samples, &view);
            // Read at each sample: the window may have been resized.
            if let Some(height) = output_height() {
                screen.resize(height);
            }
            write_flushed(&screen.frame(&title, &view.header(), row))
        } else if args.format == ReportFormat::Table {
            write_flushed(&format!("{}\n", view.line(sample)))
        } else {
            say(format_args!("{}", view.line(sample)));
            Ok(())
        };
        if written.is_err() {
            followed.stdout_gone = true;
            // Nobody reads on: stop reading too.
            stop.store(true, Ordering::Relaxed);
        }
        for alert in &args.alert {
            if alert.fires(sample) {
                followed.alerted = true;
                say(format_args!("{}", alert_line(&source.label, alert, sample)));
            }
        }
    };
    let mut builder = FactsBuilder::new(&source.label, &options.fold);
    // With --last, the samples go to a keeper first, the facts at the end.
    let mut recent = args.last.map(|last| RecentSamples::new(last as usize));
    let inner: &mut dyn Sink = match &mut recent {
        Some(recent) => recent,
        None => &mut builder,
    };
    let parse_options = parse::ParseOptions {
        detected_as: ingest::detected_as(options, format),
        ..options.parse.clone()
    };
    let mut live = LiveSink::new(inner, &classes, format, &mut on_sample)
        .keeping_offsets(options.fold.keep_offsets);
    let stats = parse::parse(reader, &source.name, format, &parse_options, &mut live);
    live.finish();
    let stats = stats?;
    if let (Some(recent), Some(last)) = (&recent, args.last) {
        recent
            .replay(&mut builder)
            .map_err(|err| err.whole(&source.name))?;
        note_kept(&source.label, last, recent);
    }
    let mut facts = builder.finish(stats);
    facts.format = format;
    Ok((facts, followed))
}

/// The terminal view's title: what is followed, how far, the marks.
fn screen_title(args: &ReportArgs, label: &str, samples: u64, view: &LiveView) -> String {
    let samples = match samples {
        1 => "1 sample".to_string(),
        many => format!("{many} samples"),
    };
    let kept = args
        .last
        .map_or_else(String::new, |last| format!(", keeping the last {last}"));
    let marks = if view.has_marks() {
        format!(", spin share {}", view.marks())
    } else {
        String::new()
    };
    format!(
        "following {}: {samples}{kept}{marks} (Ctrl-C ends it and reports)",
        printable(label)
    )
}

/// Writes to stdout and flushes, for a line that must show now.
fn write_flushed(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Says which samples the report covers when `--last` left some out.
fn note_kept(label: &str, last: u32, recent: &RecentSamples) {
    let kept = recent.kept() as u64;
    if recent.read > kept && shows(Verbosity::Normal) {
        say(format_args!(
            "contend: {label}: --last {last}: the report covers samples {}..{} of the {} read, \
             numbered from 1",
            recent.read - kept + 1,
            recent.read,
            recent.read
        ));
    }
}
