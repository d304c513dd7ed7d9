//! The records of the Fuchsia Trace Format (FXT), read in order from a byte
//! stream with bounded memory: the string and thread tables and the bytes of
//! the record at hand.
//!
//! The format is specified in Fuchsia's "Fuchsia trace format" reference:
//! 64-bit little-endian words; each record starts with a header word whose
//! bits 0..3 are the record type and 4..15 its size in words (a header
//! included). Only the records `contend` needs are decoded; the others are
//! skipped by their size.

use std::borrow::Cow;
use std::io::Read;

/// The magic-number record, the first eight bytes of a little-endian trace.
pub const MAGIC_WORD: u64 = 0x0016_5478_4604_0010;

/// The magic record as written by a big-endian machine.
const MAGIC_WORD_SWAPPED: u64 = MAGIC_WORD.swap_bytes();

/// Bytes read from the input at a time.
const READ_CHUNK: usize = 1 << 20;

const RECORD_INITIALIZATION: u64 = 1;
const RECORD_STRING: u64 = 2;
const RECORD_THREAD: u64 = 3;
const RECORD_EVENT: u64 = 4;
const RECORD_KERNEL_OBJECT: u64 = 7;
const RECORD_SCHEDULING: u64 = 8;
const RECORD_LARGE: u64 = 15;

const SCHEDULING_LEGACY_CONTEXT_SWITCH: u64 = 0;
const SCHEDULING_CONTEXT_SWITCH: u64 = 1;

const ARGUMENT_UINT32: u64 = 2;
const ARGUMENT_UINT64: u64 = 4;
const ARGUMENT_STRING: u64 = 6;
const ARGUMENT_POINTER: u64 = 7;
const ARGUMENT_KOID: u64 = 8;

/// What went wrong, at which byte of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Byte offset of the record's header.
    pub offset: u64,
    /// What was expected and what was found.
    pub message: String,
    /// The input ended inside the record (as opposed to a malformed one).
    pub truncated: bool,
    /// The reader is past the record: reading can go on without it.
    pub skippable: bool,
}

/// A process and thread, by their kernel object ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Koids {
    /// The process koid (0 for OpenBSD kernel threads).
    pub pid: u64,
    /// The thread koid.
    pub tid: u64,
}

/// An event record (instant, duration begin, end, complete, ...).
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The event type: 2 duration begin, 3 duration end, 4 duration
    /// complete; others are of no use here.
    pub kind: u8,
    /// Start time, in ticks.
    pub ticks: u64,
    /// End time in ticks, for duration complete events.
    pub end_ticks: Option<u64>,
    /// The thread the event happened on.
    pub thread: Koids,
    /// The event's category (for lock waits: the lock type).
    pub category: Cow<'a, str>,
    /// The event's name.
    pub name: Cow<'a, str>,
    /// The arguments, decoded on demand.
    pub args: Args<'a>,
}

/// Event type of an instant event (no duration).
pub const EVENT_INSTANT: u8 = 0;
/// Event type of a duration begin event.
pub const EVENT_DURATION_BEGIN: u8 = 2;
/// Event type of a duration end event.
pub const EVENT_DURATION_END: u8 = 3;
/// Event type of a duration complete event.
pub const EVENT_DURATION_COMPLETE: u8 = 4;

/// The argument words of a record, with the string table to resolve them.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    bytes: &'a [u8],
    count: usize,
    strings: &'a StringTable,
}

