//! Where output goes: stdout, or a file written atomically (a temporary
//! file in the same folder, renamed over the target only when complete), so
//! a failed run never leaves half a file nor clobbers a good one.
//!
//! Only a regular file is replaced that way, keeping its mode. A device or
//! a FIFO (`-o /dev/null`) is written into; `-o -`, `/dev/stdout`,
//! `/dev/stderr` and `/dev/fd/N` write through the descriptor, never by
//! the path it resolves to (which would replace the file a shell's `>>`
//! appends to); a symlink is followed to its target; a file with other
//! hard links is written in place once the output is complete and its
//! room on the disk is reserved (so that the links still share it); a
//! read-only file is refused, and so is an output that is one of the
//! inputs ([`refuse_inputs`]).
//!
//! Every write error names the output: `writing FILE: No space left on
//! device (os error 28)`.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::refuse;
use tempfile::NamedTempFile;

const WRITE_BUFFER: usize = 256 * 1024;

/// An output being written.
pub struct Destination {
    /// Where the bytes go.
    sink: Sink,
    /// The output as the user named it, for errors.
    name: String,
    /// The first write error, kept: a writer that wraps it in its own
    /// error (Parquet's "underlying IO error") loses the cause.
    failure: Option<(io::ErrorKind, String)>,
}

/// The bytes' way out.
enum Sink {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// A device, a FIFO or a descriptor, written into as the output comes.
    Device(BufWriter<File>),
    /// A temporary file that becomes `target` on [`Destination::commit`].
    File {
        /// The temporary file, removed if dropped before commit.
        temp: NamedTempFile,
        /// A handle on it to write through (the temporary file's own
        /// writes name its path in their errors, which the user never
        /// gave).
        out: BufWriter<File>,
        /// Where it goes.
        target: PathBuf,
        /// How the target is replaced.
        replace: Replace,
    },
}

/// How a complete temporary file takes the target's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Renamed over it (a new file, or one with a single link), with the
    /// mode of the file it replaces, if any.
    Rename(Option<u32>),
    /// Copied into it: the target has other hard links that must keep
    /// sharing it.
    CopyInto,
}

/// What is at an output path, and so how to write it.
enum Target {
    Stdout,
    /// A descriptor other than stdout's, by number.
    Descriptor(i32),
    Device(PathBuf),
    File(PathBuf, Replace),
}

/// An error writing the output, naming it: `writing FILE: ...`.
#[derive(Debug)]
struct WriteFailed {
    name: String,
    cause: String,
}

impl fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "writing {}: {}", self.name, self.cause)
    }
}

impl std::error::Error for WriteFailed {}

/// An io error that names the output, of the same kind (a closed pipe
/// stays a closed pipe).
fn naming(name: &str, kind: io::ErrorKind, cause: String) -> io::Error {
    io::Error::new(
        kind,
        WriteFailed {
            name: name.to_string(),
            cause,
        },
    )
}

/// The descriptor a path names by itself, whatever is open there:
/// `/dev/stdout` 1, `/dev/stderr` 2, `/dev/fd/N` and `/proc/self/fd/N` N;
/// a symlink is followed hop by hop to such a name.
fn descriptor_named(path: &Path) -> Option<i32> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        let text = path.to_str()?;
        let number = match text {
            "/dev/stdout" => Some(1),
            "/dev/stderr" => Some(2),
            _ => ["/dev/fd/", "/proc/self/fd/"]
                .iter()
                .find_map(|prefix| text.strip_prefix(prefix))
                .and_then(|n| n.parse().ok()),
        };
        if number.is_some() {
            return number;
        }
        let next = std::fs::read_link(&path).ok()?;
        path = match path.parent() {
            Some(parent) if next.is_relative() => parent.join(next),
            _ => next,
        };
    }
    None
}

