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
//! caller: by default the first frame past the lock primitives (the slow
//! paths, `_raw_spin_lock`, `mutex_lock`, `__mp_lock`, the tracepoint and
//! BPF frames above them), which is the code that wanted the lock; or
//! frame N from the innermost with `--stack-frame N`.
//! A map printed again after other lines (an `interval` probe that prints
//! and clears) starts a new sample. Histograms (`hist()`, `lhist()`) are
//! recognised and skipped with a note: they hold counts per bucket, not
//! wait sums.

use std::io::BufRead;

use super::SetApart;
use super::SinkError;
use super::class::openbsd_class;
use super::format::{Format, NO_STATES};
use super::mail::read_mail_lines;
use super::{ParseOptions, ParseStats, Row, RowWaits, Sink, Values, fields};
use crate::error::{InputError, shorten};

/// What a map key is, for `--keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// That stack folded, outermost frame first (empty without one).
    stack: &'a str,
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

/// `@Namhyung: thanks, see below`: a mail addressing someone, shaped like
/// a map without keys but with words for a value.
fn is_mail_greeting((_, keys, value): &(&str, Vec<&str>, &str)) -> bool {
    keys.is_empty()
        && value.contains(char::is_whitespace)
        && !value.starts_with(|c: char| c.is_ascii_digit())
}

/// A bpftrace statement (`@start_us[tid] = nsecs / 1000;`, `@[kstack] =
/// count()`, `@n++;`, `@total += $d;`): an assignment where a printout has
/// `]: value`.
fn is_script_statement(text: &str) -> bool {
    let after_name = text[1..].trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
    let mut rest = after_name;
    if after_name.starts_with('[') {
        let mut depth = 0usize;
        let close = after_name.char_indices().find(|&(_, c)| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            depth == 0
        });
        let Some((at, _)) = close else {
            return false;
        };
        rest = &after_name[at + 1..];
    }
    let rest = rest.trim_start();
    const OPERATORS: [&str; 12] = [
        "++", "--", "+=", "-=", "*=", "/=", "%=", "|=", "&=", "^=", "<<=", ">>=",
    ];
    (rest.starts_with('=') && !rest.starts_with("=="))
        || OPERATORS.iter().any(|operator| rest.starts_with(operator))
}

/// Functions that take, wait for or trace a lock (their names without
/// leading underscores): Linux's spinlock, rwlock, mutex and rwsem paths,
/// the contention tracepoint and the BPF program on it, OpenBSD's
/// `__mp_lock`, `mtx_enter` and `rw_enter`.
const LOCK_PRIMITIVES: [&str; 33] = [
    "raw_spin_lock",
    "raw_read_lock",
    "raw_write_lock",
    "do_raw_spin_lock",
    "spin_lock",
    "queued_spin_lock",
    "native_queued_spin_lock",
    "pv_queued_spin_lock",
    "queued_read_lock",
    "queued_write_lock",
    "mutex_lock",
    "mutex_spin_on_owner",
    "mutex_optimistic_spin",
    "osq_lock",
    "rwsem_",
    "up_read",
    "up_write",
    "mutex_unlock",
    "down_read",
    "down_write",
    "percpu_down",
    "rt_mutex",
    "rtlock",
    "lock_acquire",
    "traceiter_contention",
    "bpf_trace_",
    "trace_contention",
    "bpf_prog_",
    "mp_lock",
    "kernel_lock",
    "mtx_enter",
    "rw_enter",
    "rrw_enter",
];

/// Whether a frame (`_raw_spin_lock+61`, `__mp_lock+0x6c`) is in a lock
/// primitive.
fn is_lock_primitive(frame: &str) -> bool {
    let function = frame.trim().trim_start_matches('_');
    LOCK_PRIMITIVES
        .iter()
        .any(|primitive| function.starts_with(primitive))
}

/// The default caller of a stack key: the first frame past the lock
/// primitives (the innermost is the lock's own slow path, the same for
/// every caller), or the outermost when every frame is one.
fn caller_frame(frames: &[String]) -> Option<&String> {
    frames
        .iter()
        .find(|frame| !is_lock_primitive(frame))
        .or(frames.last())
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
    printed: std::collections::HashSet<String>,
    /// The map of the printout being read, None after any other line.
    current: Option<String>,
    /// A stack key being read.
    stack: Option<OpenStack>,
    in_histogram: bool,
    stats: ParseStats,
    samples: u64,
    /// Maps the script pasted with the output fills with `count()`, and
    /// the line that says so.
    count_maps: Vec<(String, u64)>,
    /// Maps the script fills with `sum(...)`: times, as read.
    sum_maps: Vec<String>,
}