/// A record `contend` reads; everything else is [`Record::Other`].
#[derive(Debug, Clone)]
pub enum Record<'a> {
    /// Ticks per second of the timestamps that follow.
    Initialization {
        /// Tick rate.
        ticks_per_second: u64,
    },
    /// An event on a thread.
    Event(Event<'a>),
    /// A context switch: `outgoing` leaves the CPU in `outgoing_state`,
    /// `incoming` starts running.
    ContextSwitch {
        /// When, in ticks.
        ticks: u64,
        /// The FXT thread state of the outgoing thread (2 suspended, 3
        /// blocked, ...).
        outgoing_state: u8,
        /// Thread koid of the thread leaving the CPU.
        outgoing: u64,
        /// Thread koid of the thread starting to run.
        incoming: u64,
    },
    /// A kernel object record: names a process (kind 1) or thread (kind 2).
    KernelObject {
        /// ZX_OBJ_TYPE: 1 process, 2 thread.
        kind: u8,
        /// The object's koid.
        koid: u64,
        /// Its name.
        name: Cow<'a, str>,
        /// A thread's process koid (its `process` argument): lltextract
        /// names a user thread by its process, leaving its own name empty.
        process: Option<u64>,
    },
    /// Any other record (metadata, blobs, logs, ...).
    Other,
}

/// The string table: index to string, filled by string records.
#[derive(Debug, Default)]
pub struct StringTable {
    entries: Vec<Option<Box<str>>>,
    /// Bytes of the strings held.
    bytes: usize,
}

/// The most bytes the string table holds. A capture's strings are names
/// (functions, locks, threads) of a few dozen bytes: lltextract's tables
/// take a few hundred KB. The format allows 32 767 strings of 32 KB, a
/// gigabyte.
pub const STRING_TABLE_BYTES: usize = 16 << 20;

impl StringTable {
    fn set(&mut self, index: u16, value: &[u8]) -> Result<(), String> {
        let index = usize::from(index);
        if self.entries.len() <= index {
            self.entries.resize(index + 1, None);
        }
        let value: Box<str> = printable(value).into();
        let replaced = self.entries[index].as_ref().map_or(0, |old| old.len());
        let bytes = self.bytes - replaced + value.len();
        if bytes > STRING_TABLE_BYTES {
            return Err(format!(
                "the string table holds more than {} MiB (string {index} of {} bytes); a \
                 capture's strings are names, lltextract's take a few hundred KB",
                STRING_TABLE_BYTES >> 20,
                value.len()
            ));
        }
        self.bytes = bytes;
        self.entries[index] = Some(value);
        Ok(())
    }

    fn get(&self, index: u16) -> Option<&str> {
        self.entries.get(usize::from(index))?.as_deref()
    }
}

/// Reads records one by one from a byte stream.
pub struct RecordReader<R> {
    input: R,
    buffer: Vec<u8>,
    /// Start of unread bytes in `buffer`.
    start: usize,
    /// End of valid bytes in `buffer`.
    end: usize,
    /// Byte offset in the input of `buffer[start]`.
    offset: u64,
    at_eof: bool,
    strings: StringTable,
    threads: [Koids; 256],
    records: u64,
}

impl<R: Read> RecordReader<R> {
    /// A reader over `input`, which must start with the magic record.
    pub fn new(input: R) -> Self {
        RecordReader {
            input,
            buffer: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            offset: 0,
            at_eof: false,
            strings: StringTable::default(),
            threads: [Koids::default(); 256],
            records: 0,
        }
    }