/// Where `-o PATH` writes, or why it will not.
fn target_of(path: &Path) -> Result<Target> {
    if path.as_os_str() == "-" {
        return Ok(Target::Stdout);
    }
    match descriptor_named(path) {
        Some(1) => return Ok(Target::Stdout),
        Some(descriptor) => return Ok(Target::Descriptor(descriptor)),
        None => {}
    }
    let shown = path.display();
    let ends_in_separator = path.as_os_str().to_string_lossy().ends_with('/');
    if ends_in_separator || path.is_dir() {
        refuse!("-o {shown}: is a directory; -o takes a file name");
    }
    let link = std::fs::symlink_metadata(path).ok();
    let real = match &link {
        Some(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path)
            .map_err(|err| in_context(err, format!("-o {shown}: cannot follow the symlink")))?,
        _ => path.to_path_buf(),
    };
    let Ok(meta) = std::fs::metadata(&real) else {
        return Ok(Target::File(real, Replace::Rename(None)));
    };
    if meta.is_dir() {
        refuse!("-o {shown}: is a directory; -o takes a file name");
    }
    if !meta.is_file() {
        return Ok(Target::Device(real));
    }
    if meta.permissions().readonly() {
        refuse!("-o {shown}: the file is read-only; contend will not replace it");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if meta.nlink() > 1 {
            return Ok(Target::File(real, Replace::CopyInto));
        }
        Ok(Target::File(
            real,
            Replace::Rename(Some(meta.permissions().mode())),
        ))
    }
    #[cfg(not(unix))]
    Ok(Target::File(real, Replace::Rename(None)))
}

/// A new handle on descriptor `descriptor` (`-o /dev/fd/N`), or why not.
#[cfg(unix)]
fn duplicate(descriptor: i32, shown: &Path) -> Result<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup returns a new descriptor that nothing else owns, or -1.
    let copy = unsafe { libc::dup(descriptor) };
    if copy < 0 {
        refuse!(
            "-o {}: descriptor {descriptor} is not open: {}",
            shown.display(),
            io::Error::last_os_error()
        );
    }
    // SAFETY: `copy` is a fresh descriptor, owned by the File from here.
    Ok(unsafe { File::from_raw_fd(copy) })
}

#[cfg(not(unix))]
fn duplicate(_descriptor: i32, shown: &Path) -> Result<File> {
    refuse!(
        "-o {}: descriptors are named so only on Unix",
        shown.display()
    )
}

