//! Linux `/proc/lock_stat` (CONFIG_LOCK_STAT, the kernel's
//! Documentation/locking/lockstat.rst): per lock class, its contentions
//! and wait and hold times in microseconds with two decimals, then the
//! places that contended for it.
//!
//! ```text
//! lock_stat version 0.4
//! -------------------------------------------------------------------- ...
//!                               class name    con-bounces    contentions   waittime-min   waittime-max waittime-total   waittime-avg    acq-bounces   acquisitions   holdtime-min   holdtime-max holdtime-total   holdtime-avg
//! -------------------------------------------------------------------- ...
//!
//!                          &mm->mmap_sem-W:            46             84           0.26         939.10       16371.53         194.90          47291        2922365           0.16     2220301.69 17464026916.32        5975.99
//!                          ---------------
//!                            &mm->mmap_sem             96          [<ffffffff815351c4>] __do_page_fault+0x1d4/0x510
//! ```
//!
//! A class line is a name and a colon, then 12 figures (version 0.4), 10
//! (0.2 and 0.3: no averages) or 8 (0.1: no bounces either); the count
//! tells the version, so a file cut by `grep :` or `head`, without its
//! header, reads the same. `-W` and `-R` name a class's write and read
//! sides. The kernel prints no lock type: the rows are of no known class,
//! ranked by total wait.
//!
//! A class line is a row: `waittime-total` its dur, `contentions` its
//! events, `waittime-max` its max; a class never contended has no wait
//! (left out, counted). Its hold time is set apart (`--events hold` ranks
//! it). The contention points under a class (`[<addr>] func+0x1c7/0x910`)
//! count contentions per caller but carry no time: counted in a note, not
//! given times lock_stat does not have.

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::duration::parse_duration;
use super::format::{Format, NO_STATES};
use super::mail::{PastedLines, parse_pasted};
use super::{Events, LockClass, ParseOptions, ParseStats, Row, RowWaits, Sink, Unit, fields};
use crate::error::shorten;

/// The category of hold rows under `--events hold`.
pub const HOLD: &str = "hold";

/// The figures of a class line that contend reads, by position for each
/// version's count of figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Positions {
    contentions: usize,
    wait_max: usize,
    wait_total: usize,
    acquisitions: usize,
    hold_max: usize,
    hold_total: usize,
}

/// Where the figures are in a class line of `count` figures.
fn positions(count: usize) -> Option<Positions> {
    Some(match count {
        // con-bounces contentions wait-min wait-max wait-total wait-avg
        // acq-bounces acquisitions hold-min hold-max hold-total hold-avg
        12 => Positions {
            contentions: 1,
            wait_max: 3,
            wait_total: 4,
            acquisitions: 7,
            hold_max: 9,
            hold_total: 10,
        },
        // The same without the averages.
        10 => Positions {
            contentions: 1,
            wait_max: 3,
            wait_total: 4,
            acquisitions: 6,
            hold_max: 8,
            hold_total: 9,
        },
        // Version 0.1: without the bounces either.
        8 => Positions {
            contentions: 0,
            wait_max: 2,
            wait_total: 3,
            acquisitions: 4,
            hold_max: 6,
            hold_total: 7,
        },
        _ => return None,
    })
}

/// A class line: the class name (before its colon) and its figures.
/// Anything before the name (the line numbers of the kernel's own
/// documentation) is not part of it.
fn class_line(text: &str) -> Option<(&str, Vec<&str>)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let name_at = words.iter().position(|word| word.ends_with(':'))?;
    let figures = words[name_at + 1..].to_vec();
    let is_figure = |word: &&str| {
        let (whole, fraction) = word.split_once('.').unwrap_or((word, ""));
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit())
    };
    // Times print with decimals (at least the wait and hold maxima and
    // totals): prose that ends in whole numbers is no class line.
    let decimals = figures.iter().filter(|word| word.contains('.')).count();
    (positions(figures.len()).is_some() && figures.iter().all(is_figure) && decimals >= 4)
        .then(|| (words[name_at].trim_end_matches(':'), figures))
}

/// A contention point: `name  count  [<address>] symbol`.
fn is_point_line(text: &str) -> bool {
    let mut words = text.split_whitespace().rev();
    words.next().is_some()
        && words
            .next()
            .is_some_and(|word| word.starts_with("[<") && word.ends_with(">]"))
        && words
            .next()
            .is_some_and(|word| word.bytes().all(|b| b.is_ascii_digit()))
}