    /// Byte offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// How many records were read so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The next record, or None at the end of the input. String and thread
    /// records are taken in here and not returned.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, RecordError> {
        let Some((kind, header, range, record_offset)) = self.advance()? else {
            return Ok(None);
        };
        let cursor = Cursor {
            record: &self.buffer[range],
            at: 8,
            strings: &self.strings,
            threads: &self.threads,
        };
        decode(kind, header, cursor)
            .map(Some)
            .map_err(|message| RecordError {
                offset: record_offset,
                message,
                truncated: false,
                skippable: true,
            })
    }

    /// Moves past string, thread and large records to the next record to
    /// decode: its type, header, bytes in the buffer and input offset.
    #[allow(clippy::type_complexity)]
    fn advance(&mut self) -> Result<Option<(u64, u64, std::ops::Range<usize>, u64)>, RecordError> {
        loop {
            if !self.fill(8)? {
                if self.end > self.start {
                    return Err(self.truncated(8));
                }
                return Ok(None);
            }
            let header = word(&self.buffer[self.start..]);
            if self.records == 0 {
                self.check_magic(header)?;
            }
            let kind = header & 0xf;
            let words = if kind == RECORD_LARGE {
                (header >> 4) & 0xffff_ffff
            } else {
                (header >> 4) & 0xfff
            };
            if words == 0 {
                return Err(self.malformed("a record of size 0 (not a Fuchsia trace, or corrupt)"));
            }
            let bytes = words * 8;
            self.records += 1;
            if kind == RECORD_LARGE {
                self.skip(bytes)?;
                continue;
            }
            let bytes = bytes as usize; // at most 4095 words
            if !self.fill(bytes)? {
                return Err(self.truncated(bytes));
            }
            let record_offset = self.offset;
            let range = self.start..self.start + bytes;
            self.start += bytes;
            self.offset += bytes as u64;
            let malformed = |message: String| RecordError {
                offset: record_offset,
                message,
                truncated: false,
                skippable: false,
            };
            match kind {
                RECORD_STRING => {
                    take_string(&mut self.strings, &self.buffer[range]).map_err(malformed)?
                }
                RECORD_THREAD => {
                    take_thread(&mut self.threads, &self.buffer[range]).map_err(malformed)?
                }
                _ => return Ok(Some((kind, header, range, record_offset))),
            }
        }
    }

    fn check_magic(&self, header: u64) -> Result<(), RecordError> {
        if header == MAGIC_WORD {
            return Ok(());
        }
        let message = if header == MAGIC_WORD_SWAPPED {
            "a big-endian Fuchsia trace; contend reads little-endian ones (amd64, arm64)".into()
        } else {
            format!(
                "not a Fuchsia trace: it does not start with the magic record \
                 (0x{MAGIC_WORD:016x}), but 0x{header:016x}"
            )
        };
        Err(RecordError {
            offset: 0,
            message,
            truncated: false,
            skippable: false,
        })
    }

    /// Makes `bytes` bytes available from `start`; false at the end of the
    /// input.
    fn fill(&mut self, bytes: usize) -> Result<bool, RecordError> {
        while self.end - self.start < bytes {
            if self.at_eof {
                return Ok(false);
            }
            if self.start > 0 {
                self.buffer.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.buffer.len() < bytes {
                self.buffer.resize(bytes, 0);
            }
            let read = loop {
                match self.input.read(&mut self.buffer[self.end..]) {
                    Ok(read) => break read,
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(err) => {
                        return Err(RecordError {
                            offset: self.offset,
                            message: format!("cannot read: {err}"),
                            truncated: false,
                            skippable: false,
                        });
                    }
                }
            };
            if read == 0 {
                self.at_eof = true;
            }
            self.end += read;
        }
        Ok(true)
    }

    /// Skips a record too large to hold (a large blob).
    fn skip(&mut self, bytes: u64) -> Result<(), RecordError> {
        let record_offset = self.offset;
        let mut left = bytes;
        while left > 0 {
            if self.start == self.end && !self.fill(1)? {
                return Err(RecordError {
                    offset: record_offset,
                    message: format!(
                        "the input ends inside a record of {bytes} bytes ({} missing)",
                        left
                    ),
                    truncated: true,
                    skippable: false,
                });
            }
            let take = left.min((self.end - self.start) as u64);
            self.start += take as usize;
            self.offset += take;
            left -= take;
        }
        Ok(())
    }

    fn truncated(&self, needed: usize) -> RecordError {
        RecordError {
            offset: self.offset,
            message: format!(
                "the input ends inside a record: {needed} bytes needed, {} left",
                self.end - self.start
            ),
            truncated: true,
            skippable: false,
        }
    }

    fn malformed(&self, message: &str) -> RecordError {
        RecordError {
            offset: self.offset,
            message: message.to_string(),
            truncated: false,
            skippable: false,
        }
    }
}

