//! The command line (clap derive). Doc comments here are the help text;
//! the words of the options that take one of a list are in [`choices`].

mod choices;

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::engine::diff::{DiffOptions, Metric, Threshold};
use crate::engine::live::Alert;
use crate::engine::{AnalysisOptions, ClassMap, GroupKey, SortKey};
use crate::export::writer::CsvOptions;
use crate::export::{ExportFormat, What};
use crate::facts::Fold;
use crate::facts::filter::{Filters, KeyFilter, SampleList};
use crate::ingest::ReadOptions;
use crate::parse::fxt::CaptureOptions;
use crate::parse::{Events, InputFormat, MapKey, ParseOptions, Unit, Values};
use crate::report::ReportFormat;
use crate::report::diff::{DiffFormat, DiffTable};
use crate::terminal::ColorChoice;

const REPORT_EXAMPLES: &str = "\
Examples:
  Is the reaper spinning or working? (the samplings of an OpenBSD tech@ mail)
    contend report fixtures/openbsd-reaper-make-j32.txt

  The whole mail piped in; prose around the tables is skipped:
    contend report < mail.txt

  The lltrace capture itself (lltextract's output): the reaper, one sample per 500 ms,
  and how its waits spread, by power of two as lockstat -h:
    contend report --thread reaper --window 500ms --histogram capture.fxt

  Who held each lock while the reaper waited, ranked by the wait each holder caused:
    contend report --thread reaper --by symbol,holder capture.fxt";

const EXPORT_EXAMPLES: &str = "\
Examples:
  Every row as CSV, for a spreadsheet:
    contend export trace.txt -o rows.csv

  One record per sample, durations in milliseconds, for a locale that uses `;`:
    contend export --what samples --output-unit ms --delimiter ';' trace.txt -o samples.csv

  The ranking by symbol as Parquet, for DuckDB or pandas:
    contend export --what groups --by symbol --format parquet trace.txt -o groups.parquet";

const DIFF_EXAMPLES: &str = "\
Examples:
  Did the patch change spinning on kernel_lock? (several samplings a build)
    contend diff before.txt after.txt

  A CI gate on spin share and kernel_lock time: exit 1 when either regressed
  (a significant rise of more than 10 %) or could not be tested:
    contend diff --fail-above 10 --metric spin_share --metric kernel_lock_ns \\
        --fail-inconclusive --format summary before.txt after.txt

  A differential flame graph of the lock time:
    contend diff --format folded before.txt after.txt | inferno-flamegraph > diff.svg

Verdicts (each metric; JSON `verdict`): regressed or improved (significant, and
the shift beyond the limit: --fail-above, or 10 %), same (the shift's
1 - alpha interval, 95 % by default, within the limit), inconclusive (the data
cannot tell; the output says how many samples a side would).

Exit codes: 0 no watched metric regressed; 1 a watched metric regressed, or
one is inconclusive with --fail-inconclusive; 2 bad usage or input.";

const PLOT_EXAMPLES: &str = "\
Examples:
  The seed's five samplings as a chart:
    contend plot fixtures/openbsd-reaper-make-j32.txt -o reaper.svg

  Two builds side by side:
    contend plot --label before --label after old.txt new.txt -o builds.svg";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  bash, for the current user:
    contend completions bash > ~/.local/share/bash-completion/completions/contend

  zsh, in a directory of your $fpath:
    contend completions zsh > ~/.zfunc/_contend

  fish:
    contend completions fish > ~/.config/fish/completions/contend.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  Read the manual now:
    contend man | man -l -

  Install the pages for man(1):
    for page in \"\" report export diff plot completions man; do
        contend man $page > ~/.local/share/man/man1/contend${page:+-$page}.1
    done";

/// Lock-contention trace analyzer: is the thread's CPU time going to
/// spinning on locks (kernel_lock above all) or to real work?
#[derive(Debug, Parser)]
#[command(name = "contend", version, propagate_version = true)]
#[command(after_help = "Run `contend report --help` for the report's options and examples.")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// More notes on stderr: also the lines skipped as prose around the
    /// tables (a pasted mail's text), and a line for each input and sample
    /// where one line stands for several
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// No notes on stderr (errors, warnings and diff's FAIL line still are)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The verdict (spin share of running time, kernel_lock share, work),
    /// the per-sample figures and the ranking of lock waits.
    #[command(after_help = REPORT_EXAMPLES)]
    Report(ReportArgs),

    /// Rows, groups or samples as CSV, TSV, JSON, NDJSON, folded stacks or
    /// Parquet, for spreadsheets, scripts, flame graphs and data tools.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),

    /// Compare two builds: which changes in spin, kernel_lock, work and
    /// per-lock waits are bigger than the noise between samplings.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),

    /// A chart of where each sample's time goes (SVG): Running split into
    /// kernel_lock spin, other spin and work; off-CPU and sleep-lock wait.
    #[command(after_help = PLOT_EXAMPLES)]
    Plot(PlotArgs),

    /// Shell completions for bash, zsh, fish, elvish or PowerShell, on
    /// stdout.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),

    /// The manual page (roff) of contend or of one subcommand, on stdout.
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

/// Flags of `contend plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The inputs and how to read them.
    #[command(flatten)]
    pub input: InputArgs,

    /// Which lock kinds spin and which sleep.
    #[command(flatten)]
    pub classes: ClassArgs,

    /// The SVG file to write (`-` for stdout).
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: PathBuf,

    /// Size of the chart in pixels.
    #[arg(long, default_value = "900x600", value_name = "WxH", value_parser = parse_size, help_heading = "Output")]
    pub size: (u32, u32),

    /// Draw the spin share and kernel_lock share of Running per sample as
    /// lines, for inputs with many samples, instead of a bar per sample.
    #[arg(long, help_heading = "Output", conflicts_with = "flame")]
    pub over_time: bool,

    /// Draw a flame graph of the waits by call stack instead (interactive
    /// SVG: search, zoom, tooltips), from inputs that record stacks
    /// (btrace and bpftrace maps keyed by kstack).
    #[arg(long, help_heading = "Output")]
    pub flame: bool,
}

