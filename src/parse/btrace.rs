//! Map printouts of OpenBSD btrace(8) and bpftrace.
//!
//! ```text
//! @wait[kernel, kernel_lock, reaper]: 1751151
//! @wait[rwlock, kernel_map_store, vm_map_lock_ln]: 12417639
//! @kernel_lock[reaper]: 1751151
//! @[
//!     kernel_lock+0x24
//!     reaper+0x9c
//! ]: 1751151
//! ```
//!
//! Keys map to category, symbol and caller by `--keys`, or by their count
//! (3: category, symbol, caller; 2: symbol, caller; 1: symbol); the map
//! name is the category when no key is. A stack key spanning lines is a
//! caller: its innermost frame (the first printed), or `--stack-frame N`.
//! A map printed again after other lines (an `interval` probe that prints
//! and clears) starts a new sample. Histograms (`hist()`, `lhist()`) are
//! recognised and skipped with a note: they hold counts per bucket, not
//! wait sums.

use std::io::BufRead;

use super::lines::{Utf8Repair, each_line};
use super::{ParseOptions, ParseStats, Row, Sink, fields};
use crate::error::{InputError, shorten};

/// What a map key is, for `--keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MapKey {
    /// The lock type.
    Category,
    /// The lock's symbol.
    Symbol,
    /// The waiting function.
    Caller,
    /// A key to ignore (a pid, a CPU number).
    Skip,
}

/// One map entry, its keys borrowed from the line or the stack frames.
struct Entry<'a> {
    map: &'a str,
    keys: Vec<&'a str>,
    /// Index in `keys` of a multi-line stack key, if any.
    stack_key: Option<usize>,
    value: &'a str,
}

/// True for a line that only a btrace printout has, for detection.
pub fn is_map_line(line: &str) -> bool {
    let text = line.trim_end();
    text.starts_with('@') && (split_entry(text).is_some() || opens_stack(text).is_some())
}

/// Splits `@name[k1, k2]: value` or `@name: value`.
fn split_entry(text: &str) -> Option<(&str, Vec<&str>, &str)> {
    let body = text.strip_prefix('@')?;
    let (head, value) = body.rsplit_once(": ")?;
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match head.split_once('[') {
        Some((map, keys)) => {
            let keys = keys.strip_suffix(']')?;
            Some((map, keys.split(", ").map(str::trim).collect(), value))
        }
        None if is_map_name(head) => Some((head, Vec::new(), value)),
        None => None,
    }
}

fn is_map_name(name: &str) -> bool {
    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `@name[` (a stack key follows on the next lines), and any keys before it:
/// `@name[reaper, ` opens a stack as the second key.
fn opens_stack(text: &str) -> Option<(&str, Vec<&str>)> {
    let body = text.strip_prefix('@')?;
    let (map, keys) = body.split_once('[')?;
    if !is_map_name(map) || keys.contains(']') {
        return None;
    }
    let keys = keys.trim_end();
    let before: Vec<&str> = keys
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    (keys.is_empty() || keys.ends_with(',')).then_some((map, before))
}

/// `@name:` alone: a histogram's title line.
fn is_histogram_title(text: &str) -> bool {
    text.strip_prefix('@')
        .and_then(|body| body.strip_suffix(':'))
        .is_some_and(|head| !head.is_empty() || text == "@:")
}

/// `[1K, 2K)   12 |@@@@     |`: a histogram bucket.
fn is_histogram_bucket(text: &str) -> bool {
    (text.starts_with('[') || text.starts_with('(')) && text.ends_with('|')
}

/// The most frames a stack key holds (bpftrace prints at most 127): more
/// is not a stack but a printout without its closing `]: value`.
const MAX_STACK_FRAMES: usize = 1024;

/// A stack key being read: the map, the keys before it, the frames, and
/// the line it began on.
struct OpenStack {
    map: String,
    before: Vec<String>,
    frames: Vec<String>,
    /// The frames' bytes, bounded like a line.
    bytes: usize,
    line: u64,
}

/// The state between lines.
#[derive(Default)]
struct Reader {
    /// Maps printed in the current sample.
    printed: Vec<String>,
    /// The map of the printout being read, None after any other line.
    current: Option<String>,
    /// A stack key being read.
    stack: Option<OpenStack>,
    in_histogram: bool,
    stats: ParseStats,
    samples: u64,
}

/// Parses btrace/bpftrace map printouts, reporting samples and rows to
/// `sink`.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, InputError> {
    let mut state = Reader::default();
    let mut utf8 = Utf8Repair::new(options.lossy);
    each_line(reader, name, &mut utf8, |number, line| {
        state.line(number, line, options, sink)
    })?;
    utf8.record(&mut state.stats);
    if let Some(stack) = &state.stack {
        return Err(InputError::whole(
            name,
            format!(
                "the input ends inside a stack key of @{} (no closing `]: value`)",
                stack.map
            ),
        ));
    }
    if state.samples == 0 && state.stats.skipped_histograms == 0 {
        return Err(InputError::whole(
            name,
            "no btrace map found (expected lines such as `@wait[kernel_lock, reaper]: 1751151`)",
        ));
    }
    Ok(state.stats)
}