/// A string of the capture as text that is safe to print: bytes that are
/// not UTF-8 and control characters (an escape sequence in a thread name
/// would reach the terminal) become U+FFFD.
fn printable(bytes: &[u8]) -> Cow<'_, str> {
    let text = String::from_utf8_lossy(bytes);
    if !text.contains(char::is_control) {
        return text;
    }
    Cow::Owned(
        text.chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect(),
    )
}

fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes[..8].try_into().expect("eight bytes"))
}

fn bits(value: u64, low: u32, high: u32) -> u64 {
    (value >> low) & ((1u64 << (high - low + 1)) - 1)
}

/// Reads the words and streams of one record, in order.
struct Cursor<'a> {
    record: &'a [u8],
    at: usize,
    strings: &'a StringTable,
    threads: &'a [Koids; 256],
}

impl<'a> Cursor<'a> {
    fn word(&mut self, what: &str) -> Result<u64, String> {
        if self.at + 8 > self.record.len() {
            return Err(format!("record too short for its {what}"));
        }
        let value = word(&self.record[self.at..]);
        self.at += 8;
        Ok(value)
    }

    /// `length` bytes padded to eight.
    fn stream(&mut self, length: usize, what: &str) -> Result<&'a [u8], String> {
        let padded = length.div_ceil(8) * 8;
        if self.at + padded > self.record.len() {
            return Err(format!("record too short for its {what} ({length} bytes)"));
        }
        let bytes = &self.record[self.at..self.at + length];
        self.at += padded;
        Ok(bytes)
    }

    /// A string ref: empty, an index into the table, or inline.
    fn string(&mut self, reference: u64, what: &str) -> Result<Cow<'a, str>, String> {
        let reference = reference as u16;
        if reference == 0 {
            return Ok(Cow::Borrowed(""));
        }
        if reference & 0x8000 != 0 {
            let bytes = self.stream(usize::from(reference & 0x7fff), what)?;
            return Ok(printable(bytes));
        }
        let strings = self.strings;
        strings.get(reference).map(Cow::Borrowed).ok_or_else(|| {
            format!("the record's {what} is string {reference}, which no string record defined")
        })
    }

    /// A thread ref: inline koids or an index into the thread table.
    fn thread(&mut self, reference: u64) -> Result<Koids, String> {
        if reference == 0 {
            let pid = self.word("process id")?;
            let tid = self.word("thread id")?;
            return Ok(Koids { pid, tid });
        }
        let koids = self.threads[reference as usize & 0xff];
        if koids == Koids::default() {
            return Err(format!(
                "thread {reference}, which no thread record defined"
            ));
        }
        Ok(koids)
    }

    /// The `count` arguments that follow, checked to fit the record.
    fn args(&mut self, count: usize) -> Result<Args<'a>, String> {
        let start = self.at;
        for _ in 0..count {
            let header = self
                .record
                .get(self.at..self.at + 8)
                .map(word)
                .ok_or("record too short for its arguments")?;
            let size = argument_size(header) * 8;
            if size == 0 || self.at + size > self.record.len() {
                return Err("an argument runs past the end of its record".into());
            }
            self.at += size;
        }
        Ok(Args {
            bytes: &self.record[start..self.at],
            count,
            strings: self.strings,
        })
    }
}

/// An argument's size in words, as its header declares it, but for one
/// producer's slip: some lltextract versions declare `symbol` arguments (a
/// string argument whose value is an indexed string: one word) as 2 words
/// while writing one. Such an argument is taken as the one word it holds;
/// any other size that runs past its record stays an error.
fn argument_size(header: u64) -> usize {
    let declared = bits(header, 4, 15) as usize;
    let inline = |reference: u64| reference & 0x8000 != 0;
    let one_word_string = bits(header, 0, 3) == ARGUMENT_STRING
        && !inline(bits(header, 16, 31))
        && !inline(bits(header, 32, 47));
    if one_word_string && declared == 2 {
        return 1;
    }
    declared
}