/// `900x600` as (900, 600).
fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let parsed = text
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)));
    match parsed {
        Some((w, h)) if (200..=10_000).contains(&w) && (200..=10_000).contains(&h) => Ok((w, h)),
        _ => Err(format!(
            "expected WIDTHxHEIGHT in pixels, 200 to 10000 each, not `{text}`"
        )),
    }
}

/// Flags of `contend completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The subcommands with a manual page of their own: listed, so that shell
/// completion offers them (a test keeps the list to the subcommands).
pub const MAN_PAGES: [&str; 6] = ["report", "export", "diff", "plot", "completions", "man"];

/// Flags of `contend man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's page (contend-report(1), ...) instead of contend(1).
    #[arg(value_name = "SUBCOMMAND", value_parser = MAN_PAGES)]
    pub subcommand: Option<String>,
}

/// Where input comes from and how to read it.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Lock tables to read; stdin when none is given or for `-`.
    #[arg(value_name = "INPUT", help_heading = "Input")]
    pub inputs: Vec<PathBuf>,

    /// Name of each input in the report, in order (default: the file stem,
    /// or `stdin`).
    #[arg(long, value_name = "LABEL", help_heading = "Input")]
    pub label: Vec<String>,

    /// How the inputs are read.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How to read inputs, whichever they are.
#[derive(Debug, Args)]
#[command(next_help_heading = "Input")]
pub struct ReadArgs {
    /// Format of the inputs.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto, value_name = "FORMAT")]
    pub input_format: InputFormat,

    /// Unit of durations written without one.
    #[arg(long, value_enum, default_value_t = Unit::Ns)]
    pub unit: Unit,

    /// Fail on lines that are not part of a table instead of skipping them.
    #[arg(long)]
    pub strict: bool,

    /// Read bytes that are not UTF-8 (a Latin-1 name, a mangled mail) as
    /// U+FFFD instead of failing; a note counts the lines.
    #[arg(long)]
    pub lossy: bool,