impl Reader {
    fn line(
        &mut self,
        number: u64,
        line: &str,
        options: &ParseOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), String> {
        let text = line.trim();
        if self.stack.is_some() {
            return self.stack_line(number, text, options, sink);
        }
        if self.in_histogram && is_histogram_bucket(text) {
            return Ok(());
        }
        self.in_histogram = false;
        if let Some((map, keys, value)) = split_entry(text) {
            let entry = Entry {
                map,
                keys,
                stack_key: None,
                value,
            };
            return self.entry(number, &entry, options, sink);
        }
        if let Some((map, before)) = opens_stack(text) {
            self.stack = Some(OpenStack {
                map: map.to_string(),
                before: before.into_iter().map(String::from).collect(),
                frames: Vec::new(),
                bytes: 0,
                line: number,
            });
            return Ok(());
        }
        if is_histogram_title(text) {
            self.in_histogram = true;
            self.current = None;
            self.stats.skip_histogram(number);
            return Ok(());
        }
        self.current = None;
        if text.is_empty() {
            return Ok(());
        }
        if text.starts_with('@') {
            return Err(format!(
                "a map line without a value: \"{}\" (expected `@map[keys]: value`)",
                shorten(text)
            ));
        }
        self.stats
            .skip_or_refuse(number, text, options.strict, "a btrace map printout")
    }

    /// A line inside a stack key: a frame, or `]: value` / `, key]: value`
    /// closing it.
    fn stack_line(
        &mut self,
        number: u64,
        text: &str,
        options: &ParseOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), String> {
        if !(text.starts_with(']') || text.starts_with(',')) {
            let stack = self.stack.as_mut().expect("inside a stack");
            stack.bytes += text.len();
            if stack.frames.len() >= MAX_STACK_FRAMES || stack.bytes > super::lines::MAX_LINE {
                return Err(format!(
                    "a stack key of @{} runs over {MAX_STACK_FRAMES} frames or 1 MiB from \
                     line {}: no closing `]: value`?",
                    stack.map, stack.line
                ));
            }
            if !text.is_empty() {
                stack.frames.push(text.to_string());
            }
            return Ok(());
        }
        let OpenStack {
            map,
            before,
            frames,
            ..
        } = self.stack.take().expect("inside a stack");
        let (after, value) = text.rsplit_once("]:").ok_or_else(|| {
            format!(
                "a stack key of @{map} closes without a value: \"{}\"",
                shorten(text)
            )
        })?;
        let after: Vec<&str> = after
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect();
        let frame = frames
            .get(options.stack_frame)
            .or(frames.last())
            .map_or("", String::as_str);
        let mut keys: Vec<&str> = before.iter().map(String::as_str).collect();
        let stack_key = keys.len();
        keys.push(frame);
        keys.extend(after);
        let entry = Entry {
            map: &map,
            keys,
            stack_key: Some(stack_key),
            value: value.trim(),
        };
        self.entry(number, &entry, options, sink)
    }

