//! Opening inputs: files or stdin, each with a name for errors and a label
//! for reports.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, IsTerminal, Read};
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::refuse;

use crate::error::InputError;

/// Name used in errors for standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Read buffer size: large reads keep the parser fed with few syscalls.
const READ_BUFFER: usize = 256 * 1024;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file, or None for stdin.
    pub path: Option<PathBuf>,
    /// How errors name it: the path as given, or `<stdin>`.
    pub name: String,
    /// How reports name it: `--label`, the file stem, or `stdin`.
    pub label: String,
}

/// The sources named on the command line (stdin when none), labelled.
pub fn sources(paths: &[PathBuf], labels: &[String]) -> Result<Vec<Source>> {
    let stdin = Path::new("-");
    let paths: Vec<Option<&Path>> = if paths.is_empty() {
        vec![None]
    } else {
        paths
            .iter()
            .map(|p| (p.as_path() != stdin).then_some(p.as_path()))
            .collect()
    };
    if paths.iter().filter(|p| p.is_none()).count() > 1 {
        refuse!("stdin (`-`) can be read only once");
    }
    if labels.len() > paths.len() {
        refuse!("{} --label given for {} inputs", labels.len(), paths.len());
    }
    let mut sources: Vec<Source> = Vec::with_capacity(paths.len());
    for (index, path) in paths.into_iter().enumerate() {
        let label = labels
            .get(index)
            .cloned()
            .unwrap_or_else(|| default_label(path));
        sources.push(Source {
            path: path.map(Path::to_path_buf),
            name: path.map_or(STDIN_NAME.to_string(), |p| p.display().to_string()),
            label: unique_label(label, &sources),
        });
    }
    Ok(sources)
}

/// The error opening `source` would give for a path that is missing or
/// a directory, found without opening it (a named pipe opened once is
/// consumed: its writer's data would be lost).
pub fn check_exists(source: &Source) -> Result<(), InputError> {
    let Some(path) = &source.path else {
        return Ok(());
    };
    match std::fs::metadata(path) {
        Err(err) => Err(InputError::whole(
            &source.name,
            format!("cannot open: {err}"),
        )),
        Ok(meta) if meta.is_dir() => Err(InputError::whole(
            &source.name,
            "is a directory, not a trace",
        )),
        Ok(_) => Ok(()),
    }
}

/// Opens a source for buffered reading.
pub fn open(source: &Source) -> Result<Box<dyn BufRead>, InputError> {
    let Some(path) = &source.path else {
        if io::stdin().is_terminal() {
            // Typed or pasted: nothing says where the input ends.
            note_terminal_input();
        }
        let stdin = BufReader::with_capacity(READ_BUFFER, EndsOnce::new(io::stdin()));
        return Ok(Box::new(Restarting(stdin)));
    };
    let cannot = |err: io::Error| InputError::whole(&source.name, format!("cannot open: {err}"));
    if path.is_dir() {
        return Err(InputError::whole(
            &source.name,
            "is a directory, not a trace",
        ));
    }
    let file = File::open(path).map_err(cannot)?;
    Ok(Box::new(Restarting(BufReader::with_capacity(
        READ_BUFFER,
        file,
    ))))
}

/// Says how to end input typed on a terminal, unless `-q`.
fn note_terminal_input() {
    use crate::notes::{Verbosity, say, shows};
    if shows(Verbosity::Normal) {
        say(format_args!(
            "contend: reading from the terminal; end with Ctrl-D (or name a file: contend -h)"
        ));
    }
}

/// A reader that stays at its end once it got there. On a terminal each
/// Ctrl-D ends one read only: format detection, a decoder's look-ahead
/// and the parser each reading to the end would otherwise want a Ctrl-D
/// of their own.
struct EndsOnce<R> {
    inner: R,
    ended: bool,
}

impl<R> EndsOnce<R> {
    fn new(inner: R) -> Self {
        EndsOnce {
            inner,
            ended: false,
        }
    }
}

impl<R: Read> Read for EndsOnce<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        let read = self.inner.read(buf)?;
        self.ended = read == 0;
        Ok(read)
    }
}

/// Reads through, reading again when a signal interrupted a read (EINTR):
/// that is no read error (the signal's own handler decides what happens).
struct Restarting<R>(R);

impl<R: BufRead> Read for Restarting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
        }
    }
}

impl<R: BufRead> BufRead for Restarting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while let Err(err) = self.0.fill_buf() {
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        // Filled: this returns the buffer without reading again.
        self.0.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.0.consume(amount);
    }
}

/// The compressions `contend` reads, told by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`.gz`), also concatenated members.
    Gzip,
    /// Zstandard (`.zst`).
    Zstd,
}

impl Compression {
    /// The compression whose magic bytes start `head`, if any: a zstd
    /// stream may start with a skippable frame (pzstd writes one), magic
    /// 0x184D2A50 to 0x184D2A5F.
    pub fn of(head: &[u8]) -> Option<Compression> {
        let skippable_zstd =
            head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18];
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || skippable_zstd {
            Some(Compression::Zstd)
        } else {
            None
        }
    }
}

/// The UTF-8 byte-order mark some editors put first: no part of any line.
pub const BYTE_ORDER_MARK: [u8; 3] = [0xef, 0xbb, 0xbf];