    /// Which lock events to read where a report has both: lock waits, or
    /// the hold times of lockstat -H and klockstat's hold table (which are
    /// set apart by default: a hold is not a wait)
    #[arg(long, value_enum, default_value_t = Events::Wait)]
    pub events: Events,

    /// btrace maps: what each key is, in order (default by count: 3 keys
    /// category,symbol,caller; 2 symbol,caller; 1 symbol).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KEY,..")]
    pub keys: Vec<MapKey>,

    /// btrace maps: what the values are; a printout does not tell count()
    /// from sum() (default: times, unless the script pasted with the output
    /// fills the map with count())
    #[arg(long, value_enum, default_value_t = Values::Auto)]
    pub values: Values,

    /// btrace stack keys: the frame taken as caller, 0 the innermost
    /// (default: the first frame past the lock primitives: _raw_spin_lock,
    /// mutex_lock, __mp_lock, the contention tracepoint...)
    #[arg(long, value_name = "N")]
    pub stack_frame: Option<usize>,

    /// Threads for reading each large table-format file (0: one per core,
    /// for files of 64 MiB and more; N: split any file in N pieces, at
    /// most 64). diff reads its two files at once, each so. Pieces are
    /// read one a core at a time, the others waiting their turn.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub threads: usize,

    /// Keep the `+0x..` offsets of symbols and callers, so that call sites
    /// in one function are groups of their own (default: read
    /// `reaper+0x1c` as `reaper`, in every command).
    #[arg(long)]
    pub keep_offsets: bool,

    /// Read each row without a count as one wait, for wait distributions
    /// (p50, p90, p99, --histogram) from a list of waits with no `ts`
    /// column (default: rows are single waits in FXT captures and in
    /// tables with a `ts` column; elsewhere they are sums).
    #[arg(long)]
    pub rows_are_waits: bool,

    /// Read only rows whose KEY (category, symbol or caller, without its
    /// offset unless --keep-offsets) contains a match of REGEX; repeatable,
    /// each must match (e.g. --match symbol=^kernel_lock$).
    #[arg(long = "match", value_name = "KEY=REGEX", value_parser = KeyFilter::parse, help_heading = "Filters")]
    pub match_keys: Vec<KeyFilter>,

    /// Leave out rows whose KEY contains a match of REGEX; repeatable.
    #[arg(long = "exclude", value_name = "KEY=REGEX", value_parser = KeyFilter::parse, help_heading = "Filters")]
    pub exclude_keys: Vec<KeyFilter>,

    /// Read only these samples of each input, numbered from 1 (e.g.
    /// 2..4,7 or 4.. to the end; default: all).
    #[arg(long, value_name = "LIST", value_parser = SampleList::parse, help_heading = "Filters")]
    pub samples: Option<SampleList>,

    /// lltrace captures (FXT): the thread to sample, by the name Perfetto
    /// shows (a user thread: its process's); repeatable (default: every
    /// thread that waited on a lock).
    #[arg(long = "thread", value_name = "NAME", help_heading = "Captures (FXT)")]
    pub thread_names: Vec<String>,

    /// lltrace captures: the thread to sample, by the tid Perfetto shows
    /// (user threads: tid + 100000); repeatable.
    #[arg(long, value_name = "TID", help_heading = "Captures (FXT)")]
    pub tid: Vec<u64>,

    /// lltrace captures: cut the trace into windows this long, each one
    /// sample, from the trace's earliest timestamp as in Perfetto (e.g.
    /// 500ms; default: the whole trace is one sample).
    #[arg(long, value_name = "DURATION", value_parser = parse_window, help_heading = "Captures (FXT)")]
    pub window: Option<u64>,

    /// lltrace captures: leave out windows in which the thread never ran.
    #[arg(long, help_heading = "Captures (FXT)")]
    pub windows_with_activity: bool,

    /// lltrace captures: read a truncated capture up to its last whole
    /// record, and skip malformed records, instead of failing.
    #[arg(long, help_heading = "Captures (FXT)")]
    pub lenient: bool,