/// True for a line only lock_stat prints, for format detection.
pub fn is_signature_line(line: &str) -> bool {
    let text = line.trim();
    text.starts_with("lock_stat version")
        || (text.contains("class name") && text.contains("con-bounces"))
        || class_line(text).is_some()
}

/// `/proc/lock_stat` as contend knows it.
pub const FORMAT: Format = Format {
    name: "lock-stat",
    summary: "Linux `/proc/lock_stat` (CONFIG_LOCK_STAT): waits and holds per lock class",
    signature: "Linux /proc/lock_stat (`lock_stat version 0.4`, `NAME: figures`)",
    signature_line: Some((6, is_signature_line)),
    lock_class,
    reads_mail: true,
    has_kernel_lock: false,
    waits_hint: "lock_stat prints totals per lock class, not single waits",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// The class of lock_stat's rows: no lock type is printed, so waits are of
/// no known class; hold rows (`--events hold`) are holds.
pub fn lock_class(category: &str) -> LockClass {
    if category == HOLD {
        LockClass::Hold
    } else {
        LockClass::Other
    }
}

/// The parser's state between lines.
struct Reader<'o> {
    options: &'o ParseOptions,
    /// A sample was started, and whether a class line has been read in it.
    started: bool,
    classes_in_sample: u64,
    stats: ParseStats,
}

/// Parses `/proc/lock_stat`: one sample, or one per `lock_stat version`
/// line when snapshots are pasted one after the other.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let state = Reader {
        options,
        started: false,
        classes_in_sample: 0,
        stats: ParseStats::default(),
    };
    parse_pasted(reader, name, options.lossy, state, sink)
}

impl PastedLines for Reader<'_> {
    const NOTHING_FOUND: &'static str = "no /proc/lock_stat class line found (expected `NAME:` and 8, 10 or 12 figures, \
             as under `lock_stat version 0.4`)";

    fn on_line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        self.line(number, line, sink)
    }

    fn stats(&mut self) -> &mut ParseStats {
        &mut self.stats
    }

    fn found(&self) -> bool {
        self.started
    }
}

impl Reader<'_> {
    fn line(&mut self, number: u64, line: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        let text = line.trim();
        if text.is_empty() || is_rule(text) || is_header(text) {
            return Ok(());
        }
        if text.contains("lock_stat version") {
            if self.classes_in_sample > 0 {
                self.stats.set_apart.add(SetApart::ExtraTables, number);
                self.start(sink)?;
            }
            return Ok(());
        }
        if let Some((class, figures)) = class_line(text) {
            return self.class(number, text, class, &figures, sink);
        }
        if self.started && is_point_line(text) {
            self.stats.set_apart.add(SetApart::ContentionPoints, number);
            return Ok(());
        }
        self.stats
            .skip_or_refuse(number, text, self.options, "/proc/lock_stat")
            .map_err(SinkError::from)
    }

    fn start(&mut self, sink: &mut dyn Sink) -> Result<(), SinkError> {
        sink.sample(Vec::new())?;
        self.started = true;
        self.classes_in_sample = 0;
        Ok(())
    }

    /// A class line: a wait row (a contended class), its hold time set
    /// apart; or, under `--events hold`, a hold row.
    fn class(
        &mut self,
        number: u64,
        text: &str,
        class: &str,
        figures: &[&str],
        sink: &mut dyn Sink,
    ) -> Result<(), SinkError> {
        if !self.started {
            self.start(sink)?;
        }
        self.classes_in_sample += 1;
        let at = positions(figures.len()).expect("class_line checked the count");
        let count = |column: &str, index: usize| fields::count(column, figures[index]);
        let time = |column: &str, index: usize| micros(column, figures[index], text);
        let contentions = count("contentions", at.contentions)?;
        let acquisitions = count("acquisitions", at.acquisitions)?;
        let hold_total = time("holdtime-total", at.hold_total)?;
        let hold_max = time("holdtime-max", at.hold_max)?;
        if self.options.events == Events::Hold {
            return sink.row(&Row {
                dur_ns: hold_total,
                count: acquisitions,
                max_ns: hold_max,
                category: HOLD,
                symbol: class,
                waits: RowWaits::Counted,
                ..Row::new(number)
            });
        }
        self.stats.set_apart_hold(number, hold_total)?;
        if contentions == 0 {
            self.stats.set_apart.add(SetApart::UncontendedRows, number);
            return Ok(());
        }
        sink.row(&Row {
            dur_ns: time("waittime-total", at.wait_total)?,
            count: contentions,
            max_ns: time("waittime-max", at.wait_max)?,
            symbol: class,
            waits: RowWaits::Counted,
            ..Row::new(number)
        })
    }
}