/// The (device, inode) of an open descriptor's file when it is a regular
/// file, else None.
#[cfg(unix)]
fn descriptor_identity(descriptor: i32) -> Option<(u64, u64)> {
    let file = std::mem::ManuallyDrop::new({
        use std::os::fd::FromRawFd;
        // SAFETY: borrowed for one fstat, never closed (ManuallyDrop).
        unsafe { File::from_raw_fd(descriptor) }
    });
    let meta = file.metadata().ok()?;
    use std::os::unix::fs::MetadataExt;
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

/// The (device, inode) of the file a path leads to (through links), when
/// it is a regular file.
#[cfg(unix)]
fn path_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

/// Refuses, before anything is read, an output that is one of the inputs
/// (the same file: device and inode, through symlinks and hard links):
/// `export trace.txt -o trace.txt` would replace the trace with its
/// export, and `export trace.txt >> trace.txt` would read its own rows
/// back. `output` None is stdout.
#[cfg(unix)]
pub fn refuse_inputs(output: Option<&Path>, inputs: &[PathBuf]) -> Result<()> {
    let (identity, shown) = match output {
        None => (descriptor_identity(1), "standard output".to_string()),
        Some(path) => {
            let identity = match target_of(path) {
                Ok(Target::Stdout) => descriptor_identity(1),
                Ok(Target::Descriptor(descriptor)) => descriptor_identity(descriptor),
                _ => path_identity(path),
            };
            (identity, format!("-o {}", path.display()))
        }
    };
    let Some(identity) = identity else {
        return Ok(());
    };
    for input in inputs.iter().filter(|input| input.as_os_str() != "-") {
        if path_identity(input) == Some(identity) {
            refuse!(
                "{shown} is the input {} (the same file); contend will not write over what \
                 it reads: write elsewhere",
                input.display()
            );
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn refuse_inputs(_output: Option<&Path>, _inputs: &[PathBuf]) -> Result<()> {
    Ok(())
}

impl Destination {
    /// Stdout, a device, or a temporary file beside the file `path` names.
    pub fn open(path: Option<&Path>) -> Result<Destination> {
        let (sink, name) = Self::sink(path)?;
        Ok(Destination {
            sink,
            name,
            failure: None,
        })
    }

    fn sink(path: Option<&Path>) -> Result<(Sink, String)> {
        let stdout = || Sink::Stdout(BufWriter::with_capacity(WRITE_BUFFER, io::stdout()));
        let Some(path) = path else {
            return Ok((stdout(), "standard output".to_string()));
        };
        let name = path.display().to_string();
        let (target, replace) = match target_of(path)? {
            Target::Stdout => return Ok((stdout(), name)),
            Target::Descriptor(descriptor) => {
                let file = duplicate(descriptor, path)?;
                return Ok((
                    Sink::Device(BufWriter::with_capacity(WRITE_BUFFER, file)),
                    name,
                ));
            }
            Target::Device(device) => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&device)
                    .map_err(|err| in_context(err, format!("cannot write to {name}")))?;
                return Ok((
                    Sink::Device(BufWriter::with_capacity(WRITE_BUFFER, file)),
                    name,
                ));
            }
            Target::File(file, replace) => (file, replace),
        };
        let folder = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".contend-").suffix(".partial");
        // Temporary files are private (0600); the output is an ordinary
        // file, so ask for 0666 and let the umask decide, as `>` would.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        // Watching before the file exists: no signal can find it unwatched.
        partial::watch();
        let temp = builder
            .tempfile_in(folder)
            .map_err(|err| in_context(err, format!("cannot write to {}", folder.display())))?;
        partial::remember(temp.path());
        let out = temp
            .as_file()
            .try_clone()
            .map_err(|err| in_context(err, format!("cannot write to {}", folder.display())))?;
        Ok((
            Sink::File {
                temp,
                out: BufWriter::with_capacity(WRITE_BUFFER, out),
                target,
                replace,
            },
            name,
        ))
    }

    /// The first write error, naming the output (`writing FILE: No space
    /// left on device (os error 28)`), of its kind; None if none came.
    pub fn failure(&self) -> Option<Error> {
        self.failure
            .as_ref()
            .map(|(kind, cause)| Error::output(naming(&self.name, *kind, cause.clone())))
    }

    /// Flushes, and for a file renames it over the target (or copies it
    /// into a target with other hard links).
    pub fn commit(mut self) -> Result<()> {
        let flushed = self.flush();
        flushed.map_err(|err| self.failure().unwrap_or_else(|| err.into()))?;
        let name = self.name.clone();
        let Sink::File {
            temp,
            out,
            target,
            replace,
        } = self.sink
        else {
            return Ok(());
        };
        drop(out);
        let failed = |err: io::Error| naming(&name, err.kind(), err.to_string());
        partial::forget();
        temp.as_file().sync_all().map_err(failed)?;
        match replace {
            Replace::CopyInto => copy_into(&temp, &target).map_err(failed)?,
            Replace::Rename(mode) => {
                #[cfg(unix)]
                if let Some(mode) = mode {
                    use std::os::unix::fs::PermissionsExt;
                    let permissions = std::fs::Permissions::from_mode(mode);
                    temp.as_file()
                        .set_permissions(permissions)
                        .map_err(failed)?;
                }
                temp.persist(&target)
                    .map_err(|err| err.error)
                    .map_err(|err| in_context(err, format!("cannot write {}", target.display())))?;
            }
        }
        Ok(())
    }

    /// Remembers the first error and names the output in it.
    fn note(&mut self, err: io::Error) -> io::Error {
        let cause = err.to_string();
        if self.failure.is_none() {
            self.failure = Some((err.kind(), cause.clone()));
        }
        naming(&self.name, err.kind(), cause)
    }
}

/// An I/O error said with what was being done (`cannot write to DIR:
/// Permission denied`), of its kind still (a closed pipe stays one).
fn in_context(err: io::Error, doing: String) -> Error {
    Error::output(io::Error::new(err.kind(), format!("{doing}: {err}")))
}

/// Copies the complete `temp` into `target`, a file with other hard links,
/// only once its room is known to be there: the target's blocks for the
/// new length are reserved first (fallocate, keeping its size), so a full
/// disk fails before a byte of the target changes; then the new content
/// is written over it from the start and the rest cut off.
fn copy_into(temp: &NamedTempFile, target: &Path) -> io::Result<()> {
    let length = temp.as_file().metadata()?.len();
    let mut file = std::fs::OpenOptions::new().write(true).open(target)?;
    reserve(&file, length)?;
    let mut source = File::open(temp.path())?;
    io::copy(&mut source, &mut file)?;
    file.set_len(length)?;
    file.sync_all()
}

/// Makes sure `length` bytes from the start of `file` have blocks on the
/// disk without changing its size; where the file system cannot reserve
/// (no fallocate), checks that the free space covers the growth.
#[cfg(target_os = "linux")]
fn reserve(file: &File, length: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let Ok(length) = libc::off_t::try_from(length) else {
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    };
    if length == 0 {
        return Ok(());
    }
    // SAFETY: a plain system call on a descriptor the File owns.
    let done = unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, length) };
    if done == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => free_space_covers(file, length as u64),
        _ => Err(err),
    }
}