    /// lltrace captures: do not work out who held the locks the named
    /// threads waited on (every thread's lock operations are then not
    /// kept: a faster read of one thread).
    #[arg(long, help_heading = "Captures (FXT)")]
    pub no_holders: bool,
}

/// `--window`: a duration with a unit, above zero.
fn parse_window(text: &str) -> Result<u64, String> {
    match crate::parse::duration::parse_duration_with_unit(text) {
        Some(0) => Err("a window must be longer than 0".into()),
        Some(ns) => Ok(ns),
        None => Err(format!(
            "\"{text}\" is not a duration with a unit (e.g. 500ms, 1s, 250us)"
        )),
    }
}

impl ReadArgs {
    /// How to read the inputs, as these flags ask, for a ranking or
    /// comparison grouped `by`; with `detail`, each key's wait in each
    /// sample is kept (what diff's per-group tests need).
    pub fn options(&self, by: &[GroupKey], detail: bool) -> ReadOptions {
        ReadOptions {
            format: self.input_format,
            parse: self.parse_options(by),
            threads: self.threads,
            fold: Fold {
                by: unique_keys(by),
                detail,
                keep_offsets: self.keep_offsets,
                filters: Filters {
                    matches: self.match_keys.clone(),
                    excludes: self.exclude_keys.clone(),
                    samples: self.samples.clone().filter(|list| !list.is_all()),
                },
                rows_are_waits: self.rows_are_waits,
                holder_names: false,
            },
        }
    }

    fn parse_options(&self, by: &[GroupKey]) -> ParseOptions {
        ParseOptions {
            unit: self.unit,
            strict: self.strict,
            keys: self.keys.clone(),
            stack_frame: self.stack_frame,
            capture: CaptureOptions {
                threads: self.thread_names.clone(),
                tids: self.tid.clone(),
                window_ns: self.window,
                with_activity: self.windows_with_activity,
                lenient: self.lenient,
                holders: !self.no_holders,
                split_by_holder: by.contains(&GroupKey::Holder),
            },
            lossy: self.lossy,
            events: self.events,
            values: self.values,
            detected_as: None,
        }
    }
}

/// Which categories spin and which sleep.
#[derive(Debug, Args)]
#[command(next_help_heading = "Ranking")]
pub struct ClassArgs {
    /// Categories whose waiters spin, over the format's defaults (OpenBSD:
    /// kernel, mutex; perf lock: spinlock, rwlock; lockstat: `... spin`).
    #[arg(long, value_delimiter = ',', value_name = "CATEGORY,..", value_hint = clap::ValueHint::Other)]
    pub spin: Vec<String>,

    /// Categories whose waiters sleep, over the format's defaults (OpenBSD:
    /// rwlock, rrwlock; perf lock: mutex, rwsem, ...; lockstat: `... block`).
    #[arg(long, value_delimiter = ',', value_name = "CATEGORY,..", value_hint = clap::ValueHint::Other)]
    pub sleep: Vec<String>,
}

impl ClassArgs {
    /// The class map these flags ask for.
    pub fn classes(&self) -> ClassMap {
        ClassMap::with_overrides(&self.spin, &self.sleep)
    }
}

/// `--by` with repeats dropped, order kept.
pub fn unique_keys(keys: &[GroupKey]) -> Vec<GroupKey> {
    let mut unique = Vec::new();
    for key in keys {
        if !unique.contains(key) {
            unique.push(*key);
        }
    }
    unique
}

/// How to classify, group and rank lock waits.
#[derive(Debug, Args)]
#[command(next_help_heading = "Ranking")]
pub struct AnalysisArgs {
    /// Which lock kinds spin and which sleep.
    #[command(flatten)]
    pub classes: ClassArgs,