/// Parses btrace/bpftrace map printouts, reporting samples and rows to
/// btrace(8) and bpftrace map printouts as contend knows them.
pub const FORMAT: Format = Format {
    name: "btrace",
    summary: "btrace(8) and bpftrace map printouts: `@name[key, key]: value`",
    signature: "btrace maps (`@map[keys]: value`)",
    signature_line: Some((3, is_map_line)),
    lock_class: openbsd_class,
    reads_mail: true,
    has_kernel_lock: true,
    waits_hint: "its map values are sums; print each wait from the script instead",
    states_hint: NO_STATES,
    parse: |reader, name, options, sink| parse(reader, name, options, sink),
};

/// `sink`.
pub fn parse<R: BufRead>(
    reader: R,
    name: &str,
    options: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<ParseStats, crate::error::Error> {
    let mut state = Reader::default();
    read_mail_lines(
        reader,
        name,
        options.lossy,
        &mut state,
        |state| &mut state.stats,
        |state, number, line| state.line(number, line, options, sink),
    )?;
    if let Some(stack) = &state.stack {
        return Err(InputError::whole(
            name,
            format!(
                "the input ends inside a stack key of @{} (no closing `]: value`)",
                stack.map
            ),
        )
        .into());
    }
    if state.samples == 0 && state.stats.skipped_histograms > 0 {
        return Err(InputError::whole(
            name,
            format!(
                "no btrace map with values found, only {} histograms (`hist()`: counts per \
                 bucket, not wait time; print wait sums, `@w[...] = sum(...)`)",
                state.stats.skipped_histograms
            ),
        )
        .into());
    }
    if state.samples == 0 {
        return Err(InputError::whole(
            name,
            "no btrace map found (expected lines such as `@wait[kernel_lock, reaper]: 1751151`)",
        )
        .into());
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
    ) -> Result<(), SinkError> {
        let text = line.trim();
        if self.stack.is_some() {
            return self.stack_line(number, text, options, sink);
        }
        if self.in_histogram && is_histogram_bucket(text) {
            return Ok(());
        }
        self.in_histogram = false;
        if let Some((map, keys, value)) = split_entry(text).filter(|entry| !is_mail_greeting(entry))
        {
            let entry = Entry {
                map,
                keys,
                stack_key: None,
                stack: "",
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
            return self
                .stats
                .skip_histogram(number, options.strict, text)
                .map_err(SinkError::from);
        }
        self.current = None;
        if text.is_empty() {
            return Ok(());
        }
        self.note_script(number, text);
        // `@@ -1079,6 +1079,8 @@`: a diff's hunk header in a mail, and
        // `@start[tid] = nsecs;`: the script pasted above its output; not maps.
        let greeting = split_entry(text).is_some_and(|entry| is_mail_greeting(&entry));
        if text.starts_with('@')
            && !text.starts_with("@@ ")
            && !is_script_statement(text)
            && !greeting
        {
            return Err(format!(
                "a map line without a value: \"{}\" (expected `@map[keys]: value`)",
                shorten(text)
            )
            .into());
        }
        self.stats
            .skip_or_refuse(number, text, options, "a btrace map printout")
            .map_err(SinkError::from)
    }

    /// A line inside a stack key: a frame, or `]: value` / `, key]: value`
    /// closing it.
    fn stack_line(
        &mut self,
        number: u64,
        text: &str,
        options: &ParseOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), SinkError> {
        if !(text.starts_with(']') || text.starts_with(',')) {
            let stack = self.stack.as_mut().expect("inside a stack");
            stack.bytes += text.len();
            if stack.frames.len() >= MAX_STACK_FRAMES || stack.bytes > super::lines::MAX_LINE {
                return Err(format!(
                    "a stack key of @{} runs over {MAX_STACK_FRAMES} frames or 1 MiB from \
                     line {}: no closing `]: value`?",
                    stack.map, stack.line
                )
                .into());
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
        if value.trim().is_empty() {
            // `@stats[kstack] = hist(...)`: a histogram per stack, its
            // buckets on the lines that follow.
            self.in_histogram = true;
            self.current = None;
            return self
                .stats
                .skip_histogram(number, options.strict, text)
                .map_err(SinkError::from);
        }
        let after: Vec<&str> = after
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect();
        let frame = match options.stack_frame {
            Some(index) => frames.get(index).or(frames.last()),
            None => caller_frame(&frames),
        }
        .map_or("", String::as_str);
        let mut keys: Vec<&str> = before.iter().map(String::as_str).collect();
        let stack_key = keys.len();
        keys.push(frame);
        keys.extend(after);
        let stack = super::stacked::fold(&frames);
        let entry = Entry {
            map: &map,
            keys,
            stack_key: Some(stack_key),
            stack: &stack,
            value: value.trim(),
        };
        self.entry(number, &entry, options, sink)
    }

    /// A line of the script pasted above its output (`bpftrace -e
    /// 'kprobe:... { @[kstack] = count(); }'`): remembers which maps count
    /// events rather than sum times.
    fn note_script(&mut self, number: u64, text: &str) {
        for name in assigned_maps(text, "count()") {
            if !self.count_maps.iter().any(|(map, _)| *map == name) {
                self.count_maps.push((name, number));
            }
        }
        for name in assigned_maps(text, "sum(") {
            if !self.sum_maps.contains(&name) {
                self.sum_maps.push(name);
            }
        }
    }

    /// Whether a map's values are event counts, and if the script pasted
    /// with the output said so, its line (None inside: `--values count`).
    fn counts_events(&self, map: &str, values: Values) -> Option<Option<u64>> {
        match values {
            Values::Count => Some(None),
            Values::Time => None,
            Values::Auto => self
                .count_maps
                .iter()
                .find(|(name, _)| name == map)
                .map(|(_, line)| Some(*line)),
        }
    }

    fn entry(
        &mut self,
        number: u64,
        entry: &Entry<'_>,
        options: &ParseOptions,
        sink: &mut dyn Sink,
    ) -> Result<(), SinkError> {
        self.start_printout(entry.map, sink)?;
        let mut row = Row::new(number);
        let map_name = format!("@{}", entry.map);
        if let Some(script_line) = self.counts_events(entry.map, options.values) {
            // Events, not time: the row has a count and no duration.
            row.count = fields::count(&map_name, entry.value)?;
            row.waits = RowWaits::Untimed;
            self.stats.set_apart.add(SetApart::CountRows, number);
            self.stats.counted_events = self.stats.counted_events.saturating_add(row.count);
            self.stats.count_script_line = script_line;
        } else {
            row.dur_ns = fields::duration(&map_name, entry.value, options.unit)?;
            // `@[kstack] = count()` is the one-liner of stack maps: with no
            // script to say so, their values may be counts, not times.
            let unsure = options.values == Values::Auto
                && entry.stack_key.is_some()
                && !self.sum_maps.iter().any(|name| name == entry.map)
                && !names_a_time(entry.map);
            if unsure {
                self.stats.set_apart.add(SetApart::UnsureValues, number);
            }
        }
        row.stack = entry.stack;
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
    fn start_printout(&mut self, map: &str, sink: &mut dyn Sink) -> Result<(), SinkError> {
        if self.current.as_deref() == Some(map) {
            return Ok(());
        }
        if self.samples == 0 || self.printed.contains(map) {
            sink.sample(Vec::new())?;
            self.samples += 1;
            self.printed.clear();
        }
        self.printed.insert(map.to_string());
        self.current = Some(map.to_string());
        Ok(())
    }
}

/// A map whose name says it holds times (`@wait_ns`, `@lat_us`,
/// `@spin_time`): no note that its values may be counts.
fn names_a_time(map: &str) -> bool {
    let lower = map.to_ascii_lowercase();
    let words: Vec<&str> = lower.split('_').collect();
    words
        .iter()
        .any(|word| ["ns", "us", "ms", "nsecs", "usecs", "time", "wait", "lat"].contains(word))
}

/// The maps a script line assigns with `function` (`count()`, `sum(`):
/// `@name[...] = count()` gives `name` (empty for `@[...]`).
fn assigned_maps(text: &str, function: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices(function) {
        let before = text[..at].trim_end();
        let Some(assigned) = before.strip_suffix('=') else {
            continue;
        };
        let Some(sigil) = assigned.rfind('@') else {
            continue;
        };
        names.push(
            assigned[sigil + 1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect(),
        );
    }
    names
}

/// The role of each key: `--keys` when given, else by count, a stack key
/// being the caller.
fn key_roles(entry: &Entry<'_>, given: &[MapKey]) -> Result<Vec<MapKey>, SinkError> {
    if !given.is_empty() {
        if given.len() != entry.keys.len() {
            return Err(format!(
                "@{} has {} keys but --keys names {}",
                entry.map,
                entry.keys.len(),
                given.len()
            )
            .into());
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
            )
            .into());
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
            stack_frame: Some(1),
            ..ParseOptions::default()
        };
        let (sink, _) = collect(text, InputFormat::Btrace, &options).unwrap();
        assert_eq!(sink.samples[0].1[0].caller, "reaper+0x9c");
        assert_eq!(sink.samples[0].1[0].category, "");
        let second = &sink.samples[0].1[1];
        assert_eq!(
            (
                second.category.as_str(),
                second.symbol.as_str(),
                second.caller.as_str()
            ),
            ("kernel_lock", "12", "wakeup_n+0x40")
        );
        let options = ParseOptions {
            stack_frame: Some(0),
            ..ParseOptions::default()
        };
        let (sink, _) = collect(text, InputFormat::Btrace, &options).unwrap();
        assert_eq!(sink.samples[0].1[0].caller, "kernel_lock+0x24");
        // By default: past the lock primitives.
        let sink = parse_text(text);
        assert_eq!(sink.samples[0].1[0].caller, "reaper+0x9c");
        assert_eq!(sink.samples[0].1[1].caller, "wakeup_n+0x40");
    }

    #[test]
    fn count_maps_are_events_not_times() {
        let text = "bpftrace -e 'kprobe:__pv_queued_spin_lock_slowpath { @[kstack()] = count(); }'\n\
                    @[\n    __pv_queued_spin_lock_slowpath+5\n    _raw_spin_lock+41\n    xfs_release+196\n]: 1432766\n\
                    @@ -1079,6 +1079,8 @@ xfs_itruncate_extents_flags(\n\
                    @w[f]: 12\n";
        let (sink, stats) = collect(text, InputFormat::Btrace, &ParseOptions::default()).unwrap();
        assert_eq!(
            sink.samples[0].1,
            [
                row(6, 0, 1_432_766, 0, ["", "", "xfs_release+196"]),
                row(8, 12, 1, 12, ["w", "f", ""]),
            ]
        );
        assert_eq!(
            stats.set_apart[SetApart::CountRows],
            crate::parse::Tally::of(1, 6)
        );
        assert_eq!(stats.count_script_line, Some(1));
        assert_eq!(stats.counted_events, 1_432_766);
        // Told, every map counts; or told not to, none does.
        let counts = ParseOptions {
            values: Values::Count,
            ..ParseOptions::default()
        };
        let (sink, _) = collect(text, InputFormat::Btrace, &counts).unwrap();
        assert_eq!(sink.samples[0].1[1], row(8, 0, 12, 0, ["w", "f", ""]));
        let times = ParseOptions {
            values: Values::Time,
            ..ParseOptions::default()
        };
        let (sink, _) = collect(text, InputFormat::Btrace, &times).unwrap();
        assert_eq!(sink.samples[0].1[0].dur_ns, 1_432_766);
    }

    #[test]
    fn script_lines_and_mail_prose_are_not_maps() {
        let text = "@n++;\n@total += $d;\n@Namhyung: thanks, see below\n@w[f]: 12\n";
        let (sink, stats) = collect(text, InputFormat::Btrace, &ParseOptions::default()).unwrap();
        assert_eq!(sink.samples[0].1, [row(4, 12, 1, 12, ["w", "f", ""])]);
        assert_eq!(stats.skipped_lines, 3);
        let err = collect(
            "@w[f]: 12abc\n",
            InputFormat::Btrace,
            &ParseOptions::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("is not a number"), "{err}");
    }

    #[test]
    fn the_default_caller_is_past_the_lock_primitives() {
        let frames = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let linux = frames(&[
            "bpf_prog_bf07ae9e2cbd02c5_contention_begin+279",
            "bpf_trace_run2+53",
            "__bpf_trace_contention_begin+11",
            "__pv_queued_spin_lock_slowpath+5",
            "_raw_spin_lock_irqsave+61",
            "folio_lruvec_lock_irqsave+95",
            "__page_cache_release+130",
        ]);
        assert_eq!(
            caller_frame(&linux).map(String::as_str),
            Some("folio_lruvec_lock_irqsave+95")
        );
        let openbsd = frames(&["__mp_lock+0x6c", "_kernel_lock+0x1d", "reaper+0x9c"]);
        assert_eq!(
            caller_frame(&openbsd).map(String::as_str),
            Some("reaper+0x9c")
        );
        let only_locks = frames(&["mutex_lock+0x1", "__mutex_lock.constprop.0+0x2"]);
        assert_eq!(
            caller_frame(&only_locks).map(String::as_str),
            Some("__mutex_lock.constprop.0+0x2")
        );
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