/// The reader past a leading byte-order mark, if there is one.
fn without_byte_order_mark(reader: Box<dyn BufRead>) -> io::Result<Box<dyn BufRead>> {
    let (head, _, rest) = peek(reader, BYTE_ORDER_MARK.len())?;
    let mut rest = rest;
    if head == BYTE_ORDER_MARK {
        rest.read_exact(&mut [0; BYTE_ORDER_MARK.len()])?;
    }
    Ok(rest)
}

/// Opens a source and undoes its compression, if it has one.
pub fn open_decoded(source: &Source) -> Result<Box<dyn BufRead>, InputError> {
    let mut reader = open(source)?;
    let cannot = |err: io::Error| InputError::whole(&source.name, format!("cannot read: {err}"));
    let head = reader.fill_buf().map_err(cannot)?;
    let decoded: Box<dyn BufRead> = match Compression::of(head) {
        Some(Compression::Gzip) => Box::new(BufReader::with_capacity(
            READ_BUFFER,
            flate2::bufread::MultiGzDecoder::new(reader),
        )),
        Some(Compression::Zstd) => {
            let decoder = zstd::stream::read::Decoder::with_buffer(reader).map_err(cannot)?;
            Box::new(BufReader::with_capacity(READ_BUFFER, decoder))
        }
        None => reader,
    };
    without_byte_order_mark(decoded).map_err(cannot)
}

/// Reads up to `limit` bytes of `reader` for format detection and gives
/// back a reader that still yields them: (head, whether the head is the
/// whole input, reader).
pub fn peek(
    mut reader: Box<dyn BufRead>,
    limit: usize,
) -> io::Result<(Vec<u8>, bool, Box<dyn BufRead>)> {
    let mut head = Vec::with_capacity(limit.min(READ_BUFFER));
    (&mut reader).take(limit as u64).read_to_end(&mut head)?;
    let complete = head.len() < limit;
    let replay = Cursor::new(head.clone()).chain(reader);
    Ok((head, complete, Box::new(replay)))
}

/// The file's stem, without a compression suffix: `trace.csv.gz` is
/// `trace`.
fn default_label(path: Option<&Path>) -> String {
    let Some(path) = path else {
        return "stdin".to_string();
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let name = [".gz", ".zst", ".zstd"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(&name);
    Path::new(name).file_stem().map_or_else(
        || name.to_string(),
        |stem| stem.to_string_lossy().into_owned(),
    )
}

/// Two inputs with the same stem (`a/trace.txt`, `b/trace.txt`) get
/// `trace` and `trace#2`.
fn unique_label(label: String, taken: &[Source]) -> String {
    label_apart(label, |candidate| {
        taken.iter().any(|s| s.label == candidate)
    })
}

/// `label`, or where `used` says it is taken `label#2`, `label#3`, ...:
/// inputs are told apart by label.
pub fn label_apart(label: String, used: impl Fn(&str) -> bool) -> String {
    if !used(&label) {
        return label;
    }
    (2..)
        .map(|n| format!("{label}#{n}"))
        .find(|candidate| !used(candidate))
        .unwrap_or(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A terminal's reads: a line, an end (Ctrl-D), then more typing.
    struct Typed(Vec<&'static [u8]>);

    impl Read for Typed {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let next = if self.0.is_empty() {
                b"never read\n".as_slice()
            } else {
                self.0.remove(0)
            };
            buf[..next.len()].copy_from_slice(next);
            Ok(next.len())
        }
    }

    #[test]
    fn the_first_end_of_typed_input_is_its_end() {
        let mut typed = EndsOnce::new(Typed(vec![b"kernel_lock 5\n", b"", b"more\n"]));
        let mut text = String::new();
        typed.read_to_string(&mut text).unwrap();
        assert_eq!(text, "kernel_lock 5\n");
        // Reading again (the parser after detection did) reads nothing.
        assert_eq!(typed.read(&mut [0; 8]).unwrap(), 0);
        typed.read_to_string(&mut text).unwrap();
        assert_eq!(text, "kernel_lock 5\n");
    }

    #[test]
    fn stdin_when_no_path() {
        let sources = sources(&[], &[]).unwrap();
        assert_eq!(sources.len(), 1);
        assert_eq!(sources[0].path, None);
        assert_eq!(sources[0].label, "stdin");
        assert_eq!(sources[0].name, "<stdin>");
    }

    #[test]
    fn labels_from_stems_flags_and_repeats() {
        let paths = [
            PathBuf::from("a/trace.txt"),
            PathBuf::from("b/trace.txt"),
            "-".into(),
        ];
        let sources = sources(&paths, &[]).unwrap();
        let labels: Vec<&str> = sources.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["trace", "trace#2", "stdin"]);
        let sources = super::sources(&paths[..1], &["before".into()]).unwrap();
        assert_eq!(sources[0].label, "before");
        let compressed = [
            PathBuf::from("x/reaper.csv.gz"),
            PathBuf::from("old.txt.zst"),
        ];
        let labels: Vec<String> = super::sources(&compressed, &[])
            .unwrap()
            .into_iter()
            .map(|s| s.label)
            .collect();
        assert_eq!(labels, ["reaper", "old"]);
        assert_eq!(sources[0].label, "before");
    }

    #[test]
    fn refuses_stdin_twice_and_extra_labels() {
        let twice = [PathBuf::from("-"), PathBuf::from("-")];
        assert!(sources(&twice, &[]).is_err());
        assert!(sources(&[], &["a".into(), "b".into()]).is_err());
    }
}