    /// Key columns to group the ranking by, in any subset and order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_values_t = GroupKey::ALL,
        value_name = "KEY,.."
    )]
    pub by: Vec<GroupKey>,

    /// Groups to keep in the ranking; 0 keeps all [default: 20 for
    /// report, all for export].
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,

    /// What to rank groups by, largest first [default: running for report's
    /// terminal and Markdown views, total for JSON, CSV and export].
    #[arg(long, value_enum)]
    pub sort: Option<SortKey>,

    /// Rank each input's groups on their own (shares of that input's lock
    /// and running time) instead of all inputs together.
    #[arg(long)]
    pub per_input: bool,
}

impl AnalysisArgs {
    /// The engine options these flags ask for; `default_top` and
    /// `default_sort` apply without `--top` and `--sort`.
    pub fn options(&self, default_top: usize, default_sort: SortKey) -> AnalysisOptions {
        AnalysisOptions {
            classes: self.classes.classes(),
            by: unique_keys(&self.by),
            sort: self.sort.unwrap_or(default_sort),
            top: self.top.unwrap_or(default_top),
            per_input: self.per_input,
            histogram: false,
        }
    }
}

/// `contend report`. Its help lists the output flags first, then the
/// ranking's, then how inputs are read.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table, help_heading = "Output")]
    pub format: ReportFormat,

    /// When to use colour in the terminal report and its warnings on
    /// stderr (auto: on a terminal, unless NO_COLOR or TERM=dumb)
    #[arg(
        long,
        value_enum,
        default_value_t = ColorChoice::Auto,
        value_name = "WHEN",
        help_heading = "Output"
    )]
    pub color: ColorChoice,

    /// ASCII only: tables and bars without box-drawing or block characters
    /// (the default when the locale is not UTF-8).
    #[arg(long, help_heading = "Output")]
    pub ascii: bool,

    /// Fit the tables to N columns (default: the terminal's, also when
    /// piped into a pager; COLUMNS when set).
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(20..),
        help_heading = "Output"
    )]
    pub width: Option<u16>,

    /// Show how each group's single waits spread, by power of two as
    /// lockstat -h does (terminal bars; a `histogram` field in JSON), where
    /// the input has single waits (FXT captures, slice lists).
    #[arg(long, help_heading = "Output")]
    pub histogram: bool,

    /// How `--format csv` looks to a spreadsheet.
    #[command(flatten)]
    pub csv: CsvArgs,

    /// Print a line for each sample as it completes (when the next one
    /// begins), then the whole report when the input ends or at Ctrl-C: for
    /// a tracer that prints on an interval into a pipe or a FIFO.
    #[arg(long, help_heading = "Live")]
    pub follow: bool,

    /// With --follow: a line on stderr for each sample past a threshold,
    /// and exit 1 at the end if one was: 'spin_share>60%',
    /// 'kernel_lock_ns>2ms' (also kernel_lock_share, running_ns, spin_ns,
    /// sleep_wait_ns; `<` for below). Repeatable.
    #[arg(
        long,
        value_name = "METRIC>VALUE",
        requires = "follow",
        value_parser = Alert::parse,
        help_heading = "Live"
    )]
    pub alert: Vec<Alert>,

    /// With --follow: keep only the last N samples, for the marks and the
    /// report at the end, so that memory stays bounded however long the
    /// tracer runs.
    #[arg(
        long,
        value_name = "N",
        requires = "follow",
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = "Live"
    )]
    pub last: Option<u32>,

    /// How the ranking is made.
    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// The inputs and how to read them.
    #[command(flatten)]
    pub input: InputArgs,
}

