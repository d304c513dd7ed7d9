//! Error types a user can meet, and the exit codes they map to.

use std::fmt;

/// Exit codes of the `contend` process, kept in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything went well (also: the reader of stdout went away).
    Ok = 0,
    /// `diff` found a regression past `--fail-above`.
    Regression = 1,
    /// Bad usage or unreadable input.
    BadInput = 2,
}

/// An error in an input: names the input, the line when known, and what was
/// expected versus found. Displays as `NAME:LINE: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The input's name as the user gave it (a path, or `<stdin>`).
    pub name: String,
    /// 1-based line number, when the error belongs to a line.
    pub line: Option<u64>,
    /// What was expected and what was found.
    pub message: String,
}

impl InputError {
    /// An error tied to one line of an input.
    pub fn at_line(name: &str, line: u64, message: impl Into<String>) -> Self {
        InputError {
            name: name.to_string(),
            line: Some(line),
            message: message.into(),
        }
    }

    /// An error about a whole input.
    pub fn whole(name: &str, message: impl Into<String>) -> Self {
        InputError {
            name: name.to_string(),
            line: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.name, line, self.message),
            None => write!(f, "{}: {}", self.name, self.message),
        }
    }
}

impl std::error::Error for InputError {}

/// An error contend stops on, typed so that what it is decides the exit
/// code (`main` maps it) rather than its text. One pointer (its kind is
/// boxed, as anyhow's and csv's errors are): a `Result<(), Error>` comes
/// back in a register from the per-record paths.
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What an [`Error`] is.
#[derive(Debug)]
pub enum ErrorKind {
    /// An input that cannot be read as asked: exit 2.
    Input(InputError),
    /// What was asked cannot be done as asked (flags that do not go
    /// together, a filter that picks nothing, figures past 2^64): exit 2;
    /// the message says what and, where it is one input's, which.
    Request(String),
    /// Output that could not be written: exit 2, but a closed pipe (the
    /// reader went away, `| head`) is no failure: exit 0.
    Output(std::io::Error),
}

/// A result whose error is contend's own.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `refuse!("...", args)`: returns an [`ErrorKind::Request`] error with
/// the message.
#[macro_export]
macro_rules! refuse {
    ($($arg:tt)*) => {
        return Err($crate::error::Error::request(format!($($arg)*)))
    };
}

impl Error {
    /// What cannot be done as asked.
    pub fn request(message: String) -> Self {
        Error(Box::new(ErrorKind::Request(message)))
    }

    /// An output that could not be written.
    pub fn output(err: std::io::Error) -> Self {
        Error(Box::new(ErrorKind::Output(err)))
    }

    /// What the error is.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// The error of this kind.
    pub fn from_kind(kind: ErrorKind) -> Self {
        Error(Box::new(kind))
    }

    /// What the error is, to take apart.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// Its input error, to change (a line number counted from elsewhere).
    pub fn input_mut(&mut self) -> Option<&mut InputError> {
        match &mut *self.0 {
            ErrorKind::Input(err) => Some(err),
            _ => None,
        }
    }

    /// Whether the reader of the output went away.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self.kind(), ErrorKind::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind() {
            ErrorKind::Input(err) => err.fmt(f),
            ErrorKind::Request(message) => f.write_str(message),
            // The I/O error says what it is and, where it was given one,
            // which output (`writing FILE: ...`).
            ErrorKind::Output(err) => err.fmt(f),
        }
    }
}

// No source: the message already holds the I/O error's (a chain printed
// with `{:#}` would say it twice).
impl std::error::Error for Error {}

impl From<InputError> for Error {
    fn from(err: InputError) -> Self {
        Error(Box::new(ErrorKind::Input(err)))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::output(err)
    }
}

impl From<serde_json::Error> for Error {
    /// JSON written to an output: its I/O error where it is one.
    fn from(err: serde_json::Error) -> Self {
        Error::output(err.into())
    }
}

impl From<std::string::FromUtf8Error> for Error {
    /// Text contend wrote into a buffer that is not UTF-8: a fault of its
    /// own, said as one.
    fn from(err: std::string::FromUtf8Error) -> Self {
        Error::request(format!("internal: the output is not UTF-8: {err}"))
    }
}

impl From<csv::Error> for Error {
    /// The csv crate's error when writing: its I/O error where it holds
    /// one (a full disk, a closed pipe).
    fn from(err: csv::Error) -> Self {
        match err.into_kind() {
            csv::ErrorKind::Io(io) => Error::output(io),
            other => Error::output(std::io::Error::other(format!("{other:?}"))),
        }
    }
}

/// Shortens user text for an error message so one bad line cannot flood the
/// terminal.
pub fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    if text.chars().count() <= MAX_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(MAX_CHARS).collect();
    format!("{head}...")
}

/// True when the error (or anything in its chain) is a closed pipe: the
/// reader of our output went away, which is not a failure (`| head -1`).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = |io: &std::io::Error| io.kind() == std::io::ErrorKind::BrokenPipe;
    err.chain().any(|cause| {
        cause
            .downcast_ref::<Error>()
            .is_some_and(Error::is_broken_pipe)
            || cause.downcast_ref::<std::io::Error>().is_some_and(broken)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_name_line_and_message() {
        let err = InputError::at_line("trace.txt", 17, "dur \"12x4\" is not a number");
        assert_eq!(
            err.to_string(),
            "trace.txt:17: dur \"12x4\" is not a number"
        );
        let err = InputError::whole("trace.txt", "no lock table found");
        assert_eq!(err.to_string(), "trace.txt: no lock table found");
    }

    #[test]
    fn shortens_long_text() {
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), 63);
        assert_eq!(shorten("short"), "short");
    }

    #[test]
    fn finds_broken_pipe_in_chain() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let err = anyhow::Error::new(io).context("writing the report");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
