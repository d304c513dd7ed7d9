//! FreeBSD's LOCK_PROFILING(9): `sysctl debug.lock.prof.stats`, the time
//! each acquisition point waited for and held its lock, in microseconds.
//!
//! ```text
//!      max  wait_max       total  wait_total       count    avg wait_avg cnt_hold cnt_lock name
//!      210       660     2889429     7854725      568650      5     13  0 562770 /usr/src/sys/netinet/tcp_input.c:1013 (rw:tcp)
//! ```
//!
//! The kernel (sys/kern/subr_lock.c) keeps nanoseconds and prints them
//! divided by 1000; a row is one acquisition point, `file:line
//! (class:lock name)`, the class one of `spin mutex`, `sleep mutex`, `rw`,
//! `sx`, `rm`, `sleepable rm`, `lockmgr`. Before FreeBSD 8 there was no
//! `wait_max` column (nine columns). The rows come unsorted, and users
//! pipe them through `sort | head`, which often loses the header: a row
//! is known by its shape (the figures, then `file:line (class:name)`).
//!
//! `wait_total` is the row's dur, `cnt_lock` (the acquisitions that had to
//! wait) its events, `wait_max` its max; the class is the category, and
//! only `spin mutex` spins (sleep mutexes spin while the owner runs, then
//! block). A row that never waited is left out, counted; hold times
//! (`total`, `max`) are set apart, or ranked with `--events hold`.

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::format::{Format, NO_STATES};
use super::mail::{PastedLines, parse_pasted};
use super::{Events, LockClass, ParseOptions, ParseStats, Row, RowWaits, Sink, fields};
use crate::error::shorten;

/// The category of hold rows under `--events hold`.
pub const HOLD: &str = "hold";

/// The figures of a row, by position, for its count of figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Positions {
    hold_max: usize,
    wait_max: Option<usize>,
    hold_total: usize,
    wait_total: usize,
    cnt_lock: usize,
}

/// FreeBSD 8 and later: `max wait_max total wait_total count avg wait_avg
/// cnt_hold cnt_lock`; 7: the same without `wait_max`.
fn positions(figures: usize) -> Option<Positions> {
    match figures {
        9 => Some(Positions {
            hold_max: 0,
            wait_max: Some(1),
            hold_total: 2,
            wait_total: 3,
            cnt_lock: 8,
        }),
        8 => Some(Positions {
            hold_max: 0,
            wait_max: None,
            hold_total: 1,
            wait_total: 2,
            cnt_lock: 7,
        }),
        _ => None,
    }
}

/// A row split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts<'l> {
    figures: Vec<&'l str>,
    /// `file:line` as printed.
    point: &'l str,
    class: &'l str,
    lock: &'l str,
}

/// A row: whole numbers, then `file:line (class:lock name)` (the lock
/// name may hold blanks and parentheses: `vm map (user)`).
fn parts(text: &str) -> Option<Parts<'_>> {
    let text = text.trim();
    let mut figures = Vec::new();
    let mut rest = text;
    loop {
        let (word, after) = rest.split_once(char::is_whitespace)?;
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
        figures.push(word);
        rest = after.trim_start();
    }
    positions(figures.len())?;
    let (point, owner) = rest.split_once(char::is_whitespace)?;
    let inner = owner.trim().strip_prefix('(')?.strip_suffix(')')?;
    let (class, lock) = inner.split_once(':')?;
    let (_, line) = point.rsplit_once(':')?;
    (!class.is_empty() && line.bytes().all(|b| b.is_ascii_digit())).then_some(Parts {
        figures,
        point,
        class,
        lock,
    })
}

/// The header line.
fn is_header(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.first() == Some(&"max")
        && words.contains(&"wait_total")
        && words.contains(&"cnt_lock")
        && words.last() == Some(&"name")
}

/// True for a line only LOCK_PROFILING prints, for format detection.
pub fn is_signature_line(line: &str) -> bool {
    let text = line.trim();
    is_header(text) || parts(text).is_some()
}

/// LOCK_PROFILING as contend knows it.
pub const FORMAT: Format = Format {
    name: "lock-profiling",
    summary: "FreeBSD LOCK_PROFILING(9): `sysctl debug.lock.prof.stats`, waits and holds per acquisition point",
    signature: "FreeBSD LOCK_PROFILING (`max  wait_max  total  wait_total ... name`)",
    signature_line: Some((7, is_signature_line)),
    lock_class,
    reads_mail: true,
    has_kernel_lock: false,
    waits_hint: "LOCK_PROFILING prints totals per acquisition point, not single waits",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// Only spin mutexes spin; every other class blocks.
pub fn lock_class(category: &str) -> LockClass {
    match category {
        "spin mutex" => LockClass::Spin,
        HOLD => LockClass::Hold,
        _ => LockClass::Sleep,
    }
}

/// The parser's state between lines.
struct Reader<'o> {
    options: &'o ParseOptions,
    started: bool,
    stats: ParseStats,
}

/// Parses LOCK_PROFILING output: one sample.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let state = Reader {
        options,
        started: false,
        stats: ParseStats::default(),
    };
    parse_pasted(reader, name, options.lossy, state, sink)
}