/// `contend export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The inputs and how to read them.
    #[command(flatten)]
    pub input: InputArgs,

    /// How the ranking is made.
    #[command(flatten)]
    pub analysis: AnalysisArgs,

    /// What to export: the parsed rows (streamed), the ranking, or one
    /// record per sample.
    #[arg(long, value_enum, default_value_t = What::Rows, help_heading = "Output")]
    pub what: What,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv, help_heading = "Output")]
    pub format: ExportFormat,

    /// Write to FILE (atomically: complete or not at all) instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Write durations as decimals in this unit, columns renamed to match
    /// (`dur_ms`); folded stacks stay in integer nanoseconds.
    #[arg(long, value_enum, default_value_t = Unit::Ns, value_name = "UNIT", help_heading = "Output")]
    pub output_unit: Unit,

    /// How CSV looks to a spreadsheet.
    #[command(flatten)]
    pub csv: CsvArgs,

    /// Write a fleet's dataset into DIR instead: each input's samples and
    /// lock keys as DIR/host=H/build=B/part-N.parquet, for `report DIR`,
    /// `diff DIR --split build=A,B` and warehouse engines (with --format
    /// parquet; docs/fleet.md).
    #[arg(long, value_name = "DIR", help_heading = "Fleet")]
    pub dataset: Option<PathBuf>,

    /// With --dataset: the host of every input (default: each file's name
    /// without its extension).
    #[arg(long, value_name = "H", requires = "dataset", help_heading = "Fleet")]
    pub host: Option<String>,

    /// With --dataset: the build of every input (default: the name of the
    /// folder holding each file).
    #[arg(long, value_name = "B", requires = "dataset", help_heading = "Fleet")]
    pub build: Option<String>,
}

/// `--split build=A,B`: the two builds of a dataset that `diff` compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The build before.
    pub before: String,
    /// The build after.
    pub after: String,
}

impl Split {
    /// `build=A,B`, two builds that differ.
    pub fn parse(text: &str) -> Result<Split, String> {
        let Some(builds) = text.strip_prefix("build=") else {
            return Err(format!(
                "\"{text}\": --split takes build=A,B (two builds of the dataset)"
            ));
        };
        match builds.split_once(',') {
            Some((before, after)) if !before.is_empty() && !after.is_empty() && before != after => {
                Ok(Split {
                    before: before.to_string(),
                    after: after.to_string(),
                })
            }
            _ => Err(format!(
                "\"{text}\": --split takes build=A,B, two builds that differ"
            )),
        }
    }
}

/// CSV for spreadsheets: the same flags on `report`, `diff` and `export`.
#[derive(Debug, Args)]
pub struct CsvArgs {
    /// Field separator for CSV, e.g. `;` for spreadsheets in locales that
    /// write decimal commas.
    #[arg(
        long,
        default_value_t = ',',
        value_name = "CHAR",
        help_heading = "Output"
    )]
    pub delimiter: char,

    /// CSV (and export's TSV): write decimals with a comma (`4,384`), as
    /// spreadsheets in such locales read them; CSV then needs another
    /// --delimiter.
    #[arg(long, help_heading = "Output")]
    pub decimal_comma: bool,

    /// CSV: write text exactly as read, even a key that starts like a
    /// spreadsheet formula (`=`, `+`, `-`, `@`), which otherwise gets a `'`
    /// in front (TSV, JSON, NDJSON and Parquet always keep it exact).
    #[arg(long, help_heading = "Output")]
    pub raw_text: bool,
}

impl CsvArgs {
    /// The options, checked: one ASCII delimiter, and a decimal comma only
    /// where a comma does not also separate the fields.
    pub fn options(&self, csv: bool) -> Result<CsvOptions> {
        let delimiter = match u8::try_from(self.delimiter) {
            Ok(byte) if self.delimiter.is_ascii() && !matches!(byte, b'"' | b'\n' | b'\r') => byte,
            _ => bail!("--delimiter must be one ASCII character other than a quote or newline"),
        };
        if self.decimal_comma && csv && delimiter == b',' {
            bail!("--decimal-comma needs another --delimiter than ',' (e.g. --delimiter ';')");
        }
        Ok(CsvOptions {
            delimiter,
            decimal_comma: self.decimal_comma,
            raw_text: self.raw_text,
        })
    }

    /// Whether any flag differs from its default: for outputs other than
    /// CSV they would do nothing.
    pub fn given(&self) -> bool {
        self.delimiter != ',' || self.decimal_comma || self.raw_text
    }
}