fn take_string(strings: &mut StringTable, record: &[u8]) -> Result<(), String> {
    let header = word(record);
    let index = bits(header, 16, 30) as u16;
    let length = bits(header, 32, 46) as usize;
    if 8 + length > record.len() {
        return Err(format!(
            "a string record of {length} bytes does not fit in its record"
        ));
    }
    if index != 0 {
        strings.set(index, &record[8..8 + length])?;
    }
    Ok(())
}

fn take_thread(threads: &mut [Koids; 256], record: &[u8]) -> Result<(), String> {
    let header = word(record);
    let index = bits(header, 16, 23) as usize;
    if record.len() < 24 {
        return Err("a thread record shorter than three words".into());
    }
    if index != 0 {
        threads[index] = Koids {
            pid: word(&record[8..]),
            tid: word(&record[16..]),
        };
    }
    Ok(())
}

fn decode<'a>(kind: u64, header: u64, mut cursor: Cursor<'a>) -> Result<Record<'a>, String> {
    match kind {
        RECORD_INITIALIZATION => Ok(Record::Initialization {
            ticks_per_second: cursor.word("tick rate")?,
        }),
        RECORD_EVENT => decode_event(header, cursor).map(Record::Event),
        RECORD_KERNEL_OBJECT => {
            let koid = cursor.word("koid")?;
            let name = cursor.string(bits(header, 24, 39), "name")?;
            let args = cursor.args(bits(header, 40, 43) as usize)?;
            Ok(Record::KernelObject {
                kind: bits(header, 16, 23) as u8,
                koid,
                name,
                process: args.number("process")?,
            })
        }
        RECORD_SCHEDULING => decode_scheduling(header, cursor),
        _ => Ok(Record::Other),
    }
}

fn decode_event<'a>(header: u64, mut cursor: Cursor<'a>) -> Result<Event<'a>, String> {
    let kind = bits(header, 16, 19) as u8;
    let count = bits(header, 20, 23) as usize;
    let ticks = cursor.word("timestamp")?;
    let thread = cursor.thread(bits(header, 24, 31))?;
    let category = cursor.string(bits(header, 32, 47), "category")?;
    let name = cursor.string(bits(header, 48, 63), "name")?;
    let args = cursor.args(count)?;
    let end_ticks = if kind == EVENT_DURATION_COMPLETE {
        Some(cursor.word("end time")?)
    } else {
        None
    };
    Ok(Event {
        kind,
        ticks,
        end_ticks,
        thread,
        category,
        name,
        args,
    })
}

fn decode_scheduling<'a>(header: u64, mut cursor: Cursor<'a>) -> Result<Record<'a>, String> {
    match bits(header, 60, 63) {
        SCHEDULING_CONTEXT_SWITCH => Ok(Record::ContextSwitch {
            outgoing_state: bits(header, 36, 39) as u8,
            ticks: cursor.word("timestamp")?,
            outgoing: cursor.word("outgoing thread")?,
            incoming: cursor.word("incoming thread")?,
        }),
        SCHEDULING_LEGACY_CONTEXT_SWITCH => {
            let ticks = cursor.word("timestamp")?;
            let outgoing = cursor.thread(bits(header, 28, 35))?;
            let incoming = cursor.thread(bits(header, 36, 43))?;
            Ok(Record::ContextSwitch {
                ticks,
                outgoing_state: bits(header, 24, 27) as u8,
                outgoing: outgoing.tid,
                incoming: incoming.tid,
            })
        }
        _ => Ok(Record::Other),
    }
}

impl<'a> Args<'a> {
    /// The argument named `key`: its header, and a cursor past it.
    fn find(&self, key: &str) -> Result<Option<(u64, Cursor<'a>)>, String> {
        let mut at = 0;
        for _ in 0..self.count {
            let header = word(&self.bytes[at..]);
            let size = argument_size(header) * 8;
            let mut cursor = Cursor {
                record: &self.bytes[at..at + size],
                at: 8,
                strings: self.strings,
                threads: &NO_THREADS,
            };
            at += size;
            if cursor.string(bits(header, 16, 31), "argument name")? == key {
                return Ok(Some((header, cursor)));
            }
        }
        Ok(None)
    }