#[cfg(not(target_os = "linux"))]
fn reserve(file: &File, length: u64) -> io::Result<()> {
    free_space_covers(file, length)
}

/// ENOSPC unless the file system's free space covers growing `file` to
/// `length` bytes.
#[cfg(unix)]
fn free_space_covers(file: &File, length: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let growth = length.saturating_sub(file.metadata()?.len());
    // SAFETY: statvfs fills the zeroed struct it is given.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatvfs(file.as_raw_fd(), &mut stats) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // fsblkcnt_t and c_ulong are u64 here, narrower on other systems.
    #[allow(clippy::useless_conversion)]
    let free = u64::from(stats.f_bavail).saturating_mul(u64::from(stats.f_frsize));
    if free < growth {
        return Err(io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

#[cfg(not(unix))]
fn free_space_covers(_file: &File, _length: u64) -> io::Result<()> {
    Ok(())
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = match &mut self.sink {
            Sink::Stdout(out) => out.write(buf),
            Sink::Device(out) => out.write(buf),
            Sink::File { out, .. } => out.write(buf),
        };
        written.map_err(|err| self.note(err))
    }

    fn flush(&mut self) -> io::Result<()> {
        let flushed = match &mut self.sink {
            Sink::Stdout(out) => out.flush(),
            Sink::Device(out) => out.flush(),
            Sink::File { out, .. } => out.flush(),
        };
        flushed.map_err(|err| self.note(err))
    }
}

/// The temporary file of an output being written, removed when a signal
/// (INT, TERM, HUP, QUIT) ends the run: a process killed that way runs no
/// destructors, and a half-written file of hundreds of megabytes would
/// stay behind.
pub(crate) mod partial {
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, Once};

    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    use signal_hook::iterator::Signals;

    static PARTIAL: Mutex<Option<PathBuf>> = Mutex::new(None);

    /// Removes `path` if a signal comes before [`forget`].
    pub fn remember(path: &Path) {
        if let Ok(mut partial) = PARTIAL.lock() {
            *partial = Some(path.to_path_buf());
        }
    }

    /// From now on INT, TERM, HUP and QUIT remove the file remembered, then
    /// end the run.
    pub fn watch() {
        static WATCH: Once = Once::new();
        WATCH.call_once(|| {
            let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT]) else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    if let Some(path) = PARTIAL.lock().ok().and_then(|mut p| p.take()) {
                        // A dataset's staging folder, or an output file.
                        let _ = std::fs::remove_dir_all(&path);
                        let _ = std::fs::remove_file(path);
                    }
                    // As a shell reports a process a signal ended.
                    std::process::exit(128 + signal);
                }
            });
        });
    }

    /// The output is complete: a signal from now on leaves it be.
    pub fn forget() {
        if let Ok(mut partial) = PARTIAL.lock() {
            *partial = None;
        }
    }
}

/// Writes the whole output to stdout at once and flushes it; an error
/// says `writing standard output: ...` (a closed pipe stays one).
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|err| naming("standard output", err.kind(), err.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "good old data\n").unwrap();

        let mut failed = Destination::open(Some(&target)).unwrap();
        failed.write_all(b"half of a new").unwrap();
        drop(failed);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "good old data\n");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file left"
        );

        let mut done = Destination::open(Some(&target)).unwrap();
        done.write_all(b"new data\n").unwrap();
        done.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new data\n");
    }
}