/// `contend diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Samplings of the old build (one input, one or more samples; `-` for
    /// stdin).
    pub before: PathBuf,

    /// Samplings of the new build (with --split, none: BEFORE is a
    /// dataset folder holding both).
    #[arg(required_unless_present = "split", conflicts_with = "split")]
    pub after: Option<PathBuf>,

    /// BEFORE is a fleet's dataset folder (`export --dataset`): compare its
    /// hosts of build A with those of build B, each host one sample
    /// (docs/fleet.md).
    #[arg(long, value_name = "build=A,B", value_parser = Split::parse, help_heading = "Fleet")]
    pub split: Option<Split>,

    /// Name of the old build (default: its file stem).
    #[arg(long, value_name = "LABEL")]
    pub label_before: Option<String>,

    /// Name of the new build (default: its file stem).
    #[arg(long, value_name = "LABEL")]
    pub label_after: Option<String>,

    /// How the inputs are read.
    #[command(flatten)]
    pub read: ReadArgs,

    /// Which lock kinds spin and which sleep.
    #[command(flatten)]
    pub classes: ClassArgs,

    /// Key columns of the per-group comparison.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_values_t = GroupKey::ALL,
        value_name = "KEY,.."
    )]
    pub by: Vec<GroupKey>,

    /// Groups in each list (regressions, improvements); 0 shows all.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,

    /// Significance level of the tests; 1 turns them off.
    #[arg(
        long,
        default_value_t = 0.05,
        value_name = "P",
        help_heading = "Verdicts"
    )]
    pub alpha: f64,

    /// Exit 1 when a --metric regressed: it rose significantly, by a
    /// shift of more than PCT percent of its before median (10, 10%) or,
    /// for spin_share, PT percentage points (5pt).
    #[arg(long, value_name = "PCT|PTpt", value_parser = Threshold::parse, allow_hyphen_values = true, help_heading = "Verdicts")]
    pub fail_above: Option<Threshold>,

    /// With --fail-above: exit 1 as well when a watched metric's verdict
    /// is inconclusive (too few samples, missing from an input, or an
    /// interval wider than the limit).
    #[arg(long, requires = "fail_above", help_heading = "Verdicts")]
    pub fail_inconclusive: bool,

    /// Metric that --fail-above watches (repeatable) [default: spin_share].
    #[arg(long, value_enum, value_name = "NAME", help_heading = "Verdicts")]
    pub metric: Vec<Metric>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Table, help_heading = "Output")]
    pub format: DiffFormat,

    /// When to use colour in the terminal report and its warnings on
    /// stderr (auto: on a terminal, unless NO_COLOR or TERM=dumb)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Output")]
    pub color: ColorChoice,

    /// Fit the tables to N columns (default: the terminal's, also when
    /// piped into a pager; COLUMNS when set).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(20..), help_heading = "Output")]
    pub width: Option<u16>,

    /// Also write a differential flame graph to FILE (SVG): the after
    /// side's call stacks, coloured only where the change is significant.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub flame: Option<PathBuf>,

    /// Which table `--format csv` writes: every group compared, or the
    /// metrics (the summary table, with its intervals and verdicts).
    #[arg(long, value_enum, default_value_t = DiffTable::Groups, help_heading = "Output")]
    pub what: DiffTable,

    /// How `--format csv` looks to a spreadsheet.
    #[command(flatten)]
    pub csv: CsvArgs,
}

impl DiffArgs {
    /// The comparison options these flags ask for.
    pub fn options(&self) -> DiffOptions {
        DiffOptions {
            classes: self.classes.classes(),
            by: unique_keys(&self.by),
            alpha: self.alpha,
            fail_above: self.fail_above,
            fail_metrics: if self.metric.is_empty() {
                vec![Metric::SpinShare]
            } else {
                self.metric.clone()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn flag_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn by_keeps_order_and_drops_repeats() {
        let cli = Cli::parse_from(["contend", "report", "--by", "caller,symbol,caller"]);
        let Command::Report(args) = cli.command else {
            panic!("parsed as another command");
        };
        assert_eq!(
            args.analysis.options(20, SortKey::Total).by,
            vec![GroupKey::Caller, GroupKey::Symbol]
        );
    }
}