/// Microseconds as lock_stat prints them (`939.10`), to nanoseconds.
fn micros(column: &str, figure: &str, line: &str) -> Result<u64, SinkError> {
    parse_duration(figure, Unit::Us)
        .map_err(|_| {
            format!(
                "{column} \"{figure}\" µs is past 2^64 ns: \"{}\"",
                shorten(line)
            )
        })
        .map_err(SinkError::from)
}

/// The dashed and dotted rules between classes and point blocks (after
/// the line numbers of the kernel's documentation, if any).
fn is_rule(text: &str) -> bool {
    let rule = text
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .trim_start();
    rule.len() >= 3 && (rule.bytes().all(|b| b == b'-') || rule.bytes().all(|b| b == b'.'))
}

/// The column titles.
fn is_header(text: &str) -> bool {
    text.contains("class name") && text.contains("contentions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InputFormat::LockStat as LOCK_STAT;
    use crate::parse::testing::{collect, row as owned};

    const V04: &str = "\
lock_stat version 0.4
-----------------------------------------------------------------------------------------------
                              class name    con-bounces    contentions   waittime-min   waittime-max waittime-total   waittime-avg    acq-bounces   acquisitions   holdtime-min   holdtime-max holdtime-total   holdtime-avg
-----------------------------------------------------------------------------------------------

                         &mm->mmap_sem-W:            46             84           0.26         939.10       16371.53         194.90          47291        2922365           0.16     2220301.69 17464026916.32        5975.99
                         ---------------
                           &mm->mmap_sem             96          [<ffffffff815351c4>] __do_page_fault+0x1d4/0x510
                         ---------------
                           &mm->mmap_sem             60          [<ffffffff81129e29>] SyS_mprotect+0xe9/0x250

.............................................................................................
              &inode->i_data.tree_lock-R:             0              0           0.00           0.00           0.00          23302         231198           0.25           8.45       98023.38
";

    #[test]
    fn class_lines_are_rows_points_are_counted_and_holds_set_apart() {
        let (sink, stats) = collect(V04, LOCK_STAT, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples.len(), 1);
        assert_eq!(
            sink.samples[0].1,
            [owned(
                6,
                16_371_530,
                84,
                939_100,
                ["", "&mm->mmap_sem-W", ""]
            )]
        );
        assert_eq!(stats.set_apart[SetApart::ContentionPoints].count, 2);
        assert_eq!(
            stats.set_apart[SetApart::ContentionPoints].first_line,
            Some(8)
        );
        assert_eq!(stats.set_apart[SetApart::UncontendedRows].count, 1);
        assert_eq!(stats.set_apart[SetApart::HoldRows].count, 2);
        assert_eq!(stats.hold_ns, 17_464_026_916_320 + 98_023_380);
        assert_eq!(stats.skipped_lines, 0);
    }

    #[test]
    fn under_events_hold_classes_are_hold_rows() {
        let holds = ParseOptions {
            events: Events::Hold,
            ..ParseOptions::default()
        };
        let (sink, _) = collect(V04, LOCK_STAT, &holds).unwrap();
        assert_eq!(
            sink.samples[0].1[1],
            owned(
                13,
                98_023_380,
                231_198,
                8_450,
                [HOLD, "&inode->i_data.tree_lock-R", ""]
            )
        );
    }

    #[test]
    fn every_versions_count_of_figures_and_what_is_not_a_class_line() {
        let v01 = "&rq->lock:   13128   0.43   190.53   103881.26   3453404   0.00   401.11   13224683.11";
        let (name, figures) = class_line(v01).unwrap();
        assert_eq!((name, figures.len()), ("&rq->lock", 8));
        assert_eq!(class_line("we ran: 1 2 3 4 5 6 7 8 9 10"), None);
        assert_eq!(class_line("total: 1.5 2.5 3.5 4.5 5.5"), None);
        assert!(is_point_line(
            "&rq->lock  645  [<ffffffff8103bfc4>] task_rq_lock+0x43/0x75"
        ));
        assert!(!is_point_line("see [<ffffffff8103bfc4>] above"));
    }

    #[test]
    fn a_time_past_2_64_ns_is_an_error_at_its_line() {
        let line = "big: 1 1 0.00 0.00 99999999999999999.00 0.00 1 1 0.00 0.00 0.00 0.00\n";
        let error = collect(line, LOCK_STAT, &ParseOptions::default()).unwrap_err();
        assert!(error.to_string().contains("past 2^64 ns"), "{error}");
    }
}