    /// The string argument named `key`, if the record has one.
    pub fn string(&self, key: &str) -> Result<Option<Cow<'a, str>>, String> {
        match self.find(key)? {
            Some((header, mut cursor)) if bits(header, 0, 3) == ARGUMENT_STRING => cursor
                .string(bits(header, 32, 47), "argument value")
                .map(Some),
            _ => Ok(None),
        }
    }

    /// The integer argument named `key` (a koid, pointer or unsigned
    /// integer: lltextract gives a lock's address as a koid named by the
    /// lock type), if the record has one.
    pub fn number(&self, key: &str) -> Result<Option<u64>, String> {
        let Some((header, mut cursor)) = self.find(key)? else {
            return Ok(None);
        };
        Ok(match bits(header, 0, 3) {
            ARGUMENT_UINT32 => Some(bits(header, 32, 63)),
            ARGUMENT_UINT64 | ARGUMENT_POINTER | ARGUMENT_KOID => {
                Some(cursor.word("argument value")?)
            }
            _ => None,
        })
    }
}

static NO_THREADS: [Koids; 256] = [Koids { pid: 0, tid: 0 }; 256];

#[cfg(test)]
mod tests {
    use super::*;

    fn words(values: &[u64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn large_and_unknown_records_are_skipped_by_their_size() {
        let bytes = words(&[
            MAGIC_WORD,
            15 | (3 << 4), // a large record of 3 words
            0xdead,
            0xbeef,
            6 | (2 << 4), // a userspace object record: skipped
            0,
            1 | (2 << 4), // initialization: 24 MHz
            24_000_000,
        ]);
        let mut reader = RecordReader::new(bytes.as_slice());
        let mut seen = Vec::new();
        while let Some(record) = reader.next_record().expect("well formed") {
            seen.push(match record {
                Record::Initialization { ticks_per_second } => ticks_per_second,
                _ => 0,
            });
        }
        assert_eq!(seen, [0, 0, 24_000_000]);
        assert_eq!(reader.records(), 4);
        assert_eq!(reader.offset(), 64);
    }

    #[test]
    fn a_record_cut_by_the_end_is_reported_at_its_offset() {
        let bytes = words(&[MAGIC_WORD, 1 | (2 << 4)]);
        let mut reader = RecordReader::new(bytes.as_slice());
        assert!(matches!(reader.next_record(), Ok(Some(Record::Other)))); // the magic
        let err = reader.next_record().expect_err("cut short");
        assert_eq!(
            err,
            RecordError {
                offset: 8,
                message: "the input ends inside a record: 16 bytes needed, 8 left".into(),
                truncated: true,
                skippable: false,
            }
        );
    }

    #[test]
    fn string_arguments_are_found_by_name_inline_or_indexed() {
        let mut strings = StringTable::default();
        strings.set(1, b"symbol").unwrap();
        strings.set(2, b"kernel_lock").unwrap();
        let mut bytes = words(&[6 | (1 << 4) | (1 << 16) | (2 << 32)]);
        // caller, inline name and value: "caller" and "reaper".
        bytes.extend(words(&[6
            | (3 << 4)
            | ((0x8000 | 6) << 16)
            | ((0x8000 | 6) << 32)]));
        bytes.extend(b"caller\0\0reaper\0\0");
        let args = Args {
            bytes: &bytes,
            count: 2,
            strings: &strings,
        };
        assert_eq!(
            args.string("symbol").unwrap().as_deref(),
            Some("kernel_lock")
        );
        assert_eq!(args.string("caller").unwrap().as_deref(), Some("reaper"));
        assert_eq!(args.string("offset").unwrap(), None);
    }
}