impl PastedLines for Reader<'_> {
    const NOTHING_FOUND: &'static str =
        "no LOCK_PROFILING row found (expected figures, then `file:line (class:lock)`)";

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
        if text.is_empty() || is_header(text) {
            return Ok(());
        }
        let Some(parts) = parts(text) else {
            return self
                .stats
                .skip_or_refuse(number, text, self.options, "LOCK_PROFILING output")
                .map_err(SinkError::from);
        };
        if !self.started {
            sink.sample(Vec::new())?;
            self.started = true;
        }
        let at = positions(parts.figures.len()).expect("parts checked the count");
        let figure = |column: &str, index: usize| fields::count(column, parts.figures[index]);
        let micros = |column: &str, index: usize| -> Result<u64, SinkError> {
            figure(column, index)?
                .checked_mul(1000)
                .ok_or_else(|| {
                    format!(
                        "{column} \"{}\" µs is past 2^64 ns: \"{}\"",
                        parts.figures[index],
                        shorten(text)
                    )
                })
                .map_err(SinkError::from)
        };
        let hold_total = micros("total", at.hold_total)?;
        if self.options.events == Events::Hold {
            return sink.row(&Row {
                dur_ns: hold_total,
                count: 1,
                max_ns: micros("max", at.hold_max)?,
                category: HOLD,
                symbol: parts.lock,
                caller: parts.point,
                waits: RowWaits::Counted,
                ..Row::new(number)
            });
        }
        self.stats.set_apart_hold(number, hold_total)?;
        let wait_total = micros("wait_total", at.wait_total)?;
        if wait_total == 0 {
            self.stats.set_apart.add(SetApart::UncontendedRows, number);
            return Ok(());
        }
        let wait_max = match at.wait_max {
            Some(index) => micros("wait_max", index)?,
            None => wait_total,
        };
        sink.row(&Row {
            dur_ns: wait_total,
            count: figure("cnt_lock", at.cnt_lock)?,
            max_ns: wait_max,
            category: parts.class,
            symbol: parts.lock,
            caller: parts.point,
            waits: RowWaits::Counted,
            ..Row::new(number)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InputFormat::LockProfiling as LOCK_PROFILING;
    use crate::parse::testing::{collect, row as owned};

    /// One row as subr_lock.c's `lock_prof_output` prints it (FreeBSD 8
    /// and later): `"%8ju %9ju %11ju %11ju %11ju %6ju %6ju %2ju %6ju
    /// %s:%d (%s:%s)\n"`, times in µs.
    fn encode(figures: [u64; 9], file: &str, line: u32, class: &str, lock: &str) -> String {
        let [
            max,
            wait_max,
            total,
            wait_total,
            count,
            avg,
            wait_avg,
            cnt_hold,
            cnt_lock,
        ] = figures;
        format!(
            "{max:8} {wait_max:9} {total:11} {wait_total:11} {count:11} {avg:6} {wait_avg:6} \
             {cnt_hold:2} {cnt_lock:6} {file}:{line} ({class}:{lock})\n"
        )
    }

    const HEADER: &str = "\n     max  wait_max       total  wait_total       count    avg \
                          wait_avg cnt_hold cnt_lock name\n";

    #[test]
    fn rows_as_the_kernel_prints_them_with_and_without_the_header() {
        let rows = encode(
            [39, 19758, 87, 108069, 4, 21, 27017, 0, 3],
            "kern/kern_sx.c",
            581,
            "sx",
            "allproc",
        ) + &encode(
            [3, 5, 900, 11, 300, 3, 0, 0, 2],
            "/usr/src/sys/kern/sched_ule.c",
            2250,
            "spin mutex",
            "sched lock 0",
        ) + &encode(
            [1, 0, 5, 0, 5, 1, 0, 0, 0],
            "vm/vm_map.c",
            4000,
            "sx",
            "vm map (user)",
        );
        for text in [format!("{HEADER}{rows}"), rows.clone()] {
            let (sink, stats) = collect(&text, LOCK_PROFILING, &ParseOptions::default()).unwrap();
            let line = |n: u64| n + text.lines().count() as u64 - 3;
            assert_eq!(
                sink.samples[0].1,
                [
                    owned(
                        line(1),
                        108_069_000,
                        3,
                        19_758_000,
                        ["sx", "allproc", "kern/kern_sx.c:581"]
                    ),
                    owned(
                        line(2),
                        11_000,
                        2,
                        5_000,
                        [
                            "spin mutex",
                            "sched lock 0",
                            "/usr/src/sys/kern/sched_ule.c:2250"
                        ]
                    ),
                ]
            );
            assert_eq!(stats.set_apart[SetApart::UncontendedRows].count, 1);
            assert_eq!(stats.set_apart[SetApart::HoldRows].count, 3);
            assert_eq!(stats.hold_ns, (87 + 900 + 5) * 1000);
            assert_eq!(stats.skipped_lines, 0);
        }
    }

    #[test]
    fn freebsd_7s_nine_columns_have_no_wait_max() {
        // "%6ju %12ju %12ju %11ju %5ju %5ju %12ju %12ju %s:%d (%s:%s)\n"
        let row = format!(
            "{:6} {:12} {:12} {:11} {:5} {:5} {:12} {:12} net/route.c:439 (rw:rtentry)",
            4, 1200, 77, 30, 40, 2, 5, 6
        );
        let (sink, _) = collect(&row, LOCK_PROFILING, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [owned(
                1,
                77_000,
                6,
                77_000,
                ["rw", "rtentry", "net/route.c:439"]
            )]
        );
    }

    #[test]
    fn only_spin_mutexes_spin_and_prose_is_no_row() {
        assert_eq!(lock_class("spin mutex"), LockClass::Spin);
        assert_eq!(lock_class("sleep mutex"), LockClass::Sleep);
        assert_eq!(lock_class("lockmgr"), LockClass::Sleep);
        assert_eq!(parts("10 20 30 40 50 60 70 80 and more (see:below)"), None);
        assert_eq!(
            parts("1 2 3 4 5 6 7 8 a.c:12 (sx:x)").map(|p| p.lock),
            Some("x")
        );
    }
}