    fn entry(
        &mut self,
        number: u64,
        entry: &Entry<'_>,
        options: &ParseOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), String> {
        self.start_printout(entry.map, sink)?;
        let mut row = Row::new(number);
        row.dur_ns = fields::duration(&format!("@{}", entry.map), entry.value, options.unit)?;
        let roles = key_roles(entry, &options.keys)?;
        if !roles.contains(&MapKey::Category) {
            row.category = entry.map;
        }
        for (key, role) in entry.keys.iter().zip(roles) {
            match role {
                MapKey::Category => row.category = key,
                MapKey::Symbol => row.symbol = key,
                MapKey::Caller => row.caller = key,
                MapKey::Skip => {}
            }
        }
        sink.row(&row.with_max())
    }

    /// A map printed again after other lines starts a new sample.
    fn start_printout(&mut self, map: &str, sink: &mut dyn Sink) -> Result<(), String> {
        if self.current.as_deref() == Some(map) {
            return Ok(());
        }
        if self.samples == 0 || self.printed.iter().any(|m| m == map) {
            sink.sample(Vec::new())?;
            self.samples += 1;
            self.printed.clear();
        }
        self.printed.push(map.to_string());
        self.current = Some(map.to_string());
        Ok(())
    }
}

/// The role of each key: `--keys` when given, else by count, a stack key
/// being the caller.
fn key_roles(entry: &Entry<'_>, given: &[MapKey]) -> Result<Vec<MapKey>, String> {
    if !given.is_empty() {
        if given.len() != entry.keys.len() {
            return Err(format!(
                "@{} has {} keys but --keys names {}",
                entry.map,
                entry.keys.len(),
                given.len()
            ));
        }
        return Ok(given.to_vec());
    }
    let plain = entry.keys.len() - usize::from(entry.stack_key.is_some());
    let mut roles: Vec<MapKey> = match (plain, entry.stack_key.is_some()) {
        (0, _) => vec![],
        (1, _) => vec![MapKey::Symbol],
        (2, false) => vec![MapKey::Symbol, MapKey::Caller],
        (2, true) => vec![MapKey::Category, MapKey::Symbol],
        (3, false) => vec![MapKey::Category, MapKey::Symbol, MapKey::Caller],
        _ => {
            return Err(format!(
                "@{} has {} keys; say which is which with --keys (e.g. --keys \
                 category,symbol,caller,skip)",
                entry.map,
                entry.keys.len()
            ));
        }
    };
    if let Some(at) = entry.stack_key {
        roles.insert(at, MapKey::Caller);
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::InputFormat;
    use crate::parse::testing::{collect, row};

    fn parse_text(text: &str) -> crate::parse::testing::Collect {
        collect(text, InputFormat::Btrace, &ParseOptions::default())
            .unwrap()
            .0
    }

    #[test]
    fn keys_by_count_and_map_name_as_category() {
        let sink = parse_text(
            "@wait[kernel, kernel_lock, reaper]: 1751151\n\
             @kernel_lock[reaper]: 204509\n\
             @spin[sched_lock, wakeup_n]: 94644\n\
             @total: 5\n",
        );
        assert_eq!(
            sink.samples[0].1,
            [
                row(
                    1,
                    1_751_151,
                    1,
                    1_751_151,
                    ["kernel", "kernel_lock", "reaper"]
                ),
                row(2, 204_509, 1, 204_509, ["kernel_lock", "reaper", ""]),
                row(3, 94_644, 1, 94_644, ["spin", "sched_lock", "wakeup_n"]),
                row(4, 5, 1, 5, ["total", "", ""]),
            ]
        );
    }

    #[test]
    fn explicit_keys() {
        let options = ParseOptions {
            keys: vec![MapKey::Caller, MapKey::Skip, MapKey::Symbol],
            ..ParseOptions::default()
        };
        let (sink, _) = collect(
            "@w[reaper, 42, kernel_lock]: 7\n",
            InputFormat::Btrace,
            &options,
        )
        .unwrap();
        assert_eq!(
            sink.samples[0].1,
            [row(1, 7, 1, 7, ["w", "kernel_lock", "reaper"])]
        );
        let err = collect("@w[a, b]: 7\n", InputFormat::Btrace, &options).unwrap_err();
        assert_eq!(err.to_string(), "t.txt:1: @w has 2 keys but --keys names 3");
    }

    #[test]
    fn repeated_printouts_are_samples() {
        let sink = parse_text(
            "Attaching 2 probes...\n\
             @wait[kernel, kernel_lock, reaper]: 3\n\
             @wait[mutex, sched_lock, wakeup_n]: 2\n\
             @count[reaper]: 9\n\
             \n\
             12:00:01\n\
             @wait[kernel, kernel_lock, reaper]: 5\n\
             @count[reaper]: 1\n",
        );
        assert_eq!(sink.samples.len(), 2);
        assert_eq!(sink.samples[0].1.len(), 3);
        assert_eq!(sink.samples[1].1.len(), 2);
    }

    #[test]
    fn stack_keys_take_a_frame_as_caller() {
        let text = "@[\n    kernel_lock+0x24\n    reaper+0x9c\n    proc_trampoline+0x1c\n]: 1751151\n\
                    @locks[kernel_lock, \n    mtx_enter+0x10\n    wakeup_n+0x40\n, 12]: 3\n";
        let options = ParseOptions {
            stack_frame: 1,
            ..ParseOptions::default()
        };
        let (sink, _) = collect(text, InputFormat::Btrace, &options).unwrap();
        assert_eq!(sink.samples[0].1[0].6, "reaper+0x9c");
        assert_eq!(sink.samples[0].1[0].4, "");
        let second = &sink.samples[0].1[1];
        assert_eq!(
            (second.4.as_str(), second.5.as_str(), second.6.as_str()),
            ("kernel_lock", "12", "wakeup_n+0x40")
        );
        let sink = parse_text(text);
        assert_eq!(sink.samples[0].1[0].6, "kernel_lock+0x24");
    }

    #[test]
    fn histograms_are_skipped_and_counted() {
        let (sink, stats) = collect(
            "@lat:\n[1K, 2K)   12 |@@@@      |\n[2K, 4K)   30 |@@@@@@@@@@|\n\n@wait[kernel_lock, reaper]: 9\n",
            InputFormat::Btrace,
            &ParseOptions::default(),
        )
        .unwrap();
        assert_eq!(sink.samples[0].1.len(), 1);
        assert_eq!(stats.skipped_histograms, 1);
        assert_eq!(stats.first_histogram_line, Some(1));
        assert_eq!(stats.skipped_lines, 0);
    }

    #[test]
    fn malformed_maps_are_errors() {
        let options = ParseOptions::default();
        let err = collect("@wait[reaper]: lots\n", InputFormat::Btrace, &options).unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.txt:1: @wait \"lots\" is not a number of nanoseconds"
        );
        let err = collect("@wait[reaper]\n", InputFormat::Btrace, &options).unwrap_err();
        assert!(
            err.to_string().contains("a map line without a value"),
            "{err}"
        );
        let err = collect("@[\n  f+0x1\n", InputFormat::Btrace, &options).unwrap_err();
        assert!(err.to_string().contains("ends inside a stack key"), "{err}");
        let err = collect("@w[a, b, c, d]: 1\n", InputFormat::Btrace, &options).unwrap_err();
        assert!(
            err.to_string().contains("say which is which with --keys"),
            "{err}"
        );
    }
}
